/*
 * Typed, range-checked attribute getters for topology files (see topo_attr.h).
 */
#include "topology/topo_attr.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/check.h"
#include "base/parse.h"

static braid_result_t bad_value(const char *file, const struct braid_xml_elem *e, const char *name,
                                const char *value, const char *expected)
{
    /* Long values are cut so that the message stays readable. */
    return braid__err(BRAID_ERR_INVALID_ARGUMENT,
                      "topology file %s, line %d: <%s> attribute %s=\"%.40s%s\" is not %s; fix "
                      "the value or remove the attribute",
                      file, e->line, e->name, name, value, strlen(value) > 40 ? "..." : "",
                      expected);
}

braid_result_t braid__attr_int(const char *file, const struct braid_xml_elem *e, const char *name,
                               int64_t min, int64_t max, int64_t dflt, int64_t *out)
{
    const char *v = braid__xml_get(e, name);
    if (!v) {
        *out = dflt;
        return BRAID_SUCCESS;
    }
    int64_t x;
    if (braid__parse_i64(v, BRAID_PARSE_HEX | BRAID_PARSE_TRIM, min, max, &x) != BRAID_PARSE_OK) {
        char expected[96];
        snprintf(expected, sizeof(expected), "an integer in [%lld, %lld]", (long long)min,
                 (long long)max);
        return bad_value(file, e, name, braid__xml_get(e, name), expected);
    }
    *out = x;
    return BRAID_SUCCESS;
}

braid_result_t braid__attr_u64(const char *file, const struct braid_xml_elem *e, const char *name,
                               uint64_t *out)
{
    const char *v = braid__xml_get(e, name);
    *out = 0;
    if (!v)
        return BRAID_SUCCESS;
    uint64_t x;
    if (braid__parse_u64(v, BRAID_PARSE_HEX, &x) != BRAID_PARSE_OK)
        return bad_value(file, e, name, v, "an unsigned 64-bit integer (such as 0x1c34da0300f1)");
    *out = x;
    return BRAID_SUCCESS;
}

braid_result_t braid__attr_float(const char *file, const struct braid_xml_elem *e, const char *name,
                                 double min, double max, double dflt, double *out)
{
    const char *v = braid__xml_get(e, name);
    if (!v) {
        *out = dflt;
        return BRAID_SUCCESS;
    }
    char *end = NULL;
    errno = 0;
    double x = strtod(v, &end);
    while (end && isspace((unsigned char)*end))
        end++;
    if (errno == ERANGE || end == v || *end != '\0' || !isfinite(x) || x < min || x > max) {
        char expected[96];
        snprintf(expected, sizeof(expected), "a number in [%g, %g]", min, max);
        return bad_value(file, e, name, v, expected);
    }
    *out = x;
    return BRAID_SUCCESS;
}

braid_result_t braid__attr_speed(const char *file, const struct braid_xml_elem *e, float *gts)
{
    const char *v = braid__xml_get(e, "link_speed");
    *gts = 0.0f;
    if (!v || strncasecmp(v, "unknown", 7) == 0 || v[0] == '\0')
        return BRAID_SUCCESS;
    char *end = NULL;
    errno = 0;
    double x = strtod(v, &end);
    while (end && isspace((unsigned char)*end))
        end++;
    int unit_ok = end && (*end == '\0' || strncasecmp(end, "GT/s", 4) == 0);
    if (errno == ERANGE || end == v || !unit_ok || !isfinite(x) || x < 0.0 || x > 1024.0)
        return bad_value(file, e, "link_speed", v, "a PCIe speed such as \"16 GT/s\"");
    *gts = (float)x;
    return BRAID_SUCCESS;
}

int braid__busid_normalize(const char *in, char *out, int outlen)
{
    /* Accepts "[domain:]bus:dev.fn" with a domain of up to 8 hex digits (NVML writes 8). */
    unsigned long dom = 0, bus = 0, dev = 0, fn = 0;
    int n = 0;
    size_t len = strlen(in);
    if (len == 0 || len > 20)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!isxdigit((unsigned char)in[i]) && in[i] != ':' && in[i] != '.')
            return 0;
    if (sscanf(in, "%lx:%lx:%lx.%lx%n", &dom, &bus, &dev, &fn, &n) == 4 && (size_t)n == len) {
    } else if (sscanf(in, "%lx:%lx.%lx%n", &bus, &dev, &fn, &n) == 3 && (size_t)n == len) {
        dom = 0;
    } else {
        return 0;
    }
    if (dom > 0xffffffffUL || bus > 0xff || dev > 0x1f || fn > 0x7)
        return 0;
    snprintf(out, (size_t)outlen, "%04lx:%02lx:%02lx.%lx", dom, bus, dev, fn);
    return 1;
}

braid_result_t braid__attr_busid(const char *file, const struct braid_xml_elem *e, const char *name,
                                 char *out)
{
    const char *v = braid__xml_get(e, name);
    out[0] = '\0';
    if (!v)
        return BRAID_SUCCESS;
    if (!braid__busid_normalize(v, out, 32))
        return bad_value(file, e, name, v, "a PCI bus id such as \"0000:07:00.0\"");
    return BRAID_SUCCESS;
}

braid_result_t braid__attr_enum(const char *file, const struct braid_xml_elem *e, const char *name,
                                const char *const *names, int nnames, int dflt, int *out)
{
    const char *v = braid__xml_get(e, name);
    *out = dflt;
    if (!v)
        return BRAID_SUCCESS;
    for (int i = 0; i < nnames; i++) {
        if (names[i] && strcasecmp(v, names[i]) == 0) {
            *out = i;
            return BRAID_SUCCESS;
        }
    }
    char expected[160] = "one of";
    for (int i = 0; i < nnames; i++)
        if (names[i])
            snprintf(expected + strlen(expected), sizeof(expected) - strlen(expected), " %s",
                     names[i]);
    return bad_value(file, e, name, v, expected);
}

int braid__pcie_gen(float gts)
{
    if (gts <= 0.0f)
        return 0;
    if (gts < 4.0f)
        return 1;
    if (gts < 7.0f)
        return 2;
    if (gts < 12.0f)
        return 3;
    if (gts < 24.0f)
        return 4;
    if (gts < 48.0f)
        return 5;
    return 6;
}
