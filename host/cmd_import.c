/* `porta import`: a Hugging Face checkpoint folder to .pg graphs (host/import/). An encoder
 * becomes the file OUT; a decoder the folder OUT with prefill.pg and decode.pg. */
#include "host/commands.h"
#include "host/import/import.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void usage(FILE *out)
{
    fprintf(out,
            "usage: porta import CHECKPOINT_DIR -o OUT [--batch B] [--max-seq S] [--dtype f32|f16]\n"
            "                    [--pooling mean|cls|none] [--normalize]\n"
            "\n"
            "Reads config.json and model.safetensors (or model.safetensors.index.json and its\n"
            "shards) and writes .pg graphs whose weights are the checkpoint's tensors, bound by\n"
            "their names. BERT and RoBERTa encoders: one graph, written to OUT. GPT-2 and Llama\n"
            "decoders: OUT is a folder (created) holding prefill.pg and decode.pg.\n"
            "\n"
            "  -o, --out OUT     where the graph (encoders) or graphs (decoders) go\n"
            "  --batch B         batch size (default 1)\n"
            "  --max-seq S       sequence length (encoders) or cache length (decoders); default\n"
            "                    the config's max_position_embeddings, at most 512\n"
            "  --dtype D         f32 (default) or f16: the weights' and activations' dtype\n"
            "  --pooling P       encoders: also output `pooled`, the mean over unmasked tokens\n"
            "                    (mean) or the first token (cls); default none\n"
            "  --normalize       encoders, with --pooling: also output `normalized`, pooled\n"
            "                    scaled to unit length\n"
            "  --help            this text\n");
}

static int parse_count(const char *option, const char *text, int *out)
{
    char *end;
    long n = strtol(text, &end, 10);
    if (end == text || *end || n < 1 || n > 1000000) {
        fprintf(stderr, "porta import: %s '%s' is not a count in 1..1000000\n", option, text);
        return 2;
    }
    *out = (int)n;
    return 0;
}

static int write_file(const char *path, const char *text)
{
    FILE *file = fopen(path, "w");
    bool ok = file && fputs(text, file) >= 0;
    if (file && fclose(file)) ok = false;
    if (!ok) fprintf(stderr, "porta import: cannot write '%s': %s\n", path, strerror(errno));
    return ok ? 0 : 1;
}

static int write_result(const import_result *r, const char *out)
{
    if (!r->decoder) {
        if (write_file(out, r->graphs[0].text)) return 1;
        printf("%s: %s encoder, batch %d, %d tokens\n", out, r->model_type, r->batch, r->max_seq);
    } else {
        if (mkdir(out, 0777) && errno != EEXIST) {
            fprintf(stderr, "porta import: cannot create '%s': %s\n", out, strerror(errno));
            return 1;
        }
        for (int i = 0; i < r->n_graphs; i++) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s.pg", out, r->graphs[i].role);
            if (write_file(path, r->graphs[i].text)) return 1;
            printf("%s\n", path);
        }
        printf("%s: %s decoder, batch %d, %d cache slots, %d layers, %d K/V heads of %d\n", out,
               r->model_type, r->batch, r->max_seq, r->layers, r->kv_heads, r->head_dim);
    }
    printf("weights: %s\n", r->weights_path);
    return 0;
}

int porta_cmd_import(int argc, char **argv)
{
    const char *dir = NULL, *out = NULL;
    import_options options = {.dtype = PORTA_F32};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        }
        bool takes_value = !strcmp(a, "-o") || !strcmp(a, "--out") || !strcmp(a, "--batch") ||
                           !strcmp(a, "--max-seq") || !strcmp(a, "--dtype") ||
                           !strcmp(a, "--pooling");
        if (takes_value && i + 1 >= argc) {
            fprintf(stderr, "porta import: %s needs a value\n", a);
            return 2;
        }
        if (!strcmp(a, "-o") || !strcmp(a, "--out")) {
            out = argv[++i];
        } else if (!strcmp(a, "--batch")) {
            if (parse_count(a, argv[++i], &options.batch)) return 2;
        } else if (!strcmp(a, "--max-seq")) {
            if (parse_count(a, argv[++i], &options.max_seq)) return 2;
        } else if (!strcmp(a, "--dtype")) {
            const char *d = argv[++i];
            if (!strcmp(d, "f32")) options.dtype = PORTA_F32;
            else if (!strcmp(d, "f16")) options.dtype = PORTA_F16;
            else {
                fprintf(stderr, "porta import: --dtype '%s' is not f32 or f16\n", d);
                return 2;
            }
        } else if (!strcmp(a, "--pooling")) {
            const char *p = argv[++i];
            if (!strcmp(p, "mean")) options.pooling = IMPORT_POOLING_MEAN;
            else if (!strcmp(p, "cls")) options.pooling = IMPORT_POOLING_CLS;
            else if (!strcmp(p, "none")) options.pooling = IMPORT_POOLING_NONE;
            else {
                fprintf(stderr, "porta import: --pooling '%s' is not mean, cls or none\n", p);
                return 2;
            }
        } else if (!strcmp(a, "--normalize")) {
            options.normalize = true;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "porta import: unknown option '%s'\n", a);
            return 2;
        } else if (!dir) {
            dir = a;
        } else {
            fprintf(stderr, "porta import: more than one checkpoint folder ('%s', '%s')\n", dir, a);
            return 2;
        }
    }
    if (!dir || !out) {
        fprintf(stderr, "porta import: %s\n", !dir ? "no checkpoint folder given" : "no -o OUT given");
        usage(stderr);
        return 2;
    }
    import_result result;
    int rc = porta_import_checkpoint(dir, &options, &result);
    if (rc) fprintf(stderr, "porta import: %s\n", result.message);
    else rc = write_result(&result, out);
    porta_import_result_free(&result);
    return rc;
}
