/* The registry of weight buffers shared by the programs of one device (runtime/device.h): a
 * prefill and a decode-step program, or programs of several sequence lengths, made from one
 * weights handle hold one device copy of each weight. */
#include "graphs/context.h"
#include "runtime/device.h"

#include <stdlib.h>
#include <string.h>

porta_shared_buffer *porta_shared_find(porta_device *device, uint64_t weights_serial,
                                       const char *signature)
{
    for (porta_shared_buffer *e = device->shared; e; e = e->next)
        if (e->weights_serial == weights_serial && !strcmp(e->signature, signature)) return e;
    return NULL;
}

porta_shared_buffer *porta_shared_add(porta_device *device, uint64_t weights_serial,
                                      const char *signature, porta_backend_buffer *buffer,
                                      uint64_t bytes)
{
    porta_shared_buffer *e = calloc(1, sizeof *e);
    if (!e || !(e->signature = porta_strdup(signature))) {
        free(e);
        return NULL;
    }
    e->weights_serial = weights_serial;
    e->buffer = buffer;
    e->bytes = bytes;
    e->users = 1;
    e->next = device->shared;
    device->shared = e;
    return e;
}

static void unlink_entry(porta_device *device, porta_shared_buffer *entry)
{
    for (porta_shared_buffer **at = &device->shared; *at; at = &(*at)->next)
        if (*at == entry) {
            *at = entry->next;
            break;
        }
    free(entry->signature);
    free(entry);
}

void porta_shared_release(porta_device *device, porta_shared_buffer *entry)
{
    if (!entry || --entry->users > 0) return;
    device->backend->buffer_destroy(entry->buffer);
    unlink_entry(device, entry);
}

porta_backend_buffer *porta_shared_take(porta_device *device, porta_shared_buffer *entry)
{
    porta_backend_buffer *buffer = entry->buffer;
    unlink_entry(device, entry);
    return buffer;
}

uint64_t porta_shared_bytes(const porta_device *device)
{
    uint64_t bytes = 0;
    for (const porta_shared_buffer *e = device->shared; e; e = e->next) bytes += e->bytes;
    return bytes;
}
