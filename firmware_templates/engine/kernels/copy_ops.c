/* Data movement kernels: PAD, CONCATENATION, STRIDED_SLICE (any element size).
 * Params are documented in toolchain/rune/engine/ops/copy_ops.py. Copies use memmove because
 * nothing guarantees that a (corrupt) plan keeps operands apart. */
#include "kernels.h"

static int elem_size_ok(const rune_engine *e, const rune_op *op, int32_t size) {
  return size >= 1 && (uint32_t)size == rune_elem_size(rune_out_dtype(e, op, 0));
}

static int dims5(const int32_t *d, uint64_t *n) { return rune_check_shape(d, 5, n); }

/* ---- PAD ---- */
enum { PD_SIZE, PD_DIMS, PD_BEFORE = 6, PD_AFTER = 11, PD_VALUE = 16, PD_WORDS };

int rune_pad_check(const rune_engine *e, const rune_op *op) {
  const int32_t *p = op->params;
  uint64_t n_in, n_out = 1;
  unsigned d;
  if (op->n_in != 1 || op->n_out != 1 || op->n_params != PD_WORDS || !elem_size_ok(e, op, p[PD_SIZE])) return 0;
  if (!dims5(p + PD_DIMS, &n_in)) return 0;
  for (d = 0; d < 5; ++d) {
    if (p[PD_BEFORE + d] < 0 || p[PD_AFTER + d] < 0 || p[PD_BEFORE + d] > 0xFFFFFF || p[PD_AFTER + d] > 0xFFFFFF)
      return 0;
    n_out *= (uint64_t)p[PD_DIMS + d] + (uint64_t)p[PD_BEFORE + d] + (uint64_t)p[PD_AFTER + d];
    if (n_out > 0x7FFFFFFFu) return 0;
  }
  return rune_in_dtype(e, op, 0) == rune_out_dtype(e, op, 0) &&
         rune_check_in(e, op, 0, rune_in_dtype(e, op, 0), n_in) && rune_check_out(e, op, 0, rune_out_dtype(e, op, 0), n_out);
}

void rune_pad_eval(const rune_engine *e, const rune_op *op) {
  const int32_t *p = op->params, *dims = p + PD_DIMS, *before = p + PD_BEFORE, *after = p + PD_AFTER;
  const size_t size = (size_t)p[PD_SIZE];
  const uint8_t *input = (const uint8_t *)rune_in(e, op, 0);
  uint8_t *output = (uint8_t *)rune_out(e, op, 0);
  uint8_t value[4];
  int32_t o[5], out_dims[5], k, in_index, out_index = 0;
  for (k = 0; k < 4; ++k) value[k] = (uint8_t)((uint32_t)p[PD_VALUE] >> (8 * k)); /* little-endian bits */
  for (k = 0; k < 5; ++k) out_dims[k] = dims[k] + before[k] + after[k];
  for (o[0] = 0; o[0] < out_dims[0]; ++o[0])
    for (o[1] = 0; o[1] < out_dims[1]; ++o[1])
      for (o[2] = 0; o[2] < out_dims[2]; ++o[2])
        for (o[3] = 0; o[3] < out_dims[3]; ++o[3])
          for (o[4] = 0; o[4] < out_dims[4]; ++o[4], ++out_index) {
            int inside = 1;
            in_index = 0;
            for (k = 0; k < 5; ++k) {
              const int32_t i = o[k] - before[k];
              inside &= i >= 0 && i < dims[k];
              in_index = in_index * dims[k] + i;
            }
            if (inside)
              memmove(output + (size_t)out_index * size, input + (size_t)in_index * size, size);
            else
              memcpy(output + (size_t)out_index * size, value, size);
          }
}

/* ---- CONCATENATION ---- */
enum { CC_SIZE, CC_OUTER, CC_OUT_INNER, CC_INNER };

int rune_concat_check(const rune_engine *e, const rune_op *op) {
  const int32_t *p = op->params;
  const uint8_t t = rune_out_dtype(e, op, 0);
  uint64_t sum = 0;
  unsigned i;
  if (op->n_in < 1 || op->n_out != 1 || op->n_params != CC_INNER + (uint32_t)op->n_in) return 0;
  if (!elem_size_ok(e, op, p[CC_SIZE]) || p[CC_OUTER] < 1 || p[CC_OUT_INNER] < 1) return 0;
  for (i = 0; i < op->n_in; ++i) {
    if (p[CC_INNER + i] < 1 || !rune_check_in(e, op, i, t, (uint64_t)p[CC_OUTER] * (uint64_t)p[CC_INNER + i]))
      return 0;
    sum += (uint64_t)p[CC_INNER + i];
  }
  return sum == (uint64_t)p[CC_OUT_INNER] &&
         rune_check_out(e, op, 0, t, (uint64_t)p[CC_OUTER] * (uint64_t)p[CC_OUT_INNER]);
}

void rune_concat_eval(const rune_engine *e, const rune_op *op) {
  const int32_t *p = op->params;
  const size_t size = (size_t)p[CC_SIZE];
  uint8_t *out = (uint8_t *)rune_out(e, op, 0);
  int32_t outer;
  unsigned i;
  for (outer = 0; outer < p[CC_OUTER]; ++outer)
    for (i = 0; i < op->n_in; ++i) {
      const size_t run = (size_t)p[CC_INNER + i] * size;
      memmove(out, (const uint8_t *)rune_in(e, op, i) + (size_t)outer * run, run);
      out += run;
    }
}

/* ---- STRIDED_SLICE ---- */
enum { SS_SIZE, SS_DIMS, SS_START = 6, SS_STRIDE = 11, SS_COUNT = 16, SS_WORDS = 21 };

int rune_strided_slice_check(const rune_engine *e, const rune_op *op) {
  const int32_t *p = op->params;
  const uint8_t t = rune_out_dtype(e, op, 0);
  uint64_t n_in, n_out;
  unsigned d;
  if (op->n_in != 1 || op->n_out != 1 || op->n_params != SS_WORDS || !elem_size_ok(e, op, p[SS_SIZE])) return 0;
  if (!dims5(p + SS_DIMS, &n_in) || !dims5(p + SS_COUNT, &n_out)) return 0;
  for (d = 0; d < 5; ++d) {  /* first and last index of every axis inside the input */
    const int64_t first = p[SS_START + d];
    const int64_t last = first + (int64_t)(p[SS_COUNT + d] - 1) * p[SS_STRIDE + d];
    if (p[SS_STRIDE + d] == 0 || first < 0 || first >= p[SS_DIMS + d] || last < 0 || last >= p[SS_DIMS + d]) return 0;
  }
  return rune_check_in(e, op, 0, t, n_in) && rune_check_out(e, op, 0, t, n_out);
}

void rune_strided_slice_eval(const rune_engine *e, const rune_op *op) {
  const int32_t *p = op->params, *dims = p + SS_DIMS, *start = p + SS_START, *stride = p + SS_STRIDE;
  const int32_t *count = p + SS_COUNT;
  const size_t size = (size_t)p[SS_SIZE];
  const uint8_t *input = (const uint8_t *)rune_in(e, op, 0);
  uint8_t *out = (uint8_t *)rune_out(e, op, 0);
  int32_t c[5], k;
  for (c[0] = 0; c[0] < count[0]; ++c[0])
    for (c[1] = 0; c[1] < count[1]; ++c[1])
      for (c[2] = 0; c[2] < count[2]; ++c[2])
        for (c[3] = 0; c[3] < count[3]; ++c[3])
          for (c[4] = 0; c[4] < count[4]; ++c[4]) {
            int32_t index = 0;
            for (k = 0; k < 5; ++k) index = index * dims[k] + start[k] + c[k] * stride[k];
            memmove(out, input + (size_t)index * size, size);
            out += size;
          }
}
