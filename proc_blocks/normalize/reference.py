"""numpy reference of the normalize block."""

import numpy as np


def run(inputs, args):
    x = inputs[0]
    if x.dtype == np.float32:
        values = x
    else:
        values = x.astype(np.float64)
    finite = values[~np.isnan(values)]
    if finite.size == 0 or not finite.max() > finite.min():
        return [np.where(np.isnan(values), np.float32(np.nan), np.float32(0)).astype(np.float32)]
    lo, hi = finite.min(), finite.max()
    with np.errstate(all="ignore"):
        if x.dtype == np.float32:
            return [((x - lo) / (hi - lo)).astype(np.float32)]
        return [((values - lo) / (hi - lo)).astype(np.float32)]
