/* opt.h - typed options: the definition of one scenario key and its parsing.
 *
 * Each module declares the options it reads as a table of struct opt_def
 * over its own spec struct (topo_options[] over struct topo_spec, ...): the
 * offset of a row is the offset of its field in that struct. The
 * configuration layer (app/options.c) puts the modules' tables together into
 * one table over struct cfg, which holds every spec; nothing else reads it.
 */
#ifndef MOESIM_OPT_H
#define MOESIM_OPT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/err.h"

#define OPT_STR_MAX 1024 /* a string option's field: OPT_STR_MAX - 1 characters and '\0' */

enum opt_type { OPT_INT, OPT_REAL, OPT_BOOL, OPT_ENUM, OPT_STR };

struct opt_def {
    const char *section;
    const char *key;
    enum opt_type type;
    const char *def;     /* default, as written in a scenario */
    double min, max;     /* bounds for OPT_INT and OPT_REAL (inclusive) */
    const char *choices; /* OPT_ENUM: "a|b|c"; the field (int) holds the index */
    const char *help;
    size_t offset; /* of the field in the spec the table is over */
};

/* A module's table of options (a row count and the rows). */
struct opt_table {
    const struct opt_def *defs;
    size_t n;
};

/* The row of t for section.key, or NULL. */
const struct opt_def *opt_table_find(const struct opt_table *t, const char *section,
                                     const char *key);

/* The name of value v of enum option section.key of t into buf ("?" when t
 * has no such enum). */
void opt_enum_text(const struct opt_table *t, const char *section, const char *key, int v,
                   char *buf, size_t n);

/* Parses one value into the field of o in spec. On a bad value returns -1
 * with e->msg set to the reason alone (e.g. "expected an integer, got 'x'");
 * the caller adds file, line and key. Field types: OPT_INT int64_t, OPT_REAL
 * double, OPT_BOOL and OPT_ENUM int, OPT_STR char[OPT_STR_MAX]. */
int opt_parse(const struct opt_def *o, const char *value, void *spec, struct err *e);

/* Writes the field's canonical text (what `params` records) into buf. */
void opt_format(const struct opt_def *o, const void *spec, char *buf, size_t n);

/* Index of word in "a|b|c", or -1. */
int opt_choice_index(const char *choices, const char *word);

/* Writes choice number idx of "a|b|c" into buf (the number itself when out
 * of range). */
void opt_choice_name(const char *choices, int idx, char *buf, size_t n);

/* Number of choices in "a|b|c". */
int opt_choice_count(const char *choices);

/* Prints the rows as `moesim help` shows them, a "[section]" line before
 * each change of section (*section: the last one printed, "" at first). */
void opt_print_rows(FILE *f, const struct opt_def *defs, size_t n, const char **section);

#endif
