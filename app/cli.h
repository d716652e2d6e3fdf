/* cli.h - the subcommands of the moesim binary.
 *
 * Each subcommand is `int NAME_cli(int argc, char **argv)` with argv[0] the
 * subcommand's name; it returns the process exit status (0 ok, 2 bad input,
 * 1 anything else). main.c dispatches on argv[1] through cli_commands[].
 */
#ifndef MOESIM_CLI_H
#define MOESIM_CLI_H

#include "base/version.h"
#include "kernels/cliopts.h"
#include "plots/plot.h"
#include "results/res.h"

struct cli_command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *usage;
};

int sim_run_cli(int argc, char **argv);
/* declared by their modules: res_report_cli, res_export_cli (results/res.h),
 * plot_cli (plots/plot.h), kn_capture_cli, kn_calibrate_cli
 * (kernels/cliopts.h) */
int wl_trace_cli(int argc, char **argv);
int wl_place_cli(int argc, char **argv);

#endif
