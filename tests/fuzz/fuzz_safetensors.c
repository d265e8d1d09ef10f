/* libFuzzer target: porta_weights_open on arbitrary bytes, then every usable tensor read as f32
 * and f16 (or i32). The loader maps files, so each input is written to one temporary file. */
#include "porta.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char path[256];
static int fd = -1;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (fd < 0) {
        const char *base = getenv("TMPDIR");
        snprintf(path, sizeof path, "%s/porta-fuzz-XXXXXX", base && *base ? base : "/tmp");
        fd = mkstemp(path);
        if (fd < 0) abort();
        unlink(path); /* reached through /proc/self/fd, so nothing is left behind */
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size) abort();

    porta_context *ctx = NULL;
    if (porta_context_create(&ctx) != PORTA_OK) abort();
    porta_weights *w = NULL;
    if (porta_weights_open(ctx, path, &w) == PORTA_OK) {
        for (int i = 0; i < porta_weights_count(w); i++) {
            porta_weight_info info;
            if (porta_weights_info(w, i, &info) != PORTA_OK || !info.usable) continue;
            if (info.bytes > (1u << 20)) continue;
            size_t room = (size_t)info.bytes * 2 + 16; /* an f16 tensor read as f32 doubles */
            void *dst = malloc(room);
            if (!dst) abort();
            bool ints = !strcmp(info.dtype, "I32");
            porta_weights_read(w, info.name, ints ? PORTA_I32 : PORTA_F32, NULL, dst, room);
            if (!ints) porta_weights_read(w, info.name, PORTA_F16, NULL, dst, room);
            free(dst);
        }
        porta_weights_close(w);
    } else if (!porta_last_error(ctx)[0]) {
        abort(); /* every failure must say why */
    }
    porta_context_destroy(ctx);
    return 0;
}
