/*
 * sm_output.c - segments leaving a host: the network state (made on first
 * use), the tap that sees every segment in the order sent, the one-way
 * delays, the TCP output routine (what the window allows, then the FIN),
 * RSTs, TCP options (laid out by the profile's tcp_options method), and
 * initial sequence numbers and timestamp offsets.
 */
#include "sm_demux.h"
#include "sm_prof.h"
#include "sm_tcp.h"
#include "sm_timewait.h"

#include <stdlib.h>
#include <string.h>


/* The network state, made with the world (NULL: out of memory). */
struct sm__net *sm__net_create(sm_world *w)
{
    w->net = sm__alloc_refused() ? NULL : calloc(1, sizeof *w->net);
    if (!w->net)
        return NULL;
    w->net->delay_ns = 1000000;     /* 1 ms between hosts */
    w->net->loop_delay_ns = 50000;  /* 50 us on loopback */
    uint64_t st = w->seed ^ 0x9b05688c2b3e6c1fULL;
    w->net->secret = sm__splitmix64(&st);
    w->tw_free = SM__NONE32;
    return w->net;
}

void sm__net_free(sm_world *w)
{
    struct sm__net *n = w->net;
    if (!n)
        return;
    free(n->dq.a);
    free(n->twq.a);
    free(n->tq);
    free(n->segs);
    free(n->seg_free);
    sm__slots_free(n->ctab, n->ccap);
    for (size_t i = 0; i < n->nlbs; i++)
        free(n->lbs[i].ids);
    free(n->lbs);
    free(n->cands);
    sm__map_free(&n->lindex);
    free(n);
}

void sm_world_set_delivery_tap(sm_world *w, sm_delivery_fn fn, void *ctx)
{
    sm__net(w)->dtap = fn;
    sm__net(w)->dtap_ctx = ctx;
}

void sm_world_set_event_tap(sm_world *w, sm_event_fn fn, void *ctx)
{
    sm__net(w)->etap = fn;
    sm__net(w)->etap_ctx = ctx;
}

const char *sm_event_kind_name(sm_event_kind k)
{
    static const char *const n[SM_EV_KIND_COUNT] = {
        "listener", "time-wait-enter", "time-wait-skip", "time-wait-end",
        "timer", "port"};
    return (unsigned)k < SM_EV_KIND_COUNT ? n[k] : "?";
}

void sm_world_set_tap(sm_world *w, sm_tap_fn fn, void *ctx)
{
    sm__net(w)->tap = fn;
    sm__net(w)->tap_ctx = ctx;
}

void sm_world_set_delay(sm_world *w, uint64_t between_hosts_ns,
                        uint64_t loopback_ns)
{
    sm__net(w)->delay_ns = between_hosts_ns;
    sm__net(w)->loop_delay_ns = loopback_ns;
}

/* ---- sending ------------------------------------------------------------------- */

static uint32_t ts_now(const sm_world *w) { return (uint32_t)(w->now_ns / SM__NS_PER_MS); }

void sm__emit(sm_world *w, sm_id from_host, const sm_addr *sa, uint16_t sp,
                 const sm_addr *da, uint16_t dp, sm_proto proto, uint8_t flags,
                 uint32_t seq, uint32_t ack, uint16_t win, uint32_t len,
                 bool ts, uint32_t tsval, uint32_t tsecr)
{
    struct sm__net *n = sm__net(w);
    sm_segment g;
    memset(&g, 0, sizeof g);
    g.time_ns = w->now_ns;
    g.src_host = from_host;
    g.proto = proto;
    g.src.addr = sm__canon(sa);
    g.src.port = sp;
    g.dst.addr = sm__canon(da);
    g.dst.port = dp;
    g.dst_host = sm__host_of(w, from_host, &g.dst.addr);
    g.flags = flags;
    g.seq = seq;
    g.ack = ack;
    g.window = win;
    g.len = len;
    g.has_ts = ts;
    g.tsval = tsval;
    g.tsecr = tsecr;
    if (proto == SM_TCP) {
        bool syn = flags & SM_TH_SYN, synack = syn && (flags & SM_TH_ACK);
        sm_tcpopt_ctx oc = {syn, g.dst.addr.family == 6 ? 1440 : 1460,
                            syn && (!synack || (n->synack_offer & 1)),
                            syn && (!synack || (n->synack_offer & 2)), ts, tsval, tsecr};
        g.optlen = sm__prof_tcp_options(sm__hprof(w, from_host), &oc, g.opt);
    }
    g.no = (uint32_t)++n->stats.segments;
    if (n->tap)
        n->tap(n->tap_ctx, &g);
    if (g.dst_host == SM_NONE)
        return; /* nobody has that address: the packet is lost */
    uint32_t slot;
    if (n->nfree)
        slot = n->seg_free[--n->nfree];
    else {
        SM__GROW(w, n->segs, n->nsegs, n->segcap, return); /* lost */
        slot = (uint32_t)n->nsegs++;
    }
    n->segs[slot] = g;
    n->productive++;
    sm__ev_push(w, sm_time_add(w->now_ns, g.dst_host == from_host ? n->loop_delay_ns : n->delay_ns),
            SM__EV_DELIVER, slot);
}

/* A segment of the connection, as given (challenge ACKs, RFC 5961). */
void sm__send_seg(sm_world *w, sm__sock *s, uint8_t flags, uint32_t seq, uint32_t len)
{
    sm__net(w)->synack_offer = (uint8_t)(s->peer_ws | s->peer_sack << 1);
    sm__emit(w, s->host, &s->local_addr, s->port, &s->remote.addr, s->remote.port,
         SM_TCP, flags, seq, (flags & SM_TH_ACK) ? s->rcv_nxt : 0, sm__adv_window(s),
         len, s->ts_ok || ((flags & (SM_TH_SYN | SM_TH_ACK)) == SM_TH_SYN &&
                           w->hosts[s->host].tun[SM_TUN_TIMESTAMPS]),
         ts_now(w) + s->ts_off, s->ts_recent);
}

/* A segment of the connection; an ACK may repeat our unacknowledged FIN. */
void sm__send_flags(sm_world *w, sm__sock *s, uint8_t flags, uint32_t seq,
                       uint32_t len)
{
    if (flags == SM_TH_ACK && s->fin_sent && s->snd_una != s->snd_nxt &&
        sm__hprof(w, s->host)->tcp->ack_repeats_fin) {
        flags |= SM_TH_FIN; /* the unacknowledged FIN goes out again */
        seq = s->snd_nxt - 1;
    }
    sm__send_seg(w, s, flags, seq, len);
}


/* Send what the window allows, then a FIN once the queue is empty. */
bool sm__tcp_output(sm_world *w, sm__sock *s)
{
    bool sent = false;
    /* data queued while connecting waits for the connection */
    while (s->sndq > 0 && s->state != SM_SYN_SENT) {
        uint32_t inflight = s->snd_nxt - s->snd_una;
        if (inflight >= s->snd_wnd)
            break;
        uint64_t room = s->snd_wnd - inflight;
        uint32_t len = (uint32_t)(s->sndq < room ? s->sndq : room);
        if (len > SM__MSS)
            len = SM__MSS;
        sm__send_flags(w, s, SM_TH_ACK | SM_TH_PSH, s->snd_nxt, len);
        s->snd_nxt += len;
        s->sndq -= len;
        sent = true;
    }
    if (s->fin_pending && !s->fin_sent && s->sndq == 0) {
        sm__send_flags(w, s, SM_TH_FIN | SM_TH_ACK, s->snd_nxt, 0);
        s->snd_nxt++;
        s->fin_sent = true;
        sent = true;
    }
    return sent;
}

void sm__send_rst_for(sm_world *w, const sm__sock *s)
{
    sm__emit(w, s->host, &s->local_addr, s->port, &s->remote.addr, s->remote.port,
         SM_TCP, SM_TH_RST | SM_TH_ACK, s->snd_nxt, s->rcv_nxt, 0, 0, false, 0, 0);
}

void sm__reply_rst(sm_world *w, const sm_segment *g)
{
    if (g->flags & SM_TH_RST)
        return;
    if (g->flags & SM_TH_ACK)
        sm__emit(w, g->dst_host, &g->dst.addr, g->dst.port, &g->src.addr, g->src.port,
             SM_TCP, SM_TH_RST, g->ack, 0, 0, 0, false, 0, 0);
    else
        sm__emit(w, g->dst_host, &g->dst.addr, g->dst.port, &g->src.addr, g->src.port,
             SM_TCP, SM_TH_RST | SM_TH_ACK, 0,
             g->seq + g->len + ((g->flags & SM_TH_SYN) ? 1u : 0u) +
                 ((g->flags & SM_TH_FIN) ? 1u : 0u),
             0, 0, false, 0, 0);
}

uint32_t sm__isn_for(const sm_world *w, const sm_addr *la, uint16_t lp,
                        const sm_addr *ra, uint16_t rp)
{
    /* RFC 6528: a clock (64 ns ticks, as Linux) plus a keyed hash of the
     * 4-tuple, so a later connection on the same 4-tuple starts higher. */
    uint32_t f = sm__tuple_hash(w->net->secret ^ 0x6a09e667f3bcc908ULL, 0, SM_TCP, la, lp, ra, rp);
    return (uint32_t)(w->now_ns >> 6) + f;
}

uint32_t sm__ts_offset(const sm_world *w, const sm_addr *la, const sm_addr *ra)
{
    /* Per address pair, as Linux's tsoffset: later connections between the
     * same two addresses carry larger timestamps. */
    return sm__tuple_hash(w->net->secret ^ 0xbb67ae8584caa73bULL, 0, SM_TCP, la, 0, ra, 0);
}

