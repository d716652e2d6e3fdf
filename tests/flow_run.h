/* flow_run.h - shared by the flow engine's tests against closed forms and
 * the packet engine (test_flow_eng.c, test_flow_ack.c, test_flow_file.c;
 * each message's end, ends[tag], is fabric_run.h's): a leaf-spine
 * configuration, a demand set sent as the executor sends it (ethereal: the
 * step's assignment, sim/ethereal.h) and that set run on both engines with
 * their invariants checked and their links' bytes compared. */
#ifndef MOESIM_TESTS_FLOW_RUN_H
#define MOESIM_TESTS_FLOW_RUN_H

#include "fabric_run.h"

#include "sim/flow_eng.h"

/* leaves x spines, hpl hosts a leaf, host and fabric links in Gb/s, one
 * path mode; the rest cfg_defaults' (transport.ack_every = 1, an
 * acknowledgement a packet, which test_flow_ack.c's closed forms take and
 * its halfway count of 256 acknowledgements asserts). */
static inline struct cfg mkcfg(int leaves, int spines, int hpl, double host, double fabric,
                               int path)
{
    struct cfg c;
    cfg_defaults(&c);
    c.topo.leaves = leaves;
    c.topo.spines = spines;
    c.topo.hosts_per_leaf = hpl;
    c.topo.host_gbps = host;
    c.topo.fabric_gbps = fabric;
    c.tr.path = path;
    return c;
}

/* Adds dem[0, nd) at time 0, message m tagged m, as the executor sends
 * them under `path`: ethereal on the step's assigned subflows. */
static inline void send_demands(struct eng *g, const struct topo *t, int path,
                                const struct topo_demand *dem, size_t nd)
{
    struct eth_sub *subs = NULL;
    size_t *off = NULL;
    if (path == PATH_ETHEREAL) eth_assign(t, dem, nd, &subs, &off);
    for (size_t m = 0; m < nd; m++)
        if (subs)
            eng_add_msg_paths(g, dem[m].src, dem[m].dst, 0, m, &subs[off[m]],
                              (uint32_t)(off[m + 1] - off[m]));
        else
            eng_add_msg(g, dem[m].src, dem[m].dst, dem[m].bytes, 0, m);
    free(subs);
    free(off);
}

/* Runs dem[0, nd) on the packet engine into g[0] and the flow engine into
 * g[1] (c's transport, one seed; `what` names the case in a failure), each engine's invariants
 * checked; then their links' bytes summed and their acknowledgements are equal, and so is every
 * link's bytes where both send a message on the same paths (ECMP, split, ethereal). The engines are
 * the caller's to destroy. */
static inline void both_engines(const char *what, const struct topo *t, const struct cfg *c,
                                uint64_t seed, const struct topo_demand *dem, size_t nd,
                                struct eng *g[2])
{
    struct eng_hooks h = {NULL, on_done};
    uint64_t total[2] = {0, 0};
    for (int k = 0; k < 2; k++) {
        g[k] = eng_create_kind(k ? ENGINE_FLOW : ENGINE_PACKET, t, &c->tr, seed, &h);
        send_demands(g[k], t, c->tr.path, dem, nd);
        eng_run(g[k]);
        char msg[256];
        if (eng_check(g[k], msg, sizeof msg)) fail_msg("%s: %s", what, msg);
        for (uint32_t p = 0; p < t->nports; p++)
            total[k] += eng_port(g[k], p)->bytes;
    }
    assert_int_equal(total[0], total[1]);
    assert_int_equal(eng_stats(g[0])->acks, eng_stats(g[1])->acks);
    int path = c->tr.path;
    if (path == PATH_ECMP || path == PATH_SPLIT || path == PATH_ETHEREAL)
        for (uint32_t p = 0; p < t->nports; p++)
            if (eng_port(g[0], p)->bytes != eng_port(g[1], p)->bytes)
                fail_msg("%s path %d port %u: packet %llu flow %llu", what, path, p,
                         (unsigned long long)eng_port(g[0], p)->bytes,
                         (unsigned long long)eng_port(g[1], p)->bytes);
}

#endif
