#include "graphs/context.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define PORTA_STRINGIFY_(x) #x
#define PORTA_STRINGIFY(x) PORTA_STRINGIFY_(x)
/* From the header this library was built with; tests/check_version.sh holds it to meson.build's
 * project version. */
const char *porta_version(void)
{
    return PORTA_STRINGIFY(PORTA_VERSION_MAJOR) "." PORTA_STRINGIFY(PORTA_VERSION_MINOR) "."
        PORTA_STRINGIFY(PORTA_VERSION_PATCH);
}

const char *porta_status_name(porta_status status)
{
    switch (status) {
    case PORTA_OK: return "PORTA_OK";
    case PORTA_ERROR_INVALID_ARGUMENT: return "PORTA_ERROR_INVALID_ARGUMENT";
    case PORTA_ERROR_PARSE: return "PORTA_ERROR_PARSE";
    case PORTA_ERROR_INVALID_GRAPH: return "PORTA_ERROR_INVALID_GRAPH";
    case PORTA_ERROR_SHAPE: return "PORTA_ERROR_SHAPE";
    case PORTA_ERROR_OUT_OF_MEMORY: return "PORTA_ERROR_OUT_OF_MEMORY";
    case PORTA_ERROR_IO: return "PORTA_ERROR_IO";
    case PORTA_ERROR_UNSUPPORTED: return "PORTA_ERROR_UNSUPPORTED";
    case PORTA_ERROR_DEVICE: return "PORTA_ERROR_DEVICE";
    case PORTA_ERROR_NOT_FOUND: return "PORTA_ERROR_NOT_FOUND";
    case PORTA_ERROR_INTERNAL: return "PORTA_ERROR_INTERNAL";
    }
    return "PORTA_ERROR_UNKNOWN";
}

const char *porta_dtype_name(porta_dtype dtype)
{
    switch (dtype) {
    case PORTA_F32: return "f32";
    case PORTA_F16: return "f16";
    case PORTA_I32: return "i32";
    }
    return NULL;
}

size_t porta_dtype_size(porta_dtype dtype)
{
    switch (dtype) {
    case PORTA_F32: return 4;
    case PORTA_F16: return 2;
    case PORTA_I32: return 4;
    }
    return 0;
}

porta_status porta_context_create(porta_context **out_context)
{
    if (!out_context) return PORTA_ERROR_INVALID_ARGUMENT;
    *out_context = NULL;
    porta_context *context = calloc(1, sizeof *context);
    if (!context) return PORTA_ERROR_OUT_OF_MEMORY;
    const char *log = getenv("PORTA_LOG");
    if (log && strcmp(log, "info") == 0) context->log_level = 1;
    if (log && strcmp(log, "debug") == 0) context->log_level = 2;
    *out_context = context;
    return PORTA_OK;
}

void porta_context_destroy(porta_context *context)
{
    free(context);
}

const char *porta_last_error(const porta_context *context)
{
    return context ? context->last_error : "no context";
}

porta_status porta_error_v(porta_context *context, porta_status status, const char *format,
                           va_list args)
{
    if (context) {
        vsnprintf(context->last_error, sizeof context->last_error, format, args);
        porta_log(context, 1, "error: %s", context->last_error);
    }
    return status;
}

porta_status porta_error(porta_context *context, porta_status status, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    porta_error_v(context, status, format, args);
    va_end(args);
    return status;
}

void porta_error_clear(porta_context *context)
{
    if (context) context->last_error[0] = '\0';
}

void porta_log(const porta_context *context, int level, const char *format, ...)
{
    if (!context || context->log_level < level) return;
    va_list args;
    va_start(args, format);
    fputs("porta: ", stderr);
    vfprintf(stderr, format, args);
    fputc('\n', stderr);
    va_end(args);
}

void porta_free(void *pointer)
{
    free(pointer);
}

char *porta_strdup(const char *s)
{
    if (!s) return NULL;
    size_t n = strlen(s) + 1;
    char *copy = malloc(n);
    if (copy) memcpy(copy, s, n);
    return copy;
}

void porta_strbuf_append(porta_strbuf *buffer, const char *format, ...)
{
    if (buffer->failed) return;
    va_list args;
    va_start(args, format);
    va_list again;
    va_copy(again, args);
    int needed = vsnprintf(NULL, 0, format, args);
    va_end(args);
    if (needed < 0) {
        buffer->failed = true;
        va_end(again);
        return;
    }
    if (buffer->length + (size_t)needed + 1 > buffer->capacity) {
        size_t capacity = buffer->capacity ? buffer->capacity : 256;
        while (capacity < buffer->length + (size_t)needed + 1) capacity *= 2;
        char *grown = realloc(buffer->data, capacity);
        if (!grown) {
            buffer->failed = true;
            va_end(again);
            return;
        }
        buffer->data = grown;
        buffer->capacity = capacity;
    }
    vsnprintf(buffer->data + buffer->length, (size_t)needed + 1, format, again);
    va_end(again);
    buffer->length += (size_t)needed;
}

void porta_strbuf_free(porta_strbuf *buffer)
{
    free(buffer->data);
    *buffer = (porta_strbuf){0};
}

porta_status porta_read_file(porta_context *context, const char *path, char **out_data,
                             size_t *out_length)
{
    *out_data = NULL;
    if (out_length) *out_length = 0;
    FILE *file = fopen(path, "rb");
    if (!file)
        return porta_error(context, PORTA_ERROR_IO, "%s: cannot open: %s", path, strerror(errno));
    /* fopen succeeds on a directory and only the read fails, with no useful reason. */
    struct stat info;
    if (fstat(fileno(file), &info) == 0 && S_ISDIR(info.st_mode)) {
        fclose(file);
        return porta_error(context, PORTA_ERROR_IO, "%s: is a directory, not a file", path);
    }
    size_t capacity = 4096, length = 0;
    char *data = malloc(capacity);
    while (data) {
        size_t got = fread(data + length, 1, capacity - length - 1, file);
        length += got;
        if (length + 1 < capacity) break;
        capacity *= 2;
        char *grown = realloc(data, capacity);
        if (!grown) {
            free(data);
            data = NULL;
            break;
        }
        data = grown;
    }
    int read_error = ferror(file) ? (errno ? errno : EIO) : 0;
    fclose(file);
    if (!data) return porta_error(context, PORTA_ERROR_OUT_OF_MEMORY, "%s: out of memory", path);
    if (read_error) {
        free(data);
        return porta_error(context, PORTA_ERROR_IO, "%s: read error: %s", path,
                           strerror(read_error));
    }
    data[length] = '\0';
    *out_data = data;
    if (out_length) *out_length = length;
    return PORTA_OK;
}

size_t porta_edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 256 || lb > 256) return SIZE_MAX;
    size_t row[257];
    for (size_t j = 0; j <= lb; j++) row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diagonal = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t above = row[j];
            size_t best = diagonal + (a[i - 1] != b[j - 1]);
            if (above + 1 < best) best = above + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diagonal = above;
        }
    }
    return row[lb];
}
