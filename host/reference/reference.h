/* The CPU reference executor: runs a validated graph in double precision, exactly as docs/ops.md
 * states each op. Every tensor is held as an array of doubles (i32 tensors too, as whole numbers);
 * a node whose result is f16 has its values rounded to f16 precision afterwards, so f16 graphs see
 * the rounding a device sees between ops. Device kernels are checked against it.
 *
 * It never aborts or prints: failures return a porta_status and leave a message on the graph's
 * context (porta_last_error). */
#ifndef PORTA_REFERENCE_H
#define PORTA_REFERENCE_H

#include "porta.h"

/* One array per tensor of a graph, indexed by tensor id, each `count[id]` doubles in row-major
 * order. Inputs and weights are the caller's to fill (they start as zeros); porta_reference_run
 * writes every node result. */
typedef struct porta_reference_values {
    int n_tensors;
    double **data;
    int64_t *count;
} porta_reference_values;

/* Allocates a zeroed array for every tensor of a validated graph. */
porta_status porta_reference_values_create(const porta_graph *graph,
                                           porta_reference_values **out_values);
/* The same for the inputs, weights and outputs only; intermediates keep their counts and a NULL
 * array, so running a graph elsewhere needs no host copy of what only the device holds. */
porta_status porta_reference_values_create_io(const porta_graph *graph,
                                              porta_reference_values **out_values);
void porta_reference_values_destroy(porta_reference_values *values);

/* Runs every node of a validated graph in topological order, reading the inputs' and weights'
 * arrays and writing each node's. Inputs and weights are read as given: values meant for an f16 or
 * i32 tensor should already be representable in it (porta_reference_round, the seed fill and the
 * .npy reader all make them so). */
porta_status porta_reference_run(const porta_graph *graph, porta_reference_values *values);

/* Rounds values to what a tensor of `dtype` can hold: f16 to the nearest f16, f32 to the nearest
 * float, i32 toward zero and clamped to the int32 range (NaN gives 0). */
void porta_reference_round(porta_dtype dtype, double *data, int64_t count);

/* Converts values to a tensor's host layout (f32: float, f16: uint16_t bits, i32: int32_t),
 * rounding as porta_reference_round does; `out` holds count * porta_dtype_size(dtype) bytes. */
void porta_reference_pack(porta_dtype dtype, const double *values, int64_t count, void *out);
/* The inverse: host-layout data to doubles (exact). */
void porta_reference_unpack(porta_dtype dtype, const void *data, int64_t count, double *out);

/* How far device results are from the reference. */
typedef struct porta_comparison {
    double max_abs;         /* largest |got - want| (infinite for a NaN or a wrong infinity) */
    double max_rel;         /* max_abs over the largest finite |want| */
    int64_t failures;       /* elements outside abs_tol + rel_tol * |want| */
    int64_t worst;          /* the element furthest outside its tolerance; -1 when count is 0 */
    bool nan;               /* a NaN on either side (never within tolerance) */
} porta_comparison;

void porta_reference_compare(const double *got, const double *want, int64_t count, double abs_tol,
                             double rel_tol, porta_comparison *out);

/* ---- seed fill ------------------------------------------------------------------------------- */

/* Fills tensor `tensor` (an input or weight) with values that depend only on (seed, the tensor's
 * name), its kind, dtype and shape; never on declaration order. Rules (docs/cli.md):
 * - float inputs: uniform in [-1, 1);
 * - float weights of rank >= 2: uniform in [-1, 1) / sqrt(fan_in), fan_in = the product of all
 *   dims after the first (IN for linear [OUT, IN], C*K for conv [O, C, K]);
 * - float weights of rank 0 or 1 (norm gains, biases, the additive attention vector): uniform in
 *   [0.5, 1.5);
 * - i32 inputs and weights: integers in [0, 8).
 * Values are rounded to the tensor's dtype. */
void porta_reference_fill(const porta_graph *graph, porta_tensor_id tensor, uint64_t seed,
                          double *data);

#endif
