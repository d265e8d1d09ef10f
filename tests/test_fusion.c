/* Fusion decisions in plans (graphs/lower/fuse.h): which pairs and groups of projections fuse,
 * the steps they save, their op names, and where a group's weights lie. Plans only, no device. */
#include "graphs/graph.h"
#include "graphs/lower/lower.h"
#include "graphs/ops.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

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

static const char *op_name_of(const porta_graph *graph, int node)
{
    return porta_op_get(graph->nodes[node].op)->name;
}

/* The steps of a plan whose op column is `op`. */
static int steps_named(const porta_plan *plan, const char *op)
{
    int n = 0;
    for (int i = 0; i < plan->n_steps; i++) n += !strcmp(plan->steps[i].op, op);
    return n;
}

/* The encoder example fuses its feed-forward linear with gelu and both residual adds with their
 * layernorms: three steps fewer, and `porta plan` names the pairs. */
static void test_encoder_fusion(void **state)
{
    (void)state;
    porta_context *context;
    assert_int_equal(porta_context_create(&context), PORTA_OK);
    char path[4096];
    snprintf(path, sizeof path, "%s/graphs/examples/encoder_layer.pg", getenv("PORTA_SOURCE_ROOT"));
    porta_graph *graph = NULL;
    if (porta_graph_load(context, path, &graph) != PORTA_OK)
        fail_msg("%s", porta_last_error(context));
    porta_plan *fused = plan_with(context, graph, true);
    porta_plan *unfused = plan_with(context, graph, false);
    print_message("encoder_layer: %d steps fused, %d unfused\n", fused->n_steps,
                  unfused->n_steps);
    assert_int_equal(fused->n_fused, 3);
    assert_int_equal(unfused->n_fused, 0);
    assert_int_equal(fused->n_steps, unfused->n_steps - 3);
    assert_int_equal(steps_named(fused, "linear+gelu"), 1);
    assert_int_equal(steps_named(fused, "add+layernorm"), 2);
    assert_int_equal(steps_named(fused, "gelu") + steps_named(fused, "add"), 0);
    assert_int_equal(steps_named(unfused, "gelu"), 1);
    assert_int_equal(steps_named(unfused, "add"), 2);
    /* the fused steps write the second node's result: the norms write h and y */
    for (int i = 0; i < fused->n_steps; i++) {
        const porta_plan_step *step = &fused->steps[i];
        if (strcmp(step->op, "add+layernorm")) continue;
        const char *name = graph->tensors[graph->nodes[step->node].output].name;
        assert_true(!strcmp(name, "h") || !strcmp(name, "y"));
        assert_string_equal(op_name_of(graph, step->first_node), "add");
    }
    porta_strbuf text = {0};
    porta_plan_format(fused, &text);
    assert_false(text.failed);
    assert_non_null(strstr(text.data, " linear+gelu "));
    assert_non_null(strstr(text.data, " add+layernorm  h "));
    assert_non_null(strstr(text.data, ", 3 fused\n"));
    porta_strbuf_free(&text);
    porta_plan_destroy(fused);
    porta_plan_destroy(unfused);
    porta_graph_destroy(graph);
    porta_context_destroy(context);
}

/* Which pairs fuse: a result that is an output, read twice, f16, or an add that broadcasts
 * never does, nor a residual made after the linear; an add that a norm reads fuses with the
 * norm, not with its linear. */
static void test_fusion_decisions(void **state)
{
    (void)state;
    static const struct {
        const char *graph;
        int fused;
        const char *op;                 /* a step's op when it fuses */
    } cases[] = {
        {"graph g\ninput x : f32[4, 8]\nweight w : f32[5, 8]\ny = silu(linear(x, w))\noutput y\n",
         1, "linear+silu"},
        {"graph g\ninput x : f32[4, 8]\nweight w : f32[5, 8]\nh = linear(x, w)\ny = silu(h)\n"
         "output h\noutput y\n", 0, NULL},
        {"graph g\ninput x : f32[4, 8]\nweight w : f32[5, 8]\nh = linear(x, w)\n"
         "y = add(relu(h), h)\noutput y\n", 0, NULL},
        {"graph g\ninput x : f16[4, 8]\nweight w : f16[5, 8]\ny = gelu(linear(x, w))\noutput y\n",
         0, NULL},
        {"graph g\ninput x : f32[4, 8]\nweight w : f32[8, 5]\ny = gelu(matmul(x, w))\noutput y\n",
         0, NULL},
        {"graph g\ninput x : f32[4, 8]\ninput r : f32[4, 8]\nweight g : f32[8]\n"
         "y = rmsnorm(add(x, r), g)\noutput y\n", 1, "add+rmsnorm"},
        {"graph g\ninput x : f32[4, 8]\ninput r : f32[8]\nweight g : f32[8]\n"
         "y = layernorm(add(x, r), g)\noutput y\n", 0, NULL},
        {"graph g\ninput x : f32[4, 8]\ninput r : f32[4, 8]\nweight g : f32[8]\n"
         "s = add(x, r)\ny = layernorm(s, g)\noutput s\noutput y\n", 0, NULL},
        {"graph g\ninput x : f32[4, 8]\nweight w : f32[8, 8]\nweight g : f32[8]\n"
         "y = layernorm(add(x, tanh(linear(x, w))), g)\noutput y\n", 2, "linear+tanh"},
        {"graph g\ninput x : f32[4, 8]\ninput r : f32[4, 5]\nweight w : f32[5, 8]\n"
         "y = add(r, linear(x, w))\noutput y\n", 1, "linear+add"},
        {"graph g\ninput x : f32[4, 8]\ninput r : f32[5]\nweight w : f32[5, 8]\n"
         "y = add(linear(x, w), r)\noutput y\n", 0, NULL},
        {"graph g\ninput x : f32[4, 8]\nweight w : f32[5, 8]\nh = linear(x, w)\n"
         "r = sigmoid(h)\nt = linear(x, w)\ny = add(t, mul(r, h))\noutput y\n", 0, NULL},
        {"graph g\ninput x : f32[4, 8]\nweight w : f32[8, 8]\nweight g : f32[8]\n"
         "y = layernorm(add(x, linear(x, w)), g)\noutput y\n", 1, "add+layernorm"},
    };
    porta_context *context;
    assert_int_equal(porta_context_create(&context), PORTA_OK);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        porta_graph *graph = parse(context, cases[i].graph);
        porta_plan *fused = plan_with(context, graph, true);
        porta_plan *unfused = plan_with(context, graph, false);
        print_message("case %zu: %d fused, %d steps (%d unfused)\n", i, fused->n_fused,
                      fused->n_steps, unfused->n_steps);
        assert_int_equal(fused->n_fused, cases[i].fused);
        assert_int_equal(fused->n_steps, unfused->n_steps - cases[i].fused);
        assert_int_equal(unfused->n_fused, 0);
        if (cases[i].op) assert_int_equal(steps_named(fused, cases[i].op), 1);
        porta_plan_destroy(fused);
        porta_plan_destroy(unfused);
        porta_graph_destroy(graph);
    }
    porta_context_destroy(context);
}

/* Groups of projections (linears of one input) fuse into one gemm where the product takes the
 * panels (a CPU driver's limits): one step for 2 or 3 linears, named for them, the weights and
 * biases each in one buffer, the results views of one allocation; never on a GPU's limits (the
 * tiles), with the tiles forced, or when a linear may not join (an OUT not a multiple of 16, a
 * weight read twice, a result that is an output, a bias on some only, a linear in a pair). */
static void test_projection_fusion(void **state)
{
    (void)state;
#define PROJ_HEAD "graph g\ninput x : f32[4, 8]\nweight wq : f32[16, 8]\nweight wk : f32[32, 8]\n" \
                  "weight wv : f32[16, 8]\nweight bq : f32[16]\nweight bk : f32[32]\n"
    static const struct {
        const char *graph;
        const char *variants;
        bool gpu;
        int fused, saved;               /* fusions, and steps fewer than unfused */
        const char *op;                 /* the group's step when it fuses */
        const char *shared[2];          /* two weights then in one buffer */
        int buffers_saved;
    } cases[] = {
        {PROJ_HEAD "q = linear(x, wq)\nk = linear(x, wk)\nv = linear(x, wv)\n"
                   "y = concat(q, k, v, axis=1)\noutput y\n",
         NULL, false, 1, 2, "linear+linear+linear", {"wq", "wv"}, 2},
        {PROJ_HEAD "q = linear(x, wq, bq)\nk = linear(x, wk, bk)\ny = concat(q, k, axis=1)\n"
                   "output y\n",
         NULL, false, 1, 1, "linear+linear", {"bq", "bk"}, 2},
        {PROJ_HEAD "q = linear(x, wq)\nk = linear(x, wk)\ny = concat(q, k, axis=1)\noutput y\n",
         "gemm=tile4", false, 0, 0, NULL, {NULL, NULL}, 0},
        {PROJ_HEAD "q = linear(x, wq)\nk = linear(x, wk)\ny = concat(q, k, axis=1)\noutput y\n",
         NULL, true, 0, 0, NULL, {NULL, NULL}, 0},
        {PROJ_HEAD "weight wr : f32[20, 8]\nq = linear(x, wq)\nr = linear(x, wr)\n"
                   "y = concat(q, r, axis=1)\noutput y\n",
         NULL, false, 0, 0, NULL, {NULL, NULL}, 0},
        {PROJ_HEAD "q = linear(x, wq)\nk = linear(x, wq)\nv = linear(x, wv)\n"
                   "y = concat(q, k, v, axis=1)\noutput y\n",
         NULL, false, 0, 0, NULL, {NULL, NULL}, 0},
        {PROJ_HEAD "q = linear(x, wq)\nk = linear(x, wk)\ny = concat(q, k, axis=1)\noutput y\n"
                   "output q\n",
         NULL, false, 0, 0, NULL, {NULL, NULL}, 0},
        {PROJ_HEAD "q = linear(x, wq, bq)\nk = linear(x, wk)\ny = concat(q, k, axis=1)\n"
                   "output y\n",
         NULL, false, 0, 0, NULL, {NULL, NULL}, 0},
        {PROJ_HEAD "q = relu(linear(x, wq))\nk = linear(x, wk)\nv = linear(x, wv)\n"
                   "y = concat(q, k, v, axis=1)\noutput y\n",
         NULL, false, 2, 2, "linear+linear", {"wk", "wv"}, 1},
    };
#undef PROJ_HEAD
    porta_context *context;
    assert_int_equal(porta_context_create(&context), PORTA_OK);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        porta_graph *graph = parse(context, cases[i].graph);
        porta_plan_limits limits = porta_plan_default_limits();
        limits.kind = cases[i].gpu ? PORTA_PLAN_GPU : PORTA_PLAN_CPU_VECTORS;
        limits.variants = cases[i].variants;
        porta_plan *fused = NULL, *unfused = NULL;
        if (porta_plan_create(graph, &limits, &fused) != PORTA_OK)
            fail_msg("plan: %s", porta_last_error(context));
        limits.fusion = false;
        if (porta_plan_create(graph, &limits, &unfused) != PORTA_OK)
            fail_msg("plan: %s", porta_last_error(context));
        print_message("case %zu: %d fused, %d steps (%d unfused)\n", i, fused->n_fused,
                      fused->n_steps, unfused->n_steps);
        assert_int_equal(fused->n_fused, cases[i].fused);
        assert_int_equal(fused->n_steps, unfused->n_steps - cases[i].saved);
        assert_int_equal(fused->n_views, unfused->n_views);
        assert_int_equal(fused->n_buffers, unfused->n_buffers - cases[i].buffers_saved);
        if (cases[i].op) {
            assert_int_equal(steps_named(fused, cases[i].op), 1);
            porta_tensor_id a = porta_graph_find_tensor(graph, cases[i].shared[0]);
            porta_tensor_id b = porta_graph_find_tensor(graph, cases[i].shared[1]);
            assert_int_equal(fused->tensor_buffer_of[a], fused->tensor_buffer_of[b]);
            assert_true(fused->tensor_at[a].offset < fused->tensor_at[b].offset);
            porta_tensor_id wk = porta_graph_find_tensor(graph, "wk");
            assert_int_equal(fused->tensor_packing[wk].panel_cols, PORTA_PLAN_PANEL_COLS);
            /* the plan names the buffer's tensors */
            porta_strbuf text = {0};
            porta_plan_format(fused, &text);
            assert_false(text.failed);
            char names[32];
            snprintf(names, sizeof names, " %s+%s", cases[i].shared[0], cases[i].shared[1]);
            if (!strstr(text.data, names) && strcmp(cases[i].op, "linear+linear+linear"))
                fail_msg("no buffer%s in:\n%s", names, text.data);
            porta_strbuf_free(&text);
        }
        porta_plan_destroy(fused);
        porta_plan_destroy(unfused);
        porta_graph_destroy(graph);
    }
    porta_context_destroy(context);
}

/* Attention written out op by op fuses into one attention step when every intermediate is
 * private and the masks and scales combine (fuse.h); otherwise each op keeps its steps. */
static void test_attention_chain_decisions(void **state)
{
    (void)state;
    static const char *const head =
        "graph g\ninput q : f32[2, 4, 6, 8]\ninput k : f32[2, 4, 9, 8]\n"
        "input v : f32[2, 4, 9, 5]\ninput m : f32[6, 9]\n";
    static const struct {
        const char *body;
        bool fuses;
        const char *op;                 /* the fused step's op */
    } cases[] = {
        {"s = matmul(q, k, transpose_b=true)\nu = add(scale(s, s=0.3), m)\n"
         "y = matmul(softmax(u), v)\noutput y\n", true, "matmul+scale+add+softmax+matmul"},
        {"y = matmul(softmax(matmul(q, k, transpose_b=true), m, causal=true), v)\noutput y\n",
         true, "matmul+softmax+matmul"},
        /* the softmax would scale the added mask */
        {"u = add(matmul(q, k, transpose_b=true), m)\ny = matmul(softmax(u, scale=0.5), v)\n"
         "output y\n", false, NULL},
        /* the scores are an output */
        {"s = matmul(q, k, transpose_b=true)\ny = matmul(softmax(s), v)\noutput s\noutput y\n",
         false, NULL},
        /* k not transposed: not q kᵀ */
        {"s = matmul(q, permute(k, perm=[0, 1, 3, 2]))\ny = matmul(softmax(s), v)\noutput y\n",
         false, NULL},
        /* the probabilities read twice */
        {"p = softmax(matmul(q, k, transpose_b=true))\ny = add(matmul(p, v), matmul(p, v))\n"
         "output y\n", false, NULL},
    };
    porta_context *context;
    assert_int_equal(porta_context_create(&context), PORTA_OK);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[1024];
        snprintf(text, sizeof text, "%s%s", head, cases[i].body);
        porta_graph *graph = parse(context, text);
        porta_plan *fused = plan_with(context, graph, true);
        porta_plan *unfused = plan_with(context, graph, false);
        print_message("case %zu: %d fused, %d steps (%d unfused)\n", i, fused->n_fused,
                      fused->n_steps, unfused->n_steps);
        assert_int_equal(unfused->n_fused, 0);
        if (cases[i].fuses) {
            assert_int_equal(fused->n_fused, 1);
            assert_int_equal(steps_named(fused, cases[i].op), 1);
            assert_true(fused->n_steps < unfused->n_steps);
            /* one attention step makes y; nothing makes the scores */
            for (int s = 0; s < fused->n_steps; s++)
                assert_string_equal(fused->steps[s].op, cases[i].op);
        } else {
            assert_int_equal(fused->n_fused, 0);
            assert_int_equal(fused->n_steps, unfused->n_steps);
        }
        porta_plan_destroy(fused);
        porta_plan_destroy(unfused);
        porta_graph_destroy(graph);
    }
    porta_context_destroy(context);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encoder_fusion),
        cmocka_unit_test(test_fusion_decisions),
        cmocka_unit_test(test_projection_fusion),
        cmocka_unit_test(test_attention_chain_decisions),
    };
    return cmocka_run_group_tests_name("fusion", tests, NULL, NULL);
}
