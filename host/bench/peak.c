/* The peak suite of `porta bench`: what a device can do at most, measured by purpose-made
 * kernels, so that other figures can be read as a fraction of it: f32 FMA throughput
 * (shaders/peak_fma.k), memory bandwidth (a 64-byte-per-invocation copy, shaders/peak_copy.k)
 * and the latency of one tiny dispatch submitted and waited for. Each kernel runs as a recorded
 * chain of CHAIN dispatches, timed by device timestamps where the device has them, else by wall
 * clock around the whole chain; the FMA's step count is first scaled so one dispatch takes about
 * TARGET_MS. Results are checked: the copy exactly, the FMA against the host's recomputation. */
#include "host/bench/bench.h"
#include "runtime/device.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CHAIN 8
#define TARGET_MS 10.0
#define FMA_GROUPS 4096u             /* of 64 invocations */
#define FMA_INVOCATIONS (FMA_GROUPS * 64u)
#define FMA_FLOPS_PER_STEP 256.0     /* 8 x 16 fused multiply-adds */
#define FMA_S 0.01f
#define FMA_T -0.01f
#define COPY_MAX_BYTES (64u << 20)

typedef struct peak_run {
    const porta_backend *backend;
    porta_backend_device *device;
    bool timestamps;
} peak_run;

/* One dispatch of `kernel` over buffers, repeated CHAIN times, each after the one before. */
static porta_status record_chain(const peak_run *run, porta_backend_kernel *kernel,
                                 porta_backend_buffer *const *buffers, int n_buffers,
                                 const void *params, uint32_t param_bytes, uint32_t groups,
                                 porta_backend_sequence **out)
{
    porta_dispatch chain[CHAIN];
    memset(chain, 0, sizeof chain);
    for (int i = 0; i < CHAIN; i++) {
        porta_dispatch *d = &chain[i];
        d->kernel = kernel;
        d->n_bindings = n_buffers;
        for (int b = 0; b < n_buffers; b++) d->bindings[b].buffer = buffers[b];
        d->param_bytes = param_bytes;
        memcpy(d->params, params, param_bytes);
        d->groups[0] = groups;
        d->groups[1] = d->groups[2] = 1;
        if (i > 0) {    /* each rewrites the same output */
            d->n_deps = 1;
            d->deps[0] = i - 1;
        }
    }
    return run->backend->sequence_create(run->device, chain, CHAIN, run->timestamps, out);
}

/* Milliseconds a dispatch of the chain takes, from one run of it. */
static porta_status time_chain(const peak_run *run, porta_backend_sequence *sequence,
                               double *out_ms)
{
    double start = host_now_ms();
    porta_status s = porta_sequence_run(run->backend, sequence);
    double wall = host_now_ms() - start;
    if (s != PORTA_OK) return s;
    if (!run->timestamps) {
        *out_ms = wall / CHAIN;
        return PORTA_OK;
    }
    double ns[CHAIN];
    s = run->backend->sequence_times(sequence, ns, CHAIN);
    double sum = 0;
    for (int i = 0; i < CHAIN; i++) sum += ns[i];
    *out_ms = sum * 1e-6 / CHAIN;
    return s;
}

static float init_value(int vector, int lane)
{
    return 0.5f + 0.01f * (float)((vector * 16 + lane) % 97);
}

/* The host's run of the kernel for invocation i, lane `lane` of its result. */
static float fma_expected(uint32_t i, int lane, uint32_t iterations)
{
    float v[8];
    for (uint32_t c = 0; c < 8; c++) v[c] = init_value((int)((i + c) % 64u), lane);
    for (uint32_t k = 0; k < iterations; k++)
        for (int pair = 0; pair < 4; pair++) {
            v[2 * pair] = fmaf(FMA_S, v[2 * pair + 1], v[2 * pair]);
            v[2 * pair + 1] = fmaf(FMA_T, v[2 * pair], v[2 * pair + 1]);
        }
    return (v[0] + v[2]) + (v[4] + v[6]);
}

static porta_status fma_sequence(const peak_run *run, porta_backend_kernel *kernel,
                                 porta_backend_buffer *const *buffers, uint32_t iterations,
                                 porta_backend_sequence **out)
{
    uint32_t params[3];
    float s = FMA_S, t = FMA_T;
    params[0] = iterations;
    memcpy(&params[1], &s, 4);
    memcpy(&params[2], &t, 4);
    return record_chain(run, kernel, buffers, 2, params, sizeof params, FMA_GROUPS, out);
}

static porta_status measure_fma(porta_device *device, const peak_run *run, int reps,
                                double *gflops, int *out_reps)
{
    const porta_backend *be = run->backend;
    porta_backend_kernel *kernel = NULL;
    porta_backend_buffer *buffers[2] = {NULL, NULL};
    porta_backend_sequence *sequence = NULL;
    float *host = malloc(64 * 64 * sizeof *host);
    porta_status s = host ? PORTA_OK : PORTA_ERROR_OUT_OF_MEMORY;
    for (int v = 0; host && v < 64; v++)
        for (int lane = 0; lane < 16; lane++) host[v * 16 + lane] = init_value(v, lane);
    porta_kernel_config config = {.local_size = {64, 1, 1}};
    if (s == PORTA_OK) s = be->kernel_create(run->device, &porta_kernel_peak_fma, &config, &kernel);
    if (s == PORTA_OK) s = be->buffer_create(run->device, 64 * 64, &buffers[0]);
    if (s == PORTA_OK) s = be->buffer_create(run->device, (uint64_t)FMA_INVOCATIONS * 64, &buffers[1]);
    if (s == PORTA_OK) s = be->buffer_upload(buffers[0], 0, host, 64 * 64);
    /* scale the steps until a dispatch takes about TARGET_MS */
    uint32_t iterations = 16;
    double ms = 0;
    for (;;) {
        if (s == PORTA_OK) s = fma_sequence(run, kernel, buffers, iterations, &sequence);
        if (s == PORTA_OK) s = time_chain(run, sequence, &ms);
        if (s != PORTA_OK || ms >= TARGET_MS / 4 || iterations >= (1u << 20)) break;
        be->sequence_destroy(sequence);
        sequence = NULL;
        iterations *= ms > 0 ? (ms * 16 < TARGET_MS ? 16u : 4u) : 16u;
    }
    if (s == PORTA_OK && ms > 0 && ms < TARGET_MS / 2 && iterations < (1u << 20)) {
        double scaled = iterations * TARGET_MS / ms;
        be->sequence_destroy(sequence);
        sequence = NULL;
        iterations = scaled > (1u << 20) ? (1u << 20) : (uint32_t)scaled;
        s = fma_sequence(run, kernel, buffers, iterations, &sequence);
    }
    int done = 0;
    for (int r = 0; r < reps && s == PORTA_OK; r++) {
        s = time_chain(run, sequence, &ms);
        if (s == PORTA_OK)
            gflops[done++] = FMA_FLOPS_PER_STEP * iterations * FMA_INVOCATIONS / (ms * 1e6);
    }
    /* the work was done: a sample of invocations against the host's own run */
    float out[16];
    uint32_t sample[] = {0, 1, 63, 64, FMA_INVOCATIONS / 2 + 5, FMA_INVOCATIONS - 1};
    for (size_t k = 0; k < sizeof sample / sizeof sample[0] && s == PORTA_OK; k++) {
        s = be->buffer_download(buffers[1], (uint64_t)sample[k] * 64, out, sizeof out);
        for (int lane = 0; lane < 16 && s == PORTA_OK; lane++) {
            float want = fma_expected(sample[k], lane, iterations);
            /* the rotation keeps |values| near 1; rounding drifts by about steps x 2^-24 */
            double tolerance = 1e-4 + 4e-7 * iterations;
            if (!(fabs((double)out[lane] - want) <= tolerance))
                s = porta_error(device->context, PORTA_ERROR_DEVICE,
                                "%s: peak fma: invocation %u lane %d is %.9g, the host's %.9g "
                                "(%u steps)", device->desc.id, sample[k], lane, out[lane], want,
                                iterations);
        }
    }
    *out_reps = done;
    be->sequence_destroy(sequence);
    for (int b = 0; b < 2; b++) be->buffer_destroy(buffers[b]);
    be->kernel_destroy(kernel);
    free(host);
    return s;
}

static porta_status measure_copy(porta_device *device, const peak_run *run, int reps,
                                 double *gbytes, int *out_reps)
{
    const porta_backend *be = run->backend;
    uint64_t bytes = COPY_MAX_BYTES;
    while (bytes > device->desc.max_buffer_bytes && bytes > (1u << 20)) bytes /= 2;
    uint32_t n = (uint32_t)(bytes / 64);
    porta_backend_kernel *kernel = NULL;
    porta_backend_buffer *buffers[2] = {NULL, NULL};
    porta_backend_sequence *sequence = NULL;
    uint32_t *pattern = malloc(bytes);
    porta_status s = pattern ? PORTA_OK : PORTA_ERROR_OUT_OF_MEMORY;
    for (uint64_t i = 0; pattern && i < bytes / 4; i++) pattern[i] = (uint32_t)(i * 2654435761u);
    porta_kernel_config config = {.local_size = {64, 1, 1}};
    if (s == PORTA_OK) s = be->kernel_create(run->device, &porta_kernel_peak_copy, &config, &kernel);
    for (int b = 0; b < 2 && s == PORTA_OK; b++) s = be->buffer_create(run->device, bytes, &buffers[b]);
    if (s == PORTA_OK) s = be->buffer_upload(buffers[0], 0, pattern, bytes);
    if (s == PORTA_OK) s = record_chain(run, kernel, buffers, 2, &n, 4, (n + 63) / 64, &sequence);
    double ms = 0;
    if (s == PORTA_OK) s = time_chain(run, sequence, &ms);   /* warm-up */
    int done = 0;
    for (int r = 0; r < reps && s == PORTA_OK; r++) {
        s = time_chain(run, sequence, &ms);
        if (s == PORTA_OK) gbytes[done++] = 2.0 * (double)bytes / (ms * 1e6);
    }
    if (s == PORTA_OK) {
        uint32_t *copied = malloc(bytes);
        s = copied ? be->buffer_download(buffers[1], 0, copied, bytes) : PORTA_ERROR_OUT_OF_MEMORY;
        if (s == PORTA_OK && memcmp(copied, pattern, bytes))
            s = porta_error(device->context, PORTA_ERROR_DEVICE,
                            "%s: peak bandwidth: the copy differs from its source",
                            device->desc.id);
        free(copied);
    }
    *out_reps = done;
    be->sequence_destroy(sequence);
    for (int b = 0; b < 2; b++) be->buffer_destroy(buffers[b]);
    be->kernel_destroy(kernel);
    free(pattern);
    return s;
}

porta_status bench_peak(porta_device *device, int reps, bench_peak_result *out)
{
    memset(out, 0, sizeof *out);
    if (reps > 32) reps = 32;
    peak_run run = {device->backend, device->device, device->desc.timestamps};
    out->timed_by_device = run.timestamps;
    porta_status s = measure_fma(device, &run, reps, out->fma_f32_gflops, &out->fma_reps);
    if (s == PORTA_OK) s = measure_copy(device, &run, reps, out->copy_gbytes, &out->copy_reps);
    bench_dispatch_result latency;
    if (s == PORTA_OK) s = bench_dispatch(device, 100, reps, &latency);
    if (s == PORTA_OK) {
        out->latency_reps = latency.reps;
        memcpy(out->latency_us, latency.each_us, sizeof latency.each_us);
    }
    if (s == PORTA_ERROR_OUT_OF_MEMORY && !porta_last_error(device->context)[0])
        porta_error(device->context, s, "out of memory");
    return s;
}
