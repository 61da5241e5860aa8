/* Fixed-point helpers with the exact rounding behaviour of TFLite's reference
 * kernels (gemmlowp-style double rounding). Written to be free of undefined
 * behaviour for any input: products are formed in 64 bits and left shifts are
 * done on unsigned values, which wraps exactly like the reference does in practice.
 * Assumes arithmetic right shift of negative values (gcc/clang on all targets). */
#ifndef RUNE_QMATH_H
#define RUNE_QMATH_H

#include <stdint.h>

#define RQ_INT32_MIN (-2147483647 - 1)
#define RQ_INT32_MAX 2147483647

static inline int32_t rq_min(int32_t a, int32_t b) { return a < b ? a : b; }
static inline int32_t rq_max(int32_t a, int32_t b) { return a > b ? a : b; }
static inline int32_t rq_clamp(int32_t v, int32_t lo, int32_t hi) { return v < lo ? lo : (v > hi ? hi : v); }

/* Wrapping int32 arithmetic (the reference kernels' accumulators never overflow
 * on valid models; on corrupt plans we must still avoid undefined behaviour). */
static inline int32_t rq_wadd(int32_t a, int32_t b) { return (int32_t)((uint32_t)a + (uint32_t)b); }
static inline int32_t rq_wsub(int32_t a, int32_t b) { return (int32_t)((uint32_t)a - (uint32_t)b); }
static inline int32_t rq_wmul(int32_t a, int32_t b) { return (int32_t)((uint32_t)a * (uint32_t)b); }
static inline int32_t rq_shl(int32_t a, int shift) { return (int32_t)((uint32_t)a << shift); }

/* round(a * b / 2^31), saturating the single overflow case (VQRDMULH). The reference adds a
   nudge of 2^30 (1 - 2^30 for a negative product) and divides by 2^31 truncating towards zero;
   for either sign that equals adding 2^30 and shifting right arithmetically, which a Cortex-M4
   does in a multiply-accumulate and a shift. */
static inline int32_t rq_srdhm_unsaturated(int32_t a, int32_t b) {
  return (int32_t)(((int64_t)a * (int64_t)b + ((int64_t)1 << 30)) >> 31);
}

static inline int32_t rq_srdhm(int32_t a, int32_t b) {
  if (a == b && a == RQ_INT32_MIN) return RQ_INT32_MAX;
  return rq_srdhm_unsaturated(a, b);
}

/* x / 2^exponent rounded to nearest, ties away from zero; exponent in [0, 31]. */
static inline int32_t rq_rdivpot(int32_t x, int exponent) {
  const int32_t mask = (int32_t)(((uint32_t)1 << exponent) - 1u);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* MultiplyByQuantizedMultiplier: x * multiplier * 2^shift, shift in [-31, 30]. */
static inline int32_t rq_mul(int32_t x, int32_t multiplier, int shift) {
  const int left = shift > 0 ? shift : 0;
  const int right = shift > 0 ? 0 : -shift;
  return rq_rdivpot(rq_srdhm(rq_shl(x, left), multiplier), right);
}

/* The 64-bit accumulator variant (int16 activations): multiplier reduced to Q15. */
static inline int32_t rq_mul64(int64_t x, int32_t multiplier, int shift) {
  const int32_t reduced = multiplier < 0x7FFF0000 ? (multiplier + (1 << 15)) >> 16 : 0x7FFF;
  const int total_shift = 15 - shift;
  const uint64_t prod = (uint64_t)x * (uint64_t)(int64_t)reduced + ((uint64_t)1 << (total_shift - 1));
  return (int32_t)((int64_t)prod >> total_shift);
}

/* The end of an int8 accumulation: bias, requantise, output offset, clamp. For multipliers that
   rune_check_multipliers accepted (non-negative: the saturating case of rq_srdhm cannot occur). */
static inline int8_t rq_output_i8(int32_t acc, int32_t bias, int32_t multiplier, int32_t shift, int32_t out_off,
                                  int32_t act_min, int32_t act_max) {
  const int left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
  const int32_t scaled = rq_rdivpot(rq_srdhm_unsaturated(rq_shl(rq_wadd(acc, bias), left), multiplier), right);
  return (int8_t)rq_clamp(rq_wadd(scaled, out_off), act_min, act_max);
}

/* The per-output-channel requantisation of an int8 kernel (CONV_2D, DEPTHWISE_CONV_2D), held in
   locals: int8 stores may alias anything, so values read through the plan would be read again
   after every store. */
typedef struct {
  const int32_t *mult, *shift, *bias; /* bias may be NULL */
  int32_t out_off, act_min, act_max;
} rq_channels;

static inline rq_channels rq_channels_of(const int32_t *mult, int32_t channels, const int32_t *bias, int32_t out_off,
                                         int32_t act_min, int32_t act_max) {
  rq_channels q;
  q.mult = mult, q.shift = mult + channels, q.bias = bias;
  q.out_off = out_off, q.act_min = act_min, q.act_max = act_max;
  return q;
}

/* Channel `oc`'s output for an accumulation `acc` plus `bias` (its bias, or one that includes it). */
static inline int8_t rq_channel_output_biased(const rq_channels *q, int32_t oc, int32_t acc, int32_t bias) {
  return rq_output_i8(acc, bias, q->mult[oc], q->shift[oc], q->out_off, q->act_min, q->act_max);
}

static inline int8_t rq_channel_output(const rq_channels *q, int32_t oc, int32_t acc) {
  return rq_channel_output_biased(q, oc, acc, q->bias ? q->bias[oc] : 0);
}

static inline int32_t rq_sat_add(int32_t a, int32_t b) {
  int64_t s = (int64_t)a + b;
  return s > RQ_INT32_MAX ? RQ_INT32_MAX : (s < RQ_INT32_MIN ? RQ_INT32_MIN : (int32_t)s);
}

static inline int32_t rq_sat_sub(int32_t a, int32_t b) {
  int64_t s = (int64_t)a - b;
  return s > RQ_INT32_MAX ? RQ_INT32_MAX : (s < RQ_INT32_MIN ? RQ_INT32_MIN : (int32_t)s);
}

#endif
