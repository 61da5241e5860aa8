/* CONV_2D, float32 and int8 (per-channel multipliers; grouped convolution allowed).
 * Operands: input, filter [OC, FH, FW, IC/groups], bias (optional), output.
 * Params: window.h geometry (X = filter input depth), then
 *   f32: act_min, act_max          int8: in_off, out_off, act_min, act_max, mult[OC], shift[OC]
 * Output pixels are produced in raster order, all reads of a pixel before any write
 * of a later one: the planner's in-place overlap relies on this. */
#include "kernels.h"
#include "qmath.h"
#include "simd.h"
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
  if (op->n_tmp > 1 || (op->n_tmp == 1 && !rune_check_tmp(e, op, 0, 5 * (uint64_t)w[W_OC]))) return 0;
  return rune_check_multipliers(w + C_MULT, w + C_MULT + w[W_OC], (uint32_t)w[W_OC]);
}

/* An int8 convolution's parameters as locals: the kernel's int8 stores may alias anything, so
   values read through the plan's pointer would be read again after every store. */
typedef struct {
  int32_t in_h, in_w, in_c, f_h, f_w, f_c, out_h, out_c, d_h, d_w, per_group;
  uint32_t in_pair;
  const int8_t *filter;
  rq_channels q;
} conv_i8;

/* Any geometry: each output channel (two at a time when they share their input group) is a sum
   over the valid taps of dot products across the filter's depth; the taps of a row are one
   contiguous run in input and filter when the filter is undilated and takes all channels. */
static void conv_i8_pixel(const conv_i8 *c, const int8_t *image, int32_t y0, int32_t x0, int8_t *out_px) {
  const int32_t in_w = c->in_w, in_c = c->in_c, f_h = c->f_h, f_w = c->f_w, f_c = c->f_c;
  const int contiguous = c->d_w == 1 && f_c == in_c;
  int32_t fy_first, fy_last, fx_first, fx_last, oc, fy, fx;
  rune_valid_taps(y0, f_h, c->d_h, c->in_h, &fy_first, &fy_last);
  rune_valid_taps(x0, f_w, c->d_w, in_w, &fx_first, &fx_last);
  for (oc = 0; oc < c->out_c;) {
    const int32_t c0 = (oc / c->per_group) * f_c;
    const int paired = oc + 1 < c->out_c && oc / c->per_group == (oc + 1) / c->per_group;
    int32_t acc[2] = {0, 0};
    for (fy = fy_first; fy < fy_last; ++fy) {
      const int8_t *row = image + (y0 + c->d_h * fy) * in_w * in_c + c0;
      const int8_t *f0 = c->filter + ((oc * f_h + fy) * f_w) * f_c;
      for (fx = fx_first; fx < fx_last; fx = contiguous ? fx_last : fx + 1) {
        const int32_t n = contiguous ? (fx_last - fx_first) * f_c : f_c;
        const int8_t *in_px = row + (x0 + c->d_w * fx) * in_c;
        if (paired)
          rs_dot_1x2(in_px, c->in_pair, f0 + fx * f_c, f0 + f_h * f_w * f_c + fx * f_c, 0, n, acc);
        else
          acc[0] = rs_dot(in_px, c->in_pair, f0 + fx * f_c, 0, n, acc[0]);
      }
    }
    out_px[oc] = rq_channel_output(&c->q, oc, acc[0]);
    if (paired) out_px[oc + 1] = rq_channel_output(&c->q, oc + 1, acc[1]);
    oc += 1 + paired;
  }
}

/* 1x1 filters over all channels (MobileNet's pointwise convolutions, most of its work), with
   the planner's scratch of 5 * out_c bytes: two output pixels at a time, as a 2x2 block product
   of pixels and filter rows. The input offset's share of each sum, offset * (sum of the filter
   row), is added with the bias once per channel (sums wrap the same in any order). The second
   pixel's outputs wait in scratch until the first pixel's reads are done: the planner may
   overlap the output with the input, relying on raster order. */
static void conv_i8_pointwise(const conv_i8 *c, const int8_t *image, int8_t *out_image, int32_t out_w, int32_t s_h,
                              int32_t s_w, int32_t in_off, uint8_t *scratch) {
  const int32_t in_c = c->in_c, out_c = c->out_c, pixels = c->out_h * out_w;
  int32_t *sums = (int32_t *)(void *)scratch;
  int8_t *later = (int8_t *)scratch + 4 * out_c;
  int32_t oc, p;
  for (oc = 0; oc < out_c; ++oc)
    sums[oc] = rq_wadd(c->q.bias ? c->q.bias[oc] : 0, rq_wmul(in_off, rs_sum(c->filter + oc * in_c, in_c)));
  for (p = 0; p < pixels; p += 2) {
    const int32_t q = p + 1 < pixels ? p + 1 : p; /* an odd last pixel is computed twice */
    const int8_t *x0 = image + ((p / out_w) * s_h * c->in_w + (p % out_w) * s_w) * in_c;
    const int8_t *x1 = image + ((q / out_w) * s_h * c->in_w + (q % out_w) * s_w) * in_c;
    int8_t *out0 = out_image + p * out_c;
    const int8_t *f = c->filter;
    for (oc = 0; oc < out_c; oc += 2, f += 2 * in_c) {
      const int32_t oc1 = oc + 1 < out_c ? oc + 1 : oc; /* so is an odd last channel */
      int32_t acc[4] = {0, 0, 0, 0};
      if (x1 == x0 + in_c && oc1 == oc + 1)
        rs_dot_2x2_adjacent(x0, f, in_c, in_c, acc);
      else
        rs_dot_2x2(x0, x1, f, c->filter + oc1 * in_c, in_c, acc);
      out0[oc] = rq_channel_output_biased(&c->q, oc, acc[0], sums[oc]);
      later[oc] = rq_channel_output_biased(&c->q, oc, acc[2], sums[oc]);
      out0[oc1] = rq_channel_output_biased(&c->q, oc1, acc[1], sums[oc1]);
      later[oc1] = rq_channel_output_biased(&c->q, oc1, acc[3], sums[oc1]);
    }
    memcpy(out_image + q * out_c, later, (size_t)out_c);
  }
}

void rune_conv_i8_eval(const rune_engine *e, const rune_op *op) {
  const int32_t *w = op->params;
  const int32_t out_h = w[W_OH], out_w = w[W_OW], s_h = w[W_SH], s_w = w[W_SW], p_h = w[W_PH], p_w = w[W_PW];
  const int8_t *input = (const int8_t *)rune_in(e, op, 0);
  int8_t *output = (int8_t *)rune_out(e, op, 0);
  conv_i8 c;
  int32_t b, oy, ox;
  c.in_h = w[W_IH], c.in_w = w[W_IW], c.in_c = w[W_IC], c.f_h = w[W_FH], c.f_w = w[W_FW], c.f_c = w[W_X];
  c.out_h = out_h, c.out_c = w[W_OC], c.d_h = w[W_DH], c.d_w = w[W_DW];
  c.per_group = c.out_c / (c.in_c / c.f_c);
  c.in_pair = rs_pair(w[C_IN_OFF]);
  c.q = rq_channels_of(w + C_MULT, c.out_c, (const int32_t *)rune_in(e, op, 2), w[C_OUT_OFF], w[C_ACT_MIN],
                       w[C_ACT_MAX]);
  c.filter = (const int8_t *)rune_in(e, op, 1);
  for (b = 0; b < w[W_N]; ++b) {
    const int8_t *image = input + b * c.in_h * c.in_w * c.in_c;
    int8_t *out_image = output + b * out_h * out_w * c.out_c;
    /* every output pixel's one tap inside the input (checked: a damaged plan may say otherwise) */
    if (op->n_tmp == 1 && c.f_h == 1 && c.f_w == 1 && c.f_c == c.in_c && p_h == 0 && p_w == 0 &&
        (out_h - 1) * s_h < c.in_h && (out_w - 1) * s_w < c.in_w) {
      conv_i8_pointwise(&c, image, out_image, out_w, s_h, s_w, w[C_IN_OFF], (uint8_t *)rune_tmp(e, op, 0));
      continue;
    }
    for (oy = 0; oy < out_h; ++oy)
      for (ox = 0; ox < out_w; ++ox)
        conv_i8_pixel(&c, image, oy * s_h - p_h, ox * s_w - p_w, out_image + (oy * out_w + ox) * c.out_c);
  }
}
