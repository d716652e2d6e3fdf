/* counters.c - folding the engine's counters (see counters.h). */
#include "sim/counters.h"

static void add_max32(uint32_t *a, uint32_t b)
{
    if (b > *a) *a = b;
}

static void add_max64(uint64_t *a, uint64_t b)
{
    if (b > *a) *a = b;
}

void eng_stats_fold(struct eng_stats *dst, const struct eng_stats *src)
{
    dst->events += src->events;
    dst->data_bytes_sent += src->data_bytes_sent;
    dst->data_bytes_delivered += src->data_bytes_delivered;
    dst->acks += src->acks;
    dst->msgs += src->msgs;
    dst->msgs_done += src->msgs_done;
    dst->flows += src->flows;
    dst->past_events += src->past_events;
    dst->underflows += src->underflows;
    dst->retx_bytes += src->retx_bytes;
    dst->drop_bytes += src->drop_bytes;
    dst->dup_bytes += src->dup_bytes;
    dst->timeouts += src->timeouts;
    dst->nacks += src->nacks;
    add_max32(&dst->peak_packets, src->peak_packets);
    add_max64(&dst->peak_events, src->peak_events);
}
