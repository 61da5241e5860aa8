"""numpy reference of the most_confident_indices block."""

import numpy as np


def rank_order(x):
    """Indices from highest to lowest rank: NaN first, then by value descending, ties by index."""
    flat = x.reshape(-1)
    isnan = np.isnan(flat) if flat.dtype.kind == "f" else np.zeros(flat.shape, bool)
    order = sorted(range(flat.size), key=lambda i: (not isnan[i], 0 if isnan[i] else -flat[i].item(), i))
    return np.array(order, dtype=np.uint32)


def run(inputs, args):
    return [rank_order(inputs[0])[: args["count"]]]
