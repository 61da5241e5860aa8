#include "audio_float_conversion_args.h"

int32_t audio_float_conversion_run(const audio_float_conversion_args *args, const rune_block_ctx *ctx) {
    (void)args;
    const int16_t *pcm = (const int16_t *)ctx->inputs[0].data;
    float *out = (float *)ctx->outputs[0].data;
    for (uint32_t i = 0; i < ctx->inputs[0].count; i++) out[i] = (float)pcm[i] / 32768.0f;
    return RUNE_OK;
}
