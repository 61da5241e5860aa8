#include "models.h"

#include <string.h>

#include "rune_config.h"
#include "rune_generated.h"

#if RUNE_MODEL_COUNT > 0
#include "rune_engine.h"

static rune_engine engines[RUNE_MODEL_COUNT];

#ifdef RUNE_ENGINE_PROFILE
#include "board.h"
#include "link.h"

/* Cycles per operator of the model that just ran (`rune flash --profile`), reported after it. */
static uint32_t op_kernels[RUNE_PROFILE_OPS], op_cycles[RUNE_PROFILE_OPS], op_count;
static uint64_t op_started;

void rune_engine_profile(const rune_engine *e, uint32_t op, uint32_t kernel, int done) {
    (void)e;
    if (op >= RUNE_PROFILE_OPS) return;
    if (!done) {
        op_started = board_cycles();
        return;
    }
    op_kernels[op] = kernel;
    op_cycles[op] = (uint32_t)(board_cycles() - op_started);
    op_count = op + 1;
}

static void report_profile(uint32_t model) {
    json_begin(&link_out);
    json_key(&link_out, "event");
    json_string(&link_out, "profile", 7);
    json_key(&link_out, "model");
    json_uint(&link_out, model);
    for (int list = 0; list < 2; list++) {
        const uint32_t *values = list ? op_cycles : op_kernels;
        json_key(&link_out, list ? "cycles" : "kernels");
        json_raw(&link_out, "[");
        for (uint32_t i = 0; i < op_count; i++) {
            if (i) json_raw(&link_out, ",");
            json_uint(&link_out, values[i]);
        }
        json_raw(&link_out, "]");
    }
    json_end(&link_out);
    op_count = 0;
}
#else
static void report_profile(uint32_t model) { (void)model; }
#endif

const char *models_init(void) {
    for (uint32_t m = 0; m < RUNE.model_count; m++) {
        const rune_model_config *c = &RUNE.models[m];
        if (rune_engine_init(&engines[m], RUNE.rune + c->plan_offset, c->plan_bytes, RUNE.rune + c->model_offset,
                             c->model_bytes, rune_model_arena, c->arena_bytes) != RUNE_ENGINE_OK)
            return rune_engine_error(&engines[m]);
    }
    return 0;
}

/* Models take turns in the one arena (a pipeline runs its stages one after another), so each
   inference initialises its model's engine anew: that is cheap, the plan was made at build time. */
int models_infer(uint32_t index, uint8_t *const *tensors, const uint32_t *bytes, uint32_t count) {
    const rune_model_config *c = &RUNE.models[index];
    rune_engine *e = &engines[index];
    if (count != c->inputs + c->outputs) return 1;
    if (RUNE.model_count > 1 && rune_engine_init(e, RUNE.rune + c->plan_offset, c->plan_bytes,
                                                 RUNE.rune + c->model_offset, c->model_bytes, rune_model_arena,
                                                 c->arena_bytes) != RUNE_ENGINE_OK)
        return 1;
    for (uint32_t i = 0; i < c->inputs; i++) {
        uint32_t size = 0;
        uint8_t *input = rune_engine_input(e, i, &size);
        if (!input || size != bytes[i]) return 1;
        memcpy(input, tensors[i], size);
    }
    if (rune_engine_invoke(e) != RUNE_ENGINE_OK) return 1;
    report_profile(index);
    for (uint32_t o = 0; o < c->outputs; o++) {
        uint32_t size = 0;
        const uint8_t *output = rune_engine_output(e, o, &size);
        if (!output || size != bytes[c->inputs + o]) return 1;
        memcpy(tensors[c->inputs + o], output, size);
    }
    return 0;
}
#else
const char *models_init(void) { return 0; }
int models_infer(uint32_t index, uint8_t *const *tensors, const uint32_t *bytes, uint32_t count) {
    (void)index; (void)tensors; (void)bytes; (void)count;
    return 1;
}
#endif
