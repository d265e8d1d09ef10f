/* 8-bit weights (docs/weights.md, "8-bit weights"): the quantization rule on known values, both
 * device layouts, the .pg spelling, porta_graph_quantize_weights, the bytes a plan gives them,
 * and setting and reading one back on every device. Conformance checks the products. */
#include "graphs/graph.h"
#include "graphs/lower/plan.h"
#include "graphs/quantize.h"
#include "tests/runtime_fixture.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static porta_graph *parse(porta_context *context, const char *text)
{
    porta_graph *graph = NULL;
    if (porta_graph_parse(context, text, strlen(text), "test.pg", &graph) != PORTA_OK)
        fail_msg("parse: %s", porta_last_error(context));
    return graph;
}

/* w [2, 3] per channel: channel 0's scale is 2.54 / 127 = 0.02 (0.013 / 0.02 = 0.65 rounds to
 * 1), channel 1's exactly 2^-7 (its largest magnitude is 127 / 128), and 62.5 / 128 is a tie:
 * halves round away from zero, to 63 (not to even). */
static const float w_values[6] = {2.54f, 1.0f, 0.013f, -0.9921875f, 0.48828125f, 0.0f};
static const int8_t w_q[6] = {127, 50, 1, -127, 63, 0};

static void test_rule(void **state)
{
    (void)state;
    porta_quant_layout layout = {3, 3, 2, 1, 3};        /* i8c, [N 2, K 3] as linear reads it */
    assert_int_equal(porta_quant_value_words(&layout), 2);
    assert_int_equal(porta_quant_bytes(&layout), 16);
    uint8_t held[16];
    porta_quantize(&layout, w_values, held);
    for (int i = 0; i < 6; i++) assert_int_equal((int8_t)held[i], w_q[i]);
    float scales[2];
    memcpy(scales, held + 8, sizeof scales);
    assert_true(scales[0] == (float)((double)2.54f / 127.0));
    assert_true(scales[1] == 0.0078125f);
    float back[6];
    porta_dequantize(&layout, held, back);
    for (int i = 0; i < 6; i++) assert_true(back[i] == (float)w_q[i] * scales[i / 3]);
    /* the same weight as matmul's b [K 3, N 2] without transpose: channels are columns */
    float columns[6];
    for (int k = 0; k < 3; k++)
        for (int n = 0; n < 2; n++) columns[k * 2 + n] = w_values[n * 3 + k];
    porta_quant_layout as_b = {3, 3, 2, 2, 1};
    uint8_t held_b[16];
    porta_quantize(&as_b, columns, held_b);
    assert_memory_equal(held, held_b, sizeof held);
}

/* q8_0: two blocks of 32 per channel, each with its own scale; the panels hold the same values
 * and scales, zeros past the last column. */
static void test_blocks_and_panels(void **state)
{
    (void)state;
    enum { N = 3, K = 64 };
    float w[N * K];
    for (int i = 0; i < N * K; i++) w[i] = (float)((i * 7) % 23 - 11) * (i % K < 32 ? 0.5f : 4.0f);
    porta_quant_layout layout = {32, K, N, 1, K};
    uint64_t bytes = porta_quant_bytes(&layout);
    assert_int_equal(bytes, N * K + N * 2 * 4);
    uint8_t *held = malloc(bytes);
    porta_quantize(&layout, w, held);
    const float *scales = (const float *)(held + N * K);
    for (int n = 0; n < N; n++)
        for (int b = 0; b < 2; b++) {
            double most = 0;
            for (int k = b * 32; k < b * 32 + 32; k++) most = fmax(most, fabs(w[n * K + k]));
            assert_true(scales[n * 2 + b] == (float)(most / 127.0));
        }
    uint64_t panel_bytes = porta_quant_panel_bytes(&layout);
    assert_int_equal(porta_quant_panel_value_bytes(&layout), 1024);   /* 1 panel x 64 x 16 */
    assert_int_equal(panel_bytes, 1024 + 2 * 16 * 4);
    uint8_t *panels = malloc(panel_bytes);
    assert_true(porta_quantize_as(&layout, true, w, panels));
    for (int k = 0; k < K; k++)
        for (int j = 0; j < 16; j++)
            assert_int_equal(panels[k * 16 + j], j < N ? held[j * K + k] : 0);
    float flat[N * K], through[N * K];
    porta_dequantize(&layout, held, flat);
    assert_true(porta_dequantize_as(&layout, true, panels, through));
    assert_memory_equal(flat, through, sizeof flat);
    free(panels);
    free(held);
}

static void test_text_and_formats(void **state)
{
    (void)state;
    porta_context *context;
    assert_int_equal(porta_context_create(&context), PORTA_OK);
    porta_graph *graph = parse(context, "graph q\ninput x : f32[4, 64]\nweight w : i8c[32, 64]\n"
                                        "weight v : q8_0[32, 8]\ny = linear(x, w)\n"
                                        "z = matmul(y, v)\noutput z\n");
    char *text = NULL;
    assert_int_equal(porta_graph_print(graph, &text), PORTA_OK);
    assert_non_null(strstr(text, "weight w : i8c[32, 64]"));
    assert_non_null(strstr(text, "weight v : q8_0[32, 8]"));
    porta_graph *again = parse(context, text);
    porta_free(text);
    porta_tensor_id v = porta_graph_find_tensor(again, "v");
    assert_int_equal(porta_graph_weight_format(again, v), PORTA_WEIGHT_Q8_0);
    porta_quant_layout layout = porta_quant_layout_of(again, v);
    assert_int_equal(layout.k_rows, 32);
    assert_int_equal(layout.n_cols, 8);
    assert_int_equal(layout.block, 32);
    porta_graph_destroy(again);
    /* the API: an f16 weight may not be 8-bit, and setting a format asks for validation */
    porta_tensor_id w = porta_graph_find_tensor(graph, "w");
    assert_int_equal(porta_graph_set_weight_format(graph, w, PORTA_WEIGHT_PLAIN), PORTA_OK);
    assert_false(graph->validated);
    assert_int_equal(porta_graph_set_weight_format(graph, 0, PORTA_WEIGHT_I8C),
                     PORTA_ERROR_INVALID_ARGUMENT);
    assert_non_null(strstr(porta_last_error(context), "is not a weight"));
    assert_int_equal(porta_graph_validate(graph), PORTA_OK);
    porta_graph_destroy(graph);
    assert_null(porta_weight_format_name((porta_weight_format)7));
    porta_context_destroy(context);
}

/* Every weight a linear or matmul reads alone becomes 8-bit; a weight another op reads too, or
 * (q8_0) one whose K is no multiple of 32, stays f32. */
static void test_quantize_weights(void **state)
{
    (void)state;
    porta_context *context;
    assert_int_equal(porta_context_create(&context), PORTA_OK);
    const char *text = "graph t\ninput ids : i32[1, 5]\ninput x : f32[5, 40]\n"
                       "weight emb : f32[50, 64]\nweight w : f32[64, 64]\nweight u : f32[8, 40]\n"
                       "h = embedding(ids, emb)\nlogits = matmul(linear(h, w), emb, "
                       "transpose_b=true)\ny = linear(x, u)\noutput logits\noutput y\n";
    for (int f = 0; f < 2; f++) {
        porta_graph *graph = parse(context, text);
        int count = -1;
        porta_weight_format format = f ? PORTA_WEIGHT_Q8_0 : PORTA_WEIGHT_I8C;
        assert_int_equal(porta_graph_quantize_weights(graph, format, &count), PORTA_OK);
        assert_int_equal(count, f ? 1 : 2);
        assert_int_equal(porta_graph_weight_format(graph, porta_graph_find_tensor(graph, "w")),
                         format);
        assert_int_equal(porta_graph_weight_format(graph, porta_graph_find_tensor(graph, "emb")),
                         PORTA_WEIGHT_PLAIN);
        assert_int_equal(porta_graph_weight_format(graph, porta_graph_find_tensor(graph, "u")),
                         f ? PORTA_WEIGHT_PLAIN : PORTA_WEIGHT_I8C);
        assert_true(graph->validated);
        porta_graph_destroy(graph);
    }
    porta_context_destroy(context);
}

/* The weight's own buffer: int8 values and scales, flat for the tiles (a GPU's rule), in panels
 * where the rule takes them (the CPU drivers'). */
static void test_plan_bytes(void **state)
{
    (void)state;
    porta_context *context;
    assert_int_equal(porta_context_create(&context), PORTA_OK);
    porta_graph *graph = parse(context, "graph p\ninput x : f32[32, 96]\n"
                                        "weight w : q8_0[40, 96]\ny = linear(x, w)\noutput y\n");
    porta_tensor_id w = porta_graph_find_tensor(graph, "w");
    porta_plan_limits limits = porta_plan_default_limits();
    for (int cpu = 0; cpu < 2; cpu++) {
        if (cpu) limits.kind = PORTA_PLAN_CPU_VECTORS;
        porta_plan *plan = NULL;
        assert_int_equal(porta_plan_create(graph, &limits, &plan), PORTA_OK);
        const porta_plan_packing *packing = &plan->tensor_packing[w];
        assert_int_equal(packing->quant_block, 32);
        uint64_t want = cpu ? 3 * 96 * 16 + 3 * 3 * 16 * 4     /* 3 panels, 3 blocks */
                            : 40 * 96 + 40 * 3 * 4;
        assert_int_equal(packing->panel_cols, cpu ? 16 : 0);
        assert_int_equal(plan->buffers[plan->tensor_buffer_of[w]].bytes, want);
        if (!cpu) assert_true(want * 3 < 40 * 96 * 4);   /* scales included, under a third */
        porta_plan_destroy(plan);
    }
    porta_graph_destroy(graph);
    porta_context_destroy(context);
}

/* Set from floats, read back as what the device multiplies by, on every device; a weight two
 * nodes read stays flat (the tiles) and reads back alike. */
static void test_set_get(void **state)
{
    rt_devices *all = *state;
    porta_context *context = all->context;
    porta_graph *graph = parse(context, "graph s\ninput x : f32[4, 3]\nweight w : i8c[2, 3]\n"
                                        "weight s : i8c[2, 3]\ny = linear(x, w)\n"
                                        "z = add(linear(x, s), matmul(x, s, transpose_b=true))\n"
                                        "output y\noutput z\n");
    for (int d = 0; d < all->count; d++) {
        porta_program *program = NULL;
        RT_CHECK(context, porta_program_create(all->devices[d], graph, 0, &program));
        for (int t = 0; t < 2; t++) {
            const char *name = t ? "s" : "w";
            RT_CHECK(context, porta_program_set(program, name, w_values, sizeof w_values));
            float back[6];
            RT_CHECK(context, porta_program_get(program, name, back, sizeof back));
            for (int i = 0; i < 6; i++) {
                float scale = i < 3 ? (float)((double)2.54f / 127.0) : 0.0078125f;
                if (back[i] != (float)w_q[i] * scale)
                    fail_msg("device %d weight %s [%d]: %g, want %g", d, name, i, back[i],
                             (float)w_q[i] * scale);
            }
        }
        porta_program_destroy(program);
    }
    porta_graph_destroy(graph);
}

/* A safetensors file of an I8 tensor "w" [2, K] and, when scale_cols > 0, its F32 "w.scale"
 * [2] (scale_cols 1) or [2, scale_cols]. Row 0's largest |q| is 16, so quantizing its values
 * again by the rule would give other values than the file's. */
static void write_int8_file(const char *path, int k, int scale_cols, float *want)
{
    int8_t q[2 * 64];
    int n_scales = scale_cols ? 2 * scale_cols : 0;
    float scales[4];
    for (int i = 0; i < n_scales; i++) scales[i] = 0.5f / (float)(i + 1);
    for (int i = 0; i < 2 * k; i++) {
        q[i] = (int8_t)(i < k ? i % 33 - 16 : (i * 37) % 255 - 127);
        int block = scale_cols > 1 ? k / scale_cols : k;
        if (want) want[i] = (float)q[i] * scales[(i / k) * scale_cols + (i % k) / block];
    }
    char header[512];
    int length;
    if (scale_cols)
        length = snprintf(header, sizeof header,
                          "{\"w\":{\"dtype\":\"I8\",\"shape\":[2,%d],\"data_offsets\":[0,%d]},"
                          "\"w.scale\":{\"dtype\":\"F32\",\"shape\":%s,\"data_offsets\":[%d,%d]}}",
                          k, 2 * k, scale_cols > 1 ? (scale_cols == 2 ? "[2,2]" : "[2,4]") : "[2]",
                          2 * k, 2 * k + 4 * n_scales);
    else
        length = snprintf(header, sizeof header,
                          "{\"w\":{\"dtype\":\"I8\",\"shape\":[2,%d],\"data_offsets\":[0,%d]}}",
                          k, 2 * k);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    uint64_t n = (uint64_t)length;
    fwrite(&n, 8, 1, f);
    fwrite(header, 1, (size_t)length, f);
    fwrite(q, 1, (size_t)(2 * k), f);
    fwrite(scales, 4, (size_t)n_scales, f);
    fclose(f);
}

/* An I8 tensor with its scales: read as floats it is dequantized; a program holding the weight
 * 8-bit in the same layout takes the file's values as they are, on every device; in another
 * layout it quantizes the floats by the rule; without scales it is refused by name. */
static void test_int8_file(void **state)
{
    rt_devices *all = *state;
    porta_context *context = all->context;
    char dir[256], path[512];
    rt_temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/int8.safetensors", dir);
    static const struct {
        const char *graph;
        int k, scale_cols;
        bool as_stored;
    } cases[] = {
        {"graph f\ninput x : f32[1, 64]\nweight w : i8c[2, 64]\ny = linear(x, w)\noutput y\n", 64, 1,
         true},
        {"graph f\ninput x : f32[1, 64]\nweight w : q8_0[2, 64]\ny = linear(x, w)\noutput y\n", 64, 2,
         true},
        {"graph f\ninput x : f32[1, 64]\nweight w : q8_0[2, 64]\ny = linear(x, w)\noutput y\n", 64, 1,
         false},
        {"graph f\ninput x : f32[1, 64]\nweight w : f32[2, 64]\ny = linear(x, w)\noutput y\n", 64, 2,
         true},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        float want[128], got[128];
        write_int8_file(path, cases[c].k, cases[c].scale_cols, want);
        porta_weights *weights = NULL;
        RT_CHECK(context, porta_weights_open(context, path, &weights));
        porta_shape shape = {2, {2, cases[c].k}};
        RT_CHECK(context, porta_weights_read(weights, "w", PORTA_F32, &shape, got, sizeof got));
        assert_memory_equal(got, want, 2 * (size_t)cases[c].k * sizeof(float));
        porta_graph *graph = parse(context, cases[c].graph);
        for (int d = 0; d < all->count; d++) {
            porta_program *program = NULL;
            RT_CHECK(context, porta_program_create(all->devices[d], graph, 0, &program));
            RT_CHECK(context, porta_program_set_weights(program, weights));
            RT_CHECK(context, porta_program_get(program, "w", got, 2 * (size_t)cases[c].k * 4));
            bool same = !memcmp(got, want, 2 * (size_t)cases[c].k * sizeof(float));
            if (same != cases[c].as_stored)
                fail_msg("case %zu, device %d: the values read back %s the file's", c, d,
                         same ? "are" : "are not");
            porta_program_destroy(program);
        }
        porta_graph_destroy(graph);
        porta_weights_close(weights);
    }
    write_int8_file(path, 64, 0, NULL);
    porta_weights *weights = NULL;
    RT_CHECK(context, porta_weights_open(context, path, &weights));
    float got[128];
    assert_int_equal(porta_weights_read(weights, "w", PORTA_F32, NULL, got, sizeof got),
                     PORTA_ERROR_UNSUPPORTED);
    assert_non_null(strstr(porta_last_error(context), "(and I8 with a '.scale')"));
    porta_weights_close(weights);
    remove(path);
    rt_remove_dir(dir);
}

int main(void)
{
    const struct CMUnitTest graph_tests[] = {
        cmocka_unit_test(test_rule),
        cmocka_unit_test(test_blocks_and_panels),
        cmocka_unit_test(test_text_and_formats),
        cmocka_unit_test(test_quantize_weights),
        cmocka_unit_test(test_plan_bytes),
    };
    const struct CMUnitTest device_tests[] = {
        cmocka_unit_test(test_set_get),
        cmocka_unit_test(test_int8_file),
    };
    int failed = cmocka_run_group_tests_name("quantize", graph_tests, NULL, NULL);
    return failed + cmocka_run_group_tests_name("quantize on devices", device_tests,
                                                rt_devices_setup, rt_devices_teardown);
}
