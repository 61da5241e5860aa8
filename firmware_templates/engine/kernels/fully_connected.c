/* FULLY_CONNECTED: float32 and int8 (per-tensor or per-channel weights).
 *
 * Params (int32 words):
 *   f32: batches, accum_depth, out_depth, act_min(f32 bits), act_max(f32 bits)
 *   i8 : batches, accum_depth, out_depth, input_offset, filter_offset,
 *        output_offset, act_min, act_max, n_mult (1 or out_depth),
 *        mult[n_mult], shift[n_mult]
 * Operands: input, filter, bias (optional), output. */
#include "../rune_internal.h"
#include "kernels.h"
#include "qmath.h"
#include "simd.h"

enum { FC_BATCHES, FC_ACCUM, FC_OUT, FC_F32_ACT_MIN, FC_F32_ACT_MAX, FC_F32_PARAMS };
enum { FC_IN_OFF = 3, FC_FILTER_OFF, FC_OUT_OFF, FC_ACT_MIN, FC_ACT_MAX, FC_N_MULT, FC_Q_PARAMS };

static int check_shapes(const rune_engine *e, const rune_op *op, uint8_t dtype, uint8_t bias_dtype) {
  const int32_t *p = op->params;
  uint64_t n;
  if (op->n_in != 3 || op->n_out != 1 || !rune_check_shape(p, 3, &n)) return 0;
  return rune_check_in(e, op, 0, dtype, (uint64_t)p[FC_BATCHES] * (uint64_t)p[FC_ACCUM]) &&
         rune_check_in(e, op, 1, dtype == RUNE_DTYPE_F32 ? RUNE_DTYPE_F32 : RUNE_DTYPE_I8, (uint64_t)p[FC_OUT] * (uint64_t)p[FC_ACCUM]) &&
         rune_check_opt_in(e, op, 2, bias_dtype, (uint64_t)p[FC_OUT]) &&
         rune_check_out(e, op, 0, dtype, (uint64_t)p[FC_BATCHES] * (uint64_t)p[FC_OUT]);
}

int rune_fc_f32_check(const rune_engine *e, const rune_op *op) {
  return op->n_params == FC_F32_PARAMS && check_shapes(e, op, RUNE_DTYPE_F32, RUNE_DTYPE_F32);
}

/* Reference order: dot product accumulated from zero, then bias, then clamp. */
void rune_fc_f32_eval(const rune_engine *e, const rune_op *op) {
  const int32_t *p = op->params;
  const int32_t batches = p[FC_BATCHES], depth = p[FC_ACCUM], out_depth = p[FC_OUT];
  const float act_min = rune_word_f32(p[FC_F32_ACT_MIN]), act_max = rune_word_f32(p[FC_F32_ACT_MAX]);
  const float *input = (const float *)rune_in(e, op, 0);
  const float *filter = (const float *)rune_in(e, op, 1);
  const float *bias = (const float *)rune_in(e, op, 2);
  float *output = (float *)rune_out(e, op, 0);
  int32_t b, o, d;
  for (b = 0; b < batches; ++b) {
    for (o = 0; o < out_depth; ++o) {
      float total = 0.f;
      float value;
      for (d = 0; d < depth; ++d) total += input[b * depth + d] * filter[o * depth + d];
      value = total + (bias ? bias[o] : 0.0f);
      value = value < act_min ? act_min : value;
      output[b * out_depth + o] = value > act_max ? act_max : value;
    }
  }
}

int rune_fc_i8_check(const rune_engine *e, const rune_op *op) {
  const int32_t *p = op->params;
  int32_t n_mult;
  if (op->n_params < FC_Q_PARAMS || !check_shapes(e, op, RUNE_DTYPE_I8, RUNE_DTYPE_I32)) return 0;
  n_mult = p[FC_N_MULT];
  if ((n_mult != 1 && n_mult != p[FC_OUT]) || op->n_params != FC_Q_PARAMS + 2 * (uint32_t)n_mult) return 0;
  if (p[FC_ACT_MIN] < -128 || p[FC_ACT_MAX] > 127 || p[FC_ACT_MIN] > p[FC_ACT_MAX]) return 0;
  if (p[FC_IN_OFF] < -255 || p[FC_IN_OFF] > 255 || p[FC_FILTER_OFF] < -255 || p[FC_FILTER_OFF] > 255) return 0;
  return rune_check_multipliers(p + FC_Q_PARAMS, p + FC_Q_PARAMS + n_mult, (uint32_t)n_mult);
}

/* Output units two at a time, sharing each input word (simd.h). */
void rune_fc_i8_eval(const rune_engine *e, const rune_op *op) {
  const int32_t *p = op->params;
  const int32_t batches = p[FC_BATCHES], depth = p[FC_ACCUM], out_depth = p[FC_OUT];
  const uint32_t in_pair = rs_pair(p[FC_IN_OFF]), filter_pair = rs_pair(p[FC_FILTER_OFF]);
  const int32_t out_off = p[FC_OUT_OFF], act_min = p[FC_ACT_MIN], act_max = p[FC_ACT_MAX];
  const int32_t n_mult = p[FC_N_MULT];
  const int32_t *mult = p + FC_Q_PARAMS, *shift = mult + n_mult;
  const int8_t *input = (const int8_t *)rune_in(e, op, 0);
  const int8_t *filter = (const int8_t *)rune_in(e, op, 1);
  const int32_t *bias = (const int32_t *)rune_in(e, op, 2);
  int8_t *output = (int8_t *)rune_out(e, op, 0);
  int32_t b, o;
  for (b = 0; b < batches; ++b) {
    const int8_t *in_row = input + b * depth;
    int8_t *out_row = output + b * out_depth;
    for (o = 0; o < out_depth;) {
      const int paired = o + 1 < out_depth;
      int32_t acc[2] = {0, 0}, k;
      if (paired)
        rs_dot_1x2(in_row, in_pair, filter + o * depth, filter + (o + 1) * depth, filter_pair, depth, acc);
      else
        acc[0] = rs_dot(in_row, in_pair, filter + o * depth, filter_pair, depth, 0);
      for (k = 0; k <= paired; ++k, ++o) {
        const int32_t c = n_mult == 1 ? 0 : o;
        out_row[o] = rq_output_i8(acc[k], bias ? bias[o] : 0, mult[c], shift[c], out_off, act_min, act_max);
      }
    }
  }
}
