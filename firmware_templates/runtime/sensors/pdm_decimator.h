/*
 * PDM to PCM: a PDM microphone's 1-bit pulse-density stream to 16-bit PCM, in integer
 * arithmetic. No hardware here, so that it is tested natively (tests/test_pdm_decimator.py).
 *
 * The stream comes as 16-bit words, the earliest bit the most significant (as an STM32's I2S
 * shifts it in). `ratio` bits make one PCM sample (64, 96 or 128), through
 *
 *   1. a 5th-order CIC filter decimating by 8, computed a byte at a time from tables: the
 *      filter is linear and 36 bits long, so its output is the sum of one table entry for each
 *      of the last five bytes;
 *   2. a 4th-order CIC filter decimating by ratio / 16 (4, 6 or 8), to twice the PCM rate;
 *   3. a 41-tap FIR low-pass decimating by 2 that also undoes the CIC filters' droop: flat
 *      within 0.15 dB up to 0.42 of the PCM rate, at least 50 dB down from 0.58 of it (the band
 *      that would fold into 0 - 0.42; tests/test_pdm_decimator.py checks both);
 *   4. a DC blocker: a first-order high-pass at about rate / 1600 (10 Hz at 16 kHz);
 *   5. a gain of 2^gain_shift, saturated to 16 bits.
 *
 * Without gain, PDM full scale (all ones) is i16 full scale. The stages carry the signal with
 * PDM full scale at 2^20, so rounding stays far below one PCM step.
 */
#ifndef RUNE_PDM_DECIMATOR_H
#define RUNE_PDM_DECIMATOR_H

#include <stdint.h>

#define PDM_FIR_TAPS 41

typedef struct {
    uint32_t history;              /* the four bytes before the current one, the newest lowest */
    uint32_t integrator[4], comb[4];
    uint32_t words_per_output;     /* stage 2's decimation, in words */
    uint32_t stage2_phase;         /* words since its last output */
    int32_t stage2_scale;          /* its output to full scale 2^20, as a 32-bit fraction */
    int32_t fir[2 * PDM_FIR_TAPS]; /* the last 41 stage-2 outputs, twice over (no wrapping) */
    uint32_t fir_at, fir_phase;
    int32_t dc_last, dc_state;     /* the DC blocker's last input, and its output in 1/256 */
    int32_t output_shift;          /* from full scale 2^20 to i16 with the gain */
} pdm_decimator;

/* Ready to decimate by `ratio` (64, 96 or 128) with a gain of 2^gain_shift (0 to 8); NULL or
   why not. */
const char *pdm_decimator_init(pdm_decimator *d, uint32_t ratio, uint32_t gain_shift);

/* Decimate `count` words; writes the PCM samples they complete (at most count * 16 / ratio + 1)
   and returns how many. */
uint32_t pdm_decimate(pdm_decimator *d, const uint16_t *words, uint32_t count, int16_t *pcm);

#endif
