/* flow_group.c - the flow engine's groups of equal links (flow_eng.h).
 *
 * A spreading sub (spray, spray_rr, adaptive) from leaf la to leaf lb
 * crosses every uplink of la and every downlink into lb, each with weight
 * bytes / npaths / size (the members' mean: the byte remainder of npaths
 * goes to the first paths' links, one byte each, which only the links'
 * byte counts keep). On a leaf-spine whose npaths uplinks of a leaf are
 * distinct links of one speed, and the same for the downlinks into a leaf,
 * every sub that crosses one uplink of la crosses them all with the same
 * weight (nothing else crosses fabric links in these modes), so the links
 * of a group have the same capacity, the same subs and the same weights:
 * in progressive filling their remaining capacity and unfrozen weight stay
 * equal, they fill at the same level and freeze the same subs. One
 * constraint per group with a member's capacity and a member's weight is
 * then the same max-min problem, with npaths times fewer uses per sub
 * (a spray sub at 16 spines: 6 uses instead of 68). Anything else (fat
 * trees, rails, planes, faults, degraded links, timed faults, ECMP, split
 * and ethereal subs) keeps one constraint per link.
 *
 * The members' byte counts stay exact: an ended sub's bytes on member j of
 * a group are bytes / npaths + (j < bytes % npaths), counted per group as
 * the sum of bytes / npaths and a count per remainder.
 */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "sim/flow_eng.h"

int flow_group_off;

/* Whether the npaths ports ps(x, k) are distinct, up and of one speed. */
static int equal_links(const struct topo *t, uint32_t *mark, uint32_t ep, uint32_t x,
                       uint32_t (*ps)(const struct topo *, uint32_t, uint32_t))
{
    uint64_t bps = t->ports[ps(t, x, 0)].bps;
    for (uint32_t k = 0; k < t->npaths; k++) {
        uint32_t q = ps(t, x, k);
        if (mark[q] == ep || t->ports[q].down || t->ports[q].bps != bps) return 0;
        mark[q] = ep;
    }
    return 1;
}

static uint32_t up_of(const struct topo *t, uint32_t la, uint32_t k)
{
    return topo_up(t, la, k);
}
static uint32_t down_of(const struct topo *t, uint32_t lb, uint32_t k)
{
    return topo_down(t, k, lb);
}

void flow_group_init(struct flow_eng *e)
{
    const struct topo *t = e->base.t;
    e->ncons = t->nports;
    e->ngroups = 0;
    int spread = e->path == PATH_SPRAY || e->path == PATH_SPRAY_RR || e->path == PATH_ADAPTIVE;
    if (flow_group_off || getenv("MOESIM_FLOW_NOMERGE") || !spread || t->kind != TOPO_LEAF_SPINE ||
        !t->up || !t->down || t->planes > 1 || t->ndown || t->ndegraded || t->ntfaults ||
        t->leaves < 2 || t->npaths < 2)
        return;
    uint32_t *mark = xcalloc(t->nports, sizeof *mark), L = t->leaves;
    int ok = 1;
    for (uint32_t l = 0; l < L && ok; l++)
        ok = equal_links(t, mark, 1 + 2 * l, l, up_of) &&
             equal_links(t, mark, 2 + 2 * l, l, down_of);
    free(mark);
    if (!ok) return;
    e->ngroups = 2 * L; /* la's uplinks: nports + la; the downlinks into lb: nports + L + lb */
    e->ncons = t->nports + e->ngroups;
    e->links = xrealloc(e->links, e->ncons * sizeof *e->links);
    memset(e->links + t->nports, 0, e->ngroups * sizeof *e->links);
    e->pgrp = xcalloc(t->nports, sizeof *e->pgrp);
    e->pidx = xcalloc(t->nports, sizeof *e->pidx);
    for (uint32_t p = 0; p < t->nports; p++)
        e->pgrp[p] = FL_NONE;
    e->grp = xcalloc(e->ngroups, sizeof *e->grp);
    for (uint32_t g = 0; g < e->ngroups; g++) {
        uint32_t l = g % L;
        e->grp[g].cnt = xcalloc(t->npaths, sizeof *e->grp[g].cnt);
        for (uint32_t k = 0; k < t->npaths; k++) {
            uint32_t q = g < L ? up_of(t, l, k) : down_of(t, l, k);
            e->pgrp[q] = t->nports + g;
            e->pidx[q] = k;
        }
        e->links[t->nports + g].cap = e->links[g < L ? up_of(t, l, 0) : down_of(t, l, 0)].cap;
    }
}

void flow_group_free(struct flow_eng *e)
{
    for (uint32_t g = 0; g < e->ngroups; g++)
        free(e->grp[g].cnt);
    free(e->grp);
    free(e->pgrp);
    free(e->pidx);
}

void flow_group_reset(struct flow_eng *e)
{
    for (uint32_t g = 0; g < e->ngroups; g++) {
        e->grp[g].base = 0;
        memset(e->grp[g].cnt, 0, e->base.t->npaths * sizeof *e->grp[g].cnt);
    }
}

int flow_group_route(struct flow_eng *e, uint32_t a, uint32_t b, uint64_t bytes, uint64_t size)
{
    if (!e->ngroups) return 0;
    const struct topo *t = e->base.t;
    uint32_t la = topo_leaf_of(t, a), lb = topo_leaf_of(t, b), ports[TOPO_ROUTE_MAX_PORTS];
    uint32_t n = flow_route_walk(e, a, b, 0, ports), up = topo_up(t, la, 0),
             down = topo_down(t, 0, lb);
    if (!bytes) return 1; /* no uses (as flow_eng.c's add_use) */
    while (e->nuses + n > e->capuses) {
        e->capuses = e->capuses ? 2 * e->capuses : 4096;
        e->uses = xrealloc(e->uses, e->capuses * sizeof *e->uses);
    }
    /* a group's member's weight; a host link's: every path crosses it */
    double wg = (double)bytes / (double)size / (double)t->npaths, wh = (double)bytes / (double)size;
    struct fl_use *u = e->uses + e->nuses;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t q = ports[i];
        double w = wh;
        if (q == up) {
            q = t->nports + la;
            w = wg;
        } else if (q == down) {
            q = t->nports + t->leaves + lb;
            w = wg;
        }
        u[i] = (struct fl_use){q, e->nsubs - 1, 0, w, bytes};
    }
    e->nuses += n;
    return 1;
}

void flow_group_done(struct flow_eng *e, const struct fl_use *us)
{
    struct fl_group *g = &e->grp[us->link - e->base.t->nports];
    uint32_t np = e->base.t->npaths;
    g->base += us->bytes / np;
    g->cnt[us->bytes % np]++;
}

/* A sub's bytes of `bytes` over a group on member j. */
static uint64_t share(uint64_t bytes, uint32_t np, uint32_t j)
{
    return bytes / np + (j < bytes % np ? 1 : 0);
}

uint64_t flow_group_sent(const struct flow_eng *e, uint32_t p)
{
    if (!e->ngroups || e->pgrp[p] == FL_NONE) return 0;
    uint32_t c = e->pgrp[p], j = e->pidx[p], np = e->base.t->npaths;
    const struct fl_group *g = &e->grp[c - e->base.t->nports];
    uint64_t sent = g->base;
    for (uint32_t r = j + 1; r < np; r++)
        sent += g->cnt[r];
    const struct fl_link *l = &e->links[c];
    for (uint32_t k = 0; k < l->n; k++) {
        const struct fl_use *us = &e->uses[l->uses[k]];
        const struct fl_sub *s = &e->subs[us->sub];
        if (!s->active) continue; /* ended (a deferred engine's lists keep it) */
        double left = s->fresh ? s->left : s->left - s->rate * (double)(e->now - s->t_upd);
        if (left < 0) left = 0;
        double frac = 1.0 - left / (double)s->size;
        sent += (uint64_t)(frac * (double)share(us->bytes, np, j));
    }
    return sent + flow_ack_sent(e, l, np, j);
}
