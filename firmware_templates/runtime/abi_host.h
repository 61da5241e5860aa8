/*
 * The rune ABI v1 imports (docs/abi.md), whatever runs the rune: each takes the rune's memory
 * (its base and size) and the call's arguments, checks every index, size and address against
 * the generated configuration and the memory, and returns the status the rune receives.
 */
#ifndef RUNE_ABI_HOST_H
#define RUNE_ABI_HOST_H

#include <stdint.h>

int32_t abi_capability_read(uint8_t *memory, uint32_t size, uint32_t index, uint32_t address, uint32_t bytes);
int32_t abi_model_infer(uint8_t *memory, uint32_t size, uint32_t model, uint32_t buffers, uint32_t count);
int32_t abi_output_write(uint8_t *memory, uint32_t size, uint32_t index, uint32_t address, uint32_t bytes);

/* Cycles spent in the imports since the last abi_reset_cycles: waiting for capability data,
   running models, writing outputs. The rest of an inference is the rune's own code. */
typedef struct {
    uint64_t capabilities, models, outputs;
} abi_cycles;

extern abi_cycles abi_spent;
void abi_reset_cycles(void);

#endif
