/* Finding the pairs that fuse (fuse.h): one walk over the nodes in order, each node looking back
 * at the producer of its operand 0. */
#include "graphs/lower/fuse.h"
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

/* The node whose result `consumer` reads as operand 0, when that result may live only inside a
 * fused step: made by a node, f32, no graph output, read by nothing else; else -1. */
static int private_producer(const porta_graph *graph, const porta_node *consumer)
{
    porta_tensor_id t = consumer->operands[0];
    if (t < 0) return -1;
    const porta_tensor *tensor = &graph->tensors[t];
    if (tensor->kind != PORTA_TENSOR_NODE || tensor->is_output || tensor->dtype != PORTA_F32 ||
        tensor->node < 0 || uses_of(graph, t) != 1)
        return -1;
    return tensor->node;
}

void porta_fusion_find(const porta_graph *graph, bool enabled, porta_fusion *by_node)
{
    for (int i = 0; i < graph->n_nodes; i++)
        by_node[i] = (porta_fusion){PORTA_FUSION_NONE, -1, -1, -1};
    if (!enabled) return;
    for (int k = 0; k < graph->n_nodes; k++) {
        int last = graph->order[k];
        const porta_node *node = &graph->nodes[last];
        int first = private_producer(graph, node);
        if (first < 0 || by_node[first].kind != PORTA_FUSION_NONE) continue;
        const porta_node *producer = &graph->nodes[first];
        porta_fusion pair = {PORTA_FUSION_NONE, first, last, -1};
        if (producer->op == PORTA_OP_LINEAR && porta_activation_of(graph, node)) {
            pair.kind = PORTA_FUSION_LINEAR_ACTIVATION;
            pair.anchor = first;
        } else if (producer->op == PORTA_OP_ADD &&
                   (node->op == PORTA_OP_LAYERNORM || node->op == PORTA_OP_RMSNORM)) {
            /* the norm reads both operands where it read the sum: neither may broadcast */
            const porta_shape *sum = &graph->tensors[producer->output].shape;
            if (!same_shape(&graph->tensors[producer->operands[0]].shape, sum) ||
                !same_shape(&graph->tensors[producer->operands[1]].shape, sum))
                continue;
            pair.kind = PORTA_FUSION_ADD_NORM;
            pair.anchor = last;
        } else {
            continue;
        }
        by_node[first] = by_node[last] = pair;
    }
}
