/* The elementwise activations, written once for every kernel that applies one: the unary kernel
 * (its OP constant) and the gemm epilogues (their ACT constant, graphs/lower/fuse.h). Codes:
 * 0 none (identity), 1 relu, 2 gelu (erf), 3 gelu (tanh approximation), 4 silu, 5 tanh,
 * 6 sigmoid. Each form stays finite and keeps its relative accuracy for large |x|: exp
 * overflowing to inf gives 0 through a division, never inf / inf. Included after prelude.h; the
 * code is a compile-time constant wherever it is used, so only its own branch is compiled.
 *
 * The math is one macro instantiated for float (activation) and vec4_t (activation4): the gemm
 * epilogues apply it to four results at once, which a driver that compiles an invocation's
 * vectors to SIMD (PoCL) runs as vector code. Choices are PICK (a select, never arithmetic, so
 * the branch not taken may overflow freely), so both forms give the same value per element. */

#define ACTIVATION_FUNCTIONS(T, NAME) \
/* erfc(z), fractional error under 1.2e-7 everywhere (the Chebyshev fit of Numerical Recipes' \
 * erfcc); GLSL has no erf, so both APIs use this. */ \
INLINE T NAME##_erfc(T z) \
{ \
    T a = max(z, -z); \
    T t = 1.0f / (1.0f + 0.5f * a); \
    T p = -0.82215223f + t * 0.17087277f; \
    p = 1.48851587f + t * p; \
    p = -1.13520398f + t * p; \
    p = 0.27886807f + t * p; \
    p = -0.18628806f + t * p; \
    p = 0.09678418f + t * p; \
    p = 0.37409196f + t * p; \
    p = 1.00002368f + t * p; \
    T r = t * exp(-a * a - 1.26551223f + t * p); \
    return PICK(LT(z, SPLAT_OF(T, 0.0f)), 2.0f - r, r); \
} \
/* tanh: an odd polynomial below 0.625 (no cancellation near 0), else 1 - 2 / (e^2|x| + 1), \
 * which is exactly +-1 once e^2|x| overflows (Cephes' tanhf). */ \
INLINE T NAME##_tanh(T x) \
{ \
    T a = max(x, -x); \
    T z = x * x; \
    T p = -5.70498872745e-3f * z + 2.06390887954e-2f; \
    p = p * z - 5.37397155531e-2f; \
    p = p * z + 1.33314422036e-1f; \
    p = p * z - 3.33332819422e-1f; \
    T big = 1.0f - 2.0f / (exp(2.0f * a) + 1.0f); \
    big = PICK(LT(x, SPLAT_OF(T, 0.0f)), -big, big); \
    return PICK(LT(a, SPLAT_OF(T, 0.625f)), p * z * x + x, big); \
} \
INLINE T NAME(int code, T v) \
{ \
    if (code == 0) return v; \
    if (code == 1) return PICK(LT(SPLAT_OF(T, 0.0f), v), v, SPLAT_OF(T, 0.0f)); \
    if (code == 2) return 0.5f * v * NAME##_erfc(-0.70710678118654752f * v); \
    /* gelu (tanh): 1/2 x (1 + tanh(u)) = x / (1 + e^-2u) */ \
    if (code == 3) return v / (1.0f + exp(-2.0f * (0.79788456080286536f * \
                                                   (v + 0.044715f * v * v * v)))); \
    if (code == 4) return v / (1.0f + exp(-v)); \
    if (code == 5) return NAME##_tanh(v); \
    return 1.0f / (1.0f + exp(-v)); \
}

ACTIVATION_FUNCTIONS(float, activation)
ACTIVATION_FUNCTIONS(vec4_t, activation4)
