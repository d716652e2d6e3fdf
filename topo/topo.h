/* topo.h - fabrics: ports (directed links) and precomputed equal-cost paths.
 *
 * A fabric is a set of output ports, each a directed link with a rate and a
 * propagation delay. A host's route to another host is its host_up port,
 * then the fabric part between their leaves (one of `npaths` precomputed
 * equal-cost paths of `path_len` = 2 ports: path k goes up to spine k and
 * down to the destination leaf), then the destination's host_down port.
 * Every path from leaf a to leaf b via spine k is up[a][k] then down[k][b]:
 * the paths are stored factored, L*S ports each way, so the table stays in
 * cache however many leaf pairs there are.
 * Hosts under one edge switch go host_up, host_down directly. With
 * topology.gpus_per_host > 1, consecutive hosts are the GPUs of one server
 * and reach each other over NVLink instead: nvl_up, then nvl_down.
 * On a rail (topo/rail.c) the leaves are rail switches, a host's leaf is
 * not h / hosts_per_leaf (host_leaf says), and with cross_rail = pxn a
 * route to another rail starts nvl_up, nvl_down to a relay GPU, then the
 * relay's host_up and on (topo_pxn, topo_route_ports). With
 * topology.planes = P > 1 a rail is P disjoint rail fabrics (planes), each
 * GPU's NIC a port on each; the path number names the plane (topo_plane).
 *
 * topo/ is the only module that includes igraph: the fabric graph is built
 * with it and the equal-cost paths come from its shortest-path search, once,
 * before the run. The packet engine reads the flat arrays below and never
 * calls igraph.
 */
#ifndef MOESIM_TOPO_H
#define MOESIM_TOPO_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/opt.h"
#include "base/units.h"
#include "topo/faults.h"

enum topo_kind { TOPO_LEAF_SPINE = 0, TOPO_FAT_TREE, TOPO_FILE, TOPO_RAIL };
/* topology.cross_rail (rail): relay over NVLink (PXN) or through the spines */
enum topo_cross_rail { TOPO_XR_PXN = 0, TOPO_XR_SPINE };

/* topology.kind = file (topo/fabric_file.c): what topo_spec_resolve read from
 * topology.file. An htsim .topo is built as the leaf_spine or fat_tree it
 * describes, with its tiers' latencies; a GraphML file as its own graph. */
struct topo_file_info {
    int shape; /* TOPO_LEAF_SPINE, TOPO_FAT_TREE (.topo), TOPO_FILE (GraphML); -1: unread */
    /* .topo, per tier (0: hosts' leaves): its downlinks' latency and its
     * switches' latency (charged on each port out of the switch), ps */
    int64_t link_ps[3], switch_ps[3];
    /* GraphML: counts for the limits and the memory estimate, and the least
     * host and switch-switch link latencies (the shortest routes' delays);
     * fabric_ports: the switch links' ports (one per one-way link); leaves:
     * the edge switches (spec leaves is hosts / hosts_per_leaf, the gcd of
     * their host counts, when they hold different numbers) */
    uint64_t hosts, switches, fabric_links, fabric_ports, leaves;
    int64_t min_host_ps, min_fabric_ps;
};

/* The [topology] options (topo_options.c). */
struct topo_spec {
    int kind;
    int64_t leaves, spines, hosts_per_leaf;
    double host_gbps, fabric_gbps;
    int64_t link_latency_ns;
    int64_t gpus_per_host;
    double nvlink_gbps;
    int64_t nvlink_latency_ns;
    /* fat_tree (topo/fat_tree.c): leaves = pods * leaves_per_pod and
     * spines = aggs_per_pod once topo_spec_resolve has run */
    int64_t pods, leaves_per_pod, aggs_per_pod, cores;
    double core_gbps;           /* 0: fabric_gbps */
    char file[OPT_STR_MAX];     /* kind = file: a .graphml or htsim .topo fabric */
    struct topo_file_info info; /* kind = file: not an option; topo_spec_resolve fills it */
    /* rail (topo/rail.c): leaves = groups * gpus_per_host rail switches and
     * hosts_per_leaf = servers_per_group once topo_spec_resolve has run */
    int64_t groups, servers_per_group, planes;
    int cross_rail; /* enum topo_cross_rail */

    /* [faults] (topo/faults.h) */
    struct topo_faults faults;
};
extern const struct opt_table topo_options;

enum topo_port_kind {
    TP_HOST_UP = 0,
    TP_HOST_DOWN,
    TP_LEAF_UP,
    TP_SPINE_DOWN,
    TP_NVL_UP,    /* GPU to its server's NVLink switch */
    TP_NVL_DOWN,  /* NVLink switch to GPU */
    TP_AGG_UP,    /* fat_tree: aggregation to core (leaf_up: leaf to aggregation) */
    TP_CORE_DOWN, /* fat_tree: core to aggregation */
    TP_AGG_DOWN,  /* fat_tree: aggregation to leaf */
    TP_UP,        /* file: up from tier 2 or higher (tier: hops from the hosts' leaves) */
    TP_DOWN,      /* file: down into tier 2 or higher */
    TP_ACROSS,    /* file: between two switches of one tier */
    TP_RAIL_UP,   /* rail: rail switch to spine (host_up: GPU to its rail switch) */
    TP_RAIL_DOWN, /* rail: spine to rail switch */
    TP_KIND_COUNT
};

struct topo_port {
    uint8_t kind;
    /* [faults]: the link is down, routing leaves it out (topo/faults.h) */
    uint8_t down;
    uint32_t src, dst; /* node ids: hosts [0,H), leaves [H,H+L), spines, NVLink switches */
    uint64_t bps;
    simtime_t lat_ps;
};

/* A node's name in the links table ("h3", a GraphML node id), with its '\0'. */
#define TOPO_NAME_MAX 32

/* The most ports a route crosses (host links included). */
#define TOPO_ROUTE_MAX_PORTS 8

/* One row of the routing table: the equal-cost next hops at a switch toward
 * a destination leaf, ports route_ports[off, off + n) (for n = 1, off is the
 * port itself); n = 0 at the destination leaf itself (the next port is the
 * host's host_down). A packet of path p takes next hop (p / div) % n: the
 * path number is read as a mixed-radix number, one digit per switch that
 * has a choice (topo/route.c). */
struct topo_hop {
    uint32_t off;
    uint16_t n, div;
};

/* A fat-tree's routing rows factored by tier (topo/route.c,
 * topo_route_factor): a leaf has one row toward every other leaf, an
 * aggregation switch one toward other pods and one per leaf of its own pod,
 * a core one per pod. The same rows as t->route (checked entry by entry
 * when built), in hop[] of (L + PA + PA * Lp + C * P) entries instead of
 * [nswitches][leaves] (5.2 MB at 8192 hosts): leaf u's at hop[u],
 * aggregation row L + a's toward other pods at hop[L + a], toward its pod's
 * leaf i at hop[down0 + a * Lp + i], core c's toward pod q at
 * hop[core_hop0 + c * pods + q]; pod[] of leaf and aggregation rows. */
struct topo_ftr {
    const struct topo_hop *route; /* the table factored: a view of the fabric whose route
                                   * is another (sim/pkt_fault.c, flow_fault.c) reads its own */
    uint32_t leaves, core0, pods, leaves_per_pod; /* core0: the first core's row (L + PA) */
    uint32_t down0, core_hop0;
    uint32_t *pod; /* [L + PA] */
    struct topo_hop *hop;
};

struct topo {
    int kind; /* enum topo_kind */
    uint32_t hosts, leaves, spines, hosts_per_leaf, gpus_per_host;
    uint32_t pods, leaves_per_pod, aggs_per_pod, cores; /* fat_tree; 0 for leaf_spine */
    uint32_t groups, pxn; /* rail: groups; 1 with cross_rail = pxn (else 0, and 0 off rail) */
    /* rail with topology.planes > 1 (else planes <= 1 and the rest 0): plane
     * k's rail switches are leaves [k * plane_leaves, (k + 1) * plane_leaves),
     * host h's NIC port on plane k is host_up[k * hosts + h] (host_down the
     * same), and path number p runs on plane p / plane_paths (npaths =
     * planes * plane_paths). nic_bps: a GPU's NIC in all (its ports' sum). */
    uint32_t planes, plane_leaves, plane_paths;
    uint64_t nic_bps;
    uint8_t plane_host_down; /* [faults] down: some GPU's link to a plane (topo_plane_live) */
    /* faults.fail's view after a GPU's plane link failed (topo/faults.c):
     * [planes * hosts], 1 where NIC port k * hosts + h is down; NULL: read
     * the ports' `down` */
    const uint8_t *nic_down;
    uint32_t nswitches; /* switch nodes [hosts, hosts + nswitches): leaves first */
    uint32_t nports;
    struct topo_port *ports;
    uint32_t *host_up, *host_down; /* [hosts] port ids */
    uint32_t *nvl_up, *nvl_down;   /* [hosts] port ids; NULL when gpus_per_host = 1 */
    uint32_t *host_leaf;           /* [hosts] leaf of each host */
    uint32_t npaths, path_len;     /* equal-cost paths between two leaves, ports per path */
    uint32_t *up;                  /* [leaves][npaths]: first port of path k from a leaf */
    uint32_t *down;                /* [npaths][leaves]: second port of path k into a leaf */
    /* leaf_spine only (NULL for fat_tree): up and down above. Every fabric:
     * the routing table, [nswitches][leaves] rows (switch row = node - hosts) */
    struct topo_hop *route;
    uint32_t *route_ports;
    uint32_t nroute_ports;
    struct topo_ftr *ftr;         /* fat_tree without faults: route's rows factored; else NULL */
    char (*names)[TOPO_NAME_MAX]; /* file (GraphML): [hosts + nswitches] node names; else NULL */
    uint32_t ndown, ndegraded;    /* [faults]: ports down, ports at a lowered rate */
    /* [faults] fail: links failing during the run, by time, and the delay
     * until routing leaves each out (topo/faults.h); 0 and NULL without */
    struct topo_tfault *tfaults;
    uint32_t ntfaults;
    uint64_t reroute_ps;
};

/* The routing row at switch row sw toward leaf dl. */
static inline const struct topo_hop *topo_hop_at(const struct topo *t, uint32_t sw, uint32_t dl)
{
    return &t->route[(size_t)sw * t->leaves + dl];
}
/* A fat-tree's row at switch row sw toward leaf dl (sw != dl), from its
 * factored rows (struct topo_ftr). */
static inline const struct topo_hop *topo_ftr_hop(const struct topo_ftr *f, uint32_t sw,
                                                  uint32_t dl)
{
    if (sw < f->leaves) return &f->hop[sw];
    uint32_t pd = f->pod[dl];
    if (sw >= f->core0) return &f->hop[f->core_hop0 + (sw - f->core0) * f->pods + pd];
    if (f->pod[sw] != pd) return &f->hop[sw];
    return &f->hop[f->down0 + (sw - f->leaves) * f->leaves_per_pod + dl - pd * f->leaves_per_pod];
}
/* The row the engine forwards by at switch row sw toward leaf dl: the
 * factored one where there is one for t's table (the same row, from small
 * tables). */
static inline const struct topo_hop *topo_row(const struct topo *t, uint32_t sw, uint32_t dl)
{
    return t->ftr && t->ftr->route == t->route ? topo_ftr_hop(t->ftr, sw, dl)
                                               : topo_hop_at(t, sw, dl);
}
/* The next port of a packet of path p at switch row sw toward host dst
 * (leaves are rows [0, leaves), so at the destination's leaf it is the
 * host's link, without reading the table). */
static inline uint32_t topo_next_port(const struct topo *t, uint32_t sw, uint32_t dst, uint32_t p)
{
    uint32_t dl = t->host_leaf[dst];
    if (t->planes > 1) { /* the destination's rail switch on the packet's plane */
        uint32_t k = p / t->plane_paths;
        dl += k * t->plane_leaves;
        if (sw == dl) return t->host_down[(size_t)k * t->hosts + dst];
    }
    if (sw == dl) return t->host_down[dst];
    const struct topo_hop *g = topo_row(t, sw, dl);
    if (g->n == 1) return g->off;
    uint32_t i = g->div == 1 ? p : p / g->div;
    if (i >= g->n) i %= g->n;
    return t->route_ports[g->off + i];
}

/* The plane of path number p (0 without planes). */
static inline uint32_t topo_plane(const struct topo *t, uint32_t p)
{
    return t->planes > 1 ? p / t->plane_paths : 0;
}
/* The leaf (routing row) where a packet of path p reaches host dst's link:
 * its rail switch on the packet's plane. */
static inline uint32_t topo_dest_leaf(const struct topo *t, uint32_t dst, uint32_t p)
{
    uint32_t dl = t->host_leaf[dst];
    return t->planes > 1 ? dl + topo_plane(t, p) * t->plane_leaves : dl;
}
/* Sets the fabric's path count from the paths within one plane. */
static inline void topo_set_npaths(struct topo *t, uint32_t n)
{
    t->plane_paths = n;
    t->npaths = t->planes > 1 ? n * t->planes : n;
}

/* Builds t->route, t->route_ports and t->npaths from t's ports (topo/route.c,
 * with igraph): the fabric ports between switches are a graph's edges; a
 * switch's next hops toward a leaf are its edges one hop closer to it
 * (shortest paths: up-down routing in a tree). t->npaths: the most paths
 * between two leaves. Fails when a leaf cannot reach another. */
int topo_route_build(struct topo *t, struct err *e);
/* Sets t->ftr (freeing any before) to a fat-tree's rows factored by tier
 * when every row equals its factored one (no faults changed them), else
 * leaves it NULL; the fabric's builder calls it last. Its bytes for the
 * memory estimate: topo_ftr_bytes. */
void topo_route_factor(struct topo *t);
void topo_ftr_free(struct topo *t);
uint64_t topo_ftr_bytes(uint64_t pods, uint64_t leaves_per_pod, uint64_t aggs_per_pod,
                        uint64_t cores);
/* Ports of the route of path p from host a to host b into ports[] (at most
 * TOPO_ROUTE_MAX_PORTS); returns how many. */
uint32_t topo_route_ports(const struct topo *t, uint32_t a, uint32_t b, uint32_t p,
                          uint32_t *ports);

/* topology.kind = fat_tree derives leaves (pods * leaves_per_pod) and spines
 * (aggs_per_pod, a leaf's uplinks) so that what counts hosts and a leaf's
 * uplinks reads one spec; leaf_spine is left as it is. Called on every run
 * before it is checked (app/scenario.c). */
void topo_spec_resolve(struct topo_spec *s);
/* fat_tree.c: topo_check, topo_port_count, topo_memory_bytes, topo_build and
 * topo_spec_route for topology.kind = fat_tree (leaf_spine.c dispatches). */
int topo_ft_check(const struct topo_spec *s, const struct opt_def **bad, struct err *e);
uint64_t topo_ft_port_count(const struct topo_spec *s);
uint64_t topo_ft_memory_bytes(const struct topo_spec *s);
int topo_ft_build(const struct topo_spec *s, struct topo **out, struct err *e);

/* rail.c: the same for topology.kind = rail, and the route of a pair that
 * PXN relays (topo_pxn, different servers): nvl_up(a), nvl_down(relay),
 * then the relay's route of path p to b (topo_route_ports calls it). */
int topo_rail_check(const struct topo_spec *s, const struct opt_def **bad, struct err *e);
uint64_t topo_rail_port_count(const struct topo_spec *s);
uint64_t topo_rail_memory_bytes(const struct topo_spec *s);
int topo_rail_build(const struct topo_spec *s, struct topo **out, struct err *e);
uint32_t topo_rail_route_ports(const struct topo *t, uint32_t a, uint32_t b, uint32_t p,
                               uint32_t *ports);

/* Limits a topology must fit; checked before anything is allocated (host
 * counts by cfg_validate, the leaf-spine links by topo_check). */
#define TOPO_MAX_HOSTS        1048576u
#define TOPO_MAX_FABRIC_LINKS (1ull << 24)

/* Checks that s's fabric can exist and its leaf-spine links fit their limit;
 * -1 with e->msg = "section.key: reason" and *bad = the option at fault (a
 * row of topo_options). */
int topo_check(const struct topo_spec *s, const struct opt_def **bad, struct err *e);
/* Ports the fabric of s will have (host links, leaf-spine links, NVLink). */
uint64_t topo_port_count(const struct topo_spec *s);
/* Memory the fabric of s will take, bytes (the fabric's own: ports, host and
 * path tables; an engine's state per port comes on top, eng_memory_per_port). */
uint64_t topo_memory_bytes(const struct topo_spec *s);
/* Builds the fabric of s (after topo_check). */
int topo_build(const struct topo_spec *s, struct topo **out, struct err *e);
void topo_destroy(struct topo *t);

static inline uint32_t topo_leaf_of(const struct topo *t, uint32_t host)
{
    return t->host_leaf[host];
}

/* Whether hosts a and b are GPUs of one server (they talk over NVLink). */
static inline int topo_same_server(const struct topo *t, uint32_t a, uint32_t b)
{
    return t->gpus_per_host > 1 && a / t->gpus_per_host == b / t->gpus_per_host;
}

/* rail with cross_rail = pxn: whether a's traffic to b starts over NVLink
 * because b is on another rail (GPU index), and the GPU of a's server on b's
 * rail that relays it (b itself when a and b share a server). */
static inline int topo_pxn(const struct topo *t, uint32_t a, uint32_t b)
{
    return t->pxn && a % t->gpus_per_host != b % t->gpus_per_host;
}
static inline uint32_t topo_pxn_relay(const struct topo *t, uint32_t a, uint32_t b)
{
    return a - a % t->gpus_per_host + b % t->gpus_per_host;
}
/* Whether the route from a to b starts over NVLink (the NVLink sender's). */
static inline int topo_via_nvlink(const struct topo *t, uint32_t a, uint32_t b)
{
    return topo_same_server(t, a, b) || topo_pxn(t, a, b);
}

/* The two ports of fabric path k from leaf la to leaf lb (la != lb). */
static inline uint32_t topo_up(const struct topo *t, uint32_t la, uint32_t k)
{
    return t->up[(size_t)la * t->npaths + k];
}
static inline uint32_t topo_down(const struct topo *t, uint32_t k, uint32_t lb)
{
    return t->down[(size_t)k * t->leaves + lb];
}

/* Number of ports on the route from a to b, host links included. */
static inline uint32_t topo_route_len(const struct topo *t, uint32_t a, uint32_t b)
{
    uint32_t ports[TOPO_ROUTE_MAX_PORTS];
    return topo_route_ports(t, a, b, 0, ports);
}

/* The first and last port of the route from a to b (host or NVLink ports). */
static inline uint32_t topo_first_port(const struct topo *t, uint32_t a, uint32_t b)
{
    return topo_via_nvlink(t, a, b) ? t->nvl_up[a] : t->host_up[a];
}
static inline uint32_t topo_last_port(const struct topo *t, uint32_t a, uint32_t b)
{
    return topo_same_server(t, a, b) ? t->nvl_down[b] : t->host_down[b];
}
/* The first port of a packet of path p from a to b: NVLink, or a's NIC port
 * on the path's plane. */
static inline uint32_t topo_nic_port(const struct topo *t, uint32_t a, uint32_t b, uint32_t p)
{
    if (topo_via_nvlink(t, a, b)) return t->nvl_up[a];
    return t->planes > 1 ? t->host_up[(size_t)topo_plane(t, p) * t->hosts + a] : t->host_up[a];
}

/* Rail planes with a GPU's link to a plane down (topo/rail.c): the planes
 * (bit k: plane k) on which a packet from a to b and its answer find every
 * NIC port up, and path p moved to the next such plane (its digits within
 * the plane kept) when its own is not. */
uint32_t topo_plane_mask(const struct topo *t, uint32_t a, uint32_t b);
uint32_t topo_plane_live(const struct topo *t, uint32_t a, uint32_t b, uint32_t p);

/* Views of the fabric for the models that score it (placement's cost):
 * a host's link speed (host 0's uplink), the total speed of a leaf's
 * uplinks, Gb/s; the GPUs per server (consecutive hosts sharing an NVLink
 * switch, 1: no NVLink) and a GPU's NVLink speed per direction (host 0's
 * NVLink uplink; 0 without NVLink), Gb/s. */
double topo_host_gbps(const struct topo *t);
double topo_leaf_uplink_gbps(const struct topo *t, uint32_t leaf);
/* What the placement models (workloads/place*) take for leaves: groups of
 * consecutive GPUs, servers inside them, and each group's uplinks in total,
 * Gb/s. A leaf-spine's and a fat-tree's leaves; a rail's groups (a group's
 * rail switches together: with PXN its GPUs reach one another without a
 * spine). */
static inline int64_t topo_spec_place_leaves(const struct topo_spec *s)
{
    return s->kind == TOPO_RAIL ? s->groups : s->leaves;
}
static inline uint32_t topo_place_leaves(const struct topo *t)
{
    if (t->kind == TOPO_FILE && t->hosts_per_leaf) /* leaves of different host counts: gcd groups */
        return t->hosts / t->hosts_per_leaf;
    return t->kind == TOPO_RAIL ? t->groups : t->leaves;
}
double topo_place_uplink_gbps(const struct topo *t);
uint32_t topo_gpus_per_server(const struct topo *t);
double topo_nvlink_gbps(const struct topo *t);

/* What the route between two hosts crosses: NVLink (GPUs of one server), one
 * leaf switch (host_up, host_down), or the fabric between two leaves
 * (host_up, leaf_up, spine_down, host_down). */
enum topo_route_kind { TOPO_ROUTE_NVLINK = 0, TOPO_ROUTE_LEAF, TOPO_ROUTE_FABRIC };
/* The kinds (enum topo_port_kind) of the ports a route of kind r crosses in
 * s's fabric, in order, into kinds[TOPO_ROUTE_MAX_PORTS]; returns how many,
 * 0 when s's fabric has no such route (NVLink with one GPU per server, the
 * fabric with one leaf). topo_build's routes are these. */
uint32_t topo_spec_route(const struct topo_spec *s, enum topo_route_kind r, uint8_t *kinds);
/* Propagation delay topo_build gives a port of that kind in s's fabric, ps. */
simtime_t topo_spec_port_lat_ps(const struct topo_spec *s, int port_kind);
/* Zero-load propagation delay of a route of kind r in s's fabric, one way, ps
 * (0 when there is no such route): what topo_path_latency of a zero-byte
 * packet gives on the built fabric, without building it. */
simtime_t topo_spec_route_prop_ps(const struct topo_spec *s, enum topo_route_kind r);

/* The fabric's shape in words for the run line ("leaf_spine 4x4x4",
 * "fat_tree 2 pods x 2 leaves x 2 aggs, 4 cores, 4 hosts/leaf", "rail 2
 * groups x 2 servers x 8 GPUs, 4 spines, pxn"), its faults after it
 * (topo/shape.c). */
void topo_spec_shape(const struct topo_spec *s, char *buf, size_t n);

/* Name of a node ("h3", "l0", "s12") into buf. */
void topo_node_name(const struct topo *t, uint32_t node, char *buf, size_t n);
const char *topo_port_kind_name(int kind);

/* Zero-load latency of a packet of `bytes` from a to b: propagation plus
 * store-and-forward serialization at every hop. */
simtime_t topo_path_latency(const struct topo *t, uint32_t a, uint32_t b, uint32_t bytes);

/* A flow as the ideal bound sees it. */
struct topo_demand {
    uint32_t src, dst;
    uint64_t bytes;
};

/* A lower bound on the completion of a set of demands that all start at
 * time 0: no routing (ideal fractional multipath included) and no order of
 * service finishes them earlier. Per link (and per leaf's uplink group and
 * downlink group, as one link of their total rate): the bytes that must
 * cross it over its capacity, plus the least time before the first of them
 * can reach it and after the last leaves it; the largest over links, over
 * the demands of each route kind and over each demand alone (ideal.c has the
 * argument). The transport's packets decide the latencies: flows of
 * `subflows` equal parts of a demand (1 unless path = split), packets of
 * `mtu` bytes and a short last one. A lone flow on an idle path finishes
 * exactly at it. */
simtime_t topo_ideal_ps(const struct topo *t, const struct topo_demand *d, size_t n, uint32_t mtu,
                        uint32_t subflows);

#endif
