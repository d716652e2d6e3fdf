/* options.h - the configuration layer: every scenario option, put together
 * from the modules' own tables, and the run's configuration as one spec per
 * module.
 *
 * Each module declares the options it reads over its own spec struct
 * (topo_options over struct topo_spec in topo/topo_options.c, tr_options and
 * sim_options in sim/spec_options.c, wl_options and pl_options in
 * workloads/wl_options.c, out_options in results/out_options.c). This file
 * lays those specs side by side in struct cfg and joins the tables into one,
 * opt_table[], over struct cfg: it drives INI parsing and validation
 * (scenario.c), `moesim help` and the record of the resolved configuration in
 * the results database's `params` table. Modules are handed their spec
 * (c->topo, c->tr, ...), never struct cfg.
 *
 * To add an option: a field in the module's spec and a row in its table.
 * To add a module's table: a member of struct cfg and a line in
 * cfg_groups[] (options.c).
 */
#ifndef MOESIM_OPTIONS_H
#define MOESIM_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/opt.h"
#include "results/res.h"
#include "sim/spec.h"
#include "topo/topo.h"
#include "workloads/wl_spec.h"

#define CFG_STR_MAX OPT_STR_MAX

struct cfg {
    struct topo_spec topo; /* [topology] */
    struct tr_spec tr;     /* [transport] */
    struct wl_spec wl;     /* [workload] */
    struct pl_spec pl;     /* [placement] */
    struct sim_spec sim;   /* [sim] */
    struct out_spec out;   /* [output] */
};

/* Every option, in the order of the sections above; offsets into struct cfg. */
extern const struct opt_def *const opt_table;
extern size_t opt_count;

/* Finds an option by section and key; NULL when there is none. */
const struct opt_def *opt_find(const char *section, const char *key);

/* The row of opt_table for a module's row (same section and key). */
const struct opt_def *opt_of(const struct opt_def *module_row);

/* Fills every field with its default. */
void cfg_defaults(struct cfg *c);

/* Name of an enum option's value (e.g. opt_enum_name("transport", "path",
 * PATH_SPRAY) = "spray"). */
const char *opt_enum_name(const char *section, const char *key, int value);

/* Prints the table as `moesim help` shows it. */
void opt_print_help(void *file);

/* c's resolved options as the params table records them (key "section.key",
 * canonical value), in opt_table's order; cfg_params_free releases them. */
struct cfg_params {
    struct res_param *p;
    size_t n;
    char *text; /* the strings p points into */
};
void cfg_params_make(const struct cfg *c, struct cfg_params *out);
void cfg_params_free(struct cfg_params *p);

#endif
