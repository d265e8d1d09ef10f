/* Malformed .pg files: each one must fail with "<path>:LINE:COL:" and a known message.
 *
 *   test_malformed MALFORMED_DIR [VALID_DIR...]
 *
 * Each .pg file of MALFORMED_DIR starts with "# expect: LINE:COL: substring". Each .pg file of
 * a VALID_DIR must parse, print, and parse again to the same text (the same program is also
 * built with AddressSanitizer and UndefinedBehaviorSanitizer). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "porta.h"

#define MIN_MALFORMED 45

static const char *malformed_dir;
static const char **valid_dirs;
static int n_valid_dirs;

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The .pg files of a folder, sorted, as "dir/name" paths; NULL when the folder cannot be read. */
static char **list_graphs(const char *dir, int *out_count)
{
    *out_count = 0;
    DIR *d = opendir(dir);
    if (!d) return NULL;
    char **paths = NULL;
    int n = 0;
    struct dirent *entry;
    while ((entry = readdir(d))) {
        size_t length = strlen(entry->d_name);
        if (length < 4 || strcmp(entry->d_name + length - 3, ".pg")) continue;
        paths = realloc(paths, sizeof *paths * (size_t)(n + 1));
        assert_non_null(paths);
        size_t size = strlen(dir) + length + 2;
        paths[n] = malloc(size);
        assert_non_null(paths[n]);
        snprintf(paths[n], size, "%s/%s", dir, entry->d_name);
        n++;
    }
    closedir(d);
    if (n) qsort(paths, (size_t)n, sizeof *paths, compare_names);
    *out_count = n;
    return paths ? paths : calloc(1, sizeof *paths);
}

static void free_list(char **paths, int n)
{
    for (int i = 0; i < n; i++) free(paths[i]);
    free(paths);
}

/* Reads the first line's "# expect: LINE:COL: substring" into where ("LINE:COL") and what. */
static int read_expectation(const char *path, char *where, size_t where_size, char *what,
                            size_t what_size)
{
    FILE *file = fopen(path, "rb");
    if (!file) return 0;
    char line[512];
    int ok = fgets(line, sizeof line, file) != NULL;
    fclose(file);
    if (!ok || strncmp(line, "# expect: ", 10)) return 0;
    char *p = line + 10;
    line[strcspn(line, "\r\n")] = '\0';
    char *colon = strchr(p, ':');
    if (!colon) return 0;
    colon = strchr(colon + 1, ':');
    if (!colon || colon[1] != ' ') return 0;
    snprintf(where, where_size, "%.*s", (int)(colon - p), p);
    snprintf(what, what_size, "%s", colon + 2);
    return 1;
}

static void test_malformed_files(void **state)
{
    (void)state;
    int n;
    char **paths = list_graphs(malformed_dir, &n);
    if (!paths) fail_msg("cannot read the folder %s", malformed_dir);
    if (n < MIN_MALFORMED) fail_msg("%s holds %d .pg files; expected at least %d", malformed_dir, n,
                                    MIN_MALFORMED);
    porta_context *context;
    assert_int_equal(porta_context_create(&context), PORTA_OK);
    int failures = 0;
    for (int i = 0; i < n; i++) {
        char where[64], what[400], prefix[600];
        if (!read_expectation(paths[i], where, sizeof where, what, sizeof what)) {
            print_error("%s: the first line is not '# expect: LINE:COL: substring'\n", paths[i]);
            failures++;
            continue;
        }
        porta_graph *graph = (porta_graph *)1;
        porta_status status = porta_graph_load(context, paths[i], &graph);
        const char *message = porta_last_error(context);
        snprintf(prefix, sizeof prefix, "%s:%s:", paths[i], where);
        if (status == PORTA_OK || graph != NULL) {
            print_error("%s: parsed without an error\n", paths[i]);
            porta_graph_destroy(graph);
            failures++;
        } else if (strncmp(message, prefix, strlen(prefix)) || !strstr(message, what)) {
            print_error("%s:\n  expected %s ... %s\n  got      %s\n", paths[i], prefix, what,
                        message);
            failures++;
        }
    }
    porta_context_destroy(context);
    free_list(paths, n);
    assert_int_equal(failures, 0);
}

static void test_valid_files(void **state)
{
    (void)state;
    porta_context *context;
    assert_int_equal(porta_context_create(&context), PORTA_OK);
    int failures = 0;
    for (int d = 0; d < n_valid_dirs; d++) {
        int n;
        char **paths = list_graphs(valid_dirs[d], &n);
        if (!paths) continue;   /* a folder that does not exist (yet) */
        if (n < 1) fail_msg("%s exists but holds no .pg files", valid_dirs[d]);
        for (int i = 0; i < n; i++) {
            porta_graph *graph = NULL, *again = NULL;
            char *text = NULL, *text_again = NULL;
            if (porta_graph_load(context, paths[i], &graph) != PORTA_OK ||
                porta_graph_print(graph, &text) != PORTA_OK ||
                porta_graph_parse(context, text, strlen(text), "printed", &again) != PORTA_OK ||
                porta_graph_print(again, &text_again) != PORTA_OK) {
                print_error("%s: %s\n", paths[i], porta_last_error(context));
                failures++;
            } else if (strcmp(text, text_again)) {
                print_error("%s: printing is not stable:\n%s\n---\n%s\n", paths[i], text, text_again);
                failures++;
            }
            porta_free(text);
            porta_free(text_again);
            porta_graph_destroy(graph);
            porta_graph_destroy(again);
        }
        free_list(paths, n);
    }
    porta_context_destroy(context);
    assert_int_equal(failures, 0);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_malformed MALFORMED_DIR [VALID_DIR...]\n");
        return 2;
    }
    malformed_dir = argv[1];
    valid_dirs = (const char **)argv + 2;
    n_valid_dirs = argc - 2;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_malformed_files),
        cmocka_unit_test(test_valid_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
