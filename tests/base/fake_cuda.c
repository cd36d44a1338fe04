/*
 * A fake CUDA driver for the loader's tests, built as libcuda.so.1 in a folder of its own per
 * variant, which a test finds through LD_LIBRARY_PATH:
 *   FAKE_CUDA_INIT_RESULT=100  cuInit fails with CUDA_ERROR_NO_DEVICE (a machine with no GPU);
 *   FAKE_CUDA_OMIT_BUSID       cuDeviceGetPCIBusId, a required entry point, is not exported;
 *   neither                    a driver with 3 GPUs at buses 0x17, 0x18 and 0x19, SM 9.0.
 *   FAKE_CUDA_PTR_ATTRS        also exports cuPointerGetAttributes (optional elsewhere).
 * Pointers: fake_cuda_region() hands out one mapped region whose first quarter the driver
 * calls device memory of GPU 1, the second pinned host memory, the third managed memory of
 * GPU 2; everything else is unknown to it (CUDA_ERROR_INVALID_VALUE, as for malloc'ed memory).
 * Types are the plain C types of the driver's ABI, as a real driver has them, not braid's
 * declarations.
 */
#include <stddef.h>
#include <stdio.h>
#include <sys/mman.h>

#ifndef FAKE_CUDA_INIT_RESULT
#define FAKE_CUDA_INIT_RESULT 0
#endif

#define FAKE_GPUS                 3
#define CUDA_ERROR_INVALID_VALUE  1
#define CUDA_ERROR_INVALID_DEVICE 101

static int init_calls;

/* Not part of the driver: lets a test count how often the loader called cuInit. */
int fake_cuda_init_calls(void)
{
    return __atomic_load_n(&init_calls, __ATOMIC_SEQ_CST);
}

int cuInit(unsigned flags)
{
    __atomic_add_fetch(&init_calls, 1, __ATOMIC_SEQ_CST);
    return flags != 0 ? CUDA_ERROR_INVALID_VALUE : FAKE_CUDA_INIT_RESULT;
}

int cuDriverGetVersion(int *version)
{
    *version = 13000;
    return 0;
}

int cuGetErrorName(int error, const char **name)
{
    *name = error == 0     ? "CUDA_SUCCESS"
            : error == 100 ? "CUDA_ERROR_NO_DEVICE"
            : error == 101 ? "CUDA_ERROR_INVALID_DEVICE"
                           : NULL;
    return *name ? 0 : CUDA_ERROR_INVALID_VALUE;
}

int cuGetErrorString(int error, const char **text)
{
    *text = error == 100 ? "no CUDA-capable device is detected" : NULL;
    return *text ? 0 : CUDA_ERROR_INVALID_VALUE;
}

int cuDeviceGetCount(int *count)
{
    *count = FAKE_GPUS;
    return 0;
}

int cuDeviceGet(int *dev, int ordinal)
{
    if (ordinal < 0 || ordinal >= FAKE_GPUS)
        return CUDA_ERROR_INVALID_DEVICE;
    *dev = ordinal;
    return 0;
}

#ifndef FAKE_CUDA_OMIT_BUSID
int cuDeviceGetPCIBusId(char *busid, int len, int dev)
{
    if (dev < 0 || dev >= FAKE_GPUS)
        return CUDA_ERROR_INVALID_DEVICE;
    snprintf(busid, (size_t)len, "0000:%02X:00.0", 0x17 + dev);
    return 0;
}
#endif

int cuDeviceGetAttribute(int *value, int attr, int dev)
{
    *value = attr == 75 ? 9 : 0; /* compute capability 9.0 */
    return 0;
}

int cuDeviceTotalMem_v2(size_t *bytes, int dev)
{
    *bytes = (size_t)80 << 30;
    return 0;
}

int cuDeviceCanAccessPeer(int *can_access, int dev, int peer)
{
    *can_access = 1;
    return 0;
}

#define REGION_BYTES (4u << 20)
static char *region;

/* Not part of the driver: the region whose quarters it reports as device, pinned, managed. */
void *fake_cuda_region(size_t *bytes)
{
    if (!__atomic_load_n(&region, __ATOMIC_ACQUIRE)) {
        char *r =
            mmap(NULL, REGION_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        char *none = NULL;
        if (r != MAP_FAILED &&
            !__atomic_compare_exchange_n(&region, &none, r, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            munmap(r, REGION_BYTES);
    }
    *bytes = REGION_BYTES;
    return region;
}

/* cuda.h: CU_POINTER_ATTRIBUTE_MEMORY_TYPE 2, IS_MANAGED 8, DEVICE_ORDINAL 9; CU_MEMORYTYPE_HOST
 * 1, CU_MEMORYTYPE_DEVICE 2. */
int cuPointerGetAttribute(void *data, int attr, unsigned long long ptr)
{
    char *r = __atomic_load_n(&region, __ATOMIC_ACQUIRE);
    if (!r || ptr < (unsigned long long)r || ptr >= (unsigned long long)r + REGION_BYTES)
        return CUDA_ERROR_INVALID_VALUE; /* not memory the driver knows */
    int quarter = (int)((ptr - (unsigned long long)r) / (REGION_BYTES / 4));
    if (quarter == 3)
        return CUDA_ERROR_INVALID_VALUE;
    if (attr == 2)
        *(unsigned *)data = quarter == 1 ? 1u : 2u;
    else if (attr == 8)
        *(unsigned *)data = quarter == 2;
    else if (attr == 9)
        *(int *)data = quarter == 0 ? 1 : quarter == 2 ? 2 : 0;
    else
        return CUDA_ERROR_INVALID_VALUE;
    return 0;
}

#ifdef FAKE_CUDA_PTR_ATTRS
/* Unlike cuPointerGetAttribute, answers CUDA_SUCCESS with zeros for unknown pointers. */
int cuPointerGetAttributes(unsigned count, int *attrs, void **data, unsigned long long ptr)
{
    for (unsigned i = 0; i < count; i++)
        if (cuPointerGetAttribute(data[i], attrs[i], ptr) != 0) {
            if (attrs[i] == 9)
                *(int *)data[i] = -2; /* CU_DEVICE_INVALID */
            else
                *(unsigned *)data[i] = 0;
        }
    return 0;
}
#endif

int cuCtxGetCurrent(void **ctx)
{
    *ctx = NULL;
    return 0;
}

int cuCtxSetCurrent(void *ctx)
{
    return 0;
}

int cuDevicePrimaryCtxRetain(void **ctx, int dev)
{
    static int primary[FAKE_GPUS];
    if (dev < 0 || dev >= FAKE_GPUS)
        return CUDA_ERROR_INVALID_DEVICE;
    *ctx = &primary[dev];
    return 0;
}

int cuDevicePrimaryCtxRelease_v2(int dev)
{
    return 0;
}
