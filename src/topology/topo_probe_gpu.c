/*
 * The GPU probe: the CUDA driver (libcuda.so.1) lists the GPUs in CUDA's order with their PCI
 * bus ids, SM versions and memory; NVML (libnvidia-ml.so.1) gives each NVLink's state and far
 * end, from which GPU-GPU links and NVSwitch fabrics follow, the C2C links of Grace systems,
 * and the fabric cluster and clique ids that identify a multi-node NVLink domain (NVL72).
 *
 * Both libraries come from the base layer's loaders (base/drv_cuda.h, base/drv_nvml.h), which
 * load them with dlopen once per process, so one binary runs with or without a driver.
 */
#include "topology/topo_probe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/check.h"
#include "base/drv_cuda.h"
#include "base/drv_nvml.h"
#include "base/log.h"
#include "topology/topo_attr.h"

#define NVML_MAX_LINKS 32 /* queried until NVML says the link does not exist */

static braid_result_t add_gpu(struct braid_topo *topo, int host, const struct braid_cuda_api *c,
                              int dev, int *index)
{
    braid_cu_device_t h;
    int major = 0, minor = 0;
    char busid[64], norm[32];
    size_t mem = 0;
    if (c->cuDeviceGet(&h, dev) != 0 || c->cuDeviceGetPCIBusId(busid, sizeof(busid), h) != 0 ||
        !braid__busid_normalize(busid, norm, sizeof(norm))) {
        BRAID_WARN(TOPO, "probe cuda: GPU %d has no readable PCI bus id; skipped", dev);
        *index = -1;
        return BRAID_SUCCESS;
    }
    c->cuDeviceGetAttribute(&major, BRAID_CU_ATTR_CC_MAJOR, h);
    c->cuDeviceGetAttribute(&minor, BRAID_CU_ATTR_CC_MINOR, h);
    c->cuDeviceTotalMem_v2(&mem, h);
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

static braid_result_t fabric_clique(const struct braid_nvml_api *nv, braid_nvml_device_t dev,
                                    struct braid_topo_node *g)
{
    braid_nvml_fabric_info_t f;
    memset(&f, 0, sizeof(f));
    if (!nv->nvmlDeviceGetGpuFabricInfo || nv->nvmlDeviceGetGpuFabricInfo(dev, &f) != 0 ||
        f.state != BRAID_NVML_FABRIC_COMPLETED || f.status != 0)
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
static braid_result_t link_remote(struct braid_topo *topo, int host,
                                  const struct braid_nvml_api *nv, braid_nvml_device_t dev, int g,
                                  unsigned l, int *remote, int *last)
{
    braid_nvml_enable_state_t active = 0;
    braid_nvml_nvlink_device_type_t type = -1;
    braid_nvml_pci_info_t pci;
    char norm[32];
    *remote = -1;
    if (nv->nvmlDeviceGetNvLinkState(dev, l, &active) != 0) {
        *last = 1; /* past the GPU's last link */
        return BRAID_SUCCESS;
    }
    if (!active || nv->nvmlDeviceGetNvLinkRemotePciInfo_v2(dev, l, &pci) != 0)
        return BRAID_SUCCESS;
    if (nv->nvmlDeviceGetNvLinkRemoteDeviceType)
        nv->nvmlDeviceGetNvLinkRemoteDeviceType(dev, l, &type);
    if (type == BRAID_NVML_NVLINK_SWITCH)
        return nvs_node(topo, host, topo->nodes[g].clique, remote);
    if (braid__busid_normalize(pci.bus_id, norm, sizeof(norm)))
        *remote = braid__topo_find_busid(topo, BRAID_TOPO_GPU, host, norm);
    return BRAID_SUCCESS;
}

/* Counts the active NVLinks of one GPU per far end and links them. Each GPU pair is seen from
 * both ends with the same count, so linking it twice only replaces the link. */
static braid_result_t gpu_nvlinks(struct braid_topo *topo, int host,
                                  const struct braid_nvml_api *nv, braid_nvml_device_t dev, int g)
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

static braid_result_t gpu_c2c(struct braid_topo *topo, const struct braid_nvml_api *nv,
                              braid_nvml_device_t dev, int g)
{
    braid_nvml_field_value_t f[2];
    memset(f, 0, sizeof(f));
    f[0].field = BRAID_NVML_FI_C2C_COUNT;
    f[1].field = BRAID_NVML_FI_C2C_MAX_BW;
    if (!nv->nvmlDeviceGetFieldValues || nv->nvmlDeviceGetFieldValues(dev, 2, f) != 0 ||
        f[0].ret != 0 || f[0].value.u == 0)
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

/* NVML stays initialised once loaded (the loader never shuts it down), so probing again, as
 * every communicator does, costs no new nvmlInit. */
static braid_result_t probe_nvml(struct braid_topo *topo, int host, int first)
{
    const struct braid_nvml_api *nv = braid__nvml();
    if (!nv) {
        BRAID_INFO(TOPO, "probe nvml: skipped, NVLink unknown: %s", braid__nvml_why());
        return BRAID_SUCCESS;
    }
    braid_result_t res = BRAID_SUCCESS;
    for (int pass = 0; pass < 2 && res >= 0; pass++) {
        for (int g = first; g < topo->nnodes && res >= 0; g++) {
            braid_nvml_device_t dev = NULL;
            if (topo->nodes[g].type != BRAID_TOPO_GPU ||
                nv->nvmlDeviceGetHandleByPciBusId_v2(topo->nodes[g].busid, &dev) != 0)
                continue;
            /* Cliques first, so that every GPU's NVSwitch links find their domain. */
            res = pass == 0 ? fabric_clique(nv, dev, &topo->nodes[g])
                            : gpu_nvlinks(topo, host, nv, dev, g);
            if (res >= 0 && pass == 1)
                res = gpu_c2c(topo, nv, dev, g);
        }
    }
    return res;
}

/* Records which devices each probed GPU can access directly; skipped without the entry point. */
static braid_result_t gpu_p2p(struct braid_topo *topo, const struct braid_cuda_api *c, int first,
                              int n)
{
    if (!c->cuDeviceCanAccessPeer)
        return BRAID_SUCCESS;
    for (int i = first; i < topo->nnodes; i++) {
        struct braid_topo_node *g = &topo->nodes[i];
        braid_cu_device_t hg, hp;
        if (g->type != BRAID_TOPO_GPU || g->dev < 0 || c->cuDeviceGet(&hg, g->dev) != 0)
            continue;
        char list[512] = "";
        size_t used = 0;
        for (int d = 0; d < n && used < sizeof(list) - 8; d++) {
            int ok = 0;
            if (d != g->dev && c->cuDeviceGet(&hp, d) == 0 &&
                c->cuDeviceCanAccessPeer(&ok, hg, hp) == 0 && ok)
                used +=
                    (size_t)snprintf(list + used, sizeof(list) - used, "%s%d", used ? "," : "", d);
        }
        BRAID_CHECK(braid__topo_strset(&g->p2p, used ? list : "-"));
    }
    return BRAID_SUCCESS;
}

static braid_result_t probe_gpus(struct braid_topo *topo, int host)
{
    const struct braid_cuda_api *c = braid__cuda();
    int n = 0, first = topo->nnodes;
    if (!c) {
        BRAID_INFO(TOPO, "probe cuda: skipped, no GPUs: %s", braid__cuda_why());
        return BRAID_SUCCESS;
    }
    if (c->cuDeviceGetCount(&n) != 0 || n == 0) {
        BRAID_INFO(TOPO, "probe cuda: the driver sees no GPU");
        return BRAID_SUCCESS;
    }
    braid_result_t res = BRAID_SUCCESS;
    for (int d = 0; d < n && res >= 0; d++) {
        int index;
        res = add_gpu(topo, host, c, d, &index);
    }
    if (res >= 0)
        res = gpu_p2p(topo, c, first, n);
    if (res >= 0)
        res = probe_nvml(topo, host, first);
    BRAID_INFO(TOPO, "probe cuda: %d GPUs", n);
    return res;
}

const struct braid_topo_probe braid__probe_cuda = {
    .name = "cuda",
    .run = probe_gpus,
};
