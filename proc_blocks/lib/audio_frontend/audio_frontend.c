/*
 * audio_frontend.c - see audio_frontend.h and NOTES.md.
 *
 * Original implementation written from the arithmetic specification in
 * NOTES.md.  Portable C99: no reliance on implementation-defined signed
 * right shifts or narrowing conversions, no signed overflow (all wrap-around
 * that the reference performs is done explicitly in unsigned arithmetic).
 */
#include "audio_frontend.h"

#define AF_MAX_STAGES 16

/* ------------------------------------------------------------ helpers -- */

/* Two's complement wrap of an int32 value to the int16 range. */
static int32_t af_w16(int32_t v) {
  return (int32_t)(((uint32_t)v + 0x8000u) & 0xFFFFu) - 0x8000;
}

/* Two's complement wrap of an int64 value to the int32 range. */
static int32_t af_w32(int64_t v) {
  uint32_t u = (uint32_t)((uint64_t)v & 0xFFFFFFFFu);
  return (u & 0x80000000u) ? -(int32_t)(~u) - 1 : (int32_t)u;
}

/* Arithmetic (flooring) right shift of a signed value. C leaves >> on negative values to the
 * implementation; every compiler Rune uses (gcc, clang) defines it as arithmetic, and this
 * declaration fails to compile on one that does not. */
typedef char af_requires_arithmetic_shift[((-1) >> 1) == -1 ? 1 : -1];
static int32_t af_asr(int32_t v, int s) { return v >> s; }

/* Number of significant bits of x (1..32), 0 for x == 0. */
static int32_t af_bits32(uint32_t x) {
  int32_t n = 0;
  if (x >= 0x10000u) { x >>= 16; n += 16; }
  if (x >= 0x100u) { x >>= 8; n += 8; }
  if (x >= 0x10u) { x >>= 4; n += 4; }
  if (x >= 0x4u) { x >>= 2; n += 2; }
  if (x >= 0x2u) { x >>= 1; n += 1; }
  return n + (int32_t)x;
}

static int af_is_aligned4(const void *p) {
  return ((uintptr_t)p & 3u) == 0;
}

/* ------------------------------------------------------------ copying -- */

/* af_copy's and af_zero's loops must not become calls to the C library's
 * memcpy, memmove or memset, as clang (the rune's compiler) and gcc make them:
 * inside a rune (wasm32 MVP, no bulk-memory instructions) those may copy or
 * fill one byte at a time.  Only these two small functions carry it (in the
 * others it would also keep small functions from being inlined), and they are
 * never inlined: in a caller without it, the loops would become calls again. */
#if defined(__clang__)
#define AF_NO_LIBC_LOOPS \
  __attribute__((noinline, no_builtin("memcpy"), no_builtin("memmove"), no_builtin("memset")))
#elif defined(__GNUC__)
#define AF_NO_LIBC_LOOPS __attribute__((noinline, optimize("no-tree-loop-distribute-patterns")))
#else
#define AF_NO_LIBC_LOOPS
#endif

/* Element types that may alias anything: af_copy and af_zero move int8, int16
 * and int32 data as words, which the callers then read as what they are. */
#if defined(__GNUC__)
typedef uint32_t af_word __attribute__((may_alias));
typedef uint16_t af_half __attribute__((may_alias));
#else
typedef uint32_t af_word;
typedef uint16_t af_half;
#endif

AF_NO_LIBC_LOOPS void af_copy(void *dst, const void *src, size_t bytes) {
  const uintptr_t both = (uintptr_t)dst | (uintptr_t)src | (uintptr_t)bytes;
  size_t i;
  if ((both & 3u) == 0) {
    af_word *d = (af_word *)dst;
    const af_word *s = (const af_word *)src;
    const size_t words = bytes / 4u;
    /* four words an iteration: a quarter of the loop's overhead (a 40-channel row is 10 words) */
    for (i = 0; i + 4u <= words; i += 4u) {
      const af_word a = s[i], b = s[i + 1u], c = s[i + 2u], e = s[i + 3u];
      d[i] = a;
      d[i + 1u] = b;
      d[i + 2u] = c;
      d[i + 3u] = e;
    }
    for (; i < words; ++i) d[i] = s[i];
  } else if ((both & 1u) == 0) {
    af_half *d = (af_half *)dst;
    const af_half *s = (const af_half *)src;
    for (i = 0; i < bytes / 2u; ++i) d[i] = s[i];
  } else {
    uint8_t *d = (uint8_t *)dst;
    const uint8_t *s = (const uint8_t *)src;
    for (i = 0; i < bytes; ++i) d[i] = s[i];
  }
}

AF_NO_LIBC_LOOPS void af_zero(void *dst, size_t bytes) {
  const uintptr_t both = (uintptr_t)dst | (uintptr_t)bytes;
  size_t i;
  if ((both & 3u) == 0) {
    af_word *d = (af_word *)dst;
    for (i = 0; i < bytes / 4u; ++i) d[i] = 0;
  } else if ((both & 1u) == 0) { /* odd sample counts: 22050 Hz in 30 ms windows, 11025 Hz in 40 ms */
    af_half *d = (af_half *)dst;
    for (i = 0; i < bytes / 2u; ++i) d[i] = 0;
  } else {
    uint8_t *d = (uint8_t *)dst;
    for (i = 0; i < bytes; ++i) d[i] = 0;
  }
}

/* --------------------------------------------------- fixed-point FFT -- */

/* Q15 rounding of a product sum, stored to int16 (wrapping). */
static int32_t af_q15(int32_t prod) { return af_w16(af_asr(prod + 16384, 15)); }

/* Division by the radix as the 16-bit fixed-point FFT does it: x * (32767 / radix) in Q15
 * with rounding (not an exact division). */
static int32_t af_div2(int32_t x) { return af_q15(x * (32767 / 2)); }
static int32_t af_div4(int32_t x) { return af_q15(x * (32767 / 4)); }

typedef struct {
  int32_t n;  /* stages */
  int32_t p[AF_MAX_STAGES];
  int32_t m[AF_MAX_STAGES];
  int32_t stride[AF_MAX_STAGES];
} af_plan;

/* n must be a power of two >= 2.  Radix 4 while possible, then radix 2. */
static void af_make_plan(int32_t n, af_plan *pl) {
  int32_t s = 1;
  pl->n = 0;
  while (n > 1 && pl->n < AF_MAX_STAGES) {
    int32_t r = (n % 4 == 0) ? 4 : 2;
    n /= r;
    pl->p[pl->n] = r;
    pl->m[pl->n] = n;
    pl->stride[pl->n] = s;
    s *= r;
    pl->n++;
  }
}

/* Complex FFT of n points, decimation in time, out of place.
 * in/out: interleaved (re, im) int16; tw: [n][2] Q15 (cos, sin) of
 * -2*pi*i/n.  Every stage scales by 1/radix. */
static void af_cfft(const int16_t *tw, int32_t n, const int16_t *in,
                    int16_t *out) {
  af_plan pl;
  int32_t j, l;
  af_make_plan(n, &pl);

  /* Input reordering (mixed-radix digit reversal): j = sum q[l] m[l] reads from
   * src = sum q[l] stride[l]; the digits q[l] count like an odometer as j goes up. */
  {
    int32_t q[AF_MAX_STAGES], src = 0;
    af_zero(q, sizeof q);
    for (j = 0; j < n; ++j) {
      out[2 * j] = in[2 * src];
      out[2 * j + 1] = in[2 * src + 1];
      for (l = pl.n - 1; l >= 0; --l) { /* the last digit has weight m = 1 */
        src += pl.stride[l];
        if (++q[l] < pl.p[l]) break;
        src -= pl.p[l] * pl.stride[l];
        q[l] = 0;
      }
    }
  }

  /* Butterfly stages, innermost (smallest) first. */
  for (l = pl.n - 1; l >= 0; --l) {
    const int32_t P = pl.p[l], M = pl.m[l], S = pl.stride[l];
    int32_t b, u;
    for (b = 0; b < S; ++b) {
      int16_t *blk = out + 2 * (b * P * M);
      for (u = 0; u < M; ++u) {
        int16_t *e0 = blk + 2 * u;
        if (P == 2) {
          int16_t *e1 = e0 + 2 * M;
          const int16_t *t = tw + 2 * (u * S);
          int32_t ar = af_div2(e0[0]), ai = af_div2(e0[1]);
          int32_t br = af_div2(e1[0]), bi = af_div2(e1[1]);
          int32_t pr = af_q15(br * t[0] - bi * t[1]);
          int32_t pi = af_q15(br * t[1] + bi * t[0]);
          e1[0] = (int16_t)af_w16(ar - pr);
          e1[1] = (int16_t)af_w16(ai - pi);
          e0[0] = (int16_t)af_w16(ar + pr);
          e0[1] = (int16_t)af_w16(ai + pi);
        } else {
          int16_t *e1 = e0 + 2 * M, *e2 = e0 + 4 * M, *e3 = e0 + 6 * M;
          const int16_t *t1 = tw + 2 * (u * S);
          const int16_t *t2 = tw + 2 * (2 * u * S);
          const int16_t *t3 = tw + 2 * (3 * u * S);
          int32_t x0r = af_div4(e0[0]), x0i = af_div4(e0[1]);
          int32_t x1r = af_div4(e1[0]), x1i = af_div4(e1[1]);
          int32_t x2r = af_div4(e2[0]), x2i = af_div4(e2[1]);
          int32_t x3r = af_div4(e3[0]), x3i = af_div4(e3[1]);
          /* twiddled odd terms */
          int32_t ar = af_q15(x1r * t1[0] - x1i * t1[1]);
          int32_t ai = af_q15(x1r * t1[1] + x1i * t1[0]);
          int32_t br = af_q15(x2r * t2[0] - x2i * t2[1]);
          int32_t bi = af_q15(x2r * t2[1] + x2i * t2[0]);
          int32_t cr = af_q15(x3r * t3[0] - x3i * t3[1]);
          int32_t ci = af_q15(x3r * t3[1] + x3i * t3[0]);
          /* combine; every intermediate is an int16 */
          int32_t dr = af_w16(x0r - br), di = af_w16(x0i - bi);
          int32_t sr = af_w16(x0r + br), si = af_w16(x0i + bi);
          int32_t pr = af_w16(ar + cr), pi = af_w16(ai + ci);
          int32_t qr = af_w16(ar - cr), qi = af_w16(ai - ci);
          e2[0] = (int16_t)af_w16(sr - pr);
          e2[1] = (int16_t)af_w16(si - pi);
          e0[0] = (int16_t)af_w16(sr + pr);
          e0[1] = (int16_t)af_w16(si + pi);
          e1[0] = (int16_t)af_w16(dr + qi);
          e1[1] = (int16_t)af_w16(di - qr);
          e3[0] = (int16_t)af_w16(dr - qi);
          e3[1] = (int16_t)af_w16(di + qr);
        }
      }
    }
  }
}

/* Real FFT of fft_length int16 samples x.  z: (fft_length/2 + 1) complex
 * int16 output, interleaved.  The packed complex FFT writes into z, the
 * split into the real spectrum is done in place. */
static void af_rfft(const af_fft_config *cfg, const int16_t *x, int16_t *z) {
  const int32_t N = cfg->fft_length / 2;
  const int16_t *st = cfg->rfft_twiddles;
  int32_t k, dr, di;

  af_cfft(cfg->fft_twiddles, N, x, z);

  dr = af_div2(z[0]);
  di = af_div2(z[1]);
  z[0] = (int16_t)af_w16(dr + di);
  z[1] = 0;
  z[2 * N] = (int16_t)af_w16(dr - di);
  z[2 * N + 1] = 0;

  for (k = 1; k <= N / 2; ++k) {
    int32_t ar = af_div2(z[2 * k]);
    int32_t ai = af_div2(z[2 * k + 1]);
    int32_t br = af_div2(z[2 * (N - k)]);
    int32_t bi = af_div2(af_w16(-(int32_t)z[2 * (N - k) + 1]));
    int32_t sr = af_w16(ar + br), si = af_w16(ai + bi);
    int32_t fr = af_w16(ar - br), fi = af_w16(ai - bi);
    const int16_t *t = st + 2 * (k - 1);
    int32_t tr = af_q15(fr * t[0] - fi * t[1]);
    int32_t ti = af_q15(fr * t[1] + fi * t[0]);
    z[2 * k] = (int16_t)af_w16(af_asr(sr + tr, 1));
    z[2 * k + 1] = (int16_t)af_w16(af_asr(si + ti, 1));
    /* for k == N/2 this overwrites the value just written (same slot) */
    z[2 * (N - k)] = (int16_t)af_w16(af_asr(sr - tr, 1));
    z[2 * (N - k) + 1] = (int16_t)af_w16(af_asr(ti - si, 1));
  }
}

/* ---------------------------------------------------------- sqrt ----- */

/* Rounded square root with the reference's limits: r = floor(sqrt(n)), plus 1
 * if the remainder n - r^2 exceeds r, except that results of inputs below 2^32
 * are capped at 0xFFFF and others at 0xFFFFFFFF.  Digit by digit: `bit` starts
 * at the highest power of 4 <= n (1 for n = 0, hence the | 1) and the
 * remainder is left in `rem`.  Inputs below 2^32 take the same digits in
 * 32-bit arithmetic, which a 32-bit core does in one go. */
#define AF_SQRT_ROUND(n, type, bits, clz, cap)                          \
  {                                                                     \
    type rem = (type)(n), root = 0;                                     \
    type bit = (type)1 << (((bits) - 1 - clz(rem | 1u)) & ~1);          \
    for (; bit != 0; bit >>= 2) {                                       \
      if (rem >= root + bit) {                                          \
        rem -= root + bit;                                              \
        root = (root >> 1) + bit;                                       \
      } else {                                                          \
        root >>= 1;                                                     \
      }                                                                 \
    }                                                                   \
    return (uint32_t)(root + (rem > root && root != (cap)));            \
  }

static uint32_t af_sqrt_round(uint64_t n) {
  if (n >> 32 == 0) AF_SQRT_ROUND(n, uint32_t, 32, __builtin_clz, 0xFFFFu)
  AF_SQRT_ROUND(n, uint64_t, 64, __builtin_clzll, 0xFFFFFFFFu)
}

/* ------------------------------------------------------- fft block --- */

int af_fft_check(const af_fft_config *cfg) {
  int32_t i, spec;
  if (cfg == NULL || cfg->window == NULL || cfg->fft_twiddles == NULL ||
      cfg->rfft_twiddles == NULL || cfg->fb_weights == NULL ||
      cfg->fb_unweights == NULL || cfg->fb_freq_starts == NULL ||
      cfg->fb_weight_starts == NULL || cfg->fb_widths == NULL)
    return AF_ERR_ARG;
  if (cfg->fft_length < AF_FFT_MIN_LENGTH ||
      cfg->fft_length > AF_FFT_MAX_LENGTH ||
      (cfg->fft_length & (cfg->fft_length - 1)) != 0)
    return AF_ERR_ARG;
  if (cfg->window_length < 1 || cfg->window_length > cfg->fft_length ||
      cfg->window_shift < 0 || cfg->window_shift > 30)
    return AF_ERR_ARG;
  spec = cfg->fft_length / 2 + 1;
  if (cfg->start_index < 0 || cfg->end_index < cfg->start_index ||
      cfg->end_index > spec || cfg->num_channels < 1 ||
      cfg->fb_num_weights < 0)
    return AF_ERR_ARG;
  for (i = 0; i <= cfg->num_channels; ++i) {
    int32_t fs = cfg->fb_freq_starts[i], ws = cfg->fb_weight_starts[i];
    int32_t wd = cfg->fb_widths[i];
    if (fs < 0 || ws < 0 || wd < 0 || fs + wd > spec ||
        ws + wd > cfg->fb_num_weights)
      return AF_ERR_ARG;
  }
  return AF_OK;
}

size_t af_fft_scratch_size(const af_fft_config *cfg) {
  if (cfg == NULL || cfg->fft_length < 2) return 0;
  /* x: fft_length int16; z: (fft_length/2 + 1) complex int16 */
  return (size_t)cfg->fft_length * 2u +
         ((size_t)cfg->fft_length / 2u + 1u) * 4u;
}

/* The reference's max-|x| search, including its int16 behaviour when a
 * sample equals -32768 (the negation 32768 is stored as -32768, after which
 * any later sample compares greater). */
static int32_t af_max_abs16(const int16_t *x, int32_t n) {
  int32_t mx = 0, i;
  for (i = 0; i < n; ++i) {
    int32_t v = x[i];
    if (v > mx)
      mx = v;
    else if (-v > mx)
      mx = af_w16(-v);
  }
  return mx;
}

int af_fft_process_ex(const af_fft_config *cfg, const int16_t *pcm,
                      uint32_t *out, void *scratch, size_t scratch_size,
                      int32_t *scale_bits_out) {
  int16_t *x, *z;
  int32_t i, L, mx, bits, N;
  uint64_t wacc = 0, uacc = 0;
  if (cfg == NULL || pcm == NULL || out == NULL || scratch == NULL)
    return AF_ERR_ARG;
  if (!af_is_aligned4(scratch)) return AF_ERR_ARG;
  if (scratch_size < af_fft_scratch_size(cfg)) return AF_ERR_SIZE;
  L = cfg->window_length;
  N = cfg->fft_length;
  x = (int16_t *)scratch;
  z = x + N;

  /* 1. window: (pcm * w) >> shift, saturated to int16 */
  for (i = 0; i < L; ++i) {
    int32_t w = cfg->window[cfg->window_symmetric && i >= (L + 1) / 2 ? L - 1 - i : i];
    int32_t v = af_asr((int32_t)pcm[i] * w, (int)cfg->window_shift);
    if (v < -32768) v = -32768;
    if (v > 32767) v = 32767;
    x[i] = (int16_t)v;
  }

  /* 2. auto-scale: shift left so the largest |sample| uses 15 bits */
  mx = af_max_abs16(x, L);
  bits = 16 - (mx > 0 ? af_bits32((uint32_t)mx) : 32) - 1;
  if (bits < 0) bits = 0;
  for (i = 0; i < L; ++i) x[i] = (int16_t)af_w16((int32_t)x[i] * ((int32_t)1 << bits));
  af_zero(x + L, (size_t)(N - L) * sizeof *x);
  if (scale_bits_out != NULL) *scale_bits_out = bits;

  /* 3. real FFT */
  af_rfft(cfg, x, z);

  /* 4.-6. energy (computed on the fly, zero outside [start, end)),
   * filterbank with weight/unweight accumulators, sqrt and un-scale.
   * Channel 0 of the (num_channels + 1) accumulators is scratch. */
  for (i = 0; i <= cfg->num_channels; ++i) {
    const int32_t fs = cfg->fb_freq_starts[i];
    const int32_t ws = cfg->fb_weight_starts[i];
    const int32_t wd = cfg->fb_widths[i];
    int32_t j;
    for (j = 0; j < wd; ++j) {
      const int32_t bin = fs + j;
      uint32_t e = 0;
      if (bin >= cfg->start_index && bin < cfg->end_index) {
        const int32_t re = z[2 * bin], im = z[2 * bin + 1];
        e = (uint32_t)(re * re) + (uint32_t)(im * im);
      }
      wacc += (uint64_t)(int64_t)cfg->fb_weights[ws + j] * e;
      uacc += (uint64_t)(int64_t)cfg->fb_unweights[ws + j] * e;
    }
    if (i > 0) out[i - 1] = af_sqrt_round(wacc) >> bits;
    wacc = uacc;
    uacc = 0;
  }
  return AF_OK;
}

int af_fft_process(const af_fft_config *cfg, const int16_t *pcm,
                   uint32_t *out, void *scratch, size_t scratch_size) {
  return af_fft_process_ex(cfg, pcm, out, scratch, scratch_size, NULL);
}

/* -------------------------------------------- noise filtering block --- */

int af_nf_check(const af_nf_config *cfg) {
  if (cfg == NULL || cfg->log_lut == NULL) return AF_ERR_ARG;
  if (cfg->pcan_enabled && cfg->pcan_lut == NULL) return AF_ERR_ARG;
  if (cfg->num_channels < 1 || cfg->smoothing_bits < 0 ||
      cfg->smoothing_bits > 31 || cfg->spectral_subtraction_bits < 0 ||
      cfg->spectral_subtraction_bits > 31 || cfg->pcan_snr_shift < 0 ||
      cfg->pcan_snr_shift > 63 || cfg->log_correction_bits < 0 ||
      cfg->log_correction_bits > 31 || cfg->out_div <= 0)
    return AF_ERR_ARG;
  return AF_OK;
}

size_t af_nf_state_size(const af_nf_config *cfg) {
  if (cfg == NULL || cfg->num_channels < 1) return 0;
  return (size_t)cfg->num_channels * sizeof(uint32_t);
}

int af_nf_reset(const af_nf_config *cfg, void *state, size_t state_size) {
  int32_t i;
  uint32_t *noise = (uint32_t *)state;
  if (cfg == NULL || state == NULL || !af_is_aligned4(state)) return AF_ERR_ARG;
  if (state_size < af_nf_state_size(cfg)) return AF_ERR_SIZE;
  for (i = 0; i < cfg->num_channels; ++i) noise[i] = 0;
  return AF_OK;
}

/* PCAN gain: piecewise quadratic interpolation of the LUT, indexed by the
 * bit length of x (int16 result, may wrap). */
static int32_t af_pcan_gain(uint32_t x, const int16_t *lut) {
  int32_t interval, frac, r;
  const int16_t *seg;
  if (x <= 2) return lut[x];
  interval = af_bits32(x);
  seg = lut + 4 * interval - 6;
  frac = (int32_t)(((interval < 11) ? (x << (11 - interval))
                                    : (x >> (interval - 11))) & 0x3FFu);
  r = af_asr((int32_t)seg[2] * frac, 5);
  r = af_w32((int64_t)r + (int64_t)seg[1] * 32);
  r = af_w32((int64_t)r * frac);
  r = af_asr(af_w32((int64_t)r + 16384), 15);
  return af_w16(r + seg[0]);
}

/* shrink(snr): x^2/4 below 2.0, x - 1 above (Q12 in, Q6 out). */
static uint32_t af_pcan_shrink(uint32_t x) {
  if (x < (2u << 12)) return (x * x) >> (2 + 2 * 12 - 6);
  return (x >> (12 - 6)) - (1u << 6);
}

/* Integer natural log scaled by out_scale (x >= 2). */
static uint32_t af_log32(uint32_t x, uint32_t out_scale,
                         const uint16_t *lut) {
  const int32_t integer = af_bits32(x) - 1;
  int32_t frac = (int32_t)(x - ((uint32_t)1 << integer));
  uint32_t seg, fraction, log2v, loge;
  int32_t c0, c1, rel;
  if (integer < 16)
    frac <<= 16 - integer;
  else
    frac >>= integer - 16;
  seg = (uint32_t)frac >> 9;
  c0 = lut[seg];
  c1 = lut[seg + 1];
  rel = af_asr((c1 - c0) * (frac - (int32_t)(seg << 9)), 16);
  fraction = (uint32_t)(frac + c0 + rel);
  log2v = ((uint32_t)integer << 16) + fraction;
  loge = (uint32_t)(((uint64_t)45426u * log2v + 32768u) >> 16);
  return (out_scale * loge + 32768u) >> 16;
}

int af_nf_process_ex(const af_nf_config *cfg, void *state,
                     size_t state_size, const uint32_t *in, int8_t *out,
                     uint32_t *dbg_sub, uint32_t *dbg_noise,
                     uint32_t *dbg_pcan, int16_t *dbg_log) {
  uint32_t *noise = (uint32_t *)state;
  int sb, ssb;
  int32_t c;
  if (cfg == NULL || state == NULL || in == NULL || out == NULL)
    return AF_ERR_ARG;
  sb = (int)cfg->smoothing_bits;
  ssb = (int)cfg->spectral_subtraction_bits;
  if (!af_is_aligned4(state)) return AF_ERR_ARG;
  if (state_size < af_nf_state_size(cfg)) return AF_ERR_SIZE;

  for (c = 0; c < cfg->num_channels; ++c) {
    const uint32_t x = in[c];
    const uint32_t sm = (c & 1) ? cfg->alt_smoothing : cfg->smoothing;
    const uint32_t om =
        (c & 1) ? cfg->alt_one_minus_smoothing : cfg->one_minus_smoothing;
    const uint32_t up = x << sb; /* wraps modulo 2^32 like the reference */
    uint32_t est, floor_v, sub, v;
    int32_t lg, q;

    /* spectral subtraction: one-pole noise estimate, subtract, floor */
    noise[c] = (uint32_t)(((uint64_t)up * sm + (uint64_t)noise[c] * om) >> ssb);
    est = noise[c];
    if (est > up) {
      est = up;
      if (cfg->clamping) noise[c] = est;
    }
    floor_v = (uint32_t)(((uint64_t)x * cfg->min_signal_remaining) >> ssb);
    sub = (up - est) >> sb;
    v = sub > floor_v ? sub : floor_v;
    if (dbg_sub != NULL) dbg_sub[c] = v;
    if (dbg_noise != NULL) dbg_noise[c] = noise[c];

    /* PCAN: gain from the noise estimate, then shrink */
    if (cfg->pcan_enabled) {
      const uint32_t gain = (uint32_t)af_pcan_gain(noise[c], cfg->pcan_lut);
      const uint32_t snr =
          (uint32_t)(((uint64_t)v * gain) >> cfg->pcan_snr_shift);
      v = af_pcan_shrink(snr);
    }
    if (dbg_pcan != NULL) dbg_pcan[c] = v;

    /* log */
    v <<= cfg->log_correction_bits; /* wraps modulo 2^32 */
    if (v > 1) {
      uint32_t l = af_log32(v, cfg->log_output_scale, cfg->log_lut);
      lg = (int32_t)(l < 32767u ? l : 32767u);
    } else {
      lg = 0;
    }
    if (dbg_log != NULL) dbg_log[c] = (int16_t)lg;

    /* int8 quantisation (truncating division, like TFLM DIV on int32) */
    q = af_w32((int64_t)lg * cfg->out_scale + cfg->out_div / 2);
    q = q / cfg->out_div + cfg->out_offset;
    if (q < -128) q = -128;
    if (q > 127) q = 127;
    out[c] = (int8_t)q;
  }
  return AF_OK;
}

int af_nf_process(const af_nf_config *cfg, void *state, size_t state_size,
                  const uint32_t *in, int8_t *out) {
  return af_nf_process_ex(cfg, state, state_size, in, out, NULL, NULL, NULL,
                          NULL);
}
