#include "tests/runtime_fixture.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int rt_devices_setup(void **state)
{
    rt_devices *all = calloc(1, sizeof *all);
    if (!all || porta_context_create(&all->context) != PORTA_OK) return -1;
    porta_device_desc descs[RT_MAX_DEVICES];
    int count = 0;
    if (porta_device_list(all->context, descs, RT_MAX_DEVICES, &count) != PORTA_OK) return -1;
    if (count > RT_MAX_DEVICES) count = RT_MAX_DEVICES;
    for (int i = 0; i < count; i++) {
        porta_device *device = NULL;
        if (porta_device_open(all->context, descs[i].id, &device) != PORTA_OK) {
            fprintf(stderr, "cannot open %s: %s\n", descs[i].id, porta_last_error(all->context));
            return -1;
        }
        all->devices[all->count++] = device;
        fprintf(stderr, "device %s: %s\n", descs[i].id, descs[i].name);
    }
    if (all->count == 0) {
        fprintf(stderr, "no devices found:\n%s", porta_device_absent(all->context));
        return -1;
    }
    *state = all;
    return 0;
}

int rt_devices_teardown(void **state)
{
    rt_devices *all = *state;
    if (!all) return 0;
    int failures = 0;
    for (int i = 0; i < all->count; i++) {
        /* Any validation-layer message (Vulkan with PORTA_VULKAN_VALIDATION=1) fails the suite. */
        const porta_device *device = all->devices[i];
        const char *first = "";
        uint64_t messages = device->backend->validation_messages
                                ? device->backend->validation_messages(device->device, &first)
                                : 0;
        if (messages) {
            fprintf(stderr, "%s: %llu validation messages; the first: %s\n", device->desc.id,
                    (unsigned long long)messages, first);
            failures++;
        }
        porta_device_close(all->devices[i]);
    }
    porta_context_destroy(all->context);
    free(all);
    return failures ? -1 : 0;
}

int rt_run_child(const char *self, const char *const *args, const char *const *env, char *out,
                 size_t size)
{
    int fds[2];
    if (pipe(fds) != 0) return -1;
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], STDOUT_FILENO);
        for (int i = 0; env && env[i]; i++) putenv((char *)env[i]);
        const char *argv[32] = {self};
        for (int i = 0; args && args[i] && i < 30; i++) argv[i + 1] = args[i];
        execv(self, (char *const *)argv);
        _exit(127);
    }
    close(fds[1]);
    size_t length = 0;
    for (;;) {
        char chunk[4096];
        ssize_t got = read(fds[0], chunk, sizeof chunk);
        if (got <= 0) break;
        size_t keep = (size_t)got;
        if (length + keep >= size) keep = size - 1 - length;
        memcpy(out + length, chunk, keep);
        length += keep;
    }
    out[length] = '\0';
    close(fds[0]);
    int status = 0;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -1;
    return WEXITSTATUS(status);
}

void rt_temp_dir(char *out, size_t size)
{
    snprintf(out, size, "/tmp/porta-test-XXXXXX");
    if (!mkdtemp(out)) out[0] = '\0';
}

void rt_remove_dir(const char *path)
{
    DIR *dir = opendir(path);
    if (!dir) return;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        if (!strcmp(entry->d_name, ".") || !strcmp(entry->d_name, "..")) continue;
        char file[2048];
        snprintf(file, sizeof file, "%s/%s", path, entry->d_name);
        remove(file);
    }
    closedir(dir);
    rmdir(path);
}

void rt_expect_error(porta_context *context, porta_status got, porta_status want,
                     const char *words)
{
    if (got != want)
        fail_msg("expected %s, got %s: %s", porta_status_name(want), porta_status_name(got),
                 porta_last_error(context));
    if (!strstr(porta_last_error(context), words))
        fail_msg("message '%s' lacks '%s'", porta_last_error(context), words);
}
