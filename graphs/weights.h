/* Internal to the weights loader: the open safetensors file (weights.c) and checkpoints of
 * several shards bound through an index (weights_shards.c). */
#ifndef PORTA_GRAPHS_WEIGHTS_H
#define PORTA_GRAPHS_WEIGHTS_H

#include "porta.h"

#include <stddef.h>
#include <stdint.h>

typedef struct weight_entry {
    char *name;
    char *dtype;         /* as spelled in the file */
    int type;            /* index into the format's dtypes, or -1 for a dtype not in the format */
    int rank;
    int64_t *dims;
    uint64_t begin, end; /* within the data section */
    const uint8_t *data; /* the data section of the file that holds it */
} weight_entry;

struct porta_weights {
    porta_context *context;
    char *path;
    const uint8_t *map;
    size_t map_size;
    const uint8_t *data; /* the data section: right after the header */
    uint64_t data_size;
    weight_entry *entries; /* sorted by name */
    int n_entries;
    porta_weights **shards; /* a sharded checkpoint: the files its entries point into */
    int n_shards;
    uint64_t serial;        /* unique in its context: programs share device copies by it */
};

void weights_free_entries(weight_entry *entries, int count);
/* The entry named `key`, or NULL. */
const weight_entry *weights_find_entry(const porta_weights *w, const char *key);
/* 8-bit weights in a file (weights_int8.c): the KEY.scale beside an I8 entry when the two form
 * one (NULL otherwise), and the floats they hold (count of the I8 entry). */
const weight_entry *weights_int8_scale(const porta_weights *w, const weight_entry *values);
void weights_int8_dequantize(const weight_entry *values, const weight_entry *scale, float *out);
/* An 8-bit weight's int8 values and f32 scales as graphs/quantize.h lays them out flat, copied
 * from the file when it holds KEY as I8 [rows, cols] with one scale per `block` values of a row;
 * false (nothing written) when it does not. */
bool porta_weights_read_int8(porta_weights *weights, const char *key, uint32_t rows,
                             uint32_t cols, uint32_t block, void *held);
/* One safetensors file. */
porta_status weights_open_file(porta_context *context, const char *path, porta_weights **out);
/* A safetensors file, an index (`*.index.json`) with its shards, or a folder holding
 * model.safetensors.index.json or model.safetensors. */
porta_status weights_open_checkpoint(porta_context *context, const char *path,
                                     porta_weights **out);

#endif
