/* DEPTHWISE_CONV_2D, float32 and int8 (per-channel multipliers).
 * Operands: input, filter [1, FH, FW, OC], bias (optional), output.
 * Params: window.h geometry (X = depth multiplier), then
 *   f32: act_min, act_max          int8: in_off, out_off, act_min, act_max, mult[OC], shift[OC]
 * Raster-order output (see conv.c for why that matters). */
#include "kernels.h"
#include "qmath.h"
#include "simd.h"
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

/* An int8 depthwise convolution's parameters as locals (int8 stores may alias the plan). */
typedef struct {
  int32_t in_h, in_w, in_c, f_h, f_w, out_c, mult_n, d_h, d_w, in_off;
  uint32_t in_pair;
  const int8_t *filter;
  rq_channels q;
} dwconv_i8;

/* The valid taps of one output pixel: `rows` x `cols` taps starting at `in` (channel 0) and
   `f` (output channel 0); steps between rows and columns in each. */
typedef struct {
  const int8_t *in, *f;
  int32_t rows, cols, in_row, in_col, f_row, f_col;
} dw_taps;

/* Output channels [oc, oc + 4) in the lanes of four accumulators (lane k is channel oc + k),
   each with its own input channel (depth multiplier 1): four input and four filter bytes per tap. */
static void dwconv_i8_quad(const dw_taps *t, int32_t oc, uint32_t in_pair, int32_t acc[4]) {
  int32_t r;
  acc[0] = acc[1] = acc[2] = acc[3] = 0;
  for (r = 0; r < t->rows; ++r) {
    const int8_t *in = t->in + r * t->in_row + oc, *f = t->f + r * t->f_row + oc;
    if (t->in_col == t->f_col)
      rs_dw_row4_same_step(in, f, t->in_col, t->cols, in_pair, acc);
    else
      rs_dw_row4(in, t->in_col, f, t->f_col, t->cols, in_pair, acc);
  }
}

/* The same for one input channel feeding every output channel (input depth 1): one input byte
   in both lanes against four filter bytes. A loop of its own: folding it into rs_dw_row4 behind
   a flag cost micro_speech's model 9% more instructions on a Cortex-M4. */
static void dwconv_i8_quad_shared(const dw_taps *t, int32_t oc, int32_t in_off, int32_t acc[4]) {
  int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0, r, k;
  for (r = 0; r < t->rows; ++r) {
    const int8_t *in = t->in + r * t->in_row, *f = t->f + r * t->f_row + oc;
    const int32_t in_col = t->in_col, f_col = t->f_col;
    for (k = 0; k < t->cols; ++k) {
      const uint32_t x = rs_pair(in[k * in_col] + in_off);
      uint32_t f_lo, f_hi;
      rs_expand_plain(rs_load4(f + k * f_col), &f_lo, &f_hi);
      a0 = rs_smlabb(x, f_lo, a0);
      a2 = rs_smlatt(x, f_lo, a2);
      a1 = rs_smlabb(x, f_hi, a1);
      a3 = rs_smlatt(x, f_hi, a3);
    }
  }
  acc[0] = a0, acc[1] = a1, acc[2] = a2, acc[3] = a3;
}

/* One output channel of one output pixel. */
static void dwconv_i8_single(const dwconv_i8 *d, const int8_t *image, int32_t oc, int32_t y0, int32_t x0,
                             int32_t fy_first, int32_t fy_last, int32_t fx_first, int32_t fx_last, int8_t *out_px) {
  const int32_t ic = oc / d->mult_n;
  int32_t acc = 0, fy, fx;
  for (fy = fy_first; fy < fy_last; ++fy) {
    const int8_t *row = image + (y0 + d->d_h * fy) * d->in_w * d->in_c + ic;
    for (fx = fx_first; fx < fx_last; ++fx)
      acc = rq_wadd(acc, d->filter[(fy * d->f_w + fx) * d->out_c + oc] * (row[(x0 + d->d_w * fx) * d->in_c] + d->in_off));
  }
  out_px[oc] = rq_channel_output(&d->q, oc, acc);
}

void rune_dwconv_i8_eval(const rune_engine *e, const rune_op *op) {
  const int32_t *w = op->params;
  const int32_t out_h = w[W_OH], out_w = w[W_OW], s_h = w[W_SH], s_w = w[W_SW], p_h = w[W_PH], p_w = w[W_PW];
  const int8_t *input = (const int8_t *)rune_in(e, op, 0);
  int8_t *output = (int8_t *)rune_out(e, op, 0);
  dwconv_i8 d;
  int32_t b, oy, ox, oc, quads, fy_first, fy_last, fx_first, fx_last;
  d.in_h = w[W_IH], d.in_w = w[W_IW], d.in_c = w[W_IC], d.f_h = w[W_FH], d.f_w = w[W_FW], d.out_c = w[W_OC];
  d.mult_n = w[W_X], d.d_h = w[W_DH], d.d_w = w[W_DW];
  d.in_off = w[D_IN_OFF], d.in_pair = rs_pair(d.in_off);
  d.q = rq_channels_of(w + D_MULT, d.out_c, (const int32_t *)rune_in(e, op, 2), w[D_OUT_OFF], w[D_ACT_MIN],
                       w[D_ACT_MAX]);
  d.filter = (const int8_t *)rune_in(e, op, 1);
  /* lanes of four channels need the four to read four neighbouring inputs, or one */
  quads = d.mult_n == 1 || d.in_c == 1 ? d.out_c / 4 : 0;
  for (b = 0; b < w[W_N]; ++b) {
    const int8_t *image = input + b * d.in_h * d.in_w * d.in_c;
    for (oy = 0; oy < out_h; ++oy) {
      const int32_t y0 = oy * s_h - p_h;
      rune_valid_taps(y0, d.f_h, d.d_h, d.in_h, &fy_first, &fy_last);
      for (ox = 0; ox < out_w; ++ox) {
        const int32_t x0 = ox * s_w - p_w;
        int8_t *out_px = output + ((b * out_h + oy) * out_w + ox) * d.out_c;
        rune_valid_taps(x0, d.f_w, d.d_w, d.in_w, &fx_first, &fx_last);
        if (quads && fy_first < fy_last && fx_first < fx_last) {
          dw_taps t;
          t.in = image + ((y0 + d.d_h * fy_first) * d.in_w + x0 + d.d_w * fx_first) * d.in_c;
          t.f = d.filter + (fy_first * d.f_w + fx_first) * d.out_c;
          t.rows = fy_last - fy_first, t.cols = fx_last - fx_first;
          t.in_row = d.d_h * d.in_w * d.in_c, t.in_col = d.d_w * d.in_c;
          t.f_row = d.f_w * d.out_c, t.f_col = d.out_c;
          for (oc = 0; oc < quads * 4; oc += 4) {
            int32_t acc[4], k;
            if (d.mult_n == 1)
              dwconv_i8_quad(&t, oc, d.in_pair, acc);
            else
              dwconv_i8_quad_shared(&t, oc, d.in_off, acc);
            for (k = 0; k < 4; ++k) out_px[oc + k] = rq_channel_output(&d.q, oc + k, acc[k]);
          }
        } else {
          for (oc = 0; oc < quads * 4; ++oc) /* no valid tap: bias only */
            out_px[oc] = rq_channel_output(&d.q, oc, 0);
        }
        for (; oc < d.out_c; ++oc)
          dwconv_i8_single(&d, image, oc, y0, x0, fy_first, fy_last, fx_first, fx_last, out_px);
      }
    }
  }
}
