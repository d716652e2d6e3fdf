/* wl_options.c - the [workload] and [placement] options, over struct
 * wl_spec and struct pl_spec (wl_spec.h), and how workload.seed resolves.
 *
 * To add a workload parameter: a field in struct wl_spec and a row here.
 */
#include "workloads/wl.h"
#include "workloads/wl_spec.h"

#include "workloads/place.h"

/* clang-format off */
#define F(field) offsetof(struct wl_spec, field)
static const struct opt_def wl_options_rows[] = {
    {"workload", "kind", OPT_ENUM, "alltoall", 0, 0, "alltoall|permutation|moe|allreduce|reduce_scatter|allgather|incast|flows|alltoallv",
     "traffic: alltoall (every host to every other), permutation (seeded random, one peer each), moe (routing trace), "
     "allreduce, reduce_scatter, allgather (collectives of workload.bytes per host over every host, by workload.algo), "
     "incast (workload.senders hosts to the last one), flows (replayed from workload.flows_file), "
     "alltoallv (every host to every other, each pair's bytes drawn uniformly from 1 to 2*workload.bytes-1)", F(kind)},
    {"workload", "algo", OPT_ENUM, "auto", 0, 0, "auto|direct|ring|halving_doubling|tree",
     "collective algorithm: auto (the kind's own), direct (alltoall, permutation: every message at once), "
     "ring (allreduce, reduce_scatter, allgather: steps of a shift permutation, each step of a host after "
     "its own step before and the message into it), halving_doubling (the same three: recursive "
     "halving then doubling, 2 log2 N steps, N a power of two), tree (allreduce: double binary tree, "
     "reduce up then broadcast down, each tree half the bytes, pipelined in workload.chunks chunks)", F(algo)},
    {"workload", "seed", OPT_INT, "-1", -1, 9.2e18, NULL,
     "seed of the traffic's random draws (moe trace offsets, placement, permutation pairing, "
     "alltoallv sizes); "
     "-1 = sim.seed", F(seed)},
    {"workload", "bytes", OPT_INT, "1048576", 1, 1e15, NULL, "bytes per flow (alltoall, permutation, incast); per host buffer (allreduce, reduce_scatter, allgather)", F(bytes)},
    {"workload", "senders", OPT_INT, "0", 0, 1048576, NULL,
     "incast: hosts sending workload.bytes each to the last host, the first ones under other leaves "
     "than its own; 0 = every other host", F(senders)},
    {"workload", "flows_file", OPT_PATH, "", 0, 0, NULL,
     "flows: the flows to replay, htsim's connection matrix (Nodes/Connections/Triggers lines, "
     "SRC->DST start US size B) or CSV (src,dst,bytes[,start_ns])", F(flows_file)},
    {"workload", "trace", OPT_PATH, "", 0, 0, NULL, "moe: routing trace CSV (seq,token,layer,slot,expert,weight)", F(trace)},
    {"workload", "experts", OPT_INT, "0", 0, 32767, NULL, "moe: experts per layer; 0 = the trace's", F(experts)},
    {"workload", "topk", OPT_INT, "0", 0, 64, NULL, "moe: experts per token; 0 = the trace's", F(topk)},
    {"workload", "layers", OPT_INT, "0", 0, 4096, NULL, "moe: MoE layers replayed (the trace's first ones); 0 = all", F(layers)},
    {"workload", "hidden", OPT_INT, "4096", 1, 1048576, NULL, "moe: hidden size (a token's message is hidden*dtype_bytes)", F(hidden)},
    {"workload", "ffn", OPT_INT, "14336", 1, 1048576, NULL, "moe: expert FFN size (SwiGLU)", F(ffn)},
    {"workload", "dtype_bytes", OPT_INT, "2", 1, 8, NULL, "moe: bytes per activation element on the wire", F(dtype_bytes)},
    {"workload", "tokens_per_gpu", OPT_INT, "4096", 1, 16777216, NULL, "moe: tokens each GPU holds per iteration", F(tokens_per_gpu)},
    {"workload", "shard", OPT_ENUM, "contiguous", 0, 0, "contiguous|round_robin",
     "moe: batch token b on GPU b/tokens_per_gpu (contiguous) or b mod GPUs (round_robin)", F(shard)},
    {"workload", "ep_mode", OPT_ENUM, "standard", 0, 0, "standard|coherent",
     "moe: standard (dispatch, compute, combine per layer) or coherent (ExFlow: tokens move from "
     "layer-l experts straight to layer-l+1 experts)", F(ep_mode)},
    {"workload", "dedup", OPT_BOOL, "true", 0, 0, NULL,
     "moe: one copy per destination GPU of a token (else one per chosen expert)", F(dedup)},
    {"workload", "compute", OPT_PATH, "roofline", 0, 0, "roofline",
     "moe: expert compute model: roofline, or a calibration CSV of tokens,us rows", F(compute)},
    {"workload", "gpu_tflops", OPT_REAL, "989", 0.001, 1e6, NULL, "moe: GPU dense bf16 TFLOP/s for the roofline", F(gpu_tflops)},
    {"workload", "efficiency", OPT_REAL, "0.6", 0.001, 1, NULL, "moe: fraction of gpu_tflops the expert GEMMs reach", F(efficiency)},
    {"workload", "expert_overhead_us", OPT_REAL, "5", 0, 1e6, NULL, "moe: fixed time per expert with tokens (launch), us", F(expert_overhead_us)},
    {"workload", "chunks", OPT_INT, "1", 1, 65536, NULL,
     "moe: each layer's tokens in this many chunks (each GPU's tokens split evenly), at most tokens_per_gpu; "
     "allreduce with algo = tree: each tree's half of the bytes in this many pipelined chunks; "
     "allreduce, reduce_scatter, allgather with algo = ring: each ring step's message in this many pipelined chunks", F(chunks)},
    {"workload", "overlap", OPT_ENUM, "none", 0, 0, "none|chunks|dual_batch",
     "moe: none (the chunks' phases one after another), chunks (Tutel-style: chunk i's compute "
     "overlaps chunk i+1's dispatch and chunk i-1's combine) or dual_batch (DeepSeek-style: each "
     "GPU's tokens in two micro-batches, one's all-to-alls under the other's compute)", F(overlap)},
    {"workload", "attn_us", OPT_REAL, "0", 0, 1e9, NULL,
     "moe: dense work (attention) per layer per GPU on the compute stream before the dispatch, us", F(attn_us)},
    {"workload", "pass", OPT_ENUM, "forward", 0, 0, "forward|training",
     "moe: forward (the layers once) or training (then the backward pass: the layers in reverse, "
     "their all-to-alls again, compute x backward_factor, a ring all-reduce of dense_bytes overlapping it)", F(pass)},
    {"workload", "backward_factor", OPT_REAL, "2", 0.01, 100, NULL,
     "moe training: backward expert and attention compute over the forward's", F(backward_factor)},
    {"workload", "dense_bytes", OPT_INT, "0", 0, 1e15, NULL,
     "moe training: bytes of dense gradients each GPU all-reduces (ring) during the backward pass; 0 = none", F(dense_bytes)},
    {"workload", "dp_size", OPT_INT, "0", 0, 1048576, NULL,
     "moe training: GPUs per data-parallel group, the gradient all-reduce's ring: G / dp_size groups, "
     "GPU g in group g mod (G / dp_size) (Megatron's order: model-parallel ranks contiguous); "
     "must divide the GPUs; 0 = every GPU in one group", F(dp_size)},
    {"workload", "dispatch", OPT_ENUM, "direct", 0, 0, "direct|hierarchical",
     "moe: direct (each copy straight to its expert's GPU) or hierarchical (DeepEP-style: over the "
     "network once per destination server, to the GPU of the same local index, then over NVLink; "
     "combine in reverse; needs topology.gpus_per_host > 1)", F(dispatch)},
    {"workload", "max_nodes", OPT_INT, "0", 0, 1048576, NULL,
     "moe: node-limited routing: each token's experts on at most this many servers, those kept "
     "ranked by the token's summed router weights there (docs/moe-steps.md); 0 = no limit", F(max_nodes)},
    {"workload", "stage", OPT_ENUM, "prefill", 0, 0, "prefill|decode",
     "moe: prefill (a step is tokens_per_gpu prompt tokens per GPU; the run's line says tokens/s) or "
     "decode (a step makes one token for each of tokens_per_gpu sequences per GPU; the line says "
     "the latency per token)", F(stage)},
    {"workload", "dp_layout", OPT_ENUM, "strided", 0, 0, "strided|contiguous",
     "moe training: the data-parallel groups of dp_size GPUs: strided (GPU g in group g mod (G / dp_size), "
     "Megatron's order) or contiguous (GPUs g*dp_size .. g*dp_size + dp_size - 1 form group g)", F(dp_layout)},
    {"workload", "grad_algo", OPT_ENUM, "ring", 0, 0, "ring|tree|halving_doubling",
     "moe training: the gradient all-reduce's algorithm on each data-parallel group: ring, tree "
     "(double binary tree) or halving_doubling (dp group of a power of two GPUs)", F(grad_algo)},
    {"workload", "grad_chunks", OPT_INT, "1", 1, 65536, NULL,
     "moe training: the gradient all-reduce pipelined in this many chunks (ring: each step's message; "
     "tree: each tree's half; not with halving_doubling)", F(grad_chunks)},
    {"workload", "grad_buckets", OPT_INT, "0", 0, 65536, NULL,
     "moe training: the gradient all-reduce in this many buckets of dense_bytes / B, bucket b launched "
     "when the backward has passed ceil((b+1) L / B) of its L layers and its group's bucket b-1 has ended "
     "(PyTorch DDP, Megatron); 0 = one all-reduce at the backward's start", F(grad_buckets)},
    {"workload", "bucket_cap_mb", OPT_REAL, "0", 0, 1e9, NULL,
     "moe training: the gradient all-reduce in buckets of this many MiB (PyTorch DDP's bucket_cap_mb, "
     "25 there) in the backward's order, each launched when the backward has passed the layer of its "
     "last byte and its group's previous bucket has ended; 0 = off (see grad_buckets; not both)", F(bucket_cap_mb)},
    {"workload", "recompute", OPT_BOOL, "false", 0, 0, NULL,
     "moe training: activation recomputation (Megatron's full): before each layer's backward its forward "
     "attention and expert compute run again (rows recompute_attention, recompute; the all-to-alls not resent)",
     F(recompute)},
    {"workload", "kv_context", OPT_INT, "0", 0, 16777216, NULL,
     "moe decode: tokens in each sequence's KV cache; each layer's attention then reads "
     "tokens_per_gpu x kv_context x kv_bytes from HBM at hbm_gbps (added to attn_us); 0 = no KV model", F(kv_context)},
    {"workload", "kv_bytes", OPT_INT, "4096", 1, 1e9, NULL,
     "moe decode: K and V bytes per cached token per layer on a GPU (Mixtral-8x7B: 2 x 8 KV heads x 128 x 2 bytes)", F(kv_bytes)},
    {"workload", "hbm_gbps", OPT_REAL, "3350", 1, 1e6, NULL,
     "moe decode: a GPU's HBM bandwidth for the KV reads, GB/s (H100 SXM: 3350)", F(hbm_gbps)},
};
#undef F
/* clang-format on */
const struct opt_table wl_options = {wl_options_rows,
                                     sizeof wl_options_rows / sizeof wl_options_rows[0]};

/* clang-format off */
#define F(field) offsetof(struct pl_spec, field)
static const struct opt_def pl_options_rows[] = {
    {"placement", "policy", OPT_ENUM, "contiguous", 0, 0, PL_POLICY_CHOICES,
     "moe: which GPU holds each expert (workloads/README-placement.md): " PL_POLICY_HELP, F(policy)},
    {"placement", "replicas", OPT_INT, "0", 0, 1048576, NULL, "moe: extra expert slots per layer, each holding a replica: eplb gives them to the experts with the most load per replica; contiguous, round_robin and random spread them evenly over the experts; the other policies take none", F(replicas)},
    {"placement", "refine", OPT_BOOL, "false", 0, 0, NULL, "moe: pairwise-swap local search on the shared cost after the policy", F(refine)},
    {"placement", "train", OPT_REAL, "0.5", 0, 0.95, NULL,
     "moe: fraction of the trace's tokens the placement is computed on; the rest is replayed "
     "(0: computed on and replayed from the whole trace)", F(train)},
    {"placement", "ilp_time_limit_s", OPT_REAL, "60", 0.1, 86400, NULL, "moe: GLPK time limit for policy=ilp, s", F(ilp_time_limit_s)},
    {"placement", "w_compute", OPT_REAL, "1", 0, 1e6, NULL, "moe: weight of the slowest GPU's compute in the placement cost", F(w_compute)},
    {"placement", "w_network", OPT_REAL, "1", 0, 1e6, NULL, "moe: weight of the network time bound in the placement cost", F(w_network)},
};
#undef F
/* clang-format on */
const struct opt_table pl_options = {pl_options_rows,
                                     sizeof pl_options_rows / sizeof pl_options_rows[0]};

uint64_t wl_seed(const struct wl_specs *c)
{
    return (uint64_t)(c->wl->seed == WL_SEED_SIM ? c->sim->seed : c->wl->seed);
}
