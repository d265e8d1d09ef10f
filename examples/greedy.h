/* Greedy generation with a decoder's two graphs, as `porta import` writes them (docs/models.md):
 * the prompt through the prefill graph, then one decode step per new token, the KV cache kept on
 * the device (handed from prefill to the decode step once, then carried by the step itself).
 * Public API only: an application can take this file as it is. */
#ifndef PORTA_EXAMPLES_GREEDY_H
#define PORTA_EXAMPLES_GREEDY_H

#include "porta.h"

typedef struct greedy_timing {
    double prefill_ms;          /* the prompt, to the first new token */
    double decode_ms;           /* every decode step after it, together */
    int decode_steps;
    /* device bytes: the weights as the decode step holds them (the prefill program shares the
     * buffers it lays out alike), and each program's arena of intermediates */
    uint64_t weight_bytes, prefill_arena_bytes, decode_arena_bytes;
} greedy_timing;

/* Generates up to `max_new` tokens after `prompt` (n_prompt ids, the same for every row of the
 * batch) on `device`: prefill and decode are the validated graphs, weights their weights.
 * Writes row 0's new ids to `out` (max_new of them; fewer when `eos` >= 0 is generated, which
 * is kept) and their count to *out_count. Returns PORTA_OK, or an error with its message in
 * `message` (a prompt with its new tokens past the cache, graphs that are not a prefill and
 * decode pair, or what porta said). */
porta_status greedy_generate(porta_context *context, porta_device *device,
                             const porta_graph *prefill, const porta_graph *decode,
                             porta_weights *weights, const int32_t *prompt, int n_prompt,
                             int max_new, int32_t eos, int32_t *out, int *out_count,
                             greedy_timing *timing, char *message, size_t message_size);

#endif
