/* Where capability data comes from on the device: the host over the serial link, a sensor on
   the board (sensors/), or RAND generated here exactly as every Rune host generates it
   (docs/abi.md, "Capabilities"). rune_config.c says which, for each capability. */
#ifndef RUNE_CAPABILITIES_H
#define RUNE_CAPABILITIES_H

#include <stdint.h>

void capabilities_reset(void);
int capability_fill(uint32_t index, uint8_t *destination, uint32_t bytes);
/* Why the last capability_fill failed, when a sensor said why; else NULL. */
const char *capability_problem(void);

#endif
