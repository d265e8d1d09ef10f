/* The kernels compiled into the library, one per file in shaders/ (see prelude.h). */
#ifndef PORTA_SHADERS_KERNELS_H
#define PORTA_SHADERS_KERNELS_H

#include <stddef.h>
#include <stdint.h>

typedef struct porta_kernel_source {
    const char *name;               /* the file's name without .k; also the OpenCL kernel name */
    const char *opencl_source;      /* OpenCL C 1.2 text, prelude inlined */
    const uint32_t *spirv;          /* SPIR-V for Vulkan 1.1, entry point "main" */
    size_t spirv_words;
    /* Bindings 0..n_buffers-1. OpenCL arguments are the buffers, then the n_params 4-byte
     * parameters, then one padding uint; the Vulkan push-constant block is the n_params
     * parameters followed by the same padding uint, (n_params + 1) * 4 bytes. */
    int n_buffers;
    uint32_t writes;                /* bit b: buffer b is not readonly (the kernel may write it) */
    int n_params;
    int loops;                      /* loops in the kernel (its SPIR-V's OpLoopMerge) */
    /* Specialization constants 0..n_constants-1 (OpenCL: -D NAME=value, names as declared). The
     * work-group size is specialization constants 100, 101, 102 (OpenCL: the local size). */
    int n_constants;
    const char *constant_names;     /* the constants' names in id order, separated by spaces */
} porta_kernel_source;

/* Compile-time specialization: Vulkan specialization constants, OpenCL -D options. Constant i
 * is named in the kernel file's constant list; both backends take the values in that order. */
#define PORTA_MAX_CONSTANTS 8
typedef struct porta_kernel_config {
    uint32_t local_size[3];             /* work-group size */
    int n_constants;
    int32_t constants[PORTA_MAX_CONSTANTS];
} porta_kernel_config;

/* Runtime tests and benchmarks. */
extern const porta_kernel_source porta_kernel_fill;
extern const porta_kernel_source porta_kernel_copy;
extern const porta_kernel_source porta_kernel_add;
extern const porta_kernel_source porta_kernel_softmax_rows;
extern const porta_kernel_source porta_kernel_peak_fma;
extern const porta_kernel_source porta_kernel_peak_copy;

/* Lowering helpers (graphs/lower/lower.c). */
extern const porta_kernel_source porta_kernel_round_f16;

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
