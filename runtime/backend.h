/* The backend interface: a struct of function pointers plus an opaque context per object.
 * runtime/ never switches on op semantics; it sees kernels, buffers and dispatches only.
 * Each backend (runtime/opencl/, runtime/vulkan/) fills one porta_backend and nothing else
 * outside its folder knows its types. */
#ifndef PORTA_BACKEND_H
#define PORTA_BACKEND_H

#include "porta.h"
#include "graphs/context.h"
#include "shaders/kernels.h"

#define PORTA_MAX_BINDINGS 12
#define PORTA_MAX_PARAM_BYTES 128   /* the portable push-constant minimum */
#define PORTA_MAX_DEPS 8

typedef enum porta_api {
    PORTA_API_OPENCL = 0,
    PORTA_API_VULKAN = 1,
} porta_api;

/* porta_device_type is public (porta.h): device descriptions carry it. */

/* What a capability probe finds; chooses kernel variants, never special-cases drivers by name
 * (known driver bugs belong in the quirks table). */
typedef struct porta_device_caps {
    char vendor[128];
    char name[256];
    char driver_version[128];
    char api_version[64];
    porta_device_type type;
    uint32_t vendor_id;
    uint64_t memory_bytes;              /* device-local (Vulkan) / global (OpenCL) memory */
    uint64_t max_buffer_bytes;          /* largest single buffer or binding range */
    uint32_t max_workgroup_size;        /* invocations per work-group */
    uint32_t max_workgroup_dims[3];
    uint64_t shared_memory_bytes;       /* per work-group */
    uint32_t subgroup_size;             /* 0: none */
    bool fp16;                          /* 16-bit float arithmetic in kernels */
    /* 16-bit stores to storage buffers (Vulkan's storageBuffer16BitAccess; OpenCL's
     * vstore_half is core): f16 results are written as halves, not into words with atomics */
    bool storage16;
    bool timestamps;                    /* per-dispatch timing available */
    uint32_t buffer_alignment;          /* offset alignment for bindings, bytes */
} porta_device_caps;

typedef struct porta_backend_device porta_backend_device;   /* one opened device */
typedef struct porta_backend_buffer porta_backend_buffer;   /* device memory */
typedef struct porta_backend_kernel porta_backend_kernel;   /* a compiled kernel */
typedef struct porta_backend_sequence porta_backend_sequence; /* recorded dispatches */



typedef struct porta_binding {
    porta_backend_buffer *buffer;
    uint64_t offset, size;              /* size 0: to the end of the buffer */
} porta_binding;

/* One dispatch of a recorded sequence. `deps` lists earlier dispatches (indices) whose writes
 * this one reads; a backend puts a barrier only there. */
typedef struct porta_dispatch {
    porta_backend_kernel *kernel;
    int n_bindings;
    porta_binding bindings[PORTA_MAX_BINDINGS];
    uint32_t param_bytes;
    uint8_t params[PORTA_MAX_PARAM_BYTES];
    uint32_t groups[3];                 /* number of work-groups in each dimension */
    int n_deps;
    int deps[PORTA_MAX_DEPS];
} porta_dispatch;

typedef struct porta_backend {
    porta_api api;
    const char *name;                   /* "opencl", "vulkan" */

    /* Loads the API (dlopen) and lists devices. A missing library is PORTA_ERROR_UNSUPPORTED with
     * a message saying which library and why; *out_count is 0 then. */
    porta_status (*enumerate)(porta_context *context, porta_device_caps *out_caps, int max_caps,
                              int *out_count);
    porta_status (*device_open)(porta_context *context, int index, porta_backend_device **out_device);
    void (*device_close)(porta_backend_device *device);
    const porta_device_caps *(*device_caps)(const porta_backend_device *device);

    porta_status (*buffer_create)(porta_backend_device *device, uint64_t bytes,
                                  porta_backend_buffer **out_buffer);
    void (*buffer_destroy)(porta_backend_buffer *buffer);
    porta_status (*buffer_upload)(porta_backend_buffer *buffer, uint64_t offset, const void *data,
                                  uint64_t bytes);
    porta_status (*buffer_download)(porta_backend_buffer *buffer, uint64_t offset, void *data,
                                    uint64_t bytes);

    porta_status (*kernel_create)(porta_backend_device *device, const porta_kernel_source *source,
                                  const porta_kernel_config *config, porta_backend_kernel **out_kernel);
    void (*kernel_destroy)(porta_backend_kernel *kernel);

    /* Records the dispatches once (Vulkan: a command buffer; OpenCL: arguments set once). */
    porta_status (*sequence_create)(porta_backend_device *device, const porta_dispatch *dispatches,
                                    int n_dispatches, bool profile,
                                    porta_backend_sequence **out_sequence);
    /* Submits the recording and returns without waiting; the device starts on it at once. A
     * sequence is submitted again only after sequence_wait. */
    porta_status (*sequence_submit)(porta_backend_sequence *sequence);
    /* *out_done: whether the submitted run has finished (a failed one counts as finished; its
     * error comes from sequence_wait). Never blocks. */
    porta_status (*sequence_poll)(porta_backend_sequence *sequence, bool *out_done);
    /* Blocks until the submitted run completes; its status. Profiled times are read here. */
    porta_status (*sequence_wait)(porta_backend_sequence *sequence);
    /* Device time of each dispatch of the last run, nanoseconds (profile must have been asked). */
    porta_status (*sequence_times)(porta_backend_sequence *sequence, double *out_ns, int n);
    void (*sequence_destroy)(porta_backend_sequence *sequence);

    /* Counters of how this device got its compiled kernels (OpenCL: programs built from source,
     * loaded from the on-disk binary cache, reused in memory), so tests can check that a second
     * process builds nothing from source. Counted, never timed. */
    void (*device_stats)(const porta_backend_device *device, porta_cache_stats *out_stats);
    /* Warnings and errors the API's validation layer reported for this device since it opened
     * (Vulkan: VK_LAYER_KHRONOS_validation with synchronization validation, on when
     * PORTA_VULKAN_VALIDATION=1). *out_first (optional) gets the first message, or "" if none;
     * it stays valid while the device is open. NULL in a backend without a validation layer. */
    uint64_t (*validation_messages)(const porta_backend_device *device, const char **out_first);
} porta_backend;

/* Submits and waits: one run, blocking. */
static inline porta_status porta_sequence_run(const porta_backend *backend,
                                              porta_backend_sequence *sequence)
{
    porta_status status = backend->sequence_submit(sequence);
    return status == PORTA_OK ? backend->sequence_wait(sequence) : status;
}

const porta_backend *porta_backend_opencl(void);
const porta_backend *porta_backend_vulkan(void);

#endif
