/* Safetensors weights: the file is memory-mapped read-only, its JSON header parsed with cJSON and
 * every entry checked against the file before any tensor is read. docs/weights.md has the format
 * subset and the conversions. */
#include "graphs/graph.h"
#include "graphs/half.h"
#include "graphs/weights.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define HEADER_LIMIT (100u * 1024u * 1024u) /* the limit the reference implementation uses too */

/* Every dtype of the safetensors format; the first four are the ones porta reads. */
enum {
    ST_F32 = 0,
    ST_F16,
    ST_BF16,
    ST_I32,
    ST_USABLE_COUNT,
};

static const struct {
    const char *name;
    unsigned size;
} st_dtypes[] = {
    {"F32", 4},  {"F16", 2}, {"BF16", 2}, {"I32", 4},     {"F64", 8},     {"I64", 8},
    {"I16", 2},  {"I8", 1},  {"U8", 1},   {"U16", 2},     {"U32", 4},     {"U64", 8},
    {"BOOL", 1}, {"F8_E4M3", 1}, {"F8_E5M2", 1},
};
#define ST_DTYPE_COUNT ((int)(sizeof st_dtypes / sizeof st_dtypes[0]))

/* ---- messages -------------------------------------------------------------------------------- */

/* "path: tensor 'name': message", or "path: message" when tensor is NULL. */
static porta_status fail(porta_context *context, porta_status status, const char *path,
                         const char *tensor, const char *format, ...) PORTA_PRINTF(5, 6);
static porta_status fail(porta_context *context, porta_status status, const char *path,
                         const char *tensor, const char *format, ...)
{
    char message[PORTA_ERROR_MAX];
    va_list args;
    va_start(args, format);
    vsnprintf(message, sizeof message, format, args);
    va_end(args);
    if (tensor) return porta_error(context, status, "%s: tensor '%s': %s", path, tensor, message);
    return porta_error(context, status, "%s: %s", path, message);
}

static void format_dims(int rank, const int64_t *dims, char *out, size_t size)
{
    size_t used = (size_t)snprintf(out, size, "[");
    for (int i = 0; i < rank && used < size; i++)
        used += (size_t)snprintf(out + used, size - used, i ? ", %lld" : "%lld", (long long)dims[i]);
    if (used < size) snprintf(out + used, size - used, "]");
}

/* ---- reading the header ---------------------------------------------------------------------- */

static uint64_t load_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

/* A JSON number that is a non-negative integer exactly representable in a double. */
static bool json_count(const cJSON *item, uint64_t *out)
{
    if (!cJSON_IsNumber(item)) return false;
    double d = item->valuedouble;
    if (!(d >= 0.0 && d <= 9007199254740992.0) || d != floor(d)) return false;
    *out = (uint64_t)d;
    return true;
}

static const char *json_kind(const cJSON *item)
{
    if (cJSON_IsArray(item)) return "an array";
    if (cJSON_IsString(item)) return "a string";
    if (cJSON_IsNumber(item)) return "a number";
    if (cJSON_IsBool(item)) return "a boolean";
    if (cJSON_IsNull(item)) return "null";
    return "an object";
}

void weights_free_entries(weight_entry *entries, int count)
{
    for (int i = 0; i < count; i++) {
        free(entries[i].name);
        free(entries[i].dtype);
        free(entries[i].dims);
    }
    free(entries);
}

/* Fills one entry from its JSON description, checking it against the data section. */
static porta_status read_entry(porta_weights *w, const cJSON *item, weight_entry *entry)
{
    porta_context *ctx = w->context;
    const char *path = w->path, *name = item->string;
    entry->data = w->data;
    if (!(entry->name = porta_strdup(name)))
        return fail(ctx, PORTA_ERROR_OUT_OF_MEMORY, path, NULL, "out of memory");
    if (!cJSON_IsObject(item))
        return fail(ctx, PORTA_ERROR_PARSE, path, name, "entry is %s, not an object", json_kind(item));

    const cJSON *dtype = cJSON_GetObjectItemCaseSensitive(item, "dtype");
    if (!dtype) return fail(ctx, PORTA_ERROR_PARSE, path, name, "entry has no \"dtype\"");
    if (!cJSON_IsString(dtype) || !dtype->valuestring)
        return fail(ctx, PORTA_ERROR_PARSE, path, name, "\"dtype\" is %s, not a string",
                    json_kind(dtype));
    if (!(entry->dtype = porta_strdup(dtype->valuestring)))
        return fail(ctx, PORTA_ERROR_OUT_OF_MEMORY, path, NULL, "out of memory");
    entry->type = -1;
    for (int t = 0; t < ST_DTYPE_COUNT; t++)
        if (!strcmp(entry->dtype, st_dtypes[t].name)) entry->type = t;

    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(item, "shape");
    if (!shape) return fail(ctx, PORTA_ERROR_PARSE, path, name, "entry has no \"shape\"");
    if (!cJSON_IsArray(shape))
        return fail(ctx, PORTA_ERROR_PARSE, path, name, "\"shape\" is %s, not an array",
                    json_kind(shape));
    int rank = cJSON_GetArraySize(shape);
    entry->rank = rank;
    if (rank > 0 && !(entry->dims = calloc((size_t)rank, sizeof *entry->dims)))
        return fail(ctx, PORTA_ERROR_OUT_OF_MEMORY, path, NULL, "out of memory");
    int i = 0;
    const cJSON *dim;
    cJSON_ArrayForEach(dim, shape) {
        uint64_t value;
        if (cJSON_IsNumber(dim) && dim->valuedouble < 0)
            return fail(ctx, PORTA_ERROR_PARSE, path, name,
                        "shape dim %d is %g; dims must be non-negative", i, dim->valuedouble);
        if (!json_count(dim, &value))
            return fail(ctx, PORTA_ERROR_PARSE, path, name,
                        "shape dim %d is not a non-negative integer (%s)", i, json_kind(dim));
        entry->dims[i++] = (int64_t)value;
    }

    const cJSON *offsets = cJSON_GetObjectItemCaseSensitive(item, "data_offsets");
    if (!offsets) return fail(ctx, PORTA_ERROR_PARSE, path, name, "entry has no \"data_offsets\"");
    uint64_t begin, end;
    if (!cJSON_IsArray(offsets) || cJSON_GetArraySize(offsets) != 2 ||
        !json_count(cJSON_GetArrayItem(offsets, 0), &begin) ||
        !json_count(cJSON_GetArrayItem(offsets, 1), &end))
        return fail(ctx, PORTA_ERROR_PARSE, path, name,
                    "\"data_offsets\" is not [begin, end] with non-negative integers");
    entry->begin = begin;
    entry->end = end;
    if (begin > end)
        return fail(ctx, PORTA_ERROR_PARSE, path, name,
                    "data_offsets [%llu, %llu] are reversed (begin > end)",
                    (unsigned long long)begin, (unsigned long long)end);
    if (end > w->data_size)
        return fail(ctx, PORTA_ERROR_PARSE, path, name,
                    "data_offsets [%llu, %llu] run past the end of the data section (%llu bytes)",
                    (unsigned long long)begin, (unsigned long long)end,
                    (unsigned long long)w->data_size);

    /* Only a dtype of the format has a size to check; an unknown one is listed as unusable. */
    if (entry->type < 0) return PORTA_OK;
    char dims_text[256];
    format_dims(rank, entry->dims, dims_text, sizeof dims_text);
    uint64_t bytes = st_dtypes[entry->type].size;
    for (int d = 0; d < rank; d++) {
        uint64_t n = (uint64_t)entry->dims[d];
        if (n != 0 && bytes > UINT64_MAX / n)
            return fail(ctx, PORTA_ERROR_PARSE, path, name,
                        "the byte size of %s%s overflows 64 bits", entry->dtype, dims_text);
        bytes *= n;
    }
    if (bytes != end - begin)
        return fail(ctx, PORTA_ERROR_PARSE, path, name,
                    "data_offsets [%llu, %llu] span %llu bytes, but %s%s needs %llu",
                    (unsigned long long)begin, (unsigned long long)end,
                    (unsigned long long)(end - begin), entry->dtype, dims_text,
                    (unsigned long long)bytes);
    return PORTA_OK;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(((const weight_entry *)a)->name, ((const weight_entry *)b)->name);
}

/* Checks that no two non-empty byte ranges share a byte. */
static porta_status check_overlaps(porta_weights *w)
{
    int n = w->n_entries;
    if (n < 2) return PORTA_OK;
    const weight_entry **order = malloc((size_t)n * sizeof *order);
    if (!order) return fail(w->context, PORTA_ERROR_OUT_OF_MEMORY, w->path, NULL, "out of memory");
    for (int i = 0; i < n; i++) order[i] = &w->entries[i];
    /* Pointers in order of begin, by a bottom-up merge sort (qsort would need a global or the
     * non-standard qsort_r to break ties; this is stable and simple). */
    const weight_entry **scratch = malloc((size_t)n * sizeof *scratch);
    if (!scratch) {
        free(order);
        return fail(w->context, PORTA_ERROR_OUT_OF_MEMORY, w->path, NULL, "out of memory");
    }
    for (int width = 1; width < n; width *= 2) {
        for (int lo = 0; lo < n; lo += 2 * width) {
            int mid = lo + width < n ? lo + width : n, hi = lo + 2 * width < n ? lo + 2 * width : n;
            int a = lo, b = mid, k = lo;
            while (a < mid && b < hi) scratch[k++] = order[b]->begin < order[a]->begin ? order[b++] : order[a++];
            while (a < mid) scratch[k++] = order[a++];
            while (b < hi) scratch[k++] = order[b++];
        }
        const weight_entry **swap = order;
        order = scratch;
        scratch = swap;
    }
    porta_status status = PORTA_OK;
    const weight_entry *previous = NULL;
    for (int i = 0; i < n && status == PORTA_OK; i++) {
        const weight_entry *e = order[i];
        if (e->begin == e->end) continue;
        if (previous && e->begin < previous->end)
            status = fail(w->context, PORTA_ERROR_PARSE, w->path, NULL,
                          "tensors '%s' [%llu, %llu] and '%s' [%llu, %llu] overlap", previous->name,
                          (unsigned long long)previous->begin, (unsigned long long)previous->end,
                          e->name, (unsigned long long)e->begin, (unsigned long long)e->end);
        if (!previous || e->end > previous->end) previous = e;
    }
    free(order);
    free(scratch);
    return status;
}

static porta_status parse_header(porta_weights *w, const char *text, size_t length)
{
    porta_context *ctx = w->context;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, length, &end, false);
    if (!root) {
        size_t at = end && end >= text && end <= text + length ? (size_t)(end - text) : 0;
        return fail(ctx, PORTA_ERROR_PARSE, w->path, NULL,
                    "the header is not valid JSON (near byte %zu of %zu)", at, length);
    }
    /* The format pads the header with spaces; anything else after the JSON value is an error. */
    for (const char *p = end; p < text + length; p++)
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
            cJSON_Delete(root);
            return fail(ctx, PORTA_ERROR_PARSE, w->path, NULL,
                        "the header has bytes after its JSON value (at byte %zu of %zu)",
                        (size_t)(p - text), length);
        }
    if (!cJSON_IsObject(root)) {
        const char *kind = json_kind(root);
        cJSON_Delete(root);
        return fail(ctx, PORTA_ERROR_PARSE, w->path, NULL, "the header is %s, not a JSON object",
                    kind);
    }

    int count = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, root) count++;
    porta_status status = PORTA_OK;
    if (count && !(w->entries = calloc((size_t)count, sizeof *w->entries)))
        status = fail(ctx, PORTA_ERROR_OUT_OF_MEMORY, w->path, NULL, "out of memory");
    cJSON_ArrayForEach(item, root) {
        if (status != PORTA_OK) break;
        if (!item->string) continue;
        if (!strcmp(item->string, "__metadata__")) {
            if (!cJSON_IsObject(item))
                status = fail(ctx, PORTA_ERROR_PARSE, w->path, NULL,
                              "\"__metadata__\" is %s, not an object", json_kind(item));
            continue;
        }
        status = read_entry(w, item, &w->entries[w->n_entries++]);
    }
    cJSON_Delete(root);
    if (status != PORTA_OK) return status;

    if (w->n_entries > 1) qsort(w->entries, (size_t)w->n_entries, sizeof *w->entries, compare_names);
    for (int i = 1; i < w->n_entries; i++)
        if (!strcmp(w->entries[i - 1].name, w->entries[i].name))
            return fail(ctx, PORTA_ERROR_PARSE, w->path, w->entries[i].name,
                        "appears more than once in the header");
    return check_overlaps(w);
}

porta_status porta_weights_open(porta_context *context, const char *path, porta_weights **out)
{
    if (!out) return porta_error(context, PORTA_ERROR_INVALID_ARGUMENT,
                                 "porta_weights_open: out_weights is NULL");
    *out = NULL;
    if (!context) return PORTA_ERROR_INVALID_ARGUMENT;
    porta_error_clear(context);
    if (!path) return porta_error(context, PORTA_ERROR_INVALID_ARGUMENT,
                                  "porta_weights_open: path is NULL");
    return weights_open_checkpoint(context, path, out);
}

porta_status weights_open_file(porta_context *context, const char *path, porta_weights **out)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fail(context, PORTA_ERROR_IO, path, NULL, "cannot open: %s", strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int error = errno;
        close(fd);
        return fail(context, PORTA_ERROR_IO, path, NULL, "cannot stat: %s", strerror(error));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return fail(context, PORTA_ERROR_IO, path, NULL,
                    S_ISDIR(st.st_mode) ? "is a directory, not a file" : "not a regular file");
    }
    uint64_t size = (uint64_t)st.st_size;
    if (size < 8) {
        close(fd);
        return fail(context, PORTA_ERROR_PARSE, path, NULL,
                    "the file is %llu bytes; a safetensors file begins with an 8-byte header length",
                    (unsigned long long)size);
    }
    if (size > SIZE_MAX) {
        close(fd);
        return fail(context, PORTA_ERROR_UNSUPPORTED, path, NULL, "too large to map");
    }
    void *map = mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, fd, 0);
    int map_error = errno;
    close(fd);
    if (map == MAP_FAILED)
        return fail(context, PORTA_ERROR_IO, path, NULL, "cannot map: %s", strerror(map_error));

    porta_weights *w = calloc(1, sizeof *w);
    if (!w || !(w->path = porta_strdup(path))) {
        free(w);
        munmap(map, (size_t)size);
        return porta_error(context, PORTA_ERROR_OUT_OF_MEMORY, "%s: out of memory", path);
    }
    w->context = context;
    w->map = map;
    w->map_size = (size_t)size;
    w->serial = ++context->weights_opened;

    porta_status status = PORTA_OK;
    uint64_t header_length = load_le64(w->map);
    if (header_length > size - 8)
        status = fail(context, PORTA_ERROR_PARSE, path, NULL,
                      "the header length %llu runs past the end of the file (%llu bytes after the "
                      "length)", (unsigned long long)header_length, (unsigned long long)(size - 8));
    else if (header_length > HEADER_LIMIT)
        status = fail(context, PORTA_ERROR_PARSE, path, NULL,
                      "the header length %llu is over the limit of %u bytes",
                      (unsigned long long)header_length, HEADER_LIMIT);
    else if (header_length == 0)
        status = fail(context, PORTA_ERROR_PARSE, path, NULL, "the header is empty");
    if (status == PORTA_OK) {
        w->data = w->map + 8 + header_length;
        w->data_size = size - 8 - header_length;
        /* cJSON reads a private, terminated copy: the mapping has no guard after the header. */
        char *text = malloc((size_t)header_length + 1);
        if (!text) {
            status = fail(context, PORTA_ERROR_OUT_OF_MEMORY, path, NULL, "out of memory");
        } else {
            memcpy(text, w->map + 8, (size_t)header_length);
            text[header_length] = '\0';
            status = parse_header(w, text, (size_t)header_length);
            free(text);
        }
    }
    if (status != PORTA_OK) {
        porta_weights_close(w);
        return status;
    }
    porta_log(context, PORTA_LOG_INFO, "%s: %d tensors, %llu bytes of data", path, w->n_entries,
              (unsigned long long)w->data_size);
    *out = w;
    return PORTA_OK;
}

void porta_weights_close(porta_weights *weights)
{
    if (!weights) return;
    if (weights->map) munmap((void *)weights->map, weights->map_size);
    weights_free_entries(weights->entries, weights->n_entries);
    for (int i = 0; i < weights->n_shards; i++) porta_weights_close(weights->shards[i]);
    free(weights->shards);
    free(weights->path);
    free(weights);
}

/* ---- inspection ------------------------------------------------------------------------------ */

static bool entry_usable(const weight_entry *e)
{
    return e->type >= 0 && e->type < ST_USABLE_COUNT && e->rank <= PORTA_MAX_RANK;
}

int porta_weights_count(const porta_weights *weights)
{
    return weights ? weights->n_entries : 0;
}

porta_status porta_weights_info(const porta_weights *weights, int index, porta_weight_info *out)
{
    if (!out) return PORTA_ERROR_INVALID_ARGUMENT;
    *out = (porta_weight_info){0};
    if (!weights) return PORTA_ERROR_INVALID_ARGUMENT;
    porta_error_clear(weights->context);
    if (index < 0 || index >= weights->n_entries)
        return porta_error(weights->context, PORTA_ERROR_INVALID_ARGUMENT,
                           "porta_weights_info: index %d is not in 0..%d", index,
                           weights->n_entries - 1);
    const weight_entry *e = &weights->entries[index];
    *out = (porta_weight_info){
        .name = e->name, .dtype = e->dtype, .usable = entry_usable(e), .rank = e->rank,
        .dims = e->dims, .offset = e->begin, .bytes = e->end - e->begin,
    };
    return PORTA_OK;
}

const weight_entry *weights_find_entry(const porta_weights *w, const char *key)
{
    int lo = 0, hi = w->n_entries - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        int c = strcmp(key, w->entries[mid].name);
        if (c == 0) return &w->entries[mid];
        if (c < 0) hi = mid - 1;
        else lo = mid + 1;
    }
    return NULL;
}

int porta_weights_find(const porta_weights *weights, const char *key)
{
    if (!weights || !key) return -1;
    const weight_entry *e = weights_find_entry(weights, key);
    return e ? (int)(e - weights->entries) : -1;
}

/* The name closest to `key`, when close enough to be a likely typo or a prefix difference; NULL
 * otherwise. */
static const char *closest_name(const porta_weights *w, const char *key)
{
    size_t limit = strlen(key) / 3 > 2 ? strlen(key) / 3 : 2, best = SIZE_MAX;
    const char *name = NULL;
    for (int i = 0; i < w->n_entries; i++) {
        const char *candidate = w->entries[i].name;
        size_t d = porta_prefix_differs(key, candidate) ? 1 : porta_edit_distance(key, candidate);
        if (d <= limit && d < best) {
            best = d;
            name = w->entries[i].name;
        }
    }
    return name;
}

/* ---- binding and reading ---------------------------------------------------------------------- */

typedef enum bind_problem {
    BIND_OK = 0,
    BIND_MISSING,
    BIND_UNKNOWN_DTYPE,  /* a dtype porta cannot read at all */
    BIND_RANK,           /* more dims than porta supports */
    BIND_SHAPE,
    BIND_DTYPE,          /* readable, but not as the dtype asked for */
} bind_problem;

static bool converts(int type, porta_dtype want)
{
    switch (type) {
    case ST_F32:
    case ST_F16:
    case ST_BF16: return want == PORTA_F32 || want == PORTA_F16;
    case ST_I32: return want == PORTA_I32;
    }
    return false;
}

static bind_problem check_bind(const porta_weights *w, const weight_entry *e, porta_dtype want,
                               const porta_shape *shape)
{
    if (!e) return BIND_MISSING;
    /* int8 values with their scales read as floats (weights_int8.c) */
    bool int8 = weights_int8_scale(w, e) != NULL;
    if (!int8 && (e->type < 0 || e->type >= ST_USABLE_COUNT)) return BIND_UNKNOWN_DTYPE;
    if (e->rank > PORTA_MAX_RANK) return BIND_RANK;
    if (shape) {
        if (shape->rank != e->rank) return BIND_SHAPE;
        for (int i = 0; i < e->rank; i++)
            if (shape->dims[i] != e->dims[i]) return BIND_SHAPE;
    }
    if (int8 ? want != PORTA_F32 : !converts(e->type, want)) return BIND_DTYPE;
    return BIND_OK;
}

static porta_status problem_status(bind_problem problem)
{
    switch (problem) {
    case BIND_OK: return PORTA_OK;
    case BIND_MISSING: return PORTA_ERROR_NOT_FOUND;
    case BIND_UNKNOWN_DTYPE:
    case BIND_RANK: return PORTA_ERROR_UNSUPPORTED;
    case BIND_SHAPE:
    case BIND_DTYPE: return PORTA_ERROR_SHAPE;
    }
    return PORTA_ERROR_INVALID_ARGUMENT;
}

/* What is wrong, as a clause that follows the weight's name in a message. */
static void describe_problem(const porta_weights *w, const char *key, const weight_entry *e,
                             bind_problem problem, porta_dtype want, const porta_shape *shape,
                             char *out, size_t size)
{
    char have[256] = "", asked[256] = "";
    if (e) format_dims(e->rank, e->dims, have, sizeof have);
    if (shape) format_dims(shape->rank, shape->dims, asked, sizeof asked);
    const char *want_name = porta_dtype_name(want) ? porta_dtype_name(want) : "?";
    switch (problem) {
    case BIND_OK: snprintf(out, size, "is fine"); break;
    case BIND_MISSING: {
        const char *close = closest_name(w, key);
        if (close) snprintf(out, size, "is not in %s (did you mean '%s'?)", w->path, close);
        else snprintf(out, size, "is not in %s", w->path);
        break;
    }
    case BIND_UNKNOWN_DTYPE:
        snprintf(out, size, "is %s%s in %s; porta reads only F32, F16, BF16 and I32 (and I8 with "
                 "a '.scale')", e->dtype, have, w->path);
        break;
    case BIND_RANK:
        snprintf(out, size, "is %s%s in %s; porta supports at most %d dims", e->dtype, have,
                 w->path, PORTA_MAX_RANK);
        break;
    case BIND_SHAPE:
        snprintf(out, size, "is %s%s in %s, not %s%s as declared", e->dtype, have, w->path,
                 want_name, asked);
        break;
    case BIND_DTYPE:
        snprintf(out, size, "is %s%s in %s, which does not convert to %s", e->dtype, have, w->path,
                 want_name);
        break;
    }
}

static uint16_t load_le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t load_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static float load_f32(const uint8_t *p, int type)
{
    switch (type) {
    case ST_F16: return porta_f16_to_f32(load_le16(p));
    case ST_BF16: return porta_bf16_to_f32(load_le16(p));
    default: {
        uint32_t bits = load_le32(p);
        float value;
        memcpy(&value, &bits, sizeof value);
        return value;
    }
    }
}

static void convert(const uint8_t *src, int type, porta_dtype want, uint8_t *dst, uint64_t count)
{
    size_t in = st_dtypes[type].size;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if ((type == ST_F32 && want == PORTA_F32) || (type == ST_F16 && want == PORTA_F16) ||
        (type == ST_I32 && want == PORTA_I32)) {
        memcpy(dst, src, (size_t)count * in);
        return;
    }
#endif
    for (uint64_t i = 0; i < count; i++, src += in) {
        if (want == PORTA_I32) {
            uint32_t v = load_le32(src);
            memcpy(dst + 4 * i, &v, 4);
        } else if (want == PORTA_F16) {
            uint16_t h = type == ST_F16 ? load_le16(src) : porta_f32_to_f16(load_f32(src, type));
            memcpy(dst + 2 * i, &h, 2);
        } else {
            float f = load_f32(src, type);
            memcpy(dst + 4 * i, &f, 4);
        }
    }
}

porta_status porta_weights_read(porta_weights *weights, const char *key, porta_dtype want,
                                 const porta_shape *want_shape, void *dst, size_t dst_bytes)
{
    if (!weights) return PORTA_ERROR_INVALID_ARGUMENT;
    porta_context *ctx = weights->context;
    porta_error_clear(ctx);
    if (!key) return porta_error(ctx, PORTA_ERROR_INVALID_ARGUMENT, "porta_weights_read: key is NULL");
    if (!porta_dtype_name(want))
        return porta_error(ctx, PORTA_ERROR_INVALID_ARGUMENT,
                           "porta_weights_read: dtype %d is not f32, f16 or i32", (int)want);
    if (want_shape && (want_shape->rank < 0 || want_shape->rank > PORTA_MAX_RANK))
        return porta_error(ctx, PORTA_ERROR_INVALID_ARGUMENT,
                           "porta_weights_read: shape rank %d is not in 0..%d", want_shape->rank,
                           PORTA_MAX_RANK);
    const weight_entry *e = weights_find_entry(weights, key);
    bind_problem problem = check_bind(weights, e, want, want_shape);
    if (problem != BIND_OK) {
        char message[PORTA_ERROR_MAX];
        describe_problem(weights, key, e, problem, want, want_shape, message, sizeof message);
        return porta_error(ctx, problem_status(problem), "weight '%s' %s", key, message);
    }
    uint64_t count = 1;
    for (int i = 0; i < e->rank; i++) count *= (uint64_t)e->dims[i]; /* checked at open */
    uint64_t needed = count * porta_dtype_size(want);
    if (count && (needed / count != porta_dtype_size(want) || needed > SIZE_MAX))
        return porta_error(ctx, PORTA_ERROR_UNSUPPORTED, "weight '%s': too large for this host", key);
    if (!dst || dst_bytes < needed)
        return porta_error(ctx, PORTA_ERROR_INVALID_ARGUMENT,
                           "porta_weights_read: weight '%s' needs %llu bytes as %s; dst has %zu",
                           key, (unsigned long long)needed, porta_dtype_name(want),
                           dst ? dst_bytes : (size_t)0);
    const weight_entry *scale = weights_int8_scale(weights, e);
    if (scale) weights_int8_dequantize(e, scale, dst);
    else convert(e->data + e->begin, e->type, want, dst, count);
    return PORTA_OK;
}

porta_status porta_graph_check_weights(porta_graph *graph, porta_weights *weights)
{
    if (!graph) return PORTA_ERROR_INVALID_ARGUMENT;
    porta_context *ctx = graph->context;
    porta_error_clear(ctx);
    if (!weights)
        return porta_error(ctx, PORTA_ERROR_INVALID_ARGUMENT,
                           "porta_graph_check_weights: weights is NULL");
    int first = -1, missing = 0, mismatched = 0;
    bind_problem first_problem = BIND_OK;
    for (int i = 0; i < graph->n_tensors; i++) {
        const porta_tensor *t = &graph->tensors[i];
        if (t->kind != PORTA_TENSOR_WEIGHT) continue;
        const char *key = t->key ? t->key : t->name;
        bind_problem problem = check_bind(weights, weights_find_entry(weights, key), t->dtype,
                                          &t->shape);
        if (problem == BIND_OK) continue;
        if (first < 0) {
            first = i;
            first_problem = problem;
            continue;
        }
        if (problem == BIND_MISSING) missing++;
        else mismatched++;
    }
    if (first < 0) return PORTA_OK;

    const porta_tensor *t = &graph->tensors[first];
    const char *key = t->key ? t->key : t->name;
    char where[512], problem[PORTA_ERROR_MAX], others[160] = "", named[PORTA_ERROR_MAX];
    porta_graph_where(graph, t->pos, where, sizeof where);
    describe_problem(weights, key, weights_find_entry(weights, key), first_problem, t->dtype,
                     &t->shape, problem, sizeof problem);
    if (strcmp(key, t->name)) snprintf(named, sizeof named, "weight '%s' (key '%s')", t->name, key);
    else snprintf(named, sizeof named, "weight '%s'", t->name);
    if (missing || mismatched) {
        size_t used = (size_t)snprintf(others, sizeof others, "; also");
        if (missing)
            used += (size_t)snprintf(others + used, sizeof others - used, " %d more missing", missing);
        if (missing && mismatched && used < sizeof others)
            used += (size_t)snprintf(others + used, sizeof others - used, " and");
        if (mismatched && used < sizeof others)
            snprintf(others + used, sizeof others - used, " %d more not matching", mismatched);
    }
    porta_status status = problem_status(first_problem);
    porta_error(ctx, status, "%s%s %s%s", where, named, problem, others);
    if (weights->context && weights->context != ctx) porta_error(weights->context, status, "%s",
                                                                 porta_last_error(ctx));
    return status;
}

uint64_t porta_weights_serial(const porta_weights *weights)
{
    return weights->serial;
}
