/* Kernels and recorded sequences on every device of every registered backend: a chain of 1,000
 * dependent dispatches giving the exact result, the same recording submitted 100 times, and
 * fill / copy / add / softmax_rows against the host computed in double precision.
 *
 * Tolerances (stated once): fill and copy are exact; add is within 1.2e-7 relative (one rounding
 * of a float sum); softmax_rows is within 1e-6 absolute + 1e-5 relative of the double result. */
#include "tests/runtime_fixture.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOL_ADD_REL 1.2e-7
#define TOL_SOFTMAX_ABS 1e-6
#define TOL_SOFTMAX_REL 1e-5
#define LOCAL 64u

static porta_backend_kernel *kernel(rt_devices *all, porta_device *device,
                                    const porta_kernel_source *source, uint32_t local, int wg)
{
    porta_kernel_config config = {.local_size = {local, 1, 1}};
    if (source->n_constants) {
        config.n_constants = 1;
        config.constants[0] = wg;
    }
    porta_backend_kernel *k = NULL;
    RT_CHECK(all->context, device->backend->kernel_create(device->device, source, &config, &k));
    return k;
}

/* A dispatch of `k` over `groups` work-groups with up to 3 buffers and 4-byte params. */
static porta_dispatch dispatch(porta_backend_kernel *k, uint32_t groups, int n_buffers,
                               porta_backend_buffer *const *buffers, int n_params,
                               const uint32_t *params)
{
    porta_dispatch d = {0};
    d.kernel = k;
    d.n_bindings = n_buffers;
    for (int i = 0; i < n_buffers; i++) d.bindings[i].buffer = buffers[i];
    d.param_bytes = (uint32_t)n_params * 4u;
    memcpy(d.params, params, d.param_bytes);
    d.groups[0] = groups;
    d.groups[1] = d.groups[2] = 1;
    return d;
}

static uint32_t float_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static void run_one(rt_devices *all, porta_device *device, const porta_dispatch *d)
{
    porta_backend_sequence *sequence = NULL;
    RT_CHECK(all->context, device->backend->sequence_create(device->device, d, 1, false, &sequence));
    RT_CHECK(all->context, porta_sequence_run(device->backend, sequence));
    device->backend->sequence_destroy(sequence);
}

static void test_chain(void **state)
{
    rt_devices *all = *state;
    enum { N = 257, CHAIN = 1000, SUBMITS = 100 };
    for (int dv = 0; dv < all->count; dv++) {
        porta_device *device = all->devices[dv];
        const porta_backend *be = device->backend;
        porta_backend_kernel *fill = kernel(all, device, &porta_kernel_fill, LOCAL, 0);
        porta_backend_kernel *add = kernel(all, device, &porta_kernel_add, LOCAL, 0);
        porta_backend_buffer *buf[3] = {NULL, NULL, NULL};    /* x, y, ones */
        for (int i = 0; i < 3; i++)
            RT_CHECK(all->context, be->buffer_create(device->device, N * 4, &buf[i]));
        float host[N];
        for (int i = 0; i < N; i++) host[i] = 1.0f;
        RT_CHECK(all->context, be->buffer_upload(buf[2], 0, host, sizeof host));

        /* x = 0, then x+1 -> y, y+1 -> x, ... 1,000 times: each reads what the last wrote. */
        static porta_dispatch steps[CHAIN + 1];
        uint32_t groups = (N + LOCAL - 1) / LOCAL;
        uint32_t fill_params[2] = {N, float_bits(0.0f)}, add_params[1] = {N};
        steps[0] = dispatch(fill, groups, 1, buf, 2, fill_params);
        for (int i = 0; i < CHAIN; i++) {
            porta_backend_buffer *b[3] = {buf[i % 2], buf[2], buf[(i + 1) % 2]};
            steps[i + 1] = dispatch(add, groups, 3, b, 1, add_params);
            steps[i + 1].n_deps = 1;
            steps[i + 1].deps[0] = i;
        }
        porta_backend_sequence *sequence = NULL;
        RT_CHECK(all->context, be->sequence_create(device->device, steps, CHAIN + 1, false, &sequence));
        for (int s = 0; s < SUBMITS; s++) {
            for (int i = 0; i < N; i++) host[i] = -7.0f;     /* stale values must be overwritten */
            RT_CHECK(all->context, be->buffer_upload(buf[0], 0, host, sizeof host));
            RT_CHECK(all->context, be->buffer_upload(buf[1], 0, host, sizeof host));
            RT_CHECK(all->context, porta_sequence_run(be, sequence));
            RT_CHECK(all->context, be->buffer_download(buf[CHAIN % 2], 0, host, sizeof host));
            for (int i = 0; i < N; i++)
                if (host[i] != (float)CHAIN)
                    fail_msg("%s: submission %d: element %d is %g, expected %d", device->desc.id,
                             s, i, host[i], CHAIN);
        }
        be->sequence_destroy(sequence);
        for (int i = 0; i < 3; i++) be->buffer_destroy(buf[i]);
        be->kernel_destroy(fill);
        be->kernel_destroy(add);
    }
}

static void test_fill_copy_add(void **state)
{
    rt_devices *all = *state;
    enum { N = 1031, SRC_OFFSET = 7, DST_OFFSET = 3, TOTAL = N + 16 };
    for (int dv = 0; dv < all->count; dv++) {
        porta_device *device = all->devices[dv];
        const porta_backend *be = device->backend;
        porta_backend_kernel *fill = kernel(all, device, &porta_kernel_fill, LOCAL, 0);
        porta_backend_kernel *copy = kernel(all, device, &porta_kernel_copy, LOCAL, 0);
        porta_backend_kernel *add = kernel(all, device, &porta_kernel_add, LOCAL, 0);
        porta_backend_buffer *buf[3] = {NULL, NULL, NULL};
        for (int i = 0; i < 3; i++)
            RT_CHECK(all->context, be->buffer_create(device->device, TOTAL * 4, &buf[i]));
        static float a[TOTAL], b[TOTAL], out[TOTAL];
        srand(7);
        for (int i = 0; i < TOTAL; i++) {
            a[i] = (float)rand() / (float)RAND_MAX * 200.0f - 100.0f;
            b[i] = (float)rand() / (float)RAND_MAX * 2e-3f - 1e-3f;
        }
        static const uint32_t fill_sizes[] = {1, 63, 64, 65, N};
        for (size_t s = 0; s < sizeof fill_sizes / sizeof fill_sizes[0]; s++) {
            uint32_t n = fill_sizes[s];
            RT_CHECK(all->context, be->buffer_upload(buf[0], 0, a, sizeof a));
            uint32_t params[2] = {n, float_bits(3.25f)};
            porta_dispatch d = dispatch(fill, (n + LOCAL - 1) / LOCAL, 1, buf, 2, params);
            run_one(all, device, &d);
            RT_CHECK(all->context, be->buffer_download(buf[0], 0, out, sizeof out));
            for (uint32_t i = 0; i < TOTAL; i++)
                if (out[i] != (i < n ? 3.25f : a[i]))
                    fail_msg("%s: fill n=%u: element %u is %g", device->desc.id, n, i, out[i]);
        }
        /* copy: dst[3 + i] = src[7 + i] for i < 1031; the rest of dst untouched. */
        RT_CHECK(all->context, be->buffer_upload(buf[0], 0, a, sizeof a));
        RT_CHECK(all->context, be->buffer_upload(buf[1], 0, b, sizeof b));
        uint32_t copy_params[3] = {N, SRC_OFFSET, DST_OFFSET};
        porta_dispatch d = dispatch(copy, (N + LOCAL - 1) / LOCAL, 2, buf, 3, copy_params);
        run_one(all, device, &d);
        RT_CHECK(all->context, be->buffer_download(buf[1], 0, out, sizeof out));
        for (int i = 0; i < TOTAL; i++) {
            float expected = i >= DST_OFFSET && i < DST_OFFSET + N ? a[i - DST_OFFSET + SRC_OFFSET] : b[i];
            if (out[i] != expected) fail_msg("%s: copy: element %d is %g, expected %g",
                                             device->desc.id, i, out[i], expected);
        }
        /* add against the double sum. */
        RT_CHECK(all->context, be->buffer_upload(buf[1], 0, b, sizeof b));
        uint32_t add_params[1] = {N};
        d = dispatch(add, (N + LOCAL - 1) / LOCAL, 3, buf, 1, add_params);
        run_one(all, device, &d);
        RT_CHECK(all->context, be->buffer_download(buf[2], 0, out, N * 4));
        for (int i = 0; i < N; i++) {
            double ref = (double)a[i] + (double)b[i];
            if (fabs(out[i] - ref) > TOL_ADD_REL * fabs(ref))
                fail_msg("%s: add: element %d is %.9g, expected %.9g", device->desc.id, i, out[i], ref);
        }
        for (int i = 0; i < 3; i++) be->buffer_destroy(buf[i]);
        be->kernel_destroy(fill);
        be->kernel_destroy(copy);
        be->kernel_destroy(add);
    }
}

static void test_softmax_rows(void **state)
{
    rt_devices *all = *state;
    static const uint32_t shapes[][2] = {{1, 1}, {3, 5}, {7, 37}, {2, 1000}, {5, 64}, {1, 4099}};
    static const uint32_t groups_sizes[] = {64, 32};
    enum { MAX = 8192 };
    static float in[MAX], out[MAX];
    for (int dv = 0; dv < all->count; dv++) {
        porta_device *device = all->devices[dv];
        const porta_backend *be = device->backend;
        porta_backend_buffer *buf[2] = {NULL, NULL};
        for (int i = 0; i < 2; i++)
            RT_CHECK(all->context, be->buffer_create(device->device, MAX * 4, &buf[i]));
        for (size_t w = 0; w < sizeof groups_sizes / sizeof groups_sizes[0]; w++) {
            uint32_t wg = groups_sizes[w];
            porta_backend_kernel *k = kernel(all, device, &porta_kernel_softmax_rows, wg, (int)wg);
            for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
                uint32_t rows = shapes[s][0], cols = shapes[s][1];
                srand((unsigned)(s + 1));
                for (uint32_t i = 0; i < rows * cols; i++)
                    in[i] = (float)rand() / (float)RAND_MAX * 20.0f - 10.0f;
                RT_CHECK(all->context, be->buffer_upload(buf[0], 0, in, rows * cols * 4));
                uint32_t params[2] = {rows, cols};
                porta_dispatch d = dispatch(k, rows, 2, buf, 2, params);
                run_one(all, device, &d);
                RT_CHECK(all->context, be->buffer_download(buf[1], 0, out, rows * cols * 4));
                for (uint32_t r = 0; r < rows; r++) {
                    const float *x = in + r * cols;
                    double m = -INFINITY, sum = 0.0;
                    for (uint32_t c = 0; c < cols; c++) m = fmax(m, x[c]);
                    for (uint32_t c = 0; c < cols; c++) sum += exp((double)x[c] - m);
                    for (uint32_t c = 0; c < cols; c++) {
                        double ref = exp((double)x[c] - m) / sum, got = out[r * cols + c];
                        if (fabs(got - ref) > TOL_SOFTMAX_ABS + TOL_SOFTMAX_REL * fabs(ref))
                            fail_msg("%s: softmax_rows [%u, %u] WG %u: (%u, %u) is %.9g, expected %.9g",
                                     device->desc.id, rows, cols, wg, r, c, got, ref);
                    }
                }
            }
            be->kernel_destroy(k);
        }
        for (int i = 0; i < 2; i++) be->buffer_destroy(buf[i]);
    }
}

static void test_profile_and_errors(void **state)
{
    rt_devices *all = *state;
    for (int dv = 0; dv < all->count; dv++) {
        porta_device *device = all->devices[dv];
        const porta_backend *be = device->backend;
        porta_backend_kernel *fill = kernel(all, device, &porta_kernel_fill, LOCAL, 0);
        porta_backend_buffer *buf = NULL;
        RT_CHECK(all->context, be->buffer_create(device->device, 4096 * 4, &buf));
        uint32_t params[2] = {4096, float_bits(1.0f)};
        porta_dispatch steps[3];
        for (int i = 0; i < 3; i++) steps[i] = dispatch(fill, 4096 / LOCAL, 1, &buf, 2, params);
        porta_backend_sequence *sequence = NULL;
        if (device->desc.timestamps) {
            RT_CHECK(all->context, be->sequence_create(device->device, steps, 3, true, &sequence));
            double times[3] = {-1, -1, -1};
            assert_int_equal(be->sequence_times(sequence, times, 3), PORTA_ERROR_INVALID_ARGUMENT);
            RT_CHECK(all->context, porta_sequence_run(be, sequence));
            RT_CHECK(all->context, be->sequence_times(sequence, times, 3));
            for (int i = 0; i < 3; i++) assert_true(times[i] >= 0.0 && times[i] < 1e10);
            be->sequence_destroy(sequence);
        }
        /* A dispatch whose bindings do not match the kernel is refused when recorded. */
        porta_dispatch wrong = steps[0];
        wrong.n_bindings = 2;
        wrong.bindings[1].buffer = buf;
        assert_int_equal(be->sequence_create(device->device, &wrong, 1, false, &sequence),
                         PORTA_ERROR_INVALID_ARGUMENT);
        assert_null(sequence);
        /* softmax_rows needs its WG constant. */
        porta_kernel_config config = {.local_size = {64, 1, 1}};
        porta_backend_kernel *k = NULL;
        assert_int_equal(be->kernel_create(device->device, &porta_kernel_softmax_rows, &config, &k),
                         PORTA_ERROR_INVALID_ARGUMENT);
        assert_null(k);
        /* OpenCL: a kernel that does not compile names the call, the code and the build log. */
        if (!strcmp(device->desc.backend, "opencl")) {
            porta_kernel_source broken = porta_kernel_fill;
            broken.opencl_source = "__kernel void fill(__global float *d) { this is not C; }\n";
            assert_int_equal(be->kernel_create(device->device, &broken, &config, &k),
                             PORTA_ERROR_DEVICE);
            assert_non_null(strstr(porta_last_error(all->context),
                                   "clBuildProgram: CL_BUILD_PROGRAM_FAILURE"));
        }
        be->buffer_destroy(buf);
        be->kernel_destroy(fill);
        be->sequence_destroy(NULL);
        be->kernel_destroy(NULL);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chain),
        cmocka_unit_test(test_fill_copy_add),
        cmocka_unit_test(test_softmax_rows),
        cmocka_unit_test(test_profile_and_errors),
    };
    return cmocka_run_group_tests_name("runtime_dispatch", tests, rt_devices_setup,
                                       rt_devices_teardown);
}
