#include "host/devices.h"
#include "host/stamp.h"

#include <stdio.h>
#include <string.h>

/* Appends `desc` unless a device with its id is already there. */
static void add_unique(const porta_device_desc *desc, porta_device_desc *out, int max, int *count)
{
    for (int i = 0; i < *count; i++)
        if (!strcmp(out[i].id, desc->id)) return;
    if (*count < max) out[(*count)++] = *desc;
}

int host_select_devices(porta_context *context, const char *command, const char *const *selectors,
                        int n_selectors, porta_device_desc *out, int max, int *out_count)
{
    porta_device_desc found[64];
    int n_found = 0;
    if (porta_device_list(context, found, 64, &n_found)) n_found = 0;
    if (n_found > 64) n_found = 64;
    *out_count = 0;
    for (int s = 0; s < n_selectors; s++) {
        if (!strcmp(selectors[s], "all")) {
            for (int i = 0; i < n_found; i++) add_unique(&found[i], out, max, out_count);
            continue;
        }
        porta_device *device;
        if (porta_device_open(context, selectors[s], &device)) {
            fprintf(stderr, "%s: --device '%s': %s\n", command, selectors[s],
                    porta_last_error(context));
            const char *absent = porta_device_absent(context);
            if (absent && *absent) fprintf(stderr, "%s", absent);
            return 1;
        }
        add_unique(porta_device_info(device), out, max, out_count);
        porta_device_close(device);
    }
    if (!n_selectors)
        for (int i = 0; i < n_found; i++) add_unique(&found[i], out, max, out_count);
    if (!*out_count) {
        fprintf(stderr, "%s: no OpenCL or Vulkan device found\n%s", command,
                porta_device_absent(context));
        return 1;
    }
    return 0;
}

cJSON *host_device_json(const porta_device_desc *d)
{
    cJSON *entry = cJSON_CreateObject();
    cJSON_AddStringToObject(entry, "id", d->id);
    char key[600];
    host_device_key(d, key, sizeof key);
    cJSON_AddStringToObject(entry, "key", key);
    cJSON_AddStringToObject(entry, "backend", d->backend);
    cJSON_AddNumberToObject(entry, "index", d->index);
    cJSON_AddStringToObject(entry, "vendor", d->vendor);
    cJSON_AddStringToObject(entry, "name", d->name);
    cJSON_AddStringToObject(entry, "type", porta_device_type_name(d->type));
    cJSON_AddStringToObject(entry, "driver_version", d->driver_version);
    cJSON_AddStringToObject(entry, "api_version", d->api_version);
    cJSON_AddNumberToObject(entry, "memory_bytes", (double)d->memory_bytes);
    cJSON_AddNumberToObject(entry, "max_workgroup_size", d->max_workgroup_size);
    cJSON_AddNumberToObject(entry, "shared_memory_bytes", (double)d->shared_memory_bytes);
    cJSON_AddNumberToObject(entry, "subgroup_size", d->subgroup_size);
    cJSON_AddBoolToObject(entry, "fp16", d->fp16);
    cJSON_AddBoolToObject(entry, "timestamps", d->timestamps);
    cJSON_AddNumberToObject(entry, "max_buffer_bytes", (double)d->max_buffer_bytes);
    return entry;
}
