"""numpy reference of the image_normalization block."""

import numpy as np

OFFSETS = {np.dtype(np.uint8): (0, 255), np.dtype(np.int8): (128, 255), np.dtype(np.uint16): (0, 65535),
           np.dtype(np.int16): (32768, 65535)}


def run(inputs, args):
    x = inputs[0]
    if x.dtype in OFFSETS:
        offset, scale = OFFSETS[x.dtype]
        y = (x.astype(np.int32) + offset).astype(np.float32) / np.float32(scale)
    else:
        y = x.astype(np.float32)
    if args.get("mean") is not None:
        mean = np.array(args["mean"], np.float32)
        std = np.array(args["std"], np.float32)
        with np.errstate(all="ignore"):
            y = (y - mean) / std  # broadcasts over the last axis, or one value for all
    return [y.astype(np.float32)]
