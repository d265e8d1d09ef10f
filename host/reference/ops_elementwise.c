/* Elementwise ops: the broadcasting binary ops, the unary activations and cast. */
#include "host/reference/internal.h"

#include <string.h>

porta_status porta_ref_binary(const porta_ref_call *call)
{
    const porta_shape *out = &call->out_tensor->shape;
    int64_t sa[PORTA_MAX_RANK], sb[PORTA_MAX_RANK];
    porta_ref_broadcast_strides(&call->in[0]->shape, out, sa);
    porta_ref_broadcast_strides(&call->in[1]->shape, out, sb);
    int op = call->node->op;
    for (int64_t i = 0; i < call->out_count; i++) {
        double a = call->x[0][porta_ref_offset(out, sa, i)];
        double b = call->x[1][porta_ref_offset(out, sb, i)];
        call->out[i] = op == PORTA_OP_ADD ? a + b : op == PORTA_OP_SUB ? a - b
                     : op == PORTA_OP_MUL ? a * b : a / b;
    }
    return PORTA_OK;
}

static double gelu(double x, bool approximate)
{
    if (!approximate) return x * 0.5 * (1.0 + erf(x / sqrt(2.0)));
    const double c = sqrt(2.0 / 3.14159265358979323846);
    return 0.5 * x * (1.0 + tanh(c * (x + 0.044715 * x * x * x)));
}

static double sigmoid(double x)
{
    return 1.0 / (1.0 + exp(-x));
}

porta_status porta_ref_unary(const porta_ref_call *call)
{
    int op = call->node->op;
    double s = op == PORTA_OP_SCALE ? porta_node_float(call->graph, call->node, "s")
               : op == PORTA_OP_POW ? (double)(float)porta_node_float(call->graph, call->node, "p")
                                    : 1.0;
    bool approximate = op == PORTA_OP_GELU &&
                       !strcmp(porta_node_string(call->graph, call->node, "approximate"), "tanh");
    const double *x = call->x[0];
    for (int64_t i = 0; i < call->out_count; i++) {
        double v = x[i], r;
        switch (op) {
        case PORTA_OP_SCALE: r = v * s; break;
        case PORTA_OP_RELU: r = v > 0.0 ? v : 0.0; break;
        case PORTA_OP_GELU: r = gelu(v, approximate); break;
        case PORTA_OP_SILU: r = v * sigmoid(v); break;
        case PORTA_OP_TANH: r = tanh(v); break;
        case PORTA_OP_SQRT: r = sqrt(v); break;
        case PORTA_OP_RSQRT: r = 1.0 / sqrt(v); break;
        case PORTA_OP_EXP: r = exp(v); break;
        case PORTA_OP_LOG: r = log(v); break;
        case PORTA_OP_ABS: r = fabs(v); break;
        case PORTA_OP_NEG: r = -v; break;
        case PORTA_OP_POW: r = pow(v, s); break;
        default: r = sigmoid(v); break; /* PORTA_OP_SIGMOID */
        }
        call->out[i] = r;
    }
    return PORTA_OK;
}

/* The conversion itself is the executor's rounding to the result's dtype (porta_reference_round):
 * f16 to nearest even, i32 toward zero. A cast to f32 rounds to float here, since the executor
 * keeps f32 results in double. */
porta_status porta_ref_cast(const porta_ref_call *call)
{
    memcpy(call->out, call->x[0], sizeof(double) * (size_t)call->out_count);
    if (call->out_tensor->dtype == PORTA_F32)
        porta_reference_round(PORTA_F32, call->out, call->out_count);
    return PORTA_OK;
}
