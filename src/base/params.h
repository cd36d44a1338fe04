/*
 * Settings. Every tunable is a BRAID_* environment variable declared once in the table of
 * params.c with its default and help text; the README lists the same table, `braid-info -e`
 * prints it, and comm config fields override the variables they mirror.
 */
#ifndef BRAID_BASE_PARAMS_H
#define BRAID_BASE_PARAMS_H

#include "braid.h"

struct braid_param_def {
    const char *name;
    const char *default_value; /* NULL: unset by default */
    const char *help;
};

/* The value of a declared setting: the environment's if set and non-empty, else the default
 * (which may be NULL). Asking for an undeclared name is a bug and returns NULL. */
const char *braid__param_str(const char *name);

/* Parses an integer setting within [min, max]. A malformed or out-of-range value fails with
 * BRAID_ERR_INVALID_ARGUMENT naming the variable, its value and the range. */
braid_result_t braid__param_int(const char *name, long min, long max, long *out);

const struct braid_param_def *braid__param_table(int *count);

#endif
