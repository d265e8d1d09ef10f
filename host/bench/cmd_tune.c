/* `porta tune [GRAPH...] [--suite S ...] [--device D ...]`: for every variant decision the
 * graphs' plans make on a device (kernel family and shape: `porta plan` lists them), each
 * candidate variant is measured on the whole graph, checked against the reference, and the
 * fastest is stored for that device in the on-disk cache (runtime/tune.h), where every later
 * program on the device finds it. */
#include "host/bench/bench.h"
#include "host/commands.h"
#include "host/devices.h"
#include "runtime/tune.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEVICES 16
#define MAX_SUITES 8
#define MAX_GRAPHS 64

static int usage(FILE *out)
{
    fprintf(out,
            "usage: porta tune [GRAPH...] [--suite S ...] [--device D ...] [--repeat N]\n"
            "                  [--budget-s S] [--filter TEXT] [--seed N] [--dry-run]\n"
            "\n"
            "For each device (every device found, or each --device given) and each graph file\n"
            "or case of a `porta bench` suite (matmul, attention, softmax, layernorm,\n"
            "examples), measures every candidate variant of each kernel decision its plan makes\n"
            "(`porta plan` lists them under variants:), on the whole graph, as `porta bench`\n"
            "times a case (--repeat, default 5; --budget-s, default 2), checked against the\n"
            "reference. The fastest correct one is kept per device and shape in the kernel\n"
            "cache, where every later program on that device uses it (PORTA_TUNE=off ignores\n"
            "them). --dry-run measures and prints but stores nothing.\n");
    return out == stdout ? 0 : 2;
}

/* `text` with the line for (family, key) set to `variant`: a malloc'd copy. */
static char *with_line(const char *text, const char *family, const char *key, const char *variant)
{
    size_t size = (text ? strlen(text) : 0) + strlen(family) + strlen(key) + strlen(variant) + 4;
    char *out = malloc(size);
    if (!out) return NULL;
    size_t used = 0;
    char prefix[96];
    snprintf(prefix, sizeof prefix, "%s %s ", family, key);
    for (const char *p = text; p && *p;) {
        size_t length = strcspn(p, "\n");
        if (strncmp(p, prefix, strlen(prefix)) && length) {
            memcpy(out + used, p, length);
            used += length;
            out[used++] = '\n';
        }
        p += length + (p[length] == '\n');
    }
    used += (size_t)snprintf(out + used, size - used, "%s %s %s\n", family, key, variant);
    return out;
}

/* Tunes every decision of one case on one device; updates *winners. Returns 1 when nothing
 * could be measured. */
static int tune_case(porta_context *context, porta_device *device, const bench_case *c,
                     const bench_options *base, char **winners)
{
    const char *id = porta_device_info(device)->id;
    char message[512] = "";
    bench_prepared *prepared = NULL;
    if (bench_prepare(context, c, base->seed, &prepared, message, sizeof message)) {
        fprintf(stderr, "porta tune: %s: %s\n", c->name, message);
        return 1;
    }
    porta_plan_choice *choices = NULL;
    int n_choices = 0, rc = 0;
    if (bench_choices(device, prepared, *winners, &choices, &n_choices)) {
        fprintf(stderr, "porta tune: %s on %s: %s\n", c->name, id, porta_last_error(context));
        rc = 1;
    }
    for (int i = 0; i < n_choices; i++) {
        const porta_plan_choice *choice = &choices[i];
        if (choice->n_names < 2) continue;
        printf("%-10s %-24.24s %-10s %-24s", id, c->name, choice->family, choice->key);
        int best = -1;
        double best_ms = 0;
        for (int v = 0; v < choice->n_names; v++) {
            char *trial = with_line(*winners, choice->family, choice->key, choice->names[v]);
            bench_options options = *base;
            options.use_tuned = true;
            options.tuned = trial;
            options.focus_family = choice->family;
            options.focus_key = choice->key;
            bench_measure m;
            bench_measure_case(context, device, prepared, &options, &m);
            free(trial);
            /* the steps of this decision where the device times steps; else the whole graph */
            double ms = m.has_focus ? m.focus_ms.median : m.wall_ms.median;
            if (m.status) {
                printf(" %s %s", choice->names[v], m.status == 2 ? "OUTSIDE" : "failed");
                fprintf(stderr, "porta tune: %s on %s with %s=%s: %s\n", c->name, id,
                        choice->family, choice->names[v], m.message);
            } else {
                printf(" %s %.3f", choice->names[v], ms);
                if (best < 0 || ms < best_ms) best = v, best_ms = ms;
            }
            fflush(stdout);
        }
        if (best < 0) {
            printf("  -> none\n");
            rc = 1;
            continue;
        }
        printf("  -> %s (rule: %s)\n", choice->names[best], choice->names[choice->rule]);
        char *updated = with_line(*winners, choice->family, choice->key, choice->names[best]);
        if (updated) {
            free(*winners);
            *winners = updated;
        }
    }
    free(choices);
    bench_prepared_free(prepared);
    return rc;
}

int porta_cmd_tune(int argc, char **argv)
{
    const char *selectors[MAX_DEVICES], *suites[MAX_SUITES], *graphs[MAX_GRAPHS];
    const char *filter = NULL;
    int n_selectors = 0, n_suites = 0, n_graphs = 0;
    bool dry_run = false;
    bench_options base = {.repeat = 5, .budget_ms = 2000, .seed = 0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) return usage(stdout);
        bool takes_value = !strcmp(a, "--device") || !strcmp(a, "--suite") ||
                           !strcmp(a, "--repeat") || !strcmp(a, "--budget-s") ||
                           !strcmp(a, "--filter") || !strcmp(a, "--seed");
        if (takes_value && i + 1 >= argc) {
            fprintf(stderr, "porta tune: %s needs a value\n", a);
            return 2;
        }
        const char *v = takes_value ? argv[++i] : NULL;
        char *end = NULL;
        if (!strcmp(a, "--device") && n_selectors < MAX_DEVICES) {
            selectors[n_selectors++] = v;
        } else if (!strcmp(a, "--suite") && n_suites < MAX_SUITES) {
            suites[n_suites++] = v;
        } else if (!strcmp(a, "--repeat")) {
            base.repeat = (int)strtol(v, &end, 10);
            if (*end || base.repeat < 1 || base.repeat > 1000) {
                fprintf(stderr, "porta tune: --repeat '%s' is not a count in 1..1000\n", v);
                return 2;
            }
        } else if (!strcmp(a, "--budget-s")) {
            base.budget_ms = strtod(v, &end) * 1e3;
            if (*end || !(base.budget_ms >= 0)) {
                fprintf(stderr, "porta tune: --budget-s '%s' is not a number of seconds\n", v);
                return 2;
            }
        } else if (!strcmp(a, "--seed")) {
            base.seed = strtoull(v, &end, 10);
            if (*end) {
                fprintf(stderr, "porta tune: --seed '%s' is not a number\n", v);
                return 2;
            }
        } else if (!strcmp(a, "--filter")) {
            filter = v;
        } else if (!strcmp(a, "--dry-run")) {
            dry_run = true;
        } else if (a[0] == '-' || takes_value) {
            fprintf(stderr, "porta tune: unknown option or too many of '%s'\n", a);
            return usage(stderr);
        } else if (n_graphs < MAX_GRAPHS) {
            graphs[n_graphs++] = a;
        }
    }
    if (!n_graphs && !n_suites) {
        fprintf(stderr, "porta tune: no graph or --suite given\n");
        return usage(stderr);
    }
    bench_case *cases = NULL;
    int n_cases = 0;
    for (int s = 0; s < n_suites; s++)
        if (!strcmp(suites[s], "dispatch") ||
            bench_suite_cases(suites[s], bench_default_examples(), &cases, &n_cases)) {
            if (!strcmp(suites[s], "dispatch"))
                fprintf(stderr, "porta tune: the dispatch suite has no variants to tune\n");
            bench_cases_free(cases, n_cases);
            return 2;
        }
    for (int g = 0; g < n_graphs; g++) {
        bench_case *grown = realloc(cases, ((size_t)n_cases + 1) * sizeof *grown);
        if (!grown) break;
        cases = grown;
        bench_case *c = &cases[n_cases++];
        memset(c, 0, sizeof *c);
        c->suite = "graph";
        const char *slash = strrchr(graphs[g], '/');
        snprintf(c->name, sizeof c->name, "%s", slash ? slash + 1 : graphs[g]);
        snprintf(c->path, sizeof c->path, "%s", graphs[g]);
    }
    porta_context *context = NULL;
    porta_device_desc descs[MAX_DEVICES];
    int n_devices = 0, rc = 0;
    if (porta_context_create(&context) ||
        host_select_devices(context, "porta tune", selectors, n_selectors, descs, MAX_DEVICES,
                            &n_devices)) {
        bench_cases_free(cases, n_cases);
        porta_context_destroy(context);
        return 1;
    }
    printf("%-10s %-24s %-10s %-24s candidates: ms (the decision's steps' device time, else the "
           "graph's wall time)\n", "device", "case", "family", "shape");
    for (int d = 0; d < n_devices; d++) {
        porta_device *device = NULL;
        if (porta_device_open(context, descs[d].id, &device)) {
            fprintf(stderr, "porta tune: %s: %s\n", descs[d].id, porta_last_error(context));
            rc = 1;
            continue;
        }
        char *winners = porta_tune_load(device);
        for (int i = 0; i < n_cases; i++)
            if (bench_filter_keeps(filter, cases[i].name))
                rc |= tune_case(context, device, &cases[i], &base, &winners);
        if (!dry_run && winners && porta_tune_store(device, winners)) {
            fprintf(stderr, "%s\n", porta_last_error(context));
            rc = 1;
        } else if (!dry_run && winners) {
            int lines = 0;
            for (const char *p = winners; *p; p++) lines += *p == '\n';
            printf("%s: %d tuned shapes stored\n", descs[d].id, lines);
        }
        free(winners);
        porta_device_close(device);
    }
    bench_cases_free(cases, n_cases);
    porta_context_destroy(context);
    return rc;
}
