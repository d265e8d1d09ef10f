/* `porta compare GRAPH... [--device D ...] [--repeat N] [--profile] [--json FILE]`: runs every
 * graph on every device found (or those named), each checked against the CPU reference, and
 * prints tables of devices x graphs: the median time with its spread, GFLOP/s, the largest error
 * and, with --profile, where each graph's time goes by op: the vendor comparison. Exits 1 when
 * any run fails or any output is outside its tolerance. */
#include "host/commands.h"
#include "host/devices.h"
#include "host/inputs.h"
#include "host/json_file.h"
#include "host/run_device.h"
#include "host/stamp.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEVICES 16
#define MAX_GRAPHS 64

typedef struct cell {
    int rc;                  /* run_on_device's: 0 ok, 1 failed, 2 outside tolerance */
    run_device_result result;
} cell;

/* What a graph costs, from the op table's counts (porta check prints the same). */
typedef struct graph_cost {
    char name[128];
    double flops, bytes;
} graph_cost;

static double per_second(double amount, double ms)
{
    return ms > 0 ? amount / (ms * 1e-3) : 0;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: porta compare GRAPH... [--device D ...] [--repeat N] [--seed N] "
                 "[--profile]\n"
                 "                     [--weights W.safetensors] [--input NAME=PATH.npy ...] "
                 "[--json FILE]\n"
                 "                     [--bind NAME=V,...] [--quantize int8|q8_0|bf16]\n"
                 "\n"
                 "Runs each graph on each device (every device found, or each --device given),\n"
                 "checks its outputs against the CPU reference as `porta run --check` does, and\n"
                 "prints a table of median run time and largest error. Inputs and weights come\n"
                 "from --input .npy files and the --weights file (bound by key; a sharded\n"
                 "checkpoint's index.json or folder too), as in porta run, for every graph\n"
                 "given; the rest from the seed (default 0). Named dims (S <= 128) take the\n"
                 "values --bind and the --input files give, as in porta run. --repeat:\n"
                 "timed runs after the first (default 5). --quantize holds every linear's weight\n"
                 "8-bit, or every weight bf16, as in porta run.\n"
                 "GFLOP/s and GB/s are the graph's counted FLOPs and bytes at the median time.\n"
                 "--profile adds each graph's device time by op kind (device timestamps; a\n"
                 "device without them, such as rusticl, shows \"-\").\n"
                 "--json writes every measurement, the host, porta's version and each device's\n"
                 "key to FILE (docs/cli.md).\n");
}

static int parse_count(const char *option, const char *text, long max, long *out)
{
    char *end;
    long n = strtol(text, &end, 10);
    if (end == text || *end || n < 0 || n > max) {
        fprintf(stderr, "porta compare: %s '%s' is not a count in 0..%ld\n", option, text, max);
        return 2;
    }
    *out = n;
    return 0;
}

static cJSON *ops_json(const run_device_result *r)
{
    cJSON *ops = cJSON_CreateArray();
    for (int k = 0; k < r->n_ops; k++) {
        cJSON *op = cJSON_CreateObject();
        cJSON_AddStringToObject(op, "op", r->ops[k].op);
        cJSON_AddNumberToObject(op, "steps", r->ops[k].steps);
        cJSON_AddNumberToObject(op, "ms", r->ops[k].ms);
        cJSON_AddNumberToObject(op, "share", r->profile_ms > 0 ? r->ops[k].ms / r->profile_ms : 0);
        cJSON_AddItemToArray(ops, op);
    }
    return ops;
}

static int write_json(const char *path, int argc, char **argv, long seed, long repeat,
                      const graph_cost *graphs, int n_graphs, const porta_device_desc *devices,
                      int n_devices, const cell *cells)
{
    cJSON *root = cJSON_CreateObject();
    host_stamp(root, "compare", argc, argv);
    cJSON_AddNumberToObject(root, "seed", (double)seed);
    cJSON_AddNumberToObject(root, "repeat", (double)repeat);
    cJSON *listed = cJSON_AddArrayToObject(root, "devices");
    for (int d = 0; d < n_devices; d++) cJSON_AddItemToArray(listed, host_device_json(&devices[d]));
    cJSON *runs = cJSON_AddArrayToObject(root, "runs");
    for (int g = 0; g < n_graphs; g++)
        for (int d = 0; d < n_devices; d++) {
            const cell *c = &cells[g * n_devices + d];
            const run_device_result *r = &c->result;
            char key[600];
            host_device_key(&devices[d], key, sizeof key);
            cJSON *run = cJSON_CreateObject();
            cJSON_AddStringToObject(run, "graph", graphs[g].name);
            cJSON_AddStringToObject(run, "device", devices[d].id);
            cJSON_AddStringToObject(run, "device_key", key);
            cJSON_AddStringToObject(run, "device_name", devices[d].name);
            cJSON_AddStringToObject(run, "status", c->rc == 0 ? "ok" : c->rc == 2 ? "outside"
                                                                                  : "failed");
            cJSON_AddNumberToObject(run, "flops", graphs[g].flops);
            cJSON_AddNumberToObject(run, "bytes", graphs[g].bytes);
            if (c->rc == 1) {
                cJSON_AddStringToObject(run, "error", r->error[0] ? r->error : "failed");
            } else {
                cJSON_AddNumberToObject(run, "compile_ms", r->compile_ms);
                cJSON_AddNumberToObject(run, "first_ms", r->first_ms);
                cJSON_AddNumberToObject(run, "min_ms", r->min_ms);
                cJSON_AddNumberToObject(run, "median_ms", r->median_ms);
                cJSON_AddNumberToObject(run, "max_ms", r->max_ms);
                cJSON_AddNumberToObject(run, "gflops", per_second(graphs[g].flops, r->median_ms) * 1e-9);
                cJSON_AddNumberToObject(run, "gbytes_per_s",
                                        per_second(graphs[g].bytes, r->median_ms) * 1e-9);
                cJSON_AddNumberToObject(run, "max_abs_error", r->max_abs);
                cJSON_AddNumberToObject(run, "max_rel_error", r->max_rel);
                cJSON_AddNumberToObject(run, "arena_bytes", (double)r->arena_peak);
                cJSON_AddNumberToObject(run, "intermediates_bytes", (double)r->intermediates);
                if (r->n_ops) {
                    cJSON_AddNumberToObject(run, "profile_ms", r->profile_ms);
                    cJSON_AddItemToObject(run, "profile", ops_json(r));
                }
            }
            cJSON_AddItemToArray(runs, run);
        }
    int rc = host_write_json("porta compare", path, root);
    cJSON_Delete(root);
    return rc;
}

static void table_head(const char *title, const porta_device_desc *devices, int n_devices)
{
    printf("\n%s:\n\n| %-18s |", title, "graph");
    for (int d = 0; d < n_devices; d++) printf(" %-24s |", devices[d].id);
    printf("\n| %-18s |", "---");
    for (int d = 0; d < n_devices; d++) printf(" %-24s |", "---");
    printf("\n");
}

static void print_tables(const graph_cost *graphs, int n_graphs, const porta_device_desc *devices,
                         int n_devices, const cell *cells)
{
    printf("\n");
    for (int d = 0; d < n_devices; d++)
        printf("%-10s %s, %s\n", devices[d].id, devices[d].name, devices[d].driver_version);
    table_head("median run time (ms) and largest error against the reference", devices, n_devices);
    for (int g = 0; g < n_graphs; g++) {
        printf("| %-18s |", graphs[g].name);
        for (int d = 0; d < n_devices; d++) {
            const cell *c = &cells[g * n_devices + d];
            char text[64];
            if (c->rc == 1)
                snprintf(text, sizeof text, "FAILED");
            else
                snprintf(text, sizeof text, "%9.3f  %.1e%s", c->result.median_ms,
                         c->result.max_abs, c->rc == 2 ? " OUTSIDE" : " ok");
            printf(" %-24s |", text);
        }
        printf("\n");
    }
    table_head("min - max of the timed runs (ms), and GFLOP/s at the median", devices, n_devices);
    for (int g = 0; g < n_graphs; g++) {
        printf("| %-18s |", graphs[g].name);
        for (int d = 0; d < n_devices; d++) {
            const cell *c = &cells[g * n_devices + d];
            char text[64] = "-";
            if (c->rc != 1)
                snprintf(text, sizeof text, "%.3f - %.3f  %.2f", c->result.min_ms,
                         c->result.max_ms, per_second(graphs[g].flops, c->result.median_ms) * 1e-9);
            printf(" %-24s |", text);
        }
        printf("\n");
    }
    /* With --profile: each graph's device time by op kind, as a share of the profiled total. */
    for (int g = 0; g < n_graphs; g++) {
        const cell *row = &cells[g * n_devices];
        bool any = false;
        for (int d = 0; d < n_devices; d++) any |= row[d].rc != 1 && row[d].result.n_ops > 0;
        if (!any) continue;
        printf("\n%.127s: device time by op (ms, share of the run):\n\n| %-18s |", graphs[g].name,
               "op");
        for (int d = 0; d < n_devices; d++) printf(" %-24s |", devices[d].id);
        printf("\n| %-18s |", "---");
        for (int d = 0; d < n_devices; d++) printf(" %-24s |", "---");
        printf("\n");
        /* the ops in order of first appearance on any device */
        char seen[RUN_DEVICE_MAX_OPS * 4][64];
        int n_seen = 0;
        for (int d = 0; d < n_devices; d++)
            for (int k = 0; k < row[d].result.n_ops; k++) {
                int s = 0;
                while (s < n_seen && strcmp(seen[s], row[d].result.ops[k].op)) s++;
                if (s == n_seen && n_seen < (int)(sizeof seen / sizeof seen[0]))
                    snprintf(seen[n_seen++], sizeof seen[0], "%s", row[d].result.ops[k].op);
            }
        for (int s = 0; s < n_seen; s++) {
            printf("| %-18s |", seen[s]);
            for (int d = 0; d < n_devices; d++) {
                const run_device_result *r = &row[d].result;
                char text[64] = "-";
                for (int k = 0; k < r->n_ops; k++)
                    if (!strcmp(r->ops[k].op, seen[s]))
                        snprintf(text, sizeof text, "%9.3f %5.1f%%", r->ops[k].ms,
                                 r->profile_ms > 0 ? 100 * r->ops[k].ms / r->profile_ms : 0);
                printf(" %-24s |", text);
            }
            printf("\n");
        }
    }
}

/* Runs one graph file on every device; fills one row of cells. */
static void compare_graph(porta_context *context, const char *path, const porta_device_desc *devices,
                          int n_devices, const run_device_options *base,
                          const host_inputs *inputs, porta_weights *weights, graph_cost *cost,
                          cell *row)
{
    for (int d = 0; d < n_devices; d++) row[d].rc = 1;
    const char *slash = strrchr(path, '/');
    char *name = cost->name;
    snprintf(name, sizeof cost->name, "%s", slash ? slash + 1 : path);
    char *dot = strrchr(name, '.');
    if (dot) *dot = '\0';
    porta_graph *graph = NULL;
    porta_reference_values *values = NULL, *outputs = NULL;
    /* a graph with named dims runs at the values --bind and the --input files give */
    if (porta_graph_load(context, path, &graph) ||
        host_inputs_quantize(context, "porta compare", graph, inputs) ||
        host_inputs_bind(context, "porta compare", graph, inputs) ||
        porta_reference_values_create(graph, &values) ||
        porta_reference_values_create(graph, &outputs)) {
        fprintf(stderr, "porta compare: %s\n", porta_last_error(context));
        goto done;
    }
    for (porta_tensor_id id = 0; id < porta_graph_tensor_count(graph); id++) {
        porta_tensor_info info;
        porta_graph_tensor_info(graph, id, &info);
        cost->flops += (double)info.flops;
        cost->bytes += (double)info.bytes;
    }
    if (host_inputs_fill(context, "porta compare", graph, inputs, weights, values)) {
        snprintf(row[0].result.error, sizeof row[0].result.error, "%s: inputs: %s", path,
                 porta_last_error(context));
        for (int d = 1; d < n_devices; d++) row[d].result = row[0].result;
        goto done;
    }
    if (porta_reference_run(graph, values)) {
        fprintf(stderr, "porta compare: %s\n", porta_last_error(context));
        goto done;
    }
    for (int d = 0; d < n_devices; d++) {
        run_device_options options = *base;
        options.device = devices[d].id;
        options.profile = base->profile && devices[d].timestamps;   /* "-" where it cannot */
        row[d].rc = run_on_device(context, graph, &options, values, outputs, false,
                                  &row[d].result);
        if (row[d].rc == 1) fprintf(stderr, "porta compare: %s on %s failed\n", name, devices[d].id);
        fflush(stdout);
    }
done:
    /* a failure before any device ran is every device's */
    for (int d = 0; d < n_devices; d++)
        if (row[d].rc == 1 && !row[d].result.error[0])
            snprintf(row[d].result.error, sizeof row[d].result.error, "%s",
                     porta_last_error(context));
    porta_reference_values_destroy(outputs);
    porta_reference_values_destroy(values);
    porta_graph_destroy(graph);
}

static int compare(int argc, char **argv, host_inputs *inputs)
{
    const char *paths[MAX_GRAPHS], *selectors[MAX_DEVICES], *json = NULL;
    int n_paths = 0, n_selectors = 0;
    long repeat = 5, seed = 0;
    bool profile = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        }
        bool takes_value = !strcmp(a, "--device") || !strcmp(a, "--repeat") ||
                           !strcmp(a, "--json") || !strcmp(a, "--seed") ||
                           !strcmp(a, "--weights") || !strcmp(a, "--input") ||
                           !strcmp(a, "--bind") || !strcmp(a, "--quantize");
        if (takes_value && i + 1 >= argc) {
            fprintf(stderr, "porta compare: %s needs a value\n", a);
            return 2;
        }
        if (!strcmp(a, "--profile")) {
            profile = true;
        } else if (!strcmp(a, "--weights")) {
            inputs->weights_path = argv[++i];
        } else if (!strcmp(a, "--bind")) {
            inputs->bind = argv[++i];
        } else if (!strcmp(a, "--quantize")) {
            int bad = host_inputs_quantize_option(inputs, "porta compare", argv[++i]);
            if (bad) return bad;
        } else if (!strcmp(a, "--input")) {
            int bad = host_inputs_add(inputs, "porta compare", argv[++i]);
            if (bad) return bad;
        } else if (!strcmp(a, "--device")) {
            if (n_selectors == MAX_DEVICES) {
                fprintf(stderr, "porta compare: more than %d --device options\n", MAX_DEVICES);
                return 2;
            }
            selectors[n_selectors++] = argv[++i];
        } else if (!strcmp(a, "--repeat")) {
            if (parse_count(a, argv[++i], 10000, &repeat)) return 2;
        } else if (!strcmp(a, "--seed")) {
            if (parse_count(a, argv[++i], 0x7fffffffL, &seed)) return 2;
        } else if (!strcmp(a, "--json")) {
            json = argv[++i];
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "porta compare: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        } else if (n_paths == MAX_GRAPHS) {
            fprintf(stderr, "porta compare: more than %d graphs\n", MAX_GRAPHS);
            return 2;
        } else {
            paths[n_paths++] = a;
        }
    }
    if (!n_paths) {
        fprintf(stderr, "porta compare: no graph given\n");
        usage(stderr);
        return 2;
    }
    porta_context *context;
    if (porta_context_create(&context)) {
        fprintf(stderr, "porta compare: out of memory\n");
        return 1;
    }
    inputs->seed = (uint64_t)seed;
    porta_weights *weights = NULL;
    if (inputs->weights_path && porta_weights_open(context, inputs->weights_path, &weights)) {
        fprintf(stderr, "porta compare: %s\n", porta_last_error(context));
        porta_context_destroy(context);
        return 1;
    }
    porta_device_desc devices[MAX_DEVICES];
    int n_devices = 0;
    if (host_select_devices(context, "porta compare", selectors, n_selectors, devices, MAX_DEVICES,
                            &n_devices)) {
        porta_weights_close(weights);
        porta_context_destroy(context);
        return 1;
    }
    static graph_cost costs[MAX_GRAPHS];
    memset(costs, 0, sizeof costs);
    cell *cells = calloc((size_t)n_paths * (size_t)n_devices, sizeof *cells);
    if (!cells) {
        porta_weights_close(weights);
        porta_context_destroy(context);
        return 1;
    }
    run_device_options base = {NULL, true, profile, (int)repeat};
    for (int g = 0; g < n_paths; g++)
        compare_graph(context, paths[g], devices, n_devices, &base, inputs, weights, &costs[g],
                      &cells[g * n_devices]);
    print_tables(costs, n_paths, devices, n_devices, cells);
    int written = json ? write_json(json, argc, argv, seed, repeat, costs, n_paths, devices,
                                    n_devices, cells)
                       : 0;
    int rc = written;
    for (int i = 0; i < n_paths * n_devices; i++)
        if (cells[i].rc) rc = 1;
    free(cells);
    porta_weights_close(weights);
    porta_context_destroy(context);
    return rc;
}

int porta_cmd_compare(int argc, char **argv)
{
    host_inputs inputs = {0};
    int rc = compare(argc, argv, &inputs);
    host_inputs_free(&inputs);
    return rc;
}
