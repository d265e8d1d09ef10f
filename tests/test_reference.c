/* The CPU reference executor, op by op, against hand-computed or independently derived values;
 * the f16 conversions; and the seed fill. (.npy reading and writing: test_npy.c.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "porta.h"
#include "host/reference/half.h"
#include "host/reference/reference.h"

/* ---- a small graph harness ------------------------------------------------------------------- */

#define MAX_TENSORS 64

static porta_context *ctx;
static porta_graph *graph;
static porta_reference_values *values;
static const double *pending[MAX_TENSORS];

static void begin(void)
{
    assert_int_equal(porta_context_create(&ctx), PORTA_OK);
    assert_int_equal(porta_graph_create(ctx, "t", &graph), PORTA_OK);
    memset(pending, 0, sizeof pending);
    values = NULL;
}

static void end(void)
{
    porta_reference_values_destroy(values);
    porta_graph_destroy(graph);
    porta_context_destroy(ctx);
    values = NULL;
    graph = NULL;
    ctx = NULL;
}

static porta_shape shape_of(int rank, const int64_t *dims)
{
    porta_shape s = {.rank = rank};
    for (int i = 0; i < rank; i++) s.dims[i] = dims[i];
    return s;
}

#define DIMS(...) (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), (int64_t[]){__VA_ARGS__}

static porta_tensor_id leaf(bool weight, const char *name, porta_dtype dtype, int rank,
                            const int64_t *dims, const double *data)
{
    porta_shape s = shape_of(rank, dims);
    porta_tensor_id id;
    porta_status status = weight ? porta_graph_add_weight(graph, name, dtype, &s, NULL, &id)
                                 : porta_graph_add_input(graph, name, dtype, &s, &id);
    if (status) fprintf(stderr, "%s\n", porta_last_error(ctx));
    assert_int_equal(status, PORTA_OK);
    assert_true(id < MAX_TENSORS);
    pending[id] = data;
    return id;
}

/* input("x", PORTA_F32, DIMS(2, 3), data) */
static porta_tensor_id input(const char *name, porta_dtype dtype, int rank, const int64_t *dims,
                             const double *data)
{
    return leaf(false, name, dtype, rank, dims, data);
}

static porta_tensor_id weight(const char *name, porta_dtype dtype, int rank, const int64_t *dims,
                              const double *data)
{
    return leaf(true, name, dtype, rank, dims, data);
}

#define LIST(type, ...) (int)(sizeof((type[]){__VA_ARGS__}) / sizeof(type)), (type[]){__VA_ARGS__}
#define OPS(...) LIST(porta_tensor_id, __VA_ARGS__)
#define ATTRS(...) LIST(porta_attr, __VA_ARGS__)
#define NO_ATTRS 0, NULL
#define AI(n, v) {.name = (n), .kind = PORTA_ATTR_INT, .i = (v)}
#define AF(n, v) {.name = (n), .kind = PORTA_ATTR_FLOAT, .f = (v)}
#define AB(n, v) {.name = (n), .kind = PORTA_ATTR_BOOL, .b = (v)}
#define AS(n, v) {.name = (n), .kind = PORTA_ATTR_STRING, .s = (v)}
#define AL(n, ...) {.name = (n), .kind = PORTA_ATTR_INTS, .ints = (int64_t[]){__VA_ARGS__}, \
                    .n_ints = (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t))}

static porta_tensor_id node_named(const char *op, int n, const porta_tensor_id *operands,
                                  const char *named, porta_tensor_id named_tensor, int n_attrs,
                                  const porta_attr *attrs)
{
    porta_named_operand nm = {named, named_tensor};
    porta_tensor_id id;
    porta_status status = porta_graph_add_node(graph, NULL, op, n, operands, named ? 1 : 0, &nm,
                                               n_attrs, attrs, &id);
    if (status) fprintf(stderr, "%s\n", porta_last_error(ctx));
    assert_int_equal(status, PORTA_OK);
    assert_int_equal(porta_graph_mark_output(graph, id), PORTA_OK);
    return id;
}

static porta_tensor_id node(const char *op, int n, const porta_tensor_id *operands, int n_attrs,
                            const porta_attr *attrs)
{
    return node_named(op, n, operands, NULL, -1, n_attrs, attrs);
}

/* Validates, copies the pending inputs, runs; returns the array of tensor `out`. */
static const double *run(porta_tensor_id out)
{
    if (!values) {
        porta_status status = porta_graph_validate(graph);
        if (status) fprintf(stderr, "%s\n", porta_last_error(ctx));
        assert_int_equal(status, PORTA_OK);
        assert_int_equal(porta_reference_values_create(graph, &values), PORTA_OK);
        for (int t = 0; t < values->n_tensors && t < MAX_TENSORS; t++)
            if (pending[t])
                memcpy(values->data[t], pending[t], sizeof(double) * (size_t)values->count[t]);
    }
    porta_status status = porta_reference_run(graph, values);
    if (status) fprintf(stderr, "%s\n", porta_last_error(ctx));
    assert_int_equal(status, PORTA_OK);
    return values->data[out];
}

static void expect_near(const double *got, const double *want, int64_t n, double tolerance)
{
    for (int64_t i = 0; i < n; i++) {
        bool ok = isinf(want[i]) ? got[i] == want[i] : fabs(got[i] - want[i]) <= tolerance;
        if (!ok) fail_msg("element %lld: got %.17g, want %.17g", (long long)i, got[i], want[i]);
    }
}

#define EXPECT(got, tol, ...) \
    expect_near((got), (double[]){__VA_ARGS__}, \
                (int64_t)(sizeof((double[]){__VA_ARGS__}) / sizeof(double)), (tol))

static const double TOL = 1e-12;

/* ---- f16 ------------------------------------------------------------------------------------- */

static void test_half_rounding(void **state)
{
    (void)state;
    assert_int_equal(porta_half_from_double(1.0), 0x3c00);
    assert_int_equal(porta_half_from_double(1.0 + 0x1p-11), 0x3c00);      /* tie: to even */
    assert_int_equal(porta_half_from_double(1.0 + 3 * 0x1p-11), 0x3c02);  /* tie: to even */
    assert_int_equal(porta_half_from_double(1.0 + 0x1p-11 + 0x1p-30), 0x3c01);
    assert_int_equal(porta_half_from_double(65504.0), 0x7bff);
    assert_int_equal(porta_half_from_double(65519.0), 0x7bff);
    assert_int_equal(porta_half_from_double(65520.0), 0x7c00);           /* overflow: inf */
    assert_int_equal(porta_half_from_double(-65520.0), 0xfc00);
    assert_int_equal(porta_half_from_double(0x1p-24), 0x0001);           /* smallest subnormal */
    assert_int_equal(porta_half_from_double(0x1p-25), 0x0000);           /* tie: to even (0) */
    assert_int_equal(porta_half_from_double(3 * 0x1p-25), 0x0002);
    assert_int_equal(porta_half_from_double(0x1p-14 - 0x1p-26), 0x0400); /* rounds up to normal */
    assert_int_equal(porta_half_from_double(-0.0), 0x8000);
    assert_int_equal(porta_half_from_double(INFINITY), 0x7c00);
    assert_true(isnan(porta_half_to_double(porta_half_from_double(NAN))));
    assert_true(porta_half_to_double(0x3555) == 0.333251953125);
    assert_true(porta_half_to_float(porta_half_from_float(0.1f)) == 0.0999755859375f);
    /* Every finite f16 converts to double and back unchanged. */
    for (uint32_t h = 0; h < 0x10000; h++) {
        if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff)) continue; /* NaN */
        double v = porta_half_to_double((uint16_t)h);
        if (porta_half_from_double(v) != h) fail_msg("f16 %04x round trip failed", h);
    }
}

/* ---- elementwise ----------------------------------------------------------------------------- */

static void test_binary_broadcast(void **state)
{
    (void)state;
    begin();
    porta_tensor_id a = input("a", PORTA_F32, DIMS(2, 3), (double[]){1, 2, 3, 4, 5, 6});
    porta_tensor_id b = input("b", PORTA_F32, DIMS(3), (double[]){10, 20, 30});
    porta_tensor_id c = input("c", PORTA_F32, DIMS(2, 1), (double[]){2, 4});
    porta_tensor_id add = node("add", OPS(a, b), NO_ATTRS);
    porta_tensor_id sub = node("sub", OPS(b, a), NO_ATTRS);
    porta_tensor_id mul = node("mul", OPS(c, b), NO_ATTRS);
    porta_tensor_id div = node("div", OPS(a, c), NO_ATTRS);
    EXPECT(run(add), TOL, 11, 22, 33, 14, 25, 36);
    EXPECT(run(sub), TOL, 9, 18, 27, 6, 15, 24);
    EXPECT(run(mul), TOL, 20, 40, 60, 40, 80, 120);
    EXPECT(run(div), TOL, 0.5, 1, 1.5, 1, 1.25, 1.5);
    end();
}

static void test_unary(void **state)
{
    (void)state;
    begin();
    porta_tensor_id x = input("x", PORTA_F32, DIMS(4), (double[]){1, -1, 0, 2});
    porta_tensor_id scale = node("scale", OPS(x), ATTRS(AF("s", 2.5)));
    porta_tensor_id relu = node("relu", OPS(x), NO_ATTRS);
    porta_tensor_id gelu = node("gelu", OPS(x), NO_ATTRS);
    porta_tensor_id gelu_tanh = node("gelu", OPS(x), ATTRS(AS("approximate", "tanh")));
    porta_tensor_id silu = node("silu", OPS(x), NO_ATTRS);
    porta_tensor_id th = node("tanh", OPS(x), NO_ATTRS);
    porta_tensor_id sig = node("sigmoid", OPS(x), NO_ATTRS);
    EXPECT(run(scale), TOL, 2.5, -2.5, 0, 5);
    EXPECT(run(relu), TOL, 1, 0, 0, 2);
    EXPECT(run(gelu), TOL, 0.8413447460685429, -0.15865525393145707, 0, 1.9544997361036416);
    EXPECT(run(gelu_tanh), TOL, 0.8411919906082768, -0.15880800939172324, 0, 1.9545976940871754);
    EXPECT(run(silu), TOL, 0.7310585786300049, -0.2689414213699951, 0, 1.7615941559557649);
    EXPECT(run(th), TOL, 0.7615941559557649, -0.7615941559557649, 0, 0.9640275800758169);
    EXPECT(run(sig), TOL, 0.7310585786300049, 0.2689414213699951, 0.5, 0.8807970779778823);
    end();
}

static void test_cast(void **state)
{
    (void)state;
    begin();
    porta_tensor_id x = input("x", PORTA_F32, DIMS(5),
                              (double[]){1.0 + 0x1p-11, 65520.0, 2.7, -2.7, -0.99});
    porta_tensor_id n = input("n", PORTA_I32, DIMS(2), (double[]){16777217, -3});
    porta_tensor_id h = node("cast", OPS(x), ATTRS(AS("to", "f16")));
    porta_tensor_id i = node("cast", OPS(x), ATTRS(AS("to", "i32")));
    porta_tensor_id f = node("cast", OPS(n), ATTRS(AS("to", "f32")));
    porta_tensor_id back = node("cast", OPS(h), ATTRS(AS("to", "f32")));
    EXPECT(run(h), 0, 1.0, INFINITY, 2.69921875, -2.69921875, -0.990234375);
    EXPECT(run(i), 0, 1, 65520, 2, -2, 0);
    EXPECT(run(f), 0, 16777216, -3); /* 2^24 + 1 is not a float */
    EXPECT(run(back), 0, 1.0, INFINITY, 2.69921875, -2.69921875, -0.990234375);
    end();
}

static void test_f16_rounded_after_each_node(void **state)
{
    (void)state;
    begin();
    porta_tensor_id a = input("a", PORTA_F16, DIMS(1), (double[]){1.0});
    porta_tensor_id b = input("b", PORTA_F16, DIMS(1), (double[]){0x1p-11});
    porta_tensor_id s = node("add", OPS(a, b), NO_ATTRS);
    porta_tensor_id t = node("add", OPS(s, b), NO_ATTRS);
    EXPECT(run(s), 0, 1.0);  /* 1 + 2^-11 rounds to 1 in f16 */
    EXPECT(run(t), 0, 1.0);
    end();
}

/* ---- matmul and linear ----------------------------------------------------------------------- */

static void test_matmul(void **state)
{
    (void)state;
    begin();
    porta_tensor_id a = input("a", PORTA_F32, DIMS(2, 3), (double[]){1, 2, 3, 4, 5, 6});
    porta_tensor_id b = input("b", PORTA_F32, DIMS(3, 2), (double[]){7, 8, 9, 10, 11, 12});
    porta_tensor_id bt = input("bt", PORTA_F32, DIMS(2, 3), (double[]){7, 9, 11, 8, 10, 12});
    porta_tensor_id m = node("matmul", OPS(a, b), NO_ATTRS);
    porta_tensor_id mt = node("matmul", OPS(a, bt), ATTRS(AB("transpose_b", true)));
    /* Batch broadcast: [2, 2, 2] x [2, 2]. */
    porta_tensor_id e = input("e", PORTA_F32, DIMS(2, 2, 2), (double[]){1, 0, 0, 1, 2, 0, 0, 2});
    porta_tensor_id f = input("f", PORTA_F32, DIMS(2, 2), (double[]){1, 2, 3, 4});
    porta_tensor_id mb = node("matmul", OPS(e, f), NO_ATTRS);
    /* [1, 2, 2] x [3, 1, 2, 1] broadcasts to [3, 1, 2, 1]... batch [1] vs [3, 1]. */
    porta_tensor_id g = input("g", PORTA_F32, DIMS(3, 1, 2, 1), (double[]){1, 1, 2, 2, 3, 3});
    porta_tensor_id mg = node("matmul", OPS(f, g), NO_ATTRS);
    EXPECT(run(m), TOL, 58, 64, 139, 154);
    EXPECT(run(mt), TOL, 58, 64, 139, 154);
    EXPECT(run(mb), TOL, 1, 2, 3, 4, 2, 4, 6, 8);
    EXPECT(run(mg), TOL, 3, 7, 6, 14, 9, 21);
    end();
}

static void test_linear(void **state)
{
    (void)state;
    begin();
    porta_tensor_id x = input("x", PORTA_F32, DIMS(2, 2), (double[]){1, 2, -1, 3});
    porta_tensor_id w = weight("w", PORTA_F32, DIMS(3, 2), (double[]){1, 0, 0, 1, 1, 1});
    porta_tensor_id bias = weight("bias", PORTA_F32, DIMS(3), (double[]){0.5, -0.5, 0});
    porta_tensor_id y = node("linear", OPS(x, w, bias), NO_ATTRS);
    porta_tensor_id z = node("linear", OPS(x, w), NO_ATTRS);
    EXPECT(run(y), TOL, 1.5, 1.5, 3, -0.5, 2.5, 2);
    EXPECT(run(z), TOL, 1, 2, 3, -1, 3, 2);
    end();
}

/* ---- softmax and norms ----------------------------------------------------------------------- */

static void test_softmax(void **state)
{
    (void)state;
    begin();
    porta_tensor_id x = input("x", PORTA_F32, DIMS(3), (double[]){1, 2, 3});
    porta_tensor_id big = input("big", PORTA_F32, DIMS(2, 3),
                                (double[]){1e4, 1e4 - 1, -INFINITY, -INFINITY, -INFINITY, -INFINITY});
    porta_tensor_id neg = input("neg", PORTA_F32, DIMS(2), (double[]){-1e4, -1e4 - 1});
    porta_tensor_id im = input("im", PORTA_I32, DIMS(3), (double[]){1, 0, 1});
    porta_tensor_id fm = input("fm", PORTA_F32, DIMS(3), (double[]){0, -INFINITY, 0});
    porta_tensor_id zeros = input("zeros", PORTA_F32, DIMS(2, 3), (double[]){0, 0, 0, 0, 0, 0});
    porta_tensor_id s = node("softmax", OPS(x), NO_ATTRS);
    porta_tensor_id sb = node("softmax", OPS(big), NO_ATTRS);
    porta_tensor_id sn = node("softmax", OPS(neg), NO_ATTRS);
    porta_tensor_id ss = node("softmax", OPS(x), ATTRS(AF("scale", 0.5)));
    porta_tensor_id si = node_named("softmax", OPS(x), "mask", im, NO_ATTRS);
    porta_tensor_id sf = node("softmax", OPS(x, fm), NO_ATTRS);
    porta_tensor_id sc = node("softmax", OPS(zeros), ATTRS(AB("causal", true)));
    EXPECT(run(s), TOL, 0.09003057317038046, 0.24472847105479764, 0.6652409557748219);
    const double *b = run(sb);
    EXPECT(b, TOL, 0.7310585786300049, 0.2689414213699951, 0, 0, 0, 0);
    for (int i = 0; i < 6; i++) assert_false(isnan(b[i]));
    EXPECT(run(sn), TOL, 0.7310585786300049, 0.2689414213699951);
    /* softmax([0.5, 1, 1.5]) */
    EXPECT(run(ss), TOL, 0.1863237232258476, 0.30719588571849843, 0.506480391055654);
    EXPECT(run(si), TOL, 0.11920292202211755, 0, 0.8807970779778823);
    EXPECT(run(sf), TOL, 0.11920292202211755, 0, 0.8807970779778823);
    /* 2 rows, 3 columns: bottom-right alignment lets row 0 see columns 0 and 1. */
    EXPECT(run(sc), TOL, 0.5, 0.5, 0, 1.0 / 3, 1.0 / 3, 1.0 / 3);
    end();
}

static void test_norms(void **state)
{
    (void)state;
    begin();
    porta_tensor_id x = input("x", PORTA_F32, DIMS(1, 4), (double[]){1, 2, 3, 4});
    porta_tensor_id g = weight("g", PORTA_F32, DIMS(4), (double[]){1, 1, 2, 2});
    porta_tensor_id b = weight("b", PORTA_F32, DIMS(4), (double[]){0, 0, 0, 1});
    porta_tensor_id ln = node("layernorm", OPS(x, g, b), NO_ATTRS);
    porta_tensor_id ln0 = node("layernorm", OPS(x, g), ATTRS(AF("eps", 0.75)));
    porta_tensor_id rms = node("rmsnorm", OPS(x, g), NO_ATTRS);
    /* mean 2.5, biased variance 1.25 */
    double s = sqrt(1.25 + 1e-5);
    EXPECT(run(ln), TOL, -1.5 / s, -0.5 / s, 2 * 0.5 / s, 2 * 1.5 / s + 1);
    EXPECT(run(ln0), TOL, -1.5 / sqrt(2.0), -0.5 / sqrt(2.0), 1 / sqrt(2.0), 3 / sqrt(2.0));
    /* mean of squares 30 / 4 = 7.5 */
    double r = sqrt(7.5 + 1e-6);
    EXPECT(run(rms), TOL, 1 / r, 2 / r, 6 / r, 8 / r);
    end();
}

/* ---- attention ------------------------------------------------------------------------------- */

static void test_sdpa_single_key(void **state)
{
    (void)state;
    begin();
    porta_tensor_id q = input("q", PORTA_F32, DIMS(1, 1, 2, 2), (double[]){0.3, -2, 5, 1});
    porta_tensor_id k = input("k", PORTA_F32, DIMS(1, 1, 1, 2), (double[]){1, 2});
    porta_tensor_id v = input("v", PORTA_F32, DIMS(1, 1, 1, 3), (double[]){1, 2, 3});
    porta_tensor_id o = node("sdpa", OPS(q, k, v), NO_ATTRS);
    EXPECT(run(o), TOL, 1, 2, 3, 1, 2, 3);
    end();
}

static void test_sdpa_scores(void **state)
{
    (void)state;
    begin();
    porta_tensor_id q = input("q", PORTA_F32, DIMS(1, 1, 1, 2), (double[]){1, 0});
    porta_tensor_id k = input("k", PORTA_F32, DIMS(1, 1, 2, 2), (double[]){1, 0, 0, 0});
    porta_tensor_id v = input("v", PORTA_F32, DIMS(1, 1, 2, 1), (double[]){10, 20});
    porta_tensor_id o = node("sdpa", OPS(q, k, v), NO_ATTRS);                 /* scale 1/sqrt 2 */
    porta_tensor_id o2 = node("sdpa", OPS(q, k, v), ATTRS(AF("scale", 2.0)));
    double p = 1.0 / (1.0 + exp(-1.0 / sqrt(2.0)));
    EXPECT(run(o), TOL, 10 * p + 20 * (1 - p));
    p = 1.0 / (1.0 + exp(-2.0));
    EXPECT(run(o2), TOL, 10 * p + 20 * (1 - p));
    end();
}

static void test_sdpa_causal_and_masks(void **state)
{
    (void)state;
    begin();
    porta_tensor_id q = input("q", PORTA_F32, DIMS(1, 1, 2, 2), (double[]){0, 0, 0, 0});
    porta_tensor_id k = input("k", PORTA_F32, DIMS(1, 1, 2, 2), (double[]){1, 2, 3, 4});
    porta_tensor_id v = input("v", PORTA_F32, DIMS(1, 1, 2, 2), (double[]){1, 0, 0, 1});
    porta_tensor_id causal = node("sdpa", OPS(q, k, v), ATTRS(AB("causal", true)));
    /* Row 0 fully masked (i32 zeros), row 1 open; the mask [2, 2] broadcasts. */
    porta_tensor_id m = input("m", PORTA_I32, DIMS(2, 2), (double[]){0, 0, 1, 1});
    porta_tensor_id masked = node("sdpa", OPS(q, k, v, m), NO_ATTRS);
    porta_tensor_id fm = input("fm", PORTA_F32, DIMS(1, 2),
                               (double[]){-INFINITY, -INFINITY});
    porta_tensor_id all_masked = node("sdpa", OPS(q, k, v, fm), NO_ATTRS);
    /* One query at the end of three keys: bottom-right alignment sees all three. */
    porta_tensor_id q1 = input("q1", PORTA_F32, DIMS(1, 1, 1, 2), (double[]){0, 0});
    porta_tensor_id k3 = input("k3", PORTA_F32, DIMS(1, 1, 3, 2), (double[]){1, 2, 3, 4, 5, 6});
    porta_tensor_id v3 = input("v3", PORTA_F32, DIMS(1, 1, 3, 1), (double[]){3, 6, 9});
    porta_tensor_id last = node("sdpa", OPS(q1, k3, v3), ATTRS(AB("causal", true)));
    EXPECT(run(causal), TOL, 1, 0, 0.5, 0.5);
    EXPECT(run(masked), TOL, 0, 0, 0.5, 0.5);
    const double *z = run(all_masked);
    EXPECT(z, 0, 0, 0, 0, 0);
    EXPECT(run(last), TOL, 6);
    end();
}

static void fill_seeded(porta_tensor_id id, uint64_t seed)
{
    porta_reference_fill(graph, id, seed, values->data[id]);
}

static void test_sdpa_grouped_heads(void **state)
{
    (void)state;
    begin();
    /* H = 4 query heads over G = 2 K/V heads; kr, vr repeat each K/V head twice. */
    porta_tensor_id q = input("q", PORTA_F32, DIMS(2, 4, 3, 5), NULL);
    porta_tensor_id k = input("k", PORTA_F32, DIMS(2, 2, 4, 5), NULL);
    porta_tensor_id v = input("v", PORTA_F32, DIMS(2, 2, 4, 3), NULL);
    porta_tensor_id kr = input("kr", PORTA_F32, DIMS(2, 4, 4, 5), NULL);
    porta_tensor_id vr = input("vr", PORTA_F32, DIMS(2, 4, 4, 3), NULL);
    porta_tensor_id grouped = node("sdpa", OPS(q, k, v), ATTRS(AB("causal", true)));
    porta_tensor_id plain = node("sdpa", OPS(q, kr, vr), ATTRS(AB("causal", true)));
    assert_int_equal(porta_graph_validate(graph), PORTA_OK);
    assert_int_equal(porta_reference_values_create(graph, &values), PORTA_OK);
    fill_seeded(q, 1);
    fill_seeded(k, 1);
    fill_seeded(v, 1);
    for (int b = 0; b < 2; b++)
        for (int h = 0; h < 4; h++) {
            memcpy(values->data[kr] + (b * 4 + h) * 20, values->data[k] + (b * 2 + h / 2) * 20,
                   20 * sizeof(double));
            memcpy(values->data[vr] + (b * 4 + h) * 12, values->data[v] + (b * 2 + h / 2) * 12,
                   12 * sizeof(double));
        }
    const double *g = run(grouped);
    expect_near(g, run(plain), 2 * 4 * 3 * 3, TOL);
    end();
}

static void test_attention_equals_split_sdpa_merge(void **state)
{
    (void)state;
    begin();
    porta_tensor_id q = input("q", PORTA_F32, DIMS(2, 3, 8), NULL);
    porta_tensor_id k = input("k", PORTA_F32, DIMS(2, 5, 4), NULL);
    porta_tensor_id v = input("v", PORTA_F32, DIMS(2, 5, 6), NULL);
    porta_tensor_id m = input("m", PORTA_F32, DIMS(1, 1, 3, 5), NULL);
    porta_tensor_id att = node("attention", OPS(q, k, v, m),
                               ATTRS(AI("heads", 4), AI("kv_heads", 2), AB("causal", true)));
    porta_tensor_id qs = node("split_heads", OPS(q), ATTRS(AI("heads", 4)));
    porta_tensor_id ks = node("split_heads", OPS(k), ATTRS(AI("heads", 2)));
    porta_tensor_id vs = node("split_heads", OPS(v), ATTRS(AI("heads", 2)));
    porta_tensor_id s = node("sdpa", OPS(qs, ks, vs, m), ATTRS(AB("causal", true)));
    porta_tensor_id merged = node("merge_heads", OPS(s), NO_ATTRS);
    assert_int_equal(porta_graph_validate(graph), PORTA_OK);
    assert_int_equal(porta_reference_values_create(graph, &values), PORTA_OK);
    fill_seeded(q, 7);
    fill_seeded(k, 7);
    fill_seeded(v, 7);
    fill_seeded(m, 7);
    const double *a = run(att);
    expect_near(a, run(merged), 2 * 3 * 12, TOL);
    end();
}

static void test_additive_attention(void **state)
{
    (void)state;
    begin();
    /* One unit: score_s = c * tanh(a q + b k_s). */
    porta_tensor_id q = input("q", PORTA_F32, DIMS(1, 1, 1), (double[]){1});
    porta_tensor_id keys = input("keys", PORTA_F32, DIMS(1, 2, 1), (double[]){0.5, -1});
    porta_tensor_id vals = input("vals", PORTA_F32, DIMS(1, 2, 1), (double[]){2, 4});
    porta_tensor_id wq = weight("wq", PORTA_F32, DIMS(1, 1), (double[]){1});
    porta_tensor_id wk = weight("wk", PORTA_F32, DIMS(1, 1), (double[]){2});
    porta_tensor_id vv = weight("vv", PORTA_F32, DIMS(1), (double[]){3});
    porta_tensor_id o = node("additive_attention", OPS(q, keys, vals, wq, wk, vv), NO_ATTRS);
    porta_tensor_id mk = input("mk", PORTA_I32, DIMS(1, 1, 2), (double[]){0, 1});
    porta_tensor_id om = node("additive_attention", OPS(q, keys, vals, wq, wk, vv, mk), NO_ATTRS);
    double s0 = 3 * tanh(2.0), s1 = 3 * tanh(-1.0);
    double p0 = 1.0 / (1.0 + exp(s1 - s0));
    EXPECT(run(o), TOL, 2 * p0 + 4 * (1 - p0));
    EXPECT(run(om), TOL, 4);
    end();
}

static void test_luong_attention(void **state)
{
    (void)state;
    begin();
    porta_tensor_id q = input("q", PORTA_F32, DIMS(1, 1, 2), (double[]){1, 2});
    porta_tensor_id keys = input("keys", PORTA_F32, DIMS(1, 2, 2), (double[]){1, 0, 0, 1});
    porta_tensor_id vals = input("vals", PORTA_F32, DIMS(1, 2, 1), (double[]){5, 7});
    porta_tensor_id w = weight("w", PORTA_F32, DIMS(2, 2), (double[]){0, 1, 1, 0});
    porta_tensor_id dot = node("luong_attention", OPS(q, keys, vals), NO_ATTRS);
    porta_tensor_id dot2 = node("luong_attention", OPS(q, keys, vals), ATTRS(AF("scale", 0.5)));
    porta_tensor_id gen = node("luong_attention", OPS(q, keys, vals, w),
                               ATTRS(AS("score", "general")));
    porta_tensor_id mk = input("mk", PORTA_F32, DIMS(2), (double[]){-INFINITY, 0});
    porta_tensor_id masked = node_named("luong_attention", OPS(q, keys, vals), "mask", mk,
                                        NO_ATTRS);
    double p = 1.0 / (1.0 + exp(1.0));     /* scores (1, 2) */
    EXPECT(run(dot), TOL, 5 * p + 7 * (1 - p));
    p = 1.0 / (1.0 + exp(0.5));            /* scores (0.5, 1) */
    EXPECT(run(dot2), TOL, 5 * p + 7 * (1 - p));
    p = 1.0 / (1.0 + exp(-1.0));           /* q^T W = (2, 1): scores (2, 1) */
    EXPECT(run(gen), TOL, 5 * p + 7 * (1 - p));
    EXPECT(run(masked), TOL, 7);
    end();
}

/* ---- shape ops ------------------------------------------------------------------------------- */

static void test_reshape_permute(void **state)
{
    (void)state;
    begin();
    double data[24];
    for (int i = 0; i < 24; i++) data[i] = i;
    porta_tensor_id x = input("x", PORTA_F32, DIMS(2, 3, 4), data);
    porta_tensor_id r = node("reshape", OPS(x), ATTRS(AL("shape", 4, -1)));
    porta_tensor_id p = node("permute", OPS(x), ATTRS(AL("perm", 2, 0, 1)));
    expect_near(run(r), data, 24, 0);
    const double *out = run(p); /* out [4, 2, 3]: out[i, j, k] = x[j, k, i] */
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 2; j++)
            for (int k = 0; k < 3; k++)
                assert_true(out[(i * 2 + j) * 3 + k] == data[(j * 3 + k) * 4 + i]);
    end();
}

static void test_split_merge_heads(void **state)
{
    (void)state;
    begin();
    double data[16];
    for (int i = 0; i < 16; i++) data[i] = i;
    porta_tensor_id x = input("x", PORTA_F32, DIMS(2, 2, 4), data); /* [B, S, H*D], H = 2 */
    porta_tensor_id s = node("split_heads", OPS(x), ATTRS(AI("heads", 2)));
    porta_tensor_id m = node("merge_heads", OPS(s), NO_ATTRS);
    const double *out = run(s); /* [2, 2, 2, 2] */
    for (int b = 0; b < 2; b++)
        for (int h = 0; h < 2; h++)
            for (int t = 0; t < 2; t++)
                for (int d = 0; d < 2; d++)
                    assert_true(out[((b * 2 + h) * 2 + t) * 2 + d] == data[(b * 2 + t) * 4 + h * 2 + d]);
    EXPECT(out, 0, 0, 1, 4, 5, 2, 3, 6, 7, 8, 9, 12, 13, 10, 11, 14, 15);
    expect_near(run(m), data, 16, 0);
    end();
}

static void test_concat_slice(void **state)
{
    (void)state;
    begin();
    porta_tensor_id a = input("a", PORTA_F32, DIMS(2, 1), (double[]){1, 2});
    porta_tensor_id b = input("b", PORTA_F32, DIMS(2, 2), (double[]){3, 4, 5, 6});
    porta_tensor_id c1 = node("concat", OPS(a, b), NO_ATTRS);
    porta_tensor_id c0 = node("concat", OPS(b, b, a, a), ATTRS(AI("axis", 1)));
    porta_tensor_id r = input("r", PORTA_F32, DIMS(2, 4), (double[]){0, 1, 2, 3, 4, 5, 6, 7});
    porta_tensor_id s1 = node("slice", OPS(r), ATTRS(AI("start", 1), AI("end", -1)));
    porta_tensor_id s2 = node("slice", OPS(r), ATTRS(AI("start", 2)));
    porta_tensor_id s3 = node("slice", OPS(r), ATTRS(AI("axis", 0), AI("start", 1), AI("end", 2)));
    porta_tensor_id rows = input("rows", PORTA_F32, DIMS(1, 2), (double[]){8, 9});
    porta_tensor_id c2 = node("concat", OPS(b, rows), ATTRS(AI("axis", 0)));
    EXPECT(run(c1), 0, 1, 3, 4, 2, 5, 6);
    EXPECT(run(c0), 0, 3, 4, 3, 4, 1, 1, 5, 6, 5, 6, 2, 2);
    EXPECT(run(s1), 0, 1, 2, 5, 6);
    EXPECT(run(s2), 0, 2, 3, 6, 7);
    EXPECT(run(s3), 0, 4, 5, 6, 7);
    EXPECT(run(c2), 0, 3, 4, 5, 6, 8, 9);
    end();
}

/* ---- embeddings and positions ---------------------------------------------------------------- */

static void test_embedding(void **state)
{
    (void)state;
    begin();
    porta_tensor_id ids = input("ids", PORTA_I32, DIMS(2, 2), (double[]){2, -1, 3, 0});
    porta_tensor_id table = weight("table", PORTA_F32, DIMS(3, 2),
                                   (double[]){0, 1, 10, 11, 20, 21});
    porta_tensor_id e = node("embedding", OPS(ids, table), NO_ATTRS);
    EXPECT(run(e), 0, 20, 21, 0, 0, 0, 0, 0, 1);
    end();
}

static void test_sinusoidal(void **state)
{
    (void)state;
    begin();
    porta_tensor_id x = input("x", PORTA_F32, DIMS(1, 2, 4), (double[]){0, 0, 0, 0, 1, 1, 1, 1});
    porta_tensor_id s = node("sinusoidal", OPS(x), NO_ATTRS);
    porta_tensor_id s3 = node("sinusoidal", OPS(x), ATTRS(AI("offset", 3), AF("base", 4.0)));
    /* p = 0: [0, 1, 0, 1]; p = 1, D = 4: angles 1 and 1 / 10000^(2/4) = 0.01. */
    EXPECT(run(s), TOL, 0, 1, 0, 1, 1 + sin(1.0), 1 + cos(1.0), 1 + sin(0.01), 1 + cos(0.01));
    /* offset 3, base 4: p = 3, 4; angles p and p / 2. */
    EXPECT(run(s3), TOL, sin(3.0), cos(3.0), sin(1.5), cos(1.5), 1 + sin(4.0), 1 + cos(4.0),
           1 + sin(2.0), 1 + cos(2.0));
    end();
}

static void test_rope(void **state)
{
    (void)state;
    begin();
    porta_tensor_id x = input("x", PORTA_F32, DIMS(2, 4), (double[]){1, 2, 3, 4, 1, 2, 3, 4});
    porta_tensor_id half = node("rope", OPS(x), NO_ATTRS);
    porta_tensor_id inter = node("rope", OPS(x), ATTRS(AS("mode", "interleaved")));
    porta_tensor_id shifted = node("rope", OPS(x), ATTRS(AI("offset", 1)));
    double c1 = cos(1.0), s1 = sin(1.0), c2 = cos(0.01), s2 = sin(0.01);
    /* Row 0 (p = 0) is unchanged; row 1 (p = 1): angles 1 and 0.01. */
    EXPECT(run(half), TOL, 1, 2, 3, 4, 1 * c1 - 3 * s1, 2 * c2 - 4 * s2, 1 * s1 + 3 * c1,
           2 * s2 + 4 * c2);
    EXPECT(run(inter), TOL, 1, 2, 3, 4, 1 * c1 - 2 * s1, 1 * s1 + 2 * c1, 3 * c2 - 4 * s2,
           3 * s2 + 4 * c2);
    const double *sh = run(shifted), *h = run(half);
    expect_near(sh, h + 4, 4, TOL); /* offset 1 moves row 0 to p = 1 */
    end();
}

/* A run-time position operand overrides the offset attribute. */
static void test_position_operand(void **state)
{
    (void)state;
    begin();
    porta_tensor_id x = input("x", PORTA_F32, DIMS(2, 4), (double[]){1, 2, 3, 4, 1, 2, 3, 4});
    porta_tensor_id pos = input("pos", PORTA_I32, DIMS(1), (double[]){1});
    porta_tensor_id shifted = node("rope", OPS(x), ATTRS(AI("offset", 1)));
    porta_tensor_id dynamic = node("rope", OPS(x, pos), ATTRS(AI("offset", 7)));
    porta_tensor_id zeros = input("zeros", PORTA_F32, DIMS(1, 4), (double[]){0, 0, 0, 0});
    porta_tensor_id sin_dynamic = node("sinusoidal", OPS(zeros, pos), NO_ATTRS);
    expect_near(run(dynamic), run(shifted), 8, TOL);
    EXPECT(run(sin_dynamic), TOL, sin(1.0), cos(1.0), sin(0.01), cos(0.01));
    end();
}

/* ---- convolution and caches ------------------------------------------------------------------ */

static void test_causal_conv1d(void **state)
{
    (void)state;
    begin();
    porta_tensor_id x = input("x", PORTA_F32, DIMS(1, 5, 1), (double[]){1, 2, 3, 4, 5});
    porta_tensor_id w = weight("w", PORTA_F32, DIMS(1, 1, 2), (double[]){10, 1});
    porta_tensor_id b = weight("b", PORTA_F32, DIMS(1), (double[]){0.5});
    porta_tensor_id y = node("causal_conv1d", OPS(x, w, b), ATTRS(AI("dilation", 2)));
    porta_tensor_id y1 = node("causal_conv1d", OPS(x, w), NO_ATTRS);
    /* out[t] = 1 * x[t] + 10 * x[t - 2] + 0.5 */
    /* Two channels in, two out: w[o, c, k]. */
    porta_tensor_id x2 = input("x2", PORTA_F32, DIMS(1, 2, 2), (double[]){1, 2, 3, 4});
    porta_tensor_id w2 = weight("w2", PORTA_F32, DIMS(2, 2, 1), (double[]){1, 0, 1, 1});
    porta_tensor_id y2 = node("causal_conv1d", OPS(x2, w2), NO_ATTRS);
    EXPECT(run(y), TOL, 1.5, 2.5, 13.5, 24.5, 35.5);
    /* out[t] = x[t] + 10 * x[t - 1] */
    EXPECT(run(y1), TOL, 1, 12, 23, 34, 45);
    EXPECT(run(y2), TOL, 1, 3, 3, 7);
    end();
}

static void test_kv_append(void **state)
{
    (void)state;
    begin();
    porta_tensor_id cache = input("cache", PORTA_F32, DIMS(1, 4, 2),
                                  (double[]){1, 2, 3, 4, 5, 6, 7, 8});
    porta_tensor_id rows = input("rows", PORTA_F32, DIMS(1, 2, 2), (double[]){-1, -2, -3, -4});
    porta_tensor_id p3 = input("p3", PORTA_I32, DIMS(1), (double[]){3});
    porta_tensor_id pn = input("pn", PORTA_I32, DIMS(1), (double[]){-5});
    porta_tensor_id st = node("kv_append", OPS(cache, rows), ATTRS(AI("start", 1)));
    porta_tensor_id d0 = node("kv_append", OPS(cache, rows), NO_ATTRS);
    porta_tensor_id at3 = node("kv_append", OPS(cache, rows, p3), NO_ATTRS);
    porta_tensor_id atn = node_named("kv_append", OPS(cache, rows), "position", pn, NO_ATTRS);
    EXPECT(run(st), 0, 1, 2, -1, -2, -3, -4, 7, 8);
    EXPECT(run(d0), 0, -1, -2, -3, -4, 5, 6, 7, 8);
    EXPECT(run(at3), 0, 1, 2, 3, 4, 5, 6, -1, -2); /* the second row falls past the end */
    EXPECT(run(atn), 0, -1, -2, -3, -4, 5, 6, 7, 8);
    end();
}

/* ---- executor errors ------------------------------------------------------------------------- */

static void test_unvalidated_graph_is_an_error(void **state)
{
    (void)state;
    begin();
    porta_tensor_id x = input("x", PORTA_F32, DIMS(2), NULL);
    node("relu", OPS(x), NO_ATTRS);
    porta_reference_values *v;
    assert_int_equal(porta_reference_values_create(graph, &v), PORTA_ERROR_INVALID_ARGUMENT);
    assert_null(v);
    assert_non_null(strstr(porta_last_error(ctx), "not validated"));
    end();
}

/* ---- seed fill ------------------------------------------------------------------------------- */

static void test_fill(void **state)
{
    (void)state;
    double a[64], b[64];
    /* Same names in another order, another graph: the same values. */
    begin();
    porta_tensor_id x = input("x", PORTA_F32, DIMS(4, 16), NULL);
    porta_tensor_id w = weight("w", PORTA_F32, DIMS(16, 4), NULL);
    porta_tensor_id g = weight("g", PORTA_F32, DIMS(64), NULL);
    porta_tensor_id ids = input("ids", PORTA_I32, DIMS(64), NULL);
    porta_tensor_id h = input("h", PORTA_F16, DIMS(64), NULL);
    node("relu", OPS(x), NO_ATTRS);
    assert_int_equal(porta_graph_validate(graph), PORTA_OK);
    porta_reference_fill(graph, x, 42, a);
    for (int i = 0; i < 64; i++) assert_true(a[i] >= -1.0 && a[i] < 1.0 && a[i] == (float)a[i]);
    porta_reference_fill(graph, w, 42, b);
    for (int i = 0; i < 64; i++) assert_true(b[i] >= -0.5 && b[i] < 0.5); /* 1/sqrt(4) */
    porta_reference_fill(graph, g, 42, b);
    for (int i = 0; i < 64; i++) assert_true(b[i] >= 0.5 && b[i] < 1.5);
    porta_reference_fill(graph, ids, 42, b);
    for (int i = 0; i < 64; i++) assert_true(b[i] >= 0 && b[i] < 8 && b[i] == floor(b[i]));
    porta_reference_fill(graph, h, 42, b);
    for (int i = 0; i < 64; i++) assert_true(b[i] == porta_half_round(b[i]));
    end();

    begin();
    input("other", PORTA_F32, DIMS(3), NULL);
    porta_tensor_id x2 = input("x", PORTA_F32, DIMS(4, 16), NULL);
    node("relu", OPS(x2), NO_ATTRS);
    assert_int_equal(porta_graph_validate(graph), PORTA_OK);
    porta_reference_fill(graph, x2, 42, b);
    expect_near(b, a, 64, 0);
    porta_reference_fill(graph, x2, 43, b);
    int same = 0;
    for (int i = 0; i < 64; i++) same += a[i] == b[i];
    assert_true(same < 4);
    end();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_half_rounding),
        cmocka_unit_test(test_binary_broadcast),
        cmocka_unit_test(test_unary),
        cmocka_unit_test(test_cast),
        cmocka_unit_test(test_f16_rounded_after_each_node),
        cmocka_unit_test(test_matmul),
        cmocka_unit_test(test_linear),
        cmocka_unit_test(test_softmax),
        cmocka_unit_test(test_norms),
        cmocka_unit_test(test_sdpa_single_key),
        cmocka_unit_test(test_sdpa_scores),
        cmocka_unit_test(test_sdpa_causal_and_masks),
        cmocka_unit_test(test_sdpa_grouped_heads),
        cmocka_unit_test(test_attention_equals_split_sdpa_merge),
        cmocka_unit_test(test_additive_attention),
        cmocka_unit_test(test_luong_attention),
        cmocka_unit_test(test_reshape_permute),
        cmocka_unit_test(test_split_merge_heads),
        cmocka_unit_test(test_concat_slice),
        cmocka_unit_test(test_embedding),
        cmocka_unit_test(test_sinusoidal),
        cmocka_unit_test(test_rope),
        cmocka_unit_test(test_position_operand),
        cmocka_unit_test(test_causal_conv1d),
        cmocka_unit_test(test_kv_append),
        cmocka_unit_test(test_unvalidated_graph_is_an_error),
        cmocka_unit_test(test_fill),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
