/* test_ring.c - the reducing collectives (workloads/collective_reduce.c): an
 * allreduce's time on one leaf against its bandwidth term plus its latency
 * terms, each step starting exactly when its host's own step and the message
 * into it have ended, the bytes each host sends, and the step counts and
 * names of reduce_scatter and allgather, and halving_doubling's steps. */
#include "testutil.h"

#include <math.h>

#include "app/scenario.h"

static struct cfg ringcfg(int kind, uint32_t hosts, int64_t bytes)
{
    struct cfg c;
    cfg_defaults(&c);
    c.wl.kind = kind;
    c.wl.bytes = bytes;
    c.topo.leaves = 1;
    c.topo.spines = 1;
    c.topo.hosts_per_leaf = hosts;
    c.topo.host_gbps = c.topo.fabric_gbps = 100;
    /* In a ring every host sends and receives at once, so its uplink carries
     * its data and the acknowledgements of the data coming in, which a lone
     * message's bound leaves out: one acknowledgement per 8 packets keeps
     * them under 0.2% of the link. A window of 4 MiB keeps the default
     * window (one bandwidth-delay product) from throttling a message. */
    c.tr.ack_every = 8;
    c.tr.window_bytes = 4 << 20;
    return c;
}

static simtime_t run_end(const struct wl_result *r)
{
    simtime_t end = 0;
    for (size_t i = 0; i < r->run.nphases; i++)
        if (r->run.phases[i].end_ps > end) end = r->run.phases[i].end_ps;
    return end;
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
    double want = bw + 2.0 * (N - 1) * lat, got = (double)run_end(&r);
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
        end[k] = run_end(&r);
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
    double got = (double)run_end(&hd);
    if (fabs(got - bound) > 0.01 * bound)
        fail_msg("halving_doubling %.0f ps, bound %.0f ps", got, bound);
    assert_true(run_end(&hd) < run_end(&ring));
    wl_result_free(&ring);
    wl_result_free(&hd);
    topo_destroy(t1);
    topo_destroy(t2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_allreduce_time),
        cmocka_unit_test(test_steps_pipeline),
        cmocka_unit_test(test_halves),
        cmocka_unit_test(test_halving_doubling),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
