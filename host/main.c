/* The `porta` command: one subcommand per file in host/ (cmd_*.c). */
#include "host/commands.h"
#include "build_commit.h"
#include "porta.h"

#include <stdio.h>
#include <string.h>

static const porta_command commands[] = {
    {"help", "show this list", NULL},
    {"check", "parse and validate a graph; list tensors, FLOPs and bytes", porta_cmd_check},
    {"print", "print a graph in canonical .pg form", porta_cmd_print},
    {"plan", "print the plan a graph lowers to: steps, bindings, arena", porta_cmd_plan},
    {"run", "run a graph on a device or the CPU reference; --check, --profile", porta_cmd_run},
    {"compare", "run graphs on every device, checked; one table of time and error",
     porta_cmd_compare},
    {"import", "write .pg graphs for a Hugging Face checkpoint (BERT, RoBERTa, GPT-2, Llama)",
     porta_cmd_import},
    {"devices", "list OpenCL and Vulkan devices and their limits", porta_cmd_devices},
    {"bench", "op suites on every device: time, GFLOP/s, GB/s, error", porta_cmd_bench},
    {"generate", "greedy generation from a GPT-2 or Llama checkpoint, token ids in and out",
     porta_cmd_generate},
    {"report", "merge results files of many machines into report.md, SVG charts, CSV",
     porta_cmd_report},
    {"tune", "measure each kernel variant per device and shape; keep the fastest", porta_cmd_tune},
};

static int usage(FILE *out)
{
    fprintf(out, "usage: porta COMMAND [ARGS]  (porta COMMAND --help for each)\n"
                 "       porta --version\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    return out == stdout ? 0 : 2;
}

int main(int argc, char **argv)
{
    if (argc < 2) return usage(stderr);
    if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
        return usage(stdout);
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
        /* the library's version, which may differ from the header's a build used */
        printf("porta %s (commit %s)\n", porta_version(), PORTA_BUILD_COMMIT);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (commands[i].run && !strcmp(argv[1], commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "porta: unknown command '%s'\n", argv[1]);
    return usage(stderr);
}
