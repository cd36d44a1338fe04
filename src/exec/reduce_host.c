/*
 * Host reduction loops: one function per dtype x op, generated from the scalar combine
 * functions of dtype_math.h, chosen once per call from a table (never per element).
 *
 * Each loop walks the buffers in blocks of BLOCK elements: it computes a whole block into a
 * local array, then stores it. Two things follow from that shape:
 * - In place is well defined without `restrict`: every load of a block happens before any
 *   store to it, so dst0 == a or dst0 == b reads each element before overwriting it. (With
 *   `restrict` on dst0 and a, dst0 == a would be undefined behaviour.)
 * - The inner loops have a constant trip count, so GCC vectorizes them at -O2, whose "very
 *   cheap" cost model refuses loops that need a scalar epilogue or run-time alias checks; the
 *   local array cannot alias the caller's buffers, so no check is needed.
 * The float32 and float64 sum and the copy loops run at memory speed this way (see
 * perf/reduce_rate.c); the narrow floats convert element by element and are slower.
 */
#include <string.h>

#include "exec/dtype_math.h"
#include "exec/reduce_host.h"
#include "exec/reduce_x86.h"

/* 64 bytes of float32: a cache line, two AVX vectors, four SSE ones. */
#define BLOCK 16

typedef void (*reduce_fn_t)(void *d0, void *d1, const void *a, const void *b, size_t n, int k);
typedef void (*div_fn_t)(void *d0, void *d1, const void *src, size_t n, int k);

/* One name per table column, so the generator below can paste them; k is the rank count of
 * the final average and unused by the other ops. */
#define COMBINE_SUM(N, x, y, k)  braid__sum_##N(x, y)
#define COMBINE_PROD(N, x, y, k) braid__prod_##N(x, y)
#define COMBINE_MIN(N, x, y, k)  braid__min_##N(x, y)
#define COMBINE_MAX(N, x, y, k)  braid__max_##N(x, y)
#define COMBINE_AVG(N, x, y, k)  braid__avg_##N(x, y, k)

/* Stores a computed block to dst0 and, when there is one, dst1. */
#define STORE_BLOCK(T, d0, d1, i, r, len)                                                          \
    do {                                                                                           \
        for (size_t j_ = 0; j_ < (len); j_++)                                                      \
            (d0)[(i) + j_] = (r)[j_];                                                              \
        if (d1)                                                                                    \
            for (size_t j_ = 0; j_ < (len); j_++)                                                  \
                (d1)[(i) + j_] = (r)[j_];                                                          \
    } while (0)

#define DEF_REDUCE(N, T, OP)                                                                       \
    static void reduce_##OP##_##N(void *d0v, void *d1v, const void *av, const void *bv, size_t n,  \
                                  int k)                                                           \
    {                                                                                              \
        T *d0 = (T *)d0v, *d1 = (T *)d1v;                                                          \
        const T *a = (const T *)av, *b = (const T *)bv;                                            \
        T r[BLOCK];                                                                                \
        (void)k; /* only the average reads it */                                                   \
        size_t i = 0;                                                                              \
        for (; i + BLOCK <= n; i += BLOCK) {                                                       \
            for (size_t j = 0; j < BLOCK; j++)                                                     \
                r[j] = COMBINE_##OP(N, a[i + j], b[i + j], k);                                     \
            STORE_BLOCK(T, d0, d1, i, r, BLOCK);                                                   \
        }                                                                                          \
        size_t rest = n - i;                                                                       \
        for (size_t j = 0; j < rest; j++)                                                          \
            r[j] = COMBINE_##OP(N, a[i + j], b[i + j], k);                                         \
        STORE_BLOCK(T, d0, d1, i, r, rest);                                                        \
    }

/* The AVG post-op on a copy: dst = src / k, same block shape as above. */
#define DEF_DIV(N, T)                                                                              \
    static void div_##N(void *d0v, void *d1v, const void *sv, size_t n, int k)                     \
    {                                                                                              \
        T *d0 = (T *)d0v, *d1 = (T *)d1v;                                                          \
        const T *s = (const T *)sv;                                                                \
        T r[BLOCK];                                                                                \
        size_t i = 0;                                                                              \
        for (; i + BLOCK <= n; i += BLOCK) {                                                       \
            for (size_t j = 0; j < BLOCK; j++)                                                     \
                r[j] = braid__div_##N(s[i + j], k);                                                \
            STORE_BLOCK(T, d0, d1, i, r, BLOCK);                                                   \
        }                                                                                          \
        size_t rest = n - i;                                                                       \
        for (size_t j = 0; j < rest; j++)                                                          \
            r[j] = braid__div_##N(s[i + j], k);                                                    \
        STORE_BLOCK(T, d0, d1, i, r, rest);                                                        \
    }

#define DEF_DTYPE(N, T)                                                                            \
    DEF_REDUCE(N, T, SUM)                                                                          \
    DEF_REDUCE(N, T, PROD)                                                                         \
    DEF_REDUCE(N, T, MIN)                                                                          \
    DEF_REDUCE(N, T, MAX)                                                                          \
    DEF_REDUCE(N, T, AVG)                                                                          \
    DEF_DIV(N, T)

DEF_DTYPE(i8, int8_t)
DEF_DTYPE(u8, uint8_t)
DEF_DTYPE(i32, int32_t)
DEF_DTYPE(u32, uint32_t)
DEF_DTYPE(i64, int64_t)
DEF_DTYPE(u64, uint64_t)
DEF_DTYPE(f16, braid_f16_t)
DEF_DTYPE(bf16, braid_bf16_t)
DEF_DTYPE(f32, float)
DEF_DTYPE(f64, double)
DEF_DTYPE(e4m3, braid_e4m3_t)
DEF_DTYPE(e5m2, braid_e5m2_t)

/* Column BRAID_AVG holds the final combination of an average (sum, then divide); an AVG that
 * is not final uses the BRAID_SUM column. */
#define REDUCE_ROW(N)                                                                              \
    {                                                                                              \
        [BRAID_SUM] = reduce_SUM_##N, [BRAID_PROD] = reduce_PROD_##N,                              \
        [BRAID_MIN] = reduce_MIN_##N, [BRAID_MAX] = reduce_MAX_##N, [BRAID_AVG] = reduce_AVG_##N,  \
    }

static const reduce_fn_t reduce_table[BRAID_NUM_DTYPES][BRAID_NUM_OPS] = {
    [BRAID_INT8] = REDUCE_ROW(i8),       [BRAID_UINT8] = REDUCE_ROW(u8),
    [BRAID_INT32] = REDUCE_ROW(i32),     [BRAID_UINT32] = REDUCE_ROW(u32),
    [BRAID_INT64] = REDUCE_ROW(i64),     [BRAID_UINT64] = REDUCE_ROW(u64),
    [BRAID_FLOAT16] = REDUCE_ROW(f16),   [BRAID_BFLOAT16] = REDUCE_ROW(bf16),
    [BRAID_FLOAT32] = REDUCE_ROW(f32),   [BRAID_FLOAT64] = REDUCE_ROW(f64),
    [BRAID_FP8_E4M3] = REDUCE_ROW(e4m3), [BRAID_FP8_E5M2] = REDUCE_ROW(e5m2),
};

static const div_fn_t div_table[BRAID_NUM_DTYPES] = {
    [BRAID_INT8] = div_i8,     [BRAID_UINT8] = div_u8,      [BRAID_INT32] = div_i32,
    [BRAID_UINT32] = div_u32,  [BRAID_INT64] = div_i64,     [BRAID_UINT64] = div_u64,
    [BRAID_FLOAT16] = div_f16, [BRAID_BFLOAT16] = div_bf16, [BRAID_FLOAT32] = div_f32,
    [BRAID_FLOAT64] = div_f64, [BRAID_FP8_E4M3] = div_e4m3, [BRAID_FP8_E5M2] = div_e5m2,
};

void braid__reduce_host(void *dst0, void *dst1, const void *a, const void *b, size_t n,
                        braid_dtype_t dt, braid_op_t op, int final_nranks)
{
    if ((unsigned)dt >= BRAID_NUM_DTYPES || (unsigned)op >= BRAID_NUM_OPS)
        return;
    if (op == BRAID_AVG && final_nranks <= 0)
        op = BRAID_SUM;
    if (braid__reduce_x86(dst0, dst1, a, b, n, dt, op))
        return;
    reduce_table[dt][op](dst0, dst1, a, b, n, final_nranks);
}

void braid__copy_host(void *dst0, void *dst1, const void *src, size_t n, braid_dtype_t dt,
                      braid_op_t op, int final_nranks)
{
    if ((unsigned)dt >= BRAID_NUM_DTYPES)
        return;
    if (op == BRAID_AVG && final_nranks > 0) {
        div_table[dt](dst0, dst1, src, n, final_nranks);
        return;
    }
    size_t bytes = n * braid_dtype_size(dt);
    if (dst0 != src)
        memcpy(dst0, src, bytes);
    if (dst1 != NULL && dst1 != src)
        memcpy(dst1, src, bytes);
}
