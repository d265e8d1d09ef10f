/* The graph IR and the C builder API. */
#include "graphs/graph.h"
#include "graphs/ops.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- shapes ---------------------------------------------------------------------------------- */

bool porta_shape_elements(const porta_shape *shape, int64_t *out_count)
{
    int64_t count = 1;
    for (int i = 0; i < shape->rank; i++) {
        int64_t d = shape->dims[i];
        if (d <= 0 || count > INT64_MAX / d) return false;
        count *= d;
    }
    if (out_count) *out_count = count;
    return true;
}

void porta_shape_format(const porta_shape *shape, char *out, size_t size)
{
    size_t used = 0;
    used += (size_t)snprintf(out, size, "[");
    for (int i = 0; i < shape->rank && used < size; i++)
        used += (size_t)snprintf(out + used, size - used, i ? ", %lld" : "%lld",
                                 (long long)shape->dims[i]);
    if (used < size) snprintf(out + used, size - used, "]");
}

bool porta_shape_equal(const porta_shape *a, const porta_shape *b)
{
    if (a->rank != b->rank) return false;
    for (int i = 0; i < a->rank; i++)
        if (a->dims[i] != b->dims[i]) return false;
    return true;
}

/* ---- messages -------------------------------------------------------------------------------- */

void porta_graph_where(const porta_graph *graph, porta_srcpos pos, char *out, size_t size)
{
    if (pos.line > 0)
        snprintf(out, size, "%s:%d:%d: ", graph->filename ? graph->filename : "<text>", pos.line,
                 pos.col);
    else
        snprintf(out, size, "graph '%s': ", graph->name ? graph->name : "");
}

porta_status porta_graph_error_at_v(const porta_graph *graph, porta_srcpos pos,
                                    porta_status status, const char *format, va_list args)
{
    char where[512], message[PORTA_ERROR_MAX];
    porta_graph_where(graph, pos, where, sizeof where);
    vsnprintf(message, sizeof message, format, args);
    return porta_error(graph->context, status, "%s%s", where, message);
}

porta_status porta_graph_error_at(const porta_graph *graph, porta_srcpos pos, porta_status status,
                                  const char *format, ...)
{
    va_list args;
    va_start(args, format);
    porta_status result = porta_graph_error_at_v(graph, pos, status, format, args);
    va_end(args);
    return result;
}

/* ---- graph ----------------------------------------------------------------------------------- */

static bool is_identifier(const char *s)
{
    if (!s || !(isalpha((unsigned char)*s) || *s == '_')) return false;
    for (const char *p = s + 1; *p; p++)
        if (!(isalnum((unsigned char)*p) || *p == '_' || *p == '.')) return false;
    return strlen(s) <= 128;
}

porta_status porta_graph_create(porta_context *context, const char *name, porta_graph **out_graph)
{
    if (!out_graph) return porta_error(context, PORTA_ERROR_INVALID_ARGUMENT,
                                       "porta_graph_create: out_graph is NULL");
    *out_graph = NULL;
    if (!context) return PORTA_ERROR_INVALID_ARGUMENT;
    porta_error_clear(context);
    if (!is_identifier(name))
        return porta_error(context, PORTA_ERROR_INVALID_ARGUMENT,
                           "porta_graph_create: graph name '%s' is not an identifier",
                           name ? name : "(null)");
    porta_graph *graph = calloc(1, sizeof *graph);
    if (!graph || !(graph->name = porta_strdup(name))) {
        free(graph);
        return porta_error(context, PORTA_ERROR_OUT_OF_MEMORY, "porta_graph_create: out of memory");
    }
    graph->context = context;
    *out_graph = graph;
    return PORTA_OK;
}

static void free_attr(porta_attr_value *value)
{
    free(value->s);
    free(value->ints);
    *value = (porta_attr_value){0};
}

void porta_graph_destroy(porta_graph *graph)
{
    if (!graph) return;
    for (int i = 0; i < graph->n_tensors; i++) {
        free(graph->tensors[i].name);
        free(graph->tensors[i].key);
    }
    for (int i = 0; i < graph->n_nodes; i++)
        for (int a = 0; a < PORTA_MAX_ATTRS; a++) free_attr(&graph->nodes[i].attrs[a]);
    for (int i = 0; i < graph->n_symbols; i++) free(graph->symbols[i].name);
    free(graph->tensors);
    free(graph->nodes);
    free(graph->order);
    free(graph->name);
    free(graph->filename);
    free(graph);
}

porta_tensor_id porta_graph_find_tensor(const porta_graph *graph, const char *name)
{
    if (!graph || !name) return -1;
    for (int i = 0; i < graph->n_tensors; i++)
        if (!strcmp(graph->tensors[i].name, name)) return i;
    return -1;
}

char *porta_graph_fresh_name(porta_graph *graph)
{
    char name[32];
    do snprintf(name, sizeof name, "_%d", ++graph->next_anon);
    while (porta_graph_find_tensor(graph, name) >= 0);
    return porta_strdup(name);
}

porta_status porta_graph_new_tensor(porta_graph *graph, const char *name, porta_tensor_kind kind,
                                    porta_srcpos pos, porta_tensor_id *out_tensor)
{
    *out_tensor = -1;
    if (!is_identifier(name))
        return porta_graph_error_at(graph, pos, PORTA_ERROR_INVALID_GRAPH,
                                    "'%s' is not a valid tensor name", name ? name : "(null)");
    /* .pg reads these as attribute values, so a tensor so named could not be printed back. */
    if (!strcmp(name, "true") || !strcmp(name, "false"))
        return porta_graph_error_at(graph, pos, PORTA_ERROR_INVALID_GRAPH,
                                    "'%s' is reserved and cannot name a tensor", name);
    porta_tensor_id existing = porta_graph_find_tensor(graph, name);
    if (existing >= 0) {
        char where[512] = "";
        if (graph->tensors[existing].pos.line > 0)
            snprintf(where, sizeof where, " (first defined at line %d)",
                     graph->tensors[existing].pos.line);
        return porta_graph_error_at(graph, pos, PORTA_ERROR_INVALID_GRAPH,
                                    "duplicate name '%s'%s", name, where);
    }
    if (graph->n_tensors == graph->cap_tensors) {
        int capacity = graph->cap_tensors ? graph->cap_tensors * 2 : 16;
        porta_tensor *grown = realloc(graph->tensors, (size_t)capacity * sizeof *grown);
        if (!grown) return porta_error(graph->context, PORTA_ERROR_OUT_OF_MEMORY, "out of memory");
        graph->tensors = grown;
        graph->cap_tensors = capacity;
    }
    porta_tensor *tensor = &graph->tensors[graph->n_tensors];
    *tensor = (porta_tensor){.kind = kind, .node = -1, .pos = pos};
    if (!(tensor->name = porta_strdup(name)))
        return porta_error(graph->context, PORTA_ERROR_OUT_OF_MEMORY, "out of memory");
    graph->validated = false;
    *out_tensor = graph->n_tensors++;
    return PORTA_OK;
}

porta_status porta_graph_define_node(porta_graph *graph, porta_tensor_id output, int op,
                                     porta_srcpos pos, porta_node **out_node)
{
    *out_node = NULL;
    if (graph->n_nodes == graph->cap_nodes) {
        int capacity = graph->cap_nodes ? graph->cap_nodes * 2 : 16;
        porta_node *grown = realloc(graph->nodes, (size_t)capacity * sizeof *grown);
        if (!grown) return porta_error(graph->context, PORTA_ERROR_OUT_OF_MEMORY, "out of memory");
        graph->nodes = grown;
        graph->cap_nodes = capacity;
    }
    porta_node *node = &graph->nodes[graph->n_nodes];
    *node = (porta_node){.op = op, .output = output, .pos = pos};
    for (int i = 0; i < PORTA_MAX_OPERANDS; i++) node->operands[i] = -1;
    graph->tensors[output].node = graph->n_nodes++;
    graph->tensors[output].kind = PORTA_TENSOR_NODE;
    graph->validated = false;
    *out_node = node;
    return PORTA_OK;
}

static porta_status check_declared_shape(porta_graph *graph, const char *what, const char *name,
                                         porta_dtype dtype, const porta_shape *shape)
{
    if (!porta_dtype_name(dtype))
        return porta_error(graph->context, PORTA_ERROR_INVALID_ARGUMENT,
                           "%s '%s': dtype %d is not f32, f16 or i32", what, name, (int)dtype);
    if (!shape || shape->rank < 0 || shape->rank > PORTA_MAX_RANK)
        return porta_error(graph->context, PORTA_ERROR_INVALID_ARGUMENT,
                           "%s '%s': rank must be 0..%d", what, name, PORTA_MAX_RANK);
    for (int i = 0; i < shape->rank; i++)
        if (shape->dims[i] <= 0)
            return porta_error(graph->context, PORTA_ERROR_SHAPE,
                               "%s '%s': dim %d is %lld; dims must be positive", what, name, i,
                               (long long)shape->dims[i]);
    int64_t elements;
    if (!porta_shape_elements(shape, &elements) ||
        elements > INT64_MAX / (int64_t)porta_dtype_size(dtype))
        return porta_error(graph->context, PORTA_ERROR_SHAPE,
                           "%s '%s': the product of its dims overflows", what, name);
    return PORTA_OK;
}

static porta_status add_leaf(porta_graph *graph, const char *what, porta_tensor_kind kind,
                             const char *name, porta_dtype dtype, const porta_shape *shape,
                             const char *key, porta_tensor_id *out_tensor)
{
    if (out_tensor) *out_tensor = -1;
    if (!graph) return PORTA_ERROR_INVALID_ARGUMENT;
    porta_error_clear(graph->context);
    porta_status status = check_declared_shape(graph, what, name ? name : "(null)", dtype, shape);
    porta_tensor_id id;
    if (status == PORTA_OK) status = porta_graph_new_tensor(graph, name, kind, (porta_srcpos){0}, &id);
    if (status != PORTA_OK) return status;
    porta_tensor *tensor = &graph->tensors[id];
    tensor->dtype = dtype;
    tensor->shape = *shape;
    if (kind == PORTA_TENSOR_WEIGHT && !(tensor->key = porta_strdup(key ? key : name)))
        return porta_error(graph->context, PORTA_ERROR_OUT_OF_MEMORY, "out of memory");
    if (out_tensor) *out_tensor = id;
    return PORTA_OK;
}

porta_status porta_graph_add_input(porta_graph *graph, const char *name, porta_dtype dtype,
                                   const porta_shape *shape, porta_tensor_id *out_tensor)
{
    return add_leaf(graph, "input", PORTA_TENSOR_INPUT, name, dtype, shape, NULL, out_tensor);
}

porta_status porta_graph_add_weight(porta_graph *graph, const char *name, porta_dtype dtype,
                                    const porta_shape *shape, const char *key,
                                    porta_tensor_id *out_tensor)
{
    return add_leaf(graph, "weight", PORTA_TENSOR_WEIGHT, name, dtype, shape, key, out_tensor);
}

porta_status porta_graph_set_weight_format(porta_graph *graph, porta_tensor_id weight,
                                          porta_weight_format format)
{
    if (!graph) return PORTA_ERROR_INVALID_ARGUMENT;
    porta_error_clear(graph->context);
    if (weight < 0 || weight >= graph->n_tensors ||
        graph->tensors[weight].kind != PORTA_TENSOR_WEIGHT)
        return porta_error(graph->context, PORTA_ERROR_INVALID_ARGUMENT,
                           "porta_graph_set_weight_format: tensor %d is not a weight", (int)weight);
    if (!porta_weight_format_name(format))
        return porta_error(graph->context, PORTA_ERROR_INVALID_ARGUMENT,
                           "porta_graph_set_weight_format: format %d is not plain, i8c, q8_0 or bf16",
                           (int)format);
    graph->tensors[weight].format = format;
    graph->validated = false;
    return PORTA_OK;
}

porta_weight_format porta_graph_weight_format(const porta_graph *graph, porta_tensor_id tensor)
{
    if (!graph || tensor < 0 || tensor >= graph->n_tensors) return PORTA_WEIGHT_PLAIN;
    return graph->tensors[tensor].format;
}

porta_status porta_graph_add_node(porta_graph *graph, const char *name, const char *op,
                                  int n_operands, const porta_tensor_id *operands, int n_named,
                                  const porta_named_operand *named, int n_attrs,
                                  const porta_attr *attrs, porta_tensor_id *out_tensor)
{
    if (out_tensor) *out_tensor = -1;
    if (!graph) return PORTA_ERROR_INVALID_ARGUMENT;
    porta_context *context = graph->context;
    porta_error_clear(context);
    int op_index = op ? porta_op_find(op) : -1;
    if (op_index < 0)
        return porta_error(context, PORTA_ERROR_INVALID_GRAPH, "porta_graph_add_node: unknown op '%s'",
                           op ? op : "(null)");
    if (n_operands < 0 || n_named < 0 || n_attrs < 0 || (n_operands && !operands) ||
        (n_named && !named) || (n_attrs && !attrs))
        return porta_error(context, PORTA_ERROR_INVALID_ARGUMENT,
                           "porta_graph_add_node: negative count or NULL array");
    for (int i = 0; i < n_operands; i++)
        if (operands[i] < 0 || operands[i] >= graph->n_tensors)
            return porta_error(context, PORTA_ERROR_INVALID_ARGUMENT,
                               "porta_graph_add_node: operand %d is not a tensor of this graph", i);
    for (int i = 0; i < n_named; i++)
        if (named[i].tensor < 0 || named[i].tensor >= graph->n_tensors)
            return porta_error(context, PORTA_ERROR_INVALID_ARGUMENT,
                               "porta_graph_add_node: operand '%s' is not a tensor of this graph",
                               named[i].name ? named[i].name : "(null)");

    char *fresh = name ? NULL : porta_graph_fresh_name(graph);
    porta_tensor_id output;
    porta_status status = porta_graph_new_tensor(graph, name ? name : fresh, PORTA_TENSOR_NODE,
                                                 (porta_srcpos){0}, &output);
    free(fresh);
    if (status != PORTA_OK) return status;
    porta_node *node;
    if ((status = porta_graph_define_node(graph, output, op_index, (porta_srcpos){0}, &node)))
        return status;
    porta_srcpos none = {0};
    for (int i = 0; i < n_operands && status == PORTA_OK; i++)
        status = porta_node_set_operand(graph, node, i, NULL, operands[i], none);
    for (int i = 0; i < n_named && status == PORTA_OK; i++)
        status = porta_node_set_operand(graph, node, -1, named[i].name, named[i].tensor, none);
    for (int i = 0; i < n_attrs && status == PORTA_OK; i++)
        status = porta_node_set_attr(graph, node, &attrs[i], none);
    if (status == PORTA_OK) status = porta_node_check_complete(graph, node);
    if (status != PORTA_OK) {
        /* Undo: the node and its tensor were the last ones added. */
        for (int a = 0; a < PORTA_MAX_ATTRS; a++) free_attr(&node->attrs[a]);
        graph->n_nodes--;
        free(graph->tensors[output].name);
        graph->n_tensors--;
        return status;
    }
    if (out_tensor) *out_tensor = output;
    return PORTA_OK;
}

porta_status porta_graph_mark_output(porta_graph *graph, porta_tensor_id tensor)
{
    if (!graph) return PORTA_ERROR_INVALID_ARGUMENT;
    porta_error_clear(graph->context);
    if (tensor < 0 || tensor >= graph->n_tensors)
        return porta_error(graph->context, PORTA_ERROR_INVALID_ARGUMENT,
                           "porta_graph_mark_output: %d is not a tensor of this graph", (int)tensor);
    porta_graph_add_output(graph, tensor);
    return PORTA_OK;
}

void porta_graph_add_output(porta_graph *graph, porta_tensor_id tensor)
{
    porta_tensor *t = &graph->tensors[tensor];
    if (t->is_output) return;
    t->is_output = true;
    t->output_rank = graph->n_outputs++;
}

int porta_graph_output_count(const porta_graph *graph)
{
    return graph ? graph->n_outputs : 0;
}

porta_tensor_id porta_graph_output(const porta_graph *graph, int index)
{
    if (!graph || index < 0 || index >= graph->n_outputs) return -1;
    for (porta_tensor_id t = 0; t < graph->n_tensors; t++)
        if (graph->tensors[t].is_output && graph->tensors[t].output_rank == index) return t;
    return -1;
}

const char *porta_graph_name(const porta_graph *graph)
{
    return graph ? graph->name : NULL;
}

int porta_graph_tensor_count(const porta_graph *graph)
{
    return graph ? graph->n_tensors : 0;
}

porta_status porta_graph_tensor_info(const porta_graph *graph, porta_tensor_id id,
                                     porta_tensor_info *out_info)
{
    if (!graph || !out_info) return PORTA_ERROR_INVALID_ARGUMENT;
    *out_info = (porta_tensor_info){0};
    if (id < 0 || id >= graph->n_tensors)
        return porta_error(graph->context, PORTA_ERROR_INVALID_ARGUMENT,
                           "porta_graph_tensor_info: %d is not a tensor of this graph", (int)id);
    if (!graph->validated)
        return porta_error(graph->context, PORTA_ERROR_INVALID_ARGUMENT,
                           "porta_graph_tensor_info: the graph is not validated");
    const porta_tensor *tensor = &graph->tensors[id];
    out_info->name = tensor->name;
    out_info->kind = tensor->kind;
    out_info->dtype = tensor->dtype;
    out_info->shape = tensor->shape;
    out_info->is_output = tensor->is_output;
    out_info->key = tensor->key;
    if (tensor->kind == PORTA_TENSOR_NODE) {
        const porta_node *node = &graph->nodes[tensor->node];
        const porta_op_info *info = porta_op_get(node->op);
        out_info->op = info->name;
        out_info->flops = info->flops ? info->flops(graph, node) : 0;
        out_info->bytes = porta_node_bytes(graph, node);
    }
    return PORTA_OK;
}
