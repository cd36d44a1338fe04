/*
 * NVML (libnvidia-ml.so.1), loaded with dlopen once per process: each NVLink's state and far
 * end, the NVLink fabric (cluster and clique) of a GPU, and field values such as C2C links.
 *
 * As for the CUDA driver (drv_cuda.h), the build needs no nvml.h: the few types used are
 * declared here with the layout of NVML's documented structures, and each entry point is listed
 * once in BRAID_NVML_ENTRY_POINTS. Where nvml.h is present at build time (BRAID_HAVE_NVML),
 * drv_nvml.c checks the structures, constants and prototypes against it. Names are the exported
 * symbols, versioned where nvml.h #defines the plain name to a versioned one (nvmlInit is
 * nvmlInit_v2).
 */
#ifndef BRAID_BASE_DRV_NVML_H
#define BRAID_BASE_DRV_NVML_H

typedef int braid_nvml_return_t;                   /* nvmlReturn_t: 0 is NVML_SUCCESS */
typedef int braid_nvml_enable_state_t;             /* nvmlEnableState_t */
typedef int braid_nvml_nvlink_device_type_t;       /* nvmlIntNvLinkDeviceType_t */
typedef struct nvmlDevice_st *braid_nvml_device_t; /* nvmlDevice_t, the very same type */

#define BRAID_NVML_SUCCESS          0
#define BRAID_NVML_NVLINK_SWITCH    2   /* NVML_NVLINK_DEVICE_TYPE_SWITCH */
#define BRAID_NVML_FI_C2C_COUNT     170 /* NVML_FI_DEV_C2C_LINK_COUNT */
#define BRAID_NVML_FI_C2C_MAX_BW    172 /* NVML_FI_DEV_C2C_LINK_GET_MAX_BW, MB/s per link */
#define BRAID_NVML_FABRIC_COMPLETED 3   /* NVML_GPU_FABRIC_STATE_COMPLETED */

typedef struct braid_nvml_pci_info { /* nvmlPciInfo_t */
    char bus_legacy[16];
    unsigned domain, bus, device, device_id, subsys_id;
    char bus_id[32];
} braid_nvml_pci_info_t;

typedef struct braid_nvml_fabric_info { /* nvmlGpuFabricInfo_t */
    unsigned char cluster_uuid[16];
    braid_nvml_return_t status;
    unsigned clique;
    unsigned char state;
} braid_nvml_fabric_info_t;

typedef struct braid_nvml_field_value { /* nvmlFieldValue_t */
    unsigned field, scope;
    long long timestamp, latency;
    int value_type;
    braid_nvml_return_t ret;
    union {
        double d;
        unsigned long long ull;
        unsigned u;
    } value;
} braid_nvml_field_value_t;

/*
 * The entry points braid uses: REQUIRED ones must all be exported or the library counts as
 * unusable; OPTIONAL ones are NULL in the table where the library lacks them. Each line is
 * (return type, exported symbol, parameter list); adding an entry point is one line here.
 * nvmlInit_v2 is called by the loader; nvmlShutdown is listed for completeness and not called,
 * since NVML stays initialised for the life of the process.
 */
/* clang-format off */
#define BRAID_NVML_ENTRY_POINTS(REQUIRED, OPTIONAL)                                                \
    REQUIRED(braid_nvml_return_t, nvmlInit_v2, (void))                                             \
    OPTIONAL(braid_nvml_return_t, nvmlShutdown, (void))                                            \
    OPTIONAL(const char *, nvmlErrorString, (braid_nvml_return_t result))                          \
    OPTIONAL(braid_nvml_return_t, nvmlSystemGetDriverVersion,                                      \
             (char *version, unsigned int length))                                                 \
    REQUIRED(braid_nvml_return_t, nvmlDeviceGetHandleByPciBusId_v2,                                \
             (const char *busid, braid_nvml_device_t *dev))                                        \
    REQUIRED(braid_nvml_return_t, nvmlDeviceGetNvLinkState,                                        \
             (braid_nvml_device_t dev, unsigned int link, braid_nvml_enable_state_t *active))      \
    REQUIRED(braid_nvml_return_t, nvmlDeviceGetNvLinkRemotePciInfo_v2,                             \
             (braid_nvml_device_t dev, unsigned int link, braid_nvml_pci_info_t *pci))             \
    OPTIONAL(braid_nvml_return_t, nvmlDeviceGetNvLinkRemoteDeviceType,                             \
             (braid_nvml_device_t dev, unsigned int link, braid_nvml_nvlink_device_type_t *type))  \
    OPTIONAL(braid_nvml_return_t, nvmlDeviceGetGpuFabricInfo,                                      \
             (braid_nvml_device_t dev, braid_nvml_fabric_info_t *info))                            \
    OPTIONAL(braid_nvml_return_t, nvmlDeviceGetFieldValues,                                        \
             (braid_nvml_device_t dev, int count, braid_nvml_field_value_t *values))
/* clang-format on */

/* NVML's entry points, one member per line of the list, named as the symbol. */
struct braid_nvml_api {
#define BRAID_NVML_MEMBER(ret, name, params) ret(*name) params;
    BRAID_NVML_ENTRY_POINTS(BRAID_NVML_MEMBER, BRAID_NVML_MEMBER)
#undef BRAID_NVML_MEMBER
};

/*
 * NVML, loaded and initialised (nvmlInit_v2 succeeded), or NULL when libnvidia-ml.so.1 is
 * absent, lacks a required entry point, or nvmlInit_v2 failed; braid__nvml_why() then says
 * which. The first call in the process loads it and logs one INFO line (INIT); later calls only
 * read. Thread safe. The table lives until the process exits; the library is never unloaded.
 */
const struct braid_nvml_api *braid__nvml(void);

/* Why braid__nvml() returns NULL, in words, e.g. "nvmlInit_v2 failed: Driver Not Loaded (9)";
 * "" when it does not. Never NULL; loads the library like braid__nvml() if not yet done. */
const char *braid__nvml_why(void);

#endif
