/* test_ethereal_tiers.c - transport.path = ethereal on a three-tier tree
 * whose cores choose too (docs/fabrics.md, "ethereal: what is assigned,
 * where, and why"): a non-blocking GraphML fat-tree (every aggregation switch
 * linked to every core, as tools/fat_tree_graphml.sh writes it), where a
 * pair of pods has A x C x A paths but the source splits only for its own
 * choices, A x C. An all-to-all and a ring all-reduce: every leaf uplink,
 * every aggregation-to-core uplink, every core's and aggregation switch's
 * downlink sends exactly the same data packets; ECMP does not; each flow's
 * subflows are s/g of the source's choices (far below the paths); every
 * flow's subflows spread over each down choice within one subflow (the
 * documented bound) on an irregular set of demands; with a leaf link down
 * every subflow takes a live path and each source's choices stay within one
 * subflow; a lone flow ends at eth_ideal_ps. */
#include "fabric_run.h"

#include "base/num.h"

/* The tree as GraphML, into a temporary file (its path, the caller's to
 * unlink): P pods of L leaves and A aggregation switches, C cores, H hosts
 * per leaf, every link 100 Gb/s and 100 ns. */
static const char *tree_file(int P, int L, int A, int C, int H)
{
    size_t cap = 1 << 20, n = 0;
    char *s = xmalloc(cap);
#define OUT(...) n += (size_t)snprintf(s + n, cap - n, __VA_ARGS__)
    OUT("<?xml version=\"1.0\"?>\n<graphml>\n"
        "<key id=\"r\" for=\"node\" attr.name=\"role\" attr.type=\"string\"/>\n"
        "<key id=\"g\" for=\"edge\" attr.name=\"gbps\" attr.type=\"double\"/>\n"
        "<key id=\"d\" for=\"edge\" attr.name=\"latency_ns\" attr.type=\"double\"/>\n"
        "<graph edgedefault=\"undirected\">\n");
    int nl = P * L, na = P * A;
    for (int h = 0; h < nl * H; h++)
        OUT("<node id=\"h%d\"><data key=\"r\">host</data></node>\n", h);
    for (int l = 0; l < nl; l++)
        OUT("<node id=\"l%d\"><data key=\"r\">switch</data></node>\n", l);
    for (int a = 0; a < na; a++)
        OUT("<node id=\"a%d\"><data key=\"r\">switch</data></node>\n", a);
    for (int c = 0; c < C; c++)
        OUT("<node id=\"c%d\"><data key=\"r\">switch</data></node>\n", c);
    const char *e = "<data key=\"g\">100</data><data key=\"d\">100</data></edge>\n";
    for (int h = 0; h < nl * H; h++)
        OUT("<edge source=\"h%d\" target=\"l%d\">%s", h, h / H, e);
    for (int l = 0; l < nl; l++)
        for (int a = 0; a < A; a++)
            OUT("<edge source=\"l%d\" target=\"a%d\">%s", l, l / L * A + a, e);
    for (int a = 0; a < na; a++)
        for (int c = 0; c < C; c++)
            OUT("<edge source=\"a%d\" target=\"c%d\">%s", a, c, e);
    OUT("</graph>\n</graphml>\n");
#undef OUT
    assert_true(n < cap);
    const char *path = tu_write_temp(s, ".graphml");
    free(s);
    return path;
}

struct shape {
    int P, L, A, C, H;
};
static const struct shape shapes[] = {{3, 2, 2, 2, 2}, {2, 4, 4, 4, 4}};

/* The reverse port of q (the link's other direction). */
static uint32_t reverse(const struct topo *t, uint32_t q)
{
    for (uint32_t p = 0; p < t->nports; p++)
        if (t->ports[p].src == t->ports[q].dst && t->ports[p].dst == t->ports[q].src) return p;
    fail_msg("port %u has no reverse", q);
    return 0;
}

/* Data packets that left port q: its bytes U are its data packets (mtu
 * each) and the acknowledgements (one per packet) of the data on its
 * reverse link, whose bytes W are that data and q's acknowledgements. */
static uint64_t data_pkts(const struct topo *t, const struct wl_result *r, uint32_t q, uint64_t mtu,
                          uint64_t ack)
{
    uint64_t U = r->run.ports[q].bytes, W = r->run.ports[reverse(t, q)].bytes;
    int64_t num = (int64_t)(U * mtu) - (int64_t)(W * ack), den = (int64_t)(mtu * mtu - ack * ack);
    assert_int_equal(num % den, 0);
    return (uint64_t)(num / den);
}

/* Max and min data packets over the ports of kind `kind`; with `raw` their
 * bytes (ECMP: each switch hashes the acknowledgements on their own, so a
 * link's do not come from its reverse link's data). */
static void spread_of(const struct topo *t, const struct wl_result *r, int kind, uint64_t ack,
                      int raw, uint64_t *mx, uint64_t *mn)
{
    *mx = 0;
    *mn = UINT64_MAX;
    for (uint32_t q = 0; q < t->nports; q++) {
        if (t->ports[q].kind != kind) continue;
        uint64_t n = raw ? r->run.ports[q].bytes : data_pkts(t, r, q, 4096, ack);
        if (n > *mx) *mx = n;
        if (n < *mn) *mn = n;
    }
}

static const int tiers[] = {TP_LEAF_UP, TP_AGG_UP, TP_CORE_DOWN, TP_AGG_DOWN};

/* The tree's path counts and the rule's subflows: s = A x C between pods
 * (the source's choices), A within one, far below the A x C x A paths; a
 * source's r flows of one group each s / gcd(r, s) subflows. */
static void check_counts(const struct topo *t, const struct shape *sh, const struct topo_demand *d,
                         size_t n, const size_t *off)
{
    uint32_t hpp = (uint32_t)(sh->L * sh->H), A = (uint32_t)sh->A, C = (uint32_t)sh->C;
    assert_int_equal(t->npaths, A * C * A);
    assert_int_equal(eth_max_subflows(t), A * C);
    for (size_t i = 0; i < n; i++) {
        uint32_t a = d[i].src, b = d[i].dst, la = topo_leaf_of(t, a), lb = topo_leaf_of(t, b);
        size_t m = off[i + 1] - off[i];
        if (la == lb) {
            assert_int_equal(m, 1);
            continue;
        }
        int cross = a / hpp != b / hpp;
        uint64_t s = cross ? A * C : A, r = 0;
        assert_int_equal(eth_paths(t, la, lb), s);
        for (size_t j = 0; j < n; j++) /* the source's flows of that group */
            if (d[j].src == a && topo_leaf_of(t, d[j].dst) != la &&
                (a / hpp != d[j].dst / hpp) == cross)
                r++;
        assert_int_equal(m, s / num_gcd(r, s));
        assert_true(m < t->npaths);
    }
}

/* An all-to-all: every tier's links send the same data packets under
 * ethereal, up and down; ECMP leaves some tier uneven. */
static void test_tiers_alltoall(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        const struct shape *sh = &shapes[k];
        const char *path = tree_file(sh->P, sh->L, sh->A, sh->C, sh->H);
        for (int mode = 0; mode < 2; mode++) {
            struct cfg c;
            file_spec(&c, path);
            c.wl.kind = WL_ALLTOALL;
            c.wl.bytes = 4096 * 3;
            c.tr.path = mode ? PATH_ECMP : PATH_ETHEREAL;
            struct topo *t;
            struct wl_result r;
            tu_run(&c, &r, &t);
            int uneven = 0;
            for (size_t i = 0; i < sizeof tiers / sizeof tiers[0]; i++) {
                uint64_t mx, mn;
                spread_of(t, &r, tiers[i], (uint64_t)c.tr.ack_bytes, mode, &mx, &mn);
                if (mode == 0 && mx != mn)
                    fail_msg("ethereal %dx%dx%dx%dx%d: %s ports send %llu to %llu data packets",
                             sh->P, sh->L, sh->A, sh->C, sh->H, topo_port_kind_name(tiers[i]),
                             (unsigned long long)mn, (unsigned long long)mx);
                uneven |= mx != mn;
            }
            if (mode) assert_true(uneven);
            if (mode == 0) {
                struct topo_demand *d = xmalloc((size_t)t->hosts * t->hosts * sizeof *d);
                size_t n = all_to_all(t, 4096 * 3, 0, 0, d);
                struct eth_sub *subs;
                size_t *off;
                eth_assign(t, d, n, &subs, &off);
                check_counts(t, sh, d, n, off);
                free(subs);
                free(off);
                free(d);
            }
            wl_result_free(&r);
            topo_destroy(t);
        }
        unlink(path);
    }
}

/* A ring all-reduce: each step one flow per source, a flow between pods
 * split over the source's A x C choices, one subflow each; every tier's
 * links send the same data packets, the cores' downlinks too (each core's
 * A subflows of a flow go down to A different aggregation switches); ECMP
 * does not. */
static void test_tiers_ring(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        const struct shape *sh = &shapes[k];
        const char *path = tree_file(sh->P, sh->L, sh->A, sh->C, sh->H);
        uint32_t N = (uint32_t)(sh->P * sh->L * sh->H), s = (uint32_t)(sh->A * sh->C);
        for (int mode = 0; mode < 2; mode++) {
            struct cfg c;
            file_spec(&c, path);
            c.wl.kind = WL_ALLREDUCE;
            c.wl.algo = WL_ALGO_RING;
            c.wl.bytes = (int64_t)N * s * 4096; /* a step: a packet per subflow */
            c.tr.path = mode ? PATH_ECMP : PATH_ETHEREAL;
            struct topo *t;
            struct wl_result r;
            tu_run(&c, &r, &t);
            assert_int_equal(r.run.nphases, 2 * (N - 1) * N);
            int uneven = 0;
            for (size_t i = 0; i < sizeof tiers / sizeof tiers[0]; i++) {
                uint64_t mx, mn;
                spread_of(t, &r, tiers[i], (uint64_t)c.tr.ack_bytes, mode, &mx, &mn);
                if (mode == 0 && mx != mn)
                    fail_msg("ethereal ring %dx%dx%dx%dx%d: %s ports send %llu to %llu packets",
                             sh->P, sh->L, sh->A, sh->C, sh->H, topo_port_kind_name(tiers[i]),
                             (unsigned long long)mn, (unsigned long long)mx);
                uneven |= mx != mn;
            }
            if (mode) assert_true(uneven);
            if (mode == 0) {
                /* one step: host i to host i + 1 */
                struct topo_demand *d = xmalloc(N * sizeof *d);
                for (uint32_t i = 0; i < N; i++)
                    d[i] = (struct topo_demand){i, (i + 1) % N, (uint64_t)c.wl.bytes / N};
                struct eth_sub *subs;
                size_t *off;
                eth_assign(t, d, N, &subs, &off);
                check_counts(t, sh, d, N, off);
                for (uint32_t i = 0; i < N; i++) {
                    if (off[i + 1] - off[i] != s) continue; /* between pods */
                    /* each (leaf uplink, core) once, and through each core
                     * its A subflows down to A different aggregation switches */
                    uint32_t seen[64] = {0}, down[64] = {0};
                    for (size_t j = off[i]; j < off[i + 1]; j++) {
                        uint32_t ports[TOPO_ROUTE_MAX_PORTS];
                        assert_int_equal(
                            topo_route_ports(t, d[i].src, d[i].dst, subs[j].path, ports), 6);
                        uint32_t ag = t->ports[ports[1]].dst, co = t->ports[ports[2]].dst,
                                 dn = t->ports[ports[3]].dst;
                        uint32_t ai = (ag - t->hosts - t->leaves) % (uint32_t)sh->A,
                                 ci = co - t->hosts - t->leaves - (uint32_t)(sh->P * sh->A),
                                 di = (dn - t->hosts - t->leaves) % (uint32_t)sh->A;
                        assert_int_equal(seen[ai * (uint32_t)sh->C + ci]++, 0);
                        assert_int_equal(down[ci * (uint32_t)sh->A + di]++, 0);
                    }
                }
                free(subs);
                free(off);
                free(d);
            }
            wl_result_free(&r);
            topo_destroy(t);
        }
        unlink(path);
    }
}

/* The documented bound on irregular demands (each source to a few
 * destinations, sizes apart): every flow's subflows through each core
 * spread over that core's downlinks into the destination pod within one,
 * and over the aggregation switches into the destination leaf within one;
 * each source's subflows of a group cover its (leaf uplink, core) choices
 * within one of one another (exactly r/g each when its r flows are
 * assigned s/g subflows). */
static void test_tiers_down_bound(void **state)
{
    (void)state;
    const struct shape *sh = &shapes[1];
    const char *path = tree_file(sh->P, sh->L, sh->A, sh->C, sh->H);
    struct cfg c;
    file_spec(&c, path);
    struct topo *t;
    struct err e;
    assert_int_equal(topo_build(&c.topo, &t, &e), 0);
    uint32_t N = t->hosts, A = (uint32_t)sh->A, C = (uint32_t)sh->C, agg0 = t->hosts + t->leaves;
    struct topo_demand *d = xmalloc((size_t)N * N * sizeof *d);
    size_t n = 0;
    uint64_t x = 12345;
    for (uint32_t a = 0; a < N; a++)
        for (uint32_t b = 0; b < N; b++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            if (a != b && (x >> 33) % 5 == 0)
                d[n++] = (struct topo_demand){a, b, 40000 + (x >> 50)};
        }
    struct eth_sub *subs;
    size_t *off;
    eth_assign(t, d, n, &subs, &off);
    uint32_t *choice = xcalloc((size_t)N * A * C, sizeof *choice);
    for (size_t i = 0; i < n; i++) {
        uint32_t cd[16][16] = {{0}}, ld[16] = {0}, cores[16] = {0};
        uint64_t bytes = 0;
        int cross = 0;
        for (size_t j = off[i]; j < off[i + 1]; j++) {
            uint32_t ports[TOPO_ROUTE_MAX_PORTS];
            uint32_t np = topo_route_ports(t, d[i].src, d[i].dst, subs[j].path, ports);
            bytes += subs[j].bytes;
            if (np != 6) continue;
            cross = 1;
            uint32_t ai = (t->ports[ports[1]].dst - agg0) % A,
                     ci = t->ports[ports[2]].dst - agg0 - (uint32_t)sh->P * A,
                     di = (t->ports[ports[3]].dst - agg0) % A;
            cd[ci][di]++;
            cores[ci]++;
            ld[di]++;
            choice[((size_t)d[i].src * A + ai) * C + ci]++;
        }
        assert_int_equal(bytes, d[i].bytes);
        if (!cross) continue;
        uint32_t m = (uint32_t)(off[i + 1] - off[i]), lmx = 0, lmn = UINT32_MAX;
        for (uint32_t y = 0; y < A; y++) {
            lmx = ld[y] > lmx ? ld[y] : lmx;
            lmn = ld[y] < lmn ? ld[y] : lmn;
        }
        assert_true(lmx - lmn <= 1);
        if (m % A == 0) assert_int_equal(lmx, lmn);
        for (uint32_t ci = 0; ci < C; ci++) {
            if (!cores[ci]) continue;
            uint32_t mx = 0, mn = UINT32_MAX;
            for (uint32_t y = 0; y < A; y++) {
                mx = cd[ci][y] > mx ? cd[ci][y] : mx;
                mn = cd[ci][y] < mn ? cd[ci][y] : mn;
            }
            assert_true(mx - mn <= 1);
        }
    }
    for (uint32_t a = 0; a < N; a++) {
        uint32_t mx = 0, mn = UINT32_MAX;
        for (uint32_t k = 0; k < A * C; k++) {
            uint32_t v = choice[(size_t)a * A * C + k];
            mx = v > mx ? v : mx;
            mn = v < mn ? v : mn;
        }
        assert_true(mx - mn <= 1);
    }
    free(choice);
    free(subs);
    free(off);
    free(d);
    topo_destroy(t);
    unlink(path);
}

/* A leaf's link to an aggregation switch down (l0-a1): every subflow of an
 * all-to-all takes a live path (the path numbers, solved digit by digit on
 * the renumbered table, never name the down link), the cores into l0 choose
 * among its three live aggregation switches, and each source's subflows
 * between pods cover its live (leaf uplink, core) choices within one of one
 * another; the run delivers everything with no byte on the down link
 * (run's checks). */
static void test_tiers_link_down(void **state)
{
    (void)state;
    const struct shape *sh = &shapes[1];
    const char *path = tree_file(sh->P, sh->L, sh->A, sh->C, sh->H);
    struct cfg c;
    file_spec(&c, path);
    snprintf(c.topo.faults.down, sizeof c.topo.faults.down, "l0-a1");
    c.tr.path = PATH_ETHEREAL;
    struct topo *t;
    struct err e;
    assert_int_equal(topo_build(&c.topo, &t, &e), 0);
    uint32_t N = t->hosts, A = (uint32_t)sh->A, C = (uint32_t)sh->C, agg0 = t->hosts + t->leaves;
    uint32_t hpp = (uint32_t)(sh->L * sh->H);
    struct topo_demand *d = xmalloc((size_t)N * N * sizeof *d);
    size_t n = all_to_all(t, 4096 * 2, 0, 0, d);
    struct eth_sub *subs;
    size_t *off;
    eth_assign(t, d, n, &subs, &off);
    uint32_t *choice = xcalloc((size_t)N * A * C, sizeof *choice), into_l0[16] = {0};
    for (size_t i = 0; i < n; i++)
        for (size_t j = off[i]; j < off[i + 1]; j++) {
            uint32_t ports[TOPO_ROUTE_MAX_PORTS];
            uint32_t np = topo_route_ports(t, d[i].src, d[i].dst, subs[j].path, ports);
            for (uint32_t k = 0; k < np; k++)
                assert_int_equal(t->ports[ports[k]].down, 0);
            assert_int_equal(t->ports[ports[np - 1]].dst, d[i].dst);
            if (np != 6) continue;
            uint32_t ai = (t->ports[ports[1]].dst - agg0) % A,
                     ci = t->ports[ports[2]].dst - agg0 - (uint32_t)sh->P * A;
            choice[((size_t)d[i].src * A + ai) * C + ci]++;
            if (topo_leaf_of(t, d[i].dst) == 0) into_l0[(t->ports[ports[3]].dst - agg0) % A]++;
        }
    assert_int_equal(into_l0[1], 0);
    assert_true(into_l0[0] > 0 && into_l0[2] > 0 && into_l0[3] > 0);
    for (uint32_t a = 0; a < N; a++) {
        uint32_t mx = 0, mn = UINT32_MAX;
        for (uint32_t ai = 0; ai < A; ai++) {
            if (a / (uint32_t)sh->H == 0 && ai == 1) continue; /* l0's down uplink */
            for (uint32_t ci = 0; ci < C; ci++) {
                uint32_t v = choice[((size_t)a * A + ai) * C + ci];
                mx = v > mx ? v : mx;
                mn = v < mn ? v : mn;
            }
        }
        if (mx - mn > 1)
            fail_msg("source h%u (pod %u): its choices carry %u to %u subflows", a, a / hpp, mn,
                     mx);
    }
    run(t, &c, d, n);
    free(choice);
    free(subs);
    free(off);
    free(d);
    topo_destroy(t);
    unlink(path);
}

/* A lone flow between pods: s = A x C subflows, one per (leaf uplink,
 * core), ending exactly at its ideal bound (the store-and-forward pipeline
 * of its subflows). */
static void test_tiers_lone_flow(void **state)
{
    (void)state;
    const struct shape *sh = &shapes[1];
    const char *path = tree_file(sh->P, sh->L, sh->A, sh->C, sh->H);
    struct cfg c;
    file_spec(&c, path);
    c.tr.path = PATH_ETHEREAL;
    c.tr.window_bytes = 1 << 30;
    struct topo *t;
    struct err e;
    assert_int_equal(topo_build(&c.topo, &t, &e), 0);
    struct topo_demand d = {0, t->hosts - 1, 1 << 20};
    struct eth_sub *subs;
    size_t *off;
    assert_int_equal(eth_assign(t, &d, 1, &subs, &off), (size_t)(sh->A * sh->C));
    free(subs);
    free(off);
    simtime_t end = run(t, &c, &d, 1), want = eth_ideal_ps(t, &d, 1, 4096);
    if (end != want)
        fail_msg("lone flow %llu ps, expected %llu", (unsigned long long)end,
                 (unsigned long long)want);
    topo_destroy(t);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tiers_alltoall),   cmocka_unit_test(test_tiers_ring),
        cmocka_unit_test(test_tiers_down_bound), cmocka_unit_test(test_tiers_link_down),
        cmocka_unit_test(test_tiers_lone_flow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
