/* Op conformance: every case of tests/conformance/cases_*.c on every device found, against the
 * CPU reference in double precision, with each op's tolerance from tolerances.c. One test per
 * device, which runs every case, reports every failing one and prints the ops it ran, so an op
 * without cases, or one a device could not run, shows.
 *
 * The lists of fused patterns run twice: as lowering fuses them, and with PORTA_FUSION=0.
 *
 * PORTA_CONFORMANCE_OPS=op1,op2 runs only the cases of those ops. */
#include "conformance/conformance.h"
#include "graphs/graph.h"
#include "graphs/ops.h"
#include "host/reference/reference.h"
#include "runtime_fixture.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEED 0
#define MAX_OPS 64

static const struct {
    const conformance_case *cases;
    bool fused;                        /* also run with PORTA_FUSION=0 */
} families[] = {
    {conformance_cases_elementwise, false}, {conformance_cases_shape, false},
    {conformance_cases_matmul, false},      {conformance_cases_norm, false},
    {conformance_cases_attention, false},   {conformance_cases_matmul_fused, true},
    {conformance_cases_norm_fused, true},   {conformance_cases_attention_fused, true},
    {conformance_cases_reduce, false},
    {conformance_cases_quantized, false},    {conformance_cases_quantized_fused, true},
};
/* PORTA_FUSION for each pass of a fused list: on, then off */
static const char *const fusion_passes[] = {"1", "0"};

static bool selected(const char *op)
{
    const char *list = getenv("PORTA_CONFORMANCE_OPS");
    if (!list || !*list) return true;
    size_t n = strlen(op);
    for (const char *p = list; *p;) {
        size_t length = strcspn(p, ",");
        if (length == n && !strncmp(p, op, n)) return true;
        p += length;
        if (*p == ',') p++;
    }
    return false;
}

/* PORTA_CONFORMANCE_F16=1: only the cases with an f16 tensor (the Vulkan path that writes
 * halves into words with atomics runs them: tests/meson.build) */
static bool halves_only(void)
{
    const char *only = getenv("PORTA_CONFORMANCE_F16");
    return only && !strcmp(only, "1");
}

typedef struct op_tally {
    const char *op;
    int passed, failed, skipped;
} op_tally;

static op_tally *tally_of(op_tally *tallies, int *n, const char *op)
{
    for (int i = 0; i < *n; i++)
        if (!strcmp(tallies[i].op, op)) return &tallies[i];
    if (*n == MAX_OPS) return &tallies[MAX_OPS - 1];
    tallies[*n] = (op_tally){op, 0, 0, 0};
    return &tallies[(*n)++];
}

/* Fills and runs the reference; returns false (with a message printed) on failure. */
static bool run_reference(porta_context *context, const conformance_case *c, porta_graph *graph,
                          porta_reference_values *values)
{
    for (porta_tensor_id t = 0; t < graph->n_tensors; t++) {
        const porta_tensor *tensor = &graph->tensors[t];
        if (tensor->kind == PORTA_TENSOR_NODE) continue;
        porta_reference_fill(graph, t, SEED, values->data[t]);
        if (c->fill && c->fill(tensor->name, values->data[t], values->count[t]))
            porta_reference_round(tensor->dtype, values->data[t], values->count[t]);
    }
    porta_status status = porta_reference_run(graph, values);
    if (status != PORTA_OK) {
        print_message("  %s: reference: %s\n", graph->name, porta_last_error(context));
        return false;
    }
    return true;
}

/* 1: passed, 0: failed, -1: the device cannot run it (UNSUPPORTED). */
static int run_case(porta_context *context, porta_device *device, const conformance_case *c)
{
    porta_graph *graph = NULL;
    porta_status status = porta_graph_parse(context, c->graph, strlen(c->graph), "case", &graph);
    if (status != PORTA_OK) {
        print_message("  case of %s: %s\n", c->op, porta_last_error(context));
        porta_graph_destroy(graph);
        return 0;
    }
    porta_reference_values *values = NULL;
    porta_program *program = NULL;
    void *host = NULL;
    double *got = NULL;
    int result = 0;
    if (porta_reference_values_create(graph, &values) != PORTA_OK ||
        !run_reference(context, c, graph, values))
        goto done;
    status = porta_program_create(device, graph, 0, &program);
    if (status == PORTA_ERROR_UNSUPPORTED) {
        print_message("  %s: skipped on %s: %s\n", graph->name, porta_device_info(device)->id,
                      porta_last_error(context));
        result = -1;
        goto done;
    }
    if (status != PORTA_OK) {
        print_message("  %s: porta_program_create: %s\n", graph->name, porta_last_error(context));
        goto done;
    }
    int64_t largest = 1;
    for (porta_tensor_id t = 0; t < graph->n_tensors; t++)
        if (values->count[t] > largest) largest = values->count[t];
    host = malloc((size_t)largest * 4);
    got = malloc((size_t)largest * sizeof *got);
    if (!host || !got) goto done;
    for (porta_tensor_id t = 0; t < graph->n_tensors && status == PORTA_OK; t++) {
        const porta_tensor *tensor = &graph->tensors[t];
        if (tensor->kind == PORTA_TENSOR_NODE) continue;
        porta_reference_pack(tensor->dtype, values->data[t], values->count[t], host);
        status = porta_program_set(program, tensor->name, host,
                                   (size_t)values->count[t] * porta_dtype_size(tensor->dtype));
    }
    if (status == PORTA_OK) status = porta_program_run(program);
    if (status != PORTA_OK) {
        print_message("  %s: %s\n", graph->name, porta_last_error(context));
        goto done;
    }
    const conformance_tolerance *op_tol = conformance_tolerance_of(c->op);
    const conformance_tolerance *f16_tol = conformance_tolerance_of("f16");
    if (!op_tol) {
        print_message("  %s: no tolerance row for op '%s'\n", graph->name, c->op);
        goto done;
    }
    result = 1;
    for (porta_tensor_id t = 0; t < graph->n_tensors; t++) {
        const porta_tensor *tensor = &graph->tensors[t];
        if (!tensor->is_output) continue;
        size_t bytes = (size_t)values->count[t] * porta_dtype_size(tensor->dtype);
        if (porta_program_get(program, tensor->name, host, bytes) != PORTA_OK) {
            print_message("  %s: %s\n", graph->name, porta_last_error(context));
            result = 0;
            continue;
        }
        porta_reference_unpack(tensor->dtype, host, values->count[t], got);
        double abs_tol = op_tol->abs, rel_tol = op_tol->rel;
        if (tensor->dtype == PORTA_F16) {
            abs_tol = fmax(abs_tol, f16_tol->abs);
            rel_tol = fmax(rel_tol, f16_tol->rel);
        }
        porta_comparison cmp;
        porta_reference_compare(got, values->data[t], values->count[t], abs_tol, rel_tol, &cmp);
        if (cmp.failures) {
            print_message("  %s on %s: output %s: %lld of %lld elements outside |err| <= %g + %g "
                          "|ref|; worst [%lld] = %.9g, reference %.9g; max abs error %.3g\n",
                          graph->name, porta_device_info(device)->id, tensor->name,
                          (long long)cmp.failures, (long long)values->count[t], abs_tol, rel_tol,
                          (long long)cmp.worst, got[cmp.worst], values->data[t][cmp.worst],
                          cmp.max_abs);
            result = 0;
        }
    }
done:
    free(host);
    free(got);
    porta_program_destroy(program);
    porta_reference_values_destroy(values);
    porta_graph_destroy(graph);
    return result;
}

static bool has_case(const char *op, const char *name)
{
    char want[80];
    snprintf(want, sizeof want, "graph %s\n", name);
    for (size_t f = 0; f < sizeof families / sizeof families[0]; f++)
        for (const conformance_case *c = families[f].cases; c->op; c++)
            if (!strcmp(c->op, op) && !strncmp(c->graph, want, strlen(want))) return true;
    return false;
}

static void conformance_on(void **state, int index)
{
    const char *missing = conformance_variants_missing(has_case);
    if (missing) fail_msg("variants.c lists case %s, which no case file has", missing);
    rt_devices *devices = *state;
    if (index >= devices->count) fail_msg("device %d was listed but did not open", index);
    porta_device *device = devices->devices[index];
    const porta_device_desc *desc = porta_device_info(device);
    op_tally tallies[MAX_OPS];
    int n_tallies = 0, failed = 0;
    for (size_t f = 0; f < sizeof families / sizeof families[0]; f++)
        for (const conformance_case *c = families[f].cases; c->op; c++) {
            if (!selected(c->op) || (halves_only() && !strstr(c->graph, "f16"))) continue;
            op_tally *tally = tally_of(tallies, &n_tallies, c->op);
            char name[64];
            sscanf(c->graph, "graph %63s", name);
            const char *const *forced = conformance_variants_of(c->op, name);
            int passes = families[f].fused ? 2 : 1;
            for (int pass = 0; pass < passes; pass++)
                for (int v = 0; forced ? forced[v] != NULL : v == 0; v++) {
                    const char *fusion = families[f].fused ? fusion_passes[pass] : NULL;
                    if (forced) setenv("PORTA_VARIANTS", forced[v], 1);
                    if (fusion) setenv("PORTA_FUSION", fusion, 1);
                    int result = run_case(devices->context, device, c);
                    if (forced) unsetenv("PORTA_VARIANTS");
                    if (fusion) unsetenv("PORTA_FUSION");
                    if (result > 0) tally->passed++;
                    else if (result < 0) tally->skipped++;
                    else tally->failed++, failed++;
                    if (result == 0 && (forced || fusion))
                        print_message("    (PORTA_VARIANTS=%s PORTA_FUSION=%s)\n",
                                      forced ? forced[v] : "", fusion ? fusion : "");
                }
        }
    if (!n_tallies) fail_msg("PORTA_CONFORMANCE_OPS selects no case");
    /* every op of the op table has cases, unless a subset was asked for */
    for (int op = 0; op < PORTA_OP_COUNT && !getenv("PORTA_CONFORMANCE_OPS") && !halves_only(); op++) {
        const char *name = porta_op_get(op)->name;
        bool found = false;
        for (int i = 0; i < n_tallies && !found; i++) found = !strcmp(tallies[i].op, name);
        if (!found) {
            print_message("  op %s has no conformance case\n", name);
            failed++;
        }
    }
    print_message("%s (%s): ops run:", desc->id, desc->name);
    for (int i = 0; i < n_tallies; i++) {
        print_message(" %s %d", tallies[i].op, tallies[i].passed);
        if (tallies[i].failed) print_message("/%d failed", tallies[i].failed);
        if (tallies[i].skipped) print_message("/%d skipped", tallies[i].skipped);
    }
    print_message("\n");
    if (failed) fail_msg("%s: %d conformance cases failed", desc->id, failed);
}

/* One test per device, named by its id and name; the devices are listed before the group
 * fixture opens them, in the same order. */
#define DEVICE_TEST(i) \
    static void conformance_device_##i(void **state) { conformance_on(state, i); }
DEVICE_TEST(0)
DEVICE_TEST(1)
DEVICE_TEST(2)
DEVICE_TEST(3)
DEVICE_TEST(4)
DEVICE_TEST(5)
DEVICE_TEST(6)
DEVICE_TEST(7)
static void (*const device_tests[])(void **) = {
    conformance_device_0, conformance_device_1, conformance_device_2, conformance_device_3,
    conformance_device_4, conformance_device_5, conformance_device_6, conformance_device_7,
};
#define MAX_DEVICES ((int)(sizeof device_tests / sizeof device_tests[0]))

int main(void)
{
    porta_context *context = NULL;
    porta_device_desc descs[MAX_DEVICES];
    int count = 0;
    if (porta_context_create(&context) != PORTA_OK ||
        porta_device_list(context, descs, MAX_DEVICES, &count) != PORTA_OK)
        count = 0;
    porta_context_destroy(context);
    if (count > MAX_DEVICES) count = MAX_DEVICES;
    struct CMUnitTest tests[MAX_DEVICES + 1];
    static char names[MAX_DEVICES][320];
    int n = 0;
    for (int i = 0; i < count; i++) {
        snprintf(names[i], sizeof names[i], "conformance %.31s (%.256s)", descs[i].id,
                 descs[i].name);
        tests[n] = (struct CMUnitTest){names[i], device_tests[i], NULL, NULL, NULL};
        n++;
    }
    if (!n) /* the fixture's setup fails on a machine without devices */
        tests[n++] = (struct CMUnitTest){"conformance", device_tests[0], NULL, NULL, NULL};
    return _cmocka_run_group_tests("conformance", tests, (size_t)n, rt_devices_setup,
                                   rt_devices_teardown);
}
