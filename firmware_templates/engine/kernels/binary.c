/* ADD, SUB, MUL with broadcasting over up to 6 dimensions (params: see
 * toolchain/rune/engine/ops/binary.py). Output element i is written after reading element i
 * of each input, so a non-broadcast input may share memory with the output. */
#include "kernels.h"
#include "qmath.h"

enum { B_DIMS = 0, B_S1 = 6, B_S2 = 12, B_WORDS = 18 };
enum { AQ_IN1_OFF = B_WORDS, AQ_IN2_OFF, AQ_OUT_OFF, AQ_LEFT, AQ_M1, AQ_S1, AQ_M2, AQ_S2, AQ_MO, AQ_SO, AQ_MIN, AQ_MAX,
       AQ_WORDS };
enum { MQ_IN1_OFF = B_WORDS, MQ_IN2_OFF, MQ_OUT_OFF, MQ_MULT, MQ_SHIFT, MQ_MIN, MQ_MAX, MQ_WORDS };
enum { F_MIN = B_WORDS, F_MAX, F_WORDS };
enum { KIND_ADD, KIND_SUB, KIND_MUL };

/* Elements of the output and the highest element index each input is read at. */
static int broadcast_ok(const rune_engine *e, const rune_op *op, uint8_t dtype) {
  const int32_t *p = op->params;
  uint64_t n, reach1 = 0, reach2 = 0;
  unsigned d;
  if (op->n_in != 2 || op->n_out != 1 || !rune_check_shape(p + B_DIMS, 6, &n)) return 0;
  for (d = 0; d < 6; ++d) {
    if (p[B_S1 + d] < 0 || p[B_S2 + d] < 0) return 0;
    reach1 += (uint64_t)(p[B_DIMS + d] - 1) * (uint64_t)p[B_S1 + d];
    reach2 += (uint64_t)(p[B_DIMS + d] - 1) * (uint64_t)p[B_S2 + d];
  }
  /* inputs must cover exactly the elements the strides walk over */
  return reach1 < 0x7FFFFFFFu && reach2 < 0x7FFFFFFFu &&
         rune_check_in(e, op, 0, dtype, reach1 + 1) && rune_check_in(e, op, 1, dtype, reach2 + 1) &&
         rune_check_out(e, op, 0, dtype, n);
}

typedef void (*element_fn)(const rune_op *op, const void *a, int32_t ia, const void *b, int32_t ib, void *out,
                           int32_t io);

/* Walk the 6-D output in row-major order with both inputs' strides. */
static void broadcast(const rune_engine *e, const rune_op *op, element_fn fn) {
  const int32_t *d = op->params + B_DIMS, *s1 = op->params + B_S1, *s2 = op->params + B_S2;
  const void *a = rune_in(e, op, 0), *b = rune_in(e, op, 1);
  void *out = rune_out(e, op, 0);
  int32_t i[6], o = 0;
  for (i[0] = 0; i[0] < d[0]; ++i[0])
    for (i[1] = 0; i[1] < d[1]; ++i[1])
      for (i[2] = 0; i[2] < d[2]; ++i[2])
        for (i[3] = 0; i[3] < d[3]; ++i[3])
          for (i[4] = 0; i[4] < d[4]; ++i[4])
            for (i[5] = 0; i[5] < d[5]; ++i[5]) {
              int32_t ia = 0, ib = 0, k;
              for (k = 0; k < 6; ++k) {
                ia += i[k] * s1[k];
                ib += i[k] * s2[k];
              }
              fn(op, a, ia, b, ib, out, o++);
            }
}

/* ---- float ---- */
static float clampf(float v, const rune_op *op) {
  const float lo = rune_word_f32(op->params[F_MIN]), hi = rune_word_f32(op->params[F_MAX]);
  v = v < lo ? lo : v;
  return v > hi ? hi : v;
}
static void add_f32(const rune_op *op, const void *a, int32_t ia, const void *b, int32_t ib, void *o, int32_t io) {
  ((float *)o)[io] = clampf(((const float *)a)[ia] + ((const float *)b)[ib], op);
}
static void sub_f32(const rune_op *op, const void *a, int32_t ia, const void *b, int32_t ib, void *o, int32_t io) {
  ((float *)o)[io] = clampf(((const float *)a)[ia] - ((const float *)b)[ib], op);
}
static void mul_f32(const rune_op *op, const void *a, int32_t ia, const void *b, int32_t ib, void *o, int32_t io) {
  ((float *)o)[io] = clampf(((const float *)a)[ia] * ((const float *)b)[ib], op);
}

static int float_check(const rune_engine *e, const rune_op *op) {
  return op->n_params == F_WORDS && broadcast_ok(e, op, RUNE_DTYPE_F32);
}
int rune_add_f32_check(const rune_engine *e, const rune_op *op) { return float_check(e, op); }
int rune_sub_f32_check(const rune_engine *e, const rune_op *op) { return float_check(e, op); }
int rune_mul_f32_check(const rune_engine *e, const rune_op *op) { return float_check(e, op); }
void rune_add_f32_eval(const rune_engine *e, const rune_op *op) { broadcast(e, op, add_f32); }
void rune_sub_f32_eval(const rune_engine *e, const rune_op *op) { broadcast(e, op, sub_f32); }
void rune_mul_f32_eval(const rune_engine *e, const rune_op *op) { broadcast(e, op, mul_f32); }

/* ---- integer ---- */
static int32_t load(const void *p, uint8_t t, int32_t i) {
  return t == RUNE_DTYPE_I8 ? ((const int8_t *)p)[i] : t == RUNE_DTYPE_I16 ? ((const int16_t *)p)[i] : ((const int32_t *)p)[i];
}
static void store(void *p, uint8_t t, int32_t i, int32_t v) {
  if (t == RUNE_DTYPE_I8)
    ((int8_t *)p)[i] = (int8_t)v;
  else if (t == RUNE_DTYPE_I16)
    ((int16_t *)p)[i] = (int16_t)v;
  else
    ((int32_t *)p)[i] = v;
}

/* Both inputs rescaled to a common scale with `left_shift` bits of headroom. */
static int32_t add_sub_q(const int32_t *p, int32_t x, int32_t y, int kind) {
  const int32_t a = rq_mul(rq_shl(rq_wadd(x, p[AQ_IN1_OFF]), p[AQ_LEFT]), p[AQ_M1], p[AQ_S1]);
  const int32_t b = rq_mul(rq_shl(rq_wadd(y, p[AQ_IN2_OFF]), p[AQ_LEFT]), p[AQ_M2], p[AQ_S2]);
  const int32_t raw = kind == KIND_ADD ? rq_wadd(a, b) : rq_wsub(a, b);
  return rq_clamp(rq_wadd(rq_mul(raw, p[AQ_MO], p[AQ_SO]), p[AQ_OUT_OFF]), p[AQ_MIN], p[AQ_MAX]);
}

static void add_sub_element(const rune_op *op, const void *a, int32_t ia, const void *b, int32_t ib, void *o,
                            int32_t io, int kind, uint8_t t) {
  const int32_t *p = op->params;
  const int32_t x = load(a, t, ia), y = load(b, t, ib);
  int32_t v;
  if (t == RUNE_DTYPE_I32)
    v = rq_clamp(kind == KIND_ADD ? rq_wadd(x, y) : rq_wsub(x, y), p[B_WORDS], p[B_WORDS + 1]);
  else
    v = add_sub_q(p, x, y, kind);
  store(o, t, io, v);
}

#define ADD_SUB_VARIANT(name, kind, t)                                                                         \
  static void name(const rune_op *op, const void *a, int32_t ia, const void *b, int32_t ib, void *o, int32_t io) { \
    add_sub_element(op, a, ia, b, ib, o, io, kind, t);                                                       \
  }
ADD_SUB_VARIANT(add_i8, KIND_ADD, RUNE_DTYPE_I8)
ADD_SUB_VARIANT(add_i16, KIND_ADD, RUNE_DTYPE_I16)
ADD_SUB_VARIANT(add_i32, KIND_ADD, RUNE_DTYPE_I32)
ADD_SUB_VARIANT(sub_i8, KIND_SUB, RUNE_DTYPE_I8)
ADD_SUB_VARIANT(sub_i16, KIND_SUB, RUNE_DTYPE_I16)
ADD_SUB_VARIANT(sub_i32, KIND_SUB, RUNE_DTYPE_I32)

static int add_sub_check(const rune_engine *e, const rune_op *op) {
  const int32_t *p = op->params;
  const uint8_t t = rune_in_dtype(e, op, 0);
  if (t == RUNE_DTYPE_I32) return op->n_params == B_WORDS + 2 && p[B_WORDS] <= p[B_WORDS + 1] && broadcast_ok(e, op, t);
  if ((t != RUNE_DTYPE_I8 && t != RUNE_DTYPE_I16) || op->n_params != AQ_WORDS || !broadcast_ok(e, op, t)) return 0;
  return p[AQ_LEFT] >= 0 && p[AQ_LEFT] <= 20 && p[AQ_MIN] <= p[AQ_MAX] && p[AQ_MIN] >= (t == RUNE_DTYPE_I8 ? -128 : -32768) &&
         p[AQ_MAX] <= (t == RUNE_DTYPE_I8 ? 127 : 32767) && p[AQ_IN1_OFF] >= -65536 && p[AQ_IN1_OFF] <= 65536 &&
         p[AQ_IN2_OFF] >= -65536 && p[AQ_IN2_OFF] <= 65536 && rune_check_multipliers(p + AQ_M1, p + AQ_S1, 1) &&
         rune_check_multipliers(p + AQ_M2, p + AQ_S2, 1) && rune_check_multipliers(p + AQ_MO, p + AQ_SO, 1);
}
int rune_add_q_check(const rune_engine *e, const rune_op *op) { return add_sub_check(e, op); }
int rune_sub_q_check(const rune_engine *e, const rune_op *op) { return add_sub_check(e, op); }

void rune_add_q_eval(const rune_engine *e, const rune_op *op) {
  const uint8_t t = rune_in_dtype(e, op, 0);
  broadcast(e, op, t == RUNE_DTYPE_I8 ? add_i8 : t == RUNE_DTYPE_I16 ? add_i16 : add_i32);
}
void rune_sub_q_eval(const rune_engine *e, const rune_op *op) {
  const uint8_t t = rune_in_dtype(e, op, 0);
  broadcast(e, op, t == RUNE_DTYPE_I8 ? sub_i8 : t == RUNE_DTYPE_I16 ? sub_i16 : sub_i32);
}

static void mul_element(const rune_op *op, const void *a, int32_t ia, const void *b, int32_t ib, void *o, int32_t io,
                        uint8_t t) {
  const int32_t *p = op->params;
  const int32_t x = rq_wadd(load(a, t, ia), p[MQ_IN1_OFF]), y = rq_wadd(load(b, t, ib), p[MQ_IN2_OFF]);
  const int32_t v = t == RUNE_DTYPE_I32 ? rq_wmul(x, y) : rq_wadd(rq_mul(rq_wmul(x, y), p[MQ_MULT], p[MQ_SHIFT]), p[MQ_OUT_OFF]);
  store(o, t, io, rq_clamp(v, p[MQ_MIN], p[MQ_MAX]));
}
static void mul_i8(const rune_op *op, const void *a, int32_t ia, const void *b, int32_t ib, void *o, int32_t io) {
  mul_element(op, a, ia, b, ib, o, io, RUNE_DTYPE_I8);
}
static void mul_i16(const rune_op *op, const void *a, int32_t ia, const void *b, int32_t ib, void *o, int32_t io) {
  mul_element(op, a, ia, b, ib, o, io, RUNE_DTYPE_I16);
}
static void mul_i32(const rune_op *op, const void *a, int32_t ia, const void *b, int32_t ib, void *o, int32_t io) {
  mul_element(op, a, ia, b, ib, o, io, RUNE_DTYPE_I32);
}

int rune_mul_q_check(const rune_engine *e, const rune_op *op) {
  const int32_t *p = op->params;
  const uint8_t t = rune_in_dtype(e, op, 0);
  if ((t != RUNE_DTYPE_I8 && t != RUNE_DTYPE_I16 && t != RUNE_DTYPE_I32) || op->n_params != MQ_WORDS || !broadcast_ok(e, op, t)) return 0;
  if (p[MQ_MIN] > p[MQ_MAX]) return 0;
  if (t == RUNE_DTYPE_I32) return p[MQ_IN1_OFF] == 0 && p[MQ_IN2_OFF] == 0 && p[MQ_OUT_OFF] == 0;
  return p[MQ_MIN] >= (t == RUNE_DTYPE_I8 ? -128 : -32768) && p[MQ_MAX] <= (t == RUNE_DTYPE_I8 ? 127 : 32767) &&
         p[MQ_IN1_OFF] >= -255 && p[MQ_IN1_OFF] <= 255 && p[MQ_IN2_OFF] >= -255 && p[MQ_IN2_OFF] <= 255 &&
         rune_check_multipliers(p + MQ_MULT, p + MQ_SHIFT, 1);
}

void rune_mul_q_eval(const rune_engine *e, const rune_op *op) {
  const uint8_t t = rune_in_dtype(e, op, 0);
  broadcast(e, op, t == RUNE_DTYPE_I8 ? mul_i8 : t == RUNE_DTYPE_I16 ? mul_i16 : mul_i32);
}
