/* moe.c - the MoE workload: routing traces replayed as expert-parallel
 * traffic and compute.
 *
 * GPUs are the fabric's hosts (G = leaves * hosts_per_leaf); each holds
 * workload.tokens_per_gpu tokens per iteration. Batch token b sits on GPU
 * b / tokens_per_gpu (shard = contiguous) or b mod G (round_robin). Batch
 * tokens are read from the trace as a stream: stream position s (iteration i,
 * batch token b: s = i*G*tokens_per_gpu + b) is pass p = s / T over the T
 * trace tokens, and uses trace token (s mod T + offset[p]) mod T, where
 * offset[0] = 0 and later passes draw a uniform offset from the trace stream
 * of workload.seed (RNG_TRACE, base/rng.h). How often each trace token was
 * used is counted.
 *
 * Per layer, ep_mode = standard (DeepSpeed/Megatron expert parallelism):
 *   dispatch: each token goes from its home GPU to the GPUs holding its top-k
 *     experts (one copy per destination GPU with dedup, else one per expert);
 *   compute:  each GPU runs its experts on the tokens they got; the slowest
 *     GPU sets the phase (compute.h);
 *   combine:  the same bytes flow back to the home GPUs.
 * ep_mode = coherent (ExFlow's context-coherent expert parallelism): a
 * token's state stays where its layer-l experts ran; for layer l+1 every GPU
 * that holds one of its layer-l experts sends its partial output straight to
 * every GPU that holds one of its layer-(l+1) experts (partials are summed at
 * the destination), so there is one all-to-all per layer ("dispatch"), no
 * combine until after the last layer, and a token whose next experts sit on
 * the same GPU does not move. Layer 0 starts from the home GPU; after the
 * last layer a "combine" returns the outputs home.
 * Experts are placed by the placement module (place.h) on the first
 * placement.train of the trace's tokens; only the rest is replayed, so the
 * placement is judged on tokens it has not seen. A replicated expert serves a
 * token by pl_gpu_of's rule (the replica on the GPU the token comes from, else
 * one chosen by token index). The placement is scored on the fabric that is
 * simulated (wl_moe_fabric): NVLink inside a server, the NICs and leaf
 * uplinks between servers, the token homes of workload.shard.
 * A token without a decision at a layer (missing trace rows) skips it.
 * Messages between two GPUs of one server go over NVLink (the engine routes
 * them). The graph is the phase model: each phase (a network task, or a
 * compute task on every GPU's stream lasting as long as the slowest GPU) is
 * followed by a barrier, so phases run in sequence, with no overlap of
 * compute and communication; the generator adds one phase per call, holding
 * one phase's demands. Other step shapes (docs/moe-steps.md): overlap =
 * chunks (a layer per call), dual_batch (two micro-batches, an iteration's
 * forward per call), pass = training (the backward pass); dispatch =
 * hierarchical (a network hop once per server to the GPU of the token's
 * local index, then an NVLink hop) and max_nodes (node-limited routing,
 * route_token).
 */
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/rng.h"
#include "workloads/compute.h"
#include "workloads/moe.h"
#include "workloads/place.h"
#include "workloads/trace.h"

struct moe {
    struct trace tr;
    int E, K, L;
    uint32_t G;
    uint64_t N, B; /* tokens per GPU, batch */
    uint32_t iterations;
    int shard, coherent, dedup;
    uint64_t msg_bytes;
    struct pl_placement pl;
    size_t eval_begin; /* first trace token replayed (the rest trained the placement) */
    struct wl_compute comp;
    gsl_rng *rng;
    uint64_t *pass_off; /* offset of each pass over the trace */
    size_t npass;
    uint64_t *uses;  /* [T] times each trace token was used */
    uint32_t *tok;   /* [B] trace token of each batch token, this iteration */
    int16_t *cur;    /* [B * K] coherent: GPUs holding the token's state (-1 none) */
    uint64_t *mat;   /* [G * G] bytes of the phase being built */
    uint32_t *etok;  /* [G * E] selections per (GPU, expert) this layer */
    uint64_t *gload; /* [L * G] selections each GPU computed per layer, all iterations */
    struct topo_demand *dem;
    size_t ndem;
    uint64_t max_expert_tokens; /* most tokens one expert computed at once */
    uint32_t iter, layer;
    int step;          /* next phase: 0 dispatch, 1 compute, 2 combine, 3 advance, 4 attention */
    uint32_t C, chunk; /* workload.chunks; the chunk being built */
    int overlap;       /* workload.overlap = chunks */
    simtime_t attn_ps; /* workload.attn_us */
    int training, bwd_due; /* workload.pass = training; the backward pass comes next */
    double bwd_factor;
    uint64_t dense_bytes;
    uint32_t dp;          /* workload.dp_size: GPUs per data-parallel group (the gradient rings) */
    int dp_layout;        /* workload.dp_layout (enum wl_dp_layout) */
    int grad_algo;        /* workload.grad_algo (enum wl_grad_algo) */
    uint32_t grad_chunks; /* workload.grad_chunks */
    uint32_t buckets;     /* workload.grad_buckets (0: one all-reduce at the backward's start) */
    uint64_t cap_bytes;   /* workload.bucket_cap_mb in bytes (0: off) */
    int recompute;        /* workload.recompute: the backward recomputes each layer's forward */
    const struct topo *t; /* the fabric (the pipelined ring's link rates) */
    int hier;             /* workload.dispatch = hierarchical */
    uint32_t P;           /* GPUs per server (a node) */
    uint32_t max_nodes;   /* workload.max_nodes (0: no limit) */
    int dual;             /* workload.overlap = dual_batch (C = 2: the micro-batches) */
    uint64_t *mat2;       /* [G * G] hierarchical: the NVLink hop's bytes */
    /* standard flat dispatch (not coherent, not hierarchical): the phase's
     * bytes as a list, not a [G * G] matrix (16384 GPUs: 2 GiB), built a
     * source at a time in the matrix's order (build_dispatch_sparse) */
    int sparse;
    struct topo_demand *sp;  /* the last dispatch's demands */
    struct topo_demand *rot; /* sparse_to_demands' rotation of a bucket */
    size_t caprot;
    size_t nsp, capsp, capdem;
    uint64_t *row;    /* [G] the source being built: bytes per destination */
    uint32_t *rowd;   /* [G] its destinations */
    uint8_t *rowmark; /* [G] whether a destination is among them */
    uint8_t *hold;    /* [E] the experts the source being built holds at this layer */
    uint32_t *srv;    /* [G] each GPU's server (GPU / P) */
    uint64_t *rowkey; /* [G] their order (shifted, as mat_to_demands) */
    size_t *bucket;   /* [G + 1] the transposed list's offsets per source */
    uint32_t *gtab;   /* replicas' GPUs by (expert, b mod nc): build_dispatch_sparse */
    struct moe_stats st;
};

static uint32_t home_of(const struct moe *m, uint64_t b)
{
    return m->shard == SHARD_CONTIGUOUS ? (uint32_t)(b / m->N) : (uint32_t)(b % m->G);
}

/* The chunk of batch token b: its index among its home GPU's tokens, cut in
 * C equal runs. */
static uint32_t chunk_of(const struct moe *m, uint64_t b)
{
    uint64_t local = m->shard == SHARD_CONTIGUOUS ? b % m->N : b / m->G;
    return (uint32_t)(local * m->C / m->N);
}

/* Batch tokens of iteration `iter` from the trace stream (see the header). */
static void fill_batch(struct moe *m, uint32_t iter)
{
    uint64_t T = m->tr.tokens - m->eval_begin;
    for (uint64_t b = 0; b < m->B; b++) {
        uint64_t s = (uint64_t)iter * m->B + b, pass = s / T;
        while (pass >= m->npass) {
            m->pass_off = xrealloc(m->pass_off, (m->npass + 1) * sizeof *m->pass_off);
            m->pass_off[m->npass] = m->npass ? gsl_rng_uniform_int(m->rng, T) : 0;
            m->npass++;
        }
        uint32_t t = (uint32_t)(m->eval_begin + (s % T + m->pass_off[pass]) % T);
        m->tok[b] = t;
        m->uses[t]++;
    }
}

/* The GPU serving each slot k of batch token b at layer l, coming from GPU
 * `from`, into gpu[k] (-1: no decision, or dropped by the node limit): the
 * replica rule (pl_gpu_of), then with workload.max_nodes the node limit.
 * Node-limited routing (DeepSeek-V3's, on the trace's top-k choices): the
 * servers holding the token's chosen experts are ranked by the sum of the
 * token's router weights of the experts there, ties by how many of them are
 * there, then by the lowest server number (a trace of weights 0 ranks by
 * count); the first max_nodes are kept. A slot on a dropped server moves to
 * the expert's first replica (by GPU) on a kept server, or else is dropped:
 * the trace holds only the top-k, so no other expert can take its place. */
static void route_token(struct moe *m, uint64_t b, int l, int from, int *gpu)
{
    for (int k = 0; k < m->K; k++) {
        int x = m->tr.expert[trace_idx(&m->tr, m->tok[b], l, k)];
        gpu[k] = x < 0 ? -1 : pl_gpu_of(&m->pl, l, x, from, b);
    }
    if (!m->max_nodes) return;
    uint32_t node[64];
    double score[64];
    int cnt[64], keep[64], nn = 0;
    for (int k = 0; k < m->K; k++) {
        if (gpu[k] < 0) continue;
        uint32_t n = (uint32_t)gpu[k] / m->P;
        int i = 0;
        while (i < nn && node[i] != n)
            i++;
        if (i == nn) {
            node[nn] = n;
            score[nn] = 0;
            cnt[nn] = keep[nn] = 0;
            nn++;
        }
        score[i] += m->tr.weight[trace_idx(&m->tr, m->tok[b], l, k)];
        cnt[i]++;
    }
    if (nn <= (int)m->max_nodes) return;
    for (uint32_t r = 0; r < m->max_nodes; r++) {
        int best = -1;
        for (int i = 0; i < nn; i++) {
            if (keep[i]) continue;
            if (best < 0 || score[i] > score[best] ||
                (score[i] == score[best] &&
                 (cnt[i] > cnt[best] || (cnt[i] == cnt[best] && node[i] < node[best]))))
                best = i;
        }
        keep[best] = 1;
    }
    for (int k = 0; k < m->K; k++) {
        if (gpu[k] < 0) continue;
        int i = 0;
        while (node[i] != (uint32_t)gpu[k] / m->P)
            i++;
        if (keep[i]) continue;
        int x = m->tr.expert[trace_idx(&m->tr, m->tok[b], l, k)], moved = -1;
        for (int r = 0; moved < 0 && r < pl_replicas(&m->pl, l, x); r++) {
            int rg = pl_replica_gpu(&m->pl, l, x, r);
            for (int j = 0; j < nn; j++)
                if (keep[j] && node[j] == (uint32_t)rg / m->P) moved = rg;
        }
        gpu[k] = moved;
        if (moved >= 0)
            m->st.node_moved++;
        else
            m->st.node_dropped++;
    }
}

/* The GPUs of gpu[0..K-1] (route_token's) into out[]; returns how many.
 * With dedup each GPU once; without, every slot that has one. */
static int dests_of(const struct moe *m, const int *gpu, uint32_t *out, int dedup)
{
    int n = 0;
    for (int k = 0; k < m->K; k++) {
        if (gpu[k] < 0) continue;
        int dup = 0;
        for (int j = 0; dedup && j < n; j++)
            dup |= out[j] == (uint32_t)gpu[k];
        if (!dup) out[n++] = (uint32_t)gpu[k];
    }
    return n;
}

/* Servers (nodes) among the n GPUs of d. */
static uint32_t nodes_of(const struct moe *m, const uint32_t *d, int n)
{
    uint32_t c = 0;
    for (int i = 0; i < n; i++) {
        int seen = 0;
        for (int j = 0; j < i && !seen; j++)
            seen = d[j] / m->P == d[i] / m->P;
        c += !seen;
    }
    return c;
}

/* Turns a [G * G] byte matrix (transposed: its transpose) into the demand
 * list. */
static void mat_to_demands_of(struct moe *m, const uint64_t *mat, int transposed)
{
    m->ndem = 0;
    for (uint32_t a = 0; a < m->G; a++)
        for (uint32_t j = 1; j < m->G; j++) {
            uint32_t b = (a + j) % m->G; /* shifted order, as in alltoall */
            uint64_t v = transposed ? mat[(size_t)b * m->G + a] : mat[(size_t)a * m->G + b];
            if (v) m->dem[m->ndem++] = (struct topo_demand){a, b, v};
        }
}

static void mat_to_demands(struct moe *m)
{
    mat_to_demands_of(m, m->mat, 0);
}

static void grow_dem(struct topo_demand **a, size_t *cap, size_t need)
{
    if (need <= *cap) return;
    while (*cap < need)
        *cap = *cap ? 2 * *cap : 4096;
    *a = xrealloc(*a, *cap * sizeof **a);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Sparse: the last dispatch's demands (m->sp) into m->dem, or their
 * transpose, in the order mat_to_demands_of gives the matrix's (by source,
 * then destination from source + 1 round). */
static void sparse_to_demands(struct moe *m, int transposed)
{
    grow_dem(&m->dem, &m->capdem, m->nsp);
    m->ndem = m->nsp;
    if (!transposed) {
        if (m->nsp) memcpy(m->dem, m->sp, m->nsp * sizeof *m->dem);
        return;
    }
    size_t *off = m->bucket;
    memset(off, 0, ((size_t)m->G + 1) * sizeof *off);
    for (size_t i = 0; i < m->nsp; i++)
        off[m->sp[i].dst + 1]++;
    for (uint32_t a = 0; a < m->G; a++)
        off[a + 1] += off[a];
    for (size_t i = 0; i < m->nsp; i++) {
        const struct topo_demand *d = &m->sp[i];
        m->dem[off[d->dst]++] = (struct topo_demand){d->dst, d->src, d->bytes};
    }
    for (uint32_t a = m->G; a > 0; a--) /* back to the buckets' starts */
        off[a] = off[a - 1];
    off[0] = 0;
    /* m->sp is by source, so each bucket is by source (the counting sort is
     * stable): the shifted order from a + 1 round G is its rotation that
     * puts the sources above a first (a bucket never holds source a) */
    for (uint32_t a = 0; a < m->G; a++) {
        struct topo_demand *bk = m->dem + off[a];
        size_t n = off[a + 1] - off[a], lo = 0;
        while (lo < n && bk[lo].dst < a)
            lo++;
        if (lo == 0 || lo == n) continue;
        grow_dem(&m->rot, &m->caprot, lo);
        memcpy(m->rot, bk, lo * sizeof *bk);
        memmove(bk, bk + lo, (n - lo) * sizeof *bk);
        memcpy(bk + (n - lo), m->rot, lo * sizeof *bk);
    }
}

/* Builds the dispatch of layer l (standard: home -> experts; coherent: the
 * GPUs holding the token's state -> its layer-l experts) and counts the
 * selections each GPU's experts receive. Hierarchical (standard only): a
 * token's copy to a server other than its home's goes once per server to the
 * GPU there of its home's local index (m->mat, the network hop; copies to
 * its home server's GPUs are there too, over NVLink), which forwards it over
 * NVLink to the experts' GPUs of that server (m->mat2). */
static void build_dispatch_sparse(struct moe *m, int l, uint32_t chunk);

static void build_dispatch(struct moe *m, int l, uint32_t chunk)
{
    if (m->sparse) {
        build_dispatch_sparse(m, l, chunk);
        return;
    }
    memset(m->mat, 0, (size_t)m->G * m->G * sizeof *m->mat);
    if (m->hier) memset(m->mat2, 0, (size_t)m->G * m->G * sizeof *m->mat2);
    memset(m->etok, 0, (size_t)m->G * m->E * sizeof *m->etok);
    uint32_t dst[64];
    int gpu[64];
    for (uint64_t b = 0; b < m->B; b++) {
        if (m->C > 1 && chunk_of(m, b) != chunk) continue;
        int16_t *cur = m->cur + b * m->K;
        uint32_t home = home_of(m, b);
        /* Where the token comes from decides which replica serves it. */
        int from = m->coherent && l > 0 && cur[0] >= 0 ? cur[0] : (int)home;
        route_token(m, b, l, from, gpu);
        for (int k = 0; k < m->K; k++) {
            int x = m->tr.expert[trace_idx(&m->tr, m->tok[b], l, k)];
            if (x < 0) {
                m->st.skipped++;
            } else if (gpu[k] >= 0) {
                m->etok[(size_t)gpu[k] * m->E + x]++;
                m->st.selections++;
            }
        }
        int nd = dests_of(m, gpu, dst, m->dedup);
        if (nd == 0) continue;
        uint32_t spans = nodes_of(m, dst, nd);
        if (spans > m->st.max_token_nodes) m->st.max_token_nodes = spans;
        if (m->hier) {
            uint32_t hn = home / m->P, j = home % m->P, sent[64];
            int ns = 0;
            for (int i = 0; i < nd; i++) {
                uint32_t d = dst[i], dn = d / m->P, r = dn * m->P + j;
                if (d == home) continue;
                if (dn == hn) {
                    m->mat[(size_t)home * m->G + d] += m->msg_bytes;
                    continue;
                }
                int seen = 0;
                for (int q = 0; q < ns && !seen; q++)
                    seen = sent[q] == dn;
                if (!seen) {
                    sent[ns++] = dn;
                    m->mat[(size_t)home * m->G + r] += m->msg_bytes;
                }
                if (d != r) m->mat2[(size_t)r * m->G + d] += m->msg_bytes;
            }
            m->st.net_copies += (uint64_t)ns;
            continue;
        }
        int nsrc = 0;
        uint32_t src[64];
        if (!m->coherent || l == 0 || cur[0] < 0) {
            src[nsrc++] = home;
        } else {
            for (int j = 0; j < m->K && cur[j] >= 0; j++)
                src[nsrc++] = (uint32_t)cur[j];
        }
        for (int i = 0; i < nsrc; i++)
            for (int j = 0; j < nd; j++)
                if (src[i] != dst[j]) {
                    m->mat[(size_t)src[i] * m->G + dst[j]] += m->msg_bytes;
                    m->st.net_copies += src[i] / m->P != dst[j] / m->P;
                }
        if (m->coherent) {
            int u = dests_of(m, gpu, dst, 1);
            for (int j = 0; j < m->K; j++)
                cur[j] = j < u ? (int16_t)dst[j] : -1;
        }
    }
    mat_to_demands(m);
}

/* Appends source a's row (m->row over the nt destinations of m->rowd) to
 * m->sp in mat_to_demands' order: destinations a + 1, a + 2, ... round G,
 * the ones with bytes. Many destinations: a scan of the marks in that
 * order; few: their shifted keys sorted (the same order: the keys are
 * distinct). */
static void row_to_sp(struct moe *m, uint32_t a, uint32_t nt)
{
    grow_dem(&m->sp, &m->capsp, m->nsp + nt);
    if ((uint64_t)nt * 8 >= m->G) {
        for (uint32_t j = 1, d = a + 1; j < m->G; j++, d++) {
            if (d == m->G) d = 0;
            if (!m->rowmark[d]) continue;
            m->rowmark[d] = 0;
            if (m->row[d]) m->sp[m->nsp++] = (struct topo_demand){a, d, m->row[d]};
        }
        return;
    }
    for (uint32_t i = 0; i < nt; i++)
        m->rowkey[i] = (uint64_t)((m->rowd[i] + m->G - a) % m->G) << 32 | m->rowd[i];
    qsort(m->rowkey, nt, sizeof *m->rowkey, cmp_u64);
    for (uint32_t i = 0; i < nt; i++) {
        uint32_t d = (uint32_t)m->rowkey[i];
        m->rowmark[d] = 0;
        if (m->row[d]) m->sp[m->nsp++] = (struct topo_demand){a, d, m->row[d]};
    }
}

/* Token b's copies from source a to the GPUs of dst[0..nd-1] (route_token's,
 * through dests_of) into a's row; the most servers a token spanned. */
static inline void row_add(struct moe *m, uint32_t a, const uint32_t *dst, int nd, uint32_t *nt)
{
    if ((uint32_t)nd > m->st.max_token_nodes) {
        uint32_t spans = nodes_of(m, dst, nd);
        if (spans > m->st.max_token_nodes) m->st.max_token_nodes = spans;
    }
    for (int j = 0; j < nd; j++) {
        uint32_t d = dst[j];
        if (d == a) continue;
        if (!m->rowmark[d]) {
            m->rowmark[d] = 1;
            m->row[d] = 0;
            m->rowd[(*nt)++] = d;
        }
        m->row[d] += m->msg_bytes;
        m->st.net_copies += m->srv[a] != m->srv[d];
    }
}

/* A row's copy to destination d (a token's GPU other than its source). */
static inline void row_copy(uint8_t *rowmark, uint64_t *row, uint32_t *rowd, uint32_t *nt,
                            uint32_t d)
{
    if (!rowmark[d]) {
        rowmark[d] = 1;
        row[d] = 0;
        rowd[(*nt)++] = d;
    }
    row[d]++;
}

/* build_dispatch_sparse's source a without the node limit: its tokens'
 * GPUs by pl_gpu_of's rule from the placement's tables: the source's own
 * replica when it holds the expert (m->hold, marked per source from its
 * slots), else replica b mod n, b mod nc kept as b advances for nc =
 * expert 0's replica count, as most have it (other counts divide). With
 * gtab (build_dispatch_sparse: [E * nc], the GPU of expert x's replica r
 * at x * nc + r, UINT32_MAX for an expert of another count; the experts a
 * holds patched to a here) a top-2 token with both slots takes two reads.
 * The tokens' copies per destination are counted in m->row and turned into
 * bytes (count times msg_bytes: the same uint64 as adding msg_bytes per
 * copy), and the server-crossing copies counted, once the source is done;
 * the counters are kept in locals meanwhile. The same rows and counters as
 * row_add per token (tests/test_moe.c:
 * test_dispatch_tables_equal_replica_rule). */
static void dispatch_source_tables(struct moe *m, int l, uint32_t chunk, uint32_t a, uint32_t *gtab,
                                   uint32_t *ntp)
{
    const struct pl_placement *pl = &m->pl;
    const int *first = pl->rep_first + (size_t)l * pl->experts, *rep = pl->rep_gpu;
    const int *held = pl->slot_expert + (size_t)l * pl->slots;
    const int K = m->K, E = m->E, dedup = m->dedup, spg = pl->slots_per_gpu;
    const int contig = m->shard == SHARD_CONTIGUOUS, chunked = m->C > 1;
    const uint64_t nc = first[1] > first[0] ? (uint64_t)(first[1] - first[0]) : 1;
    const uint64_t step = contig ? 1 : m->G % nc;
    const uint64_t b0 = contig ? (uint64_t)a * m->N : a, bend = contig ? b0 + m->N : m->B;
    const uint64_t stride = contig ? 1 : m->G;
    /* token t's slots at layer l: expert[(t * layers + l) * topk + k] */
    const int16_t *exl = m->tr.expert + trace_idx(&m->tr, 0, l, 0);
    const size_t tstride = (size_t)m->tr.layers * (size_t)m->tr.topk;
    const uint32_t *tok = m->tok;
    uint8_t *hold = m->hold, *rowmark = m->rowmark;
    uint32_t *etok = m->etok, *rowd = m->rowd, nt = *ntp, maxtn = m->st.max_token_nodes;
    uint64_t *row = m->row, skipped = 0, sel = 0, net = 0;
    uint32_t dst[64];
    for (int i = 0; i < spg; i++) {
        int x = held[(size_t)a * spg + i];
        hold[x] = 1;
        for (uint64_t r = 0; gtab && r < nc; r++)
            gtab[(size_t)x * nc + r] = a;
    }
    uint64_t bm = b0 % nc; /* b mod nc */
    for (uint64_t b = b0; b < bend;
         b += stride, bm = bm + step >= nc ? bm + step - nc : bm + step) {
        if (chunked && chunk_of(m, b) != chunk) continue;
        const int16_t *ex = exl + (size_t)tok[b] * tstride;
        if (gtab && K == 2 && ex[0] >= 0 && ex[1] >= 0) {
            uint32_t x0 = (uint32_t)ex[0], x1 = (uint32_t)ex[1];
            uint32_t g0 = gtab[x0 * nc + bm], g1 = gtab[x1 * nc + bm];
            if (g0 != UINT32_MAX && g1 != UINT32_MAX) {
                etok[(size_t)g0 * E + x0]++;
                etok[(size_t)g1 * E + x1]++;
                sel += 2;
                int two = !dedup || g0 != g1;
                if ((uint32_t)(1 + two) > maxtn) {
                    uint32_t d2[2] = {g0, g1}, spans = nodes_of(m, d2, 1 + two);
                    if (spans > maxtn) maxtn = spans;
                }
                if (g0 != a) row_copy(rowmark, row, rowd, &nt, g0);
                if (two && g1 != a) row_copy(rowmark, row, rowd, &nt, g1);
                continue;
            }
        }
        int nd = 0;
        for (int k = 0; k < K; k++) {
            int x = ex[k];
            if (x < 0) {
                skipped++;
                continue;
            }
            uint32_t g = a;
            if (!hold[x]) {
                uint64_t n = (uint64_t)(first[x + 1] - first[x]);
                g = (uint32_t)rep[first[x] + (int)(n == nc ? bm : b % n)];
            }
            etok[(size_t)g * E + x]++;
            sel++;
            int dup = 0;
            for (int j = 0; dedup && j < nd; j++)
                dup |= dst[j] == g;
            if (!dup) dst[nd++] = g;
        }
        if ((uint32_t)nd > maxtn) {
            uint32_t spans = nodes_of(m, dst, nd);
            if (spans > maxtn) maxtn = spans;
        }
        for (int j = 0; j < nd; j++)
            if (dst[j] != a) row_copy(rowmark, row, rowd, &nt, dst[j]);
    }
    for (int i = 0; i < spg; i++) {
        int x = held[(size_t)a * spg + i];
        hold[x] = 0;
        uint64_t n = (uint64_t)(first[x + 1] - first[x]);
        for (uint64_t r = 0; gtab && r < nc; r++)
            gtab[(size_t)x * nc + r] = n == nc ? (uint32_t)rep[first[x] + (int)r] : UINT32_MAX;
    }
    const uint32_t sa = m->srv[a];
    for (uint32_t i = 0; i < nt; i++) {
        uint32_t d = rowd[i];
        if (m->srv[d] != sa) net += row[d];
        row[d] *= m->msg_bytes;
    }
    m->st.skipped += skipped;
    m->st.selections += sel;
    m->st.net_copies += net;
    m->st.max_token_nodes = maxtn;
    *ntp = nt;
}

/* build_dispatch, standard and flat (m->sparse): a source's tokens at a
 * time (contiguous shard: b in [a N, (a + 1) N); round robin: b = a mod
 * G), their bytes per destination summed in m->row, the row's demands
 * appended to m->sp in mat_to_demands' order; the same counters. Without
 * the node limit a token's GPUs are pl_gpu_of's, read from the placement's
 * tables (dispatch_source_tables); the node limit takes route_token. */
static void build_dispatch_sparse(struct moe *m, int l, uint32_t chunk)
{
    memset(m->etok, 0, (size_t)m->G * m->E * sizeof *m->etok);
    uint32_t dst[64];
    int gpu[64];
    int contig = m->shard == SHARD_CONTIGUOUS, K = m->K, dedup = m->dedup, E = m->E;
    /* without the node limit: the replicas' GPUs by (expert, b mod nc)
     * (dispatch_source_tables), where the table is at most the layer's
     * slots twice over */
    uint32_t *gtab = NULL;
    if (!m->max_nodes) {
        const struct pl_placement *pl = &m->pl;
        const int *first = pl->rep_first + (size_t)l * pl->experts;
        uint64_t nc = first[1] > first[0] ? (uint64_t)(first[1] - first[0]) : 1;
        if ((uint64_t)E * nc <= 2 * (uint64_t)pl->slots) {
            gtab = m->gtab = xrealloc(m->gtab, (size_t)E * nc * sizeof *gtab);
            for (int x = 0; x < E; x++) {
                uint64_t n = (uint64_t)(first[x + 1] - first[x]);
                for (uint64_t r = 0; r < nc; r++)
                    gtab[(size_t)x * nc + r] =
                        n == nc ? (uint32_t)pl->rep_gpu[first[x] + (int)r] : UINT32_MAX;
            }
        }
    }
    m->nsp = 0;
    for (uint32_t a = 0; a < m->G; a++) {
        uint32_t nt = 0;
        if (m->max_nodes) {
            uint64_t b0 = contig ? (uint64_t)a * m->N : a, bend = contig ? b0 + m->N : m->B;
            uint64_t stride = contig ? 1 : m->G;
            for (uint64_t b = b0; b < bend; b += stride) {
                if (m->C > 1 && chunk_of(m, b) != chunk) continue;
                route_token(m, b, l, (int)a, gpu);
                for (int k = 0; k < K; k++) {
                    int x = m->tr.expert[trace_idx(&m->tr, m->tok[b], l, k)];
                    if (x < 0) {
                        m->st.skipped++;
                    } else if (gpu[k] >= 0) {
                        m->etok[(size_t)gpu[k] * E + x]++;
                        m->st.selections++;
                    }
                }
                int nd = dests_of(m, gpu, dst, dedup);
                if (nd) row_add(m, a, dst, nd, &nt);
            }
        } else {
            dispatch_source_tables(m, l, chunk, a, gtab, &nt);
        }
        row_to_sp(m, a, nt);
    }
    sparse_to_demands(m, 0);
}

#define NONE UINT64_MAX

/* One all-to-all's tasks: its network hop, then with hierarchical dispatch
 * its NVLink hop (dispatch) or the other way round (combine). */
struct a2a {
    uint64_t t[2];
    int n;
};

static uint64_t a2a_last(const struct a2a *a)
{
    return a->t[a->n - 1];
}

/* Adds the all-to-all of the matrices build_dispatch made: the dispatch
 * (combine = 0: m->mat as task `net`, then with hierarchical m->mat2 as task
 * `nvl`) or the combine (their transposes: `nvl` first, then `net`). The
 * first hop waits for `after` (NONE: nothing), each hop for the same hop of
 * *prev (when prev), the second for the first (with barrier: a barrier
 * between them, the phase model). */
static struct a2a add_a2a(struct moe *m, struct graph *g, int combine, const char *net,
                          const char *nvl, uint32_t iter, uint32_t layer, uint64_t after,
                          const struct a2a *prev, int barrier)
{
    struct a2a a = {{NONE, NONE}, m->hier ? 2 : 1};
    for (int h = 0; h < a.n; h++) {
        int net_hop = !m->hier || (combine ? h == 1 : h == 0);
        if (m->sparse)
            sparse_to_demands(m, combine);
        else
            mat_to_demands_of(m, net_hop ? m->mat : m->mat2, combine);
        if (h && barrier) graph_barrier(g);
        a.t[h] = graph_net(g, net_hop ? net : nvl, iter, layer, m->dem, m->ndem);
        if (h && !barrier) graph_dep(g, a.t[h], a.t[h - 1]);
        if (h == 0 && after != NONE) graph_dep(g, a.t[0], after);
        if (prev && prev->t[h] != NONE) graph_dep(g, a.t[h], prev->t[h]);
    }
    return a;
}

/* Coherent: after the last layer, each token's state returns home. */
static void build_combine_coherent(struct moe *m, uint32_t chunk)
{
    memset(m->mat, 0, (size_t)m->G * m->G * sizeof *m->mat);
    for (uint64_t b = 0; b < m->B; b++) {
        if (m->C > 1 && chunk_of(m, b) != chunk) continue;
        int16_t *cur = m->cur + b * m->K;
        uint32_t home = home_of(m, b);
        for (int j = 0; j < m->K && cur[j] >= 0; j++)
            if ((uint32_t)cur[j] != home) m->mat[(size_t)cur[j] * m->G + home] += m->msg_bytes;
    }
    mat_to_demands(m);
}

/* The slowest GPU's expert time for the selections in m->etok. */
static simtime_t compute_time(struct moe *m)
{
    simtime_t worst = 0;
    double sum = 0;
    for (uint32_t g = 0; g < m->G; g++) {
        simtime_t t = 0;
        for (int x = 0; x < m->E; x++) {
            uint32_t n = m->etok[(size_t)g * m->E + x];
            t += wl_compute_ps(&m->comp, n);
            if (n > m->max_expert_tokens) m->max_expert_tokens = n;
        }
        if (t > worst) worst = t;
        sum += (double)t;
    }
    for (uint32_t g = 0; g < m->G; g++)
        for (int x = 0; x < m->E; x++)
            m->gload[(size_t)m->layer * m->G + g] += m->etok[(size_t)g * m->E + x];
    m->st.compute_max_ps += (double)worst;
    m->st.compute_mean_ps += sum / m->G;
    return worst;
}

/* The slowest GPU's expert time for the selections in m->etok, without
 * counting them (the backward pass). */
static simtime_t slowest_ps(const struct moe *m)
{
    simtime_t worst = 0;
    for (uint32_t g = 0; g < m->G; g++) {
        simtime_t t = 0;
        for (int x = 0; x < m->E; x++)
            t += wl_compute_ps(&m->comp, m->etok[(size_t)g * m->E + x]);
        if (t > worst) worst = t;
    }
    return worst;
}

/* Tags the tasks added since `from` (the tasks table's chunk and pass). */
static void tag_from(struct graph *g, uint64_t from, uint32_t chunk, enum graph_pass pass)
{
    for (uint64_t id = from; id < graph_next_id(g); id++)
        graph_tag(g, id, chunk, pass);
}

static simtime_t scaled(simtime_t t, double f)
{
    return (simtime_t)llround((double)t * f);
}

/* workload.bucket_cap_mb in bytes (MiB as DDP counts them: x 1024 x 1024),
 * rounded to the nearest byte; 0: off. */
static uint64_t moe_cap_bytes(double mb)
{
    return mb > 0 ? (uint64_t)llround(mb * 1048576.0) : 0;
}

/* Buckets of at most cap bytes holding S bytes. */
static uint64_t moe_cap_buckets(uint64_t S, uint64_t cap)
{
    return (S + cap - 1) / cap;
}

/* One data-parallel group's gradient all-reduce (hosts[0..dp-1], one of D
 * groups) by workload.grad_algo: with grad_buckets = 0 (and no
 * bucket_cap_mb) one all-reduce of dense_bytes that waits for nothing; with
 * B buckets, bucket b of dense_bytes / B bytes (the first dense_bytes mod B
 * one byte more) after a `grad_bucket` delay of no duration (layer = b)
 * that waits for the last task of the backward's layer at position
 * ceil((b+1) L / B) - 1 (pos_end, position 0 = layer L-1: the bucket's
 * gradients are ready) and for every task of the group's bucket b-1 (one
 * communicator: its buckets in order, as DDP launches them on one stream).
 * With bucket_cap_mb (cap bytes) the buckets are the gradients' bytes in
 * the backward's order cut every cap bytes (the last the rest), each layer
 * dense_bytes / L of them: bucket b ends at byte e = min((b+1) cap, S) and
 * waits for the layer at position ceil(e L / S) - 1, the one holding its
 * last byte. Every task is tagged backward. */
static void grad_buckets(struct moe *m, struct graph *g, const uint64_t *pos_end,
                         const uint32_t *hosts, uint32_t D)
{
    uint32_t iter = m->iter, B = m->buckets ? m->buckets : 1;
    uint64_t S = m->dense_bytes, cap = m->cap_bytes;
    if (cap) B = (uint32_t)moe_cap_buckets(S, cap);
    uint64_t prev_from = NONE, prev_to = NONE;
    for (uint32_t b = 0; b < B; b++) {
        uint64_t bytes = S / B + (b < S % B), pos = 0;
        if (cap) {
            uint64_t e = (uint64_t)(b + 1) * cap < S ? (uint64_t)(b + 1) * cap : S;
            bytes = e - (uint64_t)b * cap;
            pos = (uint64_t)(((unsigned __int128)e * m->L + S - 1) / S) - 1;
        } else {
            pos = ((uint64_t)(b + 1) * (uint64_t)m->L + B - 1) / B - 1;
        }
        uint64_t gate = NONE;
        if (m->buckets || cap) {
            gate = graph_delay(g, "grad_bucket", iter, b, 0);
            graph_tag(g, gate, 0, GRAPH_BACKWARD);
            graph_dep(g, gate, pos_end[pos]);
            for (uint64_t id = prev_from; prev_from != NONE && id < prev_to; id++)
                graph_dep(g, gate, id);
        }
        uint64_t from = graph_next_id(g);
        if (m->grad_algo == WL_GRAD_TREE) {
            wl_tree_add(g, "grad_tree_reduce", "grad_tree_broadcast", iter, hosts, m->dp,
                        m->grad_chunks, bytes);
        } else if (m->grad_algo == WL_GRAD_HALVING_DOUBLING) {
            wl_hd_add(g, "grad_reduce_scatter", "grad_allgather", iter, hosts, m->dp, bytes);
        } else {
            struct wl_ring rg = {D > 1 ? hosts : NULL, m->dp, m->grad_chunks, m->t};
            wl_ring_add(g, "grad_reduce_scatter", "grad_allgather", iter, &rg, bytes);
        }
        /* the chunk tags of the tree and the pipelined ring kept, the pass set */
        for (uint64_t id = from; id < graph_next_id(g); id++) {
            graph_set_pass(g, id, GRAPH_BACKWARD);
            if (gate != NONE) graph_dep(g, id, gate);
        }
        prev_from = from;
        prev_to = graph_next_id(g);
    }
}

/* The gradient all-reduce of a backward pass whose layers' last tasks are
 * pos_end (by position, 0 = layer L-1): one per data-parallel group, all at
 * once on the part's engine: group j is GPUs j, j + D, j + 2D, ...
 * (strided, D = G / dp groups) or j*dp .. j*dp + dp - 1 (contiguous), in
 * that order; nothing without dense_bytes or with groups of one GPU. */
static void grad_allreduce(struct moe *m, struct graph *g, const uint64_t *pos_end)
{
    if (!m->dense_bytes || m->dp <= 1) return;
    uint32_t D = m->G / m->dp;
    uint32_t *hosts = xmalloc(m->dp * sizeof *hosts);
    for (uint32_t j = 0; j < D; j++) {
        for (uint32_t r = 0; r < m->dp; r++)
            hosts[r] = m->dp_layout == WL_DP_CONTIGUOUS ? j * m->dp + r : j + r * D;
        grad_buckets(m, g, pos_end, hosts, D);
    }
    free(hosts);
}

/* workload.recompute (Megatron's full activation recomputation): before a
 * layer's backward its forward compute runs again on every GPU's stream,
 * `recompute_attention` (the forward's attention time `attn`, after
 * `after`, the layer above's last task; with attention only) and, per chunk
 * (micro-batch), `recompute` (the chunk's forward expert time, after the
 * recomputed attention or `after`), which the chunk's bwd_compute waits
 * for. The all-to-alls of the recomputed forward are not sent again (the
 * dispatched tokens taken as kept). NONE when off. */
static uint64_t recompute_attention(struct moe *m, struct graph *g, int l, simtime_t attn,
                                    uint64_t after)
{
    if (!m->recompute || !attn) return NONE;
    uint64_t a =
        graph_compute(g, "recompute_attention", m->iter, (uint32_t)l, GRAPH_ALL_GPUS, attn);
    if (after != NONE) graph_dep(g, a, after);
    graph_tag(g, a, 0, GRAPH_BACKWARD);
    return a;
}

/* The chunk's forward expert compute again (m->etok: build_dispatch's). */
static uint64_t recompute_expert(struct moe *m, struct graph *g, int l, uint64_t after)
{
    if (!m->recompute) return NONE;
    uint64_t k = graph_compute(g, "recompute", m->iter, (uint32_t)l, GRAPH_ALL_GPUS, slowest_ps(m));
    if (after != NONE) graph_dep(g, k, after);
    return k;
}

/* pass = training: the backward pass of iteration m->iter, added as one
 * part: layers L-1 .. 0, per layer per chunk i bwd_dispatch_i (the gradient
 * of the combine: the forward dispatch's bytes), bwd_compute_i (the forward
 * expert time x backward_factor), bwd_combine_i (the gradient of the
 * dispatch: the combine's bytes), then bwd_attention (attn x factor). With
 * overlap = none each task waits for the one before; with chunks as in the
 * forward (dispatch and combine chains), a layer's first dispatch after the
 * layer above's last task. The gradient all-reduce (ring, dense_bytes) starts
 * with the pass and waits for nothing in it, so it overlaps the pass and
 * shares its engine. Then a barrier. Without the all-reduce a barrier also
 * follows each layer: every task of a layer already waits for the layer
 * above's last task to end, so the times are the same, and the layers'
 * parts can be simulated at once (--threads). Every task is tagged
 * backward, with its chunk. */
static void moe_backward(struct moe *m, struct graph *g)
{
    uint32_t iter = m->iter;
    struct moe_stats keep = m->st; /* the forward counts the selections */
    uint64_t last = NONE;          /* the layer above's last task */
    int split = !(m->dense_bytes && m->dp > 1);
    uint64_t *pos_end = xmalloc((size_t)m->L * sizeof *pos_end); /* each layer's, by position */
    for (int l = m->L - 1; l >= 0; l--) {
        struct a2a disp = {{NONE, NONE}, 0}, comb = {{NONE, NONE}, 0};
        uint64_t rc_att = recompute_attention(m, g, l, m->attn_ps, last);
        uint64_t prev = rc_att != NONE ? rc_att : last;
        for (uint32_t i = 0; i < m->C; i++) {
            uint64_t from = graph_next_id(g);
            build_dispatch(m, l, i);
            struct a2a d =
                add_a2a(m, g, 0, "bwd_dispatch", "bwd_dispatch_nvl", iter, (uint32_t)l,
                        m->overlap ? last : prev, m->overlap && disp.n ? &disp : NULL, 0);
            /* overlap = none: one chain (the recomputation after the
             * dispatch); chunks: it runs under the dispatch */
            uint64_t rc = recompute_expert(m, g, l,
                                           !m->overlap      ? a2a_last(&d)
                                           : rc_att != NONE ? rc_att
                                                            : last);
            uint64_t k = graph_compute(g, "bwd_compute", iter, (uint32_t)l, GRAPH_ALL_GPUS,
                                       scaled(slowest_ps(m), m->bwd_factor));
            graph_dep(g, k, a2a_last(&d));
            if (rc != NONE) graph_dep(g, k, rc);
            struct a2a o = add_a2a(m, g, 1, "bwd_combine", "bwd_combine_nvl", iter, (uint32_t)l, k,
                                   comb.n ? &comb : NULL, 0);
            tag_from(g, from, i, GRAPH_BACKWARD);
            disp = d;
            comb = o;
            prev = a2a_last(&o);
        }
        last = a2a_last(&comb);
        if (m->attn_ps) {
            uint64_t a = graph_compute(g, "bwd_attention", iter, (uint32_t)l, GRAPH_ALL_GPUS,
                                       scaled(m->attn_ps, m->bwd_factor));
            graph_dep(g, a, last);
            graph_tag(g, a, 0, GRAPH_BACKWARD);
            last = a;
        }
        pos_end[m->L - 1 - l] = last;
        if (split) graph_barrier(g);
    }
    m->st = keep;
    grad_allreduce(m, g, pos_end);
    free(pos_end);
    graph_barrier(g);
}

/* pass = training with overlap = dual_batch: the backward of iteration
 * m->iter as one part (no barrier between layers, as the forward), layers
 * L-1 .. 0, per micro-batch u a chain: bwd_dispatch_u -> bwd_compute_u ->
 * bwd_combine_u -> bwd_attention_u (half of attn_us x the factor each) ->
 * the layer below's bwd_dispatch_u. The forward's two streams mirrored:
 * compute tasks added per layer as bwd_compute_0, bwd_compute_1,
 * bwd_attention_0, bwd_attention_1 (every GPU's stream runs them in that
 * order), the all-to-alls one communication stream bwd_dispatch_0,
 * bwd_dispatch_1, bwd_combine_0, bwd_combine_1 per layer (each after the
 * one before), so bwd_dispatch_1 runs under bwd_compute_0, bwd_combine_0
 * under bwd_compute_1, bwd_combine_1 under bwd_attention_0 and the layer
 * below's bwd_dispatch_0 under bwd_attention_1. A layer's gradients are
 * ready when micro-batch 1's last task of it ends (it ends after micro-batch
 * 0's on both streams); the gradient all-reduce as moe_backward's. */
static void moe_dual_backward(struct moe *m, struct graph *g)
{
    uint32_t iter = m->iter;
    struct moe_stats keep = m->st;
    uint64_t done[2] = {NONE, NONE}, comm = NONE;
    uint64_t *pos_end = xmalloc((size_t)m->L * sizeof *pos_end);
    for (int l = m->L - 1; l >= 0; l--) {
        struct a2a d[2], o[2];
        uint64_t rc_att[2];
        for (uint32_t u = 0; u < 2; u++) {
            simtime_t half = u ? m->attn_ps - m->attn_ps / 2 : m->attn_ps / 2;
            rc_att[u] = recompute_attention(m, g, l, half, done[u]);
            if (rc_att[u] != NONE) graph_set_micro_batch(g, rc_att[u], (uint8_t)u);
        }
        for (uint32_t u = 0; u < 2; u++) {
            uint64_t from = graph_next_id(g);
            build_dispatch(m, l, u);
            d[u] = add_a2a(m, g, 0, "bwd_dispatch", "bwd_dispatch_nvl", iter, (uint32_t)l, done[u],
                           NULL, 0);
            if (comm != NONE) graph_dep(g, d[u].t[0], comm);
            comm = a2a_last(&d[u]);
            uint64_t rc = recompute_expert(m, g, l, rc_att[u] != NONE ? rc_att[u] : done[u]);
            uint64_t k = graph_compute(g, "bwd_compute", iter, (uint32_t)l, GRAPH_ALL_GPUS,
                                       scaled(slowest_ps(m), m->bwd_factor));
            graph_dep(g, k, a2a_last(&d[u]));
            if (rc != NONE) graph_dep(g, k, rc);
            o[u] =
                add_a2a(m, g, 1, "bwd_combine", "bwd_combine_nvl", iter, (uint32_t)l, k, NULL, 0);
            for (uint64_t id = from; id < graph_next_id(g); id++) {
                graph_tag(g, id, 0, GRAPH_BACKWARD);
                graph_set_micro_batch(g, id, (uint8_t)u);
            }
            done[u] = a2a_last(&o[u]);
        }
        graph_dep(g, o[0].t[0], a2a_last(&d[1]));
        graph_dep(g, o[1].t[0], a2a_last(&o[0]));
        comm = a2a_last(&o[1]);
        for (uint32_t u = 0; m->attn_ps && u < 2; u++) {
            simtime_t half = u ? m->attn_ps - m->attn_ps / 2 : m->attn_ps / 2;
            uint64_t a = graph_compute(g, "bwd_attention", iter, (uint32_t)l, GRAPH_ALL_GPUS,
                                       scaled(half, m->bwd_factor));
            graph_dep(g, a, done[u]);
            graph_tag(g, a, 0, GRAPH_BACKWARD);
            graph_set_micro_batch(g, a, (uint8_t)u);
            done[u] = a;
        }
        pos_end[m->L - 1 - l] = done[1];
    }
    m->st = keep;
    grad_allreduce(m, g, pos_end);
    free(pos_end);
    graph_barrier(g);
}

/* overlap = chunks: adds a whole layer (attention, then per chunk i
 * dispatch_i -> compute_i -> combine_i; dispatch_i after dispatch_{i-1},
 * combine_i after combine_{i-1}; the compute tasks in order on every GPU's
 * stream) and a barrier after it. */
static void moe_layer_overlap(struct moe *m, struct graph *g)
{
    uint32_t iter = m->iter, layer = m->layer;
    uint64_t attn = NONE;
    struct a2a disp = {{NONE, NONE}, 0}, comb = {{NONE, NONE}, 0};
    if (m->attn_ps) attn = graph_compute(g, "attention", iter, layer, GRAPH_ALL_GPUS, m->attn_ps);
    for (uint32_t i = 0; i < m->C; i++) {
        uint64_t from = graph_next_id(g);
        build_dispatch(m, (int)layer, i);
        struct a2a d = add_a2a(m, g, 0, "dispatch", "dispatch_nvl", iter, layer, attn,
                               disp.n ? &disp : NULL, 0);
        uint64_t k = graph_compute(g, "compute", iter, layer, GRAPH_ALL_GPUS, compute_time(m));
        graph_dep(g, k, a2a_last(&d));
        struct a2a o =
            add_a2a(m, g, 1, "combine", "combine_nvl", iter, layer, k, comb.n ? &comb : NULL, 0);
        tag_from(g, from, i, GRAPH_FORWARD);
        disp = d;
        comb = o;
    }
    graph_barrier(g);
}

/* overlap = dual_batch (DeepSeek-style): the whole forward of an iteration
 * as one part, each GPU's tokens in two micro-batches u = 0, 1 (the two
 * halves of its tokens, as chunks = 2 cuts them). Per micro-batch a chain
 * through the layers: attention -> dispatch -> compute -> combine -> the next
 * layer's attention (or dispatch). Compute tasks are added per layer in the
 * order attention_0, attention_1, compute_0, compute_1 (each attention half
 * of workload.attn_us), the order every GPU's
 * stream runs them; the all-to-alls form one communication stream too, in
 * the order dispatch_0, dispatch_1, combine_0, combine_1 per layer (each
 * waits for the one before), so one micro-batch's all-to-all runs under the
 * other's compute (combine_1 under the next layer's attention_0) and two
 * all-to-alls never share the fabric. Rows per layer: the attention rows
 * (u = 0, 1), then micro-batch 0's dispatch (dispatch_nvl), compute, combine
 * (combine_nvl before it), then micro-batch 1's; each task's graph
 * micro_batch field says which. Then a barrier. */
static void moe_dual_batch(struct moe *m, struct graph *g)
{
    uint32_t iter = m->iter;
    uint64_t done[2] = {NONE, NONE}, comm = NONE; /* each one's last task; the last all-to-all */
    for (uint32_t l = 0; l < (uint32_t)m->L; l++) {
        m->layer = l; /* compute_time's gpu_load row */
        uint64_t attn[2] = {NONE, NONE};
        for (uint32_t u = 0; m->attn_ps && u < 2; u++) {
            /* each micro-batch's half of the layer's dense work */
            simtime_t half = u ? m->attn_ps - m->attn_ps / 2 : m->attn_ps / 2;
            attn[u] = graph_compute(g, "attention", iter, l, GRAPH_ALL_GPUS, half);
            graph_set_micro_batch(g, attn[u], (uint8_t)u);
            if (done[u] != NONE) graph_dep(g, attn[u], done[u]);
            done[u] = attn[u];
        }
        struct a2a d[2], o[2];
        for (uint32_t u = 0; u < 2; u++) {
            build_dispatch(m, (int)l, u);
            d[u] = add_a2a(m, g, 0, "dispatch", "dispatch_nvl", iter, l, done[u], NULL, 0);
            if (comm != NONE) graph_dep(g, d[u].t[0], comm);
            comm = a2a_last(&d[u]);
            uint64_t k = graph_compute(g, "compute", iter, l, GRAPH_ALL_GPUS, compute_time(m));
            graph_dep(g, k, a2a_last(&d[u]));
            o[u] = add_a2a(m, g, 1, "combine", "combine_nvl", iter, l, k, NULL, 0);
            for (int h = 0; h < d[u].n; h++) {
                graph_set_micro_batch(g, d[u].t[h], (uint8_t)u);
                graph_set_micro_batch(g, o[u].t[h], (uint8_t)u);
            }
            graph_set_micro_batch(g, k, (uint8_t)u);
            done[u] = a2a_last(&o[u]);
        }
        /* the communication stream: dispatch_0, dispatch_1, combine_0, combine_1 */
        graph_dep(g, o[0].t[0], a2a_last(&d[1]));
        graph_dep(g, o[1].t[0], a2a_last(&o[0]));
        comm = a2a_last(&o[1]);
    }
    m->layer = 0;
    graph_barrier(g);
}

/* Adds the next phase (attention, then per chunk dispatch, compute on every
 * GPU's stream, combine) and a barrier after it; with overlap = chunks, the
 * next layer (moe_layer_overlap). */
static int moe_next(void *state, struct graph *g)
{
    struct moe *m = state;
    for (;;) {
        if (m->iter >= m->iterations) return 0;
        if (m->bwd_due) {
            if (m->dual)
                moe_dual_backward(m, g);
            else
                moe_backward(m, g);
            m->bwd_due = 0;
            m->iter++;
            return 1;
        }
        uint32_t iter = m->iter, layer = (uint32_t)m->layer;
        if (m->dual) {
            fill_batch(m, m->iter);
            moe_dual_batch(m, g);
            if (m->training)
                m->bwd_due = 1;
            else
                m->iter++;
            return 1;
        }
        if (m->overlap) {
            if (m->layer == 0) fill_batch(m, m->iter);
            moe_layer_overlap(m, g);
            if (++m->layer == (uint32_t)m->L) {
                m->layer = 0;
                if (m->training)
                    m->bwd_due = 1;
                else
                    m->iter++;
            }
            return 1;
        }
        if (m->step == 0 && m->chunk == 0 && m->layer == 0 && m->attn_ps == 0)
            fill_batch(m, m->iter);
        if (m->step == 4) {
            if (m->layer == 0) fill_batch(m, m->iter);
            graph_compute(g, "attention", iter, layer, GRAPH_ALL_GPUS, m->attn_ps);
            graph_barrier(g);
            m->step = 0;
            return 1;
        }
        if (m->step == 0) {
            uint64_t from = graph_next_id(g);
            build_dispatch(m, (int)m->layer, m->chunk);
            add_a2a(m, g, 0, "dispatch", "dispatch_nvl", iter, layer, NONE, NULL, 1);
            tag_from(g, from, m->chunk, GRAPH_FORWARD);
            graph_barrier(g);
            m->step = 1;
            return 1;
        }
        if (m->step == 1) {
            graph_tag(g, graph_compute(g, "compute", iter, layer, GRAPH_ALL_GPUS, compute_time(m)),
                      m->chunk, GRAPH_FORWARD);
            graph_barrier(g);
            int last = m->layer + 1 == (uint32_t)m->L;
            m->step = !m->coherent || last ? 2 : 3;
            return 1;
        }
        if (m->step == 2) {
            uint64_t from = graph_next_id(g);
            if (m->coherent) {
                build_combine_coherent(m, m->chunk);
                graph_net(g, "combine", iter, layer, m->dem, m->ndem);
            } else {
                add_a2a(m, g, 1, "combine", "combine_nvl", iter, layer, NONE, NULL, 1);
            }
            tag_from(g, from, m->chunk, GRAPH_FORWARD);
            graph_barrier(g);
            m->step = 3;
            return 1;
        }
        /* step 3: next chunk, layer or iteration */
        m->step = 0;
        if (++m->chunk < m->C) continue;
        m->chunk = 0;
        if (++m->layer == (uint32_t)m->L) {
            m->layer = 0;
            if (m->training)
                m->bwd_due = 1;
            else
                m->iter++;
        }
        if (m->attn_ps) m->step = 4;
    }
}

static void moe_destroy(void *state)
{
    struct moe *m = state;
    trace_free(&m->tr);
    wl_compute_free(&m->comp);
    if (m->rng) gsl_rng_free(m->rng);
    pl_free(&m->pl);
    free(m->pass_off);
    free(m->uses);
    free(m->tok);
    free(m->cur);
    free(m->mat);
    free(m->mat2);
    free(m->etok);
    free(m->gload);
    free(m->dem);
    free(m->sp);
    free(m->rot);
    free(m->row);
    free(m->rowd);
    free(m->rowmark);
    free(m->hold);
    free(m->srv);
    free(m->rowkey);
    free(m->gtab);
    free(m->bucket);
    free(m);
}

/* gpu_load rows: token-expert selections each GPU computed per layer, summed
 * over iterations. */
static size_t moe_gpu_load(void *state, struct res_gpu_load **out)
{
    struct moe *m = state;
    size_t n = (size_t)m->L * m->G;
    struct res_gpu_load *r = xmalloc(n * sizeof *r);
    for (size_t i = 0; i < n; i++)
        r[i] = (struct res_gpu_load){(uint32_t)(i / m->G), (uint32_t)(i % m->G), m->gload[i]};
    *out = r;
    return n;
}

/* trace_use rows: every trace token the replay could draw from (those past
 * the placement's training part), with how often it was used. */
static size_t moe_trace_use(void *state, struct res_trace_use **out)
{
    struct moe *m = state;
    size_t n = m->tr.tokens - m->eval_begin;
    struct res_trace_use *r = xmalloc(n * sizeof *r);
    for (size_t i = 0; i < n; i++)
        r[i] = (struct res_trace_use){m->eval_begin + i, m->uses[m->eval_begin + i]};
    *out = r;
    return n;
}

/* notes rows: the placement's shared cost on its training tokens (after
 * the policy, and after refine), the ilp's status, bound and gap, with
 * hierarchical dispatch or a node limit the forward dispatches' network
 * copies, most servers per token, and selections moved or dropped by the
 * node limit (struct moe_stats), and for a
 * calibrated compute model the range it was asked against the range it was
 * measured on (an expert with more tokens than the last row is extrapolated,
 * compute.h). */
static size_t moe_notes(void *state, struct res_note **out)
{
    struct moe *m = state;
    struct res_note *r = xcalloc(12, sizeof *r);
    size_t n = 0;
#define NOTE(k, ...)                                                                               \
    (snprintf(r[n].key, sizeof r[n].key, "%s", k),                                                 \
     snprintf(r[n].value, sizeof r[n].value, __VA_ARGS__), n++)
    NOTE("placement.cost_policy_us", "%.17g", m->pl.cost_policy);
    NOTE("placement.cost_us", "%.17g", m->pl.cost);
    if (m->pl.ilp_status != PL_ILP_NONE) {
        NOTE("placement.ilp_status", "%s",
             m->pl.ilp_status == PL_ILP_OPTIMAL ? "optimal" : "feasible");
        if (!isnan(m->pl.ilp_bound)) NOTE("placement.ilp_bound_us", "%.17g", m->pl.ilp_bound);
        if (!isnan(m->pl.ilp_gap)) NOTE("placement.ilp_gap", "%.17g", m->pl.ilp_gap);
    }
    if (m->comp.calibrated) {
        NOTE("compute.calibrated_tokens", "%.0f", m->comp.tokens[m->comp.n - 1]);
        NOTE("compute.max_expert_tokens", "%llu", (unsigned long long)m->max_expert_tokens);
    }
    if (m->hier || m->max_nodes) { /* only then, so that other runs keep their rows */
        NOTE("dispatch.net_copies", "%llu", (unsigned long long)m->st.net_copies);
        NOTE("dispatch.max_token_nodes", "%u", m->st.max_token_nodes);
        NOTE("dispatch.node_moved", "%llu", (unsigned long long)m->st.node_moved);
        NOTE("dispatch.node_dropped", "%llu", (unsigned long long)m->st.node_dropped);
    }
#undef NOTE
    *out = r;
    return n;
}

/* Checks that the scenario's MoE keys agree with the trace. */
static int check_trace(const struct wl_specs *c, const struct trace *t, struct err *e)
{
    if (c->wl->experts && c->wl->experts != t->experts)
        return err_set(e, "workload.experts: %lld contradicts the trace's %d experts (%s)",
                       (long long)c->wl->experts, t->experts, c->wl->trace);
    if (c->wl->topk > t->topk)
        return err_set(e, "workload.topk: %lld is more than the trace's top-%d (%s)",
                       (long long)c->wl->topk, t->topk, c->wl->trace);
    if (c->wl->layers > t->layers)
        return err_set(e, "workload.layers: %lld is more than the trace's %d layers (%s)",
                       (long long)c->wl->layers, t->layers, c->wl->trace);
    if (t->tokens == 0) return err_set(e, "workload.trace: %s has no tokens", c->wl->trace);
    return 0;
}

void wl_moe_fabric(const struct wl_specs *c, const struct topo *t, const struct wl_compute *comp,
                   struct pl_fabric *f)
{
    pl_fabric_default(f, (int)t->hosts, (int)topo_place_leaves(t));
    f->gpus_per_server = (int)topo_gpus_per_server(t);
    f->gpu_gbps = topo_host_gbps(t);
    f->nvlink_gbps = topo_nvlink_gbps(t);
    f->leaf_uplink_gbps = topo_place_uplink_gbps(t);
    f->bytes_per_token = (double)((uint64_t)c->wl->hidden * (uint64_t)c->wl->dtype_bytes);
    f->compute_us_per_token = (double)wl_compute_ps(comp, 1000) / 1000.0 / (double)PS_PER_US;
    f->w_compute = c->pl->w_compute;
    f->w_network = c->pl->w_network;
    f->mode = c->wl->ep_mode == EP_COHERENT ? PL_COHERENT : PL_STANDARD;
    f->shard = c->wl->shard == SHARD_ROUND_ROBIN ? PL_SHARD_ROUND_ROBIN : PL_SHARD_CONTIGUOUS;
}

/* The scenario key a placement failure is fixed at (see wl_moe_check). */
static const char *moe_fail_key(enum pl_fail why)
{
    switch (why) {
    case PL_FAIL_GPUS:
        return "topology.hosts_per_leaf";
    case PL_FAIL_LEAVES:
        return "topology.leaves";
    case PL_FAIL_SHAPE:
        return "workload.trace";
    case PL_FAIL_SERVERS:
        return "topology.gpus_per_host";
    case PL_FAIL_REPLICAS:
    case PL_FAIL_SLOTS:
        return "placement.replicas";
    case PL_FAIL_ILP_TIME:
        return "placement.ilp_time_limit_s";
    case PL_FAIL_POLICY:
    case PL_FAIL_EPLB_LEAVES:
    case PL_FAIL_ILP_SIZE:
        break;
    }
    return "placement.policy";
}

int wl_moe_check(const struct wl_specs *c, int gpus, int leaves, int per_server, int experts,
                 int layers, struct err *e)
{
    if (gpus > INT16_MAX)
        return err_set(e, "topology.hosts_per_leaf: the moe workload holds at most %d GPUs",
                       INT16_MAX);
    char policy[64];
    opt_enum_text(&pl_options, "placement", "policy", c->pl->policy, policy, sizeof policy);
    struct pl_request r = {policy,
                           experts,
                           layers,
                           gpus,
                           leaves,
                           (int)c->pl->replicas,
                           c->pl->ilp_time_limit_s,
                           per_server,
                           c->wl->ep_mode == EP_COHERENT};
    enum pl_fail why;
    struct err reason;
    if (pl_check(&r, &why, &reason) < 0) return err_set(e, "%s: %s", moe_fail_key(why), reason.msg);
    return 0;
}

/* Computes the placement on the first placement.train of the trace's tokens
 * (or on all of them when train = 0), scored on this fabric. */
static int place_experts(struct moe *m, const struct wl_specs *c, const struct topo *t,
                         struct err *e)
{
    size_t T = m->tr.tokens, ntrain = (size_t)(c->pl->train * (double)T);
    if (c->pl->train > 0 && (ntrain == 0 || ntrain >= T))
        return err_set(e, "placement.train: %g of the trace's %zu tokens leaves %s", c->pl->train,
                       T,
                       ntrain == 0 ? "no token to compute the placement on" : "no token to replay");
    struct pl_fabric f;
    wl_moe_fabric(c, t, &m->comp, &f);
    struct pl_params p = {(int)c->pl->replicas, c->pl->refine, wl_seed(c), c->pl->ilp_time_limit_s};
    const char *policy = pl_policies[c->pl->policy].name;
    /* Layers beyond workload.layers do not count: train on a view of the
     * trace's first L layers. */
    struct trace view = m->tr;
    if (m->L < m->tr.layers || m->K < m->tr.topk) {
        if (trace_alloc(&view, ntrain ? ntrain : T, m->E, m->K, m->L, e) < 0) return -1;
        for (size_t i = 0; i < view.tokens; i++)
            for (int l = 0; l < m->L; l++)
                for (int k = 0; k < m->K; k++) {
                    size_t a = trace_idx(&view, i, l, k), b = trace_idx(&m->tr, i, l, k);
                    view.expert[a] = m->tr.expert[b];
                    view.weight[a] = m->tr.weight[b];
                }
    }
    int rc = pl_compute(policy, &view, 0, ntrain ? ntrain : T, &f, &p, &m->pl, e);
    if (view.expert != m->tr.expert) trace_free(&view);
    m->eval_begin = ntrain;
    return rc;
}

size_t wl_moe_memory_per_token(int topk)
{
    const struct moe *m = NULL; /* only for sizeof */
    return sizeof *m->tok + (size_t)topk * sizeof *m->cur;
}

size_t wl_moe_memory_per_gpu_pair(void)
{
    const struct moe *m = NULL;
    return sizeof *m->mat + sizeof *m->dem;
}

int wl_moe_create(const struct wl_specs *c, const struct topo *t, struct wl_gen *g, struct err *e)
{
    if (!c->wl->trace[0])
        return err_set(e, "workload.trace: workload.kind = moe needs a routing trace");
    struct moe *m = xcalloc(1, sizeof *m);
    m->G = t->hosts;
    m->N = (uint64_t)c->wl->tokens_per_gpu;
    m->B = m->G * m->N;
    m->iterations = (uint32_t)c->sim->iterations;
    /* The whole trace when part of it trains the placement; else only what
     * the batches use. */
    uint64_t want = c->pl->train > 0 ? 0 : m->B * m->iterations;
    if (trace_load(c->wl->trace, want, &m->tr, e) < 0 || check_trace(c, &m->tr, e) < 0) {
        moe_destroy(m);
        return -1;
    }
    if (m->tr.tokens > UINT32_MAX) {
        moe_destroy(m);
        return err_set(e, "workload.trace: more than %u tokens", UINT32_MAX);
    }
    m->E = m->tr.experts;
    m->K = c->wl->topk ? (int)c->wl->topk : m->tr.topk;
    m->L = c->wl->layers ? (int)c->wl->layers : m->tr.layers;
    m->shard = c->wl->shard;
    m->coherent = c->wl->ep_mode == EP_COHERENT;
    m->dedup = c->wl->dedup;
    m->msg_bytes = (uint64_t)c->wl->hidden * (uint64_t)c->wl->dtype_bytes;
    m->C = (uint32_t)c->wl->chunks;
    m->overlap = c->wl->overlap == WL_OVERLAP_CHUNKS;
    m->attn_ps = (simtime_t)llround(c->wl->attn_us * (double)PS_PER_US);
    if (c->wl->stage == WL_STAGE_DECODE && c->wl->kv_context > 0) {
        /* decode's attention reads every cached K and V of its sequences:
         * tokens_per_gpu sequences x kv_context tokens x kv_bytes, at HBM rate */
        double kv =
            (double)c->wl->tokens_per_gpu * (double)c->wl->kv_context * (double)c->wl->kv_bytes;
        m->attn_ps += (simtime_t)llround(kv / (c->wl->hbm_gbps * 1e9) * (double)PS_PER_S);
    }
    m->step = m->attn_ps ? 4 : 0;
    m->training = c->wl->pass == WL_PASS_TRAINING;
    m->bwd_factor = c->wl->backward_factor;
    m->dense_bytes = (uint64_t)c->wl->dense_bytes;
    m->dp = c->wl->dp_size ? (uint32_t)c->wl->dp_size : m->G;
    m->dp_layout = c->wl->dp_layout;
    m->grad_algo = c->wl->grad_algo;
    m->grad_chunks = (uint32_t)c->wl->grad_chunks;
    m->buckets = (uint32_t)c->wl->grad_buckets;
    m->cap_bytes = moe_cap_bytes(c->wl->bucket_cap_mb);
    m->recompute = c->wl->recompute;
    m->t = t;
    m->hier = c->wl->dispatch == WL_DISPATCH_HIERARCHICAL;
    m->P = topo_gpus_per_server(t) ? topo_gpus_per_server(t) : 1;
    m->max_nodes = (uint32_t)c->wl->max_nodes;
    m->dual = c->wl->overlap == WL_OVERLAP_DUAL_BATCH;
    if (m->dual) m->C = 2;
    if (wl_moe_check(c, (int)m->G, (int)topo_place_leaves(t), (int)topo_gpus_per_server(t), m->E,
                     m->L, e) < 0) {
        moe_destroy(m);
        return -1;
    }
    if (wl_compute_init(c->wl, &m->comp, e) < 0) {
        moe_destroy(m);
        return -1;
    }
    m->rng = rng_alloc(wl_seed(c), RNG_TRACE, 0);
    if (place_experts(m, c, t, e) < 0) {
        moe_destroy(m);
        return -1;
    }
    m->uses = xcalloc(m->tr.tokens, sizeof *m->uses);
    m->tok = xmalloc(m->B * sizeof *m->tok);
    m->cur = xmalloc(m->B * (size_t)m->K * sizeof *m->cur);
    memset(m->cur, 0xff, m->B * (size_t)m->K * sizeof *m->cur);
    m->sparse = !m->coherent && !m->hier;
    if (m->sparse) {
        m->row = xcalloc(m->G, sizeof *m->row);
        m->rowd = xcalloc(m->G, sizeof *m->rowd);
        m->rowmark = xcalloc(m->G, sizeof *m->rowmark);
        m->hold = xcalloc((size_t)m->E, sizeof *m->hold);
        m->srv = xcalloc(m->G, sizeof *m->srv);
        for (uint32_t i = 0; i < m->G; i++)
            m->srv[i] = i / m->P;
        m->rowkey = xcalloc(m->G, sizeof *m->rowkey);
        m->bucket = xcalloc((size_t)m->G + 1, sizeof *m->bucket);
    } else {
        m->mat = xcalloc((size_t)m->G * m->G, sizeof *m->mat);
    }
    if (m->hier) m->mat2 = xcalloc((size_t)m->G * m->G, sizeof *m->mat2);
    m->etok = xcalloc((size_t)m->G * m->E, sizeof *m->etok);
    m->gload = xcalloc((size_t)m->L * m->G, sizeof *m->gload);
    if (!m->sparse) m->dem = xmalloc((size_t)m->G * m->G * sizeof *m->dem);
    g->state = m;
    g->next = moe_next;
    g->destroy = moe_destroy;
    g->gpu_load = moe_gpu_load;
    g->trace_use = moe_trace_use;
    g->notes = moe_notes;
    return 0;
}

const struct moe_stats *wl_moe_stats(const struct wl_gen *g)
{
    const struct moe *m = g->state;
    struct moe_stats *s = (struct moe_stats *)&m->st;
    s->trace_tokens = m->tr.tokens;
    s->missing = m->tr.missing;
    s->uses = m->uses;
    s->min_uses = UINT64_MAX;
    s->max_uses = 0;
    for (size_t i = 0; i < m->tr.tokens; i++) {
        if (m->uses[i] < s->min_uses) s->min_uses = m->uses[i];
        if (m->uses[i] > s->max_uses) s->max_uses = m->uses[i];
    }
    return s;
}

/* What the MoE generator allocates from the configuration alone (topk 1
 * when it comes from the trace): wl_moe_memory_per_token per batch token,
 * wl_moe_memory_per_gpu_pair per GPU pair. The trace and the flows of a
 * phase (not known before the run) come on top. */
static void moe_footprint(const struct wl_specs *c, const struct topo_spec *tp,
                          struct wl_footprint *f)
{
    double H = (double)(tp->leaves * tp->hosts_per_leaf);
    double B = H * (double)c->wl->tokens_per_gpu;
    int K = c->wl->topk ? (int)c->wl->topk : 1;
    f->state_bytes =
        B * (double)wl_moe_memory_per_token(K) + H * H * (double)wl_moe_memory_per_gpu_pair();
    if (c->wl->dispatch == WL_DISPATCH_HIERARCHICAL) f->state_bytes += H * H * sizeof(uint64_t);
    /* one chunk's all-to-all: each GPU sends to at most its chunk's token
     * copies' GPUs (the flow engine holds those alive, app/validate.c) */
    double C = c->wl->chunks > 1 ? (double)c->wl->chunks : 1;
    double per = ceil((double)c->wl->tokens_per_gpu * K / C);
    f->msgs_alive = H * (per < H - 1 ? per : H - 1);
    f->key = opt_table_find(&wl_options, "workload", "tokens_per_gpu");
}

/* The step options against one another (before the trace is read). */
static int moe_check(const struct wl_specs *c, const struct topo_spec *tp,
                     const struct opt_def **bad, struct err *e)
{
    if (c->wl->algo != WL_ALGO_AUTO) {
        char algo[64];
        opt_enum_text(&wl_options, "workload", "algo", c->wl->algo, algo, sizeof algo);
        return wl_fail(bad, e, &wl_options, "workload", "algo",
                       "%s is not an algorithm of workload.kind = moe (it has: auto)", algo);
    }
    if (c->wl->chunks > c->wl->tokens_per_gpu)
        return wl_fail(bad, e, &wl_options, "workload", "chunks",
                       "%lld chunks of workload.tokens_per_gpu = %lld tokens leave a chunk empty",
                       (long long)c->wl->chunks, (long long)c->wl->tokens_per_gpu);
    if (c->wl->pass == WL_PASS_TRAINING && c->wl->ep_mode == EP_COHERENT)
        return wl_fail(bad, e, &wl_options, "workload", "pass",
                       "training is not modeled with workload.ep_mode = coherent (use forward)");
    if (c->wl->overlap == WL_OVERLAP_CHUNKS && c->wl->ep_mode == EP_COHERENT)
        return wl_fail(bad, e, &wl_options, "workload", "overlap",
                       "chunks is not modeled with workload.ep_mode = coherent (use none)");
    int64_t P = tp->gpus_per_host > 0 ? tp->gpus_per_host : 1;
    int64_t nodes = tp->leaves * tp->hosts_per_leaf / P;
    if (c->wl->dispatch == WL_DISPATCH_HIERARCHICAL && P < 2)
        return wl_fail(bad, e, &wl_options, "workload", "dispatch",
                       "hierarchical needs servers of several GPUs (topology.gpus_per_host = %lld)",
                       (long long)P);
    if (c->wl->dispatch == WL_DISPATCH_HIERARCHICAL && c->wl->ep_mode == EP_COHERENT)
        return wl_fail(bad, e, &wl_options, "workload", "dispatch",
                       "hierarchical is not modeled with workload.ep_mode = coherent (use direct)");
    if (c->wl->max_nodes > nodes)
        return wl_fail(bad, e, &wl_options, "workload", "max_nodes",
                       "%lld is more than the %lld nodes (servers of topology.gpus_per_host = %lld "
                       "GPUs)",
                       (long long)c->wl->max_nodes, (long long)nodes, (long long)P);
    if (c->wl->max_nodes && c->wl->ep_mode == EP_COHERENT)
        return wl_fail(
            bad, e, &wl_options, "workload", "max_nodes",
            "node-limited routing is not modeled with workload.ep_mode = coherent (use 0)");
    if (c->wl->overlap == WL_OVERLAP_DUAL_BATCH) {
        const char *why = c->wl->ep_mode == EP_COHERENT ? "workload.ep_mode = coherent"
                          : c->wl->chunks > 1           ? "workload.chunks > 1"
                          : c->wl->tokens_per_gpu < 2   ? "workload.tokens_per_gpu = 1"
                                                        : NULL;
        if (why)
            return wl_fail(bad, e, &wl_options, "workload", "overlap",
                           "dual_batch is not modeled with %s (two micro-batches of each GPU's "
                           "tokens)",
                           why);
    }
    int64_t G = tp->leaves * tp->hosts_per_leaf;
    if (c->wl->dp_size > 0 && G % c->wl->dp_size != 0)
        return wl_fail(bad, e, &wl_options, "workload", "dp_size",
                       "%lld GPUs per data-parallel group do not divide the %lld GPUs",
                       (long long)c->wl->dp_size, (long long)G);
    if (c->wl->stage == WL_STAGE_DECODE && c->wl->pass == WL_PASS_TRAINING)
        return wl_fail(bad, e, &wl_options, "workload", "stage",
                       "decode is inference: not with workload.pass = training");
    if (c->wl->kv_context > 0 && c->wl->stage != WL_STAGE_DECODE)
        return wl_fail(bad, e, &wl_options, "workload", "kv_context",
                       "the KV-cache read model is for workload.stage = decode (prefill's "
                       "attention: workload.attn_us)");
    if (c->wl->recompute && c->wl->pass != WL_PASS_TRAINING)
        return wl_fail(bad, e, &wl_options, "workload", "recompute",
                       "activation recomputation is for workload.pass = training (there is no "
                       "backward pass here)");
    if (c->wl->bucket_cap_mb > 0 && c->wl->grad_buckets > 0)
        return wl_fail(bad, e, &wl_options, "workload", "bucket_cap_mb",
                       "not with workload.grad_buckets = %lld (buckets by bytes or by count: "
                       "set one of the two)",
                       (long long)c->wl->grad_buckets);
    int64_t P_dp = c->wl->dp_size ? c->wl->dp_size : G;
    if (c->wl->pass == WL_PASS_TRAINING && c->wl->dense_bytes > 0 && P_dp > 1) {
        int hd = c->wl->grad_algo == WL_GRAD_HALVING_DOUBLING;
        if (hd && (P_dp & (P_dp - 1)))
            return wl_fail(bad, e, &wl_options, "workload", "grad_algo",
                           "halving_doubling needs a data-parallel group of a power of two GPUs, "
                           "not %lld",
                           (long long)P_dp);
        if (hd && c->wl->grad_chunks > 1)
            return wl_fail(bad, e, &wl_options, "workload", "grad_chunks",
                           "chunk pipelining is modeled for workload.grad_algo = ring and tree, "
                           "not halving_doubling (use 1)");
        int tree = c->wl->grad_algo == WL_GRAD_TREE;
        int64_t room = tree ? c->wl->dense_bytes / 2 : c->wl->dense_bytes / P_dp;
        if (c->wl->grad_chunks > room)
            return wl_fail(bad, e, &wl_options, "workload", "grad_chunks",
                           "%lld chunks of %lld bytes (a %s of workload.dense_bytes) leave a "
                           "chunk empty",
                           (long long)c->wl->grad_chunks, (long long)room,
                           c->wl->grad_algo == WL_GRAD_TREE ? "tree's half" : "ring step");
        uint64_t cap = moe_cap_bytes(c->wl->bucket_cap_mb), S = (uint64_t)c->wl->dense_bytes;
        if (c->wl->bucket_cap_mb > 0 && cap == 0)
            return wl_fail(bad, e, &wl_options, "workload", "bucket_cap_mb",
                           "%g MiB is less than a byte", c->wl->bucket_cap_mb);
        if (cap && moe_cap_buckets(S, cap) > 65536)
            return wl_fail(bad, e, &wl_options, "workload", "bucket_cap_mb",
                           "buckets of %llu byte%s cut workload.dense_bytes = %llu into %llu "
                           "buckets, more than 65536",
                           (unsigned long long)cap, cap == 1 ? "" : "s", (unsigned long long)S,
                           (unsigned long long)moe_cap_buckets(S, cap));
        if (cap) {
            /* the smallest bucket: the last, the rest after the full ones */
            uint64_t nb = moe_cap_buckets(S, cap), last = S - (nb - 1) * cap;
            int64_t lroom = (int64_t)(tree ? last / 2 : last / (uint64_t)P_dp);
            if (c->wl->grad_chunks > lroom)
                return wl_fail(bad, e, &wl_options, "workload", "bucket_cap_mb",
                               "buckets of %llu bytes leave a last bucket of %llu bytes of "
                               "workload.dense_bytes = %llu, %lld bytes a %s: fewer than its "
                               "%lld chunk%s (workload.grad_chunks)",
                               (unsigned long long)cap, (unsigned long long)last,
                               (unsigned long long)S, (long long)lroom,
                               tree ? "tree's half" : "ring step", (long long)c->wl->grad_chunks,
                               c->wl->grad_chunks == 1 ? "" : "s");
        }
        /* buckets: the smallest bucket's ring step (or tree's half) */
        int64_t nb = c->wl->grad_buckets, bucket = nb > 0 ? c->wl->dense_bytes / nb : 0;
        int64_t broom = tree ? bucket / 2 : bucket / P_dp;
        if (nb > 0 && c->wl->grad_chunks > broom)
            return wl_fail(bad, e, &wl_options, "workload", "grad_buckets",
                           "%lld buckets of workload.dense_bytes = %lld leave a bucket of %lld "
                           "bytes, %lld bytes a %s: fewer than its %lld chunk%s "
                           "(workload.grad_chunks)",
                           (long long)nb, (long long)c->wl->dense_bytes, (long long)bucket,
                           (long long)broom, tree ? "tree's half" : "ring step",
                           (long long)c->wl->grad_chunks, c->wl->grad_chunks == 1 ? "" : "s");
    }
    return 0;
}

/* Dispatch and combine per layer: always several network phases. */
static int moe_multiphase(const struct wl_specs *c)
{
    (void)c;
    return 1;
}

const struct wl_def wl_def_moe = {
    .kind = WL_MOE,
    .create = wl_moe_create,
    .check = moe_check,
    .footprint = moe_footprint,
    .multiphase = moe_multiphase,
};
