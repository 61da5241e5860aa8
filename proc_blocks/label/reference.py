"""numpy reference of the label block."""

import numpy as np


class LabelError(ValueError):
    pass


def run(inputs, args):
    labels, fallback = args["labels"], args.get("fallback")
    out = np.empty(inputs[0].shape, dtype=object)
    for position, index in np.ndenumerate(inputs[0]):
        index = int(index)
        if 0 <= index < len(labels):
            out[position] = labels[index]
        elif fallback is not None:
            out[position] = fallback
        else:
            raise LabelError("label: an index is outside the label list (set 'fallback' to allow it)")
    return [out]
