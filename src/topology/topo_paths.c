/*
 * Paths between GPUs and NICs: a breadth-first search from each source, computed on first use
 * and cached per source. Among paths of the fewest hops the one with the highest bottleneck
 * bandwidth wins, then the one of the better type, as NCCL does. The path type is the worst hop
 * type on the way (NVL < NVB < C2C < PIX < PXB < P2C < PXN < PHB < SYS < NET).
 *
 * A path may pass through a GPU only between two NVLinks and only as the first hop (NVB), and
 * through a NIC only between its PCIe side and the network, so GPUs and NICs never forward
 * PCIe traffic for others.
 */
#include "topology/topo.h"

#include <float.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/check.h"
#include "base/log.h"
#include "base/params.h"

static int may_pass(const struct braid_topo_node *u, int in_type, int out_type, int hops)
{
    switch (u->type) {
    case BRAID_TOPO_GPU:
        return in_type == BRAID_LINK_NVL && out_type == BRAID_LINK_NVL && hops == 1;
    case BRAID_TOPO_NIC:
        return (in_type == BRAID_LINK_PCI && out_type == BRAID_LINK_NET) ||
               (in_type == BRAID_LINK_NET && out_type == BRAID_LINK_PCI);
    default:
        return 1;
    }
}

static int hop_type(const struct braid_topo *topo, int u, const struct braid_topo_link *l,
                    const struct braid_topo_path *pu, int source)
{
    const struct braid_topo_node *a = &topo->nodes[u], *b = &topo->nodes[l->remote];
    switch (l->type) {
    case BRAID_LINK_NVL:
        return u != source && a->type == BRAID_TOPO_GPU ? BRAID_PATH_NVB : BRAID_PATH_NVL;
    case BRAID_LINK_C2C:
        return BRAID_PATH_C2C;
    case BRAID_LINK_PCI:
        if (a->type == BRAID_TOPO_CPU && pu->type == BRAID_PATH_C2C && pu->hops == 1)
            return BRAID_PATH_P2C; /* GPU -C2C-> its Grace -PCIe-> device */
        if (a->type == BRAID_TOPO_CPU || b->type == BRAID_TOPO_CPU)
            return BRAID_PATH_PHB;
        if (a->type == BRAID_TOPO_PCI && b->type == BRAID_TOPO_PCI)
            return BRAID_PATH_PXB;
        return BRAID_PATH_PIX;
    case BRAID_LINK_SYS:
        return BRAID_PATH_SYS;
    default:
        return BRAID_PATH_NET;
    }
}

static int better(const struct braid_topo_path *cand, const struct braid_topo_path *cur)
{
    if (cand->bw != cur->bw)
        return cand->bw > cur->bw;
    return cand->type < cur->type;
}

struct bfs {
    int *frontier, *next;
    uint8_t *in_type;
};

static void relax(const struct braid_topo *topo, struct braid_topo_path *row, struct bfs *b,
                  int source, int u, int *nnext)
{
    const struct braid_topo_node *n = &topo->nodes[u];
    for (int k = 0; k < n->nlinks; k++) {
        const struct braid_topo_link *l = &n->links[k];
        int v = l->remote;
        if (v == source || (u != source && !may_pass(n, b->in_type[u], l->type, row[u].hops)))
            continue;
        struct braid_topo_path cand = {.hops = (uint8_t)(row[u].hops + 1)};
        int ht = hop_type(topo, u, l, &row[u], source);
        cand.type = (uint8_t)(ht > row[u].type ? ht : row[u].type);
        cand.bw = l->bw < row[u].bw ? l->bw : row[u].bw;
        if (row[v].type == BRAID_PATH_DIS) {
            row[v] = cand;
            b->in_type[v] = l->type;
            b->next[(*nnext)++] = v;
        } else if (row[v].hops == cand.hops && better(&cand, &row[v])) {
            row[v] = cand;
            b->in_type[v] = l->type;
        }
    }
}

static braid_result_t bfs_run(const struct braid_topo *topo, int source,
                              struct braid_topo_path *row)
{
    size_t n = (size_t)topo->nnodes;
    struct bfs b = {malloc(n * sizeof(int)), malloc(n * sizeof(int)), malloc(n)};
    if (!b.frontier || !b.next || !b.in_type) {
        free(b.frontier);
        free(b.next);
        free(b.in_type);
        return braid__err(BRAID_ERR_NO_MEMORY, "topology: out of memory computing paths");
    }
    for (size_t i = 0; i < n; i++)
        row[i] = (struct braid_topo_path){.type = BRAID_PATH_DIS, .hops = 0, .bw = 0.0f};
    row[source] = (struct braid_topo_path){.type = BRAID_PATH_LOC, .hops = 0, .bw = FLT_MAX};
    int nfront = 1;
    b.frontier[0] = source;
    /* Hop counts saturate at 255: paths that long do not occur in real systems, and the
     * search still terminates because every node is pushed once. */
    while (nfront > 0) {
        int nnext = 0;
        for (int i = 0; i < nfront; i++)
            relax(topo, row, &b, source, b.frontier[i], &nnext);
        int *t = b.frontier;
        b.frontier = b.next;
        b.next = t;
        nfront = nnext;
    }
    free(b.frontier);
    free(b.next);
    free(b.in_type);
    return BRAID_SUCCESS;
}

static braid_result_t row_of(struct braid_topo *topo, int node, struct braid_topo_path **row)
{
    if (!topo->paths) {
        topo->paths = calloc((size_t)topo->nnodes, sizeof(*topo->paths));
        if (!topo->paths)
            return braid__err(BRAID_ERR_NO_MEMORY, "topology: out of memory for paths");
        topo->paths_cap = topo->nnodes;
    }
    if (!topo->paths[node]) {
        struct braid_topo_path *r = malloc((size_t)topo->nnodes * sizeof(*r));
        if (!r)
            return braid__err(BRAID_ERR_NO_MEMORY, "topology: out of memory for paths");
        braid_result_t res = bfs_run(topo, node, r);
        if (res < 0) {
            free(r);
            return res;
        }
        topo->paths[node] = r;
    }
    *row = topo->paths[node];
    return BRAID_SUCCESS;
}

static braid_result_t node_path(struct braid_topo *topo, int a, int b, struct braid_topo_path *path)
{
    struct braid_topo_path *row;
    BRAID_CHECK(row_of(topo, a, &row));
    *path = row[b];
    return BRAID_SUCCESS;
}

braid_result_t braid__topo_gpu_path(struct braid_topo *topo, int gpu_a, int gpu_b,
                                    struct braid_topo_path *path)
{
    int a = braid__topo_nth(topo, BRAID_TOPO_GPU, gpu_a);
    int b = braid__topo_nth(topo, BRAID_TOPO_GPU, gpu_b);
    BRAID_ARG_CHECK(a >= 0 && b >= 0, "topology: GPU %d or %d does not exist (%d GPUs)", gpu_a,
                    gpu_b, braid__topo_ngpus(topo));
    return node_path(topo, a, b, path);
}

/* PXN: a GPU far from a NIC (PHB or worse) may reach it through an NVLink peer on its host
 * that sits close to the NIC (PXB or better), as NCCL does for rail-optimised networks. */
static braid_result_t try_pxn(struct braid_topo *topo, int g, int nic, struct braid_topo_path *best)
{
    int h = topo->nodes[g].host;
    if (h < 0 || h != topo->nodes[nic].host || best->type <= BRAID_PATH_PXB)
        return BRAID_SUCCESS;
    struct braid_topo_path *grow;
    BRAID_CHECK(row_of(topo, g, &grow));
    for (int i = topo->host_gpu_off[h]; i < topo->host_gpu_off[h + 1]; i++) {
        int p = topo->host_gpu_list[i];
        struct braid_topo_path via = grow[p], last;
        if (p == g || via.type != BRAID_PATH_NVL)
            continue;
        BRAID_CHECK(node_path(topo, p, nic, &last));
        if (last.type > BRAID_PATH_PXB)
            continue;
        float bw = via.bw < last.bw ? via.bw : last.bw;
        if (bw >= best->bw || best->type >= BRAID_PATH_SYS) {
            best->type = BRAID_PATH_PXN;
            best->bw = bw;
            best->hops = (uint8_t)(via.hops + last.hops);
        }
    }
    return BRAID_SUCCESS;
}

braid_result_t braid__topo_gpu_nic_path(struct braid_topo *topo, int gpu, int nic,
                                        struct braid_topo_path *path)
{
    int g = braid__topo_nth(topo, BRAID_TOPO_GPU, gpu);
    int n = braid__topo_nth(topo, BRAID_TOPO_NIC, nic);
    BRAID_ARG_CHECK(g >= 0 && n >= 0,
                    "topology: GPU %d or NIC %d does not exist (%d GPUs, %d NICs)", gpu, nic,
                    braid__topo_ngpus(topo), braid__topo_nnics(topo));
    BRAID_CHECK(node_path(topo, g, n, path));
    return try_pxn(topo, g, n, path);
}

/* The best NICs of GPU g on its host: fills cand (capacity: the host's NIC count). */
static braid_result_t best_nics(struct braid_topo *topo, int g, int *cand, int *ncand)
{
    int h = topo->nodes[g].host;
    struct braid_topo_path best = {.type = BRAID_PATH_DIS};
    *ncand = 0;
    for (int i = topo->host_nic_off[h]; i < topo->host_nic_off[h + 1]; i++) {
        int nic = topo->host_nic_list[i];
        struct braid_topo_path p;
        BRAID_CHECK(braid__topo_gpu_nic_path(topo, braid__topo_type_rank(topo, g),
                                             braid__topo_type_rank(topo, nic), &p));
        if (p.type == BRAID_PATH_DIS)
            continue;
        int cmp = *ncand == 0           ? -1
                  : p.type != best.type ? (p.type < best.type ? -1 : 1)
                  : p.bw != best.bw     ? (p.bw > best.bw ? -1 : 1)
                                        : 0;
        if (cmp < 0) {
            best = p;
            *ncand = 0;
        }
        if (cmp <= 0)
            cand[(*ncand)++] = nic;
    }
    return BRAID_SUCCESS;
}

static braid_result_t compute_nearest(struct braid_topo *topo, int h)
{
    int ng = topo->host_gpu_off[h + 1] - topo->host_gpu_off[h];
    int nn = topo->host_nic_off[h + 1] - topo->host_nic_off[h];
    int *cand = malloc((size_t)(nn ? nn : 1) * sizeof(int) * (size_t)(ng ? ng : 1));
    int *ncand = calloc((size_t)(ng ? ng : 1), sizeof(int));
    braid_result_t res =
        cand && ncand ? BRAID_SUCCESS : braid__err(BRAID_ERR_NO_MEMORY, "topology: out of memory");
    for (int i = 0; i < ng && res >= 0; i++)
        res = best_nics(topo, topo->host_gpu_list[topo->host_gpu_off[h] + i], cand + i * nn,
                        &ncand[i]);
    /* GPUs with the same best NICs take them in turn, so that two GPUs behind one switch with
     * two NICs use both. */
    for (int i = 0; i < ng && res >= 0; i++) {
        int g = topo->host_gpu_list[topo->host_gpu_off[h] + i], turn = 0;
        for (int j = 0; j < i; j++)
            turn += ncand[j] == ncand[i] && ncand[i] > 0 &&
                    memcmp(cand + j * nn, cand + i * nn, (size_t)ncand[i] * sizeof(int)) == 0;
        int nic = ncand[i] > 0 ? cand[i * nn + turn % ncand[i]] : -1;
        topo->gpu_nic[braid__topo_type_rank(topo, g)] = braid__topo_type_rank(topo, nic);
    }
    free(cand);
    free(ncand);
    return res;
}

int braid__topo_gpu_nic(struct braid_topo *topo, int gpu)
{
    int g = braid__topo_nth(topo, BRAID_TOPO_GPU, gpu);
    if (g < 0)
        return -1;
    if (!topo->gpu_nic) {
        int n = braid__topo_ngpus(topo);
        topo->gpu_nic = malloc((size_t)n * sizeof(int));
        if (!topo->gpu_nic)
            return -1;
        for (int i = 0; i < n; i++)
            topo->gpu_nic[i] = -2;
    }
    if (topo->gpu_nic[gpu] == -2 && compute_nearest(topo, topo->nodes[g].host) < 0)
        return -1;
    return topo->gpu_nic[gpu];
}

int braid__topo_gpu_rail(struct braid_topo *topo, int gpu)
{
    int nic = braid__topo_gpu_nic(topo, gpu);
    int n = braid__topo_nth(topo, BRAID_TOPO_NIC, nic);
    if (n < 0)
        return -1;
    if (topo->nodes[n].rail >= 0)
        return topo->nodes[n].rail;
    int h = topo->nodes[n].host;
    for (int i = topo->host_nic_off[h]; i < topo->host_nic_off[h + 1]; i++)
        if (topo->host_nic_list[i] == n)
            return i - topo->host_nic_off[h];
    return -1;
}

static int p2p_level(void)
{
    static atomic_int warned;
    const char *text = braid__param_str("BRAID_P2P_LEVEL");
    if (!text)
        return BRAID_PATH_PXB;
    int level = braid__topo_path_parse(text);
    if (level < 0 && text[0] >= '0' && text[0] <= '5' && text[1] == '\0') {
        /* NCCL_P2P_LEVEL also takes numbers: 0 LOC, 1 PIX, 2 PXB, 3 PHB, 4 and 5 SYS. */
        static const int nccl[] = {BRAID_PATH_LOC, BRAID_PATH_PIX, BRAID_PATH_PXB,
                                   BRAID_PATH_PHB, BRAID_PATH_SYS, BRAID_PATH_SYS};
        level = nccl[text[0] - '0'];
    }
    if (level < 0 || level > BRAID_PATH_SYS) {
        if (atomic_fetch_add(&warned, 1) == 0)
            BRAID_WARN(TOPO,
                       "BRAID_P2P_LEVEL=\"%s\" is not a path level; using PXB (give LOC, NVL, "
                       "PIX, PXB, PHB, SYS or 0-5)",
                       text);
        return BRAID_PATH_PXB;
    }
    return level;
}

/* Whether the driver said GPU gpu_a can reach GPU gpu_b directly (1), could not (0), or did
 * not say (-1). GPUs are numbered as in braid__topo_gpu_path. */
static int driver_p2p(const struct braid_topo *topo, int gpu_a, int gpu_b)
{
    int na = braid__topo_nth(topo, BRAID_TOPO_GPU, gpu_a);
    int nb = braid__topo_nth(topo, BRAID_TOPO_GPU, gpu_b);
    if (na < 0 || nb < 0)
        return -1;
    const struct braid_topo_node *a = &topo->nodes[na], *b = &topo->nodes[nb];
    if (!a->p2p || a->host != b->host || b->dev < 0)
        return -1;
    for (const char *p = a->p2p; *p;) {
        char *end;
        long dev = strtol(p, &end, 10);
        if (end != p && dev == b->dev)
            return 1;
        p = *end ? end + 1 : end;
    }
    return 0;
}

int braid__topo_p2p_direct(struct braid_topo *topo, int gpu_a, int gpu_b)
{
    struct braid_topo_path p;
    if (braid__topo_gpu_path(topo, gpu_a, gpu_b, &p) < 0)
        return 0;
    if (p.type >= BRAID_PATH_NET)
        return 0;
    if (driver_p2p(topo, gpu_a, gpu_b) == 0)
        return 0; /* the driver refused peer access (e.g. ACS, IOMMU, a VM) */
    return p.type <= p2p_level();
}
