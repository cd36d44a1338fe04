/*
 * Host reductions (src/exec/reduce_host.c) for every dtype x op, against a per-element
 * reference computed in __int128 (integers: exact, then wrapped), double (narrow floats and
 * float32: exact or correctly rounded, then rounded by ref_math.h) and __float128 (float64).
 * Every comparison is exact: the documented rounding rules fix every result bit but a NaN's
 * payload, so no tolerance is needed.
 */
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "braid.h"
#include "exec/dtype.h"
#include "exec/reduce_host.h"
#include "ref_math.h"
#include "check_run.h"

/* Only failures talk to Check: a passing ck_assert costs a pipe write (see test_dtype_convert). */
#define EXPECT(cond, ...)                                                                          \
    do {                                                                                           \
        if (!(cond))                                                                               \
            ck_abort_msg(__VA_ARGS__);                                                             \
    } while (0)

#define PAD   64 /* guard bytes each side of every buffer, to catch writes out of bounds */
#define GUARD 0xa5

typedef struct {
    int is_int, is_signed;
    __int128 i;
    double f; /* also NaN, +-inf, -0 */
} val_t;

static const size_t lengths[] = {0, 1, 7, 1000003};
#define NLENGTHS ((int)(sizeof lengths / sizeof lengths[0]))

/* The reference format of a float dtype; NULL for float64 (done in __float128) and ints. */
static const ref_fmt_t *float_fmt(braid_dtype_t dt)
{
    switch (dt) {
    case BRAID_FLOAT16:
        return &REF_F16;
    case BRAID_BFLOAT16:
        return &REF_BF16;
    case BRAID_FLOAT32:
        return &REF_F32;
    case BRAID_FP8_E4M3:
        return &REF_E4M3;
    case BRAID_FP8_E5M2:
        return &REF_E5M2;
    default:
        return NULL;
    }
}

static int is_int(braid_dtype_t dt)
{
    return dt <= BRAID_UINT64;
}

static int is_signed(braid_dtype_t dt)
{
    return dt == BRAID_INT8 || dt == BRAID_INT32 || dt == BRAID_INT64;
}

/* Element i's bits, little-endian byte by byte so the test assumes nothing about the host. */
static uint64_t get_bits(braid_dtype_t dt, const void *p, size_t i)
{
    size_t sz = braid_dtype_size(dt);
    const uint8_t *e = (const uint8_t *)p + i * sz;
    uint64_t v = 0;
    for (size_t k = 0; k < sz; k++)
        v |= (uint64_t)e[k] << (8 * k);
    return v;
}

static void put_bits(braid_dtype_t dt, void *p, size_t i, uint64_t v)
{
    size_t sz = braid_dtype_size(dt);
    uint8_t *e = (uint8_t *)p + i * sz;
    for (size_t k = 0; k < sz; k++)
        e[k] = (uint8_t)(v >> (8 * k));
}

/* The value element i stands for. */
static val_t get_val(braid_dtype_t dt, const void *p, size_t i)
{
    uint64_t bits = get_bits(dt, p, i);
    val_t v = {is_int(dt), is_signed(dt), 0, 0};
    if (v.is_int) {
        int nbits = (int)braid_dtype_size(dt) * 8;
        v.i = (__int128)bits;
        if (v.is_signed && nbits < 128 && (bits >> (nbits - 1)) & 1)
            v.i -= (__int128)1 << nbits;
    } else if (dt == BRAID_FLOAT64) {
        memcpy(&v.f, &bits, sizeof v.f);
    } else if (dt == BRAID_FLOAT32) {
        uint32_t b32 = (uint32_t)bits;
        float f;
        memcpy(&f, &b32, sizeof f);
        v.f = f;
    } else {
        v.f = ref_decode(float_fmt(dt), (uint32_t)bits);
    }
    return v;
}

/* v modulo 2^bits, as the dtype reads it (two's complement for signed types). */
static __int128 wrap(braid_dtype_t dt, __int128 v)
{
    int nbits = (int)braid_dtype_size(dt) * 8;
    unsigned __int128 m = (unsigned __int128)v & ((((unsigned __int128)1) << nbits) - 1);
    if (is_signed(dt) && (m >> (nbits - 1)) & 1)
        return (__int128)m - ((__int128)1 << nbits);
    return (__int128)m;
}

static __int128 ref_int(braid_dtype_t dt, braid_op_t op, __int128 a, __int128 b, int n)
{
    switch (op) {
    case BRAID_SUM:
        return wrap(dt, a + b);
    case BRAID_PROD: /* mod 2^128 first, which 2^bits divides */
        return wrap(dt, (__int128)((unsigned __int128)a * (unsigned __int128)b));
    case BRAID_MIN:
        return a < b ? a : b;
    case BRAID_MAX:
        return a > b ? a : b;
    default: /* C's division truncates towards zero, which is the rule */
        return n > 0 ? wrap(dt, a + b) / n : wrap(dt, a + b);
    }
}

/* min/max with the documented rules: NaN wins, -0 < +0. */
static double ref_minmax(int want_min, double a, double b)
{
    if (isnan(a) || isnan(b))
        return NAN;
    if (a == 0 && b == 0) {
        int negative = want_min ? (signbit(a) || signbit(b)) : (signbit(a) && signbit(b));
        return negative ? -0.0 : 0.0;
    }
    return (a < b) == want_min ? a : b;
}

/* Narrow floats and float32: a op b in double (exact, or rounded with at least 2p+2 bits,
 * which is innocuous), rounded once to the format; an average goes through float32 as
 * documented: sum rounded to float32, divided and rounded to float32, rounded to the dtype. */
static double ref_narrow(const ref_fmt_t *f, braid_op_t op, double a, double b, int n)
{
    switch (op) {
    case BRAID_SUM:
        return ref_round(f, a + b);
    case BRAID_PROD:
        return ref_round(f, a * b);
    case BRAID_MIN:
    case BRAID_MAX:
        return ref_minmax(op == BRAID_MIN, a, b);
    default: {
        if (n <= 0)
            return ref_round(f, a + b);
        double s = ref_round(&REF_F32, a + b);
        return ref_round(f, ref_round(&REF_F32, s / n));
    }
    }
}

/* float64 in __float128 (113 bits: 2p+2 for p = 53), rounded to double by the conversion. */
static double ref_f64(braid_op_t op, double a, double b, int n)
{
    switch (op) {
    case BRAID_SUM:
        return (double)((__float128)a + (__float128)b);
    case BRAID_PROD:
        return (double)((__float128)a * (__float128)b);
    case BRAID_MIN:
    case BRAID_MAX:
        return ref_minmax(op == BRAID_MIN, a, b);
    default: {
        double s = (double)((__float128)a + (__float128)b);
        return n > 0 ? (double)((__float128)s / (__float128)n) : s;
    }
    }
}

/* The expected element for (a op b), with the AVG post-op when n > 0. */
static val_t ref_elem(braid_dtype_t dt, braid_op_t op, val_t a, val_t b, int n)
{
    val_t r = a;
    if (a.is_int)
        r.i = ref_int(dt, op, a.i, b.i, n);
    else if (dt == BRAID_FLOAT64)
        r.f = ref_f64(op, a.f, b.f, n);
    else
        r.f = ref_narrow(float_fmt(dt), op, a.f, b.f, n);
    return r;
}

/* The expected element of a copy that applies the AVG post-op (dst = src / n). */
static val_t ref_div(braid_dtype_t dt, val_t a, int n)
{
    val_t r = a;
    if (a.is_int)
        r.i = a.i / n;
    else if (dt == BRAID_FLOAT64)
        r.f = (double)((__float128)a.f / (__float128)n);
    else
        r.f = ref_round(float_fmt(dt), ref_round(&REF_F32, a.f / n));
    return r;
}

static int val_same(val_t got, val_t want)
{
    return got.is_int ? got.i == want.i : ref_same(got.f, want.f);
}

/* ---------------------------------------------------------------------------------------------
 * Buffers and inputs
 * ------------------------------------------------------------------------------------------- */

typedef struct {
    uint8_t *base;
    void *p; /* base + PAD */
    size_t bytes;
} buf_t;

static buf_t buf_new(braid_dtype_t dt, size_t n)
{
    buf_t b;
    b.bytes = n * braid_dtype_size(dt);
    b.base = malloc(b.bytes + 2 * PAD);
    ck_assert_ptr_nonnull(b.base);
    memset(b.base, GUARD, b.bytes + 2 * PAD);
    b.p = b.base + PAD;
    return b;
}

static void buf_check_guards(const buf_t *b, const char *what)
{
    for (size_t k = 0; k < PAD; k++) {
        EXPECT(b->base[k] == GUARD, "%s: wrote %zu bytes before the buffer", what, PAD - k);
        EXPECT(b->base[PAD + b->bytes + k] == GUARD, "%s: wrote past the end (+%zu)", what, k);
    }
}

/* Specials every kind of input should meet: zeros, extremes, infinities, NaN, subnormals. */
static uint64_t special_bits(braid_dtype_t dt, uint64_t r)
{
    static const uint64_t f64[] = {0,
                                   0x8000000000000000ull,
                                   0x7ff0000000000000ull,
                                   0xfff0000000000000ull,
                                   0x7ff8000000000000ull,
                                   1,
                                   0x7fefffffffffffffull,
                                   0x3ff0000000000000ull};
    static const uint64_t f32[] = {0,           0x80000000u, 0x7f800000u, 0xff800000u,
                                   0x7fc00000u, 1,           0x7f7fffffu, 0x3f800000u};
    static const int64_t ints[] = {0, 1, -1, INT64_MIN, INT64_MAX, 2, -2, 3};
    size_t k = (size_t)(r % 8);
    if (dt == BRAID_FLOAT64)
        return f64[k];
    if (dt == BRAID_FLOAT32)
        return f32[k];
    uint64_t v = (uint64_t)ints[k];
    int nbits = (int)braid_dtype_size(dt) * 8;
    if (nbits < 64 && (k == 3 || k == 4)) /* the type's own min and max */
        v = k == 3 ? (uint64_t)1 << (nbits - 1) : ((uint64_t)1 << (nbits - 1)) - 1;
    return v;
}

/* Random finite float with an exponent in [-40, 40], so sums cancel and round, not saturate. */
static uint64_t moderate_bits(braid_dtype_t dt, uint64_t r)
{
    double m = 1.0 + (double)(r & 0xfffffffffffffull) / 4503599627370496.0;
    double v = ldexp(m, (int)((r >> 52) % 81) - 40) * ((r >> 63) ? -1 : 1);
    uint64_t bits;
    if (dt == BRAID_FLOAT64) {
        memcpy(&bits, &v, sizeof bits);
        return bits;
    }
    float f = (float)v;
    uint32_t b32;
    memcpy(&b32, &f, sizeof b32);
    return b32;
}

/* Narrow floats and ints: uniform bit patterns (every class of value); float32/64: mostly
 * moderate values, some uniform patterns; all: a sprinkling of specials. */
static void fill_random(braid_dtype_t dt, void *p, size_t n, uint64_t *rng)
{
    int wide_float = dt == BRAID_FLOAT32 || dt == BRAID_FLOAT64;
    for (size_t i = 0; i < n; i++) {
        uint64_t r = ref_rand(rng);
        uint64_t bits = r;
        if ((r >> 8) % 16 == 0)
            bits = special_bits(dt, r >> 16);
        else if (wide_float && (r >> 12) % 4 != 0)
            bits = moderate_bits(dt, ref_rand(rng));
        put_bits(dt, p, i, bits);
    }
}

/* ---------------------------------------------------------------------------------------------
 * Every dtype x op x length x way of calling
 * ------------------------------------------------------------------------------------------- */

typedef struct {
    braid_dtype_t dt;
    braid_op_t op;
    int final; /* final_nranks passed */
    size_t n;
    buf_t a, b;
    val_t *want;
} case_t;

static void expect_buf(const case_t *c, const void *out, const char *how)
{
    for (size_t i = 0; i < c->n; i++) {
        val_t got = get_val(c->dt, out, i);
        if (val_same(got, c->want[i]))
            continue;
        ck_abort_msg("%s %s final_nranks=%d n=%zu, %s: element %zu: a=0x%llx b=0x%llx -> "
                     "0x%llx (%.17g), want %.17g / %lld",
                     braid_dtype_name(c->dt), braid_op_name(c->op), c->final, c->n, how, i,
                     (unsigned long long)get_bits(c->dt, c->a.p, i),
                     (unsigned long long)get_bits(c->dt, c->b.p, i),
                     (unsigned long long)get_bits(c->dt, out, i), got.f, c->want[i].f,
                     (long long)c->want[i].i);
    }
}

/* Out of place with one and two destinations, in place on a, in place on b with a second
 * destination: each must give the expected values and touch nothing outside its buffers. */
static void run_reduce_modes(const case_t *c)
{
    buf_t d0 = buf_new(c->dt, c->n), d1 = buf_new(c->dt, c->n), x = buf_new(c->dt, c->n);

    braid__reduce_host(d0.p, NULL, c->a.p, c->b.p, c->n, c->dt, c->op, c->final);
    expect_buf(c, d0.p, "dst0 = a op b");
    buf_check_guards(&d0, "dst0 = a op b");
    buf_check_guards(&d1, "dst1 untouched when NULL");

    memset(d0.p, 0, d0.bytes);
    braid__reduce_host(d0.p, d1.p, c->a.p, c->b.p, c->n, c->dt, c->op, c->final);
    expect_buf(c, d0.p, "two destinations: dst0");
    expect_buf(c, d1.p, "two destinations: dst1");

    memcpy(x.p, c->a.p, x.bytes);
    braid__reduce_host(x.p, NULL, x.p, c->b.p, c->n, c->dt, c->op, c->final);
    expect_buf(c, x.p, "in place: a op= b");
    buf_check_guards(&x, "in place on a");

    memcpy(x.p, c->b.p, x.bytes);
    memset(d1.p, 0, d1.bytes);
    braid__reduce_host(x.p, d1.p, c->a.p, x.p, c->n, c->dt, c->op, c->final);
    expect_buf(c, x.p, "in place on b, with dst1: dst0");
    expect_buf(c, d1.p, "in place on b, with dst1: dst1");
    buf_check_guards(&x, "in place on b");
    buf_check_guards(&d1, "dst1");

    free(d0.base);
    free(d1.base);
    free(x.base);
}

/* _i is the dtype. final_nranks 3 must change only AVG; 0 makes AVG a plain sum. */
START_TEST(every_op_every_length)
{
    braid_dtype_t dt = (braid_dtype_t)_i;
    uint64_t rng = 0xb4a1d000u + (uint64_t)_i;
    for (int li = 0; li < NLENGTHS; li++) {
        case_t c = {
            dt,  BRAID_SUM, 0, lengths[li], buf_new(dt, lengths[li]), buf_new(dt, lengths[li]),
            NULL};
        fill_random(dt, c.a.p, c.n, &rng);
        fill_random(dt, c.b.p, c.n, &rng);
        c.want = malloc(sizeof(val_t) * (c.n + 1));
        ck_assert_ptr_nonnull(c.want);
        for (int op = 0; op < BRAID_NUM_OPS; op++) {
            for (int final = 0; final <= 3; final += 3) {
                c.op = (braid_op_t)op;
                c.final = final;
                int n_eff = op == BRAID_AVG ? final : 0;
                for (size_t i = 0; i < c.n; i++)
                    c.want[i] =
                        ref_elem(dt, c.op, get_val(dt, c.a.p, i), get_val(dt, c.b.p, i), n_eff);
                run_reduce_modes(&c);
            }
        }
        free(c.want);
        free(c.a.base);
        free(c.b.base);
    }
}
END_TEST

/* Copies: plain (memcpy, one or two destinations, dst == src) and finishing an average. */
static void run_copy(braid_dtype_t dt, size_t n, uint64_t *rng, int nranks)
{
    buf_t s = buf_new(dt, n), d0 = buf_new(dt, n), d1 = buf_new(dt, n), x = buf_new(dt, n);
    fill_random(dt, s.p, n, rng);
    case_t c = {dt, BRAID_AVG, nranks, n, s, s, malloc(sizeof(val_t) * (n + 1))};
    ck_assert_ptr_nonnull(c.want);
    for (size_t i = 0; i < n; i++)
        c.want[i] = ref_div(dt, get_val(dt, s.p, i), nranks);

    braid__copy_host(d0.p, d1.p, s.p, n, dt, BRAID_SUM, nranks); /* nranks ignored: a copy */
    EXPECT(memcmp(d0.p, s.p, s.bytes) == 0 && memcmp(d1.p, s.p, s.bytes) == 0, "copy %s n=%zu",
           braid_dtype_name(dt), n);
    memcpy(x.p, s.p, s.bytes);
    braid__copy_host(x.p, NULL, x.p, n, dt, BRAID_AVG, 0); /* not final: plain copy */
    EXPECT(memcmp(x.p, s.p, s.bytes) == 0, "copy onto itself %s n=%zu", braid_dtype_name(dt), n);

    braid__copy_host(d0.p, d1.p, s.p, n, dt, BRAID_AVG, nranks);
    expect_buf(&c, d0.p, "copy / nranks: dst0");
    expect_buf(&c, d1.p, "copy / nranks: dst1");
    braid__copy_host(x.p, NULL, x.p, n, dt, BRAID_AVG, nranks);
    expect_buf(&c, x.p, "copy / nranks in place");
    buf_check_guards(&d0, "copy dst0");
    buf_check_guards(&d1, "copy dst1");
    buf_check_guards(&x, "copy in place");
    free(c.want);
    free(s.base);
    free(d0.base);
    free(d1.base);
    free(x.base);
}

START_TEST(copy_every_length)
{
    uint64_t rng = 0xc0b1u + (uint64_t)_i;
    static const int nranks[] = {1, 2, 3, 72, 1152};
    for (int li = 0; li < NLENGTHS; li++)
        run_copy((braid_dtype_t)_i, lengths[li], &rng, nranks[li % 5]);
    run_copy((braid_dtype_t)_i, 1000, &rng, nranks[4]);
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * The documented rules, spelled out on single elements
 * ------------------------------------------------------------------------------------------- */

/* a op b for one element given as bits, result as bits. */
static uint64_t reduce1(braid_dtype_t dt, braid_op_t op, int final, uint64_t a, uint64_t b)
{
    uint8_t ab[8], bb[8], out[8];
    put_bits(dt, ab, 0, a);
    put_bits(dt, bb, 0, b);
    braid__reduce_host(out, NULL, ab, bb, 1, dt, op, final);
    return get_bits(dt, out, 0);
}

static uint64_t i64_bits(int64_t v)
{
    return (uint64_t)v;
}

/* Integer averages divide the wrapped sum, truncating towards zero (not flooring). */
START_TEST(avg_integers_truncate_the_wrapped_sum)
{
    ck_assert_int_eq((int32_t)reduce1(BRAID_INT32, BRAID_AVG, 2, i64_bits(-7), 0), -3);
    ck_assert_int_eq((int32_t)reduce1(BRAID_INT32, BRAID_AVG, 2, 7, 0), 3);
    ck_assert_int_eq((int32_t)reduce1(BRAID_INT32, BRAID_AVG, 4, i64_bits(-9), 0), -2);
    ck_assert_int_eq((int32_t)reduce1(BRAID_INT32, BRAID_AVG, 2, i64_bits(INT32_MIN), i64_bits(-1)),
                     INT32_MAX / 2); /* the sum wrapped to INT32_MAX */
    ck_assert_int_eq((int32_t)reduce1(BRAID_INT32, BRAID_AVG, 2, INT32_MAX, 1), INT32_MIN / 2);
    ck_assert_int_eq((int8_t)reduce1(BRAID_INT8, BRAID_AVG, 2, 100, 100), -28);
    ck_assert_int_eq((int8_t)reduce1(BRAID_INT8, BRAID_AVG, 3, i64_bits(-100), i64_bits(-100)), 18);
    ck_assert_int_eq((int8_t)reduce1(BRAID_INT8, BRAID_AVG, 3, i64_bits(-5), 0), -1);
    ck_assert_uint_eq(reduce1(BRAID_UINT8, BRAID_AVG, 3, 200, 100), 14);
    ck_assert_uint_eq(reduce1(BRAID_UINT8, BRAID_AVG, 300, 200, 50), 0); /* n wider than 8 bits */
    ck_assert_uint_eq(reduce1(BRAID_UINT32, BRAID_AVG, 2, UINT32_MAX, 0), UINT32_MAX / 2);
    ck_assert_uint_eq(reduce1(BRAID_UINT64, BRAID_AVG, 2, UINT64_MAX, 1), 0);
    ck_assert_uint_eq(reduce1(BRAID_UINT64, BRAID_AVG, 2, UINT64_MAX, 0), UINT64_MAX / 2);
    ck_assert_int_eq(
        (int64_t)reduce1(BRAID_INT64, BRAID_AVG, 2, i64_bits(INT64_MIN), i64_bits(INT64_MIN)), 0);
    ck_assert_int_eq((int64_t)reduce1(BRAID_INT64, BRAID_AVG, 2, i64_bits(INT64_MIN), 0),
                     INT64_MIN / 2);
    ck_assert_int_eq((int64_t)reduce1(BRAID_INT64, BRAID_AVG, 1152, i64_bits(-1151), 0), 0);
    /* final_nranks <= 0: an average that is not finished yet is a sum. */
    ck_assert_int_eq((int32_t)reduce1(BRAID_INT32, BRAID_AVG, 0, i64_bits(-7), 3), -4);
    ck_assert_int_eq((int32_t)reduce1(BRAID_INT32, BRAID_AVG, -1, i64_bits(-7), 3), -4);
    /* Other ops ignore final_nranks. */
    ck_assert_int_eq((int32_t)reduce1(BRAID_INT32, BRAID_SUM, 2, i64_bits(-7), 3), -4);
    ck_assert_int_eq((int32_t)reduce1(BRAID_INT32, BRAID_PROD, 2, 65536, 65536), 0);
}
END_TEST

static uint64_t f32b(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static uint64_t f64b(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

/* Float averages divide in the accumulation type before rounding to the dtype, so a sum that
 * would overflow the dtype still averages to a finite value. */
START_TEST(avg_floats_divide_before_rounding)
{
    ck_assert_uint_eq(reduce1(BRAID_FLOAT16, BRAID_AVG, 2, 0x7bff, 0x7bff), 0x7bff); /* 65504 */
    ck_assert_uint_eq(reduce1(BRAID_FLOAT16, BRAID_SUM, 2, 0x7bff, 0x7bff), 0x7c00); /* inf */
    ck_assert_uint_eq(reduce1(BRAID_FLOAT16, BRAID_AVG, 3, 0x3c00, 0x4000), 0x3c00); /* 1+2 */
    /* bfloat16 has float32's range: a sum that overflows it overflows the accumulator too. */
    ck_assert_uint_eq(reduce1(BRAID_BFLOAT16, BRAID_AVG, 2, 0x7f7f, 0x7f7f), 0x7f80);
    ck_assert_uint_eq(reduce1(BRAID_BFLOAT16, BRAID_AVG, 2, 0x7e80, 0x7e80), 0x7e80);
    ck_assert_uint_eq(reduce1(BRAID_FP8_E4M3, BRAID_AVG, 2, 0x7e, 0x7e), 0x7e); /* 448 */
    ck_assert_uint_eq(reduce1(BRAID_FP8_E4M3, BRAID_SUM, 0, 0x7e, 0x7e), 0x7e); /* sat. */
    ck_assert_uint_eq(reduce1(BRAID_FP8_E5M2, BRAID_AVG, 2, 0x7b, 0x7b), 0x7b); /* 57344 */
    ck_assert_uint_eq(reduce1(BRAID_FP8_E5M2, BRAID_SUM, 0, 0x7b, 0x7b), 0x7c); /* inf */
    ck_assert_uint_eq(reduce1(BRAID_FLOAT32, BRAID_AVG, 3, f32b(1.0f), f32b(2.0f)), f32b(1.0f));
    ck_assert_uint_eq(reduce1(BRAID_FLOAT32, BRAID_AVG, 10, f32b(0.1f), f32b(0.2f)),
                      f32b((0.1f + 0.2f) / 10.0f));
    /* float32 accumulates in float32: its own overflow is not avoided. */
    ck_assert_uint_eq(reduce1(BRAID_FLOAT32, BRAID_AVG, 2, f32b(FLT_MAX), f32b(FLT_MAX)),
                      f32b(INFINITY));
    ck_assert_uint_eq(reduce1(BRAID_FLOAT64, BRAID_AVG, 2, f64b(0.1), f64b(0.2)),
                      f64b((0.1 + 0.2) / 2));
    ck_assert_uint_eq(reduce1(BRAID_FLOAT64, BRAID_AVG, 72, f64b(-1.0), f64b(-71.0)), f64b(-1.0));
}
END_TEST

/* min/max: NaN in either position gives NaN; -0 is below +0 in both orders. _i is the dtype
 * index among the float dtypes. */
START_TEST(minmax_nan_and_signed_zero)
{
    static const struct {
        braid_dtype_t dt;
        uint64_t nan, one, pzero, nzero;
    } t[] = {
        {BRAID_FLOAT16, 0x7e00, 0x3c00, 0, 0x8000},
        {BRAID_BFLOAT16, 0x7fc0, 0x3f80, 0, 0x8000},
        {BRAID_FLOAT32, 0x7fc00000u, 0x3f800000u, 0, 0x80000000u},
        {BRAID_FLOAT64, 0x7ff8000000000000ull, 0x3ff0000000000000ull, 0, 0x8000000000000000ull},
        {BRAID_FP8_E4M3, 0x7f, 0x38, 0, 0x80},
        {BRAID_FP8_E5M2, 0x7e, 0x3c, 0, 0x80},
    };
    braid_dtype_t dt = t[_i].dt;
    for (int op = BRAID_MIN; op <= BRAID_MAX; op++) {
        uint64_t r1 = reduce1(dt, (braid_op_t)op, 0, t[_i].nan, t[_i].one);
        uint64_t r2 = reduce1(dt, (braid_op_t)op, 0, t[_i].one, t[_i].nan);
        ck_assert_msg(isnan(get_val(dt, &r1, 0).f) && isnan(get_val(dt, &r2, 0).f),
                      "%s %s with NaN: 0x%llx 0x%llx", braid_dtype_name(dt),
                      braid_op_name((braid_op_t)op), (unsigned long long)r1,
                      (unsigned long long)r2);
        uint64_t want = op == BRAID_MIN ? t[_i].nzero : t[_i].pzero;
        ck_assert_uint_eq(reduce1(dt, (braid_op_t)op, 0, t[_i].pzero, t[_i].nzero), want);
        ck_assert_uint_eq(reduce1(dt, (braid_op_t)op, 0, t[_i].nzero, t[_i].pzero), want);
    }
}
END_TEST

START_TEST(names_and_sizes)
{
    static const char *names[] = {"int8",    "uint8",   "int32",    "uint32",
                                  "int64",   "uint64",  "float16",  "bfloat16",
                                  "float32", "float64", "fp8_e4m3", "fp8_e5m2"};
    static const size_t sizes[] = {1, 1, 4, 4, 8, 8, 2, 2, 4, 8, 1, 1};
    for (int i = 0; i < BRAID_NUM_DTYPES; i++) {
        ck_assert_str_eq(braid_dtype_name((braid_dtype_t)i), names[i]);
        ck_assert_uint_eq(braid_dtype_size((braid_dtype_t)i), sizes[i]);
        ck_assert_int_eq(braid__dtype_from_name(names[i]), i);
    }
    ck_assert_str_eq(braid_dtype_name(BRAID_NUM_DTYPES), "invalid");
    ck_assert_str_eq(braid_dtype_name((braid_dtype_t)-1), "invalid");
    ck_assert_uint_eq(braid_dtype_size(BRAID_NUM_DTYPES), 0);
    /* nccl-tests' -d names */
    ck_assert_int_eq(braid__dtype_from_name("int"), BRAID_INT32);
    ck_assert_int_eq(braid__dtype_from_name("half"), BRAID_FLOAT16);
    ck_assert_int_eq(braid__dtype_from_name("float"), BRAID_FLOAT32);
    ck_assert_int_eq(braid__dtype_from_name("double"), BRAID_FLOAT64);
    ck_assert_int_eq(braid__dtype_from_name("bfloat16"), BRAID_BFLOAT16);
    ck_assert_int_eq(braid__dtype_from_name("f8e4m3"), BRAID_FP8_E4M3);
    ck_assert_int_eq(braid__dtype_from_name("f8e5m2"), BRAID_FP8_E5M2);
    ck_assert_int_eq(braid__dtype_from_name("float128"), -1);
    ck_assert_int_eq(braid__dtype_from_name(""), -1);
    ck_assert_int_eq(braid__dtype_from_name(NULL), -1);

    static const char *ops[] = {"sum", "prod", "min", "max", "avg"};
    for (int i = 0; i < BRAID_NUM_OPS; i++) {
        ck_assert_str_eq(braid_op_name((braid_op_t)i), ops[i]);
        ck_assert_int_eq(braid__op_from_name(ops[i]), i);
    }
    ck_assert_str_eq(braid_op_name(BRAID_NUM_OPS), "invalid");
    ck_assert_int_eq(braid__op_from_name("mulsum"), -1);
    ck_assert_int_eq(braid__op_from_name(NULL), -1);
}
END_TEST

static Suite *reduce_suite(void)
{
    Suite *s = suite_create("reduce_host");
    TCase *tc = tcase_create("reduce");
    tcase_set_timeout(tc, 240);
    tcase_add_loop_test(tc, every_op_every_length, 0, BRAID_NUM_DTYPES);
    tcase_add_loop_test(tc, copy_every_length, 0, BRAID_NUM_DTYPES);
    tcase_add_test(tc, avg_integers_truncate_the_wrapped_sum);
    tcase_add_test(tc, avg_floats_divide_before_rounding);
    tcase_add_loop_test(tc, minmax_nan_and_signed_zero, 0, 6);
    tcase_add_test(tc, names_and_sizes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return harness_run_suite(reduce_suite());
}
