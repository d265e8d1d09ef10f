/* The OpenCL backend's private header: the function table resolved by loader.c, and the objects
 * behind the backend handles. Only files in runtime/opencl/ include it.
 *
 * The CL headers are used for types and constants only; every function is resolved with dlsym
 * from the library that loader.c opens, so porta has no link-time dependency on libOpenCL. */
#ifndef PORTA_RUNTIME_OPENCL_CL_H
#define PORTA_RUNTIME_OPENCL_CL_H

#define CL_TARGET_OPENCL_VERSION 120
#define CL_USE_DEPRECATED_OPENCL_1_2_APIS
#include <CL/cl.h>
#include <CL/cl_ext.h>

#include "runtime/backend.h"
#include "runtime/cache.h"

/* Every entry point porta calls: X(return type, name, parameter list). */
#define PORTA_CL_FUNCTIONS(X) \
    X(cl_int, clGetPlatformIDs, (cl_uint, cl_platform_id *, cl_uint *)) \
    X(cl_int, clGetPlatformInfo, (cl_platform_id, cl_platform_info, size_t, void *, size_t *)) \
    X(cl_int, clGetDeviceIDs, (cl_platform_id, cl_device_type, cl_uint, cl_device_id *, cl_uint *)) \
    X(cl_int, clGetDeviceInfo, (cl_device_id, cl_device_info, size_t, void *, size_t *)) \
    X(cl_context, clCreateContext, (const cl_context_properties *, cl_uint, const cl_device_id *, \
        void (CL_CALLBACK *)(const char *, const void *, size_t, void *), void *, cl_int *)) \
    X(cl_int, clReleaseContext, (cl_context)) \
    X(cl_command_queue, clCreateCommandQueue, (cl_context, cl_device_id, \
        cl_command_queue_properties, cl_int *)) \
    X(cl_int, clReleaseCommandQueue, (cl_command_queue)) \
    X(cl_mem, clCreateBuffer, (cl_context, cl_mem_flags, size_t, void *, cl_int *)) \
    X(cl_mem, clCreateSubBuffer, (cl_mem, cl_mem_flags, cl_buffer_create_type, const void *, cl_int *)) \
    X(cl_int, clReleaseMemObject, (cl_mem)) \
    X(cl_int, clEnqueueWriteBuffer, (cl_command_queue, cl_mem, cl_bool, size_t, size_t, \
        const void *, cl_uint, const cl_event *, cl_event *)) \
    X(cl_int, clEnqueueReadBuffer, (cl_command_queue, cl_mem, cl_bool, size_t, size_t, void *, \
        cl_uint, const cl_event *, cl_event *)) \
    X(cl_program, clCreateProgramWithSource, (cl_context, cl_uint, const char **, const size_t *, \
        cl_int *)) \
    X(cl_program, clCreateProgramWithBinary, (cl_context, cl_uint, const cl_device_id *, \
        const size_t *, const unsigned char **, cl_int *, cl_int *)) \
    X(cl_int, clBuildProgram, (cl_program, cl_uint, const cl_device_id *, const char *, \
        void (CL_CALLBACK *)(cl_program, void *), void *)) \
    X(cl_int, clGetProgramBuildInfo, (cl_program, cl_device_id, cl_program_build_info, size_t, \
        void *, size_t *)) \
    X(cl_int, clGetProgramInfo, (cl_program, cl_program_info, size_t, void *, size_t *)) \
    X(cl_int, clReleaseProgram, (cl_program)) \
    X(cl_kernel, clCreateKernel, (cl_program, const char *, cl_int *)) \
    X(cl_int, clReleaseKernel, (cl_kernel)) \
    X(cl_int, clSetKernelArg, (cl_kernel, cl_uint, size_t, const void *)) \
    X(cl_int, clEnqueueNDRangeKernel, (cl_command_queue, cl_kernel, cl_uint, const size_t *, \
        const size_t *, const size_t *, cl_uint, const cl_event *, cl_event *)) \
    X(cl_int, clFlush, (cl_command_queue)) \
    X(cl_int, clFinish, (cl_command_queue)) \
    X(cl_int, clWaitForEvents, (cl_uint, const cl_event *)) \
    X(cl_int, clGetEventInfo, (cl_event, cl_event_info, size_t, void *, size_t *)) \
    X(cl_int, clRetainEvent, (cl_event)) \
    X(cl_int, clGetEventProfilingInfo, (cl_event, cl_profiling_info, size_t, void *, size_t *)) \
    X(cl_int, clReleaseEvent, (cl_event))

#define PORTA_CL_MEMBER_(ret, name, args) ret (CL_API_CALL *name) args;
typedef struct porta_cl_api {
    void *library;                      /* dlopen handle; NULL when not loaded */
    char path[1024];                    /* the name it was opened by */
    PORTA_CL_FUNCTIONS(PORTA_CL_MEMBER_)
} porta_cl_api;

/* loader.c: opens the first library of $PORTA_OPENCL_LIBRARY (a ':'-separated list) or of the
 * platform's list (runtime/library.c) that loads and has every function, and resolves them. When
 * none does, PORTA_ERROR_UNSUPPORTED with a message naming each library tried and why it failed. */
porta_status porta_cl_load(porta_context *context, porta_cl_api *api);
void porta_cl_unload(porta_cl_api *api);
/* "CL_OUT_OF_RESOURCES" for -5; "CL_UNKNOWN_ERROR" for a code outside the table. */
const char *porta_cl_error_name(cl_int code);
/* Records "<call>: <CODE_NAME>" (plus `detail` when not NULL) and returns the porta status the
 * code maps to (allocation failures: PORTA_ERROR_OUT_OF_MEMORY; others PORTA_ERROR_DEVICE). */
porta_status porta_cl_fail(porta_context *context, const char *call, cl_int code, const char *detail);

typedef struct porta_cl_program porta_cl_program;

struct porta_backend_device {
    porta_context *context;             /* must outlive the device */
    porta_cl_api api;
    cl_platform_id platform;
    cl_device_id device;
    cl_context cl;
    cl_command_queue queue;             /* in-order, no profiling */
    cl_command_queue profiling_queue;   /* in-order with CL_QUEUE_PROFILING_ENABLE; made on demand */
    porta_device_caps caps;
    char platform_name[128];
    char platform_version[128];
    porta_cache cache;
    porta_cache_stats stats;
    porta_cl_program *programs;         /* built programs, kept for reuse until device_close */
};

struct porta_backend_buffer {
    porta_backend_device *device;
    cl_mem mem;
    uint64_t size;
};

struct porta_backend_kernel {
    porta_backend_device *device;
    cl_program program;                 /* owned by the device's program list */
    const porta_kernel_source *source;
    size_t local_size[3];
    /* kernel objects of destroyed sequences, for the next sequence to set arguments on: creating
     * them costs rusticl about a millisecond each, and a program bound to a new length records
     * its dispatches again (record.c); released with the kernel, which outlives its sequences */
    cl_kernel *spare;
    int n_spare, cap_spare;
};

/* device.c: fills caps from clGetDeviceInfo. */
porta_status porta_cl_probe(porta_context *context, const porta_cl_api *api, cl_device_id device,
                            porta_device_caps *caps);
/* device.c: the idx-th device across all platforms with devices (platforms with none skipped). */
porta_status porta_cl_find_device(porta_context *context, const porta_cl_api *api, int index,
                                  cl_platform_id *out_platform, cl_device_id *out_device,
                                  int *out_count);

/* kernels.c: releases the device's programs (at device_close). */
void porta_cl_programs_release(porta_backend_device *device);

/* The vtable entries implemented outside device.c. */
porta_status porta_cl_buffer_create(porta_backend_device *, uint64_t, porta_backend_buffer **);
void porta_cl_buffer_destroy(porta_backend_buffer *);
porta_status porta_cl_buffer_upload(porta_backend_buffer *, uint64_t, const void *, uint64_t);
porta_status porta_cl_buffer_download(porta_backend_buffer *, uint64_t, void *, uint64_t);
porta_status porta_cl_kernel_create(porta_backend_device *, const porta_kernel_source *,
                                    const porta_kernel_config *, porta_backend_kernel **);
void porta_cl_kernel_destroy(porta_backend_kernel *);
porta_status porta_cl_sequence_create(porta_backend_device *, const porta_dispatch *, int, bool,
                                      porta_backend_sequence **);
porta_status porta_cl_sequence_submit(porta_backend_sequence *);
porta_status porta_cl_sequence_poll(porta_backend_sequence *, bool *);
porta_status porta_cl_sequence_wait(porta_backend_sequence *);
porta_status porta_cl_sequence_times(porta_backend_sequence *, double *, int);
void porta_cl_sequence_destroy(porta_backend_sequence *);

#endif
