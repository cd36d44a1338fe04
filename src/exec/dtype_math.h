/*
 * The arithmetic of every dtype x op, written once for the host executor (C11) and the CUDA
 * kernels (nvcc compiles this header as CUDA C++). Everything here is a pure function of its
 * arguments: no globals, no tables, no library calls, so that both compilers inline it into their
 * loops.
 *
 * Storage. float16, bfloat16 and the two fp8 formats have no portable C type, so values travel
 * as their bit patterns (uint16_t / uint8_t) and are widened to float32 to compute.
 *
 * Rounding rules (the same on CPU and GPU, so that host and device results agree bit for bit):
 * - Every narrowing conversion rounds to nearest, ties to even, and produces subnormals where
 *   the target has them (no flush to zero).
 * - float16 (IEEE binary16) and fp8 E5M2 overflow to infinity, as IEEE rounding does: a value
 *   that rounds beyond the largest finite one (65504, 57344) becomes +-inf.
 * - bfloat16 overflows to infinity the same way (largest finite 3.39e38, as float32's exponent).
 * - fp8 E4M3 (OCP) has no infinity: finite values beyond 448 and +-inf saturate to +-448, so a
 *   reduction never turns a large E4M3 sum into NaN. NaN is S.1111.111 and stays NaN.
 * - NaN stays NaN. The leading payload bits are kept where the target has room for them, so
 *   every NaN of a narrow format survives the trip through float32 unchanged; a float32 NaN
 *   whose kept payload would be zero (and thus read as infinity) becomes the quiet NaN.
 * - Integers wrap (two's complement). The arithmetic is done in unsigned types, because signed
 *   overflow is undefined behaviour in C and C++.
 * - float16, bfloat16 and fp8 are combined in float32 and rounded back once per pairwise
 *   combination. For sum and prod this equals rounding the exact result once: float32 carries at
 *   least 2p+2 bits for these formats' p-bit significands, which makes the double rounding
 *   innocuous (Figueroa, 1995); float32 and float64 use their own IEEE operations.
 * - min and max propagate NaN: if either operand is NaN the result is NaN (payload unspecified).
 *   -0 is smaller than +0, so min(+0, -0) = -0 and max(+0, -0) = +0 whatever the order: ring
 *   and tree algorithms combine ranks in different orders and must agree.
 * - avg is a sum, then one division by the rank count applied to the final sum (the post-op).
 *   Integers divide the wrapped sum truncating towards zero. Floats divide in the accumulation
 *   type (float32 for float16, bfloat16, fp8 and float32; float64 for float64), correctly
 *   rounded, then round once to the storage type.
 */
#ifndef BRAID_EXEC_DTYPE_MATH_H
#define BRAID_EXEC_DTYPE_MATH_H

#include <math.h> /* signbit, a macro: nothing is linked from libm */
#include <stdint.h>
#include <string.h>

#ifdef __CUDACC__
#define BRAID_HD __host__ __device__ __forceinline__
#else
#define BRAID_HD static inline
#endif

/* Bit patterns of the formats C has no type for. */
typedef uint16_t braid_f16_t;  /* IEEE binary16: 1 sign, 5 exponent (bias 15), 10 mantissa */
typedef uint16_t braid_bf16_t; /* bfloat16: 1 sign, 8 exponent (bias 127), 7 mantissa */
typedef uint8_t braid_e4m3_t;  /* OCP fp8 E4M3: 1 sign, 4 exponent (bias 7), 3 mantissa */
typedef uint8_t braid_e5m2_t;  /* OCP fp8 E5M2: 1 sign, 5 exponent (bias 15), 2 mantissa */

/* ---------------------------------------------------------------------------------------------
 * float32 bits. memcpy is the defined way to reinterpret in both C and C++ and compiles to a
 * register move; the device has an intrinsic for it.
 * ------------------------------------------------------------------------------------------- */

BRAID_HD uint32_t braid__f32_bits(float f)
{
#ifdef __CUDA_ARCH__
    return __float_as_uint(f);
#else
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
#endif
}

BRAID_HD float braid__f32_from_bits(uint32_t u)
{
#ifdef __CUDA_ARCH__
    return __uint_as_float(u);
#else
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
#endif
}

/* v / 2^s rounded to nearest, ties to even; 1 <= s <= 24 and v < 2^31 so nothing overflows. */
BRAID_HD uint32_t braid__rne_shift(uint32_t v, int s)
{
    uint32_t half_minus_one = (1u << (s - 1)) - 1u;
    return (v + half_minus_one + ((v >> s) & 1u)) >> s;
}

/*
 * Rounds the finite float32 magnitude `ax` (bits, sign cleared) to a binary format with `mb`
 * mantissa bits and exponent bias `bias`, returning its magnitude bits (exponent << mb |
 * mantissa). A mantissa that rounds up carries into the exponent, which is what rounding wants.
 * The result may exceed the format's largest finite value; the caller decides what overflow is.
 */
BRAID_HD uint32_t braid__round_small(uint32_t ax, int mb, int bias)
{
    int e = (int)(ax >> 23) - 127; /* unbiased exponent; float32 subnormals land below */
    if (e < -bias - mb)
        return 0; /* below half the smallest subnormal (a tie there rounds to even: 0) */
    if (e >= 1 - bias) {
        /* Normal in the target: rebias the exponent in place, then drop 23 - mb bits. */
        return braid__rne_shift(ax - ((uint32_t)(127 - bias) << 23), 23 - mb);
    }
    /* Subnormal in the target: count units of 2^(1 - bias - mb) in the full significand. */
    uint32_t sig = (ax & 0x7fffffu) | 0x800000u;
    return braid__rne_shift(sig, 24 - bias - mb - e);
}

/* Magnitude bits of a NaN of a format with `mb` mantissa bits: the leading payload bits kept,
 * or the quiet bit alone when none of them is set (an empty mantissa would read as infinity). */
BRAID_HD uint32_t braid__nan_small(uint32_t ax, int mb, uint32_t exp_all_ones)
{
    uint32_t payload = (ax & 0x7fffffu) >> (23 - mb);
    if (payload == 0)
        payload = 1u << (mb - 1);
    return (exp_all_ones << mb) | payload;
}

/* Decodes a finite magnitude of a format with `mb` mantissa bits and `bias` (exponent field
 * not all ones, except for E4M3 whose top exponent is finite). Exact: every such value fits. */
BRAID_HD float braid__small_to_f32(uint32_t mag, int mb, int bias)
{
    uint32_t e = mag >> mb;
    uint32_t m = mag & ((1u << mb) - 1u);
    if (e == 0) {
        /* Subnormal: m * 2^(1 - bias - mb); m and the power of two are both exact in float. */
        float unit = braid__f32_from_bits((uint32_t)(127 + 1 - bias - mb) << 23);
        return (float)m * unit;
    }
    return braid__f32_from_bits(((e + (uint32_t)(127 - bias)) << 23) | (m << (23 - mb)));
}

/* ---------------------------------------------------------------------------------------------
 * float16 (IEEE binary16)
 * ------------------------------------------------------------------------------------------- */

/* The IEEE-like small floats, float16 and fp8 E5M2: 5 exponent bits (bias 15), mb mantissa
 * bits, exponent all ones for infinity and NaN; only the mantissa width differs. */
BRAID_HD float braid__ieee5_to_f32(uint32_t v, int mb)
{
    uint32_t sign = (v >> (5 + mb) & 1u) << 31;
    uint32_t mag = v & ((1u << (5 + mb)) - 1u);
    if (mag >= (0x1fu << mb)) /* inf or NaN: widen the mantissa, payload included */
        return braid__f32_from_bits(sign | 0x7f800000u | ((mag & ((1u << mb) - 1u)) << (23 - mb)));
    return braid__f32_from_bits(sign | braid__f32_bits(braid__small_to_f32(mag, mb, 15)));
}

BRAID_HD uint32_t braid__f32_to_ieee5(float f, int mb)
{
    uint32_t x = braid__f32_bits(f);
    uint32_t sign = (x >> 31) << (5 + mb);
    uint32_t ax = x & 0x7fffffffu;
    uint32_t inf = 0x1fu << mb;
    if (ax > 0x7f800000u)
        return sign | braid__nan_small(ax, mb, 0x1fu);
    if (ax == 0x7f800000u)
        return sign | inf;
    uint32_t mag = braid__round_small(ax, mb, 15);
    return sign | (mag > inf ? inf : mag); /* rounded beyond the largest finite: overflow */
}

BRAID_HD float braid__f16_to_f32(braid_f16_t h)
{
    return braid__ieee5_to_f32(h, 10);
}

BRAID_HD braid_f16_t braid__f32_to_f16(float f)
{
    return (braid_f16_t)braid__f32_to_ieee5(f, 10);
}

BRAID_HD float braid__bf16_to_f32(braid_bf16_t h)
{
    return braid__f32_from_bits((uint32_t)h << 16);
}

BRAID_HD braid_bf16_t braid__f32_to_bf16(float f)
{
    uint32_t x = braid__f32_bits(f);
    if ((x & 0x7fffffffu) > 0x7f800000u) {
        uint32_t top = x >> 16;
        return (braid_bf16_t)((top & 0x7fu) ? top : (top | 0x40u));
    }
    return (braid_bf16_t)((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

/* ---------------------------------------------------------------------------------------------
 * fp8 E4M3 (OCP): bias 7, no infinities; S.1111.111 is NaN, so the largest finite value is
 * S.1111.110 = 448. Overflow saturates (see the header comment).
 * ------------------------------------------------------------------------------------------- */

BRAID_HD float braid__e4m3_to_f32(braid_e4m3_t v)
{
    uint32_t sign = (uint32_t)(v & 0x80u) << 24;
    uint32_t mag = v & 0x7fu;
    if (mag == 0x7fu)
        return braid__f32_from_bits(sign | 0x7fc00000u);
    return braid__f32_from_bits(sign | braid__f32_bits(braid__small_to_f32(mag, 3, 7)));
}

BRAID_HD braid_e4m3_t braid__f32_to_e4m3(float f)
{
    uint32_t x = braid__f32_bits(f);
    uint32_t sign = (x >> 24) & 0x80u;
    uint32_t ax = x & 0x7fffffffu;
    uint32_t mag;
    if (ax > 0x7f800000u)
        mag = 0x7fu;
    else if (ax == 0x7f800000u)
        mag = 0x7eu;
    else {
        mag = braid__round_small(ax, 3, 7);
        if (mag > 0x7eu) /* beyond 448, including what would round to 480 (the NaN code) */
            mag = 0x7eu;
    }
    return (braid_e4m3_t)(sign | mag);
}

/* ---------------------------------------------------------------------------------------------
 * fp8 E5M2 (OCP): bias 15, IEEE-like: S.11111.00 is infinity, S.11111.xx (xx != 0) NaN,
 * largest finite 57344. Overflow gives infinity.
 * ------------------------------------------------------------------------------------------- */

BRAID_HD float braid__e5m2_to_f32(braid_e5m2_t v)
{
    return braid__ieee5_to_f32(v, 2);
}

BRAID_HD braid_e5m2_t braid__f32_to_e5m2(float f)
{
    return (braid_e5m2_t)braid__f32_to_ieee5(f, 2);
}

/* ---------------------------------------------------------------------------------------------
 * Combine functions: braid__<op>_<dtype>(a, b). avg_<dtype>(a, b, n) is the last combination
 * of an average (sum, then the division by n); div_<dtype>(a, n) is the division alone, for a
 * copy that finishes an average.
 * ------------------------------------------------------------------------------------------- */

/* Integers: U is the unsigned type the arithmetic runs in (at least unsigned int, so the 8-bit
 * types do not promote to signed int), W the type the average divides in (wide enough that n
 * is not truncated; signed for signed types, so the quotient truncates towards zero). Casting
 * the unsigned result back to a signed type keeps the low bits on every compiler braid
 * supports (it is implementation-defined, not undefined, in C). */
#define BRAID__INT_OPS(NAME, T, U, W)                                                              \
    BRAID_HD T braid__sum_##NAME(T a, T b)                                                         \
    {                                                                                              \
        return (T)((U)a + (U)b);                                                                   \
    }                                                                                              \
    BRAID_HD T braid__prod_##NAME(T a, T b)                                                        \
    {                                                                                              \
        return (T)((U)a * (U)b);                                                                   \
    }                                                                                              \
    BRAID_HD T braid__min_##NAME(T a, T b)                                                         \
    {                                                                                              \
        return a < b ? a : b;                                                                      \
    }                                                                                              \
    BRAID_HD T braid__max_##NAME(T a, T b)                                                         \
    {                                                                                              \
        return a > b ? a : b;                                                                      \
    }                                                                                              \
    BRAID_HD T braid__div_##NAME(T a, int n)                                                       \
    {                                                                                              \
        return (T)((W)a / (W)n);                                                                   \
    }                                                                                              \
    BRAID_HD T braid__avg_##NAME(T a, T b, int n)                                                  \
    {                                                                                              \
        return braid__div_##NAME(braid__sum_##NAME(a, b), n);                                      \
    }

BRAID__INT_OPS(i8, int8_t, uint32_t, int32_t)
BRAID__INT_OPS(u8, uint8_t, uint32_t, uint32_t)
BRAID__INT_OPS(i32, int32_t, uint32_t, int64_t)
BRAID__INT_OPS(u32, uint32_t, uint32_t, uint32_t)
BRAID__INT_OPS(i64, int64_t, uint64_t, int64_t)
BRAID__INT_OPS(u64, uint64_t, uint64_t, uint64_t)

/* float32 and float64: IEEE operations, plus the NaN and signed-zero rules of min/max. The
 * comparisons come first so that the common case is two compares and a select. */
#define BRAID__FLOAT_OPS(NAME, T)                                                                  \
    BRAID_HD T braid__sum_##NAME(T a, T b)                                                         \
    {                                                                                              \
        return a + b;                                                                              \
    }                                                                                              \
    BRAID_HD T braid__prod_##NAME(T a, T b)                                                        \
    {                                                                                              \
        return a * b;                                                                              \
    }                                                                                              \
    BRAID_HD T braid__min_##NAME(T a, T b)                                                         \
    {                                                                                              \
        if (a < b)                                                                                 \
            return a;                                                                              \
        if (b < a)                                                                                 \
            return b;                                                                              \
        if (a != a || b != b)                                                                      \
            return a + b;          /* NaN */                                                       \
        return signbit(a) ? a : b; /* equal: only the zeros' signs may differ */                   \
    }                                                                                              \
    BRAID_HD T braid__max_##NAME(T a, T b)                                                         \
    {                                                                                              \
        if (a > b)                                                                                 \
            return a;                                                                              \
        if (b > a)                                                                                 \
            return b;                                                                              \
        if (a != a || b != b)                                                                      \
            return a + b;                                                                          \
        return signbit(a) ? b : a;                                                                 \
    }                                                                                              \
    BRAID_HD T braid__div_##NAME(T a, int n)                                                       \
    {                                                                                              \
        return a / (T)n;                                                                           \
    }                                                                                              \
    BRAID_HD T braid__avg_##NAME(T a, T b, int n)                                                  \
    {                                                                                              \
        return (a + b) / (T)n;                                                                     \
    }

BRAID__FLOAT_OPS(f32, float)
BRAID__FLOAT_OPS(f64, double)

/* The narrow floats: widen both operands, combine in float32, round back once. min and max
 * need no rounding (the chosen operand converts back exactly) but go through the same path so
 * that one rule covers NaN and zeros. */
#define BRAID__NARROW_OPS(NAME, T)                                                                 \
    BRAID_HD T braid__sum_##NAME(T a, T b)                                                         \
    {                                                                                              \
        return braid__f32_to_##NAME(braid__##NAME##_to_f32(a) + braid__##NAME##_to_f32(b));        \
    }                                                                                              \
    BRAID_HD T braid__prod_##NAME(T a, T b)                                                        \
    {                                                                                              \
        return braid__f32_to_##NAME(braid__##NAME##_to_f32(a) * braid__##NAME##_to_f32(b));        \
    }                                                                                              \
    BRAID_HD T braid__min_##NAME(T a, T b)                                                         \
    {                                                                                              \
        return braid__f32_to_##NAME(                                                               \
            braid__min_f32(braid__##NAME##_to_f32(a), braid__##NAME##_to_f32(b)));                 \
    }                                                                                              \
    BRAID_HD T braid__max_##NAME(T a, T b)                                                         \
    {                                                                                              \
        return braid__f32_to_##NAME(                                                               \
            braid__max_f32(braid__##NAME##_to_f32(a), braid__##NAME##_to_f32(b)));                 \
    }                                                                                              \
    BRAID_HD T braid__div_##NAME(T a, int n)                                                       \
    {                                                                                              \
        return braid__f32_to_##NAME(braid__##NAME##_to_f32(a) / (float)n);                         \
    }                                                                                              \
    BRAID_HD T braid__avg_##NAME(T a, T b, int n)                                                  \
    {                                                                                              \
        float s = braid__##NAME##_to_f32(a) + braid__##NAME##_to_f32(b);                           \
        return braid__f32_to_##NAME(s / (float)n);                                                 \
    }

BRAID__NARROW_OPS(f16, braid_f16_t)
BRAID__NARROW_OPS(bf16, braid_bf16_t)
BRAID__NARROW_OPS(e4m3, braid_e4m3_t)
BRAID__NARROW_OPS(e5m2, braid_e5m2_t)

#endif
