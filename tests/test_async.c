/* Asynchronous runs on every device: submit returns before the results are read, several
 * programs of one device are in flight at once, calls that touch a program's buffers wait for its
 * run, and contexts driven from several threads at once stay independent (this suite also runs
 * under ThreadSanitizer: scripts/test.sh). Results are checked against a product computed here
 * in double precision. Only porta.h is used, as an app would. */
#include "porta.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define M 48
#define K 96
#define N 40
#define MAX_DEVICES 16
#define TOLERANCE 1e-4   /* relative to the row's largest |x|·|w| sum; f32 accumulation of 96 */

static const char *graph_text = "graph product\n"
                                "input x : f32[48, 96]\n"
                                "weight w : f32[96, 40]\n"
                                "y = relu(matmul(x, w))\n"
                                "output y\n";

static porta_device_desc descs[MAX_DEVICES];
static int n_descs;

static void fill(float *x, float *w, int seed)
{
    for (int i = 0; i < M * K; i++) x[i] = (float)(((i * 37 + seed * 11) % 29) - 14) / 16.0f;
    for (int i = 0; i < K * N; i++) w[i] = (float)(((i * 13 + seed * 7) % 23) - 11) / 16.0f;
}

/* Fails with the first element outside the tolerance; returns nothing on success. */
static int check_product(const float *x, const float *w, const float *y, char *why, size_t size)
{
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) {
            double sum = 0, magnitude = 0;
            for (int k = 0; k < K; k++) {
                sum += (double)x[m * K + k] * w[k * N + n];
                magnitude += fabs((double)x[m * K + k] * w[k * N + n]);
            }
            double want = sum > 0 ? sum : 0;
            if (fabs(y[m * N + n] - want) > TOLERANCE * (magnitude + 1e-30)) {
                snprintf(why, size, "y[%d,%d] = %.9g, want %.9g", m, n, y[m * N + n], want);
                return 1;
            }
        }
    return 0;
}

typedef struct job {
    porta_program *program;
    float x[M * K], w[K * N], y[M * N];
} job;

static porta_status job_start(porta_device *device, porta_graph *graph, job *j, int seed)
{
    fill(j->x, j->w, seed);
    porta_status s = porta_program_create(device, graph, 0, &j->program);
    if (s == PORTA_OK) s = porta_program_set(j->program, "x", j->x, sizeof j->x);
    if (s == PORTA_OK) s = porta_program_set(j->program, "w", j->w, sizeof j->w);
    if (s == PORTA_OK) s = porta_program_submit(j->program);
    return s;
}

#define CHECK(context, call)                                                               \
    do {                                                                                   \
        porta_status s_ = (call);                                                          \
        if (s_ != PORTA_OK)                                                                \
            fail_msg("%s: %s: %s", #call, porta_status_name(s_), porta_last_error(context)); \
    } while (0)

static porta_graph *parse(porta_context *context)
{
    porta_graph *graph = NULL;
    CHECK(context, porta_graph_parse(context, graph_text, strlen(graph_text), "product.pg", &graph));
    return graph;
}

/* Submit, poll until done, wait, read: and the calls' answers when nothing is in flight. */
static void test_submit_poll_wait(void **state)
{
    (void)state;
    for (int d = 0; d < n_descs; d++) {
        porta_context *context;
        assert_int_equal(porta_context_create(&context), PORTA_OK);
        porta_device *device;
        CHECK(context, porta_device_open(context, descs[d].id, &device));
        porta_graph *graph = parse(context);
        job *j = calloc(1, sizeof *j);
        assert_non_null(j);
        bool done = false;
        CHECK(context, job_start(device, graph, j, d));
        long polls = 0;
        while (!done) {
            CHECK(context, porta_program_poll(j->program, &done));
            polls++;
        }
        CHECK(context, porta_program_wait(j->program));
        CHECK(context, porta_program_get(j->program, "y", j->y, sizeof j->y));
        char why[128];
        if (check_product(j->x, j->w, j->y, why, sizeof why)) fail_msg("%s: %s", descs[d].id, why);
        printf("%s: done after %ld polls\n", descs[d].id, polls);
        /* Nothing in flight: poll says done, wait returns at once. */
        CHECK(context, porta_program_poll(j->program, &done));
        assert_true(done);
        CHECK(context, porta_program_wait(j->program));
        assert_int_equal(porta_program_poll(j->program, NULL), PORTA_ERROR_INVALID_ARGUMENT);
        assert_int_equal(porta_program_submit(NULL), PORTA_ERROR_INVALID_ARGUMENT);
        assert_int_equal(porta_program_wait(NULL), PORTA_ERROR_INVALID_ARGUMENT);
        porta_program_destroy(j->program);
        free(j);
        porta_graph_destroy(graph);
        porta_device_close(device);
        porta_context_destroy(context);
    }
}

/* Several programs of one device in flight, waited for in another order; get waits itself. */
static void test_several_in_flight(void **state)
{
    (void)state;
    enum { JOBS = 3 };
    for (int d = 0; d < n_descs; d++) {
        porta_context *context;
        assert_int_equal(porta_context_create(&context), PORTA_OK);
        porta_device *device;
        CHECK(context, porta_device_open(context, descs[d].id, &device));
        porta_graph *graph = parse(context);
        job *jobs = calloc(JOBS, sizeof *jobs);
        assert_non_null(jobs);
        for (int i = 0; i < JOBS; i++) CHECK(context, job_start(device, graph, &jobs[i], i));
        /* a second submit of a program in flight waits for the first run, then runs again */
        CHECK(context, porta_program_submit(jobs[0].program));
        CHECK(context, porta_program_wait(jobs[2].program));
        CHECK(context, porta_program_get(jobs[1].program, "y", jobs[1].y, sizeof jobs[1].y));
        CHECK(context, porta_program_get(jobs[0].program, "y", jobs[0].y, sizeof jobs[0].y));
        CHECK(context, porta_program_get(jobs[2].program, "y", jobs[2].y, sizeof jobs[2].y));
        for (int i = 0; i < JOBS; i++) {
            char why[128];
            if (check_product(jobs[i].x, jobs[i].w, jobs[i].y, why, sizeof why))
                fail_msg("%s, program %d: %s", descs[d].id, i, why);
        }
        /* a set while a run is in flight waits for it, so the run reads the old values */
        job *before = malloc(sizeof *before);
        assert_non_null(before);
        memcpy(before, &jobs[0], sizeof *before);
        CHECK(context, porta_program_submit(jobs[0].program));
        fill(jobs[0].x, jobs[0].w, 99);
        CHECK(context, porta_program_set(jobs[0].program, "x", jobs[0].x, sizeof jobs[0].x));
        CHECK(context, porta_program_set(jobs[0].program, "w", jobs[0].w, sizeof jobs[0].w));
        CHECK(context, porta_program_get(jobs[0].program, "y", jobs[0].y, sizeof jobs[0].y));
        char why[128];
        if (check_product(before->x, before->w, jobs[0].y, why, sizeof why))
            fail_msg("%s, a run with a set behind it: %s", descs[d].id, why);
        free(before);
        CHECK(context, porta_program_submit(jobs[0].program));
        porta_program_destroy(jobs[1].program);   /* destroying a program waits for nothing else */
        CHECK(context, porta_program_get(jobs[0].program, "y", jobs[0].y, sizeof jobs[0].y));
        if (check_product(jobs[0].x, jobs[0].w, jobs[0].y, why, sizeof why))
            fail_msg("%s, after a set: %s", descs[d].id, why);
        /* destroying a program with a run in flight waits for it */
        CHECK(context, porta_program_submit(jobs[2].program));
        porta_program_destroy(jobs[2].program);
        porta_program_destroy(jobs[0].program);
        free(jobs);
        porta_graph_destroy(graph);
        porta_device_close(device);
        porta_context_destroy(context);
    }
}

/* Profiled programs read their times when waited for. */
static void test_profile(void **state)
{
    (void)state;
    for (int d = 0; d < n_descs; d++) {
        if (!descs[d].timestamps) continue;
        porta_context *context;
        assert_int_equal(porta_context_create(&context), PORTA_OK);
        porta_device *device;
        CHECK(context, porta_device_open(context, descs[d].id, &device));
        porta_graph *graph = parse(context);
        porta_program *program;
        CHECK(context, porta_program_create(device, graph, PORTA_PROGRAM_PROFILE, &program));
        CHECK(context, porta_program_submit(program));
        porta_step_time steps[16];
        int count = 0;
        CHECK(context, porta_program_profile(program, steps, 16, &count));
        assert_true(count >= 1);
        for (int i = 0; i < count && i < 16; i++) assert_true(steps[i].ns >= 0);
        porta_program_destroy(program);
        porta_graph_destroy(graph);
        porta_device_close(device);
        porta_context_destroy(context);
    }
}

/* Threads, each with its own context, device and programs, submitting and polling at once. */
typedef struct worker {
    const char *device_id;
    int seed;
    int rounds;
    char failure[256];
} worker;

static void *work(void *argument)
{
    worker *me = argument;
    porta_context *context = NULL;
    porta_device *device = NULL;
    porta_graph *graph = NULL;
    job *j = calloc(1, sizeof *j);
    if (!j || porta_context_create(&context) != PORTA_OK) {
        snprintf(me->failure, sizeof me->failure, "out of memory");
        free(j);
        return NULL;
    }
    porta_status s = porta_device_open(context, me->device_id, &device);
    if (s == PORTA_OK) s = porta_graph_parse(context, graph_text, strlen(graph_text), "p.pg", &graph);
    if (s == PORTA_OK) s = porta_program_create(device, graph, 0, &j->program);
    for (int round = 0; s == PORTA_OK && round < me->rounds; round++) {
        fill(j->x, j->w, me->seed * 100 + round);
        s = porta_program_set(j->program, "x", j->x, sizeof j->x);
        if (s == PORTA_OK) s = porta_program_set(j->program, "w", j->w, sizeof j->w);
        if (s == PORTA_OK) s = porta_program_submit(j->program);
        bool done = false;
        while (s == PORTA_OK && !done) s = porta_program_poll(j->program, &done);
        if (s == PORTA_OK) s = porta_program_wait(j->program);
        if (s == PORTA_OK) s = porta_program_get(j->program, "y", j->y, sizeof j->y);
        char why[128];
        if (s == PORTA_OK && check_product(j->x, j->w, j->y, why, sizeof why)) {
            snprintf(me->failure, sizeof me->failure, "%s round %d: %s", me->device_id, round, why);
            break;
        }
    }
    if (s != PORTA_OK)
        snprintf(me->failure, sizeof me->failure, "%s: %s: %s", me->device_id,
                 porta_status_name(s), porta_last_error(context));
    porta_program_destroy(j->program);
    free(j);
    porta_graph_destroy(graph);
    porta_device_close(device);
    porta_context_destroy(context);
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    enum { PER_DEVICE = 2 };
    worker workers[MAX_DEVICES * PER_DEVICE];
    pthread_t threads[MAX_DEVICES * PER_DEVICE];
    int n = 0;
    for (int d = 0; d < n_descs; d++)
        for (int k = 0; k < PER_DEVICE; k++, n++) {
            workers[n] = (worker){descs[d].id, n, 4, ""};
            assert_int_equal(pthread_create(&threads[n], NULL, work, &workers[n]), 0);
        }
    for (int i = 0; i < n; i++) pthread_join(threads[i], NULL);
    for (int i = 0; i < n; i++)
        if (workers[i].failure[0]) fail_msg("thread %d: %s", i, workers[i].failure);
}

static int setup(void **state)
{
    (void)state;
    porta_context *context;
    if (porta_context_create(&context) != PORTA_OK) return -1;
    int count = 0;
    porta_device_list(context, descs, MAX_DEVICES, &count);
    n_descs = count < MAX_DEVICES ? count : MAX_DEVICES;
    for (int d = 0; d < n_descs; d++) fprintf(stderr, "device %s: %s\n", descs[d].id, descs[d].name);
    if (!n_descs) fprintf(stderr, "no devices found:\n%s", porta_device_absent(context));
    porta_context_destroy(context);
    return n_descs ? 0 : -1;   /* no device would pass every test vacuously */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_submit_poll_wait),
        cmocka_unit_test(test_several_in_flight),
        cmocka_unit_test(test_profile),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
