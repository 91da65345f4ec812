/*
 * sm_timewait.h - TIME_WAIT entries (sm_timewait.c): what is left of a
 * connection after its socket is gone, in the bind table and the 4-tuple
 * table like a socket, expiring in a FIFO per host.
 */
#ifndef SM_TIMEWAIT_H
#define SM_TIMEWAIT_H

#include "sm_world.h"

#include <string.h>

/* A TIME_WAIT entry.  64 bytes on purpose: the table may hold tens of
 * millions.  Addresses are canonical (v4-mapped stored as IPv4): an IPv4
 * address is held inline, an IPv6 one as an index into the world's
 * interned bytes.  `who` is the socket it came from while that socket
 * exists (SM__TWM_ATT set), else the interned id of that socket's name.
 * The binding sequence number keeps its low 32 bits; the host's counter
 * supplies the rest. */
typedef struct sm__tw {
    uint64_t expire_ns;
    uint32_t seq_lo;
    uint32_t who;
    uint32_t la, ra;      /* IPv4 bytes, or interned IPv6 bytes (wire 6) */
    sm_id host;
    uint32_t since_ms;    /* when TIME_WAIT began */
    uint32_t snd_nxt, rcv_nxt, ts_recent;
    uint32_t bslot;
    uint32_t next, prev;  /* host FIFO in expiry order (next: free list) */
    uint16_t lport, rport;
    uint32_t meta;        /* SM__TWF_* flags | SM__TWM_* fields */
} sm__tw;

/* meta: bits 0-7 flags, 8 family is 6, 9 wire is 6, 10-12 how, 13 who
 * is the socket, 14 bind() named the address, 15-31 the user (index in
 * the world's users). */
#define SM__TWM_FAM6 0x100u
#define SM__TWM_WIRE6 0x200u
#define SM__TWM_HOW_SHIFT 10
#define SM__TWM_ATT 0x2000u
#define SM__TWM_NAMED 0x4000u
#define SM__TWM_USER_SHIFT 15
#define SM__TWM_USER_MAX 0x1ffffu
#define SM__TW_CHUNK_BITS 16 /* entries live in chunks that never move */

#define SM__TWF_PRIV 0x01u
#define SM__TWF_TS 0x02u
#define SM__TWF_LIVE 0x04u
#define SM__TWF_RA 0x08u   /* options latched at bind */
#define SM__TWF_RP 0x10u
#define SM__TWF_RPLB 0x20u
#define SM__TWF_EXCL 0x40u /* SO_EXCLUSIVEADDRUSE or SO_EXCLBIND */
#define SM__TWF_V6ONLY 0x80u

static inline sm__tw *sm__tw_at(const sm_world *w, uint32_t t)
{
    return &w->tw_chunks[t >> SM__TW_CHUNK_BITS][t & ((1u << SM__TW_CHUNK_BITS) - 1)];
}

/* An address of an entry (canonical: IPv4 inline, IPv6 interned). */
static inline sm_addr sm__tw_addr(const sm_world *w, const sm__tw *x, uint32_t v)
{
    sm_addr a;
    memset(&a, 0, sizeof a);
    if (x->meta & SM__TWM_WIRE6) {
        a.family = 6;
        memcpy(a.b, w->interned[v], 16);
    } else {
        a.family = 4;
        memcpy(a.b, &v, 4);
    }
    return a;
}

uint64_t sm__tw_seq(const sm_world *w, const sm__tw *x);
void sm__tw_view_fill(const sm_world *w, uint32_t tw, sm_sock_view *v);
/* Socket id reached TIME_WAIT: replace it by an entry, or by nothing where
 * this OS keeps none (*why, if not NULL, then says why). */
void sm__tw_enter(sm_world *w, sm_id id, const sm_rule **why);
void sm__tw_kill(sm_world *w, uint32_t t);
/* Tells the event tap that entry t ends: at_time 1 when its 2MSL ran out,
 * 0 early (rule: the RST, SYN, reuse or cap that ended it). */
void sm__tw_note_end(sm_world *w, uint32_t t, uint32_t at_time, const sm_rule *rule);
/* A segment for the entry's 4-tuple. */
void sm__tw_input(sm_world *w, uint32_t t, const sm_segment *g);
/* End the host's entries that are due (the FIFO head's event fired). */
void sm__tw_expire_due(sm_world *w, sm_id host);
void sm__tws_free(sm_world *w);

#endif
