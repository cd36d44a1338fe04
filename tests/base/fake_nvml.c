/*
 * A fake NVML for the loader's tests, built as libnvidia-ml.so.1 in a folder of its own per
 * variant, which a test finds through LD_LIBRARY_PATH:
 *   FAKE_NVML_INIT_RESULT=9  nvmlInit_v2 fails with NVML_ERROR_DRIVER_NOT_LOADED;
 *   otherwise                the 3 GPUs of fake_cuda.c (buses 0x17-0x19), each with 4 active
 *                            NVLinks, 2 to the next GPU and 2 to an NVSwitch, in one fabric
 *                            clique, with 2 C2C links.
 * Structures are written out with the layout of nvml.h's, as a real NVML has them.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#ifndef FAKE_NVML_INIT_RESULT
#define FAKE_NVML_INIT_RESULT 0
#endif

#define FAKE_GPUS                    3
#define FAKE_LINKS                   4
#define NVML_ERROR_INVALID_ARGUMENT  2
#define NVML_ERROR_NOT_FOUND         6
#define NVML_ERROR_DRIVER_NOT_LOADED 9

struct pci_info { /* nvmlPciInfo_t */
    char bus_legacy[16];
    unsigned domain, bus, device, device_id, subsys_id;
    char bus_id[32];
};

struct fabric_info { /* nvmlGpuFabricInfo_t */
    unsigned char cluster_uuid[16];
    int status;
    unsigned clique;
    unsigned char state;
};

struct field_value { /* nvmlFieldValue_t */
    unsigned field, scope;
    long long timestamp, latency;
    int value_type, ret;
    union {
        double d;
        unsigned long long ull;
        unsigned u;
    } value;
};

/* A device handle is 1 + the GPU's index, never dereferenced. */
static int gpu_of(void *dev)
{
    intptr_t i = (intptr_t)dev - 1;
    return i >= 0 && i < FAKE_GPUS ? (int)i : -1;
}

int nvmlInit_v2(void)
{
    return FAKE_NVML_INIT_RESULT;
}

int nvmlShutdown(void)
{
    return 0;
}

const char *nvmlErrorString(int result)
{
    return result == NVML_ERROR_DRIVER_NOT_LOADED ? "Driver Not Loaded" : "Unknown Error";
}

int nvmlSystemGetDriverVersion(char *version, unsigned length)
{
    snprintf(version, length, "999.99");
    return 0;
}

int nvmlDeviceGetHandleByPciBusId_v2(const char *busid, void **dev)
{
    unsigned domain, bus, device, function;
    if (sscanf(busid, "%x:%x:%x.%x", &domain, &bus, &device, &function) != 4 || bus < 0x17 ||
        bus >= 0x17 + FAKE_GPUS)
        return NVML_ERROR_NOT_FOUND;
    *dev = (void *)(intptr_t)(bus - 0x17 + 1);
    return 0;
}

int nvmlDeviceGetNvLinkState(void *dev, unsigned link, int *active)
{
    if (gpu_of(dev) < 0 || link >= FAKE_LINKS)
        return NVML_ERROR_INVALID_ARGUMENT;
    *active = 1;
    return 0;
}

int nvmlDeviceGetNvLinkRemotePciInfo_v2(void *dev, unsigned link, struct pci_info *pci)
{
    int g = gpu_of(dev);
    if (g < 0 || link >= FAKE_LINKS)
        return NVML_ERROR_INVALID_ARGUMENT;
    memset(pci, 0, sizeof(*pci));
    unsigned bus = link < 2 ? 0x17 + (unsigned)(g + 1) % FAKE_GPUS : 0xa0;
    snprintf(pci->bus_id, sizeof(pci->bus_id), "00000000:%02X:00.0", bus);
    pci->bus = bus;
    return 0;
}

int nvmlDeviceGetNvLinkRemoteDeviceType(void *dev, unsigned link, int *type)
{
    if (gpu_of(dev) < 0 || link >= FAKE_LINKS)
        return NVML_ERROR_INVALID_ARGUMENT;
    *type = link < 2 ? 0 : 2; /* NVML_NVLINK_DEVICE_TYPE_GPU, _SWITCH */
    return 0;
}

int nvmlDeviceGetGpuFabricInfo(void *dev, struct fabric_info *info)
{
    if (gpu_of(dev) < 0)
        return NVML_ERROR_INVALID_ARGUMENT;
    for (int i = 0; i < 16; i++)
        info->cluster_uuid[i] = (unsigned char)(i + 1);
    info->status = 0;
    info->clique = 7;
    info->state = 3; /* NVML_GPU_FABRIC_STATE_COMPLETED */
    return 0;
}

int nvmlDeviceGetFieldValues(void *dev, int count, struct field_value *values)
{
    if (gpu_of(dev) < 0)
        return NVML_ERROR_INVALID_ARGUMENT;
    for (int i = 0; i < count; i++) {
        values[i].ret = 0;
        if (values[i].field == 170) /* NVML_FI_DEV_C2C_LINK_COUNT */
            values[i].value.u = 2;
        else if (values[i].field == 172) /* NVML_FI_DEV_C2C_LINK_GET_MAX_BW, MB/s */
            values[i].value.u = 40000;
        else
            values[i].ret = NVML_ERROR_INVALID_ARGUMENT;
    }
    return 0;
}
