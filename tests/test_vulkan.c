/* The Vulkan backend on every Vulkan device found: buffers, sub-allocation, the four kernels
 * against host values computed in double, dependent chains, re-submission, profiling, the
 * pipeline cache, and the absence of libvulkan. Every test ends by asserting that the validation
 * layer (PORTA_VULKAN_VALIDATION=1 in tests/meson.build) reported nothing.
 *
 * Tolerances, stated once:
 *   fill, copy   exact (bit-equal)
 *   add          exact: IEEE single addition is correctly rounded, so got == (float)((double)a + b)
 *   softmax_rows |got - ref| <= SOFTMAX_REL * ref + SOFTMAX_ABS, ref in double */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "runtime/backend.h"
#include "runtime/vulkan/inspect.h"

#define SOFTMAX_REL 1e-5
#define SOFTMAX_ABS 1e-7
#define MAX_DEVICES 8

static const porta_backend *vk;
static porta_context *ctx;
static int n_devices;
static porta_device_caps caps[MAX_DEVICES];

/* ---- helpers ------------------------------------------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint32_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}
static float uniform(float lo, float hi) { return lo + (hi - lo) * (float)(rng() % 1000000) / 1e6f; }

#define CHECK(call) \
    do { \
        porta_status status_ = (call); \
        if (status_ != PORTA_OK) fail_msg("%s: %s: %s", #call, porta_status_name(status_), \
                                          porta_last_error(ctx)); \
    } while (0)

static porta_backend_device *open_device(int index)
{
    porta_backend_device *device = NULL;
    CHECK(vk->device_open(ctx, index, &device));
    return device;
}

/* Zero validation messages, then close. */
static void close_clean(porta_backend_device *device)
{
    const char *first = "";
    uint64_t n = vk->validation_messages(device, &first);
    if (n) fprintf(stderr, "validation: %llu messages; first: %s\n", (unsigned long long)n, first);
    assert_int_equal(n, 0);
    vk->device_close(device);
}

static porta_backend_buffer *make_buffer(porta_backend_device *device, uint64_t bytes)
{
    porta_backend_buffer *buffer = NULL;
    CHECK(vk->buffer_create(device, bytes, &buffer));
    return buffer;
}

static porta_backend_kernel *make_kernel(porta_backend_device *device,
                                         const porta_kernel_source *source, uint32_t local,
                                         int n_constants, const int32_t *constants)
{
    porta_kernel_config config = {.local_size = {local, 1, 1}, .n_constants = n_constants};
    for (int i = 0; i < n_constants; i++) config.constants[i] = constants[i];
    porta_backend_kernel *kernel = NULL;
    CHECK(vk->kernel_create(device, source, &config, &kernel));
    return kernel;
}

static porta_dispatch dispatch(porta_backend_kernel *kernel, int n_buffers,
                               porta_backend_buffer *const *buffers, const void *params,
                               uint32_t param_bytes, uint32_t groups)
{
    porta_dispatch d = {.kernel = kernel, .n_bindings = n_buffers, .param_bytes = param_bytes,
                        .groups = {groups, 1, 1}};
    for (int b = 0; b < n_buffers; b++) d.bindings[b].buffer = buffers[b];
    memcpy(d.params, params, param_bytes);
    return d;
}

static void run_once(porta_backend_device *device, const porta_dispatch *dispatches, int n)
{
    porta_backend_sequence *sequence = NULL;
    CHECK(vk->sequence_create(device, dispatches, n, false, &sequence));
    CHECK(porta_sequence_run(vk, sequence));
    vk->sequence_destroy(sequence);
}

static uint32_t groups_for(uint32_t n, uint32_t local) { return (n + local - 1) / local; }

static int no_devices(void)
{
    if (n_devices) return 0;
    printf("note: no Vulkan device found; device tests skipped\n");
    return 1;
}

/* ---- tests --------------------------------------------------------------------------------- */

static void test_absent_library(void **state)
{
    (void)state;
    const char *saved = getenv("PORTA_VULKAN_LIBRARY");
    char *restore = saved ? strdup(saved) : NULL;
    setenv("PORTA_VULKAN_LIBRARY", "/nonexistent/libvulkan.so.1", 1);
    porta_context *c = NULL;
    assert_int_equal(porta_context_create(&c), PORTA_OK);
    porta_device_caps found[2];
    int count = 7;
    assert_int_equal(vk->enumerate(c, found, 2, &count), PORTA_ERROR_UNSUPPORTED);
    assert_int_equal(count, 0);
    const char *message = porta_last_error(c);
    printf("absent: %s\n", message);
    assert_non_null(strstr(message, "vulkan: PORTA_VULKAN_LIBRARY: tried "
                                    "/nonexistent/libvulkan.so.1 (not found)"));
    porta_backend_device *device = (porta_backend_device *)&count;
    assert_int_equal(vk->device_open(c, 0, &device), PORTA_ERROR_UNSUPPORTED);
    assert_null(device);
    porta_context_destroy(c);
    if (restore) setenv("PORTA_VULKAN_LIBRARY", restore, 1);
    else unsetenv("PORTA_VULKAN_LIBRARY");
    free(restore);
}

/* Validation asked for where the layer cannot be found: a clear error, no crash. */
static void test_validation_layer_missing(void **state)
{
    (void)state;
    if (no_devices()) return;
    const char *saved_path = getenv("VK_LAYER_PATH"), *saved_switch = getenv("PORTA_VULKAN_VALIDATION");
    char *restore_path = saved_path ? strdup(saved_path) : NULL;
    char *restore_switch = saved_switch ? strdup(saved_switch) : NULL;
    setenv("VK_LAYER_PATH", "/nonexistent", 1);
    setenv("PORTA_VULKAN_VALIDATION", "1", 1);
    porta_context *c = NULL;
    assert_int_equal(porta_context_create(&c), PORTA_OK);
    int count = 7;
    porta_status status = vk->enumerate(c, NULL, 0, &count);
    printf("layer missing: %s\n", porta_last_error(c));
    assert_int_equal(status, PORTA_ERROR_UNSUPPORTED);
    assert_int_equal(count, 0);
    assert_non_null(strstr(porta_last_error(c), "VK_LAYER_KHRONOS_validation"));
    porta_context_destroy(c);
    if (restore_path) setenv("VK_LAYER_PATH", restore_path, 1);
    else unsetenv("VK_LAYER_PATH");
    if (restore_switch) setenv("PORTA_VULKAN_VALIDATION", restore_switch, 1);
    else unsetenv("PORTA_VULKAN_VALIDATION");
    free(restore_path);
    free(restore_switch);
}

static void test_caps(void **state)
{
    (void)state;
    if (no_devices()) return;
    for (int i = 0; i < n_devices; i++) {
        const porta_device_caps *c = &caps[i];
        printf("device %d: %s (%s), %s, %s; buffer %llu, wg %u [%u %u %u], shared %llu, "
               "subgroup %u, fp16 %d, timestamps %d, align %u\n", i, c->name, c->vendor,
               c->driver_version, c->api_version, (unsigned long long)c->max_buffer_bytes,
               c->max_workgroup_size, c->max_workgroup_dims[0], c->max_workgroup_dims[1],
               c->max_workgroup_dims[2], (unsigned long long)c->shared_memory_bytes,
               c->subgroup_size, c->fp16, c->timestamps, c->buffer_alignment);
        assert_true(c->name[0] && c->vendor[0] && c->driver_version[0]);
        assert_true(c->max_buffer_bytes > 0 && c->max_workgroup_size >= 64);
        assert_true(c->shared_memory_bytes >= 16384 && c->buffer_alignment > 0);
        porta_backend_device *device = open_device(i);
        assert_string_equal(vk->device_caps(device)->name, c->name);
        close_clean(device);
    }
}

static void round_trip(porta_backend_device *device, uint64_t bytes)
{
    unsigned char *data = malloc(bytes), *back = malloc(bytes);
    assert_non_null(data);
    assert_non_null(back);
    for (uint64_t i = 0; i < bytes; i++) data[i] = (unsigned char)(rng() >> 3);
    porta_backend_buffer *buffer = make_buffer(device, bytes);
    CHECK(vk->buffer_upload(buffer, 0, data, bytes));
    memset(back, 0, bytes);
    CHECK(vk->buffer_download(buffer, 0, back, bytes));
    assert_memory_equal(data, back, bytes);
    if (bytes > 10) {
        /* An odd-offset partial write and read. */
        uint64_t offset = bytes / 3 | 1, n = bytes / 2 - 1;
        for (uint64_t i = 0; i < n; i++) data[offset + i] = (unsigned char)~data[offset + i];
        CHECK(vk->buffer_upload(buffer, offset, data + offset, n));
        CHECK(vk->buffer_download(buffer, offset - 1, back, n + 2));
        assert_memory_equal(data + offset - 1, back, n + 2);
    }
    /* Past the end is refused. */
    assert_int_equal(vk->buffer_download(buffer, bytes, back, 1), PORTA_ERROR_INVALID_ARGUMENT);
    vk->buffer_destroy(buffer);
    free(data);
    free(back);
}

static void test_buffer_round_trips(void **state)
{
    (void)state;
    if (no_devices()) return;
    static const uint64_t sizes[] = {1, 3, 17, 4097, 65537, (1u << 20) + 13, (16u << 20) + 5,
                                     64u << 20};
    for (int i = 0; i < n_devices; i++) {
        porta_backend_device *device = open_device(i);
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) round_trip(device, sizes[s]);
        close_clean(device);
    }
}

static void test_suballocation(void **state)
{
    (void)state;
    if (no_devices()) return;
    enum { N = 300 };
    for (int i = 0; i < n_devices; i++) {
        porta_backend_device *device = open_device(i);
        porta_backend_buffer *buffers[N];
        for (int b = 0; b < N; b++) {
            uint32_t words = 1 + (uint32_t)b * 7;
            buffers[b] = make_buffer(device, words * 4);
            uint32_t *data = malloc(words * 4);
            for (uint32_t w = 0; w < words; w++) data[w] = (uint32_t)b * 100000u + w;
            CHECK(vk->buffer_upload(buffers[b], 0, data, words * 4));
            free(data);
        }
        porta_vulkan_stats stats;
        porta_vulkan_device_stats(device, &stats);
        printf("device %d: %u buffers in %u block(s) of %llu bytes, %u allocations\n", i,
               stats.buffers, stats.memory_blocks, (unsigned long long)stats.memory_block_bytes,
               stats.memory_allocations);
        assert_int_equal(stats.buffers, N);
        assert_int_equal(stats.memory_blocks, 1);
        assert_int_equal(stats.memory_allocations, 2);   /* one block + the staging buffer */
        /* Each buffer kept its own contents. */
        for (int b = 0; b < N; b += 7) {
            uint32_t words = 1 + (uint32_t)b * 7;
            uint32_t *data = malloc(words * 4);
            CHECK(vk->buffer_download(buffers[b], 0, data, words * 4));
            for (uint32_t w = 0; w < words; w++) assert_int_equal(data[w], (uint32_t)b * 100000u + w);
            free(data);
        }
        /* Freed ranges are reused: free every other buffer and allocate them again. */
        for (int b = 0; b < N; b += 2) vk->buffer_destroy(buffers[b]);
        for (int b = 0; b < N; b += 2) buffers[b] = make_buffer(device, (1 + (uint32_t)b * 7) * 4);
        porta_vulkan_device_stats(device, &stats);
        assert_int_equal(stats.memory_blocks, 1);

        /* Larger than the default block but within the range: a block of its own. */
        uint64_t range = caps[i].max_buffer_bytes;
        uint64_t big = (96ull << 20) < range ? (96ull << 20) : 0;
        porta_backend_buffer *large = big ? make_buffer(device, big) : NULL;
        if (large) {
            porta_vulkan_device_stats(device, &stats);
            assert_int_equal(stats.memory_blocks, 2);
        }
        /* Larger than maxStorageBufferRange: refused, naming both sizes. */
        porta_backend_buffer *refused = NULL;
        assert_int_equal(vk->buffer_create(device, range + 1, &refused), PORTA_ERROR_UNSUPPORTED);
        assert_null(refused);
        const char *message = porta_last_error(ctx);
        printf("too large: %s\n", message);
        char text[64];
        snprintf(text, sizeof text, "%llu", (unsigned long long)(range + 1));
        assert_non_null(strstr(message, text));
        snprintf(text, sizeof text, "%llu", (unsigned long long)range);
        assert_non_null(strstr(message, text));
        assert_true(strstr(message, "maxStorageBufferRange") || strstr(message, "maxMemoryAllocationSize"));

        vk->buffer_destroy(large);
        for (int b = 0; b < N; b++) vk->buffer_destroy(buffers[b]);
        porta_vulkan_device_stats(device, &stats);
        assert_int_equal(stats.buffers, 0);
        assert_int_equal(stats.memory_blocks, 0);
        close_clean(device);
    }
}

static void test_fill_copy(void **state)
{
    (void)state;
    if (no_devices()) return;
    static const uint32_t sizes[] = {1, 7, 64, 4099, 100003};
    for (int i = 0; i < n_devices; i++) {
        porta_backend_device *device = open_device(i);
        porta_backend_kernel *fill = make_kernel(device, &porta_kernel_fill, 64, 0, NULL);
        porta_backend_kernel *copy = make_kernel(device, &porta_kernel_copy, 64, 0, NULL);
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            uint32_t n = sizes[s], src_offset = 3, dst_offset = 5;
            porta_backend_buffer *a = make_buffer(device, (n + src_offset) * 4);
            porta_backend_buffer *b = make_buffer(device, (n + dst_offset) * 4);
            float *host = malloc((n + 8) * 4), *got = malloc((n + 8) * 4);
            for (uint32_t k = 0; k < n + src_offset; k++) host[k] = uniform(-100, 100);
            CHECK(vk->buffer_upload(a, 0, host, (n + src_offset) * 4));
            struct { uint32_t n; float value; } fill_params = {n + dst_offset, -2.5f};
            struct { uint32_t n, src_offset, dst_offset; } copy_params = {n, src_offset, dst_offset};
            porta_dispatch d[2] = {
                dispatch(fill, 1, &b, &fill_params, sizeof fill_params, groups_for(n + dst_offset, 64)),
                dispatch(copy, 2, (porta_backend_buffer *[]){a, b}, &copy_params, sizeof copy_params,
                         groups_for(n, 64)),
            };
            d[1].n_deps = 1;
            d[1].deps[0] = 0;
            run_once(device, d, 2);
            CHECK(vk->buffer_download(b, 0, got, (n + dst_offset) * 4));
            for (uint32_t k = 0; k < dst_offset; k++) assert_true(got[k] == -2.5f);
            for (uint32_t k = 0; k < n; k++) assert_true(got[dst_offset + k] == host[src_offset + k]);
            free(host);
            free(got);
            vk->buffer_destroy(a);
            vk->buffer_destroy(b);
        }
        vk->kernel_destroy(fill);
        vk->kernel_destroy(copy);
        close_clean(device);
    }
}

static void test_add(void **state)
{
    (void)state;
    if (no_devices()) return;
    static const uint32_t sizes[] = {1, 13, 256, 65537};
    for (int i = 0; i < n_devices; i++) {
        porta_backend_device *device = open_device(i);
        porta_backend_kernel *add = make_kernel(device, &porta_kernel_add, 128, 0, NULL);
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            uint32_t n = sizes[s];
            porta_backend_buffer *buf[3] = {make_buffer(device, n * 4), make_buffer(device, n * 4),
                                            make_buffer(device, n * 4)};
            float *a = malloc(n * 4), *b = malloc(n * 4), *got = malloc(n * 4);
            for (uint32_t k = 0; k < n; k++) {
                a[k] = uniform(-1000, 1000) * (k % 3 ? 1e-3f : 1.0f);
                b[k] = uniform(-1, 1);
            }
            CHECK(vk->buffer_upload(buf[0], 0, a, n * 4));
            CHECK(vk->buffer_upload(buf[1], 0, b, n * 4));
            porta_dispatch d = dispatch(add, 3, buf, &n, 4, groups_for(n, 128));
            run_once(device, &d, 1);
            CHECK(vk->buffer_download(buf[2], 0, got, n * 4));
            for (uint32_t k = 0; k < n; k++) {
                double ref = (double)a[k] + (double)b[k];
                if (got[k] != (float)ref) fail_msg("add n=%u [%u]: %.9g, expected %.9g", n, k, got[k], ref);
            }
            free(a);
            free(b);
            free(got);
            for (int k = 0; k < 3; k++) vk->buffer_destroy(buf[k]);
        }
        vk->kernel_destroy(add);
        close_clean(device);
    }
}

static void test_softmax_rows(void **state)
{
    (void)state;
    if (no_devices()) return;
    static const uint32_t shapes[][3] = {{1, 1, 64}, {3, 7, 64}, {17, 1000, 128}, {5, 4099, 256},
                                         {2, 61, 32}};
    for (int i = 0; i < n_devices; i++) {
        porta_backend_device *device = open_device(i);
        double worst = 0;
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
            uint32_t rows = shapes[s][0], cols = shapes[s][1], wg = shapes[s][2];
            int32_t constants[1] = {(int32_t)wg};
            porta_backend_kernel *softmax = make_kernel(device, &porta_kernel_softmax_rows, wg, 1,
                                                        constants);
            uint64_t n = (uint64_t)rows * cols;
            porta_backend_buffer *buf[2] = {make_buffer(device, n * 4), make_buffer(device, n * 4)};
            float *x = malloc(n * 4), *got = malloc(n * 4);
            for (uint64_t k = 0; k < n; k++) x[k] = uniform(-12, 12);
            CHECK(vk->buffer_upload(buf[0], 0, x, n * 4));
            uint32_t params[2] = {rows, cols};
            porta_dispatch d = dispatch(softmax, 2, buf, params, sizeof params, rows);
            run_once(device, &d, 1);
            CHECK(vk->buffer_download(buf[1], 0, got, n * 4));
            for (uint32_t r = 0; r < rows; r++) {
                const float *row = x + (uint64_t)r * cols;
                double m = -INFINITY, sum = 0;
                for (uint32_t c = 0; c < cols; c++) m = fmax(m, row[c]);
                for (uint32_t c = 0; c < cols; c++) sum += exp((double)row[c] - m);
                for (uint32_t c = 0; c < cols; c++) {
                    double ref = exp((double)row[c] - m) / sum;
                    double error = fabs(got[(uint64_t)r * cols + c] - ref);
                    if (ref > 0 && error / ref > worst) worst = error / ref;
                    if (error > SOFTMAX_REL * ref + SOFTMAX_ABS)
                        fail_msg("softmax %ux%u [%u,%u]: %.9g, expected %.9g", rows, cols, r, c,
                                 got[(uint64_t)r * cols + c], ref);
                }
            }
            free(x);
            free(got);
            vk->buffer_destroy(buf[0]);
            vk->buffer_destroy(buf[1]);
            vk->kernel_destroy(softmax);
        }
        printf("device %d: softmax worst relative error %.3g\n", i, worst);
        close_clean(device);
    }
}

/* fill(P, 0), then 1,000 adds each reading what the previous wrote: P+1->Q, Q+1->P, ... */
static void test_dependent_chain(void **state)
{
    (void)state;
    if (no_devices()) return;
    enum { CHAIN = 1000, RUNS = 100 };
    const uint32_t n = 4099;
    for (int i = 0; i < n_devices; i++) {
        porta_backend_device *device = open_device(i);
        porta_backend_kernel *fill = make_kernel(device, &porta_kernel_fill, 64, 0, NULL);
        porta_backend_kernel *add = make_kernel(device, &porta_kernel_add, 64, 0, NULL);
        porta_backend_buffer *p = make_buffer(device, n * 4), *q = make_buffer(device, n * 4);
        porta_backend_buffer *ones = make_buffer(device, n * 4);
        static porta_dispatch d[CHAIN + 1];
        struct { uint32_t n; float value; } params = {n, 1.0f};
        d[0] = dispatch(fill, 1, &ones, &params, sizeof params, groups_for(n, 64));
        params.value = 0.0f;
        run_once(device, d, 1);
        d[0] = dispatch(fill, 1, &p, &params, sizeof params, groups_for(n, 64));
        for (int k = 1; k <= CHAIN; k++) {
            porta_backend_buffer *from = k % 2 ? p : q, *to = k % 2 ? q : p;
            d[k] = dispatch(add, 3, (porta_backend_buffer *[]){from, ones, to}, &n, 4,
                            groups_for(n, 64));
            d[k].n_deps = 1;
            d[k].deps[0] = k - 1;
        }
        porta_backend_sequence *sequence = NULL;
        CHECK(vk->sequence_create(device, d, CHAIN + 1, false, &sequence));
        assert_int_equal(porta_vulkan_sequence_barriers(sequence), CHAIN);
        float *got = malloc(n * 4);
        porta_backend_buffer *result = CHAIN % 2 ? q : p;
        for (int run = 0; run < RUNS; run++) {
            CHECK(porta_sequence_run(vk, sequence));
            memset(got, 0, n * 4);
            CHECK(vk->buffer_download(result, 0, got, n * 4));
            for (uint32_t k = 0; k < n; k++)
                if (got[k] != (float)CHAIN) fail_msg("run %d [%u]: %g", run, k, got[k]);
        }
        free(got);
        vk->sequence_destroy(sequence);
        vk->buffer_destroy(p);
        vk->buffer_destroy(q);
        vk->buffer_destroy(ones);
        vk->kernel_destroy(fill);
        vk->kernel_destroy(add);
        close_clean(device);
    }
}

/* Barriers go only where a hazard is: none between independent dispatches, an execution
 * dependency for a write after a read, and the plan's deps honoured. */
static void test_barrier_policy(void **state)
{
    (void)state;
    if (no_devices()) return;
    const uint32_t n = 1000;
    for (int i = 0; i < n_devices; i++) {
        porta_backend_device *device = open_device(i);
        porta_backend_kernel *fill = make_kernel(device, &porta_kernel_fill, 64, 0, NULL);
        porta_backend_kernel *add = make_kernel(device, &porta_kernel_add, 64, 0, NULL);
        porta_backend_buffer *buf[4];
        for (int b = 0; b < 4; b++) buf[b] = make_buffer(device, n * 4);
        struct { uint32_t n; float value; } params = {n, 0};
        porta_dispatch d[6];
        for (int b = 0; b < 4; b++) {
            params.value = (float)(b + 1);
            d[b] = dispatch(fill, 1, &buf[b], &params, sizeof params, groups_for(n, 64));
        }
        porta_backend_sequence *sequence = NULL;
        CHECK(vk->sequence_create(device, d, 4, false, &sequence));
        assert_int_equal(porta_vulkan_sequence_barriers(sequence), 0);
        CHECK(porta_sequence_run(vk, sequence));
        vk->sequence_destroy(sequence);
        /* add reads 0 and 1 into 2; fill then overwrites 0 (write after read, no deps given);
         * add reads 0 (just written) into 3, with its dependency listed. */
        d[0] = dispatch(add, 3, (porta_backend_buffer *[]){buf[0], buf[1], buf[2]}, &n, 4,
                        groups_for(n, 64));
        params.value = 10;
        d[1] = dispatch(fill, 1, &buf[0], &params, sizeof params, groups_for(n, 64));
        d[2] = dispatch(add, 3, (porta_backend_buffer *[]){buf[0], buf[1], buf[3]}, &n, 4,
                        groups_for(n, 64));
        d[2].n_deps = 1;
        d[2].deps[0] = 1;
        CHECK(vk->sequence_create(device, d, 3, false, &sequence));
        assert_int_equal(porta_vulkan_sequence_barriers(sequence), 2);
        CHECK(porta_sequence_run(vk, sequence));
        vk->sequence_destroy(sequence);
        float got[2];
        CHECK(vk->buffer_download(buf[2], 0, &got[0], 4));
        CHECK(vk->buffer_download(buf[3], 4 * (n - 1), &got[1], 4));
        assert_true(got[0] == 3.0f && got[1] == 12.0f);
        for (int b = 0; b < 4; b++) vk->buffer_destroy(buf[b]);
        vk->kernel_destroy(fill);
        vk->kernel_destroy(add);
        close_clean(device);
    }
}

static void test_profile(void **state)
{
    (void)state;
    if (no_devices()) return;
    const uint32_t n = 1 << 18;
    for (int i = 0; i < n_devices; i++) {
        if (!caps[i].timestamps) {
            printf("note: device %d has no timestamps; profile test skipped\n", i);
            continue;
        }
        porta_backend_device *device = open_device(i);
        porta_backend_kernel *fill = make_kernel(device, &porta_kernel_fill, 64, 0, NULL);
        porta_backend_kernel *add = make_kernel(device, &porta_kernel_add, 64, 0, NULL);
        porta_backend_buffer *buf[3] = {make_buffer(device, n * 4), make_buffer(device, n * 4),
                                        make_buffer(device, n * 4)};
        struct { uint32_t n; float value; } params = {n, 2};
        porta_dispatch d[3] = {
            dispatch(fill, 1, &buf[0], &params, sizeof params, groups_for(n, 64)),
            dispatch(fill, 1, &buf[1], &params, sizeof params, groups_for(n, 64)),
            dispatch(add, 3, buf, &n, 4, groups_for(n, 64)),
        };
        d[2].n_deps = 2;
        d[2].deps[0] = 0;
        d[2].deps[1] = 1;
        porta_backend_sequence *sequence = NULL;
        CHECK(vk->sequence_create(device, d, 3, true, &sequence));
        double times[3];
        assert_int_equal(vk->sequence_times(sequence, times, 3), PORTA_ERROR_INVALID_ARGUMENT);
        for (int run = 0; run < 3; run++) {
            CHECK(porta_sequence_run(vk, sequence));
            CHECK(vk->sequence_times(sequence, times, 3));
            for (int k = 0; k < 3; k++) assert_true(times[k] > 0 && times[k] < 10e9);
        }
        printf("device %d: fill %.1f us, fill %.1f us, add %.1f us (%u floats)\n", i,
               times[0] / 1e3, times[1] / 1e3, times[2] / 1e3, n);
        vk->sequence_destroy(sequence);
        for (int b = 0; b < 3; b++) vk->buffer_destroy(buf[b]);
        vk->kernel_destroy(fill);
        vk->kernel_destroy(add);
        close_clean(device);
    }
}

static void test_pipeline_cache(void **state)
{
    (void)state;
    if (no_devices()) return;
    const char *dir = getenv("PORTA_CACHE_DIR");
    assert_non_null(dir);
    for (int i = 0; i < n_devices; i++) {
        porta_backend_device *device = open_device(i);
        int32_t wg[1] = {64};
        porta_backend_kernel *kernel = make_kernel(device, &porta_kernel_softmax_rows, 64, 1, wg);
        porta_vulkan_pipeline_cache_store(device);
        porta_vulkan_stats stats;
        porta_vulkan_device_stats(device, &stats);
        uint64_t stored = stats.pipeline_cache_stored;
        printf("device %d: pipeline cache data %llu bytes (loaded %llu at open)\n", i,
               (unsigned long long)stored, (unsigned long long)stats.pipeline_cache_loaded);
        vk->kernel_destroy(kernel);
        close_clean(device);

        /* Reopened: the stored data (if the driver gave any) is what the load path reads. */
        device = open_device(i);
        porta_vulkan_device_stats(device, &stats);
        assert_int_equal(stats.pipeline_cache_loaded, stored);
        kernel = make_kernel(device, &porta_kernel_softmax_rows, 64, 1, wg);
        vk->kernel_destroy(kernel);
        close_clean(device);
    }
}

static int setup(void **state)
{
    (void)state;
    vk = porta_backend_vulkan();
    if (porta_context_create(&ctx) != PORTA_OK) return -1;
    porta_status status = vk->enumerate(ctx, caps, MAX_DEVICES, &n_devices);
    if (status == PORTA_ERROR_UNSUPPORTED) {
        printf("note: %s\n", porta_last_error(ctx));
        n_devices = 0;
        return 0;
    }
    if (status != PORTA_OK) {
        fprintf(stderr, "enumerate: %s\n", porta_last_error(ctx));
        return -1;
    }
    printf("%d Vulkan device(s)\n", n_devices);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    porta_context_destroy(ctx);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_absent_library),
        cmocka_unit_test(test_validation_layer_missing),
        cmocka_unit_test(test_caps),
        cmocka_unit_test(test_buffer_round_trips),
        cmocka_unit_test(test_suballocation),
        cmocka_unit_test(test_fill_copy),
        cmocka_unit_test(test_add),
        cmocka_unit_test(test_softmax_rows),
        cmocka_unit_test(test_dependent_chain),
        cmocka_unit_test(test_barrier_policy),
        cmocka_unit_test(test_profile),
        cmocka_unit_test(test_pipeline_cache),
    };
    return cmocka_run_group_tests_name("vulkan", tests, setup, teardown);
}
