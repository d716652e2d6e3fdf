/* test_flow_file.c - the flow engine (sim.engine = flow) on fabrics read
 * from files (topology.kind = file: data/fabrics/ring_mesh.graphml, an
 * irregular mesh of links of different speeds and delays; the GraphML
 * leaf-spine; the htsim .topo fat-tree), docs/flow-engine.md:
 *  - a lone flow between every pair of hosts, ECMP and spray, ends at the
 *    fluid closed form: size over its route's bottleneck (spray: the least
 *    over its ports of the rate over the share of path numbers crossing
 *    it), plus its first packet's way after the first hop on its own path;
 *    its route is one of the routing table's paths; within 1% (ECMP) and
 *    2% (spray) of the packet engine (measured: equal on the leaf-spine and
 *    the fat-tree, -0.69% and -1.34% at worst on the mesh, whose paths
 *    differ in delay and speed);
 *  - an all-to-all of distinct sizes under every path mode the flow engine
 *    runs: every link's bytes equal the packet engine's (ECMP, split,
 *    ethereal: the same paths) or their sum does (the spreading modes), and
 *    so do the acknowledgements. */
#include <math.h>

#include "flow_run.h"

static const char *const files[] = {"data/fabrics/ring_mesh.graphml",
                                    "data/fabrics/leaf_spine_4x4.graphml",
                                    "data/fabrics/fat_tree_16.topo"};

static struct topo *build(struct cfg *c, const char *file, int path)
{
    cfg_defaults(c);
    c->topo.kind = TOPO_FILE;
    snprintf(c->topo.file, sizeof c->topo.file, "%s", file);
    topo_spec_resolve(&c->topo);
    c->tr.path = path;
    struct topo *t;
    struct err e;
    if (topo_build(&c->topo, &t, &e)) fail_msg("%s", e.msg);
    return t;
}

/* Zero-load latency of a packet of `bytes` over ports[0, n). */
static simtime_t lat_of(const struct topo *t, const uint32_t *ports, uint32_t n, uint32_t bytes)
{
    simtime_t l = 0;
    for (uint32_t i = 0; i < n; i++)
        l += t->ports[ports[i]].lat_ps + ser_ps(bytes, t->ports[ports[i]].bps);
    return l;
}

static simtime_t lone(const struct topo *t, const struct cfg *c, int kind, uint32_t a, uint32_t b,
                      uint64_t size, struct eng **keep)
{
    struct eng_hooks h = {NULL, on_done};
    struct eng *g = eng_create_kind(kind, t, &c->tr, 3, &h);
    ends[0] = 0;
    eng_add_msg(g, a, b, size, 0, 0);
    eng_run(g);
    char msg[256];
    if (eng_check(g, msg, sizeof msg)) fail_msg("%s", msg);
    if (keep)
        *keep = g;
    else
        eng_destroy(g);
    return ends[0];
}

static void test_lone_flow_closed_form(void **state)
{
    (void)state;
    const uint64_t S = 1 << 20;
    const uint32_t first = 4096;
    for (size_t f = 0; f < sizeof files / sizeof *files; f++)
        for (int path = PATH_ECMP; path <= PATH_SPRAY; path++) {
            struct cfg c;
            struct topo *t = build(&c, files[f], path);
            double worst = 0;
            for (uint32_t a = 0; a < t->hosts; a++)
                for (uint32_t b = 0; b < t->hosts; b++) {
                    if (a == b) continue;
                    struct eng *g;
                    simtime_t end = lone(t, &c, ENGINE_FLOW, a, b, S, &g);
                    const struct flow_eng *fe = flow_eng_ofc(g);
                    uint32_t ports[TOPO_ROUTE_MAX_PORTS], n;
                    double rate = INFINITY; /* bytes per ps */
                    simtime_t tail;
                    int direct = topo_leaf_of(t, a) == topo_leaf_of(t, b);
                    if (path == PATH_ECMP || direct) {
                        /* its data route: the uses carrying all its bytes, in order */
                        const struct fl_sub *s = &fe->subs[0];
                        n = 0;
                        for (uint32_t u = 0; u < s->nuse; u++)
                            if (fe->uses[s->use0 + u].bytes == S)
                                ports[n++] = fe->uses[s->use0 + u].link;
                        /* one of the table's paths (the packet engine's forwarding) */
                        int found = 0;
                        for (uint32_t p = 0; p < t->npaths && !found; p++) {
                            uint32_t q[TOPO_ROUTE_MAX_PORTS];
                            found = topo_route_ports(t, a, b, p, q) == n &&
                                    !memcmp(q, ports, n * sizeof *q);
                        }
                        assert_true(found);
                        for (uint32_t i = 0; i < n; i++)
                            rate = fmin(rate, (double)t->ports[ports[i]].bps / 8 / PS_PER_S);
                    } else {
                        /* spread: a port's share is the path numbers crossing it */
                        uint32_t *cnt = xcalloc(t->nports, sizeof *cnt);
                        for (uint32_t p = 0; p < t->npaths; p++) {
                            n = topo_route_ports(t, a, b, p, ports);
                            for (uint32_t i = 0; i < n; i++)
                                cnt[ports[i]]++;
                        }
                        for (uint32_t q = 0; q < t->nports; q++)
                            if (cnt[q])
                                rate = fmin(rate, (double)t->ports[q].bps / 8 / PS_PER_S /
                                                      ((double)cnt[q] / t->npaths));
                        free(cnt);
                        n = topo_route_ports(t, a, b, 0, ports);
                    }
                    tail = lat_of(t, ports, n, first) - ser_ps(first, t->ports[ports[0]].bps);
                    double want = (double)S / rate + (double)tail;
                    if (fabs((double)end - want) > 4 + 1e-9 * want)
                        fail_msg("%s path %d %u->%u: end %llu, closed form %.1f", files[f], path, a,
                                 b, (unsigned long long)end, want);
                    eng_destroy(g);
                    simtime_t pk = lone(t, &c, ENGINE_PACKET, a, b, S, NULL);
                    double err = ((double)end - (double)pk) / (double)pk;
                    if (fabs(err) > fabs(worst)) worst = err;
                    if (fabs(err) > (path == PATH_ECMP ? 0.01 : 0.02))
                        fail_msg("%s path %d %u->%u: flow %llu packet %llu (%+.3f%%)", files[f],
                                 path, a, b, (unsigned long long)end, (unsigned long long)pk,
                                 100 * err);
                }
            print_message("%s path %d: every pair at its closed form; worst against the packet "
                          "engine %+.3f%%\n",
                          files[f], path, 100 * worst);
            topo_destroy(t);
        }
}

static void test_links_match_packet(void **state)
{
    (void)state;
    for (size_t f = 0; f < sizeof files / sizeof *files; f++)
        for (int path = PATH_ECMP; path <= PATH_ETHEREAL; path++) {
            if (path == PATH_FLOWLET) continue; /* refused on the flow engine */
            struct cfg c;
            struct topo *t = build(&c, files[f], path);
            struct topo_demand *dem = xmalloc((size_t)t->hosts * t->hosts * sizeof *dem);
            size_t nd = all_to_all(t, 30000, 4096, 1, dem);
            struct eng *g[2];
            both_engines(files[f], t, &c, 7, dem, nd, g);
            assert_int_equal(eng_stats(g[0])->data_bytes_delivered,
                             eng_stats(g[1])->data_bytes_delivered);
            eng_destroy(g[0]);
            eng_destroy(g[1]);
            free(dem);
            topo_destroy(t);
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lone_flow_closed_form),
        cmocka_unit_test(test_links_match_packet),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
