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
#include <stdlib.h>
#include <string.h>

#include "app/scenario.h"
#include "base/units.h"
#include "sim/eng.h"
#include "topo/topo.h"
#include "workloads/wl.h"
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
    if (c->topo.kind == TOPO_RAIL) { /* GPUs: 2 or more per server, or cfg_check_topo refuses */
        if (c->topo.gpus_per_host > 1 && n > CFG_HOSTS_MAX)
            return cfg_fail(bad, e, "topology", "servers_per_group",
                            "groups*servers_per_group*gpus_per_host = %lld hosts, more than this "
                            "build holds (%d)",
                            n, CFG_HOSTS_MAX);
        return 0;
    }
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

/* The flow engine (sim.engine = flow) models no window: a scenario that
 * sets one is asking for the packet engine, and is refused before anything
 * runs. (Coalesced acknowledgements, transport.ack_every, it models: their
 * weight on the reverse links, eng_ack_group.) */
static int cfg_check_flow_engine(const struct cfg *c, const struct opt_def **bad, struct err *e)
{
    if (c->sim.engine != ENGINE_FLOW) return 0;
    if (c->tr.path == PATH_FLOWLET)
        return cfg_fail(
            bad, e, "transport", "path",
            "flowlet needs packets (gaps between them): it runs on sim.engine = packet");
    if (c->tr.window_bytes != 0)
        return cfg_fail(bad, e, "transport", "window_bytes",
                        "the flow engine models no window (sim.engine = flow)");
    if (c->tr.cc != CC_WINDOW)
        return cfg_fail(bad, e, "transport", "cc",
                        "%s needs packets and queues: it runs on sim.engine = packet",
                        opt_enum_name("transport", "cc", c->tr.cc));
    if (c->tr.sw.ecn_kmax_bytes != 0)
        return cfg_fail(bad, e, "switch", "ecn_kmax_bytes",
                        "the flow engine models no queues and no ECN marks (sim.engine = flow)");
    if (c->tr.recovery != REC_NONE)
        return cfg_fail(bad, e, "transport", "recovery",
                        "the flow engine has no loss recovery (sim.engine = flow: it loses bytes "
                        "only at a failing link, and resends them by its own model): loss "
                        "recovery runs on sim.engine = packet");
    if (c->tr.sw.ctrl_priority)
        return cfg_fail(bad, e, "switch", "ctrl_priority",
                        "the flow engine models no queues and no packets (sim.engine = flow): "
                        "control packets' priority runs on sim.engine = packet");
    return 0;
}

/* [switch] and the congestion control that reads its marks
 * (docs/transports.md): thresholds in order, a probability that marks, and
 * no finite buffer while nothing recovers a loss. */
static int cfg_check_switch(const struct cfg *c, const struct opt_def **bad, struct err *e)
{
    const struct sw_spec *s = &c->tr.sw;
    if (s->buffer_bytes != 0 && c->tr.recovery == REC_NONE)
        return cfg_fail(bad, e, "switch", "buffer_bytes",
                        "a finite buffer drops packets, and transport.recovery = none recovers "
                        "nothing: set transport.recovery = goback_n or selective");
    if (s->buffer_bytes != 0 && s->buffer_bytes < c->tr.mtu)
        return cfg_fail(bad, e, "switch", "buffer_bytes",
                        "%lld holds no packet of transport.mtu (%lld bytes)",
                        (long long)s->buffer_bytes, (long long)c->tr.mtu);
    if (s->shared_alpha > 0 && s->buffer_bytes == 0)
        return cfg_fail(bad, e, "switch", "shared_alpha",
                        "a shared buffer needs its size: set switch.buffer_bytes (each switch's)");
    if (s->trim && s->buffer_bytes == 0)
        return cfg_fail(bad, e, "switch", "trim",
                        "trimming acts on a full buffer, and switch.buffer_bytes = 0 (unbounded)");
    if (s->ecn_kmin_bytes > s->ecn_kmax_bytes)
        return cfg_fail(bad, e, "switch", "ecn_kmin_bytes",
                        "%lld is more than switch.ecn_kmax_bytes (%lld)",
                        (long long)s->ecn_kmin_bytes, (long long)s->ecn_kmax_bytes);
    if (!(s->ecn_pmax > 0))
        return cfg_fail(bad, e, "switch", "ecn_pmax",
                        "%g marks nothing: the probability at switch.ecn_kmax_bytes is in (0, 1]",
                        s->ecn_pmax);
    if ((c->tr.cc == CC_DCTCP || c->tr.cc == CC_DCQCN) && s->ecn_kmax_bytes == 0)
        return cfg_fail(bad, e, "transport", "cc",
                        "%s reacts to ECN marks, and no switch marks: set "
                        "switch.ecn_kmax_bytes (and switch.ecn_kmin_bytes)",
                        opt_enum_name("transport", "cc", c->tr.cc));
    if (c->tr.cc == CC_NSCC && s->ecn_kmax_bytes == 0)
        return cfg_fail(bad, e, "transport", "cc",
                        "nscc decreases its window only on ECN-marked acknowledgements, and no "
                        "switch marks: set switch.ecn_kmax_bytes (and switch.ecn_kmin_bytes)");
    if (c->tr.cc == CC_NSCC && c->tr.window_bytes != 0)
        return cfg_fail(bad, e, "transport", "window_bytes",
                        "nscc sizes its own windows (transport.nscc_max_bdp): leave window_bytes "
                        "at 0");
    const struct dcqcn_spec *d = &c->tr.dcqcn;
    if (c->tr.cc == CC_DCQCN && d->alpha_timer_ns <= d->cnp_interval_ns)
        return cfg_fail(
            bad, e, "transport", "dcqcn_alpha_timer_ns",
            "%lld is not more than transport.dcqcn_cnp_interval_ns (%lld): alpha would "
            "decay between two CNPs of a flow congested throughout (DCQCN paper: K > N)",
            (long long)d->alpha_timer_ns, (long long)d->cnp_interval_ns);
    return 0;
}

/* Loss recovery (transport.recovery, sim/pkt_loss.c) acknowledges every
 * packet: its acks carry the cumulative point and one packet's SACK, and
 * echo a mark in one bit. It runs under every cc, with switch.pfc and on
 * a rail's planes. */
static int cfg_check_recovery(const struct cfg *c, const struct opt_def **bad, struct err *e)
{
    if (c->tr.recovery != REC_NONE && c->tr.ack_every != 1)
        return cfg_fail(bad, e, "transport", "ack_every",
                        "%lld: loss recovery (transport.recovery = %s) acknowledges every packet: "
                        "use 1",
                        (long long)c->tr.ack_every,
                        opt_enum_name("transport", "recovery", c->tr.recovery));
    return 0;
}

/* PFC (docs/transports.md, sim/pkt_pfc.c): the packet engine's, with its
 * hysteresis in order and its per-ingress share (XOFF + headroom) within a
 * finite buffer; on rail planes each NIC plane port is paused on its own. */
static int cfg_check_pfc(const struct cfg *c, const struct opt_def **bad, struct err *e)
{
    const struct sw_spec *s = &c->tr.sw;
    if (!s->pfc) return 0;
    if (c->sim.engine == ENGINE_FLOW)
        return cfg_fail(bad, e, "switch", "pfc",
                        "the flow engine models no queues and no pauses (sim.engine = flow)");
    if (s->trim)
        return cfg_fail(bad, e, "switch", "trim",
                        "PFC is lossless (switch.pfc = true): no buffer overflows, nothing to "
                        "trim");
    if (s->pfc_xon_bytes >= s->pfc_xoff_bytes)
        return cfg_fail(bad, e, "switch", "pfc_xon_bytes",
                        "%lld is not less than switch.pfc_xoff_bytes (%lld)",
                        (long long)s->pfc_xon_bytes, (long long)s->pfc_xoff_bytes);
    if (s->buffer_bytes != 0 && s->pfc_xoff_bytes + s->pfc_headroom_bytes > s->buffer_bytes)
        return cfg_fail(bad, e, "switch", "buffer_bytes",
                        "%lld is less than switch.pfc_xoff_bytes + switch.pfc_headroom_bytes "
                        "(%lld + %lld): PFC is lossless only if each ingress's share fits",
                        (long long)s->buffer_bytes, (long long)s->pfc_xoff_bytes,
                        (long long)s->pfc_headroom_bytes);
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

/* The workload's specs, as a workload reads them (wl.h). */
static struct wl_specs cfg_wl_specs(const struct cfg *c)
{
    return (struct wl_specs){&c->wl, &c->pl, &c->sim, &c->tr, &c->out};
}

/* The most subflows ethereal gives one message: from the spec on the trees
 * and rails; on a file fabric the spec does not know the source's choices
 * (eth_max_subflows: a GraphML tree whose cores also choose among a pod's
 * aggregation switches has 16 x 16 x 16 paths, of which the source splits
 * for its own 16 x 16, where the spec's count of transit switches says
 * 48), so the fabric is built to count them. */
static double cfg_eth_subflows(const struct cfg *c)
{
    if (c->topo.kind != TOPO_FILE) return (double)eth_max_subflows_spec(&c->topo);
    struct topo *t;
    struct err e;
    if (topo_build(&c->topo, &t, &e) < 0) return (double)eth_max_subflows_spec(&c->topo);
    double n = (double)eth_max_subflows(t);
    topo_destroy(t);
    return n;
}

/* A lower bound of the memory the run needs, against the machine's: better
 * an error up front with the estimate than a run killed halfway. Counted,
 * each at the size of the struct that holds it (topo, the engine and the
 * workload say): the fabric with the engine's state per port, what the
 * workload's generator allocates, and for the messages of a network task
 * when the workload knows them (wl_footprint) their transport flows, their
 * messages and demands, and the packets a window per flow can keep in flight;
 * with sim.engine = flow, the messages alive and their fluid subs with their
 * link uses (eng_memory_flow_sub). */
uint64_t cfg_memory_estimate(const struct cfg *c)
{
    /* In double: the products of hosts, iterations, subflows and windows
     * can pass 2^64 (then the estimate saturates). */
    struct wl_specs ws = cfg_wl_specs(c);
    struct wl_footprint f;
    wl_footprint(&ws, &c->topo, &f);
    double H = (double)cfg_hosts(c), msgs = f.msgs;
    double fabric =
        (double)(topo_memory_bytes(&c->topo) + topo_port_count(&c->topo) * eng_memory_per_port());
    double total = fabric + f.state_bytes;
    if (c->sim.engine == ENGINE_FLOW) {
        /* the flow engine holds the messages alive and their fluid subs
         * (what ended is dropped): a task's messages when known, else those
         * the workload has at least alive at once (a MoE chunk's all-to-all) */
        double alive = msgs > 0 ? msgs : f.msgs_alive;
        double sub = c->tr.path == PATH_SPLIT      ? (double)c->tr.subflows
                     : c->tr.path == PATH_ETHEREAL ? cfg_eth_subflows(c)
                                                   : 1;
        total += alive * (double)(eng_memory_flow_msg() + sizeof(struct topo_demand));
        total += alive * sub * (double)eng_memory_flow_sub(eng_flow_uses_spec(&c->topo, &c->tr));
    } else if (msgs > 0) {
        double sub = c->tr.path == PATH_SPLIT ? (double)c->tr.subflows : 1;
        if (c->tr.path == PATH_ETHEREAL) /* a block of npaths flows per message */
            sub = cfg_eth_subflows(c);
        double flows = msgs * sub;
        double window = c->tr.window_bytes ? (double)c->tr.window_bytes : (double)(1u << 20);
        double pkts_per_host = floor(window * (msgs / H) * sub / (double)c->tr.mtu) + 1;
        double link_pkts = floor(c->topo.host_gbps * 1e9 / 8 * 2e-6 / (double)c->tr.mtu) + 1;
        if (pkts_per_host > link_pkts * 64)
            pkts_per_host = link_pkts * 64; /* the NIC rate caps what is in flight */
        total += flows * (double)eng_memory_per_flow_tr(&c->tr);
        total += msgs * (double)(eng_memory_per_msg() + sizeof(struct topo_demand));
        total += H * pkts_per_host * (double)eng_memory_per_packet();
    }
    return total >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)total;
}

static int cfg_check_memory(const struct cfg *c, const struct opt_def **bad, struct err *e)
{
    double need = (double)cfg_memory_estimate(c);
    long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
    double have = pages > 0 && psize > 0 ? (double)pages * (double)psize : 0;
    struct wl_specs ws = cfg_wl_specs(c);
    struct wl_footprint f;
    wl_footprint(&ws, &c->topo, &f);
    const struct opt_def *key = f.key;
    const char *kname = key ? key->key : "kind";
    if (c->topo.kind == TOPO_RAIL && !strcmp(kname, "hosts_per_leaf"))
        kname = "servers_per_group"; /* a rail's hosts per leaf (topo_spec_resolve) */
    if (have > 0 && need > 0.9 * have && c->tr.path == PATH_ETHEREAL) {
        /* ethereal's subflows alone (a file fabric's many paths): say so */
        struct cfg *alt = malloc(sizeof *alt);
        int eth = 0;
        if (alt) {
            *alt = *c;
            alt->tr.path = PATH_ECMP;
            eth = (double)cfg_memory_estimate(alt) <= 0.9 * have;
            free(alt);
        }
        if (eth)
            return cfg_fail(bad, e, "transport", "path",
                            "ethereal splits a message into up to %.0f subflows on this fabric: "
                            "the run needs at least %.1f GiB of memory, this machine has %.1f GiB",
                            cfg_eth_subflows(c), need / (1 << 30), have / (1 << 30));
    }
    if (have > 0 && need > 0.9 * have)
        return cfg_fail(bad, e, key ? key->section : "workload", kname,
                        "the run needs at least %.1f GiB of memory, this machine has %.1f GiB",
                        need / (1 << 30), have / (1 << 30));
    return 0;
}

/* The workload's own checks (the clock, the counters: wl.h), last. */
static int cfg_check_workload(const struct cfg *c, const struct opt_def **bad, struct err *e)
{
    struct wl_specs ws = cfg_wl_specs(c);
    const struct opt_def *row = NULL;
    int rc = wl_check(&ws, &c->topo, &row, e);
    if (rc < 0 && bad && row) *bad = opt_of(row); /* the module's row -> opt_table's */
    return rc;
}

/* Links that fail during the run (faults.fail) lose what they hold: the
 * packet engine's (sim/pkt_fault.c) with loss recovery, the flow engine's
 * (sim/flow_fault.c) by its own model. */
static int cfg_check_fail(const struct cfg *c, const struct opt_def **bad, struct err *e)
{
    if (!topo_faults_any_timed(&c->topo.faults)) return 0;
    /* the flow engine resends what a failure loses by its own model
     * (sim/flow_fault.c), without loss recovery's packets; rail planes
     * included (a GPU's plane link too: the pair's planes move at the
     * reroute, docs/flow-engine.md) */
    if (c->sim.engine == ENGINE_FLOW) return 0;
    if (c->tr.recovery == REC_NONE)
        return cfg_fail(bad, e, "faults", "fail",
                        "a failing link loses the packets it holds, and transport.recovery = none "
                        "recovers nothing: set transport.recovery = goback_n or selective");
    return 0;
}

static const cfg_check_fn cfg_checks[] = {
    cfg_check_hosts,     cfg_check_topo,   cfg_check_memory,      cfg_check_ack,
    cfg_check_ack_every, cfg_check_window, cfg_check_flow_engine, cfg_check_pfc,
    cfg_check_switch,    cfg_check_fail,   cfg_check_recovery,    cfg_check_workload,
};

int cfg_validate(const struct cfg *c, const struct opt_def **bad, struct err *e)
{
    for (size_t i = 0; i < sizeof cfg_checks / sizeof cfg_checks[0]; i++)
        if (cfg_checks[i](c, bad, e) < 0) return -1;
    return 0;
}
