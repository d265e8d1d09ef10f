/* OpenCL buffers: creation with clear errors for sizes the device refuses, and blocking host
 * transfers on the device's in-order queue. */
#include "runtime/opencl/cl.h"

#include <stdio.h>
#include <stdlib.h>

porta_status porta_cl_buffer_create(porta_backend_device *device, uint64_t bytes,
                                    porta_backend_buffer **out_buffer)
{
    *out_buffer = NULL;
    porta_context *context = device->context;
    if (bytes == 0)
        return porta_error(context, PORTA_ERROR_INVALID_ARGUMENT, "opencl: a buffer of 0 bytes");
    if (bytes > device->caps.max_buffer_bytes)
        return porta_error(context, PORTA_ERROR_UNSUPPORTED,
                           "opencl: a buffer of %llu bytes exceeds %s's largest single buffer, "
                           "CL_DEVICE_MAX_MEM_ALLOC_SIZE = %llu bytes",
                           (unsigned long long)bytes, device->caps.name,
                           (unsigned long long)device->caps.max_buffer_bytes);
    if (bytes > device->caps.memory_bytes || bytes > SIZE_MAX)
        return porta_error(context, PORTA_ERROR_OUT_OF_MEMORY,
                           "opencl: a buffer of %llu bytes exceeds %s's memory, "
                           "CL_DEVICE_GLOBAL_MEM_SIZE = %llu bytes",
                           (unsigned long long)bytes, device->caps.name,
                           (unsigned long long)device->caps.memory_bytes);
    porta_backend_buffer *buffer = calloc(1, sizeof *buffer);
    if (!buffer) return porta_error(context, PORTA_ERROR_OUT_OF_MEMORY, "opencl: out of memory");
    cl_int err = CL_SUCCESS;
    buffer->mem = device->api.clCreateBuffer(device->cl, CL_MEM_READ_WRITE, (size_t)bytes, NULL, &err);
    if (!buffer->mem || err != CL_SUCCESS) {
        free(buffer);
        char detail[400];
        snprintf(detail, sizeof detail, "a buffer of %llu bytes on %s", (unsigned long long)bytes,
                 device->caps.name);
        return porta_cl_fail(context, "clCreateBuffer", err, detail);
    }
    buffer->device = device;
    buffer->size = bytes;
    *out_buffer = buffer;
    return PORTA_OK;
}

void porta_cl_buffer_destroy(porta_backend_buffer *buffer)
{
    if (!buffer) return;
    if (buffer->mem) buffer->device->api.clReleaseMemObject(buffer->mem);
    free(buffer);
}

static porta_status check_range(const porta_backend_buffer *buffer, uint64_t offset, uint64_t bytes,
                                const void *data, const char *what)
{
    if (!data && bytes)
        return porta_error(buffer->device->context, PORTA_ERROR_INVALID_ARGUMENT,
                           "opencl: %s: NULL host pointer", what);
    if (offset > buffer->size || bytes > buffer->size - offset)
        return porta_error(buffer->device->context, PORTA_ERROR_INVALID_ARGUMENT,
                           "opencl: %s of %llu bytes at offset %llu overruns a buffer of %llu bytes",
                           what, (unsigned long long)bytes, (unsigned long long)offset,
                           (unsigned long long)buffer->size);
    return PORTA_OK;
}

porta_status porta_cl_buffer_upload(porta_backend_buffer *buffer, uint64_t offset, const void *data,
                                    uint64_t bytes)
{
    porta_status status = check_range(buffer, offset, bytes, data, "upload");
    if (status != PORTA_OK || bytes == 0) return status;
    porta_backend_device *device = buffer->device;
    cl_int err = device->api.clEnqueueWriteBuffer(device->queue, buffer->mem, CL_TRUE, (size_t)offset,
                                                  (size_t)bytes, data, 0, NULL, NULL);
    if (err != CL_SUCCESS) return porta_cl_fail(device->context, "clEnqueueWriteBuffer", err, NULL);
    return PORTA_OK;
}

porta_status porta_cl_buffer_download(porta_backend_buffer *buffer, uint64_t offset, void *data,
                                      uint64_t bytes)
{
    porta_status status = check_range(buffer, offset, bytes, data, "download");
    if (status != PORTA_OK || bytes == 0) return status;
    porta_backend_device *device = buffer->device;
    cl_int err = device->api.clEnqueueReadBuffer(device->queue, buffer->mem, CL_TRUE, (size_t)offset,
                                                 (size_t)bytes, data, 0, NULL, NULL);
    if (err != CL_SUCCESS) return porta_cl_fail(device->context, "clEnqueueReadBuffer", err, NULL);
    return PORTA_OK;
}
