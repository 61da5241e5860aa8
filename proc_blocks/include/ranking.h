/*
 * Ordering elements of any numeric tensor for argmax-like blocks: larger values rank higher, a NaN
 * ranks above every number (as numpy's argmax treats it), and on ties the lower index ranks higher.
 */
#ifndef RUNE_RANKING_H
#define RUNE_RANKING_H

#include "rune_block.h"

/* -1, 0 or 1 comparing elements i and j by value alone (NaN highest, NaNs equal). */
static inline int rune_compare_values(const rune_tensor *t, uint32_t i, uint32_t j) {
#define RUNE_CMP(T) { T a = ((const T *)t->data)[i], b = ((const T *)t->data)[j]; return (a > b) - (a < b); }
#define RUNE_CMP_FLOAT(T) {                                            \
        T a = ((const T *)t->data)[i], b = ((const T *)t->data)[j];   \
        int an = a != a, bn = b != b;                                  \
        if (an || bn) return an - bn;                                  \
        return (a > b) - (a < b); }
    switch (t->type) {
    case RUNE_U8: RUNE_CMP(uint8_t)
    case RUNE_I8: RUNE_CMP(int8_t)
    case RUNE_U16: RUNE_CMP(uint16_t)
    case RUNE_I16: RUNE_CMP(int16_t)
    case RUNE_U32: RUNE_CMP(uint32_t)
    case RUNE_I32: RUNE_CMP(int32_t)
    case RUNE_U64: RUNE_CMP(uint64_t)
    case RUNE_I64: RUNE_CMP(int64_t)
    case RUNE_F32: RUNE_CMP_FLOAT(float)
    case RUNE_F64: RUNE_CMP_FLOAT(double)
    default: return 0;
    }
#undef RUNE_CMP
#undef RUNE_CMP_FLOAT
}

/* Whether element i ranks above element j (a total order: values, then lower index first). */
static inline bool rune_ranks_above(const rune_tensor *t, uint32_t i, uint32_t j) {
    int c = rune_compare_values(t, i, j);
    return c > 0 || (c == 0 && i < j);
}

#endif
