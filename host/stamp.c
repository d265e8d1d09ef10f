#include "host/stamp.h"

#include "build_commit.h"

#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

/* The value of `key` in a "key: value" or KEY="value" file (/proc/cpuinfo, /etc/os-release). */
static void read_field(const char *path, const char *key, char separator, char *out, size_t size)
{
    out[0] = '\0';
    FILE *file = fopen(path, "r");
    if (!file) return;
    char line[1024];
    size_t n = strlen(key);
    while (fgets(line, sizeof line, file)) {
        if (strncmp(line, key, n)) continue;
        const char *value = line + n;
        while (*value == ' ' || *value == '\t') value++;
        if (*value != separator) continue;
        value++;
        while (*value == ' ' || *value == '"') value++;
        snprintf(out, size, "%s", value);
        size_t end = strlen(out);
        while (end > 0 && (out[end - 1] == '\n' || out[end - 1] == '"')) out[--end] = '\0';
        break;
    }
    fclose(file);
}

void host_stamp(cJSON *root, const char *kind, int argc, char **argv)
{
    cJSON_AddStringToObject(root, "schema", HOST_RESULTS_SCHEMA);
    cJSON_AddNumberToObject(root, "schema_version", HOST_RESULTS_SCHEMA_VERSION);
    cJSON_AddStringToObject(root, "kind", kind);
    char created[32] = "";
    time_t now = time(NULL);
    struct tm utc;
    if (gmtime_r(&now, &utc)) strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &utc);
    cJSON_AddStringToObject(root, "created", created);

    cJSON *porta = cJSON_AddObjectToObject(root, "porta");
    cJSON_AddStringToObject(porta, "version", porta_version());
    cJSON_AddStringToObject(porta, "commit", PORTA_BUILD_COMMIT);

    cJSON *host = cJSON_AddObjectToObject(root, "host");
    char text[512];
    if (gethostname(text, sizeof text) != 0) text[0] = '\0';
    text[sizeof text - 1] = '\0';
    cJSON_AddStringToObject(host, "hostname", text);
    struct utsname system;
    bool named = uname(&system) == 0;
    read_field("/etc/os-release", "PRETTY_NAME", '=', text, sizeof text);
    cJSON_AddStringToObject(host, "os", text[0] ? text : named ? system.sysname : "");
    if (named) snprintf(text, sizeof text, "%s %s", system.sysname, system.release);
    cJSON_AddStringToObject(host, "kernel", named ? text : "");
    cJSON_AddStringToObject(host, "machine", named ? system.machine : "");
    read_field("/proc/cpuinfo", "model name", ':', text, sizeof text);
    cJSON_AddStringToObject(host, "cpu", text);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    cJSON_AddNumberToObject(host, "cores", cores > 0 ? (double)cores : 0);

    cJSON *command = cJSON_AddArrayToObject(root, "command_line");
    cJSON_AddItemToArray(command, cJSON_CreateString("porta"));
    for (int i = 0; i < argc; i++) cJSON_AddItemToArray(command, cJSON_CreateString(argv[i]));
}

void host_device_key(const porta_device_desc *desc, char *out, size_t size)
{
    snprintf(out, size, "%s / %s / %s", desc->vendor, desc->name, desc->driver_version);
}
