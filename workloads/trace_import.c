/* trace_import.c - JSON-lines router logs to a trace (trace_import.h).
 *
 * Lines are parsed one at a time (getline + json_loadb); the decisions are
 * kept as records in file order, then tokens are numbered in the order first
 * seen (sort by key, keep the first occurrence, order by it) and the dense
 * trace is filled, duplicates reported with the line of the later one.
 */
#include "workloads/trace_import.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct rec {
    int32_t seq, pos, layer;
    size_t line;
};

struct ukey {
    uint64_t key;
    size_t first;
    int32_t tok;
};

struct importer {
    const char *path;
    struct err *e;
    size_t line;
    int experts; /* bound: given, or TRACE_MAX_EXPERTS */
    int experts_given;
    int topk;
    size_t topk_line;
    struct rec *rec;
    int16_t *ex;
    float *w;
    size_t n, cap;
    int max_expert, max_layer;
};

static int ifail(struct importer *I, size_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int ifail(struct importer *I, size_t line, const char *fmt, ...)
{
    char msg[ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return err_set(I->e, "%s:%zu: %s", I->path, line, msg);
}

static json_t *field(json_t *o, const char *const *names, const char **found)
{
    for (; *names; names++) {
        json_t *v = json_object_get(o, *names);
        if (v) {
            *found = *names;
            return v;
        }
    }
    return NULL;
}

/* An id: a JSON integer or a string holding a decimal integer, in [0, hi). */
static int id_value(struct importer *I, json_t *v, const char *name, long hi, long *out)
{
    long long x;
    if (json_is_integer(v)) {
        x = json_integer_value(v);
    } else if (json_is_string(v)) {
        const char *s = json_string_value(v);
        char *end;
        errno = 0;
        x = strtoll(s, &end, 10);
        if (end == s || *end || errno == ERANGE)
            return ifail(I, I->line, "%s: not an integer id", name);
    } else {
        return ifail(I, I->line, "%s: not an integer id", name);
    }
    if (x < 0 || x >= hi) return ifail(I, I->line, "%s %lld outside [0, %ld)", name, x, hi);
    *out = (long)x;
    return 0;
}

static const char *const layer_names[] = {"layer", "layer_id", NULL};
static const char *const token_names[] = {"token_idx", "token", "position", NULL};
static const char *const expert_names[] = {"topk_ids", "experts", "expert_ids", NULL};
static const char *const weight_names[] = {"topk_weights", "gating_probs", "weights", NULL};
static const char *const seq_names[] = {"req_id", "problem_id", "seq", "request_id", NULL};

static int one_line(struct importer *I, const char *text, size_t len)
{
    json_error_t jerr;
    json_t *o = json_loadb(text, len, 0, &jerr);
    if (!o) {
        /* jansson quotes the text near the error, line break included */
        for (char *c = jerr.text; *c; c++)
            if ((unsigned char)*c < 0x20) *c = ' ';
        return ifail(I, I->line, "bad JSON: %s", jerr.text);
    }
    int rc = -1;
    const char *name = NULL;
    json_t *v, *ids, *ws = NULL;
    long layer, pos, seq = 0;
    if (!json_is_object(o)) {
        ifail(I, I->line, "not a JSON object");
        goto out;
    }
    if (!(v = field(o, layer_names, &name))) {
        ifail(I, I->line, "missing field layer (or layer_id)");
        goto out;
    }
    if (id_value(I, v, name, TRACE_MAX_LAYERS, &layer)) goto out;
    if (!(v = field(o, token_names, &name))) {
        ifail(I, I->line, "missing field token_idx (or token, position)");
        goto out;
    }
    if (id_value(I, v, name, INT32_MAX, &pos)) goto out;
    if ((v = field(o, seq_names, &name)) && id_value(I, v, name, INT32_MAX, &seq)) goto out;
    const char *ids_name = NULL, *ws_name = NULL;
    if (!(ids = field(o, expert_names, &ids_name))) {
        ifail(I, I->line, "missing field topk_ids (or experts, expert_ids)");
        goto out;
    }
    if (!json_is_array(ids) || json_array_size(ids) == 0) {
        ifail(I, I->line, "%s: not a non-empty array", ids_name);
        goto out;
    }
    size_t k = json_array_size(ids);
    if (k > TRACE_MAX_TOPK) {
        ifail(I, I->line, "%s: %zu ids, more than %d", ids_name, k, TRACE_MAX_TOPK);
        goto out;
    }
    if (!I->topk) {
        I->topk = (int)k;
        I->topk_line = I->line;
    } else if (k != (size_t)I->topk) {
        ifail(I, I->line, "%zu expert ids, expected %d as on line %zu", k, I->topk, I->topk_line);
        goto out;
    }
    if ((ws = field(o, weight_names, &ws_name))) {
        if (!json_is_array(ws)) {
            ifail(I, I->line, "%s: not an array", ws_name);
            goto out;
        }
        if (json_array_size(ws) != k) {
            ifail(I, I->line, "%zu expert ids but %zu weights", k, json_array_size(ws));
            goto out;
        }
    }
    if (I->n == I->cap) {
        I->cap = I->cap ? 2 * I->cap : 1024;
        I->rec = xrealloc(I->rec, I->cap * sizeof *I->rec);
        I->ex = xrealloc(I->ex, I->cap * k * sizeof *I->ex);
        I->w = xrealloc(I->w, I->cap * k * sizeof *I->w);
    }
    int16_t *ex = I->ex + I->n * k;
    float *w = I->w + I->n * k;
    for (size_t j = 0; j < k; j++) {
        char nm[64];
        long x;
        snprintf(nm, sizeof nm, "%s[%zu]", ids_name, j);
        if (id_value(I, json_array_get(ids, j), nm, I->experts, &x)) goto out;
        for (size_t i = 0; i < j; i++)
            if (ex[i] == x) {
                ifail(I, I->line, "%s: expert %ld repeated", ids_name, x);
                goto out;
            }
        ex[j] = (int16_t)x;
        if (x > I->max_expert) I->max_expert = (int)x;
        if (!ws) {
            w[j] = (float)(1.0 / (double)k);
            continue;
        }
        json_t *wv = json_array_get(ws, j);
        if (!json_is_number(wv)) {
            ifail(I, I->line, "%s[%zu]: not a number", ws_name, j);
            goto out;
        }
        double d = json_number_value(wv);
        if (!isfinite(d) || d < 0) {
            ifail(I, I->line, "%s[%zu] %g: negative or not finite", ws_name, j, d);
            goto out;
        }
        w[j] = (float)d;
    }
    if (layer > I->max_layer) I->max_layer = (int)layer;
    I->rec[I->n++] = (struct rec){(int32_t)seq, (int32_t)pos, (int32_t)layer, I->line};
    rc = 0;
out:
    json_decref(o);
    return rc;
}

static int cmp_ukey(const void *a, const void *b)
{
    const struct ukey *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return (x->first > y->first) - (x->first < y->first);
}

static int cmp_first(const void *a, const void *b)
{
    const struct ukey *x = *(struct ukey *const *)a, *y = *(struct ukey *const *)b;
    return (x->first > y->first) - (x->first < y->first);
}

static uint64_t rec_key(const struct rec *r)
{
    return (uint64_t)(uint32_t)r->seq << 32 | (uint32_t)r->pos;
}

static int build(struct importer *I, struct trace *t)
{
    size_t n = I->n, nu = 0;
    struct ukey *u = xmalloc(n * sizeof *u);
    for (size_t i = 0; i < n; i++)
        u[i] = (struct ukey){rec_key(&I->rec[i]), i, 0};
    qsort(u, n, sizeof *u, cmp_ukey);
    for (size_t i = 0; i < n; i++)
        if (!nu || u[i].key != u[nu - 1].key) u[nu++] = u[i];
    struct ukey **order = xmalloc(nu * sizeof *order);
    for (size_t i = 0; i < nu; i++)
        order[i] = &u[i];
    qsort(order, nu, sizeof *order, cmp_first);
    for (size_t i = 0; i < nu; i++)
        order[i]->tok = (int32_t)i;
    free(order);

    int experts = I->experts_given ? I->experts : I->max_expert + 1;
    struct err ae;
    if (trace_alloc(t, nu, experts, I->topk, I->max_layer + 1, &ae)) {
        free(u);
        return ifail(I, 0, "%s", ae.msg);
    }
    int K = I->topk;
    for (size_t i = 0; i < n; i++) {
        const struct rec *r = &I->rec[i];
        struct ukey probe = {rec_key(r), 0, 0};
        /* the unique keys are sorted by key; first == 0 sorts before any */
        size_t lo = 0, hi = nu;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (u[mid].key < probe.key)
                lo = mid + 1;
            else
                hi = mid;
        }
        size_t tok = (size_t)u[lo].tok;
        t->seq[tok] = r->seq;
        t->pos[tok] = r->pos;
        size_t base = trace_idx(t, tok, r->layer, 0);
        if (t->expert[base] >= 0) {
            free(u);
            trace_free(t);
            return ifail(I, r->line, "duplicate seq %d token %d layer %d", r->seq, r->pos,
                         r->layer);
        }
        memcpy(t->expert + base, I->ex + i * (size_t)K, (size_t)K * sizeof *t->expert);
        memcpy(t->weight + base, I->w + i * (size_t)K, (size_t)K * sizeof *t->weight);
    }
    free(u);
    for (size_t i = 0; i < t->tokens; i++)
        for (int l = 0; l < t->layers; l++)
            t->missing += t->expert[trace_idx(t, i, l, 0)] < 0;
    return 0;
}

int trace_import_jsonl(const char *path, const char *model, int experts, struct trace *t,
                       struct err *e)
{
    memset(t, 0, sizeof *t);
    struct importer I = {.path = path, .e = e, .max_expert = -1, .max_layer = -1};
    if (experts < 0 || experts > TRACE_MAX_EXPERTS)
        return err_set(e, "--experts %d outside [1, %d]", experts, TRACE_MAX_EXPERTS);
    I.experts = experts ? experts : TRACE_MAX_EXPERTS;
    I.experts_given = experts > 0;
    FILE *f = fopen(path, "rb");
    if (!f) return err_set(e, "%s:0: cannot open: %s", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int rc = 0;
    while (rc == 0 && (len = getline(&line, &cap, f)) >= 0) {
        I.line++;
        size_t i = 0;
        while (i < (size_t)len &&
               (line[i] == ' ' || line[i] == '\t' || line[i] == '\r' || line[i] == '\n'))
            i++;
        if (i == (size_t)len) continue;
        rc = one_line(&I, line, (size_t)len);
    }
    if (rc == 0 && ferror(f)) rc = ifail(&I, I.line, "read error: %s", strerror(errno));
    if (rc == 0 && I.n == 0) rc = ifail(&I, I.line, "no records");
    free(line);
    fclose(f);
    if (rc == 0) rc = build(&I, t);
    if (rc == 0) {
        snprintf(t->model, sizeof t->model, "%s", model ? model : "");
        snprintf(t->source, sizeof t->source, "imported from %s", path);
    }
    free(I.rec);
    free(I.ex);
    free(I.w);
    return rc;
}
