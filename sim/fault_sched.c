/* fault_sched.c - the schedule of faults.fail's events shared by the two
 * engines (fault_sched.h). */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "sim/fault_sched.h"

void fault_sched_init(struct fault_sched *s, const struct topo *t, uint32_t kind_fail,
                      uint32_t kind_reroute, fault_sched_push_fn push, void *ctx)
{
    memset(s, 0, sizeof *s);
    s->orig = t;
    topo_fault_view_init(&s->view, t); /* routing by the rows alone */
    s->dead = xcalloc(t->nports, 1);
    s->seq = xcalloc(2 * (size_t)t->ntfaults, sizeof *s->seq);
    s->queued = xcalloc(2 * (size_t)t->ntfaults, 1);
    s->kind_fail = kind_fail;
    s->kind_reroute = kind_reroute;
    s->push = push;
    s->ctx = ctx;
}

void fault_sched_free(struct fault_sched *s)
{
    free(s->dead);
    free(s->seq);
    free(s->queued);
    s->dead = s->queued = NULL;
    s->seq = NULL;
}

void fault_sched_route(struct fault_sched *s, uint32_t cur)
{
    s->cur = cur;
    topo_fault_view_set(&s->view, s->orig, cur);
}

void fault_sched_push(struct fault_sched *s, uint32_t slot, simtime_t at)
{
    s->seq[slot] = s->push(s->ctx, at, slot & 1 ? s->kind_reroute : s->kind_fail, slot / 2);
    s->queued[slot] = 1;
    s->pending++;
}

void fault_sched_start(struct fault_sched *s)
{
    memset(s->dead, 0, s->orig->nports);
    memset(s->queued, 0, 2 * (size_t)s->orig->ntfaults);
    s->pending = 0;
    fault_sched_route(s, 0);
    for (uint32_t i = 0; i < s->orig->ntfaults; i++)
        fault_sched_push(s, 2 * i, s->orig->tfaults[i].at_ps);
}

uint32_t fault_sched_popped(struct fault_sched *s, uint32_t kind, uint32_t i)
{
    uint32_t slot = 2 * i + (kind == s->kind_reroute);
    s->queued[slot] = 0;
    s->pending--;
    return slot;
}

void fault_sched_cancel_all(struct fault_sched *s, struct evq *q)
{
    for (uint32_t i = 0; i < 2 * s->orig->ntfaults; i++)
        if (s->queued[i]) {
            evq_cancel(q, s->seq[i]);
            s->queued[i] = 0;
        }
    s->pending = 0;
}
