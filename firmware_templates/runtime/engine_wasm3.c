/* The rune's module in the wasm3 interpreter: loadable at run time (a firmware can take any
   rune), at a cost in speed. */
#include <string.h>

#include "abi_host.h"
#include "capabilities.h"
#include "engine.h"
#include "m3_env.h"
#include "rune_config.h"
#include "wasm3.h"

#define WASM_STACK_BYTES (16 * 1024)

static IM3Environment environment;
static IM3Runtime runtime;
static IM3Function call_function;
static uint32_t status_address;

#define MEMORY_OF(rt) ((uint8_t *)_mem), m3_GetMemorySize(rt)

static m3ApiRawFunction(capability_read) {
    m3ApiReturnType(int32_t);
    m3ApiGetArg(uint32_t, index);
    m3ApiGetArg(uint32_t, address);
    m3ApiGetArg(uint32_t, bytes);
    (void)_ctx;
    m3ApiReturn(abi_capability_read(MEMORY_OF(runtime), index, address, bytes));
}

static m3ApiRawFunction(model_infer) {
    m3ApiReturnType(int32_t);
    m3ApiGetArg(uint32_t, model);
    m3ApiGetArg(uint32_t, buffers);
    m3ApiGetArg(uint32_t, count);
    (void)_ctx;
    m3ApiReturn(abi_model_infer(MEMORY_OF(runtime), model, buffers, count));
}

static m3ApiRawFunction(output_write) {
    m3ApiReturnType(int32_t);
    m3ApiGetArg(uint32_t, index);
    m3ApiGetArg(uint32_t, address);
    m3ApiGetArg(uint32_t, bytes);
    (void)_ctx;
    m3ApiReturn(abi_output_write(MEMORY_OF(runtime), index, address, bytes));
}

static M3Result call_export(const char *name, int32_t *result) {
    IM3Function function;
    M3Result error = m3_FindFunction(&function, runtime, name);
    if (error) return error;
    if ((error = m3_CallV(function))) return error;
    return result ? m3_GetResultsV(function, result) : 0;
}

/* A rune imports only the functions it calls (one without models has no model_infer). */
static M3Result link_import(IM3Module module, const char *name, M3RawCall function) {
    M3Result error = m3_LinkRawFunction(module, "rune_v1", name, "i(iii)", function);
    return error == m3Err_functionLookupFailed ? 0 : error;
}

const char *engine_name(void) { return "wasm3"; }

const char *engine_start(void) {
    environment = m3_NewEnvironment();
    if (!environment) return "out of memory (wasm3 environment)";
    runtime = m3_NewRuntime(environment, WASM_STACK_BYTES, 0);
    if (!runtime) return "out of memory (wasm3 runtime)";
    runtime->memoryLimit = RUNE.memory_bytes; /* allocate only the bytes the rune uses */
    IM3Module module;
    M3Result error = m3_ParseModule(environment, &module, RUNE.rune, RUNE.rune_bytes);
    if (error) return error;
    if ((error = m3_LoadModule(runtime, module))) {
        m3_FreeModule(module); /* not owned by the runtime yet */
        return error;
    }
    if ((error = link_import(module, "capability_read", &capability_read))) return error;
    if ((error = link_import(module, "model_infer", &model_infer))) return error;
    if ((error = link_import(module, "output_write", &output_write))) return error;
    if ((error = call_export("_initialize", 0))) return error;
    int32_t address = 0;
    if ((error = call_export("rune_status", &address))) return error;
    status_address = (uint32_t)address;
    if ((error = m3_FindFunction(&call_function, runtime, "rune_call"))) return error;
    capabilities_reset();
    int32_t status = 0;
    if ((error = call_export("rune_init", &status))) return error;
    return status ? "rune_init failed" : 0;
}

void engine_stop(void) {
    if (runtime) m3_FreeRuntime(runtime);
    if (environment) m3_FreeEnvironment(environment);
    runtime = 0;
    environment = 0;
}

engine_result engine_call(void) {
    engine_result result = {0, 0, 0};
    M3Result error = m3_CallV(call_function);
    uint8_t *memory = m3_GetMemory(runtime, 0, 0);
    if (error) {
        result.code = -1;
        engine_read_status(memory, m3_GetMemorySize(runtime), status_address, &result);
        result.message = strncmp(error, "[trap] ", 7) == 0 ? error + 7 : error;
        return result;
    }
    m3_GetResultsV(call_function, &result.code);
    if (result.code) engine_read_status(memory, m3_GetMemorySize(runtime), status_address, &result);
    return result;
}
