/* rail.c - topology.kind = rail: a rail-optimized GPU cluster.
 *
 * topology.groups groups (scalable units), each of topology.servers_per_group
 * servers of gpus_per_host GPUs; the GPUs of a server share an NVLink switch
 * (nvlink_gbps, nvlink_latency_ns, as on a leaf-spine). Each group has
 * gpus_per_host rail switches: GPU g of every server of the group has its NIC
 * (host_gbps) on the group's rail switch g. Every rail switch of every group
 * has one uplink to each of topology.spines spines (fabric_gbps), the
 * two-tier rail-optimized design of NVIDIA's DGX SuperPOD (a scalable unit's
 * rail leaves under one spine layer) and of SimAI's Spectrum-X template;
 * Alibaba HPN's dual-plane NICs are topology.planes, of which only 1 is
 * modelled (planes > 1 is refused).
 *
 * Seen from routing it is a leaf-spine whose leaves are the rail switches
 * (groups * gpus_per_host of them, servers_per_group hosts each) and whose
 * hosts are not consecutive under a leaf: host h is GPU h % G of server
 * h / G, on rail switch (server / servers_per_group) * G + h % G. So the
 * factored up/down paths and the routing rows are a leaf-spine's (path k
 * crosses spine k), and the engine forwards it as one.
 *
 * Traffic between GPUs on different rails (topology.cross_rail): `spine`
 * goes up the source's rail switch to a spine and down the destination's
 * (the leaf-spine route); `pxn` goes first over NVLink to the GPU of the
 * source's server on the destination's rail (the relay), as NCCL's PXN
 * does, then from the relay's NIC over that rail: to the destination's rail
 * switch directly in one group, through a spine between groups. GPUs of one
 * server always talk over NVLink; GPUs on one rail never do.
 *
 * Nodes: hosts [0,H), rail switches [H,H+L) (named r0...), spines (s0...),
 * NVLink switches (n0..., one per server). Ports: host links (host h: up 2h,
 * down 2h+1); for each rail switch l and spine s, rail_up l->s and rail_down
 * s->l; then NVLink (nvl_up, nvl_down per GPU).
 */
#include <stdlib.h>
#include <string.h>

#include "topo/topo.h"

static int rail_fail(const struct opt_def **bad, const char *key, struct err *e, const char *fmt,
                     long long a, long long b)
{
    *bad = opt_table_find(&topo_options, "topology", key);
    char why[ERR_MSG_MAX];
    snprintf(why, sizeof why, fmt, a, b);
    return err_set(e, "topology.%s: %s", key, why);
}

int topo_rail_check(const struct topo_spec *c, const struct opt_def **bad, struct err *e)
{
    if (c->gpus_per_host < 2)
        return rail_fail(bad, "gpus_per_host", e,
                         "%lld GPU per server: a rail fabric has a rail per GPU of a server and "
                         "needs at least %lld",
                         (long long)c->gpus_per_host, 2LL);
    if (c->planes != 1)
        return rail_fail(bad, "planes", e,
                         "%lld planes per NIC are not modelled (only %lld): see docs/fabrics.md",
                         (long long)c->planes, 1LL);
    const struct topo_faults *f = &c->faults;
    if (topo_faults_any(f)) {
        const char *key = f->down[0]           ? "down"
                          : f->random_down > 0 ? "random_down"
                          : f->degraded[0]     ? "degraded"
                                               : "random_degraded";
        *bad = opt_table_find(&topo_faults_options, "faults", key);
        return err_set(e,
                       "faults.%s: faults on topology.kind = rail are not modelled yet (the "
                       "ideal bound of PXN routes over failed links is not built)",
                       key);
    }
    uint64_t L = (uint64_t)c->groups * (uint64_t)c->gpus_per_host, S = (uint64_t)c->spines;
    if (L * S > TOPO_MAX_FABRIC_LINKS)
        return rail_fail(bad, "spines", e,
                         "%lld rail switches x spines links, more than this build holds (%lld)",
                         (long long)(L * S), (long long)TOPO_MAX_FABRIC_LINKS);
    if ((L + S) * L > (1ull << 32))
        return rail_fail(bad, "groups", e,
                         "%lld switches x rail switches routing rows, more than this build holds "
                         "(%lld)",
                         (long long)((L + S) * L), (long long)(1ull << 32));
    return 0;
}

uint64_t topo_rail_port_count(const struct topo_spec *c)
{
    uint64_t L = (uint64_t)c->groups * (uint64_t)c->gpus_per_host;
    uint64_t H = L * (uint64_t)c->servers_per_group;
    return 4 * H + 2 * L * (uint64_t)c->spines;
}

/* Ports, the five per-host tables, the factored paths (a port per rail
 * switch and spine each way), the routing rows (a switch per rail switch)
 * and their groups (a rail switch's uplinks, once). */
uint64_t topo_rail_memory_bytes(const struct topo_spec *c)
{
    const struct topo *t = NULL; /* only for sizeof */
    uint64_t L = (uint64_t)c->groups * (uint64_t)c->gpus_per_host, S = (uint64_t)c->spines;
    uint64_t H = L * (uint64_t)c->servers_per_group;
    uint64_t per_host = sizeof *t->host_up + sizeof *t->host_down + sizeof *t->host_leaf +
                        sizeof *t->nvl_up + sizeof *t->nvl_down;
    return topo_rail_port_count(c) * sizeof(struct topo_port) + H * per_host +
           L * S * (sizeof *t->up + sizeof *t->down) + (L + S) * L * sizeof *t->route +
           L * S * sizeof *t->route_ports;
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

int topo_rail_build(const struct topo_spec *c, struct topo **out, struct err *e)
{
    const struct opt_def *bad;
    if (topo_rail_check(c, &bad, e) < 0) return -1;
    uint64_t H64 =
        (uint64_t)c->groups * (uint64_t)c->servers_per_group * (uint64_t)c->gpus_per_host;
    if (H64 > TOPO_MAX_HOSTS)
        return err_set(e, "topology.servers_per_group: more than %u hosts", TOPO_MAX_HOSTS);
    struct topo *t = xcalloc(1, sizeof *t);
    t->kind = TOPO_RAIL;
    t->groups = (uint32_t)c->groups;
    t->pxn = c->cross_rail == TOPO_XR_PXN;
    t->gpus_per_host = (uint32_t)c->gpus_per_host;
    t->leaves = t->groups * t->gpus_per_host;
    t->spines = (uint32_t)c->spines;
    t->hosts_per_leaf = (uint32_t)c->servers_per_group;
    t->hosts = (uint32_t)H64;
    t->nswitches = t->leaves + t->spines;
    t->path_len = 2;
    uint32_t H = t->hosts, L = t->leaves, S = t->spines, G = t->gpus_per_host,
             SG = t->hosts_per_leaf;
    uint64_t hbps = gbps_to_bps(c->host_gbps), fbps = gbps_to_bps(c->fabric_gbps);
    uint64_t nbps = gbps_to_bps(c->nvlink_gbps);
    simtime_t lat = ns_to_ps((uint64_t)c->link_latency_ns);
    simtime_t nlat = ns_to_ps((uint64_t)c->nvlink_latency_ns);
    t->nports = (uint32_t)topo_rail_port_count(c);
    t->ports = xcalloc(t->nports, sizeof *t->ports);
    t->host_up = xmalloc(H * sizeof *t->host_up);
    t->host_down = xmalloc(H * sizeof *t->host_down);
    t->host_leaf = xmalloc(H * sizeof *t->host_leaf);
    for (uint32_t h = 0; h < H; h++) {
        uint32_t server = h / G, leaf = server / SG * G + h % G;
        t->host_up[h] = 2 * h;
        t->host_down[h] = 2 * h + 1;
        t->host_leaf[h] = leaf;
        set_port(&t->ports[2 * h], TP_HOST_UP, h, H + leaf, hbps, lat);
        set_port(&t->ports[2 * h + 1], TP_HOST_DOWN, H + leaf, h, hbps, lat);
    }
    uint32_t q = 2 * H;
    t->up = xmalloc((size_t)L * S * sizeof *t->up);
    t->down = xmalloc((size_t)S * L * sizeof *t->down);
    for (uint32_t l = 0; l < L; l++)
        for (uint32_t s = 0; s < S; s++) {
            t->up[(size_t)l * S + s] = q;
            set_port(&t->ports[q++], TP_RAIL_UP, H + l, H + L + s, fbps, lat);
            t->down[(size_t)s * L + l] = q;
            set_port(&t->ports[q++], TP_RAIL_DOWN, H + L + s, H + l, fbps, lat);
        }
    t->nvl_up = xmalloc(H * sizeof *t->nvl_up);
    t->nvl_down = xmalloc(H * sizeof *t->nvl_down);
    for (uint32_t h = 0; h < H; h++) {
        uint32_t sw = H + L + S + h / G;
        t->nvl_up[h] = q;
        set_port(&t->ports[q++], TP_NVL_UP, h, sw, nbps, nlat);
        t->nvl_down[h] = q;
        set_port(&t->ports[q++], TP_NVL_DOWN, sw, h, nbps, nlat);
    }
    /* the rows from igraph's search: a rail switch's group toward another is
     * its uplinks in port (spine) order, so next hop k is spine k, as up[] */
    if (topo_route_build(t, e) < 0 ||
        (t->npaths != S &&
         err_set(e, "topology: %u paths between rail switches, expected %u", t->npaths, S) < 0) ||
        topo_faults_apply(c, t, e) < 0) {
        topo_destroy(t);
        return -1;
    }
    *out = t;
    return 0;
}

uint32_t topo_rail_route_ports(const struct topo *t, uint32_t a, uint32_t b, uint32_t p,
                               uint32_t *ports)
{
    uint32_t r = topo_pxn_relay(t, a, b);
    ports[0] = t->nvl_up[a];
    ports[1] = t->nvl_down[r];
    return 2 + topo_route_ports(t, r, b, p, ports + 2);
}
