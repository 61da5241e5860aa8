#include <math.h>

#include "softmax_args.h"

int32_t softmax_run(const softmax_args *args, const rune_block_ctx *ctx) {
    (void)args;
    const rune_tensor *in = &ctx->inputs[0];
    const float *x = (const float *)in->data;
    float *y = (float *)ctx->outputs[0].data;
    uint32_t row = in->rank ? in->dims[in->rank - 1] : 1;
    for (uint32_t start = 0; start < in->count; start += row) {
        float top = x[start];
        for (uint32_t i = 1; i < row; i++)
            if (x[start + i] > top || isnan(x[start + i])) top = x[start + i];
        float sum = 0.0f;
        for (uint32_t i = 0; i < row; i++) {
            y[start + i] = expf(x[start + i] - top);
            sum += y[start + i];
        }
        for (uint32_t i = 0; i < row; i++) y[start + i] /= sum;
    }
    return RUNE_OK;
}
