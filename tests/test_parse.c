/* The .pg parser and printer: every op, nested calls, forward references, comments, named
 * operands; print -> parse -> print round trips; the builder API against the parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graphs/graph.h"
#include "graphs/ops.h"

/* ---- helpers --------------------------------------------------------------------------------- */

static porta_graph *parse_ok(porta_context *context, const char *text)
{
    porta_graph *graph = NULL;
    porta_status status = porta_graph_parse(context, text, strlen(text), "snippet.pg", &graph);
    if (status != PORTA_OK) fail_msg("parse failed: %s\n%s", porta_last_error(context), text);
    return graph;
}

static const porta_tensor *tensor_named(const porta_graph *graph, const char *name)
{
    porta_tensor_id id = porta_graph_find_tensor(graph, name);
    if (id < 0) fail_msg("no tensor '%s'", name);
    return &graph->tensors[id];
}

static const char *operand_name(const porta_graph *graph, porta_tensor_id id)
{
    return id < 0 ? "" : graph->tensors[id].name;
}

/* Two graphs are equal when they have the same tensors by name, with the same kinds, dtypes,
 * shapes, keys, outputs, ops, operands (by name) and attribute values. */
static void assert_graphs_equal(const porta_graph *a, const porta_graph *b)
{
    assert_string_equal(a->name, b->name);
    assert_int_equal(a->n_tensors, b->n_tensors);
    assert_int_equal(a->n_nodes, b->n_nodes);
    for (int i = 0; i < a->n_tensors; i++) {
        const porta_tensor *x = &a->tensors[i], *y = tensor_named(b, x->name);
        assert_int_equal(x->kind, y->kind);
        assert_int_equal(x->dtype, y->dtype);
        assert_true(porta_shape_equal(&x->shape, &y->shape));
        assert_int_equal(x->is_output, y->is_output);
        if (x->kind == PORTA_TENSOR_WEIGHT) assert_string_equal(x->key, y->key);
        if (x->kind != PORTA_TENSOR_NODE) continue;
        const porta_node *m = &a->nodes[x->node], *n = &b->nodes[y->node];
        assert_int_equal(m->op, n->op);
        assert_int_equal(m->n_operands, n->n_operands);
        for (int k = 0; k < m->n_operands; k++)
            assert_string_equal(operand_name(a, m->operands[k]), operand_name(b, n->operands[k]));
        for (int k = 0; k < PORTA_MAX_ATTRS; k++) {
            const porta_attr_value *p = &m->attrs[k], *q = &n->attrs[k];
            assert_int_equal(p->set, q->set);
            if (!p->set) continue;
            assert_int_equal(p->kind, q->kind);
            switch (p->kind) {
            case PORTA_ATTR_INT: assert_int_equal(p->i, q->i); break;
            case PORTA_ATTR_FLOAT: assert_memory_equal(&p->f, &q->f, sizeof p->f); break;
            case PORTA_ATTR_BOOL: assert_int_equal(p->b, q->b); break;
            case PORTA_ATTR_STRING: assert_string_equal(p->s, q->s); break;
            case PORTA_ATTR_INTS:
                assert_int_equal(p->n_ints, q->n_ints);
                for (int v = 0; v < p->n_ints; v++) assert_int_equal(p->ints[v], q->ints[v]);
                break;
            }
        }
    }
}

/* parse(print(g)) equals g, and print(parse(print(g))) equals print(g). */
static void assert_round_trip(porta_context *context, const porta_graph *graph)
{
    char *text = NULL, *again_text = NULL;
    assert_int_equal(porta_graph_print(graph, &text), PORTA_OK);
    porta_graph *again = parse_ok(context, text);
    assert_graphs_equal(graph, again);
    assert_int_equal(porta_graph_print(again, &again_text), PORTA_OK);
    assert_string_equal(text, again_text);
    porta_free(text);
    porta_free(again_text);
    porta_graph_destroy(again);
}

static porta_context *context_of(void **state)
{
    return *state;
}

static int setup(void **state)
{
    porta_context *context;
    if (porta_context_create(&context) != PORTA_OK) return -1;
    *state = context;
    return 0;
}

static int teardown(void **state)
{
    porta_context_destroy(*state);
    return 0;
}

/* ---- every op -------------------------------------------------------------------------------- */

typedef struct snippet {
    const char *body;       /* statements after "graph t"; defines y */
    const char *dtype;
    porta_shape shape;      /* y's inferred shape */
} snippet;

#define S(...) {sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t), {__VA_ARGS__}}

static const snippet snippets[] = {
    {"input a : f32[2, 1, 8]\ninput b : f32[3, 8]\ny = add(a, b)", "f32", S(2, 3, 8)},
    {"input a : f32[2, 8]\ny = sub(a, a)", "f32", S(2, 8)},
    {"input a : f16[2, 8]\ny = mul(a, a)", "f16", S(2, 8)},
    {"input a : f32[2, 8]\ninput b : f32[8]\ny = div(a, b)", "f32", S(2, 8)},
    {"input x : f32[2, 8]\ny = scale(x, s=0.5)", "f32", S(2, 8)},
    {"input x : f32[2, 8]\ny = relu(x)", "f32", S(2, 8)},
    {"input x : f32[2, 8]\ny = gelu(x, approximate=\"tanh\")", "f32", S(2, 8)},
    {"input x : f32[2, 8]\ny = silu(x)", "f32", S(2, 8)},
    {"input x : f32[2, 8]\ny = tanh(x)", "f32", S(2, 8)},
    {"input x : f32[2, 8]\ny = sigmoid(x)", "f32", S(2, 8)},
    {"input x : f32[2, 8]\ny = sqrt(x)", "f32", S(2, 8)},
    {"input x : f16[2, 8]\ny = rsqrt(x)", "f16", S(2, 8)},
    {"input x : f32[3]\ny = exp(x)", "f32", S(3)},
    {"input x : f32[2, 8]\ny = log(x)", "f32", S(2, 8)},
    {"input x : f32[2, 8]\ny = abs(x)", "f32", S(2, 8)},
    {"input x : f32[2, 8]\ny = neg(x)", "f32", S(2, 8)},
    {"input x : f32[2, 8]\ny = pow(x, p=-1.5)", "f32", S(2, 8)},
    {"input x : f32[2, 8]\ny = cast(x, to=\"f16\")", "f16", S(2, 8)},
    {"input a : f32[2, 3, 4]\ninput b : f32[4, 5]\ny = matmul(a, b)", "f32", S(2, 3, 5)},
    {"input a : f32[2, 3, 4]\ninput b : f32[5, 4]\ny = matmul(a, b, transpose_b=true)", "f32",
     S(2, 3, 5)},
    {"input x : f32[2, 3, 8]\nweight w : f32[16, 8]\nweight b : f32[16]\ny = linear(x, w, b)",
     "f32", S(2, 3, 16)},
    {"input x : f32[2, 4, 8]\ninput m : f32[4, 8]\ny = softmax(x, mask=m, scale=0.5, causal=true)",
     "f32", S(2, 4, 8)},
    {"input x : f32[2, 8]\nweight g : f32[8]\nweight b : f32[8]\ny = layernorm(x, g, b, eps=1e-12)",
     "f32", S(2, 8)},
    {"input x : f32[2, 8]\nweight g : f32[8]\ny = rmsnorm(x, g)", "f32", S(2, 8)},
    {"input q : f32[1, 4, 5, 8]\ninput k : f32[1, 2, 7, 8]\ninput v : f32[1, 2, 7, 6]\n"
     "y = sdpa(q, k, v, causal=true)", "f32", S(1, 4, 5, 6)},
    {"input q : f32[1, 5, 32]\ninput k : f32[1, 7, 16]\ninput v : f32[1, 7, 16]\n"
     "input m : i32[1, 1, 1, 7]\ny = attention(q, k, v, mask=m, heads=4, kv_heads=2, scale=0.25)",
     "f32", S(1, 5, 32)},
    {"input q : f32[1, 5, 8]\ninput keys : f32[1, 7, 6]\ninput values : f32[1, 7, 4]\n"
     "weight wq : f32[10, 8]\nweight wk : f32[10, 6]\nweight v : f32[10]\n"
     "y = additive_attention(q, keys, values, wq, wk, v)", "f32", S(1, 5, 4)},
    {"input q : f32[1, 5, 8]\ninput keys : f32[1, 7, 8]\ninput values : f32[1, 7, 4]\n"
     "y = luong_attention(q, keys, values)", "f32", S(1, 5, 4)},
    {"input q : f32[1, 5, 8]\ninput keys : f32[1, 7, 6]\ninput values : f32[1, 7, 4]\n"
     "weight w : f32[8, 6]\ny = luong_attention(q, keys, values, w=w, score=\"general\")", "f32",
     S(1, 5, 4)},
    {"input x : f32[2, 3, 4]\ny = reshape(x, shape=[6, -1])", "f32", S(6, 4)},
    {"input x : f32[2, 3, 4]\ny = permute(x, perm=[2, 0, 1])", "f32", S(4, 2, 3)},
    {"input x : f32[1, 5, 32]\ny = split_heads(x, heads=4)", "f32", S(1, 4, 5, 8)},
    {"input x : f32[1, 4, 5, 8]\ny = merge_heads(x)", "f32", S(1, 5, 32)},
    {"input a : f32[2, 3]\ninput b : f32[2, 5]\ny = concat(a, b, a, axis=1)", "f32", S(2, 11)},
    {"input x : f32[2, 10]\ny = slice(x, axis=1, start=2, end=-1)", "f32", S(2, 7)},
    {"input ids : i32[2, 5]\nweight table : f32[100, 16]\ny = embedding(ids, table)", "f32",
     S(2, 5, 16)},
    {"input x : f32[2, 5, 8]\ny = sinusoidal(x, offset=3)", "f32", S(2, 5, 8)},
    {"input x : f32[2, 5, 8]\ny = rope(x, base=500000.0, mode=\"interleaved\")", "f32", S(2, 5, 8)},
    {"input x : f32[1, 10, 4]\nweight w : f32[6, 4, 3]\nweight b : f32[6]\n"
     "y = causal_conv1d(x, w, b, dilation=2)", "f32", S(1, 10, 6)},
    {"input c : f32[1, 2, 16, 8]\ninput n : f32[1, 2, 3, 8]\ny = kv_append(c, n, start=4)", "f32",
     S(1, 2, 16, 8)},
    {"input c : f32[1, 2, 16, 8]\ninput n : f32[1, 2, 3, 8]\ninput p : i32[]\n"
     "y = kv_append(c, n, position=p)", "f32", S(1, 2, 16, 8)},
    {"input x : f32[2, 3, 4]\ny = sum(x, axis=1)", "f32", S(2, 4)},
    {"input x : f32[2, 3, 4]\ny = sum(x, axis=-3, keepdim=true)", "f32", S(1, 3, 4)},
    {"input x : f32[5]\ny = sum(x)", "f32", {0, {0}}},   /* rank 1 to rank 0 */
    {"input x : f16[2, 3, 4]\ny = mean(x)", "f16", S(2, 3)},
    {"input x : f32[2, 3, 4]\ny = max(x, axis=0)", "f32", S(3, 4)},
    {"input x : f32[2, 3, 4]\ny = argmax(x)", "i32", S(2, 3)},
    {"input x : f32[2, 3, 4]\ny = argmax(x, keepdim=true)", "i32", S(2, 3, 1)},
    {"input h : f32[2, 7, 16]\ninput m : i32[2, 7]\ny = masked_mean(h, m)", "f32", S(2, 16)},
    {"input h : f16[2, 7, 16]\ninput m : f16[2, 7]\ny = masked_mean(h, m)", "f16", S(2, 16)},
    {"input p : f32[2, 16]\ny = l2norm(p, eps=1e-12)", "f32", S(2, 16)},
    {"input c : i32[3, 1]\ninput a : f32[4]\ninput b : f32[1]\ny = where(c, a, b)", "f32",
     S(3, 4)},
    {"input c : f32[2, 1, 5]\ninput a : i32[3, 5]\ny = where(c, a, a)", "i32", S(2, 3, 5)},
    {"y = full(shape=[2, 3], value=1.5)", "f32", S(2, 3)},
    {"y = full(shape=[4], value=-7, dtype=\"i32\")", "i32", S(4)},
    {"y = full(shape=[], dtype=\"f16\")", "f16", {0, {0}}},
};

static void test_every_op(void **state)
{
    porta_context *context = context_of(state);
    bool covered[PORTA_OP_COUNT] = {0};
    for (size_t i = 0; i < sizeof snippets / sizeof snippets[0]; i++) {
        char text[2048];
        snprintf(text, sizeof text, "graph t\n%s\noutput y\n", snippets[i].body);
        porta_graph *graph = parse_ok(context, text);
        const porta_tensor *y = tensor_named(graph, "y");
        covered[graph->nodes[y->node].op] = true;
        assert_string_equal(porta_dtype_name(y->dtype), snippets[i].dtype);
        char got[96], want[96];
        porta_shape_format(&y->shape, got, sizeof got);
        porta_shape_format(&snippets[i].shape, want, sizeof want);
        if (strcmp(got, want)) fail_msg("%s: y is %s, expected %s", snippets[i].body, got, want);
        assert_round_trip(context, graph);
        porta_graph_destroy(graph);
    }
    for (int op = 0; op < PORTA_OP_COUNT; op++)
        if (!covered[op]) fail_msg("op '%s' has no snippet", porta_op_get(op)->name);
}

/* ---- syntax ---------------------------------------------------------------------------------- */

static const char *layer_text =
    "# a comment before the header\n"
    "\n"
    "graph layer   # the name\n"
    "input  x    : f32[1, 16, 64]\n"
    "input  m    : f32[1, 1, 1, 16]\n"
    "weight wq   : f32[64, 64] = \"encoder.layer.0.attention.self.query.weight\"\n"
    "weight wo   : f32[64, 64]\n"
    "weight bo   : f32[64]\n"
    "weight g1   : f32[64]                       # key defaults to the name\n"
    "weight b1   : f32[64]\n"
    "   \t\n"
    "output h, a          # outputs may come first: names are used before they are defined\n"
    "h = layernorm(add(x, linear(a, wo, bo)), g1, b1, eps=1e-12)\n"
    "a = attention(q, q, q, mask=m, heads=4, causal=false)\n"
    "q = linear(x, wq)\n"
    "r = reshape(h, shape=[1, -1, 64])\n"
    "output r\n";

static void test_syntax(void **state)
{
    porta_context *context = context_of(state);
    porta_graph *graph = parse_ok(context, layer_text);
    assert_string_equal(porta_graph_name(graph), "layer");
    const porta_tensor *wq = tensor_named(graph, "wq"), *g1 = tensor_named(graph, "g1");
    assert_string_equal(wq->key, "encoder.layer.0.attention.self.query.weight");
    assert_string_equal(g1->key, "g1");
    /* Nested calls became anonymous nodes, and every shape was inferred. */
    const porta_tensor *h = tensor_named(graph, "h");
    const porta_node *norm = &graph->nodes[h->node];
    const porta_tensor *sum = &graph->tensors[norm->operands[0]];
    assert_int_equal(sum->name[0], '_');
    assert_int_equal(graph->nodes[sum->node].op, PORTA_OP_ADD);
    assert_int_equal(tensor_named(graph, "r")->shape.rank, 3);
    assert_int_equal(tensor_named(graph, "r")->shape.dims[1], 16);
    /* The named operand went to its slot; positions are 1-based, columns count bytes. */
    const porta_node *attention = &graph->nodes[tensor_named(graph, "a")->node];
    assert_int_equal(porta_node_operand(graph, attention, "mask"), porta_graph_find_tensor(graph, "m"));
    assert_int_equal(attention->pos.line, 14);
    assert_int_equal(attention->pos.col, 5);
    assert_int_equal(porta_node_int(graph, attention, "heads"), 4);
    assert_true(tensor_named(graph, "h")->is_output && tensor_named(graph, "r")->is_output);
    assert_false(tensor_named(graph, "q")->is_output);
    assert_round_trip(context, graph);
    porta_graph_destroy(graph);

    /* CRLF line endings and a last line without a newline. */
    graph = parse_ok(context, "graph crlf\r\ninput x : f32[3]\r\ny = relu(x)\r\noutput y");
    assert_int_equal(tensor_named(graph, "y")->shape.dims[0], 3);
    porta_graph_destroy(graph);
}

static void test_floats_round_trip(void **state)
{
    porta_context *context = context_of(state);
    const char *values[] = {"0.1", "1e-12", "0.33333333333333331", "-2.0", "1e300", "5e-324", "2",
                            "-0.0", "123456789.125"};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        char text[256];
        snprintf(text, sizeof text, "graph f\ninput x : f32[2]\ny = scale(x, s=%s)\noutput y\n",
                 values[i]);
        porta_graph *graph = parse_ok(context, text);
        double want = strtod(values[i], NULL);
        const porta_node *node = &graph->nodes[0];
        assert_memory_equal(&node->attrs[0].f, &want, sizeof want);
        char *printed = NULL;
        assert_int_equal(porta_graph_print(graph, &printed), PORTA_OK);
        /* A FLOAT attribute always prints as a float, even when it was written as an integer. */
        assert_non_null(strstr(printed, "s="));
        const char *value = strstr(printed, "s=") + 2;
        assert_true(strcspn(value, ".e") < strcspn(value, ")"));
        porta_free(printed);
        assert_round_trip(context, graph);
        porta_graph_destroy(graph);
    }
}

static void test_strings_escaped(void **state)
{
    porta_context *context = context_of(state);
    porta_graph *graph = parse_ok(context, "graph s\nweight w : f32[2] = \"a \\\"quoted\\\" \\\\ key\"\n"
                                           "output w\n");
    assert_string_equal(tensor_named(graph, "w")->key, "a \"quoted\" \\ key");
    assert_round_trip(context, graph);
    porta_graph_destroy(graph);
}

static void test_api_errors(void **state)
{
    porta_context *context = context_of(state);
    porta_graph *graph = (porta_graph *)1;
    assert_int_equal(porta_graph_parse(context, NULL, 3, "x", &graph), PORTA_ERROR_INVALID_ARGUMENT);
    assert_null(graph);
    assert_int_equal(porta_graph_parse(context, "graph g\n", 8, "x", NULL),
                     PORTA_ERROR_INVALID_ARGUMENT);
    graph = (porta_graph *)1;
    assert_int_equal(porta_graph_load(context, "/nonexistent/graph.pg", &graph), PORTA_ERROR_IO);
    assert_null(graph);
    /* The length bounds the text: what follows is never read. */
    const char *text = "graph g\ninput x : f32[2]\noutput x\nGARBAGE";
    assert_int_equal(porta_graph_parse(context, text, strlen(text) - 7, "x", &graph), PORTA_OK);
    porta_graph_destroy(graph);
    /* Statuses by kind of error. */
    const struct { const char *text; porta_status status; } cases[] = {
        {"graph g\ninput x : f32[2]\ny = relu(x, $)\noutput y\n", PORTA_ERROR_PARSE},
        {"graph g\ninput x : f32[2]\ny = relu(z)\noutput y\n", PORTA_ERROR_INVALID_GRAPH},
        {"graph g\ninput x : f32[2]\ninput w : f32[3]\ny = add(x, w)\noutput y\n", PORTA_ERROR_SHAPE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(porta_graph_parse(context, cases[i].text, strlen(cases[i].text), "c.pg",
                                           &graph), cases[i].status);
        assert_null(graph);
        assert_memory_equal(porta_last_error(context), "c.pg:", 5);
    }
}

/* ---- builder API ------------------------------------------------------------------------------ */

/* The two graphs print to the same text. */
static void assert_same_text(const porta_graph *a, const porta_graph *b)
{
    char *text_a = NULL, *text_b = NULL;
    assert_int_equal(porta_graph_print(a, &text_a), PORTA_OK);
    assert_int_equal(porta_graph_print(b, &text_b), PORTA_OK);
    assert_string_equal(text_a, text_b);
    porta_free(text_a);
    porta_free(text_b);
}

static void test_builder_matches_parser(void **state)
{
    porta_context *context = context_of(state);
    const char *text =
        "graph built\n"
        "input x : f32[1, 8, 32]\n"
        "input m : f32[1, 1, 8, 8]\n"
        "weight w : f32[32, 32] = \"layer.w\"\n"
        "weight g : f32[32]\n"
        "q = linear(x, w)\n"
        "a = attention(q, q, q, mask=m, heads=4, causal=true)\n"
        "h = layernorm(add(x, a), g, eps=1e-6)\n"
        "r = reshape(h, shape=[8, 32])\n"
        "output r\n";
    porta_graph *parsed = parse_ok(context, text);

    porta_graph *graph;
    assert_int_equal(porta_graph_create(context, "built", &graph), PORTA_OK);
    porta_tensor_id x, m, w, g, q, a, sum, h, r;
    porta_shape sx = S(1, 8, 32), sm = S(1, 1, 8, 8), sw = S(32, 32), sg = S(32);
    assert_int_equal(porta_graph_add_input(graph, "x", PORTA_F32, &sx, &x), PORTA_OK);
    assert_int_equal(porta_graph_add_input(graph, "m", PORTA_F32, &sm, &m), PORTA_OK);
    assert_int_equal(porta_graph_add_weight(graph, "w", PORTA_F32, &sw, "layer.w", &w), PORTA_OK);
    assert_int_equal(porta_graph_add_weight(graph, "g", PORTA_F32, &sg, NULL, &g), PORTA_OK);
    assert_int_equal(porta_graph_add_node(graph, "q", "linear", 2, (porta_tensor_id[]){x, w}, 0,
                                          NULL, 0, NULL, &q), PORTA_OK);
    porta_named_operand mask = {"mask", m};
    porta_attr attention_attrs[] = {
        {.name = "heads", .kind = PORTA_ATTR_INT, .i = 4},
        {.name = "causal", .kind = PORTA_ATTR_BOOL, .b = true},
    };
    assert_int_equal(porta_graph_add_node(graph, "a", "attention", 3, (porta_tensor_id[]){q, q, q},
                                          1, &mask, 2, attention_attrs, &a), PORTA_OK);
    assert_int_equal(porta_graph_add_node(graph, NULL, "add", 2, (porta_tensor_id[]){x, a}, 0, NULL,
                                          0, NULL, &sum), PORTA_OK);
    porta_attr eps = {.name = "eps", .kind = PORTA_ATTR_FLOAT, .f = 1e-6};
    assert_int_equal(porta_graph_add_node(graph, "h", "layernorm", 2, (porta_tensor_id[]){sum, g}, 0,
                                          NULL, 1, &eps, &h), PORTA_OK);
    porta_attr shape = {.name = "shape", .kind = PORTA_ATTR_INTS, .ints = (int64_t[]){8, 32},
                        .n_ints = 2};
    assert_int_equal(porta_graph_add_node(graph, "r", "reshape", 1, &h, 0, NULL, 1, &shape, &r),
                     PORTA_OK);
    assert_int_equal(porta_graph_mark_output(graph, r), PORTA_OK);
    assert_int_equal(porta_graph_validate(graph), PORTA_OK);

    assert_graphs_equal(graph, parsed);
    assert_graphs_equal(parsed, graph);
    assert_same_text(graph, parsed);
    porta_graph_destroy(graph);
    porta_graph_destroy(parsed);
}

/* The pooling an importer emits, and an op without operands (full: no operand array at all). */
static void test_builder_pooling(void **state)
{
    porta_context *context = context_of(state);
    const char *text = "graph pooled\n"
                       "input h : f32[2, 7, 16]\n"
                       "input m : i32[2, 7]\n"
                       "p = masked_mean(h, m)\n"
                       "e = l2norm(p, eps=1e-12)\n"
                       "z = full(shape=[2, 16], value=-1, dtype=\"f32\")\n"
                       "y = where(m, sum(h, axis=-1), max(h))\n"
                       "output e, z, y\n";
    porta_graph *parsed = parse_ok(context, text);
    assert_int_equal(tensor_named(parsed, "z")->dtype, PORTA_F32);

    porta_graph *graph;
    assert_int_equal(porta_graph_create(context, "pooled", &graph), PORTA_OK);
    porta_tensor_id h, m, p, e, z, s, a, y;
    porta_shape sh = S(2, 7, 16), sm = S(2, 7);
    assert_int_equal(porta_graph_add_input(graph, "h", PORTA_F32, &sh, &h), PORTA_OK);
    assert_int_equal(porta_graph_add_input(graph, "m", PORTA_I32, &sm, &m), PORTA_OK);
    assert_int_equal(porta_graph_add_node(graph, "p", "masked_mean", 2, (porta_tensor_id[]){h, m},
                                          0, NULL, 0, NULL, &p), PORTA_OK);
    porta_attr eps = {.name = "eps", .kind = PORTA_ATTR_FLOAT, .f = 1e-12};
    assert_int_equal(porta_graph_add_node(graph, "e", "l2norm", 1, &p, 0, NULL, 1, &eps, &e),
                     PORTA_OK);
    porta_attr full_attrs[] = {
        {.name = "shape", .kind = PORTA_ATTR_INTS, .ints = (int64_t[]){2, 16}, .n_ints = 2},
        {.name = "value", .kind = PORTA_ATTR_INT, .i = -1},
        {.name = "dtype", .kind = PORTA_ATTR_STRING, .s = "f32"},
    };
    assert_int_equal(porta_graph_add_node(graph, "z", "full", 0, NULL, 0, NULL, 3, full_attrs, &z),
                     PORTA_OK);
    porta_attr axis = {.name = "axis", .kind = PORTA_ATTR_INT, .i = -1};
    assert_int_equal(porta_graph_add_node(graph, NULL, "sum", 1, &h, 0, NULL, 1, &axis, &s),
                     PORTA_OK);
    assert_int_equal(porta_graph_add_node(graph, NULL, "max", 1, &h, 0, NULL, 0, NULL, &a),
                     PORTA_OK);
    assert_int_equal(porta_graph_add_node(graph, "y", "where", 3, (porta_tensor_id[]){m, s, a}, 0,
                                          NULL, 0, NULL, &y), PORTA_OK);
    for (porta_tensor_id t = 0; t < 3; t++)
        assert_int_equal(porta_graph_mark_output(graph, (porta_tensor_id[]){e, z, y}[t]),
                         PORTA_OK);
    assert_int_equal(porta_graph_validate(graph), PORTA_OK);
    assert_graphs_equal(graph, parsed);
    assert_same_text(graph, parsed);
    porta_graph_destroy(graph);
    porta_graph_destroy(parsed);
}

/* ---- files: tests/data and graphs/examples ---------------------------------------------------- */

/* Round-trips every .pg file of a folder; returns how many there were (-1: no such folder). */
static int round_trip_folder(porta_context *context, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return -1;
    int count = 0;
    struct dirent *entry;
    while ((entry = readdir(d))) {
        size_t length = strlen(entry->d_name);
        if (length < 4 || strcmp(entry->d_name + length - 3, ".pg")) continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, entry->d_name);
        porta_graph *graph = NULL;
        if (porta_graph_load(context, path, &graph) != PORTA_OK)
            fail_msg("%s", porta_last_error(context));
        assert_round_trip(context, graph);
        porta_graph_destroy(graph);
        count++;
    }
    closedir(d);
    return count;
}

static const char *source_root(void)
{
    const char *root = getenv("PORTA_SOURCE_ROOT");
    if (!root) fail_msg("PORTA_SOURCE_ROOT is not set");
    return root;
}

static void test_data_files(void **state)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/tests/data", source_root());
    int count = round_trip_folder(context_of(state), dir);
    if (count < 2) fail_msg("%s: expected at least 2 graphs, found %d", dir, count);
}

static void test_example_files(void **state)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/graphs/examples", source_root());
    int count = round_trip_folder(context_of(state), dir);
    if (count < 0) skip();   /* the examples folder is not in this tree */
    if (count < 1) fail_msg("%s exists but holds no .pg files", dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_every_op, setup, teardown),
        cmocka_unit_test_setup_teardown(test_syntax, setup, teardown),
        cmocka_unit_test_setup_teardown(test_floats_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_strings_escaped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_api_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_builder_matches_parser, setup, teardown),
        cmocka_unit_test_setup_teardown(test_builder_pooling, setup, teardown),
        cmocka_unit_test_setup_teardown(test_data_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_example_files, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
