/* flow_maxmin.c - the flow engine's rates (flow_eng.h): weighted max-min
 * fairness by progressive filling, over the connected component of the
 * links touched at this instant.
 *
 * Components: two subs are connected when they share a link; rates in one
 * component do not depend on any other, so a start or an end changes only
 * the rates of its component. The search starts from the touched links and
 * alternates links and the subs on them.
 *
 * Filling: every unfrozen sub of the component runs at a common level x; a
 * link with remaining capacity rem (its capacity less the frozen subs'
 * load) and unfrozen weight sumw fills at x = rem / sumw. The link that
 * fills first is a bottleneck: its unfrozen subs freeze at that x, which
 * takes their load off their other links. A link's x never falls as others
 * freeze (their subs run at most at its x), so the links wait in a heap
 * with lazy keys: a popped key below the link's x now goes back in.
 */
#include <math.h>
#include <stdlib.h>

#include "base/err.h"
#include "sim/flow_eng.h"

struct hent {
    double x;
    uint32_t link;
};

static void heap_push(struct hent **h, uint32_t *n, uint32_t *cap, double x, uint32_t link)
{
    if (*n == *cap) {
        *cap = *cap ? 2 * *cap : 256;
        *h = xrealloc(*h, *cap * sizeof **h);
    }
    uint32_t i = (*n)++;
    struct hent *a = *h;
    while (i) {
        uint32_t p = (i - 1) / 2;
        if (a[p].x < x || (a[p].x == x && a[p].link < link)) break;
        a[i] = a[p];
        i = p;
    }
    a[i] = (struct hent){x, link};
}

static struct hent heap_pop(struct hent *a, uint32_t *n)
{
    struct hent top = a[0], last = a[--*n];
    uint32_t i = 0;
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= *n) break;
        if (c + 1 < *n &&
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

/* The links and subs connected to the touched links, into e->cl, e->cs. */
static void component(struct flow_eng *e, uint32_t *ncl, uint32_t *ncs)
{
    uint32_t ep = ++e->epoch, nl = 0, ns = 0;
    for (uint32_t i = 0; i < e->ntouched; i++) {
        struct fl_link *l = &e->links[e->touched[i]];
        if (l->mark == ep) continue;
        l->mark = ep;
        grow(&e->cl, &e->capcl, nl + 1);
        e->cl[nl++] = e->touched[i];
    }
    for (uint32_t i = 0; i < nl; i++) {
        struct fl_link *l = &e->links[e->cl[i]];
        for (uint32_t j = 0; j < l->n; j++) {
            struct fl_sub *s = &e->subs[l->subs[j]];
            if (s->mark == ep) continue;
            s->mark = ep;
            grow(&e->cs, &e->capcs, ns + 1);
            e->cs[ns++] = l->subs[j];
            for (uint32_t u = 0; u < s->nuse; u++) {
                uint32_t li = e->uses[s->use0 + u].link;
                if (e->links[li].mark == ep) continue;
                e->links[li].mark = ep;
                grow(&e->cl, &e->capcl, nl + 1);
                e->cl[nl++] = li;
            }
        }
    }
    *ncl = nl;
    *ncs = ns;
}

void flow_maxmin_update(struct flow_eng *e)
{
    static __thread struct hent *heap;
    static __thread uint32_t caph;
    uint32_t nl, ns, nh = 0;
    component(e, &nl, &ns);
    e->ntouched = 0;
    e->recomputes++;
    e->filled_subs += ns;
    simtime_t now = e->now;
    for (uint32_t i = 0; i < nl; i++) {
        struct fl_link *l = &e->links[e->cl[i]];
        l->rem = l->cap;
        l->sumw = 0;
        l->nun = 0;
    }
    for (uint32_t i = 0; i < ns; i++) {
        struct fl_sub *s = &e->subs[e->cs[i]];
        s->left -= s->rate * (double)(now - s->t_upd);
        if (s->left < 0) s->left = 0;
        s->t_upd = now;
        s->frozen = 0;
        for (uint32_t u = 0; u < s->nuse; u++) {
            const struct fl_use *us = &e->uses[s->use0 + u];
            e->links[us->link].sumw += us->w;
            e->links[us->link].nun++;
        }
    }
    for (uint32_t i = 0; i < nl; i++) {
        struct fl_link *l = &e->links[e->cl[i]];
        if (l->nun) heap_push(&heap, &nh, &caph, l->rem / l->sumw, e->cl[i]);
    }
    while (nh) {
        struct hent h = heap_pop(heap, &nh);
        struct fl_link *l = &e->links[h.link];
        if (!l->nun) continue;
        double x = l->rem > 0 ? l->rem / l->sumw : h.x; /* rounding: keep the key */
        if (x > h.x * (1 + 1e-12) + 1e-300) {
            heap_push(&heap, &nh, &caph, x, h.link);
            continue;
        }
        for (uint32_t j = 0; j < l->n; j++) {
            struct fl_sub *s = &e->subs[l->subs[j]];
            if (s->frozen) continue;
            s->frozen = 1;
            s->rate = x;
            s->tend = now + (simtime_t)ceil(s->left / x);
            for (uint32_t u = 0; u < s->nuse; u++) {
                const struct fl_use *us = &e->uses[s->use0 + u];
                struct fl_link *o = &e->links[us->link];
                o->rem -= us->w * x;
                o->sumw -= us->w;
                o->nun--;
            }
        }
    }
}
