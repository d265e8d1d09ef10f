/* Context options through the API: struct_size versioning, the log callback and its levels, the
 * backends list and its order, and the cache folder (which wins over the environment). */
#include "porta.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct log_record {
    int count;
    porta_log_level levels[64];
    char last[1200];
    char all[8192];
} log_record;

static void record_log(void *user, porta_log_level level, const char *message)
{
    log_record *log = user;
    if (log->count < 64) log->levels[log->count] = level;
    log->count++;
    snprintf(log->last, sizeof log->last, "%s", message);
    size_t used = strlen(log->all);
    snprintf(log->all + used, sizeof log->all - used, "%d %s\n", (int)level, message);
}

static const char *bad_graph = "graph g\ninput x : f32[4]\ny = relu(nope)\noutput y\n";

static void test_struct_size(void **state)
{
    (void)state;
    porta_context *context = (porta_context *)&context;
    porta_context_options options = PORTA_CONTEXT_OPTIONS_INIT;
    assert_int_equal(options.struct_size, sizeof options);
    options.struct_size = 0;
    assert_int_equal(porta_context_create_with(&options, &context), PORTA_ERROR_INVALID_ARGUMENT);
    assert_null(context);

    /* A struct from a newer header than the library: refused, and said through its callback. */
    log_record log = {0};
    options = (porta_context_options)PORTA_CONTEXT_OPTIONS_INIT;
    options.struct_size = sizeof options + 16;
    options.log_callback = record_log;
    options.log_user = &log;
    assert_int_equal(porta_context_create_with(&options, &context), PORTA_ERROR_INVALID_ARGUMENT);
    assert_null(context);
    assert_int_equal(log.count, 1);
    assert_int_equal(log.levels[0], PORTA_LOG_ERROR);
    assert_non_null(strstr(log.last, "struct_size is larger"));

    /* A struct from an older header, which ends before `backends`: that field is never read. */
    options = (porta_context_options)PORTA_CONTEXT_OPTIONS_INIT;
    options.struct_size = offsetof(porta_context_options, backends);
    options.backends = "no-such-api";
    assert_int_equal(porta_context_create_with(&options, &context), PORTA_OK);
    assert_non_null(context);
    porta_context_destroy(context);

    assert_int_equal(porta_context_create_with(NULL, &context), PORTA_OK);
    porta_context_destroy(context);
    assert_int_equal(porta_context_create_with(NULL, NULL), PORTA_ERROR_INVALID_ARGUMENT);
}

static void test_unknown_backend(void **state)
{
    (void)state;
    log_record log = {0};
    porta_context_options options = PORTA_CONTEXT_OPTIONS_INIT;
    options.backends = "opencl, metal";
    options.log_callback = record_log;
    options.log_user = &log;
    porta_context *context = NULL;
    assert_int_equal(porta_context_create_with(&options, &context), PORTA_ERROR_INVALID_ARGUMENT);
    assert_null(context);
    assert_non_null(strstr(log.last, "unknown backend 'metal'"));
}

static void test_log_callback(void **state)
{
    (void)state;
    unsetenv("PORTA_LOG");
    log_record log = {0};
    porta_context_options options = PORTA_CONTEXT_OPTIONS_INIT;
    options.log_callback = record_log;
    options.log_user = &log;
    porta_context *context = NULL;

    /* No level asked and no PORTA_LOG: nothing is logged. */
    assert_int_equal(porta_context_create_with(&options, &context), PORTA_OK);
    porta_graph *graph = NULL;
    assert_int_equal(porta_graph_parse(context, bad_graph, strlen(bad_graph), "bad.pg", &graph),
                     PORTA_ERROR_INVALID_GRAPH);
    assert_int_equal(log.count, 0);
    porta_context_destroy(context);

    /* PORTA_LOG is the default level. */
    setenv("PORTA_LOG", "error", 1);
    assert_int_equal(porta_context_create_with(&options, &context), PORTA_OK);
    unsetenv("PORTA_LOG");
    assert_int_equal(porta_graph_parse(context, bad_graph, strlen(bad_graph), "bad.pg", &graph),
                     PORTA_ERROR_INVALID_GRAPH);
    assert_int_equal(log.count, 1);
    assert_int_equal(log.levels[0], PORTA_LOG_ERROR);
    /* the failed call's own message, as porta_last_error gives it */
    assert_non_null(strstr(log.last, porta_last_error(context)));
    assert_non_null(strstr(log.last, "bad.pg:3:"));
    porta_context_destroy(context);

    /* The option wins over the environment; debug includes every level above it. */
    setenv("PORTA_LOG", "off", 1);
    memset(&log, 0, sizeof log);
    options.log_level = PORTA_LOG_DEBUG;
    assert_int_equal(porta_context_create_with(&options, &context), PORTA_OK);
    unsetenv("PORTA_LOG");
    porta_device_desc descs[32];
    int count = 0;
    assert_int_equal(porta_device_list(context, descs, 32, &count), PORTA_OK);
    assert_int_equal(porta_graph_parse(context, bad_graph, strlen(bad_graph), "bad.pg", &graph),
                     PORTA_ERROR_INVALID_GRAPH);
    assert_true(log.count >= 1);
    assert_int_equal(log.levels[(log.count - 1) % 64], PORTA_LOG_ERROR);
    if (count > 0) {
        porta_device *device = NULL;
        assert_int_equal(porta_device_open(context, descs[0].id, &device), PORTA_OK);
        porta_device_close(device);
        /* opening a device is logged at info */
        bool info = false;
        for (int i = 0; i < log.count && i < 64; i++) info |= log.levels[i] == PORTA_LOG_INFO;
        assert_true(info);
    }
    porta_context_destroy(context);
}

static int list_ids(const char *backends, porta_device_desc *descs, int max, char *absent,
                    size_t absent_size)
{
    porta_context_options options = PORTA_CONTEXT_OPTIONS_INIT;
    options.backends = backends;
    porta_context *context = NULL;
    assert_int_equal(porta_context_create_with(&options, &context), PORTA_OK);
    int count = 0;
    assert_int_equal(porta_device_list(context, descs, max, &count), PORTA_OK);
    snprintf(absent, absent_size, "%s", porta_device_absent(context));
    porta_context_destroy(context);
    return count < max ? count : max;
}

static void test_backends(void **state)
{
    (void)state;
    porta_device_desc descs[32];
    char absent[2048];
    int n_opencl = list_ids("opencl", descs, 32, absent, sizeof absent);
    for (int i = 0; i < n_opencl; i++) assert_string_equal(descs[i].backend, "opencl");
    assert_null(strstr(absent, "vulkan"));   /* Vulkan was not even loaded */

    int n_vulkan = list_ids("vulkan", descs, 32, absent, sizeof absent);
    for (int i = 0; i < n_vulkan; i++) assert_string_equal(descs[i].backend, "vulkan");
    assert_null(strstr(absent, "opencl"));

    /* The list's order is the listing's order. */
    int n = list_ids("opencl,vulkan", descs, 32, absent, sizeof absent);
    assert_int_equal(n, n_opencl + n_vulkan);
    for (int i = 0; i < n; i++)
        assert_string_equal(descs[i].backend, i < n_opencl ? "opencl" : "vulkan");
    n = list_ids("vulkan,opencl", descs, 32, absent, sizeof absent);
    assert_int_equal(n, n_opencl + n_vulkan);
    for (int i = 0; i < n; i++)
        assert_string_equal(descs[i].backend, i < n_vulkan ? "vulkan" : "opencl");
    printf("opencl devices: %d, vulkan devices: %d\n", n_opencl, n_vulkan);
    assert_true(n > 0);     /* a machine with no device would pass the rest vacuously */
}

static int files_in(const char *dir)
{
    DIR *listing = opendir(dir);
    if (!listing) return -1;
    int n = 0;
    struct dirent *item;
    while ((item = readdir(listing)) != NULL) n += item->d_name[0] != '.';
    closedir(listing);
    return n;
}

static void remove_tree(const char *dir)
{
    char command[1200];
    snprintf(command, sizeof command, "rm -rf '%s'", dir);
    assert_int_equal(system(command), 0);
}

/* Compiles a small graph on the first device of `backends` with the given cache option. */
static void compile_once(const char *backends, const char *cache_dir)
{
    porta_context_options options = PORTA_CONTEXT_OPTIONS_INIT;
    options.backends = backends;
    options.cache_dir = cache_dir;
    porta_context *context = NULL;
    assert_int_equal(porta_context_create_with(&options, &context), PORTA_OK);
    porta_device *device = NULL;
    if (porta_device_open(context, backends, &device) != PORTA_OK)
        fail_msg("%s", porta_last_error(context));
    const char *text = "graph g\ninput x : f32[64]\ny = gelu(scale(x, s=3))\noutput y\n";
    porta_graph *graph = NULL;
    assert_int_equal(porta_graph_parse(context, text, strlen(text), "g.pg", &graph), PORTA_OK);
    porta_program *program = NULL;
    if (porta_program_create(device, graph, 0, &program) != PORTA_OK)
        fail_msg("%s", porta_last_error(context));
    porta_program_destroy(program);
    porta_graph_destroy(graph);
    porta_device_close(device);
    porta_context_destroy(context);
}

static void test_cache_dir(void **state)
{
    (void)state;
    char option_dir[] = "/tmp/porta-cache-option-XXXXXX";
    char env_dir[] = "/tmp/porta-cache-env-XXXXXX";
    assert_non_null(mkdtemp(option_dir));
    assert_non_null(mkdtemp(env_dir));
    char *saved = getenv("PORTA_CACHE_DIR") ? strdup(getenv("PORTA_CACHE_DIR")) : NULL;
    setenv("PORTA_CACHE_DIR", env_dir, 1);
    char nested[1100];
    snprintf(nested, sizeof nested, "%s/made/by/porta", option_dir);
    const char *apis[] = {"opencl", "vulkan"};
    int tried = 0;
    for (int a = 0; a < 2; a++) {
        porta_device_desc descs[32];
        char absent[2048];
        if (list_ids(apis[a], descs, 32, absent, sizeof absent) == 0) continue;
        tried++;
        /* The option's folder (made if missing) gets the compiled kernels, not the variable's. */
        compile_once(apis[a], nested);
        assert_true(files_in(nested) > 0);
        assert_int_equal(files_in(env_dir), 0);
        /* "" keeps no cache at all, whatever the environment says. */
        remove_tree(nested);
        compile_once(apis[a], "");
        assert_int_equal(files_in(env_dir), 0);
        assert_int_equal(files_in(nested), -1);
    }
    assert_true(tried > 0);
    if (saved) setenv("PORTA_CACHE_DIR", saved, 1);
    else unsetenv("PORTA_CACHE_DIR");
    free(saved);
    remove_tree(option_dir);
    remove_tree(env_dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_struct_size),
        cmocka_unit_test(test_unknown_backend),
        cmocka_unit_test(test_log_callback),
        cmocka_unit_test(test_backends),
        cmocka_unit_test(test_cache_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
