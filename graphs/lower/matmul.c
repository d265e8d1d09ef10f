/* The matmul family: matmul and linear through one strided batched product (porta_lower_emit_gemm,
 * shared with the attention rules), and causal_conv1d. docs/ops.md states the math. A linear
 * fused with the activation that reads it (fuse.h) is one gemm with that activation as its
 * epilogue, and one fused with a residual add adds the other operand there; both are applied in
 * the last of the steps a long K is split into. */
#include "graphs/lower/lower.h"
#include "graphs/ops.h"

#include <stdio.h>
#include <string.h>

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
    uint32_t bias_off, has_bias, accumulate;
    float alpha;
    uint32_t res_off, has_res;
} gemm_params;

typedef struct panel_params {
    uint32_t m, n, k, batch1, batch_base;
    uint32_t a_off, a_b0, a_b1, a_m;
    uint32_t bp_off, bp_b0, bp_b1, panel_stride;
    uint32_t out_off, out_b0, out_b1, out_m;
    uint32_t bias_off, has_bias, accumulate;
    float alpha;
    uint32_t res_off, has_res;
} panel_params;

typedef struct pack_params {
    uint32_t n, k_rows, panels, batch1, batch_base;
    uint32_t b_off, b_b0, b_b1, b_k, b_n, row_width;
} pack_params;

/* The gemm's variants (shaders/gemm.k, shaders/gemm_panel.k): any strides in 4x4 tiles, or B in
 * panels of 16 columns with a block of rows per invocation, the fast one on the CPU drivers. */
enum { GEMM_TILE4, GEMM_PANELS, GEMM_VARIANTS };
static const char *const gemm_variant_names[GEMM_VARIANTS] = {"tile4", "panels"};
/* Rows per invocation of the panels: 6 rows of 16 columns keep 12 AVX2 registers of sums where
 * an invocation's vectors are SIMD (PoCL); where invocations are lanes (llvmpipe) 8 rows share
 * each load of B best (the most the kernel has). */
#define PANEL_ROWS_VECTORS 6u
#define PANEL_ROWS_LANES 8u
/* Packing B on the device costs K x N per run: worth it from this many rows of a on. */
#define PACK_MIN_ROWS 16u
/* Both gemm kernels loop K/4 + K%4 times, so K is split into steps that keep this under the loop
 * budget (lower.h). */
#define K_PER_STEP ((PORTA_LOWER_LOOP_BUDGET - 3u) * 4u)
#define GEMM_LOOPS(k) ((uint64_t)(k) / 4u + (k) % 4u)

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

/* Emits `step` once per range of at most MAX_GROUPS batches (grid z), setting the batch base
 * through *batch_base, which points into step's parameters. */
static porta_status emit_batches(porta_lower *lower, const porta_node *node, uint64_t batches,
                                 porta_lower_step *step, uint32_t *batch_base)
{
    for (uint64_t base = 0; base < batches; base += MAX_GROUPS) {
        *batch_base = (uint32_t)base;
        step->groups[2] = (uint32_t)(batches - base < MAX_GROUPS ? batches - base : MAX_GROUPS);
        porta_status status = porta_lower_emit(lower, node, step);
        if (status != PORTA_OK) return status;
    }
    return PORTA_OK;
}

static porta_status too_many_groups(porta_lower *lower, const porta_node *node,
                                    const porta_lower_gemm *g)
{
    return porta_lower_fail(lower, node, PORTA_ERROR_UNSUPPORTED,
                            "a %u x %u product needs more than %u work-groups a dimension", g->m,
                            g->n, MAX_GROUPS);
}

/* The 4x4 tiles of gemm.k, any strides, one step per range of K_PER_STEP. */
static porta_status emit_tile4(porta_lower *lower, const porta_node *node,
                               const porta_lower_gemm *g, const porta_lower_ref bindings[5],
                               gemm_params p)
{
    porta_lower_step step = porta_lower_step_init(&porta_kernel_gemm, 1, 1, 1);
    step.n_bindings = 5;
    memcpy(step.bindings, bindings, 5 * sizeof *bindings);
    step.config.n_constants = 4;
    step.config.constants[0] = g->k == 1 || g->a_k == 1;
    step.config.constants[1] = g->n == 1 || g->b_n == 1;
    step.config.constants[2] = !step.config.constants[1] && (g->k == 1 || g->b_k == 1);
    tile_grid(lower, porta_lower_groups(g->n, TILE), porta_lower_groups(g->m, TILE), &step);
    if (step.groups[0] > MAX_GROUPS || step.groups[1] > MAX_GROUPS)
        return too_many_groups(lower, node, g);
    step.params = &p;
    step.param_bytes = sizeof p;
    uint32_t a_off = p.a_off, b_off = p.b_off;
    bool bias = p.has_bias, res = p.has_res;
    for (uint32_t k0 = 0; k0 < g->k; k0 += K_PER_STEP) {
        p.k = g->k - k0 < K_PER_STEP ? g->k - k0 : K_PER_STEP;
        p.a_off = a_off + k0 * g->a_k;
        p.b_off = b_off + k0 * g->b_k;
        p.accumulate = k0 > 0;
        p.has_bias = bias && k0 == 0;
        /* the residual and the activation come after the whole sum: the last step only */
        bool last = g->k - k0 <= K_PER_STEP;
        p.has_res = res && last;
        step.config.constants[3] = last ? (int32_t)g->activation : 0;
        step.loop_iterations = GEMM_LOOPS(p.k);
        porta_status status = emit_batches(lower, node, (uint64_t)g->batch[0] * g->batch[1],
                                           &step, &p.batch_base);
        if (status != PORTA_OK) return status;
    }
    return PORTA_OK;
}

/* B in panels for gemm_panel.k: the weight itself, packed when it is set, when lowering grants
 * that; else a gemm_pack.k step into scratch (one batch when B broadcasts over every batch). */
static porta_status panels_of_b(porta_lower *lower, const porta_node *node,
                                const porta_lower_gemm *g, porta_lower_ref *out,
                                uint32_t batch_stride[2])
{
    uint32_t panels = porta_lower_groups(g->n, PORTA_PLAN_PANEL_COLS);
    uint64_t panel_floats = (uint64_t)g->k * PORTA_PLAN_PANEL_COLS;
    bool broadcast = g->b_batch[0] == 0 && g->b_batch[1] == 0;
    batch_stride[0] = batch_stride[1] = 0;
    if (broadcast && g->b_weight_slot > 0) {
        porta_plan_packing packing = {PORTA_PLAN_PANEL_COLS, g->k, g->n, g->b_k, g->b_n};
        *out = porta_lower_pack_weight(lower, node, g->b_weight_slot, &packing);
        if (out->store >= 0) return PORTA_OK;
    }
    uint64_t batches = broadcast ? 1 : (uint64_t)g->batch[0] * g->batch[1];
    uint64_t floats = batches * panels * panel_floats;
    if (floats > UINT32_MAX)
        return porta_lower_fail(lower, node, PORTA_ERROR_UNSUPPORTED,
                                "gemm: b packed in panels would have 2^32 elements or more");
    *out = porta_lower_scratch(lower, floats * PORTA_PLAN_ELEMENT_BYTES);
    if (!broadcast) {
        batch_stride[1] = (uint32_t)(panels * g->k);        /* in vec16 units */
        batch_stride[0] = g->batch[1] * batch_stride[1];
    }
    pack_params p = {
        .n = g->n, .k_rows = g->k, .panels = panels, .batch1 = broadcast ? 1 : g->batch[1],
        .b_b0 = broadcast ? 0 : g->b_batch[0], .b_b1 = broadcast ? 0 : g->b_batch[1],
        .b_k = g->b_k, .b_n = g->b_n,
    };
    porta_lower_step step = porta_lower_step_init(&porta_kernel_gemm_pack, 1, 1, 1);
    step.n_bindings = 2;
    step.bindings[0] = aligned_binding(lower, g->b, &p.b_off);
    step.bindings[1] = *out;
    uint64_t elements = (uint64_t)panels * PORTA_PLAN_PANEL_COLS * g->k;
    uint32_t width = 64;
    while (width > porta_lower_limits(lower)->max_workgroup_size) width >>= 1;
    uint64_t row_groups = (elements + width - 1) / width;
    if (row_groups > 4096) row_groups = 4096;
    p.row_width = (uint32_t)row_groups * width;
    step.config.local_size[0] = width;
    step.groups[0] = (uint32_t)row_groups;
    step.groups[1] = (uint32_t)((elements + p.row_width - 1) / p.row_width);
    step.params = &p;
    step.param_bytes = sizeof p;
    return emit_batches(lower, node, batches, &step, &p.batch_base);
}

/* gemm_panel.k, one step per range of K_PER_STEP. */
static porta_status emit_panels(porta_lower *lower, const porta_node *node,
                                const porta_lower_gemm *g, const porta_lower_ref bindings[5],
                                const gemm_params *gp)
{
    porta_lower_ref bp;
    uint32_t bp_batch[2];
    porta_status status = panels_of_b(lower, node, g, &bp, bp_batch);
    if (status != PORTA_OK) return status;
    panel_params p = {
        .m = g->m, .n = g->n, .batch1 = g->batch[1],
        .a_b0 = g->a_batch[0], .a_b1 = g->a_batch[1], .a_m = g->a_m,
        .bp_b0 = bp_batch[0], .bp_b1 = bp_batch[1], .panel_stride = g->k,
        .out_off = gp->out_off, .out_b0 = g->out_batch[0], .out_b1 = g->out_batch[1],
        .out_m = g->out_m, .bias_off = gp->bias_off, .alpha = g->alpha, .res_off = gp->res_off,
    };
    porta_lower_step step = porta_lower_step_init(&porta_kernel_gemm_panel, 1, 1, 1);
    step.n_bindings = 5;
    step.bindings[0] = bindings[0];
    step.bindings[1] = bp;
    step.bindings[2] = bindings[2];
    step.bindings[3] = bindings[3];
    step.bindings[4] = bindings[4];
    uint32_t panels = porta_lower_groups(g->n, PORTA_PLAN_PANEL_COLS);
    uint32_t rows = porta_lower_limits(lower)->kind == PORTA_PLAN_CPU_LANES ? PANEL_ROWS_LANES
                                                                             : PANEL_ROWS_VECTORS;
    if (g->m < rows) rows = g->m;       /* decoding (one row): no sums of repeated rows */
    step.config.n_constants = 2;
    step.config.constants[0] = (int32_t)rows;
    tile_grid(lower, panels, porta_lower_groups(g->m, rows), &step);
    if (step.groups[0] > MAX_GROUPS || step.groups[1] > MAX_GROUPS)
        return too_many_groups(lower, node, g);
    step.params = &p;
    step.param_bytes = sizeof p;
    for (uint32_t k0 = 0; k0 < g->k; k0 += K_PER_STEP) {
        p.k = g->k - k0 < K_PER_STEP ? g->k - k0 : K_PER_STEP;
        p.a_off = gp->a_off + k0;           /* the panel kernels read a with unit k stride */
        p.bp_off = k0;
        p.accumulate = k0 > 0;
        p.has_bias = gp->has_bias && k0 == 0;
        bool last = g->k - k0 <= K_PER_STEP;
        p.has_res = gp->has_res && last;
        step.config.constants[1] = last ? (int32_t)g->activation : 0;
        step.loop_iterations = GEMM_LOOPS(p.k);
        status = emit_batches(lower, node, (uint64_t)g->batch[0] * g->batch[1], &step,
                              &p.batch_base);
        if (status != PORTA_OK) return status;
    }
    return PORTA_OK;
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
        .has_bias = g->bias.bytes != 0, .alpha = g->alpha, .has_res = g->residual.bytes != 0,
    };
    porta_lower_ref bindings[5];
    bindings[0] = aligned_binding(lower, g->a, &p.a_off);
    bindings[1] = aligned_binding(lower, g->b, &p.b_off);
    bindings[2] = aligned_binding(lower, p.has_bias ? g->bias : g->a, &p.bias_off);
    bindings[3] = aligned_binding(lower, g->out, &p.out_off);
    bindings[4] = aligned_binding(lower, p.has_res ? g->residual : g->a, &p.res_off);
    const char *outside = NULL;
    if (!reaches_inside(g, p.a_off, g->a_batch, g->m, g->a_m, g->k, g->a_k, bindings[0].bytes))
        outside = "a";
    else if (!reaches_inside(g, p.b_off, g->b_batch, g->k, g->b_k, g->n, g->b_n,
                             bindings[1].bytes))
        outside = "b";
    else if (p.has_bias && (uint64_t)p.bias_off + g->n > bindings[2].bytes / 4)
        outside = "bias";
    else if (!reaches_inside(g, p.out_off, g->out_batch, g->m, g->out_m, g->n, 1,
                             bindings[3].bytes))
        outside = "out";
    else if (p.has_res && !reaches_inside(g, p.res_off, g->out_batch, g->m, g->out_m, g->n, 1,
                                          bindings[4].bytes))
        outside = "residual";
    if (outside)
        return porta_lower_fail(lower, node, PORTA_ERROR_INTERNAL,
                                "gemm: operand %s's strides reach past its storage", outside);
    porta_plan_device_kind kind = porta_lower_limits(lower)->kind;
    /* GPUs keep the 4x4 tiles until a shared-memory variant is measured on one */
    int chosen = kind == PORTA_PLAN_GPU ? GEMM_TILE4 : GEMM_PANELS;
    bool weight_b = g->b_weight_slot > 0 && g->b_batch[0] == 0 && g->b_batch[1] == 0;
    if (!weight_b && g->m < PACK_MIN_ROWS) chosen = GEMM_TILE4;
    int variant = GEMM_TILE4;
    if (g->a_k == 1 || g->k == 1) {     /* the panels read a along k */
        char key[64];
        snprintf(key, sizeof key, "m%u,n%u,k%u,b%u%s", g->m, g->n, g->k,
                 g->batch[0] * g->batch[1], weight_b ? ",w" : "");
        variant = porta_lower_variant(lower, "gemm", key, gemm_variant_names, GEMM_VARIANTS,
                                      chosen);
    }
    if (variant == GEMM_TILE4) return emit_tile4(lower, node, g, bindings, p);
    return emit_panels(lower, node, g, bindings, &p);
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
    /* fused with its activation or a residual add: the gemm writes that node's result */
    const porta_fusion *pair = porta_lower_fused(lower, node);
    const porta_node *made = pair->kind ? &graph->nodes[pair->last] : node;
    porta_lower_gemm g = {
        .a = porta_lower_tensor(lower, node->operands[0]),
        .b = porta_lower_tensor(lower, node->operands[1]),
        .out = porta_lower_result(lower, made),
        .batch = {1, 1},
        .n = (uint32_t)os->dims[os->rank - 1],
        .k = k,
        .a_k = 1,
        .alpha = 1.0f,
        .b_weight_slot = 1,
        .activation = pair->kind == PORTA_FUSION_LINEAR_ACTIVATION
                          ? porta_activation_of(graph, made)
                          : PORTA_ACTIVATION_NONE,
    };
    if (pair->kind == PORTA_FUSION_LINEAR_ADD) {
        /* the add's other operand, laid out like the result (fuse.c saw that it does not
         * broadcast) */
        porta_tensor_id other = made->operands[made->operands[0] == node->output ? 1 : 0];
        g.residual = porta_lower_tensor(lower, other);
    }
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
    uint32_t tap_begin, tap_end, channel_begin, channel_end, accumulate;
} conv1d_params;

static uint32_t div_up(uint32_t a, uint32_t b) { return a / b + (a % b != 0); }

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
    /* One invocation loops taps * (channels + 1) times: ranges of channels and then of taps,
     * evenly sized, one accumulating step each, keep that under the loop budget. */
    uint32_t channel_steps = div_up(p.channels, PORTA_LOWER_LOOP_BUDGET - 1u);
    uint32_t per_channels = div_up(p.channels, channel_steps);
    uint32_t tap_steps = div_up(p.taps, PORTA_LOWER_LOOP_BUDGET / (per_channels + 1u));
    uint32_t per_taps = div_up(p.taps, tap_steps);
    bool bias = p.has_bias;
    for (uint32_t k0 = 0; k0 < p.taps; k0 += per_taps)
        for (uint32_t c0 = 0; c0 < p.channels; c0 += per_channels) {
            p.tap_begin = k0;
            p.tap_end = p.taps - k0 < per_taps ? p.taps : k0 + per_taps;
            p.channel_begin = c0;
            p.channel_end = p.channels - c0 < per_channels ? p.channels : c0 + per_channels;
            p.accumulate = k0 > 0 || c0 > 0;
            p.has_bias = bias && !p.accumulate;
            step.loop_iterations = (uint64_t)(p.tap_end - p.tap_begin) *
                                   (p.channel_end - p.channel_begin + 1u);
            porta_status status = porta_lower_emit(lower, node, &step);
            if (status != PORTA_OK) return status;
        }
    return PORTA_OK;
}
