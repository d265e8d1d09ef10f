/* Device listing and selection over every registered backend. */
#include "runtime/device.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The registry: one line per backend, in listing order. */
static const porta_backend *(*const registry[])(void) = {
    porta_backend_vulkan,
    porta_backend_opencl,
};

#define MAX_DEVICES_PER_BACKEND 32

int porta_backend_count(void)
{
    return (int)(sizeof registry / sizeof registry[0]);
}

const porta_backend *porta_backend_at(int index)
{
    return index >= 0 && index < porta_backend_count() ? registry[index]() : NULL;
}

const porta_backend *porta_backend_named(const char *name)
{
    for (int b = 0; b < porta_backend_count(); b++)
        if (!strcmp(porta_backend_at(b)->name, name)) return porta_backend_at(b);
    return NULL;
}

const char *porta_device_type_name(porta_device_type type)
{
    switch (type) {
    case PORTA_DEVICE_OTHER: return "other";
    case PORTA_DEVICE_INTEGRATED_GPU: return "integrated-gpu";
    case PORTA_DEVICE_DISCRETE_GPU: return "discrete-gpu";
    case PORTA_DEVICE_VIRTUAL_GPU: return "virtual-gpu";
    case PORTA_DEVICE_CPU: return "cpu";
    }
    return "other";
}

void porta_device_desc_from_caps(const porta_backend *backend, int index,
                                 const porta_device_caps *caps, porta_device_desc *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->id, sizeof out->id, "%s:%d", backend->name, index);
    snprintf(out->backend, sizeof out->backend, "%s", backend->name);
    out->index = index;
    snprintf(out->vendor, sizeof out->vendor, "%s", caps->vendor);
    snprintf(out->name, sizeof out->name, "%s", caps->name);
    snprintf(out->driver_version, sizeof out->driver_version, "%s", caps->driver_version);
    snprintf(out->api_version, sizeof out->api_version, "%s", caps->api_version);
    out->type = caps->type;
    out->memory_bytes = caps->memory_bytes;
    out->max_buffer_bytes = caps->max_buffer_bytes;
    out->max_workgroup_size = caps->max_workgroup_size;
    out->shared_memory_bytes = caps->shared_memory_bytes;
    out->subgroup_size = caps->subgroup_size;
    out->fp16 = caps->fp16;
    out->timestamps = caps->timestamps;
}

/* Appends "<message>\n" to the context's list of absent APIs. */
static void note_absent(porta_context *context, const char *message)
{
    size_t used = strlen(context->device_absent);
    snprintf(context->device_absent + used, sizeof context->device_absent - used, "%s\n", message);
}

/* Enumerates one backend into `out` (capacity max); an absent API is noted, not returned. */
static int list_backend(porta_context *context, const porta_backend *backend,
                        porta_device_desc *out, int max)
{
    porta_device_caps *caps = calloc(MAX_DEVICES_PER_BACKEND, sizeof *caps);
    if (!caps) {
        note_absent(context, "device listing: out of memory");
        return 0;
    }
    int count = 0;
    porta_status status = backend->enumerate(context, caps, MAX_DEVICES_PER_BACKEND, &count);
    if (status != PORTA_OK) {
        char message[PORTA_ERROR_MAX + 32];
        const char *why = porta_last_error(context);
        if (!strncmp(why, backend->name, strlen(backend->name)))
            snprintf(message, sizeof message, "%s", why);
        else
            snprintf(message, sizeof message, "%s: %s", backend->name, why);
        note_absent(context, message);
        porta_error_clear(context);
        free(caps);
        return 0;
    }
    if (count > MAX_DEVICES_PER_BACKEND) count = MAX_DEVICES_PER_BACKEND;
    for (int i = 0; i < count && i < max; i++)
        porta_device_desc_from_caps(backend, i, &caps[i], &out[i]);
    free(caps);
    return count;
}

porta_status porta_device_list(porta_context *context, porta_device_desc *out, int max,
                               int *out_count)
{
    if (out_count) *out_count = 0;
    if (!context || !out_count || max < 0 || (max > 0 && !out))
        return porta_error(context, PORTA_ERROR_INVALID_ARGUMENT,
                           "porta_device_list: NULL context, count or output array");
    porta_error_clear(context);
    context->device_absent[0] = '\0';
    int total = 0;
    for (int b = 0; b < context->n_backends; b++) {
        const porta_backend *backend = porta_backend_named(context->backends[b]);
        if (!backend) continue;
        porta_device_desc found[MAX_DEVICES_PER_BACKEND];
        int n = list_backend(context, backend, found, MAX_DEVICES_PER_BACKEND);
        for (int i = 0; i < n; i++, total++)
            if (total < max) out[total] = found[i];
    }
    *out_count = total;
    return PORTA_OK;
}

const char *porta_device_absent(const porta_context *context)
{
    return context ? context->device_absent : "";
}

static bool contains_nocase(const char *haystack, const char *needle)
{
    size_t n = strlen(needle);
    for (; *haystack; haystack++) {
        size_t i = 0;
        while (i < n && haystack[i] &&
               tolower((unsigned char)haystack[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == n) return true;
    }
    return n == 0;
}

/* Picks the description `selector` names among `descs`; -1 if none. */
static int select_device(const porta_device_desc *descs, int count, const char *selector)
{
    if (!strcmp(selector, "auto")) {
        static const porta_device_type order[] = {PORTA_DEVICE_DISCRETE_GPU,
                                                  PORTA_DEVICE_INTEGRATED_GPU};
        for (size_t o = 0; o < sizeof order / sizeof order[0]; o++)
            for (int i = 0; i < count; i++)
                if (descs[i].type == order[o]) return i;
        return count > 0 ? 0 : -1;
    }
    for (int i = 0; i < count; i++)
        if (!strcmp(descs[i].id, selector) || !strcmp(descs[i].backend, selector)) return i;
    for (int i = 0; i < count; i++)
        if (contains_nocase(descs[i].name, selector)) return i;
    return -1;
}

porta_status porta_device_open(porta_context *context, const char *selector,
                               porta_device **out_device)
{
    if (out_device) *out_device = NULL;
    if (!context || !out_device)
        return porta_error(context, PORTA_ERROR_INVALID_ARGUMENT,
                           "porta_device_open: NULL context or output");
    if (!selector || !*selector) selector = "auto";
    enum { MAX_ALL = 64 };
    porta_device_desc *descs = calloc(MAX_ALL, sizeof *descs);
    if (!descs) return porta_error(context, PORTA_ERROR_OUT_OF_MEMORY, "out of memory");
    int count = 0;
    porta_device_list(context, descs, MAX_ALL, &count);
    if (count > MAX_ALL) count = MAX_ALL;
    int chosen = select_device(descs, count, selector);
    if (chosen < 0) {
        char absent[PORTA_ERROR_MAX];    /* the absent lines joined by "; " */
        snprintf(absent, sizeof absent, "%s", context->device_absent);
        size_t n = strlen(absent);
        while (n > 0 && absent[n - 1] == '\n') absent[--n] = '\0';
        for (char *p = absent; *p; p++)
            if (*p == '\n') *p = ';';
        porta_status status = porta_error(
            context, PORTA_ERROR_NOT_FOUND, "no device matches '%s' (%d found%s%s)", selector,
            count, absent[0] ? "; absent: " : "", absent);
        free(descs);
        return status;
    }
    porta_device *device = calloc(1, sizeof *device);
    if (!device) {
        free(descs);
        return porta_error(context, PORTA_ERROR_OUT_OF_MEMORY, "out of memory");
    }
    device->context = context;
    device->desc = descs[chosen];
    free(descs);
    device->backend = porta_backend_named(device->desc.backend);
    porta_status status = device->backend->device_open(context, device->desc.index, &device->device);
    if (status != PORTA_OK) {
        free(device);
        return status;
    }
    /* The opened device's own probe is the authority (the list may be from a moment earlier). */
    porta_device_desc_from_caps(device->backend, device->desc.index,
                                device->backend->device_caps(device->device), &device->desc);
    *out_device = device;
    return PORTA_OK;
}

void porta_device_close(porta_device *device)
{
    if (!device) return;
    /* programs are destroyed first, so what is left has no users; it goes with the device */
    while (device->shared) {
        device->shared->users = 1;
        porta_shared_release(device, device->shared);
    }
    if (device->backend && device->device) device->backend->device_close(device->device);
    free(device);
}

const porta_device_desc *porta_device_info(const porta_device *device)
{
    return device ? &device->desc : NULL;
}

porta_status porta_device_cache_stats(const porta_device *device, porta_cache_stats *out_stats)
{
    if (out_stats) memset(out_stats, 0, sizeof *out_stats);
    if (!device || !out_stats) return PORTA_ERROR_INVALID_ARGUMENT;
    device->backend->device_stats(device->device, out_stats);
    return PORTA_OK;
}
