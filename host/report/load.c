/* Reading results files for `porta report`: each is checked against the schema (docs/cli.md)
 * before anything of it enters the model, so a bad file names itself and what is wrong. */
#include "host/report/report.h"
#include "host/stamp.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FILE_BYTES (256L << 20)

typedef struct reader {
    const char *path;
    char where[256];    /* "runs[3] (luong_step on opencl:0): " while an entry is read */
} reader;

static int fail(const reader *r, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    fprintf(stderr, "porta report: %s: %s", r->path, r->where);
    vfprintf(stderr, format, args);
    fputc('\n', stderr);
    va_end(args);
    return 1;
}

static bool grow(void **items, int count, size_t size)
{
    /* the capacity is 4, then doubles whenever the count reaches a power of two */
    if (count && (count < 4 || (count & (count - 1)))) return true;
    void *bigger = realloc(*items, (size_t)(count ? 2 * count : 4) * size);
    if (!bigger) return false;
    *items = bigger;
    return true;
}

static char *read_all(const reader *r, size_t *out_size)
{
    FILE *file = fopen(r->path, "rb");
    if (!file) {
        fail(r, "cannot open: %s", strerror(errno));
        return NULL;
    }
    char *text = NULL;
    size_t size = 0, capacity = 0;
    for (;;) {
        if (size + 65536 > capacity) {
            capacity = capacity ? 2 * capacity : 65536 * 2;
            char *bigger = capacity <= (size_t)MAX_FILE_BYTES ? realloc(text, capacity + 1) : NULL;
            if (!bigger) {
                fail(r, "larger than %ld MiB or out of memory", MAX_FILE_BYTES >> 20);
                free(text);
                fclose(file);
                return NULL;
            }
            text = bigger;
        }
        size_t n = fread(text + size, 1, capacity - size, file);
        size += n;
        if (n == 0) break;
    }
    bool bad = ferror(file);
    fclose(file);
    if (bad) {
        fail(r, "read error");
        free(text);
        return NULL;
    }
    text[size] = '\0';
    *out_size = size;
    return text;
}

/* "line L, column C" of a byte offset in `text`. */
static void position_of(const char *text, size_t offset, int *line, int *column)
{
    *line = 1;
    *column = 1;
    for (size_t i = 0; i < offset; i++) {
        if (text[i] == '\n') {
            ++*line;
            *column = 1;
        } else {
            ++*column;
        }
    }
}

/* Whether the text ends inside a string or with a bracket left open: cut short. */
static bool ends_early(const char *text, size_t size)
{
    long depth = 0;
    bool in_string = false, escaped = false;
    for (size_t i = 0; i < size; i++) {
        char c = text[i];
        if (in_string) {
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            depth--;
        }
    }
    return in_string || depth > 0;
}

static cJSON *parse(const reader *r)
{
    size_t size = 0;
    char *text = read_all(r, &size);
    if (!text) return NULL;
    const char *end = NULL;
    /* the terminating NUL counts: cJSON checks that nothing follows the value */
    cJSON *root = cJSON_ParseWithLengthOpts(text, size + 1, &end, true);
    if (!root) {
        size_t at = end && end >= text ? (size_t)(end - text) : size;
        int line, column;
        position_of(text, at, &line, &column);
        if (size == 0)
            fail(r, "empty file, not JSON");
        else if (ends_early(text, size))
            fail(r, "not valid JSON: it ends early, with a bracket or string left open "
                    "(truncated?)");
        else
            fail(r, "not valid JSON at line %d, column %d", line, column);
    }
    free(text);
    return root;
}

static const char *string_of(const reader *r, const cJSON *object, const char *name, bool required,
                             int *bad)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, name);
    if (cJSON_IsString(item)) return item->valuestring;
    if (item || required) *bad = fail(r, "'%s' is %s", name, item ? "not a string" : "missing");
    return "";
}

static double number_of(const reader *r, const cJSON *object, const char *name, bool required,
                        int *bad)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, name);
    if (cJSON_IsNumber(item)) return item->valuedouble;
    if ((item && !cJSON_IsNull(item)) || required)
        *bad = fail(r, "'%s' is %s", name, item ? "not a number" : "missing");
    return NAN;
}

static host_stats stats_of(const reader *r, const cJSON *object, const char *name, int *bad)
{
    host_stats s = {NAN, NAN, NAN};
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, name);
    if (!cJSON_IsObject(item)) {
        *bad = fail(r, "'%s' is not an object of min, median and max", name);
        return s;
    }
    reader inside = *r;     /* "results[2] (...): wall_ms: 'median' is missing" */
    size_t used = strlen(inside.where);
    snprintf(inside.where + used, sizeof inside.where - used, "%s: ", name);
    s.min = number_of(&inside, item, "min", true, bad);
    if (!*bad) s.median = number_of(&inside, item, "median", true, bad);
    if (!*bad) s.max = number_of(&inside, item, "max", true, bad);
    return s;
}

static void copy(char *out, size_t size, const char *text)
{
    snprintf(out, size, "%s", text);
}

/* The model's index of the device with this key, added (labelled D<n>) when new. */
static int device_index(report_model *model, const report_file *file, const cJSON *d, const char *key,
                        const reader *r, int *bad)
{
    int i = 0;
    while (i < model->n_devices && strcmp(model->devices[i].key, key)) i++;
    if (i == model->n_devices) {
        if (!grow((void **)&model->devices, model->n_devices, sizeof *model->devices)) {
            *bad = fail(r, "out of memory");
            return -1;
        }
        report_device *device = &model->devices[model->n_devices++];
        memset(device, 0, sizeof *device);
        copy(device->key, sizeof device->key, key);
        snprintf(device->label, sizeof device->label, "D%d", model->n_devices);
        copy(device->vendor, sizeof device->vendor, string_of(r, d, "vendor", true, bad));
        copy(device->name, sizeof device->name, string_of(r, d, "name", true, bad));
        copy(device->driver, sizeof device->driver, string_of(r, d, "driver_version", true, bad));
        copy(device->api, sizeof device->api, string_of(r, d, "api_version", false, bad));
        copy(device->backend, sizeof device->backend, string_of(r, d, "backend", false, bad));
        copy(device->type, sizeof device->type, string_of(r, d, "type", false, bad));
    }
    report_device *device = &model->devices[i];
    /* the hosts it was seen on, each once */
    const char *hosts = device->hosts;
    size_t n = strlen(file->hostname);
    bool seen = false;
    for (const char *at = hosts; at && *at;) {
        const char *comma = strstr(at, ", ");
        size_t length = comma ? (size_t)(comma - at) : strlen(at);
        if (length == n && !strncmp(at, file->hostname, n)) seen = true;
        at = comma ? comma + 2 : NULL;
    }
    if (!seen) {
        size_t used = strlen(device->hosts);
        snprintf(device->hosts + used, sizeof device->hosts - used, "%s%s", used ? ", " : "",
                 file->hostname);
    }
    return i;
}

typedef struct file_devices {
    int count;
    char ids[64][64];
    int index[64];          /* into the model's devices */
    int results[64];        /* how many results name it */
} file_devices;

static int read_devices(report_model *model, const report_file *file, const cJSON *root,
                        reader *r, file_devices *out)
{
    const cJSON *devices = cJSON_GetObjectItemCaseSensitive(root, "devices");
    if (!cJSON_IsArray(devices)) return fail(r, "'devices' is missing or not a list");
    int bad = 0, at = 0;
    const cJSON *d;
    cJSON_ArrayForEach(d, devices) {
        snprintf(r->where, sizeof r->where, "devices[%d]: ", at++);
        if (!cJSON_IsObject(d)) return fail(r, "not an object");
        const char *id = string_of(r, d, "id", true, &bad);
        const char *key = string_of(r, d, "key", true, &bad);
        if (bad) return 1;
        if (!key[0]) return fail(r, "the device key is empty");
        if (out->count == 64) return fail(r, "more than 64 devices in one file");
        for (int i = 0; i < out->count; i++)
            if (!strcmp(out->ids[i], id)) return fail(r, "device id '%s' is listed twice", id);
        copy(out->ids[out->count], sizeof out->ids[0], id);
        out->index[out->count] = device_index(model, file, d, key, r, &bad);
        out->results[out->count++] = 0;
        if (bad) return 1;
    }
    r->where[0] = '\0';
    return 0;
}

static int read_profile(reader *r, const cJSON *run, report_row *row)
{
    const cJSON *profile = cJSON_GetObjectItemCaseSensitive(run, "profile");
    if (!profile) return 0;
    if (!cJSON_IsArray(profile)) return fail(r, "'profile' is not a list");
    int n = cJSON_GetArraySize(profile), bad = 0;
    row->ops = n ? calloc((size_t)n, sizeof *row->ops) : NULL;
    if (n && !row->ops) return fail(r, "out of memory");
    const cJSON *op;
    cJSON_ArrayForEach(op, profile) {
        report_op *o = &row->ops[row->n_ops++];
        copy(o->op, sizeof o->op, string_of(r, op, "op", true, &bad));
        o->steps = number_of(r, op, "steps", false, &bad);
        o->ms = number_of(r, op, "ms", true, &bad);
        if (bad) return 1;
    }
    row->profile_ms = number_of(r, run, "profile_ms", true, &bad);
    return bad;
}

static void clear_row(report_row *row)
{
    memset(row, 0, sizeof *row);
    row->repetitions = row->flops = row->bytes = row->gflops = row->gbytes = NAN;
    row->latency_us = row->max_abs = row->max_rel = row->profile_ms = NAN;
    row->ms.min = row->ms.median = row->ms.max = NAN;
    row->peak = row->ms;
}

static void read_measured(reader *r, const cJSON *entry, report_row *row, int *bad)
{
    row->flops = number_of(r, entry, "flops", false, bad);
    row->bytes = number_of(r, entry, "bytes", false, bad);
    row->max_abs = number_of(r, entry, "max_abs_error", true, bad);
    row->max_rel = number_of(r, entry, "max_rel_error", false, bad);
}

static int read_compare_run(reader *r, const cJSON *run, report_row *row)
{
    int bad = 0;
    copy(row->suite, sizeof row->suite, REPORT_COMPARE_SUITE);
    copy(row->case_name, sizeof row->case_name, string_of(r, run, "graph", true, &bad));
    if (bad || !strcmp(row->status, "failed")) {
        copy(row->message, sizeof row->message, string_of(r, run, "error", false, &bad));
        return bad;
    }
    copy(row->timed_by, sizeof row->timed_by, "wall");
    row->ms.min = number_of(r, run, "min_ms", true, &bad);
    row->ms.median = number_of(r, run, "median_ms", true, &bad);
    row->ms.max = number_of(r, run, "max_ms", true, &bad);
    row->gflops = number_of(r, run, "gflops", true, &bad);
    row->gbytes = number_of(r, run, "gbytes_per_s", true, &bad);
    read_measured(r, run, row, &bad);
    return bad || read_profile(r, run, row);
}

static int read_bench_result(reader *r, const cJSON *result, report_row *row)
{
    int bad = 0;
    copy(row->suite, sizeof row->suite, string_of(r, result, "suite", true, &bad));
    copy(row->case_name, sizeof row->case_name, string_of(r, result, "case", true, &bad));
    copy(row->message, sizeof row->message, string_of(r, result, "message", false, &bad));
    if (bad || !strcmp(row->status, "failed")) return bad;
    row->repetitions = number_of(r, result, "repetitions", true, &bad);
    if (!strcmp(row->suite, "peak")) {
        copy(row->timed_by, sizeof row->timed_by, string_of(r, result, "timed_by", false, &bad));
        row->peak = stats_of(r, result, "values", &bad);
        const char *unit = !strcmp(row->case_name, "fma_f32")     ? "gflops_per_s"
                           : !strcmp(row->case_name, "bandwidth") ? "gbytes_per_s"
                           : !strcmp(row->case_name, "latency")   ? "latency_us"
                                                                  : NULL;
        if (!unit) return fail(r, "unknown peak case '%s'", row->case_name);
        double value = number_of(r, result, unit, true, &bad);
        *(!strcmp(unit, "gflops_per_s")   ? &row->gflops
          : !strcmp(unit, "gbytes_per_s") ? &row->gbytes
                                          : &row->latency_us) = value;
        return bad;
    }
    if (!strcmp(row->suite, "bind")) {
        /* milliseconds of binding a length or of a program per length (porta bench bind) */
        copy(row->timed_by, sizeof row->timed_by, "wall");
        row->ms = stats_of(r, result, "values", &bad);
        return bad;
    }
    if (!strcmp(row->suite, "dispatch")) {
        host_stats each = stats_of(r, result, "waited_each_us", &bad);
        row->latency_us = each.median;
        row->peak = each;
        return bad;
    }
    const char *rates_from = string_of(r, result, "rates_from", true, &bad);
    if (bad) return 1;
    if (strcmp(rates_from, "device_ms") && strcmp(rates_from, "wall_ms"))
        return fail(r, "'rates_from' is '%s', not device_ms or wall_ms", rates_from);
    row->ms = stats_of(r, result, rates_from, &bad);
    copy(row->timed_by, sizeof row->timed_by, !strcmp(rates_from, "device_ms") ? "device" : "wall");
    row->gflops = number_of(r, result, "gflops_per_s", true, &bad);
    row->gbytes = number_of(r, result, "gbytes_per_s", true, &bad);
    read_measured(r, result, row, &bad);
    return bad;
}

static int read_entries(report_model *model, int file_index, const cJSON *root, reader *r,
                        file_devices *devices)
{
    const char *kind = model->files[file_index].kind;
    const char *list_name = !strcmp(kind, "compare") ? "runs" : "results";
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(root, list_name);
    if (!cJSON_IsArray(list)) return fail(r, "'%s' is missing or not a list", list_name);
    int at = 0;
    const cJSON *entry;
    cJSON_ArrayForEach(entry, list) {
        snprintf(r->where, sizeof r->where, "%s[%d]: ", list_name, at++);
        if (!cJSON_IsObject(entry)) return fail(r, "not an object");
        int bad = 0;
        const char *id = string_of(r, entry, "device", true, &bad);
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(entry, strcmp(kind, "compare") ? "case"
                                                                                              : "graph");
        if (!bad && cJSON_IsString(name))   /* the entry by what it measured, for the messages */
            snprintf(r->where, sizeof r->where, "%s[%d] (%.80s on %.40s): ", list_name, at - 1,
                     name->valuestring, id);
        const char *status = string_of(r, entry, "status", true, &bad);
        if (bad) return 1;
        int d = 0;
        while (d < devices->count && strcmp(devices->ids[d], id)) d++;
        if (d == devices->count) return fail(r, "device '%s' is not in the file's devices", id);
        if (strcmp(status, "ok") && strcmp(status, "outside") && strcmp(status, "failed"))
            return fail(r, "status '%s' is not ok, outside or failed", status);
        const cJSON *key = cJSON_GetObjectItemCaseSensitive(entry, "device_key");
        if (key && (!cJSON_IsString(key) ||
                    strcmp(key->valuestring, model->devices[devices->index[d]].key)))
            return fail(r, "'device_key' differs from the key of '%s' in the file's devices", id);
        if (!grow((void **)&model->rows, model->n_rows, sizeof *model->rows))
            return fail(r, "out of memory");
        report_row *row = &model->rows[model->n_rows++];
        clear_row(row);
        row->file = file_index;
        row->device = devices->index[d];
        copy(row->device_id, sizeof row->device_id, id);
        copy(row->status, sizeof row->status, status);
        devices->results[d]++;
        if (!strcmp(kind, "compare")) row->repetitions = model->files[file_index].repeat;
        if (!strcmp(kind, "compare") ? read_compare_run(r, entry, row)
                                     : read_bench_result(r, entry, row))
            return 1;
    }
    r->where[0] = '\0';
    return 0;
}

static int warn(report_model *model, const char *format, ...)
{
    if (!grow((void **)&model->warnings, model->n_warnings, sizeof *model->warnings)) return 1;
    va_list args;
    va_start(args, format);
    vsnprintf(model->warnings[model->n_warnings].text, sizeof model->warnings[0].text, format, args);
    va_end(args);
    fprintf(stderr, "porta report: warning: %s\n", model->warnings[model->n_warnings++].text);
    return 0;
}

static int read_header(reader *r, const cJSON *root, report_file *file)
{
    if (!cJSON_IsObject(root)) return fail(r, "not a JSON object: not a porta results file");
    const cJSON *schema = cJSON_GetObjectItemCaseSensitive(root, "schema");
    if (!cJSON_IsString(schema))
        return fail(r, "no 'schema' field: not a porta results file (porta compare, bench or "
                       "devices --json)");
    if (strcmp(schema->valuestring, HOST_RESULTS_SCHEMA))
        return fail(r, "schema '%s' is not %s", schema->valuestring, HOST_RESULTS_SCHEMA);
    const cJSON *version = cJSON_GetObjectItemCaseSensitive(root, "schema_version");
    if (!cJSON_IsNumber(version))
        return fail(r, "'schema_version' is missing or not a number");
    if (version->valuedouble != HOST_RESULTS_SCHEMA_VERSION)
        return fail(r, "schema_version %g, but this porta reads schema_version %d", version->valuedouble,
                    HOST_RESULTS_SCHEMA_VERSION);
    int bad = 0;
    const char *kind = string_of(r, root, "kind", true, &bad);
    if (bad) return 1;
    if (strcmp(kind, "compare") && strcmp(kind, "bench") && strcmp(kind, "devices"))
        return fail(r, "kind '%s' is not one porta report reads (compare, bench, devices)", kind);
    copy(file->kind, sizeof file->kind, kind);
    copy(file->created, sizeof file->created, string_of(r, root, "created", true, &bad));
    const cJSON *porta = cJSON_GetObjectItemCaseSensitive(root, "porta");
    const cJSON *host = cJSON_GetObjectItemCaseSensitive(root, "host");
    if (!cJSON_IsObject(porta)) return fail(r, "'porta' is missing or not an object");
    if (!cJSON_IsObject(host)) return fail(r, "'host' is missing or not an object");
    copy(file->version, sizeof file->version, string_of(r, porta, "version", true, &bad));
    copy(file->commit, sizeof file->commit, string_of(r, porta, "commit", true, &bad));
    copy(file->hostname, sizeof file->hostname, string_of(r, host, "hostname", true, &bad));
    copy(file->os, sizeof file->os, string_of(r, host, "os", false, &bad));
    copy(file->kernel, sizeof file->kernel, string_of(r, host, "kernel", false, &bad));
    copy(file->cpu, sizeof file->cpu, string_of(r, host, "cpu", false, &bad));
    file->cores = number_of(r, host, "cores", false, &bad);
    bool measured = strcmp(kind, "devices") != 0;
    file->seed = number_of(r, root, "seed", measured, &bad);
    file->repeat = number_of(r, root, "repeat", measured, &bad);
    return bad;
}

int report_load(report_model *model, const char *path)
{
    reader r = {.path = path, .where = ""};
    cJSON *root = parse(&r);
    if (!root) return 1;
    report_file file = {0};
    copy(file.path, sizeof file.path, path);
    int rc = read_header(&r, root, &file);
    if (!rc && !grow((void **)&model->files, model->n_files, sizeof *model->files))
        rc = fail(&r, "out of memory");
    file_devices *devices = rc ? NULL : calloc(1, sizeof *devices);
    if (!rc && !devices) rc = fail(&r, "out of memory");
    if (!rc) {
        model->files[model->n_files++] = file;
        rc = read_devices(model, &file, root, &r, devices);
    }
    if (!rc && strcmp(file.kind, "devices")) {
        rc = read_entries(model, model->n_files - 1, root, &r, devices);
        for (int d = 0; !rc && d < devices->count; d++)
            if (!devices->results[d])
                rc = warn(model, "%s: device %s (%s, %s) has no results in this file", path,
                          devices->ids[d], model->devices[devices->index[d]].label,
                          model->devices[devices->index[d]].key);
        if (!rc && devices->count == 0)
            rc = warn(model, "%s: lists no device, so it has no results", path);
    }
    free(devices);
    cJSON_Delete(root);
    return rc;
}

void report_model_free(report_model *model)
{
    for (int i = 0; i < model->n_rows; i++) free(model->rows[i].ops);
    free(model->rows);
    free(model->devices);
    free(model->files);
    free(model->warnings);
    memset(model, 0, sizeof *model);
}
