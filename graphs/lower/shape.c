/* Lowering of the shape, embedding, position and KV-cache ops, and the strided walks they share
 * with the elementwise rules (walk.h). Data movement never looks at values: every copy is
 * one copy_strided step over raw 32-bit words, and reshape, contiguous slices and permutes that
 * move only unit dims are views when the planner allows one. */
#include "graphs/lower/walk.h"
#include "graphs/ops.h"

#include <math.h>
#include <string.h>

#define MAX_GROUPS 65535u

static const porta_shape *shape_of(const porta_lower *lower, porta_tensor_id tensor)
{
    return &porta_lower_graph(lower)->tensors[tensor].shape;
}

/* ---- walks ----------------------------------------------------------------------------------- */

void porta_walk_strides(const porta_shape *shape, int rank, int64_t strides[PORTA_MAX_RANK])
{
    int64_t stride = 1;
    for (int i = rank - 1; i >= 0; i--) {
        int k = shape->rank - rank + i;
        int64_t dim = k >= 0 ? shape->dims[k] : 1;
        strides[i] = dim == 1 ? 0 : stride;
        stride *= dim;
    }
    for (int i = rank; i < PORTA_MAX_RANK; i++) strides[i] = 0;
}

void porta_walk_fold(porta_walk *walk)
{
    porta_walk out = {.rank = 0, .n_operands = walk->n_operands};
    for (int i = 0; i < walk->rank; i++) {
        if (walk->dims[i] == 1) continue;
        int last = out.rank - 1;
        bool merge = last >= 0;
        for (int k = 0; merge && k < walk->n_operands; k++)
            merge = out.strides[k][last] == walk->strides[k][i] * walk->dims[i];
        if (merge) {
            out.dims[last] *= walk->dims[i];
            for (int k = 0; k < walk->n_operands; k++) out.strides[k][last] = walk->strides[k][i];
            continue;
        }
        out.dims[out.rank] = walk->dims[i];
        for (int k = 0; k < walk->n_operands; k++) out.strides[k][out.rank] = walk->strides[k][i];
        out.rank++;
    }
    int pad = PORTA_MAX_RANK - out.rank;
    walk->rank = PORTA_MAX_RANK;
    for (int i = PORTA_MAX_RANK - 1; i >= 0; i--) {
        walk->dims[i] = i >= pad ? out.dims[i - pad] : 1;
        for (int k = 0; k < walk->n_operands; k++)
            walk->strides[k][i] = i >= pad ? out.strides[k][i - pad] : 0;
    }
}

int porta_walk_row_dims(const porta_walk *walk)
{
    int n = 0;
    for (int i = 0; i < PORTA_MAX_RANK - 1; i++) n += walk->dims[i] != 1;
    return n;
}

/* The work-group size: 256 invocations, or the device's largest power of two below that. */
static uint32_t group_size(const porta_lower *lower)
{
    uint32_t limit = porta_lower_limits(lower)->max_workgroup_size, size = 1;
    while (size * 2 <= 256 && size * 2 <= limit) size *= 2;
    return size;
}

/* The grid of a launch; groups[0] of a rows kernel may pass MAX_GROUPS (porta_walk_emit splits
 * it). */
static porta_lower_step grid_of(const porta_lower *lower, const porta_walk_launch *launch)
{
    uint32_t size = group_size(lower), lx = size, ly = 1;
    int64_t inner = launch->inner, rows = launch->rows;
    if (rows == 0) { /* flat: x, then y */
        porta_lower_step step = porta_lower_step_init(launch->kernel, size, 1, 1);
        uint32_t groups = porta_lower_groups((uint64_t)inner, size);
        step.groups[0] = groups < MAX_GROUPS ? groups : MAX_GROUPS;
        step.groups[1] = porta_lower_groups(groups, step.groups[0]);
        return step;
    }
    for (lx = 1; lx < inner && lx < size; lx *= 2) {}
    while (lx * ly * 2 <= size && ly < rows) ly *= 2;
    porta_lower_step step = porta_lower_step_init(launch->kernel, lx, ly, 1);
    uint32_t row_groups = porta_lower_groups((uint64_t)rows, ly);
    step.groups[0] = porta_lower_groups((uint64_t)inner, lx);
    step.groups[1] = row_groups < MAX_GROUPS ? row_groups : MAX_GROUPS;
    step.groups[2] = porta_lower_groups(row_groups, step.groups[1]);
    return step;
}

porta_status porta_walk_emit(porta_lower *lower, const porta_node *node,
                             const porta_walk_launch *launch)
{
    int64_t elements = launch->inner * (launch->rows ? launch->rows : 1);
    if (elements > (int64_t)UINT32_MAX)
        return porta_lower_fail(lower, node, PORTA_ERROR_UNSUPPORTED,
                                "%lld elements need more than 32-bit indices",
                                (long long)elements);
    porta_lower_step step = grid_of(lower, launch);
    step.config.n_constants = launch->n_constants;
    memcpy(step.config.constants, launch->constants, sizeof launch->constants);
    step.n_bindings = launch->n_bindings;
    memcpy(step.bindings, launch->bindings, sizeof launch->bindings);
    step.params = launch->params;
    step.param_bytes = launch->param_bytes;
    /* left 0, a looping kernel's count stays unstated and porta_lower_emit refuses the step */
    if (launch->kernel->loops && launch->loop_iterations)
        step.loop_iterations = launch->loop_iterations;
    if (launch->in_place) {
        step.in_place_in = launch->in_place_in;
        step.in_place_out = launch->n_bindings - 1;
    }
    uint32_t groups = step.groups[0];
    if (groups <= MAX_GROUPS) return porta_lower_emit(lower, node, &step);
    /* slices of the inner dim, each from its col_base (the third parameter) */
    uint8_t params[PORTA_PLAN_MAX_PARAM_BYTES];
    memcpy(params, launch->params, launch->param_bytes);
    step.params = params;
    for (uint32_t first = 0; first < groups; first += MAX_GROUPS) {
        uint32_t col_base = first * step.config.local_size[0];
        memcpy(params + 8, &col_base, 4);
        step.groups[0] = groups - first < MAX_GROUPS ? groups - first : MAX_GROUPS;
        porta_status status = porta_lower_emit(lower, node, &step);
        if (status != PORTA_OK) return status;
    }
    return PORTA_OK;
}

/* The largest element index operand k of a folded walk reaches from `offset`, which the kernels
 * hold in 32 bits. */
static bool walk_fits(const porta_walk *walk, int k, int64_t offset)
{
    int64_t last = offset;
    for (int i = 0; i < PORTA_MAX_RANK; i++) last += (walk->dims[i] - 1) * walk->strides[k][i];
    return last <= (int64_t)UINT32_MAX;
}

porta_status porta_walk_copy_kept(porta_lower *lower, const porta_node *node,
                                  const porta_walk *walk, porta_lower_ref dst, int64_t dst_offset,
                                  porta_lower_ref src, int64_t src_offset, porta_lower_ref keep,
                                  int64_t keep_offset)
{
    porta_walk w = *walk;
    bool kept = keep.bytes != 0;
    if (!kept) w.n_operands = 2;
    porta_walk_fold(&w);
    if (!walk_fits(&w, 0, dst_offset) || !walk_fits(&w, 1, src_offset) ||
        (kept && !walk_fits(&w, 2, keep_offset)))
        return porta_lower_fail(lower, node, PORTA_ERROR_UNSUPPORTED,
                                "the copy reaches past 32-bit element indices");
    int64_t rows = w.dims[0] * w.dims[1] * w.dims[2];
    uint32_t params[19] = {
        (uint32_t)w.dims[3], (uint32_t)rows, 0, (uint32_t)w.dims[1], (uint32_t)w.dims[2],
        (uint32_t)src_offset, (uint32_t)w.strides[1][0], (uint32_t)w.strides[1][1],
        (uint32_t)w.strides[1][2], (uint32_t)w.strides[1][3],
        (uint32_t)dst_offset, (uint32_t)w.strides[0][0], (uint32_t)w.strides[0][1],
        (uint32_t)w.strides[0][2], (uint32_t)w.strides[0][3],
        (uint32_t)keep_offset, kept ? (uint32_t)w.strides[2][0] : 0,
        kept ? (uint32_t)w.strides[2][1] : 0, kept ? (uint32_t)w.strides[2][2] : 0,
    };
    porta_walk_launch launch = {
        .kernel = &porta_kernel_copy_strided, .inner = w.dims[3], .rows = rows,
        .n_bindings = 3, .bindings = {src, dst, kept ? keep : src}, .params = params,
        .param_bytes = sizeof params, .n_constants = 3,
        .constants = {w.strides[0][3] == 1 && w.strides[1][3] == 1, porta_walk_row_dims(&w),
                      kept},
    };
    return porta_walk_emit(lower, node, &launch);
}

porta_status porta_walk_copy(porta_lower *lower, const porta_node *node, const porta_walk *walk,
                             porta_lower_ref dst, int64_t dst_offset, porta_lower_ref src,
                             int64_t src_offset)
{
    return porta_walk_copy_kept(lower, node, walk, dst, dst_offset, src, src_offset,
                                (porta_lower_ref){-1, 0, 0}, 0);
}

bool porta_walk_apart(porta_lower_ref operand, porta_lower_ref other)
{
    return operand.store != other.store ||
           (operand.offset == other.offset && operand.bytes == other.bytes);
}

/* A contiguous run of n elements. */
static porta_walk run_of(int64_t n)
{
    return (porta_walk){.rank = 1, .n_operands = 2, .dims = {n}, .strides = {{1}, {1}}};
}

porta_status porta_walk_same(porta_lower *lower, const porta_node *node, porta_tensor_id x,
                             bool may_view)
{
    if (may_view && porta_lower_view(lower, node, x, 0)) return PORTA_OK;
    porta_walk walk = run_of(porta_lower_elements(lower, node->output));
    return porta_walk_copy(lower, node, &walk, porta_lower_result(lower, node), 0,
                           porta_lower_tensor(lower, x), 0);
}

/* ---- shape ops ------------------------------------------------------------------------------- */

porta_status porta_lower_reshape(porta_lower *lower, const porta_node *node)
{
    return porta_walk_same(lower, node, node->operands[0], true);
}

/* Dims before and after `axis`, multiplied out. */
static void outer_inner(const porta_shape *shape, int axis, int64_t *outer, int64_t *inner)
{
    *outer = *inner = 1;
    for (int i = 0; i < axis; i++) *outer *= shape->dims[i];
    for (int i = axis + 1; i < shape->rank; i++) *inner *= shape->dims[i];
}

static int axis_of(const porta_lower *lower, const porta_node *node, int rank)
{
    int64_t axis = porta_node_int(porta_lower_graph(lower), node, "axis");
    return (int)(axis < 0 ? axis + rank : axis);
}

/* permute, split_heads and merge_heads: x seen as `in` (split_heads: [B, S, H, D]) read in the
 * order `perm`, the result contiguous. */
porta_status porta_lower_permute(porta_lower *lower, const porta_node *node)
{
    const porta_graph *graph = porta_lower_graph(lower);
    porta_tensor_id x = node->operands[0];
    porta_shape in = *shape_of(lower, x);
    int64_t perm[PORTA_MAX_RANK] = {0, 2, 1, 3};
    if (node->op == PORTA_OP_PERMUTE) {
        int n;
        const int64_t *given = porta_node_ints(graph, node, "perm", &n);
        memcpy(perm, given, sizeof(int64_t) * (size_t)n);
    } else if (node->op == PORTA_OP_SPLIT_HEADS) {
        int64_t heads = porta_node_int(graph, node, "heads");
        in = (porta_shape){4, {in.dims[0], in.dims[1], heads, in.dims[2] / heads}};
    }
    int64_t in_strides[PORTA_MAX_RANK], stride = 1;
    for (int i = in.rank - 1; i >= 0; i--) {
        in_strides[i] = stride;
        stride *= in.dims[i];
    }
    porta_walk walk = {.rank = in.rank, .n_operands = 2};
    porta_shape out = {.rank = in.rank};
    for (int i = 0; i < in.rank; i++) {
        out.dims[i] = walk.dims[i] = in.dims[perm[i]];
        walk.strides[1][i] = in_strides[perm[i]];
    }
    porta_walk_strides(&out, out.rank, walk.strides[0]);
    porta_walk folded = walk;
    porta_walk_fold(&folded);
    /* only unit dims move: the result is x's elements in x's order */
    if (folded.dims[0] * folded.dims[1] * folded.dims[2] == 1 &&
        (folded.dims[3] == 1 || folded.strides[1][3] == 1))
        return porta_walk_same(lower, node, x, true);
    return porta_walk_copy(lower, node, &walk, porta_lower_result(lower, node), 0,
                           porta_lower_tensor(lower, x), 0);
}

porta_status porta_lower_concat(porta_lower *lower, const porta_node *node)
{
    if (node->n_operands == 1) return porta_walk_same(lower, node, node->operands[0], true);
    const porta_shape *out = shape_of(lower, node->output);
    int axis = axis_of(lower, node, out->rank);
    int64_t outer, inner, offset = 0;
    outer_inner(out, axis, &outer, &inner);
    porta_lower_ref result = porta_lower_result(lower, node);
    for (int t = 0; t < node->n_operands; t++) {
        int64_t part = shape_of(lower, node->operands[t])->dims[axis] * inner;
        porta_walk walk = {.rank = 2, .n_operands = 2, .dims = {outer, part},
                           .strides = {{out->dims[axis] * inner, 1}, {part, 1}}};
        porta_status status = porta_walk_copy(lower, node, &walk, result, offset,
                                              porta_lower_tensor(lower, node->operands[t]), 0);
        if (status != PORTA_OK) return status;
        offset += part;
    }
    return PORTA_OK;
}

porta_status porta_lower_slice(porta_lower *lower, const porta_node *node)
{
    porta_tensor_id x = node->operands[0];
    const porta_shape *in = shape_of(lower, x);
    int axis = axis_of(lower, node, in->rank);
    int64_t start = porta_node_int(porta_lower_graph(lower), node, "start");
    int64_t length = shape_of(lower, node->output)->dims[axis];
    int64_t outer, inner;
    outer_inner(in, axis, &outer, &inner);
    /* one contiguous range of x when every dim before the axis is 1 */
    if (outer == 1 &&
        porta_lower_view(lower, node, x,
                         (uint64_t)(start * inner) * porta_lower_element_bytes(lower, x)))
        return PORTA_OK;
    porta_walk walk = {.rank = 2, .n_operands = 2, .dims = {outer, length * inner},
                       .strides = {{length * inner, 1}, {in->dims[axis] * inner, 1}}};
    return porta_walk_copy(lower, node, &walk, porta_lower_result(lower, node), 0,
                           porta_lower_tensor(lower, x), start * inner);
}

/* ---- embeddings and positions ---------------------------------------------------------------- */

porta_status porta_lower_embedding(porta_lower *lower, const porta_node *node)
{
    porta_tensor_id ids = node->operands[0], table = node->operands[1];
    const porta_shape *t = shape_of(lower, table);
    int64_t rows = porta_lower_elements(lower, ids);
    struct {
        uint32_t inner, rows, col_base;
        int32_t vocab;
    } params = {(uint32_t)t->dims[1], (uint32_t)rows, 0,
                (int32_t)(t->dims[0] < INT32_MAX ? t->dims[0] : INT32_MAX)};
    porta_walk_launch launch = {
        .kernel = &porta_kernel_embedding, .inner = t->dims[1], .rows = rows, .n_bindings = 3,
        .bindings = {porta_lower_tensor(lower, ids), porta_lower_tensor(lower, table),
                     porta_lower_result(lower, node)},
        .params = &params, .param_bytes = sizeof params,
    };
    return porta_walk_emit(lower, node, &launch);
}

/* An optional i32 `position` operand: its storage, or x's when absent (the kernel then reads the
 * attribute instead). */
static porta_lower_ref position_ref(porta_lower *lower, porta_tensor_id position,
                                    porta_tensor_id otherwise)
{
    return porta_lower_tensor(lower, position >= 0 ? position : otherwise);
}

/* sinusoidal and rope */
porta_status porta_lower_positions(porta_lower *lower, const porta_node *node)
{
    const porta_graph *graph = porta_lower_graph(lower);
    porta_tensor_id x = node->operands[0], position = node->operands[1];
    const porta_shape *shape = shape_of(lower, x);
    int64_t D = shape->dims[shape->rank - 1], S = shape->dims[shape->rank - 2];
    int64_t rows = porta_lower_elements(lower, x) / D;
    int64_t offset = porta_node_int(graph, node, "offset");
    /* rows past 2^31 - 1 are fine: the kernel takes |p| as 32 bits unsigned */
    if (offset > INT32_MAX)
        return porta_lower_fail(lower, node, PORTA_ERROR_UNSUPPORTED,
                                "offset=%lld passes 2^31 - 1, the largest the kernels take",
                                (long long)offset);
    int mode = 0;
    if (node->op == PORTA_OP_ROPE)
        mode = !strcmp(porta_node_string(graph, node, "mode"), "interleaved") ? 2 : 1;
    /* R = base^(-2/D) in 0.64 fixed point, in long double so that its 64 bits are right (the
     * kernel takes R^i: see positions.k); base = 1 gives the largest fraction below 1 */
    long double base = porta_node_float(graph, node, "base");
    long double ratio = powl(base, -2.0L / (long double)D);
    uint64_t fixed = ratio >= 1.0L ? UINT64_MAX : (uint64_t)ldexpl(ratio, 64);
    struct {
        uint32_t inner, rows, col_base, seq;
        int32_t offset;
        uint32_t use_pos, r_hi, r_lo;
    } params = {(uint32_t)(D / 2), (uint32_t)rows, 0, (uint32_t)S, (int32_t)offset, position >= 0,
                (uint32_t)(fixed >> 32), (uint32_t)fixed};
    /* the kernel's loop runs once per bit of the feature index, below D / 2: at most the bits
     * of D / 2 (at least 1, so the count is stated) */
    uint64_t index_bits = 0;
    for (uint64_t half = (uint64_t)(D / 2); half != 0; half >>= 1) index_bits++;
    porta_walk_launch launch = {
        .kernel = &porta_kernel_positions, .inner = D / 2, .rows = rows, .n_bindings = 3,
        .bindings = {porta_lower_tensor(lower, x), position_ref(lower, position, x),
                     porta_lower_result(lower, node)},
        .params = &params, .param_bytes = sizeof params,
        .n_constants = 1, .constants = {mode}, .in_place = true, .in_place_in = 0,
        .loop_iterations = index_bits,
    };
    return porta_walk_emit(lower, node, &launch);
}

/* ---- the KV cache ---------------------------------------------------------------------------- */

porta_status porta_lower_kv_append(porta_lower *lower, const porta_node *node)
{
    porta_tensor_id cache = node->operands[0], rows_new = node->operands[1];
    porta_tensor_id position = node->operands[2];
    const porta_shape *shape = shape_of(lower, cache);
    int r = shape->rank;
    int64_t L = shape->dims[r - 2], D = shape->dims[r - 1];
    int64_t N = shape_of(lower, rows_new)->dims[r - 2];
    int64_t rows = porta_lower_elements(lower, cache) / D;
    int64_t start = porta_node_int(porta_lower_graph(lower), node, "start");
    struct {
        uint32_t inner, rows, col_base, len, count;
        int32_t start;
        uint32_t use_pos;
    } params = {(uint32_t)D, (uint32_t)rows, 0, (uint32_t)L, (uint32_t)N,
                (int32_t)(position >= 0 ? 0 : start), position >= 0};
    porta_walk_launch launch = {
        .kernel = &porta_kernel_kv_append, .inner = D, .rows = rows, .n_bindings = 4,
        .bindings = {porta_lower_tensor(lower, cache), porta_lower_tensor(lower, rows_new),
                     position_ref(lower, position, rows_new), porta_lower_result(lower, node)},
        .params = &params, .param_bytes = sizeof params, .in_place_in = 0,
    };
    launch.in_place = porta_walk_apart(launch.bindings[0], launch.bindings[1]);
    return porta_walk_emit(lower, node, &launch);
}
