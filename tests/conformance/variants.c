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
static const char *const gemm_and_attention[] = {
    "gemm=tile4,attention=flash64", "gemm=panels,attention=rows", NULL};
static const char *const attention[] = {"attention=flash64", "attention=flash16",
                                        "attention=flash8", "attention=rows", NULL};
static const char *const norm[] = {"norm=rows", "norm=strips", "norm=lanes", NULL};

/* Every attention variant on the cases that cover its paths (causal in both alignments, both
 * mask kinds, grouped heads, decoding, keys split past llvmpipe's loop budget, -inf, f16, odd
 * head dims); the rest of the attention cases run with the rules' choices, as forcing all four
 * on every case took the suite past its time budget. */
static const char *const sdpa_cases[] = {
    "sdpa_plain", "sdpa_causal_more_queries", "sdpa_causal_fewer_queries", "sdpa_decode_cache",
    "sdpa_grouped_4_on_1", "sdpa_float_mask_rows", "sdpa_int_mask_rows", "sdpa_dims_7_1",
    "sdpa_dims_128", "sdpa_long_keys", "sdpa_split_masked", "sdpa_head_2000", "sdpa_hidden_inf",
    "sdpa_f16", NULL};
static const char *const attention_cases[] = {"attention_encoder", "attention_grouped_8_on_2",
                                              NULL};

static const case_variants table[] = {
    {"matmul", NULL, gemm},
    {"linear", NULL, gemm},
    {"luong_attention", NULL, gemm_and_attention},
    {"additive_attention", NULL, gemm_and_attention},
    {"sdpa", sdpa_cases, attention},
    {"attention", attention_cases, attention},
    {"softmax", NULL, norm},
    {"layernorm", NULL, norm},
    {"rmsnorm", NULL, norm},
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
