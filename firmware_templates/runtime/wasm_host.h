/* The rune's module in wasm3, and the rune ABI v1 imports it calls (docs/abi.md). */
#ifndef RUNE_WASM_HOST_H
#define RUNE_WASM_HOST_H

#include <stdint.h>

typedef struct {
    int32_t code;          /* the rune's status code (0 ok), or -1 for a trap or engine error */
    uint32_t stage;        /* the stage running when it ended */
    const char *message;   /* why, for a failure */
} host_result;

const char *host_start(void);          /* load and initialise the rune; NULL or an error */
host_result host_call(void);           /* one inference */
void host_stop(void);                  /* free everything (after a trap, before host_start) */
const char *host_stage_name(uint32_t stage);

#endif
