/* Finding the pairs that fuse (fuse.h): one walk over the nodes in order, each node looking back
 * at the producers of its first two operands; then the groups of projections among the linears
 * left. */
#include "graphs/lower/fuse.h"
#include "graphs/lower/plan.h"
#include "graphs/ops.h"

#include <string.h>

porta_activation porta_activation_of(const porta_graph *graph, const porta_node *node)
{
    switch (node->op) {
    case PORTA_OP_RELU: return PORTA_ACTIVATION_RELU;
    case PORTA_OP_GELU:
        return !strcmp(porta_node_string(graph, node, "approximate"), "tanh")
                   ? PORTA_ACTIVATION_GELU_TANH
                   : PORTA_ACTIVATION_GELU;
    case PORTA_OP_SILU: return PORTA_ACTIVATION_SILU;
    case PORTA_OP_TANH: return PORTA_ACTIVATION_TANH;
    case PORTA_OP_SIGMOID: return PORTA_ACTIVATION_SIGMOID;
    default: return PORTA_ACTIVATION_NONE;
    }
}

static int uses_of(const porta_graph *graph, porta_tensor_id tensor)
{
    int uses = 0;
    for (int i = 0; i < graph->n_nodes; i++)
        for (int o = 0; o < graph->nodes[i].n_operands; o++)
            uses += graph->nodes[i].operands[o] == tensor;
    return uses;
}

static bool same_shape(const porta_shape *a, const porta_shape *b)
{
    if (a->rank != b->rank) return false;
    for (int d = 0; d < a->rank; d++)
        if (a->dims[d] != b->dims[d]) return false;
    return true;
}

/* The node whose result `consumer` reads as operand `slot`, when that result may live only
 * inside a fused step: made by a node, f32, no graph output, read by nothing else; else -1. */
static int private_producer(const porta_graph *graph, const porta_node *consumer, int slot)
{
    porta_tensor_id t = consumer->operands[slot];
    if (t < 0) return -1;
    const porta_tensor *tensor = &graph->tensors[t];
    if (tensor->kind != PORTA_TENSOR_NODE || tensor->is_output || tensor->dtype != PORTA_F32 ||
        tensor->node < 0 || uses_of(graph, t) != 1)
        return -1;
    return tensor->node;
}

/* Whether norm node `norm` takes add node `add` as add + norm: neither operand broadcasts. */
static bool add_norm(const porta_graph *graph, const porta_node *add, const porta_node *norm)
{
    bool is_norm = norm->op == PORTA_OP_LAYERNORM || norm->op == PORTA_OP_RMSNORM;
    if (add->op != PORTA_OP_ADD || !is_norm) return false;
    const porta_shape *sum = &graph->tensors[add->output].shape;
    return same_shape(&graph->tensors[add->operands[0]].shape, sum) &&
           same_shape(&graph->tensors[add->operands[1]].shape, sum);
}

/* A node that reads tensor t as its operand 0 (the first), or -1. */
static int reader_of(const porta_graph *graph, porta_tensor_id t)
{
    for (int i = 0; i < graph->n_nodes; i++)
        if (graph->nodes[i].operands[0] == t) return i;
    return -1;
}

static int position_of(const porta_graph *graph, int node)
{
    for (int k = 0; k < graph->n_nodes; k++)
        if (graph->order[k] == node) return k;
    return -1;
}

/* linear + add: add node `last` whose operand `slot` is linear `first`'s private result. The
 * other operand must not broadcast and must exist when the linear's step runs. */
static bool linear_add(const porta_graph *graph, int first, int last, int slot)
{
    const porta_node *add = &graph->nodes[last], *linear = &graph->nodes[first];
    if (add->op != PORTA_OP_ADD || linear->op != PORTA_OP_LINEAR) return false;
    /* an add that a norm takes stays with the norm */
    int reader = reader_of(graph, add->output);
    if (reader >= 0 && private_producer(graph, &graph->nodes[reader], 0) == last &&
        add_norm(graph, add, &graph->nodes[reader]))
        return false;
    porta_tensor_id other = add->operands[1 - slot];
    const porta_tensor *o = &graph->tensors[other];
    const porta_shape *sum = &graph->tensors[add->output].shape;
    if (o->dtype != PORTA_F32 || !same_shape(&o->shape, sum) ||
        !same_shape(&graph->tensors[linear->output].shape, sum))
        return false;
    return o->kind != PORTA_TENSOR_NODE || position_of(graph, o->node) < position_of(graph, first);
}

/* ---- attention written out op by op (fuse.h) ------------------------------------------------ */

#define CHAIN_MAX 8

/* q, k and v as the attention kernels take them: the same rank, k and v batched alike, k's
 * batch dims those of q or, for the heads (the dim before the rows), 1. */
static bool attention_operands(const porta_graph *graph, porta_tensor_id q, porta_tensor_id k,
                               porta_tensor_id v)
{
    const porta_shape *qs = &graph->tensors[q].shape, *ks = &graph->tensors[k].shape,
                      *vs = &graph->tensors[v].shape;
    int r = qs->rank;
    if (ks->rank != r || vs->rank != r || r < 2) return false;
    for (int d = 0; d < r - 2; d++) {
        if (ks->dims[d] != vs->dims[d]) return false;
        if (ks->dims[d] != qs->dims[d] && !(d == r - 3 && ks->dims[d] == 1)) return false;
    }
    return true;
}

/* The chain that ends in matmul node `last` (fuse.h), its parts, and its nodes (first first). */
static bool attention_chain(const porta_graph *graph, int last, porta_fused_attention *parts,
                            int members[CHAIN_MAX], int *n_members)
{
    const porta_node *out = &graph->nodes[last];
    if (out->op != PORTA_OP_MATMUL || porta_node_bool(graph, out, "transpose_b")) return false;
    int chain[CHAIN_MAX], n = 0;
    chain[n++] = last;
    int softmax = private_producer(graph, out, 0);
    if (softmax < 0 || graph->nodes[softmax].op != PORTA_OP_SOFTMAX) return false;
    const porta_node *sm = &graph->nodes[softmax];
    chain[n++] = softmax;
    porta_fused_attention p = {
        .v = out->operands[1], .mask = sm->operands[1],
        .scale = porta_node_float(graph, sm, "scale"),
        .causal = porta_node_bool(graph, sm, "causal"),
    };
    int at = private_producer(graph, sm, 0);
    if (at >= 0 && graph->nodes[at].op == PORTA_OP_ADD) {
        /* the added mask is the one mask, and a softmax scale would scale it as well */
        if (p.mask >= 0 || p.scale != 1.0) return false;
        const porta_node *add = &graph->nodes[at];
        const porta_shape *sum = &graph->tensors[add->output].shape;
        int slot = 0, from = -1;
        for (; slot < 2 && from < 0; slot++) {
            from = private_producer(graph, add, slot);
            if (from >= 0 && graph->nodes[from].op != PORTA_OP_SCALE &&
                graph->nodes[from].op != PORTA_OP_MATMUL)
                from = -1;
        }
        if (from < 0) return false;
        porta_tensor_id scores = add->operands[slot - 1];
        if (!same_shape(&graph->tensors[scores].shape, sum)) return false;  /* mask bigger */
        p.mask = add->operands[2 - slot];
        chain[n++] = at;
        at = from;
    }
    while (at >= 0 && graph->nodes[at].op == PORTA_OP_SCALE && n < CHAIN_MAX - 1) {
        p.scale *= porta_node_float(graph, &graph->nodes[at], "s");
        chain[n++] = at;
        at = private_producer(graph, &graph->nodes[at], 0);
    }
    if (at < 0 || graph->nodes[at].op != PORTA_OP_MATMUL ||
        !porta_node_bool(graph, &graph->nodes[at], "transpose_b"))
        return false;
    chain[n++] = at;
    p.q = graph->nodes[at].operands[0];
    p.k = graph->nodes[at].operands[1];
    if (!attention_operands(graph, p.q, p.k, p.v)) return false;
    /* the attention kernels read k and v as floats, never 8-bit */
    if (graph->tensors[p.k].format || graph->tensors[p.v].format) return false;
    *parts = p;
    *n_members = n;
    for (int i = 0; i < n; i++) members[i] = chain[n - 1 - i];
    return true;
}

bool porta_fusion_attention(const porta_graph *graph, int last, porta_fused_attention *out)
{
    int members[CHAIN_MAX], n;
    return attention_chain(graph, last, out, members, &n);
}

/* An f32 weight held as floats that only one operand slot of the graph reads. */
static bool private_weight(const porta_graph *graph, porta_tensor_id t)
{
    return t >= 0 && graph->tensors[t].kind == PORTA_TENSOR_WEIGHT &&
           graph->tensors[t].dtype == PORTA_F32 && !graph->tensors[t].format &&
           uses_of(graph, t) == 1;
}

/* Whether node i is a linear that may join a group of projections (fuse.h). */
static bool projection_candidate(const porta_graph *graph, int i, const porta_fusion *by_node)
{
    const porta_node *node = &graph->nodes[i];
    if (node->op != PORTA_OP_LINEAR || by_node[i].kind != PORTA_FUSION_NONE) return false;
    const porta_tensor *out = &graph->tensors[node->output];
    const porta_tensor *w = &graph->tensors[node->operands[1]];
    if (out->is_output || out->dtype != PORTA_F32 ||
        graph->tensors[node->operands[0]].dtype != PORTA_F32)
        return false;
    if (!private_weight(graph, node->operands[1]) ||
        (node->operands[2] >= 0 && !private_weight(graph, node->operands[2])))
        return false;
    return w->shape.rank == 2 && w->shape.dims[0] % PORTA_PLAN_PANEL_COLS == 0;
}

/* Groups of 2 or 3 candidate linears with the same input, all with a bias or all without, in
 * the order they run. */
static void find_projections(const porta_graph *graph, porta_fusion *by_node)
{
    for (int k = 0; k < graph->n_nodes; k++) {
        int first = graph->order[k];
        if (!projection_candidate(graph, first, by_node)) continue;
        const porta_node *head = &graph->nodes[first];
        porta_fusion group = {PORTA_FUSION_PROJECTIONS, first, first, first, 1, {first}};
        for (int j = k + 1; j < graph->n_nodes && group.n_members < PORTA_FUSION_MAX_PROJECTIONS;
             j++) {
            int other = graph->order[j];
            const porta_node *node = &graph->nodes[other];
            if (!projection_candidate(graph, other, by_node) ||
                node->operands[0] != head->operands[0] ||
                (node->operands[2] >= 0) != (head->operands[2] >= 0))
                continue;
            group.members[group.n_members++] = other;
            group.last = other;
        }
        if (group.n_members < 2) continue;
        for (int m = 0; m < group.n_members; m++) by_node[group.members[m]] = group;
    }
}

void porta_fusion_find(const porta_graph *graph, bool enabled, porta_fusion *by_node)
{
    for (int i = 0; i < graph->n_nodes; i++)
        by_node[i] = (porta_fusion){PORTA_FUSION_NONE, -1, -1, -1, 0, {0}};
    if (!enabled) return;
    /* chains first: their nodes take part in no pair */
    for (int last = 0; last < graph->n_nodes; last++) {
        porta_fused_attention parts;
        int members[CHAIN_MAX], n;
        if (!attention_chain(graph, last, &parts, members, &n)) continue;
        for (int i = 0; i < n; i++)
            by_node[members[i]] = (porta_fusion){PORTA_FUSION_ATTENTION, members[0], last, last, 0, {0}};
    }
    for (int k = 0; k < graph->n_nodes; k++) {
        int last = graph->order[k];
        const porta_node *node = &graph->nodes[last];
        if (by_node[last].kind != PORTA_FUSION_NONE) continue;
        for (int slot = 0; slot < 2; slot++) {
            int first = private_producer(graph, node, slot);
            if (first < 0 || by_node[first].kind != PORTA_FUSION_NONE) continue;
            const porta_node *producer = &graph->nodes[first];
            porta_fusion pair = {PORTA_FUSION_NONE, first, last, -1, 0, {0}};
            if (slot == 0 && producer->op == PORTA_OP_LINEAR && porta_activation_of(graph, node)) {
                pair.kind = PORTA_FUSION_LINEAR_ACTIVATION;
                pair.anchor = first;
            } else if (slot == 0 && add_norm(graph, producer, node)) {
                pair.kind = PORTA_FUSION_ADD_NORM;
                pair.anchor = last;
            } else if (linear_add(graph, first, last, slot)) {
                pair.kind = PORTA_FUSION_LINEAR_ADD;
                pair.anchor = first;
            } else {
                continue;
            }
            by_node[first] = by_node[last] = pair;
            break;
        }
    }
    find_projections(graph, by_node);
}
