/* Conformance cases: the shape, embedding, position and KV-cache families. Permutes of every
 * rank, concat along each axis with 1 to 8 inputs, slices as views and as copies, embedding ids
 * outside the vocabulary, positions from the attribute and from an i32 operand, kv_append with
 * rows dropped past the end and a negative position; f16 and i32 where the op allows; the example
 * graphs' shapes. Graph outputs always have storage of their own, so views are exercised by
 * intermediates read by a further copy. */
#include "conformance.h"

#include <string.h>

/* Ids inside and outside [0, V): V is 10 in the cases that use this. */
static bool fill_ids(const char *tensor, double *data, int64_t count)
{
    if (strcmp(tensor, "ids")) return false;
    static const double ids[] = {0, 9, -1, 10, 3, -2147483648.0, 2147483647, 5, 11, 1};
    int64_t n = (int64_t)(sizeof ids / sizeof ids[0]);
    for (int64_t i = 0; i < count; i++) data[i] = ids[i % n];
    return true;
}

/* Fills of the i32 `position` operand. */
#define POSITION_FILL(name, value) \
    static bool name(const char *tensor, double *data, int64_t count) \
    { \
        if (strcmp(tensor, "pos")) return false; \
        for (int64_t i = 0; i < count; i++) data[i] = (value); \
        return true; \
    }
POSITION_FILL(fill_pos_37, 37)                 /* a later decoding step */
POSITION_FILL(fill_pos_largest, 2147483647)    /* the largest position an i32 holds */
POSITION_FILL(fill_pos_most_negative, -2147483648.0)
/* kv_append: the cache length is 8 in these cases */
POSITION_FILL(fill_pos_near_end, 6)            /* of 3 new rows, the last is dropped */
POSITION_FILL(fill_pos_negative, -5)           /* counts as 0 */
POSITION_FILL(fill_pos_past_end, 2147483647)   /* every new row dropped */
POSITION_FILL(fill_pos_last, 63)               /* the last slot of the decoder's cache (64) */

#define ONE(op, name, x, call) \
    {op, "graph " name "\ninput x : " x "\ny = " call "\noutput y\n", NULL}
#define PERMUTE(name, x, perm) ONE("permute", name, x, "permute(x, perm=" perm ")")
#define SLICE(name, x, attrs) ONE("slice", name, x, "slice(x, " attrs ")")

const conformance_case conformance_cases_shape[] = {
    /* reshape: a copy as a graph output, a view inside */
    ONE("reshape", "reshape_output", "f32[2, 3, 4]", "reshape(x, shape=[4, -1])"),
    ONE("reshape", "reshape_i32", "i32[6, 5]", "reshape(x, shape=[30])"),
    ONE("reshape", "reshape_f16", "f16[2, 9]", "reshape(x, shape=[3, 3, 2])"),
    {"reshape",
     "graph reshape_view\ninput x : f32[2, 10, 64]\n"
     "r = reshape(x, shape=[20, 64])\ny = permute(r, perm=[1, 0])\noutput y\n", NULL},
    {"reshape",
     "graph reshape_twice\ninput x : i32[4, 6]\n"
     "r = reshape(x, shape=[2, 12])\ns = reshape(r, shape=[24])\ny = reshape(s, shape=[8, 3])\n"
     "output y\n", NULL},

    /* permute of every rank; unit dims that move only are views inside a graph */
    PERMUTE("permute_rank1", "f32[5]", "[0]"),
    PERMUTE("permute_rank2", "f32[7, 13]", "[1, 0]"),
    PERMUTE("permute_rank2_wide", "f32[64, 300]", "[1, 0]"),
    PERMUTE("permute_rank3_rotate", "f32[2, 3, 5]", "[2, 0, 1]"),
    PERMUTE("permute_rank3_swap", "i32[4, 3, 5]", "[1, 0, 2]"),
    PERMUTE("permute_rank3_identity", "f32[2, 3, 5]", "[0, 1, 2]"),
    PERMUTE("permute_rank3_reverse", "f16[3, 4, 7]", "[2, 1, 0]"),
    PERMUTE("permute_rank4_heads", "f32[2, 5, 3, 4]", "[0, 2, 1, 3]"),
    PERMUTE("permute_rank4_reverse", "f32[2, 3, 4, 5]", "[3, 2, 1, 0]"),
    PERMUTE("permute_rank4_mixed", "i32[3, 1, 4, 2]", "[3, 1, 0, 2]"),
    PERMUTE("permute_rank4_units", "f32[1, 6, 1, 5]", "[2, 0, 1, 3]"),
    {"permute",
     "graph permute_unit_view\ninput x : f32[2, 1, 8]\n"
     "p = permute(x, perm=[1, 0, 2])\ny = permute(p, perm=[2, 1, 0])\noutput y\n", NULL},

    /* split and merge heads (the examples' shapes; S = 1 is a view inside a graph) */
    ONE("split_heads", "split_heads_small", "f32[2, 5, 12]", "split_heads(x, heads=3)"),
    ONE("split_heads", "split_heads_one", "f32[1, 1, 256]", "split_heads(x, heads=8)"),
    ONE("split_heads", "split_heads_encoder", "f32[1, 128, 384]", "split_heads(x, heads=12)"),
    ONE("split_heads", "split_heads_i32", "i32[3, 4, 6]", "split_heads(x, heads=2)"),
    {"split_heads",
     "graph split_heads_view\ninput x : f32[1, 1, 64]\n"
     "s = split_heads(x, heads=4)\ny = permute(s, perm=[0, 1, 3, 2])\noutput y\n", NULL},
    ONE("merge_heads", "merge_heads_small", "f32[2, 3, 5, 4]", "merge_heads(x)"),
    ONE("merge_heads", "merge_heads_one", "f32[1, 8, 1, 32]", "merge_heads(x)"),
    ONE("merge_heads", "merge_heads_f16", "f16[1, 12, 16, 8]", "merge_heads(x)"),
    {"merge_heads",
     "graph merge_split\ninput x : f32[2, 7, 24]\n"
     "y = merge_heads(split_heads(x, heads=6))\noutput y\n", NULL},

    /* concat along each axis, 1 to 8 inputs */
    {"concat", "graph concat_one\ninput a : f32[3, 4]\ny = concat(a)\noutput y\n", NULL},
    {"concat",
     "graph concat_axis0\ninput a : f32[2, 3, 4]\ninput b : f32[1, 3, 4]\n"
     "y = concat(a, b, axis=0)\noutput y\n", NULL},
    {"concat",
     "graph concat_axis1\ninput a : f32[2, 3, 4]\ninput b : f32[2, 5, 4]\ninput c : f32[2, 1, 4]\n"
     "y = concat(a, b, c, axis=1)\noutput y\n", NULL},
    {"concat",
     "graph concat_axis2\ninput a : f32[2, 3, 4]\ninput b : f32[2, 3, 7]\n"
     "y = concat(a, b, axis=2)\noutput y\n", NULL},
    {"concat",
     "graph concat_axis_neg\ninput a : i32[3, 2, 2, 5]\ninput b : i32[3, 2, 2, 1]\n"
     "y = concat(a, b, axis=-1)\noutput y\n", NULL},
    {"concat",
     "graph concat_rank4_axis1\ninput a : f16[2, 1, 3, 2]\ninput b : f16[2, 4, 3, 2]\n"
     "y = concat(a, b, axis=1)\noutput y\n", NULL},
    {"concat",
     "graph concat_rank1\ninput a : f32[5]\ninput b : f32[1]\ninput c : f32[3]\n"
     "y = concat(a, b, c)\noutput y\n", NULL},
    {"concat",
     "graph concat_eight\ninput a : f32[2, 1]\ninput b : f32[2, 2]\ninput c : f32[2, 3]\n"
     "input d : f32[2, 1]\ninput e : f32[2, 5]\ninput f : f32[2, 1]\ninput g : f32[2, 7]\n"
     "input h : f32[2, 2]\ny = concat(a, b, c, d, e, f, g, h, axis=1)\noutput y\n", NULL},
    {"concat",
     "graph concat_snail\ninput a : f32[2, 64, 32]\ninput b : f32[2, 64, 16]\n"
     "y = concat(a, b)\noutput y\n", NULL},
    {"concat",
     "graph concat_large\ninput a : f32[3, 200, 64]\ninput b : f32[3, 100, 64]\n"
     "y = concat(a, b, axis=1)\noutput y\n", NULL},

    /* slice: views (a contiguous, aligned range) and strided copies */
    SLICE("slice_last_axis", "f32[5, 11]", "start=2, end=-3"),
    SLICE("slice_to_end", "f32[4, 9]", "start=5"),
    SLICE("slice_axis1", "i32[3, 6, 4]", "axis=1, start=1, end=4"),
    SLICE("slice_rank4", "f16[2, 3, 7, 2]", "axis=2, start=3, end=6"),
    SLICE("slice_first_axis", "f32[6, 3]", "axis=0, start=2, end=5"),
    SLICE("slice_one", "f32[1]", "start=0"),
    {"slice",
     "graph slice_view\ninput x : f32[8, 64]\n"
     "s = slice(x, axis=0, start=4, end=8)\ny = permute(s, perm=[1, 0])\noutput y\n", NULL},
    {"slice",
     "graph slice_unaligned\ninput x : f32[8, 3]\n"
     "s = slice(x, axis=0, start=1, end=6)\ny = permute(s, perm=[1, 0])\noutput y\n", NULL},
    {"slice",
     "graph slice_unit_outer\ninput x : f32[1, 1, 16, 64]\n"
     "s = slice(x, axis=2, start=8)\ny = permute(s, perm=[0, 1, 3, 2])\noutput y\n", NULL},

    /* embedding */
    {"embedding",
     "graph embedding_small\ninput ids : i32[2, 5]\nweight table : f32[10, 8]\n"
     "y = embedding(ids, table)\noutput y\n", NULL},
    {"embedding",
     "graph embedding_out_of_range\ninput ids : i32[3, 7]\nweight table : f32[10, 6]\n"
     "y = embedding(ids, table)\noutput y\n", fill_ids},
    {"embedding",
     "graph embedding_rank1_f16\ninput ids : i32[20]\nweight table : f16[10, 3]\n"
     "y = embedding(ids, table)\noutput y\n", fill_ids},
    {"embedding", /* a bf16 table widened into an f32 result */
     "graph embedding_bf16\ninput ids : i32[20]\nweight table : bf16[10, 3]\n"
     "y = embedding(ids, table)\noutput y\n", fill_ids},
    {"embedding",
     "graph embedding_memnet\ninput ids : i32[2, 10, 6]\nweight table : f32[50, 64]\n"
     "y = embedding(ids, table)\noutput y\n", NULL},
    {"embedding",
     "graph embedding_wide\ninput ids : i32[40]\nweight table : f32[10, 700]\n"
     "y = embedding(ids, table)\noutput y\n", fill_ids},

    /* sinusoidal and rope: offsets from the attribute and from a position operand */
    ONE("sinusoidal", "sinusoidal", "f32[2, 6, 8]", "sinusoidal(x)"),
    ONE("sinusoidal", "sinusoidal_offset", "f32[1, 5, 6]", "sinusoidal(x, offset=12)"),
    ONE("sinusoidal", "sinusoidal_pair", "f32[3, 2]", "sinusoidal(x, base=100.0)"),
    ONE("sinusoidal", "sinusoidal_rank4_f16", "f16[2, 2, 3, 10]", "sinusoidal(x, offset=3)"),
    ONE("sinusoidal", "sinusoidal_long", "f32[1, 48, 128]", "sinusoidal(x)"),
    {"sinusoidal",
     "graph sinusoidal_position\ninput x : f32[2, 3, 12]\ninput pos : i32[1]\n"
     "y = sinusoidal(x, pos)\noutput y\n", fill_pos_37},
    /* large positions, where an angle p * w rounded to f32 is off by up to p * 2^-24 */
    ONE("sinusoidal", "sinusoidal_at_4096", "f32[1, 8, 128]", "sinusoidal(x, offset=4096)"),
    ONE("sinusoidal", "sinusoidal_at_100000", "f32[1, 8, 128]", "sinusoidal(x, offset=100000)"),
    ONE("sinusoidal", "sinusoidal_at_2p24", "f32[1, 8, 128]", "sinusoidal(x, offset=16777216)"),
    ONE("sinusoidal", "sinusoidal_at_largest", "f32[1, 8, 128]",
        "sinusoidal(x, offset=2147483647)"),
    {"sinusoidal",
     "graph sinusoidal_position_most_negative\ninput x : f32[1, 3, 32]\ninput pos : i32[1]\n"
     "y = sinusoidal(x, pos)\noutput y\n", fill_pos_most_negative},
    {"sinusoidal",
     "graph sinusoidal_position_past_i32\ninput x : f32[1, 4, 32]\ninput pos : i32[1]\n"
     "y = sinusoidal(x, pos)\noutput y\n", fill_pos_largest},
    ONE("rope", "rope_at_4096", "f32[1, 8, 128]", "rope(x, offset=4096)"),
    ONE("rope", "rope_interleaved_at_100000", "f32[2, 8, 128]",
        "rope(x, offset=100000, mode=\"interleaved\")"),
    ONE("rope", "rope_at_2p24_base_500000", "f32[1, 8, 128]",
        "rope(x, offset=16777216, base=500000.0)"),
    ONE("rope", "rope_at_largest", "f32[1, 8, 64]", "rope(x, offset=2147483647)"),
    {"rope",
     "graph rope_position_largest\ninput x : f32[1, 2, 1, 64]\ninput pos : i32[1]\n"
     "y = rope(x, pos)\noutput y\n", fill_pos_largest},
    ONE("rope", "rope_half", "f32[2, 6, 8]", "rope(x)"),
    ONE("rope", "rope_interleaved", "f32[2, 6, 8]", "rope(x, mode=\"interleaved\")"),
    ONE("rope", "rope_rank2", "f32[5, 6]", "rope(x, offset=7, base=500.0)"),
    ONE("rope", "rope_f16", "f16[1, 2, 4, 16]", "rope(x, offset=2)"),
    ONE("rope", "rope_long", "f32[1, 4, 40, 64]", "rope(x)"),
    {"rope",
     "graph rope_decoder\ninput x : f32[1, 8, 1, 32]\ninput pos : i32[1]\n"
     "y = rope(x, position=pos)\noutput y\n", NULL},
    {"rope",
     "graph rope_position_interleaved\ninput x : f32[2, 3, 5, 10]\ninput pos : i32[]\n"
     "y = rope(x, pos, mode=\"interleaved\", base=1000.0)\noutput y\n", fill_pos_37},
    {"rope",
     "graph rope_in_place\ninput x : f32[2, 4, 16]\n"
     "s = scale(x, s=2.0)\nr = rope(s, offset=5)\ny = permute(r, perm=[1, 0, 2])\noutput y\n",
     NULL},

    /* kv_append */
    {"kv_append",
     "graph kv_append_start\ninput cache : f32[8, 4]\ninput new : f32[3, 4]\n"
     "y = kv_append(cache, new, start=5)\noutput y\n", NULL},
    {"kv_append",
     "graph kv_append_rank3\ninput cache : f32[2, 8, 5]\ninput new : f32[2, 2, 5]\n"
     "y = kv_append(cache, new, start=1)\noutput y\n", NULL},
    {"kv_append",
     "graph kv_append_position\ninput cache : f32[2, 8, 3]\ninput new : f32[2, 3, 3]\n"
     "input pos : i32[1]\ny = kv_append(cache, new, pos)\noutput y\n", NULL},
    {"kv_append",
     "graph kv_append_near_end\ninput cache : f32[2, 8, 3]\ninput new : f32[2, 3, 3]\n"
     "input pos : i32[1]\ny = kv_append(cache, new, pos)\noutput y\n", fill_pos_near_end},
    {"kv_append",
     "graph kv_append_negative\ninput cache : f16[1, 2, 8, 4]\ninput new : f16[1, 2, 3, 4]\n"
     "input pos : i32[]\ny = kv_append(cache, new, pos)\noutput y\n", fill_pos_negative},
    {"kv_append",
     "graph kv_append_past_end\ninput cache : f32[3, 8, 2]\ninput new : f32[3, 1, 2]\n"
     "input pos : i32[1]\ny = kv_append(cache, new, pos)\noutput y\n", fill_pos_past_end},
    {"kv_append",
     "graph kv_append_decoder\ninput cache : f32[1, 2, 64, 32]\ninput new : f32[1, 2, 1, 32]\n"
     "input pos : i32[1]\ny = kv_append(cache, new, pos)\noutput y\n", fill_pos_last},
    {"kv_append",
     "graph kv_append_full\ninput cache : f32[4, 6]\ninput new : f32[4, 6]\n"
     "y = kv_append(cache, new)\noutput y\n", NULL},
    {"kv_append",
     "graph kv_append_own_rows\ninput x : f32[8, 64]\n"
     "c = relu(x)\nn = slice(c, axis=0, start=0, end=2)\nk = kv_append(c, n, start=5)\n"
     "y = permute(k, perm=[1, 0])\noutput y\n", NULL},
    {"kv_append",
     "graph kv_append_in_place\ninput c : f32[6, 8]\ninput new : f32[2, 6]\n"
     "cache = permute(c, perm=[1, 0])\nk = kv_append(cache, new, start=3)\n"
     "y = permute(k, perm=[1, 0])\noutput y\n", NULL},
    {NULL, NULL, NULL},
};
