/* The kernel variants each op's cases run under. An op listed here runs every case once per
 * entry, each forced through PORTA_VARIANTS (graphs/lower/plan.h), so a variant that a rule picks
 * only on some device (a GPU's, say) is still checked on every driver; an op not listed runs
 * once, with the rules' own choices. A family's variant names are those its rule declares. */
#include "conformance.h"

#include <string.h>

typedef struct op_variants {
    const char *op;
    const char *const *forced;
} op_variants;

static const char *const gemm[] = {"gemm=tile4", "gemm=panels", NULL};

/* Attention and norm variants run with the rules' choices only (flash16 on PoCL, the per-row
 * attention and strips on llvmpipe): forcing each on every driver took the suite past its
 * time budget. */
static const char *const gemm_and_attention[] = {
    "gemm=tile4,attention=flash64", "gemm=panels,attention=rows", NULL};

static const op_variants table[] = {
    {"matmul", gemm},
    {"linear", gemm},
    {"luong_attention", gemm_and_attention},
    {"additive_attention", gemm_and_attention},
    {NULL, NULL},
};

const char *const *conformance_variants_of(const char *op)
{
    for (const op_variants *v = table; v->op; v++)
        if (!strcmp(v->op, op)) return v->forced;
    return NULL;
}
