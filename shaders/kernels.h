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
    int n_params;
    /* Specialization constants 0..n_constants-1 (OpenCL: -D NAME=value, names as declared). The
     * work-group size is specialization constants 100, 101, 102 (OpenCL: the local size). */
    int n_constants;
    const char *constant_names;     /* the constants' names in id order, separated by spaces */
} porta_kernel_source;

extern const porta_kernel_source porta_kernel_fill;
extern const porta_kernel_source porta_kernel_copy;
extern const porta_kernel_source porta_kernel_add;
extern const porta_kernel_source porta_kernel_softmax_rows;

#endif
