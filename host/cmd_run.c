/* `porta run`: loads a graph, fills its inputs and weights (from .npy files, a safetensors file or
 * the seed), runs it on a device or on the CPU reference and writes each output as DIR/NAME.npy,
 * with a summary line per output; --check compares a device's outputs with the reference and
 * --profile prints each step's device time (host/run_device.c). */
#include "host/commands.h"
#include "host/inputs.h"
#include "host/npy.h"
#include "host/run_device.h"
#include "host/reference/reference.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct run_options {
    const char *graph_path;
    const char *device;
    const char *out_dir;
    host_inputs inputs;     /* --input, --weights, --seed */
    bool check, profile, quiet;
    int repeat;
} run_options;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: porta run FILE --device D [--weights W.safetensors] [--input NAME=PATH.npy "
            "...]\n"
            "                 [--bind NAME=V,...] [--quantize int8|q8_0|bf16]\n"
            "                 [--seed N] [--check] [--profile] [--repeat N] [--out DIR] "
            "[--quiet]\n"
            "\n"
            "Runs the graph in FILE and writes each output as DIR/NAME.npy (DIR: ./out).\n"
            "\n"
            "  --device D            ref (the CPU reference executor, double precision), or a\n"
            "                        device: vulkan:0, opencl:1, a name substring, auto\n"
            "  --weights W           weights from a safetensors file, bound by key; or a sharded\n"
            "                        checkpoint: its index.json, or the folder holding it\n"
            "  --input NAME=PATH     values of input or weight NAME from a .npy file; every other\n"
            "                        input and weight comes from --weights or the seed\n"
            "  --bind NAME=V,...     values of named dims (S <= 128); --input files bind them\n"
            "                        too; a dim bound by neither runs at its maximum\n"
            "  --quantize F          hold every linear's weight (and matmul's weight b) as\n"
            "                        8-bit integers with scales: int8 (one per output channel)\n"
            "                        or q8_0 (one per block of 32 along K); or every f32\n"
            "                        weight as bf16 (bf16); docs/weights.md\n"
            "  --seed N              seed of the fill (default 0)\n"
            "  --check               also run the reference; print each output's errors and\n"
            "                        exit 1 when one is outside its tolerance\n"
            "  --profile             print every step's device time\n"
            "  --repeat N            run N more times after the first and print the median\n"
            "  --out DIR             where the outputs go (created if missing)\n"
            "  --quiet               no .npy files and no per-output lines; only the check\n"
            "  --help                this text\n");
}

static void free_options(run_options *o)
{
    host_inputs_free(&o->inputs);
}

/* Returns -1 on success, else the exit status (0 for --help, 2 for a usage error). */
static int parse_args(int argc, char **argv, run_options *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        }
        bool takes_value = !strcmp(a, "--device") || !strcmp(a, "--input") ||
                           !strcmp(a, "--seed") || !strcmp(a, "--out") ||
                           !strcmp(a, "--weights") || !strcmp(a, "--repeat") ||
                           !strcmp(a, "--bind") || !strcmp(a, "--quantize");
        if (takes_value && i + 1 >= argc) {
            fprintf(stderr, "porta run: %s needs a value\n", a);
            return 2;
        }
        if (!strcmp(a, "--device")) {
            o->device = argv[++i];
        } else if (!strcmp(a, "--weights")) {
            o->inputs.weights_path = argv[++i];
        } else if (!strcmp(a, "--bind")) {
            o->inputs.bind = argv[++i];
        } else if (!strcmp(a, "--quantize")) {
            int bad = host_inputs_quantize_option(&o->inputs, "porta run", argv[++i]);
            if (bad) return bad;
        } else if (!strcmp(a, "--check")) {
            o->check = true;
        } else if (!strcmp(a, "--profile")) {
            o->profile = true;
        } else if (!strcmp(a, "--quiet")) {
            o->quiet = true;
        } else if (!strcmp(a, "--repeat")) {
            const char *text = argv[++i];
            char *end;
            long n = strtol(text, &end, 10);
            if (end == text || *end || n < 0 || n > 100000) {
                fprintf(stderr, "porta run: --repeat '%s' is not a count in 0..100000\n", text);
                return 2;
            }
            o->repeat = (int)n;
        } else if (!strcmp(a, "--out")) {
            o->out_dir = argv[++i];
        } else if (!strcmp(a, "--seed")) {
            const char *text = argv[++i];
            char *end;
            errno = 0;
            unsigned long long seed = strtoull(text, &end, 0);
            if (errno || end == text || *end || text[0] == '-') {
                fprintf(stderr, "porta run: --seed '%s' is not a non-negative integer\n", text);
                return 2;
            }
            o->inputs.seed = seed;
        } else if (!strcmp(a, "--input")) {
            int bad = host_inputs_add(&o->inputs, "porta run", argv[++i]);
            if (bad) return bad;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "porta run: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        } else if (!o->graph_path) {
            o->graph_path = a;
        } else {
            fprintf(stderr, "porta run: more than one graph file ('%s', '%s')\n", o->graph_path, a);
            return 2;
        }
    }
    if (!o->graph_path) {
        fprintf(stderr, "porta run: no graph file given\n");
        usage(stderr);
        return 2;
    }
    if (!o->device) {
        fprintf(stderr, "porta run: no device given: --device ref (the CPU reference), or one "
                        "that `porta devices` lists\n");
        return 2;
    }
    if (!strcmp(o->device, "ref") && (o->check || o->profile)) {
        fprintf(stderr, "porta run: --check and --profile need a device other than ref\n");
        return 2;
    }
    return -1;
}

static uint64_t fnv1a(const unsigned char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

/* Writes one output and prints its summary: name, dtype and shape, min, max, mean of the values
 * as written, and the FNV-1a 64-bit hash of the .npy data bytes (after the header). */
static int write_output(porta_context *context, const run_options *o, const porta_tensor_info *t,
                        const double *values, int64_t count)
{
    char *data;
    size_t length;
    if (porta_npy_encode(context, t->dtype, &t->shape, values, &data, &length)) {
        fprintf(stderr, "porta run: %s\n", porta_last_error(context));
        return 1;
    }
    size_t header = 10 + ((size_t)(unsigned char)data[8] | (size_t)(unsigned char)data[9] << 8);
    uint64_t hash = fnv1a((const unsigned char *)data + header, length - header);
    free(data);

    size_t path_size = strlen(o->out_dir) + strlen(t->name) + 8;
    char *path = malloc(path_size);
    if (!path) {
        fprintf(stderr, "porta run: out of memory\n");
        return 1;
    }
    snprintf(path, path_size, "%s/%s.npy", o->out_dir, t->name);
    porta_status status = porta_npy_write(context, path, t->dtype, &t->shape, values);
    free(path);
    if (status) {
        fprintf(stderr, "porta run: %s\n", porta_last_error(context));
        return 1;
    }

    double min = INFINITY, max = -INFINITY, sum = 0.0;
    for (int64_t i = 0; i < count; i++) {
        double v = values[i];
        if (t->dtype == PORTA_F32) v = (double)(float)v; /* as written */
        if (v < min) min = v;
        if (v > max) max = v;
        sum += v;
    }
    char shape[96] = "[";
    size_t used = 1;
    for (int i = 0; i < t->shape.rank; i++)
        used += (size_t)snprintf(shape + used, sizeof shape - used, i ? ", %lld" : "%lld",
                                 (long long)t->shape.dims[i]);
    snprintf(shape + used, sizeof shape - used, "]");
    printf("%s  %s%s  min %.9g  max %.9g  mean %.9g  fnv64 %016" PRIx64 "\n", t->name,
           porta_dtype_name(t->dtype), shape, min, max, sum / (double)count, hash);
    return 0;
}

/* mkdir -p: the parents first, each allowed to exist already. */
static int make_dir(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s", dir);
    for (char *p = path + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        mkdir(path, 0777);
        *p = '/';
    }
    if (mkdir(dir, 0777) == 0 || errno == EEXIST) {
        struct stat st;
        if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode)) return 0;
        fprintf(stderr, "porta run: --out '%s' exists and is not a directory\n", dir);
        return 1;
    }
    fprintf(stderr, "porta run: cannot create directory '%s': %s\n", dir, strerror(errno));
    return 1;
}

static int write_outputs(porta_context *context, porta_graph *graph, const run_options *o,
                         const porta_reference_values *values)
{
    if (o->quiet) return 0;
    int rc = make_dir(o->out_dir);
    /* in the `output` line's order */
    for (int k = 0; k < porta_graph_output_count(graph) && !rc; k++) {
        porta_tensor_id id = porta_graph_output(graph, k);
        porta_tensor_info info;
        porta_graph_tensor_info(graph, id, &info);
        rc = write_output(context, o, &info, values->data[id], values->count[id]);
    }
    return rc;
}

static int run(porta_context *context, porta_graph *graph, const run_options *o)
{
    porta_weights *weights = NULL;
    if (o->inputs.weights_path && porta_weights_open(context, o->inputs.weights_path, &weights)) {
        fprintf(stderr, "porta run: %s\n", porta_last_error(context));
        return 1;
    }
    porta_reference_values *values = NULL, *device_values = NULL;
    int rc = 0;
    bool reference = !strcmp(o->device, "ref");
    /* every tensor's float64 copy only when the reference runs */
    porta_status made = reference || o->check ? porta_reference_values_create(graph, &values)
                                              : porta_reference_values_create_io(graph, &values);
    if (made) {
        fprintf(stderr, "porta run: %s\n", porta_last_error(context));
        rc = 1;
    }
    if (!rc) rc = host_inputs_fill(context, "porta run", graph, &o->inputs, weights, values);
    if (!rc && (reference || o->check) && porta_reference_run(graph, values)) {
        fprintf(stderr, "porta run: %s\n", porta_last_error(context));
        rc = 1;
    }
    if (!rc && reference) rc = write_outputs(context, graph, o, values);
    if (!rc && !reference) {
        run_device_options options = {o->device, o->check, o->profile, o->repeat};
        if (porta_reference_values_create_io(graph, &device_values)) {
            fprintf(stderr, "porta run: %s\n", porta_last_error(context));
            rc = 1;
        }
        run_device_result result;
        if (!rc)
            rc = run_on_device(context, graph, &options, values, device_values, true, &result);
        /* outputs are written even when the check fails, to look at them */
        if ((rc == 0 || rc == 2) && write_outputs(context, graph, o, device_values)) rc = 1;
        if (rc == 2) rc = 1;
    }
    porta_reference_values_destroy(device_values);
    porta_reference_values_destroy(values);
    porta_weights_close(weights);
    return rc;
}

int porta_cmd_run(int argc, char **argv)
{
    run_options o = {.out_dir = "out"};
    int rc = parse_args(argc, argv, &o);
    if (rc >= 0) {
        free_options(&o);
        return rc;
    }
    porta_context *context;
    if (porta_context_create(&context)) {
        fprintf(stderr, "porta run: out of memory\n");
        free_options(&o);
        return 1;
    }
    porta_graph *graph;
    if (porta_graph_load(context, o.graph_path, &graph)) {
        fprintf(stderr, "porta run: %s\n", porta_last_error(context));
        rc = 1;
    } else {
        rc = host_inputs_quantize(context, "porta run", graph, &o.inputs);
        if (!rc) rc = host_inputs_bind(context, "porta run", graph, &o.inputs);
        if (!rc) rc = run(context, graph, &o);
        porta_graph_destroy(graph);
    }
    porta_context_destroy(context);
    free_options(&o);
    return rc;
}
