/* Lowering of the elementwise ops: the unary activations and scale (one kernel, the op a
 * specialization constant), the broadcasting binary ops and where (a strided walk, walk.h), cast
 * and full.
 * Every step may write over an operand of the result's size (in place). */
#include "graphs/lower/walk.h"
#include "graphs/ops.h"

#include <string.h>

/* The unary kernel's OP codes: scale, the activations (activation.h), and from UNARY_MATH the
 * math functions sqrt, rsqrt, exp, log, abs, neg, pow in the op table's order. */
enum { UNARY_SCALE = 0, UNARY_MATH = 16 };

/* A flat step mapping element i of x to element i of the result (unary, cast), which may be
 * written over x; params start with the element count. */
static porta_status emit_map(porta_lower *lower, const porta_node *node,
                             const porta_kernel_source *kernel, int constant, const void *params,
                             uint32_t param_bytes)
{
    porta_walk_launch launch = {
        .kernel = kernel, .inner = porta_lower_elements(lower, node->output), .rows = 0,
        .n_bindings = 2,
        .bindings = {porta_lower_tensor(lower, node->operands[0]), porta_lower_result(lower, node)},
        .params = params, .param_bytes = param_bytes, .n_constants = 1, .constants = {constant},
        .in_place = true, .in_place_in = 0,
    };
    return porta_walk_emit(lower, node, &launch);
}

porta_status porta_lower_unary(porta_lower *lower, const porta_node *node)
{
    const porta_graph *graph = porta_lower_graph(lower);
    int op = UNARY_SCALE;
    float factor = 1.0f;
    if (node->op == PORTA_OP_SCALE) {
        factor = (float)porta_node_float(graph, node, "s");
    } else if (node->op >= PORTA_OP_SQRT && node->op <= PORTA_OP_POW) {
        op = UNARY_MATH + (node->op - PORTA_OP_SQRT);
        if (node->op == PORTA_OP_POW) factor = (float)porta_node_float(graph, node, "p");
    } else {
        op = (int)porta_activation_of(graph, node);
        if (op == PORTA_ACTIVATION_NONE)
            return porta_lower_fail(lower, node, PORTA_ERROR_INTERNAL, "not a unary op");
    }
    struct {
        uint32_t n;
        float s;
    } params = {(uint32_t)porta_lower_elements(lower, node->output), factor};
    return emit_map(lower, node, &porta_kernel_unary, op, &params, sizeof params);
}

/* The binary kernel's OP codes: add, sub, mul, div, then where by an i32 or a float cond. */
enum { BINARY_WHERE_I32 = 4, BINARY_WHERE_FLOAT = 5 };

/* One binary kernel step: dst = a op b, or for where (cond >= 0) a or b as cond picks; every
 * operand broadcast to the result. */
static porta_status emit_binary(porta_lower *lower, const porta_node *node, int op,
                                porta_tensor_id a, porta_tensor_id b, porta_tensor_id cond)
{
    const porta_graph *graph = porta_lower_graph(lower);
    const porta_shape *out = &graph->tensors[node->output].shape;
    porta_tensor_id operands[3] = {a, b, cond >= 0 ? cond : a};
    porta_walk walk = {.rank = out->rank, .n_operands = 4};
    memcpy(walk.dims, out->dims, sizeof walk.dims);
    porta_walk_strides(out, out->rank, walk.strides[0]);
    for (int k = 0; k < 3; k++)
        porta_walk_strides(&graph->tensors[operands[k]].shape, out->rank, walk.strides[1 + k]);
    porta_walk_fold(&walk);
    int64_t rows = walk.dims[0] * walk.dims[1] * walk.dims[2];
    uint32_t params[14] = {(uint32_t)walk.dims[3], (uint32_t)rows, 0, (uint32_t)walk.dims[1],
                           (uint32_t)walk.dims[2]};
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < 3; i++) params[5 + 3 * k + i] = (uint32_t)walk.strides[1 + k][i];
    /* the inner dim is the result's last non-unit one, where an operand's stride is 1 or 0 */
    porta_walk_launch launch = {
        .kernel = &porta_kernel_binary, .inner = walk.dims[3], .rows = rows, .n_bindings = 4,
        .bindings = {porta_lower_tensor(lower, a), porta_lower_tensor(lower, b),
                     porta_lower_tensor(lower, operands[2]), porta_lower_result(lower, node)},
        .params = params, .param_bytes = sizeof params, .n_constants = 5,
        .constants = {op, walk.strides[1][3] != 0, walk.strides[2][3] != 0,
                      porta_walk_row_dims(&walk), walk.strides[3][3] != 0},
    };
    /* an operand with as many elements as the result is not broadcast: it may be overwritten
     * (an intermediate rather than an input), unless another operand reads its storage
     * elsewhere */
    int in = -1;
    for (int k = 1; k >= 0; k--) {
        porta_tensor_id t = operands[k];
        if (porta_lower_elements(lower, t) != porta_lower_elements(lower, node->output)) continue;
        if (in < 0 || graph->tensors[t].kind == PORTA_TENSOR_NODE) in = k;
    }
    if (in >= 0) {
        launch.in_place = porta_walk_apart(launch.bindings[in], launch.bindings[1 - in]) &&
                          porta_walk_apart(launch.bindings[in], launch.bindings[2]);
        launch.in_place_in = in;
    }
    return porta_walk_emit(lower, node, &launch);
}

porta_status porta_lower_binary(porta_lower *lower, const porta_node *node)
{
    int op = node->op == PORTA_OP_ADD ? 0 : node->op == PORTA_OP_SUB ? 1
           : node->op == PORTA_OP_MUL ? 2 : 3;
    return emit_binary(lower, node, op, node->operands[0], node->operands[1], -1);
}

porta_status porta_lower_where(porta_lower *lower, const porta_node *node)
{
    const porta_graph *graph = porta_lower_graph(lower);
    porta_tensor_id cond = node->operands[0];
    int op = graph->tensors[cond].dtype == PORTA_I32 ? BINARY_WHERE_I32 : BINARY_WHERE_FLOAT;
    return emit_binary(lower, node, op, node->operands[1], node->operands[2], cond);
}

porta_status porta_lower_full(porta_lower *lower, const porta_node *node)
{
    const porta_graph *graph = porta_lower_graph(lower);
    const porta_tensor *out = &graph->tensors[node->output];
    double value = porta_node_float(graph, node, "value");
    struct {
        uint32_t n, word;
    } params = {(uint32_t)porta_lower_elements(lower, node->output), 0};
    if (out->dtype == PORTA_I32) {
        params.word = (uint32_t)(int32_t)value;   /* the shape rule checked it is an i32 */
    } else {
        float f = (float)value;   /* f16: rounded to f16 as the kernel stores it */
        memcpy(&params.word, &f, sizeof f);
    }
    porta_walk_launch launch = {
        .kernel = &porta_kernel_fill, .inner = params.n, .rows = 0, .n_bindings = 1,
        .bindings = {porta_lower_result(lower, node)},
        .params = &params, .param_bytes = sizeof params,
    };
    return porta_walk_emit(lower, node, &launch);
}

porta_status porta_lower_cast(porta_lower *lower, const porta_node *node)
{
    const porta_graph *graph = porta_lower_graph(lower);
    porta_tensor_id x = node->operands[0];
    porta_dtype from = graph->tensors[x].dtype, to = graph->tensors[node->output].dtype;
    /* No conversion: the same dtype. Between f32 and f16, a copy that converts (copy_strided
     * reads and writes each side's kind), so never a view of x. */
    if (from == to) return porta_walk_same(lower, node, x, true);
    if (from != PORTA_I32 && to != PORTA_I32) return porta_walk_same(lower, node, x, false);
    uint32_t n = (uint32_t)porta_lower_elements(lower, node->output);
    return emit_map(lower, node, &porta_kernel_cast, to == PORTA_I32, &n, sizeof n);
}
