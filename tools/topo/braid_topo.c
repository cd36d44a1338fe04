/*
 * braid-topo: shows what braid sees of a machine or a topology file.
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

#include "base/error.h"
#include "topology/topo.h"

#define MATRIX_MAX 32 /* larger systems get a summary unless --all */

static void print_node(const struct braid_topo *topo, int i, int depth);

static void print_kids(const struct braid_topo *topo, int parent, int depth)
{
    for (int i = 0; i < topo->nnodes; i++)
        if (topo->nodes[i].parent == parent)
            print_node(topo, i, depth);
}

static void print_links(const struct braid_topo *topo, const struct braid_topo_node *n)
{
    for (int l = 0; l < n->nlinks; l++) {
        const struct braid_topo_link *k = &n->links[l];
        if (k->type != BRAID_LINK_NVL && k->type != BRAID_LINK_C2C)
            continue;
        const struct braid_topo_node *r = &topo->nodes[k->remote];
        printf("  %s x%d%s%.0d -> %s %s (%.0f GB/s)", braid__topo_link_name(k->type), k->count,
               k->gen ? " gen" : "", k->gen, braid__topo_node_name(r->type),
               r->busid ? r->busid : "", (double)k->bw);
    }
}

static void print_node(const struct braid_topo *topo, int i, int depth)
{
    const struct braid_topo_node *n = &topo->nodes[i];
    printf("%*s", depth * 2, "");
    switch (n->type) {
    case BRAID_TOPO_CPU:
        printf("CPU numa %d %s %s", n->numa, n->arch ? n->arch : "",
               n->cpu_vendor ? n->cpu_vendor : "");
        break;
    case BRAID_TOPO_PCI:
        printf("PCI switch %s", n->busid ? n->busid : "?");
        break;
    case BRAID_TOPO_GPU:
        printf("GPU %d dev %d %s sm %d %lld MB", braid__topo_type_rank(topo, i), n->dev,
               n->busid ? n->busid : "(no PCI)", n->sm, (long long)n->mem_mb);
        break;
    case BRAID_TOPO_NIC:
        printf("NIC %d %s port %d %s %lld Mb/s%s", braid__topo_type_rank(topo, i),
               n->name ? n->name : "?", n->port, n->busid ? n->busid : "(no PCI)",
               (long long)n->speed,
               n->link_layer == BRAID_NIC_IB     ? " IB"
               : n->link_layer == BRAID_NIC_ROCE ? " RoCE"
               : n->link_layer == BRAID_NIC_ETH  ? " Ethernet"
                                                 : "");
        break;
    default:
        printf("%s", braid__topo_node_name(n->type));
    }
    if (n->type != BRAID_TOPO_CPU && n->link_width > 0)
        printf(" [PCIe %.1f GT/s x%d]", (double)n->link_speed, n->link_width);
    print_links(topo, n);
    printf("\n");
    print_kids(topo, i, depth + 1);
}

static void print_tree(const struct braid_topo *topo)
{
    char summary[256];
    braid__topo_summary(topo, summary, sizeof(summary));
    printf("%s\n", summary);
    for (int h = 0; h < topo->nhosts; h++) {
        printf("host %d%s%s\n", h, topo->hosts[h].name ? " " : "",
               topo->hosts[h].name ? topo->hosts[h].name : "");
        for (int i = 0; i < topo->nnodes; i++)
            if (topo->nodes[i].type == BRAID_TOPO_CPU && topo->nodes[i].host == h)
                print_node(topo, i, 1);
    }
    for (int i = 0; i < topo->nnodes; i++) {
        const struct braid_topo_node *n = &topo->nodes[i];
        if (n->type == BRAID_TOPO_NVS)
            printf("NVSwitch fabric %s: %d GPU links, %d chips\n",
                   n->domain ? n->domain : "(host-local)", n->nlinks, n->chips);
        if (n->type == BRAID_TOPO_NET)
            printf("network %s: %d NICs\n", topo->net_name ? topo->net_name : "", n->nlinks);
    }
}

static int print_matrix(struct braid_topo *topo)
{
    int ng = braid__topo_ngpus(topo);
    printf("GPU x GPU paths (type/GB/s per direction):\n      ");
    for (int b = 0; b < ng; b++)
        printf(" %9d", b);
    printf("\n");
    for (int a = 0; a < ng; a++) {
        printf("GPU%-3d", a);
        for (int b = 0; b < ng; b++) {
            struct braid_topo_path p;
            if (braid__topo_gpu_path(topo, a, b, &p) < 0)
                return 1;
            if (a == b)
                printf(" %9s", "X");
            else
                printf(" %4s/%-4.0f", braid__topo_path_name(p.type), (double)p.bw);
        }
        printf("\n");
    }
    return 0;
}

static int print_summary(struct braid_topo *topo)
{
    int ng = braid__topo_ngpus(topo);
    long count[BRAID_PATH_TYPES] = {0};
    float lo[BRAID_PATH_TYPES], hi[BRAID_PATH_TYPES];
    for (int t = 0; t < BRAID_PATH_TYPES; t++)
        lo[t] = 1e30f, hi[t] = 0.0f;
    for (int a = 0; a < ng; a++) {
        for (int b = 0; b < ng; b++) {
            struct braid_topo_path p;
            if (a == b)
                continue;
            if (braid__topo_gpu_path(topo, a, b, &p) < 0)
                return 1;
            count[p.type]++;
            lo[p.type] = p.bw < lo[p.type] ? p.bw : lo[p.type];
            hi[p.type] = p.bw > hi[p.type] ? p.bw : hi[p.type];
        }
    }
    printf("GPU pairs by path type (%d GPUs; --all prints the matrix):\n", ng);
    for (int t = 0; t < BRAID_PATH_TYPES; t++)
        if (count[t])
            printf("  %-4s %8ld pairs, %.0f-%.0f GB/s\n", braid__topo_path_name(t), count[t],
                   (double)lo[t], (double)hi[t]);
    return 0;
}

static int print_affinity(struct braid_topo *topo, int all)
{
    int ng = braid__topo_ngpus(topo);
    int shown = all || ng <= 72 ? ng : 8;
    printf("GPU NIC affinity:\n");
    for (int g = 0; g < shown; g++) {
        int nic = braid__topo_gpu_nic(topo, g);
        struct braid_topo_path p = {.type = BRAID_PATH_DIS};
        if (nic >= 0 && braid__topo_gpu_nic_path(topo, g, nic, &p) < 0)
            return 1;
        const struct braid_topo_node *n =
            nic >= 0 ? &topo->nodes[braid__topo_nth(topo, BRAID_TOPO_NIC, nic)] : NULL;
        printf("  GPU %-4d host %-4d -> NIC %-4d %-10s %s %.0f GB/s rail %d\n", g,
               topo->nodes[braid__topo_nth(topo, BRAID_TOPO_GPU, g)].host, nic,
               n && n->name ? n->name : "-", braid__topo_path_name(p.type), (double)p.bw,
               braid__topo_gpu_rail(topo, g));
    }
    if (shown < ng)
        printf("  ... %d more GPUs (--all shows them)\n", ng - shown);
    return 0;
}

static int show_file(const char *path, int all)
{
    struct braid_topo *topo;
    if (braid__topo_load_file(path, &topo) < 0) {
        fprintf(stderr, "braid-topo: %s\n", braid__err_text());
        return 1;
    }
    char summary[256];
    braid__topo_summary(topo, summary, sizeof(summary));
    printf("%s: %s\n", path, summary);
    int rc =
        braid__topo_ngpus(topo) <= MATRIX_MAX || all ? print_matrix(topo) : print_summary(topo);
    if (rc == 0)
        rc = print_affinity(topo, all);
    braid__topo_free(topo);
    return rc;
}

static int probe(const char *dump, int to_stdout)
{
    struct braid_topo *topo;
    if (braid__topo_probe(&topo) < 0) {
        fprintf(stderr, "braid-topo: %s\n", braid__err_text());
        return 1;
    }
    int rc = 0;
    if (dump) {
        rc = braid__topo_dump_file(topo, dump) < 0;
    } else if (to_stdout) {
        char *text;
        size_t len;
        rc = braid__topo_dump_buffer(topo, &text, &len) < 0;
        if (!rc) {
            fwrite(text, 1, len, stdout);
            free(text);
        }
    } else {
        print_tree(topo);
    }
    if (rc)
        fprintf(stderr, "braid-topo: %s\n", braid__err_text());
    braid__topo_free(topo);
    return rc;
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
    if (strcmp(argv[1], "--check") == 0 && argc >= 3) {
        struct braid_topo *topo;
        if (braid__topo_load_file(argv[2], &topo) < 0) {
            fprintf(stderr, "braid-topo: %s\n", braid__err_text());
            return 1;
        }
        char summary[256];
        braid__topo_summary(topo, summary, sizeof(summary));
        printf("%s: OK (%s)\n", argv[2], summary);
        braid__topo_free(topo);
        return 0;
    }
    return usage();
}
