/* Kernels: shader modules, descriptor-set and pipeline layouts, specialization constants, and the
 * VkPipelineCache kept on disk through runtime/cache.h. The cache entry's key names the driver's
 * pipelineCacheUUID, the vendor and device ids, the driver version and the device name, so a
 * driver update misses instead of feeding the driver a stale blob. */
#include "runtime/vulkan/vulkan_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PIPELINE_CACHE_FORMAT 1
#define PIPELINE_CACHE_KIND "vkpipeline"

/* ---- the pipeline cache -------------------------------------------------------------------- */

static void cache_key(porta_backend_device *device)
{
    const VkPhysicalDeviceProperties *p = &device->properties;
    char uuid[2 * VK_UUID_SIZE + 1];
    for (unsigned i = 0; i < VK_UUID_SIZE; i++)
        snprintf(uuid + 2 * i, 3, "%02x", p->pipelineCacheUUID[i]);
    snprintf(device->pipeline_cache_key, sizeof device->pipeline_cache_key,
             "porta vulkan pipeline cache %d\nuuid %s\nvendor 0x%x\ndevice 0x%x\ndriver 0x%x\n"
             "driver info %s\nname %s\n", PIPELINE_CACHE_FORMAT, uuid, p->vendorID, p->deviceID,
             p->driverVersion, device->caps.driver_version, p->deviceName);
}

/* The blob's own header (VkPipelineCacheHeaderVersionOne) must name this device; a driver given
 * another device's data may not refuse it cleanly. */
static bool pipeline_cache_matches(const porta_backend_device *device, const void *data,
                                   size_t size)
{
    uint32_t words[4];
    if (size < sizeof words + VK_UUID_SIZE) return false;
    memcpy(words, data, sizeof words);
    const VkPhysicalDeviceProperties *p = &device->properties;
    return words[0] >= sizeof words + VK_UUID_SIZE && words[0] <= size &&
           words[1] == VK_PIPELINE_CACHE_HEADER_VERSION_ONE && words[2] == p->vendorID &&
           words[3] == p->deviceID &&
           !memcmp((const char *)data + sizeof words, p->pipelineCacheUUID, VK_UUID_SIZE);
}

porta_status porta_vk_pipeline_cache_open(porta_backend_device *device)
{
    porta_cache_init(device->context, &device->cache);
    cache_key(device);
    void *data = NULL;
    size_t size = 0;
    if (porta_cache_load(device->context, &device->cache, PIPELINE_CACHE_KIND,
                         device->pipeline_cache_key, &data, &size)) {
        if (pipeline_cache_matches(device, data, size)) {
            porta_log(device->context, PORTA_LOG_INFO, "vulkan: pipeline cache: loaded %zu bytes", size);
        } else {
            porta_cache_discard(device->context, &device->cache, PIPELINE_CACHE_KIND,
                                device->pipeline_cache_key,
                                "its pipeline cache header names another device");
            free(data);
            data = NULL;
            size = 0;
        }
    }
    VkPipelineCacheCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO,
        .initialDataSize = size,
        .pInitialData = data,
    };
    VkResult result = device->fn.vkCreatePipelineCache(device->device, &info, NULL,
                                                       &device->pipeline_cache);
    if (result != VK_SUCCESS && data) {
        /* The driver refused the stored blob: start empty (closing stores a fresh entry). */
        char why[128];
        snprintf(why, sizeof why, "vkCreatePipelineCache: %s", porta_vk_result_name(result));
        porta_cache_discard(device->context, &device->cache, PIPELINE_CACHE_KIND,
                            device->pipeline_cache_key, why);
        info.initialDataSize = 0;
        info.pInitialData = NULL;
        size = 0;
        result = device->fn.vkCreatePipelineCache(device->device, &info, NULL,
                                                  &device->pipeline_cache);
    }
    free(data);
    if (result != VK_SUCCESS) {
        device->pipeline_cache = VK_NULL_HANDLE;
        return porta_vk_fail(device->context, "vkCreatePipelineCache", result);
    }
    device->pipeline_cache_loaded = size;
    return PORTA_OK;
}

void porta_vulkan_pipeline_cache_store(porta_backend_device *device)
{
    if (!device || !device->pipeline_cache) return;
    size_t size = 0;
    VkResult result = device->fn.vkGetPipelineCacheData(device->device, device->pipeline_cache,
                                                        &size, NULL);
    void *data = size ? malloc(size) : NULL;
    if (result == VK_SUCCESS && data)
        result = device->fn.vkGetPipelineCacheData(device->device, device->pipeline_cache, &size,
                                                   data);
    if (result == VK_SUCCESS && data && size) {
        porta_cache_store(device->context, &device->cache, PIPELINE_CACHE_KIND,
                          device->pipeline_cache_key, data, size);
        device->pipeline_cache_stored = size;
        porta_log(device->context, PORTA_LOG_INFO, "vulkan: pipeline cache: stored %zu bytes", size);
    } else {
        device->pipeline_cache_stored = 0;
        porta_log(device->context, PORTA_LOG_INFO, "vulkan: pipeline cache: nothing to store (%s, %zu bytes)",
                  porta_vk_result_name(result), size);
    }
    free(data);
}

void porta_vk_pipeline_cache_close(porta_backend_device *device)
{
    if (!device->pipeline_cache) return;
    porta_vulkan_pipeline_cache_store(device);
    device->fn.vkDestroyPipelineCache(device->device, device->pipeline_cache, NULL);
    device->pipeline_cache = VK_NULL_HANDLE;
}

/* ---- which bindings a kernel reads and writes, from its SPIR-V ----------------------------- */

enum {
    SPV_MAGIC = 0x07230203,
    OP_TYPE_STRUCT = 30,
    OP_TYPE_POINTER = 32,
    OP_VARIABLE = 59,
    OP_DECORATE = 71,
    OP_MEMBER_DECORATE = 72,
    DECORATION_NON_WRITABLE = 24,
    DECORATION_NON_READABLE = 25,
    DECORATION_BINDING = 33,
    STORAGE_UNIFORM = 2,
    STORAGE_STORAGE_BUFFER = 12,
};

/* A binding whose block members are all NonWritable is only read; all NonReadable, only written.
 * Anything the walk cannot tell is taken as read and written (always correct, maybe slower). */
static void reflect_access(const porta_kernel_source *source, const uint32_t *w, size_t n,
                           uint32_t *out_reads, uint32_t *out_writes)
{
    uint32_t all = source->n_buffers >= 32 ? ~0u : (1u << source->n_buffers) - 1;
    *out_reads = all;
    *out_writes = all;
    if (n < 5 || w[0] != SPV_MAGIC || w[3] == 0 || w[3] > (1u << 22)) return;
    uint32_t bound = w[3];
    /* Per id: binding + 1, decoration bits (1 non-writable, 2 non-readable), member counts. */
    uint32_t *binding = calloc(bound, sizeof *binding);
    uint8_t *flags = calloc(bound, 1);
    uint32_t *members = calloc(bound, sizeof *members);
    uint32_t *members_nw = calloc(bound, sizeof *members_nw);
    uint32_t *members_nr = calloc(bound, sizeof *members_nr);
    uint32_t *pointee = calloc(bound, sizeof *pointee);
    uint32_t reads = 0, writes = 0, seen = 0;
    if (!binding || !flags || !members || !members_nw || !members_nr || !pointee) goto done;
    for (size_t i = 5; i < n;) {
        uint32_t count = w[i] >> 16, op = w[i] & 0xffff;
        if (!count || i + count > n) goto done;
        const uint32_t *a = &w[i + 1];
        if (op == OP_DECORATE && count >= 3 && a[0] < bound) {
            if (a[1] == DECORATION_BINDING && count >= 4) binding[a[0]] = a[2] + 1;
            if (a[1] == DECORATION_NON_WRITABLE) flags[a[0]] |= 1;
            if (a[1] == DECORATION_NON_READABLE) flags[a[0]] |= 2;
        } else if (op == OP_MEMBER_DECORATE && count >= 4 && a[0] < bound) {
            if (a[2] == DECORATION_NON_WRITABLE) members_nw[a[0]]++;
            if (a[2] == DECORATION_NON_READABLE) members_nr[a[0]]++;
        } else if (op == OP_TYPE_STRUCT && count >= 2 && a[0] < bound) {
            members[a[0]] = count - 2;
        } else if (op == OP_TYPE_POINTER && count == 4 && a[0] < bound) {
            pointee[a[0]] = a[2];
        } else if (op == OP_VARIABLE && count >= 4 && a[1] < bound && a[0] < bound &&
                   (a[2] == STORAGE_STORAGE_BUFFER || a[2] == STORAGE_UNIFORM)) {
            uint32_t b = binding[a[1]];
            uint32_t s = pointee[a[0]];
            /* Decorations come before types in SPIR-V, so they are all known here. */
            if (b && b - 1 < 32 && s < bound) {
                uint32_t bit = 1u << (b - 1);
                bool nw = (flags[a[1]] & 1) || (members[s] && members_nw[s] == members[s]);
                bool nr = (flags[a[1]] & 2) || (members[s] && members_nr[s] == members[s]);
                seen |= bit;
                if (!nw) writes |= bit;
                if (!nr) reads |= bit;
            }
        }
        i += count;
    }
    /* Bindings never seen stay read and written. */
    *out_reads = (reads | (all & ~seen)) & all;
    *out_writes = (writes | (all & ~seen)) & all;
done:
    free(binding);
    free(flags);
    free(members);
    free(members_nw);
    free(members_nr);
    free(pointee);
}

/* ---- kernels ------------------------------------------------------------------------------- */

static porta_status check_config(porta_backend_device *device, const porta_kernel_source *source,
                                 const porta_kernel_config *config)
{
    porta_context *context = device->context;
    const VkPhysicalDeviceLimits *limits = &device->properties.limits;
    uint64_t invocations = 1;
    for (int d = 0; d < 3; d++) {
        if (!config->local_size[d] || config->local_size[d] > limits->maxComputeWorkGroupSize[d])
            return porta_error(context, PORTA_ERROR_INVALID_ARGUMENT,
                               "kernel %s: local size %u in dimension %d is outside 1..%u",
                               source->name, config->local_size[d], d,
                               limits->maxComputeWorkGroupSize[d]);
        invocations *= config->local_size[d];
    }
    if (invocations > limits->maxComputeWorkGroupInvocations)
        return porta_error(context, PORTA_ERROR_INVALID_ARGUMENT,
                           "kernel %s: %llu invocations per work-group exceed "
                           "maxComputeWorkGroupInvocations (%u)", source->name,
                           (unsigned long long)invocations, limits->maxComputeWorkGroupInvocations);
    if (config->n_constants != source->n_constants)
        return porta_error(context, PORTA_ERROR_INVALID_ARGUMENT,
                           "kernel %s takes %d constants (%s); %d given", source->name,
                           source->n_constants, source->constant_names, config->n_constants);
    if (source->n_buffers > PORTA_MAX_BINDINGS)
        return porta_error(context, PORTA_ERROR_INVALID_ARGUMENT, "kernel %s has %d buffers (max %d)",
                           source->name, source->n_buffers, PORTA_MAX_BINDINGS);
    uint32_t push = (uint32_t)(source->n_params + 1) * 4;
    if (push > limits->maxPushConstantsSize || push > PORTA_MAX_PARAM_BYTES)
        return porta_error(context, PORTA_ERROR_UNSUPPORTED,
                           "kernel %s: %u bytes of parameters exceed maxPushConstantsSize (%u)",
                           source->name, push, limits->maxPushConstantsSize);
    return PORTA_OK;
}

porta_status porta_vk_kernel_create(porta_backend_device *device, const porta_kernel_source *source,
                                    const porta_kernel_config *config,
                                    porta_backend_kernel **out_kernel)
{
    if (!out_kernel) return PORTA_ERROR_INVALID_ARGUMENT;
    *out_kernel = NULL;
    if (!device) return PORTA_ERROR_INVALID_ARGUMENT;
    porta_context *context = device->context;
    if (!source || !config || !source->spirv || !source->spirv_words)
        return porta_error(context, PORTA_ERROR_INVALID_ARGUMENT, "kernel_create: no SPIR-V");
    /* words only when no data buffer holds 16-bit values, else the build that stores halves
     * where the device can, or into words with atomics (prelude.h, data buffers) */
    const uint32_t *code = source->spirv;
    size_t code_words = source->spirv_words;
    if (config->kinds && device->caps.storage16 && source->spirv16) {
        code = source->spirv16;
        code_words = source->spirv16_words;
    } else if (config->kinds && source->spirv_words16) {
        code = source->spirv_words16;
        code_words = source->spirv_words16_words;
    }
    porta_status status = check_config(device, source, config);
    if (status != PORTA_OK) return status;
    porta_backend_kernel *kernel = calloc(1, sizeof *kernel);
    if (!kernel) return porta_error(context, PORTA_ERROR_OUT_OF_MEMORY, "out of memory");
    kernel->device = device;
    kernel->source = source;
    kernel->push_bytes = (uint32_t)(source->n_params + 1) * 4;
    reflect_access(source, code, code_words, &kernel->reads, &kernel->writes);
    const porta_vk_functions *fn = &device->fn;
    VkDevice vkdevice = device->device;
    const char *call = "vkCreateShaderModule";

    VkShaderModuleCreateInfo module = {
        .sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
        .codeSize = code_words * 4,
        .pCode = code,
    };
    VkResult result = fn->vkCreateShaderModule(vkdevice, &module, NULL, &kernel->module);
    if (result != VK_SUCCESS) goto fail;

    VkDescriptorSetLayoutBinding bindings[PORTA_MAX_BINDINGS];
    for (int b = 0; b < source->n_buffers; b++)
        bindings[b] = (VkDescriptorSetLayoutBinding){
            .binding = (uint32_t)b,
            .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
            .descriptorCount = 1,
            .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
        };
    VkDescriptorSetLayoutCreateInfo set_layout = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
        .bindingCount = (uint32_t)source->n_buffers,
        .pBindings = bindings,
    };
    call = "vkCreateDescriptorSetLayout";
    result = fn->vkCreateDescriptorSetLayout(vkdevice, &set_layout, NULL, &kernel->set_layout);
    if (result != VK_SUCCESS) goto fail;

    VkPushConstantRange push = {
        .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
        .offset = 0,
        .size = kernel->push_bytes,
    };
    VkPipelineLayoutCreateInfo layout = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
        .setLayoutCount = 1,
        .pSetLayouts = &kernel->set_layout,
        .pushConstantRangeCount = 1,
        .pPushConstantRanges = &push,
    };
    call = "vkCreatePipelineLayout";
    result = fn->vkCreatePipelineLayout(vkdevice, &layout, NULL, &kernel->layout);
    if (result != VK_SUCCESS) goto fail;

    /* Constants 0..n-1, the work-group size as constants 100, 101, 102, then each data
     * buffer's storage kind (PORTA_STORAGE_CONSTANT_ID + its slot). */
    VkSpecializationMapEntry entries[PORTA_MAX_CONSTANTS + 3 + PORTA_MAX_BINDINGS];
    uint32_t values[PORTA_MAX_CONSTANTS + 3 + PORTA_MAX_BINDINGS];
    uint32_t n_entries = 0;
    for (int i = 0; i < config->n_constants && i < PORTA_MAX_CONSTANTS; i++) {
        entries[n_entries] = (VkSpecializationMapEntry){(uint32_t)i, n_entries * 4, 4};
        memcpy(&values[n_entries++], &config->constants[i], 4);
    }
    for (uint32_t d = 0; d < 3; d++) {
        entries[n_entries] = (VkSpecializationMapEntry){100 + d, n_entries * 4, 4};
        values[n_entries++] = config->local_size[d];
    }
    for (int b = 0; b < source->n_buffers && config->kinds; b++)   /* words only: no kinds */
        if (source->data_buffers >> b & 1u) {
            entries[n_entries] = (VkSpecializationMapEntry){
                PORTA_STORAGE_CONSTANT_ID + (uint32_t)b, n_entries * 4, 4};
            values[n_entries++] = PORTA_STORAGE_KIND_OF(config->kinds, b);
        }
    VkSpecializationInfo specialization = {
        .mapEntryCount = n_entries,
        .pMapEntries = entries,
        .dataSize = n_entries * 4,
        .pData = values,
    };
    VkComputePipelineCreateInfo pipeline = {
        .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
        .stage = {
            .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
            .stage = VK_SHADER_STAGE_COMPUTE_BIT,
            .module = kernel->module,
            .pName = "main",
            .pSpecializationInfo = &specialization,
        },
        .layout = kernel->layout,
    };
    call = "vkCreateComputePipelines";
    result = fn->vkCreateComputePipelines(vkdevice, device->pipeline_cache, 1, &pipeline, NULL,
                                          &kernel->pipeline);
    if (result != VK_SUCCESS) {
        kernel->pipeline = VK_NULL_HANDLE;
        goto fail;
    }
    device->pipelines_created++;
    *out_kernel = kernel;
    return PORTA_OK;

fail:
    status = porta_vk_fail(context, call, result);
    porta_error(context, status, "kernel %s: %s: %s", source->name, call,
                porta_vk_result_name(result));
    porta_vk_kernel_destroy(kernel);
    return status;
}

void porta_vk_kernel_destroy(porta_backend_kernel *kernel)
{
    if (!kernel) return;
    const porta_vk_functions *fn = &kernel->device->fn;
    VkDevice vkdevice = kernel->device->device;
    if (kernel->pipeline) fn->vkDestroyPipeline(vkdevice, kernel->pipeline, NULL);
    if (kernel->layout) fn->vkDestroyPipelineLayout(vkdevice, kernel->layout, NULL);
    if (kernel->set_layout) fn->vkDestroyDescriptorSetLayout(vkdevice, kernel->set_layout, NULL);
    if (kernel->module) fn->vkDestroyShaderModule(vkdevice, kernel->module, NULL);
    free(kernel);
}
