/* 8-bit weights as the device holds them (docs/weights.md, "8-bit weights"), modelled in
 * double: each block of a channel's values along the reduced dim (the whole channel for i8c,
 * 32 values for q8_0) has scale max |w| / 127, each value becomes round(w / scale) (halves away
 * from zero) clamped to [-127, 127], times that scale. Written apart from the library's
 * quantizer on purpose: it is the check of it. */
#include "host/reference/internal.h"

#include <math.h>

const double *porta_ref_weight_held(const porta_ref_call *call, int slot, double **owned,
                                    porta_status *status)
{
    const porta_tensor *w = call->in[slot];
    *owned = NULL;
    *status = PORTA_OK;
    /* plain, or bf16: the executor rounded it already (reference.c) */
    if (w->format != PORTA_WEIGHT_I8C && w->format != PORTA_WEIGHT_Q8_0) return call->x[slot];
    /* [channels, K] with K contiguous (linear, matmul with transpose_b), else [K, channels] */
    bool k_inner = call->node->op == PORTA_OP_LINEAR ||
                   porta_node_bool(call->graph, call->node, "transpose_b");
    int64_t rows = w->shape.dims[0], cols = w->shape.dims[1];
    int64_t channels = k_inner ? rows : cols, k = k_inner ? cols : rows;
    int64_t k_step = k_inner ? 1 : cols, channel_step = k_inner ? cols : 1;
    int64_t block = w->format == PORTA_WEIGHT_Q8_0 ? 32 : k;
    double *held = porta_ref_scratch(call, rows * cols, status);
    if (!held) return NULL;
    const double *x = call->x[slot];
    for (int64_t c = 0; c < channels; c++)
        for (int64_t b0 = 0; b0 < k; b0 += block) {
            double most = 0.0;
            for (int64_t i = b0; i < b0 + block; i++)
                most = fmax(most, fabs(x[c * channel_step + i * k_step]));
            double scale = most / 127.0;
            for (int64_t i = b0; i < b0 + block; i++) {
                int64_t at = c * channel_step + i * k_step;
                double q = scale > 0.0 ? round(x[at] / scale) : 0.0;
                held[at] = fmin(127.0, fmax(-127.0, q)) * scale;
            }
        }
    *owned = held;
    return held;
}
