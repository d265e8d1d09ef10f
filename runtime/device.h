/* The API-neutral device layer: the registry of backends, and the porta_device handle that pairs
 * a backend with one of its opened devices. The public half is in porta.h (porta_device_*); this
 * header is for the rest of porta (the plan executor, benchmarks, tests), which reach buffers,
 * kernels and sequences through the device's backend vtable. */
#ifndef PORTA_RUNTIME_DEVICE_H
#define PORTA_RUNTIME_DEVICE_H

#include "runtime/backend.h"

struct porta_device {
    porta_context *context;
    const porta_backend *backend;
    porta_backend_device *device;
    porta_device_desc desc;
};

/* The registered backends, in listing order; NULL past the end. */
int porta_backend_count(void);
const porta_backend *porta_backend_at(int index);
/* The backend registered as "opencl" or "vulkan"; NULL for another name. */
const porta_backend *porta_backend_named(const char *name);

/* Fills a public description from a backend's capability probe. */
void porta_device_desc_from_caps(const porta_backend *backend, int index,
                                 const porta_device_caps *caps, porta_device_desc *out_desc);

#endif
