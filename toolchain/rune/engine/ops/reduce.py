"""MEAN planning (mirrors TFLM's EvalMeanHelper, which picks one of three integer
algorithms depending on the axes and the quantization).

Params: in_dims[6] (leading 1s), reduce mask over those 6 dims, elements per output,
output count, then
  MEAN_F32: nothing more
  MEAN_Q  : in_zp, out_zp, mult, shift: the zero-point-corrected sum is requantized
            with 1/count folded into the multiplier. This is what the TFLM build we
            match does for every int8/int16 MEAN up to 4-D (CMSIS-NN's arm_mean
            scheme), not the three-way choice of TFLM's portable reference.
"""

from __future__ import annotations

import numpy as np

from rune.engine import kernels, quant
from rune.engine.ops import OpPlan, register
from rune.engine.schema import BuiltinOptions
from rune.tflite.opcodes import Op, TypeCode as T


RANK = 6


@register(Op.MEAN)
def plan_mean(ctx):
    ctx.counts(2, 1)
    opts = ctx.options(BuiltinOptions.ReducerOptions)
    keep_dims = opts.bool(0) if opts else False
    inp, axis_t, out = ctx.input(0), ctx.input(1), ctx.output(0)
    ctx.check_type(inp, (T.FLOAT32, T.INT8, T.INT16), "input")
    if out.type_code != inp.type_code:
        ctx.invalid("output type differs from input type")
    ctx.check_type(axis_t, (T.INT32,), "axis")
    raw_axes = ctx.constant(axis_t, "axis").reshape(-1).astype(np.int64).tolist()
    rank = len(inp.shape)
    if rank > RANK or rank == 0:
        ctx.unsupported(f"rank {rank} (1 to {RANK} supported)")
    resolved = []
    for a in raw_axes:
        r = a + rank if a < 0 else a
        if not 0 <= r < rank:
            ctx.invalid(f"axis {a} outside rank {rank}")
        if r not in resolved:
            resolved.append(r)
    kept = [d for i, d in enumerate(inp.shape) if i not in resolved]
    count = int(np.prod([inp.shape[a] for a in resolved], dtype=np.int64))
    if int(np.prod(kept, dtype=np.int64)) != out.count:
        ctx.invalid(f"output {out.label()} does not hold the reduced shape {kept}")
    pad = RANK - rank
    dims = [1] * pad + list(inp.shape)
    mask = sum(1 << (a + pad) for a in resolved)
    params = dims + [mask, count, out.count]
    if inp.type_code == T.FLOAT32:
        return OpPlan(kernels.MEAN_F32, [inp.index], [out.index], params)
    if rank > 4:
        # The TFLM build we match takes an integer path above 4-D whose rounding we
        # could not pin down against the oracle; refuse rather than guess.
        ctx.unsupported(f"quantized MEAN of rank {rank} (at most 4)")
    in_s, in_zp = ctx.quant(inp, "input")
    out_s, out_zp = ctx.quant(out, "output")
    # Observed TFLM behaviour (CMSIS-NN style arm_mean): 1/count is folded into the
    # requantization multiplier, for every axis combination up to 4-D.
    mult, shift = quant.quantize_multiplier(in_s / out_s)
    fold = min(count.bit_length() - 1, 32, 31 + shift)
    mult, shift = (mult << fold) // count, shift - fold
    params += [in_zp, out_zp, mult, shift]
    return OpPlan(kernels.MEAN_Q, [inp.index], [out.index], params, scratch=[4 * out.count])
