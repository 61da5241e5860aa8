/* The device runtime's capability_fill (firmware_templates/runtime/capabilities.c) natively,
 * for tests/test_sensors.py: a sensor that fails the first FAILURES times it is read, and a
 * capability the host feeds. The clock (board_cycles) moves 1 µs of a 16 MHz CPU each time it
 * is read. Build with -DWATCHDOG_MS=...; prints one JSON line per fill:
 *
 *   {"capability": I, "failed": 0|1, "sensor_read_at_us": T, "sensor_stopped": N}
 *
 * sensor_read_at_us: when the sensor was asked for data (-1: it was not); sensor_stopped: how
 * many times it was told to stop (read with no destination) so far.
 */
#include <stdio.h>
#include <stdlib.h>

#include "board.h"
#include "capabilities.h"
#include "rune_config.h"

#define CPU_HZ 16000000u

static uint64_t now;
static int failures, stopped;
static long read_at;

uint64_t board_cycles(void) { return now += CPU_HZ / 1000000u; }
uint32_t board_cpu_hz(void) { return CPU_HZ; }

static const char *sensor(const rune_capability_config *c, uint8_t *out) {
    (void)c;
    if (!out) {
        stopped++;
        return 0;
    }
    read_at = (long)(board_cycles() / (CPU_HZ / 1000000u));
    if (failures > 0) {
        failures--;
        return "the sensor does not answer";
    }
    out[0] = 1;
    return 0;
}

int link_request_capability(uint32_t index, uint8_t *destination, uint32_t bytes) {
    (void)index;
    (void)bytes;
    destination[0] = 2;
    return 0;
}

static const rune_capability_config capabilities[] = {
    {.source = CAPABILITY_SENSOR, .type = 1, .bytes = 1, .count = 1, .sensor = sensor},
    {.source = CAPABILITY_FROM_HOST, .type = 1, .bytes = 1, .count = 1},
};
const rune_config RUNE = {.watchdog_ms = WATCHDOG_MS, .capabilities = capabilities, .capability_count = 2};

int main(int argc, char **argv) {
    /* FAILURES, then the capabilities to fill in turn, each with the µs the rune computes first */
    if (argc < 2) return 2;
    failures = atoi(argv[1]);
    capabilities_reset();
    for (int i = 2; i + 1 < argc; i += 2) {
        now += (uint64_t)strtoul(argv[i + 1], 0, 10) * (CPU_HZ / 1000000u);
        uint8_t data[1] = {0};
        uint32_t index = (uint32_t)atoi(argv[i]);
        read_at = -1;
        int failed = capability_fill(index, data, 1);
        printf("{\"capability\": %u, \"failed\": %d, \"sensor_read_at_us\": %ld, \"sensor_stopped\": %d}\n", index,
               failed, read_at, stopped);
    }
    return 0;
}
