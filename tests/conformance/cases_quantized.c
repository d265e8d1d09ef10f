/* Conformance cases: 8-bit weights (docs/weights.md, "8-bit weights"), i8c and q8_0, as linear's
 * weight and matmul's b (either orientation), with odd shapes (a value count that is no whole
 * number of words, channels past the 4x4 tiles' and the 16-column panels' edges), bias, fused
 * activations, a fused residual, a weight two nodes read (the tiles only), a zero scale, and K
 * split into accumulating steps and into splitk's ranges across q8_0 blocks. Every case runs
 * under tile4 and panels, those whose K splits under splitk too (variants.c); the fused list with
 * fusion on and off. The reference quantizes in double with the same rule, so the tolerance is
 * the gemm's (tolerances.c). */
#include "conformance.h"

#include <string.h>

/* x small integers, w integers in [-127, 127] times 2^-10 with a 127 in every block of 32, so
 * every scale is 2^-10, every value and partial sum exact in f32: a step of a split K that
 * reads the wrong values or scales shows exactly. */
static bool fill_exact_long_k(const char *tensor, double *data, int64_t count)
{
    if (!strcmp(tensor, "x")) {
        for (int64_t i = 0; i < count; i++) data[i] = (double)(i % 5) - 2.0;
        return true;
    }
    if (strcmp(tensor, "w")) return false;
    for (int64_t i = 0; i < count; i++)
        data[i] = (i % 32 == 0 ? 127.0 : (double)((i * 37) % 255) - 127.0) / 1024.0;
    return true;
}

/* w with one channel of zeros (scale 0) and one whose largest magnitude is negative */
static bool fill_zero_channel(const char *tensor, double *data, int64_t count)
{
    if (strcmp(tensor, "w")) return false;
    for (int64_t i = 0; i < 64; i++) data[i] = 0.0;
    data[64] = -3.0;
    (void)count;
    return true;
}

const conformance_case conformance_cases_quantized[] = {
    {"int8",
     "graph i8c_linear_odd\ninput x : f32[3, 7, 45]\nweight w : i8c[13, 45]\n"
     "weight b : f32[13]\ny = linear(x, w, b)\noutput y\n", NULL},
    {"int8",
     "graph q8_0_linear_odd\ninput x : f32[3, 7, 96]\nweight w : q8_0[13, 96]\n"
     "weight b : f32[13]\ny = linear(x, w, b)\noutput y\n", NULL},
    {"int8",
     "graph i8c_linear_one\ninput x : f32[1, 1]\nweight w : i8c[1, 1]\ny = linear(x, w)\n"
     "output y\n", NULL},
    {"int8",
     "graph i8c_zero_channel\ninput x : f32[5, 64]\nweight w : i8c[6, 64]\ny = linear(x, w)\n"
     "output y\n", fill_zero_channel},
    {"int8",
     "graph q8_0_zero_block\ninput x : f32[5, 64]\nweight w : q8_0[6, 64]\ny = linear(x, w)\n"
     "output y\n", fill_zero_channel},
    {"int8",
     "graph i8c_shared\ninput x : f32[5, 24]\ninput u : f32[3, 24]\nweight w : i8c[10, 24]\n"
     "y = linear(x, w)\nz = matmul(u, w, transpose_b=true)\noutput y\noutput z\n", NULL},
    {"int8",
     "graph q8_0_matmul\ninput a : f32[2, 3, 64]\nweight w : q8_0[64, 19]\ny = matmul(a, w)\n"
     "output y\n", NULL},
    {"int8",
     "graph i8c_matmul\ninput a : f32[11, 7]\nweight w : i8c[7, 5]\ny = matmul(a, w)\n"
     "output y\n", NULL},
    {"int8",
     "graph q8_0_matmul_transpose\ninput a : f32[9, 96]\nweight w : q8_0[10, 96]\n"
     "y = matmul(a, w, transpose_b=true)\noutput y\n", NULL},
    {"int8",
     "graph i8c_long_k\ninput x : f32[1, 240001]\nweight w : i8c[2, 240001]\n"
     "y = linear(x, w)\noutput y\n", fill_exact_long_k},
    {NULL, NULL, NULL},
};

/* Fused with an activation or a residual, grouped projections of which some are 8-bit, and the
 * split K cases: run with fusion on and off. */
const conformance_case conformance_cases_quantized_fused[] = {
    {"int8",
     "graph i8c_gelu\ninput x : f32[9, 38]\nweight w : i8c[21, 38]\nweight b : f32[21]\n"
     "y = gelu(linear(x, w, b))\noutput y\n", NULL},
    {"int8",
     "graph q8_0_gelu_tanh\ninput x : f32[9, 64]\nweight w : q8_0[21, 64]\nweight b : f32[21]\n"
     "y = gelu(linear(x, w, b), approximate=\"tanh\")\noutput y\n", NULL},
    {"int8",
     "graph q8_0_silu\ninput x : f32[4, 32]\nweight w : q8_0[17, 32]\n"
     "y = silu(linear(x, w))\noutput y\n", NULL},
    {"int8",
     "graph i8c_relu\ninput x : f32[2, 3, 19]\nweight w : i8c[33, 19]\nweight b : f32[33]\n"
     "y = relu(linear(x, w, b))\noutput y\n", NULL},
    {"int8",
     "graph q8_0_residual\ninput x : f32[6, 128]\ninput r : f32[6, 50]\n"
     "weight w : q8_0[50, 128]\nweight b : f32[50]\ny = add(linear(x, w, b), r)\noutput y\n",
     NULL},
    {"int8",
     "graph i8c_projections\ninput x : f32[8, 32]\nweight wq : i8c[16, 32]\n"
     "weight wk : i8c[16, 32]\nweight wv : f32[16, 32]\nq = linear(x, wq)\n"
     "k = linear(x, wk)\nv = linear(x, wv)\noutput q\noutput k\noutput v\n", NULL},
    {"int8", /* splitk's four ranges of 256 */
     "graph q8_0_splitk\ninput x : f32[1, 1024]\ninput r : f32[1, 48]\n"
     "weight w : q8_0[48, 1024]\nweight b : f32[48]\ny = add(linear(x, w, b), r)\noutput y\n",
     NULL},
    {"int8",
     "graph i8c_splitk_rows\ninput x : f32[3, 2048]\nweight w : i8c[20, 2048]\n"
     "y = silu(linear(x, w))\noutput y\n", NULL},
    {"int8", /* splitk's ranges of 7,501: blocks straddle them, and the steps of one range */
     "graph q8_0_long_k\ninput x : f32[2, 240032]\nweight w : q8_0[3, 240032]\n"
     "weight b : f32[3]\ny = gelu(linear(x, w, b))\noutput y\n", fill_exact_long_k},
    {NULL, NULL, NULL},
};
