/*
 * A bare-metal runtime for the rune's module translated by wabt's wasm2c (wasm-rt.h): one
 * static linear memory of the size the rune uses, traps through setjmp/longjmp, a bounded call
 * depth, no malloc. (wabt's own runtime needs mmap, calloc and signals.)
 */
#include <stdarg.h>
#include <string.h>

#include "aot_memory.h"
#include "wasm-rt.h"

uint8_t rune_aot_memory[RUNE_AOT_MEMORY_BYTES] __attribute__((aligned(16)));
uint32_t wasm_rt_call_stack_depth;

static jmp_buf *trap_target;
static wasm_rt_trap_t last_trap;
static int initialised;

#define MAX_TYPES 64
#define MAX_TYPE_VALUES 16
static struct {
    uint32_t params, results;
    wasm_rt_type_t values[MAX_TYPE_VALUES];
} types[MAX_TYPES];
static uint32_t type_count;

#define MAX_TABLE_ELEMENTS 256
static wasm_rt_funcref_t table_elements[MAX_TABLE_ELEMENTS];

void aot_set_trap_target(jmp_buf *target) { trap_target = target; }
wasm_rt_trap_t aot_last_trap(void) { return last_trap; }

void wasm_rt_trap(wasm_rt_trap_t code) {
    last_trap = code;
    longjmp(*trap_target, 1);
}

void wasm_rt_init(void) { initialised = 1; }
bool wasm_rt_is_initialized(void) { return initialised; }
void wasm_rt_free(void) { initialised = 0; }

const char *wasm_rt_strerror(wasm_rt_trap_t trap) {
    switch (trap) {
    case WASM_RT_TRAP_OOB: return "out of bounds memory access";
    case WASM_RT_TRAP_INT_OVERFLOW: return "integer overflow";
    case WASM_RT_TRAP_DIV_BY_ZERO: return "integer divide by zero";
    case WASM_RT_TRAP_INVALID_CONVERSION: return "invalid conversion to integer";
    case WASM_RT_TRAP_UNREACHABLE: return "unreachable executed";
    case WASM_RT_TRAP_CALL_INDIRECT: return "indirect call type mismatch";
#if WASM_RT_USE_STACK_DEPTH_COUNT
    case WASM_RT_TRAP_EXHAUSTION: return "stack overflow";
#endif
    default: return "trap";
    }
}

/* Function types are compared by value; equal signatures get the same index. */
uint32_t wasm_rt_register_func_type(uint32_t params, uint32_t results, ...) {
    wasm_rt_type_t values[MAX_TYPE_VALUES];
    va_list arguments;
    va_start(arguments, results);
    /* Passed through "...", an enum arrives promoted to int (it may be a byte: short enums). */
    for (uint32_t i = 0; i < params + results && i < MAX_TYPE_VALUES; i++) values[i] = (wasm_rt_type_t)va_arg(arguments, int);
    va_end(arguments);
    if (params + results > MAX_TYPE_VALUES) wasm_rt_trap(WASM_RT_TRAP_CALL_INDIRECT);
    for (uint32_t t = 0; t < type_count; t++)
        if (types[t].params == params && types[t].results == results &&
            memcmp(types[t].values, values, (params + results) * sizeof values[0]) == 0)
            return t;
    if (type_count == MAX_TYPES) wasm_rt_trap(WASM_RT_TRAP_CALL_INDIRECT);
    types[type_count].params = params;
    types[type_count].results = results;
    memcpy(types[type_count].values, values, (params + results) * sizeof values[0]);
    return type_count++;
}

void wasm_rt_allocate_memory(wasm_rt_memory_t *memory, uint32_t initial_pages, uint32_t max_pages) {
    memset(rune_aot_memory, 0, sizeof rune_aot_memory);
    memory->data = rune_aot_memory;
    memory->pages = initial_pages;
    memory->max_pages = max_pages;
    memory->size = RUNE_AOT_MEMORY_BYTES; /* only the bytes the rune uses exist */
}

uint32_t wasm_rt_grow_memory(wasm_rt_memory_t *memory, uint32_t pages) {
    (void)memory;
    (void)pages;
    return UINT32_MAX; /* a rune's memory never grows */
}

void wasm_rt_free_memory(wasm_rt_memory_t *memory) { (void)memory; }

void wasm_rt_allocate_funcref_table(wasm_rt_funcref_table_t *table, uint32_t elements, uint32_t max_elements) {
    if (elements > MAX_TABLE_ELEMENTS) wasm_rt_trap(WASM_RT_TRAP_OOB);
    memset(table_elements, 0, sizeof table_elements);
    table->data = table_elements;
    table->size = elements;
    table->max_size = max_elements;
}

void wasm_rt_free_funcref_table(wasm_rt_funcref_table_t *table) { (void)table; }

uint32_t wasm_rt_grow_funcref_table(wasm_rt_funcref_table_t *table, uint32_t delta, wasm_rt_funcref_t init) {
    (void)table;
    (void)delta;
    (void)init;
    return UINT32_MAX;
}
