/* `porta devices [--json]`: every device of every API, and a line for each absent API. */
#include "host/commands.h"
#include "host/devices.h"
#include "host/stamp.h"
#include "porta.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LISTED 64

static void print_bytes(char *out, size_t size, uint64_t bytes)
{
    if (bytes >= (1ull << 30) && bytes % (1ull << 30) == 0)
        snprintf(out, size, "%llu GiB", (unsigned long long)(bytes >> 30));
    else if (bytes >= (1ull << 30))
        snprintf(out, size, "%.1f GiB", (double)bytes / (double)(1ull << 30));
    else if (bytes >= (1ull << 20))
        snprintf(out, size, "%.1f MiB", (double)bytes / (double)(1ull << 20));
    else if (bytes >= 1024)
        snprintf(out, size, "%llu KiB", (unsigned long long)(bytes >> 10));
    else
        snprintf(out, size, "%llu B", (unsigned long long)bytes);
}

static void print_text(const porta_device_desc *descs, int count, const char *absent)
{
    for (int i = 0; i < count; i++) {
        const porta_device_desc *d = &descs[i];
        char memory[32], shared[32], buffer[32];
        print_bytes(memory, sizeof memory, d->memory_bytes);
        print_bytes(shared, sizeof shared, d->shared_memory_bytes);
        print_bytes(buffer, sizeof buffer, d->max_buffer_bytes);
        printf("%s\n", d->id);
        printf("  backend          %s, index %d (%s)\n", d->backend, d->index, d->api_version);
        printf("  vendor           %s\n", d->vendor);
        printf("  name             %s\n", d->name);
        printf("  type             %s\n", porta_device_type_name(d->type));
        printf("  driver version   %s\n", d->driver_version);
        printf("  memory           %s\n", memory);
        printf("  max work-group   %u\n", d->max_workgroup_size);
        printf("  shared memory    %s\n", shared);
        if (d->subgroup_size)
            printf("  subgroup size    %u\n", d->subgroup_size);
        else
            printf("  subgroup size    none\n");
        printf("  fp16             %s\n", d->fp16 ? "yes" : "no");
        printf("  max buffer       %s\n", buffer);
    }
    if (count == 0) printf("no devices found\n");
    /* One line per absent API: "absent: opencl: libOpenCL.so.1 not found (dlopen: ...)". */
    for (const char *line = absent; *line;) {
        size_t n = strcspn(line, "\n");
        printf("absent: %.*s\n", (int)n, line);
        line += n;
        if (*line == '\n') line++;
    }
}

static char *to_json(const porta_device_desc *descs, int count, const char *absent, int argc,
                     char **argv)
{
    cJSON *root = cJSON_CreateObject();
    host_stamp(root, "devices", argc, argv);
    cJSON *devices = cJSON_AddArrayToObject(root, "devices");
    for (int i = 0; i < count; i++) {
        const porta_device_desc *d = &descs[i];
        cJSON *entry = host_device_json(d);
        cJSON_AddItemToArray(devices, entry);
    }
    cJSON *missing = cJSON_AddArrayToObject(root, "absent");
    for (const char *line = absent; *line;) {
        size_t n = strcspn(line, "\n");
        char text[1100];
        snprintf(text, sizeof text, "%.*s", (int)(n < 1000 ? n : 1000), line);
        cJSON_AddItemToArray(missing, cJSON_CreateString(text));
        line += n;
        if (*line == '\n') line++;
    }
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    return text;
}

int porta_cmd_devices(int argc, char **argv)
{
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) {
            json = true;
        } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: porta devices [--json]\n\n"
                   "Lists every OpenCL and Vulkan device found: id (a --device selector), backend\n"
                   "and index, vendor, name, type, driver version, memory, max work-group size,\n"
                   "shared memory, subgroup size, fp16, max single buffer; and a line for each API\n"
                   "whose library is absent. --json prints the same as JSON on stdout.\n");
            return 0;
        } else {
            fprintf(stderr, "porta devices: unknown argument '%s' (try --help)\n", argv[i]);
            return 2;
        }
    }
    porta_context *context = NULL;
    if (porta_context_create(&context) != PORTA_OK) {
        fprintf(stderr, "porta devices: out of memory\n");
        return 1;
    }
    porta_device_desc descs[MAX_LISTED];
    int count = 0;
    porta_status status = porta_device_list(context, descs, MAX_LISTED, &count);
    if (status != PORTA_OK) {
        fprintf(stderr, "porta devices: %s\n", porta_last_error(context));
        porta_context_destroy(context);
        return 1;
    }
    if (count > MAX_LISTED) count = MAX_LISTED;
    int rc = 0;
    if (json) {
        char *text = to_json(descs, count, porta_device_absent(context), argc, argv);
        if (text) {
            printf("%s\n", text);
            cJSON_free(text);
        } else {
            fprintf(stderr, "porta devices: out of memory\n");
            rc = 1;
        }
    } else {
        print_text(descs, count, porta_device_absent(context));
    }
    porta_context_destroy(context);
    return rc;
}
