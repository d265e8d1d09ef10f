/* Dispatch overhead of the Vulkan backend: 1,000 tiny dispatches (fill of 64 floats, one
 * work-group) recorded in one sequence and run as one submission, against the same dispatch run
 * 1,000 times one at a time (submit and wait each). Independent dispatches write disjoint ranges
 * (no barriers); the dependent variant chains them (a barrier before each). Prints microseconds
 * per dispatch, best of five repetitions, for every Vulkan device (or the one given by index).
 * Run with `meson test -C build --benchmark` or directly; validation should be off. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/backend.h"
#include "runtime/vulkan/inspect.h"

enum { N = 1000, REPS = 5, WORDS = 64 };

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static const porta_backend *vk;
static porta_context *ctx;

static int fail(const char *what)
{
    fprintf(stderr, "bench_vulkan_dispatch: %s: %s\n", what, porta_last_error(ctx));
    return 1;
}

static int bench_device(int index)
{
    porta_backend_device *device;
    if (vk->device_open(ctx, index, &device)) return fail("device_open");
    porta_kernel_config config = {.local_size = {WORDS, 1, 1}};
    porta_backend_kernel *fill;
    porta_backend_buffer *buffer;
    if (vk->kernel_create(device, &porta_kernel_fill, &config, &fill)) return fail("kernel_create");
    uint32_t stride = WORDS * 4;
    if (vk->buffer_create(device, (uint64_t)N * stride, &buffer)) return fail("buffer_create");
    static porta_dispatch d[N];
    struct { uint32_t n; float value; } params = {WORDS, 1.0f};
    for (int i = 0; i < N; i++) {
        d[i] = (porta_dispatch){.kernel = fill, .n_bindings = 1, .param_bytes = sizeof params,
                                .groups = {1, 1, 1}};
        d[i].bindings[0] = (porta_binding){buffer, (uint64_t)i * stride, stride};
        memcpy(d[i].params, &params, sizeof params);
    }
    porta_backend_sequence *recorded, *chained, *single;
    if (vk->sequence_create(device, d, N, false, &recorded)) return fail("sequence_create");
    if (vk->sequence_create(device, d, 1, false, &single)) return fail("sequence_create");
    for (int i = 1; i < N; i++) {
        d[i].n_deps = 1;
        d[i].deps[0] = i - 1;
    }
    if (vk->sequence_create(device, d, N, false, &chained)) return fail("sequence_create");

    double best_recorded = 1e30, best_chained = 1e30, best_single = 1e30;
    for (int rep = 0; rep < REPS; rep++) {
        double t0 = now();
        if (vk->sequence_run(recorded)) return fail("sequence_run");
        double t1 = now();
        if (vk->sequence_run(chained)) return fail("sequence_run");
        double t2 = now();
        for (int i = 0; i < N; i++)
            if (vk->sequence_run(single)) return fail("sequence_run");
        double t3 = now();
        if (t1 - t0 < best_recorded) best_recorded = t1 - t0;
        if (t2 - t1 < best_chained) best_chained = t2 - t1;
        if (t3 - t2 < best_single) best_single = t3 - t2;
    }
    printf("%s (%s): %d tiny dispatches, best of %d\n", vk->device_caps(device)->name,
           vk->device_caps(device)->driver_version, N, REPS);
    printf("  recorded, independent (%d barriers): %7.2f us/dispatch\n",
           porta_vulkan_sequence_barriers(recorded), best_recorded * 1e6 / N);
    printf("  recorded, dependent   (%d barriers): %7.2f us/dispatch\n",
           porta_vulkan_sequence_barriers(chained), best_chained * 1e6 / N);
    printf("  one at a time (submit + wait each):  %7.2f us/dispatch\n", best_single * 1e6 / N);
    vk->sequence_destroy(recorded);
    vk->sequence_destroy(chained);
    vk->sequence_destroy(single);
    vk->buffer_destroy(buffer);
    vk->kernel_destroy(fill);
    vk->device_close(device);
    return 0;
}

int main(int argc, char **argv)
{
    vk = porta_backend_vulkan();
    if (porta_context_create(&ctx)) return 1;
    porta_device_caps caps[8];
    int n = 0;
    porta_status status = vk->enumerate(ctx, caps, 8, &n);
    if (status == PORTA_ERROR_UNSUPPORTED || (status == PORTA_OK && n == 0)) {
        printf("no Vulkan device: %s\n", porta_last_error(ctx));
        porta_context_destroy(ctx);
        return 0;
    }
    if (status) return fail("enumerate");
    int rc = 0;
    for (int i = 0; i < n; i++)
        if (argc < 2 || atoi(argv[1]) == i) rc |= bench_device(i);
    porta_context_destroy(ctx);
    return rc;
}
