/* Fusion: pairs of nodes that lowering turns into one step, decided once per graph before any
 * rule runs (graphs/lower/fuse.c) and consulted by the rules through porta_lower_fused.
 *   linear + activation   a linear whose result only relu, gelu, silu, tanh or sigmoid reads:
 *                         one gemm step with the activation as its epilogue (the linear's rule
 *                         lowers the pair)
 *   add + layernorm       an add whose result only the norm reads (as its x): one norm step that
 *   add + rmsnorm         reads both operands of the add (the norm's rule lowers the pair)
 *   linear + add          an add of a linear's result and another tensor (a residual): one gemm
 *                         that adds the other operand to its results (the linear's rule lowers
 *                         the pair), when that operand is made before the linear and the add
 *                         does not fuse into a norm (which saves as much and is preferred)
 *   projections           2 or 3 linears reading one tensor x as their input (the projections
 *                         of q, k and v): one gemm whose weight is the linears' weights one
 *                         after another along N, packed in panels in one buffer, writing each
 *                         result to its own range of one arena allocation (the results are
 *                         views into it). Each weight (and bias, all or none of them) is an f32
 *                         weight used nowhere else, each OUT a multiple of 16 columns, each
 *                         result f32 and no graph output, and none of the linears is in a pair
 *                         (pairs are decided first). The first linear's rule lowers the group,
 *                         and only when its product takes the panels variant with its weights
 *                         packed when set; otherwise it lowers each linear by itself, with the
 *                         variant decided for the group.
 * A pair never fuses when the first node's result is a graph output or has any other use (it
 * would have to be stored anyway), is not f32 (an f16 result is rounded to f16 between the two
 * ops, which one step would skip), or, for the add, when an operand broadcasts.
 *
 * One chain of more than two nodes fuses, attention written out op by op:
 *   matmul(q, k, transpose_b) [-> scale]... [-> add(mask)] -> softmax -> matmul(., v)
 *                         one attention step (the kernels of sdpa: online softmax, the scores
 *                         never stored), lowered by the last matmul (attention.c). The scales
 *                         multiply; an added mask is the one mask (the softmax then has none
 *                         and scale 1, since it would scale the mask too); the softmax's own
 *                         mask, scale and causal rule are kept. q, k and v are [..., S, D] of
 *                         rank 2 to 4 with k and v batched alike, each batch dim of k equal to
 *                         q's or, for the heads (the one before S), 1 (grouped K/V heads).
 *                         Every intermediate is private as for pairs.
 * With porta_plan_limits.fusion false nothing fuses. */
#ifndef PORTA_LOWER_FUSE_H
#define PORTA_LOWER_FUSE_H

#include "graphs/graph.h"

#include <stdbool.h>

/* The activation codes of shaders/activation.h: the unary kernel's OP and the gemm's ACT. */
typedef enum porta_activation {
    PORTA_ACTIVATION_NONE = 0,
    PORTA_ACTIVATION_RELU = 1,
    PORTA_ACTIVATION_GELU = 2,
    PORTA_ACTIVATION_GELU_TANH = 3,
    PORTA_ACTIVATION_SILU = 4,
    PORTA_ACTIVATION_TANH = 5,
    PORTA_ACTIVATION_SIGMOID = 6,
} porta_activation;

/* The activation a node applies, PORTA_ACTIVATION_NONE when it is no unary activation. */
porta_activation porta_activation_of(const porta_graph *graph, const porta_node *node);

typedef enum porta_fusion_kind {
    PORTA_FUSION_NONE = 0,
    PORTA_FUSION_LINEAR_ACTIVATION,
    PORTA_FUSION_ADD_NORM,
    PORTA_FUSION_LINEAR_ADD,
    PORTA_FUSION_PROJECTIONS,
    PORTA_FUSION_ATTENTION,
} porta_fusion_kind;

#define PORTA_FUSION_MAX_PROJECTIONS 3

/* The pair, group or chain a node belongs to. For a pair, first's result is an operand of last
 * (operand 0, or either for linear + add) and of nothing else; anchor is the one of the two whose
 * rule emits the pair's steps, the other is lowered to nothing. For a group of projections,
 * members are its linears in the order they run, first and anchor the first of them, last the
 * last. For an attention chain, first is its first node and last and anchor its last matmul;
 * the others are lowered to nothing. */
typedef struct porta_fusion {
    porta_fusion_kind kind;
    int first, last, anchor;       /* node indices; -1 when kind is NONE */
    int n_members;                 /* projections only; 0 for a pair */
    int members[PORTA_FUSION_MAX_PROJECTIONS];
} porta_fusion;

/* An attention chain's parts (a fusion of kind PORTA_FUSION_ATTENTION). */
typedef struct porta_fused_attention {
    porta_tensor_id q, k, v, mask;  /* mask -1: none */
    double scale;                   /* the product of the chain's scales */
    bool causal;
} porta_fused_attention;

/* The parts of the attention chain that ends in matmul node `last`; false when none ends there. */
bool porta_fusion_attention(const porta_graph *graph, int last, porta_fused_attention *out);

/* Fills by_node[i] for every node i of a validated graph: its pair, group or chain, or kind NONE
 * for every node when `enabled` is false. A node belongs to at most one. */
void porta_fusion_find(const porta_graph *graph, bool enabled, porta_fusion *by_node);

#endif
