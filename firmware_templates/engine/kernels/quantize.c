/* QUANTIZE (float -> int8/int16, and integer requantization) and DEQUANTIZE.
 * REQUANTIZE also serves int16 RELU/RELU6: out = clamp(out_zp + x*scale, min, max).
 * Element i is read before it is written and never read again: in-place safe. */
#include <math.h>

#include "kernels.h"
#include "qmath.h"

enum { Q_COUNT, Q_ZP, Q_SCALE, Q_WORDS };
enum { R_COUNT, R_IN_ZP, R_OUT_ZP, R_MULT, R_SHIFT, R_MIN, R_MAX, R_WORDS };
enum { D_COUNT, D_ZP, D_SCALE_LO, D_SCALE_HI, D_WORDS, D_TABLE_WORDS = D_WORDS + 256 };

static int32_t type_min(uint8_t t) {
  return t == RUNE_DTYPE_I8 ? -128 : t == RUNE_DTYPE_U8 ? 0 : t == RUNE_DTYPE_I16 ? -32768 : RQ_INT32_MIN;
}
static int32_t type_max(uint8_t t) {
  return t == RUNE_DTYPE_I8 ? 127 : t == RUNE_DTYPE_U8 ? 255 : t == RUNE_DTYPE_I16 ? 32767 : RQ_INT32_MAX;
}

static int32_t load_int(const void *p, uint8_t t, int32_t i) {
  switch (t) {
    case RUNE_DTYPE_I8: return ((const int8_t *)p)[i];
    case RUNE_DTYPE_U8: return ((const uint8_t *)p)[i];
    case RUNE_DTYPE_I16: return ((const int16_t *)p)[i];
    default: return ((const int32_t *)p)[i];
  }
}

static void store_int(void *p, uint8_t t, int32_t i, int32_t v) {
  switch (t) {
    case RUNE_DTYPE_I8: ((int8_t *)p)[i] = (int8_t)v; break;
    case RUNE_DTYPE_U8: ((uint8_t *)p)[i] = (uint8_t)v; break;
    case RUNE_DTYPE_I16: ((int16_t *)p)[i] = (int16_t)v; break;
    default: ((int32_t *)p)[i] = v; break;
  }
}

static int is_int_type(uint8_t t) { return t == RUNE_DTYPE_I8 || t == RUNE_DTYPE_U8 || t == RUNE_DTYPE_I16 || t == RUNE_DTYPE_I32; }

int rune_quantize_f32_check(const rune_engine *e, const rune_op *op) {
  const uint8_t out_type = rune_out_dtype(e, op, 0);
  const int32_t *p = op->params;
  if (op->n_in != 1 || op->n_out != 1 || op->n_params != Q_WORDS || p[Q_COUNT] < 0) return 0;
  if ((out_type != RUNE_DTYPE_I8 && out_type != RUNE_DTYPE_I16) || p[Q_ZP] < type_min(out_type) || p[Q_ZP] > type_max(out_type))
    return 0;
  return rune_check_in(e, op, 0, RUNE_DTYPE_F32, (uint64_t)p[Q_COUNT]) &&
         rune_check_out(e, op, 0, out_type, (uint64_t)p[Q_COUNT]);
}

/* AffineQuantize: round(x / scale) + zero_point, clamped; done in float like TFLM. */
void rune_quantize_f32_eval(const rune_engine *e, const rune_op *op) {
  const int32_t *p = op->params;
  const uint8_t out_type = rune_out_dtype(e, op, 0);
  const float scale = rune_word_f32(p[Q_SCALE]);
  const int32_t lo = type_min(out_type), hi = type_max(out_type);
  const float *input = (const float *)rune_in(e, op, 0);
  void *output = rune_out(e, op, 0);
  int32_t i;
  for (i = 0; i < p[Q_COUNT]; ++i) {
    const float q = roundf(input[i] / scale);
    /* out-of-range (and NaN) values saturate instead of overflowing the conversion */
    const int32_t v = q >= 2147483520.f ? RQ_INT32_MAX : (q >= -2147483648.f ? (int32_t)q : RQ_INT32_MIN);
    store_int(output, out_type, i, rq_clamp(rq_sat_add(v, p[Q_ZP]), lo, hi));
  }
}

int rune_requantize_check(const rune_engine *e, const rune_op *op) {
  const uint8_t in_type = rune_in_dtype(e, op, 0), out_type = rune_out_dtype(e, op, 0);
  const int32_t *p = op->params;
  if (op->n_in != 1 || op->n_out != 1 || op->n_params != R_WORDS || p[R_COUNT] < 0) return 0;
  if (!is_int_type(in_type) || !is_int_type(out_type)) return 0;
  if (p[R_IN_ZP] < type_min(in_type) || p[R_IN_ZP] > type_max(in_type) || p[R_OUT_ZP] < type_min(out_type) ||
      p[R_OUT_ZP] > type_max(out_type) || !rune_check_multipliers(p + R_MULT, p + R_SHIFT, 1))
    return 0;
  if (p[R_MIN] < type_min(out_type) || p[R_MAX] > type_max(out_type) || p[R_MIN] > p[R_MAX]) return 0;
  return rune_check_in(e, op, 0, in_type, (uint64_t)p[R_COUNT]) &&
         rune_check_out(e, op, 0, out_type, (uint64_t)p[R_COUNT]);
}

void rune_requantize_eval(const rune_engine *e, const rune_op *op) {
  const int32_t *p = op->params;
  const uint8_t in_type = rune_in_dtype(e, op, 0), out_type = rune_out_dtype(e, op, 0);
  const int32_t lo = p[R_MIN], hi = p[R_MAX];
  const void *input = rune_in(e, op, 0);
  void *output = rune_out(e, op, 0);
  int32_t i;
  for (i = 0; i < p[R_COUNT]; ++i) {
    const int32_t x = rq_wsub(load_int(input, in_type, i), p[R_IN_ZP]);
    store_int(output, out_type, i, rq_clamp(rq_wadd(rq_mul(x, p[R_MULT], p[R_SHIFT]), p[R_OUT_ZP]), lo, hi));
  }
}

int rune_dequantize_check(const rune_engine *e, const rune_op *op) {
  const uint8_t in_type = rune_in_dtype(e, op, 0);
  const int32_t *p = op->params;
  if (op->n_in != 1 || op->n_out != 1) return 0;
  if (in_type == RUNE_DTYPE_I16 ? op->n_params != D_WORDS : (!rune_is_quant8(in_type) || op->n_params != D_TABLE_WORDS))
    return 0;
  if (p[D_COUNT] < 0) return 0;
  return rune_check_in(e, op, 0, in_type, (uint64_t)p[D_COUNT]) &&
         rune_check_out(e, op, 0, RUNE_DTYPE_F32, (uint64_t)p[D_COUNT]);
}

/* float(double scale * (x - zero_point)); 8-bit inputs use the planner's exact table. */
void rune_dequantize_eval(const rune_engine *e, const rune_op *op) {
  const int32_t *p = op->params;
  const uint8_t in_type = rune_in_dtype(e, op, 0);
  const void *input = rune_in(e, op, 0);
  float *output = (float *)rune_out(e, op, 0);
  int32_t i;
  if (in_type == RUNE_DTYPE_I16) {
    double scale;
    uint32_t words[2];
    words[0] = (uint32_t)p[D_SCALE_LO];
    words[1] = (uint32_t)p[D_SCALE_HI];
    memcpy(&scale, words, sizeof scale);
    for (i = 0; i < p[D_COUNT]; ++i) output[i] = (float)(scale * (double)(((const int16_t *)input)[i] - p[D_ZP]));
  } else {
    const uint8_t *bytes = (const uint8_t *)input;
    for (i = 0; i < p[D_COUNT]; ++i) output[i] = rune_word_f32(p[D_WORDS + bytes[i]]);
  }
}
