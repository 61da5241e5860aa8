#include "ranking.h"
#include "segment_output_args.h"

int32_t segment_output_run(const segment_output_args *args, const rune_block_ctx *ctx) {
    (void)args;
    const rune_tensor *in = &ctx->inputs[0];
    uint32_t classes = in->dims[in->rank - 1];
    uint32_t *out = (uint32_t *)ctx->outputs[0].data;
    for (uint32_t p = 0; p < in->count / classes; p++) {
        uint32_t best = p * classes;
        for (uint32_t i = best + 1; i < (p + 1) * classes; i++)
            if (rune_ranks_above(in, i, best)) best = i;
        out[p] = best - p * classes;
    }
    return RUNE_OK;
}
