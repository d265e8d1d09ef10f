/* Named dims bound per run, on every device: one program compiled at the maximum runs an
 * attention block (its positions a slice of a table up to the named length) at many lengths, back and forth, each checked against the reference
 * run at that length; binding again compiles nothing; and each error of porta_program_bind. */
#include "graphs/graph.h"
#include "host/reference/reference.h"
#include "runtime/program_internal.h"
#include "runtime_fixture.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static porta_graph *parse(porta_context *context, const char *text)
{
    porta_graph *graph = NULL;
    porta_status status = porta_graph_parse(context, text, strlen(text), "test.pg", &graph);
    if (status == PORTA_OK) status = porta_graph_validate(graph);
    if (status != PORTA_OK) fail_msg("parse: %s", porta_last_error(context));
    return graph;
}

static const char *block = "graph block\n"
                           "input x : f32[2, S <= 40, 24]\n"
                           "input keep : i32[2, 1, 1, S]\n"
                           "weight w : f32[72, 24]\n"
                           "weight b : f32[72]\n"
                           "weight g : f32[24]\n"
                           "weight wpe : f32[40, 24]\n"
                           "xp = add(x, slice(wpe, axis=0, start=0, end=S))\n"
                           "qkv = linear(xp, w, b)\n"
                           "q = slice(qkv, axis=-1, start=0, end=24)\n"
                           "k = slice(qkv, axis=-1, start=24, end=48)\n"
                           "v = slice(qkv, axis=-1, start=48, end=72)\n"
                           "a = attention(q, k, v, mask=keep, heads=4)\n"
                           "y = layernorm(add(xp, a), g, eps=1e-5)\n"
                           "output y\n";

static double value_at(int seed, int i)
{
    return sin(0.37 * i + seed) * 0.8;
}

/* The program's run at S = length against the reference on the graph bound alike. */
static void check_length(porta_context *context, porta_program *program, const porta_graph *graph,
                         const char *device, int64_t length)
{
    const char *names[] = {"S"};
    RT_CHECK(context, porta_program_bind(program, names, &length, 1));
    porta_graph *bound;
    RT_CHECK(context, porta_graph_clone(graph, &bound));
    RT_CHECK(context, porta_graph_bind(bound, names, &length, 1));
    porta_reference_values *values;
    RT_CHECK(context, porta_reference_values_create(bound, &values));
    const char *weights[] = {"w", "b", "g", "wpe"};
    for (int k = 0; k < 4; k++) {
        porta_tensor_id t = porta_graph_find_tensor(bound, weights[k]);
        int64_t n = 0;
        porta_shape_elements(&bound->tensors[t].shape, &n);
        for (int64_t i = 0; i < n; i++)
            values->data[t][i] = (double)(float)(k == 2 ? 1.0 + 0.1 * value_at(k, (int)i)
                                                        : 0.3 * value_at(k, (int)i));
    }
    porta_tensor_id x = porta_graph_find_tensor(bound, "x"),
                    keep = porta_graph_find_tensor(bound, "keep"),
                    y = porta_graph_find_tensor(bound, "y");
    int64_t nx = 2 * length * 24, nk = 2 * length;
    float *xs = malloc((size_t)nx * sizeof *xs), *ys = malloc((size_t)nx * sizeof *ys);
    int32_t *keeps = malloc((size_t)nk * sizeof *keeps);
    assert_non_null(xs);
    assert_non_null(ys);
    assert_non_null(keeps);
    for (int64_t i = 0; i < nx; i++) values->data[x][i] = xs[i] = (float)value_at(7, (int)i);
    /* the second sequence's last third is padding */
    for (int64_t i = 0; i < nk; i++)
        values->data[keep][i] = keeps[i] = i < length || i - length < (2 * length + 2) / 3;
    RT_CHECK(context, porta_reference_run(bound, values));
    RT_CHECK(context, porta_program_set(program, "x", xs, (size_t)nx * 4));
    RT_CHECK(context, porta_program_set(program, "keep", keeps, (size_t)nk * 4));
    RT_CHECK(context, porta_program_run(program));
    RT_CHECK(context, porta_program_get(program, "y", ys, (size_t)nx * 4));
    for (int64_t i = 0; i < nx; i++) {
        double ref = values->data[y][i];
        if (fabs(ys[i] - ref) > 1e-4 + 1e-3 * fabs(ref))
            fail_msg("%s: S = %lld: y[%lld] = %.9g, reference %.9g", device, (long long)length,
                     (long long)i, ys[i], ref);
    }
    free(xs);
    free(ys);
    free(keeps);
    porta_reference_values_destroy(values);
    porta_graph_destroy(bound);
}

static void set_weights(porta_context *context, porta_program *program)
{
    static float w[72 * 24], b[72], g[24], wpe[40 * 24];
    for (int i = 0; i < 40 * 24; i++) wpe[i] = (float)(0.3 * value_at(3, i));
    RT_CHECK(context, porta_program_set(program, "wpe", wpe, sizeof wpe));
    for (int i = 0; i < 72 * 24; i++) w[i] = (float)(0.3 * value_at(0, i));
    for (int i = 0; i < 72; i++) b[i] = (float)(0.3 * value_at(1, i));
    for (int i = 0; i < 24; i++) g[i] = (float)(1.0 + 0.1 * value_at(2, i));
    RT_CHECK(context, porta_program_set(program, "w", w, sizeof w));
    RT_CHECK(context, porta_program_set(program, "b", b, sizeof b));
    RT_CHECK(context, porta_program_set(program, "g", g, sizeof g));
}

static void test_lengths(void **state)
{
    rt_devices *all = *state;
    porta_context *context = all->context;
    porta_graph *graph = parse(context, block);
    static const int64_t lengths[] = {40, 7, 33, 1, 16, 40, 7, 16};
    for (int d = 0; d < all->count; d++) {
        const char *id = all->devices[d]->desc.id;
        porta_program *program;
        RT_CHECK(context, porta_program_create(all->devices[d], graph, 0, &program));
        set_weights(context, program);
        int compiled_first_pass = 0;
        for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
            check_length(context, program, graph, id, lengths[i]);
            if (i == 4) compiled_first_pass = program->n_kernels;
        }
        /* lengths seen before compile nothing new */
        if (program->n_kernels != compiled_first_pass)
            fail_msg("%s: %d kernels after the first five lengths, %d after binding them again",
                     id, compiled_first_pass, program->n_kernels);
        porta_program_destroy(program);
    }
    /* the caller's graph stays at the maxima */
    assert_int_equal(graph->tensors[porta_graph_find_tensor(graph, "y")].shape.dims[1], 40);
    porta_graph_destroy(graph);
}

static void test_errors(void **state)
{
    rt_devices *all = *state;
    porta_context *context = all->context;
    porta_graph *graph = parse(context, "graph fixed_view\n"
                                        "input x : f32[S <= 8, 4]\n"
                                        "y = reshape(scale(x, s=2), shape=[2, 16])\n"
                                        "output y\n");
    porta_graph *plain = parse(context, "graph plain\ninput x : f32[4]\ny = relu(x)\noutput y\n");
    porta_program *program, *other;
    RT_CHECK(context, porta_program_create(all->devices[0], graph, 0, &program));
    RT_CHECK(context, porta_program_create(all->devices[0], plain, 0, &other));
    const char *s[] = {"S"}, *t[] = {"T"};
    int64_t nine = 9, zero = 0, four = 4;
    rt_expect_error(context, porta_program_bind(program, s, &nine, 1), PORTA_ERROR_SHAPE,
                 "S = 9 is outside 1..8");
    rt_expect_error(context, porta_program_bind(program, s, &zero, 1), PORTA_ERROR_SHAPE,
                 "S = 0 is outside 1..8");
    rt_expect_error(context, porta_program_bind(program, t, &four, 1), PORTA_ERROR_NOT_FOUND,
                 "no dim named 'T'");
    rt_expect_error(context, porta_program_bind(other, s, &four, 1), PORTA_ERROR_INVALID_ARGUMENT,
                 "graph 'plain' has no named dims");
    /* a fixed reshape holds only at S = 8: the message names the binding and the node */
    porta_status status = porta_program_bind(program, s, &four, 1);
    if (status == PORTA_OK || !strstr(porta_last_error(context), "with S = 4") ||
        !strstr(porta_last_error(context), "reshape"))
        fail_msg("bind S = 4: %s: %s", porta_status_name(status), porta_last_error(context));
    /* and the program still runs at S = 8 */
    float x[32], y[32];
    for (int i = 0; i < 32; i++) x[i] = (float)i;
    RT_CHECK(context, porta_program_set(program, "x", x, sizeof x));
    RT_CHECK(context, porta_program_run(program));
    RT_CHECK(context, porta_program_get(program, "y", y, sizeof y));
    for (int i = 0; i < 32; i++) assert_true(y[i] == 2.0f * x[i]);
    porta_program_destroy(program);
    porta_program_destroy(other);
    porta_graph_destroy(graph);
    porta_graph_destroy(plain);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lengths),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, rt_devices_setup, rt_devices_teardown);
}
