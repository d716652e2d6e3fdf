/* pkt_send.c - the packet engine's senders (pkt_eng.h): messages split
 * into flows, each host's NIC (and NVLink port) serving its ready flows
 * round robin, a packet at a time, under each flow's window. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/rng.h"
#include "sim/ecmp.h"
#include "sim/pkt_dcqcn.h"
#include "sim/pkt_eng.h"
#include "sim/pkt_nscc.h"
#include "sim/pkt_route.h"

/* Flow fi joins its sender's ready list. */
void pkt_ready_push(struct pkt_eng *e, uint32_t fi)
{
    struct flow *f = &e->flows[fi];
    struct host *h = &e->hosts[f->sched];
    f->ready = 1;
    f->next_ready = PKT_NONE;
    if (h->ready_tail == PKT_NONE)
        h->ready_head = fi;
    else
        e->flows[h->ready_tail].next_ready = fi;
    h->ready_tail = fi;
}

/* pkt_nic_send's end on a rail with planes: the packet's plane port; the
 * NIC sends at its own rate (t->nic_bps) onto its plane ports (host_gbps /
 * planes each), which queue what it sends faster than they drain; the
 * NVLink sender waits for its port. */
static __attribute__((noinline)) void nic_send_planes(struct pkt_eng *e, uint32_t h, uint32_t fi,
                                                      struct pkt *k, int rec, uint64_t off)
{
    const struct topo *t = e->base.t;
    struct flow *f = &e->flows[fi];
    pkt_choose_path_planes(e, f, k);
    if (__builtin_expect(t->plane_host_down, 0) && k->path != PKT_DIRECT) /* [faults] down */
        k->path = (uint16_t)topo_plane_live(t, f->src, f->dst, k->path);
    uint32_t payload = k->payload; /* (k may be dropped at its plane port's far end) */
    if (!rec) f->sent += payload;
    e->st.data_bytes_sent += payload;
    if (++e->live_pkts > e->peak_pkts) e->peak_pkts = e->live_pkts;
    uint32_t up = topo_nic_port(t, f->src, f->dst, k->path);
    pkt_commit_from(e, up, k, PKT_NONE); /* switch.pfc: a pausable plane port (pkt_pfc.c) */
    /* rec: loss recovery's send (pkt_loss.c), as nic_send's */
    if (rec ? pkt_rec_sent(e, f, off, payload) : pkt_flow_can_send(e, f)) pkt_ready_push(e, fi);
    e->hosts[h].nic_pending = 1;
    pkt_push(e, h & 1 ? e->ports[up].busy_until : e->now + ser_ps(k->wire, t->nic_bps), EV_NIC, h);
}

/* Sender h (see struct host) sends the next data packet of its ready flows
 * (round robin), if it is free. rec: whether its flows recover losses
 * (e->rec, pkt_loss.c), a constant in each of the two copies (pkt_nic_send,
 * nic_send_rec), so that recovery = none's is the code it was before. */
static inline __attribute__((always_inline)) void nic_send(struct pkt_eng *e, uint32_t h,
                                                           const int rec)
{
    struct host *hs = &e->hosts[h];
    if (hs->nic_pending) return;
    /* cc = dcqcn: the first ready flow its rate allows (pkt_dcqcn.c) */
    if (e->dq ? !pkt_dcqcn_pick(e, h) : hs->ready_head == PKT_NONE) return;
    uint32_t fi = hs->ready_head;
    struct flow *f = &e->flows[fi];
    hs->ready_head = f->next_ready;
    if (hs->ready_head == PKT_NONE)
        hs->ready_tail = PKT_NONE;
    else
        __builtin_prefetch(&e->flows[hs->ready_head], 1); /* this sender's next flow */
    f->ready = 0;
    uint64_t off = f->sent;
    if (rec) { /* loss recovery: a retransmission may come first */
        off = pkt_rec_next(e, f);
        if (off == UINT64_MAX) { /* nothing left to send any more */
            pkt_nic_send(e, h);
            return;
        }
    }
    uint64_t left = f->size - off;
    uint32_t payload = left < e->mtu ? (uint32_t)left : e->mtu;
    struct pkt k;
    k.flow = fi;
    k.wire = (uint16_t)payload;
    k.payload = (uint16_t)payload;
    k.hop = 0;
    k.src = f->src;
    k.dst = f->dst;
    k.seq = (uint32_t)off;
    if (__builtin_expect(e->nscc != NULL, 0)) pkt_nscc_sent(e, fi, off); /* its RTT */
    if (__builtin_expect(e->nic_pace, 0)) {
        nic_send_planes(e, h, fi, &k, rec, off);
        return;
    }
    pkt_choose_path(e, f, &k);
    if (!rec) f->sent += payload;
    e->st.data_bytes_sent += payload;
    if (++e->live_pkts > e->peak_pkts) e->peak_pkts = e->live_pkts;
    uint32_t up = topo_first_port(e->base.t, f->src, f->dst);
    hs->nic_pending = 1;
    if (e->pfc) { /* the port calls the sender again once k has left (pkt_pfc.c) */
        if (rec ? pkt_rec_sent(e, f, off, payload) : pkt_flow_can_send(e, f)) pkt_ready_push(e, fi);
        pkt_pfc_commit(e, up, &k, PKT_NONE, h);
        return;
    }
    pkt_commit(e, up, &k);
    if (rec ? pkt_rec_sent(e, f, off, payload) : pkt_flow_can_send(e, f)) pkt_ready_push(e, fi);
    pkt_push(e, e->ports[up].busy_until, EV_NIC, h);
}

static __attribute__((noinline)) void nic_send_rec(struct pkt_eng *e, uint32_t h)
{
    nic_send(e, h, 1);
}

void pkt_nic_send(struct pkt_eng *e, uint32_t h)
{
    if (e->rec)
        nic_send_rec(e, h);
    else
        nic_send(e, h, 0);
}

/* Message mi's flows are ready to send. */
void pkt_start_msg(struct pkt_eng *e, uint32_t mi)
{
    /* A hook called from msg_flow_done may add messages and move e->msgs. */
    uint32_t first = e->msgs[mi].first_flow, nflows = e->msgs[mi].nflows;
    uint32_t sched = e->flows[first].sched;
    for (uint32_t j = 0; j < nflows; j++)
        pkt_ready_push(e, first + j);
    pkt_nic_send(e, sched);
}

/* A free message slot, with room for its block of e->subflows flows. */
static inline __attribute__((always_inline)) uint32_t msg_slot(struct pkt_eng *e)
{
    uint32_t mi;
    if (e->free_msg != PKT_NONE) {
        mi = e->free_msg;
        e->free_msg = e->msgs[mi].next_free;
    } else {
        if (e->nmsgs == e->capmsgs) {
            e->capmsgs = e->capmsgs ? 2 * e->capmsgs : 1024;
            e->msgs = xrealloc(e->msgs, e->capmsgs * sizeof *e->msgs);
            size_t bytes = (size_t)e->capmsgs * e->subflows * sizeof *e->flows;
            struct flow *fl = aligned_alloc(64, bytes);
            if (!fl) err_fatal("out of memory for %u messages", e->capmsgs);
            if (e->nmsgs) memcpy(fl, e->flows, (size_t)e->nmsgs * e->subflows * sizeof *e->flows);
            free(e->flows);
            e->flows = fl;
            if (e->path == PATH_FLOWLET)
                e->flowlet_last = xrealloc(e->flowlet_last, (size_t)e->capmsgs * e->subflows *
                                                                sizeof *e->flowlet_last);
            if (e->cc) pkt_cc_grow(e, (size_t)e->capmsgs * e->subflows);
            if (e->rec) pkt_rec_grow(e, (size_t)e->capmsgs * e->subflows);
            if (e->nscc) pkt_nscc_grow(e, e->capmsgs * e->subflows);
        }
        mi = e->nmsgs++;
    }
    e->live_msgs++;
    return mi;
}

/* Message mi of n flows is filled: counted, and started or scheduled. */
static inline __attribute__((always_inline)) void msg_added(struct pkt_eng *e, uint32_t mi,
                                                            uint32_t n, simtime_t start)
{
    e->st.msgs++;
    e->st.flows += n;
    if (e->cc) {
        pkt_cc_init(e, e->msgs[mi].first_flow, n);
        if (e->nscc) pkt_nscc_init(e, e->msgs[mi].first_flow, n);
    }
    if (e->dq) pkt_dcqcn_init(e, e->msgs[mi].first_flow, n);
    if (e->rec) pkt_rec_init(e, e->msgs[mi].first_flow, n);
    if (start <= e->now)
        pkt_start_msg(e, mi);
    else
        pkt_push(e, start, EV_START, mi);
}

/* Message mi's n flows, from src to dst, on its slot's first flows (their
 * sizes and paths are the caller's to set). */
static inline __attribute__((always_inline)) struct msg *msg_init(struct pkt_eng *e, uint32_t mi,
                                                                  uint32_t src, uint32_t dst,
                                                                  uint32_t n, simtime_t start,
                                                                  uint64_t tag)
{
    struct msg *m = &e->msgs[mi];
    m->tag = tag;
    m->start = start;
    m->flows_left = m->acks_left = n;
    m->first_flow = mi * e->subflows;
    m->nflows = n;
    uint32_t sched = 2 * src + (topo_same_server(e->base.t, src, dst) ? 1 : 0);
    for (uint32_t j = 0; j < n; j++) {
        struct flow *f = &e->flows[m->first_flow + j];
        memset(f, 0, sizeof *f);
        f->src = src;
        f->dst = dst;
        f->msg = mi;
        f->sched = sched;
        f->next_ready = PKT_NONE;
    }
    return m;
}

uint32_t pkt_add_msg_paths(struct eng *eb, uint32_t src, uint32_t dst, simtime_t start,
                           uint64_t tag, const struct eth_sub *subs, uint32_t n)
{
    struct pkt_eng *e = pkt_eng_of(eb);
    assert(n > 0 && n <= e->subflows && src != dst);
    uint32_t mi = msg_slot(e);
    struct msg *m = msg_init(e, mi, src, dst, n, start, tag);
    for (uint32_t j = 0; j < n; j++) {
        struct flow *f = &e->flows[m->first_flow + j];
        assert(subs[j].bytes > 0 && subs[j].path < e->base.t->npaths);
        f->size = subs[j].bytes;
        f->k = subs[j].path;
    }
    msg_added(e, mi, n, start);
    return mi;
}

uint32_t pkt_add_msg(struct eng *eb, uint32_t src, uint32_t dst, uint64_t bytes, simtime_t start,
                     uint64_t tag)
{
    struct pkt_eng *e = pkt_eng_of(eb);
    assert(bytes > 0 && src != dst);
    if (e->path == PATH_ETHEREAL) {
        /* a message alone: a step of one flow (sim/ethereal.h) */
        struct topo_demand d = {src, dst, bytes};
        struct eth_sub *subs;
        size_t *off;
        size_t n = eth_assign(e->base.t, &d, 1, &subs, &off);
        uint32_t mi = pkt_add_msg_paths(eb, src, dst, start, tag, subs, (uint32_t)n);
        free(subs);
        free(off);
        return mi;
    }
    /* as msg_slot, msg_init and msg_added, in one loop (once per message) */
    uint32_t mi = msg_slot(e);
    uint32_t n = bytes < e->subflows ? (uint32_t)bytes : e->subflows;
    struct msg *m = &e->msgs[mi];
    m->tag = tag;
    m->start = start;
    m->flows_left = m->acks_left = n;
    m->first_flow = mi * e->subflows;
    m->nflows = n;
    uint32_t sched = 2 * src + (topo_via_nvlink(e->base.t, src, dst) ? 1 : 0);
    uint64_t h = eng_ecmp_key(e->seed, src, dst, e->st.msgs);
    for (uint32_t j = 0; j < n; j++) {
        struct flow *f = &e->flows[m->first_flow + j];
        memset(f, 0, sizeof *f);
        f->src = src;
        f->dst = dst;
        f->msg = mi;
        f->sched = sched;
        /* Equal subflows; the first ones take the remainder. */
        f->size = bytes / n + (j < bytes % n ? 1 : 0);
        f->k = eng_ecmp_path(h, j, e->base.t->npaths);
        f->next_ready = PKT_NONE;
    }
    if (e->hop_hash) /* later switches hash 16 more bits (ecmp.h) */
        for (uint32_t j = 0; j < n; j++)
            e->flows[m->first_flow + j].k |= eng_ecmp_ent16(h, j) << 16;
    msg_added(e, mi, n, start);
    return mi;
}
