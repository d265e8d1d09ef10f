/* `porta bench dispatch`: the cost of one tiny dispatch on each device, submitted and waited one
 * at a time versus recorded once and submitted as a whole. The chain is `count` dependent `add`
 * dispatches ping-ponging between two buffers (x += 1 each step), so every dispatch reads what
 * the one before it wrote, and the result (== count) is checked. */
#include "host/commands.h"
#include "runtime/device.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ELEMENTS 64u          /* one work-group of 64 */
#define MAX_DEVICES 64

typedef struct bench_result {
    char id[32], name[256];
    int reps;
    double each_us[32], recorded_us[32];   /* per dispatch, one value per repetition */
    double each_median, recorded_median;
} bench_result;

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(const double *values, int n)
{
    double sorted[32];
    memcpy(sorted, values, (size_t)n * sizeof *values);
    qsort(sorted, (size_t)n, sizeof *sorted, compare_double);
    return n % 2 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
}

static porta_dispatch add_step(porta_backend_kernel *kernel, porta_backend_buffer *src,
                               porta_backend_buffer *ones, porta_backend_buffer *dst, int index)
{
    porta_dispatch d = {0};
    d.kernel = kernel;
    d.n_bindings = 3;
    d.bindings[0].buffer = src;
    d.bindings[1].buffer = ones;
    d.bindings[2].buffer = dst;
    uint32_t n = ELEMENTS;
    d.param_bytes = 4;
    memcpy(d.params, &n, 4);
    d.groups[0] = d.groups[1] = d.groups[2] = 1;
    if (index > 0) {
        d.n_deps = 1;
        d.deps[0] = index - 1;
    }
    return d;
}

/* Runs the benchmark on one opened device; on failure the context holds the message. */
static porta_status bench_device(porta_device *device, int count, int reps, bench_result *out)
{
    const porta_backend *be = device->backend;
    porta_backend_device *dev = device->device;
    porta_backend_buffer *buf[3] = {NULL, NULL, NULL};    /* x, y, ones */
    porta_backend_kernel *kernel = NULL;
    porta_backend_sequence *chain = NULL, *step[2] = {NULL, NULL};
    porta_dispatch *dispatches = calloc((size_t)count, sizeof *dispatches);
    porta_status s = dispatches ? PORTA_OK : PORTA_ERROR_OUT_OF_MEMORY;
    float ones[ELEMENTS], zeros[ELEMENTS] = {0}, result[ELEMENTS];
    for (unsigned i = 0; i < ELEMENTS; i++) ones[i] = 1.0f;
    for (int i = 0; i < 3 && s == PORTA_OK; i++) s = be->buffer_create(dev, sizeof ones, &buf[i]);
    if (s == PORTA_OK) s = be->buffer_upload(buf[2], 0, ones, sizeof ones);
    porta_kernel_config config = {.local_size = {ELEMENTS, 1, 1}};
    if (s == PORTA_OK) s = be->kernel_create(dev, &porta_kernel_add, &config, &kernel);
    for (int i = 0; i < count && s == PORTA_OK; i++)
        dispatches[i] = add_step(kernel, buf[i % 2], buf[2], buf[(i + 1) % 2], i);
    if (s == PORTA_OK) s = be->sequence_create(dev, dispatches, count, false, &chain);
    for (int i = 0; i < 2 && s == PORTA_OK; i++) {
        porta_dispatch single = add_step(kernel, buf[i], buf[2], buf[1 - i], 0);
        s = be->sequence_create(dev, &single, 1, false, &step[i]);
    }
    if (s == PORTA_OK) s = be->sequence_run(chain);    /* warm-up: first-enqueue compiles */
    for (int r = 0; r < reps && s == PORTA_OK; r++) {
        s = be->buffer_upload(buf[0], 0, zeros, sizeof zeros);
        double t0 = now_s();
        for (int i = 0; i < count && s == PORTA_OK; i++) s = be->sequence_run(step[i % 2]);
        double t1 = now_s();
        if (s == PORTA_OK) s = be->buffer_upload(buf[0], 0, zeros, sizeof zeros);
        double t2 = now_s();
        if (s == PORTA_OK) s = be->sequence_run(chain);
        double t3 = now_s();
        if (s == PORTA_OK) s = be->buffer_download(buf[count % 2], 0, result, sizeof result);
        if (s == PORTA_OK && result[0] != (float)count)
            s = porta_error(device->context, PORTA_ERROR_DEVICE,
                            "%s: the chain gave %g, expected %d", device->desc.id, result[0], count);
        out->each_us[r] = (t1 - t0) * 1e6 / count;
        out->recorded_us[r] = (t3 - t2) * 1e6 / count;
    }
    if (s == PORTA_OK) {
        out->reps = reps;
        out->each_median = median(out->each_us, reps);
        out->recorded_median = median(out->recorded_us, reps);
    }
    for (int i = 0; i < 2; i++) be->sequence_destroy(step[i]);
    be->sequence_destroy(chain);
    be->kernel_destroy(kernel);
    for (int i = 0; i < 3; i++) be->buffer_destroy(buf[i]);
    free(dispatches);
    if (s == PORTA_ERROR_OUT_OF_MEMORY && !porta_last_error(device->context)[0])
        porta_error(device->context, s, "out of memory");
    return s;
}

static int write_json(const char *path, int count, const bench_result *results, int n)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "benchmark", "dispatch");
    cJSON_AddNumberToObject(root, "count", count);
    cJSON_AddStringToObject(root, "unit", "microseconds per dispatch, median of repetitions");
    cJSON *devices = cJSON_AddArrayToObject(root, "devices");
    for (int i = 0; i < n; i++) {
        const bench_result *r = &results[i];
        cJSON *entry = cJSON_CreateObject();
        cJSON_AddStringToObject(entry, "id", r->id);
        cJSON_AddStringToObject(entry, "name", r->name);
        cJSON_AddNumberToObject(entry, "repetitions", r->reps);
        cJSON_AddNumberToObject(entry, "waited_each_us", r->each_median);
        cJSON_AddNumberToObject(entry, "recorded_us", r->recorded_median);
        cJSON_AddNumberToObject(entry, "speedup", r->each_median / r->recorded_median);
        cJSON_AddItemToObject(entry, "waited_each_us_all", cJSON_CreateDoubleArray(r->each_us, r->reps));
        cJSON_AddItemToObject(entry, "recorded_us_all",
                              cJSON_CreateDoubleArray(r->recorded_us, r->reps));
        cJSON_AddItemToArray(devices, entry);
    }
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    FILE *file = text ? fopen(path, "w") : NULL;
    int rc = file && fprintf(file, "%s\n", text) > 0 ? 0 : 1;
    if (file && fclose(file) != 0) rc = 1;
    if (rc) fprintf(stderr, "porta bench: cannot write %s\n", path);
    cJSON_free(text);
    return rc;
}

static int usage(FILE *out)
{
    fprintf(out, "usage: porta bench dispatch [--device SEL] [--count N] [--reps R] [--json FILE]\n\n"
                 "Microseconds per dispatch for a chain of N (default 1000) tiny dependent\n"
                 "dispatches on each device (all devices unless --device picks one): submitted and\n"
                 "waited one at a time, versus recorded once and submitted whole. Prints the\n"
                 "medians of R (default 7) repetitions; --json also writes every repetition.\n");
    return out == stdout ? 0 : 2;
}

int porta_cmd_bench(int argc, char **argv)
{
    const char *selector = NULL, *json = NULL;
    int count = 1000, reps = 7;
    if (argc < 2) return usage(stderr);
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) return usage(stdout);
    if (strcmp(argv[1], "dispatch")) {
        fprintf(stderr, "porta bench: unknown benchmark '%s' (only 'dispatch')\n", argv[1]);
        return 2;
    }
    for (int i = 2; i < argc; i++) {
        bool has_value = i + 1 < argc;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return usage(stdout);
        else if (!strcmp(argv[i], "--device") && has_value) selector = argv[++i];
        else if (!strcmp(argv[i], "--count") && has_value) count = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--reps") && has_value) reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--json") && has_value) json = argv[++i];
        else return usage(stderr);
    }
    if (count < 2 || count > 1000000 || reps < 1 || reps > 32) {
        fprintf(stderr, "porta bench: --count must be 2..1000000 and --reps 1..32\n");
        return 2;
    }
    porta_context *context = NULL;
    if (porta_context_create(&context) != PORTA_OK) return 1;
    porta_device_desc descs[MAX_DEVICES];
    int n = 0;
    if (selector) {
        snprintf(descs[0].id, sizeof descs[0].id, "%s", selector);
        n = 1;
    } else {
        porta_device_list(context, descs, MAX_DEVICES, &n);
        if (n > MAX_DEVICES) n = MAX_DEVICES;
    }
    bench_result *results = calloc((size_t)(n > 0 ? n : 1), sizeof *results);
    int done = 0, rc = 0;
    printf("%-10s %-36s %14s %12s %8s\n", "device", "name", "waited each", "recorded", "speedup");
    for (int i = 0; i < n && results; i++) {
        porta_device *device = NULL;
        bench_result *r = &results[done];
        porta_status s = porta_device_open(context, descs[i].id, &device);
        if (s == PORTA_OK) s = bench_device(device, count, reps, r);
        if (s != PORTA_OK) {
            fprintf(stderr, "porta bench: %s: %s\n", descs[i].id, porta_last_error(context));
            rc = 1;
        } else {
            snprintf(r->id, sizeof r->id, "%s", device->desc.id);
            snprintf(r->name, sizeof r->name, "%s", device->desc.name);
            printf("%-10s %-36.36s %11.2f us %9.2f us %7.1fx\n", r->id, r->name, r->each_median,
                   r->recorded_median, r->each_median / r->recorded_median);
            done++;
        }
        porta_device_close(device);
    }
    if (n == 0) fprintf(stderr, "porta bench: no devices found\n%s", porta_device_absent(context));
    if (json && results && write_json(json, count, results, done)) rc = 1;
    free(results);
    porta_context_destroy(context);
    return n == 0 ? 1 : rc;
}
