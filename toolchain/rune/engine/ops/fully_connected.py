"""FULLY_CONNECTED planning (mirrors TFLM FullyConnectedPrepare / CalculateOpDataFullyConnected)."""

from __future__ import annotations

import numpy as np

from rune.engine import kernels, quant
from rune.engine.ops import OpPlan, register
from rune.engine.schema import BuiltinOptions
from rune.tflite.opcodes import Op, TypeCode as T


@register(Op.FULLY_CONNECTED)
def plan_fully_connected(ctx):
    ctx.counts((2, 3), 1)
    opts = ctx.options(BuiltinOptions.FullyConnectedOptions)
    act = opts.u8(0) if opts else 0
    weights_format = opts.i8(1) if opts else 0
    asymmetric = opts.bool(3) if opts else False
    if weights_format != 0:
        ctx.unsupported(f"weights_format {weights_format} (shuffled weights) is not supported")
    ctx.activation(act)
    inp, filt, out = ctx.input(0), ctx.input(1), ctx.output(0)
    bias = ctx.input(2, optional=True)
    ctx.check_type(inp, (T.FLOAT32, T.INT8), "input")
    if out.type_code != inp.type_code:
        ctx.invalid(f"output type {out.type_code} differs from input type {inp.type_code}")
    if len(filt.shape) < 2:
        ctx.invalid(f"filter {filt.label()} must have rank >= 2")
    if not out.shape or out.shape[-1] == 0:
        ctx.invalid("output must have a non-empty last dimension")
    ctx.constant(filt, "filter")
    out_depth, accum = out.shape[-1], filt.shape[-1]
    if filt.shape[-2] != out_depth or filt.count != out_depth * accum:
        ctx.invalid(f"filter {filt.label()} does not match output depth {out_depth}")
    batches = out.count // out_depth
    if inp.count != batches * accum:
        ctx.invalid(f"input {inp.label()} does not hold {batches} x {accum} values")
    operands = [inp.index, filt.index, bias.index if bias is not None else -1]

    if inp.type_code == T.FLOAT32:
        ctx.check_type(filt, (T.FLOAT32,), "filter")
        if bias is not None:
            ctx.check_type(bias, (T.FLOAT32,), "bias")
            if bias.count != out_depth:
                ctx.invalid(f"bias {bias.label()} must hold {out_depth} values")
        lo, hi = quant.activation_range_float(act)
        params = [batches, accum, out_depth, quant.f32_bits(lo), quant.f32_bits(hi)]
        return _plan(kernels.FC_F32, operands, out, params)

    if asymmetric:
        ctx.unsupported("asymmetric_quantize_inputs (hybrid) is not supported")
    ctx.check_type(filt, (T.INT8,), "filter")
    if bias is not None:
        ctx.check_type(bias, (T.INT32,), "bias")
        if bias.count != out_depth:
            ctx.invalid(f"bias {bias.label()} must hold {out_depth} values")
    in_scale, in_zp = ctx.quant(inp, "input")
    out_scale, out_zp = ctx.quant(out, "output")
    f_scales = ctx.channel_scales(filt, out_depth, 0)
    f_zp = filt.zero_point
    if len(f_scales) > 1:
        # per-channel: effective scale computed in double throughout
        mults = [quant.quantize_multiplier(in_scale * s / out_scale) for s in f_scales]
    else:
        # per-tensor: GetQuantizedConvolutionMultipler multiplies the scales in float32
        if bias is not None:
            _check_bias_scale(ctx, in_scale * f_scales[0], bias, out_scale)
        product = quant.f32(np.float32(in_scale) * np.float32(f_scales[0]))
        mults = [quant.quantize_multiplier(product / out_scale)]
    act_min, act_max = quant.activation_range_quantized(act, out.type_code, out_scale, out_zp)
    for z, t in ((in_zp, inp), (out_zp, out)):
        if not -128 <= z <= 127:
            ctx.invalid(f"zero point {z} of {t.label()} is outside int8")
    if not -128 <= f_zp <= 127:
        ctx.invalid(f"filter zero point {f_zp} is outside int8")
    params = [batches, accum, out_depth, -in_zp, -f_zp, out_zp, act_min, act_max, len(mults)]
    params += [m for m, _ in mults] + [s for _, s in mults]
    return _plan(kernels.FC_I8, operands, out, params)


def _check_bias_scale(ctx, product_scale, bias, out_scale):
    """TFLM rejects models whose bias scale strays from input*filter scale."""
    if not bias.quantization:
        return
    diff = abs(product_scale - bias.quantization.scales[0])
    if diff / out_scale > 0.02:
        ctx.invalid(f"bias scale {bias.quantization.scales[0]} differs from input*filter scale "
                    f"{product_scale} (TFLM requires |diff|/output_scale <= 0.02)")


def _plan(kernel, operands, out, params):
    return OpPlan(kernel, operands, [out.index], params)
