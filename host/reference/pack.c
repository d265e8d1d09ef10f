/* Doubles to and from the host layout of a tensor's dtype, for the program API and .npy-free
 * comparisons. */
#include "host/reference/half.h"
#include "host/reference/reference.h"

void porta_reference_pack(porta_dtype dtype, const double *values, int64_t count, void *out)
{
    for (int64_t i = 0; i < count; i++) {
        double v = values[i];
        if (dtype == PORTA_F16) {
            ((uint16_t *)out)[i] = porta_half_from_double(v);
        } else if (dtype == PORTA_F32) {
            ((float *)out)[i] = (float)v;
        } else {
            porta_reference_round(PORTA_I32, &v, 1);
            ((int32_t *)out)[i] = (int32_t)v;
        }
    }
}

void porta_reference_unpack(porta_dtype dtype, const void *data, int64_t count, double *out)
{
    for (int64_t i = 0; i < count; i++) {
        if (dtype == PORTA_F16)
            out[i] = porta_half_to_double(((const uint16_t *)data)[i]);
        else if (dtype == PORTA_F32)
            out[i] = ((const float *)data)[i];
        else
            out[i] = ((const int32_t *)data)[i];
    }
}
