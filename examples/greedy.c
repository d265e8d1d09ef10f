/* Greedy generation with a decoder's prefill and decode-step graphs (greedy.h). */
#include "greedy.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct loop {
    porta_context *context;
    char *message;
    size_t message_size;
} loop;

static porta_status fail(loop *l, porta_status status, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    vsnprintf(l->message, l->message_size, format, args);
    va_end(args);
    return status;
}

/* A failed porta call: its own message. */
static porta_status porta_failed(loop *l, porta_status status)
{
    return fail(l, status, "%s", porta_last_error(l->context));
}

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

static float half_to_float(uint16_t h)
{
    int exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
    float value = exponent == 0    ? ldexpf((float)mantissa, -24)
                  : exponent == 31 ? (mantissa ? NAN : INFINITY)
                                   : ldexpf((float)(mantissa | 0x400), exponent - 25);
    return (h & 0x8000) ? -value : value;
}

/* The index of the largest of n logits (f32, or f16 bit patterns), the first of equal ones. */
static int32_t argmax(const void *logits, porta_dtype dtype, int64_t n)
{
    int32_t best = 0;
    float top = -INFINITY;
    for (int64_t i = 0; i < n; i++) {
        float v = dtype == PORTA_F16 ? half_to_float(((const uint16_t *)logits)[i])
                                     : ((const float *)logits)[i];
        if (v > top) {
            top = v;
            best = (int32_t)i;
        }
    }
    return best;
}

static int64_t elements(const porta_shape *shape)
{
    int64_t n = 1;
    for (int i = 0; i < shape->rank; i++) n *= shape->dims[i];
    return n;
}

static bool info_of(const porta_graph *graph, const char *name, porta_tensor_info *info)
{
    porta_tensor_id id = porta_graph_find_tensor(graph, name);
    return id >= 0 && porta_graph_tensor_info(graph, id, info) == PORTA_OK;
}

/* The layers: k_cache.L and v_cache.L for L = 0, 1, ... in both graphs. */
static int count_layers(const porta_graph *decode)
{
    int layers = 0;
    char name[64];
    for (;; layers++) {
        snprintf(name, sizeof name, "k_cache.%d", layers);
        if (porta_graph_find_tensor(decode, name) < 0) return layers;
    }
}

porta_status greedy_generate(porta_context *context, porta_device *device,
                             const porta_graph *prefill, const porta_graph *decode,
                             porta_weights *weights, const int32_t *prompt, int n_prompt,
                             int max_new, int32_t eos, int32_t *out, int *out_count,
                             greedy_timing *timing, char *message, size_t message_size)
{
    loop l = {context, message, message_size};
    *out_count = 0;
    memset(timing, 0, sizeof *timing);
    porta_tensor_info ids, logits, step_logits, filled_info;
    if (!info_of(prefill, "ids", &ids) || ids.shape.rank != 2 || !info_of(prefill, "logits", &logits) ||
        !info_of(decode, "logits", &step_logits) || !info_of(decode, "filled", &filled_info) ||
        !count_layers(decode))
        return fail(&l, PORTA_ERROR_INVALID_GRAPH,
                    "the graphs are not a prefill graph (ids [B, S], logits) and a decode graph "
                    "(ids, pos, filled, k_cache.L, v_cache.L, logits) as porta import writes");
    /* the cache's slots; the prompt's length is the prefill graph's named dim, bound per prompt
     * (a prefill graph of fixed length takes the prompt right-padded) */
    int64_t batch = ids.shape.dims[0], slots = filled_info.shape.dims[3];
    bool named_length = porta_graph_symbol_count(prefill) == 1;
    int64_t prefill_length = named_length ? n_prompt : ids.shape.dims[1];
    int64_t vocab = logits.shape.dims[logits.shape.rank - 1];
    int layers = count_layers(decode);
    if (n_prompt < 1 || max_new < 1)
        return fail(&l, PORTA_ERROR_INVALID_ARGUMENT, "a prompt of %d tokens and %d new ones",
                    n_prompt, max_new);
    /* the last new token is never fed back, so the cache holds n_prompt + max_new - 1 tokens */
    if ((int64_t)n_prompt + max_new - 1 > slots)
        return fail(&l, PORTA_ERROR_SHAPE,
                    "a prompt of %d tokens and %d new ones need %d cache slots; the graphs hold "
                    "%lld (import with a larger --max-seq)", n_prompt, max_new,
                    n_prompt + max_new - 1, (long long)slots);
    for (int i = 0; i < n_prompt; i++)
        if (prompt[i] < 0 || prompt[i] >= vocab)
            return fail(&l, PORTA_ERROR_INVALID_ARGUMENT,
                        "prompt id %d at %d is outside the vocabulary of %lld", prompt[i], i,
                        (long long)vocab);

    porta_program *first = NULL, *step = NULL;
    int32_t *host_ids = calloc((size_t)(batch * slots), sizeof *host_ids);
    int32_t *filled = calloc((size_t)(batch * slots), sizeof *filled);
    size_t logit_bytes = (size_t)(batch * prefill_length * vocab) * porta_dtype_size(logits.dtype);
    void *host_logits = malloc(logit_bytes);
    porta_status s = host_ids && filled && host_logits
                         ? PORTA_OK
                         : fail(&l, PORTA_ERROR_OUT_OF_MEMORY, "out of memory");
    /* both programs are set from one weights handle, so they hold one copy of the weights */
    if (s == PORTA_OK && ((s = porta_program_create(device, prefill, 0, &first)) ||
                          (s = porta_program_create(device, decode, 0, &step)) ||
                          (s = porta_program_set_weights(first, weights)) ||
                          (s = porta_program_set_weights(step, weights))))
        porta_failed(&l, s);
    const char *length_name = NULL;
    if (s == PORTA_OK && named_length) {
        porta_graph_symbol_info(prefill, 0, &length_name, NULL, NULL);
        if ((s = porta_program_bind(first, &length_name, &prefill_length, 1))) porta_failed(&l, s);
    }

    /* prefill: every row holds the prompt; the first new token follows its last */
    double start = now_ms();
    for (int64_t b = 0; s == PORTA_OK && b < batch; b++)
        memcpy(host_ids + b * prefill_length, prompt, (size_t)n_prompt * sizeof *prompt);
    if (s == PORTA_OK &&
        ((s = porta_program_set(first, "ids", host_ids, (size_t)(batch * prefill_length) * 4)) ||
         (s = porta_program_run(first)) ||
         (s = porta_program_get(first, "logits", host_logits, logit_bytes))))
        porta_failed(&l, s);
    int32_t token = 0;
    if (s == PORTA_OK) {
        size_t row = (size_t)(n_prompt - 1) * (size_t)vocab * porta_dtype_size(logits.dtype);
        token = argmax((const char *)host_logits + row, logits.dtype, vocab);
        out[(*out_count)++] = token;
        timing->prefill_ms = now_ms() - start;
    }

    /* the caches go to the decode step on the device once; each step then carries its updated
     * caches into its own inputs */
    char names[2][64];
    for (int layer = 0; s == PORTA_OK && layer < layers; layer++)
        for (int kv = 0; kv < 2 && s == PORTA_OK; kv++) {
            snprintf(names[0], sizeof names[0], "%s_cache.%d", kv ? "v" : "k", layer);
            snprintf(names[1], sizeof names[1], "%s_next.%d", kv ? "v" : "k", layer);
            const char *to[] = {names[0]};
            if ((s = porta_program_copy(step, to, first, to, 1)) ||
                (s = porta_program_carry(step, names[0], names[1])))
                porta_failed(&l, s);
        }
    if (s == PORTA_OK) {
        timing->weight_bytes = porta_program_weight_bytes(step);
        porta_program_memory(first, &timing->prefill_arena_bytes, NULL);
        porta_program_memory(step, &timing->decode_arena_bytes, NULL);
    }
    porta_program_destroy(first);
    first = NULL;

    start = now_ms();
    size_t step_bytes = (size_t)elements(&step_logits.shape) * porta_dtype_size(step_logits.dtype);
    for (int n = 0; s == PORTA_OK && *out_count < max_new && token != eos; n++) {
        int32_t position = n_prompt + n;
        for (int64_t b = 0; b < batch; b++) {
            host_ids[b] = token;
            for (int64_t t = 0; t < slots; t++) filled[b * slots + t] = t <= position;
        }
        if ((s = porta_program_set(step, "ids", host_ids, (size_t)batch * 4)) ||
            (s = porta_program_set(step, "pos", &position, 4)) ||
            (s = porta_program_set(step, "filled", filled, (size_t)(batch * slots) * 4)) ||
            (s = porta_program_run(step)) ||
            (s = porta_program_get(step, "logits", host_logits, step_bytes))) {
            porta_failed(&l, s);
            break;
        }
        token = argmax(host_logits, step_logits.dtype, vocab);
        out[(*out_count)++] = token;
        timing->decode_steps++;
    }
    timing->decode_ms = now_ms() - start;
    porta_program_destroy(first);
    porta_program_destroy(step);
    free(host_ids);
    free(filled);
    free(host_logits);
    return s;
}
