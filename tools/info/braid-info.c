/*
 * braid-info: what this braid build is and every setting it reads.
 *   braid-info        version and build
 *   braid-info -e     every BRAID_* variable: value in force, default, help
 *   braid-info -m     the same table as markdown (the README's settings table)
 */
#include <stdio.h>
#include <string.h>

#include "braid.h"

static void list(int markdown)
{
    int n = braid_param_count();
    if (markdown)
        printf("| variable | default | meaning |\n| --- | --- | --- |\n");
    for (int i = 0; i < n; i++) {
        braid_param_t p;
        if (braid_param_get(i, &p) != BRAID_SUCCESS)
            continue;
        if (markdown) {
            printf("| `%s` | %s%s%s | %s |\n", p.name, p.default_value ? "`" : "",
                   p.default_value ? p.default_value : "unset", p.default_value ? "`" : "", p.help);
            continue;
        }
        printf("%-26s = %-12s (default %s)\n    %s\n", p.name, p.value ? p.value : "(unset)",
               p.default_value ? p.default_value : "unset", p.help);
    }
}

int main(int argc, char **argv)
{
    if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        printf("usage: braid-info [-e | -m]\n  (none)  version and build\n  -e      every BRAID_* "
               "setting with its value, default and meaning\n  -m      the settings as a "
               "markdown table\n");
        return 0;
    }
    if (argc > 1 && !strcmp(argv[1], "-e")) {
        list(0);
        return 0;
    }
    if (argc > 1 && !strcmp(argv[1], "-m")) {
        list(1);
        return 0;
    }
    if (argc > 1) {
        fprintf(stderr, "braid-info: unknown option %s (see --help)\n", argv[1]);
        return 2;
    }
    printf("braid %s\n", braid_version_string());
    printf("dtypes:");
    for (int d = 0; d < BRAID_NUM_DTYPES; d++)
        printf(" %s", braid_dtype_name((braid_dtype_t)d));
    printf("\nops:");
    for (int o = 0; o < BRAID_NUM_OPS; o++)
        printf(" %s", braid_op_name((braid_op_t)o));
    printf("\nsettings: %d (braid-info -e)\n", braid_param_count());
    return 0;
}
