"""AVERAGE_POOL_2D / MAX_POOL_2D planning (mirrors TFLM PoolingPrepare).

Params: the 16-word window geometry of conv.py (X = 1, no dilation), act_min, act_max."""

from __future__ import annotations

from rune.engine import kernels, quant
from rune.engine.ops import OpPlan, register
from rune.engine.ops.geometry import sliding_window_slack, window
from rune.engine.schema import BuiltinOptions
from rune.tflite.opcodes import Op, TypeCode as T


@register(Op.AVERAGE_POOL_2D, Op.MAX_POOL_2D)
def plan_pool(ctx):
    ctx.counts(1, 1)
    opts = ctx.options(BuiltinOptions.Pool2DOptions)
    padding = opts.i8(0) if opts else 0
    s_w, s_h = (opts.i32(1), opts.i32(2)) if opts else (0, 0)
    f_w, f_h = (opts.i32(3), opts.i32(4)) if opts else (0, 0)
    act = ctx.activation(opts.u8(5) if opts else 0)
    inp, out = ctx.input(0), ctx.output(0)
    ctx.check_type(inp, (T.FLOAT32, T.INT8, T.INT16), "input")
    if out.type_code != inp.type_code:
        ctx.invalid("output type differs from input type")
    if len(inp.shape) != 4 or len(out.shape) != 4:
        ctx.invalid("input and output must be 4-D NHWC")
    n, i_h, i_w, c = inp.shape
    if out.shape[0] != n or out.shape[3] != c:
        ctx.invalid("output batch/depth differ from the input's")
    if f_h < 1 or f_w < 1:
        ctx.invalid(f"filter size {f_h}x{f_w} must be positive")
    p_h, p_w = window(ctx, padding, i_h, i_w, f_h, f_w, s_h, s_w, 1, 1, out.shape)
    o_h, o_w = out.shape[1:3]
    geometry = [n, i_h, i_w, c, f_h, f_w, o_h, o_w, c, s_h, s_w, 1, 1, p_h, p_w, 1]
    average = ctx.op.code == Op.AVERAGE_POOL_2D
    size = inp.element_size
    slack = sliding_window_slack(n, i_h, i_w, c * size, o_h, o_w, c * size, f_h, f_w, s_h, s_w, 1, 1, p_h, p_w)
    if inp.type_code == T.FLOAT32:
        lo, hi = quant.activation_range_float(act)
        return OpPlan(kernels.AVGPOOL_F32 if average else kernels.MAXPOOL_F32, [inp.index], [out.index],
                      geometry + [quant.f32_bits(lo), quant.f32_bits(hi)], inplace={0: slack})
    in_scale, in_zp = ctx.quant(inp, "input")
    out_scale, out_zp = ctx.quant(out, "output")
    if abs(in_scale - out_scale) > 1.0e-6 or in_zp != out_zp:
        ctx.invalid("input and output quantization must be equal")
    lo, hi = quant.activation_range_quantized(act, out.type_code, out_scale, out_zp)
    return OpPlan(kernels.AVGPOOL_Q if average else kernels.MAXPOOL_Q, [inp.index], [out.index],
                  geometry + [lo, hi], inplace={0: slack})
