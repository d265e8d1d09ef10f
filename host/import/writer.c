/* Writing .pg text: declarations of the checkpoint's weights (shape from the file, checked
 * against what the config implies) and the activations the configs name. */
#include "host/import/import_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pg_printf(pg_text *text, const char *format, ...)
{
    if (text->out_of_memory) return;
    for (;;) {
        va_list args;
        va_start(args, format);
        size_t room = text->capacity - text->length;
        int n = vsnprintf(text->data ? text->data + text->length : NULL, room, format, args);
        va_end(args);
        if (n < 0) {
            text->out_of_memory = true;
            return;
        }
        if ((size_t)n < room) {
            text->length += (size_t)n;
            return;
        }
        size_t capacity = text->capacity ? text->capacity * 2 : 4096;
        while (capacity - text->length <= (size_t)n) capacity *= 2;
        char *data = realloc(text->data, capacity);
        if (!data) {
            text->out_of_memory = true;
            return;
        }
        text->data = data;
        text->capacity = capacity;
    }
}

const char *pg_dtype(const import_job *job)
{
    return job->options.dtype == PORTA_F16 ? "f16" : "f32";
}

void pg_float(double value, char out[32])
{
    if (value == (double)(long long)value && value > -1e15 && value < 1e15) {
        snprintf(out, 32, "%.1f", value); /* 500000.0, not 5e+05 */
        return;
    }
    for (int digits = 1; digits <= 17; digits++) {
        snprintf(out, 32, "%.*g", digits, value);
        if (strtod(out, NULL) == value) break;
    }
    if (!strpbrk(out, ".eEn")) strcat(out, ".0");
}

bool import_has(import_job *job, const char *key)
{
    return porta_weights_find(job->weights, key) >= 0;
}

static void format_dims(int rank, const int64_t *dims, char *out, size_t size)
{
    size_t used = (size_t)snprintf(out, size, "[");
    for (int i = 0; i < rank && used < size; i++) {
        if (dims[i] < 0) used += (size_t)snprintf(out + used, size - used, i ? ", *" : "*");
        else used += (size_t)snprintf(out + used, size - used, i ? ", %lld" : "%lld",
                                      (long long)dims[i]);
    }
    if (used < size) snprintf(out + used, size - used, "]");
}

/* A .pg identifier: a letter or '_', then letters, digits, '_' and '.'; at most 128 bytes. */
static bool is_identifier(const char *s)
{
    size_t n = strlen(s);
    if (!n || n > 128) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
        bool digit = c >= '0' && c <= '9';
        if (!(letter || (i && (digit || c == '.')))) return false;
    }
    return strcmp(s, "true") && strcmp(s, "false") && s[0] != '_';
}

int import_weight(import_job *job, pg_text *text, const char *key, int rank, const int64_t *dims,
                  char *name)
{
    int index = porta_weights_find(job->weights, key);
    if (index < 0)
        return import_fail(job, "%s: tensor '%s' is missing; config.json describes a %s that "
                           "has it", job->weights_path, key, job->result->model_type);
    porta_weight_info info;
    porta_weights_info(job->weights, index, &info);
    char have[128], want[128];
    format_dims(info.rank, info.dims, have, sizeof have);
    format_dims(rank, dims, want, sizeof want);
    bool same = info.rank == rank;
    for (int i = 0; same && i < rank; i++) same = dims[i] < 0 || dims[i] == info.dims[i];
    if (!same)
        return import_fail(job, "%s: tensor '%s' is %s%s, but config.json implies %s",
                           job->weights_path, key, info.dtype, have, want);
    if (strcmp(info.dtype, "F32") && strcmp(info.dtype, "F16") && strcmp(info.dtype, "BF16"))
        return import_fail(job, "%s: tensor '%s' is %s; porta reads float weights as F32, F16 "
                           "or BF16", job->weights_path, key, info.dtype);
    if (is_identifier(key)) {
        snprintf(name, 160, "%s", key);
        pg_printf(text, "weight %s : %s%s\n", name, pg_dtype(job), have);
    } else {
        snprintf(name, 160, "w%d", index);
        pg_printf(text, "weight %s : %s%s = \"%s\"\n", name, pg_dtype(job), have, key);
    }
    return 0;
}

int import_activation(import_job *job, const char *field, const char *value,
                      const char **open, const char **close)
{
    static const struct {
        const char *name, *open, *close;
    } known[] = {
        {"gelu", "gelu(", ")"},
        {"gelu_new", "gelu(", ", approximate=\"tanh\")"},
        {"gelu_pytorch_tanh", "gelu(", ", approximate=\"tanh\")"},
        {"gelu_fast", "gelu(", ", approximate=\"tanh\")"},
        {"relu", "relu(", ")"},
        {"silu", "silu(", ")"},
        {"swish", "silu(", ")"},
        {"tanh", "tanh(", ")"},
    };
    for (size_t i = 0; value && i < sizeof known / sizeof known[0]; i++)
        if (!strcmp(value, known[i].name)) {
            *open = known[i].open;
            *close = known[i].close;
            return 0;
        }
    return import_fail(job, "config.json: \"%s\": \"%s\" is an activation the importer does "
                       "not implement (gelu, gelu_new, gelu_pytorch_tanh, gelu_fast, relu, silu, "
                       "tanh)", field, value ? value : "(none)");
}

int import_add_graph(import_job *job, const char *role, pg_text *text)
{
    if (text->out_of_memory || !text->data) {
        free(text->data);
        return import_fail(job, "out of memory");
    }
    import_result *r = job->result;
    r->graphs[r->n_graphs].role = role;
    r->graphs[r->n_graphs++].text = text->data;
    *text = (pg_text){0};
    return 0;
}

int import_max_seq(import_job *job, const char *field, int positions)
{
    int asked = job->options.max_seq;
    if (asked > positions)
        return import_fail(job, "--max-seq %d is over the %d positions the config allows "
                           "(config.json: \"%s\")", asked, positions, field);
    job->result->max_seq = asked > 0 ? asked : positions < 512 ? positions : 512;
    job->result->batch = job->options.batch;
    return 0;
}

int import_weightf(import_job *job, pg_text *text, char *name, int rank, const int64_t *dims,
                   const char *key_format, ...)
{
    char key[512];
    va_list args;
    va_start(args, key_format);
    vsnprintf(key, sizeof key, key_format, args);
    va_end(args);
    return import_weight(job, text, key, rank, dims, name);
}

void import_decoder_inputs(import_job *job, pg_text *t, bool decode)
{
    const import_result *r = job->result;
    int B = r->batch, S = r->max_seq;
    if (!decode) {
        /* the prompt's length is a named dim: one prefill program runs every prompt length */
        pg_printf(t, "input ids : i32[%d, P <= %d]\n", B, S);
        return;
    }
    pg_printf(t, "input ids : i32[%d, 1]\ninput pos : i32[1]\ninput filled : i32[%d, 1, 1, %d]\n",
              B, B, S);
    for (int l = 0; l < r->layers; l++)
        pg_printf(t, "input k_cache.%d : %s[%d, %d, %d, %d]\ninput v_cache.%d : %s[%d, %d, %d, %d]\n",
                  l, pg_dtype(job), B, r->kv_heads, S, r->head_dim, l, pg_dtype(job), B,
                  r->kv_heads, S, r->head_dim);
}

void import_decoder_attention(import_job *job, pg_text *t, int layer, bool decode,
                              const char *k_new, const char *v_new)
{
    if (!decode) {
        /* causal attention over the prompt's P tokens; the caches the decode step takes hold S
         * slots, the prompt's keys and values in the first P (the rest are never read) */
        const import_result *r = job->result;
        pg_printf(t, "kp.%d = %s\nvp.%d = %s\n", layer, k_new, layer, v_new);
        pg_printf(t, "a.%d = merge_heads(sdpa(q.%d, kp.%d, vp.%d, causal=true))\n", layer, layer,
                  layer, layer);
        for (int kv = 0; kv < 2; kv++)
            pg_printf(t, "%s_cache.%d = kv_append(full(shape=[%d, %d, %d, %d], dtype=\"%s\"), "
                      "%sp.%d)\n", kv ? "v" : "k", layer, r->batch, r->kv_heads, r->max_seq,
                      r->head_dim, pg_dtype(job), kv ? "v" : "k", layer);
        return;
    }
    pg_printf(t, "k_next.%d = kv_append(k_cache.%d, %s, pos)\n", layer, layer, k_new);
    pg_printf(t, "v_next.%d = kv_append(v_cache.%d, %s, pos)\n", layer, layer, v_new);
    pg_printf(t, "a.%d = merge_heads(sdpa(q.%d, k_next.%d, v_next.%d, mask=filled))\n", layer,
              layer, layer, layer);
}

void import_decoder_outputs(import_job *job, pg_text *t, bool decode)
{
    pg_printf(t, "output logits\n");
    for (int l = 0; l < job->result->layers; l++)
        pg_printf(t, "output %s.%d, %s.%d\n", decode ? "k_next" : "k_cache", l,
                  decode ? "v_next" : "v_cache", l);
}
