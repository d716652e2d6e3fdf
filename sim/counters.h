/* counters.h - an engine run's counters, and the one place that folds two
 * of them (a port's counters are the links table's, struct res_port_stats
 * in results/res.h, folded there).
 *
 * The executor (exec.c) folds every engine run of a workload into one total.
 * A new counter is added here, in its fold, and where the engine counts it.
 */
#ifndef MOESIM_COUNTERS_H
#define MOESIM_COUNTERS_H

#include <stdint.h>

#include "base/units.h"

struct eng_stats {
    uint64_t events;
    uint64_t data_bytes_sent, data_bytes_delivered, acks;
    uint64_t msgs, msgs_done, flows;
    uint64_t past_events; /* events scheduled or popped before "now": must stay 0 */
    uint64_t underflows;  /* a flow's bytes in flight, a message's flows or
                             acknowledgements left, or the live message count
                             taken below zero: must stay 0 */
    /* loss recovery (transport.recovery, sim/pkt_loss.c): data bytes sent
     * again, dropped by a full buffer (or trimmed off), and arrived but not
     * delivered (a duplicate, or discarded out of order by go-back-N); so
     * data_bytes_sent = data_bytes_delivered + dup_bytes + drop_bytes */
    uint64_t retx_bytes, drop_bytes, dup_bytes, timeouts, nacks;
    uint32_t peak_packets;
    uint64_t peak_events; /* largest event queue */
    simtime_t now;
};

/* Adds src's counters to dst's: counts add up, peaks (peak_packets,
 * peak_events) keep the larger. dst->now is left as it is: the end of
 * several runs is not a sum (the executor sets it). */
void eng_stats_fold(struct eng_stats *dst, const struct eng_stats *src);

#endif
