/* leaf_spine.c - the two-tier Clos (leaf-spine) fabric, built with igraph.
 *
 * Ports are numbered host links first (host h: up 2h, down 2h+1), then for
 * each leaf l and spine s the uplink l->s and the downlink s->l. The
 * leaf/spine graph is an igraph digraph whose edge ids map to fabric ports;
 * igraph_get_all_shortest_paths() from each leaf gives every equal-cost path
 * to every other leaf (one per spine), stored sorted by spine so that path k
 * always crosses spine k.
 */
#include "topo/fabric_file.h"
#include "topo/topo.h"

#include <igraph.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void topo_spec_resolve(struct topo_spec *s)
{
    if (s->kind == TOPO_RAIL) { /* a rail switch per GPU of a server and group */
        s->leaves = s->groups * s->gpus_per_host;
        s->hosts_per_leaf = s->servers_per_group;
        return;
    }
    if (s->kind == TOPO_FILE) topo_file_resolve(s);
    if (topo_spec_build_kind(s) != TOPO_FAT_TREE) return;
    s->leaves = s->pods * s->leaves_per_pod;
    s->spines = s->aggs_per_pod;
}

/* The leaf-spine's own checks (topo_check adds the faults'). */
static int ls_check(const struct topo_spec *c, const struct opt_def **bad, struct err *e)
{
    if (c->hosts_per_leaf % c->gpus_per_host) {
        *bad = opt_table_find(&topo_options, "topology", "gpus_per_host");
        return err_set(e,
                       "topology.gpus_per_host: %lld does not divide topology.hosts_per_leaf "
                       "(%lld): a server's GPUs sit under one leaf",
                       (long long)c->gpus_per_host, (long long)c->hosts_per_leaf);
    }
    uint64_t links = (uint64_t)c->leaves * (uint64_t)c->spines;
    if (links > TOPO_MAX_FABRIC_LINKS) {
        *bad = opt_table_find(&topo_options, "topology", "spines");
        return err_set(e,
                       "topology.spines: %lld leaves x %lld spines = %llu leaf-spine links, more "
                       "than this build holds (%llu)",
                       (long long)c->leaves, (long long)c->spines, (unsigned long long)links,
                       (unsigned long long)TOPO_MAX_FABRIC_LINKS);
    }
    return 0;
}

int topo_check(const struct topo_spec *c, const struct opt_def **bad, struct err *e)
{
    if (c->kind == TOPO_FILE && topo_file_check(c, bad, e) < 0) return -1;
    int sh = topo_spec_build_kind(c);
    int rc = sh == TOPO_FAT_TREE ? topo_ft_check(c, bad, e)
             : sh == TOPO_FILE   ? 0
             : sh == TOPO_RAIL   ? topo_rail_check(c, bad, e)
                                 : ls_check(c, bad, e);
    return rc < 0 ? rc : topo_faults_check(c, bad, e);
}

uint64_t topo_port_count(const struct topo_spec *c)
{
    if (topo_spec_build_kind(c) == TOPO_FAT_TREE) return topo_ft_port_count(c);
    if (topo_spec_build_kind(c) == TOPO_FILE || topo_spec_build_kind(c) < 0) return topo_file_port_count(c);
    if (c->kind == TOPO_RAIL) return topo_rail_port_count(c);
    uint64_t H = (uint64_t)c->leaves * (uint64_t)c->hosts_per_leaf;
    return 2 * H + 2 * (uint64_t)c->leaves * (uint64_t)c->spines +
           (c->gpus_per_host > 1 ? 2 * H : 0);
}

/* Bytes the fabric of c takes: its ports, the five per-host tables
 * (host_up, host_down, host_leaf, nvl_up, nvl_down; the NVLink ones counted
 * even when absent) and the path tables (up and down, a port per leaf and
 * spine each), and the routing table (a row per switch and leaf; its
 * ports: a leaf's uplinks once, a spine's downlinks). */
uint64_t topo_memory_bytes(const struct topo_spec *c)
{
    if (topo_spec_build_kind(c) == TOPO_FAT_TREE) return topo_ft_memory_bytes(c);
    if (topo_spec_build_kind(c) == TOPO_FILE || topo_spec_build_kind(c) < 0) return topo_file_memory_bytes(c);
    if (c->kind == TOPO_RAIL) return topo_rail_memory_bytes(c);
    const struct topo *t = NULL; /* only for sizeof */
    uint64_t H = (uint64_t)c->leaves * (uint64_t)c->hosts_per_leaf;
    uint64_t per_host = sizeof *t->host_up + sizeof *t->host_down + sizeof *t->host_leaf +
                        sizeof *t->nvl_up + sizeof *t->nvl_down;
    uint64_t paths = (uint64_t)c->leaves * (uint64_t)c->spines * (sizeof *t->up + sizeof *t->down);
    uint64_t route = (uint64_t)(c->leaves + c->spines) * (uint64_t)c->leaves * sizeof *t->route +
                     2 * (uint64_t)c->leaves * (uint64_t)c->spines * sizeof *t->route_ports;
    return topo_port_count(c) * sizeof(struct topo_port) + H * per_host + paths + route;
}

double topo_host_gbps(const struct topo *t)
{
    return (double)t->ports[t->host_up[0]].bps / 1e9;
}

double topo_leaf_uplink_gbps(const struct topo *t, uint32_t leaf)
{
    uint64_t bps = 0;
    for (uint32_t p = 0; p < t->nports; p++)
        if ((t->ports[p].kind == TP_LEAF_UP || t->ports[p].kind == TP_RAIL_UP) &&
            t->ports[p].src == t->hosts + leaf && !t->ports[p].down)
            bps += t->ports[p].bps;
    return (double)bps / 1e9;
}

double topo_place_uplink_gbps(const struct topo *t)
{
    if (t->kind == TOPO_FILE) { /* leaf 0's share for a group of hosts_per_leaf of its hosts */
        uint32_t n0 = 0;
        for (uint32_t h = 0; h < t->hosts; h++)
            n0 += t->host_leaf[h] == 0;
        return topo_leaf_uplink_gbps(t, 0) * t->hosts_per_leaf / (n0 ? n0 : 1);
    }
    if (t->kind != TOPO_RAIL) return topo_leaf_uplink_gbps(t, 0);
    double gbps = 0; /* group 0's rail switches */
    for (uint32_t l = 0; l < t->gpus_per_host; l++)
        gbps += topo_leaf_uplink_gbps(t, l);
    return gbps;
}

uint32_t topo_gpus_per_server(const struct topo *t)
{
    return t->gpus_per_host;
}

double topo_nvlink_gbps(const struct topo *t)
{
    return t->nvl_up ? (double)t->ports[t->nvl_up[0]].bps / 1e9 : 0;
}

uint32_t topo_spec_route(const struct topo_spec *s, enum topo_route_kind r, uint8_t *kinds)
{
    uint32_t n = 0;
    if (r == TOPO_ROUTE_NVLINK) {
        if (s->gpus_per_host < 2) return 0;
        kinds[n++] = TP_NVL_UP;
        kinds[n++] = TP_NVL_DOWN;
        return n;
    }
    if (r == TOPO_ROUTE_FABRIC && s->leaves < 2) return 0;
    kinds[n++] = TP_HOST_UP;
    if (r == TOPO_ROUTE_FABRIC && topo_spec_build_kind(s) == TOPO_FAT_TREE) {
        /* the longest: across pods when there are two, else across a pod */
        kinds[n++] = TP_LEAF_UP;
        if (s->pods > 1) {
            kinds[n++] = TP_AGG_UP;
            kinds[n++] = TP_CORE_DOWN;
        }
        kinds[n++] = TP_AGG_DOWN;
    } else if (r == TOPO_ROUTE_FABRIC && s->kind == TOPO_RAIL) {
        /* the longest: PXN's NVLink hop to the relay first, then the spines */
        if (s->cross_rail == TOPO_XR_PXN) {
            n = 0;
            kinds[n++] = TP_NVL_UP;
            kinds[n++] = TP_NVL_DOWN;
            kinds[n++] = TP_HOST_UP;
        }
        if (s->cross_rail != TOPO_XR_PXN || s->groups > 1) {
            kinds[n++] = TP_RAIL_UP;
            kinds[n++] = TP_RAIL_DOWN;
        }
    } else if (r == TOPO_ROUTE_FABRIC && topo_spec_build_kind(s) == TOPO_FILE) {
        kinds[n++] = TP_LEAF_UP; /* GraphML: the least, one switch link */
    } else if (r == TOPO_ROUTE_FABRIC) {
        kinds[n++] = TP_LEAF_UP;
        kinds[n++] = TP_SPINE_DOWN;
    }
    kinds[n++] = TP_HOST_DOWN;
    return n;
}

simtime_t topo_spec_port_lat_ps(const struct topo_spec *s, int port_kind)
{
    if (port_kind == TP_NVL_UP || port_kind == TP_NVL_DOWN)
        return ns_to_ps((uint64_t)s->nvlink_latency_ns);
    if (s->kind == TOPO_FILE && s->info.shape == TOPO_FILE) /* GraphML: the least (a bound) */
        return (simtime_t)(port_kind == TP_HOST_UP || port_kind == TP_HOST_DOWN
                               ? s->info.min_host_ps
                               : s->info.min_fabric_ps);
    if (s->kind == TOPO_FILE && s->info.shape >= 0) {
        /* .topo: the link's tier, and the latency of the switch it leaves */
        const int64_t *l = s->info.link_ps, *w = s->info.switch_ps;
        switch (port_kind) {
        case TP_HOST_UP:
            return (simtime_t)l[0];
        case TP_HOST_DOWN:
            return (simtime_t)(l[0] + w[0]);
        case TP_LEAF_UP:
            return (simtime_t)(l[1] + w[0]);
        case TP_SPINE_DOWN:
        case TP_AGG_DOWN:
            return (simtime_t)(l[1] + w[1]);
        case TP_AGG_UP:
            return (simtime_t)(l[2] + w[1]);
        case TP_CORE_DOWN:
            return (simtime_t)(l[2] + w[2]);
        default:
            break;
        }
    }
    return ns_to_ps((uint64_t)s->link_latency_ns);
}

simtime_t topo_spec_route_prop_ps(const struct topo_spec *s, enum topo_route_kind r)
{
    uint8_t kinds[TOPO_ROUTE_MAX_PORTS];
    uint32_t n = topo_spec_route(s, r, kinds);
    simtime_t ps = 0;
    for (uint32_t i = 0; i < n; i++)
        ps += topo_spec_port_lat_ps(s, kinds[i]);
    return ps;
}

const char *topo_port_kind_name(int kind)
{
    static const char *const names[] = {"host_up",  "host_down", "leaf_up",   "spine_down",
                                        "nvl_up",   "nvl_down",  "agg_up",    "core_down",
                                        "agg_down", "up",        "down",      "across",
                                        "rail_up",  "rail_down"};
    _Static_assert(sizeof names / sizeof names[0] == TP_KIND_COUNT,
                   "a name per enum topo_port_kind, in its order");
    return kind >= 0 && kind < TP_KIND_COUNT ? names[kind] : "?";
}

void topo_node_name(const struct topo *t, uint32_t node, char *buf, size_t n)
{
    if (t->names && node < t->hosts + t->nswitches)
        snprintf(buf, n, "%s", t->names[node]);
    else if (t->kind == TOPO_FILE && node >= t->hosts + t->nswitches)
        snprintf(buf, n, "n%u", node - t->hosts - t->nswitches);
    else if (node < t->hosts)
        snprintf(buf, n, "h%u", node);
    else if (node < t->hosts + t->leaves)
        snprintf(buf, n, t->kind == TOPO_RAIL ? "r%u" : "l%u", node - t->hosts);
    else if (t->kind == TOPO_FAT_TREE && node < t->hosts + t->leaves + t->pods * t->aggs_per_pod)
        snprintf(buf, n, "a%u", node - t->hosts - t->leaves);
    else if (t->kind == TOPO_FAT_TREE && node < t->hosts + t->nswitches)
        snprintf(buf, n, "c%u", node - t->hosts - t->leaves - t->pods * t->aggs_per_pod);
    else if (t->kind == TOPO_FAT_TREE)
        snprintf(buf, n, "n%u", node - t->hosts - t->nswitches);
    else if (node < t->hosts + t->leaves + t->spines)
        snprintf(buf, n, "s%u", node - t->hosts - t->leaves);
    else
        snprintf(buf, n, "n%u", node - t->hosts - t->leaves - t->spines);
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

/* Fills t->up and t->down from igraph's all-shortest-paths search on the
 * leaf/spine digraph, checking that every path from leaf a to leaf b via
 * spine k is up[a][k] then down[k][b] and that there are S of them. Graph
 * vertices: leaves [0,L), spines [L,L+S); edge i is fabric port
 * first_fabric_port + i. */
static int compute_paths(struct topo *t, uint32_t first_fabric_port, struct err *e)
{
    uint32_t L = t->leaves, S = t->spines;
    igraph_vector_int_t edges;
    igraph_vector_int_init(&edges, 0);
    for (uint32_t l = 0; l < L; l++)
        for (uint32_t s = 0; s < S; s++) {
            igraph_vector_int_push_back(&edges, l);
            igraph_vector_int_push_back(&edges, L + s);
            igraph_vector_int_push_back(&edges, L + s);
            igraph_vector_int_push_back(&edges, l);
        }
    igraph_t g;
    if (igraph_create(&g, &edges, L + S, IGRAPH_DIRECTED) != IGRAPH_SUCCESS) {
        igraph_vector_int_destroy(&edges);
        return err_set(e, "topology: igraph could not build the fabric graph");
    }
    igraph_vector_int_destroy(&edges);

    int rc = 0;
    igraph_vector_int_list_t paths;
    igraph_vector_int_list_init(&paths, 0);
    igraph_vs_t to;
    igraph_vs_range(&to, 0, L);
    for (uint32_t a = 0; a < L && rc == 0; a++) {
        if (igraph_get_all_shortest_paths(&g, NULL, &paths, NULL, a, to, IGRAPH_OUT) !=
            IGRAPH_SUCCESS) {
            rc = err_set(e, "topology: igraph path search failed");
            break;
        }
        uint32_t *seen = xcalloc(L, sizeof *seen);
        igraph_integer_t np = igraph_vector_int_list_size(&paths);
        for (igraph_integer_t i = 0; i < np; i++) {
            igraph_vector_int_t *p = igraph_vector_int_list_get_ptr(&paths, i);
            if (igraph_vector_int_size(p) != (igraph_integer_t)t->path_len)
                continue; /* the empty path from a to itself */
            uint32_t up = (uint32_t)VECTOR(*p)[0], down = (uint32_t)VECTOR(*p)[1];
            uint32_t b = (uint32_t)IGRAPH_TO(&g, down);
            uint32_t spine = (uint32_t)IGRAPH_TO(&g, up) - L;
            uint32_t *u = &t->up[(size_t)a * S + spine], *d = &t->down[(size_t)spine * L + b];
            uint32_t pu = first_fabric_port + up, pd = first_fabric_port + down;
            if ((*u != UINT32_MAX && *u != pu) || (*d != UINT32_MAX && *d != pd)) {
                rc = err_set(e, "topology: paths via spine %u do not factor", spine);
                break;
            }
            *u = pu;
            *d = pd;
            seen[b]++;
        }
        for (uint32_t b = 0; b < L; b++)
            if (b != a && seen[b] != S)
                rc = err_set(e, "topology: found %u paths from leaf %u to leaf %u, expected %u",
                             seen[b], a, b, S);
        free(seen);
    }
    igraph_vs_destroy(&to);
    igraph_vector_int_list_destroy(&paths);
    igraph_destroy(&g);
    return rc;
}

/* The routing rows (topo.h) of the leaf-spine, from the factored paths
 * compute_paths checked against igraph: a leaf's row toward another leaf is
 * its S uplinks in spine order (one group per leaf), a spine's is its one
 * downlink. This is what topo_route_build finds on this graph (test_fat_tree
 * checks the rows against up/down), without its search over every leaf:
 * the engine forwards a leaf-spine by up/down, and the rows serve routes
 * listed by topo_route_ports. */
static void fill_routes(struct topo *t, uint32_t first_fabric_port)
{
    uint32_t L = t->leaves, S = t->spines;
    t->route = xcalloc((size_t)(L + S) * L, sizeof *t->route);
    t->nroute_ports = L * S;
    t->route_ports = xmalloc((size_t)L * S * sizeof *t->route_ports);
    for (uint32_t l = 0; l < L; l++)
        for (uint32_t s = 0; s < S; s++)
            t->route_ports[(size_t)l * S + s] = first_fabric_port + 2 * (l * S + s);
    for (uint32_t a = 0; a < L; a++)
        for (uint32_t b = 0; b < L; b++)
            if (a != b) /* one spine: the lone next hop is the port itself (topo.h) */
                t->route[(size_t)a * L + b] =
                    (struct topo_hop){S == 1 ? t->route_ports[a] : a * S, (uint16_t)S, 1};
    for (uint32_t s = 0; s < S; s++)
        for (uint32_t b = 0; b < L; b++)
            t->route[(size_t)(L + s) * L + b] =
                (struct topo_hop){first_fabric_port + 2 * (b * S + s) + 1, 1, 1};
}

int topo_build(const struct topo_spec *c, struct topo **out, struct err *e)
{
    if (topo_spec_build_kind(c) == TOPO_FAT_TREE) return topo_ft_build(c, out, e);
    if (c->kind == TOPO_FILE && topo_spec_build_kind(c) != TOPO_LEAF_SPINE)
        return topo_file_build(c, out, e);
    if (c->kind == TOPO_RAIL) return topo_rail_build(c, out, e);
    const struct opt_def *bad;
    if (ls_check(c, &bad, e) < 0) return -1;
    if ((uint64_t)c->leaves * (uint64_t)c->hosts_per_leaf > TOPO_MAX_HOSTS)
        return err_set(e, "topology.hosts_per_leaf: more than %u hosts", TOPO_MAX_HOSTS);
    struct topo *t = xcalloc(1, sizeof *t);
    t->leaves = (uint32_t)c->leaves;
    t->spines = (uint32_t)c->spines;
    t->hosts_per_leaf = (uint32_t)c->hosts_per_leaf;
    t->gpus_per_host = (uint32_t)c->gpus_per_host;
    t->hosts = t->leaves * t->hosts_per_leaf;
    t->npaths = t->spines;
    t->path_len = 2;
    t->nswitches = t->leaves + t->spines;
    uint32_t H = t->hosts, L = t->leaves, S = t->spines;
    uint64_t hbps = gbps_to_bps(c->host_gbps), fbps = gbps_to_bps(c->fabric_gbps);

    uint32_t G = t->gpus_per_host;
    t->nports = 2 * H + 2 * L * S + (G > 1 ? 2 * H : 0);
    t->ports = xcalloc(t->nports, sizeof *t->ports);
    t->host_up = xmalloc(H * sizeof *t->host_up);
    t->host_down = xmalloc(H * sizeof *t->host_down);
    for (uint32_t h = 0; h < H; h++) {
        uint32_t leaf = H + h / t->hosts_per_leaf;
        t->host_up[h] = 2 * h;
        t->host_down[h] = 2 * h + 1;
        set_port(&t->ports[2 * h], TP_HOST_UP, h, leaf, hbps, topo_spec_port_lat_ps(c, TP_HOST_UP));
        set_port(&t->ports[2 * h + 1], TP_HOST_DOWN, leaf, h, hbps,
                 topo_spec_port_lat_ps(c, TP_HOST_DOWN));
    }
    /* Fabric ports in the same order as the igraph edges of compute_paths. */
    uint32_t p = 2 * H;
    for (uint32_t l = 0; l < L; l++)
        for (uint32_t s = 0; s < S; s++) {
            set_port(&t->ports[p++], TP_LEAF_UP, H + l, H + L + s, fbps,
                     topo_spec_port_lat_ps(c, TP_LEAF_UP));
            set_port(&t->ports[p++], TP_SPINE_DOWN, H + L + s, H + l, fbps,
                     topo_spec_port_lat_ps(c, TP_SPINE_DOWN));
        }
    if (G > 1) {
        /* NVLink: each GPU has a link to and from its server's switch. */
        uint64_t nbps = gbps_to_bps(c->nvlink_gbps);
        t->nvl_up = xmalloc(H * sizeof *t->nvl_up);
        t->nvl_down = xmalloc(H * sizeof *t->nvl_down);
        for (uint32_t h = 0; h < H; h++) {
            uint32_t sw = H + L + S + h / G;
            t->nvl_up[h] = p;
            set_port(&t->ports[p++], TP_NVL_UP, h, sw, nbps, topo_spec_port_lat_ps(c, TP_NVL_UP));
            t->nvl_down[h] = p;
            set_port(&t->ports[p++], TP_NVL_DOWN, sw, h, nbps,
                     topo_spec_port_lat_ps(c, TP_NVL_DOWN));
        }
    }
    t->host_leaf = xmalloc(H * sizeof *t->host_leaf);
    for (uint32_t h = 0; h < H; h++)
        t->host_leaf[h] = h / t->hosts_per_leaf;
    t->up = xmalloc((size_t)L * S * sizeof *t->up);
    t->down = xmalloc((size_t)S * L * sizeof *t->down);
    memset(t->up, 0xff, (size_t)L * S * sizeof *t->up);
    memset(t->down, 0xff, (size_t)S * L * sizeof *t->down);
    if (L > 1 && compute_paths(t, 2 * H, e) < 0) {
        topo_destroy(t);
        return -1;
    }
    fill_routes(t, 2 * H);
    if (topo_faults_apply(c, t, e) < 0) {
        topo_destroy(t);
        return -1;
    }
    *out = t;
    return 0;
}

void topo_destroy(struct topo *t)
{
    if (!t) return;
    free(t->ports);
    free(t->host_up);
    free(t->host_down);
    free(t->nvl_up);
    free(t->nvl_down);
    free(t->host_leaf);
    free(t->up);
    free(t->down);
    free(t->route);
    free(t->route_ports);
    topo_ftr_free(t);
    free(t->names);
    topo_faults_free(t);
    free(t);
}
