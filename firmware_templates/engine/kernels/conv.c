/* CONV_2D, float32 and int8 (per-channel multipliers; grouped convolution allowed).
 * Operands: input, filter [OC, FH, FW, IC/groups], bias (optional), output.
 * Params: window.h geometry (X = filter input depth), then
 *   f32: act_min, act_max          int8: in_off, out_off, act_min, act_max, mult[OC], shift[OC]
 * Output pixels are produced in raster order, all reads of a pixel before any write
 * of a later one: the planner's in-place overlap relies on this. */
#include "kernels.h"
#include "qmath.h"
#include "window.h"

enum { C_F32_MIN = W_WORDS, C_F32_MAX, C_F32_WORDS };
enum { C_IN_OFF = W_WORDS, C_OUT_OFF, C_ACT_MIN, C_ACT_MAX, C_MULT };

static int conv_common_check(const rune_engine *e, const rune_op *op, uint8_t dtype, uint8_t bias_dtype) {
  const int32_t *w = op->params;
  int32_t groups;
  if (op->n_in != 3 || op->n_out != 1 || op->n_params < W_WORDS || !rune_window_ok(w)) return 0;
  if (w[W_IC] % w[W_X] != 0) return 0;
  groups = w[W_IC] / w[W_X];
  if (w[W_OC] % groups != 0) return 0;
  return rune_check_in(e, op, 0, dtype, rune_window_in_elems(w)) &&
         rune_check_in(e, op, 1, dtype == RUNE_DTYPE_F32 ? RUNE_DTYPE_F32 : RUNE_DTYPE_I8,
                       (uint64_t)w[W_OC] * (uint64_t)w[W_FH] * (uint64_t)w[W_FW] * (uint64_t)w[W_X]) &&
         rune_check_opt_in(e, op, 2, bias_dtype, (uint64_t)w[W_OC]) &&
         rune_check_out(e, op, 0, dtype, rune_window_out_elems(w));
}

int rune_conv_f32_check(const rune_engine *e, const rune_op *op) {
  return op->n_params == C_F32_WORDS && conv_common_check(e, op, RUNE_DTYPE_F32, RUNE_DTYPE_F32);
}

void rune_conv_f32_eval(const rune_engine *e, const rune_op *op) {
  const int32_t *w = op->params;
  const int32_t in_h = w[W_IH], in_w = w[W_IW], in_c = w[W_IC], f_h = w[W_FH], f_w = w[W_FW];
  const int32_t out_h = w[W_OH], out_w = w[W_OW], out_c = w[W_OC], f_c = w[W_X];
  const int32_t per_group = out_c / (in_c / f_c);
  const float act_min = rune_word_f32(w[C_F32_MIN]), act_max = rune_word_f32(w[C_F32_MAX]);
  const float *input = (const float *)rune_in(e, op, 0);
  const float *filter = (const float *)rune_in(e, op, 1);
  const float *bias = (const float *)rune_in(e, op, 2);
  float *output = (float *)rune_out(e, op, 0);
  int32_t b, oy, ox, oc, fy, fx, ic;
  for (b = 0; b < w[W_N]; ++b) {
    for (oy = 0; oy < out_h; ++oy) {
      const int32_t y0 = oy * w[W_SH] - w[W_PH];
      for (ox = 0; ox < out_w; ++ox) {
        const int32_t x0 = ox * w[W_SW] - w[W_PW];
        for (oc = 0; oc < out_c; ++oc) {
          const int32_t c0 = (oc / per_group) * f_c;
          float total = 0.f, value;
          for (fy = 0; fy < f_h; ++fy) {
            const int32_t y = y0 + w[W_DH] * fy;
            for (fx = 0; fx < f_w; ++fx) {
              const int32_t x = x0 + w[W_DW] * fx;
              const float *in_px, *f_px;
              if (y < 0 || y >= in_h || x < 0 || x >= in_w) continue;
              in_px = input + ((b * in_h + y) * in_w + x) * in_c + c0;
              f_px = filter + ((oc * f_h + fy) * f_w + fx) * f_c;
              for (ic = 0; ic < f_c; ++ic) total += in_px[ic] * f_px[ic];
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

int rune_conv_i8_check(const rune_engine *e, const rune_op *op) {
  const int32_t *w = op->params;
  if (op->n_params < W_WORDS || op->n_params != C_MULT + 2 * (uint32_t)w[W_OC]) return 0;
  if (!conv_common_check(e, op, RUNE_DTYPE_I8, RUNE_DTYPE_I32)) return 0;
  if (w[C_IN_OFF] < -255 || w[C_IN_OFF] > 255 || w[C_ACT_MIN] < -128 || w[C_ACT_MAX] > 127 ||
      w[C_ACT_MIN] > w[C_ACT_MAX])
    return 0;
  return rune_check_multipliers(w + C_MULT, w + C_MULT + w[W_OC], (uint32_t)w[W_OC]);
}

void rune_conv_i8_eval(const rune_engine *e, const rune_op *op) {
  const int32_t *w = op->params;
  const int32_t in_h = w[W_IH], in_w = w[W_IW], in_c = w[W_IC], f_h = w[W_FH], f_w = w[W_FW];
  const int32_t out_h = w[W_OH], out_w = w[W_OW], out_c = w[W_OC], f_c = w[W_X];
  const int32_t per_group = out_c / (in_c / f_c);
  const int32_t in_off = w[C_IN_OFF], out_off = w[C_OUT_OFF], act_min = w[C_ACT_MIN], act_max = w[C_ACT_MAX];
  const int32_t *mult = w + C_MULT, *shift = mult + out_c;
  const int8_t *input = (const int8_t *)rune_in(e, op, 0);
  const int8_t *filter = (const int8_t *)rune_in(e, op, 1);
  const int32_t *bias = (const int32_t *)rune_in(e, op, 2);
  int8_t *output = (int8_t *)rune_out(e, op, 0);
  int32_t b, oy, ox, oc, fy, fx, ic;
  for (b = 0; b < w[W_N]; ++b) {
    for (oy = 0; oy < out_h; ++oy) {
      const int32_t y0 = oy * w[W_SH] - w[W_PH];
      for (ox = 0; ox < out_w; ++ox) {
        const int32_t x0 = ox * w[W_SW] - w[W_PW];
        for (oc = 0; oc < out_c; ++oc) {
          const int32_t c0 = (oc / per_group) * f_c;
          int32_t acc = 0;
          for (fy = 0; fy < f_h; ++fy) {
            const int32_t y = y0 + w[W_DH] * fy;
            for (fx = 0; fx < f_w; ++fx) {
              const int32_t x = x0 + w[W_DW] * fx;
              const int8_t *in_px, *f_px;
              if (y < 0 || y >= in_h || x < 0 || x >= in_w) continue;
              in_px = input + ((b * in_h + y) * in_w + x) * in_c + c0;
              f_px = filter + ((oc * f_h + fy) * f_w + fx) * f_c;
              for (ic = 0; ic < f_c; ++ic) acc = rq_wadd(acc, f_px[ic] * (in_px[ic] + in_off));
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
