/* Importing Hugging Face checkpoints: config.json and its safetensors weights (one file, or
 * shards with an index) become .pg graphs whose weights are bound by the checkpoint's own tensor
 * names. Encoders (BERT, RoBERTa) give one graph; decoders (GPT-2, Llama) a prefill graph and a
 * decode-step graph. The interfaces are in docs/models.md. */
#ifndef PORTA_HOST_IMPORT_H
#define PORTA_HOST_IMPORT_H

#include "porta.h"

#include <stdbool.h>

typedef enum import_pooling {
    IMPORT_POOLING_NONE = 0,
    IMPORT_POOLING_MEAN,
    IMPORT_POOLING_CLS,
} import_pooling;

typedef struct import_options {
    int batch;              /* 0: 1 */
    int max_seq;            /* 0: the config's max_position_embeddings, at most 512 */
    porta_dtype dtype;      /* of weights and activations: PORTA_F32 (0) or PORTA_F16 */
    import_pooling pooling; /* encoders only */
    bool normalize;         /* encoders, with pooling: l2-normalize the pooled embedding */
} import_options;

#define IMPORT_MAX_GRAPHS 2
#define IMPORT_MESSAGE_MAX 1024

typedef struct import_graph {
    const char *role; /* "encoder", "prefill" or "decode" */
    char *text;       /* .pg text, validated */
} import_graph;

typedef struct import_result {
    char model_type[64]; /* "bert", "roberta", "gpt2", "llama" */
    bool decoder;
    int n_graphs;        /* 1: an encoder; 2: prefill then decode */
    import_graph graphs[IMPORT_MAX_GRAPHS];
    char *weights_path;  /* what `porta run --weights` and porta_weights_open take: the
                            checkpoint's model.safetensors or its index file */
    int batch, max_seq, layers, vocab, kv_heads, head_dim;
    char message[IMPORT_MESSAGE_MAX]; /* why it failed */
} import_result;

/* Reads the checkpoint in `dir` and fills `result`. Returns 0, or 1 with `result->message`
 * naming what is wrong (the config field, the file or the tensor). Prints nothing. `options`
 * may be NULL (the defaults). Free the result with porta_import_result_free either way. */
int porta_import_checkpoint(const char *dir, const import_options *options,
                            import_result *result);
void porta_import_result_free(import_result *result);

#endif
