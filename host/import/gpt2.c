/* GPT-2: learned positions, pre-layernorm blocks whose Conv1D weights are [in, out] (so
 * matmul(x, w) then the bias), a tanh-approximated GELU, and the lm_head tied to the token
 * embeddings. */
#include "host/import/import_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct gpt2_config {
    int hidden, heads, layers, inner, vocab, positions;
    double eps;
    char eps_text[32];
    const char *act_open, *act_close;
    const char *prefix; /* "transformer." when saved with the lm_head */
} gpt2_config;

static int read_config(import_job *job, gpt2_config *c)
{
    if (import_config_int(job, "n_embd", &c->hidden) ||
        import_config_int(job, "n_head", &c->heads) ||
        import_config_int(job, "n_layer", &c->layers) ||
        import_config_int(job, "vocab_size", &c->vocab) ||
        import_config_int(job, "n_positions", &c->positions) ||
        import_config_int_or(job, "n_inner", 4 * c->hidden, &c->inner) ||
        import_config_float_or(job, "layer_norm_epsilon", 1e-5, &c->eps) ||
        import_config_refuse(job, "scale_attn_by_inverse_layer_idx", NULL,
                             "scaling attention by the layer index is not implemented") ||
        import_config_refuse(job, "add_cross_attention", NULL,
                             "cross-attention is not implemented"))
        return 1;
    const cJSON *scale = cJSON_GetObjectItemCaseSensitive(job->config, "scale_attn_weights");
    if (cJSON_IsFalse(scale))
        return import_fail(job, "config.json: \"scale_attn_weights\": false is not supported: "
                           "attention is scaled by 1/sqrt(head dim)");
    const char *act = import_config_string(job, "activation_function");
    if (job->failed || import_activation(job, "activation_function", act ? act : "gelu_new",
                                         &c->act_open, &c->act_close))
        return 1;
    if (!c->heads || c->hidden % c->heads)
        return import_fail(job, "config.json: \"n_embd\" %d is not a multiple of \"n_head\" %d",
                           c->hidden, c->heads);
    c->prefix = import_has(job, "transformer.wte.weight") ? "transformer." : "";
    pg_float(c->eps, c->eps_text);
    import_result *r = job->result;
    r->decoder = true;
    r->layers = c->layers;
    r->vocab = c->vocab;
    r->kv_heads = c->heads;
    r->head_dim = c->hidden / c->heads;
    return import_max_seq(job, "n_positions", c->positions);
}

#define W(name, rank, ...) \
    import_weightf(job, t, name, rank, (const int64_t[]){__VA_ARGS__}, "%sh.%d.%s", c->prefix, \
                   l, key)

static int write_layer(import_job *job, const gpt2_config *c, pg_text *t, int l, bool decode)
{
    int D = c->hidden, H = c->heads;
    char g1[160], b1[160], g2[160], b2[160], wqkv[160], bqkv[160], wo[160], bo[160], w1[160],
        c1[160], w2[160], c2[160];
    const char *key;
    if ((key = "ln_1.weight", W(g1, 1, D)) || (key = "ln_1.bias", W(b1, 1, D)) ||
        (key = "ln_2.weight", W(g2, 1, D)) || (key = "ln_2.bias", W(b2, 1, D)) ||
        (key = "attn.c_attn.weight", W(wqkv, 2, D, 3 * D)) ||
        (key = "attn.c_attn.bias", W(bqkv, 1, 3 * D)) ||
        (key = "attn.c_proj.weight", W(wo, 2, D, D)) || (key = "attn.c_proj.bias", W(bo, 1, D)) ||
        (key = "mlp.c_fc.weight", W(w1, 2, D, c->inner)) ||
        (key = "mlp.c_fc.bias", W(c1, 1, c->inner)) ||
        (key = "mlp.c_proj.weight", W(w2, 2, c->inner, D)) ||
        (key = "mlp.c_proj.bias", W(c2, 1, D)))
        return 1;
    pg_printf(t, "qkv.%d = add(matmul(layernorm(x.%d, %s, %s, eps=%s), %s), %s)\n", l, l, g1,
              b1, c->eps_text, wqkv, bqkv);
    pg_printf(t, "q.%d = split_heads(slice(qkv.%d, axis=-1, start=0, end=%d), heads=%d)\n", l, l,
              D, H);
    char k_new[128], v_new[128];
    snprintf(k_new, sizeof k_new, "split_heads(slice(qkv.%d, axis=-1, start=%d, end=%d), heads=%d)",
             l, D, 2 * D, H);
    snprintf(v_new, sizeof v_new, "split_heads(slice(qkv.%d, axis=-1, start=%d, end=%d), heads=%d)",
             l, 2 * D, 3 * D, H);
    import_decoder_attention(job, t, l, decode, k_new, v_new);
    pg_printf(t, "h.%d = add(x.%d, add(matmul(a.%d, %s), %s))\n", l, l, l, wo, bo);
    pg_printf(t, "x.%d = add(h.%d, add(matmul(%sadd(matmul(layernorm(h.%d, %s, %s, eps=%s), "
              "%s), %s)%s, %s), %s))\n", l + 1, l, c->act_open, l, g2, b2, c->eps_text, w1, c1,
              c->act_close, w2, c2);
    return 0;
}

#undef W

static int write_graph(import_job *job, const gpt2_config *c, bool decode)
{
    pg_text *t = &job->text;
    int D = c->hidden;
    char wte[160], wpe[160], gf[160], bf[160], head[160];
    pg_printf(t, "# gpt2 %s graph imported from %s\ngraph gpt2_%s\n", decode ? "decode" : "prefill",
              job->dir, decode ? "decode" : "prefill");
    import_decoder_inputs(job, t, decode);
    if (import_weightf(job, t, wte, 2, (const int64_t[]){c->vocab, D}, "%swte.weight", c->prefix) ||
        import_weightf(job, t, wpe, 2, (const int64_t[]){c->positions, D}, "%swpe.weight",
                       c->prefix) ||
        import_weightf(job, t, gf, 1, (const int64_t[]){D}, "%sln_f.weight", c->prefix) ||
        import_weightf(job, t, bf, 1, (const int64_t[]){D}, "%sln_f.bias", c->prefix))
        return 1;
    snprintf(head, sizeof head, "%s", wte);
    const cJSON *tie = cJSON_GetObjectItemCaseSensitive(job->config, "tie_word_embeddings");
    if (cJSON_IsFalse(tie) &&
        import_weightf(job, t, head, 2, (const int64_t[]){c->vocab, D}, "lm_head.weight"))
        return 1;
    if (decode) pg_printf(t, "x.0 = add(embedding(ids, %s), embedding(pos, %s))\n", wte, wpe);
    else pg_printf(t, "x.0 = add(embedding(ids, %s), slice(%s, axis=0, start=0, end=P))\n", wte,
                   wpe);
    for (int l = 0; l < c->layers; l++)
        if (write_layer(job, c, t, l, decode)) return 1;
    pg_printf(t, "logits = linear(layernorm(x.%d, %s, %s, eps=%s), %s)\n", c->layers, gf, bf,
              c->eps_text, head);
    import_decoder_outputs(job, t, decode);
    return import_add_graph(job, decode ? "decode" : "prefill", t);
}

int import_gpt2(import_job *job)
{
    gpt2_config c;
    return read_config(job, &c) || write_graph(job, &c, false) || write_graph(job, &c, true);
}
