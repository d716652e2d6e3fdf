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

enum topo_kind { TOPO_LEAF_SPINE = 0 };

/* The [topology] options (topo_options.c). */
struct topo_spec {
    int kind;
    int64_t leaves, spines, hosts_per_leaf;
    double host_gbps, fabric_gbps;
    int64_t link_latency_ns;
    int64_t gpus_per_host;
    double nvlink_gbps;
    int64_t nvlink_latency_ns;
};
extern const struct opt_table topo_options;

enum topo_port_kind {
    TP_HOST_UP = 0,
    TP_HOST_DOWN,
    TP_LEAF_UP,
    TP_SPINE_DOWN,
    TP_NVL_UP,   /* GPU to its server's NVLink switch */
    TP_NVL_DOWN, /* NVLink switch to GPU */
    TP_KIND_COUNT
};

struct topo_port {
    uint8_t kind;
    uint32_t src, dst; /* node ids: hosts [0,H), leaves [H,H+L), spines, NVLink switches */
    uint64_t bps;
    simtime_t lat_ps;
};

struct topo {
    uint32_t hosts, leaves, spines, hosts_per_leaf, gpus_per_host;
    uint32_t nports;
    struct topo_port *ports;
    uint32_t *host_up, *host_down; /* [hosts] port ids */
    uint32_t *nvl_up, *nvl_down;   /* [hosts] port ids; NULL when gpus_per_host = 1 */
    uint32_t *host_leaf;           /* [hosts] leaf of each host */
    uint32_t npaths, path_len;     /* equal-cost paths between two leaves, ports per path */
    uint32_t *up;                  /* [leaves][npaths]: first port of path k from a leaf */
    uint32_t *down;                /* [npaths][leaves]: second port of path k into a leaf */
};

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
    return topo_same_server(t, a, b) || topo_leaf_of(t, a) == topo_leaf_of(t, b) ? 2
                                                                                 : 2 + t->path_len;
}

/* The first and last port of the route from a to b (host or NVLink ports). */
static inline uint32_t topo_first_port(const struct topo *t, uint32_t a, uint32_t b)
{
    return topo_same_server(t, a, b) ? t->nvl_up[a] : t->host_up[a];
}
static inline uint32_t topo_last_port(const struct topo *t, uint32_t a, uint32_t b)
{
    return topo_same_server(t, a, b) ? t->nvl_down[b] : t->host_down[b];
}

/* Views of the fabric for the models that score it (placement's cost):
 * a host's link speed (host 0's uplink), and the total speed of a leaf's
 * uplinks, Gb/s. */
double topo_host_gbps(const struct topo *t);
double topo_leaf_uplink_gbps(const struct topo *t, uint32_t leaf);

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
