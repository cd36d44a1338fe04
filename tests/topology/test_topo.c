/*
 * Topology unit tests: the reference systems (counts, path types, bandwidths, NIC affinity,
 * rails), dump/load identity, malformed files, partial files completed by probing, the probe of
 * this machine (hwloc and sysfs alike), settings, serialization and merging of hosts.
 *
 * Usage: test_topo [exhaustive]. The default suite runs in a few seconds; `exhaustive` adds the
 * full path matrix of the 1152-GPU cluster and every truncation point of a reference file.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/error.h"
#include "check_run.h"
#include "topology/topo.h"
#include "topology/topo_probe.h"

#ifndef BRAID_TOPO_DIR
#define BRAID_TOPO_DIR "topologies"
#endif

static int exhaustive;

static struct braid_topo *load(const char *name)
{
    char path[512];
    struct braid_topo *topo = NULL;
    snprintf(path, sizeof(path), "%s/%s", BRAID_TOPO_DIR, name);
    braid_result_t res = braid__topo_load_file(path, &topo);
    ck_assert_msg(res == BRAID_SUCCESS, "%s: %s", name, braid__err_text());
    return topo;
}

static struct braid_topo *load_text(const char *text)
{
    struct braid_topo *topo = NULL;
    braid_result_t res = braid__topo_load_buffer(text, strlen(text), "inline.xml", &topo);
    ck_assert_msg(res == BRAID_SUCCESS, "%s", braid__err_text());
    return topo;
}

/* Loads text that must fail; the error must name the line and contain `needle`. */
static void expect_error(const char *text, size_t len, int line, const char *needle)
{
    struct braid_topo *topo = NULL;
    braid__err_clear();
    braid_result_t res = braid__topo_load_buffer(text, len, "bad.xml", &topo);
    ck_assert_msg(res == BRAID_ERR_INVALID_ARGUMENT, "loaded: %.80s", text);
    ck_assert(topo == NULL);
    const char *msg = braid__err_text();
    char want[64];
    snprintf(want, sizeof(want), "bad.xml, line %d", line);
    ck_assert_msg(line <= 0 || strstr(msg, want), "no '%s' in: %s", want, msg);
    ck_assert_msg(!needle || strstr(msg, needle), "no '%s' in: %s", needle, msg);
}

static void gpu_path(struct braid_topo *t, int a, int b, int type, float bw)
{
    struct braid_topo_path p;
    ck_assert_int_eq(braid__topo_gpu_path(t, a, b, &p), BRAID_SUCCESS);
    ck_assert_msg(p.type == type && (bw < 0 || (p.bw > bw - 0.5f && p.bw < bw + 0.5f)),
                  "GPU %d-%d: %s %.1f, want %s %.1f", a, b, braid__topo_path_name(p.type),
                  (double)p.bw, braid__topo_path_name(type), (double)bw);
}

static void all_pairs(struct braid_topo *t, int first, int last, int type, float bw)
{
    for (int a = first; a <= last; a++)
        for (int b = first; b <= last; b++)
            if (a != b)
                gpu_path(t, a, b, type, bw);
}

static void counts(struct braid_topo *t, int hosts, int gpus, int cpus, int nics, int nvs)
{
    ck_assert_int_eq(t->nhosts, hosts);
    ck_assert_int_eq(braid__topo_ngpus(t), gpus);
    ck_assert_int_eq(t->ntype[BRAID_TOPO_CPU], cpus);
    ck_assert_int_eq(braid__topo_nnics(t), nics);
    ck_assert_int_eq(t->ntype[BRAID_TOPO_NVS], nvs);
    ck_assert_int_eq(t->ntype[BRAID_TOPO_NET], nics ? 1 : 0);
}

/* ---- reference systems ---- */

START_TEST(ref_dgx2)
{
    struct braid_topo *t = load("dgx2.xml");
    counts(t, 1, 16, 2, 8, 1);
    all_pairs(t, 0, 15, BRAID_PATH_NVL, 150.0f); /* 6 NVLink 2 links x 25 GB/s */
    for (int g = 0; g < 16; g++) {
        ck_assert_int_eq(braid__topo_gpu_nic(t, g), g / 2); /* two GPUs per NIC */
        struct braid_topo_path p;
        ck_assert_int_eq(braid__topo_gpu_nic_path(t, g, g / 2, &p), 0);
        ck_assert_int_eq(p.type, BRAID_PATH_PIX); /* GPU and NIC share a leaf switch */
    }
    braid__topo_free(t);
}
END_TEST

START_TEST(ref_dgx_h100)
{
    struct braid_topo *t = load("dgx-h100.xml");
    counts(t, 1, 8, 2, 8, 1);
    all_pairs(t, 0, 7, BRAID_PATH_NVL, 450.0f); /* 18 NVLink 4 links */
    struct braid_topo_path p;
    for (int g = 0; g < 8; g++) {
        ck_assert_int_eq(braid__topo_gpu_nic(t, g), g);
        ck_assert_int_eq(braid__topo_gpu_rail(t, g), g);
        ck_assert_int_eq(braid__topo_gpu_nic_path(t, g, g, &p), 0);
        ck_assert_int_eq(p.type, BRAID_PATH_PIX);
        ck_assert(p.bw > 62.0f && p.bw < 64.0f); /* PCIe Gen5 x16 */
    }
    /* GPU 0 reaches NIC 1 (same CPU) through the host bridge or an NVLink peer; NIC 4 (other
     * CPU) through GPU 4 over NVLink rather than across the sockets. */
    ck_assert_int_eq(braid__topo_gpu_nic_path(t, 0, 4, &p), 0);
    ck_assert_int_eq(p.type, BRAID_PATH_PXN);
    ck_assert(braid__topo_p2p_direct(t, 0, 7));
    braid__topo_free(t);
}
END_TEST

START_TEST(ref_hgx_blackwell)
{
    const char *files[] = {"hgx-b200.xml", "hgx-b300-nvl16.xml"};
    for (int f = 0; f < 2; f++) {
        struct braid_topo *t = load(files[f]);
        counts(t, 1, 8, 2, 8, 1);
        all_pairs(t, 0, 7, BRAID_PATH_NVL, 900.0f); /* 18 NVLink 5 links x 50 GB/s */
        int nic = braid__topo_nth(t, BRAID_TOPO_NIC, 0);
        ck_assert_int_eq(t->nodes[nic].speed, f == 0 ? 400000 : 800000);
        braid__topo_free(t);
    }
}
END_TEST

START_TEST(ref_nvl72)
{
    const char *files[] = {"gb200-nvl72.xml", "gb300-nvl72.xml"};
    for (int f = 0; f < 2; f++) {
        struct braid_topo *t = load(files[f]);
        counts(t, 18, 72, 36, 72, 1);
        all_pairs(t, 0, 71, BRAID_PATH_NVL, 900.0f);
        struct braid_topo_path p;
        for (int g = 0; g < 72; g++) {
            ck_assert_int_eq(braid__topo_gpu_nic(t, g), g);
            ck_assert_int_eq(braid__topo_gpu_rail(t, g), g % 4);
            ck_assert_int_eq(braid__topo_gpu_nic_path(t, g, g, &p), 0);
            ck_assert_int_eq(p.type, BRAID_PATH_P2C); /* C2C to Grace, PCIe to the NIC */
            ck_assert(braid__topo_p2p_direct(t, g, 71 - g) || g == 71 - g);
        }
        /* Each GPU has a C2C link of 10 x 22.5 GB/s to its Grace. */
        int g0 = braid__topo_nth(t, BRAID_TOPO_GPU, 0), c2c = 0;
        for (int l = 0; l < t->nodes[g0].nlinks; l++)
            c2c += t->nodes[g0].links[l].type == BRAID_LINK_C2C;
        ck_assert_int_eq(c2c, 1);
        braid__topo_free(t);
    }
}
END_TEST

START_TEST(ref_cluster_dgx_h100)
{
    struct braid_topo *t = load("cluster-4x-dgx-h100-ndr.xml");
    counts(t, 4, 32, 8, 32, 4);
    all_pairs(t, 0, 7, BRAID_PATH_NVL, 450.0f);
    gpu_path(t, 0, 8, BRAID_PATH_NET, 50.0f); /* NDR 400 Gb/s */
    gpu_path(t, 3, 27, BRAID_PATH_NET, 50.0f);
    ck_assert(!braid__topo_p2p_direct(t, 0, 8));
    for (int g = 0; g < 32; g++)
        ck_assert_int_eq(braid__topo_gpu_rail(t, g), g % 8);
    struct braid_topo_path p;
    ck_assert_int_eq(braid__topo_gpu_nic_path(t, 0, 8, &p), 0);
    ck_assert_int_eq(p.type, BRAID_PATH_NET);
    braid__topo_free(t);
}
END_TEST

START_TEST(ref_cluster_nvl72)
{
    struct braid_topo *t = load("cluster-8x-gb200-nvl72.xml");
    counts(t, 144, 576, 288, 576, 8);
    gpu_path(t, 0, 71, BRAID_PATH_NVL, 900.0f);
    gpu_path(t, 72, 143, BRAID_PATH_NVL, 900.0f);
    gpu_path(t, 0, 72, BRAID_PATH_NET, 100.0f); /* 800 Gb/s */
    gpu_path(t, 575, 1, BRAID_PATH_NET, 100.0f);
    braid__topo_free(t);
    t = load("cluster-16x-gb300-nvl72.xml");
    counts(t, 288, 1152, 576, 1152, 16);
    gpu_path(t, 1080, 1151, BRAID_PATH_NVL, 900.0f);
    gpu_path(t, 0, 1151, BRAID_PATH_NET, 100.0f);
    ck_assert_int_eq(braid__topo_gpu_rail(t, 1151), 3);
    if (exhaustive)
        for (int a = 0; a < 1152; a++)
            for (int b = 0; b < 1152; b++)
                if (a != b)
                    gpu_path(t, a, b, a / 72 == b / 72 ? BRAID_PATH_NVL : BRAID_PATH_NET, -1);
    braid__topo_free(t);
}
END_TEST

/* ---- dump / load identity ---- */

static void roundtrip(struct braid_topo *t, const char *what)
{
    char *a, *b;
    size_t la, lb;
    struct braid_topo *u;
    ck_assert_int_eq(braid__topo_dump_buffer(t, &a, &la), 0);
    ck_assert_msg(braid__topo_load_buffer(a, la, what, &u) == 0, "%s", braid__err_text());
    ck_assert_int_eq(braid__topo_dump_buffer(u, &b, &lb), 0);
    ck_assert_msg(la == lb && memcmp(a, b, la) == 0, "%s: dump, load, dump differs", what);
    ck_assert_int_eq(u->nnodes, t->nnodes);
    for (int i = 0; i < BRAID_TOPO_NODE_TYPES; i++)
        ck_assert_int_eq(u->ntype[i], t->ntype[i]);
    int n = braid__topo_ngpus(t) < 16 ? braid__topo_ngpus(t) : 16;
    for (int x = 0; x < n; x++) {
        for (int y = 0; y < n; y++) {
            struct braid_topo_path p, q;
            ck_assert_int_eq(braid__topo_gpu_path(t, x, y, &p), 0);
            ck_assert_int_eq(braid__topo_gpu_path(u, x, y, &q), 0);
            ck_assert(p.type == q.type && p.bw == q.bw);
        }
    }
    free(a);
    free(b);
    braid__topo_free(u);
}

START_TEST(dump_identity)
{
    const char *files[] = {"dgx2.xml",
                           "dgx-h100.xml",
                           "hgx-b200.xml",
                           "hgx-b300-nvl16.xml",
                           "gb200-nvl72.xml",
                           "gb300-nvl72.xml",
                           "cluster-4x-dgx-h100-ndr.xml",
                           "cluster-8x-gb200-nvl72.xml"};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        struct braid_topo *t = load(files[i]);
        roundtrip(t, files[i]);
        braid__topo_free(t);
    }
}
END_TEST

START_TEST(dump_file_roundtrip)
{
    struct braid_topo *t = load("dgx-h100.xml"), *u;
    char path[] = "/tmp/braid-topo-XXXXXX";
    int fd = mkstemp(path);
    ck_assert(fd >= 0);
    ck_assert_int_eq(braid__topo_dump_file(t, path), 0);
    ck_assert_int_eq(braid__topo_load_file(path, &u), 0);
    ck_assert_int_eq(braid__topo_ngpus(u), 8);
    unlink(path);
    braid__topo_free(u);
    braid__topo_free(t);
    ck_assert_int_eq(braid__topo_load_file("/nonexistent/x.xml", &u), BRAID_ERR_INVALID_ARGUMENT);
    ck_assert(strstr(braid__err_text(), "/nonexistent/x.xml"));
}
END_TEST

/* ---- malformed files ---- */

START_TEST(bad_syntax)
{
    const char *t1 = "<system version=\"1\">\n<cpu numaid=\"0\">\n<pci busid=\"0000:01:00.0\"";
    expect_error(t1, strlen(t1), 3, "truncated");
    const char *t2 = "<system version=\"1\">\n  <cpu numaid=\"0\">\n</system>\n";
    expect_error(t2, strlen(t2), 3, "does not match <cpu>");
    const char *t3 = "<system version=\"1\">\n<cpu numaid=\"0\"/>\n";
    expect_error(t3, strlen(t3), 3, "before </system>");
    const char *t4 = "<system version=\"1\"/>\n<system version=\"1\"/>\n";
    expect_error(t4, strlen(t4), 2, "second top-level");
    const char *t5 = "<system version=\"1\">hello</system>";
    expect_error(t5, strlen(t5), 1, "text outside");
    const char *t6 = "<system version=\"1\" version=\"1\"/>";
    expect_error(t6, strlen(t6), 1, "'version' is given twice");
    const char *t7 = "<system version=\"1\"><cpu numaid=0/></system>";
    expect_error(t7, strlen(t7), 1, "'numaid'");
    const char *t8 = "<!-- never closed\n<system/>";
    expect_error(t8, strlen(t8), 1, "comment");
    const char *t9 = "<nccl version=\"1\"/>";
    expect_error(t9, strlen(t9), 1, "not <system>");
    expect_error("", 0, 1, "empty");
    expect_error("<system a=\"&bogus;\"/>", 21, 1, "entity");
    const char t10[] = "<system>\0</system>";
    expect_error(t10, sizeof(t10) - 1, 1, "NUL");
}
END_TEST

START_TEST(bad_values)
{
    const char *t1 = "<system version=\"1\">\n<cpu numaid=\"0\">\n"
                     "<pci busid=\"0000:01:00.0\" class=\"0x030200\">\n"
                     "<gpu dev=\"abc\"/></pci></cpu></system>";
    expect_error(t1, strlen(t1), 4, "dev=\"abc\"");
    const char *t2 = "<system version=\"1\">\n<cpu numaid=\"0\">\n"
                     "<pci busid=\"0000:01:00.0\" class=\"0x020700\"><nic>\n"
                     "<net name=\"mlx5_0\" speed=\"99999999999999999999999\"/></nic></pci>"
                     "</cpu></system>";
    expect_error(t2, strlen(t2), 4, "speed=");
    const char *t3 = "<system version=\"1\">\n<cpu numaid=\"0\">\n"
                     "<pci busid=\"zz:01:00.0\" class=\"0x030200\"/></cpu></system>";
    expect_error(t3, strlen(t3), 3, "busid");
    const char *t4 = "<system version=\"1\">\n<cpu numaid=\"0\">\n"
                     "<pci busid=\"0000:01:00.0\" class=\"0x030200\" link_width=\"-4\"/>"
                     "</cpu></system>";
    expect_error(t4, strlen(t4), 3, "link_width");
    const char *t5 = "<system version=\"1\">\n<cpu numaid=\"0\">\n"
                     "<pci busid=\"0000:01:00.0\" link_speed=\"1e999 GT/s\"/></cpu></system>";
    expect_error(t5, strlen(t5), 3, "link_speed");
    const char *t6 = "<system version=\"2\"/>";
    expect_error(t6, strlen(t6), 1, "version");
    const char *t7 = "<system version=\"1\">\n<pci busid=\"0000:01:00.0\"/>\n</system>";
    expect_error(t7, strlen(t7), 2, "inside the <cpu>");
    const char *t8 = "<system version=\"1\"><cpu numaid=\"0\">\n<nic><net link_layer=\"FC\"/></nic>"
                     "</cpu></system>";
    expect_error(t8, strlen(t8), 2, "link_layer");
}
END_TEST

START_TEST(bad_cycles)
{
    /* A PCI device nested inside itself, a repeated device, an NVLink to itself. */
    const char *t1 = "<system version=\"1\">\n<cpu numaid=\"0\">\n"
                     "<pci busid=\"0000:01:00.0\" class=\"0x060400\">\n"
                     "<pci busid=\"0000:01:00.0\" class=\"0x060400\">\n"
                     "<pci busid=\"0000:02:00.0\" class=\"0x030200\"/></pci></pci></cpu></system>";
    expect_error(t1, strlen(t1), 4, "repeats the device of line 3");
    const char *t2 = "<system version=\"1\">\n<cpu numaid=\"0\">\n"
                     "<pci busid=\"0000:02:00.0\" class=\"0x030200\"><gpu sm=\"90\">\n"
                     "<nvlink target=\"0000:02:00.0\" tclass=\"0x030200\" count=\"2\"/>"
                     "</gpu></pci></cpu></system>";
    expect_error(t2, strlen(t2), 4, "cycle");
    const char *t3 = "<system version=\"1\">\n<cpu numaid=\"0\"/>\n<cpu numaid=\"0\"/></system>";
    expect_error(t3, strlen(t3), 3, "numaid");
}
END_TEST

START_TEST(bad_huge)
{
    /* A 1 MB attribute value, and elements nested 10000 deep: errors, not crashes. */
    size_t n = 1 << 20;
    char *big = malloc(n + 128);
    int o = sprintf(big, "<system version=\"1\">\n<cpu numaid=\"0\" affinity=\"");
    memset(big + o, 'f', n);
    strcpy(big + o + n, "\"/></system>");
    expect_error(big, strlen(big), 2, "affinity");
    free(big);
    char *deep = malloc(10000 * 6 + 64);
    o = sprintf(deep, "<system version=\"1\">");
    for (int i = 0; i < 10000; i++)
        o += sprintf(deep + o, "<pci>");
    expect_error(deep, (size_t)o, 1, "deeper than");
    free(deep);
    char name[200];
    memset(name, 'a', sizeof(name));
    name[0] = '<';
    name[sizeof(name) - 1] = '\0';
    expect_error(name, strlen(name), 1, "longer than");
}
END_TEST

START_TEST(bad_truncations)
{
    /* Every prefix of a real file either loads (a complete prefix cannot exist before the
     * last line) or fails with an error; none crashes. */
    char path[512], *text = malloc(1 << 20);
    snprintf(path, sizeof(path), "%s/dgx-h100.xml", BRAID_TOPO_DIR);
    FILE *f = fopen(path, "r");
    ck_assert(f != NULL);
    size_t len = fread(text, 1, 1 << 20, f);
    fclose(f);
    size_t step = exhaustive ? 1 : 61;
    for (size_t cut = 0; cut + 2 < len; cut += step) {
        struct braid_topo *t = NULL;
        braid_result_t res = braid__topo_load_buffer(text, cut, "cut.xml", &t);
        ck_assert_msg(res == BRAID_ERR_INVALID_ARGUMENT, "prefix of %zu bytes loaded", cut);
        ck_assert(strstr(braid__err_text(), "cut.xml, line"));
    }
    free(text);
}
END_TEST

START_TEST(unknown_elements_ignored)
{
    struct braid_topo *t = load_text(
        "<?xml version=\"1.0\"?>\n<!-- a comment -->\n<system version=\"1\">\n"
        "<future x=\"1\"><deeper/></future>\n<cpu numaid=\"0\" newattr=\"x\">\n"
        "<pci busid=\"0000:01:00.0\" class=\"0x030200\"><gpu dev='0' sm=\"80\"><mig/></gpu></pci>"
        "</cpu></system>");
    ck_assert_int_eq(braid__topo_ngpus(t), 1);
    ck_assert_int_eq(t->nodes[braid__topo_nth(t, BRAID_TOPO_GPU, 0)].sm, 80);
    braid__topo_free(t);
}
END_TEST

START_TEST(large_file)
{
    /* 100k elements: one host with 50k GPUs and 50k NICs loads in linear time. */
    size_t cap = 16u << 20;
    char *text = malloc(cap);
    int o = sprintf(text, "<system version=\"1\"><cpu numaid=\"0\">\n");
    for (int i = 0; i < 100000; i++)
        o += sprintf(text + o, "<pci busid=\"%04x:%02x:00.0\" class=\"0x0%d0%d00\"/>\n", i >> 8,
                     i & 0xff, i % 2 ? 2 : 3, i % 2 ? 7 : 2);
    o += sprintf(text + o, "</cpu></system>\n");
    struct braid_topo *t = NULL;
    ck_assert_msg(braid__topo_load_buffer(text, (size_t)o, "big.xml", &t) == 0, "%s",
                  braid__err_text());
    ck_assert_int_eq(braid__topo_ngpus(t), 50000);
    ck_assert_int_eq(braid__topo_nnics(t), 50000);
    gpu_path(t, 0, 49999, BRAID_PATH_PHB, -1);
    free(text);
    braid__topo_free(t);
}
END_TEST

/* ---- partial files, probing, settings ---- */

static const char *partial_h100 =
    "<system version=\"1\">\n<cpu numaid=\"0\">\n"
    "<pci busid=\"0000:14:00.0\" class=\"0x030200\" link_speed=\"32 GT/s\" link_width=\"16\"/>\n"
    "<pci busid=\"0000:34:00.0\" class=\"0x030200\"/>\n"
    "<pci busid=\"0000:17:00.0\" class=\"0x020700\"/>\n"
    "</cpu></system>\n";

START_TEST(partial_file)
{
    /* NCCL-style partial file: classes only. It loads on its own... */
    struct braid_topo *t = load_text(partial_h100);
    counts(t, 1, 2, 1, 1, 0);
    gpu_path(t, 0, 1, BRAID_PATH_PHB, -1);
    /* ...and probing (here: the full DGX H100 file standing in for the machine) fills SM
     * versions, NVLinks, NIC names, and adds the devices the file leaves out. */
    struct braid_topo *probed = load("dgx-h100.xml");
    ck_assert_msg(braid__topo_fill(t, probed) == 0, "%s", braid__err_text());
    ck_assert_int_eq(braid__topo_ngpus(t), 8);
    ck_assert_int_eq(braid__topo_nnics(t), 8);
    const struct braid_topo_node *g0 = &t->nodes[braid__topo_nth(t, BRAID_TOPO_GPU, 0)];
    ck_assert_int_eq(g0->sm, 90);
    ck_assert_int_eq(g0->dev, 0);
    ck_assert_int_eq(g0->link_width, 16);
    all_pairs(t, 0, 7, BRAID_PATH_NVL, 450.0f);
    const struct braid_topo_node *n0 = &t->nodes[braid__topo_nth(t, BRAID_TOPO_NIC, 0)];
    ck_assert_str_eq(n0->name, "mlx5_0");
    ck_assert_int_eq(n0->speed, 400000);
    roundtrip(t, "filled");
    braid__topo_free(probed);
    braid__topo_free(t);
}
END_TEST

START_TEST(probe_this_machine)
{
    struct braid_topo *t = NULL;
    ck_assert_msg(braid__topo_probe(&t) == 0, "%s", braid__err_text());
    ck_assert_int_eq(t->nhosts, 1);
    ck_assert_int_ge(t->ntype[BRAID_TOPO_CPU], 1);
    for (int g = 0; g < braid__topo_ngpus(t); g++)
        ck_assert_int_ge(braid__topo_gpu_nic(t, g), -1);
    roundtrip(t, "probed");
    braid__topo_free(t);
}
END_TEST

/* ---- the hwloc probe against the sysfs one ---- */

/* braid's probe table; without its first entry, the probes of a host without hwloc. */
static const struct braid_topo_probe *const with_hwloc[] = {
    &braid__probe_hwloc, &braid__probe_sysfs, &braid__probe_cuda, &braid__probe_verbs,
    &braid__probe_netdev};

/* The hwloc probe pointed at a library that does not exist, as on a host without hwloc. */
static braid_result_t missing_hwloc_run(struct braid_topo *topo, int host)
{
    return braid__probe_hwloc_lib(topo, host, "libhwloc-braid-test-missing.so.15");
}

static const struct braid_topo_probe missing_hwloc = {
    .name = "hwloc-missing",
    .run = missing_hwloc_run,
    .replaces = &braid__probe_sysfs,
};

static struct braid_topo *probe_table(const struct braid_topo_probe *const *table, size_t n)
{
    struct braid_topo *t = NULL;
    ck_assert_msg(braid__topo_probe_table(table, n, &t) == 0, "%s", braid__err_text());
    return t;
}

/* 1 when libhwloc loads here: the hwloc probe alone adds the CPUs. */
static int hwloc_available(void)
{
    const struct braid_topo_probe *const alone[] = {&braid__probe_hwloc};
    struct braid_topo *t = probe_table(alone, 1);
    int ok = t->ntype[BRAID_TOPO_CPU] > 0;
    braid__topo_free(t);
    if (!ok)
        fprintf(stderr, "note: libhwloc.so.15 is not loadable here; hwloc checks skipped\n");
    return ok;
}

static int same_str(const char *a, const char *b)
{
    return a && b ? strcmp(a, b) == 0 : a == b;
}

/* Every node of `type` in a has a twin in b: CPUs by NUMA id (same cores and identity),
 * devices and switches by bus id (NICs without one by name) below a CPU of the same NUMA id. */
static void same_nodes(const struct braid_topo *a, const struct braid_topo *b, int type)
{
    ck_assert_int_eq(a->ntype[type], b->ntype[type]);
    for (int k = 0; k < a->ntype[type]; k++) {
        const struct braid_topo_node *x = &a->nodes[a->by_type[type][k]];
        int j = -1;
        if (type == BRAID_TOPO_CPU)
            j = braid__topo_find_cpu(b, 0, x->numa);
        else if (x->busid)
            j = braid__topo_find_busid(b, type, 0, x->busid);
        for (int i = 0; j < 0 && !x->busid && i < b->nnodes; i++)
            if (b->nodes[i].type == type && same_str(b->nodes[i].name, x->name))
                j = i;
        ck_assert_msg(j >= 0, "%s %s numa %d: only one probe sees it", braid__topo_node_name(type),
                      x->busid ? x->busid : "", x->numa);
        const struct braid_topo_node *y = &b->nodes[j];
        ck_assert(same_str(x->affinity, y->affinity) && same_str(x->arch, y->arch));
        ck_assert(same_str(x->cpu_vendor, y->cpu_vendor) && x->model == y->model);
        ck_assert_int_eq(x->pci_class, y->pci_class);
        ck_assert_int_eq(x->link_width, y->link_width);
        ck_assert_int_eq(x->parent < 0, y->parent < 0);
        if (x->parent >= 0)
            ck_assert_int_eq(a->nodes[x->parent].type, b->nodes[y->parent].type);
    }
}

START_TEST(probe_hwloc_vs_sysfs)
{
    if (!hwloc_available())
        return;
    struct braid_topo *h = probe_table(with_hwloc, 5), *s = probe_table(with_hwloc + 1, 4);
    for (int type = 0; type < BRAID_TOPO_NODE_TYPES; type++)
        same_nodes(h, s, type);
    ck_assert_int_eq(h->nnodes, s->nnodes);
    roundtrip(h, "probed with hwloc");
    braid__topo_free(s);
    braid__topo_free(h);
}
END_TEST

START_TEST(probe_hwloc_missing)
{
    /* No libhwloc: the hwloc probe adds nothing, sysfs gives the same system as on its own. */
    const struct braid_topo_probe *const table[] = {&missing_hwloc, &braid__probe_sysfs,
                                                    &braid__probe_cuda, &braid__probe_verbs,
                                                    &braid__probe_netdev};
    struct braid_topo *m = probe_table(table, 5), *s = probe_table(with_hwloc + 1, 4);
    ck_assert_int_ge(m->ntype[BRAID_TOPO_CPU], 1);
    for (int type = 0; type < BRAID_TOPO_NODE_TYPES; type++)
        same_nodes(m, s, type);
    roundtrip(m, "probed without hwloc");
    braid__topo_free(s);
    braid__topo_free(m);
}
END_TEST

/* An hwloc 2 export of another machine: two sockets, a PCIe switch on the second above a GPU
 * and a NIC (root port 80:01.0, switch up 81:00.0, down 82:00.0 and 82:01.0). */
static const char *hwloc_xml =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE topology SYSTEM \"hwloc2.dtd\">\n"
    "<topology version=\"2.0\">\n"
    "<object type=\"Machine\" os_index=\"0\" cpuset=\"0x3\" complete_cpuset=\"0x3\" "
    "allowed_cpuset=\"0x3\" nodeset=\"0x3\" complete_nodeset=\"0x3\" allowed_nodeset=\"0x3\">\n"
    "<info name=\"Architecture\" value=\"x86_64\"/>\n"
    "<object type=\"Package\" os_index=\"0\" cpuset=\"0x1\" complete_cpuset=\"0x1\" "
    "nodeset=\"0x1\" complete_nodeset=\"0x1\">\n"
    "<info name=\"CPUVendor\" value=\"GenuineIntel\"/><info name=\"CPUModelNumber\" value=\"143\"/>"
    "<object type=\"NUMANode\" os_index=\"0\" cpuset=\"0x1\" complete_cpuset=\"0x1\" "
    "nodeset=\"0x1\" complete_nodeset=\"0x1\" local_memory=\"1073741824\"/>\n"
    "<object type=\"PU\" os_index=\"0\" cpuset=\"0x1\" complete_cpuset=\"0x1\" nodeset=\"0x1\" "
    "complete_nodeset=\"0x1\"/></object>\n"
    "<object type=\"Package\" os_index=\"1\" cpuset=\"0x2\" complete_cpuset=\"0x2\" "
    "nodeset=\"0x2\" complete_nodeset=\"0x2\">\n"
    "<info name=\"CPUVendor\" value=\"GenuineIntel\"/><info name=\"CPUModelNumber\" value=\"143\"/>"
    "<object type=\"NUMANode\" os_index=\"1\" cpuset=\"0x2\" complete_cpuset=\"0x2\" "
    "nodeset=\"0x2\" complete_nodeset=\"0x2\" local_memory=\"1073741824\"/>\n"
    "<object type=\"PU\" os_index=\"1\" cpuset=\"0x2\" complete_cpuset=\"0x2\" nodeset=\"0x2\" "
    "complete_nodeset=\"0x2\"/>\n"
    "<object type=\"Bridge\" bridge_type=\"0-1\" depth=\"0\" bridge_pci=\"0000:[80-85]\">\n"
    "<object type=\"Bridge\" bridge_type=\"1-1\" depth=\"1\" bridge_pci=\"0000:[81-85]\" "
    "pci_busid=\"0000:80:01.0\" pci_type=\"0604 [8086:0001] [0000:0000] 00\" "
    "pci_link_speed=\"63.0\">\n"
    "<object type=\"Bridge\" bridge_type=\"1-1\" depth=\"2\" bridge_pci=\"0000:[82-85]\" "
    "pci_busid=\"0000:81:00.0\" pci_type=\"0604 [1000:c030] [0000:0000] 00\" "
    "pci_link_speed=\"31.5\">\n"
    "<object type=\"Bridge\" bridge_type=\"1-1\" depth=\"3\" bridge_pci=\"0000:[83-83]\" "
    "pci_busid=\"0000:82:00.0\" pci_type=\"0604 [1000:c030] [0000:0000] 00\" "
    "pci_link_speed=\"31.5\">\n"
    "<object type=\"PCIDev\" pci_busid=\"0000:83:00.0\" pci_type=\"0302 [10de:2330] "
    "[10de:16c1] a1\" pci_link_speed=\"63.0\"/></object>\n"
    "<object type=\"Bridge\" bridge_type=\"1-1\" depth=\"3\" bridge_pci=\"0000:[84-84]\" "
    "pci_busid=\"0000:82:01.0\" pci_type=\"0604 [1000:c030] [0000:0000] 00\" "
    "pci_link_speed=\"31.5\">\n"
    "<object type=\"PCIDev\" pci_busid=\"0000:84:00.0\" pci_type=\"0207 [15b3:1021] "
    "[15b3:0041] 00\" pci_link_speed=\"63.0\"/></object>\n"
    "</object></object></object></object></object></topology>\n";

START_TEST(probe_hwloc_xmlfile)
{
    if (!hwloc_available())
        return;
    char path[] = "/tmp/braid-hwloc-XXXXXX";
    int fd = mkstemp(path);
    ck_assert(fd >= 0);
    ck_assert(write(fd, hwloc_xml, strlen(hwloc_xml)) == (ssize_t)strlen(hwloc_xml));
    close(fd);
    setenv("HWLOC_XMLFILE", path, 1);
    const struct braid_topo_probe *const alone[] = {&braid__probe_hwloc};
    struct braid_topo *t = probe_table(alone, 1);
    unsetenv("HWLOC_XMLFILE");
    unlink(path);
    ck_assert_int_eq(t->ntype[BRAID_TOPO_CPU], 2);
    const struct braid_topo_node *c1 = &t->nodes[braid__topo_find_cpu(t, 0, 1)];
    ck_assert_str_eq(c1->affinity, "2"); /* as sysfs writes CPU 1 of 2 possible */
    ck_assert_str_eq(c1->cpu_vendor, "GenuineIntel");
    ck_assert_int_eq(c1->model, 143);
    /* One switch (its upstream port), below the second socket; the root port is the CPU's. */
    ck_assert_int_eq(t->ntype[BRAID_TOPO_PCI], 1);
    int sw = braid__topo_find_busid(t, BRAID_TOPO_PCI, 0, "0000:81:00.0");
    ck_assert_int_ge(sw, 0);
    ck_assert_int_eq(t->nodes[sw].parent, braid__topo_find_cpu(t, 0, 1));
    ck_assert_int_eq(t->nodes[sw].pci_class, 0x060400);
    ck_assert_int_eq(t->nodes[sw].vendor, 0x1000);
    /* Not this machine: the link is sized by hwloc's own bandwidth. */
    ck_assert(t->nodes[sw].nlinks == 1 && t->nodes[sw].links[0].bw == 31.5f);
    roundtrip(t, "hwloc xml");
    braid__topo_free(t);
}
END_TEST

START_TEST(local_settings)
{
    char file[600];
    snprintf(file, sizeof(file), "%s/dgx-h100.xml", BRAID_TOPO_DIR);
    setenv("BRAID_TOPO_FILE", file, 1);
    struct braid_topo *t = NULL;
    ck_assert_msg(braid__topo_local(&t) == 0, "%s", braid__err_text());
    ck_assert_int_eq(braid__topo_ngpus(t), 8);
    braid__topo_free(t);
    setenv("BRAID_TOPO_FILE", "/nonexistent.xml", 1);
    ck_assert_int_eq(braid__topo_local(&t), BRAID_ERR_INVALID_ARGUMENT);
    ck_assert(strstr(braid__err_text(), "/nonexistent.xml"));
    unsetenv("BRAID_TOPO_FILE");
}
END_TEST

static const char *pcie_pair =
    "<system version=\"1\">\n"
    "<cpu numaid=\"0\"><pci busid=\"0000:10:00.0\" class=\"0x060400\">\n"
    "<pci busid=\"0000:11:00.0\" class=\"0x030200\"><gpu dev=\"0\" sm=\"80\"/></pci>\n"
    "<pci busid=\"0000:12:00.0\" class=\"0x030200\"><gpu dev=\"1\" sm=\"80\"/></pci>\n"
    "</pci></cpu>\n"
    "<cpu numaid=\"1\"><pci busid=\"0000:91:00.0\" class=\"0x030200\"><gpu dev=\"2\" sm=\"80\"/>"
    "</pci></cpu></system>\n";

START_TEST(p2p_level)
{
    struct braid_topo *t = load_text(pcie_pair);
    gpu_path(t, 0, 1, BRAID_PATH_PIX, 15.75f);
    gpu_path(t, 0, 2, BRAID_PATH_SYS, -1);
    unsetenv("BRAID_P2P_LEVEL");
    ck_assert(braid__topo_p2p_direct(t, 0, 1));
    ck_assert(!braid__topo_p2p_direct(t, 0, 2));
    setenv("BRAID_P2P_LEVEL", "SYS", 1);
    ck_assert(braid__topo_p2p_direct(t, 0, 2));
    setenv("BRAID_P2P_LEVEL", "LOC", 1);
    ck_assert(!braid__topo_p2p_direct(t, 0, 1));
    setenv("BRAID_P2P_LEVEL", "3", 1); /* NCCL's number for PHB */
    ck_assert(braid__topo_p2p_direct(t, 0, 1));
    ck_assert(!braid__topo_p2p_direct(t, 0, 2));
    setenv("BRAID_P2P_LEVEL", "bogus", 1); /* warned once, default PXB */
    ck_assert(braid__topo_p2p_direct(t, 0, 1));
    unsetenv("BRAID_P2P_LEVEL");
    braid__topo_free(t);
}
END_TEST

/* ---- exchange between hosts ---- */

START_TEST(serialize)
{
    struct braid_topo *t = load("dgx-h100.xml"), *u = NULL;
    void *buf;
    size_t len;
    ck_assert_int_eq(braid__topo_serialize(t, &buf, &len), 0);
    ck_assert_int_eq(braid__topo_deserialize(buf, len, &u), 0);
    ck_assert_int_eq(braid__topo_ngpus(u), 8);
    braid__topo_free(u);
    /* Corrupt bytes off the network are refused with an error, never a crash. */
    for (size_t i = 0; i < len; i += 97) {
        char *bad = malloc(len);
        memcpy(bad, buf, len);
        bad[i] = (char)(bad[i] ^ 0x5a);
        if (braid__topo_deserialize(bad, len, &u) == 0)
            braid__topo_free(u);
        else
            ck_assert(u == NULL);
        free(bad);
    }
    ck_assert_int_eq(braid__topo_deserialize(buf, 0, &u), BRAID_ERR_REMOTE);
    ck_assert_int_eq(braid__topo_deserialize(buf, (size_t)BRAID_TOPO_SERIAL_MAX + 1, &u),
                     BRAID_ERR_REMOTE);
    ck_assert_int_eq(braid__topo_deserialize(buf, len / 2, &u), BRAID_ERR_REMOTE);
    free(buf);
    braid__topo_free(t);
}
END_TEST

START_TEST(merge_hosts)
{
    struct braid_topo *h[4];
    for (int i = 0; i < 4; i++)
        h[i] = load("dgx-h100.xml");
    struct braid_topo *m = NULL;
    ck_assert_int_eq(braid__topo_merge(h, 4, &m), 0);
    counts(m, 4, 32, 8, 32, 4);
    all_pairs(m, 8, 15, BRAID_PATH_NVL, 450.0f);
    gpu_path(m, 0, 9, BRAID_PATH_NET, 50.0f);
    ck_assert_int_eq(braid__topo_gpu_nic(m, 9), 9);
    roundtrip(m, "merged");
    braid__topo_free(m);
    for (int i = 0; i < 4; i++)
        braid__topo_free(h[i]);
}
END_TEST

static const char *tray =
    "<system version=\"1\">\n"
    "<cpu numaid=\"0\" arch=\"aarch64\">\n"
    "<pci busid=\"0000:01:00.0\" class=\"0x030200\"><gpu dev=\"0\" sm=\"100\" clique=\"rackA\">"
    "<nvlink target=\"0000:80:00.0\" tclass=\"0x068000\" count=\"18\"/><c2c count=\"10\" "
    "bw=\"22.5\"/>"
    "</gpu></pci>\n"
    "<pci busid=\"0002:01:00.0\" class=\"0x020700\" link_speed=\"32 GT/s\" "
    "link_width=\"16\"><nic><net name=\"mlx5_0\" speed=\"400000\"/>"
    "</nic></pci></cpu></system>\n";

START_TEST(merge_nvl_domain)
{
    /* Two trays of one NVLink domain: after the merge their GPUs see each other over NVLink,
     * through one NVSwitch node; a tray of another domain is reached over the network. */
    struct braid_topo *h[3] = {load_text(tray), load_text(tray), NULL};
    char *other = strdup(tray);
    memcpy(strstr(other, "rackA"), "rackB", 5);
    h[2] = load_text(other);
    free(other);
    struct braid_topo *m = NULL;
    ck_assert_int_eq(braid__topo_merge(h, 3, &m), 0);
    counts(m, 3, 3, 3, 3, 2);
    gpu_path(m, 0, 1, BRAID_PATH_NVL, 900.0f);
    gpu_path(m, 0, 2, BRAID_PATH_NET, 50.0f);
    ck_assert(braid__topo_p2p_direct(m, 0, 1));
    ck_assert(!braid__topo_p2p_direct(m, 0, 2));
    struct braid_topo_path p;
    ck_assert_int_eq(braid__topo_gpu_nic_path(m, 0, 0, &p), 0);
    ck_assert_int_eq(p.type, BRAID_PATH_P2C);
    roundtrip(m, "merged trays");
    braid__topo_free(m);
    for (int i = 0; i < 3; i++)
        braid__topo_free(h[i]);
}
END_TEST

static Suite *topo_suite(void)
{
    Suite *s = suite_create("topology");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, exhaustive ? 3000 : 60);
    tcase_add_test(tc, ref_dgx2);
    tcase_add_test(tc, ref_dgx_h100);
    tcase_add_test(tc, ref_hgx_blackwell);
    tcase_add_test(tc, ref_nvl72);
    tcase_add_test(tc, ref_cluster_dgx_h100);
    tcase_add_test(tc, ref_cluster_nvl72);
    tcase_add_test(tc, dump_identity);
    tcase_add_test(tc, dump_file_roundtrip);
    tcase_add_test(tc, bad_syntax);
    tcase_add_test(tc, bad_values);
    tcase_add_test(tc, bad_cycles);
    tcase_add_test(tc, bad_huge);
    tcase_add_test(tc, bad_truncations);
    tcase_add_test(tc, unknown_elements_ignored);
    tcase_add_test(tc, large_file);
    tcase_add_test(tc, partial_file);
    tcase_add_test(tc, probe_this_machine);
    tcase_add_test(tc, probe_hwloc_vs_sysfs);
    tcase_add_test(tc, probe_hwloc_missing);
    tcase_add_test(tc, probe_hwloc_xmlfile);
    tcase_add_test(tc, local_settings);
    tcase_add_test(tc, p2p_level);
    tcase_add_test(tc, serialize);
    tcase_add_test(tc, merge_hosts);
    tcase_add_test(tc, merge_nvl_domain);
    suite_add_tcase(s, tc);
    return s;
}

int main(int argc, char **argv)
{
    exhaustive = argc > 1 && strcmp(argv[1], "exhaustive") == 0;
    return harness_run_suite(topo_suite());
}
