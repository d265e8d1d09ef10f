/* The lowering driver. Rules (lower_*.c) turn nodes into steps that bind ranges of "stores": one
 * per input, weight and output tensor (own buffers) and one per arena allocation. Once every node
 * is lowered, the memory planner (memory.c) finds each arena store's live range (first and last
 * step binding it), lets a step write over an operand that dies there (in place), and places the
 * stores in arenas within the device's binding range by greedy best fit. Dependencies between
 * steps come from overlapping byte ranges. Which nodes fuse is decided before any rule runs
 * (fuse.c); the driver then lowers each pair through its anchor's rule. */
#include "graphs/lower/lower.h"
#include "graphs/lower/stores.h"
#include "graphs/quantize.h"
#include "graphs/ops.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const porta_lower_rule rules[PORTA_OP_COUNT] = {
    [PORTA_OP_ADD] = porta_lower_binary,
    [PORTA_OP_SUB] = porta_lower_binary,
    [PORTA_OP_MUL] = porta_lower_binary,
    [PORTA_OP_DIV] = porta_lower_binary,
    [PORTA_OP_SCALE] = porta_lower_unary,
    [PORTA_OP_RELU] = porta_lower_unary,
    [PORTA_OP_GELU] = porta_lower_unary,
    [PORTA_OP_SILU] = porta_lower_unary,
    [PORTA_OP_TANH] = porta_lower_unary,
    [PORTA_OP_SIGMOID] = porta_lower_unary,
    [PORTA_OP_SQRT] = porta_lower_unary,
    [PORTA_OP_RSQRT] = porta_lower_unary,
    [PORTA_OP_EXP] = porta_lower_unary,
    [PORTA_OP_LOG] = porta_lower_unary,
    [PORTA_OP_ABS] = porta_lower_unary,
    [PORTA_OP_NEG] = porta_lower_unary,
    [PORTA_OP_POW] = porta_lower_unary,
    [PORTA_OP_CAST] = porta_lower_cast,
    [PORTA_OP_MATMUL] = porta_lower_matmul,
    [PORTA_OP_LINEAR] = porta_lower_matmul,
    [PORTA_OP_SOFTMAX] = porta_lower_softmax,
    [PORTA_OP_LAYERNORM] = porta_lower_norm,
    [PORTA_OP_RMSNORM] = porta_lower_norm,
    [PORTA_OP_SDPA] = porta_lower_attention,
    [PORTA_OP_ATTENTION] = porta_lower_attention,
    [PORTA_OP_ADDITIVE_ATTENTION] = porta_lower_additive,
    [PORTA_OP_LUONG_ATTENTION] = porta_lower_luong,
    [PORTA_OP_RESHAPE] = porta_lower_reshape,
    [PORTA_OP_PERMUTE] = porta_lower_permute,
    [PORTA_OP_SPLIT_HEADS] = porta_lower_permute,
    [PORTA_OP_MERGE_HEADS] = porta_lower_permute,
    [PORTA_OP_CONCAT] = porta_lower_concat,
    [PORTA_OP_SLICE] = porta_lower_slice,
    [PORTA_OP_EMBEDDING] = porta_lower_embedding,
    [PORTA_OP_SINUSOIDAL] = porta_lower_positions,
    [PORTA_OP_ROPE] = porta_lower_positions,
    [PORTA_OP_CAUSAL_CONV1D] = porta_lower_conv1d,
    [PORTA_OP_KV_APPEND] = porta_lower_kv_append,
    [PORTA_OP_SUM] = porta_lower_reduce,
    [PORTA_OP_MEAN] = porta_lower_reduce,
    [PORTA_OP_MAX] = porta_lower_reduce,
    [PORTA_OP_ARGMAX] = porta_lower_reduce,
    [PORTA_OP_MASKED_MEAN] = porta_lower_reduce,
    [PORTA_OP_L2NORM] = porta_lower_norm,
    [PORTA_OP_WHERE] = porta_lower_where,
    [PORTA_OP_FULL] = porta_lower_full,
};

porta_plan_limits porta_plan_default_limits(void)
{
    return (porta_plan_limits){
        .max_workgroup_size = 256,
        .shared_memory_bytes = 16384,
        .buffer_alignment = 256,
        .max_buffer_bytes = (uint64_t)1 << 30,
        .subgroup_size = 0,
        .fusion = true,
    };
}

uint32_t porta_plan_element_bytes(const porta_graph *graph, porta_tensor_id t)
{
    if (graph->tensors[t].format == PORTA_WEIGHT_BF16) return 2;
    return (uint32_t)porta_dtype_size(graph->tensors[t].dtype);
}

porta_storage_kind porta_plan_storage_kind(const porta_graph *graph, porta_tensor_id t)
{
    const porta_tensor *tensor = &graph->tensors[t];
    if (tensor->format == PORTA_WEIGHT_BF16) return PORTA_STORAGE_BF16;
    if (tensor->format != PORTA_WEIGHT_PLAIN) return PORTA_STORAGE_WORD;    /* 8-bit: words */
    return tensor->dtype == PORTA_F16 ? PORTA_STORAGE_F16 : PORTA_STORAGE_WORD;
}

bool porta_lower_record_choice(porta_lower *lower, const porta_plan_choice *choice)
{
    porta_plan *plan = lower->plan;
    for (int i = 0; i < plan->n_choices; i++)
        if (!strcmp(plan->choices[i].family, choice->family) &&
            !strcmp(plan->choices[i].key, choice->key)) {
            lower->current_choice = i;
            return true;
        }
    porta_plan_choice *grown =
        realloc(plan->choices, ((size_t)plan->n_choices + 1) * sizeof *grown);
    if (!grown) {
        lower->failed_alloc = true;
        return false;
    }
    plan->choices = grown;
    lower->current_choice = plan->n_choices;
    plan->choices[plan->n_choices++] = *choice;
    return true;
}

const porta_graph *porta_lower_graph(const porta_lower *lower) { return lower->graph; }
const porta_plan_limits *porta_lower_limits(const porta_lower *lower) { return &lower->limits; }

const porta_fusion *porta_lower_fused(const porta_lower *lower, const porta_node *node)
{
    return &lower->fused[node - lower->graph->nodes];
}

int64_t porta_lower_elements(const porta_lower *lower, porta_tensor_id tensor)
{
    int64_t n = 0;
    porta_shape_elements(&lower->graph->tensors[tensor].shape, &n);
    return n;
}

uint32_t porta_lower_element_bytes(const porta_lower *lower, porta_tensor_id tensor)
{
    return porta_plan_element_bytes(lower->graph, tensor);
}

porta_storage_kind porta_lower_ref_storage_kind(const porta_lower *lower, porta_lower_ref ref)
{
    int t = ref.store >= 0 && ref.store < lower->n_stores ? lower->stores[ref.store].tensor : -1;
    return t >= 0 ? porta_plan_storage_kind(lower->graph, t) : PORTA_STORAGE_WORD;
}

uint32_t porta_lower_ref_element_bytes(const porta_lower *lower, porta_lower_ref ref)
{
    return porta_lower_ref_storage_kind(lower, ref) != PORTA_STORAGE_WORD ? 2 : 4;
}

/* Whole 32-bit words: a kernel without 16-bit stores writes a half into its word (prelude.h),
 * which then lies inside the binding. */
static uint64_t tensor_bytes(const porta_lower *lower, porta_tensor_id tensor)
{
    uint64_t bytes = (uint64_t)porta_lower_elements(lower, tensor) *
                     porta_lower_element_bytes(lower, tensor);
    return (bytes + 3) / 4 * 4;
}

static int new_store(porta_lower *lower, bool arena, int buffer, porta_tensor_id tensor,
                     uint64_t bytes)
{
    if (lower->n_stores == lower->cap_stores) {
        int cap = lower->cap_stores ? 2 * lower->cap_stores : 64;
        store *grown = realloc(lower->stores, (size_t)cap * sizeof *grown);
        if (!grown) {
            lower->failed_alloc = true;
            return 0;   /* a valid index; the failure is reported after the rule returns */
        }
        lower->stores = grown;
        lower->cap_stores = cap;
    }
    lower->stores[lower->n_stores] =
        (store){arena, buffer, bytes, -1, -1, -1, 0, 0, tensor, lower->current_node};
    return lower->n_stores++;
}

static int add_buffer(porta_plan *plan, porta_plan_buffer_kind kind, porta_tensor_id tensor,
                      uint64_t bytes)
{
    plan->buffers[plan->n_buffers] = (porta_plan_buffer){kind, tensor, bytes};
    plan->tensor_buffer_of[tensor] = plan->n_buffers;
    return plan->n_buffers++;
}

porta_lower_ref porta_lower_tensor(porta_lower *lower, porta_tensor_id tensor)
{
    return lower->tensor_at[tensor];
}

porta_lower_ref porta_lower_result(porta_lower *lower, const porta_node *node)
{
    porta_tensor_id out = node->output;
    if (lower->tensor_at[out].store >= 0) return lower->tensor_at[out];
    uint64_t bytes = tensor_bytes(lower, out);
    int s;
    if (lower->graph->tensors[out].is_output) {
        int buffer = add_buffer(lower->plan, PORTA_PLAN_OUTPUT, out, bytes);
        s = new_store(lower, false, buffer, out, bytes);
    } else {
        s = new_store(lower, true, -1, out, bytes);
    }
    lower->tensor_at[out] = (porta_lower_ref){s, 0, bytes};
    return lower->tensor_at[out];
}

bool porta_lower_view_range(porta_lower *lower, const porta_node *node, porta_lower_ref ref)
{
    porta_tensor_id out = node->output;
    if (lower->graph->tensors[out].is_output || lower->tensor_at[out].store >= 0) return false;
    if (ref.offset % lower->limits.buffer_alignment) return false;
    lower->tensor_at[out] = ref;
    lower->is_view[out] = true;
    return true;
}

bool porta_lower_view(porta_lower *lower, const porta_node *node, porta_tensor_id of,
                      uint64_t offset)
{
    porta_lower_ref base = lower->tensor_at[of];
    return porta_lower_view_range(lower, node,
                                  (porta_lower_ref){base.store, base.offset + offset,
                                                    tensor_bytes(lower, node->output)});
}

void porta_lower_unfuse(porta_lower *lower, const porta_node *node)
{
    porta_fusion group = lower->fused[node - lower->graph->nodes];
    if (group.kind != PORTA_FUSION_PROJECTIONS) return;
    for (int m = 0; m < group.n_members; m++)
        lower->fused[group.members[m]] = (porta_fusion){PORTA_FUSION_NONE, -1, -1, -1, 0, {0}};
    lower->plan->n_fused--;
}

/* Whether weight t may be laid out as a rule asks: used by one operand slot only, and not laid
 * out already. */
static bool weight_layable(const porta_lower *lower, porta_tensor_id t)
{
    const porta_graph *graph = lower->graph;
    if (t < 0 || graph->tensors[t].kind != PORTA_TENSOR_WEIGHT || graph->tensors[t].is_output)
        return false;
    int uses = 0;
    for (int i = 0; i < graph->n_nodes; i++)
        for (int o = 0; o < graph->nodes[i].n_operands; o++)
            uses += graph->nodes[i].operands[o] == t;
    int buffer = lower->plan->tensor_buffer_of[t];
    int shared = 0;
    for (porta_tensor_id u = 0; u < graph->n_tensors; u++)
        shared += lower->plan->tensor_buffer_of[u] == buffer;
    /* an 8-bit weight is laid out flat from the start (lower_nodes) and may still go to panels */
    return uses == 1 && !lower->plan->tensor_packing[t].panel_cols && shared == 1;
}

static uint64_t packed_bytes(const porta_plan_packing *packing)
{
    if (packing->quant_block) {
        porta_quant_layout quant = {packing->quant_block, packing->k_rows, packing->n_cols,
                                    packing->k_stride, packing->n_stride};
        return porta_quant_panel_bytes(&quant);
    }
    uint64_t panels = (packing->n_cols + packing->panel_cols - 1) / packing->panel_cols;
    return panels * packing->panel_cols * packing->k_rows * packing->element_bytes;
}

porta_lower_ref porta_lower_pack_weight(porta_lower *lower, const porta_node *node, int slot,
                                        const porta_plan_packing *packing)
{
    porta_tensor_id t = node->operands[slot];
    /* an 8-bit weight goes to panels of its own values only (the packing's block its own) */
    if (!weight_layable(lower, t) ||
        packing->quant_block != lower->plan->tensor_packing[t].quant_block)
        return (porta_lower_ref){-1, 0, 0};
    porta_lower_ref at = lower->tensor_at[t];
    int buffer = lower->stores[at.store].buffer;
    uint64_t bytes = packed_bytes(packing);
    lower->plan->tensor_packing[t] = *packing;
    lower->plan->buffers[buffer].bytes = bytes;
    lower->stores[at.store].bytes = bytes;
    lower->tensor_at[t] = (porta_lower_ref){at.store, 0, bytes};
    return lower->tensor_at[t];
}

bool porta_lower_weight_packable(const porta_lower *lower, const porta_node *node, int slot)
{
    return weight_layable(lower, node->operands[slot]);
}

/* Drops own buffer b, which no store will use, renumbering those after it. */
static void remove_own_buffer(porta_lower *lower, int b)
{
    porta_plan *plan = lower->plan;
    memmove(&plan->buffers[b], &plan->buffers[b + 1],
            (size_t)(plan->n_buffers - b - 1) * sizeof *plan->buffers);
    plan->n_buffers--;
    for (porta_tensor_id t = 0; t < lower->graph->n_tensors; t++)
        if (plan->tensor_buffer_of[t] > b) plan->tensor_buffer_of[t]--;
    for (int s = 0; s < lower->n_stores; s++)
        if (!lower->stores[s].arena && lower->stores[s].buffer > b) lower->stores[s].buffer--;
}

porta_lower_ref porta_lower_group_weights(porta_lower *lower, const porta_tensor_id *weights,
                                          int n, const porta_plan_packing *packings)
{
    porta_lower_ref refused = {-1, 0, 0};
    uint64_t total = 0;
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < i; j++)
            if (weights[j] == weights[i]) return refused;
        if (!weight_layable(lower, weights[i]) ||
            lower->plan->tensor_packing[weights[i]].quant_block)
            return refused;
        total += packings[i].panel_cols ? packed_bytes(&packings[i])
                                        : lower->tensor_at[weights[i]].bytes;
    }
    if (total > lower->limits.max_buffer_bytes) return refused;
    porta_plan *plan = lower->plan;
    int holder = lower->tensor_at[weights[0]].store;
    uint64_t offset = 0;
    for (int i = 0; i < n; i++) {
        porta_tensor_id t = weights[i];
        uint64_t bytes = packings[i].panel_cols ? packed_bytes(&packings[i])
                                                : lower->tensor_at[t].bytes;
        if (i > 0) {
            /* its own buffer goes; its store stays, empty and never bound */
            int own = lower->tensor_at[t].store;
            remove_own_buffer(lower, plan->tensor_buffer_of[t]);
            lower->stores[own].bytes = 0;
            lower->stores[own].buffer = plan->tensor_buffer_of[weights[0]];
            plan->tensor_buffer_of[t] = plan->tensor_buffer_of[weights[0]];
        }
        plan->tensor_packing[t] = packings[i];
        lower->tensor_at[t] = (porta_lower_ref){holder, offset, bytes};
        offset += bytes;
    }
    plan->buffers[plan->tensor_buffer_of[weights[0]]].bytes = total;
    lower->stores[holder].bytes = total;
    return (porta_lower_ref){holder, 0, total};
}

porta_lower_ref porta_lower_scratch(porta_lower *lower, uint64_t bytes)
{
    return (porta_lower_ref){new_store(lower, true, -1, -1, bytes), 0, bytes};
}

porta_lower_ref porta_lower_sub(porta_lower_ref ref, uint64_t offset, uint64_t bytes)
{
    return (porta_lower_ref){ref.store, ref.offset + offset, bytes};
}

porta_lower_ref porta_lower_staging(porta_lower *lower, porta_lower_ref result, bool accumulates)
{
    uint32_t size = porta_lower_ref_element_bytes(lower, result);
    if (!accumulates || size == PORTA_PLAN_ELEMENT_BYTES) return result;
    return porta_lower_scratch(lower, result.bytes / size * PORTA_PLAN_ELEMENT_BYTES);
}

porta_status porta_lower_emit_convert(porta_lower *lower, const porta_node *node,
                                      porta_lower_ref from, porta_lower_ref to)
{
    if (from.store == to.store && from.offset == to.offset) return PORTA_OK;
    /* copy.k converts where the kinds differ; GID(0) only, so a step covers 65535 groups */
    const uint32_t local = 64, per_step = 65535u * local;
    uint64_t n = to.bytes / porta_lower_ref_element_bytes(lower, to);
    for (uint64_t first = 0; first < n; first += per_step) {
        struct {
            uint32_t n, src_offset, dst_offset;
        } p = {(uint32_t)(n - first < per_step ? n - first : per_step), (uint32_t)first,
               (uint32_t)first};
        porta_lower_step step = porta_lower_step_init(&porta_kernel_copy, local, 1, 1);
        step.n_bindings = 2;
        step.bindings[0] = from;
        step.bindings[1] = to;
        step.params = &p;
        step.param_bytes = sizeof p;
        step.groups[0] = porta_lower_groups(p.n, local);
        porta_status status = porta_lower_emit(lower, node, &step);
        if (status != PORTA_OK) return status;
    }
    return PORTA_OK;
}

porta_lower_step porta_lower_step_init(const porta_kernel_source *kernel, uint32_t local_x,
                                       uint32_t local_y, uint32_t local_z)
{
    porta_lower_step step = {0};
    step.kernel = kernel;
    step.config.local_size[0] = local_x;
    step.config.local_size[1] = local_y;
    step.config.local_size[2] = local_z;
    step.groups[0] = step.groups[1] = step.groups[2] = 1;
    step.in_place_in = step.in_place_out = -1;
    step.loop_iterations = PORTA_LOWER_LOOPS_UNSTATED;
    return step;
}

uint32_t porta_lower_groups(uint64_t n, uint32_t per_group)
{
    uint64_t groups = (n + per_group - 1) / per_group;
    return groups ? (uint32_t)(groups > UINT32_MAX ? UINT32_MAX : groups) : 1;
}

porta_status porta_lower_fail(porta_lower *lower, const porta_node *node, porta_status status,
                              const char *format, ...)
{
    const porta_graph *graph = lower->graph;
    char message[512];
    va_list args;
    va_start(args, format);
    vsnprintf(message, sizeof message, format, args);
    va_end(args);
    return porta_graph_error_at(graph, node->pos, status, "node '%s' (%s): %s",
                                graph->tensors[node->output].name, porta_op_get(node->op)->name,
                                message);
}

/* A store larger than one binding can reach cannot run on this device; say which tensor. */
static porta_status check_store_size(porta_lower *lower, int k)
{
    const porta_graph *graph = lower->graph;
    uint64_t limit = lower->limits.max_buffer_bytes;
    const store *s = &lower->stores[k];
    if (s->bytes <= limit) return PORTA_OK;
    if (s->tensor >= 0) {
        const porta_tensor *t = &graph->tensors[s->tensor];
        return porta_graph_error_at(graph, t->pos, PORTA_ERROR_UNSUPPORTED,
                                    "tensor '%s' needs %llu bytes; the device binds at most %llu "
                                    "bytes to one kernel argument", t->name,
                                    (unsigned long long)s->bytes, (unsigned long long)limit);
    }
    const porta_node *node = &graph->nodes[s->node >= 0 ? s->node : 0];
    return porta_lower_fail(lower, node, PORTA_ERROR_UNSUPPORTED,
                            "its scratch needs %llu bytes; the device binds at most %llu bytes "
                            "to one kernel argument", (unsigned long long)s->bytes,
                            (unsigned long long)limit);
}

/* Own buffers are allocated whether or not a step binds them. */
static porta_status check_store_sizes(porta_lower *lower)
{
    for (int k = 0; k < lower->n_stores; k++) {
        if (lower->stores[k].arena && lower->stores[k].first < 0) continue;
        porta_status status = check_store_size(lower, k);
        if (status != PORTA_OK) return status;
    }
    return PORTA_OK;
}

/* A fused chain's ops in order, joined by '+' ("matmul+scale+softmax+matmul"). */
static void chain_name(const porta_lower *lower, int anchor, char name[PORTA_PLAN_OP_CHARS])
{
    const porta_graph *graph = lower->graph;
    size_t used = 0;
    name[0] = '\0';
    for (int k = 0; k < graph->n_nodes && used + 1 < PORTA_PLAN_OP_CHARS; k++) {
        int i = graph->order[k];
        if (lower->fused[i].kind != PORTA_FUSION_ATTENTION || lower->fused[i].anchor != anchor)
            continue;
        int n = snprintf(name + used, PORTA_PLAN_OP_CHARS - used, "%s%s", used ? "+" : "",
                         porta_op_get(graph->nodes[i].op)->name);
        used += n > 0 ? (size_t)n : 0;
    }
}

/* The node a step implements and its op column: "linear+gelu" for a pair (the step writes the
 * second node's result), "linear+linear+linear" for a group of projections (named by its first
 * linear; the step writes every member's result), every op of an attention chain (the step
 * writes its last matmul's result). */
static void name_step(const porta_lower *lower, const porta_node *node, porta_plan_step *step)
{
    const porta_graph *graph = lower->graph;
    const porta_fusion *pair = porta_lower_fused(lower, node);
    int index = (int)(node - graph->nodes);
    step->node = pair->kind == PORTA_FUSION_PROJECTIONS ? pair->anchor
                 : pair->kind                           ? pair->last
                                                        : index;
    step->first_node = pair->kind ? pair->first : index;
    const char *op = porta_op_get(graph->nodes[step->node].op)->name;
    if (pair->kind == PORTA_FUSION_ATTENTION) {
        chain_name(lower, pair->anchor, step->op);
    } else if (pair->kind == PORTA_FUSION_PROJECTIONS) {
        step->op[0] = '\0';
        for (int m = 0; m < pair->n_members; m++) {
            size_t used = strlen(step->op);
            snprintf(step->op + used, sizeof step->op - used, "%s%s", m ? "+" : "", op);
        }
    } else if (pair->kind) {
        snprintf(step->op, sizeof step->op, "%s+%s",
                 porta_op_get(graph->nodes[pair->first].op)->name, op);
    } else {
        snprintf(step->op, sizeof step->op, "%s", op);
    }
}

porta_status porta_lower_emit(porta_lower *lower, const porta_node *node,
                              const porta_lower_step *step)
{
    const porta_kernel_source *kernel = step->kernel;
    if (step->n_bindings != kernel->n_buffers)
        return porta_lower_fail(lower, node, PORTA_ERROR_INTERNAL,
                                "kernel %s takes %d buffers, the step binds %d", kernel->name,
                                kernel->n_buffers, step->n_bindings);
    if (step->param_bytes != (uint32_t)kernel->n_params * 4 ||
        step->param_bytes > PORTA_PLAN_MAX_PARAM_BYTES - 4)
        return porta_lower_fail(lower, node, PORTA_ERROR_INTERNAL,
                                "kernel %s takes %d parameters, the step gives %u bytes",
                                kernel->name, kernel->n_params, step->param_bytes);
    if (step->config.n_constants != kernel->n_constants)
        return porta_lower_fail(lower, node, PORTA_ERROR_INTERNAL,
                                "kernel %s takes %d constants, the step gives %d", kernel->name,
                                kernel->n_constants, step->config.n_constants);
    /* before the grid's checks: a grid too large follows from a tensor too large */
    for (int b = 0; b < step->n_bindings; b++) {
        int k = step->bindings[b].store;
        porta_status status = k >= 0 && k < lower->n_stores ? check_store_size(lower, k) : PORTA_OK;
        if (status != PORTA_OK) return status;
    }
    uint64_t invocations = (uint64_t)step->config.local_size[0] * step->config.local_size[1] *
                           step->config.local_size[2];
    if (invocations == 0 || invocations > lower->limits.max_workgroup_size)
        return porta_lower_fail(lower, node, PORTA_ERROR_UNSUPPORTED,
                                "kernel %s needs work-groups of %llu invocations; the device "
                                "allows %u", kernel->name, (unsigned long long)invocations,
                                lower->limits.max_workgroup_size);
    for (int d = 0; d < 3; d++)
        if (step->groups[d] == 0 || step->groups[d] > 65535)
            return porta_lower_fail(lower, node, PORTA_ERROR_UNSUPPORTED,
                                    "kernel %s needs %u work-groups in dimension %d; at most "
                                    "65535 are portable", kernel->name, step->groups[d], d);
    /* the loop budget (lower.h): a looping kernel's rule states its count, which must fit */
    uint64_t loops = kernel->loops ? step->loop_iterations : 0;
    if (loops == PORTA_LOWER_LOOPS_UNSTATED)
        return porta_lower_fail(lower, node, PORTA_ERROR_INTERNAL,
                                "kernel %s loops, and the step states no bound on its "
                                "iterations", kernel->name);
    if (loops > PORTA_LOWER_LOOP_BUDGET)
        return porta_lower_fail(lower, node, PORTA_ERROR_UNSUPPORTED,
                                "kernel %s would loop %llu times in one invocation; at most %u "
                                "are allowed (llvmpipe stops an invocation's loops after 65535, "
                                "silently)", kernel->name, (unsigned long long)loops,
                                PORTA_LOWER_LOOP_BUDGET);
    for (int b = 0; b < step->n_bindings; b++) {
        porta_lower_ref ref = step->bindings[b];
        if (ref.store < 0 || ref.store >= lower->n_stores || ref.bytes == 0 ||
            ref.offset + ref.bytes > lower->stores[ref.store].bytes)
            return porta_lower_fail(lower, node, PORTA_ERROR_INTERNAL,
                                    "kernel %s: binding %d is outside its storage", kernel->name,
                                    b);
        if (ref.offset % lower->limits.buffer_alignment)
            return porta_lower_fail(lower, node, PORTA_ERROR_INTERNAL,
                                    "kernel %s: binding %d offset %llu is not aligned to %u",
                                    kernel->name, b, (unsigned long long)ref.offset,
                                    lower->limits.buffer_alignment);
    }
    if (lower->n_steps == lower->cap_steps) {
        int cap = lower->cap_steps ? 2 * lower->cap_steps : 64;
        pending_step *grown = realloc(lower->steps, (size_t)cap * sizeof *grown);
        if (!grown) return porta_error(lower->graph->context, PORTA_ERROR_OUT_OF_MEMORY,
                                       "out of memory");
        lower->steps = grown;
        lower->cap_steps = cap;
    }
    /* each data buffer's storage kind follows what its store holds; any other buffer reads
     * 32-bit words, so a 16-bit store bound to one is a rule's mistake */
    uint32_t kinds = 0;
    for (int b = 0; b < step->n_bindings; b++) {
        int t = lower->stores[step->bindings[b].store].tensor;
        porta_storage_kind kind = t >= 0 ? porta_plan_storage_kind(lower->graph, t)
                                         : PORTA_STORAGE_WORD;
        if (!(kernel->data_buffers >> b & 1u)) {
            /* a weight in panels is read as words by the panel kernels, which know its layout */
            if (kind != PORTA_STORAGE_WORD && !lower->plan->tensor_packing[t].panel_cols)
                return porta_lower_fail(lower, node, PORTA_ERROR_INTERNAL,
                                        "kernel %s: binding %d holds 16-bit elements, and the "
                                        "kernel reads it as 32-bit words", kernel->name, b);
            continue;
        }
        kinds |= (uint32_t)kind << (2 * b);
    }
    pending_step *p = &lower->steps[lower->n_steps];
    memset(p, 0, sizeof *p);
    name_step(lower, node, &p->step);
    p->step.choice = lower->current_choice;
    p->step.kernel = kernel;
    p->step.config = step->config;
    p->step.config.kinds = kinds;
    p->step.n_bindings = step->n_bindings;
    for (int b = 0; b < step->n_bindings; b++) {
        porta_lower_ref ref = step->bindings[b];
        p->step.bindings[b] = (porta_plan_ref){ref.store, ref.offset, ref.bytes};
        store *s = &lower->stores[ref.store];
        if (s->first < 0) s->first = lower->n_steps;
        s->last = lower->n_steps;
    }
    p->step.param_bytes = step->param_bytes;
    if (step->param_bytes) memcpy(p->step.params, step->params, step->param_bytes);
    memcpy(p->step.groups, step->groups, sizeof p->step.groups);
    p->step.loop_iterations = loops;
    p->in_place_in = step->in_place_in;
    p->in_place_out = step->in_place_out;
    lower->n_steps++;
    return PORTA_OK;
}

static porta_status lower_nodes(porta_lower *lower)
{
    const porta_graph *graph = lower->graph;
    porta_plan *plan = lower->plan;
    for (int t = 0; t < graph->n_tensors; t++) {
        const porta_tensor *tensor = &graph->tensors[t];
        if (tensor->kind == PORTA_TENSOR_NODE) continue;
        uint64_t bytes = tensor_bytes(lower, t);
        porta_quant_layout quant = porta_quant_layout_of(graph, t);
        if (quant.block) {
            /* 8-bit: int8 values and scales, whatever variant reads it (quantize.h) */
            bytes = porta_quant_bytes(&quant);
            plan->tensor_packing[t] = (porta_plan_packing){0, quant.k_rows, quant.n_cols,
                                                           quant.k_stride, quant.n_stride,
                                                           quant.block, 4};
        }
        int buffer = add_buffer(plan, tensor->kind == PORTA_TENSOR_INPUT ? PORTA_PLAN_INPUT
                                                                         : PORTA_PLAN_WEIGHT,
                                t, bytes);
        lower->tensor_at[t] =
            (porta_lower_ref){new_store(lower, false, buffer, t, bytes), 0, bytes};
    }
    for (int k = 0; k < graph->n_nodes; k++) {
        const porta_node *node = &graph->nodes[graph->order[k]];
        const porta_fusion *pair = &lower->fused[graph->order[k]];
        /* a fused pair is lowered once, by its anchor's rule, and makes the second's result */
        if (pair->kind && pair->anchor != graph->order[k]) continue;
        /* a group of projections lowered node by node has lowered all of its members already */
        if (lower->tensor_at[node->output].store >= 0) continue;
        const porta_node *made = pair->kind ? &graph->nodes[pair->last] : node;
        porta_lower_rule rule = pair->kind == PORTA_FUSION_ATTENTION
                                    ? porta_lower_attention_chain
                                    : rules[node->op];
        lower->current_choice = -1;
        lower->current_node = graph->order[k];
        porta_status status = rule(lower, node);
        if (status != PORTA_OK) return status;
        if (lower->failed_alloc)
            return porta_error(graph->context, PORTA_ERROR_OUT_OF_MEMORY, "out of memory");
        if (lower->tensor_at[made->output].store < 0)
            return porta_lower_fail(lower, made, PORTA_ERROR_INTERNAL, "the rule placed no result");
        /* a group's results are views into the one allocation its step writes */
        bool group = pair->kind == PORTA_FUSION_PROJECTIONS;
        if (lower->is_view[made->output] && !group) plan->n_views++;
    }
    return PORTA_OK;
}

porta_status porta_plan_create(const porta_graph *graph, const porta_plan_limits *limits,
                               porta_plan **out_plan)
{
    *out_plan = NULL;
    if (!graph->validated)
        return porta_error(graph->context, PORTA_ERROR_INVALID_ARGUMENT,
                           "porta_plan_create: graph '%s' is not validated", graph->name);
    porta_plan *plan = calloc(1, sizeof *plan);
    porta_lower lower = {.graph = graph, .limits = *limits, .plan = plan, .current_node = -1};
    size_t n = (size_t)graph->n_tensors;
    if (plan) {
        plan->graph = graph;
        plan->limits = *limits;
        /* the caller's strings are read only while lowering */
        plan->limits.variants = plan->limits.tuned = NULL;
        plan->buffers = calloc(n + 1, sizeof *plan->buffers);
        plan->tensor_at = calloc(n + 1, sizeof *plan->tensor_at);
        plan->tensor_buffer_of = malloc((n + 1) * sizeof *plan->tensor_buffer_of);
        plan->tensor_packing = calloc(n + 1, sizeof *plan->tensor_packing);
    }
    lower.tensor_at = malloc((n + 1) * sizeof *lower.tensor_at);
    lower.is_view = calloc(n + 1, sizeof *lower.is_view);
    lower.fused = malloc(((size_t)graph->n_nodes + 1) * sizeof *lower.fused);
    if (!plan || !plan->buffers || !plan->tensor_at || !plan->tensor_buffer_of ||
        !plan->tensor_packing || !lower.tensor_at || !lower.is_view || !lower.fused) {
        free(lower.tensor_at);
        free(lower.is_view);
        free(lower.fused);
        porta_plan_destroy(plan);
        return porta_error(graph->context, PORTA_ERROR_OUT_OF_MEMORY, "out of memory");
    }
    if (lower.limits.buffer_alignment < 16) lower.limits.buffer_alignment = 16;
    plan->limits = lower.limits;
    plan->limits.variants = plan->limits.tuned = NULL;
    for (size_t t = 0; t < n; t++) {
        lower.tensor_at[t] = (porta_lower_ref){-1, 0, 0};
        plan->tensor_buffer_of[t] = -1;
    }
    plan->buffers[0] = (porta_plan_buffer){PORTA_PLAN_ARENA, -1, 0};
    plan->n_buffers = 1;
    porta_fusion_find(graph, limits->fusion, lower.fused);
    for (int i = 0; i < graph->n_nodes; i++) plan->n_fused += lower.fused[i].anchor == i;

    porta_status status = lower_nodes(&lower);
    if (status == PORTA_OK) {
        porta_lower_merge_in_place(&lower);
        status = check_store_sizes(&lower);
    }
    if (status == PORTA_OK) {
        status = porta_lower_place_arenas(&lower);
    }
    if (status == PORTA_OK) {
        plan->steps = calloc((size_t)lower.n_steps + 1, sizeof *plan->steps);
        if (!plan->steps)
            status = porta_error(graph->context, PORTA_ERROR_OUT_OF_MEMORY, "out of memory");
    }
    if (status == PORTA_OK) {
        plan->n_steps = lower.n_steps;
        for (int i = 0; i < lower.n_steps; i++) {
            plan->steps[i] = lower.steps[i].step;
            for (int b = 0; b < plan->steps[i].n_bindings; b++)
                plan->steps[i].bindings[b] = porta_lower_resolve(&lower, plan->steps[i].bindings[b]);
        }
        for (size_t t = 0; t < n; t++) {
            porta_lower_ref at = lower.tensor_at[t];
            plan->tensor_at[t] = at.store < 0 ? (porta_plan_ref){-1, 0, 0}
                                              : porta_lower_resolve(&lower, (porta_plan_ref){at.store,
                                                                                 at.offset,
                                                                                 at.bytes});
        }
        porta_lower_find_deps(plan);
    }
    free(lower.stores);
    free(lower.steps);
    free(lower.tensor_at);
    free(lower.is_view);
    free(lower.fused);
    if (status != PORTA_OK) {
        porta_plan_destroy(plan);
        return status;
    }
    *out_plan = plan;
    return PORTA_OK;
}

void porta_plan_destroy(porta_plan *plan)
{
    if (!plan) return;
    free(plan->steps);
    free(plan->choices);
    free(plan->buffers);
    free(plan->tensor_at);
    free(plan->tensor_buffer_of);
    free(plan->tensor_packing);
    free(plan);
}
