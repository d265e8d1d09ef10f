/* The .pg printer: a validated graph as text that parses back to the same graph. One flat
 * statement per node, in topological order; nested calls appear under their "_N" names. */
#include "graphs/graph.h"
#include "graphs/ops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The shortest %g form that reads back as exactly `value`, always looking like a float. */
static void format_float(double value, char *out, size_t size)
{
    for (int precision = 1; precision <= 17; precision++) {
        snprintf(out, size, "%.*g", precision, value);
        if (strtod(out, NULL) == value) break;
    }
    if (!strpbrk(out, ".eEni")) {
        size_t n = strlen(out);
        if (n + 2 < size) memcpy(out + n, ".0", 3);
    }
}

static void print_string(porta_strbuf *text, const char *s)
{
    porta_strbuf_append(text, "\"");
    for (const char *p = s; *p; p++) {
        if (*p == '"' || *p == '\\') porta_strbuf_append(text, "\\%c", *p);
        else porta_strbuf_append(text, "%c", *p);
    }
    porta_strbuf_append(text, "\"");
}

/* A named dim prints with its maximum every time (a repeated declaration parses as a use). */
static void print_shape(porta_strbuf *text, const porta_graph *graph, const porta_tensor *tensor)
{
    porta_strbuf_append(text, "%s[", tensor->format ? porta_weight_format_name(tensor->format)
                                                    : porta_dtype_name(tensor->dtype));
    for (int i = 0; i < tensor->shape.rank; i++) {
        if (i) porta_strbuf_append(text, ", ");
        if (tensor->dim_symbol[i]) {
            const porta_symbol *symbol = &graph->symbols[tensor->dim_symbol[i] - 1];
            porta_strbuf_append(text, "%s <= %lld", symbol->name, (long long)symbol->max);
        } else {
            porta_strbuf_append(text, "%lld", (long long)tensor->shape.dims[i]);
        }
    }
    porta_strbuf_append(text, "]");
}

static void print_attr(porta_strbuf *text, const porta_graph *graph,
                       const porta_attr_spec *spec, const porta_attr_value *value)
{
    char number[64];
    porta_strbuf_append(text, "%s=", spec->name);
    if (value->symbol) {
        porta_strbuf_append(text, "%s", graph->symbols[value->symbol - 1].name);
        return;
    }
    switch (spec->kind) {
    case PORTA_ATTR_INT: porta_strbuf_append(text, "%lld", (long long)value->i); break;
    case PORTA_ATTR_FLOAT:
        format_float(value->f, number, sizeof number);
        porta_strbuf_append(text, "%s", number);
        break;
    case PORTA_ATTR_BOOL: porta_strbuf_append(text, "%s", value->b ? "true" : "false"); break;
    case PORTA_ATTR_STRING: print_string(text, value->s ? value->s : ""); break;
    case PORTA_ATTR_INTS:
        porta_strbuf_append(text, "[");
        for (int i = 0; i < value->n_ints; i++)
            porta_strbuf_append(text, i ? ", %lld" : "%lld", (long long)value->ints[i]);
        porta_strbuf_append(text, "]");
        break;
    }
}

static void print_node(porta_strbuf *text, const porta_graph *graph, const porta_node *node)
{
    const porta_op_info *info = porta_op_get(node->op);
    porta_operand_spec specs[PORTA_MAX_OPERANDS];
    int n_specs = porta_op_operands(info, specs);
    bool variadic = n_specs > 0 && specs[0].variadic;
    porta_strbuf_append(text, "%s = %s(", graph->tensors[node->output].name, info->name);
    int items = 0;
    for (int i = 0; i < node->n_operands; i++) {
        if (node->operands[i] < 0) continue;
        const char *name = graph->tensors[node->operands[i]].name;
        if (variadic || !specs[i].optional)
            porta_strbuf_append(text, "%s%s", items++ ? ", " : "", name);
    }
    for (int i = 0; !variadic && i < node->n_operands; i++) {
        if (node->operands[i] < 0 || !specs[i].optional) continue;
        porta_strbuf_append(text, "%s%s=%s", items++ ? ", " : "", specs[i].name,
                            graph->tensors[node->operands[i]].name);
    }
    for (int i = 0; i < info->n_attrs; i++) {
        if (!node->attrs[i].set) continue;
        porta_strbuf_append(text, "%s", items++ ? ", " : "");
        print_attr(text, graph, &info->attrs[i], &node->attrs[i]);
    }
    porta_strbuf_append(text, ")\n");
}

porta_status porta_graph_print(const porta_graph *graph, char **out_text)
{
    if (!out_text) return PORTA_ERROR_INVALID_ARGUMENT;
    *out_text = NULL;
    if (!graph) return PORTA_ERROR_INVALID_ARGUMENT;
    porta_error_clear(graph->context);
    if (!graph->validated)
        return porta_error(graph->context, PORTA_ERROR_INVALID_ARGUMENT,
                           "porta_graph_print: the graph is not validated");
    porta_strbuf text = {0};
    porta_strbuf_append(&text, "graph %s\n", graph->name);
    for (int i = 0; i < graph->n_tensors; i++) {
        const porta_tensor *t = &graph->tensors[i];
        if (t->kind != PORTA_TENSOR_INPUT) continue;
        porta_strbuf_append(&text, "input %s : ", t->name);
        print_shape(&text, graph, t);
        porta_strbuf_append(&text, "\n");
    }
    for (int i = 0; i < graph->n_tensors; i++) {
        const porta_tensor *t = &graph->tensors[i];
        if (t->kind != PORTA_TENSOR_WEIGHT) continue;
        porta_strbuf_append(&text, "weight %s : ", t->name);
        print_shape(&text, graph, t);
        if (t->key && strcmp(t->key, t->name)) {
            porta_strbuf_append(&text, " = ");
            print_string(&text, t->key);
        }
        porta_strbuf_append(&text, "\n");
    }
    for (int i = 0; i < graph->n_nodes; i++)
        print_node(&text, graph, &graph->nodes[graph->order[i]]);
    /* Outputs in the order they were marked (the `output` line's), which parsing keeps. */
    for (int i = 0; i < porta_graph_output_count(graph); i++)
        porta_strbuf_append(&text, "%s%s", i ? ", " : "output ",
                            graph->tensors[porta_graph_output(graph, i)].name);
    porta_strbuf_append(&text, "\n");
    if (text.failed || !text.data) {
        porta_strbuf_free(&text);
        return porta_error(graph->context, PORTA_ERROR_OUT_OF_MEMORY,
                           "porta_graph_print: out of memory");
    }
    *out_text = text.data;
    return PORTA_OK;
}
