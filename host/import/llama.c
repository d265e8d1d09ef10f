/* Llama: RMSNorm, rotary positions in the "half" layout (HF's rotate_half) with the config's
 * base, grouped K/V heads, a gated feed-forward block (SwiGLU), tied or untied lm_head. */
#include "host/import/import_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct llama_config {
    int hidden, heads, kv_heads, head_dim, layers, inner, vocab, positions;
    double eps, theta;
    char eps_text[32], theta_text[32];
    int attention_bias, mlp_bias;
    const char *act_open, *act_close;
} llama_config;

/* The rotary base: "rope_theta", or "rope_parameters": {"rope_type": "default", "rope_theta"}.
 * Any scaling of the frequencies changes the math, which the rope op does not do. */
static int read_rope(import_job *job, llama_config *c)
{
    if (import_config_refuse(job, "rope_scaling", NULL,
                             "scaled rotary frequencies are not implemented") ||
        import_config_float_or(job, "rope_theta", 10000.0, &c->theta))
        return 1;
    const cJSON *rope = cJSON_GetObjectItemCaseSensitive(job->config, "rope_parameters");
    if (!rope || cJSON_IsNull(rope)) return 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, rope) {
        if (!strcmp(item->string, "rope_theta") && cJSON_IsNumber(item)) {
            c->theta = item->valuedouble;
        } else if (!strcmp(item->string, "rope_type") && cJSON_IsString(item) &&
                   !strcmp(item->valuestring, "default")) {
        } else if (!strcmp(item->string, "partial_rotary_factor") && cJSON_IsNumber(item) &&
                   item->valuedouble == 1.0) {
        } else {
            char *value = cJSON_PrintUnformatted(item);
            import_fail(job, "config.json: \"rope_parameters\": \"%s\": %s is not supported: only "
                        "unscaled rotary positions (rope_type \"default\") with a numeric "
                        "rope_theta are implemented", item->string, value ? value : "(a value)");
            cJSON_free(value);
            return 1;
        }
    }
    return 0;
}

static int read_config(import_job *job, llama_config *c)
{
    if (import_config_int(job, "hidden_size", &c->hidden) ||
        import_config_int(job, "num_attention_heads", &c->heads) ||
        import_config_int_or(job, "num_key_value_heads", c->heads, &c->kv_heads) ||
        import_config_int(job, "num_hidden_layers", &c->layers) ||
        import_config_int(job, "intermediate_size", &c->inner) ||
        import_config_int(job, "vocab_size", &c->vocab) ||
        import_config_int(job, "max_position_embeddings", &c->positions) ||
        import_config_float_or(job, "rms_norm_eps", 1e-6, &c->eps) || read_rope(job, c))
        return 1;
    if (!c->heads || !c->kv_heads || c->heads % c->kv_heads)
        return import_fail(job, "config.json: \"num_attention_heads\" %d is not a multiple of "
                           "\"num_key_value_heads\" %d", c->heads, c->kv_heads);
    if (import_config_int_or(job, "head_dim", c->hidden / c->heads, &c->head_dim)) return 1;
    if (!c->head_dim || c->head_dim % 2)
        return import_fail(job, "config.json: \"head_dim\" %d is not even", c->head_dim);
    const cJSON *ab = cJSON_GetObjectItemCaseSensitive(job->config, "attention_bias");
    const cJSON *mb = cJSON_GetObjectItemCaseSensitive(job->config, "mlp_bias");
    c->attention_bias = cJSON_IsTrue(ab);
    c->mlp_bias = cJSON_IsTrue(mb);
    const char *act = import_config_string(job, "hidden_act");
    if (job->failed ||
        import_activation(job, "hidden_act", act ? act : "silu", &c->act_open, &c->act_close))
        return 1;
    pg_float(c->eps, c->eps_text);
    pg_float(c->theta, c->theta_text);
    import_result *r = job->result;
    r->decoder = true;
    r->layers = c->layers;
    r->vocab = c->vocab;
    r->kv_heads = c->kv_heads;
    r->head_dim = c->head_dim;
    return import_max_seq(job, "max_position_embeddings", c->positions);
}

/* A linear layer's call: `linear(x, w)` or with its bias when the config says it has one. */
static int linear(import_job *job, pg_text *t, int l, const char *part, int out, int in,
                  bool bias, char *call, size_t size)
{
    char w[160], b[160];
    if (import_weightf(job, t, w, 2, (const int64_t[]){out, in}, "model.layers.%d.%s.weight", l,
                       part))
        return 1;
    if (bias && import_weightf(job, t, b, 1, (const int64_t[]){out}, "model.layers.%d.%s.bias",
                               l, part))
        return 1;
    if (bias) snprintf(call, size, "%s, %s", w, b);
    else snprintf(call, size, "%s", w);
    return 0;
}

static int write_layer(import_job *job, const llama_config *c, pg_text *t, int l, bool decode)
{
    int D = c->hidden, hd = c->head_dim, H = c->heads, G = c->kv_heads;
    char q[400], k[400], v[400], o[400], gate[400], up[400], down[400], n1[160], n2[160];
    bool ab = c->attention_bias, mb = c->mlp_bias;
    if (linear(job, t, l, "self_attn.q_proj", H * hd, D, ab, q, sizeof q) ||
        linear(job, t, l, "self_attn.k_proj", G * hd, D, ab, k, sizeof k) ||
        linear(job, t, l, "self_attn.v_proj", G * hd, D, ab, v, sizeof v) ||
        linear(job, t, l, "self_attn.o_proj", D, H * hd, ab, o, sizeof o) ||
        linear(job, t, l, "mlp.gate_proj", c->inner, D, mb, gate, sizeof gate) ||
        linear(job, t, l, "mlp.up_proj", c->inner, D, mb, up, sizeof up) ||
        linear(job, t, l, "mlp.down_proj", D, c->inner, mb, down, sizeof down) ||
        import_weightf(job, t, n1, 1, (const int64_t[]){D}, "model.layers.%d.input_layernorm.weight",
                       l) ||
        import_weightf(job, t, n2, 1, (const int64_t[]){D},
                       "model.layers.%d.post_attention_layernorm.weight", l))
        return 1;
    char position[32] = "";
    if (decode) snprintf(position, sizeof position, "position=pos, ");
    pg_printf(t, "n.%d = rmsnorm(x.%d, %s, eps=%s)\n", l, l, n1, c->eps_text);
    pg_printf(t, "q.%d = rope(split_heads(linear(n.%d, %s), heads=%d), %sbase=%s, mode=\"half\")\n",
              l, l, q, H, position, c->theta_text);
    char k_new[600], v_new[600];
    snprintf(k_new, sizeof k_new, "rope(split_heads(linear(n.%d, %s), heads=%d), %sbase=%s, "
             "mode=\"half\")", l, k, G, position, c->theta_text);
    snprintf(v_new, sizeof v_new, "split_heads(linear(n.%d, %s), heads=%d)", l, v, G);
    import_decoder_attention(job, t, l, decode, k_new, v_new);
    pg_printf(t, "h.%d = add(x.%d, linear(a.%d, %s))\n", l, l, l, o);
    pg_printf(t, "m.%d = rmsnorm(h.%d, %s, eps=%s)\n", l, l, n2, c->eps_text);
    pg_printf(t, "x.%d = add(h.%d, linear(mul(%slinear(m.%d, %s)%s, linear(m.%d, %s)), %s))\n",
              l + 1, l, c->act_open, l, gate, c->act_close, l, up, down);
    return 0;
}

static int write_graph(import_job *job, const llama_config *c, bool decode)
{
    pg_text *t = &job->text;
    char embed[160], norm[160], head[160];
    int D = c->hidden;
    pg_printf(t, "# llama %s graph imported from %s\ngraph llama_%s\n",
              decode ? "decode" : "prefill", job->dir, decode ? "decode" : "prefill");
    import_decoder_inputs(job, t, decode);
    int failed = import_weightf(job, t, embed, 2, (const int64_t[]){c->vocab, D},
                                "model.embed_tokens.weight") ||
                 import_weightf(job, t, norm, 1, (const int64_t[]){D}, "model.norm.weight");
    /* Tied checkpoints usually leave lm_head.weight out; one that has it is used as given. */
    snprintf(head, sizeof head, "%s", embed);
    const cJSON *tie = cJSON_GetObjectItemCaseSensitive(job->config, "tie_word_embeddings");
    if (!failed && (!cJSON_IsTrue(tie) || import_has(job, "lm_head.weight")))
        failed = import_weightf(job, t, head, 2, (const int64_t[]){c->vocab, D}, "lm_head.weight");
    if (!failed) pg_printf(t, "x.0 = embedding(ids, %s)\n", embed);
    for (int l = 0; l < c->layers && !failed; l++) failed = write_layer(job, c, t, l, decode);
    if (failed) return 1;
    pg_printf(t, "logits = linear(rmsnorm(x.%d, %s, eps=%s), %s)\n", c->layers, norm, c->eps_text,
              head);
    import_decoder_outputs(job, t, decode);
    return import_add_graph(job, decode ? "decode" : "prefill", t);
}

int import_llama(import_job *job)
{
    llama_config c;
    return read_config(job, &c) || write_graph(job, &c, false) || write_graph(job, &c, true);
}
