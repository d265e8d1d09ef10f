/* The stored winners of porta tune (runtime/tune.h). */
#include "runtime/tune.h"
#include "runtime/cache.h"
#include "runtime/device.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TUNE_KIND "tune"

static void entry_key(const porta_device *device, char *out, size_t size)
{
    const porta_device_desc *d = &device->desc;
    snprintf(out, size, "porta tune 1|%s|%s|%s|%s|%s", d->backend, d->vendor, d->name,
             d->driver_version, d->api_version);
}

char *porta_tune_load(porta_device *device)
{
    porta_cache cache;
    porta_cache_init(device->context, &cache);
    char key[1024];
    entry_key(device, key, sizeof key);
    void *data;
    size_t size;
    if (!porta_cache_load(device->context, &cache, TUNE_KIND, key, &data, &size)) return NULL;
    char *text = realloc(data, size + 1);
    if (!text) {
        free(data);
        return NULL;
    }
    text[size] = '\0';
    return text;
}

porta_status porta_tune_store(porta_device *device, const char *text)
{
    porta_cache cache;
    porta_cache_init(device->context, &cache);
    if (!cache.dir[0])
        return porta_error(device->context, PORTA_ERROR_UNSUPPORTED,
                           "porta tune: the kernel cache is off (PORTA_CACHE_DIR), so there is "
                           "nowhere to keep tuned variants");
    char key[1024];
    entry_key(device, key, sizeof key);
    porta_cache_store(device->context, &cache, TUNE_KIND, key, text, strlen(text));
    char *back = porta_tune_load(device);
    bool stored = back && !strcmp(back, text);
    free(back);
    if (!stored)
        return porta_error(device->context, PORTA_ERROR_IO,
                           "porta tune: cannot write the tuned variants into the cache at %s",
                           cache.dir);
    return PORTA_OK;
}
