#include <string.h>

#include "center_crop_args.h"

static uint32_t element_size(uint32_t type) {
    switch (type) {
    case RUNE_U8: case RUNE_I8: return 1;
    case RUNE_U16: case RUNE_I16: return 2;
    case RUNE_U64: case RUNE_I64: case RUNE_F64: return 8;
    default: return 4;
    }
}

int32_t center_crop_run(const center_crop_args *args, const rune_block_ctx *ctx) {
    (void)args;
    const rune_tensor *in = &ctx->inputs[0];
    uint32_t h = in->dims[in->rank - 3], w = in->dims[in->rank - 2], c = in->dims[in->rank - 1];
    uint32_t side = h < w ? h : w, top = (h - side) / 2, left = (w - side) / 2;
    uint32_t row = side * c * element_size(in->type), stride = w * c * element_size(in->type);
    const uint8_t *src = (const uint8_t *)in->data + top * stride + left * c * element_size(in->type);
    uint8_t *dst = (uint8_t *)ctx->outputs[0].data;
    for (uint32_t y = 0; y < side; y++) memcpy(dst + y * row, src + y * stride, row);
    return RUNE_OK;
}
