/* The one system call the C library needs here: memory for malloc (wasm3's runtime and the rune's
   linear memory), between the end of static data and the stack, never past it. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>

extern uint8_t _heap_start[], _heap_end[];
static uint8_t *heap_top = _heap_start;
uint32_t heap_peak_bytes;

void *_sbrk(ptrdiff_t increment) {
    if (increment > _heap_end - heap_top || increment < _heap_start - heap_top) {
        errno = ENOMEM;
        return (void *)-1;
    }
    uint8_t *previous = heap_top;
    heap_top += increment;
    if ((uint32_t)(heap_top - _heap_start) > heap_peak_bytes) heap_peak_bytes = (uint32_t)(heap_top - _heap_start);
    return previous;
}
