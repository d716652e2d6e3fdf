/* test_tree_pipe.c - the chunk-pipelined double binary tree allreduce
 * (workloads/collective_tree.c) on one leaf of N = 8, 16, 32 hosts with P
 * = 2, 4, 8 chunks against its fluid closed form: the schedule's task graph
 * (built here from the two trees' parents, by the dependency rules of
 * docs/moe-steps.md) run on a fluid model of the leaf's host links, every
 * rate piecewise constant and computed event by event, a message done a
 * latency L after its last byte (L: a lone chunk's bound less its
 * bandwidth term). Two sharings, one per engine:
 *   the flow engine's: max-min over the uplinks and downlinks, a link that
 *     carries acknowledgements (w of a byte per data byte) keeping w / (1 +
 *     w) of itself for them (sim/flow_ack.c's reserve); within 0.1%;
 *   the packet engine's (a window larger than a chunk, unbounded queues):
 *     a host's uplink shared equally by the messages it sends, less its
 *     acknowledgements of what it receives, into the destination's
 *     downlink, a first-in first-out queue at the link rate; within 1%.
 * Both models give the closed forms of the rounds for N = 2^k unpipelined,
 * four hosts with two chunks and two hosts; every run is at least 2S/B. */
#include "coll_leaf.h"

#include <math.h>

#include "app/scenario.h"

#define NO UINT32_MAX

struct ftask {
    uint32_t src, dst, ndeps;
    uint32_t deps[3];
};

/* The schedule's tasks for N hosts and P chunks from the two trees'
 * parents, in an order where every task follows its dependencies. Returns
 * the count (4 (N-1) P). */
static size_t tree_graph(uint32_t N, uint32_t P, struct ftask *tk)
{
    uint32_t par[2][32];
    wl_tree_shape(N, par[0], par[1]);
    uint32_t red[2][32], bc[2][32], redp[2][32], bcp[2][32];
    size_t n = 0;
    for (uint32_t c = 0; c < P; c++) {
        for (int t = 0; t < 2; t++) {
            /* reduce: children before parents (by depth, deepest first) */
            uint32_t depth[32], maxd = 0;
            for (uint32_t h = 0; h < N; h++) {
                depth[h] = 0;
                for (uint32_t v = h; par[t][v] != NO; v = par[t][v])
                    depth[h]++;
                if (depth[h] > maxd) maxd = depth[h];
            }
            for (uint32_t d = maxd; d >= 1; d--)
                for (uint32_t v = 0; v < N; v++) {
                    if (depth[v] != d) continue;
                    struct ftask *f = &tk[n];
                    *f = (struct ftask){v, par[t][v], 0, {0}};
                    for (uint32_t k = 0; k < N; k++)
                        if (par[t][k] == v) f->deps[f->ndeps++] = red[t][k];
                    if (c) f->deps[f->ndeps++] = redp[t][v];
                    red[t][v] = (uint32_t)n++;
                }
            /* broadcast: parents before children */
            for (uint32_t d = 1; d <= maxd; d++)
                for (uint32_t v = 0; v < N; v++) {
                    if (depth[v] != d) continue;
                    uint32_t p = par[t][v];
                    struct ftask *f = &tk[n];
                    *f = (struct ftask){p, v, 0, {0}};
                    if (par[t][p] != NO) {
                        f->deps[f->ndeps++] = bc[t][p];
                    } else {
                        for (uint32_t k = 0; k < N; k++)
                            if (par[t][k] == p) f->deps[f->ndeps++] = red[t][k];
                    }
                    if (c) f->deps[f->ndeps++] = bcp[t][v];
                    bc[t][v] = (uint32_t)n++;
                }
        }
        memcpy(redp, red, sizeof red);
        memcpy(bcp, bc, sizeof bc);
    }
    return n;
}

/* A downlink's FIFO queue (the packet engine's switch port): blocks of
 * the bytes that arrived in one interval of constant rates, up to 4
 * messages each, in arrival order; the head drains at the link rate, its
 * messages in proportion. */
struct fblock {
    uint32_t nf, flow[4];
    double rate[4], amt[4], total;
};
struct fqueue {
    struct fblock *b;
    size_t head, n, cap;
};

enum fluid_kind { FLUID_MAXMIN, FLUID_FIFO };

/* The fluid time of the schedule, every message x seconds alone (its bytes
 * at the link rate, which is 1 here in bytes per x), a message done L after
 * its last byte arrived:
 *   FLUID_MAXMIN (the flow engine): rates max-min fair over the hosts'
 *     uplinks (0..N-1) and downlinks (N..2N-1);
 *   FLUID_FIFO (the packet engine, fixed window larger than a message,
 *     unbounded queues): a host's uplink shared equally by the messages it
 *     is sending (the NIC's round robin), their bytes into the destination's
 *     downlink queue, served first in first out at the link rate; a message's
 *     last byte arrives when it has left the queue.
 * A task starts when its dependencies are done. */
static double fluid_time(uint32_t N, uint32_t P, double x, double L, double w, enum fluid_kind kind)
{
    size_t cap = 4 * (size_t)(N - 1) * P;
    struct ftask *tk = xcalloc(cap, sizeof *tk);
    size_t n = tree_graph(N, P, tk);
    assert_int_equal(n, cap);
    /* state: 0 waiting, 1 sending, 2 last byte sent, bytes queued, 3 in
     * flight (latency), 4 done */
    int *st = xcalloc(n, sizeof *st), *fixed = xcalloc(n, sizeof *fixed);
    double *left = xcalloc(n, sizeof *left), *due = xcalloc(n, sizeof *due),
           *rate = xcalloc(n, sizeof *rate), *inq = xcalloc(n, sizeof *inq);
    struct fqueue q[32] = {{0}};
    double now = 0, end = 0, eps = 1e-9 * x;
    size_t done = 0;
    for (;;) {
        for (size_t i = 0; i < n; i++) {
            if (st[i]) continue;
            int ready = 1;
            for (uint32_t j = 0; j < tk[i].ndeps; j++)
                ready &= st[tk[i].deps[j]] == 4;
            if (ready) {
                st[i] = 1;
                left[i] = x;
            }
        }
        if (done == n) break;
        uint32_t cnt[64] = {0};
        if (kind == FLUID_FIFO) {
            for (size_t i = 0; i < n; i++)
                if (st[i] == 1) cnt[tk[i].src]++;
            for (size_t i = 0; i < n; i++)
                if (st[i] == 1) rate[i] = 1.0 / cnt[tk[i].src];
            /* the uplink also carries the acknowledgements (w of a byte per
             * byte) of what leaves the host's downlink queue: at the link
             * rate while it holds bytes, else as they arrive */
            double in[32] = {0};
            for (size_t i = 0; i < n; i++)
                if (st[i] == 1) in[tk[i].dst] += rate[i];
            for (size_t i = 0; i < n; i++) {
                if (st[i] != 1) continue;
                uint32_t h = tk[i].src;
                double dep = q[h].head < q[h].n || in[h] > 1 ? 1 : in[h];
                rate[i] = (1 - w * dep) / cnt[h];
            }
        } else {
            double lcap[64];
            for (uint32_t l = 0; l < 2 * N; l++)
                lcap[l] = 1;
            /* a link that carries acknowledgements (the destination's
             * uplink, the source's downlink of a message sending) keeps
             * w / (1 + w) of itself for them (sim/flow_ack.c's reserve) */
            for (size_t i = 0; i < n; i++)
                if (st[i] == 1) lcap[tk[i].dst] = lcap[N + tk[i].src] = 1 / (1 + w);
            memset(fixed, 0, n * sizeof *fixed);
            /* a message's use of its own links (weight 1) */
            double wt[64];
            for (;;) {
                memset(wt, 0, sizeof wt);
                for (size_t i = 0; i < n; i++)
                    if (st[i] == 1 && !fixed[i]) {
                        wt[tk[i].src] += 1;
                        wt[N + tk[i].dst] += 1;
                    }
                double best = INFINITY;
                uint32_t bl = NO;
                for (uint32_t l = 0; l < 2 * N; l++)
                    if (wt[l] > 0 && lcap[l] / wt[l] < best) {
                        best = lcap[l] / wt[l];
                        bl = l;
                    }
                if (bl == NO) break;
                for (size_t i = 0; i < n; i++) {
                    uint32_t a = tk[i].src, b = N + tk[i].dst;
                    if (st[i] != 1 || fixed[i] || (a != bl && b != bl)) continue;
                    fixed[i] = 1;
                    rate[i] = best;
                    lcap[a] -= best;
                    lcap[b] -= best;
                }
            }
        }
        /* arrivals per downlink in this interval */
        double arr[32] = {0};
        for (size_t i = 0; i < n; i++)
            if (st[i] == 1) arr[tk[i].dst] += rate[i];
        /* the next event: a last byte sent, a queue's head drained, a
         * message's latency over */
        double dt = INFINITY;
        for (size_t i = 0; i < n; i++) {
            if (st[i] == 1 && left[i] / rate[i] < dt) dt = left[i] / rate[i];
            if (st[i] == 3 && due[i] - now < dt) dt = due[i] - now;
        }
        /* a downlink's arrivals join its tail block when they have its
         * composition (the same messages at the same rates), else make a
         * new block */
        int merge[32] = {0};
        for (uint32_t d = 0; kind == FLUID_FIFO && d < N; d++) {
            struct fqueue *Q = &q[d];
            if (Q->head == Q->n) continue;
            const struct fblock *tl = &Q->b[Q->n - 1];
            uint32_t nf = 0;
            int same = 1;
            for (size_t i = 0; i < n && same; i++) {
                if (st[i] != 1 || tk[i].dst != d) continue;
                same = nf < tl->nf && tl->flow[nf] == i && fabs(tl->rate[nf] - rate[i]) <= 1e-12;
                nf++;
            }
            merge[d] = same && nf == tl->nf;
            /* the head drains at the link rate, less what joins it */
            double net = merge[d] && Q->n - Q->head == 1 ? 1 - arr[d] : 1;
            if (net > 0 && Q->b[Q->head].total / net < dt) dt = Q->b[Q->head].total / net;
        }
        assert_true(isfinite(dt) && dt >= 0);
        now += dt;
        if (kind == FLUID_FIFO) {
            for (uint32_t d = 0; d < N; d++) {
                struct fqueue *Q = &q[d];
                int queued = Q->head < Q->n;
                if (!queued && arr[d] <= 1 + eps) continue; /* passes through */
                /* this interval's arrivals: into the tail block or a new one */
                if (!merge[d]) {
                    if (Q->n == Q->cap) {
                        Q->cap = Q->cap ? 2 * Q->cap : 64;
                        Q->b = xrealloc(Q->b, Q->cap * sizeof *Q->b);
                    }
                    struct fblock *nb = &Q->b[Q->n++];
                    *nb = (struct fblock){0};
                    for (size_t i = 0; i < n; i++)
                        if (st[i] == 1 && tk[i].dst == d) {
                            assert_true(nb->nf < 4);
                            nb->flow[nb->nf] = (uint32_t)i;
                            nb->rate[nb->nf++] = rate[i];
                        }
                }
                struct fblock *tb = &Q->b[Q->n - 1];
                for (uint32_t j = 0; j < tb->nf; j++) {
                    double a = tb->rate[j] * dt;
                    tb->amt[j] += a;
                    tb->total += a;
                    inq[tb->flow[j]] += a;
                }
                /* dt of departures from the head (one block: dt is at most
                 * its drain time) */
                struct fblock *h = &Q->b[Q->head];
                double out = dt < h->total ? dt : h->total, tot = h->total;
                for (uint32_t j = 0; j < h->nf; j++) {
                    double o = out * h->amt[j] / tot;
                    h->amt[j] -= o;
                    inq[h->flow[j]] -= o;
                }
                h->total -= out;
                while (Q->head < Q->n && Q->b[Q->head].total <= eps) {
                    for (uint32_t j = 0; j < Q->b[Q->head].nf; j++)
                        inq[Q->b[Q->head].flow[j]] -= Q->b[Q->head].amt[j];
                    Q->head++;
                }
            }
        }
        for (size_t i = 0; i < n; i++) {
            if (st[i] == 1) {
                left[i] -= rate[i] * dt;
                if (left[i] <= eps) st[i] = 2;
            }
            if (st[i] == 2 && inq[i] <= eps) {
                st[i] = 3;
                due[i] = now + L;
            } else if (st[i] == 3 && due[i] <= now + eps) {
                st[i] = 4;
                done++;
                if (now > end) end = now;
            }
        }
    }
    for (uint32_t d = 0; d < N; d++)
        free(q[d].b);
    free(tk);
    free(st);
    free(fixed);
    free(left);
    free(due);
    free(rate);
    free(inq);
    return end;
}

/* Both fluid models reproduce the closed forms of docs/moe-steps.md
 * (derived there in rounds, where every link's messages start and end
 * together, so the two sharings agree): with L = 0, in units of a chunk's
 * time alone x, N = 2^k hosts unpipelined take 2 (2k - 1) x, four hosts
 * with two chunks 9 x, two hosts 2P x; the latency adds 2k L and 5 L. */
static void test_fluid_known_forms(void **state)
{
    (void)state;
    for (int kind = FLUID_MAXMIN; kind <= FLUID_FIFO; kind++) {
        for (uint32_t k = 1; k <= 5; k++)
            assert_true(fabs(fluid_time(1u << k, 1, 1, 0, 0, kind) - 2.0 * (2 * k - 1)) < 1e-9);
        assert_true(fabs(fluid_time(4, 2, 1, 0, 0, kind) - 9) < 1e-9);
        for (uint32_t P = 1; P <= 8; P *= 2)
            assert_true(fabs(fluid_time(2, P, 1, 0, 0, kind) - 2.0 * P) < 1e-9);
        assert_true(fabs(fluid_time(8, 1, 1, 0.01, 0, kind) - (10 + 6 * 0.01)) < 1e-9);
        assert_true(fabs(fluid_time(4, 2, 1, 0.01, 0, kind) - (9 + 5 * 0.01)) < 1e-9);
    }
}

/* The simulated allreduce of S = 8 MiB at 100 Gb/s against the fluid model
 * of its engine (flow: within 0.1%, packet: 1%), for N = 8, 16, 32 and
 * P = 2, 4, 8; at least 2S/B (an inner host sends 2S). */
static void pipelined(int engine, enum fluid_kind kind)
{
    const int64_t S = 8 << 20;
    const uint32_t Ns[] = {8, 16, 32};
    const uint32_t Ps[] = {2, 4, 8};
    double B = 100e9 / 8 / (double)PS_PER_S; /* bytes per ps */
    for (size_t a = 0; a < 3; a++)
        for (size_t b = 0; b < 3; b++) {
            uint32_t N = Ns[a], P = Ps[b];
            struct cfg c = treecfg(N, S, P);
            c.sim.engine = engine;
            if (engine == ENGINE_FLOW) c.tr.window_bytes = 0; /* it models none */
            struct wl_result r;
            struct topo *t;
            tu_run(&c, &r, &t);
            double x = (double)S / 2 / P / B; /* a chunk alone, ps */
            double L = (double)r.run.phases[0].ideal_ps - x;
            assert_true(L > 0);
            double cb = (double)S / 2 / P, acks = ceil(cb / 4096 / 8) * 64;
            double want = fluid_time(N, P, x, L, acks / cb, kind), got = 0;
            for (size_t i = 0; i < r.run.nphases; i++)
                if ((double)r.run.phases[i].end_ps > got) got = (double)r.run.phases[i].end_ps;
            print_message("%s N = %u P = %u: %.3f us, fluid %.3f us (%+.3f%%), 2S/B %.3f us\n",
                          engine == ENGINE_FLOW ? "flow" : "packet", N, P, got / 1e6, want / 1e6,
                          100 * (got - want) / want, 2 * S / B / 1e6);
            if (fabs(got - want) > (engine == ENGINE_FLOW ? 0.001 : 0.01) * want)
                fail_msg("N = %u, P = %u: tree allreduce %.0f ps, fluid form %.0f ps", N, P, got,
                         want);
            assert_true(got >= 2 * S / B);
            wl_result_free(&r);
            topo_destroy(t);
        }
}

static void test_packet_fifo(void **state)
{
    (void)state;
    pipelined(ENGINE_PACKET, FLUID_FIFO);
}

static void test_flow_maxmin(void **state)
{
    (void)state;
    pipelined(ENGINE_FLOW, FLUID_MAXMIN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fluid_known_forms),
        cmocka_unit_test(test_packet_fifo),
        cmocka_unit_test(test_flow_maxmin),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
