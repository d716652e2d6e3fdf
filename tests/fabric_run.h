/* fabric_run.h - shared by the file-fabric tests (test_fabric_file.c,
 * test_fabric_shapes.c): a spec for a fabric file, a run of demands from
 * time 0 that checks the engine's invariants, delivery and every switch's
 * bytes in = out, and the store-and-forward time of a route by hand. */
#ifndef MOESIM_TESTS_FABRIC_RUN_H
#define MOESIM_TESTS_FABRIC_RUN_H

#include "testutil.h"

#include "sim/eng.h"
#include "topo/topo.h"

static simtime_t last_end;
static void on_done(void *ctx, struct eng *e, uint64_t tag, simtime_t start, simtime_t end,
                    const struct res_flow_loss *loss)
{
    (void)loss;
    (void)ctx, (void)e, (void)tag, (void)start;
    if (end > last_end) last_end = end;
}

static const int paths[] = {PATH_ECMP, PATH_SPRAY, PATH_SPRAY_RR, PATH_SPLIT, PATH_ADAPTIVE};

static void file_spec(struct cfg *c, const char *path)
{
    cfg_defaults(c);
    c->topo.kind = TOPO_FILE;
    snprintf(c->topo.file, sizeof c->topo.file, "%s", path);
    topo_spec_resolve(&c->topo);
}

/* Runs demands from time 0: the engine's invariants, every byte delivered
 * and every switch sending on the bytes it receives. */
static simtime_t run(const struct topo *t, const struct cfg *c, const struct topo_demand *d,
                     size_t n)
{
    struct eng_hooks h = {NULL, on_done};
    struct eng *e = eng_create(t, &c->tr, (uint64_t)c->sim.seed, &h);
    last_end = 0;
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        eng_add_msg(e, d[i].src, d[i].dst, d[i].bytes, 0, i);
        total += d[i].bytes;
    }
    eng_run(e);
    char msg[384];
    if (eng_check(e, msg, sizeof msg) < 0) fail_msg("%s", msg);
    assert_int_equal(eng_stats(e)->data_bytes_delivered, total);
    uint64_t *in = xcalloc(t->nswitches, sizeof *in), *out = xcalloc(t->nswitches, sizeof *out);
    for (uint32_t p = 0; p < t->nports; p++) {
        const struct topo_port *tp = &t->ports[p];
        uint64_t b = eng_port(e, p)->bytes;
        if (tp->dst >= t->hosts && tp->dst < t->hosts + t->nswitches) in[tp->dst - t->hosts] += b;
        if (tp->src >= t->hosts && tp->src < t->hosts + t->nswitches) out[tp->src - t->hosts] += b;
    }
    for (uint32_t s = 0; s < t->nswitches; s++)
        if (in[s] != out[s])
            fail_msg("switch row %u: %llu bytes in, %llu out", s, (unsigned long long)in[s],
                     (unsigned long long)out[s]);
    free(in);
    free(out);
    eng_destroy(e);
    return last_end;
}

/* Store and forward, FIFO, by hand over the ports of a route. */
static simtime_t by_hand(const struct topo *t, const uint32_t *ports, uint32_t n, uint64_t size,
                         uint64_t mtu)
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
