#include <math.h>

#include "normalize_args.h"

/* Reads element i of any numeric tensor as a double (exact for all but 64-bit integers). */
static double element(const rune_tensor *t, uint32_t i) {
    switch (t->type) {
    case RUNE_U8: return ((const uint8_t *)t->data)[i];
    case RUNE_I8: return ((const int8_t *)t->data)[i];
    case RUNE_U16: return ((const uint16_t *)t->data)[i];
    case RUNE_I16: return ((const int16_t *)t->data)[i];
    case RUNE_U32: return ((const uint32_t *)t->data)[i];
    case RUNE_I32: return ((const int32_t *)t->data)[i];
    case RUNE_U64: return (double)((const uint64_t *)t->data)[i];
    case RUNE_I64: return (double)((const int64_t *)t->data)[i];
    case RUNE_F32: return ((const float *)t->data)[i];
    default: return ((const double *)t->data)[i];
    }
}

int32_t normalize_run(const normalize_args *args, const rune_block_ctx *ctx) {
    (void)args;
    const rune_tensor *in = &ctx->inputs[0];
    float *y = (float *)ctx->outputs[0].data;
    double lo = INFINITY, hi = -INFINITY;
    for (uint32_t i = 0; i < in->count; i++) {
        double v = element(in, i);
        if (v < lo) lo = v;
        if (v > hi) hi = v;
    }
    if (!(hi > lo)) { /* all equal, or no numbers at all */
        for (uint32_t i = 0; i < in->count; i++) y[i] = isnan(element(in, i)) ? NAN : 0.0f;
        return RUNE_OK;
    }
    if (in->type == RUNE_F32) { /* in single precision, as a float pipeline expects */
        const float *x = (const float *)in->data;
        float flo = (float)lo, range = (float)hi - (float)lo;
        for (uint32_t i = 0; i < in->count; i++) y[i] = (x[i] - flo) / range;
        return RUNE_OK;
    }
    for (uint32_t i = 0; i < in->count; i++) y[i] = (float)((element(in, i) - lo) / (hi - lo));
    return RUNE_OK;
}
