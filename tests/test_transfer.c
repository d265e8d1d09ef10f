/* State kept on the device, on every device: a carry (an output copied into an input after every
 * run) accumulates across runs, also past one copy dispatch's reach and in f16; porta_program_copy
 * hands one program's output to another program's input; and each call's errors. */
#include "runtime_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static porta_graph *parse(porta_context *context, const char *text)
{
    porta_graph *graph = NULL;
    porta_status status = porta_graph_parse(context, text, strlen(text), "test.pg", &graph);
    if (status != PORTA_OK) fail_msg("parse: %s", porta_last_error(context));
    return graph;
}

/* acc ← acc + x after every run: after R runs, acc = acc₀ + R·x exactly (small integers). */
static void carry_accumulates(rt_devices *all, porta_device *device, int n)
{
    porta_context *context = all->context;
    char text[256];
    snprintf(text, sizeof text,
             "graph accumulate\ninput acc : f32[%d]\ninput x : f32[%d]\n"
             "next = add(acc, x)\noutput next\n", n, n);
    porta_graph *graph = parse(context, text);
    porta_program *program = NULL;
    RT_CHECK(context, porta_program_create(device, graph, 0, &program));
    float *acc = malloc((size_t)n * sizeof *acc), *x = malloc((size_t)n * sizeof *x);
    float *got = malloc((size_t)n * sizeof *got);
    assert_non_null(acc);
    assert_non_null(x);
    assert_non_null(got);
    for (int i = 0; i < n; i++) {
        acc[i] = (float)(i % 1000);
        x[i] = (float)(i % 7) - 3.0f;
    }
    RT_CHECK(context, porta_program_set(program, "acc", acc, (size_t)n * 4));
    RT_CHECK(context, porta_program_set(program, "x", x, (size_t)n * 4));
    RT_CHECK(context, porta_program_carry(program, "acc", "next"));
    enum { RUNS = 3 };
    for (int r = 0; r < RUNS; r++) RT_CHECK(context, porta_program_run(program));
    /* the last run's output is acc₀ + 3x, and the carry has made the input the same */
    const char *names[] = {"next", "acc"};
    for (int k = 0; k < 2; k++) {
        RT_CHECK(context, porta_program_get(program, names[k], got, (size_t)n * 4));
        for (int i = 0; i < n; i++)
            if (got[i] != acc[i] + RUNS * x[i])
                fail_msg("%s: n=%d: %s[%d] is %g, expected %g", device->desc.id, n, names[k], i,
                         got[i], acc[i] + RUNS * x[i]);
    }
    /* setting the input again restarts from the new value */
    RT_CHECK(context, porta_program_set(program, "acc", acc, (size_t)n * 4));
    RT_CHECK(context, porta_program_run(program));
    RT_CHECK(context, porta_program_get(program, "acc", got, (size_t)n * 4));
    for (int i = 0; i < n; i++)
        if (got[i] != acc[i] + x[i])
            fail_msg("%s: after set: acc[%d] is %g", device->desc.id, i, got[i]);
    free(acc);
    free(x);
    free(got);
    porta_program_destroy(program);
    porta_graph_destroy(graph);
}

static void test_carry(void **state)
{
    rt_devices *all = *state;
    for (int d = 0; d < all->count; d++) {
        carry_accumulates(all, all->devices[d], 1031);
        /* past 65,535 groups of 64: two copy dispatches */
        carry_accumulates(all, all->devices[d], 65535 * 64 + 5);
    }
}

/* f16 tensors are held as halves on the device, an odd count padded to a whole word: the carry
 * moves them unchanged. */
static void test_carry_f16(void **state)
{
    rt_devices *all = *state;
    porta_context *context = all->context;
    porta_graph *graph = parse(context, "graph halves\ninput h : f16[3, 5]\n"
                                        "y = scale(h, s=2)\noutput y\n");
    /* 1.5 · 2^k as f16 bit patterns: doubling stays exact */
    uint16_t h[15], got[15];
    for (int i = 0; i < 15; i++) h[i] = (uint16_t)(0x3e00 + (i << 10) / 4);
    for (int d = 0; d < all->count; d++) {
        porta_program *program = NULL;
        RT_CHECK(context, porta_program_create(all->devices[d], graph, 0, &program));
        RT_CHECK(context, porta_program_set(program, "h", h, sizeof h));
        RT_CHECK(context, porta_program_carry(program, "h", "y"));
        RT_CHECK(context, porta_program_run(program));
        RT_CHECK(context, porta_program_run(program));
        RT_CHECK(context, porta_program_get(program, "h", got, sizeof got));
        for (int i = 0; i < 15; i++)    /* ×4: the exponent field up by 2 */
            if (got[i] != (uint16_t)(h[i] + (2 << 10)))
                fail_msg("%s: h[%d] is 0x%04x, expected 0x%04x", all->devices[d]->desc.id, i,
                         got[i], h[i] + (2 << 10));
        porta_program_destroy(program);
    }
    porta_graph_destroy(graph);
}

/* A prefill-like program's output becomes a step program's input without the host. */
static void test_copy_between_programs(void **state)
{
    rt_devices *all = *state;
    porta_context *context = all->context;
    porta_graph *first = parse(context, "graph first\ninput x : f32[4, 6]\ninput w : f32[4, 6]\n"
                                        "y = scale(x, s=3)\nz = mul(x, w)\noutput y, z\n");
    porta_graph *second = parse(context, "graph second\ninput c : f32[4, 6]\n"
                                         "input e : f32[4, 6]\nout = sub(c, e)\noutput out\n");
    float x[24], w[24], got[24];
    for (int i = 0; i < 24; i++) {
        x[i] = (float)i - 11.0f;
        w[i] = (float)(i % 5);
    }
    for (int d = 0; d < all->count; d++) {
        porta_program *a = NULL, *b = NULL;
        RT_CHECK(context, porta_program_create(all->devices[d], first, 0, &a));
        RT_CHECK(context, porta_program_create(all->devices[d], second, 0, &b));
        RT_CHECK(context, porta_program_set(a, "x", x, sizeof x));
        RT_CHECK(context, porta_program_set(a, "w", w, sizeof w));
        RT_CHECK(context, porta_program_submit(a));     /* copy waits for the run itself */
        const char *to[] = {"c", "e"}, *from[] = {"y", "z"};
        RT_CHECK(context, porta_program_copy(b, to, a, from, 2));
        RT_CHECK(context, porta_program_run(b));
        RT_CHECK(context, porta_program_get(b, "out", got, sizeof got));
        for (int i = 0; i < 24; i++)
            if (got[i] != 3.0f * x[i] - x[i] * w[i])
                fail_msg("%s: out[%d] is %g, expected %g", all->devices[d]->desc.id, i, got[i],
                         3.0f * x[i] - x[i] * w[i]);
        /* an input copied within one program */
        const char *self_to[] = {"e"}, *self_from[] = {"c"};
        RT_CHECK(context, porta_program_copy(b, self_to, b, self_from, 1));
        RT_CHECK(context, porta_program_run(b));
        RT_CHECK(context, porta_program_get(b, "out", got, sizeof got));
        for (int i = 0; i < 24; i++)
            if (got[i] != 0.0f) fail_msg("%s: c - c[%d] is %g", all->devices[d]->desc.id, i, got[i]);
        porta_program_destroy(a);
        porta_program_destroy(b);
    }
    porta_graph_destroy(first);
    porta_graph_destroy(second);
}

static void test_errors(void **state)
{
    rt_devices *all = *state;
    porta_context *context = all->context;
    porta_graph *graph = parse(context, "graph g\ninput a : f32[2, 3]\ninput b : f32[3, 2]\n"
                                        "input i : i32[2, 3]\nweight w : f32[2, 3]\n"
                                        "y = add(a, w)\noutput y\n");
    porta_program *p = NULL;
    RT_CHECK(context, porta_program_create(all->devices[0], graph, 0, &p));
    rt_expect_error(context, porta_program_carry(p, "b", "y"), PORTA_ERROR_SHAPE,
                 "'b' is f32[3, 2] but 'y' is f32[2, 3]");
    rt_expect_error(context, porta_program_carry(p, "i", "y"), PORTA_ERROR_SHAPE, "i32[2, 3]");
    rt_expect_error(context, porta_program_carry(p, "w", "y"), PORTA_ERROR_INVALID_ARGUMENT,
                 "'w' of graph 'g' is not an input");
    rt_expect_error(context, porta_program_carry(p, "y", "a"), PORTA_ERROR_INVALID_ARGUMENT,
                 "'y' of graph 'g' is not an input");
    rt_expect_error(context, porta_program_carry(p, "a", "nope"), PORTA_ERROR_NOT_FOUND,
                 "graph 'g' has no tensor 'nope'");
    RT_CHECK(context, porta_program_carry(p, "a", "y"));
    rt_expect_error(context, porta_program_carry(p, "a", "y"), PORTA_ERROR_INVALID_ARGUMENT,
                 "'a' already receives 'y'");
    const char *to[] = {"a"}, *from[] = {"w"};
    rt_expect_error(context, porta_program_copy(p, to, p, from, 1), PORTA_ERROR_INVALID_ARGUMENT,
                 "'w' of graph 'g' is not an input or output");
    rt_expect_error(context, porta_program_copy(p, to, p, NULL, 1), PORTA_ERROR_INVALID_ARGUMENT,
                 "no names for 1 copies");
    if (all->count > 1) {
        porta_program *q = NULL;
        RT_CHECK(context, porta_program_create(all->devices[1], graph, 0, &q));
        const char *ys[] = {"y"};
        rt_expect_error(context, porta_program_copy(q, to, p, ys, 1), PORTA_ERROR_INVALID_ARGUMENT,
                     "different devices");
        porta_program_destroy(q);
    }
    porta_program_destroy(p);
    porta_graph_destroy(graph);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_carry),
        cmocka_unit_test(test_carry_f16),
        cmocka_unit_test(test_copy_between_programs),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, rt_devices_setup, rt_devices_teardown);
}
