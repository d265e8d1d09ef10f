/* The API-neutral device layer: the registry of backends, and the porta_device handle that pairs
 * a backend with one of its opened devices. The public half is in porta.h (porta_device_*); this
 * header is for the rest of porta (the plan executor, benchmarks, tests), which reach buffers,
 * kernels and sequences through the device's backend vtable. */
#ifndef PORTA_RUNTIME_DEVICE_H
#define PORTA_RUNTIME_DEVICE_H

#include "runtime/backend.h"

typedef struct porta_shared_buffer porta_shared_buffer;

struct porta_device {
    porta_context *context;
    const porta_backend *backend;
    porta_backend_device *device;
    porta_device_desc desc;
    porta_shared_buffer *shared;    /* weight buffers programs share (runtime/shared_weights.c) */
};

/* The registered backends, in listing order; NULL past the end. */
int porta_backend_count(void);
const porta_backend *porta_backend_at(int index);
/* The backend registered as "opencl" or "vulkan"; NULL for another name. */
const porta_backend *porta_backend_named(const char *name);

/* Fills a public description from a backend's capability probe. */
void porta_device_desc_from_caps(const porta_backend *backend, int index,
                                 const porta_device_caps *caps, porta_device_desc *out_desc);

/* Weight buffers shared by the programs of one device that were given the same weights handle
 * and lay a buffer out the same way (the signature: each tensor's key, dtype, shape, offset and
 * packing). The registry owns the buffers; each program using one counts as a user. */
struct porta_shared_buffer {
    porta_shared_buffer *next;
    uint64_t weights_serial;
    char *signature;
    porta_backend_buffer *buffer;
    uint64_t bytes;
    int users;
};
porta_shared_buffer *porta_shared_find(porta_device *device, uint64_t weights_serial,
                                       const char *signature);
/* Registers `buffer` (now owned by the registry) with one user; NULL when out of memory. */
porta_shared_buffer *porta_shared_add(porta_device *device, uint64_t weights_serial,
                                      const char *signature, porta_backend_buffer *buffer,
                                      uint64_t bytes);
/* One user fewer; the buffer is destroyed with its last user. */
void porta_shared_release(porta_device *device, porta_shared_buffer *entry);
/* Takes an entry with one user out of the registry, handing its buffer back to that user. */
porta_backend_buffer *porta_shared_take(porta_device *device, porta_shared_buffer *entry);
/* Bytes of all shared weight buffers of the device: each counted once. */
uint64_t porta_shared_bytes(const porta_device *device);

#endif
