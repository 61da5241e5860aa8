#include "wasm_host.h"

#include <string.h>

#include "capabilities.h"
#include "json_line.h"
#include "link.h"
#include "m3_env.h"
#include "models.h"
#include "rune_config.h"
#include "wasm3.h"

#define WASM_STACK_BYTES (16 * 1024)

static IM3Environment environment;
static IM3Runtime runtime;
static IM3Function call_function;
static uint32_t status_address;
static char last_message[120];

static int in_memory(IM3Runtime rt, uint32_t address, uint32_t bytes) {
    uint32_t size = m3_GetMemorySize(rt);
    return address <= size && bytes <= size - address;
}

/* capability_read(capability, address, bytes) -> status */
static m3ApiRawFunction(capability_read) {
    m3ApiReturnType(int32_t);
    m3ApiGetArg(uint32_t, index);
    m3ApiGetArg(uint32_t, address);
    m3ApiGetArg(uint32_t, bytes);
    (void)_ctx;
    if (!in_memory(runtime, address, bytes)) m3ApiReturn(1);
    m3ApiReturn(capability_fill(index, (uint8_t *)m3ApiOffsetToPtr(address), bytes));
}

/* model_infer(model, buffers, count) -> status; buffers: count pairs {u32 address, u32 bytes} */
static m3ApiRawFunction(model_infer) {
    m3ApiReturnType(int32_t);
    m3ApiGetArg(uint32_t, model);
    m3ApiGetArg(uint32_t, buffers);
    m3ApiGetArg(uint32_t, count);
    (void)_ctx;
    if (model >= RUNE.model_count || count > 16 || !in_memory(runtime, buffers, 8 * count)) m3ApiReturn(1);
    const rune_model_config *c = &RUNE.models[model];
    uint8_t *tensors[16];
    uint32_t bytes[16];
    const uint8_t *table = (const uint8_t *)m3ApiOffsetToPtr(buffers);
    for (uint32_t i = 0; i < count; i++) {
        uint32_t address, length;
        memcpy(&address, table + 8 * i, 4);
        memcpy(&length, table + 8 * i + 4, 4);
        if (i >= c->inputs + c->outputs || length != c->tensor_bytes[i] || !in_memory(runtime, address, length))
            m3ApiReturn(1);
        tensors[i] = (uint8_t *)m3ApiOffsetToPtr(address);
        bytes[i] = length;
    }
    m3ApiReturn(models_infer(model, tensors, bytes, count));
}

/* Strings of utf8 outputs: a NUL-terminated string at an address in the rune's memory. */
static const char *string_at(uint32_t address, size_t *length, void *context) {
    IM3Runtime rt = (IM3Runtime)context;
    uint32_t size = m3_GetMemorySize(rt);
    const char *memory = (const char *)m3_GetMemory(rt, 0, 0);
    if (address >= size) return 0;
    const char *end = memchr(memory + address, 0, size - address);
    if (!end) return 0;
    *length = (size_t)(end - (memory + address));
    return memory + address;
}

/* output_write(output, address, bytes) -> status: one SERIAL JSON line */
static m3ApiRawFunction(output_write) {
    m3ApiReturnType(int32_t);
    m3ApiGetArg(uint32_t, index);
    m3ApiGetArg(uint32_t, address);
    m3ApiGetArg(uint32_t, bytes);
    (void)_ctx;
    if (index >= RUNE.output_count || bytes != RUNE.outputs[index].bytes || !in_memory(runtime, address, bytes))
        m3ApiReturn(1);
    static const char *names[] = {"", "u8", "i8", "u16", "i16", "u32", "i32", "u64", "i64", "f32", "f64", "utf8"};
    const rune_output_config *o = &RUNE.outputs[index];
    json_begin(&link_out);
    json_key(&link_out, "type_name");
    json_string(&link_out, names[o->type], strlen(names[o->type]));
    json_key(&link_out, "channel");
    json_uint(&link_out, index);
    json_key(&link_out, "elements");
    json_elements(&link_out, o->type, m3ApiOffsetToPtr(address), o->count, string_at, runtime);
    json_key(&link_out, "dimensions");
    json_raw(&link_out, "[");
    for (uint32_t d = 0; d < o->rank; d++) {
        if (d) json_raw(&link_out, ",");
        json_uint(&link_out, o->dims[d]);
    }
    json_raw(&link_out, "]");
    json_end(&link_out);
    m3ApiReturn(0);
}

static const char *call_export(const char *name, int32_t *result) {
    IM3Function function;
    M3Result error = m3_FindFunction(&function, runtime, name);
    if (error) return error;
    error = m3_CallV(function);
    if (error) return error;
    if (result) return m3_GetResultsV(function, result);
    return 0;
}

static M3Result link_import(IM3Module module, const char *name, M3RawCall function) {
    M3Result error = m3_LinkRawFunction(module, "rune_v1", name, "i(iii)", function);
    return error == m3Err_functionLookupFailed ? 0 : error;
}

const char *host_start(void) {
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
    /* A rune imports only the functions it calls (one without models has no model_infer). */
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

void host_stop(void) {
    if (runtime) m3_FreeRuntime(runtime);
    if (environment) m3_FreeEnvironment(environment);
    runtime = 0;
    environment = 0;
}

/* The status block: { u32 abi_version; u32 stage; i32 code; char message[116]; } */
static void read_status(host_result *result) {
    uint8_t *memory = m3_GetMemory(runtime, 0, 0);
    if (!memory || !in_memory(runtime, status_address, 128)) return;
    memcpy(&result->stage, memory + status_address + 4, 4);
    memcpy(last_message, memory + status_address + 12, 116);
    last_message[115] = 0;
    if (last_message[0]) result->message = last_message;
}

host_result host_call(void) {
    host_result result = {0, 0, 0};
    M3Result error = m3_CallV(call_function);
    if (error) {
        result.code = -1;
        read_status(&result);
        result.message = strncmp(error, "[trap] ", 7) == 0 ? error + 7 : error;
        return result;
    }
    m3_GetResultsV(call_function, &result.code);
    if (result.code) read_status(&result);
    return result;
}

const char *host_stage_name(uint32_t stage) {
    return stage < RUNE.stage_count ? RUNE.stages[stage] : "?";
}
