/* `porta compare GRAPH... [--device D ...] [--repeat N] [--json FILE]`: runs every graph on
 * every device found (or those named), each checked against the CPU reference, and prints one
 * table of devices x graphs with the median time and the largest error: the vendor comparison.
 * Exits 1 when any run fails or any output is outside its tolerance. */
#include "host/commands.h"
#include "host/devices.h"
#include "host/json_file.h"
#include "host/run_device.h"

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

static void usage(FILE *out)
{
    fprintf(out, "usage: porta compare GRAPH... [--device D ...] [--repeat N] [--seed N] "
                 "[--json FILE]\n"
                 "\n"
                 "Runs each graph on each device (every device found, or each --device given),\n"
                 "checks its outputs against the CPU reference as `porta run --check` does, and\n"
                 "prints a table of median run time and largest error. Inputs and weights come\n"
                 "from the seed (default 0). --repeat: timed runs after the first (default 5).\n"
                 "--json writes every measurement to FILE.\n");
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

static void write_json(const char *path, char graphs[][128], int n_graphs,
                       const porta_device_desc *devices, int n_devices, cell *cells)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *runs = cJSON_AddArrayToObject(root, "runs");
    for (int g = 0; g < n_graphs; g++)
        for (int d = 0; d < n_devices; d++) {
            const cell *c = &cells[g * n_devices + d];
            cJSON *run = cJSON_CreateObject();
            cJSON_AddStringToObject(run, "graph", graphs[g]);
            cJSON_AddStringToObject(run, "device", devices[d].id);
            cJSON_AddStringToObject(run, "device_name", devices[d].name);
            cJSON_AddStringToObject(run, "status", c->rc == 0 ? "ok" : c->rc == 2 ? "outside"
                                                                                  : "failed");
            if (c->rc != 1) {
                cJSON_AddNumberToObject(run, "compile_ms", c->result.compile_ms);
                cJSON_AddNumberToObject(run, "first_ms", c->result.first_ms);
                cJSON_AddNumberToObject(run, "median_ms", c->result.median_ms);
                cJSON_AddNumberToObject(run, "max_abs_error", c->result.max_abs);
                cJSON_AddNumberToObject(run, "max_rel_error", c->result.max_rel);
                cJSON_AddNumberToObject(run, "arena_bytes", (double)c->result.arena_peak);
                cJSON_AddNumberToObject(run, "intermediates_bytes",
                                        (double)c->result.intermediates);
            }
            cJSON_AddItemToArray(runs, run);
        }
    host_write_json("porta compare", path, root);
    cJSON_Delete(root);
}

static void print_table(char graphs[][128], int n_graphs, const porta_device_desc *devices,
                        int n_devices, const cell *cells)
{
    printf("\n");
    for (int d = 0; d < n_devices; d++)
        printf("%-10s %s, %s\n", devices[d].id, devices[d].name, devices[d].driver_version);
    printf("\nmedian run time (ms) and largest error against the reference:\n\n");
    printf("| %-18s |", "graph");
    for (int d = 0; d < n_devices; d++) printf(" %-24s |", devices[d].id);
    printf("\n| %-18s |", "---");
    for (int d = 0; d < n_devices; d++) printf(" %-24s |", "---");
    printf("\n");
    for (int g = 0; g < n_graphs; g++) {
        printf("| %-18s |", graphs[g]);
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
}

/* Runs one graph file on every device; fills one row of cells. */
static void compare_graph(porta_context *context, const char *path, const porta_device_desc *devices,
                          int n_devices, const run_device_options *base, uint64_t seed,
                          char *name, size_t name_size, cell *row)
{
    for (int d = 0; d < n_devices; d++) row[d].rc = 1;
    const char *slash = strrchr(path, '/');
    snprintf(name, name_size, "%s", slash ? slash + 1 : path);
    char *dot = strrchr(name, '.');
    if (dot) *dot = '\0';
    porta_graph *graph = NULL;
    porta_reference_values *values = NULL, *outputs = NULL;
    if (porta_graph_load(context, path, &graph) ||
        porta_reference_values_create(graph, &values) ||
        porta_reference_values_create(graph, &outputs)) {
        fprintf(stderr, "porta compare: %s\n", porta_last_error(context));
        goto done;
    }
    for (porta_tensor_id id = 0; id < porta_graph_tensor_count(graph); id++) {
        porta_tensor_info info;
        porta_graph_tensor_info(graph, id, &info);
        if (info.kind != PORTA_TENSOR_NODE) porta_reference_fill(graph, id, seed, values->data[id]);
    }
    if (porta_reference_run(graph, values)) {
        fprintf(stderr, "porta compare: %s\n", porta_last_error(context));
        goto done;
    }
    for (int d = 0; d < n_devices; d++) {
        run_device_options options = *base;
        options.device = devices[d].id;
        row[d].rc = run_on_device(context, graph, &options, values, outputs, false,
                                  &row[d].result);
        if (row[d].rc == 1) fprintf(stderr, "porta compare: %s on %s failed\n", name, devices[d].id);
        fflush(stdout);
    }
done:
    porta_reference_values_destroy(outputs);
    porta_reference_values_destroy(values);
    porta_graph_destroy(graph);
}

int porta_cmd_compare(int argc, char **argv)
{
    const char *paths[MAX_GRAPHS], *selectors[MAX_DEVICES], *json = NULL;
    int n_paths = 0, n_selectors = 0;
    long repeat = 5, seed = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        }
        bool takes_value = !strcmp(a, "--device") || !strcmp(a, "--repeat") ||
                           !strcmp(a, "--json") || !strcmp(a, "--seed");
        if (takes_value && i + 1 >= argc) {
            fprintf(stderr, "porta compare: %s needs a value\n", a);
            return 2;
        }
        if (!strcmp(a, "--device")) {
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
    porta_device_desc devices[MAX_DEVICES];
    int n_devices = 0;
    if (host_select_devices(context, "porta compare", selectors, n_selectors, devices, MAX_DEVICES,
                            &n_devices)) {
        porta_context_destroy(context);
        return 1;
    }
    static char names[MAX_GRAPHS][128];
    cell *cells = calloc((size_t)n_paths * (size_t)n_devices, sizeof *cells);
    if (!cells) {
        porta_context_destroy(context);
        return 1;
    }
    run_device_options base = {NULL, true, false, (int)repeat};
    for (int g = 0; g < n_paths; g++)
        compare_graph(context, paths[g], devices, n_devices, &base, (uint64_t)seed, names[g],
                      sizeof names[g], &cells[g * n_devices]);
    print_table(names, n_paths, devices, n_devices, cells);
    if (json) write_json(json, names, n_paths, devices, n_devices, cells);
    int rc = 0;
    for (int i = 0; i < n_paths * n_devices; i++)
        if (cells[i].rc) rc = 1;
    free(cells);
    porta_context_destroy(context);
    return rc;
}
