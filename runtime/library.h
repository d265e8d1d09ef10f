/* Opening an API's library at run time: the names and folders each platform keeps it under, tried
 * in order, every failure recorded so that an absent API says what was tried and why each failed.
 * Shared by runtime/opencl/ and runtime/vulkan/. */
#ifndef PORTA_RUNTIME_LIBRARY_H
#define PORTA_RUNTIME_LIBRARY_H

#include "porta.h"
#include "graphs/context.h"

/* Checks an opened library: NULL when it is usable, else the name of a function it lacks. */
typedef const char *(*porta_library_check)(void *handle, void *user);

typedef struct porta_library_search {
    const char *api;                    /* "opencl": the prefix of messages */
    const char *env;                    /* "PORTA_OPENCL_LIBRARY": a ':'-separated list to try instead */
    const char *const *candidates;      /* the platform's list, NULL-terminated */
    porta_library_check check;          /* NULL: any library that loads is usable */
    void *user;
} porta_library_search;

/* Tries the environment's list, if set, else the candidates, in order; the first that loads and
 * passes the check is returned with its name in `path` (size `path_size`). When none does, NULL,
 * and the context's error is PORTA_ERROR_UNSUPPORTED "<api>: tried A (not found), B (failed to
 * load: <loader's message>), C (lacks clFoo)". */
void *porta_library_open(porta_context *context, const porta_library_search *search, char *path,
                         size_t path_size);

/* The platform's lists (library.c documents them). */
extern const char *const porta_opencl_library_names[];
extern const char *const porta_vulkan_library_names[];

#endif
