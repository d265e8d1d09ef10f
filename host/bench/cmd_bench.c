/* `porta bench [SUITE...] [--device D ...] [--json FILE] ...`: every case of the named suites
 * (all of them when none is named) on every selected device, one case at a time across the
 * devices so that a slow stretch of a shared machine hits them alike. */
#include "host/bench/bench.h"
#include "host/commands.h"
#include "host/devices.h"
#include "host/json_file.h"
#include "host/stamp.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEVICES 16
#define PROGRESS_AFTER_MS 3000.0

static const char *const all_suites[] = {"matmul", "attention", "softmax", "layernorm",
                                         "examples", "dispatch", "peak", "bind"};
#define N_SUITES (int)(sizeof all_suites / sizeof all_suites[0])

typedef struct bench_args {
    const char *suites[N_SUITES];
    int n_suites;
    const char *selectors[MAX_DEVICES];
    int n_selectors;
    const char *json, *filter, *examples;
    bench_options options;
    int count;              /* the dispatch chain's length */
    bool list;
} bench_args;

static int usage(FILE *out)
{
    fprintf(out,
            "usage: porta bench [SUITE...] [--device D ...] [--repeat N] [--budget-s S]\n"
            "                   [--filter TEXT] [--seed N] [--json FILE] [--examples DIR]\n"
            "                   [--count N] [--list]\n"
            "\n"
            "Suites: matmul, attention, softmax, layernorm, examples, dispatch, peak, bind\n"
            "(default: all).\n"
            "Each case runs on every device found, or on each --device given (\"all\": every\n"
            "device): compiled, run once, then timed up to N times (default 5), stopping once\n"
            "its timed runs pass S seconds (default 3). Prints the device time (the sum of the\n"
            "steps' timestamps) min, median and max, the wall time, GFLOP/s and GB/s from the op\n"
            "table's counts, and the largest error against the CPU reference (on leading rows\n"
            "or heads of the largest cases). --filter keeps the cases whose name holds TEXT or\n"
            "one of its comma-separated pieces; --list prints the cases and runs nothing.\n"
            "dispatch: microseconds per dispatch of a chain of --count (default 1000) tiny\n"
            "dependent dispatches. peak: the device's f32 FMA GFLOP/s, copy bandwidth (GB/s\n"
            "read plus written) and the latency of one tiny dispatch, from purpose-made\n"
            "kernels. bind: milliseconds to bind an encoder layer's named length (S <= 128)\n"
            "to a new length and to one seen before, against a new program per length.\n"
            "Exits 1 when a case fails or an output is outside its tolerance.\n");
    return out == stdout ? 0 : 2;
}

static int parse_number(const char *option, const char *text, double min, double max,
                        double *out)
{
    char *end;
    double value = strtod(text, &end);
    if (end == text || *end || !(value >= min && value <= max)) {
        fprintf(stderr, "porta bench: %s '%s' is not a number in %g..%g\n", option, text, min, max);
        return 2;
    }
    *out = value;
    return 0;
}

static bool known_suite(const char *name)
{
    for (int i = 0; i < N_SUITES; i++)
        if (!strcmp(name, all_suites[i])) return true;
    return false;
}

static int parse_args(int argc, char **argv, bench_args *a)
{
    double value;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) return usage(stdout) - 1;
        bool takes_value = !strcmp(arg, "--device") || !strcmp(arg, "--repeat") ||
                           !strcmp(arg, "--budget-s") || !strcmp(arg, "--filter") ||
                           !strcmp(arg, "--seed") || !strcmp(arg, "--json") ||
                           !strcmp(arg, "--examples") || !strcmp(arg, "--count");
        if (takes_value && i + 1 >= argc) {
            fprintf(stderr, "porta bench: %s needs a value\n", arg);
            return 2;
        }
        const char *v = takes_value ? argv[++i] : NULL;
        if (!strcmp(arg, "--device")) {
            if (a->n_selectors == MAX_DEVICES) {
                fprintf(stderr, "porta bench: more than %d --device options\n", MAX_DEVICES);
                return 2;
            }
            a->selectors[a->n_selectors++] = v;
        } else if (!strcmp(arg, "--repeat")) {
            if (parse_number(arg, v, 1, 10000, &value)) return 2;
            a->options.repeat = (int)value;
        } else if (!strcmp(arg, "--budget-s")) {
            if (parse_number(arg, v, 0, 86400, &value)) return 2;
            a->options.budget_ms = value * 1e3;
        } else if (!strcmp(arg, "--seed")) {
            if (parse_number(arg, v, 0, 2147483647.0, &value)) return 2;
            a->options.seed = (uint64_t)value;
        } else if (!strcmp(arg, "--count")) {
            if (parse_number(arg, v, 2, 1000000, &value)) return 2;
            a->count = (int)value;
        } else if (!strcmp(arg, "--filter")) {
            a->filter = v;
        } else if (!strcmp(arg, "--json")) {
            a->json = v;
        } else if (!strcmp(arg, "--examples")) {
            a->examples = v;
        } else if (!strcmp(arg, "--list")) {
            a->list = true;
        } else if (arg[0] == '-') {
            fprintf(stderr, "porta bench: unknown option '%s'\n", arg);
            return usage(stderr);
        } else if (!known_suite(arg)) {
            fprintf(stderr, "porta bench: unknown suite '%s' (matmul, attention, softmax, "
                            "layernorm, examples, dispatch)\n", arg);
            return 2;
        } else if (a->n_suites < N_SUITES) {
            a->suites[a->n_suites++] = arg;
        }
    }
    if (!a->n_suites)
        for (int i = 0; i < N_SUITES; i++) a->suites[a->n_suites++] = all_suites[i];
    return 0;
}

static double rate(uint64_t amount, double ms)
{
    return ms > 0 ? (double)amount / (ms * 1e6) : 0;
}

/* The time the rates are quoted against: the device's where it has timestamps. */
static const host_stats *quoted(const bench_measure *m)
{
    return m->has_device_time ? &m->device_ms : &m->wall_ms;
}

static cJSON *stats_json(const host_stats *s)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "min", s->min);
    cJSON_AddNumberToObject(o, "median", s->median);
    cJSON_AddNumberToObject(o, "max", s->max);
    return o;
}

static cJSON *measure_json(const bench_case *c, const char *device, const bench_measure *m)
{
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "suite", c->suite);
    cJSON_AddStringToObject(r, "case", c->name);
    cJSON_AddStringToObject(r, "device", device);
    cJSON_AddStringToObject(r, "status", m->status == 0 ? "ok" : m->status == 2 ? "outside"
                                                                                 : "failed");
    if (m->message[0]) cJSON_AddStringToObject(r, "message", m->message);
    if (m->status == 1) return r;
    cJSON_AddNumberToObject(r, "repetitions", m->repetitions);
    cJSON_AddNumberToObject(r, "compile_ms", m->compile_ms);
    cJSON_AddNumberToObject(r, "first_ms", m->first_ms);
    cJSON_AddItemToObject(r, "wall_ms", stats_json(&m->wall_ms));
    if (m->has_device_time)
        cJSON_AddItemToObject(r, "device_ms", stats_json(&m->device_ms));
    else
        cJSON_AddNullToObject(r, "device_ms");
    cJSON_AddStringToObject(r, "rates_from", m->has_device_time ? "device_ms" : "wall_ms");
    cJSON_AddNumberToObject(r, "flops", (double)m->flops);
    cJSON_AddNumberToObject(r, "bytes", (double)m->bytes);
    cJSON_AddNumberToObject(r, "gflops_per_s", rate(m->flops, quoted(m)->median));
    cJSON_AddNumberToObject(r, "gbytes_per_s", rate(m->bytes, quoted(m)->median));
    cJSON_AddNumberToObject(r, "max_abs_error", m->max_abs);
    cJSON_AddNumberToObject(r, "max_rel_error", m->max_rel);
    cJSON_AddNumberToObject(r, "checked_elements", (double)m->checked);
    cJSON_AddNumberToObject(r, "output_elements", (double)m->elements);
    return r;
}

static void print_header(const char *suite)
{
    printf("\n== %s\n", suite);
    if (!strcmp(suite, "dispatch")) {
        printf("%-28s %-10s %14s %12s %8s\n", "case", "device", "waited each", "recorded",
               "speedup");
        return;
    }
    if (!strcmp(suite, "peak")) return;     /* each line says what it measured */
    printf("%-28s %-10s %4s %10s %10s %10s %10s %9s %8s %9s\n", "case", "device", "runs",
           "median ms", "min", "max", "wall ms", "GFLOP/s", "GB/s", "max err");
}

static void print_measure(const bench_case *c, const char *device, const bench_measure *m)
{
    if (m->status == 1) {
        printf("%-28s %-10s FAILED: %s\n", c->name, device, m->message);
        return;
    }
    const host_stats *t = quoted(m);
    printf("%-28s %-10s %4d %10.3f %10.3f %10.3f %10.3f %9.2f %8.2f %9.1e%s%s\n", c->name,
           device, m->repetitions, t->median, t->min, t->max, m->wall_ms.median,
           rate(m->flops, t->median), rate(m->bytes, t->median), m->max_abs,
           m->has_device_time ? "" : " (wall)", m->status == 2 ? " OUTSIDE" : "");
}

/* Runs one case on every device; appends its results to `results`. Returns 1 when any failed. */
static int run_case(porta_context *context, const bench_case *c, porta_device **devices,
                    const porta_device_desc *descs, int n_devices, const bench_args *a,
                    double start, int index, int total, cJSON *results)
{
    char message[512] = "";
    bench_prepared *prepared = NULL;
    int rc = 0;
    if (bench_prepare(context, c, a->options.seed, &prepared, message, sizeof message)) {
        printf("%-28s %-10s FAILED: %s\n", c->name, "reference", message);
        fprintf(stderr, "porta bench: %s: %s\n", c->name, message);
        return 1;
    }
    for (int d = 0; d < n_devices; d++) {
        if (host_now_ms() - start > PROGRESS_AFTER_MS)
            fprintf(stderr, "porta bench: [%d/%d] %s on %s\n", index + 1, total, c->name,
                    descs[d].id);
        bench_measure m;
        bench_measure_case(context, devices[d], prepared, &a->options, &m);
        print_measure(c, descs[d].id, &m);
        fflush(stdout);
        if (m.status) {
            fprintf(stderr, "porta bench: %s on %s: %s\n", c->name, descs[d].id, m.message);
            rc = 1;
        }
        cJSON_AddItemToArray(results, measure_json(c, descs[d].id, &m));
    }
    bench_prepared_free(prepared);
    return rc;
}

static int run_dispatch(porta_context *context, porta_device **devices,
                        const porta_device_desc *descs, int n_devices, const bench_args *a,
                        cJSON *results)
{
    int rc = 0, reps = a->options.repeat < 32 ? a->options.repeat : 32;
    for (int d = 0; d < n_devices; d++) {
        bench_dispatch_result r = {0};
        cJSON *entry = cJSON_CreateObject();
        cJSON_AddStringToObject(entry, "suite", "dispatch");
        cJSON_AddStringToObject(entry, "case", "dispatch");
        cJSON_AddStringToObject(entry, "device", descs[d].id);
        if (bench_dispatch(devices[d], a->count, reps, &r)) {
            printf("%-28s %-10s FAILED: %s\n", "dispatch", descs[d].id, porta_last_error(context));
            cJSON_AddStringToObject(entry, "status", "failed");
            cJSON_AddStringToObject(entry, "message", porta_last_error(context));
            rc = 1;
        } else {
            host_stats each = host_stats_of(r.each_us, r.reps);
            host_stats recorded = host_stats_of(r.recorded_us, r.reps);
            char name[64];
            snprintf(name, sizeof name, "chain of %d", a->count);
            printf("%-28s %-10s %11.2f us %9.2f us %7.1fx\n", name, descs[d].id, each.median,
                   recorded.median, each.median / recorded.median);
            cJSON_AddStringToObject(entry, "status", "ok");
            cJSON_AddNumberToObject(entry, "count", a->count);
            cJSON_AddNumberToObject(entry, "repetitions", r.reps);
            cJSON_AddItemToObject(entry, "waited_each_us", stats_json(&each));
            cJSON_AddItemToObject(entry, "recorded_us", stats_json(&recorded));
        }
        cJSON_AddItemToArray(results, entry);
    }
    return rc;
}

static cJSON *report_header(int argc, char **argv, const bench_args *a,
                            const porta_device_desc *descs, int n_devices)
{
    cJSON *root = cJSON_CreateObject();
    host_stamp(root, "bench", argc, argv);
    cJSON_AddNumberToObject(root, "seed", (double)a->options.seed);
    cJSON_AddNumberToObject(root, "repeat", a->options.repeat);
    cJSON_AddNumberToObject(root, "budget_s", a->options.budget_ms * 1e-3);
    cJSON *devices = cJSON_AddArrayToObject(root, "devices");
    for (int d = 0; d < n_devices; d++) cJSON_AddItemToArray(devices, host_device_json(&descs[d]));
    cJSON_AddArrayToObject(root, "results");
    return root;
}

static void add_peak(cJSON *results, const char *device, const char *name, const char *unit,
                     const double *values, int n, bool timed_by_device)
{
    host_stats stats = host_stats_of(values, n);
    cJSON *entry = cJSON_CreateObject();
    cJSON_AddStringToObject(entry, "suite", "peak");
    cJSON_AddStringToObject(entry, "case", name);
    cJSON_AddStringToObject(entry, "device", device);
    cJSON_AddStringToObject(entry, "status", "ok");
    cJSON_AddNumberToObject(entry, "repetitions", n);
    cJSON_AddStringToObject(entry, "timed_by", timed_by_device ? "device" : "wall");
    /* the median is the figure; min and max give the spread */
    cJSON_AddNumberToObject(entry, unit, stats.median);
    cJSON_AddItemToObject(entry, "values", stats_json(&stats));
    cJSON_AddItemToArray(results, entry);
}

/* A suite measured per device (peak, bind) that failed there: printed and recorded; returns 1. */
static int add_failure(cJSON *results, const char *suite, const char *device, const char *message)
{
    printf("%-28s %-10s FAILED: %s\n", suite, device, message);
    cJSON *entry = cJSON_CreateObject();
    cJSON_AddStringToObject(entry, "suite", suite);
    cJSON_AddStringToObject(entry, "case", suite);
    cJSON_AddStringToObject(entry, "device", device);
    cJSON_AddStringToObject(entry, "status", "failed");
    cJSON_AddStringToObject(entry, "message", message);
    cJSON_AddItemToArray(results, entry);
    return 1;
}

static int run_peak(porta_context *context, porta_device **devices, const porta_device_desc *descs,
                    int n_devices, const bench_args *a, cJSON *results)
{
    int rc = 0;
    for (int d = 0; d < n_devices; d++) {
        bench_peak_result r;
        if (bench_peak(devices[d], a->options.repeat, &r)) {
            rc = add_failure(results, "peak", descs[d].id, porta_last_error(context));
            continue;
        }
        host_stats fma = host_stats_of(r.fma_f32_gflops, r.fma_reps);
        host_stats copy = host_stats_of(r.copy_gbytes, r.copy_reps);
        host_stats latency = host_stats_of(r.latency_us, r.latency_reps);
        printf("%-28s %-10s %9.1f GFLOP/s f32 FMA  %8.1f GB/s copy  %8.1f us a dispatch "
               "(%s time)\n", "peak", descs[d].id, fma.median, copy.median, latency.median,
               r.timed_by_device ? "device" : "wall");
        add_peak(results, descs[d].id, "fma_f32", "gflops_per_s", r.fma_f32_gflops, r.fma_reps,
                 r.timed_by_device);
        add_peak(results, descs[d].id, "bandwidth", "gbytes_per_s", r.copy_gbytes, r.copy_reps,
                 r.timed_by_device);
        add_peak(results, descs[d].id, "latency", "latency_us", r.latency_us, r.latency_reps,
                 false);
    }
    return rc;
}

static int run_bind(porta_context *context, porta_device **devices, const porta_device_desc *descs,
                    int n_devices, const bench_args *a, cJSON *results)
{
    int rc = 0;
    for (int d = 0; d < n_devices; d++) {
        bench_bind_result r;
        if (bench_bind(devices[d], a->options.repeat, &r)) {
            rc = add_failure(results, "bind", descs[d].id, porta_last_error(context));
            continue;
        }
        host_stats fresh = host_stats_of(r.new_ms, r.reps), seen = host_stats_of(r.seen_ms, r.reps),
                   each = host_stats_of(r.program_ms, r.reps);
        printf("%-28s %-10s create %.1f ms; bind a new length %.2f ms, a seen one %.2f ms; a new "
               "program per length %.1f ms; kernels %d then %d; weights %.2f MiB once\n",
               "bind", descs[d].id, r.create_ms, fresh.median, seen.median, each.median,
               r.kernels_at_max, r.kernels_after, (double)r.weight_bytes / 1048576.0);
        const char *names[] = {"bind_new_length", "bind_seen_length", "program_per_length"};
        const double *values[] = {r.new_ms, r.seen_ms, r.program_ms};
        for (int k = 0; k < 3; k++) {
            host_stats stats = host_stats_of(values[k], r.reps);
            cJSON *entry = cJSON_CreateObject();
            cJSON_AddStringToObject(entry, "suite", "bind");
            cJSON_AddStringToObject(entry, "case", names[k]);
            cJSON_AddStringToObject(entry, "device", descs[d].id);
            cJSON_AddStringToObject(entry, "status", "ok");
            cJSON_AddNumberToObject(entry, "repetitions", r.reps);
            cJSON_AddStringToObject(entry, "timed_by", "wall");
            cJSON_AddNumberToObject(entry, "ms", stats.median);
            cJSON_AddItemToObject(entry, "values", stats_json(&stats));
            if (k == 0) {
                cJSON_AddNumberToObject(entry, "create_ms", r.create_ms);
                cJSON_AddNumberToObject(entry, "weight_bytes", (double)r.weight_bytes);
                cJSON_AddNumberToObject(entry, "kernels_at_max", r.kernels_at_max);
                cJSON_AddNumberToObject(entry, "kernels_after", r.kernels_after);
            }
            cJSON_AddItemToArray(results, entry);
        }
    }
    return rc;
}

/* Every case of the suites, filtered; dispatch and peak have none (they are counted apart). */
static int collect_cases(const bench_args *a, bench_case **out, int *out_count)
{
    bench_case *cases = NULL;
    int count = 0;
    for (int s = 0; s < a->n_suites; s++)
        if (strcmp(a->suites[s], "dispatch") && strcmp(a->suites[s], "peak") &&
            strcmp(a->suites[s], "bind") &&
            bench_suite_cases(a->suites[s], a->examples, &cases, &count)) {
            bench_cases_free(cases, count);
            return 1;
        }
    int kept = 0;
    for (int i = 0; i < count; i++) {
        if (bench_filter_keeps(a->filter, cases[i].name)) {
            cases[kept++] = cases[i];
            continue;
        }
        free(cases[i].text);
        free(cases[i].check_text);
    }
    *out = cases;
    *out_count = kept;
    return 0;
}

static bool wants(const bench_args *a, const char *suite)
{
    for (int s = 0; s < a->n_suites; s++)
        if (!strcmp(a->suites[s], suite)) return true;
    return false;
}

int porta_cmd_bench(int argc, char **argv)
{
    bench_args a = {.options = {.repeat = 5, .budget_ms = 3000, .seed = 0}, .count = 1000};
    int rc = parse_args(argc, argv, &a);
    if (rc) return rc < 0 ? 0 : rc;
    if (!a.examples) a.examples = bench_default_examples();
    bench_case *cases = NULL;
    int n_cases = 0;
    if (collect_cases(&a, &cases, &n_cases)) return 1;
    bool dispatch = wants(&a, "dispatch") && bench_filter_keeps(a.filter, "dispatch");
    bool peak = wants(&a, "peak") && bench_filter_keeps(a.filter, "peak");
    bool bind = wants(&a, "bind") && bench_filter_keeps(a.filter, "bind");
    if (a.list) {
        for (int i = 0; i < n_cases; i++) printf("%-10s %s\n", cases[i].suite, cases[i].name);
        if (dispatch) printf("%-10s %s\n", "dispatch", "dispatch");
        if (peak) printf("%-10s %s\n", "peak", "fma_f32, bandwidth, latency");
        if (bind) printf("%-10s %s\n", "bind", "bind_new_length, bind_seen_length, "
                                               "program_per_length");
        bench_cases_free(cases, n_cases);
        return 0;
    }
    porta_context *context = NULL;
    porta_device_desc descs[MAX_DEVICES];
    porta_device *devices[MAX_DEVICES] = {0};
    int n_devices = 0;
    if (porta_context_create(&context) ||
        host_select_devices(context, "porta bench", a.selectors, a.n_selectors, descs,
                            MAX_DEVICES, &n_devices)) {
        bench_cases_free(cases, n_cases);
        porta_context_destroy(context);
        return 1;
    }
    for (int d = 0; d < n_devices && !rc; d++)
        if (porta_device_open(context, descs[d].id, &devices[d])) {
            fprintf(stderr, "porta bench: %s: %s\n", descs[d].id, porta_last_error(context));
            rc = 1;
        }
    cJSON *root = report_header(argc, argv, &a, descs, n_devices);
    cJSON *results = cJSON_GetObjectItem(root, "results");
    if (!rc) {
        for (int d = 0; d < n_devices; d++)
            printf("%-10s %s, %s, %s\n", descs[d].id, descs[d].name, descs[d].driver_version,
                   descs[d].api_version);
        double start = host_now_ms();
        const char *suite = NULL;
        for (int i = 0; i < n_cases; i++) {
            if (!suite || strcmp(suite, cases[i].suite)) print_header(suite = cases[i].suite);
            rc |= run_case(context, &cases[i], devices, descs, n_devices, &a, start, i, n_cases,
                           results);
        }
        if (dispatch) {
            print_header("dispatch");
            rc |= run_dispatch(context, devices, descs, n_devices, &a, results);
        }
        if (peak) {
            print_header("peak");
            rc |= run_peak(context, devices, descs, n_devices, &a, results);
        }
        if (bind) {
            print_header("bind");
            rc |= run_bind(context, devices, descs, n_devices, &a, results);
        }
    }
    if (a.json && host_write_json("porta bench", a.json, root)) rc = 1;
    cJSON_Delete(root);
    for (int d = 0; d < n_devices; d++) porta_device_close(devices[d]);
    bench_cases_free(cases, n_cases);
    porta_context_destroy(context);
    return rc;
}
