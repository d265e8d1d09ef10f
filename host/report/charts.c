/* The report's charts (svg.h draws them): throughput per suite, fraction of peak, numerics error
 * per op on a log scale, and each example graph's time by op. */
#include "host/report/report.h"
#include "host/report/svg.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_NAMES 512

typedef struct chart_data {
    const char *categories[MAX_NAMES];
    char category_text[MAX_NAMES][192];
    const char *series[MAX_NAMES];
    char series_text[MAX_NAMES][96];
    double *values;
    int n_categories, n_series;
    int device_of_series[MAX_NAMES];
} chart_data;

static int write_chart(const char *dir, const char *name, const svg_chart *chart)
{
    FILE *file = report_open(dir, name);
    if (!file) return 1;
    svg_chart_write(file, chart);
    return report_close(file, dir, name);
}

/* The devices as series: those for which `has` says there is something to draw. */
static void device_series(const report_model *model, chart_data *d,
                          bool (*has)(const report_model *, int, const void *), const void *arg)
{
    d->n_series = 0;
    for (int i = 0; i < model->n_devices && d->n_series < MAX_NAMES; i++) {
        if (!has(model, i, arg)) continue;
        report_device_caption(&model->devices[i], d->series_text[d->n_series],
                              sizeof d->series_text[0]);
        d->series[d->n_series] = d->series_text[d->n_series];
        d->device_of_series[d->n_series++] = i;
    }
}

static bool measured_in_suite(const report_model *model, int device, const void *suite)
{
    for (int i = 0; i < model->n_rows; i++)
        if (model->rows[i].device == device && !strcmp(model->rows[i].suite, suite)) return true;
    return false;
}

static bool has_peak(const report_model *model, int device, const void *unused)
{
    (void)unused;
    host_stats s;
    return report_peak_of(model, device, "fma_f32", &s) ||
           report_peak_of(model, device, "bandwidth", &s);
}

static bool has_error(const report_model *model, int device, const void *unused)
{
    (void)unused;
    for (int i = 0; i < model->n_rows; i++)
        if (model->rows[i].device == device && !isnan(model->rows[i].max_abs)) return true;
    return false;
}

static int alloc_values(chart_data *d)
{
    free(d->values);
    size_t n = (size_t)(d->n_categories ? d->n_categories : 1) * (size_t)(d->n_series ? d->n_series : 1);
    d->values = malloc(n * sizeof *d->values);
    if (!d->values) fprintf(stderr, "porta report: out of memory\n");
    return d->values ? 0 : 1;
}

static int throughput_chart(const report_model *model, const char *dir, const char *suite,
                            chart_data *d)
{
    bool in_bytes = report_suite_in_bytes(model, suite);
    d->n_categories = report_cases(model, suite, d->categories, MAX_NAMES);
    device_series(model, d, measured_in_suite, suite);
    if (alloc_values(d)) return 1;
    for (int k = 0; k < d->n_categories; k++)
        for (int s = 0; s < d->n_series; s++) {
            report_cell cell = report_cell_of(model, suite, d->categories[k], d->device_of_series[s]);
            d->values[k * d->n_series + s] = in_bytes ? cell.gbytes : cell.gflops;
        }
    char title[160], name[160];
    snprintf(title, sizeof title, "Throughput: %s", suite);
    report_chart_name("throughput", suite, name, sizeof name);
    bool graphs = !strcmp(suite, REPORT_COMPARE_SUITE);
    svg_chart chart = {title, in_bytes ? "GB/s" : "GFLOP/s", d->n_categories, d->n_series,
                       d->categories, d->series, d->values, false, false,
                       graphs ? "porta compare's graphs at their median wall time over every run; "
                                "higher is faster"
                              : "the median over every run of each case; higher is faster"};
    return write_chart(dir, name, &chart);
}

static int peak_chart(const report_model *model, const char *dir, chart_data *d)
{
    const char *suites[MAX_NAMES];
    int n_suites = report_suites(model, suites, MAX_NAMES);
    device_series(model, d, has_peak, NULL);
    d->n_categories = 0;
    for (int s = 0; s < n_suites; s++) {
        const char *cases[MAX_NAMES];
        int n_cases = report_cases(model, suites[s], cases, MAX_NAMES);
        for (int c = 0; c < n_cases && d->n_categories < MAX_NAMES; c++) {
            snprintf(d->category_text[d->n_categories], sizeof d->category_text[0], "%s: %s",
                     suites[s], cases[c]);
            d->categories[d->n_categories] = d->category_text[d->n_categories];
            d->n_categories++;
        }
    }
    if (alloc_values(d)) return 1;
    int k = 0;
    for (int s = 0; s < n_suites; s++) {
        const char *cases[MAX_NAMES];
        int n_cases = report_cases(model, suites[s], cases, MAX_NAMES);
        for (int c = 0; c < n_cases && k < d->n_categories; c++, k++)
            for (int i = 0; i < d->n_series; i++) {
                int device = d->device_of_series[i];
                report_cell cell = report_cell_of(model, suites[s], cases[c], device);
                d->values[k * d->n_series + i] = report_peak_percent(model, suites[s], &cell,
                                                                     device);
            }
    }
    char name[64];
    report_chart_name("peak-fraction", NULL, name, sizeof name);
    svg_chart chart = {"Fraction of each device's measured peak", "% of peak", d->n_categories,
                       d->n_series, d->categories, d->series, d->values, false, false,
                       "GFLOP/s against the f32 FMA peak; GB/s suites against the copy bandwidth"};
    return write_chart(dir, name, &chart);
}

static int error_chart(const report_model *model, const char *dir, chart_data *d)
{
    static char ops[MAX_NAMES][64];
    d->n_categories = report_error_ops(model, ops, MAX_NAMES);
    for (int k = 0; k < d->n_categories; k++) d->categories[k] = ops[k];
    device_series(model, d, has_error, NULL);
    if (alloc_values(d)) return 1;
    for (int k = 0; k < d->n_categories; k++)
        for (int s = 0; s < d->n_series; s++) {
            int outside;
            d->values[k * d->n_series + s] =
                report_op_error(model, ops[k], d->device_of_series[s], &outside);
        }
    char name[64];
    report_chart_name("errors", NULL, name, sizeof name);
    svg_chart chart = {"Numerics: largest absolute error against the CPU reference",
                       "max abs error", d->n_categories, d->n_series, d->categories, d->series,
                       d->values, false, true, "per op, over every case and run; lower is better"};
    return write_chart(dir, name, &chart);
}

static int breakdown_chart(const report_model *model, const char *dir, const char *graph,
                           chart_data *d)
{
    d->n_series = report_profile_ops(model, graph, d->series, MAX_NAMES);
    d->n_categories = 0;
    int devices[MAX_NAMES];
    for (int i = 0; i < model->n_devices && d->n_categories < MAX_NAMES; i++) {
        bool profiled = false;
        for (int s = 0; s < d->n_series && !profiled; s++)
            profiled = !isnan(report_profile_ms(model, graph, i, d->series[s]));
        if (!profiled) continue;
        report_device_caption(&model->devices[i], d->category_text[d->n_categories],
                              sizeof d->category_text[0]);
        d->categories[d->n_categories] = d->category_text[d->n_categories];
        devices[d->n_categories++] = i;
    }
    if (alloc_values(d)) return 1;
    for (int k = 0; k < d->n_categories; k++)
        for (int s = 0; s < d->n_series; s++)
            d->values[k * d->n_series + s] = report_profile_ms(model, graph, devices[k], d->series[s]);
    char title[160], name[160];
    snprintf(title, sizeof title, "Device time by op: %s", graph);
    report_chart_name("breakdown", graph, name, sizeof name);
    svg_chart chart = {title, "ms", d->n_categories, d->n_series, d->categories, d->series,
                       d->values, true, false,
                       "porta compare --profile: the median over runs of each op kind's time"};
    return write_chart(dir, name, &chart);
}

int report_write_charts(const report_model *model, const char *dir)
{
    chart_data *d = calloc(1, sizeof *d);
    if (!d) {
        fprintf(stderr, "porta report: out of memory\n");
        return 1;
    }
    const char *suites[MAX_NAMES];
    int n_suites = report_suites(model, suites, MAX_NAMES), rc = 0;
    for (int s = 0; s < n_suites && !rc; s++) rc = throughput_chart(model, dir, suites[s], d);
    if (!rc && report_any_peak(model)) rc = peak_chart(model, dir, d);
    static char ops[MAX_NAMES][64];
    if (!rc && report_error_ops(model, ops, MAX_NAMES)) rc = error_chart(model, dir, d);
    const char *graphs[MAX_NAMES];
    int n_graphs = report_cases(model, REPORT_COMPARE_SUITE, graphs, MAX_NAMES);
    for (int g = 0; g < n_graphs && !rc; g++) {
        const char *ops_of[1];
        if (report_profile_ops(model, graphs[g], ops_of, 1)) rc = breakdown_chart(model, dir, graphs[g], d);
    }
    free(d->values);
    free(d);
    return rc;
}
