/* The matmul family: matmul and linear through one strided batched product (porta_lower_emit_gemm,
 * shared with the attention rules); causal_conv1d is in conv1d.c. docs/ops.md states the math.
 * A linear fused with the activation that reads it (fuse.h) is one gemm with that activation as
 * its epilogue, and one fused with a residual add adds the other operand there; both are applied
 * in the last of the steps a long K is split into. A group of projections (linears of one input)
 * is one panels gemm over their weights side by side, writing each result as its own matrix. */
#include "graphs/lower/lower.h"
#include "graphs/ops.h"
#include "graphs/quantize.h"

#include <stdio.h>
#include <string.h>

/* Each invocation of gemm.k computes a TILE x TILE block of its result. */
#define TILE 4u
/* Invocations per work-group of the tiled kernels (porta_lower_tile_grid): enough for a CPU
 * driver to vectorize across invocations, few enough that small products still spread over
 * several groups. */
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
    uint32_t b_scale, b_block;
} gemm_params;

typedef struct panel_params {
    uint32_t m, n, k, batch1, batch_base;
    uint32_t a_off, a_b0, a_b1, a_m;
    uint32_t bp_off, bp_b0, bp_b1, panel_stride;
    uint32_t out_off, out_b0, out_b1, out_m;
    uint32_t bias_off, has_bias, accumulate;
    float alpha;
    uint32_t res_off, has_res;
    uint32_t seg1_panel, out_off1, out_m1, seg2_panel, out_off2, out_m2;
    uint32_t q_block;
} panel_params;

/* A fused group of projections as one product (fuse.h): B is the members' weights already in
 * panels one after another, and the result's columns are segments, each member's result
 * written as its own matrix: panels [first_panel[s], first_panel[s + 1]) go to element
 * out_off[s] of the out binding on, rows out_m[s] apart. */
typedef struct gemm_segments {
    porta_lower_ref packed_b;
    int n;
    uint32_t first_panel[PORTA_FUSION_MAX_PROJECTIONS];
    uint32_t out_off[PORTA_FUSION_MAX_PROJECTIONS], out_m[PORTA_FUSION_MAX_PROJECTIONS];
} gemm_segments;

typedef struct pack_params {
    uint32_t n, k_rows, panels, batch1, batch_base;
    uint32_t b_off, b_b0, b_b1, b_k, b_n, row_width;
} pack_params;

/* The gemm's variants (shaders/gemm.k, shaders/gemm_panel.k): any strides in 4x4 tiles, or B in
 * panels of 16 columns with a block of rows per invocation, the fast one on the CPU drivers. */
enum { GEMM_TILE4, GEMM_PANELS, GEMM_SPLITK, GEMM_VARIANTS };
static const char *const gemm_variant_names[GEMM_VARIANTS] = {"tile4", "panels", "splitk"};
/* splitk, for narrow outputs (few rows and columns, a long K: decoding's matrix-vector
 * products): the panels over S ranges of K at once, each into its own partial [M, N] in
 * scratch, then a 4x4-tile product of a vector of S ones by the partials sums them and applies
 * alpha, the bias, the residual and the activation. S is a power of two dividing K, each range
 * at least SPLITK_MIN_CHUNK long, the partials at most SPLITK_SCRATCH_MOST bytes. A GPU's rule
 * takes it when the output has fewer than GPU_NARROW_TILES tiles and K is GPU_SPLITK_MIN_K or
 * more, so enough invocations run; the CPU drivers have cores enough without it. */
#define SPLITK_MIN_CHUNK 256u
#define SPLITK_MOST 64u
#define SPLITK_SCRATCH_MOST (16ull << 20)
#define GPU_NARROW_TILES 4096u
#define GPU_SPLITK_MIN_K 1024u
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
    *elements = (uint32_t)(skip / porta_lower_ref_element_bytes(lower, ref));
    return (porta_lower_ref){ref.store, ref.offset - skip, ref.bytes + skip};
}

static uint32_t next_pow2(uint32_t v)
{
    uint32_t p = 1;
    while (p < v && p < 0x80000000u) p <<= 1;
    return p;
}

void porta_lower_tile_grid(const porta_lower *lower, uint32_t tiles_x, uint32_t tiles_y,
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
static bool reaches_inside(const porta_lower *lower, const porta_lower_gemm *g, uint32_t off,
                           const uint32_t batch[2], uint32_t rows, uint32_t row_stride,
                           uint32_t cols, uint32_t col_stride, porta_lower_ref binding)
{
    uint64_t bytes = binding.bytes;
    uint64_t last = (uint64_t)off + (uint64_t)(g->batch[0] - 1) * batch[0] +
                    (uint64_t)(g->batch[1] - 1) * batch[1] + (uint64_t)(rows - 1) * row_stride +
                    (uint64_t)(cols - 1) * col_stride;
    return last < bytes / porta_lower_ref_element_bytes(lower, binding);
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
    step.config.n_constants = 5;
    step.config.constants[4] = g->b_quant_block != 0;
    step.config.constants[0] = g->k == 1 || g->a_k == 1;
    step.config.constants[1] = g->n == 1 || g->b_n == 1;
    step.config.constants[2] = !step.config.constants[1] && (g->k == 1 || g->b_k == 1);
    porta_lower_tile_grid(lower, porta_lower_groups(g->n, TILE), porta_lower_groups(g->m, TILE),
                          &step);
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
    if (g->b_quant_block) {
        /* an 8-bit weight: its values and scales in panels (quantize.h); emit_gemm_as saw that
         * it may be laid out so */
        porta_quant_layout q = porta_quant_layout_of(porta_lower_graph(lower),
                                                     node->operands[g->b_weight_slot]);
        porta_plan_packing packing = {PORTA_PLAN_PANEL_COLS, q.k_rows, q.n_cols, q.k_stride,
                                      q.n_stride, q.block, 4};
        *out = porta_lower_pack_weight(lower, node, g->b_weight_slot, &packing);
        return out->store >= 0 ? PORTA_OK
                               : porta_lower_fail(lower, node, PORTA_ERROR_INTERNAL,
                                                  "gemm: an 8-bit weight cannot go to panels");
    }
    if (broadcast && g->b_weight_slot > 0) {
        /* an f16 weight's panels hold halves, which the kernel reads from words (QUANT 2) */
        porta_plan_packing packing = {PORTA_PLAN_PANEL_COLS, g->k, g->n, g->b_k, g->b_n, 0,
                                      porta_lower_ref_element_bytes(lower, g->b)};
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

/* How many ranges splitk cuts K into for this product; 1: it cannot (batched, a read along
 * k with a stride, or K too short). */
static uint32_t splitk_splits(const porta_lower *lower, const porta_lower_gemm *g)
{
    if (g->batch[0] != 1 || g->batch[1] != 1 || (g->a_k != 1 && g->k != 1)) return 1;
    uint32_t s = 1;
    while (s * 2 <= SPLITK_MOST && g->k % (s * 2) == 0 && g->k / (s * 2) >= SPLITK_MIN_CHUNK)
        s *= 2;
    uint64_t most = porta_lower_limits(lower)->max_buffer_bytes;
    if (most > SPLITK_SCRATCH_MOST) most = SPLITK_SCRATCH_MOST;
    while (s > 1 && (uint64_t)s * g->m * g->n * PORTA_PLAN_ELEMENT_BYTES > most) s /= 2;
    return s;
}

/* gemm_panel.k, one step per range of K_PER_STEP; `segments` (NULL: none) for a group of
 * projections; `splits` > 1: splitk's partial products into `partial` (no epilogue). */
static porta_status emit_panels(porta_lower *lower, const porta_node *node,
                                const porta_lower_gemm *g, const porta_lower_ref bindings[5],
                                const gemm_params *gp, const gemm_segments *segments,
                                uint32_t splits, porta_lower_ref partial)
{
    porta_lower_ref bp = segments ? segments->packed_b : (porta_lower_ref){-1, 0, 0};
    uint32_t bp_batch[2] = {0, 0};
    porta_status status = segments ? PORTA_OK : panels_of_b(lower, node, g, &bp, bp_batch);
    if (status != PORTA_OK) return status;
    panel_params p = {
        .m = g->m, .n = g->n, .batch1 = g->batch[1],
        .a_b0 = g->a_batch[0], .a_b1 = g->a_batch[1], .a_m = g->a_m,
        .bp_b0 = bp_batch[0], .bp_b1 = bp_batch[1], .panel_stride = g->k,
        .out_off = gp->out_off, .out_b0 = g->out_batch[0], .out_b1 = g->out_batch[1],
        .out_m = g->out_m, .bias_off = gp->bias_off, .alpha = g->alpha, .res_off = gp->res_off,
    };
    porta_lower_step step = porta_lower_step_init(&porta_kernel_gemm_panel, 1, 1, 1);
    step.n_bindings = 6;
    step.bindings[0] = bindings[0];
    /* A CPU driver widens each half of a 16-bit a with scalar code, once per panel: widened
     * once into f32 scratch instead (the same indices), the panels read floats (PoCL: the f16
     * encoder's linears 2x faster). GPUs convert halves as they load them. */
    if (porta_lower_limits(lower)->kind != PORTA_PLAN_GPU &&
        porta_lower_ref_storage_kind(lower, bindings[0]) != PORTA_STORAGE_WORD) {
        step.bindings[0] = porta_lower_scratch(lower, bindings[0].bytes / 2 * 4);
        status = porta_lower_emit_convert(lower, node, bindings[0], step.bindings[0]);
        if (status != PORTA_OK) return status;
    }
    step.bindings[1] = bp;
    step.bindings[2] = bindings[2];
    step.bindings[3] = bindings[3];
    step.bindings[4] = bindings[4];
    step.bindings[5] = bp;      /* the int8 values of an 8-bit weight; else unread */
    p.q_block = g->b_quant_block;   /* the kernel finds the scales from n and K */
    uint32_t panels = porta_lower_groups(g->n, PORTA_PLAN_PANEL_COLS);
    uint32_t rows = porta_lower_limits(lower)->kind == PORTA_PLAN_CPU_LANES ? PANEL_ROWS_LANES
                                                                             : PANEL_ROWS_VECTORS;
    if (g->m < rows) rows = g->m;       /* decoding (one row): no sums of repeated rows */
    step.config.n_constants = 4;
    /* QUANT: 1 an 8-bit weight, 2 and 3 an f16 or bf16 weight's panels of halves, 0 floats */
    porta_storage_kind bp_kind = porta_lower_ref_storage_kind(lower, bp);
    step.config.constants[3] = g->b_quant_block                    ? 1
                               : bp_kind == PORTA_STORAGE_F16  ? 2
                               : bp_kind == PORTA_STORAGE_BF16 ? 3
                                                               : 0;
    step.config.constants[0] = (int32_t)rows;
    step.config.constants[2] = segments ? segments->n : 1;
    if (segments) {
        p.out_off = gp->out_off + segments->out_off[0];
        p.out_m = segments->out_m[0];
        p.seg1_panel = segments->first_panel[1];
        p.out_off1 = gp->out_off + segments->out_off[1];
        p.out_m1 = segments->out_m[1];
        if (segments->n > 2) {
            p.seg2_panel = segments->first_panel[2];
            p.out_off2 = gp->out_off + segments->out_off[2];
            p.out_m2 = segments->out_m[2];
        }
    }
    porta_lower_tile_grid(lower, panels, porta_lower_groups(g->m, rows), &step);
    if (step.groups[0] > MAX_GROUPS || step.groups[1] > MAX_GROUPS)
        return too_many_groups(lower, node, g);
    step.params = &p;
    step.param_bytes = sizeof p;
    /* splitk: split z1 of the batch reads K from split * k_each on (a and the panels' rows)
     * and writes partial z1 */
    uint32_t k_each = g->k / splits;
    uint64_t batches = (uint64_t)g->batch[0] * g->batch[1];
    bool split = splits > 1;
    if (split) {
        p.batch1 = splits;
        p.a_b0 = p.bp_b0 = p.out_b0 = 0;
        p.a_b1 = p.bp_b1 = k_each;
        p.out_b1 = g->m * g->n;
        p.out_off = 0;
        p.out_m = g->n;
        p.alpha = 1.0f;
        step.bindings[3] = partial;
        batches = splits;
    }
    for (uint32_t k0 = 0; k0 < k_each; k0 += K_PER_STEP) {
        p.k = k_each - k0 < K_PER_STEP ? k_each - k0 : K_PER_STEP;
        p.a_off = gp->a_off + k0;           /* the panel kernels read a with unit k stride */
        p.bp_off = k0;
        p.accumulate = k0 > 0;
        p.has_bias = gp->has_bias && k0 == 0 && !split;
        bool last = k_each - k0 <= K_PER_STEP && !split;
        p.has_res = gp->has_res && last;
        step.config.constants[1] = last ? (int32_t)g->activation : 0;
        step.loop_iterations = GEMM_LOOPS(p.k);
        status = emit_batches(lower, node, batches, &step, &p.batch_base);
        if (status != PORTA_OK) return status;
    }
    return PORTA_OK;
}

static porta_status emit_gemm_as(porta_lower *lower, const porta_node *node,
                                 const porta_lower_gemm *g, int decided,
                                 const gemm_segments *segments);

/* splitk (above): the partial products, a vector of ones, and the product that sums them. */
static porta_status emit_splitk(porta_lower *lower, const porta_node *node,
                                const porta_lower_gemm *g, const porta_lower_ref bindings[5],
                                const gemm_params *gp, uint32_t splits)
{
    porta_lower_ref partial =
        porta_lower_scratch(lower, (uint64_t)splits * g->m * g->n * PORTA_PLAN_ELEMENT_BYTES);
    porta_status status = emit_panels(lower, node, g, bindings, gp, NULL, splits, partial);
    if (status != PORTA_OK) return status;
    porta_lower_ref ones = porta_lower_scratch(lower, (uint64_t)splits * PORTA_PLAN_ELEMENT_BYTES);
    struct {
        uint32_t n, word;
    } fill = {splits, 0x3f800000u};   /* the bits of 1.0f */
    porta_lower_step step = porta_lower_step_init(&porta_kernel_fill, SPLITK_MOST, 1, 1);
    step.n_bindings = 1;
    step.bindings[0] = ones;
    step.params = &fill;
    step.param_bytes = sizeof fill;
    status = porta_lower_emit(lower, node, &step);
    if (status != PORTA_OK) return status;
    /* out[m, :] = ones[1, S] x partial[:, m, :], one batch a row */
    porta_lower_gemm sum = {
        .a = ones, .b = partial, .bias = g->bias, .out = g->out, .residual = g->residual,
        .batch = {1, g->m}, .m = 1, .n = g->n, .k = splits,
        .a_k = 1, .b_batch = {0, g->n}, .b_k = g->m * g->n, .b_n = 1,
        .out_batch = {0, g->out_m}, .out_m = g->out_m, .alpha = g->alpha,
        .activation = g->activation,
    };
    return emit_gemm_as(lower, node, &sum, GEMM_TILE4, NULL);
}

/* The gemm in the variant `decided` (-1: choose it here, as a decision of the plan), with
 * `segments` (NULL: none; the panels only). */
static porta_status emit_gemm_as(porta_lower *lower, const porta_node *node,
                                 const porta_lower_gemm *gemm, int decided,
                                 const gemm_segments *segments)
{
    const porta_lower_gemm *g = gemm;
    if (!g->m || !g->n || !g->k || !g->batch[0] || !g->batch[1])
        return porta_lower_fail(lower, node, PORTA_ERROR_INTERNAL,
                                "gemm: empty product (batch %u x %u, m %u, n %u, k %u)",
                                g->batch[0], g->batch[1], g->m, g->n, g->k);
    /* K in several accumulating steps sums in f32 and rounds an f16 result once */
    porta_lower_ref sums = porta_lower_staging(lower, g->out, g->k > K_PER_STEP);
    if (sums.store != g->out.store || sums.offset != g->out.offset) {
        porta_lower_gemm staged = *g;
        staged.out = sums;
        porta_status status = emit_gemm_as(lower, node, &staged, decided, segments);
        return status != PORTA_OK ? status
                                  : porta_lower_emit_convert(lower, node, sums, g->out);
    }
    gemm_params p = {
        .m = g->m, .n = g->n, .k = g->k, .batch1 = g->batch[1],
        .a_b0 = g->a_batch[0], .a_b1 = g->a_batch[1], .a_m = g->a_m, .a_k = g->a_k,
        .b_b0 = g->b_batch[0], .b_b1 = g->b_batch[1], .b_k = g->b_k, .b_n = g->b_n,
        .out_b0 = g->out_batch[0], .out_b1 = g->out_batch[1], .out_m = g->out_m,
        .has_bias = g->bias.bytes != 0, .alpha = g->alpha, .has_res = g->residual.bytes != 0,
        .b_block = g->b_quant_block,
    };
    porta_lower_ref bindings[5];
    bindings[0] = aligned_binding(lower, g->a, &p.a_off);
    bindings[1] = aligned_binding(lower, g->b, &p.b_off);
    bindings[2] = aligned_binding(lower, p.has_bias ? g->bias : g->a, &p.bias_off);
    bindings[3] = aligned_binding(lower, g->out, &p.out_off);
    bindings[4] = aligned_binding(lower, p.has_res ? g->residual : g->a, &p.res_off);
    const char *outside = NULL;
    if (!reaches_inside(lower, g, p.a_off, g->a_batch, g->m, g->a_m, g->k, g->a_k, bindings[0]))
        outside = "a";
    else if (!g->b_quant_block && !reaches_inside(lower, g, p.b_off, g->b_batch, g->k, g->b_k,
                                                  g->n, g->b_n, bindings[1]))
        outside = "b";
    else if (p.has_bias && (uint64_t)p.bias_off + g->n >
                               bindings[2].bytes / porta_lower_ref_element_bytes(lower, bindings[2]))
        outside = "bias";
    else if (!reaches_inside(lower, g, p.out_off, g->out_batch, g->m, g->out_m, g->n, 1,
                             bindings[3]))
        outside = "out";
    else if (p.has_res && !reaches_inside(lower, g, p.res_off, g->out_batch, g->m, g->out_m, g->n,
                                          1, bindings[4]))
        outside = "residual";
    if (outside)
        return porta_lower_fail(lower, node, PORTA_ERROR_INTERNAL,
                                "gemm: operand %s's strides reach past its storage", outside);
    /* an 8-bit weight read as it is, at the start of its own buffer: its scales follow its
     * values (quantize.h) */
    if (g->b_quant_block) p.b_scale = (uint32_t)(((uint64_t)g->k * g->n + 3) / 4);
    porta_plan_device_kind kind = porta_lower_limits(lower)->kind;
    /* GPUs keep the 4x4 tiles until a shared-memory variant is measured on one */
    int chosen = kind == PORTA_PLAN_GPU ? GEMM_TILE4 : GEMM_PANELS;
    bool weight_b = g->b_weight_slot > 0 && g->b_batch[0] == 0 && g->b_batch[1] == 0;
    if (!weight_b && g->m < PACK_MIN_ROWS) chosen = GEMM_TILE4;
    uint32_t splits = segments ? 1 : splitk_splits(lower, g);
    uint64_t tiles = (uint64_t)porta_lower_groups(g->m, TILE) * porta_lower_groups(g->n, TILE);
    if (kind == PORTA_PLAN_GPU && splits > 1 && tiles < GPU_NARROW_TILES &&
        g->k >= GPU_SPLITK_MIN_K)
        chosen = GEMM_SPLITK;
    int variant = decided >= 0 ? decided : GEMM_TILE4;
    if (decided < 0 && (g->a_k == 1 || g->k == 1)) {     /* the panels read a along k */
        char key[64];
        snprintf(key, sizeof key, "m%u,n%u,k%u,b%u%s%s", g->m, g->n, g->k,
                 g->batch[0] * g->batch[1], weight_b ? ",w" : "",
                 !g->b_quant_block ? "" : g->b_quant_block == g->k ? ",i8c" : ",q8_0");
        /* splitk, the last name, is no candidate where K cannot be split (forcing it is then
         * ignored) */
        variant = porta_lower_variant(lower, "gemm", key, gemm_variant_names,
                                      splits > 1 ? GEMM_VARIANTS : GEMM_SPLITK, chosen);
    }
    /* the panels read an 8-bit weight only as packed when set: one that cannot be (another
     * node reads it) keeps the tiles */
    if (g->b_quant_block && !porta_lower_weight_packable(lower, node, g->b_weight_slot))
        variant = GEMM_TILE4;
    if (variant == GEMM_TILE4) return emit_tile4(lower, node, g, bindings, p);
    if (variant == GEMM_SPLITK && splits > 1)
        return emit_splitk(lower, node, g, bindings, &p, splits);
    return emit_panels(lower, node, g, bindings, &p, segments, 1, (porta_lower_ref){-1, 0, 0});
}

porta_status porta_lower_emit_gemm(porta_lower *lower, const porta_node *node,
                                   const porta_lower_gemm *gemm)
{
    return emit_gemm_as(lower, node, gemm, -1, NULL);
}

porta_status porta_lower_check_elements(porta_lower *lower, const porta_node *node)
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

/* matmul or linear, in the variant `decided` (-1: its own decision). */
static porta_status lower_product(porta_lower *lower, const porta_node *node, int decided)
{
    const porta_graph *graph = porta_lower_graph(lower);
    const porta_shape *as = &graph->tensors[node->operands[0]].shape;
    const porta_shape *bs = &graph->tensors[node->operands[1]].shape;
    const porta_shape *os = &graph->tensors[node->output].shape;
    porta_status status = porta_lower_check_elements(lower, node);
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
    g.b_quant_block = porta_quant_layout_of(graph, node->operands[1]).block;
    if (g.b_quant_block) {
        g.b_k = 1;                  /* held as [N, K] whatever its shape (quantize.h) */
        g.b_n = k;
    }
    return emit_gemm_as(lower, node, &g, decided, NULL);
}

/* The fused product of a group of projections in the panels variant: the weights (and biases)
 * laid out one after another in one buffer, the results one after another in one arena
 * allocation, each start aligned for a binding, the linears' results views into it. false
 * (nothing changed) when the weights cannot be laid out together or the allocation would pass
 * the binding range. */
static porta_status emit_projections(porta_lower *lower, const porta_fusion *group,
                                     uint32_t m, uint32_t k, bool *emitted)
{
    const porta_graph *graph = porta_lower_graph(lower);
    const porta_plan_limits *limits = porta_lower_limits(lower);
    const porta_node *anchor = &graph->nodes[group->anchor];
    porta_tensor_id weights[PORTA_FUSION_MAX_PROJECTIONS], biases[PORTA_FUSION_MAX_PROJECTIONS];
    porta_plan_packing packings[PORTA_FUSION_MAX_PROJECTIONS] = {{0}};
    porta_plan_packing as_is[PORTA_FUSION_MAX_PROJECTIONS] = {{0}};
    gemm_segments segments = {.n = group->n_members};
    uint64_t out_bytes = 0;
    uint32_t n = 0;
    for (int i = 0; i < group->n_members; i++) {
        const porta_node *member = &graph->nodes[group->members[i]];
        uint32_t out = (uint32_t)graph->tensors[member->operands[1]].shape.dims[0];
        weights[i] = member->operands[1];
        biases[i] = member->operands[2];
        packings[i] = (porta_plan_packing){PORTA_PLAN_PANEL_COLS, k, out, 1, k, 0, 4};
        segments.first_panel[i] = n / PORTA_PLAN_PANEL_COLS;
        segments.out_off[i] = (uint32_t)(out_bytes / PORTA_PLAN_ELEMENT_BYTES);
        segments.out_m[i] = out;
        uint64_t bytes = (uint64_t)m * out * PORTA_PLAN_ELEMENT_BYTES;
        out_bytes += (bytes + limits->buffer_alignment - 1) / limits->buffer_alignment *
                     limits->buffer_alignment;
        n += out;
    }
    *emitted = false;
    if (out_bytes > limits->max_buffer_bytes || out_bytes / PORTA_PLAN_ELEMENT_BYTES > UINT32_MAX)
        return PORTA_OK;
    segments.packed_b = porta_lower_group_weights(lower, weights, group->n_members, packings);
    if (segments.packed_b.store < 0) return PORTA_OK;
    bool has_bias = biases[0] >= 0;
    porta_lower_ref bias = {0, 0, 0};
    if (has_bias) {
        /* never refused once the larger weights were laid out */
        bias = porta_lower_group_weights(lower, biases, group->n_members, as_is);
        if (bias.store < 0)
            return porta_lower_fail(lower, anchor, PORTA_ERROR_INTERNAL,
                                    "the projections' biases cannot share a buffer");
    }
    *emitted = true;
    porta_lower_ref out = porta_lower_scratch(lower, out_bytes);
    for (int i = 0; i < group->n_members; i++) {
        const porta_node *member = &graph->nodes[group->members[i]];
        porta_lower_ref result = porta_lower_sub(
            out, (uint64_t)segments.out_off[i] * PORTA_PLAN_ELEMENT_BYTES,
            (uint64_t)m * segments.out_m[i] * PORTA_PLAN_ELEMENT_BYTES);
        if (!porta_lower_view_range(lower, member, result))
            return porta_lower_fail(lower, member, PORTA_ERROR_INTERNAL,
                                    "a projection's result cannot be placed in its group's");
    }
    porta_lower_gemm g = {
        .a = porta_lower_tensor(lower, anchor->operands[0]), .b = segments.packed_b,
        .bias = bias, .out = out, .batch = {1, 1}, .m = m, .n = n, .k = k,
        .a_m = k, .a_k = 1, .b_k = 1, .b_n = k, .out_m = n, .alpha = 1.0f,
    };
    return emit_gemm_as(lower, anchor, &g, GEMM_PANELS, &segments);
}

/* A group of projections (fuse.h), lowered by its first linear. Its product is one decision of
 * the plan: in the panels variant it is one gemm (emit_projections); otherwise, or when its
 * weights cannot share a buffer, each linear is lowered by itself in the variant decided. */
static porta_status lower_projections(porta_lower *lower, const porta_node *anchor)
{
    const porta_graph *graph = porta_lower_graph(lower);
    const porta_fusion group = *porta_lower_fused(lower, anchor);
    for (int i = 0; i < group.n_members; i++) {
        porta_status status = porta_lower_check_elements(lower, &graph->nodes[group.members[i]]);
        if (status != PORTA_OK) return status;
    }
    const porta_shape *xs = &graph->tensors[anchor->operands[0]].shape;
    uint32_t k = (uint32_t)xs->dims[xs->rank - 1];
    uint32_t m = (uint32_t)(porta_lower_elements(lower, anchor->operands[0]) / k);
    uint64_t n = 0;
    for (int i = 0; i < group.n_members; i++)
        n += (uint64_t)graph->tensors[graph->nodes[group.members[i]].operands[1]].shape.dims[0];
    char key[64];
    snprintf(key, sizeof key, "m%u,n%llu,k%u,b1,w", m, (unsigned long long)n, k);
    int chosen = porta_lower_limits(lower)->kind == PORTA_PLAN_GPU ? GEMM_TILE4 : GEMM_PANELS;
    int variant = porta_lower_variant(lower, "gemm", key, gemm_variant_names, GEMM_VARIANTS,
                                      chosen);
    if (variant == GEMM_PANELS) {
        bool emitted;
        porta_status status = emit_projections(lower, &group, m, k, &emitted);
        if (status != PORTA_OK || emitted) return status;
    }
    porta_lower_unfuse(lower, anchor);
    for (int i = 0; i < group.n_members; i++) {
        porta_status status = lower_product(lower, &graph->nodes[group.members[i]], variant);
        if (status != PORTA_OK) return status;
    }
    return PORTA_OK;
}

porta_status porta_lower_matmul(porta_lower *lower, const porta_node *node)
{
    if (porta_lower_fused(lower, node)->kind == PORTA_FUSION_PROJECTIONS)
        return lower_projections(lower, node);
    return lower_product(lower, node, -1);
}
