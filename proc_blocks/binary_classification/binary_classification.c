#include "binary_classification_args.h"

int32_t binary_classification_run(const binary_classification_args *args, const rune_block_ctx *ctx) {
    const rune_tensor *in = &ctx->inputs[0];
    uint32_t *out = (uint32_t *)ctx->outputs[0].data;
    double t = args->threshold;
    for (uint32_t i = 0; i < in->count; i++) {
        int above;
        switch (in->type) {
        case RUNE_U8: above = ((const uint8_t *)in->data)[i] > t; break;
        case RUNE_I8: above = ((const int8_t *)in->data)[i] > t; break;
        case RUNE_U16: above = ((const uint16_t *)in->data)[i] > t; break;
        case RUNE_I16: above = ((const int16_t *)in->data)[i] > t; break;
        case RUNE_U32: above = ((const uint32_t *)in->data)[i] > t; break;
        case RUNE_I32: above = ((const int32_t *)in->data)[i] > t; break;
        case RUNE_U64: above = (double)((const uint64_t *)in->data)[i] > t; break;
        case RUNE_I64: above = (double)((const int64_t *)in->data)[i] > t; break;
        case RUNE_F32: above = (double)((const float *)in->data)[i] > t; break;
        default: above = ((const double *)in->data)[i] > t; break;
        }
        out[i] = (uint32_t)above;
    }
    return RUNE_OK;
}
