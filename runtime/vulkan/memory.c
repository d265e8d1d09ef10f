/* Device memory: buffers are carved from large blocks of device-local memory (64 MiB, or one
 * block of a larger request's size) by a first-fit free list per block, so many small buffers
 * share one vkAllocateMemory and the maxMemoryAllocationCount limit is respected. A buffer larger
 * than maxStorageBufferRange (or maxMemoryAllocationSize) is refused. Host I/O goes through one
 * host-visible, coherent staging buffer per device, in chunks of its size. */
#include "runtime/vulkan/vulkan_internal.h"

#include <stdlib.h>
#include <string.h>

#define BLOCK_BYTES (64ull << 20)
#define STAGING_BYTES (16ull << 20)

static VkDeviceSize align_up(VkDeviceSize value, VkDeviceSize alignment)
{
    return alignment > 1 ? (value + alignment - 1) / alignment * alignment : value;
}

/* A memory type among `bits` with all of `required`, preferring one that also has `preferred`;
 * UINT32_MAX if none. */
static uint32_t memory_type(const porta_backend_device *device, uint32_t bits,
                            VkMemoryPropertyFlags required, VkMemoryPropertyFlags preferred)
{
    const VkPhysicalDeviceMemoryProperties *m = &device->memory_properties;
    for (int pass = 0; pass < 2; pass++) {
        VkMemoryPropertyFlags want = required | (pass == 0 ? preferred : 0);
        for (uint32_t i = 0; i < m->memoryTypeCount; i++)
            if ((bits & (1u << i)) && (m->memoryTypes[i].propertyFlags & want) == want) return i;
    }
    return UINT32_MAX;
}

static porta_status allocate(porta_backend_device *device, VkDeviceSize size, uint32_t type,
                             VkDeviceMemory *out_memory)
{
    *out_memory = VK_NULL_HANDLE;
    if (device->memory.allocations >= device->properties.limits.maxMemoryAllocationCount)
        return porta_error(device->context, PORTA_ERROR_OUT_OF_MEMORY,
                           "vkAllocateMemory: maxMemoryAllocationCount (%u) of '%s' reached",
                           device->properties.limits.maxMemoryAllocationCount, device->caps.name);
    VkMemoryAllocateInfo info = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
        .allocationSize = size,
        .memoryTypeIndex = type,
    };
    VkResult result = device->fn.vkAllocateMemory(device->device, &info, NULL, out_memory);
    if (result != VK_SUCCESS) {
        *out_memory = VK_NULL_HANDLE;
        return porta_vk_fail(device->context, "vkAllocateMemory", result);
    }
    device->memory.allocations++;
    return PORTA_OK;
}

static void release(porta_backend_device *device, VkDeviceMemory memory)
{
    if (!memory) return;
    device->fn.vkFreeMemory(device->device, memory, NULL);
    device->memory.allocations--;
}

/* ---- free lists ---------------------------------------------------------------------------- */

static bool insert_range(porta_vk_block *block, int at, porta_vk_range range)
{
    if (block->n_free == block->free_capacity) {
        int capacity = block->free_capacity ? block->free_capacity * 2 : 8;
        porta_vk_range *grown = realloc(block->free, (size_t)capacity * sizeof *grown);
        if (!grown) return false;
        block->free = grown;
        block->free_capacity = capacity;
    }
    memmove(&block->free[at + 1], &block->free[at], (size_t)(block->n_free - at) * sizeof range);
    block->free[at] = range;
    block->n_free++;
    return true;
}

static void remove_range(porta_vk_block *block, int at)
{
    memmove(&block->free[at], &block->free[at + 1],
            (size_t)(block->n_free - at - 1) * sizeof block->free[0]);
    block->n_free--;
}

/* Takes `size` bytes at an `alignment` multiple; false if the block has no room. */
static bool block_take(porta_vk_block *block, VkDeviceSize size, VkDeviceSize alignment,
                       VkDeviceSize *out_offset)
{
    for (int i = 0; i < block->n_free; i++) {
        porta_vk_range r = block->free[i];
        VkDeviceSize start = align_up(r.offset, alignment);
        if (start + size > r.offset + r.size) continue;
        porta_vk_range before = {r.offset, start - r.offset};
        porta_vk_range after = {start + size, r.offset + r.size - start - size};
        remove_range(block, i);
        int at = i;
        if (before.size && insert_range(block, at, before)) at++;
        if (after.size) insert_range(block, at, after);
        /* A failed insert only loses the sliver from reuse; the block stays consistent. */
        *out_offset = start;
        return true;
    }
    return false;
}

static void block_give(porta_vk_block *block, VkDeviceSize offset, VkDeviceSize size)
{
    int at = 0;
    while (at < block->n_free && block->free[at].offset < offset) at++;
    bool merge_before = at > 0 && block->free[at - 1].offset + block->free[at - 1].size == offset;
    bool merge_after = at < block->n_free && offset + size == block->free[at].offset;
    if (merge_before && merge_after) {
        block->free[at - 1].size += size + block->free[at].size;
        remove_range(block, at);
    } else if (merge_before) {
        block->free[at - 1].size += size;
    } else if (merge_after) {
        block->free[at].offset = offset;
        block->free[at].size += size;
    } else {
        insert_range(block, at, (porta_vk_range){offset, size});
    }
}

static void block_destroy(porta_backend_device *device, porta_vk_block *block)
{
    release(device, block->memory);
    free(block->free);
    free(block);
}

static porta_status block_create(porta_backend_device *device, VkDeviceSize request, uint32_t type,
                                 porta_vk_block **out_block)
{
    *out_block = NULL;
    porta_vk_memory *memory = &device->memory;
    if (memory->n_blocks == memory->blocks_capacity) {
        int capacity = memory->blocks_capacity ? memory->blocks_capacity * 2 : 8;
        porta_vk_block **grown = realloc(memory->blocks, (size_t)capacity * sizeof *grown);
        if (!grown) return porta_error(device->context, PORTA_ERROR_OUT_OF_MEMORY, "out of memory");
        memory->blocks = grown;
        memory->blocks_capacity = capacity;
    }
    porta_vk_block *block = calloc(1, sizeof *block);
    if (!block) return porta_error(device->context, PORTA_ERROR_OUT_OF_MEMORY, "out of memory");
    VkDeviceSize size = request > BLOCK_BYTES ? request : BLOCK_BYTES;
    if (device->max_allocation && size > device->max_allocation) size = request;
    porta_status status = allocate(device, size, type, &block->memory);
    if (status == PORTA_ERROR_OUT_OF_MEMORY && size > request) {
        /* No room for a whole block: take just what this buffer needs. */
        size = request;
        status = allocate(device, size, type, &block->memory);
    }
    if (status != PORTA_OK || !insert_range(block, 0, (porta_vk_range){0, size})) {
        if (status == PORTA_OK)
            status = porta_error(device->context, PORTA_ERROR_OUT_OF_MEMORY, "out of memory");
        block_destroy(device, block);
        return status;
    }
    porta_error_clear(device->context);
    block->size = size;
    block->type_index = type;
    memory->blocks[memory->n_blocks++] = block;
    porta_log(device->context, PORTA_LOG_DEBUG, "vulkan: new memory block of %llu bytes (type %u)",
              (unsigned long long)size, type);
    *out_block = block;
    return PORTA_OK;
}

static void block_drop(porta_backend_device *device, porta_vk_block *block)
{
    porta_vk_memory *memory = &device->memory;
    for (int i = 0; i < memory->n_blocks; i++) {
        if (memory->blocks[i] != block) continue;
        memory->blocks[i] = memory->blocks[--memory->n_blocks];
        break;
    }
    block_destroy(device, block);
}

/* ---- buffers ------------------------------------------------------------------------------- */

static const VkBufferUsageFlags BUFFER_USAGE = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT |
                                               VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
                                               VK_BUFFER_USAGE_TRANSFER_DST_BIT;

static porta_status make_buffer(porta_backend_device *device, VkDeviceSize bytes,
                                VkBufferUsageFlags usage, VkBuffer *out_buffer)
{
    VkBufferCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
        .size = bytes,
        .usage = usage,
        .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
    };
    VkResult result = device->fn.vkCreateBuffer(device->device, &info, NULL, out_buffer);
    if (result != VK_SUCCESS) {
        *out_buffer = VK_NULL_HANDLE;
        return porta_vk_fail(device->context, "vkCreateBuffer", result);
    }
    return PORTA_OK;
}

porta_status porta_vk_buffer_create(porta_backend_device *device, uint64_t bytes,
                                    porta_backend_buffer **out_buffer)
{
    if (!out_buffer) return PORTA_ERROR_INVALID_ARGUMENT;
    *out_buffer = NULL;
    if (!device) return PORTA_ERROR_INVALID_ARGUMENT;
    porta_context *context = device->context;
    if (!bytes) return porta_error(context, PORTA_ERROR_INVALID_ARGUMENT, "a buffer of 0 bytes");
    uint64_t range = device->properties.limits.maxStorageBufferRange;
    if (bytes > range)
        return porta_error(context, PORTA_ERROR_UNSUPPORTED,
                           "a buffer of %llu bytes exceeds maxStorageBufferRange (%llu bytes) of "
                           "'%s'; split it", (unsigned long long)bytes,
                           (unsigned long long)range, device->caps.name);
    if (device->max_allocation && bytes > device->max_allocation)
        return porta_error(context, PORTA_ERROR_UNSUPPORTED,
                           "a buffer of %llu bytes exceeds maxMemoryAllocationSize (%llu bytes) of "
                           "'%s'; split it", (unsigned long long)bytes,
                           (unsigned long long)device->max_allocation, device->caps.name);

    porta_backend_buffer *buffer = calloc(1, sizeof *buffer);
    if (!buffer) return porta_error(context, PORTA_ERROR_OUT_OF_MEMORY, "out of memory");
    buffer->device = device;
    buffer->size = bytes;
    porta_status status = make_buffer(device, bytes, BUFFER_USAGE, &buffer->buffer);
    if (status != PORTA_OK) {
        free(buffer);
        return status;
    }
    VkMemoryRequirements needs;
    device->fn.vkGetBufferMemoryRequirements(device->device, buffer->buffer, &needs);
    uint32_t type = memory_type(device, needs.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, 0);
    if (type == UINT32_MAX) type = memory_type(device, needs.memoryTypeBits, 0, 0);
    if (type == UINT32_MAX) {
        status = porta_error(context, PORTA_ERROR_UNSUPPORTED,
                             "'%s' offers no memory type for storage buffers", device->caps.name);
        goto fail;
    }
    VkDeviceSize size = align_up(needs.size, needs.alignment);
    porta_vk_block *block = NULL;
    VkDeviceSize offset = 0;
    for (int i = 0; i < device->memory.n_blocks && !block; i++) {
        porta_vk_block *candidate = device->memory.blocks[i];
        if (candidate->type_index == type && block_take(candidate, size, needs.alignment, &offset))
            block = candidate;
    }
    if (!block) {
        status = block_create(device, size, type, &block);
        if (status != PORTA_OK) goto fail;
        block_take(block, size, needs.alignment, &offset);
    }
    VkResult result = device->fn.vkBindBufferMemory(device->device, buffer->buffer, block->memory,
                                                    offset);
    if (result != VK_SUCCESS) {
        block_give(block, offset, size);
        status = porta_vk_fail(context, "vkBindBufferMemory", result);
        goto fail;
    }
    buffer->block = block;
    buffer->offset = offset;
    buffer->reserved = size;
    block->n_buffers++;
    device->memory.buffers++;
    *out_buffer = buffer;
    return PORTA_OK;

fail:
    device->fn.vkDestroyBuffer(device->device, buffer->buffer, NULL);
    free(buffer);
    return status;
}

void porta_vk_buffer_destroy(porta_backend_buffer *buffer)
{
    if (!buffer) return;
    porta_backend_device *device = buffer->device;
    device->fn.vkDestroyBuffer(device->device, buffer->buffer, NULL);
    porta_vk_block *block = buffer->block;
    block_give(block, buffer->offset, buffer->reserved);
    device->memory.buffers--;
    if (--block->n_buffers == 0) block_drop(device, block);
    free(buffer);
}

/* ---- host I/O ------------------------------------------------------------------------------ */

porta_status porta_vk_memory_init(porta_backend_device *device)
{
    VkCommandBufferAllocateInfo info = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
        .commandPool = device->command_pool,
        .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
        .commandBufferCount = 1,
    };
    VkResult result = device->fn.vkAllocateCommandBuffers(device->device, &info,
                                                          &device->memory.transfer);
    if (result != VK_SUCCESS) {
        device->memory.transfer = VK_NULL_HANDLE;
        return porta_vk_fail(device->context, "vkAllocateCommandBuffers", result);
    }
    VkFenceCreateInfo fence = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    result = device->fn.vkCreateFence(device->device, &fence, NULL, &device->memory.transfer_fence);
    if (result != VK_SUCCESS) {
        device->memory.transfer_fence = VK_NULL_HANDLE;
        return porta_vk_fail(device->context, "vkCreateFence", result);
    }
    return PORTA_OK;
}

static void staging_destroy(porta_backend_device *device)
{
    porta_vk_memory *memory = &device->memory;
    if (memory->staging_map) device->fn.vkUnmapMemory(device->device, memory->staging_memory);
    if (memory->staging) device->fn.vkDestroyBuffer(device->device, memory->staging, NULL);
    release(device, memory->staging_memory);
    memory->staging_map = NULL;
    memory->staging = VK_NULL_HANDLE;
    memory->staging_memory = VK_NULL_HANDLE;
    memory->staging_size = 0;
}

static porta_status staging_setup(porta_backend_device *device)
{
    porta_vk_memory *memory = &device->memory;
    porta_status status = make_buffer(device, STAGING_BYTES,
                                      VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
                                          VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                                      &memory->staging);
    if (status != PORTA_OK) return status;
    VkMemoryRequirements needs;
    device->fn.vkGetBufferMemoryRequirements(device->device, memory->staging, &needs);
    /* Cached host memory makes downloads fast; coherent spares the flushes. */
    uint32_t type = memory_type(device, needs.memoryTypeBits,
                                VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                    VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
                                VK_MEMORY_PROPERTY_HOST_CACHED_BIT);
    if (type == UINT32_MAX)
        return porta_error(device->context, PORTA_ERROR_UNSUPPORTED,
                           "'%s' offers no host-visible coherent memory for staging",
                           device->caps.name);
    status = allocate(device, needs.size, type, &memory->staging_memory);
    if (status != PORTA_OK) return status;
    VkResult result = device->fn.vkBindBufferMemory(device->device, memory->staging,
                                                    memory->staging_memory, 0);
    if (result != VK_SUCCESS) return porta_vk_fail(device->context, "vkBindBufferMemory", result);
    result = device->fn.vkMapMemory(device->device, memory->staging_memory, 0, VK_WHOLE_SIZE, 0,
                                    &memory->staging_map);
    if (result != VK_SUCCESS) {
        memory->staging_map = NULL;
        return porta_vk_fail(device->context, "vkMapMemory", result);
    }
    memory->staging_size = STAGING_BYTES;
    return PORTA_OK;
}

static porta_status staging_create(porta_backend_device *device)
{
    porta_status status = staging_setup(device);
    if (status != PORTA_OK) staging_destroy(device);
    return status;
}

static void global_barrier(porta_backend_device *device, VkCommandBuffer command,
                           VkPipelineStageFlags src_stages, VkAccessFlags src_access,
                           VkPipelineStageFlags dst_stages, VkAccessFlags dst_access)
{
    VkMemoryBarrier barrier = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
        .srcAccessMask = src_access,
        .dstAccessMask = dst_access,
    };
    device->fn.vkCmdPipelineBarrier(command, src_stages, dst_stages, 0, 1, &barrier, 0, NULL, 0,
                                    NULL);
}

/* Copies one chunk between the staging buffer and `buffer` and waits for it. */
static porta_status transfer_chunk(porta_backend_buffer *buffer, VkDeviceSize offset,
                                   VkDeviceSize bytes, bool upload)
{
    porta_backend_device *device = buffer->device;
    porta_vk_memory *memory = &device->memory;
    VkCommandBuffer command = memory->transfer;
    VkCommandBufferBeginInfo begin = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
        .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
    };
    VkResult result = device->fn.vkBeginCommandBuffer(command, &begin);
    if (result != VK_SUCCESS) return porta_vk_fail(device->context, "vkBeginCommandBuffer", result);
    /* Order this copy after everything submitted before (dispatches and copies, reads and writes). */
    global_barrier(device, command,
                   VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                   VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
                   VK_PIPELINE_STAGE_TRANSFER_BIT,
                   VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT);
    VkBufferCopy region = {
        .srcOffset = upload ? 0 : offset,
        .dstOffset = upload ? offset : 0,
        .size = bytes,
    };
    if (upload)
        device->fn.vkCmdCopyBuffer(command, memory->staging, buffer->buffer, 1, &region);
    else
        device->fn.vkCmdCopyBuffer(command, buffer->buffer, memory->staging, 1, &region);
    if (!upload)
        global_barrier(device, command, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                       VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
    result = device->fn.vkEndCommandBuffer(command);
    if (result != VK_SUCCESS) return porta_vk_fail(device->context, "vkEndCommandBuffer", result);
    VkSubmitInfo submit = {
        .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
        .commandBufferCount = 1,
        .pCommandBuffers = &command,
    };
    result = device->fn.vkQueueSubmit(device->queue, 1, &submit, memory->transfer_fence);
    if (result != VK_SUCCESS) return porta_vk_fail(device->context, "vkQueueSubmit", result);
    result = device->fn.vkWaitForFences(device->device, 1, &memory->transfer_fence, VK_TRUE,
                                        PORTA_VK_WAIT_NS);
    if (result != VK_SUCCESS) return porta_vk_fail(device->context, "vkWaitForFences", result);
    result = device->fn.vkResetFences(device->device, 1, &memory->transfer_fence);
    if (result != VK_SUCCESS) return porta_vk_fail(device->context, "vkResetFences", result);
    return PORTA_OK;
}

static porta_status transfer(porta_backend_buffer *buffer, uint64_t offset, void *data,
                             uint64_t bytes, bool upload)
{
    if (!buffer) return PORTA_ERROR_INVALID_ARGUMENT;
    porta_backend_device *device = buffer->device;
    const char *what = upload ? "upload" : "download";
    if (!data && bytes) return porta_error(device->context, PORTA_ERROR_INVALID_ARGUMENT,
                                           "%s: data is NULL", what);
    if (offset > buffer->size || bytes > buffer->size - offset)
        return porta_error(device->context, PORTA_ERROR_INVALID_ARGUMENT,
                           "vulkan: %s of %llu bytes at offset %llu overruns a buffer of %llu bytes", what,
                           (unsigned long long)bytes, (unsigned long long)offset,
                           (unsigned long long)buffer->size);
    if (!bytes) return PORTA_OK;
    if (!device->memory.staging_map) {
        porta_status status = staging_create(device);
        if (status != PORTA_OK) return status;
    }
    unsigned char *host = data;
    for (uint64_t done = 0; done < bytes;) {
        VkDeviceSize n = bytes - done;
        if (n > device->memory.staging_size) n = device->memory.staging_size;
        if (upload) memcpy(device->memory.staging_map, host + done, n);
        porta_status status = transfer_chunk(buffer, offset + done, n, upload);
        if (status != PORTA_OK) return status;
        if (!upload) memcpy(host + done, device->memory.staging_map, n);
        done += n;
    }
    return PORTA_OK;
}

porta_status porta_vk_buffer_upload(porta_backend_buffer *buffer, uint64_t offset, const void *data,
                                    uint64_t bytes)
{
    return transfer(buffer, offset, (void *)data, bytes, true);
}

porta_status porta_vk_buffer_download(porta_backend_buffer *buffer, uint64_t offset, void *data,
                                      uint64_t bytes)
{
    return transfer(buffer, offset, data, bytes, false);
}

void porta_vk_memory_release(porta_backend_device *device)
{
    porta_vk_memory *memory = &device->memory;
    staging_destroy(device);
    if (memory->transfer_fence)
        device->fn.vkDestroyFence(device->device, memory->transfer_fence, NULL);
    if (memory->transfer)
        device->fn.vkFreeCommandBuffers(device->device, device->command_pool, 1, &memory->transfer);
    /* Blocks still holding buffers belong to buffers the caller did not destroy. */
    for (int i = 0; i < memory->n_blocks; i++) block_destroy(device, memory->blocks[i]);
    free(memory->blocks);
    memset(memory, 0, sizeof *memory);
}
