/*
 * The firmware's main loop: announce the boot, start the rune, then run inferences forever,
 * writing every output as a SERIAL JSON line. Errors are reported as JSON lines too; after a
 * trap the rune is instantiated again, and a hang is caught by the watchdog (the board resets
 * and its next boot line says why).
 */
#include <string.h>

#include "abi_host.h"
#include "board.h"
#include "capabilities.h"
#include "link.h"
#include "memory_use.h"
#include "models.h"
#include "rune_config.h"
#include "engine.h"

static void announce(const char *event, uint32_t number, uint64_t cycles) {
    json_begin(&link_out);
    json_key(&link_out, "event");
    json_string(&link_out, event, strlen(event));
    if (strcmp(event, "boot") == 0) {
        json_key(&link_out, "rune");
        json_string(&link_out, RUNE.name, strlen(RUNE.name));
        json_key(&link_out, "board");
        json_string(&link_out, RUNE.board, strlen(RUNE.board));
        json_key(&link_out, "abi");
        json_uint(&link_out, 1);
        json_key(&link_out, "engine");
        json_string(&link_out, engine_name(), strlen(engine_name()));
        json_key(&link_out, "reset");
        json_string(&link_out, board_reset_cause(), strlen(board_reset_cause()));
        if (board_fault_address()) {
            json_key(&link_out, "fault_pc");
            json_uint(&link_out, board_fault_address());
        }
    } else { /* cycles: the whole inference, then where they went; peak stack and heap so far */
        json_key(&link_out, "number");
        json_uint(&link_out, number);
        json_key(&link_out, "cycles");
        json_uint(&link_out, cycles);
        json_key(&link_out, "capability_cycles");
        json_uint(&link_out, abi_spent.capabilities);
        json_key(&link_out, "model_cycles");
        json_uint(&link_out, abi_spent.models);
        json_key(&link_out, "output_cycles");
        json_uint(&link_out, abi_spent.outputs);
        json_key(&link_out, "cpu_hz");
        json_uint(&link_out, board_cpu_hz());
        json_key(&link_out, "stack_bytes");
        json_uint(&link_out, memory_stack_peak());
        json_key(&link_out, "heap_bytes");
        json_uint(&link_out, memory_heap_peak());
    }
    json_end(&link_out);
}

/* Start (or restart) the rune. One that cannot start (too little memory, a module wasm3 cannot
   load) is reported once; the board then waits, so the report is not buried under retries. */
static void start(void) {
    const char *problem = models_init();
    if (!problem) problem = engine_start();
    if (!problem) return;
    link_error("start", 0, problem);
    engine_stop();
    board_watchdog_start(0);
    for (;;) {
    }
}

int main(void) {
    board_init();
    link_init();
    announce("boot", 0, 0);
    board_watchdog_start(RUNE.watchdog_ms);
    start();
    for (uint32_t number = 0;; number++) {
        board_watchdog_kick();
        abi_reset_cycles();
        uint64_t before = board_cycles();
        engine_result result = engine_call();
        uint64_t cycles = board_cycles() - before;
        if (result.code == 0) {
            announce("inference", number, cycles);
            continue;
        }
        const char *kind = result.code < 0 ? "trap" : result.code == 1 ? "capability" : result.code == 2 ? "model"
                         : result.code == 3 ? "output" : result.code == 4 ? "block" : "rune";
        const char *message = result.code == 1 && capability_problem() ? capability_problem() /* a sensor's why */
                            : result.message ? result.message : "failed";
        link_error(kind, result.stage < RUNE.stage_count ? RUNE.stages[result.stage] : "?", message);
        if (result.code < 0) { /* its stack and state may be half-updated: start it afresh */
            engine_stop();
            start();
        }
    }
}
