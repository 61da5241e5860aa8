#include "capabilities.h"

#include <string.h>

#include "board.h"
#include "link.h"
#include "rune_config.h"

#define MAX_CAPABILITIES 16
/* A sensor that failed is asked again only after this pause: a missing sensor then gives an
   error line a second rather than a flood of them. */
#define SENSOR_RETRY_MS 1000u

static uint64_t random_state[MAX_CAPABILITIES];
static uint64_t sensor_failed_at[MAX_CAPABILITIES]; /* board_cycles() of the last failure; 0: none */
static const char *problem;

const char *capability_problem(void) { return problem; }

void capabilities_reset(void) {
    for (uint32_t i = 0; i < MAX_CAPABILITIES; i++) random_state[i] = RUNE.random_seed + i;
}

static uint64_t splitmix64(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Integer ranges as 64-bit two's complement (index: ABI type code): the smallest value and one
   past the largest. Arithmetic modulo 2^64 then gives min + draw mod (max - min) for every type. */
static const uint64_t type_low[] = {0, 0, (uint64_t)-128, 0, (uint64_t)-32768, 0, (uint64_t)-2147483648ll, 0,
                                    0x8000000000000000ull};
static const uint64_t type_end[] = {0, 256, 128, 65536, 32768, 1ull << 32, 1ull << 31, 0, 0x8000000000000000ull};

static uint64_t whole(double v) { return v < 0 ? (uint64_t)(int64_t)v : (uint64_t)v; } /* like Python's int() */

static void fill_random(const rune_capability_config *c, uint64_t *state, uint8_t *out) {
    uint32_t size = c->bytes / c->count;
    for (uint32_t i = 0; i < c->count; i++) {
        uint64_t draw = splitmix64(state);
        if (c->type == 9 || c->type == 10) { /* f32, f64: min + unit * (max - min), in double */
            double low = c->has_min ? c->min : 0.0, high = c->has_max ? c->max : 1.0;
            double value = low + ((double)(draw >> 11) * (1.0 / 9007199254740992.0)) * (high - low);
            if (c->type == 9) { float f = (float)value; memcpy(out + 4 * i, &f, 4); }
            else memcpy(out + 8 * i, &value, 8);
            continue;
        }
        uint64_t value = draw; /* no range: all the bits of the type */
        if (c->has_min || c->has_max) {
            uint64_t low = c->has_min ? whole(c->min) : type_low[c->type];
            uint64_t span = (c->has_max ? whole(c->max) : type_end[c->type]) - low;
            value = span ? low + draw % span : low + draw;
        }
        memcpy(out + size * i, &value, size); /* little-endian: the low bytes */
    }
}

static int read_sensor(uint32_t index, const rune_capability_config *c, uint8_t *destination) {
    uint64_t *failed_at = &sensor_failed_at[index % MAX_CAPABILITIES];
    if (*failed_at) { /* bounded: never longer than half the watchdog's patience */
        uint32_t ms = SENSOR_RETRY_MS;
        if (RUNE.watchdog_ms && ms > RUNE.watchdog_ms / 2) ms = RUNE.watchdog_ms / 2;
        uint64_t until = *failed_at + (uint64_t)board_cpu_hz() / 1000u * ms;
        while (board_cycles() < until) {
        }
    }
    problem = c->sensor(c, destination);
    *failed_at = problem ? board_cycles() | 1u : 0;
    return problem ? 1 : 0;
}

/* The serial link's console is polled: a sensor capturing in the background (the microphone's
   interrupt) would make it lose bytes. Stopped before the host sends; its next read restarts it. */
static void quiet_sensors(void) {
    for (uint32_t i = 0; i < RUNE.capability_count; i++)
        if (RUNE.capabilities[i].source == CAPABILITY_SENSOR && RUNE.capabilities[i].sensor)
            RUNE.capabilities[i].sensor(&RUNE.capabilities[i], 0);
}

int capability_fill(uint32_t index, uint8_t *destination, uint32_t bytes) {
    problem = 0;
    if (index >= RUNE.capability_count || bytes != RUNE.capabilities[index].bytes) return 1;
    const rune_capability_config *c = &RUNE.capabilities[index];
    if (c->source == CAPABILITY_RANDOM) {
        fill_random(c, &random_state[index % MAX_CAPABILITIES], destination);
        return 0;
    }
    if (c->source == CAPABILITY_SENSOR && c->sensor) return read_sensor(index, c, destination);
    quiet_sensors();
    return link_request_capability(index, destination, bytes) == 0 ? 0 : 1;
}
