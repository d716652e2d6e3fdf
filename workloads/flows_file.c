/* flows_file.c - reads the flows file of workload.kind = flows (flows_file.h).
 *
 * Two formats, told apart by the first line that is not blank or a '#'
 * comment (a matrix's starts with one of its header words, `trigger`, or
 * holds `->`):
 *   - htsim's connection matrix, so that its users bring their traffic:
 *     header lines `Nodes N`, `Connections N`, `Triggers N` (`Failures 0`
 *     is accepted; failures come from [faults]), then one line per flow,
 *     `SRC->DST [id N] (start US | trigger K) size BYTES [send_done_trigger
 *     K] [recv_done_trigger K]`, start in microseconds, and one line per
 *     trigger, `trigger id K oneshot` or `trigger id K barrier count C`. A
 *     flow with `trigger K` starts once the flows that fire K (by their
 *     send_done_trigger or recv_done_trigger) have ended: a oneshot trigger
 *     must be fired by one flow, a barrier by exactly `count`. Both kinds of
 *     firing happen when the flow's last byte has arrived (this model has no
 *     separate "sender done"). multishot triggers and the tokens this model
 *     has no meaning for (prio, msg) are refused, not ignored.
 *   - CSV (libcsv): `src,dst,bytes[,start_ns]` rows, an optional header row
 *     naming those columns.
 * Every error is one line naming the file and the line.
 */
#include "workloads/flows_file.h"

#include <csv.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { TRIG_ONESHOT = 1, TRIG_BARRIER };

struct trig_def {
    uint32_t id, line;
    int type;
    uint64_t count;
};

/* A flow's reference to a trigger: it waits for it, or it fires it. */
struct trig_ref {
    uint32_t id, flow;
    int fires;
};

struct ld {
    const char *path;
    uint32_t hosts;
    struct err *e;
    struct wl_flows *out;
    size_t capf;
    struct trig_def *td;
    size_t ntd, captd;
    struct trig_ref *tr;
    size_t ntr, captr;
    uint64_t *ids; /* (flow id << 32 | line) of flows with an id */
    size_t nids, capids;
    /* header counts and their lines (0: absent) */
    uint64_t conns, trigs;
    uint32_t conns_line, trigs_line, nodes_line;
    uint32_t line;
    uint64_t maxhost;
    /* csv */
    char *field[4];
    int nfields, toomany, header_seen, failed;
};

static int fail(struct ld *L, uint32_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(struct ld *L, uint32_t line, const char *fmt, ...)
{
    char why[ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    L->failed = 1;
    if (line) return err_set(L->e, "%s:%u: %s", L->path, line, why);
    return err_set(L->e, "%s: %s", L->path, why);
}

/* A whole number in [0, max] with nothing after it. */
static int parse_u64(const char *s, uint64_t max, uint64_t *v)
{
    if (!isdigit((unsigned char)s[0])) return -1;
    errno = 0;
    char *end;
    unsigned long long x = strtoull(s, &end, 10);
    if (errno || *end || x > max) return -1;
    *v = x;
    return 0;
}

static void *grow(void *p, size_t *cap, size_t n, size_t size)
{
    if (n < *cap) return p;
    *cap = *cap ? 2 * *cap : 64;
    return xrealloc(p, *cap * size);
}

static struct wl_flow *new_flow(struct ld *L)
{
    struct wl_flows *o = L->out;
    if (o->n >= WL_FLOWS_MAX) {
        fail(L, L->line, "more than %u flows", WL_FLOWS_MAX);
        return NULL;
    }
    o->f = grow(o->f, &L->capf, o->n, sizeof *o->f);
    struct wl_flow *f = &o->f[o->n++];
    memset(f, 0, sizeof *f);
    f->line = L->line;
    return f;
}

/* Checks a flow's hosts against the fabric (and the Nodes line). */
static int check_hosts(struct ld *L, uint64_t src, uint64_t dst)
{
    if (src == dst)
        return fail(L, L->line, "a flow from host %llu to itself", (unsigned long long)src);
    uint64_t m = src > dst ? src : dst;
    if (L->nodes_line && m >= L->out->nodes)
        return fail(L, L->line, "host %llu: the Nodes line (line %u) says %u hosts",
                    (unsigned long long)m, L->nodes_line, L->out->nodes);
    if (L->hosts && m >= L->hosts)
        return fail(L, L->line, "host %llu: the fabric has %u hosts (0 to %u)",
                    (unsigned long long)m, L->hosts, L->hosts - 1);
    if (m > L->maxhost) L->maxhost = m;
    return 0;
}

static int add_ref(struct ld *L, uint64_t id, uint32_t flow, int fires)
{
    L->tr = grow(L->tr, &L->captr, L->ntr, sizeof *L->tr);
    L->tr[L->ntr++] = (struct trig_ref){(uint32_t)id, flow, fires};
    if (fires) L->out->f[flow].fires = 1;
    return 0;
}

/* ---- htsim's connection matrix ---- */

#define MAX_TOKENS 32

static int header_count(struct ld *L, char **tok, int ntok, uint64_t *v, uint32_t *line)
{
    if (ntok != 2 || parse_u64(tok[1], WL_FLOWS_MAX, v) < 0)
        return fail(L, L->line, "%s: expected `%s N` with N a whole number up to %u", tok[0],
                    tok[0], WL_FLOWS_MAX);
    if (*line) return fail(L, L->line, "%s: given twice (line %u)", tok[0], *line);
    *line = L->line;
    return 0;
}

static int matrix_flow(struct ld *L, char **tok, int ntok)
{
    char *arrow = strstr(tok[0], "->");
    *arrow = '\0';
    uint64_t src, dst;
    if (parse_u64(tok[0], UINT32_MAX - 1, &src) < 0 ||
        parse_u64(arrow + 2, UINT32_MAX - 1, &dst) < 0)
        return fail(L, L->line, "expected SRC->DST with host numbers, got '%s->%s'", tok[0],
                    arrow + 2);
    if (check_hosts(L, src, dst) < 0) return -1;
    struct wl_flow *f = new_flow(L);
    if (!f) return -1;
    uint32_t fi = (uint32_t)(L->out->n - 1);
    f->src = (uint32_t)src;
    f->dst = (uint32_t)dst;
    int has_start = 0, has_trigger = 0, has_size = 0;
    for (int i = 1; i < ntok; i += 2) {
        const char *k = tok[i];
        if (!strcmp(k, "prio") || !strcmp(k, "msg"))
            return fail(L, L->line, "%s: not modelled by moesim (remove it)", k);
        if (strcmp(k, "id") && strcmp(k, "start") && strcmp(k, "size") && strcmp(k, "trigger") &&
            strcmp(k, "send_done_trigger") && strcmp(k, "recv_done_trigger"))
            return fail(L, L->line,
                        "unknown token '%s' (a flow has: id, start, size, trigger, "
                        "send_done_trigger, recv_done_trigger)",
                        k);
        if (i + 1 >= ntok) return fail(L, L->line, "%s: no value after it", k);
        const char *v = tok[i + 1];
        uint64_t x;
        if (!strcmp(k, "start")) {
            char *end;
            errno = 0;
            double us = strtod(v, &end);
            if (errno || *end || end == v || !isfinite(us) || us < 0 || us > 1e12)
                return fail(L, L->line,
                            "start: expected a time >= 0 in microseconds (up to 1e12), got '%s'",
                            v);
            if (has_start) return fail(L, L->line, "start: given twice");
            has_start = 1;
            f->start_ps = (simtime_t)llround(us * 1e6);
        } else if (!strcmp(k, "size")) {
            if (parse_u64(v, (uint64_t)1e15, &x) < 0 || x == 0)
                return fail(L, L->line, "size: expected bytes from 1 to 1e15, got '%s'", v);
            if (has_size) return fail(L, L->line, "size: given twice");
            has_size = 1;
            f->bytes = x;
        } else if (!strcmp(k, "id")) {
            if (parse_u64(v, UINT32_MAX, &x) < 0 || x == 0)
                return fail(L, L->line, "id: expected a flow id from 1 to %u, got '%s'", UINT32_MAX,
                            v);
            L->ids = grow(L->ids, &L->capids, L->nids, sizeof *L->ids);
            L->ids[L->nids++] = x << 32 | L->line;
        } else { /* the triggers */
            if (parse_u64(v, UINT32_MAX, &x) < 0 || x == 0)
                return fail(L, L->line, "%s: expected a trigger id from 1 to %u, got '%s'", k,
                            UINT32_MAX, v);
            int fires = strcmp(k, "trigger") != 0;
            if (!fires) {
                if (has_trigger) return fail(L, L->line, "trigger: given twice");
                has_trigger = 1;
            }
            add_ref(L, x, fi, fires);
        }
    }
    if (!has_size) return fail(L, L->line, "size: missing (every flow needs `size BYTES`)");
    if (has_start && has_trigger)
        return fail(L, L->line,
                    "start and trigger: a flow starts at a time or on a trigger, not both");
    if (!has_start && !has_trigger)
        return fail(L, L->line, "start: missing (a flow needs `start US` or `trigger K`)");
    return 0;
}

static int matrix_trigger(struct ld *L, char **tok, int ntok)
{
    struct trig_def d = {.line = L->line};
    int has_count = 0;
    for (int i = 1; i < ntok; i++) {
        const char *k = tok[i];
        uint64_t x;
        if (!strcmp(k, "oneshot") || !strcmp(k, "barrier")) {
            if (d.type) return fail(L, L->line, "%s: a trigger has one type", k);
            d.type = !strcmp(k, "oneshot") ? TRIG_ONESHOT : TRIG_BARRIER;
        } else if (!strcmp(k, "multishot")) {
            return fail(L, L->line, "multishot: not modelled by moesim (oneshot and barrier are)");
        } else if (!strcmp(k, "id") || !strcmp(k, "count")) {
            if (i + 1 >= ntok || parse_u64(tok[i + 1], UINT32_MAX, &x) < 0 || x == 0)
                return fail(L, L->line, "%s: expected a whole number from 1 to %u", k, UINT32_MAX);
            if (!strcmp(k, "id"))
                d.id = (uint32_t)x;
            else
                d.count = x, has_count = 1;
            i++;
        } else {
            return fail(L, L->line,
                        "unknown token '%s' (a trigger has: id, oneshot, barrier, count)", k);
        }
    }
    if (!d.id) return fail(L, L->line, "trigger: no id");
    if (!d.type) return fail(L, L->line, "trigger %u: no type (oneshot or barrier)", d.id);
    if (d.type == TRIG_BARRIER && !has_count)
        return fail(L, L->line, "trigger %u: a barrier needs `count C`", d.id);
    if (d.type == TRIG_ONESHOT && has_count)
        return fail(L, L->line, "trigger %u: count: a oneshot trigger has none", d.id);
    L->td = grow(L->td, &L->captd, L->ntd, sizeof *L->td);
    L->td[L->ntd++] = d;
    return 0;
}

static int matrix_line(struct ld *L, char *s)
{
    char *tok[MAX_TOKENS + 1];
    int ntok = 0;
    for (char *p = strtok(s, " \t\r\n"); p; p = strtok(NULL, " \t\r\n")) {
        if (ntok == MAX_TOKENS) return fail(L, L->line, "more than %d tokens", MAX_TOKENS);
        tok[ntok++] = p;
    }
    if (!ntok) return 0;
    if (!strcmp(tok[0], "Nodes")) {
        uint64_t n;
        if (ntok != 2 || parse_u64(tok[1], UINT32_MAX, &n) < 0 || n < 2)
            return fail(L, L->line, "Nodes: expected `Nodes N` with N a whole number >= 2");
        if (L->nodes_line) return fail(L, L->line, "Nodes: given twice (line %u)", L->nodes_line);
        if (L->out->n) return fail(L, L->line, "Nodes: after the first flow");
        if (L->hosts && n > L->hosts)
            return fail(L, L->line, "Nodes %llu: the fabric has %u hosts", (unsigned long long)n,
                        L->hosts);
        L->nodes_line = L->line;
        L->out->nodes = (uint32_t)n;
        return 0;
    }
    if (!strcmp(tok[0], "Connections"))
        return header_count(L, tok, ntok, &L->conns, &L->conns_line);
    if (!strcmp(tok[0], "Triggers")) return header_count(L, tok, ntok, &L->trigs, &L->trigs_line);
    if (!strcmp(tok[0], "Failures")) {
        uint64_t n;
        if (ntok != 2 || parse_u64(tok[1], UINT32_MAX, &n) < 0)
            return fail(L, L->line, "Failures: expected `Failures N`");
        if (n)
            return fail(L, L->line,
                        "Failures: failures are not read from a flows file (use [faults])");
        return 0;
    }
    if (!strcmp(tok[0], "failure"))
        return fail(L, L->line, "failure: failures are not read from a flows file (use [faults])");
    if (!strcmp(tok[0], "trigger")) return matrix_trigger(L, tok, ntok);
    if (strstr(tok[0], "->")) return matrix_flow(L, tok, ntok);
    return fail(L, L->line,
                "unknown line starting '%s' (expected Nodes, Connections, Triggers, "
                "SRC->DST or trigger)",
                tok[0]);
}

/* ---- CSV ---- */

static void csv_on_field(void *s, size_t len, void *ctx)
{
    (void)len;
    struct ld *L = ctx;
    if (L->nfields < 4) {
        /* a quoted field may hold line breaks: shown as '?' in a message
         * (no such field is valid, so nothing accepted changes) */
        char *v = strdup(s);
        for (char *c = v; *c; c++)
            if (iscntrl((unsigned char)*c)) *c = '?';
        L->field[L->nfields] = v;
    } else
        L->toomany = 1;
    L->nfields++;
}

static void csv_row(struct ld *L)
{
    int nf = L->nfields;
    if (L->toomany || nf < 3)
        return (void)fail(L, L->line, "expected 3 or 4 fields (src,dst,bytes[,start_ns]), got %d",
                          nf);
    if (!L->header_seen && !L->out->n && !isdigit((unsigned char)L->field[0][0])) {
        static const char *names[4] = {"src", "dst", "bytes", "start_ns"};
        for (int i = 0; i < nf; i++)
            if (strcmp(L->field[i], names[i]))
                return (void)fail(
                    L, L->line,
                    "header: column %d is '%s', expected '%s' (src,dst,bytes[,start_ns])", i + 1,
                    L->field[i], names[i]);
        L->header_seen = 1;
        return;
    }
    uint64_t src, dst, bytes, start = 0;
    if (parse_u64(L->field[0], UINT32_MAX - 1, &src) < 0)
        return (void)fail(L, L->line, "src: expected a host number, got '%s'", L->field[0]);
    if (parse_u64(L->field[1], UINT32_MAX - 1, &dst) < 0)
        return (void)fail(L, L->line, "dst: expected a host number, got '%s'", L->field[1]);
    if (parse_u64(L->field[2], (uint64_t)1e15, &bytes) < 0 || bytes == 0)
        return (void)fail(L, L->line, "bytes: expected bytes from 1 to 1e15, got '%s'",
                          L->field[2]);
    if (nf == 4 && parse_u64(L->field[3], (uint64_t)1e15, &start) < 0)
        return (void)fail(L, L->line,
                          "start_ns: expected a time >= 0 in nanoseconds (up to 1e15), got '%s'",
                          L->field[3]);
    if (check_hosts(L, src, dst) < 0) return;
    struct wl_flow *f = new_flow(L);
    if (!f) return;
    f->src = (uint32_t)src;
    f->dst = (uint32_t)dst;
    f->bytes = bytes;
    f->start_ps = (simtime_t)start * PS_PER_NS;
}

static void csv_on_record(int c, void *ctx)
{
    (void)c;
    struct ld *L = ctx;
    if (!L->failed) csv_row(L);
    for (int i = 0; i < 4 && i < L->nfields; i++)
        free(L->field[i]);
    L->nfields = 0;
    L->toomany = 0;
}

/* ---- after the last line ---- */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int cmp_def(const void *a, const void *b)
{
    const struct trig_def *x = a, *y = b;
    if (x->id != y->id) return x->id < y->id ? -1 : 1;
    return x->line < y->line ? -1 : x->line > y->line;
}

static int cmp_ref(const void *a, const void *b)
{
    const struct trig_ref *x = a, *y = b;
    if (x->id != y->id) return x->id < y->id ? -1 : 1;
    if (x->fires != y->fires) return x->fires > y->fires ? -1 : 1; /* firing flows first */
    return x->flow < y->flow ? -1 : x->flow > y->flow;
}

/* Turns the triggers into each flow's list of flows to wait for, and finds
 * a cycle among them (Kahn's order). */
static int resolve(struct ld *L)
{
    struct wl_flows *o = L->out;
    if (L->nids) qsort(L->ids, L->nids, sizeof *L->ids, cmp_u64);
    for (size_t i = 1; i < L->nids; i++)
        if (L->ids[i] >> 32 == L->ids[i - 1] >> 32)
            return fail(L, (uint32_t)L->ids[i], "id %llu: given to two flows (line %u too)",
                        (unsigned long long)(L->ids[i] >> 32), (uint32_t)L->ids[i - 1]);
    if (L->ntd) qsort(L->td, L->ntd, sizeof *L->td, cmp_def);
    for (size_t i = 1; i < L->ntd; i++)
        if (L->td[i].id == L->td[i - 1].id)
            return fail(L, L->td[i].line, "trigger %u: defined twice (line %u too)", L->td[i].id,
                        L->td[i - 1].line);
    if (L->ntr) qsort(L->tr, L->ntr, sizeof *L->tr, cmp_ref);
    uint32_t *cnt = xcalloc(o->n + 1, sizeof *cnt);
    /* pass 1: counts per waiting flow; pass 2: fill */
    for (int pass = 0; pass < 2 && !L->failed; pass++) {
        size_t off = 0;
        if (pass == 1) {
            for (size_t f = 0; f < o->n; f++) {
                o->f[f].woff = (uint32_t)off;
                off += o->f[f].nwait;
                o->f[f].nwait = 0;
            }
            o->nwait = off;
            o->wait = xmalloc((off ? off : 1) * sizeof *o->wait);
        }
        for (size_t i = 0; i < L->ntr && !L->failed;) {
            size_t j = i, nf = 0;
            while (j < L->ntr && L->tr[j].id == L->tr[i].id)
                nf += L->tr[j++].fires;
            struct trig_def key = {.id = L->tr[i].id}, *d = NULL;
            size_t lo = 0, hi = L->ntd; /* the first definition with this id */
            while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                if (L->td[mid].id < key.id)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            if (lo < L->ntd && L->td[lo].id == key.id) d = &L->td[lo];
            for (size_t k = i + nf; k < j && !L->failed; k++) { /* the waiting flows */
                struct wl_flow *w = &o->f[L->tr[k].flow];
                if (!d) {
                    fail(L, w->line, "trigger %u: no `trigger id %u` line defines it", key.id,
                         key.id);
                } else if (nf == 0) {
                    fail(L, w->line,
                         "trigger %u: no flow fires it (send_done_trigger or "
                         "recv_done_trigger %u)",
                         key.id, key.id);
                } else if (d->type == TRIG_ONESHOT && nf != 1) {
                    fail(L, d->line,
                         "trigger %u: a oneshot trigger fired by %zu flows (moesim starts a flow "
                         "once all it waits for have ended: write `barrier count %zu`)",
                         key.id, nf, nf);
                } else if (d->type == TRIG_BARRIER && d->count != nf) {
                    fail(L, d->line, "trigger %u: count %llu, but %zu flows fire it", key.id,
                         (unsigned long long)d->count, nf);
                } else if (pass == 0) {
                    w->nwait += (uint32_t)nf;
                } else {
                    for (size_t a = i; a < i + nf; a++)
                        o->wait[w->woff + w->nwait++] = L->tr[a].flow;
                }
            }
            i = j;
        }
    }
    if (L->failed) {
        free(cnt);
        return -1;
    }
    /* Kahn: cnt[f] = flows f still waits for */
    uint32_t *q = xmalloc((o->n ? o->n : 1) * sizeof *q), *soff = xcalloc(o->n + 1, sizeof *soff);
    for (size_t f = 0; f < o->n; f++)
        for (uint32_t k = 0; k < o->f[f].nwait; k++)
            soff[o->wait[o->f[f].woff + k] + 1]++;
    for (size_t f = 0; f < o->n; f++)
        soff[f + 1] += soff[f];
    uint32_t *succ = xmalloc((o->nwait ? o->nwait : 1) * sizeof *succ),
             *fill = xcalloc(o->n + 1, sizeof *fill);
    for (size_t f = 0; f < o->n; f++)
        for (uint32_t k = 0; k < o->f[f].nwait; k++) {
            uint32_t a = o->wait[o->f[f].woff + k];
            succ[soff[a] + fill[a]++] = (uint32_t)f;
        }
    size_t qh = 0, qt = 0;
    for (size_t f = 0; f < o->n; f++)
        if (!(cnt[f] = o->f[f].nwait)) q[qt++] = (uint32_t)f;
    while (qh < qt) {
        uint32_t a = q[qh++];
        for (uint32_t k = soff[a]; k < soff[a + 1]; k++)
            if (--cnt[succ[k]] == 0) q[qt++] = succ[k];
    }
    o->order = q;
    q = NULL;
    if (qt < o->n)
        for (size_t f = 0; f < o->n; f++)
            if (cnt[f]) {
                fail(L, o->f[f].line, "this flow waits for itself through its triggers (a cycle)");
                break;
            }
    free(q);
    free(soff);
    free(succ);
    free(fill);
    free(cnt);
    return L->failed ? -1 : 0;
}

static int finish(struct ld *L)
{
    struct wl_flows *o = L->out;
    if (L->conns_line && L->conns != o->n)
        return fail(L, L->conns_line, "Connections %llu, but the file has %zu flow lines",
                    (unsigned long long)L->conns, o->n);
    if (L->trigs_line && L->trigs != L->ntd)
        return fail(L, L->trigs_line, "Triggers %llu, but the file has %zu trigger lines",
                    (unsigned long long)L->trigs, L->ntd);
    if (!o->n) return fail(L, 0, "no flows");
    if (!L->nodes_line) o->nodes = (uint32_t)L->maxhost + 1;
    return resolve(L);
}

/* Skips blank and '#' lines; 1 for a line with content. */
static int content(const char *s, size_t len)
{
    if (s[0] == '#') return 0;
    for (size_t i = 0; i < len; i++)
        if (!isspace((unsigned char)s[i])) return 1;
    return 0;
}

static int is_matrix(const char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    static const char *const heads[] = {"Nodes",    "Connections", "Triggers",
                                        "Failures", "trigger",     "failure"};
    for (size_t i = 0; i < sizeof heads / sizeof heads[0]; i++)
        if (!strncmp(s, heads[i], strlen(heads[i]))) return 1;
    return strstr(s, "->") != NULL;
}

int wl_flows_load(const char *path, uint32_t hosts, struct wl_flows *out, struct err *e)
{
    memset(out, 0, sizeof *out);
    FILE *fp = fopen(path, "r");
    if (!fp) return err_set(e, "%s: cannot open: %s", path, strerror(errno));
    struct ld L = {.path = path, .hosts = hosts, .e = e, .out = out};
    struct csv_parser cp;
    int csv_ready = 0, decided = 0;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while (!L.failed && (len = getline(&line, &cap, fp)) >= 0) {
        if (L.line == UINT32_MAX - 1) {
            fail(&L, L.line, "more than %u lines", UINT32_MAX - 1);
            break;
        }
        L.line++;
        if (memchr(line, '\0', (size_t)len)) {
            fail(&L, L.line, "NUL byte in the file");
            break;
        }
        if (!content(line, (size_t)len)) continue;
        if (!decided) {
            decided = 1;
            out->format = is_matrix(line) ? WL_FLOWS_MATRIX : WL_FLOWS_CSV;
            if (out->format == WL_FLOWS_CSV) {
                csv_init(&cp, CSV_APPEND_NULL | CSV_STRICT);
                csv_ready = 1;
            }
        }
        if (out->format == WL_FLOWS_MATRIX) {
            matrix_line(&L, line);
        } else {
            if (csv_parse(&cp, line, (size_t)len, csv_on_field, csv_on_record, &L) != (size_t)len) {
                fail(&L, L.line, "%s", csv_strerror(csv_error(&cp)));
                break;
            }
            csv_fini(&cp, csv_on_field, csv_on_record, &L);
        }
    }
    int rerr = ferror(fp);
    free(line);
    fclose(fp);
    if (csv_ready) {
        for (int i = 0; i < 4 && i < L.nfields; i++) /* a row cut off by an error */
            free(L.field[i]);
        csv_free(&cp);
    }
    if (!L.failed && rerr) fail(&L, 0, "read error");
    if (!L.failed) finish(&L);
    free(L.td);
    free(L.tr);
    free(L.ids);
    if (L.failed) {
        wl_flows_free(out);
        return -1;
    }
    return 0;
}

void wl_flows_free(struct wl_flows *fl)
{
    free(fl->f);
    free(fl->wait);
    free(fl->order);
    memset(fl, 0, sizeof *fl);
}
