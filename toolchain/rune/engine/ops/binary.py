"""ADD, SUB and MUL planning with numpy-style broadcasting up to 6-D
(mirrors TFLM's CalculateOpDataAdd / Sub / Mul).

Every kernel's params start with a broadcast block of 18 words: the output shape
padded to 6 dims, then the element strides of input 1 and input 2 over that shape
(0 along broadcast dimensions).
  ADD_Q/SUB_Q int8/int16: in1_off, in2_off, out_off, left_shift, m1, s1, m2, s2, m_out, s_out, act_min, act_max
  ADD_Q/SUB_Q int32     : act_min, act_max
  MUL_Q int8/int16/int32: in1_off, in2_off, out_off, mult, shift, act_min, act_max
  *_F32                 : act_min, act_max (f32 bits)
"""

from __future__ import annotations

import numpy as np

from rune.engine import kernels, quant
from rune.engine.ops import OpPlan, register
from rune.engine.ops.simple import elementwise_slack
from rune.engine.schema import BuiltinOptions
from rune.tflite.opcodes import Op, TypeCode as T


MAX_RANK = 6
INT32_RANGE = (quant.INT32_MIN, quant.INT32_MAX)


def broadcast_block(ctx, s1, s2, out_shape):
    if max(len(s1), len(s2), len(out_shape)) > MAX_RANK:
        ctx.unsupported(f"broadcasting beyond {MAX_RANK} dimensions")
    rank = max(len(s1), len(s2))
    a = (1,) * (rank - len(s1)) + tuple(s1)
    b = (1,) * (rank - len(s2)) + tuple(s2)
    expected = []
    for x, y in zip(a, b):
        if x != y and 1 not in (x, y):
            ctx.invalid(f"shapes {list(s1)} and {list(s2)} do not broadcast")
        expected.append(max(x, y) if 0 not in (x, y) else 0)
    if int(np.prod(expected)) != int(np.prod(out_shape)) or (len(out_shape) and
                                                             tuple(out_shape) != tuple(expected)[-len(out_shape):]):
        ctx.invalid(f"output shape {list(out_shape)} is not the broadcast shape {expected}")
    pad = MAX_RANK - rank
    dims = [1] * pad + expected

    def strides(shape):
        st, acc = [0] * MAX_RANK, 1
        full = [1] * pad + list(shape)
        for i in range(MAX_RANK - 1, -1, -1):
            st[i] = acc if full[i] != 1 or dims[i] == 1 else 0
            acc *= full[i]
        return st

    return dims + strides(a) + strides(b)


def _activation_int32(act):
    return {1: (0, quant.INT32_MAX), 2: (-1, 1), 3: (0, 6)}.get(act, INT32_RANGE)


@register(Op.ADD, Op.SUB, Op.MUL)
def plan_binary(ctx):
    code = ctx.op.code
    ctx.counts(2, 1)
    opt_type = {Op.ADD: BuiltinOptions.AddOptions, Op.SUB: BuiltinOptions.SubOptions,
                Op.MUL: BuiltinOptions.MulOptions}[code]
    opts = ctx.options(opt_type)
    act = ctx.activation(opts.u8(0) if opts else 0)
    a, b, out = ctx.input(0), ctx.input(1), ctx.output(0)
    ctx.check_type(a, (T.FLOAT32, T.INT8, T.INT16, T.INT32), "input 1")
    if b.type_code != a.type_code or out.type_code != a.type_code:
        ctx.invalid("inputs and output must have the same type")
    block = broadcast_block(ctx, a.shape, b.shape, out.shape)
    inplace = {}
    for pos, t in enumerate((a, b)):
        if t.count == out.count and not t.is_constant:
            inplace[pos] = elementwise_slack(out.count, t.element_size, out.element_size)
    operands = [a.index, b.index]
    kname = {Op.ADD: "ADD", Op.SUB: "SUB", Op.MUL: "MUL"}[code]
    if a.type_code == T.FLOAT32:
        lo, hi = quant.activation_range_float(act)
        return OpPlan(getattr(kernels, kname + "_F32"), operands, [out.index],
                      block + [quant.f32_bits(lo), quant.f32_bits(hi)], inplace=inplace)
    kernel = getattr(kernels, kname + "_Q")
    if a.type_code == T.INT32:
        if act and code != Op.MUL:
            # TFLM silently skips the activation here; refuse rather than mimic that.
            ctx.unsupported("fused activation on int32 ADD/SUB (TFLM ignores it)")
        lo, hi = _activation_int32(act)
        extra = [0, 0, 0, 0, 0, lo, hi] if code == Op.MUL else [lo, hi]
        return OpPlan(kernel, operands, [out.index], block + extra, inplace=inplace)
    s1, z1 = ctx.quant(a, "input 1")
    s2, z2 = ctx.quant(b, "input 2")
    so, zo = ctx.quant(out, "output")
    lo, hi = quant.activation_range_quantized(act, out.type_code, so, zo)
    if code == Op.MUL:
        if a.type_code == T.INT16 and (z1 or z2 or zo):
            ctx.unsupported("int16 MUL needs zero points of 0")
        mult, shift = quant.quantize_multiplier(s1 * s2 / so)
        return OpPlan(kernel, operands, [out.index], block + [-z1, -z2, zo, mult, shift, lo, hi], inplace=inplace)
    left_shift = 15 if a.type_code == T.INT16 else 20
    twice_max = 2 * max(s1, s2)
    m1 = _smaller_than_one(ctx, s1 / twice_max)
    m2 = _smaller_than_one(ctx, s2 / twice_max)
    mo = _smaller_than_one(ctx, twice_max / ((1 << left_shift) * so))
    return OpPlan(kernel, operands, [out.index], block + [-z1, -z2, zo, left_shift, *m1, *m2, *mo, lo, hi],
                  inplace=inplace)


def _smaller_than_one(ctx, d):
    """QuantizeMultiplierSmallerThanOneExp: TFLM aborts unless 0 < d < 1."""
    if not 0 < d < 1:
        ctx.unsupported(f"rescaling factor {d} must be in (0, 1) (TFLM aborts otherwise)")
    return quant.quantize_multiplier(d)
