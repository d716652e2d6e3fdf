/* coll_leaf.h - shared by the collective tests (test_ring.c, test_tree.c,
 * test_tree_pipe.c): their fabric, N hosts under one leaf at 100 Gb/s with
 * a transport that leaves each message at its lone bound, and the tree
 * allreduce on it. */
#ifndef MOESIM_TESTS_COLL_LEAF_H
#define MOESIM_TESTS_COLL_LEAF_H

#include "testutil.h"

/* In a ring or tree every host sends and receives at once, so its uplink
 * carries its data and the acknowledgements of the data coming in, which a
 * lone message's bound leaves out: one acknowledgement per 8 packets keeps
 * them under 0.2% of the link. A window of 4 MiB keeps the default window
 * (one bandwidth-delay product) from throttling a message. */
static inline struct cfg leafcfg(uint32_t hosts)
{
    struct cfg c;
    cfg_defaults(&c);
    c.topo.leaves = 1;
    c.topo.spines = 1;
    c.topo.hosts_per_leaf = hosts;
    c.topo.host_gbps = c.topo.fabric_gbps = 100;
    c.tr.ack_every = 8;
    c.tr.window_bytes = 4 << 20;
    return c;
}

/* An allreduce of `bytes` per host by the double binary tree in `chunks`. */
static inline struct cfg treecfg(uint32_t hosts, int64_t bytes, int64_t chunks)
{
    struct cfg c = leafcfg(hosts);
    c.wl.kind = WL_ALLREDUCE;
    c.wl.algo = WL_ALGO_TREE;
    c.wl.bytes = bytes;
    c.wl.chunks = chunks;
    return c;
}

#endif
