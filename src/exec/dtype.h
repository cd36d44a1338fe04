/*
 * Names of dtypes and ops as users and tools type them. The canonical names are those of
 * braid_dtype_name() / braid_op_name(); the parsers also take the names nccl-tests uses, so
 * that braid-perf accepts its flags unchanged.
 */
#ifndef BRAID_EXEC_DTYPE_H
#define BRAID_EXEC_DTYPE_H

/* The braid_dtype_t named `name` ("float32", "float", "half", "f8e4m3", ...), or -1 if the
 * name is unknown or NULL. Case-sensitive, like nccl-tests. */
int braid__dtype_from_name(const char *name);

/* The braid_op_t named `name` ("sum", "prod", "min", "max", "avg"), or -1. */
int braid__op_from_name(const char *name);

#endif
