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

/* Streaming state: the noise estimate (u32 [channels]), the ring's head (u32: the oldest row, the
 * next to be overwritten), then the ring of the last num_frames feature rows (i8 [num_frames,
 * channels]). A row is written once, where it stays until num_frames newer rows replace it. */
typedef struct {
    uint32_t *noise;
    uint32_t *head;
    int8_t *rows;
} stream_state;

static stream_state stream_state_of(const af_nf_config *config, const rune_block_ctx *ctx) {
    uint8_t *state = (uint8_t *)ctx->state;
    size_t noise_bytes = af_nf_state_size(config);
    stream_state s = {(uint32_t *)state, (uint32_t *)(state + noise_bytes), (int8_t *)(state + noise_bytes + 4)};
    return s;
}

static size_t stream_state_bytes(const af_nf_config *config, uint32_t frames, uint32_t channels) {
    return af_nf_state_size(config) + 4u + (size_t)frames * channels;
}

int32_t noise_filtering_init(const noise_filtering_args *args, const rune_block_ctx *ctx) {
    uint32_t channels = channels_of(ctx);
    af_nf_config config = config_of(args, channels);
    if (af_nf_check(&config) != AF_OK || af_nf_state_size(&config) > ctx->scratch_bytes)
        return rune_block_fail("noise_filtering: the tables do not fit the arguments");
    if (args->num_frames) {
        /* The state was zeroed (rune_init): a zero noise estimate, head 0. Every feature row starts
         * as the features of digital silence: an all-zero row from a zero estimate (which it keeps
         * zero). */
        uint32_t frames = args->num_frames, *zeros = (uint32_t *)ctx->scratch;
        stream_state s = stream_state_of(&config, ctx);
        if (stream_state_bytes(&config, frames, channels) > ctx->state_bytes ||
            ctx->inputs[0].count / channels > frames || ctx->outputs[0].count != frames * channels)
            return rune_block_fail("noise_filtering: the state does not fit the arguments");
        af_zero(zeros, (size_t)channels * sizeof *zeros);
        if (af_nf_process(&config, s.noise, af_nf_state_size(&config), zeros, s.rows) != AF_OK)
            return rune_block_fail("noise_filtering: processing failed");
        for (uint32_t f = 1; f < frames; f++) af_copy(s.rows + (size_t)f * channels, s.rows, channels);
    }
    return RUNE_OK;
}

/* Streaming: every input row is new. Each goes through the carried noise estimate into the ring
 * at its head, which then moves on; the output is the ring from the head (the oldest row) round to
 * the newest: at most two contiguous pieces, copied as 32-bit words when they allow it. */
static int32_t noise_filtering_stream(const noise_filtering_args *args, const rune_block_ctx *ctx,
                                      const af_nf_config *config, uint32_t channels) {
    const uint32_t *in = (const uint32_t *)ctx->inputs[0].data;
    int8_t *out = (int8_t *)ctx->outputs[0].data;
    const uint32_t frames = args->num_frames, fresh = ctx->inputs[0].count / channels;
    stream_state s = stream_state_of(config, ctx);
    uint32_t head = *s.head;
    size_t older;
    if (fresh > frames || head >= frames) return rune_block_fail("noise_filtering: more new rows than num_frames");
    for (uint32_t f = 0; f < fresh; f++) {
        if (af_nf_process(config, s.noise, af_nf_state_size(config), in + (size_t)f * channels,
                          s.rows + (size_t)head * channels) != AF_OK)
            return rune_block_fail("noise_filtering: processing failed");
        head = head + 1 == frames ? 0 : head + 1;
    }
    *s.head = head;
    older = (size_t)(frames - head) * channels; /* the rows from the head to the end of the ring */
    af_copy(out, s.rows + (size_t)head * channels, older);
    af_copy(out + older, s.rows, (size_t)head * channels);
    return RUNE_OK;
}

/* One clip: the noise estimate starts from zero every inference, as in TFLM after a reset. */
int32_t noise_filtering_run(const noise_filtering_args *args, const rune_block_ctx *ctx) {
    uint32_t channels = channels_of(ctx);
    af_nf_config config = config_of(args, channels);
    if (args->num_frames) return noise_filtering_stream(args, ctx, &config, channels);
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
