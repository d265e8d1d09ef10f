/* The context's internals and the error helpers every folder uses. */
#ifndef PORTA_CONTEXT_H
#define PORTA_CONTEXT_H

#include "porta.h"

#include <stdarg.h>

#define PORTA_ERROR_MAX 1024

struct porta_context {
    char last_error[PORTA_ERROR_MAX];
    int log_level;          /* 0 off, 1 info, 2 debug: from PORTA_LOG at creation */
    char device_absent[PORTA_ERROR_MAX];   /* runtime/device.c: APIs found absent, one a line */
};

#if defined(__GNUC__)
#define PORTA_PRINTF(fmt_index, args_index) __attribute__((format(printf, fmt_index, args_index)))
#else
#define PORTA_PRINTF(fmt_index, args_index)
#endif

/* Records a message on the context (when it is not NULL) and returns `status`, so a failing
 * path reads `return porta_error(ctx, PORTA_ERROR_SHAPE, "...", ...);`. */
porta_status porta_error(porta_context *context, porta_status status, const char *format, ...)
    PORTA_PRINTF(3, 4);
porta_status porta_error_v(porta_context *context, porta_status status, const char *format,
                           va_list args);
/* Clears the last error at the start of a public call. */
void porta_error_clear(porta_context *context);

/* Writes to stderr only when PORTA_LOG asked for this level (1 info, 2 debug). */
void porta_log(const porta_context *context, int level, const char *format, ...) PORTA_PRINTF(3, 4);

/* Allocation that never aborts; NULL on failure like malloc. */
char *porta_strdup(const char *s);
/* Appends to a growable string; returns false when out of memory. */
typedef struct porta_strbuf {
    char *data;
    size_t length, capacity;
    bool failed;
} porta_strbuf;
void porta_strbuf_append(porta_strbuf *buffer, const char *format, ...) PORTA_PRINTF(2, 3);
void porta_strbuf_free(porta_strbuf *buffer);

/* Levenshtein distance, for "did you mean" suggestions; SIZE_MAX when either string is longer
 * than 256 bytes (such names are not compared). */
size_t porta_edit_distance(const char *a, const char *b);

/* Reads a whole file; the result is NUL-terminated (length excludes the NUL). */
porta_status porta_read_file(porta_context *context, const char *path, char **out_data,
                             size_t *out_length);

#endif
