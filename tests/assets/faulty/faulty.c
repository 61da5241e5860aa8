/* Input 0: do the job; 1: write far outside memory; 2: loop forever; 3: fail politely;
   4: recurse forever. */
#include "faulty_args.h"

static volatile uint32_t sink;

static uint32_t recurse(uint32_t n) { /* each frame uses stack memory: the overflow cannot be optimised away */
    volatile uint8_t frame[256];
    frame[n & 255] = (uint8_t)n;
    if (sink == 12345u) return frame[0];
    return recurse(n + 1) + frame[1];
}

int32_t faulty_run(const faulty_args *args, const rune_block_ctx *ctx) {
    uint8_t mode = ((const uint8_t *)ctx->inputs[0].data)[0];
    ((uint8_t *)ctx->outputs[0].data)[0] = mode;
    if (mode == 1) *(volatile uint32_t *)(uintptr_t)0x7ffffff0u = 1;
    if (mode == 2) for (;;) sink++;
    if (mode == 3) return rune_block_fail("faulty: asked to fail");
    if (mode == 4) sink = recurse(1);
    return RUNE_OK;
}
