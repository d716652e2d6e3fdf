/* test_file_faults.c - [faults] on a three-tier fat-tree read from GraphML
 * whose every aggregation switch links to every core (topo/faults.c:
 * general_paths), where the leaves, the aggregation switches and the cores
 * each choose among several next hops. With links down, every path number
 * names a live shortest route, every live shortest route is named, and
 * each by npaths / (the product of the group sizes along it) numbers: a
 * uniform path number splits every group evenly, independently at each
 * switch. Spraying's all-to-all then puts on each live core-to-aggregation
 * link the bytes that even splitting gives it (within a tight bound), no
 * byte crosses a down link, and it completes within 10% of the ideal
 * bound (15% with links down in every tier, where the even split itself is
 * 1.09 x it); without the fault the numbering is route.c's. When the exact
 * split needs more than 16 bits of path number, the power-of-two slots
 * (slot_paths): every number a live route, every route named, spray within
 * 10% of the bound. (Spray's per-link tolerances are its random draws':
 * spray_rr over every path number meets the even split to 1%.) */
#include "testutil.h"

#include <math.h>

#include "fabric_run.h"

/* Writes tools/fat_tree_graphml.sh's tree: P pods of Lp leaves and A
 * aggregation switches, C cores each linked to every aggregation switch,
 * H hosts a leaf, 100 Gb/s and 1000 ns every link. */
static void write_tree(const char *path, int P, int Lp, int A, int C, int H)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("<?xml version=\"1.0\"?>\n<graphml>\n"
          "<key id=\"r\" for=\"node\" attr.name=\"role\" attr.type=\"string\"/>\n"
          "<key id=\"g\" for=\"edge\" attr.name=\"gbps\" attr.type=\"double\"/>\n"
          "<key id=\"d\" for=\"edge\" attr.name=\"latency_ns\" attr.type=\"double\"/>\n"
          "<graph edgedefault=\"undirected\">\n",
          f);
    int nl = P * Lp, na = P * A;
    for (int h = 0; h < nl * H; h++)
        fprintf(f, "<node id=\"h%d\"><data key=\"r\">host</data></node>\n", h);
    for (int l = 0; l < nl; l++)
        fprintf(f, "<node id=\"l%d\"><data key=\"r\">switch</data></node>\n", l);
    for (int a = 0; a < na; a++)
        fprintf(f, "<node id=\"a%d\"><data key=\"r\">switch</data></node>\n", a);
    for (int c = 0; c < C; c++)
        fprintf(f, "<node id=\"c%d\"><data key=\"r\">switch</data></node>\n", c);
    const char *e = "<data key=\"g\">100</data><data key=\"d\">1000</data></edge>\n";
    for (int h = 0; h < nl * H; h++)
        fprintf(f, "<edge source=\"h%d\" target=\"l%d\">%s", h, h / H, e);
    for (int l = 0; l < nl; l++)
        for (int a = 0; a < A; a++)
            fprintf(f, "<edge source=\"l%d\" target=\"a%d\">%s", l, l / Lp * A + a, e);
    for (int a = 0; a < na; a++)
        for (int c = 0; c < C; c++)
            fprintf(f, "<edge source=\"a%d\" target=\"c%d\">%s", a, c, e);
    fputs("</graph>\n</graphml>\n", f);
    fclose(f);
}

#define TREE "/tmp/moesim_file_faults.graphml"

static void build(struct cfg *c, const char *down, struct topo **t)
{
    file_spec(c, TREE);
    snprintf(c->topo.faults.down, sizeof c->topo.faults.down, "%s", down);
    struct err e;
    if (topo_build(&c->topo, t, &e) < 0) fail_msg("%s", e.msg);
}

/* Shortest live routes from switch row u to leaf d (rows of the table). */
static uint64_t routes_to(const struct topo *t, uint32_t u, uint32_t d)
{
    if (u == d) return 1;
    const struct topo_hop *g = topo_hop_at(t, u, d);
    uint64_t n = 0;
    for (uint32_t i = 0; i < g->n; i++) {
        uint32_t q = g->n == 1 ? g->off : t->route_ports[g->off + i];
        n += routes_to(t, t->ports[q].dst - t->hosts, d);
    }
    return n;
}

/* A route by its ports, and how many path numbers name it. */
struct rt {
    uint32_t ports[TOPO_ROUTE_MAX_PORTS], n, count;
};

static int rt_cmp(const void *x, const void *y)
{
    const struct rt *a = x, *b = y;
    if (a->n != b->n) return a->n < b->n ? -1 : 1;
    return memcmp(a->ports, b->ports, a->n * sizeof a->ports[0]);
}

/* Every leaf pair's routes over path numbers [0, npaths): live, each live
 * shortest route named, and (exact) each by npaths / (product of its group
 * sizes). */
static void check_numbering(const struct topo *t, int exact)
{
    uint32_t N = t->npaths, hpl = t->hosts_per_leaf;
    struct rt *r = xmalloc((size_t)N * sizeof *r);
    for (uint32_t la = 0; la < t->leaves; la++)
        for (uint32_t lb = 0; lb < t->leaves; lb++) {
            if (la == lb) continue;
            for (uint32_t p = 0; p < N; p++) {
                r[p].n = topo_route_ports(t, la * hpl, lb * hpl, p, r[p].ports);
                memset(r[p].ports + r[p].n, 0,
                       (TOPO_ROUTE_MAX_PORTS - r[p].n) * sizeof r[p].ports[0]);
                for (uint32_t i = 0; i < r[p].n; i++)
                    assert_false(t->ports[r[p].ports[i]].down);
            }
            qsort(r, N, sizeof *r, rt_cmp);
            uint32_t distinct = 0;
            for (uint32_t p = 0; p < N;) {
                uint32_t q = p;
                while (q < N && !rt_cmp(&r[p], &r[q]))
                    q++;
                uint64_t prod = 1; /* the group sizes along the route */
                for (uint32_t i = 1; i + 1 < r[p].n; i++) {
                    uint32_t sw = t->ports[r[p].ports[i - 1]].dst - t->hosts;
                    prod *= topo_hop_at(t, sw, lb)->n;
                }
                if (exact && (uint64_t)(q - p) * prod != N)
                    fail_msg("l%u to l%u: a route named by %u of %u path numbers, groups %llu", la,
                             lb, q - p, N, (unsigned long long)prod);
                distinct++;
                p = q;
            }
            assert_int_equal(distinct, routes_to(t, la, lb));
        }
    free(r);
}

/* An all-to-all of `bytes` a pair under path mode `path` on t: no byte on
 * a down port (run checks); each live core-to-aggregation link within
 * `tol` of the bytes (data and acknowledgements) that an even split of
 * every group puts on it, as t's path numbers give it (each pair's bytes
 * over [0, npaths) in equal shares); the max / mean of those links within
 * `tol` of the even split's, which is `maxmean` when that is above 0; the
 * completion at least the ideal bound and below `bound` times it. */
static void check_spray(const struct topo *t, struct cfg *c, int path, uint64_t bytes, double tol,
                        double maxmean, double bound)
{
    c->tr.path = path;
    size_t n = (size_t)t->hosts * (t->hosts - 1);
    struct topo_demand *d = xmalloc(n * sizeof *d);
    all_to_all(t, bytes, 0, 0, d);
    simtime_t got = run(t, c, d, n), lo = ideal(t, c, d, n);
    double ratio = (double)got / (double)lo;
    /* each pair's data bytes spread over its path numbers, and its
     * acknowledgements over the same numbers' reverse routes */
    double *want = xcalloc(t->nports, sizeof *want);
    uint32_t ports[TOPO_ROUTE_MAX_PORTS], mtu = (uint32_t)c->tr.mtu, grp = eng_ack_group(t, &c->tr);
    for (size_t i = 0; i < n; i++) {
        uint32_t la = topo_leaf_of(t, d[i].src), lb = topo_leaf_of(t, d[i].dst);
        if (la == lb) continue;
        uint64_t pkts = (d[i].bytes + mtu - 1) / mtu;
        double ack = (double)((pkts + grp - 1) / grp * (uint64_t)c->tr.ack_bytes);
        for (uint32_t p = 0; p < t->npaths; p++) {
            uint32_t k = topo_route_ports(t, d[i].src, d[i].dst, p, ports);
            for (uint32_t j = 0; j < k; j++)
                want[ports[j]] += (double)d[i].bytes / t->npaths;
            k = topo_route_ports(t, d[i].dst, d[i].src, p, ports);
            for (uint32_t j = 0; j < k; j++)
                want[ports[j]] += ack / t->npaths;
        }
    }
    double sum = 0, max = 0, wsum = 0, wmax = 0;
    uint32_t links = 0;
    for (uint32_t q = 0; q < t->nports; q++) {
        if (t->ports[q].kind != TP_CORE_DOWN || t->ports[q].down) continue;
        double b = (double)port_bytes[q];
        if (fabs(b - want[q]) > tol * want[q])
            fail_msg("core-down port %u: %.0f bytes, even splitting %.0f", q, b, want[q]);
        sum += b;
        max = b > max ? b : max;
        wsum += want[q];
        wmax = want[q] > wmax ? want[q] : wmax;
        links++;
    }
    assert_true(links > 0);
    double mm = max / (sum / links), wmm = wmax / (wsum / links);
    print_message("%s: %.3f x the ideal bound (%u path numbers), core-down max / mean %.3f (even "
                  "split %.3f)\n",
                  path == PATH_SPRAY ? "spray" : "spray_rr", ratio, t->npaths, mm, wmm);
    if (maxmean > 0) assert_true(fabs(wmm - maxmean) < 1e-6);
    assert_true(mm <= wmm * (1 + tol));
    assert_true(got >= lo);
    assert_true(ratio < bound);
    free(want);
    free(d);
}

/* One leaf-aggregation link down on the 2 x 4 x 4, 4-core tree: the cores
 * split toward that leaf among 3 aggregation switches, elsewhere among 4,
 * so a core-down link toward its pod carries 13/48 of a leaf's inbound
 * bytes from the other pod's leaves, or 9/48 into the aggregation switch
 * with the link down (max / mean 13/12). */
static void test_leaf_agg_down(void **state)
{
    (void)state;
    write_tree(TREE, 2, 4, 4, 4, 4);
    struct cfg c;
    struct topo *t;
    build(&c, "", &t);
    uint32_t np0 = t->npaths;
    assert_int_equal(np0, 64); /* 4 x 4 x 4, route.c's */
    check_numbering(t, 1);
    topo_destroy(t);
    build(&c, "l0-a1", &t);
    assert_int_equal(t->ndown, 2);
    check_numbering(t, 1);
    assert_int_equal(t->npaths % np0, 0);
    /* spray_rr over 192 packets a pair: every path number once, the
     * even split exactly (acknowledgements aside); spray: random draws */
    check_spray(t, &c, PATH_SPRAY_RR, 192 * 4096, 0.01, 13.0 / 12, 1.10);
    check_spray(t, &c, PATH_SPRAY, 1 << 20, 0.08, 13.0 / 12, 1.10);
    topo_destroy(t);
}

/* Links down in every tier at once: a leaf's uplink, an aggregation
 * switch's to a core, in both pods. */
static void test_links_down_every_tier(void **state)
{
    (void)state;
    write_tree(TREE, 2, 4, 4, 4, 4);
    struct cfg c;
    struct topo *t;
    build(&c, "l0-a1 a5-c2 l6-a7 c0-a0", &t);
    assert_int_equal(t->ndown, 8);
    check_numbering(t, 1);
    check_spray(t, &c, PATH_SPRAY, 1 << 20, 0.08, 0, 1.15);
    topo_destroy(t);
    unlink(TREE);
}

/* Groups of 8, 7, 6 and 5 next hops in every tier of a 2 x 4 x 8, 8-core
 * tree: an exact even split needs an npaths above 16 bits
 * (general_paths), so each digit takes a power-of-two slot (slot_paths):
 * every path number still a live route, every live route named, and
 * spray within 10% of the bound. */
static void test_slots(void **state)
{
    (void)state;
    write_tree(TREE, 2, 4, 8, 8, 2);
    struct cfg c;
    struct topo *t;
    build(&c, "l0-a1 l1-a2 l1-a3 l4-a8 l4-a9 l4-a10 a11-c0 a12-c1 a12-c2", &t);
    assert_int_equal(t->npaths, 65534 / 512 * 512); /* slots of 8 in three tiers */
    check_numbering(t, 0);
    check_spray(t, &c, PATH_SPRAY, 4 << 20, 0.15, 0, 1.10);
    topo_destroy(t);
    unlink(TREE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_leaf_agg_down),
        cmocka_unit_test(test_links_down_every_tier),
        cmocka_unit_test(test_slots),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
