/* `porta check FILE [--json]`: parse and validate a graph, then list every tensor with its shape,
 * FLOPs and bytes. `porta print FILE`: the graph in canonical .pg form. */
#include "graphs/graph.h"
#include "host/commands.h"
#include "porta.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

static const char *kind_name(porta_tensor_kind kind)
{
    switch (kind) {
    case PORTA_TENSOR_INPUT: return "input";
    case PORTA_TENSOR_WEIGHT: return "weight";
    case PORTA_TENSOR_NODE: return "node";
    }
    return "?";
}

static void format_shape(const porta_shape *shape, char *out, size_t size)
{
    size_t used = (size_t)snprintf(out, size, "[");
    for (int i = 0; i < shape->rank && used < size; i++)
        used += (size_t)snprintf(out + used, size - used, i ? ", %lld" : "%lld",
                                 (long long)shape->dims[i]);
    if (used < size) snprintf(out + used, size - used, "]");
}

/* Loads FILE into a validated graph, or prints the message and returns NULL. */
static porta_graph *load(porta_context **out_context, const char *path)
{
    *out_context = NULL;
    if (porta_context_create(out_context) != PORTA_OK) {
        fprintf(stderr, "porta: cannot create a context\n");
        return NULL;
    }
    porta_graph *graph;
    if (porta_graph_load(*out_context, path, &graph) != PORTA_OK) {
        fprintf(stderr, "%s\n", porta_last_error(*out_context));
        return NULL;
    }
    return graph;
}

static int print_text(const porta_graph *graph)
{
    int tensors = porta_graph_tensor_count(graph);
    uint64_t flops = 0, bytes = 0;
    printf("graph %s: %d tensors\n", porta_graph_name(graph), tensors);
    printf("%-24s %-6s %-5s %-20s %-18s %14s %14s\n", "name", "kind", "dtype", "shape", "op", "flops",
           "bytes");
    for (int i = 0; i < tensors; i++) {
        porta_tensor_info info;
        if (porta_graph_tensor_info(graph, i, &info) != PORTA_OK) return 1;
        char shape[96];
        format_shape(&info.shape, shape, sizeof shape);
        printf("%-24s %-6s %-5s %-20s %-18s %14llu %14llu%s\n", info.name, kind_name(info.kind),
               porta_dtype_name(info.dtype), shape, info.op ? info.op : "-",
               (unsigned long long)info.flops, (unsigned long long)info.bytes,
               info.is_output ? "  (output)" : "");
        flops = porta_count_add(flops, info.flops);
        bytes = porta_count_add(bytes, info.bytes);
    }
    /* each node's counts fit (validation refuses those that do not); a sum may not */
    if (flops == PORTA_COUNT_TOO_LARGE || bytes == PORTA_COUNT_TOO_LARGE)
        printf("total: too large to count in 64 bits\n");
    else
        printf("total: %llu flops, %llu bytes\n", (unsigned long long)flops,
               (unsigned long long)bytes);
    return 0;
}

static int print_json(const porta_graph *graph)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *list = cJSON_AddArrayToObject(root, "tensors");
    cJSON_AddStringToObject(root, "graph", porta_graph_name(graph));
    uint64_t flops = 0, bytes = 0;
    int tensors = porta_graph_tensor_count(graph);
    for (int i = 0; i < tensors; i++) {
        porta_tensor_info info;
        if (porta_graph_tensor_info(graph, i, &info) != PORTA_OK) {
            cJSON_Delete(root);
            return 1;
        }
        cJSON *item = cJSON_CreateObject();
        cJSON_AddStringToObject(item, "name", info.name);
        cJSON_AddStringToObject(item, "kind", kind_name(info.kind));
        cJSON_AddStringToObject(item, "dtype", porta_dtype_name(info.dtype));
        cJSON *shape = cJSON_AddArrayToObject(item, "shape");
        for (int d = 0; d < info.shape.rank; d++)
            cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)info.shape.dims[d]));
        if (info.op) cJSON_AddStringToObject(item, "op", info.op);
        if (info.key) cJSON_AddStringToObject(item, "key", info.key);
        cJSON_AddNumberToObject(item, "flops", (double)info.flops);
        cJSON_AddNumberToObject(item, "bytes", (double)info.bytes);
        cJSON_AddBoolToObject(item, "output", info.is_output);
        cJSON_AddItemToArray(list, item);
        flops = porta_count_add(flops, info.flops);
        bytes = porta_count_add(bytes, info.bytes);
    }
    /* null: the sum does not fit in 64 bits */
    if (flops == PORTA_COUNT_TOO_LARGE || bytes == PORTA_COUNT_TOO_LARGE) {
        cJSON_AddNullToObject(root, "flops");
        cJSON_AddNullToObject(root, "bytes");
    } else {
        cJSON_AddNumberToObject(root, "flops", (double)flops);
        cJSON_AddNumberToObject(root, "bytes", (double)bytes);
    }
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text) return 1;
    printf("%s\n", text);
    cJSON_free(text);
    return 0;
}

int porta_cmd_check(int argc, char **argv)
{
    const char *path = NULL;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: porta check FILE [--json]\n"
                   "Parses and validates a .pg graph; lists every tensor (kind, dtype, shape, op,\n"
                   "FLOPs, bytes) and the totals. Exit status 0 when the graph is valid, 1 when\n"
                   "it is not (the message names file:line:col), 2 on a usage error.\n");
            return 0;
        }
        if (!strcmp(argv[i], "--json")) json = true;
        else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "porta check: unknown option '%s'\nusage: porta check FILE [--json]\n",
                    argv[i]);
            return 2;
        } else if (path) {
            fprintf(stderr, "porta check: one FILE only\nusage: porta check FILE [--json]\n");
            return 2;
        } else path = argv[i];
    }
    if (!path) {
        fprintf(stderr, "usage: porta check FILE [--json]\n");
        return 2;
    }
    porta_context *context;
    porta_graph *graph = load(&context, path);
    int status = 1;
    if (graph) status = json ? print_json(graph) : print_text(graph);
    porta_graph_destroy(graph);
    porta_context_destroy(context);
    return status;
}

int porta_cmd_print(int argc, char **argv)
{
    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf("usage: porta print FILE\nPrints the graph in canonical .pg form: one flat statement "
               "per node, in topological order.\n");
        return 0;
    }
    if (argc != 2 || (argv[1][0] == '-' && argv[1][1])) {
        fprintf(stderr, "usage: porta print FILE\n");
        return 2;
    }
    porta_context *context;
    porta_graph *graph = load(&context, argv[1]);
    int status = 1;
    char *text = NULL;
    if (graph && porta_graph_print(graph, &text) == PORTA_OK) {
        fputs(text, stdout);
        status = 0;
    } else if (graph) {
        fprintf(stderr, "%s\n", porta_last_error(context));
    }
    porta_free(text);
    porta_graph_destroy(graph);
    porta_context_destroy(context);
    return status;
}
