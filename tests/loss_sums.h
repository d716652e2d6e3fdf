/* loss_sums.h - shared by the tests of failures under a transport's loss
 * recovery (test_fault_timed.c, test_fault_cc.c): the sums of a run's
 * messages, their loss counters (eng_set_msg_loss's) and deliveries, and
 * the hooks that add to them (ctx: the struct sums). */
#ifndef MOESIM_TESTS_LOSS_SUMS_H
#define MOESIM_TESTS_LOSS_SUMS_H

#include "testutil.h"

#include "sim/eng.h"

struct sums {
    uint64_t retx, timeouts, nacks; /* eng_set_msg_loss's */
    uint32_t done;                  /* messages delivered */
    simtime_t last;                 /* the last delivery */
};

static inline void on_done(void *ctx, struct eng *e, uint64_t tag, simtime_t start, simtime_t end,
                           const struct res_flow_loss *loss)
{
    (void)e, (void)tag, (void)start, (void)loss;
    struct sums *s = ctx;
    s->done++;
    if (end > s->last) s->last = end;
}

static inline void on_counters(void *ctx, struct eng *e, uint64_t tag,
                               const struct res_flow_loss *c)
{
    (void)e, (void)tag;
    struct sums *s = ctx;
    s->retx += c->retx_bytes;
    s->timeouts += c->timeouts;
    s->nacks += c->nacks;
}

#endif
