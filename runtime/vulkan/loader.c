/* Opens libvulkan at run time and resolves the function tables; no link-time dependency on it.
 * PORTA_VULKAN_LIBRARY names another library file to open (a test points it at a missing file). */
#include "runtime/vulkan/vulkan_internal.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PORTA_VK_DEFAULT_LIBRARY "libvulkan.so.1"

porta_status porta_vk_library_open(porta_context *context, porta_vk_library *library)
{
    memset(library, 0, sizeof *library);
    const char *path = getenv("PORTA_VULKAN_LIBRARY");
    if (!path || !*path) path = PORTA_VK_DEFAULT_LIBRARY;
    snprintf(library->path, sizeof library->path, "%s", path);
    dlerror();
    library->handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!library->handle) {
        const char *why = dlerror();
        return porta_error(context, PORTA_ERROR_UNSUPPORTED,
                           "Vulkan is not available: cannot load %s: %s", path,
                           why ? why : "unknown reason");
    }
    /* dlsym returns an object pointer; copy it into the function pointer bit for bit. */
    void *symbol = dlsym(library->handle, "vkGetInstanceProcAddr");
    if (symbol) memcpy(&library->vkGetInstanceProcAddr, &symbol, sizeof symbol);
    if (!library->vkGetInstanceProcAddr) {
        porta_status status = porta_error(context, PORTA_ERROR_UNSUPPORTED,
                                          "Vulkan is not available: %s exports no vkGetInstanceProcAddr",
                                          path);
        porta_vk_library_close(library);
        return status;
    }
#define RESOLVE_(f_) \
    library->f_ = (PFN_##f_)library->vkGetInstanceProcAddr(VK_NULL_HANDLE, #f_);
    PORTA_VK_GLOBAL_FUNCTIONS(RESOLVE_)
#undef RESOLVE_
    if (!library->vkCreateInstance || !library->vkEnumerateInstanceLayerProperties ||
        !library->vkEnumerateInstanceExtensionProperties) {
        porta_status status = porta_error(context, PORTA_ERROR_UNSUPPORTED,
                                          "Vulkan is not available: %s lacks the global functions",
                                          path);
        porta_vk_library_close(library);
        return status;
    }
    return PORTA_OK;
}

void porta_vk_library_close(porta_vk_library *library)
{
    if (library->handle) dlclose(library->handle);
    library->handle = NULL;
}

porta_status porta_vk_resolve_instance(porta_context *context, porta_vk_instance *vk)
{
    PFN_vkGetInstanceProcAddr get = vk->library.vkGetInstanceProcAddr;
#define RESOLVE_(f_) \
    vk->fn.f_ = (PFN_##f_)get(vk->instance, #f_); \
    if (!vk->fn.f_) \
        return porta_error(context, PORTA_ERROR_UNSUPPORTED, \
                           "Vulkan: %s does not provide %s", vk->library.path, #f_);
    PORTA_VK_INSTANCE_FUNCTIONS(RESOLVE_)
    if (vk->validation) {
        PORTA_VK_DEBUG_FUNCTIONS(RESOLVE_)
    }
#undef RESOLVE_
    return PORTA_OK;
}

porta_status porta_vk_resolve_device(porta_context *context, porta_backend_device *device)
{
    PFN_vkGetDeviceProcAddr get = device->vk->fn.vkGetDeviceProcAddr;
#define RESOLVE_(f_) \
    device->fn.f_ = (PFN_##f_)get(device->device, #f_); \
    if (!device->fn.f_) \
        return porta_error(context, PORTA_ERROR_UNSUPPORTED, \
                           "Vulkan: device '%s' does not provide %s", device->caps.name, #f_);
    PORTA_VK_DEVICE_FUNCTIONS(RESOLVE_)
#undef RESOLVE_
    return PORTA_OK;
}

const char *porta_vk_result_name(VkResult result)
{
    switch (result) {
#define NAME_(code) case code: return #code;
    NAME_(VK_SUCCESS)
    NAME_(VK_NOT_READY)
    NAME_(VK_TIMEOUT)
    NAME_(VK_EVENT_SET)
    NAME_(VK_EVENT_RESET)
    NAME_(VK_INCOMPLETE)
    NAME_(VK_ERROR_OUT_OF_HOST_MEMORY)
    NAME_(VK_ERROR_OUT_OF_DEVICE_MEMORY)
    NAME_(VK_ERROR_INITIALIZATION_FAILED)
    NAME_(VK_ERROR_DEVICE_LOST)
    NAME_(VK_ERROR_MEMORY_MAP_FAILED)
    NAME_(VK_ERROR_LAYER_NOT_PRESENT)
    NAME_(VK_ERROR_EXTENSION_NOT_PRESENT)
    NAME_(VK_ERROR_FEATURE_NOT_PRESENT)
    NAME_(VK_ERROR_INCOMPATIBLE_DRIVER)
    NAME_(VK_ERROR_TOO_MANY_OBJECTS)
    NAME_(VK_ERROR_FORMAT_NOT_SUPPORTED)
    NAME_(VK_ERROR_FRAGMENTED_POOL)
    NAME_(VK_ERROR_UNKNOWN)
    NAME_(VK_ERROR_OUT_OF_POOL_MEMORY)
    NAME_(VK_ERROR_INVALID_EXTERNAL_HANDLE)
    NAME_(VK_ERROR_FRAGMENTATION)
    NAME_(VK_ERROR_INVALID_OPAQUE_CAPTURE_ADDRESS)
    NAME_(VK_PIPELINE_COMPILE_REQUIRED)
    NAME_(VK_ERROR_VALIDATION_FAILED_EXT)
#undef NAME_
    default: return "VK_RESULT_UNKNOWN";
    }
}

porta_status porta_vk_fail(porta_context *context, const char *call, VkResult result)
{
    porta_status status = PORTA_ERROR_DEVICE;
    if (result == VK_ERROR_OUT_OF_HOST_MEMORY || result == VK_ERROR_OUT_OF_DEVICE_MEMORY)
        status = PORTA_ERROR_OUT_OF_MEMORY;
    if (result == VK_ERROR_INCOMPATIBLE_DRIVER || result == VK_ERROR_LAYER_NOT_PRESENT ||
        result == VK_ERROR_EXTENSION_NOT_PRESENT || result == VK_ERROR_FEATURE_NOT_PRESENT)
        status = PORTA_ERROR_UNSUPPORTED;
    return porta_error(context, status, "%s: %s", call, porta_vk_result_name(result));
}
