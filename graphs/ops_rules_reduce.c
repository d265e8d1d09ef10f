/* Shape rules and FLOP counts of the reductions (sum, mean, max, argmax, masked_mean), l2norm,
 * where and full. docs/ops.md states their math. */
#include "graphs/ops_rules.h"
#include "graphs/ops_rules_helpers.h"

#include <math.h>

porta_reduce_dims porta_reduce_dims_of(const porta_graph *graph, const porta_node *node)
{
    const porta_shape *x = operand_shape(graph, node, 0);
    porta_reduce_dims d = {.axis = x->rank - 1, .outer = 1, .length = 1, .inner = 1};
    if (node->op == PORTA_OP_MASKED_MEAN) d.axis = 1;
    if (node->op == PORTA_OP_SUM || node->op == PORTA_OP_MEAN || node->op == PORTA_OP_MAX)
        resolve_axis(porta_node_int(graph, node, "axis"), x->rank, &d.axis);
    for (int i = 0; i < x->rank; i++) {
        if (i < d.axis) d.outer *= x->dims[i];
        else if (i == d.axis) d.length = x->dims[i];
        else d.inner *= x->dims[i];
    }
    return d;
}

/* x's shape without `axis`, or with it as 1 when keepdim. */
static void drop_axis(porta_infer *in, int axis)
{
    const porta_shape *x = &in->in[0]->shape;
    bool keepdim = porta_node_bool(in->graph, in->node, "keepdim");
    in->out_shape = (porta_shape){0};
    for (int i = 0; i < x->rank; i++) {
        if (i == axis && !keepdim) continue;
        in->out_shape.dims[in->out_shape.rank++] = i == axis ? 1 : x->dims[i];
    }
}

porta_status porta_infer_reduce(porta_infer *in)
{
    porta_status status;
    if ((status = need_float(in, 0, -1)) || (status = need_rank(in, 0, 1, 4))) return status;
    int64_t axis_attr = porta_node_int(in->graph, in->node, "axis");
    int axis;
    if (!resolve_axis(axis_attr, in->in[0]->shape.rank, &axis))
        return fail(in, "axis=%lld is out of range for x %s", (long long)axis_attr, IN_SHAPE(0));
    drop_axis(in, axis);
    in->out_dtype = in->in[0]->dtype;
    return PORTA_OK;
}

porta_status porta_infer_argmax(porta_infer *in)
{
    porta_status status;
    if ((status = need_float(in, 0, -1)) || (status = need_rank(in, 0, 1, 4))) return status;
    drop_axis(in, in->in[0]->shape.rank - 1);
    in->out_dtype = PORTA_I32;
    return PORTA_OK;
}

porta_status porta_infer_masked_mean(porta_infer *in)
{
    porta_status status;
    if ((status = need_float(in, 0, -1)) || (status = need_rank(in, 0, 3, 3))) return status;
    const porta_tensor *x = in->in[0], *mask = in->in[1];
    if (mask->dtype != PORTA_I32 && mask->dtype != x->dtype)
        return fail(in, "mask is %s; expected i32 (nonzero keeps) or %s (a weight), as x %s",
                    porta_dtype_name(mask->dtype), porta_dtype_name(x->dtype), IN_SHAPE(0));
    if (mask->shape.rank != 2 || mask->shape.dims[0] != x->shape.dims[0] ||
        mask->shape.dims[1] != x->shape.dims[1])
        return fail(in, "mask has shape %s; expected [%lld, %lld], the first two dims of x %s",
                    IN_SHAPE(1), (long long)x->shape.dims[0], (long long)x->shape.dims[1],
                    IN_SHAPE(0));
    in->out_shape = (porta_shape){2, {x->shape.dims[0], x->shape.dims[2]}};
    in->out_dtype = x->dtype;
    return PORTA_OK;
}

porta_status porta_infer_l2norm(porta_infer *in)
{
    porta_status status;
    if ((status = need_float(in, 0, -1)) || (status = need_rank(in, 0, 1, 4))) return status;
    in->out_shape = in->in[0]->shape;
    in->out_dtype = in->in[0]->dtype;
    return PORTA_OK;
}

porta_status porta_infer_where(porta_infer *in)
{
    const porta_tensor *cond = in->in[0], *a = in->in[1], *b = in->in[2];
    if (cond->dtype != PORTA_I32 && cond->dtype != PORTA_F32 && cond->dtype != PORTA_F16)
        return fail(in, "cond is %s; expected i32 or a float dtype", porta_dtype_name(cond->dtype));
    if (a->dtype != b->dtype)
        return fail(in, "a is %s but b is %s; both must have one dtype",
                    porta_dtype_name(a->dtype), porta_dtype_name(b->dtype));
    porta_shape ab;
    if (!porta_shape_broadcast(&a->shape, &b->shape, &ab) ||
        !porta_shape_broadcast(&cond->shape, &ab, &in->out_shape))
        return fail(in, "shapes cond %s, a %s and b %s do not broadcast", IN_SHAPE(0), IN_SHAPE(1),
                    IN_SHAPE(2));
    in->out_dtype = a->dtype;
    return PORTA_OK;
}

porta_status porta_infer_full(porta_infer *in)
{
    int n;
    const int64_t *dims = porta_node_ints(in->graph, in->node, "shape", &n);
    if (n > PORTA_MAX_RANK) return fail(in, "shape has %d dims; at most %d", n, PORTA_MAX_RANK);
    in->out_shape = (porta_shape){.rank = n};
    for (int i = 0; i < n; i++) {
        if (dims[i] <= 0) return fail(in, "shape[%d] is %lld; dims must be positive", i,
                                      (long long)dims[i]);
        in->out_shape.dims[i] = dims[i];
    }
    const char *dtype = porta_node_string(in->graph, in->node, "dtype");
    in->out_dtype = !strcmp(dtype, "f16") ? PORTA_F16 : !strcmp(dtype, "i32") ? PORTA_I32
                                                                              : PORTA_F32;
    double value = porta_node_float(in->graph, in->node, "value");
    if (in->out_dtype == PORTA_I32 &&
        (value != floor(value) || value < -2147483648.0 || value > 2147483647.0))
        return fail(in, "value=%g is not an i32 (an integer from -2147483648 to 2147483647)",
                    value);
    return PORTA_OK;
}

/* One add or comparison per element of x. */
uint64_t porta_flops_reduce(const porta_graph *graph, const porta_node *node)
{
    return (uint64_t)elements(operand_shape(graph, node, 0));
}

/* A multiply and an add per element of x, an add per mask weight, a division per result. */
uint64_t porta_flops_masked_mean(const porta_graph *graph, const porta_node *node)
{
    uint64_t weighted = porta_count_mul(2u, (uint64_t)elements(operand_shape(graph, node, 0)));
    return porta_count_add(porta_count_add(weighted,
                                           (uint64_t)elements(operand_shape(graph, node, 1))),
                           (uint64_t)elements(out_shape(graph, node)));
}

/* A square and an add per element, then a multiply. */
uint64_t porta_flops_l2norm(const porta_graph *graph, const porta_node *node)
{
    return porta_count_mul(3u, (uint64_t)elements(out_shape(graph, node)));
}
