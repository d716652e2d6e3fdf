/* validate.c - cross-key checks on one resolved configuration (cfg_validate,
 * declared in scenario.h).
 *
 * Single values are checked by the option table (type, bounds, choices); what
 * is checked here is what only a combination of keys can get wrong. Each check
 * is a function in cfg_checks[] that blames one key through cfg_fail(); the
 * scenario loader reports the failure at the file line (or --set) where that
 * key was set. To add a check: write a cfg_check_* function and list it.
 */
#include <assert.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

#include "app/scenario.h"
#include "base/units.h"
#include "sim/eng.h"
#include "topo/topo.h"
#include "workloads/moe.h"
#include <unistd.h>

typedef int (*cfg_check_fn)(const struct cfg *c, const struct opt_def **bad, struct err *e);

/* Blames section.key: *bad = its option, e->msg = "section.key: <fmt>".
 * Returns -1. */
__attribute__((format(printf, 5, 6))) static int cfg_fail(const struct opt_def **bad, struct err *e,
                                                          const char *section, const char *key,
                                                          const char *fmt, ...)
{
    const struct opt_def *o = opt_find(section, key);
    assert(o);
    if (bad) *bad = o;
    char why[ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    return err_set(e, "%s.%s: %s", section, key, why);
}

static int64_t cfg_hosts(const struct cfg *c)
{
    return c->topo.leaves * c->topo.hosts_per_leaf;
}

/* The topology has room for traffic (two hosts) and fits this build. */
static int cfg_check_hosts(const struct cfg *c, const struct opt_def **bad, struct err *e)
{
    long long n = (long long)cfg_hosts(c);
    if (n < 2)
        return cfg_fail(bad, e, "topology", "hosts_per_leaf",
                        "leaves*hosts_per_leaf = %lld host, need at least 2", n);
    if (n > CFG_HOSTS_MAX)
        return cfg_fail(bad, e, "topology", "hosts_per_leaf",
                        "leaves*hosts_per_leaf = %lld hosts, more than this build holds (%d)", n,
                        CFG_HOSTS_MAX);
    return 0;
}

/* An acknowledgement is smaller than a data packet. */
static int cfg_check_ack(const struct cfg *c, const struct opt_def **bad, struct err *e)
{
    if (c->tr.ack_bytes >= c->tr.mtu)
        return cfg_fail(bad, e, "transport", "ack_bytes",
                        "%lld is not less than transport.mtu (%lld)", (long long)c->tr.ack_bytes,
                        (long long)c->tr.mtu);
    return 0;
}

/* A coalesced acknowledgement carries the bytes it acknowledges in 16 bits. */
static int cfg_check_ack_every(const struct cfg *c, const struct opt_def **bad, struct err *e)
{
    if (c->tr.ack_every * c->tr.mtu > 65535)
        return cfg_fail(bad, e, "transport", "ack_every",
                        "%lld packets of transport.mtu %lld bytes are more than one "
                        "acknowledgement covers (65535 bytes)",
                        (long long)c->tr.ack_every, (long long)c->tr.mtu);
    return 0;
}

/* A window holds at least one packet (0 means automatic). */
static int cfg_check_window(const struct cfg *c, const struct opt_def **bad, struct err *e)
{
    if (c->tr.window_bytes != 0 && c->tr.window_bytes < c->tr.mtu)
        return cfg_fail(bad, e, "transport", "window_bytes",
                        "%lld is less than transport.mtu (%lld): use 0 (automatic) or at least "
                        "one packet",
                        (long long)c->tr.window_bytes, (long long)c->tr.mtu);
    return 0;
}

/* The time one host needs just to put its bytes on its link, over every
 * iteration, fits the clock (picoseconds, kept below 2^63 so that the
 * database's signed integers hold it). */
static int cfg_check_clock(const struct cfg *c, const struct opt_def **bad, struct err *e)
{
    double flows_per_host;
    if (c->wl.kind == WL_ALLTOALL)
        flows_per_host = (double)(cfg_hosts(c) - 1);
    else if (c->wl.kind == WL_PERMUTATION)
        flows_per_host = 1;
    else
        return 0; /* moe: the volume comes from the trace */
    double ps = (double)c->wl.bytes * flows_per_host * 8.0 / (c->topo.host_gbps * 1e9) * (double)PS_PER_S *
                (double)c->sim.iterations;
    double limit = (double)INT64_MAX;
    if (ps >= limit)
        return cfg_fail(bad, e, "workload", "bytes",
                        "a host needs at least %.3g s of simulated time to send its bytes, more "
                        "than the clock holds (%.3g s)",
                        ps / (double)PS_PER_S, limit / (double)PS_PER_S);
    return 0;
}

/* Messages each iteration of c's workload adds to the engine (0: not known
 * before the run, as for moe). */
static uint64_t cfg_msgs_per_iter(const struct cfg *c)
{
    uint64_t H = (uint64_t)cfg_hosts(c);
    if (c->wl.kind == WL_ALLTOALL) return H * (H - 1);
    if (c->wl.kind == WL_PERMUTATION) return H;
    return 0;
}

/* A window-limited flow delivers at most one window per round trip, so it
 * needs at least ceil(bytes / window) zero-load round trips (propagation
 * only): with a small explicit window and long links that alone can pass the
 * clock's end, which the serialization bound of cfg_check_clock misses. */
static int cfg_check_round_trips(const struct cfg *c, const struct opt_def **bad, struct err *e)
{
    if (c->tr.window_bytes == 0 || cfg_msgs_per_iter(c) == 0)
        return 0; /* the automatic window is one bandwidth-delay product */
    /* An all-to-all over several leaves has flows crossing the fabric;
     * otherwise the bound takes the shortest route a flow may have: under one
     * leaf, or over NVLink when servers hold several GPUs. The routes' delays
     * are the fabric's (topo_spec_route_prop_ps, the ports topo_build makes). */
    double route_ps;
    if (c->wl.kind == WL_ALLTOALL && c->topo.leaves > 1) {
        route_ps = (double)topo_spec_route_prop_ps(&c->topo, TOPO_ROUTE_FABRIC);
    } else {
        route_ps = (double)topo_spec_route_prop_ps(&c->topo, TOPO_ROUTE_LEAF);
        if (topo_spec_route(&c->topo, TOPO_ROUTE_NVLINK, (uint8_t[TOPO_ROUTE_MAX_PORTS]){0})) {
            double nvl = (double)topo_spec_route_prop_ps(&c->topo, TOPO_ROUTE_NVLINK);
            if (nvl < route_ps) route_ps = nvl;
        }
    }
    double rtt_ps = 2 * route_ps;
    uint64_t sub = c->tr.path == PATH_SPLIT ? (uint64_t)c->tr.subflows : 1;
    double flow_bytes = (double)c->wl.bytes / (double)sub;
    double rounds = ceil(flow_bytes / (double)c->tr.window_bytes);
    double ps = rounds * rtt_ps * (double)c->sim.iterations;
    double limit = (double)INT64_MAX;
    if (ps >= limit)
        return cfg_fail(bad, e, "transport", "window_bytes",
                        "a flow needs at least %.3g round trips of %.3g s with a window of %lld "
                        "bytes, %.3g s of simulated time, more than the clock holds (%.3g s)",
                        rounds * (double)c->sim.iterations, rtt_ps / (double)PS_PER_S,
                        (long long)c->tr.window_bytes, ps / (double)PS_PER_S,
                        limit / (double)PS_PER_S);
    return 0;
}

/* An all-to-all sends hosts_per_leaf*(hosts - hosts_per_leaf) flows out of
 * each leaf; even spread perfectly over every uplink they take at least
 * their bytes over spines*fabric_gbps, which must fit the clock (a slow
 * fabric under fast hosts passes cfg_check_clock). */
static int cfg_check_fabric_clock(const struct cfg *c, const struct opt_def **bad, struct err *e)
{
    if (c->wl.kind != WL_ALLTOALL || c->topo.leaves < 2) return 0;
    double hpl = (double)c->topo.hosts_per_leaf, H = (double)cfg_hosts(c);
    double bits = hpl * (H - hpl) * (double)c->wl.bytes * 8.0;
    double ps = bits / ((double)c->topo.spines * c->topo.fabric_gbps * 1e9) * (double)PS_PER_S *
                (double)c->sim.iterations;
    double limit = (double)INT64_MAX;
    if (ps >= limit)
        return cfg_fail(bad, e, "topology", "fabric_gbps",
                        "a leaf's uplinks need at least %.3g s of simulated time to carry its "
                        "bytes, more than the clock holds (%.3g s)",
                        ps / (double)PS_PER_S, limit / (double)PS_PER_S);
    return 0;
}

/* A phase's bytes (the phases table's `bytes`, the engine's byte counters)
 * fit a signed 64-bit integer. The engine gives each message slot a block of
 * transport.subflows flow ids (32-bit) and doubles its slots as a phase's
 * messages arrive, so a phase's flows stay below 2^31. */
static int cfg_check_totals(const struct cfg *c, const struct opt_def **bad, struct err *e)
{
    uint64_t msgs = cfg_msgs_per_iter(c);
    if (msgs == 0) return 0;
    if ((double)msgs * (double)c->wl.bytes >= (double)INT64_MAX)
        return cfg_fail(bad, e, "workload", "bytes",
                        "%llu flows of %lld bytes are %.3g bytes per phase, more than 2^63-1",
                        (unsigned long long)msgs, (long long)c->wl.bytes,
                        (double)msgs * (double)c->wl.bytes);
    uint64_t sub = c->tr.path == PATH_SPLIT ? (uint64_t)c->tr.subflows : 1;
    double flows = (double)msgs * (double)sub;
    if (flows >= (double)(1u << 31))
        return cfg_fail(bad, e, sub > 1 ? "transport" : "topology",
                        sub > 1 ? "subflows" : "hosts_per_leaf",
                        "%llu messages of %llu flows are %.3g flows in one phase, more than the "
                        "engine holds (2^31)",
                        (unsigned long long)msgs, (unsigned long long)sub, flows);
    return 0;
}

/* The fabric's path table fits its limit. */
static int cfg_check_topo(const struct cfg *c, const struct opt_def **bad, struct err *e)
{
    const struct opt_def *row = NULL;
    int rc = topo_check(&c->topo, &row, e);
    if (rc < 0 && bad) *bad = opt_of(row); /* topo's row -> opt_table's */
    return rc;
}

/* A lower bound of the memory the run needs, against the machine's: better
 * an error up front with the estimate than a run killed halfway. Counted,
 * each at the size of the struct that holds it (topo, the engine and the MoE
 * generator say): the fabric with the engine's state per port, the transport
 * flows (with their messages and demands) and the packets a window per flow
 * can keep in flight; for MoE, what its generator allocates up front. */
uint64_t cfg_memory_estimate(const struct cfg *c)
{
    /* In double: the products of hosts, iterations, subflows and windows
     * can pass 2^64 (then the estimate saturates). */
    double H = (double)cfg_hosts(c);
    double fabric =
        (double)(topo_memory_bytes(&c->topo) + topo_port_count(&c->topo) * eng_memory_per_port());
    if (c->wl.kind == WL_MOE) {
        /* topk 1 when it comes from the trace */
        double B = H * (double)c->wl.tokens_per_gpu;
        int K = c->wl.topk ? (int)c->wl.topk : 1;
        double total = fabric + B * (double)wl_moe_memory_per_token(K) +
                       H * H * (double)wl_moe_memory_per_gpu_pair();
        return total >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)total;
    }
    double msgs = c->wl.kind == WL_ALLTOALL ? H * (H - 1) : H;
    double sub = c->tr.path == PATH_SPLIT ? (double)c->tr.subflows : 1;
    double flows = msgs * sub;
    double window = c->tr.window_bytes ? (double)c->tr.window_bytes : (double)(1u << 20);
    double pkts_per_host = floor(window * (msgs / H) * sub / (double)c->tr.mtu) + 1;
    double link_pkts = floor(c->topo.host_gbps * 1e9 / 8 * 2e-6 / (double)c->tr.mtu) + 1;
    if (pkts_per_host > link_pkts * 64)
        pkts_per_host = link_pkts * 64; /* the NIC rate caps what is in flight */
    double total = fabric + flows * (double)eng_memory_per_flow() +
                   msgs * (double)(eng_memory_per_msg() + sizeof(struct topo_demand)) +
                   H * pkts_per_host * (double)eng_memory_per_packet();
    return total >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)total;
}

static int cfg_check_memory(const struct cfg *c, const struct opt_def **bad, struct err *e)
{
    double need = (double)cfg_memory_estimate(c);
    long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
    double have = pages > 0 && psize > 0 ? (double)pages * (double)psize : 0;
    int moe = c->wl.kind == WL_MOE;
    if (have > 0 && need > 0.9 * have)
        return cfg_fail(bad, e, moe ? "workload" : "topology",
                        moe ? "tokens_per_gpu" : "hosts_per_leaf",
                        "the run needs at least %.1f GiB of memory, this machine has %.1f GiB",
                        need / (1 << 30), have / (1 << 30));
    return 0;
}

static const cfg_check_fn cfg_checks[] = {
    cfg_check_hosts,        cfg_check_topo,   cfg_check_memory, cfg_check_ack,
    cfg_check_ack_every,    cfg_check_window, cfg_check_clock,  cfg_check_round_trips,
    cfg_check_fabric_clock, cfg_check_totals,
};

int cfg_validate(const struct cfg *c, const struct opt_def **bad, struct err *e)
{
    for (size_t i = 0; i < sizeof cfg_checks / sizeof cfg_checks[0]; i++)
        if (cfg_checks[i](c, bad, e) < 0) return -1;
    return 0;
}
