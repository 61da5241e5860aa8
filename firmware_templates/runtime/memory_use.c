#include "memory_use.h"

#define PAINT 0x5AA5A55Au
#define RED_ZONE 64u /* bytes below the stack pointer left alone while painting */

extern uint32_t _heap_end[], _stack_top[];
extern uint32_t heap_peak_bytes; /* syscalls.c */

void memory_paint_stack(void) {
    uint32_t *word = _heap_end;
    uint32_t *limit = (uint32_t *)((uintptr_t)__builtin_frame_address(0) - RED_ZONE);
    while (word < limit) *word++ = PAINT;
}

uint32_t memory_stack_peak(void) {
    const uint32_t *word = _heap_end;
    while (word < _stack_top && *word == PAINT) word++;
    return (uint32_t)((uintptr_t)_stack_top - (uintptr_t)word);
}

uint32_t memory_heap_peak(void) { return heap_peak_bytes; }
