/* Introspection of the Vulkan backend's objects, for its tests and diagnostics. These functions
 * take objects made by porta_backend_vulkan() only; they need no Vulkan headers. */
#ifndef PORTA_RUNTIME_VULKAN_INSPECT_H
#define PORTA_RUNTIME_VULKAN_INSPECT_H

#include "runtime/backend.h"

typedef struct porta_vulkan_stats {
    uint32_t memory_blocks;             /* device-memory blocks that buffers are carved from */
    uint64_t memory_block_bytes;        /* their total size */
    uint32_t memory_allocations;        /* live vkAllocateMemory allocations (blocks + staging) */
    uint32_t buffers;                   /* live buffers */
    uint64_t pipeline_cache_loaded;     /* bytes of pipeline-cache data read from disk at open */
    uint64_t pipeline_cache_stored;     /* bytes written at the last store (0: nothing to store) */
    const char *pipeline_cache_key;     /* the cache key text */
} porta_vulkan_stats;

void porta_vulkan_device_stats(const porta_backend_device *device, porta_vulkan_stats *out_stats);

/* Writes the pipeline cache to disk now (it is also written when the device closes). */
void porta_vulkan_pipeline_cache_store(porta_backend_device *device);

/* Pipeline barriers a recorded sequence holds between dispatches (the one at its start, which
 * orders it after earlier submissions, is not counted). */
int porta_vulkan_sequence_barriers(const porta_backend_sequence *sequence);

#endif
