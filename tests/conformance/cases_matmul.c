/* Conformance cases: the matmul family (matmul, linear, causal_conv1d). Sizes of 1, primes and
 * other non-multiples of the 4x4 tile, products spanning many work-groups, batch dims that
 * broadcast on either side, transpose_b, linear of every input rank with and without bias, the
 * examples' shapes (encoder projection, decoding step, SNAIL blocks) and f16. The fused list
 * (linear with each activation as the gemm's epilogue, linear + add, groups of projections)
 * runs with fusion on and off. */
#include "conformance.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/* Small integers, different along k, so that a product with K past llvmpipe's loop budget sums
 * exactly in f32 (|partial sums| < 2^24) and a step that reads the wrong range of k shows. */
static bool fill_small_integers(const char *tensor, double *data, int64_t count)
{
    (void)tensor;
    for (int64_t i = 0; i < count; i++) data[i] = (double)(i % 7) - 3.0;
    return true;
}

/* x times 40, so the fused activations reach their tails (exp overflow, tanh and sigmoid
 * saturated, gelu's exact zeros) */
static bool fill_x_large(const char *tensor, double *data, int64_t count)
{
    if (strcmp(tensor, "x")) return false;
    for (int64_t i = 0; i < count; i++) data[i] *= 40.0;
    return true;
}

/* x [2, K] and w [5, K] with K past one step of the gemm (239,988): row 0 of x is all 1 and row 1
 * small integers; w's column n is (n - 2) 2^-18 for the first 240,000 k and (4 - 2n) 2^-18 after,
 * so the first step's sum of an output often has the other sign than the whole sum (an
 * activation applied before the last step shows), and every partial sum is exact in f32. */
static bool fill_long_k(const char *tensor, double *data, int64_t count)
{
    int64_t k = count / (strcmp(tensor, "x") ? 5 : 2);
    if (!strcmp(tensor, "x")) {
        for (int64_t i = 0; i < count; i++) data[i] = i < k ? 1.0 : (double)(i % 3) - 1.0;
        return true;
    }
    if (strcmp(tensor, "w")) return false;
    for (int64_t i = 0; i < count; i++) {
        int64_t n = i / k;
        data[i] = (double)(i % k < 240000 ? n - 2 : 4 - 2 * n) / 262144.0;
    }
    return true;
}

const conformance_case conformance_cases_matmul[] = {
    /* matmul */
    {"matmul",
     "graph matmul_one\ninput a : f32[1, 1]\ninput b : f32[1, 1]\ny = matmul(a, b)\noutput y\n",
     NULL},
    {"matmul",
     "graph matmul_primes\ninput a : f32[7, 13]\ninput b : f32[13, 5]\ny = matmul(a, b)\n"
     "output y\n", NULL},
    {"matmul",
     "graph matmul_k1\ninput a : f32[6, 1]\ninput b : f32[1, 9]\ny = matmul(a, b)\noutput y\n",
     NULL},
    {"matmul",
     "graph matmul_gemv\ninput a : f32[1, 67]\ninput b : f32[67, 1]\ny = matmul(a, b)\n"
     "output y\n", NULL},
    {"matmul",
     "graph matmul_many_groups\ninput a : f32[131, 67]\ninput b : f32[67, 257]\n"
     "y = matmul(a, b)\noutput y\n", NULL},
    {"matmul",
     "graph matmul_transpose\ninput a : f32[3, 10, 22]\ninput b : f32[3, 9, 22]\n"
     "y = matmul(a, b, transpose_b=true)\noutput y\n", NULL},
    {"matmul",
     "graph matmul_broadcast_b\ninput a : f32[2, 3, 5, 7]\ninput b : f32[7, 6]\n"
     "y = matmul(a, b)\noutput y\n", NULL},
    {"matmul",
     "graph matmul_broadcast_both\ninput a : f32[2, 1, 5, 11]\ninput b : f32[3, 11, 6]\n"
     "y = matmul(a, b)\noutput y\n", NULL},
    {"matmul",
     "graph matmul_broadcast_transpose\ninput a : f32[1, 4, 9, 16]\ninput b : f32[2, 1, 13, 16]\n"
     "y = matmul(a, b, transpose_b=true)\noutput y\n", NULL},
    {"matmul", /* more batches than one grid dimension holds: two steps */
     "graph matmul_batches\ninput a : f32[65537, 1, 3]\ninput b : f32[3, 2]\ny = matmul(a, b)\n"
     "output y\n", NULL},
    {"matmul",
     "graph matmul_f16\ninput a : f16[2, 9, 17]\ninput b : f16[2, 17, 11]\ny = matmul(a, b)\n"
     "output y\n", NULL},

    /* linear */
    {"linear",
     "graph linear_one\ninput x : f32[1]\nweight w : f32[1, 1]\nweight b : f32[1]\n"
     "y = linear(x, w, b)\noutput y\n", NULL},
    {"linear",
     "graph linear_primes\ninput x : f32[3, 5, 13]\nweight w : f32[7, 13]\ny = linear(x, w)\n"
     "output y\n", NULL},
    {"linear",
     "graph linear_encoder\ninput x : f32[1, 128, 384]\nweight w : f32[384, 384]\n"
     "weight b : f32[384]\ny = linear(x, w, b)\noutput y\n", NULL},
    {"linear",
     "graph linear_decoding\ninput x : f32[1, 1, 256]\nweight w : f32[512, 256]\n"
     "y = linear(x, w)\noutput y\n", NULL},
    {"linear",
     "graph linear_snail\ninput x : f32[2, 64, 96]\nweight w : f32[32, 96]\n"
     "weight b : f32[32]\ny = linear(x, w, b)\noutput y\n", NULL},
    {"linear",
     "graph linear_rank4\ninput x : f32[2, 2, 3, 10]\nweight w : f32[6, 10]\nweight b : f32[6]\n"
     "y = linear(x, w, b)\noutput y\n", NULL},
    {"linear",
     "graph linear_f16\ninput x : f16[5, 33]\nweight w : f16[18, 33]\nweight b : f16[18]\n"
     "y = linear(x, w, b)\noutput y\n", NULL},

    /* the panels of the fast gemm: rows and columns that are not multiples of its blocks (6 or
     * 8 rows by 16 columns), a weight packed when it is set (linear's [out, in] and matmul's
     * [k, n]), a weight used twice (packed on the device instead), K past llvmpipe's loop
     * budget of 65535 iterations (split into accumulating steps) */
    {"matmul",
     "graph matmul_panels\ninput a : f32[2, 37, 29]\ninput b : f32[2, 29, 45]\ny = matmul(a, b)\n"
     "output y\n", NULL},
    {"matmul",
     "graph matmul_weight_b\ninput a : f32[19, 40]\nweight b : f32[40, 33]\ny = matmul(a, b)\n"
     "output y\n", NULL},
    {"matmul",
     "graph matmul_long_k\ninput a : f32[17, 300001]\ninput b : f32[300001, 3]\n"
     "y = matmul(a, b)\noutput y\n", fill_small_integers},
    {"linear",
     "graph linear_panels\ninput x : f32[23, 70]\nweight w : f32[50, 70]\nweight b : f32[50]\n"
     "y = linear(x, w, b)\noutput y\n", NULL},
    {"linear",
     "graph linear_tied\ninput x : f32[20, 24]\nweight w : f32[17, 24]\ny1 = linear(x, w)\n"
     "y = matmul(y1, w)\noutput y\n", NULL},
    {"linear",
     "graph linear_long_k\ninput x : f32[2, 300001]\nweight w : f32[5, 300001]\n"
     "weight b : f32[5]\ny = linear(x, w, b)\noutput y\n", fill_small_integers},
    /* an f16 result of a K split into steps: summed in f32 and rounded once (exact sums of
     * small integers, so a rounding between the steps shows) */
    {"linear",
     "graph linear_f16_long_k\ninput x : f16[1, 240001]\nweight w : f16[3, 240001]\n"
     "weight b : f16[3]\ny = linear(x, w, b)\noutput y\n", fill_small_integers},
    /* bf16 weights (held 2 bytes a value, read as f32): the tiles, a weight in panels of
     * bf16 halves, matmul's b either way round */
    {"linear",
     "graph linear_bf16\ninput x : f32[5, 33]\nweight w : bf16[18, 33]\nweight b : bf16[18]\n"
     "y = linear(x, w, b)\noutput y\n", NULL},
    {"matmul",
     "graph matmul_bf16_b\ninput a : f32[2, 9, 17]\nweight b : bf16[17, 11]\ny = matmul(a, b)\n"
     "output y\n", NULL},
    {"matmul",
     "graph matmul_bf16_a\nweight a : bf16[7, 19]\ninput b : f32[19, 5]\ny = matmul(a, b)\n"
     "output y\n", NULL},
    /* split K (variant splitk: partial products over ranges of K, summed with the epilogue):
     * one row, a few rows, columns that are not a panel's multiple, a bias, K of 512 to 16384 */
    {"matmul",
     "graph matmul_splitk_gemv\ninput a : f32[1, 4096]\ninput b : f32[4096, 37]\n"
     "y = matmul(a, b)\noutput y\n", NULL},
    {"linear",
     "graph linear_splitk_decoding\ninput x : f32[1, 1, 16384]\nweight w : f32[24, 16384]\n"
     "weight b : f32[24]\ny = linear(x, w, b)\noutput y\n", NULL},
    {"linear",
     "graph linear_splitk_rows\ninput x : f32[3, 512]\nweight w : f32[70, 512]\n"
     "weight b : f32[70]\ny = linear(x, w, b)\noutput y\n", NULL},

    /* causal_conv1d */
    {"causal_conv1d",
     "graph conv1d_one\ninput x : f32[1, 1, 1]\nweight w : f32[1, 1, 1]\n"
     "y = causal_conv1d(x, w)\noutput y\n", NULL},
    {"causal_conv1d",
     "graph conv1d_primes\ninput x : f32[2, 11, 3]\nweight w : f32[5, 3, 3]\nweight b : f32[5]\n"
     "y = causal_conv1d(x, w, b, dilation=2)\noutput y\n", NULL},
    {"causal_conv1d",
     "graph conv1d_past_start\ninput x : f32[1, 5, 4]\nweight w : f32[3, 4, 3]\n"
     "y = causal_conv1d(x, w, dilation=7)\noutput y\n", NULL},
    {"causal_conv1d",
     "graph conv1d_snail\ninput x : f32[2, 64, 32]\nweight w : f32[16, 32, 2]\n"
     "weight b : f32[16]\ny = causal_conv1d(x, w, b, dilation=8)\noutput y\n", NULL},
    {"causal_conv1d",
     "graph conv1d_many_groups\ninput x : f32[3, 130, 7]\nweight w : f32[37, 7, 4]\n"
     "weight b : f32[37]\ny = causal_conv1d(x, w, b, dilation=3)\noutput y\n", NULL},
    {"causal_conv1d",
     "graph conv1d_f16\ninput x : f16[2, 9, 6]\nweight w : f16[5, 6, 2]\nweight b : f16[5]\n"
     "y = causal_conv1d(x, w, b)\noutput y\n", NULL},
    {"causal_conv1d", /* taps x channels past the loop budget: split into accumulating steps */
     "graph conv1d_many_channels\ninput x : f32[1, 3, 70000]\nweight w : f32[2, 70000, 2]\n"
     "weight b : f32[2]\ny = causal_conv1d(x, w, b)\noutput y\n", NULL},
    {"causal_conv1d", /* the same, an f16 result: summed in f32 scratch, rounded once */
     "graph conv1d_f16_many_channels\ninput x : f16[1, 3, 70000]\nweight w : f16[2, 70000, 2]\n"
     "weight b : f16[2]\ny = causal_conv1d(x, w, b)\noutput y\n", NULL},
    {"causal_conv1d",
     "graph conv1d_bf16\ninput x : f32[2, 9, 6]\nweight w : bf16[5, 6, 2]\nweight b : bf16[5]\n"
     "y = causal_conv1d(x, w, b)\noutput y\n", NULL},
    {"causal_conv1d", /* many taps, a few channels each: split over the taps */
     "graph conv1d_many_taps\ninput x : f32[1, 2, 3]\nweight w : f32[2, 3, 40000]\n"
     "y = causal_conv1d(x, w)\noutput y\n", NULL},
    {NULL, NULL, NULL},
};

/* linear + activation, fused into the gemm's epilogue (graphs/lower/fuse.h): every activation with
 * and without bias, edges of the 4x4 tiles and the 16-column panels, the tails, a K split into
 * accumulating steps (the activation in the last one only), linear + add (a residual), and an
 * intermediate that is also an output or read twice (not fused, still right). Run with fusion
 * on and off. */
const conformance_case conformance_cases_matmul_fused[] = {
    /* split K with the epilogue after the sum of the partials: gelu of x times 40 (its tail),
     * and a residual */
    {"linear",
     "graph linear_splitk_gelu\ninput x : f32[2, 2048]\nweight w : f32[19, 2048]\n"
     "weight b : f32[19]\ny = gelu(linear(x, w, b))\noutput y\n", fill_x_large},
    {"linear",
     "graph linear_splitk_residual\ninput x : f32[1, 1024]\ninput r : f32[1, 48]\n"
     "weight w : f32[48, 1024]\ny = add(linear(x, w), r)\noutput y\n", NULL},
    {"linear",
     "graph linear_relu\ninput x : f32[3, 7, 19]\nweight w : f32[21, 19]\nweight b : f32[21]\n"
     "y = relu(linear(x, w, b))\noutput y\n", NULL},
    {"linear",
     "graph linear_relu_nobias\ninput x : f32[9, 19]\nweight w : f32[33, 19]\n"
     "y = relu(linear(x, w))\noutput y\n", NULL},
    {"linear",
     "graph linear_gelu\ninput x : f32[3, 7, 19]\nweight w : f32[21, 19]\nweight b : f32[21]\n"
     "y = gelu(linear(x, w, b))\noutput y\n", NULL},
    {"linear",
     "graph linear_gelu_nobias\ninput x : f32[9, 19]\nweight w : f32[33, 19]\n"
     "y = gelu(linear(x, w))\noutput y\n", NULL},
    {"linear",
     "graph linear_gelu_tanh\ninput x : f32[3, 7, 19]\nweight w : f32[21, 19]\n"
     "weight b : f32[21]\ny = gelu(linear(x, w, b), approximate=\"tanh\")\noutput y\n",
     fill_x_large},
    {"linear",
     "graph linear_gelu_tanh_nobias\ninput x : f32[9, 19]\nweight w : f32[33, 19]\n"
     "y = gelu(linear(x, w), approximate=\"tanh\")\noutput y\n", NULL},
    {"linear",
     "graph linear_silu\ninput x : f32[3, 7, 19]\nweight w : f32[21, 19]\nweight b : f32[21]\n"
     "y = silu(linear(x, w, b))\noutput y\n", fill_x_large},
    {"linear",
     "graph linear_silu_nobias\ninput x : f32[9, 19]\nweight w : f32[33, 19]\n"
     "y = silu(linear(x, w))\noutput y\n", NULL},
    {"linear",
     "graph linear_tanh\ninput x : f32[3, 7, 19]\nweight w : f32[21, 19]\nweight b : f32[21]\n"
     "y = tanh(linear(x, w, b))\noutput y\n", NULL},
    {"linear",
     "graph linear_tanh_nobias\ninput x : f32[9, 19]\nweight w : f32[33, 19]\n"
     "y = tanh(linear(x, w))\noutput y\n", fill_x_large},
    {"linear",
     "graph linear_sigmoid\ninput x : f32[3, 7, 19]\nweight w : f32[21, 19]\n"
     "weight b : f32[21]\ny = sigmoid(linear(x, w, b))\noutput y\n", fill_x_large},
    {"linear",
     "graph linear_sigmoid_nobias\ninput x : f32[9, 19]\nweight w : f32[33, 19]\n"
     "y = sigmoid(linear(x, w))\noutput y\n", NULL},
    {"linear",
     "graph linear_gelu_long_k\ninput x : f32[2, 300001]\nweight w : f32[5, 300001]\n"
     "weight b : f32[5]\ny = gelu(linear(x, w, b))\noutput y\n", fill_long_k},
    /* linear + add: the residual added in the gemm's epilogue, either operand order, a residual
     * made by a node, a K split into steps, and a residual made after the linear (not fused) */
    {"linear",
     "graph linear_add\ninput x : f32[3, 7, 19]\ninput r : f32[3, 7, 21]\nweight w : f32[21, 19]\n"
     "weight b : f32[21]\ny = add(r, linear(x, w, b))\noutput y\n", NULL},
    {"linear",
     "graph linear_add_node\ninput x : f32[9, 19]\nweight w : f32[33, 19]\n"
     "weight v : f32[33, 19]\nr = linear(x, v)\ny = add(linear(x, w), tanh(r))\noutput y\n",
     NULL},
    {"linear",
     "graph linear_add_long_k\ninput x : f32[2, 300001]\ninput r : f32[2, 5]\n"
     "weight w : f32[5, 300001]\nweight b : f32[5]\ny = add(linear(x, w, b), r)\noutput y\n",
     fill_long_k},
    {"linear",
     "graph linear_add_later\ninput x : f32[6, 19]\nweight w : f32[21, 19]\n"
     "h = linear(x, w)\nr = sigmoid(h)\nt = linear(x, w)\ny = add(t, mul(r, h))\noutput y\n",
     NULL},
    {"linear", /* h is an output too: two steps */
     "graph linear_gelu_output\ninput x : f32[6, 19]\nweight w : f32[21, 19]\n"
     "weight b : f32[21]\nh = linear(x, w, b)\ny = gelu(h)\noutput h\noutput y\n", NULL},
    {"linear", /* h read twice: two steps */
     "graph linear_gelu_reused\ninput x : f32[6, 19]\nweight w : f32[21, 19]\n"
     "h = linear(x, w)\ny = mul(gelu(h), h)\noutput y\n", NULL},
    /* projections: linears of one input as one gemm over their weights side by side, each
     * result its own matrix; 3 and 2 of them, with and without biases, OUTs that differ, rows
     * past the panels' blocks, a K split into steps; and linears that must stay apart (an OUT
     * not a multiple of 16, a weight read twice, a bias on some only), still right */
    {"linear",
     "graph proj_qkv\ninput x : f32[3, 7, 24]\nweight wq : f32[32, 24]\nweight bq : f32[32]\n"
     "weight wk : f32[16, 24]\nweight bk : f32[16]\nweight wv : f32[48, 24]\n"
     "weight bv : f32[48]\nq = linear(x, wq, bq)\nk = linear(x, wk, bk)\nv = linear(x, wv, bv)\n"
     "y = concat(q, k, v, axis=2)\noutput y\n", NULL},
    {"linear",
     "graph proj_qkv_nobias\ninput x : f32[5, 40]\nweight wq : f32[64, 40]\n"
     "weight wk : f32[64, 40]\nweight wv : f32[16, 40]\nq = linear(x, wq)\nk = linear(x, wk)\n"
     "v = linear(x, wv)\ny = concat(mul(q, k), v, axis=1)\noutput y\n", NULL},
    {"linear",
     "graph proj_two\ninput x : f32[9, 19]\nweight wk : f32[16, 19]\nweight bk : f32[16]\n"
     "weight wv : f32[32, 19]\nweight bv : f32[32]\nk = linear(x, wk, bk)\n"
     "v = linear(x, wv, bv)\ny = concat(v, k, axis=1)\noutput y\n", NULL},
    {"linear",
     "graph proj_two_long_k\ninput x : f32[2, 240001]\nweight wk : f32[16, 240001]\n"
     "weight bk : f32[16]\nweight wv : f32[32, 240001]\nweight bv : f32[32]\n"
     "k = linear(x, wk, bk)\nv = linear(x, wv, bv)\ny = concat(k, v, axis=1)\noutput y\n",
     fill_small_integers},
    {"linear", /* q's OUT is 20: q apart, k alone, no group */
     "graph proj_out_20\ninput x : f32[6, 19]\nweight wq : f32[20, 19]\n"
     "weight wk : f32[16, 19]\nq = linear(x, wq)\nk = linear(x, wk)\n"
     "y = concat(q, k, axis=1)\noutput y\n", NULL},
    {"linear", /* w read twice: k and v fuse, q and z stay apart */
     "graph proj_weight_twice\ninput x : f32[6, 19]\nweight w : f32[16, 19]\n"
     "weight wk : f32[16, 19]\nweight wv : f32[32, 19]\nq = linear(x, w)\n"
     "k = linear(x, wk)\nv = linear(x, wv)\nz = linear(x, w)\n"
     "y = concat(q, k, v, z, axis=1)\noutput y\n", NULL},
    {"linear", /* k has no bias: q and v fuse */
     "graph proj_bias_some\ninput x : f32[6, 19]\nweight wq : f32[16, 19]\n"
     "weight bq : f32[16]\nweight wk : f32[16, 19]\nweight wv : f32[32, 19]\n"
     "weight bv : f32[32]\nq = linear(x, wq, bq)\nk = linear(x, wk)\nv = linear(x, wv, bv)\n"
     "y = concat(q, k, v, axis=1)\noutput y\n", NULL},
    {NULL, NULL, NULL},
};
