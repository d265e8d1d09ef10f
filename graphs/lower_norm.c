/* Placeholder until the norm family's kernels land: every rule refuses its node. */
#include "graphs/lower.h"

porta_status porta_lower_softmax(porta_lower *lower, const porta_node *node)
{
    return porta_lower_fail(lower, node, PORTA_ERROR_UNSUPPORTED, "no device kernel yet");
}

porta_status porta_lower_norm(porta_lower *lower, const porta_node *node)
{
    return porta_lower_fail(lower, node, PORTA_ERROR_UNSUPPORTED, "no device kernel yet");
}
