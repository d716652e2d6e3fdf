/* ethereal.h - transport.path = ethereal: the path assignment of
 * "Challenging the Need for Packet Spraying in Large-Scale Distributed
 * Training" (v2: "Ethereal"), engine-neutral (the executor computes it per
 * network task and hands each message its subflows, eng_add_msg_paths; the
 * packet and the flow engine send them as given).
 *
 * The rule: a source's r flows of one collective step (one network task)
 * that leave its leaf are each split into s/g subflows of equal bytes, where
 * s is the number of the source's choices between the two leaves (eth_paths:
 * a leaf-spine's spines; on a fat-tree the leaf's aggregation switches times
 * each one's core uplinks between pods, the aggregation switches of the pod
 * within one) and g = gcd(r, s); the source's subflows, numbered
 * c = 0, 1, ... in the order of its flows, count v = src + c and take the
 * choices q = v mod s. Every combination of the source's choices then
 * carries r/g subflows of the source's, the same bytes when the flows have
 * equal sizes: its leaf's uplinks, and at each aggregation switch the core
 * uplinks among the subflows it sends through that switch, all at once
 * (q's digits, the leaf's lowest). The choices that go down a tier (a core's
 * aggregation switch in the destination pod, on a GraphML tree whose cores
 * reach every aggregation switch of a pod) are not split for: they are
 * taken from v's digits (the first down choice v mod its next hops), which
 * on a tree of equal pods is the mirror of the leaf's choice, and spreads
 * different sources' subflows through one core over its down links
 * (docs/fabrics.md "ethereal: what is assigned, where, and why" has what
 * that balances and what it does not). A path number names a whole path
 * (topo/route.c); eth_path_in_plane finds the one with those digits. Flows
 * of one source are grouped by s (within a pod, across pods) and each group
 * assigned on its own. Flows under one leaf or over NVLink cross no uplink
 * and stay one subflow (on a rail with planes, a flow under one rail switch
 * takes a subflow per plane). With links down, when a source's flows see
 * different path counts, a group of at least s flows takes one subflow per
 * flow (choices (src + c) mod s): s/g ways would multiply the subflows of a
 * group whose s shares no factor with its r (15 live paths, 16 flows) and
 * the NIC, serving subflows round robin, would send that group first.
 */
#ifndef MOESIM_ETHEREAL_H
#define MOESIM_ETHEREAL_H

#include <stddef.h>
#include <stdint.h>

#include "topo/topo.h"

/* One subflow: its bytes and its path number (PKT_DIRECT-free: a direct
 * route's subflow has path 0, which the engines ignore there). */
struct eth_sub {
    uint64_t bytes;
    uint32_t path;
};

/* The assignment of demands d[0..n-1] (one network task): for demand i its
 * subflows are subs[off[i] .. off[i+1]) (off has n + 1 entries). Both
 * arrays are malloc'd into *subs and *off, the caller's to free. Returns
 * the number of subflows. */
size_t eth_assign(const struct topo *t, const struct topo_demand *d, size_t n,
                  struct eth_sub **subs, size_t **off);

/* The ideal bound (topo_ideal_ps) of demands d[0..n-1] sent as eth_assign
 * splits them: the bound of the demands, with their subflows, when every
 * demand has as many; otherwise the largest of the bounds of each set of
 * demands with as many subflows (each a lower bound of the whole). */
simtime_t eth_ideal_ps(const struct topo *t, const struct topo_demand *d, size_t n, uint32_t mtu);

/* The source's choices between leaves la and lb (la != lb): the product of
 * the next-hop counts along one route between them at the switches whose
 * next hops do not go down a tier (the leaf's, then the aggregation
 * switch's, ...; not a spine's or a core's way down), times the planes. On
 * the built-in fabrics every path's count. */
uint32_t eth_paths(const struct topo *t, uint32_t la, uint32_t lb);

/* The most subflows one demand can get on fabric t: its npaths on the
 * built-in fabrics (no down choice) and with links failing during the
 * run; on a file fabric the most eth_paths of two leaves. */
uint32_t eth_max_subflows(const struct topo *t);

/* The same from the fabric's spec, before it is built: the spines of a
 * leaf-spine, the cores of a fat-tree of several pods (its aggs_per_pod in
 * one pod). For the checks of what a run holds (flows per message). */
static inline uint32_t eth_max_subflows_spec(const struct topo_spec *s)
{
    if (s->kind == TOPO_FAT_TREE) return (uint32_t)(s->pods > 1 ? s->cores : s->aggs_per_pod);
    if (s->kind == TOPO_RAIL && s->planes > 1) return (uint32_t)(s->spines * s->planes);
    return (uint32_t)s->spines;
}

#endif
