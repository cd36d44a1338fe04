/*
 * Conversions between float32 and float16, bfloat16, fp8 E4M3 and fp8 E5M2
 * (src/exec/dtype_math.h): every narrow bit pattern, millions of random floats and the edge
 * cases, each checked against ref_math.h and, for float16, against GCC's _Float16.
 */
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/dtype_math.h"
#include "ref_math.h"
#include "check_run.h"

/* ck_assert_msg sends every passing check to the parent through a pipe; in loops of millions
 * that dominates the run time, so hot loops only talk to Check when something fails. */
#define EXPECT(cond, ...)                                                                          \
    do {                                                                                           \
        if (!(cond))                                                                               \
            ck_abort_msg(__VA_ARGS__);                                                             \
    } while (0)

/* One narrow format as the code under test sees it. */
typedef struct {
    const ref_fmt_t *ref;
    int bits; /* 16 or 8 */
    float (*to_f32)(uint32_t);
    uint32_t (*from_f32)(float);
} fmt_t;

static float f16_to(uint32_t v)
{
    return braid__f16_to_f32((braid_f16_t)v);
}
static uint32_t f16_from(float f)
{
    return braid__f32_to_f16(f);
}
static float bf16_to(uint32_t v)
{
    return braid__bf16_to_f32((braid_bf16_t)v);
}
static uint32_t bf16_from(float f)
{
    return braid__f32_to_bf16(f);
}
static float e4m3_to(uint32_t v)
{
    return braid__e4m3_to_f32((braid_e4m3_t)v);
}
static uint32_t e4m3_from(float f)
{
    return braid__f32_to_e4m3(f);
}
static float e5m2_to(uint32_t v)
{
    return braid__e5m2_to_f32((braid_e5m2_t)v);
}
static uint32_t e5m2_from(float f)
{
    return braid__f32_to_e5m2(f);
}

static const fmt_t formats[] = {
    {&REF_F16, 16, f16_to, f16_from},
    {&REF_BF16, 16, bf16_to, bf16_from},
    {&REF_E4M3, 8, e4m3_to, e4m3_from},
    {&REF_E5M2, 8, e5m2_to, e5m2_from},
};
#define NFORMATS ((int)(sizeof formats / sizeof formats[0]))

/* Every bit pattern of the format widens to the value the reference decodes and narrows back
 * to itself, NaN payloads included (loop test: _i indexes formats[]). */
START_TEST(every_pattern_round_trips)
{
    const fmt_t *f = &formats[_i];
    for (uint32_t v = 0; v < (1u << f->bits); v++) {
        float wide = f->to_f32(v);
        double want = ref_decode(f->ref, v);
        EXPECT(ref_same(wide, want), "%s 0x%x widens to %a, want %a", f->ref->name, v, (double)wide,
               want);
        uint32_t back = f->from_f32(wide);
        EXPECT(back == v, "%s 0x%x -> %a -> 0x%x", f->ref->name, v, (double)wide, back);
    }
}
END_TEST

/* Checks one float32 -> narrow conversion against the reference rounding. */
static void check_narrow(const fmt_t *f, float x)
{
    uint32_t got = f->from_f32(x);
    double want = ref_round(f->ref, (double)x);
    double got_value = ref_decode(f->ref, got);
    EXPECT(ref_same(got_value, want), "%s(%a = 0x%08x) = 0x%x (%a), want %a", f->ref->name,
           (double)x, braid__f32_bits(x), got, got_value, want);
}

/* A float32 exactly halfway between two neighbours of format f (a tie), near a random value of
 * the format: the cases where round-to-nearest-even must pick the even one. */
static float tie_near(const fmt_t *f, uint64_t *rng)
{
    for (;;) {
        uint32_t v = (uint32_t)ref_rand(rng) & ((1u << f->bits) - 1u);
        double x = ref_decode(f->ref, v);
        if (!isfinite(x))
            continue;
        int e;
        frexp(x, &e);
        int lead = e - 1 < 1 - f->ref->bias ? 1 - f->ref->bias : e - 1;
        if (x == 0)
            lead = 1 - f->ref->bias;
        double half = ldexp(1.0, lead - f->ref->mbits - 1);
        return (float)(x + (ref_rand(rng) & 1 ? half : -half));
    }
}

/* Random float32 inputs: a third uniform bit patterns (every class, mostly far outside the
 * narrow range), a third with exponents around the narrow format's range, a third ties. */
static float random_input(const fmt_t *f, uint64_t *rng, int i)
{
    uint64_t r = ref_rand(rng);
    switch (i % 3) {
    case 0:
        return braid__f32_from_bits((uint32_t)r);
    case 1: {
        int span = (1 << f->ref->ebits) + 2 * f->ref->mbits + 8;
        int lo = 1 - f->ref->bias - f->ref->mbits - 4;
        int e = lo + (int)((r >> 32) % (uint64_t)span);
        double m = 1.0 + (double)(r & 0x7fffff) / 8388608.0;
        return (float)((r >> 63) ? -ldexp(m, e) : ldexp(m, e));
    }
    default:
        return tie_near(f, rng);
    }
}

START_TEST(random_floats_round_like_reference)
{
    const fmt_t *f = &formats[_i];
    uint64_t rng = 0x5eed0000u + (uint64_t)_i;
    for (int i = 0; i < 3000000; i++)
        check_narrow(f, random_input(f, &rng, i));
}
END_TEST

/* Edge cases of every format: zeros, infinities, NaNs, the float32 extremes, and for each
 * narrow value near the ends of the range the value itself and its neighbours. */
START_TEST(edge_cases_round_like_reference)
{
    const fmt_t *f = &formats[_i];
    const float fixed[] = {
        0.0f,      -0.0f,       INFINITY,      -INFINITY,       NAN,        -NAN,      FLT_MAX,
        -FLT_MAX,  FLT_MIN,     -FLT_MIN,      1e-45f,          -1e-45f,    1.0f,      -1.0f,
        65504.0f,  65519.99f,   65520.0f,      65536.0f,        448.0f,     464.0f,    464.01f,
        480.0f,    500.0f,      57344.0f,      61439.0f,        61440.0f,   1e30f,     -1e30f,
        0x1p-14f,  0x1p-24f,    0x1p-25f,      0x1.000002p-25f, 0x1.8p-24f, 0x1p-6f,   0x1p-9f,
        0x1p-10f,  0x1.8p-10f,  0x1p-16f,      0x1p-17f,        0x1.8p-17f, 0x1p-126f, 0x1p-133f,
        0x1p-134f, 0x1.8p-133f, 3.3895314e38f,
    };
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        check_narrow(f, fixed[i]);
    for (uint32_t v = 0; v < (1u << f->bits); v++) {
        float x = f->to_f32(v);
        if (!isfinite(x))
            continue;
        check_narrow(f, x);
        check_narrow(f, nextafterf(x, INFINITY));
        check_narrow(f, nextafterf(x, -INFINITY));
    }
}
END_TEST

/* NaNs whose payload sits below the bits a narrow format keeps must stay NaN (not become
 * infinity), and signalling NaNs come back quiet. */
START_TEST(nan_stays_nan)
{
    const fmt_t *f = &formats[_i];
    const uint32_t nans[] = {0x7f800001u, 0xff800001u, 0x7fc00000u,
                             0xffffffffu, 0x7f801fffu, 0x7fbfffffu};
    for (size_t i = 0; i < sizeof nans / sizeof nans[0]; i++) {
        uint32_t got = f->from_f32(braid__f32_from_bits(nans[i]));
        ck_assert_msg(isnan(ref_decode(f->ref, got)), "%s(0x%08x) = 0x%x is not NaN", f->ref->name,
                      nans[i], got);
        ck_assert_msg((got >> (f->bits - 1)) == (nans[i] >> 31), "%s(0x%08x): sign lost",
                      f->ref->name, nans[i]);
    }
}
END_TEST

/* The OCP tables' anchor values, written out (not computed). */
START_TEST(fp8_ocp_table_values)
{
    static const struct {
        uint32_t bits;
        double e4m3, e5m2;
    } rows[] = {
        {0x00, 0.0, 0.0},
        {0x01, 0x1p-9, 0x1p-16}, /* smallest subnormals */
        {0x03, 0x1.8p-8, 0x1.8p-15},
        {0x07, 0x1.cp-7, 0x1.cp-14}, /* E4M3 largest subnormal; E5M2 1.11 x 2^-14 */
        {0x08, 0x1p-6, 0x1p-13},
        {0x38, 1.0, 0x1p-1},
        {0x3c, 0x1.8p0, 1.0},
        {0x7b, 0x1.6p8, 57344.0}, /* E5M2 largest finite */
        {0x7c, 0x1.8p8, INFINITY},
        {0x7e, 448.0, NAN}, /* E4M3 largest finite */
        {0x7f, NAN, NAN},
        {0x80, -0.0, -0.0},
        {0xfe, -448.0, NAN},
        {0xfc, -384.0, -INFINITY},
        {0xff, NAN, NAN},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        uint8_t v = (uint8_t)rows[i].bits;
        ck_assert_msg(ref_same(braid__e4m3_to_f32(v), rows[i].e4m3), "e4m3 0x%02x = %a, want %a", v,
                      (double)braid__e4m3_to_f32(v), rows[i].e4m3);
        ck_assert_msg(ref_same(braid__e5m2_to_f32(v), rows[i].e5m2), "e5m2 0x%02x = %a, want %a", v,
                      (double)braid__e5m2_to_f32(v), rows[i].e5m2);
    }
}
END_TEST

/* What overflow does, spelled out: E4M3 saturates (infinity included), the IEEE-like formats
 * go to infinity exactly where round-to-nearest-even leaves the largest finite value. */
START_TEST(overflow_and_saturation)
{
    ck_assert_uint_eq(braid__f32_to_e4m3(448.0f), 0x7e);
    ck_assert_uint_eq(braid__f32_to_e4m3(464.0f), 0x7e); /* tie: 448 is even */
    ck_assert_uint_eq(braid__f32_to_e4m3(479.0f), 0x7e);
    ck_assert_uint_eq(braid__f32_to_e4m3(1e6f), 0x7e);
    ck_assert_uint_eq(braid__f32_to_e4m3(FLT_MAX), 0x7e);
    ck_assert_uint_eq(braid__f32_to_e4m3(INFINITY), 0x7e);
    ck_assert_uint_eq(braid__f32_to_e4m3(-INFINITY), 0xfe);
    ck_assert_uint_eq(braid__f32_to_e4m3(-1e6f), 0xfe);
    ck_assert_uint_eq(braid__f32_to_e4m3(NAN) & 0x7f, 0x7f);

    ck_assert_uint_eq(braid__f32_to_e5m2(57344.0f), 0x7b);
    ck_assert_uint_eq(braid__f32_to_e5m2(61439.0f), 0x7b);
    ck_assert_uint_eq(braid__f32_to_e5m2(61440.0f), 0x7c); /* tie: 65536 is even */
    ck_assert_uint_eq(braid__f32_to_e5m2(-1e6f), 0xfc);
    ck_assert_uint_eq(braid__f32_to_e5m2(INFINITY), 0x7c);

    ck_assert_uint_eq(braid__f32_to_f16(65504.0f), 0x7bff);
    ck_assert_uint_eq(braid__f32_to_f16(65519.99f), 0x7bff);
    ck_assert_uint_eq(braid__f32_to_f16(65520.0f), 0x7c00);
    ck_assert_uint_eq(braid__f32_to_f16(-1e9f), 0xfc00);

    ck_assert_uint_eq(braid__f32_to_bf16(FLT_MAX), 0x7f80);       /* rounds up: inf */
    ck_assert_uint_eq(braid__f32_to_bf16(3.3895314e38f), 0x7f7f); /* largest bfloat16 */
    ck_assert_uint_eq(braid__f32_to_bf16(braid__f32_from_bits(0x7f7f7fffu)), 0x7f7f);
    ck_assert_uint_eq(braid__f32_to_bf16(braid__f32_from_bits(0x7f7f8000u)), 0x7f80); /* tie, odd */
}
END_TEST

/* Ties to even and the subnormal range, spelled out for float16 and bfloat16. */
START_TEST(ties_and_subnormals)
{
    ck_assert_uint_eq(braid__f32_to_f16(0x1.002p0f), 0x3c00); /* 1 + 2^-11: tie, to 1 */
    ck_assert_uint_eq(braid__f32_to_f16(0x1.006p0f), 0x3c02); /* 1 + 3*2^-11: tie, up */
    ck_assert_uint_eq(braid__f32_to_f16(0x1p-24f), 0x0001);   /* smallest subnormal */
    ck_assert_uint_eq(braid__f32_to_f16(0x1p-25f), 0x0000);   /* tie with 0: to 0 */
    ck_assert_uint_eq(braid__f32_to_f16(-0x1p-25f), 0x8000);  /* keeps the sign */
    ck_assert_uint_eq(braid__f32_to_f16(0x1.000002p-25f), 0x0001);
    ck_assert_uint_eq(braid__f32_to_f16(0x1.8p-24f), 0x0002);   /* 1.5 units: tie, to 2 */
    ck_assert_uint_eq(braid__f32_to_f16(0x1.ff8p-15f), 0x03ff); /* largest subnormal */
    ck_assert_uint_eq(braid__f32_to_f16(0x1.ffcp-15f), 0x0400); /* tie: carries to normal */
    ck_assert_uint_eq(braid__f32_to_f16(1e-45f), 0x0000);
    ck_assert_uint_eq(braid__f32_to_bf16(0x1.01p0f), 0x3f80); /* 1 + 2^-8: tie, to 1 */
    ck_assert_uint_eq(braid__f32_to_bf16(0x1.03p0f), 0x3f82);
    ck_assert_uint_eq(braid__f32_to_bf16(1e-45f), 0x0000); /* float32 subnormal: tie */
    ck_assert_uint_eq(braid__f32_to_bf16(0x1p-133f), 0x0001);
    ck_assert_uint_eq(braid__f32_to_e4m3(0x1p-10f), 0x00); /* tie with 0 */
    ck_assert_uint_eq(braid__f32_to_e4m3(0x1.8p-9f), 0x02);
    ck_assert_uint_eq(braid__f32_to_e5m2(0x1p-17f), 0x00);
    ck_assert_uint_eq(braid__f32_to_e5m2(0x1.8p-16f), 0x02);
}
END_TEST

#ifdef __FLT16_MAX__
/* A second, independent float16 reference: the compiler's own conversion (libgcc soft-float
 * or F16C). NaNs only need to agree on being NaN: payload handling differs by design. */
static void check_against_float16(float x)
{
    _Float16 h = (_Float16)x;
    uint16_t want;
    memcpy(&want, &h, sizeof want);
    uint16_t got = braid__f32_to_f16(x);
    if (isnan(x)) {
        EXPECT((got & 0x7fff) > 0x7c00, "f16(NaN 0x%08x) = 0x%04x", braid__f32_bits(x), got);
        return;
    }
    EXPECT(got == want, "f16(%a = 0x%08x) = 0x%04x, _Float16 gives 0x%04x", (double)x,
           braid__f32_bits(x), got, want);
    EXPECT(braid__f32_bits(braid__f16_to_f32(got)) == braid__f32_bits((float)h),
           "widening 0x%04x disagrees with _Float16", got);
}

START_TEST(float16_matches_compiler)
{
    uint64_t rng = 0xf1600u;
    const fmt_t *f = &formats[0];
    for (int i = 0; i < 4000000; i++)
        check_against_float16(random_input(f, &rng, i));
}
END_TEST

/* Every float32 (several minutes): run with ctest -L exhaustive. */
START_TEST(float16_matches_compiler_exhaustive)
{
    uint32_t u = 0;
    do {
        check_against_float16(braid__f32_from_bits(u));
    } while (++u != 0);
}
END_TEST
#endif

static Suite *convert_suite(int exhaustive)
{
    Suite *s = suite_create("dtype_convert");
    TCase *tc = tcase_create("convert");
    tcase_set_timeout(tc, 240);
    tcase_add_loop_test(tc, every_pattern_round_trips, 0, NFORMATS);
    tcase_add_loop_test(tc, random_floats_round_like_reference, 0, NFORMATS);
    tcase_add_loop_test(tc, edge_cases_round_like_reference, 0, NFORMATS);
    tcase_add_loop_test(tc, nan_stays_nan, 0, NFORMATS);
    tcase_add_test(tc, fp8_ocp_table_values);
    tcase_add_test(tc, overflow_and_saturation);
    tcase_add_test(tc, ties_and_subnormals);
#ifdef __FLT16_MAX__
    tcase_add_test(tc, float16_matches_compiler);
    if (exhaustive) {
        /* 2^32 soft-float conversions: minutes, not seconds. */
        TCase *slow = tcase_create("exhaustive");
        tcase_set_timeout(slow, 3000);
        tcase_add_test(slow, float16_matches_compiler_exhaustive);
        suite_add_tcase(s, slow);
    }
#endif
    suite_add_tcase(s, tc);
    return s;
}

int main(int argc, char **argv)
{
    int exhaustive = argc > 1 && strcmp(argv[1], "exhaustive") == 0;
    return harness_run_suite(convert_suite(exhaustive));
}
