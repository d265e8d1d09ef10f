/* Embeddings and positions (embedding, sinusoidal, rope), the causal dilated convolution and the
 * KV-cache append. */
#include "host/reference/internal.h"

#include <string.h>

porta_status porta_ref_embedding(const porta_ref_call *call)
{
    const porta_shape *table = &call->in[1]->shape;
    int64_t V = table->dims[0], D = table->dims[1];
    for (int64_t r = 0; r < call->out_count / D; r++) {
        double id = call->x[0][r];
        double *out = call->out + r * D;
        if (id >= 0.0 && id < (double)V)
            memcpy(out, call->x[1] + (int64_t)id * D, sizeof(double) * (size_t)D);
        else
            memset(out, 0, sizeof(double) * (size_t)D);
    }
    return PORTA_OK;
}

/* Angle of feature pair i at position p: p / base^(2i/D). */
static double angle(double p, int64_t i, int64_t D, double base)
{
    return p / pow(base, (double)(2 * i) / (double)D);
}

/* The position of row 0: the `position` operand's value when given, else the offset attribute. */
static double first_position(const porta_ref_call *call)
{
    if (call->n_in > 1 && call->in[1]) return call->x[1][0];
    return (double)porta_node_int(call->graph, call->node, "offset");
}

porta_status porta_ref_sinusoidal(const porta_ref_call *call)
{
    const porta_shape *shape = &call->out_tensor->shape;
    int64_t D = shape->dims[shape->rank - 1], S = shape->dims[shape->rank - 2];
    double offset = first_position(call);
    double base = porta_node_float(call->graph, call->node, "base");
    for (int64_t k = 0; k < call->out_count; k++) {
        int64_t d = k % D, s = (k / D) % S;
        double theta = angle(offset + (double)s, d / 2, D, base);
        call->out[k] = call->x[0][k] + (d % 2 ? cos(theta) : sin(theta));
    }
    return PORTA_OK;
}

porta_status porta_ref_rope(const porta_ref_call *call)
{
    const porta_shape *shape = &call->out_tensor->shape;
    int64_t D = shape->dims[shape->rank - 1], S = shape->dims[shape->rank - 2];
    double offset = first_position(call);
    double base = porta_node_float(call->graph, call->node, "base");
    bool interleaved = !strcmp(porta_node_string(call->graph, call->node, "mode"), "interleaved");
    for (int64_t r = 0; r < call->out_count / D; r++) {
        const double *x = call->x[0] + r * D;
        double *out = call->out + r * D;
        double p = offset + (double)(r % S);
        for (int64_t i = 0; i < D / 2; i++) {
            int64_t a = interleaved ? 2 * i : i, b = interleaved ? 2 * i + 1 : i + D / 2;
            double theta = angle(p, i, D, base), c = cos(theta), s = sin(theta);
            out[a] = x[a] * c - x[b] * s;
            out[b] = x[a] * s + x[b] * c;
        }
    }
    return PORTA_OK;
}

porta_status porta_ref_causal_conv1d(const porta_ref_call *call)
{
    const porta_shape *xs = &call->in[0]->shape, *ws = &call->in[1]->shape;
    int64_t B = xs->dims[0], T = xs->dims[1], C = xs->dims[2];
    int64_t O = ws->dims[0], K = ws->dims[2];
    int64_t dilation = porta_node_int(call->graph, call->node, "dilation");
    const double *x = call->x[0], *w = call->x[1];
    const double *bias = call->n_in > 2 && call->in[2] ? call->x[2] : NULL;
    for (int64_t b = 0; b < B; b++)
        for (int64_t t = 0; t < T; t++)
            for (int64_t o = 0; o < O; o++) {
                double sum = bias ? bias[o] : 0.0;
                for (int64_t k = 0; k < K; k++) {
                    int64_t ts = t - (K - 1 - k) * dilation;
                    if (ts < 0) continue; /* before the start: reads 0 */
                    for (int64_t c = 0; c < C; c++)
                        sum += w[(o * C + c) * K + k] * x[(b * T + ts) * C + c];
                }
                call->out[(b * T + t) * O + o] = sum;
            }
    return PORTA_OK;
}

porta_status porta_ref_kv_append(const porta_ref_call *call)
{
    const porta_shape *cache = &call->in[0]->shape, *rows = &call->in[1]->shape;
    int r = cache->rank;
    int64_t L = cache->dims[r - 2], D = cache->dims[r - 1], N = rows->dims[r - 2];
    int64_t start;
    if (call->n_in > 2 && call->in[2]) {
        double p = call->x[2][0];
        start = p <= 0.0 ? 0 : p >= (double)L ? L : (int64_t)p; /* negative counts as 0 */
    } else {
        start = porta_node_int(call->graph, call->node, "start");
    }
    memcpy(call->out, call->x[0], sizeof(double) * (size_t)call->out_count);
    int64_t outer = call->out_count / (L * D);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t n = 0; n < N && start + n < L; n++) /* rows past L are dropped */
            memcpy(call->out + (o * L + start + n) * D, call->x[1] + (o * N + n) * D,
                   sizeof(double) * (size_t)D);
    return PORTA_OK;
}
