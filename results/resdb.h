/* resdb.h - inside the results module: the SQLite handle behind a res_db, for
 * the readers (query.c, report.c, export.c, plot*.c) that run their own
 * statements. Not for use outside results/. */
#ifndef MOESIM_RESDB_H
#define MOESIM_RESDB_H

#include <sqlite3.h>

#include "results/res.h"

sqlite3 *res_sqlite(struct res_db *db);
const char *res_path(const struct res_db *db);

#endif
