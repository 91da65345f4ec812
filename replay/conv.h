/*
 * conv.h - counts TCP conversations the way `tshark -q -z conv,tcp` does,
 * for checking the replay's connection count against Wireshark.
 *
 * tshark (4.0) makes one conv,tcp row per TCP stream (tcp.stream), and a
 * stream is a 4-tuple (either direction) until a new one starts on the
 * same 4-tuple.  A new stream starts only on a SYN without ACK whose
 * sequence number differs from the base sequence number already recorded
 * for that direction of the current stream; FIN, RST, idle time and
 * SYN+ACK never start one.  The base sequence number of a direction is set
 * by its first segment (the SYN's seq, or seq-1 for any other segment) or,
 * for the reverse direction, by the first ACK-bearing segment (ack-1).
 * See conv.c for the source lines and the cases checked against tshark.
 *
 * One hash table entry per distinct 4-tuple (its current stream): O(1)
 * expected per packet; memory grows with distinct 4-tuples, as tshark's
 * own table does.  Deterministic (fixed hash, no randomness).
 */
#ifndef RP_CONV_H
#define RP_CONV_H

#include <stdint.h>
#include <stdio.h>

#include "pkt.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One conversation (one tshark conv,tcp row). */
typedef struct rp_conv_row {
    sm_endpoint a, b;     /* a = source of the conversation's first packet */
    uint64_t frames;      /* packets in it */
    uint64_t first_frame; /* rp_pkt.frame of its first packet */
} rp_conv_row;

/* Called once per conversation: when a new one replaces it on the same
 * 4-tuple, and for every live one by rp_conv_finish. */
typedef void (*rp_conv_emit)(void *ctx, const rp_conv_row *row);

typedef struct rp_conv rp_conv;

/* emit may be NULL (counting only).  NULL on allocation failure. */
rp_conv *rp_conv_new(rp_conv_emit emit, void *ctx);
/* Feeds one delivered packet (UDP is ignored).  false: out of memory. */
bool rp_conv_add(rp_conv *t, const rp_pkt *p);
/* Conversations so far (= tshark's conv,tcp row count at the end). */
uint64_t rp_conv_count(const rp_conv *t);
/* Distinct 4-tuples so far (count - tuples = streams started by reuse). */
uint64_t rp_conv_tuples(const rp_conv *t);
/* Emits every live conversation (in table order) and empties the table. */
void rp_conv_finish(rp_conv *t);
void rp_conv_free(rp_conv *t);

/* "A:pa <-> B:pb frames first_frame" (endpoints as sm_endpoint_format). */
void rp_conv_row_print(FILE *out, const rp_conv_row *row);

#ifdef __cplusplus
}
#endif
#endif /* RP_CONV_H */
