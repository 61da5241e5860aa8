/* MEAN over any set of axes (params: see toolchain/rune/engine/ops/reduce.py). Inputs are
 * visited in row-major order, which is also the order TFLM adds them in, so the
 * float sums round identically. */
#include "kernels.h"
#include "qmath.h"

enum { M_DIMS = 0, M_MASK = 6, M_COUNT, M_OUTPUTS, M_F32_WORDS };
enum { M_IN_ZP = M_F32_WORDS, M_OUT_ZP, M_MULT, M_SHIFT, M_Q_WORDS };

static int mean_common(const rune_engine *e, const rune_op *op, uint8_t dtype) {
  const int32_t *p = op->params;
  uint64_t n_in, reduced = 1, kept = 1;
  unsigned d;
  if (op->n_in != 1 || op->n_out != 1 || op->n_params < M_F32_WORDS || !rune_check_shape(p + M_DIMS, 6, &n_in))
    return 0;
  if (p[M_MASK] < 0 || p[M_MASK] > 63) return 0;
  for (d = 0; d < 6; ++d) {
    if (p[M_MASK] & (1 << d))
      reduced *= (uint64_t)p[M_DIMS + d];
    else
      kept *= (uint64_t)p[M_DIMS + d];
  }
  return reduced == (uint64_t)p[M_COUNT] && kept == (uint64_t)p[M_OUTPUTS] && rune_check_in(e, op, 0, dtype, n_in) &&
         rune_check_out(e, op, 0, dtype, kept);
}

/* Call `add(acc, out_index, in_index)` for every input element in row-major order. */
#define FOR_EACH_INPUT(p, BODY)                                                                     \
  do {                                                                                              \
    const int32_t *dims_ = (p) + M_DIMS;                                                            \
    int32_t i_[6], in_index = 0;                                                                    \
    for (i_[0] = 0; i_[0] < dims_[0]; ++i_[0])                                                      \
      for (i_[1] = 0; i_[1] < dims_[1]; ++i_[1])                                                    \
        for (i_[2] = 0; i_[2] < dims_[2]; ++i_[2])                                                  \
          for (i_[3] = 0; i_[3] < dims_[3]; ++i_[3])                                                \
            for (i_[4] = 0; i_[4] < dims_[4]; ++i_[4])                                              \
              for (i_[5] = 0; i_[5] < dims_[5]; ++i_[5], ++in_index) {                              \
                int32_t out_index = 0, k_;                                                          \
                for (k_ = 0; k_ < 6; ++k_)                                                          \
                  if (!((p)[M_MASK] & (1 << k_))) out_index = out_index * dims_[k_] + i_[k_];       \
                BODY;                                                                               \
              }                                                                                     \
  } while (0)

int rune_mean_f32_check(const rune_engine *e, const rune_op *op) {
  return op->n_params == M_F32_WORDS && mean_common(e, op, RUNE_DTYPE_F32);
}

void rune_mean_f32_eval(const rune_engine *e, const rune_op *op) {
  const int32_t *p = op->params;
  const float *input = (const float *)rune_in(e, op, 0);
  float *output = (float *)rune_out(e, op, 0);
  int32_t i;
  for (i = 0; i < p[M_OUTPUTS]; ++i) output[i] = 0.f;
  FOR_EACH_INPUT(p, output[out_index] += input[in_index]);
  for (i = 0; i < p[M_OUTPUTS]; ++i) output[i] = output[i] / (float)p[M_COUNT];
}

int rune_mean_q_check(const rune_engine *e, const rune_op *op) {
  const int32_t *p = op->params;
  const uint8_t t = rune_in_dtype(e, op, 0);
  const int32_t lo = t == RUNE_DTYPE_I8 ? -128 : -32768, hi = t == RUNE_DTYPE_I8 ? 127 : 32767;
  if ((t != RUNE_DTYPE_I8 && t != RUNE_DTYPE_I16) || op->n_params != M_Q_WORDS || op->n_tmp != 1) return 0;
  if (p[M_IN_ZP] < lo || p[M_IN_ZP] > hi || p[M_OUT_ZP] < lo || p[M_OUT_ZP] > hi ||
      !rune_check_multipliers(p + M_MULT, p + M_SHIFT, 1))
    return 0;
  return mean_common(e, op, t) && rune_check_tmp(e, op, 0, (uint64_t)p[M_OUTPUTS] * 4);
}

/* sum(x - in_zp) requantized with 1/count folded into the multiplier. */
void rune_mean_q_eval(const rune_engine *e, const rune_op *op) {
  const int32_t *p = op->params;
  const int wide = rune_in_dtype(e, op, 0) == RUNE_DTYPE_I16;
  const int32_t lo = wide ? -32768 : -128, hi = wide ? 32767 : 127;
  const void *input = rune_in(e, op, 0);
  void *output = rune_out(e, op, 0);
  int32_t *sum = (int32_t *)rune_tmp(e, op, 0);
  int32_t i;
  for (i = 0; i < p[M_OUTPUTS]; ++i) sum[i] = 0;
  if (wide)
    FOR_EACH_INPUT(p, sum[out_index] = rq_wadd(sum[out_index], ((const int16_t *)input)[in_index] - p[M_IN_ZP]));
  else
    FOR_EACH_INPUT(p, sum[out_index] = rq_wadd(sum[out_index], ((const int8_t *)input)[in_index] - p[M_IN_ZP]));
  for (i = 0; i < p[M_OUTPUTS]; ++i) {
    const int32_t v = rq_clamp(rq_wadd(rq_mul(sum[i], p[M_MULT], p[M_SHIFT]), p[M_OUT_ZP]), lo, hi);
    if (wide)
      ((int16_t *)output)[i] = (int16_t)v;
    else
      ((int8_t *)output)[i] = (int8_t)v;
  }
}
