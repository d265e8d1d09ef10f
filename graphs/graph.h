/* The graph IR: tensors (inputs, weights, node results) and nodes, in plain arrays.
 * graphs/ never includes an OpenCL or Vulkan header; the runtime sees only the plan. */
#ifndef PORTA_GRAPH_H
#define PORTA_GRAPH_H

#include "porta.h"
#include "graphs/context.h"

#define PORTA_MAX_OPERANDS 8
#define PORTA_MAX_ATTRS 8

/* A position in .pg text; line 0 means the item was made through the C API. */
typedef struct porta_srcpos {
    int line, col;
} porta_srcpos;

typedef struct porta_attr_value {
    bool set;                  /* false: the op table's default applies */
    porta_attr_kind kind;
    int64_t i;
    double f;
    bool b;
    char *s;
    int64_t *ints;
    int n_ints;
    porta_srcpos pos;
    int symbol;                /* an int naming a dim (`end=S`): 1 + the symbol's index; else 0 */
} porta_attr_value;

typedef struct porta_tensor {
    char *name;
    porta_tensor_kind kind;
    porta_dtype dtype;
    porta_shape shape;          /* inputs and weights: declared; nodes: inferred by validation */
    char *key;                  /* weights: the name in a weights file */
    porta_weight_format format; /* weights: how the device holds it (8-bit: graphs/validate.c) */
    int node;                   /* PORTA_TENSOR_NODE: index of its node, -1 until defined */
    bool is_output;
    int output_rank;            /* is_output: its place among the outputs, in marking order */
    porta_srcpos pos;           /* where it was declared or defined */
    /* inputs: 1 + the index of the symbol each dim is, or 0 for a fixed dim (graphs/symbols.c) */
    int dim_symbol[PORTA_MAX_RANK];
} porta_tensor;

/* A dim known only at run time (`S <= 128` in a shape): its maximum, and the value shapes are
 * inferred at now (the maximum until the graph is bound). */
#define PORTA_MAX_SYMBOLS 8
typedef struct porta_symbol {
    char *name;
    int64_t max, value;
    porta_srcpos pos;           /* its first declaration */
} porta_symbol;

typedef struct porta_node {
    int op;                                   /* row of the op table */
    /* For fixed-arity ops slot i is the op's operand i (-1: an absent optional one); for a
     * variadic op (concat) the slots hold n_operands tensors in order. */
    int n_operands;
    porta_tensor_id operands[PORTA_MAX_OPERANDS];
    porta_srcpos operand_pos[PORTA_MAX_OPERANDS];
    porta_attr_value attrs[PORTA_MAX_ATTRS];  /* indexed like the op's attribute specs */
    porta_tensor_id output;
    porta_srcpos pos;                         /* the op name in the text */
} porta_node;

struct porta_graph {
    porta_context *context;
    char *name;
    char *filename;             /* for messages; NULL for graphs built through the API */
    porta_tensor *tensors;
    int n_tensors, cap_tensors;
    porta_node *nodes;
    int n_nodes, cap_nodes;
    int *order;                 /* node indices in a topological order, after validation */
    bool validated;
    int next_anon;
    int n_outputs;
    porta_symbol symbols[PORTA_MAX_SYMBOLS];
    int n_symbols;
};

/* Marks a tensor as an output (once; a second mark keeps its first place). */
void porta_graph_add_output(porta_graph *graph, porta_tensor_id tensor);

/* Internal builder steps (the parser needs names that are used before they are defined). */
porta_status porta_graph_new_tensor(porta_graph *graph, const char *name, porta_tensor_kind kind,
                                    porta_srcpos pos, porta_tensor_id *out_tensor);
/* A fresh name "_N" that no tensor has. Returned string is owned by the caller. */
char *porta_graph_fresh_name(porta_graph *graph);
/* Makes `output` (a PORTA_TENSOR_NODE tensor with node == -1) the result of a new node. */
porta_status porta_graph_define_node(porta_graph *graph, porta_tensor_id output, int op,
                                     porta_srcpos pos, porta_node **out_node);

/* Binds an operand of a node: positionally (position >= 0, name NULL) or by name (position -1).
 * Errors name the op, the operand and its signature. */
porta_status porta_node_set_operand(porta_graph *graph, porta_node *node, int position,
                                    const char *name, porta_tensor_id tensor, porta_srcpos pos);
/* Sets an attribute after checking its name, kind and value against the op table. */
porta_status porta_node_set_attr(porta_graph *graph, porta_node *node, const porta_attr *attr,
                                 porta_srcpos pos);
/* Checks that every required operand and attribute was given. */
porta_status porta_node_check_complete(porta_graph *graph, const porta_node *node);
/* "attention(q, k, v, mask?; heads, kv_heads=0, causal=false, scale=0)" for messages. */
void porta_op_signature(int op, char *out, size_t size);

/* "file:line:col: " for a position (or "" for the API); for messages. */
void porta_graph_where(const porta_graph *graph, porta_srcpos pos, char *out, size_t size);
/* Fails with a message prefixed by the position: "file:line:col: message". */
porta_status porta_graph_error_at(const porta_graph *graph, porta_srcpos pos, porta_status status,
                                  const char *format, ...) PORTA_PRINTF(4, 5);
porta_status porta_graph_error_at_v(const porta_graph *graph, porta_srcpos pos,
                                    porta_status status, const char *format, va_list args);

/* Element count of a shape; false when it overflows int64 or a dim is not positive. */
bool porta_shape_elements(const porta_shape *shape, int64_t *out_count);
/* FLOP and byte counts saturate at PORTA_COUNT_TOO_LARGE instead of wrapping, so that a count
 * past 64 bits stays visible (validation refuses such a node) rather than reading as a small one. */
#define PORTA_COUNT_TOO_LARGE UINT64_MAX
static inline uint64_t porta_count_mul(uint64_t a, uint64_t b)
{
    return b && a > PORTA_COUNT_TOO_LARGE / b ? PORTA_COUNT_TOO_LARGE : a * b;
}
static inline uint64_t porta_count_add(uint64_t a, uint64_t b)
{
    return a > PORTA_COUNT_TOO_LARGE - b ? PORTA_COUNT_TOO_LARGE : a + b;
}
/* "[1, 128, 384]" into out. */
void porta_shape_format(const porta_shape *shape, char *out, size_t size);
bool porta_shape_equal(const porta_shape *a, const porta_shape *b);

/* The value of attribute `index` of a node, falling back to the op table's default. */
int64_t porta_node_int(const porta_graph *graph, const porta_node *node, const char *attr);
double porta_node_float(const porta_graph *graph, const porta_node *node, const char *attr);
bool porta_node_bool(const porta_graph *graph, const porta_node *node, const char *attr);
const char *porta_node_string(const porta_graph *graph, const porta_node *node, const char *attr);
/* Returns the list and its length; NULL/0 when unset and without default. */
const int64_t *porta_node_ints(const porta_graph *graph, const porta_node *node, const char *attr,
                               int *out_count);
/* The tensor bound to the operand named `operand` ("mask"), or -1 when absent. */
porta_tensor_id porta_node_operand(const porta_graph *graph, const porta_node *node,
                                   const char *operand);

/* A weights handle's number, unique among those its context opened (a closed handle's number is
 * never reused): programs of one device share the device copies of weights by it. */
uint64_t porta_weights_serial(const porta_weights *weights);

/* Symbols (graphs/symbols.c). Declares `name` with maximum `max`, or finds it declared with
 * the same maximum; *out_index is its index. */
porta_status porta_graph_declare_symbol(porta_graph *graph, const char *name, int64_t max,
                                        porta_srcpos pos, int *out_index);
/* A deep copy, validated when the original is. */
porta_status porta_graph_clone(const porta_graph *graph, porta_graph **out_graph);
/* Gives symbols values (each 1..its maximum; others keep theirs), sets the inputs' dims and
 * validates again at those values; the message says the values when a shape fails. */
porta_status porta_graph_bind(porta_graph *graph, const char *const *names,
                              const int64_t *values, int count);
/* "S = 77, B = 2" for messages: the symbols' current values. */
void porta_graph_symbols_format(const porta_graph *graph, char *out, size_t size);

#endif
