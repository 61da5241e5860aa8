/* Binary plan format constants (docs/engine.md, "Plan format"). Shared by the runtime and kernels;
 * toolchain/rune/engine/kernels.py must use the same numbers (a test checks this). */
#ifndef RUNE_PLAN_H
#define RUNE_PLAN_H

#define RUNE_PLAN_MAGIC 0x454E5552u /* "RUNE" little-endian */
#define RUNE_PLAN_VERSION 1u
#define RUNE_PLAN_HEADER_BYTES 64u
#define RUNE_TENSOR_RECORD_BYTES 16u
#define RUNE_OP_RECORD_BYTES 16u

/* Header field byte offsets. */
#define RUNE_H_MAGIC 0
#define RUNE_H_VERSION 4 /* u16 version, u16 header bytes */
#define RUNE_H_PLAN_LEN 8
#define RUNE_H_PLAN_SUM 12 /* FNV-1a over plan[16..plan_len) */
#define RUNE_H_MODEL_LEN 16
#define RUNE_H_MODEL_SUM 20 /* FNV-1a over the whole model */
#define RUNE_H_ARENA 24
#define RUNE_H_COUNTS 28 /* u16 tensors, u16 ops */
#define RUNE_H_IO_COUNTS 32 /* u16 inputs, u16 outputs */
#define RUNE_H_TENSORS 36
#define RUNE_H_OPS 40
#define RUNE_H_IO 44
#define RUNE_H_POOL 48
#define RUNE_H_POOL_WORDS 52
#define RUNE_H_FLAGS 56

/* Tensor record: u8 dtype, u8 storage, u8 flags, u8 fill, u32 offset, u32 bytes, u32 source */
#define RUNE_STORE_ARENA 1  /* offset into the arena */
#define RUNE_STORE_MODEL 2  /* offset into the model (read in place) */
#define RUNE_STORE_STAGED 3 /* arena copy of model bytes at `source`, made at init */
#define RUNE_TFLAG_VARIABLE 1 /* filled with `fill` at init and reset */

/* Element types: the TFLite TensorType codes. */
#define RUNE_DTYPE_F32 0
#define RUNE_DTYPE_I32 2
#define RUNE_DTYPE_U8 3
#define RUNE_DTYPE_I64 4
#define RUNE_DTYPE_BOOL 6
#define RUNE_DTYPE_I16 7
#define RUNE_DTYPE_I8 9

/* Op record: u16 kernel, u8 n_in, u8 n_out, u32 operands word, u32 params word,
 * u16 n_params, u8 builtin code, u8 n_tmp */

/* Kernel ids (18 and 35-37 are reserved for kernels not written yet). */
#define RUNE_K_FC_F32 1
#define RUNE_K_FC_I8 2
#define RUNE_K_CONV_F32 3
#define RUNE_K_CONV_I8 4
#define RUNE_K_DWCONV_F32 5
#define RUNE_K_DWCONV_I8 6
#define RUNE_K_AVGPOOL_F32 7
#define RUNE_K_AVGPOOL_Q 8
#define RUNE_K_MAXPOOL_F32 9
#define RUNE_K_MAXPOOL_Q 10
#define RUNE_K_SOFTMAX_F32 11
#define RUNE_K_SOFTMAX_Q 12
#define RUNE_K_QUANTIZE_F32 13
#define RUNE_K_REQUANTIZE 14
#define RUNE_K_DEQUANTIZE 15
#define RUNE_K_SVDF_I8 16
#define RUNE_K_LSTM_I8 17
#define RUNE_K_LUT8 19
#define RUNE_K_CLAMP_F32 20
#define RUNE_K_LEAKY_RELU_F32 21
#define RUNE_K_LOGISTIC_F32 22
#define RUNE_K_TANH_F32 23
#define RUNE_K_ADD_F32 24
#define RUNE_K_ADD_Q 25
#define RUNE_K_SUB_F32 26
#define RUNE_K_SUB_Q 27
#define RUNE_K_MUL_F32 28
#define RUNE_K_MUL_Q 29
#define RUNE_K_MEAN_F32 30
#define RUNE_K_MEAN_Q 31
#define RUNE_K_PAD 32
#define RUNE_K_CONCAT 33
#define RUNE_K_STRIDED_SLICE 34
#define RUNE_K_LOGISTIC_I16 38
#define RUNE_K_TANH_I16 39
#define RUNE_K_LEAKY_RELU_I16 40
#define RUNE_K_COUNT 41

#endif
