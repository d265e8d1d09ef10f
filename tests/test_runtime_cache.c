/* The on-disk kernel cache across processes, on every device of every registered backend: a
 * first child process with an empty PORTA_CACHE_DIR compiles every kernel from source; a second
 * child with the same directory compiles none and loads them all. Counted, not timed: the child
 * prints its device's porta_cache_stats. */
#include "tests/runtime_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *self_path;

/* Child: opens `selector`, creates the four kernels, prints "built=B loaded=L reused=R". */
static int child(const char *selector)
{
    porta_context *context = NULL;
    porta_device *device = NULL;
    if (porta_context_create(&context) != PORTA_OK) return 3;
    if (porta_device_open(context, selector, &device) != PORTA_OK) {
        fprintf(stderr, "%s\n", porta_last_error(context));
        return 4;
    }
    const porta_kernel_source *sources[] = {&porta_kernel_fill, &porta_kernel_copy,
                                            &porta_kernel_add, &porta_kernel_softmax_rows};
    for (size_t i = 0; i < sizeof sources / sizeof sources[0]; i++) {
        porta_kernel_config config = {.local_size = {64, 1, 1}};
        config.n_constants = sources[i]->n_constants;
        config.constants[0] = 64;
        porta_backend_kernel *kernel = NULL;
        if (device->backend->kernel_create(device->device, sources[i], &config, &kernel) != PORTA_OK) {
            fprintf(stderr, "%s\n", porta_last_error(context));
            return 5;
        }
        device->backend->kernel_destroy(kernel);
    }
    porta_cache_stats stats;
    porta_device_cache_stats(device, &stats);
    printf("built=%llu loaded=%llu reused=%llu\n", (unsigned long long)stats.built,
           (unsigned long long)stats.loaded, (unsigned long long)stats.reused);
    porta_device_close(device);
    porta_context_destroy(context);
    return 0;
}

static void run(const char *selector, const char *cache_env, porta_cache_stats *out)
{
    const char *args[] = {"--child", selector, NULL};
    const char *env[] = {cache_env, NULL};
    char output[512];
    int rc = rt_run_child(self_path, args, env, output, sizeof output);
    if (rc != 0) fail_msg("%s: child exited with %d", selector, rc);
    unsigned long long built, loaded, reused;
    if (sscanf(output, "built=%llu loaded=%llu reused=%llu", &built, &loaded, &reused) != 3)
        fail_msg("%s: unexpected child output '%s'", selector, output);
    *out = (porta_cache_stats){built, loaded, reused};
}

static void test_second_process_builds_nothing(void **state)
{
    rt_devices *all = *state;
    char dir[256], cache_env[300];
    rt_temp_dir(dir, sizeof dir);
    assert_true(dir[0] != '\0');
    snprintf(cache_env, sizeof cache_env, "PORTA_CACHE_DIR=%s", dir);
    for (int d = 0; d < all->count; d++) {
        const char *id = all->devices[d]->desc.id;
        /* OpenCL programs are built from source or loaded as binaries; a Vulkan pipeline is
         * always created from SPIR-V (its on-disk pipeline cache is tested by the vulkan suite). */
        if (all->devices[d]->backend->api != PORTA_API_OPENCL) {
            fprintf(stderr, "%s: not OpenCL, program binaries do not apply\n", id);
            continue;
        }
        porta_cache_stats first, second;
        run(id, cache_env, &first);
        run(id, cache_env, &second);
        fprintf(stderr, "%s: first process built %llu loaded %llu; second built %llu loaded %llu\n",
                id, (unsigned long long)first.built, (unsigned long long)first.loaded,
                (unsigned long long)second.built, (unsigned long long)second.loaded);
        assert_int_equal(first.built, 4);
        assert_int_equal(first.loaded, 0);
        assert_int_equal(second.built, 0);
        assert_int_equal(second.loaded, 4);
    }
    rt_remove_dir(dir);
}

static void test_cache_off(void **state)
{
    rt_devices *all = *state;
    for (int d = 0; d < all->count; d++) {
        porta_cache_stats first, second;
        run(all->devices[d]->desc.id, "PORTA_CACHE_DIR=off", &first);
        run(all->devices[d]->desc.id, "PORTA_CACHE_DIR=off", &second);
        assert_int_equal(second.built, 4);
        assert_int_equal(second.loaded, 0);
        (void)first;
    }
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "--child")) return child(argv[2]);
    self_path = argv[0];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_second_process_builds_nothing),
        cmocka_unit_test(test_cache_off),
    };
    return cmocka_run_group_tests_name("runtime_cache", tests, rt_devices_setup, rt_devices_teardown);
}
