/* Subcommands of the `porta` command. Each takes argv starting at its own name and returns the
 * process exit status: 0 success, 1 the input or the device failed, 2 a usage error. */
#ifndef PORTA_HOST_COMMANDS_H
#define PORTA_HOST_COMMANDS_H

typedef struct porta_command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);
} porta_command;

int porta_cmd_check(int argc, char **argv);
int porta_cmd_print(int argc, char **argv);
/* porta plan FILE [--device D] */
int porta_cmd_plan(int argc, char **argv);
/* porta run FILE --device D [--weights W] [--input NAME=PATH.npy ...] [--check] [--profile] ... */
int porta_cmd_run(int argc, char **argv);
/* porta import CHECKPOINT_DIR -o OUT [--batch B] [--max-seq S] [--dtype D] [--pooling P] ... */
int porta_cmd_import(int argc, char **argv);
int porta_cmd_devices(int argc, char **argv);
/* porta compare GRAPH... [--device D ...] [--repeat N] [--seed N] [--json FILE] */
int porta_cmd_compare(int argc, char **argv);
int porta_cmd_bench(int argc, char **argv);
/* porta tune [GRAPH...] [--suite S ...] [--device D ...] [--dry-run] */
int porta_cmd_tune(int argc, char **argv);
/* porta generate CHECKPOINT_DIR --prompt-ids IDS --max-new N [--device D] ... */
int porta_cmd_generate(int argc, char **argv);
/* porta report RESULT.json... -o DIR */
int porta_cmd_report(int argc, char **argv);

#endif
