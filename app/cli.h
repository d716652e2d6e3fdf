/* cli.h - the subcommands of the moesim binary.
 *
 * Each subcommand is `int NAME_cli(int argc, char **argv)` with argv[0] the
 * subcommand's name; it returns the process exit status (0 ok, 2 bad input,
 * 1 anything else). main.c dispatches on argv[1] through cli_commands[].
 */
#ifndef MOESIM_CLI_H
#define MOESIM_CLI_H

#define MOESIM_VERSION "0.1.0"

struct cli_command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *usage;
};

int sim_run_cli(int argc, char **argv);
int res_report_cli(int argc, char **argv); /* results/report.c */
int res_export_cli(int argc, char **argv); /* results/export.c */
int plot_cli(int argc, char **argv);       /* plots/plot_cli.c */
int wl_trace_cli(int argc, char **argv);
int wl_place_cli(int argc, char **argv);
int kn_capture_cli(int argc, char **argv);   /* kernels/capture.c */
int kn_calibrate_cli(int argc, char **argv); /* kernels/calibrate.c */

#endif
