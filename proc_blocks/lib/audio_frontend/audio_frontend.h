/*
 * audio_frontend.h - bit-exact integer audio feature extraction compatible
 * with TensorFlow Lite Micro's micro_speech audio preprocessor
 * (audio_preprocessor_int8.tflite, TFLM "signal" library).
 *
 * Two processing blocks:
 *
 *   fft             : int16 PCM window -> uint32 filterbank values [channels]
 *                     (Hann window, FFT auto-scale, 16-bit fixed-point real
 *                     FFT, energy, mel filterbank, square root)
 *   noise-filtering : uint32 [channels] -> int8 features [channels]
 *                     (spectral-subtraction noise reduction, PCAN gain
 *                     control, integer log, int8 quantisation)
 *
 * C99, freestanding (only <stdint.h>/<stddef.h>), no malloc, no mutable
 * globals, no floating point.  Every parameter-dependent table (window,
 * FFT twiddles, filterbank, PCAN LUT, log LUT) is generated at build time by
 * reference.py (write_c_tables) and passed in through the config structs;
 * the library only reads them.  The caller owns all memory: the noise
 * filtering state and the fft scratch buffer, whose sizes are given by the
 * *_size() functions.
 *
 * See NOTES.md for the exact arithmetic.
 */
#ifndef RUNE_AUDIO_FRONTEND_H_
#define RUNE_AUDIO_FRONTEND_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AF_OK 0
#define AF_ERR_ARG (-1)    /* NULL pointer or inconsistent parameters */
#define AF_ERR_SIZE (-2)   /* buffer too small */

#define AF_PCAN_LUT_SIZE 125
#define AF_LOG_LUT_SIZE 130
#define AF_FFT_MIN_LENGTH 64
#define AF_FFT_MAX_LENGTH 2048

/* ---------------------------------------------------------------- fft -- */
typedef struct {
  int32_t window_length;      /* samples per window, <= fft_length (480) */
  int32_t window_shift;       /* window weight fraction bits (12) */
  const int16_t *window;      /* [window_length], or its first half if window_symmetric */
  int32_t window_symmetric;   /* 1: window[i] == window[window_length - 1 - i]; half is stored */
  int32_t fft_length;         /* real FFT length, power of 2 in [64, 2048] */
  const int16_t *fft_twiddles;   /* [fft_length/2][2]  (cos, sin) Q15 */
  const int16_t *rfft_twiddles;  /* [fft_length/4][2]  (cos, sin) Q15 */
  int32_t start_index;        /* first FFT bin with non-zero energy (5) */
  int32_t end_index;          /* one past the last such bin (241) */
  int32_t num_channels;       /* filterbank channels (40) */
  int32_t fb_num_weights;     /* length of fb_weights / fb_unweights */
  const int16_t *fb_weights;       /* [fb_num_weights] Q12 */
  const int16_t *fb_unweights;     /* [fb_num_weights] Q12 */
  const int16_t *fb_freq_starts;   /* [num_channels + 1] */
  const int16_t *fb_weight_starts; /* [num_channels + 1] */
  const int16_t *fb_widths;        /* [num_channels + 1] */
} af_fft_config;

/* Validate a config (table ranges, FFT length).  AF_OK if usable. */
int af_fft_check(const af_fft_config *cfg);

/* Bytes of scratch memory af_fft_process needs (alignment: 4 bytes). */
size_t af_fft_scratch_size(const af_fft_config *cfg);

/* One window of cfg->window_length int16 samples -> cfg->num_channels
 * uint32 values.  Stateless.  scratch: af_fft_scratch_size() bytes,
 * 4-byte aligned, contents irrelevant on entry.  Returns AF_OK or error. */
int af_fft_process(const af_fft_config *cfg, const int16_t *pcm,
                   uint32_t *out, void *scratch, size_t scratch_size);

/* Debug variant: also reports the FFT auto-scale shift of the window. */
int af_fft_process_ex(const af_fft_config *cfg, const int16_t *pcm,
                      uint32_t *out, void *scratch, size_t scratch_size,
                      int32_t *scale_bits);

/* ---------------------------------------------------- noise filtering -- */
typedef struct {
  int32_t num_channels;              /* 40 */
  /* spectral subtraction (Q spectral_subtraction_bits coefficients) */
  uint32_t smoothing;                /* even channels (409) */
  uint32_t one_minus_smoothing;      /* (15975) */
  uint32_t alt_smoothing;            /* odd channels (983) */
  uint32_t alt_one_minus_smoothing;  /* (15401) */
  uint32_t min_signal_remaining;     /* (819) */
  int32_t smoothing_bits;            /* noise estimate fraction bits (10) */
  int32_t spectral_subtraction_bits; /* (14) */
  int32_t clamping;                  /* 0/1 (0) */
  /* PCAN */
  int32_t pcan_enabled;              /* 0/1 (1) */
  int32_t pcan_snr_shift;            /* (6) */
  const int16_t *pcan_lut;           /* [AF_PCAN_LUT_SIZE] */
  /* log */
  int32_t log_correction_bits;       /* (3) */
  uint32_t log_output_scale;         /* (64) */
  const uint16_t *log_lut;           /* [AF_LOG_LUT_SIZE] */
  /* int8 quantisation: clamp((v*scale + div/2)/div + offset, -128, 127) */
  int32_t out_scale;                 /* (256) */
  int32_t out_div;                   /* (666) */
  int32_t out_offset;                /* (-128) */
} af_nf_config;

int af_nf_check(const af_nf_config *cfg);

/* Bytes of state (alignment: 4 bytes): the per-channel noise estimate. */
size_t af_nf_state_size(const af_nf_config *cfg);

/* Zero the state: equivalent to a fresh TFLM interpreter or
 * Interpreter.reset().  Call at the start of every clip / stream. */
int af_nf_reset(const af_nf_config *cfg, void *state, size_t state_size);

/* One frame: in[num_channels] uint32 -> out[num_channels] int8.  Updates
 * the noise estimate in state.  Optional debug outputs (may be NULL), each
 * [num_channels]: spectral-subtraction output, noise estimate, PCAN output,
 * log output. */
int af_nf_process(const af_nf_config *cfg, void *state, size_t state_size,
                  const uint32_t *in, int8_t *out);
int af_nf_process_ex(const af_nf_config *cfg, void *state,
                     size_t state_size, const uint32_t *in, int8_t *out,
                     uint32_t *dbg_subtracted, uint32_t *dbg_noise,
                     uint32_t *dbg_pcan, int16_t *dbg_log);

/* ------------------------------------------------------------ copying -- */

/* Copy `bytes` bytes from src to dst in ascending order, so also a move to a
 * lower address within one buffer (dst <= src; nothing else may overlap).
 * 32-bit words when dst, src and bytes are all multiples of 4, 16-bit
 * halfwords when of 2, bytes otherwise.  The streaming blocks use it instead
 * of memcpy/memmove: inside a rune (WebAssembly MVP, no bulk-memory
 * instructions) the C library's are byte-at-a-time loops, and an engine that
 * checks every memory access checks a quarter as many for words.  The
 * compiler is kept from turning the loops back into calls to them. */
void af_copy(void *dst, const void *src, size_t bytes);

/* Zero `bytes` bytes at dst: 32-bit words when dst and bytes are multiples of
 * 4, 16-bit halfwords when of 2, bytes otherwise (for the same reason as
 * af_copy, memset's). */
void af_zero(void *dst, size_t bytes);

#ifdef __cplusplus
}
#endif

#endif /* RUNE_AUDIO_FRONTEND_H_ */
