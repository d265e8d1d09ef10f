/* porta_import_checkpoint: reads config.json, opens the weights, picks the architecture's
 * builder and checks that every graph it writes parses and validates. */
#include "host/import/import_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define CONFIG_LIMIT (16u * 1024u * 1024u)

int import_fail(import_job *job, const char *format, ...)
{
    if (job->failed) return 1;
    va_list args;
    va_start(args, format);
    vsnprintf(job->result->message, sizeof job->result->message, format, args);
    va_end(args);
    job->failed = true;
    return 1;
}

static const cJSON *field_of(import_job *job, const char *field)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(job->config, field);
    return item && !cJSON_IsNull(item) ? item : NULL;
}

static int as_int(import_job *job, const char *field, const cJSON *item, int *out)
{
    double d = item->valuedouble;
    if (!cJSON_IsNumber(item) || d != (double)(int)d || d < 0)
        return import_fail(job, "config.json: \"%s\" is not a non-negative integer", field);
    *out = (int)d;
    return 0;
}

int import_config_int(import_job *job, const char *field, int *out)
{
    const cJSON *item = field_of(job, field);
    if (!item) return import_fail(job, "config.json: \"%s\" is missing", field);
    return as_int(job, field, item, out);
}

int import_config_int_or(import_job *job, const char *field, int fallback, int *out)
{
    const cJSON *item = field_of(job, field);
    if (!item) {
        *out = fallback;
        return 0;
    }
    return as_int(job, field, item, out);
}

int import_config_float_or(import_job *job, const char *field, double fallback, double *out)
{
    const cJSON *item = field_of(job, field);
    if (!item) {
        *out = fallback;
        return 0;
    }
    if (!cJSON_IsNumber(item)) return import_fail(job, "config.json: \"%s\" is not a number", field);
    *out = item->valuedouble;
    return 0;
}

const char *import_config_string(import_job *job, const char *field)
{
    const cJSON *item = field_of(job, field);
    if (!item) return NULL;
    if (!cJSON_IsString(item)) {
        import_fail(job, "config.json: \"%s\" is not a string", field);
        return NULL;
    }
    return item->valuestring;
}

int import_config_refuse(import_job *job, const char *field, const char *allowed, const char *why)
{
    const cJSON *item = field_of(job, field);
    if (!item || cJSON_IsFalse(item)) return 0;
    if (allowed && cJSON_IsString(item) && !strcmp(item->valuestring, allowed)) return 0;
    char *value = cJSON_PrintUnformatted(item);
    import_fail(job, "config.json: \"%s\": %s is not supported: %s", field,
                value ? value : "(a value)", why);
    free(value);
    return 1;
}

static char *read_text(const char *path, char *message, size_t size)
{
    FILE *file = fopen(path, "rb");
    if (!file) {
        snprintf(message, size, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    char *text = malloc(CONFIG_LIMIT + 1);
    size_t length = text ? fread(text, 1, CONFIG_LIMIT + 1, file) : 0;
    fclose(file);
    if (!text || length > CONFIG_LIMIT) {
        snprintf(message, size, "%s: %s", path, text ? "too large" : "out of memory");
        free(text);
        return NULL;
    }
    text[length] = '\0';
    return text;
}

typedef struct family {
    const char *model_type;
    bool decoder;
    int (*build)(import_job *);
    const char *architectures[6];
} family;

static const family families[] = {
    {"bert", false, import_bert, {"BertModel", "BertForMaskedLM", "BertForPreTraining"}},
    {"roberta", false, import_bert, {"RobertaModel", "RobertaForMaskedLM", "XLMRobertaModel"}},
    {"gpt2", true, import_gpt2, {"GPT2LMHeadModel", "GPT2Model"}},
    {"llama", true, import_llama, {"LlamaForCausalLM"}},
};
#define FAMILY_COUNT ((int)(sizeof families / sizeof families[0]))

static const family *pick_family(import_job *job)
{
    const char *type = import_config_string(job, "model_type");
    if (job->failed) return NULL;
    if (!type) {
        import_fail(job, "config.json: \"model_type\" is missing");
        return NULL;
    }
    const family *f = NULL;
    for (int i = 0; i < FAMILY_COUNT; i++)
        if (!strcmp(type, families[i].model_type)) f = &families[i];
    if (!f) {
        import_fail(job, "config.json: \"model_type\": \"%s\" is not one the importer knows "
                    "(bert, roberta, gpt2, llama)", type);
        return NULL;
    }
    snprintf(job->result->model_type, sizeof job->result->model_type, "%s", type);
    const cJSON *list = field_of(job, "architectures"), *item;
    if (list && !cJSON_IsArray(list)) {
        import_fail(job, "config.json: \"architectures\" is not a list");
        return NULL;
    }
    cJSON_ArrayForEach(item, list) {
        bool known = false;
        for (int i = 0; cJSON_IsString(item) && i < 6 && f->architectures[i]; i++)
            known |= !strcmp(item->valuestring, f->architectures[i]);
        if (!known) {
            char *value = cJSON_PrintUnformatted(item);
            char names[256] = "";
            for (int i = 0; i < 6 && f->architectures[i]; i++)
                snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s",
                         i ? ", " : "", f->architectures[i]);
            import_fail(job, "config.json: \"architectures\": %s is not one the importer knows "
                        "for model_type \"%s\" (%s)", value ? value : "(a value)", type, names);
            free(value);
            return NULL;
        }
    }
    return f;
}

/* The path porta_weights_open takes for the checkpoint in `dir`. */
static char *weights_path_of(const char *dir)
{
    static const char *const names[] = {"model.safetensors.index.json", "model.safetensors"};
    for (int i = 0; i < 2; i++) {
        size_t n = strlen(dir) + strlen(names[i]) + 2;
        char *path = malloc(n);
        if (!path) return NULL;
        snprintf(path, n, "%s/%s", dir, names[i]);
        struct stat st;
        if (stat(path, &st) == 0 || i == 1) return path;
        free(path);
    }
    return NULL;
}

/* Every graph must parse and validate: a checkpoint whose shapes disagree with each other in a
 * way the per-tensor checks miss is caught here, named by graph and line. */
static void validate_graphs(import_job *job, porta_context *context)
{
    for (int i = 0; i < job->result->n_graphs && !job->failed; i++) {
        const import_graph *g = &job->result->graphs[i];
        porta_graph *graph = NULL;
        char name[64];
        snprintf(name, sizeof name, "%s.pg", g->role);
        if (porta_graph_parse(context, g->text, strlen(g->text), name, &graph))
            import_fail(job, "the %s graph written for %s does not validate: %s", g->role,
                        job->dir, porta_last_error(context));
        porta_graph_destroy(graph);
    }
}

int porta_import_checkpoint(const char *dir, const import_options *options,
                            import_result *result)
{
    *result = (import_result){0};
    import_job job = {.dir = dir, .result = result};
    if (options) job.options = *options;
    if (job.options.batch <= 0) job.options.batch = 1;
    if (job.options.dtype != PORTA_F16) job.options.dtype = PORTA_F32;

    size_t path_size = strlen(dir) + sizeof "/config.json";
    char *path = malloc(path_size);
    if (!path) {
        snprintf(result->message, sizeof result->message, "out of memory");
        return 1;
    }
    snprintf(path, path_size, "%s/config.json", dir);
    char *text = read_text(path, result->message, sizeof result->message);
    cJSON *config = text ? cJSON_Parse(text) : NULL;
    bool read = text != NULL;
    free(text);
    if (read && !cJSON_IsObject(config))
        snprintf(result->message, sizeof result->message, "%s: not valid JSON, or not an object",
                 path);
    free(path);
    if (!cJSON_IsObject(config)) {
        cJSON_Delete(config);
        return 1;
    }
    job.config = config;
    const family *f = pick_family(&job);
    porta_context *context = NULL;
    if (f && porta_context_create(&context)) import_fail(&job, "out of memory");
    if (!job.failed && !(result->weights_path = weights_path_of(dir)))
        import_fail(&job, "out of memory");
    job.weights_path = result->weights_path;
    if (!job.failed && porta_weights_open(context, result->weights_path, &job.weights))
        import_fail(&job, "%s", porta_last_error(context));
    if (!job.failed && f->decoder && (job.options.pooling || job.options.normalize))
        import_fail(&job, "--pooling and --normalize are for encoders; %s is a decoder",
                    result->model_type);
    if (!job.failed) f->build(&job);
    if (!job.failed) validate_graphs(&job, context);
    free(job.text.data);
    porta_weights_close(job.weights);
    porta_context_destroy(context);
    cJSON_Delete(config);
    return job.failed ? 1 : 0;
}

void porta_import_result_free(import_result *result)
{
    if (!result) return;
    for (int i = 0; i < result->n_graphs; i++) free(result->graphs[i].text);
    free(result->weights_path);
    result->n_graphs = 0;
    result->weights_path = NULL;
}
