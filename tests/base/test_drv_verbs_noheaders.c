/*
 * test_drv_verbs.c against the loader as a build without verbs.h has it, on a machine that has
 * the header. The loader's source is compiled into this test with BRAID_HAVE_VERBS undefined,
 * and its two functions renamed so that they do not collide with the library's own copy.
 */
#define braid__verbs     braid__verbs_noheaders
#define braid__verbs_why braid__verbs_why_noheaders

#include "base/drv_verbs.c"
#include "test_drv_verbs.c"
