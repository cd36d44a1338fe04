#include "base/parse.h"

#include <ctype.h>

/* Reads digits of `radix` from *p into *out; returns 0 on overflow or when there are none. */
static int read_digits(const char **p, unsigned radix, uint64_t *out)
{
    uint64_t v = 0;
    const char *s = *p;
    for (; *s; s++) {
        unsigned d;
        if (*s >= '0' && *s <= '9')
            d = (unsigned)(*s - '0');
        else if (radix == 16 && isxdigit((unsigned char)*s))
            d = (unsigned)(tolower((unsigned char)*s) - 'a' + 10);
        else
            break;
        if (v > (UINT64_MAX - d) / radix)
            return 0;
        v = v * radix + d;
    }
    if (s == *p)
        return 0;
    *p = s;
    *out = v;
    return 1;
}

/* Parses the magnitude after an optional sign; *neg tells the sign. */
static enum braid_parse_status magnitude(const char *text, int flags, int sign_ok, int *neg,
                                         uint64_t *out)
{
    const char *p = text;
    if (flags & BRAID_PARSE_TRIM)
        while (isspace((unsigned char)*p))
            p++;
    *neg = 0;
    if (*p == '+' || *p == '-') {
        if (!sign_ok && *p == '-')
            return BRAID_PARSE_MALFORMED;
        *neg = *p == '-';
        p++;
    }
    unsigned radix = 10;
    if ((flags & BRAID_PARSE_HEX) && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        radix = 16;
        p += 2;
    }
    const char *digits = p;
    if (!read_digits(&p, radix, out))
        return p == digits && isdigit((unsigned char)*p) ? BRAID_PARSE_RANGE
                                                         : BRAID_PARSE_MALFORMED;
    if (flags & BRAID_PARSE_TRIM)
        while (isspace((unsigned char)*p))
            p++;
    return *p == '\0' ? BRAID_PARSE_OK : BRAID_PARSE_MALFORMED;
}

enum braid_parse_status braid__parse_i64(const char *text, int flags, int64_t min, int64_t max,
                                         int64_t *out)
{
    int neg;
    uint64_t mag;
    if (!text)
        return BRAID_PARSE_MALFORMED;
    enum braid_parse_status st = magnitude(text, flags, 1, &neg, &mag);
    if (st != BRAID_PARSE_OK)
        return st;
    if (mag > (uint64_t)INT64_MAX + (neg ? 1u : 0u))
        return BRAID_PARSE_RANGE;
    int64_t v = neg ? (int64_t)(0 - mag) : (int64_t)mag;
    if (v < min || v > max)
        return BRAID_PARSE_RANGE;
    *out = v;
    return BRAID_PARSE_OK;
}

enum braid_parse_status braid__parse_u64(const char *text, int flags, uint64_t *out)
{
    int neg;
    uint64_t mag;
    if (!text)
        return BRAID_PARSE_MALFORMED;
    enum braid_parse_status st = magnitude(text, flags, 0, &neg, &mag);
    if (st == BRAID_PARSE_OK)
        *out = mag;
    return st;
}
