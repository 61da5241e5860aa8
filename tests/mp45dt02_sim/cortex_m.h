/* For tests/mp45dt02_harness.c: the registers the microphone driver touches, simulated
   natively (the harness defines fake_register). Stands in for runtime/boards/cortex_m.h. */
#ifndef RUNE_CORTEX_M_H
#define RUNE_CORTEX_M_H

#include <stdint.h>

volatile uint32_t *fake_register(uint32_t address);
#define REG32(address) (*fake_register(address))

#endif
