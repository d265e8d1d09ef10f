/* `porta run` on a device: compile the graph into a program, set its inputs and weights, run,
 * read the outputs back, and optionally compare them with the reference and print a profile. */
#ifndef PORTA_HOST_RUN_DEVICE_H
#define PORTA_HOST_RUN_DEVICE_H

#include "host/reference/reference.h"
#include "porta.h"

#include <stdbool.h>

/* A whole graph's outputs pass --check when every element is within
 * abs + rel * |reference|: errors of several ops add up, so these are wider than any one op's
 * conformance tolerance (tests/conformance/tolerances.c). */
#define RUN_CHECK_ABS_F32 1e-4
#define RUN_CHECK_REL_F32 1e-3
#define RUN_CHECK_ABS_F16 1e-2
#define RUN_CHECK_REL_F16 1e-2

/* The tolerance above for an output of `dtype`. */
void run_device_tolerance(porta_dtype dtype, double *abs_tol, double *rel_tol);

typedef struct run_device_options {
    const char *device;
    bool check, profile;
    int repeat;             /* timed runs after the first */
} run_device_options;

#define RUN_DEVICE_MAX_OPS 32

/* The device time of one op kind in a profiled run. */
typedef struct run_device_op_time {
    char op[64];
    int steps;
    double ms;
} run_device_op_time;

/* What one run measured and found. */
typedef struct run_device_result {
    char device_id[32];
    char device_name[256];
    char error[1024];           /* why it failed, when it did (the library's message) */
    double compile_ms, first_ms;
    double median_ms;           /* of the repeats; the first run's time when there are none */
    double min_ms, max_ms;      /* of the same runs */
    /* with profile: the last run's device time per op kind, in order of first appearance */
    int n_ops;
    run_device_op_time ops[RUN_DEVICE_MAX_OPS];
    double profile_ms;          /* their sum */
    uint64_t arena_peak, intermediates;
    bool checked, within;       /* with check: every output within tolerance */
    double max_abs, max_rel;    /* the largest over all outputs */
} run_device_result;

/* `inputs` holds every input and weight (and, with check, the reference's results); the device's
 * outputs land in `outputs`. With `print`, prints one line for the device and the run, the
 * profile and the check; failures are always printed to stderr and kept in result->error. Returns 0, 1 when something
 * failed, 2 when the check failed. */
int run_on_device(porta_context *context, porta_graph *graph, const run_device_options *options,
                  const porta_reference_values *inputs, porta_reference_values *outputs,
                  bool print, run_device_result *result);

/* Sets every input and weight of `program` from `inputs`, packed to its dtype through `host`
 * (room for the largest of them, 4 bytes an element). */
int run_device_set_inputs(porta_context *context, const porta_graph *graph,
                          porta_program *program, const porta_reference_values *inputs, void *host);
/* Reads every output of `program` into `outputs` through `host`. Both return 0, or print the
 * context's message and return 1. */
int run_device_get_outputs(porta_context *context, const porta_graph *graph,
                           porta_program *program, porta_reference_values *outputs, void *host);
/* The per-step device times of the program's last run (PORTA_PROGRAM_PROFILE): a calloc'd array
 * the caller frees, and its length. */
porta_status run_device_profile(porta_program *program, porta_step_time **out_times,
                                int *out_count);

#endif
