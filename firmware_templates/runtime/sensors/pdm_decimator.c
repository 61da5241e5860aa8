#include "pdm_decimator.h"

#include <string.h>

/* The firmware is built for size (-Os), but this runs for every bit the microphone sends: at
   -Os the FIR's registers spill to the stack and the decimation takes twice the time. */
#pragma GCC optimize("O2")

#define STAGE1_TAPS 36   /* (8 - 1) * 5 + 1: the 5th-order CIC decimating by 8, as an FIR filter */
#define STAGE1_HALF 16384 /* its output for a stream of half ones: PDM silence */
#define FULL_SCALE_BITS 20

/* Stage 1's output is the sum over the last five bytes of stage1[age][byte]: the taps of
   (1 + z^-1 + ... + z^-7)^5 that the byte's ones meet (bit p of the byte `age` bytes back is
   8 * age + p bits old; bit 0 is the latest). Built once; 2.5 KiB. */
static uint16_t stage1[5][256];
static int stage1_ready;

/* The FIR low-pass of stage 3, h[0] to h[20] of a symmetric 41 (Q15; they sum to 32768, unity
   at DC). Least-squares design (scipy.signal.firls) at twice the PCM rate: the inverse of both
   CIC filters' droop up to 0.42 of the PCM rate, 0 from 0.58, the stopband weighted 30 times;
   tests/test_pdm_decimator.py designs it again and checks these numbers. */
static const int16_t fir_half[PDM_FIR_TAPS / 2 + 1] = {
    -32, -41, 58, 107, -93, -219, 133, 396, -174, -662, 208,
    1057, -217, -1661, 168, 2667, 62, -4707, -1200, 11247, 18574,
};

static void build_stage1(void) {
    uint32_t taps[STAGE1_TAPS] = {1}, length = 1;
    for (uint32_t order = 0; order < 5; order++) { /* convolve with eight ones, five times */
        uint32_t next[STAGE1_TAPS] = {0};
        for (uint32_t t = 0; t < length + 7; t++)
            for (uint32_t k = 0; k < 8 && k <= t; k++)
                if (t - k < length) next[t] += taps[t - k];
        length += 7;
        memcpy(taps, next, sizeof taps);
    }
    for (uint32_t age = 0; age < 5; age++)
        for (uint32_t byte = 0; byte < 256; byte++) {
            uint32_t sum = 0;
            for (uint32_t p = 0; p < 8 && 8 * age + p < STAGE1_TAPS; p++)
                if ((byte >> p) & 1u) sum += taps[8 * age + p];
            stage1[age][byte] = (uint16_t)sum;
        }
    stage1_ready = 1;
}

const char *pdm_decimator_init(pdm_decimator *d, uint32_t ratio, uint32_t gain_shift) {
    if (ratio != 64 && ratio != 96 && ratio != 128) return "PDM decimation: the ratio must be 64, 96 or 128";
    if (gain_shift > 8) return "PDM decimation: the gain must be at most 2^8";
    if (!stage1_ready) build_stage1();
    memset(d, 0, sizeof *d);
    d->history = 0x55555555u; /* silence, so that the first samples do not start from full scale */
    uint32_t factor = ratio / 16;
    d->words_per_output = factor / 2;
    /* stage 1 has full scale 2^14 and stage 2 multiplies by factor^4: to 2^20, multiply by
       2^6 / factor^4, as a 32-bit fraction */
    d->stage2_scale = (int32_t)((1ull << 38) / ((uint64_t)factor * factor * factor * factor));
    d->output_shift = FULL_SCALE_BITS - 15 - (int32_t)gain_shift; /* to i16 full scale, with the gain */
    return 0;
}

/* Stage 3: take one stage-2 output; every second one, the filtered output (1 if there is one). */
static int fir_filter(pdm_decimator *d, int32_t x, int32_t *y) {
    d->fir_at = d->fir_at ? d->fir_at - 1 : PDM_FIR_TAPS - 1;
    d->fir[d->fir_at] = d->fir[d->fir_at + PDM_FIR_TAPS] = x;
    if ((d->fir_phase ^= 1u) == 0) return 0;
    const int32_t *w = &d->fir[d->fir_at]; /* w[k]: k outputs ago */
    int64_t sum = (int64_t)fir_half[PDM_FIR_TAPS / 2] * w[PDM_FIR_TAPS / 2];
#pragma GCC unroll 20
    for (uint32_t k = 0; k < PDM_FIR_TAPS / 2; k++) sum += (int64_t)fir_half[k] * (w[k] + w[PDM_FIR_TAPS - 1 - k]);
    *y = (int32_t)((sum + (1 << 14)) >> 15);
    return 1;
}

/* Stages 4 and 5: DC blocker, gain, 16 bits. */
static int16_t finish(pdm_decimator *d, int32_t x) {
    int32_t change = x - d->dc_last;
    d->dc_last = x;
    d->dc_state += change * 256 - (d->dc_state >> 8); /* y += change - y / 256, y kept in 1/256 */
    int32_t y = d->dc_state >> 8, shift = d->output_shift;
    int32_t scaled = shift > 0 ? (y + (1 << (shift - 1))) >> shift : y * (1 << -shift);
    return (int16_t)(scaled > 32767 ? 32767 : scaled < -32768 ? -32768 : scaled);
}

/* Stage 2's combs, on its integrators' last value; the output at full scale 2^20. */
static int32_t comb(pdm_decimator *d, uint32_t v) {
    uint32_t c0 = d->comb[0], c1 = d->comb[1], c2 = d->comb[2], c3 = d->comb[3];
    d->comb[0] = v;
    v -= c0;
    d->comb[1] = v;
    v -= c1;
    d->comb[2] = v;
    v -= c2;
    d->comb[3] = v;
    v -= c3;
    return (int32_t)(((int64_t)(int32_t)v * d->stage2_scale) >> 32);
}

uint32_t pdm_decimate(pdm_decimator *d, const uint16_t *words, uint32_t count, int16_t *pcm) {
    const uint16_t *t0 = stage1[0], *t1 = stage1[1], *t2 = stage1[2], *t3 = stage1[3], *t4 = stage1[4];
    uint32_t produced = 0, history = d->history, phase = d->stage2_phase, words_per_output = d->words_per_output;
    uint32_t i0 = d->integrator[0], i1 = d->integrator[1], i2 = d->integrator[2], i3 = d->integrator[3];
    for (const uint16_t *end = words + count; words < end; words++) {
        /* A word is two bytes, the high one first: two stage-1 outputs. */
        uint32_t high = *words >> 8, low = *words & 0xFFu;
        int32_t first = (int32_t)(t0[high] + t1[history & 0xFFu] + t2[(history >> 8) & 0xFFu] +
                                  t3[(history >> 16) & 0xFFu] + t4[history >> 24]) - STAGE1_HALF;
        int32_t second = (int32_t)(t0[low] + t1[high] + t2[history & 0xFFu] + t3[(history >> 8) & 0xFFu] +
                                   t4[(history >> 16) & 0xFFu]) - STAGE1_HALF;
        history = (history << 16) | *words;
        /* stage 2: integrators at stage 1's rate (wrapping: the combs undo it exactly) */
        i0 += (uint32_t)first;
        i1 += i0;
        i2 += i1;
        i3 += i2;
        i0 += (uint32_t)second;
        i1 += i0;
        i2 += i1;
        i3 += i2;
        if (++phase < words_per_output) continue;
        phase = 0;
        int32_t y;
        if (fir_filter(d, comb(d, i3), &y)) pcm[produced++] = finish(d, y);
    }
    d->history = history;
    d->stage2_phase = phase;
    d->integrator[0] = i0;
    d->integrator[1] = i1;
    d->integrator[2] = i2;
    d->integrator[3] = i3;
    return produced;
}
