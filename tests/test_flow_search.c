/* test_flow_search.c - the selective re-solve's two ways to its subs
 * (sim/flow_maxmin.c: gather_first, every candidate's links gathered before
 * the search; search_first, the search over the touched links' own lists
 * first) give the same run to the bit: every message's end, every link's
 * bytes, the re-solves, subs filled and rate changes, on random leaf-spines
 * and fat trees under every path mode, exact and with deferred re-solves;
 * and search_first agrees with progressive filling from scratch after every
 * re-solve. The deferred sorted ends' radix passes give the same run with
 * digits of any width, and a full re-solve's rates and ends brought up to
 * date as its subs freeze the same run as after the filling. */
#include "testutil.h"

#include <string.h>

#include "sim/eng.h"
#include "sim/flow_eng.h"
#include "topo/topo.h"

#define MAXM 256
static simtime_t ends[MAXM];
static void on_done(void *ctx, struct eng *e, uint64_t tag, simtime_t start, simtime_t end,
                    const struct res_flow_loss *loss)
{
    (void)ctx, (void)e, (void)start, (void)loss;
    if (tag < MAXM) ends[tag] = end;
}

static uint32_t rnd(uint64_t *r)
{
    *r = *r * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(*r >> 33);
}

struct outcome {
    simtime_t ends[MAXM];
    uint64_t bytes[4096];
    uint64_t recomputes, filled, changes;
    double verify_err;
};

/* Instance inst run with flow_maxmin_search = how into *o. */
static void run_one(int inst, int how, struct outcome *o)
{
    uint64_t r = 777 + (uint64_t)inst * 1000003u;
#define RND() rnd(&r)
    struct cfg c;
    cfg_defaults(&c);
    c.topo.leaves = 2 + RND() % 4;
    c.topo.spines = 1 + RND() % 4;
    c.topo.hosts_per_leaf = 2 * (1 + RND() % 4);
    c.topo.host_gbps = 100 * (1 + RND() % 4);
    c.topo.fabric_gbps = 100 * (1 + RND() % 4);
    c.topo.gpus_per_host = inst % 3 ? 1 : 2;
    c.tr.path = PATH_ECMP + inst % 5;
    if (inst % 4 == 3) { /* a fat tree, routed by the generic table */
        c.topo.kind = TOPO_FAT_TREE;
        c.topo.pods = 2;
        c.topo.leaves_per_pod = 2;
        c.topo.aggs_per_pod = 2;
        c.topo.cores = 2 * (1 + RND() % 2);
        topo_spec_resolve(&c.topo);
    }
    c.tr.ack_every = 1 + RND() % 8;
    if (inst % 2) c.tr.fl.resolve_window = 0.1; /* deferred */
    struct topo *t;
    struct err e;
    if (topo_build(&c.topo, &t, &e)) fail_msg("%s", e.msg);
    assert_true(t->nports <= 4096);
    struct eng_hooks h = {NULL, on_done};
    struct eng *g = eng_create_kind(ENGINE_FLOW, t, &c.tr, (uint64_t)inst, &h);
    /* a long-lived all-to-all of large flows, and short flows starting one
     * after another among them (few of the candidates connected to each) */
    uint32_t nm = 0;
    for (uint32_t a = 0; a < t->hosts && nm < MAXM / 2; a++) {
        uint32_t b = (a + 1 + RND() % (t->hosts - 1)) % t->hosts;
        eng_add_msg(g, a, b, 4000000 + RND() % 4000000, 0, nm++);
    }
    while (nm < MAXM) {
        uint32_t a = RND() % t->hosts, b = RND() % t->hosts;
        if (a == b) b = (b + 1) % t->hosts;
        eng_add_msg(g, a, b, 1000 + RND() % 200000, (simtime_t)(RND() % 64) * 5000000, nm++);
    }
#undef RND
    memset(ends, 0, sizeof ends);
    flow_maxmin_search = how;
    flow_maxmin_verify_all = how == 1;
    eng_run(g);
    flow_maxmin_search = 0;
    flow_maxmin_verify_all = 0;
    char msg[256];
    assert_int_equal(eng_check(g, msg, sizeof msg), 0);
    memcpy(o->ends, ends, sizeof ends);
    for (uint32_t p = 0; p < t->nports; p++)
        o->bytes[p] = eng_port(g, p)->bytes;
    const struct flow_eng *f = flow_eng_ofc(g);
    o->recomputes = f->recomputes;
    o->filled = f->filled_subs;
    o->changes = f->rate_changes;
    o->verify_err = f->verify_err;
    eng_destroy(g);
    topo_destroy(t);
}

static void test_both_ways_identical(void **state)
{
    (void)state;
    static struct outcome a, b;
    for (int inst = 0; inst < 20; inst++) {
        memset(&a, 0, sizeof a);
        memset(&b, 0, sizeof b);
        run_one(inst, 1, &a);
        run_one(inst, 2, &b);
        assert_true(a.recomputes > 10);
        for (int m = 0; m < MAXM; m++)
            if (a.ends[m] != b.ends[m])
                fail_msg("instance %d message %d: search_first ends at %llu, gather_first at %llu",
                         inst, m, (unsigned long long)a.ends[m], (unsigned long long)b.ends[m]);
        assert_memory_equal(a.bytes, b.bytes, sizeof a.bytes);
        assert_int_equal(a.recomputes, b.recomputes);
        assert_int_equal(a.filled, b.filled);
        assert_int_equal(a.changes, b.changes);
        /* exact re-solves: the same rates as a filling from scratch (the
         * deferred ones are feasible, not max-min, between re-solves) */
        if (inst % 2 == 0 && a.verify_err > 1e-9)
            fail_msg("instance %d: search_first and scratch rates part by %g", inst, a.verify_err);
    }
}

/* A deferred all-to-all of 128 hosts (16,256 subs: the sorted ends'
 * passes on 11-bit digits) run with digits of 11, 8 and 5 bits: every
 * message's end, every link's bytes and the counters the same. */
#define BIG_MORE 128
static simtime_t big_ends[128 * 127 + BIG_MORE];
static uint32_t big_added,
    big_done; /* run_a2a: messages added as others end, past half of them (so compactions run) */
static int big_add;
static void on_big(void *ctx, struct eng *e, uint64_t tag, simtime_t start, simtime_t end,
                   const struct res_flow_loss *loss)
{
    (void)ctx, (void)start, (void)loss;
    big_ends[tag] = end;
    big_done++;
    if (big_add && big_added < BIG_MORE && big_done > 128 * 127 / 2 && big_done % 32 == 0) {
        uint32_t a = (uint32_t)(tag * 7 % 128), b = (uint32_t)((tag * 7 + 1 + tag % 127) % 128);
        if (a == b) b = (b + 1) % 128;
        eng_add_msg(e, a, b, 30000 + tag % 5 * 100000, end, 128 * 127 + big_added++);
    }
}

static void test_sort_digits_identical(void **state)
{
    (void)state;
    static simtime_t ref[128 * 127];
    uint64_t refbytes[1024], rc[3] = {0};
    int bits[3] = {0, 8, 5};
    for (int v = 0; v < 3; v++) {
        struct cfg c;
        cfg_defaults(&c);
        c.topo.leaves = 8;
        c.topo.spines = 4;
        c.topo.hosts_per_leaf = 16;
        c.tr.path = PATH_ECMP;
        c.tr.fl.resolve_window = 0.1;
        struct topo *t;
        struct err e;
        if (topo_build(&c.topo, &t, &e)) fail_msg("%s", e.msg);
        assert_true(t->nports <= 1024);
        struct eng_hooks h = {NULL, on_big};
        struct eng *g = eng_create_kind(ENGINE_FLOW, t, &c.tr, 5, &h);
        uint64_t r = 99;
        uint32_t nm = 0;
        for (uint32_t a = 0; a < t->hosts; a++)
            for (uint32_t b = 0; b < t->hosts; b++)
                if (a != b) eng_add_msg(g, a, b, 20000 + rnd(&r) % 2000000, 0, nm++);
        assert_int_equal(nm, 128 * 127);
        flow_maxmin_sort_bits = bits[v];
        eng_run(g);
        flow_maxmin_sort_bits = 0;
        char msg[256];
        assert_int_equal(eng_check(g, msg, sizeof msg), 0);
        rc[v] = flow_eng_ofc(g)->recomputes;
        assert_true(rc[v] > 20);
        for (uint32_t p = 0; p < t->nports; p++) {
            uint64_t by = eng_port(g, p)->bytes;
            if (v == 0)
                refbytes[p] = by;
            else
                assert_int_equal(by, refbytes[p]);
        }
        if (v == 0)
            memcpy(ref, big_ends, sizeof ref);
        else
            for (uint32_t m = 0; m < nm; m++)
                if (ref[m] != big_ends[m])
                    fail_msg("%d-bit digits: message %u ends at %llu, with 11 at %llu", bits[v], m,
                             (unsigned long long)big_ends[m], (unsigned long long)ref[m]);
        assert_int_equal(rc[v], rc[0]);
        eng_destroy(g);
        topo_destroy(t);
    }
}

/* A deferred full re-solve's new rates and ends as its subs freeze, and
 * the ends sorted from those (flow_maxmin_fused; by tend's top digit
 * first and each bucket when the ends reach it, flow_maxmin_segments, with
 * compactions between, or all at once), against the pass over the active
 * subs and sort_ends: a 128-host all-to-all of random sizes,
 * one of three sizes under split (runs of equal ends, more than 16 at
 * once: the ties by sub) and the random instances with deferred re-solves; every
 * message's end, every link's bytes and the counters the same. */
static void run_a2a(int equal, int fused, int segs, int compact, simtime_t *out, uint64_t *bytes,
                    uint64_t *cnt)
{
    struct cfg c;
    cfg_defaults(&c);
    c.topo.leaves = 8;
    c.topo.spines = 4;
    c.topo.hosts_per_leaf = 16;
    c.tr.path = equal ? PATH_SPLIT : PATH_ECMP;
    c.tr.fl.resolve_window = 0.1;
    struct topo *t;
    struct err e;
    if (topo_build(&c.topo, &t, &e)) fail_msg("%s", e.msg);
    assert_true(t->nports <= 1024);
    struct eng_hooks h = {NULL, on_big};
    struct eng *g = eng_create_kind(ENGINE_FLOW, t, &c.tr, 5, &h);
    uint64_t r = 99;
    uint32_t nm = 0;
    for (uint32_t a = 0; a < t->hosts; a++)
        for (uint32_t b = 0; b < t->hosts; b++)
            if (a != b)
                eng_add_msg(g, a, b, equal ? 100000 * (1 + rnd(&r) % 3) : 20000 + rnd(&r) % 2000000,
                            0, nm++);
    flow_maxmin_fused = fused;
    flow_maxmin_segments = segs;
    if (compact) flow_compact_min = 0; /* whenever half the subs are dead */
    uint64_t nc = flow_compact_count;
    big_add = 1;
    big_added = big_done = 0;
    eng_run(g);
    big_add = 0;
    assert_int_equal(big_added, BIG_MORE);
    if (compact) assert_true(flow_compact_count > nc);
    flow_compact_min = 65536;
    flow_maxmin_fused = 1;
    flow_maxmin_segments = 1;
    char msg[256];
    assert_int_equal(eng_check(g, msg, sizeof msg), 0);
    memcpy(out, big_ends, sizeof big_ends);
    for (uint32_t p = 0; p < t->nports; p++)
        bytes[p] = eng_port(g, p)->bytes;
    const struct flow_eng *f = flow_eng_ofc(g);
    cnt[0] = f->recomputes;
    cnt[1] = f->filled_subs;
    cnt[2] = f->rate_changes;
    cnt[3] = f->big_changes;
    eng_destroy(g);
    topo_destroy(t);
}

static void test_fused_identical(void **state)
{
    (void)state;
    static simtime_t ea[128 * 127 + BIG_MORE], eb[128 * 127 + BIG_MORE];
    static uint64_t ba[1024], bb[1024];
    /* fused with the buckets sorted as the ends reach them, with and
     * without compactions, fused sorting all at once: each against the
     * pass over the active subs and sort_ends */
    static const int ways[3][3] = {{1, 1, 0}, {1, 1, 1}, {1, 0, 0}};
    for (int equal = 0; equal < 2; equal++) {
        uint64_t ca[4], cb[4];
        memset(bb, 0, sizeof bb);
        run_a2a(equal, 0, 0, 0, eb, bb, cb);
        assert_true(cb[0] > (equal ? 4u : 20u));
        for (int w = 0; w < 3; w++) {
            memset(ba, 0, sizeof ba);
            run_a2a(equal, ways[w][0], ways[w][1], ways[w][2], ea, ba, ca);
            for (uint32_t m = 0; m < 128 * 127 + BIG_MORE; m++)
                if (ea[m] != eb[m])
                    fail_msg("%s sizes, way %d: message %u ends at %llu, %llu before",
                             equal ? "three" : "random", w, m, (unsigned long long)ea[m],
                             (unsigned long long)eb[m]);
            assert_memory_equal(ba, bb, sizeof ba);
            assert_memory_equal(ca, cb, sizeof ca);
        }
    }
    static struct outcome a, b;
    for (int inst = 1; inst < 20; inst += 2) { /* the deferred ones */
        memset(&a, 0, sizeof a);
        memset(&b, 0, sizeof b);
        flow_maxmin_fused = 0;
        run_one(inst, 0, &b);
        flow_maxmin_fused = 1;
        run_one(inst, 0, &a);
        assert_memory_equal(a.ends, b.ends, sizeof a.ends);
        assert_memory_equal(a.bytes, b.bytes, sizeof a.bytes);
        assert_int_equal(a.recomputes, b.recomputes);
        assert_int_equal(a.filled, b.filled);
        assert_int_equal(a.changes, b.changes);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_both_ways_identical),
        cmocka_unit_test(test_sort_digits_identical),
        cmocka_unit_test(test_fused_identical),
    };
    return cmocka_run_group_tests_name("flow_search", tests, NULL, NULL);
}
