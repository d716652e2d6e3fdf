/* pkt.h - a packet: a 32-byte value.
 *
 * A packet has no identity and no pool: it lives in the FIFO of the wire it
 * is on (struct port_rt's ring in pkt_eng.h) and is copied from one port's
 * FIFO to the next as it crosses a switch. Everything a switch needs to
 * forward it is in these 32 bytes, so forwarding touches the two FIFOs and
 * nothing else; the flow is looked up only at the ends (send, delivery,
 * acknowledgement).
 */
#ifndef MOESIM_PKT_H
#define MOESIM_PKT_H

#include <stdint.h>

#include "base/units.h"

#define PKT_ACK   0x01u /* an acknowledgement, not data */
#define PKT_ADAPT 0x02u /* every switch with a choice picks the least-queued next hop */
#define PKT_CE    0x04u /* a data packet marked Congestion Experienced by a switch (ECN) */
#define PKT_CC                                                                                     \
    0x08u /* its flow runs a congestion control (cc = dctcp): delivered by pkt_cc.c's rules */
/* Reserved for loss recovery, trimming and DCQCN (docs/transports.md) */
#define PKT_NACK   0x10u   /* an acknowledgement that asks for a resend (recovery) */
#define PKT_TRIM   0x20u   /* a data packet trimmed to its header by a full switch (switch.trim) */
#define PKT_REC    0x40u   /* its flow runs loss recovery (transport.recovery != none) */
#define PKT_CNP    0x80u   /* a DCQCN congestion notification, receiver to sender */
#define PKT_DIRECT 0xffffu /* path: no spine (same leaf, or NVLink) */

struct pkt {
    simtime_t t;       /* arrival time at the far end of the wire it is on */
    uint32_t flow;     /* transport flow it belongs to */
    uint32_t src, dst; /* hosts it goes from and to (an ack: the flow's reverse) */
    uint16_t wire;     /* bytes on the wire */
    uint16_t payload;  /* data bytes it carries (for an ack: the bytes it acknowledges) */
    uint16_t path;     /* spine of its fabric path, or PKT_DIRECT */
    uint8_t hop;       /* ports crossed so far */
    uint8_t flags;
    union {
        /* a data packet: the offset in its flow of its first byte, mod 2^32
         * (TCP-style byte sequence numbers: compare with wrap-around) */
        uint32_t seq;
        /* an ack under cc = dctcp: of the bytes it acknowledges, those marked CE */
        uint32_t marked;
    };
};

_Static_assert(sizeof(struct pkt) == 32, "a packet is 32 bytes");

#endif
