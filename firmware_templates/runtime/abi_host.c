#include "abi_host.h"

#include <string.h>

#include "board.h"

#include "capabilities.h"
#include "engine.h"
#include "json_line.h"
#include "link.h"
#include "models.h"
#include "rune_config.h"

abi_cycles abi_spent;

void abi_reset_cycles(void) { memset(&abi_spent, 0, sizeof abi_spent); }

static int in_memory(uint32_t size, uint32_t address, uint32_t bytes) {
    return address <= size && bytes <= size - address;
}

int32_t abi_capability_read(uint8_t *memory, uint32_t size, uint32_t index, uint32_t address, uint32_t bytes) {
    if (!in_memory(size, address, bytes)) return 1;
    uint64_t start = board_cycles();
    int32_t status = capability_fill(index, memory + address, bytes);
    abi_spent.capabilities += board_cycles() - start;
    return status;
}

int32_t abi_model_infer(uint8_t *memory, uint32_t size, uint32_t model, uint32_t buffers, uint32_t count) {
    if (model >= RUNE.model_count || count > 16 || !in_memory(size, buffers, 8 * count)) return 1;
    const rune_model_config *c = &RUNE.models[model];
    uint8_t *tensors[16];
    uint32_t bytes[16];
    for (uint32_t i = 0; i < count; i++) {
        uint32_t address, length;
        memcpy(&address, memory + buffers + 8 * i, 4);
        memcpy(&length, memory + buffers + 8 * i + 4, 4);
        if (i >= c->inputs + c->outputs || length != c->tensor_bytes[i] || !in_memory(size, address, length)) return 1;
        tensors[i] = memory + address;
        bytes[i] = length;
    }
    uint64_t start = board_cycles();
    int32_t status = models_infer(model, tensors, bytes, count);
    abi_spent.models += board_cycles() - start;
    return status;
}

typedef struct {
    const uint8_t *memory;
    uint32_t size;
} memory_view;

/* A utf8 element: a NUL-terminated string at an address in the rune's memory. */
static const char *string_at(uint32_t address, size_t *length, void *context) {
    const memory_view *view = (const memory_view *)context;
    if (address >= view->size) return 0;
    const char *start = (const char *)view->memory + address;
    const char *end = memchr(start, 0, view->size - address);
    if (!end) return 0;
    *length = (size_t)(end - start);
    return start;
}

int32_t abi_output_write(uint8_t *memory, uint32_t size, uint32_t index, uint32_t address, uint32_t bytes) {
    static const char *names[] = {"", "u8", "i8", "u16", "i16", "u32", "i32", "u64", "i64", "f32", "f64", "utf8"};
    if (index >= RUNE.output_count || bytes != RUNE.outputs[index].bytes || !in_memory(size, address, bytes)) return 1;
    const rune_output_config *o = &RUNE.outputs[index];
    memory_view view = {memory, size};
    uint64_t start = board_cycles();
    json_begin(&link_out);
    json_key(&link_out, "type_name");
    json_string(&link_out, names[o->type], strlen(names[o->type]));
    json_key(&link_out, "channel");
    json_uint(&link_out, index);
    json_key(&link_out, "elements");
    json_elements(&link_out, o->type, memory + address, o->count, string_at, &view);
    json_key(&link_out, "dimensions");
    json_raw(&link_out, "[");
    for (uint32_t d = 0; d < o->rank; d++) {
        if (d) json_raw(&link_out, ",");
        json_uint(&link_out, o->dims[d]);
    }
    json_raw(&link_out, "]");
    json_end(&link_out);
    abi_spent.outputs += board_cycles() - start;
    return 0;
}

void engine_read_status(const uint8_t *memory, uint32_t size, uint32_t address, engine_result *result) {
    static char message[116];
    if (!memory || !in_memory(size, address, 128)) return;
    memcpy(&result->stage, memory + address + 4, 4);
    memcpy(message, memory + address + 12, sizeof message);
    message[sizeof message - 1] = 0;
    if (message[0]) result->message = message;
}
