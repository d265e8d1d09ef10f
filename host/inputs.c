#include "host/inputs.h"
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
