/* `porta plan FILE [--device D]`: the plan a graph lowers to, as text: buffers, every step's
 * kernel, bindings, grid and dependencies, and the arena's peak against the sum of all
 * intermediates. Without --device the plan is for portable limits (graphs/lower/plan.h). */
#include "graphs/lower/plan.h"
#include "host/commands.h"
#include "porta.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out)
{
    fprintf(out, "usage: porta plan FILE [--device D]\n"
                 "\n"
                 "Prints the plan of the graph in FILE: buffers, steps (kernel, bindings as\n"
                 "r|w bBUFFER[offset+bytes], grid, local size, the steps each waits for) and the\n"
                 "arena's peak against the sum of all intermediates. Fused pairs of nodes show\n"
                 "as one step with both ops (linear+gelu, add+layernorm), a group of projections\n"
                 "of one input as linear+linear+linear; PORTA_FUSION=0 plans without fusion.\n"
                 "\n"
                 "  --device D   plan for this device's limits (and compile it there); without it,\n"
                 "               for portable limits (256 invocations, 16 KiB shared memory,\n"
                 "               256-byte alignment)\n");
}

static int plan_portable(porta_context *context, porta_graph *graph)
{
    porta_plan_limits limits = porta_plan_default_limits();
    /* as a device's plan does (runtime/program.c): PORTA_FUSION=0 fuses nothing */
    const char *fusion = getenv("PORTA_FUSION");
    limits.fusion = !fusion || strcmp(fusion, "0") != 0;
    porta_plan *plan;
    if (porta_plan_create(graph, &limits, &plan)) {
        fprintf(stderr, "porta plan: %s\n", porta_last_error(context));
        return 1;
    }
    porta_strbuf text = {0};
    porta_plan_format(plan, &text);
    porta_plan_destroy(plan);
    if (!text.data || text.failed) {
        porta_strbuf_free(&text);
        fprintf(stderr, "porta plan: out of memory\n");
        return 1;
    }
    fputs(text.data, stdout);
    porta_strbuf_free(&text);
    return 0;
}

static int plan_on_device(porta_context *context, porta_graph *graph, const char *selector)
{
    porta_device *device;
    if (porta_device_open(context, selector, &device)) {
        fprintf(stderr, "porta plan: --device '%s': %s\n", selector, porta_last_error(context));
        return 1;
    }
    porta_program *program = NULL;
    char *text = NULL;
    int rc = 0;
    if (porta_program_create(device, graph, 0, &program) ||
        porta_program_describe(program, &text)) {
        fprintf(stderr, "porta plan: %s\n", porta_last_error(context));
        rc = 1;
    } else {
        printf("device %s (%s)\n%s", porta_device_info(device)->id,
               porta_device_info(device)->name, text);
    }
    free(text);
    porta_program_destroy(program);
    porta_device_close(device);
    return rc;
}

int porta_cmd_plan(int argc, char **argv)
{
    const char *path = NULL, *device = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--device")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "porta plan: --device needs a value\n");
                return 2;
            }
            device = argv[++i];
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "porta plan: unknown option '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        } else if (!path) {
            path = argv[i];
        } else {
            fprintf(stderr, "porta plan: more than one graph file ('%s', '%s')\n", path, argv[i]);
            return 2;
        }
    }
    if (!path) {
        fprintf(stderr, "porta plan: no graph file given\n");
        usage(stderr);
        return 2;
    }
    porta_context *context;
    if (porta_context_create(&context)) {
        fprintf(stderr, "porta plan: out of memory\n");
        return 1;
    }
    porta_graph *graph;
    int rc;
    if (porta_graph_load(context, path, &graph)) {
        fprintf(stderr, "porta plan: %s\n", porta_last_error(context));
        rc = 1;
    } else {
        rc = device ? plan_on_device(context, graph, device) : plan_portable(context, graph);
        porta_graph_destroy(graph);
    }
    porta_context_destroy(context);
    return rc;
}
