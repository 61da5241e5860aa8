#include "audio_frontend.h"
#include "noise_filtering_args.h"

static af_nf_config config_of(const noise_filtering_args *a, uint32_t channels) {
    af_nf_config c = {
        (int32_t)channels, a->smoothing, a->one_minus_smoothing, a->alt_smoothing, a->alt_one_minus_smoothing,
        a->min_signal, (int32_t)a->smoothing_bits, 14, a->clamping, a->pcan, 6, a->pcan_lut,
        (int32_t)a->correction_bits, 64, a->log_lut, 256, 666, -128,
    };
    return c;
}

static uint32_t channels_of(const rune_block_ctx *ctx) {
    return ctx->inputs[0].dims[ctx->inputs[0].rank - 1];
}

int32_t noise_filtering_init(const noise_filtering_args *args, const rune_block_ctx *ctx) {
    af_nf_config config = config_of(args, channels_of(ctx));
    if (af_nf_check(&config) != AF_OK || af_nf_state_size(&config) > ctx->scratch_bytes)
        return rune_block_fail("noise_filtering: the tables do not fit the arguments");
    return RUNE_OK;
}

/* Each inference is one clip: the noise estimate starts from zero, as in TFLM after a reset. */
int32_t noise_filtering_run(const noise_filtering_args *args, const rune_block_ctx *ctx) {
    uint32_t channels = channels_of(ctx);
    af_nf_config config = config_of(args, channels);
    const uint32_t *in = (const uint32_t *)ctx->inputs[0].data;
    int8_t *out = (int8_t *)ctx->outputs[0].data;
    uint32_t frames = ctx->inputs[0].count / channels;
    af_nf_reset(&config, ctx->scratch, ctx->scratch_bytes);
    for (uint32_t f = 0; f < frames; f++) {
        if (af_nf_process(&config, ctx->scratch, ctx->scratch_bytes, in + f * channels, out + f * channels) != AF_OK)
            return rune_block_fail("noise_filtering: processing failed");
    }
    return RUNE_OK;
}
