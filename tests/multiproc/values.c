#include "values.h"

#include <math.h>
#include <string.h>

int tv_is_float(braid_dtype_t dt)
{
    return dt >= BRAID_FLOAT16 && dt != BRAID_NUM_DTYPES;
}

static int is_unsigned(braid_dtype_t dt)
{
    return dt == BRAID_UINT8 || dt == BRAID_UINT32 || dt == BRAID_UINT64;
}

/* Exponent and mantissa widths of the small float formats. */
static void small_float_format(braid_dtype_t dt, int *ebits, int *mbits)
{
    switch (dt) {
    case BRAID_FLOAT16:
        *ebits = 5, *mbits = 10;
        break;
    case BRAID_BFLOAT16:
        *ebits = 8, *mbits = 7;
        break;
    case BRAID_FP8_E4M3:
        *ebits = 4, *mbits = 3;
        break;
    default:
        *ebits = 5, *mbits = 2;
        break; /* E5M2 */
    }
}

double tv_input(braid_dtype_t dt, braid_op_t op, int rank, size_t block, size_t i)
{
    size_t h = (size_t)rank * 7 + i * 5 + block * 3;
    if (op == BRAID_PROD) {
        if ((rank + i + block) % 4 == 0)
            return 2;
        return !is_unsigned(dt) && (rank + 2 * i + block) % 5 == 0 ? -1 : 1;
    }
    if (dt == BRAID_FP8_E4M3 || dt == BRAID_FP8_E5M2)
        return (double)(h % 3) - 1; /* partial sums of 8 ranks stay exact in fp8 */
    if (is_unsigned(dt))
        return (double)(h % 9);
    return (double)((h + 11) % 9) - 4;
}

static uint32_t encode_small(double v, int ebits, int mbits)
{
    uint32_t sign = v < 0 ? 1u : 0u;
    double a = fabs(v);
    if (a == 0)
        return sign << (ebits + mbits);
    int e;
    double m = frexp(a, &e); /* a = m * 2^e, m in [0.5, 1) */
    int bias = (1 << (ebits - 1)) - 1;
    uint32_t exp_field = (uint32_t)(e - 1 + bias);
    uint32_t mant = (uint32_t)ldexp(2 * m - 1, mbits);
    return (sign << (ebits + mbits)) | (exp_field << mbits) | mant;
}

static double decode_small(uint32_t bits, braid_dtype_t dt, int ebits, int mbits)
{
    int sign = (bits >> (ebits + mbits)) & 1;
    uint32_t exp_field = (bits >> mbits) & ((1u << ebits) - 1);
    uint32_t mant = bits & ((1u << mbits) - 1);
    int bias = (1 << (ebits - 1)) - 1;
    double v;
    if (dt == BRAID_FP8_E4M3 && exp_field == 15 && mant == 7)
        v = NAN;
    else if (dt != BRAID_FP8_E4M3 && exp_field == (1u << ebits) - 1)
        v = mant ? NAN : INFINITY;
    else if (exp_field == 0)
        v = ldexp((double)mant, 1 - bias - mbits);
    else
        v = ldexp(1.0 + ldexp((double)mant, -mbits), (int)exp_field - bias);
    return sign ? -v : v;
}

void tv_store(void *buf, braid_dtype_t dt, size_t idx, double v)
{
    int eb, mb;
    switch (dt) {
    case BRAID_INT8:
        ((int8_t *)buf)[idx] = (int8_t)v;
        break;
    case BRAID_UINT8:
        ((uint8_t *)buf)[idx] = (uint8_t)v;
        break;
    case BRAID_INT32:
        ((int32_t *)buf)[idx] = (int32_t)v;
        break;
    case BRAID_UINT32:
        ((uint32_t *)buf)[idx] = (uint32_t)v;
        break;
    case BRAID_INT64:
        ((int64_t *)buf)[idx] = (int64_t)v;
        break;
    case BRAID_UINT64:
        ((uint64_t *)buf)[idx] = (uint64_t)v;
        break;
    case BRAID_FLOAT32:
        ((float *)buf)[idx] = (float)v;
        break;
    case BRAID_FLOAT64:
        ((double *)buf)[idx] = v;
        break;
    case BRAID_FLOAT16:
    case BRAID_BFLOAT16:
        small_float_format(dt, &eb, &mb);
        ((uint16_t *)buf)[idx] = (uint16_t)encode_small(v, eb, mb);
        break;
    default:
        small_float_format(dt, &eb, &mb);
        ((uint8_t *)buf)[idx] = (uint8_t)encode_small(v, eb, mb);
        break;
    }
}

double tv_load(const void *buf, braid_dtype_t dt, size_t idx)
{
    int eb, mb;
    switch (dt) {
    case BRAID_INT8:
        return ((const int8_t *)buf)[idx];
    case BRAID_UINT8:
        return ((const uint8_t *)buf)[idx];
    case BRAID_INT32:
        return ((const int32_t *)buf)[idx];
    case BRAID_UINT32:
        return ((const uint32_t *)buf)[idx];
    case BRAID_INT64:
        return (double)((const int64_t *)buf)[idx];
    case BRAID_UINT64:
        return (double)((const uint64_t *)buf)[idx];
    case BRAID_FLOAT32:
        return ((const float *)buf)[idx];
    case BRAID_FLOAT64:
        return ((const double *)buf)[idx];
    case BRAID_FLOAT16:
    case BRAID_BFLOAT16:
        small_float_format(dt, &eb, &mb);
        return decode_small(((const uint16_t *)buf)[idx], dt, eb, mb);
    default:
        small_float_format(dt, &eb, &mb);
        return decode_small(((const uint8_t *)buf)[idx], dt, eb, mb);
    }
}

/* Wraps an exact integer to the dtype's width, as two's complement hardware does. */
static double wrap_int(braid_dtype_t dt, int64_t v)
{
    switch (dt) {
    case BRAID_INT8:
        return (int8_t)(uint8_t)v;
    case BRAID_UINT8:
        return (uint8_t)v;
    case BRAID_INT32:
        return (int32_t)(uint32_t)v;
    case BRAID_UINT32:
        return (uint32_t)v;
    case BRAID_UINT64:
        return (double)(uint64_t)v;
    default:
        return (double)v;
    }
}

double tv_expected(braid_dtype_t dt, braid_op_t op, int nranks, size_t block, size_t i)
{
    int64_t acc = op == BRAID_PROD ? 1 : 0;
    double lo = INFINITY, hi = -INFINITY;
    for (int r = 0; r < nranks; r++) {
        double v = tv_input(dt, op, r, block, i);
        if (op == BRAID_PROD)
            acc *= (int64_t)v;
        else
            acc += (int64_t)v;
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
    }
    switch (op) {
    case BRAID_MIN:
        return lo;
    case BRAID_MAX:
        return hi;
    case BRAID_AVG:
        if (tv_is_float(dt))
            return (double)acc / nranks;
        /* Integer average: the wrapped sum divided, truncating toward zero. */
        if (is_unsigned(dt))
            return (double)((uint64_t)wrap_int(dt, acc) / (uint64_t)nranks);
        return (double)((int64_t)wrap_int(dt, acc) / nranks);
    default:
        return tv_is_float(dt) ? (double)acc : wrap_int(dt, acc);
    }
}

/* One unit in the last place of dtype at magnitude v. */
static double ulp(braid_dtype_t dt, double v)
{
    int mbits = dt == BRAID_FLOAT16    ? 10
                : dt == BRAID_BFLOAT16 ? 7
                : dt == BRAID_FP8_E4M3 ? 3
                : dt == BRAID_FP8_E5M2 ? 2
                : dt == BRAID_FLOAT32  ? 23
                                       : 52;
    int e;
    frexp(fabs(v) > 1e-30 ? fabs(v) : 1e-30, &e);
    double u = ldexp(1.0, e - 1 - mbits);
    double smallest = dt == BRAID_FP8_E4M3   ? ldexp(1, -9)
                      : dt == BRAID_FP8_E5M2 ? ldexp(1, -16)
                      : dt == BRAID_FLOAT16  ? ldexp(1, -24)
                                             : 0;
    return u > smallest ? u : smallest;
}

int tv_match(braid_dtype_t dt, braid_op_t op, double got, double expected)
{
    if (op == BRAID_AVG && tv_is_float(dt))
        return fabs(got - expected) <= ulp(dt, expected);
    return got == expected;
}
