/* `porta generate`: greedy generation from a decoder checkpoint, token ids in and out. The
 * checkpoint is imported (host/import/) into its prefill and decode-step graphs, which run with
 * the loop an application would use (examples/greedy.c): the KV cache stays on the device, and
 * both programs share one copy of the weights. */
#include "host/commands.h"
#include "host/import/import.h"
#include "examples/greedy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TOKENS 65536

static void usage(FILE *out)
{
    fprintf(out,
            "usage: porta generate CHECKPOINT_DIR --prompt-ids ID,ID,... --max-new N\n"
            "                      [--device D] [--max-seq S] [--dtype f32|f16] [--eos ID]\n"
            "                      [--quantize int8|q8_0|bf16]\n"
            "\n"
            "Imports a GPT-2 or Llama checkpoint (as porta import does), runs the prompt through\n"
            "its prefill graph and then one decode step per new token, always taking the most\n"
            "likely token, and prints the new token ids, the time of the prompt and the tokens\n"
            "per second of the steps. Token ids only: tokenizers are not part of porta.\n"
            "\n"
            "  --prompt-ids IDS  the prompt's token ids, comma-separated\n"
            "  --max-new N       how many tokens to generate\n"
            "  --device D        vulkan:0, opencl:1, a name substring, auto (default)\n"
            "  --max-seq S       the cache length (default: the prompt and the new tokens)\n"
            "  --dtype D         f32 (default) or f16 weights and activations\n"
            "  --eos ID          stop after generating this id\n"
            "  --quantize F      hold the linear layers' weights 8-bit: int8 (one scale per\n"
            "                    output channel) or q8_0 (a scale per 32 values); bf16 holds\n"
            "                    every f32 weight as bfloat16\n"
            "  --help            this text\n");
}

static int parse_int(const char *option, const char *text, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long n = strtol(text, &end, 10);
    if (errno || end == text || *end || n < min || n > max) {
        fprintf(stderr, "porta generate: %s '%s' is not an integer in %ld..%ld\n", option, text,
                min, max);
        return 2;
    }
    *out = n;
    return 0;
}

static int parse_ids(const char *text, int32_t *ids, int *count)
{
    *count = 0;
    for (const char *at = text;;) {
        char *end;
        errno = 0;
        long id = strtol(at, &end, 10);
        if (errno || end == at || id < 0 || id > INT32_MAX || (*end && *end != ',') ||
            *count == MAX_TOKENS) {
            fprintf(stderr, "porta generate: --prompt-ids '%s' is not a list of token ids "
                            "(non-negative integers separated by commas)\n", text);
            return 2;
        }
        ids[(*count)++] = (int32_t)id;
        if (!*end) return 0;
        at = end + 1;
    }
}

typedef struct generate_args {
    const char *checkpoint, *device, *prompt_text;
    long max_new, max_seq, eos;
    porta_dtype dtype;
    porta_weight_format quantize;
} generate_args;

/* Returns -1 to go on, else the exit status. */
static int parse_args(int argc, char **argv, generate_args *a)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
            usage(stdout);
            return 0;
        }
        bool takes_value = !strcmp(arg, "--prompt-ids") || !strcmp(arg, "--max-new") ||
                           !strcmp(arg, "--device") || !strcmp(arg, "--max-seq") ||
                           !strcmp(arg, "--dtype") || !strcmp(arg, "--eos") ||
                           !strcmp(arg, "--quantize");
        if (takes_value && i + 1 >= argc) {
            fprintf(stderr, "porta generate: %s needs a value\n", arg);
            return 2;
        }
        int bad = 0;
        if (!strcmp(arg, "--prompt-ids")) a->prompt_text = argv[++i];
        else if (!strcmp(arg, "--device")) a->device = argv[++i];
        else if (!strcmp(arg, "--max-new")) bad = parse_int(arg, argv[++i], 1, MAX_TOKENS, &a->max_new);
        else if (!strcmp(arg, "--max-seq")) bad = parse_int(arg, argv[++i], 1, 1 << 20, &a->max_seq);
        else if (!strcmp(arg, "--eos")) bad = parse_int(arg, argv[++i], 0, INT32_MAX, &a->eos);
        else if (!strcmp(arg, "--quantize")) {
            const char *f = argv[++i];
            if (!strcmp(f, "int8")) a->quantize = PORTA_WEIGHT_I8C;
            else if (!strcmp(f, "q8_0")) a->quantize = PORTA_WEIGHT_Q8_0;
            else if (!strcmp(f, "bf16")) a->quantize = PORTA_WEIGHT_BF16;
            else {
                fprintf(stderr, "porta generate: --quantize '%s': int8, q8_0 or bf16\n", f);
                return 2;
            }
        } else if (!strcmp(arg, "--dtype")) {
            const char *d = argv[++i];
            if (!strcmp(d, "f32")) a->dtype = PORTA_F32;
            else if (!strcmp(d, "f16")) a->dtype = PORTA_F16;
            else {
                fprintf(stderr, "porta generate: --dtype '%s': f32 or f16\n", d);
                return 2;
            }
        } else if (arg[0] == '-') {
            fprintf(stderr, "porta generate: unknown option '%s'\n", arg);
            usage(stderr);
            return 2;
        } else if (!a->checkpoint) {
            a->checkpoint = arg;
        } else {
            fprintf(stderr, "porta generate: more than one checkpoint ('%s', '%s')\n",
                    a->checkpoint, arg);
            return 2;
        }
        if (bad) return bad;
    }
    if (!a->checkpoint || !a->prompt_text || !a->max_new) {
        fprintf(stderr, "porta generate: %s\n", !a->checkpoint    ? "no checkpoint folder given"
                                                : !a->prompt_text ? "no --prompt-ids given"
                                                                  : "no --max-new given");
        usage(stderr);
        return 2;
    }
    return -1;
}

static void print_ids(const char *label, const int32_t *ids, int count)
{
    printf("%s", label);
    for (int i = 0; i < count; i++) printf("%s%d", i ? "," : " ", ids[i]);
    printf("\n");
}

static int generate(porta_context *context, const generate_args *a, const int32_t *prompt,
                    int n_prompt, const import_result *imported)
{
    porta_graph *graphs[2] = {NULL, NULL};
    porta_weights *weights = NULL;
    porta_device *device = NULL;
    int32_t *out = malloc((size_t)a->max_new * sizeof *out);
    int rc = out ? 0 : 1;
    for (int g = 0; g < 2 && !rc; g++) {
        const char *text = imported->graphs[g].text;
        if (porta_graph_parse(context, text, strlen(text), imported->graphs[g].role, &graphs[g]) ||
            (a->quantize && porta_graph_quantize_weights(graphs[g], a->quantize, NULL)))
            rc = 1;
    }
    if (!rc && (porta_weights_open(context, imported->weights_path, &weights) ||
                porta_device_open(context, a->device ? a->device : "auto", &device)))
        rc = 1;
    if (rc) {
        fprintf(stderr, "porta generate: %s\n", out ? porta_last_error(context) : "out of memory");
    } else {
        char message[1024];
        int count = 0;
        greedy_timing timing;
        porta_status s = greedy_generate(context, device, graphs[0], graphs[1], weights, prompt,
                                         n_prompt, (int)a->max_new, (int32_t)a->eos, out, &count,
                                         &timing, message, sizeof message);
        if (s != PORTA_OK) {
            fprintf(stderr, "porta generate: %s\n", message);
            rc = 1;
        } else {
            const porta_device_desc *desc = porta_device_info(device);
            print_ids("prompt:", prompt, n_prompt);
            print_ids("new:", out, count);
            printf("device %s (%s): %s %s%s%s, cache %d: prompt of %d tokens %.2f ms; %d decode "
                   "steps %.2f ms, %.1f tokens/s\n", desc->id, desc->name, imported->model_type,
                   porta_dtype_name(a->dtype), a->quantize ? " weights " : "",
                   a->quantize ? porta_weight_format_name(a->quantize) : "", imported->max_seq,
                   n_prompt, timing.prefill_ms, timing.decode_steps, timing.decode_ms,
                   timing.decode_steps ? timing.decode_steps / (timing.decode_ms * 1e-3) : 0.0);
            printf("device memory: weights %.2f MiB (one copy for both programs), arenas %.2f "
                   "MiB prefill, %.2f MiB decode step\n", (double)timing.weight_bytes / 1048576.0,
                   (double)timing.prefill_arena_bytes / 1048576.0,
                   (double)timing.decode_arena_bytes / 1048576.0);
        }
    }
    porta_device_close(device);
    porta_weights_close(weights);
    porta_graph_destroy(graphs[0]);
    porta_graph_destroy(graphs[1]);
    free(out);
    return rc;
}

int porta_cmd_generate(int argc, char **argv)
{
    generate_args a = {.eos = -1, .dtype = PORTA_F32};
    int rc = parse_args(argc, argv, &a);
    if (rc >= 0) return rc;
    int32_t *prompt = malloc(MAX_TOKENS * sizeof *prompt);
    int n_prompt = 0;
    if (!prompt) {
        fprintf(stderr, "porta generate: out of memory\n");
        return 1;
    }
    rc = parse_ids(a.prompt_text, prompt, &n_prompt);
    /* the cache holds the prompt and every new token but the last, which is never fed back */
    long slots = a.max_seq ? a.max_seq : n_prompt + a.max_new - 1;
    if (!rc && n_prompt + a.max_new - 1 > slots) {
        fprintf(stderr, "porta generate: a prompt of %d tokens and %ld new ones need %ld cache "
                        "slots; --max-seq is %ld\n", n_prompt, a.max_new,
                n_prompt + a.max_new - 1, slots);
        rc = 1;
    }
    import_result imported;
    memset(&imported, 0, sizeof imported);
    import_options options = {.batch = 1, .max_seq = (int)slots, .dtype = a.dtype};
    if (!rc && porta_import_checkpoint(a.checkpoint, &options, &imported)) {
        fprintf(stderr, "porta generate: %s\n", imported.message);
        rc = 1;
    }
    if (!rc && !imported.decoder) {
        fprintf(stderr, "porta generate: %s is a %s encoder; generation needs a decoder "
                        "(gpt2, llama)\n", a.checkpoint, imported.model_type);
        rc = 1;
    }
    porta_context *context = NULL;
    if (!rc && porta_context_create(&context)) {
        fprintf(stderr, "porta generate: out of memory\n");
        rc = 1;
    }
    if (!rc) rc = generate(context, &a, prompt, n_prompt, &imported);
    porta_import_result_free(&imported);
    porta_context_destroy(context);
    free(prompt);
    return rc;
}
