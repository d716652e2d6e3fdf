/* query.c - run selection by parameters (see query.h). */
#include "results/query.h"

#include <stdlib.h>
#include <string.h>

#include "results/resdb.h"

/* ---- string interning: an open-addressing hash set of strings ---- */

struct pool {
    char **slot;
    size_t cap, n;
};

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static const char *pool_intern(struct pool *p, const char *s)
{
    if (2 * (p->n + 1) > p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 1024;
        char **slot = xcalloc(cap, sizeof *slot);
        for (size_t i = 0; i < p->cap; i++)
            if (p->slot[i]) {
                size_t j = hash_str(p->slot[i]) & (cap - 1);
                while (slot[j])
                    j = (j + 1) & (cap - 1);
                slot[j] = p->slot[i];
            }
        free(p->slot);
        p->slot = slot;
        p->cap = cap;
    }
    size_t j = hash_str(s) & (p->cap - 1);
    while (p->slot[j]) {
        if (!strcmp(p->slot[j], s)) return p->slot[j];
        j = (j + 1) & (p->cap - 1);
    }
    p->slot[j] = xstrdup(s);
    p->n++;
    return p->slot[j];
}

static void pool_free(struct pool *p)
{
    if (!p) return;
    for (size_t i = 0; i < p->cap; i++)
        free(p->slot[i]);
    free(p->slot);
    free(p);
}

/* ---- values ---- */

static int as_number(const char *s, double *v)
{
    char *end;
    if (!s || !*s) return 0;
    *v = strtod(s, &end);
    return *end == '\0';
}

int res_value_eq(const char *a, const char *b)
{
    double x, y;
    if (!a || !b) return a == b;
    if (!strcmp(a, b)) return 1;
    return as_number(a, &x) && as_number(b, &y) && x == y;
}

static int cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int res_sel_key(const struct res_sel *s, const char *key)
{
    char *const *k = bsearch(&key, s->keys, s->nkeys, sizeof *s->keys, cmp_cstr);
    return k ? (int)(k - s->keys) : -1;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

long res_sel_find(const struct res_sel *s, int64_t id)
{
    const int64_t *p = bsearch(&id, s->ids, s->nruns, sizeof *s->ids, cmp_i64);
    return p ? (long)(p - s->ids) : -1;
}

static int cmp_num(const void *a, const void *b)
{
    double x = strtod(*(char *const *)a, NULL), y = strtod(*(char *const *)b, NULL);
    return x < y ? -1 : x > y;
}

size_t res_sel_values(const struct res_sel *s, int key, const char ***out)
{
    const char **v = xcalloc(s->nruns + 1, sizeof *v);
    size_t n = 0;
    int numeric = 1;
    /* first appearance; the interned pointers make "seen" a pointer test,
     * kept in a small hash of pointers */
    size_t cap = 64;
    while (cap < 2 * s->nruns + 2)
        cap *= 2;
    const char **seen = xcalloc(cap, sizeof *seen);
    for (size_t r = 0; r < s->nruns; r++) {
        const char *x = res_sel_val(s, r, key);
        if (!x) continue;
        size_t j = ((uintptr_t)x >> 3) * 11400714819323198485ull & (cap - 1);
        while (seen[j] && seen[j] != x)
            j = (j + 1) & (cap - 1);
        if (seen[j]) continue;
        seen[j] = x;
        double d;
        numeric &= as_number(x, &d);
        v[n++] = x;
    }
    free(seen);
    if (numeric) qsort(v, n, sizeof *v, cmp_num);
    *out = v;
    return n;
}

/* A growing string (res_sel_pooled). */
struct sbuf {
    char *s;
    size_t n, cap;
};

static void sb_add(struct sbuf *b, const char *t)
{
    size_t k = strlen(t);
    if (b->n + k + 1 > b->cap) {
        b->cap = 2 * (b->n + k + 1);
        b->s = xrealloc(b->s, b->cap);
    }
    memcpy(b->s + b->n, t, k + 1);
    b->n += k;
}

static int cmp_ptr(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t) * (const char *const *)a, y = (uintptr_t) * (const char *const *)b;
    return (x > y) - (x < y);
}

char *res_sel_pooled(const struct res_sel *s, const size_t *cell, size_t ncells)
{
    struct sbuf b = {xcalloc(1, 1), 0, 1};
    const char **first = xcalloc(ncells + 1, sizeof *first);
    const char **in = xcalloc(s->nruns + 1, sizeof *in);
    for (size_t k = 0; k < s->nkeys; k++) {
        int varies = 0;
        memset(first, 0, (ncells + 1) * sizeof *first);
        size_t nin = 0;
        for (size_t r = 0; r < s->nruns; r++) {
            if (cell[r] == SIZE_MAX) continue;
            const char *x = res_sel_val(s, r, (int)k), *mark = x ? x : "";
            if (!first[cell[r]])
                first[cell[r]] = mark;
            else if (first[cell[r]] != mark)
                varies = 1;
            if (x) in[nin++] = x;
        }
        if (!varies) continue;
        /* the values of the runs in cells (interned: pointers), in the
         * display order of res_sel_values */
        qsort(in, nin, sizeof *in, cmp_ptr);
        const char **all;
        size_t na = res_sel_values(s, (int)k, &all), n = 0;
        for (size_t i = 0; i < na; i++)
            if (bsearch(&all[i], in, nin, sizeof *in, cmp_ptr)) all[n++] = all[i];
        sb_add(&b, b.n ? ", " : "");
        sb_add(&b, s->keys[k]);
        if (n > 6) {
            char num[64];
            snprintf(num, sizeof num, " (%zu values: ", n);
            sb_add(&b, num);
            sb_add(&b, all[0]);
            sb_add(&b, " ... ");
            sb_add(&b, all[n - 1]);
        } else {
            for (size_t i = 0; i < n; i++) {
                sb_add(&b, i ? ", " : " (");
                sb_add(&b, all[i]);
            }
        }
        sb_add(&b, ")");
        free(all);
    }
    free(in);
    free(first);
    return b.s;
}

/* ---- selection ---- */

struct filter {
    int key;
    const char *value;
};

static int parse_where(struct res_sel *s, const char *const *where, size_t nwhere, struct filter *f,
                       struct err *e)
{
    for (size_t i = 0; i < nwhere; i++) {
        const char *eq = strchr(where[i], '=');
        const char *dot = strchr(where[i], '.');
        if (!eq || !dot || dot > eq || eq == where[i])
            return err_set(e, "--where %s: expected section.key=value", where[i]);
        char key[256];
        snprintf(key, sizeof key, "%.*s", (int)(eq - where[i]), where[i]);
        f[i].key = res_sel_key(s, key);
        f[i].value = eq + 1;
        if (f[i].key < 0)
            return err_set(e, "--where %s: unknown parameter %s (no run has it)", where[i], key);
    }
    return 0;
}

/* Reads the distinct keys, sorted. */
static int load_keys(sqlite3 *db, struct res_sel *s)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT DISTINCT key FROM params ORDER BY key", -1, &st, NULL) !=
        SQLITE_OK)
        return -1;
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (s->nkeys == cap) {
            cap = cap ? 2 * cap : 64;
            s->keys = xrealloc(s->keys, cap * sizeof *s->keys);
        }
        const char *k = (const char *)sqlite3_column_text(st, 0);
        s->keys[s->nkeys++] = xstrdup(k ? k : "");
    }
    sqlite3_finalize(st);
    /* SQLite's BINARY collation is memcmp order, which strcmp agrees with */
    return rc == SQLITE_DONE ? 0 : -1;
}

/* Reads the runs (of the wanted status) and then every params row into s.
 * The params table is read in storage order, no sort and no index lookups
 * (the cost that matters on 10,000 runs); each row finds its run by binary
 * search, or at once when it belongs to the same run as the row before. */
static int load_runs(sqlite3 *db, struct res_sel *s, int only_done)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           only_done ? "SELECT id FROM runs WHERE status = ? ORDER BY id"
                                     : "SELECT id FROM runs ORDER BY id",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    if (only_done) sqlite3_bind_text(st, 1, "done", -1, SQLITE_STATIC);
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (s->nruns == cap) {
            cap = cap ? 2 * cap : 1024;
            s->ids = xrealloc(s->ids, cap * sizeof *s->ids);
        }
        s->ids[s->nruns++] = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) return -1;
    s->vals = xcalloc(s->nruns * s->nkeys + 1, sizeof *s->vals);
    if (sqlite3_prepare_v2(db, "SELECT run_id, key, value FROM params", -1, &st, NULL) != SQLITE_OK)
        return -1;
    struct pool *pool = s->pool;
    int64_t last_id = INT64_MIN;
    long r = -1;
    int last = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        if (id != last_id) {
            last_id = id;
            r = res_sel_find(s, id);
        }
        const char *k = (const char *)sqlite3_column_text(st, 1);
        if (r < 0 || !k) continue;
        /* rows come in the same key order run after run: try the next key first */
        int ki = (size_t)last + 1 < s->nkeys && !strcmp(s->keys[last + 1], k) ? last + 1
                                                                              : res_sel_key(s, k);
        if (ki < 0) continue;
        last = ki;
        const char *v = (const char *)sqlite3_column_text(st, 2);
        s->vals[(size_t)r * s->nkeys + (size_t)ki] = pool_intern(pool, v ? v : "");
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

int res_select(struct res_db *db, int only_done, const char *const *where, size_t nwhere,
               struct res_sel **out, struct err *e)
{
    *out = NULL;
    sqlite3 *sq = res_sqlite(db);
    struct res_sel *s = xcalloc(1, sizeof *s);
    s->pool = xcalloc(1, sizeof(struct pool));
    if (load_keys(sq, s) < 0 || load_runs(sq, s, only_done) < 0) {
        err_set(e, "%s: cannot read runs: %s", res_path(db), sqlite3_errmsg(sq));
        res_sel_free(s);
        return -1;
    }
    struct filter *f = xcalloc(nwhere + 1, sizeof *f);
    if (parse_where(s, where, nwhere, f, e) < 0) {
        free(f);
        res_sel_free(s);
        return -1;
    }
    size_t kept = 0;
    for (size_t r = 0; r < s->nruns; r++) {
        int ok = 1;
        for (size_t i = 0; ok && i < nwhere; i++)
            ok = res_value_eq(res_sel_val(s, r, f[i].key), f[i].value);
        if (!ok) continue;
        if (kept != r) {
            s->ids[kept] = s->ids[r];
            memmove(&s->vals[kept * s->nkeys], &s->vals[r * s->nkeys], s->nkeys * sizeof *s->vals);
        }
        kept++;
    }
    s->nruns = kept;
    free(f);
    *out = s;
    return 0;
}

void res_sel_free(struct res_sel *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->nkeys; i++)
        free(s->keys[i]);
    free(s->keys);
    free(s->ids);
    free(s->vals);
    pool_free(s->pool);
    free(s);
}
