/* Shared by the importer's files: the config reader and the .pg text writer. */
#ifndef PORTA_HOST_IMPORT_INTERNAL_H
#define PORTA_HOST_IMPORT_INTERNAL_H

#include "host/import/import.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* The .pg text of one graph. */
typedef struct pg_text {
    char *data;
    size_t length, capacity;
    bool out_of_memory;
} pg_text;

/* What one architecture's builder works from. */
typedef struct import_job {
    const char *dir;
    const cJSON *config;
    porta_weights *weights;
    const char *weights_path;
    import_options options;
    import_result *result;
    bool failed;        /* a message is in result->message */
    pg_text text;       /* the graph being written; freed if a failure leaves it unfinished */
} import_job;

/* Records the first failure: "MESSAGE" into result->message. Returns 1. */
int import_fail(import_job *job, const char *format, ...) __attribute__((format(printf, 2, 3)));

/* Config fields. A missing or mistyped required field fails naming it. */
int import_config_int(import_job *job, const char *field, int *out);
int import_config_int_or(import_job *job, const char *field, int fallback, int *out);
int import_config_float_or(import_job *job, const char *field, double fallback, double *out);
/* NULL when absent or null; fails when present and not a string. */
const char *import_config_string(import_job *job, const char *field);
/* Fails naming `field` when it is present, not null and not equal to `allowed` (NULL: any
 * value but null or false is refused). `why` says what the importer lacks. */
int import_config_refuse(import_job *job, const char *field, const char *allowed, const char *why);

void pg_printf(pg_text *text, const char *format, ...) __attribute__((format(printf, 2, 3)));
const char *pg_dtype(const import_job *job);
/* `value` as the shortest decimal that reads back as the same double, with a '.' or an
 * exponent (a .pg float). */
void pg_float(double value, char out[32]);

/* True when the checkpoint holds `key`. */
bool import_has(import_job *job, const char *key);
/* Declares weight `key` with the file's shape (and the job's dtype), failing when the tensor is
 * missing or its shape differs from `dims` (rank entries; -1 matches any size). Writes into
 * `name` (at least 160 bytes) the name to use in the graph: the key itself when it is a .pg
 * identifier. */
int import_weight(import_job *job, pg_text *text, const char *key, int rank, const int64_t *dims,
                  char *name);
/* import_weight with the key formatted from `key_format`. */
int import_weightf(import_job *job, pg_text *text, char *name, int rank, const int64_t *dims,
                   const char *key_format, ...) __attribute__((format(printf, 6, 7)));
/* The activation a config names, as the text before and after its operand: "gelu(" and
 * ", approximate=\"tanh\")". Fails naming `field` for one the ops lack. */
int import_activation(import_job *job, const char *field, const char *value,
                      const char **open, const char **close);

/* Hands `text` to the result as graph `role` (the result owns it then). */
int import_add_graph(import_job *job, const char *role, pg_text *text);
/* Sets result->max_seq from --max-seq, else `positions` (the config's `field`) capped at 512,
 * and result->batch. Fails when --max-seq is over `positions`. */
int import_max_seq(import_job *job, const char *field, int positions);

/* The decoders' interface (docs/models.md). Prefill: ids [B, S]. Decode: ids [B, 1], pos [1],
 * filled [B, 1, 1, S] and each layer's k_cache.L, v_cache.L [B, G, S, head_dim]. */
void import_decoder_inputs(import_job *job, pg_text *t, bool decode);
/* Layer `layer`'s attention from q.L [B, H, s, head_dim] and the new keys and values (.pg
 * expressions of [B, G, s, head_dim]), into a.L [B, s, H * head_dim]: prefill names them
 * kp.L and vp.L, attends causally and writes them into the first slots of S-slot caches
 * k_cache.L and v_cache.L; decode writes them into the caches at `pos` (k_next.L, v_next.L)
 * and attends over the `filled` slots. */
void import_decoder_attention(import_job *job, pg_text *t, int layer, bool decode,
                              const char *k_new, const char *v_new);
/* logits first, then each layer's caches (k_cache.L, v_cache.L; decode: k_next.L, v_next.L). */
void import_decoder_outputs(import_job *job, pg_text *t, bool decode);

/* Architecture builders: fill job->result->graphs. */
int import_bert(import_job *job);
int import_gpt2(import_job *job);
int import_llama(import_job *job);

#endif
