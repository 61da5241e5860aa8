"""Planning for RESHAPE and SOFTMAX."""

from __future__ import annotations

import math

from rune.engine import kernels, quant
from rune.engine.ops import OpPlan, register
from rune.engine.schema import BuiltinOptions
from rune.tflite.opcodes import Op, TypeCode as T


def elementwise_slack(n, in_size, out_size):
    """In-place slack of a kernel that reads element i and then writes element i, in
    order (see arena.py): writing element u must not clobber elements > u."""
    if n <= 1:
        return n * in_size
    return min(in_size - out_size, (n - 1) * (in_size - out_size))


@register(Op.RESHAPE)
def plan_reshape(ctx):
    ctx.counts((1, 2), 1)
    inp, out = ctx.input(0), ctx.output(0)
    if inp.type_code != out.type_code:
        ctx.invalid("input and output types differ")
    if inp.count != out.count:
        ctx.invalid(f"{inp.label()} and {out.label()} hold different numbers of elements")
    # Same bytes, new shape: the output shares the input's buffer and no kernel runs.
    return OpPlan(0, [inp.index], [out.index], alias=True)


@register(Op.SOFTMAX)
def plan_softmax(ctx):
    ctx.counts(1, 1)
    opts = ctx.options(BuiltinOptions.SoftmaxOptions)
    beta = opts.f32(0) if opts else 0.0
    inp, out = ctx.input(0), ctx.output(0)
    ctx.same_shape(inp, out)
    if not inp.shape:
        ctx.invalid("input must have at least one dimension")
    depth = inp.shape[-1]
    outer = inp.count // depth
    if inp.type_code == T.FLOAT32:
        ctx.check_type(out, (T.FLOAT32,), "output")
        slack = elementwise_slack(inp.count, 4, 4)
        return OpPlan(kernels.SOFTMAX_F32, [inp.index], [out.index], [outer, depth, quant.f32_bits(beta)],
                      inplace={0: slack})
    ctx.check_type(inp, (T.INT8,), "input")
    ctx.check_type(out, (T.INT8, T.INT16), "output")
    in_scale, _ = ctx.quant(inp, "input")
    out_scale, out_zp = ctx.quant(out, "output")
    if out.type_code == T.INT8:
        if out_zp != -128 or out_scale != 1.0 / 256:
            ctx.unsupported("int8 output must have zero point -128 and scale 1/256")
    else:
        if out_zp != -32768 or abs(out_scale - 1.0 / 65536) > quant.f32(0.001 / 65536):
            ctx.unsupported("int16 output must have zero point -32768 and scale 1/65536")
    # PreprocessSoftmaxScaling with 5 integer bits, in double.
    real = min(beta * in_scale * (1 << 26), (1 << 31) - 1.0)
    if not real > 1.0:
        ctx.unsupported(f"beta*input_scale*2^26 = {real} must exceed 1 (TFLM aborts otherwise)")
    mult, shift = quant.quantize_multiplier(real)
    radius = math.floor(1.0 * ((1 << 5) - 1) * (1 << 26) / (1 << shift))
    params = [outer, depth, mult, shift, -radius]
    slack = elementwise_slack(inp.count, 1, out.element_size)
    return OpPlan(kernels.SOFTMAX_Q, [inp.index], [out.index], params, inplace={0: slack})
