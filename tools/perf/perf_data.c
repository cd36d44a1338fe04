/*
 * Inputs and expected outputs of braid-perf's check. The conversions for half, bfloat16 and
 * fp8 are written here from the formats' definitions rather than taken from braid, so that a
 * conversion bug in the library shows up as #wrong instead of cancelling out.
 */
#include "perf_data.h"

#include <float.h>
#include <math.h>
#include <string.h>

size_t perf_dtype_size(braid_dtype_t dtype)
{
    static const size_t sizes[BRAID_NUM_DTYPES] = {1, 1, 4, 4, 8, 8, 2, 2, 4, 8, 1, 1};
    return (unsigned)dtype < BRAID_NUM_DTYPES ? sizes[dtype] : 0;
}

static int is_float(braid_dtype_t dt)
{
    return dt >= BRAID_FLOAT16 && dt <= BRAID_FP8_E5M2;
}

/* ---- small floats --------------------------------------------------------------------------- */

typedef struct {
    int ebits, mbits, bias;
    int ieee; /* all-ones exponent means inf/NaN (E4M3 uses it for normal numbers) */
} minifloat_t;

static const minifloat_t fmt_half = {5, 10, 15, 1};
static const minifloat_t fmt_e4m3 = {4, 3, 7, 0};
static const minifloat_t fmt_e5m2 = {5, 2, 15, 1};

static double minifloat_decode(unsigned bits, const minifloat_t *f)
{
    unsigned emax = (1u << f->ebits) - 1, mmax = (1u << f->mbits) - 1;
    unsigned sign = bits >> (f->ebits + f->mbits) & 1;
    unsigned e = bits >> f->mbits & emax, m = bits & mmax;
    double v;

    if (e == emax && f->ieee)
        v = m ? NAN : INFINITY;
    else if (e == emax && m == mmax)
        v = NAN; /* E4M3's only NaN encoding */
    else if (e == 0)
        v = ldexp((double)m, 1 - f->bias - f->mbits);
    else
        v = ldexp(1.0 + (double)m / (double)(1u << f->mbits), (int)e - f->bias);
    return sign ? -v : v;
}

/* Round-to-nearest-even for normal numbers, which all values used by the check are. */
static unsigned minifloat_encode(double v, const minifloat_t *f)
{
    unsigned sign = 0, e, m;
    int exp2;
    double frac, scaled, rounded;

    if (v < 0) {
        sign = 1u << (f->ebits + f->mbits);
        v = -v;
    }
    if (v == 0.0)
        return sign;
    frac = frexp(v, &exp2); /* v = frac * 2^exp2, frac in [0.5, 1) */
    scaled = (2.0 * frac - 1.0) * (double)(1u << f->mbits);
    rounded = nearbyint(scaled);
    e = (unsigned)(exp2 - 1 + f->bias);
    m = (unsigned)rounded;
    if (m == 1u << f->mbits) {
        m = 0;
        e++;
    }
    return sign | e << f->mbits | m;
}

static double bf16_decode(uint16_t bits)
{
    uint32_t u = (uint32_t)bits << 16;
    float x;
    memcpy(&x, &u, sizeof(x));
    return x;
}

static uint16_t bf16_encode(double v)
{
    float x = (float)v;
    uint32_t u;

    memcpy(&u, &x, sizeof(u));
    u += 0x7fffu + (u >> 16 & 1); /* round to nearest even on the dropped 16 bits */
    return (uint16_t)(u >> 16);
}

/* ---- element access ------------------------------------------------------------------------- */

/* Integer elements as int64 bit patterns: sign-extended for signed, zero-extended otherwise. */
static int64_t load_int(const void *buf, size_t i, braid_dtype_t dt)
{
    switch (dt) {
    case BRAID_INT8:
        return ((const int8_t *)buf)[i];
    case BRAID_UINT8:
        return ((const uint8_t *)buf)[i];
    case BRAID_INT32:
        return ((const int32_t *)buf)[i];
    case BRAID_UINT32:
        return ((const uint32_t *)buf)[i];
    case BRAID_INT64:
        return ((const int64_t *)buf)[i];
    default:
        return (int64_t)((const uint64_t *)buf)[i];
    }
}

/* Wraps v to the dtype's width, as two's complement arithmetic in that type would. */
static int64_t wrap_int(int64_t v, braid_dtype_t dt)
{
    switch (dt) {
    case BRAID_INT8:
        return (int8_t)v;
    case BRAID_UINT8:
        return (uint8_t)v;
    case BRAID_INT32:
        return (int32_t)v;
    case BRAID_UINT32:
        return (uint32_t)v;
    default:
        return v;
    }
}

double perf_load(const void *buf, size_t i, braid_dtype_t dt)
{
    switch (dt) {
    case BRAID_FLOAT16:
        return minifloat_decode(((const uint16_t *)buf)[i], &fmt_half);
    case BRAID_BFLOAT16:
        return bf16_decode(((const uint16_t *)buf)[i]);
    case BRAID_FLOAT32:
        return ((const float *)buf)[i];
    case BRAID_FLOAT64:
        return ((const double *)buf)[i];
    case BRAID_FP8_E4M3:
        return minifloat_decode(((const uint8_t *)buf)[i], &fmt_e4m3);
    case BRAID_FP8_E5M2:
        return minifloat_decode(((const uint8_t *)buf)[i], &fmt_e5m2);
    case BRAID_UINT64:
        return (double)(uint64_t)load_int(buf, i, dt);
    default:
        return (double)load_int(buf, i, dt);
    }
}

void perf_store(void *buf, size_t i, braid_dtype_t dt, double v)
{
    switch (dt) {
    case BRAID_INT8:
        ((int8_t *)buf)[i] = (int8_t)v;
        break;
    case BRAID_UINT8:
        ((uint8_t *)buf)[i] = (uint8_t)v;
        break;
    case BRAID_INT32:
        ((int32_t *)buf)[i] = (int32_t)v;
        break;
    case BRAID_UINT32:
        ((uint32_t *)buf)[i] = (uint32_t)v;
        break;
    case BRAID_INT64:
        ((int64_t *)buf)[i] = (int64_t)v;
        break;
    case BRAID_UINT64:
        ((uint64_t *)buf)[i] = (uint64_t)v;
        break;
    case BRAID_FLOAT16:
        ((uint16_t *)buf)[i] = (uint16_t)minifloat_encode(v, &fmt_half);
        break;
    case BRAID_BFLOAT16:
        ((uint16_t *)buf)[i] = bf16_encode(v);
        break;
    case BRAID_FLOAT32:
        ((float *)buf)[i] = (float)v;
        break;
    case BRAID_FLOAT64:
        ((double *)buf)[i] = v;
        break;
    case BRAID_FP8_E4M3:
        ((uint8_t *)buf)[i] = (uint8_t)minifloat_encode(v, &fmt_e4m3);
        break;
    case BRAID_FP8_E5M2:
        ((uint8_t *)buf)[i] = (uint8_t)minifloat_encode(v, &fmt_e5m2);
        break;
    default:
        break;
    }
}

/* ---- patterns ------------------------------------------------------------------------------- */

/* The largest L such that every integer in [0, L] is exact in the dtype and differs from the
 * all-ones poison (uint8 stops at 254 because 0xff is 255). */
static uint64_t exact_limit(braid_dtype_t dt)
{
    switch (dt) {
    case BRAID_INT8:
        return 127;
    case BRAID_UINT8:
        return 254;
    case BRAID_FLOAT16:
        return 2048;
    case BRAID_BFLOAT16:
        return 256;
    case BRAID_FP8_E4M3:
        return 16;
    case BRAID_FP8_E5M2:
        return 8;
    default:
        return 1u << 20; /* wide types: a million distinct values is plenty */
    }
}

/* Unit roundoff of the dtype: half the distance from 1 to the next value. */
static double unit_roundoff(braid_dtype_t dt)
{
    switch (dt) {
    case BRAID_FLOAT16:
        return ldexp(1.0, -11);
    case BRAID_BFLOAT16:
        return ldexp(1.0, -8);
    case BRAID_FLOAT32:
        return FLT_EPSILON / 2;
    case BRAID_FLOAT64:
        return DBL_EPSILON / 2;
    case BRAID_FP8_E4M3:
        return ldexp(1.0, -4);
    case BRAID_FP8_E5M2:
        return ldexp(1.0, -3);
    default:
        return 0.0;
    }
}

void perf_pattern_init(perf_pattern_t *p, braid_dtype_t dtype, braid_op_t op, int reduce,
                       int nranks, uint64_t salt)
{
    uint64_t limit = exact_limit(dtype), n = nranks > 0 ? (uint64_t)nranks : 1;
    int sums = reduce && (op == BRAID_SUM || op == BRAID_AVG);

    memset(p, 0, sizeof(*p));
    p->dtype = dtype;
    p->op = op;
    p->reduce = reduce;
    p->nranks = (int)n;
    p->salt = salt;
    /* Sums stay exact when (range - 1) * nranks <= limit. */
    p->range = sums ? limit / n + 1 : limit + 1;
    if (p->range < 2)
        p->range = 2;
    if (!is_float(dtype))
        return;
    /* A correct avg is off by the final rounding of a division (two, if braid multiplies by
     * 1/n); everything else is exact unless so many ranks add up that sums must round. */
    p->tolerance = 0.0;
    if (reduce && op == BRAID_AVG)
        p->tolerance = 3.0 * unit_roundoff(dtype);
    if (sums && (p->range - 1) * n > limit)
        p->tolerance += 2.0 * (double)n * unit_roundoff(dtype);
}

/* splitmix64: a cheap, well-mixed hash, so neighbouring elements and ranks differ. */
static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

double perf_pattern_value(const perf_pattern_t *p, int rank, size_t index)
{
    if (p->reduce && p->op == BRAID_PROD) {
        /* One rank per element contributes 2, the others 1: the product is 2 exactly when
         * that rank's contribution arrived once. */
        return (index + p->salt) % (uint64_t)p->nranks == (uint64_t)rank ? 2.0 : 1.0;
    }
    return (double)(mix(index ^ mix((uint64_t)rank * 0x100000001b3ull ^ p->salt)) % p->range);
}

void perf_pattern_fill(const perf_pattern_t *p, void *buf, size_t count, int rank, size_t index0)
{
    for (size_t i = 0; i < count; i++)
        perf_store(buf, i, p->dtype, perf_pattern_value(p, rank, index0 + i));
}

static int float_matches(const perf_pattern_t *p, double got, double want)
{
    if (got == want)
        return 1;
    return fabs(got - want) <= p->tolerance * fabs(want); /* NaN compares false */
}

size_t perf_check_copy(const perf_pattern_t *p, const void *buf, size_t count, int src,
                       size_t index0)
{
    size_t wrong = 0;

    for (size_t i = 0; i < count; i++) {
        double want = perf_pattern_value(p, src, index0 + i);
        if (perf_load(buf, i, p->dtype) != want)
            wrong++;
    }
    return wrong;
}

/* op over all ranks' values at index, in the dtype's integer arithmetic (wrapping). */
static int64_t expected_int(const perf_pattern_t *p, size_t index)
{
    int64_t acc = (int64_t)perf_pattern_value(p, 0, index);

    for (int r = 1; r < p->nranks; r++) {
        int64_t v = (int64_t)perf_pattern_value(p, r, index);
        switch (p->op) {
        case BRAID_PROD:
            acc = wrap_int(acc * v, p->dtype);
            break;
        case BRAID_MIN:
            acc = v < acc ? v : acc;
            break;
        case BRAID_MAX:
            acc = v > acc ? v : acc;
            break;
        default:
            acc = wrap_int(acc + v, p->dtype);
            break;
        }
    }
    if (p->op == BRAID_AVG) {
        /* The wrapped sum divided by n, truncating (C division does). */
        if (p->dtype == BRAID_UINT64)
            return (int64_t)((uint64_t)acc / (uint64_t)p->nranks);
        return acc / p->nranks;
    }
    return acc;
}

static double expected_float(const perf_pattern_t *p, size_t index)
{
    double acc = perf_pattern_value(p, 0, index);

    for (int r = 1; r < p->nranks; r++) {
        double v = perf_pattern_value(p, r, index);
        switch (p->op) {
        case BRAID_PROD:
            acc *= v;
            break;
        case BRAID_MIN:
            acc = fmin(acc, v);
            break;
        case BRAID_MAX:
            acc = fmax(acc, v);
            break;
        default:
            acc += v;
            break;
        }
    }
    return p->op == BRAID_AVG ? acc / p->nranks : acc;
}

size_t perf_check_reduce(const perf_pattern_t *p, const void *buf, size_t count, size_t index0)
{
    size_t wrong = 0;

    for (size_t i = 0; i < count; i++) {
        if (is_float(p->dtype)) {
            if (!float_matches(p, perf_load(buf, i, p->dtype), expected_float(p, index0 + i)))
                wrong++;
        } else if (load_int(buf, i, p->dtype) != wrap_int(expected_int(p, index0 + i), p->dtype)) {
            wrong++;
        }
    }
    return wrong;
}
