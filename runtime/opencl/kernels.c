/* OpenCL programs: built from the embedded source once per (source, build options) on a device,
 * with the program binary kept in the on-disk cache (runtime/cache.h) under a key that names the
 * source hash, the options, the device, the driver and the platform. A second process start loads
 * the binary and builds nothing from source; device->stats counts both. */
#include "runtime/opencl/cl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OPTIONS_MAX 512

struct porta_cl_program {
    porta_cl_program *next;
    uint64_t source_hash;               /* of the OpenCL text: equal texts share a program */
    size_t source_length;
    char options[OPTIONS_MAX];
    cl_program program;
};

void porta_cl_programs_release(porta_backend_device *device)
{
    porta_cl_program *program = device->programs;
    while (program) {
        porta_cl_program *next = program->next;
        if (program->program) device->api.clReleaseProgram(program->program);
        free(program);
        program = next;
    }
    device->programs = NULL;
}

/* "-cl-std=CL1.2 -D NAME=value ..." from the kernel's constant names and the config's values. */
static porta_status build_options(porta_context *context, const porta_kernel_source *source,
                                  const porta_kernel_config *config, char *out, size_t size)
{
    if (config->n_constants != source->n_constants)
        return porta_error(context, PORTA_ERROR_INVALID_ARGUMENT,
                           "opencl: kernel %s takes %d constants, %d given", source->name,
                           source->n_constants, config->n_constants);
    size_t length = (size_t)snprintf(out, size, "-cl-std=CL1.2");
    const char *names = source->constant_names ? source->constant_names : "";
    for (int i = 0; i < config->n_constants; i++) {
        while (*names == ' ') names++;
        size_t n = strcspn(names, " ");
        if (n == 0)
            return porta_error(context, PORTA_ERROR_INVALID_ARGUMENT,
                               "opencl: kernel %s: constant %d has no name", source->name, i);
        int wrote = snprintf(out + length, size - length, " -D %.*s=%d", (int)n, names,
                             (int)config->constants[i]);
        if (wrote < 0 || (size_t)wrote >= size - length)
            return porta_error(context, PORTA_ERROR_INVALID_ARGUMENT,
                               "opencl: kernel %s: build options too long", source->name);
        length += (size_t)wrote;
        names += n;
    }
    /* each data buffer's storage kind (prelude.h), by the buffer's name */
    const char *buffers = source->buffer_names ? source->buffer_names : "";
    for (int b = 0; b < source->n_buffers; b++) {
        while (*buffers == ' ') buffers++;
        size_t n = strcspn(buffers, " ");
        if (source->data_buffers >> b & 1u) {
            int wrote = snprintf(out + length, size - length, " -D KIND_%.*s=%d", (int)n, buffers,
                                 (int)PORTA_STORAGE_KIND_OF(config->kinds, b));
            if (n == 0 || wrote < 0 || (size_t)wrote >= size - length)
                return porta_error(context, PORTA_ERROR_INVALID_ARGUMENT,
                                   "opencl: kernel %s: buffer %d has no name, or the build "
                                   "options are too long", source->name, b);
            length += (size_t)wrote;
        }
        buffers += n;
    }
    return PORTA_OK;
}

static void cache_key(const porta_backend_device *device, const porta_kernel_source *source,
                      const char *options, char *out, size_t size)
{
    size_t source_length = strlen(source->opencl_source);
    uint64_t hash = porta_hash(PORTA_HASH_SEED, source->opencl_source, source_length);
    snprintf(out, size,
             "opencl program\nkernel=%s\nsource=%016llx:%zu\noptions=%s\ndevice=%s\nvendor=%s\n"
             "device_version=%s\ndriver=%s\nplatform=%s\nplatform_version=%s\n",
             source->name, (unsigned long long)hash, source_length, options, device->caps.name,
             device->caps.vendor, device->caps.api_version, device->caps.driver_version,
             device->platform_name, device->platform_version);
}

/* Builds `program`; on failure records the call, the code and the build log. */
static porta_status build(porta_backend_device *device, cl_program program,
                          const porta_kernel_source *source, const char *options)
{
    const porta_cl_api *api = &device->api;
    cl_int err = api->clBuildProgram(program, 1, &device->device, options, NULL, NULL);
    if (err == CL_SUCCESS) return PORTA_OK;
    size_t log_size = 0;
    char *log = NULL;
    if (api->clGetProgramBuildInfo(program, device->device, CL_PROGRAM_BUILD_LOG, 0, NULL,
                                   &log_size) == CL_SUCCESS && log_size > 0 &&
        (log = calloc(1, log_size + 1)) != NULL)
        api->clGetProgramBuildInfo(program, device->device, CL_PROGRAM_BUILD_LOG, log_size, log,
                                   NULL);
    char detail[PORTA_ERROR_MAX];
    snprintf(detail, sizeof detail, "kernel %s, options \"%s\", build log:\n%s", source->name,
             options, log ? log : "(none)");
    free(log);
    return porta_cl_fail(device->context, "clBuildProgram", err, detail);
}

/* Stores the built program's binary in the disk cache; failures only lose the cache entry. */
static void store_binary(porta_backend_device *device, cl_program program, const char *key)
{
    const porta_cl_api *api = &device->api;
    size_t size = 0;
    if (api->clGetProgramInfo(program, CL_PROGRAM_BINARY_SIZES, sizeof size, &size, NULL) !=
            CL_SUCCESS || size == 0)
        return;
    unsigned char *binary = malloc(size);
    if (!binary) return;
    unsigned char *binaries[1] = {binary};
    if (api->clGetProgramInfo(program, CL_PROGRAM_BINARIES, sizeof binaries, binaries, NULL) ==
        CL_SUCCESS)
        porta_cache_store(device->context, &device->cache, "opencl", key, binary, size);
    free(binary);
}

/* A cached binary passed its checksum, yet the driver may still refuse it (or a build from it may
 * leave no usable kernel: CL_INVALID_PROGRAM_EXECUTABLE later). Any refusal is a miss that drops
 * the entry; the caller rebuilds from source and stores a fresh one. */
static cl_program load_binary(porta_backend_device *device, const porta_kernel_source *source,
                              const char *options, const char *key)
{
    void *data = NULL;
    size_t size = 0;
    if (!porta_cache_load(device->context, &device->cache, "opencl", key, &data, &size))
        return NULL;
    const porta_cl_api *api = &device->api;
    const unsigned char *binaries[1] = {data};
    cl_int err = CL_SUCCESS, binary_status = CL_SUCCESS;
    cl_program program = api->clCreateProgramWithBinary(device->cl, 1, &device->device, &size,
                                                        binaries, &binary_status, &err);
    free(data);
    char why[160];
    if (!program || err != CL_SUCCESS || binary_status != CL_SUCCESS) {
        snprintf(why, sizeof why, "kernel %s: clCreateProgramWithBinary: %s", source->name,
                 porta_cl_error_name(err != CL_SUCCESS ? err : binary_status));
        goto rejected;
    }
    err = api->clBuildProgram(program, 1, &device->device, options, NULL, NULL);
    if (err != CL_SUCCESS) {
        snprintf(why, sizeof why, "kernel %s: clBuildProgram: %s", source->name,
                 porta_cl_error_name(err));
        goto rejected;
    }
    cl_kernel probe = api->clCreateKernel(program, source->name, &err);
    if (!probe || err != CL_SUCCESS) {
        snprintf(why, sizeof why, "kernel %s: clCreateKernel: %s", source->name,
                 porta_cl_error_name(err));
        goto rejected;
    }
    api->clReleaseKernel(probe);
    return program;

rejected:
    if (program) api->clReleaseProgram(program);
    porta_cache_discard(device->context, &device->cache, "opencl", key, why);
    return NULL;
}

static porta_status get_program(porta_backend_device *device, const porta_kernel_source *source,
                                const char *options, cl_program *out_program)
{
    *out_program = NULL;
    size_t length = strlen(source->opencl_source);
    uint64_t hash = porta_hash(PORTA_HASH_SEED, source->opencl_source, length);
    for (porta_cl_program *p = device->programs; p; p = p->next)
        if (p->source_hash == hash && p->source_length == length && !strcmp(p->options, options)) {
            device->stats.reused++;
            *out_program = p->program;
            return PORTA_OK;
        }
    porta_context *context = device->context;
    porta_cl_program *entry = calloc(1, sizeof *entry);
    if (!entry) return porta_error(context, PORTA_ERROR_OUT_OF_MEMORY, "opencl: out of memory");
    snprintf(entry->options, sizeof entry->options, "%s", options);
    entry->source_hash = hash;
    entry->source_length = length;

    char key[2048];
    cache_key(device, source, options, key, sizeof key);
    entry->program = load_binary(device, source, options, key);
    if (entry->program) {
        device->stats.loaded++;
        porta_log(context, PORTA_LOG_DEBUG, "opencl: %s %s: loaded from the cache", source->name, options);
    } else {
        const porta_cl_api *api = &device->api;
        cl_int err = CL_SUCCESS;
        const char *text = source->opencl_source;
        entry->program = api->clCreateProgramWithSource(device->cl, 1, &text, NULL, &err);
        if (!entry->program || err != CL_SUCCESS) {
            free(entry);
            return porta_cl_fail(context, "clCreateProgramWithSource", err, source->name);
        }
        porta_status status = build(device, entry->program, source, options);
        if (status != PORTA_OK) {
            api->clReleaseProgram(entry->program);
            free(entry);
            return status;
        }
        device->stats.built++;
        porta_log(context, PORTA_LOG_DEBUG, "opencl: %s %s: built from source", source->name, options);
        store_binary(device, entry->program, key);
    }
    entry->next = device->programs;
    device->programs = entry;
    *out_program = entry->program;
    return PORTA_OK;
}

porta_status porta_cl_kernel_create(porta_backend_device *device, const porta_kernel_source *source,
                                    const porta_kernel_config *config,
                                    porta_backend_kernel **out_kernel)
{
    *out_kernel = NULL;
    porta_context *context = device->context;
    if (!source || !config || !source->opencl_source)
        return porta_error(context, PORTA_ERROR_INVALID_ARGUMENT, "opencl: kernel without source");
    size_t local[3], total = 1;
    for (int d = 0; d < 3; d++) {
        local[d] = config->local_size[d] ? config->local_size[d] : 1;
        total *= local[d];
        if (local[d] > device->caps.max_workgroup_dims[d])
            return porta_error(context, PORTA_ERROR_UNSUPPORTED,
                               "opencl: kernel %s: work-group size %zu in dimension %d exceeds "
                               "CL_DEVICE_MAX_WORK_ITEM_SIZES %u", source->name, local[d], d,
                               device->caps.max_workgroup_dims[d]);
    }
    if (total > device->caps.max_workgroup_size)
        return porta_error(context, PORTA_ERROR_UNSUPPORTED,
                           "opencl: kernel %s: work-group of %zu exceeds "
                           "CL_DEVICE_MAX_WORK_GROUP_SIZE %u", source->name, total,
                           device->caps.max_workgroup_size);
    char options[OPTIONS_MAX];
    porta_status status = build_options(context, source, config, options, sizeof options);
    if (status != PORTA_OK) return status;
    cl_program program;
    status = get_program(device, source, options, &program);
    if (status != PORTA_OK) return status;

    /* Creating one kernel object now checks the entry point's name early. */
    cl_int err = CL_SUCCESS;
    cl_kernel probe = device->api.clCreateKernel(program, source->name, &err);
    if (!probe || err != CL_SUCCESS) return porta_cl_fail(context, "clCreateKernel", err, source->name);
    device->api.clReleaseKernel(probe);

    porta_backend_kernel *kernel = calloc(1, sizeof *kernel);
    if (!kernel) return porta_error(context, PORTA_ERROR_OUT_OF_MEMORY, "opencl: out of memory");
    kernel->device = device;
    kernel->program = program;
    kernel->source = source;
    memcpy(kernel->local_size, local, sizeof local);
    *out_kernel = kernel;
    return PORTA_OK;
}

void porta_cl_kernel_destroy(porta_backend_kernel *kernel)
{
    if (!kernel) return;
    for (int i = 0; i < kernel->n_spare; i++) kernel->device->api.clReleaseKernel(kernel->spare[i]);
    free(kernel->spare);
    free(kernel);   /* the program stays with the device for reuse */
}
