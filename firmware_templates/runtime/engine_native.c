/*
 * The benchmark reference: the rune's C (glue and blocks) compiled directly for the board, no
 * sandbox. It calls the same ABI functions through plain symbols, with the whole address space
 * as its "memory". bench/device.py compares wasm3 and aot against it; users flash aot or wasm3.
 */
#include <stdint.h>

#include "abi_host.h"
#include "capabilities.h"
#include "engine.h"

int32_t rune_init(void);
int32_t rune_call(void);
uint32_t rune_status(void);

static uint32_t status_address;

int32_t host_capability_read(uint32_t capability, void *data, uint32_t bytes) {
    return abi_capability_read(0, UINT32_MAX, capability, (uint32_t)(uintptr_t)data, bytes);
}

int32_t host_model_infer(uint32_t model, const void *tensors, uint32_t count) {
    return abi_model_infer(0, UINT32_MAX, model, (uint32_t)(uintptr_t)tensors, count);
}

int32_t host_output_write(uint32_t output, const void *data, uint32_t bytes) {
    return abi_output_write(0, UINT32_MAX, output, (uint32_t)(uintptr_t)data, bytes);
}

const char *engine_name(void) { return "native"; }

const char *engine_start(void) {
    capabilities_reset();
    status_address = rune_status();
    return rune_init() ? "rune_init failed" : 0;
}

void engine_stop(void) {}

engine_result engine_call(void) {
    engine_result result = {rune_call(), 0, 0};
    if (result.code) engine_read_status(0, UINT32_MAX, status_address, &result);
    return result;
}
