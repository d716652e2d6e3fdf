/* test_flow_alone.c - subs alone on their links (sim/flow_alone.c): with
 * deferred re-solves a sub that starts or ends on links no other live sub
 * uses takes its rate without a re-solve. A lone NVLink message and a chain
 * of them end exactly when the exact engine ends them (closed form); while
 * cross-leaf flows run, the rates after alone starts are the max-min ones
 * from scratch and no link is above its capacity; a ring's all-reduce in
 * random order keeps every link within capacity, never beats the busiest
 * link's bound, stays within 0.5% of the run without the shortcut and takes
 * far fewer re-solves; the exact engine never takes it. */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>

#include "sim/eng.h"
#include "sim/flow_eng.h"
#include "topo/topo.h"

/* 2 leaves x 2 spines x 8 GPUs at 400 Gb/s, servers of 4 GPUs on NVLink. */
static struct cfg mkcfg(double window)
{
    struct cfg c;
    cfg_defaults(&c);
    c.topo.leaves = 2;
    c.topo.spines = 2;
    c.topo.hosts_per_leaf = 8;
    c.topo.gpus_per_host = 4;
    c.topo.host_gbps = 400;
    c.topo.fabric_gbps = 400;
    c.tr.path = PATH_SPRAY;
    c.tr.ack_every = 8;
    c.tr.fl.resolve_window = window;
    return c;
}

#define MAXM 4096
static simtime_t ends[MAXM];
static void on_done(void *ctx, struct eng *e, uint64_t tag, simtime_t start, simtime_t end,
                    const struct res_flow_loss *loss)
{
    (void)loss, (void)ctx, (void)e, (void)start;
    if (tag < MAXM) ends[tag] = end;
}

/* A chain 0 -> 1 -> 2 -> 3 on one server's NVLink, each message sent when
 * the one before it has arrived (started here at the exact engine's ends):
 * deferred, every start and end is alone and the ends equal the exact
 * engine's to the picosecond, with no re-solve at all. */
static void test_alone_chain_closed_form(void **state)
{
    (void)state;
    const uint64_t S = 1 << 20;
    simtime_t want[3];
    struct topo *t;
    struct err e;
    struct cfg c0 = mkcfg(0);
    assert_int_equal(topo_build(&c0.topo, &t, &e), 0);
    struct eng_hooks h = {NULL, on_done};
    for (int k = 0; k < 2; k++) {
        struct cfg c = mkcfg(k ? 0.1 : 0);
        simtime_t at = 0;
        for (uint32_t m = 0; m < 3; m++) {
            struct eng *g = eng_create_kind(ENGINE_FLOW, t, &c.tr, 1, &h);
            eng_add_msg(g, m, m + 1, S, at, m);
            eng_run(g);
            char msg[256];
            assert_int_equal(eng_check(g, msg, sizeof msg), 0);
            const struct flow_eng *f = flow_eng_ofc(g);
            if (k) {
                assert_int_equal(f->recomputes, 0);
                assert_int_equal(f->alone_starts, 1);
                assert_int_equal(f->alone_ends, 1);
                assert_int_equal(ends[m], want[m]);
            } else {
                want[m] = ends[m];
                assert_int_equal(f->alone_starts, 0); /* the exact engine: its own path */
                /* the closed form: S at the NVLink rate, plus the first packet's way */
                simtime_t lone = at + ser_ps(S, t->ports[t->nvl_up[m]].bps) +
                                 topo_path_latency(t, m, m + 1, 4096) -
                                 ser_ps(4096, t->ports[t->nvl_up[m]].bps);
                assert_true(llabs((long long)ends[m] - (long long)lone) <= 2);
            }
            at = ends[m];
            eng_destroy(g);
        }
    }
    topo_destroy(t);
}

/* Checks, in a sampler, that every rate is the max-min one from scratch
 * (no end is pending before the first end) and no link is above capacity. */
static double worst_verify, worst_load;
static void sample_check(void *ctx, const struct eng *e, simtime_t now)
{
    (void)ctx, (void)now;
    struct flow_eng *f = (struct flow_eng *)e;
    if (!f->live_subs || now > 5000000) return; /* (before the first end) */
    double d = flow_maxmin_verify(f), o = flow_maxmin_overload(f);
    if (d > worst_verify) worst_verify = d;
    if (o > worst_load) worst_load = o;
}

/* Cross-leaf flows at 0 (re-solved), then NVLink messages whose data and
 * acknowledgement links are their own, started alone before any end: the
 * rates stay the max-min ones. */
static void test_alone_rates_maxmin(void **state)
{
    (void)state;
    struct cfg c = mkcfg(0.1);
    struct topo *t;
    struct err e;
    assert_int_equal(topo_build(&c.topo, &t, &e), 0);
    struct eng_hooks h = {NULL, on_done};
    struct eng *g = eng_create_kind(ENGINE_FLOW, t, &c.tr, 1, &h);
    const uint64_t S = 8 << 20;
    uint32_t m = 0;
    for (uint32_t a = 0; a < 8; a++) /* leaf 0 to leaf 1: the NICs saturated */
        eng_add_msg(g, a, 8 + (a + 3) % 8, S, 0, m++);
    for (uint32_t a = 0; a < 8; a += 2) /* NVLink pairs on links of their own, later */
        eng_add_msg(g, a, a + 1, S / 16, 1000000 + 1000 * a, m++);
    worst_verify = worst_load = 0;
    eng_set_sampler(g, 1000500, 500, sample_check, NULL);
    eng_run(g);
    char msg[256];
    assert_int_equal(eng_check(g, msg, sizeof msg), 0);
    const struct flow_eng *f = flow_eng_ofc(g);
    /* the 4 pairs, and the first cross-leaf flow (its links empty at its
     * start: the re-solve of the next ones at the same instant takes it in) */
    assert_int_equal(f->alone_starts, 5);
    if (worst_verify > 1e-9) fail_msg("rates off the max-min ones by %g", worst_verify);
    if (worst_load > 1e-9) fail_msg("a link %g above its capacity", worst_load);
    eng_destroy(g);
    topo_destroy(t);
}

static double link_bound_ps(const struct topo *t, struct eng *g)
{
    double b = 0;
    for (uint32_t p = 0; p < t->nports; p++) {
        double x = (double)eng_port(g, p)->bytes * 8.0 * 1e12 / (double)t->ports[p].bps;
        if (x > b) b = x;
    }
    return b;
}

/* A ring all-reduce over the 16 GPUs (every hop's next step once its own
 * and its incoming message are in, as workloads/collective_reduce.c), with
 * an all-to-all's worth of cross-leaf flows beside it: with the shortcut
 * and without, every link within capacity at every re-solve and sample,
 * the end no earlier than the busiest link's bound, within 0.5% of each
 * other, and with it at most half the re-solves. */
struct ring {
    struct eng *g;
    uint32_t H, steps;
    uint32_t next[16], done[16], in[16]; /* per host: its next step, steps sent, received */
    uint64_t bytes;
};
static struct ring R;
static void ring_try(uint32_t i, simtime_t at)
{
    uint32_t s = R.next[i];
    if (s >= R.steps || R.done[i] != s || R.in[i] < s) return;
    R.next[i]++;
    eng_add_msg(R.g, i, (i + 1) % R.H, R.bytes, at, 1024 + (uint64_t)s * R.H + i);
}
static void on_ring(void *ctx, struct eng *e, uint64_t tag, simtime_t start, simtime_t end,
                    const struct res_flow_loss *loss)
{
    (void)ctx, (void)e, (void)start, (void)loss;
    if (tag < 1024) return;
    uint32_t i = (uint32_t)((tag - 1024) % R.H), k = (uint32_t)((tag - 1024) / R.H);
    uint32_t j = (i + 1) % R.H;
    R.done[i] = k + 1;
    R.in[j] = k + 1;
    ring_try(i, end);
    ring_try(j, end);
}

static void test_alone_ring_feasible(void **state)
{
    (void)state;
    double t_end[2];
    uint64_t solves[2];
    for (int k = 0; k < 2; k++) {
        struct cfg c = mkcfg(0.1);
        struct topo *t;
        struct err e;
        assert_int_equal(topo_build(&c.topo, &t, &e), 0);
        struct eng_hooks h = {NULL, on_ring};
        flow_alone_off = k;
        flow_maxmin_check_load = 1;
        R = (struct ring){.H = 16, .steps = 30, .bytes = 1 << 18};
        R.g = eng_create_kind(ENGINE_FLOW, t, &c.tr, 1, &h);
        for (uint32_t i = 0; i < R.H; i++)
            ring_try(i, 0);
        for (uint32_t a = 0; a < 8; a++) /* cross-leaf traffic that comes and goes */
            for (uint32_t r = 0; r < 3; r++)
                eng_add_msg(R.g, a, 8 + (a + r) % 8, (1 + r) << 19, (simtime_t)r * 30000000, a);
        worst_load = 0;
        eng_run(R.g);
        char msg[256];
        assert_int_equal(eng_check(R.g, msg, sizeof msg), 0);
        const struct flow_eng *f = flow_eng_ofc(R.g);
        if (f->overload > 1e-9)
            fail_msg("alone %s: a link %g above", k ? "off" : "on", f->overload);
        for (uint32_t i = 0; i < R.H; i++)
            assert_int_equal(R.done[i], R.steps);
        t_end[k] = (double)eng_now(R.g);
        solves[k] = f->recomputes;
        if (t_end[k] < link_bound_ps(t, R.g) * (1 - 1e-9)) fail_msg("ends before the bound");
        if (!k) assert_true(f->alone_starts > 0 && f->alone_ends > 0);
        print_message("ring, alone %s: %.0f ps, %llu re-solves, %llu starts %llu ends alone\n",
                      k ? "off" : "on", t_end[k], (unsigned long long)solves[k],
                      (unsigned long long)f->alone_starts, (unsigned long long)f->alone_ends);
        eng_destroy(R.g);
        topo_destroy(t);
    }
    flow_alone_off = 0;
    flow_maxmin_check_load = 0;
    if (fabs(t_end[0] / t_end[1] - 1) > 0.005)
        fail_msg("alone on %.0f ps against off %.0f ps", t_end[0], t_end[1]);
    assert_true(2 * solves[0] <= solves[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alone_chain_closed_form),
        cmocka_unit_test(test_alone_rates_maxmin),
        cmocka_unit_test(test_alone_ring_feasible),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
