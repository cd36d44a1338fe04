/*
 * The NVML loader: libnvidia-ml.so.1 is opened once per process, its entry points resolved by
 * name into one table, and nvmlInit_v2 called; the table is handed out only when all of that
 * succeeded, and otherwise the reason is kept in words for the callers' messages.
 */
#include "base/drv_nvml.h"

#include <pthread.h>
#include <stdio.h>

#include "base/dl.h"
#include "base/log.h"

#define NVML_LIB_NAME "libnvidia-ml.so.1"

/* Written once, inside nvml_once, and only read afterwards: pthread_once orders the writes
 * before every later reader's return from it. */
static struct {
    struct braid_nvml_api api;
    int usable;
    char why[512];
} nvml;
static pthread_once_t nvml_once = PTHREAD_ONCE_INIT;

/* The table's entry points, from the one list in the header. */
static const struct braid_dl_sym nvml_syms[] = {
#define NVML_REQUIRED(ret, name, params) {#name, offsetof(struct braid_nvml_api, name), 1},
#define NVML_OPTIONAL(ret, name, params) {#name, offsetof(struct braid_nvml_api, name), 0},
    BRAID_NVML_ENTRY_POINTS(NVML_REQUIRED, NVML_OPTIONAL)
#undef NVML_REQUIRED
#undef NVML_OPTIONAL
};

/* Opens, resolves and initialises; returns 1 when the table is usable, else 0 with nvml.why
 * set. The library stays loaded either way, like the CUDA driver. */
static int nvml_open(void)
{
    if (!braid__dl_open(NVML_LIB_NAME, nvml_syms, sizeof(nvml_syms) / sizeof(nvml_syms[0]),
                        &nvml.api, "driver too old?", nvml.why, sizeof(nvml.why)))
        return 0;
    braid_nvml_return_t res = nvml.api.nvmlInit_v2();
    if (res != BRAID_NVML_SUCCESS) {
        const char *text = nvml.api.nvmlErrorString ? nvml.api.nvmlErrorString(res) : NULL;
        snprintf(nvml.why, sizeof(nvml.why), "nvmlInit_v2 failed: %s (%d)",
                 text ? text : "NVML error", res);
        return 0;
    }
    return 1;
}

static void nvml_load(void)
{
    nvml.usable = nvml_open();
    if (!nvml.usable) {
        BRAID_INFO(INIT, "driver nvml: not used: %s", nvml.why);
        return;
    }
    char version[96] = "";
    if (nvml.api.nvmlSystemGetDriverVersion &&
        nvml.api.nvmlSystemGetDriverVersion(version, sizeof(version)) != BRAID_NVML_SUCCESS)
        version[0] = '\0';
    BRAID_INFO(INIT, "driver nvml: loaded " NVML_LIB_NAME ", NVIDIA driver %s",
               version[0] ? version : "of unknown version");
}

const struct braid_nvml_api *braid__nvml(void)
{
    pthread_once(&nvml_once, nvml_load);
    return nvml.usable ? &nvml.api : NULL;
}

const char *braid__nvml_why(void)
{
    pthread_once(&nvml_once, nvml_load);
    return nvml.why;
}

#ifdef BRAID_HAVE_NVML
#include <nvml.h>
#include <stddef.h>

/* The fabric calls appeared with NVML API 12; older headers are not checked. */
#if NVML_API_VERSION >= 12
/*
 * Where nvml.h is installed, the declarations are checked against it: each structure's size
 * and field offsets, each constant, then each entry point's prototype read with nvml.h's types
 * in place of the stand-ins (an enum and an int of the same size are called alike, but C does
 * not call the types compatible). The name check refuses a symbol that nvml.h renames to a
 * versioned one. nvmlDeviceGetGpuFabricInfo is deprecated in NVML 13 but still exported.
 */
#define NVML_STR(x)  #x
#define NVML_XSTR(x) NVML_STR(x)
#define NVML_SAME_FIELD(theirs, ours, a, b)                                                        \
    (offsetof(theirs, a) == offsetof(ours, b) && sizeof(((theirs *)0)->a) == sizeof(((ours *)0)->b))

_Static_assert(sizeof(nvmlReturn_t) == sizeof(braid_nvml_return_t) &&
                   sizeof(nvmlEnableState_t) == sizeof(braid_nvml_enable_state_t) &&
                   sizeof(nvmlIntNvLinkDeviceType_t) == sizeof(braid_nvml_nvlink_device_type_t) &&
                   __builtin_types_compatible_p(nvmlDevice_t, braid_nvml_device_t),
               "drv_nvml.h: a type stand-in differs from nvml.h");
_Static_assert(NVML_SUCCESS == BRAID_NVML_SUCCESS &&
                   NVML_NVLINK_DEVICE_TYPE_SWITCH == BRAID_NVML_NVLINK_SWITCH &&
                   NVML_FI_DEV_C2C_LINK_COUNT == BRAID_NVML_FI_C2C_COUNT &&
                   NVML_FI_DEV_C2C_LINK_GET_MAX_BW == BRAID_NVML_FI_C2C_MAX_BW &&
                   NVML_GPU_FABRIC_STATE_COMPLETED == BRAID_NVML_FABRIC_COMPLETED,
               "drv_nvml.h: a constant differs from nvml.h");
_Static_assert(sizeof(nvmlPciInfo_t) == sizeof(braid_nvml_pci_info_t) &&
                   NVML_SAME_FIELD(nvmlPciInfo_t, braid_nvml_pci_info_t, busIdLegacy, bus_legacy) &&
                   NVML_SAME_FIELD(nvmlPciInfo_t, braid_nvml_pci_info_t, pciSubSystemId,
                                   subsys_id) &&
                   NVML_SAME_FIELD(nvmlPciInfo_t, braid_nvml_pci_info_t, busId, bus_id),
               "drv_nvml.h: braid_nvml_pci_info_t differs from nvmlPciInfo_t");
_Static_assert(sizeof(nvmlGpuFabricInfo_t) == sizeof(braid_nvml_fabric_info_t) &&
                   NVML_SAME_FIELD(nvmlGpuFabricInfo_t, braid_nvml_fabric_info_t, status, status) &&
                   NVML_SAME_FIELD(nvmlGpuFabricInfo_t, braid_nvml_fabric_info_t, cliqueId,
                                   clique) &&
                   NVML_SAME_FIELD(nvmlGpuFabricInfo_t, braid_nvml_fabric_info_t, state, state),
               "drv_nvml.h: braid_nvml_fabric_info_t differs from nvmlGpuFabricInfo_t");
_Static_assert(sizeof(nvmlFieldValue_t) == sizeof(braid_nvml_field_value_t) &&
                   NVML_SAME_FIELD(nvmlFieldValue_t, braid_nvml_field_value_t, valueType,
                                   value_type) &&
                   NVML_SAME_FIELD(nvmlFieldValue_t, braid_nvml_field_value_t, nvmlReturn, ret) &&
                   NVML_SAME_FIELD(nvmlFieldValue_t, braid_nvml_field_value_t, value, value),
               "drv_nvml.h: braid_nvml_field_value_t differs from nvmlFieldValue_t");

#define braid_nvml_return_t             nvmlReturn_t
#define braid_nvml_enable_state_t       nvmlEnableState_t
#define braid_nvml_nvlink_device_type_t nvmlIntNvLinkDeviceType_t
#define braid_nvml_pci_info_t           nvmlPciInfo_t
#define braid_nvml_fabric_info_t        nvmlGpuFabricInfo_t
#define braid_nvml_field_value_t        nvmlFieldValue_t
#define NVML_CHECK_ENTRY(ret, name, params)                                                        \
    _Static_assert(sizeof(#name) == sizeof(NVML_XSTR(name)),                                       \
                   "drv_nvml.h: nvml.h renames " #name ": list the versioned symbol");             \
    _Static_assert(__builtin_types_compatible_p(__typeof__(&name), ret(*) params),                 \
                   "drv_nvml.h: the prototype of " #name " differs from nvml.h");
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
BRAID_NVML_ENTRY_POINTS(NVML_CHECK_ENTRY, NVML_CHECK_ENTRY)
#pragma GCC diagnostic pop
#endif
#endif
