/* libFuzzer target for the `porta run` input path: a .pg graph, a NUL byte, then an .npy file that
 * is read for every input and weight of the graph as `porta run --input NAME=FILE` reads it
 * (host/cmd_run.c: the graph's name, dtype and shape checked against the file's). Any input either
 * fails with a message, or decodes. */
#include "porta.h"
#include "host/npy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *split = memchr(data, 0, size);
    if (!split) return 0;
    size_t graph_size = (size_t)(split - data);
    const uint8_t *file = split + 1;
    size_t file_size = size - graph_size - 1;

    porta_context *context = NULL;
    if (porta_context_create(&context) != PORTA_OK) abort();
    porta_graph *graph = NULL;
    if (porta_graph_parse(context, (const char *)data, graph_size, "fuzz.pg", &graph) !=
        PORTA_OK) {
        porta_context_destroy(context);
        return 0; /* the parser has its own target */
    }
    for (porta_tensor_id id = 0; id < porta_graph_tensor_count(graph); id++) {
        porta_tensor_info info;
        if (porta_graph_tensor_info(graph, id, &info) != PORTA_OK) abort();
        if (info.kind == PORTA_TENSOR_NODE) continue;
        if (porta_graph_find_tensor(graph, info.name) != id) abort();
        int64_t count = 1;
        for (int i = 0; i < info.shape.rank && count <= (1 << 16); i++)
            count *= info.shape.dims[i];
        if (count > (1 << 16)) continue; /* a large tensor needs a large file: nothing new */
        double *values = malloc((size_t)count * sizeof *values);
        if (!values) abort();
        if (porta_npy_decode(context, "fuzz.npy", file, file_size, info.name, info.dtype,
                             &info.shape, values) != PORTA_OK &&
            !strstr(porta_last_error(context), "fuzz.npy")) {
            fprintf(stderr, "message without the file: %s\n", porta_last_error(context));
            abort();
        }
        free(values);
    }
    porta_graph_destroy(graph);
    porta_context_destroy(context);
    return 0;
}
