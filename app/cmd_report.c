/* cmd_report.c - `moesim report`: its command line, into the options of
 * res_report (results/report.c), on the database it names. */
#include <stdlib.h>

#include "app/cli.h"
#include "results/res.h"

#define REPORT_USAGE                                                                               \
    "report [--db FILE] [--by section.key[,section.key]]\n"                                        \
    "        [--metric cct|slowdown|step_time|exposed_comm|tokens_per_s|per_token_us] [--where "   \
    "section.key=value]...\n"                                                                      \
    "        a table of the done runs: median [min-max] per group of swept parameters"

const struct cli_command cli_report = {"report", cmd_report, REPORT_USAGE};

static const struct argv_opt report_opts[] = {
    {"--db", NULL, "FILE", 0, "the results database (default results/moesim.db)"},
    {"--by", NULL, "ROWS[,COLUMNS]", 0,
     "the parameters to group by (default: every swept one but sim.seed and output.*)"},
    {"--metric", NULL, "M", 0,
     "cct (default), slowdown, step_time, exposed_comm, tokens_per_s or per_token_us"},
    {"--where", NULL, "section.key=value", ARGV_REPEAT, "only the runs with that parameter value"},
};
static const struct argv_cmd report_args = {"moesim report",
                                            REPORT_USAGE,
                                            report_opts,
                                            sizeof report_opts / sizeof report_opts[0],
                                            0,
                                            NULL};

int cmd_report(int argc, char **argv)
{
    struct argv_res a;
    if (argv_parse(&report_args, argc, argv, &a)) return a.status;
    if (argv_npos(&a)) return argv_fail(&a, "unexpected argument '%s'", argv_pos(&a, 0));
    const char **where = xcalloc((size_t)argc, sizeof *where);
    struct res_report_opts o = {argv_str(&a, "--by", NULL), argv_str(&a, "--metric", NULL), where,
                                0};
    for (int pos = 0; (where[o.nwhere] = argv_each(&a, "--where", &pos));)
        o.nwhere++;
    struct res_db *db = NULL;
    struct err e;
    int rc = 0;
    if (res_open_read(argv_str(&a, "--db", "results/moesim.db"), &db, &e) < 0 ||
        res_report(db, &o, stdout, &e) < 0)
        rc = argv_fail(&a, "%s", e.msg);
    res_close(db);
    free(where);
    return rc;
}
