/* The program's insides, shared by runtime/program.c (creating, setting, running) and
 * runtime/transfer.c (device-side copies and carries). Not part of the public API. */
#ifndef PORTA_RUNTIME_PROGRAM_INTERNAL_H
#define PORTA_RUNTIME_PROGRAM_INTERNAL_H

#include "porta.h"
#include "graphs/lower/plan.h"
#include "runtime/device.h"

/* After every run, tensor `src` (an output) is copied into tensor `dst` (an input). */
typedef struct porta_carry {
    porta_tensor_id dst, src;
} porta_carry;

typedef struct compiled_kernel {
    const porta_kernel_source *source;
    porta_kernel_config config;
    porta_backend_kernel *kernel;
} compiled_kernel;

struct porta_program {
    porta_device *device;
    const porta_backend *backend;
    const porta_graph *graph;
    porta_plan *plan;
    porta_backend_buffer **buffers;         /* by plan buffer */
    compiled_kernel *kernels;
    int n_kernels, cap_kernels;
    porta_backend_sequence *sequence;
    bool profile;
    bool ran;
    bool in_flight;                         /* submitted, not yet waited for */
    void *staging;                          /* host conversions, the largest tensor's size */
    uint64_t staging_bytes;
    porta_backend_kernel *copy_kernel;      /* device-side copies (carries, porta_program_copy) */
    porta_carry *carries;                   /* copies recorded after the plan's steps */
    int n_carries;
    porta_shared_buffer **shared;           /* by plan buffer: the registry's, or NULL if own */
    uint64_t *capacity;                     /* by plan buffer: its device buffer's bytes */
    /* graphs with named dims (runtime/program_bind.c): the program's own copy of the graph,
     * bound to the values of the last porta_program_bind, and what re-planning needs */
    porta_graph *own_graph;
    porta_plan_limits limits;
    char *tuned;
    porta_weights *weights;                 /* the last porta_program_set_weights's handle */
};

static inline porta_context *porta_program_context(const porta_program *program)
{
    return program->device->context;
}

/* Creates device buffer `b` of the plan (at least 4 bytes), recording its capacity. */
porta_status porta_program_create_buffer(porta_program *program, int b);
/* Fills weight buffer `b` from `weights`: binds a buffer another program of the device filled
 * alike (*out_swapped set: the sequence must be recorded again) or uploads and registers it. */
porta_status porta_program_load_weights(porta_program *program, porta_weights *weights, int b,
                                        bool *out_swapped);
/* The layout of weight buffer `b` of a plan as text (tensors' keys, dtypes, shapes, offsets,
 * packing); NULL when out of memory. */
char *porta_plan_weight_signature(const porta_graph *graph, const porta_plan *plan, int b);

/* Records the plan's steps, then the carries, as the sequence every run submits. */
porta_status porta_program_record(porta_program *program);

/* Device-side copies of 4-byte words: the copy kernel (compiled once per program), the
 * dispatches one copy takes, and a tensor's range of its own buffer. */
porta_status porta_program_copy_kernel(porta_program *program, porta_backend_kernel **out_kernel);
int porta_program_copy_dispatches(porta_backend_kernel *kernel, porta_binding dst,
                                  porta_binding src, uint64_t elements, porta_dispatch *out);
uint64_t porta_program_copy_dispatch_count(uint64_t elements);
porta_binding porta_program_tensor_range(const porta_program *program, porta_tensor_id tensor);
/* Makes plan buffer `buffer` the program's own again when it is shared: a device copy of it
 * when other programs use it too, else the registry's buffer taken back. */
porta_status porta_program_own_buffer(porta_program *program, int buffer);
/* Copies each src[i] into dst[i] (equal sizes) on the device and waits. */
porta_status porta_program_copy_ranges(porta_program *program, const porta_binding *dst,
                                       const porta_binding *src, int count);

#endif
