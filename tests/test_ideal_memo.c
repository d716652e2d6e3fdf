/* test_ideal_memo.c - the cut bound's records remembered by (route, size,
 * flow count) (topo/ideal.c: a phase of at least 256 demands) give the
 * bound computed demand by demand (MOESIM_IDEAL_NOMEMO=1) to the
 * picosecond: on leaf-spines with and without NVLink servers, a fat-tree of
 * two pods, rails with PXN and through the spines, and two rail planes;
 * with sizes that repeat (an MoE phase's token counts times a token's
 * bytes), that rarely do (most keys collide in the table and overwrite each
 * other) and small ones (below the MTU); one flow, several equal subflows
 * and each demand's own count (ethereal's). Below 256 demands, and with
 * faults, the records are not remembered; the bound is the same either
 * way there too. */
#include "testutil.h"
#include "fabric_spec.h"

#include <gsl/gsl_rng.h>
#include <stdlib.h>

#include "topo/ideal_lp.h"
#include "topo/topo.h"

/* The bound with the records remembered and without. */
static void both(const struct topo *t, const struct topo_demand *d, size_t n, uint32_t mtu,
                 uint32_t subflows, const uint32_t *each, simtime_t *memo, simtime_t *plain)
{
    unsetenv("MOESIM_IDEAL_NOMEMO");
    *memo = topo_ideal_each_ps(t, d, n, mtu, subflows, each);
    setenv("MOESIM_IDEAL_NOMEMO", "1", 1);
    *plain = topo_ideal_each_ps(t, d, n, mtu, subflows, each);
    unsetenv("MOESIM_IDEAL_NOMEMO");
}

/* n random demands on H hosts, sizes by `shape`: 0 repeating (k tokens of
 * 8192 bytes, k < 40), 1 any size up to 4 MB, 2 below the MTU, 3 a mix. */
static void traffic(gsl_rng *r, uint32_t H, uint32_t mtu, int shape, struct topo_demand *d,
                    size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t a = (uint32_t)gsl_rng_uniform_int(r, H), b = (uint32_t)gsl_rng_uniform_int(r, H);
        if (a == b) b = (b + 1) % H;
        int s = shape == 3 ? (int)gsl_rng_uniform_int(r, 3) : shape;
        uint64_t bytes = s == 0   ? 8192 * (1 + gsl_rng_uniform_int(r, 39))
                         : s == 1 ? 1 + gsl_rng_uniform_int(r, 4u << 20)
                                  : 1 + gsl_rng_uniform_int(r, mtu);
        d[i] = (struct topo_demand){a, b, bytes};
    }
}

/* Random phases on t: the remembered bound equals the plain one. */
static void check_fabric(const struct topo *t, gsl_rng *r, const char *what)
{
    static const size_t sizes[] = {100, 256, 700, 3000, 20000};
    static const uint32_t mtus[] = {1500, 4096};
    size_t cap = 20000;
    struct topo_demand *d = xmalloc(cap * sizeof *d);
    uint32_t *each = xmalloc(cap * sizeof *each);
    for (int k = 0; k < 40; k++) {
        size_t n = sizes[k % 5];
        uint32_t mtu = mtus[(k / 5) % 2], sub = k % 3 ? 1 : 4;
        traffic(r, t->hosts, mtu, k % 4, d, n);
        for (size_t i = 0; i < n; i++)
            each[i] = (uint32_t)gsl_rng_uniform_int(r, 5); /* 0: one flow */
        simtime_t a, b;
        both(t, d, n, mtu, sub, NULL, &a, &b);
        if (a != b || a == 0)
            fail_msg("%s: %zu demands, shape %d, mtu %u, subflows %u: %llu remembered, %llu plain",
                     what, n, k % 4, mtu, sub, (unsigned long long)a, (unsigned long long)b);
        both(t, d, n, mtu, 1, each, &a, &b);
        if (a != b || a == 0)
            fail_msg("%s: %zu demands, shape %d, each demand's count: %llu remembered, %llu plain",
                     what, n, k % 4, (unsigned long long)a, (unsigned long long)b);
    }
    free(each);
    free(d);
}

static void build_check(struct cfg *c, gsl_rng *r, const char *what)
{
    struct topo *t;
    struct err e;
    if (topo_build(&c->topo, &t, &e) < 0) fail_msg("%s: %s", what, e.msg);
    check_fabric(t, r, what);
    topo_destroy(t);
}

static void test_memo_equals_plain(void **state)
{
    (void)state;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 13);
    struct cfg c;
    cfg_defaults(&c);
    c.topo.leaves = 4;
    c.topo.spines = 2;
    c.topo.hosts_per_leaf = 8;
    build_check(&c, r, "leaf-spine");
    c.topo.gpus_per_host = 4; /* NVLink servers */
    c.topo.fabric_gbps = 100; /* 4:1 oversubscribed */
    build_check(&c, r, "leaf-spine with NVLink");
    ft_spec(&c, 2, 2, 2, 2, 4);
    build_check(&c, r, "fat-tree");
    rail_spec(&c, 2, 2, 4, 2, 1, TOPO_XR_PXN);
    build_check(&c, r, "rail, PXN");
    rail_spec(&c, 2, 2, 4, 2, 1, TOPO_XR_SPINE);
    build_check(&c, r, "rail through the spines");
    planes2_spec(&c, TOPO_XR_SPINE);
    build_check(&c, r, "two rail planes");
    gsl_rng_free(r);
}

/* With a link down and one degraded the routes are each demand's own (no
 * records remembered): the same bound either way, and above the healthy
 * fabric's where the degraded link binds. */
static void test_faults_not_remembered(void **state)
{
    (void)state;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 7);
    struct cfg c;
    cfg_defaults(&c);
    c.topo.leaves = 4;
    c.topo.spines = 2;
    c.topo.hosts_per_leaf = 8;
    struct topo *t;
    struct err e;
    assert_int_equal(topo_build(&c.topo, &t, &e), 0);
    size_t n = 3000;
    struct topo_demand *d = xmalloc(n * sizeof *d);
    traffic(r, t->hosts, 4096, 0, d, n);
    simtime_t healthy, plain;
    both(t, d, n, 4096, 1, NULL, &healthy, &plain);
    assert_int_equal(healthy, plain);
    /* host 0's uplink at a tenth of its rate */
    t->ports[t->host_up[0]].bps /= 10;
    t->ndegraded = 1;
    simtime_t a, b;
    both(t, d, n, 4096, 1, NULL, &a, &b);
    assert_int_equal(a, b);
    assert_true(a > healthy);
    free(d);
    topo_destroy(t);
    gsl_rng_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_memo_equals_plain),
        cmocka_unit_test(test_faults_not_remembered),
    };
    return cmocka_run_group_tests_name("ideal_memo", tests, NULL, NULL);
}
