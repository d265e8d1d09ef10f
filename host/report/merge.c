/* The merged view of the rows: a device's figures for a case over every file that measured it.
 * Each row is one run of a case (its own timed repetitions summarised by min/median/max), so
 * several rows give a spread: the min of the mins, the median of the medians, the max of the
 * maxes; errors are the largest seen. */
#include "host/report/report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RUNS 4096

static bool matches(const report_row *row, const char *suite, const char *case_name, int device)
{
    return row->device == device && !strcmp(row->suite, suite) &&
           (!case_name || !strcmp(row->case_name, case_name));
}

static double larger(double a, double b)
{
    return isnan(a) ? b : isnan(b) ? a : a > b ? a : b;
}

static double median_of(const double *values, int n)
{
    return n ? host_stats_of(values, n).median : NAN;
}

report_cell report_cell_of(const report_model *model, const char *suite, const char *case_name,
                           int device)
{
    report_cell cell = {.ms = {NAN, NAN, NAN}, .gflops = NAN, .gbytes = NAN, .max_abs = NAN,
                        .max_rel = NAN};
    static double medians[MAX_RUNS], gflops[MAX_RUNS], gbytes[MAX_RUNS];
    int n_rates = 0;
    for (int i = 0; i < model->n_rows; i++) {
        const report_row *row = &model->rows[i];
        if (!matches(row, suite, case_name, device)) continue;
        if (!strcmp(row->status, "failed")) {
            if (!cell.failed++) cell.message = row->message;
            continue;
        }
        cell.outside += !strcmp(row->status, "outside");
        cell.max_abs = larger(cell.max_abs, row->max_abs);
        cell.max_rel = larger(cell.max_rel, row->max_rel);
        if (cell.runs == MAX_RUNS || isnan(row->ms.median)) continue;
        cell.ms.min = isnan(cell.ms.min) || row->ms.min < cell.ms.min ? row->ms.min : cell.ms.min;
        cell.ms.max = larger(cell.ms.max, row->ms.max);
        medians[cell.runs++] = row->ms.median;
        if (!isnan(row->gflops) && !isnan(row->gbytes)) {
            gflops[n_rates] = row->gflops;
            gbytes[n_rates++] = row->gbytes;
        }
    }
    cell.ms.median = median_of(medians, cell.runs);
    cell.gflops = median_of(gflops, n_rates);
    cell.gbytes = median_of(gbytes, n_rates);
    return cell;
}

bool report_is_throughput_suite(const char *suite)
{
    return strcmp(suite, "peak") && strcmp(suite, "dispatch") && strcmp(suite, "bind");
}

/* Appends `name` to out[0..n) unless it is there; returns the new count. */
static int add_distinct(const char **out, int n, int max, const char *name)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(out[i], name)) return n;
    if (n < max) out[n++] = name;
    return n;
}

int report_suites(const report_model *model, const char **out, int max)
{
    int n = 0;
    for (int i = 0; i < model->n_rows; i++)
        if (report_is_throughput_suite(model->rows[i].suite))
            n = add_distinct(out, n, max, model->rows[i].suite);
    return n;
}

int report_cases(const report_model *model, const char *suite, const char **out, int max)
{
    int n = 0;
    for (int i = 0; i < model->n_rows; i++)
        if (!strcmp(model->rows[i].suite, suite))
            n = add_distinct(out, n, max, model->rows[i].case_name);
    return n;
}

bool report_suite_in_bytes(const report_model *model, const char *suite)
{
    double flops = 0, bytes = 0;
    for (int i = 0; i < model->n_rows; i++) {
        const report_row *row = &model->rows[i];
        if (strcmp(row->suite, suite) || isnan(row->flops) || isnan(row->bytes)) continue;
        flops += row->flops;
        bytes += row->bytes;
    }
    return bytes > 0 && flops < 2 * bytes;
}

bool report_peak_of(const report_model *model, int device, const char *which, host_stats *out)
{
    static double medians[MAX_RUNS];
    int n = 0;
    host_stats s = {NAN, NAN, NAN};
    for (int i = 0; i < model->n_rows && n < MAX_RUNS; i++) {
        const report_row *row = &model->rows[i];
        if (!matches(row, "peak", which, device) || strcmp(row->status, "ok")) continue;
        s.min = isnan(s.min) || row->peak.min < s.min ? row->peak.min : s.min;
        s.max = larger(s.max, row->peak.max);
        medians[n++] = row->peak.median;
    }
    s.median = median_of(medians, n);
    *out = s;
    return n > 0;
}

int report_profile_ops(const report_model *model, const char *graph, const char **out, int max)
{
    int n = 0;
    for (int i = 0; i < model->n_rows; i++) {
        const report_row *row = &model->rows[i];
        if (strcmp(row->suite, REPORT_COMPARE_SUITE) || strcmp(row->case_name, graph)) continue;
        for (int k = 0; k < row->n_ops; k++) n = add_distinct(out, n, max, row->ops[k].op);
    }
    return n;
}

double report_profile_ms(const report_model *model, const char *graph, int device, const char *op)
{
    static double values[MAX_RUNS];
    int n = 0;
    for (int i = 0; i < model->n_rows && n < MAX_RUNS; i++) {
        const report_row *row = &model->rows[i];
        if (!matches(row, REPORT_COMPARE_SUITE, graph, device) || !row->n_ops) continue;
        double ms = 0;      /* a profiled run without this op spent no time on it */
        for (int k = 0; k < row->n_ops; k++)
            if (!strcmp(row->ops[k].op, op)) ms += row->ops[k].ms;
        values[n++] = ms;
    }
    return median_of(values, n);
}

void report_op_of(const char *case_name, char *out, size_t size)
{
    size_t n = strcspn(case_name, " ");
    if (n >= size) n = size - 1;
    memcpy(out, case_name, n);
    out[n] = '\0';
}

double report_op_error(const report_model *model, const char *op, int device, int *outside)
{
    double error = NAN;
    *outside = 0;
    for (int i = 0; i < model->n_rows; i++) {
        const report_row *row = &model->rows[i];
        char row_op[64];
        if (row->device != device || !report_is_throughput_suite(row->suite) ||
            isnan(row->max_abs))
            continue;
        report_op_of(row->case_name, row_op, sizeof row_op);
        if (strcmp(row_op, op)) continue;
        error = larger(error, row->max_abs);
        *outside += !strcmp(row->status, "outside");
    }
    return error;
}

int report_error_ops(const report_model *model, char (*out)[64], int max)
{
    int n = 0;
    for (int i = 0; i < model->n_rows; i++) {
        const report_row *row = &model->rows[i];
        if (!report_is_throughput_suite(row->suite) || isnan(row->max_abs)) continue;
        char op[64];
        report_op_of(row->case_name, op, sizeof op);
        int k = 0;
        while (k < n && strcmp(out[k], op)) k++;
        if (k == n && n < max) memcpy(out[n++], op, sizeof op);
    }
    return n;
}

bool report_any_peak(const report_model *model)
{
    for (int i = 0; i < model->n_rows; i++)
        if (!strcmp(model->rows[i].suite, "peak") && !strcmp(model->rows[i].status, "ok"))
            return true;
    return false;
}

double report_peak_percent(const report_model *model, const char *suite, const report_cell *cell,
                           int device)
{
    bool in_bytes = report_suite_in_bytes(model, suite);
    host_stats peak;
    if (!report_peak_of(model, device, in_bytes ? "bandwidth" : "fma_f32", &peak) ||
        !(peak.median > 0))
        return NAN;
    double rate = in_bytes ? cell->gbytes : cell->gflops;
    return isnan(rate) ? NAN : 100 * rate / peak.median;
}
