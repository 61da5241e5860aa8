#include "argmax_args.h"
#include "ranking.h"

int32_t argmax_run(const argmax_args *args, const rune_block_ctx *ctx) {
    (void)args;
    const rune_tensor *in = &ctx->inputs[0];
    uint32_t *index = (uint32_t *)ctx->outputs[0].data;
    uint32_t best = 0;
    for (uint32_t i = 1; i < in->count; i++)
        if (rune_ranks_above(in, i, best)) best = i;
    index[0] = best;
    return RUNE_OK;
}
