/* Dims known only at run time. A symbol (`S <= 128` in an input's shape) names a dim with a
 * maximum; the graph is validated at the symbols' current values (their maxima until bound), and
 * a program compiled for a graph with symbols is bound to values per run (porta_program_bind),
 * running a graph cloned and bound here. */
#include "graphs/graph.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

porta_status porta_graph_declare_symbol(porta_graph *graph, const char *name, int64_t max,
                                        porta_srcpos pos, int *out_index)
{
    for (int i = 0; i < graph->n_symbols; i++) {
        const porta_symbol *symbol = &graph->symbols[i];
        if (strcmp(symbol->name, name)) continue;
        if (symbol->max != max) {
            char where[512] = "";
            if (symbol->pos.line > 0)
                snprintf(where, sizeof where, " at line %d", symbol->pos.line);
            return porta_graph_error_at(graph, pos, PORTA_ERROR_SHAPE,
                                        "dim '%s' is declared with maximum %lld%s, here %lld",
                                        name, (long long)symbol->max, where, (long long)max);
        }
        *out_index = i;
        return PORTA_OK;
    }
    if (max < 1 || max > INT32_MAX)
        return porta_graph_error_at(graph, pos, PORTA_ERROR_SHAPE,
                                    "dim '%s': maximum %lld is not in 1..%d", name,
                                    (long long)max, INT32_MAX);
    if (graph->n_symbols == PORTA_MAX_SYMBOLS)
        return porta_graph_error_at(graph, pos, PORTA_ERROR_SHAPE,
                                    "dim '%s': at most %d named dims in a graph", name,
                                    PORTA_MAX_SYMBOLS);
    porta_symbol *symbol = &graph->symbols[graph->n_symbols];
    if (!(symbol->name = porta_strdup(name)))
        return porta_error(graph->context, PORTA_ERROR_OUT_OF_MEMORY, "out of memory");
    symbol->max = symbol->value = max;
    symbol->pos = pos;
    *out_index = graph->n_symbols++;
    return PORTA_OK;
}

porta_status porta_graph_set_dim_symbol(porta_graph *graph, porta_tensor_id input, int axis,
                                        const char *symbol, int64_t max)
{
    if (!graph) return PORTA_ERROR_INVALID_ARGUMENT;
    porta_context *context = graph->context;
    porta_error_clear(context);
    static const char api[] = "porta_graph_set_dim_symbol";
    if (input < 0 || input >= graph->n_tensors ||
        graph->tensors[input].kind != PORTA_TENSOR_INPUT)
        return porta_error(context, PORTA_ERROR_INVALID_ARGUMENT, "%s: tensor %d is not an input",
                           api, input);
    porta_tensor *tensor = &graph->tensors[input];
    if (axis < 0) axis += tensor->shape.rank;
    if (axis < 0 || axis >= tensor->shape.rank)
        return porta_error(context, PORTA_ERROR_INVALID_ARGUMENT,
                           "%s: input '%s' has no axis %d", api, tensor->name, axis);
    if (!symbol || !*symbol)
        return porta_error(context, PORTA_ERROR_INVALID_ARGUMENT, "%s: no symbol name", api);
    int index;
    porta_status status = porta_graph_declare_symbol(graph, symbol, max, (porta_srcpos){0},
                                                     &index);
    if (status != PORTA_OK) return status;
    tensor->dim_symbol[axis] = index + 1;
    tensor->shape.dims[axis] = graph->symbols[index].value;
    graph->validated = false;
    return PORTA_OK;
}

int porta_graph_symbol_count(const porta_graph *graph)
{
    return graph ? graph->n_symbols : 0;
}

porta_status porta_graph_symbol_info(const porta_graph *graph, int index, const char **out_name,
                                     int64_t *out_max, int64_t *out_value)
{
    if (!graph || index < 0 || index >= graph->n_symbols) return PORTA_ERROR_INVALID_ARGUMENT;
    const porta_symbol *symbol = &graph->symbols[index];
    if (out_name) *out_name = symbol->name;
    if (out_max) *out_max = symbol->max;
    if (out_value) *out_value = symbol->value;
    return PORTA_OK;
}

void porta_graph_symbols_format(const porta_graph *graph, char *out, size_t size)
{
    size_t used = 0;
    if (size) out[0] = '\0';
    for (int i = 0; i < graph->n_symbols && used < size; i++) {
        int n = snprintf(out + used, size - used, "%s%s = %lld", i ? ", " : "",
                         graph->symbols[i].name, (long long)graph->symbols[i].value);
        if (n < 0) break;
        used += (size_t)n;
    }
}

porta_status porta_graph_bind(porta_graph *graph, const char *const *names,
                              const int64_t *values, int count)
{
    porta_context *context = graph->context;
    for (int i = 0; i < count; i++) {
        int found = -1;
        for (int k = 0; k < graph->n_symbols && found < 0; k++)
            if (names[i] && !strcmp(graph->symbols[k].name, names[i])) found = k;
        if (found < 0)
            return porta_error(context, PORTA_ERROR_NOT_FOUND, "graph '%s' has no dim named '%s'",
                               graph->name, names[i] ? names[i] : "(null)");
        const porta_symbol *symbol = &graph->symbols[found];
        if (values[i] < 1 || values[i] > symbol->max)
            return porta_error(context, PORTA_ERROR_SHAPE,
                               "graph '%s': %s = %lld is outside 1..%lld, its declared maximum",
                               graph->name, symbol->name, (long long)values[i],
                               (long long)symbol->max);
    }
    for (int i = 0; i < count; i++)
        for (int k = 0; k < graph->n_symbols; k++)
            if (!strcmp(graph->symbols[k].name, names[i])) graph->symbols[k].value = values[i];
    for (int t = 0; t < graph->n_tensors; t++) {
        porta_tensor *tensor = &graph->tensors[t];
        for (int d = 0; d < tensor->shape.rank; d++)
            if (tensor->dim_symbol[d])
                tensor->shape.dims[d] = graph->symbols[tensor->dim_symbol[d] - 1].value;
    }
    porta_status status = porta_graph_validate(graph);
    if (status != PORTA_OK) {
        char bound[256], message[PORTA_ERROR_MAX];
        porta_graph_symbols_format(graph, bound, sizeof bound);
        snprintf(message, sizeof message, "%s", porta_last_error(context));
        return porta_error(context, status, "with %s: %s", bound, message);
    }
    return PORTA_OK;
}

static bool copy_attr(porta_attr_value *to, const porta_attr_value *from)
{
    *to = *from;
    to->s = NULL;
    to->ints = NULL;
    if (from->s && !(to->s = porta_strdup(from->s))) return false;
    if (from->ints && from->n_ints) {
        to->ints = malloc((size_t)from->n_ints * sizeof *to->ints);
        if (!to->ints) return false;
        memcpy(to->ints, from->ints, (size_t)from->n_ints * sizeof *to->ints);
    }
    return true;
}

porta_status porta_graph_clone(const porta_graph *graph, porta_graph **out_graph)
{
    *out_graph = NULL;
    porta_context *context = graph->context;
    porta_graph *copy = calloc(1, sizeof *copy);
    if (!copy) return porta_error(context, PORTA_ERROR_OUT_OF_MEMORY, "out of memory");
    *copy = *graph;
    copy->name = NULL;
    copy->filename = NULL;
    copy->tensors = NULL;
    copy->nodes = NULL;
    copy->order = NULL;
    copy->n_tensors = copy->n_nodes = copy->n_symbols = 0;
    copy->cap_tensors = graph->n_tensors;
    copy->cap_nodes = graph->n_nodes;
    bool ok = (copy->name = porta_strdup(graph->name)) != NULL &&
              (!graph->filename || (copy->filename = porta_strdup(graph->filename)) != NULL) &&
              (copy->tensors = calloc((size_t)graph->n_tensors + 1, sizeof *copy->tensors)) &&
              (copy->nodes = calloc((size_t)graph->n_nodes + 1, sizeof *copy->nodes)) &&
              (!graph->order ||
               (copy->order = malloc(sizeof(int) * ((size_t)graph->n_nodes + 1))) != NULL);
    for (int t = 0; ok && t < graph->n_tensors; t++) {
        copy->tensors[t] = graph->tensors[t];
        copy->tensors[t].name = copy->tensors[t].key = NULL;
        copy->n_tensors = t + 1;
        ok = (copy->tensors[t].name = porta_strdup(graph->tensors[t].name)) &&
             (!graph->tensors[t].key ||
              (copy->tensors[t].key = porta_strdup(graph->tensors[t].key)));
    }
    for (int n = 0; ok && n < graph->n_nodes; n++) {
        copy->nodes[n] = graph->nodes[n];
        for (int a = 0; a < PORTA_MAX_ATTRS; a++) copy->nodes[n].attrs[a] = (porta_attr_value){0};
        copy->n_nodes = n + 1;
        for (int a = 0; ok && a < PORTA_MAX_ATTRS; a++)
            ok = copy_attr(&copy->nodes[n].attrs[a], &graph->nodes[n].attrs[a]);
    }
    if (ok && graph->order) memcpy(copy->order, graph->order, sizeof(int) * (size_t)graph->n_nodes);
    for (int i = 0; ok && i < graph->n_symbols; i++) {
        copy->symbols[i] = graph->symbols[i];
        copy->symbols[i].name = NULL;
        copy->n_symbols = i + 1;
        ok = (copy->symbols[i].name = porta_strdup(graph->symbols[i].name)) != NULL;
    }
    if (!ok) {
        porta_graph_destroy(copy);
        return porta_error(context, PORTA_ERROR_OUT_OF_MEMORY, "out of memory");
    }
    *out_graph = copy;
    return PORTA_OK;
}
