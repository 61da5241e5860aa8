"""SVDF planning (mirrors TFLM PrepareSvdf, integer path)."""

from __future__ import annotations

import numpy as np

from rune.engine import kernels, quant
from rune.engine.ops import OpPlan, register
from rune.engine.schema import BuiltinOptions
from rune.tflite.opcodes import Op, TypeCode as T


@register(Op.SVDF)
def plan_svdf(ctx):
    ctx.counts((4, 5), 1)
    opts = ctx.options(BuiltinOptions.SVDFOptions)
    rank = opts.i32(0) if opts else 0
    act = ctx.activation(opts.u8(1) if opts else 0)
    if opts is not None and opts.bool(2):
        ctx.unsupported("asymmetric_quantize_inputs (hybrid) is not supported")
    inp, wf, wt, out = ctx.input(0), ctx.input(1), ctx.input(2), ctx.output(0)
    bias = ctx.input(3, optional=True)
    state = ctx.input(4)
    if not state.is_variable:
        ctx.invalid(f"activation state {state.label()} must be a variable tensor")
    for t, name in ((inp, "input"), (wf, "weights_feature"), (wt, "weights_time"), (state, "state"), (out, "output")):
        if len(t.shape) != 2:
            ctx.invalid(f"{name} {t.label()} must be 2-D")
    batch, n_input = inp.shape
    filters = wf.shape[0]
    memory = wt.shape[1]
    if rank < 1 or filters % rank:
        ctx.invalid(f"rank {rank} does not divide {filters} filters")
    units = filters // rank
    if wf.shape[1] != n_input or wt.shape[0] != filters:
        ctx.invalid("weights shapes do not match the input and filter count")
    if out.shape != (batch, units) or state.shape != (batch, memory * filters):
        ctx.invalid("output or state shape does not match batch/units/memory")
    if bias is not None and bias.count != units:
        ctx.invalid(f"bias must hold {units} values")
    ctx.constant(wf, "weights_feature")
    ctx.constant(wt, "weights_time")
    ctx.check_type(inp, (T.INT8,), "input")
    ctx.check_type(out, (T.INT8,), "output")
    ctx.check_type(wf, (T.INT8,), "weights_feature")
    ctx.check_type(wt, (T.INT16, T.INT8), "weights_time")
    if state.type_code != wt.type_code:
        ctx.unsupported("state and weights_time must have the same type")
    if bias is not None:
        ctx.check_type(bias, (T.INT32,), "bias")
    in_s, in_zp = ctx.quant(inp, "input")
    wf_s, _ = ctx.quant(wf, "weights_feature")
    wt_s, _ = ctx.quant(wt, "weights_time")
    st_s, st_zp = ctx.quant(state, "state")
    out_s, out_zp = ctx.quant(out, "output")
    f = np.float32
    # TFLM computes both effective scales in float32, then widens to double.
    eff1 = float(f(in_s) * f(wf_s) / f(st_s))
    eff2 = float(f(st_s) * f(wt_s) / f(out_s))
    if bias is not None and bias.quantization:
        if not abs(bias.quantization.scales[0] - float(f(st_s) * f(wt_s))) < 1e-5:
            ctx.invalid("bias scale must equal state scale * weights_time scale")
    m1, s1 = quant.quantize_multiplier(eff1)
    m2, s2 = quant.quantize_multiplier(eff2)
    if not (-31 <= s1 <= 30 and -31 <= s2 <= 30):
        ctx.unsupported("effective scales out of range")
    params = [batch, n_input, filters, memory, rank, in_zp, st_zp, out_zp, m1, s1, m2, s2]
    operands = [inp.index, wf.index, wt.index, bias.index if bias is not None else -1, state.index]
    return OpPlan(kernels.SVDF_I8, operands, [out.index], params,
                  scratch=[batch * filters * 4, batch * units * 4])
