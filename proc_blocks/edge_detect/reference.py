"""numpy reference of the edge_detect block (float32, in the C code's order)."""

import numpy as np

f32 = np.float32


def run(inputs, args):
    image = inputs[0]
    x = image.reshape(image.shape[-3], image.shape[-2]).astype(np.float32)
    p = np.pad(x, 1, mode="edge")
    a, b, c = p[:-2, :-2], p[:-2, 1:-1], p[:-2, 2:]
    d, f = p[1:-1, :-2], p[1:-1, 2:]
    g, k, l = p[2:, :-2], p[2:, 1:-1], p[2:, 2:]
    two = f32(2.0)
    with np.errstate(all="ignore"):
        gx = (c + two * f + l) - (a + two * d + g)
        gy = (g + two * k + l) - (a + two * b + c)
        magnitude = np.sqrt(gx * gx + gy * gy).astype(np.float32)
    if image.dtype == np.uint8:
        magnitude = np.minimum(np.floor(magnitude + f32(0.5)), f32(255.0)).astype(np.uint8)
    return [magnitude.reshape(image.shape)]
