/* What runs the rune's module: wasm3 (engine_wasm3.c) or the module translated ahead of time
   to C (engine_aot.c). Exactly one is compiled into a firmware. */
#ifndef RUNE_ENGINE_INTERFACE_H
#define RUNE_ENGINE_INTERFACE_H

#include <stdint.h>

typedef struct {
    int32_t code;          /* the rune's status code (0 ok), or -1 for a trap */
    uint32_t stage;        /* the stage running when it ended */
    const char *message;   /* why, for a failure */
} engine_result;

const char *engine_start(void);   /* load and initialise the rune; NULL or an error */
engine_result engine_call(void);  /* one inference */
void engine_stop(void);           /* free everything (after a trap, before engine_start) */
const char *engine_name(void);

/* Shared by the engines: the status block, read after a failure (docs/abi.md). */
void engine_read_status(const uint8_t *memory, uint32_t size, uint32_t address, engine_result *result);

#endif
