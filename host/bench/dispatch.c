/* The dispatch suite of `porta bench`: the cost of one tiny dispatch on a device, submitted and
 * waited one at a time versus recorded once and submitted as a whole. The chain is `count`
 * dependent `add` dispatches ping-ponging between two buffers (x += 1 each step), so every
 * dispatch reads what the one before it wrote, and the result (== count) is checked. */
#include "host/bench/bench.h"
#include "runtime/device.h"

#include <stdlib.h>
#include <string.h>

#define ELEMENTS 64u          /* one work-group of 64 */

static porta_dispatch add_step(porta_backend_kernel *kernel, porta_backend_buffer *src,
                               porta_backend_buffer *ones, porta_backend_buffer *dst, int index)
{
    porta_dispatch d = {0};
    d.kernel = kernel;
    d.n_bindings = 3;
    d.bindings[0].buffer = src;
    d.bindings[1].buffer = ones;
    d.bindings[2].buffer = dst;
    uint32_t n = ELEMENTS;
    d.param_bytes = 4;
    memcpy(d.params, &n, 4);
    d.groups[0] = d.groups[1] = d.groups[2] = 1;
    if (index > 0) {
        d.n_deps = 1;
        d.deps[0] = index - 1;
    }
    return d;
}

/* On failure the context holds the message. */
porta_status bench_dispatch(porta_device *device, int count, int reps, bench_dispatch_result *out)
{
    const porta_backend *be = device->backend;
    porta_backend_device *dev = device->device;
    porta_backend_buffer *buf[3] = {NULL, NULL, NULL};    /* x, y, ones */
    porta_backend_kernel *kernel = NULL;
    porta_backend_sequence *chain = NULL, *step[2] = {NULL, NULL};
    porta_dispatch *dispatches = calloc((size_t)count, sizeof *dispatches);
    porta_status s = dispatches ? PORTA_OK : PORTA_ERROR_OUT_OF_MEMORY;
    float ones[ELEMENTS], zeros[ELEMENTS] = {0}, result[ELEMENTS];
    for (unsigned i = 0; i < ELEMENTS; i++) ones[i] = 1.0f;
    for (int i = 0; i < 3 && s == PORTA_OK; i++) s = be->buffer_create(dev, sizeof ones, &buf[i]);
    if (s == PORTA_OK) s = be->buffer_upload(buf[2], 0, ones, sizeof ones);
    porta_kernel_config config = {.local_size = {ELEMENTS, 1, 1}};
    if (s == PORTA_OK) s = be->kernel_create(dev, &porta_kernel_add, &config, &kernel);
    for (int i = 0; i < count && s == PORTA_OK; i++)
        dispatches[i] = add_step(kernel, buf[i % 2], buf[2], buf[(i + 1) % 2], i);
    if (s == PORTA_OK) s = be->sequence_create(dev, dispatches, count, false, &chain);
    for (int i = 0; i < 2 && s == PORTA_OK; i++) {
        porta_dispatch single = add_step(kernel, buf[i], buf[2], buf[1 - i], 0);
        s = be->sequence_create(dev, &single, 1, false, &step[i]);
    }
    if (s == PORTA_OK) s = porta_sequence_run(be, chain);    /* warm-up: first-enqueue compiles */
    for (int r = 0; r < reps && s == PORTA_OK; r++) {
        s = be->buffer_upload(buf[0], 0, zeros, sizeof zeros);
        double t0 = host_now_ms();
        for (int i = 0; i < count && s == PORTA_OK; i++) s = porta_sequence_run(be, step[i % 2]);
        double t1 = host_now_ms();
        if (s == PORTA_OK) s = be->buffer_upload(buf[0], 0, zeros, sizeof zeros);
        double t2 = host_now_ms();
        if (s == PORTA_OK) s = porta_sequence_run(be, chain);
        double t3 = host_now_ms();
        if (s == PORTA_OK) s = be->buffer_download(buf[count % 2], 0, result, sizeof result);
        if (s == PORTA_OK && result[0] != (float)count)
            s = porta_error(device->context, PORTA_ERROR_DEVICE,
                            "%s: the chain gave %g, expected %d", device->desc.id, result[0], count);
        out->each_us[r] = (t1 - t0) * 1e3 / count;
        out->recorded_us[r] = (t3 - t2) * 1e3 / count;
    }
    if (s == PORTA_OK) out->reps = reps;
    for (int i = 0; i < 2; i++) be->sequence_destroy(step[i]);
    be->sequence_destroy(chain);
    be->kernel_destroy(kernel);
    for (int i = 0; i < 3; i++) be->buffer_destroy(buf[i]);
    free(dispatches);
    if (s == PORTA_ERROR_OUT_OF_MEMORY && !porta_last_error(device->context)[0])
        porta_error(device->context, s, "out of memory");
    return s;
}
