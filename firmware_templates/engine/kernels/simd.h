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
static inline uint32_t rs_sxtb16(uint32_t bytes) { return __sxtb16(bytes); }
static inline uint32_t rs_sxtb16_odd(uint32_t bytes) {
  uint32_t result;
  __asm__("sxtb16 %0, %1, ror #8" : "=r"(result) : "r"(bytes));
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
static inline uint32_t rs_sxtb16(uint32_t bytes) { return rs_sxtab16(0, bytes); }
static inline uint32_t rs_sxtb16_odd(uint32_t bytes) { return rs_sxtab16(0, bytes >> 8); }
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

/* The same without an offset (filters): one register fewer in the inner loops. */
static inline void rs_expand_plain(uint32_t word, uint32_t *lo, uint32_t *hi) {
  *lo = rs_sxtb16(word);
  *hi = rs_sxtb16_odd(word);
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
 * word of input and filter is expanded once for two products), without offsets (the caller
 * adds the input offset's share, offset * sum of the filter row, to its bias):
 * acc[2i + j] += sum over k < n of a_i[k] * b_j[k]. */
static inline void rs_dot_2x2(const int8_t *a0, const int8_t *a1, const int8_t *b0, const int8_t *b1, int32_t n,
                              int32_t acc[4]) {
  int32_t acc00 = acc[0], acc01 = acc[1], acc10 = acc[2], acc11 = acc[3];
  const int8_t *end = a0 + (n & ~3);
  while (a0 != end) {
    uint32_t x0_lo, x0_hi, x1_lo, x1_hi, f_lo, f_hi;
    rs_expand_plain(rs_load4(a0), &x0_lo, &x0_hi);
    rs_expand_plain(rs_load4(a1), &x1_lo, &x1_hi);
    rs_expand_plain(rs_load4(b0), &f_lo, &f_hi);
    acc00 = rs_smlad(x0_lo, f_lo, acc00);
    acc00 = rs_smlad(x0_hi, f_hi, acc00);
    acc10 = rs_smlad(x1_lo, f_lo, acc10);
    acc10 = rs_smlad(x1_hi, f_hi, acc10);
    rs_expand_plain(rs_load4(b1), &f_lo, &f_hi);
    acc01 = rs_smlad(x0_lo, f_lo, acc01);
    acc01 = rs_smlad(x0_hi, f_hi, acc01);
    acc11 = rs_smlad(x1_lo, f_lo, acc11);
    acc11 = rs_smlad(x1_hi, f_hi, acc11);
    a0 += 4, a1 += 4, b0 += 4, b1 += 4;
  }
  for (n &= 3; n > 0; --n) {
    const int32_t x0 = *a0++, x1 = *a1++, f0 = *b0++, f1 = *b1++;
    acc00 = (int32_t)((uint32_t)acc00 + (uint32_t)(x0 * f0));
    acc01 = (int32_t)((uint32_t)acc01 + (uint32_t)(x0 * f1));
    acc10 = (int32_t)((uint32_t)acc10 + (uint32_t)(x1 * f0));
    acc11 = (int32_t)((uint32_t)acc11 + (uint32_t)(x1 * f1));
  }
  acc[0] = acc00, acc[1] = acc01, acc[2] = acc10, acc[3] = acc11;
}

/* rs_dot_2x2 for a1 = a0 + step and b1 = b0 + step (a stride-1 pointwise convolution: two
 * neighbouring pixels against two neighbouring filter rows, both `step` = in_c apart). On a
 * Cortex-M4 the loop is written out: it needs all 14 general registers, and the compiler, left
 * to itself, spills a third of them to the stack inside the loop. */
static inline void rs_dot_2x2_adjacent(const int8_t *a0, const int8_t *b0, int32_t step, int32_t n, int32_t acc[4]) {
#ifdef RUNE_SIMD_NATIVE
  const int8_t *end = a0 + (n & ~3);
  int32_t c00 = acc[0], c01 = acc[1], c10 = acc[2], c11 = acc[3];
  if (a0 != end) {
    uint32_t x0, x1, f, t0, t1, t2;
    __asm__ volatile(
        "1:\n\t"
        "ldr %[x1], [%[a0], %[step]]\n\t"
        "ldr %[x0], [%[a0]], #4\n\t"
        "ldr %[f], [%[b0]]\n\t"
        "sxtb16 %[t0], %[x0]\n\t"
        "sxtb16 %[x0], %[x0], ror #8\n\t"
        "sxtb16 %[t1], %[x1]\n\t"
        "sxtb16 %[x1], %[x1], ror #8\n\t"
        "sxtb16 %[t2], %[f]\n\t"
        "sxtb16 %[f], %[f], ror #8\n\t"
        "smlad %[c00], %[t0], %[t2], %[c00]\n\t"
        "smlad %[c00], %[x0], %[f], %[c00]\n\t"
        "smlad %[c10], %[t1], %[t2], %[c10]\n\t"
        "smlad %[c10], %[x1], %[f], %[c10]\n\t"
        "ldr %[f], [%[b0], %[step]]\n\t"
        "add %[b0], %[b0], #4\n\t"
        "sxtb16 %[t2], %[f]\n\t"
        "sxtb16 %[f], %[f], ror #8\n\t"
        "smlad %[c01], %[t0], %[t2], %[c01]\n\t"
        "smlad %[c01], %[x0], %[f], %[c01]\n\t"
        "smlad %[c11], %[t1], %[t2], %[c11]\n\t"
        "smlad %[c11], %[x1], %[f], %[c11]\n\t"
        "cmp %[a0], %[end]\n\t"
        "bne 1b\n\t"
        : [a0] "+r"(a0), [b0] "+r"(b0), [c00] "+r"(c00), [c01] "+r"(c01), [c10] "+r"(c10), [c11] "+r"(c11),
          [x0] "=&r"(x0), [x1] "=&r"(x1), [f] "=&r"(f), [t0] "=&r"(t0), [t1] "=&r"(t1), [t2] "=&r"(t2)
        : [step] "r"(step), [end] "r"(end)
        : "cc", "memory");
  }
  for (n &= 3; n > 0; --n, ++a0, ++b0) {
    const int32_t x0 = a0[0], x1 = a0[step], f0 = b0[0], f1 = b0[step];
    c00 = (int32_t)((uint32_t)c00 + (uint32_t)(x0 * f0));
    c01 = (int32_t)((uint32_t)c01 + (uint32_t)(x0 * f1));
    c10 = (int32_t)((uint32_t)c10 + (uint32_t)(x1 * f0));
    c11 = (int32_t)((uint32_t)c11 + (uint32_t)(x1 * f1));
  }
  acc[0] = c00, acc[1] = c01, acc[2] = c10, acc[3] = c11;
#else
  rs_dot_2x2(a0, a0 + step, b0, b0 + step, n, acc);
#endif
}

/* One row of a depthwise convolution's taps for four channels in lanes: `taps` taps, each
 * four input bytes (plus the offset in `pair`) at `in`, `in` + in_step, ... against four filter
 * bytes at `f`, `f` + f_step, ...; lane k of acc is channel k. */
static inline void rs_dw_row4(const int8_t *in, int32_t in_step, const int8_t *f, int32_t f_step, int32_t taps,
                              uint32_t pair, int32_t acc[4]) {
  int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3], k;
  for (k = 0; k < taps; ++k) {
    uint32_t x_lo, x_hi, w_lo, w_hi;
    rs_expand(rs_load4(in + k * in_step), pair, &x_lo, &x_hi);
    rs_expand_plain(rs_load4(f + k * f_step), &w_lo, &w_hi);
    a0 = rs_smlabb(x_lo, w_lo, a0);
    a2 = rs_smlatt(x_lo, w_lo, a2);
    a1 = rs_smlabb(x_hi, w_hi, a1);
    a3 = rs_smlatt(x_hi, w_hi, a3);
  }
  acc[0] = a0, acc[1] = a1, acc[2] = a2, acc[3] = a3;
}

/* rs_dw_row4 when input and filter taps are the same `step` apart (depth multiplier 1, no
 * dilation: both are in_c apart). On a Cortex-M4 the loop is written out, for the same reason
 * as rs_dot_2x2_adjacent. */
static inline void rs_dw_row4_same_step(const int8_t *in, const int8_t *f, int32_t step, int32_t taps, uint32_t pair,
                                        int32_t acc[4]) {
#ifdef RUNE_SIMD_NATIVE
  int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
  if (taps > 0) {
    uint32_t x, w, x_hi, w_hi;
    __asm__ volatile(
        "1:\n\t"
        "ldr %[x], [%[in]]\n\t"
        "add %[in], %[in], %[step]\n\t"
        "ldr %[w], [%[f]]\n\t"
        "add %[f], %[f], %[step]\n\t"
        "sxtab16 %[x_hi], %[pair], %[x], ror #8\n\t"
        "sxtab16 %[x], %[pair], %[x]\n\t"
        "sxtb16 %[w_hi], %[w], ror #8\n\t"
        "sxtb16 %[w], %[w]\n\t"
        "smlabb %[a0], %[x], %[w], %[a0]\n\t"
        "smlatt %[a2], %[x], %[w], %[a2]\n\t"
        "smlabb %[a1], %[x_hi], %[w_hi], %[a1]\n\t"
        "smlatt %[a3], %[x_hi], %[w_hi], %[a3]\n\t"
        "subs %[taps], %[taps], #1\n\t"
        "bne 1b\n\t"
        : [in] "+r"(in), [f] "+r"(f), [taps] "+r"(taps), [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2),
          [a3] "+r"(a3), [x] "=&r"(x), [w] "=&r"(w), [x_hi] "=&r"(x_hi), [w_hi] "=&r"(w_hi)
        : [step] "r"(step), [pair] "r"(pair)
        : "cc", "memory");
  }
  acc[0] = a0, acc[1] = a1, acc[2] = a2, acc[3] = a3;
#else
  rs_dw_row4(in, step, f, step, taps, pair, acc);
#endif
}

/* The sum of n int8, wrapping like an int32 accumulator. */
static inline int32_t rs_sum(const int8_t *a, int32_t n) {
  const uint32_t ones = 0x00010001u;
  int32_t acc = 0;
  uint32_t lo, hi;
  for (; n >= 4; n -= 4, a += 4) {
    rs_expand_plain(rs_load4(a), &lo, &hi);
    acc = rs_smlad(lo, ones, acc);
    acc = rs_smlad(hi, ones, acc);
  }
  for (; n > 0; --n) acc = (int32_t)((uint32_t)acc + (uint32_t)*a++);
  return acc;
}

#endif
