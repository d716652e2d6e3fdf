/* counters.c - folding a link's counters (res_port_stats, see res.h). */
#include "results/res.h"

void res_port_stats_fold(struct res_port_stats *dst, const struct res_port_stats *src)
{
    dst->bytes += src->bytes;
    dst->busy_ps += src->busy_ps;
    if (src->max_queue_bytes > dst->max_queue_bytes) dst->max_queue_bytes = src->max_queue_bytes;
    dst->drops += src->drops;
    dst->ecn_marks += src->ecn_marks;
    dst->trims += src->trims;
    dst->pause_ps += src->pause_ps;
}
