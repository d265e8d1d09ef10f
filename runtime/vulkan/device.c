/* Enumeration, the capability probe, and opening and closing a device with one compute queue. */
#include "runtime/vulkan/vulkan_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *vendor_name(uint32_t id)
{
    switch (id) {
    case 0x1002: return "AMD";
    case 0x1010: return "Imagination";
    case 0x106b: return "Apple";
    case 0x10de: return "NVIDIA";
    case 0x13b5: return "ARM";
    case 0x5143: return "Qualcomm";
    case 0x8086: return "Intel";
    case 0x10005: return "Mesa";          /* VK_VENDOR_ID_MESA: lavapipe and other software drivers */
    default: return NULL;
    }
}

static porta_device_type device_type(VkPhysicalDeviceType type)
{
    switch (type) {
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return PORTA_DEVICE_INTEGRATED_GPU;
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return PORTA_DEVICE_DISCRETE_GPU;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return PORTA_DEVICE_VIRTUAL_GPU;
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return PORTA_DEVICE_CPU;
    default: return PORTA_DEVICE_OTHER;
    }
}

/* The first queue family with compute; UINT32_MAX if none. */
static uint32_t compute_family(porta_vk_instance *vk, VkPhysicalDevice physical,
                               uint32_t *out_timestamp_bits)
{
    uint32_t count = 0;
    vk->fn.vkGetPhysicalDeviceQueueFamilyProperties(physical, &count, NULL);
    VkQueueFamilyProperties *families = calloc(count ? count : 1, sizeof *families);
    uint32_t found = UINT32_MAX;
    *out_timestamp_bits = 0;
    if (!families) return found;
    vk->fn.vkGetPhysicalDeviceQueueFamilyProperties(physical, &count, families);
    for (uint32_t i = 0; i < count && found == UINT32_MAX; i++) {
        if (families[i].queueFlags & VK_QUEUE_COMPUTE_BIT) {
            found = i;
            *out_timestamp_bits = families[i].timestampValidBits;
        }
    }
    free(families);
    return found;
}

/* Fills caps (and the raw properties when asked) for one physical device. */
static void probe(porta_vk_instance *vk, VkPhysicalDevice physical, porta_device_caps *caps,
                  VkPhysicalDeviceProperties *out_properties,
                  VkPhysicalDeviceMemoryProperties *out_memory, VkDeviceSize *out_max_allocation)
{
    memset(caps, 0, sizeof *caps);
    VkPhysicalDeviceProperties base;
    vk->fn.vkGetPhysicalDeviceProperties(physical, &base);
    bool v12 = base.apiVersion >= VK_API_VERSION_1_2;

    VkPhysicalDeviceDriverProperties driver = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES};
    VkPhysicalDeviceMaintenance3Properties maintenance3 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES,
        .pNext = v12 ? &driver : NULL,
    };
    VkPhysicalDeviceSubgroupProperties subgroup = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES,
        .pNext = &maintenance3,
    };
    VkPhysicalDeviceProperties2 properties = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
        .pNext = &subgroup,
    };
    vk->fn.vkGetPhysicalDeviceProperties2(physical, &properties);
    const VkPhysicalDeviceProperties *p = &properties.properties;
    const VkPhysicalDeviceLimits *limits = &p->limits;

    VkPhysicalDeviceShaderFloat16Int8Features float16 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES,
    };
    VkPhysicalDevice16BitStorageFeatures storage16 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES,
        .pNext = v12 ? &float16 : NULL,
    };
    VkPhysicalDeviceFeatures2 features = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
        .pNext = &storage16,
    };
    vk->fn.vkGetPhysicalDeviceFeatures2(physical, &features);

    VkPhysicalDeviceMemoryProperties memory;
    vk->fn.vkGetPhysicalDeviceMemoryProperties(physical, &memory);
    for (uint32_t i = 0; i < memory.memoryHeapCount; i++)
        if (memory.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT)
            caps->memory_bytes += memory.memoryHeaps[i].size;

    uint32_t timestamp_bits = 0;
    compute_family(vk, physical, &timestamp_bits);

    const char *vendor = vendor_name(p->vendorID);
    if (vendor) snprintf(caps->vendor, sizeof caps->vendor, "%s", vendor);
    else snprintf(caps->vendor, sizeof caps->vendor, "0x%04x", p->vendorID);
    snprintf(caps->name, sizeof caps->name, "%s", p->deviceName);
    if (v12 && driver.driverName[0])
        snprintf(caps->driver_version, sizeof caps->driver_version, "%.63s %.63s", driver.driverName,
                 driver.driverInfo);
    else
        snprintf(caps->driver_version, sizeof caps->driver_version, "0x%08x", p->driverVersion);
    snprintf(caps->api_version, sizeof caps->api_version, "Vulkan %u.%u.%u",
             VK_API_VERSION_MAJOR(p->apiVersion), VK_API_VERSION_MINOR(p->apiVersion),
             VK_API_VERSION_PATCH(p->apiVersion));
    caps->type = device_type(p->deviceType);
    caps->vendor_id = p->vendorID;
    caps->max_buffer_bytes = limits->maxStorageBufferRange;
    if (maintenance3.maxMemoryAllocationSize &&
        maintenance3.maxMemoryAllocationSize < caps->max_buffer_bytes)
        caps->max_buffer_bytes = maintenance3.maxMemoryAllocationSize;
    caps->max_workgroup_size = limits->maxComputeWorkGroupInvocations;
    for (int d = 0; d < 3; d++) caps->max_workgroup_dims[d] = limits->maxComputeWorkGroupSize[d];
    caps->shared_memory_bytes = limits->maxComputeSharedMemorySize;
    caps->subgroup_size = (subgroup.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT)
                              ? subgroup.subgroupSize : 0;
    caps->fp16 = v12 && float16.shaderFloat16;
    /* PORTA_VULKAN_STORAGE16=0 takes the path of devices without it (tests run both) */
    const char *storage16_env = getenv("PORTA_VULKAN_STORAGE16");
    caps->storage16 = storage16.storageBuffer16BitAccess &&
                      !(storage16_env && !strcmp(storage16_env, "0"));
    caps->timestamps = limits->timestampPeriod > 0 && timestamp_bits > 0;
    caps->buffer_alignment = (uint32_t)limits->minStorageBufferOffsetAlignment;

    if (out_properties) *out_properties = *p;
    if (out_memory) *out_memory = memory;
    if (out_max_allocation) *out_max_allocation = maintenance3.maxMemoryAllocationSize;
}

/* The physical devices of an instance, malloc'd. */
static porta_status physical_devices(porta_context *context, porta_vk_instance *vk,
                                     VkPhysicalDevice **out, uint32_t *out_count)
{
    *out = NULL;
    *out_count = 0;
    uint32_t count = 0;
    VkResult result = vk->fn.vkEnumeratePhysicalDevices(vk->instance, &count, NULL);
    if (result != VK_SUCCESS) return porta_vk_fail(context, "vkEnumeratePhysicalDevices", result);
    if (!count) return PORTA_OK;
    VkPhysicalDevice *devices = calloc(count, sizeof *devices);
    if (!devices) return porta_error(context, PORTA_ERROR_OUT_OF_MEMORY, "out of memory");
    result = vk->fn.vkEnumeratePhysicalDevices(vk->instance, &count, devices);
    if (result < VK_SUCCESS) {
        free(devices);
        return porta_vk_fail(context, "vkEnumeratePhysicalDevices", result);
    }
    *out = devices;
    *out_count = count;
    return PORTA_OK;
}

porta_status porta_vk_enumerate(porta_context *context, porta_device_caps *out_caps, int max_caps,
                                int *out_count)
{
    if (!out_count) return porta_error(context, PORTA_ERROR_INVALID_ARGUMENT, "out_count is NULL");
    *out_count = 0;
    porta_vk_instance *vk;
    porta_status status = porta_vk_instance_create(context, &vk);
    if (status != PORTA_OK) return status;
    VkPhysicalDevice *devices;
    uint32_t count;
    status = physical_devices(context, vk, &devices, &count);
    if (status == PORTA_OK && count == 0)
        status = porta_error(context, PORTA_ERROR_UNSUPPORTED,
                             "vulkan: %s loaded, but its drivers expose no devices",
                             vk->library.path);
    if (status == PORTA_OK) {
        int n = 0;
        for (uint32_t i = 0; i < count; i++) {
            if (out_caps && n < max_caps) probe(vk, devices[i], &out_caps[n], NULL, NULL, NULL);
            if (!out_caps || n < max_caps) n++;
        }
        *out_count = n;
    }
    free(devices);
    if (vk->messages)
        status = porta_error(context, PORTA_ERROR_DEVICE, "Vulkan validation: %s", vk->first_message);
    porta_vk_instance_destroy(vk);
    return status;
}

static porta_status create_device(porta_context *context, porta_backend_device *device)
{
    porta_vk_instance *vk = device->vk;
    float priority = 1.0f;
    VkDeviceQueueCreateInfo queue = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
        .queueFamilyIndex = device->queue_family,
        .queueCount = 1,
        .pQueuePriorities = &priority,
    };
    /* fp16 arithmetic is enabled where the device has it, so kernel variants may use it. */
    VkPhysicalDeviceShaderFloat16Int8Features float16 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES,
        .shaderFloat16 = device->caps.fp16,
    };
    VkPhysicalDevice16BitStorageFeatures storage16 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES,
        .pNext = device->caps.fp16 ? &float16 : NULL,
        .storageBuffer16BitAccess = device->caps.storage16,
    };
    VkDeviceCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
        .pNext = &storage16,
        .queueCreateInfoCount = 1,
        .pQueueCreateInfos = &queue,
    };
    VkResult result = vk->fn.vkCreateDevice(device->physical, &info, NULL, &device->device);
    if (result != VK_SUCCESS) {
        device->device = VK_NULL_HANDLE;
        return porta_vk_fail(context, "vkCreateDevice", result);
    }
    porta_status status = porta_vk_resolve_device(context, device);
    if (status != PORTA_OK) {
        PFN_vkDestroyDevice destroy =
            (PFN_vkDestroyDevice)vk->fn.vkGetDeviceProcAddr(device->device, "vkDestroyDevice");
        if (destroy) destroy(device->device, NULL);
        device->device = VK_NULL_HANDLE;
        return status;
    }
    device->fn.vkGetDeviceQueue(device->device, device->queue_family, 0, &device->queue);
    VkCommandPoolCreateInfo pool = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
        .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
        .queueFamilyIndex = device->queue_family,
    };
    result = device->fn.vkCreateCommandPool(device->device, &pool, NULL, &device->command_pool);
    if (result != VK_SUCCESS) {
        device->command_pool = VK_NULL_HANDLE;
        return porta_vk_fail(context, "vkCreateCommandPool", result);
    }
    return PORTA_OK;
}

porta_status porta_vk_device_open(porta_context *context, int index,
                                  porta_backend_device **out_device)
{
    if (!out_device) return porta_error(context, PORTA_ERROR_INVALID_ARGUMENT, "out_device is NULL");
    *out_device = NULL;
    porta_backend_device *device = calloc(1, sizeof *device);
    if (!device) return porta_error(context, PORTA_ERROR_OUT_OF_MEMORY, "out of memory");
    device->context = context;
    porta_status status = porta_vk_instance_create(context, &device->vk);
    if (status != PORTA_OK) {
        free(device);
        return status;
    }
    VkPhysicalDevice *devices = NULL;
    uint32_t count = 0;
    status = physical_devices(context, device->vk, &devices, &count);
    if (status != PORTA_OK) goto fail;
    if (index < 0 || (uint32_t)index >= count) {
        status = porta_error(context, PORTA_ERROR_NOT_FOUND,
                             "Vulkan device %d does not exist (%u found)", index, count);
        goto fail;
    }
    device->physical = devices[index];
    probe(device->vk, device->physical, &device->caps, &device->properties,
          &device->memory_properties, &device->max_allocation);
    device->queue_family = compute_family(device->vk, device->physical, &device->timestamp_bits);
    if (device->queue_family == UINT32_MAX) {
        status = porta_error(context, PORTA_ERROR_UNSUPPORTED,
                             "Vulkan device '%s' has no compute queue", device->caps.name);
        goto fail;
    }
    status = create_device(context, device);
    if (status == PORTA_OK) status = porta_vk_memory_init(device);
    if (status == PORTA_OK) status = porta_vk_pipeline_cache_open(device);
    if (status != PORTA_OK) goto fail;
    free(devices);
    porta_log(context, PORTA_LOG_INFO, "vulkan: opened '%s' (%s), queue family %u", device->caps.name,
              device->caps.driver_version, device->queue_family);
    *out_device = device;
    return PORTA_OK;

fail:
    free(devices);
    porta_vk_device_close(device);
    return status;
}

void porta_vk_device_close(porta_backend_device *device)
{
    if (!device) return;
    if (device->device) {
        device->fn.vkDeviceWaitIdle(device->device);
        porta_vk_pipeline_cache_close(device);
        porta_vk_memory_release(device);
        if (device->command_pool)
            device->fn.vkDestroyCommandPool(device->device, device->command_pool, NULL);
        device->fn.vkDestroyDevice(device->device, NULL);
    }
    porta_vk_instance_destroy(device->vk);
    free(device);
}

uint64_t porta_vk_validation_messages(const porta_backend_device *device, const char **out_first)
{
    if (out_first) *out_first = "";
    if (!device || !device->vk) return 0;
    uint64_t n = atomic_load(&device->vk->messages);
    if (out_first && n) *out_first = device->vk->first_message;
    return n;
}
