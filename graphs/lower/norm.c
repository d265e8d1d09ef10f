/* The norm family: softmax, layernorm, rmsnorm and l2norm, each one step of shaders/norm_rows.k
 * over the rows of the last axis (porta_lower_emit_norm, which also serves the reductions of
 * reduce.c). docs/ops.md states the math.
 *
 * Variants (family "norm"), each a way to spread a row over invocations:
 *   rows    one invocation per row, TY rows a work-group: no barrier, one contiguous stream per
 *           invocation (the CPU drivers' choice for many rows)
 *   strips  TX invocations per row, each a contiguous strip of it, the sums meeting in shared
 *           memory (CPU drivers with few, long rows)
 *   lanes   TX invocations per row reading neighbouring quads (GPUs: coalesced loads)
 * Whatever the variant, a row gets enough invocations that none loops past the loop budget
 * (lower.h): `per` quads a pass and a tree of log2(TX) a reduction (norm_iterations).
 *
 * An add whose only use is a layernorm's or rmsnorm's x (fuse.h) is lowered with the norm: the
 * step reads both operands of the add and the sum is never stored. */
#include "graphs/lower/walk.h"
#include "graphs/ops.h"

#include <stdio.h>

enum { MASK_NONE = 0, MASK_FLOAT = 1, MASK_I32 = 2 };
enum { VARIANT_ROWS, VARIANT_STRIPS, VARIANT_LANES, N_VARIANTS };
static const char *const variant_names[N_VARIANTS] = {"rows", "strips", "lanes"};

#define MAX_GROUPS 65535u
/* GPUs (lanes): invocations a work-group, at most one row's */
#define GPU_GROUP 256u
/* CPU drivers: a row of `strips` gets invocations until each has at least this many quads, and
 * the rule wants about this many invocations in all */
#define CPU_STRIP_QUADS 512u
#define CPU_INVOCATIONS 64u

typedef struct rows_params {
    uint32_t rows, cols;
    float scale, eps;
    uint32_t has_beta, causal;
    uint32_t d1, d2, ms0, ms1, ms2, ms3;
    uint32_t per, inner;
} rows_params;

enum { BIND_X, BIND_MASK, BIND_GAMMA, BIND_BETA, BIND_Y, BIND_RES, N_BINDINGS };

static uint32_t next_pow2(uint32_t v)
{
    uint32_t p = 1;
    while (p < v && p < 0x80000000u) p <<= 1;
    return p;
}

static uint32_t ceil_div(uint32_t a, uint32_t b) { return a / b + (a % b != 0); }

/* The most loop iterations one invocation of norm_rows runs: softmax, rmsnorm and l2norm two
 * passes and one reduction, layernorm three passes and two, the reductions one of each. */
static uint64_t norm_iterations(porta_lower_norm_op op, uint32_t per, uint32_t tx)
{
    uint64_t tree = 0;
    while ((1u << tree) < tx) tree++;
    if (op >= PORTA_LOWER_SUM) return per + tree;
    uint64_t passes = op == PORTA_LOWER_LAYERNORM ? 3u : 2u;
    return passes * per + (passes - 1u) * tree;
}

/* The rule's own variant for the device and the row shape. */
static int chosen_variant(const porta_plan_limits *limits, uint32_t rows, bool strided)
{
    /* strided rows (a reduction over an axis other than the last): neighbouring rows lie side by
     * side, so one invocation a row makes neighbouring lanes read neighbouring elements, as lanes
     * do for contiguous rows (the same reasoning; not yet measured on a GPU) */
    if (limits->kind == PORTA_PLAN_GPU)
        return strided && rows >= GPU_GROUP ? VARIANT_ROWS : VARIANT_LANES;
    /* llvmpipe: strips measured 2-3x faster than one invocation per row on lavapipe */
    if (limits->kind == PORTA_PLAN_CPU_LANES) return VARIANT_STRIPS;
    return rows >= CPU_INVOCATIONS ? VARIANT_ROWS : VARIANT_STRIPS;
}

porta_status porta_lower_emit_norm(porta_lower *lower, const porta_node *node,
                                   const porta_lower_norm_step *norm)
{
    const porta_plan_limits *limits = porta_lower_limits(lower);
    uint32_t rows = norm->rows, cols = norm->cols;
    uint32_t quads = cols / 4u;
    char key[64];
    /* a strided reduction's rows are another shape of work: its own key */
    if (norm->inner > 1) snprintf(key, sizeof key, "r%u,c%u,s%u", rows, cols, norm->inner);
    else snprintf(key, sizeof key, "r%u,c%u", rows, cols);
    int variant = porta_lower_variant(lower, "norm", key, variant_names, N_VARIANTS,
                                      chosen_variant(limits, rows, norm->inner > 1));

    uint32_t tx = 1, ty = 1;
    if (variant == VARIANT_ROWS) {
        ty = limits->kind == PORTA_PLAN_GPU         ? 64u
             : limits->kind == PORTA_PLAN_CPU_LANES ? (limits->vector_width ? limits->vector_width
                                                                            : 8u)
                                                    : 4u;
    } else if (variant == VARIANT_STRIPS) {
        /* enough invocations over all rows, each with a long strip */
        uint32_t wanted = ceil_div(CPU_INVOCATIONS, rows ? rows : 1u);
        uint32_t longest = quads / CPU_STRIP_QUADS;
        tx = next_pow2(wanted < longest ? wanted : longest);
        if (limits->kind == PORTA_PLAN_CPU_LANES && limits->vector_width &&
            tx < limits->vector_width)
            tx = limits->vector_width;
    } else {
        /* a row per work-group of at most GPU_GROUP, short rows sharing one */
        tx = next_pow2(ceil_div(quads, 2u));
        if (tx > GPU_GROUP) tx = GPU_GROUP;
        ty = GPU_GROUP / tx;
    }
    /* the loop budget: more invocations a row until each loops little enough, as many as a
     * work-group holds at most (lowering refuses the step past that) */
    while (norm_iterations(norm->op, ceil_div(quads, tx), tx) > PORTA_LOWER_LOOP_BUDGET &&
           tx * 2u <= limits->max_workgroup_size)
        tx *= 2u;
    if (tx > limits->max_workgroup_size)
        return porta_lower_fail(lower, node, PORTA_ERROR_UNSUPPORTED,
                                "rows of %u columns need %u invocations each; the device "
                                "allows %u a work-group", cols, tx, limits->max_workgroup_size);
    while (ty > 1 && (ty > limits->max_workgroup_size / tx || ty / 2u >= rows)) ty >>= 1;
    if ((uint64_t)tx * ty * 8u > limits->shared_memory_bytes)
        return porta_lower_fail(lower, node, PORTA_ERROR_UNSUPPORTED,
                                "%u bytes of shared memory needed; the device has %llu",
                                tx * ty * 8u, (unsigned long long)limits->shared_memory_bytes);

    rows_params p = {
        .rows = rows,
        .cols = cols,
        .scale = norm->scale,
        .eps = norm->eps,
        .has_beta = norm->beta.bytes != 0,
        .causal = norm->causal,
        .d1 = norm->d1 ? norm->d1 : 1u,
        .d2 = norm->d2 ? norm->d2 : 1u,
        .ms0 = norm->mask_strides[0],
        .ms1 = norm->mask_strides[1],
        .ms2 = norm->mask_strides[2],
        .ms3 = norm->mask_strides[3],
        .per = ceil_div(quads, tx),
        .inner = norm->inner > 1 ? norm->inner : 1u,
    };
    porta_lower_step step = porta_lower_step_init(&porta_kernel_norm_rows, tx, ty, 1);
    step.config.n_constants = 7;
    step.config.constants[0] = (int32_t)norm->op;
    step.config.constants[1] = norm->mask.bytes ? (norm->mask_i32 ? MASK_I32 : MASK_FLOAT)
                                                : MASK_NONE;
    step.config.constants[2] = (int32_t)tx;
    step.config.constants[3] = (int32_t)ty;
    step.config.constants[4] = variant != VARIANT_LANES;
    step.config.constants[5] = norm->residual.bytes != 0;
    step.config.constants[6] = norm->inner > 1;
    step.n_bindings = N_BINDINGS;
    porta_lower_ref bindings[N_BINDINGS] = {norm->x,    norm->mask, norm->gamma,
                                            norm->beta, norm->y,    norm->residual};
    for (int b = 0; b < N_BINDINGS; b++)
        step.bindings[b] = bindings[b].bytes ? bindings[b] : bindings[BIND_X];
    /* rows spread over x, then y, when there are more groups than one dimension holds */
    uint32_t groups = porta_lower_groups(rows, ty);
    step.groups[0] = groups < MAX_GROUPS ? groups : MAX_GROUPS;
    step.groups[1] = porta_lower_groups(groups, step.groups[0]);
    step.params = &p;
    step.param_bytes = sizeof p;
    step.loop_iterations = norm_iterations(norm->op, p.per, tx);
    /* y may take x's bytes unless the residual reads them elsewhere (a view of x); a reduction's
     * y is smaller than x, whose rows other invocations may still read */
    if (norm->op < PORTA_LOWER_SUM &&
        (!norm->residual.bytes || porta_walk_apart(norm->x, norm->residual))) {
        step.in_place_in = BIND_X;
        step.in_place_out = BIND_Y;
    }
    return porta_lower_emit(lower, node, &step);
}

/* The rows and columns of a node's operand 0 (its last axis), or a failure past 2^32 elements. */
static porta_status rows_of(porta_lower *lower, const porta_node *node, porta_lower_norm_step *norm)
{
    const porta_graph *graph = porta_lower_graph(lower);
    porta_tensor_id x = node->operands[0];
    int64_t elements = porta_lower_elements(lower, x);
    if (elements > (int64_t)UINT32_MAX)
        return porta_lower_fail(lower, node, PORTA_ERROR_UNSUPPORTED,
                                "more than 2^32 elements in one tensor");
    const porta_shape *shape = &graph->tensors[x].shape;
    norm->cols = shape->rank ? (uint32_t)shape->dims[shape->rank - 1] : 1u;
    norm->rows = (uint32_t)(elements / norm->cols);
    norm->x = porta_lower_tensor(lower, x);
    norm->y = porta_lower_result(lower, node);
    return PORTA_OK;
}

/* x's shape seen as [d0, d1, d2, cols] (leading 1s), and a mask's strides against it: the
 * row-major strides of the mask aligned on the right, 0 where it broadcasts or has no dim. */
static void mask_strides(const porta_shape *x, const porta_shape *mask, porta_lower_norm_step *norm)
{
    int64_t dims[4] = {1, 1, 1, 1};
    for (int d = 0; d < x->rank; d++) dims[4 - x->rank + d] = x->dims[d];
    norm->d1 = (uint32_t)dims[1];
    norm->d2 = (uint32_t)dims[2];
    if (!mask) return;
    uint64_t stride = 1;
    for (int d = mask->rank - 1, slot = 3; d >= 0; d--, slot--) {
        norm->mask_strides[slot] = mask->dims[d] == 1 ? 0 : (uint32_t)stride;
        stride *= (uint64_t)mask->dims[d];
    }
}

porta_status porta_lower_softmax(porta_lower *lower, const porta_node *node)
{
    const porta_graph *graph = porta_lower_graph(lower);
    porta_lower_norm_step norm = {
        .op = PORTA_LOWER_SOFTMAX,
        .scale = (float)porta_node_float(graph, node, "scale"),
        .causal = porta_node_bool(graph, node, "causal"),
    };
    porta_status status = rows_of(lower, node, &norm);
    if (status != PORTA_OK) return status;
    porta_tensor_id mask = node->operands[1];
    if (mask >= 0) {
        norm.mask_i32 = graph->tensors[mask].dtype == PORTA_I32;
        norm.mask = porta_lower_tensor(lower, mask);
    }
    mask_strides(&graph->tensors[node->operands[0]].shape,
                 mask >= 0 ? &graph->tensors[mask].shape : NULL, &norm);
    return porta_lower_emit_norm(lower, node, &norm);
}

porta_status porta_lower_norm(porta_lower *lower, const porta_node *node)
{
    const porta_graph *graph = porta_lower_graph(lower);
    bool layernorm = node->op == PORTA_OP_LAYERNORM;
    if (node->op == PORTA_OP_L2NORM) {
        porta_lower_norm_step norm = {.op = PORTA_LOWER_L2NORM, .scale = 1.0f,
                                      .eps = (float)porta_node_float(graph, node, "eps")};
        porta_status status = rows_of(lower, node, &norm);
        return status != PORTA_OK ? status : porta_lower_emit_norm(lower, node, &norm);
    }
    porta_lower_norm_step norm = {
        .op = layernorm ? PORTA_LOWER_LAYERNORM : PORTA_LOWER_RMSNORM,
        .scale = 1.0f,
        .eps = (float)porta_node_float(graph, node, "eps"),
    };
    porta_status status = rows_of(lower, node, &norm);
    if (status != PORTA_OK) return status;
    const porta_fusion *pair = porta_lower_fused(lower, node);
    if (pair->kind == PORTA_FUSION_ADD_NORM) {
        /* x is the add's node operand when it has one, the one that may be written in place
         * (x + r is r + x exactly) */
        const porta_node *add = &graph->nodes[pair->first];
        porta_tensor_id a = add->operands[0], b = add->operands[1];
        if (graph->tensors[a].kind != PORTA_TENSOR_NODE &&
            graph->tensors[b].kind == PORTA_TENSOR_NODE) {
            porta_tensor_id t = a;
            a = b;
            b = t;
        }
        norm.x = porta_lower_tensor(lower, a);
        norm.residual = porta_lower_tensor(lower, b);
    }
    norm.gamma = porta_lower_tensor(lower, node->operands[1]);
    if (layernorm && node->operands[2] >= 0)
        norm.beta = porta_lower_tensor(lower, node->operands[2]);
    return porta_lower_emit_norm(lower, node, &norm);
}
