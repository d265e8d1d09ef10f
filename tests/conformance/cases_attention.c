/* Conformance cases: the attention family (sdpa, attention, additive_attention,
 * luong_attention). Shapes cover causal masks with Sq = Sk, Sq < Sk and Sq > Sk (rows with no
 * visible key), float and i32 masks broadcast from ranks 1 to 4, fully masked rows, masked keys
 * holding inf, grouped K/V heads, odd, prime and unit head dims, value widths over several
 * chunks, keys split over invocations (decoding against a long cache, and a head dim past
 * llvmpipe's loop budget), large scores, the examples' shapes and f16. */
#include "conformance.h"

#include <math.h>
#include <string.h>

/* i32 padding masks [B, ..., Sk] (broadcast over heads and rows): batch b keeps its first
 * keep[b] keys. */
static void padding(double *data, int64_t count, int64_t kv_len, const int64_t *keep)
{
    for (int64_t n = 0; n < count; n++) data[n] = n % kv_len < keep[n / kv_len] ? 1.0 : 0.0;
}

#define PADDING_FILL(fn, name, kv_len, ...) \
    static bool fn(const char *tensor, double *data, int64_t count) \
    { \
        static const int64_t keep[] = {__VA_ARGS__}; \
        if (strcmp(tensor, name)) return false; \
        padding(data, count, kv_len, keep); \
        return true; \
    }

/* decoder_kv_cache: 40 of 64 cache slots filled */
PADDING_FILL(fill_cache_filled, "filled", 64, 40)
/* encoder_layer: a sentence of 100 tokens and 28 of padding */
PADDING_FILL(fill_encoder_keep, "keep", 128, 100)
/* bahdanau_step: source sentences of 20, 13, 1 and 7 tokens */
PADDING_FILL(fill_bahdanau_valid, "valid", 20, 20, 13, 1, 7)
/* a 700-slot cache with 650 filled, read with its keys split over invocations */
PADDING_FILL(fill_split_keep, "mask", 700, 650)
/* [2, 1, 1, 9]: the second batch has no key at all (every row fully masked) */
PADDING_FILL(fill_pad_empty, "mask", 9, 6, 0)

/* A float mask [.., Sq, Sk] of -inf and the seed's values in [-1, 1): every 3rd entry -inf and
 * row 1 (of every head and batch) entirely -inf; with `empty`, the second half (the last batch)
 * -inf throughout. */
static void float_mask(double *data, int64_t count, int64_t q_len, int64_t kv_len, bool empty)
{
    for (int64_t n = 0; n < count; n++)
        if (n % 3 == 0 || n / kv_len % q_len == 1 || (empty && n >= count / 2))
            data[n] = -INFINITY;
}

#define FLOAT_MASK_FILL(fn, q_len, kv_len, empty) \
    static bool fn(const char *tensor, double *data, int64_t count) \
    { \
        if (strcmp(tensor, "mask")) return false; \
        float_mask(data, count, q_len, kv_len, empty); \
        return true; \
    }

FLOAT_MASK_FILL(fill_mask_4x9, 4, 9, false)
FLOAT_MASK_FILL(fill_mask_3x11, 3, 11, false)
FLOAT_MASK_FILL(fill_mask_2x520, 2, 520, true)
FLOAT_MASK_FILL(fill_mask_16x24, 16, 24, false)

/* Keys and values [.., 40, 8] that are +inf at every 5th key, which the i32 mask [40] hides:
 * a masked key must add exactly nothing. */
static bool fill_hidden_inf(const char *tensor, double *data, int64_t count)
{
    bool mask = !strcmp(tensor, "mask");
    if (!mask && strcmp(tensor, "k") && strcmp(tensor, "v")) return false;
    for (int64_t n = 0; n < count; n++) {
        bool hidden = (mask ? n : n / 8) % 40 % 5 == 2;
        if (mask) data[n] = hidden ? 0.0 : 1.0;
        else if (hidden) data[n] = INFINITY;
    }
    return true;
}

/* i32 mask [.., 5, 12] with row 1 all zeros (masked out) and scattered zeros elsewhere. */
static bool fill_int_rows(const char *tensor, double *data, int64_t count)
{
    if (strcmp(tensor, "mask")) return false;
    for (int64_t n = 0; n < count; n++)
        data[n] = (n / 12 % 5 == 1 || n % 7 == 3) ? 0.0 : (double)(n % 5 + 1);
    return true;
}

/* Large scores: q scaled to [-12, 12), so e^score overflows without the running maximum. */
static bool fill_large_q(const char *tensor, double *data, int64_t count)
{
    if (strcmp(tensor, "q")) return false;
    for (int64_t n = 0; n < count; n++) data[n] = (double)((n * 37) % 97) / 97.0 * 24.0 - 12.0;
    return true;
}

const conformance_case conformance_cases_attention[] = {
    /* ---- sdpa [B, H, S, D] ---- */
    {"sdpa", "graph sdpa_plain\n"
             "input q : f32[2, 3, 5, 8]\ninput k : f32[2, 3, 7, 8]\ninput v : f32[2, 3, 7, 8]\n"
             "y = sdpa(q, k, v)\noutput y\n", NULL},
    {"sdpa", "graph sdpa_causal_square\n"
             "input q : f32[1, 2, 9, 16]\ninput k : f32[1, 2, 9, 16]\ninput v : f32[1, 2, 9, 16]\n"
             "y = sdpa(q, k, v, causal=true)\noutput y\n", NULL},
    /* Sq > Sk: rows 0 and 1 see no key (i + Sk - Sq < 0) and give zeros */
    {"sdpa", "graph sdpa_causal_more_queries\n"
             "input q : f32[1, 2, 7, 4]\ninput k : f32[1, 2, 5, 4]\ninput v : f32[1, 2, 5, 6]\n"
             "y = sdpa(q, k, v, causal=true)\noutput y\n", NULL},
    {"sdpa", "graph sdpa_causal_fewer_queries\n"
             "input q : f32[2, 2, 3, 8]\ninput k : f32[2, 2, 10, 8]\ninput v : f32[2, 2, 10, 8]\n"
             "y = sdpa(q, k, v, causal=true, scale=0.3)\noutput y\n", NULL},
    /* decoder_kv_cache's read: 8 query heads on 2 K/V heads, one query, a 64-slot cache */
    {"sdpa", "graph sdpa_decode_cache\n"
             "input q : f32[1, 8, 1, 32]\ninput k : f32[1, 2, 64, 32]\n"
             "input v : f32[1, 2, 64, 32]\ninput filled : i32[1, 1, 1, 64]\n"
             "y = sdpa(q, k, v, mask=filled)\noutput y\n", fill_cache_filled},
    {"sdpa", "graph sdpa_grouped_4_on_1\n"
             "input q : f32[2, 4, 6, 8]\ninput k : f32[2, 1, 6, 8]\ninput v : f32[2, 1, 6, 5]\n"
             "y = sdpa(q, k, v, causal=true)\noutput y\n", NULL},
    /* float mask [B, 1, Sq, Sk]: -inf entries and a fully masked row 1 */
    {"sdpa", "graph sdpa_float_mask_rows\n"
             "input q : f32[2, 2, 4, 8]\ninput k : f32[2, 2, 9, 8]\ninput v : f32[2, 2, 9, 8]\n"
             "input mask : f32[2, 1, 4, 9]\n"
             "y = sdpa(q, k, v, mask)\noutput y\n", fill_mask_4x9},
    /* float mask [Sq, Sk] of plain values, broadcast over batch and heads */
    {"sdpa", "graph sdpa_float_mask_2d\n"
             "input q : f32[2, 2, 4, 8]\ninput k : f32[2, 2, 9, 8]\ninput v : f32[2, 2, 9, 8]\n"
             "input mask : f32[4, 9]\n"
             "y = sdpa(q, k, v, mask, causal=true)\noutput y\n", NULL},
    /* i32 mask [B, H, Sq, Sk] with a fully masked row, and one [Sk] broadcast from rank 1 */
    {"sdpa", "graph sdpa_int_mask_rows\n"
             "input q : f32[1, 3, 5, 7]\ninput k : f32[1, 3, 12, 7]\ninput v : f32[1, 3, 12, 7]\n"
             "input mask : i32[1, 3, 5, 12]\n"
             "y = sdpa(q, k, v, mask)\noutput y\n", fill_int_rows},
    {"sdpa", "graph sdpa_int_mask_rank1\n"
             "input q : f32[2, 2, 3, 8]\ninput k : f32[2, 2, 12, 8]\ninput v : f32[2, 2, 12, 8]\n"
             "input mask : i32[12]\n"
             "y = sdpa(q, k, v, mask)\noutput y\n", NULL},
    {"sdpa", "graph sdpa_padding_empty_batch\n"
             "input q : f32[2, 2, 3, 8]\ninput k : f32[2, 2, 9, 8]\ninput v : f32[2, 2, 9, 8]\n"
             "input mask : i32[2, 1, 1, 9]\n"
             "y = sdpa(q, k, v, mask)\noutput y\n", fill_pad_empty},
    /* head dims: odd, prime, 1, 100; value widths 1, 13, 3 */
    {"sdpa", "graph sdpa_dims_7_1\n"
             "input q : f32[1, 2, 5, 7]\ninput k : f32[1, 2, 6, 7]\ninput v : f32[1, 2, 6, 1]\n"
             "y = sdpa(q, k, v, causal=true)\noutput y\n", NULL},
    {"sdpa", "graph sdpa_dims_1_13\n"
             "input q : f32[2, 1, 4, 1]\ninput k : f32[2, 1, 5, 1]\ninput v : f32[2, 1, 5, 13]\n"
             "y = sdpa(q, k, v)\noutput y\n", NULL},
    {"sdpa", "graph sdpa_dims_100_3\n"
             "input q : f32[1, 2, 3, 100]\ninput k : f32[1, 2, 70, 100]\n"
             "input v : f32[1, 2, 70, 3]\n"
             "y = sdpa(q, k, v)\noutput y\n", NULL},
    /* 1100 value features: more than one work-group's share, split over z */
    {"sdpa", "graph sdpa_wide_values\n"
             "input q : f32[1, 1, 2, 4]\ninput k : f32[1, 1, 3, 4]\ninput v : f32[1, 1, 3, 1100]\n"
             "y = sdpa(q, k, v)\noutput y\n", NULL},
    /* several key blocks per row, many work-groups, D = Dv = 128 */
    {"sdpa", "graph sdpa_long_keys\n"
             "input q : f32[2, 2, 24, 16]\ninput k : f32[2, 2, 300, 16]\n"
             "input v : f32[2, 2, 300, 16]\n"
             "y = sdpa(q, k, v, causal=true)\noutput y\n", NULL},
    {"sdpa", "graph sdpa_dims_128\n"
             "input q : f32[1, 2, 20, 128]\ninput k : f32[1, 2, 140, 128]\n"
             "input v : f32[1, 2, 140, 128]\n"
             "y = sdpa(q, k, v)\noutput y\n", NULL},
    /* decoding over a long cache: the keys split over invocations, then merged; Dv = 80 takes
     * two feature chunks */
    {"sdpa", "graph sdpa_split_decode\n"
             "input q : f32[1, 4, 1, 24]\ninput k : f32[1, 2, 700, 24]\n"
             "input v : f32[1, 2, 700, 80]\ninput mask : i32[1, 1, 1, 700]\n"
             "y = sdpa(q, k, v, mask)\noutput y\n", fill_split_keep},
    /* split keys with causal rows, -inf entries, and a batch whose rows see no key at all */
    {"sdpa", "graph sdpa_split_masked\n"
             "input q : f32[2, 1, 2, 8]\ninput k : f32[2, 1, 520, 8]\n"
             "input v : f32[2, 1, 520, 8]\ninput mask : f32[2, 1, 2, 520]\n"
             "y = sdpa(q, k, v, mask, causal=true)\noutput y\n", fill_mask_2x520},
    /* a head dim of 2000 over 200 keys: more loop iterations than llvmpipe runs in one
     * invocation, so the keys are split for that alone */
    {"sdpa", "graph sdpa_head_2000\n"
             "input q : f32[1, 2, 2, 2000]\ninput k : f32[1, 1, 200, 2000]\n"
             "input v : f32[1, 1, 200, 5]\n"
             "y = sdpa(q, k, v, scale=0.01)\noutput y\n", NULL},
    {"sdpa", "graph sdpa_hidden_inf\n"
             "input q : f32[1, 2, 3, 8]\ninput k : f32[1, 1, 40, 8]\ninput v : f32[1, 1, 40, 8]\n"
             "input mask : i32[40]\n"
             "y = sdpa(q, k, v, mask)\noutput y\n", fill_hidden_inf},
    {"sdpa", "graph sdpa_large_scores\n"
             "input q : f32[1, 2, 6, 16]\ninput k : f32[1, 2, 80, 16]\n"
             "input v : f32[1, 2, 80, 16]\n"
             "y = sdpa(q, k, v, scale=1.0)\noutput y\n", fill_large_q},
    {"sdpa", "graph sdpa_f16\n"
             "input q : f16[1, 4, 4, 16]\ninput k : f16[1, 2, 9, 16]\ninput v : f16[1, 2, 9, 8]\n"
             "input mask : f16[4, 9]\n"
             "y = sdpa(q, k, v, mask, causal=true)\noutput y\n", fill_mask_4x9},

    /* ---- attention [B, S, H * D] ---- */
    /* encoder_layer's attention: 12 heads of 32, 28 padding keys */
    {"attention", "graph attention_encoder\n"
                  "input q : f32[1, 128, 384]\ninput k : f32[1, 128, 384]\n"
                  "input v : f32[1, 128, 384]\ninput keep : i32[1, 1, 1, 128]\n"
                  "y = attention(q, k, v, mask=keep, heads=12)\noutput y\n",
     fill_encoder_keep},
    /* snail_block's read: one head, causal */
    {"attention", "graph attention_snail\n"
                  "input q : f32[2, 64, 32]\ninput k : f32[2, 64, 32]\ninput v : f32[2, 64, 32]\n"
                  "y = attention(q, k, v, heads=1, causal=true)\noutput y\n", NULL},
    {"attention", "graph attention_grouped_8_on_2\n"
                  "input q : f32[2, 6, 32]\ninput k : f32[2, 6, 8]\ninput v : f32[2, 6, 8]\n"
                  "y = attention(q, k, v, heads=8, kv_heads=2, causal=true)\noutput y\n", NULL},
    /* Sq != Sk, Dv != D (4 heads of 5 on 2 K/V heads of 5 and 3), float mask [B, H, Sq, Sk] */
    {"attention", "graph attention_mask_dv\n"
                  "input q : f32[2, 3, 20]\ninput k : f32[2, 11, 10]\ninput v : f32[2, 11, 6]\n"
                  "input mask : f32[2, 4, 3, 11]\n"
                  "y = attention(q, k, v, mask, heads=4, kv_heads=2)\noutput y\n",
     fill_mask_3x11},
    {"attention", "graph attention_decode\n"
                  "input q : f32[3, 1, 32]\ninput k : f32[3, 50, 32]\ninput v : f32[3, 50, 32]\n"
                  "input mask : i32[3, 1, 1, 50]\n"
                  "y = attention(q, k, v, mask, heads=4, causal=true)\noutput y\n", NULL},
    {"attention", "graph attention_f16\n"
                  "input q : f16[2, 7, 24]\ninput k : f16[2, 7, 24]\ninput v : f16[2, 7, 24]\n"
                  "y = attention(q, k, v, heads=3, causal=true)\noutput y\n", NULL},

    /* ---- luong_attention [B, T, D] ---- */
    /* memnet_hop's read */
    {"luong_attention", "graph luong_memnet\n"
                        "input u : f32[2, 1, 64]\ninput m : f32[2, 10, 64]\n"
                        "input c : f32[2, 10, 64]\n"
                        "o = luong_attention(u, m, c, score=\"dot\")\noutput o\n", NULL},
    {"luong_attention", "graph luong_dot_mask_scale\n"
                        "input q : f32[2, 3, 9]\ninput k : f32[2, 7, 9]\ninput v : f32[2, 7, 5]\n"
                        "input mask : i32[2, 1, 7]\n"
                        "o = luong_attention(q, k, v, mask=mask, scale=0.25)\noutput o\n", NULL},
    /* luong_step's score */
    {"luong_attention", "graph luong_general_step\n"
                        "input ht : f32[4, 1, 256]\ninput hs : f32[4, 30, 256]\n"
                        "weight wa : f32[256, 256]\n"
                        "c = luong_attention(ht, hs, hs, wa, score=\"general\")\noutput c\n",
     NULL},
    {"luong_attention", "graph luong_general_mask\n"
                        "input q : f32[2, 3, 6]\ninput k : f32[2, 11, 10]\n"
                        "input v : f32[2, 11, 4]\nweight w : f32[6, 10]\n"
                        "input mask : f32[2, 3, 11]\n"
                        "o = luong_attention(q, k, v, w, mask, score=\"general\", scale=0.5)\n"
                        "output o\n", fill_mask_3x11},
    {"luong_attention", "graph luong_f16\n"
                        "input q : f16[2, 2, 16]\ninput k : f16[2, 9, 16]\n"
                        "input v : f16[2, 9, 16]\n"
                        "o = luong_attention(q, k, v)\noutput o\n", NULL},

    /* ---- additive_attention [B, T, D] ---- */
    /* bahdanau_step's context */
    {"additive_attention", "graph additive_step\n"
                           "input s : f32[4, 1, 128]\ninput enc : f32[4, 20, 256]\n"
                           "input valid : i32[4, 1, 20]\n"
                           "weight wq : f32[64, 128]\nweight wk : f32[64, 256]\n"
                           "weight va : f32[64]\n"
                           "c = additive_attention(s, enc, enc, wq, wk, va, mask=valid)\n"
                           "output c\n", fill_bahdanau_valid},
    {"additive_attention", "graph additive_mask_rows\n"
                           "input q : f32[2, 3, 5]\ninput k : f32[2, 11, 7]\n"
                           "input v : f32[2, 11, 3]\ninput mask : f32[2, 3, 11]\n"
                           "weight wq : f32[9, 5]\nweight wk : f32[9, 7]\nweight a : f32[9]\n"
                           "o = additive_attention(q, k, v, wq, wk, a, mask)\noutput o\n",
     fill_mask_3x11},
    {"additive_attention", "graph additive_f16\n"
                           "input q : f16[2, 4, 8]\ninput k : f16[2, 6, 8]\n"
                           "input v : f16[2, 6, 8]\n"
                           "weight wq : f16[16, 8]\nweight wk : f16[16, 8]\nweight a : f16[16]\n"
                           "o = additive_attention(q, k, v, wq, wk, a)\noutput o\n", NULL},
    {NULL, NULL, NULL},
};

/* Attention written out op by op, fused into one attention step (graphs/lower/fuse.h): scales
 * before an added float mask, the softmax's own scale, causal rule and i32 mask, a mask as the
 * add's first operand, ranks 2 to 4, K/V of one head read by every query head, keys split
 * (decoding against a long cache), large scores, and chains that must not fuse (the softmax
 * scaling an added mask, the scores also an output), still right. Run with fusion on and off;
 * named by the op whose result they make. */
const conformance_case conformance_cases_attention_fused[] = {
    {"matmul", "graph chain_scale_mask\n"
               "input q : f32[2, 4, 16, 32]\ninput k : f32[2, 4, 24, 32]\n"
               "input v : f32[2, 4, 24, 8]\ninput mask : f32[16, 24]\n"
               "s = matmul(q, k, transpose_b=true)\nu = add(scale(s, s=0.17677669529), mask)\n"
               "y = matmul(softmax(u), v)\noutput y\n", fill_mask_16x24},
    {"matmul", "graph chain_causal_rank3\n"
               "input q : f32[3, 9, 16]\ninput k : f32[3, 12, 16]\ninput v : f32[3, 12, 5]\n"
               "p = softmax(matmul(q, k, transpose_b=true), scale=0.25, causal=true)\n"
               "y = matmul(p, v)\noutput y\n", NULL},
    {"matmul", "graph chain_grouped_int_mask\n"
               "input q : f32[2, 8, 5, 32]\ninput k : f32[2, 1, 12, 32]\n"
               "input v : f32[2, 1, 12, 16]\ninput mask : i32[5, 12]\n"
               "p = softmax(matmul(q, k, transpose_b=true), mask, scale=0.2)\n"
               "y = matmul(p, v)\noutput y\n", fill_int_rows},
    {"matmul", "graph chain_mask_first_rank2\n"
               "input q : f32[4, 8]\ninput k : f32[9, 8]\ninput v : f32[9, 3]\n"
               "input mask : f32[4, 9]\n"
               "y = matmul(softmax(add(mask, matmul(q, k, transpose_b=true))), v)\noutput y\n",
     fill_mask_4x9},
    {"matmul", "graph chain_decode_long\n"
               "input q : f32[1, 4, 1, 64]\ninput k : f32[1, 4, 3000, 64]\n"
               "input v : f32[1, 4, 3000, 64]\n"
               "s = scale(scale(matmul(q, k, transpose_b=true), s=0.5), s=0.25)\n"
               "y = matmul(softmax(s), v)\noutput y\n", NULL},
    {"matmul", "graph chain_large_scores\n"
               "input q : f32[2, 3, 33, 24]\ninput k : f32[2, 3, 70, 24]\n"
               "input v : f32[2, 3, 70, 24]\n"
               "y = matmul(softmax(matmul(q, k, transpose_b=true), causal=true), v)\noutput y\n",
     fill_large_q},
    /* not fused: the softmax's scale would scale the added mask */
    {"matmul", "graph chain_scaled_mask_unfused\n"
               "input q : f32[2, 4, 8]\ninput k : f32[2, 9, 8]\ninput v : f32[2, 9, 6]\n"
               "input mask : f32[4, 9]\n"
               "u = add(matmul(q, k, transpose_b=true), mask)\n"
               "y = matmul(softmax(u, scale=0.5), v)\noutput y\n", fill_mask_4x9},
    /* not fused: the probabilities are an output too */
    {"matmul", "graph chain_probs_output\n"
               "input q : f32[1, 2, 6, 8]\ninput k : f32[1, 2, 6, 8]\ninput v : f32[1, 2, 6, 8]\n"
               "p = softmax(matmul(q, k, transpose_b=true), causal=true)\n"
               "y = matmul(p, v)\noutput p\noutput y\n", NULL},
    {NULL, NULL, NULL},
};
