/* export.c - the rows of `moesim export` (parsed by app/cmd_export.c): one
 * table's rows of the runs matching --where as CSV, with one extra column per
 * swept parameter (res_export, see res.h).
 *
 * The table is one of a fixed list (its name is never taken from the user as
 * SQL). Rows come ordered by run, then insertion; every run status is
 * exported (the runs table shows failed ones; the others only have rows for
 * done runs). Swept parameters are those with more than one value among the
 * selected runs, named section.key in the header. Numbers are written bare
 * (integers exactly, reals with 17 significant digits), text through libcsv's
 * csv_fwrite (always quoted, RFC 4180), NULL as an empty field.
 */
#include "results/res.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <csv.h>

#include "results/query.h"
#include "results/resdb.h"

/* The tables and the SQL that reads each (run column first). */
static const struct {
    const char *name, *sql;
} exp_tables[] = {
    {"runs", "SELECT * FROM runs ORDER BY id"},
    {"params", "SELECT * FROM params ORDER BY run_id, rowid"},
    {"phases", "SELECT * FROM phases ORDER BY run_id, rowid"},
    {"links", "SELECT * FROM links ORDER BY run_id, rowid"},
    {"flows", "SELECT * FROM flows ORDER BY run_id, rowid"},
    {"timeseries", "SELECT * FROM timeseries ORDER BY run_id, rowid"},
    {"gpu_load", "SELECT * FROM gpu_load ORDER BY run_id, rowid"},
    {"trace_use", "SELECT * FROM trace_use ORDER BY run_id, rowid"},
    {"inputs", "SELECT * FROM inputs ORDER BY run_id, rowid"},
    {"notes", "SELECT * FROM notes ORDER BY run_id, rowid"},
    {"tasks", "SELECT * FROM tasks ORDER BY run_id, rowid"},
};
#define EXP_NTABLES (sizeof exp_tables / sizeof exp_tables[0])

static int exp_text(FILE *f, const char *s)
{
    return csv_fwrite(f, s, strlen(s)) == 0 ? 0 : -1;
}

static int exp_row(FILE *f, sqlite3_stmt *st, int ncol, const struct res_sel *s, long r,
                   const int *swept, size_t nswept)
{
    int bad = 0;
    for (int c = 0; c < ncol && !bad; c++) {
        if (c) bad = fputc(',', f) == EOF;
        switch (sqlite3_column_type(st, c)) {
        case SQLITE_INTEGER:
            bad |= fprintf(f, "%lld", (long long)sqlite3_column_int64(st, c)) < 0;
            break;
        case SQLITE_FLOAT:
            bad |= fprintf(f, "%.17g", sqlite3_column_double(st, c)) < 0;
            break;
        case SQLITE_NULL:
            break;
        default: {
            const char *t = (const char *)sqlite3_column_text(st, c);
            bad |= exp_text(f, t ? t : "");
        }
        }
    }
    for (size_t k = 0; k < nswept && !bad; k++) {
        const char *v = res_sel_val(s, (size_t)r, swept[k]);
        bad = fputc(',', f) == EOF || (v && exp_text(f, v) < 0);
    }
    return bad || fputc('\n', f) == EOF ? -1 : 0;
}

long res_export(struct res_db *db, const char *table, const char *const *where, size_t nwhere,
                FILE *f, struct err *e)
{
    size_t t = 0;
    while (t < EXP_NTABLES && strcmp(exp_tables[t].name, table ? table : ""))
        t++;
    if (t == EXP_NTABLES) {
        char names[256] = "";
        for (size_t i = 0; i < EXP_NTABLES; i++)
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s",
                     i == 0                 ? ""
                     : i + 1 == EXP_NTABLES ? " or "
                                            : ", ",
                     exp_tables[i].name);
        return err_set(e, "--table %s: expected %s", table ? table : "(none)", names);
    }
    if (!res_has_table(db, table))
        return err_set(e, "%s: has no %s table (an older schema; run with this moesim to add it)",
                       res_path(db), table);
    struct res_sel *s;
    if (res_select(db, 0, where, nwhere, &s, e) < 0) return -1;
    if (s->nruns == 0) {
        res_sel_free(s);
        return err_set(e, "%s: no runs match", res_path(db));
    }
    int *swept = xcalloc(s->nkeys + 1, sizeof *swept);
    size_t nswept = 0;
    for (size_t k = 0; k < s->nkeys; k++) {
        const char **v;
        if (res_sel_values(s, (int)k, &v) > 1) swept[nswept++] = (int)k;
        free(v);
    }
    sqlite3 *sq = res_sqlite(db);
    sqlite3_stmt *st;
    long rows = 0;
    if (sqlite3_prepare_v2(sq, exp_tables[t].sql, -1, &st, NULL) != SQLITE_OK) {
        rows = err_set(e, "%s: cannot read %s: %s", res_path(db), table, sqlite3_errmsg(sq));
        goto out;
    }
    int ncol = sqlite3_column_count(st), bad = 0;
    for (int c = 0; c < ncol; c++)
        bad |= fprintf(f, "%s%s", c ? "," : "", sqlite3_column_name(st, c)) < 0;
    for (size_t k = 0; k < nswept; k++)
        bad |= fprintf(f, ",%s", s->keys[swept[k]]) < 0;
    bad |= fputc('\n', f) == EOF;
    int rc;
    while (!bad && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        long r = res_sel_find(s, sqlite3_column_int64(st, 0));
        if (r < 0) continue;
        bad = exp_row(f, st, ncol, s, r, swept, nswept);
        rows++;
    }
    if (!bad && rc != SQLITE_DONE)
        rows = err_set(e, "%s: cannot read %s: %s", res_path(db), table, sqlite3_errmsg(sq));
    else if (bad)
        rows = err_set(e, "cannot write the CSV: %s", strerror(errno));
    sqlite3_finalize(st);
out:
    free(swept);
    res_sel_free(s);
    return rows;
}
