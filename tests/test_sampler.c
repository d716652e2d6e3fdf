/* test_sampler.c - the engine's periodic sampler (eng_set_sampler) and what
 * the driver records beside phases: flow records and link samples
 * (output.flows, output.sample_ns) and a workload's GPU loads (wl_gen's
 * gpu_load hook). Sampling changes neither the run's end nor its event count,
 * stops when the workload is over, and its rows agree with links and phases. */
#include "testutil.h"

#include "sim/eng.h"
#include "topo/topo.h"
#include "workloads/wl.h"

struct one {
    struct topo *t;
    struct wl_gen g;
    struct wl_result r;
};

static void drive_cfg(struct one *o, const struct cfg *c)
{
    struct err e;
    memset(o, 0, sizeof *o);
    assert_int_equal(topo_build(&c->topo, &o->t, &e), 0);
    assert_int_equal(wl_create(TU_SPECS(c), o->t, &o->g, &e), 0);
    assert_int_equal(wl_drive(&o->g, o->t, TU_SPECS(c), &o->r, &e), 0);
}

static void drive(struct one *o, int flows, int64_t sample_ns)
{
    struct cfg c;
    cfg_defaults(&c);
    c.topo.leaves = 2;
    c.topo.spines = 2;
    c.topo.hosts_per_leaf = 3;
    c.wl.bytes = 100000;
    c.tr.path = PATH_ECMP;
    c.sim.iterations = 2;
    c.out.flows = flows;
    c.out.sample_ns = sample_ns;
    drive_cfg(o, &c);
}

static void undrive(struct one *o)
{
    wl_result_free(&o->r);
    o->g.destroy(o->g.state);
    topo_destroy(o->t);
}

static void test_sampling_changes_nothing(void **state)
{
    (void)state;
    struct one a, b;
    drive(&a, 0, 0);
    drive(&b, 1, 1000);
    const struct eng_stats *sa = &a.r.run.st, *sb = &b.r.run.st;
    assert_int_equal(sa->events, sb->events);
    assert_int_equal(sa->now, sb->now);
    assert_int_equal(a.r.run.nphases, b.r.run.nphases);
    for (size_t i = 0; i < a.r.run.nphases; i++) {
        assert_int_equal(a.r.run.phases[i].start_ps, b.r.run.phases[i].start_ps);
        assert_int_equal(a.r.run.phases[i].end_ps, b.r.run.phases[i].end_ps);
    }
    for (uint32_t p = 0; p < a.t->nports; p++)
        assert_int_equal(a.r.run.ports[p].bytes, b.r.run.ports[p].bytes);
    assert_int_equal(a.r.run.nflows, 0);
    assert_int_equal(a.r.run.nsamples, 0);
    assert_string_equal(b.r.run.invariant, "");
    undrive(&a);
    undrive(&b);
}

static void test_samples_agree_with_links(void **state)
{
    (void)state;
    struct one o;
    drive(&o, 0, 1000);
    const struct eng_stats *st = &o.r.run.st;
    assert_true(o.r.run.nsamples > 0);
    uint64_t *sum = calloc(o.t->nports, sizeof *sum);
    simtime_t last = 0;
    for (size_t i = 0; i < o.r.run.nsamples; i++) {
        const struct res_sample *s = &o.r.run.samples[i];
        assert_int_equal(s->t_ps % 1000000, 0); /* every 1000 ns */
        assert_true(s->t_ps >= last);           /* in time order */
        if (i > 0 && s->t_ps == last)           /* one row per link and time */
            assert_true(s->link > o.r.run.samples[i - 1].link);
        /* none after the point of the grid that covers the run's end */
        assert_true(s->t_ps < st->now + 1000000);
        assert_true(s->bytes > 0 || s->queue_bytes > 0);
        assert_true(s->link < o.t->nports);
        sum[s->link] += s->bytes;
        last = s->t_ps;
    }
    /* the last sample is within one period of the end: the sampler stopped
     * (what was sent after its last event is at the grid point after it) */
    assert_true(last + 1000000 >= st->now && last < st->now + 1000000);
    /* every byte a link sent is in exactly one of its samples */
    uint64_t total = 0;
    for (uint32_t p = 0; p < o.t->nports; p++) {
        assert_int_equal(sum[p], o.r.run.ports[p].bytes);
        total += sum[p];
    }
    assert_true(total > 0);
    free(sum);
    undrive(&o);
}

/* Samples count bytes when they leave: in one period a link sends at most its
 * capacity times the period, plus the packet whose serialization began in the
 * period before. The 16-host all-to-all under ECMP queues at its uplinks
 * (once 115,840 bytes showed in 5 us on a 100 Gb/s link, then none while the
 * queue drained). One phase, so no other phase's acknowledgements overlap;
 * every transport; per link the samples add up to its bytes exactly, also
 * with a period of the fabric's scale (20 us) and 64 KiB messages. */
static void test_samples_within_capacity(void **state)
{
    (void)state;
    int paths[] = {PATH_ECMP, PATH_SPRAY, PATH_SPLIT, PATH_ADAPTIVE};
    int64_t periods[] = {5000, 20000, 777};
    for (int i = 0; i < 4; i++)
        for (int pi = 0; pi < 3; pi++) {
            struct cfg c;
            cfg_defaults(&c);
            c.topo.leaves = c.topo.spines = c.topo.hosts_per_leaf = 4;
            c.wl.bytes = pi == 1 ? 65536 : 1048576;
            c.tr.path = paths[i];
            c.out.sample_ns = periods[pi];
            struct one o;
            drive_cfg(&o, &c);
            assert_string_equal(o.r.run.invariant, "");
            simtime_t period = ns_to_ps((uint64_t)periods[pi]);
            uint64_t *sum = calloc(o.t->nports, sizeof *sum);
            uint64_t fullest = 0; /* the largest share of capacity, per mille */
            for (size_t k = 0; k < o.r.run.nsamples; k++) {
                const struct res_sample *s = &o.r.run.samples[k];
                uint64_t bps = o.t->ports[s->link].bps;
                uint64_t cap = (uint64_t)(((unsigned __int128)bps * period + 8 * PS_PER_S - 1) /
                                          (8 * PS_PER_S));
                if (s->bytes > cap + (uint64_t)c.tr.mtu)
                    fail_msg("path %d, period %lld ns: link %u sent %llu bytes by %llu ps, "
                             "capacity %llu",
                             paths[i], (long long)periods[pi], s->link,
                             (unsigned long long)s->bytes, (unsigned long long)s->t_ps,
                             (unsigned long long)cap);
                if (1000 * s->bytes / cap > fullest) fullest = 1000 * s->bytes / cap;
                sum[s->link] += s->bytes;
            }
            /* the busiest links do run at line rate for whole periods */
            assert_true(fullest >= 990);
            for (uint32_t p = 0; p < o.t->nports; p++)
                assert_int_equal(sum[p], o.r.run.ports[p].bytes);
            free(sum);
            undrive(&o);
        }
}

static void test_flow_records(void **state)
{
    (void)state;
    struct one o;
    drive(&o, 1, 0);
    /* 6 hosts all-to-all, 2 iterations: 60 messages */
    assert_int_equal(o.r.run.nflows, 60);
    uint64_t bytes = 0;
    for (size_t i = 0; i < o.r.run.nflows; i++) {
        const struct res_flow *f = &o.r.run.flows[i];
        assert_int_equal(f->flow, i);
        assert_int_equal(f->bytes, 100000);
        assert_true(f->src != f->dst);
        assert_true(f->end_ps > f->start_ps);
        /* each message lies inside its phase, and the phase ends with its last one */
        const struct res_phase *ph = &o.r.run.phases[i < 30 ? 0 : 1];
        assert_int_equal(f->start_ps, ph->start_ps);
        assert_true(f->end_ps <= ph->end_ps);
        bytes += f->bytes;
    }
    simtime_t end0 = 0;
    for (size_t i = 0; i < 30; i++)
        if (o.r.run.flows[i].end_ps > end0) end0 = o.r.run.flows[i].end_ps;
    assert_int_equal(end0, o.r.run.phases[0].end_ps);
    assert_int_equal(bytes, o.r.run.phases[0].bytes + o.r.run.phases[1].bytes);
    undrive(&o);
}

/* A workload of one compute phase that reports two layers x two GPUs. */
static int fake_next(void *state, struct graph *g)
{
    int *left = state;
    if (!(*left)--) return 0;
    graph_compute(g, "compute", 0, 0, GRAPH_ALL_GPUS, 5000);
    graph_barrier(g);
    return 1;
}

static size_t fake_gpu_load(void *state, struct res_gpu_load **out)
{
    (void)state;
    *out = malloc(4 * sizeof **out);
    for (uint32_t i = 0; i < 4; i++)
        (*out)[i] = (struct res_gpu_load){i / 2, i % 2, 100 + i};
    return 4;
}

static void test_gpu_load_hook(void **state)
{
    (void)state;
    struct cfg c;
    cfg_defaults(&c);
    struct err e;
    struct topo *t;
    assert_int_equal(topo_build(&c.topo, &t, &e), 0);
    int left = 1;
    struct wl_gen g = {&left, fake_next, NULL, fake_gpu_load, NULL, NULL};
    struct wl_result r;
    assert_int_equal(wl_drive(&g, t, TU_SPECS(&c), &r, &e), 0);
    assert_int_equal(r.run.nphases, 1);
    assert_int_equal(r.run.phases[0].end_ps, 5000);
    assert_int_equal(r.ngpu_load, 4);
    assert_int_equal(r.gpu_load[3].layer, 1);
    assert_int_equal(r.gpu_load[3].gpu, 1);
    assert_int_equal(r.gpu_load[3].tokens, 103);
    wl_result_free(&r);
    /* without the hook: no rows */
    left = 1;
    g.gpu_load = NULL;
    assert_int_equal(wl_drive(&g, t, TU_SPECS(&c), &r, &e), 0);
    assert_int_equal(r.ngpu_load, 0);
    assert_null(r.gpu_load);
    wl_result_free(&r);
    topo_destroy(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sampling_changes_nothing),
        cmocka_unit_test(test_samples_agree_with_links),
        cmocka_unit_test(test_samples_within_capacity),
        cmocka_unit_test(test_flow_records),
        cmocka_unit_test(test_gpu_load_hook),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
