/*
 * What the sensor drivers (sensors/<driver>.c, one per sensor) share. A driver implements
 *
 *   const char *sensor_<driver>_read(const rune_capability_config *c, uint8_t *out);
 *
 * (rune_sensor_read in rune_config.h): it fills the capability's bytes from its sensor and
 * returns NULL, or why it could not. Every wait is bounded, so that a sensor that does not
 * answer is an error line ({"error":"capability",...}), never a hang. No driver allocates.
 */
#ifndef RUNE_SENSOR_H
#define RUNE_SENSOR_H

#include <stdint.h>

#include "board.h"
#include "cortex_m.h" /* REG32 */
#include "rune_config.h"

/* board_cycles() when `ms` milliseconds will have passed. */
static inline uint64_t sensor_deadline(uint32_t ms) {
    return board_cycles() + (uint64_t)board_cpu_hz() / 1000u * ms;
}

static inline int sensor_expired(uint64_t deadline) { return board_cycles() > deadline; }

/* `prefix` followed by `value` as two hex digits, in `buffer` (for messages that quote what a
   sensor answered). */
static inline const char *sensor_message_hex(char *buffer, uint32_t size, const char *prefix, uint8_t value,
                                             const char *suffix) {
    static const char digits[] = "0123456789abcdef";
    uint32_t n = 0;
    while (*prefix && n + 1 < size) buffer[n++] = *prefix++;
    if (n + 5 < size) {
        buffer[n++] = '0';
        buffer[n++] = 'x';
        buffer[n++] = digits[value >> 4];
        buffer[n++] = digits[value & 15u];
    }
    while (*suffix && n + 1 < size) buffer[n++] = *suffix++;
    buffer[n] = 0;
    return buffer;
}

#endif
