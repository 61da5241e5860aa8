/* Geometry block shared by CONV_2D, DEPTHWISE_CONV_2D and pooling params. */
#ifndef RUNE_WINDOW_H
#define RUNE_WINDOW_H

#include "../rune_internal.h"

enum {
  W_N, W_IH, W_IW, W_IC, W_FH, W_FW, W_OH, W_OW, W_OC,
  W_SH, W_SW, W_DH, W_DW, W_PH, W_PW, W_X, W_WORDS
};

/* Every size >= 1, padding >= 0, and all coordinates the loops form fit in int32. */
static inline int rune_window_ok(const int32_t *w) {
  unsigned i;
  uint64_t reach_h, reach_w;
  for (i = 0; i < W_PH; ++i)
    if (w[i] < 1 || w[i] > 0xFFFFF) return 0;
  if (w[W_PH] < 0 || w[W_PW] < 0 || w[W_PH] > 0xFFFFF || w[W_PW] > 0xFFFFF || w[W_X] < 1) return 0;
  reach_h = (uint64_t)w[W_OH] * (uint64_t)w[W_SH] + (uint64_t)w[W_FH] * (uint64_t)w[W_DH];
  reach_w = (uint64_t)w[W_OW] * (uint64_t)w[W_SW] + (uint64_t)w[W_FW] * (uint64_t)w[W_DW];
  return reach_h < 0x40000000u && reach_w < 0x40000000u;
}

static inline uint64_t rune_window_in_elems(const int32_t *w) {
  return (uint64_t)w[W_N] * (uint64_t)w[W_IH] * (uint64_t)w[W_IW] * (uint64_t)w[W_IC];
}

static inline uint64_t rune_window_out_elems(const int32_t *w) {
  return (uint64_t)w[W_N] * (uint64_t)w[W_OH] * (uint64_t)w[W_OW] * (uint64_t)w[W_OC];
}

/* The taps of a window that fall inside the input: [*first, *last) for a window starting at
   `origin` with `taps` taps `dilation` apart over an input of `size`. Outside taps are skipped,
   as TFLM skips them (they add nothing, not even the input offset). */
static inline void rune_valid_taps(int32_t origin, int32_t taps, int32_t dilation, int32_t size, int32_t *first,
                                   int32_t *last) {
  const int32_t begin = origin < 0 ? (-origin + dilation - 1) / dilation : 0;
  const int32_t end = size - origin <= 0 ? 0 : (size - origin + dilation - 1) / dilation;
  *first = begin;
  *last = end < taps ? end : taps;
}

#endif
