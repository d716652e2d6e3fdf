/* collective_reduce.c - the reducing collectives: allreduce, reduce_scatter
 * and allgather, by workload.algo = ring (auto) or halving_doubling.
 *
 * Every host holds a buffer of S = workload.bytes, cut into N chunks (N the
 * fabric's hosts; chunk j has S/N bytes, the first S mod N one more).
 *
 * ring: a step is a shift permutation: at step k host i sends one chunk to
 * host i+1 (chunk (i-k) mod N, so the chunk it got at step k-1 travels on).
 * A reduce_scatter is N-1 steps (each host ends with one reduced chunk), an
 * allgather N-1 steps (each host ends with every chunk), an allreduce both:
 * 2(N-1) steps, the first N-1 named "reduce_scatter", the rest "allgather".
 *
 * halving_doubling (N a power of two): a reduce_scatter by recursive
 * halving, log2 N steps, step s exchanging half of what is left with the host
 * at distance N/2^(s+1) (i XOR that), S/2^(s+1) bytes each way (rounded up to
 * whole bytes); an allgather by recursive doubling, log2 N steps, step s
 * exchanging S*2^s/N bytes (rounded up) with host i XOR 2^s; an allreduce
 * both. Every host sends 2(N-1)/N x S in an allreduce, as in the ring, in
 * 2 log2 N steps instead of 2(N-1).
 *
 * Task graph (per iteration): one network task per (step, host), of its one
 * message; the task of step k on host i depends on
 *   - host i's own step k-1 (one step at a time per host, as a collective
 *     library's channel issues them), and
 *   - the step k-1 task whose message came into host i (ring: host i-1's;
 *     halving_doubling: its step k-1 partner's), whose data it forwards.
 * There is no barrier between steps, so steps pipeline: a host starts its
 * next step as soon as its own data is in, not when the slowest host of the
 * step is done, and every step's messages share one engine (sim/exec.h).
 * A barrier per step would be the phase model; it is not offered. On an idle
 * fabric with equal hosts the two are the same: each step takes one
 * message's time, so a ring allreduce takes 2(N-1) x (S/N / B + a message's
 * latency). Iterations are separated by a barrier.
 *
 * ring with workload.chunks = C > 1 (a pipelined ring, as NCCL runs it):
 * each step's message is cut into C chunks (the first b mod C one byte
 * larger), one network task each; chunk c of step k on host i waits for
 * chunk c of step k-1 from host i-1 (its data) and for host i's link: a host
 * sends its chunks in order (step k's 0..C-1, then step k+1's), each when
 * the one before it has been serialized at the link's rate, modeled as a
 * `ring_link` delay (a task on no stream) of the previous chunk's wire time
 * that waits for what the previous chunk waited for, so it ends when that
 * chunk's last byte leaves the host (the NIC would otherwise share its link
 * round robin between the chunks, and none would arrive early). A step no
 * longer waits for its whole message: with wire time tau = S/(N C B) per
 * chunk and d = a chunk's lone-message time (tau plus latency a), K steps
 * take (K-1) max(C tau, d) + (C-1) tau + d (C = 1: K d), i.e. K S/(N B) + a
 * once C tau >= d (tests/test_ring.c). C = 1 is the graph above.
 *
 * The phases table has one row per task: name as above, `layer` = the step
 * (0 .. steps-1), in step order then host order (docs/results.md); with
 * chunks, per host its chunks in order, each `ring_link` row before its
 * chunk's (the tasks table's `chunk` = c).
 * Compute (the reduction) is not modeled.
 */
#include <math.h>
#include <stdlib.h>

#include "workloads/wl.h"

struct ring {
    uint32_t H, steps, iter, iterations;
    uint64_t bytes;
    int kind;   /* enum wl_kind */
    int hd;     /* halving_doubling (else ring) */
    uint32_t C; /* ring: workload.chunks */
    const struct topo *t;
    uint32_t log2h;
};

static uint32_t log2u(uint32_t h)
{
    uint32_t k = 0;
    while ((1u << (k + 1)) <= h)
        k++;
    return k;
}

/* Steps of a kind on H hosts. */
static uint32_t ring_steps(int kind, uint32_t H, int hd)
{
    uint32_t half = hd ? log2u(H) : H - 1;
    return kind == WL_ALLREDUCE ? 2 * half : half;
}

/* halving_doubling: whether step k is a reduce_scatter step, and its
 * distance (the partner is i XOR it) and bytes. */
static int hd_step(const struct ring *s, uint32_t k, uint32_t *dist, uint64_t *bytes)
{
    int rs = s->kind == WL_REDUCE_SCATTER || (s->kind == WL_ALLREDUCE && k < s->log2h);
    uint32_t j = s->kind == WL_ALLREDUCE && !rs ? k - s->log2h : k;
    uint64_t num; /* bytes = ceil(S * num / H) */
    if (rs) {
        *dist = s->H >> (j + 1);
        num = *dist;
    } else {
        *dist = 1u << j;
        num = *dist;
    }
    /* without overflow: S/H whole, and the remainder's share rounded up */
    *bytes = s->bytes / s->H * num + (s->bytes % s->H * num + s->H - 1) / s->H;
    return rs;
}

static uint64_t chunk_bytes(const struct ring *s, uint32_t j)
{
    return s->bytes / s->H + (j < s->bytes % s->H);
}

/* Chunk c of C of a step's message of b bytes (the first b mod C one byte
 * larger). */
static uint64_t sub_bytes(uint64_t b, uint32_t C, uint32_t c)
{
    return b / C + (c < b % C);
}

void wl_ring_add(struct graph *g, const char *rs_name, const char *ag_name, uint32_t iter,
                 const struct wl_ring *rg, uint64_t bytes)
{
    uint32_t H = rg->n, C = rg->chunks ? rg->chunks : 1;
    struct ring r = {.H = H, .bytes = bytes};
    uint32_t half = H - 1, steps = (rs_name ? half : 0) + (ag_name ? half : 0);
#define HOST(i) (rg->hosts ? rg->hosts[i] : (i))
    if (C == 1) {
        uint64_t first = graph_next_id(g);
        for (uint32_t k = 0; k < steps; k++) {
            const char *name = rs_name && k < half ? rs_name : ag_name;
            for (uint32_t i = 0; i < H; i++) {
                uint32_t j = (i + H - k % H) % H; /* the chunk host i sends */
                struct topo_demand d = {HOST(i), HOST((i + 1) % H), chunk_bytes(&r, j)};
                uint64_t id = graph_net(g, name, iter, k, &d, 1);
                if (k > 0) {
                    graph_dep(g, id, first + (uint64_t)(k - 1) * H + i);
                    graph_dep(g, id, first + (uint64_t)(k - 1) * H + (i + H - 1) % H);
                }
            }
        }
        return;
    }
    /* Pipelined: per host, the chunks go out in order (step k's chunks 0..C-1,
     * then step k+1's), each as soon as the chunk of the step before has come
     * in from host i-1 and the host's link is free. The link is free when the
     * chunk before it on the link (its "previous") has been serialized: a
     * delay `ring_link` of that chunk's wire time that starts when the
     * previous chunk starts, i.e. waits for what the previous chunk waited
     * for (its own link delay and its data). */
    uint64_t *in = xmalloc((size_t)H * C * sizeof *in);   /* step k-1's chunk tasks, [i*C + c] */
    uint64_t *out = xmalloc((size_t)H * C * sizeof *out); /* step k's */
    uint64_t *link = xmalloc((size_t)H * sizeof *link);   /* the last chunk's link delay */
    uint64_t *data = xmalloc((size_t)H * sizeof *data);   /* the last chunk's data dependency */
    simtime_t *wire = xmalloc((size_t)H * sizeof *wire);  /* the last chunk's wire time */
    for (uint32_t i = 0; i < H; i++)
        link[i] = data[i] = UINT64_MAX;
    for (uint32_t k = 0; k < steps; k++) {
        const char *name = rs_name && k < half ? rs_name : ag_name;
        for (uint32_t i = 0; i < H; i++) {
            uint32_t j = (i + H - k % H) % H, a = HOST(i), b = HOST((i + 1) % H);
            uint64_t bps = rg->t->ports[topo_first_port(rg->t, a, b)].bps;
            uint64_t step_bytes = chunk_bytes(&r, j);
            for (uint32_t c = 0; c < C; c++) {
                uint64_t lk = UINT64_MAX;
                if (k > 0 || c > 0) {
                    lk = graph_delay(g, "ring_link", iter, k, wire[i]);
                    graph_tag(g, lk, c, GRAPH_FORWARD);
                    if (link[i] != UINT64_MAX) graph_dep(g, lk, link[i]);
                    if (data[i] != UINT64_MAX) graph_dep(g, lk, data[i]);
                }
                uint64_t sb = sub_bytes(step_bytes, C, c);
                struct topo_demand d = {a, b, sb};
                uint64_t id = graph_net(g, name, iter, k, &d, 1);
                graph_tag(g, id, c, GRAPH_FORWARD);
                uint64_t dd = k > 0 ? in[(size_t)((i + H - 1) % H) * C + c] : UINT64_MAX;
                if (lk != UINT64_MAX) graph_dep(g, id, lk);
                if (dd != UINT64_MAX) graph_dep(g, id, dd);
                out[(size_t)i * C + c] = id;
                link[i] = lk;
                data[i] = dd;
                wire[i] = ser_ps(sb, bps); /* at most its packets' (each rounded up) */
            }
        }
        uint64_t *x = in;
        in = out;
        out = x;
    }
#undef HOST
    free(in);
    free(out);
    free(link);
    free(data);
    free(wire);
}

/* halving_doubling's steps of r (kind, H, bytes, log2h set) over `hosts`
 * (NULL: hosts 0..H-1), rows named rs_name / ag_name. */
static void hd_add(struct graph *g, const char *rs_name, const char *ag_name, uint32_t iter,
                   const struct ring *s, const uint32_t *hosts)
{
    uint32_t H = s->H;
    uint64_t first = graph_next_id(g);
    for (uint32_t k = 0; k < s->steps; k++) {
        uint32_t dist, pdist = 0;
        uint64_t bytes, pb;
        const char *name = hd_step(s, k, &dist, &bytes) ? rs_name : ag_name;
        if (k > 0) hd_step(s, k - 1, &pdist, &pb);
        for (uint32_t i = 0; i < H; i++) {
            struct topo_demand d = {hosts ? hosts[i] : i, hosts ? hosts[i ^ dist] : i ^ dist,
                                    bytes};
            uint64_t id = graph_net(g, name, iter, k, &d, 1);
            if (k > 0) {
                graph_dep(g, id, first + (uint64_t)(k - 1) * H + i);
                graph_dep(g, id, first + (uint64_t)(k - 1) * H + (i ^ pdist));
            }
        }
    }
}

void wl_hd_add(struct graph *g, const char *rs_name, const char *ag_name, uint32_t iter,
               const uint32_t *hosts, uint32_t n, uint64_t bytes)
{
    struct ring r = {.H = n, .bytes = bytes, .kind = WL_ALLREDUCE, .hd = 1};
    r.log2h = log2u(n);
    r.steps = ring_steps(WL_ALLREDUCE, n, 1);
    hd_add(g, rs_name, ag_name, iter, &r, hosts);
}

static int ring_next(void *state, struct graph *g)
{
    struct ring *s = state;
    if (s->iter >= s->iterations) return 0;
    uint32_t H = s->H, iter = s->iter++;
    if (s->hd) hd_add(g, "reduce_scatter", "allgather", iter, s, NULL);
    if (!s->hd) {
        int rs = s->kind != WL_ALLGATHER, ag = s->kind != WL_REDUCE_SCATTER;
        struct wl_ring rg = {NULL, H, s->C, s->t};
        wl_ring_add(g, rs ? "reduce_scatter" : NULL, ag ? "allgather" : NULL, iter, &rg, s->bytes);
    }
    graph_barrier(g);
    return 1;
}

static void ring_destroy(void *state)
{
    free(state);
}

static int ring_create(const struct wl_specs *c, const struct topo *t, struct wl_gen *g,
                       struct err *e)
{
    (void)e;
    if (c->wl->algo == WL_ALGO_TREE) return wl_tree_create(c, t, g);
    struct ring *s = xcalloc(1, sizeof *s);
    s->H = t->hosts;
    s->kind = c->wl->kind;
    s->hd = c->wl->algo == WL_ALGO_HALVING_DOUBLING;
    s->log2h = log2u(s->H);
    s->steps = ring_steps(s->kind, s->H, s->hd);
    s->iterations = (uint32_t)c->sim->iterations;
    s->bytes = (uint64_t)c->wl->bytes;
    s->C = s->hd ? 1 : (uint32_t)c->wl->chunks;
    s->t = t;
    g->state = s;
    g->next = ring_next;
    g->destroy = ring_destroy;
    return 0;
}

/* ---- what the configuration alone says ---- */

static int ring_check(const struct wl_specs *c, const struct topo_spec *tp,
                      const struct opt_def **bad, struct err *e)
{
    int hd = c->wl->algo == WL_ALGO_HALVING_DOUBLING;
    int tree = c->wl->algo == WL_ALGO_TREE && c->wl->kind == WL_ALLREDUCE;
    if (c->wl->algo != WL_ALGO_AUTO && c->wl->algo != WL_ALGO_RING && !hd && !tree) {
        char kind[64], algo[64];
        opt_enum_text(&wl_options, "workload", "kind", c->wl->kind, kind, sizeof kind);
        opt_enum_text(&wl_options, "workload", "algo", c->wl->algo, algo, sizeof algo);
        return wl_fail(bad, e, &wl_options, "workload", "algo",
                       "%s is not an algorithm of workload.kind = %s (it has: ring, "
                       "halving_doubling%s)",
                       algo, kind, c->wl->kind == WL_ALLREDUCE ? ", tree" : "");
    }
    int ring = !hd && !tree;
    if (hd && c->wl->chunks > 1)
        return wl_fail(bad, e, &wl_options, "workload", "chunks",
                       "chunk pipelining is modeled for workload.algo = ring and tree, not "
                       "halving_doubling (use 1)");
    if (tree && c->wl->chunks > c->wl->bytes / 2)
        return wl_fail(bad, e, &wl_options, "workload", "chunks",
                       "%lld chunks of half of workload.bytes = %lld leave a chunk empty",
                       (long long)c->wl->chunks, (long long)c->wl->bytes);
    double H = (double)(tp->leaves * tp->hosts_per_leaf);
    if (H < 2)
        return wl_fail(bad, e, &topo_options, "topology", "hosts_per_leaf",
                       "a ring collective needs at least 2 hosts");
    if (ring && c->wl->chunks > 1 && (double)c->wl->chunks > floor((double)c->wl->bytes / H))
        return wl_fail(bad, e, &wl_options, "workload", "chunks",
                       "%lld chunks of a ring step's workload.bytes / hosts = %.0f bytes leave a "
                       "chunk empty",
                       (long long)c->wl->chunks, floor((double)c->wl->bytes / H));
    if (hd && (uint64_t)H & ((uint64_t)H - 1))
        return wl_fail(bad, e, &topo_options, "topology", "hosts_per_leaf",
                       "workload.algo = halving_doubling needs a power of two of hosts, not "
                       "leaves*hosts_per_leaf = %.0f",
                       H);
    /* Each host sends (N-1)/N of its bytes per half, per iteration. */
    double steps = c->wl->kind == WL_ALLREDUCE ? 2 * (H - 1) : H - 1;
    if (tree) steps = 2 * H; /* a host sends at most 2 S in a tree allreduce */
    double ps = (double)c->wl->bytes / H * steps * 8.0 / (tp->host_gbps * 1e9) * (double)PS_PER_S *
                (double)c->sim->iterations;
    double limit = (double)INT64_MAX;
    if (ps >= limit)
        return wl_fail(bad, e, &wl_options, "workload", "bytes",
                       "a host needs at least %.3g s of simulated time to send its bytes, more "
                       "than the clock holds (%.3g s)",
                       ps / (double)PS_PER_S, limit / (double)PS_PER_S);
    if (tree) steps = 4.0 * (double)c->wl->chunks; /* messages per host */
    if (ring) steps *= (double)c->wl->chunks;      /* a message per chunk */
    if (H * steps >= (double)(1u << 31))
        return wl_fail(bad, e, &topo_options, "topology", "hosts_per_leaf",
                       "%.0f hosts make %.3g ring messages per iteration, more than the engine "
                       "holds (2^31)",
                       H, H * steps);
    return 0;
}

/* Every step's message of an iteration may share one engine. */
static void ring_footprint(const struct wl_specs *c, const struct topo_spec *tp,
                           struct wl_footprint *f)
{
    double H = (double)(tp->leaves * tp->hosts_per_leaf);
    f->msgs = H * (c->wl->kind == WL_ALLREDUCE ? 2 * (H - 1) : H - 1);
    if (c->wl->algo == WL_ALGO_TREE)
        f->msgs = 4 * (H - 1) * (double)c->wl->chunks;
    else if (c->wl->algo != WL_ALGO_HALVING_DOUBLING)
        f->msgs *= (double)c->wl->chunks;
    f->state_bytes = 0;
    f->key = opt_table_find(&topo_options, "topology", "hosts_per_leaf");
}

static int ring_multiphase(const struct wl_specs *c)
{
    return c->sim->iterations >= 2;
}

#define RING_DEF(K)                                                                                \
    {                                                                                              \
        .kind = K, .create = ring_create, .check = ring_check, .footprint = ring_footprint,        \
        .multiphase = ring_multiphase,                                                             \
    }
const struct wl_def wl_def_allreduce = RING_DEF(WL_ALLREDUCE);
const struct wl_def wl_def_reduce_scatter = RING_DEF(WL_REDUCE_SCATTER);
const struct wl_def wl_def_allgather = RING_DEF(WL_ALLGATHER);
