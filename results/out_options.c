/* out_options.c - the [output] options, over struct out_spec (res.h). */
#include "results/res.h"

/* clang-format off */
#define F(field) offsetof(struct out_spec, field)
static const struct opt_def out_options_rows[] = {
    {"output", "db", OPT_PATH, "results/moesim.db", 0, 0, NULL, "SQLite results database", F(db)},
    {"output", "csv", OPT_PATH, "", 0, 0, NULL, "also write phase rows to this CSV file (empty: no CSV)", F(csv)},
    {"output", "flows", OPT_BOOL, "false", 0, 0, NULL,
     "record every message's start and end in the flows table (one row per message)", F(flows)},
    {"output", "sample_ns", OPT_INT, "0", 0, 1e12, NULL,
     "sample every link's bytes and queue this often into the timeseries table, ns; 0 = off", F(sample_ns)},
    {"output", "tasks", OPT_BOOL, "true", 0, 0, NULL,
     "record every task of the run's graph (start, end, chunk, pass, critical path) in the tasks table", F(tasks)},
};
#undef F
/* clang-format on */
const struct opt_table out_options = {out_options_rows,
                                      sizeof out_options_rows / sizeof out_options_rows[0]};
