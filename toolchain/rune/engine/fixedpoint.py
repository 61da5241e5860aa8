"""Python mirror of firmware_templates/engine/kernels/fixedpoint.h (gemmlowp-style fixed point),
used by the planner to precompute exact 256-entry lookup tables for 8-bit LOGISTIC/TANH.
All values are int32 raw fixed-point numbers held in Python ints."""

from __future__ import annotations

from rune.engine.quant import INT32_MAX, INT32_MIN, rdivpot, srdhm, wrap32


def sat_shl(x, exponent):
    threshold = (1 << (31 - exponent)) - 1
    if x > threshold:
        return INT32_MAX
    if x < -threshold:
        return INT32_MIN
    return wrap32(x << exponent)


def rescale(x, src_bits, dst_bits):
    e = src_bits - dst_bits
    if e > 0:
        return sat_shl(x, e)
    if e < 0:
        return rdivpot(x, -e)
    return x



def _exp_quarter(a):
    constant_term, one_third = 1895147668, 715827883
    x = wrap32(a + (1 << 28))
    x2 = srdhm(x, x)
    x3 = srdhm(x2, x)
    x4 = srdhm(x2, x2)
    x4_over_4 = rdivpot(x4, 2)
    poly = rdivpot(wrap32(srdhm(wrap32(x4_over_4 + x3), one_third) + x2), 1)
    return wrap32(constant_term + srdhm(constant_term, wrap32(x + poly)))


_EXP_MULTIPLIERS = [1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242]


def exp_negative(a, integer_bits):
    """exp(a) for a <= 0 in Q(integer_bits); Q0 result."""
    frac = 31 - integer_bits
    quarter = 1 << (frac - 2)
    a_mod = wrap32((a & (quarter - 1)) - quarter)
    result = _exp_quarter(rescale(a_mod, integer_bits, 0))
    remainder = wrap32(a_mod - a)
    for k in range(-2, 5):
        if integer_bits > k and remainder & (1 << (frac + k)):
            result = srdhm(result, _EXP_MULTIPLIERS[k + 2])
    if integer_bits > 5 and a < -(1 << (36 - integer_bits)):
        result = 0
    return INT32_MAX if a == 0 else result


def _newton_reciprocal(a):
    half_den = _half_sum(a, INT32_MAX)
    x = wrap32(1515870810 + srdhm(half_den, -1010580540))
    for _ in range(3):
        one_minus = wrap32((1 << 29) - srdhm(half_den, x))
        x = wrap32(x + rescale(srdhm(x, one_minus), 4, 2))
    return x


def _half_sum(a, b):
    """RoundingHalfSum: (a + b) / 2 rounded half away from zero (C division truncates)."""
    s = a + b + (1 if a + b >= 0 else -1)
    return abs(s) // 2 if s >= 0 else -(abs(s) // 2)


def one_over_one_plus_x(a):
    return rescale(_newton_reciprocal(a), 1, 0)


def one_minus_x_over_one_plus_x(a):
    return rescale(wrap32(_newton_reciprocal(a) - (1 << 29)), 2, 0)


def logistic(a, integer_bits):
    """gemmlowp::logistic on Q(integer_bits) input; Q0 output."""
    if a == 0:
        return 1 << 30
    positive = a > 0
    abs_a = a if positive else wrap32(-a)
    r = one_over_one_plus_x(exp_negative(wrap32(-abs_a), integer_bits))
    return r if positive else wrap32(INT32_MAX - r)


def tanh(a, integer_bits):
    """gemmlowp::tanh on Q(integer_bits) input; Q0 output."""
    if a == 0:
        return 0
    negative = a < 0
    n = a if negative else wrap32(-a)
    t = one_minus_x_over_one_plus_x(exp_negative(n, integer_bits + 1))
    return wrap32(-t) if negative else t
