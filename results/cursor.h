/* cursor.h - reading rows of the results database through a constant SQL
 * query, for the modules above results/ (the figures in plots/) that read
 * the tables but do not talk to SQLite themselves (tools/layers.sh).
 *
 * The query is a constant string; values reach it only through the bind
 * calls (never printf into SQL). Columns are read by index from 0, bind
 * parameters counted from 1, as in SQLite.
 */
#ifndef MOESIM_CURSOR_H
#define MOESIM_CURSOR_H

#include <stdint.h>

#include "base/err.h"
#include "results/res.h"

struct res_cursor;

/* Prepares sql on db; NULL with e set ("PATH: reason") when it does not
 * compile (a table the database lacks, say). e is kept for the steps. */
struct res_cursor *res_cursor_open(struct res_db *db, const char *sql, struct err *e);
void res_cursor_bind_int(struct res_cursor *c, int i, int64_t v);
void res_cursor_bind_text(struct res_cursor *c, int i, const char *s); /* copied */
/* The next row: 1, or 0 at the end, or -1 with e set on an error. */
int res_cursor_next(struct res_cursor *c);
int64_t res_cursor_int(struct res_cursor *c, int col);
double res_cursor_double(struct res_cursor *c, int col);
/* The column's text ("" for NULL), valid until the next step. */
const char *res_cursor_text(struct res_cursor *c, int col);
/* Frees c (NULL is fine); -1 when a step had failed, else 0. */
int res_cursor_close(struct res_cursor *c);

#endif
