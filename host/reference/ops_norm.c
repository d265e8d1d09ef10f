/* softmax over the last axis (scale, mask, causal), layernorm and rmsnorm. */
#include "host/reference/internal.h"

porta_status porta_ref_softmax(const porta_ref_call *call)
{
    const porta_shape *shape = &call->out_tensor->shape;
    int64_t n = shape->rank ? shape->dims[shape->rank - 1] : 1;
    int64_t m = shape->rank >= 2 ? shape->dims[shape->rank - 2] : 1;
    double scale = porta_node_float(call->graph, call->node, "scale");
    bool causal = porta_node_bool(call->graph, call->node, "causal");
    const porta_tensor *mask = call->n_in > 1 ? call->in[1] : NULL;
    int64_t strides[PORTA_MAX_RANK];
    if (mask) porta_ref_broadcast_strides(&mask->shape, shape, strides);
    for (int64_t row = 0; row < call->out_count / n; row++) {
        double *z = call->out + row * n;
        int64_t i = row % m;
        for (int64_t j = 0; j < n; j++) {
            int64_t flat = row * n + j;
            double v = call->x[0][flat] * scale;
            if (mask)
                v = porta_ref_apply_mask(v, call->x[1][porta_ref_offset(shape, strides, flat)],
                                         mask->dtype == PORTA_I32);
            if (causal && porta_ref_causal_masked(i, j, m, n)) v = -INFINITY;
            z[j] = v;
        }
        porta_ref_softmax_row(z, n);
    }
    return PORTA_OK;
}

porta_status porta_ref_layernorm(const porta_ref_call *call)
{
    const porta_shape *shape = &call->out_tensor->shape;
    int64_t d = shape->dims[shape->rank - 1];
    double eps = porta_node_float(call->graph, call->node, "eps");
    const double *gamma = call->x[1], *beta = call->n_in > 2 && call->in[2] ? call->x[2] : NULL;
    for (int64_t row = 0; row < call->out_count / d; row++) {
        const double *x = call->x[0] + row * d;
        double mean = 0.0, var = 0.0;
        for (int64_t i = 0; i < d; i++) mean += x[i];
        mean /= (double)d;
        for (int64_t i = 0; i < d; i++) var += (x[i] - mean) * (x[i] - mean);
        var /= (double)d;
        double inv = 1.0 / sqrt(var + eps);
        for (int64_t i = 0; i < d; i++)
            call->out[row * d + i] = (x[i] - mean) * inv * gamma[i] + (beta ? beta[i] : 0.0);
    }
    return PORTA_OK;
}

porta_status porta_ref_rmsnorm(const porta_ref_call *call)
{
    const porta_shape *shape = &call->out_tensor->shape;
    int64_t d = shape->dims[shape->rank - 1];
    double eps = porta_node_float(call->graph, call->node, "eps");
    for (int64_t row = 0; row < call->out_count / d; row++) {
        const double *x = call->x[0] + row * d;
        double sq = 0.0;
        for (int64_t i = 0; i < d; i++) sq += x[i] * x[i];
        double inv = 1.0 / sqrt(sq / (double)d + eps);
        for (int64_t i = 0; i < d; i++) call->out[row * d + i] = x[i] * inv * call->x[1][i];
    }
    return PORTA_OK;
}
