/* pkt_cc.c - the packet engine's congestion control (pkt_eng.h), cc =
 * dctcp: the window of DCTCP (Alizadeh et al., "Data Center TCP (DCTCP)",
 * SIGCOMM 2010), driven by the ECN marks the receivers echo.
 *
 * Per flow (struct cc_flow, beside the flow): alpha estimates the fraction
 * of its bytes marked; once per window of data (from the bytes sent when
 * the window began until they are acknowledged, about one RTT) alpha =
 * (1 - g) alpha + g F, F that window's marked fraction (transport.dctcp_g,
 * the paper's g = 1/16). An acknowledgement that echoes marks cuts the
 * window to cwnd (1 - alpha / 2), at most once per window of data (not
 * again until the bytes sent at the cut are acknowledged), never below one
 * packet; one without marks, outside such a cut, grows it by mtu * acked /
 * cwnd (additive increase: one packet per window's worth of
 * acknowledgements, one per RTT). A flow starts at the engine's window
 * (transport.window_bytes, or 1 BDP), alpha at transport.dctcp_alpha_init;
 * there is no slow start and no loss (docs/transports.md). */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "sim/pkt_eng.h"

void pkt_cc_create(struct pkt_eng *e)
{
    e->cc = aligned_alloc(64, sizeof *e->cc); /* grown with the flows (pkt_send.c) */
    if (!e->cc) err_fatal("out of memory for the congestion control's state");
    e->cc_n = 0;
}

void pkt_cc_grow(struct pkt_eng *e, size_t n)
{
    struct cc_flow *c = aligned_alloc(64, n * sizeof *c);
    if (!c) err_fatal("out of memory for %zu flows' congestion control", n);
    memcpy(c, e->cc, e->cc_n * sizeof *c);
    free(e->cc);
    e->cc = c;
    e->cc_n = n;
}

/* Flows first .. first + n - 1 start: their window and alpha. */
void pkt_cc_init(struct pkt_eng *e, uint32_t first, uint32_t n)
{
    for (uint32_t j = 0; j < n; j++) {
        struct cc_flow *c = &e->cc[first + j];
        const struct flow *f = &e->flows[first + j];
        c->cwnd = (double)e->window;
        c->alpha = e->dctcp_alpha_init;
        c->win_end = f->size < e->window ? f->size : e->window; /* its first window of data */
        c->cut_end = 0;
        c->win_acked = c->win_marked = 0;
        c->rx_marked = 0;
    }
}

/* Flow f's acknowledgement of `acked` bytes, `marked` of them echoing CE
 * (f->acked already counts them). */
void pkt_dctcp_ack(struct pkt_eng *e, struct flow *f, uint32_t acked, uint32_t marked)
{
    struct cc_flow *c = &e->cc[f - e->flows];
    c->win_acked += acked;
    c->win_marked += marked;
    if (f->acked >= c->win_end) { /* a window of data acknowledged: alpha */
        double F = c->win_acked ? (double)c->win_marked / (double)c->win_acked : 0;
        c->alpha = (1 - e->dctcp_g) * c->alpha + e->dctcp_g * F;
        c->win_acked = c->win_marked = 0;
        c->win_end = f->sent > f->acked ? f->sent : f->acked + 1;
    }
    if (f->acked <= c->cut_end) return; /* still inside the last cut's window */
    if (marked) {
        c->cwnd *= 1 - c->alpha / 2;
        if (c->cwnd < e->mtu) c->cwnd = e->mtu;
        c->cut_end = f->sent;
    } else {
        c->cwnd += (double)e->mtu * acked / c->cwnd;
    }
}
