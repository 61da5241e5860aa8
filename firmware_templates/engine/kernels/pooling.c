/* AVERAGE_POOL_2D and MAX_POOL_2D for float32, int8 and int16.
 * Operands: input, output. Params: window.h geometry (IC = OC = channels, no dilation),
 * then act_min, act_max (f32 bits for float). Raster-order output (see conv.c). */
#include "kernels.h"
#include "qmath.h"
#include "window.h"

enum { P_ACT_MIN = W_WORDS, P_ACT_MAX, P_WORDS };

/* Clamped window bounds of one output position. */
typedef struct {
  int32_t y0, x0, fy0, fy1, fx0, fx1;
} span;

static span window_span(const int32_t *w, int32_t oy, int32_t ox) {
  span s;
  s.y0 = oy * w[W_SH] - w[W_PH];
  s.x0 = ox * w[W_SW] - w[W_PW];
  s.fy0 = rq_max(0, -s.y0);
  s.fy1 = rq_min(w[W_FH], w[W_IH] - s.y0);
  s.fx0 = rq_max(0, -s.x0);
  s.fx1 = rq_min(w[W_FW], w[W_IW] - s.x0);
  return s;
}

static int pool_check(const rune_engine *e, const rune_op *op, int is_float) {
  const int32_t *w = op->params;
  uint8_t dtype = rune_in_dtype(e, op, 0);
  if (op->n_in != 1 || op->n_out != 1 || op->n_params != P_WORDS || !rune_window_ok(w)) return 0;
  if (w[W_IC] != w[W_OC] || w[W_DH] != 1 || w[W_DW] != 1 || w[W_X] != 1) return 0;
  /* every window must touch the image (true for SAME/VALID padding) */
  if (w[W_PH] >= w[W_FH] || w[W_PW] >= w[W_FW] || (w[W_OH] - 1) * w[W_SH] - w[W_PH] >= w[W_IH] ||
      (w[W_OW] - 1) * w[W_SW] - w[W_PW] >= w[W_IW])
    return 0;
  if (is_float ? dtype != RUNE_DTYPE_F32 : (dtype != RUNE_DTYPE_I8 && dtype != RUNE_DTYPE_I16)) return 0;
  if (!is_float && w[P_ACT_MIN] > w[P_ACT_MAX]) return 0;
  if (dtype == RUNE_DTYPE_I8 && (w[P_ACT_MIN] < -128 || w[P_ACT_MAX] > 127)) return 0;
  if (dtype == RUNE_DTYPE_I16 && (w[P_ACT_MIN] < -32768 || w[P_ACT_MAX] > 32767)) return 0;
  return rune_check_in(e, op, 0, dtype, rune_window_in_elems(w)) &&
         rune_check_out(e, op, 0, dtype, rune_window_out_elems(w));
}

int rune_avgpool_f32_check(const rune_engine *e, const rune_op *op) { return pool_check(e, op, 1); }
int rune_maxpool_f32_check(const rune_engine *e, const rune_op *op) { return pool_check(e, op, 1); }
int rune_avgpool_q_check(const rune_engine *e, const rune_op *op) { return pool_check(e, op, 0); }
int rune_maxpool_q_check(const rune_engine *e, const rune_op *op) { return pool_check(e, op, 0); }

static float clamp_f32(float v, float lo, float hi) {
  v = v < lo ? lo : v;
  return v > hi ? hi : v;
}

static void pool_f32(const rune_engine *e, const rune_op *op, int average) {
  const int32_t *w = op->params;
  const int32_t in_h = w[W_IH], in_w = w[W_IW], depth = w[W_IC], out_h = w[W_OH], out_w = w[W_OW];
  const float lo = rune_word_f32(w[P_ACT_MIN]), hi = rune_word_f32(w[P_ACT_MAX]);
  const float *input = (const float *)rune_in(e, op, 0);
  float *output = (float *)rune_out(e, op, 0);
  int32_t b, oy, ox, c, fy, fx;
  for (b = 0; b < w[W_N]; ++b)
    for (oy = 0; oy < out_h; ++oy)
      for (ox = 0; ox < out_w; ++ox) {
        const span s = window_span(w, oy, ox);
        for (c = 0; c < depth; ++c) {
          float total = 0.f, count = 0.f, max = -3.40282347e+38f, value;
          for (fy = s.fy0; fy < s.fy1; ++fy)
            for (fx = s.fx0; fx < s.fx1; ++fx) {
              const float v = input[((b * in_h + s.y0 + fy) * in_w + s.x0 + fx) * depth + c];
              total += v;
              count += 1.f;
              max = v > max ? v : max;
            }
          value = average ? total / count : max;
          output[((b * out_h + oy) * out_w + ox) * depth + c] = clamp_f32(value, lo, hi);
        }
      }
}

void rune_avgpool_f32_eval(const rune_engine *e, const rune_op *op) { pool_f32(e, op, 1); }
void rune_maxpool_f32_eval(const rune_engine *e, const rune_op *op) { pool_f32(e, op, 0); }

static int32_t load(const void *data, int wide, int32_t i) {
  return wide ? ((const int16_t *)data)[i] : ((const int8_t *)data)[i];
}

static void pool_q(const rune_engine *e, const rune_op *op, int average) {
  const int32_t *w = op->params;
  const int32_t in_h = w[W_IH], in_w = w[W_IW], depth = w[W_IC], out_h = w[W_OH], out_w = w[W_OW];
  const int32_t lo = w[P_ACT_MIN], hi = w[P_ACT_MAX];
  const int wide = rune_in_dtype(e, op, 0) == RUNE_DTYPE_I16;
  const void *input = rune_in(e, op, 0);
  void *output = rune_out(e, op, 0);
  int32_t b, oy, ox, c, fy, fx;
  for (b = 0; b < w[W_N]; ++b)
    for (oy = 0; oy < out_h; ++oy)
      for (ox = 0; ox < out_w; ++ox) {
        const span s = window_span(w, oy, ox);
        for (c = 0; c < depth; ++c) {
          int32_t acc = 0, count = 0, max = wide ? -32768 : -128, value;
          const int32_t o = ((b * out_h + oy) * out_w + ox) * depth + c;
          for (fy = s.fy0; fy < s.fy1; ++fy)
            for (fx = s.fx0; fx < s.fx1; ++fx) {
              const int32_t v = load(input, wide, ((b * in_h + s.y0 + fy) * in_w + s.x0 + fx) * depth + c);
              acc = rq_wadd(acc, v);
              ++count;
              max = v > max ? v : max;
            }
          /* average rounds half away from zero */
          value = average ? (int32_t)(acc > 0 ? ((int64_t)acc + count / 2) / count
                                              : ((int64_t)acc - count / 2) / count)
                          : max;
          value = rq_clamp(value, lo, hi);
          if (wide)
            ((int16_t *)output)[o] = (int16_t)value;
          else
            ((int8_t *)output)[o] = (int8_t)value;
        }
      }
}

void rune_avgpool_q_eval(const rune_engine *e, const rune_op *op) { pool_q(e, op, 1); }
void rune_maxpool_q_eval(const rune_engine *e, const rune_op *op) { pool_q(e, op, 0); }
