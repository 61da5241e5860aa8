/*
 * What the sensor drivers (sensors/<driver>.c, one per sensor) share. A driver implements
 *
 *   const char *sensor_<driver>_read(const rune_capability_config *c, uint8_t *out);
 *
 * (rune_sensor_read in rune_config.h): it fills the capability's bytes from its sensor and
 * returns NULL, or why it could not. Every wait is bounded, so that a sensor that does not
 * answer is an error line ({"error":"capability",...}), never a hang. No driver allocates.
 * Called with `out` NULL, a driver stops whatever it runs in the background (capabilities.c
 * does so before the serial link receives data) and returns NULL.
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

/* Between seeing that a DMA or an interrupt has written memory (its flag, a count) and reading
   that memory, so that neither the compiler nor the core reads it early. */
#if defined(__arm__)
#define SENSOR_BARRIER() __asm__ volatile("dmb" ::: "memory")
#else /* natively, in the tests */
#define SENSOR_BARRIER() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#endif

#endif
