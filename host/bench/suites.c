/* The cases of `porta bench`'s op suites, as .pg text. Shapes follow the models porta serves:
 * square matmuls, a decoding matrix-vector product, a BERT-family encoder's linear layers, and
 * 12-head attention with keys up to 8,192. */
#include "host/bench/bench.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Rows (or heads) the reference checks of a case too large to check whole. */
#define CHECK_ROWS 16
#define CHECK_HEADS 1

static char *format(const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    int n = vsnprintf(NULL, 0, fmt, args);
    va_end(args);
    char *text = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (!text) return NULL;
    va_start(args, fmt);
    vsnprintf(text, (size_t)n + 1, fmt, args);
    va_end(args);
    return text;
}

/* Appends a case; takes ownership of text and check_text. */
static int add(bench_case **cases, int *count, const char *suite, const char *name, char *text,
               char *check_text, const char *path)
{
    bench_case *grown = realloc(*cases, ((size_t)*count + 1) * sizeof *grown);
    if (!grown || (!text && !path)) {
        free(text);
        free(check_text);
        fprintf(stderr, "porta bench: out of memory\n");
        if (grown) *cases = grown;
        return 1;
    }
    *cases = grown;
    bench_case *c = &grown[(*count)++];
    memset(c, 0, sizeof *c);
    c->suite = suite;
    snprintf(c->name, sizeof c->name, "%s", name);
    c->text = text;
    c->check_text = check_text;
    if (path) snprintf(c->path, sizeof c->path, "%s", path);
    return 0;
}

static char *matmul_text(int m, int k, int n)
{
    return format("graph matmul\ninput a : f32[%d, %d]\ninput b : f32[%d, %d]\n"
                  "c = matmul(a, b)\noutput c\n", m, k, k, n);
}

/* linear: x [M, K] times a weight [N, K] (laid out once when set), as a model's layers are. */
static char *linear_text(int m, int k, int n)
{
    return format("graph linear\ninput x : f32[%d, %d]\nweight w : f32[%d, %d]\nweight b : f32[%d]\n"
                  "y = linear(x, w, b)\noutput y\n", m, k, n, k, n);
}

static int matmul_cases(bench_case **cases, int *count)
{
    static const int squares[] = {512, 1024, 2048};
    char name[96];
    for (size_t i = 0; i < sizeof squares / sizeof squares[0]; i++) {
        int s = squares[i];
        snprintf(name, sizeof name, "matmul %dx%dx%d", s, s, s);
        if (add(cases, count, "matmul", name, matmul_text(s, s, s),
                matmul_text(CHECK_ROWS, s, s), NULL))
            return 1;
    }
    /* Decoding: one row through a 4096-wide layer, the matrix-vector product. */
    if (add(cases, count, "matmul", "gemv 1x4096x4096", linear_text(1, 4096, 4096), NULL, NULL))
        return 1;
    static const int linears[][3] = {{128, 384, 1536}, {512, 1536, 384}};
    for (size_t i = 0; i < sizeof linears / sizeof linears[0]; i++) {
        const int *l = linears[i];
        snprintf(name, sizeof name, "linear %dx%dx%d", l[0], l[1], l[2]);
        if (add(cases, count, "matmul", name, linear_text(l[0], l[1], l[2]),
                linear_text(CHECK_ROWS, l[1], l[2]), NULL))
            return 1;
    }
    return 0;
}

static char *sdpa_text(int heads, int rows, int keys, int dim, bool causal)
{
    return format("graph attention\ninput q : f32[1, %d, %d, %d]\ninput k : f32[1, %d, %d, %d]\n"
                  "input v : f32[1, %d, %d, %d]\no = sdpa(q, k, v%s)\noutput o\n",
                  heads, rows, dim, heads, keys, dim, heads, keys, dim,
                  causal ? ", causal=true" : "");
}

static int attention_cases(bench_case **cases, int *count)
{
    static const int dims[] = {64, 128}, keys[] = {128, 512, 2048, 8192}, rows[] = {1, 128, 512};
    const int heads = 12;
    for (size_t d = 0; d < 2; d++)
        for (size_t k = 0; k < 4; k++)
            for (size_t r = 0; r < 3; r++)
                for (int causal = 0; causal < 2; causal++) {
                    /* Causal with more queries than keys leaves the first rows no key at all
                     * (the mask is aligned to the bottom right): not a shape a model makes. */
                    if (causal && rows[r] > keys[k]) continue;
                    char name[96];
                    snprintf(name, sizeof name, "sdpa d%d k%d q%d%s", dims[d], keys[k], rows[r],
                             causal ? " causal" : "");
                    if (add(cases, count, "attention", name,
                            sdpa_text(heads, rows[r], keys[k], dims[d], causal),
                            sdpa_text(CHECK_HEADS, rows[r], keys[k], dims[d], causal), NULL))
                        return 1;
                }
    return 0;
}

static int softmax_cases(bench_case **cases, int *count)
{
    return add(cases, count, "softmax", "softmax 12x512x512",
               format("graph softmax\ninput x : f32[12, 512, 512]\ny = softmax(x)\noutput y\n"),
               NULL, NULL);
}

/* A BERT-base batch (8 x 512 tokens of 768 features) through both norms. */
static int layernorm_cases(bench_case **cases, int *count)
{
    return add(cases, count, "layernorm", "layernorm 4096x768",
               format("graph layernorm\ninput x : f32[4096, 768]\nweight g : f32[768]\n"
                      "weight b : f32[768]\ny = layernorm(x, g, b)\noutput y\n"),
               NULL, NULL) ||
           add(cases, count, "layernorm", "rmsnorm 4096x768",
               format("graph rmsnorm\ninput x : f32[4096, 768]\nweight g : f32[768]\n"
                      "y = rmsnorm(x, g)\noutput y\n"),
               NULL, NULL);
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int example_cases(const char *dir, bench_case **cases, int *count)
{
    DIR *folder = opendir(dir);
    if (!folder) {
        fprintf(stderr, "porta bench: cannot open the example graphs folder '%s' (--examples DIR)\n",
                dir);
        return 1;
    }
    char *names[256];
    int n = 0;
    for (struct dirent *entry; (entry = readdir(folder)) && n < 256;) {
        size_t length = strlen(entry->d_name);
        if (length > 3 && !strcmp(entry->d_name + length - 3, ".pg"))
            names[n++] = strdup(entry->d_name);
    }
    closedir(folder);
    qsort(names, (size_t)n, sizeof names[0], compare_names);
    int rc = 0;
    for (int i = 0; i < n; i++) {
        if (!rc && names[i]) {
            char path[1024], name[96];
            snprintf(path, sizeof path, "%s/%s", dir, names[i]);
            snprintf(name, sizeof name, "%.*s", (int)strlen(names[i]) - 3, names[i]);
            rc = add(cases, count, "examples", name, NULL, NULL, path);
        }
        free(names[i]);
    }
    return rc;
}

int bench_suite_cases(const char *suite, const char *examples_dir, bench_case **cases, int *count)
{
    if (!strcmp(suite, "matmul")) return matmul_cases(cases, count);
    if (!strcmp(suite, "attention")) return attention_cases(cases, count);
    if (!strcmp(suite, "softmax")) return softmax_cases(cases, count);
    if (!strcmp(suite, "layernorm")) return layernorm_cases(cases, count);
    if (!strcmp(suite, "examples")) return example_cases(examples_dir, cases, count);
    fprintf(stderr, "porta bench: unknown suite '%s'\n", suite);
    return 1;
}

void bench_cases_free(bench_case *cases, int count)
{
    for (int i = 0; i < count; i++) {
        free(cases[i].text);
        free(cases[i].check_text);
    }
    free(cases);
}

/* The installed example graphs, else those of the source tree this binary was built from. */
const char *bench_default_examples(void)
{
    struct stat st;
    if (stat(PORTA_EXAMPLES_INSTALLED, &st) == 0 && S_ISDIR(st.st_mode))
        return PORTA_EXAMPLES_INSTALLED;
    return PORTA_EXAMPLES_SOURCE;
}

/* Whether `name` holds one of the comma-separated pieces of `filter` (any name, without one). */
bool bench_filter_keeps(const char *filter, const char *name)
{
    if (!filter) return true;
    for (const char *piece = filter; *piece;) {
        size_t length = strcspn(piece, ",");
        for (const char *at = name; length && *at; at++)
            if (!strncmp(at, piece, length)) return true;
        piece += length + (piece[length] == ',');
    }
    return false;
}
