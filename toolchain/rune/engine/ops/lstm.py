"""UNIDIRECTIONAL_SEQUENCE_LSTM planning (mirrors TFLM UnidirectionalSequenceLstmPrepare,
integer path: int8 activations and weights, int32 biases, int16 cell state)."""

from __future__ import annotations

import numpy as np

from rune.engine import kernels, quant
from rune.engine.ops import OpPlan, register
from rune.engine.schema import Activation, BuiltinOptions
from rune.tflite.opcodes import Op, TypeCode as T


# TFLite LSTM input slots
INPUT = 0
IN_W = {"input": 1, "forget": 2, "cell": 3, "output": 4}
REC_W = {"input": 5, "forget": 6, "cell": 7, "output": 8}
PEEPHOLE = (9, 10, 11)
BIAS = {"input": 12, "forget": 13, "cell": 14, "output": 15}
PROJECTION = (16, 17)
HIDDEN, CELL = 18, 19
LAYER_NORM = (20, 21, 22, 23)
GATES = ("forget", "input", "cell", "output")   # kernel order

GATE_INPUT_SCALE = 2.0 ** -12   # gate pre-activations are Q3.12
GATE_OUTPUT_SCALE = 2.0 ** -15  # sigmoid/tanh outputs are Q0.15



def _fc_multiplier(in_scale, w_scale):
    """GetQuantizedConvolutionMultipler against a Q3.12 int16 output (float product)."""
    return quant.quantize_multiplier(quant.f32(np.float32(in_scale) * np.float32(w_scale)) / GATE_INPUT_SCALE)


@register(Op.UNIDIRECTIONAL_SEQUENCE_LSTM)
def plan_lstm(ctx):
    ctx.counts(24, 1)
    opts = ctx.options(BuiltinOptions.UnidirectionalSequenceLSTMOptions)
    act = opts.u8(0) if opts else 0
    cell_clip = opts.f32(1) if opts else 0.0
    time_major = opts.bool(3) if opts else False
    if opts is not None and opts.bool(4):
        ctx.unsupported("asymmetric_quantize_inputs (hybrid) is not supported")
    if opts is not None and opts.bool(5):
        ctx.unsupported("diagonal recurrent tensors are not supported")
    if act != Activation.TANH:
        ctx.unsupported(f"cell activation {act} (only TANH is supported, as in TFLM)")
    for slots, what in ((PEEPHOLE, "peephole"), (PROJECTION, "projection"), (LAYER_NORM, "layer norm")):
        if any(ctx.input(i, optional=True) is not None for i in slots):
            ctx.unsupported(f"{what} LSTM variants are not supported")
    if not cell_clip >= 0:
        ctx.invalid(f"cell_clip {cell_clip} must be >= 0")
    inp, out = ctx.input(INPUT), ctx.output(0)
    hidden, cell = ctx.input(HIDDEN), ctx.input(CELL)
    for t, name in ((hidden, "hidden state"), (cell, "cell state")):
        if not t.is_variable:
            ctx.invalid(f"{name} {t.label()} must be a variable tensor")
    if len(inp.shape) != 3 or len(out.shape) != 3 or len(hidden.shape) != 2:
        ctx.invalid("input/output must be 3-D and the hidden state 2-D")
    ctx.check_type(inp, (T.INT8,), "input")
    ctx.check_type(out, (T.INT8,), "output")
    ctx.check_type(hidden, (T.INT8,), "hidden state")
    ctx.check_type(cell, (T.INT16,), "cell state")
    batch, steps = (inp.shape[1], inp.shape[0]) if time_major else (inp.shape[0], inp.shape[1])
    in_dim, state = inp.shape[2], hidden.shape[1]
    weights = {}
    for g in GATES:
        wi, wr, b = ctx.input(IN_W[g]), ctx.input(REC_W[g]), ctx.input(BIAS[g])
        for w, shape in ((wi, (state, in_dim)), (wr, (state, state))):
            ctx.constant(w, f"{g} weights")
            ctx.check_type(w, (T.INT8,), f"{g} weights")
            if w.shape != shape:
                ctx.invalid(f"{g} weights {w.label()} must be {list(shape)}")
            if w.quantization.per_channel:
                ctx.unsupported("per-channel LSTM weights are not supported (TFLM ignores them)")
        ctx.constant(b, f"{g} bias")
        ctx.check_type(b, (T.INT32,), f"{g} bias")
        if b.shape != (state,):
            ctx.invalid(f"{g} bias {b.label()} must be [{state}]")
        weights[g] = (wi, wr, b)
    if hidden.count != batch * state or cell.count != batch * state:
        ctx.invalid("state tensors must hold batch x state values")
    if out.shape[:2] != inp.shape[:2] or out.shape[2] != state:
        ctx.invalid(f"output {out.label()} does not match input and state sizes")

    in_scale, in_zp = ctx.quant(inp, "input")
    h_scale, h_zp = ctx.quant(hidden, "hidden state")
    c_scale, _ = ctx.quant(cell, "cell state")
    params = [batch, steps, in_dim, state, int(time_major)]
    for g in GATES:
        wi, wr, _ = weights[g]
        wi_scale, wi_zp = ctx.quant(wi, f"{g} input weights")
        wr_scale, wr_zp = ctx.quant(wr, f"{g} recurrent weights")
        params += [-in_zp, -wi_zp, *_fc_multiplier(in_scale, wi_scale),
                   -h_zp, -wr_zp, *_fc_multiplier(h_scale, wr_scale)]
    # CreateInterGateMulParams: double products of the float scales
    params += [*quant.quantize_multiplier(GATE_OUTPUT_SCALE * c_scale / c_scale),
               *quant.quantize_multiplier(GATE_OUTPUT_SCALE * GATE_OUTPUT_SCALE / c_scale),
               *quant.quantize_multiplier(GATE_OUTPUT_SCALE * GATE_OUTPUT_SCALE / h_scale),
               h_zp]
    # tanh(cell): TFLM scales the cell state by 2^(15 + log2(cell_scale) - 3)
    power, _ = quant.checked_log2(c_scale)
    left = 15 + power - 3
    tanh_mult, tanh_shift = (3, -left) if left < 0 else (3 << left, 0)
    if tanh_mult > 32767 or tanh_shift > 30:
        ctx.unsupported(f"cell state scale {c_scale} is out of range")
    clip = 0
    if cell_clip > 0:
        clip = int(min(max(float(cell_clip) / c_scale, -32768.0), 32767.0))
    params += [tanh_mult, tanh_shift, clip]
    operands = [inp.index] + [weights[g][0].index for g in GATES] + [weights[g][1].index for g in GATES] \
        + [weights[g][2].index for g in GATES] + [hidden.index, cell.index]
    rows = batch if time_major else 1
    return OpPlan(kernels.LSTM_I8, operands, [out.index], params, scratch=[rows * state * 2] * 4)
