#include <math.h>

#include "resize_args.h"

static float pixel(const rune_tensor *t, uint32_t i) {
    switch (t->type) {
    case RUNE_U8: return ((const uint8_t *)t->data)[i];
    case RUNE_I8: return ((const int8_t *)t->data)[i];
    case RUNE_U16: return ((const uint16_t *)t->data)[i];
    case RUNE_I16: return ((const int16_t *)t->data)[i];
    default: return ((const float *)t->data)[i];
    }
}

static float clampf(float v, float lo, float hi) { return v < lo ? lo : v > hi ? hi : v; }

static void store(const rune_tensor *t, uint32_t i, float v) {
    switch (t->type) {
    case RUNE_U8: ((uint8_t *)t->data)[i] = (uint8_t)clampf(floorf(v + 0.5f), 0.0f, 255.0f); break;
    case RUNE_I8: ((int8_t *)t->data)[i] = (int8_t)clampf(floorf(v + 0.5f), -128.0f, 127.0f); break;
    case RUNE_U16: ((uint16_t *)t->data)[i] = (uint16_t)clampf(floorf(v + 0.5f), 0.0f, 65535.0f); break;
    case RUNE_I16: ((int16_t *)t->data)[i] = (int16_t)clampf(floorf(v + 0.5f), -32768.0f, 32767.0f); break;
    default: ((float *)t->data)[i] = v;
    }
}

/* Where output row (or column) `d` samples the input, with half-pixel centres. */
static float source(uint32_t d, float scale) { return ((float)d + 0.5f) * scale - 0.5f; }

int32_t resize_run(const resize_args *args, const rune_block_ctx *ctx) {
    const rune_tensor *in = &ctx->inputs[0], *out = &ctx->outputs[0];
    uint32_t h_in = in->dims[in->rank - 3], w_in = in->dims[in->rank - 2], c = in->dims[in->rank - 1];
    uint32_t h_out = args->height, w_out = args->width;
    float sy = (float)h_in / (float)h_out, sx = (float)w_in / (float)w_out;
    for (uint32_t y = 0; y < h_out; y++) {
        for (uint32_t x = 0; x < w_out; x++) {
            for (uint32_t k = 0; k < c; k++) {
                uint32_t o = (y * w_out + x) * c + k;
                if (args->method == RESIZE_METHOD_NEAREST) {
                    uint32_t iy = (uint32_t)floorf(((float)y + 0.5f) * sy);
                    uint32_t ix = (uint32_t)floorf(((float)x + 0.5f) * sx);
                    if (iy > h_in - 1) iy = h_in - 1;
                    if (ix > w_in - 1) ix = w_in - 1;
                    store(out, o, pixel(in, (iy * w_in + ix) * c + k));
                    continue;
                }
                float fy = clampf(source(y, sy), 0.0f, (float)(h_in - 1));
                float fx = clampf(source(x, sx), 0.0f, (float)(w_in - 1));
                uint32_t y0 = (uint32_t)fy, x0 = (uint32_t)fx;
                uint32_t y1 = y0 + 1 < h_in ? y0 + 1 : y0, x1 = x0 + 1 < w_in ? x0 + 1 : x0;
                float wy = fy - (float)y0, wx = fx - (float)x0;
                float top = pixel(in, (y0 * w_in + x0) * c + k) * (1.0f - wx) + pixel(in, (y0 * w_in + x1) * c + k) * wx;
                float bottom = pixel(in, (y1 * w_in + x0) * c + k) * (1.0f - wx) + pixel(in, (y1 * w_in + x1) * c + k) * wx;
                store(out, o, top * (1.0f - wy) + bottom * wy);
            }
        }
    }
    return RUNE_OK;
}
