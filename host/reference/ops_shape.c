/* Shape ops: reshape, permute, split/merge heads, concat and slice, as index maps. */
#include "host/reference/internal.h"

#include <string.h>

static int resolve_axis(int64_t axis, int rank)
{
    return (int)(axis < 0 ? axis + rank : axis);
}

porta_status porta_ref_reshape(const porta_ref_call *call)
{
    memcpy(call->out, call->x[0], sizeof(double) * (size_t)call->out_count);
    return PORTA_OK;
}

porta_status porta_ref_permute(const porta_ref_call *call)
{
    int n;
    const int64_t *perm = porta_node_ints(call->graph, call->node, "perm", &n);
    const porta_shape *in = &call->in[0]->shape, *out = &call->out_tensor->shape;
    int64_t in_strides[PORTA_MAX_RANK], stride = 1;
    for (int i = in->rank - 1; i >= 0; i--) {
        in_strides[i] = stride;
        stride *= in->dims[i];
    }
    /* Output dim i walks input dim perm[i]. */
    int64_t strides[PORTA_MAX_RANK] = {0};
    for (int i = 0; i < n; i++) strides[i] = in_strides[perm[i]];
    for (int64_t i = 0; i < call->out_count; i++)
        call->out[i] = call->x[0][porta_ref_offset(out, strides, i)];
    return PORTA_OK;
}

porta_status porta_ref_split_heads(const porta_ref_call *call)
{
    const porta_shape *o = &call->out_tensor->shape; /* [B, H, S, D] */
    int64_t B = o->dims[0], H = o->dims[1], S = o->dims[2], D = o->dims[3];
    for (int64_t b = 0; b < B; b++)
        for (int64_t h = 0; h < H; h++)
            for (int64_t s = 0; s < S; s++)
                for (int64_t d = 0; d < D; d++)
                    call->out[((b * H + h) * S + s) * D + d] =
                        call->x[0][(b * S + s) * H * D + h * D + d];
    return PORTA_OK;
}

porta_status porta_ref_merge_heads(const porta_ref_call *call)
{
    const porta_shape *x = &call->in[0]->shape; /* [B, H, S, D] */
    int64_t B = x->dims[0], H = x->dims[1], S = x->dims[2], D = x->dims[3];
    for (int64_t b = 0; b < B; b++)
        for (int64_t h = 0; h < H; h++)
            for (int64_t s = 0; s < S; s++)
                for (int64_t d = 0; d < D; d++)
                    call->out[(b * S + s) * H * D + h * D + d] =
                        call->x[0][((b * H + h) * S + s) * D + d];
    return PORTA_OK;
}

/* Elements before `axis` (outer) and after it (inner) of a shape. */
static void outer_inner(const porta_shape *shape, int axis, int64_t *outer, int64_t *inner)
{
    *outer = 1;
    *inner = 1;
    for (int i = 0; i < axis; i++) *outer *= shape->dims[i];
    for (int i = axis + 1; i < shape->rank; i++) *inner *= shape->dims[i];
}

porta_status porta_ref_concat(const porta_ref_call *call)
{
    const porta_shape *out = &call->out_tensor->shape;
    int axis = resolve_axis(porta_node_int(call->graph, call->node, "axis"), out->rank);
    int64_t outer, inner;
    outer_inner(out, axis, &outer, &inner);
    int64_t out_row = out->dims[axis] * inner, offset = 0;
    for (int t = 0; t < call->n_in; t++) {
        int64_t chunk = call->in[t]->shape.dims[axis] * inner;
        for (int64_t o = 0; o < outer; o++)
            memcpy(call->out + o * out_row + offset, call->x[t] + o * chunk,
                   sizeof(double) * (size_t)chunk);
        offset += chunk;
    }
    return PORTA_OK;
}

porta_status porta_ref_slice(const porta_ref_call *call)
{
    const porta_shape *in = &call->in[0]->shape;
    int axis = resolve_axis(porta_node_int(call->graph, call->node, "axis"), in->rank);
    int64_t start = porta_node_int(call->graph, call->node, "start");
    int64_t length = call->out_tensor->shape.dims[axis];
    int64_t outer, inner;
    outer_inner(in, axis, &outer, &inner);
    for (int64_t o = 0; o < outer; o++)
        memcpy(call->out + o * length * inner, call->x[0] + (o * in->dims[axis] + start) * inner,
               sizeof(double) * (size_t)(length * inner));
    return PORTA_OK;
}
