#include "most_confident_indices_args.h"
#include "ranking.h"

/* Selection without scratch memory: pick k is the best element ranking below pick k-1. */
int32_t most_confident_indices_run(const most_confident_indices_args *args, const rune_block_ctx *ctx) {
    const rune_tensor *in = &ctx->inputs[0];
    uint32_t *indices = (uint32_t *)ctx->outputs[0].data;
    for (uint32_t k = 0; k < args->count; k++) {
        uint32_t best = UINT32_MAX;
        for (uint32_t i = 0; i < in->count; i++) {
            if (k > 0 && !rune_ranks_above(in, indices[k - 1], i)) continue;
            if (best == UINT32_MAX || rune_ranks_above(in, i, best)) best = i;
        }
        indices[k] = best;
    }
    return RUNE_OK;
}
