/* wl_spec.h - what the workloads are configured with: the traffic
 * ([workload]) and the expert placement ([placement]). Plain values, filled
 * by the configuration layer from the option rows of wl_options.c.
 */
#ifndef MOESIM_WL_SPEC_H
#define MOESIM_WL_SPEC_H

#include <stdint.h>

#include "base/opt.h"

enum wl_kind {
    WL_ALLTOALL = 0,
    WL_PERMUTATION,
    WL_MOE,
    WL_ALLREDUCE,
    WL_REDUCE_SCATTER,
    WL_ALLGATHER,
    WL_INCAST,
    WL_FLOWS,
    WL_ALLTOALLV
};
/* workload.algo: auto = the kind's own (direct for alltoall and permutation,
 * ring for the reducing collectives); collective_reduce.c */
enum wl_algo {
    WL_ALGO_AUTO = 0,
    WL_ALGO_DIRECT,
    WL_ALGO_RING,
    WL_ALGO_HALVING_DOUBLING,
    WL_ALGO_TREE /* allreduce: double binary tree (collective_tree.c) */
};
/* workload.overlap (moe): none = the phase model; chunks = Tutel-style;
 * dual_batch = DeepSeek-style two micro-batches */
enum wl_overlap { WL_OVERLAP_NONE = 0, WL_OVERLAP_CHUNKS, WL_OVERLAP_DUAL_BATCH };
/* workload.dispatch (moe): direct = one hop per copy; hierarchical = network
 * once per node to the same local index, then NVLink (docs/moe-steps.md) */
enum wl_dispatch { WL_DISPATCH_DIRECT = 0, WL_DISPATCH_HIERARCHICAL };
/* workload.stage (moe): what a step is reported as */
enum wl_stage { WL_STAGE_PREFILL = 0, WL_STAGE_DECODE };
/* workload.pass (moe) */
enum wl_pass { WL_PASS_FORWARD = 0, WL_PASS_TRAINING };
/* workload.dp_layout (moe training): which GPUs form a data-parallel group */
enum wl_dp_layout { WL_DP_STRIDED = 0, WL_DP_CONTIGUOUS };
/* workload.grad_algo (moe training): the gradient all-reduce's algorithm */
enum wl_grad_algo { WL_GRAD_RING = 0, WL_GRAD_TREE, WL_GRAD_HALVING_DOUBLING };
enum shard_kind { SHARD_CONTIGUOUS = 0, SHARD_ROUND_ROBIN };
enum ep_mode { EP_STANDARD = 0, EP_COHERENT };

#define WL_SEED_SIM (-1) /* workload.seed's default: follow sim.seed */

/* [workload] */
struct wl_spec {
    int kind; /* enum wl_kind */
    int64_t bytes;
    char trace[OPT_STR_MAX];
    int64_t experts, topk, layers, hidden, ffn, dtype_bytes, tokens_per_gpu;
    int64_t seed; /* the traffic's draws; WL_SEED_SIM: sim.seed (wl_seed, wl.h) */
    int shard, ep_mode, dedup;
    char compute[OPT_STR_MAX];
    double gpu_tflops, efficiency, expert_overhead_us;
    int algo;       /* enum wl_algo */
    int64_t chunks; /* moe: token chunks per layer (1: whole layer); tree: pipeline chunks */
    int overlap;    /* moe: enum wl_overlap */
    double attn_us; /* moe: dense work per layer per GPU before the dispatch, us */
    int pass;       /* moe: enum wl_pass */
    double backward_factor;       /* moe training: backward compute / forward compute */
    int64_t dense_bytes;          /* moe training: gradient all-reduce bytes per GPU (0: none) */
    int64_t dp_size;              /* moe training: GPUs per data-parallel group (0: all) */
    int64_t senders;              /* incast: sending hosts (0: every host but the receiver) */
    char flows_file[OPT_STR_MAX]; /* flows: the flows to replay (flows_file.c) */
    int dispatch;                 /* moe: enum wl_dispatch */
    int64_t max_nodes;   /* moe: nodes (servers) a token's experts may span; 0 = no limit */
    int stage;           /* moe: enum wl_stage */
    int dp_layout;       /* moe training: enum wl_dp_layout */
    int grad_algo;       /* moe training: enum wl_grad_algo */
    int64_t grad_chunks; /* moe training: pipelined chunks of the gradient all-reduce */
    int64_t grad_buckets; /* moe training: gradient buckets launched as the backward passes their layers (0: one at its start) */
    double bucket_cap_mb; /* moe training: gradient buckets of this many MiB (DDP's bucket_cap_mb; 0: off) */
    int recompute;        /* moe training: the backward recomputes each layer's forward compute */
    int64_t kv_context;  /* moe decode: tokens in each sequence's KV cache (0: no KV model) */
    int64_t kv_bytes;    /* moe decode: K and V bytes per cached token per layer */
    double hbm_gbps;     /* moe decode: HBM bandwidth per GPU, GB/s */
};

/* [placement] */
struct pl_spec {
    int policy; /* index into the policy choices; the name goes to pl_compute */
    int64_t replicas;
    int refine;
    double train, ilp_time_limit_s, w_compute, w_network;
};

extern const struct opt_table wl_options, pl_options;

#endif
