/* ideal_lp.h - the ideal bound as a linear program (maximum concurrent flow
 * over the fabric's routes, GLPK), and the bound a phase records: that LP
 * where the instance is small enough, the cut bound of topo_ideal_ps beyond.
 *
 * The LP (ideal_lp.c has the argument): commodities are the fabric's
 * destination leaves (every source leaf's bytes toward one leaf share the
 * routing table's next hops toward it, so aggregating them loses nothing);
 * a variable per commodity and port of its routes; each port carries its
 * bytes inside a window [pre, T - post] of the phase's end T, pre and post
 * the least time a packet needs to reach the port and to be delivered after
 * it. The least T is a lower bound on the completion under any path choice
 * among the table's next hops (ideal fractional multipath included), which
 * is what every path mode of the engines chooses from. On a rail of P > 1
 * planes the split of each NIC's bytes over its P plane ports is the
 * program's too (a variable per NIC port and commodity; ideal_lp.c,
 * lp_planes).
 *
 * The packets: `mtu` bytes and a short last one per flow, a demand sent as
 * `subflows` equal flows, or (the _each variants, transport.path =
 * ethereal) demand i as each[i] of them (eth_assign's split). Only the
 * latency terms read them (a flow's short last packet, the smallest
 * packet's way into and out of a port); the bytes over the rates do not.
 */
#ifndef MOESIM_TOPO_IDEAL_LP_H
#define MOESIM_TOPO_IDEAL_LP_H

#include <stddef.h>
#include <stdint.h>

#include "topo/topo.h"

/* Which bound a phase's ideal_ns is (the phases table's ideal_kind). */
enum topo_ideal_kind { TOPO_IDEAL_CUT = 0, TOPO_IDEAL_LP };
/* "cut", "lp". */
const char *topo_ideal_kind_name(int kind);

/* The cut bound (topo_ideal_ps, topo.h) with demand i sent as each[i]
 * equal flows (each = NULL: `subflows` flows for every demand). */
simtime_t topo_ideal_each_ps(const struct topo *t, const struct topo_demand *d, size_t n,
                             uint32_t mtu, uint32_t subflows, const uint32_t *each);

/* The LP's size for the demands on t: its variables (commodity x port, plus
 * one; with rail planes also a NIC port's share per commodity), counting
 * stops past `limit` (returns limit + 1 then). 0 when t's kind has no LP
 * here (leaf_spine, fat_tree, file and rail have one: fabrics whose routes
 * are host_up, the table's switches, host_down, PXN's after its relay). */
uint64_t topo_ideal_lp_size(const struct topo *t, const struct topo_demand *d, size_t n,
                            uint64_t limit);

/* Solves the LP: 0 with *ps = the bound (rounded down, never above the LP's
 * optimum); -1 when t's kind has none, or GLPK fails. windows = 0 drops the
 * latency windows (the pure bandwidth program: every port's bytes over its
 * rate, which the closed forms test). Packets as topo_ideal_ps's: `mtu`,
 * `subflows` equal parts of a demand. */
int topo_ideal_lp_ps(const struct topo *t, const struct topo_demand *d, size_t n, uint32_t mtu,
                     uint32_t subflows, int windows, simtime_t *ps);
int topo_ideal_lp_each_ps(const struct topo *t, const struct topo_demand *d, size_t n, uint32_t mtu,
                          uint32_t subflows, const uint32_t *each, int windows, simtime_t *ps);

/* The bound a phase records: the larger of the cut bound (topo_ideal_ps) and
 * the LP when its size is at most lp_max variables (kind = TOPO_IDEAL_LP),
 * the cut bound alone otherwise or when GLPK fails (TOPO_IDEAL_CUT). lp_max
 * = 0: never the LP. */
simtime_t topo_ideal_bound_ps(const struct topo *t, const struct topo_demand *d, size_t n,
                              uint32_t mtu, uint32_t subflows, uint64_t lp_max, int *kind);
simtime_t topo_ideal_bound_each_ps(const struct topo *t, const struct topo_demand *d, size_t n,
                                   uint32_t mtu, uint32_t subflows, const uint32_t *each,
                                   uint64_t lp_max, int *kind);

#endif
