/* Placeholder until the shape family's kernels land: every rule refuses its node. */
#include "graphs/lower.h"

porta_status porta_lower_reshape(porta_lower *lower, const porta_node *node)
{
    return porta_lower_fail(lower, node, PORTA_ERROR_UNSUPPORTED, "no device kernel yet");
}

porta_status porta_lower_permute(porta_lower *lower, const porta_node *node)
{
    return porta_lower_fail(lower, node, PORTA_ERROR_UNSUPPORTED, "no device kernel yet");
}

porta_status porta_lower_concat(porta_lower *lower, const porta_node *node)
{
    return porta_lower_fail(lower, node, PORTA_ERROR_UNSUPPORTED, "no device kernel yet");
}

porta_status porta_lower_slice(porta_lower *lower, const porta_node *node)
{
    return porta_lower_fail(lower, node, PORTA_ERROR_UNSUPPORTED, "no device kernel yet");
}

porta_status porta_lower_embedding(porta_lower *lower, const porta_node *node)
{
    return porta_lower_fail(lower, node, PORTA_ERROR_UNSUPPORTED, "no device kernel yet");
}

porta_status porta_lower_positions(porta_lower *lower, const porta_node *node)
{
    return porta_lower_fail(lower, node, PORTA_ERROR_UNSUPPORTED, "no device kernel yet");
}

porta_status porta_lower_kv_append(porta_lower *lower, const porta_node *node)
{
    return porta_lower_fail(lower, node, PORTA_ERROR_UNSUPPORTED, "no device kernel yet");
}
