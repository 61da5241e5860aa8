/* The rune's module translated ahead of time to C by wasm2c and compiled into the firmware:
   near-native speed, every memory access still checked, traps reported like wasm3's. */
#include <setjmp.h>
#include <string.h>

#include "abi_host.h"
#include "aot_memory.h"
#include "capabilities.h"
#include "engine.h"
#include "rune_aot.h"
#include "rune_config.h"

void aot_set_trap_target(jmp_buf *target);
wasm_rt_trap_t aot_last_trap(void);

static Z_rune_instance_t instance;
static uint32_t status_address;
static int module_ready;

/* The imports of the module "rune_v1", as wasm2c names them. */
u32 Z_rune_v1Z_capability_read(struct Z_rune_v1_instance_t *imports, u32 index, u32 address, u32 bytes) {
    (void)imports;
    return (u32)abi_capability_read(rune_aot_memory, RUNE_AOT_MEMORY_BYTES, index, address, bytes);
}

u32 Z_rune_v1Z_model_infer(struct Z_rune_v1_instance_t *imports, u32 model, u32 buffers, u32 count) {
    (void)imports;
    return (u32)abi_model_infer(rune_aot_memory, RUNE_AOT_MEMORY_BYTES, model, buffers, count);
}

u32 Z_rune_v1Z_output_write(struct Z_rune_v1_instance_t *imports, u32 index, u32 address, u32 bytes) {
    (void)imports;
    return (u32)abi_output_write(rune_aot_memory, RUNE_AOT_MEMORY_BYTES, index, address, bytes);
}

const char *engine_name(void) { return "aot"; }

const char *engine_start(void) {
    jmp_buf target;
    aot_set_trap_target(&target);
    if (setjmp(target)) return wasm_rt_strerror(aot_last_trap());
    if (!module_ready) {
        wasm_rt_init();
        Z_rune_init_module();
        module_ready = 1;
    }
    wasm_rt_call_stack_depth = 0;
    Z_rune_instantiate(&instance, 0);
    Z_runeZ__initialize(&instance);
    status_address = Z_runeZ_rune_status(&instance);
    capabilities_reset();
    return Z_runeZ_rune_init(&instance) ? "rune_init failed" : 0;
}

void engine_stop(void) { Z_rune_free(&instance); }

engine_result engine_call(void) {
    engine_result result = {0, 0, 0};
    jmp_buf target;
    aot_set_trap_target(&target);
    if (setjmp(target)) {
        result.code = -1;
        engine_read_status(rune_aot_memory, RUNE_AOT_MEMORY_BYTES, status_address, &result);
        result.message = wasm_rt_strerror(aot_last_trap());
        return result;
    }
    result.code = (int32_t)Z_runeZ_rune_call(&instance);
    if (result.code) engine_read_status(rune_aot_memory, RUNE_AOT_MEMORY_BYTES, status_address, &result);
    return result;
}
