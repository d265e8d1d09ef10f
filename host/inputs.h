/* Where a command's inputs and weights come from: --input NAME=PATH.npy files, a --weights
 * safetensors file, else the seed fill. Shared by `porta run` and `porta compare`. */
#ifndef PORTA_HOST_INPUTS_H
#define PORTA_HOST_INPUTS_H

#include "host/reference/reference.h"
#include "porta.h"

#include <stdint.h>

#define HOST_MAX_INPUTS 256

typedef struct host_inputs {
    const char *weights_path;
    const char *bind;                   /* --bind NAME=V,NAME=V (named dims) */
    porta_weight_format quantize;       /* --quantize: every linear's weight 8-bit */
    uint64_t seed;
    int n;
    char *names[HOST_MAX_INPUTS];       /* owned */
    const char *paths[HOST_MAX_INPUTS]; /* into argv */
} host_inputs;

/* Takes "NAME=PATH" of an --input option. Returns 0, or prints "COMMAND: ..." to stderr and
 * returns 2 (a malformed or repeated name) or 1 (out of memory). */
int host_inputs_add(host_inputs *inputs, const char *command, const char *spec);
void host_inputs_free(host_inputs *inputs);

/* Binds the graph's named dims (`S <= 128`): from --bind NAME=V,... and from the shapes of the
 * --input files of inputs with such dims (they must agree); a dim given neither stays at its
 * maximum. Returns 0, or 1 (a dim the files disagree on, a value past the maximum, a shape that
 * no longer validates) or 2 (a malformed --bind) after a message. */
int host_inputs_bind(porta_context *context, const char *command, porta_graph *graph,
                     const host_inputs *inputs);

/* Takes the value of --quantize: int8 (i8c, per output channel) or q8_0. Returns 0, or 2 after
 * a message. */
int host_inputs_quantize_option(host_inputs *inputs, const char *command, const char *text);
/* With --quantize, holds every weight that a linear or matmul reads 8-bit
 * (porta_graph_quantize_weights) and says how many on stderr. Returns 0, or 1 after a message. */
int host_inputs_quantize(porta_context *context, const char *command, porta_graph *graph,
                         const host_inputs *inputs);

/* Checks the --input names against the graph and the weights file's tensors against its
 * weights, then fills every input and weight of `values`: from its .npy file, else (a weight)
 * from the weights file, else from the seed. Graph inputs left to the seed are named in one
 * warning on stderr, since real inputs were probably meant. Returns 0, or 1 after a message. */
int host_inputs_fill(porta_context *context, const char *command, porta_graph *graph,
                     const host_inputs *inputs, porta_weights *weights,
                     porta_reference_values *values);

#endif
