/* A program using porta the way an application that installed it would: <porta.h> only, linked
 * through pkg-config or CMake (tests/check_consumer.sh builds it both ways). It parses a small
 * graph, runs it on every device found and checks each output against values computed here in
 * plain C, each run submitted and polled while the host works; then again with one thread per
 * device, each with a context of its own (porta.h's threading rule), all at once. With no device
 * at all, parsing and validation must still pass.
 * Exit status: 0 when every step passed on every device, 1 otherwise. */
#include <porta.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

enum { ROWS = 2, IN = 3, OUT = 4 };
enum { MAX_DEVICES = 16 };   /* more than any machine here has; the rest would go unchecked */

static const char graph_text[] =
    "graph consumer\n"
    "input  x : f32[2, 3]\n"
    "weight w : f32[4, 3]\n"
    "weight b : f32[4]\n"
    "y = softmax(linear(x, w, b))\n"
    "output y\n";

static const float x[ROWS * IN] = {0.5f, -1.0f, 2.0f, 1.5f, 0.25f, -0.75f};
static const float w[OUT * IN] = {0.1f, 0.2f, 0.3f, -0.4f, 0.5f, -0.6f,
                                  0.7f, -0.8f, 0.9f, 1.0f, 0.0f, -1.0f};
static const float b[OUT] = {0.0f, 0.5f, -0.5f, 0.25f};

/* The conformance suite's tolerance for linear (the looser of the two ops): the device computes
 * in f32, the expected values here in double. */
#define ABS_TOLERANCE 1e-5
#define REL_TOLERANCE 1e-4

/* y = softmax(x · wᵀ + b) over each row, in double. */
static void expected_output(double out[ROWS * OUT])
{
    for (int r = 0; r < ROWS; r++) {
        double z[OUT], max = -INFINITY, sum = 0.0;
        for (int o = 0; o < OUT; o++) {
            z[o] = b[o];
            for (int i = 0; i < IN; i++) z[o] += (double)x[r * IN + i] * w[o * IN + i];
            if (z[o] > max) max = z[o];
        }
        for (int o = 0; o < OUT; o++) sum += exp(z[o] - max);
        for (int o = 0; o < OUT; o++) out[r * OUT + o] = exp(z[o] - max) / sum;
    }
}

/* Runs a program as an app overlapping its own work with the device's would: submit, do other
 * work while polling, then wait. *out_polls counts the polls before the run was done. */
static porta_status run_program(porta_program *program, long *out_polls)
{
    porta_status status = porta_program_submit(program);
    bool done = false;
    volatile double host_work = 0;
    *out_polls = 0;
    while (status == PORTA_OK && !done) {
        for (int k = 0; k < 1000; k++) host_work += k;   /* the app's own work */
        status = porta_program_poll(program, &done);
        ++*out_polls;
    }
    return status == PORTA_OK ? porta_program_wait(program) : status;
}

static int fail(porta_context *context, const char *where, const char *what, porta_status status)
{
    printf("%s: %s failed: %s: %s\n", where, what, porta_status_name(status),
           porta_last_error(context));
    return 1;
}

/* The graph's parse and validation, which need no device. */
static int check_graph(porta_context *context, porta_graph **out_graph)
{
    porta_status status = porta_graph_parse(context, graph_text, strlen(graph_text),
                                            "consumer.pg", out_graph);
    if (status != PORTA_OK) return fail(context, "graph", "porta_graph_parse", status);
    porta_tensor_id y = porta_graph_find_tensor(*out_graph, "y");
    porta_tensor_info info;
    if (y < 0) {
        printf("graph: no tensor y\n");
        return 1;
    }
    status = porta_graph_tensor_info(*out_graph, y, &info);
    if (status != PORTA_OK) return fail(context, "graph", "porta_graph_tensor_info", status);
    if (!info.is_output || info.dtype != PORTA_F32 || info.shape.rank != 2 ||
        info.shape.dims[0] != ROWS || info.shape.dims[1] != OUT) {
        printf("graph: y is not an f32[%d, %d] output\n", ROWS, OUT);
        return 1;
    }
    printf("graph: parsed and validated, y is f32[%d, %d]\n", ROWS, OUT);
    return 0;
}

/* Opens device `id`, runs the graph and compares y with the expected values. */
static int check_device(porta_context *context, const porta_graph *graph, const char *id,
                        const double expected[ROWS * OUT])
{
    porta_device *device = NULL;
    porta_program *program = NULL;
    float y[ROWS * OUT];
    int failed = 0;
    porta_status status = porta_device_open(context, id, &device);
    if (status != PORTA_OK) return fail(context, id, "porta_device_open", status);
    const char *name = porta_device_info(device)->name;
    status = porta_program_create(device, graph, 0, &program);
    if (status != PORTA_OK) {
        failed = fail(context, id, "porta_program_create", status);
        goto done;
    }
    if ((status = porta_program_set(program, "x", x, sizeof x)) != PORTA_OK ||
        (status = porta_program_set(program, "w", w, sizeof w)) != PORTA_OK ||
        (status = porta_program_set(program, "b", b, sizeof b)) != PORTA_OK) {
        failed = fail(context, id, "porta_program_set", status);
        goto done;
    }
    long polls = 0;
    if ((status = run_program(program, &polls)) != PORTA_OK) {
        failed = fail(context, id, "running the program", status);
        goto done;
    }
    if ((status = porta_program_get(program, "y", y, sizeof y)) != PORTA_OK) {
        failed = fail(context, id, "porta_program_get", status);
        goto done;
    }
    double worst = 0.0;
    for (int k = 0; k < ROWS * OUT; k++) {
        double error = fabs((double)y[k] - expected[k]);
        if (!(error <= ABS_TOLERANCE + REL_TOLERANCE * fabs(expected[k]))) {
            printf("%s (%s): y[%d][%d] = %.9g, expected %.9g\n", id, name, k / OUT, k % OUT,
                   (double)y[k], expected[k]);
            failed = 1;
        }
        if (error > worst || isnan(error)) worst = error;
    }
    printf("%s (%s): %s, largest error %.3g, done after %ld polls\n", id, name,
           failed ? "FAILED" : "ok", worst, polls);
done:
    porta_program_destroy(program);
    porta_device_close(device);
    return failed;
}

/* A thread's whole use of porta: its own context and graph, one device. */
typedef struct worker {
    char id[32];
    const double *expected;
    int failed;
} worker;

static void *run_worker(void *argument)
{
    worker *me = argument;
    porta_context *context = NULL;
    porta_graph *graph = NULL;
    me->failed = 1;
    if (porta_context_create(&context) != PORTA_OK) return NULL;
    porta_status status = porta_graph_parse(context, graph_text, strlen(graph_text),
                                            "consumer.pg", &graph);
    if (status == PORTA_OK) me->failed = check_device(context, graph, me->id, me->expected);
    else fail(context, me->id, "porta_graph_parse", status);
    porta_graph_destroy(graph);
    porta_context_destroy(context);
    return NULL;
}

/* Every device at once, one thread each. */
static int check_threads(const porta_device_desc *descs, int n, const double *expected)
{
    worker workers[MAX_DEVICES];
    pthread_t threads[MAX_DEVICES];
    int started = 0, failed = 0;
    for (int d = 0; d < n; d++) {
        memcpy(workers[d].id, descs[d].id, sizeof workers[d].id);   /* both char[32] */
        workers[d].expected = expected;
        workers[d].failed = 1;
        if (pthread_create(&threads[d], NULL, run_worker, &workers[d]) != 0) break;
        started++;
    }
    for (int d = 0; d < started; d++) pthread_join(threads[d], NULL);
    for (int d = 0; d < n; d++) failed |= d >= started || workers[d].failed;
    printf("threads: %d devices at once, %s\n", n, failed ? "FAILED" : "ok");
    return failed;
}

int main(void)
{
    printf("porta %s (header %d.%d.%d)\n", porta_version(), PORTA_VERSION_MAJOR,
           PORTA_VERSION_MINOR, PORTA_VERSION_PATCH);
    char header_version[32];
    snprintf(header_version, sizeof header_version, "%d.%d.%d", PORTA_VERSION_MAJOR,
             PORTA_VERSION_MINOR, PORTA_VERSION_PATCH);
    if (strcmp(header_version, porta_version()) != 0) {
        printf("the library is not the version of its header\n");
        return 1;
    }

    porta_context *context = NULL;
    porta_graph *graph = NULL;
    if (porta_context_create(&context) != PORTA_OK) {
        printf("porta_context_create failed\n");
        return 1;
    }
    int failed = check_graph(context, &graph);
    int count = 0;
    porta_status status = failed ? PORTA_OK : porta_device_list(context, NULL, 0, &count);
    if (status != PORTA_OK) failed = fail(context, "devices", "porta_device_list", status);
    if (!failed && count == 0) {
        printf("no devices: parse and validation passed, nothing to run\n");
        const char *absent = porta_device_absent(context);
        if (*absent) printf("%s%s", absent, absent[strlen(absent) - 1] == '\n' ? "" : "\n");
    }
    if (!failed && count > 0) {
        porta_device_desc descs[MAX_DEVICES];
        int listed = count < MAX_DEVICES ? count : MAX_DEVICES;
        status = porta_device_list(context, descs, listed, &count);
        if (status != PORTA_OK) {
            failed = fail(context, "devices", "porta_device_list", status);
            listed = 0;
        }
        double expected[ROWS * OUT];
        expected_output(expected);
        int passed = 0;
        for (int d = 0; d < listed; d++) {
            if (check_device(context, graph, descs[d].id, expected) == 0) passed++;
            else failed = 1;
        }
        printf("%d of %d devices passed\n", passed, listed);
        if (check_threads(descs, listed, expected)) failed = 1;
    }
    porta_graph_destroy(graph);
    porta_context_destroy(context);
    return failed;
}
