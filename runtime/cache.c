#include "runtime/cache.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Version 2 added the key's hash and the data's checksum to the header. */
#define CACHE_MAGIC "porta-cache-2\n"
#define CACHE_MAGIC_LENGTH (sizeof CACHE_MAGIC - 1)
/* A temporary this old was left by a process that died between write and rename. */
#define STALE_TEMPORARY_SECONDS (10 * 60)

/* The fields after the magic, in the host's byte order (a cache is per machine). */
typedef struct entry_header {
    uint64_t key_length;
    uint64_t data_size;
    uint64_t key_hash;
    uint64_t data_checksum;
} entry_header;

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

/* Temporaries are named ENTRY.PID.SERIAL.tmp. One is stale when its process is gone or it is older
 * than any write takes; removing a live writer's file only costs that writer its entry. */
static bool temporary_is_stale(const char *dir, const char *name, time_t now)
{
    size_t length = strlen(name);
    if (length < 5 || strcmp(name + length - 4, ".tmp")) return false;
    char path[1400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    struct stat info;
    if (stat(path, &info) != 0 || !S_ISREG(info.st_mode)) return false;
    if (now - info.st_mtime > STALE_TEMPORARY_SECONDS) return true;
    /* The pid is the field after ".bin." */
    const char *bin = strstr(name, ".bin.");
    if (!bin) return false;
    char *end;
    long pid = strtol(bin + 5, &end, 10);
    if (end == bin + 5 || *end != '.' || pid <= 0) return false;
    return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

static void remove_stale_temporaries(porta_context *context, const char *dir)
{
    DIR *listing = opendir(dir);
    if (!listing) return;
    time_t now = time(NULL);
    struct dirent *item;
    while ((item = readdir(listing)) != NULL) {
        if (!temporary_is_stale(dir, item->d_name, now)) continue;
        char path[1400];
        snprintf(path, sizeof path, "%s/%s", dir, item->d_name);
        if (remove(path) == 0) porta_log(context, PORTA_LOG_DEBUG, "cache: removed stale temporary %s", path);
    }
    closedir(listing);
}

void porta_cache_init(porta_context *context, porta_cache *cache)
{
    cache->dir[0] = '\0';
    const char *dir = context && context->cache_dir_given ? context->cache_dir
                                                          : getenv("PORTA_CACHE_DIR");
    int n;
    if (context && context->cache_dir_given && !*dir) return;
    if (dir) {
        if (!*dir || !strcmp(dir, "off")) return;
        n = snprintf(cache->dir, sizeof cache->dir, "%s", dir);
    } else if ((dir = getenv("XDG_CACHE_HOME")) && *dir) {
        n = snprintf(cache->dir, sizeof cache->dir, "%s/porta", dir);
    } else if ((dir = getenv("HOME")) && *dir) {
        n = snprintf(cache->dir, sizeof cache->dir, "%s/.cache/porta", dir);
    } else {
        porta_log(context, PORTA_LOG_WARNING, "cache disabled: neither PORTA_CACHE_DIR, XDG_CACHE_HOME nor HOME is set");
        return;
    }
    if (n < 0 || (size_t)n >= sizeof cache->dir || !make_dirs(cache->dir)) {
        porta_log(context, PORTA_LOG_WARNING, "cache disabled: cannot create %s: %s", cache->dir, strerror(errno));
        cache->dir[0] = '\0';
        return;
    }
    remove_stale_temporaries(context, cache->dir);
}

static uint64_t key_hash(const char *key)
{
    return porta_hash(PORTA_HASH_SEED, key, strlen(key));
}

static void entry_path(const porta_cache *cache, const char *kind, const char *key, char *out,
                       size_t size)
{
    snprintf(out, size, "%s/%s-%016llx.bin", cache->dir, kind, (unsigned long long)key_hash(key));
}

/* Reads and checks an entry; NULL (with `why` set) unless every check passes. */
static void *read_entry(FILE *file, const char *key, size_t *out_size, const char **why)
{
    size_t key_length = strlen(key);
    char magic[CACHE_MAGIC_LENGTH];
    entry_header header;
    if (fread(magic, 1, sizeof magic, file) != sizeof magic ||
        fread(&header, sizeof header, 1, file) != 1) {
        *why = "truncated header";
        return NULL;
    }
    if (memcmp(magic, CACHE_MAGIC, sizeof magic)) {
        *why = "not a porta cache entry of this format version";
        return NULL;
    }
    if (header.key_length != key_length || header.key_hash != key_hash(key)) {
        *why = "written for another key";
        return NULL;
    }
    if (header.data_size == 0 || header.data_size >= (1ull << 31)) {
        *why = "bad data size";
        return NULL;
    }
    char *stored_key = malloc(key_length + 1);
    void *data = malloc(header.data_size);
    bool ok = stored_key && data;
    *why = "out of memory";
    if (ok) {
        ok = fread(stored_key, 1, key_length, file) == key_length &&
             fread(data, 1, header.data_size, file) == header.data_size;
        *why = "truncated";
    }
    if (ok) {
        ok = fgetc(file) == EOF;
        *why = "trailing bytes";
    }
    if (ok) {
        ok = !memcmp(stored_key, key, key_length);
        *why = "written for another key";
    }
    if (ok) {
        ok = porta_hash(PORTA_HASH_SEED, data, header.data_size) == header.data_checksum;
        *why = "checksum mismatch";
    }
    free(stored_key);
    if (!ok) {
        free(data);
        return NULL;
    }
    *out_size = header.data_size;
    return data;
}

bool porta_cache_load(porta_context *context, const porta_cache *cache, const char *kind,
                      const char *key, void **out_data, size_t *out_size)
{
    *out_data = NULL;
    *out_size = 0;
    if (!cache->dir[0]) return false;
    char path[1200];
    entry_path(cache, kind, key, path, sizeof path);
    FILE *file = fopen(path, "rb");
    if (!file) return false;
    const char *why = "";
    void *data = read_entry(file, key, out_size, &why);
    fclose(file);
    if (!data) {
        /* Removed now so that nothing can hand it to a driver; the rebuild stores a good one. */
        porta_log(context, PORTA_LOG_WARNING, "cache: entry %s discarded (%s); rebuilding it", path, why);
        remove(path);
        return false;
    }
    *out_data = data;
    return true;
}

void porta_cache_discard(porta_context *context, const porta_cache *cache, const char *kind,
                         const char *key, const char *why)
{
    if (!cache->dir[0]) return;
    char path[1200];
    entry_path(cache, kind, key, path, sizeof path);
    porta_log(context, PORTA_LOG_WARNING, "cache: entry %s discarded (%s); rebuilding it", path, why);
    remove(path);
}

void porta_cache_store(porta_context *context, const porta_cache *cache, const char *kind,
                       const char *key, const void *data, size_t size)
{
    if (!cache->dir[0] || !size) return;
    /* pid + a process-wide serial + the clock: unique across processes and threads. */
    static atomic_ulong serial;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    char path[1200], temporary[1300];
    entry_path(cache, kind, key, path, sizeof path);
    snprintf(temporary, sizeof temporary, "%s.%ld.%lu-%lx.tmp", path, (long)getpid(),
             atomic_fetch_add(&serial, 1), (unsigned long)now.tv_nsec);
    FILE *file = fopen(temporary, "wb");
    if (!file) {
        porta_log(context, PORTA_LOG_WARNING, "cache: cannot write %s: %s", temporary, strerror(errno));
        return;
    }
    entry_header header = {strlen(key), size, key_hash(key),
                           porta_hash(PORTA_HASH_SEED, data, size)};
    bool ok = fwrite(CACHE_MAGIC, 1, CACHE_MAGIC_LENGTH, file) == CACHE_MAGIC_LENGTH &&
              fwrite(&header, sizeof header, 1, file) == 1 &&
              fwrite(key, 1, header.key_length, file) == header.key_length &&
              fwrite(data, 1, size, file) == size;
    int write_error = ok ? 0 : errno;
    if (fclose(file) != 0 && ok) {
        ok = false;
        write_error = errno;
    }
    if (ok && rename(temporary, path) != 0) {
        ok = false;
        write_error = errno;
    }
    if (!ok) {
        porta_log(context, PORTA_LOG_WARNING, "cache: cannot store %s: %s", path, strerror(write_error));
        remove(temporary);
    }
}
