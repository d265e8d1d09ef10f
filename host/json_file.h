/* Writing a command's JSON report to a file. */
#ifndef PORTA_HOST_JSON_FILE_H
#define PORTA_HOST_JSON_FILE_H

#include <cjson/cJSON.h>

/* Prints `root` to `path` (then a newline); on failure prints "COMMAND: cannot write 'PATH'" to
 * stderr and returns 1, else 0. `root` stays the caller's. */
int host_write_json(const char *command, const char *path, const cJSON *root);

#endif
