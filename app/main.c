/* main.c - the moesim command line: dispatches to a subcommand (cli.h). */
#include <stdio.h>
#include <string.h>

#include "app/cli.h"
#include "app/options.h"

static int cmd_help(int argc, char **argv);

static const struct cli_command cli_help = {
    "help", cmd_help,
    "help [COMMAND]\n"
    "        the scenario options, their defaults, bounds and meaning; with COMMAND, its usage\n"
    "        (as moesim COMMAND --help)"};

static const struct cli_command *const cli_commands[] = {
    &cli_run,   &cli_report,  &cli_export,    &cli_plot, &cli_trace,
    &cli_place, &cli_capture, &cli_calibrate, &cli_help,
};
static const size_t n_commands = sizeof cli_commands / sizeof cli_commands[0];

static void usage(FILE *f)
{
    fprintf(f, "moesim %s - packet-level simulator of MoE expert-parallel traffic\n\nusage:\n",
            MOESIM_VERSION);
    for (size_t i = 0; i < n_commands; i++)
        fprintf(f, "  moesim %s\n", cli_commands[i]->usage);
}

static void help_all(FILE *f)
{
    usage(f);
    fprintf(f, "\nscenario options (INI sections and keys; a comma-separated value sweeps):\n");
    opt_print_help(f);
}

static const struct cli_command *find_command(const char *name)
{
    for (size_t i = 0; i < n_commands; i++)
        if (!strcmp(name, cli_commands[i]->name)) return cli_commands[i];
    return NULL;
}

static const struct argv_cmd help_args = {"moesim help", NULL, NULL, 0, 0, help_all};

static int cmd_help(int argc, char **argv)
{
    struct argv_res a;
    if (argv_parse(&help_args, argc, argv, &a)) return a.status;
    if (argv_npos(&a) > 1) return argv_fail(&a, "unexpected argument '%s'", argv_pos(&a, 1));
    if (argv_npos(&a) == 0) {
        help_all(stdout);
        return 0;
    }
    const struct cli_command *c = find_command(argv_pos(&a, 0));
    if (!c) return argv_fail(&a, "unknown command '%s' (try moesim help)", argv_pos(&a, 0));
    char *sub[] = {(char *)c->name, "--help", NULL};
    return c->fn(2, sub);
}

static const struct argv_opt main_opts[] = {
    {"--version", NULL, NULL, 0, "print the version and exit"},
};
static const struct argv_cmd main_args = {
    "moesim", NULL, main_opts, sizeof main_opts / sizeof main_opts[0], 1, help_all};

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return MOESIM_EXIT_INPUT;
    }
    struct argv_res a;
    if (argv_parse(&main_args, argc, argv, &a)) return a.status;
    char **sub;
    int nsub = argv_rest(&a, &sub);
    if (argv_count(&a, "--version")) {
        if (nsub) return argv_fail(&a, "--version: takes no command ('%s')", sub[0]);
        printf("moesim %s\n", MOESIM_VERSION);
        return 0;
    }
    if (!nsub) {
        usage(stderr);
        return MOESIM_EXIT_INPUT;
    }
    const struct cli_command *c = find_command(sub[0]);
    if (!c) return argv_fail(&a, "unknown command '%s' (try moesim help)", sub[0]);
    return c->fn(nsub, sub);
}
