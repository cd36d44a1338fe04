/*
 * Optional vector paths of the host reductions for CPUs that have them (reduce_x86.c).
 */
#ifndef BRAID_EXEC_REDUCE_X86_H
#define BRAID_EXEC_REDUCE_X86_H

#include <stddef.h>

#include "braid.h"

/* Runs dst0[i] (and dst1[i]) = a[i] op b[i] with a vector path if there is one for this dtype,
 * op and CPU, and returns 1; returns 0 (nothing written) otherwise. In place as in
 * braid__reduce_host. */
int braid__reduce_x86(void *d0, void *d1, const void *a, const void *b, size_t n, braid_dtype_t dt,
                      braid_op_t op);

#endif
