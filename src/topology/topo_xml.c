/*
 * Bounded XML reader and writer (see topo_xml.h). The reader keeps the current element and
 * walks up through parent pointers instead of recursing, and caps depth, name and value
 * lengths, so that a truncated, deep or huge file fails with a line number instead of
 * exhausting memory or the stack.
 */
#include "topology/topo_xml.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/check.h"

struct reader {
    const char *p, *end;
    const char *file;
    int line;
};

static braid_result_t parse_error(const struct reader *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static braid_result_t parse_error(const struct reader *r, const char *fmt, ...)
{
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    return braid__err(BRAID_ERR_INVALID_ARGUMENT,
                      "topology file %s, line %d: %s; fix the file (NCCL topology XML: "
                      "<system version=\"1\"><cpu ...><pci ...><gpu .../></pci></cpu></system>)",
                      r->file, r->line, what);
}

static braid_result_t oom(const struct reader *r)
{
    return braid__err(BRAID_ERR_NO_MEMORY, "topology file %s, line %d: out of memory", r->file,
                      r->line);
}

static void advance(struct reader *r, size_t n)
{
    for (size_t i = 0; i < n && r->p < r->end; i++, r->p++)
        if (*r->p == '\n')
            r->line++;
}

static void skip_space(struct reader *r)
{
    while (r->p < r->end && isspace((unsigned char)*r->p))
        advance(r, 1);
}

static int starts(const struct reader *r, const char *s)
{
    size_t n = strlen(s);
    return (size_t)(r->end - r->p) >= n && memcmp(r->p, s, n) == 0;
}

/* Skips to just past `end`, failing at end of input. */
static braid_result_t skip_past(struct reader *r, const char *end, const char *what)
{
    int line = r->line;
    while (r->p < r->end && !starts(r, end))
        advance(r, 1);
    if (r->p >= r->end) {
        r->line = line;
        return parse_error(r, "%s", what);
    }
    advance(r, strlen(end));
    return BRAID_SUCCESS;
}

static int name_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '-' || c == ':' || c == '.';
}

static braid_result_t read_name(struct reader *r, char **out)
{
    const char *start = r->p;
    while (r->p < r->end && name_char(*r->p) && r->p - start <= BRAID_XML_MAX_NAME)
        r->p++;
    size_t n = (size_t)(r->p - start);
    if (n == 0)
        return parse_error(r, r->p >= r->end ? "the file ends inside a tag (truncated?)"
                                             : "expected an element or attribute name");
    if (n > BRAID_XML_MAX_NAME)
        return parse_error(r, "a name is longer than %d characters", BRAID_XML_MAX_NAME);
    *out = strndup(start, n);
    return *out ? BRAID_SUCCESS : oom(r);
}

/* Decodes the five predefined entities and numeric character references below 128. */
static int decode_entity(const char *s, size_t n, char *c, size_t *used)
{
    static const struct {
        const char *text;
        char c;
    } ents[] = {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
    for (size_t i = 0; i < sizeof(ents) / sizeof(ents[0]); i++) {
        size_t len = strlen(ents[i].text);
        if (n >= len && memcmp(s, ents[i].text, len) == 0) {
            *c = ents[i].c;
            *used = len;
            return 1;
        }
    }
    if (n >= 4 && s[1] == '#') {
        long v = 0;
        size_t i = 2;
        while (i < n && i < 6 && isdigit((unsigned char)s[i]))
            v = v * 10 + (s[i++] - '0');
        if (i < n && s[i] == ';' && i > 2 && v > 0 && v < 128) {
            *c = (char)v;
            *used = i + 1;
            return 1;
        }
    }
    return 0;
}

static braid_result_t read_value(struct reader *r, const char *name, char **out)
{
    if (r->p >= r->end || (*r->p != '"' && *r->p != '\''))
        return parse_error(r, "attribute '%s': expected a quoted value", name);
    char quote = *r->p;
    advance(r, 1);
    const char *start = r->p;
    while (r->p < r->end && *r->p != quote && *r->p != '<' && r->p - start <= BRAID_XML_MAX_VALUE)
        advance(r, 1);
    if (r->p - start > BRAID_XML_MAX_VALUE)
        return parse_error(r, "attribute '%s': the value is longer than %d bytes", name,
                           BRAID_XML_MAX_VALUE);
    if (r->p >= r->end || *r->p != quote)
        return parse_error(r, "attribute '%s': the value is not closed by its quote", name);
    size_t n = (size_t)(r->p - start);
    char *v = malloc(n + 1);
    if (!v)
        return oom(r);
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        size_t used = 1;
        if (start[i] == '&' && !decode_entity(start + i, n - i, &v[o], &used)) {
            free(v);
            return parse_error(r, "attribute '%s': unknown '&' entity in the value", name);
        }
        if (start[i] != '&')
            v[o] = start[i];
        o++;
        i += used;
    }
    v[o] = '\0';
    advance(r, 1);
    *out = v;
    return BRAID_SUCCESS;
}

static braid_result_t elem_new(struct reader *r, struct braid_xml_elem *parent,
                               struct braid_xml_elem **out)
{
    struct braid_xml_elem *e = calloc(1, sizeof(*e));
    if (!e)
        return oom(r);
    e->line = r->line;
    e->parent = parent;
    if (parent) {
        if (parent->nkids == parent->kids_cap) {
            int cap = parent->kids_cap ? parent->kids_cap * 2 : 4;
            void *k = realloc(parent->kids, (size_t)cap * sizeof(*parent->kids));
            if (!k) {
                free(e);
                return oom(r);
            }
            parent->kids = k;
            parent->kids_cap = cap;
        }
        parent->kids[parent->nkids++] = e;
    }
    *out = e;
    return BRAID_SUCCESS;
}

static braid_result_t attr_add(struct reader *r, struct braid_xml_elem *e, char *name, char *value)
{
    for (int i = 0; i < e->nattrs; i++) {
        if (strcmp(e->attrs[i].name, name) == 0) {
            braid_result_t res =
                parse_error(r, "attribute '%s' is given twice in <%s>", name, e->name);
            free(name);
            free(value);
            return res;
        }
    }
    if (e->nattrs == e->attrs_cap) {
        int cap = e->attrs_cap ? e->attrs_cap * 2 : 8;
        void *a = realloc(e->attrs, (size_t)cap * sizeof(*e->attrs));
        if (!a) {
            free(name);
            free(value);
            return oom(r);
        }
        e->attrs = a;
        e->attrs_cap = cap;
    }
    e->attrs[e->nattrs].name = name;
    e->attrs[e->nattrs].value = value;
    e->nattrs++;
    return BRAID_SUCCESS;
}

/* Reads the attributes of an open tag up to '>' or '/>'; *closed is set for '/>'. */
static braid_result_t read_attrs(struct reader *r, struct braid_xml_elem *e, int *closed)
{
    for (;;) {
        skip_space(r);
        if (r->p >= r->end)
            return parse_error(r, "the file ends inside a tag (truncated?)");
        if (*r->p == '>') {
            advance(r, 1);
            *closed = 0;
            return BRAID_SUCCESS;
        }
        if (starts(r, "/>")) {
            advance(r, 2);
            *closed = 1;
            return BRAID_SUCCESS;
        }
        char *name = NULL, *value = NULL;
        BRAID_CHECK(read_name(r, &name));
        skip_space(r);
        if (r->p >= r->end || *r->p != '=') {
            braid_result_t res = parse_error(r, "expected '=' after attribute '%s'", name);
            free(name);
            return res;
        }
        advance(r, 1);
        skip_space(r);
        braid_result_t res = read_value(r, name, &value);
        if (res < 0) {
            free(name);
            return res;
        }
        BRAID_CHECK(attr_add(r, e, name, value));
    }
}

static braid_result_t close_tag(struct reader *r, struct braid_xml_elem **cur)
{
    advance(r, 2);
    char *name = NULL;
    BRAID_CHECK(read_name(r, &name));
    skip_space(r);
    /* name is freed before the message is built, so compare first. */
    int ok = r->p < r->end && *r->p == '>' && *cur && strcmp(name, (*cur)->name) == 0;
    free(name);
    if (!ok)
        return *cur ? parse_error(r, "a closing tag does not match <%s> opened on line %d",
                                  (*cur)->name, (*cur)->line)
                    : parse_error(r, "a closing tag has no open element");
    advance(r, 1);
    *cur = (*cur)->parent;
    return BRAID_SUCCESS;
}

static braid_result_t open_tag(struct reader *r, struct braid_xml_elem **cur,
                               struct braid_xml_elem **root, int *depth)
{
    if (!*cur && *root)
        return parse_error(r, "a second top-level element (only one <system> is allowed)");
    if (*depth >= BRAID_XML_MAX_DEPTH)
        return parse_error(r, "elements are nested deeper than 64 levels");
    advance(r, 1);
    struct braid_xml_elem *e = NULL;
    BRAID_CHECK(elem_new(r, *cur, &e));
    if (!*root)
        *root = e;
    BRAID_CHECK(read_name(r, &e->name));
    int closed = 0;
    BRAID_CHECK(read_attrs(r, e, &closed));
    if (!closed) {
        *cur = e;
        (*depth)++;
    }
    return BRAID_SUCCESS;
}

static braid_result_t parse_loop(struct reader *r, struct braid_xml_elem **root)
{
    struct braid_xml_elem *cur = NULL;
    int depth = 0;
    for (;;) {
        skip_space(r);
        if (r->p >= r->end)
            break;
        if (starts(r, "<!--")) {
            BRAID_CHECK(skip_past(r, "-->", "a comment is not closed by -->"));
        } else if (starts(r, "<?")) {
            BRAID_CHECK(skip_past(r, "?>", "a <? declaration is not closed by ?>"));
        } else if (starts(r, "<!")) {
            BRAID_CHECK(skip_past(r, ">", "a <! declaration is not closed"));
        } else if (starts(r, "</")) {
            BRAID_CHECK(close_tag(r, &cur));
            depth--;
        } else if (*r->p == '<') {
            BRAID_CHECK(open_tag(r, &cur, root, &depth));
        } else {
            return parse_error(r, "text outside of tags (topology files hold only elements)");
        }
    }
    if (cur)
        return parse_error(r, "the file ends before </%s> (opened on line %d; truncated?)",
                           cur->name, cur->line);
    if (!*root)
        return parse_error(r, "no element found (empty file?)");
    return BRAID_SUCCESS;
}

braid_result_t braid__xml_parse(const char *text, size_t len, const char *file,
                                struct braid_xml_elem **root)
{
    struct reader r = {.p = text, .end = text + len, .file = file ? file : "(buffer)", .line = 1};
    *root = NULL;
    if (len > BRAID_XML_MAX_BYTES)
        return parse_error(&r, "the file is larger than 256 MiB");
    if (memchr(text, '\0', len))
        return parse_error(&r, "the file holds a NUL byte (not a text file?)");
    braid_result_t res = parse_loop(&r, root);
    if (res < 0) {
        braid__xml_free(*root);
        *root = NULL;
    }
    return res;
}

static void elem_free_one(struct braid_xml_elem *e)
{
    for (int i = 0; i < e->nattrs; i++) {
        free(e->attrs[i].name);
        free(e->attrs[i].value);
    }
    free(e->attrs);
    free(e->kids);
    free(e->name);
    free(e);
}

void braid__xml_free(struct braid_xml_elem *root)
{
    /* Post-order walk without recursion: descend to a leaf, free it, pop back up. nkids counts
     * the children still to free. */
    struct braid_xml_elem *e = root;
    while (e) {
        if (e->nkids > 0) {
            e = e->kids[--e->nkids];
            continue;
        }
        struct braid_xml_elem *parent = e == root ? NULL : e->parent;
        elem_free_one(e);
        e = parent;
    }
}

const char *braid__xml_get(const struct braid_xml_elem *e, const char *name)
{
    for (int i = 0; i < e->nattrs; i++)
        if (strcmp(e->attrs[i].name, name) == 0)
            return e->attrs[i].value;
    return NULL;
}

/* ---- writer ---- */

static void out_reserve(struct braid_xml_out *out, size_t more)
{
    if (out->failed || out->len + more + 1 <= out->cap)
        return;
    size_t cap = out->cap ? out->cap : 4096;
    while (cap < out->len + more + 1)
        cap *= 2;
    char *b = realloc(out->buf, cap);
    if (!b) {
        out->failed = 1;
        return;
    }
    out->buf = b;
    out->cap = cap;
}

void braid__xml_printf(struct braid_xml_out *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        out->failed = 1;
        return;
    }
    out_reserve(out, (size_t)n);
    if (out->failed)
        return;
    va_start(ap, fmt);
    vsnprintf(out->buf + out->len, out->cap - out->len, fmt, ap);
    va_end(ap);
    out->len += (size_t)n;
}

void braid__xml_attr_str(struct braid_xml_out *out, const char *name, const char *value)
{
    if (!value)
        return;
    braid__xml_printf(out, " %s=\"", name);
    for (const char *c = value; *c; c++) {
        switch (*c) {
        case '&':
            braid__xml_printf(out, "&amp;");
            break;
        case '<':
            braid__xml_printf(out, "&lt;");
            break;
        case '>':
            braid__xml_printf(out, "&gt;");
            break;
        case '"':
            braid__xml_printf(out, "&quot;");
            break;
        default:
            braid__xml_printf(out, "%c", *c);
        }
    }
    braid__xml_printf(out, "\"");
}

void braid__xml_attr_int(struct braid_xml_out *out, const char *name, long long value,
                         long long skip)
{
    if (value != skip)
        braid__xml_printf(out, " %s=\"%lld\"", name, value);
}

void braid__xml_attr_hex(struct braid_xml_out *out, const char *name, long long value, int digits)
{
    if (value >= 0)
        braid__xml_printf(out, " %s=\"0x%0*llx\"", name, digits, (unsigned long long)value);
}

braid_result_t braid__xml_out_finish(struct braid_xml_out *out, char **text, size_t *len)
{
    if (out->failed || !out->buf) {
        free(out->buf);
        return braid__err(BRAID_ERR_NO_MEMORY, "topology: out of memory writing XML (%zu bytes)",
                          out->len);
    }
    *text = out->buf;
    *len = out->len;
    return BRAID_SUCCESS;
}
