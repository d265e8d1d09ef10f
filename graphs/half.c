/* Half-precision conversions by bit manipulation: no dependence on _Float16 or F16C, so they give
 * the same bits on every host. */
#include "graphs/half.h"

#include <string.h>

static uint32_t f32_bits(float value)
{
    uint32_t bits;
    memcpy(&bits, &value, sizeof bits);
    return bits;
}

static float f32_from_bits(uint32_t bits)
{
    float value;
    memcpy(&value, &bits, sizeof value);
    return value;
}

uint16_t porta_f32_to_f16(float value)
{
    uint32_t x = f32_bits(value);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
    uint32_t exponent = (x >> 23) & 0xffu;
    uint32_t mantissa = x & 0x7fffffu;

    if (exponent == 0xff) /* inf stays inf; NaN keeps its top payload bits and is made quiet */
        return (uint16_t)(sign | 0x7c00u | (mantissa ? 0x0200u | (mantissa >> 13) : 0));

    /* The value as an unbiased exponent e and a 24-bit significand (hidden bit included). */
    int e = (int)exponent - 127;
    if (e > 15) return (uint16_t)(sign | 0x7c00u); /* at least 2^16: past the largest f16 */
    if (e < -25) return sign;                      /* below half the smallest subnormal: ±0 */
    uint32_t significand = exponent ? (mantissa | 0x800000u) : mantissa;

    /* f16 keeps 11 significant bits for normals (e >= -14); subnormals keep fewer, counted in
     * units of 2^-24. `shift` drops the bits f16 cannot hold. */
    int shift = e >= -14 ? 13 : 13 + (-14 - e);
    uint32_t kept = significand >> shift;
    uint32_t rest = significand & ((1u << shift) - 1);
    uint32_t half = 1u << (shift - 1);
    if (rest > half || (rest == half && (kept & 1u))) kept++;

    if (e >= -14) {
        /* kept is 1.xxxxxxxxxx (bit 10 set), or 2.0 after rounding up: carry into the exponent. */
        uint32_t biased = (uint32_t)(e + 15);
        uint32_t bits = (biased << 10) + (kept - 0x400u); /* a carry from kept bumps the exponent */
        if (bits >= 0x7c00u) return (uint16_t)(sign | 0x7c00u);
        return (uint16_t)(sign | bits);
    }
    /* A subnormal (or, rounded up, the smallest normal: kept == 0x400 reads as exponent 1). */
    return (uint16_t)(sign | kept);
}

float porta_f16_to_f32(uint16_t bits)
{
    uint32_t sign = (uint32_t)(bits & 0x8000u) << 16;
    uint32_t exponent = (bits >> 10) & 0x1fu;
    uint32_t mantissa = bits & 0x3ffu;
    if (exponent == 0x1f) return f32_from_bits(sign | 0x7f800000u | (mantissa << 13));
    if (exponent == 0) {
        if (mantissa == 0) return f32_from_bits(sign);
        /* A subnormal: normalize it (f32 has the range for every f16 subnormal). */
        int e = -14;
        while (!(mantissa & 0x400u)) {
            mantissa <<= 1;
            e--;
        }
        mantissa &= 0x3ffu;
        return f32_from_bits(sign | ((uint32_t)(e + 127) << 23) | (mantissa << 13));
    }
    return f32_from_bits(sign | ((exponent - 15 + 127) << 23) | (mantissa << 13));
}

float porta_bf16_to_f32(uint16_t bits)
{
    return f32_from_bits((uint32_t)bits << 16);
}

uint16_t porta_f32_to_bf16(float value)
{
    uint32_t bits;
    memcpy(&bits, &value, sizeof bits);
    if ((bits & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((bits >> 16) | 0x40u);   /* NaN */
    /* adding 0x7fff plus the kept half's lowest bit rounds to nearest, ties to even; a carry
     * out of the mantissa steps the exponent, up to infinity */
    bits += 0x7fffu + ((bits >> 16) & 1u);
    return (uint16_t)(bits >> 16);
}
