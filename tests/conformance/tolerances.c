/* Each op's tolerance, stated once. Device results are f32 (f16 results rounded to f16); the
 * reference computes in double. Reductions over K terms lose about K * 2^-24 relative, so ops
 * that sum (matmul, norms, attention) get more room than elementwise ones. */
#include "conformance.h"

#include <string.h>

static const conformance_tolerance tolerances[] = {
    {"add", 1e-6, 1e-6},
    {"sub", 1e-6, 1e-6},
    {"mul", 1e-6, 1e-6},
    {"div", 1e-6, 1e-6},
    {"scale", 1e-6, 1e-6},
    {"relu", 0, 0},
    {"gelu", 1e-6, 1e-5},
    {"silu", 1e-6, 1e-5},
    {"tanh", 1e-6, 1e-5},
    {"sigmoid", 1e-6, 1e-5},
    {"sqrt", 1e-7, 1e-6},
    {"rsqrt", 1e-7, 1e-6},
    /* GLSL allows exp and exp2 (3 + 2|x|) ulp: about 1e-5 relative at |x| near 80 */
    {"exp", 1e-30, 2e-5},
    {"log", 1e-6, 1e-6},
    {"abs", 0, 0},
    {"neg", 0, 0},
    /* 2^(p log2 |x|): the exponent's rounding, times |p log2 x| up to about 30 here */
    {"pow", 1e-30, 2e-5},
    {"cast", 0, 0},
    {"matmul", 1e-5, 1e-4},
    {"linear", 1e-5, 1e-4},
    /* linear and matmul reading an 8-bit weight: the reference quantizes in double by the same
     * rule, so only the scale's rounding to f32 (2^-24 relative) adds to the gemm's error */
    {"int8", 1e-5, 1e-4},
    {"softmax", 1e-6, 1e-5},
    {"layernorm", 1e-5, 1e-4},
    {"rmsnorm", 1e-5, 1e-4},
    {"sdpa", 1e-5, 1e-4},
    {"attention", 1e-5, 1e-4},
    {"additive_attention", 1e-5, 1e-4},
    {"luong_attention", 1e-5, 1e-4},
    {"reshape", 0, 0},
    {"permute", 0, 0},
    {"split_heads", 0, 0},
    {"merge_heads", 0, 0},
    {"concat", 0, 0},
    {"slice", 0, 0},
    {"embedding", 0, 0},
    {"sinusoidal", 1e-6, 1e-6},
    {"rope", 1e-6, 1e-6},
    {"causal_conv1d", 1e-5, 1e-4},
    {"kv_append", 0, 0},
    /* sums in f32 of up to a few thousand terms of the seed's [-1, 1), which may cancel */
    {"sum", 1e-4, 1e-5},
    {"mean", 1e-6, 1e-5},
    {"max", 0, 0},
    {"argmax", 0, 0},
    {"masked_mean", 1e-6, 1e-5},
    {"l2norm", 1e-6, 1e-5},
    {"where", 0, 0},
    {"full", 0, 0},
    /* f16 results: one f16 rounding step (2^-11 relative) either way of the reference's */
    {"f16", 1e-3, 2e-3},
};

const conformance_tolerance *conformance_tolerance_of(const char *op)
{
    for (size_t i = 0; i < sizeof tolerances / sizeof tolerances[0]; i++)
        if (!strcmp(tolerances[i].op, op)) return &tolerances[i];
    return NULL;
}
