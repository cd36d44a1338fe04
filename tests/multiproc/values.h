/*
 * Test values, written independently of braid's own dtype code: inputs are small integers
 * that every dtype holds exactly, so sums, products, minima and maxima are exact in every
 * dtype and order; only BRAID_AVG on floats is compared with a tolerance (one unit in the
 * last place of the dtype, at the expected value).
 */
#ifndef BRAID_TEST_VALUES_H
#define BRAID_TEST_VALUES_H

#include <stddef.h>
#include <stdint.h>

#include "braid.h"

/* The input of `rank` at element i of block `block` for a call reducing with op. */
double tv_input(braid_dtype_t dt, braid_op_t op, int rank, size_t block, size_t i);
/* Writes an exactly representable value into element idx of buf. */
void tv_store(void *buf, braid_dtype_t dt, size_t idx, double v);
/* Reads element idx of buf as a double. */
double tv_load(const void *buf, braid_dtype_t dt, size_t idx);
/* The exact reduction over nranks ranks of element (block, i), with braid's documented
 * integer semantics (wrap-around, truncating average). */
double tv_expected(braid_dtype_t dt, braid_op_t op, int nranks, size_t block, size_t i);
/* Whether got matches expected (exactly, or within tolerance for float AVG). */
int tv_match(braid_dtype_t dt, braid_op_t op, double got, double expected);
int tv_is_float(braid_dtype_t dt);

#endif
