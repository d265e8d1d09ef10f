/* The matmul family: matmul and linear through one strided batched product (porta_lower_emit_gemm,
 * shared with the attention rules), and causal_conv1d. docs/ops.md states the math. */
#include "graphs/lower/lower.h"
#include "graphs/ops.h"

/* Each invocation of gemm.k and conv1d.k computes a TILE x TILE block of its result. */
#define TILE 4u
/* Invocations per work-group of the tiled kernels: enough for a CPU driver to vectorize across
 * invocations, few enough that small products still spread over several groups. */
#define GROUP_INVOCATIONS 64u
#define MAX_GROUPS 65535u

typedef struct gemm_params {
    uint32_t m, n, k, batch1, batch_base;
    uint32_t a_off, a_b0, a_b1, a_m, a_k;
    uint32_t b_off, b_b0, b_b1, b_k, b_n;
    uint32_t out_off, out_b0, out_b1, out_m;
    uint32_t bias_off, has_bias;
    float alpha;
} gemm_params;

/* A binding of `ref` whose offset is rounded down to the device's alignment; *elements gets the
 * distance in elements, which the kernel adds to its indices. */
static porta_lower_ref aligned_binding(const porta_lower *lower, porta_lower_ref ref,
                                       uint32_t *elements)
{
    uint64_t skip = ref.offset % porta_lower_limits(lower)->buffer_alignment;
    *elements = (uint32_t)(skip / PORTA_PLAN_ELEMENT_BYTES);
    return (porta_lower_ref){ref.store, ref.offset - skip, ref.bytes + skip};
}

static uint32_t next_pow2(uint32_t v)
{
    uint32_t p = 1;
    while (p < v && p < 0x80000000u) p <<= 1;
    return p;
}

/* A work-group of up to GROUP_INVOCATIONS invocations over tiles_x by tiles_y tiles, no wider
 * than either needs, within the device's limit, and the groups that cover them. */
static void tile_grid(const porta_lower *lower, uint32_t tiles_x, uint32_t tiles_y,
                      porta_lower_step *step)
{
    uint32_t total = GROUP_INVOCATIONS;
    uint32_t limit = porta_lower_limits(lower)->max_workgroup_size;
    while (total > limit) total >>= 1;
    uint32_t x = next_pow2(tiles_x);
    if (x > 16u) x = 16u;
    if (x > total) x = total;
    uint32_t y = next_pow2(tiles_y);
    if (y > total / x) y = total / x;
    step->config.local_size[0] = x;
    step->config.local_size[1] = y;
    step->config.local_size[2] = 1;
    step->groups[0] = porta_lower_groups(tiles_x, x);
    step->groups[1] = porta_lower_groups(tiles_y, y);
}

/* Whether the largest element an operand's strides reach lies inside its binding. */
static bool reaches_inside(const porta_lower_gemm *g, uint32_t off, const uint32_t batch[2],
                           uint32_t rows, uint32_t row_stride, uint32_t cols,
                           uint32_t col_stride, uint64_t bytes)
{
    uint64_t last = (uint64_t)off + (uint64_t)(g->batch[0] - 1) * batch[0] +
                    (uint64_t)(g->batch[1] - 1) * batch[1] + (uint64_t)(rows - 1) * row_stride +
                    (uint64_t)(cols - 1) * col_stride;
    return last < bytes / PORTA_PLAN_ELEMENT_BYTES;
}

porta_status porta_lower_emit_gemm(porta_lower *lower, const porta_node *node,
                                   const porta_lower_gemm *gemm)
{
    const porta_lower_gemm *g = gemm;
    if (!g->m || !g->n || !g->k || !g->batch[0] || !g->batch[1])
        return porta_lower_fail(lower, node, PORTA_ERROR_INTERNAL,
                                "gemm: empty product (batch %u x %u, m %u, n %u, k %u)",
                                g->batch[0], g->batch[1], g->m, g->n, g->k);
    gemm_params p = {
        .m = g->m, .n = g->n, .k = g->k, .batch1 = g->batch[1],
        .a_b0 = g->a_batch[0], .a_b1 = g->a_batch[1], .a_m = g->a_m, .a_k = g->a_k,
        .b_b0 = g->b_batch[0], .b_b1 = g->b_batch[1], .b_k = g->b_k, .b_n = g->b_n,
        .out_b0 = g->out_batch[0], .out_b1 = g->out_batch[1], .out_m = g->out_m,
        .has_bias = g->bias.bytes != 0, .alpha = g->alpha,
    };
    porta_lower_step step = porta_lower_step_init(&porta_kernel_gemm, 1, 1, 1);
    step.n_bindings = 4;
    step.bindings[0] = aligned_binding(lower, g->a, &p.a_off);
    step.bindings[1] = aligned_binding(lower, g->b, &p.b_off);
    step.bindings[2] = aligned_binding(lower, p.has_bias ? g->bias : g->a, &p.bias_off);
    step.bindings[3] = aligned_binding(lower, g->out, &p.out_off);
    const char *outside = NULL;
    if (!reaches_inside(g, p.a_off, g->a_batch, g->m, g->a_m, g->k, g->a_k, step.bindings[0].bytes))
        outside = "a";
    else if (!reaches_inside(g, p.b_off, g->b_batch, g->k, g->b_k, g->n, g->b_n,
                             step.bindings[1].bytes))
        outside = "b";
    else if (p.has_bias && (uint64_t)p.bias_off + g->n > step.bindings[2].bytes / 4)
        outside = "bias";
    else if (!reaches_inside(g, p.out_off, g->out_batch, g->m, g->out_m, g->n, 1,
                             step.bindings[3].bytes))
        outside = "out";
    if (outside)
        return porta_lower_fail(lower, node, PORTA_ERROR_INTERNAL,
                                "gemm: operand %s's strides reach past its storage", outside);
    step.config.n_constants = 3;
    step.config.constants[0] = g->k == 1 || g->a_k == 1;
    step.config.constants[1] = g->n == 1 || g->b_n == 1;
    step.config.constants[2] = !step.config.constants[1] && (g->k == 1 || g->b_k == 1);
    tile_grid(lower, porta_lower_groups(g->n, TILE), porta_lower_groups(g->m, TILE), &step);
    if (step.groups[0] > MAX_GROUPS || step.groups[1] > MAX_GROUPS)
        return porta_lower_fail(lower, node, PORTA_ERROR_UNSUPPORTED,
                                "a %u x %u product needs more than %u work-groups a dimension",
                                g->m, g->n, MAX_GROUPS);
    step.params = &p;
    step.param_bytes = sizeof p;
    /* batches past the 65535 groups of one dimension go in further steps */
    uint64_t batches = (uint64_t)g->batch[0] * g->batch[1];
    for (uint64_t base = 0; base < batches; base += MAX_GROUPS) {
        p.batch_base = (uint32_t)base;
        step.groups[2] = (uint32_t)(batches - base < MAX_GROUPS ? batches - base : MAX_GROUPS);
        porta_status status = porta_lower_emit(lower, node, &step);
        if (status != PORTA_OK) return status;
    }
    return PORTA_OK;
}

/* Kernels index with 32-bit integers: every operand and the result must have fewer elements. */
static porta_status check_elements(porta_lower *lower, const porta_node *node)
{
    bool fits = porta_lower_elements(lower, node->output) <= (int64_t)UINT32_MAX;
    for (int i = 0; i < node->n_operands; i++)
        if (node->operands[i] >= 0 &&
            porta_lower_elements(lower, node->operands[i]) > (int64_t)UINT32_MAX)
            fits = false;
    return fits ? PORTA_OK
                : porta_lower_fail(lower, node, PORTA_ERROR_UNSUPPORTED,
                                   "a tensor of 2^32 elements or more");
}

/* Batch strides of a matrix operand of shape `s` (its leading rank - 2 dims) seen against a
 * result with two batch dims, aligned on the right: 0 where it broadcasts or has no such dim. */
static void batch_strides(const porta_shape *s, uint32_t out[2])
{
    uint64_t stride = (uint64_t)s->dims[s->rank - 2] * (uint64_t)s->dims[s->rank - 1];
    out[0] = out[1] = 0;
    for (int d = s->rank - 3, slot = 1; d >= 0; d--, slot--) {
        out[slot] = s->dims[d] == 1 ? 0 : (uint32_t)stride;
        stride *= (uint64_t)s->dims[d];
    }
}

porta_status porta_lower_matmul(porta_lower *lower, const porta_node *node)
{
    const porta_graph *graph = porta_lower_graph(lower);
    const porta_shape *as = &graph->tensors[node->operands[0]].shape;
    const porta_shape *bs = &graph->tensors[node->operands[1]].shape;
    const porta_shape *os = &graph->tensors[node->output].shape;
    porta_status status = check_elements(lower, node);
    if (status != PORTA_OK) return status;
    uint32_t k = (uint32_t)as->dims[as->rank - 1];
    porta_lower_gemm g = {
        .a = porta_lower_tensor(lower, node->operands[0]),
        .b = porta_lower_tensor(lower, node->operands[1]),
        .out = porta_lower_result(lower, node),
        .batch = {1, 1},
        .n = (uint32_t)os->dims[os->rank - 1],
        .k = k,
        .a_k = 1,
        .alpha = 1.0f,
    };
    if (node->op == PORTA_OP_LINEAR) {
        /* x [..., IN] as [rows, IN]; w [OUT, IN] is b transposed */
        g.m = (uint32_t)(porta_lower_elements(lower, node->operands[0]) / k);
        g.a_m = k;
        g.b_k = 1;
        g.b_n = k;
        if (node->operands[2] >= 0) g.bias = porta_lower_tensor(lower, node->operands[2]);
    } else {
        bool transpose_b = porta_node_bool(graph, node, "transpose_b");
        g.m = (uint32_t)os->dims[os->rank - 2];
        g.a_m = k;
        g.b_k = transpose_b ? 1 : g.n;
        g.b_n = transpose_b ? k : 1;
        for (int d = os->rank - 3, slot = 1; d >= 0; d--, slot--)
            g.batch[slot] = (uint32_t)os->dims[d];
        batch_strides(as, g.a_batch);
        batch_strides(bs, g.b_batch);
        g.out_batch[1] = g.m * g.n;
        g.out_batch[0] = g.batch[1] * g.m * g.n;
    }
    g.out_m = g.n;
    return porta_lower_emit_gemm(lower, node, &g);
}

typedef struct conv1d_params {
    uint32_t rows, steps, channels, outputs, taps, dilation, has_bias;
} conv1d_params;

porta_status porta_lower_conv1d(porta_lower *lower, const porta_node *node)
{
    const porta_graph *graph = porta_lower_graph(lower);
    const porta_shape *xs = &graph->tensors[node->operands[0]].shape;
    const porta_shape *ws = &graph->tensors[node->operands[1]].shape;
    int64_t dilation = porta_node_int(graph, node, "dilation");
    porta_status status = check_elements(lower, node);
    if (status != PORTA_OK) return status;
    if ((ws->dims[2] - 1) * dilation > (int64_t)UINT32_MAX)
        return porta_lower_fail(lower, node, PORTA_ERROR_UNSUPPORTED,
                                "a reach into the past of %lld time steps",
                                (long long)((ws->dims[2] - 1) * dilation));
    conv1d_params p = {
        .rows = (uint32_t)(xs->dims[0] * xs->dims[1]),
        .steps = (uint32_t)xs->dims[1],
        .channels = (uint32_t)xs->dims[2],
        .outputs = (uint32_t)ws->dims[0],
        .taps = (uint32_t)ws->dims[2],
        .dilation = (uint32_t)dilation,
        .has_bias = node->operands[2] >= 0,
    };
    porta_lower_step step = porta_lower_step_init(&porta_kernel_conv1d, 1, 1, 1);
    step.n_bindings = 4;
    step.bindings[0] = porta_lower_tensor(lower, node->operands[0]);
    step.bindings[1] = porta_lower_tensor(lower, node->operands[1]);
    step.bindings[2] = porta_lower_tensor(lower, node->operands[p.has_bias ? 2 : 1]);
    step.bindings[3] = porta_lower_result(lower, node);
    tile_grid(lower, porta_lower_groups(p.outputs, TILE), porta_lower_groups(p.rows, TILE), &step);
    if (step.groups[0] > MAX_GROUPS || step.groups[1] > MAX_GROUPS)
        return porta_lower_fail(lower, node, PORTA_ERROR_UNSUPPORTED,
                                "%u time steps by %u outputs need more than %u work-groups a "
                                "dimension", p.rows, p.outputs, MAX_GROUPS);
    step.params = &p;
    step.param_bytes = sizeof p;
    return porta_lower_emit(lower, node, &step);
}
