/* Validation: every node defined, no cycles, a topological order, and every shape inferred. */
#include "graphs/graph.h"
#include "graphs/quantize.h"
#include "graphs/ops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { WHITE, GREY, BLACK };

typedef struct walk {
    porta_graph *graph;
    unsigned char *color;    /* per node */
    int *parent;             /* per node: the node that reached it, for the cycle message */
    int n_order;
} walk;

static porta_status report_cycle(walk *w, int from, int to)
{
    porta_graph *graph = w->graph;
    /* from -> ... reached `to` again: list the names along the parent chain. */
    porta_strbuf path = {0};
    porta_strbuf_append(&path, "%s", graph->tensors[graph->nodes[to].output].name);
    int chain[64], n = 0;
    for (int k = from; k >= 0 && k != to && n < 64; k = w->parent[k]) chain[n++] = k;
    for (int i = n - 1; i >= 0; i--)
        porta_strbuf_append(&path, " -> %s", graph->tensors[graph->nodes[chain[i]].output].name);
    porta_strbuf_append(&path, " -> %s", graph->tensors[graph->nodes[to].output].name);
    porta_status status = porta_graph_error_at(
        graph, graph->nodes[to].pos, PORTA_ERROR_INVALID_GRAPH, "cycle: %s",
        path.failed || !path.data ? "(out of memory)" : path.data);
    porta_strbuf_free(&path);
    return status;
}

/* Depth-first, iterative so deep graphs cannot exhaust the stack. */
static porta_status visit(walk *w, int root, int *stack)
{
    porta_graph *graph = w->graph;
    int top = 0;
    stack[top++] = root;
    w->parent[root] = -1;
    while (top > 0) {
        int n = stack[top - 1];
        porta_node *node = &graph->nodes[n];
        if (w->color[n] == WHITE) w->color[n] = GREY;
        bool pushed = false;
        for (int i = 0; i < node->n_operands && !pushed; i++) {
            porta_tensor_id t = node->operands[i];
            if (t < 0 || graph->tensors[t].kind != PORTA_TENSOR_NODE) continue;
            int m = graph->tensors[t].node;
            if (w->color[m] == GREY) return report_cycle(w, n, m);
            if (w->color[m] == WHITE) {
                w->parent[m] = n;
                stack[top++] = m;
                pushed = true;
            }
        }
        if (!pushed) {
            w->color[n] = BLACK;
            graph->order[w->n_order++] = n;
            top--;
        }
    }
    return PORTA_OK;
}

static porta_status infer_node(porta_graph *graph, porta_node *node)
{
    const porta_op_info *info = porta_op_get(node->op);
    porta_infer in = {.graph = graph, .node = node};
    porta_operand_spec specs[PORTA_MAX_OPERANDS];
    int n_specs = porta_op_operands(info, specs);
    for (int i = 0; i < node->n_operands; i++) {
        in.in[i] = node->operands[i] >= 0 ? &graph->tensors[node->operands[i]] : NULL;
        const char *name = n_specs && specs[0].variadic ? (in.in[i] ? in.in[i]->name : "")
                                                        : specs[i].name;
        snprintf(in.operand_names[i], sizeof in.operand_names[i], "%.23s", name);
    }
    porta_status status = info->infer(&in);
    if (status != PORTA_OK) return status;
    porta_tensor *out = &graph->tensors[node->output];
    int64_t elements;
    if (!porta_shape_elements(&in.out_shape, &elements) ||
        elements > INT64_MAX / (int64_t)porta_dtype_size(in.out_dtype))
        return porta_graph_error_at(graph, node->pos, PORTA_ERROR_SHAPE,
                                    "node '%s' (%s): the result's element count overflows",
                                    out->name, info->name);
    out->dtype = in.out_dtype;
    out->shape = in.out_shape;
    /* counts past 64 bits would make check, bench and plan report nonsense */
    uint64_t flops = info->flops ? info->flops(graph, node) : 0;
    uint64_t bytes = porta_node_bytes(graph, node);
    if (flops == PORTA_COUNT_TOO_LARGE || bytes == PORTA_COUNT_TOO_LARGE) {
        char shape[96];
        porta_shape_format(&out->shape, shape, sizeof shape);
        return porta_graph_error_at(graph, node->pos, PORTA_ERROR_SHAPE,
                                    "node '%s' (%s) with result %s is too large: its %s count "
                                    "exceeds 2^64", out->name, info->name, shape,
                                    flops == PORTA_COUNT_TOO_LARGE ? "FLOP" : "byte");
    }
    return PORTA_OK;
}

porta_status porta_graph_validate(porta_graph *graph)
{
    if (!graph) return PORTA_ERROR_INVALID_ARGUMENT;
    porta_error_clear(graph->context);
    graph->validated = false;
    bool any_output = false;
    for (int i = 0; i < graph->n_tensors; i++) {
        const porta_tensor *t = &graph->tensors[i];
        if (t->kind == PORTA_TENSOR_NODE && t->node < 0)
            return porta_graph_error_at(graph, t->pos, PORTA_ERROR_INVALID_GRAPH,
                                        "'%s' is used but never defined", t->name);
        any_output |= t->is_output;
    }
    if (!any_output)
        return porta_graph_error_at(graph, (porta_srcpos){0}, PORTA_ERROR_INVALID_GRAPH,
                                    "the graph has no outputs; add an 'output NAME' statement");

    free(graph->order);
    graph->order = malloc(sizeof(int) * (size_t)(graph->n_nodes + 1));
    walk w = {.graph = graph};
    w.color = calloc((size_t)graph->n_nodes + 1, 1);
    w.parent = malloc(sizeof(int) * (size_t)(graph->n_nodes + 1));
    int *stack = malloc(sizeof(int) * (size_t)(graph->n_nodes + 1));
    porta_status status = PORTA_OK;
    if (!graph->order || !w.color || !w.parent || !stack)
        status = porta_error(graph->context, PORTA_ERROR_OUT_OF_MEMORY, "out of memory");
    for (int n = 0; status == PORTA_OK && n < graph->n_nodes; n++)
        if (w.color[n] == WHITE) status = visit(&w, n, stack);
    free(w.color);
    free(w.parent);
    free(stack);
    for (int i = 0; status == PORTA_OK && i < graph->n_nodes; i++)
        status = infer_node(graph, &graph->nodes[graph->order[i]]);
    if (status == PORTA_OK) status = porta_quant_check(graph);
    graph->validated = status == PORTA_OK;
    return status;
}
