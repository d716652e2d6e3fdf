/* resdb.h - inside the results module: the SQLite handle behind a res_db, for
 * the readers (query.c, report.c, export.c, cursor.c) that run their own
 * statements, and what identifies a run (inputs.c, for db.c and resume.c).
 * Not for use outside results/ (plots/ reads through results/cursor.h). */
#ifndef MOESIM_RESDB_H
#define MOESIM_RESDB_H

#include <sqlite3.h>

#include "results/res.h"

sqlite3 *res_sqlite(struct res_db *db);

/* What a parameter is to a run's identity (inputs.c): an output path (no
 * part of it), an input file (it counts by its contents), or a parameter (by
 * its value). */
enum res_key_role { RES_KEY_PARAM, RES_KEY_OUTPUT, RES_KEY_INPUT };
enum res_key_role res_key_role(const char *key, const char *value);
/* XXH3-64 of the file's contents as 16 hex digits, and its size; -1 (errno
 * set) when it cannot be read or is not a regular file. */
int res_input_hash(const char *path, char hex[17], uint64_t *bytes);

#endif
