/* Internal interfaces shared by the runtime core and the kernels. */
#ifndef RUNE_INTERNAL_H
#define RUNE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "rune_engine.h"
#include "rune_plan.h"

/* One operator as read from the plan. Operands are tensor indices (-1 = absent):
 * n_in inputs, then n_out outputs, then n_tmp scratch tensors. */
typedef struct {
  uint16_t kernel;
  uint8_t n_in, n_out, n_tmp, code;
  const int32_t *operands;
  const int32_t *params;
  uint32_t n_params;
} rune_op;

typedef struct {
  uint8_t dtype, storage, flags, fill;
  uint32_t offset, bytes, source;
} rune_tensor_rec;

/* Loads of plan records, which are little-endian; rune_engine_init refuses a big-endian host, so
   a plain (possibly unaligned) load is the little-endian value: one instruction. */
static inline uint32_t rune_le32(const uint8_t *p) {
  uint32_t v;
  memcpy(&v, p, sizeof v);
  return v;
}
static inline uint16_t rune_le16(const uint8_t *p) {
  uint16_t v;
  memcpy(&v, p, sizeof v);
  return v;
}
static inline float rune_word_f32(int32_t w) {
  float f;
  memcpy(&f, &w, sizeof f);
  return f;
}

uint32_t rune_elem_size(uint8_t dtype); /* 0 for unknown types */
void rune_tensor_record(const rune_engine *e, int32_t index, rune_tensor_rec *t);
void rune_load_op(const rune_engine *e, uint32_t index, rune_op *op);

/* Data pointers. Inputs may live in the model (read-only); outputs and scratch
 * are always arena tensors (checked at init). Absent optional inputs give NULL. */
const void *rune_in(const rune_engine *e, const rune_op *op, unsigned i);
void *rune_out(const rune_engine *e, const rune_op *op, unsigned i);
void *rune_tmp(const rune_engine *e, const rune_op *op, unsigned i);

/* Validation helpers for kernel check functions: each returns 1 if the
 * operand exists, has `dtype` and holds exactly `elements` elements. */
int rune_check_in(const rune_engine *e, const rune_op *op, unsigned i, uint8_t dtype, uint64_t elements);
int rune_check_opt_in(const rune_engine *e, const rune_op *op, unsigned i, uint8_t dtype, uint64_t elements);
int rune_check_out(const rune_engine *e, const rune_op *op, unsigned i, uint8_t dtype, uint64_t elements);
/* A variable (state) input the kernel updates in place: must live in the arena. */
int rune_check_state(const rune_engine *e, const rune_op *op, unsigned i, uint8_t dtype, uint64_t elements);
void *rune_state(const rune_engine *e, const rune_op *op, unsigned i);
int rune_check_tmp(const rune_engine *e, const rune_op *op, unsigned i, uint64_t bytes);
uint8_t rune_in_dtype(const rune_engine *e, const rune_op *op, unsigned i);
uint8_t rune_out_dtype(const rune_engine *e, const rune_op *op, unsigned i);
int rune_check_shape(const int32_t *dims, unsigned n, uint64_t *elements); /* dims >= 1 */
int rune_check_multipliers(const int32_t *mult, const int32_t *shift, uint32_t n);
int rune_is_quant8(uint8_t dtype);

/* A kernel validates its operator once at init, then runs without checks. */
typedef int (*rune_check_fn)(const rune_engine *e, const rune_op *op); /* 1 = valid */
typedef void (*rune_eval_fn)(const rune_engine *e, const rune_op *op);
typedef struct {
  rune_check_fn check;
  rune_eval_fn eval;
} rune_kernel;

extern const rune_kernel rune_kernels[RUNE_K_COUNT];

#endif
