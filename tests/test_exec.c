/* test_exec.c - the task-graph executor on its own (sim/exec.h): a diamond
 * of network and compute tasks to the picosecond, network tasks that may
 * overlap sharing one engine (and its bottleneck), a task released by a
 * compute task joining a running engine, compute streams, refused graphs
 * (cycles, unknown tasks, GPUs the fabric lacks) with their exact errors,
 * and the same rows whatever the number of threads or however the graph
 * arrives. */
#include "testutil.h"

#include "app/options.h"
#include "sim/exec.h"
#include "topo/topo.h"

#define MIB 1048576ull
#define US  PS_PER_US

/* Two leaves of two hosts (hosts 0, 1 under leaf 0; 2, 3 under leaf 1), two
 * spines, 100 Gb/s everywhere (80 ps a byte), 1 us a link. */
static struct cfg mkcfg(void)
{
    struct cfg c;
    cfg_defaults(&c);
    c.topo.leaves = 2;
    c.topo.spines = 2;
    c.topo.hosts_per_leaf = 2;
    c.topo.host_gbps = c.topo.fabric_gbps = 100;
    c.tr.path = PATH_ECMP;
    return c;
}

/* A lone message's completion on an idle fabric (test_engine checks the
 * engine against it): its bytes on the first link, one packet's
 * serialization on each further link, and the links' latency. */
static simtime_t lone_ps(uint64_t bytes, int hops)
{
    uint64_t first = bytes < 4096 ? bytes : 4096;
    return bytes * 80 + (simtime_t)(hops - 1) * first * 80 + (simtime_t)hops * US;
}

struct fx {
    struct cfg c;
    struct topo *t;
    struct graph *g;
    struct exec_result r;
    struct err e;
};

static void fx_init(struct fx *f)
{
    memset(f, 0, sizeof *f);
    f->c = mkcfg();
    assert_int_equal(topo_build(&f->c.topo, &f->t, &f->e), 0);
    f->g = graph_create();
}

static int fx_run(struct fx *f, unsigned threads, int flows, simtime_t sample_ps)
{
    struct exec_opts o = {
        &f->c.tr, (uint64_t)f->c.sim.seed, flows, sample_ps,
        threads,  ENGINE_PACKET,           1,     (uint64_t)f->c.sim.ideal_lp_max};
    return exec_run(f->g, NULL, NULL, f->t, &o, &f->r, &f->e);
}

static void fx_free(struct fx *f)
{
    exec_result_free(&f->r);
    graph_destroy(f->g);
    topo_destroy(f->t);
}

static void expect_phase(const struct exec_result *r, size_t i, const char *name, simtime_t start,
                         simtime_t end)
{
    assert_true(i < r->nphases);
    assert_string_equal(r->phases[i].phase, name);
    assert_int_equal(r->phases[i].start_ps, start);
    assert_int_equal(r->phases[i].end_ps, end);
}

static uint64_t net1(struct graph *g, const char *name, uint32_t src, uint32_t dst, uint64_t bytes)
{
    struct topo_demand d = {src, dst, bytes};
    return graph_net(g, name, 0, 0, &d, 1);
}

/* A -> {B, C} -> D: A and C lone messages under one leaf (two links each), B
 * a compute task on GPU 0 longer than C, D one on every GPU. */
static void test_diamond(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    uint64_t a = net1(f.g, "a", 0, 1, MIB);
    uint64_t b = graph_compute(f.g, "b", 0, 0, 0, 100 * US);
    uint64_t c = net1(f.g, "c", 2, 3, MIB);
    uint64_t d = graph_compute(f.g, "d", 0, 0, GRAPH_ALL_GPUS, 1 * US);
    assert_int_equal(graph_dep(f.g, b, a), 0);
    assert_int_equal(graph_dep(f.g, c, a), 0);
    assert_int_equal(graph_dep(f.g, d, b), 0);
    assert_int_equal(graph_dep(f.g, d, c), 0);
    assert_int_equal(fx_run(&f, 1, 1, 0), 0);
    assert_string_equal(f.r.invariant, "");
    simtime_t ta = lone_ps(MIB, 2), tc = lone_ps(MIB, 2);
    assert_int_equal(f.r.nphases, 4);
    expect_phase(&f.r, 0, "a", 0, ta);
    expect_phase(&f.r, 1, "b", ta, ta + 100 * US);
    expect_phase(&f.r, 2, "c", ta, ta + tc);
    expect_phase(&f.r, 3, "d", ta + 100 * US, ta + 101 * US);
    /* network rows carry their bytes and ideal bound (a lone message's time) */
    assert_int_equal(f.r.phases[0].bytes, MIB);
    assert_int_equal(f.r.phases[0].ideal_ps, ta);
    assert_int_equal(f.r.phases[1].bytes, 0);
    assert_int_equal(f.r.phases[1].ideal_ps, 0);
    /* one flow per message at the run's time; the run ends with D (the
     * acknowledgements drained long before) */
    assert_int_equal(f.r.nflows, 2);
    assert_int_equal(f.r.flows[1].flow, 1);
    assert_int_equal(f.r.flows[1].start_ps, ta);
    assert_int_equal(f.r.flows[1].end_ps, ta + tc);
    assert_int_equal(f.r.st.now, ta + 101 * US);
    assert_int_equal(f.r.st.msgs, 2);
    fx_free(&f);
}

/* Two messages into host 2 from hosts 0 and 1: as tasks that may overlap
 * they share one engine and host 2's downlink, and each takes longer than
 * alone (the later about twice as long); with a barrier between them each
 * takes exactly a lone message's time on a fabric of its own. */
static void test_overlap_shares_engine(void **state)
{
    (void)state;
    simtime_t alone = lone_ps(MIB, 4);
    struct fx f;
    fx_init(&f);
    net1(f.g, "a", 0, 2, MIB);
    net1(f.g, "b", 1, 2, MIB);
    assert_int_equal(fx_run(&f, 1, 0, 10 * US), 0);
    assert_string_equal(f.r.invariant, "");
    assert_int_equal(f.r.phases[0].start_ps, 0);
    assert_int_equal(f.r.phases[1].start_ps, 0);
    simtime_t ea = f.r.phases[0].end_ps, eb = f.r.phases[1].end_ps;
    assert_true(ea > alone && eb > alone);
    simtime_t later = ea > eb ? ea : eb;
    assert_true(later >= 2 * MIB * 80 + 4 * US);
    assert_true(later < 2 * alone);
    /* one engine run: its two messages, its samples on the run's grid */
    assert_int_equal(f.r.st.msgs, 2);
    uint64_t sampled = 0, sent = 0;
    for (size_t i = 0; i < f.r.nsamples; i++) {
        assert_int_equal(f.r.samples[i].t_ps % (10 * US), 0);
        sampled += f.r.samples[i].bytes;
    }
    for (uint32_t p = 0; p < f.t->nports; p++)
        sent += f.r.ports[p].bytes;
    assert_true(f.r.nsamples > 0);
    assert_true(sampled > 0 && sampled <= sent);
    fx_free(&f);

    fx_init(&f);
    net1(f.g, "a", 0, 2, MIB);
    graph_barrier(f.g);
    net1(f.g, "b", 1, 2, MIB);
    assert_int_equal(fx_run(&f, 1, 0, 0), 0);
    expect_phase(&f.r, 0, "a", 0, alone);
    expect_phase(&f.r, 1, "b", alone, 2 * alone);
    fx_free(&f);
}

/* C (4 MiB under leaf 1) overlaps A and B (1 MiB each under leaf 0); B waits
 * for a compute task that waits for A, so B joins C's engine while it runs,
 * at A's end plus 10 us. No link is shared: every task takes its lone time. */
static void test_join_running_engine(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    uint64_t c = net1(f.g, "c", 2, 3, 4 * MIB);
    uint64_t a = net1(f.g, "a", 0, 1, MIB);
    uint64_t x = graph_compute(f.g, "x", 0, 0, 0, 10 * US);
    uint64_t b = net1(f.g, "b", 0, 1, MIB);
    assert_int_equal(graph_dep(f.g, x, a), 0);
    assert_int_equal(graph_dep(f.g, b, x), 0);
    assert_int_equal(fx_run(&f, 1, 1, 0), 0);
    assert_string_equal(f.r.invariant, "");
    (void)c;
    simtime_t ta = lone_ps(MIB, 2), tc = lone_ps(4 * MIB, 2);
    assert_true(ta + 10 * US + ta < tc); /* B runs while C does */
    expect_phase(&f.r, 0, "c", 0, tc);
    expect_phase(&f.r, 1, "a", 0, ta);
    expect_phase(&f.r, 2, "x", ta, ta + 10 * US);
    expect_phase(&f.r, 3, "b", ta + 10 * US, 2 * ta + 10 * US);
    assert_int_equal(f.r.nflows, 3);
    assert_int_equal(f.r.flows[2].start_ps, ta + 10 * US);
    fx_free(&f);
}

/* Compute tasks on one GPU run one at a time in the order they were added;
 * a task on every GPU waits for every stream, and every later task for it. */
static void test_streams_serialize(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    graph_compute(f.g, "c1", 0, 0, 0, 3 * US);
    graph_compute(f.g, "c2", 0, 0, 0, 2 * US);
    graph_compute(f.g, "c3", 0, 0, 1, 4 * US);
    graph_compute(f.g, "c4", 0, 0, GRAPH_ALL_GPUS, 1 * US);
    graph_compute(f.g, "c5", 0, 0, 1, 1 * US);
    graph_compute(f.g, "c6", 0, 0, 2, US / 2);
    assert_int_equal(fx_run(&f, 1, 0, 0), 0);
    expect_phase(&f.r, 0, "c1", 0, 3 * US);
    expect_phase(&f.r, 1, "c2", 3 * US, 5 * US);
    expect_phase(&f.r, 2, "c3", 0, 4 * US);
    expect_phase(&f.r, 3, "c4", 5 * US, 6 * US);
    expect_phase(&f.r, 4, "c5", 6 * US, 7 * US);
    expect_phase(&f.r, 5, "c6", 6 * US, 6 * US + US / 2);
    assert_int_equal(f.r.st.now, 7 * US);
    assert_int_equal(f.r.st.events, 0); /* no engine ran */
    fx_free(&f);
}

/* A refused graph: exec_run returns -1 with the message, and nothing runs. */
static void expect_refused(struct fx *f, const char *msg)
{
    assert_int_equal(fx_run(f, 1, 0, 0), -1);
    assert_string_equal(f->e.msg, msg);
    assert_int_equal(f->r.nphases, 0);
    assert_int_equal(f->r.st.events, 0);
    fx_free(f);
}

static void test_refused(void **state)
{
    (void)state;
    struct fx f;
    /* a cycle */
    fx_init(&f);
    uint64_t a = net1(f.g, "a", 0, 1, MIB), b = graph_compute(f.g, "b", 0, 0, 0, US);
    assert_int_equal(graph_dep(f.g, a, b), 0);
    assert_int_equal(graph_dep(f.g, b, a), 0);
    expect_refused(&f, "graph: a dependency cycle: task 0 (a, iteration 0, layer 0) waits for task "
                       "1 (b, iteration 0, layer 0), which waits for task 0");
    /* a cycle through a stream's order: c2 runs after c1 on GPU 0 */
    fx_init(&f);
    a = graph_compute(f.g, "c1", 1, 2, 0, US);
    b = graph_compute(f.g, "c2", 1, 2, 0, US);
    net1(f.g, "n", 0, 1, MIB);
    graph_dep(f.g, a, b);
    expect_refused(&f, "graph: a dependency cycle: task 0 (c1, iteration 1, layer 2) waits for "
                       "task 1 (c2, iteration 1, layer 2), which waits for task 0");
    /* a task that waits for itself */
    fx_init(&f);
    a = net1(f.g, "a", 0, 1, MIB);
    graph_dep(f.g, a, a);
    expect_refused(&f, "graph: a dependency cycle: task 0 (a, iteration 0, layer 0) waits for "
                       "task 0");
    /* an unknown task, either way */
    fx_init(&f);
    a = net1(f.g, "a", 0, 1, MIB);
    assert_int_equal(graph_dep(f.g, a, 5), -1);
    expect_refused(&f, "graph: task 0 (a, iteration 0, layer 0) depends on task 5, which does not "
                       "exist");
    fx_init(&f);
    net1(f.g, "a", 0, 1, MIB);
    assert_int_equal(graph_dep(f.g, 3, 0), -1);
    expect_refused(&f, "graph: a dependency of task 3, which does not exist (tasks 0..0)");
    /* a dependency against a barrier */
    fx_init(&f);
    a = net1(f.g, "a", 0, 1, MIB);
    graph_barrier(f.g);
    b = net1(f.g, "b", 0, 1, MIB);
    assert_int_equal(graph_dep(f.g, b, a), 0); /* what the barrier says already */
    assert_int_equal(graph_dep(f.g, a, b), -1);
    expect_refused(&f, "graph: task 0 (a, iteration 0, layer 0) cannot wait for task 1 (b, "
                       "iteration 0, layer 0): a barrier between them makes the latter wait for "
                       "the former");
    /* a GPU or a host the fabric lacks: refused before the part before runs */
    fx_init(&f);
    net1(f.g, "a", 0, 1, MIB);
    graph_barrier(f.g);
    graph_compute(f.g, "x", 0, 3, 4, US);
    expect_refused(&f, "graph: task 1 (x, iteration 0, layer 3) runs on GPU 4, but the fabric has "
                       "4 GPUs");
    fx_init(&f);
    net1(f.g, "a", 0, 9, MIB);
    expect_refused(&f, "graph: task 0 (a, iteration 0, layer 0) sends from host 0 to host 9, but "
                       "the fabric has 4 hosts");
}

/* Six parts, each with two overlapping network tasks, a compute task and a
 * network task after it, sprayed (so the engines' salts matter). */
static void build_parts(struct graph *g, int from, int to)
{
    for (int k = from; k < to; k++) {
        struct topo_demand d[3] = {{0, 2, MIB / 2 + (uint64_t)k * 1000}, {1, 3, MIB}, {3, 0, 7777}};
        uint64_t a = graph_net(g, "a", (uint32_t)k, 0, d, 3);
        uint64_t b = graph_net(g, "b", (uint32_t)k, 0, d + 1, 2);
        uint64_t x = graph_compute(g, "x", (uint32_t)k, 0, (uint32_t)k % 4, (simtime_t)k * US);
        uint64_t c = graph_net(g, "c", (uint32_t)k, 0, d, 2);
        graph_dep(g, x, a);
        graph_dep(g, c, x);
        (void)b;
        graph_barrier(g);
    }
}

static int more_parts(void *ctx, struct graph *g)
{
    int *k = ctx;
    if (*k == 6) return 0;
    build_parts(g, *k, *k + 1);
    ++*k;
    return 1;
}

static void expect_same(const struct fx *a, const struct fx *b)
{
    assert_int_equal(a->r.nphases, b->r.nphases);
    for (size_t i = 0; i < a->r.nphases; i++) {
        assert_int_equal(a->r.phases[i].start_ps, b->r.phases[i].start_ps);
        assert_int_equal(a->r.phases[i].end_ps, b->r.phases[i].end_ps);
        assert_int_equal(a->r.phases[i].ideal_ps, b->r.phases[i].ideal_ps);
        assert_int_equal(a->r.phases[i].bytes, b->r.phases[i].bytes);
    }
    assert_int_equal(a->r.nflows, b->r.nflows);
    assert_memory_equal(a->r.flows, b->r.flows, a->r.nflows * sizeof *a->r.flows);
    assert_memory_equal(&a->r.st, &b->r.st, sizeof a->r.st);
    assert_memory_equal(a->r.ports, b->r.ports, a->t->nports * sizeof *a->r.ports);
}

static void test_threads_and_streaming_change_nothing(void **state)
{
    (void)state;
    struct fx one, three, streamed;
    fx_init(&one);
    one.c.tr.path = PATH_SPRAY;
    build_parts(one.g, 0, 6);
    assert_int_equal(fx_run(&one, 1, 1, 0), 0);
    assert_string_equal(one.r.invariant, "");
    assert_int_equal(one.r.nphases, 24);
    /* parts chain; within one, c starts after x, which starts after a */
    for (size_t k = 0; k < 6; k++) {
        const struct res_phase *p = &one.r.phases[4 * k];
        assert_int_equal(p[1].start_ps, p[0].start_ps);
        assert_int_equal(p[2].start_ps, p[0].end_ps);
        assert_int_equal(p[3].start_ps, p[2].end_ps);
        if (k) assert_true(p[0].start_ps >= p[-1].end_ps && p[0].start_ps >= p[-3].end_ps);
    }

    fx_init(&three);
    three.c.tr.path = PATH_SPRAY;
    build_parts(three.g, 0, 6);
    assert_int_equal(fx_run(&three, 3, 1, 0), 0);
    expect_same(&one, &three);

    fx_init(&streamed);
    streamed.c.tr.path = PATH_SPRAY;
    int k = 0;
    struct exec_opts o = {&streamed.c.tr,
                          (uint64_t)streamed.c.sim.seed,
                          1,
                          0,
                          2,
                          ENGINE_PACKET,
                          1,
                          (uint64_t)streamed.c.sim.ideal_lp_max};
    assert_int_equal(exec_run(streamed.g, more_parts, &k, streamed.t, &o, &streamed.r, &streamed.e),
                     0);
    expect_same(&one, &streamed);
    fx_free(&one);
    fx_free(&three);
    fx_free(&streamed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_diamond),
        cmocka_unit_test(test_overlap_shares_engine),
        cmocka_unit_test(test_join_running_engine),
        cmocka_unit_test(test_streams_serialize),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_threads_and_streaming_change_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
