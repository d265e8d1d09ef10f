/* OpenCL devices: enumeration across every platform, the capability probe, and opening a device
 * (a context and an in-order queue). Platforms without devices (Mesa's Clover here, or rusticl
 * without RUSTICL_ENABLE) are skipped. */
#include "runtime/opencl/cl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PLATFORMS 16
#define MAX_DEVICES_PER_PLATFORM 16

/* Calls `visit` for each device of each platform in order until it returns true. */
static porta_status each_device(porta_context *context, const porta_cl_api *api,
                                bool (*visit)(void *user, int index, cl_platform_id, cl_device_id),
                                void *user, int *out_count)
{
    *out_count = 0;
    cl_platform_id platforms[MAX_PLATFORMS];
    cl_uint n_platforms = 0;
    cl_int err = api->clGetPlatformIDs(MAX_PLATFORMS, platforms, &n_platforms);
    if (err == CL_PLATFORM_NOT_FOUND_KHR || (err == CL_SUCCESS && n_platforms == 0))
        return PORTA_OK;    /* a loader without any driver: no devices, not an error */
    if (err != CL_SUCCESS) return porta_cl_fail(context, "clGetPlatformIDs", err, NULL);
    if (n_platforms > MAX_PLATFORMS) n_platforms = MAX_PLATFORMS;
    int index = 0;
    for (cl_uint p = 0; p < n_platforms; p++) {
        cl_device_id devices[MAX_DEVICES_PER_PLATFORM];
        cl_uint n_devices = 0;
        err = api->clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, MAX_DEVICES_PER_PLATFORM,
                                  devices, &n_devices);
        if (err == CL_DEVICE_NOT_FOUND || n_devices == 0) continue;
        if (err != CL_SUCCESS) {
            porta_log(context, PORTA_LOG_WARNING, "opencl: platform %u skipped: clGetDeviceIDs: %s", p,
                      porta_cl_error_name(err));
            continue;
        }
        if (n_devices > MAX_DEVICES_PER_PLATFORM) n_devices = MAX_DEVICES_PER_PLATFORM;
        for (cl_uint d = 0; d < n_devices; d++, index++)
            if (visit && visit(user, index, platforms[p], devices[d])) {
                *out_count = index + 1;
                return PORTA_OK;
            }
    }
    *out_count = index;
    return PORTA_OK;
}

static void device_string(const porta_cl_api *api, cl_device_id device, cl_device_info what,
                          char *out, size_t size)
{
    out[0] = '\0';
    size_t needed = 0;
    if (api->clGetDeviceInfo(device, what, 0, NULL, &needed) != CL_SUCCESS || needed == 0) return;
    char *text = calloc(1, needed + 1);
    if (text && api->clGetDeviceInfo(device, what, needed, text, NULL) == CL_SUCCESS)
        snprintf(out, size, "%s", text);    /* truncated to fit */
    free(text);
}

porta_status porta_cl_probe(porta_context *context, const porta_cl_api *api, cl_device_id device,
                            porta_device_caps *caps)
{
    memset(caps, 0, sizeof *caps);
    device_string(api, device, CL_DEVICE_VENDOR, caps->vendor, sizeof caps->vendor);
    device_string(api, device, CL_DEVICE_NAME, caps->name, sizeof caps->name);
    device_string(api, device, CL_DRIVER_VERSION, caps->driver_version, sizeof caps->driver_version);
    device_string(api, device, CL_DEVICE_VERSION, caps->api_version, sizeof caps->api_version);

    cl_device_type type = 0;
    cl_bool unified = CL_FALSE;
    cl_uint vendor_id = 0, align_bits = 0, dims = 0;
    cl_ulong global = 0, max_alloc = 0, local = 0;
    size_t max_wg = 0, sizes[3] = {0, 0, 0}, resolution = 0, ext_size = 0;
    struct { cl_device_info what; size_t size; void *out; } queries[] = {
        {CL_DEVICE_TYPE, sizeof type, &type},
        {CL_DEVICE_HOST_UNIFIED_MEMORY, sizeof unified, &unified},
        {CL_DEVICE_VENDOR_ID, sizeof vendor_id, &vendor_id},
        {CL_DEVICE_MEM_BASE_ADDR_ALIGN, sizeof align_bits, &align_bits},
        {CL_DEVICE_GLOBAL_MEM_SIZE, sizeof global, &global},
        {CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof max_alloc, &max_alloc},
        {CL_DEVICE_LOCAL_MEM_SIZE, sizeof local, &local},
        {CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof max_wg, &max_wg},
        {CL_DEVICE_MAX_WORK_ITEM_DIMENSIONS, sizeof dims, &dims},
        {CL_DEVICE_PROFILING_TIMER_RESOLUTION, sizeof resolution, &resolution},
    };
    for (size_t i = 0; i < sizeof queries / sizeof queries[0]; i++) {
        cl_int err = api->clGetDeviceInfo(device, queries[i].what, queries[i].size, queries[i].out,
                                          NULL);
        if (err != CL_SUCCESS) return porta_cl_fail(context, "clGetDeviceInfo", err, NULL);
    }
    if (dims >= 3) {
        size_t all[16] = {0};
        if (dims <= 16 &&
            api->clGetDeviceInfo(device, CL_DEVICE_MAX_WORK_ITEM_SIZES, dims * sizeof(size_t), all,
                                 NULL) == CL_SUCCESS)
            memcpy(sizes, all, sizeof sizes);
    }

    if (type & CL_DEVICE_TYPE_GPU)
        caps->type = unified ? PORTA_DEVICE_INTEGRATED_GPU : PORTA_DEVICE_DISCRETE_GPU;
    else if (type & CL_DEVICE_TYPE_CPU)
        caps->type = PORTA_DEVICE_CPU;
    else
        caps->type = PORTA_DEVICE_OTHER;
    caps->vendor_id = vendor_id;
    caps->memory_bytes = global;
    caps->max_buffer_bytes = max_alloc;
    caps->max_workgroup_size = max_wg > UINT32_MAX ? UINT32_MAX : (uint32_t)max_wg;
    for (int d = 0; d < 3; d++)
        caps->max_workgroup_dims[d] = sizes[d] > UINT32_MAX ? UINT32_MAX : (uint32_t)sizes[d];
    caps->shared_memory_bytes = local;
    caps->timestamps = resolution > 0;
    caps->buffer_alignment = align_bits >= 8 ? align_bits / 8 : 4;

    /* Extensions: fp16, and the vendor queries for the SIMD width (OpenCL 1.2 has no portable
     * subgroup size query). */
    if (api->clGetDeviceInfo(device, CL_DEVICE_EXTENSIONS, 0, NULL, &ext_size) == CL_SUCCESS &&
        ext_size > 0) {
        char *ext = malloc(ext_size + 1);
        if (ext && api->clGetDeviceInfo(device, CL_DEVICE_EXTENSIONS, ext_size, ext, NULL) ==
                       CL_SUCCESS) {
            ext[ext_size] = '\0';
            caps->fp16 = strstr(ext, "cl_khr_fp16") != NULL;
            cl_uint width = 0;
            if (strstr(ext, "cl_nv_device_attribute_query") &&
                api->clGetDeviceInfo(device, CL_DEVICE_WARP_SIZE_NV, sizeof width, &width, NULL) ==
                    CL_SUCCESS)
                caps->subgroup_size = width;
            if (strstr(ext, "cl_amd_device_attribute_query") &&
                api->clGetDeviceInfo(device, CL_DEVICE_WAVEFRONT_WIDTH_AMD, sizeof width, &width,
                                     NULL) == CL_SUCCESS)
                caps->subgroup_size = width;
        }
        free(ext);
    }
    return PORTA_OK;
}

typedef struct enumerate_state {
    porta_context *context;
    const porta_cl_api *api;
    porta_device_caps *caps;
    int max;
    porta_status status;
} enumerate_state;

static bool probe_visit(void *user, int index, cl_platform_id platform, cl_device_id device)
{
    (void)platform;
    enumerate_state *state = user;
    if (index >= state->max) return false;
    porta_status status = porta_cl_probe(state->context, state->api, device, &state->caps[index]);
    if (status != PORTA_OK) state->status = status;
    return status != PORTA_OK;
}

/* Why a library that loaded gives no devices: no platform at all (an ICD loader with no driver
 * registered), or platforms that have none (a driver with its devices switched off). */
static porta_status no_devices(porta_context *context, const porta_cl_api *api)
{
    cl_platform_id platforms[MAX_PLATFORMS];
    cl_uint n = 0;
    cl_int err = api->clGetPlatformIDs(MAX_PLATFORMS, platforms, &n);
    if (err == CL_PLATFORM_NOT_FOUND_KHR || (err == CL_SUCCESS && n == 0))
        return porta_error(context, PORTA_ERROR_UNSUPPORTED,
                           "opencl: %s loaded, but it lists no platforms (no OpenCL driver is "
                           "installed, or the ICD loader finds none registered)", api->path);
    if (err != CL_SUCCESS) return porta_cl_fail(context, "clGetPlatformIDs", err, NULL);
    if (n > MAX_PLATFORMS) n = MAX_PLATFORMS;
    char names[512] = "";
    for (cl_uint p = 0; p < n; p++) {
        char name[128] = "";
        api->clGetPlatformInfo(platforms[p], CL_PLATFORM_NAME, sizeof name - 1, name, NULL);
        size_t used = strlen(names);
        snprintf(names + used, sizeof names - used, "%s%s", p ? ", " : "", name);
    }
    return porta_error(context, PORTA_ERROR_UNSUPPORTED,
                       "opencl: %s loaded; its %u platform%s (%s) list%s no devices", api->path,
                       (unsigned)n, n == 1 ? "" : "s", names, n == 1 ? "s" : "");
}

static porta_status cl_enumerate(porta_context *context, porta_device_caps *out_caps, int max_caps,
                                 int *out_count)
{
    *out_count = 0;
    porta_cl_api api;
    porta_status status = porta_cl_load(context, &api);
    if (status != PORTA_OK) return status;
    enumerate_state state = {context, &api, out_caps, out_caps ? max_caps : 0, PORTA_OK};
    int count = 0;
    status = each_device(context, &api, probe_visit, &state, &count);
    if (status == PORTA_OK) status = state.status;
    if (status == PORTA_OK && count == 0) status = no_devices(context, &api);
    porta_cl_unload(&api);
    if (status == PORTA_OK) *out_count = count;
    return status;
}

typedef struct find_state {
    int index;
    cl_platform_id platform;
    cl_device_id device;
} find_state;

static bool find_visit(void *user, int index, cl_platform_id platform, cl_device_id device)
{
    find_state *state = user;
    if (index != state->index) return false;
    state->platform = platform;
    state->device = device;
    return true;
}

porta_status porta_cl_find_device(porta_context *context, const porta_cl_api *api, int index,
                                  cl_platform_id *out_platform, cl_device_id *out_device,
                                  int *out_count)
{
    find_state state = {index, NULL, NULL};
    porta_status status = each_device(context, api, find_visit, &state, out_count);
    *out_platform = state.platform;
    *out_device = state.device;
    if (status == PORTA_OK && !state.device)
        return porta_error(context, PORTA_ERROR_NOT_FOUND, "opencl:%d: no such device (%d found)",
                           index, *out_count);
    return status;
}

static void cl_device_close(porta_backend_device *device)
{
    if (!device) return;
    porta_cl_programs_release(device);
    if (device->profiling_queue) device->api.clReleaseCommandQueue(device->profiling_queue);
    if (device->queue) device->api.clReleaseCommandQueue(device->queue);
    if (device->cl) device->api.clReleaseContext(device->cl);
    porta_cl_unload(&device->api);
    free(device);
}

static porta_status cl_device_open(porta_context *context, int index,
                                   porta_backend_device **out_device)
{
    *out_device = NULL;
    porta_backend_device *device = calloc(1, sizeof *device);
    if (!device) return porta_error(context, PORTA_ERROR_OUT_OF_MEMORY, "opencl: out of memory");
    device->context = context;
    int count = 0;
    porta_status status = porta_cl_load(context, &device->api);
    if (status == PORTA_OK)
        status = porta_cl_find_device(context, &device->api, index, &device->platform,
                                      &device->device, &count);
    if (status == PORTA_OK)
        status = porta_cl_probe(context, &device->api, device->device, &device->caps);
    if (status != PORTA_OK) {
        cl_device_close(device);
        return status;
    }
    const porta_cl_api *api = &device->api;
    api->clGetPlatformInfo(device->platform, CL_PLATFORM_NAME, sizeof device->platform_name,
                           device->platform_name, NULL);
    api->clGetPlatformInfo(device->platform, CL_PLATFORM_VERSION, sizeof device->platform_version,
                           device->platform_version, NULL);
    device->platform_name[sizeof device->platform_name - 1] = '\0';
    device->platform_version[sizeof device->platform_version - 1] = '\0';

    cl_int err = CL_SUCCESS;
    cl_context_properties properties[] = {CL_CONTEXT_PLATFORM,
                                          (cl_context_properties)device->platform, 0};
    device->cl = api->clCreateContext(properties, 1, &device->device, NULL, NULL, &err);
    if (!device->cl || err != CL_SUCCESS) {
        status = porta_cl_fail(context, "clCreateContext", err, NULL);
        cl_device_close(device);
        return status;
    }
    device->queue = api->clCreateCommandQueue(device->cl, device->device, 0, &err);
    if (!device->queue || err != CL_SUCCESS) {
        status = porta_cl_fail(context, "clCreateCommandQueue", err, NULL);
        cl_device_close(device);
        return status;
    }
    porta_cache_init(context, &device->cache);
    porta_log(context, PORTA_LOG_INFO, "opencl:%d: %s (%s, %s)", index, device->caps.name, device->platform_name,
              device->caps.driver_version);
    *out_device = device;
    return PORTA_OK;
}

static const porta_device_caps *cl_device_caps(const porta_backend_device *device)
{
    return &device->caps;
}

static void cl_device_stats(const porta_backend_device *device, porta_cache_stats *out_stats)
{
    *out_stats = device->stats;
}

static const porta_backend opencl_backend = {
    .api = PORTA_API_OPENCL,
    .name = "opencl",
    .enumerate = cl_enumerate,
    .device_open = cl_device_open,
    .device_close = cl_device_close,
    .device_caps = cl_device_caps,
    .buffer_create = porta_cl_buffer_create,
    .buffer_destroy = porta_cl_buffer_destroy,
    .buffer_upload = porta_cl_buffer_upload,
    .buffer_download = porta_cl_buffer_download,
    .kernel_create = porta_cl_kernel_create,
    .kernel_destroy = porta_cl_kernel_destroy,
    .sequence_create = porta_cl_sequence_create,
    .sequence_submit = porta_cl_sequence_submit,
    .sequence_poll = porta_cl_sequence_poll,
    .sequence_wait = porta_cl_sequence_wait,
    .sequence_times = porta_cl_sequence_times,
    .sequence_destroy = porta_cl_sequence_destroy,
    .device_stats = cl_device_stats,
};

const porta_backend *porta_backend_opencl(void)
{
    return &opencl_backend;
}
