/* counters.h - the packet engine's counters (one engine run's totals and each
 * port's), and the one place that folds two of them.
 *
 * The executor (exec.c) folds every engine run of a workload into one total;
 * the results (res_link in results/res.h) carry a port's counters as they
 * are. A new counter is added here, in its fold, and where the engine counts
 * it (and in the links table when it is recorded).
 */
#ifndef MOESIM_COUNTERS_H
#define MOESIM_COUNTERS_H

#include <stdint.h>

#include "base/units.h"

/* Per-port counters, as the links table records them. */
struct eng_port_stats {
    uint64_t bytes;
    simtime_t busy_ps;
    uint64_t max_queue_bytes;
    uint64_t drops, ecn_marks;
};

struct eng_stats {
    uint64_t events;
    uint64_t data_bytes_sent, data_bytes_delivered, acks;
    uint64_t msgs, msgs_done, flows;
    uint64_t past_events; /* events scheduled or popped before "now": must stay 0 */
    uint64_t underflows;  /* a flow's bytes in flight, a message's flows or
                             acknowledgements left, or the live message count
                             taken below zero: must stay 0 */
    uint32_t peak_packets;
    uint64_t peak_events; /* largest event queue */
    simtime_t now;
};

/* Adds src's counters to dst's: counts add up, peaks (peak_packets,
 * peak_events, max_queue_bytes) keep the larger. dst->now is left as it is:
 * the end of several runs is not a sum (the executor sets it). */
void eng_stats_fold(struct eng_stats *dst, const struct eng_stats *src);
void eng_port_stats_fold(struct eng_port_stats *dst, const struct eng_port_stats *src);

#endif
