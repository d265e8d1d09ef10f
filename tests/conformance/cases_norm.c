/* Conformance cases: the norm family (softmax, layernorm, rmsnorm). Rows of length 1, primes,
 * rows longer than a work-group and many short rows sharing groups; softmax with float and i32
 * masks broadcast from lower ranks, causal with Sq < Sk and Sq > Sk, fully masked rows (by mask,
 * by causal, by -inf inputs), inputs of magnitude 1e4 and -inf; norms far from 0; f16. The fused
 * list (an add read only by the norm, fused into it) runs with fusion on and off. */
#include "conformance.h"

#include <math.h>
#include <string.h>

/* x [.., 48]: rows alternate between values 1e4 + [-4, 4) and -1e4 + [-4, 4) (exact in f32, so
 * are the differences within a row), every 5th entry [-4, 4) instead: 1e4 below the others in
 * the first kind of row, 1e4 above them in the second. */
static bool fill_x_large(const char *tensor, double *data, int64_t count)
{
    if (strcmp(tensor, "x")) return false;
    for (int64_t n = 0; n < count; n++) {
        double base = (n / 48) % 2 ? -1e4 : 1e4;
        data[n] = (n % 5 == 0 ? 0.0 : base) + 4.0 * data[n];
    }
    return true;
}

/* Sets entries of a tensor of rows of `cols` to `value`: every `every`th entry (0: none) and every
 * entry of the rows r with r % period == row. */
static void mark(double *data, int64_t count, int64_t every, int64_t cols, int64_t period,
                 int64_t row, double value)
{
    for (int64_t n = 0; n < count; n++)
        if ((every && n % every == 0) || n / cols % period == row) data[n] = value;
}

/* x [.., 11]: every 3rd entry -inf, and row 2 entirely -inf. */
static bool fill_x_neg_inf(const char *tensor, double *data, int64_t count)
{
    if (strcmp(tensor, "x")) return false;
    mark(data, count, 3, 11, count, 2, -INFINITY);
    return true;
}

/* An i32 mask [.., 6] whose rows 1, 6, 11, ... are all 0 (masked out), the others keeping the
 * seed's values (integers in [0, 8), so about one in eight masked). */
static bool fill_mask_i32_rows(const char *tensor, double *data, int64_t count)
{
    if (strcmp(tensor, "m")) return false;
    mark(data, count, 0, 6, 5, 1, 0.0);
    return true;
}

/* A float mask [.., 9]: every 4th entry -inf, row 1 entirely -inf, the rest in [-1, 1). */
static bool fill_mask_float_inf(const char *tensor, double *data, int64_t count)
{
    if (strcmp(tensor, "m")) return false;
    mark(data, count, 4, 9, count, 1, -INFINITY);
    return true;
}

/* x far from 0: 1e4 + [-1, 1) and 100 + [-1, 1), alternating rows of 384. */
static bool fill_x_offset(const char *tensor, double *data, int64_t count)
{
    if (strcmp(tensor, "x")) return false;
    for (int64_t n = 0; n < count; n++) data[n] += (n / 384) % 2 ? 100.0 : 1e4;
    return true;
}

/* x [.., 384] of magnitude `scale` times the seed's [-1, 1): the squares overflow f32. */
static void scale_x(double *data, int64_t count, double scale)
{
    for (int64_t n = 0; n < count; n++) data[n] *= scale;
}
static bool fill_x_1e20(const char *tensor, double *data, int64_t count)
{
    if (strcmp(tensor, "x")) return false;
    scale_x(data, count, 1e20);
    return true;
}
static bool fill_x_3e38(const char *tensor, double *data, int64_t count)
{
    if (strcmp(tensor, "x")) return false;
    scale_x(data, count, 3e38);
    return true;
}

const conformance_case conformance_cases_norm[] = {
    /* softmax */
    {"softmax", "graph softmax_one\ninput x : f32[1]\ny = softmax(x)\noutput y\n", NULL},
    {"softmax", "graph softmax_small\ninput x : f32[2, 7]\ny = softmax(x, scale=0.5)\noutput y\n",
     NULL},
    {"softmax", "graph softmax_long\ninput x : f32[3, 1031]\ny = softmax(x, scale=3.0)\noutput y\n",
     NULL},
    {"softmax", "graph softmax_many_rows\ninput x : f32[1201, 3]\ny = softmax(x)\noutput y\n",
     NULL},
    {"softmax",
     "graph softmax_mask_float\ninput x : f32[2, 3, 4, 9]\ninput m : f32[3, 1, 9]\n"
     "y = softmax(x, m, scale=0.25)\noutput y\n", fill_mask_float_inf},
    {"softmax",
     "graph softmax_mask_i32\ninput x : f32[2, 5, 6]\ninput m : i32[2, 5, 6]\n"
     "y = softmax(x, mask=m)\noutput y\n", fill_mask_i32_rows},
    {"softmax",
     "graph softmax_mask_i32_broadcast\ninput x : f32[2, 2, 5, 6]\ninput m : i32[2, 1, 5, 1]\n"
     "y = softmax(x, mask=m)\noutput y\n", NULL},
    {"softmax",
     "graph softmax_causal_wide\ninput x : f32[2, 3, 5, 9]\ny = softmax(x, causal=true)\n"
     "output y\n", NULL},
    {"softmax",
     "graph softmax_causal_tall\ninput x : f32[6, 4]\ny = softmax(x, causal=true)\noutput y\n",
     NULL},
    {"softmax",
     "graph softmax_causal_mask\ninput x : f32[3, 7, 7]\ninput m : f32[7]\n"
     "y = softmax(x, m, causal=true, scale=2.0)\noutput y\n", NULL},
    {"softmax", "graph softmax_large\ninput x : f32[4, 48]\ny = softmax(x)\noutput y\n",
     fill_x_large},
    {"softmax",
     "graph softmax_neg_inf\ninput x : f32[4, 11]\ny = softmax(x, scale=0.5)\noutput y\n",
     fill_x_neg_inf},
    {"softmax", /* the middle softmax writes over its operand (in place) */
     "graph softmax_in_place\ninput x : f32[5, 77]\n"
     "y = softmax(softmax(softmax(x, scale=4.0), scale=50.0))\noutput y\n", NULL},
    {"softmax",
     "graph softmax_f16\ninput x : f16[3, 4, 19]\ninput m : f16[4, 19]\n"
     "y = softmax(x, m, causal=true)\noutput y\n", NULL},

    /* layernorm */
    {"layernorm",
     "graph layernorm_one\ninput x : f32[1]\nweight g : f32[1]\nweight b : f32[1]\n"
     "y = layernorm(x, g, b)\noutput y\n", NULL},
    {"layernorm",
     "graph layernorm_small\ninput x : f32[2, 7]\nweight g : f32[7]\n"
     "y = layernorm(x, g)\noutput y\n", NULL},
    {"layernorm",
     "graph layernorm_encoder\ninput x : f32[1, 37, 384]\nweight g : f32[384]\n"
     "weight b : f32[384]\ny = layernorm(x, g, b, eps=1e-12)\noutput y\n", NULL},
    {"layernorm",
     "graph layernorm_long\ninput x : f32[2, 1031]\nweight g : f32[1031]\nweight b : f32[1031]\n"
     "y = layernorm(x, g, b)\noutput y\n", NULL},
    {"layernorm",
     "graph layernorm_many_rows\ninput x : f32[3, 401, 5]\nweight g : f32[5]\nweight b : f32[5]\n"
     "y = layernorm(x, g, b, eps=0.01)\noutput y\n", NULL},
    {"layernorm",
     "graph layernorm_offset\ninput x : f32[4, 384]\nweight g : f32[384]\nweight b : f32[384]\n"
     "y = layernorm(x, g, b)\noutput y\n", fill_x_offset},
    {"layernorm",
     "graph layernorm_f16\ninput x : f16[5, 67]\nweight g : f16[67]\nweight b : f16[67]\n"
     "y = layernorm(x, g, b)\noutput y\n", NULL},
    {"layernorm",
     "graph layernorm_bf16\ninput x : f32[5, 67]\nweight g : bf16[67]\nweight b : bf16[67]\n"
     "y = layernorm(x, g, b)\noutput y\n", NULL},

    /* rmsnorm */
    {"rmsnorm",
     "graph rmsnorm_one\ninput x : f32[1]\nweight g : f32[1]\ny = rmsnorm(x, g)\noutput y\n",
     NULL},
    {"rmsnorm",
     "graph rmsnorm_decoder\ninput x : f32[1, 1, 256]\nweight g : f32[256]\n"
     "y = rmsnorm(x, g)\noutput y\n", NULL},
    {"rmsnorm",
     "graph rmsnorm_long\ninput x : f32[3, 1031]\nweight g : f32[1031]\n"
     "y = rmsnorm(x, g, eps=1e-3)\noutput y\n", NULL},
    {"rmsnorm",
     "graph rmsnorm_many_rows\ninput x : f32[2, 3, 211, 7]\nweight g : f32[7]\n"
     "y = rmsnorm(x, g)\noutput y\n", NULL},
    {"rmsnorm",
     "graph rmsnorm_offset\ninput x : f32[2, 384]\nweight g : f32[384]\n"
     "y = rmsnorm(x, g)\noutput y\n", fill_x_offset},
    {"rmsnorm", /* more rows than one grid dimension holds */
     "graph rmsnorm_rows_2d_grid\ninput x : f32[65600, 64]\nweight g : f32[64]\n"
     "y = rmsnorm(x, g)\noutput y\n", NULL},
    {"layernorm", /* the middle norm writes over its operand (in place) */
     "graph norms_in_place\ninput x : f32[6, 40]\nweight g : f32[40]\nweight b : f32[40]\n"
     "y = layernorm(rmsnorm(layernorm(x, g), g), g, b)\noutput y\n", NULL},
    /* magnitudes whose squares overflow f32 */
    {"layernorm",
     "graph layernorm_1e20\ninput x : f32[3, 384]\nweight g : f32[384]\nweight b : f32[384]\n"
     "y = layernorm(x, g, b)\noutput y\n", fill_x_1e20},
    {"layernorm",
     "graph layernorm_3e38\ninput x : f32[3, 1031]\nweight g : f32[1031]\n"
     "weight b : f32[1031]\ny = layernorm(x, g, b)\noutput y\n", fill_x_3e38},
    {"rmsnorm",
     "graph rmsnorm_1e20\ninput x : f32[3, 384]\nweight g : f32[384]\ny = rmsnorm(x, g)\n"
     "output y\n", fill_x_1e20},
    {"rmsnorm",
     "graph rmsnorm_3e38\ninput x : f32[3, 1031]\nweight g : f32[1031]\ny = rmsnorm(x, g)\n"
     "output y\n", fill_x_3e38},
    {"softmax", /* one row past one invocation's loop budget */
     "graph softmax_5m\ninput x : f32[1, 5000000]\ny = softmax(x)\noutput y\n", NULL},
    {"rmsnorm",
     "graph rmsnorm_f16\ninput x : f16[3, 5, 13]\nweight g : f16[13]\n"
     "y = rmsnorm(x, g)\noutput y\n", NULL},
    {NULL, NULL, NULL},
};

/* x [.., 384] far from 0 as in fill_x_offset and r multiples of 1/16 in [-0.5, 0.5): every sum is
 * exact in f32 (a multiple of the ulp of x near 1e4), so the norm's precision shows rather than
 * the rounding of the sum, which the reference does not have. */
static bool fill_sum_offset(const char *tensor, double *data, int64_t count)
{
    if (!strcmp(tensor, "x")) return fill_x_offset(tensor, data, count);
    if (strcmp(tensor, "r")) return false;
    for (int64_t n = 0; n < count; n++) data[n] = floor(data[n] * 8.0) / 16.0;
    return true;
}

/* add + layernorm and add + rmsnorm fused into one norm step (graphs/lower/fuse.h): two inputs,
 * an input and a node result (the encoder's residual, either order; the node's storage taken
 * in place), long rows with a tail, a sum far from 0, and a sum also read elsewhere or an output
 * (not fused, still right). Run with fusion on and off. */
const conformance_case conformance_cases_norm_fused[] = {
    {"layernorm",
     "graph add_layernorm\ninput x : f32[1, 37, 384]\ninput r : f32[1, 37, 384]\n"
     "weight g : f32[384]\nweight b : f32[384]\ny = layernorm(add(x, r), g, b, eps=1e-12)\n"
     "output y\n", NULL},
    {"layernorm",
     "graph add_layernorm_node\ninput x : f32[3, 401, 5]\ninput r : f32[3, 401, 5]\n"
     "weight g : f32[5]\ny = layernorm(add(x, tanh(r)), g, eps=0.01)\noutput y\n", NULL},
    {"layernorm",
     "graph add_layernorm_offset\ninput x : f32[4, 384]\ninput r : f32[4, 384]\n"
     "weight g : f32[384]\nweight b : f32[384]\ny = layernorm(add(x, r), g, b)\noutput y\n",
     fill_sum_offset},
    {"rmsnorm",
     "graph add_rmsnorm_offset\ninput x : f32[2, 384]\ninput r : f32[2, 384]\n"
     "weight g : f32[384]\ny = rmsnorm(add(r, x), g)\noutput y\n", fill_sum_offset},
    {"rmsnorm",
     "graph add_rmsnorm\ninput x : f32[3, 1031]\ninput r : f32[3, 1031]\nweight g : f32[1031]\n"
     "y = rmsnorm(add(x, r), g, eps=1e-3)\noutput y\n", NULL},
    {"rmsnorm",
     "graph add_rmsnorm_node\ninput x : f32[2, 3, 211, 7]\ninput r : f32[2, 3, 211, 7]\n"
     "weight g : f32[7]\ny = rmsnorm(add(sigmoid(x), r), g)\noutput y\n", NULL},
    {"layernorm", /* a sum whose squares overflow f32 */
     "graph add_layernorm_3e38\ninput x : f32[2, 384]\ninput r : f32[2, 384]\n"
     "weight g : f32[384]\ny = layernorm(add(x, r), g)\noutput y\n", fill_x_3e38},
    {"rmsnorm",
     "graph add_rmsnorm_1e20\ninput x : f32[2, 384]\ninput r : f32[2, 384]\n"
     "weight g : f32[384]\ny = rmsnorm(add(x, r), g)\noutput y\n", fill_x_1e20},
    {"layernorm", /* the sum is an output too: two steps */
     "graph add_layernorm_output\ninput x : f32[5, 67]\ninput r : f32[5, 67]\n"
     "weight g : f32[67]\nweight b : f32[67]\ns = add(x, r)\ny = layernorm(s, g, b)\n"
     "output s\noutput y\n", NULL},
    {"rmsnorm", /* the sum read twice (a pre-norm residual): two steps */
     "graph add_rmsnorm_reused\ninput x : f32[5, 67]\ninput r : f32[5, 67]\n"
     "weight g : f32[67]\ns = add(x, r)\ny = add(rmsnorm(s, g), s)\noutput y\n", NULL},
    {NULL, NULL, NULL},
};
