/* The op table. One row per op: name, operands, attributes with defaults, shape rule, FLOPs.
 * docs/ops.md states each op's math; the reference executor (host/) implements it. */
#include "graphs/ops.h"
#include "graphs/ops_rules.h"

#include <math.h>
#include <string.h>

#define NO_RANGE 1, 0    /* min > max: any value */
#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

static const porta_attr_spec scale_attrs[] = {
    {"s", PORTA_ATTR_FLOAT, false, 1.0, NULL, NULL, NO_RANGE},
};
static const porta_attr_spec pow_attrs[] = {
    {"p", PORTA_ATTR_FLOAT, true, 0, NULL, NULL, NO_RANGE},
};
static const porta_attr_spec gelu_attrs[] = {
    {"approximate", PORTA_ATTR_STRING, false, 0, "none", "none|tanh", NO_RANGE},
};
static const porta_attr_spec cast_attrs[] = {
    {"to", PORTA_ATTR_STRING, true, 0, NULL, "f32|f16|i32", NO_RANGE},
};
static const porta_attr_spec matmul_attrs[] = {
    {"transpose_b", PORTA_ATTR_BOOL, false, 0, NULL, NULL, NO_RANGE},
};
static const porta_attr_spec softmax_attrs[] = {
    {"scale", PORTA_ATTR_FLOAT, false, 1.0, NULL, NULL, NO_RANGE},
    {"causal", PORTA_ATTR_BOOL, false, 0, NULL, NULL, NO_RANGE},
};
static const porta_attr_spec layernorm_attrs[] = {
    {"eps", PORTA_ATTR_FLOAT, false, 1e-5, NULL, NULL, 0.0, 1.0},
};
static const porta_attr_spec rmsnorm_attrs[] = {
    {"eps", PORTA_ATTR_FLOAT, false, 1e-6, NULL, NULL, 0.0, 1.0},
};
/* scale 0 means 1/sqrt(head dim). */
static const porta_attr_spec sdpa_attrs[] = {
    {"causal", PORTA_ATTR_BOOL, false, 0, NULL, NULL, NO_RANGE},
    {"scale", PORTA_ATTR_FLOAT, false, 0.0, NULL, NULL, NO_RANGE},
};
static const porta_attr_spec attention_attrs[] = {
    {"heads", PORTA_ATTR_INT, true, 0, NULL, NULL, 1, 4096},
    {"kv_heads", PORTA_ATTR_INT, false, 0, NULL, NULL, 0, 4096},
    {"causal", PORTA_ATTR_BOOL, false, 0, NULL, NULL, NO_RANGE},
    {"scale", PORTA_ATTR_FLOAT, false, 0.0, NULL, NULL, NO_RANGE},
};
static const porta_attr_spec luong_attrs[] = {
    {"score", PORTA_ATTR_STRING, false, 0, "dot", "dot|general", NO_RANGE},
    {"scale", PORTA_ATTR_FLOAT, false, 1.0, NULL, NULL, NO_RANGE},
};
static const porta_attr_spec reshape_attrs[] = {
    {"shape", PORTA_ATTR_INTS, true, 0, NULL, NULL, NO_RANGE},
};
static const porta_attr_spec permute_attrs[] = {
    {"perm", PORTA_ATTR_INTS, true, 0, NULL, NULL, NO_RANGE},
};
static const porta_attr_spec heads_attrs[] = {
    {"heads", PORTA_ATTR_INT, true, 0, NULL, NULL, 1, 4096},
};
static const porta_attr_spec concat_attrs[] = {
    {"axis", PORTA_ATTR_INT, false, -1, NULL, NULL, -4, 3},
};
/* end <= 0 counts from the end: end=0 is through the last element. */
static const porta_attr_spec slice_attrs[] = {
    {"axis", PORTA_ATTR_INT, false, -1, NULL, NULL, -4, 3},
    {"start", PORTA_ATTR_INT, false, 0, NULL, NULL, 0, 1e15},
    {"end", PORTA_ATTR_INT, false, 0, NULL, NULL, -1e15, 1e15},
};
static const porta_attr_spec sinusoidal_attrs[] = {
    {"offset", PORTA_ATTR_INT, false, 0, NULL, NULL, 0, 1e12},
    {"base", PORTA_ATTR_FLOAT, false, 10000.0, NULL, NULL, 1.0, 1e12},
};
static const porta_attr_spec rope_attrs[] = {
    {"offset", PORTA_ATTR_INT, false, 0, NULL, NULL, 0, 1e12},
    {"base", PORTA_ATTR_FLOAT, false, 10000.0, NULL, NULL, 1.0, 1e12},
    {"mode", PORTA_ATTR_STRING, false, 0, "half", "half|interleaved", NO_RANGE},
};
static const porta_attr_spec conv1d_attrs[] = {
    {"dilation", PORTA_ATTR_INT, false, 1, NULL, NULL, 1, 1 << 20},
};
static const porta_attr_spec kv_append_attrs[] = {
    {"start", PORTA_ATTR_INT, false, 0, NULL, NULL, 0, 1e12},
};

static const porta_attr_spec reduce_attrs[] = {
    {"axis", PORTA_ATTR_INT, false, -1, NULL, NULL, -4, 3},
    {"keepdim", PORTA_ATTR_BOOL, false, 0, NULL, NULL, NO_RANGE},
};
static const porta_attr_spec argmax_attrs[] = {
    {"keepdim", PORTA_ATTR_BOOL, false, 0, NULL, NULL, NO_RANGE},
};
static const porta_attr_spec l2norm_attrs[] = {
    {"eps", PORTA_ATTR_FLOAT, false, 1e-12, NULL, NULL, 0.0, 1.0},
};
static const porta_attr_spec full_attrs[] = {
    {"shape", PORTA_ATTR_INTS, true, 0, NULL, NULL, NO_RANGE},
    {"value", PORTA_ATTR_FLOAT, false, 0.0, NULL, NULL, NO_RANGE},
    {"dtype", PORTA_ATTR_STRING, false, 0, "f32", "f32|f16|i32", NO_RANGE},
};

#define ATTRS(a) a, COUNT(a)
#define NO_ATTRS NULL, 0

static const porta_op_info op_table[PORTA_OP_COUNT] = {
    [PORTA_OP_ADD] = {"add", "a b", NO_ATTRS, porta_infer_binary, porta_flops_elementwise,
                      "a + b, broadcast numpy-style"},
    [PORTA_OP_SUB] = {"sub", "a b", NO_ATTRS, porta_infer_binary, porta_flops_elementwise,
                      "a - b, broadcast"},
    [PORTA_OP_MUL] = {"mul", "a b", NO_ATTRS, porta_infer_binary, porta_flops_elementwise,
                      "a * b, broadcast"},
    [PORTA_OP_DIV] = {"div", "a b", NO_ATTRS, porta_infer_binary, porta_flops_elementwise,
                      "a / b, broadcast"},
    [PORTA_OP_SCALE] = {"scale", "x", ATTRS(scale_attrs), porta_infer_unary,
                        porta_flops_elementwise, "x * s"},
    [PORTA_OP_RELU] = {"relu", "x", NO_ATTRS, porta_infer_unary, porta_flops_elementwise,
                       "max(x, 0)"},
    [PORTA_OP_GELU] = {"gelu", "x", ATTRS(gelu_attrs), porta_infer_unary, porta_flops_elementwise,
                       "x * Phi(x) (exact erf, or the tanh approximation)"},
    [PORTA_OP_SILU] = {"silu", "x", NO_ATTRS, porta_infer_unary, porta_flops_elementwise,
                       "x * sigmoid(x)"},
    [PORTA_OP_TANH] = {"tanh", "x", NO_ATTRS, porta_infer_unary, porta_flops_elementwise, "tanh(x)"},
    [PORTA_OP_SIGMOID] = {"sigmoid", "x", NO_ATTRS, porta_infer_unary, porta_flops_elementwise,
                          "1 / (1 + exp(-x))"},
    [PORTA_OP_SQRT] = {"sqrt", "x", NO_ATTRS, porta_infer_unary, porta_flops_elementwise,
                       "square root (NaN below 0)"},
    [PORTA_OP_RSQRT] = {"rsqrt", "x", NO_ATTRS, porta_infer_unary, porta_flops_elementwise,
                        "1 / sqrt(x) (inf at 0)"},
    [PORTA_OP_EXP] = {"exp", "x", NO_ATTRS, porta_infer_unary, porta_flops_elementwise, "e^x"},
    [PORTA_OP_LOG] = {"log", "x", NO_ATTRS, porta_infer_unary, porta_flops_elementwise,
                      "natural logarithm (-inf at 0, NaN below)"},
    [PORTA_OP_ABS] = {"abs", "x", NO_ATTRS, porta_infer_unary, porta_flops_elementwise, "|x|"},
    [PORTA_OP_NEG] = {"neg", "x", NO_ATTRS, porta_infer_unary, porta_flops_elementwise, "-x"},
    [PORTA_OP_POW] = {"pow", "x", ATTRS(pow_attrs), porta_infer_unary, porta_flops_elementwise,
                      "x^p for a constant p (a negative x only with an integer p)"},
    [PORTA_OP_CAST] = {"cast", "x", ATTRS(cast_attrs), porta_infer_cast, NULL,
                       "convert to another dtype (float to i32 rounds toward zero)"},
    [PORTA_OP_MATMUL] = {"matmul", "a b", ATTRS(matmul_attrs), porta_infer_matmul,
                         porta_flops_matmul, "[..., M, K] x [..., K, N], batch dims broadcast"},
    [PORTA_OP_LINEAR] = {"linear", "x w bias?", NO_ATTRS, porta_infer_linear, porta_flops_linear,
                         "x [..., in] times w [out, in] transposed, plus bias [out]"},
    [PORTA_OP_SOFTMAX] = {"softmax", "x mask?", ATTRS(softmax_attrs), porta_infer_softmax,
                          porta_flops_softmax, "softmax over the last axis of x * scale + mask"},
    [PORTA_OP_LAYERNORM] = {"layernorm", "x gamma beta?", ATTRS(layernorm_attrs), porta_infer_norm,
                            porta_flops_norm, "normalize the last axis, then * gamma + beta"},
    [PORTA_OP_RMSNORM] = {"rmsnorm", "x gamma", ATTRS(rmsnorm_attrs), porta_infer_norm,
                          porta_flops_norm, "x / sqrt(mean(x^2) + eps) * gamma"},
    [PORTA_OP_SDPA] = {"sdpa", "q k v mask?", ATTRS(sdpa_attrs), porta_infer_sdpa,
                       porta_flops_sdpa,
                       "scaled dot-product attention on [B, H, S, D], grouped K/V heads"},
    [PORTA_OP_ATTENTION] = {"attention", "q k v mask?", ATTRS(attention_attrs),
                            porta_infer_attention, porta_flops_attention,
                            "multi-head attention on [B, S, heads * D]"},
    [PORTA_OP_ADDITIVE_ATTENTION] = {"additive_attention", "q keys values wq wk v mask?",
                                     NO_ATTRS, porta_infer_additive, porta_flops_additive,
                                     "Bahdanau: v . tanh(wq q + wk k) scores, softmax, sum"},
    [PORTA_OP_LUONG_ATTENTION] = {"luong_attention", "q keys values w? mask?", ATTRS(luong_attrs),
                                  porta_infer_luong, porta_flops_luong,
                                  "Luong: q . k (dot) or q . W k (general) scores, softmax, sum"},
    [PORTA_OP_RESHAPE] = {"reshape", "x", ATTRS(reshape_attrs), porta_infer_reshape, NULL,
                          "same elements, new shape (one dim may be -1)"},
    [PORTA_OP_PERMUTE] = {"permute", "x", ATTRS(permute_attrs), porta_infer_permute, NULL,
                          "reorder dims: out.dims[i] = x.dims[perm[i]]"},
    [PORTA_OP_SPLIT_HEADS] = {"split_heads", "x", ATTRS(heads_attrs), porta_infer_split_heads,
                              NULL, "[B, S, H * D] to [B, H, S, D]"},
    [PORTA_OP_MERGE_HEADS] = {"merge_heads", "x", NO_ATTRS, porta_infer_merge_heads, NULL,
                              "[B, H, S, D] to [B, S, H * D]"},
    [PORTA_OP_CONCAT] = {"concat", "xs...", ATTRS(concat_attrs), porta_infer_concat, NULL,
                         "join along an axis"},
    [PORTA_OP_SLICE] = {"slice", "x", ATTRS(slice_attrs), porta_infer_slice, NULL,
                        "the range [start, end) of one axis"},
    [PORTA_OP_EMBEDDING] = {"embedding", "ids table", NO_ATTRS, porta_infer_embedding, NULL,
                            "rows of table [V, D] for i32 ids; ids outside [0, V) give zeros"},
    [PORTA_OP_SINUSOIDAL] = {"sinusoidal", "x position?", ATTRS(sinusoidal_attrs), porta_infer_positions,
                             porta_flops_elementwise,
                             "x plus sinusoidal position encodings along axis -2"},
    [PORTA_OP_ROPE] = {"rope", "x position?", ATTRS(rope_attrs), porta_infer_positions,
                       porta_flops_elementwise, "rotary position embedding along axis -2"},
    [PORTA_OP_CAUSAL_CONV1D] = {"causal_conv1d", "x w bias?", ATTRS(conv1d_attrs),
                                porta_infer_conv1d, porta_flops_conv1d,
                                "causal dilated convolution over time: x [B, T, C], w [O, C, K]"},
    [PORTA_OP_KV_APPEND] = {"kv_append", "cache new position?", ATTRS(kv_append_attrs),
                            porta_infer_kv_append, NULL,
                            "cache with rows [start, start + n) of axis -2 replaced by new"},
    [PORTA_OP_SUM] = {"sum", "x", ATTRS(reduce_attrs), porta_infer_reduce, porta_flops_reduce,
                      "sum over one axis (removed unless keepdim)"},
    [PORTA_OP_MEAN] = {"mean", "x", ATTRS(reduce_attrs), porta_infer_reduce, porta_flops_reduce,
                       "mean over one axis (removed unless keepdim)"},
    [PORTA_OP_MAX] = {"max", "x", ATTRS(reduce_attrs), porta_infer_reduce, porta_flops_reduce,
                      "largest value over one axis, NaN ignored (removed unless keepdim)"},
    [PORTA_OP_ARGMAX] = {"argmax", "x", ATTRS(argmax_attrs), porta_infer_argmax,
                         porta_flops_reduce,
                         "i32 index of the largest value of the last axis (the lowest on ties)"},
    [PORTA_OP_MASKED_MEAN] = {"masked_mean", "x mask", NO_ATTRS, porta_infer_masked_mean,
                              porta_flops_masked_mean,
                              "mean pooling of x [B, S, D] over S, weighted by mask [B, S]"},
    [PORTA_OP_L2NORM] = {"l2norm", "x", ATTRS(l2norm_attrs), porta_infer_l2norm,
                         porta_flops_l2norm, "x / max(||x||2, eps) over the last axis"},
    [PORTA_OP_WHERE] = {"where", "cond a b", NO_ATTRS, porta_infer_where, porta_flops_elementwise,
                        "a where cond is nonzero, else b, broadcast"},
    [PORTA_OP_FULL] = {"full", "", ATTRS(full_attrs), porta_infer_full, NULL,
                       "a constant tensor of the given shape, value and dtype"},
};

const porta_op_info *porta_op_get(int op)
{
    return op >= 0 && op < PORTA_OP_COUNT ? &op_table[op] : NULL;
}

int porta_op_find(const char *name)
{
    for (int i = 0; i < PORTA_OP_COUNT; i++)
        if (!strcmp(op_table[i].name, name)) return i;
    return -1;
}

int porta_op_operands(const porta_op_info *info, porta_operand_spec *out_specs)
{
    int n = 0;
    const char *p = info->operands;
    while (*p && n < PORTA_MAX_OPERANDS) {
        while (*p == ' ') p++;
        if (!*p) break;
        size_t length = strcspn(p, " ");
        porta_operand_spec spec = {0};
        size_t name_length = length;
        if (name_length >= 3 && !strncmp(p + name_length - 3, "...", 3)) {
            spec.variadic = true;
            name_length -= 3;
        } else if (name_length >= 1 && p[name_length - 1] == '?') {
            spec.optional = true;
            name_length -= 1;
        }
        if (name_length >= sizeof spec.name) name_length = sizeof spec.name - 1;
        memcpy(spec.name, p, name_length);
        out_specs[n++] = spec;
        p += length;
    }
    return n;
}

int porta_op_attr_index(const porta_op_info *info, const char *name)
{
    for (int i = 0; i < info->n_attrs; i++)
        if (!strcmp(info->attrs[i].name, name)) return i;
    return -1;
}

uint64_t porta_node_bytes(const porta_graph *graph, const porta_node *node)
{
    uint64_t bytes = 0;
    for (int i = 0; i < node->n_operands; i++) {
        if (node->operands[i] < 0) continue;
        const porta_tensor *t = &graph->tensors[node->operands[i]];
        int64_t n = 0;
        porta_shape_elements(&t->shape, &n);
        bytes = porta_count_add(bytes, (uint64_t)n * porta_dtype_size(t->dtype));
    }
    const porta_tensor *out = &graph->tensors[node->output];
    int64_t n = 0;
    porta_shape_elements(&out->shape, &n);
    return porta_count_add(bytes, (uint64_t)n * porta_dtype_size(out->dtype));
}
