#include "host/inputs.h"
#include "graphs/graph.h"
#include "host/npy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int host_inputs_add(host_inputs *inputs, const char *command, const char *spec)
{
    const char *eq = strchr(spec, '=');
    if (!eq || eq == spec || !eq[1]) {
        fprintf(stderr, "%s: --input '%s' is not NAME=PATH\n", command, spec);
        return 2;
    }
    if (inputs->n == HOST_MAX_INPUTS) {
        fprintf(stderr, "%s: more than %d --input options\n", command, HOST_MAX_INPUTS);
        return 2;
    }
    char *name = strndup(spec, (size_t)(eq - spec));
    if (!name) {
        fprintf(stderr, "%s: out of memory\n", command);
        return 1;
    }
    for (int k = 0; k < inputs->n; k++)
        if (!strcmp(inputs->names[k], name)) {
            fprintf(stderr, "%s: --input '%s' is given twice\n", command, name);
            free(name);
            return 2;
        }
    inputs->names[inputs->n] = name;
    inputs->paths[inputs->n++] = eq + 1;
    return 0;
}

void host_inputs_free(host_inputs *inputs)
{
    for (int i = 0; i < inputs->n; i++) free(inputs->names[i]);
    inputs->n = 0;
}

/* Records `value` for named dim `index`, failing when an earlier source said otherwise. */
static int take_value(const porta_graph *graph, int index, int64_t value, const char *source,
                      int64_t *values, const char **sources, const char *command)
{
    if (values[index] && values[index] != value) {
        fprintf(stderr, "%s: dim '%s' is %lld in %s but %lld in %s\n", command,
                graph->symbols[index].name, (long long)values[index], sources[index],
                (long long)value, source);
        return 1;
    }
    values[index] = value;
    sources[index] = source;
    return 0;
}

int host_inputs_quantize_option(host_inputs *inputs, const char *command, const char *text)
{
    if (!strcmp(text, "int8") || !strcmp(text, "i8c")) inputs->quantize = PORTA_WEIGHT_I8C;
    else if (!strcmp(text, "q8_0")) inputs->quantize = PORTA_WEIGHT_Q8_0;
    else if (!strcmp(text, "bf16")) inputs->quantize = PORTA_WEIGHT_BF16;
    else {
        fprintf(stderr, "%s: --quantize '%s' is not int8, q8_0 or bf16\n", command, text);
        return 2;
    }
    return 0;
}

int host_inputs_quantize(porta_context *context, const char *command, porta_graph *graph,
                         const host_inputs *inputs)
{
    if (!inputs->quantize) return 0;
    int count = 0;
    if (porta_graph_quantize_weights(graph, inputs->quantize, &count) != PORTA_OK) {
        fprintf(stderr, "%s: %s\n", command, porta_last_error(context));
        return 1;
    }
    fprintf(stderr, "%s: %d weights of '%s' held as %s\n", command, count, graph->name,
            porta_weight_format_name(inputs->quantize));
    return 0;
}

int host_inputs_bind(porta_context *context, const char *command, porta_graph *graph,
                     const host_inputs *inputs)
{
    int64_t values[PORTA_MAX_SYMBOLS] = {0};
    const char *sources[PORTA_MAX_SYMBOLS] = {0};
    if (inputs->bind && !graph->n_symbols) {
        fprintf(stderr, "%s: --bind: graph '%s' has no named dims\n", command, graph->name);
        return 2;
    }
    for (const char *at = inputs->bind; at && *at;) {
        const char *end = strchr(at, ',');
        size_t n = end ? (size_t)(end - at) : strlen(at);
        const char *eq = memchr(at, '=', n);
        char *stop = NULL;
        long long value = eq ? strtoll(eq + 1, &stop, 10) : 0;
        int index = -1;
        for (int i = 0; eq && i < graph->n_symbols && index < 0; i++)
            if (strlen(graph->symbols[i].name) == (size_t)(eq - at) &&
                !strncmp(graph->symbols[i].name, at, (size_t)(eq - at)))
                index = i;
        if (!eq || stop != at + n || stop == eq + 1) {
            fprintf(stderr, "%s: --bind '%.*s' is not NAME=VALUE\n", command, (int)n, at);
            return 2;
        }
        if (index < 0) {
            fprintf(stderr, "%s: --bind: graph '%s' has no dim named '%.*s'\n", command,
                    graph->name, (int)(eq - at), at);
            return 1;
        }
        if (take_value(graph, index, value, "--bind", values, sources, command)) return 1;
        at = end ? end + 1 : at + n;
    }
    for (int k = 0; k < inputs->n && graph->n_symbols; k++) {
        porta_tensor_id id = porta_graph_find_tensor(graph, inputs->names[k]);
        if (id < 0 || graph->tensors[id].kind != PORTA_TENSOR_INPUT) continue;
        const porta_tensor *tensor = &graph->tensors[id];
        bool named = false;
        for (int d = 0; d < tensor->shape.rank; d++) named |= tensor->dim_symbol[d] != 0;
        if (!named) continue;
        porta_shape shape;
        if (porta_npy_shape(context, inputs->paths[k], &shape)) {
            fprintf(stderr, "%s: %s\n", command, porta_last_error(context));
            return 1;
        }
        if (shape.rank != tensor->shape.rank) continue;     /* the read names the mismatch */
        for (int d = 0; d < shape.rank; d++)
            if (tensor->dim_symbol[d] &&
                take_value(graph, tensor->dim_symbol[d] - 1, shape.dims[d], inputs->paths[k],
                           values, sources, command))
                return 1;
    }
    const char *names[PORTA_MAX_SYMBOLS];
    int64_t given[PORTA_MAX_SYMBOLS];
    int count = 0;
    for (int i = 0; i < graph->n_symbols; i++)
        if (values[i]) {
            names[count] = graph->symbols[i].name;
            given[count++] = values[i];
        }
    if (count && porta_graph_bind(graph, names, given, count)) {
        fprintf(stderr, "%s: %s\n", command, porta_last_error(context));
        return 1;
    }
    return 0;
}

/* One weight from the safetensors file into float64 values. */
static porta_status read_weight(porta_weights *weights, const porta_tensor_info *info,
                                int64_t count, double *values)
{
    size_t bytes = (size_t)count * porta_dtype_size(info->dtype);
    void *host = malloc(bytes ? bytes : 1);
    if (!host) return PORTA_ERROR_OUT_OF_MEMORY;
    porta_status status = porta_weights_read(weights, info->key ? info->key : info->name,
                                             info->dtype, &info->shape, host, bytes);
    if (status == PORTA_OK) porta_reference_unpack(info->dtype, host, count, values);
    free(host);
    return status;
}

int host_inputs_fill(porta_context *context, const char *command, porta_graph *graph,
                     const host_inputs *inputs, porta_weights *weights,
                     porta_reference_values *values)
{
    for (int k = 0; k < inputs->n; k++) {
        porta_tensor_id id = porta_graph_find_tensor(graph, inputs->names[k]);
        porta_tensor_info info;
        if (id < 0 || porta_graph_tensor_info(graph, id, &info)) {
            fprintf(stderr, "%s: --input '%s': the graph has no tensor of that name\n", command,
                    inputs->names[k]);
            return 1;
        }
        if (info.kind == PORTA_TENSOR_NODE) {
            fprintf(stderr, "%s: --input '%s': a node result, not an input or weight\n", command,
                    inputs->names[k]);
            return 1;
        }
    }
    if (weights && porta_graph_check_weights(graph, weights)) {
        fprintf(stderr, "%s: %s\n", command, porta_last_error(context));
        return 1;
    }
    char seeded[512] = "";
    int n_seeded = 0;
    for (porta_tensor_id id = 0; id < porta_graph_tensor_count(graph); id++) {
        porta_tensor_info info;
        porta_graph_tensor_info(graph, id, &info);
        if (info.kind == PORTA_TENSOR_NODE) continue;
        const char *path = NULL;
        for (int k = 0; k < inputs->n; k++)
            if (!strcmp(inputs->names[k], info.name)) path = inputs->paths[k];
        porta_status status = PORTA_OK;
        if (path) {
            status = porta_npy_read(context, path, info.name, info.dtype, &info.shape,
                                    values->data[id]);
        } else if (weights && info.kind == PORTA_TENSOR_WEIGHT) {
            status = read_weight(weights, &info, values->count[id], values->data[id]);
            if (status == PORTA_ERROR_OUT_OF_MEMORY && !porta_last_error(context)[0]) {
                fprintf(stderr, "%s: out of memory\n", command);
                return 1;
            }
        } else {
            porta_reference_fill(graph, id, inputs->seed, values->data[id]);
            if (info.kind == PORTA_TENSOR_INPUT) {
                size_t used = strlen(seeded);
                if (used < sizeof seeded - 64)
                    snprintf(seeded + used, sizeof seeded - used, "%s'%s'", n_seeded ? ", " : "",
                             info.name);
                n_seeded++;
            }
        }
        if (status) {
            fprintf(stderr, "%s: %s\n", command, porta_last_error(context));
            return 1;
        }
    }
    if (n_seeded)
        fprintf(stderr, "%s: warning: input%s %s%s got no --input and %s filled from the seed "
                "(%llu)\n", command, n_seeded == 1 ? "" : "s", seeded,
                strlen(seeded) >= sizeof seeded - 64 ? ", ..." : "", n_seeded == 1 ? "is" : "are",
                (unsigned long long)inputs->seed);
    return 0;
}
