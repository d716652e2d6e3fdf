/* opt.c - typed parsing and formatting of one option (see opt.h). */
#include "base/opt.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int opt_choice_index(const char *choices, const char *word)
{
    size_t wl = strlen(word);
    int idx = 0;
    for (const char *p = choices; *p; idx++) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == wl && !strncmp(p, word, len)) return idx;
        if (!bar) break;
        p = bar + 1;
    }
    return -1;
}

const struct opt_def *opt_table_find(const struct opt_table *t, const char *section,
                                     const char *key)
{
    for (size_t i = 0; i < t->n; i++)
        if (!strcmp(t->defs[i].section, section) && !strcmp(t->defs[i].key, key))
            return &t->defs[i];
    return NULL;
}

void opt_enum_text(const struct opt_table *t, const char *section, const char *key, int v,
                   char *buf, size_t n)
{
    const struct opt_def *o = opt_table_find(t, section, key);
    if (!o || o->type != OPT_ENUM)
        snprintf(buf, n, "?");
    else
        opt_choice_name(o->choices, v, buf, n);
}

int opt_choice_count(const char *choices)
{
    int n = 1;
    for (const char *p = choices; *p; p++)
        n += *p == '|';
    return n;
}

void opt_choice_name(const char *choices, int idx, char *buf, size_t n)
{
    const char *p = choices;
    for (int i = 0; i < idx && p; i++) {
        p = strchr(p, '|');
        if (p) p++;
    }
    if (!p || idx < 0) {
        snprintf(buf, n, "%d", idx);
        return;
    }
    const char *bar = strchr(p, '|');
    size_t len = bar ? (size_t)(bar - p) : strlen(p);
    if (len >= n) len = n - 1;
    memcpy(buf, p, len);
    buf[len] = '\0';
}

int opt_parse(const struct opt_def *o, const char *value, void *spec, struct err *e)
{
    char *field = (char *)spec + o->offset;
    char *end;
    switch (o->type) {
    case OPT_INT: {
        errno = 0;
        long long v = strtoll(value, &end, 10);
        if (end == value || *end != '\0' || errno == ERANGE)
            return err_set(e, "expected an integer, got '%s'", value);
        if ((double)v < o->min || (double)v > o->max)
            return err_set(e, "%lld is out of bounds [%.0f, %.0f]", v, o->min, o->max);
        *(int64_t *)field = v;
        return 0;
    }
    case OPT_REAL: {
        errno = 0;
        double v = strtod(value, &end);
        if (end == value || *end != '\0' || errno == ERANGE || !isfinite(v))
            return err_set(e, "expected a number, got '%s'", value);
        if (v < o->min || v > o->max)
            return err_set(e, "%g is out of bounds [%g, %g]", v, o->min, o->max);
        *(double *)field = v;
        return 0;
    }
    case OPT_BOOL:
        if (!strcasecmp(value, "true") || !strcmp(value, "1") || !strcasecmp(value, "yes"))
            *(int *)field = 1;
        else if (!strcasecmp(value, "false") || !strcmp(value, "0") || !strcasecmp(value, "no"))
            *(int *)field = 0;
        else
            return err_set(e, "expected true or false, got '%s'", value);
        return 0;
    case OPT_ENUM: {
        int idx = opt_choice_index(o->choices, value);
        if (idx < 0) return err_set(e, "'%s' is not one of %s", value, o->choices);
        *(int *)field = idx;
        return 0;
    }
    case OPT_STR:
    case OPT_PATH:
        if (strlen(value) >= OPT_STR_MAX)
            return err_set(e, "value is longer than %d characters", OPT_STR_MAX - 1);
        strcpy(field, value);
        return 0;
    }
    return err_set(e, "unknown option type");
}

void opt_format(const struct opt_def *o, const void *spec, char *buf, size_t n)
{
    const char *field = (const char *)spec + o->offset;
    switch (o->type) {
    case OPT_INT:
        snprintf(buf, n, "%lld", (long long)*(const int64_t *)field);
        break;
    case OPT_REAL:
        snprintf(buf, n, "%.17g", *(const double *)field);
        break;
    case OPT_BOOL:
        snprintf(buf, n, "%s", *(const int *)field ? "true" : "false");
        break;
    case OPT_ENUM:
        opt_choice_name(o->choices, *(const int *)field, buf, n);
        break;
    case OPT_STR:
    case OPT_PATH:
        snprintf(buf, n, "%s", field);
        break;
    }
}

void opt_print_rows(FILE *f, const struct opt_def *defs, size_t n, const char **section)
{
    for (size_t i = 0; i < n; i++) {
        const struct opt_def *o = &defs[i];
        if (strcmp(*section, o->section)) {
            *section = o->section;
            fprintf(f, "\n[%s]\n", o->section);
        }
        char range[96] = "";
        if (o->type == OPT_INT || o->type == OPT_REAL)
            snprintf(range, sizeof range, " [%g..%g]", o->min, o->max);
        else if (o->type == OPT_ENUM)
            snprintf(range, sizeof range, " {%s}", o->choices);
        fprintf(f, "  %-16s = %-18s%s\n      %s\n", o->key, o->def[0] ? o->def : "\"\"", range,
                o->help);
    }
}
