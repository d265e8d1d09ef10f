/* Opens libvulkan at run time and resolves the function tables; no link-time dependency on it.
 * The library is the first of the platform's names (runtime/library.c), or of the
 * ':'-separated PORTA_VULKAN_LIBRARY, that loads and exports the global functions. */
#include "runtime/vulkan/vulkan_internal.h"
#include "runtime/library.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A library is usable when it exports vkGetInstanceProcAddr and that gives the global functions. */
static const char *resolve_global(void *handle, void *user)
{
    porta_vk_library *library = user;
    /* dlsym returns an object pointer; copy it into the function pointer bit for bit. */
    void *symbol = dlsym(handle, "vkGetInstanceProcAddr");
    if (!symbol) return "vkGetInstanceProcAddr";
    memcpy(&library->vkGetInstanceProcAddr, &symbol, sizeof symbol);
#define RESOLVE_(f_) \
    library->f_ = (PFN_##f_)library->vkGetInstanceProcAddr(VK_NULL_HANDLE, #f_);
    PORTA_VK_GLOBAL_FUNCTIONS(RESOLVE_)
#undef RESOLVE_
    if (!library->vkCreateInstance) return "vkCreateInstance";
    if (!library->vkEnumerateInstanceLayerProperties) return "vkEnumerateInstanceLayerProperties";
    if (!library->vkEnumerateInstanceExtensionProperties)
        return "vkEnumerateInstanceExtensionProperties";
    return NULL;
}

porta_status porta_vk_library_open(porta_context *context, porta_vk_library *library)
{
    memset(library, 0, sizeof *library);
    porta_library_search search = {
        .api = "vulkan",
        .env = "PORTA_VULKAN_LIBRARY",
        .candidates = porta_vulkan_library_names,
        .check = resolve_global,
        .user = library,
    };
    char path[sizeof library->path];
    void *handle = porta_library_open(context, &search, path, sizeof path);
    if (!handle) {
        memset(library, 0, sizeof *library);
        return PORTA_ERROR_UNSUPPORTED;
    }
    library->handle = handle;
    snprintf(library->path, sizeof library->path, "%s", path);
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
