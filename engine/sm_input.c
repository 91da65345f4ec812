/*
 * sm_input.c - segments arriving.  Every segment goes through the
 * receiving host's demux (sm_demux.c); a connection's segments drive the
 * RFC 9293 state machine (handshake and simultaneous open, data with a
 * receive window, the four close orders, RST, RFC 5961 challenge ACKs),
 * a TIME_WAIT entry's go to sm_timewait.c, a SYN for a listener makes a
 * child in SYN_RECEIVED, and what nothing takes is answered with a RST
 * (or dropped by a listener).  sm_net_inject() brings segments from a
 * peer no modelled host stands for (packetdrill's scripted peer).
 */
#include "sm_demux.h"
#include "sm_port.h"
#include "sm_sock-inl.h"
#include "sm_tcp.h"
#include "sm_timewait.h"

#include <stdlib.h>
#include <string.h>

static void tcp_input(sm_world *w, sm_id id, const sm_segment *g);

/* Whether a segment's options hold kind k. */
static bool seg_has_opt(const sm_segment *g, uint8_t k)
{
    for (unsigned i = 0; i < g->optlen && g->opt[i] != 0;) {
        if (g->opt[i] == k)
            return true;
        if (g->opt[i] == 1) {
            i++;
            continue;
        }
        if (i + 1 >= g->optlen || g->opt[i + 1] < 2)
            break;
        i += g->opt[i + 1];
    }
    return false;
}

void sm__listener_syn(sm_world *w, sm_id lid, const sm_segment *g,
                         bool from_tw, uint32_t tw_snd_nxt)
{
    sm__sock *l = &w->socks[lid];
    if (l->aq_n + l->sq_n > (uint32_t)(l->backlog < 0 ? 0 : l->backlog))
        return; /* queue full: the SYN is dropped, the client retries */
    struct sm__net *n = sm__net(w);
    /* Out of memory on the way: the SYN is dropped (and the world breaks). */
    sm_id cid = sm__sock_alloc(w);
    if (cid == SM_NONE)
        return;
    l = &w->socks[lid];
    sm__sock *c = &w->socks[cid];
    /* Named "<listener>/<n>" when someone first asks (sm__sock_name). */
    c->name = NULL;
    c->parent_name = sm__sock_name(w, lid);
    c->child_no = ++n->child_no;
    l = &w->socks[lid];
    c->host = l->host;
    c->proc = l->proc;
    c->uid = l->uid;
    c->privileged = l->privileged;
    c->proto = SM_TCP;
    c->family = l->family;
    c->opt = l->opt;
    c->fd_open = false;
    c->accepted = false;
    c->tw = SM__NONE32;
    c->kslot = SM__NONE32;
    c->listener = lid;
    c->remote.addr = sm__in_family(&g->src.addr, c->family);
    c->remote.port = g->src.port;
    c->connected = true;
    sm_addr local = sm__in_family(&g->dst.addr, c->family);
    if (!sm__take_port(w, cid, &local, l->port, SM_BOUND_ACCEPTED))
        return;
    c = &w->socks[cid];
    l = &w->socks[lid];
    c->at_bind = l->at_bind;
    c->addr_named = l->addr_named;
    c->state = SM_SYN_RECEIVED;
    c->irs = g->seq;
    c->rcv_nxt = g->seq + 1;
    c->snd_wnd = g->window;
    c->ts_ok = g->has_ts && w->hosts[c->host].tun[SM_TUN_TIMESTAMPS];
    c->mss_known = true;
    c->peer_ws = seg_has_opt(g, 3);   /* window scale */
    c->peer_sack = seg_has_opt(g, 4); /* SACK permitted */
    c->ts_recent = g->tsval;
    c->ts_off = sm__ts_offset(w, &g->dst.addr, &g->src.addr);
    c->iss = from_tw ? tw_snd_nxt + 65535u + 2u
                     : sm__isn_for(w, &g->dst.addr, g->dst.port, &g->src.addr, g->src.port);
    c->snd_una = c->iss;
    c->snd_nxt = c->iss + 1;
    if (!sm__ctab_add(w, cid))
        return;
    c = &w->socks[cid];
    c->in_ctab = true;
    SM__GROW(w, l->synq, l->sq_n, l->sq_cap, return);
    c->kslot = l->sq_n;
    l->synq[l->sq_n++] = cid;
    sm__send_flags(w, c, SM_TH_SYN | SM_TH_ACK, c->iss, 0);
}

static void udp_deliver(sm_world *w, sm_id id, const sm_segment *g)
{
    sm__sock *s = &w->socks[id];
    s->rcvq += g->len ? g->len : 1;
    sm__delivered(w, g, id);
}

void sm__deliver(sm_world *w, const sm_segment *g)
{
    sm__tuple t;
    t.host = g->dst_host;
    t.proto = g->proto;
    t.la = g->dst.addr;
    t.lp = g->dst.port;
    t.ra = g->src.addr;
    t.rp = g->src.port;
    const sm_rule *rule;
    if (g->proto == SM_UDP) {
        if (sm_addr_is_multicast(&g->dst.addr)) {
            /* Every socket bound to the group (or the wildcard) on the port,
             * on every host. */
            for (size_t h = 0; h < w->nhosts; h++) {
                uint32_t bi;
                if (!sm__lindex_find(w->net, sm__lkey((sm_id)h, SM_UDP, g->dst.port), &bi))
                    continue;
                const sm__lbucket *b = &w->net->lbs[bi];
                for (uint32_t i = 0; i < b->n; i++)
                    if (sm__listener_match(&w->socks[b->ids[i]], &g->dst.addr, g->dst.addr.family))
                        udp_deliver(w, b->ids[i], g);
            }
            return;
        }
        uint32_t c = sm__ctab_find(w, &t);
        if (c != SM__NONE32) {
            udp_deliver(w, c, g);
            return;
        }
        sm_id l = sm__find_listener(w, g->dst_host, SM_UDP, &g->dst.addr, g->dst.port,
                                &g->src.addr, g->src.port, &rule);
        if (l != SM_NONE) {
            if (rule)
                sm__note(w, SM_EV_LISTENER, l, 0, rule);
            udp_deliver(w, l, g);
        } else
            sm__delivered(w, g, SM_NONE);
        return;
    }
    if ((g->flags & (SM_TH_SYN | SM_TH_FIN)) == (SM_TH_SYN | SM_TH_FIN) &&
        w->hosts[g->dst_host].tun[SM_TUN_DROP_SYNFIN]) {
        sm__delivered(w, g, SM_NONE);
        return; /* FreeBSD net.inet.tcp.drop_synfin */
    }
    uint32_t c = sm__ctab_find(w, &t);
    if (c != SM__NONE32) {
        if (c & SM__TW_BIT)
            sm__tw_input(w, c & ~SM__TW_BIT, g);
        else {
            sm__delivered(w, g, c);
            tcp_input(w, c, g);
        }
        return;
    }
    if ((g->flags & (SM_TH_SYN | SM_TH_ACK | SM_TH_RST)) == SM_TH_SYN) {
        sm_id l = sm__find_listener(w, g->dst_host, SM_TCP, &g->dst.addr, g->dst.port,
                                &g->src.addr, g->src.port, &rule);
        if (l != SM_NONE) {
            if (rule)
                sm__note(w, SM_EV_LISTENER, l, 0, rule);
            sm__delivered(w, g, l);
            sm__listener_syn(w, l, g, false, 0);
            return;
        }
    } else if (!(g->flags & (SM_TH_ACK | SM_TH_RST)) ||
               ((g->flags & SM_TH_SYN) && sm__hprof(w, g->dst_host)->tcp->listener_drops_synack)) {
        /* A listener drops a segment without SYN or ACK (RFC 9293
         * 3.10.7.2, "other text or control"), and where the OS says so a
         * SYN+ACK. */
        if (sm__find_listener(w, g->dst_host, SM_TCP, &g->dst.addr, g->dst.port,
                              &g->src.addr, g->src.port, &rule) != SM_NONE) {
            sm__delivered(w, g, SM_NONE);
            return;
        }
    }
    sm__delivered(w, g, SM_NONE);
    sm__reply_rst(w, g); /* no socket: RST (ECONNREFUSED at a connecting peer) */
}

bool sm_net_inject(sm_world *w, const sm_segment *seg)
{
    sm_segment g = *seg;
    g.time_ns = w->now_ns;
    g.src_host = SM_NONE;
    g.no = 0; /* not one of the world's sends */
    g.src.addr = sm__canon(&g.src.addr);
    g.dst.addr = sm__canon(&g.dst.addr);
    if (!w->nhosts || sm_addr_is_loopback(&g.dst.addr))
        return false; /* a loopback address is no peer's to reach */
    g.dst_host = sm__host_of(w, 0, &g.dst.addr);
    if (g.dst_host == SM_NONE)
        return false;
    if (sm__net(w)->tap)
        w->net->tap(w->net->tap_ctx, &g);
    sm__deliver(w, &g);
    return true;
}

/* The receive window the sequence checks of RSTs and SYNs use. */
static uint32_t check_wnd(const sm_world *w, const sm__sock *s)
{
    const sm_tcp_rules *t = sm__hprof(w, s->host)->tcp;
    if (s->state == SM_SYN_RECEIVED && s->listener != SM_NONE)
        return t->synq_rcv_wnd ? t->synq_rcv_wnd : SM__RCVBUF;
    uint32_t b = t->rcvbuf ? t->rcvbuf : SM__RCVBUF;
    uint32_t mss = sm__canon(&s->remote.addr).family == 6 ? 1440 : 1460;
    return t->rcvbuf_mss_round ? (b + mss - 1) / mss * mss : b;
}

static void child_established(sm_world *w, sm_id id)
{
    sm__sock *c = &w->socks[id];
    sm_id lid = c->listener;
    if (lid == SM_NONE)
        return;
    sm__sock *l = &w->socks[lid];
    if (c->kslot != SM__NONE32 && c->kslot < l->sq_n && l->synq[c->kslot] == id) {
        sm_id last = l->synq[--l->sq_n];
        l->synq[c->kslot] = last;
        w->socks[last].kslot = c->kslot;
    }
    c->kslot = SM__NONE32;
    if (l->aq_n == l->aq_cap) {
        uint32_t nc = l->aq_cap ? l->aq_cap * 2 : 8;
        sm_id *q = sm__realloc(w, NULL, nc * sizeof *q);
        if (!q)
            return; /* not queued; the world breaks */
        for (uint32_t i = 0; i < l->aq_n; i++)
            q[i] = l->acceptq[(l->aq_head + i) % l->aq_cap];
        free(l->acceptq);
        l->acceptq = q;
        l->aq_cap = nc;
        l->aq_head = 0;
    }
    l->acceptq[(l->aq_head + l->aq_n) % l->aq_cap] = id;
    l->aq_n++;
}

/* Our FIN was acknowledged. */
static void fin_acked(sm_world *w, sm_id id)
{
    sm__sock *s = &w->socks[id];
    switch (s->state) {
    case SM_FIN_WAIT_1:
        s->state = SM_FIN_WAIT_2;
        if (s->orphan)
            sm__set_timer(w, id, SM__T_FIN_WAIT_2,
                      sm_time_add(w->now_ns, sm_time_ms((uint64_t)w->hosts[s->host].tun[SM_TUN_FIN_TIMEOUT_MS])));
        break;
    case SM_CLOSING:
        sm__tw_enter(w, id, NULL);
        break;
    case SM_LAST_ACK:
        sm__conn_destroy(w, id);
        break;
    default:
        break;
    }
}

static void tcp_input(sm_world *w, sm_id id, const sm_segment *g)
{
    sm__sock *s = &w->socks[id];
    if (s->state == SM_SYN_SENT) {
        if ((g->flags & SM_TH_ACK) && g->ack != s->snd_nxt) {
            /* An ACK for something we never sent (e.g. from a TIME_WAIT of
             * an older connection): answer with a RST, keep trying. */
            if (!(g->flags & SM_TH_RST))
                sm__emit(w, s->host, &s->local_addr, s->port, &s->remote.addr,
                     s->remote.port, SM_TCP, SM_TH_RST, g->ack, 0, 0, 0, false, 0, 0);
            return;
        }
        if (g->flags & SM_TH_RST) {
            if (g->flags & SM_TH_ACK)
                sm__conn_reset(w, id, SM_ECONNREFUSED);
            return;
        }
        if ((g->flags & SM_TH_SYN) && (g->flags & SM_TH_ACK)) {
            /* Data on the SYN+ACK is taken at once (RFC 9293 3.10.7.3). */
            uint32_t take = g->len < SM__RCVBUF ? g->len : SM__RCVBUF;
            s->irs = g->seq;
            s->rcv_nxt = g->seq + 1 + take;
            s->rcvq += take;
            s->snd_una = g->ack;
            s->snd_wnd = g->window;
            s->ts_ok = s->ts_ok && g->has_ts;
            s->ts_recent = g->tsval;
            s->state = SM_ESTABLISHED;
            s->mss_known = true;
            sm__set_timer(w, id, SM__T_NONE, 0);
            w->net->stats.connections++;
            sm__send_flags(w, s, SM_TH_ACK, s->snd_nxt, 0);
            sm__tcp_output(w, s);
        } else if ((g->flags & SM_TH_SYN) && sm__hprof(w, s->host)->tcp->simultaneous_open) {
            /* Simultaneous open (RFC 9293 3.5): SYN_RECEIVED, SYN+ACK. */
            s->irs = g->seq;
            s->rcv_nxt = g->seq + 1;
            s->snd_wnd = g->window;
            s->ts_ok = s->ts_ok && g->has_ts;
            s->ts_recent = g->tsval;
            s->peer_ws = seg_has_opt(g, 3);
            s->peer_sack = seg_has_opt(g, 4);
            s->state = SM_SYN_RECEIVED;
            s->mss_known = true;
            s->syn_data = g->len < SM__RCVBUF ? g->len : SM__RCVBUF; /* queued until ESTABLISHED */
            sm__send_flags(w, s, SM_TH_SYN | SM_TH_ACK, s->iss, 0);
        }
        return;
    }
    const sm_tcp_rules *rules = sm__hprof(w, s->host)->tcp;
    bool in_wnd = g->seq - s->rcv_nxt < check_wnd(w, s);
    if (g->flags & SM_TH_RST) {
        /* At rcv_nxt: accepted.  Elsewhere in the window: a challenge ACK
         * (RFC 5961 3.2), or accepted where the OS is told to be insecure;
         * out of the window: dropped. */
        if (g->seq != s->rcv_nxt) {
            if (!rules->rfc5961 || !in_wnd)
                return;
            if (!w->hosts[s->host].tun[SM_TUN_INSECURE_RST]) {
                sm__send_seg(w, s, SM_TH_ACK, s->snd_nxt, 0);
                return;
            }
        }
        if (s->state == SM_SYN_RECEIVED && !s->accepted) {
            sm__conn_destroy(w, id);
            return;
        }
        bool quiet = s->state == SM_CLOSING || s->state == SM_LAST_ACK;
        sm__conn_reset(w, id, quiet ? rules->rst_in_closing
                          : s->state == SM_SYN_RECEIVED ? SM_ECONNREFUSED /* RFC 9293 3.10.7.4 */
                          : s->state == SM_CLOSE_WAIT ? rules->rst_in_close_wait
                                                      : SM_ECONNRESET);
        return;
    }
    if (g->flags & SM_TH_SYN) {
        /* SYN on a synchronized connection: a challenge ACK (RFC 5961 4.2),
         * or where the OS is told to be insecure, an in-window SYN resets
         * the connection (RFC 793). */
        if (rules->rfc5961 && in_wnd && w->hosts[s->host].tun[SM_TUN_INSECURE_SYN]) {
            sm__send_rst_for(w, s);
            sm__conn_reset(w, id, SM_ECONNRESET);
            return;
        }
        sm__send_seg(w, s, SM_TH_ACK, s->snd_nxt, 0);
        return;
    }
    if (!(g->flags & SM_TH_ACK))
        return;
    if (g->has_ts)
        s->ts_recent = g->tsval;
    if (s->state == SM_SYN_RECEIVED) {
        if (g->ack != s->snd_nxt) {
            sm__reply_rst(w, g);
            return;
        }
        s->state = SM_ESTABLISHED;
        s->snd_una = g->ack;
        s->rcvq += s->syn_data; /* the SYN's data, queued (RFC 9293 3.10.7.3) */
        s->rcv_nxt += s->syn_data;
        s->syn_data = 0;
        w->net->stats.connections++;
        child_established(w, id);
        s = &w->socks[id];
    }
    /* ACK processing. */
    if ((int32_t)(g->ack - s->snd_una) > 0 && (int32_t)(g->ack - s->snd_nxt) <= 0)
        s->snd_una = g->ack;
    s->snd_wnd = g->window;
    bool fin_now_acked = s->fin_sent && s->snd_una == s->snd_nxt &&
                         (s->state == SM_FIN_WAIT_1 || s->state == SM_CLOSING ||
                          s->state == SM_LAST_ACK);
    if (fin_now_acked) {
        sm_tcp_state before = s->state;
        fin_acked(w, id);
        if (before != SM_FIN_WAIT_1)
            return; /* TIME_WAIT or gone */
        s = &w->socks[id];
    }
    bool need_ack = false;
    if (g->len && g->seq == s->rcv_nxt) {
        if (s->orphan) {
            /* Data for a socket nobody will read: RST and gone
             * (Linux tcp_rcv_state_process, FreeBSD tcp_input). */
            sm__send_rst_for(w, s);
            sm__conn_destroy(w, id);
            return;
        }
        uint32_t room = sm__adv_window(s);
        uint32_t take = g->len < room ? g->len : room;
        s->rcvq += take;
        s->rcv_nxt += take;
        need_ack = true;
    }
    if ((g->flags & SM_TH_FIN) && g->seq + g->len == s->rcv_nxt &&
        !s->peer_fin) {
        s->rcv_nxt++;
        s->peer_fin = true;
        need_ack = true;
        switch (s->state) {
        case SM_ESTABLISHED:
            s->state = SM_CLOSE_WAIT;
            break;
        case SM_FIN_WAIT_1:
            s->state = SM_CLOSING;
            break;
        case SM_FIN_WAIT_2:
            sm__send_flags(w, s, SM_TH_ACK, s->snd_nxt, 0);
            sm__tw_enter(w, id, NULL);
            return;
        default:
            break;
        }
    }
    if (!sm__tcp_output(w, s) && need_ack)
        sm__send_flags(w, s, SM_TH_ACK, s->snd_nxt, 0);
}

