/* sdpa, multi-head attention, additive (Bahdanau) and Luong attention: each sets up strided views
 * (and, where its score is not a plain dot product, a score function) for the one attention core. */
#include "host/reference/internal.h"

#include <stdlib.h>
#include <string.h>

/* Points the core at an optional mask operand, broadcast to the scores [B, H, Sq, Sk] (rank 4) or
 * [B, Sq, Sk] (rank 3, one head). */
static void set_mask(const porta_ref_call *call, int slot, porta_ref_attention *a, int rank)
{
    if (slot >= call->n_in || !call->in[slot]) return;
    const porta_attention_dims *d = &a->dims;
    porta_shape scores = rank == 4 ? (porta_shape){4, {d->batch, d->heads, d->q_len, d->kv_len}}
                                   : (porta_shape){3, {d->batch, d->q_len, d->kv_len}};
    int64_t strides[PORTA_MAX_RANK];
    porta_ref_broadcast_strides(&call->in[slot]->shape, &scores, strides);
    if (rank == 4) {
        memcpy(a->mask_strides, strides, sizeof a->mask_strides);
    } else {
        a->mask_strides[0] = strides[0];
        a->mask_strides[1] = 0;
        a->mask_strides[2] = strides[1];
        a->mask_strides[3] = strides[2];
    }
    a->mask = call->x[slot];
    a->mask_is_i32 = call->in[slot]->dtype == PORTA_I32;
}

/* A contiguous [B, H, S, D] tensor. */
static porta_ref_view heads_view(const double *data, int64_t heads, int64_t len, int64_t dim)
{
    return (porta_ref_view){data, heads * len * dim, len * dim, dim};
}

/* A contiguous [B, S, H*D] tensor read as heads of D features. */
static porta_ref_view merged_view(const double *data, int64_t heads, int64_t len, int64_t dim)
{
    return (porta_ref_view){data, len * heads * dim, dim, heads * dim};
}

static double default_scale(double scale, int64_t head_dim)
{
    return scale == 0.0 ? 1.0 / sqrt((double)head_dim) : scale;
}

porta_status porta_ref_sdpa(const porta_ref_call *call)
{
    porta_ref_attention a = {.dims = porta_attention_dims_of(call->graph, call->node)};
    const porta_attention_dims *d = &a.dims;
    a.q = heads_view(call->x[0], d->heads, d->q_len, d->head_dim);
    a.k = heads_view(call->x[1], d->kv_heads, d->kv_len, d->head_dim);
    a.v = heads_view(call->x[2], d->kv_heads, d->kv_len, d->v_dim);
    a.out = call->out;
    a.out_sb = d->heads * d->q_len * d->v_dim;
    a.out_sh = d->q_len * d->v_dim;
    a.out_ss = d->v_dim;
    a.scale = default_scale(porta_node_float(call->graph, call->node, "scale"), d->head_dim);
    a.causal = porta_node_bool(call->graph, call->node, "causal");
    set_mask(call, 3, &a, 4);
    return porta_ref_attention_run(call, &a);
}

porta_status porta_ref_attention_op(const porta_ref_call *call)
{
    porta_ref_attention a = {.dims = porta_attention_dims_of(call->graph, call->node)};
    const porta_attention_dims *d = &a.dims;
    a.q = merged_view(call->x[0], d->heads, d->q_len, d->head_dim);
    a.k = merged_view(call->x[1], d->kv_heads, d->kv_len, d->head_dim);
    a.v = merged_view(call->x[2], d->kv_heads, d->kv_len, d->v_dim);
    a.out = call->out;
    a.out_sb = d->q_len * d->heads * d->v_dim;
    a.out_sh = d->v_dim;
    a.out_ss = d->heads * d->v_dim;
    a.scale = default_scale(porta_node_float(call->graph, call->node, "scale"), d->head_dim);
    a.causal = porta_node_bool(call->graph, call->node, "causal");
    set_mask(call, 3, &a, 4);
    return porta_ref_attention_run(call, &a);
}

/* out[r, a] = sum_i x[r, i] * w[a, i] for r < rows: a projection by a weight [A, IN]. */
static void project(const double *x, const double *w, int64_t rows, int64_t in, int64_t units,
                    double *out)
{
    for (int64_t r = 0; r < rows; r++)
        for (int64_t u = 0; u < units; u++) {
            double sum = 0.0;
            for (int64_t i = 0; i < in; i++) sum += x[r * in + i] * w[u * in + i];
            out[r * units + u] = sum;
        }
}

typedef struct additive_scores {
    const double *pq, *pk, *v; /* [B, T, A], [B, S, A], [A] */
    int64_t units;
} additive_scores;

static double additive_score(const porta_ref_attention *a, int64_t b, int64_t h, int64_t i,
                             int64_t j)
{
    (void)h;
    const additive_scores *s = a->user;
    const double *pq = s->pq + (b * a->dims.q_len + i) * s->units;
    const double *pk = s->pk + (b * a->dims.kv_len + j) * s->units;
    double sum = 0.0;
    for (int64_t u = 0; u < s->units; u++) sum += s->v[u] * tanh(pq[u] + pk[u]);
    return sum;
}

porta_status porta_ref_additive(const porta_ref_call *call)
{
    porta_ref_attention a = {.dims = porta_attention_dims_of(call->graph, call->node)};
    const porta_attention_dims *d = &a.dims;
    int64_t units = call->in[3]->shape.dims[0], dq = call->in[0]->shape.dims[2];
    porta_status status;
    double *pq = porta_ref_scratch(call, d->batch * d->q_len * units, &status);
    double *pk = pq ? porta_ref_scratch(call, d->batch * d->kv_len * units, &status) : NULL;
    if (!pk) {
        free(pq);
        return status;
    }
    project(call->x[0], call->x[3], d->batch * d->q_len, dq, units, pq);
    project(call->x[1], call->x[4], d->batch * d->kv_len, d->head_dim, units, pk);
    additive_scores scores = {pq, pk, call->x[5], units};
    a.v = heads_view(call->x[2], 1, d->kv_len, d->v_dim);
    a.out = call->out;
    a.out_sb = d->q_len * d->v_dim;
    a.out_ss = d->v_dim;
    a.scale = 1.0;
    a.score = additive_score;
    a.user = &scores;
    set_mask(call, 6, &a, 3);
    status = porta_ref_attention_run(call, &a);
    free(pq);
    free(pk);
    return status;
}

porta_status porta_ref_luong(const porta_ref_call *call)
{
    porta_ref_attention a = {.dims = porta_attention_dims_of(call->graph, call->node)};
    const porta_attention_dims *d = &a.dims;
    double *qw = NULL;
    a.q = heads_view(call->x[0], 1, d->q_len, d->head_dim);
    if (call->in[3]) { /* general: q^T W k = (q^T W) . k, with qw[b, t, :] = q[b, t, :] W */
        int64_t dq = call->in[0]->shape.dims[2], dk = d->head_dim;
        porta_status status;
        qw = porta_ref_scratch(call, d->batch * d->q_len * dk, &status);
        if (!qw) return status;
        const double *q = call->x[0], *w = call->x[3];
        for (int64_t r = 0; r < d->batch * d->q_len; r++)
            for (int64_t k = 0; k < dk; k++) {
                double sum = 0.0;
                for (int64_t i = 0; i < dq; i++) sum += q[r * dq + i] * w[i * dk + k];
                qw[r * dk + k] = sum;
            }
        a.q = heads_view(qw, 1, d->q_len, dk);
    }
    a.k = heads_view(call->x[1], 1, d->kv_len, d->head_dim);
    a.v = heads_view(call->x[2], 1, d->kv_len, d->v_dim);
    a.out = call->out;
    a.out_sb = d->q_len * d->v_dim;
    a.out_ss = d->v_dim;
    a.scale = porta_node_float(call->graph, call->node, "scale");
    set_mask(call, 4, &a, 3);
    porta_status status = porta_ref_attention_run(call, &a);
    free(qw);
    return status;
}
