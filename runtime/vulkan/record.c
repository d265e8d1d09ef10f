/* Sequences: the dispatches of a plan, recorded once into one command buffer that every run
 * re-submits. Descriptor sets are made once per sequence. Barriers:
 *   - one at the start, ordering the sequence after everything submitted earlier (uploads, a
 *     previous run of itself) - reads and writes alike;
 *   - between dispatches only where a hazard exists since the last barrier: a dispatch that lists
 *     a dependency, or reads or writes a range an earlier dispatch wrote (a memory barrier), or
 *     writes a range an earlier dispatch read (write-after-read: an execution dependency only).
 *     What a kernel reads and writes comes from its SPIR-V (pipelines.c).
 * Completion is a fence waited in the driver (vkWaitForFences), never a spin. With `profile`,
 * timestamps bracket each dispatch and are converted with timestampPeriod. */
#include "runtime/vulkan/vulkan_internal.h"

#include <stdlib.h>
#include <string.h>

struct porta_backend_sequence {
    porta_backend_device *device;
    int n;
    bool profile, ran;
    bool submitted;                     /* waiting on the fence is still to do */
    int barriers;
    VkDescriptorPool pool;
    VkCommandBuffer command;
    VkFence fence;
    VkQueryPool queries;
};

/* One binding's range as the hazard tracker sees it. */
typedef struct access {
    VkBuffer buffer;
    VkDeviceSize begin, end;
    bool reads, writes;
} access;

static porta_status check_dispatch(porta_backend_device *device, const porta_dispatch *d, int i)
{
    porta_context *context = device->context;
    const VkPhysicalDeviceLimits *limits = &device->properties.limits;
    if (!d->kernel || d->kernel->device != device)
        return porta_error(context, PORTA_ERROR_INVALID_ARGUMENT,
                           "dispatch %d: no kernel, or a kernel of another device", i);
    const porta_kernel_source *source = d->kernel->source;
    if (d->n_bindings != source->n_buffers)
        return porta_error(context, PORTA_ERROR_INVALID_ARGUMENT,
                           "dispatch %d (%s): %d bindings given, the kernel has %d buffers", i,
                           source->name, d->n_bindings, source->n_buffers);
    for (int b = 0; b < d->n_bindings; b++) {
        const porta_binding *binding = &d->bindings[b];
        if (!binding->buffer || binding->buffer->device != device)
            return porta_error(context, PORTA_ERROR_INVALID_ARGUMENT,
                               "dispatch %d (%s): binding %d has no buffer of this device", i,
                               source->name, b);
        uint64_t size = binding->buffer->size;
        uint64_t range = binding->size ? binding->size : size - binding->offset;
        if (binding->offset >= size || range > size - binding->offset)
            return porta_error(context, PORTA_ERROR_INVALID_ARGUMENT,
                               "dispatch %d (%s): binding %d range %llu+%llu exceeds its buffer of "
                               "%llu bytes", i, source->name, b,
                               (unsigned long long)binding->offset, (unsigned long long)range,
                               (unsigned long long)size);
        if (binding->offset % limits->minStorageBufferOffsetAlignment)
            return porta_error(context, PORTA_ERROR_INVALID_ARGUMENT,
                               "dispatch %d (%s): binding %d offset %llu is not a multiple of "
                               "minStorageBufferOffsetAlignment (%llu)", i, source->name, b,
                               (unsigned long long)binding->offset,
                               (unsigned long long)limits->minStorageBufferOffsetAlignment);
    }
    if (d->param_bytes > d->kernel->push_bytes)
        return porta_error(context, PORTA_ERROR_INVALID_ARGUMENT,
                           "dispatch %d (%s): %u bytes of parameters, the kernel takes %u", i,
                           source->name, d->param_bytes, d->kernel->push_bytes);
    for (int g = 0; g < 3; g++)
        if (!d->groups[g] || d->groups[g] > limits->maxComputeWorkGroupCount[g])
            return porta_error(context, PORTA_ERROR_INVALID_ARGUMENT,
                               "dispatch %d (%s): %u work-groups in dimension %d, outside 1..%u", i,
                               source->name, d->groups[g], g, limits->maxComputeWorkGroupCount[g]);
    if (d->n_deps < 0 || d->n_deps > PORTA_MAX_DEPS)
        return porta_error(context, PORTA_ERROR_INVALID_ARGUMENT, "dispatch %d: %d deps", i,
                           d->n_deps);
    for (int k = 0; k < d->n_deps; k++)
        if (d->deps[k] < 0 || d->deps[k] >= i)
            return porta_error(context, PORTA_ERROR_INVALID_ARGUMENT,
                               "dispatch %d: dependency %d is not an earlier dispatch", i,
                               d->deps[k]);
    return PORTA_OK;
}

static porta_status make_descriptors(porta_backend_sequence *sequence,
                                     const porta_dispatch *dispatches, VkDescriptorSet *sets)
{
    porta_backend_device *device = sequence->device;
    const porta_vk_functions *fn = &device->fn;
    uint32_t n_descriptors = 0;
    for (int i = 0; i < sequence->n; i++) n_descriptors += (uint32_t)dispatches[i].n_bindings;
    VkDescriptorPoolSize size = {
        .type = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
        .descriptorCount = n_descriptors ? n_descriptors : 1,
    };
    VkDescriptorPoolCreateInfo pool = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
        .maxSets = (uint32_t)sequence->n,
        .poolSizeCount = 1,
        .pPoolSizes = &size,
    };
    VkResult result = fn->vkCreateDescriptorPool(device->device, &pool, NULL, &sequence->pool);
    if (result != VK_SUCCESS) {
        sequence->pool = VK_NULL_HANDLE;
        return porta_vk_fail(device->context, "vkCreateDescriptorPool", result);
    }
    VkDescriptorSetLayout *layouts = malloc((size_t)sequence->n * sizeof *layouts);
    VkDescriptorBufferInfo *infos = malloc((n_descriptors ? n_descriptors : 1) * sizeof *infos);
    VkWriteDescriptorSet *writes = malloc((size_t)sequence->n * sizeof *writes);
    if (!layouts || !infos || !writes) {
        free(layouts);
        free(infos);
        free(writes);
        return porta_error(device->context, PORTA_ERROR_OUT_OF_MEMORY, "out of memory");
    }
    for (int i = 0; i < sequence->n; i++) layouts[i] = dispatches[i].kernel->set_layout;
    VkDescriptorSetAllocateInfo allocate = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
        .descriptorPool = sequence->pool,
        .descriptorSetCount = (uint32_t)sequence->n,
        .pSetLayouts = layouts,
    };
    result = fn->vkAllocateDescriptorSets(device->device, &allocate, sets);
    porta_status status = PORTA_OK;
    if (result != VK_SUCCESS) {
        status = porta_vk_fail(device->context, "vkAllocateDescriptorSets", result);
    } else {
        uint32_t k = 0, n_writes = 0;
        for (int i = 0; i < sequence->n; i++) {
            const porta_dispatch *d = &dispatches[i];
            if (!d->n_bindings) continue;
            writes[n_writes++] = (VkWriteDescriptorSet){
                .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
                .dstSet = sets[i],
                .dstBinding = 0,
                .descriptorCount = (uint32_t)d->n_bindings,
                .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                .pBufferInfo = &infos[k],
            };
            for (int b = 0; b < d->n_bindings; b++)
                infos[k++] = (VkDescriptorBufferInfo){
                    .buffer = d->bindings[b].buffer->buffer,
                    .offset = d->bindings[b].offset,
                    .range = d->bindings[b].size ? d->bindings[b].size : VK_WHOLE_SIZE,
                };
        }
        fn->vkUpdateDescriptorSets(device->device, n_writes, writes, 0, NULL);
    }
    free(layouts);
    free(infos);
    free(writes);
    return status;
}

static void barrier(porta_backend_device *device, VkCommandBuffer command,
                    VkPipelineStageFlags src_stages, VkAccessFlags src_access,
                    VkAccessFlags dst_access)
{
    VkMemoryBarrier memory = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
        .srcAccessMask = src_access,
        .dstAccessMask = dst_access,
    };
    device->fn.vkCmdPipelineBarrier(command, src_stages, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0,
                                    src_access ? 1 : 0, src_access ? &memory : NULL, 0, NULL, 0,
                                    NULL);
}

/* The barrier dispatch i needs after those since the last barrier (`window`): 2 a memory
 * barrier, 1 an execution dependency, 0 none. */
static int hazard(const porta_dispatch *d, int window_start, const access *window,
                  int n_window, const access *mine, int n_mine)
{
    int need = 0;
    for (int k = 0; k < d->n_deps; k++)
        if (d->deps[k] >= window_start) need = 2;
    for (int a = 0; a < n_mine && need < 2; a++)
        for (int w = 0; w < n_window && need < 2; w++) {
            if (window[w].buffer != mine[a].buffer || window[w].end <= mine[a].begin ||
                mine[a].end <= window[w].begin)
                continue;
            if (window[w].writes) need = 2;                  /* read or write after write */
            else if (mine[a].writes && need < 1) need = 1;   /* write after read */
        }
    return need;
}

static porta_status record(porta_backend_sequence *sequence, const porta_dispatch *dispatches,
                           const VkDescriptorSet *sets)
{
    porta_backend_device *device = sequence->device;
    const porta_vk_functions *fn = &device->fn;
    VkCommandBuffer command = sequence->command;
    access *window = malloc(((size_t)sequence->n * PORTA_MAX_BINDINGS + 1) * sizeof *window);
    if (!window) return porta_error(device->context, PORTA_ERROR_OUT_OF_MEMORY, "out of memory");
    VkCommandBufferBeginInfo begin = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    VkResult result = fn->vkBeginCommandBuffer(command, &begin);
    if (result != VK_SUCCESS) {
        free(window);
        return porta_vk_fail(device->context, "vkBeginCommandBuffer", result);
    }
    if (sequence->profile)
        fn->vkCmdResetQueryPool(command, sequence->queries, 0, 2 * (uint32_t)sequence->n);
    barrier(device, command, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
            VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
            VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT);

    int n_window = 0, window_start = 0;
    VkPipeline bound = VK_NULL_HANDLE;
    for (int i = 0; i < sequence->n; i++) {
        const porta_dispatch *d = &dispatches[i];
        const porta_backend_kernel *kernel = d->kernel;
        access mine[PORTA_MAX_BINDINGS];
        for (int b = 0; b < d->n_bindings; b++) {
            const porta_binding *binding = &d->bindings[b];
            mine[b] = (access){
                .buffer = binding->buffer->buffer,
                .begin = binding->offset,
                .end = binding->size ? binding->offset + binding->size : binding->buffer->size,
                .reads = (kernel->reads >> b) & 1,
                .writes = (kernel->writes >> b) & 1,
            };
        }
        int need = hazard(d, window_start, window, n_window, mine, d->n_bindings);
        if (need) {
            if (need == 2)
                barrier(device, command, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                        VK_ACCESS_SHADER_WRITE_BIT,
                        VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT);
            else
                barrier(device, command, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0, 0);
            sequence->barriers++;
            n_window = 0;
            window_start = i;
        }
        memcpy(&window[n_window], mine, (size_t)d->n_bindings * sizeof mine[0]);
        n_window += d->n_bindings;

        if (kernel->pipeline != bound) {
            fn->vkCmdBindPipeline(command, VK_PIPELINE_BIND_POINT_COMPUTE, kernel->pipeline);
            bound = kernel->pipeline;
        }
        fn->vkCmdBindDescriptorSets(command, VK_PIPELINE_BIND_POINT_COMPUTE, kernel->layout, 0, 1,
                                    &sets[i], 0, NULL);
        uint8_t params[PORTA_MAX_PARAM_BYTES] = {0};
        memcpy(params, d->params, d->param_bytes);
        fn->vkCmdPushConstants(command, kernel->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0,
                               kernel->push_bytes, params);
        if (sequence->profile)
            fn->vkCmdWriteTimestamp(command, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, sequence->queries,
                                    2 * (uint32_t)i);
        fn->vkCmdDispatch(command, d->groups[0], d->groups[1], d->groups[2]);
        if (sequence->profile)
            fn->vkCmdWriteTimestamp(command, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT,
                                    sequence->queries, 2 * (uint32_t)i + 1);
    }
    free(window);
    result = fn->vkEndCommandBuffer(command);
    if (result != VK_SUCCESS) return porta_vk_fail(device->context, "vkEndCommandBuffer", result);
    return PORTA_OK;
}

porta_status porta_vk_sequence_create(porta_backend_device *device, const porta_dispatch *dispatches,
                                      int n_dispatches, bool profile,
                                      porta_backend_sequence **out_sequence)
{
    if (!out_sequence) return PORTA_ERROR_INVALID_ARGUMENT;
    *out_sequence = NULL;
    if (!device) return PORTA_ERROR_INVALID_ARGUMENT;
    porta_context *context = device->context;
    if (n_dispatches < 1 || !dispatches)
        return porta_error(context, PORTA_ERROR_INVALID_ARGUMENT,
                           "a sequence needs at least one dispatch");
    for (int i = 0; i < n_dispatches; i++) {
        porta_status status = check_dispatch(device, &dispatches[i], i);
        if (status != PORTA_OK) return status;
    }
    if (profile && !device->caps.timestamps)
        return porta_error(context, PORTA_ERROR_UNSUPPORTED,
                           "'%s' has no timestamps on its compute queue", device->caps.name);
    porta_backend_sequence *sequence = calloc(1, sizeof *sequence);
    VkDescriptorSet *sets = malloc((size_t)n_dispatches * sizeof *sets);
    if (!sequence || !sets) {
        free(sequence);
        free(sets);
        return porta_error(context, PORTA_ERROR_OUT_OF_MEMORY, "out of memory");
    }
    sequence->device = device;
    sequence->n = n_dispatches;
    sequence->profile = profile;
    const porta_vk_functions *fn = &device->fn;
    porta_status status = make_descriptors(sequence, dispatches, sets);
    if (status != PORTA_OK) goto fail;

    VkCommandBufferAllocateInfo allocate = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
        .commandPool = device->command_pool,
        .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
        .commandBufferCount = 1,
    };
    VkResult result = fn->vkAllocateCommandBuffers(device->device, &allocate, &sequence->command);
    if (result != VK_SUCCESS) {
        sequence->command = VK_NULL_HANDLE;
        status = porta_vk_fail(context, "vkAllocateCommandBuffers", result);
        goto fail;
    }
    VkFenceCreateInfo fence = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    result = fn->vkCreateFence(device->device, &fence, NULL, &sequence->fence);
    if (result != VK_SUCCESS) {
        sequence->fence = VK_NULL_HANDLE;
        status = porta_vk_fail(context, "vkCreateFence", result);
        goto fail;
    }
    if (profile) {
        VkQueryPoolCreateInfo queries = {
            .sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
            .queryType = VK_QUERY_TYPE_TIMESTAMP,
            .queryCount = 2 * (uint32_t)n_dispatches,
        };
        result = fn->vkCreateQueryPool(device->device, &queries, NULL, &sequence->queries);
        if (result != VK_SUCCESS) {
            sequence->queries = VK_NULL_HANDLE;
            status = porta_vk_fail(context, "vkCreateQueryPool", result);
            goto fail;
        }
    }
    status = record(sequence, dispatches, sets);
    if (status != PORTA_OK) goto fail;
    free(sets);
    *out_sequence = sequence;
    return PORTA_OK;

fail:
    free(sets);
    porta_vk_sequence_destroy(sequence);
    return status;
}

porta_status porta_vk_sequence_submit(porta_backend_sequence *sequence)
{
    if (!sequence) return PORTA_ERROR_INVALID_ARGUMENT;
    porta_backend_device *device = sequence->device;
    VkSubmitInfo submit = {
        .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
        .commandBufferCount = 1,
        .pCommandBuffers = &sequence->command,
    };
    VkResult result = device->fn.vkQueueSubmit(device->queue, 1, &submit, sequence->fence);
    if (result != VK_SUCCESS) return porta_vk_fail(device->context, "vkQueueSubmit", result);
    sequence->submitted = true;
    return PORTA_OK;
}

porta_status porta_vk_sequence_poll(porta_backend_sequence *sequence, bool *out_done)
{
    *out_done = true;
    if (!sequence || !sequence->submitted) return PORTA_OK;
    porta_backend_device *device = sequence->device;
    VkResult result = device->fn.vkGetFenceStatus(device->device, sequence->fence);
    /* VK_ERROR_DEVICE_LOST: finished, badly; sequence_wait reports it. */
    *out_done = result != VK_NOT_READY;
    return PORTA_OK;
}

porta_status porta_vk_sequence_wait(porta_backend_sequence *sequence)
{
    if (!sequence) return PORTA_ERROR_INVALID_ARGUMENT;
    if (!sequence->submitted) return PORTA_OK;
    porta_backend_device *device = sequence->device;
    const porta_vk_functions *fn = &device->fn;
    sequence->submitted = false;
    VkResult result = fn->vkWaitForFences(device->device, 1, &sequence->fence, VK_TRUE,
                                          PORTA_VK_WAIT_NS);
    if (result != VK_SUCCESS) return porta_vk_fail(device->context, "vkWaitForFences", result);
    result = fn->vkResetFences(device->device, 1, &sequence->fence);
    if (result != VK_SUCCESS) return porta_vk_fail(device->context, "vkResetFences", result);
    sequence->ran = true;
    return PORTA_OK;
}

porta_status porta_vk_sequence_times(porta_backend_sequence *sequence, double *out_ns, int n)
{
    if (!sequence) return PORTA_ERROR_INVALID_ARGUMENT;
    porta_backend_device *device = sequence->device;
    porta_context *context = device->context;
    if (!sequence->profile)
        return porta_error(context, PORTA_ERROR_INVALID_ARGUMENT,
                           "sequence_times: the sequence was recorded without profiling");
    if (!sequence->ran)
        return porta_error(context, PORTA_ERROR_INVALID_ARGUMENT,
                           "sequence_times: the sequence has not run");
    if (!out_ns || n < 0 || n > sequence->n)
        return porta_error(context, PORTA_ERROR_INVALID_ARGUMENT,
                           "sequence_times: %d times asked of a sequence of %d dispatches", n,
                           sequence->n);
    if (!n) return PORTA_OK;
    uint64_t *stamps = malloc(2 * (size_t)n * sizeof *stamps);
    if (!stamps) return porta_error(context, PORTA_ERROR_OUT_OF_MEMORY, "out of memory");
    VkResult result = device->fn.vkGetQueryPoolResults(
        device->device, sequence->queries, 0, 2 * (uint32_t)n, 2 * (size_t)n * sizeof *stamps,
        stamps, sizeof *stamps, VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT);
    if (result != VK_SUCCESS) {
        free(stamps);
        return porta_vk_fail(context, "vkGetQueryPoolResults", result);
    }
    uint64_t mask = device->timestamp_bits >= 64 ? ~0ull : (1ull << device->timestamp_bits) - 1;
    double period = device->properties.limits.timestampPeriod;
    for (int i = 0; i < n; i++)
        out_ns[i] = (double)((stamps[2 * i + 1] - stamps[2 * i]) & mask) * period;
    free(stamps);
    return PORTA_OK;
}

void porta_vk_sequence_destroy(porta_backend_sequence *sequence)
{
    if (!sequence) return;
    porta_vk_sequence_wait(sequence);   /* a pending command buffer may not be freed */
    porta_backend_device *device = sequence->device;
    const porta_vk_functions *fn = &device->fn;
    if (sequence->queries) fn->vkDestroyQueryPool(device->device, sequence->queries, NULL);
    if (sequence->fence) fn->vkDestroyFence(device->device, sequence->fence, NULL);
    if (sequence->command)
        fn->vkFreeCommandBuffers(device->device, device->command_pool, 1, &sequence->command);
    if (sequence->pool) fn->vkDestroyDescriptorPool(device->device, sequence->pool, NULL);
    free(sequence);
}

int porta_vulkan_sequence_barriers(const porta_backend_sequence *sequence)
{
    return sequence ? sequence->barriers : 0;
}
