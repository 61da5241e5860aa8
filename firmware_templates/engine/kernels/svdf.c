/* SVDF, int8 input/output with int16 or int8 weights_time and state (TFLM's
 * integer reference). Operands: input, weights_feature, weights_time, bias
 * (optional), state (variable, updated in place), output; scratch: filter
 * activations (int32[batch*filters]) and unit sums (int32[batch*units]).
 * Params: batch, input_size, filters, memory, rank, input_zp, state_zp,
 *         output_zp, mult1, shift1, mult2, shift2. */
#include "kernels.h"
#include "qmath.h"

enum { V_BATCH, V_INPUT, V_FILTERS, V_MEMORY, V_RANK, V_IN_ZP, V_STATE_ZP, V_OUT_ZP,
       V_MULT1, V_SHIFT1, V_MULT2, V_SHIFT2, V_WORDS };

int rune_svdf_i8_check(const rune_engine *e, const rune_op *op) {
  const int32_t *p = op->params;
  uint8_t state_type = rune_in_dtype(e, op, 4);
  uint64_t n;
  int32_t units;
  if (op->n_in != 5 || op->n_out != 1 || op->n_tmp != 2 || op->n_params != V_WORDS) return 0;
  if (!rune_check_shape(p, 5, &n) || p[V_FILTERS] % p[V_RANK] != 0) return 0;
  if (state_type != RUNE_DTYPE_I16 && state_type != RUNE_DTYPE_I8) return 0;
  if (p[V_IN_ZP] < -128 || p[V_IN_ZP] > 127 || p[V_OUT_ZP] < -128 || p[V_OUT_ZP] > 127) return 0;
  if (p[V_STATE_ZP] < (state_type == RUNE_DTYPE_I8 ? -128 : -32768) || p[V_STATE_ZP] > (state_type == RUNE_DTYPE_I8 ? 127 : 32767))
    return 0;
  if (!rune_check_multipliers(p + V_MULT1, p + V_SHIFT1, 1) || !rune_check_multipliers(p + V_MULT2, p + V_SHIFT2, 1))
    return 0;
  units = p[V_FILTERS] / p[V_RANK];
  return rune_check_in(e, op, 0, RUNE_DTYPE_I8, (uint64_t)p[V_BATCH] * (uint64_t)p[V_INPUT]) &&
         rune_check_in(e, op, 1, RUNE_DTYPE_I8, (uint64_t)p[V_FILTERS] * (uint64_t)p[V_INPUT]) &&
         rune_check_in(e, op, 2, state_type, (uint64_t)p[V_FILTERS] * (uint64_t)p[V_MEMORY]) &&
         rune_check_opt_in(e, op, 3, RUNE_DTYPE_I32, (uint64_t)units) &&
         rune_check_state(e, op, 4, state_type, (uint64_t)p[V_BATCH] * (uint64_t)p[V_FILTERS] * (uint64_t)p[V_MEMORY]) &&
         rune_check_out(e, op, 0, RUNE_DTYPE_I8, (uint64_t)p[V_BATCH] * (uint64_t)units) &&
         rune_check_tmp(e, op, 0, (uint64_t)p[V_BATCH] * (uint64_t)p[V_FILTERS] * 4) &&
         rune_check_tmp(e, op, 1, (uint64_t)p[V_BATCH] * (uint64_t)units * 4);
}

static int32_t state_get(const void *s, int wide, int32_t i) {
  return wide ? ((const int16_t *)s)[i] : ((const int8_t *)s)[i];
}

static void state_set(void *s, int wide, int32_t i, int32_t v) {
  if (wide)
    ((int16_t *)s)[i] = (int16_t)v;
  else
    ((int8_t *)s)[i] = (int8_t)v;
}

void rune_svdf_i8_eval(const rune_engine *e, const rune_op *op) {
  const int32_t *p = op->params;
  const int32_t batch = p[V_BATCH], n_input = p[V_INPUT], filters = p[V_FILTERS], memory = p[V_MEMORY];
  const int32_t rank = p[V_RANK], units = filters / rank, state_zp = p[V_STATE_ZP];
  const int wide = rune_in_dtype(e, op, 4) == RUNE_DTYPE_I16;
  const int32_t s_min = wide ? -32768 : -128, s_max = wide ? 32767 : 127;
  const int8_t *input = (const int8_t *)rune_in(e, op, 0);
  const int8_t *w_feature = (const int8_t *)rune_in(e, op, 1);
  const void *w_time = rune_in(e, op, 2);
  const int32_t *bias = (const int32_t *)rune_in(e, op, 3);
  void *state = rune_state(e, op, 4);
  int8_t *output = (int8_t *)rune_out(e, op, 0);
  int32_t *filter_acc = (int32_t *)rune_tmp(e, op, 0);
  int32_t *unit_acc = (int32_t *)rune_tmp(e, op, 1);
  const int32_t state_len = batch * filters * memory;
  int32_t b, f, i, j;

  /* Shift the whole state left by one; the newest column is rewritten below. */
  for (i = 0; i + 1 < state_len; ++i) state_set(state, wide, i, state_get(state, wide, i + 1));

  /* Feature matmul into the newest state column. */
  for (b = 0; b < batch; ++b)
    for (f = 0; f < filters; ++f) {
      const int8_t *w = w_feature + f * n_input, *x = input + b * n_input;
      int32_t acc = 0;
      for (i = 0; i < n_input; ++i) acc = rq_wadd(acc, w[i] * (x[i] - p[V_IN_ZP]));
      /* TFLM clamps first and adds the state zero point afterwards (wrapping) */
      acc = rq_wadd(rq_clamp(rq_mul(acc, p[V_MULT1], p[V_SHIFT1]), s_min, s_max), state_zp);
      state_set(state, wide, (b * filters + f) * memory + memory - 1, acc);
    }

  /* Time weights: dot product of every filter's memory with its time weights. */
  for (b = 0; b < batch; ++b)
    for (f = 0; f < filters; ++f) {
      int32_t acc = 0;
      for (j = 0; j < memory; ++j)
        acc = rq_wadd(acc, state_get(w_time, wide, f * memory + j) *
                               (state_get(state, wide, (b * filters + f) * memory + j) - state_zp));
      filter_acc[b * filters + f] = acc;
    }

  /* Bias, rank reduction, rescale to int8. */
  for (b = 0; b < batch; ++b)
    for (i = 0; i < units; ++i) {
      int32_t acc = bias ? bias[i] : 0;
      for (j = 0; j < rank; ++j) acc = rq_wadd(acc, filter_acc[b * filters + i * rank + j]);
      unit_acc[b * units + i] = acc;
    }
  for (i = 0; i < batch * units; ++i)
    output[i] = (int8_t)rq_clamp(rq_wadd(rq_mul(unit_acc[i], p[V_MULT2], p[V_SHIFT2]), p[V_OUT_ZP]), -128, 127);
}
