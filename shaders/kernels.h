/* The kernels compiled into the library, one per file in shaders/ (see prelude.h). */
#ifndef PORTA_SHADERS_KERNELS_H
#define PORTA_SHADERS_KERNELS_H

#include <stddef.h>
#include <stdint.h>

typedef struct porta_kernel_source {
    const char *name;               /* the file's name without .k; also the OpenCL kernel name */
    const char *opencl_source;      /* OpenCL C 1.2 text, prelude inlined */
    /* SPIR-V for Vulkan 1.1, entry point "main", three builds (prelude.h): every data buffer
     * 32-bit words; data buffers of any storage kind (a specialization constant each), 16-bit
     * values written into their words with atomics, for every device; the same with halves
     * written as such, for devices with 16-bit storage (storageBuffer16BitAccess). */
    const uint32_t *spirv;
    size_t spirv_words;
    const uint32_t *spirv_words16;
    size_t spirv_words16_words;
    const uint32_t *spirv16;
    size_t spirv16_words;
    /* Bindings 0..n_buffers-1. OpenCL arguments are the buffers, then the n_params 4-byte
     * parameters, then one padding uint; the Vulkan push-constant block is the n_params
     * parameters followed by the same padding uint, (n_params + 1) * 4 bytes. */
    int n_buffers;
    const char *buffer_names;       /* the buffers' names in slot order, separated by spaces */
    /* bit b: buffer b is declared `data`, whose elements a step's configuration says how it
     * holds (porta_storage_kind): its kernel reads and writes them through LD/ST (prelude.h) */
    uint32_t data_buffers;
    uint32_t writes;                /* bit b: buffer b is not readonly (the kernel may write it) */
    int n_params;
    int loops;                      /* loops in the kernel (its SPIR-V's OpLoopMerge) */
    /* Specialization constants 0..n_constants-1 (OpenCL: -D NAME=value, names as declared). The
     * work-group size is specialization constants 100, 101, 102 (OpenCL: the local size). */
    int n_constants;
    const char *constant_names;     /* the constants' names in id order, separated by spaces */
} porta_kernel_source;

/* How a `data` buffer holds its elements: 32-bit words (f32 or i32), f16 halves, or bf16 (the
 * upper half of an f32; weights only, never written by a kernel). Two bits per binding in
 * porta_kernel_config.kinds. */
typedef enum porta_storage_kind {
    PORTA_STORAGE_WORD = 0,
    PORTA_STORAGE_F16 = 1,
    PORTA_STORAGE_BF16 = 2,
} porta_storage_kind;
#define PORTA_STORAGE_KIND_OF(kinds, slot) ((porta_storage_kind)(((kinds) >> (2 * (slot))) & 3u))
/* Vulkan: the kind of data buffer `slot` is specialization constant PORTA_STORAGE_CONSTANT_ID +
 * slot; OpenCL: -D KIND_<buffer name>=kind. */
#define PORTA_STORAGE_CONSTANT_ID 110

/* Compile-time specialization: Vulkan specialization constants, OpenCL -D options. Constant i
 * is named in the kernel file's constant list; both backends take the values in that order. */
#define PORTA_MAX_CONSTANTS 8
typedef struct porta_kernel_config {
    uint32_t local_size[3];             /* work-group size */
    int n_constants;
    int32_t constants[PORTA_MAX_CONSTANTS];
    uint32_t kinds;                     /* the data buffers' porta_storage_kind, 2 bits each */
} porta_kernel_config;

/* Runtime tests and benchmarks. */
extern const porta_kernel_source porta_kernel_fill;
extern const porta_kernel_source porta_kernel_copy;
extern const porta_kernel_source porta_kernel_add;
extern const porta_kernel_source porta_kernel_softmax_rows;
extern const porta_kernel_source porta_kernel_peak_fma;
extern const porta_kernel_source porta_kernel_peak_copy;

/* Elementwise, shape, embedding and position families (graphs/lower/elementwise.c,
 * graphs/lower/shape.c). */
extern const porta_kernel_source porta_kernel_unary;
extern const porta_kernel_source porta_kernel_binary;
extern const porta_kernel_source porta_kernel_cast;
extern const porta_kernel_source porta_kernel_copy_strided;
extern const porta_kernel_source porta_kernel_embedding;
extern const porta_kernel_source porta_kernel_positions;
extern const porta_kernel_source porta_kernel_kv_append;

/* Matmul, convolution, norm and softmax families (graphs/lower/matmul.c, graphs/lower/norm.c). */
extern const porta_kernel_source porta_kernel_gemm;
extern const porta_kernel_source porta_kernel_gemm_panel;
extern const porta_kernel_source porta_kernel_gemm_pack;
extern const porta_kernel_source porta_kernel_conv1d;
extern const porta_kernel_source porta_kernel_norm_rows;

/* Attention families (graphs/lower/attention.c). */
extern const porta_kernel_source porta_kernel_attention;
extern const porta_kernel_source porta_kernel_attention_flash;
extern const porta_kernel_source porta_kernel_attention_combine;

#endif
