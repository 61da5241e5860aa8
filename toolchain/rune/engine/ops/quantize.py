"""QUANTIZE and DEQUANTIZE planning (mirrors TFLM PrepareQuantizeReference / DequantizePrepare).

QUANTIZE_F32 params: count, zero_point, scale (f32 bits)
REQUANTIZE   params: count, input_zero_point, output_zero_point, multiplier, shift, min, max
DEQUANTIZE   params: count, zero_point, scale (double, low word then high word)
             [+ 256 f32 words: the result for every 8-bit input, indexed by its byte]
"""

from __future__ import annotations

import struct

import numpy as np

from rune.engine import kernels, quant
from rune.engine.ops import OpPlan, register
from rune.engine.ops.simple import elementwise_slack
from rune.tflite.opcodes import Op, TypeCode as T


# (input, output) pairs TFLM's QUANTIZE accepts
_REQUANTIZE_PAIRS = {(T.INT8, T.INT8), (T.INT8, T.UINT8), (T.INT8, T.INT16), (T.INT8, T.INT32),
                     (T.UINT8, T.INT8), (T.INT16, T.INT8), (T.INT16, T.INT16), (T.INT16, T.INT32),
                     (T.INT32, T.INT8), (T.INT32, T.INT16)}


@register(Op.QUANTIZE)
def plan_quantize(ctx):
    ctx.counts(1, 1)
    inp, out = ctx.input(0), ctx.output(0)
    if inp.count != out.count:
        ctx.invalid("input and output sizes differ")
    if len(out.quantization.scales) != 1:
        ctx.unsupported("output must be quantized per-tensor")
    out_scale, out_zp = ctx.quant(out, "output")
    slack = elementwise_slack(inp.count, inp.element_size, out.element_size)
    if inp.type_code == T.FLOAT32:
        ctx.check_type(out, (T.INT8, T.INT16), "output")
        return OpPlan(kernels.QUANTIZE_F32, [inp.index], [out.index],
                      [inp.count, out_zp, quant.f32_bits(out_scale)], inplace={0: slack})
    if (inp.type_code, out.type_code) not in _REQUANTIZE_PAIRS:
        ctx.unsupported(f"requantizing {inp.label()} to {out.label()} is not supported")
    in_scale, in_zp = ctx.quant(inp, "input")
    mult, shift = quant.quantize_multiplier(in_scale / out_scale)
    if not -31 <= shift <= 30:
        ctx.unsupported(f"input/output scale ratio {in_scale / out_scale} is out of range")
    lo, hi = quant.QRANGE[out.type_code]
    return OpPlan(kernels.REQUANTIZE, [inp.index], [out.index], [inp.count, in_zp, out_zp, mult, shift, lo, hi],
                  inplace={0: slack})


@register(Op.DEQUANTIZE)
def plan_dequantize(ctx):
    ctx.counts(1, 1)
    inp, out = ctx.input(0), ctx.output(0)
    ctx.check_type(inp, (T.INT8, T.UINT8, T.INT16), "input")
    ctx.check_type(out, (T.FLOAT32,), "output")
    if inp.count != out.count:
        ctx.invalid("input and output sizes differ")
    scale, zp = ctx.quant(inp, "input")
    lo, hi = struct.unpack("<ii", struct.pack("<d", scale))
    params = [inp.count, zp, lo, hi]
    if inp.element_size == 1:
        # static_cast<float>(double scale * (value - zero_point)) for every byte value
        values = np.arange(256, dtype=np.uint8).view(np.int8 if inp.type_code == T.INT8 else np.uint8)
        table = np.array([scale * (int(v) - zp) for v in values], dtype=np.float32)
        params += table.view(np.int32).tolist()
    return OpPlan(kernels.DEQUANTIZE, [inp.index], [out.index], params,
                  inplace={0: elementwise_slack(inp.count, inp.element_size, 4)})
