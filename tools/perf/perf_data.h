/*
 * braid-perf's data check: inputs that depend on rank and element index, and expected outputs
 * computed here, independently of braid's own reductions and dtype conversions. Pure.
 *
 * Values are small integers chosen per dtype, op and rank count so that every partial result
 * of any reduction order is exactly representable: a correct result then matches exactly (up
 * to the final rounding of avg), whatever algorithm braid picked, and a missing, doubled or
 * misplaced contribution does not.
 */
#ifndef BRAID_PERF_DATA_H
#define BRAID_PERF_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "braid.h"

typedef struct {
    braid_dtype_t dtype;
    braid_op_t op;
    int reduce; /* 1 when ranks' values are combined with op, 0 for pure data movement */
    int nranks;
    uint64_t salt;    /* changes every checked run, so stale data from an earlier run fails */
    uint64_t range;   /* values are integers in [0, range) (op prod: 1 or 2) */
    double tolerance; /* relative, for floating dtypes; 0 means exact */
} perf_pattern_t;

/* Chooses the value range and tolerance for this dtype, op and rank count. */
void perf_pattern_init(perf_pattern_t *p, braid_dtype_t dtype, braid_op_t op, int reduce,
                       int nranks, uint64_t salt);

/* The value rank `rank` contributes at logical element `index`. */
double perf_pattern_value(const perf_pattern_t *p, int rank, size_t index);

/* Writes elements index0 .. index0 + count - 1 of rank's data into buf[0 .. count). */
void perf_pattern_fill(const perf_pattern_t *p, void *buf, size_t count, int rank, size_t index0);

/* Counts elements of buf[0 .. count) that differ from rank src's elements index0 .. */
size_t perf_check_copy(const perf_pattern_t *p, const void *buf, size_t count, int src,
                       size_t index0);

/* Counts elements of buf[0 .. count) that differ from op over all ranks at index0 .. */
size_t perf_check_reduce(const perf_pattern_t *p, const void *buf, size_t count, size_t index0);

/* Element access in any braid dtype, through double (exact for the values used here). */
double perf_load(const void *buf, size_t i, braid_dtype_t dtype);
void perf_store(void *buf, size_t i, braid_dtype_t dtype, double value);

/* Bytes of one element (braid_dtype_size() without calling the library), 0 if invalid. */
size_t perf_dtype_size(braid_dtype_t dtype);

#endif /* BRAID_PERF_DATA_H */
