/* Rune inference engine: runs a plan produced by the Python planner
 * (rune.engine.plan_model, docs/engine.md) over the original .tflite bytes.
 *
 * No malloc, no static mutable state: the caller owns the plan and model
 * (read-only, may live in flash), one arena (RAM) and the engine struct.
 * RAM used = arena + sizeof(rune_engine).
 *
 * Alignment: plan, model and arena must be 4-byte aligned.
 */
#ifndef RUNE_ENGINE_H
#define RUNE_ENGINE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  RUNE_ENGINE_OK = 0,
  RUNE_ENGINE_ERR_ARGUMENT,         /* null pointer or misaligned buffer */
  RUNE_ENGINE_ERR_PLAN_HEADER,      /* not a plan, or truncated */
  RUNE_ENGINE_ERR_PLAN_VERSION,     /* plan format version not supported */
  RUNE_ENGINE_ERR_PLAN_CHECKSUM,    /* plan bytes corrupted */
  RUNE_ENGINE_ERR_MODEL_MISMATCH,   /* model length/checksum differ from planning time */
  RUNE_ENGINE_ERR_ARENA_TOO_SMALL,  /* arena_len < arena bytes the plan needs */
  RUNE_ENGINE_ERR_PLAN_LAYOUT,      /* section offsets/sizes inconsistent */
  RUNE_ENGINE_ERR_TENSOR,           /* a tensor record is invalid */
  RUNE_ENGINE_ERR_OPERATOR,         /* an operator record or its parameters are invalid */
  RUNE_ENGINE_ERR_UNKNOWN_KERNEL,   /* plan needs a kernel this build lacks */
  RUNE_ENGINE_ERR_NOT_READY,        /* engine not (successfully) initialised */
  RUNE_ENGINE_ERR_INDEX,            /* input/output index out of range */
  RUNE_ENGINE_STATUS_COUNT
} rune_engine_status;

typedef struct rune_engine {
  const uint8_t *plan;
  const uint8_t *model;
  uint8_t *arena;
  int16_t status;   /* rune_engine_status of the last init/invoke */
  int16_t error_op; /* operator index behind RUNE_ENGINE_ERR_OPERATOR, else -1 */
} rune_engine;

int rune_engine_init(rune_engine *e, const uint8_t *plan, uint32_t plan_len,
                     const uint8_t *model, uint32_t model_len, uint8_t *arena,
                     uint32_t arena_len);
uint32_t rune_engine_input_count(const rune_engine *e);
uint32_t rune_engine_output_count(const rune_engine *e);
uint8_t *rune_engine_input(rune_engine *e, uint32_t index, uint32_t *bytes);
const uint8_t *rune_engine_output(rune_engine *e, uint32_t index, uint32_t *bytes);
int rune_engine_invoke(rune_engine *e);
int rune_engine_reset(rune_engine *e);
const char *rune_engine_error(const rune_engine *e);
const char *rune_engine_status_string(int status);
/* Built with RUNE_ENGINE_PROFILE defined, rune_engine_invoke calls this (which the caller
   provides) before (done = 0) and after (done = 1) each operator. */
void rune_engine_profile(const rune_engine *e, uint32_t op, uint32_t kernel, int done);
/* Arena bytes a plan needs (0 if the buffer is not a plan); lets callers size the arena. */
uint32_t rune_plan_arena_bytes(const uint8_t *plan, uint32_t plan_len);

#ifdef __cplusplus
}
#endif
#endif
