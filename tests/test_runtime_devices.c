/* The device layer: listing every registered backend, selectors, and the absence of an API's
 * library. PORTA_OPENCL_LIBRARY=/nonexistent makes libOpenCL unavailable to a child process: its
 * listing must still work (with the other APIs' devices, if any) and say why OpenCL is absent. */
#include "tests/runtime_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *self_path;

/* Child: lists devices and prints "count=N", one "id=..." line each, then the absent lines. */
static int child(void)
{
    porta_context *context = NULL;
    if (porta_context_create(&context) != PORTA_OK) return 3;
    porta_device_desc descs[RT_MAX_DEVICES];
    int count = -1;
    if (porta_device_list(context, descs, RT_MAX_DEVICES, &count) != PORTA_OK) return 4;
    printf("count=%d\n", count);
    for (int i = 0; i < count && i < RT_MAX_DEVICES; i++) printf("id=%s\n", descs[i].id);
    printf("%s", porta_device_absent(context));
    porta_device *device = (porta_device *)&device;
    porta_status status = porta_device_open(context, "opencl:0", &device);
    printf("open=%s device=%s\n", porta_status_name(status), device ? "set" : "null");
    printf("error=%s\n", porta_last_error(context));
    porta_context_destroy(context);
    return 0;
}

static void test_list(void **state)
{
    rt_devices *all = *state;
    porta_device_desc descs[RT_MAX_DEVICES];
    int count = 0;
    RT_CHECK(all->context, porta_device_list(all->context, descs, RT_MAX_DEVICES, &count));
    assert_int_equal(count, all->count);
    for (int i = 0; i < count && i < RT_MAX_DEVICES; i++) {
        char id[64];
        snprintf(id, sizeof id, "%s:%d", descs[i].backend, descs[i].index);
        assert_string_equal(descs[i].id, id);
        assert_true(descs[i].name[0] != '\0');
        assert_true(descs[i].max_workgroup_size >= 64);
        assert_true(descs[i].max_buffer_bytes > 0 && descs[i].memory_bytes > 0);
    }
    int total = -1;    /* max 0: counts only */
    RT_CHECK(all->context, porta_device_list(all->context, NULL, 0, &total));
    assert_int_equal(total, count);
    assert_int_equal(porta_device_list(all->context, NULL, 3, &total), PORTA_ERROR_INVALID_ARGUMENT);
}

static void test_selectors(void **state)
{
    rt_devices *all = *state;
    porta_device *device = NULL;
    for (int i = 0; i < all->count; i++) {
        const porta_device_desc *want = porta_device_info(all->devices[i]);
        RT_CHECK(all->context, porta_device_open(all->context, want->id, &device));
        assert_string_equal(porta_device_info(device)->id, want->id);
        assert_string_equal(porta_device_info(device)->name, want->name);
        porta_device_close(device);
    }
    /* "auto" and a backend name open something; a name substring matches case-insensitively. */
    RT_CHECK(all->context, porta_device_open(all->context, "auto", &device));
    porta_device_close(device);
    RT_CHECK(all->context, porta_device_open(all->context, NULL, &device));
    porta_device_close(device);
    const porta_device_desc *first = porta_device_info(all->devices[0]);
    RT_CHECK(all->context, porta_device_open(all->context, first->backend, &device));
    porta_device_close(device);
    char upper[256];
    snprintf(upper, sizeof upper, "%s", first->name);
    upper[8] = '\0';
    for (char *p = upper; *p; p++) *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
    RT_CHECK(all->context, porta_device_open(all->context, upper, &device));
    porta_device_close(device);
    device = (porta_device *)&device;
    assert_int_equal(porta_device_open(all->context, "no-such-device-xyz", &device),
                     PORTA_ERROR_NOT_FOUND);
    assert_null(device);
    assert_non_null(strstr(porta_last_error(all->context), "no-such-device-xyz"));
    porta_device_close(NULL);
    assert_null(porta_device_info(NULL));
}

static void test_opencl_absent(void **state)
{
    (void)state;
    const char *args[] = {"--child", NULL};
    const char *env[] = {"PORTA_OPENCL_LIBRARY=/nonexistent/libOpenCL.so.1", NULL};
    char output[8192];
    int rc = rt_run_child(self_path, args, env, output, sizeof output);
    assert_int_equal(rc, 0);
    fprintf(stderr, "%s", output);
    /* The message says which API is absent, which library and why. */
    assert_non_null(strstr(output, "opencl: PORTA_OPENCL_LIBRARY: tried "
                                   "/nonexistent/libOpenCL.so.1 (not found)"));
    /* No OpenCL device is listed; every other registered API still lists its devices. */
    assert_null(strstr(output, "id=opencl:"));
    assert_non_null(strstr(output, "open=PORTA_ERROR_NOT_FOUND device=null"));
    int count = -1;
    assert_int_equal(sscanf(output, "count=%d", &count), 1);
    assert_true(count >= 0);
    if (porta_backend_count() > 1) fprintf(stderr, "other APIs listed %d devices\n", count);
}

int main(int argc, char **argv)
{
    if (argc == 2 && !strcmp(argv[1], "--child")) return child();
    self_path = argv[0];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list),
        cmocka_unit_test(test_selectors),
        cmocka_unit_test(test_opencl_absent),
    };
    return cmocka_run_group_tests_name("runtime_devices", tests, rt_devices_setup, rt_devices_teardown);
}
