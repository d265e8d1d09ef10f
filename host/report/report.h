/* `porta report`: results files of `porta compare`, `porta bench` and `porta devices` (of any
 * number of machines) merged into one table, then written as Markdown, SVG charts, JSONL and CSV.
 *
 * The merged table has one row per (file, device, suite, case). A device is one column across
 * files when its stable key (vendor / name / driver) is the same; the rows of one device, suite
 * and case from several files (or machines) are repeated runs of it. */
#ifndef PORTA_HOST_REPORT_H
#define PORTA_HOST_REPORT_H

#include "host/stats.h"

#include <stdbool.h>
#include <stdio.h>

/* The suite name given to `porta compare`'s runs (each graph is a case). */
#define REPORT_COMPARE_SUITE "compare"

typedef struct report_file {
    char path[1024];
    char kind[16];                  /* "compare", "bench", "devices" */
    char created[40], version[40], commit[64];
    char hostname[256], os[256], kernel[256], cpu[256];
    double cores, seed, repeat;     /* NAN where absent (devices files have no seed) */
} report_file;

typedef struct report_device {
    char key[640];
    char label[16];                 /* "D1", "D2", ...: the column's name */
    char vendor[256], name[256], driver[256], api[256], backend[16], type[32];
    char hosts[512];                /* every hostname it was seen on, comma-separated */
} report_device;

typedef struct report_op {
    char op[64];
    double steps, ms;
} report_op;

/* One measurement: a compare run or a bench result. Absent numbers are NAN. */
typedef struct report_row {
    int file, device;               /* indexes into the model's files and devices */
    char device_id[64];             /* the id the file used ("opencl:0") */
    char suite[64], case_name[160];
    char status[16];                /* "ok", "outside", "failed" */
    char message[512];              /* a failure's message, or "" */
    char timed_by[16];              /* "device", "wall" or "" */
    double repetitions;
    host_stats ms;                  /* min/median/max ms of the timed runs; NAN when none */
    double flops, bytes, gflops, gbytes, latency_us, max_abs, max_rel;
    host_stats peak;                /* a peak result's figure (min/median/max over its runs) */
    double profile_ms;
    report_op *ops;                 /* compare --profile: time by op kind */
    int n_ops;
} report_row;

typedef struct report_warning {
    char text[1200];
} report_warning;

typedef struct report_model {
    report_file *files;
    int n_files;
    report_device *devices;
    int n_devices;
    report_row *rows;
    int n_rows;
    report_warning *warnings;
    int n_warnings;
} report_model;

/* load.c: reads one results file into the model, merging its devices by key. Returns 0, or 1
 * after printing "porta report: PATH: what is wrong" to stderr. A device listed by a compare or
 * bench file without any result of its own is a warning in the model, not an error. */
int report_load(report_model *model, const char *path);
void report_model_free(report_model *model);

/* merge.c: a device's figures for one (suite, case) over every row of every file. */
typedef struct report_cell {
    int runs, failed, outside;      /* rows measured (ok or outside), rows that failed */
    host_stats ms;                  /* min of the mins, median of the medians, max of the maxes */
    double gflops, gbytes;          /* the median of the rows' rates; NAN when none */
    double max_abs, max_rel;        /* the largest of the rows' errors; NAN when none */
    const char *message;            /* the first failure's message */
} report_cell;

report_cell report_cell_of(const report_model *model, const char *suite, const char *case_name,
                           int device);

/* The distinct suites (or a suite's cases) in order of first appearance; the names point into
 * the model's rows. Peak, dispatch and bind results are not throughput suites and are left
 * out. */
int report_suites(const report_model *model, const char **out, int max);
int report_cases(const report_model *model, const char *suite, const char **out, int max);
bool report_is_throughput_suite(const char *suite);

/* A suite whose cases do fewer than 2 FLOPs per byte (softmax, norms) is measured in GB/s,
 * others in GFLOP/s: the rate that says how near the case runs to what binds it. */
bool report_suite_in_bytes(const report_model *model, const char *suite);

/* A device's peak figures (bench peak) merged over files: median of the medians, min of the
 * mins, max of the maxes. `which` is "fma_f32", "bandwidth" or "latency"; false when absent. */
bool report_peak_of(const report_model *model, int device, const char *which, host_stats *out);

/* The ops of an example graph: the op names of every device's profile, in order of first
 * appearance; the profiled ms of one op on one device is the median over the rows with a
 * profile (NAN when the device has none). */
int report_profile_ops(const report_model *model, const char *graph, const char **out, int max);
double report_profile_ms(const report_model *model, const char *graph, int device, const char *op);

/* The op a case measures: the first word of its name ("sdpa d64 k128 q1" -> "sdpa", a graph's
 * name itself). Writes it to `out`. */
void report_op_of(const char *case_name, char *out, size_t size);

/* The largest error of an op on a device over every case of that op; NAN when none measured. */
double report_op_error(const report_model *model, const char *op, int device, int *outside);
int report_error_ops(const report_model *model, char (*out)[64], int max);

/* markdown.c, charts.c, export.c: each writes its files into `dir`; 0, or 1 after a message.
 * The charts are throughput-SUITE.svg per suite, peak-fraction.svg when some device has a peak,
 * errors.svg, and breakdown-GRAPH.svg per profiled graph (report_chart_name). */
int report_write_markdown(const report_model *model, const char *dir);
int report_write_charts(const report_model *model, const char *dir);
int report_write_exports(const report_model *model, const char *dir);

/* "throughput-matmul.svg": a chart's file name from its kind and a suite's or graph's name. */
void report_chart_name(const char *kind, const char *name, char *out, size_t size);
/* "D1 llvmpipe [vulkan]": how charts name a device. */
void report_device_caption(const report_device *device, char *out, size_t size);
/* Whether any device has a peak figure of `which` ("fma_f32", "bandwidth"); any when NULL. */
bool report_any_peak(const report_model *model);
/* A case's rate in its suite's unit (report_suite_in_bytes) as a percent of the device's peak
 * of that unit; NAN when either is absent. */
double report_peak_percent(const report_model *model, const char *suite, const report_cell *cell,
                           int device);

/* A file name made of a suite's or graph's name: letters, digits, '-' and '_' kept, the rest
 * '-'. */
void report_file_stem(const char *name, char *out, size_t size);
/* Opens DIR/NAME for writing; prints the message itself on failure. */
FILE *report_open(const char *dir, const char *name);
/* Closes it; 1 after a message when anything written to it was lost. */
int report_close(FILE *file, const char *dir, const char *name);

#endif
