/* Lowering of the attention family: sdpa, attention, additive_attention, luong_attention.
 *
 * Every op ends in an attention kernel with an online softmax over the keys, reading q, k, v, the
 * mask and the result through element strides, so no layout is ever copied: the blocked kernel
 * (shaders/attention_flash.k: a work-group per block of query rows of one key/value head, key
 * tiles in shared memory, 4-float vectors along the features; variants flash64 for GPUs and
 * flash16 for PoCL), or the per-row kernel (shaders/attention.k, variant rows: one invocation per
 * query row and chunk of features), which llvmpipe gets (as fast there as the blocked one so far)
 * and every head dim past 128 needs. sdpa and attention differ only in
 * those strides. Luong's dot score is that kernel with one head and the node's scale; its general
 * score first projects q by W (q W, through porta_lower_emit_gemm) into scratch. Bahdanau's
 * additive score projects q and the keys the same way, and the kernel's additive mode sums
 * v[a] tanh(qp[a] + kp[a]). When few rows meet many keys, or one invocation's loops would pass
 * llvmpipe's budget, the keys are split and attention_combine.k merges the partial softmaxes. */
#include "graphs/lower/walk.h"
#include "graphs/ops.h"
#include "graphs/ops_rules.h"

#include <math.h>
#include <stdio.h>

/* Output features per invocation (the kernel's FEATURES list), keys per step of its online
 * softmax (its KEY_STEP list), and its work-group size. */
#define MAX_CHUNK 64
#define KEYS_PER_STEP 4
#define WORKGROUP 64
/* Splitting the keys: when a node has fewer than SPLIT_ITEMS (row, chunk) items, its keys are
 * split into ranges of at least SPLIT_MIN_KEYS so that about SPLIT_ITEMS invocations run. */
#define SPLIT_ITEMS 256
#define SPLIT_MIN_KEYS 128
/* One invocation's keys are bounded so that the kernel's loops stay under the loop budget
 * (lower.h). */
#define LOOP_BUDGET PORTA_LOWER_LOOP_BUDGET

/* The blocked kernel: at most FLASH_MAX_VECS 4-float vectors of a query row and of its output
 * chunk (its Q and O lists); splitting the keys of a decoding step until about this many
 * work-groups run. */
#define FLASH_MAX_VECS 32
#define SPLIT_GROUPS_CPU 32
#define SPLIT_GROUPS_GPU 256

/* The kernel variants ("attention=NAME" in PORTA_VARIANTS): the blocked kernel in one shape per
 * kind of device, and the per-row kernel. A block has at most `rows` rows (fewer when a key/value
 * head has fewer query rows, down to min_rows) and reads `tile` keys at a time (fewer when shared
 * memory is short). */
typedef struct flash_shape {
    uint32_t rows, min_rows, tile;
} flash_shape;

enum { VARIANT_FLASH_GPU, VARIANT_FLASH_CPU_VECTORS, VARIANT_FLASH_CPU_LANES, VARIANT_ROWS,
       VARIANT_GEMM, N_VARIANTS };
static const char *const variant_names[N_VARIANTS] = {"flash64", "flash16", "flash8", "rows",
                                                      "gemm"};
static const flash_shape flash_shapes[VARIANT_ROWS] = {
    [VARIANT_FLASH_GPU] = {64, 32, 32},
    [VARIANT_FLASH_CPU_VECTORS] = {16, 1, 32},
    [VARIANT_FLASH_CPU_LANES] = {8, 8, 32},
};

enum { MASK_NONE = 0, MASK_FLOAT = 1, MASK_INT = 2 };
enum { SCORE_DOT = 0, SCORE_ADDITIVE = 1 };

/* Element strides of one operand as the kernel reads it: batch, head, row (features are
 * contiguous). */
typedef struct layout {
    uint32_t batch, head, row;
} layout;

/* One attention kernel launch, described in the kernel's terms. */
typedef struct attention_core {
    porta_lower_ref q, k, v, w, out;   /* w: the additive score vector (SCORE_ADDITIVE) */
    layout q_at, k_at, v_at, out_at;
    porta_tensor_id mask;              /* -1: none */
    int mask_rank;                     /* the scores' rank the mask broadcasts to: 4 or 3 */
    uint32_t batch, heads, kv_heads, q_len, kv_len, head_dim, v_dim;
    float scale;
    bool causal;
    int score;
} attention_core;

/* The kernel's parameters, in its KERNEL_PARAMS order. */
typedef struct attention_params {
    uint32_t rows, q_len, kv_len, heads, group, head_dim, v_dim;
    uint32_t q_sb, q_sh, q_ss, k_sb, k_sh, k_ss, v_sb, v_sh, v_ss, o_sb, o_sh, o_ss;
    uint32_t m_sb, m_sh, m_ss, m_sj;
    float scale;
    uint32_t causal, splits, split_len, mask_kind, additive;
} attention_params;

/* Strides (b, h, i, j) reading a mask broadcast to the scores [B, H, Sq, Sk] (rank 4) or
 * [B, Sq, Sk] (rank 3, one head): numpy's rule, a dim of 1 or a missing one reads stride 0. */
static void mask_strides(const porta_shape *mask, int rank, uint32_t out[4])
{
    uint32_t strides[4] = {0, 0, 0, 0};
    uint64_t stride = 1;
    for (int i = rank - 1; i >= 0; i--) {
        int k = mask->rank - rank + i;
        if (k < 0) continue;
        strides[i] = mask->dims[k] == 1 ? 0 : (uint32_t)stride;
        stride *= (uint64_t)mask->dims[k];
    }
    if (rank == 4) {
        for (int i = 0; i < 4; i++) out[i] = strides[i];
    } else {
        out[0] = strides[0];
        out[1] = 0;
        out[2] = strides[1];
        out[3] = strides[2];
    }
}

/* Every index the kernel forms is a uint: refuse tensors of 2^32 elements or more. */
static porta_status check_tensors(porta_lower *lower, const porta_node *node,
                                  const porta_tensor_id *tensors, int n)
{
    for (int i = 0; i < n; i++) {
        porta_tensor_id t = tensors[i];
        if (t < 0) continue;
        if (porta_lower_elements(lower, t) > (int64_t)UINT32_MAX)
            return porta_lower_fail(lower, node, PORTA_ERROR_UNSUPPORTED,
                                    "tensor '%s' has %lld elements; the attention kernel indexes "
                                    "at most 2^32 - 1",
                                    porta_lower_graph(lower)->tensors[t].name,
                                    (long long)porta_lower_elements(lower, t));
    }
    return PORTA_OK;
}

/* The node's operands and result. */
static porta_status check_elements(porta_lower *lower, const porta_node *node)
{
    porta_status status = check_tensors(lower, node, node->operands, node->n_operands);
    return status == PORTA_OK ? check_tensors(lower, node, &node->output, 1) : status;
}

/* Groups of `wg` covering n items, over x and then y. */
static bool spread_groups(uint64_t n, uint32_t wg, uint32_t groups[3])
{
    uint64_t total = porta_lower_groups(n, wg);
    groups[0] = total < 65535 ? (uint32_t)total : 65535;
    groups[1] = porta_lower_groups(total, groups[0]);
    groups[2] = 1;
    return groups[1] <= 65535;
}

/* The split-key records of the attention step merged into the result. */
static porta_status emit_combine(porta_lower *lower, const porta_node *node,
                                 const attention_core *c, const attention_params *ap,
                                 porta_lower_ref part, uint32_t wg)
{
    struct {
        uint32_t rows, q_len, heads, v_dim, splits, o_sb, o_sh, o_ss;
    } p = {ap->rows, c->q_len, c->heads, c->v_dim, ap->splits, ap->o_sb, ap->o_sh, ap->o_ss};
    porta_lower_step step = porta_lower_step_init(&porta_kernel_attention_combine, wg, 1, 1);
    step.loop_iterations = 2u * (uint64_t)p.splits - 1u;
    step.n_bindings = 2;
    step.bindings[0] = part;
    step.bindings[1] = c->out;
    step.params = &p;
    step.param_bytes = sizeof p;
    spread_groups((uint64_t)p.rows * p.v_dim, wg, step.groups);
    return porta_lower_emit(lower, node, &step);
}

/* The most keys one invocation of the attention kernel may stream within LOOP_BUDGET: each step
 * of KEYS_PER_STEP keys is one iteration, and each key's score loops over the head dim (by 4 and
 * then the rest for a dot product, one by one for the additive score; 2 more for the entries).
 * 0 when not even one step fits. */
static uint32_t keys_per_invocation(uint32_t head_dim, int score)
{
    uint64_t per_key = score == SCORE_DOT ? head_dim / 4 + head_dim % 4 + 2 : head_dim + 2;
    uint64_t per_step = 1 + KEYS_PER_STEP * per_key;
    return (uint32_t)(LOOP_BUDGET / per_step) * KEYS_PER_STEP;
}

/* The kernel's parameters for a launch, its mask bound to mask_f or mask_i. */
static attention_params params_of(porta_lower *lower, const attention_core *c, uint64_t rows,
                                  uint32_t splits, uint32_t split_len, porta_lower_ref *mask_f,
                                  porta_lower_ref *mask_i)
{
    const porta_graph *graph = porta_lower_graph(lower);
    attention_params p = {
        .rows = (uint32_t)rows, .q_len = c->q_len, .kv_len = c->kv_len, .heads = c->heads,
        .group = c->heads / c->kv_heads, .head_dim = c->head_dim, .v_dim = c->v_dim,
        .q_sb = c->q_at.batch, .q_sh = c->q_at.head, .q_ss = c->q_at.row,
        .k_sb = c->k_at.batch, .k_sh = c->k_at.head, .k_ss = c->k_at.row,
        .v_sb = c->v_at.batch, .v_sh = c->v_at.head, .v_ss = c->v_at.row,
        .o_sb = c->out_at.batch, .o_sh = c->out_at.head, .o_ss = c->out_at.row,
        .scale = c->scale, .causal = c->causal, .splits = splits,
        .split_len = split_len, .additive = c->score == SCORE_ADDITIVE,
    };
    *mask_f = c->q;   /* unused slots bind any valid range */
    *mask_i = c->q;
    if (c->mask >= 0) {
        const porta_tensor *mask = &graph->tensors[c->mask];
        uint32_t s[4];
        mask_strides(&mask->shape, c->mask_rank, s);
        p.m_sb = s[0];
        p.m_sh = s[1];
        p.m_ss = s[2];
        p.m_sj = s[3];
        p.mask_kind = mask->dtype == PORTA_I32 ? MASK_INT : MASK_FLOAT;
        if (p.mask_kind == MASK_INT)
            *mask_i = porta_lower_tensor(lower, c->mask);
        else
            *mask_f = porta_lower_tensor(lower, c->mask);
    }
    return p;
}

/* The attention step (kernel `kernel`, configured) over `layers` grid layers of z, then the
 * combine step when the keys are split. */
static porta_status emit_attention(porta_lower *lower, const porta_node *node,
                                   const attention_core *c, porta_lower_step *step,
                                   uint64_t items, uint32_t wg, uint64_t rows, uint32_t splits,
                                   uint32_t split_len, uint64_t layers, uint64_t loops)
{
    porta_lower_ref mask_f, mask_i;
    attention_params p = params_of(lower, c, rows, splits, split_len, &mask_f, &mask_i);
    porta_lower_ref part = c->out;
    if (splits > 1)
        part = porta_lower_scratch(lower, (uint64_t)splits * rows * (c->v_dim + 2u) *
                                              PORTA_PLAN_ELEMENT_BYTES);
    step->n_bindings = 7;
    step->bindings[0] = c->q;
    step->bindings[1] = c->k;
    step->bindings[2] = c->v;
    step->bindings[3] = mask_f;
    step->bindings[4] = mask_i;
    step->bindings[5] = c->score == SCORE_ADDITIVE ? c->w : c->q;
    step->bindings[6] = part;
    step->params = &p;
    step->param_bytes = sizeof p;
    /* The combine step loops twice over the splits, and the records' indices are uints. */
    if (!spread_groups(items, wg, step->groups) || layers > 65535 || 2 * splits > LOOP_BUDGET ||
        (uint64_t)splits * rows * (c->v_dim + 2u) > UINT32_MAX)
        return porta_lower_fail(lower, node, PORTA_ERROR_UNSUPPORTED,
                                "%llu query rows over %u keys of %u value features are too many "
                                "for one dispatch", (unsigned long long)rows, c->kv_len, c->v_dim);
    step->groups[2] = (uint32_t)layers;
    step->loop_iterations = loops;
    porta_status status = porta_lower_emit(lower, node, step);
    if (status != PORTA_OK || splits == 1) return status;
    uint32_t combine_wg = WORKGROUP;
    while (combine_wg > porta_lower_limits(lower)->max_workgroup_size) combine_wg >>= 1;
    return emit_combine(lower, node, c, &p, part, combine_wg);
}

/* Splits of at most `most_keys` keys (a multiple of `unit`) each, more when fewer than `want`
 * work-groups (`groups` without splitting) would run and the keys are many. */
static void split_keys(uint32_t kv_len, uint32_t most_keys, uint32_t unit, uint64_t groups,
                       uint64_t want, uint32_t *splits_out, uint32_t *split_len_out)
{
    uint64_t splits = (kv_len + most_keys - 1) / most_keys;
    if (groups < want && kv_len >= 2 * SPLIT_MIN_KEYS) {
        uint64_t more = (want + groups - 1) / groups;
        uint64_t most = kv_len / SPLIT_MIN_KEYS;
        more = more < most ? more : most;
        if (more > splits) splits = more;
    }
    uint32_t split_len = kv_len;
    if (splits > 1) {
        split_len = (uint32_t)((kv_len + splits - 1) / splits);
        split_len = (split_len + unit - 1) / unit * unit;
        if (split_len > most_keys) split_len = most_keys;
        splits = (kv_len + split_len - 1) / split_len;
    }
    *splits_out = splits < 1 ? 1 : (uint32_t)splits;
    *split_len_out = split_len;
}

/* The per-row kernel (attention.k): one invocation per query row and chunk of features. */
static porta_status emit_rows(porta_lower *lower, const porta_node *node, const attention_core *c)
{
    const porta_plan_limits *limits = porta_lower_limits(lower);
    uint32_t wg = WORKGROUP;
    while (wg > limits->max_workgroup_size) wg >>= 1;
    /* a power of two, so that few variants of the kernel are built */
    uint32_t chunk = 4;
    while (chunk < c->v_dim && chunk < MAX_CHUNK) chunk *= 2;
    uint32_t chunks = (c->v_dim + chunk - 1) / chunk;
    uint64_t rows = (uint64_t)c->batch * c->heads * c->q_len;
    uint32_t most_keys = keys_per_invocation(c->head_dim, c->score);
    if (most_keys == 0)
        return porta_lower_fail(lower, node, PORTA_ERROR_UNSUPPORTED,
                                "a head dim of %u is too large for the attention kernel",
                                c->head_dim);
    /* Split the keys when one invocation may not stream them all, and when few rows meet many
     * keys (decoding), so that more invocations share the work; the splits are merged after. */
    uint32_t splits, split_len;
    split_keys(c->kv_len, most_keys, KEYS_PER_STEP, rows * chunks, SPLIT_ITEMS, &splits,
               &split_len);
    porta_lower_step step = porta_lower_step_init(&porta_kernel_attention, wg, 1, 1);
    step.config.n_constants = 1;
    step.config.constants[0] = (int32_t)chunk;
    /* x and y: query rows; z: chunks and splits */
    uint64_t per_key = c->score == SCORE_DOT ? c->head_dim / 4 + c->head_dim % 4 + 2
                                             : c->head_dim + 2;
    uint64_t loops = (split_len + KEYS_PER_STEP - 1) / KEYS_PER_STEP *
                     (1 + KEYS_PER_STEP * per_key);
    return emit_attention(lower, node, c, &step, rows, wg, rows, splits, split_len,
                          (uint64_t)chunks * splits, loops);
}

/* Whether the blocked kernel holds a query row: at most FLASH_MAX_VECS vectors of 4 features. */
static bool flash_fits(const attention_core *c)
{
    return c->head_dim <= 4 * FLASH_MAX_VECS;
}

/* The blocked kernel (attention_flash.k) in one of its shapes: blocks of query rows sharing one
 * key/value head, tiles of keys in shared memory. */
static porta_status emit_flash(porta_lower *lower, const porta_node *node, const attention_core *c,
                               const flash_shape *shape)
{
    const porta_plan_limits *limits = porta_lower_limits(lower);
    uint32_t qv4 = (c->head_dim + 3) / 4;
    uint32_t ov4 = (c->v_dim + 3) / 4;
    if (ov4 > FLASH_MAX_VECS) ov4 = FLASH_MAX_VECS;
    uint32_t chunks = (c->v_dim + 4 * ov4 - 1) / (4 * ov4);
    /* rows of a block: those reading one key/value head, at most the shape's, a power of two */
    uint32_t group = c->heads / c->kv_heads;
    uint64_t per = (uint64_t)group * c->q_len;
    uint32_t rows_wg = shape->rows;
    while (rows_wg > limits->max_workgroup_size) rows_wg >>= 1;
    while (rows_wg > shape->min_rows && rows_wg / 2 >= per) rows_wg >>= 1;
    uint32_t tile = shape->tile;
    while (tile > 4 && (uint64_t)tile * (qv4 + ov4) * 16 > limits->shared_memory_bytes) tile /= 2;
    uint64_t blocks = (uint64_t)c->batch * c->kv_heads * ((per + rows_wg - 1) / rows_wg);
    uint64_t rows = (uint64_t)c->batch * c->heads * c->q_len;
    /* loop iterations per tile of one invocation: the tile loop, the loads, the key steps */
    uint64_t per_tile = 1 + (tile * qv4 + rows_wg - 1) / rows_wg +
                        (tile * ov4 + rows_wg - 1) / rows_wg + tile / 4;
    uint32_t most_keys = (uint32_t)(LOOP_BUDGET / per_tile) * tile;
    uint64_t want = limits->kind == PORTA_PLAN_GPU ? SPLIT_GROUPS_GPU : SPLIT_GROUPS_CPU;
    uint32_t splits, split_len;
    split_keys(c->kv_len, most_keys, tile, blocks * chunks, want, &splits, &split_len);
    porta_lower_step step = porta_lower_step_init(&porta_kernel_attention_flash, rows_wg, 1, 1);
    step.config.n_constants = 4;
    step.config.constants[0] = (int32_t)rows_wg;
    step.config.constants[1] = (int32_t)tile;
    step.config.constants[2] = (int32_t)qv4;
    step.config.constants[3] = (int32_t)ov4;
    /* x and y: blocks; z: chunks and splits */
    uint64_t loops = (split_len + tile - 1) / tile * per_tile;
    return emit_attention(lower, node, c, &step, blocks * rows_wg, rows_wg, rows, splits,
                          split_len, (uint64_t)chunks * splits, loops);
}

/* ---- the gemm variant: scores stored, the matmul kernels' speed ------------------------------ */

/* Whether an i32 mask hides the same keys from every query row of every head of a batch (a
 * padding mask): then the values of the keys it hides can be zeroed once, before the product. */
static bool keeps_keys_per_batch(const porta_lower *lower, const attention_core *c)
{
    uint32_t s[4];
    mask_strides(&porta_lower_graph(lower)->tensors[c->mask].shape, c->mask_rank, s);
    return s[1] == 0 && s[2] == 0;
}

/* Whether the scores may be stored and go through the gemm: dot scores, scores that fit
 * GEMM_SCORES_MOST and one binding, and no i32 mask unless it is a padding mask. A key an i32
 * mask hides must add exactly nothing, even when it holds inf or NaN: its probability is 0, but
 * 0 x value in the product would not be, so the product reads a copy of v with those keys'
 * values zeroed, which only a mask that hides a key from every row of its batch allows. */
#define GEMM_SCORES_MOST (64ull << 20)
static bool gemm_fits(const porta_lower *lower, const attention_core *c)
{
    const porta_graph *graph = porta_lower_graph(lower);
    uint64_t bytes = (uint64_t)c->batch * c->heads * c->q_len * c->kv_len * PORTA_PLAN_ELEMENT_BYTES;
    return c->score == SCORE_DOT &&
           (c->mask < 0 || graph->tensors[c->mask].dtype != PORTA_I32 ||
            keeps_keys_per_batch(lower, c)) &&
           bytes <= GEMM_SCORES_MOST && bytes <= porta_lower_limits(lower)->max_buffer_bytes;
}

/* v with the values of the keys a padding mask hides zeroed, contiguous [B, G, Sk, Dv]. */
static porta_status kept_values(porta_lower *lower, const porta_node *node,
                                const attention_core *c, porta_lower_ref *out, layout *out_at)
{
    uint32_t s[4];
    mask_strides(&porta_lower_graph(lower)->tensors[c->mask].shape, c->mask_rank, s);
    uint32_t g = c->kv_heads, sk = c->kv_len, dv = c->v_dim;
    *out = porta_lower_scratch(lower, (uint64_t)c->batch * g * sk * dv * PORTA_PLAN_ELEMENT_BYTES);
    *out_at = (layout){g * sk * dv, sk * dv, dv};
    porta_walk walk = {
        .rank = 4, .n_operands = 3, .dims = {c->batch, g, sk, dv},
        .strides = {{out_at->batch, out_at->head, out_at->row, 1},
                    {c->v_at.batch, c->v_at.head, c->v_at.row, 1},
                    {s[0], 0, s[3], 0}},
    };
    return porta_walk_copy_kept(lower, node, &walk, *out, 0, c->v, 0,
                                porta_lower_tensor(lower, c->mask), 0);
}

/* The rule's choice on the CPU drivers for a block of query rows: their gemm runs several times
 * faster than the streaming kernels, and the scores of a prefill are small. */
#define GEMM_MIN_QUERY_ROWS 16u

/* One batched product per query head of a key/value group (one in all when every head has its
 * own K/V head or all share one): a [B, H, rows, inner] (q or the probabilities) times
 * b [B, G, ...] (k transposed, or v) into out. a_head and out_head: the strides of one head. */
static porta_status emit_head_products(porta_lower *lower, const porta_node *node,
                                       const attention_core *c, porta_lower_gemm g,
                                       uint32_t a_head, uint32_t b_head, uint32_t out_head)
{
    uint32_t group = c->heads / c->kv_heads;
    bool one = group == 1 || c->kv_heads == 1;
    g.batch[0] = c->batch;
    g.batch[1] = one ? c->heads : c->kv_heads;
    g.a_batch[1] = one ? a_head : a_head * group;
    g.b_batch[1] = c->kv_heads == 1 ? 0 : b_head;
    g.out_batch[1] = one ? out_head : out_head * group;
    porta_lower_ref a = g.a, out = g.out;
    for (uint32_t j = 0; j < (one ? 1u : group); j++) {
        uint64_t a_skip = (uint64_t)j * a_head * porta_lower_ref_element_bytes(lower, a);
        uint64_t out_skip = (uint64_t)j * out_head * porta_lower_ref_element_bytes(lower, out);
        g.a = porta_lower_sub(a, a_skip, a.bytes - a_skip);
        g.out = porta_lower_sub(out, out_skip, out.bytes - out_skip);
        porta_status status = porta_lower_emit_gemm(lower, node, &g);
        if (status != PORTA_OK) return status;
    }
    return PORTA_OK;
}

/* scores = q kᵀ into scratch, the softmax over them in place (scale, mask, causal), then the
 * probabilities times v. */
static porta_status emit_gemm(porta_lower *lower, const porta_node *node, const attention_core *c)
{
    uint32_t sq = c->q_len, sk = c->kv_len;
    uint64_t rows = (uint64_t)c->batch * c->heads * sq;
    porta_lower_ref scores = porta_lower_scratch(lower, rows * sk * PORTA_PLAN_ELEMENT_BYTES);
    porta_lower_gemm g = {
        .a = c->q, .b = c->k, .out = scores, .m = sq, .n = sk, .k = c->head_dim,
        .a_batch = {c->q_at.batch}, .a_m = c->q_at.row, .a_k = 1,
        .b_batch = {c->k_at.batch}, .b_k = 1, .b_n = c->k_at.row,
        .out_batch = {c->heads * sq * sk}, .out_m = sk, .alpha = 1.0f,
    };
    porta_status status =
        emit_head_products(lower, node, c, g, c->q_at.head, c->k_at.head, sq * sk);
    if (status != PORTA_OK) return status;
    porta_lower_norm_step norm = {
        .op = PORTA_LOWER_SOFTMAX, .x = scores, .y = scores, .rows = (uint32_t)rows, .cols = sk,
        .scale = c->scale, .causal = c->causal, .d1 = c->heads, .d2 = sq,
    };
    porta_lower_ref v = c->v;
    layout v_at = c->v_at;
    if (c->mask >= 0) {
        const porta_tensor *mask = &porta_lower_graph(lower)->tensors[c->mask];
        norm.mask = porta_lower_tensor(lower, c->mask);
        norm.mask_i32 = mask->dtype == PORTA_I32;
        mask_strides(&mask->shape, c->mask_rank, norm.mask_strides);
        if (norm.mask_i32) status = kept_values(lower, node, c, &v, &v_at);
        if (status != PORTA_OK) return status;
    }
    status = porta_lower_emit_norm(lower, node, &norm);
    if (status != PORTA_OK) return status;
    g = (porta_lower_gemm){
        .a = scores, .b = v, .out = c->out, .m = sq, .n = c->v_dim, .k = sk,
        .a_batch = {c->heads * sq * sk}, .a_m = sk, .a_k = 1,
        .b_batch = {v_at.batch}, .b_k = v_at.row, .b_n = 1,
        .out_batch = {c->out_at.batch}, .out_m = c->out_at.row, .alpha = 1.0f,
    };
    return emit_head_products(lower, node, c, g, sq * sk, v_at.head, c->out_at.head);
}

static porta_status emit_core(porta_lower *lower, const porta_node *node, const attention_core *c)
{
    const porta_plan_limits *limits = porta_lower_limits(lower);
    bool cpu = limits->kind != PORTA_PLAN_GPU;
    bool gemm = gemm_fits(lower, c);
    int chosen = cpu && gemm && c->q_len >= GEMM_MIN_QUERY_ROWS ? VARIANT_GEMM
                 : limits->kind == PORTA_PLAN_CPU_VECTORS       ? VARIANT_FLASH_CPU_VECTORS
                 : limits->kind == PORTA_PLAN_CPU_LANES         ? VARIANT_ROWS
                                                                : VARIANT_FLASH_GPU;
    char key[64];
    snprintf(key, sizeof key, "q%u,k%u,d%u,h%u%s", c->q_len, c->kv_len, c->head_dim,
             c->batch * c->heads, c->causal ? ",c" : "");
    if (!flash_fits(c))
        return chosen == VARIANT_GEMM ? emit_gemm(lower, node, c) : emit_rows(lower, node, c);
    /* gemm, the last name, is no candidate where it cannot take these operands (forcing it is
     * then ignored) */
    int variant = porta_lower_variant(lower, "attention", key, variant_names,
                                      gemm ? N_VARIANTS : VARIANT_GEMM, chosen);
    if (variant == VARIANT_GEMM) return emit_gemm(lower, node, c);
    if (variant == VARIANT_ROWS) return emit_rows(lower, node, c);
    return emit_flash(lower, node, c, &flash_shapes[variant]);
}

/* The common part of a node's description: sizes, its result and its optional mask. */
static attention_core core_of(porta_lower *lower, const porta_node *node, int mask_slot,
                              int mask_rank)
{
    porta_attention_dims d = porta_attention_dims_of(porta_lower_graph(lower), node);
    attention_core c = {
        .batch = (uint32_t)d.batch, .heads = (uint32_t)d.heads, .kv_heads = (uint32_t)d.kv_heads,
        .q_len = (uint32_t)d.q_len, .kv_len = (uint32_t)d.kv_len,
        .head_dim = (uint32_t)d.head_dim, .v_dim = (uint32_t)d.v_dim,
        .mask = node->operands[mask_slot], .mask_rank = mask_rank, .score = SCORE_DOT,
    };
    c.out = porta_lower_result(lower, node);
    return c;
}

/* A row-major [..., S, D] operand of rank 2 to 4 as (batch, head, row) strides, its batch dims
 * right-aligned to (batch, head). k and v with one head serve every query head: the kernel
 * then reads head 0 (group = heads). */
static layout layout_of(const porta_shape *shape)
{
    int r = shape->rank;
    uint32_t rows = (uint32_t)shape->dims[r - 2], dim = (uint32_t)shape->dims[r - 1];
    uint32_t heads = r >= 3 ? (uint32_t)shape->dims[r - 3] : 1;
    return (layout){heads * rows * dim, rows * dim, dim};
}

porta_status porta_lower_attention_chain(porta_lower *lower, const porta_node *node)
{
    const porta_graph *graph = porta_lower_graph(lower);
    const porta_fusion *chain = porta_lower_fused(lower, node);
    porta_fused_attention parts;
    if (!porta_fusion_attention(graph, chain->last, &parts))
        return porta_lower_fail(lower, node, PORTA_ERROR_INTERNAL, "no attention chain ends here");
    /* the kernels index q, k, v, the mask and the result with uints; the scores never exist */
    porta_tensor_id indexed[] = {parts.q, parts.k, parts.v, parts.mask, node->output};
    porta_status status = check_tensors(lower, node, indexed, 5);
    if (status != PORTA_OK) return status;
    const porta_shape *q = &graph->tensors[parts.q].shape, *k = &graph->tensors[parts.k].shape,
                      *v = &graph->tensors[parts.v].shape;
    int r = q->rank;
    attention_core c = {
        .batch = r >= 4 ? (uint32_t)q->dims[0] : 1, .heads = r >= 3 ? (uint32_t)q->dims[r - 3] : 1,
        .kv_heads = r >= 3 ? (uint32_t)k->dims[r - 3] : 1,
        .q_len = (uint32_t)q->dims[r - 2], .kv_len = (uint32_t)k->dims[r - 2],
        .head_dim = (uint32_t)q->dims[r - 1], .v_dim = (uint32_t)v->dims[r - 1],
        .mask = parts.mask, .mask_rank = 4, .score = SCORE_DOT,
        .scale = (float)parts.scale, .causal = parts.causal,
        .q_at = layout_of(q), .k_at = layout_of(k), .v_at = layout_of(v),
        .q = porta_lower_tensor(lower, parts.q), .k = porta_lower_tensor(lower, parts.k),
        .v = porta_lower_tensor(lower, parts.v),
    };
    c.out = porta_lower_result(lower, node);
    c.out_at = (layout){c.heads * c.q_len * c.v_dim, c.q_len * c.v_dim, c.v_dim};
    return emit_core(lower, node, &c);
}

/* A contiguous [B, rows, dim] tensor with one head. */
static layout one_head(uint32_t rows, uint32_t dim) { return (layout){rows * dim, 0, dim}; }

/* sdpa on [B, H, S, D] and attention on the merged [B, S, H * D]. */
porta_status porta_lower_attention(porta_lower *lower, const porta_node *node)
{
    const porta_graph *graph = porta_lower_graph(lower);
    porta_status status = check_elements(lower, node);
    if (status != PORTA_OK) return status;
    attention_core c = core_of(lower, node, 3, 4);
    uint32_t h = c.heads, g = c.kv_heads, sq = c.q_len, sk = c.kv_len, d = c.head_dim,
             dv = c.v_dim;
    if (node->op == PORTA_OP_SDPA) {
        c.q_at = (layout){h * sq * d, sq * d, d};
        c.k_at = (layout){g * sk * d, sk * d, d};
        c.v_at = (layout){g * sk * dv, sk * dv, dv};
        c.out_at = (layout){h * sq * dv, sq * dv, dv};
    } else {
        c.q_at = (layout){sq * h * d, d, h * d};
        c.k_at = (layout){sk * g * d, d, g * d};
        c.v_at = (layout){sk * g * dv, dv, g * dv};
        c.out_at = (layout){sq * h * dv, dv, h * dv};
    }
    c.q = porta_lower_tensor(lower, node->operands[0]);
    c.k = porta_lower_tensor(lower, node->operands[1]);
    c.v = porta_lower_tensor(lower, node->operands[2]);
    double scale = porta_node_float(graph, node, "scale");
    c.scale = (float)(scale == 0.0 ? 1.0 / sqrt((double)d) : scale);
    c.causal = porta_node_bool(graph, node, "causal");
    return emit_core(lower, node, &c);
}

/* out[r, :] = x[r, :] w^T for rows r of x [rows, in] and w [units, in] (w_transposed), or
 * x[r, :] w for w [in, units], into fresh scratch [rows, units]. */
static porta_status project(porta_lower *lower, const porta_node *node, porta_tensor_id x,
                            porta_tensor_id w, bool w_transposed, uint32_t rows, uint32_t in,
                            uint32_t units, porta_lower_ref *out)
{
    *out = porta_lower_scratch(lower, (uint64_t)rows * units * PORTA_PLAN_ELEMENT_BYTES);
    porta_lower_gemm gemm = {
        .a = porta_lower_tensor(lower, x), .b = porta_lower_tensor(lower, w), .out = *out,
        .batch = {1, 1}, .m = rows, .n = units, .k = in,
        .a_m = in, .a_k = 1,
        .b_k = w_transposed ? 1 : units, .b_n = w_transposed ? in : 1,
        .out_m = units, .alpha = 1.0f,
    };
    return porta_lower_emit_gemm(lower, node, &gemm);
}

/* Bahdanau: qp = q wq^T, kp = keys wk^T, score = v . tanh(qp + kp) (+ mask), softmax over the
 * keys, the weighted sum of the values. */
porta_status porta_lower_additive(porta_lower *lower, const porta_node *node)
{
    const porta_graph *graph = porta_lower_graph(lower);
    porta_status status = check_elements(lower, node);
    if (status != PORTA_OK) return status;
    attention_core c = core_of(lower, node, 6, 3);
    uint32_t units = (uint32_t)graph->tensors[node->operands[3]].shape.dims[0];
    uint32_t dq = (uint32_t)graph->tensors[node->operands[0]].shape.dims[2];
    if ((uint64_t)c.batch * (c.q_len > c.kv_len ? c.q_len : c.kv_len) * units > UINT32_MAX)
        return porta_lower_fail(lower, node, PORTA_ERROR_UNSUPPORTED,
                                "the projections need 2^32 elements or more");
    if ((status = project(lower, node, node->operands[0], node->operands[3], true,
                          c.batch * c.q_len, dq, units, &c.q)) ||
        (status = project(lower, node, node->operands[1], node->operands[4], true,
                          c.batch * c.kv_len, c.head_dim, units, &c.k)))
        return status;
    c.q_at = one_head(c.q_len, units);
    c.k_at = one_head(c.kv_len, units);
    c.head_dim = units;
    c.v = porta_lower_tensor(lower, node->operands[2]);
    c.v_at = one_head(c.kv_len, c.v_dim);
    c.out_at = one_head(c.q_len, c.v_dim);
    c.w = porta_lower_tensor(lower, node->operands[5]);
    c.score = SCORE_ADDITIVE;
    c.scale = 1.0f;
    return emit_core(lower, node, &c);
}

/* Luong: dot, scale * q . k, is the attention kernel with one head; general, scale * q W k,
 * projects q by W first (q W, [B*T, Dk]) and then scores by the dot product. */
porta_status porta_lower_luong(porta_lower *lower, const porta_node *node)
{
    const porta_graph *graph = porta_lower_graph(lower);
    porta_status status = check_elements(lower, node);
    if (status != PORTA_OK) return status;
    attention_core c = core_of(lower, node, 4, 3);
    if (node->operands[3] >= 0) {
        uint32_t dq = (uint32_t)graph->tensors[node->operands[0]].shape.dims[2];
        if ((uint64_t)c.batch * c.q_len * c.head_dim > UINT32_MAX)
            return porta_lower_fail(lower, node, PORTA_ERROR_UNSUPPORTED,
                                    "the projection q W needs 2^32 elements or more");
        status = project(lower, node, node->operands[0], node->operands[3], false,
                         c.batch * c.q_len, dq, c.head_dim, &c.q);
        if (status != PORTA_OK) return status;
    } else {
        c.q = porta_lower_tensor(lower, node->operands[0]);
    }
    c.q_at = one_head(c.q_len, c.head_dim);
    c.k = porta_lower_tensor(lower, node->operands[1]);
    c.k_at = one_head(c.kv_len, c.head_dim);
    c.v = porta_lower_tensor(lower, node->operands[2]);
    c.v_at = one_head(c.kv_len, c.v_dim);
    c.out_at = one_head(c.q_len, c.v_dim);
    c.scale = (float)porta_node_float(graph, node, "scale");
    return emit_core(lower, node, &c);
}
