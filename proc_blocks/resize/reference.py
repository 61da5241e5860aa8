"""numpy reference of the resize block (all arithmetic in float32, in the C code's order)."""

import numpy as np

f32 = np.float32
LIMITS = {np.dtype(np.uint8): (0, 255), np.dtype(np.int8): (-128, 127), np.dtype(np.uint16): (0, 65535),
          np.dtype(np.int16): (-32768, 32767)}


def run(inputs, args):
    image = inputs[0]
    squeeze = image.ndim == 4
    x = image[0] if squeeze else image
    h_in, w_in, _ = x.shape
    h_out, w_out = args["height"], args["width"]
    sy, sx = f32(h_in) / f32(h_out), f32(w_in) / f32(w_out)
    src = x.astype(np.float32)
    ys, xs = np.arange(h_out, dtype=np.float32), np.arange(w_out, dtype=np.float32)
    if args["method"] == "nearest":
        iy = np.minimum(np.floor((ys + f32(0.5)) * sy).astype(np.int64), h_in - 1)
        ix = np.minimum(np.floor((xs + f32(0.5)) * sx).astype(np.int64), w_in - 1)
        out = src[iy][:, ix]
    else:
        fy = np.clip((ys + f32(0.5)) * sy - f32(0.5), f32(0), f32(h_in - 1)).astype(np.float32)
        fx = np.clip((xs + f32(0.5)) * sx - f32(0.5), f32(0), f32(w_in - 1)).astype(np.float32)
        y0, x0 = fy.astype(np.int64), fx.astype(np.int64)
        y1, x1 = np.minimum(y0 + 1, h_in - 1), np.minimum(x0 + 1, w_in - 1)
        wy = (fy - y0.astype(np.float32))[:, None, None]
        wx = (fx - x0.astype(np.float32))[None, :, None]
        one = f32(1.0)
        with np.errstate(all="ignore"):
            top = src[y0][:, x0] * (one - wx) + src[y0][:, x1] * wx
            bottom = src[y1][:, x0] * (one - wx) + src[y1][:, x1] * wx
            out = top * (one - wy) + bottom * wy
    if x.dtype in LIMITS:
        lo, hi = LIMITS[x.dtype]
        out = np.clip(np.floor(out + f32(0.5)), lo, hi)
    out = out.astype(x.dtype)
    return [out[None] if squeeze else out]
