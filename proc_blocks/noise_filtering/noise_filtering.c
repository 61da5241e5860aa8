#include <string.h>

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

/* Streaming state: the noise estimate (u32 [channels]), then the feature rows (i8 [frames, channels]). */
static size_t stream_state_bytes(const af_nf_config *config, const rune_block_ctx *ctx) {
    return af_nf_state_size(config) + ctx->inputs[0].count;
}

int32_t noise_filtering_init(const noise_filtering_args *args, const rune_block_ctx *ctx) {
    uint32_t channels = channels_of(ctx);
    af_nf_config config = config_of(args, channels);
    if (af_nf_check(&config) != AF_OK || af_nf_state_size(&config) > ctx->scratch_bytes)
        return rune_block_fail("noise_filtering: the tables do not fit the arguments");
    if (args->new_frames) {
        /* The state was zeroed (rune_init): a zero noise estimate. Every feature row starts as the
         * features of digital silence: an all-zero row from a zero estimate (which it keeps zero). */
        uint32_t frames = ctx->inputs[0].count / channels;
        int8_t *rows = (int8_t *)ctx->state + af_nf_state_size(&config);
        if (stream_state_bytes(&config, ctx) > ctx->state_bytes || args->new_frames > frames)
            return rune_block_fail("noise_filtering: the state does not fit the arguments");
        memset(ctx->scratch, 0, af_nf_state_size(&config));
        if (af_nf_reset(&config, ctx->state, ctx->state_bytes) != AF_OK ||
            af_nf_process(&config, ctx->state, ctx->state_bytes, (const uint32_t *)ctx->scratch, rows) != AF_OK)
            return rune_block_fail("noise_filtering: processing failed");
        for (uint32_t f = 1; f < frames; f++) memcpy(rows + f * channels, rows, channels);
    }
    return RUNE_OK;
}

/* Streaming: only the last new_frames rows of the input are new. The kept feature rows move up,
 * the new rows are processed with the carried noise estimate into the last ones, and the output
 * is a copy of the rows. */
static int32_t noise_filtering_stream(const noise_filtering_args *args, const rune_block_ctx *ctx,
                                      const af_nf_config *config, uint32_t channels) {
    const uint32_t *in = (const uint32_t *)ctx->inputs[0].data;
    uint32_t frames = ctx->inputs[0].count / channels, fresh = args->new_frames;
    size_t noise_bytes = af_nf_state_size(config);
    int8_t *rows = (int8_t *)ctx->state + noise_bytes;
    memmove(rows, rows + fresh * channels, (size_t)(frames - fresh) * channels);
    for (uint32_t f = frames - fresh; f < frames; f++) {
        if (af_nf_process(config, ctx->state, noise_bytes, in + f * channels, rows + f * channels) != AF_OK)
            return rune_block_fail("noise_filtering: processing failed");
    }
    memcpy(ctx->outputs[0].data, rows, (size_t)frames * channels);
    return RUNE_OK;
}

/* One clip: the noise estimate starts from zero every inference, as in TFLM after a reset. */
int32_t noise_filtering_run(const noise_filtering_args *args, const rune_block_ctx *ctx) {
    uint32_t channels = channels_of(ctx);
    af_nf_config config = config_of(args, channels);
    if (args->new_frames) return noise_filtering_stream(args, ctx, &config, channels);
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
