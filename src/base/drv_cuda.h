/*
 * The CUDA driver API (libcuda.so.1), loaded with dlopen once per process so that one binary
 * runs on machines with and without a GPU, and shared by every layer that needs it (the GPU
 * probe, the device executor, the p2p transport).
 *
 * The build needs no CUDA toolkit: the few types used are declared here as stand-ins, and each
 * entry point is listed once, with its prototype, in BRAID_CUDA_ENTRY_POINTS. Where cuda.h is
 * present at build time (BRAID_HAVE_CUDA), drv_cuda.c checks every stand-in and every listed
 * prototype against it, so a disagreement is a compile error rather than a corrupt call.
 *
 * Names are the symbols the driver exports, which for many calls is a versioned name that
 * cuda.h hides behind a macro (cuDeviceTotalMem is cuDeviceTotalMem_v2, cuMemAlloc is
 * cuMemAlloc_v2, cuCtxDestroy is cuCtxDestroy_v2): list the versioned one, as cuda.h #defines
 * it; the compile-time check refuses an unversioned name that cuda.h renames.
 */
#ifndef BRAID_BASE_DRV_CUDA_H
#define BRAID_BASE_DRV_CUDA_H

#include <stddef.h>

/* Stand-ins for cuda.h's types, each of the same size and meaning. */
typedef int braid_cu_result_t;                   /* CUresult: 0 is CUDA_SUCCESS */
typedef int braid_cu_device_t;                   /* CUdevice: a handle from cuDeviceGet */
typedef int braid_cu_device_attribute_t;         /* CUdevice_attribute */
typedef int braid_cu_pointer_attribute_t;        /* CUpointer_attribute */
typedef unsigned long long braid_cu_deviceptr_t; /* CUdeviceptr */
/* CUcontext: the very type cuda.h declares, an opaque pointer to an undefined struct. */
typedef struct CUctx_st *braid_cu_context_t;

#define BRAID_CU_SUCCESS       0
#define BRAID_CU_ATTR_CC_MAJOR 75 /* CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR */
#define BRAID_CU_ATTR_CC_MINOR 76 /* CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR */

/*
 * The entry points braid uses: REQUIRED ones must all be exported or the library counts as
 * unusable; OPTIONAL ones are NULL in the table where the driver lacks them. Each line is
 * (return type, exported symbol, parameter list); adding an entry point is one line here.
 */
/* clang-format off */
#define BRAID_CUDA_ENTRY_POINTS(REQUIRED, OPTIONAL)                                                \
    REQUIRED(braid_cu_result_t, cuInit, (unsigned int flags))                                      \
    REQUIRED(braid_cu_result_t, cuDriverGetVersion, (int *version))                                \
    OPTIONAL(braid_cu_result_t, cuGetErrorName, (braid_cu_result_t error, const char **name))      \
    OPTIONAL(braid_cu_result_t, cuGetErrorString, (braid_cu_result_t error, const char **text))    \
    REQUIRED(braid_cu_result_t, cuDeviceGetCount, (int *count))                                    \
    REQUIRED(braid_cu_result_t, cuDeviceGet, (braid_cu_device_t *dev, int ordinal))                \
    REQUIRED(braid_cu_result_t, cuDeviceGetPCIBusId,                                               \
             (char *busid, int len, braid_cu_device_t dev))                                        \
    REQUIRED(braid_cu_result_t, cuDeviceGetAttribute,                                              \
             (int *value, braid_cu_device_attribute_t attr, braid_cu_device_t dev))                \
    REQUIRED(braid_cu_result_t, cuDeviceTotalMem_v2, (size_t *bytes, braid_cu_device_t dev))       \
    OPTIONAL(braid_cu_result_t, cuDeviceCanAccessPeer,                                             \
             (int *can_access, braid_cu_device_t dev, braid_cu_device_t peer))                     \
    REQUIRED(braid_cu_result_t, cuPointerGetAttribute,                                             \
             (void *data, braid_cu_pointer_attribute_t attr, braid_cu_deviceptr_t ptr))            \
    OPTIONAL(braid_cu_result_t, cuPointerGetAttributes,                                            \
             (unsigned int count, braid_cu_pointer_attribute_t *attrs, void **data,                \
              braid_cu_deviceptr_t ptr))                                                           \
    REQUIRED(braid_cu_result_t, cuCtxGetCurrent, (braid_cu_context_t *ctx))                        \
    REQUIRED(braid_cu_result_t, cuCtxSetCurrent, (braid_cu_context_t ctx))                         \
    REQUIRED(braid_cu_result_t, cuDevicePrimaryCtxRetain,                                          \
             (braid_cu_context_t *ctx, braid_cu_device_t dev))                                     \
    OPTIONAL(braid_cu_result_t, cuDevicePrimaryCtxRelease_v2, (braid_cu_device_t dev))
/* clang-format on */

/* The driver's entry points, one member per line of the list, named as the symbol. */
struct braid_cuda_api {
#define BRAID_CUDA_MEMBER(ret, name, params) ret(*name) params;
    BRAID_CUDA_ENTRY_POINTS(BRAID_CUDA_MEMBER, BRAID_CUDA_MEMBER)
#undef BRAID_CUDA_MEMBER
};

/*
 * The CUDA driver, loaded and initialised (cuInit(0) succeeded), or NULL when libcuda.so.1 is
 * absent, lacks a required entry point, or cuInit failed; braid__cuda_why() then says which.
 * The first call in the process loads the library and logs one INFO line (INIT); later calls
 * only read. Thread safe. The table is owned by the loader and lives until the process exits:
 * the library is never unloaded, because unloading a driver that started threads is unsafe.
 */
const struct braid_cuda_api *braid__cuda(void);

/* Why braid__cuda() returns NULL, in words, e.g. "cuInit failed: CUDA_ERROR_NO_DEVICE (100)";
 * "" when it does not. Never NULL; loads the library like braid__cuda() if not yet done. */
const char *braid__cuda_why(void);

/* Names a CUresult for a message, "CUDA_ERROR_NO_DEVICE (100)", into buf (len bytes), through
 * cuGetErrorName where the loaded driver has it, else "CUDA error 100". Returns buf. */
const char *braid__cuda_result_text(braid_cu_result_t res, char *buf, size_t len);

#endif
