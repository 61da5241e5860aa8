/* Elementwise activations. Every kernel reads element i before writing element i
 * and never looks back, so outputs may overlap inputs element-wise.
 *   LUT8          : params count, table[256 bytes as 64 words]; 8-bit in and out
 *   CLAMP_F32     : params count, lo, hi (f32 bits)             RELU / RELU6
 *   LEAKY_RELU_F32: params count, alpha (f32 bits)
 *   LEAKY_RELU_I16: params count, in_zp, out_zp, identity mult/shift, alpha mult/shift
 *   LOGISTIC_F32, TANH_F32: params count
 *   LOGISTIC_I16, TANH_I16: params count, input multiplier, input shift */
#include <math.h>

#include "activation16.h"
#include "kernels.h"
#include "qmath.h"

static int unary_ok(const rune_engine *e, const rune_op *op, uint8_t dtype, uint32_t n_params) {
  if (op->n_in != 1 || op->n_out != 1 || op->n_params != n_params || op->params[0] < 0) return 0;
  return rune_check_in(e, op, 0, dtype, (uint64_t)op->params[0]) &&
         rune_check_out(e, op, 0, dtype, (uint64_t)op->params[0]);
}

int rune_lut8_check(const rune_engine *e, const rune_op *op) {
  const uint8_t t = rune_in_dtype(e, op, 0);
  return rune_is_quant8(t) && rune_out_dtype(e, op, 0) == t && unary_ok(e, op, t, 1 + 64);
}

void rune_lut8_eval(const rune_engine *e, const rune_op *op) {
  const uint8_t *table = (const uint8_t *)(const void *)(op->params + 1);
  const uint8_t *input = (const uint8_t *)rune_in(e, op, 0);
  uint8_t *output = (uint8_t *)rune_out(e, op, 0);
  int32_t i;
  for (i = 0; i < op->params[0]; ++i) output[i] = table[input[i]];
}

int rune_clamp_f32_check(const rune_engine *e, const rune_op *op) { return unary_ok(e, op, RUNE_DTYPE_F32, 3); }

void rune_clamp_f32_eval(const rune_engine *e, const rune_op *op) {
  const float lo = rune_word_f32(op->params[1]), hi = rune_word_f32(op->params[2]);
  const float *input = (const float *)rune_in(e, op, 0);
  float *output = (float *)rune_out(e, op, 0);
  int32_t i;
  for (i = 0; i < op->params[0]; ++i) {
    const float v = input[i];
    output[i] = v > hi ? hi : (v < lo ? lo : v);
  }
}

int rune_leaky_relu_f32_check(const rune_engine *e, const rune_op *op) { return unary_ok(e, op, RUNE_DTYPE_F32, 2); }

void rune_leaky_relu_f32_eval(const rune_engine *e, const rune_op *op) {
  const float alpha = rune_word_f32(op->params[1]);
  const float *input = (const float *)rune_in(e, op, 0);
  float *output = (float *)rune_out(e, op, 0);
  int32_t i;
  for (i = 0; i < op->params[0]; ++i) {
    const float v = input[i];
    output[i] = v > 0 ? v : v * alpha;
  }
}

enum { LR_COUNT, LR_IN_ZP, LR_OUT_ZP, LR_ID_MULT, LR_ID_SHIFT, LR_ALPHA_MULT, LR_ALPHA_SHIFT, LR_WORDS };

int rune_leaky_relu_i16_check(const rune_engine *e, const rune_op *op) {
  const int32_t *p = op->params;
  if (!unary_ok(e, op, RUNE_DTYPE_I16, LR_WORDS)) return 0;
  /* the alpha multiplier may be negative (alpha < 0) */
  return p[LR_IN_ZP] >= -32768 && p[LR_IN_ZP] <= 32767 && p[LR_OUT_ZP] >= -32768 && p[LR_OUT_ZP] <= 32767 &&
         rune_check_multipliers(p + LR_ID_MULT, p + LR_ID_SHIFT, 1) && p[LR_ALPHA_SHIFT] >= -31 &&
         p[LR_ALPHA_SHIFT] <= 30;
}

void rune_leaky_relu_i16_eval(const rune_engine *e, const rune_op *op) {
  const int32_t *p = op->params;
  const int16_t *input = (const int16_t *)rune_in(e, op, 0);
  int16_t *output = (int16_t *)rune_out(e, op, 0);
  int32_t i;
  for (i = 0; i < p[LR_COUNT]; ++i) {
    const int32_t x = input[i] - p[LR_IN_ZP];
    const int32_t y = x >= 0 ? rq_mul(x, p[LR_ID_MULT], p[LR_ID_SHIFT]) : rq_mul(x, p[LR_ALPHA_MULT], p[LR_ALPHA_SHIFT]);
    output[i] = (int16_t)rq_clamp(rq_wadd(y, p[LR_OUT_ZP]), -32768, 32767);
  }
}

int rune_logistic_f32_check(const rune_engine *e, const rune_op *op) { return unary_ok(e, op, RUNE_DTYPE_F32, 1); }

/* TFLM's float logistic: saturate above 16.619..., plain exp below -9. */
void rune_logistic_f32_eval(const rune_engine *e, const rune_op *op) {
  const float *input = (const float *)rune_in(e, op, 0);
  float *output = (float *)rune_out(e, op, 0);
  int32_t i;
  for (i = 0; i < op->params[0]; ++i) {
    const float v = input[i];
    output[i] = v > 16.619047164916992188f ? 1.0f : (v < -9.f ? expf(v) : 1.f / (1.f + expf(-v)));
  }
}

int rune_tanh_f32_check(const rune_engine *e, const rune_op *op) { return unary_ok(e, op, RUNE_DTYPE_F32, 1); }

void rune_tanh_f32_eval(const rune_engine *e, const rune_op *op) {
  const float *input = (const float *)rune_in(e, op, 0);
  float *output = (float *)rune_out(e, op, 0);
  int32_t i;
  for (i = 0; i < op->params[0]; ++i) output[i] = tanhf(input[i]);
}

static int sigmoid16_check(const rune_engine *e, const rune_op *op) {
  return unary_ok(e, op, RUNE_DTYPE_I16, 3) && op->params[1] > 0 && op->params[1] <= 32767 && op->params[2] >= 0 &&
         op->params[2] <= 30;
}

int rune_logistic_i16_check(const rune_engine *e, const rune_op *op) { return sigmoid16_check(e, op); }
int rune_tanh_i16_check(const rune_engine *e, const rune_op *op) { return sigmoid16_check(e, op); }

void rune_logistic_i16_eval(const rune_engine *e, const rune_op *op) {
  const int16_t *input = (const int16_t *)rune_in(e, op, 0);
  int16_t *output = (int16_t *)rune_out(e, op, 0);
  int32_t i;
  for (i = 0; i < op->params[0]; ++i) output[i] = a16_sigmoid(a16_scale(input[i], op->params[1], op->params[2]));
}

void rune_tanh_i16_eval(const rune_engine *e, const rune_op *op) {
  const int16_t *input = (const int16_t *)rune_in(e, op, 0);
  int16_t *output = (int16_t *)rune_out(e, op, 0);
  int32_t i;
  for (i = 0; i < op->params[0]; ++i) output[i] = a16_tanh(a16_scale(input[i], op->params[1], op->params[2]));
}
