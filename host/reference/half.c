/* f16 conversions. Scaling by powers of two is exact in double, and rint() rounds to nearest with
 * ties to even (the default floating-point environment, which porta never changes). */
#include "host/reference/half.h"

#include <math.h>

uint16_t porta_half_from_double(double x)
{
    uint16_t sign = signbit(x) ? 0x8000u : 0u;
    if (isnan(x)) return (uint16_t)(sign | 0x7e00u);
    double a = fabs(x);
    if (isinf(a)) return (uint16_t)(sign | 0x7c00u);
    if (a < 0x1p-14) {
        /* Subnormal: multiples of 2^-24. A result of 1024 is the smallest normal, whose bits are
         * exactly 1024 as well. */
        double q = rint(ldexp(a, 24));
        return (uint16_t)(sign | (uint16_t)q);
    }
    int e;
    frexp(a, &e);           /* a = m * 2^e, m in [0.5, 1): a in [2^(e-1), 2^e) */
    int exponent = e - 1;   /* a in [2^exponent, 2^(exponent+1)) */
    if (exponent > 15) return (uint16_t)(sign | 0x7c00u);
    double q = rint(ldexp(a, 10 - exponent)); /* in [1024, 2048]; 2048 carries into the exponent */
    uint32_t bits = ((uint32_t)(exponent + 15) << 10) + ((uint32_t)q - 1024u);
    if (bits >= 0x7c00u) bits = 0x7c00u; /* rounded past 65504: infinity */
    return (uint16_t)(sign | bits);
}

double porta_half_to_double(uint16_t h)
{
    double sign = (h & 0x8000u) ? -1.0 : 1.0;
    unsigned exponent = (h >> 10) & 0x1fu, mantissa = h & 0x3ffu;
    if (exponent == 0x1f) return mantissa ? NAN : sign * INFINITY;
    if (exponent == 0) return sign * ldexp((double)mantissa, -24);
    return sign * ldexp((double)(mantissa | 0x400u), (int)exponent - 25);
}

double porta_half_round(double x)
{
    return porta_half_to_double(porta_half_from_double(x));
}

double porta_bfloat_round(double x)
{
    if (isnan(x) || isinf(x) || x == 0.0) return x;
    double a = fabs(x);
    int e;
    frexp(a, &e);
    int exponent = e - 1;                   /* a in [2^exponent, 2^(exponent+1)) */
    if (exponent < -126) exponent = -126;   /* subnormal: multiples of 2^-133 */
    double r = ldexp(rint(ldexp(a, 7 - exponent)), exponent - 7);   /* 8 significant bits */
    if (r > 0x1.fep127) r = INFINITY;       /* past the largest bf16 */
    return copysign(r, x);
}
