/* Shared pieces of the reference executor's op files: the call record each op function gets,
 * broadcasting, and the one attention core. */
#ifndef PORTA_REFERENCE_INTERNAL_H
#define PORTA_REFERENCE_INTERNAL_H

#include "host/reference/reference.h"
#include "graphs/graph.h"
#include "graphs/ops.h"
#include "graphs/ops_rules.h"

#include <math.h>

/* What an op function sees: the node, its operands (NULL where an optional one is absent) and its
 * result's array, already allocated. */
typedef struct porta_ref_call {
    const porta_graph *graph;
    const porta_node *node;
    int n_in;
    const porta_tensor *in[PORTA_MAX_OPERANDS];
    const double *x[PORTA_MAX_OPERANDS];
    const porta_tensor *out_tensor;
    double *out;
    int64_t out_count;
} porta_ref_call;

typedef porta_status (*porta_ref_op_fn)(const porta_ref_call *call);

/* Fails with PORTA_ERROR_OUT_OF_MEMORY naming the node. */
porta_status porta_ref_out_of_memory(const porta_ref_call *call);
/* calloc that fails through porta_ref_out_of_memory: returns NULL and sets *status. */
double *porta_ref_scratch(const porta_ref_call *call, int64_t count, porta_status *status);

int64_t porta_ref_elements(const porta_shape *shape);

/* Operand `slot` (a weight of rank 2, linear's or matmul's b) as the device holds it: the
 * operand's own values, or for an 8-bit weight its quantized values, in an array given to
 * *owned (free it). NULL when out of memory (*status says so). */
const double *porta_ref_weight_held(const porta_ref_call *call, int slot, double **owned,
                                    porta_status *status);

/* ---- broadcasting (numpy rule), written once for binary ops and masks ------------------------- */

/* Strides of `in` seen as a tensor of shape `out` (rank >= in's rank, aligned on the right):
 * 0 along the dims that broadcast, and for the missing leading dims. */
void porta_ref_broadcast_strides(const porta_shape *in, const porta_shape *out,
                                 int64_t strides[PORTA_MAX_RANK]);
/* The offset, under `strides`, of the element with row-major index `flat` in `out`. */
int64_t porta_ref_offset(const porta_shape *out, const int64_t strides[PORTA_MAX_RANK],
                         int64_t flat);

/* ---- softmax rows and masks ------------------------------------------------------------------ */

/* A score after its mask: score + mask for a float mask, -inf where an i32 mask is 0. */
static inline double porta_ref_apply_mask(double score, double mask, bool mask_is_i32)
{
    if (mask_is_i32) return mask == 0.0 ? -(double)INFINITY : score;
    return score + mask;
}
/* Causal: column j of row i is masked out when j > i + (n_cols - n_rows) (bottom-right aligned). */
static inline bool porta_ref_causal_masked(int64_t i, int64_t j, int64_t n_rows, int64_t n_cols)
{
    return j > i + (n_cols - n_rows);
}
/* Softmax of z[0..n) in place: e^(z - max) / sum. A row with every entry -inf gives zeros; a row
 * whose max is +inf shares the weight among its +inf entries. */
void porta_ref_softmax_row(double *z, int64_t n);

/* ---- the attention core ---------------------------------------------------------------------- */

/* A strided [B, H, S, D] view: element (b, h, s, d) is data[b*sb + h*sh + s*ss + d]. */
typedef struct porta_ref_view {
    const double *data;
    int64_t sb, sh, ss;
} porta_ref_view;

struct porta_ref_attention;
/* A raw score for query (b, h, i) and key j, before scale and mask. */
typedef double (*porta_ref_score_fn)(const struct porta_ref_attention *attention, int64_t b,
                                     int64_t h, int64_t i, int64_t j);

/* Attention in any layout: for each (b, h, i), scores over j = scale * score(b, h, i, j), masked,
 * softmax, then out = sum_j p_j * v[b, g, j, :] with g = h / (heads / kv_heads). */
typedef struct porta_ref_attention {
    porta_attention_dims dims;
    porta_ref_view q, k, v;           /* q and k feed the default score; v always used */
    double *out;
    int64_t out_sb, out_sh, out_ss;
    double scale;
    bool causal;
    const double *mask;               /* NULL: none */
    bool mask_is_i32;
    int64_t mask_strides[4];          /* over [B, H, Sq, Sk]; 0 along broadcast dims */
    porta_ref_score_fn score;         /* NULL: dot of q[b, h, i, :] and k[b, g, j, :] (head_dim) */
    const void *user;                 /* for a custom score */
} porta_ref_attention;

porta_status porta_ref_attention_run(const porta_ref_call *call,
                                     const porta_ref_attention *attention);

/* ---- op functions, one per op (a few serve several) ------------------------------------------ */

porta_status porta_ref_binary(const porta_ref_call *call);
porta_status porta_ref_unary(const porta_ref_call *call);
porta_status porta_ref_cast(const porta_ref_call *call);
porta_status porta_ref_matmul(const porta_ref_call *call);
porta_status porta_ref_linear(const porta_ref_call *call);
porta_status porta_ref_softmax(const porta_ref_call *call);
porta_status porta_ref_layernorm(const porta_ref_call *call);
porta_status porta_ref_rmsnorm(const porta_ref_call *call);
porta_status porta_ref_sdpa(const porta_ref_call *call);
porta_status porta_ref_attention_op(const porta_ref_call *call);
porta_status porta_ref_additive(const porta_ref_call *call);
porta_status porta_ref_luong(const porta_ref_call *call);
porta_status porta_ref_reshape(const porta_ref_call *call);
porta_status porta_ref_permute(const porta_ref_call *call);
porta_status porta_ref_split_heads(const porta_ref_call *call);
porta_status porta_ref_merge_heads(const porta_ref_call *call);
porta_status porta_ref_concat(const porta_ref_call *call);
porta_status porta_ref_slice(const porta_ref_call *call);
porta_status porta_ref_embedding(const porta_ref_call *call);
porta_status porta_ref_sinusoidal(const porta_ref_call *call);
porta_status porta_ref_rope(const porta_ref_call *call);
porta_status porta_ref_causal_conv1d(const porta_ref_call *call);
porta_status porta_ref_kv_append(const porta_ref_call *call);
porta_status porta_ref_reduce(const porta_ref_call *call);
porta_status porta_ref_masked_mean(const porta_ref_call *call);
porta_status porta_ref_l2norm(const porta_ref_call *call);
porta_status porta_ref_where(const porta_ref_call *call);
porta_status porta_ref_full(const porta_ref_call *call);

#endif
