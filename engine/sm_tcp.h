/*
 * sm_tcp.h - segments leaving (sm_output.c) and arriving (sm_input.c):
 * emission through the tap onto the network, the TCP output routine, RSTs,
 * initial sequence numbers; delivery through the demux to the RFC 9293
 * state machine.
 */
#ifndef SM_TCP_H
#define SM_TCP_H

#include "sm_net.h"
#include "sm_sock.h"

/* sm_output.c */
void sm__emit(sm_world *w, sm_id from_host, const sm_addr *sa, uint16_t sp,
              const sm_addr *da, uint16_t dp, sm_proto proto, uint8_t flags,
              uint32_t seq, uint32_t ack, uint16_t win, uint32_t len,
              bool ts, uint32_t tsval, uint32_t tsecr);
static inline uint16_t sm__adv_window(const sm__sock *s)
{
    return s->rcvq >= SM__RCVBUF ? 0 : (uint16_t)(SM__RCVBUF - s->rcvq);
}
/* A segment of the connection, as given (challenge ACKs, RFC 5961). */
void sm__send_seg(sm_world *w, sm__sock *s, uint8_t flags, uint32_t seq, uint32_t len);
/* A segment of the connection; an ACK may repeat our unacknowledged FIN
 * where the profile says so (ack_repeats_fin). */
void sm__send_flags(sm_world *w, sm__sock *s, uint8_t flags, uint32_t seq,
                    uint32_t len);
/* Send what the window allows, then a FIN once the queue is empty. */
bool sm__tcp_output(sm_world *w, sm__sock *s);
void sm__send_rst_for(sm_world *w, const sm__sock *s);
/* The RST that answers segment g when nothing takes it. */
void sm__reply_rst(sm_world *w, const sm_segment *g);
uint32_t sm__isn_for(const sm_world *w, const sm_addr *la, uint16_t lp,
                     const sm_addr *ra, uint16_t rp);
uint32_t sm__ts_offset(const sm_world *w, const sm_addr *la, const sm_addr *ra);

/* sm_input.c */
void sm__deliver(sm_world *w, const sm_segment *g);
/* A SYN for listener lid: a child in SYN_RECEIVED answers it (from_tw: it
 * ended a TIME_WAIT whose next sequence number was tw_snd_nxt). */
void sm__listener_syn(sm_world *w, sm_id lid, const sm_segment *g,
                      bool from_tw, uint32_t tw_snd_nxt);

#endif
