/* Pairs of int16 lanes in a uint32: the Cortex-M4 DSP extension's SIMD (SXTAB16, SMLAD, SMLAxy)
 * for the int8 kernels' inner loops, and portable C versions of exactly the same operations, so
 * that every build runs the same kernel code and the native tests (against TFLM, under
 * sanitizers) check what a device runs.
 *
 * The int8 kernels add the zero-point offsets before multiplying, as TFLM's reference kernels
 * do: an int8 plus an offset in [-255, 255] fits an int16 lane, products fit 32 bits, and
 * sums wrap modulo 2^32 like the reference's int32 accumulators, in whatever order they are
 * formed. So these kernels are bit-exact with the reference by construction.
 *
 * Lane order: rs_expand splits four int8 (bytes 0..3 of a little-endian word) into
 * lo = (b0, b2) and hi = (b1, b3); two operands expanded the same way pair up element by
 * element, which is all a dot product needs. */
#ifndef RUNE_SIMD_H
#define RUNE_SIMD_H

#include <stdint.h>
#include <string.h>

static inline uint32_t rs_load4(const int8_t *p) {
  uint32_t word;
  memcpy(&word, p, sizeof word); /* one LDR on a Cortex-M4, which allows unaligned words */
  return word;
}

/* An offset in both lanes. */
static inline uint32_t rs_pair(int32_t offset) { return ((uint32_t)offset & 0xFFFFu) * 0x00010001u; }

#if defined(__ARM_FEATURE_SIMD32) && defined(__ARM_FEATURE_DSP)
#include <arm_acle.h>
#define RUNE_SIMD_NATIVE 1

static inline uint32_t rs_sxtab16(uint32_t pair, uint32_t bytes) { return __sxtab16(pair, bytes); }
/* bytes 1 and 3: the rotation is part of the instruction (the intrinsic would spend one on it) */
static inline uint32_t rs_sxtab16_odd(uint32_t pair, uint32_t bytes) {
  uint32_t result;
  __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(result) : "r"(pair), "r"(bytes));
  return result;
}
static inline int32_t rs_smlad(uint32_t a, uint32_t b, int32_t acc) { return __smlad(a, b, acc); }
static inline int32_t rs_smlabb(uint32_t a, uint32_t b, int32_t acc) { return __smlabb(a, b, acc); }
static inline int32_t rs_smlatt(uint32_t a, uint32_t b, int32_t acc) { return __smlatt(a, b, acc); }

#else

static inline int32_t rs_lane(uint32_t pair, int top) { return (int16_t)(uint16_t)(top ? pair >> 16 : pair); }
static inline uint32_t rs_sxtab16(uint32_t pair, uint32_t bytes) {
  const uint32_t lo = (uint32_t)(rs_lane(pair, 0) + (int8_t)(uint8_t)bytes) & 0xFFFFu;
  const uint32_t hi = (uint32_t)(rs_lane(pair, 1) + (int8_t)(uint8_t)(bytes >> 16)) & 0xFFFFu;
  return lo | hi << 16;
}
static inline uint32_t rs_sxtab16_odd(uint32_t pair, uint32_t bytes) { return rs_sxtab16(pair, bytes >> 8); }
static inline int32_t rs_smlad(uint32_t a, uint32_t b, int32_t acc) {
  return (int32_t)((uint32_t)acc + (uint32_t)(rs_lane(a, 0) * rs_lane(b, 0)) +
                   (uint32_t)(rs_lane(a, 1) * rs_lane(b, 1)));
}
static inline int32_t rs_smlabb(uint32_t a, uint32_t b, int32_t acc) {
  return (int32_t)((uint32_t)acc + (uint32_t)(rs_lane(a, 0) * rs_lane(b, 0)));
}
static inline int32_t rs_smlatt(uint32_t a, uint32_t b, int32_t acc) {
  return (int32_t)((uint32_t)acc + (uint32_t)(rs_lane(a, 1) * rs_lane(b, 1)));
}

#endif

/* Four int8 plus `pair`'s offset: (b0, b2) and (b1, b3). */
static inline void rs_expand(uint32_t word, uint32_t pair, uint32_t *lo, uint32_t *hi) {
  *lo = rs_sxtab16(pair, word);
  *hi = rs_sxtab16_odd(pair, word);
}

/* acc += sum over k < n of (a[k] + a_off) * (b[k] + b_off). */
static inline int32_t rs_dot(const int8_t *a, uint32_t a_pair, const int8_t *b, uint32_t b_pair, int32_t n,
                             int32_t acc) {
  uint32_t a_lo, a_hi, b_lo, b_hi;
  const int16_t a_off = (int16_t)(uint16_t)a_pair, b_off = (int16_t)(uint16_t)b_pair;
  for (; n >= 4; n -= 4, a += 4, b += 4) {
    rs_expand(rs_load4(a), a_pair, &a_lo, &a_hi);
    rs_expand(rs_load4(b), b_pair, &b_lo, &b_hi);
    acc = rs_smlad(a_lo, b_lo, acc);
    acc = rs_smlad(a_hi, b_hi, acc);
  }
  for (; n > 0; --n) acc = (int32_t)((uint32_t)acc + (uint32_t)((*a++ + a_off) * (*b++ + b_off)));
  return acc;
}

/* Two dot products that share their `a` operand (one input against two filter rows):
 * acc[j] += sum over k < n of (a[k] + a_off) * (b_j[k] + b_off). */
static inline void rs_dot_1x2(const int8_t *a, uint32_t a_pair, const int8_t *b0, const int8_t *b1,
                              uint32_t b_pair, int32_t n, int32_t acc[2]) {
  uint32_t a_lo, a_hi, b_lo, b_hi;
  int32_t acc0 = acc[0], acc1 = acc[1];
  const int16_t a_off = (int16_t)(uint16_t)a_pair, b_off = (int16_t)(uint16_t)b_pair;
  for (; n >= 4; n -= 4, a += 4, b0 += 4, b1 += 4) {
    rs_expand(rs_load4(a), a_pair, &a_lo, &a_hi);
    rs_expand(rs_load4(b0), b_pair, &b_lo, &b_hi);
    acc0 = rs_smlad(a_lo, b_lo, acc0);
    acc0 = rs_smlad(a_hi, b_hi, acc0);
    rs_expand(rs_load4(b1), b_pair, &b_lo, &b_hi);
    acc1 = rs_smlad(a_lo, b_lo, acc1);
    acc1 = rs_smlad(a_hi, b_hi, acc1);
  }
  for (; n > 0; --n) {
    const int32_t x = *a++ + a_off;
    acc0 = (int32_t)((uint32_t)acc0 + (uint32_t)(x * (*b0++ + b_off)));
    acc1 = (int32_t)((uint32_t)acc1 + (uint32_t)(x * (*b1++ + b_off)));
  }
  acc[0] = acc0;
  acc[1] = acc1;
}

/* Four dot products, two inputs against two filter rows (a 2x2 block of a matrix product: each
 * word of input and filter is expanded once for two products):
 * acc[2i + j] += sum over k < n of (a_i[k] + a_off) * b_j[k]  (the filter has no offset). */
static inline void rs_dot_2x2(const int8_t *a0, const int8_t *a1, uint32_t a_pair, const int8_t *b0,
                              const int8_t *b1, int32_t n, int32_t acc[4]) {
  int32_t acc00 = acc[0], acc01 = acc[1], acc10 = acc[2], acc11 = acc[3];
  const int16_t a_off = (int16_t)(uint16_t)a_pair;
  const int8_t *end = a0 + (n & ~3);
  while (a0 != end) {
    uint32_t x0_lo, x0_hi, x1_lo, x1_hi, f_lo, f_hi;
    rs_expand(rs_load4(a0), a_pair, &x0_lo, &x0_hi);
    rs_expand(rs_load4(a1), a_pair, &x1_lo, &x1_hi);
    rs_expand(rs_load4(b0), 0, &f_lo, &f_hi);
    acc00 = rs_smlad(x0_lo, f_lo, acc00);
    acc00 = rs_smlad(x0_hi, f_hi, acc00);
    acc10 = rs_smlad(x1_lo, f_lo, acc10);
    acc10 = rs_smlad(x1_hi, f_hi, acc10);
    rs_expand(rs_load4(b1), 0, &f_lo, &f_hi);
    acc01 = rs_smlad(x0_lo, f_lo, acc01);
    acc01 = rs_smlad(x0_hi, f_hi, acc01);
    acc11 = rs_smlad(x1_lo, f_lo, acc11);
    acc11 = rs_smlad(x1_hi, f_hi, acc11);
    a0 += 4, a1 += 4, b0 += 4, b1 += 4;
  }
  for (n &= 3; n > 0; --n) {
    const int32_t x0 = *a0++ + a_off, x1 = *a1++ + a_off, f0 = *b0++, f1 = *b1++;
    acc00 = (int32_t)((uint32_t)acc00 + (uint32_t)(x0 * f0));
    acc01 = (int32_t)((uint32_t)acc01 + (uint32_t)(x0 * f1));
    acc10 = (int32_t)((uint32_t)acc10 + (uint32_t)(x1 * f0));
    acc11 = (int32_t)((uint32_t)acc11 + (uint32_t)(x1 * f1));
  }
  acc[0] = acc00, acc[1] = acc01, acc[2] = acc10, acc[3] = acc11;
}

#endif
