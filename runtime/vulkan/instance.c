/* The Vulkan instance, and the validation switch: PORTA_VULKAN_VALIDATION=1 enables
 * VK_LAYER_KHRONOS_validation with synchronization validation and a VK_EXT_debug_utils messenger
 * that counts the layer's warnings and errors (not the loader's notices) and logs the first one
 * (porta_log, level info). Validation asked for but not installed is PORTA_ERROR_UNSUPPORTED. */
#include "runtime/vulkan/vulkan_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VALIDATION_LAYER "VK_LAYER_KHRONOS_validation"

static bool validation_requested(void)
{
    const char *value = getenv("PORTA_VULKAN_VALIDATION");
    return value && *value && strcmp(value, "0") != 0;
}

static VKAPI_ATTR VkBool32 VKAPI_CALL on_message(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                 VkDebugUtilsMessageTypeFlagsEXT types,
                                                 const VkDebugUtilsMessengerCallbackDataEXT *data,
                                                 void *user)
{
    porta_vk_instance *vk = user;
    if (!(severity & (VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
                      VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT)))
        return VK_FALSE;
    /* The loader reports through the same messenger with only the general type (e.g. a driver
     * file for another architecture); that is not a fault of porta's API use, so it is logged,
     * not counted. The validation layer's findings carry the validation or performance type. */
    if (!(types & (VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                   VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT))) {
        porta_log(vk->log_context, PORTA_LOG_DEBUG, "vulkan loader: %s",
                  data && data->pMessage ? data->pMessage : "");
        return VK_FALSE;
    }
    atomic_fetch_add(&vk->messages, 1);
    if (!atomic_flag_test_and_set(&vk->first_taken)) {
        snprintf(vk->first_message, sizeof vk->first_message, "%s: %s",
                 data && data->pMessageIdName ? data->pMessageIdName : "validation",
                 data && data->pMessage ? data->pMessage : "");
        porta_log(vk->log_context, PORTA_LOG_WARNING, "vulkan validation: %s", vk->first_message);
    }
    return VK_FALSE;
}

static bool has_layer(porta_vk_library *library, const char *name)
{
    uint32_t count = 0;
    if (library->vkEnumerateInstanceLayerProperties(&count, NULL) != VK_SUCCESS || !count)
        return false;
    VkLayerProperties *layers = calloc(count, sizeof *layers);
    bool found = false;
    if (layers && library->vkEnumerateInstanceLayerProperties(&count, layers) >= VK_SUCCESS)
        for (uint32_t i = 0; i < count && !found; i++) found = !strcmp(layers[i].layerName, name);
    free(layers);
    return found;
}

porta_status porta_vk_instance_create(porta_context *context, porta_vk_instance **out_vk)
{
    *out_vk = NULL;
    porta_vk_instance *vk = calloc(1, sizeof *vk);
    if (!vk) return porta_error(context, PORTA_ERROR_OUT_OF_MEMORY, "out of memory");
    atomic_init(&vk->messages, 0);
    atomic_flag_clear(&vk->first_taken);
    vk->log_context = context;
    porta_status status = porta_vk_library_open(context, &vk->library);
    if (status != PORTA_OK) {
        free(vk);
        return status;
    }
    vk->version = VK_API_VERSION_1_0;
    if (vk->library.vkEnumerateInstanceVersion)
        vk->library.vkEnumerateInstanceVersion(&vk->version);
    if (vk->version < VK_API_VERSION_1_1) {
        status = porta_error(context, PORTA_ERROR_UNSUPPORTED,
                             "vulkan: the loader %s offers version %u.%u; porta needs 1.1",
                             vk->library.path, VK_API_VERSION_MAJOR(vk->version),
                             VK_API_VERSION_MINOR(vk->version));
        goto fail;
    }

    vk->validation = validation_requested();
    if (vk->validation && !has_layer(&vk->library, VALIDATION_LAYER)) {
        status = porta_error(context, PORTA_ERROR_UNSUPPORTED,
                             "PORTA_VULKAN_VALIDATION is set but %s is not installed "
                             "(Debian: vulkan-validationlayers)", VALIDATION_LAYER);
        goto fail;
    }

    VkApplicationInfo app = {
        .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
        .pApplicationName = "porta",
        .pEngineName = "porta",
        .apiVersion = VK_API_VERSION_1_2,
    };
    const char *layers[] = {VALIDATION_LAYER};
    const char *extensions[] = {VK_EXT_DEBUG_UTILS_EXTENSION_NAME};
    VkValidationFeatureEnableEXT enables[] = {
        VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT,
    };
    VkDebugUtilsMessengerCreateInfoEXT messenger_info = {
        .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
        .messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
                           VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT,
        .messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
                       VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                       VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT,
        .pfnUserCallback = on_message,
        .pUserData = vk,
    };
    /* The messenger in pNext also sees vkCreateInstance and vkDestroyInstance. */
    VkValidationFeaturesEXT features = {
        .sType = VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT,
        .pNext = &messenger_info,
        .enabledValidationFeatureCount = 1,
        .pEnabledValidationFeatures = enables,
    };
    VkInstanceCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
        .pNext = vk->validation ? &features : NULL,
        .pApplicationInfo = &app,
        .enabledLayerCount = vk->validation ? 1 : 0,
        .ppEnabledLayerNames = layers,
        .enabledExtensionCount = vk->validation ? 1 : 0,
        .ppEnabledExtensionNames = extensions,
    };
    VkResult result = vk->library.vkCreateInstance(&info, NULL, &vk->instance);
    if (result != VK_SUCCESS) {
        vk->instance = VK_NULL_HANDLE;
        if (result == VK_ERROR_INCOMPATIBLE_DRIVER)
            /* The loader's answer when it found no driver manifest, or only drivers of an older
             * Vulkan or another architecture. */
            status = porta_error(context, PORTA_ERROR_UNSUPPORTED,
                                 "vulkan: %s loaded, but it found no driver it can use (no driver "
                                 "installed, or none for Vulkan 1.1 or this architecture; "
                                 "vkCreateInstance: VK_ERROR_INCOMPATIBLE_DRIVER)",
                                 vk->library.path);
        else
            status = porta_vk_fail(context, "vkCreateInstance", result);
        goto fail;
    }
    status = porta_vk_resolve_instance(context, vk);
    if (status != PORTA_OK) goto fail;
    if (vk->validation) {
        result = vk->fn.vkCreateDebugUtilsMessengerEXT(vk->instance, &messenger_info, NULL,
                                                       &vk->messenger);
        if (result != VK_SUCCESS) {
            vk->messenger = VK_NULL_HANDLE;
            status = porta_vk_fail(context, "vkCreateDebugUtilsMessengerEXT", result);
            goto fail;
        }
    }
    porta_log(context, PORTA_LOG_DEBUG, "vulkan: instance %u.%u.%u from %s%s", VK_API_VERSION_MAJOR(vk->version),
              VK_API_VERSION_MINOR(vk->version), VK_API_VERSION_PATCH(vk->version),
              vk->library.path, vk->validation ? ", validation on" : "");
    *out_vk = vk;
    return PORTA_OK;

fail:
    porta_vk_instance_destroy(vk);
    return status;
}

void porta_vk_instance_destroy(porta_vk_instance *vk)
{
    if (!vk) return;
    if (vk->instance) {
        if (vk->messenger && vk->fn.vkDestroyDebugUtilsMessengerEXT)
            vk->fn.vkDestroyDebugUtilsMessengerEXT(vk->instance, vk->messenger, NULL);
        PFN_vkDestroyInstance destroy = vk->fn.vkDestroyInstance;
        if (!destroy)
            destroy = (PFN_vkDestroyInstance)vk->library.vkGetInstanceProcAddr(vk->instance,
                                                                               "vkDestroyInstance");
        if (destroy) destroy(vk->instance, NULL);
    }
    porta_vk_library_close(&vk->library);
    free(vk);
}
