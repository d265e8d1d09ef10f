/* Buffers on every device of every registered backend: round trips from 1 byte to 64 MiB with
 * odd sizes, partial transfers at odd offsets, and the errors for sizes a device refuses. */
#include "tests/runtime_fixture.h"

#include <stdlib.h>
#include <string.h>

static void pattern(uint8_t *data, size_t size, uint32_t seed)
{
    uint32_t x = seed * 2654435761u + 1u;
    for (size_t i = 0; i < size; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        data[i] = (uint8_t)x;
    }
}

static void test_round_trips(void **state)
{
    rt_devices *all = *state;
    static const size_t sizes[] = {1, 2, 3, 7, 13, 255, 4097, 65537, 1000003,
                                   (64u << 20) - 3, 64u << 20};
    size_t largest = sizes[sizeof sizes / sizeof sizes[0] - 1];
    uint8_t *in = malloc(largest), *out = malloc(largest);
    assert_non_null(in);
    assert_non_null(out);
    for (int d = 0; d < all->count; d++) {
        porta_device *device = all->devices[d];
        const porta_backend *be = device->backend;
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            size_t size = sizes[s];
            porta_backend_buffer *buffer = NULL;
            RT_CHECK(all->context, be->buffer_create(device->device, size, &buffer));
            pattern(in, size, (uint32_t)(s + 1));
            memset(out, 0xA5, size);
            RT_CHECK(all->context, be->buffer_upload(buffer, 0, in, size));
            RT_CHECK(all->context, be->buffer_download(buffer, 0, out, size));
            if (memcmp(in, out, size))
                fail_msg("%s: round trip of %zu bytes differs", device->desc.id, size);
            /* A partial write at an odd offset leaves the bytes around it alone. */
            if (size >= 13) {
                size_t offset = size / 3 | 1, length = size / 5 | 1;
                uint8_t patch[4096];
                if (length > sizeof patch) length = sizeof patch;
                pattern(patch, length, 99);
                RT_CHECK(all->context, be->buffer_upload(buffer, offset, patch, length));
                memcpy(in + offset, patch, length);
                RT_CHECK(all->context, be->buffer_download(buffer, 0, out, size));
                if (memcmp(in, out, size))
                    fail_msg("%s: partial write of %zu at %zu in %zu bytes", device->desc.id,
                             length, offset, size);
                RT_CHECK(all->context, be->buffer_download(buffer, offset, out, length));
                assert_memory_equal(out, patch, length);
            }
            be->buffer_destroy(buffer);
        }
    }
    free(in);
    free(out);
}

static void test_refused_sizes(void **state)
{
    rt_devices *all = *state;
    for (int d = 0; d < all->count; d++) {
        porta_device *device = all->devices[d];
        const porta_backend *be = device->backend;
        porta_backend_buffer *buffer = (porta_backend_buffer *)&buffer;
        /* Larger than the device's largest single buffer: a clear error naming the limit (a
         * limit of the device, not a lack of free memory, so PORTA_ERROR_UNSUPPORTED). */
        porta_status status = be->buffer_create(device->device, device->desc.max_buffer_bytes + 1,
                                                &buffer);
        assert_int_equal(status, PORTA_ERROR_UNSUPPORTED);
        assert_null(buffer);
        assert_non_null(strstr(porta_last_error(all->context), "exceeds"));
        /* Zero bytes, and transfers outside the buffer. */
        assert_int_equal(be->buffer_create(device->device, 0, &buffer), PORTA_ERROR_INVALID_ARGUMENT);
        RT_CHECK(all->context, be->buffer_create(device->device, 100, &buffer));
        uint8_t bytes[101] = {0};
        assert_int_equal(be->buffer_upload(buffer, 0, bytes, 101), PORTA_ERROR_INVALID_ARGUMENT);
        assert_int_equal(be->buffer_upload(buffer, 99, bytes, 2), PORTA_ERROR_INVALID_ARGUMENT);
        assert_int_equal(be->buffer_download(buffer, 101, bytes, 0), PORTA_ERROR_INVALID_ARGUMENT);
        assert_non_null(strstr(porta_last_error(all->context), "overruns"));
        RT_CHECK(all->context, be->buffer_upload(buffer, 99, bytes, 1));
        be->buffer_destroy(buffer);
        be->buffer_destroy(NULL);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_refused_sizes),
    };
    return cmocka_run_group_tests_name("runtime_memory", tests, rt_devices_setup, rt_devices_teardown);
}
