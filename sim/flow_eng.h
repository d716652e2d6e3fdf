/* flow_eng.h - the flow engine (sim.engine = flow): a max-min fair fluid
 * model on the packet engine's fabric and paths. Its state, shared by its
 * files (other modules use it through sim/eng.h).
 *
 * A message becomes one or more fluid flows ("subs"), each on a set of
 * links with a weight per link: 1 on the links its data crosses, 1/npaths
 * on each fabric link for the spreading modes (spray, spray_rr, adaptive:
 * equal shares over the equal-cost paths), and the acknowledgements' share
 * (ack_bytes / mtu of the data rate) on the reverse links. Rates are the
 * weighted max-min fair allocation (progressive filling, flow_maxmin.c),
 * recomputed when a sub starts or ends over the connected component of
 * links and subs that the change touches, once per instant. A message ends
 * when its last sub's fluid bytes are through plus the zero-load latency of
 * its first packet after the first hop (topo_path_latency), so a lone flow
 * ends when the packet engine's does.
 *
 * Files: flow_eng.c (create, reset, event loop, counters, table of
 * functions), flow_maxmin.c (component search and progressive filling).
 */
#ifndef MOESIM_FLOW_ENG_H
#define MOESIM_FLOW_ENG_H

#include "base/evq.h"
#include "sim/eng.h"

extern const struct eng_ops flow_eng_ops;

#define FL_NONE UINT32_MAX
#define FL_NOEV UINT64_MAX

/* A sub's use of one link. */
struct fl_use {
    uint32_t link;
    uint32_t pos;   /* its index in the link's list of subs */
    double w;       /* link bytes per data byte (bytes / the sub's size) */
    uint64_t bytes; /* bytes the sub puts on the link in all */
};

struct fl_link {
    double cap;     /* bytes per ps */
    uint32_t *subs; /* active subs on it */
    uint32_t n, capn;
    uint64_t done; /* bytes of ended subs (data and acknowledgements) */
    /* progressive filling's scratch */
    double rem, sumw;
    uint32_t mark, nun; /* nun: unfrozen subs on it */
};

struct fl_sub {
    double left; /* data bytes still to send at t_upd */
    double rate; /* data bytes per ps */
    simtime_t t_upd;
    uint64_t size;
    simtime_t tend; /* its end at its current rate */
    uint32_t apos;  /* its index in e->act while active */
    simtime_t tail; /* latency of its first packet after its first hop */
    uint32_t msg;
    uint32_t use0, nuse; /* its links: e->uses[use0 .. use0+nuse) */
    uint32_t mark;
    uint8_t active, frozen;
};

struct fl_msg {
    uint64_t tag;
    simtime_t start, end; /* end: latest end (fluid end + tail) of its subs so far */
    uint32_t src, dst;
    uint32_t sub0, nsub, left;
};

struct flow_eng {
    struct eng base;
    struct eng_hooks hooks;
    struct evq q;
    struct fl_link *links;
    struct fl_sub *subs;
    uint32_t nsubs, capsubs;
    struct fl_use *uses;
    uint32_t nuses, capuses;
    struct fl_msg *msgs;
    uint32_t nmsgs, capmsgs;
    uint32_t live_subs;
    uint32_t *act; /* the active subs [live_subs] */
    uint32_t capact;
    uint64_t end_seq; /* the pending end event (the earliest tend), FL_NOEV: none */
    simtime_t end_at;
    int path;
    uint32_t subflows, mtu, ack_bytes;
    uint64_t seed, base_seed;
    simtime_t now;
    struct eng_stats st;
    struct res_port_stats *pst;
    /* links whose subs changed at this instant */
    uint32_t *touched;
    uint32_t ntouched, captouched;
    uint32_t epoch;
    /* scratch of a recompute: the component's links and subs */
    uint32_t *cl, *cs;
    uint32_t capcl, capcs;
    uint64_t recomputes, filled_subs;
    simtime_t sample_period;
    eng_sample_fn sample_fn;
    void *sample_ctx;
};

static inline struct flow_eng *flow_eng_of(struct eng *e)
{
    return (struct flow_eng *)e;
}
static inline const struct flow_eng *flow_eng_ofc(const struct eng *e)
{
    return (const struct flow_eng *)e;
}

/* flow_maxmin.c: new max-min rates for the component of the touched links,
 * at e->now, and each of its subs' end at its rate (tend). */
void flow_maxmin_update(struct flow_eng *e);

enum { FEV_START = 0, FEV_END, FEV_DONE, FEV_SAMPLE };

#endif
