/* The norm family: softmax, layernorm and rmsnorm, each one step of shaders/norm_rows.k over the
 * rows of the last axis. docs/ops.md states the math. */
#include "graphs/lower/lower.h"
#include "graphs/ops.h"

enum { OP_SOFTMAX = 0, OP_LAYERNORM = 1, OP_RMSNORM = 2 };
enum { MASK_NONE = 0, MASK_FLOAT = 1, MASK_I32 = 2 };

/* Invocations per row at most, and per work-group: short rows share a group. */
#define ROW_INVOCATIONS 64u
#define GROUP_INVOCATIONS 64u
#define MAX_GROUPS 65535u

typedef struct rows_params {
    uint32_t rows, cols;
    float scale, eps;
    uint32_t has_beta, causal;
    uint32_t d1, d2, ms0, ms1, ms2, ms3;
} rows_params;

enum { BIND_X, BIND_MASK, BIND_GAMMA, BIND_BETA, BIND_Y, N_BINDINGS };

/* x's shape seen as [d0, d1, d2, cols] (leading 1s), and a mask's strides against it: the
 * row-major strides of the mask aligned on the right, 0 where it broadcasts or has no dim. */
static void mask_strides(const porta_shape *x, const porta_shape *mask, rows_params *p)
{
    int64_t dims[4] = {1, 1, 1, 1};
    for (int d = 0; d < x->rank; d++) dims[4 - x->rank + d] = x->dims[d];
    p->d1 = (uint32_t)dims[1];
    p->d2 = (uint32_t)dims[2];
    if (!mask) return;
    uint32_t strides[4] = {0, 0, 0, 0};
    uint64_t stride = 1;
    for (int d = mask->rank - 1, slot = 3; d >= 0; d--, slot--) {
        strides[slot] = mask->dims[d] == 1 ? 0 : (uint32_t)stride;
        stride *= (uint64_t)mask->dims[d];
    }
    p->ms0 = strides[0];
    p->ms1 = strides[1];
    p->ms2 = strides[2];
    p->ms3 = strides[3];
}

static uint32_t next_pow2(uint32_t v)
{
    uint32_t p = 1;
    while (p < v && p < 0x80000000u) p <<= 1;
    return p;
}

/* Emits norm_rows for `op` over x's rows; bindings other than x and y are set by the caller
 * (unused ones default to x). */
static porta_status emit_rows(porta_lower *lower, const porta_node *node, int op, int mask_kind,
                              rows_params *p, porta_lower_ref bindings[N_BINDINGS])
{
    const porta_graph *graph = porta_lower_graph(lower);
    const porta_plan_limits *limits = porta_lower_limits(lower);
    porta_tensor_id x = node->operands[0];
    int64_t elements = porta_lower_elements(lower, x);
    if (elements > (int64_t)UINT32_MAX)
        return porta_lower_fail(lower, node, PORTA_ERROR_UNSUPPORTED,
                                "more than 2^32 elements in one tensor");
    const porta_shape *shape = &graph->tensors[x].shape;
    p->cols = shape->rank ? (uint32_t)shape->dims[shape->rank - 1] : 1u;
    p->rows = (uint32_t)(elements / p->cols);

    uint32_t group = GROUP_INVOCATIONS;
    while (group > limits->max_workgroup_size) group >>= 1;
    uint32_t tx = next_pow2(p->cols);
    if (tx > ROW_INVOCATIONS) tx = ROW_INVOCATIONS;
    if (tx > group) tx = group;
    uint32_t ty = next_pow2(p->rows);
    if (ty > group / tx) ty = group / tx;
    if ((uint64_t)tx * ty * 4u > limits->shared_memory_bytes)
        return porta_lower_fail(lower, node, PORTA_ERROR_UNSUPPORTED,
                                "%u bytes of shared memory needed; the device has %llu",
                                tx * ty * 4u, (unsigned long long)limits->shared_memory_bytes);

    porta_lower_step step = porta_lower_step_init(&porta_kernel_norm_rows, tx, ty, 1);
    step.config.n_constants = 4;
    step.config.constants[0] = op;
    step.config.constants[1] = mask_kind;
    step.config.constants[2] = (int32_t)tx;
    step.config.constants[3] = (int32_t)ty;
    step.n_bindings = N_BINDINGS;
    bindings[BIND_X] = porta_lower_tensor(lower, x);
    bindings[BIND_Y] = porta_lower_result(lower, node);
    for (int b = 0; b < N_BINDINGS; b++)
        step.bindings[b] = bindings[b].bytes ? bindings[b] : bindings[BIND_X];
    /* rows spread over x, then y, when there are more groups than one dimension holds */
    uint32_t groups = porta_lower_groups(p->rows, ty);
    step.groups[0] = groups < MAX_GROUPS ? groups : MAX_GROUPS;
    step.groups[1] = porta_lower_groups(groups, step.groups[0]);
    step.params = p;
    step.param_bytes = sizeof *p;
    step.in_place_in = BIND_X;
    step.in_place_out = BIND_Y;
    return porta_lower_emit(lower, node, &step);
}

porta_status porta_lower_softmax(porta_lower *lower, const porta_node *node)
{
    const porta_graph *graph = porta_lower_graph(lower);
    rows_params p = {
        .scale = (float)porta_node_float(graph, node, "scale"),
        .causal = porta_node_bool(graph, node, "causal"),
    };
    porta_lower_ref bindings[N_BINDINGS] = {{0}};
    porta_tensor_id mask = node->operands[1];
    const porta_tensor *x = &graph->tensors[node->operands[0]];
    int mask_kind = MASK_NONE;
    if (mask >= 0) {
        mask_kind = graph->tensors[mask].dtype == PORTA_I32 ? MASK_I32 : MASK_FLOAT;
        bindings[BIND_MASK] = porta_lower_tensor(lower, mask);
    }
    mask_strides(&x->shape, mask >= 0 ? &graph->tensors[mask].shape : NULL, &p);
    return emit_rows(lower, node, OP_SOFTMAX, mask_kind, &p, bindings);
}

porta_status porta_lower_norm(porta_lower *lower, const porta_node *node)
{
    const porta_graph *graph = porta_lower_graph(lower);
    bool layernorm = node->op == PORTA_OP_LAYERNORM;
    rows_params p = {
        .scale = 1.0f,
        .eps = (float)porta_node_float(graph, node, "eps"),
        .d1 = 1,
        .d2 = 1,
    };
    porta_lower_ref bindings[N_BINDINGS] = {{0}};
    bindings[BIND_GAMMA] = porta_lower_tensor(lower, node->operands[1]);
    if (layernorm && node->operands[2] >= 0) {
        bindings[BIND_BETA] = porta_lower_tensor(lower, node->operands[2]);
        p.has_beta = 1;
    }
    return emit_rows(lower, node, layernorm ? OP_LAYERNORM : OP_RMSNORM, MASK_NONE, &p, bindings);
}
