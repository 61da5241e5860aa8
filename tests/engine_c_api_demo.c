/* The engine's public C API used as a firmware would use it, without Python: load a plan and a
 * model from files, run one inference on all-zero inputs, print each output's bytes in hex. */
#include <stdio.h>
#include <stdlib.h>

#include "rune_engine.h"

static uint8_t *slurp(const char *path, uint32_t *len) {
  FILE *f = fopen(path, "rb");
  uint8_t *buf;
  long n;
  if (!f || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) exit(2);
  buf = (uint8_t *)malloc((size_t)n + 1); /* malloc is 16-byte aligned */
  if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) exit(2);
  fclose(f);
  *len = (uint32_t)n;
  return buf;
}

int main(int argc, char **argv) {
  uint32_t plan_len, model_len, bytes, i, k;
  uint8_t *plan, *model, *arena, *in;
  const uint8_t *out;
  rune_engine engine;
  if (argc != 3) return 2;
  plan = slurp(argv[1], &plan_len);
  model = slurp(argv[2], &model_len);
  arena = (uint8_t *)malloc(rune_plan_arena_bytes(plan, plan_len) + 4);
  if (rune_engine_init(&engine, plan, plan_len, model, model_len, arena, rune_plan_arena_bytes(plan, plan_len)) !=
      RUNE_ENGINE_OK) {
    printf("init failed: %s (operator %d)\n", rune_engine_error(&engine), engine.error_op);
    return 1;
  }
  for (i = 0; i < rune_engine_input_count(&engine); ++i) {
    in = rune_engine_input(&engine, i, &bytes);
    for (k = 0; k < bytes; ++k) in[k] = 0;
  }
  if (rune_engine_invoke(&engine) != RUNE_ENGINE_OK || rune_engine_reset(&engine) != RUNE_ENGINE_OK) return 1;
  for (i = 0; i < rune_engine_output_count(&engine); ++i) {
    out = rune_engine_output(&engine, i, &bytes);
    for (k = 0; k < bytes; ++k) printf("%02x", out[k]);
    printf("\n");
  }
  if (rune_engine_input(&engine, 99, &bytes) != NULL || bytes != 0) return 1;
  free(plan);
  free(model);
  free(arena);
  return 0;
}
