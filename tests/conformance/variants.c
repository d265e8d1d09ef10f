/* The kernel variants each op's cases run under. A case listed here runs once per entry, each
 * forced through PORTA_VARIANTS (graphs/lower/plan.h), so a variant that a rule picks only on
 * some device (a GPU's, say) is still checked on every driver; a case not listed runs once, with
 * the rules' own choices. A family's variant names are those its rule declares. */
#include "conformance.h"

#include <string.h>

typedef struct case_variants {
    const char *op;
    const char *const *cases;       /* graph names; NULL: every case of the op */
    const char *const *forced;
} case_variants;

static const char *const gemm[] = {"gemm=tile4", "gemm=panels", NULL};
/* the cases whose K splitk can cut (batch 1, K of 512 or more and even): each variant */
static const char *const splitk_matmul_cases[] = {"matmul_splitk_gemv", NULL};
static const char *const splitk_linear_cases[] = {"linear_splitk_residual",
                                                  "linear_splitk_decoding", "linear_splitk_rows",
                                                  "linear_splitk_gelu", NULL};
static const char *const splitk_int8_cases[] = {"q8_0_splitk", "i8c_splitk_rows", "q8_0_long_k",
                                                NULL};
static const char *const gemm_splitk[] = {"gemm=tile4", "gemm=panels", "gemm=splitk", NULL};
static const char *const gemm_and_attention[] = {
    "gemm=tile4,attention=flash64", "gemm=panels,attention=rows", NULL};
static const char *const attention[] = {"attention=flash64", "attention=flash16",
                                        "attention=flash8", "attention=rows", "attention=gemm",
                                        NULL};
static const char *const norm[] = {"norm=rows", "norm=strips", "norm=lanes", NULL};

/* Forced variants multiply the kernels a cold cache must compile (shape-derived constants make
 * most cases a kernel of their own), so attention and norm variants run on the cases that cover
 * their paths: causal in both alignments, both mask kinds, grouped heads, keys split past
 * llvmpipe's loop budget, f16, long rows, and each norm op; the other cases run with the rules'
 * choices. */
static const char *const sdpa_cases[] = {
    "sdpa_plain", "sdpa_causal_more_queries", "sdpa_causal_fewer_queries", "sdpa_grouped_4_on_1",
    "sdpa_int_mask_rows", "sdpa_long_keys", "sdpa_split_masked", "sdpa_f16", "sdpa_hidden_inf",
    "sdpa_padding_empty_batch", NULL};
static const char *const attention_cases[] = {"attention_encoder", NULL};
/* attention chains: each attention variant once, beside a gemm variant for the unfused pass */
static const char *const chain_cases[] = {"chain_scale_mask", "chain_grouped_int_mask",
                                          "chain_decode_long", NULL};
static const char *const chain[] = {
    "gemm=tile4,attention=flash64", "gemm=panels,attention=flash16",
    "gemm=tile4,attention=flash8", "gemm=panels,attention=rows", "gemm=tile4,attention=gemm",
    NULL};
static const char *const softmax_cases[] = {"softmax_small", "softmax_long", "softmax_mask_i32",
                                            "softmax_causal_tall", "softmax_f16", NULL};
static const char *const layernorm_cases[] = {"layernorm_small", "layernorm_long",
                                              "layernorm_3e38", NULL};
static const char *const rmsnorm_cases[] = {"rmsnorm_long", "rmsnorm_many_rows", "rmsnorm_3e38",
                                            NULL};
/* the reductions in the norm kernel: strided rows, rows past the loop budget when one
 * invocation takes a row (rows), ties met in the trees (strips, lanes) */
static const char *const sum_cases[] = {"sum_rows", "sum_axis0", "sum_5m", "sum_axis0_long", NULL};
static const char *const max_cases[] = {"max_specials", "max_axis1", NULL};
static const char *const argmax_cases[] = {"argmax_ties", "argmax_specials", "argmax_5m_ties",
                                           NULL};
static const char *const masked_mean_cases[] = {"masked_mean_padding", "masked_mean_long",
                                                "masked_mean_f16", NULL};
static const char *const l2norm_cases[] = {"l2norm_rows", "l2norm_3e38", "l2norm_5m", NULL};

static const case_variants table[] = {
    {"matmul", chain_cases, chain},
    {"matmul", splitk_matmul_cases, gemm_splitk},
    {"linear", splitk_linear_cases, gemm_splitk},
    {"matmul", NULL, gemm},
    {"linear", NULL, gemm},
    {"int8", splitk_int8_cases, gemm_splitk},
    {"int8", NULL, gemm},
    {"luong_attention", NULL, gemm_and_attention},
    {"additive_attention", NULL, gemm_and_attention},
    {"sdpa", sdpa_cases, attention},
    {"attention", attention_cases, attention},
    {"softmax", softmax_cases, norm},
    {"layernorm", layernorm_cases, norm},
    {"rmsnorm", rmsnorm_cases, norm},
    {"sum", sum_cases, norm},
    {"max", max_cases, norm},
    {"argmax", argmax_cases, norm},
    {"masked_mean", masked_mean_cases, norm},
    {"l2norm", l2norm_cases, norm},
    {NULL, NULL, NULL},
};

static bool listed(const char *const *cases, const char *name)
{
    if (!cases) return true;
    for (; *cases; cases++)
        if (!strcmp(*cases, name)) return true;
    return false;
}

const char *const *conformance_variants_of(const char *op, const char *name)
{
    for (const case_variants *v = table; v->op; v++)
        if (!strcmp(v->op, op) && listed(v->cases, name)) return v->forced;
    return NULL;
}

const char *conformance_variants_missing(bool (*has_case)(const char *op, const char *name))
{
    for (const case_variants *v = table; v->op; v++)
        for (const char *const *c = v->cases; c && *c; c++)
            if (!has_case(v->op, *c)) return *c;
    return NULL;
}
