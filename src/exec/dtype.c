/* Sizes and names of dtypes and ops (public), and the parsers tools use (internal). */
#include <string.h>

#include "braid.h"
#include "exec/dtype.h"

typedef struct {
    const char *name; /* canonical, as braid_dtype_name() prints it */
    size_t size;
} dtype_info_t;

static const dtype_info_t dtype_info[BRAID_NUM_DTYPES] = {
    [BRAID_INT8] = {"int8", 1},         [BRAID_UINT8] = {"uint8", 1},
    [BRAID_INT32] = {"int32", 4},       [BRAID_UINT32] = {"uint32", 4},
    [BRAID_INT64] = {"int64", 8},       [BRAID_UINT64] = {"uint64", 8},
    [BRAID_FLOAT16] = {"float16", 2},   [BRAID_BFLOAT16] = {"bfloat16", 2},
    [BRAID_FLOAT32] = {"float32", 4},   [BRAID_FLOAT64] = {"float64", 8},
    [BRAID_FP8_E4M3] = {"fp8_e4m3", 1}, [BRAID_FP8_E5M2] = {"fp8_e5m2", 1},
};

static const char *const op_names[BRAID_NUM_OPS] = {
    [BRAID_SUM] = "sum", [BRAID_PROD] = "prod", [BRAID_MIN] = "min",
    [BRAID_MAX] = "max", [BRAID_AVG] = "avg",
};

/* The other spellings accepted on input: nccl-tests' -d names, and C's. */
static const struct {
    const char *name;
    braid_dtype_t dtype;
} dtype_aliases[] = {
    {"int", BRAID_INT32},      {"half", BRAID_FLOAT16},    {"float", BRAID_FLOAT32},
    {"double", BRAID_FLOAT64}, {"f8e4m3", BRAID_FP8_E4M3}, {"f8e5m2", BRAID_FP8_E5M2},
    {"bf16", BRAID_BFLOAT16},  {"fp16", BRAID_FLOAT16},    {"fp32", BRAID_FLOAT32},
    {"fp64", BRAID_FLOAT64},
};

size_t braid_dtype_size(braid_dtype_t dtype)
{
    if ((unsigned)dtype >= BRAID_NUM_DTYPES)
        return 0;
    return dtype_info[dtype].size;
}

const char *braid_dtype_name(braid_dtype_t dtype)
{
    if ((unsigned)dtype >= BRAID_NUM_DTYPES)
        return "invalid";
    return dtype_info[dtype].name;
}

const char *braid_op_name(braid_op_t op)
{
    if ((unsigned)op >= BRAID_NUM_OPS)
        return "invalid";
    return op_names[op];
}

int braid__dtype_from_name(const char *name)
{
    if (name == NULL)
        return -1;
    for (int i = 0; i < BRAID_NUM_DTYPES; i++)
        if (strcmp(name, dtype_info[i].name) == 0)
            return i;
    for (size_t i = 0; i < sizeof dtype_aliases / sizeof dtype_aliases[0]; i++)
        if (strcmp(name, dtype_aliases[i].name) == 0)
            return (int)dtype_aliases[i].dtype;
    return -1;
}

int braid__op_from_name(const char *name)
{
    if (name == NULL)
        return -1;
    for (int i = 0; i < BRAID_NUM_OPS; i++)
        if (strcmp(name, op_names[i]) == 0)
            return i;
    return -1;
}
