/*
 * braid_ext.h, topology half: the public face of topology/ for tools and tuners.
 *
 * Each entry point clears the thread's error, checks its arguments (naming the one that is
 * wrong) and calls the internal function. The internal message (file, line, what to fix) is
 * left as it is, without a trail frame from here, so that braid_last_error(NULL) reads exactly
 * as the internal error did and braid-topo prints what it always printed.
 */
#include <stdlib.h>

#include "base/check.h"
#include "base/error.h"
#include "braid_ext.h"
#include "topology/topo.h"

/* The public enums are the internal ones under public names: a query converts by value. */
#define SAME_VALUE(pub, internal)                                                                  \
    _Static_assert((int)(pub) == (int)(internal), #pub " must equal " #internal)

SAME_VALUE(BRAID_TOPO_NODE_GPU, BRAID_TOPO_GPU);
SAME_VALUE(BRAID_TOPO_NODE_CPU, BRAID_TOPO_CPU);
SAME_VALUE(BRAID_TOPO_NODE_PCI, BRAID_TOPO_PCI);
SAME_VALUE(BRAID_TOPO_NODE_NIC, BRAID_TOPO_NIC);
SAME_VALUE(BRAID_TOPO_NODE_NVS, BRAID_TOPO_NVS);
SAME_VALUE(BRAID_TOPO_NODE_NET, BRAID_TOPO_NET);
SAME_VALUE(BRAID_TOPO_NUM_NODE_TYPES, BRAID_TOPO_NODE_TYPES);

SAME_VALUE(BRAID_TOPO_LINK_NVL, BRAID_LINK_NVL);
SAME_VALUE(BRAID_TOPO_LINK_C2C, BRAID_LINK_C2C);
SAME_VALUE(BRAID_TOPO_LINK_PCI, BRAID_LINK_PCI);
SAME_VALUE(BRAID_TOPO_LINK_SYS, BRAID_LINK_SYS);
SAME_VALUE(BRAID_TOPO_LINK_NET, BRAID_LINK_NET);
SAME_VALUE(BRAID_TOPO_NUM_LINK_TYPES, BRAID_LINK_TYPES);

SAME_VALUE(BRAID_PATH_TYPE_LOC, BRAID_PATH_LOC);
SAME_VALUE(BRAID_PATH_TYPE_NVL, BRAID_PATH_NVL);
SAME_VALUE(BRAID_PATH_TYPE_NVB, BRAID_PATH_NVB);
SAME_VALUE(BRAID_PATH_TYPE_C2C, BRAID_PATH_C2C);
SAME_VALUE(BRAID_PATH_TYPE_PIX, BRAID_PATH_PIX);
SAME_VALUE(BRAID_PATH_TYPE_PXB, BRAID_PATH_PXB);
SAME_VALUE(BRAID_PATH_TYPE_P2C, BRAID_PATH_P2C);
SAME_VALUE(BRAID_PATH_TYPE_PXN, BRAID_PATH_PXN);
SAME_VALUE(BRAID_PATH_TYPE_PHB, BRAID_PATH_PHB);
SAME_VALUE(BRAID_PATH_TYPE_SYS, BRAID_PATH_SYS);
SAME_VALUE(BRAID_PATH_TYPE_NET, BRAID_PATH_NET);
SAME_VALUE(BRAID_PATH_TYPE_DIS, BRAID_PATH_DIS);
SAME_VALUE(BRAID_NUM_PATH_TYPES, BRAID_PATH_TYPES);

SAME_VALUE(BRAID_NIC_LINK_UNKNOWN, BRAID_NIC_UNKNOWN);
SAME_VALUE(BRAID_NIC_LINK_IB, BRAID_NIC_IB);
SAME_VALUE(BRAID_NIC_LINK_ROCE, BRAID_NIC_ROCE);
SAME_VALUE(BRAID_NIC_LINK_ETH, BRAID_NIC_ETH);

/* Fails unless index is in [0, count), naming the function, the argument and the range. */
static braid_result_t check_index(const char *fn, const char *arg, int index, int count,
                                  const char *what)
{
    BRAID_ARG_CHECK(index >= 0 && index < count,
                    "%s: %s is %d, but the topology has %d %s%s (numbered from 0)", fn, arg, index,
                    count, what, count == 1 ? "" : "s");
    return BRAID_SUCCESS;
}

static braid_result_t check_gpu(const struct braid_topo *topo, const char *fn, const char *arg,
                                int gpu)
{
    return check_index(fn, arg, gpu, braid__topo_ngpus(topo), "GPU");
}

/* ---- loading and freeing ---- */

braid_result_t braid_topo_load_file(braid_topo_t *topo, const char *path)
{
    braid__err_clear();
    BRAID_ARG_CHECK(topo, "braid_topo_load_file: topo is NULL (it receives the new handle)");
    *topo = NULL;
    BRAID_ARG_CHECK(path, "braid_topo_load_file: path is NULL");
    return braid__topo_load_file(path, topo);
}

braid_result_t braid_topo_load_buffer(braid_topo_t *topo, const char *text, size_t len,
                                      const char *name)
{
    braid__err_clear();
    BRAID_ARG_CHECK(topo, "braid_topo_load_buffer: topo is NULL (it receives the new handle)");
    *topo = NULL;
    BRAID_ARG_CHECK(text, "braid_topo_load_buffer: text is NULL");
    return braid__topo_load_buffer(text, len, name, topo);
}

braid_result_t braid_topo_probe(braid_topo_t *topo)
{
    braid__err_clear();
    BRAID_ARG_CHECK(topo, "braid_topo_probe: topo is NULL (it receives the new handle)");
    *topo = NULL;
    return braid__topo_probe(topo);
}

/* Leaves the thread's error alone, so that cleanup may run before the caller reads it. */
braid_result_t braid_topo_free(braid_topo_t topo)
{
    braid__topo_free(topo);
    return BRAID_SUCCESS;
}

/* ---- whole-topology queries ---- */

braid_result_t braid_topo_dump_file(braid_topo_t topo, const char *path)
{
    braid__err_clear();
    BRAID_ARG_CHECK(topo, "braid_topo_dump_file: topo is NULL");
    BRAID_ARG_CHECK(path, "braid_topo_dump_file: path is NULL");
    return braid__topo_dump_file(topo, path);
}

braid_result_t braid_topo_dump_string(braid_topo_t topo, char **text, size_t *len)
{
    braid__err_clear();
    BRAID_ARG_CHECK(text, "braid_topo_dump_string: text is NULL (it receives the string)");
    *text = NULL;
    BRAID_ARG_CHECK(topo, "braid_topo_dump_string: topo is NULL");
    size_t n = 0;
    braid_result_t res = braid__topo_dump_buffer(topo, text, &n);
    if (len)
        *len = res == BRAID_SUCCESS ? n : 0;
    return res;
}

braid_result_t braid_topo_summary(braid_topo_t topo, char *buf, size_t len)
{
    braid__err_clear();
    BRAID_ARG_CHECK(topo, "braid_topo_summary: topo is NULL");
    BRAID_ARG_CHECK(buf && len > 0, "braid_topo_summary: buf is NULL or len is 0");
    braid__topo_summary(topo, buf, len);
    return BRAID_SUCCESS;
}

braid_result_t braid_topo_counts(braid_topo_t topo, braid_topo_counts_t *counts)
{
    braid__err_clear();
    BRAID_ARG_CHECK(topo, "braid_topo_counts: topo is NULL");
    BRAID_ARG_CHECK(counts, "braid_topo_counts: counts is NULL");
    *counts = (braid_topo_counts_t){
        .nodes = topo->nnodes,
        .hosts = topo->nhosts,
        .gpus = topo->ntype[BRAID_TOPO_GPU],
        .cpus = topo->ntype[BRAID_TOPO_CPU],
        .pci_switches = topo->ntype[BRAID_TOPO_PCI],
        .nics = topo->ntype[BRAID_TOPO_NIC],
        .nvswitches = topo->ntype[BRAID_TOPO_NVS],
        .networks = topo->ntype[BRAID_TOPO_NET],
    };
    return BRAID_SUCCESS;
}

braid_result_t braid_topo_host_get(braid_topo_t topo, int host, braid_topo_host_info_t *info)
{
    braid__err_clear();
    BRAID_ARG_CHECK(topo, "braid_topo_host_get: topo is NULL");
    BRAID_ARG_CHECK(info, "braid_topo_host_get: info is NULL");
    BRAID_CHECK(check_index("braid_topo_host_get", "host", host, topo->nhosts, "host"));
    info->name = topo->hosts[host].name;
    info->rack = topo->hosts[host].rack;
    return BRAID_SUCCESS;
}

/* ---- nodes and links ---- */

/* The public view of node i; the NET node carries the network's name (a topo-wide field). */
static void node_info(const struct braid_topo *topo, int i, braid_topo_node_info_t *info)
{
    const struct braid_topo_node *n = &topo->nodes[i];
    *info = (braid_topo_node_info_t){
        .type = (braid_topo_node_type_t)n->type,
        .type_index = braid__topo_type_rank(topo, i),
        .host = n->host,
        .parent = n->parent,
        .nlinks = n->nlinks,
        .line = n->line,
        .busid = n->busid,
        .pcie_speed = n->link_speed,
        .pcie_width = n->link_width,
        .vendor = n->vendor,
        .device = n->device,
        .dev = n->dev,
        .rank = n->rank,
        .sm = n->sm,
        .gdr = n->gdr,
        .mem_mb = n->mem_mb,
        .clique = n->clique,
        .numa = n->numa,
        .arch = n->arch,
        .cpu_vendor = n->cpu_vendor,
        .affinity = n->affinity,
        .name = n->type == BRAID_TOPO_NET ? topo->net_name : n->name,
        .port = n->port,
        .speed_mbps = n->speed,
        .link_layer = (braid_nic_link_layer_t)n->link_layer,
        .rail = n->rail,
        .domain = n->domain,
        .chips = n->chips,
        .trays = n->trays,
        .nvl_gen = n->nvl_gen,
    };
}

braid_result_t braid_topo_node_get(braid_topo_t topo, int node, braid_topo_node_info_t *info)
{
    braid__err_clear();
    BRAID_ARG_CHECK(topo, "braid_topo_node_get: topo is NULL");
    BRAID_ARG_CHECK(info, "braid_topo_node_get: info is NULL");
    BRAID_CHECK(check_index("braid_topo_node_get", "node", node, topo->nnodes, "node"));
    node_info(topo, node, info);
    return BRAID_SUCCESS;
}

braid_result_t braid_topo_node_find(braid_topo_t topo, braid_topo_node_type_t type, int n,
                                    int *node)
{
    braid__err_clear();
    BRAID_ARG_CHECK(topo, "braid_topo_node_find: topo is NULL");
    BRAID_ARG_CHECK(node, "braid_topo_node_find: node is NULL");
    BRAID_ARG_CHECK((unsigned)type < BRAID_TOPO_NUM_NODE_TYPES,
                    "braid_topo_node_find: type %d is not a braid_topo_node_type_t", (int)type);
    BRAID_CHECK(check_index("braid_topo_node_find", "n", n, topo->ntype[type],
                            braid__topo_node_name((int)type)));
    *node = braid__topo_nth(topo, (int)type, n);
    return BRAID_SUCCESS;
}

braid_result_t braid_topo_link_get(braid_topo_t topo, int node, int link,
                                   braid_topo_link_info_t *info)
{
    braid__err_clear();
    BRAID_ARG_CHECK(topo, "braid_topo_link_get: topo is NULL");
    BRAID_ARG_CHECK(info, "braid_topo_link_get: info is NULL");
    BRAID_CHECK(check_index("braid_topo_link_get", "node", node, topo->nnodes, "node"));
    const struct braid_topo_node *n = &topo->nodes[node];
    BRAID_ARG_CHECK(link >= 0 && link < n->nlinks,
                    "braid_topo_link_get: link is %d, but node %d has %d links (numbered from 0)",
                    link, node, n->nlinks);
    const struct braid_topo_link *l = &n->links[link];
    *info = (braid_topo_link_info_t){
        .type = (braid_topo_link_type_t)l->type,
        .remote = l->remote,
        .count = l->count,
        .gen = l->gen,
        .bw = l->bw,
        .latency_us = l->lat,
    };
    return BRAID_SUCCESS;
}

/* ---- paths ---- */

static void path_out(const struct braid_topo_path *in, braid_path_t *out)
{
    out->type = (braid_path_type_t)in->type;
    out->bw = in->bw;
    out->hops = in->hops;
}

braid_result_t braid_topo_gpu_path(braid_topo_t topo, int gpu_a, int gpu_b, braid_path_t *path)
{
    braid__err_clear();
    BRAID_ARG_CHECK(topo, "braid_topo_gpu_path: topo is NULL");
    BRAID_ARG_CHECK(path, "braid_topo_gpu_path: path is NULL");
    BRAID_CHECK(check_gpu(topo, "braid_topo_gpu_path", "gpu_a", gpu_a));
    BRAID_CHECK(check_gpu(topo, "braid_topo_gpu_path", "gpu_b", gpu_b));
    struct braid_topo_path p;
    braid_result_t res = braid__topo_gpu_path(topo, gpu_a, gpu_b, &p);
    if (res == BRAID_SUCCESS)
        path_out(&p, path);
    return res;
}

braid_result_t braid_topo_gpu_nic_path(braid_topo_t topo, int gpu, int nic, braid_path_t *path)
{
    braid__err_clear();
    BRAID_ARG_CHECK(topo, "braid_topo_gpu_nic_path: topo is NULL");
    BRAID_ARG_CHECK(path, "braid_topo_gpu_nic_path: path is NULL");
    BRAID_CHECK(check_gpu(topo, "braid_topo_gpu_nic_path", "gpu", gpu));
    BRAID_CHECK(check_index("braid_topo_gpu_nic_path", "nic", nic, braid__topo_nnics(topo), "NIC"));
    struct braid_topo_path p;
    braid_result_t res = braid__topo_gpu_nic_path(topo, gpu, nic, &p);
    if (res == BRAID_SUCCESS)
        path_out(&p, path);
    return res;
}

/* The internal NIC queries answer -1 both for "none" and for a failure while computing; a
 * failure is told apart by the error it recorded (the thread's error was cleared on entry). */
static braid_result_t nic_answer(const char *fn, int value, int *out)
{
    if (value < 0 && braid__err_text()[0] != '\0')
        return braid__err(BRAID_ERR_NO_MEMORY, "%s: %s", fn, braid__err_text());
    *out = value;
    return BRAID_SUCCESS;
}

braid_result_t braid_topo_gpu_nic(braid_topo_t topo, int gpu, int *nic)
{
    braid__err_clear();
    BRAID_ARG_CHECK(topo, "braid_topo_gpu_nic: topo is NULL");
    BRAID_ARG_CHECK(nic, "braid_topo_gpu_nic: nic is NULL");
    BRAID_CHECK(check_gpu(topo, "braid_topo_gpu_nic", "gpu", gpu));
    return nic_answer("braid_topo_gpu_nic", braid__topo_gpu_nic(topo, gpu), nic);
}

braid_result_t braid_topo_gpu_rail(braid_topo_t topo, int gpu, int *rail)
{
    braid__err_clear();
    BRAID_ARG_CHECK(topo, "braid_topo_gpu_rail: topo is NULL");
    BRAID_ARG_CHECK(rail, "braid_topo_gpu_rail: rail is NULL");
    BRAID_CHECK(check_gpu(topo, "braid_topo_gpu_rail", "gpu", gpu));
    return nic_answer("braid_topo_gpu_rail", braid__topo_gpu_rail(topo, gpu), rail);
}

braid_result_t braid_topo_p2p_direct(braid_topo_t topo, int gpu_a, int gpu_b, int *direct)
{
    braid__err_clear();
    BRAID_ARG_CHECK(topo, "braid_topo_p2p_direct: topo is NULL");
    BRAID_ARG_CHECK(direct, "braid_topo_p2p_direct: direct is NULL");
    BRAID_CHECK(check_gpu(topo, "braid_topo_p2p_direct", "gpu_a", gpu_a));
    BRAID_CHECK(check_gpu(topo, "braid_topo_p2p_direct", "gpu_b", gpu_b));
    int yes = braid__topo_p2p_direct(topo, gpu_a, gpu_b);
    if (!yes && braid__err_text()[0] != '\0')
        return braid__err(BRAID_ERR_NO_MEMORY, "braid_topo_p2p_direct: %s", braid__err_text());
    *direct = yes;
    return BRAID_SUCCESS;
}

/* ---- names ---- */

const char *braid_topo_node_type_name(braid_topo_node_type_t type)
{
    return (unsigned)type < BRAID_TOPO_NUM_NODE_TYPES ? braid__topo_node_name((int)type)
                                                      : "invalid";
}

const char *braid_topo_link_type_name(braid_topo_link_type_t type)
{
    return (unsigned)type < BRAID_TOPO_NUM_LINK_TYPES ? braid__topo_link_name((int)type)
                                                      : "invalid";
}

const char *braid_path_type_name(braid_path_type_t type)
{
    return (unsigned)type < BRAID_NUM_PATH_TYPES ? braid__topo_path_name((int)type) : "invalid";
}
