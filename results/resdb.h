/* resdb.h - the SQLite handle behind a res_db, for the readers that run
 * their own statements: query.c, report.c, export.c here and the figures in
 * plots/ (which may include results/; results/ never includes plots/). */
#ifndef MOESIM_RESDB_H
#define MOESIM_RESDB_H

#include <sqlite3.h>

#include "results/res.h"

sqlite3 *res_sqlite(struct res_db *db);
const char *res_path(const struct res_db *db);

#endif
