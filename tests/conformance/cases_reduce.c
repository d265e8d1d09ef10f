/* Conformance cases: the reductions (sum, mean, max, argmax, masked_mean), l2norm, where and
 * full. Reductions over the last axis and over every other one (strided rows), rank 1 to rank
 * 0, keepdim, rows of one, primes that leave a tail past the last quad, many short rows, rows
 * past one invocation's loop budget (5,000,000 columns, a first axis of 70,000), infinities and
 * NaN, ties for argmax (in one row of 5,000,000 across many invocations), masks with rows all
 * masked out, norms at magnitudes whose squares overflow f32 or underflow it, where's
 * broadcasting of all three operands with i32 and float conds (-0 and NaN), and full of every
 * dtype. */
#include "conformance.h"

#include <math.h>
#include <string.h>

/* Multiples of 1/16 in [-0.5, 0.5): every partial sum of a long row is exact in f32, so the sum
 * is exactly the reference's whatever order the invocations add in. */
static bool fill_sixteenths(const char *tensor, double *data, int64_t count)
{
    if (strcmp(tensor, "x")) return false;
    for (int64_t n = 0; n < count; n++) data[n] = floor(data[n] * 8.0) / 16.0;
    return true;
}

/* Integers in [-4, 4): many equal maxima in every row. */
static bool fill_ties(const char *tensor, double *data, int64_t count)
{
    if (strcmp(tensor, "x")) return false;
    for (int64_t n = 0; n < count; n++) data[n] = floor(data[n] * 4.0);
    return true;
}

/* x [6, 9]: row 0 holds +inf, row 1 +inf and -inf, row 2 NaN at column 0, row 3 NaN everywhere,
 * row 4 -inf everywhere, row 5 NaN at every other column and its maximum at the last one. */
static bool fill_specials(const char *tensor, double *data, int64_t count)
{
    if (strcmp(tensor, "x") || count != 54) return false;
    data[4] = INFINITY;
    data[9 + 2] = INFINITY;
    data[9 + 7] = -INFINITY;
    data[18] = NAN;
    for (int c = 0; c < 9; c++) {
        data[27 + c] = NAN;
        data[36 + c] = -INFINITY;
        data[45 + c] = c % 2 ? NAN : -0.5;
    }
    data[45 + 8] = 2.0;
    return true;
}

/* An i32 mask [B, S] as a tokenizer pads: row b keeps its first S - 3b positions (none in a row
 * where that is not positive), x from the seed. */
static bool fill_padding_mask(const char *tensor, double *data, int64_t count, int64_t s)
{
    if (strcmp(tensor, "m")) return false;
    for (int64_t n = 0; n < count; n++) data[n] = n % s < s - 3 * (n / s) ? 1.0 : 0.0;
    return true;
}
static bool fill_padding_128(const char *tensor, double *data, int64_t count)
{
    return fill_padding_mask(tensor, data, count, 128);
}
static bool fill_padding_7(const char *tensor, double *data, int64_t count)
{
    return fill_padding_mask(tensor, data, count, 7);
}

/* A float mask of positive weights, sixteenths in [0.25, 1.25), every 3rd 0; x from the seed. */
static bool fill_weights(const char *tensor, double *data, int64_t count)
{
    if (strcmp(tensor, "m")) return false;
    for (int64_t n = 0; n < count; n++) data[n] = n % 3 ? 0.75 + floor(data[n] * 8.0) / 16.0 : 0.0;
    return true;
}

/* A long masked mean: x in sixteenths (exact sums), a 0/1 mask keeping 2 of every 3. */
static bool fill_long_masked(const char *tensor, double *data, int64_t count)
{
    if (!strcmp(tensor, "m")) {
        for (int64_t n = 0; n < count; n++) data[n] = n % 3 ? 1.0 : 0.0;
        return true;
    }
    return fill_sixteenths(tensor, data, count);
}

/* x of magnitude `scale` times the seed's [-1, 1). */
static bool scale_x(const char *tensor, double *data, int64_t count, double scale)
{
    if (strcmp(tensor, "x")) return false;
    for (int64_t n = 0; n < count; n++) data[n] *= scale;
    return true;
}
static bool fill_x_1e20(const char *tensor, double *data, int64_t count)
{
    return scale_x(tensor, data, count, 1e20);
}
static bool fill_x_3e38(const char *tensor, double *data, int64_t count)
{
    return scale_x(tensor, data, count, 3e38);
}
/* norms below eps = 1e-12, whose squares f32 cannot hold: x / eps */
static bool fill_x_1e_20(const char *tensor, double *data, int64_t count)
{
    return scale_x(tensor, data, count, 1e-20);
}
static bool fill_zeros(const char *tensor, double *data, int64_t count)
{
    return scale_x(tensor, data, count, 0.0);
}

/* where's conds: i32 words of every kind, or floats with 0, -0, NaN and infinities. */
static bool fill_cond_i32(const char *tensor, double *data, int64_t count)
{
    if (strcmp(tensor, "c")) return false;
    static const double values[] = {0.0, 1.0, -1.0, 2147483647.0, -2147483648.0, 0.0, 256.0};
    for (int64_t n = 0; n < count; n++) data[n] = values[n % 7];
    return true;
}
static bool fill_cond_float(const char *tensor, double *data, int64_t count)
{
    if (strcmp(tensor, "c")) return false;
    static const double values[] = {0.0, -0.0, NAN, INFINITY, -0.25, 0.5, -INFINITY, 0.0};
    for (int64_t n = 0; n < count; n++) data[n] = values[n % 8];
    return true;
}
/* i32 a and b with extreme values */
static bool fill_where_ints(const char *tensor, double *data, int64_t count)
{
    if (!strcmp(tensor, "c")) return fill_cond_i32(tensor, data, count);
    if (strcmp(tensor, "a") && strcmp(tensor, "b")) return false;
    double sign = strcmp(tensor, "a") ? -1.0 : 1.0;
    for (int64_t n = 0; n < count; n++)
        data[n] = n % 5 == 0 ? (sign > 0 ? 2147483647.0 : -2147483648.0) : sign * (double)n;
    return true;
}

#define ONE(op, name, x, call, fill) \
    {op, "graph " name "\ninput x : " x "\ny = " call "\noutput y\n", fill}
#define MASKED(name, x, m, fill) \
    {"masked_mean", "graph " name "\ninput x : " x "\ninput m : " m \
     "\ny = masked_mean(x, m)\noutput y\n", fill}
#define WHERE(name, c, a, b, fill) \
    {"where", "graph " name "\ninput c : " c "\ninput a : " a "\ninput b : " b \
     "\ny = where(c, a, b)\noutput y\n", fill}
#define FULL(name, call) {"full", "graph " name "\ny = " call "\noutput y\n", NULL}

const conformance_case conformance_cases_reduce[] = {
    /* sum */
    ONE("sum", "sum_one", "f32[1]", "sum(x)", NULL),
    ONE("sum", "sum_rank1", "f32[7]", "sum(x, axis=0)", NULL),
    ONE("sum", "sum_rows", "f32[3, 37]", "sum(x)", NULL),
    ONE("sum", "sum_axis0", "f32[5, 3, 7]", "sum(x, axis=0)", NULL),
    ONE("sum", "sum_axis1_keepdim", "f32[2, 9, 13]", "sum(x, axis=1, keepdim=true)", NULL),
    ONE("sum", "sum_rank4_axis2", "f32[2, 3, 5, 6]", "sum(x, axis=-2)", NULL),
    ONE("sum", "sum_long", "f32[2, 1031]", "sum(x)", NULL),
    ONE("sum", "sum_many_rows", "f32[1201, 3]", "sum(x, axis=-1)", NULL),
    ONE("sum", "sum_specials", "f32[6, 9]", "sum(x)", fill_specials),
    ONE("sum", "sum_5m", "f32[1, 5000000]", "sum(x)", fill_sixteenths),
    ONE("sum", "sum_axis0_long", "f32[70001, 3]", "sum(x, axis=0)", fill_sixteenths),
    ONE("sum", "sum_f16", "f16[3, 4, 19]", "sum(x, axis=1)", NULL),
    /* mean */
    ONE("mean", "mean_rows", "f32[4, 384]", "mean(x)", NULL),
    ONE("mean", "mean_axis0", "f32[7, 5]", "mean(x, axis=0)", NULL),
    ONE("mean", "mean_keepdim", "f32[2, 3, 11]", "mean(x, axis=-2, keepdim=true)", NULL),
    ONE("mean", "mean_5m", "f32[1, 5000000]", "mean(x)", fill_sixteenths),
    ONE("mean", "mean_f16", "f16[2, 67]", "mean(x)", NULL),
    /* max */
    ONE("max", "max_one", "f32[1]", "max(x)", NULL),
    ONE("max", "max_rows", "f32[3, 37]", "max(x)", NULL),
    ONE("max", "max_axis1", "f32[2, 9, 13]", "max(x, axis=1)", NULL),
    ONE("max", "max_axis0_keepdim", "f32[70001, 3]", "max(x, axis=0, keepdim=true)", NULL),
    ONE("max", "max_specials", "f32[6, 9]", "max(x)", fill_specials),
    ONE("max", "max_5m", "f32[1, 5000000]", "max(x)", NULL),
    ONE("max", "max_f16", "f16[5, 67]", "max(x, axis=0)", NULL),
    /* argmax */
    ONE("argmax", "argmax_one", "f32[1]", "argmax(x)", NULL),
    ONE("argmax", "argmax_rows", "f32[3, 37]", "argmax(x)", NULL),
    ONE("argmax", "argmax_keepdim", "f32[2, 3, 5]", "argmax(x, keepdim=true)", NULL),
    ONE("argmax", "argmax_many_rows", "f32[1201, 3]", "argmax(x)", fill_ties),
    ONE("argmax", "argmax_ties", "f32[4, 1031]", "argmax(x)", fill_ties),
    ONE("argmax", "argmax_specials", "f32[6, 9]", "argmax(x)", fill_specials),
    ONE("argmax", "argmax_5m_ties", "f32[1, 5000000]", "argmax(x)", fill_ties),
    ONE("argmax", "argmax_f16", "f16[5, 67]", "argmax(x)", NULL),
    /* masked_mean */
    MASKED("masked_mean_i32", "f32[2, 7, 16]", "i32[2, 7]", NULL),
    MASKED("masked_mean_padding", "f32[3, 7, 5]", "i32[3, 7]", fill_padding_7),
    MASKED("masked_mean_encoder", "f32[2, 128, 384]", "i32[2, 128]", fill_padding_128),
    MASKED("masked_mean_float", "f32[3, 5, 384]", "f32[3, 5]", fill_weights),
    MASKED("masked_mean_one_feature", "f32[3, 9, 1]", "i32[3, 9]", NULL),
    MASKED("masked_mean_odd", "f32[5, 13, 7]", "f32[5, 13]", fill_weights),
    MASKED("masked_mean_long", "f32[1, 70001, 2]", "i32[1, 70001]", fill_long_masked),
    MASKED("masked_mean_f16", "f16[2, 11, 24]", "f16[2, 11]", fill_weights),
    {"masked_mean", /* of a node's result, the way an encoder's last layer feeds it */
     "graph masked_mean_of_node\ninput x : f32[2, 7, 16]\ninput m : i32[2, 7]\n"
     "y = l2norm(masked_mean(tanh(x), m))\noutput y\n", fill_padding_7},
    /* l2norm */
    ONE("l2norm", "l2norm_one", "f32[1]", "l2norm(x)", NULL),
    ONE("l2norm", "l2norm_rows", "f32[3, 37]", "l2norm(x)", NULL),
    ONE("l2norm", "l2norm_encoder", "f32[2, 384]", "l2norm(x, eps=1e-12)", NULL),
    ONE("l2norm", "l2norm_many_rows", "f32[1201, 3]", "l2norm(x)", NULL),
    ONE("l2norm", "l2norm_1e20", "f32[3, 384]", "l2norm(x)", fill_x_1e20),
    ONE("l2norm", "l2norm_3e38", "f32[3, 1031]", "l2norm(x)", fill_x_3e38),
    ONE("l2norm", "l2norm_below_eps", "f32[3, 37]", "l2norm(x)", fill_x_1e_20),
    ONE("l2norm", "l2norm_zeros", "f32[2, 5]", "l2norm(x)", fill_zeros),
    ONE("l2norm", "l2norm_large_eps", "f32[4, 3]", "l2norm(x, eps=1.0)", NULL),
    ONE("l2norm", "l2norm_5m", "f32[1, 5000000]", "l2norm(x)", NULL),
    ONE("l2norm", "l2norm_in_place", "f32[5, 77]", "l2norm(l2norm(tanh(x)))", NULL),
    ONE("l2norm", "l2norm_f16", "f16[3, 5, 13]", "l2norm(x)", NULL),
    /* where */
    WHERE("where_same", "i32[3, 37]", "f32[3, 37]", "f32[3, 37]", fill_cond_i32),
    WHERE("where_broadcast", "i32[3, 1]", "f32[4]", "f32[1]", fill_cond_i32),
    WHERE("where_cond_broadcast", "f32[5]", "f32[2, 3, 5]", "f32[2, 1, 5]", fill_cond_float),
    WHERE("where_float_cond", "f32[2, 3, 5]", "f32[2, 3, 5]", "f32[]", fill_cond_float),
    WHERE("where_rank4", "i32[2, 1, 3, 1]", "f32[1, 4, 1, 6]", "f32[2, 4, 3, 6]", NULL),
    WHERE("where_i32", "i32[7, 5]", "i32[7, 5]", "i32[5]", fill_where_ints),
    WHERE("where_many_groups", "i32[70001]", "f32[70001]", "f32[1]", NULL),
    WHERE("where_f16", "f16[3, 8]", "f16[3, 8]", "f16[8]", fill_cond_float),
    /* full */
    FULL("full_f32", "full(shape=[2, 3], value=1.5)"),
    FULL("full_default", "full(shape=[5])"),
    FULL("full_inexact", "full(shape=[7], value=0.1)"),
    FULL("full_f16", "full(shape=[3, 3], value=0.1, dtype=\"f16\")"),
    FULL("full_i32", "full(shape=[4], value=-7, dtype=\"i32\")"),
    FULL("full_i32_max", "full(shape=[2], value=2147483647, dtype=\"i32\")"),
    FULL("full_i32_min", "full(shape=[3, 1], value=-2147483648, dtype=\"i32\")"),
    FULL("full_scalar", "full(shape=[], value=-3.25)"),
    FULL("full_many_groups", "full(shape=[4100, 4100], value=2.5)"),   /* past 65,535 groups */
    {"full", "graph full_operand\ninput x : f32[3, 4]\n"
     "y = where(cast(x, to=\"i32\"), x, full(shape=[4], value=-1e30))\noutput y\n", NULL},
    {NULL, NULL, NULL},
};
