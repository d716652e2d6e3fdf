/* options.c - the option table, joined from the modules' tables (see
 * options.h). */
#include "app/options.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Each module's table and where its spec sits in struct cfg. */
static const struct {
    const struct opt_table *t;
    size_t base;
} cfg_groups[] = {
    {&topo_options, offsetof(struct cfg, topo)},
    {&topo_faults_options, offsetof(struct cfg, topo)},
    {&tr_options, offsetof(struct cfg, tr)},
    {&sw_options, offsetof(struct cfg, tr) + offsetof(struct tr_spec, sw)},
    {&nscc_options, offsetof(struct cfg, tr) + offsetof(struct tr_spec, nscc)},
    {&fl_options, offsetof(struct cfg, tr) + offsetof(struct tr_spec, fl)},
    {&dcqcn_options, offsetof(struct cfg, tr) + offsetof(struct tr_spec, dcqcn)},
    {&wl_options, offsetof(struct cfg, wl)},
    {&pl_options, offsetof(struct cfg, pl)},
    {&sim_options, offsetof(struct cfg, sim)},
    {&out_options, offsetof(struct cfg, out)},
};
#define CFG_NGROUPS (sizeof cfg_groups / sizeof cfg_groups[0])
#define OPT_MAX     256

static struct opt_def opt_rows[OPT_MAX];

/* Joins the tables before main() (and before any test): the table is then
 * read-only and shared by every thread. */
__attribute__((constructor)) static void opt_join(void)
{
    for (size_t g = 0; g < CFG_NGROUPS; g++)
        for (size_t i = 0; i < cfg_groups[g].t->n; i++) {
            if (opt_count == OPT_MAX) {
                fprintf(stderr, "moesim: more than %d options: raise OPT_MAX\n", OPT_MAX);
                abort();
            }
            opt_rows[opt_count] = cfg_groups[g].t->defs[i];
            opt_rows[opt_count].offset += cfg_groups[g].base;
            opt_count++;
        }
}

const struct opt_def *const opt_table = opt_rows;
size_t opt_count; /* written once, by opt_join */

const struct opt_def *opt_find(const char *section, const char *key)
{
    for (size_t i = 0; i < opt_count; i++)
        if (!strcmp(opt_rows[i].section, section) && !strcmp(opt_rows[i].key, key))
            return &opt_rows[i];
    return NULL;
}

const struct opt_def *opt_of(const struct opt_def *module_row)
{
    return module_row ? opt_find(module_row->section, module_row->key) : NULL;
}

void cfg_defaults(struct cfg *c)
{
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < opt_count; i++) {
        struct err e;
        if (opt_parse(&opt_table[i], opt_table[i].def, c, &e) < 0)
            err_fatal("bad default for %s.%s: %s", opt_table[i].section, opt_table[i].key, e.msg);
    }
    c->topo.faults.seed = (uint64_t)c->sim.seed; /* as sc_expand sets it per run */
}

const char *opt_enum_name(const char *section, const char *key, int value)
{
    static char buf[8][64];
    static int slot;
    const struct opt_def *o = opt_find(section, key);
    if (!o || o->type != OPT_ENUM) return "?";
    char *b = buf[slot++ % 8];
    opt_choice_name(o->choices, value, b, sizeof buf[0]);
    return b;
}

void opt_print_help(void *file)
{
    const char *section = "";
    opt_print_rows(file, opt_table, opt_count, &section);
}

void cfg_params_make(const struct cfg *c, struct cfg_params *out)
{
    size_t cap = 0;
    char value[OPT_STR_MAX + 32];
    for (size_t i = 0; i < opt_count; i++) {
        opt_format(&opt_table[i], c, value, sizeof value);
        cap += strlen(opt_table[i].section) + strlen(opt_table[i].key) + strlen(value) + 3;
    }
    out->n = opt_count;
    out->p = xcalloc(opt_count, sizeof *out->p);
    out->text = xmalloc(cap + 1);
    char *w = out->text;
    for (size_t i = 0; i < opt_count; i++) {
        const struct opt_def *o = &opt_table[i];
        opt_format(o, c, value, sizeof value);
        out->p[i].key = w;
        w += sprintf(w, "%s.%s", o->section, o->key) + 1;
        out->p[i].value = w;
        w += sprintf(w, "%s", value) + 1;
    }
}

void cfg_params_free(struct cfg_params *p)
{
    free(p->p);
    free(p->text);
    p->p = NULL;
    p->text = NULL;
    p->n = 0;
}
