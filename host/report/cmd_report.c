/* `porta report RESULT.json... -o DIR`: results files of any number of machines merged into
 * DIR/report.md, SVG charts, DIR/results.csv and DIR/results.jsonl (docs/cli.md). */
#include "host/commands.h"
#include "host/report/report.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int usage(FILE *out)
{
    fprintf(out,
            "usage: porta report RESULT.json... -o DIR\n"
            "\n"
            "Merges the results files of porta compare --json, porta bench --json and porta\n"
            "devices --json, of one machine or many, into DIR (made when missing):\n"
            "report.md (devices, throughput per suite and case, fraction of each device's\n"
            "peak, numerics error per op, time by op of each profiled graph), SVG charts of\n"
            "the same, and the merged table as results.csv and results.jsonl. A device is one\n"
            "column wherever its key (vendor / name / driver) is the same; a case measured in\n"
            "several files gives a spread over the runs. A bad file is an error naming it; a\n"
            "device listed without results is a warning in the report.\n");
    return out == stdout ? 0 : 2;
}

/* Makes `dir` and its missing parents. */
static int make_dir(const char *dir)
{
    char *path = strdup(dir);
    if (!path) return 1;
    int rc = 0;
    for (char *at = path + 1;; at++) {
        bool end = *at == '\0';
        if (*at != '/' && !end) continue;
        *at = '\0';
        if (mkdir(path, 0777) != 0 && errno != EEXIST) {
            fprintf(stderr, "porta report: cannot make '%s': %s\n", path, strerror(errno));
            rc = 1;
            break;
        }
        if (end) break;
        *at = '/';
    }
    free(path);
    struct stat info;
    if (!rc && (stat(dir, &info) != 0 || !S_ISDIR(info.st_mode))) {
        fprintf(stderr, "porta report: '%s' is not a folder\n", dir);
        rc = 1;
    }
    return rc;
}

int porta_cmd_report(int argc, char **argv)
{
    const char *dir = NULL;
    int n_paths = 0;
    const char **paths = calloc((size_t)argc, sizeof *paths);
    if (!paths) return 1;
    int rc = 0;
    for (int i = 1; i < argc && !rc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            free(paths);
            return usage(stdout);
        } else if (!strcmp(a, "-o") || !strcmp(a, "--out")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "porta report: %s needs a folder\n", a);
                rc = 2;
            } else {
                dir = argv[++i];
            }
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "porta report: unknown option '%s'\n", a);
            rc = usage(stderr);
        } else {
            for (int k = 0; k < n_paths; k++)
                if (!strcmp(paths[k], a)) {
                    fprintf(stderr, "porta report: '%s' is given twice\n", a);
                    rc = 2;
                }
            paths[n_paths++] = a;
        }
    }
    if (!rc && (!n_paths || !dir)) {
        fprintf(stderr, "porta report: %s\n", n_paths ? "no output folder (-o DIR)"
                                                       : "no results file given");
        rc = usage(stderr);
    }
    /* "out/" names files "out/report.md", not "out//report.md" */
    char *folder = dir ? malloc(strlen(dir) + 2) : NULL;
    if (dir && !folder) rc = 1;
    if (folder) {
        size_t n = strlen(dir);
        while (n > 1 && dir[n - 1] == '/') n--;
        memcpy(folder, dir, n);
        folder[n] = '\0';
    }
    dir = folder;
    report_model model = {0};
    for (int i = 0; i < n_paths && !rc; i++) rc = report_load(&model, paths[i]);
    if (!rc) rc = make_dir(dir);
    if (!rc) rc = report_write_markdown(&model, dir) || report_write_charts(&model, dir) ||
                  report_write_exports(&model, dir);
    if (!rc)
        printf("porta report: %d file%s, %d device%s, %d row%s: %s/report.md\n", n_paths,
               n_paths == 1 ? "" : "s", model.n_devices, model.n_devices == 1 ? "" : "s",
               model.n_rows, model.n_rows == 1 ? "" : "s", dir);
    report_model_free(&model);
    free(folder);
    free(paths);
    return rc;
}
