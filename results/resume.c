/* resume.c - the set of finished configurations in a database, for `moesim
 * run --resume` (res_doneset_*, see res.h).
 *
 * A configuration is what a run simulates (inputs.c): its resolved
 * parameters but output.db and output.csv, with each input file by its
 * content hash, written canonically as "key=value\n" lines sorted by key,
 * an input file as "KEY#xxh3=HASH" in place of "KEY=PATH". One side is the
 * params and inputs rows of every `done` run (read once, sorted by SQLite),
 * the other a run's resolved parameters (struct res_param), with the hashes of the
 * files as they are now. An input file that cannot be read stays "KEY=PATH",
 * which no done run has. The set is a sorted array searched by bsearch, so a
 * resume over N runs against D finished ones costs O((N + D) log D).
 */
#include "results/res.h"

#include <stdlib.h>
#include <string.h>

#include "results/resdb.h"

struct res_doneset {
    char **conf; /* sorted */
    size_t n, cap;
};

/* A growing string. */
struct sbuf {
    char *s;
    size_t n, cap;
};

static void sb_add(struct sbuf *b, const char *a, const char *c, const char *d)
{
    size_t la = strlen(a), lc = strlen(c), ld = strlen(d);
    if (b->n + la + lc + ld + 1 > b->cap) {
        b->cap = 2 * (b->n + la + lc + ld + 1) + 64;
        b->s = xrealloc(b->s, b->cap);
    }
    memcpy(b->s + b->n, a, la);
    memcpy(b->s + b->n + la, c, lc);
    memcpy(b->s + b->n + la + lc, d, ld);
    b->n += la + lc + ld;
    b->s[b->n] = '\0';
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void set_add(struct res_doneset *s, char *conf)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 64;
        s->conf = xrealloc(s->conf, s->cap * sizeof *s->conf);
    }
    s->conf[s->n++] = conf;
}

int res_doneset_load(struct res_db *db, struct res_doneset **out, struct err *e)
{
    static const char sql[] =
        "SELECT p.run_id, p.key, p.value FROM params p JOIN runs r ON r.id = p.run_id"
        " WHERE r.status = ?1 AND p.key NOT IN ('output.db', 'output.csv') AND NOT EXISTS"
        " (SELECT 1 FROM inputs i WHERE i.run_id = p.run_id AND i.key = p.key)"
        " UNION ALL"
        " SELECT i.run_id, i.key || '#xxh3', i.xxh3 FROM inputs i JOIN runs r ON r.id = i.run_id"
        " WHERE r.status = ?1 ORDER BY 1, 2";
    sqlite3 *s = res_sqlite(db);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s, sql, -1, &st, NULL) != SQLITE_OK)
        return err_set(e, "%s: cannot read finished runs: %s", res_path(db), sqlite3_errmsg(s));
    sqlite3_bind_text(st, 1, "done", -1, SQLITE_STATIC);
    struct res_doneset *set = xcalloc(1, sizeof *set);
    struct sbuf b = {0};
    int64_t cur = -1;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        if (id != cur && b.s) {
            set_add(set, b.s);
            memset(&b, 0, sizeof b);
        }
        cur = id;
        const char *k = (const char *)sqlite3_column_text(st, 1);
        const char *v = (const char *)sqlite3_column_text(st, 2);
        sb_add(&b, k ? k : "", "=", "");
        sb_add(&b, v ? v : "", "\n", "");
    }
    if (b.s) set_add(set, b.s);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        res_doneset_free(set);
        return err_set(e, "%s: cannot read finished runs: %s", res_path(db), sqlite3_errmsg(s));
    }
    qsort(set->conf, set->n, sizeof *set->conf, cmp_str);
    *out = set;
    return 0;
}

/* The identity line of parameter key = value (to free); NULL for an output
 * path. */
static char *id_line(const char *key, const char *value)
{
    enum res_key_role role = res_key_role(key, value);
    if (role == RES_KEY_OUTPUT) return NULL;
    char hex[17];
    uint64_t bytes;
    int hashed = role == RES_KEY_INPUT && res_input_hash(value, hex, &bytes) == 0;
    size_t n = strlen(key) + strlen(value) + 32;
    char *l = xmalloc(n);
    if (hashed)
        snprintf(l, n, "%s#xxh3=%s\n", key, hex);
    else
        snprintf(l, n, "%s=%s\n", key, value);
    return l;
}

/* The canonical configuration text of p[np] (to free): its identity lines
 * sorted by key, as res_doneset_load reads them back from params and inputs. */
static char *cfg_text(const struct res_param *p, size_t np)
{
    char **lines = xcalloc(np ? np : 1, sizeof *lines);
    size_t nl = 0;
    for (size_t i = 0; i < np; i++) {
        char *l = id_line(p[i].key, p[i].value);
        if (l) lines[nl++] = l;
    }
    /* sort by key: compare up to '=' (keys never contain '=') */
    for (size_t i = 1; i < nl; i++)
        for (size_t j = i; j > 0; j--) {
            const char *a = lines[j - 1], *b = lines[j];
            size_t la = strcspn(a, "="), lb = strcspn(b, "=");
            int c2 = strncmp(a, b, la < lb ? la : lb);
            if (c2 < 0 || (c2 == 0 && la <= lb)) break;
            char *t = lines[j - 1];
            lines[j - 1] = lines[j];
            lines[j] = t;
        }
    struct sbuf b = {0};
    for (size_t i = 0; i < nl; i++) {
        sb_add(&b, lines[i], "", "");
        free(lines[i]);
    }
    free(lines);
    return b.s;
}

int res_doneset_has(const struct res_doneset *s, const struct res_param *p, size_t np)
{
    char *t = cfg_text(p, np);
    int found = bsearch(&t, s->conf, s->n, sizeof *s->conf, cmp_str) != NULL;
    free(t);
    return found;
}

size_t res_doneset_count(const struct res_doneset *s)
{
    return s->n;
}

void res_doneset_free(struct res_doneset *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->n; i++)
        free(s->conf[i]);
    free(s->conf);
    free(s);
}
