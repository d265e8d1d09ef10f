/* The context's internals and the error helpers every folder uses. */
#ifndef PORTA_CONTEXT_H
#define PORTA_CONTEXT_H

#include "porta.h"

#include <stdarg.h>

#define PORTA_ERROR_MAX 1024

/* The APIs a context may name in its backends option; runtime/device.c registers one backend
 * under each of these names. */
#define PORTA_BACKEND_NAMES {"vulkan", "opencl"}
#define PORTA_MAX_BACKENDS 2

struct porta_context {
    char last_error[PORTA_ERROR_MAX];
    porta_log_level log_level;      /* from the options, else PORTA_LOG, at creation */
    porta_log_callback log_callback;    /* NULL: stderr */
    void *log_user;
    bool cache_dir_given;           /* the options named a cache folder ("" for none) */
    char cache_dir[1024];
    int n_backends;                 /* the APIs to load, in listing order */
    char backends[PORTA_MAX_BACKENDS][16];
    char device_absent[PORTA_ERROR_MAX];   /* runtime/device.c: APIs found absent, one a line */
    uint64_t weights_opened;        /* weights handles opened so far: each one's serial */
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

/* Hands a message to the context's log callback (or stderr) when its level is logged. */
void porta_log(const porta_context *context, porta_log_level level, const char *format, ...)
    PORTA_PRINTF(3, 4);

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
/* True when one name is the other under a dotted prefix ("model.enc.w" and "enc.w"). */
bool porta_prefix_differs(const char *a, const char *b);

/* Reads a whole file; the result is NUL-terminated (length excludes the NUL). */
porta_status porta_read_file(porta_context *context, const char *path, char **out_data,
                             size_t *out_length);

#endif
