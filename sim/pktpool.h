/* pktpool.h - packets and their pool.
 *
 * A packet is 40 bytes and lives in one growing array; packets are named by
 * their index, so the array can grow without invalidating anything, and free
 * packets form a singly linked list through `next`. No malloc per packet.
 * In the sanitizer build (MOESIM_SAN) a free packet's memory is poisoned, so
 * AddressSanitizer reports any use after free.
 */
#ifndef MOESIM_PKTPOOL_H
#define MOESIM_PKTPOOL_H

#include <stdint.h>
#include <stdlib.h>

#include "sim/err.h"
#include "sim/units.h"

#if defined(MOESIM_SAN) && defined(__has_include)
#if __has_include(<sanitizer/asan_interface.h>)
#include <sanitizer/asan_interface.h>
#define PKT_POISON(p, n)   ASAN_POISON_MEMORY_REGION((p), (n))
#define PKT_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#endif
#endif
#ifndef PKT_POISON
#define PKT_POISON(p, n)   ((void)(p), (void)(n))
#define PKT_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define PKT_NONE  UINT32_MAX
#define PKT_ACK   0x01u /* an acknowledgement, not data */
#define PKT_ADAPT 0x02u /* the first switch picks the path (adaptive routing) */
#define PKT_DIRECT 0xffffu /* path: no spine (same leaf, or NVLink) */

struct pkt {
    simtime_t t;      /* arrival time at the far end of the wire it is on */
    simtime_t next_t; /* arrival time of `next` (the packet behind it on the wire) */
    uint32_t next;    /* next packet on the same wire, or in the free list */
    uint32_t flow;    /* transport flow it belongs to */
    uint32_t src, dst; /* hosts it goes from and to (an ack: the flow's reverse) */
    uint16_t wire;     /* bytes on the wire */
    uint16_t payload;  /* data bytes it carries (for an ack: the bytes it acknowledges) */
    uint16_t path;     /* spine of its fabric path, or PKT_DIRECT */
    uint8_t hop;       /* ports crossed so far */
    uint8_t flags;
};

struct pktpool {
    struct pkt *p;
    uint32_t cap, free, live, peak;
};

static inline void pktpool_init(struct pktpool *pp)
{
    pp->cap = 0;
    pp->p = NULL;
    pp->free = PKT_NONE;
    pp->live = pp->peak = 0;
}

static inline void pktpool_destroy(struct pktpool *pp)
{
    if (pp->p)
        PKT_UNPOISON(pp->p, (size_t)pp->cap * sizeof *pp->p);
    free(pp->p);
    pp->p = NULL;
}

static inline uint32_t pkt_alloc(struct pktpool *pp)
{
    if (pp->free == PKT_NONE) {
        /* Packet ids are 32-bit and PKT_NONE is one of them: stop before the
         * doubling wraps (2^31 packets, 80 GiB in flight). */
        if (pp->cap >= (1u << 31))
            err_fatal("more than %u packets in flight", pp->cap);
        uint32_t old = pp->cap, cap = old ? 2 * old : 4096;
        if (old)
            PKT_UNPOISON(pp->p, (size_t)old * sizeof *pp->p);
        pp->p = xrealloc(pp->p, (size_t)cap * sizeof *pp->p);
        for (uint32_t i = old; i < cap; i++)
            pp->p[i].next = i + 1 < cap ? i + 1 : PKT_NONE;
        pp->free = old;
        pp->cap = cap;
        /* Re-poison every free packet (the array may have moved). */
        for (uint32_t i = pp->free; i != PKT_NONE;) {
            uint32_t n = pp->p[i].next;
            PKT_POISON(&pp->p[i].t, sizeof pp->p[i].t);
            i = n;
        }
    }
    uint32_t i = pp->free;
    PKT_UNPOISON(&pp->p[i].t, sizeof pp->p[i].t);
    pp->free = pp->p[i].next;
    if (++pp->live > pp->peak)
        pp->peak = pp->live;
    return i;
}

static inline void pkt_free(struct pktpool *pp, uint32_t i)
{
    pp->p[i].next = pp->free;
    pp->free = i;
    pp->live--;
    PKT_POISON(&pp->p[i].t, sizeof pp->p[i].t);
}

#endif
