/* Sharded safetensors checkpoints: an index file (`model.safetensors.index.json`, whose
 * "weight_map" names the shard holding each tensor) and its shards, opened as one set of
 * weights. Each shard is checked as a single file is; the set's entries point into the shards'
 * mappings. */
#include "graphs/graph.h"
#include "graphs/weights.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define INDEX_LIMIT (64u * 1024u * 1024u)

static bool ends_with(const char *s, const char *tail)
{
    size_t ls = strlen(s), lt = strlen(tail);
    return ls >= lt && !strcmp(s + ls - lt, tail);
}

static char *join(const char *dir, size_t dir_length, const char *name)
{
    size_t n = dir_length + 1 + strlen(name) + 1;
    char *out = malloc(n);
    if (out) snprintf(out, n, "%.*s%s%s", (int)dir_length, dir, dir_length ? "/" : "", name);
    return out;
}

static porta_status read_index(porta_context *context, const char *path, cJSON **out)
{
    FILE *file = fopen(path, "rb");
    if (!file) return porta_error(context, PORTA_ERROR_IO, "%s: cannot open: %s", path,
                                  strerror(errno));
    char *text = malloc(INDEX_LIMIT + 1);
    size_t length = text ? fread(text, 1, INDEX_LIMIT + 1, file) : 0;
    fclose(file);
    if (!text) return porta_error(context, PORTA_ERROR_OUT_OF_MEMORY, "%s: out of memory", path);
    if (length > INDEX_LIMIT) {
        free(text);
        return porta_error(context, PORTA_ERROR_PARSE, "%s: over the limit of %u bytes", path,
                           INDEX_LIMIT);
    }
    *out = cJSON_ParseWithLength(text, length);
    free(text);
    if (!*out) return porta_error(context, PORTA_ERROR_PARSE, "%s: not valid JSON", path);
    const cJSON *map = cJSON_GetObjectItemCaseSensitive(*out, "weight_map");
    if (!cJSON_IsObject(map)) {
        cJSON_Delete(*out);
        *out = NULL;
        return porta_error(context, PORTA_ERROR_PARSE,
                           "%s: no \"weight_map\" object (an index names each tensor's shard)",
                           path);
    }
    const cJSON *item;
    cJSON_ArrayForEach(item, map)
        if (!cJSON_IsString(item) || !item->valuestring[0] || strchr(item->valuestring, '/')) {
            porta_error(context, PORTA_ERROR_PARSE,
                        "%s: weight_map entry '%s' is not the file name of a shard", path,
                        item->string);
            cJSON_Delete(*out);
            *out = NULL;
            return PORTA_ERROR_PARSE;
        }
    return PORTA_OK;
}

static int compare_entries(const void *a, const void *b)
{
    return strcmp(((const weight_entry *)a)->name, ((const weight_entry *)b)->name);
}

static const porta_weights *shard_named(const porta_weights *set, const char *name)
{
    for (int i = 0; i < set->n_shards; i++) {
        const char *slash = strrchr(set->shards[i]->path, '/');
        if (!strcmp(slash ? slash + 1 : set->shards[i]->path, name)) return set->shards[i];
    }
    return NULL;
}

/* Opens every shard the index names once, in the order first named. */
static porta_status open_shards(porta_weights *set, const char *path, const cJSON *map)
{
    const char *slash = strrchr(path, '/');
    size_t dir_length = slash ? (size_t)(slash - path) : 0;
    int named = cJSON_GetArraySize(map);
    if (!(set->shards = calloc((size_t)(named ? named : 1), sizeof *set->shards)))
        return porta_error(set->context, PORTA_ERROR_OUT_OF_MEMORY, "%s: out of memory", path);
    const cJSON *item;
    cJSON_ArrayForEach(item, map) {
        if (shard_named(set, item->valuestring)) continue;
        char *shard_path = join(path, dir_length, item->valuestring);
        if (!shard_path)
            return porta_error(set->context, PORTA_ERROR_OUT_OF_MEMORY, "%s: out of memory", path);
        porta_status status = weights_open_file(set->context, shard_path,
                                                &set->shards[set->n_shards]);
        if (status != PORTA_OK) {
            char message[PORTA_ERROR_MAX];
            snprintf(message, sizeof message, "%s", porta_last_error(set->context));
            porta_error(set->context, status, "%s names shard '%s' for tensor '%s': %s", path,
                        item->valuestring, item->string, message);
        }
        free(shard_path);
        if (status != PORTA_OK) return status;
        set->n_shards++;
    }
    return PORTA_OK;
}

/* Moves every shard's entries into the set, then checks each against the index. */
static porta_status merge_entries(porta_weights *set, const char *path, const cJSON *map)
{
    int total = 0;
    for (int i = 0; i < set->n_shards; i++) total += set->shards[i]->n_entries;
    if (total && !(set->entries = calloc((size_t)total, sizeof *set->entries)))
        return porta_error(set->context, PORTA_ERROR_OUT_OF_MEMORY, "%s: out of memory", path);
    for (int i = 0; i < set->n_shards; i++) {
        porta_weights *shard = set->shards[i];
        if (shard->n_entries)
            memcpy(set->entries + set->n_entries, shard->entries,
                   (size_t)shard->n_entries * sizeof *shard->entries);
        set->n_entries += shard->n_entries;
        free(shard->entries);
        shard->entries = NULL;
        shard->n_entries = 0;
    }
    if (set->n_entries > 1)
        qsort(set->entries, (size_t)set->n_entries, sizeof *set->entries, compare_entries);
    for (int i = 1; i < set->n_entries; i++)
        if (!strcmp(set->entries[i - 1].name, set->entries[i].name))
            return porta_error(set->context, PORTA_ERROR_PARSE,
                               "%s: tensor '%s' is in more than one shard", path,
                               set->entries[i].name);
    const cJSON *item;
    cJSON_ArrayForEach(item, map) {
        int found = porta_weights_find(set, item->string);
        const porta_weights *shard = shard_named(set, item->valuestring);
        if (found < 0 || !shard || set->entries[found].data != shard->data)
            return porta_error(set->context, PORTA_ERROR_PARSE,
                               "%s: tensor '%s' is not in its shard '%s'", path, item->string,
                               item->valuestring);
    }
    return PORTA_OK;
}

static porta_status open_index(porta_context *context, const char *path, porta_weights **out)
{
    cJSON *index = NULL;
    porta_status status = read_index(context, path, &index);
    if (status != PORTA_OK) return status;
    porta_weights *set = calloc(1, sizeof *set);
    if (!set || !(set->path = porta_strdup(path))) {
        free(set);
        cJSON_Delete(index);
        return porta_error(context, PORTA_ERROR_OUT_OF_MEMORY, "%s: out of memory", path);
    }
    set->context = context;
    set->serial = ++context->weights_opened;
    const cJSON *map = cJSON_GetObjectItemCaseSensitive(index, "weight_map");
    status = open_shards(set, path, map);
    if (status == PORTA_OK) status = merge_entries(set, path, map);
    cJSON_Delete(index);
    if (status != PORTA_OK) {
        porta_weights_close(set);
        return status;
    }
    porta_log(context, PORTA_LOG_INFO, "%s: %d tensors in %d shards", path, set->n_entries,
              set->n_shards);
    *out = set;
    return PORTA_OK;
}

porta_status weights_open_checkpoint(porta_context *context, const char *path,
                                     porta_weights **out)
{
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        static const char *const names[] = {"model.safetensors.index.json", "model.safetensors"};
        for (int i = 0; i < 2; i++) {
            char *inside = join(path, strlen(path), names[i]);
            if (!inside) return porta_error(context, PORTA_ERROR_OUT_OF_MEMORY, "out of memory");
            porta_status status = PORTA_ERROR_NOT_FOUND;
            if (stat(inside, &st) == 0)
                status = i == 0 ? open_index(context, inside, out)
                                : weights_open_file(context, inside, out);
            free(inside);
            if (status != PORTA_ERROR_NOT_FOUND) return status;
        }
        return porta_error(context, PORTA_ERROR_IO,
                           "%s: is a directory, not a file, and holds neither "
                           "model.safetensors.index.json nor model.safetensors", path);
    }
    if (ends_with(path, ".json")) return open_index(context, path, out);
    return weights_open_file(context, path, out);
}
