/* Plans and programs: the memory planner's decisions (reuse, in place, views, dependencies, the
 * encoder example's peak), and the program API on every device: values in and out, weights from
 * a safetensors file, profiles, and the errors of each call. */
#include "graphs/graph.h"
#include "graphs/lower/lower.h"
#include "graphs/ops.h"
#include "host/reference/reference.h"
#include "runtime_fixture.h"

#include <math.h>
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

static porta_plan *plan_with(porta_context *context, porta_graph *graph, bool fusion)
{
    porta_plan_limits limits = porta_plan_default_limits();
    limits.fusion = fusion;
    porta_plan *plan = NULL;
    porta_status status = porta_plan_create(graph, &limits, &plan);
    if (status != PORTA_OK) fail_msg("plan: %s", porta_last_error(context));
    return plan;
}

static porta_plan *plan_of(porta_context *context, porta_graph *graph)
{
    return plan_with(context, graph, true);
}

/* A chain of elementwise ops reuses one arena slot: each result is written over the last. */
static void test_chain_runs_in_place(void **state)
{
    (void)state;
    porta_context *context;
    assert_int_equal(porta_context_create(&context), PORTA_OK);
    porta_graph *graph = parse(context, "graph chain\n"
                                        "input x : f32[1000]\n"
                                        "a = relu(x)\n"
                                        "b = tanh(a)\n"
                                        "c = sigmoid(b)\n"
                                        "d = scale(c, s=2)\n"
                                        "output d\n");
    porta_plan *plan = plan_of(context, graph);
    /* a, b and c are intermediates of 4000 bytes (4096 aligned); each dies where the next is
     * made, so b and c take a's bytes and the arena holds one */
    assert_int_equal(plan->intermediates_bytes, 3 * 4096);
    assert_int_equal(plan->arena_peak, 4096);
    assert_int_equal(plan->n_in_place, 2);
    /* step 1 reads what step 0 wrote */
    assert_true(plan->n_steps >= 4);
    assert_int_equal(plan->steps[1].n_deps >= 1, 1);
    assert_int_equal(plan->steps[1].deps[0], 0);
    porta_plan_destroy(plan);
    porta_graph_destroy(graph);
    porta_context_destroy(context);
}

/* Two results alive at once never share bytes; once dead, their space is reused. */
static void test_live_ranges_do_not_overlap(void **state)
{
    (void)state;
    porta_context *context;
    assert_int_equal(porta_context_create(&context), PORTA_OK);
    porta_graph *graph = parse(context, "graph fork\n"
                                        "input x : f32[64, 64]\n"
                                        "a = relu(x)\n"
                                        "b = tanh(x)\n"
                                        "c = add(a, b)\n"
                                        "d = sigmoid(c)\n"
                                        "e = mul(d, x)\n"
                                        "output e\n");
    porta_plan *plan = plan_of(context, graph);
    const porta_graph *g = plan->graph;
    porta_plan_ref a = plan->tensor_at[porta_graph_find_tensor(g, "a")];
    porta_plan_ref b = plan->tensor_at[porta_graph_find_tensor(g, "b")];
    assert_int_equal(a.buffer, 0);
    assert_int_equal(b.buffer, 0);
    assert_true(a.offset + a.bytes <= b.offset || b.offset + b.bytes <= a.offset);
    /* a, b, c, d: four intermediates of 16 KiB, never more than two alive */
    assert_int_equal(plan->intermediates_bytes, 4 * 16384);
    assert_int_equal(plan->arena_peak, 2 * 16384);
    porta_plan_destroy(plan);
    porta_graph_destroy(graph);
    porta_context_destroy(context);
}

static void test_reshape_is_a_view(void **state)
{
    (void)state;
    porta_context *context;
    assert_int_equal(porta_context_create(&context), PORTA_OK);
    porta_graph *graph = parse(context, "graph view\n"
                                        "input x : f32[4, 6]\n"
                                        "a = relu(x)\n"
                                        "r = reshape(a, shape=[2, 12])\n"
                                        "y = tanh(r)\n"
                                        "output y\n");
    porta_plan *plan = plan_of(context, graph);
    assert_int_equal(plan->n_views, 1);
    assert_int_equal(plan->n_steps, 2);
    porta_plan_ref a = plan->tensor_at[porta_graph_find_tensor(plan->graph, "a")];
    porta_plan_ref r = plan->tensor_at[porta_graph_find_tensor(plan->graph, "r")];
    assert_int_equal(a.buffer, r.buffer);
    assert_int_equal(a.offset, r.offset);
    porta_plan_destroy(plan);
    porta_graph_destroy(graph);
    porta_context_destroy(context);
}

/* The encoder example's arena holds at most half of what its intermediates add up to, unfused
 * (fusion leaves fewer intermediates to share the arena); fused, the peak is no higher. */
static void test_encoder_arena_peak(void **state)
{
    (void)state;
    porta_context *context;
    assert_int_equal(porta_context_create(&context), PORTA_OK);
    char path[4096];
    snprintf(path, sizeof path, "%s/graphs/examples/encoder_layer.pg", getenv("PORTA_SOURCE_ROOT"));
    porta_graph *graph = NULL;
    if (porta_graph_load(context, path, &graph) != PORTA_OK)
        fail_msg("%s", porta_last_error(context));
    porta_plan *plan = plan_with(context, graph, false);
    porta_plan *fused = plan_with(context, graph, true);
    print_message("encoder_layer: arena %llu of %llu bytes of intermediates, fused %llu of %llu\n",
                  (unsigned long long)plan->arena_peak,
                  (unsigned long long)plan->intermediates_bytes,
                  (unsigned long long)fused->arena_peak,
                  (unsigned long long)fused->intermediates_bytes);
    assert_true(plan->arena_peak * 2 <= plan->intermediates_bytes);
    assert_true(fused->arena_peak <= plan->arena_peak);
    assert_true(fused->intermediates_bytes < plan->intermediates_bytes);
    porta_plan_destroy(fused);
    porta_plan_destroy(plan);
    porta_graph_destroy(graph);
    porta_context_destroy(context);
}

/* Three intermediates of 80,000 bytes live at once, with a sum after them; with a binding range
 * of 128 KiB no two fit in one buffer. */
static const char *three_live_graph = "graph three\n"
                                      "input x : f32[20000]\n"
                                      "a = relu(x)\n"
                                      "b = tanh(x)\n"
                                      "c = sigmoid(x)\n"
                                      "d = add(a, b)\n"
                                      "e = add(d, c)\n"
                                      "output e\n";
#define SMALL_BINDING_BYTES 131072

/* Past the binding range the intermediates go to several arenas, each within the range, and no
 * binding reaches past the end of its buffer. */
static void test_arena_splits_at_binding_range(void **state)
{
    (void)state;
    porta_context *context;
    assert_int_equal(porta_context_create(&context), PORTA_OK);
    porta_graph *graph = parse(context, three_live_graph);
    porta_plan_limits limits = porta_plan_default_limits();
    limits.max_buffer_bytes = SMALL_BINDING_BYTES;
    porta_plan *plan = NULL;
    porta_status status = porta_plan_create(graph, &limits, &plan);
    if (status != PORTA_OK) fail_msg("plan: %s", porta_last_error(context));
    assert_int_equal(plan->n_arenas, 3);
    int arenas = 0;
    for (int b = 0; b < plan->n_buffers; b++) {
        if (plan->buffers[b].kind != PORTA_PLAN_ARENA) continue;
        arenas++;
        assert_true(plan->buffers[b].bytes <= SMALL_BINDING_BYTES);
    }
    assert_int_equal(arenas, plan->n_arenas);
    assert_int_equal(plan->buffers[0].kind, PORTA_PLAN_ARENA);
    for (int i = 0; i < plan->n_steps; i++)
        for (int b = 0; b < plan->steps[i].n_bindings; b++) {
            porta_plan_ref ref = plan->steps[i].bindings[b];
            assert_true(ref.offset + ref.bytes <= plan->buffers[ref.buffer].bytes);
            assert_int_equal(ref.offset % limits.buffer_alignment, 0);
        }
    porta_plan_destroy(plan);
    /* with the default range the same graph keeps one arena */
    plan = plan_of(context, graph);
    assert_int_equal(plan->n_arenas, 1);
    porta_plan_destroy(plan);
    porta_graph_destroy(graph);
    porta_context_destroy(context);
}

static void expect_refused(porta_context *context, const char *text, const char *const *words)
{
    porta_graph *graph = parse(context, text);
    porta_plan_limits limits = porta_plan_default_limits();
    limits.max_buffer_bytes = 1 << 20;
    porta_plan *plan = NULL;
    assert_int_equal(porta_plan_create(graph, &limits, &plan), PORTA_ERROR_UNSUPPORTED);
    assert_null(plan);
    const char *message = porta_last_error(context);
    for (int i = 0; words[i]; i++)
        if (!strstr(message, words[i])) fail_msg("'%s' missing from: %s", words[i], message);
    porta_graph_destroy(graph);
}

/* A tensor larger than one binding can reach is refused with its name, its size and the limit:
 * a weight, an intermediate and an output. */
static void test_tensor_past_binding_range_refused(void **state)
{
    (void)state;
    porta_context *context;
    assert_int_equal(porta_context_create(&context), PORTA_OK);
    expect_refused(context,
                   "graph emb\n"
                   "input ids : i32[4]\n"
                   "weight table : f32[1000, 384]\n"
                   "y = embedding(ids, table)\n"
                   "output y\n",
                   (const char *const[]){"'table'", "1536000 bytes", "1048576 bytes", NULL});
    expect_refused(context,
                   "graph big\n"
                   "input x : f32[300000]\n"
                   "h = relu(x)\n"
                   "y = scale(h, s=2)\n"
                   "output y\n",
                   (const char *const[]){"'x'", "1200000 bytes", "1048576 bytes", NULL});
    expect_refused(context,
                   "graph wide\n"
                   "input x : f32[1000, 1]\n"
                   "input z : f32[1, 300]\n"
                   "h = matmul(x, z)\n"
                   "y = scale(h, s=2)\n"
                   "output y\n",
                   (const char *const[]){"'h'", "1200000 bytes", "1048576 bytes", NULL});
    porta_context_destroy(context);
}

/* ---- programs on every device ---------------------------------------------------------------- */

static const char *linear_graph = "graph lin\n"
                                  "input x : f32[3, 4]\n"
                                  "weight w : f32[5, 4] = \"layer.w\"\n"
                                  "weight b : f16[5] = \"layer.b\"\n"
                                  "h = linear(x, w, cast(b, to=\"f32\"))\n"
                                  "y = gelu(h)\n"
                                  "output y\n";

static void put_le32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

/* A safetensors file with layer.w as F16 and layer.b as BF16, from the given values. */
static void write_weights(const char *path, const double *w, const double *b)
{
    char header[256];
    int n = snprintf(header, sizeof header,
                     "{\"layer.w\":{\"dtype\":\"F16\",\"shape\":[5,4],\"data_offsets\":[0,40]},"
                     "\"layer.b\":{\"dtype\":\"BF16\",\"shape\":[5],\"data_offsets\":[40,50]}}");
    while (n % 8) header[n++] = ' ';
    unsigned char data[50];
    uint16_t half[20];
    porta_reference_pack(PORTA_F16, w, 20, half);
    for (int i = 0; i < 20; i++) {
        data[2 * i] = (unsigned char)(half[i] & 0xff);
        data[2 * i + 1] = (unsigned char)(half[i] >> 8);
    }
    for (int i = 0; i < 5; i++) {
        float f = (float)b[i];
        uint32_t bits;
        memcpy(&bits, &f, 4);
        uint16_t top = (uint16_t)(bits >> 16);   /* b values are exact in bf16 */
        data[40 + 2 * i] = (unsigned char)(top & 0xff);
        data[40 + 2 * i + 1] = (unsigned char)(top >> 8);
    }
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    unsigned char length[8] = {0};
    put_le32(length, (uint32_t)n);
    fwrite(length, 1, 8, f);
    fwrite(header, 1, (size_t)n, f);
    fwrite(data, 1, sizeof data, f);
    fclose(f);
}

static void test_program_values_and_weights(void **state)
{
    rt_devices *devices = *state;
    porta_context *context = devices->context;
    porta_graph *graph = parse(context, linear_graph);
    porta_reference_values *values;
    RT_CHECK(context, porta_reference_values_create(graph, &values));
    porta_tensor_id x = porta_graph_find_tensor(graph, "x"), w = porta_graph_find_tensor(graph, "w"),
                    b = porta_graph_find_tensor(graph, "b"), y = porta_graph_find_tensor(graph, "y");
    for (int i = 0; i < 12; i++) values->data[x][i] = (i % 5) * 0.25 - 0.5;
    for (int i = 0; i < 20; i++) values->data[w][i] = ((i * 7) % 11) * 0.125 - 0.625;
    for (int i = 0; i < 5; i++) values->data[b][i] = 0.5 + 0.25 * i;
    porta_reference_round(PORTA_F16, values->data[w], 20);
    RT_CHECK(context, porta_reference_run(graph, values));
    char dir[256], path[300];
    rt_temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/w.safetensors", dir);
    write_weights(path, values->data[w], values->data[b]);
    porta_weights *weights;
    RT_CHECK(context, porta_weights_open(context, path, &weights));

    for (int d = 0; d < devices->count; d++) {
        porta_program *program;
        RT_CHECK(context, porta_program_create(devices->devices[d], graph, 0, &program));
        float xs[12], ys[15];
        for (int i = 0; i < 12; i++) xs[i] = (float)values->data[x][i];
        RT_CHECK(context, porta_program_set(program, "x", xs, sizeof xs));
        RT_CHECK(context, porta_program_set_weights(program, weights));
        RT_CHECK(context, porta_program_run(program));
        RT_CHECK(context, porta_program_get(program, "y", ys, sizeof ys));
        for (int i = 0; i < 15; i++)
            if (fabs(ys[i] - values->data[y][i]) > 1e-5 + 1e-4 * fabs(values->data[y][i]))
                fail_msg("%s: y[%d] = %.9g, reference %.9g", porta_device_info(devices->devices[d])->id,
                         i, ys[i], values->data[y][i]);
        /* weights read back as set: the bias as f16 bits */
        uint16_t bias[5];
        RT_CHECK(context, porta_program_get(program, "b", bias, sizeof bias));
        double back[5];
        porta_reference_unpack(PORTA_F16, bias, 5, back);
        for (int i = 0; i < 5; i++) assert_true(back[i] == values->data[b][i]);
        /* and the weight, which the CPU devices' gemm holds in panels of 16 columns */
        float wback[20];
        RT_CHECK(context, porta_program_get(program, "w", wback, sizeof wback));
        for (int i = 0; i < 20; i++) assert_true(wback[i] == (float)values->data[w][i]);
        porta_program_destroy(program);
    }
    porta_weights_close(weights);
    remove(path);
    rt_remove_dir(dir);
    porta_reference_values_destroy(values);
    porta_graph_destroy(graph);
}

/* Two programs of one device set from one weights handle hold one device copy of the weights;
 * a weight one of them then sets gets its own copy, and the other keeps the file's values. */
static void test_program_shared_weights(void **state)
{
    rt_devices *devices = *state;
    porta_context *context = devices->context;
    static const char *step_graph = "graph step\n"
                                    "input x : f32[1, 4]\n"
                                    "weight w : f32[5, 4] = \"layer.w\"\n"
                                    "weight b : f16[5] = \"layer.b\"\n"
                                    "y = linear(x, w, cast(b, to=\"f32\"))\n"
                                    "output y\n";
    porta_graph *graphs[2] = {parse(context, linear_graph), parse(context, step_graph)};
    double w[20], b[5];
    for (int i = 0; i < 20; i++) w[i] = ((i * 3) % 7) * 0.25 - 0.75;     /* exact in f16 */
    for (int i = 0; i < 5; i++) b[i] = 0.5 * i - 1.0;
    char dir[256], path[300];
    rt_temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/w.safetensors", dir);
    write_weights(path, w, b);
    porta_weights *weights;
    RT_CHECK(context, porta_weights_open(context, path, &weights));
    const float x[4] = {1.0f, -2.0f, 0.5f, 3.0f};
    for (int d = 0; d < devices->count; d++) {
        porta_device *device = devices->devices[d];
        const char *id = porta_device_info(device)->id;
        porta_program *first, *step;
        RT_CHECK(context, porta_program_create(device, graphs[0], 0, &first));
        RT_CHECK(context, porta_program_create(device, graphs[1], 0, &step));
        RT_CHECK(context, porta_program_set_weights(first, weights));
        uint64_t one_copy = porta_shared_bytes(device);
        assert_true(one_copy >= 20 * 4 + 5 * 4);
        RT_CHECK(context, porta_program_set_weights(step, weights));
        if (porta_shared_bytes(device) != one_copy)
            fail_msg("%s: %llu bytes of weights for two programs, %llu for one", id,
                     (unsigned long long)porta_shared_bytes(device),
                     (unsigned long long)one_copy);
        /* the step program reads the shared copy: y = w x + b exactly (small binary fractions) */
        float y[5], expect[5];
        for (int o = 0; o < 5; o++) {
            expect[o] = (float)b[o];
            for (int i = 0; i < 4; i++) expect[o] += (float)w[o * 4 + i] * x[i];
        }
        RT_CHECK(context, porta_program_set(step, "x", x, sizeof x));
        RT_CHECK(context, porta_program_run(step));
        RT_CHECK(context, porta_program_get(step, "y", y, sizeof y));
        for (int o = 0; o < 5; o++)
            if (y[o] != expect[o]) fail_msg("%s: shared y[%d] = %g, expected %g", id, o, y[o], expect[o]);
        /* the first program changes w: it gets its own buffer; the step program's stays */
        float doubled[20];
        for (int i = 0; i < 20; i++) doubled[i] = 2.0f * (float)w[i];
        RT_CHECK(context, porta_program_set(first, "w", doubled, sizeof doubled));
        RT_CHECK(context, porta_program_run(step));
        RT_CHECK(context, porta_program_get(step, "y", y, sizeof y));
        for (int o = 0; o < 5; o++)
            if (y[o] != expect[o]) fail_msg("%s: after the other's set, y[%d] = %g", id, o, y[o]);
        float back[20];
        RT_CHECK(context, porta_program_get(first, "w", back, sizeof back));
        for (int i = 0; i < 20; i++) assert_true(back[i] == doubled[i]);
        RT_CHECK(context, porta_program_get(step, "w", back, sizeof back));
        for (int i = 0; i < 20; i++) assert_true(back[i] == (float)w[i]);
        porta_program_destroy(first);
        porta_program_destroy(step);
        if (porta_shared_bytes(device) != 0)
            fail_msg("%s: %llu bytes of weights outlive their programs", id,
                     (unsigned long long)porta_shared_bytes(device));
    }
    porta_weights_close(weights);
    remove(path);
    rt_remove_dir(dir);
    porta_graph_destroy(graphs[0]);
    porta_graph_destroy(graphs[1]);
}

static int64_t elements_of(const porta_graph *graph, porta_tensor_id t)
{
    int64_t n = 0;
    porta_shape_elements(&graph->tensors[t].shape, &n);
    return n;
}

/* A group of projections on every device (one gemm where the device's gemm takes the panels):
 * the result matches the reference and every weight and bias reads back as set, though the
 * group's share one buffer, packed. */
static void test_program_projection_weights(void **state)
{
    rt_devices *devices = *state;
    porta_context *context = devices->context;
    porta_graph *graph = parse(context, "graph proj\ninput x : f32[5, 8]\n"
                                        "weight wq : f32[16, 8]\nweight bq : f32[16]\n"
                                        "weight wk : f32[32, 8]\nweight bk : f32[32]\n"
                                        "weight wv : f32[16, 8]\nweight bv : f32[16]\n"
                                        "q = linear(x, wq, bq)\nk = linear(x, wk, bk)\n"
                                        "v = linear(x, wv, bv)\ny = concat(q, k, v, axis=1)\n"
                                        "output y\n");
    static const char *const names[] = {"x", "wq", "bq", "wk", "bk", "wv", "bv"};
    enum { N_SET = sizeof names / sizeof names[0] };
    porta_reference_values *values;
    RT_CHECK(context, porta_reference_values_create(graph, &values));
    for (int n = 0; n < N_SET; n++) {
        porta_tensor_id t = porta_graph_find_tensor(graph, names[n]);
        for (int64_t i = 0; i < elements_of(graph, t); i++)
            values->data[t][i] = (double)((i * 7 + n * 3) % 13) * 0.125 - 0.75;
    }
    RT_CHECK(context, porta_reference_run(graph, values));
    porta_tensor_id y = porta_graph_find_tensor(graph, "y");
    for (int d = 0; d < devices->count; d++) {
        const char *id = porta_device_info(devices->devices[d])->id;
        porta_program *program;
        RT_CHECK(context, porta_program_create(devices->devices[d], graph, 0, &program));
        char *text = NULL;
        RT_CHECK(context, porta_program_describe(program, &text));
        print_message("%s: %s\n", id, strstr(text, "linear+linear+linear") ? "fused" : "apart");
        free(text);
        float host[256], back[256];
        for (int n = 0; n < N_SET; n++) {
            porta_tensor_id t = porta_graph_find_tensor(graph, names[n]);
            int64_t count = elements_of(graph, t);
            for (int64_t i = 0; i < count; i++) host[i] = (float)values->data[t][i];
            RT_CHECK(context, porta_program_set(program, names[n], host,
                                                (size_t)count * sizeof *host));
        }
        RT_CHECK(context, porta_program_run(program));
        float ys[5 * 64];
        RT_CHECK(context, porta_program_get(program, "y", ys, sizeof ys));
        for (int i = 0; i < 5 * 64; i++)
            if (fabs(ys[i] - values->data[y][i]) > 1e-5 + 1e-5 * fabs(values->data[y][i]))
                fail_msg("%s: y[%d] = %.9g, reference %.9g", id, i, ys[i], values->data[y][i]);
        for (int n = 1; n < N_SET; n++) {
            porta_tensor_id t = porta_graph_find_tensor(graph, names[n]);
            int64_t count = elements_of(graph, t);
            RT_CHECK(context, porta_program_get(program, names[n], back,
                                                (size_t)count * sizeof *back));
            for (int64_t i = 0; i < count; i++)
                if (back[i] != (float)values->data[t][i])
                    fail_msg("%s: %s[%lld] reads %g, set %g", id, names[n], (long long)i,
                             back[i], values->data[t][i]);
        }
        porta_program_destroy(program);
    }
    porta_reference_values_destroy(values);
    porta_graph_destroy(graph);
}

/* The split arena on every device: the binding range lowered so the three live intermediates
 * take three arenas, and the result matches the reference. */
static void test_program_split_arena(void **state)
{
    rt_devices *devices = *state;
    porta_context *context = devices->context;
    porta_graph *graph = parse(context, three_live_graph);
    porta_reference_values *values;
    RT_CHECK(context, porta_reference_values_create(graph, &values));
    porta_tensor_id x = porta_graph_find_tensor(graph, "x"), e = porta_graph_find_tensor(graph, "e");
    enum { N = 20000 };
    float *xs = malloc(N * sizeof *xs), *es = malloc(N * sizeof *es);
    assert_non_null(xs);
    assert_non_null(es);
    for (int i = 0; i < N; i++) {
        xs[i] = (float)((i % 97) * 0.0625 - 3.0);
        values->data[x][i] = xs[i];
    }
    RT_CHECK(context, porta_reference_run(graph, values));
    char limit[32];
    snprintf(limit, sizeof limit, "%d", SMALL_BINDING_BYTES);
    setenv("PORTA_MAX_BINDING_BYTES", limit, 1);
    for (int d = 0; d < devices->count; d++) {
        const char *id = porta_device_info(devices->devices[d])->id;
        porta_program *program;
        RT_CHECK(context, porta_program_create(devices->devices[d], graph, 0, &program));
        /* the program's plan has an arena buffer for each of the three live intermediates */
        char *text = NULL;
        RT_CHECK(context, porta_program_describe(program, &text));
        int arenas = 0;
        for (const char *line = text; line; line = strchr(line + 1, '\n'))
            if (!strncmp(line, "\n  b", 4) && strstr(line, " arena ") &&
                strstr(line, " arena ") < strchr(line + 1, '\n'))
                arenas++;
        free(text);
        if (arenas < 3) fail_msg("%s: %d arena buffers, expected 3 or more", id, arenas);
        RT_CHECK(context, porta_program_set(program, "x", xs, N * sizeof *xs));
        RT_CHECK(context, porta_program_run(program));
        RT_CHECK(context, porta_program_get(program, "e", es, N * sizeof *es));
        for (int i = 0; i < N; i++)
            if (fabs(es[i] - values->data[e][i]) > 1e-5 + 1e-5 * fabs(values->data[e][i]))
                fail_msg("%s: e[%d] = %.9g, reference %.9g", id, i, es[i], values->data[e][i]);
        porta_program_destroy(program);
    }
    unsetenv("PORTA_MAX_BINDING_BYTES");
    free(xs);
    free(es);
    porta_reference_values_destroy(values);
    porta_graph_destroy(graph);
}

static void test_program_errors(void **state)
{
    rt_devices *devices = *state;
    porta_context *context = devices->context;
    porta_graph *graph = parse(context, linear_graph);
    porta_program *program;
    RT_CHECK(context, porta_program_create(devices->devices[0], graph, 0, &program));
    float small[3] = {0};
    rt_expect_error(context, porta_program_set(program, "x", small, sizeof small), PORTA_ERROR_SHAPE,
                 "'x' is f32[3, 4], 48 bytes; 12 bytes were given");
    rt_expect_error(context, porta_program_set(program, "nope", small, sizeof small),
                 PORTA_ERROR_NOT_FOUND, "no tensor 'nope'");
    rt_expect_error(context, porta_program_set(program, "y", small, 60), PORTA_ERROR_INVALID_ARGUMENT,
                 "computed by the graph");
    rt_expect_error(context, porta_program_get(program, "h", small, 60), PORTA_ERROR_INVALID_ARGUMENT,
                 "'h' is an intermediate");
    int count = 0;
    porta_step_time times[4];
    RT_CHECK(context, porta_program_run(program));
    rt_expect_error(context, porta_program_profile(program, times, 4, &count), PORTA_ERROR_UNSUPPORTED,
                 "without PORTA_PROGRAM_PROFILE");
    porta_program_destroy(program);
    porta_program_destroy(NULL);

    /* a weights file without the bias names it */
    char dir[256], path[300];
    rt_temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/w.safetensors", dir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    const char *header = "{\"layer.w\":{\"dtype\":\"F32\",\"shape\":[5,4],\"data_offsets\":[0,80]}}";
    unsigned char length[8] = {0};
    put_le32(length, (uint32_t)strlen(header));
    fwrite(length, 1, 8, f);
    fwrite(header, 1, strlen(header), f);
    float zeros[20] = {0};
    fwrite(zeros, 1, sizeof zeros, f);
    fclose(f);
    porta_weights *weights;
    RT_CHECK(context, porta_weights_open(context, path, &weights));
    RT_CHECK(context, porta_program_create(devices->devices[0], graph, 0, &program));
    rt_expect_error(context, porta_program_set_weights(program, weights), PORTA_ERROR_NOT_FOUND,
                 "layer.b");
    porta_program_destroy(program);
    porta_weights_close(weights);
    remove(path);
    rt_remove_dir(dir);
    porta_graph_destroy(graph);
}

static void test_program_profile(void **state)
{
    rt_devices *devices = *state;
    porta_context *context = devices->context;
    porta_graph *graph = parse(context, linear_graph);
    /* fused, one step names both ops; with PORTA_FUSION=0, linear and gelu; either way the f16
     * to f32 cast is a step of its own (a converting copy: f16 is held as halves) */
    static const struct {
        const char *fusion, *op;
        int steps;
    } passes[] = {{"1", "linear+gelu", 2}, {"0", "gelu", 3}};
    for (int pass = 0; pass < 2; pass++) {
        setenv("PORTA_FUSION", passes[pass].fusion, 1);
        for (int d = 0; d < devices->count; d++) {
            porta_device *device = devices->devices[d];
            if (!porta_device_info(device)->timestamps) continue;
            porta_program *program;
            RT_CHECK(context,
                     porta_program_create(device, graph, PORTA_PROGRAM_PROFILE, &program));
            RT_CHECK(context, porta_program_run(program));
            porta_step_time times[16];
            int count = 0;
            RT_CHECK(context, porta_program_profile(program, times, 16, &count));
            assert_int_equal(count, passes[pass].steps);
            bool saw_y = false;
            for (int i = 0; i < count && i < 16; i++) {
                assert_true(times[i].ns >= 0);
                if (!strcmp(times[i].op, passes[pass].op) && !strcmp(times[i].tensor, "y"))
                    saw_y = true;
            }
            assert_true(saw_y);
            porta_program_destroy(program);
        }
        unsetenv("PORTA_FUSION");
    }
    porta_graph_destroy(graph);
}

/* The loop budget (graphs/lower/lower.h): every step of a looping kernel states its iterations
 * within the budget, long reductions split over steps (conv1d) or invocations (norms), and a
 * step past it is refused with the node, the kernel and the count. */
static void test_loop_budget(void **state)
{
    (void)state;
    porta_context *context;
    assert_int_equal(porta_context_create(&context), PORTA_OK);
    porta_graph *graph = parse(context, "graph long\n"
                                        "input x : f32[1, 3, 70000]\n"
                                        "weight w : f32[2, 70000, 2]\n"
                                        "input s : f32[2, 5000000]\n"
                                        "y = causal_conv1d(x, w)\n"
                                        "z = softmax(s)\n"
                                        "output y\noutput z\n");
    porta_plan *plan = plan_of(context, graph);
    int conv_steps = 0;
    for (int i = 0; i < plan->n_steps; i++) {
        assert_true(plan->steps[i].loop_iterations <= PORTA_LOWER_LOOP_BUDGET);
        assert_true(plan->steps[i].loop_iterations > 0);
        conv_steps += !strcmp(plan->steps[i].kernel->name, "conv1d");
    }
    /* 2 taps x 70000 channels: two ranges of channels per tap */
    assert_int_equal(conv_steps, 4);
    porta_plan_destroy(plan);
    porta_graph_destroy(graph);

    /* a row of 2^28: 256 invocations (the most a work-group has) still loop 2^19 times each */
    graph = parse(context, "graph too_long\ninput x : f32[1, 268435456]\ny = softmax(x)\n"
                           "output y\n");
    porta_plan_limits limits = porta_plan_default_limits();
    porta_plan *refused = NULL;
    assert_int_equal(porta_plan_create(graph, &limits, &refused), PORTA_ERROR_UNSUPPORTED);
    assert_null(refused);
    const char *message = porta_last_error(context);
    assert_non_null(strstr(message, "node 'y' (softmax)"));
    assert_non_null(strstr(message, "kernel norm_rows would loop 524296 times"));
    porta_graph_destroy(graph);
    porta_context_destroy(context);
}

/* The variant the rule takes for a reduction, by its key. */
static const char *variant_for(const porta_plan *plan, const char *key)
{
    for (int i = 0; i < plan->n_choices; i++)
        if (!strcmp(plan->choices[i].family, "norm") && !strcmp(plan->choices[i].key, key))
            return plan->choices[i].names[plan->choices[i].variant];
    fail_msg("no norm choice for %s", key);
    return NULL;
}

/* Reductions as norm_rows steps: strided rows keyed by their stride and, on a GPU, one
 * invocation a row; every step within the loop budget; rows past 2^24 refused for argmax. */
static void test_reduction_plans(void **state)
{
    (void)state;
    porta_context *context;
    assert_int_equal(porta_context_create(&context), PORTA_OK);
    porta_graph *graph = parse(context, "graph pool\n"
                                        "input h : f32[8, 128, 384]\n"
                                        "input m : i32[8, 128]\n"
                                        "s = sum(tanh(h), axis=0)\n"
                                        "t = max(tanh(h))\n"
                                        "p = masked_mean(tanh(h), m)\n"
                                        "output s, t, p\n");
    porta_plan *plan = plan_of(context, graph);
    assert_string_equal(variant_for(plan, "r49152,c8,s49152"), "rows");
    assert_string_equal(variant_for(plan, "r1024,c384"), "lanes");
    assert_string_equal(variant_for(plan, "r3072,c128,s384"), "rows");
    for (int i = 0; i < plan->n_steps; i++)
        assert_true(plan->steps[i].loop_iterations <= PORTA_LOWER_LOOP_BUDGET);
    porta_plan_destroy(plan);
    porta_graph_destroy(graph);

    graph = parse(context, "graph wide\ninput x : f32[2, 16777217]\ny = argmax(x)\noutput y\n");
    porta_plan_limits limits = porta_plan_default_limits();
    porta_plan *refused = NULL;
    assert_int_equal(porta_plan_create(graph, &limits, &refused), PORTA_ERROR_UNSUPPORTED);
    assert_null(refused);
    assert_non_null(strstr(porta_last_error(context), "node 'y' (argmax)"));
    assert_non_null(strstr(porta_last_error(context), "argmax over 16777217 columns"));
    porta_graph_destroy(graph);
    porta_context_destroy(context);
}

int main(void)
{
    const struct CMUnitTest plans[] = {
        cmocka_unit_test(test_reduction_plans),
        cmocka_unit_test(test_chain_runs_in_place),
        cmocka_unit_test(test_live_ranges_do_not_overlap),
        cmocka_unit_test(test_reshape_is_a_view),
        cmocka_unit_test(test_encoder_arena_peak),
        cmocka_unit_test(test_arena_splits_at_binding_range),
        cmocka_unit_test(test_tensor_past_binding_range_refused),
        cmocka_unit_test(test_loop_budget),
    };
    const struct CMUnitTest programs[] = {
        cmocka_unit_test(test_program_values_and_weights),
        cmocka_unit_test(test_program_projection_weights),
        cmocka_unit_test(test_program_shared_weights),
        cmocka_unit_test(test_program_split_arena),
        cmocka_unit_test(test_program_errors),
        cmocka_unit_test(test_program_profile),
    };
    int failed = cmocka_run_group_tests_name("plans", plans, NULL, NULL);
    failed += cmocka_run_group_tests_name("programs", programs, rt_devices_setup,
                                          rt_devices_teardown);
    return failed;
}
