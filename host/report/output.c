/* Names and files of the report's outputs. */
#include "host/report/report.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void report_file_stem(const char *name, char *out, size_t size)
{
    size_t n = 0;
    for (; name[n] && n + 1 < size; n++) {
        char c = name[n];
        bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
        out[n] = keep ? c : '-';
    }
    out[n] = '\0';
}

void report_chart_name(const char *kind, const char *name, char *out, size_t size)
{
    char stem[128] = "";
    if (name) report_file_stem(name, stem, sizeof stem);
    snprintf(out, size, "%s%s%s.svg", kind, name ? "-" : "", stem);
}

void report_device_caption(const report_device *device, char *out, size_t size)
{
    snprintf(out, size, "%s %.48s [%s]", device->label, device->name, device->backend);
}

FILE *report_open(const char *dir, const char *name)
{
    size_t size = strlen(dir) + strlen(name) + 2;
    char *path = malloc(size);
    if (!path) {
        fprintf(stderr, "porta report: out of memory\n");
        return NULL;
    }
    snprintf(path, size, "%s/%s", dir, name);
    FILE *file = fopen(path, "w");
    if (!file) fprintf(stderr, "porta report: cannot write '%s': %s\n", path, strerror(errno));
    free(path);
    return file;
}

int report_close(FILE *file, const char *dir, const char *name)
{
    bool bad = ferror(file);
    if (fclose(file) != 0) bad = true;
    if (bad) fprintf(stderr, "porta report: cannot write '%s/%s'\n", dir, name);
    return bad;
}
