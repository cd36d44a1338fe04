/*
 * The CUDA driver loader: libcuda.so.1 is opened once per process, its entry points resolved
 * by name into one table, and cuInit(0) called; the table is handed out only when all of that
 * succeeded, and otherwise the reason is kept in words for the callers' messages.
 */
#include "base/drv_cuda.h"

#include <pthread.h>
#include <stddef.h>
#include <stdio.h>

#include "base/dl.h"
#include "base/log.h"

#define CUDA_LIB_NAME "libcuda.so.1"

/* Written once, inside cuda_once, and only read afterwards: pthread_once orders the writes
 * before every later reader's return from it. */
static struct {
    struct braid_cuda_api api;
    int usable;
    char why[512];
} cuda;
static pthread_once_t cuda_once = PTHREAD_ONCE_INIT;

static const char *result_text(const struct braid_cuda_api *api, braid_cu_result_t res, char *buf,
                               size_t len)
{
    const char *name = NULL;
    if (api && api->cuGetErrorName && api->cuGetErrorName(res, &name) != BRAID_CU_SUCCESS)
        name = NULL;
    if (name)
        snprintf(buf, len, "%s (%d)", name, res);
    else
        snprintf(buf, len, "CUDA error %d", res);
    return buf;
}

/* The table's entry points, from the one list in the header. */
static const struct braid_dl_sym cuda_syms[] = {
#define CUDA_REQUIRED(ret, name, params) {#name, offsetof(struct braid_cuda_api, name), 1},
#define CUDA_OPTIONAL(ret, name, params) {#name, offsetof(struct braid_cuda_api, name), 0},
    BRAID_CUDA_ENTRY_POINTS(CUDA_REQUIRED, CUDA_OPTIONAL)
#undef CUDA_REQUIRED
#undef CUDA_OPTIONAL
};

/* Opens, resolves and initialises; returns 1 when the table is usable, else 0 with cuda.why
 * set. The library stays loaded either way: cuInit may have started driver threads. */
static int cuda_open(void)
{
    if (!braid__dl_open(CUDA_LIB_NAME, cuda_syms, sizeof(cuda_syms) / sizeof(cuda_syms[0]),
                        &cuda.api, "driver too old?", cuda.why, sizeof(cuda.why)))
        return 0;
    braid_cu_result_t res = cuda.api.cuInit(0);
    if (res != BRAID_CU_SUCCESS) {
        char text[128];
        snprintf(cuda.why, sizeof(cuda.why), "cuInit failed: %s",
                 result_text(&cuda.api, res, text, sizeof(text)));
        return 0;
    }
    return 1;
}

static void cuda_load(void)
{
    cuda.usable = cuda_open();
    if (!cuda.usable) {
        BRAID_INFO(INIT, "driver cuda: not used: %s", cuda.why);
        return;
    }
    int version = 0;
    cuda.api.cuDriverGetVersion(&version);
    BRAID_INFO(INIT, "driver cuda: loaded " CUDA_LIB_NAME ", driver API %d.%d (%d)", version / 1000,
               version % 1000 / 10, version);
}

const struct braid_cuda_api *braid__cuda(void)
{
    pthread_once(&cuda_once, cuda_load);
    return cuda.usable ? &cuda.api : NULL;
}

const char *braid__cuda_why(void)
{
    pthread_once(&cuda_once, cuda_load);
    return cuda.why;
}

const char *braid__cuda_result_text(braid_cu_result_t res, char *buf, size_t len)
{
    return result_text(braid__cuda(), res, buf, len);
}

#ifdef BRAID_HAVE_CUDA
/*
 * Where cuda.h is installed, the stand-ins and the list are checked against it: first that each
 * stand-in has the size of the type it replaces, then each entry point's prototype read with
 * cuda.h's own types in place of the stand-ins (C calls an enum parameter like the int of the
 * same size, but does not call the two types compatible). The name check refuses a symbol that
 * cuda.h renames to a versioned one, which dlsym would find as the old, different function.
 */
#include <cuda.h>

#define CUDA_STR(x)  #x
#define CUDA_XSTR(x) CUDA_STR(x)

_Static_assert(sizeof(CUresult) == sizeof(braid_cu_result_t) &&
                   sizeof(CUdevice_attribute) == sizeof(braid_cu_device_attribute_t) &&
                   sizeof(CUpointer_attribute) == sizeof(braid_cu_pointer_attribute_t),
               "drv_cuda.h: an enum stand-in differs in size from cuda.h");
_Static_assert(__builtin_types_compatible_p(CUdevice, braid_cu_device_t) &&
                   __builtin_types_compatible_p(CUdeviceptr, braid_cu_deviceptr_t) &&
                   __builtin_types_compatible_p(CUcontext, braid_cu_context_t),
               "drv_cuda.h: a type stand-in differs from cuda.h");
_Static_assert(CUDA_SUCCESS == BRAID_CU_SUCCESS &&
                   CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR == BRAID_CU_ATTR_CC_MAJOR &&
                   CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR == BRAID_CU_ATTR_CC_MINOR,
               "drv_cuda.h: a constant differs from cuda.h");

#define braid_cu_result_t            CUresult
#define braid_cu_device_attribute_t  CUdevice_attribute
#define braid_cu_pointer_attribute_t CUpointer_attribute
#define CUDA_CHECK_ENTRY(ret, name, params)                                                        \
    _Static_assert(sizeof(#name) == sizeof(CUDA_XSTR(name)),                                       \
                   "drv_cuda.h: cuda.h renames " #name ": list the versioned symbol");             \
    _Static_assert(__builtin_types_compatible_p(__typeof__(&name), ret(*) params),                 \
                   "drv_cuda.h: the prototype of " #name " differs from cuda.h");
BRAID_CUDA_ENTRY_POINTS(CUDA_CHECK_ENTRY, CUDA_CHECK_ENTRY)
#endif
