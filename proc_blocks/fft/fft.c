#include "audio_frontend.h"
#include "fft_args.h"

static af_fft_config config_of(const fft_args *a) {
    af_fft_config c = {
        a->window_length, 12, a->window, a->window_symmetric, a->fft_length, a->fft_twiddles, a->rfft_twiddles,
        a->start_index, a->end_index, (int32_t)a->num_channels, (int32_t)a->fb_weights_count,
        a->fb_weights, a->fb_unweights, a->fb_freq_starts, a->fb_weight_starts, a->fb_widths,
    };
    return c;
}

/* Streaming: samples of each window that come from the runs before. */
static uint32_t kept_samples(const fft_args *a) {
    return a->window_length > a->window_step ? (uint32_t)(a->window_length - a->window_step) : 0;
}

int32_t fft_init(const fft_args *args, const rune_block_ctx *ctx) {
    af_fft_config config = config_of(args);
    size_t window_bytes = args->num_frames ? 2u * (size_t)args->window_length : 0;
    if (af_fft_check(&config) != AF_OK || af_fft_scratch_size(&config) + window_bytes > ctx->scratch_bytes)
        return rune_block_fail("fft: the tables do not fit the arguments");
    if (args->num_frames && kept_samples(args) * 2u > ctx->state_bytes)
        return rune_block_fail("fft: the state does not fit the arguments");
    /* Streaming state: zeroed before init (at rune_init), i.e. the stream starts after digital
     * silence: the kept samples are zeros. */
    return RUNE_OK;
}

/* Streaming: the input holds whole strides of new audio and the output only the new frames,
 * [samples / window_step, channels] (noise_filtering keeps the history). The stream is the kept
 * tail followed by the new samples; window i of this run starts at i * window_step in it, so the
 * last new window ends with the newest sample. A window that begins in the tail is assembled in
 * scratch; the others are read from the input where they are. The last kept_samples of the stream
 * become the tail. Copies are af_copy's (words, not the C library's byte loops in a rune). */
static int32_t fft_stream(const fft_args *args, const rune_block_ctx *ctx, af_fft_config *config) {
    const int16_t *pcm = (const int16_t *)ctx->inputs[0].data;
    uint32_t *out = (uint32_t *)ctx->outputs[0].data;
    const uint32_t n = ctx->inputs[0].count, step = (uint32_t)args->window_step;
    const uint32_t length = (uint32_t)args->window_length, channels = args->num_channels;
    const uint32_t kept = kept_samples(args), fresh = n / step;
    int16_t *tail = (int16_t *)ctx->state;
    size_t fft_scratch = af_fft_scratch_size(config);
    int16_t *window = (int16_t *)((uint8_t *)ctx->scratch + fft_scratch);
    if (n % step != 0 || fresh == 0 || fresh > args->num_frames || fresh * channels > ctx->outputs[0].count)
        return rune_block_fail("fft: streaming takes whole strides, at most num_frames of them");
    for (uint32_t i = 0; i < fresh; i++) {
        uint32_t start = i * step; /* in the stream: tail[0 .. kept) then pcm[0 .. n) */
        const int16_t *samples = window;
        if (start >= kept) {
            samples = pcm + (start - kept);
        } else { /* the window begins in the tail: assemble it */
            af_copy(window, tail + start, (kept - start) * sizeof *window);
            af_copy(window + (kept - start), pcm, (length - (kept - start)) * sizeof *window);
        }
        if (af_fft_process(config, samples, out + (size_t)i * channels, ctx->scratch, fft_scratch) != AF_OK)
            return rune_block_fail("fft: processing failed");
    }
    if (kept == 0) return RUNE_OK;
    if (n >= kept) {
        af_copy(tail, pcm + (n - kept), kept * sizeof *tail);
    } else { /* a chunk shorter than the tail: the tail moves down by n and the chunk follows */
        af_copy(tail, tail + n, (kept - n) * sizeof *tail);
        af_copy(tail + (kept - n), pcm, n * sizeof *tail);
    }
    return RUNE_OK;
}

int32_t fft_run(const fft_args *args, const rune_block_ctx *ctx) {
    af_fft_config config = config_of(args);
    if (args->num_frames) return fft_stream(args, ctx, &config);
    const int16_t *pcm = (const int16_t *)ctx->inputs[0].data;
    uint32_t *out = (uint32_t *)ctx->outputs[0].data;
    uint32_t frames = ctx->outputs[0].dims[0];
    for (uint32_t f = 0; f < frames; f++) {
        if (af_fft_process(&config, pcm + f * (uint32_t)args->window_step, out + f * args->num_channels,
                           ctx->scratch, ctx->scratch_bytes) != AF_OK)
            return rune_block_fail("fft: processing failed");
    }
    return RUNE_OK;
}
