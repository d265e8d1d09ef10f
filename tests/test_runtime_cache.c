/* The on-disk kernel cache across processes, on every device of every registered backend: a
 * first child process with an empty PORTA_CACHE_DIR compiles every kernel from source; a second
 * child with the same directory compiles none and loads them all. Counted, not timed: the child
 * prints its device's porta_cache_stats. Faults: entries with flipped bytes, truncated, emptied or
 * removed, between runs and while a run reads them, and a writer killed mid-write; every child
 * must still fill a buffer with the exact value, and the damaged entries must be replaced. */
#include "tests/runtime_fixture.h"
#include "runtime/cache.h"
#include "runtime/vulkan/inspect.h"

#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *self_path;

/* Fills 4096 floats with 2.5 using `fill` and checks every one: a wrong binary cannot pass. */
static bool fill_is_exact(porta_device *device, porta_backend_kernel *fill)
{
    enum { N = 4096 };
    const porta_backend *be = device->backend;
    porta_backend_buffer *buffer = NULL;
    if (be->buffer_create(device->device, N * 4, &buffer) != PORTA_OK) return false;
    float value = 2.5f;
    porta_dispatch d = {.kernel = fill, .n_bindings = 1, .param_bytes = 8,
                        .groups = {N / 64, 1, 1}};
    d.bindings[0].buffer = buffer;
    uint32_t params[2] = {N, 0};
    memcpy(&params[1], &value, 4);
    memcpy(d.params, params, sizeof params);
    porta_backend_sequence *sequence = NULL;
    static float out[N];
    bool ok = be->sequence_create(device->device, &d, 1, false, &sequence) == PORTA_OK &&
              porta_sequence_run(be, sequence) == PORTA_OK &&
              be->buffer_download(buffer, 0, out, sizeof out) == PORTA_OK;
    for (int i = 0; ok && i < N; i++) ok = out[i] == value;
    be->sequence_destroy(sequence);
    be->buffer_destroy(buffer);
    return ok;
}

/* Child: opens `selector`, creates the four kernels, runs fill, prints
 * "built=B loaded=L reused=R filled=F vkloaded=V". */
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
        if (i == 0 && !fill_is_exact(device, kernel)) {
            fprintf(stderr, "%s: fill gave a wrong result\n", selector);
            return 6;
        }
        device->backend->kernel_destroy(kernel);
    }
    porta_cache_stats stats;
    porta_device_cache_stats(device, &stats);
    porta_vulkan_stats vulkan = {0};
    if (device->backend->api == PORTA_API_VULKAN) porta_vulkan_device_stats(device->device, &vulkan);
    printf("built=%llu loaded=%llu reused=%llu filled=1 vkloaded=%llu\n",
           (unsigned long long)stats.built, (unsigned long long)stats.loaded,
           (unsigned long long)stats.reused, (unsigned long long)vulkan.pipeline_cache_loaded);
    porta_device_close(device);
    porta_context_destroy(context);
    return 0;
}

/* Runs a child; fails unless it exited 0 having filled its buffer exactly. `out_vk_loaded` (may
 * be NULL) receives the bytes of Vulkan pipeline cache it loaded. */
static void run_counting(const char *selector, const char *cache_env, porta_cache_stats *out,
                         unsigned long long *out_vk_loaded)
{
    const char *args[] = {"--child", selector, NULL};
    const char *env[] = {cache_env, NULL};
    char output[512];
    int rc = rt_run_child(self_path, args, env, output, sizeof output);
    if (rc != 0) fail_msg("%s: child exited with %d", selector, rc);
    unsigned long long built, loaded, reused, filled, vk_loaded;
    if (sscanf(output, "built=%llu loaded=%llu reused=%llu filled=%llu vkloaded=%llu", &built,
               &loaded, &reused, &filled, &vk_loaded) != 5 || filled != 1)
        fail_msg("%s: unexpected child output '%s'", selector, output);
    *out = (porta_cache_stats){built, loaded, reused};
    if (out_vk_loaded) *out_vk_loaded = vk_loaded;
}

static void run(const char *selector, const char *cache_env, porta_cache_stats *out)
{
    run_counting(selector, cache_env, out, NULL);
}

/* ---- faults -------------------------------------------------------------------------------- */

typedef enum damage { FLIP_HEADER, FLIP_DATA, FLIP_LAST, TRUNCATE_HALF, TRUNCATE_TO_HEADER,
                      EMPTY, REMOVE, DAMAGE_COUNT } damage;
static const char *const damage_names[] = {"flip a header byte", "flip a data byte",
                                           "flip the last byte", "truncate to half",
                                           "truncate to the header", "empty", "remove"};

static bool is_entry(const char *name)
{
    size_t n = strlen(name);
    return n > 4 && !strcmp(name + n - 4, ".bin");
}

static void flip_byte(const char *path, long offset)
{
    FILE *file = fopen(path, "r+b");
    if (!file) return;   /* a concurrent rebuild may have replaced it */
    if (fseek(file, offset, SEEK_SET) == 0) {
        int c = fgetc(file);
        if (c != EOF && fseek(file, offset, SEEK_SET) == 0) fputc(c ^ 0x5a, file);
    }
    fclose(file);
}

static void damage_entry(const char *path, damage how)
{
    struct stat info;
    if (stat(path, &info) != 0) return;
    long size = (long)info.st_size;
    switch (how) {
    case FLIP_HEADER: flip_byte(path, 20); break;
    case FLIP_DATA: flip_byte(path, size * 3 / 4); break;
    case FLIP_LAST: flip_byte(path, size - 1); break;
    case TRUNCATE_HALF: assert_int_equal(truncate(path, size / 2), 0); break;
    case TRUNCATE_TO_HEADER: assert_int_equal(truncate(path, 46), 0); break;
    case EMPTY: assert_int_equal(truncate(path, 0), 0); break;
    case REMOVE: assert_int_equal(remove(path), 0); break;
    default: break;
    }
}

/* Applies `how` to every entry in `dir`; returns how many there were (-1: no directory). */
static int damage_all(const char *dir, damage how)
{
    DIR *listing = opendir(dir);
    if (!listing) return -1;
    struct dirent *item;
    int n = 0;
    while ((item = readdir(listing)) != NULL) {
        if (!is_entry(item->d_name)) continue;
        char path[600];
        snprintf(path, sizeof path, "%s/%s", dir, item->d_name);
        damage_entry(path, how);
        n++;
    }
    closedir(listing);
    return n;
}

/* Entries and temporaries in `dir`. */
static void count_files(const char *dir, int *out_entries, int *out_temporaries)
{
    *out_entries = *out_temporaries = 0;
    DIR *listing = opendir(dir);
    assert_non_null(listing);
    struct dirent *item;
    while ((item = readdir(listing)) != NULL) {
        size_t n = strlen(item->d_name);
        if (is_entry(item->d_name)) (*out_entries)++;
        if (n > 4 && !strcmp(item->d_name + n - 4, ".tmp")) (*out_temporaries)++;
    }
    closedir(listing);
}

/* Every damage to every entry, between runs: each run is right, rebuilds what was damaged, and
 * leaves an entry the next run loads. */
static void test_damaged_entries_heal(void **state)
{
    rt_devices *all = *state;
    for (int d = 0; d < all->count; d++) {
        const char *id = all->devices[d]->desc.id;
        bool opencl = all->devices[d]->backend->api == PORTA_API_OPENCL;
        char dir[256], cache_env[300];
        rt_temp_dir(dir, sizeof dir);
        snprintf(cache_env, sizeof cache_env, "PORTA_CACHE_DIR=%s", dir);
        porta_cache_stats stats;
        unsigned long long vk_loaded;
        run_counting(id, cache_env, &stats, &vk_loaded);
        int entries, temporaries;
        count_files(dir, &entries, &temporaries);
        assert_true(entries >= 1);
        for (int how = 0; how < DAMAGE_COUNT; how++) {
            assert_int_equal(damage_all(dir, (damage)how), entries);
            run_counting(id, cache_env, &stats, &vk_loaded);
            fprintf(stderr, "%s: %s: built %llu loaded %llu\n", id, damage_names[how],
                    (unsigned long long)stats.built, (unsigned long long)stats.loaded);
            if (opencl) {
                assert_int_equal(stats.built, 4);
                assert_int_equal(stats.loaded, 0);
            } else {
                assert_int_equal(vk_loaded, 0);
            }
            int now_entries;
            count_files(dir, &now_entries, &temporaries);
            assert_int_equal(now_entries, entries);
            assert_int_equal(temporaries, 0);
            /* The replacement is whole: the next run loads it all. */
            run_counting(id, cache_env, &stats, &vk_loaded);
            if (opencl) {
                assert_int_equal(stats.built, 0);
                assert_int_equal(stats.loaded, 4);
            } else {
                assert_true(vk_loaded > 0);
            }
        }
        rt_remove_dir(dir);
    }
}

/* A process flipping bytes in every entry while runs load them: each run is still right. */
static void test_damage_while_running(void **state)
{
    rt_devices *all = *state;
    for (int d = 0; d < all->count; d++) {
        const char *id = all->devices[d]->desc.id;
        char dir[256], cache_env[300];
        rt_temp_dir(dir, sizeof dir);
        snprintf(cache_env, sizeof cache_env, "PORTA_CACHE_DIR=%s", dir);
        porta_cache_stats stats;
        run(id, cache_env, &stats);
        pid_t parent = getpid();
        pid_t vandal = fork();
        assert_true(vandal >= 0);
        if (vandal == 0) {
            /* Stops by itself if a failed run ends the test before the kill below. */
            for (unsigned i = 0; getppid() == parent && i < 60000; i++) {
                damage_all(dir, (damage)(i % 3));
                usleep(2000);
            }
            _exit(0);
        }
        for (int r = 0; r < 3; r++) run(id, cache_env, &stats);
        kill(vandal, SIGKILL);
        waitpid(vandal, NULL, 0);
        /* Whatever the last run found, the one after it rebuilds or loads a good entry. */
        run(id, cache_env, &stats);
        run(id, cache_env, &stats);
        if (all->devices[d]->backend->api == PORTA_API_OPENCL) assert_int_equal(stats.loaded, 4);
        rt_remove_dir(dir);
    }
}

/* Child of test_killed_writer: stores 4 MiB entries until killed. */
static _Noreturn void write_forever(const char *dir)
{
    setenv("PORTA_CACHE_DIR", dir, 1);
    porta_context *context = NULL;
    if (porta_context_create(&context) != PORTA_OK) _exit(3);
    porta_cache cache;
    porta_cache_init(context, &cache);
    size_t size = 4u << 20;
    char *data = calloc(1, size);
    for (unsigned i = 0; data; i++) {
        char key[64];
        snprintf(key, sizeof key, "entry %u", i % 4);
        porta_cache_store(context, &cache, "fault", key, data, size);
    }
    _exit(4);
}

typedef struct store_job {
    const porta_cache *cache;
    porta_context *context;
    char fill;
} store_job;

static void *store_repeatedly(void *argument)
{
    store_job *job = argument;
    enum { SIZE = 64 << 10 };
    char *data = malloc(SIZE);
    if (!data) return NULL;
    memset(data, job->fill, SIZE);
    for (int i = 0; i < 100; i++)
        porta_cache_store(job->context, job->cache, "threads", "one key", data, SIZE);
    free(data);
    return NULL;
}

/* Two threads storing the same entry: each temporary is its own, so the entry that remains is
 * one thread's whole data, never a mix, and no temporary is left. */
static void test_threads_store_one_entry(void **state)
{
    (void)state;
    char dir[256];
    rt_temp_dir(dir, sizeof dir);
    const char *suite_dir = getenv("PORTA_CACHE_DIR");
    char *saved = suite_dir ? strdup(suite_dir) : NULL;
    setenv("PORTA_CACHE_DIR", dir, 1);
    porta_context *context = NULL;
    assert_int_equal(porta_context_create(&context), PORTA_OK);
    porta_cache cache;
    porta_cache_init(context, &cache);
    if (saved) setenv("PORTA_CACHE_DIR", saved, 1);
    else unsetenv("PORTA_CACHE_DIR");
    free(saved);
    store_job jobs[2] = {{&cache, context, 'a'}, {&cache, context, 'b'}};
    pthread_t threads[2];
    for (int t = 0; t < 2; t++)
        assert_int_equal(pthread_create(&threads[t], NULL, store_repeatedly, &jobs[t]), 0);
    for (int t = 0; t < 2; t++) pthread_join(threads[t], NULL);
    void *data = NULL;
    size_t size = 0;
    assert_true(porta_cache_load(context, &cache, "threads", "one key", &data, &size));
    assert_int_equal(size, 64 << 10);
    const char *bytes = data;
    for (size_t i = 1; i < size; i++) assert_int_equal(bytes[i], bytes[0]);
    free(data);
    int entries, temporaries;
    count_files(dir, &entries, &temporaries);
    assert_int_equal(entries, 1);
    assert_int_equal(temporaries, 0);
    porta_context_destroy(context);
    rt_remove_dir(dir);
}

/* A writer killed between write and rename leaves a temporary: the next open removes it, and the
 * next run is right. Also: two threads' temporaries never share a name (pid + serial). */
static void test_killed_writer(void **state)
{
    rt_devices *all = *state;
    char dir[256], cache_env[300];
    rt_temp_dir(dir, sizeof dir);
    snprintf(cache_env, sizeof cache_env, "PORTA_CACHE_DIR=%s", dir);
    /* Killed once a temporary exists, i.e. mid-write; a kill that lands just after a rename
     * leaves none, so it is tried again. */
    int entries = 0, temporaries = 0;
    for (int attempt = 0; attempt < 20 && !temporaries; attempt++) {
        pid_t writer = fork();
        assert_true(writer >= 0);
        if (writer == 0) write_forever(dir);
        for (int i = 0; i < 5000 && !temporaries; i++) {
            count_files(dir, &entries, &temporaries);
            if (!temporaries) usleep(500);
        }
        kill(writer, SIGKILL);
        waitpid(writer, NULL, 0);
        count_files(dir, &entries, &temporaries);
    }
    fprintf(stderr, "killed writer left %d entries, %d temporaries\n", entries, temporaries);
    assert_true(temporaries >= 1);
    for (int d = 0; d < all->count; d++) {
        porta_cache_stats stats;
        run(all->devices[d]->desc.id, cache_env, &stats);
    }
    count_files(dir, &entries, &temporaries);
    assert_int_equal(temporaries, 0);
    rt_remove_dir(dir);
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
        cmocka_unit_test(test_damaged_entries_heal),
        cmocka_unit_test(test_damage_while_running),
        cmocka_unit_test(test_killed_writer),
        cmocka_unit_test(test_threads_store_one_entry),
    };
    return cmocka_run_group_tests_name("runtime_cache", tests, rt_devices_setup, rt_devices_teardown);
}
