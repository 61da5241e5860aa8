/* Runtime core: plan validation, tensor resolution, operator dispatch. */
#include "rune_internal.h"

static const char *const status_strings[RUNE_ENGINE_STATUS_COUNT] = {
    "ok",
    "null pointer or buffer not 4-byte aligned",
    "not a Rune plan (bad magic, header or length)",
    "plan format version not supported by this runtime",
    "plan checksum mismatch (corrupted plan)",
    "model does not match the plan (length or checksum)",
    "arena smaller than the plan requires",
    "plan sections out of bounds or misaligned",
    "invalid tensor record in plan",
    "invalid operator record or parameters in plan",
    "plan uses a kernel this runtime does not have",
    "engine not initialised",
    "input/output index out of range",
};

const char *rune_engine_status_string(int status) {
  if (status < 0 || status >= RUNE_ENGINE_STATUS_COUNT) return "unknown status";
  return status_strings[status];
}

const char *rune_engine_error(const rune_engine *e) {
  return e ? rune_engine_status_string(e->status) : rune_engine_status_string(RUNE_ENGINE_ERR_ARGUMENT);
}

uint32_t rune_elem_size(uint8_t dtype) {
  switch (dtype) {
    case RUNE_DTYPE_F32: case RUNE_DTYPE_I32: return 4;
    case RUNE_DTYPE_I64: return 8;
    case RUNE_DTYPE_I16: return 2;
    case RUNE_DTYPE_U8: case RUNE_DTYPE_I8: case RUNE_DTYPE_BOOL: return 1;
    default: return 0;
  }
}

int rune_is_quant8(uint8_t dtype) { return dtype == RUNE_DTYPE_I8 || dtype == RUNE_DTYPE_U8; }

/* ---- header access (valid only after the header has been checked) ---- */
static uint32_t hdr32(const uint8_t *plan, uint32_t field) { return rune_le32(plan + field); }
static uint32_t hdr_lo16(const uint8_t *plan, uint32_t field) { return rune_le16(plan + field); }
static uint32_t hdr_hi16(const uint8_t *plan, uint32_t field) { return rune_le16(plan + field + 2); }

static uint32_t fnv1a(const uint8_t *p, uint32_t n) {
  uint32_t h = 2166136261u;
  uint32_t i;
  for (i = 0; i < n; ++i) h = (h ^ p[i]) * 16777619u;
  return h;
}

void rune_tensor_record(const rune_engine *e, int32_t index, rune_tensor_rec *t) {
  const uint8_t *r = e->plan + hdr32(e->plan, RUNE_H_TENSORS) + (uint32_t)index * RUNE_TENSOR_RECORD_BYTES;
  t->dtype = r[0];
  t->storage = r[1];
  t->flags = r[2];
  t->fill = r[3];
  t->offset = rune_le32(r + 4);
  t->bytes = rune_le32(r + 8);
  t->source = rune_le32(r + 12);
}

void rune_load_op(const rune_engine *e, uint32_t index, rune_op *op) {
  const uint8_t *r = e->plan + hdr32(e->plan, RUNE_H_OPS) + index * RUNE_OP_RECORD_BYTES;
  const int32_t *pool = (const int32_t *)(const void *)(e->plan + hdr32(e->plan, RUNE_H_POOL));
  op->kernel = rune_le16(r);
  op->n_in = r[2];
  op->n_out = r[3];
  op->operands = pool + rune_le32(r + 4);
  op->params = pool + rune_le32(r + 8);
  op->n_params = rune_le16(r + 12);
  op->code = r[14];
  op->n_tmp = r[15];
}

static uint8_t *tensor_data(const rune_engine *e, int32_t index) {
  rune_tensor_rec t;
  rune_tensor_record(e, index, &t);
  if (t.storage == RUNE_STORE_MODEL) return (uint8_t *)(uintptr_t)(e->model + t.offset);
  return e->arena + t.offset;
}

const void *rune_in(const rune_engine *e, const rune_op *op, unsigned i) {
  int32_t t = op->operands[i];
  return t < 0 ? NULL : tensor_data(e, t);
}

void *rune_out(const rune_engine *e, const rune_op *op, unsigned i) {
  return tensor_data(e, op->operands[op->n_in + i]);
}

void *rune_tmp(const rune_engine *e, const rune_op *op, unsigned i) {
  return tensor_data(e, op->operands[op->n_in + op->n_out + i]);
}

/* ---- validation helpers used by kernel check functions ---- */
static int check_operand(const rune_engine *e, int32_t t, uint8_t dtype, uint64_t elements) {
  rune_tensor_rec r;
  if (t < 0 || elements > 0x7FFFFFFFu) return 0; /* kernels index with int32 */
  rune_tensor_record(e, t, &r);
  return r.dtype == dtype && (uint64_t)r.bytes == elements * rune_elem_size(dtype);
}

int rune_check_in(const rune_engine *e, const rune_op *op, unsigned i, uint8_t dtype, uint64_t elements) {
  return i < op->n_in && check_operand(e, op->operands[i], dtype, elements);
}

int rune_check_opt_in(const rune_engine *e, const rune_op *op, unsigned i, uint8_t dtype, uint64_t elements) {
  if (i >= op->n_in) return 0;
  return op->operands[i] < 0 || check_operand(e, op->operands[i], dtype, elements);
}

int rune_check_out(const rune_engine *e, const rune_op *op, unsigned i, uint8_t dtype, uint64_t elements) {
  return i < op->n_out && check_operand(e, op->operands[op->n_in + i], dtype, elements);
}

int rune_check_state(const rune_engine *e, const rune_op *op, unsigned i, uint8_t dtype, uint64_t elements) {
  rune_tensor_rec r;
  if (!rune_check_in(e, op, i, dtype, elements)) return 0;
  rune_tensor_record(e, op->operands[i], &r);
  return r.storage == RUNE_STORE_ARENA;
}

void *rune_state(const rune_engine *e, const rune_op *op, unsigned i) {
  return tensor_data(e, op->operands[i]);
}

int rune_check_tmp(const rune_engine *e, const rune_op *op, unsigned i, uint64_t bytes) {
  rune_tensor_rec r;
  if (i >= op->n_tmp) return 0;
  rune_tensor_record(e, op->operands[op->n_in + op->n_out + i], &r);
  return (uint64_t)r.bytes >= bytes;
}

static uint8_t operand_dtype(const rune_engine *e, int32_t t) {
  rune_tensor_rec r;
  if (t < 0) return 0xFF;
  rune_tensor_record(e, t, &r);
  return r.dtype;
}

uint8_t rune_in_dtype(const rune_engine *e, const rune_op *op, unsigned i) {
  return i < op->n_in ? operand_dtype(e, op->operands[i]) : 0xFF;
}

uint8_t rune_out_dtype(const rune_engine *e, const rune_op *op, unsigned i) {
  return i < op->n_out ? operand_dtype(e, op->operands[op->n_in + i]) : 0xFF;
}

/* Dimensions must be >= 1 and their product must stay below 2^31. */
int rune_check_shape(const int32_t *dims, unsigned n, uint64_t *elements) {
  uint64_t total = 1;
  unsigned i;
  for (i = 0; i < n; ++i) {
    if (dims[i] < 1) return 0;
    total *= (uint64_t)dims[i];
    if (total > 0x7FFFFFFFu) return 0;
  }
  *elements = total;
  return 1;
}

/* Quantized multipliers: non-negative Q31 significands, shifts in [-31, 30]. */
int rune_check_multipliers(const int32_t *mult, const int32_t *shift, uint32_t n) {
  uint32_t i;
  for (i = 0; i < n; ++i) {
    if (mult[i] < 0 || shift[i] < -31 || shift[i] > 30) return 0;
  }
  return 1;
}

/* ---- plan validation ---- */
static int section_ok(uint32_t off, uint64_t bytes, uint32_t plan_len) {
  return off % 4 == 0 && off >= RUNE_PLAN_HEADER_BYTES && (uint64_t)off + bytes <= plan_len;
}

static int validate_tensors(rune_engine *e, uint32_t n_tensors, uint32_t model_len, uint32_t arena_bytes) {
  uint32_t i;
  for (i = 0; i < n_tensors; ++i) {
    rune_tensor_rec t;
    uint32_t size;
    rune_tensor_record(e, (int32_t)i, &t);
    size = rune_elem_size(t.dtype);
    if (size == 0 || t.bytes % size != 0 || t.offset % (size < 4 ? size : 4) != 0) return 0;
    /* arena tensors are always word aligned: kernels use int8 scratch as int32 */
    if (t.storage != RUNE_STORE_MODEL && t.offset % 4 != 0) return 0;
    if (t.flags & ~RUNE_TFLAG_VARIABLE) return 0;
    switch (t.storage) {
      case RUNE_STORE_ARENA:
        if ((uint64_t)t.offset + t.bytes > arena_bytes || t.source != 0) return 0;
        break;
      case RUNE_STORE_MODEL:
        if ((uint64_t)t.offset + t.bytes > model_len || t.flags || t.source != 0) return 0;
        break;
      case RUNE_STORE_STAGED:
        if ((uint64_t)t.offset + t.bytes > arena_bytes || (uint64_t)t.source + t.bytes > model_len || t.flags)
          return 0;
        break;
      default:
        return 0;
    }
  }
  return 1;
}

static int writable(const rune_engine *e, int32_t t, uint32_t n_tensors) {
  rune_tensor_rec r;
  if (t < 0 || (uint32_t)t >= n_tensors) return 0;
  rune_tensor_record(e, t, &r);
  return r.storage == RUNE_STORE_ARENA;
}

static int validate_io(rune_engine *e, uint32_t n_tensors) {
  const uint8_t *io = e->plan + hdr32(e->plan, RUNE_H_IO);
  uint32_t n = hdr_lo16(e->plan, RUNE_H_IO_COUNTS) + hdr_hi16(e->plan, RUNE_H_IO_COUNTS);
  uint32_t n_in = hdr_lo16(e->plan, RUNE_H_IO_COUNTS);
  uint32_t i;
  for (i = 0; i < n; ++i) {
    int32_t t = (int32_t)rune_le16(io + 2 * i);
    if ((uint32_t)t >= n_tensors) return 0;
    /* inputs are written by the caller, so they must be plain arena tensors */
    if (i < n_in && !writable(e, t, n_tensors)) return 0;
  }
  return 1;
}

static int validate_op(rune_engine *e, uint32_t index, uint32_t n_tensors, uint32_t pool_words) {
  const uint8_t *r = e->plan + hdr32(e->plan, RUNE_H_OPS) + index * RUNE_OP_RECORD_BYTES;
  uint32_t n_operands = (uint32_t)r[2] + r[3] + r[15];
  uint32_t operands_at = rune_le32(r + 4), params_at = rune_le32(r + 8);
  uint32_t n_params = rune_le16(r + 12);
  rune_op op;
  uint32_t i;
  if ((uint64_t)operands_at + n_operands > pool_words || (uint64_t)params_at + n_params > pool_words)
    return RUNE_ENGINE_ERR_OPERATOR;
  rune_load_op(e, index, &op);
  if (op.kernel == 0 || op.kernel >= RUNE_K_COUNT || rune_kernels[op.kernel].check == NULL)
    return RUNE_ENGINE_ERR_UNKNOWN_KERNEL;
  for (i = 0; i < n_operands; ++i) {
    int32_t t = op.operands[i];
    if (t < -1 || t >= (int32_t)n_tensors) return RUNE_ENGINE_ERR_OPERATOR;
    if (i >= op.n_in && !writable(e, t, n_tensors)) return RUNE_ENGINE_ERR_OPERATOR;
  }
  return rune_kernels[op.kernel].check(e, &op) ? RUNE_ENGINE_OK : RUNE_ENGINE_ERR_OPERATOR;
}

static int host_is_little_endian(void) {
  const uint16_t probe = 1;
  return *(const uint8_t *)&probe == 1;
}

static int validate(rune_engine *e, uint32_t plan_len, uint32_t model_len, uint32_t arena_len) {
  const uint8_t *p = e->plan;
  uint32_t n_tensors, n_ops, n_io, pool_words, i;
  if (plan_len < RUNE_PLAN_HEADER_BYTES || hdr32(p, RUNE_H_MAGIC) != RUNE_PLAN_MAGIC)
    return RUNE_ENGINE_ERR_PLAN_HEADER;
  if (hdr_lo16(p, RUNE_H_VERSION) != RUNE_PLAN_VERSION) return RUNE_ENGINE_ERR_PLAN_VERSION;
  if (hdr_hi16(p, RUNE_H_VERSION) != RUNE_PLAN_HEADER_BYTES || hdr32(p, RUNE_H_PLAN_LEN) != plan_len)
    return RUNE_ENGINE_ERR_PLAN_HEADER;
  if (fnv1a(p + 16, plan_len - 16) != hdr32(p, RUNE_H_PLAN_SUM)) return RUNE_ENGINE_ERR_PLAN_CHECKSUM;
  if (hdr32(p, RUNE_H_MODEL_LEN) != model_len || fnv1a(e->model, model_len) != hdr32(p, RUNE_H_MODEL_SUM))
    return RUNE_ENGINE_ERR_MODEL_MISMATCH;
  if (hdr32(p, RUNE_H_ARENA) > arena_len) return RUNE_ENGINE_ERR_ARENA_TOO_SMALL;
  if (hdr32(p, RUNE_H_FLAGS) != 0) return RUNE_ENGINE_ERR_PLAN_LAYOUT;

  n_tensors = hdr_lo16(p, RUNE_H_COUNTS);
  n_ops = hdr_hi16(p, RUNE_H_COUNTS);
  n_io = hdr_lo16(p, RUNE_H_IO_COUNTS) + hdr_hi16(p, RUNE_H_IO_COUNTS);
  pool_words = hdr32(p, RUNE_H_POOL_WORDS);
  if (!section_ok(hdr32(p, RUNE_H_TENSORS), (uint64_t)n_tensors * RUNE_TENSOR_RECORD_BYTES, plan_len) ||
      !section_ok(hdr32(p, RUNE_H_OPS), (uint64_t)n_ops * RUNE_OP_RECORD_BYTES, plan_len) ||
      !section_ok(hdr32(p, RUNE_H_IO), (uint64_t)n_io * 2, plan_len) ||
      !section_ok(hdr32(p, RUNE_H_POOL), (uint64_t)pool_words * 4, plan_len))
    return RUNE_ENGINE_ERR_PLAN_LAYOUT;

  if (!validate_tensors(e, n_tensors, model_len, hdr32(p, RUNE_H_ARENA))) return RUNE_ENGINE_ERR_TENSOR;
  if (!validate_io(e, n_tensors)) return RUNE_ENGINE_ERR_TENSOR;
  for (i = 0; i < n_ops; ++i) {
    int status = validate_op(e, i, n_tensors, pool_words);
    if (status != RUNE_ENGINE_OK) {
      e->error_op = (int16_t)i;
      return status;
    }
  }
  return RUNE_ENGINE_OK;
}

/* Copy staged constants into the arena and fill variable tensors. */
static void prepare_arena(rune_engine *e, int staged_too) {
  uint32_t n = hdr_lo16(e->plan, RUNE_H_COUNTS);
  uint32_t i;
  for (i = 0; i < n; ++i) {
    rune_tensor_rec t;
    rune_tensor_record(e, (int32_t)i, &t);
    if (t.flags & RUNE_TFLAG_VARIABLE) memset(e->arena + t.offset, t.fill, t.bytes);
    if (staged_too && t.storage == RUNE_STORE_STAGED) memcpy(e->arena + t.offset, e->model + t.source, t.bytes);
  }
}

int rune_engine_init(rune_engine *e, const uint8_t *plan, uint32_t plan_len, const uint8_t *model,
                     uint32_t model_len, uint8_t *arena, uint32_t arena_len) {
  int status;
  if (!e) return RUNE_ENGINE_ERR_ARGUMENT;
  e->plan = plan;
  e->model = model;
  e->arena = arena;
  e->error_op = -1;
  e->status = RUNE_ENGINE_ERR_ARGUMENT;
  if (!plan || !model || (!arena && arena_len) || ((uintptr_t)plan | (uintptr_t)model | (uintptr_t)arena) % 4 ||
      !host_is_little_endian())
    return RUNE_ENGINE_ERR_ARGUMENT;
  status = validate(e, plan_len, model_len, arena_len);
  if (status == RUNE_ENGINE_OK) prepare_arena(e, 1);
  e->status = (int16_t)status;
  return status;
}

uint32_t rune_plan_arena_bytes(const uint8_t *plan, uint32_t plan_len) {
  if (!plan || plan_len < RUNE_PLAN_HEADER_BYTES || rune_le32(plan) != RUNE_PLAN_MAGIC) return 0;
  return rune_le32(plan + RUNE_H_ARENA);
}

static int ready(const rune_engine *e) { return e && e->plan && e->status == RUNE_ENGINE_OK; }

uint32_t rune_engine_input_count(const rune_engine *e) {
  return ready(e) ? hdr_lo16(e->plan, RUNE_H_IO_COUNTS) : 0;
}

uint32_t rune_engine_output_count(const rune_engine *e) {
  return ready(e) ? hdr_hi16(e->plan, RUNE_H_IO_COUNTS) : 0;
}

static uint8_t *io_tensor(rune_engine *e, uint32_t slot, uint32_t *bytes) {
  rune_tensor_rec t;
  int32_t index = (int32_t)rune_le16(e->plan + hdr32(e->plan, RUNE_H_IO) + 2 * slot);
  rune_tensor_record(e, index, &t);
  if (bytes) *bytes = t.bytes;
  return tensor_data(e, index);
}

uint8_t *rune_engine_input(rune_engine *e, uint32_t index, uint32_t *bytes) {
  if (bytes) *bytes = 0;
  if (!ready(e) || index >= rune_engine_input_count(e)) return NULL;
  return io_tensor(e, index, bytes);
}

const uint8_t *rune_engine_output(rune_engine *e, uint32_t index, uint32_t *bytes) {
  if (bytes) *bytes = 0;
  if (!ready(e) || index >= rune_engine_output_count(e)) return NULL;
  return io_tensor(e, rune_engine_input_count(e) + index, bytes);
}

#ifdef RUNE_ENGINE_PROFILE
#define PROFILE(op, kernel, done) rune_engine_profile(e, op, kernel, done)
#else
#define PROFILE(op, kernel, done) ((void)0)
#endif

int rune_engine_invoke(rune_engine *e) {
  uint32_t i, n_ops;
  if (!ready(e)) return RUNE_ENGINE_ERR_NOT_READY;
  n_ops = hdr_hi16(e->plan, RUNE_H_COUNTS);
  for (i = 0; i < n_ops; ++i) {
    rune_op op;
    rune_load_op(e, i, &op);
    PROFILE(i, op.kernel, 0);
    rune_kernels[op.kernel].eval(e, &op);
    PROFILE(i, op.kernel, 1);
  }
  return RUNE_ENGINE_OK;
}

int rune_engine_reset(rune_engine *e) {
  if (!ready(e)) return RUNE_ENGINE_ERR_NOT_READY;
  prepare_arena(e, 0);
  return RUNE_ENGINE_OK;
}
