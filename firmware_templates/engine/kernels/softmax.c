/* SOFTMAX over the last dimension.
 *   f32: params outer, depth, beta (f32 bits)
 *   q  : params outer, depth, input_multiplier, input_left_shift, diff_min
 *        input int8; output int8 (zero point -128, scale 1/256) or int16
 *        (zero point -32768, scale 1/65536), as TFLM requires.
 * Each row is read fully before element c is written, and element c is written
 * only after it was read: output may overlap the input element-wise. */
#include <math.h>

#include "fixedpoint.h"
#include "kernels.h"

enum { S_OUTER, S_DEPTH, S_BETA, S_F32_WORDS };
enum { S_MULT = 2, S_SHIFT, S_DIFF_MIN, S_Q_WORDS };

static int shape_ok(const rune_engine *e, const rune_op *op, uint8_t in_type, uint8_t out_type) {
  uint64_t n;
  if (op->n_in != 1 || op->n_out != 1 || !rune_check_shape(op->params, 2, &n)) return 0;
  return rune_check_in(e, op, 0, in_type, n) && rune_check_out(e, op, 0, out_type, n);
}

int rune_softmax_f32_check(const rune_engine *e, const rune_op *op) {
  return op->n_params == S_F32_WORDS && shape_ok(e, op, RUNE_DTYPE_F32, RUNE_DTYPE_F32);
}

void rune_softmax_f32_eval(const rune_engine *e, const rune_op *op) {
  const int32_t outer = op->params[S_OUTER], depth = op->params[S_DEPTH];
  const float beta = rune_word_f32(op->params[S_BETA]);
  const float *input = (const float *)rune_in(e, op, 0);
  float *output = (float *)rune_out(e, op, 0);
  int32_t i, c;
  for (i = 0; i < outer; ++i) {
    const float *x = input + i * depth;
    float *y = output + i * depth;
    float max = -3.40282347e+38f, sum = 0.f;
    for (c = 0; c < depth; ++c) max = x[c] > max ? x[c] : max;
    for (c = 0; c < depth; ++c) {
      const float v = expf((x[c] - max) * beta);
      y[c] = v;
      sum += v;
    }
    for (c = 0; c < depth; ++c) y[c] = y[c] / sum;
  }
}

int rune_softmax_q_check(const rune_engine *e, const rune_op *op) {
  const int32_t *p = op->params;
  uint8_t out_type = rune_out_dtype(e, op, 0);
  if (op->n_params != S_Q_WORDS || (out_type != RUNE_DTYPE_I8 && out_type != RUNE_DTYPE_I16)) return 0;
  /* the multiplier is > 1 (QuantizeMultiplierGreaterThanOne) */
  if (p[S_MULT] < 0 || p[S_SHIFT] < 0 || p[S_SHIFT] > 30 || p[S_DIFF_MIN] > 0) return 0;
  return shape_ok(e, op, RUNE_DTYPE_I8, out_type);
}

void rune_softmax_q_eval(const rune_engine *e, const rune_op *op) {
  const int32_t outer = op->params[S_OUTER], depth = op->params[S_DEPTH];
  const int32_t mult = op->params[S_MULT], shift = op->params[S_SHIFT], diff_min = op->params[S_DIFF_MIN];
  const int wide = rune_out_dtype(e, op, 0) == RUNE_DTYPE_I16;
  const int32_t out_min = wide ? -32768 : -128, out_max = wide ? 32767 : 127;
  const int8_t *input = (const int8_t *)rune_in(e, op, 0);
  int8_t *out8 = (int8_t *)rune_out(e, op, 0);
  int16_t *out16 = (int16_t *)rune_out(e, op, 0);
  int32_t i, c;
  for (i = 0; i < outer; ++i) {
    const int8_t *x = input + i * depth;
    int32_t max = -128, sum = 0, scale, exponent;
    int bits_over_unit;
    for (c = 0; c < depth; ++c) max = x[c] > max ? x[c] : max;
    for (c = 0; c < depth; ++c) {
      const int32_t diff = x[c] - max;
      if (diff >= diff_min)  /* exp in Q5.26 of the scaled difference, summed in Q12 */
        sum = rq_wadd(sum, rq_rdivpot(fp_exp_negative(rq_srdhm(rq_shl(diff, shift), mult), 5), 12));
    }
    scale = fp_reciprocal(sum, 12, &bits_over_unit);
    exponent = bits_over_unit + 31 - (wide ? 16 : 8);
    exponent = rq_clamp(exponent, 0, 31); /* TFLM aborts outside this range */
    for (c = 0; c < depth; ++c) {
      const int32_t diff = x[c] - max;
      int32_t value = out_min;
      if (diff >= diff_min) {
        const int32_t exp_q0 = fp_exp_negative(rq_srdhm(rq_shl(diff, shift), mult), 5);
        value = rq_clamp(rq_wadd(rq_rdivpot(rq_srdhm(scale, exp_q0), exponent), out_min), out_min, out_max);
      }
      if (wide)
        out16[i * depth + c] = (int16_t)value;
      else
        out8[i * depth + c] = (int8_t)value;
    }
  }
}
