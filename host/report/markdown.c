/* report.md: the merged results as Markdown tables, one column per device (by its key), with
 * the charts beside the tables they draw. Figures are printed to 4 significant digits. */
#include "host/report/report.h"

#include "build_commit.h"
#include "porta.h"

#include <math.h>
#include <string.h>

#define MAX_NAMES 512

/* Markdown cells hold no '|' or line break. */
static void cell_text(FILE *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '|')
            fputs("\\|", out);
        else
            fputc(*s == '\n' || *s == '\r' ? ' ' : *s, out);
    }
}

static void number(FILE *out, double v)
{
    if (isnan(v))
        fputs("-", out);
    else
        fprintf(out, "%.4g", v);
}

static void device_head(FILE *out, const report_model *model, const char *first)
{
    fprintf(out, "| %s |", first);
    for (int d = 0; d < model->n_devices; d++) fprintf(out, " %s |", model->devices[d].label);
    fprintf(out, "\n| --- |");
    for (int d = 0; d < model->n_devices; d++) fprintf(out, " ---: |");
    fprintf(out, "\n");
}

static void chart(FILE *out, const char *kind, const char *name, const char *alt)
{
    char file[192];
    report_chart_name(kind, name, file, sizeof file);
    fprintf(out, "\n![%s](%s)\n", alt, file);
}

/* "| a | b | c |": a table row of text cells. */
static void text_row(FILE *out, const char *const *cells, size_t n)
{
    fputc('|', out);
    for (size_t i = 0; i < n; i++) {
        fputc(' ', out);
        cell_text(out, cells[i]);
        fputs(" |", out);
    }
    fputc('\n', out);
}

static void format_number(char *out, size_t size, double v)
{
    if (isnan(v))
        snprintf(out, size, "-");
    else
        snprintf(out, size, "%.4g", v);
}

static void files_section(FILE *out, const report_model *model)
{
    fprintf(out, "## Results files\n\n| file | kind | host | OS | kernel | CPU | cores | porta "
                 "| created | seed | repeat |\n| --- | --- | --- | --- | --- | --- | ---: | --- "
                 "| --- | ---: | ---: |\n");
    for (int i = 0; i < model->n_files; i++) {
        const report_file *f = &model->files[i];
        char cores[32], seed[32], repeat[32], version[128];
        format_number(cores, sizeof cores, f->cores);
        format_number(seed, sizeof seed, f->seed);
        format_number(repeat, sizeof repeat, f->repeat);
        snprintf(version, sizeof version, "%s (%s)", f->version, f->commit);
        const char *cells[] = {f->path, f->kind,   f->hostname, f->os,   f->kernel, f->cpu,
                               cores,   version,   f->created,  seed,    repeat};
        text_row(out, cells, sizeof cells / sizeof cells[0]);
    }
}

static void devices_section(FILE *out, const report_model *model)
{
    fprintf(out, "\n## Devices\n\nA device is one column wherever its key (vendor / name / "
                 "driver) is the same, on any machine.\n\n"
                 "| column | key | vendor | name | driver | API | backend | type | hosts |\n"
                 "| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
    for (int d = 0; d < model->n_devices; d++) {
        const report_device *v = &model->devices[d];
        const char *cells[] = {v->label,  v->key, v->vendor, v->name, v->driver,
                               v->api,    v->backend, v->type, v->hosts};
        text_row(out, cells, sizeof cells / sizeof cells[0]);
    }
    if (model->n_warnings) fprintf(out, "\n## Warnings\n\n");
    for (int i = 0; i < model->n_warnings; i++) {
        fprintf(out, "- ");
        cell_text(out, model->warnings[i].text);
        fputc('\n', out);
    }
}

/* A cell of a suite's table: median ms [min - max] and the rate of the suite's unit. */
static void throughput_cell(FILE *out, const report_cell *c, bool in_bytes)
{
    if (c->runs == 0) {
        fputs(c->failed ? "FAILED" : "-", out);
        return;
    }
    fprintf(out, "%.4g ms [%.4g - %.4g] ", c->ms.median, c->ms.min, c->ms.max);
    number(out, in_bytes ? c->gbytes : c->gflops);
    fputs(in_bytes ? " GB/s" : " GFLOP/s", out);
    if (c->runs > 1) fprintf(out, " (%d runs)", c->runs);
    if (c->outside) fputs(" OUTSIDE", out);
    if (c->failed) fprintf(out, " (%d failed)", c->failed);
}

static void throughput_section(FILE *out, const report_model *model)
{
    const char *suites[MAX_NAMES];
    int n_suites = report_suites(model, suites, MAX_NAMES);
    if (!n_suites) return;
    fprintf(out, "\n## Throughput\n\nPer case and device: the median time in ms over the runs "
                 "(each run's own median; a case in several files or on several machines is "
                 "several runs), [the fastest - the slowest timed repetition], and the median "
                 "rate: GB/s for suites of fewer than 2 FLOPs a byte, else GFLOP/s. `porta "
                 "compare` times the wall clock, `porta bench` the device where it has "
                 "timestamps.\n");
    for (int s = 0; s < n_suites; s++) {
        bool in_bytes = report_suite_in_bytes(model, suites[s]);
        fprintf(out, "\n### %s (%s)\n\n", suites[s], in_bytes ? "GB/s" : "GFLOP/s");
        device_head(out, model, "case");
        const char *cases[MAX_NAMES];
        int n_cases = report_cases(model, suites[s], cases, MAX_NAMES);
        for (int c = 0; c < n_cases; c++) {
            fprintf(out, "| ");
            cell_text(out, cases[c]);
            fprintf(out, " |");
            for (int d = 0; d < model->n_devices; d++) {
                report_cell cell = report_cell_of(model, suites[s], cases[c], d);
                fputc(' ', out);
                throughput_cell(out, &cell, in_bytes);
                fputs(" |", out);
            }
            fputc('\n', out);
        }
        chart(out, "throughput", suites[s], suites[s]);
    }
}

static void peak_figure(FILE *out, const report_model *model, int device, const char *which)
{
    host_stats s;
    if (!report_peak_of(model, device, which, &s))
        fputs("-", out);
    else
        fprintf(out, "%.4g [%.4g - %.4g]", s.median, s.min, s.max);
}

static void peak_section(FILE *out, const report_model *model)
{
    if (!report_any_peak(model)) {
        fprintf(out, "\n## Fraction of peak\n\nNo results file has `porta bench peak` figures: "
                     "run it on each device for this section.\n");
        return;
    }
    fprintf(out, "\n## Fraction of peak\n\nEach device's peak as `porta bench peak` measured "
                 "it: the median over runs [min - max]. `-`: not measured for that device.\n\n"
                 "| device | f32 FMA GFLOP/s | copy GB/s | dispatch latency us |\n"
                 "| --- | ---: | ---: | ---: |\n");
    for (int d = 0; d < model->n_devices; d++) {
        fprintf(out, "| %s | ", model->devices[d].label);
        peak_figure(out, model, d, "fma_f32");
        fputs(" | ", out);
        peak_figure(out, model, d, "bandwidth");
        fputs(" | ", out);
        peak_figure(out, model, d, "latency");
        fputs(" |\n", out);
    }
    fprintf(out, "\nEach case's median rate as a percent of its device's peak: GFLOP/s against "
                 "the f32 FMA peak, GB/s suites against the copy bandwidth.\n\n");
    device_head(out, model, "suite: case");
    const char *suites[MAX_NAMES];
    int n_suites = report_suites(model, suites, MAX_NAMES);
    for (int s = 0; s < n_suites; s++) {
        const char *cases[MAX_NAMES];
        int n_cases = report_cases(model, suites[s], cases, MAX_NAMES);
        for (int c = 0; c < n_cases; c++) {
            fprintf(out, "| %s: ", suites[s]);
            cell_text(out, cases[c]);
            fprintf(out, " |");
            for (int d = 0; d < model->n_devices; d++) {
                report_cell cell = report_cell_of(model, suites[s], cases[c], d);
                double percent = report_peak_percent(model, suites[s], &cell, d);
                if (isnan(percent))
                    fputs(" - |", out);
                else
                    fprintf(out, " %.4g%% |", percent);
            }
            fputc('\n', out);
        }
    }
    chart(out, "peak-fraction", NULL, "fraction of peak");
}

/* `porta bench bind`: what a new sequence length costs on each device. */
static void bind_section(FILE *out, const report_model *model)
{
    static const char *const cases[] = {"bind_new_length", "bind_seen_length",
                                        "program_per_length"};
    bool any = false;
    for (int d = 0; d < model->n_devices && !any; d++)
        for (int c = 0; c < 3 && !any; c++) any = report_cell_of(model, "bind", cases[c], d).runs;
    if (!any) return;
    fprintf(out, "\n## A new sequence length\n\nWall ms, median [min - max], of binding an "
                 "encoder layer's named length to a length its program has not seen, to one it "
                 "has, and of making a new program for each length instead (`porta bench "
                 "bind`).\n\n| device | bind a new length | bind a seen length | a program per "
                 "length |\n| --- | ---: | ---: | ---: |\n");
    for (int d = 0; d < model->n_devices; d++) {
        fprintf(out, "| %s |", model->devices[d].label);
        for (int c = 0; c < 3; c++) {
            report_cell cell = report_cell_of(model, "bind", cases[c], d);
            if (cell.runs)
                fprintf(out, " %.4g [%.4g - %.4g] |", cell.ms.median, cell.ms.min, cell.ms.max);
            else
                fputs(" - |", out);
        }
        fputc('\n', out);
    }
}

static void error_section(FILE *out, const report_model *model)
{
    static char ops[MAX_NAMES][64];
    int n_ops = report_error_ops(model, ops, MAX_NAMES);
    if (!n_ops) return;
    fprintf(out, "\n## Numerics\n\nThe largest absolute error against the CPU reference per op "
                 "(a case's first word, or an example graph) and device, over every case and "
                 "run of it. OUTSIDE: some run was outside its tolerance.\n\n");
    device_head(out, model, "op");
    for (int k = 0; k < n_ops; k++) {
        fprintf(out, "| %s |", ops[k]);
        for (int d = 0; d < model->n_devices; d++) {
            int outside;
            double error = report_op_error(model, ops[k], d, &outside);
            if (isnan(error))
                fputs(" - |", out);
            else
                fprintf(out, " %.4g%s |", error, outside ? " OUTSIDE" : "");
        }
        fputc('\n', out);
    }
    chart(out, "errors", NULL, "numerics error per op");
}

static void breakdown_section(FILE *out, const report_model *model)
{
    const char *graphs[MAX_NAMES], *ops[MAX_NAMES];
    int n_graphs = report_cases(model, REPORT_COMPARE_SUITE, graphs, MAX_NAMES);
    bool header = false;
    for (int g = 0; g < n_graphs; g++) {
        int n_ops = report_profile_ops(model, graphs[g], ops, MAX_NAMES);
        if (!n_ops) continue;
        if (!header)
            fprintf(out, "\n## Time by op\n\nEach example graph's device time per op kind "
                         "(`porta compare --profile`): the median over runs in ms, and its "
                         "share of the device's total. `-`: no profile (no timestamps).\n");
        header = true;
        fprintf(out, "\n### %s\n\n", graphs[g]);
        device_head(out, model, "op");
        double totals[64] = {0};
        for (int k = 0; k < n_ops; k++)
            for (int d = 0; d < model->n_devices && d < 64; d++) {
                double ms = report_profile_ms(model, graphs[g], d, ops[k]);
                if (!isnan(ms)) totals[d] += ms;
            }
        for (int k = 0; k < n_ops; k++) {
            fprintf(out, "| ");
            cell_text(out, ops[k]);
            fprintf(out, " |");
            for (int d = 0; d < model->n_devices; d++) {
                double ms = report_profile_ms(model, graphs[g], d, ops[k]);
                if (isnan(ms) || d >= 64)
                    fputs(" - |", out);
                else
                    fprintf(out, " %.4g ms (%.1f%%) |", ms, totals[d] > 0 ? 100 * ms / totals[d] : 0);
            }
            fputc('\n', out);
        }
        chart(out, "breakdown", graphs[g], graphs[g]);
    }
}

static void failures_section(FILE *out, const report_model *model)
{
    bool header = false;
    for (int i = 0; i < model->n_rows; i++) {
        const report_row *row = &model->rows[i];
        if (strcmp(row->status, "failed")) continue;
        if (!header)
            fprintf(out, "\n## Failures\n\n| file | device | suite | case | message |\n"
                         "| --- | --- | --- | --- | --- |\n");
        header = true;
        fprintf(out, "| ");
        cell_text(out, model->files[row->file].path);
        fprintf(out, " | %s (%s) | %s | ", model->devices[row->device].label, row->device_id,
                row->suite);
        cell_text(out, row->case_name);
        fprintf(out, " | ");
        cell_text(out, row->message[0] ? row->message : "failed");
        fprintf(out, " |\n");
    }
}

int report_write_markdown(const report_model *model, const char *dir)
{
    FILE *out = report_open(dir, "report.md");
    if (!out) return 1;
    fprintf(out, "# porta report\n\nMade by porta %s (commit %s) from %d results file%s. The "
                 "merged table is in results.csv and results.jsonl.\n\n",
            porta_version(), PORTA_BUILD_COMMIT, model->n_files, model->n_files == 1 ? "" : "s");
    files_section(out, model);
    devices_section(out, model);
    throughput_section(out, model);
    peak_section(out, model);
    bind_section(out, model);
    error_section(out, model);
    breakdown_section(out, model);
    failures_section(out, model);
    return report_close(out, dir, "report.md");
}
