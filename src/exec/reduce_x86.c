/*
 * x86 fast paths for the narrow floats' sum, chosen at run time when the CPU has F16C and
 * AVX2: eight elements widened to float32, added, and rounded back to nearest-even per lane.
 * They compute exactly what the portable loops in reduce_host.c compute (the same widening,
 * the same float32 addition, the same rounding), only eight lanes at a time; the tests compare
 * both against an independent reference.
 */
#include "exec/reduce_x86.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#include <stdatomic.h>

#include "exec/dtype_math.h"

#define X86_FAST __attribute__((target("avx2,f16c")))

X86_FAST static void sum_f16(uint16_t *d0, uint16_t *d1, const uint16_t *a, const uint16_t *b,
                             size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 x = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(a + i)));
        __m256 y = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(b + i)));
        __m128i r = _mm256_cvtps_ph(_mm256_add_ps(x, y), _MM_FROUND_TO_NEAREST_INT);
        _mm_storeu_si128((__m128i *)(d0 + i), r);
        if (d1)
            _mm_storeu_si128((__m128i *)(d1 + i), r);
    }
    for (; i < n; i++) {
        uint16_t r = braid__sum_f16(a[i], b[i]);
        d0[i] = r;
        if (d1)
            d1[i] = r;
    }
}

/* float32 -> bfloat16, round to nearest-even, NaNs kept quiet: the vector form of
 * braid__f32_to_bf16. */
X86_FAST static __m128i f32_to_bf16x8(__m256 v)
{
    __m256i x = _mm256_castps_si256(v);
    __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(x, 16), _mm256_set1_epi32(1));
    __m256i rounded = _mm256_add_epi32(x, _mm256_add_epi32(_mm256_set1_epi32(0x7fff), lsb));
    __m256i quiet = _mm256_or_si256(x, _mm256_set1_epi32(0x00400000));
    __m256i nan = _mm256_castps_si256(_mm256_cmp_ps(v, v, _CMP_UNORD_Q));
    __m256i top = _mm256_srli_epi32(_mm256_blendv_epi8(rounded, quiet, nan), 16);
    /* Pack the eight 32-bit lanes' low halves into eight 16-bit values, in order. */
    __m256i packed = _mm256_packus_epi32(top, top);
    packed = _mm256_permute4x64_epi64(packed, 0x08);
    return _mm256_castsi256_si128(packed);
}

X86_FAST static void sum_bf16(uint16_t *d0, uint16_t *d1, const uint16_t *a, const uint16_t *b,
                              size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256i xa = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(a + i)));
        __m256i xb = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(b + i)));
        __m256 x = _mm256_castsi256_ps(_mm256_slli_epi32(xa, 16));
        __m256 y = _mm256_castsi256_ps(_mm256_slli_epi32(xb, 16));
        __m128i r = f32_to_bf16x8(_mm256_add_ps(x, y));
        _mm_storeu_si128((__m128i *)(d0 + i), r);
        if (d1)
            _mm_storeu_si128((__m128i *)(d1 + i), r);
    }
    for (; i < n; i++) {
        uint16_t r = braid__sum_bf16(a[i], b[i]);
        d0[i] = r;
        if (d1)
            d1[i] = r;
    }
}

int braid__reduce_x86(void *d0, void *d1, const void *a, const void *b, size_t n, braid_dtype_t dt,
                      braid_op_t op)
{
    /* Asked once; racing first callers store the same answer. */
    static atomic_int usable = -1;
    int can = atomic_load_explicit(&usable, memory_order_relaxed);
    if (can < 0) {
        can = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("f16c");
        atomic_store_explicit(&usable, can, memory_order_relaxed);
    }
    if (!can || op != BRAID_SUM)
        return 0;
    if (dt == BRAID_FLOAT16)
        sum_f16(d0, d1, a, b, n);
    else if (dt == BRAID_BFLOAT16)
        sum_bf16(d0, d1, a, b, n);
    else
        return 0;
    return 1;
}

#else

int braid__reduce_x86(void *d0, void *d1, const void *a, const void *b, size_t n, braid_dtype_t dt,
                      braid_op_t op)
{
    return 0;
}

#endif
