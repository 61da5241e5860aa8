#include "label_args.h"

/* Signed view of element i, so that negative indices are caught too. */
static int64_t index_at(const rune_tensor *t, uint32_t i) {
    switch (t->type) {
    case RUNE_U8: return ((const uint8_t *)t->data)[i];
    case RUNE_I8: return ((const int8_t *)t->data)[i];
    case RUNE_U16: return ((const uint16_t *)t->data)[i];
    case RUNE_I16: return ((const int16_t *)t->data)[i];
    case RUNE_U32: return ((const uint32_t *)t->data)[i];
    case RUNE_I32: return ((const int32_t *)t->data)[i];
    case RUNE_U64: {
        uint64_t v = ((const uint64_t *)t->data)[i];
        return v > INT64_MAX ? -1 : (int64_t)v;
    }
    default: return ((const int64_t *)t->data)[i];
    }
}

int32_t label_run(const label_args *args, const rune_block_ctx *ctx) {
    const rune_tensor *in = &ctx->inputs[0];
    const char **out = (const char **)ctx->outputs[0].data;
    for (uint32_t i = 0; i < in->count; i++) {
        int64_t index = index_at(in, i);
        if (index >= 0 && index < (int64_t)args->labels_count) {
            out[i] = args->labels[index];
        } else if (args->fallback) {
            out[i] = args->fallback;
        } else {
            return rune_block_fail("label: an index is outside the label list (set 'fallback' to allow it)");
        }
    }
    return RUNE_OK;
}
