/* moe.h - the MoE workload (moe.c): routing traces as expert-parallel
 * dispatch, compute and combine phases. */
#ifndef MOESIM_MOE_H
#define MOESIM_MOE_H

#include <stdint.h>

#include "workloads/compute.h"
#include "workloads/place.h"
#include "workloads/wl.h"

struct moe_stats {
    uint64_t selections;   /* token-expert selections replayed */
    uint64_t skipped;      /* slots without a decision (missing trace rows) */
    uint64_t trace_tokens; /* tokens in the trace */
    uint64_t missing;      /* (token, layer) pairs the trace lacks */
    const uint64_t *uses;  /* [trace_tokens]: times each was used */
    uint64_t min_uses, max_uses;
    double compute_max_ps, compute_mean_ps; /* slowest and mean GPU, summed over layers */
    /* Forward dispatches, all iterations: copies of a token that cross the
     * network (between servers; with one GPU per server, between GPUs), the
     * most servers one token's experts spanned at one layer, and what the
     * node limit (workload.max_nodes) did to selections: moved to a replica
     * of the expert on a kept server, or dropped. */
    uint64_t net_copies;
    uint32_t max_token_nodes;
    uint64_t node_moved, node_dropped;
};

/* The fabric and cost the MoE workload's placement is scored on, as the run
 * simulates it: GPUs, leaves, servers (topology.gpus_per_host), NIC, NVLink
 * and leaf uplink speeds from t's views (topo.h); token homes from
 * workload.shard, bytes per token = hidden * dtype_bytes, the cost of one
 * token-expert from the compute model comp, the ep mode and the cost weights
 * from c. */
void wl_moe_fabric(const struct wl_specs *c, const struct topo *t, const struct wl_compute *comp,
                   struct pl_fabric *f);

/* Whether a MoE run of these sizes can start, before any trace token is read:
 * gpus (the fabric's hosts) and leaves, and the trace's experts and the
 * layers the run replays (workload.layers, else the trace's). Checks the GPU
 * count the workload holds and the placement (pl_check). Returns 0, or -1
 * with e->msg = "section.key: reason" naming the scenario key to change
 * (placement.replicas, placement.policy, topology.hosts_per_leaf, ...). */
int wl_moe_check(const struct wl_specs *c, int gpus, int leaves, int per_server, int experts,
                 int layers, struct err *e);
int wl_moe_create(const struct wl_specs *c, const struct topo *t, struct wl_gen *g, struct err *e);
/* Bytes the generator allocates from the configuration alone (the trace and
 * the flows of a phase come on top): per batch token its trace token and
 * topk GPU slots, per (source, destination) GPU pair a byte count and a
 * demand. */
size_t wl_moe_memory_per_token(int topk);
size_t wl_moe_memory_per_gpu_pair(void);
/* Statistics of a MoE generator (valid until it is destroyed). */
const struct moe_stats *wl_moe_stats(const struct wl_gen *g);

#endif
