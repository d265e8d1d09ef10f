/* OpenCL sequences. OpenCL 1.2 has no command buffers, so "recording" means doing everything but
 * the enqueue once: a kernel object per dispatch (arguments are per kernel object) with its
 * buffers, sub-buffers and parameters set, and the NDRange computed. A run enqueues them in order
 * on the in-order queue, which already orders every dispatch after the ones before it (so the
 * dispatches' `deps` need no further barrier), then waits once in clFinish: never a spin.
 * Profiled sequences use a second queue made with CL_QUEUE_PROFILING_ENABLE and keep one event
 * per dispatch. */
#include "runtime/opencl/cl.h"

#include <stdlib.h>
#include <string.h>

typedef struct recorded {
    cl_kernel kernel;
    porta_backend_kernel *owner;                /* where the kernel object goes back to */
    size_t global[3], local[3];
    cl_mem sub_buffers[PORTA_MAX_BINDINGS];   /* NULL where the whole buffer is bound */
} recorded;

struct porta_backend_sequence {
    porta_backend_device *device;
    int n;
    bool profile;
    bool have_times;
    recorded *dispatches;
    cl_event *events;                           /* profile: one per dispatch of the last run */
    double *times_ns;
    cl_event done;                              /* the submitted run's last dispatch; NULL: none */
};

static void release_events(porta_backend_sequence *sequence)
{
    if (sequence->done) sequence->device->api.clReleaseEvent(sequence->done);
    sequence->done = NULL;
    if (!sequence->events) return;
    for (int i = 0; i < sequence->n; i++)
        if (sequence->events[i]) {
            sequence->device->api.clReleaseEvent(sequence->events[i]);
            sequence->events[i] = NULL;
        }
}

/* Hands a kernel object back to its kernel for a later sequence; false when out of memory. */
static bool keep_spare(porta_backend_kernel *kernel, cl_kernel object)
{
    if (kernel->n_spare == kernel->cap_spare) {
        int capacity = kernel->cap_spare ? 2 * kernel->cap_spare : 8;
        cl_kernel *grown = realloc(kernel->spare, (size_t)capacity * sizeof *grown);
        if (!grown) return false;
        kernel->spare = grown;
        kernel->cap_spare = capacity;
    }
    kernel->spare[kernel->n_spare++] = object;
    return true;
}

void porta_cl_sequence_destroy(porta_backend_sequence *sequence)
{
    if (!sequence) return;
    if (sequence->done) sequence->device->api.clWaitForEvents(1, &sequence->done);
    const porta_cl_api *api = &sequence->device->api;
    release_events(sequence);
    for (int i = 0; sequence->dispatches && i < sequence->n; i++) {
        recorded *r = &sequence->dispatches[i];
        if (r->kernel && !keep_spare(r->owner, r->kernel)) api->clReleaseKernel(r->kernel);
        for (int b = 0; b < PORTA_MAX_BINDINGS; b++)
            if (r->sub_buffers[b]) api->clReleaseMemObject(r->sub_buffers[b]);
    }
    free(sequence->dispatches);
    free(sequence->events);
    free(sequence->times_ns);
    free(sequence);
}

/* The cl_mem to pass for a binding: the buffer itself, or a sub-buffer for a range. */
static porta_status binding_mem(porta_backend_device *device, const porta_binding *binding,
                                int slot, cl_mem *out_sub, cl_mem *out_mem)
{
    porta_context *context = device->context;
    *out_sub = NULL;
    *out_mem = NULL;
    const porta_backend_buffer *buffer = binding->buffer;
    if (!buffer)
        return porta_error(context, PORTA_ERROR_INVALID_ARGUMENT, "opencl: binding %d: no buffer",
                           slot);
    uint64_t size = binding->size ? binding->size : buffer->size - binding->offset;
    if (binding->offset >= buffer->size || size > buffer->size - binding->offset)
        return porta_error(context, PORTA_ERROR_INVALID_ARGUMENT,
                           "opencl: binding %d: range %llu+%llu outside a buffer of %llu bytes",
                           slot, (unsigned long long)binding->offset, (unsigned long long)size,
                           (unsigned long long)buffer->size);
    if (binding->offset == 0 && size == buffer->size) {
        *out_mem = buffer->mem;
        return PORTA_OK;
    }
    if (binding->offset % device->caps.buffer_alignment)
        return porta_error(context, PORTA_ERROR_INVALID_ARGUMENT,
                           "opencl: binding %d: offset %llu is not a multiple of "
                           "CL_DEVICE_MEM_BASE_ADDR_ALIGN (%u bytes)", slot,
                           (unsigned long long)binding->offset, device->caps.buffer_alignment);
    cl_buffer_region region = {(size_t)binding->offset, (size_t)size};
    cl_int err = CL_SUCCESS;
    *out_sub = device->api.clCreateSubBuffer(buffer->mem, CL_MEM_READ_WRITE,
                                             CL_BUFFER_CREATE_TYPE_REGION, &region, &err);
    if (!*out_sub || err != CL_SUCCESS) return porta_cl_fail(context, "clCreateSubBuffer", err, NULL);
    *out_mem = *out_sub;
    return PORTA_OK;
}

static porta_status record_one(porta_backend_device *device, const porta_dispatch *dispatch,
                               int index, recorded *r)
{
    porta_context *context = device->context;
    const porta_cl_api *api = &device->api;
    const porta_backend_kernel *kernel = dispatch->kernel;
    if (!kernel)
        return porta_error(context, PORTA_ERROR_INVALID_ARGUMENT, "opencl: dispatch %d: no kernel",
                           index);
    const porta_kernel_source *source = kernel->source;
    if (dispatch->n_bindings != source->n_buffers ||
        dispatch->param_bytes != (uint32_t)source->n_params * 4u)
        return porta_error(context, PORTA_ERROR_INVALID_ARGUMENT,
                           "opencl: dispatch %d (%s): %d bindings and %u parameter bytes given, "
                           "the kernel takes %d and %d", index, source->name, dispatch->n_bindings,
                           dispatch->param_bytes, source->n_buffers, source->n_params * 4);
    cl_int err = CL_SUCCESS;
    r->owner = dispatch->kernel;
    if (r->owner->n_spare) r->kernel = r->owner->spare[--r->owner->n_spare];
    else r->kernel = api->clCreateKernel(kernel->program, source->name, &err);
    if (!r->kernel || err != CL_SUCCESS) return porta_cl_fail(context, "clCreateKernel", err, source->name);

    cl_uint arg = 0;
    for (int b = 0; b < dispatch->n_bindings; b++, arg++) {
        cl_mem mem;
        porta_status status = binding_mem(device, &dispatch->bindings[b], b, &r->sub_buffers[b], &mem);
        if (status != PORTA_OK) return status;
        if ((err = api->clSetKernelArg(r->kernel, arg, sizeof mem, &mem)) != CL_SUCCESS)
            return porta_cl_fail(context, "clSetKernelArg", err, source->name);
    }
    for (int p = 0; p < source->n_params; p++, arg++)
        if ((err = api->clSetKernelArg(r->kernel, arg, 4, dispatch->params + 4 * p)) != CL_SUCCESS)
            return porta_cl_fail(context, "clSetKernelArg", err, source->name);
    cl_uint pad = 0;
    if ((err = api->clSetKernelArg(r->kernel, arg, sizeof pad, &pad)) != CL_SUCCESS)
        return porta_cl_fail(context, "clSetKernelArg", err, source->name);

    for (int d = 0; d < 3; d++) {
        r->local[d] = kernel->local_size[d];
        r->global[d] = (size_t)dispatch->groups[d] * r->local[d];
        if (dispatch->groups[d] == 0)
            return porta_error(context, PORTA_ERROR_INVALID_ARGUMENT,
                               "opencl: dispatch %d (%s): 0 work-groups in dimension %d", index,
                               source->name, d);
    }
    for (int i = 0; i < dispatch->n_deps; i++)
        if (dispatch->deps[i] < 0 || dispatch->deps[i] >= index)
            return porta_error(context, PORTA_ERROR_INVALID_ARGUMENT,
                               "opencl: dispatch %d: dependency %d is not an earlier dispatch",
                               index, dispatch->deps[i]);
    return PORTA_OK;
}

porta_status porta_cl_sequence_create(porta_backend_device *device, const porta_dispatch *dispatches,
                                      int n_dispatches, bool profile,
                                      porta_backend_sequence **out_sequence)
{
    *out_sequence = NULL;
    porta_context *context = device->context;
    if (n_dispatches <= 0 || !dispatches)
        return porta_error(context, PORTA_ERROR_INVALID_ARGUMENT, "opencl: an empty sequence");
    if (profile && !device->profiling_queue) {
        cl_int err = CL_SUCCESS;
        device->profiling_queue = device->api.clCreateCommandQueue(
            device->cl, device->device, CL_QUEUE_PROFILING_ENABLE, &err);
        if (!device->profiling_queue || err != CL_SUCCESS) {
            device->profiling_queue = NULL;
            return porta_cl_fail(context, "clCreateCommandQueue", err, "CL_QUEUE_PROFILING_ENABLE");
        }
    }
    porta_backend_sequence *sequence = calloc(1, sizeof *sequence);
    if (!sequence) return porta_error(context, PORTA_ERROR_OUT_OF_MEMORY, "opencl: out of memory");
    sequence->device = device;
    sequence->n = n_dispatches;
    sequence->profile = profile;
    sequence->dispatches = calloc((size_t)n_dispatches, sizeof *sequence->dispatches);
    if (profile) {
        sequence->events = calloc((size_t)n_dispatches, sizeof *sequence->events);
        sequence->times_ns = calloc((size_t)n_dispatches, sizeof *sequence->times_ns);
    }
    if (!sequence->dispatches || (profile && (!sequence->events || !sequence->times_ns))) {
        porta_cl_sequence_destroy(sequence);
        return porta_error(context, PORTA_ERROR_OUT_OF_MEMORY, "opencl: out of memory");
    }
    for (int i = 0; i < n_dispatches; i++) {
        porta_status status = record_one(device, &dispatches[i], i, &sequence->dispatches[i]);
        if (status != PORTA_OK) {
            porta_cl_sequence_destroy(sequence);
            return status;
        }
    }
    *out_sequence = sequence;
    return PORTA_OK;
}

static cl_command_queue queue_of(const porta_backend_sequence *sequence)
{
    return sequence->profile ? sequence->device->profiling_queue : sequence->device->queue;
}

porta_status porta_cl_sequence_submit(porta_backend_sequence *sequence)
{
    porta_backend_device *device = sequence->device;
    const porta_cl_api *api = &device->api;
    cl_command_queue queue = queue_of(sequence);
    release_events(sequence);
    sequence->have_times = false;
    for (int i = 0; i < sequence->n; i++) {
        recorded *r = &sequence->dispatches[i];
        /* The queue is in order, so the last dispatch's event completes the run. */
        cl_event *event = sequence->profile ? &sequence->events[i]
                          : i == sequence->n - 1 ? &sequence->done : NULL;
        cl_int err = api->clEnqueueNDRangeKernel(queue, r->kernel, 3, NULL, r->global, r->local, 0,
                                                 NULL, event);
        if (err != CL_SUCCESS) {
            api->clFinish(queue);
            release_events(sequence);
            return porta_cl_fail(device->context, "clEnqueueNDRangeKernel", err, NULL);
        }
    }
    if (sequence->profile) {
        sequence->done = sequence->events[sequence->n - 1];
        api->clRetainEvent(sequence->done);
    }
    /* Without a flush a driver may hold the commands until something waits. */
    cl_int err = api->clFlush(queue);
    if (err != CL_SUCCESS) {
        api->clFinish(queue);
        release_events(sequence);
        return porta_cl_fail(device->context, "clFlush", err, NULL);
    }
    return PORTA_OK;
}

porta_status porta_cl_sequence_poll(porta_backend_sequence *sequence, bool *out_done)
{
    *out_done = true;
    if (!sequence->done) return PORTA_OK;
    cl_int state = CL_COMPLETE;
    cl_int err = sequence->device->api.clGetEventInfo(
        sequence->done, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof state, &state, NULL);
    if (err != CL_SUCCESS) return porta_cl_fail(sequence->device->context, "clGetEventInfo", err, NULL);
    /* A negative state is a failed run: finished, and sequence_wait reports it. */
    *out_done = state == CL_COMPLETE || state < 0;
    return PORTA_OK;
}

porta_status porta_cl_sequence_wait(porta_backend_sequence *sequence)
{
    porta_backend_device *device = sequence->device;
    const porta_cl_api *api = &device->api;
    if (!sequence->done) return PORTA_OK;
    cl_int err = api->clWaitForEvents(1, &sequence->done);
    if (err != CL_SUCCESS) {
        api->clFinish(queue_of(sequence));
        release_events(sequence);
        return porta_cl_fail(device->context, "clWaitForEvents", err, NULL);
    }
    if (!sequence->profile) {
        release_events(sequence);
        return PORTA_OK;
    }
    for (int i = 0; i < sequence->n; i++) {
        cl_ulong start = 0, end = 0;
        err = api->clGetEventProfilingInfo(sequence->events[i], CL_PROFILING_COMMAND_START,
                                           sizeof start, &start, NULL);
        if (err == CL_SUCCESS)
            err = api->clGetEventProfilingInfo(sequence->events[i], CL_PROFILING_COMMAND_END,
                                               sizeof end, &end, NULL);
        if (err != CL_SUCCESS) {
            release_events(sequence);
            return porta_cl_fail(device->context, "clGetEventProfilingInfo", err, NULL);
        }
        sequence->times_ns[i] = end >= start ? (double)(end - start) : 0.0;
    }
    release_events(sequence);
    sequence->have_times = true;
    return PORTA_OK;
}

porta_status porta_cl_sequence_times(porta_backend_sequence *sequence, double *out_ns, int n)
{
    porta_context *context = sequence->device->context;
    if (!sequence->profile || !sequence->have_times)
        return porta_error(context, PORTA_ERROR_INVALID_ARGUMENT,
                           "opencl: no times: the sequence was not profiled or has not run");
    if (n > sequence->n) n = sequence->n;
    memcpy(out_ns, sequence->times_ns, (size_t)(n > 0 ? n : 0) * sizeof *out_ns);
    return PORTA_OK;
}
