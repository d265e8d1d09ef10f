/* The on-disk cache of compiled kernels (OpenCL program binaries, the Vulkan pipeline cache).
 *
 * Location: $PORTA_CACHE_DIR if set ("off" or "" disables caching), else $XDG_CACHE_HOME/porta,
 * else $HOME/.cache/porta. An entry is keyed by a text that names everything its content depends
 * on (source, build options, device, driver version, platform); the file name is a hash of the key
 * and the file starts with the whole key, checked on load, so a driver update or a source change
 * misses instead of loading a stale binary. The header also holds a format version, the key's
 * hash and a checksum of the data, all verified before any byte reaches a driver; an entry that
 * fails a check is a miss (logged) and is removed, so the rebuild replaces it. Writes go to a
 * temporary file with a name unique to the process and thread, renamed into place, so a reader
 * never sees half an entry; temporaries left by a killed writer are removed when the cache is
 * opened. */
#ifndef PORTA_RUNTIME_CACHE_H
#define PORTA_RUNTIME_CACHE_H

#include "graphs/context.h"

typedef struct porta_cache {
    char dir[1024];        /* "" when disabled */
} porta_cache;

/* Resolves the directory from the environment and creates it; a cache that cannot be created is
 * disabled (logged), never an error. */
void porta_cache_init(porta_context *context, porta_cache *cache);

/* 64-bit FNV-1a of `size` bytes, continued from `hash` (start with PORTA_HASH_SEED). */
#define PORTA_HASH_SEED 0xcbf29ce484222325ull
uint64_t porta_hash(uint64_t hash, const void *data, size_t size);

/* Loads the entry for `key` into a malloc'd buffer. Returns false on a miss (no file, a different
 * key or format, a short file, a checksum mismatch); a bad entry is logged and removed. */
bool porta_cache_load(porta_context *context, const porta_cache *cache, const char *kind,
                      const char *key, void **out_data, size_t *out_size);
/* Removes an entry that passed its checks but that the driver rejected (logged with `why`). */
void porta_cache_discard(porta_context *context, const porta_cache *cache, const char *kind,
                         const char *key, const char *why);
/* Stores the entry atomically; failures are logged and otherwise ignored (a cache is optional). */
void porta_cache_store(porta_context *context, const porta_cache *cache, const char *kind,
                       const char *key, const void *data, size_t size);

#endif
