/*
 * A small, bounded XML reader and writer for topology files. It reads the subset NCCL writes
 * (elements, attributes in single or double quotes, comments, the <?xml?> declaration, the five
 * predefined entities) into a tree, without recursion, so hostile input cannot exhaust the
 * stack; every error names the file and line.
 */
#ifndef BRAID_TOPOLOGY_TOPO_XML_H
#define BRAID_TOPOLOGY_TOPO_XML_H

#include <stddef.h>
#include <stdint.h>

#include "braid.h"

#define BRAID_XML_MAX_DEPTH 64
#define BRAID_XML_MAX_NAME  64
#define BRAID_XML_MAX_VALUE 4096
#define BRAID_XML_MAX_BYTES (256u << 20)

struct braid_xml_attr {
    char *name;
    char *value;
};

struct braid_xml_elem {
    char *name;
    int line;
    int nattrs, attrs_cap;
    struct braid_xml_attr *attrs;
    int nkids, kids_cap;
    struct braid_xml_elem **kids;
    struct braid_xml_elem *parent;
};

/* Parses len bytes of text into a tree rooted at the single top-level element. `file` names
 * the source in errors. */
braid_result_t braid__xml_parse(const char *text, size_t len, const char *file,
                                struct braid_xml_elem **root);
void braid__xml_free(struct braid_xml_elem *root);
/* The value of attribute `name`, NULL when absent. */
const char *braid__xml_get(const struct braid_xml_elem *e, const char *name);

/* Writer: appends to a growing buffer; a failed allocation is remembered and reported once by
 * braid__xml_out_finish(). */
struct braid_xml_out {
    char *buf;
    size_t len, cap;
    int failed;
};

void braid__xml_printf(struct braid_xml_out *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Appends ` name="value"` with value escaped; a NULL value writes nothing. */
void braid__xml_attr_str(struct braid_xml_out *out, const char *name, const char *value);
/* Appends ` name="value"` unless value == skip. */
void braid__xml_attr_int(struct braid_xml_out *out, const char *name, long long value,
                         long long skip);
void braid__xml_attr_hex(struct braid_xml_out *out, const char *name, long long value, int digits);
braid_result_t braid__xml_out_finish(struct braid_xml_out *out, char **text, size_t *len);

#endif
