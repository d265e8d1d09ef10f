/* The porta_backend vtable of the Vulkan backend, and the introspection of inspect.h. */
#include "runtime/vulkan/vulkan_internal.h"

static const porta_device_caps *device_caps(const porta_backend_device *device)
{
    return device ? &device->caps : NULL;
}

/* Every pipeline is created from SPIR-V; whether the driver's own cache (fed by the on-disk
 * VkPipelineCache, or Mesa's shader cache) served it is not observable, so all count as built. */
static void device_stats(const porta_backend_device *device, porta_cache_stats *out_stats)
{
    *out_stats = (porta_cache_stats){.built = device ? device->pipelines_created : 0};
}

static const porta_backend vulkan_backend = {
    .api = PORTA_API_VULKAN,
    .name = "vulkan",
    .enumerate = porta_vk_enumerate,
    .device_open = porta_vk_device_open,
    .device_close = porta_vk_device_close,
    .device_caps = device_caps,
    .buffer_create = porta_vk_buffer_create,
    .buffer_destroy = porta_vk_buffer_destroy,
    .buffer_upload = porta_vk_buffer_upload,
    .buffer_download = porta_vk_buffer_download,
    .kernel_create = porta_vk_kernel_create,
    .kernel_destroy = porta_vk_kernel_destroy,
    .sequence_create = porta_vk_sequence_create,
    .sequence_submit = porta_vk_sequence_submit,
    .sequence_poll = porta_vk_sequence_poll,
    .sequence_wait = porta_vk_sequence_wait,
    .sequence_times = porta_vk_sequence_times,
    .sequence_destroy = porta_vk_sequence_destroy,
    .device_stats = device_stats,
    .validation_messages = porta_vk_validation_messages,
};

const porta_backend *porta_backend_vulkan(void)
{
    return &vulkan_backend;
}

void porta_vulkan_device_stats(const porta_backend_device *device, porta_vulkan_stats *out_stats)
{
    *out_stats = (porta_vulkan_stats){0};
    if (!device) return;
    const porta_vk_memory *memory = &device->memory;
    out_stats->memory_blocks = (uint32_t)memory->n_blocks;
    for (int i = 0; i < memory->n_blocks; i++) out_stats->memory_block_bytes += memory->blocks[i]->size;
    out_stats->memory_allocations = memory->allocations;
    out_stats->buffers = memory->buffers;
    out_stats->pipeline_cache_loaded = device->pipeline_cache_loaded;
    out_stats->pipeline_cache_stored = device->pipeline_cache_stored;
    out_stats->pipeline_cache_key = device->pipeline_cache_key;
}
