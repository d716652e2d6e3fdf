/* test_ring.c - the reducing collectives (workloads/collective_reduce.c): an
 * allreduce's time on one leaf against its bandwidth term plus its latency
 * terms, each step starting exactly when its host's own step and the message
 * into it have ended, the bytes each host sends, and the step counts and
 * names of reduce_scatter and allgather, and halving_doubling's steps; the
 * pipelined ring (workload.chunks) against its closed form, its savings and
 * its dependencies. */
#include "coll_leaf.h"

#include <math.h>

#include "app/scenario.h"

static struct cfg ringcfg(int kind, uint32_t hosts, int64_t bytes)
{
    struct cfg c = leafcfg(hosts);
    c.wl.kind = kind;
    c.wl.bytes = bytes;
    return c;
}

/* A ring all-reduce of S bytes on N hosts at rate B on one leaf takes
 * 2(N-1)/N x S/B plus 2(N-1) message latencies (a lone message's bound less
 * its bandwidth term), within 1%. */
static void test_allreduce_time(void **state)
{
    (void)state;
    const uint32_t N = 8;
    const int64_t S = 8 << 20;
    struct cfg c = ringcfg(WL_ALLREDUCE, N, S);
    struct wl_result r;
    struct topo *t;
    tu_run(&c, &r, &t);
    assert_int_equal(r.run.nphases, 2 * (N - 1) * N);
    double B = 100e9 / 8 / (double)PS_PER_S; /* bytes per ps */
    double bw = 2.0 * (N - 1) / N * (double)S / B;
    double one = (double)S / N / B; /* a step's bandwidth term */
    double lat = (double)r.run.phases[0].ideal_ps - one;
    assert_true(lat > 0);
    double want = bw + 2.0 * (N - 1) * lat, got = (double)tu_end(&r);
    if (fabs(got - want) > 0.01 * want) fail_msg("allreduce %.0f ps, expected %.0f ps", got, want);
    /* the bandwidth term dominates at this size: latency is under 5% */
    assert_true(2.0 * (N - 1) * lat < 0.05 * want);
    wl_result_free(&r);
    topo_destroy(t);
}

/* Step k of host i starts when host i's step k-1 and host i-1's step k-1
 * (the message into host i) have both ended: no barrier per step. Each host
 * sends 2(N-1)/N of its buffer; the chunks of a step add up to S. */
static void test_steps_pipeline(void **state)
{
    (void)state;
    const uint32_t N = 5;
    const int64_t S = 1000003; /* not a multiple of N: chunks differ by one byte */
    struct cfg c = ringcfg(WL_ALLREDUCE, N, S);
    c.sim.iterations = 2;
    struct wl_result r;
    struct topo *t;
    tu_run(&c, &r, &t);
    uint32_t steps = 2 * (N - 1);
    assert_int_equal(r.run.nphases, 2 * steps * N);
    uint64_t sent[5] = {0};
    for (uint32_t it = 0; it < 2; it++)
        for (uint32_t k = 0; k < steps; k++) {
            uint64_t step_bytes = 0;
            for (uint32_t i = 0; i < N; i++) {
                const struct res_phase *p = &r.run.phases[(it * steps + k) * N + i];
                assert_int_equal(p->iter, it);
                assert_int_equal(p->layer, k);
                assert_string_equal(p->phase, k < N - 1 ? "reduce_scatter" : "allgather");
                sent[i] += p->bytes;
                step_bytes += p->bytes;
                if (k == 0) continue;
                const struct res_phase *own = p - N, *in = &r.run.phases[(it * steps + k - 1) * N +
                                                                         (i + N - 1) % N];
                simtime_t ready = own->end_ps > in->end_ps ? own->end_ps : in->end_ps;
                assert_int_equal(p->start_ps, ready);
            }
            /* N-1 of the N chunks move per step, one chunk per host */
            assert_true(step_bytes >= (uint64_t)S / N * N - (uint64_t)S / N - 1);
        }
    for (uint32_t i = 0; i < N; i++) {
        double want = 2.0 * 2 * (N - 1) * (double)S / N;
        assert_true(fabs((double)sent[i] - want) <= 2 * steps);
    }
    /* the second iteration starts after the first has ended */
    simtime_t end0 = 0;
    for (size_t i = 0; i < steps * N; i++)
        if (r.run.phases[i].end_ps > end0) end0 = r.run.phases[i].end_ps;
    assert_true(r.run.phases[steps * N].start_ps >= end0);
    wl_result_free(&r);
    topo_destroy(t);
}

/* reduce_scatter and allgather are N-1 steps each, about half an
 * allreduce's time. */
static void test_halves(void **state)
{
    (void)state;
    const uint32_t N = 6;
    simtime_t end[3];
    const int kinds[3] = {WL_ALLREDUCE, WL_REDUCE_SCATTER, WL_ALLGATHER};
    const char *names[3] = {NULL, "reduce_scatter", "allgather"};
    for (int k = 0; k < 3; k++) {
        struct cfg c = ringcfg(kinds[k], N, 6 << 20);
        struct wl_result r;
        struct topo *t;
        tu_run(&c, &r, &t);
        assert_int_equal(r.run.nphases, (k ? 1 : 2) * (N - 1) * N);
        for (size_t i = 0; k && i < r.run.nphases; i++)
            assert_string_equal(r.run.phases[i].phase, names[k]);
        end[k] = tu_end(&r);
        wl_result_free(&r);
        topo_destroy(t);
    }
    assert_int_equal(end[1], end[2]);
    assert_true(fabs((double)end[0] - 2.0 * (double)end[1]) < 0.01 * (double)end[0]);
}

/* halving_doubling on 8 hosts: 2 log2 8 = 6 steps, step k of host i
 * starting exactly when its own step k-1 and its step-(k-1) partner's (host
 * i XOR the distance) have ended; each host sends what it sends in a ring,
 * and the allreduce takes the sum of its steps' lone-message bounds within
 * 1%, less than the ring (fewer latencies). */
static void test_halving_doubling(void **state)
{
    (void)state;
    const uint32_t N = 8, steps = 6;
    const int64_t S = 8 << 20;
    struct cfg c = ringcfg(WL_ALLREDUCE, N, S);
    struct wl_result ring, hd;
    struct topo *t1, *t2;
    tu_run(&c, &ring, &t1);
    c.wl.algo = WL_ALGO_HALVING_DOUBLING;
    tu_run(&c, &hd, &t2);
    assert_int_equal(hd.run.nphases, steps * N);
    /* distances of the steps: halving 4, 2, 1, then doubling 1, 2, 4 */
    const uint32_t dist[6] = {4, 2, 1, 1, 2, 4};
    uint64_t sent_hd = 0, sent_ring = 0;
    double bound = 0;
    for (uint32_t k = 0; k < steps; k++) {
        bound += (double)hd.run.phases[k * N].ideal_ps;
        for (uint32_t i = 0; i < N; i++) {
            const struct res_phase *p = &hd.run.phases[k * N + i];
            assert_int_equal(p->layer, k);
            assert_string_equal(p->phase, k < 3 ? "reduce_scatter" : "allgather");
            assert_int_equal(p->bytes, (uint64_t)S / 2 >> (k < 3 ? k : 5 - k));
            if (i == 0) sent_hd += p->bytes;
            if (k == 0) continue;
            const struct res_phase *own = p - N,
                                   *in = &hd.run.phases[(k - 1) * N + (i ^ dist[k - 1])];
            simtime_t ready = own->end_ps > in->end_ps ? own->end_ps : in->end_ps;
            assert_int_equal(p->start_ps, ready);
        }
    }
    for (size_t i = 0; i < ring.run.nphases; i += N)
        sent_ring += ring.run.phases[i].bytes;
    assert_int_equal(sent_hd, sent_ring);
    double got = (double)tu_end(&hd);
    if (fabs(got - bound) > 0.01 * bound)
        fail_msg("halving_doubling %.0f ps, bound %.0f ps", got, bound);
    assert_true(tu_end(&hd) < tu_end(&ring));
    wl_result_free(&ring);
    wl_result_free(&hd);
    topo_destroy(t1);
    topo_destroy(t2);
}

/* Rows of one chunked ring run that are messages (ring_link rows left out). */
static size_t msg_rows(const struct wl_result *r, const struct res_phase **out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < r->run.nphases; i++)
        if (strcmp(r->run.phases[i].phase, "ring_link") != 0) {
            assert_true(n < cap);
            out[n++] = &r->run.phases[i];
        }
    return n;
}

/* The pipelined ring's closed form (collective_reduce.c): K steps of C
 * chunks, each chunk tau = S/(N C B) on the wire and d = tau + its latency
 * alone (its row's ideal_ps): a host sends its chunks back to back and
 * chunk c of step k waits for chunk c of step k-1 to arrive, so step k's
 * first chunk leaves max(C tau, d) after step k-1's and the last arrives
 * (C-1) tau + d after its step's first left:
 *   T(C) = (K-1) max(C tau, d) + (C-1) tau + d   (C = 1: K d). */
static double pipelined_ps(uint32_t K, uint32_t C, double tau, double d)
{
    double step = C * tau > d ? C * tau : d;
    return (K - 1) * step + (C - 1) * tau + d;
}

/* One allreduce on one leaf with `chunks` chunks: its end, a chunk's wire
 * time and lone time, and the bytes each host sent. */
static simtime_t run_chunked(uint32_t N, int64_t S, uint32_t C, int64_t lat_ns, double *tau,
                             double *d, uint64_t *sent)
{
    struct cfg c = ringcfg(WL_ALLREDUCE, N, S);
    c.wl.chunks = C;
    c.topo.link_latency_ns = lat_ns;
    struct wl_result r;
    struct topo *t;
    tu_run(&c, &r, &t);
    uint32_t K = 2 * (N - 1);
    /* a message per (step, host, chunk); a link delay per chunk but each
     * host's first */
    assert_int_equal(r.run.nphases, (size_t)K * N * C + (C > 1 ? (size_t)K * N * C - N : 0));
    static const struct res_phase *m[1 << 16];
    size_t n = msg_rows(&r, m, 1 << 16);
    assert_int_equal(n, (size_t)K * N * C);
    for (uint32_t i = 0; i < N; i++)
        sent[i] = 0;
    for (size_t k = 0; k < n; k++)
        sent[(k / C) % N] += m[k]->bytes; /* step, then host, then chunk */
    *tau = (double)m[0]->bytes * 8.0 / 100e9 * (double)PS_PER_S;
    *d = (double)m[0]->ideal_ps;
    simtime_t end = tu_end(&r);
    wl_result_free(&r);
    topo_destroy(t);
    return end;
}

/* Chunk pipelining on a latency-heavy ring (3.3 us links, 128 KiB steps: a
 * step's latency, 6.9 us, is 2/3 of its wire time): the time is T(C) within 1% for
 * C = 1, 2, 4, 8, on both sides of C tau = d; chunking saves what T(1) -
 * T(C) predicts within 2% of it; the bytes each host sends do not change
 * (2(N-1)/N x S). On a bandwidth-heavy ring (8 MiB) with C tau >= d the time
 * is the bandwidth term plus one chunk's latency, 2(N-1)/N x S/B + (d -
 * tau), within 1%. */
static void test_chunks(void **state)
{
    (void)state;
    const uint32_t N = 8, K = 2 * (N - 1);
    const int64_t S = 1 << 20;
    const uint32_t Cs[4] = {1, 2, 4, 8};
    double got[4], want[4];
    uint64_t sent1[8], sent[8];
    for (int j = 0; j < 4; j++) {
        double tau, d;
        got[j] = (double)run_chunked(N, S, Cs[j], 3300, &tau, &d, j ? sent : sent1);
        want[j] = pipelined_ps(K, Cs[j], tau, d);
        if (fabs(got[j] - want[j]) > 0.01 * want[j])
            fail_msg("C = %u: %.0f ps, closed form %.0f ps", Cs[j], got[j], want[j]);
        if (j == 1) assert_true(Cs[j] * tau < d); /* latency-bound even chunked */
        if (j >= 2) assert_true(Cs[j] * tau > d); /* bandwidth-bound */
        for (uint32_t i = 0; j && i < N; i++)
            assert_int_equal(sent[i], sent1[i]);
    }
    for (uint32_t i = 0; i < N; i++)
        assert_int_equal(sent1[i], 2 * (N - 1) * (uint64_t)S / N);
    for (int j = 1; j < 4; j++) {
        double saved = got[0] - got[j], predicted = want[0] - want[j];
        assert_true(predicted > 0.15 * want[0]); /* chunking pays a lot here */
        if (fabs(saved - predicted) > 0.02 * predicted)
            fail_msg("C = %u saves %.0f ps, the closed form %.0f ps", Cs[j], saved, predicted);
    }
    double tau, d;
    const int64_t S2 = 8 << 20;
    double end = (double)run_chunked(N, S2, 8, 1000, &tau, &d, sent);
    double B = 100e9 / 8 / (double)PS_PER_S;
    double bw = 2.0 * (N - 1) / N * (double)S2 / B;
    assert_true(8 * tau > d);
    if (fabs(end - (bw + d - tau)) > 0.01 * (bw + d - tau))
        fail_msg("8 MiB, C = 8: %.0f ps, bandwidth term plus a latency %.0f ps", end, bw + d - tau);
}

/* The pipelined ring's dependencies, on the rows: chunk c of step k on
 * host i starts exactly when the later of its link delay and chunk c of
 * host i-1's step k-1 ends; a link delay starts when the chunk before it on
 * the host starts and lasts that chunk's wire time; a step's chunks add up
 * to the step's message; two runs give the same rows. */
static void test_chunk_deps(void **state)
{
    (void)state;
    const uint32_t N = 4, C = 3, K = 2 * (N - 1);
    const int64_t S = 1000003;
    struct cfg c = ringcfg(WL_ALLREDUCE, N, S);
    c.wl.chunks = C;
    struct wl_result r, r2;
    struct topo *t, *t2;
    tu_run(&c, &r, &t);
    tu_run(&c, &r2, &t2);
    assert_int_equal(r.run.nphases, r2.run.nphases);
    for (size_t i = 0; i < r.run.nphases; i++) {
        assert_int_equal(r.run.phases[i].start_ps, r2.run.phases[i].start_ps);
        assert_int_equal(r.run.phases[i].end_ps, r2.run.phases[i].end_ps);
    }
    /* index the rows: msg[k][i][c], link[k][i][c] (NULL for the first) */
    const struct res_phase *msg[6][4][3], *link[6][4][3];
    size_t at = 0;
    for (uint32_t k = 0; k < K; k++)
        for (uint32_t i = 0; i < N; i++) {
            uint64_t step = 0;
            for (uint32_t cc = 0; cc < C; cc++) {
                link[k][i][cc] = NULL;
                if (k || cc) {
                    link[k][i][cc] = &r.run.phases[at++];
                    assert_string_equal(link[k][i][cc]->phase, "ring_link");
                    assert_int_equal(r.run.tasks[at - 1].chunk, cc);
                }
                msg[k][i][cc] = &r.run.phases[at++];
                assert_string_equal(msg[k][i][cc]->phase,
                                    k < N - 1 ? "reduce_scatter" : "allgather");
                assert_int_equal(msg[k][i][cc]->layer, k);
                assert_int_equal(r.run.tasks[at - 1].chunk, cc);
                step += msg[k][i][cc]->bytes;
            }
            uint32_t j = (i + N - k % N) % N;
            assert_int_equal(step, (uint64_t)S / N + (j < (uint64_t)S % N));
        }
    assert_int_equal(at, r.run.nphases);
    for (uint32_t k = 0; k < K; k++)
        for (uint32_t i = 0; i < N; i++)
            for (uint32_t cc = 0; cc < C; cc++) {
                const struct res_phase *p = msg[k][i][cc], *l = link[k][i][cc];
                simtime_t ready = l ? l->end_ps : 0;
                if (k) {
                    simtime_t in = msg[k - 1][(i + N - 1) % N][cc]->end_ps;
                    if (in > ready) ready = in;
                }
                assert_int_equal(p->start_ps, ready);
                if (!l) continue;
                const struct res_phase *prev = cc ? msg[k][i][cc - 1] : msg[k - 1][i][C - 1];
                assert_int_equal(l->start_ps, prev->start_ps);
                assert_int_equal(
                    l->end_ps - l->start_ps,
                    (simtime_t)ceil((double)prev->bytes * 8.0 * (double)PS_PER_S / 100e9));
            }
    wl_result_free(&r);
    wl_result_free(&r2);
    topo_destroy(t);
    topo_destroy(t2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_allreduce_time), cmocka_unit_test(test_steps_pipeline),
        cmocka_unit_test(test_halves),         cmocka_unit_test(test_halving_doubling),
        cmocka_unit_test(test_chunks),         cmocka_unit_test(test_chunk_deps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
