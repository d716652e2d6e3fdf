/* test_flow_group.c - the flow engine's groups of equal links
 * (sim/flow_group.c): a spreading sub's leaf uplinks and the downlinks into
 * its destination leaf merged into one constraint each give the same max-min
 * solution as one constraint per link (random leaf-spines, every spreading
 * mode, exact and deferred re-solves, messages at random times), the links'
 * byte counts are the same to the byte, and the groups exist only where
 * they are exact. */
#include "testutil.h"

#include <math.h>

#include "sim/eng.h"
#include "sim/flow_eng.h"
#include "topo/topo.h"
#include "workloads/wl.h"

#define MAXM 80
static simtime_t ends[MAXM];
static void on_done(void *ctx, struct eng *e, uint64_t tag, simtime_t start, simtime_t end,
                    const struct res_flow_loss *loss)
{
    (void)loss, (void)ctx, (void)e, (void)start;
    if (tag < MAXM) ends[tag] = end;
}

static uint32_t rnd(uint64_t *r)
{
    *r = *r * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(*r >> 33);
}

struct msg {
    uint32_t a, b;
    uint64_t size;
    simtime_t at;
};

/* Runs msgs[0, n) on t, merged or not: the messages' ends into end[], the
 * ports' bytes into bytes[], the engine's groups into *ngroups. */
static void run(const struct topo *t, const struct tr_spec *tr, const struct msg *m, uint32_t n,
                int merged, simtime_t *end, uint64_t *bytes, uint32_t *ngroups)
{
    flow_group_off = !merged;
    struct eng_hooks h = {NULL, on_done};
    struct eng *g = eng_create_kind(ENGINE_FLOW, t, tr, 3, &h);
    for (uint32_t i = 0; i < n; i++)
        eng_add_msg(g, m[i].a, m[i].b, m[i].size, m[i].at, i);
    eng_run(g);
    char msg[256];
    if (eng_check(g, msg, sizeof msg)) fail_msg("%s", msg);
    for (uint32_t i = 0; i < n; i++)
        end[i] = ends[i] - m[i].at;
    for (uint32_t p = 0; p < t->nports; p++)
        bytes[p] = eng_port(g, p)->bytes;
    *ngroups = flow_eng_ofc(g)->ngroups;
    eng_destroy(g);
    flow_group_off = 0;
}

/* Merged and unmerged on random instances. With every size (data and
 * acknowledgements) a multiple of npaths the two problems are the same and
 * the ends agree within 1e-9; with any sizes the merged weights are the
 * members' mean (a link's share differs by at most one byte), and the ends
 * agree within npaths bytes over the least size (both up to 2 ps of
 * rounding). The links' bytes are the
 * same either way. */
static void test_merged_equals_unmerged(void **state)
{
    (void)state;
    uint64_t r = 4242;
#define RND() rnd(&r)
    static struct msg m[MAXM];
    static simtime_t e0[MAXM], e1[MAXM];
    double worst_exact = 0, worst_any = 0;
    for (int inst = 0; inst < 36; inst++) {
        int divisible = inst % 2 == 0;
        struct cfg c;
        cfg_defaults(&c);
        c.topo.leaves = 2 + RND() % 4;
        c.topo.spines = divisible ? 2 << RND() % 3 : 2 + (int)(RND() % 5);
        c.topo.hosts_per_leaf = 2 * (1 + RND() % 3);
        c.topo.host_gbps = 100 * (1 + RND() % 4);
        c.topo.fabric_gbps = 100 * (1 + RND() % 4);
        c.topo.gpus_per_host = inst % 3 ? 1 : 2;
        c.tr.path = (int[]){PATH_SPRAY, PATH_SPRAY_RR, PATH_ADAPTIVE}[inst % 3];
        c.tr.ack_every = 1 + RND() % 8;
        c.tr.fl.resolve_window = inst % 4 >= 2 ? 0.1 : 0;
        struct topo *t;
        struct err e;
        if (topo_build(&c.topo, &t, &e)) fail_msg("%s", e.msg);
        uint32_t n = 20 + RND() % 60;
        uint64_t least = UINT64_MAX;
        for (uint32_t i = 0; i < n; i++) {
            m[i].a = RND() % t->hosts;
            m[i].b = RND() % t->hosts;
            if (m[i].a == m[i].b) m[i].b = (m[i].b + 1) % t->hosts;
            m[i].size = 1000 + RND() % 2000000;
            if (divisible) m[i].size = m[i].size / (8 * 4096) * (8 * 4096) + 8 * 4096;
            if (m[i].size < least) least = m[i].size;
            m[i].at = (simtime_t)(RND() % 4) * 20000000;
        }
        uint64_t *b0 = xcalloc(t->nports, sizeof *b0), *b1 = xcalloc(t->nports, sizeof *b1);
        uint32_t g0, g1;
        run(t, &c.tr, m, n, 0, e0, b0, &g0);
        run(t, &c.tr, m, n, 1, e1, b1, &g1);
        assert_int_equal(g0, 0);
        assert_int_equal(g1, 2 * t->leaves);
        double worst = 0;
        for (uint32_t i = 0; i < n; i++) {
            /* (ends are whole picoseconds: a rate one rounding apart can
             * move one by a picosecond) */
            double d = fmax(fabs((double)e1[i] - (double)e0[i]) - 2, 0) / (double)e0[i];
            if (d > worst) worst = d;
        }
        double tol = divisible ? 1e-9 : (double)t->npaths / (double)least;
        if (worst > tol)
            fail_msg("instance %d: merged and unmerged ends part by %g (tolerance %g)", inst, worst,
                     tol);
        if (divisible && worst > worst_exact) worst_exact = worst;
        if (!divisible && worst > worst_any) worst_any = worst;
        for (uint32_t p = 0; p < t->nports; p++)
            if (b0[p] != b1[p])
                fail_msg("instance %d: port %u: %llu bytes unmerged, %llu merged", inst, p,
                         (unsigned long long)b0[p], (unsigned long long)b1[p]);
        free(b0);
        free(b1);
        topo_destroy(t);
    }
#undef RND
    printf("# merged against unmerged: ends within %.3g (sizes divisible), %.3g (any sizes)\n",
           worst_exact, worst_any);
}

/* A spray sub between leaves at 16 spines: 8 uses merged (its two host
 * links, one uplink group, one downlink group, and the same back for its
 * acknowledgements, as many as an ECMP sub) against 68; no groups for
 * ECMP, fat trees or with flow_group_off. */
static void test_groups_where_exact(void **state)
{
    (void)state;
    struct cfg c;
    cfg_defaults(&c);
    c.topo.leaves = 2;
    c.topo.spines = 16;
    c.topo.hosts_per_leaf = 2;
    struct eng_hooks h = {NULL, on_done};
    for (int k = 0; k < 3; k++) {
        c.tr.path = k == 2 ? PATH_ECMP : PATH_SPRAY;
        flow_group_off = k == 1;
        struct topo *t;
        struct err e;
        if (topo_build(&c.topo, &t, &e)) fail_msg("%s", e.msg);
        struct eng *g = eng_create_kind(ENGINE_FLOW, t, &c.tr, 1, &h);
        eng_add_msg(g, 0, t->hosts - 1, 1 << 20, 0, 0);
        const struct flow_eng *f = flow_eng_ofc(g);
        assert_int_equal(f->ngroups, k == 0 ? 4 : 0);
        assert_int_equal(f->nuses, k == 1 ? 68 : 8);
        eng_run(g);
        eng_destroy(g);
        topo_destroy(t);
    }
    flow_group_off = 0;
    c.topo.kind = TOPO_FAT_TREE;
    c.topo.pods = 2;
    c.topo.leaves_per_pod = 2;
    c.topo.aggs_per_pod = 2;
    c.topo.cores = 4;
    topo_spec_resolve(&c.topo);
    c.tr.path = PATH_SPRAY;
    struct topo *t;
    struct err e;
    if (topo_build(&c.topo, &t, &e)) fail_msg("%s", e.msg);
    struct eng *g = eng_create_kind(ENGINE_FLOW, t, &c.tr, 1, &h);
    assert_int_equal(flow_eng_ofc(g)->ngroups, 0);
    eng_destroy(g);
    topo_destroy(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_merged_equals_unmerged),
        cmocka_unit_test(test_groups_where_exact),
    };
    return cmocka_run_group_tests_name("flow_group", tests, NULL, NULL);
}
