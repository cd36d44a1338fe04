/*
 * The GPU probe: the CUDA driver (libcuda.so.1) lists the GPUs in CUDA's order with their PCI
 * bus ids, SM versions and memory; NVML (libnvidia-ml.so.1) gives each NVLink's state and far
 * end, from which GPU-GPU links and NVSwitch fabrics follow, the C2C links of Grace systems,
 * and the fabric cluster and clique ids that identify a multi-node NVLink domain (NVL72).
 *
 * Both libraries are loaded with dlopen and only the few entry points used are declared here,
 * with the ABI of their documented structures, so one binary runs with or without a driver.
 */
#include "topology/topo_probe.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/check.h"
#include "base/log.h"
#include "topology/topo_attr.h"

#define CU_ATTR_CC_MAJOR      75
#define CU_ATTR_CC_MINOR      76
#define NVML_MAX_LINKS        32  /* queried until NVML says the link does not exist */
#define NVML_REMOTE_SWITCH    2   /* nvmlIntNvLinkDeviceType_t: NVSwitch */
#define NVML_FI_C2C_COUNT     170 /* NVML_FI_DEV_C2C_LINK_COUNT */
#define NVML_FI_C2C_BW        172 /* NVML_FI_DEV_C2C_LINK_GET_MAX_BW, MB/s per link */
#define NVML_FABRIC_COMPLETED 3

struct nvml_pci {
    char bus_legacy[16];
    unsigned domain, bus, device, device_id, subsys_id;
    char bus_id[32];
};

struct nvml_fabric {
    unsigned char cluster_uuid[16];
    int status;
    unsigned clique;
    unsigned char state;
};

struct nvml_field {
    unsigned field, scope;
    long long timestamp, latency;
    int value_type, ret;
    union {
        unsigned long long ull;
        unsigned u;
    } value;
};

struct cuda_api {
    void *lib;
    int (*init)(unsigned);
    int (*count)(int *);
    int (*get)(int *, int);
    int (*busid)(char *, int, int);
    int (*attr)(int *, int, int);
    int (*mem)(size_t *, int);
    int (*can_access)(int *, int, int); /* optional: cuDeviceCanAccessPeer */
};

struct nvml_api {
    void *lib;
    int (*init)(void);
    int (*shutdown)(void);
    int (*by_busid)(const char *, void **);
    int (*link_state)(void *, unsigned, int *);
    int (*remote_pci)(void *, unsigned, struct nvml_pci *);
    int (*remote_type)(void *, unsigned, int *);
    int (*fabric)(void *, struct nvml_fabric *);
    int (*fields)(void *, int, struct nvml_field *);
};

static void *sym(void *lib, const char *name)
{
    return dlsym(lib, name);
}

static int cuda_load(struct cuda_api *c)
{
    c->lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!c->lib) {
        BRAID_INFO(TOPO, "probe cuda: skipped, no GPUs: cannot load libcuda.so.1 (%s)", dlerror());
        return 0;
    }
    *(void **)&c->init = sym(c->lib, "cuInit");
    *(void **)&c->count = sym(c->lib, "cuDeviceGetCount");
    *(void **)&c->get = sym(c->lib, "cuDeviceGet");
    *(void **)&c->busid = sym(c->lib, "cuDeviceGetPCIBusId");
    *(void **)&c->attr = sym(c->lib, "cuDeviceGetAttribute");
    *(void **)&c->mem = sym(c->lib, "cuDeviceTotalMem_v2");
    *(void **)&c->can_access = sym(c->lib, "cuDeviceCanAccessPeer");
    if (!c->init || !c->count || !c->get || !c->busid || !c->attr || !c->mem) {
        BRAID_INFO(TOPO, "probe cuda: skipped: libcuda.so.1 lacks a needed entry point (driver "
                         "too old?)");
        return 0;
    }
    int err = c->init(0);
    if (err != 0) {
        BRAID_INFO(TOPO, "probe cuda: skipped, no GPUs: cuInit failed with CUDA error %d", err);
        return 0;
    }
    return 1;
}

static int nvml_load(struct nvml_api *n)
{
    n->lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!n->lib) {
        BRAID_INFO(TOPO, "probe nvml: skipped, NVLink unknown: cannot load libnvidia-ml.so.1 (%s)",
                   dlerror());
        return 0;
    }
    *(void **)&n->init = sym(n->lib, "nvmlInit_v2");
    *(void **)&n->shutdown = sym(n->lib, "nvmlShutdown");
    *(void **)&n->by_busid = sym(n->lib, "nvmlDeviceGetHandleByPciBusId_v2");
    *(void **)&n->link_state = sym(n->lib, "nvmlDeviceGetNvLinkState");
    *(void **)&n->remote_pci = sym(n->lib, "nvmlDeviceGetNvLinkRemotePciInfo_v2");
    *(void **)&n->remote_type = sym(n->lib, "nvmlDeviceGetNvLinkRemoteDeviceType");
    *(void **)&n->fabric = sym(n->lib, "nvmlDeviceGetGpuFabricInfo");
    *(void **)&n->fields = sym(n->lib, "nvmlDeviceGetFieldValues");
    if (!n->init || !n->by_busid || !n->link_state || !n->remote_pci || n->init() != 0) {
        BRAID_INFO(TOPO, "probe nvml: skipped, NVLink unknown: NVML is too old or nvmlInit "
                         "failed");
        return 0;
    }
    return 1;
}

static braid_result_t add_gpu(struct braid_topo *topo, int host, struct cuda_api *c, int dev,
                              int *index)
{
    int h, major = 0, minor = 0;
    char busid[64], norm[32];
    size_t mem = 0;
    if (c->get(&h, dev) != 0 || c->busid(busid, sizeof(busid), h) != 0 ||
        !braid__busid_normalize(busid, norm, sizeof(norm))) {
        BRAID_WARN(TOPO, "probe cuda: GPU %d has no readable PCI bus id; skipped", dev);
        *index = -1;
        return BRAID_SUCCESS;
    }
    c->attr(&major, CU_ATTR_CC_MAJOR, h);
    c->attr(&minor, CU_ATTR_CC_MINOR, h);
    c->mem(&mem, h);
    BRAID_CHECK(braid__topo_add_node(topo, BRAID_TOPO_GPU, host, index));
    struct braid_topo_node *n = &topo->nodes[*index];
    n->dev = dev;
    n->sm = major * 10 + minor;
    n->mem_mb = (int64_t)(mem >> 20);
    n->gdr = 1;
    BRAID_CHECK(braid__topo_strset(&n->busid, norm));
    return braid__probe_attach(topo, host, *index);
}

/* The NVSwitch node of this GPU: one per NVLink domain (clique) or one per host. */
static braid_result_t nvs_node(struct braid_topo *topo, int host, const char *clique, int *out)
{
    for (int i = 0; i < topo->nnodes; i++) {
        const struct braid_topo_node *n = &topo->nodes[i];
        if (n->type == BRAID_TOPO_NVS &&
            (clique ? n->domain && !strcmp(n->domain, clique) : !n->domain && n->host == host)) {
            *out = i;
            return BRAID_SUCCESS;
        }
    }
    BRAID_CHECK(braid__topo_add_node(topo, BRAID_TOPO_NVS, clique ? -1 : host, out));
    BRAID_CHECK(braid__topo_strset(&topo->nodes[*out].busid, "ffff:ff:00.0"));
    return braid__topo_strset(&topo->nodes[*out].domain, clique);
}

static braid_result_t fabric_clique(struct nvml_api *nv, void *dev, struct braid_topo_node *g)
{
    struct nvml_fabric f;
    memset(&f, 0, sizeof(f));
    if (!nv->fabric || nv->fabric(dev, &f) != 0 || f.state != NVML_FABRIC_COMPLETED ||
        f.status != 0)
        return BRAID_SUCCESS;
    int zero = 1;
    for (int i = 0; i < 16; i++)
        zero &= f.cluster_uuid[i] == 0;
    if (zero)
        return BRAID_SUCCESS;
    char text[64];
    int o = 0;
    for (int i = 0; i < 16; i++)
        o += snprintf(text + o, sizeof(text) - (size_t)o, "%02x", f.cluster_uuid[i]);
    snprintf(text + o, sizeof(text) - (size_t)o, "/%u", f.clique);
    return braid__topo_strset(&g->clique, text);
}

/* The far end of one active NVLink: a GPU of this host or the NVSwitch fabric; -1 if
 * inactive, absent, or a device braid does not model (a POWER9 CPU). */
static braid_result_t link_remote(struct braid_topo *topo, int host, struct nvml_api *nv, void *dev,
                                  int g, unsigned l, int *remote, int *last)
{
    int active = 0, type = -1;
    struct nvml_pci pci;
    char norm[32];
    *remote = -1;
    if (nv->link_state(dev, l, &active) != 0) {
        *last = 1; /* past the GPU's last link */
        return BRAID_SUCCESS;
    }
    if (!active || nv->remote_pci(dev, l, &pci) != 0)
        return BRAID_SUCCESS;
    if (nv->remote_type)
        nv->remote_type(dev, l, &type);
    if (type == NVML_REMOTE_SWITCH)
        return nvs_node(topo, host, topo->nodes[g].clique, remote);
    if (braid__busid_normalize(pci.bus_id, norm, sizeof(norm)))
        *remote = braid__topo_find_busid(topo, BRAID_TOPO_GPU, host, norm);
    return BRAID_SUCCESS;
}

/* Counts the active NVLinks of one GPU per far end and links them. Each GPU pair is seen from
 * both ends with the same count, so linking it twice only replaces the link. */
static braid_result_t gpu_nvlinks(struct braid_topo *topo, int host, struct nvml_api *nv, void *dev,
                                  int g)
{
    int remotes[NVML_MAX_LINKS], counts[NVML_MAX_LINKS], n = 0, last = 0;
    int gen = braid__topo_nvlink_gen_of_sm(topo->nodes[g].sm);
    for (unsigned l = 0; l < NVML_MAX_LINKS && !last; l++) {
        int remote, k;
        BRAID_CHECK(link_remote(topo, host, nv, dev, g, l, &remote, &last));
        if (remote < 0 || remote == g)
            continue;
        for (k = 0; k < n && remotes[k] != remote; k++)
            ;
        if (k == n) {
            remotes[n] = remote;
            counts[n++] = 0;
        }
        counts[k]++;
    }
    for (int k = 0; k < n; k++)
        BRAID_CHECK(braid__topo_connect(topo, g, remotes[k], BRAID_LINK_NVL, counts[k], gen,
                                        braid__topo_nvlink_bw(gen, counts[k])));
    return BRAID_SUCCESS;
}

static braid_result_t gpu_c2c(struct braid_topo *topo, struct nvml_api *nv, void *dev, int g)
{
    struct nvml_field f[2];
    memset(f, 0, sizeof(f));
    f[0].field = NVML_FI_C2C_COUNT;
    f[1].field = NVML_FI_C2C_BW;
    if (!nv->fields || nv->fields(dev, 2, f) != 0 || f[0].ret != 0 || f[0].value.u == 0)
        return BRAID_SUCCESS;
    int cpu = topo->nodes[g].parent;
    while (cpu >= 0 && topo->nodes[cpu].type != BRAID_TOPO_CPU)
        cpu = topo->nodes[cpu].parent;
    if (cpu < 0)
        return BRAID_SUCCESS;
    float per = f[1].ret == 0 && f[1].value.u ? (float)f[1].value.u / 1000.0f : 22.5f;
    return braid__topo_connect(topo, g, cpu, BRAID_LINK_C2C, (int)f[0].value.u, 0,
                               per * (float)f[0].value.u);
}

static braid_result_t probe_nvml(struct braid_topo *topo, int host, int first)
{
    struct nvml_api nv = {0};
    if (!nvml_load(&nv)) {
        if (nv.lib)
            dlclose(nv.lib);
        return BRAID_SUCCESS;
    }
    braid_result_t res = BRAID_SUCCESS;
    for (int pass = 0; pass < 2 && res >= 0; pass++) {
        for (int g = first; g < topo->nnodes && res >= 0; g++) {
            void *dev = NULL;
            if (topo->nodes[g].type != BRAID_TOPO_GPU ||
                nv.by_busid(topo->nodes[g].busid, &dev) != 0)
                continue;
            /* Cliques first, so that every GPU's NVSwitch links find their domain. */
            res = pass == 0 ? fabric_clique(&nv, dev, &topo->nodes[g])
                            : gpu_nvlinks(topo, host, &nv, dev, g);
            if (res >= 0 && pass == 1)
                res = gpu_c2c(topo, &nv, dev, g);
        }
    }
    if (nv.shutdown)
        nv.shutdown();
    dlclose(nv.lib);
    return res;
}

/* Records which devices each probed GPU can access directly; skipped without the entry point. */
static braid_result_t gpu_p2p(struct braid_topo *topo, struct cuda_api *c, int first, int n)
{
    if (!c->can_access)
        return BRAID_SUCCESS;
    for (int i = first; i < topo->nnodes; i++) {
        struct braid_topo_node *g = &topo->nodes[i];
        int hg, hp;
        if (g->type != BRAID_TOPO_GPU || g->dev < 0 || c->get(&hg, g->dev) != 0)
            continue;
        char list[512] = "";
        size_t used = 0;
        for (int d = 0; d < n && used < sizeof(list) - 8; d++) {
            int ok = 0;
            if (d != g->dev && c->get(&hp, d) == 0 && c->can_access(&ok, hg, hp) == 0 && ok)
                used +=
                    (size_t)snprintf(list + used, sizeof(list) - used, "%s%d", used ? "," : "", d);
        }
        BRAID_CHECK(braid__topo_strset(&g->p2p, used ? list : "-"));
    }
    return BRAID_SUCCESS;
}

static braid_result_t probe_gpus(struct braid_topo *topo, int host)
{
    struct cuda_api c = {0};
    int n = 0, first = topo->nnodes;
    if (!cuda_load(&c) || c.count(&n) != 0 || n == 0) {
        if (c.lib && n == 0)
            BRAID_INFO(TOPO, "probe cuda: the driver sees no GPU");
        if (c.lib)
            dlclose(c.lib);
        return BRAID_SUCCESS;
    }
    braid_result_t res = BRAID_SUCCESS;
    for (int d = 0; d < n && res >= 0; d++) {
        int index;
        res = add_gpu(topo, host, &c, d, &index);
    }
    if (res >= 0)
        res = gpu_p2p(topo, &c, first, n);
    if (res >= 0)
        res = probe_nvml(topo, host, first);
    BRAID_INFO(TOPO, "probe cuda: %d GPUs", n);
    /* libcuda stays loaded: unloading a driver library that started threads is unsafe. */
    return res;
}

const struct braid_topo_probe braid__probe_cuda = {
    .name = "cuda",
    .run = probe_gpus,
};
