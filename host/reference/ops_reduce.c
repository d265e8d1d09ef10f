/* The reductions (sum, mean, max, argmax, masked_mean), l2norm, where and full, as docs/ops.md
 * states them. */
#include "host/reference/internal.h"

/* x seen as [outer, length, inner] around the reduced axis: element j of result row (o, i). */
static double at(const porta_ref_call *call, const porta_reduce_dims *d, int64_t o, int64_t i,
                 int64_t j)
{
    return call->x[0][(o * d->length + j) * d->inner + i];
}

porta_status porta_ref_reduce(const porta_ref_call *call)
{
    porta_reduce_dims d = porta_reduce_dims_of(call->graph, call->node);
    int op = call->node->op;
    for (int64_t o = 0; o < d.outer; o++)
        for (int64_t i = 0; i < d.inner; i++) {
            double sum = 0.0, best = NAN;
            int64_t best_at = 0;
            for (int64_t j = 0; j < d.length; j++) {
                double v = at(call, &d, o, i, j);
                sum += v;
                /* NaN never wins; the first of equal maxima does */
                if (!isnan(v) && (isnan(best) || v > best)) {
                    best = v;
                    best_at = j;
                }
            }
            double r = op == PORTA_OP_SUM    ? sum
                       : op == PORTA_OP_MEAN ? sum / (double)d.length
                       : op == PORTA_OP_MAX  ? best
                                             : (double)best_at;
            call->out[o * d.inner + i] = r;
        }
    return PORTA_OK;
}

porta_status porta_ref_masked_mean(const porta_ref_call *call)
{
    porta_reduce_dims d = porta_reduce_dims_of(call->graph, call->node);
    bool mask_i32 = call->in[1]->dtype == PORTA_I32;
    for (int64_t b = 0; b < d.outer; b++)
        for (int64_t i = 0; i < d.inner; i++) {
            double sum = 0.0, weights = 0.0;
            for (int64_t s = 0; s < d.length; s++) {
                double m = call->x[1][b * d.length + s];
                double w = mask_i32 ? (m != 0.0 ? 1.0 : 0.0) : m;
                sum += w * at(call, &d, b, i, s);
                weights += w;
            }
            call->out[b * d.inner + i] = sum / fmax(weights, 1e-9);
        }
    return PORTA_OK;
}

porta_status porta_ref_l2norm(const porta_ref_call *call)
{
    const porta_shape *shape = &call->out_tensor->shape;
    int64_t n = shape->dims[shape->rank - 1];
    double eps = porta_node_float(call->graph, call->node, "eps");
    for (int64_t row = 0; row < call->out_count / n; row++) {
        const double *x = call->x[0] + row * n;
        double sq = 0.0;
        for (int64_t j = 0; j < n; j++) sq += x[j] * x[j];
        double norm = fmax(sqrt(sq), eps);
        for (int64_t j = 0; j < n; j++) call->out[row * n + j] = x[j] / norm;
    }
    return PORTA_OK;
}

porta_status porta_ref_where(const porta_ref_call *call)
{
    const porta_shape *out = &call->out_tensor->shape;
    int64_t strides[3][PORTA_MAX_RANK];
    for (int k = 0; k < 3; k++) porta_ref_broadcast_strides(&call->in[k]->shape, out, strides[k]);
    for (int64_t n = 0; n < call->out_count; n++) {
        double cond = call->x[0][porta_ref_offset(out, strides[0], n)];
        /* nonzero picks a: NaN is nonzero, -0 is not */
        int k = cond != 0.0 ? 1 : 2;
        call->out[n] = call->x[k][porta_ref_offset(out, strides[k], n)];
    }
    return PORTA_OK;
}

porta_status porta_ref_full(const porta_ref_call *call)
{
    double value = porta_node_float(call->graph, call->node, "value");
    /* an f32 result holds the value as an f32 (f16 and i32 ones are rounded after every op) */
    if (call->out_tensor->dtype == PORTA_F32) value = (double)(float)value;
    for (int64_t n = 0; n < call->out_count; n++) call->out[n] = value;
    return PORTA_OK;
}
