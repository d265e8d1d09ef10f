/* Placeholder until the matmul family's kernels land: every rule refuses its node. */
#include "graphs/lower.h"

porta_status porta_lower_matmul(porta_lower *lower, const porta_node *node)
{
    return porta_lower_fail(lower, node, PORTA_ERROR_UNSUPPORTED, "no device kernel yet");
}

porta_status porta_lower_conv1d(porta_lower *lower, const porta_node *node)
{
    return porta_lower_fail(lower, node, PORTA_ERROR_UNSUPPORTED, "no device kernel yet");
}

porta_status porta_lower_emit_gemm(porta_lower *lower, const porta_node *node,
                                   const porta_lower_gemm *gemm)
{
    (void)gemm;
    return porta_lower_fail(lower, node, PORTA_ERROR_UNSUPPORTED, "no device kernel yet");
}
