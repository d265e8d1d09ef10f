/* Sharded safetensors checkpoints: an index file and its shards opened as one set of weights,
 * through the index or the folder; and the errors of a broken set, each naming the file. Files
 * are written to a fresh temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "porta.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char temp_dir[256];

static int make_temp_dir(void **state)
{
    (void)state;
    const char *base = getenv("TMPDIR");
    snprintf(temp_dir, sizeof temp_dir, "%s/porta-shards-XXXXXX", base && *base ? base : "/tmp");
    return mkdtemp(temp_dir) ? 0 : -1;
}

static int remove_temp_dir(void **state)
{
    (void)state;
    char command[512];
    snprintf(command, sizeof command, "rm -rf '%s'", temp_dir);
    return system(command) == 0 ? 0 : -1;
}

static void path_in(char *out, size_t size, const char *folder, const char *name)
{
    snprintf(out, size, "%s/%s%s%s", temp_dir, folder, *name ? "/" : "", name);
}

static void write_text(const char *folder, const char *name, const char *text)
{
    char path[512];
    path_in(path, sizeof path, folder, name);
    FILE *file = fopen(path, "wb");
    assert_non_null(file);
    assert_int_equal(fputs(text, file) >= 0, 1);
    assert_int_equal(fclose(file), 0);
}

/* A safetensors file holding F32 tensors `names[i]` of `counts[i]` values, value k of tensor i
 * being 10·i + k + first. */
static void write_shard(const char *folder, const char *name, int n, const char *const *names,
                        const int *counts, float first)
{
    char header[512] = "{";
    size_t offset = 0;
    for (int i = 0; i < n; i++) {
        snprintf(header + strlen(header), sizeof header - strlen(header),
                 "%s\"%s\":{\"dtype\":\"F32\",\"shape\":[%d],\"data_offsets\":[%zu,%zu]}",
                 i ? "," : "", names[i], counts[i], offset, offset + 4u * (size_t)counts[i]);
        offset += 4u * (size_t)counts[i];
    }
    strcat(header, "}");
    char path[512];
    path_in(path, sizeof path, folder, name);
    FILE *file = fopen(path, "wb");
    assert_non_null(file);
    uint64_t length = strlen(header);
    unsigned char le[8];
    for (int i = 0; i < 8; i++) le[i] = (unsigned char)(length >> (8 * i));
    assert_int_equal(fwrite(le, 1, 8, file), 8);
    assert_int_equal(fwrite(header, 1, length, file), length);
    for (int i = 0; i < n; i++)
        for (int k = 0; k < counts[i]; k++) {
            float v = first + 10.0f * (float)i + (float)k;
            assert_int_equal(fwrite(&v, 4, 1, file), 1); /* the tests run on little-endian hosts */
        }
    assert_int_equal(fclose(file), 0);
}

static const char *const INDEX = "model.safetensors.index.json";

/* A folder with shards a (x[2], y[3]) and b (z[1]) and an index naming them. */
static void make_checkpoint(const char *folder, const char *index)
{
    char path[512];
    path_in(path, sizeof path, folder, "");
    assert_int_equal(mkdir(path, 0777), 0);
    write_shard(folder, "a.safetensors", 2, (const char *const[]){"x", "y"}, (int[]){2, 3}, 1.0f);
    write_shard(folder, "b.safetensors", 1, (const char *const[]){"z"}, (int[]){1}, 100.0f);
    write_text(folder, INDEX, index);
}

static const char *const GOOD_INDEX =
    "{\"metadata\": {\"total_size\": 24}, \"weight_map\": {\"x\": \"a.safetensors\", "
    "\"y\": \"a.safetensors\", \"z\": \"b.safetensors\"}}";

static void expect_values(porta_weights *w)
{
    assert_int_equal(porta_weights_count(w), 3);
    float x[2], y[3], z[1];
    assert_int_equal(porta_weights_read(w, "x", PORTA_F32, NULL, x, sizeof x), PORTA_OK);
    assert_int_equal(porta_weights_read(w, "y", PORTA_F32, NULL, y, sizeof y), PORTA_OK);
    assert_int_equal(porta_weights_read(w, "z", PORTA_F32, NULL, z, sizeof z), PORTA_OK);
    assert_true(x[0] == 1.0f && x[1] == 2.0f);
    assert_true(y[0] == 11.0f && y[1] == 12.0f && y[2] == 13.0f);
    assert_true(z[0] == 100.0f);
    porta_weight_info info;
    assert_int_equal(porta_weights_info(w, 2, &info), PORTA_OK);
    assert_string_equal(info.name, "z");
    assert_int_equal(info.dims[0], 1);
}

static void test_open_index_and_folder(void **state)
{
    (void)state;
    porta_context *ctx;
    assert_int_equal(porta_context_create(&ctx), PORTA_OK);
    make_checkpoint("good", GOOD_INDEX);
    char path[512];
    porta_weights *w = NULL;
    path_in(path, sizeof path, "good", INDEX);
    assert_int_equal(porta_weights_open(ctx, path, &w), PORTA_OK);
    expect_values(w);
    porta_weights_close(w);

    path_in(path, sizeof path, "good", "");
    assert_int_equal(porta_weights_open(ctx, path, &w), PORTA_OK);
    expect_values(w);
    porta_weights_close(w);

    /* A folder with a single model.safetensors opens that file. */
    path_in(path, sizeof path, "single", "");
    assert_int_equal(mkdir(path, 0777), 0);
    write_shard("single", "model.safetensors", 1, (const char *const[]){"w"}, (int[]){2}, 7.0f);
    assert_int_equal(porta_weights_open(ctx, path, &w), PORTA_OK);
    float v[2];
    assert_int_equal(porta_weights_read(w, "w", PORTA_F32, NULL, v, sizeof v), PORTA_OK);
    assert_true(v[0] == 7.0f && v[1] == 8.0f);
    porta_weights_close(w);
    porta_context_destroy(ctx);
}

static void expect_error(porta_context *ctx, const char *folder, porta_status status,
                         const char *needle)
{
    char path[512];
    path_in(path, sizeof path, folder, "");
    porta_weights *w = (porta_weights *)1;
    assert_int_equal(porta_weights_open(ctx, path, &w), status);
    assert_null(w);
    if (!strstr(porta_last_error(ctx), needle))
        fail_msg("message '%s' lacks '%s'", porta_last_error(ctx), needle);
}

static void test_broken_checkpoints(void **state)
{
    (void)state;
    porta_context *ctx;
    assert_int_equal(porta_context_create(&ctx), PORTA_OK);

    make_checkpoint("missing-shard", GOOD_INDEX);
    char path[512];
    path_in(path, sizeof path, "missing-shard", "b.safetensors");
    assert_int_equal(unlink(path), 0);
    expect_error(ctx, "missing-shard", PORTA_ERROR_IO,
                 "model.safetensors.index.json names shard 'b.safetensors' for tensor 'z': ");
    expect_error(ctx, "missing-shard", PORTA_ERROR_IO, "b.safetensors: cannot open: ");

    make_checkpoint("not-in-shard", "{\"weight_map\": {\"x\": \"a.safetensors\", \"z\": "
                                    "\"a.safetensors\", \"y\": \"b.safetensors\"}}");
    expect_error(ctx, "not-in-shard", PORTA_ERROR_PARSE, "tensor 'z' is not in its shard "
                                                         "'a.safetensors'");

    make_checkpoint("twice", GOOD_INDEX);
    write_shard("twice", "b.safetensors", 1, (const char *const[]){"x"}, (int[]){1}, 0.0f);
    expect_error(ctx, "twice", PORTA_ERROR_PARSE, "tensor 'x' is in more than one shard");

    make_checkpoint("no-map", "{\"metadata\": {}}");
    expect_error(ctx, "no-map", PORTA_ERROR_PARSE, "no \"weight_map\" object");

    make_checkpoint("bad-json", "{\"weight_map\": ");
    expect_error(ctx, "bad-json", PORTA_ERROR_PARSE, "index.json: not valid JSON");

    make_checkpoint("path-in-map", "{\"weight_map\": {\"x\": \"../a.safetensors\"}}");
    expect_error(ctx, "path-in-map", PORTA_ERROR_PARSE,
                 "weight_map entry 'x' is not the file name of a shard");

    make_checkpoint("bad-shard", GOOD_INDEX);
    write_text("bad-shard", "b.safetensors", "short");
    expect_error(ctx, "bad-shard", PORTA_ERROR_PARSE,
                 "b.safetensors: the file is 5 bytes; a safetensors file begins");

    path_in(path, sizeof path, "empty", "");
    assert_int_equal(mkdir(path, 0777), 0);
    expect_error(ctx, "empty", PORTA_ERROR_IO, "is a directory, not a file, and holds neither "
                                               "model.safetensors.index.json nor "
                                               "model.safetensors");
    porta_context_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_index_and_folder),
        cmocka_unit_test(test_broken_checkpoints),
    };
    return cmocka_run_group_tests(tests, make_temp_dir, remove_temp_dir);
}
