/* Declarations of every kernel check/eval pair (one source file per operator family). */
#ifndef RUNE_KERNELS_H
#define RUNE_KERNELS_H

#include "../rune_internal.h"

#define RUNE_DECLARE_KERNEL(name)                                   \
  int rune_##name##_check(const rune_engine *e, const rune_op *op); \
  void rune_##name##_eval(const rune_engine *e, const rune_op *op)

RUNE_DECLARE_KERNEL(fc_f32);
RUNE_DECLARE_KERNEL(fc_i8);
RUNE_DECLARE_KERNEL(conv_f32);
RUNE_DECLARE_KERNEL(conv_i8);
RUNE_DECLARE_KERNEL(dwconv_f32);
RUNE_DECLARE_KERNEL(dwconv_i8);
RUNE_DECLARE_KERNEL(softmax_f32);
RUNE_DECLARE_KERNEL(softmax_q);
RUNE_DECLARE_KERNEL(avgpool_f32);
RUNE_DECLARE_KERNEL(avgpool_q);
RUNE_DECLARE_KERNEL(maxpool_f32);
RUNE_DECLARE_KERNEL(maxpool_q);
RUNE_DECLARE_KERNEL(quantize_f32);
RUNE_DECLARE_KERNEL(requantize);
RUNE_DECLARE_KERNEL(dequantize);
RUNE_DECLARE_KERNEL(svdf_i8);
RUNE_DECLARE_KERNEL(lstm_i8);
RUNE_DECLARE_KERNEL(lut8);
RUNE_DECLARE_KERNEL(clamp_f32);
RUNE_DECLARE_KERNEL(leaky_relu_f32);
RUNE_DECLARE_KERNEL(leaky_relu_i16);
RUNE_DECLARE_KERNEL(logistic_f32);
RUNE_DECLARE_KERNEL(tanh_f32);
RUNE_DECLARE_KERNEL(logistic_i16);
RUNE_DECLARE_KERNEL(tanh_i16);
RUNE_DECLARE_KERNEL(add_f32);
RUNE_DECLARE_KERNEL(add_q);
RUNE_DECLARE_KERNEL(sub_f32);
RUNE_DECLARE_KERNEL(sub_q);
RUNE_DECLARE_KERNEL(mul_f32);
RUNE_DECLARE_KERNEL(mul_q);
RUNE_DECLARE_KERNEL(pad);
RUNE_DECLARE_KERNEL(concat);
RUNE_DECLARE_KERNEL(strided_slice);
RUNE_DECLARE_KERNEL(mean_f32);
RUNE_DECLARE_KERNEL(mean_q);

#endif
