/* The Vulkan backend's internal types, shared by the files of runtime/vulkan/ and nothing else.
 *
 * libvulkan is opened at run time (loader.c), so <vulkan/vulkan.h> is included for its types only
 * (VK_NO_PROTOTYPES) and every call goes through a function table resolved with
 * vkGetInstanceProcAddr / vkGetDeviceProcAddr. Files and their jobs:
 *   loader.c     dlopen, the function tables, VkResult names
 *   instance.c   the instance, the validation layer and the debug messenger
 *   device.c     enumeration, the capability probe, opening and closing a device
 *   memory.c     block sub-allocation of device-local memory, buffers, staging for host I/O
 *   pipelines.c  shader modules, layouts, specialization, the on-disk pipeline cache
 *   record.c     sequences: descriptor sets, the recorded command buffer, barriers, timestamps
 *   backend.c    the porta_backend vtable */
#ifndef PORTA_RUNTIME_VULKAN_INTERNAL_H
#define PORTA_RUNTIME_VULKAN_INTERNAL_H

#define VK_NO_PROTOTYPES
#include <vulkan/vulkan.h>

#include <stdatomic.h>

#include "runtime/backend.h"
#include "runtime/cache.h"
#include "runtime/vulkan/inspect.h"

/* Functions the loader exports before any instance exists. vkEnumerateInstanceVersion is absent
 * from 1.0 loaders; porta needs 1.1. */
#define PORTA_VK_GLOBAL_FUNCTIONS(X) \
    X(vkCreateInstance) X(vkEnumerateInstanceVersion) X(vkEnumerateInstanceLayerProperties) \
    X(vkEnumerateInstanceExtensionProperties)

#define PORTA_VK_INSTANCE_FUNCTIONS(X) \
    X(vkDestroyInstance) X(vkEnumeratePhysicalDevices) X(vkGetPhysicalDeviceProperties) \
    X(vkGetPhysicalDeviceProperties2) X(vkGetPhysicalDeviceFeatures2) \
    X(vkGetPhysicalDeviceMemoryProperties) X(vkGetPhysicalDeviceQueueFamilyProperties) \
    X(vkCreateDevice) X(vkGetDeviceProcAddr)

/* VK_EXT_debug_utils: resolved only when validation is on. */
#define PORTA_VK_DEBUG_FUNCTIONS(X) X(vkCreateDebugUtilsMessengerEXT) X(vkDestroyDebugUtilsMessengerEXT)

#define PORTA_VK_DEVICE_FUNCTIONS(X) \
    X(vkDestroyDevice) X(vkGetDeviceQueue) X(vkDeviceWaitIdle) X(vkQueueSubmit) \
    X(vkAllocateMemory) X(vkFreeMemory) X(vkMapMemory) X(vkUnmapMemory) \
    X(vkCreateBuffer) X(vkDestroyBuffer) X(vkGetBufferMemoryRequirements) X(vkBindBufferMemory) \
    X(vkCreateShaderModule) X(vkDestroyShaderModule) \
    X(vkCreateDescriptorSetLayout) X(vkDestroyDescriptorSetLayout) \
    X(vkCreatePipelineLayout) X(vkDestroyPipelineLayout) \
    X(vkCreatePipelineCache) X(vkDestroyPipelineCache) X(vkGetPipelineCacheData) \
    X(vkCreateComputePipelines) X(vkDestroyPipeline) \
    X(vkCreateDescriptorPool) X(vkDestroyDescriptorPool) X(vkAllocateDescriptorSets) \
    X(vkUpdateDescriptorSets) \
    X(vkCreateCommandPool) X(vkDestroyCommandPool) X(vkAllocateCommandBuffers) \
    X(vkFreeCommandBuffers) X(vkBeginCommandBuffer) X(vkEndCommandBuffer) \
    X(vkCmdBindPipeline) X(vkCmdBindDescriptorSets) X(vkCmdPushConstants) X(vkCmdDispatch) \
    X(vkCmdPipelineBarrier) X(vkCmdCopyBuffer) X(vkCmdWriteTimestamp) X(vkCmdResetQueryPool) \
    X(vkCreateFence) X(vkDestroyFence) X(vkWaitForFences) X(vkResetFences) X(vkGetFenceStatus) \
    X(vkCreateQueryPool) X(vkDestroyQueryPool) X(vkGetQueryPoolResults)

#define PORTA_VK_DECLARE_(name) PFN_##name name;

/* The opened library. */
typedef struct porta_vk_library {
    void *handle;
    char path[512];
    PFN_vkGetInstanceProcAddr vkGetInstanceProcAddr;
    PORTA_VK_GLOBAL_FUNCTIONS(PORTA_VK_DECLARE_)
} porta_vk_library;

/* An instance with its library and, when validation is on, its debug messenger. Heap-allocated:
 * the messenger keeps a pointer to it. */
typedef struct porta_vk_instance {
    porta_vk_library library;
    VkInstance instance;
    uint32_t version;                   /* instance-level API version */
    struct {
        PORTA_VK_INSTANCE_FUNCTIONS(PORTA_VK_DECLARE_)
        PORTA_VK_DEBUG_FUNCTIONS(PORTA_VK_DECLARE_)
    } fn;
    bool validation;
    VkDebugUtilsMessengerEXT messenger;
    const porta_context *log_context;   /* where the first message is logged */
    atomic_uint_fast64_t messages;      /* warnings and errors seen */
    atomic_flag first_taken;
    char first_message[2048];
} porta_vk_instance;

typedef struct porta_vk_functions {
    PORTA_VK_DEVICE_FUNCTIONS(PORTA_VK_DECLARE_)
} porta_vk_functions;

/* One block of device memory, carved into buffers by a first-fit free list. */
typedef struct porta_vk_range {
    VkDeviceSize offset, size;
} porta_vk_range;

typedef struct porta_vk_block {
    VkDeviceMemory memory;
    VkDeviceSize size;
    uint32_t type_index;
    int n_free, free_capacity;
    porta_vk_range *free;               /* sorted by offset, coalesced */
    uint32_t n_buffers;
} porta_vk_block;

typedef struct porta_vk_memory {
    porta_vk_block **blocks;
    int n_blocks, blocks_capacity;
    uint32_t allocations;               /* live vkAllocateMemory allocations, checked against the limit */
    uint32_t buffers;
    /* Host I/O: one host-visible, coherent buffer, created at the first transfer. */
    VkBuffer staging;
    VkDeviceMemory staging_memory;
    void *staging_map;
    VkDeviceSize staging_size;
    VkCommandBuffer transfer;
    VkFence transfer_fence;
} porta_vk_memory;

struct porta_backend_device {
    porta_context *context;             /* errors of every call on this device go here */
    porta_vk_instance *vk;
    VkPhysicalDevice physical;
    VkPhysicalDeviceProperties properties;
    VkPhysicalDeviceMemoryProperties memory_properties;
    VkDeviceSize max_allocation;        /* maxMemoryAllocationSize */
    porta_device_caps caps;
    uint32_t queue_family;
    uint32_t timestamp_bits;            /* of the queue family; 0: no timestamps */
    VkDevice device;
    VkQueue queue;
    porta_vk_functions fn;
    VkCommandPool command_pool;
    porta_vk_memory memory;
    /* The pipeline cache, loaded at open and stored at close. */
    VkPipelineCache pipeline_cache;
    porta_cache cache;
    char pipeline_cache_key[1024];
    uint64_t pipeline_cache_loaded, pipeline_cache_stored;
    uint64_t pipelines_created;         /* every kernel_create compiles a pipeline */
};

struct porta_backend_buffer {
    porta_backend_device *device;
    VkBuffer buffer;
    uint64_t size;
    porta_vk_block *block;
    VkDeviceSize offset, reserved;      /* the range taken from the block */
};

struct porta_backend_kernel {
    porta_backend_device *device;
    const porta_kernel_source *source;
    VkShaderModule module;
    VkDescriptorSetLayout set_layout;
    VkPipelineLayout layout;
    VkPipeline pipeline;
    uint32_t push_bytes;                /* (n_params + 1) * 4 */
    uint32_t reads, writes;             /* bit b: binding b is read / written (from the SPIR-V) */
};

/* Timeout of every fence wait: long enough for any sane sequence; a hung device is an error
 * rather than a hung process. */
#define PORTA_VK_WAIT_NS (600ull * 1000 * 1000 * 1000)

/* loader.c */
porta_status porta_vk_library_open(porta_context *context, porta_vk_library *library);
void porta_vk_library_close(porta_vk_library *library);
porta_status porta_vk_resolve_instance(porta_context *context, porta_vk_instance *vk);
porta_status porta_vk_resolve_device(porta_context *context, porta_backend_device *device);
const char *porta_vk_result_name(VkResult result);
/* "call: VK_ERROR_..." as PORTA_ERROR_DEVICE (or OUT_OF_MEMORY for the memory codes). */
porta_status porta_vk_fail(porta_context *context, const char *call, VkResult result);

/* instance.c */
porta_status porta_vk_instance_create(porta_context *context, porta_vk_instance **out_vk);
void porta_vk_instance_destroy(porta_vk_instance *vk);

/* device.c */
porta_status porta_vk_enumerate(porta_context *context, porta_device_caps *out_caps, int max_caps,
                                int *out_count);
porta_status porta_vk_device_open(porta_context *context, int index,
                                  porta_backend_device **out_device);
void porta_vk_device_close(porta_backend_device *device);
uint64_t porta_vk_validation_messages(const porta_backend_device *device, const char **out_first);

/* memory.c */
porta_status porta_vk_memory_init(porta_backend_device *device);
void porta_vk_memory_release(porta_backend_device *device);
porta_status porta_vk_buffer_create(porta_backend_device *device, uint64_t bytes,
                                    porta_backend_buffer **out_buffer);
void porta_vk_buffer_destroy(porta_backend_buffer *buffer);
porta_status porta_vk_buffer_upload(porta_backend_buffer *buffer, uint64_t offset, const void *data,
                                    uint64_t bytes);
porta_status porta_vk_buffer_download(porta_backend_buffer *buffer, uint64_t offset, void *data,
                                      uint64_t bytes);

/* pipelines.c */
porta_status porta_vk_pipeline_cache_open(porta_backend_device *device);
void porta_vk_pipeline_cache_close(porta_backend_device *device);
porta_status porta_vk_kernel_create(porta_backend_device *device, const porta_kernel_source *source,
                                    const porta_kernel_config *config,
                                    porta_backend_kernel **out_kernel);
void porta_vk_kernel_destroy(porta_backend_kernel *kernel);

/* record.c */
porta_status porta_vk_sequence_create(porta_backend_device *device, const porta_dispatch *dispatches,
                                      int n_dispatches, bool profile,
                                      porta_backend_sequence **out_sequence);
porta_status porta_vk_sequence_submit(porta_backend_sequence *sequence);
porta_status porta_vk_sequence_poll(porta_backend_sequence *sequence, bool *out_done);
porta_status porta_vk_sequence_wait(porta_backend_sequence *sequence);
porta_status porta_vk_sequence_times(porta_backend_sequence *sequence, double *out_ns, int n);
void porta_vk_sequence_destroy(porta_backend_sequence *sequence);

#endif
