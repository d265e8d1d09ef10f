/* One `porta bench` case: prepared once (graph, seeded inputs, the reference's outputs), then
 * compiled, timed and checked on each device. */
#include "graphs/graph.h"
#include "host/bench/bench.h"
#include "host/reference/reference.h"
#include "host/run_device.h"
#include "runtime/tune.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct bench_prepared {
    porta_graph *graph;
    porta_reference_values *values;     /* the case's inputs and weights */
    porta_graph *check_graph;           /* the graph the reference ran: the case's or a slice */
    porta_reference_values *check_values;
    uint64_t flops, bytes;
};

static porta_graph *parse(porta_context *context, const bench_case *c)
{
    porta_graph *graph = NULL;
    if (c->text)
        porta_graph_parse(context, c->text, strlen(c->text), c->name, &graph);
    else
        porta_graph_load(context, c->path, &graph);
    return graph;
}

static void fill(const porta_graph *graph, porta_reference_values *values, uint64_t seed)
{
    for (porta_tensor_id id = 0; id < porta_graph_tensor_count(graph); id++) {
        porta_tensor_info info;
        porta_graph_tensor_info(graph, id, &info);
        if (info.kind != PORTA_TENSOR_NODE) porta_reference_fill(graph, id, seed, values->data[id]);
    }
}

/* The check graph's inputs and weights: the leading elements of the case's tensors of the same
 * names. */
static int take_slices(const bench_prepared *p)
{
    for (porta_tensor_id id = 0; id < porta_graph_tensor_count(p->check_graph); id++) {
        porta_tensor_info info;
        porta_graph_tensor_info(p->check_graph, id, &info);
        if (info.kind == PORTA_TENSOR_NODE) continue;
        porta_tensor_id whole = porta_graph_find_tensor(p->graph, info.name);
        if (whole < 0 || p->values->count[whole] < p->check_values->count[id]) return 1;
        memcpy(p->check_values->data[id], p->values->data[whole],
               (size_t)p->check_values->count[id] * sizeof(double));
    }
    return 0;
}

int bench_prepare(porta_context *context, const bench_case *c, uint64_t seed,
                  bench_prepared **out, char *message, size_t message_size)
{
    *out = NULL;
    bench_prepared *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(message, message_size, "out of memory");
        return 1;
    }
    p->graph = parse(context, c);
    if (p->graph && porta_reference_values_create(p->graph, &p->values) == PORTA_OK) {
        fill(p->graph, p->values, seed);
        if (c->check_text) {
            porta_graph_parse(context, c->check_text, strlen(c->check_text), c->name,
                              &p->check_graph);
            if (p->check_graph &&
                porta_reference_values_create(p->check_graph, &p->check_values) == PORTA_OK &&
                take_slices(p)) {
                snprintf(message, message_size, "%s: the check graph's inputs are not slices of "
                         "the case's", c->name);
                bench_prepared_free(p);
                return 1;
            }
        } else {
            p->check_graph = p->graph;
            p->check_values = p->values;
        }
    }
    int rc = !p->check_values || porta_reference_run(p->check_graph, p->check_values) != PORTA_OK;
    if (rc) {
        snprintf(message, message_size, "%s", porta_last_error(context));
        bench_prepared_free(p);
        return 1;
    }
    for (porta_tensor_id id = 0; id < porta_graph_tensor_count(p->graph); id++) {
        porta_tensor_info info;
        porta_graph_tensor_info(p->graph, id, &info);
        p->flops = porta_count_add(p->flops, info.flops);
        p->bytes = porta_count_add(p->bytes, info.bytes);
    }
    *out = p;
    return 0;
}

void bench_prepared_free(bench_prepared *p)
{
    if (!p) return;
    if (p->check_graph != p->graph) {
        porta_reference_values_destroy(p->check_values);
        porta_graph_destroy(p->check_graph);
    }
    porta_reference_values_destroy(p->values);
    porta_graph_destroy(p->graph);
    free(p);
}

/* The sum of the last run's step times, in milliseconds, and of those steps that follow the
 * decision options->focus_* names. */
static int device_time(porta_program *program, const bench_options *options, double *out_ms,
                       double *out_focus_ms)
{
    porta_step_time *times;
    int count, n_choices;
    if (run_device_profile(program, &times, &count)) return 1;
    const porta_plan_choice *choices = porta_program_choices(program, &n_choices);
    double ns = 0, focus = 0;
    for (int i = 0; i < count; i++) {
        ns += times[i].ns;
        int c = porta_program_step_choice(program, i);
        if (c >= 0 && c < n_choices && options->focus_family &&
            !strcmp(choices[c].family, options->focus_family) &&
            !strcmp(choices[c].key, options->focus_key))
            focus += times[i].ns;
    }
    free(times);
    *out_ms = ns * 1e-6;
    *out_focus_ms = focus * 1e-6;
    return 0;
}

/* Compares the device's outputs with the reference's over the elements the reference computed:
 * every output of the check graph is a leading slice of the case's output of the same name. */
static void check(const bench_prepared *p, const porta_reference_values *got, bench_measure *m)
{
    m->status = 0;
    for (porta_tensor_id id = 0; id < porta_graph_tensor_count(p->check_graph); id++) {
        porta_tensor_info info;
        porta_graph_tensor_info(p->check_graph, id, &info);
        if (!info.is_output) continue;
        porta_tensor_id whole = porta_graph_find_tensor(p->graph, info.name);
        double abs_tol, rel_tol;
        run_device_tolerance(info.dtype, &abs_tol, &rel_tol);
        porta_comparison cmp;
        porta_reference_compare(got->data[whole], p->check_values->data[id],
                                p->check_values->count[id], abs_tol, rel_tol, &cmp);
        m->max_abs = fmax(m->max_abs, cmp.max_abs);
        m->max_rel = fmax(m->max_rel, cmp.max_rel);
        m->checked += p->check_values->count[id];
        m->elements += got->count[whole];
        if (cmp.failures) {
            m->status = 2;
            snprintf(m->message, sizeof m->message,
                     "%s: %lld elements outside %g + %g |ref|, worst [%lld] = %.9g, reference %.9g",
                     info.name, (long long)cmp.failures, abs_tol, rel_tol, (long long)cmp.worst,
                     got->data[whole][cmp.worst], p->check_values->data[id][cmp.worst]);
        }
    }
}

static void failed(porta_context *context, bench_measure *m)
{
    m->status = 1;
    snprintf(m->message, sizeof m->message, "%s", porta_last_error(context));
}

void bench_measure_case(porta_context *context, porta_device *device, const bench_prepared *p,
                        const bench_options *options, bench_measure *m)
{
    memset(m, 0, sizeof *m);
    m->flops = p->flops;
    m->bytes = p->bytes;
    const porta_device_desc *desc = porta_device_info(device);
    m->has_device_time = desc->timestamps;
    int64_t largest = 1;
    for (porta_tensor_id id = 0; id < porta_graph_tensor_count(p->graph); id++)
        if (p->values->count[id] > largest) largest = p->values->count[id];
    void *host = malloc((size_t)largest * 4);
    double *wall = calloc((size_t)options->repeat + 1, sizeof *wall);
    double *busy = calloc((size_t)options->repeat + 1, sizeof *busy);
    double *focus = calloc((size_t)options->repeat + 1, sizeof *focus);
    porta_reference_values *got = NULL;
    porta_program *program = NULL;
    if (!host || !wall || !busy || !focus || porta_reference_values_create(p->graph, &got)) {
        m->status = 1;
        snprintf(m->message, sizeof m->message, "out of memory");
        goto done;
    }
    double t0 = host_now_ms();
    uint32_t flags = m->has_device_time ? PORTA_PROGRAM_PROFILE : 0;
    porta_status created =
        options->use_tuned
            ? porta_program_create_tuned(device, p->graph, flags, options->tuned, &program)
            : porta_program_create(device, p->graph, flags, &program);
    if (created ||
        run_device_set_inputs(context, p->graph, program, p->values, host)) {
        failed(context, m);
        goto done;
    }
    m->compile_ms = host_now_ms() - t0;
    t0 = host_now_ms();
    if (porta_program_run(program)) {
        failed(context, m);
        goto done;
    }
    m->first_ms = host_now_ms() - t0;
    double spent = 0;
    for (int i = 0; i < options->repeat && !(i > 0 && spent > options->budget_ms); i++) {
        t0 = host_now_ms();
        if (porta_program_run(program)) {
            failed(context, m);
            goto done;
        }
        wall[i] = host_now_ms() - t0;
        spent += wall[i];
        if (m->has_device_time && device_time(program, options, &busy[i], &focus[i]))
            m->has_device_time = false;
        m->repetitions = i + 1;
    }
    m->wall_ms = host_stats_of(wall, m->repetitions);
    if (m->has_device_time) m->device_ms = host_stats_of(busy, m->repetitions);
    m->has_focus = m->has_device_time && options->focus_family;
    if (m->has_focus) m->focus_ms = host_stats_of(focus, m->repetitions);
    if (run_device_get_outputs(context, p->graph, program, got, host)) {
        failed(context, m);
        goto done;
    }
    check(p, got, m);
done:
    porta_program_destroy(program);
    porta_reference_values_destroy(got);
    free(focus);
    free(busy);
    free(wall);
    free(host);
}

int bench_choices(porta_device *device, const bench_prepared *p, const char *tuned,
                  porta_plan_choice **out_choices, int *out_count)
{
    *out_choices = NULL;
    *out_count = 0;
    porta_program *program = NULL;
    if (porta_program_create_tuned(device, p->graph, 0, tuned, &program)) return 1;
    int n;
    const porta_plan_choice *choices = porta_program_choices(program, &n);
    *out_choices = malloc(((size_t)n + 1) * sizeof **out_choices);
    if (*out_choices) {
        memcpy(*out_choices, choices, (size_t)n * sizeof **out_choices);
        *out_count = n;
    }
    porta_program_destroy(program);
    return *out_choices ? 0 : 1;
}
