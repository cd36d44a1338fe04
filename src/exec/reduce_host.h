/*
 * CPU reductions: the inner loops of the host executor, one per dtype x op, over the scalar
 * arithmetic of dtype_math.h. They are plain loops over memory with no error path; callers
 * (the executor, which checked the user's dtype and op when the call was enqueued) pass valid
 * arguments.
 */
#ifndef BRAID_EXEC_REDUCE_HOST_H
#define BRAID_EXEC_REDUCE_HOST_H

#include <stddef.h>

#include "braid.h"

/*
 * dst0[i] = a[i] op b[i] for i < n elements of dtype dt, in one pass over memory; dst1, when
 * not NULL, receives the same values (a recv-reduce-copy-send writes the output chunk and the
 * next peer's slot at once).
 * - dst0 may equal a or b (in place); otherwise no two of dst0, dst1, a, b may overlap.
 * - final_nranks > 0 with op == BRAID_AVG makes this the last combination of an average: the
 *   sum is divided by final_nranks (integers truncate towards zero; floats divide in their
 *   accumulation type and round once). Otherwise final_nranks is ignored, and BRAID_AVG sums.
 * - dt and op must be valid (below BRAID_NUM_DTYPES / BRAID_NUM_OPS); an invalid pair writes
 *   nothing.
 * Blocking, no allocation, thread-safe (the buffers are the caller's).
 */
void braid__reduce_host(void *dst0, void *dst1, const void *a, const void *b, size_t n,
                        braid_dtype_t dt, braid_op_t op, int final_nranks);

/*
 * dst0[i] = src[i] (and dst1[i] when dst1 is not NULL) for i < n elements of dtype dt. With
 * final_nranks > 0 and op == BRAID_AVG each element is divided by final_nranks on the way, as
 * in braid__reduce_host(); otherwise this is memcpy, skipped where a destination is src.
 * dst0 may equal src; otherwise no two buffers may overlap. Same contract as above otherwise.
 */
void braid__copy_host(void *dst0, void *dst1, const void *src, size_t n, braid_dtype_t dt,
                      braid_op_t op, int final_nranks);

#endif
