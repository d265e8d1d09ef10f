/* Half-precision conversions (IEEE binary16 and bfloat16), bit patterns held in uint16_t. */
#ifndef PORTA_HALF_H
#define PORTA_HALF_H

#include <stdint.h>

/* f32 → f16, rounding to nearest, ties to even. Values past the f16 range become ±inf; small
 * values become f16 subnormals or ±0; NaN stays a (quiet) NaN with its sign. */
uint16_t porta_f32_to_f16(float value);
/* f16 → f32; exact for every input (subnormals, infinities and NaNs included). */
float porta_f16_to_f32(uint16_t bits);
/* f32 → bf16, rounding to nearest, ties to even (past the largest bf16: ±inf); NaN stays a
 * quiet NaN with its sign. */
uint16_t porta_f32_to_bf16(float value);
/* bf16 → f32; exact: a bf16 is the upper half of an f32. */
float porta_bf16_to_f32(uint16_t bits);

#endif
