/* Where capability data comes from on the device: the host over the serial link, or RAND
   generated here exactly as every Rune host generates it (docs/abi.md, "Capabilities"). */
#ifndef RUNE_CAPABILITIES_H
#define RUNE_CAPABILITIES_H

#include <stdint.h>

void capabilities_reset(void);
int capability_fill(uint32_t index, uint8_t *destination, uint32_t bytes);

#endif
