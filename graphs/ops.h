/* The op table: one row per op. A row holds the op's name, operands, attributes with defaults,
 * its shape rule and its FLOP count. Adding an op means adding a row here (graphs/ops.c), one
 * kernel in shaders/, one function in the reference executor and one line in the conformance list. */
#ifndef PORTA_OPS_H
#define PORTA_OPS_H

#include "graphs/graph.h"

typedef enum porta_op {
    PORTA_OP_ADD, PORTA_OP_SUB, PORTA_OP_MUL, PORTA_OP_DIV,
    PORTA_OP_SCALE, PORTA_OP_RELU, PORTA_OP_GELU, PORTA_OP_SILU, PORTA_OP_TANH, PORTA_OP_SIGMOID,
    PORTA_OP_SQRT, PORTA_OP_RSQRT, PORTA_OP_EXP, PORTA_OP_LOG, PORTA_OP_ABS, PORTA_OP_NEG,
    PORTA_OP_POW,
    PORTA_OP_CAST,
    PORTA_OP_MATMUL, PORTA_OP_LINEAR,
    PORTA_OP_SOFTMAX, PORTA_OP_LAYERNORM, PORTA_OP_RMSNORM,
    PORTA_OP_SDPA, PORTA_OP_ATTENTION, PORTA_OP_ADDITIVE_ATTENTION, PORTA_OP_LUONG_ATTENTION,
    PORTA_OP_RESHAPE, PORTA_OP_PERMUTE, PORTA_OP_SPLIT_HEADS, PORTA_OP_MERGE_HEADS,
    PORTA_OP_CONCAT, PORTA_OP_SLICE,
    PORTA_OP_EMBEDDING, PORTA_OP_SINUSOIDAL, PORTA_OP_ROPE,
    PORTA_OP_CAUSAL_CONV1D, PORTA_OP_KV_APPEND,
    PORTA_OP_SUM, PORTA_OP_MEAN, PORTA_OP_MAX, PORTA_OP_ARGMAX, PORTA_OP_MASKED_MEAN,
    PORTA_OP_L2NORM, PORTA_OP_WHERE, PORTA_OP_FULL,
    PORTA_OP_COUNT
} porta_op;

typedef struct porta_attr_spec {
    const char *name;
    porta_attr_kind kind;
    bool required;              /* no default: the node must set it */
    double def;                 /* default of INT, FLOAT and BOOL attributes */
    const char *def_s;          /* default of STRING attributes */
    const char *choices;        /* STRING: the allowed values, separated by '|' */
    double min, max;            /* INT and FLOAT: allowed range, both inclusive (min > max: none) */
} porta_attr_spec;

/* What a shape rule sees: the node, its operands' dtypes and shapes, and where to report. */
typedef struct porta_infer {
    const porta_graph *graph;
    const porta_node *node;
    const porta_tensor *in[PORTA_MAX_OPERANDS];   /* NULL for an absent optional operand */
    char operand_names[PORTA_MAX_OPERANDS][24];   /* for messages */
    porta_dtype out_dtype;
    porta_shape out_shape;
} porta_infer;

typedef porta_status (*porta_shape_rule)(porta_infer *infer);
typedef uint64_t (*porta_flop_rule)(const porta_graph *graph, const porta_node *node);

typedef struct porta_op_info {
    const char *name;
    /* Operand names separated by spaces; a trailing '?' marks an optional operand (given
     * positionally after the required ones, or by name: `mask=m`); "xs..." is variadic. */
    const char *operands;
    const porta_attr_spec *attrs;
    int n_attrs;
    porta_shape_rule infer;
    porta_flop_rule flops;
    const char *summary;        /* one line for `porta ops` and the docs */
} porta_op_info;

const porta_op_info *porta_op_get(int op);
/* -1 when no op has that name. */
int porta_op_find(const char *name);

/* Operand metadata parsed from the row's `operands` string. */
typedef struct porta_operand_spec {
    char name[24];
    bool optional;
    bool variadic;
} porta_operand_spec;
/* Fills up to PORTA_MAX_OPERANDS specs; returns how many the op declares. */
int porta_op_operands(const porta_op_info *info, porta_operand_spec *out_specs);
/* Index of the attribute named `name`, or -1. */
int porta_op_attr_index(const porta_op_info *info, const char *name);

/* Bytes a node reads and writes in a straightforward execution (operands plus result). */
uint64_t porta_node_bytes(const porta_graph *graph, const porta_node *node);

/* Broadcasts two shapes numpy-style (right-aligned; a dim of 1 stretches). False if they clash. */
bool porta_shape_broadcast(const porta_shape *a, const porta_shape *b, porta_shape *out);

#endif
