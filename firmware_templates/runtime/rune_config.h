/*
 * The rune a firmware runs, as generated from its manifest (rune_config.c, written by
 * `rune flash`): where the .rune lies in flash and what each capability, model and output is.
 */
#ifndef RUNE_CONFIG_H
#define RUNE_CONFIG_H

#include <stdint.h>

#define RUNE_MAX_RANK 8

enum { CAPABILITY_FROM_HOST = 0, CAPABILITY_RANDOM = 1, CAPABILITY_SENSOR = 2 };

typedef struct rune_capability_config rune_capability_config;

/* A sensor driver (sensors/<driver>.c): fills `out` (the capability's bytes, not necessarily
   aligned) from a sensor on the board; NULL, or why it could not (valid until its next call).
   With `out` NULL it stops what it runs in the background (sensors/sensor.h). */
typedef const char *(*rune_sensor_read)(const rune_capability_config *c, uint8_t *out);

struct rune_capability_config {
    uint8_t source;            /* CAPABILITY_FROM_HOST, CAPABILITY_RANDOM or CAPABILITY_SENSOR */
    uint8_t type;              /* element type (ABI code) */
    uint8_t has_min, has_max;  /* RAND: whether min / max were given */
    uint32_t bytes;
    uint32_t count;
    double min, max;           /* RAND */
    uint32_t hz;               /* SOUND: the sample rate */
    rune_sensor_read sensor;   /* CAPABILITY_SENSOR: its driver */
};

typedef struct {
    uint32_t model_offset, model_bytes;  /* the .tflite inside the .rune */
    uint32_t plan_offset, plan_bytes;    /* the device engine's plan inside the .rune */
    uint32_t arena_bytes;
    uint32_t inputs, outputs;
    uint32_t tensor_bytes[16];           /* inputs then outputs */
} rune_model_config;

typedef struct {
    uint8_t type;
    uint8_t rank;
    uint32_t count;
    uint32_t bytes;
    uint32_t dims[RUNE_MAX_RANK];
} rune_output_config;

typedef struct {
    const char *name;
    const char *board;
    const uint8_t *rune;       /* the whole .rune (a wasm module), in flash */
    uint32_t rune_bytes;
    uint32_t memory_bytes;     /* the bytes of linear memory the rune uses (__heap_base) */
    uint64_t random_seed;
    uint32_t watchdog_ms;
    const rune_capability_config *capabilities;
    uint32_t capability_count;
    const rune_model_config *models;
    uint32_t model_count;
    const rune_output_config *outputs;
    uint32_t output_count;
    const char *const *stages; /* stage names, for error reports */
    uint32_t stage_count;
} rune_config;

extern const rune_config RUNE;
extern uint8_t rune_model_arena[];  /* sized for the largest model (generated) */

#endif
