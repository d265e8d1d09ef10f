/* Strided walks, shared by the elementwise and shape rules (lower_elementwise.c, lower_shape.c).
 * A walk visits every element of a result of up to 4 dims, contiguous in row-major order, and
 * gives each operand an element stride per dim (0 repeats the operand along that dim: numpy
 * broadcasting). Kernels that walk (binary, copy_strided, embedding, positions, kv_append) cover
 * [rows, inner] with the same grid: the inner dim along x, looping when it passes 65535 groups,
 * and one row per invocation along y and z. */
#ifndef PORTA_LOWER_WALK_H
#define PORTA_LOWER_WALK_H

#include "graphs/lower.h"

#define PORTA_WALK_OPERANDS 3

typedef struct porta_walk {
    int rank;                                          /* dims in use, at most 4 */
    int n_operands;
    int64_t dims[PORTA_MAX_RANK];
    int64_t strides[PORTA_WALK_OPERANDS][PORTA_MAX_RANK];
} porta_walk;

/* The row-major strides of a shape, right-aligned to `rank` dims; a dim of 1 or one the shape
 * lacks gets stride 0 (it broadcasts). */
void porta_walk_strides(const porta_shape *shape, int rank, int64_t strides[PORTA_MAX_RANK]);

/* Drops unit dims, merges neighbours that every operand walks contiguously, then pads on the left
 * to exactly 4 dims, so dims[3] is the inner dim and dims[0..2] the rows. */
void porta_walk_fold(porta_walk *walk);

/* A step of `kernel` whose grid covers rows x inner as described above; the kernel's first two
 * parameters are (inner, rows). Fails (naming the node) when the sizes need more than 32 bits or
 * the grid passes 65535 groups per dimension. */
porta_status porta_walk_step(porta_lower *lower, const porta_node *node,
                             const porta_kernel_source *kernel, int64_t inner, int64_t rows,
                             porta_lower_step *out_step);

/* Emits copy_strided for a folded or unfolded walk whose operand 0 is dst and operand 1 src,
 * starting at element offsets dst_offset and src_offset of the two ranges. */
porta_status porta_walk_copy(porta_lower *lower, const porta_node *node, const porta_walk *walk,
                             porta_lower_ref dst, int64_t dst_offset, porta_lower_ref src,
                             int64_t src_offset);

/* The result holds x's elements in x's order (reshape, same-dtype casts, a one-input concat, a
 * permute that moves only unit dims): a view of x when `may_view` and the planner allows one,
 * else a copy. */
porta_status porta_walk_same(porta_lower *lower, const porta_node *node, porta_tensor_id x,
                             bool may_view);

#endif
