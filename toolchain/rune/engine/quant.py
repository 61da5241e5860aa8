"""Quantization arithmetic replicated bit-for-bit from TFLite (Micro) Prepare code.

Everything that TFLM computes in float32 is computed here in numpy float32; what
it computes in double is computed in Python floats (IEEE double).
"""

from __future__ import annotations

import math

import numpy as np

from rune.engine.schema import Activation
from rune.tflite.model import ModelError
from rune.tflite.opcodes import TypeCode

INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1
FLT_MAX = float(np.finfo(np.float32).max)
# The range of each quantized type
QRANGE = {TypeCode.UINT8: (0, 255), TypeCode.INT8: (-128, 127), TypeCode.INT16: (-32768, 32767),
          TypeCode.INT32: (INT32_MIN, INT32_MAX)}


def f32(x):
    return float(np.float32(x))


def round_half_away(x: float) -> int:
    """std::round / TfLiteRound on a double (or on a float32 value held exactly)."""
    if x >= 0:
        r = math.floor(x)
        return int(r + 1 if x - r >= 0.5 else r)
    return -round_half_away(-x)


class ScaleError(ModelError):
    """An effective scale the fixed-point kernels cannot represent."""


def quantize_multiplier(d: float, allow_negative=False):
    """QuantizeMultiplier (double-rounding build): d ~= q * 2^(shift-31).

    Raises ScaleError where TFLM would compute garbage or hit undefined behaviour
    (non-finite or negative scales, shifts above 30)."""
    if not math.isfinite(d) or (d < 0 and not allow_negative):
        raise ScaleError(f"effective scale {d} is not a finite positive number")
    if d == 0.0:
        return 0, 0
    m, shift = math.frexp(d)
    q = round_half_away(m * (1 << 31))
    if q == (1 << 31):
        q //= 2
        shift += 1
    if shift < -31:
        shift, q = 0, 0
    if shift > 30:
        raise ScaleError(f"effective scale {d} is too large (shift {shift} > 30)")
    return q, shift


def quantize_f32(scale: float, zero_point: int, f: float) -> int:
    """The Quantize() helper of CalculateActivationRangeQuantized (float math)."""
    tmp = round_half_away(f32(np.float32(f) / np.float32(scale)))
    return zero_point + tmp


def activation_range_quantized(act: int, dtype: int, scale: float, zero_point: int):
    qmin, qmax = QRANGE[dtype]
    if act == Activation.RELU:
        return max(qmin, quantize_f32(scale, zero_point, 0.0)), qmax
    if act == Activation.RELU6:
        return (max(qmin, quantize_f32(scale, zero_point, 0.0)),
                min(qmax, quantize_f32(scale, zero_point, 6.0)))
    if act == Activation.RELU_N1_TO_1:
        return (max(qmin, quantize_f32(scale, zero_point, -1.0)),
                min(qmax, quantize_f32(scale, zero_point, 1.0)))
    return qmin, qmax


def activation_range_float(act: int):
    if act == Activation.RELU:
        return 0.0, FLT_MAX
    if act == Activation.RELU6:
        return 0.0, 6.0
    if act == Activation.RELU_N1_TO_1:
        return -1.0, 1.0
    return -FLT_MAX, FLT_MAX


def f32_bits(x: float) -> int:
    """A float32 value as the signed int32 word that holds its bits."""
    return int(np.array([x], dtype="<f4").view("<i4")[0])


# ---- integer helpers mirroring firmware_templates/engine/kernels/qmath.h (to precompute lookup tables) ----

def wrap32(x: int) -> int:
    x &= 0xFFFFFFFF
    return x - (1 << 32) if x & 0x80000000 else x


def srdhm(a: int, b: int) -> int:
    """SaturatingRoundingDoublingHighMul on int32 values."""
    if a == b == INT32_MIN:
        return INT32_MAX
    ab = a * b
    nudge = (1 << 30) if ab >= 0 else 1 - (1 << 30)
    return _tdiv(ab + nudge, 1 << 31)


def _tdiv(a: int, b: int) -> int:
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def rdivpot(x: int, exponent: int) -> int:
    mask = (1 << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> exponent) + (1 if remainder > threshold else 0)


def mul_by_quantized_multiplier(x: int, multiplier: int, shift: int) -> int:
    left = shift if shift > 0 else 0
    right = 0 if shift > 0 else -shift
    return rdivpot(srdhm(wrap32(x << left), multiplier), right)


def checked_log2(x: float):
    """CheckedLog2: (rounded log2(x), whether x is within 1e-3 of a power of two),
    computed in float32 like TFLM."""
    v = f32(np.float32(math.log(x)) * np.float32(1.0 / math.log(2.0)))
    r = round_half_away(v)
    return r, abs(v - r) < 1e-3
