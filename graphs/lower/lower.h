/* Lowering: one rule per op turns a node into kernel steps. A rule never picks addresses: it
 * asks for its operands' and result's storage, emits steps that bind byte ranges of them, and
 * the planner (graphs/lower/memory.c) later places every arena allocation by liveness.
 *
 * A rule file holds one op family (elementwise.c, shape.c, matmul.c,
 * norm.c, reduce.c, attention.c); the table in lower.c maps each op to its rule. */
#ifndef PORTA_LOWER_H
#define PORTA_LOWER_H

#include "graphs/lower/fuse.h"
#include "graphs/lower/plan.h"

typedef struct porta_lower porta_lower;

/* A byte range of a storage during lowering: an arena allocation, or an own buffer (inputs,
 * weights, outputs). */
typedef struct porta_lower_ref {
    int store;
    uint64_t offset, bytes;
} porta_lower_ref;

const porta_graph *porta_lower_graph(const porta_lower *lower);
const porta_plan_limits *porta_lower_limits(const porta_lower *lower);

/* The fused pair a node belongs to (fuse.h), found once for the graph before any rule runs;
 * kind PORTA_FUSION_NONE when it is lowered alone. The driver skips the pair's node that is not
 * its anchor; the anchor's rule emits steps for both, writing the result of `last`. */
const porta_fusion *porta_lower_fused(const porta_lower *lower, const porta_node *node);

/* Lowers the node's group of projections (fuse.h) node by node instead: every member becomes
 * kind NONE and the plan counts one fusion fewer. */
void porta_lower_unfuse(porta_lower *lower, const porta_node *node);

/* Where tensor `tensor` (an operand: input, weight or earlier result) lives. */
porta_lower_ref porta_lower_tensor(porta_lower *lower, porta_tensor_id tensor);
/* The node's result: its own buffer when it is a graph output, else a fresh arena allocation.
 * Asking twice gives the same range. */
porta_lower_ref porta_lower_result(porta_lower *lower, const porta_node *node);
/* Makes the node's result share tensor `of`'s storage from byte `offset` on (reshape, a slice
 * of the outermost non-unit axis): no step, no copy. Returns false, changing nothing, when the
 * result must have storage of its own (a graph output) or the offset is not a multiple of the
 * device's binding alignment; the rule then copies. */
bool porta_lower_view(porta_lower *lower, const porta_node *node, porta_tensor_id of,
                      uint64_t offset);
/* Makes the node's result the range `ref`, a part of an arena allocation a rule made for several
 * results (a group of projections writes all of theirs into one); false as porta_lower_view. */
bool porta_lower_view_range(porta_lower *lower, const porta_node *node, porta_lower_ref ref);
/* Asks that weight operand `slot` of `node` be laid out as `packing` says when it is set, and
 * returns its (packed) range. Granted only when that operand is a weight used nowhere else in
 * the graph; otherwise returns a range with store -1 and the rule reads the weight as it is. */
porta_lower_ref porta_lower_pack_weight(porta_lower *lower, const porta_node *node, int slot,
                                        const porta_plan_packing *packing);
/* Whether porta_lower_pack_weight would lay weight operand `slot` out (with an 8-bit weight's
 * own block), before a rule commits to a variant that needs it. */
bool porta_lower_weight_packable(const porta_lower *lower, const porta_node *node, int slot);
/* Lays the n weights out one after another in one buffer (that of weights[0]), each as
 * packings[i] says (panel_cols 0: as it is), and returns the whole range: a group of projections
 * reads its weights as one B and its biases as one vector. Refused (store -1, nothing changed)
 * when porta_lower_pack_weight would refuse one of them or together they pass the binding
 * range. */
porta_lower_ref porta_lower_group_weights(porta_lower *lower, const porta_tensor_id *weights,
                                          int n, const porta_plan_packing *packings);
/* Arena space that lives only across the steps that bind it. */
porta_lower_ref porta_lower_scratch(porta_lower *lower, uint64_t bytes);
/* The sub-range [offset, offset + bytes) of a range. */
porta_lower_ref porta_lower_sub(porta_lower_ref ref, uint64_t offset, uint64_t bytes);

/* Where a rule whose steps accumulate into its result (a K split into steps, conv1d's ranges of
 * channels and taps) sums: the result itself when it holds 32-bit elements, else f32 scratch as
 * many elements long (accumulates false: the result). porta_lower_emit_convert then copies the
 * sums into the result, so an f16 result is rounded once, as the reference rounds it. */
porta_lower_ref porta_lower_staging(porta_lower *lower, porta_lower_ref result, bool accumulates);
/* Copies every element of `to`'s range from the same index of `from`, converting where the two
 * hold different kinds (copy.k: f32 to f16 or back); nothing when they are one range. */
porta_status porta_lower_emit_convert(porta_lower *lower, const porta_node *node,
                                      porta_lower_ref from, porta_lower_ref to);

/* The loop budget. llvmpipe (lavapipe, rusticl) ends every loop of an invocation, silently, once
 * its loops together have run 65,535 iterations (gallivm's LP_MAX_TGSI_LOOP_ITERATIONS); each loop
 * also counts a pass when it ends. Every step of a kernel that loops states the most iterations
 * of its loop bodies any invocation runs (summed over its loops), and porta_lower_emit refuses a
 * step past this budget, which leaves room for those ends: rules split work across invocations or
 * steps to stay under it (docs/design.md). */
#define PORTA_LOWER_LOOP_BUDGET 60000u
/* A step's loop_iterations before its rule states them: refused for a kernel that loops. */
#define PORTA_LOWER_LOOPS_UNSTATED UINT64_MAX

/* One kernel dispatch. Bindings follow the kernel's buffer list; unused optional buffers (an
 * absent bias) still need a valid range: bind any operand and tell the kernel by a parameter. */
typedef struct porta_lower_step {
    const porta_kernel_source *kernel;
    porta_kernel_config config;
    int n_bindings;
    porta_lower_ref bindings[PORTA_PLAN_MAX_BINDINGS];
    const void *params;             /* a struct of 4-byte fields in the kernel's parameter order */
    uint32_t param_bytes;
    uint32_t groups[3];
    /* The result (binding in_place_out) may take the storage of binding in_place_in when that is
     * an arena range of the same size whose last reader is this step; the kernel must then read
     * every element before writing it and no other invocation may read it after (elementwise,
     * per-row norms). -1 and -1: never. */
    int in_place_in, in_place_out;
    /* The most loop iterations one invocation runs (see PORTA_LOWER_LOOP_BUDGET); a kernel
     * without loops needs none stated. */
    uint64_t loop_iterations;
} porta_lower_step;

/* A step with the usual defaults: no in-place, groups 1, loop iterations unstated. */
porta_lower_step porta_lower_step_init(const porta_kernel_source *kernel, uint32_t local_x,
                                       uint32_t local_y, uint32_t local_z);

porta_status porta_lower_emit(porta_lower *lower, const porta_node *node,
                              const porta_lower_step *step);

/* Fails with "file:line:col: node 'name' (op): message". */
porta_status porta_lower_fail(porta_lower *lower, const porta_node *node, porta_status status,
                              const char *format, ...) PORTA_PRINTF(4, 5);

/* Groups needed to cover n items with `per_group` items each, and an error when a dimension
 * passes the 65535 groups every API allows: rules split work over y and z themselves. */
uint32_t porta_lower_groups(uint64_t n, uint32_t per_group);

/* The variant a rule uses for kernel family `family` at the shape `key` (no spaces; the rule's
 * own spelling, such as "m128,n1536,k384,b1,w"), one of `names` (n of them): the one that
 * limits->variants forces for this family when it names one of `names`, else the one
 * limits->tuned holds for (family, key), else `chosen`, the rule's own pick for the device. A
 * name that is not among `names` is ignored, so one override string can serve many graphs.
 * The decision is recorded in the plan's choices (graphs/lower/variants.c). */
int porta_lower_variant(porta_lower *lower, const char *family, const char *key,
                        const char *const *names, int n, int chosen);
/* Records a decision in the plan; false when out of memory. */
bool porta_lower_record_choice(porta_lower *lower, const porta_plan_choice *choice);

/* Elements of a tensor (its shape's product). */
int64_t porta_lower_elements(const porta_lower *lower, porta_tensor_id tensor);
/* Bytes of one of its elements on the device: 4, or 2 for f16 (plan.h). Element offsets that a
 * rule turns into byte offsets of a binding use it; a rule's scratch holds f32. */
uint32_t porta_lower_element_bytes(const porta_lower *lower, porta_tensor_id tensor);
/* Bytes of one element of the storage a range belongs to: 2 where it holds 16-bit elements (a
 * data buffer's kind, kernels.h), else 4 (words: f32, i32, 8-bit weights, scratch). */
uint32_t porta_lower_ref_element_bytes(const porta_lower *lower, porta_lower_ref ref);
porta_storage_kind porta_lower_ref_storage_kind(const porta_lower *lower, porta_lower_ref ref);

/* A batched matrix product, out = alpha * a x b (+ bias), emitted by matmul.c for matmul
 * and linear and shared with the rules that need a projection (additive and Luong attention).
 * Element strides describe each operand, so a transposed b (linear's w [OUT, IN]) or a head of
 * a merged layout is a choice of strides, never a copy: a[b0, b1, m, k] is
 * a[b0 * a_batch[0] + b1 * a_batch[1] + m * a_m + k * a_k], and b and out likewise (a stride of
 * 0 broadcasts a batch dim). The bias, when bias.bytes is not 0, is a vector of n elements
 * added to every row. A residual, when residual.bytes is not 0, laid out like out, is added to
 * every result after the bias (a linear fused with the add that reads it), and `activation`
 * (fuse.h), when not NONE, is applied after that (a linear fused with its activation). */
typedef struct porta_lower_gemm {
    porta_lower_ref a, b, bias, out, residual;
    uint32_t batch[2], m, n, k;
    uint32_t a_batch[2], a_m, a_k;
    uint32_t b_batch[2], b_k, b_n;
    uint32_t out_batch[2], out_m;   /* out's n stride is 1 */
    float alpha;
    /* The node's operand slot that holds b, when b may be a weight that the gemm lays out for
     * itself once, when it is set (porta_lower_pack_weight); 0: none (slot 0 is never b). */
    int b_weight_slot;
    /* b is an 8-bit weight (graphs/quantize.h) with scales per block of this many values along
     * K (0: floats); b_k and b_n then count int8 values, and the 4x4 tiles read it */
    uint32_t b_quant_block;
    porta_activation activation;
} porta_lower_gemm;

porta_status porta_lower_emit_gemm(porta_lower *lower, const porta_node *node,
                                   const porta_lower_gemm *gemm);

/* One step of the norm family over the rows of the last axis (shaders/norm_rows.k), emitted by
 * norm.c for softmax, layernorm, rmsnorm and l2norm, by reduce.c for the reductions, and open to
 * any rule that needs a row norm: x and y are [rows, cols] (y may take x's storage), or for the
 * reductions x is [rows, cols] and y [rows], and their rows may be strided: with inner > 1 the
 * columns of row r lie inner elements apart from (r / inner) * cols * inner + r % inner (x
 * [outer, cols, inner] reduced over its middle axis); the masked mean reads the weight of
 * column c of row r at mask[(r / inner) * cols + c] (mask_i32: nonzero is 1). softmax reads
 * scale, causal and the optional mask (mask.bytes 0: none) with x seen as [d0, d1, d2, cols]
 * and the mask's element strides against it (0 where it broadcasts); layernorm and rmsnorm
 * read gamma [cols] and eps (l2norm eps only) and, for layernorm,
 * the optional beta (beta.bytes 0: none), and normalize the rows of x + residual when
 * residual.bytes is not 0 (an add fused into the norm; residual is [rows, cols] like x). The
 * kernel's variant (family "norm": rows, strips, lanes) and shape are chosen here from the row
 * width and the device. */
typedef enum porta_lower_norm_op {
    PORTA_LOWER_SOFTMAX = 0,
    PORTA_LOWER_LAYERNORM = 1,
    PORTA_LOWER_RMSNORM = 2,
    PORTA_LOWER_L2NORM = 3,
    PORTA_LOWER_SUM = 4,            /* times scale: 1, or 1 / cols for a mean */
    PORTA_LOWER_MAX = 5,
    PORTA_LOWER_ARGMAX = 6,
    PORTA_LOWER_MASKED_MEAN = 7,
} porta_lower_norm_op;

typedef struct porta_lower_norm_step {
    porta_lower_norm_op op;
    porta_lower_ref x, y;
    porta_lower_ref mask, gamma, beta, residual;
    bool mask_i32;
    uint32_t rows, cols;
    float scale, eps;
    bool causal;
    uint32_t d1, d2, mask_strides[4];
    uint32_t inner;                 /* 0 or 1: contiguous rows */
} porta_lower_norm_step;

porta_status porta_lower_emit_norm(porta_lower *lower, const porta_node *node,
                                   const porta_lower_norm_step *norm);

/* ---- rules (one per op; docs/ops.md is the math) -------------------------------------------- */
typedef porta_status (*porta_lower_rule)(porta_lower *lower, const porta_node *node);

/* elementwise.c: add sub mul div scale relu gelu silu tanh sigmoid cast */
porta_status porta_lower_unary(porta_lower *lower, const porta_node *node);
porta_status porta_lower_binary(porta_lower *lower, const porta_node *node);
porta_status porta_lower_cast(porta_lower *lower, const porta_node *node);
/* shape.c: reshape permute split_heads merge_heads concat slice, embedding sinusoidal rope
 * kv_append */
porta_status porta_lower_reshape(porta_lower *lower, const porta_node *node);
porta_status porta_lower_permute(porta_lower *lower, const porta_node *node);
porta_status porta_lower_concat(porta_lower *lower, const porta_node *node);
porta_status porta_lower_slice(porta_lower *lower, const porta_node *node);
porta_status porta_lower_embedding(porta_lower *lower, const porta_node *node);
porta_status porta_lower_positions(porta_lower *lower, const porta_node *node);
porta_status porta_lower_kv_append(porta_lower *lower, const porta_node *node);
/* A work-group of up to 64 invocations over tiles_x by tiles_y tiles, no wider than either
 * needs, within the device's limit, and the groups that cover them (matmul.c). */
void porta_lower_tile_grid(const porta_lower *lower, uint32_t tiles_x, uint32_t tiles_y,
                           porta_lower_step *step);

/* Kernels index with 32-bit integers: fails naming the node unless every operand and the
 * result have fewer than 2^32 elements (matmul.c). */
porta_status porta_lower_check_elements(porta_lower *lower, const porta_node *node);

/* matmul.c: matmul linear; conv1d.c: causal_conv1d */
porta_status porta_lower_matmul(porta_lower *lower, const porta_node *node);
porta_status porta_lower_conv1d(porta_lower *lower, const porta_node *node);
/* norm.c: softmax layernorm rmsnorm l2norm */
porta_status porta_lower_softmax(porta_lower *lower, const porta_node *node);
porta_status porta_lower_norm(porta_lower *lower, const porta_node *node);
/* reduce.c: sum mean max argmax masked_mean */
porta_status porta_lower_reduce(porta_lower *lower, const porta_node *node);
/* elementwise.c: where full */
porta_status porta_lower_where(porta_lower *lower, const porta_node *node);
porta_status porta_lower_full(porta_lower *lower, const porta_node *node);
/* attention.c: sdpa attention additive_attention luong_attention */
porta_status porta_lower_attention(porta_lower *lower, const porta_node *node);
porta_status porta_lower_additive(porta_lower *lower, const porta_node *node);
porta_status porta_lower_luong(porta_lower *lower, const porta_node *node);
/* attention written out op by op and fused (fuse.h), lowered by its last matmul */
porta_status porta_lower_attention_chain(porta_lower *lower, const porta_node *node);

#endif
