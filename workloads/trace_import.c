/* trace_import.c - JSON-lines router logs to a trace (trace_import.h).
 *
 * Lines are parsed one at a time (getline + json_loadb); the decisions are
 * kept as records in file order, then tokens are numbered in the order first
 * seen (sort by key, keep the first occurrence, order by it) and the dense
 * trace is filled, duplicates reported with the line of the later one.
 *
 * Sequence ids are interned by their text (7 and "7" are one) in the order
 * first seen; when every one is an integer the trace keeps their values,
 * otherwise (vLLM's "cmpl-...", SGLang's hex rids) it numbers them 0, 1, ...
 * in that order.
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

/* Distinct sequence ids by text, in the order first seen (open addressing
 * over their indices). */
struct seqids {
    char **text;
    int32_t *value; /* the integer, or -1 for a string that is not one */
    size_t n, cap;
    uint32_t *slot; /* [nslot]: index + 1, 0 empty */
    size_t nslot;
    int all_int;
};

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* The index of id text s (added when new, with its integer value or -1). */
static int32_t seqid_intern(struct seqids *q, const char *s, int32_t value)
{
    if (2 * (q->n + 1) > q->nslot) {
        size_t ns = q->nslot ? 2 * q->nslot : 1024;
        uint32_t *slot = xcalloc(ns, sizeof *slot);
        for (size_t i = 0; i < q->n; i++) {
            size_t j = (size_t)fnv1a(q->text[i]) & (ns - 1);
            while (slot[j])
                j = (j + 1) & (ns - 1);
            slot[j] = (uint32_t)i + 1;
        }
        free(q->slot);
        q->slot = slot;
        q->nslot = ns;
    }
    size_t j = (size_t)fnv1a(s) & (q->nslot - 1);
    while (q->slot[j]) {
        if (!strcmp(q->text[q->slot[j] - 1], s)) return (int32_t)(q->slot[j] - 1);
        j = (j + 1) & (q->nslot - 1);
    }
    if (q->n == q->cap) {
        q->cap = q->cap ? 2 * q->cap : 256;
        q->text = xrealloc(q->text, q->cap * sizeof *q->text);
        q->value = xrealloc(q->value, q->cap * sizeof *q->value);
    }
    q->text[q->n] = xstrdup(s);
    q->value[q->n] = value;
    if (value < 0) q->all_int = 0;
    q->slot[j] = (uint32_t)q->n + 1;
    return (int32_t)q->n++;
}

static void seqids_free(struct seqids *q)
{
    for (size_t i = 0; i < q->n; i++)
        free(q->text[i]);
    free(q->text);
    free(q->value);
    free(q->slot);
}

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
    struct seqids seqs;
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

/* Whether s is a decimal integer as id_value reads one (sign included, so
 * that "-3" is refused as a negative id rather than taken as a name). */
static int is_decimal(const char *s)
{
    const char *p = s + (*s == '-' || *s == '+');
    if (!*p) return 0;
    for (; *p; p++)
        if (*p < '0' || *p > '9') return 0;
    return 1;
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
    /* the sequence: an integer id, or any other string (interned) */
    int32_t sid;
    if ((v = field(o, seq_names, &name)) && json_is_string(v) &&
        !is_decimal(json_string_value(v))) {
        if (json_string_length(v) == 0 || strlen(json_string_value(v)) != json_string_length(v)) {
            ifail(I, I->line, "%s: an empty string or one holding a NUL byte", name);
            goto out;
        }
        sid = seqid_intern(&I->seqs, json_string_value(v), -1);
    } else {
        if (v && id_value(I, v, name, INT32_MAX, &seq)) goto out;
        char num[24];
        snprintf(num, sizeof num, "%ld", seq);
        sid = seqid_intern(&I->seqs, num, (int32_t)seq);
    }
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
    I->rec[I->n++] = (struct rec){sid, (int32_t)pos, (int32_t)layer, I->line};
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
    /* records hold the sequence's index; the trace its value, or that index
     * when some id is not an integer */
    for (size_t i = 0; i < n; i++)
        if (I->seqs.all_int) I->rec[i].seq = I->seqs.value[I->rec[i].seq];
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
            if (!I->seqs.all_int)
                return ifail(I, r->line, "duplicate seq '%s' token %d layer %d",
                             I->seqs.text[r->seq], r->pos, r->layer);
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
    I.seqs.all_int = 1;
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
    seqids_free(&I.seqs);
    return rc;
}
