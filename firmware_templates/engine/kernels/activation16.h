/* int16 sigmoid and tanh by interpolation in a 256-entry sigmoid table, with the
 * exact rounding of TFLM's int16 LOGISTIC/TANH kernels (also used by the LSTM).
 * The input is first scaled as v = (x * multiplier + round) >> shift. */
#ifndef RUNE_ACTIVATION16_H
#define RUNE_ACTIVATION16_H

#include <stdint.h>

/* Generated at build time from the pinned TFLM wheel (rune.engine.tables), never committed. */
#include "rune_sigmoid_table.h"

static inline int32_t a16_scale(int16_t x, int32_t multiplier, int shift) {
  const int32_t round = shift > 0 ? (int32_t)1 << (shift - 1) : 0;
  return (x * multiplier + round) >> shift;
}

/* sigmoid(v / 4096 / 3 * 4 ...) in Q0.15; v is the scaled input. */
static inline int16_t a16_sigmoid(int32_t v) {
  const uint32_t a = (uint32_t)(v < 0 ? -v : v);
  const uint32_t uh = a >> 9;
  uint32_t r;
  if (uh >= 255) {
    r = 0x7FFFu << 10;
  } else {
    const uint32_t ua = rune_sigmoid_table[uh], ub = rune_sigmoid_table[uh + 1];
    r = (ua << 9) + (a & 0x1FFu) * (ub - ua);
  }
  r = v >= 0 ? r + (1u << 9) : (1u << 25) - r + (1u << 9) - 1;
  return (int16_t)(r >> 10);
}

/* tanh of the scaled input v, Q0.15 output. */
static inline int16_t a16_tanh(int32_t v) {
  const uint32_t a = (uint32_t)(v < 0 ? -v : v);
  const uint32_t uh = a >> 8;
  int32_t r;
  if (uh >= 255) {
    r = 0xFFFF << 8;
  } else {
    const uint32_t ua = rune_sigmoid_table[uh], ub = rune_sigmoid_table[uh + 1];
    r = (int32_t)((ua << 8) + (a & 0xFFu) * (ub - ua));
  }
  r = v >= 0 ? r - (1 << 23) + (1 << 7) : -r + (1 << 23) + (1 << 7) - 1;
  return (int16_t)(r >> 8);
}

#endif
