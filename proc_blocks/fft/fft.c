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

int32_t fft_init(const fft_args *args, const rune_block_ctx *ctx) {
    af_fft_config config = config_of(args);
    if (af_fft_check(&config) != AF_OK || af_fft_scratch_size(&config) > ctx->scratch_bytes)
        return rune_block_fail("fft: the tables do not fit the arguments");
    return RUNE_OK;
}

int32_t fft_run(const fft_args *args, const rune_block_ctx *ctx) {
    af_fft_config config = config_of(args);
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
