/* fabric_file.c - topology.kind = file: which reader a file takes, what its
 * fabric resolves to, its checks, limits and memory estimate, and the build
 * of a GraphML fabric (fabric_file.h).
 *
 * topo_spec_resolve (every run, before its checks) reads the file: a .topo
 * sets the leaf_spine or fat_tree counts, speeds and latencies it describes
 * (params records them), a GraphML file sets leaves, hosts_per_leaf, the
 * host speed and latency from its graph, spines (its switches that hold no
 * host) and fabric_gbps (its slowest switch link), which the workloads'
 * bounds read. A file that cannot be read leaves shape -1 and topo_check
 * reads it again for the error, blamed on topology.file. A .topo with
 * bundles of parallel links is a graph (topo_htsim_graph), built as a
 * GraphML one, its counts and speeds those of the .topo.
 *
 * GraphML ports: host h's link up 2h, down 2h+1; then each switch link, both
 * ways, in the file's order; then NVLink. Their kinds go by tier, a
 * switch's hops from the nearest leaf: up from tier 0 is leaf_up, from 1
 * agg_up, higher `up`; down into tier 0 is spine_down in a two-tier graph
 * and agg_down otherwise, into 1 core_down, higher `down`; within a tier
 * `across`. Routing: topo_route_build's shortest paths.
 */
#include <stdlib.h>
#include <string.h>

#include "topo/fabric_file.h"

enum { FF_NONE, FF_GRAPHML, FF_TOPO };

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n > m && !strcmp(s + n - m, suffix);
}

static int file_format(const char *path)
{
    if (ends_with(path, ".topo")) return FF_TOPO;
    if (ends_with(path, ".graphml") || ends_with(path, ".xml")) return FF_GRAPHML;
    return FF_NONE;
}

int topo_spec_build_kind(const struct topo_spec *s)
{
    return s->kind == TOPO_FILE ? s->info.shape : s->kind;
}

/* Reads s->file into s (resolve) or only for its error. */
static int read_spec(struct topo_spec *s, struct err *e)
{
    if (!s->file[0])
        return err_set(e, "topology.kind = file needs a file (a .graphml or an htsim .topo)");
    switch (file_format(s->file)) {
    case FF_TOPO:
    case FF_GRAPHML: {
        int topo = file_format(s->file) == FF_TOPO;
        if (topo && topo_htsim_read(s->file, s, e) < 0) return -1;
        if (topo && s->info.shape != TOPO_FILE) return 0; /* a leaf_spine or fat_tree */
        struct topo_gml g;
        if ((topo ? topo_htsim_graph(s->file, &g, e) : topo_gml_read(s->file, &g, e)) < 0)
            return -1;
        struct topo_file_info *in = &s->info;
        in->shape = TOPO_FILE;
        in->hosts = g.hosts;
        in->switches = g.switches;
        in->fabric_links = g.nlinks - g.hosts;
        in->fabric_ports = g.fabric_ports;
        in->leaves = g.leaves;
        in->min_host_ps = INT64_MAX;
        in->min_fabric_ps = INT64_MAX;
        double slow = 0, host_slow = 0;
        for (uint32_t k = 0; k < g.nlinks; k++) {
            const struct topo_gml_link *l = &g.links[k];
            int64_t *m = k < g.hosts ? &in->min_host_ps : &in->min_fabric_ps;
            for (int w = 0; w < (l->oneway ? 1 : 2); w++) {
                int64_t lat = (int64_t)(w ? l->lat_ba_ps : l->lat_ps);
                double gb = (double)(w ? l->bps_ba : l->bps) / 1e9,
                       *sl = k < g.hosts ? &host_slow : &slow;
                if (lat < *m) *m = lat;
                if (*sl == 0 || gb < *sl) *sl = gb;
            }
        }
        if (in->min_fabric_ps == INT64_MAX) in->min_fabric_ps = 0;
        if (topo) { /* the counts and speeds the .topo gave stay */
            topo_gml_free(&g);
            return 0;
        }
        /* leaves of different host counts: hosts_per_leaf is the gcd of
         * the counts and leaves the groups of that many consecutive hosts
         * (each within one leaf), what the workloads and placement count */
        s->hosts_per_leaf = g.hosts_per_leaf;
        s->leaves = g.hosts / g.hosts_per_leaf;
        s->spines = g.switches > g.leaves ? g.switches - g.leaves : 1;
        s->host_gbps = (double)g.links[0].bps / 1e9;
        s->fabric_gbps = slow > 0 ? slow : host_slow;
        s->link_latency_ns = (int64_t)(g.links[0].lat_ps / 1000);
        topo_gml_free(&g);
        return 0;
    }
    default:
        return err_set(e, "%s: not a .graphml, .xml or .topo file (the name says which reader)",
                       s->file);
    }
}

void topo_file_resolve(struct topo_spec *s)
{
    struct err e;
    memset(&s->info, 0, sizeof s->info);
    s->info.shape = -1;
    if (read_spec(s, &e) < 0) s->info.shape = -1;
}

int topo_file_check(const struct topo_spec *s, const struct opt_def **bad, struct err *e)
{
    if (s->info.shape < 0) {
        struct topo_spec copy = *s;
        struct err why;
        if (read_spec(&copy, &why) == 0) err_set(&why, "the file changed while it was read");
        *bad = opt_table_find(&topo_options, "topology", "file");
        return err_set(e, "topology.file: %s", why.msg);
    }
    if (s->hosts_per_leaf % s->gpus_per_host && s->info.shape == TOPO_FILE &&
        (uint64_t)s->leaves != s->info.leaves) {
        *bad = opt_table_find(&topo_options, "topology", "gpus_per_host");
        return err_set(e,
                       "topology.gpus_per_host: %lld does not divide every edge switch's host "
                       "count in %s (their greatest common divisor is %lld): a server's GPUs sit "
                       "under one leaf",
                       (long long)s->gpus_per_host, s->file, (long long)s->hosts_per_leaf);
    }
    if (s->hosts_per_leaf % s->gpus_per_host) {
        *bad = opt_table_find(&topo_options, "topology", "gpus_per_host");
        return err_set(e,
                       "topology.gpus_per_host: %lld does not divide the %lld hosts of each edge "
                       "switch of %s: a server's GPUs sit under one leaf",
                       (long long)s->gpus_per_host, (long long)s->hosts_per_leaf, s->file);
    }
    return 0;
}

uint64_t topo_file_port_count(const struct topo_spec *s)
{
    if (s->info.shape != TOPO_FILE) return 0;
    uint64_t H = s->info.hosts;
    return 2 * H + s->info.fabric_ports + (s->gpus_per_host > 1 ? 2 * H : 0);
}

/* Ports, the per-host tables, the names, the routing rows (a switch per
 * leaf) and at least one group per switch port. */
uint64_t topo_file_memory_bytes(const struct topo_spec *s)
{
    if (s->info.shape != TOPO_FILE) return 0;
    const struct topo *t = NULL; /* only for sizeof */
    uint64_t H = s->info.hosts, W = s->info.switches, L = s->info.leaves;
    uint64_t per_host = sizeof *t->host_up + sizeof *t->host_down + sizeof *t->host_leaf +
                        sizeof *t->nvl_up + sizeof *t->nvl_down;
    return topo_file_port_count(s) * sizeof(struct topo_port) + H * per_host +
           (H + W) * sizeof *t->names + W * L * sizeof *t->route +
           s->info.fabric_ports * sizeof *t->route_ports + (L + 1) * sizeof(uint32_t);
}

static uint8_t link_kind(const struct topo_gml *g, uint32_t maxtier, uint32_t a, uint32_t b)
{
    uint32_t ta = g->tier[a - g->hosts], tb = g->tier[b - g->hosts];
    if (ta == tb) return TP_ACROSS;
    if (tb > ta) return ta == 0 ? TP_LEAF_UP : ta == 1 ? TP_AGG_UP : TP_UP;
    if (tb == 0) return maxtier <= 1 ? TP_SPINE_DOWN : TP_AGG_DOWN;
    return tb == 1 ? TP_CORE_DOWN : TP_DOWN;
}

static void set_port(struct topo_port *p, int kind, uint32_t src, uint32_t dst, uint64_t bps,
                     simtime_t lat)
{
    p->kind = (uint8_t)kind;
    p->src = src;
    p->dst = dst;
    p->bps = bps;
    p->lat_ps = lat;
}

int topo_gml_build(const struct topo_spec *s, const struct topo_gml *g, struct topo **out,
                   struct err *e)
{
    struct topo *t = xcalloc(1, sizeof *t);
    uint32_t H = g->hosts, W = g->switches, G = (uint32_t)s->gpus_per_host;
    t->kind = TOPO_FILE;
    t->hosts = H;
    t->leaves = g->leaves;
    t->hosts_per_leaf = g->hosts_per_leaf;
    t->gpus_per_host = G;
    t->nswitches = W;
    t->nports = 2 * H + g->fabric_ports + (G > 1 ? 2 * H : 0);
    t->ports = xcalloc(t->nports, sizeof *t->ports);
    t->host_up = xmalloc((size_t)H * sizeof *t->host_up);
    t->host_down = xmalloc((size_t)H * sizeof *t->host_down);
    t->host_leaf = xmalloc((size_t)H * sizeof *t->host_leaf);
    t->names = xmalloc(((size_t)H + W) * sizeof *t->names);
    memcpy(t->names, g->names, ((size_t)H + W) * sizeof *t->names);
    uint32_t maxtier = 0;
    for (uint32_t u = 0; u < W; u++)
        if (g->tier[u] != UINT32_MAX && g->tier[u] > maxtier) maxtier = g->tier[u];
    for (uint32_t h = 0; h < H; h++) {
        const struct topo_gml_link *l = &g->links[h];
        t->host_up[h] = 2 * h;
        t->host_down[h] = 2 * h + 1;
        t->host_leaf[h] = g->host_leaf[h];
        set_port(&t->ports[2 * h], TP_HOST_UP, h, l->b, l->bps, l->lat_ps);
        set_port(&t->ports[2 * h + 1], TP_HOST_DOWN, l->b, h, l->bps_ba, l->lat_ba_ps);
    }
    uint32_t q = 2 * H;
    for (uint32_t k = H; k < g->nlinks; k++) {
        const struct topo_gml_link *l = &g->links[k];
        set_port(&t->ports[q++], link_kind(g, maxtier, l->a, l->b), l->a, l->b, l->bps, l->lat_ps);
        if (!l->oneway)
            set_port(&t->ports[q++], link_kind(g, maxtier, l->b, l->a), l->b, l->a, l->bps_ba,
                     l->lat_ba_ps);
    }
    if (G > 1) {
        uint64_t nbps = gbps_to_bps(s->nvlink_gbps);
        simtime_t nlat = ns_to_ps((uint64_t)s->nvlink_latency_ns);
        t->nvl_up = xmalloc((size_t)H * sizeof *t->nvl_up);
        t->nvl_down = xmalloc((size_t)H * sizeof *t->nvl_down);
        for (uint32_t h = 0; h < H; h++) {
            uint32_t sw = H + W + h / G;
            t->nvl_up[h] = q;
            set_port(&t->ports[q++], TP_NVL_UP, h, sw, nbps, nlat);
            t->nvl_down[h] = q;
            set_port(&t->ports[q++], TP_NVL_DOWN, sw, h, nbps, nlat);
        }
    }
    if (topo_route_build(t, e) < 0 || topo_faults_apply(s, t, e) < 0) {
        topo_destroy(t);
        return -1;
    }
    *out = t;
    return 0;
}

int topo_file_build(const struct topo_spec *s, struct topo **out, struct err *e)
{
    const struct opt_def *bad;
    if (topo_file_check(s, &bad, e) < 0) return -1;
    struct topo_gml g;
    if ((file_format(s->file) == FF_TOPO ? topo_htsim_graph(s->file, &g, e)
                                         : topo_gml_read(s->file, &g, e)) < 0)
        return -1;
    int rc = 0;
    if (g.hosts != s->info.hosts || g.switches != s->info.switches ||
        g.nlinks - g.hosts != s->info.fabric_links || g.fabric_ports != s->info.fabric_ports ||
        g.leaves != s->info.leaves || g.hosts_per_leaf != s->hosts_per_leaf)
        rc = err_set(e, "topology.file: %s: changed since the run was checked", s->file);
    if (rc == 0) rc = topo_gml_build(s, &g, out, e);
    topo_gml_free(&g);
    return rc;
}
