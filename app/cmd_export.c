/* cmd_export.c - `moesim export`: its command line, and the CSV file
 * res_export (results/export.c) writes, through a temporary file next to it
 * that is renamed once complete (a failed export leaves no file). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/cli.h"
#include "results/res.h"

#define EXPORT_USAGE                                                                               \
    "export [--db FILE] --table "                                                                  \
    "runs|params|phases|links|flows|timeseries|gpu_load|trace_use|inputs|notes|tasks\n"            \
    "        [--where section.key=value]... -o OUT.csv\n"                                          \
    "        the table's rows as CSV, one column per swept parameter"

const struct cli_command cli_export = {"export", cmd_export, EXPORT_USAGE};

static const struct argv_opt export_opts[] = {
    {"--db", NULL, "FILE", 0, "the results database (default results/moesim.db)"},
    {"--table", NULL, "TABLE", 0,
     "runs, params, phases, links, flows, timeseries, gpu_load, trace_use, inputs, notes or tasks"},
    {"--where", NULL, "section.key=value", ARGV_REPEAT, "only the runs with that parameter value"},
    {"-o", NULL, "OUT.csv", 0, "the CSV file to write (- for stdout)"},
};
static const struct argv_cmd export_args = {"moesim export",
                                            EXPORT_USAGE,
                                            export_opts,
                                            sizeof export_opts / sizeof export_opts[0],
                                            0,
                                            NULL};

int cmd_export(int argc, char **argv)
{
    struct argv_res a;
    if (argv_parse(&export_args, argc, argv, &a)) return a.status;
    if (argv_npos(&a)) return argv_fail(&a, "unexpected argument '%s'", argv_pos(&a, 0));
    const char *table = argv_str(&a, "--table", NULL), *outp = argv_str(&a, "-o", NULL);
    if (!table)
        return argv_fail(&a, "--table: missing (runs, params, phases, links, flows, "
                             "timeseries or gpu_load)");
    if (!outp) return argv_fail(&a, "-o: missing (the CSV file to write)");
    struct res_db *db = NULL;
    struct err e;
    if (res_open_read(argv_str(&a, "--db", "results/moesim.db"), &db, &e) < 0)
        return argv_fail(&a, "%s", e.msg);
    const char **where = xcalloc((size_t)argc, sizeof *where);
    size_t nwhere = 0;
    for (int pos = 0; (where[nwhere] = argv_each(&a, "--where", &pos));)
        nwhere++;
    size_t n = strlen(outp) + 16;
    char *tmp = xmalloc(n);
    snprintf(tmp, n, "%s.tmp", outp);
    FILE *f = strcmp(outp, "-") ? fopen(tmp, "w") : stdout;
    int rc = 0;
    if (!f) {
        rc = argv_fail(&a, "%s: cannot open: %s", outp, strerror(errno));
    } else {
        long rows = res_export(db, table, where, nwhere, f, &e);
        if (f != stdout && fclose(f) != 0 && rows >= 0)
            rows = err_set(&e, "%s: cannot write: %s", outp, strerror(errno));
        if (rows < 0) {
            rc = argv_fail(&a, "%s", e.msg);
            if (f != stdout) unlink(tmp);
        } else if (f != stdout) {
            if (rename(tmp, outp) < 0) {
                argv_fail(&a, "%s: cannot write: %s", outp, strerror(errno));
                rc = 1;
            } else {
                fprintf(stderr, "moesim export: %ld %s rows to %s\n", rows, table, outp);
            }
        }
    }
    free(tmp);
    res_close(db);
    free(where);
    return rc;
}
