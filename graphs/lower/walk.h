/* Strided walks and the grids of the elementwise and shape kernels, shared by elementwise.c
 * and shape.c (which implements them).
 *
 * A walk visits every element of a result of up to 4 dims, contiguous in row-major order, and
 * gives each operand an element stride per dim (0 repeats the operand along that dim: numpy
 * broadcasting). Kernels over rows (binary, copy_strided, embedding, positions, kv_append) run
 * one invocation per element of a [rows, inner] grid: the inner dim along x from the kernel's
 * third parameter, col_base (an inner dim past 65535 work-groups takes one step per 65535), the
 * rows along y and z. Flat kernels (unary, cast) cover n elements along x and y:
 * i = GID(1) * NUM_GROUPS(0) * LOCAL_SIZE(0) + GID(0). */
#ifndef PORTA_LOWER_WALK_H
#define PORTA_LOWER_WALK_H

#include "graphs/lower/lower.h"

#define PORTA_WALK_OPERANDS 4

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
 * with unit dims to exactly 4, so dims[3] is the inner dim and dims[0..2] the rows. Folding a
 * folded walk changes nothing. */
void porta_walk_fold(porta_walk *walk);

/* The kernels' ROW_DIMS constant for a folded walk: how many of dims[0..2] are not padding. */
int porta_walk_row_dims(const porta_walk *walk);

/* One kernel launch over a grid as above. */
typedef struct porta_walk_launch {
    const porta_kernel_source *kernel;
    int64_t inner, rows;                /* rows 0: a flat kernel over `inner` elements */
    int n_bindings;
    porta_lower_ref bindings[4];        /* the result last */
    const void *params;                 /* rows kernels: (inner, rows, col_base) first */
    uint32_t param_bytes;
    int n_constants;
    int32_t constants[5];
    bool in_place;                      /* the result may take binding in_place_in's storage */
    int in_place_in;
    /* a kernel that loops: the most iterations one invocation runs (lower.h's loop budget) */
    uint64_t loop_iterations;
} porta_walk_launch;

/* Emits the launch: one step, or one per 65535 groups of a long inner dim (then never in place).
 * Fails, naming the node, when the sizes need more than 32-bit indices. */
porta_status porta_walk_emit(porta_lower *lower, const porta_node *node,
                             const porta_walk_launch *launch);

/* Emits copy_strided for a walk whose operand 0 is dst and operand 1 src, from element offsets
 * dst_offset and src_offset of the two ranges. */
porta_status porta_walk_copy(porta_lower *lower, const porta_node *node, const porta_walk *walk,
                             porta_lower_ref dst, int64_t dst_offset, porta_lower_ref src,
                             int64_t src_offset);

/* The same, with a walk of three operands whose operand 2 is an i32 `keep` (from element
 * keep_offset, stride 0 along the inner dim): a row whose keep word is 0 is written as zeros.
 * keep.bytes 0: none (porta_walk_copy). */
porta_status porta_walk_copy_kept(porta_lower *lower, const porta_node *node,
                                  const porta_walk *walk, porta_lower_ref dst, int64_t dst_offset,
                                  porta_lower_ref src, int64_t src_offset, porta_lower_ref keep,
                                  int64_t keep_offset);

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
