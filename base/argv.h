/* argv.h - the command line of a (sub)command: one table of its options,
 * parsed in one pass, every error one line.
 *
 * A command declares its options as a table of struct argv_opt (long name,
 * short alias, the value's name when it takes one, whether it may be given
 * more than once, help text) and its usage text, and calls argv_parse, which
 * checks the whole command line before anything runs:
 *
 *   --name value, --name=value, -o value, -o=value   an option with a value
 *   --flag                                           a flag (no value)
 *   --help, -h                                       on every command: prints
 *                                                    its usage on stdout, exit 0
 *   --                                               the rest are positional
 *   anything else (a lone "-" too)                   a positional argument
 *
 * Errors go to stderr as one line "PROG: NAME: reason" and exit status 2
 * (MOESIM_EXIT_INPUT), NAME as the user wrote it:
 *
 *   moesim run: --bogus: unknown option
 *   moesim run: --set: missing value        (also "--set --db x": a value that
 *                                            looks like an option is not taken)
 *   moesim run: --quiet: takes no value
 *   moesim run: --db: given more than once  (an option without ARGV_REPEAT)
 *
 * A value looks like an option when it starts with "--" or is one of the
 * command's short names ("-o", "-j", "-h"); "-" and "-5" are values. A value
 * that really starts with "--" is given as --name=--value.
 *
 * After parsing, the values are read by name (argv_str, argv_each, the typed
 * argv_long, argv_real, argv_u64, argv_choice, which report a bad value in
 * the same one-line form) and the positional arguments by index. Nothing is
 * allocated: the accessors read argv again.
 */
#ifndef MOESIM_ARGV_H
#define MOESIM_ARGV_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define ARGV_REPEAT 1u /* may be given more than once (each value is kept) */

struct argv_opt {
    const char *name;  /* "--db"; an option that only has a short name: "-o" */
    const char *alias; /* short alias ("-j"), or NULL */
    const char *value; /* the value's name in the help ("FILE"); NULL: a flag */
    unsigned flags;    /* ARGV_REPEAT */
    const char *help;
};

struct argv_cmd {
    const char *prog;  /* what errors start with: "moesim run" */
    const char *usage; /* --help prints "usage: moesim " usage, then the options */
    const struct argv_opt *opts;
    size_t nopts;
    /* Parsing stops at the first positional argument, which and whatever
     * follows belong to a subcommand (main, `moesim trace`); see argv_rest. */
    int stop_at_positional;
    /* When set, --help calls it instead of printing usage and options. */
    void (*help)(FILE *f);
};

/* A parsed command line (argv is not copied: it must outlive this). */
struct argv_res {
    const struct argv_cmd *cmd;
    int argc;
    char **argv;
    int end;    /* argv index where parsing stopped (argc unless stop_at_positional) */
    int status; /* after argv_parse returned -1: the exit status (0 after --help, 2) */
};

/* Parses argv[1..argc-1] (argv[0] is the command's name). 0 when the command
 * should go on; -1 when it should exit with r->status, having printed its
 * help (status 0) or one error line (status 2). */
int argv_parse(const struct argv_cmd *c, int argc, char **argv, struct argv_res *r);

/* Prints "usage: moesim USAGE" and the option table (what --help prints). */
void argv_print_help(const struct argv_cmd *c, FILE *f);

/* How many times option `name` (its long name as in the table) was given. */
int argv_count(const struct argv_res *r, const char *name);
/* The value of option `name` (the last one given), or def. */
const char *argv_str(const struct argv_res *r, const char *name, const char *def);
/* The values of a repeated option in order: start with *pos = 0, each call
 * returns the next one, NULL after the last. */
const char *argv_each(const struct argv_res *r, const char *name, int *pos);

/* Positional arguments (before r->end): their number and the k-th. */
int argv_npos(const struct argv_res *r);
const char *argv_pos(const struct argv_res *r, int k);
/* The first argument parsing did not read (stop_at_positional), as argc and
 * argv of the subcommand it names (*argv[0] its name); 0 when there is none. */
int argv_rest(const struct argv_res *r, char ***argv);

/* Typed values of option `name`: unchanged *out and 0 when it is absent,
 * the value and 0 when it is good, -1 after printing "PROG: NAME: expected
 * ..., got 'v'" when it is not (the caller exits with MOESIM_EXIT_INPUT). */
int argv_long(const struct argv_res *r, const char *name, long lo, long hi, long *out);
int argv_real(const struct argv_res *r, const char *name, double lo, double hi, double *out);
int argv_u64(const struct argv_res *r, const char *name, uint64_t *out);
/* The index of the value in "a|b|c". */
int argv_choice(const struct argv_res *r, const char *name, const char *choices, int *out);

/* Prints "PROG: " and the message as one line on stderr; returns
 * MOESIM_EXIT_INPUT. */
int argv_fail(const struct argv_res *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
