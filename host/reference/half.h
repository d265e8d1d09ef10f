/* IEEE 754 binary16 (f16) conversions, exact, rounding to nearest with ties to even. The one place
 * f16 values are made: the reference executor, the seed fill and .npy I/O all use it. */
#ifndef PORTA_HALF_H
#define PORTA_HALF_H

#include <stdint.h>

/* The f16 nearest to x (ties to even); overflow gives +-inf, NaN stays NaN. Rounds once, straight
 * from double, so no value is rounded twice. */
uint16_t porta_half_from_double(double x);
/* The exact value of an f16. */
double porta_half_to_double(uint16_t h);
/* x rounded to the nearest f16 value, as a double. */
double porta_half_round(double x);

static inline uint16_t porta_half_from_float(float x) { return porta_half_from_double((double)x); }
static inline float porta_half_to_float(uint16_t h) { return (float)porta_half_to_double(h); }

/* x rounded to the nearest bfloat16 (8 significant bits, f32's exponent range), ties to even;
 * past the largest bf16, infinity. */
double porta_bfloat_round(double x);

#endif
