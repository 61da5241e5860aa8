#include "image_normalization_args.h"

/* The pixel as f32 in [0, 1] for integer types, as it is for f32. */
static float unit(const rune_tensor *t, uint32_t i) {
    switch (t->type) {
    case RUNE_U8: return (float)((const uint8_t *)t->data)[i] / 255.0f;
    case RUNE_I8: return (float)(((const int8_t *)t->data)[i] + 128) / 255.0f;
    case RUNE_U16: return (float)((const uint16_t *)t->data)[i] / 65535.0f;
    case RUNE_I16: return (float)(((const int16_t *)t->data)[i] + 32768) / 65535.0f;
    default: return ((const float *)t->data)[i];
    }
}

int32_t image_normalization_run(const image_normalization_args *args, const rune_block_ctx *ctx) {
    const rune_tensor *in = &ctx->inputs[0];
    float *out = (float *)ctx->outputs[0].data;
    uint32_t channels = in->rank ? in->dims[in->rank - 1] : 1;
    for (uint32_t i = 0; i < in->count; i++) {
        float y = unit(in, i);
        if (args->mean_count) {
            uint32_t c = args->mean_count == 1 ? 0 : i % channels;
            uint32_t d = args->std_count == 1 ? 0 : i % channels;
            y = (y - args->mean[c]) / args->std[d];
        }
        out[i] = y;
    }
    return RUNE_OK;
}
