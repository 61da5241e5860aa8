#include "models.h"

#include <string.h>

#include "rune_config.h"
#include "rune_generated.h"

#if RUNE_MODEL_COUNT > 0
#include "rune_engine.h"

static rune_engine engines[RUNE_MODEL_COUNT];

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
