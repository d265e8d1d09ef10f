/* BERT-family encoders (BERT, RoBERTa, MiniLM-style sentence encoders): embeddings of ids,
 * positions and token types, post-layernorm blocks, and optional pooling. */
#include "host/import/import_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define W(name, rank, ...) \
    import_weightf(job, &job->text, name, rank, (const int64_t[]){__VA_ARGS__}, "%s%s", prefix, key)

typedef struct bert_config {
    int hidden, heads, layers, inner, vocab, positions, types, position_offset;
    double eps;
    char eps_text[32];
    const char *act_open, *act_close;
} bert_config;

static int read_config(import_job *job, bert_config *c)
{
    bool roberta = !strcmp(job->result->model_type, "roberta");
    int pad = 0;
    if (import_config_int(job, "hidden_size", &c->hidden) ||
        import_config_int(job, "num_attention_heads", &c->heads) ||
        import_config_int(job, "num_hidden_layers", &c->layers) ||
        import_config_int(job, "intermediate_size", &c->inner) ||
        import_config_int(job, "vocab_size", &c->vocab) ||
        import_config_int(job, "max_position_embeddings", &c->positions) ||
        import_config_int_or(job, "type_vocab_size", 2, &c->types) ||
        import_config_int_or(job, "pad_token_id", roberta ? 1 : 0, &pad) ||
        import_config_float_or(job, "layer_norm_eps", 1e-12, &c->eps) ||
        import_config_refuse(job, "position_embedding_type", "absolute",
                             "only absolute position embeddings are implemented") ||
        import_config_refuse(job, "is_decoder", NULL, "a BERT decoder is not implemented") ||
        import_config_refuse(job, "add_cross_attention", NULL,
                             "cross-attention is not implemented"))
        return 1;
    const char *act = import_config_string(job, "hidden_act");
    if (job->failed || import_activation(job, "hidden_act", act ? act : "gelu", &c->act_open,
                                         &c->act_close))
        return 1;
    if (!c->heads || c->hidden % c->heads)
        return import_fail(job, "config.json: \"hidden_size\" %d is not a multiple of "
                           "\"num_attention_heads\" %d", c->hidden, c->heads);
    if (c->types < 1) return import_fail(job, "config.json: \"type_vocab_size\" is 0");
    /* RoBERTa counts positions from padding_idx + 1: row padding_idx + 1 + i is position i. */
    c->position_offset = roberta ? pad + 1 : 0;
    pg_float(c->eps, c->eps_text);
    if (c->positions <= c->position_offset)
        return import_fail(job, "config.json: \"max_position_embeddings\" %d leaves no position "
                           "after the padding offset %d", c->positions, c->position_offset);
    job->result->layers = c->layers;
    job->result->vocab = c->vocab;
    job->result->head_dim = c->hidden / c->heads;
    job->result->kv_heads = c->heads;
    return import_max_seq(job, "max_position_embeddings", c->positions - c->position_offset);
}

/* Checkpoints of the bare model name tensors "embeddings..."; those saved with a head put the
 * encoder under "bert." or "roberta.". */
static const char *find_prefix(import_job *job)
{
    static const char *const prefixes[] = {"", "bert.", "roberta."};
    for (int i = 0; i < 3; i++) {
        char key[128];
        snprintf(key, sizeof key, "%sembeddings.word_embeddings.weight", prefixes[i]);
        if (import_has(job, key)) return prefixes[i];
    }
    return "";
}

static void write_pooling(import_job *job, pg_text *t, int B, int D)
{
    if (job->options.pooling == IMPORT_POOLING_MEAN)
        pg_printf(t, "pooled = masked_mean(last_hidden_state, mask)\n");
    else if (job->options.pooling == IMPORT_POOLING_CLS)
        pg_printf(t, "pooled = reshape(slice(last_hidden_state, axis=1, start=0, end=1), "
                  "shape=[%d, %d])\n", B, D);
    if (job->options.pooling != IMPORT_POOLING_NONE && job->options.normalize)
        pg_printf(t, "normalized = l2norm(pooled, eps=1e-12)\n");
    pg_printf(t, "output last_hidden_state%s%s\n",
              job->options.pooling != IMPORT_POOLING_NONE ? ", pooled" : "",
              job->options.pooling != IMPORT_POOLING_NONE && job->options.normalize
                  ? ", normalized" : "");
}

int import_bert(import_job *job)
{
    bert_config c;
    if (read_config(job, &c)) return 1;
    if (job->options.normalize && job->options.pooling == IMPORT_POOLING_NONE)
        return import_fail(job, "--normalize needs --pooling mean or cls");
    const char *prefix = find_prefix(job);
    int B = job->result->batch, S = job->result->max_seq, D = c.hidden;
    pg_text *t = &job->text;
    char word[160], pos[160], type[160], g[160], b[160], key[256];
    pg_printf(t, "# %s encoder imported from %s\ngraph %s\n", job->result->model_type, job->dir,
              job->result->model_type);
    /* the length is a named dim: one program runs every length up to S (docs/format.md) */
    pg_printf(t, "input ids : i32[%d, S <= %d]\ninput mask : i32[%d, S]\n", B, S, B);
    if (c.types > 1) pg_printf(t, "input token_types : i32[%d, S]\n", B);

    snprintf(key, sizeof key, "embeddings.word_embeddings.weight");
    if (W(word, 2, c.vocab, D)) return 1;
    snprintf(key, sizeof key, "embeddings.position_embeddings.weight");
    if (W(pos, 2, c.positions, D)) return 1;
    snprintf(key, sizeof key, "embeddings.token_type_embeddings.weight");
    if (W(type, 2, c.types, D)) return 1;
    snprintf(key, sizeof key, "embeddings.LayerNorm.weight");
    if (W(g, 1, D)) return 1;
    snprintf(key, sizeof key, "embeddings.LayerNorm.bias");
    if (W(b, 1, D)) return 1;
    pg_printf(t, "keep = reshape(mask, shape=[%d, 1, 1, -1])\n", B);
    /* the table's rows from the offset on, then the first S of them */
    if (c.position_offset)
        pg_printf(t, "positions = slice(slice(%s, axis=0, start=%d), axis=0, start=0, end=S)\n",
                  pos, c.position_offset);
    else
        pg_printf(t, "positions = slice(%s, axis=0, start=0, end=S)\n", pos);
    if (c.types > 1) pg_printf(t, "types = embedding(token_types, %s)\n", type);
    else pg_printf(t, "types = slice(%s, axis=0, start=0, end=1)\n", type);
    pg_printf(t, "embedded = add(add(embedding(ids, %s), positions), types)\n", word);
    pg_printf(t, "x.0 = layernorm(embedded, %s, %s, eps=%s)\n", g, b, c.eps_text);

    static const struct {
        const char *key;
        int out_hidden, in_hidden; /* 1: hidden size, 0: intermediate size */
    } linears[6] = {
        {"attention.self.query", 1, 1}, {"attention.self.key", 1, 1},
        {"attention.self.value", 1, 1}, {"attention.output.dense", 1, 1},
        {"intermediate.dense", 0, 1},   {"output.dense", 1, 0},
    };
    for (int l = 0; l < c.layers; l++) {
        char w[6][160], bias[6][160], g1[160], b1[160], g2[160], b2[160];
        for (int i = 0; i < 6; i++) {
            int out = linears[i].out_hidden ? D : c.inner, in = linears[i].in_hidden ? D : c.inner;
            snprintf(key, sizeof key, "encoder.layer.%d.%s.weight", l, linears[i].key);
            if (W(w[i], 2, out, in)) return 1;
            snprintf(key, sizeof key, "encoder.layer.%d.%s.bias", l, linears[i].key);
            if (W(bias[i], 1, out)) return 1;
        }
        snprintf(key, sizeof key, "encoder.layer.%d.attention.output.LayerNorm.weight", l);
        if (W(g1, 1, D)) return 1;
        snprintf(key, sizeof key, "encoder.layer.%d.attention.output.LayerNorm.bias", l);
        if (W(b1, 1, D)) return 1;
        snprintf(key, sizeof key, "encoder.layer.%d.output.LayerNorm.weight", l);
        if (W(g2, 1, D)) return 1;
        snprintf(key, sizeof key, "encoder.layer.%d.output.LayerNorm.bias", l);
        if (W(b2, 1, D)) return 1;
        char out[32];
        if (l == c.layers - 1) snprintf(out, sizeof out, "last_hidden_state");
        else snprintf(out, sizeof out, "x.%d", l + 1);
        pg_printf(t, "q.%d = linear(x.%d, %s, %s)\n", l, l, w[0], bias[0]);
        pg_printf(t, "k.%d = linear(x.%d, %s, %s)\n", l, l, w[1], bias[1]);
        pg_printf(t, "v.%d = linear(x.%d, %s, %s)\n", l, l, w[2], bias[2]);
        pg_printf(t, "a.%d = attention(q.%d, k.%d, v.%d, mask=keep, heads=%d)\n", l, l, l, l,
                  c.heads);
        pg_printf(t, "h.%d = layernorm(add(x.%d, linear(a.%d, %s, %s)), %s, %s, eps=%s)\n", l,
                  l, l, w[3], bias[3], g1, b1, c.eps_text);
        pg_printf(t, "f.%d = linear(%slinear(h.%d, %s, %s)%s, %s, %s)\n", l, c.act_open, l,
                  w[4], bias[4], c.act_close, w[5], bias[5]);
        pg_printf(t, "%s = layernorm(add(h.%d, f.%d), %s, %s, eps=%s)\n", out, l, l, g2, b2,
                  c.eps_text);
    }
    if (c.layers == 0) pg_printf(t, "last_hidden_state = scale(x.0, s=1.0)\n");
    write_pooling(job, t, B, D);
    return import_add_graph(job, "encoder", t);
}
