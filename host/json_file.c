#include "host/json_file.h"

#include <stdio.h>

int host_write_json(const char *command, const char *path, const cJSON *root)
{
    char *text = cJSON_Print(root);
    FILE *file = text ? fopen(path, "w") : NULL;
    int rc = file && fputs(text, file) >= 0 && fputc('\n', file) != EOF ? 0 : 1;
    if (file && fclose(file) != 0) rc = 1;
    if (rc) fprintf(stderr, "%s: cannot write '%s'\n", command, path);
    cJSON_free(text);
    return rc;
}
