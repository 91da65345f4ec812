/*
 * sm_timewait.c - TIME_WAIT: what is left of a connection after its
 * socket is gone.  An entry is a 64-byte record in chunks that never
 * move; it holds its port in the bind table and its 4-tuple in the demux
 * like a socket, answers segments for that 4-tuple (a retransmitted FIN,
 * a RST, a SYN that the profile may let through), and expires in a FIFO
 * per host (every entry of a host lasts as long, so the order is the
 * expiry order) with one heap event for the FIFO's head.
 */
#include "sm_demux.h"
#include "sm_port.h"
#include "sm_prof.h"
#include "sm_tcp.h"
#include "sm_timewait.h"

#include <stdlib.h>
#include <string.h>

/* ---- rule records: what this file decides, with ID, source and tag ---- */

static const sm_rule r_limit_tw_users = SM_RULE("sm.limit.tw-users", S,
    "a TIME_WAIT entry holds at most 2^17 users",
    "");
static const sm_rule r_limit_tw_entries = SM_RULE("sm.limit.tw-entries", S,
    "the model holds at most 2^31 TIME_WAIT entries",
    "");

static const sm_rule r_tw_enter = SM_RULE("sm.tw.enter", S,
    "the side that closed first keeps the connection's 4-tuple in TIME_WAIT "
    "for this OS's 2MSL", "RFC 9293 3.6, 3.10.7.4");
static const sm_rule r_tw_expired = SM_RULE("sm.tw.expired", S,
    "the TIME_WAIT entry's 2MSL ran out: the 4-tuple is free", "RFC 9293 3.10.8");

static uint32_t tw_addr_store(sm_world *w, const sm_addr *a)
{
    uint32_t v;
    if (a->family == 4)
        memcpy(&v, a->b, 4);
    else
        v = sm__intern(w, a->b, 16);
    return v;
}

/* ---- the admission rule (sm_profile.h; replay asks it too) ---------------- */

sm_tw_admit sm_tw_admission(const sm_profile *p, const int64_t *tun, uint64_t alive,
                            bool peer_loopback, bool peer_own, const sm_rule **rule)
{
    static const sm_tcp_rules none; /* a profile without connection rules */
    const sm_tcp_rules *r = p->tcp ? p->tcp : &none;
    *rule = NULL;
    /* FreeBSD net.inet.tcp.nolocaltimewait: every own address; Solaris:
     * loopback peers only. */
    if (tun[SM_TUN_NOLOCALTIMEWAIT] &&
        (r->local_tw_purge_rule_is_loopback_only ? peer_loopback : peer_own)) {
        *rule = r->no_local_tw_rule;
        return SM_TW_NOT_KEPT_LOCAL;
    }
    /* A negative cap means none; 0 keeps no TIME_WAIT at all (Linux). */
    int64_t cap = tun[SM_TUN_MAX_TW];
    if (cap < 0 || alive < (uint64_t)cap)
        return SM_TW_KEPT;
    *rule = r->tw_overflow_rule;
    return r->tw_overflow_recycles && alive > 0 ? SM_TW_KEPT_RECYCLE : SM_TW_NOT_KEPT_CAP;
}

bool sm_tw_rst_ends(const sm_profile *p, const int64_t *tun, bool in_window,
                    const sm_rule **rule)
{
    /* RFC 1337: an OS that protects TIME_WAIT ignores the RST. */
    *rule = p->tcp ? p->tcp->rst_in_tw_rule : NULL;
    return !tun[SM_TUN_RFC1337] && in_window;
}

enum sm_tw_data sm_tw_data_action(const sm_profile *p, const sm_rule **rule)
{
    *rule = p->tcp ? p->tcp->tw_data_rule : NULL;
    return p->tcp ? p->tcp->tw_data : SM_TW_DATA_ACK;
}

uint64_t sm__tw_seq(const sm_world *w, const sm__tw *x)
{
    /* The low 32 bits are kept; the entry is older than the host's count,
     * and by fewer than 2^32 bindings. */
    uint64_t now = w->hosts[x->host].bind_seq;
    return now - (uint32_t)((uint32_t)now - x->seq_lo);
}

/* ---- TIME_WAIT entries ---------------------------------------------------------- */

static void tw_fifo_unlink(sm_world *w, uint32_t t)
{
    sm__tw *x = sm__tw_at(w, t);
    sm__host *h = &w->hosts[x->host];
    if (x->prev != SM__NONE32)
        sm__tw_at(w, x->prev)->next = x->next;
    else
        h->tw_oldest = x->next;
    if (x->next != SM__NONE32)
        sm__tw_at(w, x->next)->prev = x->prev;
    else
        h->tw_newest = x->prev;
}

/* Append in expiry order (from the tail: O(1) unless the length changed). */
static void tw_fifo_insert(sm_world *w, uint32_t t)
{
    sm__tw *x = sm__tw_at(w, t);
    sm__host *h = &w->hosts[x->host];
    uint32_t after = h->tw_newest;
    while (after != SM__NONE32 && sm__tw_at(w, after)->expire_ns > x->expire_ns)
        after = sm__tw_at(w, after)->prev;
    x->prev = after;
    if (after == SM__NONE32) {
        x->next = h->tw_oldest;
        h->tw_oldest = t;
    } else {
        x->next = sm__tw_at(w, after)->next;
        sm__tw_at(w, after)->next = t;
    }
    if (x->next != SM__NONE32)
        sm__tw_at(w, x->next)->prev = t;
    else
        h->tw_newest = t;
    if (h->tw_oldest == t)
        sm__ev_push(w, x->expire_ns, SM__EV_TW_HEAD, x->host);
}

/* Tells the event tap that entry t ends (at its time or not). */
void sm__tw_note_end(sm_world *w, uint32_t t, uint32_t at_time, const sm_rule *rule)
{
    if (!w->net->etap)
        return;
    const sm__tw *x = sm__tw_at(w, t);
    sm__note(w, SM_EV_TW_END, (x->meta & SM__TWM_ATT) ? x->who : SM_NONE, at_time, rule);
}

void sm__tw_kill(sm_world *w, uint32_t t)
{
    sm__tw *x = sm__tw_at(w, t);
    sm__ctab_del(w, t | SM__TW_BIT);
    sm__table_remove(w, t | SM__TW_BIT);
    tw_fifo_unlink(w, t);
    sm__host *h = &w->hosts[x->host];
    if (--h->tw_count == 0)
        sm_tw_reaper_empty(&h->tw_reaper, h->tun, w->now_ns);
    w->net->tw_total--;
    if (x->meta & SM__TWM_ATT) {
        sm__sock *s = &w->socks[x->who];
        s->tw = SM__NONE32;
        s->state = SM_CLOSED;
    }
    x->meta &= ~(uint32_t)SM__TWF_LIVE;
    x->next = w->tw_free;
    w->tw_free = t;
}

void sm__tw_view_fill(const sm_world *w, uint32_t t, sm_sock_view *v)
{
    const sm__tw *x = sm__tw_at(w, t);
    uint32_t f = x->meta & 0xffu;
    memset(v, 0, sizeof *v);
    bool att = (x->meta & SM__TWM_ATT) != 0;
    v->id = att ? x->who : SM_NONE;
    v->name = att ? sm__sock_name(w, x->who) : w->interned[x->who];
    v->proto = SM_TCP;
    v->family = (x->meta & SM__TWM_FAM6) ? 6 : 4;
    sm_addr la = sm__tw_addr(w, x, x->la), ra = sm__tw_addr(w, x, x->ra);
    v->local_addr = v->bound_addr = sm__in_family(&la, v->family);
    v->port = x->lport;
    v->state = SM_TIME_WAIT;
    v->bound = true;
    v->connected = true;
    v->remote.addr = sm__in_family(&ra, v->family);
    v->remote.port = x->rport;
    v->time_wait = true;
    v->fd_open = false;
    v->at_bind.reuseaddr = (f & SM__TWF_RA) != 0;
    v->at_bind.reuseport = (f & SM__TWF_RP) != 0;
    v->at_bind.reuseport_lb = (f & SM__TWF_RPLB) != 0;
    v->at_bind.exclusiveaddruse = v->at_bind.exclbind = (f & SM__TWF_EXCL) != 0;
    v->at_bind.v6only = (f & SM__TWF_V6ONLY) != 0;
    v->now = v->at_bind;
    v->uid = w->users[x->meta >> SM__TWM_USER_SHIFT].uid;
    v->privileged = (f & SM__TWF_PRIV) != 0;
    v->how = (enum sm_how_bound)((x->meta >> SM__TWM_HOW_SHIFT) & 7u);
    v->seq = sm__tw_seq(w, x);
    v->tw_since_ms = x->since_ms;
    v->tw_ts = (f & SM__TWF_TS) != 0;
    v->accepted = v->how == SM_BOUND_ACCEPTED;
    v->addr_named = (x->meta & SM__TWM_NAMED) != 0;
}

/* The first run at or after `at` of a collector that runs every
 * SM_TUN_TW_REAP_MS from anchor on. */
static uint64_t next_run(const int64_t *tun, uint64_t anchor, uint64_t at)
{
    uint64_t period = sm_time_ms((uint64_t)tun[SM_TUN_TW_REAP_MS]);
    if (at <= anchor)
        return anchor;
    uint64_t off = (at - anchor) % period;
    return off ? sm_time_add(at, period - off) : at;
}

/* When a TIME_WAIT entry that (re)starts its 2MSL now ends: the profile's
 * length for this connection (or the host's TIME_WAIT tunable), rounded up
 * to the next run of a collector where the OS frees entries only there. */
uint64_t sm_tw_length_ms(const sm_profile *p, const sm_tw_len_ctx *c)
{
    return sm__prof_time_wait_ms(p, c, (uint64_t)c->tun[SM_TUN_TIME_WAIT_MS]);
}

uint64_t sm_tw_expiry_ns(const sm_profile *p, const sm_tw_len_ctx *c, uint64_t now_ns)
{
    uint64_t ms = sm_tw_length_ms(p, c);
    uint64_t at = sm_time_add(now_ns, sm_time_ms(ms));
    if (c->tun[SM_TUN_TW_REAP_MS] > 0) /* the collector's first run from then on */
        at = next_run(c->tun, c->reap_anchor_ns, at);
    return at;
}

void sm_tw_reaper_enter(sm_tw_reaper *r, const int64_t *tun, uint64_t live,
                        uint64_t now_ns)
{
    if (tun[SM_TUN_TW_REAP_MS] > 0 && live == 0 && now_ns > r->stop_ns)
        r->anchor_ns = now_ns; /* it was stopped: armed now */
}

void sm_tw_reaper_empty(sm_tw_reaper *r, const int64_t *tun, uint64_t now_ns)
{
    if (tun[SM_TUN_TW_REAP_MS] > 0)
        r->stop_ns = next_run(tun, r->anchor_ns, now_ns);
}

static uint64_t tw_expire_at(const sm_world *w, sm_id host, const sm_addr *la,
                             const sm_addr *ra)
{
    const sm__host *h = &w->hosts[host];
    sm_tw_len_ctx c = {.tun = h->tun, .local = *la, .remote = *ra,
                       .host_addrs = h->addrs, .n_host_addrs = h->naddrs,
                       .reap_anchor_ns = h->tw_reaper.anchor_ns};
    return sm_tw_expiry_ns(h->prof, &c, w->now_ns);
}

/* Socket s reached TIME_WAIT: replace it by a small entry, or by nothing
 * where this OS keeps none. */
void sm__tw_enter(sm_world *w, sm_id id, const sm_rule **why)
{
    sm__sock *s = &w->socks[id];
    sm__host *h = &w->hosts[s->host];
    const int64_t *tun = h->tun;
    bool loopback = false, own = false; /* read only under NOLOCALTIMEWAIT */
    if (tun[SM_TUN_NOLOCALTIMEWAIT]) {
        sm_addr peer = sm__canon(&s->remote.addr);
        loopback = sm_addr_is_loopback(&peer);
        own = sm__host_of(w, s->host, &peer) == s->host;
    }
    const sm_rule *rule;
    switch (sm_tw_admission(h->prof, tun, h->tw_count, loopback, own, &rule)) {
    case SM_TW_KEPT:
        break;
    case SM_TW_KEPT_RECYCLE:
        w->net->stats.tw_overflow++;
        sm__tw_note_end(w, h->tw_oldest, 0, rule);
        sm__tw_kill(w, h->tw_oldest);
        break;
    case SM_TW_NOT_KEPT_CAP:
        w->net->stats.tw_overflow++;
        /* fall through */
    case SM_TW_NOT_KEPT_LOCAL:
        sm__note(w, SM_EV_TW_SKIP, id, 0, rule);
        if (why)
            *why = rule;
        sm__conn_destroy(w, id);
        return;
    }
    /* Whatever can fail comes before any change: the addresses, then the
     * entry's record.  A failure leaves the connection as it was (and the
     * world broken). */
    s = &w->socks[id];
    uint32_t user = w->procs[s->proc].user;
    if (user > SM__TWM_USER_MAX) {
        sm__break(w, SM_ENOMEM, &r_limit_tw_users);
        return;
    }
    sm_addr la = sm__canon(&s->local_addr), ra = sm__canon(&s->remote.addr);
    uint32_t las = tw_addr_store(w, &la), ras = tw_addr_store(w, &ra);
    if (w->broken)
        return;
    uint32_t t;
    if (w->tw_free != SM__NONE32) {
        t = w->tw_free;
        w->tw_free = sm__tw_at(w, t)->next;
    } else {
        /* Entries live in chunks that never move: no copy of the whole
         * table as it grows, no transient double of it. */
        if (w->ntws >> SM__TW_CHUNK_BITS == w->nchunks) {
            if (w->ntws >= (size_t)SM__TW_BIT) {
                sm__break(w, SM_ENOMEM, &r_limit_tw_entries);
                return;
            }
            SM__GROW(w, w->tw_chunks, w->nchunks, w->chunkcap, return);
            sm__tw *chunk = sm__big_alloc(sizeof(sm__tw) << SM__TW_CHUNK_BITS);
            if (!chunk) {
                sm__oom(w);
                return;
            }
            w->tw_chunks[w->nchunks++] = chunk;
        }
        t = (uint32_t)w->ntws++;
    }
    s = &w->socks[id];
    sm__tw *x = sm__tw_at(w, t);
    memset(x, 0, sizeof *x);
    x->who = id;
    x->la = las;
    x->ra = ras;
    x->lport = s->port;
    x->rport = s->remote.port;
    const sm_opts *o = &s->at_bind;
    x->meta = SM__TWF_LIVE | (s->privileged ? SM__TWF_PRIV : 0u) |
              (s->ts_ok ? SM__TWF_TS : 0u) | (o->reuseaddr ? SM__TWF_RA : 0u) |
              (o->reuseport ? SM__TWF_RP : 0u) | (o->reuseport_lb ? SM__TWF_RPLB : 0u) |
              (o->exclusiveaddruse || o->exclbind ? SM__TWF_EXCL : 0u) |
              (o->v6only ? SM__TWF_V6ONLY : 0u) | (s->family == 6 ? SM__TWM_FAM6 : 0u) |
              (la.family == 6 ? SM__TWM_WIRE6 : 0u) |
              (uint32_t)s->how << SM__TWM_HOW_SHIFT | SM__TWM_ATT |
              (s->addr_named ? SM__TWM_NAMED : 0u) |
              user << SM__TWM_USER_SHIFT;
    x->host = s->host;
    x->snd_nxt = s->snd_nxt;
    x->rcv_nxt = s->rcv_nxt;
    x->ts_recent = s->ts_recent;
    x->since_ms = (uint32_t)(w->now_ns / SM__NS_PER_MS);
    h = &w->hosts[x->host];
    sm_tw_reaper_enter(&h->tw_reaper, h->tun, h->tw_count, w->now_ns);
    x->expire_ns = tw_expire_at(w, x->host, &la, &ra);
    x->seq_lo = (uint32_t)s->seq;
    sm__note(w, SM_EV_TW_ENTER, id, (uint32_t)((x->expire_ns - w->now_ns) / SM__NS_PER_MS),
             &r_tw_enter);
    /* The socket leaves both tables; the entry takes its place. */
    if (s->in_ctab) {
        sm__ctab_del(w, id);
        s->in_ctab = false;
    }
    if (s->bound)
        sm__table_remove(w, id);
    if (s->timer_kind != SM__T_NONE)
        sm__set_timer(w, id, SM__T_NONE, 0);
    s = &w->socks[id];
    s->bound = false;
    s->connected = false;
    s->state = SM_TIME_WAIT;
    s->tw = t;
    /* (Out of memory here breaks the world; the entry stays half-entered
     * until the world is freed.) */
    sm__ctab_add(w, t | SM__TW_BIT);
    sm__table_insert(w, t | SM__TW_BIT);
    tw_fifo_insert(w, t);
    h = &w->hosts[sm__tw_at(w, t)->host];
    h->tw_count++;
    sm__sock_maybe_free(w, id);
    struct sm__net *n = w->net;
    if (++n->tw_total > n->stats.time_wait_peak)
        n->stats.time_wait_peak = n->tw_total;
}

void sm__tw_expire_due(sm_world *w, sm_id host)
{
    sm__host *h = &w->hosts[host];
    while (h->tw_oldest != SM__NONE32 && sm__tw_at(w, h->tw_oldest)->expire_ns <= w->now_ns) {
        sm__tw_note_end(w, h->tw_oldest, 1, &r_tw_expired);
        sm__tw_kill(w, h->tw_oldest);
    }
    if (h->tw_oldest != SM__NONE32)
        sm__ev_push(w, sm__tw_at(w, h->tw_oldest)->expire_ns, SM__EV_TW_HEAD, host);
}

void sm__tw_input(sm_world *w, uint32_t t, const sm_segment *g)
{
    sm__tw *x = sm__tw_at(w, t);
    const int64_t *tun = w->hosts[x->host].tun;
    sm_id owner = (x->meta & SM__TWM_ATT) ? x->who : SM_NONE;
    if (g->flags & SM_TH_RST) {
        sm__delivered(w, g, owner);
        const sm_rule *rule;
        if (sm_tw_rst_ends(sm__hprof(w, x->host), tun, g->seq == x->rcv_nxt, &rule)) {
            sm__tw_note_end(w, t, 0, rule);
            sm__tw_kill(w, t);
        }
        return;
    }
    if ((g->flags & SM_TH_SYN) && !(g->flags & SM_TH_ACK)) {
        const sm_rule *rule;
        sm_id l = sm__find_listener(w, x->host, SM_TCP, &g->dst.addr, g->dst.port,
                                &g->src.addr, g->src.port, &rule);
        sm_tw_syn_ctx c;
        memset(&c, 0, sizeof c);
        c.tun = tun;
        sm__tw_view_fill(w, t, &c.tw);
        c.seg_seq = g->seq;
        c.rcv_nxt = x->rcv_nxt;
        c.rcv_wnd = SM__RCVBUF;
        c.seg_ts = g->has_ts;
        c.seg_tsval = g->tsval;
        c.ts_recent = x->ts_recent;
        c.listener = l != SM_NONE;
        const sm_rule *breach;
        sm_tw_syn_verdict v = sm__prof_tw_syn(sm__hprof(w, x->host), &c, &breach);
        if (breach) {
            /* The SYN is dropped; every later call reports the breach. */
            sm__break(w, SM_EPROTO, breach);
            return;
        }
        /* An accepted SYN ends the entry and goes on to the listener. */
        sm__delivered(w, g, v.action == SM_TW_SYN_ACCEPT ? l : owner);
        uint32_t snd = x->snd_nxt, rcv = x->rcv_nxt;
        switch (v.action) {
        case SM_TW_SYN_ACCEPT:
            sm__tw_note_end(w, t, 0, v.rule);
            sm__tw_kill(w, t);
            if (l != SM_NONE) {
                if (rule)
                    sm__note(w, SM_EV_LISTENER, l, 0, rule);
                sm__listener_syn(w, l, g, true, snd);
            }
            else
                sm__reply_rst(w, g);
            break;
        case SM_TW_SYN_ACK:
            sm__emit(w, g->dst_host, &g->dst.addr, g->dst.port, &g->src.addr, g->src.port,
                 SM_TCP, SM_TH_ACK, snd, rcv, (uint16_t)SM__RCVBUF, 0, false, 0, 0);
            break;
        case SM_TW_SYN_RST:
            sm__emit(w, g->dst_host, &g->dst.addr, g->dst.port, &g->src.addr, g->src.port,
                 SM_TCP, SM_TH_RST | SM_TH_ACK, snd, g->seq + 1, 0, 0, false, 0, 0);
            break;
        case SM_TW_SYN_DROP:
            break;
        }
        return;
    }
    sm__delivered(w, g, owner);
    bool ack_non_dup = sm__hprof(w, x->host)->tcp->tw_ack_non_dup;
    if (ack_non_dup && !(g->flags & SM_TH_ACK))
        return; /* FreeBSD tcp_twcheck(): no ACK, drop */
    if (g->len && (int32_t)(g->seq - x->rcv_nxt) >= 0) {
        /* new data: the profile says what this OS does */
        const sm_rule *rule;
        enum sm_tw_data a = sm_tw_data_action(sm__hprof(w, x->host), &rule);
        if (a == SM_TW_DATA_DROP)
            return;
        if (a == SM_TW_DATA_RST) {
            bool ack = g->flags & SM_TH_ACK;
            sm__emit(w, g->dst_host, &g->dst.addr, g->dst.port, &g->src.addr, g->src.port,
                     SM_TCP, ack ? SM_TH_RST : SM_TH_RST | SM_TH_ACK, ack ? g->ack : 0,
                     ack ? 0 : g->seq + g->len, 0, 0, false, 0, 0);
            sm__tw_kill(w, t);
            return;
        }
    }
    if (g->flags & SM_TH_FIN) {
        /* A retransmitted FIN: ACK it again and restart the 2MSL timer. */
        tw_fifo_unlink(w, t);
        sm_addr la = sm__tw_addr(w, x, x->la), ra = sm__tw_addr(w, x, x->ra);
        x = sm__tw_at(w, t);
        x->expire_ns = tw_expire_at(w, x->host, &la, &ra);
        tw_fifo_insert(w, t);
    }
    if ((g->flags & SM_TH_FIN) || g->len ||
        (ack_non_dup && ((g->flags & 0x1f) != SM_TH_ACK || g->seq != x->rcv_nxt ||
                         g->ack != x->snd_nxt)))
        sm__emit(w, g->dst_host, &g->dst.addr, g->dst.port, &g->src.addr, g->src.port,
             SM_TCP, SM_TH_ACK, x->snd_nxt, x->rcv_nxt, (uint16_t)SM__RCVBUF, 0, false, 0, 0);
}

void sm__tws_free(sm_world *w)
{
    for (size_t i = 0; i < w->nchunks; i++)
        sm__big_free(w->tw_chunks[i], sizeof(sm__tw) << SM__TW_CHUNK_BITS);
    free(w->tw_chunks);
}

/* Every rule record of this file (docs/rules.md). */
static const sm_rule *const rules_of_file[] = {
    &r_limit_tw_users,
    &r_limit_tw_entries,
    &r_tw_enter,
    &r_tw_expired,
};
const sm_rule_set sm__rules_sm_timewait = {"engine/sm_timewait.c", rules_of_file,
    sizeof rules_of_file / sizeof rules_of_file[0]};
