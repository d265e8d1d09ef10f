/* The reference executor: walks graph->order, hands each node to its op function (one table,
 * indexed by op), then rounds the result to its dtype. */
#include "host/reference/internal.h"
#include "host/reference/half.h"

#include <stdlib.h>

static const porta_ref_op_fn op_functions[PORTA_OP_COUNT] = {
    [PORTA_OP_ADD] = porta_ref_binary,
    [PORTA_OP_SUB] = porta_ref_binary,
    [PORTA_OP_MUL] = porta_ref_binary,
    [PORTA_OP_DIV] = porta_ref_binary,
    [PORTA_OP_SCALE] = porta_ref_unary,
    [PORTA_OP_RELU] = porta_ref_unary,
    [PORTA_OP_GELU] = porta_ref_unary,
    [PORTA_OP_SILU] = porta_ref_unary,
    [PORTA_OP_TANH] = porta_ref_unary,
    [PORTA_OP_SIGMOID] = porta_ref_unary,
    [PORTA_OP_SQRT] = porta_ref_unary,
    [PORTA_OP_RSQRT] = porta_ref_unary,
    [PORTA_OP_EXP] = porta_ref_unary,
    [PORTA_OP_LOG] = porta_ref_unary,
    [PORTA_OP_ABS] = porta_ref_unary,
    [PORTA_OP_NEG] = porta_ref_unary,
    [PORTA_OP_POW] = porta_ref_unary,
    [PORTA_OP_CAST] = porta_ref_cast,
    [PORTA_OP_MATMUL] = porta_ref_matmul,
    [PORTA_OP_LINEAR] = porta_ref_linear,
    [PORTA_OP_SOFTMAX] = porta_ref_softmax,
    [PORTA_OP_LAYERNORM] = porta_ref_layernorm,
    [PORTA_OP_RMSNORM] = porta_ref_rmsnorm,
    [PORTA_OP_SDPA] = porta_ref_sdpa,
    [PORTA_OP_ATTENTION] = porta_ref_attention_op,
    [PORTA_OP_ADDITIVE_ATTENTION] = porta_ref_additive,
    [PORTA_OP_LUONG_ATTENTION] = porta_ref_luong,
    [PORTA_OP_RESHAPE] = porta_ref_reshape,
    [PORTA_OP_PERMUTE] = porta_ref_permute,
    [PORTA_OP_SPLIT_HEADS] = porta_ref_split_heads,
    [PORTA_OP_MERGE_HEADS] = porta_ref_merge_heads,
    [PORTA_OP_CONCAT] = porta_ref_concat,
    [PORTA_OP_SLICE] = porta_ref_slice,
    [PORTA_OP_EMBEDDING] = porta_ref_embedding,
    [PORTA_OP_SINUSOIDAL] = porta_ref_sinusoidal,
    [PORTA_OP_ROPE] = porta_ref_rope,
    [PORTA_OP_CAUSAL_CONV1D] = porta_ref_causal_conv1d,
    [PORTA_OP_KV_APPEND] = porta_ref_kv_append,
    [PORTA_OP_SUM] = porta_ref_reduce,
    [PORTA_OP_MEAN] = porta_ref_reduce,
    [PORTA_OP_MAX] = porta_ref_reduce,
    [PORTA_OP_ARGMAX] = porta_ref_reduce,
    [PORTA_OP_MASKED_MEAN] = porta_ref_masked_mean,
    [PORTA_OP_L2NORM] = porta_ref_l2norm,
    [PORTA_OP_WHERE] = porta_ref_where,
    [PORTA_OP_FULL] = porta_ref_full,
};

int64_t porta_ref_elements(const porta_shape *shape)
{
    int64_t n = 1;
    for (int i = 0; i < shape->rank; i++) n *= shape->dims[i];
    return n;
}

porta_status porta_ref_out_of_memory(const porta_ref_call *call)
{
    return porta_error(call->graph->context, PORTA_ERROR_OUT_OF_MEMORY,
                       "reference: out of memory running node '%s' (%s)", call->out_tensor->name,
                       porta_op_get(call->node->op)->name);
}

double *porta_ref_scratch(const porta_ref_call *call, int64_t count, porta_status *status)
{
    double *p = count > 0 && (uint64_t)count <= SIZE_MAX / sizeof(double)
                    ? calloc((size_t)count, sizeof(double)) : NULL;
    *status = p ? PORTA_OK : porta_ref_out_of_memory(call);
    return p;
}

void porta_reference_round(porta_dtype dtype, double *data, int64_t count)
{
    for (int64_t i = 0; i < count; i++) {
        double x = data[i];
        switch (dtype) {
        case PORTA_F16: data[i] = porta_half_round(x); break;
        case PORTA_F32: data[i] = (double)(float)x; break;
        case PORTA_I32:
            data[i] = isnan(x) ? 0.0 : x <= -2147483648.0 ? -2147483648.0
                    : x >= 2147483647.0 ? 2147483647.0 : trunc(x);
            break;
        }
    }
}

static porta_status values_create(const porta_graph *graph, bool intermediates,
                                  porta_reference_values **out_values)
{
    if (!out_values) return PORTA_ERROR_INVALID_ARGUMENT;
    *out_values = NULL;
    if (!graph) return PORTA_ERROR_INVALID_ARGUMENT;
    if (!graph->validated)
        return porta_error(graph->context, PORTA_ERROR_INVALID_ARGUMENT,
                           "reference: graph '%s' is not validated", graph->name);
    porta_reference_values *values = calloc(1, sizeof *values);
    int n = graph->n_tensors;
    if (values) {
        values->n_tensors = n;
        values->data = calloc((size_t)n + 1, sizeof *values->data);
        values->count = calloc((size_t)n + 1, sizeof *values->count);
    }
    bool ok = values && values->data && values->count;
    for (int t = 0; ok && t < n; t++) {
        int64_t count = 1;
        ok = porta_shape_elements(&graph->tensors[t].shape, &count) &&
             (uint64_t)count <= SIZE_MAX / sizeof(double);
        if (ok) values->count[t] = count;
        const porta_tensor *tensor = &graph->tensors[t];
        if (ok && (intermediates || tensor->kind != PORTA_TENSOR_NODE || tensor->is_output)) {
            values->data[t] = calloc((size_t)count, sizeof(double));
            ok = values->data[t] != NULL;
        }
    }
    if (!ok) {
        porta_reference_values_destroy(values);
        return porta_error(graph->context, PORTA_ERROR_OUT_OF_MEMORY,
                           "reference: out of memory allocating the tensors of graph '%s'",
                           graph->name);
    }
    *out_values = values;
    return PORTA_OK;
}

porta_status porta_reference_values_create(const porta_graph *graph,
                                           porta_reference_values **out_values)
{
    return values_create(graph, true, out_values);
}

porta_status porta_reference_values_create_io(const porta_graph *graph,
                                              porta_reference_values **out_values)
{
    return values_create(graph, false, out_values);
}

void porta_reference_values_destroy(porta_reference_values *values)
{
    if (!values) return;
    if (values->data)
        for (int t = 0; t < values->n_tensors; t++) free(values->data[t]);
    free(values->data);
    free(values->count);
    free(values);
}

porta_status porta_reference_run(const porta_graph *graph, porta_reference_values *values)
{
    if (!graph || !values) return PORTA_ERROR_INVALID_ARGUMENT;
    if (!graph->validated)
        return porta_error(graph->context, PORTA_ERROR_INVALID_ARGUMENT,
                           "reference: graph '%s' is not validated", graph->name);
    if (values->n_tensors != graph->n_tensors)
        return porta_error(graph->context, PORTA_ERROR_INVALID_ARGUMENT,
                           "reference: values hold %d tensors but graph '%s' has %d",
                           values->n_tensors, graph->name, graph->n_tensors);
    for (int i = 0; i < graph->n_nodes; i++) {
        const porta_node *node = &graph->nodes[graph->order[i]];
        porta_ref_call call = {
            .graph = graph,
            .node = node,
            .n_in = node->n_operands,
            .out_tensor = &graph->tensors[node->output],
            .out = values->data[node->output],
            .out_count = values->count[node->output],
        };
        porta_status status = PORTA_OK;
        double *rounded[PORTA_MAX_OPERANDS] = {NULL};
        for (int k = 0; k < node->n_operands && status == PORTA_OK; k++) {
            porta_tensor_id id = node->operands[k];
            call.in[k] = id >= 0 ? &graph->tensors[id] : NULL;
            call.x[k] = id >= 0 ? values->data[id] : NULL;
            /* a bf16 weight is read as the device holds it */
            if (id >= 0 && graph->tensors[id].format == PORTA_WEIGHT_BF16) {
                double *held = porta_ref_scratch(&call, values->count[id], &status);
                for (int64_t e = 0; held && e < values->count[id]; e++)
                    held[e] = porta_bfloat_round(values->data[id][e]);
                call.x[k] = rounded[k] = held;
            }
        }
        porta_ref_op_fn fn = op_functions[node->op];
        if (status == PORTA_OK && fn) status = fn(&call);
        for (int k = 0; k < node->n_operands; k++) free(rounded[k]);
        if (!fn)
            return porta_error(graph->context, PORTA_ERROR_UNSUPPORTED,
                               "reference: op '%s' (node '%s') has no reference implementation",
                               porta_op_get(node->op)->name, call.out_tensor->name);
        if (status) return status;
        /* f32 results stay in double (the reference's precision); f16 ones are rounded. */
        if (call.out_tensor->dtype != PORTA_F32)
            porta_reference_round(call.out_tensor->dtype, call.out, call.out_count);
    }
    return PORTA_OK;
}
