/* What every JSON file porta writes says about where it came from, so that results of many
 * machines can be told apart and merged: porta's version and commit, the host, the command line,
 * and a stable key per device. */
#ifndef PORTA_HOST_STAMP_H
#define PORTA_HOST_STAMP_H

#include "porta.h"

#include <cjson/cJSON.h>

/* The results' schema: its version changes whenever a field changes meaning or is removed. */
#define HOST_RESULTS_SCHEMA "porta-results"
#define HOST_RESULTS_SCHEMA_VERSION 1

/* Adds "schema", "schema_version", "kind" (the command: "compare", "bench", "devices"),
 * "created" (UTC, ISO 8601), "porta" {version, commit}, "host" {hostname, os, kernel, machine,
 * cpu, cores} and "command_line" ("porta" and the command's argv, which starts with its name) to
 * `root`. */
void host_stamp(cJSON *root, const char *kind, int argc, char **argv);

/* "vendor / name / driver version": the same device on every machine with the same driver has
 * the same key, whatever index its API gives it there. */
void host_device_key(const porta_device_desc *desc, char *out, size_t size);

#endif
