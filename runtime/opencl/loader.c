/* Opens the OpenCL ICD loader at run time and resolves every entry point porta uses. */
#include "runtime/opencl/cl.h"
#include "runtime/library.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Resolves every entry point into the table; the name of the first one missing, or NULL. */
static const char *resolve_all(void *library, void *user)
{
    porta_cl_api *api = user;
    void *symbol;
#define PORTA_CL_RESOLVE_(ret, name, args)                                                      \
    symbol = dlsym(library, #name);                                                             \
    if (!symbol) return #name;                                                                  \
    memcpy(&api->name, &symbol, sizeof symbol);
    PORTA_CL_FUNCTIONS(PORTA_CL_RESOLVE_)
#undef PORTA_CL_RESOLVE_
    return NULL;
}

porta_status porta_cl_load(porta_context *context, porta_cl_api *api)
{
    memset(api, 0, sizeof *api);
    porta_library_search search = {
        .api = "opencl",
        .env = "PORTA_OPENCL_LIBRARY",
        .candidates = porta_opencl_library_names,
        .check = resolve_all,
        .user = api,
    };
    char path[1024];
    void *library = porta_library_open(context, &search, path, sizeof path);
    if (!library) {
        memset(api, 0, sizeof *api);
        return PORTA_ERROR_UNSUPPORTED;
    }
    api->library = library;
    snprintf(api->path, sizeof api->path, "%s", path);
    return PORTA_OK;
}

void porta_cl_unload(porta_cl_api *api)
{
    if (api && api->library) dlclose(api->library);
    if (api) memset(api, 0, sizeof *api);
}

const char *porta_cl_error_name(cl_int code)
{
    switch (code) {
#define E(name) case name: return #name;
    E(CL_SUCCESS) E(CL_DEVICE_NOT_FOUND) E(CL_DEVICE_NOT_AVAILABLE) E(CL_COMPILER_NOT_AVAILABLE)
    E(CL_MEM_OBJECT_ALLOCATION_FAILURE) E(CL_OUT_OF_RESOURCES) E(CL_OUT_OF_HOST_MEMORY)
    E(CL_PROFILING_INFO_NOT_AVAILABLE) E(CL_MEM_COPY_OVERLAP) E(CL_IMAGE_FORMAT_MISMATCH)
    E(CL_IMAGE_FORMAT_NOT_SUPPORTED) E(CL_BUILD_PROGRAM_FAILURE) E(CL_MAP_FAILURE)
    E(CL_MISALIGNED_SUB_BUFFER_OFFSET) E(CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST)
    E(CL_COMPILE_PROGRAM_FAILURE) E(CL_LINKER_NOT_AVAILABLE) E(CL_LINK_PROGRAM_FAILURE)
    E(CL_DEVICE_PARTITION_FAILED) E(CL_KERNEL_ARG_INFO_NOT_AVAILABLE)
    E(CL_INVALID_VALUE) E(CL_INVALID_DEVICE_TYPE) E(CL_INVALID_PLATFORM) E(CL_INVALID_DEVICE)
    E(CL_INVALID_CONTEXT) E(CL_INVALID_QUEUE_PROPERTIES) E(CL_INVALID_COMMAND_QUEUE)
    E(CL_INVALID_HOST_PTR) E(CL_INVALID_MEM_OBJECT) E(CL_INVALID_IMAGE_FORMAT_DESCRIPTOR)
    E(CL_INVALID_IMAGE_SIZE) E(CL_INVALID_SAMPLER) E(CL_INVALID_BINARY) E(CL_INVALID_BUILD_OPTIONS)
    E(CL_INVALID_PROGRAM) E(CL_INVALID_PROGRAM_EXECUTABLE) E(CL_INVALID_KERNEL_NAME)
    E(CL_INVALID_KERNEL_DEFINITION) E(CL_INVALID_KERNEL) E(CL_INVALID_ARG_INDEX)
    E(CL_INVALID_ARG_VALUE) E(CL_INVALID_ARG_SIZE) E(CL_INVALID_KERNEL_ARGS)
    E(CL_INVALID_WORK_DIMENSION) E(CL_INVALID_WORK_GROUP_SIZE) E(CL_INVALID_WORK_ITEM_SIZE)
    E(CL_INVALID_GLOBAL_OFFSET) E(CL_INVALID_EVENT_WAIT_LIST) E(CL_INVALID_EVENT)
    E(CL_INVALID_OPERATION) E(CL_INVALID_GL_OBJECT) E(CL_INVALID_BUFFER_SIZE)
    E(CL_INVALID_MIP_LEVEL) E(CL_INVALID_GLOBAL_WORK_SIZE) E(CL_INVALID_PROPERTY)
    E(CL_INVALID_IMAGE_DESCRIPTOR) E(CL_INVALID_COMPILER_OPTIONS) E(CL_INVALID_LINKER_OPTIONS)
    E(CL_INVALID_DEVICE_PARTITION_COUNT)
#undef E
    case -1001: return "CL_PLATFORM_NOT_FOUND_KHR";
    }
    return "CL_UNKNOWN_ERROR";
}

porta_status porta_cl_fail(porta_context *context, const char *call, cl_int code, const char *detail)
{
    porta_status status = PORTA_ERROR_DEVICE;
    if (code == CL_MEM_OBJECT_ALLOCATION_FAILURE || code == CL_OUT_OF_HOST_MEMORY ||
        code == CL_OUT_OF_RESOURCES || code == CL_INVALID_BUFFER_SIZE)
        status = PORTA_ERROR_OUT_OF_MEMORY;
    if (detail && *detail)
        return porta_error(context, status, "%s: %s (%d)\n%s", call, porta_cl_error_name(code),
                           (int)code, detail);
    return porta_error(context, status, "%s: %s (%d)", call, porta_cl_error_name(code), (int)code);
}
