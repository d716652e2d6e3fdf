/* flow_ack.c - acknowledgements in the flow engine (flow_eng.h).
 *
 * A sub's acknowledgements travel the reverse route of its path number
 * (add_sub, flow_eng.c): ceil(packets / ack group) x ack_bytes on each of
 * those links, counted in the links' bytes as the packet engine counts
 * them. How they load the max-min solve is flow_ack_mode:
 *
 * - CONSTRAIN (the engine before): each acknowledgement use is a
 *   constraint of weight ack bytes / size, so a flow whose reverse route
 *   crosses a link that others' data saturate freezes at that link's level
 *   (the packet engine's window does not stop it there: its acks wait in
 *   the queue, the flow goes on at its forward share), and every flow of a
 *   ring or an all-to-all is coupled to the others through its acks (a
 *   start re-solves the whole component).
 * - FREE: the uses count bytes only; data gets every link's capacity.
 * - RESERVE (the default): the uses count bytes only, and a link that
 *   carries any acknowledgement keeps ack_share / (1 + ack_share) of its
 *   capacity for them (ack_share = ack_bytes / (mtu x ack group): where
 *   the data a link's host sends and receives run at about one rate, as in
 *   an all-to-all, a ring or a permutation, its data gets what the packet
 *   engine leaves it); a link without acknowledgements (a lone flow's
 *   forward route) keeps its capacity.
 * - STICKY: as RESERVE, but a link keeps its reserve from its first
 *   acknowledgement to the engine's reset (fewer changes of capacity,
 *   hence fewer re-solves reaching far; a little less accurate: the matrix
 *   in docs/flow-engine.md, "Acknowledgements").
 *
 * The acknowledgement uses follow a sub's data uses (e->uses[use0 + nuse
 * .. + nack)), so the solver (flow_maxmin.c), which reads nuse, never sees
 * them; each link lists its active subs' acknowledgement uses in au (for
 * the bytes sent by now and the reserve).
 *
 * A reserve that comes or goes changes the link's capacity: the selective
 * re-solve's bound theta (flow_maxmin.c) then takes the least of the new
 * capacity over the link's weight (the link cannot be full below it) and
 * the largest rate now on the link (the level at which it was full, when
 * it was), so the filling below theta is the same with either capacity.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "sim/flow_eng.h"

int flow_ack_mode = FLOW_ACK_RESERVE;

int flow_ack_mode_now(void)
{
    const char *v = getenv("MOESIM_FLOW_ACKS");
    if (!v || !*v) return flow_ack_mode;
    if (!strcmp(v, "constrain")) return FLOW_ACK_CONSTRAIN;
    if (!strcmp(v, "free")) return FLOW_ACK_FREE;
    if (!strcmp(v, "reserve")) return FLOW_ACK_RESERVE;
    if (!strcmp(v, "sticky")) return FLOW_ACK_STICKY;
    return flow_ack_mode;
}

/* Link li's capacity for data becomes cap (its reserve came or went). */
static void cap_change(struct flow_eng *e, uint32_t li, double cap)
{
    struct fl_link *l = &e->links[li];
    l->cap = cap;
    if (!l->nlive) return; /* no data on it: new subs' own bound covers them */
    double b = l->wsum > 0 ? cap / l->wsum : INFINITY, top = 0;
    for (uint32_t j = 0; j < l->n; j++) {
        const struct fl_sub *s = &e->subs[l->sid[j]];
        if (s->active && !s->fresh && s->rate > top) top = s->rate;
    }
    if (top < b) b = top;
    if (b < e->theta) e->theta = b;
    flow_touch(e, li);
}

void flow_ack_start(struct flow_eng *e, uint32_t si)
{
    const struct fl_sub *s = &e->subs[si];
    for (uint32_t u = s->nuse; u < s->nuse + s->nack; u++) {
        struct fl_use *us = &e->uses[s->use0 + u];
        struct fl_link *l = &e->links[us->link];
        if (l->na == l->capna) {
            l->capna = l->capna ? 2 * l->capna : 8;
            l->au = xrealloc(l->au, l->capna * sizeof *l->au);
        }
        us->pos = l->na;
        l->au[l->na++] = s->use0 + u;
        if (l->na == 1 && (e->ackm == FLOW_ACK_RESERVE || e->ackm == FLOW_ACK_STICKY) &&
            l->cap == l->cap0)
            cap_change(e, us->link, l->cap0 / (1 + e->ack_share));
    }
}

void flow_ack_stop(struct flow_eng *e, uint32_t si, double frac)
{
    const struct fl_sub *s = &e->subs[si];
    for (uint32_t u = s->nuse; u < s->nuse + s->nack; u++) {
        const struct fl_use *us = &e->uses[s->use0 + u];
        struct fl_link *l = &e->links[us->link];
        if (frac >= 1) {
            l->done += us->bytes;
            if (us->link >= e->base.t->nports) flow_group_done(e, us);
        } else {
            l->done += (uint64_t)llround(frac * (double)us->bytes);
        }
        uint32_t moved = l->au[--l->na];
        if (us->pos != l->na) {
            l->au[us->pos] = moved;
            e->uses[moved].pos = us->pos;
        }
        if (l->na == 0 && e->ackm == FLOW_ACK_RESERVE) cap_change(e, us->link, l->cap0);
    }
}

uint64_t flow_ack_sent(const struct flow_eng *e, const struct fl_link *l, uint32_t np, uint32_t j)
{
    uint64_t sent = 0;
    for (uint32_t k = 0; k < l->na; k++) {
        const struct fl_use *us = &e->uses[l->au[k]];
        const struct fl_sub *s = &e->subs[us->sub];
        double left = s->fresh ? s->left : s->left - s->rate * (double)(e->now - s->t_upd);
        if (left < 0) left = 0;
        double frac = 1.0 - left / (double)s->size;
        uint64_t b = np ? us->bytes / np + (j < us->bytes % np ? 1 : 0) : us->bytes;
        sent += (uint64_t)(frac * (double)b);
    }
    return sent;
}
