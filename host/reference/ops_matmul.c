/* matmul (batch dims broadcast, optional transposed b) and linear (PyTorch weight layout). */
#include "host/reference/internal.h"

#include <stdlib.h>

porta_status porta_ref_matmul(const porta_ref_call *call)
{
    const porta_shape *as = &call->in[0]->shape, *bs = &call->in[1]->shape;
    const porta_shape *os = &call->out_tensor->shape;
    bool transpose_b = porta_node_bool(call->graph, call->node, "transpose_b");
    int64_t m = as->dims[as->rank - 2], k = as->dims[as->rank - 1];
    int64_t n = os->dims[os->rank - 1];
    /* Batch dims: broadcast a's and b's leading dims to the result's. */
    porta_shape batch = {.rank = os->rank - 2}, a_batch = {.rank = as->rank - 2},
                b_batch = {.rank = bs->rank - 2};
    for (int i = 0; i < batch.rank; i++) batch.dims[i] = os->dims[i];
    for (int i = 0; i < a_batch.rank; i++) a_batch.dims[i] = as->dims[i];
    for (int i = 0; i < b_batch.rank; i++) b_batch.dims[i] = bs->dims[i];
    int64_t sa[PORTA_MAX_RANK], sb[PORTA_MAX_RANK];
    porta_ref_broadcast_strides(&a_batch, &batch, sa);
    porta_ref_broadcast_strides(&b_batch, &batch, sb);
    int64_t batches = porta_ref_elements(&batch);
    double *owned;
    porta_status status;
    const double *held = porta_ref_weight_held(call, 1, &owned, &status);
    if (!held) return status;
    for (int64_t t = 0; t < batches; t++) {
        const double *a = call->x[0] + porta_ref_offset(&batch, sa, t) * m * k;
        const double *b = held + porta_ref_offset(&batch, sb, t) * k * n;
        double *out = call->out + t * m * n;
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) {
                double sum = 0.0;
                for (int64_t p = 0; p < k; p++)
                    sum += a[i * k + p] * (transpose_b ? b[j * k + p] : b[p * n + j]);
                out[i * n + j] = sum;
            }
    }
    free(owned);
    return PORTA_OK;
}

porta_status porta_ref_linear(const porta_ref_call *call)
{
    const porta_shape *w = &call->in[1]->shape;
    int64_t outs = w->dims[0], ins = w->dims[1];
    int64_t rows = call->out_count / outs;
    const double *bias = call->in[2] ? call->x[2] : NULL;
    double *owned;
    porta_status status;
    const double *weight = porta_ref_weight_held(call, 1, &owned, &status);
    if (!weight) return status;
    for (int64_t r = 0; r < rows; r++)
        for (int64_t o = 0; o < outs; o++) {
            double sum = 0.0;
            for (int64_t i = 0; i < ins; i++) sum += call->x[0][r * ins + i] * weight[o * ins + i];
            call->out[r * outs + o] = sum + (bias ? bias[o] : 0.0);
        }
    free(owned);
    return PORTA_OK;
}
