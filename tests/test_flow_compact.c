/* test_flow_compact.c - the flow engine's memory bounded by the flows alive
 * (sim/flow_compact.c): dropping the ended subs and reusing the slots of
 * done messages changes no result (every message's end, every link's bytes,
 * the counters: equal to the bit with compaction at every chance and with
 * none, for every path mode, exact and deferred re-solves), while the
 * arrays hold at most about twice the subs alive, not every sub since the
 * reset; and a small MoE training step through the executor (chunks
 * overlapped, a gradient all-reduce sharing the backward pass's engine)
 * gives the same rows either way. */
#include "testutil.h"

#include "app/scenario.h"
#include "sim/eng.h"
#include "sim/flow_eng.h"
#include "topo/topo.h"
#include "workloads/wl.h"

#define H      16 /* hosts */
#define ROUNDS 30 /* messages per chain */
#define NMSG   (H * H + H * ROUNDS)

struct chains {
    simtime_t end[NMSG];
    uint32_t sent[H]; /* messages of chain h so far */
    uint32_t max_subs, max_uses;
    uint64_t lcg;
};

static uint64_t next_size(struct chains *c)
{
    c->lcg = c->lcg * 6364136223846793005ull + 1442695040888963407ull;
    return 1000 + (c->lcg >> 33) % 200000;
}

/* Tags below H*H: the all-to-all at time 0; from H*H on, chain h's k-th
 * message (h to h+1 or h+5, alternately), each sent when the one before
 * arrives. */
static void on_done(void *ctx, struct eng *e, uint64_t tag, simtime_t start, simtime_t end,
                    const struct res_flow_loss *loss)
{
    (void)start, (void)loss;
    struct chains *c = ctx;
    assert_true(tag < NMSG);
    c->end[tag] = end;
    if (tag >= H * H) {
        uint32_t h = (uint32_t)((tag - H * H) / ROUNDS);
        if (c->sent[h] < ROUNDS) {
            uint32_t k = c->sent[h]++;
            uint32_t dst = (h + (k % 2 ? 5 : 1)) % H;
            eng_add_msg(e, h, dst, next_size(c), end, H * H + (uint64_t)h * ROUNDS + k);
        }
    }
    const struct flow_eng *f = flow_eng_ofc(e);
    if (f->nsubs > c->max_subs) c->max_subs = f->nsubs;
    if (f->nuses > c->max_uses) c->max_uses = f->nuses;
}

struct outcome {
    struct chains c;
    struct eng_stats st;
    uint64_t bytes[512];
    uint32_t peak_live, nports;
};

static void run_chains(const struct topo *t, const struct tr_spec *tr, uint32_t min,
                       struct outcome *o)
{
    memset(o, 0, sizeof *o);
    o->c.lcg = 42;
    flow_compact_min = min;
    struct eng_hooks h = {&o->c, on_done};
    struct eng *e = eng_create_kind(ENGINE_FLOW, t, tr, 7, &h);
    eng_reset(e, &h, 3);
    for (uint32_t a = 0; a < H; a++)
        for (uint32_t b = 0; b < H; b++)
            if (a != b) eng_add_msg(e, a, b, next_size(&o->c), 0, (uint64_t)a * H + b);
    for (uint32_t a = 0; a < H; a++) {
        o->c.sent[a] = 1;
        eng_add_msg(e, a, (a + 1) % H, next_size(&o->c), 0, H * H + (uint64_t)a * ROUNDS);
    }
    eng_run(e);
    char msg[256];
    if (eng_check(e, msg, sizeof msg) != 0) fail_msg("%s", msg);
    o->st = *eng_stats(e);
    o->nports = t->nports;
    assert_true(t->nports <= 512);
    for (uint32_t q = 0; q < t->nports; q++)
        o->bytes[q] = eng_port(e, q)->bytes;
    o->peak_live = flow_eng_of(e)->peak_live;
    eng_destroy(e);
    flow_compact_min = 65536;
}

/* Every path mode, exact and with both deferred triggers: the same ends,
 * bytes and counters with compaction whenever half the subs are dead as
 * with none; with it the arrays stay near the subs alive. */
static void test_same_results_bounded(void **state)
{
    (void)state;
    struct cfg c;
    cfg_defaults(&c);
    c.topo.leaves = 4;
    c.topo.spines = 2;
    c.topo.hosts_per_leaf = 4;
    c.topo.host_gbps = c.topo.fabric_gbps = 100;
    const int paths[] = {PATH_ECMP,     PATH_SPLIT,    PATH_SPRAY,
                         PATH_SPRAY_RR, PATH_ADAPTIVE, PATH_ETHEREAL};
    static struct outcome never, always;
    for (size_t pi = 0; pi < sizeof paths / sizeof *paths; pi++)
        for (int mode = 0; mode < 3; mode++) {
            c.tr.path = paths[pi];
            c.tr.subflows = 3;
            c.tr.fl.resolve_window = mode == 1 ? 0.1 : 0;
            c.tr.fl.resolve_slack = mode == 2 ? 0.05 : 0;
            struct topo *t;
            struct err e;
            assert_int_equal(topo_build(&c.topo, &t, &e), 0);
            uint64_t before = flow_compact_count;
            run_chains(t, &c.tr, UINT32_MAX, &never);
            assert_int_equal(flow_compact_count, before);
            run_chains(t, &c.tr, 0, &always);
            uint64_t runs = flow_compact_count - before;
            if (runs < 5)
                fail_msg("path %d mode %d: %llu compactions", paths[pi], mode,
                         (unsigned long long)runs);
            for (uint32_t m = 0; m < NMSG; m++)
                if (never.c.end[m] != always.c.end[m] || (!never.c.end[m] && m % (H + 1)))
                    fail_msg("path %d mode %d: message %u ends at %llu, %llu compacted", paths[pi],
                             mode, m, (unsigned long long)never.c.end[m],
                             (unsigned long long)always.c.end[m]);
            assert_memory_equal(never.bytes, always.bytes, sizeof never.bytes);
            assert_int_equal(never.st.events, always.st.events);
            assert_int_equal(never.st.flows, always.st.flows);
            assert_int_equal(never.st.acks, always.st.acks);
            assert_int_equal(never.st.now, always.st.now);
            assert_int_equal(never.st.peak_events, always.st.peak_events);
            /* without compaction the arrays hold every sub made; with it at
             * most twice the most alive at once, plus a message's */
            assert_int_equal(never.c.max_subs, never.st.flows);
            uint32_t bound = 2 * always.peak_live + 8;
            if (always.c.max_subs > bound)
                fail_msg("path %d mode %d: %u subs held, %u alive at most", paths[pi], mode,
                         always.c.max_subs, always.peak_live);
            assert_true(always.c.max_uses < never.c.max_uses);
            topo_destroy(t);
        }
}

/* A training step (two layers in two chunks overlapped, a gradient ring
 * all-reduce that overlaps the backward pass on one engine), exact and
 * deferred: the same rows with compaction at every chance as with none. */
static void test_training_step_same_rows(void **state)
{
    (void)state;
    struct cfg c;
    cfg_defaults(&c);
    c.wl.kind = WL_MOE;
    snprintf(c.wl.trace, sizeof c.wl.trace, "%s", "tests/data/mixtral_excerpt.csv");
    c.topo.leaves = 2;
    c.topo.spines = 2;
    c.topo.hosts_per_leaf = 8;
    c.topo.gpus_per_host = 4;
    c.topo.host_gbps = c.topo.fabric_gbps = 400;
    c.wl.hidden = 1024;
    c.wl.tokens_per_gpu = 32;
    c.wl.layers = 2;
    c.wl.chunks = 2;
    c.wl.overlap = WL_OVERLAP_CHUNKS;
    c.wl.pass = WL_PASS_TRAINING;
    c.wl.dense_bytes = 4 << 20;
    c.tr.path = PATH_SPRAY;
    c.pl.train = 0;
    c.pl.replicas = 8; /* 16 slots for 8 experts */
    c.out.flows = 1;
    c.sim.engine = ENGINE_FLOW;
    for (int mode = 0; mode < 2; mode++) {
        c.tr.fl.resolve_window = mode ? 0.1 : 0;
        struct wl_result r[2];
        struct topo *t[2];
        uint64_t before = flow_compact_count;
        for (int k = 0; k < 2; k++) {
            flow_compact_min = k ? 0 : UINT32_MAX;
            tu_run(&c, &r[k], &t[k]);
        }
        flow_compact_min = 65536;
        assert_true(flow_compact_count > before);
        assert_int_equal(r[0].run.nphases, r[1].run.nphases);
        assert_true(r[0].run.nphases > 100); /* the ring's tasks */
        for (size_t i = 0; i < r[0].run.nphases; i++) {
            const struct res_phase *a = &r[0].run.phases[i], *b = &r[1].run.phases[i];
            assert_string_equal(a->phase, b->phase);
            if (a->start_ps != b->start_ps || a->end_ps != b->end_ps)
                fail_msg("mode %d: row %zu (%s) %llu-%llu, %llu-%llu compacted", mode, i, a->phase,
                         (unsigned long long)a->start_ps, (unsigned long long)a->end_ps,
                         (unsigned long long)b->start_ps, (unsigned long long)b->end_ps);
        }
        assert_int_equal(r[0].run.nflows, r[1].run.nflows);
        for (size_t i = 0; i < r[0].run.nflows; i++) {
            assert_int_equal(r[0].run.flows[i].start_ps, r[1].run.flows[i].start_ps);
            assert_int_equal(r[0].run.flows[i].end_ps, r[1].run.flows[i].end_ps);
        }
        for (uint32_t q = 0; q < t[0]->nports; q++)
            assert_int_equal(r[0].run.ports[q].bytes, r[1].run.ports[q].bytes);
        assert_int_equal(r[0].run.st.now, r[1].run.st.now);
        for (int k = 0; k < 2; k++) {
            wl_result_free(&r[k]);
            topo_destroy(t[k]);
        }
    }
}

/* The memory estimate's flow-engine term (app/validate.c): a sub between
 * two leaves has the uses add_route gives it (eng_flow_uses_spec: 2 x (2 +
 * 2 x spines) spread, 2 x 4 on one path or spread over merged groups), and a MoE run counts one
 * chunk's all-to-all alive: G x min(G - 1, ceil(tokens x K / chunks)) messages. */
static void test_memory_estimate_flow(void **state)
{
    (void)state;
    struct cfg c;
    cfg_defaults(&c);
    c.topo.leaves = 4, c.topo.spines = 3, c.topo.hosts_per_leaf = 4;
    const int paths[] = {PATH_ECMP, PATH_SPLIT, PATH_SPRAY, PATH_SPRAY_RR, PATH_ADAPTIVE};
    for (size_t i = 0; i < 2 * sizeof paths / sizeof *paths; i++) {
        flow_group_off = i >= sizeof paths / sizeof *paths;
        c.tr.path = paths[i % (sizeof paths / sizeof *paths)];
        int spread =
            c.tr.path == PATH_SPRAY || c.tr.path == PATH_SPRAY_RR || c.tr.path == PATH_ADAPTIVE;
        /* (the leaf's 3 uplinks and the 3 downlinks into the other leaf one
         * group each, flow_group.c, unless merging is off) */
        uint32_t want = spread && flow_group_off ? 2 * (2 + 2 * 3) : 2 * 4;
        assert_int_equal(eng_flow_uses_spec(&c.topo, &c.tr), want);
        /* the engine's own sub between two leaves */
        struct topo *t;
        struct err e;
        assert_int_equal(topo_build(&c.topo, &t, &e), 0);
        struct eng_hooks h = {NULL, NULL};
        struct eng *g = eng_create_kind(ENGINE_FLOW, t, &c.tr, 1, &h);
        eng_add_msg(g, 0, 15, 1 << 20, 0, 0);
        const struct flow_eng *f = flow_eng_ofc(g);
        assert_int_equal(f->nuses, want * f->nsubs);
        eng_destroy(g);
        topo_destroy(t);
    }
    flow_group_off = 0;
    cfg_defaults(&c);
    c.wl.kind = WL_MOE, c.wl.topk = 2, c.wl.tokens_per_gpu = 96, c.wl.chunks = 4;
    c.topo.leaves = 4, c.topo.spines = 2, c.topo.hosts_per_leaf = 16;
    c.tr.path = PATH_SPRAY;
    uint64_t packet = cfg_memory_estimate(&c);
    c.sim.engine = ENGINE_FLOW;
    uint64_t flow = cfg_memory_estimate(&c);
    double alive = 64.0 * 48; /* 96 x 2 / 4 = 48 copies per GPU per chunk */
    double want = alive * (double)(eng_memory_flow_msg() + sizeof(struct topo_demand) +
                                   eng_memory_flow_sub(2 * 4)); /* merged groups */
    assert_int_equal(flow - packet, (uint64_t)want);
    c.wl.tokens_per_gpu = 4096; /* capped by the other GPUs */
    c.sim.engine = ENGINE_PACKET;
    packet = cfg_memory_estimate(&c);
    c.sim.engine = ENGINE_FLOW;
    want = 64.0 * 63 *
           (double)(eng_memory_flow_msg() + sizeof(struct topo_demand) +
                    eng_memory_flow_sub(2 * 4)); /* merged groups */
    assert_int_equal(cfg_memory_estimate(&c) - packet, (uint64_t)want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_results_bounded),
        cmocka_unit_test(test_training_step_same_rows),
        cmocka_unit_test(test_memory_estimate_flow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
