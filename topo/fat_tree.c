/* fat_tree.c - topology.kind = fat_tree: three tiers of switches in pods.
 *
 * topology.pods pods, each of topology.leaves_per_pod leaves and
 * topology.aggs_per_pod aggregation switches, every leaf linked to every
 * aggregation switch of its pod (fabric_gbps); topology.cores core
 * switches, aggregation switch j of every pod linked to cores
 * j*cores/aggs_per_pod ... (j+1)*cores/aggs_per_pod - 1 (core_gbps, default
 * fabric_gbps), so each core has one link into every pod. hosts_per_leaf
 * hosts under each leaf as on a leaf-spine. The k-ary fat-tree is pods = k,
 * leaves_per_pod = aggs_per_pod = k/2, cores = k^2/4; htsim's
 * fat_tree_8192_1os is 32 pods of 16 and 16, 256 cores, 16 hosts per leaf.
 *
 * Nodes: hosts [0,H), leaves [H,H+L) pod by pod, aggregation switches
 * (pod p's j-th is a(p*aggs_per_pod + j)), cores, then NVLink switches.
 * Ports: host links (host h: up 2h, down 2h+1); then per pod, leaf and
 * aggregation switch leaf_up and agg_down; then per pod, aggregation switch
 * and its cores agg_up and core_down; then NVLink. Routing: the shortest
 * (up-down) paths of topo_route_build; the path number's digits are the
 * leaf's aggregation switch (p % aggs_per_pod), then that switch's core
 * (p / aggs_per_pod), so npaths = cores between pods. Port latencies are
 * topo_spec_port_lat_ps's (link_latency_ns; an htsim .topo's per tier).
 */
#include <stdlib.h>
#include <string.h>

#include "topo/topo.h"

static int ft_fail(const struct opt_def **bad, const char *key, struct err *e, const char *fmt,
                   long long a, long long b)
{
    *bad = opt_table_find(&topo_options, "topology", key);
    char why[ERR_MSG_MAX];
    snprintf(why, sizeof why, fmt, a, b);
    return err_set(e, "topology.%s: %s", key, why);
}

int topo_ft_check(const struct topo_spec *c, const struct opt_def **bad, struct err *e)
{
    if (c->hosts_per_leaf % c->gpus_per_host)
        return ft_fail(bad, "gpus_per_host", e,
                       "%lld does not divide topology.hosts_per_leaf (%lld): a server's GPUs sit "
                       "under one leaf",
                       (long long)c->gpus_per_host, (long long)c->hosts_per_leaf);
    if (c->cores % c->aggs_per_pod)
        return ft_fail(bad, "cores", e,
                       "%lld is not a multiple of topology.aggs_per_pod (%lld): each aggregation "
                       "switch of a pod links to as many cores",
                       (long long)c->cores, (long long)c->aggs_per_pod);
    uint64_t L = (uint64_t)c->pods * (uint64_t)c->leaves_per_pod;
    if (L < 2 && c->pods < 2)
        return ft_fail(bad, "leaves_per_pod", e,
                       "%lld pod of %lld leaf: a fat-tree needs two leaves (use leaf_spine)",
                       (long long)c->pods, (long long)c->leaves_per_pod);
    uint64_t links = L * (uint64_t)c->aggs_per_pod + (uint64_t)c->pods * (uint64_t)c->cores;
    if (links > TOPO_MAX_FABRIC_LINKS)
        return ft_fail(bad, "cores", e,
                       "%lld leaf-aggregation plus aggregation-core links, more than this build "
                       "holds (%lld)",
                       (long long)links, (long long)TOPO_MAX_FABRIC_LINKS);
    uint64_t paths = c->pods > 1 ? (uint64_t)c->cores : (uint64_t)c->aggs_per_pod;
    if (paths > 65534)
        return ft_fail(bad, "cores", e,
                       "%lld equal-cost paths between pods, more than a packet's path number "
                       "holds (%lld)",
                       (long long)paths, 65534LL);
    uint64_t W = L + (uint64_t)c->pods * (uint64_t)c->aggs_per_pod + (uint64_t)c->cores;
    if (W * L > (1ull << 32))
        return ft_fail(bad, "pods", e,
                       "%lld switches x leaves routing rows, more than this build holds (%lld)",
                       (long long)(W * L), (long long)(1ull << 32));
    return 0;
}

uint64_t topo_ft_port_count(const struct topo_spec *c)
{
    uint64_t L = (uint64_t)c->pods * (uint64_t)c->leaves_per_pod;
    uint64_t H = L * (uint64_t)c->hosts_per_leaf;
    return 2 * H + 2 * L * (uint64_t)c->aggs_per_pod + 2 * (uint64_t)c->pods * (uint64_t)c->cores +
           (c->gpus_per_host > 1 ? 2 * H : 0);
}

/* Ports, the per-host tables (as leaf_spine.c counts them), the routing rows
 * (a switch per leaf) and their groups: a leaf's uplinks once; an
 * aggregation switch's leaves, and its cores at most twice (before and after
 * its own pod); a core's one port per pod. */
uint64_t topo_ft_memory_bytes(const struct topo_spec *c)
{
    const struct topo *t = NULL; /* only for sizeof */
    uint64_t P = (uint64_t)c->pods, A = (uint64_t)c->aggs_per_pod, C = (uint64_t)c->cores;
    uint64_t L = P * (uint64_t)c->leaves_per_pod, H = L * (uint64_t)c->hosts_per_leaf;
    uint64_t per_host = sizeof *t->host_up + sizeof *t->host_down + sizeof *t->host_leaf +
                        sizeof *t->nvl_up + sizeof *t->nvl_down;
    uint64_t W = L + P * A + C;
    uint64_t groups = L * A + P * A * ((uint64_t)c->leaves_per_pod + 2 * C / A) + C * P;
    return topo_ft_port_count(c) * sizeof(struct topo_port) + H * per_host +
           W * L * sizeof *t->route + groups * sizeof *t->route_ports +
           topo_ftr_bytes(P, (uint64_t)c->leaves_per_pod, A, C);
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

int topo_ft_build(const struct topo_spec *c, struct topo **out, struct err *e)
{
    const struct opt_def *bad;
    if (topo_ft_check(c, &bad, e) < 0) return -1;
    uint64_t H64 = (uint64_t)c->pods * (uint64_t)c->leaves_per_pod * (uint64_t)c->hosts_per_leaf;
    if (H64 > TOPO_MAX_HOSTS)
        return err_set(e, "topology.hosts_per_leaf: more than %u hosts", TOPO_MAX_HOSTS);
    struct topo *t = xcalloc(1, sizeof *t);
    t->kind = TOPO_FAT_TREE;
    t->pods = (uint32_t)c->pods;
    t->leaves_per_pod = (uint32_t)c->leaves_per_pod;
    t->aggs_per_pod = (uint32_t)c->aggs_per_pod;
    t->cores = (uint32_t)c->cores;
    t->leaves = t->pods * t->leaves_per_pod;
    t->spines = 0;
    t->hosts_per_leaf = (uint32_t)c->hosts_per_leaf;
    t->gpus_per_host = (uint32_t)c->gpus_per_host;
    t->hosts = (uint32_t)H64;
    uint32_t H = t->hosts, L = t->leaves, P = t->pods, Lp = t->leaves_per_pod, A = t->aggs_per_pod,
             C = t->cores, G = t->gpus_per_host, CA = C / A;
    t->nswitches = L + P * A + C;
    t->path_len = P > 1 ? 4 : 2;
    uint64_t hbps = gbps_to_bps(c->host_gbps), fbps = gbps_to_bps(c->fabric_gbps);
    uint64_t cbps = gbps_to_bps(c->core_gbps > 0 ? c->core_gbps : c->fabric_gbps);
    t->nports = (uint32_t)topo_ft_port_count(c);
    t->ports = xcalloc(t->nports, sizeof *t->ports);
    t->host_up = xmalloc(H * sizeof *t->host_up);
    t->host_down = xmalloc(H * sizeof *t->host_down);
    t->host_leaf = xmalloc(H * sizeof *t->host_leaf);
    for (uint32_t h = 0; h < H; h++) {
        uint32_t leaf = H + h / t->hosts_per_leaf;
        t->host_up[h] = 2 * h;
        t->host_down[h] = 2 * h + 1;
        t->host_leaf[h] = h / t->hosts_per_leaf;
        set_port(&t->ports[2 * h], TP_HOST_UP, h, leaf, hbps, topo_spec_port_lat_ps(c, TP_HOST_UP));
        set_port(&t->ports[2 * h + 1], TP_HOST_DOWN, leaf, h, hbps,
                 topo_spec_port_lat_ps(c, TP_HOST_DOWN));
    }
    uint32_t q = 2 * H, agg0 = H + L, core0 = H + L + P * A;
    for (uint32_t p = 0; p < P; p++)
        for (uint32_t i = 0; i < Lp; i++)
            for (uint32_t j = 0; j < A; j++) {
                uint32_t leaf = H + p * Lp + i, agg = agg0 + p * A + j;
                set_port(&t->ports[q++], TP_LEAF_UP, leaf, agg, fbps,
                         topo_spec_port_lat_ps(c, TP_LEAF_UP));
                set_port(&t->ports[q++], TP_AGG_DOWN, agg, leaf, fbps,
                         topo_spec_port_lat_ps(c, TP_AGG_DOWN));
            }
    for (uint32_t p = 0; p < P; p++)
        for (uint32_t j = 0; j < A; j++)
            for (uint32_t m = 0; m < CA; m++) {
                uint32_t agg = agg0 + p * A + j, core = core0 + j * CA + m;
                set_port(&t->ports[q++], TP_AGG_UP, agg, core, cbps,
                         topo_spec_port_lat_ps(c, TP_AGG_UP));
                set_port(&t->ports[q++], TP_CORE_DOWN, core, agg, cbps,
                         topo_spec_port_lat_ps(c, TP_CORE_DOWN));
            }
    if (G > 1) {
        uint64_t nbps = gbps_to_bps(c->nvlink_gbps);
        simtime_t nlat = ns_to_ps((uint64_t)c->nvlink_latency_ns);
        t->nvl_up = xmalloc(H * sizeof *t->nvl_up);
        t->nvl_down = xmalloc(H * sizeof *t->nvl_down);
        for (uint32_t h = 0; h < H; h++) {
            uint32_t sw = H + t->nswitches + h / G;
            t->nvl_up[h] = q;
            set_port(&t->ports[q++], TP_NVL_UP, h, sw, nbps, nlat);
            t->nvl_down[h] = q;
            set_port(&t->ports[q++], TP_NVL_DOWN, sw, h, nbps, nlat);
        }
    }
    if (topo_route_build(t, e) < 0 || topo_faults_apply(c, t, e) < 0) {
        topo_destroy(t);
        return -1;
    }
    topo_route_factor(t); /* the rows by tier, for the engine (topo.h) */
    *out = t;
    return 0;
}
