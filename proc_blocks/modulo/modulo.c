#include <math.h>

#include "modulo_args.h"

/* Integer remainder. The manifest guarantees that modulus is a non-zero value of T. For a signed
 * T, a divisor of -1 would overflow for the type's minimum, and its remainder is 0; for an
 * unsigned T, (T)-1 is the type's maximum, an ordinary divisor. */
#define INTEGER_MODULO(T, IS_SIGNED)                                        \
    do {                                                                    \
        const T *x = (const T *)in->data;                                   \
        T *y = (T *)out->data;                                              \
        T m = (T)args->modulus;                                             \
        for (uint32_t i = 0; i < in->count; i++) y[i] = (IS_SIGNED && m == (T)-1) ? 0 : (T)(x[i] % m); \
    } while (0)

int32_t modulo_run(const modulo_args *args, const rune_block_ctx *ctx) {
    const rune_tensor *in = &ctx->inputs[0];
    const rune_tensor *out = &ctx->outputs[0];
    switch (in->type) {
    case RUNE_F32: {
        const float *x = (const float *)in->data;
        float *y = (float *)out->data;
        float m = (float)args->modulus;
        for (uint32_t i = 0; i < in->count; i++) y[i] = fmodf(x[i], m);
        return RUNE_OK;
    }
    case RUNE_F64: {
        const double *x = (const double *)in->data;
        double *y = (double *)out->data;
        for (uint32_t i = 0; i < in->count; i++) y[i] = fmod(x[i], args->modulus);
        return RUNE_OK;
    }
    case RUNE_U8: INTEGER_MODULO(uint8_t, 0); return RUNE_OK;
    case RUNE_I8: INTEGER_MODULO(int8_t, 1); return RUNE_OK;
    case RUNE_U16: INTEGER_MODULO(uint16_t, 0); return RUNE_OK;
    case RUNE_I16: INTEGER_MODULO(int16_t, 1); return RUNE_OK;
    case RUNE_U32: INTEGER_MODULO(uint32_t, 0); return RUNE_OK;
    case RUNE_I32: INTEGER_MODULO(int32_t, 1); return RUNE_OK;
    case RUNE_U64: INTEGER_MODULO(uint64_t, 0); return RUNE_OK;
    case RUNE_I64: INTEGER_MODULO(int64_t, 1); return RUNE_OK;
    default: return rune_block_fail("modulo: unsupported element type");
    }
}
