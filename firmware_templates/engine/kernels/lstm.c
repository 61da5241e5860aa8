/* UNIDIRECTIONAL_SEQUENCE_LSTM, int8 activations/weights, int32 bias, int16 cell
 * state (TFLM's integer LSTM: no peephole, projection, layer norm or CIFG).
 *
 * Operands: input, input weights (forget, input, cell, output), recurrent weights
 * (same order), biases (same order), hidden state (variable), cell state
 * (variable); output; scratch: 4 x int16[rows * state].
 * Params: batch, time, input_dim, state_dim, time_major, then per gate (same
 * order) input_offset, input_weight_offset, input_mult, input_shift,
 * recurrent_offset, recurrent_weight_offset, recurrent_mult, recurrent_shift; then
 * forget*cell mult/shift, input*cell-gate mult/shift, output mult/shift, hidden_zp,
 * cell-tanh input multiplier/shift, quantized cell clip (0 = none). */
#include "activation16.h"
#include "kernels.h"
#include "qmath.h"

enum { L_BATCH, L_TIME, L_INPUT, L_STATE, L_TIME_MAJOR, L_GATES };
enum { G_IN_OFF, G_IN_W_OFF, G_IN_MULT, G_IN_SHIFT, G_REC_OFF, G_REC_W_OFF, G_REC_MULT, G_REC_SHIFT, G_WORDS };
enum {
  L_FC_MULT = L_GATES + 4 * G_WORDS, L_FC_SHIFT, L_IC_MULT, L_IC_SHIFT, L_OUT_MULT, L_OUT_SHIFT,
  L_HIDDEN_ZP, L_TANH_MULT, L_TANH_SHIFT, L_CELL_CLIP, L_WORDS
};
enum { GATE_FORGET, GATE_INPUT, GATE_CELL, GATE_OUTPUT };
enum { OP_INPUT = 0, OP_W_IN = 1, OP_W_REC = 5, OP_BIAS = 9, OP_HIDDEN = 13, OP_CELL = 14, OP_COUNT = 15 };

static int offset_ok(int32_t v) { return v >= -255 && v <= 255; }

int rune_lstm_i8_check(const rune_engine *e, const rune_op *op) {
  const int32_t *p = op->params;
  uint64_t n, rows, in_dim, state, seq;
  unsigned g;
  if (op->n_in != OP_COUNT || op->n_out != 1 || op->n_tmp != 4 || op->n_params != L_WORDS) return 0;
  if (!rune_check_shape(p, 4, &n) || (p[L_TIME_MAJOR] != 0 && p[L_TIME_MAJOR] != 1)) return 0;
  rows = p[L_TIME_MAJOR] ? (uint64_t)p[L_BATCH] : 1u;
  in_dim = (uint64_t)p[L_INPUT];
  state = (uint64_t)p[L_STATE];
  for (g = 0; g < 4; ++g) {
    const int32_t *q = p + L_GATES + g * G_WORDS;
    if (!offset_ok(q[G_IN_OFF]) || !offset_ok(q[G_IN_W_OFF]) || !offset_ok(q[G_REC_OFF]) ||
        !offset_ok(q[G_REC_W_OFF]) || !rune_check_multipliers(q + G_IN_MULT, q + G_IN_SHIFT, 1) ||
        !rune_check_multipliers(q + G_REC_MULT, q + G_REC_SHIFT, 1))
      return 0;
    if (!rune_check_in(e, op, OP_W_IN + g, RUNE_DTYPE_I8, state * in_dim) ||
        !rune_check_in(e, op, OP_W_REC + g, RUNE_DTYPE_I8, state * state) ||
        !rune_check_opt_in(e, op, OP_BIAS + g, RUNE_DTYPE_I32, state))
      return 0;
  }
  if (!rune_check_multipliers(p + L_FC_MULT, p + L_FC_SHIFT, 1) || !rune_check_multipliers(p + L_IC_MULT, p + L_IC_SHIFT, 1) ||
      !rune_check_multipliers(p + L_OUT_MULT, p + L_OUT_SHIFT, 1))
    return 0;
  if (p[L_HIDDEN_ZP] < -128 || p[L_HIDDEN_ZP] > 127 || p[L_TANH_MULT] < 1 || p[L_TANH_MULT] > 32767 ||
      p[L_TANH_SHIFT] < 0 || p[L_TANH_SHIFT] > 30 || p[L_CELL_CLIP] < 0 || p[L_CELL_CLIP] > 32767)
    return 0;
  seq = (uint64_t)p[L_BATCH] * (uint64_t)p[L_TIME];
  return rune_check_in(e, op, OP_INPUT, RUNE_DTYPE_I8, seq * in_dim) &&
         rune_check_state(e, op, OP_HIDDEN, RUNE_DTYPE_I8, (uint64_t)p[L_BATCH] * state) &&
         rune_check_state(e, op, OP_CELL, RUNE_DTYPE_I16, (uint64_t)p[L_BATCH] * state) &&
         rune_check_out(e, op, 0, RUNE_DTYPE_I8, seq * state) && rune_check_tmp(e, op, 0, rows * state * 2) &&
         rune_check_tmp(e, op, 1, rows * state * 2) && rune_check_tmp(e, op, 2, rows * state * 2) &&
         rune_check_tmp(e, op, 3, rows * state * 2);
}

static int16_t sat16(int32_t v) { return (int16_t)rq_clamp(v, -32768, 32767); }

/* out[r][s] = saturate16(rescale(sum_i (w[s][i] + w_off) * (x[r][i] + x_off) + bias[s])) */
static void gate_fc(const int8_t *x, int32_t rows, int32_t depth, int32_t x_off, const int8_t *w, int32_t w_off,
                    const int32_t *bias, int32_t mult, int32_t shift, int32_t state, int16_t *out) {
  int32_t r, s, i;
  for (r = 0; r < rows; ++r)
    for (s = 0; s < state; ++s) {
      int32_t acc = 0;
      for (i = 0; i < depth; ++i) acc = rq_wadd(acc, (w[s * depth + i] + w_off) * (x[r * depth + i] + x_off));
      if (bias) acc = rq_wadd(acc, bias[s]);
      out[r * state + s] = sat16(rq_mul(acc, mult, shift));
    }
}

/* gate = activation(FC(input) + FC(hidden)); sigmoid unless it is the cell gate (tanh). */
static void gate(const rune_engine *e, const rune_op *op, int g, const int8_t *x, const int8_t *h, int32_t rows,
                 int16_t *out, int16_t *scratch) {
  const int32_t *p = op->params, *q = p + L_GATES + g * G_WORDS;
  const int32_t state = p[L_STATE], n = rows * state;
  int32_t i;
  gate_fc(x, rows, p[L_INPUT], q[G_IN_OFF], (const int8_t *)rune_in(e, op, OP_W_IN + g), q[G_IN_W_OFF],
          (const int32_t *)rune_in(e, op, OP_BIAS + g), q[G_IN_MULT], q[G_IN_SHIFT], state, out);
  gate_fc(h, rows, state, q[G_REC_OFF], (const int8_t *)rune_in(e, op, OP_W_REC + g), q[G_REC_W_OFF], NULL,
          q[G_REC_MULT], q[G_REC_SHIFT], state, scratch);
  for (i = 0; i < n; ++i) {
    const int16_t v = sat16(out[i] + scratch[i]);
    /* gate pre-activations are Q3.12: the table lookup wants v * 3 */
    out[i] = g == GATE_CELL ? a16_tanh(v * 3) : a16_sigmoid(v * 3);
  }
}

static void lstm_step(const rune_engine *e, const rune_op *op, const int8_t *x, int8_t *h, int16_t *c,
                      int32_t rows, int8_t *y) {
  const int32_t *p = op->params;
  const int32_t n = rows * p[L_STATE];
  int16_t *forget = (int16_t *)rune_tmp(e, op, 0), *in_gate = (int16_t *)rune_tmp(e, op, 1);
  int16_t *cell_gate = (int16_t *)rune_tmp(e, op, 2), *scratch = (int16_t *)rune_tmp(e, op, 3);
  int32_t i;
  gate(e, op, GATE_FORGET, x, h, rows, forget, scratch);
  gate(e, op, GATE_INPUT, x, h, rows, in_gate, scratch);
  gate(e, op, GATE_CELL, x, h, rows, cell_gate, scratch);
  for (i = 0; i < n; ++i) {  /* c = clip(f * c + i * g) */
    const int32_t kept = sat16(rq_mul(forget[i] * c[i], p[L_FC_MULT], p[L_FC_SHIFT]));
    const int32_t added = sat16(rq_mul(in_gate[i] * cell_gate[i], p[L_IC_MULT], p[L_IC_SHIFT]));
    int32_t v = sat16(kept + added);
    if (p[L_CELL_CLIP] > 0) v = rq_clamp(v, -p[L_CELL_CLIP], p[L_CELL_CLIP]);
    c[i] = (int16_t)v;
  }
  gate(e, op, GATE_OUTPUT, x, h, rows, in_gate, scratch);
  for (i = 0; i < n; ++i) {  /* h = o * tanh(c) */
    const int32_t t = a16_tanh(a16_scale(c[i], p[L_TANH_MULT], p[L_TANH_SHIFT]));
    const int32_t v = rq_wadd(rq_mul(t * in_gate[i], p[L_OUT_MULT], p[L_OUT_SHIFT]), p[L_HIDDEN_ZP]);
    h[i] = (int8_t)rq_clamp(v, -128, 127);
  }
  memmove(y, h, (size_t)n); /* memmove: a corrupt plan may alias them */
}

void rune_lstm_i8_eval(const rune_engine *e, const rune_op *op) {
  const int32_t *p = op->params;
  const int32_t batch = p[L_BATCH], steps = p[L_TIME], in_dim = p[L_INPUT], state = p[L_STATE];
  const int8_t *input = (const int8_t *)rune_in(e, op, OP_INPUT);
  int8_t *hidden = (int8_t *)rune_state(e, op, OP_HIDDEN);
  int16_t *cell = (int16_t *)rune_state(e, op, OP_CELL);
  int8_t *output = (int8_t *)rune_out(e, op, 0);
  int32_t b, t;
  if (p[L_TIME_MAJOR]) {  /* all batches advance together */
    for (t = 0; t < steps; ++t)
      lstm_step(e, op, input + t * batch * in_dim, hidden, cell, batch, output + t * batch * state);
  } else {  /* one sequence per batch entry, each with its own state row */
    for (b = 0; b < batch; ++b)
      for (t = 0; t < steps; ++t)
        lstm_step(e, op, input + (b * steps + t) * in_dim, hidden + b * state, cell + b * state, 1,
                  output + (b * steps + t) * state);
  }
}
