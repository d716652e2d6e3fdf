/* bneck.h - for the congestion-control tests (test_dctcp.c, test_nscc.c,
 * test_dcqcn.c): n flows from hosts 0 .. n-1 into host n, run on the packet
 * engine with the receiver's link (the bottleneck) sampled: its queue, the
 * bytes it has sent, each flow's delivered bytes, and the first and last
 * completions. Include after testutil.h. */
#ifndef MOESIM_TESTS_BNECK_H
#define MOESIM_TESTS_BNECK_H

#include <stdlib.h>
#include <string.h>

#include "sim/eng.h"
#include "sim/pkt_eng.h"
#include "topo/topo.h"

#define BN_MAXF 16 /* flows whose delivered bytes are sampled (the first ones) */

struct bn_obs {
    uint32_t port;                   /* the bottleneck: the link into host n */
    uint32_t n;                      /* flows */
    uint32_t ns, cap;                /* samples taken, and at most */
    simtime_t *t;                    /* [cap] sample times */
    uint64_t *q;                     /* [cap] bottleneck queue, bytes */
    uint64_t *rx;                    /* [cap] bytes the bottleneck has sent */
    uint64_t (*got)[BN_MAXF];        /* [cap] per flow: bytes delivered */
    simtime_t first_done, last_done; /* the first and last message's completion */
};

static void bn_sample(void *ctx, const struct eng *e, simtime_t now)
{
    struct bn_obs *o = ctx;
    if (o->ns == o->cap) return;
    const struct pkt_eng *pe = pkt_eng_ofc(e);
    o->t[o->ns] = now;
    o->q[o->ns] = eng_port_backlog(e, o->port);
    o->rx[o->ns] = eng_port_sent(e, o->port);
    for (uint32_t j = 0; j < o->n && j < BN_MAXF; j++)
        o->got[o->ns][j] = pe->flows[j].delivered;
    o->ns++;
}

static void bn_done(void *ctx, struct eng *e, uint64_t tag, simtime_t start, simtime_t end,
                    const struct res_flow_loss *loss)
{
    (void)e, (void)tag, (void)start, (void)loss;
    struct bn_obs *o = ctx;
    if (!o->first_done || end < o->first_done) o->first_done = end;
    if (end > o->last_done) o->last_done = end;
}

/* Runs n flows of `bytes` from hosts 0 .. n-1 to host n under c, flow j
 * starting at starts[j] (NULL: all at 0), sampling every period (0: not),
 * at most cap samples; fails the test on a broken invariant (eng_check).
 * Returns the engine (the caller destroys it and *t). */
static struct eng *bn_run(const struct cfg *c, int n, uint64_t bytes, const simtime_t *starts,
                          simtime_t period, uint32_t cap, struct bn_obs *o, struct topo **t)
{
    struct err er;
    assert_int_equal(topo_build(&c->topo, t, &er), 0);
    if (o->cap != cap) {
        free(o->t), free(o->q), free(o->rx), free(o->got);
        o->t = calloc(cap, sizeof *o->t);
        o->q = calloc(cap, sizeof *o->q);
        o->rx = calloc(cap, sizeof *o->rx);
        o->got = calloc(cap, sizeof *o->got);
        assert_true(o->t && o->q && o->rx && o->got);
        o->cap = cap;
    }
    o->port = (*t)->host_down[n];
    o->n = (uint32_t)n;
    o->ns = 0;
    o->first_done = o->last_done = 0;
    struct eng_hooks h = {o, bn_done};
    struct eng *e = eng_create(*t, &c->tr, 1, &h);
    for (int j = 0; j < n; j++)
        eng_add_msg(e, (uint32_t)j, (uint32_t)n, bytes, starts ? starts[j] : 0, (uint64_t)j);
    if (period) eng_set_sampler(e, period, period, bn_sample, o);
    eng_run(e);
    char why[512];
    if (eng_check(e, why, sizeof why)) fail_msg("%s", why);
    return e;
}

/* Jain's index of flows 0 and 1's shares between samples i0 and i1, and
 * the shares themselves. */
static double bn_jain2(const struct bn_obs *o, uint32_t i0, uint32_t i1, double *x0, double *x1)
{
    *x0 = (double)(o->got[i1][0] - o->got[i0][0]);
    *x1 = (double)(o->got[i1][1] - o->got[i0][1]);
    return (*x0 + *x1) * (*x0 + *x1) / (2 * (*x0 * *x0 + *x1 * *x1));
}

#endif
