/* Strided walks, shared by the elementwise and shape rules (lower_elementwise.c, lower_shape.c).
 * A walk visits every element of a result of up to 4 dims, contiguous in row-major order, and
 * gives each operand an element stride per dim (0 repeats the operand along that dim: numpy
 * broadcasting). Kernels that walk (binary, copy_strided, embedding, positions, kv_append) cover
 * [rows, inner] with the same grid, one element per invocation: the inner dim along x from the
 * kernel's third parameter, col_base (an inner dim past 65535 groups takes one step per 65535
 * groups), and the rows along y and z. Flat kernels (unary, cast) cover n elements along x and
 * y. */
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
 * to 4 dims, so dims[3] is the inner dim and dims[0..2] the rows; rank counts the dims that are
 * not padding (0 to 4), so the kernels' ROW_DIMS constant is rank - 1 (0 when rank is 0). */
void porta_walk_fold(porta_walk *walk);

/* A step of `kernel` whose grid covers rows x inner as described above (groups[0] may pass
 * 65535: porta_walk_emit splits it); the kernel's first three parameters are (inner, rows,
 * col_base). Fails (naming the node) when the sizes need more than 32 bits. */
porta_status porta_walk_step(porta_lower *lower, const porta_node *node,
                             const porta_kernel_source *kernel, int64_t inner, int64_t rows,
                             porta_lower_step *out_step);

/* Emits a step made by porta_walk_step, whose params (param_bytes of them, col_base 0) it may
 * copy once per slice of at most 65535 groups along x. */
porta_status porta_walk_emit(porta_lower *lower, const porta_node *node,
                             const porta_lower_step *step);

/* A step of `kernel` covering n elements flat: i = GID(1) * NUM_GROUPS(0) * LOCAL_SIZE(0) +
 * GID(0). */
porta_status porta_walk_flat(porta_lower *lower, const porta_node *node,
                             const porta_kernel_source *kernel, int64_t n,
                             porta_lower_step *out_step);

/* Emits copy_strided for a folded or unfolded walk whose operand 0 is dst and operand 1 src,
 * starting at element offsets dst_offset and src_offset of the two ranges. */
porta_status porta_walk_copy(porta_lower *lower, const porta_node *node, const porta_walk *walk,
                             porta_lower_ref dst, int64_t dst_offset, porta_lower_ref src,
                             int64_t src_offset);

/* Whether a step that writes its result over `operand` (in place) may also read `other`: they
 * share no storage, or they are the same range (read at the same index). A view of the operand's
 * storage read elsewhere would see elements already overwritten. */
bool porta_walk_apart(porta_lower_ref operand, porta_lower_ref other);

/* The result holds x's elements in x's order (reshape, same-dtype casts, a one-input concat, a
 * permute that moves only unit dims): a view of x when `may_view` and the planner allows one,
 * else a copy. */
porta_status porta_walk_same(porta_lower *lower, const porta_node *node, porta_tensor_id x,
                             bool may_view);

#endif
