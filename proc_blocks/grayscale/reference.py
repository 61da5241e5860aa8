"""numpy reference of the grayscale block."""

import numpy as np


def run(inputs, args):
    x = inputs[0]
    if x.dtype == np.uint8:
        y = (299 * x[..., 0].astype(np.uint32) + 587 * x[..., 1].astype(np.uint32)
             + 114 * x[..., 2].astype(np.uint32) + 500) // 1000
        return [y.astype(np.uint8)[..., None]]
    r, g, b = (x[..., i].astype(np.float32) for i in range(3))
    with np.errstate(all="ignore"):
        y = np.float32(0.299) * r + np.float32(0.587) * g  # in this order, in single precision
        y = y + np.float32(0.114) * b
    return [y.astype(np.float32)[..., None]]
