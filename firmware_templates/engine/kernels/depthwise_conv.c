/* DEPTHWISE_CONV_2D, float32 and int8 (per-channel multipliers).
 * Operands: input, filter [1, FH, FW, OC], bias (optional), output.
 * Params: window.h geometry (X = depth multiplier), then
 *   f32: act_min, act_max          int8: in_off, out_off, act_min, act_max, mult[OC], shift[OC]
 * Raster-order output (see conv.c for why that matters). */
#include "kernels.h"
#include "qmath.h"
#include "window.h"

enum { D_F32_MIN = W_WORDS, D_F32_MAX, D_F32_WORDS };
enum { D_IN_OFF = W_WORDS, D_OUT_OFF, D_ACT_MIN, D_ACT_MAX, D_MULT };

static int dw_common_check(const rune_engine *e, const rune_op *op, uint8_t dtype, uint8_t bias_dtype) {
  const int32_t *w = op->params;
  if (op->n_in != 3 || op->n_out != 1 || op->n_params < W_WORDS || !rune_window_ok(w)) return 0;
  if ((uint64_t)w[W_OC] != (uint64_t)w[W_IC] * (uint64_t)w[W_X]) return 0;
  return rune_check_in(e, op, 0, dtype, rune_window_in_elems(w)) &&
         rune_check_in(e, op, 1, dtype == RUNE_DTYPE_F32 ? RUNE_DTYPE_F32 : RUNE_DTYPE_I8,
                       (uint64_t)w[W_FH] * (uint64_t)w[W_FW] * (uint64_t)w[W_OC]) &&
         rune_check_opt_in(e, op, 2, bias_dtype, (uint64_t)w[W_OC]) &&
         rune_check_out(e, op, 0, dtype, rune_window_out_elems(w));
}

int rune_dwconv_f32_check(const rune_engine *e, const rune_op *op) {
  return op->n_params == D_F32_WORDS && dw_common_check(e, op, RUNE_DTYPE_F32, RUNE_DTYPE_F32);
}

void rune_dwconv_f32_eval(const rune_engine *e, const rune_op *op) {
  const int32_t *w = op->params;
  const int32_t in_h = w[W_IH], in_w = w[W_IW], in_c = w[W_IC], f_h = w[W_FH], f_w = w[W_FW];
  const int32_t out_h = w[W_OH], out_w = w[W_OW], out_c = w[W_OC], mult_n = w[W_X];
  const float act_min = rune_word_f32(w[D_F32_MIN]), act_max = rune_word_f32(w[D_F32_MAX]);
  const float *input = (const float *)rune_in(e, op, 0);
  const float *filter = (const float *)rune_in(e, op, 1);
  const float *bias = (const float *)rune_in(e, op, 2);
  float *output = (float *)rune_out(e, op, 0);
  int32_t b, oy, ox, ic, m, fy, fx;
  for (b = 0; b < w[W_N]; ++b) {
    for (oy = 0; oy < out_h; ++oy) {
      const int32_t y0 = oy * w[W_SH] - w[W_PH];
      for (ox = 0; ox < out_w; ++ox) {
        const int32_t x0 = ox * w[W_SW] - w[W_PW];
        for (ic = 0; ic < in_c; ++ic) {
          for (m = 0; m < mult_n; ++m) {
            const int32_t oc = ic * mult_n + m;
            float total = 0.f, value;
            for (fy = 0; fy < f_h; ++fy) {
              const int32_t y = y0 + w[W_DH] * fy;
              for (fx = 0; fx < f_w; ++fx) {
                const int32_t x = x0 + w[W_DW] * fx;
                if (y < 0 || y >= in_h || x < 0 || x >= in_w) continue;
                total += input[((b * in_h + y) * in_w + x) * in_c + ic] * filter[(fy * f_w + fx) * out_c + oc];
              }
            }
            value = total + (bias ? bias[oc] : 0.0f);
            value = value < act_min ? act_min : value;
            output[((b * out_h + oy) * out_w + ox) * out_c + oc] = value > act_max ? act_max : value;
          }
        }
      }
    }
  }
}

int rune_dwconv_i8_check(const rune_engine *e, const rune_op *op) {
  const int32_t *w = op->params;
  if (op->n_params < W_WORDS || op->n_params != D_MULT + 2 * (uint32_t)w[W_OC]) return 0;
  if (!dw_common_check(e, op, RUNE_DTYPE_I8, RUNE_DTYPE_I32)) return 0;
  if (w[D_IN_OFF] < -255 || w[D_IN_OFF] > 255 || w[D_ACT_MIN] < -128 || w[D_ACT_MAX] > 127 ||
      w[D_ACT_MIN] > w[D_ACT_MAX])
    return 0;
  return rune_check_multipliers(w + D_MULT, w + D_MULT + w[W_OC], (uint32_t)w[W_OC]);
}

void rune_dwconv_i8_eval(const rune_engine *e, const rune_op *op) {
  const int32_t *w = op->params;
  const int32_t in_h = w[W_IH], in_w = w[W_IW], in_c = w[W_IC], f_h = w[W_FH], f_w = w[W_FW];
  const int32_t out_h = w[W_OH], out_w = w[W_OW], out_c = w[W_OC], mult_n = w[W_X];
  const int32_t in_off = w[D_IN_OFF], out_off = w[D_OUT_OFF], act_min = w[D_ACT_MIN], act_max = w[D_ACT_MAX];
  const int32_t *mult = w + D_MULT, *shift = mult + out_c;
  const int8_t *input = (const int8_t *)rune_in(e, op, 0);
  const int8_t *filter = (const int8_t *)rune_in(e, op, 1);
  const int32_t *bias = (const int32_t *)rune_in(e, op, 2);
  int8_t *output = (int8_t *)rune_out(e, op, 0);
  int32_t b, oy, ox, ic, m, fy, fx;
  for (b = 0; b < w[W_N]; ++b) {
    for (oy = 0; oy < out_h; ++oy) {
      const int32_t y0 = oy * w[W_SH] - w[W_PH];
      for (ox = 0; ox < out_w; ++ox) {
        const int32_t x0 = ox * w[W_SW] - w[W_PW];
        for (ic = 0; ic < in_c; ++ic) {
          for (m = 0; m < mult_n; ++m) {
            const int32_t oc = ic * mult_n + m;
            int32_t acc = 0;
            for (fy = 0; fy < f_h; ++fy) {
              const int32_t y = y0 + w[W_DH] * fy;
              for (fx = 0; fx < f_w; ++fx) {
                const int32_t x = x0 + w[W_DW] * fx;
                if (y < 0 || y >= in_h || x < 0 || x >= in_w) continue;
                acc = rq_wadd(acc, filter[(fy * f_w + fx) * out_c + oc] *
                                       (input[((b * in_h + y) * in_w + x) * in_c + ic] + in_off));
              }
            }
            if (bias) acc = rq_wadd(acc, bias[oc]);
            acc = rq_wadd(rq_mul(acc, mult[oc], shift[oc]), out_off);
            output[((b * out_h + oy) * out_w + ox) * out_c + oc] = (int8_t)rq_clamp(acc, act_min, act_max);
          }
        }
      }
    }
  }
}
