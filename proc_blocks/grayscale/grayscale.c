#include "grayscale_args.h"

int32_t grayscale_run(const grayscale_args *args, const rune_block_ctx *ctx) {
    (void)args;
    const rune_tensor *in = &ctx->inputs[0];
    uint32_t pixels = in->count / 3;
    if (in->type == RUNE_U8) {
        const uint8_t *rgb = (const uint8_t *)in->data;
        uint8_t *gray = (uint8_t *)ctx->outputs[0].data;
        for (uint32_t p = 0; p < pixels; p++) {
            uint32_t y = 299u * rgb[3 * p] + 587u * rgb[3 * p + 1] + 114u * rgb[3 * p + 2] + 500u;
            gray[p] = (uint8_t)(y / 1000u);
        }
    } else {
        const float *rgb = (const float *)in->data;
        float *gray = (float *)ctx->outputs[0].data;
        for (uint32_t p = 0; p < pixels; p++)
            gray[p] = 0.299f * rgb[3 * p] + 0.587f * rgb[3 * p + 1] + 0.114f * rgb[3 * p + 2];
    }
    return RUNE_OK;
}
