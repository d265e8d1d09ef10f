/* Numpy broadcasting, written once: binary ops and masks both index through these strides. */
#include "host/reference/internal.h"

void porta_ref_broadcast_strides(const porta_shape *in, const porta_shape *out,
                                 int64_t strides[PORTA_MAX_RANK])
{
    int64_t stride = 1;
    for (int i = out->rank - 1; i >= 0; i--) {
        int k = in->rank - out->rank + i;
        if (k < 0) {
            strides[i] = 0;
            continue;
        }
        strides[i] = in->dims[k] == 1 ? 0 : stride;
        stride *= in->dims[k];
    }
    for (int i = out->rank; i < PORTA_MAX_RANK; i++) strides[i] = 0;
}

int64_t porta_ref_offset(const porta_shape *out, const int64_t strides[PORTA_MAX_RANK],
                         int64_t flat)
{
    int64_t offset = 0;
    for (int i = out->rank - 1; i >= 0; i--) {
        offset += (flat % out->dims[i]) * strides[i];
        flat /= out->dims[i];
    }
    return offset;
}
