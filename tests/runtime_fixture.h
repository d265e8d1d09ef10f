/* Shared by the runtime suites: every device of every registered backend, opened once per suite,
 * and a way to run this test binary again as a child process with a changed environment. */
#ifndef PORTA_TESTS_RUNTIME_FIXTURE_H
#define PORTA_TESTS_RUNTIME_FIXTURE_H

#include "runtime/device.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#define RT_MAX_DEVICES 16

typedef struct rt_devices {
    porta_context *context;
    int count;
    porta_device *devices[RT_MAX_DEVICES];
} rt_devices;

/* Opens every listed device (cmocka group setup / teardown; *state becomes an rt_devices). A
 * machine with no device at all fails the setup, so a suite never passes vacuously. */
int rt_devices_setup(void **state);
int rt_devices_teardown(void **state);

/* Fails the test with the context's message when `status` is not PORTA_OK. */
#define RT_CHECK(context, status)                                                          \
    do {                                                                                   \
        porta_status rt_status_ = (status);                                                \
        if (rt_status_ != PORTA_OK)                                                        \
            fail_msg("%s: %s", porta_status_name(rt_status_), porta_last_error(context));  \
    } while (0)

/* Fails the test unless `got` is `want` and the context's message contains `words`. */
void rt_expect_error(porta_context *context, porta_status got, porta_status want,
                     const char *words);

/* Runs `self` with `args` (NULL-terminated, after argv[0]) and the extra `env` entries
 * ("NAME=value", NULL-terminated). Captures its stdout into `out`
 * (NUL-terminated, truncated to size). Returns the exit status, or -1 when it did not exit. */
int rt_run_child(const char *self, const char *const *args, const char *const *env, char *out,
                 size_t size);

/* A fresh empty directory under /tmp (mkdtemp); `out` holds its path. */
void rt_temp_dir(char *out, size_t size);
/* rm -r of a directory holding files only. */
void rt_remove_dir(const char *path);

#endif
