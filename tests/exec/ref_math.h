/*
 * Reference arithmetic for the dtype tests, written from the format definitions with frexp,
 * ldexp and nearbyint on doubles. It shares no code and no method with src/exec/dtype_math.h
 * (which works on bit patterns in float32), so the two agreeing is evidence, not tautology.
 */
#ifndef BRAID_TESTS_EXEC_REF_MATH_H
#define BRAID_TESTS_EXEC_REF_MATH_H

#include <math.h>
#include <stdint.h>

typedef enum {
    REF_KIND_IEEE, /* all-ones exponent: infinity (mantissa 0) or NaN; overflow gives infinity */
    REF_KIND_E4M3, /* OCP E4M3: only S.1111.111 is NaN, no infinity; overflow saturates */
} ref_kind_t;

typedef struct {
    const char *name;
    int mbits; /* stored mantissa bits */
    int ebits; /* exponent bits */
    int bias;
    ref_kind_t kind;
} ref_fmt_t;

static const ref_fmt_t REF_F16 = {"float16", 10, 5, 15, REF_KIND_IEEE};
static const ref_fmt_t REF_BF16 = {"bfloat16", 7, 8, 127, REF_KIND_IEEE};
static const ref_fmt_t REF_F32 = {"float32", 23, 8, 127, REF_KIND_IEEE};
static const ref_fmt_t REF_E4M3 = {"fp8_e4m3", 3, 4, 7, REF_KIND_E4M3};
static const ref_fmt_t REF_E5M2 = {"fp8_e5m2", 2, 5, 15, REF_KIND_IEEE};

/* The largest finite value: the top exponent below infinity with a full mantissa, or for
 * E4M3 the top exponent with every mantissa bit but the last (which would be NaN). */
static inline double ref_max_finite(const ref_fmt_t *f)
{
    int full = 1 << f->mbits;
    if (f->kind == REF_KIND_E4M3)
        return ldexp((double)(2 * full - 2), (1 << f->ebits) - 1 - f->bias - f->mbits);
    return ldexp((double)(2 * full - 1), (1 << f->ebits) - 2 - f->bias - f->mbits);
}

/* The value a bit pattern of format f stands for. */
static inline double ref_decode(const ref_fmt_t *f, uint32_t bits)
{
    uint32_t m = bits & ((1u << f->mbits) - 1u);
    uint32_t e = (bits >> f->mbits) & ((1u << f->ebits) - 1u);
    int negative = (bits >> (f->mbits + f->ebits)) & 1u;
    uint32_t e_all = (1u << f->ebits) - 1u;
    double v;
    if (f->kind == REF_KIND_IEEE && e == e_all)
        v = m ? NAN : INFINITY;
    else if (f->kind == REF_KIND_E4M3 && e == e_all && m == (1u << f->mbits) - 1u)
        v = NAN;
    else if (e == 0)
        v = ldexp((double)m, 1 - f->bias - f->mbits);
    else
        v = ldexp((double)((1u << f->mbits) + m), (int)e - f->bias - f->mbits);
    return negative ? -v : v;
}

/* x rounded to format f: nearest, ties to even (nearbyint in the default rounding mode), with
 * the format's subnormal spacing below its smallest normal, then its overflow rule. */
static inline double ref_round(const ref_fmt_t *f, double x)
{
    if (isnan(x))
        return x;
    double max = ref_max_finite(f);
    if (isinf(x))
        return f->kind == REF_KIND_E4M3 ? copysign(max, x) : x;
    if (x == 0)
        return x;
    int e;
    frexp(x, &e); /* |x| = m * 2^e, m in [0.5, 1): the leading bit is 2^(e-1) */
    int lead = e - 1 < 1 - f->bias ? 1 - f->bias : e - 1;
    double quantum = ldexp(1.0, lead - f->mbits);
    double r = nearbyint(x / quantum) * quantum;
    if (r == 0)
        r = copysign(0.0, x);
    if (fabs(r) > max)
        return f->kind == REF_KIND_E4M3 ? copysign(max, x) : copysign(INFINITY, x);
    return r;
}

/* Same value, same sign of zero, or both NaN. */
static inline int ref_same(double got, double want)
{
    if (isnan(want))
        return isnan(got);
    return got == want && signbit(got) == signbit(want);
}

/* A small deterministic generator (splitmix64), so that a failure reproduces. */
static inline uint64_t ref_rand(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

#endif
