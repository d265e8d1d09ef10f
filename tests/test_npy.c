/* .npy reading and writing: round trips in every dtype, the header NumPy writes, other
 * dtypes and versions read, and malformed files rejected with clear messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "porta.h"
#include "host/npy.h"
#include "host/reference/half.h"
#include "host/reference/reference.h"

static void test_npy_round_trip(void **state)
{
    (void)state;
    porta_context *c;
    assert_int_equal(porta_context_create(&c), PORTA_OK);
    porta_shape s = {2, {2, 3}};
    double v[6] = {1.5, -2.25, 0.1, 65504, 3, -0.0};
    double out[6];
    char *data;
    size_t length;
    const porta_dtype dtypes[] = {PORTA_F32, PORTA_F16, PORTA_I32};
    for (int d = 0; d < 3; d++) {
        assert_int_equal(porta_npy_encode(c, dtypes[d], &s, v, &data, &length), PORTA_OK);
        assert_int_equal(length % 64, (6 * porta_dtype_size(dtypes[d])) % 64);
        assert_int_equal(porta_npy_decode(c, "mem", data, length, "t", dtypes[d], &s, out),
                         PORTA_OK);
        double want[6];
        memcpy(want, v, sizeof want);
        porta_reference_round(dtypes[d], want, 6);
        for (int i = 0; i < 6; i++) assert_true(out[i] == want[i]);
        free(data);
    }
    /* Header text as NumPy writes it. */
    assert_int_equal(porta_npy_encode(c, PORTA_F32, &(porta_shape){1, {3}}, v, &data, &length),
                     PORTA_OK);
    assert_int_equal(length, 128 + 12);
    assert_memory_equal(data, "\x93NUMPY\x01\x00\x76\x00{'descr': '<f4', 'fortran_order': False, "
                              "'shape': (3,), }", 10 + 57);
    assert_int_equal(data[127], '\n');
    free(data);
    /* Scalars. */
    assert_int_equal(porta_npy_encode(c, PORTA_F32, &(porta_shape){0, {0}}, v, &data, &length),
                     PORTA_OK);
    assert_int_equal(porta_npy_decode(c, "mem", data, length, "t", PORTA_F32,
                                      &(porta_shape){0, {0}}, out), PORTA_OK);
    assert_true(out[0] == 1.5);
    free(data);
    /* Through a file. */
    char dir[] = "/tmp/porta-npy-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/t.npy", dir);
    assert_int_equal(porta_npy_write(c, path, PORTA_F16, &s, v), PORTA_OK);
    assert_int_equal(porta_npy_read(c, path, "t", PORTA_F16, &s, out), PORTA_OK);
    assert_true(out[2] == porta_half_round(0.1));
    unlink(path);
    rmdir(dir);
    porta_context_destroy(c);
}

/* A hand-made .npy: version, header dict and payload. */
static size_t make_npy(unsigned char *buffer, int major, const char *dict, const void *payload,
                       size_t payload_length)
{
    size_t prefix = major == 1 ? 10 : 12, n = strlen(dict);
    memcpy(buffer, "\x93NUMPY", 6);
    buffer[6] = (unsigned char)major;
    buffer[7] = 0;
    if (major == 1) {
        buffer[8] = (unsigned char)n;
        buffer[9] = (unsigned char)(n >> 8);
    } else {
        buffer[8] = (unsigned char)n;
        buffer[9] = (unsigned char)(n >> 8);
        buffer[10] = buffer[11] = 0;
    }
    memcpy(buffer + prefix, dict, n);
    memcpy(buffer + prefix + n, payload, payload_length);
    return prefix + n + payload_length;
}

static void test_npy_read_f8_i8_and_v2(void **state)
{
    (void)state;
    porta_context *c;
    assert_int_equal(porta_context_create(&c), PORTA_OK);
    unsigned char buffer[256];
    double f8[2] = {0.1, -3.5}, out[2];
    size_t n = make_npy(buffer, 2, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }\n",
                        f8, sizeof f8);
    assert_int_equal(porta_npy_decode(c, "mem", buffer, n, "t", PORTA_F32, &(porta_shape){1, {2}},
                                      out), PORTA_OK);
    assert_true(out[0] == (double)0.1f && out[1] == -3.5);
    int64_t i8[2] = {7, -2};
    n = make_npy(buffer, 1, "{\"shape\": (2,), \"descr\": \"<i8\", \"fortran_order\": False}",
                 i8, sizeof i8);
    assert_int_equal(porta_npy_decode(c, "mem", buffer, n, "t", PORTA_I32, &(porta_shape){1, {2}},
                                      out), PORTA_OK);
    assert_true(out[0] == 7 && out[1] == -2);
    int64_t big = (int64_t)1 << 40;
    n = make_npy(buffer, 1, "{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }", &big, 8);
    assert_int_equal(porta_npy_decode(c, "mem", buffer, n, "ids", PORTA_I32,
                                      &(porta_shape){1, {1}}, out), PORTA_ERROR_SHAPE);
    assert_non_null(strstr(porta_last_error(c), "outside the i32 range"));
    porta_context_destroy(c);
}

static void expect_rejected(porta_context *c, const unsigned char *data, size_t length,
                            porta_dtype dtype, const porta_shape *shape, const char *message)
{
    double out[16];
    porta_status status = porta_npy_decode(c, "x.npy", data, length, "emb", dtype, shape, out);
    assert_int_not_equal(status, PORTA_OK);
    if (!strstr(porta_last_error(c), message))
        fail_msg("message '%s' lacks '%s'", porta_last_error(c), message);
}

static void test_npy_malformed(void **state)
{
    (void)state;
    porta_context *c;
    assert_int_equal(porta_context_create(&c), PORTA_OK);
    unsigned char buffer[512];
    float f4[6] = {1, 2, 3, 4, 5, 6};
    const porta_shape s = {2, {2, 3}};
    const char *good = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
    size_t n = make_npy(buffer, 1, good, f4, sizeof f4);
    double out[6];
    assert_int_equal(porta_npy_decode(c, "x.npy", buffer, n, "emb", PORTA_F32, &s, out), PORTA_OK);
    assert_true(out[5] == 6);

    /* Every truncation of a valid file is rejected, never read past. */
    for (size_t cut = 0; cut < n; cut++) {
        unsigned char *copy = malloc(cut ? cut : 1);
        memcpy(copy, buffer, cut);
        assert_int_not_equal(porta_npy_decode(c, "x.npy", copy, cut, "emb", PORTA_F32, &s, out),
                             PORTA_OK);
        free(copy);
    }
    expect_rejected(c, buffer, 30, PORTA_F32, &s, "truncated header");
    expect_rejected(c, buffer, n - 1, PORTA_F32, &s, "truncated data");
    expect_rejected(c, (const unsigned char *)"PK\x03\x04 not npy at all", 20, PORTA_F32, &s,
                    "magic");
    n = make_npy(buffer, 1, good, f4, sizeof f4 + 0);
    buffer[n] = 0;
    expect_rejected(c, buffer, n + 1, PORTA_F32, &s, "bytes after");
    n = make_npy(buffer, 1, "{'descr': '<u2', 'fortran_order': False, 'shape': (2, 3), }", f4, 12);
    expect_rejected(c, buffer, n, PORTA_F32, &s, "dtype '<u2' is not supported");
    n = make_npy(buffer, 1, "{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }", f4, 24);
    expect_rejected(c, buffer, n, PORTA_F32, &s, "dtype '>f4' is not supported");
    n = make_npy(buffer, 1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", f4, 24);
    expect_rejected(c, buffer, n, PORTA_F32, &s, "fortran_order");
    n = make_npy(buffer, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }", f4, 24);
    expect_rejected(c, buffer, n, PORTA_F32, &s,
                    "tensor 'emb' expects shape [2, 3] but the file has shape [3, 2]");
    n = make_npy(buffer, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1, 2, 3), }",
                 f4, 24);
    expect_rejected(c, buffer, n, PORTA_F32, &s, "rank 5");
    n = make_npy(buffer, 1, good, f4, 24);
    expect_rejected(c, buffer, n, PORTA_I32, &s, "tensor 'emb' is i32");
    n = make_npy(buffer, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, 99999999999), }", f4, 24);
    expect_rejected(c, buffer, n, PORTA_F32, &s, "expects shape");
    n = make_npy(buffer, 1, "{'descr': '<f4', 'fortran_order': False}", f4, 24);
    expect_rejected(c, buffer, n, PORTA_F32, &s, "lacks");
    n = make_npy(buffer, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'x': 1}",
                 f4, 24);
    expect_rejected(c, buffer, n, PORTA_F32, &s, "unexpected header key 'x'");
    n = make_npy(buffer, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3", f4, 0);
    expect_rejected(c, buffer, n, PORTA_F32, &s, "shape");
    n = make_npy(buffer, 1, good, f4, 24);
    buffer[6] = 9;
    expect_rejected(c, buffer, n, PORTA_F32, &s, "version 9.0 is not supported");
    n = make_npy(buffer, 2, good, f4, 24);
    buffer[10] = 0xff; /* header length far past the end */
    expect_rejected(c, buffer, n, PORTA_F32, &s, "truncated header");
    expect_rejected(c, buffer, n, PORTA_F32, &s, "truncated header");
    assert_int_equal(porta_npy_read(c, "/nonexistent/x.npy", "emb", PORTA_F32, &s, out),
                     PORTA_ERROR_IO);
    porta_context_destroy(c);
}

/* The OS's reason in every message; a failed write leaves no truncated file; a directory is
 * named as one. */
static void test_npy_file_errors(void **state)
{
    (void)state;
    porta_context *c;
    assert_int_equal(porta_context_create(&c), PORTA_OK);
    const porta_shape s = {1, {4096}};
    double *v = calloc(4096, sizeof *v);
    assert_non_null(v);
    if (access("/dev/full", W_OK) == 0) {
        assert_int_equal(porta_npy_write(c, "/dev/full", PORTA_F32, &s, v), PORTA_ERROR_IO);
        assert_non_null(strstr(porta_last_error(c), "write failed: No space left on device"));
    }
    char dir[] = "/tmp/porta-npy-XXXXXX";
    assert_non_null(mkdtemp(dir));
    assert_int_equal(porta_npy_read(c, dir, "emb", PORTA_F32, &s, v), PORTA_ERROR_IO);
    assert_non_null(strstr(porta_last_error(c), "is a directory"));
    assert_int_equal(porta_npy_write(c, dir, PORTA_F32, &s, v), PORTA_ERROR_IO);
    assert_non_null(strstr(porta_last_error(c), "is a directory"));
    /* A good write leaves only the target, no temporary beside it. */
    char path[64];
    snprintf(path, sizeof path, "%s/out.npy", dir);
    assert_int_equal(porta_npy_write(c, path, PORTA_F32, &s, v), PORTA_OK);
    DIR *listing = opendir(dir);
    assert_non_null(listing);
    struct dirent *item;
    while ((item = readdir(listing)) != NULL)
        if (item->d_name[0] != '.') assert_string_equal(item->d_name, "out.npy");
    closedir(listing);
    remove(path);
    rmdir(dir);
    free(v);
    porta_context_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_npy_round_trip),
        cmocka_unit_test(test_npy_read_f8_i8_and_v2),
        cmocka_unit_test(test_npy_malformed),
        cmocka_unit_test(test_npy_file_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
