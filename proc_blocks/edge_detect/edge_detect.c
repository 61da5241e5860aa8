#include <math.h>

#include "edge_detect_args.h"

static float at(const rune_tensor *t, int32_t y, int32_t x, int32_t h, int32_t w) {
    y = y < 0 ? 0 : y >= h ? h - 1 : y; /* repeat the border */
    x = x < 0 ? 0 : x >= w ? w - 1 : x;
    uint32_t i = (uint32_t)(y * w + x);
    return t->type == RUNE_U8 ? (float)((const uint8_t *)t->data)[i] : ((const float *)t->data)[i];
}

int32_t edge_detect_run(const edge_detect_args *args, const rune_block_ctx *ctx) {
    (void)args;
    const rune_tensor *in = &ctx->inputs[0];
    int32_t h = (int32_t)in->dims[in->rank - 3], w = (int32_t)in->dims[in->rank - 2];
    for (int32_t y = 0; y < h; y++) {
        for (int32_t x = 0; x < w; x++) {
            float a = at(in, y - 1, x - 1, h, w), b = at(in, y - 1, x, h, w), c = at(in, y - 1, x + 1, h, w);
            float d = at(in, y, x - 1, h, w), f = at(in, y, x + 1, h, w);
            float g = at(in, y + 1, x - 1, h, w), k = at(in, y + 1, x, h, w), l = at(in, y + 1, x + 1, h, w);
            float gx = (c + 2.0f * f + l) - (a + 2.0f * d + g);
            float gy = (g + 2.0f * k + l) - (a + 2.0f * b + c);
            float magnitude = sqrtf(gx * gx + gy * gy);
            uint32_t i = (uint32_t)(y * w + x);
            if (in->type == RUNE_U8) {
                float v = floorf(magnitude + 0.5f);
                ((uint8_t *)ctx->outputs[0].data)[i] = (uint8_t)(v > 255.0f ? 255.0f : v);
            } else {
                ((float *)ctx->outputs[0].data)[i] = magnitude;
            }
        }
    }
    return RUNE_OK;
}
