/* Safetensors weights: reads and conversions with exact values, graph checks, and malformed files
 * that must each be refused with a message that says what is wrong. Files are written to a fresh
 * temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "porta.h"
#include "graphs/half.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char temp_dir[256];
static int file_counter;

static int make_temp_dir(void **state)
{
    (void)state;
    const char *base = getenv("TMPDIR");
    snprintf(temp_dir, sizeof temp_dir, "%s/porta-weights-XXXXXX", base && *base ? base : "/tmp");
    return mkdtemp(temp_dir) ? 0 : -1;
}

static int remove_temp_dir(void **state)
{
    (void)state;
    return rmdir(temp_dir);
}

/* Writes raw bytes to a new file in the temp dir; the path is returned in `path`. */
static void write_raw(char *path, size_t size, const void *bytes, size_t length)
{
    snprintf(path, size, "%s/w%d.safetensors", temp_dir, file_counter++);
    FILE *file = fopen(path, "wb");
    assert_non_null(file);
    if (length) assert_int_equal(fwrite(bytes, 1, length, file), length);
    assert_int_equal(fclose(file), 0);
}

/* Writes a safetensors file: the header length, `header` and `data_length` bytes of data. */
static void write_st(char *path, size_t size, const char *header, const void *data,
                     size_t data_length)
{
    size_t header_length = strlen(header);
    size_t total = 8 + header_length + data_length;
    unsigned char *bytes = malloc(total);
    assert_non_null(bytes);
    for (int i = 0; i < 8; i++) bytes[i] = (unsigned char)((uint64_t)header_length >> (8 * i));
    memcpy(bytes + 8, header, header_length);
    if (data_length) memcpy(bytes + 8 + header_length, data, data_length);
    write_raw(path, size, bytes, total);
    free(bytes);
}

static void put_f32(unsigned char *p, float value)
{
    uint32_t bits;
    memcpy(&bits, &value, 4);
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(bits >> (8 * i));
}

static void put_u16(unsigned char *p, uint16_t bits)
{
    p[0] = (unsigned char)bits;
    p[1] = (unsigned char)(bits >> 8);
}

static uint32_t bits_of(float value)
{
    uint32_t bits;
    memcpy(&bits, &value, 4);
    return bits;
}

typedef struct fixture {
    porta_context *ctx;
    porta_weights *w;
    char path[512];
} fixture;

static void open_ok(fixture *f, const char *header, const void *data, size_t length)
{
    assert_int_equal(porta_context_create(&f->ctx), PORTA_OK);
    write_st(f->path, sizeof f->path, header, data, length);
    porta_status status = porta_weights_open(f->ctx, f->path, &f->w);
    if (status != PORTA_OK) fail_msg("open failed: %s", porta_last_error(f->ctx));
    assert_non_null(f->w);
}

static void close_fixture(fixture *f)
{
    porta_weights_close(f->w);
    porta_context_destroy(f->ctx);
    unlink(f->path);
}

static void assert_error_contains(porta_context *ctx, const char *expected)
{
    const char *message = porta_last_error(ctx);
    if (!strstr(message, expected))
        fail_msg("message \"%s\" does not contain \"%s\"", message, expected);
}

/* ---- conversions ----------------------------------------------------------------------------- */

static void test_half_conversions(void **state)
{
    (void)state;
    assert_int_equal(porta_f32_to_f16(1.0f), 0x3c00);
    assert_int_equal(porta_f32_to_f16(-2.0f), 0xc000);
    assert_int_equal(porta_f32_to_f16(0.0f), 0x0000);
    assert_int_equal(porta_f32_to_f16(-0.0f), 0x8000);
    assert_int_equal(porta_f32_to_f16(65504.0f), 0x7bff);         /* the largest f16 */
    assert_int_equal(porta_f32_to_f16(65519.0f), 0x7bff);         /* rounds down */
    assert_int_equal(porta_f32_to_f16(65520.0f), 0x7c00);         /* the tie rounds to inf */
    assert_int_equal(porta_f32_to_f16(1e10f), 0x7c00);
    assert_int_equal(porta_f32_to_f16(-INFINITY), 0xfc00);
    assert_int_equal(porta_f32_to_f16(ldexpf(1, -14)), 0x0400);   /* the smallest normal */
    assert_int_equal(porta_f32_to_f16(ldexpf(1, -24)), 0x0001);   /* the smallest subnormal */
    assert_int_equal(porta_f32_to_f16(ldexpf(1, -25)), 0x0000);   /* tie to even: 0 */
    assert_int_equal(porta_f32_to_f16(ldexpf(3, -26)), 0x0001);   /* 0.75 ulp rounds up */
    assert_int_equal(porta_f32_to_f16(ldexpf(3, -25)), 0x0002);   /* 1.5 ulp: tie to even 2 */
    assert_int_equal(porta_f32_to_f16(ldexpf(1023, -24) + ldexpf(1, -25)), 0x0400); /* to normal */
    assert_int_equal(porta_f32_to_f16(1.0f + ldexpf(1, -11)), 0x3c00);     /* tie, even below */
    assert_int_equal(porta_f32_to_f16(1.0f + ldexpf(3, -11)), 0x3c02);     /* tie, even above */
    assert_int_equal(porta_f32_to_f16(1.0f + ldexpf(1, -11) + ldexpf(1, -20)), 0x3c01);
    assert_int_equal(porta_f32_to_f16(ldexpf(1, -149)), 0x0000);  /* an f32 subnormal */
    uint16_t nan = porta_f32_to_f16(NAN);
    assert_int_equal(nan & 0x7c00, 0x7c00);
    assert_int_not_equal(nan & 0x03ff, 0);

    /* Every f16 goes to f32 exactly and back to the same bits. */
    for (uint32_t h = 0; h < 0x10000; h++) {
        float f = porta_f16_to_f32((uint16_t)h);
        if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff)) {
            assert_true(isnan(f));
            continue;
        }
        assert_int_equal(porta_f32_to_f16(f), h);
    }
    assert_true(porta_f16_to_f32(0x0001) == ldexpf(1, -24));
    assert_true(porta_f16_to_f32(0x7bff) == 65504.0f);
    assert_true(porta_f16_to_f32(0x3555) == 0.333251953125f);
    assert_true(porta_bf16_to_f32(0x3f80) == 1.0f);
    assert_true(porta_bf16_to_f32(0x4049) == 3.140625f);
    assert_true(porta_bf16_to_f32(0x0001) == ldexpf(1, -133));
    assert_true(isinf(porta_bf16_to_f32(0xff80)) && porta_bf16_to_f32(0xff80) < 0);
}

/* ---- reads ----------------------------------------------------------------------------------- */

static void test_read_f32(void **state)
{
    (void)state;
    const float values[6] = {1.0f, -2.5f, 65520.0f, ldexpf(1, -24), 0.1f, -0.0f};
    unsigned char data[24];
    for (int i = 0; i < 6; i++) put_f32(data + 4 * i, values[i]);
    fixture f = {0};
    open_ok(&f, "{\"a.w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}}", data, 24);

    porta_shape shape = {2, {2, 3}};
    float out[6];
    assert_int_equal(porta_weights_read(f.w, "a.w", PORTA_F32, &shape, out, sizeof out), PORTA_OK);
    for (int i = 0; i < 6; i++) assert_int_equal(bits_of(out[i]), bits_of(values[i]));

    uint16_t half[6];
    assert_int_equal(porta_weights_read(f.w, "a.w", PORTA_F16, &shape, half, sizeof half), PORTA_OK);
    const uint16_t expected[6] = {0x3c00, 0xc100, 0x7c00, 0x0001, 0x2e66, 0x8000};
    for (int i = 0; i < 6; i++) assert_int_equal(half[i], expected[i]);

    /* NULL shape: any shape; a short destination is refused. */
    assert_int_equal(porta_weights_read(f.w, "a.w", PORTA_F32, NULL, out, sizeof out), PORTA_OK);
    assert_int_equal(porta_weights_read(f.w, "a.w", PORTA_F32, NULL, out, 20),
                     PORTA_ERROR_INVALID_ARGUMENT);
    assert_error_contains(f.ctx, "needs 24 bytes");
    close_fixture(&f);
}

static void test_read_f16(void **state)
{
    (void)state;
    const uint16_t bits[5] = {0x3c00, 0xc000, 0x0001, 0x7c00, 0x7bff};
    const float expected[5] = {1.0f, -2.0f, ldexpf(1, -24), INFINITY, 65504.0f};
    unsigned char data[10];
    for (int i = 0; i < 5; i++) put_u16(data + 2 * i, bits[i]);
    fixture f = {0};
    open_ok(&f, "{\"h\":{\"dtype\":\"F16\",\"shape\":[5],\"data_offsets\":[0,10]}}  ", data, 10);
    porta_shape shape = {1, {5}};
    float out[5];
    uint16_t half[5];
    assert_int_equal(porta_weights_read(f.w, "h", PORTA_F32, &shape, out, sizeof out), PORTA_OK);
    for (int i = 0; i < 5; i++) assert_int_equal(bits_of(out[i]), bits_of(expected[i]));
    assert_int_equal(porta_weights_read(f.w, "h", PORTA_F16, &shape, half, sizeof half), PORTA_OK);
    for (int i = 0; i < 5; i++) assert_int_equal(half[i], bits[i]);
    close_fixture(&f);
}

static void test_read_bf16(void **state)
{
    (void)state;
    /* 1, 3.140625, -inf, 2^-133 (a bf16 subnormal), 1 + 2^-7 (rounds to even in f16: exact) */
    const uint16_t bits[5] = {0x3f80, 0x4049, 0xff80, 0x0001, 0x3f81};
    const float expected[5] = {1.0f, 3.140625f, -INFINITY, ldexpf(1, -133), 1.0f + ldexpf(1, -7)};
    const uint16_t expected_half[5] = {0x3c00, 0x4248, 0xfc00, 0x0000, 0x3c08};
    unsigned char data[16] = {0};
    for (int i = 0; i < 5; i++) put_u16(data + 6 + 2 * i, bits[i]);
    fixture f = {0};
    /* The tensor starts at an odd-looking offset after another one: offsets are honored. */
    open_ok(&f,
            "{\"__metadata__\":{\"format\":\"pt\"},"
            "\"pad\":{\"dtype\":\"U8\",\"shape\":[6],\"data_offsets\":[0,6]},"
            "\"b\":{\"dtype\":\"BF16\",\"shape\":[1,5],\"data_offsets\":[6,16]}}",
            data, 16);
    porta_shape shape = {2, {1, 5}};
    float out[5];
    uint16_t half[5];
    assert_int_equal(porta_weights_read(f.w, "b", PORTA_F32, &shape, out, sizeof out), PORTA_OK);
    for (int i = 0; i < 5; i++) assert_int_equal(bits_of(out[i]), bits_of(expected[i]));
    assert_int_equal(porta_weights_read(f.w, "b", PORTA_F16, &shape, half, sizeof half), PORTA_OK);
    for (int i = 0; i < 5; i++) assert_int_equal(half[i], expected_half[i]);
    close_fixture(&f);
}

static void test_read_i32_and_dtype_errors(void **state)
{
    (void)state;
    unsigned char data[12];
    const int32_t ids[3] = {7, -1, 2147483647};
    for (int i = 0; i < 3; i++)
        for (int b = 0; b < 4; b++) data[4 * i + b] = (unsigned char)((uint32_t)ids[i] >> (8 * b));
    fixture f = {0};
    open_ok(&f, "{\"ids\":{\"dtype\":\"I32\",\"shape\":[3],\"data_offsets\":[0,12]}}", data, 12);
    int32_t out[3];
    assert_int_equal(porta_weights_read(f.w, "ids", PORTA_I32, NULL, out, sizeof out), PORTA_OK);
    assert_memory_equal(out, ids, sizeof ids);
    float fout[3];
    assert_int_equal(porta_weights_read(f.w, "ids", PORTA_F32, NULL, fout, sizeof fout),
                     PORTA_ERROR_SHAPE);
    assert_error_contains(f.ctx, "weight 'ids' is I32[3]");
    assert_error_contains(f.ctx, "does not convert to f32");
    close_fixture(&f);
}

static void test_missing_and_shape_errors(void **state)
{
    (void)state;
    unsigned char data[96] = {0};
    fixture f = {0};
    open_ok(&f, "{\"encoder.w\":{\"dtype\":\"F32\",\"shape\":[4,6],\"data_offsets\":[0,96]}}",
            data, 96);
    const char *file = strrchr(f.path, '/') + 1;
    float out[24];
    porta_shape shape = {2, {4, 6}};
    assert_int_equal(porta_weights_read(f.w, "encoder.W", PORTA_F32, &shape, out, sizeof out),
                     PORTA_ERROR_NOT_FOUND);
    assert_error_contains(f.ctx, "weight 'encoder.W' is not in ");
    assert_error_contains(f.ctx, file);
    assert_error_contains(f.ctx, "did you mean 'encoder.w'?");
    assert_int_equal(porta_weights_read(f.w, "decoder.bias", PORTA_F32, &shape, out, sizeof out),
                     PORTA_ERROR_NOT_FOUND);
    assert_null(strstr(porta_last_error(f.ctx), "did you mean"));

    porta_shape wrong = {2, {6, 4}};
    assert_int_equal(porta_weights_read(f.w, "encoder.w", PORTA_F32, &wrong, out, sizeof out),
                     PORTA_ERROR_SHAPE);
    assert_error_contains(f.ctx, "is F32[4, 6]");
    assert_error_contains(f.ctx, "not f32[6, 4]");
    porta_shape bad_rank = {9, {4, 6}};
    assert_int_equal(porta_weights_read(f.w, "encoder.w", PORTA_F32, &bad_rank, out, sizeof out),
                     PORTA_ERROR_INVALID_ARGUMENT);
    assert_error_contains(f.ctx, "shape rank 9 is not in 0..4");
    assert_int_equal(porta_weights_find(f.w, "encoder.w"), 0);
    assert_int_equal(porta_weights_find(f.w, "nope"), -1);
    close_fixture(&f);
}

static void test_info_lists_unusable(void **state)
{
    (void)state;
    unsigned char data[64] = {0};
    fixture f = {0};
    open_ok(&f,
            "{\"__metadata__\":{},"
            "\"z\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]},"
            "\"big\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[16,32]},"
            "\"r5\":{\"dtype\":\"F16\",\"shape\":[1,1,1,2,2],\"data_offsets\":[32,40]},"
            "\"q\":{\"dtype\":\"Q4_K\",\"shape\":[7],\"data_offsets\":[40,44]},"
            "\"empty\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[44,44]},"
            "\"s\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[44,48]}}",
            data, 64); /* trailing bytes after the last tensor are allowed */
    assert_int_equal(porta_weights_count(f.w), 6);
    const char *names[6] = {"big", "empty", "q", "r5", "s", "z"};
    const bool usable[6] = {false, true, false, false, true, true};
    for (int i = 0; i < 6; i++) {
        porta_weight_info info;
        assert_int_equal(porta_weights_info(f.w, i, &info), PORTA_OK);
        assert_string_equal(info.name, names[i]);
        assert_int_equal(info.usable, usable[i]);
    }
    porta_weight_info info;
    assert_int_equal(porta_weights_info(f.w, 3, &info), PORTA_OK);
    assert_string_equal(info.dtype, "F16");
    assert_int_equal(info.rank, 5);
    assert_int_equal(info.dims[3], 2);
    assert_int_equal(info.offset, 32);
    assert_int_equal(info.bytes, 8);
    assert_int_equal(porta_weights_info(f.w, 6, &info), PORTA_ERROR_INVALID_ARGUMENT);
    assert_null(info.name);

    float out[16];
    assert_int_equal(porta_weights_read(f.w, "big", PORTA_F32, NULL, out, sizeof out),
                     PORTA_ERROR_UNSUPPORTED);
    assert_error_contains(f.ctx, "weight 'big' is I64[2]");
    assert_error_contains(f.ctx, "porta reads only F32, F16, BF16 and I32");
    assert_int_equal(porta_weights_read(f.w, "q", PORTA_F32, NULL, out, sizeof out),
                     PORTA_ERROR_UNSUPPORTED);
    assert_error_contains(f.ctx, "Q4_K");
    assert_int_equal(porta_weights_read(f.w, "r5", PORTA_F32, NULL, out, sizeof out),
                     PORTA_ERROR_UNSUPPORTED);
    assert_error_contains(f.ctx, "at most 4 dims");
    porta_shape scalar = {0, {0}};
    out[0] = -1.0f;
    assert_int_equal(porta_weights_read(f.w, "s", PORTA_F32, &scalar, out, 4), PORTA_OK);
    assert_true(out[0] == 0.0f);
    assert_int_equal(porta_weights_read(f.w, "empty", PORTA_F32, NULL, out, 0), PORTA_OK);

    assert_int_equal(porta_weights_count(NULL), 0);
    porta_weights_close(NULL);
    close_fixture(&f);
}

/* ---- graph checks ---------------------------------------------------------------------------- */

/* x: f32[2, 3]; w: [4, 3] key "enc.w"; b: [4] key "enc.b"; y = linear(x, w, b). */
static porta_graph *build_graph(porta_context *ctx, porta_dtype w_dtype)
{
    porta_graph *g = NULL;
    assert_int_equal(porta_graph_create(ctx, "g", &g), PORTA_OK);
    porta_shape xs = {2, {2, 3}}, ws = {2, {4, 3}}, bs = {1, {4}};
    porta_tensor_id ids[3], y;
    assert_int_equal(porta_graph_add_input(g, "x", w_dtype, &xs, &ids[0]), PORTA_OK);
    assert_int_equal(porta_graph_add_weight(g, "w", w_dtype, &ws, "enc.w", &ids[1]), PORTA_OK);
    assert_int_equal(porta_graph_add_weight(g, "b", w_dtype, &bs, "enc.b", &ids[2]), PORTA_OK);
    assert_int_equal(porta_graph_add_node(g, "y", "linear", 3, ids, 0, NULL, 0, NULL, &y), PORTA_OK);
    assert_int_equal(porta_graph_mark_output(g, y), PORTA_OK);
    if (porta_graph_validate(g) != PORTA_OK) fail_msg("validate: %s", porta_last_error(ctx));
    return g;
}

static porta_status check_with(porta_context *ctx, porta_dtype dtype, const char *header,
                               size_t data_length)
{
    unsigned char data[128] = {0};
    char path[512];
    write_st(path, sizeof path, header, data, data_length);
    porta_weights *w = NULL;
    porta_status status = porta_weights_open(ctx, path, &w);
    if (status != PORTA_OK) fail_msg("open: %s", porta_last_error(ctx));
    porta_graph *g = build_graph(ctx, dtype);
    status = porta_graph_check_weights(g, w);
    porta_graph_destroy(g);
    porta_weights_close(w);
    unlink(path);
    return status;
}

#define W_F32 "\"enc.w\":{\"dtype\":\"F32\",\"shape\":[4,3],\"data_offsets\":[0,48]}"
#define B_F32 "\"enc.b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[48,64]}"

static void test_graph_check_weights(void **state)
{
    (void)state;
    porta_context *ctx = NULL;
    assert_int_equal(porta_context_create(&ctx), PORTA_OK);

    assert_int_equal(check_with(ctx, PORTA_F32, "{" W_F32 "," B_F32 "}", 64), PORTA_OK);
    assert_string_equal(porta_last_error(ctx), "");
    /* BF16 and F16 files serve an f16 graph, and F16 an f32 one. */
    assert_int_equal(check_with(ctx, PORTA_F16,
                                "{\"enc.w\":{\"dtype\":\"BF16\",\"shape\":[4,3],\"data_offsets\":[0,24]},"
                                "\"enc.b\":{\"dtype\":\"F16\",\"shape\":[4],\"data_offsets\":[24,32]}}",
                                32),
                     PORTA_OK);

    /* One missing. */
    assert_int_equal(check_with(ctx, PORTA_F32, "{" W_F32 "}", 64), PORTA_ERROR_NOT_FOUND);
    assert_error_contains(ctx, "graph 'g': weight 'b' (key 'enc.b') is not in ");
    assert_null(strstr(porta_last_error(ctx), "also"));

    /* Both missing: the first is named, the other counted. */
    assert_int_equal(check_with(ctx, PORTA_F32,
                                "{\"model.enc.w\":{\"dtype\":\"F32\",\"shape\":[4,3],"
                                "\"data_offsets\":[0,48]}}", 48),
                     PORTA_ERROR_NOT_FOUND);
    assert_error_contains(ctx, "weight 'w' (key 'enc.w') is not in ");
    assert_error_contains(ctx, "did you mean 'model.enc.w'?");
    assert_error_contains(ctx, "also 1 more missing");

    /* Mis-shaped. */
    assert_int_equal(check_with(ctx, PORTA_F32,
                                "{\"enc.w\":{\"dtype\":\"F32\",\"shape\":[3,4],\"data_offsets\":[0,48]},"
                                B_F32 "}", 64),
                     PORTA_ERROR_SHAPE);
    assert_error_contains(ctx, "weight 'w' (key 'enc.w') is F32[3, 4] in ");
    assert_error_contains(ctx, "not f32[4, 3] as declared");

    /* Wrong dtype, and a missing one counted beside it. */
    assert_int_equal(check_with(ctx, PORTA_F32,
                                "{\"enc.w\":{\"dtype\":\"I32\",\"shape\":[4,3],\"data_offsets\":[0,48]}}",
                                48),
                     PORTA_ERROR_SHAPE);
    assert_error_contains(ctx, "weight 'w' (key 'enc.w') is I32[4, 3]");
    assert_error_contains(ctx, "does not convert to f32; also 1 more missing");

    /* An unusable dtype. */
    assert_int_equal(check_with(ctx, PORTA_F32,
                                "{\"enc.w\":{\"dtype\":\"F64\",\"shape\":[4,3],\"data_offsets\":[0,96]},"
                                "\"enc.b\":{\"dtype\":\"F16\",\"shape\":[5],\"data_offsets\":[96,106]}}",
                                106),
                     PORTA_ERROR_UNSUPPORTED);
    assert_error_contains(ctx, "is F64[4, 3]");
    assert_error_contains(ctx, "also 1 more not matching");

    assert_int_equal(porta_graph_check_weights(NULL, NULL), PORTA_ERROR_INVALID_ARGUMENT);
    porta_context_destroy(ctx);
}

/* ---- malformed files ------------------------------------------------------------------------- */

typedef struct bad_file {
    const char *header; /* NULL: `raw` holds the whole file */
    const char *raw;
    size_t raw_length;
    size_t data_length;
    const char *expected;
} bad_file;

static const bad_file bad_files[] = {
    {NULL, "", 0, 0, "the file is 0 bytes; a safetensors file begins with an 8-byte header length"},
    {NULL, "\x05\0\0\0\0", 5, 0, "the file is 5 bytes"},
    {NULL, "\xe8\x03\0\0\0\0\0\0{}", 10, 0, "header length 1000 runs past the end of the file"},
    {NULL, "\xff\xff\xff\xff\xff\xff\xff\xff{}", 10, 0, "runs past the end of the file"},
    {NULL, "\0\0\0\0\0\0\0\0", 8, 0, "the header is empty"},
    {"{\"a\": {\"dtype\": ", NULL, 0, 0, "the header is not valid JSON"},
    {"\xff\xfe", NULL, 0, 0, "the header is not valid JSON"},
    {"[1, 2]", NULL, 0, 0, "the header is an array, not a JSON object"},
    {"\"text\"", NULL, 0, 0, "the header is a string, not a JSON object"},
    {"{} x", NULL, 0, 0, "the header has bytes after its JSON value (at byte 3 of 4)"},
    {"{\"t\": 5}", NULL, 0, 0, "tensor 't': entry is a number, not an object"},
    {"{\"t\": {\"shape\": [1], \"data_offsets\": [0, 4]}}", NULL, 0, 4, "tensor 't': entry has no \"dtype\""},
    {"{\"t\": {\"dtype\": 1, \"shape\": [1], \"data_offsets\": [0, 4]}}", NULL, 0, 4,
     "tensor 't': \"dtype\" is a number, not a string"},
    {"{\"t\": {\"dtype\": \"F32\", \"data_offsets\": [0, 4]}}", NULL, 0, 4, "entry has no \"shape\""},
    {"{\"t\": {\"dtype\": \"F32\", \"shape\": 4, \"data_offsets\": [0, 16]}}", NULL, 0, 16,
     "\"shape\" is a number, not an array"},
    {"{\"t\": {\"dtype\": \"F32\", \"shape\": [2, \"x\"], \"data_offsets\": [0, 8]}}", NULL, 0, 8,
     "tensor 't': shape dim 1 is not a non-negative integer (a string)"},
    {"{\"t\": {\"dtype\": \"F32\", \"shape\": [2.5], \"data_offsets\": [0, 8]}}", NULL, 0, 8,
     "shape dim 0 is not a non-negative integer"},
    {"{\"t\": {\"dtype\": \"F32\", \"shape\": [2, -3], \"data_offsets\": [0, 8]}}", NULL, 0, 8,
     "shape dim 1 is -3; dims must be non-negative"},
    {"{\"t\": {\"dtype\": \"F32\", \"shape\": [1e300], \"data_offsets\": [0, 8]}}", NULL, 0, 8,
     "shape dim 0 is not a non-negative integer"},
    {"{\"t\": {\"dtype\": \"F32\", \"shape\": [2]}}", NULL, 0, 8, "entry has no \"data_offsets\""},
    {"{\"t\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0]}}", NULL, 0, 8,
     "\"data_offsets\" is not [begin, end] with non-negative integers"},
    {"{\"t\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [-8, 0]}}", NULL, 0, 8,
     "\"data_offsets\" is not [begin, end]"},
    {"{\"t\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}}", NULL, 0, 4,
     "tensor 't': data_offsets [0, 8] run past the end of the data section (4 bytes)"},
    {"{\"t\": {\"dtype\": \"F32\", \"shape\": [0], \"data_offsets\": [8, 0]}}", NULL, 0, 8,
     "tensor 't': data_offsets [8, 0] are reversed"},
    {"{\"encoder.w\": {\"dtype\": \"F32\", \"shape\": [4, 6], \"data_offsets\": [0, 100]}}", NULL, 0,
     100, "tensor 'encoder.w': data_offsets [0, 100] span 100 bytes, but F32[4, 6] needs 96"},
    {"{\"t\": {\"dtype\": \"F32\", \"shape\": [4294967296, 4294967296], \"data_offsets\": [0, 0]}}",
     NULL, 0, 0, "tensor 't': the byte size of F32[4294967296, 4294967296] overflows 64 bits"},
    {"{\"t\": {\"dtype\": \"I8\", \"shape\": [3037000500, 3037000500, 2], \"data_offsets\": [0, 0]}}",
     NULL, 0, 0, "overflows 64 bits"},
    {"{\"t\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]},"
     " \"t\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}}", NULL, 0, 8,
     "tensor 't': appears more than once in the header"},
    {"{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]},"
     " \"b\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [4, 12]}}", NULL, 0, 12,
     "tensors 'a' [0, 8] and 'b' [4, 12] overlap"},
    {"{\"__metadata__\": [1]}", NULL, 0, 0, "\"__metadata__\" is an array, not an object"},
};

static void test_malformed_files(void **state)
{
    (void)state;
    porta_context *ctx = NULL;
    assert_int_equal(porta_context_create(&ctx), PORTA_OK);
    unsigned char data[128] = {0};
    for (size_t i = 0; i < sizeof bad_files / sizeof bad_files[0]; i++) {
        const bad_file *b = &bad_files[i];
        char path[512];
        if (b->header) write_st(path, sizeof path, b->header, data, b->data_length);
        else write_raw(path, sizeof path, b->raw, b->raw_length);
        porta_weights *w = (porta_weights *)&data; /* must be reset to NULL */
        porta_status status = porta_weights_open(ctx, path, &w);
        if (status != PORTA_ERROR_PARSE)
            fail_msg("case %zu: status %s, message \"%s\"", i, porta_status_name(status),
                     porta_last_error(ctx));
        assert_null(w);
        if (!strstr(porta_last_error(ctx), b->expected))
            fail_msg("case %zu: message \"%s\" lacks \"%s\"", i, porta_last_error(ctx), b->expected);
        /* Every message starts with the file's name. */
        assert_int_equal(strncmp(porta_last_error(ctx), path, strlen(path)), 0);
        unlink(path);
    }
    porta_context_destroy(ctx);
}

/* Deep nesting, a header over the 100 MiB cap, a missing file and a directory. */
static void test_hostile_files(void **state)
{
    (void)state;
    porta_context *ctx = NULL;
    assert_int_equal(porta_context_create(&ctx), PORTA_OK);
    porta_weights *w = NULL;
    char path[512];

    size_t depth = 100000;
    char *deep = malloc(2 * depth + 1);
    assert_non_null(deep);
    memset(deep, '[', depth);
    memset(deep + depth, ']', depth);
    deep[2 * depth] = '\0';
    write_st(path, sizeof path, deep, NULL, 0);
    free(deep);
    assert_int_equal(porta_weights_open(ctx, path, &w), PORTA_ERROR_PARSE);
    assert_error_contains(ctx, "the header is not valid JSON");
    unlink(path);

    /* A sparse file: the length says 100 MiB + 1 and the file has that many bytes. */
    snprintf(path, sizeof path, "%s/huge.safetensors", temp_dir);
    FILE *file = fopen(path, "wb");
    assert_non_null(file);
    uint64_t length = 100u * 1024u * 1024u + 1u;
    unsigned char prefix[8];
    for (int i = 0; i < 8; i++) prefix[i] = (unsigned char)(length >> (8 * i));
    assert_int_equal(fwrite(prefix, 1, 8, file), 8);
    assert_int_equal(fclose(file), 0);
    assert_int_equal(truncate(path, (off_t)(8 + length)), 0);
    assert_int_equal(porta_weights_open(ctx, path, &w), PORTA_ERROR_PARSE);
    assert_error_contains(ctx, "the header length 104857601 is over the limit of 104857600 bytes");
    unlink(path);

    snprintf(path, sizeof path, "%s/absent.safetensors", temp_dir);
    assert_int_equal(porta_weights_open(ctx, path, &w), PORTA_ERROR_IO);
    assert_error_contains(ctx, "absent.safetensors: cannot open: ");
    assert_int_equal(porta_weights_open(ctx, temp_dir, &w), PORTA_ERROR_IO);
    assert_error_contains(ctx, "is a directory, not a file");
    assert_int_equal(porta_weights_open(ctx, NULL, &w), PORTA_ERROR_INVALID_ARGUMENT);
    assert_int_equal(porta_weights_open(NULL, path, &w), PORTA_ERROR_INVALID_ARGUMENT);
    assert_null(w);
    porta_context_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_half_conversions),
        cmocka_unit_test(test_read_f32),
        cmocka_unit_test(test_read_f16),
        cmocka_unit_test(test_read_bf16),
        cmocka_unit_test(test_read_i32_and_dtype_errors),
        cmocka_unit_test(test_missing_and_shape_errors),
        cmocka_unit_test(test_info_lists_unusable),
        cmocka_unit_test(test_graph_check_weights),
        cmocka_unit_test(test_malformed_files),
        cmocka_unit_test(test_hostile_files),
    };
    return cmocka_run_group_tests_name("weights", tests, make_temp_dir, remove_temp_dir);
}
