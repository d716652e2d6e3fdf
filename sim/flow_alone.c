/* flow_alone.c - subs alone on their links (flow_eng.h): with deferred
 * re-solves, a sub that starts or ends on links that carry no other live
 * sub changes no other rate, so it needs no re-solve.
 *
 * Max-min fairness decomposes over the components of subs joined by shared
 * links: a sub whose every data link carries no other live sub is a
 * component of its own, and its max-min rate is the least over its links of
 * (capacity less the link's load) / its weight there (the load being that
 * of no live sub: zero up to the running sum's rounding), while every other
 * sub's rate is that of the filling without it. So such a start takes its
 * rate at once, and such an end frees capacity no other sub can use: neither
 * touches a link, lowers the selective bound theta, nor calls a re-solve
 * (nor the window's one after an end). A gradient ring's NVLink hops are
 * this case (each GPU's NVLink to and from its server's switch carries only
 * the ring's one message at a time once the all-to-all's intra-server
 * messages are through), and before this each of their starts and ends
 * re-solved at once, taking with it the all-to-all's deferred ends (a full
 * re-solve of tens of thousands of subs while an all-to-all runs).
 *
 * Acknowledgements (flow_ack.c): a sub's acknowledgements that put a reserve
 * on a link (its first acknowledgement) or take it off (its last, under
 * RESERVE) change that link's capacity; the sub is alone only if every such
 * link carries no live data then (its change of capacity reaches no sub).
 *
 * Only with deferred re-solves (e->defer: the exact default keeps its code
 * path, bit for bit) and without timed faults (flow_fault.c holds subs of
 * its own).
 */
#include <math.h>

#include "base/err.h"
#include "sim/flow_eng.h"

int flow_alone_off;

/* Whether a sub's acknowledgement coming onto link l (come = 1) or going
 * (come = 0) would change its reserve with live data on it (come = -1:
 * whether it would change the reserve at all, as it comes). */
static int ack_reaches(const struct flow_eng *e, const struct fl_link *l, int come)
{
    if (come) {
        if (l->na != 0 || l->cap != l->cap0) return 0; /* the reserve stays as it is */
        if (e->ackm != FLOW_ACK_RESERVE && e->ackm != FLOW_ACK_STICKY) return 0;
    } else {
        if (l->na != 1 || e->ackm != FLOW_ACK_RESERVE) return 0;
    }
    return come < 0 || l->nlive > 0;
}

int flow_alone_rate(const struct flow_eng *e, uint32_t si, double *rate)
{
    if (!e->defer || e->fault || flow_alone_off) return 0;
    const struct fl_sub *s = &e->subs[si];
    double x = INFINITY;
    for (uint32_t u = 0; u < s->nuse; u++) {
        const struct fl_use *us = &e->uses[s->use0 + u];
        const struct fl_link *l = &e->links[us->link];
        if (l->nlive) return 0;
        double rem = l->cap - l->load, r = rem > 0 ? rem / us->w : 0;
        if (r < x) x = r;
    }
    for (uint32_t u = s->nuse; u < s->nuse + s->nack; u++) {
        uint32_t li = e->uses[s->use0 + u].link;
        if (ack_reaches(e, &e->links[li], 1)) return 0;
        if (!ack_reaches(e, &e->links[li], -1)) continue;
        for (uint32_t d = 0; d < s->nuse; d++) /* its reserve would come under its own data */
            if (e->uses[s->use0 + d].link == li) return 0;
    }
    if (!(x > 0) || x == INFINITY) return 0; /* no data link, or none left: the solver's case */
    *rate = x;
    return 1;
}

void flow_alone_start(struct flow_eng *e, uint32_t si, double rate)
{
    struct fl_sub *s = &e->subs[si];
    s->fresh = 0;
    s->rate = rate;
    e->arate[s->apos] = rate;
    s->tend = e->now + (simtime_t)ceil(s->left / rate);
    for (uint32_t u = 0; u < s->nuse; u++) {
        const struct fl_use *us = &e->uses[s->use0 + u];
        struct fl_link *l = &e->links[us->link];
        l->load += us->w * rate;
        if (!l->inul) { /* a link with subs: a full re-solve scans it (e->ul) */
            l->inul = 1;
            if (e->nul == e->capul) {
                e->capul = e->capul ? 2 * e->capul : 256;
                e->ul = xrealloc(e->ul, e->capul * sizeof *e->ul);
            }
            e->ul[e->nul++] = us->link;
        }
    }
    flow_heap_update(e, si);
    e->alone_starts++;
}

int flow_alone_end(const struct flow_eng *e, uint32_t si)
{
    if (!e->defer || e->fault || flow_alone_off) return 0;
    const struct fl_sub *s = &e->subs[si];
    for (uint32_t u = 0; u < s->nuse; u++)
        if (e->links[e->uses[s->use0 + u].link].nlive != 1) return 0;
    for (uint32_t u = s->nuse; u < s->nuse + s->nack; u++)
        if (ack_reaches(e, &e->links[e->uses[s->use0 + u].link], 0)) return 0;
    return 1;
}
