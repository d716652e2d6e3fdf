/* fabric_run.h - shared by the fabric tests (test_fabric_file.c,
 * test_fabric_shapes.c, test_fat_tree.c, test_faults.c, test_rail.c,
 * test_rail_planes.c, test_pathmodes.c; flow_run.h takes its ends; the
 * fabrics' specs are fabric_spec.h's): each message's end and the last,
 * the path modes, an all-to-all's demands, a run of demands from time 0
 * that checks the engine's invariants, delivery, no byte on a down port
 * and (packet engine) every switch's bytes in = out, NVLink switches
 * included, and keeps each port's and each port kind's bytes; the ideal
 * bound a run is held to; and the store-and-forward time of a route by
 * hand. */
#ifndef MOESIM_TESTS_FABRIC_RUN_H
#define MOESIM_TESTS_FABRIC_RUN_H

#include "fabric_spec.h"

#include "sim/eng.h"
#include "sim/ethereal.h"
#include "topo/topo.h"

/* ends[tag]: when message `tag` ended (tags from MAXM on are not kept);
 * last_end: the last end since it was set to 0. */
#define MAXM 1024
static simtime_t ends[MAXM], last_end;
static inline void on_done(void *ctx, struct eng *e, uint64_t tag, simtime_t start, simtime_t end,
                           const struct res_flow_loss *loss)
{
    (void)loss;
    (void)ctx, (void)e, (void)start;
    if (tag < MAXM) ends[tag] = end;
    if (end > last_end) last_end = end;
}

/* the modes every fabric routes; all_paths: every path mode */
static const int paths[] = {PATH_ECMP, PATH_SPRAY, PATH_SPRAY_RR, PATH_SPLIT, PATH_ADAPTIVE};
static const int all_paths[] = {PATH_ECMP,     PATH_SPRAY,   PATH_SPRAY_RR, PATH_SPLIT,
                                PATH_ADAPTIVE, PATH_FLOWLET, PATH_ETHEREAL};
#define NPATHS ((int)(sizeof all_paths / sizeof all_paths[0]))

/* Every pair of distinct hosts in order (source-major) into d, the pair
 * (a, b) base + ka a + kb b bytes; returns their number (hosts^2 - hosts). */
static inline size_t all_to_all(const struct topo *t, uint64_t base, uint64_t ka, uint64_t kb,
                                struct topo_demand *d)
{
    size_t n = 0;
    for (uint32_t a = 0; a < t->hosts; a++)
        for (uint32_t b = 0; b < t->hosts; b++)
            if (a != b) d[n++] = (struct topo_demand){a, b, base + ka * a + kb * b};
    return n;
}

/* The last run's bytes (data and acknowledgements) per port and per port
 * kind. */
static uint64_t *port_bytes, kind_bytes[TP_KIND_COUNT];

/* Runs demands from time 0 on engine `kind` (message i tagged i; ends
 * cleared): the engine's invariants, every byte delivered, no byte on a
 * down port and, on the packet engine, every switch (NVLink switches
 * included) sending on exactly the bytes it receives. Returns the last
 * end. */
static inline simtime_t run_kind(int kind, const struct topo *t, const struct cfg *c,
                                 const struct topo_demand *d, size_t n)
{
    struct eng_hooks h = {NULL, on_done};
    struct eng *e = eng_create_kind(kind, t, &c->tr, (uint64_t)c->sim.seed, &h);
    last_end = 0;
    memset(ends, 0, sizeof ends);
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        eng_add_msg(e, d[i].src, d[i].dst, d[i].bytes, 0, i);
        total += d[i].bytes;
    }
    eng_run(e);
    char msg[384];
    if (eng_check(e, msg, sizeof msg) < 0) fail_msg("%s", msg);
    assert_int_equal(eng_stats(e)->data_bytes_delivered, total);
    uint32_t nodes = 0; /* the switches', every node after the hosts */
    for (uint32_t p = 0; p < t->nports; p++) {
        uint32_t top = t->ports[p].src > t->ports[p].dst ? t->ports[p].src : t->ports[p].dst;
        if (top >= t->hosts && top - t->hosts + 1 > nodes) nodes = top - t->hosts + 1;
    }
    uint64_t *in = xcalloc(nodes + 1, sizeof *in), *out = xcalloc(nodes + 1, sizeof *out);
    free(port_bytes);
    port_bytes = xcalloc(t->nports + 1, sizeof *port_bytes);
    memset(kind_bytes, 0, sizeof kind_bytes);
    for (uint32_t p = 0; p < t->nports; p++) {
        const struct topo_port *tp = &t->ports[p];
        uint64_t b = eng_port(e, p)->bytes;
        port_bytes[p] = b;
        kind_bytes[tp->kind] += b;
        if (tp->down && b) fail_msg("down port %u carried %llu bytes", p, (unsigned long long)b);
        if (tp->dst >= t->hosts) in[tp->dst - t->hosts] += b;
        if (tp->src >= t->hosts) out[tp->src - t->hosts] += b;
    }
    if (kind == ENGINE_PACKET)
        for (uint32_t s = 0; s < nodes; s++)
            if (in[s] != out[s])
                fail_msg("switch row %u: %llu bytes in, %llu out", s, (unsigned long long)in[s],
                         (unsigned long long)out[s]);
    free(in);
    free(out);
    eng_destroy(e);
    return last_end;
}

/* run_kind on the packet engine. */
static inline simtime_t run(const struct topo *t, const struct cfg *c, const struct topo_demand *d,
                            size_t n)
{
    return run_kind(ENGINE_PACKET, t, c, d, n);
}

/* The ideal bound of demands at c's MTU: ethereal's over its assigned
 * subflows, split's over its subflows, else one path a message. */
static inline simtime_t ideal(const struct topo *t, const struct cfg *c,
                              const struct topo_demand *d, size_t n)
{
    if (c->tr.path == PATH_ETHEREAL) return eth_ideal_ps(t, d, n, (uint32_t)c->tr.mtu);
    return topo_ideal_ps(t, d, n, (uint32_t)c->tr.mtu,
                         c->tr.path == PATH_SPLIT ? (uint32_t)c->tr.subflows : 1);
}

/* Store and forward, FIFO, by hand over the ports of a route. */
static inline simtime_t by_hand(const struct topo *t, const uint32_t *ports, uint32_t n,
                                uint64_t size, uint64_t mtu)
{
    simtime_t left[TOPO_ROUTE_MAX_PORTS] = {0}, want = 0;
    for (uint64_t sent = 0; sent < size;) {
        uint64_t b = size - sent < mtu ? size - sent : mtu;
        simtime_t at = 0;
        for (uint32_t j = 0; j < n; j++) {
            const struct topo_port *p = &t->ports[ports[j]];
            simtime_t start = at > left[j] ? at : left[j];
            left[j] = start + ser_ps(b, p->bps);
            at = left[j] + p->lat_ps;
        }
        want = at;
        sent += b;
    }
    return want;
}

#endif
