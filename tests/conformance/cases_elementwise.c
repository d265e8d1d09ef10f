/* Conformance cases: the elementwise family. Broadcasting in every form the binary kernel folds
 * (scalar-like, row, column, mixed rank 4), f16, size 1, primes, results over many work-groups,
 * large magnitudes for the activations (finite, never NaN), chains that run in place, and every
 * cast between f32, f16 and i32. */
#include "conformance.h"

#include <string.h>

/* Activations far into their tails: exp overflows and underflows on the way. */
static bool fill_wide(const char *tensor, double *data, int64_t count)
{
    if (strcmp(tensor, "x")) return false;
    static const double tails[] = {-1e30, -1e4, -100.0, -88.5, -40.0, -15.0, -9.0, -5.0, -1.0,
                                   -0.3, -1e-4, 0.0, 1e-6, 0.1, 0.62, 0.63, 2.0, 7.5, 20.0,
                                   44.5, 89.0, 1e4, 1e30};
    int64_t n = (int64_t)(sizeof tails / sizeof tails[0]);
    for (int64_t i = 0; i < count; i++)
        data[i] = i < n ? tails[i] : (double)(i % 41 - 20) * 0.37;
    return true;
}

/* Positive values over many decades (sqrt, rsqrt, log), with 0 and a subnormal-adjacent one. */
static bool fill_positive(const char *tensor, double *data, int64_t count)
{
    if (strcmp(tensor, "x")) return false;
    static const double values[] = {0.0, 1.2e-38, 1e-20, 1e-6, 0.01, 0.25, 0.5, 1.0, 1.5, 2.0,
                                    3.0, 10.0, 1e3, 65504.0, 1e20, 3e38};
    int64_t n = (int64_t)(sizeof values / sizeof values[0]);
    for (int64_t i = 0; i < count; i++) data[i] = i < n ? values[i] : 0.03 + (double)(i % 97) * 0.9;
    return true;
}

/* exp over its float range: underflow to 0 below about -103, up to 88.5 (e^88.5 is 2.7e38; the
 * reference keeps f32 results in double, so a finite e^89 would not be the device's inf). */
static bool fill_exponents(const char *tensor, double *data, int64_t count)
{
    if (strcmp(tensor, "x")) return false;
    static const double values[] = {-1e30, -200.0, -103.0, -87.0, -20.0, -1.0, -1e-7, 0.0, 1e-7,
                                    0.5, 1.0, 2.0, 10.0, 44.0, 80.0, 88.5, 1e30};
    int64_t n = (int64_t)(sizeof values / sizeof values[0]);
    for (int64_t i = 0; i < count; i++) data[i] = i < n ? values[i] : (double)(i % 81 - 40) * 0.7;
    return true;
}

/* Bases for pow: negatives, zeros, fractions and large ones. */
static bool fill_bases(const char *tensor, double *data, int64_t count)
{
    if (strcmp(tensor, "x")) return false;
    static const double values[] = {-3.0, -2.0, -1.0, -0.5, -0.0, 0.0, 0.125, 0.5, 1.0, 1.5, 2.0,
                                    3.0, 7.0, 100.0, 1e4};
    int64_t n = (int64_t)(sizeof values / sizeof values[0]);
    for (int64_t i = 0; i < count; i++) data[i] = i < n ? values[i] : (double)(i % 23 - 11) * 0.45;
    return true;
}

/* Values in f16's range for f16 tails. */
static bool fill_wide_f16(const char *tensor, double *data, int64_t count)
{
    if (strcmp(tensor, "x")) return false;
    for (int64_t i = 0; i < count; i++) data[i] = (double)(i % 61 - 30) * 0.75;
    return true;
}

/* Casts to i32: fractions either side of zero, halves, i32's edges and beyond (saturating). */
static bool fill_to_int(const char *tensor, double *data, int64_t count)
{
    if (strcmp(tensor, "x")) return false;
    static const double values[] = {-2.5, -1.75, -0.5, -0.0, 0.25, 0.999, 1.0, 2.5, 3.75,
                                    -1e9, 1e9, 2147483520.0, -2147483648.0, 3e9, -3e9, 1e30,
                                    -1e30, 65504.0, -123456.0, 16777216.0};
    int64_t n = (int64_t)(sizeof values / sizeof values[0]);
    for (int64_t i = 0; i < count; i++) data[i] = i < n ? values[i] : (double)(i * 7 - 40) / 3.0;
    return true;
}

/* f16 sources of a cast to i32: values f16 holds exactly. */
static bool fill_f16_to_int(const char *tensor, double *data, int64_t count)
{
    if (strcmp(tensor, "x")) return false;
    for (int64_t i = 0; i < count; i++) data[i] = (double)(i % 37 - 18) * 1.625;
    return true;
}

/* i32 sources: negatives, beyond f32's 24 bits, beyond f16's range (inf as f16). */
static bool fill_ints(const char *tensor, double *data, int64_t count)
{
    if (strcmp(tensor, "x")) return false;
    static const double values[] = {0, -1, 1, -7, 2049, 65504, 65520, -70000, 16777217,
                                    -16777219, 2147483647, -2147483648.0, 123456789};
    int64_t n = (int64_t)(sizeof values / sizeof values[0]);
    for (int64_t i = 0; i < count; i++) data[i] = i < n ? values[i] : (double)(i * 13 - 100);
    return true;
}

/* i32 sources whose f16 conversions stay finite. */
static bool fill_small_ints(const char *tensor, double *data, int64_t count)
{
    if (strcmp(tensor, "x")) return false;
    for (int64_t i = 0; i < count; i++) data[i] = (double)(i * 97 % 4001 - 2000);
    return true;
}

#define BINARY(op, name, a, b) \
    {op, "graph " name "\ninput a : " a "\ninput b : " b "\ny = " op "(a, b)\noutput y\n", NULL}
#define UNARY(op, name, x, call, fill) \
    {op, "graph " name "\ninput x : " x "\ny = " call "\noutput y\n", fill}
#define CAST(name, x, to, fill) \
    {"cast", "graph " name "\ninput x : " x "\ny = cast(x, to=\"" to "\")\noutput y\n", fill}

const conformance_case conformance_cases_elementwise[] = {
    /* binary: same shapes, broadcasting, sizes */
    BINARY("add", "add_same", "f32[2, 7]", "f32[2, 7]"),
    BINARY("add", "add_scalar_like", "f32[3, 5]", "f32[1]"),
    BINARY("add", "add_scalar_first", "f32[1]", "f32[4, 3, 2]"),
    BINARY("add", "add_rank0", "f32[]", "f32[6]"),
    BINARY("add", "add_row", "f32[5, 7]", "f32[7]"),
    BINARY("add", "add_column", "f32[5, 1]", "f32[5, 7]"),
    BINARY("add", "add_outer", "f32[6, 1]", "f32[1, 9]"),
    BINARY("add", "add_rank4_mix", "f32[2, 1, 3, 1]", "f32[1, 4, 1, 5]"),
    BINARY("add", "add_rank4_mid", "f32[2, 3, 4, 5]", "f32[3, 1, 5]"),
    BINARY("add", "add_size1", "f32[1]", "f32[1]"),
    BINARY("add", "add_scalars", "f32[]", "f32[]"),
    BINARY("add", "add_primes", "f32[13, 17]", "f32[13, 17]"),
    BINARY("add", "add_many_groups", "f32[300, 257]", "f32[257]"),
    BINARY("add", "add_long_rows", "f32[3, 70001]", "f32[3, 1]"),
    BINARY("add", "add_f16", "f16[4, 33]", "f16[33]"),
    BINARY("add", "add_residual", "f32[1, 128, 384]", "f32[1, 128, 384]"),
    BINARY("sub", "sub_same", "f32[3, 11]", "f32[3, 11]"),
    BINARY("sub", "sub_column", "f32[4, 6, 1]", "f32[6, 5]"),
    BINARY("sub", "sub_rank4", "f32[1, 3, 1, 7]", "f32[2, 1, 5, 7]"),
    BINARY("sub", "sub_f16", "f16[2, 5, 3]", "f16[2, 1, 3]"),
    BINARY("mul", "mul_same", "f32[1, 1, 512]", "f32[1, 1, 512]"),
    BINARY("mul", "mul_row", "f32[2, 64, 16]", "f32[16]"),
    BINARY("mul", "mul_scalar_like", "f32[1, 1, 1, 1]", "f32[2, 3, 4, 5]"),
    BINARY("mul", "mul_f16", "f16[7, 1]", "f16[1, 6]"),
    BINARY("div", "div_same", "f32[5, 19]", "f32[5, 19]"),
    BINARY("div", "div_row", "f32[8, 23]", "f32[23]"),
    BINARY("div", "div_rank4", "f32[2, 3, 1, 4]", "f32[1, 3, 5, 1]"),
    BINARY("div", "div_f16", "f16[3, 9]", "f16[3, 1]"),
    /* a chain whose steps run in place on the intermediates */
    {"add",
     "graph add_chain\ninput a : f32[4, 9]\ninput b : f32[9]\ninput c : f32[4, 9]\n"
     "t = add(a, b)\nu = add(c, t)\ny = add(u, b)\noutput y\n", NULL},
    /* b is a view of row 0 of t, which dies here: u must not be written over t */
    {"add",
     "graph add_view_of_operand\ninput x : f32[4, 64]\n"
     "t = relu(x)\ns = slice(t, axis=0, end=1)\nu = add(t, s)\ny = relu(u)\noutput y\n",
     NULL},
    {"add",
     "graph add_same_operand\ninput x : f32[5, 3]\n"
     "t = relu(x)\nu = add(t, t)\ny = relu(u)\noutput y\n", NULL},
    {"silu",
     "graph mul_gated\ninput a : f32[2, 8, 24]\ninput b : f32[2, 8, 24]\n"
     "y = mul(silu(a), sigmoid(b))\noutput y\n", NULL},

    /* unary */
    UNARY("scale", "scale_default", "f32[2, 7]", "scale(x)", NULL),
    UNARY("scale", "scale_half", "f32[3, 37]", "scale(x, s=0.5)", NULL),
    UNARY("scale", "scale_inexact", "f32[1]", "scale(x, s=-0.1)", NULL),
    UNARY("scale", "scale_f16", "f16[5, 6]", "scale(x, s=3.0)", NULL),
    UNARY("relu", "relu", "f32[3, 37]", "relu(x)", NULL),
    UNARY("relu", "relu_wide", "f32[64]", "relu(x)", fill_wide),
    UNARY("relu", "relu_many_groups", "f32[70001]", "relu(x)", NULL),
    UNARY("relu", "relu_f16", "f16[2, 3, 4, 5]", "relu(x)", NULL),
    UNARY("gelu", "gelu", "f32[3, 37]", "gelu(x)", NULL),
    UNARY("gelu", "gelu_wide", "f32[96]", "gelu(x)", fill_wide),
    UNARY("gelu", "gelu_tanh", "f32[3, 37]", "gelu(x, approximate=\"tanh\")", NULL),
    UNARY("gelu", "gelu_tanh_wide", "f32[96]", "gelu(x, approximate=\"tanh\")", fill_wide),
    UNARY("gelu", "gelu_f16", "f16[122]", "gelu(x)", fill_wide_f16),
    UNARY("gelu", "gelu_tanh_f16", "f16[122]", "gelu(x, approximate=\"tanh\")", fill_wide_f16),
    UNARY("gelu", "gelu_encoder", "f32[1, 16, 1536]", "gelu(x)", NULL),
    UNARY("silu", "silu", "f32[1, 1, 512]", "silu(x)", NULL),
    UNARY("silu", "silu_wide", "f32[96]", "silu(x)", fill_wide),
    UNARY("silu", "silu_f16", "f16[122]", "silu(x)", fill_wide_f16),
    UNARY("tanh", "tanh", "f32[2, 64, 16]", "tanh(x)", NULL),
    UNARY("tanh", "tanh_wide", "f32[96]", "tanh(x)", fill_wide),
    UNARY("tanh", "tanh_size1", "f32[1]", "tanh(x)", NULL),
    UNARY("tanh", "tanh_f16", "f16[122]", "tanh(x)", fill_wide_f16),
    UNARY("sigmoid", "sigmoid", "f32[2, 64, 16]", "sigmoid(x)", NULL),
    UNARY("sigmoid", "sigmoid_wide", "f32[96]", "sigmoid(x)", fill_wide),
    UNARY("sigmoid", "sigmoid_f16", "f16[122]", "sigmoid(x)", fill_wide_f16),
    UNARY("sqrt", "sqrt", "f32[3, 37]", "sqrt(x)", fill_positive),
    UNARY("sqrt", "sqrt_negative", "f32[2, 5]", "sqrt(x)", NULL),    /* NaN where x < 0 */
    UNARY("sqrt", "sqrt_f16", "f16[40]", "sqrt(x)", fill_positive),
    UNARY("rsqrt", "rsqrt", "f32[3, 37]", "rsqrt(x)", fill_positive),
    UNARY("exp", "exp", "f32[2, 64, 16]", "exp(x)", NULL),
    UNARY("exp", "exp_wide", "f32[96]", "exp(x)", fill_exponents),
    UNARY("exp", "exp_f16", "f16[122]", "exp(x)", fill_wide_f16),
    UNARY("log", "log", "f32[3, 37]", "log(x)", fill_positive),
    UNARY("log", "log_negative", "f32[7]", "log(x)", NULL),
    UNARY("abs", "abs", "f32[3, 37]", "abs(x)", fill_wide),
    UNARY("abs", "abs_f16", "f16[61]", "abs(x)", fill_wide_f16),
    UNARY("neg", "neg", "f32[5, 19]", "neg(x)", fill_wide),
    UNARY("pow", "pow_square", "f32[40]", "pow(x, p=2)", fill_bases),
    UNARY("pow", "pow_cube", "f32[40]", "pow(x, p=3)", fill_bases),
    UNARY("pow", "pow_root", "f32[40]", "pow(x, p=0.5)", fill_bases),
    UNARY("pow", "pow_inverse", "f32[40]", "pow(x, p=-1)", fill_bases),
    UNARY("pow", "pow_fraction", "f32[40]", "pow(x, p=1.7)", fill_bases),
    UNARY("pow", "pow_negative_fraction", "f32[40]", "pow(x, p=-0.25)", fill_bases),
    UNARY("pow", "pow_zero", "f32[40]", "pow(x, p=0)", fill_bases),
    UNARY("pow", "pow_f16", "f16[40]", "pow(x, p=2)", fill_bases),
    /* the math ops in place, one after another (pow's tolerance: its error carries through) */
    {"pow",
     "graph math_chain\ninput x : f32[4, 33]\n"
     "y = log(rsqrt(pow(abs(neg(x)), p=3)))\noutput y\n", NULL},
    /* in place: each step writes over the intermediate it reads */
    {"tanh",
     "graph unary_chain\ninput x : f32[7, 13]\n"
     "y = tanh(sigmoid(relu(scale(x, s=4.0))))\noutput y\n", NULL},

    /* cast between every pair of dtypes */
    CAST("cast_f32_i32", "f32[4, 8]", "i32", fill_to_int),
    CAST("cast_f32_i32_seed", "f32[29]", "i32", NULL),
    CAST("cast_f32_f16", "f32[5, 21]", "f16", NULL),
    CAST("cast_f32_f16_wide", "f32[61]", "f16", fill_wide_f16),
    CAST("cast_f32_f32", "f32[3, 4]", "f32", NULL),
    CAST("cast_f16_f32", "f16[6, 7]", "f32", NULL),
    CAST("cast_f16_i32", "f16[74]", "i32", fill_f16_to_int),
    CAST("cast_f16_f16", "f16[9]", "f16", NULL),
    CAST("cast_i32_f32", "i32[26]", "f32", fill_ints),
    CAST("cast_i32_f16", "i32[3, 40]", "f16", fill_small_ints),
    CAST("cast_i32_i32", "i32[2, 2, 3]", "i32", fill_ints),
    CAST("cast_many_groups", "f32[300, 257]", "i32", fill_to_int),
    /* casts that need no conversion are views of their operand inside a graph */
    {"cast",
     "graph cast_views\ninput x : f16[4, 6]\n"
     "c = cast(x, to=\"f32\")\nd = cast(c, to=\"f32\")\ny = add(d, c)\noutput y\n", NULL},
    {"cast",
     "graph cast_round_trip\ninput x : f32[3, 17]\n"
     "i = cast(x, to=\"i32\")\ny = cast(i, to=\"f32\")\noutput y\n", fill_to_int},
    {NULL, NULL, NULL},
};
