/* results.jsonl and results.csv: the merged table for spreadsheets, one row per (file, device,
 * suite, case) with the file's figures as they were (full precision; empty or null where a
 * figure does not apply). */
#include "host/report/report.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

typedef struct column {
    const char *name;
    int offset;                 /* of a double in report_row; -1 for text columns */
} column;

#define NUMBER(field) {#field, (int)offsetof(report_row, field)}

/* The numeric columns, in CSV order after the text ones. */
static const column numbers[] = {
    NUMBER(repetitions),
    {"min_ms", (int)offsetof(report_row, ms.min)},
    {"median_ms", (int)offsetof(report_row, ms.median)},
    {"max_ms", (int)offsetof(report_row, ms.max)},
    {"gflops_per_s", (int)offsetof(report_row, gflops)},
    {"gbytes_per_s", (int)offsetof(report_row, gbytes)},
    NUMBER(latency_us),
    {"peak_min", (int)offsetof(report_row, peak.min)},
    {"peak_max", (int)offsetof(report_row, peak.max)},
    {"max_abs_error", (int)offsetof(report_row, max_abs)},
    {"max_rel_error", (int)offsetof(report_row, max_rel)},
    NUMBER(flops),
    NUMBER(bytes),
    NUMBER(profile_ms),
};
#define N_NUMBERS (int)(sizeof numbers / sizeof numbers[0])

static double number_at(const report_row *row, int i)
{
    double v;
    memcpy(&v, (const char *)row + numbers[i].offset, sizeof v);
    return v;
}

/* The text columns of a row, in CSV order. */
#define N_TEXTS 10
static void texts_of(const report_model *model, const report_row *row, const char *out[N_TEXTS])
{
    const report_file *file = &model->files[row->file];
    const report_device *device = &model->devices[row->device];
    const char *values[N_TEXTS] = {file->path,     file->hostname, file->kind,     device->key,
                                   device->label,  row->device_id, row->suite,     row->case_name,
                                   row->status,    row->timed_by};
    memcpy(out, values, sizeof values);
}

static const char *const text_names[N_TEXTS] = {"file",   "host",   "kind",  "device_key",
                                                "column", "device", "suite", "case",
                                                "status", "timed_by"};

/* RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled. */
static void csv_field(FILE *out, const char *s)
{
    if (!strpbrk(s, ",\"\n\r")) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"') fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

static int write_csv(const report_model *model, const char *dir)
{
    FILE *out = report_open(dir, "results.csv");
    if (!out) return 1;
    for (int i = 0; i < N_TEXTS; i++) fprintf(out, "%s,", text_names[i]);
    for (int i = 0; i < N_NUMBERS; i++) fprintf(out, "%s,", numbers[i].name);
    fprintf(out, "message\r\n");
    for (int r = 0; r < model->n_rows; r++) {
        const report_row *row = &model->rows[r];
        const char *texts[N_TEXTS];
        texts_of(model, row, texts);
        for (int i = 0; i < N_TEXTS; i++) {
            csv_field(out, texts[i]);
            fputc(',', out);
        }
        for (int i = 0; i < N_NUMBERS; i++) {
            double v = number_at(row, i);
            if (!isnan(v)) fprintf(out, "%.17g", v);
            fputc(',', out);
        }
        csv_field(out, row->message);
        fprintf(out, "\r\n");
    }
    return report_close(out, dir, "results.csv");
}

static int write_jsonl(const report_model *model, const char *dir)
{
    FILE *out = report_open(dir, "results.jsonl");
    if (!out) return 1;
    int rc = 0;
    for (int r = 0; r < model->n_rows && !rc; r++) {
        const report_row *row = &model->rows[r];
        cJSON *line = cJSON_CreateObject();
        const char *texts[N_TEXTS];
        texts_of(model, row, texts);
        for (int i = 0; i < N_TEXTS; i++) cJSON_AddStringToObject(line, text_names[i], texts[i]);
        for (int i = 0; i < N_NUMBERS; i++) {
            double v = number_at(row, i);
            if (isnan(v))
                cJSON_AddNullToObject(line, numbers[i].name);
            else
                cJSON_AddNumberToObject(line, numbers[i].name, v);
        }
        cJSON_AddStringToObject(line, "message", row->message);
        if (row->n_ops) {
            cJSON *ops = cJSON_AddArrayToObject(line, "profile");
            for (int k = 0; k < row->n_ops; k++) {
                cJSON *op = cJSON_CreateObject();
                cJSON_AddStringToObject(op, "op", row->ops[k].op);
                cJSON_AddNumberToObject(op, "steps", row->ops[k].steps);
                cJSON_AddNumberToObject(op, "ms", row->ops[k].ms);
                cJSON_AddItemToArray(ops, op);
            }
        }
        char *text = cJSON_PrintUnformatted(line);
        if (!text || fprintf(out, "%s\n", text) < 0) rc = 1;
        cJSON_free(text);
        cJSON_Delete(line);
    }
    if (report_close(out, dir, "results.jsonl")) rc = 1;
    return rc;
}

int report_write_exports(const report_model *model, const char *dir)
{
    return write_csv(model, dir) || write_jsonl(model, dir);
}
