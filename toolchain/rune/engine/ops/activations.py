"""RELU, RELU6, LEAKY_RELU, LOGISTIC and TANH planning.

8-bit variants become one 256-entry lookup table (LUT8) computed here with the exact
integer arithmetic of TFLM's kernels, so the device does one load per element. int16
and float32 variants have their own kernels."""

from __future__ import annotations

import math

import numpy as np

from rune.engine import fixedpoint, kernels, quant
from rune.engine.ops import OpPlan, register
from rune.engine.ops.simple import elementwise_slack
from rune.engine.schema import BuiltinOptions
from rune.tflite.opcodes import Op, TypeCode as T


I16_MIN, I16_MAX = -32768, 32767


def _unary(ctx, types):
    ctx.counts(1, 1)
    inp, out = ctx.input(0), ctx.output(0)
    ctx.check_type(inp, types, "input")
    if out.type_code != inp.type_code:
        ctx.invalid("output type differs from input type")
    if inp.count != out.count:
        ctx.invalid("input and output sizes differ")
    return inp, out


def _lut_plan(inp, out, fn):
    """LUT8 over every int8 input value; fn maps an int input value to an int output."""
    values = np.arange(256, dtype=np.uint8).view(np.int8)
    table = np.array([fn(int(v)) for v in values], dtype=np.int8).view(np.uint8)
    words = table.view("<i4").tolist()
    return OpPlan(kernels.LUT8, [inp.index], [out.index], [inp.count] + words,
                  inplace={0: elementwise_slack(inp.count, 1, 1)})


def _requant_clamp(inp, out, in_zp, out_zp, mult, shift, lo, hi):
    return OpPlan(kernels.REQUANTIZE, [inp.index], [out.index], [inp.count, in_zp, out_zp, mult, shift, lo, hi],
                  inplace={0: elementwise_slack(inp.count, inp.element_size, out.element_size)})


def _clamp_f32(inp, out, lo, hi):
    return OpPlan(kernels.CLAMP_F32, [inp.index], [out.index],
                  [inp.count, quant.f32_bits(lo), quant.f32_bits(hi)], inplace={0: 0})


@register(Op.RELU)
def plan_relu(ctx):
    inp, out = _unary(ctx, (T.FLOAT32, T.INT8, T.INT16))
    if inp.type_code == T.FLOAT32:
        return _clamp_f32(inp, out, 0.0, math.inf)
    in_s, in_zp = ctx.quant(inp, "input")
    out_s, out_zp = ctx.quant(out, "output")
    if inp.type_code == T.INT16 and (in_zp or out_zp):
        ctx.unsupported("int16 RELU needs zero points of 0")
    mult, shift = quant.quantize_multiplier(in_s / out_s)
    qmin, qmax = quant.QRANGE[out.type_code]
    lo = max(qmin, out_zp + quant.round_half_away(quant.f32(np.float32(0.0) / np.float32(out_s))))
    if inp.type_code == T.INT8:
        return _lut_plan(inp, out, lambda v: min(qmax, max(lo, out_zp + quant.mul_by_quantized_multiplier(
            v - in_zp, mult, shift))))
    return _requant_clamp(inp, out, in_zp, out_zp, mult, shift, lo, qmax)


@register(Op.RELU6)
def plan_relu6(ctx):
    inp, out = _unary(ctx, (T.FLOAT32, T.INT8, T.INT16))
    if inp.type_code == T.FLOAT32:
        return _clamp_f32(inp, out, 0.0, 6.0)
    # TFLM clamps in the input's quantization and ignores the output's.
    in_s, in_zp = ctx.quant(inp, "input")
    qmin, qmax = quant.QRANGE[inp.type_code]
    six = in_zp + quant.round_half_away(quant.f32(np.float32(6.0) / np.float32(in_s)))
    six = min(qmax, max(qmin, six))
    if inp.type_code == T.INT8:
        return _lut_plan(inp, out, lambda v: six if v > six else (in_zp if v < in_zp else v))
    identity = quant.quantize_multiplier(1.0)   # exact: the kernel only clamps
    return _requant_clamp(inp, out, 0, 0, *identity, in_zp, six)


@register(Op.LEAKY_RELU)
def plan_leaky_relu(ctx):
    opts = ctx.options(BuiltinOptions.LeakyReluOptions)
    alpha = opts.f32(0) if opts else 0.0
    inp, out = _unary(ctx, (T.FLOAT32, T.INT8, T.INT16))
    if inp.type_code == T.FLOAT32:
        return OpPlan(kernels.LEAKY_RELU_F32, [inp.index], [out.index], [inp.count, quant.f32_bits(alpha)],
                      inplace={0: 0})
    in_s, in_zp = ctx.quant(inp, "input")
    out_s, out_zp = ctx.quant(out, "output")
    # both multipliers are formed in double (the TFLM build we match; older
    # versions divided in float32, which differs in the last bit now and then)
    alpha_m = quant.quantize_multiplier(in_s * alpha / out_s, allow_negative=True)
    ident_m = quant.quantize_multiplier(in_s / out_s)
    qmin, qmax = quant.QRANGE[inp.type_code]

    def leaky(v):
        x = v - in_zp
        m = ident_m if x >= 0 else alpha_m
        return min(qmax, max(qmin, out_zp + quant.mul_by_quantized_multiplier(x, *m)))

    if inp.type_code == T.INT8:
        return _lut_plan(inp, out, leaky)
    return OpPlan(kernels.LEAKY_RELU_I16, [inp.index], [out.index],
                  [inp.count, in_zp, out_zp, *ident_m, *alpha_m],
                  inplace={0: elementwise_slack(inp.count, 2, 2)})


def _int8_sigmoid_like(ctx, inp, out, fn, out_bits, out_zp_required, out_offset):
    """TFLM's int8 LOGISTIC/TANH: rescale to Q4.27, gemmlowp function, back to 8 bits."""
    in_s, in_zp = ctx.quant(inp, "input")
    _, out_zp = ctx.quant(out, "output")
    if out_zp_required is not None and out_zp != out_zp_required:
        ctx.unsupported(f"output zero point must be {out_zp_required}")
    m, left_shift = math.frexp(in_s * (1 << 27))
    mult = quant.wrap32(quant.round_half_away(m * (1 << 31)))
    if not 0 <= left_shift <= 30:
        ctx.unsupported(f"input scale {in_s} is out of range")
    radius = math.floor(1.0 * 15 * (1 << 27) / (1 << left_shift))

    def f(v):
        x = v - in_zp
        if x <= -radius:
            return -128
        if x >= radius:
            return 127
        q4 = quant.mul_by_quantized_multiplier(x, mult, left_shift)
        r = quant.rdivpot(fn(q4, 4), 31 - out_bits) + out_offset
        return min(127, max(-128, r))

    return _lut_plan(inp, out, f)


def _int16_scaling(ctx, inp, out, tanh):
    """Prepare of TFLM's int16 LOGISTIC/TANH: the table input multiplier and shift."""
    in_s, in_zp = ctx.quant(inp, "input")
    out_s, out_zp = ctx.quant(out, "output")
    if in_zp or out_zp:
        ctx.unsupported("int16 input and output zero points must be 0")
    log2_in, pot = quant.checked_log2(in_s)
    shift = 12 + log2_in
    pot = pot and (shift in (0, 1) if tanh else shift == 0)
    if pot:
        mult = 0
    else:
        m, shift = in_s * 4096.0 * 3.0, 0
        while m <= 32767.0 / 2.0 and shift <= 30:
            shift += 1
            m *= 2.0
        mult = int(m)
    log2_out, out_pot = quant.checked_log2(out_s)
    if not out_pot or log2_out != -15:
        ctx.unsupported("int16 output scale must be 2^-15")
    if mult == 0:              # the kernel's power-of-two path
        mult, shift = 3 << shift, 0
    if not (0 < mult <= 32767 and 0 <= shift <= 30):
        ctx.unsupported(f"input scale {in_s} is out of range")
    return mult, shift



@register(Op.LOGISTIC)
def plan_logistic(ctx):
    inp, out = _unary(ctx, (T.FLOAT32, T.INT8, T.INT16))
    if inp.type_code == T.FLOAT32:
        return OpPlan(kernels.LOGISTIC_F32, [inp.index], [out.index], [inp.count], inplace={0: 0})
    if inp.type_code == T.INT8:
        return _int8_sigmoid_like(ctx, inp, out, fixedpoint.logistic, 8, -128, -128)
    mult, shift = _int16_scaling(ctx, inp, out, tanh=False)
    return OpPlan(kernels.LOGISTIC_I16, [inp.index], [out.index], [inp.count, mult, shift], inplace={0: 0})


@register(Op.TANH)
def plan_tanh(ctx):
    inp, out = _unary(ctx, (T.FLOAT32, T.INT8, T.INT16))
    if inp.type_code == T.FLOAT32:
        return OpPlan(kernels.TANH_F32, [inp.index], [out.index], [inp.count], inplace={0: 0})
    if inp.type_code == T.INT8:
        return _int8_sigmoid_like(ctx, inp, out, fixedpoint.tanh, 7, None, 0)
    mult, shift = _int16_scaling(ctx, inp, out, tanh=True)
    return OpPlan(kernels.TANH_I16, [inp.index], [out.index], [inp.count, mult, shift], inplace={0: 0})
