/* Shape and FLOP rules of the op table (graphs/ops_rules.c), one pair per op family. */
#ifndef PORTA_OPS_RULES_H
#define PORTA_OPS_RULES_H

#include "graphs/ops.h"

porta_status porta_infer_binary(porta_infer *in);
porta_status porta_infer_unary(porta_infer *in);
porta_status porta_infer_cast(porta_infer *in);
porta_status porta_infer_matmul(porta_infer *in);
porta_status porta_infer_linear(porta_infer *in);
porta_status porta_infer_softmax(porta_infer *in);
porta_status porta_infer_norm(porta_infer *in);
porta_status porta_infer_sdpa(porta_infer *in);
porta_status porta_infer_attention(porta_infer *in);
porta_status porta_infer_additive(porta_infer *in);
porta_status porta_infer_luong(porta_infer *in);
porta_status porta_infer_reshape(porta_infer *in);
porta_status porta_infer_permute(porta_infer *in);
porta_status porta_infer_split_heads(porta_infer *in);
porta_status porta_infer_merge_heads(porta_infer *in);
porta_status porta_infer_concat(porta_infer *in);
porta_status porta_infer_slice(porta_infer *in);
porta_status porta_infer_embedding(porta_infer *in);
porta_status porta_infer_positions(porta_infer *in);
porta_status porta_infer_conv1d(porta_infer *in);
porta_status porta_infer_kv_append(porta_infer *in);
/* graphs/ops_rules_reduce.c: reductions, l2norm, where and full */
porta_status porta_infer_reduce(porta_infer *in);
porta_status porta_infer_argmax(porta_infer *in);
porta_status porta_infer_masked_mean(porta_infer *in);
porta_status porta_infer_l2norm(porta_infer *in);
porta_status porta_infer_where(porta_infer *in);
porta_status porta_infer_full(porta_infer *in);

uint64_t porta_flops_elementwise(const porta_graph *graph, const porta_node *node);
uint64_t porta_flops_matmul(const porta_graph *graph, const porta_node *node);
uint64_t porta_flops_linear(const porta_graph *graph, const porta_node *node);
uint64_t porta_flops_softmax(const porta_graph *graph, const porta_node *node);
uint64_t porta_flops_norm(const porta_graph *graph, const porta_node *node);
uint64_t porta_flops_sdpa(const porta_graph *graph, const porta_node *node);
uint64_t porta_flops_attention(const porta_graph *graph, const porta_node *node);
uint64_t porta_flops_additive(const porta_graph *graph, const porta_node *node);
uint64_t porta_flops_luong(const porta_graph *graph, const porta_node *node);
uint64_t porta_flops_conv1d(const porta_graph *graph, const porta_node *node);
uint64_t porta_flops_reduce(const porta_graph *graph, const porta_node *node);
uint64_t porta_flops_masked_mean(const porta_graph *graph, const porta_node *node);
uint64_t porta_flops_l2norm(const porta_graph *graph, const porta_node *node);

/* The reduced axis of a sum, mean or max node (its `axis` resolved against x's rank) and x seen
 * as [outer, length, inner] around it; argmax and masked_mean reduce axis -1 and axis 1. Shared by
 * lowering and the reference, so the axis is interpreted once. */
typedef struct porta_reduce_dims {
    int axis;
    int64_t outer, length, inner;
} porta_reduce_dims;
porta_reduce_dims porta_reduce_dims_of(const porta_graph *graph, const porta_node *node);

/* The sizes of an attention node after its layout is resolved: batch, query heads, key/value
 * heads, query length, key length, head dim of q/k and of v. Shared by shape rules, FLOP counts,
 * the reference executor and lowering, so each layout is interpreted once. */
typedef struct porta_attention_dims {
    int64_t batch, heads, kv_heads, q_len, kv_len, head_dim, v_dim;
} porta_attention_dims;
porta_attention_dims porta_attention_dims_of(const porta_graph *graph, const porta_node *node);

#endif
