/* Lowering of the attention family: sdpa, attention, additive_attention, luong_attention.
 *
 * Every op ends in the one attention kernel (shaders/attention.k): an online softmax over the keys,
 * one work-group per query row, reading q, k, v, the mask and the result through element strides,
 * so no layout is ever copied. sdpa and attention differ only in those strides. Luong's dot score
 * is that kernel with one head and the node's scale; its general score first projects q by W
 * (q W, through porta_lower_emit_gemm) into scratch. Bahdanau's additive score projects q and the
 * keys the same way, and the kernel's additive score mode sums v[a] tanh(qp[a] + kp[a]). */
#include "graphs/lower.h"
#include "graphs/ops.h"
#include "graphs/ops_rules.h"

#include <math.h>

/* Output features per invocation before the features are split over work-groups in z. */
#define MAX_FEATURES_PER_INVOCATION 8

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
    uint32_t causal;
} attention_params;

static uint32_t pow2_at_least(uint32_t n)
{
    uint32_t p = 1;
    while (p < n) p <<= 1;
    return p;
}

static uint32_t min_u32(uint32_t a, uint32_t b) { return a < b ? a : b; }
static uint32_t max_u32(uint32_t a, uint32_t b) { return a > b ? a : b; }

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
static porta_status check_elements(porta_lower *lower, const porta_node *node)
{
    for (int i = 0; i <= node->n_operands; i++) {
        porta_tensor_id t = i < node->n_operands ? node->operands[i] : node->output;
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

static porta_status emit_core(porta_lower *lower, const porta_node *node, const attention_core *c)
{
    const porta_plan_limits *limits = porta_lower_limits(lower);
    const porta_graph *graph = porta_lower_graph(lower);

    /* Work-group: a power of two near the value width (phase 3) and the key count (phase 1). */
    uint32_t want = max_u32(min_u32(c->v_dim, 128), min_u32(c->kv_len, 64));
    uint32_t wg = pow2_at_least(want < 8 ? 8 : want);
    while (wg > 1 && (wg > limits->max_workgroup_size ||
                      2ull * wg * sizeof(float) > limits->shared_memory_bytes))
        wg >>= 1;
    uint32_t per = (c->v_dim + wg - 1) / wg;
    if (per > MAX_FEATURES_PER_INVOCATION) per = MAX_FEATURES_PER_INVOCATION;
    uint32_t chunks = porta_lower_groups(c->v_dim, wg * per);

    uint64_t rows = (uint64_t)c->batch * c->heads * c->q_len;
    uint32_t gx = rows < 65535 ? (uint32_t)rows : 65535;
    uint32_t gy = porta_lower_groups(rows, gx);
    if (gy > 65535 || chunks > 65535)
        return porta_lower_fail(lower, node, PORTA_ERROR_UNSUPPORTED,
                                "%llu query rows of %u value features need more than 65535 x "
                                "65535 work-groups",
                                (unsigned long long)rows, c->v_dim);

    attention_params p = {
        .rows = (uint32_t)rows, .q_len = c->q_len, .kv_len = c->kv_len, .heads = c->heads,
        .group = c->heads / c->kv_heads, .head_dim = c->head_dim, .v_dim = c->v_dim,
        .q_sb = c->q_at.batch, .q_sh = c->q_at.head, .q_ss = c->q_at.row,
        .k_sb = c->k_at.batch, .k_sh = c->k_at.head, .k_ss = c->k_at.row,
        .v_sb = c->v_at.batch, .v_sh = c->v_at.head, .v_ss = c->v_at.row,
        .o_sb = c->out_at.batch, .o_sh = c->out_at.head, .o_ss = c->out_at.row,
        .scale = c->scale, .causal = c->causal,
    };
    int mask_kind = MASK_NONE;
    porta_lower_ref mask_f = c->q, mask_i = c->q;   /* unused slots bind any valid range */
    if (c->mask >= 0) {
        const porta_tensor *mask = &graph->tensors[c->mask];
        uint32_t s[4];
        mask_strides(&mask->shape, c->mask_rank, s);
        p.m_sb = s[0];
        p.m_sh = s[1];
        p.m_ss = s[2];
        p.m_sj = s[3];
        mask_kind = mask->dtype == PORTA_I32 ? MASK_INT : MASK_FLOAT;
        if (mask_kind == MASK_INT)
            mask_i = porta_lower_tensor(lower, c->mask);
        else
            mask_f = porta_lower_tensor(lower, c->mask);
    }

    porta_lower_step step = porta_lower_step_init(&porta_kernel_attention, wg, 1, 1);
    step.config.n_constants = 4;
    step.config.constants[0] = (int32_t)wg;
    step.config.constants[1] = (int32_t)per;
    step.config.constants[2] = mask_kind;
    step.config.constants[3] = c->score;
    step.n_bindings = 7;
    step.bindings[0] = c->q;
    step.bindings[1] = c->k;
    step.bindings[2] = c->v;
    step.bindings[3] = mask_f;
    step.bindings[4] = mask_i;
    step.bindings[5] = c->score == SCORE_ADDITIVE ? c->w : c->q;
    step.bindings[6] = c->out;
    step.params = &p;
    step.param_bytes = sizeof p;
    step.groups[0] = gx;
    step.groups[1] = gy;
    step.groups[2] = chunks;
    return porta_lower_emit(lower, node, &step);
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
