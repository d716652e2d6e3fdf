/* flow_eng.h - the flow engine (sim.engine = flow): a max-min fair fluid
 * model on the packet engine's fabric and paths. Its state, shared by its
 * files (other modules use it through sim/eng.h).
 *
 * A message becomes one or more fluid flows ("subs"), each on a set of
 * links with a weight per link: 1 on the links its data crosses, 1/npaths
 * on each fabric link for the spreading modes (spray, spray_rr, adaptive:
 * equal shares over the equal-cost paths), and its acknowledgements' uses
 * on the reverse links, which count bytes but constrain no rate: a link
 * that carries acknowledgements keeps a reserve for them instead (flow_ack.c,
 * flow_ack_mode). Rates are the
 * weighted max-min fair allocation (progressive filling, flow_maxmin.c),
 * re-solved once per instant at which subs start or end, over only the subs
 * whose rate can change (those at or above the least rate that ended or the
 * least a new sub can get, connected to the links that changed). A message ends
 * when its last sub's fluid bytes are through plus the zero-load latency of
 * its first packet after the first hop (topo_path_latency), so a lone flow
 * ends when the packet engine's does.
 *
 * Files: flow_eng.c (create, reset, event loop, counters, table of
 * functions), flow_maxmin.c (the selective re-solve, the heap of ends),
 * flow_fault.c (links that fail during a run, faults.fail), flow_group.c
 * (the spreading modes' equal links merged: a leaf's uplinks, the
 * downlinks into a leaf), flow_alone.c (with deferred re-solves, subs alone
 * on their links started and ended without a re-solve).
 */
#ifndef MOESIM_FLOW_ENG_H
#define MOESIM_FLOW_ENG_H

#include "base/err.h"
#include "base/evq.h"
#include "sim/eng.h"

extern const struct eng_ops flow_eng_ops;

#define FL_NONE UINT32_MAX
#define FL_NOEV UINT64_MAX

/* A sub's use of one link. */
struct fl_use {
    uint32_t link;
    uint32_t sub;   /* the sub it belongs to */
    uint32_t pos;   /* its index in the link's list while the sub is active */
    double w;       /* link bytes per data byte (bytes / the sub's size) */
    uint64_t bytes; /* bytes the sub puts on the link in all */
};

/* An entry of the heap of ends: a sub and its end (its tend). */
struct fl_hent {
    simtime_t t;
    uint32_t si;
};

/* fep[] of an ended sub whose uses a deferred engine leaves in the links'
 * lists until a full re-solve drops them. */
#define FL_DEAD UINT32_MAX

struct fl_link {
    double cap;     /* bytes per ps */
    uint32_t *uses; /* the active subs' uses of it (indices into e->uses) */
    uint32_t *sid;  /* the sub of each of those uses (uses[j]'s sub), for full re-solves */
    uint32_t n, capn;
    uint32_t tgen; /* e->tgen when it was last put in e->touched */
    /* flow_ack.c: the active subs' acknowledgement uses on it (indices into
     * e->uses; not constraints), and its capacity without a reserve */
    uint32_t *au;
    uint32_t na, capna;
    double cap0;
    uint32_t nlive; /* its active subs' uses (n less the ended ones a deferred engine keeps) */
    uint64_t done;  /* bytes of ended subs (data and acknowledgements) */
    double load;    /* sum of w * rate over its active subs with a rate */
    double wsum;    /* sum of w over all its active subs */
    double freed;   /* load of the subs ended since the last re-solve */
    /* a re-solve's scratch: its candidate subs are csr[off, off + cnt) */
    double rem, sumw;
    uint32_t mark, nun, off, cnt; /* nun: unfrozen subs on it */
    uint32_t inul;                /* in e->ul (flow_maxmin.c) */
};

/* A link's fields that a deferred full re-solve's filling updates, apart
 * (flow_maxmin.c full_update). */
struct fl_lhot {
    double rem, sumw, load;
    uint32_t nun, pad;
};

struct fl_sub {
    /* (what the re-solves and the ends read first, together: a sub's first
     * 56 bytes) */
    double left;  /* data bytes still to send at t_upd */
    double rate;  /* data bytes per ps since t_upd */
    double nrate; /* a re-solve's new rate */
    simtime_t t_upd;
    simtime_t tend;                /* its end at its current rate */
    uint32_t use0, nuse;           /* its data links: e->uses[use0 .. use0+nuse) (the solver's) */
    uint32_t apos;                 /* its index in e->act while active */
    uint8_t active, frozen, fresh; /* fresh: started, no rate yet */
    uint8_t ended;                 /* its bytes are through: flow_compact drops it */
    uint32_t hpos; /* its index in the heap of ends while active (FL_NONE: not in it) */
    uint32_t msg;
    uint64_t size;
    simtime_t tail;       /* latency of its first packet after its first hop */
    simtime_t t0;         /* when it started */
    uint32_t nack;        /* its acknowledgements' uses, after those (flow_ack.c) */
    uint32_t mark, reach; /* epochs: a re-solve's candidate, reached from a change */
};

struct fl_msg {
    uint64_t tag;
    simtime_t start, end; /* end: latest end (fluid end + tail) of its subs so far */
    uint32_t src, dst;
    uint32_t sub0, nsub, left;
};

/* A group of equal links the solver takes as one constraint (flow_group.c):
 * its members' bytes of ended subs, base + the subs whose remainder over
 * the members is above a member's index (cnt[r]: the subs of remainder r). */
struct fl_group {
    uint64_t base;
    uint64_t *cnt; /* [npaths] */
};

struct flow_eng {
    struct eng base;
    struct eng_hooks hooks;
    struct evq q;
    struct fl_link *links; /* the solver's constraints: [0, nports) the ports, then the groups */
    uint32_t ncons;
    /* flow_group.c: ngroups constraints from nports on (0: none), a port's
     * group constraint (FL_NONE: none) and its index among the members */
    uint32_t ngroups, *pgrp, *pidx;
    struct fl_group *grp;
    struct fl_sub *subs;
    uint32_t nsubs, capsubs;
    uint32_t *fep; /* per sub: the epoch of the full re-solve that froze it */
    struct fl_use *uses;
    uint32_t nuses, capuses;
    struct fl_msg *msgs;
    uint32_t nmsgs, capmsgs;
    uint32_t live_subs;
    /* the active subs with a rate, a 4-ary min-heap on (tend, sub) */
    struct fl_hent *eh;
    uint32_t neh, capeh;
    /* deferred: the ends sorted at the last full re-solve, taken from psrt
     * on (the heap eh holds the re-keys since) */
    struct fl_hent *srt, *srt2;
    uint32_t nsrt, psrt, capsrt;
    uint32_t srt_fixed; /* srt[psrt, srt_fixed) in order of (tend, sub); past it by tend alone */
    /* srt[0, srt_sorted) sorted by tend, the rest by the top digit of tend
     * only: buckets sbi.. with bounds sbk[] (sort_gathered), sorted seg_want
     * at a time as the ends reach them */
    uint32_t srt_sorted, sbi, seg_want;
    uint32_t *sbk;
    uint64_t end_seq; /* the pending end event (the earliest tend), FL_NOEV: none */
    simtime_t end_at;
    int path;
    uint32_t subflows, mtu, ack_bytes, ack_group;
    int ackm;         /* flow_ack_mode at create */
    double ack_share; /* ack_bytes / (mtu x ack_group): acknowledgement bytes per data byte */
    uint64_t seed, base_seed;
    simtime_t now;
    struct eng_stats st;
    struct res_port_stats *pst;
    /* what changed at this instant: the links whose subs changed, the subs
     * started (no rate yet), the least rate of the subs that ended */
    uint32_t *touched;
    uint32_t ntouched, captouched;
    uint32_t tgen; /* the generation of e->touched: bumped each time it is emptied */
    uint32_t *fresh;
    uint32_t nfresh, capfresh;
    double theta;
    uint32_t epoch;
    /* add_route's scratch: a port's use in the sub being built */
    uint32_t *spread_mark, *spread_slot, spread_epoch;
    /* the routes' switch parts, by (first switch, destination leaf, path):
     * flow_route_walk (NULL: walked each time) */
    struct fl_mid *mid;
    uint32_t mid_sw;
    /* the active subs and their rates (+inf while fresh), by position apos */
    uint32_t *act;
    double *arate;
    uint32_t capact;
    /* scratch of a re-solve: its links, its subs, the subs per link, the
     * links reached */
    uint32_t *cl, *cs, *csr, *rl;
    uint32_t capcl, capcs, capcsr, caprl;
    uint64_t *rbits; /* a selective re-solve's reached subs, a bit per position in act */
    uint32_t caprbits;
    uint32_t last_reached, last_cands; /* the last selective re-solve's subs reached, candidates */
    /* deferred: the links a full re-solve scans: put in when a sub that
     * starts on them is re-solved first, taken out when a full re-solve
     * finds no active sub on them (the others have no load) */
    uint32_t *ul;
    uint32_t nul, capul;
    struct fl_lhot *lhot; /* full_update's links' fields, by link */
    uint32_t caplhot;
    uint64_t recomputes, filled_subs, rate_changes, cand_subs, big_changes;
    double verify_err; /* flow_maxmin_verify: the largest relative difference seen */
    double overload;   /* flow_maxmin_overload: the largest seen */
    /* deferred re-solves (flow.resolve_slack, flow.resolve_window; defer:
     * either is on): an end leaves the other subs' rates as they are until
     * the subs ended since the last re-solve freed more than slack x a
     * link's capacity (solve_due), or until solve_at, the least over them
     * of end + window x (live subs / peak_live) x the sub's lifetime (an
     * FEV_SOLVE event waits for it, solve_seq, at solve_ev_at), or subs
     * start */
    double slack, window;
    int defer, solve_due;
    simtime_t solve_at, solve_ev_at;
    uint64_t solve_seq;
    uint32_t peak_live; /* the most active subs since the reset */
    simtime_t sample_period;
    eng_sample_fn sample_fn;
    void *sample_ctx;
    struct flow_fault *fault; /* faults.fail (sim/flow_fault.c); NULL without */
    /* flow_compact.c: the ended subs and their uses not yet dropped, the
     * message slots free for reuse (their messages done), compactions run */
    uint32_t dead_subs, dead_uses;
    uint32_t *mfree;
    uint32_t nmfree, capmfree;
    uint64_t compactions;
    uint64_t live_at_solves;           /* the active subs summed over the re-solves (stats) */
    uint64_t alone_starts, alone_ends; /* flow_alone.c: starts and ends without a re-solve */
};

/* Lists a link whose subs or capacity changed at this instant (once). */
static inline void flow_touch(struct flow_eng *e, uint32_t link)
{
    if (e->links[link].tgen == e->tgen) return; /* listed already */
    e->links[link].tgen = e->tgen;
    if (e->ntouched == e->captouched) {
        e->captouched = e->captouched ? 2 * e->captouched : 256;
        e->touched = xrealloc(e->touched, e->captouched * sizeof *e->touched);
    }
    e->touched[e->ntouched++] = link;
}

static inline struct flow_eng *flow_eng_of(struct eng *e)
{
    return (struct flow_eng *)e;
}
static inline const struct flow_eng *flow_eng_ofc(const struct eng *e)
{
    return (const struct flow_eng *)e;
}

/* flow_maxmin.c: the max-min rates after this instant's starts and ends
 * (e->touched, e->fresh, e->theta), re-solving only the subs whose rate can
 * change; a sub whose rate changes has its bytes brought up to e->now, a new
 * end (tend) and its place in the heap of ends. */
void flow_maxmin_update(struct flow_eng *e);
/* How a selective re-solve finds its subs (the same subs and sums either
 * way): 0 deferred by the last re-solve's share of candidates reached, exact gathering, 1 always
 * searching the touched links' lists first, 2 always gathering every
 * candidate's links first (tests). */
extern int flow_maxmin_search;
/* The bits of a digit of the deferred sorted ends' passes on the end time
 * (sort_ends): 0 by their number (11 from 8192 entries on, else 8), else
 * 5..11 (tests: the same order with any). */
extern int flow_maxmin_sort_bits;
/* Deferred full re-solves bring each sub's rate and end up to date as it
 * freezes and sort the ends gathered then (1, the default), or in a pass
 * over the active subs after the filling and by sort_ends, as before (0:
 * tests compare the two; the same run to the bit). */
extern int flow_maxmin_fused;
/* With it, many ends (8192 or more) are put by tend's top digit at once and
 * each bucket sorted on its lower digits when the ends reach it (1, the
 * default), or all sorted at once (0: tests; the same order of ends). */
extern int flow_maxmin_segments;
/* The deferred sorted ends' buckets not yet sorted, sorted (flow_compact.c
 * before it renumbers them). */
void flow_heap_sort_rest(struct flow_eng *e);
/* The solver's own state emptied (flow_reset: no sub on any link). */
void flow_maxmin_reset(struct flow_eng *e);
/* The rates of every active sub by progressive filling from scratch,
 * compared with the incremental ones: returns the largest relative
 * difference (tests; flow_maxmin_verify_all makes every update check). */
double flow_maxmin_verify(struct flow_eng *e);
extern int flow_maxmin_verify_all;
/* How far the busiest link's load (the active subs' w x rate) is above its
 * capacity, relatively (0 when none is); flow_maxmin_check_load makes every
 * update record the largest in e->overload (tests). */
double flow_maxmin_overload(const struct flow_eng *e);
extern int flow_maxmin_check_load;

/* The heap of ends (flow_maxmin.c). */
void flow_heap_update(struct flow_eng *e, uint32_t si);
void flow_heap_remove(struct flow_eng *e, uint32_t si);
/* The earliest end (NULL: none); with deferred re-solves the heap keeps an
 * entry per re-key (no positions to maintain) and this drops the stale
 * ones on top. */
const struct fl_hent *flow_heap_top(struct flow_eng *e);

/* flow_compact.c: drops the ended subs and their uses when they are most of
 * the engine's (called where no sub or use index is held: before a new
 * message's subs), keeping the order of those that stay, so every tie
 * (heap of ends, link lists, active list) breaks as before and the rates
 * are the same; the memory follows the subs alive (started and not ended,
 * or not yet started), not every sub since the reset. */
void flow_compact_maybe(struct flow_eng *e);
void flow_compact(struct flow_eng *e);
/* Below this many uses no compaction (65536; UINT32_MAX: never, 0: whenever
 * half are dead: tests); compactions run in this process (tests). */
extern uint32_t flow_compact_min;
extern uint64_t flow_compact_count;

/* flow_group.c: the groups of equal links, when every spreading sub's
 * fabric links can be merged exactly: spreading path modes on a
 * leaf-spine without planes, faults or timed faults, each leaf's npaths
 * uplinks distinct and of one speed, the same for the downlinks into a
 * leaf (MOESIM_FLOW_NOMERGE in the environment, or flow_group_off, turns it
 * off). Grows e->links to e->ncons. */
void flow_group_init(struct flow_eng *e);
void flow_group_free(struct flow_eng *e);
void flow_group_reset(struct flow_eng *e);
extern int flow_group_off;
/* A spread route from a to b on different leaves as one use of the source
 * leaf's uplink group and one of the destination's downlink group (weight
 * bytes / npaths / size on each member: the members' mean), with the host
 * links as they are; 0 when there are no groups. */
int flow_group_route(struct flow_eng *e, uint32_t a, uint32_t b, uint64_t bytes, uint64_t size);
/* An ended sub's use of a group: its bytes to the members' counts. */
void flow_group_done(struct flow_eng *e, const struct fl_use *us);
/* Port p's bytes through its group by now (0 when in none): the ended
 * subs' and the active subs' sent share of the member's bytes. */
uint64_t flow_group_sent(const struct flow_eng *e, uint32_t p);

/* flow_ack.c: how acknowledgements load the links. CONSTRAIN: their uses
 * are constraints of the max-min solve (weight ack bytes / size), as before
 * (the comparisons); FREE: they count bytes only; RESERVE (the default):
 * they count bytes only and a link that carries any keeps ack_share /
 * (1 + ack_share) of its capacity for them; STICKY: as RESERVE, the reserve
 * kept from a link's first acknowledgement to the reset.
 * MOESIM_FLOW_ACKS=constrain, free, reserve or sticky in the environment
 * sets it for a run (the comparisons of docs/flow-engine.md). */
enum { FLOW_ACK_RESERVE = 0, FLOW_ACK_FREE, FLOW_ACK_CONSTRAIN, FLOW_ACK_STICKY };
extern int flow_ack_mode;
int flow_ack_mode_now(void); /* flow_ack_mode, or the environment's */
/* Sub si's acknowledgement uses onto (start) or off (stop, with the
 * fraction frac of their bytes carried, counted as done) their links' lists;
 * a link whose reserve comes or goes is touched, with the bound on theta
 * its change of capacity needs. */
void flow_ack_start(struct flow_eng *e, uint32_t si);
void flow_ack_stop(struct flow_eng *e, uint32_t si, double frac);
/* The bytes the active subs' acknowledgements put on link l by now. */
uint64_t flow_ack_sent(const struct flow_eng *e, const struct fl_link *l, uint32_t np, uint32_t j);

/* flow_alone.c: with deferred re-solves (and no timed faults), a sub whose
 * every data link carries no other live sub, and whose acknowledgements
 * change no reserve under live data, is a max-min component of its own.
 * flow_alone_rate: whether sub si (started, its uses not yet on their
 * links) is, with its rate (the least over its links of the capacity left
 * over its weight); flow_alone_start gives it that rate, its load and its
 * end, without a re-solve. flow_alone_end: whether sub si (still on its
 * links) ends alone: its end then touches no link and calls no re-solve.
 * flow_alone_off turns both off (tests compare with and without). */
int flow_alone_rate(const struct flow_eng *e, uint32_t si, double *rate);
void flow_alone_start(struct flow_eng *e, uint32_t si, double rate);
int flow_alone_end(const struct flow_eng *e, uint32_t si);
extern int flow_alone_off;

enum { FEV_START = 0, FEV_END, FEV_DONE, FEV_SAMPLE, FEV_SOLVE, FEV_FAIL, FEV_REROUTE };

/* flow_eng.c, for flow_fault.c: a sub added to message mi on path k (as
 * add_sub; returns its index), a sub started (its uses on their links, a
 * fresh rate), and the path number of an ECMP or split value fk (its first
 * switch's choice, 16 bits of entropy above) on the current routing. */
uint32_t flow_sub_add(struct flow_eng *e, uint32_t mi, uint32_t src, uint32_t dst, uint64_t size,
                      uint32_t k);
void flow_sub_start(struct flow_eng *e, uint32_t si);
uint32_t flow_route_path(const struct flow_eng *e, uint32_t src, uint32_t dst, uint32_t fk);
/* The ports of the route of path p from host a to host b into ports[], as
 * topo_route_ports gives them (its switch part from e->mid, walked once per
 * first switch, destination leaf and path); returns how many. */
uint32_t flow_route_walk(const struct flow_eng *e, uint32_t a, uint32_t b, uint32_t p,
                         uint32_t *ports);

#endif
