/* How much of the stack and the heap the firmware has used at most: the figures behind the
   "RAM used" that bench/device.py and the inference events report, measured rather than
   estimated. */
#ifndef RUNE_MEMORY_USE_H
#define RUNE_MEMORY_USE_H

#include <stdint.h>

void memory_paint_stack(void);       /* at start-up: mark the unused stack */
uint32_t memory_stack_peak(void);    /* bytes of stack ever used */
uint32_t memory_heap_peak(void);     /* bytes of heap ever taken (malloc through _sbrk) */

#endif
