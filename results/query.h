/* query.h - selecting runs by their parameters: what report, export and plot
 * share (query.c).
 *
 * A selection is the set of runs (all, or only `done` ones) whose params
 * match every --where filter, with each run's parameter values. Filters are
 * "section.key=value"; a value matches when the strings are equal or both are
 * numbers of equal value ("100" matches "100.0"). Values are interned, so two
 * runs have the same value of a key exactly when the pointers are equal.
 */
#ifndef MOESIM_QUERY_H
#define MOESIM_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include "results/res.h"

struct res_sel {
    size_t nkeys;
    char **keys; /* every params key found in the database, sorted */
    size_t nruns;
    int64_t *ids;      /* selected runs, ascending */
    const char **vals; /* nruns x nkeys; NULL where a run lacks the key */
    void *pool;        /* the interned strings */
};

/* Selects runs; only_done limits them to status `done`. -1 with e set on a
 * malformed or unknown --where key (the message names it) or a database
 * error; a selection of no runs is not an error here. */
int res_select(struct res_db *db, int only_done, const char *const *where, size_t nwhere,
               struct res_sel **out, struct err *e);
void res_sel_free(struct res_sel *s);

/* Index of key in s->keys, or -1. */
int res_sel_key(const struct res_sel *s, const char *key);
static inline const char *res_sel_val(const struct res_sel *s, size_t run, int key)
{
    return s->vals[run * s->nkeys + (size_t)key];
}
/* Position of run id in s->ids, or -1. */
long res_sel_find(const struct res_sel *s, int64_t id);
/* The distinct values of a key among the selected runs, in display order
 * (numeric ascending when every value is a number, else by first
 * appearance); returns their number, *out to free(). */
size_t res_sel_values(const struct res_sel *s, int key, const char ***out);
/* What the cells of a result pool: every parameter whose value differs
 * between two runs of one cell (cell[r] = run r's cell, SIZE_MAX for a run
 * in none), as "a.b (v1, v2), c.d (12 values: v1 ... v12)", the values
 * being those among the runs in cells (up to 6 listed), or "" when none
 * does; to free(). */
char *res_sel_pooled(const struct res_sel *s, const size_t *cell, size_t ncells);
/* 1 when the strings are equal or are equal numbers. */
int res_value_eq(const char *a, const char *b);

#endif
