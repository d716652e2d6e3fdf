/* cli.h - the subcommands of the moesim binary.
 *
 * Each subcommand is `int cmd_NAME(int argc, char **argv)` with argv[0] the
 * subcommand's name; it returns the process exit status (0 ok, 2 bad input,
 * 1 anything else). It parses its command line with base/argv.h, the one
 * parser of every command, and its usage text is the one `moesim help` lists
 * and `moesim NAME --help` prints. main.c dispatches on argv[1] through the
 * cli_commands the files below define. Only app/ parses argv: the modules
 * are handed filled option structs (res_report, res_export, kn_capture,
 * kn_calibrate, plot_make).
 */
#ifndef MOESIM_CLI_H
#define MOESIM_CLI_H

#include "base/argv.h"
#include "base/err.h"
#include "base/version.h"

struct cli_command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *usage; /* "run SCENARIO.ini ...": the line(s) after "moesim " */
};

extern const struct cli_command cli_run;       /* run.c */
extern const struct cli_command cli_report;    /* cmd_report.c */
extern const struct cli_command cli_export;    /* cmd_export.c */
extern const struct cli_command cli_plot;      /* cmd_plot.c */
extern const struct cli_command cli_trace;     /* cmd_trace.c */
extern const struct cli_command cli_place;     /* cmd_place.c */
extern const struct cli_command cli_capture;   /* cmd_kernels.c */
extern const struct cli_command cli_calibrate; /* cmd_kernels.c */

int cmd_run(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_trace(int argc, char **argv);
int cmd_place(int argc, char **argv);
int cmd_capture(int argc, char **argv);
int cmd_calibrate(int argc, char **argv);

#endif
