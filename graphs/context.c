#include "graphs/context.h"

#include <errno.h>
#include <stddef.h>
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

const char *porta_weight_format_name(porta_weight_format format)
{
    switch (format) {
    case PORTA_WEIGHT_PLAIN: return "plain";
    case PORTA_WEIGHT_I8C: return "i8c";
    case PORTA_WEIGHT_Q8_0: return "q8_0";
    case PORTA_WEIGHT_BF16: return "bf16";
    }
    return NULL;
}

static porta_log_level level_named(const char *name)
{
    static const char *const names[] = {"off", "error", "warning", "info", "debug"};
    for (int i = 0; name && i < (int)(sizeof names / sizeof names[0]); i++)
        if (!strcmp(name, names[i])) return (porta_log_level)i;
    return PORTA_LOG_OFF;
}

/* A message about options that made no context: to the callback they name, if any. */
static porta_status options_error(const porta_context_options *options, const char *format,
                                  const char *detail)
{
    if (options->log_callback) {
        char message[512];
        snprintf(message, sizeof message, format, detail);
        options->log_callback(options->log_user, PORTA_LOG_ERROR, message);
    }
    return PORTA_ERROR_INVALID_ARGUMENT;
}

/* Parses "vulkan,opencl" into the context's list; false names the first unknown entry. */
static bool parse_backends(porta_context *context, const char *list, char *bad, size_t bad_size)
{
    static const char *const known[] = PORTA_BACKEND_NAMES;
    context->n_backends = 0;
    for (const char *start = list; *start;) {
        size_t n = strcspn(start, ", ");
        if (n > 0) {
            int found = -1;
            for (int k = 0; k < PORTA_MAX_BACKENDS; k++)
                if (strlen(known[k]) == n && !strncmp(start, known[k], n)) found = k;
            if (found < 0) {
                snprintf(bad, bad_size, "%.*s", (int)(n < 64 ? n : 64), start);
                return false;
            }
            bool listed = false;
            for (int b = 0; b < context->n_backends; b++)
                listed |= !strcmp(context->backends[b], known[found]);
            if (!listed)
                snprintf(context->backends[context->n_backends++], sizeof context->backends[0],
                         "%s", known[found]);
        }
        start += n;
        while (*start == ',' || *start == ' ') start++;
    }
    return true;
}

porta_status porta_context_create_with(const porta_context_options *options,
                                       porta_context **out_context)
{
    if (!out_context) return PORTA_ERROR_INVALID_ARGUMENT;
    *out_context = NULL;
    porta_context_options defaults = PORTA_CONTEXT_OPTIONS_INIT;
    if (options) {
        if (options->struct_size < sizeof(size_t) || options->struct_size > sizeof defaults)
            return options_error(options->struct_size >= offsetof(porta_context_options, log_user)
                                     ? options : &defaults,
                                 "porta_context_create_with: options.struct_size %s; set it to "
                                 "sizeof(porta_context_options)",
                                 options->struct_size > sizeof defaults
                                     ? "is larger than this library's porta_context_options "
                                       "(a newer porta.h than the library?)"
                                     : "is too small");
        /* Fields past the caller's struct_size keep their defaults. */
        memcpy(&defaults, options, options->struct_size);
        defaults.struct_size = sizeof defaults;
    }
    options = &defaults;
    porta_context *context = calloc(1, sizeof *context);
    if (!context) return PORTA_ERROR_OUT_OF_MEMORY;
    context->log_callback = options->log_callback;
    context->log_user = options->log_user;
    context->log_level = options->log_level != PORTA_LOG_OFF ? options->log_level
                                                              : level_named(getenv("PORTA_LOG"));
    if (options->cache_dir) {
        if (strlen(options->cache_dir) >= sizeof context->cache_dir) {
            free(context);
            return options_error(options, "porta_context_create_with: cache_dir is longer than "
                                 "%s bytes", "1023");
        }
        context->cache_dir_given = true;
        snprintf(context->cache_dir, sizeof context->cache_dir, "%s", options->cache_dir);
    }
    const char *backends = options->backends;
    if (!backends) backends = getenv("PORTA_BACKENDS");
    if (!backends || !*backends) backends = "vulkan,opencl";
    char bad[80];
    if (!parse_backends(context, backends, bad, sizeof bad)) {
        free(context);
        return options_error(options, "porta_context_create_with: unknown backend '%s' (porta "
                             "has vulkan and opencl)", bad);
    }
    *out_context = context;
    return PORTA_OK;
}

porta_status porta_context_create(porta_context **out_context)
{
    return porta_context_create_with(NULL, out_context);
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
        porta_log(context, PORTA_LOG_ERROR, "error: %s", context->last_error);
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

void porta_log(const porta_context *context, porta_log_level level, const char *format, ...)
{
    if (!context || level == PORTA_LOG_OFF || context->log_level < level) return;
    va_list args;
    va_start(args, format);
    if (context->log_callback) {
        char message[PORTA_ERROR_MAX + 64];
        vsnprintf(message, sizeof message, format, args);
        context->log_callback(context->log_user, level, message);
    } else {
        fputs("porta: ", stderr);
        vfprintf(stderr, format, args);
        fputc('\n', stderr);
    }
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

/* True when one name is the other under a dotted prefix ("model.enc.w" and "enc.w"), the usual
 * difference between checkpoints of one model saved by different tools. */
bool porta_prefix_differs(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la < lb) {
        const char *t = a;
        a = b;
        b = t;
        size_t tl = la;
        la = lb;
        lb = tl;
    }
    return la > lb && lb > 0 && a[la - lb - 1] == '.' && !strcmp(a + la - lb, b);
}
