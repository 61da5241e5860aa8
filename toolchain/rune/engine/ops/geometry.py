"""Spatial geometry shared by CONV_2D, DEPTHWISE_CONV_2D and the pooling ops:
output size/padding exactly as TFLite's ComputePaddingHeightWidth, and the
in-place slack of a sliding-window kernel (see arena.py)."""

from __future__ import annotations

import numpy as np

from rune.engine.schema import Padding


def out_size(padding, image, filt, stride, dilation):
    eff = (filt - 1) * dilation + 1
    if stride == 0:
        return 0
    if padding == Padding.SAME:
        return (image + stride - 1) // stride
    return (image + stride - eff) // stride


def pad_amount(stride, dilation, image, filt, out):
    eff = (filt - 1) * dilation + 1
    total = (out - 1) * stride + eff - image
    return max(total, 0) // 2


def window(ctx, padding, in_h, in_w, f_h, f_w, s_h, s_w, d_h, d_w, out_shape):
    """Validates strides/dilations/padding and the output shape; returns (pad_h, pad_w)."""
    if padding not in (Padding.SAME, Padding.VALID):
        ctx.unsupported(f"padding type {padding} is not supported")
    for name, v in (("stride_h", s_h), ("stride_w", s_w), ("dilation_h", d_h), ("dilation_w", d_w)):
        if v < 1:
            ctx.invalid(f"{name} is {v}; must be >= 1")
        if v > 4096:
            ctx.unsupported(f"{name} {v} is unreasonably large")
    o_h = out_size(padding, in_h, f_h, s_h, d_h)
    o_w = out_size(padding, in_w, f_w, s_w, d_w)
    if o_h < 1 or o_w < 1:
        ctx.invalid(f"window {f_h}x{f_w} does not fit the {in_h}x{in_w} input")
    if (out_shape[1], out_shape[2]) != (o_h, o_w):
        ctx.invalid(f"output is {out_shape[1]}x{out_shape[2]}, but the window gives {o_h}x{o_w}")
    return pad_amount(s_h, d_h, in_h, f_h, o_h), pad_amount(s_w, d_w, in_w, f_w, o_w)


def sliding_window_slack(n, in_h, in_w, in_bytes_per_pixel, out_h, out_w, out_bytes_per_pixel,
                         f_h, f_w, s_h, s_w, d_h, d_w, p_h, p_w):
    """Largest s such that an output starting s bytes after the input is safe.

    The kernels compute output pixels in raster order and finish each pixel's reads
    before any later pixel's writes, so writing pixel p is safe if it only clobbers
    input that no pixel >= p still reads: out_start + end(p) <= in_start + minread(>= p).
    Memory is O(out_h * out_w); batches are handled in closed form.
    """
    big = 1 << 62

    def first_inside(origin, size, f, d):
        taps = origin[:, None] + d * np.arange(f)[None, :]
        inside = (taps >= 0) & (taps < size)
        return np.where(inside, taps, big).min(axis=1), inside.any(axis=1)

    y_first, y_any = first_inside(np.arange(out_h, dtype=np.int64) * s_h - p_h, in_h, f_h, d_h)
    x_first, x_any = first_inside(np.arange(out_w, dtype=np.int64) * s_w - p_w, in_w, f_w, d_w)
    reads = np.where(y_any[:, None] & x_any[None, :],
                     (y_first[:, None] * in_w + x_first[None, :]) * in_bytes_per_pixel, big).reshape(-1)
    suffix = np.minimum.accumulate(reads[::-1])[::-1]       # min read of pixels >= p, one image
    pixels = out_h * out_w
    ends = np.arange(1, pixels + 1, dtype=np.int64) * out_bytes_per_pixel
    image_in, image_out = in_h * in_w * in_bytes_per_pixel, pixels * out_bytes_per_pixel
    # Batch b shifts reads by b*image_in and writes by b*image_out; before the last
    # batch the next image's first read also bounds the future reads. Linear in b,
    # so the minimum is at b = 0, b = n-2 (with the next image) or b = n-1.
    best = int((suffix - ends).min()) + (n - 1) * (image_in - image_out)
    if n > 1:
        with_next = np.minimum(suffix, image_in + suffix[0]) - ends
        for b in (0, n - 2):
            best = min(best, int(with_next.min()) + b * (image_in - image_out))
    return min(best, image_in * n)
