/* `porta bench`: op suites measured on devices. A case is a small graph (generated .pg text or an
 * example file); each runs on every selected device, timed by wall clock and by device timestamps,
 * and its outputs are checked against the CPU reference. */
#ifndef PORTA_HOST_BENCH_H
#define PORTA_HOST_BENCH_H

#include "graphs/lower/plan.h"
#include "host/stats.h"
#include "porta.h"

#include <stdbool.h>
#include <stdint.h>

/* One benchmark case. The reference runs on `check_text` when it is set: a smaller graph with
 * the same input names whose inputs are leading slices of the case's and whose outputs are the
 * leading slices of the case's outputs (fewer rows or heads), so a large case is checked on a
 * sample of its rows instead of its whole result. */
typedef struct bench_case {
    const char *suite;
    char name[96];
    char *text;             /* .pg text; NULL for an example file */
    char *check_text;       /* NULL: the reference runs the case itself */
    char path[1024];        /* the example file, when text is NULL */
} bench_case;

/* Every case of the suite `suite` ("matmul", "attention", "softmax", "layernorm", "examples"),
 * appended to a growing array. `examples_dir` holds the example graphs. Returns 0, or 1 after a
 * message on stderr (out of memory, an unreadable examples folder). */
int bench_suite_cases(const char *suite, const char *examples_dir, bench_case **cases, int *count);
void bench_cases_free(bench_case *cases, int count);
/* The installed example graphs, else those of the source tree this binary was built from. */
const char *bench_default_examples(void);
/* Whether `name` holds `filter` or one of its comma-separated pieces; true without a filter. */
bool bench_filter_keeps(const char *filter, const char *name);

typedef struct bench_options {
    int repeat;             /* timed runs at most */
    double budget_ms;       /* stop timing a case after this long, once it has one timed run */
    uint64_t seed;
    /* porta tune: programs lower with this instead of the device's stored winners */
    bool use_tuned;
    const char *tuned;
    /* porta tune: also sum the device time of the steps that follow this decision */
    const char *focus_family, *focus_key;
} bench_options;

/* What a case measured on one device. */
typedef struct bench_measure {
    int status;             /* 0 ok, 1 failed (message), 2 outside tolerance */
    char message[512];
    int repetitions;
    double compile_ms, first_ms;
    host_stats wall_ms;
    bool has_device_time;
    host_stats device_ms;   /* the sum of the steps' device timestamps, per run */
    bool has_focus;
    host_stats focus_ms;    /* the same over the steps of options->focus_family and _key */
    uint64_t flops, bytes;  /* of every node, from the op table */
    double max_abs, max_rel;
    int64_t checked, elements;   /* output elements checked against the reference, of all */
} bench_measure;

/* The case's graph, its inputs filled from the seed and, for the check, the reference's outputs.
 * Prepared once per case and shared by every device. */
typedef struct bench_prepared bench_prepared;

int bench_prepare(porta_context *context, const bench_case *bcase, uint64_t seed,
                  bench_prepared **out, char *message, size_t message_size);
void bench_prepared_free(bench_prepared *prepared);

/* Runs a prepared case on an open device. */
void bench_measure_case(porta_context *context, porta_device *device,
                        const bench_prepared *prepared, const bench_options *options,
                        bench_measure *out);

/* The variant decisions a prepared case's program makes on a device when lowered with `tuned`
 * (runtime/tune.h): a malloc'd copy. Returns 0, or 1 with the context's message. */
int bench_choices(porta_device *device, const bench_prepared *prepared, const char *tuned,
                  porta_plan_choice **out_choices, int *out_count);

/* `porta bench dispatch` on one device: microseconds per dispatch of a chain of `count` tiny
 * dependent dispatches, submitted and waited one at a time (each_us) and recorded once and
 * submitted whole (recorded_us), one value per repetition (reps <= 32). */
typedef struct bench_dispatch_result {
    int reps;
    double each_us[32], recorded_us[32];
} bench_dispatch_result;

porta_status bench_dispatch(porta_device *device, int count, int reps, bench_dispatch_result *out);

/* `porta bench peak` on one device (peak.c): f32 FMA GFLOP/s, copy bandwidth in GB/s (bytes read
 * plus written) and the microseconds of one tiny dispatch submitted and waited for, one value per
 * repetition (reps <= 32). f16 arithmetic is not measured: the kernel dialect has no f16 type. */
typedef struct bench_peak_result {
    bool timed_by_device;   /* device timestamps, else wall clock */
    int fma_reps, copy_reps, latency_reps;
    double fma_f32_gflops[32], copy_gbytes[32], latency_us[32];
} bench_peak_result;

porta_status bench_peak(porta_device *device, int reps, bench_peak_result *out);

/* `porta bench bind` on one device (bind.c): milliseconds to make an encoder layer's program with
 * a named length (S <= 128), to bind it to a length it has not seen and to one it has, and to
 * make a new program for each length instead; its weight bytes (held once whatever the length)
 * and the kernels it compiled at the maximum and after every length. */
typedef struct bench_bind_result {
    int reps;
    double create_ms, new_ms[8], seen_ms[8], program_ms[8];
    uint64_t weight_bytes;
    int kernels_at_max, kernels_after;
} bench_bind_result;

porta_status bench_bind(porta_device *device, int reps, bench_bind_result *out);

#endif
