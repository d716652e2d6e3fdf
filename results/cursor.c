/* cursor.c - rows of a constant query for readers outside results/ (see
 * cursor.h): a thin wrapper of one prepared SQLite statement. */
#include "results/cursor.h"

#include <stdlib.h>

#include "results/resdb.h"

struct res_cursor {
    struct res_db *db;
    sqlite3_stmt *st;
    struct err *e;
    int failed;
};

struct res_cursor *res_cursor_open(struct res_db *db, const char *sql, struct err *e)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(res_sqlite(db), sql, -1, &st, NULL) != SQLITE_OK) {
        err_set(e, "%s: %s", res_path(db), sqlite3_errmsg(res_sqlite(db)));
        sqlite3_finalize(st);
        return NULL;
    }
    struct res_cursor *c = xcalloc(1, sizeof *c);
    *c = (struct res_cursor){db, st, e, 0};
    return c;
}

void res_cursor_bind_int(struct res_cursor *c, int i, int64_t v)
{
    sqlite3_bind_int64(c->st, i, v);
}

void res_cursor_bind_text(struct res_cursor *c, int i, const char *s)
{
    sqlite3_bind_text(c->st, i, s, -1, SQLITE_TRANSIENT);
}

int res_cursor_next(struct res_cursor *c)
{
    if (c->failed) return -1;
    int rc = sqlite3_step(c->st);
    if (rc == SQLITE_ROW) return 1;
    if (rc == SQLITE_DONE) return 0;
    c->failed = 1;
    err_set(c->e, "%s: %s", res_path(c->db), sqlite3_errmsg(res_sqlite(c->db)));
    return -1;
}

int64_t res_cursor_int(struct res_cursor *c, int col)
{
    return sqlite3_column_int64(c->st, col);
}

double res_cursor_double(struct res_cursor *c, int col)
{
    return sqlite3_column_double(c->st, col);
}

const char *res_cursor_text(struct res_cursor *c, int col)
{
    const unsigned char *t = sqlite3_column_text(c->st, col);
    return t ? (const char *)t : "";
}

int res_cursor_close(struct res_cursor *c)
{
    if (!c) return 0;
    int failed = c->failed;
    sqlite3_finalize(c->st);
    free(c);
    return failed ? -1 : 0;
}
