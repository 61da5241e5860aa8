/* gemmlowp-style fixed-point transcendental functions, re-implemented in C with
 * identical rounding. A value "Qm" has m integer bits and 31-m fractional bits. */
#ifndef RUNE_FIXEDPOINT_H
#define RUNE_FIXEDPOINT_H

#include "qmath.h"

/* x * 2^exponent for exponent > 0, saturating to the int32 range. */
static inline int32_t fp_sat_shl(int32_t x, int exponent) {
  const int32_t threshold = (int32_t)(((int64_t)1 << (31 - exponent)) - 1);
  if (x > threshold) return RQ_INT32_MAX;
  if (x < -threshold) return RQ_INT32_MIN;
  return rq_shl(x, exponent);
}

/* Change the number of integer bits from `from` to `to` (Rescale). */
static inline int32_t fp_rescale(int32_t x, int from, int to) {
  const int exponent = from - to;
  if (exponent > 0) return fp_sat_shl(x, exponent);
  if (exponent < 0) return rq_rdivpot(x, -exponent);
  return x;
}

/* (a + b) / 2 rounded half away from zero (RoundingHalfSum). */
static inline int32_t fp_half_sum(int32_t a, int32_t b) {
  const int64_t sum = (int64_t)a + b;
  return (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
}

/* exp(x) for x in [-1/4, 0), Q0 in and out. */
static inline int32_t fp_exp_quarter(int32_t a) {
  const int32_t constant_term = 1895147668;    /* exp(-1/8) */
  const int32_t one_third = 715827883;
  const int32_t x = rq_wadd(a, 1 << 28);      /* a + 1/8 */
  const int32_t x2 = rq_srdhm(x, x);
  const int32_t x3 = rq_srdhm(x2, x);
  const int32_t x4 = rq_srdhm(x2, x2);
  const int32_t x4_over_4 = rq_rdivpot(x4, 2);
  const int32_t poly = rq_rdivpot(rq_wadd(rq_srdhm(rq_wadd(x4_over_4, x3), one_third), x2), 1);
  return rq_wadd(constant_term, rq_srdhm(constant_term, rq_wadd(x, poly)));
}

/* exp(a) for a <= 0, a in Q(integer_bits), result in Q0 (exp_on_negative_values). */
static inline int32_t fp_exp_negative(int32_t a, int integer_bits) {
  static const int32_t multipliers[7] = {1672461947, 1302514674, 790015084, 290630308,
                                         39332535, 720401, 242}; /* exp(-2^k), k = -2..4 */
  const int fractional_bits = 31 - integer_bits;
  const int32_t one_quarter = (int32_t)1 << (fractional_bits - 2);
  const int32_t a_mod_minus_quarter = rq_wsub(a & (one_quarter - 1), one_quarter);
  int32_t result = fp_exp_quarter(fp_rescale(a_mod_minus_quarter, integer_bits, 0));
  const int32_t remainder = rq_wsub(a_mod_minus_quarter, a);
  int k;
  for (k = -2; k <= 4; ++k) {
    if (integer_bits > k && (remainder & ((int32_t)1 << (fractional_bits + k))))
      result = rq_srdhm(result, multipliers[k + 2]);
  }
  if (integer_bits > 5) {
    const int32_t clamp = -((int32_t)1 << (36 - integer_bits)); /* -32 */
    if (a < clamp) result = 0;
  }
  return a == 0 ? RQ_INT32_MAX : result;
}

/* Newton-Raphson 1/(1+x) for x in [0, 1), Q0 in and out. */
static inline int32_t fp_one_over_one_plus_x(int32_t a) {
  const int32_t half_denominator = fp_half_sum(a, RQ_INT32_MAX);
  const int32_t c48_17 = 1515870810, cneg32_17 = -1010580540; /* Q2 */
  int32_t x = rq_wadd(c48_17, rq_srdhm(half_denominator, cneg32_17));
  int i;
  for (i = 0; i < 3; ++i) {
    const int32_t one_minus = rq_wsub((int32_t)1 << 29, rq_srdhm(half_denominator, x));
    x = rq_wadd(x, fp_rescale(rq_srdhm(x, one_minus), 4, 2));
  }
  return fp_rescale(x, 1, 0);
}

/* (1-x)/(1+x) for x in [0, 1), Q0 in and out. */
static inline int32_t fp_one_minus_x_over_one_plus_x(int32_t a) {
  const int32_t half_denominator = fp_half_sum(a, RQ_INT32_MAX);
  const int32_t c48_17 = 1515870810, cneg32_17 = -1010580540;
  int32_t x = rq_wadd(c48_17, rq_srdhm(half_denominator, cneg32_17));
  int i;
  for (i = 0; i < 3; ++i) {
    const int32_t one_minus = rq_wsub((int32_t)1 << 29, rq_srdhm(half_denominator, x));
    x = rq_wadd(x, fp_rescale(rq_srdhm(x, one_minus), 4, 2));
  }
  return fp_rescale(rq_wsub(x, (int32_t)1 << 29), 2, 0);
}

/* 1/x helper of the softmax (GetReciprocal): x > 0 in Q(integer_bits). */
static inline int32_t fp_reciprocal(int32_t x, int integer_bits, int *bits_over_unit) {
  int headroom_plus_one = 0;
  uint32_t ux = (uint32_t)x;
  while (headroom_plus_one < 32 && !(ux & 0x80000000u)) {
    ux <<= 1;
    ++headroom_plus_one;
  }
  *bits_over_unit = integer_bits - headroom_plus_one;
  return fp_one_over_one_plus_x((int32_t)(ux - 0x80000000u));
}

#endif
