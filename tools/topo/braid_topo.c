/*
 * braid-topo: shows what braid sees of a machine or a topology file (braid_ext.h).
 *
 *   braid-topo                 probe this machine and print it as a tree
 *   braid-topo --dump [OUT]    probe and write NCCL-format XML (stdout without OUT)
 *   braid-topo --file F        load F: counts, GPU x GPU path matrix, per-GPU NIC affinity
 *   braid-topo --check F       validate F; exit status 0 when it loads
 *   --all                      with --file: print full matrices even for large systems
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "braid.h"
#include "braid_ext.h"

#define MATRIX_MAX 32 /* larger systems get a summary unless --all */

/* What the tree printer reads: every node's public view, fetched once. */
struct view {
    braid_topo_t topo;
    int nnodes, nhosts;
    braid_topo_node_info_t *nodes;
};

static void print_node(const struct view *v, int i, int depth);

static void print_kids(const struct view *v, int parent, int depth)
{
    for (int i = 0; i < v->nnodes; i++)
        if (v->nodes[i].parent == parent)
            print_node(v, i, depth);
}

static void print_links(const struct view *v, int i)
{
    for (int l = 0; l < v->nodes[i].nlinks; l++) {
        braid_topo_link_info_t k;
        if (braid_topo_link_get(v->topo, i, l, &k) != BRAID_SUCCESS ||
            (k.type != BRAID_TOPO_LINK_NVL && k.type != BRAID_TOPO_LINK_C2C))
            continue;
        const braid_topo_node_info_t *r = &v->nodes[k.remote];
        printf("  %s x%d%s%.0d -> %s %s (%.0f GB/s)", braid_topo_link_type_name(k.type), k.count,
               k.gen ? " gen" : "", k.gen, braid_topo_node_type_name(r->type),
               r->busid ? r->busid : "", (double)k.bw);
    }
}

static void print_node(const struct view *v, int i, int depth)
{
    const braid_topo_node_info_t *n = &v->nodes[i];
    printf("%*s", depth * 2, "");
    switch (n->type) {
    case BRAID_TOPO_NODE_CPU:
        printf("CPU numa %d %s %s", n->numa, n->arch ? n->arch : "",
               n->cpu_vendor ? n->cpu_vendor : "");
        break;
    case BRAID_TOPO_NODE_PCI:
        printf("PCI switch %s", n->busid ? n->busid : "?");
        break;
    case BRAID_TOPO_NODE_GPU:
        printf("GPU %d dev %d %s sm %d %lld MB", n->type_index, n->dev,
               n->busid ? n->busid : "(no PCI)", n->sm, (long long)n->mem_mb);
        break;
    case BRAID_TOPO_NODE_NIC:
        printf("NIC %d %s port %d %s %lld Mb/s%s", n->type_index, n->name ? n->name : "?", n->port,
               n->busid ? n->busid : "(no PCI)", (long long)n->speed_mbps,
               n->link_layer == BRAID_NIC_LINK_IB     ? " IB"
               : n->link_layer == BRAID_NIC_LINK_ROCE ? " RoCE"
               : n->link_layer == BRAID_NIC_LINK_ETH  ? " Ethernet"
                                                      : "");
        break;
    default:
        printf("%s", braid_topo_node_type_name(n->type));
    }
    if (n->type != BRAID_TOPO_NODE_CPU && n->pcie_width > 0)
        printf(" [PCIe %.1f GT/s x%d]", (double)n->pcie_speed, n->pcie_width);
    print_links(v, i);
    printf("\n");
    print_kids(v, i, depth + 1);
}

/* Fetches every node's view into v (v->nodes is the caller's to free). */
static int view_load(braid_topo_t topo, struct view *v)
{
    braid_topo_counts_t counts;
    *v = (struct view){.topo = topo};
    if (braid_topo_counts(topo, &counts) != BRAID_SUCCESS)
        return 1;
    v->nodes = calloc((size_t)counts.nodes + 1, sizeof(*v->nodes));
    if (!v->nodes) {
        fprintf(stderr, "braid-topo: out of memory for %d nodes\n", counts.nodes);
        return 1;
    }
    v->nnodes = counts.nodes;
    v->nhosts = counts.hosts;
    for (int i = 0; i < v->nnodes; i++)
        if (braid_topo_node_get(topo, i, &v->nodes[i]) != BRAID_SUCCESS)
            return 1;
    return 0;
}

static void print_hosts(const struct view *v)
{
    for (int h = 0; h < v->nhosts; h++) {
        braid_topo_host_info_t host = {NULL, -1};
        braid_topo_host_get(v->topo, h, &host);
        printf("host %d%s%s\n", h, host.name ? " " : "", host.name ? host.name : "");
        for (int i = 0; i < v->nnodes; i++)
            if (v->nodes[i].type == BRAID_TOPO_NODE_CPU && v->nodes[i].host == h)
                print_node(v, i, 1);
    }
}

static int print_tree(braid_topo_t topo)
{
    char summary[BRAID_TOPO_SUMMARY_MAX];
    struct view v;
    if (view_load(topo, &v) != 0) {
        free(v.nodes);
        return 1;
    }
    braid_topo_summary(topo, summary, sizeof(summary));
    printf("%s\n", summary);
    print_hosts(&v);
    for (int i = 0; i < v.nnodes; i++) {
        const braid_topo_node_info_t *n = &v.nodes[i];
        if (n->type == BRAID_TOPO_NODE_NVS)
            printf("NVSwitch fabric %s: %d GPU links, %d chips\n",
                   n->domain ? n->domain : "(host-local)", n->nlinks, n->chips);
        if (n->type == BRAID_TOPO_NODE_NET)
            printf("network %s: %d NICs\n", n->name ? n->name : "", n->nlinks);
    }
    free(v.nodes);
    return 0;
}

static int print_matrix(braid_topo_t topo, int ng)
{
    printf("GPU x GPU paths (type/GB/s per direction):\n      ");
    for (int b = 0; b < ng; b++)
        printf(" %9d", b);
    printf("\n");
    for (int a = 0; a < ng; a++) {
        printf("GPU%-3d", a);
        for (int b = 0; b < ng; b++) {
            braid_path_t p;
            if (braid_topo_gpu_path(topo, a, b, &p) != BRAID_SUCCESS)
                return 1;
            if (a == b)
                printf(" %9s", "X");
            else
                printf(" %4s/%-4.0f", braid_path_type_name(p.type), (double)p.bw);
        }
        printf("\n");
    }
    return 0;
}

static int print_summary(braid_topo_t topo, int ng)
{
    long count[BRAID_NUM_PATH_TYPES] = {0};
    float lo[BRAID_NUM_PATH_TYPES], hi[BRAID_NUM_PATH_TYPES];
    for (int t = 0; t < BRAID_NUM_PATH_TYPES; t++)
        lo[t] = 1e30f, hi[t] = 0.0f;
    for (int a = 0; a < ng; a++) {
        for (int b = 0; b < ng; b++) {
            braid_path_t p;
            if (a == b)
                continue;
            if (braid_topo_gpu_path(topo, a, b, &p) != BRAID_SUCCESS)
                return 1;
            count[p.type]++;
            lo[p.type] = p.bw < lo[p.type] ? p.bw : lo[p.type];
            hi[p.type] = p.bw > hi[p.type] ? p.bw : hi[p.type];
        }
    }
    printf("GPU pairs by path type (%d GPUs; --all prints the matrix):\n", ng);
    for (int t = 0; t < BRAID_NUM_PATH_TYPES; t++)
        if (count[t])
            printf("  %-4s %8ld pairs, %.0f-%.0f GB/s\n", braid_path_type_name(t), count[t],
                   (double)lo[t], (double)hi[t]);
    return 0;
}

/* The view of the n-th node of `type` (zeroed where there is none). */
static braid_topo_node_info_t nth_node(braid_topo_t topo, braid_topo_node_type_t type, int n)
{
    braid_topo_node_info_t info = {.host = -1};
    int node;
    if (braid_topo_node_find(topo, type, n, &node) == BRAID_SUCCESS)
        braid_topo_node_get(topo, node, &info);
    return info;
}

static int print_affinity(braid_topo_t topo, int ng, int all)
{
    int shown = all || ng <= 72 ? ng : 8;
    printf("GPU NIC affinity:\n");
    for (int g = 0; g < shown; g++) {
        int nic = -1, rail = -1;
        braid_path_t p = {.type = BRAID_PATH_TYPE_DIS};
        if (braid_topo_gpu_nic(topo, g, &nic) != BRAID_SUCCESS ||
            (nic >= 0 && braid_topo_gpu_nic_path(topo, g, nic, &p) != BRAID_SUCCESS) ||
            braid_topo_gpu_rail(topo, g, &rail) != BRAID_SUCCESS)
            return 1;
        braid_topo_node_info_t n = nic >= 0 ? nth_node(topo, BRAID_TOPO_NODE_NIC, nic)
                                            : (braid_topo_node_info_t){.name = NULL};
        printf("  GPU %-4d host %-4d -> NIC %-4d %-10s %s %.0f GB/s rail %d\n", g,
               nth_node(topo, BRAID_TOPO_NODE_GPU, g).host, nic, n.name ? n.name : "-",
               braid_path_type_name(p.type), (double)p.bw, rail);
    }
    if (shown < ng)
        printf("  ... %d more GPUs (--all shows them)\n", ng - shown);
    return 0;
}

static int show_file(const char *path, int all)
{
    braid_topo_t topo;
    braid_topo_counts_t counts;
    if (braid_topo_load_file(&topo, path) != BRAID_SUCCESS ||
        braid_topo_counts(topo, &counts) != BRAID_SUCCESS) {
        fprintf(stderr, "braid-topo: %s\n", braid_last_error(NULL));
        braid_topo_free(topo);
        return 1;
    }
    char summary[BRAID_TOPO_SUMMARY_MAX];
    braid_topo_summary(topo, summary, sizeof(summary));
    printf("%s: %s\n", path, summary);
    int ng = counts.gpus;
    int rc = ng <= MATRIX_MAX || all ? print_matrix(topo, ng) : print_summary(topo, ng);
    if (rc == 0)
        rc = print_affinity(topo, ng, all);
    braid_topo_free(topo);
    return rc;
}

static int probe(const char *dump, int to_stdout)
{
    braid_topo_t topo;
    if (braid_topo_probe(&topo) != BRAID_SUCCESS) {
        fprintf(stderr, "braid-topo: %s\n", braid_last_error(NULL));
        return 1;
    }
    int rc = 0;
    if (dump) {
        rc = braid_topo_dump_file(topo, dump) != BRAID_SUCCESS;
    } else if (to_stdout) {
        char *text;
        size_t len;
        rc = braid_topo_dump_string(topo, &text, &len) != BRAID_SUCCESS;
        if (!rc) {
            fwrite(text, 1, len, stdout);
            free(text);
        }
    } else {
        rc = print_tree(topo);
    }
    if (rc)
        fprintf(stderr, "braid-topo: %s\n", braid_last_error(NULL));
    braid_topo_free(topo);
    return rc;
}

static int check(const char *path)
{
    braid_topo_t topo;
    if (braid_topo_load_file(&topo, path) != BRAID_SUCCESS) {
        fprintf(stderr, "braid-topo: %s\n", braid_last_error(NULL));
        return 1;
    }
    char summary[BRAID_TOPO_SUMMARY_MAX];
    braid_topo_summary(topo, summary, sizeof(summary));
    printf("%s: OK (%s)\n", path, summary);
    braid_topo_free(topo);
    return 0;
}

static int usage(void)
{
    fprintf(stderr, "usage: braid-topo [--dump [OUT.xml]] | --file F.xml [--all] | --check F.xml\n"
                    "  (no option)  probe this machine and print it as a tree\n"
                    "  --dump       probe and write NCCL-format topology XML\n"
                    "  --file F     load F: counts, GPU x GPU path matrix, NIC affinity\n"
                    "  --check F    validate F (exit status 0 when it loads)\n");
    return 2;
}

int main(int argc, char **argv)
{
    int all = 0;
    for (int i = 1; i < argc; i++)
        all |= strcmp(argv[i], "--all") == 0;
    if (argc == 1)
        return probe(NULL, 0);
    if (strcmp(argv[1], "--dump") == 0)
        return probe(argc > 2 && strcmp(argv[2], "--all") ? argv[2] : NULL, 1);
    if (strcmp(argv[1], "--file") == 0 && argc >= 3)
        return show_file(argv[2], all);
    if (strcmp(argv[1], "--check") == 0 && argc >= 3)
        return check(argv[2]);
    return usage();
}
