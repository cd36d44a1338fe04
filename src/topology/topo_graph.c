/*
 * The system graph: nodes, links, hosts, names, and the bandwidth of each kind of link from
 * public specifications. Arrays grow geometrically; nothing has a fixed capacity.
 */
#include "topology/topo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/check.h"

static const char *node_names[BRAID_TOPO_NODE_TYPES] = {"GPU", "CPU", "PCI", "NIC", "NVS", "NET"};
static const char *link_names[BRAID_LINK_TYPES] = {"NVL", "C2C", "PCI", "SYS", "NET"};
static const char *path_names[BRAID_PATH_TYPES] = {"LOC", "NVL", "NVB", "C2C", "PIX", "PXB",
                                                   "P2C", "PXN", "PHB", "SYS", "NET", "DIS"};

const char *braid__topo_node_name(int type)
{
    return type >= 0 && type < BRAID_TOPO_NODE_TYPES ? node_names[type] : "?";
}

const char *braid__topo_link_name(int type)
{
    return type >= 0 && type < BRAID_LINK_TYPES ? link_names[type] : "?";
}

const char *braid__topo_path_name(int type)
{
    return type >= 0 && type < BRAID_PATH_TYPES ? path_names[type] : "?";
}

int braid__topo_path_parse(const char *text)
{
    for (int i = 0; i < BRAID_PATH_TYPES; i++)
        if (strcasecmp(text, path_names[i]) == 0)
            return i;
    return -1;
}

static braid_result_t no_memory(const char *what, size_t bytes)
{
    return braid__err(BRAID_ERR_NO_MEMORY,
                      "topology: allocating %zu bytes for %s failed; free memory or use a "
                      "smaller topology file",
                      bytes, what);
}

/* Grows *array (of *cap elements of size elem) to hold at least need elements. */
static braid_result_t grow(void **array, int *cap, int need, size_t elem, const char *what)
{
    if (need <= *cap)
        return BRAID_SUCCESS;
    if (need > (1 << 28))
        return braid__err(BRAID_ERR_INVALID_ARGUMENT,
                          "topology: %d %s is beyond what braid supports (%d)", need, what,
                          1 << 28);
    int newcap = *cap ? *cap : 8;
    while (newcap < need)
        newcap *= 2;
    void *p = realloc(*array, (size_t)newcap * elem);
    if (!p)
        return no_memory(what, (size_t)newcap * elem);
    memset((char *)p + (size_t)*cap * elem, 0, (size_t)(newcap - *cap) * elem);
    *array = p;
    *cap = newcap;
    return BRAID_SUCCESS;
}

braid_result_t braid__topo_strset(char **dst, const char *src)
{
    char *copy = NULL;
    if (src) {
        copy = strdup(src);
        if (!copy)
            return no_memory("a string", strlen(src) + 1);
    }
    free(*dst);
    *dst = copy;
    return BRAID_SUCCESS;
}

braid_result_t braid__topo_create(struct braid_topo **out)
{
    *out = calloc(1, sizeof(**out));
    if (!*out)
        return no_memory("a topology", sizeof(**out));
    return BRAID_SUCCESS;
}

static void node_free(struct braid_topo_node *n)
{
    free(n->links);
    free(n->busid);
    free(n->clique);
    free(n->p2p);
    free(n->arch);
    free(n->cpu_vendor);
    free(n->affinity);
    free(n->name);
    free(n->gid);
    free(n->domain);
}

static void paths_drop(struct braid_topo *topo)
{
    for (int i = 0; i < topo->paths_cap; i++)
        free(topo->paths[i]);
    free(topo->paths);
    topo->paths = NULL;
    topo->paths_cap = 0;
    free(topo->gpu_nic);
    topo->gpu_nic = NULL;
    free(topo->host_gpu_off);
    free(topo->host_gpu_list);
    free(topo->host_nic_off);
    free(topo->host_nic_list);
    topo->host_gpu_off = topo->host_gpu_list = topo->host_nic_off = topo->host_nic_list = NULL;
}

/* Builds the CSR lists of the nodes of one type per host. */
static braid_result_t host_lists(struct braid_topo *topo, int type, int **off, int **list)
{
    int n = topo->ntype[type];
    *off = calloc((size_t)topo->nhosts + 2, sizeof(int));
    *list = malloc((size_t)(n ? n : 1) * sizeof(int));
    int *fill = calloc((size_t)topo->nhosts + 1, sizeof(int));
    if (!*off || !*list || !fill) {
        free(fill);
        return no_memory("the host index", (size_t)n * sizeof(int));
    }
    for (int i = 0; i < n; i++) {
        int h = topo->nodes[topo->by_type[type][i]].host;
        if (h >= 0)
            (*off)[h + 1]++;
    }
    for (int h = 0; h < topo->nhosts; h++)
        (*off)[h + 1] += (*off)[h];
    for (int i = 0; i < n; i++) {
        int node = topo->by_type[type][i];
        int h = topo->nodes[node].host;
        if (h >= 0)
            (*list)[(*off)[h] + fill[h]++] = node;
    }
    free(fill);
    return BRAID_SUCCESS;
}

void braid__topo_free(struct braid_topo *topo)
{
    if (!topo)
        return;
    for (int i = 0; i < topo->nnodes; i++)
        node_free(&topo->nodes[i]);
    free(topo->nodes);
    for (int i = 0; i < topo->nhosts; i++)
        free(topo->hosts[i].name);
    free(topo->hosts);
    free(topo->net_name);
    paths_drop(topo);
    for (int t = 0; t < BRAID_TOPO_NODE_TYPES; t++)
        free(topo->by_type[t]);
    free(topo);
}

braid_result_t braid__topo_host_ensure(struct braid_topo *topo, int host)
{
    if (host < 0)
        return BRAID_SUCCESS;
    BRAID_CHECK(
        grow((void **)&topo->hosts, &topo->hosts_cap, host + 1, sizeof(*topo->hosts), "hosts"));
    for (int h = topo->nhosts; h <= host; h++) {
        topo->hosts[h].name = NULL;
        topo->hosts[h].rack = -1;
    }
    if (host >= topo->nhosts)
        topo->nhosts = host + 1;
    return BRAID_SUCCESS;
}

braid_result_t braid__topo_add_node(struct braid_topo *topo, int type, int host, int *index)
{
    BRAID_CHECK(grow((void **)&topo->nodes, &topo->nodes_cap, topo->nnodes + 1,
                     sizeof(*topo->nodes), "topology nodes"));
    BRAID_CHECK(braid__topo_host_ensure(topo, host));
    struct braid_topo_node *n = &topo->nodes[topo->nnodes];
    memset(n, 0, sizeof(*n));
    n->type = type;
    n->host = host;
    n->parent = -1;
    n->pci_class = n->vendor = n->device = n->subsys_vendor = n->subsys_device = -1;
    n->dev = n->rank = n->sm = n->gdr = -1;
    n->numa = n->family = n->model = -1;
    n->port = n->nic_dev = n->rail = n->maxconn = n->coll = -1;
    *index = topo->nnodes++;
    return BRAID_SUCCESS;
}

static braid_result_t add_half(struct braid_topo *topo, int from, int to,
                               const struct braid_topo_link *proto)
{
    struct braid_topo_node *n = &topo->nodes[from];
    for (int l = 0; l < n->nlinks; l++) {
        if (n->links[l].remote == to && n->links[l].type == proto->type) {
            n->links[l] = *proto;
            n->links[l].remote = to;
            return BRAID_SUCCESS;
        }
    }
    BRAID_CHECK(grow((void **)&n->links, &n->links_cap, n->nlinks + 1, sizeof(*n->links),
                     "topology links"));
    n->links[n->nlinks] = *proto;
    n->links[n->nlinks].remote = to;
    n->nlinks++;
    return BRAID_SUCCESS;
}

/* Latencies are rough one-way figures (microseconds) used only to rank paths of equal
 * bandwidth; the cost model measures or configures its own. */
static float link_latency(int type)
{
    switch (type) {
    case BRAID_LINK_NVL:
    case BRAID_LINK_C2C:
        return 0.5f;
    case BRAID_LINK_PCI:
        return 1.0f;
    case BRAID_LINK_SYS:
        return 1.5f;
    default:
        return 5.0f;
    }
}

braid_result_t braid__topo_connect(struct braid_topo *topo, int a, int b, int type, int count,
                                   int gen, float bw)
{
    if (a < 0 || b < 0 || a >= topo->nnodes || b >= topo->nnodes || a == b)
        return braid__err(BRAID_ERR_INTERNAL, "topology: bad link %d-%d (%d nodes)", a, b,
                          topo->nnodes);
    struct braid_topo_link link = {.remote = -1,
                                   .type = (uint8_t)type,
                                   .gen = (uint8_t)(gen < 0     ? 0
                                                    : gen > 255 ? 255
                                                                : gen),
                                   .count = (uint16_t)(count < 0       ? 0
                                                       : count > 65535 ? 65535
                                                                       : count),
                                   .bw = bw,
                                   .lat = link_latency(type)};
    BRAID_CHECK(add_half(topo, a, b, &link));
    BRAID_CHECK(add_half(topo, b, a, &link));
    return BRAID_SUCCESS;
}

braid_result_t braid__topo_index(struct braid_topo *topo)
{
    paths_drop(topo);
    for (int t = 0; t < BRAID_TOPO_NODE_TYPES; t++) {
        free(topo->by_type[t]);
        topo->by_type[t] = NULL;
        topo->ntype[t] = 0;
    }
    for (int i = 0; i < topo->nnodes; i++)
        topo->ntype[topo->nodes[i].type]++;
    for (int t = 0; t < BRAID_TOPO_NODE_TYPES; t++) {
        if (topo->ntype[t] == 0)
            continue;
        topo->by_type[t] = malloc((size_t)topo->ntype[t] * sizeof(int));
        if (!topo->by_type[t])
            return no_memory("the node index", (size_t)topo->ntype[t] * sizeof(int));
        topo->ntype[t] = 0;
    }
    for (int i = 0; i < topo->nnodes; i++) {
        int t = topo->nodes[i].type;
        topo->by_type[t][topo->ntype[t]++] = i;
    }
    BRAID_CHECK(host_lists(topo, BRAID_TOPO_GPU, &topo->host_gpu_off, &topo->host_gpu_list));
    BRAID_CHECK(host_lists(topo, BRAID_TOPO_NIC, &topo->host_nic_off, &topo->host_nic_list));
    return BRAID_SUCCESS;
}

int braid__topo_nth(const struct braid_topo *topo, int type, int n)
{
    if (type < 0 || type >= BRAID_TOPO_NODE_TYPES || n < 0 || n >= topo->ntype[type])
        return -1;
    return topo->by_type[type][n];
}

int braid__topo_type_rank(const struct braid_topo *topo, int node)
{
    if (node < 0 || node >= topo->nnodes)
        return -1;
    int t = topo->nodes[node].type;
    /* by_type is sorted by node index, so a binary search finds the rank. */
    int lo = 0, hi = topo->ntype[t] - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (topo->by_type[t][mid] == node)
            return mid;
        if (topo->by_type[t][mid] < node)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

int braid__topo_find_busid(const struct braid_topo *topo, int type, int host, const char *busid)
{
    if (!busid)
        return -1;
    for (int i = 0; i < topo->nnodes; i++) {
        const struct braid_topo_node *n = &topo->nodes[i];
        if (n->type == type && n->host == host && n->busid && strcasecmp(n->busid, busid) == 0)
            return i;
    }
    return -1;
}

int braid__topo_find_cpu(const struct braid_topo *topo, int host, int numa)
{
    for (int i = 0; i < topo->nnodes; i++) {
        const struct braid_topo_node *n = &topo->nodes[i];
        if (n->type == BRAID_TOPO_CPU && n->host == host && n->numa == numa)
            return i;
    }
    return -1;
}

/* Per-link, per-direction NVLink bandwidth: NVLink 1 (P100) 20 GB/s, NVLink 2 (V100) and 3
 * (A100) 25 GB/s, NVLink 4 (H100) 25 GB/s, NVLink 5 (Blackwell) 50 GB/s. */
float braid__topo_nvlink_bw(int gen, int count)
{
    float per = gen <= 1 ? 20.0f : gen <= 4 ? 25.0f : 50.0f;
    return per * (float)count;
}

int braid__topo_nvlink_gen_of_sm(int sm)
{
    if (sm >= 100)
        return 5;
    if (sm >= 90)
        return 4;
    if (sm >= 80)
        return 3;
    if (sm >= 70)
        return 2;
    return 1;
}

/* Per-lane PCIe rate after line coding: 8b/10b up to 5 GT/s, 128b/130b for 8-32 GT/s, and
 * FLIT mode (242/256) at 64 GT/s. An unknown link counts as Gen3 x16, like NCCL's default. */
float braid__topo_pcie_bw(float gts, int width)
{
    if (gts <= 0.0f)
        gts = 8.0f;
    if (width <= 0)
        width = 16;
    float coding = gts <= 5.0f ? 0.8f : gts < 64.0f ? 128.0f / 130.0f : 242.0f / 256.0f;
    return gts * coding / 8.0f * (float)width;
}

/* Inter-socket bandwidth per direction: Intel UPI ~ 20 GB/s per socket pair in practice
 * (NCCL assumes 10-20), AMD xGMI ~ 32, Grace-to-Grace coherent NVLink-C2C far more. */
float braid__topo_sys_bw(const struct braid_topo_node *cpu)
{
    if (cpu && cpu->arch && strcmp(cpu->arch, "aarch64") == 0)
        return 40.0f;
    if (cpu && cpu->cpu_vendor && strstr(cpu->cpu_vendor, "AMD"))
        return 32.0f;
    return 20.0f;
}

int braid__topo_ngpus(const struct braid_topo *topo)
{
    return topo->ntype[BRAID_TOPO_GPU];
}

int braid__topo_nnics(const struct braid_topo *topo)
{
    return topo->ntype[BRAID_TOPO_NIC];
}

void braid__topo_summary(const struct braid_topo *topo, char *buf, size_t len)
{
    snprintf(buf, len, "%d host%s, %d GPU, %d CPU, %d PCI switch, %d NIC, %d NVSwitch, %d NET",
             topo->nhosts, topo->nhosts == 1 ? "" : "s", topo->ntype[BRAID_TOPO_GPU],
             topo->ntype[BRAID_TOPO_CPU], topo->ntype[BRAID_TOPO_PCI], topo->ntype[BRAID_TOPO_NIC],
             topo->ntype[BRAID_TOPO_NVS], topo->ntype[BRAID_TOPO_NET]);
}

struct host_cpu {
    int host, node;
};

static int host_cpu_cmp(const void *x, const void *y)
{
    const struct host_cpu *a = x, *b = y;
    if (a->host != b->host)
        return a->host < b->host ? -1 : 1;
    return a->node < b->node ? -1 : a->node > b->node;
}

braid_result_t braid__topo_connect_cpus(struct braid_topo *topo)
{
    int n = 0;
    for (int i = 0; i < topo->nnodes; i++)
        n += topo->nodes[i].type == BRAID_TOPO_CPU;
    if (n < 2)
        return BRAID_SUCCESS;
    struct host_cpu *cpus = malloc((size_t)n * sizeof(*cpus));
    if (!cpus)
        return no_memory("the CPU list", (size_t)n * sizeof(*cpus));
    n = 0;
    for (int i = 0; i < topo->nnodes; i++)
        if (topo->nodes[i].type == BRAID_TOPO_CPU)
            cpus[n++] = (struct host_cpu){topo->nodes[i].host, i};
    /* Grouping by host keeps this linear in the number of hosts. */
    qsort(cpus, (size_t)n, sizeof(*cpus), host_cpu_cmp);
    braid_result_t res = BRAID_SUCCESS;
    for (int s = 0; s < n && res >= 0;) {
        int e = s;
        while (e < n && cpus[e].host == cpus[s].host)
            e++;
        for (int i = s; i < e && res >= 0; i++)
            for (int j = i + 1; j < e && res >= 0; j++)
                res = braid__topo_connect(topo, cpus[i].node, cpus[j].node, BRAID_LINK_SYS, 1, 0,
                                          braid__topo_sys_bw(&topo->nodes[cpus[i].node]));
        s = e;
    }
    free(cpus);
    return res;
}

static int find_net(const struct braid_topo *topo)
{
    for (int i = 0; i < topo->nnodes; i++)
        if (topo->nodes[i].type == BRAID_TOPO_NET)
            return i;
    return -1;
}

braid_result_t braid__topo_finish(struct braid_topo *topo)
{
    int net = find_net(topo);
    for (int i = 0; i < topo->nnodes; i++) {
        if (topo->nodes[i].type != BRAID_TOPO_NIC)
            continue;
        if (net < 0)
            BRAID_CHECK(braid__topo_add_node(topo, BRAID_TOPO_NET, -1, &net));
        /* An unknown port speed counts as 10 Gb/s, the slowest adapter braid expects. */
        int64_t mbps = topo->nodes[i].speed > 0 ? topo->nodes[i].speed : 10000;
        BRAID_CHECK(braid__topo_connect(topo, i, net, BRAID_LINK_NET, 1, 0,
                                        (float)((double)mbps / 8000.0)));
    }
    BRAID_CHECK(braid__topo_connect_cpus(topo));
    return braid__topo_index(topo);
}

static braid_result_t dup_strings(struct braid_topo_node *n)
{
    char **fields[] = {&n->busid, &n->clique, &n->arch,   &n->cpu_vendor, &n->affinity,
                       &n->name,  &n->gid,    &n->domain, &n->p2p};
    braid_result_t res = BRAID_SUCCESS;
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        const char *src = *fields[i];
        *fields[i] = NULL;
        if (res >= 0)
            res = braid__topo_strset(fields[i], src);
    }
    return res;
}

braid_result_t braid__topo_copy_node(struct braid_topo *topo, const struct braid_topo_node *src,
                                     int host, int *index)
{
    BRAID_CHECK(braid__topo_add_node(topo, src->type, host, index));
    struct braid_topo_node *n = &topo->nodes[*index];
    *n = *src;
    n->host = host;
    n->parent = -1;
    n->links = NULL;
    n->nlinks = n->links_cap = 0;
    return dup_strings(n);
}
