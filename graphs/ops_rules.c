/* Shape rules and FLOP counts of every op. A shape rule checks the operands' dtypes and shapes,
 * and sets the result's; its messages name the node, the op and the shapes involved. */
#include "graphs/ops_rules.h"
#include "graphs/ops_rules_helpers.h"

#include <stdio.h>
#include <string.h>

/* ---- broadcasting ---------------------------------------------------------------------------- */

bool porta_shape_broadcast(const porta_shape *a, const porta_shape *b, porta_shape *out)
{
    int rank = a->rank > b->rank ? a->rank : b->rank;
    porta_shape result = {.rank = rank};
    for (int i = 0; i < rank; i++) {
        int ia = a->rank - rank + i, ib = b->rank - rank + i;
        int64_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
        if (da != db && da != 1 && db != 1) return false;
        result.dims[i] = da == 1 ? db : da;
    }
    *out = result;
    return true;
}

/* ---- elementwise ----------------------------------------------------------------------------- */

porta_status porta_infer_binary(porta_infer *in)
{
    porta_status status;
    if ((status = need_float(in, 0, -1)) || (status = need_float(in, 1, in->in[0]->dtype)))
        return status;
    if (!porta_shape_broadcast(&in->in[0]->shape, &in->in[1]->shape, &in->out_shape))
        return fail(in, "shapes %s and %s do not broadcast", IN_SHAPE(0), IN_SHAPE(1));
    in->out_dtype = in->in[0]->dtype;
    return PORTA_OK;
}

porta_status porta_infer_unary(porta_infer *in)
{
    porta_status status = need_float(in, 0, -1);
    in->out_dtype = in->in[0]->dtype;
    in->out_shape = in->in[0]->shape;
    return status;
}

porta_status porta_infer_cast(porta_infer *in)
{
    const char *to = porta_node_string(in->graph, in->node, "to");
    in->out_dtype = !strcmp(to, "f16") ? PORTA_F16 : !strcmp(to, "i32") ? PORTA_I32 : PORTA_F32;
    in->out_shape = in->in[0]->shape;
    return PORTA_OK;
}

uint64_t porta_flops_elementwise(const porta_graph *graph, const porta_node *node)
{
    return (uint64_t)elements(out_shape(graph, node));
}

/* ---- matmul, linear -------------------------------------------------------------------------- */

porta_status porta_infer_matmul(porta_infer *in)
{
    porta_status status;
    if ((status = need_float(in, 0, -1)) || (status = need_float(in, 1, in->in[0]->dtype)) ||
        (status = need_rank(in, 0, 2, 4)) || (status = need_rank(in, 1, 2, 4)))
        return status;
    const porta_shape *a = &in->in[0]->shape, *b = &in->in[1]->shape;
    bool transpose_b = porta_node_bool(in->graph, in->node, "transpose_b");
    int64_t m = a->dims[a->rank - 2], k = a->dims[a->rank - 1];
    int64_t bk = b->dims[b->rank - (transpose_b ? 1 : 2)];
    int64_t n = b->dims[b->rank - (transpose_b ? 2 : 1)];
    if (k != bk)
        return fail(in, "inner dims differ: a %s has K=%lld, b %s%s has K=%lld", SHAPE(*a),
                    (long long)k, SHAPE(*b), transpose_b ? " (transposed)" : "", (long long)bk);
    porta_shape batch_a = {.rank = a->rank - 2}, batch_b = {.rank = b->rank - 2}, batch;
    memcpy(batch_a.dims, a->dims, sizeof(int64_t) * (size_t)batch_a.rank);
    memcpy(batch_b.dims, b->dims, sizeof(int64_t) * (size_t)batch_b.rank);
    if (!porta_shape_broadcast(&batch_a, &batch_b, &batch))
        return fail(in, "batch dims of %s and %s do not broadcast", SHAPE(*a), SHAPE(*b));
    in->out_shape = batch;
    in->out_shape.rank = batch.rank + 2;
    in->out_shape.dims[batch.rank] = m;
    in->out_shape.dims[batch.rank + 1] = n;
    in->out_dtype = in->in[0]->dtype;
    return PORTA_OK;
}

uint64_t porta_flops_matmul(const porta_graph *graph, const porta_node *node)
{
    const porta_shape *a = operand_shape(graph, node, 0);
    return porta_count_mul(2u * (uint64_t)elements(out_shape(graph, node)),
                           (uint64_t)a->dims[a->rank - 1]);
}

porta_status porta_infer_linear(porta_infer *in)
{
    porta_status status;
    porta_dtype dtype = in->in[0]->dtype;
    if ((status = need_float(in, 0, -1)) || (status = need_float(in, 1, dtype)) ||
        (status = need_rank(in, 0, 1, 4)) || (status = need_rank(in, 1, 2, 2)))
        return status;
    int64_t features = last_dim(in->in[0]);
    const porta_shape *w = &in->in[1]->shape;
    if (w->dims[1] != features)
        return fail(in, "weight %s is [out, in] with in=%lld, but x %s has %lld features",
                    SHAPE(*w), (long long)w->dims[1], IN_SHAPE(0), (long long)features);
    if (in->in[2]) {
        if ((status = need_float(in, 2, dtype))) return status;
        if (in->in[2]->shape.rank != 1 || in->in[2]->shape.dims[0] != w->dims[0])
            return fail(in, "bias has shape %s; expected [%lld]", IN_SHAPE(2),
                        (long long)w->dims[0]);
    }
    in->out_shape = in->in[0]->shape;
    in->out_shape.dims[in->out_shape.rank - 1] = w->dims[0];
    in->out_dtype = dtype;
    return PORTA_OK;
}

uint64_t porta_flops_linear(const porta_graph *graph, const porta_node *node)
{
    const porta_shape *w = operand_shape(graph, node, 1);
    uint64_t outputs = (uint64_t)elements(out_shape(graph, node));
    return porta_count_add(porta_count_mul(2u * outputs, (uint64_t)w->dims[1]),
                           node->operands[2] >= 0 ? outputs : 0);
}

/* ---- softmax and norms ----------------------------------------------------------------------- */

porta_status porta_infer_softmax(porta_infer *in)
{
    porta_status status;
    if ((status = need_float(in, 0, -1)) || (status = need_rank(in, 0, 1, 4))) return status;
    if (porta_node_bool(in->graph, in->node, "causal") && in->in[0]->shape.rank < 2)
        return fail(in, "causal needs rows and columns, but x has shape %s", IN_SHAPE(0));
    if ((status = check_mask(in, 1, &in->in[0]->shape))) return status;
    in->out_shape = in->in[0]->shape;
    in->out_dtype = in->in[0]->dtype;
    return PORTA_OK;
}

uint64_t porta_flops_softmax(const porta_graph *graph, const porta_node *node)
{
    return porta_count_mul(5u, (uint64_t)elements(out_shape(graph, node)));
}

porta_status porta_infer_norm(porta_infer *in)
{
    porta_status status;
    porta_dtype dtype = in->in[0]->dtype;
    if ((status = need_float(in, 0, -1)) || (status = need_rank(in, 0, 1, 4))) return status;
    int64_t d = last_dim(in->in[0]);
    for (int i = 1; i < 3; i++) {
        if (!in->in[i]) continue;
        if ((status = need_float(in, i, dtype))) return status;
        if (in->in[i]->shape.rank != 1 || in->in[i]->shape.dims[0] != d)
            return fail(in, "operand '%s' has shape %s; expected [%lld], the last dim of x %s",
                        operand_name(in, i), IN_SHAPE(i), (long long)d, IN_SHAPE(0));
    }
    in->out_shape = in->in[0]->shape;
    in->out_dtype = dtype;
    return PORTA_OK;
}

uint64_t porta_flops_norm(const porta_graph *graph, const porta_node *node)
{
    return porta_count_mul(8u, (uint64_t)elements(out_shape(graph, node)));
}

/* Per score: a dot product over the head dim, the softmax, a weighted sum over the value dim. */
static uint64_t per_score_flops(porta_attention_dims d)
{
    return porta_count_add(porta_count_add(2u * (uint64_t)d.head_dim, 2u * (uint64_t)d.v_dim), 5u);
}

/* ---- attention ------------------------------------------------------------------------------- */

porta_attention_dims porta_attention_dims_of(const porta_graph *graph, const porta_node *node)
{
    const porta_shape *q = operand_shape(graph, node, 0), *k = operand_shape(graph, node, 1),
                      *v = operand_shape(graph, node, 2);
    porta_attention_dims d = {0};
    if (node->op == PORTA_OP_SDPA) {
        d = (porta_attention_dims){q->dims[0], q->dims[1], k->dims[1], q->dims[2], k->dims[2],
                                   q->dims[3], v->dims[3]};
    } else if (node->op == PORTA_OP_ATTENTION) {
        int64_t heads = porta_node_int(graph, node, "heads");
        int64_t kv_heads = porta_node_int(graph, node, "kv_heads");
        if (kv_heads == 0) kv_heads = heads;
        d = (porta_attention_dims){q->dims[0], heads, kv_heads, q->dims[1], k->dims[1],
                                   q->dims[2] / heads, v->dims[2] / kv_heads};
    } else { /* additive and Luong: one head, [B, T, D] */
        d = (porta_attention_dims){q->dims[0], 1, 1, q->dims[1], k->dims[1], k->dims[2],
                                   v->dims[2]};
    }
    return d;
}

/* Checks q, k, v of matching float dtype and a common batch. */
static porta_status check_qkv(porta_infer *in, int rank)
{
    porta_status status;
    porta_dtype dtype = in->in[0]->dtype;
    for (int i = 0; i < 3; i++)
        if ((status = need_float(in, i, i ? (int)dtype : -1)) || (status = need_rank(in, i, rank, rank)))
            return status;
    const porta_shape *q = &in->in[0]->shape, *k = &in->in[1]->shape, *v = &in->in[2]->shape;
    if (q->dims[0] != k->dims[0] || k->dims[0] != v->dims[0])
        return fail(in, "batch differs: q %s, k %s, v %s", SHAPE(*q), SHAPE(*k), SHAPE(*v));
    /* Keys and values: one value per key. */
    if (k->dims[rank - 2] != v->dims[rank - 2] || (rank == 4 && k->dims[1] != v->dims[1]))
        return fail(in, "k %s and v %s must have the same heads and length", SHAPE(*k), SHAPE(*v));
    return PORTA_OK;
}

porta_status porta_infer_sdpa(porta_infer *in)
{
    porta_status status;
    if ((status = check_qkv(in, 4))) return status;
    const porta_shape *q = &in->in[0]->shape, *k = &in->in[1]->shape, *v = &in->in[2]->shape;
    if (q->dims[3] != k->dims[3])
        return fail(in, "head dims differ: q %s, k %s", SHAPE(*q), SHAPE(*k));
    if (q->dims[1] % k->dims[1])
        return fail(in, "%lld query heads are not a multiple of %lld key/value heads (q %s, k %s)",
                    (long long)q->dims[1], (long long)k->dims[1], SHAPE(*q), SHAPE(*k));
    porta_shape scores = {4, {q->dims[0], q->dims[1], q->dims[2], k->dims[2]}};
    if ((status = check_mask(in, 3, &scores))) return status;
    in->out_shape = (porta_shape){4, {q->dims[0], q->dims[1], q->dims[2], v->dims[3]}};
    in->out_dtype = in->in[0]->dtype;
    return PORTA_OK;
}

porta_status porta_infer_attention(porta_infer *in)
{
    porta_status status;
    if ((status = check_qkv(in, 3))) return status;
    const porta_shape *q = &in->in[0]->shape, *k = &in->in[1]->shape, *v = &in->in[2]->shape;
    int64_t heads = porta_node_int(in->graph, in->node, "heads");
    int64_t kv_heads = porta_node_int(in->graph, in->node, "kv_heads");
    if (kv_heads == 0) kv_heads = heads;
    if (heads % kv_heads)
        return fail(in, "heads=%lld is not a multiple of kv_heads=%lld", (long long)heads,
                    (long long)kv_heads);
    if (q->dims[2] % heads)
        return fail(in, "q %s: %lld features do not split into heads=%lld", SHAPE(*q),
                    (long long)q->dims[2], (long long)heads);
    int64_t head_dim = q->dims[2] / heads;
    if (k->dims[2] != kv_heads * head_dim)
        return fail(in, "k %s: expected %lld features (kv_heads=%lld x head dim %lld)", SHAPE(*k),
                    (long long)(kv_heads * head_dim), (long long)kv_heads, (long long)head_dim);
    if (v->dims[2] % kv_heads)
        return fail(in, "v %s: %lld features do not split into kv_heads=%lld", SHAPE(*v),
                    (long long)v->dims[2], (long long)kv_heads);
    porta_shape scores = {4, {q->dims[0], heads, q->dims[1], k->dims[1]}};
    if ((status = check_mask(in, 3, &scores))) return status;
    /* grouped heads repeat v's features heads / kv_heads times, which no tensor bounds yet */
    int64_t v_head_dim = v->dims[2] / kv_heads;
    if (v_head_dim > INT64_MAX / heads)
        return fail(in, "v %s: heads=%lld x %lld value features per head overflows 64 bits",
                    SHAPE(*v), (long long)heads, (long long)v_head_dim);
    in->out_shape = (porta_shape){3, {q->dims[0], q->dims[1], heads * v_head_dim}};
    in->out_dtype = in->in[0]->dtype;
    return PORTA_OK;
}

static uint64_t attention_core_flops(porta_attention_dims d)
{
    /* the scores are never stored, so their count is not bounded by any tensor's */
    uint64_t scores = porta_count_mul(porta_count_mul((uint64_t)d.batch, (uint64_t)d.heads),
                                      porta_count_mul((uint64_t)d.q_len, (uint64_t)d.kv_len));
    return porta_count_mul(scores, per_score_flops(d));
}

uint64_t porta_flops_sdpa(const porta_graph *graph, const porta_node *node)
{
    return attention_core_flops(porta_attention_dims_of(graph, node));
}

uint64_t porta_flops_attention(const porta_graph *graph, const porta_node *node)
{
    return attention_core_flops(porta_attention_dims_of(graph, node));
}

porta_status porta_infer_additive(porta_infer *in)
{
    porta_status status;
    if ((status = check_qkv(in, 3))) return status;
    porta_dtype dtype = in->in[0]->dtype;
    const porta_shape *q = &in->in[0]->shape, *k = &in->in[1]->shape, *v = &in->in[2]->shape;
    for (int i = 3; i < 6; i++)
        if ((status = need_float(in, i, dtype))) return status;
    const porta_shape *wq = &in->in[3]->shape, *wk = &in->in[4]->shape, *va = &in->in[5]->shape;
    if (wq->rank != 2 || wq->dims[1] != q->dims[2])
        return fail(in, "wq has shape %s; expected [units, %lld] for q %s", SHAPE(*wq),
                    (long long)q->dims[2], SHAPE(*q));
    int64_t units = wq->dims[0];
    if (wk->rank != 2 || wk->dims[0] != units || wk->dims[1] != k->dims[2])
        return fail(in, "wk has shape %s; expected [%lld, %lld] for keys %s", SHAPE(*wk),
                    (long long)units, (long long)k->dims[2], SHAPE(*k));
    if (va->rank != 1 || va->dims[0] != units)
        return fail(in, "v has shape %s; expected [%lld]", SHAPE(*va), (long long)units);
    porta_shape scores = {3, {q->dims[0], q->dims[1], k->dims[1]}};
    if ((status = check_mask(in, 6, &scores))) return status;
    in->out_shape = (porta_shape){3, {q->dims[0], q->dims[1], v->dims[2]}};
    in->out_dtype = dtype;
    return PORTA_OK;
}

uint64_t porta_flops_additive(const porta_graph *graph, const porta_node *node)
{
    porta_attention_dims d = porta_attention_dims_of(graph, node);
    uint64_t units = (uint64_t)operand_shape(graph, node, 3)->dims[0];
    uint64_t dq = (uint64_t)operand_shape(graph, node, 0)->dims[2];
    uint64_t scores = porta_count_mul((uint64_t)d.batch,
                                      porta_count_mul((uint64_t)d.q_len, (uint64_t)d.kv_len));
    uint64_t wq_q = porta_count_mul(porta_count_mul(2u * (uint64_t)(d.batch * d.q_len), units), dq);
    uint64_t wk_k = porta_count_mul(porta_count_mul(2u * (uint64_t)(d.batch * d.kv_len), units),
                                    (uint64_t)d.head_dim);
    uint64_t per_score = porta_count_add(porta_count_add(porta_count_mul(4u, units), 5u),
                                         2u * (uint64_t)d.v_dim);
    return porta_count_add(porta_count_add(wq_q, wk_k), porta_count_mul(scores, per_score));
}

porta_status porta_infer_luong(porta_infer *in)
{
    porta_status status;
    if ((status = check_qkv(in, 3))) return status;
    const porta_shape *q = &in->in[0]->shape, *k = &in->in[1]->shape, *v = &in->in[2]->shape;
    bool general = !strcmp(porta_node_string(in->graph, in->node, "score"), "general");
    if (general) {
        if (!in->in[3]) return fail(in, "score=\"general\" needs the weight operand w [%lld, %lld]",
                                    (long long)q->dims[2], (long long)k->dims[2]);
        if ((status = need_float(in, 3, in->in[0]->dtype))) return status;
        const porta_shape *w = &in->in[3]->shape;
        if (w->rank != 2 || w->dims[0] != q->dims[2] || w->dims[1] != k->dims[2])
            return fail(in, "w has shape %s; expected [%lld, %lld] for q %s and keys %s",
                        SHAPE(*w), (long long)q->dims[2], (long long)k->dims[2], SHAPE(*q),
                        SHAPE(*k));
    } else {
        if (in->in[3]) return fail(in, "score=\"dot\" takes no weight; use score=\"general\"");
        if (q->dims[2] != k->dims[2])
            return fail(in, "dot score needs equal feature dims: q %s, keys %s", SHAPE(*q),
                        SHAPE(*k));
    }
    porta_shape scores = {3, {q->dims[0], q->dims[1], k->dims[1]}};
    if ((status = check_mask(in, 4, &scores))) return status;
    in->out_shape = (porta_shape){3, {q->dims[0], q->dims[1], v->dims[2]}};
    in->out_dtype = in->in[0]->dtype;
    return PORTA_OK;
}

uint64_t porta_flops_luong(const porta_graph *graph, const porta_node *node)
{
    porta_attention_dims d = porta_attention_dims_of(graph, node);
    uint64_t scores = porta_count_mul((uint64_t)d.batch,
                                      porta_count_mul((uint64_t)d.q_len, (uint64_t)d.kv_len));
    uint64_t flops = porta_count_mul(scores, per_score_flops(d));
    if (node->operands[3] >= 0) {
        const porta_shape *w = operand_shape(graph, node, 3);
        flops = porta_count_add(flops, porta_count_mul(2u * (uint64_t)(d.batch * d.q_len),
                                                       (uint64_t)(w->dims[0] * w->dims[1])));
    }
    return flops;
}

/* ---- shape ops ------------------------------------------------------------------------------- */

porta_status porta_infer_reshape(porta_infer *in)
{
    int n;
    const int64_t *dims = porta_node_ints(in->graph, in->node, "shape", &n);
    int64_t known = 1, total = elements(&in->in[0]->shape);
    int infer_at = -1;
    for (int i = 0; i < n; i++) {
        if (dims[i] == -1 && infer_at < 0) {
            infer_at = i;
        } else if (dims[i] <= 0) {
            return fail(in, "shape[%d] is %lld; dims must be positive, with at most one -1", i,
                        (long long)dims[i]);
        } else {
            if (known > INT64_MAX / dims[i]) return fail(in, "the product of shape overflows");
            known *= dims[i];
        }
    }
    porta_shape shape = {.rank = n};
    for (int i = 0; i < n; i++) shape.dims[i] = dims[i];
    if (infer_at >= 0) {
        if (total % known)
            return fail(in, "x %s has %lld elements, not divisible by %lld", IN_SHAPE(0),
                        (long long)total, (long long)known);
        shape.dims[infer_at] = total / known;
        known = total;
    }
    if (known != total)
        return fail(in, "x %s has %lld elements but shape %s has %lld", IN_SHAPE(0),
                    (long long)total, SHAPE(shape), (long long)known);
    in->out_shape = shape;
    in->out_dtype = in->in[0]->dtype;
    return PORTA_OK;
}

porta_status porta_infer_permute(porta_infer *in)
{
    int n;
    const int64_t *perm = porta_node_ints(in->graph, in->node, "perm", &n);
    const porta_shape *x = &in->in[0]->shape;
    if (n != x->rank)
        return fail(in, "perm has %d entries but x %s has rank %d", n, SHAPE(*x), x->rank);
    bool seen[PORTA_MAX_RANK] = {false};
    in->out_shape.rank = n;
    for (int i = 0; i < n; i++) {
        if (perm[i] < 0 || perm[i] >= n || seen[perm[i]])
            return fail(in, "perm is not a permutation of 0..%d", n - 1);
        seen[perm[i]] = true;
        in->out_shape.dims[i] = x->dims[perm[i]];
    }
    in->out_dtype = in->in[0]->dtype;
    return PORTA_OK;
}

porta_status porta_infer_split_heads(porta_infer *in)
{
    porta_status status = need_rank(in, 0, 3, 3);
    if (status) return status;
    const porta_shape *x = &in->in[0]->shape;
    int64_t heads = porta_node_int(in->graph, in->node, "heads");
    if (x->dims[2] % heads)
        return fail(in, "x %s: %lld features do not split into heads=%lld", SHAPE(*x),
                    (long long)x->dims[2], (long long)heads);
    in->out_shape = (porta_shape){4, {x->dims[0], heads, x->dims[1], x->dims[2] / heads}};
    in->out_dtype = in->in[0]->dtype;
    return PORTA_OK;
}

porta_status porta_infer_merge_heads(porta_infer *in)
{
    porta_status status = need_rank(in, 0, 4, 4);
    if (status) return status;
    const porta_shape *x = &in->in[0]->shape;
    in->out_shape = (porta_shape){3, {x->dims[0], x->dims[2], x->dims[1] * x->dims[3]}};
    in->out_dtype = in->in[0]->dtype;
    return PORTA_OK;
}

porta_status porta_infer_concat(porta_infer *in)
{
    const porta_shape *first = &in->in[0]->shape;
    int axis;
    if (!resolve_axis(porta_node_int(in->graph, in->node, "axis"), first->rank, &axis))
        return fail(in, "axis=%lld is out of range for rank %d",
                    (long long)porta_node_int(in->graph, in->node, "axis"), first->rank);
    in->out_shape = *first;
    for (int i = 1; i < in->node->n_operands; i++) {
        const porta_tensor *t = in->in[i];
        if (t->dtype != in->in[0]->dtype)
            return fail(in, "'%s' is %s but '%s' is %s", t->name, porta_dtype_name(t->dtype),
                        in->in[0]->name, porta_dtype_name(in->in[0]->dtype));
        bool ok = t->shape.rank == first->rank;
        for (int d = 0; ok && d < first->rank; d++)
            ok = d == axis || t->shape.dims[d] == first->dims[d];
        if (!ok)
            return fail(in, "'%s' %s and '%s' %s differ outside axis %d", in->in[0]->name,
                        SHAPE(*first), t->name, SHAPE(t->shape), axis);
        in->out_shape.dims[axis] += t->shape.dims[axis];
    }
    in->out_dtype = in->in[0]->dtype;
    return PORTA_OK;
}

porta_status porta_infer_slice(porta_infer *in)
{
    const porta_shape *x = &in->in[0]->shape;
    int axis;
    int64_t axis_attr = porta_node_int(in->graph, in->node, "axis");
    if (!resolve_axis(axis_attr, x->rank, &axis))
        return fail(in, "axis=%lld is out of range for x %s", (long long)axis_attr, SHAPE(*x));
    int64_t dim = x->dims[axis];
    int64_t start = porta_node_int(in->graph, in->node, "start");
    int64_t end = porta_node_int(in->graph, in->node, "end");
    if (end <= 0) end += dim;
    if (start < 0 || start >= end || end > dim)
        return fail(in, "slice [%lld, %lld) is empty or outside 0..%lld of x %s",
                    (long long)start, (long long)end, (long long)dim, SHAPE(*x));
    in->out_shape = *x;
    in->out_shape.dims[axis] = end - start;
    in->out_dtype = in->in[0]->dtype;
    return PORTA_OK;
}

/* ---- embeddings and positions ---------------------------------------------------------------- */

porta_status porta_infer_embedding(porta_infer *in)
{
    porta_status status;
    if (in->in[0]->dtype != PORTA_I32)
        return fail(in, "ids are %s; expected i32", porta_dtype_name(in->in[0]->dtype));
    if ((status = need_rank(in, 0, 1, 3)) || (status = need_float(in, 1, -1)) ||
        (status = need_rank(in, 1, 2, 2)))
        return status;
    in->out_shape = in->in[0]->shape;
    in->out_shape.dims[in->out_shape.rank++] = in->in[1]->shape.dims[1];
    in->out_dtype = in->in[1]->dtype;
    return PORTA_OK;
}

porta_status porta_infer_positions(porta_infer *in)
{
    porta_status status;
    if ((status = need_float(in, 0, -1)) || (status = need_rank(in, 0, 2, 4))) return status;
    if (last_dim(in->in[0]) % 2)
        return fail(in, "x %s: the last dim must be even (pairs of features)", IN_SHAPE(0));
    if (in->in[1] && (in->in[1]->dtype != PORTA_I32 || elements(&in->in[1]->shape) != 1))
        return fail(in, "position must be one i32 value, not %s %s",
                    porta_dtype_name(in->in[1]->dtype), IN_SHAPE(1));
    in->out_shape = in->in[0]->shape;
    in->out_dtype = in->in[0]->dtype;
    return PORTA_OK;
}

/* ---- causal dilated convolution and the KV cache --------------------------------------------- */

porta_status porta_infer_conv1d(porta_infer *in)
{
    porta_status status;
    porta_dtype dtype = in->in[0]->dtype;
    if ((status = need_float(in, 0, -1)) || (status = need_rank(in, 0, 3, 3)) ||
        (status = need_float(in, 1, dtype)) || (status = need_rank(in, 1, 3, 3)))
        return status;
    const porta_shape *x = &in->in[0]->shape, *w = &in->in[1]->shape;
    if (w->dims[1] != x->dims[2])
        return fail(in, "w %s is [out, in, taps] with in=%lld, but x %s has %lld channels",
                    SHAPE(*w), (long long)w->dims[1], SHAPE(*x), (long long)x->dims[2]);
    if (in->in[2]) {
        if ((status = need_float(in, 2, dtype))) return status;
        if (in->in[2]->shape.rank != 1 || in->in[2]->shape.dims[0] != w->dims[0])
            return fail(in, "bias has shape %s; expected [%lld]", IN_SHAPE(2), (long long)w->dims[0]);
    }
    in->out_shape = (porta_shape){3, {x->dims[0], x->dims[1], w->dims[0]}};
    in->out_dtype = dtype;
    return PORTA_OK;
}

uint64_t porta_flops_conv1d(const porta_graph *graph, const porta_node *node)
{
    const porta_shape *w = operand_shape(graph, node, 1);
    return porta_count_mul(2u * (uint64_t)elements(out_shape(graph, node)),
                           (uint64_t)(w->dims[1] * w->dims[2]));
}

porta_status porta_infer_kv_append(porta_infer *in)
{
    porta_status status;
    if ((status = need_float(in, 0, -1)) || (status = need_rank(in, 0, 2, 4)) ||
        (status = need_float(in, 1, in->in[0]->dtype)))
        return status;
    const porta_shape *cache = &in->in[0]->shape, *rows = &in->in[1]->shape;
    int r = cache->rank;
    bool ok = rows->rank == r;
    for (int d = 0; ok && d < r; d++) ok = d == r - 2 || rows->dims[d] == cache->dims[d];
    if (!ok)
        return fail(in, "new %s must match cache %s in every dim but the sequence (dim %d)",
                    SHAPE(*rows), SHAPE(*cache), r - 2);
    if (rows->dims[r - 2] > cache->dims[r - 2])
        return fail(in, "new %s has more rows than cache %s holds", SHAPE(*rows), SHAPE(*cache));
    if (in->in[2]) {
        if (in->in[2]->dtype != PORTA_I32 || elements(&in->in[2]->shape) != 1)
            return fail(in, "position must be one i32 value, not %s %s",
                        porta_dtype_name(in->in[2]->dtype), IN_SHAPE(2));
    } else {
        int64_t start = porta_node_int(in->graph, in->node, "start");
        if (start + rows->dims[r - 2] > cache->dims[r - 2])
            return fail(in, "start=%lld plus %lld new rows passes the cache's %lld rows",
                        (long long)start, (long long)rows->dims[r - 2],
                        (long long)cache->dims[r - 2]);
    }
    in->out_shape = *cache;
    in->out_dtype = in->in[0]->dtype;
    return PORTA_OK;
}
