/*
 * The serial link to the host (docs/firmware.md, "Serial protocol").
 *
 * Device to host: JSON lines (json_line.h). Host to device: capability data, sent when the
 * device asks with {"request":"capability","index":I,"bytes":N} as a frame
 *
 *   "RUNE"  u8 kind (1)  u8 index  u16 0  u32 length  payload[length]  u32 crc32(payload)
 *
 * (little-endian). A corrupted or unexpected frame is reported and asked for again.
 */
#ifndef RUNE_LINK_H
#define RUNE_LINK_H

#include <stdint.h>

#include "json_line.h"

extern json_line link_out;  /* every line the device writes goes through this */

void link_init(void);
/* Ask the host for capability `index` and put its `bytes` bytes at `destination`; 0 on success. */
int link_request_capability(uint32_t index, uint8_t *destination, uint32_t bytes);
void link_error(const char *kind, const char *stage, const char *message);

#endif
