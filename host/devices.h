/* The devices a measuring command runs on, and how a report describes one. */
#ifndef PORTA_HOST_DEVICES_H
#define PORTA_HOST_DEVICES_H

#include "porta.h"

#include <cjson/cJSON.h>

/* The devices named by `selectors` (each opened once to resolve it; "all" stands for every
 * device found), in the order given, without repeats; every device found when there are none.
 * Writes up to `max` to `out` and their number to *out_count. On failure prints a message that
 * starts with `command` and names the selector (or that no device was found, with each absent
 * API) to stderr and returns 1. */
int host_select_devices(porta_context *context, const char *command, const char *const *selectors,
                        int n_selectors, porta_device_desc *out, int max, int *out_count);

/* A device's description as a JSON object: id, backend, index, vendor, name, type, versions,
 * memory and limits (the fields of `porta devices --json`). */
cJSON *host_device_json(const porta_device_desc *desc);

#endif
