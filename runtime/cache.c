#include "runtime/cache.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CACHE_MAGIC "porta-cache-1\n"

uint64_t porta_hash(uint64_t hash, const void *data, size_t size)
{
    const unsigned char *bytes = data;
    for (size_t i = 0; i < size; i++) {
        hash ^= bytes[i];
        hash *= 0x100000001b3ull;
    }
    return hash;
}

/* mkdir -p; true when the directory exists afterwards. */
static bool make_dirs(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        bool ok = mkdir(path, 0755) == 0 || errno == EEXIST;
        *p = '/';
        if (!ok) return false;
    }
    return mkdir(path, 0755) == 0 || errno == EEXIST;
}

void porta_cache_init(porta_context *context, porta_cache *cache)
{
    cache->dir[0] = '\0';
    const char *dir = getenv("PORTA_CACHE_DIR");
    int n;
    if (dir) {
        if (!*dir || !strcmp(dir, "off")) return;
        n = snprintf(cache->dir, sizeof cache->dir, "%s", dir);
    } else if ((dir = getenv("XDG_CACHE_HOME")) && *dir) {
        n = snprintf(cache->dir, sizeof cache->dir, "%s/porta", dir);
    } else if ((dir = getenv("HOME")) && *dir) {
        n = snprintf(cache->dir, sizeof cache->dir, "%s/.cache/porta", dir);
    } else {
        porta_log(context, 1, "cache disabled: neither PORTA_CACHE_DIR, XDG_CACHE_HOME nor HOME is set");
        return;
    }
    if (n < 0 || (size_t)n >= sizeof cache->dir || !make_dirs(cache->dir)) {
        porta_log(context, 1, "cache disabled: cannot create %s", cache->dir);
        cache->dir[0] = '\0';
    }
}

static void entry_path(const porta_cache *cache, const char *kind, const char *key, char *out,
                       size_t size)
{
    uint64_t hash = porta_hash(PORTA_HASH_SEED, key, strlen(key));
    snprintf(out, size, "%s/%s-%016llx.bin", cache->dir, kind, (unsigned long long)hash);
}

bool porta_cache_load(const porta_cache *cache, const char *kind, const char *key, void **out_data,
                      size_t *out_size)
{
    *out_data = NULL;
    *out_size = 0;
    if (!cache->dir[0]) return false;
    char path[1200];
    entry_path(cache, kind, key, path, sizeof path);
    FILE *file = fopen(path, "rb");
    if (!file) return false;
    size_t key_length = strlen(key), magic_length = strlen(CACHE_MAGIC);
    uint64_t header[2];    /* key length, data size */
    char *stored_key = malloc(key_length + 1);
    char magic[32];
    void *data = NULL;
    bool ok = stored_key && fread(magic, 1, magic_length, file) == magic_length &&
              !memcmp(magic, CACHE_MAGIC, magic_length) &&
              fread(header, sizeof header, 1, file) == 1 && header[0] == key_length &&
              fread(stored_key, 1, key_length, file) == key_length &&
              !memcmp(stored_key, key, key_length) && header[1] > 0 && header[1] < (1ull << 31);
    if (ok) {
        data = malloc(header[1]);
        ok = data && fread(data, 1, header[1], file) == header[1] && fgetc(file) == EOF;
    }
    fclose(file);
    free(stored_key);
    if (!ok) {
        free(data);
        return false;
    }
    *out_data = data;
    *out_size = header[1];
    return true;
}

void porta_cache_store(porta_context *context, const porta_cache *cache, const char *kind,
                       const char *key, const void *data, size_t size)
{
    if (!cache->dir[0] || !size) return;
    char path[1200], temporary[1300];
    entry_path(cache, kind, key, path, sizeof path);
    snprintf(temporary, sizeof temporary, "%s.%ld.tmp", path, (long)getpid());
    FILE *file = fopen(temporary, "wb");
    if (!file) {
        porta_log(context, 1, "cache: cannot write %s: %s", temporary, strerror(errno));
        return;
    }
    uint64_t header[2] = {strlen(key), size};
    bool ok = fwrite(CACHE_MAGIC, 1, strlen(CACHE_MAGIC), file) == strlen(CACHE_MAGIC) &&
              fwrite(header, sizeof header, 1, file) == 1 &&
              fwrite(key, 1, header[0], file) == header[0] && fwrite(data, 1, size, file) == size;
    ok = (fclose(file) == 0) && ok;
    if (!ok || rename(temporary, path) != 0) {
        porta_log(context, 1, "cache: cannot store %s", path);
        remove(temporary);
    }
}
