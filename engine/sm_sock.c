/*
 * sm_sock.c - socket records: the layout a view is copied from, records
 * recycled when their socket is gone, the end of a connection, and what
 * callers may observe of a socket.
 */
#include "sm_demux.h"
#include "sm_port.h"
#include "sm_sock-inl.h"
#include "sm_tcp.h"
#include "sm_timewait.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* ---- the view layout --------------------------------------------------- */

/* A socket record holds the members of its view from proto to listen_seq
 * in the view's own layout (sm_sock.h); these keep it so. */
#define VIEW_AT(sm, vm)                                                             \
    _Static_assert(offsetof(sm__sock, sm) - offsetof(sm__sock, proto) ==             \
                           offsetof(sm_sock_view, vm) - offsetof(sm_sock_view, proto) && \
                       sizeof(((sm__sock *)0)->sm) == sizeof(((sm_sock_view *)0)->vm),  \
                   "sm__sock." #sm " lies where sm_sock_view." #vm " does")
VIEW_AT(family, family);
VIEW_AT(bound_addr, bound_addr);
VIEW_AT(local_addr, local_addr);
VIEW_AT(port, port);
VIEW_AT(state, state);
VIEW_AT(bound, bound);
VIEW_AT(connected, connected);
VIEW_AT(remote, remote);
VIEW_AT(nonblock, time_wait);
VIEW_AT(fd_open, fd_open);
VIEW_AT(opt, now);
VIEW_AT(at_bind, at_bind);
VIEW_AT(uid, uid);
VIEW_AT(privileged, privileged);
VIEW_AT(how, how);
VIEW_AT(seq, seq);
VIEW_AT(listen_seq, listen_seq);

void sm_world_set_recycle(sm_world *w, bool on) { w->recycle = on; }

void sm__socks_free(sm_world *w)
{
    for (size_t i = 0; i < w->nsocks; i++) {
        free(w->socks[i].acceptq);
        free(w->socks[i].synq);
    }
    free(w->free_socks);
    free(w->socks);
}

/* ---- socket lifetime ----------------------------------------------------------- */

static void unlink_child(sm_world *w, sm_id id)
{
    sm__sock *c = &w->socks[id];
    if (c->listener == SM_NONE)
        return;
    sm__sock *l = &w->socks[c->listener];
    if (c->state == SM_SYN_RECEIVED || c->kslot != SM__NONE32) {
        if (c->kslot != SM__NONE32 && c->kslot < l->sq_n && l->synq[c->kslot] == id) {
            sm_id last = l->synq[--l->sq_n];
            l->synq[c->kslot] = last;
            w->socks[last].kslot = c->kslot;
            c->kslot = SM__NONE32;
        }
    }
    for (uint32_t i = 0; i < l->aq_n; i++) {
        uint32_t at = (l->aq_head + i) % l->aq_cap;
        if (l->acceptq[at] == id) {
            /* Close the gap, keeping FIFO order. */
            for (uint32_t j = i; j + 1 < l->aq_n; j++)
                l->acceptq[(l->aq_head + j) % l->aq_cap] =
                    l->acceptq[(l->aq_head + j + 1) % l->aq_cap];
            l->aq_n--;
            break;
        }
    }
    c->listener = SM_NONE;
}

/* The connection is over (reset, closed, timed out).  A socket whose
 * descriptor is gone disappears; an open one keeps its port if the
 * application bound it, and loses a port it only got by connecting. */
void sm__conn_destroy(sm_world *w, sm_id id)
{
    sm__sock *s = &w->socks[id];
    if (s->in_ctab) {
        sm__ctab_del(w, id);
        s->in_ctab = false;
    }
    if (s->timer_kind != SM__T_NONE)
        sm__set_timer(w, id, SM__T_NONE, 0);
    if (!s->aq_reset)
        unlink_child(w, id);
    s->state = SM_CLOSED;
    s->connected = false;
    s->fin_pending = false;
    s->sndq = 0;
    const sm_tcp_rules *rules = sm__hprof(w, s->host)->tcp;
    if (!s->fd_open || s->how == SM_BOUND_CONNECT || s->how == SM_BOUND_ACCEPTED ||
        (s->how == SM_BOUND_AUTO && rules->conn_end_frees_auto_port)) {
        if (s->bound) {
            sm__table_remove(w, id);
            s->name_kept = s->fd_open && rules->conn_end_keeps_name;
        }
        s->bound = false;
    }
    sm__sock_maybe_free(w, id);
}

void sm__sock_maybe_free(sm_world *w, sm_id id)
{
    sm__sock *s = &w->socks[id];
    if (!w->recycle || s->dead || s->fd_open || s->in_ctab || s->bound ||
        s->in_listen || s->listener != SM_NONE ||
        (s->state != SM_CLOSED && s->state != SM_TIME_WAIT))
        return;
    /* Room on the free list and the entry's name first: out of memory,
     * the record is not recycled (and the world breaks). */
    if (w->nfree_socks == w->free_sock_cap) {
        size_t cap = w->free_sock_cap ? w->free_sock_cap * 2 : 64;
        sm_id *f = sm__realloc(w, w->free_socks, cap * sizeof *w->free_socks);
        if (!f)
            return;
        w->free_socks = f;
        w->free_sock_cap = cap;
    }
    if (s->tw != SM__NONE32) {
        /* The entry outlives its socket: it keeps the socket's name. */
        if (s->name_id == SM__NONE32) {
            uint32_t nid = sm__name_id(w, sm__sock_name(w, id));
            if (nid == SM__NONE32)
                return;
            s->name_id = nid;
        }
        sm__tw *x = sm__tw_at(w, s->tw);
        x->who = s->name_id;
        x->meta &= ~SM__TWM_ATT;
    }
    s->tw = SM__NONE32;
    s->dead = true;
    s->state = SM_CLOSED;
    w->free_socks[w->nfree_socks++] = id;
}

/* An abortive end: a RST to the peer when a connection exists. */
void sm__conn_abort(sm_world *w, sm_id id)
{
    sm__sock *s = &w->socks[id];
    s->aq_reset = false; /* leaves the accept queue with its listener */
    if (s->state == SM_ESTABLISHED || s->state == SM_CLOSE_WAIT ||
        s->state == SM_FIN_WAIT_1 || s->state == SM_FIN_WAIT_2 ||
        s->state == SM_SYN_RECEIVED || s->state == SM_CLOSING || s->state == SM_LAST_ACK)
        sm__send_rst_for(w, s);
    sm__conn_destroy(w, id);
}

void sm__conn_reset(sm_world *w, sm_id id, sm_err e)
{
    sm__sock *s = &w->socks[id];
    const sm_tcp_rules *rules = sm__hprof(w, s->host)->tcp;
    if (!s->fd_open && s->listener != SM_NONE && s->kslot == SM__NONE32 &&
        s->state != SM_SYN_RECEIVED && rules->aq_reset != SM_AQR_DROP) {
        /* Established but not accepted yet: the OS keeps it queued. */
        s->aq_reset = true;
    }
    if (s->state == SM_SYN_SENT)
        s->conn_failed = true; /* its connect() failed, waited for or not */
    if (s->fd_open || s->aq_reset) {
        s->soerr = e;
        s->reset_sticky = e == SM_ECONNRESET && rules->reset_error_sticky;
    }
    sm__conn_destroy(w, id);
}

/* ---- observations ------------------------------------------------------- */

uint64_t sm_now(const sm_world *w) { return w->now_ns; }

sm_id sm_sock_find(const sm_world *w, const char *name)
{
    /* For tools and tests; the runner resolves names once at parse time. */
    for (size_t i = 0; i < w->nsocks; i++)
        if (strcmp(sm__sock_name(w, (sm_id)i), name) == 0)
            return (sm_id)i;
    return SM_NONE;
}

const char *sm_sock_name(const sm_world *w, sm_id s)
{
    return s < w->nsocks ? sm__sock_name(w, s) : "?";
}

sm_tcp_state sm_sock_state(const sm_world *w, sm_id s)
{
    if (s >= w->nsocks)
        return SM_CLOSED;
    if (w->socks[s].tw != SM__NONE32)
        return SM_TIME_WAIT;
    return w->socks[s].state;
}

bool sm_sock_option(const sm_world *w, sm_id s, sm_option o, int *v1, int *v2)
{
    if (s >= w->nsocks)
        return false;
    const sm_opts *p = &w->socks[s].opt;
    int a = 0, b = 0;
    switch (o) {
    case SM_SO_REUSEADDR: a = p->reuseaddr; break;
    case SM_SO_REUSEPORT: a = p->reuseport; break;
    case SM_SO_REUSEPORT_LB: a = p->reuseport_lb; break;
    case SM_SO_EXCLUSIVEADDRUSE: a = p->exclusiveaddruse; break;
    case SM_SO_EXCLBIND: a = p->exclbind; break;
    case SM_IPV6_V6ONLY: a = p->v6only; break;
    case SM_IP_BIND_ADDRESS_NO_PORT: a = p->defer_port; break;
    case SM_SO_REUSE_UNICASTPORT: a = p->reuse_unicastport; break;
    case SM_IP_LOCAL_PORT_RANGE:
        a = p->port_lo;
        b = p->port_hi;
        break;
    case SM_SO_LINGER:
    case SM_SO_LINGER_SEC:
        a = p->linger_on;
        b = (int)p->linger_s;
        if (o == SM_SO_LINGER_SEC && sm__hprof(w, w->socks[s].host)->tcp->linger_hz > 1)
            b /= (int)sm__hprof(w, w->socks[s].host)->tcp->linger_hz;
        break;
    default: return false;
    }
    if (v1)
        *v1 = a;
    if (v2)
        *v2 = b;
    return true;
}

bool sm_sock_local(const sm_world *w, sm_id s, sm_endpoint *out)
{
    if (s >= w->nsocks)
        return false;
    const sm__sock *k = &w->socks[s];
    if (k->tw != SM__NONE32) {
        const sm__tw *t = sm__tw_at(w, k->tw);
        sm_sock_view v;
        sm__tw_view_fill(w, k->tw, &v);
        out->addr = v.local_addr;
        out->port = t->lport;
        return true;
    }
    if (!k->bound && !k->name_kept)
        return false;
    out->addr = k->local_addr;
    out->port = k->port;
    return true;
}

bool sm_sock_remote(const sm_world *w, sm_id s, sm_endpoint *out)
{
    if (s >= w->nsocks)
        return false;
    const sm__sock *k = &w->socks[s];
    if (k->tw != SM__NONE32) {
        sm_sock_view v;
        sm__tw_view_fill(w, k->tw, &v);
        *out = v.remote;
        return true;
    }
    if (!k->connected)
        return false;
    *out = k->remote;
    return true;
}

int sm_sock_pending(const sm_world *w, sm_id s)
{
    if (s >= w->nsocks || w->socks[s].state != SM_LISTEN)
        return 0;
    return (int)w->socks[s].aq_n;
}

uint64_t sm_sock_unread(const sm_world *w, sm_id s, bool *eof)
{
    if (eof)
        *eof = false;
    if (s >= w->nsocks)
        return 0;
    const sm__sock *k = &w->socks[s];
    if (eof)
        *eof = k->peer_fin || k->soerr != SM_OK;
    return k->rcvq;
}

unsigned sm_sock_poll(const sm_world *w, sm_id s)
{
    bool eof = false;
    uint64_t unread = sm_sock_unread(w, s, &eof);
    if (s >= w->nsocks)
        return 0;
    const sm__sock *k = &w->socks[s];
    unsigned rev = 0;
    if (k->proto == SM_UDP)
        return SM_POLL_OUT | (unread > 0 ? SM_POLL_IN : 0);
    switch (k->state) {
    case SM_LISTEN:
        return k->aq_n > 0 ? SM_POLL_IN : 0; /* a connection to accept */
    case SM_SYN_SENT:
    case SM_SYN_RECEIVED:
        break;
    case SM_ESTABLISHED:
    case SM_CLOSE_WAIT:
        rev |= SM_POLL_OUT;
        break;
    case SM_CLOSED:
        /* Never connected, or over: a read or write would not wait. */
        rev |= SM_POLL_OUT | SM_POLL_HUP;
        break;
    default:
        break;
    }
    if (unread > 0 || eof)
        rev |= SM_POLL_IN; /* data, or the end of the stream */
    return rev;
}

sm_id sm_sock_host(const sm_world *w, sm_id s)
{
    return s < w->nsocks ? w->socks[s].host : SM_NONE;
}

uint64_t sm_host_time_wait(const sm_world *w, sm_id host)
{
    return host < w->nhosts ? w->hosts[host].tw_count : 0;
}
