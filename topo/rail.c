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
 * topology.planes = P > 1 splits every GPU's NIC over P planes, as Alibaba
 * HPN's dual-plane design does: P disjoint copies of the rail switches and
 * spines, each GPU a port of host_gbps / P on its rail switch of every
 * plane (the NIC sends host_gbps in all, sim/pkt_send.c), and a packet's
 * path number names its plane and its spine there (topo.h: topo_plane).
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
 * Nodes: hosts [0,H), rail switches [H,H+L) (named r0..., plane by plane),
 * spines (s0..., plane by plane), NVLink switches (n0..., one per server).
 * Ports: host links (host h on plane k, i = k * H + h: up 2i, down 2i+1);
 * for each plane, rail switch l and spine s, rail_up l->s and rail_down
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
    uint64_t P = (uint64_t)c->planes; /* at most 16 x 1024 spines: path numbers fit */
    uint64_t L = P * (uint64_t)c->groups * (uint64_t)c->gpus_per_host, S = P * (uint64_t)c->spines;
    if (L * S / P > TOPO_MAX_FABRIC_LINKS)
        return rail_fail(bad, "spines", e,
                         "%lld rail switches x spines links, more than this build holds (%lld)",
                         (long long)(L * S / P), (long long)TOPO_MAX_FABRIC_LINKS);
    if ((L + S) * L > (1ull << 32))
        return rail_fail(bad, "groups", e,
                         "%lld switches x rail switches routing rows, more than this build holds "
                         "(%lld)",
                         (long long)((L + S) * L), (long long)(1ull << 32));
    return 0;
}

uint64_t topo_rail_port_count(const struct topo_spec *c)
{
    uint64_t P = (uint64_t)c->planes, L = (uint64_t)c->groups * (uint64_t)c->gpus_per_host;
    uint64_t H = L * (uint64_t)c->servers_per_group;
    return 2 * H * P + 2 * H + 2 * P * L * (uint64_t)c->spines;
}

/* Ports, the per-host tables (a NIC port per plane each way), the factored
 * paths (one plane: a port per rail switch and spine each way), the routing
 * rows (a switch per rail switch) and their groups (a rail switch's
 * uplinks, once). */
uint64_t topo_rail_memory_bytes(const struct topo_spec *c)
{
    const struct topo *t = NULL; /* only for sizeof */
    uint64_t P = (uint64_t)c->planes;
    uint64_t L = P * (uint64_t)c->groups * (uint64_t)c->gpus_per_host, S = P * (uint64_t)c->spines;
    uint64_t H = L / P * (uint64_t)c->servers_per_group;
    uint64_t per_host = P * (sizeof *t->host_up + sizeof *t->host_down) + sizeof *t->host_leaf +
                        sizeof *t->nvl_up + sizeof *t->nvl_down;
    return topo_rail_port_count(c) * sizeof(struct topo_port) + H * per_host +
           (P == 1 ? L * S * (sizeof *t->up + sizeof *t->down) : 0) +
           (L + S) * L * sizeof *t->route + L * S / P * sizeof *t->route_ports;
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
    uint32_t P = (uint32_t)c->planes;
    uint32_t Lp = t->groups * t->gpus_per_host, S = (uint32_t)c->spines;
    t->planes = P > 1 ? P : 0;
    t->plane_leaves = P > 1 ? Lp : 0;
    t->leaves = P * Lp;
    t->spines = P * S;
    t->hosts_per_leaf = (uint32_t)c->servers_per_group;
    t->hosts = (uint32_t)H64;
    t->nswitches = t->leaves + t->spines;
    t->path_len = 2;
    uint32_t H = t->hosts, L = t->leaves, G = t->gpus_per_host, SG = t->hosts_per_leaf;
    /* a GPU's NIC: host_gbps in all, host_gbps / P per plane */
    uint64_t hbps = gbps_to_bps(c->host_gbps / P), fbps = gbps_to_bps(c->fabric_gbps);
    uint64_t nbps = gbps_to_bps(c->nvlink_gbps);
    if (P > 1) t->nic_bps = gbps_to_bps(c->host_gbps);
    simtime_t lat = ns_to_ps((uint64_t)c->link_latency_ns);
    simtime_t nlat = ns_to_ps((uint64_t)c->nvlink_latency_ns);
    t->nports = (uint32_t)topo_rail_port_count(c);
    t->ports = xcalloc(t->nports, sizeof *t->ports);
    t->host_up = xmalloc((size_t)P * H * sizeof *t->host_up);
    t->host_down = xmalloc((size_t)P * H * sizeof *t->host_down);
    t->host_leaf = xmalloc(H * sizeof *t->host_leaf);
    for (uint32_t k = 0; k < P; k++)
        for (uint32_t h = 0; h < H; h++) {
            uint32_t server = h / G, leaf = server / SG * G + h % G, i = k * H + h;
            t->host_up[i] = 2 * i;
            t->host_down[i] = 2 * i + 1;
            if (k == 0) t->host_leaf[h] = leaf;
            set_port(&t->ports[2 * i], TP_HOST_UP, h, H + k * Lp + leaf, hbps, lat);
            set_port(&t->ports[2 * i + 1], TP_HOST_DOWN, H + k * Lp + leaf, h, hbps, lat);
        }
    uint32_t q = 2 * P * H;
    if (P == 1) {
        t->up = xmalloc((size_t)L * S * sizeof *t->up);
        t->down = xmalloc((size_t)S * L * sizeof *t->down);
    }
    /* plane k: its rail switches k * Lp + l, its spines k * S + s */
    for (uint32_t k = 0; k < P; k++)
        for (uint32_t l = 0; l < Lp; l++)
            for (uint32_t s = 0; s < S; s++) {
                if (P == 1) t->up[(size_t)l * S + s] = q;
                set_port(&t->ports[q++], TP_RAIL_UP, H + k * Lp + l, H + L + k * S + s, fbps, lat);
                if (P == 1) t->down[(size_t)s * L + l] = q;
                set_port(&t->ports[q++], TP_RAIL_DOWN, H + L + k * S + s, H + k * Lp + l, fbps,
                         lat);
            }
    t->nvl_up = xmalloc(H * sizeof *t->nvl_up);
    t->nvl_down = xmalloc(H * sizeof *t->nvl_down);
    for (uint32_t h = 0; h < H; h++) {
        uint32_t sw = H + t->nswitches + h / G;
        t->nvl_up[h] = q;
        set_port(&t->ports[q++], TP_NVL_UP, h, sw, nbps, nlat);
        t->nvl_down[h] = q;
        set_port(&t->ports[q++], TP_NVL_DOWN, sw, h, nbps, nlat);
    }
    /* the rows from igraph's search: a rail switch's group toward another of
     * its plane is its uplinks in port (spine) order, so next hop k is spine
     * k, as up[]; with planes path p is spine p % S of plane p / S */
    if (topo_route_build(t, e) < 0 ||
        (t->npaths != P * S && err_set(e, "topology: %u paths between rail switches, expected %u",
                                       t->npaths, P * S) < 0) ||
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

/* Rail planes with a GPU's link to a plane down ([faults] down, marked by
 * topo/faults.c: t->plane_host_down). A packet from a to b keeps one plane
 * end to end, and its acknowledgement takes the same plane back, so the
 * planes a pair may use are those on which every NIC port of the round
 * trip is up: the sender's (the PXN relay's when a's traffic starts over
 * NVLink), b's, b's sender's for the answer, and a's. An engine's view
 * after a GPU's plane link failed during the run (faults.fail) says which
 * are down in t->nic_down. */
static int on_plane(const struct topo *t, uint32_t h, uint32_t k)
{
    size_t i = (size_t)k * t->hosts + h;
    return t->nic_down ? !t->nic_down[i] : !t->ports[t->host_up[i]].down;
}

static uint32_t nic_host(const struct topo *t, uint32_t a, uint32_t b)
{
    return topo_pxn(t, a, b) ? topo_pxn_relay(t, a, b) : a;
}

uint32_t topo_plane_mask(const struct topo *t, uint32_t a, uint32_t b)
{
    uint32_t m = 0, h[4] = {nic_host(t, a, b), b, nic_host(t, b, a), a};
    for (uint32_t k = 0; k < t->planes && k < 32; k++)
        if (on_plane(t, h[0], k) && on_plane(t, h[1], k) && on_plane(t, h[2], k) &&
            on_plane(t, h[3], k))
            m |= 1u << k;
    return m;
}

uint32_t topo_plane_live(const struct topo *t, uint32_t a, uint32_t b, uint32_t p)
{
    uint32_t m = topo_plane_mask(t, a, b), k = topo_plane(t, p), P = t->planes;
    if (m >> k & 1) return p;
    for (uint32_t j = 1; j < P; j++) {
        uint32_t k2 = (k + j) % P;
        if (m >> k2 & 1) return p - k * t->plane_paths + k2 * t->plane_paths;
    }
    return p; /* none (refused before the run: topo/faults.c) */
}
