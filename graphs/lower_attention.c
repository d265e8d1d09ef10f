/* Placeholder until the attention family's kernels land: every rule refuses its node. */
#include "graphs/lower.h"

porta_status porta_lower_attention(porta_lower *lower, const porta_node *node)
{
    return porta_lower_fail(lower, node, PORTA_ERROR_UNSUPPORTED, "no device kernel yet");
}

porta_status porta_lower_additive(porta_lower *lower, const porta_node *node)
{
    return porta_lower_fail(lower, node, PORTA_ERROR_UNSUPPORTED, "no device kernel yet");
}

porta_status porta_lower_luong(porta_lower *lower, const porta_node *node)
{
    return porta_lower_fail(lower, node, PORTA_ERROR_UNSUPPORTED, "no device kernel yet");
}
