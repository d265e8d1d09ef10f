/* `porta run --device D`: the graph as a program on one device. */
#include "host/run_device.h"
#include "host/stats.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(porta_context *context, const char *what)
{
    fprintf(stderr, "porta: %s%s\n", what, porta_last_error(context));
    return 1;
}

int run_device_set_inputs(porta_context *context, const porta_graph *graph,
                          porta_program *program, const porta_reference_values *inputs, void *host)
{
    for (porta_tensor_id id = 0; id < porta_graph_tensor_count(graph); id++) {
        porta_tensor_info info;
        porta_graph_tensor_info(graph, id, &info);
        if (info.kind == PORTA_TENSOR_NODE) continue;
        porta_reference_pack(info.dtype, inputs->data[id], inputs->count[id], host);
        if (porta_program_set(program, info.name, host,
                              (size_t)inputs->count[id] * porta_dtype_size(info.dtype)))
            return fail(context, "");
    }
    return 0;
}

int run_device_get_outputs(porta_context *context, const porta_graph *graph,
                           porta_program *program, porta_reference_values *outputs, void *host)
{
    for (int o = 0; o < porta_graph_output_count(graph); o++) {
        porta_tensor_id id = porta_graph_output(graph, o);
        porta_tensor_info info;
        porta_graph_tensor_info(graph, id, &info);
        if (porta_program_get(program, info.name, host,
                              (size_t)outputs->count[id] * porta_dtype_size(info.dtype)))
            return fail(context, "");
        porta_reference_unpack(info.dtype, host, outputs->count[id], outputs->data[id]);
    }
    return 0;
}

porta_status run_device_profile(porta_program *program, porta_step_time **out_times,
                                int *out_count)
{
    int count = 0;
    *out_times = NULL;
    porta_status s = porta_program_profile(program, NULL, 0, &count);
    porta_step_time *times = s ? NULL : calloc((size_t)count + 1, sizeof *times);
    if (!s && !times) s = PORTA_ERROR_OUT_OF_MEMORY;
    if (!s) s = porta_program_profile(program, times, count, &count);
    if (s) {
        free(times);
        return s;
    }
    *out_times = times;
    *out_count = count;
    return PORTA_OK;
}

/* Sums the last run's step times per op kind into `result`; with `print`, prints every step. */
static int take_profile(porta_context *context, porta_program *program, bool print,
                        run_device_result *result)
{
    porta_step_time *times;
    int count;
    if (run_device_profile(program, &times, &count)) return fail(context, "--profile: ");
    double total = 0;
    for (int i = 0; i < count; i++) total += times[i].ns;
    result->n_ops = 0;
    result->profile_ms = total * 1e-6;
    for (int i = 0; i < count; i++) {
        int k = 0;
        while (k < result->n_ops && strcmp(result->ops[k].op, times[i].op)) k++;
        if (k == result->n_ops) {
            if (k == RUN_DEVICE_MAX_OPS) k--;   /* past the table: the last row takes the rest */
            else snprintf(result->ops[result->n_ops++].op, sizeof result->ops[0].op, "%s",
                          times[i].op);
        }
        result->ops[k].steps++;
        result->ops[k].ms += times[i].ns * 1e-6;
    }
    if (print) {
        printf("profile (device timestamps, last run):\n");
        printf("  %4s  %-20s %-18s %-24s %10s %6s\n", "step", "kernel", "op", "result", "us", "%");
        for (int i = 0; i < count; i++)
            printf("  %4d  %-20s %-18s %-24s %10.1f %5.1f%%\n", i, times[i].kernel, times[i].op,
                   times[i].tensor, times[i].ns * 1e-3, total > 0 ? 100.0 * times[i].ns / total : 0);
        printf("  %4s  %-20s %-18s %-24s %10.1f\n", "", "total", "", "", total * 1e-3);
    }
    free(times);
    return 0;
}

void run_device_tolerance(porta_dtype dtype, double *abs_tol, double *rel_tol)
{
    bool half = dtype == PORTA_F16;
    *abs_tol = half ? RUN_CHECK_ABS_F16 : RUN_CHECK_ABS_F32;
    *rel_tol = half ? RUN_CHECK_REL_F16 : RUN_CHECK_REL_F32;
}

/* Prints one line per output (with print); returns 2 when one is outside its tolerance. */
static int check_outputs(porta_graph *graph, const porta_reference_values *reference,
                         const porta_reference_values *outputs, bool print,
                         run_device_result *result)
{
    int rc = 0;
    result->checked = true;
    for (int o = 0; o < porta_graph_output_count(graph); o++) {
        porta_tensor_id id = porta_graph_output(graph, o);
        porta_tensor_info info;
        porta_graph_tensor_info(graph, id, &info);
        double abs_tol, rel_tol;
        run_device_tolerance(info.dtype, &abs_tol, &rel_tol);
        porta_comparison cmp;
        porta_reference_compare(outputs->data[id], reference->data[id], reference->count[id],
                                abs_tol, rel_tol, &cmp);
        bool ok = cmp.failures == 0;
        result->max_abs = fmax(result->max_abs, cmp.max_abs);
        result->max_rel = fmax(result->max_rel, cmp.max_rel);
        if (!ok) rc = 2;
        if (!print) continue;
        printf("check %s: max abs error %.3g, max rel error %.3g, %s (|err| <= %g + %g |ref|)",
               info.name, cmp.max_abs, cmp.max_rel, ok ? "within tolerance" : "OUTSIDE tolerance",
               abs_tol, rel_tol);
        if (!ok)
            printf("; %lld elements outside, worst [%lld] = %.9g, reference %.9g",
                   (long long)cmp.failures, (long long)cmp.worst, outputs->data[id][cmp.worst],
                   reference->data[id][cmp.worst]);
        printf("\n");
    }
    result->within = rc == 0;
    return rc;
}

int run_on_device(porta_context *context, porta_graph *graph, const run_device_options *options,
                  const porta_reference_values *inputs, porta_reference_values *outputs,
                  bool print, run_device_result *result)
{
    *result = (run_device_result){0};
    porta_device *device = NULL;
    if (porta_device_open(context, options->device, &device)) {
        fprintf(stderr, "porta: --device '%s': %s\n", options->device,
                porta_last_error(context));
        snprintf(result->error, sizeof result->error, "--device '%s': %s", options->device,
                 porta_last_error(context));
        const char *absent = porta_device_absent(context);
        if (absent && *absent) fprintf(stderr, "%s", absent);
        return 1;
    }
    const porta_device_desc *desc = porta_device_info(device);
    snprintf(result->device_id, sizeof result->device_id, "%s", desc->id);
    snprintf(result->device_name, sizeof result->device_name, "%s", desc->name);
    porta_program *program = NULL;
    double *times = NULL;
    int64_t largest = 1;
    /* staging for what crosses to and from the device: inputs, weights and outputs */
    for (porta_tensor_id id = 0; id < porta_graph_tensor_count(graph); id++) {
        porta_tensor_info info;
        porta_graph_tensor_info(graph, id, &info);
        if ((info.kind != PORTA_TENSOR_NODE || info.is_output) && inputs->count[id] > largest)
            largest = inputs->count[id];
    }
    void *host = malloc((size_t)largest * 4);
    int rc = host ? 0 : fail(context, "out of memory");
    double start = host_now_ms();
    if (!rc && porta_program_create(device, graph, options->profile ? PORTA_PROGRAM_PROFILE : 0,
                                    &program))
        rc = fail(context, "");
    double compiled = host_now_ms();
    if (!rc) rc = run_device_set_inputs(context, graph, program, inputs, host);
    double first = host_now_ms();
    if (!rc && porta_program_run(program)) rc = fail(context, "");
    double first_done = host_now_ms();
    int repeat = options->repeat;
    times = calloc((size_t)repeat + 1, sizeof *times);
    if (!rc && !times) rc = fail(context, "out of memory");
    for (int i = 0; i < repeat && !rc; i++) {
        double t0 = host_now_ms();
        if (porta_program_run(program)) rc = fail(context, "");
        times[i] = host_now_ms() - t0;
    }
    if (!rc) rc = run_device_get_outputs(context, graph, program, outputs, host);
    if (!rc) {
        porta_program_memory(program, &result->arena_peak, &result->intermediates);
        result->compile_ms = compiled - start;
        result->first_ms = first_done - first;
        result->median_ms = result->min_ms = result->max_ms = result->first_ms;
        if (repeat) {
            host_stats stats = host_stats_of(times, repeat);
            result->median_ms = stats.median;
            result->min_ms = stats.min;
            result->max_ms = stats.max;
        }
    }
    if (!rc && print) {
        printf("device %s (%s): compile %.1f ms, first run %.3f ms", desc->id, desc->name,
               result->compile_ms, result->first_ms);
        if (repeat) printf(", median of %d runs %.3f ms", repeat, result->median_ms);
        printf(", arena %.1f KiB of %.1f KiB intermediates, weights %.1f KiB\n",
               (double)result->arena_peak / 1024, (double)result->intermediates / 1024,
               (double)porta_program_weight_bytes(program) / 1024);
    }
    if (!rc && options->profile) rc = take_profile(context, program, print, result);
    if (rc == 1) snprintf(result->error, sizeof result->error, "%s", porta_last_error(context));
    if (!rc && options->check) rc = check_outputs(graph, inputs, outputs, print, result);
    free(times);
    free(host);
    porta_program_destroy(program);
    porta_device_close(device);
    return rc;
}
