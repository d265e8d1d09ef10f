/* The one attention core: scores, masks (float added, i32 zeros masked, causal aligned to the
 * bottom right), a softmax per row and the weighted sum of values, over strided views so every
 * attention op's layout goes through the same code. */
#include "host/reference/internal.h"

#include <stdlib.h>

void porta_ref_softmax_row(double *z, int64_t n)
{
    double max = -INFINITY;
    for (int64_t j = 0; j < n; j++)
        if (z[j] > max) max = z[j];
    if (max == -INFINITY) { /* every position masked out: zeros, never NaN */
        for (int64_t j = 0; j < n; j++) z[j] = 0.0;
        return;
    }
    if (max == INFINITY) {
        int64_t count = 0;
        for (int64_t j = 0; j < n; j++) count += z[j] == INFINITY;
        for (int64_t j = 0; j < n; j++) z[j] = z[j] == INFINITY ? 1.0 / (double)count : 0.0;
        return;
    }
    double sum = 0.0;
    for (int64_t j = 0; j < n; j++) {
        z[j] = exp(z[j] - max);
        sum += z[j];
    }
    for (int64_t j = 0; j < n; j++) z[j] /= sum;
}

static double dot_score(const porta_ref_attention *a, int64_t b, int64_t h, int64_t i, int64_t j)
{
    int64_t g = h / (a->dims.heads / a->dims.kv_heads);
    const double *q = a->q.data + b * a->q.sb + h * a->q.sh + i * a->q.ss;
    const double *k = a->k.data + b * a->k.sb + g * a->k.sh + j * a->k.ss;
    double sum = 0.0;
    for (int64_t d = 0; d < a->dims.head_dim; d++) sum += q[d] * k[d];
    return sum;
}

porta_status porta_ref_attention_run(const porta_ref_call *call, const porta_ref_attention *a)
{
    const porta_attention_dims *d = &a->dims;
    porta_status status;
    double *p = porta_ref_scratch(call, d->kv_len, &status);
    if (!p) return status;
    porta_ref_score_fn score = a->score ? a->score : dot_score;
    int64_t group = d->heads / d->kv_heads;
    for (int64_t b = 0; b < d->batch; b++)
        for (int64_t h = 0; h < d->heads; h++)
            for (int64_t i = 0; i < d->q_len; i++) {
                for (int64_t j = 0; j < d->kv_len; j++) {
                    double z = a->scale * score(a, b, h, i, j);
                    if (a->mask) {
                        const int64_t *s = a->mask_strides;
                        double m = a->mask[b * s[0] + h * s[1] + i * s[2] + j * s[3]];
                        z = porta_ref_apply_mask(z, m, a->mask_is_i32);
                    }
                    if (a->causal && porta_ref_causal_masked(i, j, d->q_len, d->kv_len))
                        z = -INFINITY;
                    p[j] = z;
                }
                porta_ref_softmax_row(p, d->kv_len);
                double *out = a->out + b * a->out_sb + h * a->out_sh + i * a->out_ss;
                for (int64_t e = 0; e < d->v_dim; e++) out[e] = 0.0;
                int64_t g = h / group;
                for (int64_t j = 0; j < d->kv_len; j++) {
                    if (p[j] == 0.0) continue; /* a masked position contributes exactly 0 */
                    const double *v = a->v.data + b * a->v.sb + g * a->v.sh + j * a->v.ss;
                    for (int64_t e = 0; e < d->v_dim; e++) out[e] += p[j] * v[e];
                }
            }
    free(p);
    return PORTA_OK;
}
