/* The winners of `porta tune`: for each (kernel family, shape) the variant measured fastest on a
 * device, kept as one entry of the on-disk cache (runtime/cache.h, kind "tune") keyed by the
 * device's backend, vendor, name, driver and API versions, so a driver update starts afresh.
 * The entry is the plan limits' `tuned` text: lines "family key variant". Every program created
 * on the device lowers with it, unless PORTA_TUNE=off. */
#ifndef PORTA_RUNTIME_TUNE_H
#define PORTA_RUNTIME_TUNE_H

#include "graphs/lower/plan.h"
#include "porta.h"

/* The device's stored winners, malloc'd and NUL-terminated; NULL when there are none or the
 * cache is off. */
char *porta_tune_load(porta_device *device);

/* Replaces the device's stored winners. Fails naming the reason when the cache is off or the
 * entry cannot be written. */
porta_status porta_tune_store(porta_device *device, const char *text);

/* porta_program_create with `tuned` (lines as above; NULL: none) in place of the stored
 * winners: porta tune measures each candidate this way. */
porta_status porta_program_create_tuned(porta_device *device, const porta_graph *graph,
                                        uint32_t flags, const char *tuned,
                                        porta_program **out_program);

/* The variant decisions of the program's plan. */
const porta_plan_choice *porta_program_choices(const porta_program *program, int *out_count);
/* The decision step `step` follows (an index into the choices), or -1. */
int porta_program_step_choice(const porta_program *program, int step);

#endif
