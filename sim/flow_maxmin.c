/* flow_maxmin.c - the flow engine's rates (flow_eng.h): weighted max-min
 * fairness by progressive filling, re-solved selectively, and the heap of
 * the subs' ends.
 *
 * Filling: every unfrozen sub runs at a common level x; a link with
 * remaining capacity rem (its capacity less the frozen subs' load) and
 * unfrozen weight sumw fills at x = rem / sumw. The link that fills first is
 * a bottleneck: its unfrozen subs freeze at that x, which takes their load
 * off their other links. A link's x never falls as others freeze (their
 * subs run at most at its x), so the links wait in a heap with lazy keys: a
 * popped key below the link's x now goes back in.
 *
 * Selective re-solve (exact). Filling from scratch freezes the subs in
 * increasing order of rate. A sub that ends had rate r: every link it
 * crossed fills at a level >= r, so below level r the filling without it
 * freezes the same subs at the same rates. A sub that starts gets at least
 * min over its links of cap / (the weight of every sub on it): on its
 * bottleneck it has the largest rate, so cap <= its rate * that weight; and
 * the subs below its new rate are those of the filling without it. So with
 * theta the least of these bounds over the instant's ends and starts, the
 * subs whose rate is below theta keep it: only the others (U) are filled,
 * with the rest as fixed loads. Among U only those connected, through links
 * that U subs share, to a link that changed can move: each group of U
 * apart from the changes fills as before. The search starts from the
 * touched links, takes a link's subs at or above theta (fresh ones too),
 * and the links of those; a link's fixed load is counted as it is read.
 * Two ways to it give the same subs, links and sums to the bit
 * (gather_first: every candidate's links first, then the search over the
 * candidates' lists; search_first: the search over the links' own lists,
 * then the sums over the subs reached, in the order of e->act): the second
 * pays when few of the candidates are connected to the changes (a ring's
 * start among an all-to-all's flows), the first when most are: deferred
 * re-solves take the search when the last one reached under a quarter of
 * its candidates, exact ones always gather (on dense exact phases the
 * search read more). tests/test_flow_eng.c checks it against filling
 * from scratch on random instances.
 *
 * Only a sub whose rate changes has its bytes brought to now (lazy
 * progress: left -= rate * elapsed) and its end re-keyed in the heap.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "sim/flow_eng.h"

int flow_maxmin_verify_all, flow_maxmin_check_load, flow_maxmin_search, flow_maxmin_sort_bits;
int flow_maxmin_fused = 1, flow_maxmin_segments = 1;

/* ---- the heap of ends: subs by (tend, index), 4-ary, keys inside ---- */

static int before(const struct fl_hent *a, const struct fl_hent *b)
{
    return a->t < b->t || (a->t == b->t && a->si < b->si);
}

static void heap_set(struct flow_eng *e, uint32_t i, struct fl_hent h)
{
    e->eh[i] = h;
    if (!e->defer) e->subs[h.si].hpos = i;
}

static void sift_up(struct flow_eng *e, uint32_t i)
{
    struct fl_hent h = e->eh[i];
    while (i) {
        uint32_t p = (i - 1) / 4;
        if (!before(&h, &e->eh[p])) break;
        heap_set(e, i, e->eh[p]);
        i = p;
    }
    heap_set(e, i, h);
}

static void sift_down(struct flow_eng *e, uint32_t i, uint32_t n)
{
    struct fl_hent h = e->eh[i];
    for (;;) {
        uint32_t c = 4 * i + 1, end = c + 4 < n ? c + 4 : n;
        if (c >= n) break;
        uint32_t m = c;
        for (uint32_t k = c + 1; k < end; k++)
            if (before(&e->eh[k], &e->eh[m])) m = k;
        if (!before(&e->eh[m], &h)) break;
        heap_set(e, i, e->eh[m]);
        i = m;
    }
    heap_set(e, i, h);
}

void flow_heap_update(struct flow_eng *e, uint32_t si)
{
    struct fl_sub *s = &e->subs[si];
    struct fl_hent h = {s->tend, si};
    if (s->hpos == FL_NONE || e->defer) { /* deferred: a new entry, the old one stale */
        if (e->neh == e->capeh) {
            e->capeh = e->capeh ? 2 * e->capeh : 1024;
            e->eh = xrealloc(e->eh, e->capeh * sizeof *e->eh);
        }
        uint32_t i = e->neh++;
        heap_set(e, i, h);
        sift_up(e, i);
        return;
    }
    e->eh[s->hpos] = h;
    sift_up(e, s->hpos);
    sift_down(e, s->hpos, e->neh);
}

static int stale(const struct flow_eng *e, const struct fl_hent *h)
{
    const struct fl_sub *s = &e->subs[h->si];
    return !s->active || s->fresh || s->tend != h->t;
}

static int cmp_si(const void *x, const void *y)
{
    uint32_t a = ((const struct fl_hent *)x)->si, b = ((const struct fl_hent *)y)->si;
    return (a > b) - (a < b);
}

static void sort_segment(struct flow_eng *e);

/* The sorted ends' run of equal tend at psrt (sorted by tend alone:
 * sort_gathered) put in order of sub: by insertion (a run is mostly in
 * order: a link's list is by sub), or qsort when it is far from it. */
static void fix_run(struct flow_eng *e)
{
    struct fl_hent *a = e->srt;
    uint32_t i = e->psrt, j = i + 1, n = e->nsrt;
    while (j < n && a[j].t == a[i].t)
        j++;
    e->srt_fixed = j;
    uint64_t moves = 0, most = 8 * (uint64_t)(j - i) + 64;
    for (uint32_t k = i + 1; k < j && moves <= most; k++) {
        struct fl_hent h = a[k];
        uint32_t m = k;
        while (m > i && a[m - 1].si > h.si) {
            a[m] = a[m - 1];
            m--;
        }
        moves += k - m;
        a[m] = h;
    }
    if (moves > most) qsort(a + i, j - i, sizeof *a, cmp_si);
}

const struct fl_hent *flow_heap_top(struct flow_eng *e)
{
    if (!e->defer) return e->neh ? &e->eh[0] : NULL;
    for (;;) { /* the run at psrt in order of sub first, then its stale entries passed */
        if (e->psrt >= e->nsrt) break;
        if (e->psrt >= e->srt_sorted) sort_segment(e);
        if (e->psrt >= e->srt_fixed) fix_run(e);
        if (!stale(e, &e->srt[e->psrt])) break;
        e->psrt++;
    }
    while (e->neh && stale(e, &e->eh[0])) {
        e->eh[0] = e->eh[--e->neh]; /* its sub ended or was re-keyed */
        if (e->neh) sift_down(e, 0, e->neh);
    }
    const struct fl_hent *a = e->psrt < e->nsrt ? &e->srt[e->psrt] : NULL;
    if (!e->neh) return a;
    return a && !before(&e->eh[0], a) ? a : &e->eh[0];
}

void flow_heap_remove(struct flow_eng *e, uint32_t si)
{
    struct fl_sub *s = &e->subs[si];
    if (e->defer) { /* only the top ends (end_due), after flow_heap_top */
        const struct fl_hent *a = e->psrt < e->nsrt ? &e->srt[e->psrt] : NULL;
        if (a && a->si == si && (!e->neh || !before(&e->eh[0], a))) {
            e->psrt++;
        } else if (e->neh && e->eh[0].si == si) {
            e->eh[0] = e->eh[--e->neh];
            if (e->neh) sift_down(e, 0, e->neh);
        }
        return;
    }
    uint32_t i = s->hpos;
    if (i == FL_NONE) return;
    s->hpos = FL_NONE;
    struct fl_hent last = e->eh[--e->neh];
    if (i == e->neh) return;
    heap_set(e, i, last);
    sift_up(e, i);
    sift_down(e, e->subs[last.si].hpos, e->neh);
}

/* (simtime_t)ceil(q) without the call into libm (x86-64's baseline has no
 * rounding instruction) for 0 <= q < 2^63: the truncation is exact there,
 * and one more when it falls below q; the same value. */
static inline simtime_t ceil_ps(double q)
{
    if (!(q >= 0 && q < 9.2e18)) return (simtime_t)ceil(q);
    simtime_t c = (simtime_t)q;
    return c + ((double)c < q);
}

/* ---- progressive filling ---- */

struct hent {
    double x;
    uint32_t link;
};

struct lheap {
    struct hent *a;
    uint32_t n, cap;
};

static void lh_push(struct lheap *h, double x, uint32_t link)
{
    if (h->n == h->cap) {
        h->cap = h->cap ? 2 * h->cap : 256;
        h->a = xrealloc(h->a, h->cap * sizeof *h->a);
    }
    uint32_t i = h->n++;
    struct hent *a = h->a;
    while (i) {
        uint32_t p = (i - 1) / 2;
        if (a[p].x < x || (a[p].x == x && a[p].link < link)) break;
        a[i] = a[p];
        i = p;
    }
    a[i] = (struct hent){x, link};
}

static struct hent lh_pop(struct lheap *h)
{
    struct hent *a = h->a, top = a[0], last = a[--h->n];
    uint32_t i = 0, n = h->n;
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n &&
            (a[c + 1].x < a[c].x || (a[c + 1].x == a[c].x && a[c + 1].link < a[c].link)))
            c++;
        if (last.x < a[c].x || (last.x == a[c].x && last.link < a[c].link)) break;
        a[i] = a[c];
        i = c;
    }
    a[i] = last;
    return top;
}

static void grow(uint32_t **a, uint32_t *cap, uint32_t need)
{
    if (need <= *cap) return;
    while (*cap < need)
        *cap = *cap ? 2 * *cap : 256;
    *a = xrealloc(*a, *cap * sizeof **a);
}

/* Fills the links ls[0, nl) whose rem, sumw and nun are set, over their
 * candidate subs (csr) that are not frozen, into their nrate; no level falls
 * below floor (the bound the selective re-solve proves: it only absorbs
 * rounding). */
static void fill(struct flow_eng *e, const uint32_t *ls, uint32_t nl, double floor)
{
    static __thread struct lheap h;
    h.n = 0;
    for (uint32_t i = 0; i < nl; i++) {
        const struct fl_link *l = &e->links[ls[i]];
        if (l->nun) lh_push(&h, l->rem > 0 ? l->rem / l->sumw : 0, ls[i]);
    }
    while (h.n) {
        struct hent top = lh_pop(&h);
        struct fl_link *l = &e->links[top.link];
        if (!l->nun) continue;
        double x = l->rem > 0 ? l->rem / l->sumw : top.x; /* rounding: keep the key */
        if (x > top.x * (1 + 1e-12) + 1e-300) {
            lh_push(&h, x, top.link);
            continue;
        }
        if (x < floor) x = floor;
        const uint32_t *csr = e->csr, j1 = l->off + l->cnt; /* (locals: see full_update) */
        struct fl_sub *subs = e->subs;
        const struct fl_use *uses = e->uses;
        struct fl_link *links = e->links;
        for (uint32_t j = l->off; j < j1; j++) {
            struct fl_sub *s = &subs[csr[j]];
            if (s->frozen) continue;
            s->frozen = 1;
            s->nrate = x;
            const struct fl_use *us = &uses[s->use0];
            for (uint32_t u = 0, nu = s->nuse; u < nu; u++) {
                struct fl_link *o = &links[us[u].link];
                double w = us[u].w;
                o->rem -= w * x;
                o->sumw -= w;
                o->nun--;
            }
        }
    }
}

/* The candidate subs cs[0, ns) (marked with epoch ep): their links into
 * e->cl with rem = cap less the others' load (exact = 1: the candidates are
 * every active sub, rem = cap), sumw and the subs per link in e->csr;
 * returns the number of links. */
static uint32_t gather(struct flow_eng *e, uint32_t ns, uint32_t ep, int exact)
{
    uint32_t nl = 0;
    for (uint32_t i = 0; i < ns; i++) {
        const struct fl_sub *s = &e->subs[e->cs[i]];
        double r = s->fresh ? 0 : s->rate;
        for (uint32_t u = 0; u < s->nuse; u++) {
            const struct fl_use *us = &e->uses[s->use0 + u];
            struct fl_link *l = &e->links[us->link];
            if (l->mark != ep) {
                l->mark = ep;
                l->cnt = 0;
                l->rem = exact ? l->cap : l->cap - l->load;
                l->sumw = 0;
                grow(&e->cl, &e->capcl, nl + 1);
                e->cl[nl++] = us->link;
            }
            l->cnt++;
            if (!exact) l->rem += us->w * r;
            l->sumw += us->w;
        }
    }
    uint32_t off = 0;
    for (uint32_t i = 0; i < nl; i++) {
        struct fl_link *l = &e->links[e->cl[i]];
        l->off = off;
        off += l->cnt;
        l->nun = l->cnt;
        l->cnt = 0;
    }
    grow(&e->csr, &e->capcsr, off);
    for (uint32_t i = 0; i < ns; i++) {
        const struct fl_sub *s = &e->subs[e->cs[i]];
        for (uint32_t u = 0; u < s->nuse; u++) {
            struct fl_link *l = &e->links[e->uses[s->use0 + u].link];
            e->csr[l->off + l->cnt++] = e->cs[i];
        }
    }
    return nl;
}

/* One stable counting-sort pass of a[0, n) into b on byte `sh` of
 * KEY(a[i]) - LO (the key: the end, or the sub). */
#define RADIX_PASS(KEY, LO)                                                                        \
    do {                                                                                           \
        uint32_t cnt[257] = {0};                                                                   \
        for (uint32_t i = 0; i < n; i++)                                                           \
            cnt[((KEY(a[i]) - (LO)) >> sh & 0xff) + 1]++;                                          \
        for (int k = 0; k < 256; k++)                                                              \
            cnt[k + 1] += cnt[k];                                                                  \
        for (uint32_t i = 0; i < n; i++)                                                           \
            b[cnt[(KEY(a[i]) - (LO)) >> sh & 0xff]++] = a[i];                                      \
        struct fl_hent *tmp = a;                                                                   \
        a = b;                                                                                     \
        b = tmp;                                                                                   \
    } while (0)
#define KEY_SI(h) (uint64_t)(h).si

/* The passes of sort_ends on tend - lo over a[0, n) (b: scratch of n),
 * stable; returns the array that holds the result (a or b). */
static struct fl_hent *sort_on_t(struct fl_hent *a, struct fl_hent *b, uint32_t n, simtime_t lo,
                                 simtime_t span)
{
    int bits = flow_maxmin_sort_bits >= 5 && flow_maxmin_sort_bits <= 11 ? flow_maxmin_sort_bits
               : n >= 8192                                               ? 11
                                                                         : 8;
    uint32_t mask = (1u << bits) - 1;
    for (int sh = 0; sh < 64 && (span >> sh); sh += bits) {
        static __thread uint32_t cnt[(1 << 11) + 1];
        memset(cnt, 0, ((size_t)mask + 2) * sizeof cnt[0]);
        for (uint32_t i = 0; i < n; i++)
            cnt[((a[i].t - lo) >> sh & mask) + 1]++;
        for (uint32_t k = 0; k < mask; k++)
            cnt[k + 1] += cnt[k];
        for (uint32_t i = 0; i < n; i++)
            b[cnt[(a[i].t - lo) >> sh & mask]++] = a[i];
        struct fl_hent *tmp = a;
        a = b;
        b = tmp;
    }
    return a;
}

/* Deferred: the ends of every active sub sorted by (tend, sub) into e->srt
 * (a least-significant-digit radix sort: the entries in increasing order
 * of sub, read from the subs in order when the ended ones are few, else
 * from e->act and sorted by sub; then stable passes on the digits of tend
 * that differ, bytes or, from 8192 entries on, 11 bits), the heap of
 * re-keys emptied (its entries are stale or the same as srt's). */
static void sort_ends(struct flow_eng *e)
{
    uint32_t n = e->live_subs;
    if (e->capsrt < n) {
        e->capsrt = n;
        e->srt = xrealloc(e->srt, n * sizeof *e->srt);
        e->srt2 = xrealloc(e->srt2, n * sizeof *e->srt2);
    }
    struct fl_hent *a = e->srt, *b = e->srt2;
    simtime_t lo = SIMTIME_MAX, hi = 0;
    if (e->nsubs <= 4 * (uint64_t)n) {
        uint32_t k = 0;
        for (uint32_t si = 0; si < e->nsubs && k < n; si++)
            if (e->subs[si].active) a[k++] = (struct fl_hent){e->subs[si].tend, si};
    } else {
        uint32_t slo = UINT32_MAX, shi = 0;
        for (uint32_t i = 0; i < n; i++) {
            uint32_t si = e->act[i];
            a[i] = (struct fl_hent){e->subs[si].tend, si};
            if (si < slo) slo = si;
            if (si > shi) shi = si;
        }
        uint64_t sspan = n ? shi - slo : 0;
        for (int sh = 0; sh < 32 && (sspan >> sh); sh += 8)
            RADIX_PASS(KEY_SI, (uint64_t)slo);
    }
    for (uint32_t i = 0; i < n; i++) {
        if (a[i].t < lo) lo = a[i].t;
        if (a[i].t > hi) hi = a[i].t;
    }
    simtime_t span = n ? hi - lo : 0;
    /* the passes on tend: digits of 11 bits when there are many entries (a
     * span of 2^32 ps in 3 passes, not 4; the counts' clearing and sums pay
     * from there on) */
    struct fl_hent *r = sort_on_t(a, b, n, lo, span);
    if (r != a) b = a, a = r;
    e->srt = a;
    e->srt2 = b;
    e->nsrt = n;
    e->psrt = 0;
    e->srt_fixed = e->srt_sorted = n; /* in order of sub already */
    e->neh = 0;
}

/* Below this many ends sort_gathered sorts them all at once. */
#define SEG_MIN 8192

/* Deferred, after a full re-solve that froze every active sub (fused into
 * its filling, flow_maxmin_fused): their ends e->srt2[0, n), in the order
 * they froze, with the least and largest tend, put by tend into e->srt
 * without reading the subs again: all the passes at once when they are
 * few, else one pass on tend's top digit (11 bits: e->sbk, the buckets'
 * bounds) and the buckets' own passes on the lower digits only when the
 * ends reach them (sort_segment: most of the ends sorted at a full
 * re-solve are sorted again at the next one before they are taken); the
 * subs of equal tend put in order of sub only when the ends reach them
 * (fix_run), so the ends are taken in sort_ends' order. */
static void sort_gathered(struct flow_eng *e, uint32_t n, simtime_t lo, simtime_t hi)
{
    simtime_t span = n ? hi - lo : 0;
    e->nsrt = n;
    e->psrt = 0;
    e->srt_fixed = 0;
    e->neh = 0;
    if (n < SEG_MIN || !flow_maxmin_segments || span < 2048) {
        struct fl_hent *a = sort_on_t(e->srt2, e->srt, n, lo, span);
        e->srt2 = a == e->srt ? e->srt2 : e->srt;
        e->srt = a;
        e->srt_sorted = n;
        return;
    }
    int sh = 0;
    while (span >> sh >= 2048)
        sh++;
    if (!e->sbk) e->sbk = xmalloc(2049 * sizeof *e->sbk);
    uint32_t *bk = e->sbk;
    memset(bk, 0, 2049 * sizeof *bk);
    const struct fl_hent *g = e->srt2;
    struct fl_hent *a = e->srt;
    for (uint32_t i = 0; i < n; i++)
        bk[((g[i].t - lo) >> sh) + 1]++;
    for (uint32_t k = 0; k < 2048; k++)
        bk[k + 1] += bk[k];
    /* bk[k] is bucket k's start after the scatter; kept as its bound */
    static __thread uint32_t pos[2048];
    memcpy(pos, bk, sizeof pos);
    for (uint32_t i = 0; i < n; i++)
        a[pos[(g[i].t - lo) >> sh]++] = g[i];
    e->sbi = 0;
    e->srt_sorted = 0;
    e->seg_want = n / 8 > SEG_MIN / 2 ? n / 8 : SEG_MIN / 2;
}

/* The next buckets of the sorted ends (sort_gathered), at least seg_want
 * entries of them, sorted by tend (their passes on the digits below the
 * top one) in place. */
static void sort_segment(struct flow_eng *e)
{
    const uint32_t *bk = e->sbk;
    uint32_t b0 = bk[e->sbi], k = e->sbi;
    while (k < 2048 && bk[k + 1] - b0 < e->seg_want)
        k++;
    if (k < 2048) k++;
    e->sbi = k;
    uint32_t b1 = bk[k];
    struct fl_hent *a = e->srt + b0;
    uint32_t n = b1 - b0;
    simtime_t lo = SIMTIME_MAX, hi = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (a[i].t < lo) lo = a[i].t;
        if (a[i].t > hi) hi = a[i].t;
    }
    struct fl_hent *r = sort_on_t(a, e->srt2, n, lo, n ? hi - lo : 0);
    if (r != a) memcpy(a, r, (size_t)n * sizeof *a);
    e->srt_sorted = b1;
}

void flow_heap_sort_rest(struct flow_eng *e)
{
    while (e->defer && e->srt_sorted < e->nsrt)
        sort_segment(e);
}

/* Rebuilds the heap of ends from e->act (every active sub has a rate):
 * the order of (tend, sub) is total, so the ends pop in the same order as
 * after re-keying each sub. */
static void heap_rebuild(struct flow_eng *e)
{
    if (e->defer) {
        sort_ends(e);
        return;
    }
    if (e->capeh < e->live_subs) {
        e->capeh = e->live_subs;
        e->eh = xrealloc(e->eh, e->capeh * sizeof *e->eh);
    }
    e->neh = e->live_subs;
    for (uint32_t i = 0; i < e->neh; i++) {
        uint32_t si = e->act[i];
        heap_set(e, i, (struct fl_hent){e->subs[si].tend, si});
    }
    for (uint32_t i = e->neh / 4 + 1; i-- > 0;)
        if (i < e->neh) sift_down(e, i, e->neh);
}

/* Deferred re-solves (flow.resolve_window, flow.resolve_slack) whose
 * candidates are most of the active subs: every active sub filled from
 * scratch over the links' own lists (no candidate lists, no search: the
 * rates the selective re-solve would give, up to rounding, as its header
 * argues), the links' loads summed as the subs freeze, and the heap of ends
 * rebuilt when many rates changed. */
static void full_update(struct flow_eng *e, simtime_t now)
{
    static __thread struct lheap h;
    uint32_t ep = ++e->epoch;
    h.n = 0;
    /* fused (flow_maxmin_fused): each sub's new rate and end as it freezes,
     * the ends gathered in e->srt2 (scratch: e->srt keeps the ends in use
     * until they are rebuilt) for sort_gathered */
    int fused = flow_maxmin_fused;
    uint32_t changed = 0, nfz = 0;
    simtime_t tlo = SIMTIME_MAX, thi = 0;
    if (e->capsrt < e->live_subs) {
        e->capsrt = e->live_subs;
        e->srt = xrealloc(e->srt, e->capsrt * sizeof *e->srt);
        e->srt2 = xrealloc(e->srt2, e->capsrt * sizeof *e->srt2);
    }
    struct fl_hent *gends = e->srt2;
    /* the filling's fields of the links, dense (e->lhot by link: 32 bytes,
     * 2 links a cache line), written back to the links after it */
    if (e->caplhot < e->ncons) {
        e->caplhot = e->ncons;
        e->lhot = xrealloc(e->lhot, e->caplhot * sizeof *e->lhot);
    }
    struct fl_lhot *hot = e->lhot;
    /* the links with subs (e->ul; the order does not matter: the heap's is
     * (level, link)), those without any left out of it */
    for (uint32_t k = 0; k < e->nul;) {
        uint32_t i = e->ul[k];
        struct fl_link *l = &e->links[i];
        l->load = 0;
        l->nun = l->nlive;
        if (!l->nlive) { /* every use on it ended: none read again */
            l->n = 0;
            l->inul = 0;
            e->ul[k] = e->ul[--e->nul];
            continue;
        }
        k++;
        if (l->n > 2 * l->nlive + 16) { /* drop the ended subs' uses */
            uint32_t m = 0;
            for (uint32_t j = 0; j < l->n; j++)
                if (e->fep[l->sid[j]] != FL_DEAD) {
                    l->sid[m] = l->sid[j];
                    l->uses[m++] = l->uses[j];
                }
            l->n = m;
        }
        hot[i] = (struct fl_lhot){l->cap, l->wsum, 0, l->nlive, 0};
        lh_push(&h, hot[i].rem / hot[i].sumw, i);
    }
    while (h.n) {
        struct hent top = lh_pop(&h);
        struct fl_lhot *l = &hot[top.link];
        if (!l->nun) continue;
        double x = l->rem > 0 && l->sumw > 0 ? l->rem / l->sumw : top.x;
        if (x > top.x * (1 + 1e-12) + 1e-300) {
            lh_push(&h, x, top.link);
            continue;
        }
        if (x < 0) x = 0;
        /* (the arrays and counts in locals: the stores to the links' fields
         * could alias them otherwise, and be read again at every use) */
        const uint32_t *sid = e->links[top.link].sid, n = e->links[top.link].n;
        uint32_t *fep = e->fep;
        struct fl_sub *subs = e->subs;
        const struct fl_use *uses = e->uses;
        for (uint32_t j = 0; j < n; j++) {
            uint32_t si = sid[j];
            if (fep[si] >= ep) continue; /* frozen now, or ended (FL_DEAD) */
            fep[si] = ep;
            struct fl_sub *s = &subs[si];
            s->nrate = x;
            const struct fl_use *us = &uses[s->use0];
            for (uint32_t u = 0, nu = s->nuse; u < nu; u++) {
                struct fl_lhot *o = &hot[us[u].link];
                double w = us[u].w;
                o->rem -= w * x;
                o->sumw -= w;
                o->load += w * x;
                o->nun--;
            }
            if (!fused) continue;
            /* its new rate at once (the loop below, while the sub is in
             * the cache; nothing in the filling reads a sub's rate) */
            if (s->fresh || x != s->rate) {
                double old = s->fresh ? 0 : s->rate;
                if (!s->fresh && fabs(x - old) > 1e-6 * old) e->big_changes++;
                s->left -= old * (double)(now - s->t_upd);
                if (s->left < 0) s->left = 0;
                s->t_upd = now;
                s->rate = x;
                e->arate[s->apos] = x;
                s->fresh = 0;
                s->tend = now + ceil_ps(s->left / x);
                changed++;
            }
            simtime_t te = s->tend;
            if (te < tlo) tlo = te;
            if (te > thi) thi = te;
            gends[nfz++] = (struct fl_hent){te, si};
        }
    }
    for (uint32_t k = 0; k < e->nul; k++) {
        uint32_t i = e->ul[k];
        struct fl_link *l = &e->links[i];
        l->rem = hot[i].rem;
        l->sumw = hot[i].sumw;
        l->load = hot[i].load;
        l->nun = hot[i].nun;
    }
    /* fused: every active sub froze (each is on a link with subs), their
     * ends in gends; else (or a sub on no link) the pass over e->act */
    if (fused && nfz != e->live_subs) fused = -1;
    for (uint32_t i = 0; fused <= 0 && i < e->live_subs; i++) {
        struct fl_sub *s = &e->subs[e->act[i]];
        if (fused && e->fep[e->act[i]] == ep) continue; /* done above */
        if (!s->fresh && s->nrate == s->rate) continue;
        double old = s->fresh ? 0 : s->rate;
        if (!s->fresh && fabs(s->nrate - old) > 1e-6 * old) e->big_changes++;
        s->left -= old * (double)(now - s->t_upd);
        if (s->left < 0) s->left = 0;
        s->t_upd = now;
        s->rate = s->nrate;
        e->arate[i] = s->rate;
        s->fresh = 0;
        s->tend = now + ceil_ps(s->left / s->rate);
        changed++;
    }
    e->rate_changes += changed;
    e->filled_subs += e->live_subs;
    e->cand_subs += e->live_subs;
    if (changed > e->live_subs / 8) {
        if (fused > 0)
            sort_gathered(e, nfz, tlo, thi);
        else
            heap_rebuild(e);
        return;
    }
    for (uint32_t i = 0; i < e->live_subs; i++) {
        uint32_t si = e->act[i];
        if (e->subs[si].t_upd == now) flow_heap_update(e, si);
    }
}

/* The selective re-solve's subs, searched from the touched links over the
 * links' own lists (cheaper than gather_first when few candidates are
 * connected to the changes): a link reached is marked ep and listed in
 * e->rl, a sub reached (a candidate: fresh or at cut or above) has reach =
 * ep and its position's bit set; then their links' remaining capacity
 * (less the others' load), unfrozen weight and subs are summed in the order
 * of e->act, as gather_first does (every candidate on a reached link is
 * reached, so those sums are the same). The reached subs go to e->cs in
 * that order; returns their number, *nrp the links'. */
static uint32_t search_first(struct flow_eng *e, uint32_t ep, double cut, uint32_t *nrp)
{
    uint32_t nr = 0, nsr = 0;
    uint32_t nw = (e->live_subs + 63) / 64;
    if (e->caprbits < nw) {
        uint32_t old = e->caprbits;
        e->caprbits = nw > 2 * old ? nw : 2 * old;
        e->rbits = xrealloc(e->rbits, e->caprbits * sizeof *e->rbits);
        for (uint32_t i = old; i < e->caprbits; i++)
            e->rbits[i] = 0;
    }
    for (uint32_t i = 0; i < e->ntouched; i++) {
        struct fl_link *l = &e->links[e->touched[i]];
        if (l->mark == ep) continue;
        l->mark = ep;
        grow(&e->rl, &e->caprl, nr + 1);
        e->rl[nr++] = e->touched[i];
    }
    e->ntouched = 0;
    e->tgen++;
    for (uint32_t i = 0; i < nr; i++) {
        struct fl_link *l = &e->links[e->rl[i]];
        if (e->defer && l->n > 2 * l->nlive + 16) { /* drop the ended subs' uses (full_update) */
            uint32_t k = 0;
            for (uint32_t j = 0; j < l->n; j++)
                if (e->fep[l->sid[j]] != FL_DEAD) {
                    l->sid[k] = l->sid[j];
                    l->uses[k++] = l->uses[j];
                }
            l->n = k;
        }
        for (uint32_t j = 0; j < l->n; j++) {
            struct fl_sub *s = &e->subs[l->sid[j]];
            if (s->reach == ep || !s->active || (!s->fresh && s->rate < cut)) continue;
            s->reach = ep;
            s->frozen = 0;
            e->rbits[s->apos / 64] |= (uint64_t)1 << (s->apos % 64);
            nsr++;
            for (uint32_t u = 0; u < s->nuse; u++) {
                uint32_t li = e->uses[s->use0 + u].link;
                struct fl_link *o = &e->links[li];
                if (o->mark == ep) continue;
                o->mark = ep;
                grow(&e->rl, &e->caprl, nr + 1);
                e->rl[nr++] = li;
            }
        }
    }
    for (uint32_t i = 0; i < nr; i++) {
        struct fl_link *l = &e->links[e->rl[i]];
        l->cnt = 0;
        l->rem = l->cap - l->load;
        l->sumw = 0;
    }
    grow(&e->cs, &e->capcs, nsr);
    uint32_t k = 0;
    for (uint32_t w = 0; w < nw && k < nsr; w++) {
        uint64_t b = e->rbits[w];
        if (!b) continue;
        e->rbits[w] = 0;
        while (b) {
            uint32_t si = e->act[64 * w + (uint32_t)__builtin_ctzll(b)];
            b &= b - 1;
            e->cs[k++] = si;
            const struct fl_sub *s = &e->subs[si];
            double r = s->fresh ? 0 : s->rate;
            for (uint32_t u = 0; u < s->nuse; u++) {
                const struct fl_use *us = &e->uses[s->use0 + u];
                struct fl_link *o = &e->links[us->link];
                o->cnt++;
                o->rem += us->w * r;
                o->sumw += us->w;
            }
        }
    }
    uint32_t off = 0;
    for (uint32_t i = 0; i < nr; i++) {
        struct fl_link *l = &e->links[e->rl[i]];
        l->off = off;
        off += l->cnt;
        l->nun = l->cnt;
        l->cnt = 0;
    }
    grow(&e->csr, &e->capcsr, off);
    for (uint32_t i = 0; i < nsr; i++) {
        const struct fl_sub *s = &e->subs[e->cs[i]];
        for (uint32_t u = 0; u < s->nuse; u++) {
            struct fl_link *o = &e->links[e->uses[s->use0 + u].link];
            e->csr[o->off + o->cnt++] = e->cs[i];
        }
    }
    *nrp = nr;
    return nsr;
}

/* The selective re-solve's subs as it was first written: every candidate's
 * (e->cs[0, ns)) links gathered (gather), then those connected through candidates' links
 * to a touched link searched over the candidates' lists (e->csr): the
 * reached ones are those of e->cs[0, ns) with reach = ep; returns their
 * number, *nrp the links' (e->rl). */
static uint32_t gather_first(struct flow_eng *e, uint32_t ep, uint32_t ns, uint32_t *nrp)
{
    gather(e, ns, ep, 0);
    uint32_t nr = 0;
    for (uint32_t i = 0; i < e->ntouched; i++) {
        struct fl_link *l = &e->links[e->touched[i]];
        if (l->mark != ep || l->nun == UINT32_MAX) continue;
        l->nun = UINT32_MAX; /* reached; set back below */
        grow(&e->rl, &e->caprl, nr + 1);
        e->rl[nr++] = e->touched[i];
    }
    e->ntouched = 0;
    e->tgen++;
    uint32_t nsr = 0;
    for (uint32_t i = 0; i < nr; i++) {
        struct fl_link *l = &e->links[e->rl[i]];
        for (uint32_t j = l->off; j < l->off + l->cnt; j++) {
            struct fl_sub *s = &e->subs[e->csr[j]];
            if (s->reach == ep) continue;
            s->reach = ep;
            s->frozen = 0;
            nsr++;
            for (uint32_t u = 0; u < s->nuse; u++) {
                uint32_t li = e->uses[s->use0 + u].link;
                struct fl_link *o = &e->links[li];
                if (o->nun == UINT32_MAX) continue;
                o->nun = UINT32_MAX;
                grow(&e->rl, &e->caprl, nr + 1);
                e->rl[nr++] = li;
            }
        }
    }
    for (uint32_t i = 0; i < nr; i++) {
        struct fl_link *l = &e->links[e->rl[i]];
        l->nun = l->cnt;
    }
    *nrp = nr;
    return nsr;
}

void flow_maxmin_update(struct flow_eng *e)
{
    simtime_t now = e->now;
    e->recomputes++;
    /* theta: the least rate ended, and the least rate a new sub can get */
    double theta = e->theta;
    for (uint32_t i = 0; i < e->nfresh; i++) {
        const struct fl_sub *s = &e->subs[e->fresh[i]];
        for (uint32_t u = 0; u < s->nuse; u++) {
            uint32_t li = e->uses[s->use0 + u].link;
            struct fl_link *l = &e->links[li];
            double b = l->cap / l->wsum;
            if (b < theta) theta = b;
            if (e->defer && !l->inul) { /* a link with subs: in e->ul */
                l->inul = 1;
                grow(&e->ul, &e->capul, e->nul + 1);
                e->ul[e->nul++] = li;
            }
        }
    }
    double cut = theta * (1 - 1e-9);
    /* the candidates: the subs at or above cut, the new ones among them (one
     * pass without branches: every sub written, the candidates kept) */
    uint32_t ns = 0;
    if (e->defer) { /* counted first: a full re-solve needs no list */
        for (uint32_t i = 0; i < e->live_subs; i++)
            ns += e->arate[i] >= cut;
    }
    if (!e->defer || ns <= e->live_subs / 2) {
        ns = 0;
        grow(&e->cs, &e->capcs, e->live_subs);
        for (uint32_t i = 0; i < e->live_subs; i++) {
            e->cs[ns] = e->act[i];
            ns += e->arate[i] >= cut;
        }
    }
    if (e->defer && ns > e->live_subs / 2) {
        /* most of the subs are candidates: fill them all (full_update) */
        e->nfresh = 0;
        e->theta = INFINITY;
        e->ntouched = 0;
        e->tgen++;
        full_update(e, now);
        goto checks;
    }
    uint32_t ep = ++e->epoch;
    e->nfresh = 0;
    e->theta = INFINITY;
    /* the candidates connected through their links to a link that changed:
     * the same subs, links and sums either way, so the cheaper one by the
     * last re-solve's share of candidates reached */
    uint32_t nr, nsr, nc; /* the reached subs are those of e->cs[0, nc) with reach = ep */
    if (flow_maxmin_search == 1 ||
        (!flow_maxmin_search && e->defer && 4 * (uint64_t)e->last_reached < e->last_cands))
        nc = nsr = search_first(e, ep, cut, &nr);
    else
        nsr = gather_first(e, ep, ns, &nr), nc = ns;
    e->last_reached = nsr;
    e->last_cands = ns;
    e->filled_subs += nsr;
    e->cand_subs += ns;
    fill(e, e->rl, nr, ns && theta < INFINITY ? cut : 0);
    /* new rates: bytes brought to now, loads, ends */
    for (uint32_t i = 0; i < nc; i++) {
        uint32_t si = e->cs[i];
        struct fl_sub *s = &e->subs[si];
        if (s->reach != ep || (!s->fresh && s->nrate == s->rate)) continue;
        double old = s->fresh ? 0 : s->rate;
        if (!s->fresh && fabs(s->nrate - old) > 1e-6 * old) e->big_changes++;
        s->left -= old * (double)(now - s->t_upd);
        if (s->left < 0) s->left = 0;
        s->t_upd = now;
        for (uint32_t u = 0; u < s->nuse; u++) {
            const struct fl_use *us = &e->uses[s->use0 + u];
            e->links[us->link].load += us->w * (s->nrate - old);
        }
        s->rate = s->nrate;
        e->arate[s->apos] = s->rate;
        s->fresh = 0;
        s->tend = now + ceil_ps(s->left / s->rate);
        e->rate_changes++;
        flow_heap_update(e, si);
    }
checks:
    if (flow_maxmin_verify_all) {
        double d = flow_maxmin_verify(e);
        if (d > e->verify_err) e->verify_err = d;
    }
    if (flow_maxmin_check_load) {
        double d = flow_maxmin_overload(e);
        if (d > e->overload) e->overload = d;
    }
}

void flow_maxmin_reset(struct flow_eng *e)
{
    for (uint32_t i = 0; i < e->nul; i++)
        e->links[e->ul[i]].inul = 0;
    e->nul = 0;
}

double flow_maxmin_overload(const struct flow_eng *e)
{
    double worst = 0;
    for (uint32_t i = 0; i < e->ncons; i++) {
        const struct fl_link *l = &e->links[i];
        double load = 0; /* summed afresh, not the running l->load */
        for (uint32_t j = 0; j < l->n; j++) {
            const struct fl_use *us = &e->uses[l->uses[j]];
            const struct fl_sub *s = &e->subs[us->sub];
            if (!s->fresh) load += us->w * s->rate;
        }
        if (load / l->cap - 1 > worst) worst = load / l->cap - 1;
    }
    return worst;
}

double flow_maxmin_verify(struct flow_eng *e)
{
    uint32_t ep = ++e->epoch, ns = 0;
    grow(&e->cs, &e->capcs, e->live_subs);
    for (uint32_t i = 0; i < e->nsubs; i++) {
        struct fl_sub *s = &e->subs[i];
        if (!s->active) continue;
        s->mark = ep;
        s->frozen = 0;
        e->cs[ns++] = i;
    }
    uint32_t nl = gather(e, ns, ep, 1);
    fill(e, e->cl, nl, 0);
    double worst = 0;
    for (uint32_t i = 0; i < ns; i++) {
        const struct fl_sub *s = &e->subs[e->cs[i]];
        double d = fabs(s->nrate - s->rate) / s->nrate;
        if (d > worst) worst = d;
    }
    return worst;
}
