/* Binding a program's named dims per run. The program plans its own copy of the graph again at
 * the new values (lowering and memory planning only: a kernel configuration it has compiled
 * before is never compiled again), keeps every device buffer that still serves (each input and
 * output buffer, sized for what it held, as long as it is large enough; each arena; each weight
 * buffer laid out the same way) and records the steps again. */
#include "graphs/graph.h"
#include "runtime/program_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The old plan's buffer that can serve new buffer `b`, or -1. */
static int matching_buffer(const porta_program *program, const porta_plan *plan, int b,
                           const bool *taken)
{
    const porta_plan *old = program->plan;
    const porta_plan_buffer *want = &plan->buffers[b];
    int arena_ordinal = 0;
    for (int i = 0; i < b; i++) arena_ordinal += plan->buffers[i].kind == PORTA_PLAN_ARENA;
    int seen_arenas = 0;
    for (int o = 0; o < old->n_buffers; o++) {
        const porta_plan_buffer *have = &old->buffers[o];
        if (have->kind != want->kind) continue;
        if (have->kind == PORTA_PLAN_ARENA) {
            if (seen_arenas++ != arena_ordinal) continue;
        } else if (have->tensor != want->tensor) {
            continue;
        }
        if (taken[o]) return -1;
        if (want->kind == PORTA_PLAN_WEIGHT) {
            char *a = porta_plan_weight_signature(program->graph, old, o);
            char *c = porta_plan_weight_signature(program->graph, plan, b);
            bool same = a && c && !strcmp(a, c);
            free(a);
            free(c);
            return same ? o : -1;
        }
        return program->capacity[o] >= (want->bytes ? want->bytes : 4) ? o : -1;
    }
    return -1;
}

/* Moves the program onto `plan`: the buffers that still serve move over, the others are made
 * anew (inputs as zeros, weights from the handle last set), and the steps are recorded again.
 * On failure before the move the program is left as it was. */
static porta_status adopt(porta_program *program, porta_plan *plan)
{
    porta_context *context = porta_program_context(program);
    const porta_backend *backend = program->backend;
    porta_plan *old = program->plan;
    int n = plan->n_buffers;
    porta_backend_buffer **buffers = calloc((size_t)n, sizeof *buffers);
    porta_shared_buffer **shared = calloc((size_t)n, sizeof *shared);
    uint64_t *capacity = calloc((size_t)n, sizeof *capacity);
    bool *made = calloc((size_t)n, sizeof *made);
    bool *taken = calloc((size_t)old->n_buffers + 1, sizeof *taken);
    porta_status status = buffers && shared && capacity && made && taken
                              ? PORTA_OK
                              : porta_error(context, PORTA_ERROR_OUT_OF_MEMORY, "out of memory");
    for (int b = 0; b < n && status == PORTA_OK; b++) {
        int o = matching_buffer(program, plan, b, taken);
        if (o >= 0) {
            taken[o] = true;
            buffers[b] = program->buffers[o];
            shared[b] = program->shared[o];
            capacity[b] = program->capacity[o];
            continue;
        }
        capacity[b] = plan->buffers[b].bytes ? plan->buffers[b].bytes : 4;
        status = backend->buffer_create(program->device->device, capacity[b], &buffers[b]);
        made[b] = status == PORTA_OK;
    }
    if (status != PORTA_OK) {
        for (int b = 0; b < n; b++)
            if (made && made[b]) backend->buffer_destroy(buffers[b]);
        free(buffers);
        free(shared);
        free(capacity);
        free(made);
        free(taken);
        return status;
    }
    /* the move: what no longer serves goes */
    for (int o = 0; o < old->n_buffers; o++) {
        if (taken[o]) continue;
        if (program->shared[o]) porta_shared_release(program->device, program->shared[o]);
        else backend->buffer_destroy(program->buffers[o]);
    }
    free(program->buffers);
    free(program->shared);
    free(program->capacity);
    free(taken);
    program->buffers = buffers;
    program->shared = shared;
    program->capacity = capacity;
    program->plan = plan;
    porta_plan_destroy(old);
    for (int b = 0; b < n; b++)
        if (plan->buffers[b].kind != PORTA_PLAN_ARENA && capacity[b] > program->staging_bytes) {
            void *grown = realloc(program->staging, capacity[b]);
            if (!grown) {
                free(made);
                return porta_error(context, PORTA_ERROR_OUT_OF_MEMORY, "out of memory");
            }
            program->staging = grown;
            program->staging_bytes = capacity[b];
        }
    /* new input buffers start as zeros, as at creation; new weight buffers are filled */
    bool swapped = false;
    if (program->staging) memset(program->staging, 0, program->staging_bytes);
    for (int b = 0; b < n && status == PORTA_OK; b++) {
        if (!made[b]) continue;
        if (plan->buffers[b].kind == PORTA_PLAN_WEIGHT && program->weights)
            status = porta_program_load_weights(program, program->weights, b, &swapped);
        else if (plan->buffers[b].kind == PORTA_PLAN_INPUT ||
                 plan->buffers[b].kind == PORTA_PLAN_WEIGHT)
            status = backend->buffer_upload(buffers[b], 0, program->staging, capacity[b]);
    }
    free(made);
    if (status == PORTA_OK) status = porta_program_record(program);
    return status;
}

porta_status porta_program_bind(porta_program *program, const char *const *names,
                                const int64_t *values, int count)
{
    static const char api[] = "porta_program_bind";
    if (!program) return PORTA_ERROR_INVALID_ARGUMENT;
    porta_context *context = porta_program_context(program);
    if (count < 0 || (count && (!names || !values)))
        return porta_error(context, PORTA_ERROR_INVALID_ARGUMENT, "%s: no names for %d values",
                           api, count);
    porta_graph *graph = program->own_graph;
    if (!graph)
        return porta_error(context, PORTA_ERROR_INVALID_ARGUMENT,
                           "%s: graph '%s' has no named dims", api, program->graph->name);
    porta_status status = porta_program_wait(program);
    if (status != PORTA_OK) return status;
    const char *all[PORTA_MAX_SYMBOLS];
    int64_t before[PORTA_MAX_SYMBOLS];
    for (int i = 0; i < graph->n_symbols; i++) {
        all[i] = graph->symbols[i].name;
        before[i] = graph->symbols[i].value;
    }
    status = porta_graph_bind(graph, names, values, count);
    bool same = status == PORTA_OK;
    for (int i = 0; same && i < graph->n_symbols; i++) same = graph->symbols[i].value == before[i];
    if (same) return PORTA_OK;
    porta_plan *plan = NULL;
    if (status == PORTA_OK) status = porta_plan_create(graph, &program->limits, &plan);
    if (status != PORTA_OK) {
        /* back to the values the program runs at; their shapes validated before */
        char message[PORTA_ERROR_MAX];
        snprintf(message, sizeof message, "%s", porta_last_error(context));
        porta_graph_bind(graph, all, before, graph->n_symbols);
        return porta_error(context, status, "%s: %s", api, message);
    }
    status = adopt(program, plan);
    if (status != PORTA_OK && program->plan != plan) {
        porta_plan_destroy(plan);
        porta_graph_bind(graph, all, before, graph->n_symbols);
    }
    return status;
}
