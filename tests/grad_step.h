/* grad_step.h - shared by the gradient-bucket tests (test_grad_buckets.c,
 * test_bucket_cap.c): their training step (8 GPUs under one leaf at 400
 * Gb/s, no path choice, no NVLink; 4 layers, 4 ms of backward attention per
 * layer, a few tokens: compute is about 60 times a 64 MiB ring all-reduce
 * of dense_bytes = S), a lone ring all-reduce on its fabric to measure the
 * exposed buckets against, and a row's name test. */
#ifndef MOESIM_TESTS_GRAD_STEP_H
#define MOESIM_TESTS_GRAD_STEP_H

#include "testutil.h"

#define EXCERPT "tests/data/mixtral_excerpt.csv"
#define S       (64ull << 20) /* dense_bytes */

static inline struct cfg bcfg(void)
{
    struct cfg c;
    cfg_defaults(&c);
    c.wl.kind = WL_MOE;
    snprintf(c.wl.trace, sizeof c.wl.trace, "%s", EXCERPT);
    c.topo.leaves = 1;
    c.topo.spines = 1;
    c.topo.hosts_per_leaf = 8;
    c.topo.host_gbps = c.topo.fabric_gbps = 400;
    c.wl.hidden = 1024;
    c.wl.tokens_per_gpu = 16;
    c.wl.layers = 4;
    c.wl.attn_us = 2000;
    c.wl.pass = WL_PASS_TRAINING;
    c.wl.dense_bytes = (int64_t)S;
    c.tr.ack_every = 8;
    c.pl.train = 0;
    c.out.flows = 1;
    return c;
}

/* A lone ring all-reduce of `bytes` per host on c's fabric and transport. */
static inline simtime_t lone_ring(const struct cfg *base, uint64_t bytes)
{
    struct cfg c = *base;
    c.wl.kind = WL_ALLREDUCE;
    c.wl.algo = WL_ALGO_RING;
    c.wl.bytes = (int64_t)bytes;
    c.wl.pass = WL_PASS_FORWARD;
    c.wl.dense_bytes = 0;
    c.wl.grad_buckets = 0;
    c.wl.bucket_cap_mb = 0;
    struct tu_wl x;
    tu_wl_run(&c, &x);
    simtime_t t = tu_end(&x.r);
    tu_wl_done(&x);
    return t;
}

static inline int is(const struct res_phase *p, const char *name)
{
    return !strcmp(p->phase, name);
}

#endif
