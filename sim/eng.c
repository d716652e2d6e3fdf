/* eng.c - the engines this build has, by sim.engine's value (see eng.h). */
#include "sim/eng.h"

#include "sim/flow_eng.h"
#include "sim/pkt_eng.h"
#include "topo/topo.h"

void (*eng_test_hook)(struct eng_stats *st);

/* Indexed by enum engine_kind. */
static const struct eng_ops *const engines[] = {
    [ENGINE_PACKET] = &pkt_eng_ops,
    [ENGINE_FLOW] = &flow_eng_ops,
};

const struct eng_ops *eng_ops_find(int kind)
{
    if (kind < 0 || (size_t)kind >= sizeof engines / sizeof engines[0]) return NULL;
    return engines[kind];
}

struct eng *eng_create(const struct topo *t, const struct tr_spec *tr, uint64_t seed,
                       const struct eng_hooks *h)
{
    return pkt_eng_ops.create(t, tr, seed, h);
}

struct eng *eng_create_kind(int kind, const struct topo *t, const struct tr_spec *tr, uint64_t seed,
                            const struct eng_hooks *h)
{
    const struct eng_ops *ops = eng_ops_find(kind);
    return ops ? ops->create(t, tr, seed, h) : NULL;
}

/* The longest route's unloaded round trip: a full packet out and its
 * acknowledgement back (on the trees host 0's route to the last host; on a
 * GraphML fabric the longest between leaves, path numbers up to 8), and in
 * *bps the host rate it runs at (on a GraphML fabric the fastest host
 * link's). */
simtime_t eng_base_rtt(const struct topo *t, uint32_t mtu, uint32_t ack, uint64_t *bps_out)
{
    uint32_t a = 0, b = t->hosts - 1; /* different leaves whenever there are two */
    simtime_t rtt = topo_path_latency(t, a, b, mtu) + topo_path_latency(t, b, a, ack);
    uint64_t bps = t->ports[t->host_up[a]].bps;
    if (t->planes > 1) bps = t->nic_bps; /* rail planes: the NIC's rate, over every plane */
    if (t->kind == TOPO_FILE) {
        /* a graph from a file: its routes and host links differ, so the
         * longest round trip between leaves (a host of each, path numbers
         * up to 8) and the fastest host */
        uint32_t np = t->npaths < 8 ? t->npaths : 8;
        uint32_t *first = xmalloc(((size_t)t->leaves + 1) * sizeof *first); /* a host of each */
        for (uint32_t h = t->hosts; h-- > 0;)
            first[t->host_leaf[h]] = h;
        for (uint32_t h = 0; h < t->hosts; h++)
            if (t->ports[t->host_up[h]].bps > bps) bps = t->ports[t->host_up[h]].bps;
        for (uint32_t la = 0; la < t->leaves; la++)
            for (uint32_t lb = 0; lb < t->leaves; lb++)
                for (uint32_t p = 0; p < np && la != lb; p++) {
                    uint32_t x[TOPO_ROUTE_MAX_PORTS], y[TOPO_ROUTE_MAX_PORTS];
                    uint32_t n = topo_route_ports(t, first[la], first[lb], p, x),
                             m = topo_route_ports(t, first[lb], first[la], p, y);
                    simtime_t r = 0;
                    for (uint32_t j = 0; j < n; j++)
                        r += t->ports[x[j]].lat_ps + ser_ps(mtu, t->ports[x[j]].bps);
                    for (uint32_t j = 0; j < m; j++)
                        r += t->ports[y[j]].lat_ps + ser_ps(ack, t->ports[y[j]].bps);
                    if (r > rtt) rtt = r;
                }
        free(first);
    }
    if (bps_out) *bps_out = bps;
    return rtt;
}

/* One bandwidth-delay product of the longest route (eng_base_rtt) at host
 * rate, rounded up to whole packets. */
uint64_t eng_default_window(const struct topo *t, uint32_t mtu, uint32_t ack)
{
    uint64_t bps;
    simtime_t rtt = eng_base_rtt(t, mtu, ack, &bps);
    unsigned __int128 bits = (unsigned __int128)rtt * bps;
    uint64_t bytes = (uint64_t)((bits + 8 * PS_PER_S - 1) / (8 * PS_PER_S));
    uint64_t pkts = (bytes + mtu - 1) / mtu;
    return (pkts ? pkts : 1) * mtu;
}

uint32_t eng_ack_group(const struct topo *t, const struct tr_spec *c)
{
    uint64_t every = c->ack_every > 1 ? (uint64_t)c->ack_every : 1;
    if (every == 1) return 1;
    uint64_t mtu = (uint64_t)c->mtu;
    uint64_t w = c->window_bytes ? (uint64_t)c->window_bytes
                                 : eng_default_window(t, (uint32_t)mtu, (uint32_t)c->ack_bytes) +
                                       (every - 1) * mtu;
    uint64_t half = (w + 2 * mtu - 1) / (2 * mtu); /* packets until 2 * unacked >= window */
    if (half < 1) half = 1;
    return (uint32_t)(half < every ? half : every);
}
