/* The reductions: sum, mean, max, argmax and masked_mean, each one step of shaders/norm_rows.k
 * (porta_lower_emit_norm) writing one value a row. x is seen as [outer, length, inner] around
 * the reduced axis (porta_reduce_dims_of); the kernel's rows are the outer * inner results and
 * its columns the axis, `inner` elements apart when the axis is not the last, so no copy of x is
 * made whichever axis is reduced. masked_mean reduces axis 1 of x [B, S, D], the weights of row
 * (b, d) being mask row b. docs/ops.md states the math. */
#include "graphs/lower/lower.h"
#include "graphs/ops.h"
#include "graphs/ops_rules.h"

/* argmax counts columns in floats (norm_rows.k), exact up to this */
#define ARGMAX_MOST_COLUMNS (1u << 24)

porta_status porta_lower_reduce(porta_lower *lower, const porta_node *node)
{
    const porta_graph *graph = porta_lower_graph(lower);
    porta_reduce_dims d = porta_reduce_dims_of(graph, node);
    if (porta_lower_elements(lower, node->operands[0]) > (int64_t)UINT32_MAX)
        return porta_lower_fail(lower, node, PORTA_ERROR_UNSUPPORTED,
                                "more than 2^32 elements in one tensor");
    porta_lower_norm_step norm = {
        .op = node->op == PORTA_OP_MAX           ? PORTA_LOWER_MAX
              : node->op == PORTA_OP_ARGMAX      ? PORTA_LOWER_ARGMAX
              : node->op == PORTA_OP_MASKED_MEAN ? PORTA_LOWER_MASKED_MEAN
                                                 : PORTA_LOWER_SUM,
        .x = porta_lower_tensor(lower, node->operands[0]),
        .y = porta_lower_result(lower, node),
        .rows = (uint32_t)(d.outer * d.inner),
        .cols = (uint32_t)d.length,
        .inner = (uint32_t)d.inner,
        .scale = node->op == PORTA_OP_MEAN ? (float)(1.0 / (double)d.length) : 1.0f,
    };
    if (norm.op == PORTA_LOWER_ARGMAX && norm.cols > ARGMAX_MOST_COLUMNS)
        return porta_lower_fail(lower, node, PORTA_ERROR_UNSUPPORTED,
                                "argmax over %u columns; at most 2^24 are supported", norm.cols);
    if (norm.op == PORTA_LOWER_MASKED_MEAN) {
        porta_tensor_id mask = node->operands[1];
        norm.mask = porta_lower_tensor(lower, mask);
        norm.mask_i32 = graph->tensors[mask].dtype == PORTA_I32;
    }
    return porta_lower_emit_norm(lower, node, &norm);
}
