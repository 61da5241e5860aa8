/*
 * The processing-block API: what a block's C code sees of the pipeline.
 *
 * A block named NAME provides
 *     int32_t NAME_run(const NAME_args *args, const rune_block_ctx *ctx);
 * and, if its manifest says `init: true`,
 *     int32_t NAME_init(const NAME_args *args, const rune_block_ctx *ctx);
 * NAME_args is generated from the manifest (block.yaml) into NAME_args.h. Both return RUNE_OK,
 * or the value of rune_block_fail("what went wrong") to stop the pipeline with that message.
 *
 * Memory: a block never allocates. Its inputs, outputs, state and scratch are buffers the
 * compiler planned at build time; their sizes are in the descriptors. State persists between
 * calls and is zeroed before NAME_init; scratch is only valid during one call and may be shared
 * with other stages.
 *
 * The numeric values of rune_type are part of the rune ABI (docs/abi.md).
 */
#ifndef RUNE_BLOCK_H
#define RUNE_BLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RUNE_MAX_RANK 8
#define RUNE_OK 0
#define RUNE_BLOCK_ERROR 4

typedef enum {
    RUNE_U8 = 1, RUNE_I8 = 2, RUNE_U16 = 3, RUNE_I16 = 4, RUNE_U32 = 5, RUNE_I32 = 6,
    RUNE_U64 = 7, RUNE_I64 = 8, RUNE_F32 = 9, RUNE_F64 = 10,
    /* One `const char *` per element, each a NUL-terminated UTF-8 string. */
    RUNE_UTF8 = 11
} rune_type;

typedef struct {
    void *data;
    uint32_t type;  /* a rune_type */
    uint32_t count; /* number of elements */
    uint32_t rank;
    uint32_t dims[RUNE_MAX_RANK];
} rune_tensor;

typedef struct {
    const rune_tensor *inputs;
    const rune_tensor *outputs;
    uint32_t num_inputs;
    uint32_t num_outputs;
    void *state;
    uint32_t state_bytes;
    void *scratch;
    uint32_t scratch_bytes;
} rune_block_ctx;

/* Record why the block failed (the host reports it with the stage's name); returns RUNE_BLOCK_ERROR. */
int32_t rune_block_fail(const char *message);

/*
 * A block never allocates. The C library for wasm has a working malloc, so without this a call
 * would build and fail only at run time (the rune's memory is sized at build time and cannot
 * grow); marked unavailable, it is a compile error at the caller's line. Declarations in system
 * headers, before or after this one, stay valid.
 */
#if defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 12)
#define RUNE_NO_ALLOCATION \
    __attribute__((unavailable("a block never allocates: use ctx->scratch (one call) or ctx->state (kept)")))
void *malloc(size_t size) RUNE_NO_ALLOCATION;
void *calloc(size_t count, size_t size) RUNE_NO_ALLOCATION;
void *realloc(void *pointer, size_t size) RUNE_NO_ALLOCATION;
void *aligned_alloc(size_t alignment, size_t size) RUNE_NO_ALLOCATION;
void free(void *pointer) RUNE_NO_ALLOCATION;
#endif

#endif
