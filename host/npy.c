/* .npy reading and writing. The header is a Python dict literal; a small strict parser reads the
 * three keys NumPy writes ('descr', 'fortran_order', 'shape') without ever reading past the header. */
#include "host/npy.h"
#include "host/reference/half.h"
#include "host/reference/reference.h"
#include "graphs/context.h"
#include "graphs/graph.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NPY_MAGIC "\x93NUMPY"

typedef struct npy_header {
    char descr[16];
    bool have_descr, have_fortran, have_shape;
    bool fortran_order;
    int rank;
    int64_t dims[PORTA_MAX_RANK];
} npy_header;

typedef struct cursor {
    const char *p, *end;
} cursor;

static void skip_space(cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

static bool take(cursor *c, char ch)
{
    skip_space(c);
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return true;
    }
    return false;
}

/* A quoted string without escapes, into out (truncation is an error). */
static bool parse_string(cursor *c, char *out, size_t size)
{
    skip_space(c);
    if (c->p >= c->end || (*c->p != '\'' && *c->p != '"')) return false;
    char quote = *c->p++;
    size_t n = 0;
    while (c->p < c->end && *c->p != quote) {
        if (*c->p == '\\' || n + 1 >= size) return false;
        out[n++] = *c->p++;
    }
    if (c->p >= c->end) return false;
    c->p++;
    out[n] = '\0';
    return true;
}

static bool parse_word(cursor *c, const char *word)
{
    skip_space(c);
    size_t n = strlen(word);
    if ((size_t)(c->end - c->p) < n || strncmp(c->p, word, n)) return false;
    c->p += n;
    return true;
}

/* "(2, 3)", "(3,)" or "()": at most PORTA_MAX_RANK + 1 dims are read (more is reported as such). */
static bool parse_shape(cursor *c, npy_header *h, int *rank_seen)
{
    if (!take(c, '(')) return false;
    int rank = 0;
    for (;;) {
        if (take(c, ')')) break;
        skip_space(c);
        int64_t value = 0;
        bool digits = false;
        while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
            if (value > (INT64_MAX - 9) / 10) return false;
            value = value * 10 + (*c->p++ - '0');
            digits = true;
        }
        if (c->p < c->end && *c->p == 'L') c->p++; /* Python 2 longs */
        if (!digits) return false;
        if (rank < PORTA_MAX_RANK) h->dims[rank] = value;
        rank++;
        if (take(c, ')')) break;
        if (!take(c, ',')) return false;
    }
    h->rank = rank <= PORTA_MAX_RANK ? rank : PORTA_MAX_RANK;
    *rank_seen = rank;
    return true;
}

static porta_status bad(porta_context *context, const char *source, const char *what)
{
    return porta_error(context, PORTA_ERROR_IO, "%s: not a valid .npy file: %s", source, what);
}

static porta_status parse_header(porta_context *context, const char *source, const char *text,
                                 size_t length, npy_header *h, int *rank_seen)
{
    cursor c = {text, text + length};
    if (!take(&c, '{')) return bad(context, source, "the header is not a dict");
    while (!take(&c, '}')) {
        char key[32];
        if (!parse_string(&c, key, sizeof key) || !take(&c, ':'))
            return bad(context, source, "malformed header dict");
        if (!strcmp(key, "descr")) {
            if (!parse_string(&c, h->descr, sizeof h->descr))
                return bad(context, source, "'descr' is not a simple dtype string");
            h->have_descr = true;
        } else if (!strcmp(key, "fortran_order")) {
            if (parse_word(&c, "True")) h->fortran_order = true;
            else if (parse_word(&c, "False")) h->fortran_order = false;
            else return bad(context, source, "'fortran_order' is not True or False");
            h->have_fortran = true;
        } else if (!strcmp(key, "shape")) {
            if (!parse_shape(&c, h, rank_seen))
                return bad(context, source, "'shape' is not a tuple of non-negative integers");
            h->have_shape = true;
        } else {
            return porta_error(context, PORTA_ERROR_IO,
                               "%s: not a valid .npy file: unexpected header key '%s'", source, key);
        }
        if (!take(&c, ',')) {
            if (!take(&c, '}')) return bad(context, source, "malformed header dict");
            break;
        }
    }
    if (!h->have_descr || !h->have_fortran || !h->have_shape)
        return bad(context, source, "the header lacks 'descr', 'fortran_order' or 'shape'");
    return PORTA_OK;
}

static uint64_t little_endian(const unsigned char *p, int bytes)
{
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

static void format_dims(const int64_t *dims, int rank, char *out, size_t size)
{
    porta_shape shape = {.rank = rank};
    for (int i = 0; i < rank; i++) shape.dims[i] = dims[i];
    porta_shape_format(&shape, out, size);
}

/* The magic string, version and header dictionary of an .npy file's bytes. */
static porta_status read_header(porta_context *context, const char *source, const void *data,
                                size_t length, npy_header *h, int *rank_seen,
                                size_t *out_data_start)
{
    const unsigned char *bytes = data;
    if (length < 10 || memcmp(bytes, NPY_MAGIC, 6))
        return bad(context, source, "it does not start with the .npy magic string");
    int major = bytes[6];
    size_t prefix = major == 1 ? 10 : 12;
    if (major < 1 || major > 3)
        return porta_error(context, PORTA_ERROR_IO,
                           "%s: .npy format version %d.%d is not supported (1.0, 2.0, 3.0 are)",
                           source, major, bytes[7]);
    if (length < prefix) return bad(context, source, "truncated header");
    uint64_t header_length = little_endian(bytes + 8, major == 1 ? 2 : 4);
    if (header_length > length - prefix)
        return porta_error(context, PORTA_ERROR_IO,
                           "%s: not a valid .npy file: truncated header (%llu bytes declared, "
                           "%zu present)", source, (unsigned long long)header_length,
                           length - prefix);
    *h = (npy_header){0};
    *rank_seen = 0;
    *out_data_start = prefix + (size_t)header_length;
    return parse_header(context, source, (const char *)bytes + prefix, (size_t)header_length, h,
                        rank_seen);
}

porta_status porta_npy_shape(porta_context *context, const char *path, porta_shape *out_shape)
{
    *out_shape = (porta_shape){0};
    char *data;
    size_t length, start;
    porta_status status = porta_read_file(context, path, &data, &length);
    if (status) return status;
    npy_header h;
    int rank_seen;
    status = read_header(context, path, data, length, &h, &rank_seen, &start);
    free(data);
    if (status) return status;
    if (rank_seen > PORTA_MAX_RANK)
        return porta_error(context, PORTA_ERROR_SHAPE, "%s: rank %d is more than %d", path,
                           rank_seen, PORTA_MAX_RANK);
    out_shape->rank = h.rank;
    for (int i = 0; i < h.rank; i++) out_shape->dims[i] = h.dims[i];
    return PORTA_OK;
}

porta_status porta_npy_decode(porta_context *context, const char *source, const void *data,
                              size_t length, const char *name, porta_dtype dtype,
                              const porta_shape *shape, double *out)
{
    const unsigned char *bytes = data;
    npy_header h;
    int rank_seen;
    size_t data_start;
    porta_status status = read_header(context, source, data, length, &h, &rank_seen,
                                      &data_start);
    if (status) return status;

    /* The dtype: little-endian only ('|' is fine for none of ours, '=' would be host order). */
    int size = 0;
    bool is_float = false;
    if (!strcmp(h.descr, "<f4")) size = 4, is_float = true;
    else if (!strcmp(h.descr, "<f2")) size = 2, is_float = true;
    else if (!strcmp(h.descr, "<f8")) size = 8, is_float = true;
    else if (!strcmp(h.descr, "<i4")) size = 4;
    else if (!strcmp(h.descr, "<i8")) size = 8;
    else
        return porta_error(context, PORTA_ERROR_UNSUPPORTED,
                           "%s: dtype '%s' is not supported (expected '<f4', '<f2', '<i4', "
                           "'<f8' or '<i8')", source, h.descr);
    if (h.fortran_order)
        return porta_error(context, PORTA_ERROR_UNSUPPORTED,
                           "%s: fortran_order is True; only C-order arrays are supported "
                           "(save with np.ascontiguousarray)", source);
    bool want_float = dtype != PORTA_I32;
    if (is_float != want_float)
        return porta_error(context, PORTA_ERROR_SHAPE,
                           "%s: tensor '%s' is %s but the file holds '%s' data", source, name,
                           porta_dtype_name(dtype), h.descr);

    char expected[96], found[96];
    porta_shape_format(shape, expected, sizeof expected);
    if (rank_seen > PORTA_MAX_RANK) {
        return porta_error(context, PORTA_ERROR_SHAPE,
                           "%s: tensor '%s' expects shape %s but the file has rank %d", source,
                           name, expected, rank_seen);
    }
    format_dims(h.dims, h.rank, found, sizeof found);
    bool same = h.rank == shape->rank;
    for (int i = 0; same && i < h.rank; i++) same = h.dims[i] == shape->dims[i];
    if (!same)
        return porta_error(context, PORTA_ERROR_SHAPE,
                           "%s: tensor '%s' expects shape %s but the file has shape %s", source,
                           name, expected, found);
    int64_t count = 1;
    for (int i = 0; i < shape->rank; i++) count *= shape->dims[i]; /* validated, no overflow */
    size_t available = length - data_start;
    if ((uint64_t)count > available / (size_t)size)
        return porta_error(context, PORTA_ERROR_IO,
                           "%s: not a valid .npy file: truncated data (%lld elements of %d bytes "
                           "need %llu bytes, %zu present)", source, (long long)count, size,
                           (unsigned long long)count * (unsigned long long)size, available);
    if ((uint64_t)count * (uint64_t)size != available)
        return porta_error(context, PORTA_ERROR_IO,
                           "%s: not a valid .npy file: %zu bytes after the %lld elements",
                           source, available - (size_t)count * (size_t)size, (long long)count);

    const unsigned char *p = bytes + data_start;
    for (int64_t i = 0; i < count; i++, p += size) {
        uint64_t bits = little_endian(p, size);
        double v;
        if (size == 2) {
            v = porta_half_to_double((uint16_t)bits);
        } else if (is_float && size == 4) {
            uint32_t b32 = (uint32_t)bits;
            float f;
            memcpy(&f, &b32, sizeof f);
            v = f;
        } else if (is_float) {
            memcpy(&v, &bits, sizeof v);
        } else {
            int64_t iv = size == 4 ? (int64_t)(int32_t)(uint32_t)bits : (int64_t)bits;
            if (iv < INT32_MIN || iv > INT32_MAX)
                return porta_error(context, PORTA_ERROR_SHAPE,
                                   "%s: element %lld of tensor '%s' is %lld, outside the i32 "
                                   "range", source, (long long)i, name, (long long)iv);
            v = (double)iv;
        }
        out[i] = v;
    }
    porta_reference_round(dtype, out, count);
    return PORTA_OK;
}

porta_status porta_npy_read(porta_context *context, const char *path, const char *name,
                            porta_dtype dtype, const porta_shape *shape, double *out)
{
    char *data;
    size_t length;
    porta_status status = porta_read_file(context, path, &data, &length);
    if (status) return status;
    status = porta_npy_decode(context, path, data, length, name, dtype, shape, out);
    free(data);
    return status;
}

porta_status porta_npy_encode(porta_context *context, porta_dtype dtype, const porta_shape *shape,
                              const double *values, char **out_data, size_t *out_length)
{
    *out_data = NULL;
    *out_length = 0;
    const char *descr = dtype == PORTA_F32 ? "<f4" : dtype == PORTA_F16 ? "<f2" : "<i4";
    char dict[256];
    int n = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (",
                     descr);
    for (int i = 0; i < shape->rank; i++)
        n += snprintf(dict + n, sizeof dict - (size_t)n, i ? ", %lld" : "%lld",
                      (long long)shape->dims[i]);
    n += snprintf(dict + n, sizeof dict - (size_t)n, "%s), }", shape->rank == 1 ? "," : "");
    /* Pad with spaces and a newline so the data starts on a 64-byte boundary. */
    size_t header = (size_t)n + 1, total_prefix = 10 + header;
    size_t padded = (total_prefix + 63) / 64 * 64;
    header += padded - total_prefix;
    int64_t count = 1;
    for (int i = 0; i < shape->rank; i++) count *= shape->dims[i];
    size_t item = porta_dtype_size(dtype);
    if ((uint64_t)count > (SIZE_MAX - padded) / item)
        return porta_error(context, PORTA_ERROR_OUT_OF_MEMORY, ".npy: %lld elements are too many",
                           (long long)count);
    size_t length = padded + (size_t)count * item;
    unsigned char *data = malloc(length);
    if (!data) return porta_error(context, PORTA_ERROR_OUT_OF_MEMORY, ".npy: out of memory");
    memcpy(data, NPY_MAGIC, 6);
    data[6] = 1;
    data[7] = 0;
    data[8] = (unsigned char)(header & 0xff);
    data[9] = (unsigned char)(header >> 8);
    memcpy(data + 10, dict, (size_t)n);
    memset(data + 10 + n, ' ', header - (size_t)n - 1);
    data[padded - 1] = '\n';
    unsigned char *p = data + padded;
    for (int64_t i = 0; i < count; i++) {
        double v = values[i];
        uint64_t bits;
        if (dtype == PORTA_F16) {
            bits = porta_half_from_double(v);
        } else if (dtype == PORTA_F32) {
            float f = (float)v;
            uint32_t b32;
            memcpy(&b32, &f, sizeof b32);
            bits = b32;
        } else {
            porta_reference_round(PORTA_I32, &v, 1);
            bits = (uint32_t)(int32_t)v;
        }
        for (size_t b = 0; b < item; b++) *p++ = (unsigned char)(bits >> (8 * b));
    }
    *out_data = (char *)data;
    *out_length = length;
    return PORTA_OK;
}

porta_status porta_npy_write(porta_context *context, const char *path, porta_dtype dtype,
                             const porta_shape *shape, const double *values)
{
    char *data;
    size_t length;
    porta_status status = porta_npy_encode(context, dtype, shape, values, &data, &length);
    if (status) return status;
    /* A regular file is written beside the target and renamed over it, so a full disk or a kill
     * leaves the old file or none, never a truncated array. A device or pipe is written as is. */
    struct stat target;
    bool in_place = stat(path, &target) == 0 && !S_ISREG(target.st_mode);
    if (in_place && S_ISDIR(target.st_mode)) {
        free(data);
        return porta_error(context, PORTA_ERROR_IO, "%s: is a directory, not a file", path);
    }
    size_t temporary_size = strlen(path) + 32;
    char *temporary = malloc(temporary_size);
    if (!temporary) {
        free(data);
        return porta_error(context, PORTA_ERROR_OUT_OF_MEMORY, "%s: out of memory", path);
    }
    snprintf(temporary, temporary_size, "%s.%ld.tmp", path, (long)getpid());
    const char *written = in_place ? path : temporary;
    FILE *file = fopen(written, "wb");
    if (!file) {
        int error = errno;
        free(data);
        free(temporary);
        return porta_error(context, PORTA_ERROR_IO, "%s: cannot create: %s", path,
                           strerror(error));
    }
    int error = 0;
    errno = 0;
    if (fwrite(data, 1, length, file) != length) error = errno ? errno : EIO;
    if (fclose(file) != 0 && !error) error = errno ? errno : EIO;
    free(data);
    if (!in_place) {
        if (!error && rename(temporary, path) != 0) error = errno;
        if (error) remove(temporary);
    }
    free(temporary);
    if (error)
        return porta_error(context, PORTA_ERROR_IO, "%s: write failed: %s", path, strerror(error));
    return PORTA_OK;
}
