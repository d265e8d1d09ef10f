/* The helpers every shape rule uses (graphs/ops_rules.c, graphs/ops_rules_reduce.c): messages
 * that name the node, the op and the shapes, and the common operand checks. */
#ifndef PORTA_OPS_RULES_HELPERS_H
#define PORTA_OPS_RULES_HELPERS_H

#include "graphs/ops.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static inline porta_status fail(porta_infer *in, const char *format, ...) PORTA_PRINTF(2, 3);

static inline porta_status fail(porta_infer *in, const char *format, ...)
{
    char message[768];
    va_list args;
    va_start(args, format);
    vsnprintf(message, sizeof message, format, args);
    va_end(args);
    const porta_node *node = in->node;
    return porta_graph_error_at(in->graph, node->pos, PORTA_ERROR_SHAPE, "node '%s' (%s): %s",
                                in->graph->tensors[node->output].name,
                                porta_op_get(node->op)->name, message);
}

/* Name of operand slot i, for messages: the op's operand name, or the tensor's for variadic ops. */
static inline const char *operand_name(const porta_infer *in, int i)
{
    return in->operand_names[i];
}

static inline const char *shape_text(const porta_shape *shape, char *buffer, size_t size)
{
    porta_shape_format(shape, buffer, size);
    return buffer;
}

#define SHAPE(s) shape_text(&(s), (char[96]){0}, 96)
#define IN_SHAPE(i) SHAPE(in->in[i]->shape)

static inline bool is_float(porta_dtype dtype)
{
    return dtype == PORTA_F32 || dtype == PORTA_F16;
}

/* Operand i must be a float tensor of dtype `dtype` (or any float dtype when dtype < 0). */
static inline porta_status need_float(porta_infer *in, int i, int dtype)
{
    const porta_tensor *t = in->in[i];
    if (!is_float(t->dtype))
        return fail(in, "operand '%s' is %s; expected f32 or f16", operand_name(in, i),
                    porta_dtype_name(t->dtype));
    if (dtype >= 0 && t->dtype != (porta_dtype)dtype)
        return fail(in, "operand '%s' is %s but '%s' is %s; cast one so they match",
                    operand_name(in, i), porta_dtype_name(t->dtype), operand_name(in, 0),
                    porta_dtype_name((porta_dtype)dtype));
    return PORTA_OK;
}

static inline porta_status need_rank(porta_infer *in, int i, int min_rank, int max_rank)
{
    int rank = in->in[i]->shape.rank;
    if (rank < min_rank || rank > max_rank) {
        if (min_rank == max_rank)
            return fail(in, "operand '%s' has shape %s; expected rank %d", operand_name(in, i),
                        IN_SHAPE(i), min_rank);
        return fail(in, "operand '%s' has shape %s; expected rank %d to %d", operand_name(in, i),
                    IN_SHAPE(i), min_rank, max_rank);
    }
    return PORTA_OK;
}

static inline int64_t last_dim(const porta_tensor *t)
{
    return t->shape.rank ? t->shape.dims[t->shape.rank - 1] : 1;
}

static inline int64_t elements(const porta_shape *shape)
{
    int64_t n = 1;
    porta_shape_elements(shape, &n);
    return n;
}

static inline const porta_shape *out_shape(const porta_graph *graph, const porta_node *node)
{
    return &graph->tensors[node->output].shape;
}

static inline const porta_shape *operand_shape(const porta_graph *graph, const porta_node *node,
                                               int i)
{
    return &graph->tensors[node->operands[i]].shape;
}

/* An optional mask in slot i must be f32/f16 (additive) or i32 (0 = masked) and broadcast to
 * `target` without changing it. */
static inline porta_status check_mask(porta_infer *in, int i, const porta_shape *target)
{
    const porta_tensor *mask = in->in[i];
    if (!mask) return PORTA_OK;
    if (mask->dtype != PORTA_I32 && mask->dtype != in->in[0]->dtype)
        return fail(in, "mask is %s; expected %s (added to the scores) or i32 (0 masks out)",
                    porta_dtype_name(mask->dtype), porta_dtype_name(in->in[0]->dtype));
    porta_shape result;
    if (mask->shape.rank > target->rank || !porta_shape_broadcast(&mask->shape, target, &result) ||
        !porta_shape_equal(&result, target))
        return fail(in, "mask has shape %s, which does not broadcast to the scores' shape %s",
                    SHAPE(mask->shape), SHAPE(*target));
    return PORTA_OK;
}

/* Normalizes a possibly negative axis against `rank`; false when out of range. */
static inline bool resolve_axis(int64_t axis, int rank, int *out)
{
    if (axis < -rank || axis >= rank) return false;
    *out = (int)(axis < 0 ? axis + rank : axis);
    return true;
}

#endif
