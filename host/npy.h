/* NumPy .npy files: reading versions 1.0, 2.0 (and 3.0, the same layout) with dtypes '<f4',
 * '<f2', '<i4', '<f8' and '<i8' into doubles; writing version 1.0 in a tensor's dtype. C order
 * only. Every size is checked against the file's length; a malformed file is an error with a
 * message, never a crash. Messages go to the context (porta_last_error). */
#ifndef PORTA_NPY_H
#define PORTA_NPY_H

#include "porta.h"

/* Decodes the bytes of an .npy file for tensor `name` of `dtype` and `shape`: the file's shape must
 * equal it; float tensors take '<f2', '<f4' or '<f8' data, i32 tensors '<i4' or '<i8' (values
 * must fit in int32). Values are rounded to `dtype` and stored in `out` (the shape's element
 * count). `source` (a path) only appears in messages. */
porta_status porta_npy_decode(porta_context *context, const char *source, const void *data,
                              size_t length, const char *name, porta_dtype dtype,
                              const porta_shape *shape, double *out);
/* Reads a file and decodes it as above. */
porta_status porta_npy_read(porta_context *context, const char *path, const char *name,
                            porta_dtype dtype, const porta_shape *shape, double *out);

/* The shape a file holds, from its header alone. */
porta_status porta_npy_shape(porta_context *context, const char *path, porta_shape *out_shape);

/* Encodes values as a version 1.0 .npy file of `dtype` ('<f4', '<f2' or '<i4'); f32 values are
 * rounded to float, f16 to nearest even, i32 toward zero (clamped). Free *out_data with free(). */
porta_status porta_npy_encode(porta_context *context, porta_dtype dtype, const porta_shape *shape,
                              const double *values, char **out_data, size_t *out_length);
/* Encodes and writes to `path`. */
porta_status porta_npy_write(porta_context *context, const char *path, porta_dtype dtype,
                             const porta_shape *shape, const double *values);

#endif
