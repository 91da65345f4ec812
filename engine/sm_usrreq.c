/*
 * sm_usrreq.c - the calls a program makes, as FreeBSD's tcp_usrreq and
 * the socket layer above it: socket, setsockopt, bind, listen, connect,
 * accept, send, recv, shutdown, close, and process exit.
 *
 * What is common to every OS stays here: a closed descriptor is EBADF, a
 * bound socket cannot bind again, an address must belong to the host, a
 * UDP socket cannot listen.  Every rule that differs between operating
 * systems is asked of the profile (sm_profile.h): bind and listen
 * conflicts, the ephemeral port, the connect() 4-tuple check,
 * close()/SO_LINGER outcomes.
 */
#include "sm_demux.h"
#include "sm_port.h"
#include "sm_prof.h"
#include "sm_sock-inl.h"
#include "sm_tcp.h"
#include "sm_timewait.h"

#include <stdlib.h>
#include <string.h>

/* ---- rule records: what this file decides, with ID, source and tag ---- */

static const sm_rule r_badf_already_closed = SM_RULE("sm.badf.already-closed", S,
    "the descriptor is already closed", "");
static const sm_rule r_badf_closed = SM_RULE("sm.badf.closed", S,
    "the descriptor is closed",
    "");
static const sm_rule r_close_graceful = SM_RULE("sm.close.graceful", S,
    "closed: a FIN follows any queued data; the connection winds down",
    "");
static const sm_rule r_socket_family = SM_RULE("sm.socket.family", S,
    "address family must be IPv4 or IPv6",
    "");
static const sm_rule r_socket_new = SM_RULE("sm.socket.new", S,
    "a new socket holds no port yet",
    "");
static const sm_rule r_sockopt_nonblock = SM_RULE("sm.sockopt.nonblock", S,
    "O_NONBLOCK is a descriptor flag (fcntl), the same on every OS",
    "");
static const sm_rule r_bind_already_bound = SM_RULE("sm.bind.already-bound", S,
    "the socket is already bound: bind() works once",
    "");
static const sm_rule r_bind_v6_on_inet = SM_RULE("sm.bind.v6-on-inet", S,
    "an IPv6 address cannot be bound on an AF_INET socket",
    "");
static const sm_rule r_bind_v4_on_inet6 = SM_RULE("sm.bind.v4-on-inet6", S,
    "an AF_INET6 socket takes an IPv6 address (use ::ffff:a.b.c.d)",
    "");
static const sm_rule r_bind_not_local = SM_RULE("sm.bind.not-local", S,
    "the address does not belong to this host",
    "");
static const sm_rule r_listen_udp = SM_RULE("sm.listen.udp", S,
    "only stream (TCP) sockets listen",
    "");
static const sm_rule r_listen_again = SM_RULE("sm.listen.again", S,
    "already listening: listen() again only changes the backlog",
    "");
static const sm_rule r_listen_connected = SM_RULE("sm.listen.connected", S,
    "a connected socket cannot listen",
    "");
static const sm_rule r_conn_reset = SM_RULE("sm.conn.reset", S,
    "the peer reset the connection (RST)",
    "");
static const sm_rule r_conn_reset_close_wait = SM_RULE("sm.conn.reset-close-wait", S,
    "the peer reset the connection while we were in CLOSE_WAIT: EPIPE",
    "Linux tcp_reset()");
static const sm_rule r_conn_refused = SM_RULE("sm.conn.refused", S,
    "the peer answered the SYN with RST: no listener",
    "");
static const sm_rule r_conn_timed_out = SM_RULE("sm.conn.timed-out", S,
    "no answer before the connect timeout",
    "");
static const sm_rule r_conn_pending_error = SM_RULE("sm.conn.pending-error", S,
    "a pending error on the socket",
    "");
static const sm_rule r_connect_v6_on_inet = SM_RULE("sm.connect.v6-on-inet", S,
    "an AF_INET socket cannot connect to an IPv6 address",
    "");
static const sm_rule r_connect_v4_on_inet6 = SM_RULE("sm.connect.v4-on-inet6", S,
    "an AF_INET6 socket connects to IPv6 addresses (use ::ffff:a.b.c.d)",
    "");
static const sm_rule r_connect_in_progress = SM_RULE("sm.connect.in-progress", S,
    "a connect() is already in progress",
    "");
static const sm_rule r_connect_already_connected = SM_RULE("sm.connect.already-connected", S,
    "the socket is already connected",
    "");
static const sm_rule r_connect_v6only_to_v4 = SM_RULE("sm.connect.v6only-to-v4", S,
    "an IPV6_V6ONLY socket cannot reach an IPv4 address",
    "");
static const sm_rule r_connect_to_wildcard = SM_RULE("sm.connect.to-wildcard", S,
    "the destination is the wildcard address",
    "");
static const sm_rule r_connect_no_source = SM_RULE("sm.connect.no-source", S,
    "this host has no address of that family to send from",
    "");
static const sm_rule r_connect_connected = SM_RULE("sm.connect.connected", S,
    "connected",
    "");
static const sm_rule r_connect_nonblock = SM_RULE("sm.connect.nonblock", S,
    "non-blocking connect: the handshake goes on",
    "");
static const sm_rule r_connect_failed = SM_RULE("sm.connect.failed", S,
    "the connection failed",
    "");
static const sm_rule r_accept_not_listening = SM_RULE("sm.accept.not-listening", S,
    "accept() needs a listening socket",
    "");
static const sm_rule r_accept_nonblock_empty = SM_RULE("sm.accept.nonblock-empty", S,
    "no connection is waiting (non-blocking)",
    "");
static const sm_rule r_accept_block_forever = SM_RULE("sm.accept.block-forever", S,
    "would block forever: no connection is on its way",
    "");
static const sm_rule r_accept_oldest = SM_RULE("sm.accept.oldest", S,
    "accepted the oldest established connection",
    "");
static const sm_rule r_send_udp_unconnected = SM_RULE("sm.send.udp-unconnected", S,
    "a UDP socket sends with send() only once connected",
    "");
static const sm_rule r_send_datagram = SM_RULE("sm.send.datagram", S,
    "datagram sent",
    "");
static const sm_rule r_send_shut = SM_RULE("sm.send.shut", S,
    "the connection can no longer send",
    "");
static const sm_rule r_send_queued = SM_RULE("sm.send.queued", S,
    "queued for sending",
    "");
static const sm_rule r_recv_eof_after_reset = SM_RULE("sm.recv.eof-after-reset", S,
    "end of stream after the reset",
    "");
static const sm_rule r_recv_not_connected = SM_RULE("sm.recv.not-connected", S,
    "the socket is not connected",
    "");
static const sm_rule r_recv_nonblock_empty = SM_RULE("sm.recv.nonblock-empty", S,
    "no data has arrived (non-blocking)",
    "");
static const sm_rule r_recv_block_forever = SM_RULE("sm.recv.block-forever", S,
    "would block forever: no data is on its way",
    "");
static const sm_rule r_recv_data = SM_RULE("sm.recv.data", S,
    "data read",
    "");
static const sm_rule r_recv_eof = SM_RULE("sm.recv.eof", S,
    "end of stream: the peer closed its side",
    "");
static const sm_rule r_shutdown_not_connected = SM_RULE("sm.shutdown.not-connected", S,
    "shutdown() needs a connection",
    "");
/* The defaults of a profile that leaves the rules out: */
static const sm_rule r_send_connecting = SM_RULE("sm.send.connecting", S,
    "send() while connecting waits for the handshake",
    "");
static const sm_rule r_shutdown_write = SM_RULE("sm.shutdown.write", S,
    "our side is shut: a FIN follows the queued data",
    "");
static const sm_rule r_shutdown_read = SM_RULE("sm.shutdown.read", S,
    "reading is shut",
    "");
static const sm_rule r_close_released = SM_RULE("sm.close.released", S,
    "closed: the port is released at once (no connection to wind down)",
    "");
static const sm_rule r_close_no_port = SM_RULE("sm.close.no-port", S,
    "closed: it held no port",
    "");
static const sm_rule r_close_listener = SM_RULE("sm.close.listener", S,
    "closed the listener: connections not yet accepted were reset",
    "");
static const sm_rule r_close_in_time_wait = SM_RULE("sm.close.in-time-wait", S,
    "closed: the connection is already in TIME_WAIT",
    "");
static const sm_rule r_close_connecting = SM_RULE("sm.close.connecting", S,
    "closed while connecting: no RST, the attempt is abandoned",
    "");
static const sm_rule r_linger_abort = SM_RULE("sm.linger.abort", S,
    "SO_LINGER {1,0}: abortive close, RST, no TIME_WAIT",
    "");
static const sm_rule r_linger_acked = SM_RULE("sm.linger.acked", S,
    "SO_LINGER: the FIN was acknowledged before the timeout",
    "");
static const sm_rule r_exit_again = SM_RULE("sm.exit.again", S,
    "the process has already exited",
    "");
static const sm_rule r_exit_closed = SM_RULE("sm.exit.closed", S,
    "the process exited: each of its descriptors was closed",
    "");
static const sm_rule r_bind_defer_port = SM_RULE("sm.bind.defer-port", S,
    "the address is recorded; the port is left to connect() "
    "(IP_BIND_ADDRESS_NO_PORT / SO_REUSE_UNICASTPORT)",
    "");
static const sm_rule r_unspec_connected = SM_RULE("sm.connect.unspec-connected", S,
    "connect(AF_UNSPEC) on a connected or connecting socket: a "
    "connection-mode socket connects once (EISCONN)",
    "");
static const sm_rule r_sendto_v6_on_inet = SM_RULE("sm.send.sendto-v6-on-inet", S,
    "an AF_INET socket cannot send to an IPv6 address",
    "");
static const sm_rule r_sendto_v6only_v4 = SM_RULE("sm.send.sendto-v6only-v4", S,
    "sendto() of an IPv4 address on an IPV6_V6ONLY socket: ENETUNREACH",
    "Linux udpv6_sendmsg()");
static const sm_rule r_sendto_sent = SM_RULE("sm.send.sendto", S,
    "datagram sent to the address given",
    "");

static bool pick_source(const sm_world *w, sm_id host, const sm_addr *dst,
                        sm_addr *out)
{
    if (sm_addr_is_loopback(dst)) {
        if (dst->family == 4)
            sm_addr_parse("127.0.0.1", 9, out);
        else
            sm_addr_parse("::1", 3, out);
        return true;
    }
    if (sm_host_has_addr(w, host, dst)) {
        *out = *dst;
        return true;
    }
    const sm__host *h = &w->hosts[host];
    for (size_t i = 0; i < h->naddrs; i++)
        if (h->addrs[i].family == dst->family && !sm_addr_is_loopback(&h->addrs[i]) &&
            !sm_addr_is_multicast(&h->addrs[i])) {
            *out = h->addrs[i];
            return true;
        }
    return false;
}


sm_result sm_socket(sm_world *w, sm_id proc, sm_proto proto, int family,
                    const char *name, sm_id *out)
{
    SM__BROKEN_RESULT(w);
    if (family != 4 && family != 6)
        return sm__rfail(SM_EAFNOSUPPORT, &r_socket_family);
    sm_id id = sm__sock_alloc(w);
    if (id == SM_NONE)
        return sm__broken_result(w);
    sm__proc *p = &w->procs[proc];
    SM__GROW(w, p->socks, p->nsocks, p->sockcap, return sm__broken_result(w));
    sm__sock *s = &w->socks[id];
    s->name = sm__name_for_socket(w, name, &s->name_id);
    if (!s->name)
        return sm__broken_result(w); /* the record stays unused */
    s->host = p->host;
    s->proc = proc;
    /* Credentials are those of the creator at socket() time (Linux
     * sock_i_uid(); BSD so_cred), not of whoever binds later. */
    s->uid = w->users[p->user].uid;
    s->privileged = w->users[p->user].privileged;
    s->proto = proto;
    s->family = family;
    s->fd_open = true;
    s->opt.v6only = family == 6 && w->hosts[p->host].tun[SM_TUN_V6ONLY_DEFAULT];
    /* The record is zeroed: the wildcard address needs only its family. */
    s->bound_addr.family = s->local_addr.family = (uint8_t)family;
    s->tw = SM__NONE32;
    s->listener = SM_NONE;
    s->accepted = true;
    s->pslot = (uint32_t)p->nsocks;
    p->socks[p->nsocks++] = id;
    *out = id;
    sm_result r = sm__rfail(SM_OK, &r_socket_new);
    return r;
}

sm_result sm_setsockopt(sm_world *w, sm_id id, sm_option opt, int v1, int v2)
{
    if (!sm__sock_ok(w, id))
        return sm__badf(w, &r_badf_closed);
    if (opt == SM_O_NONBLOCK) {
        w->socks[id].nonblock = v1 != 0;
        return sm__rfail(SM_OK, &r_sockopt_nonblock);
    }
    sm_sock_view me;
    sm__view_fill(w, id, &me);
    sm_verdict v = sm__prof_setsockopt(sm__hprof(w, w->socks[id].host), &me, opt, v1, v2);
    if (v.err != SM_OK)
        return sm__result_of(&v, NULL);
    sm_opts *o = &w->socks[id].opt;
    switch (opt) {
    case SM_SO_REUSEADDR: o->reuseaddr = v1 != 0; break;
    case SM_SO_REUSEPORT: o->reuseport = v1 != 0; break;
    case SM_SO_REUSEPORT_LB: o->reuseport_lb = v1 != 0; break;
    case SM_SO_EXCLUSIVEADDRUSE: o->exclusiveaddruse = v1 != 0; break;
    case SM_SO_EXCLBIND: o->exclbind = v1 != 0; break;
    case SM_IPV6_V6ONLY: o->v6only = v1 != 0; break;
    case SM_SO_LINGER:
        o->linger_on = v1 != 0;
        o->linger_s = v2 < 0 ? 0 : (uint32_t)v2;
        break;
    case SM_IP_BIND_ADDRESS_NO_PORT: o->defer_port = v1 != 0; break;
    case SM_SO_REUSE_UNICASTPORT: o->reuse_unicastport = v1 != 0; break;
    case SM_IP_LOCAL_PORT_RANGE:
        o->port_lo = (uint16_t)v1;
        o->port_hi = (uint16_t)v2;
        break;
    case SM_SO_LINGER_SEC: {
        /* Seconds, stored in the profile's linger unit (XNU: v2 * hz). */
        const sm_tcp_rules *t = sm__hprof(w, w->socks[id].host)->tcp;
        uint32_t hz = t->linger_hz ? t->linger_hz : 1;
        o->linger_on = v1 != 0;
        o->linger_s = v2 < 0 ? 0 : (uint32_t)v2 * hz;
        break;
    }
    default: break;
    }
    return sm__result_of(&v, NULL);
}

/* Take the port: latch options, enter the bind table. */
/* Ask the profile for an ephemeral port for socket id at addr. */
static sm_result autobind(sm_world *w, sm_id id, const sm_addr *addr,
                          sm_tcp_state as_state)
{
    sm_pick_ctx c;
    memset(&c, 0, sizeof c);
    c.takeover = SM__NONE32;
    c.w = w;
    c.host = w->socks[id].host;
    sm__view_fill(w, id, &c.self);
    c.self.bound_addr = c.self.local_addr = *addr;
    c.self.state = as_state;
    uint16_t port = 0;
    sm_verdict v = sm__prof_pick_port(sm__hprof(w, c.host), &c, &port);
    SM__BROKEN_RESULT(w); /* memory ran out while the profile looked */
    if (v.err != SM_OK)
        return sm__result_of(&v, NULL);
    if (!sm__take_port(w, id, addr, port, SM_BOUND_AUTO))
        return sm__broken_result(w);
    sm__port_state_commit(w, c.host, c.self.proto, port);
    sm__on_bound(w, id);
    SM__BROKEN_RESULT(w);
    if (as_state != SM_CLOSED) /* bind(0), like connect, says so in its own result */
        sm__note(w, SM_EV_PORT, id, port, v.rule);
    sm_result r = sm__result_of(&v, NULL);
    r.port = port;
    return r;
}

/* bind()'s context: N with the address and port it asks for, no owners
 * (sm__decision_port() adds them).  Built once per bind(), for the
 * privileged-port step and the decision alike. */
static void bind_ctx_fill(const sm_world *w, sm_id id, const sm_endpoint *ep, sm_bind_ctx *c)
{
    c->check = SM_CHECK_BIND;
    c->loopback = false;
    c->tun = w->hosts[w->socks[id].host].tun;
    sm__view_fill(w, id, &c->self);
    c->self.bound_addr = c->self.local_addr = ep->addr;
    c->self.port = ep->port;
    c->owners = NULL;
    c->n_owners = 0;
    c->port = NULL;
    c->now_ms = w->now_ns / 1000000u;
}

/* bind()'s first checks, each as a test that passes (bind_step() gives
 * the failure its result). */
static inline bool step_bound_ok(const sm__sock *s)
{
    return !(s->bound || s->addr_only || s->state != SM_CLOSED || s->tw != SM__NONE32);
}

static inline bool step_family_ok(const sm__sock *s, const sm_endpoint *ep)
{
    return !(s->family == 4 && ep->addr.family == 6) && !(s->family == 6 && ep->addr.family == 4);
}

static inline bool step_addr_ok(const sm_world *w, const sm__sock *s, const sm_endpoint *ep)
{
    if (sm__addr_is_any(&ep->addr) || (s->proto == SM_UDP && sm_addr_is_multicast(&ep->addr)))
        return true;
    /* A v4-mapped address is checked by its IPv4 part. */
    bool mapped = sm__addr_is_v4mapped(&ep->addr);
    sm_addr plain = sm__addr_unmapped(&ep->addr);
    return (mapped && sm__addr_is_any(&plain)) || sm_host_has_addr(w, s->host, &plain);
}

/* The profile's privileged-port check (SM_OK: passed, or nothing to check). */
static inline sm_verdict step_priv(sm_world *w, sm_id id, const sm_endpoint *ep,
                                   sm_bind_ctx *c, bool *filled)
{
    const sm_profile *p = sm__hprof(w, w->socks[id].host);
    if (!p->bind_priv || ep->port == 0)
        return sm__ok(NULL);
    if (!*filled) {
        bind_ctx_fill(w, id, ep, c);
        *filled = true;
    }
    return sm__prof_checked(p->bind_priv(p, c), SM__PM_BIND, 0);
}

/* One of bind()'s first checks (enum sm_bind_step); SM_OK: passed.  *c
 * is bind()'s context, filled by the first step that needs it (*filled). */
static sm_result bind_step(sm_world *w, sm_id id, const sm_endpoint *ep, uint8_t step,
                           sm_bind_ctx *c, bool *filled)
{
    const sm__sock *s = &w->socks[id];
    switch (step) {
    case SM_BIND_STEP_BOUND:
        if (!step_bound_ok(s))
            return sm__rfail(SM_EINVAL, &r_bind_already_bound);
        break;
    case SM_BIND_STEP_FAMILY:
        if (s->family == 4 && ep->addr.family == 6)
            return sm__rfail(SM_EAFNOSUPPORT, &r_bind_v6_on_inet);
        if (s->family == 6 && ep->addr.family == 4)
            return sm__rfail(SM_EINVAL, &r_bind_v4_on_inet6);
        break;
    case SM_BIND_STEP_ADDR:
        if (!step_addr_ok(w, s, ep))
            return sm__rfail(SM_EADDRNOTAVAIL, &r_bind_not_local);
        break;
    case SM_BIND_STEP_PRIV: {
        sm_verdict v = step_priv(w, id, ep, c, filled);
        if (v.err != SM_OK)
            return sm__result_of(&v, NULL);
        break;
    }
    default: break;
    }
    return sm__rfail(SM_OK, NULL);
}

sm_result sm_bind(sm_world *w, sm_id id, const sm_endpoint *ep)
{
    if (!sm__sock_ok(w, id))
        return sm__badf(w, &r_badf_closed);
    /* The first checks in the OS's order (sm_tcp_rules.bind_steps4/6). */
    static const uint8_t classic[] = {SM_BIND_STEP_BOUND, SM_BIND_STEP_FAMILY,
                                      SM_BIND_STEP_ADDR, SM_BIND_STEP_END};
    const sm_tcp_rules *tr = sm__hprof(w, w->socks[id].host)->tcp;
    const uint8_t *steps = w->socks[id].family == 6 ? tr->bind_steps6 : tr->bind_steps4;
    sm_bind_ctx c; /* every field is assigned (bind_ctx_fill) before use */
    bool filled = false;
    /* Usually every check passes: they are made first in a fixed order,
     * with no dispatch on the list; only when one fails is the list walked,
     * for the failure the OS reports first (or none, when the failing
     * check is one the list leaves out).  The checks change nothing. */
    const sm__sock *s0 = &w->socks[id];
    if (!step_bound_ok(s0) || !step_family_ok(s0, ep) || !step_addr_ok(w, s0, ep) ||
        step_priv(w, id, ep, &c, &filled).err != SM_OK) {
        for (const uint8_t *st = steps ? steps : classic; *st != SM_BIND_STEP_END; st++) {
            sm_result r = bind_step(w, id, ep, *st, &c, &filled);
            if (r.err != SM_OK)
                return r;
        }
    }
    sm__sock *s = &w->socks[id];
    if (ep->port == 0 && (s->opt.defer_port || s->opt.reuse_unicastport) && s->proto == SM_TCP) {
        /* The option's meaning, wherever the profile let it be set: the
         * address is kept, the port is chosen by connect() (or listen()). */
        s->bound_addr = s->local_addr = ep->addr;
        s->addr_only = true;
        s->name_kept = false;
        return sm__rfail(SM_OK, &r_bind_defer_port);
    }
    if (ep->port == 0)
        return autobind(w, id, &ep->addr, SM_CLOSED);

    if (!filled)
        bind_ctx_fill(w, id, ep, &c);
    sm__decision_port(w, s->host, s->proto, ep->port, id, &c);
    sm_verdict v = sm__prof_bind(sm__hprof(w, s->host), &c);
    SM__BROKEN_RESULT(w); /* memory ran out while the owners were collected */
    sm_result r = sm__result_of(&v, c.owners);
    if (v.err == SM_OK) {
        if (!sm__take_port(w, id, &ep->addr, ep->port, SM_BOUND_EXPLICIT))
            return sm__broken_result(w);
        sm__port_state_commit(w, s->host, s->proto, ep->port);
        sm__on_bound(w, id);
        SM__BROKEN_RESULT(w);
    }
    return r;
}

sm_result sm_listen(sm_world *w, sm_id id, int backlog)
{
    if (!sm__sock_ok(w, id))
        return sm__badf(w, &r_badf_closed);
    sm__sock *s = &w->socks[id];
    if (s->proto != SM_TCP)
        return sm__rfail(SM_EOPNOTSUPP, &r_listen_udp);
    if (s->state == SM_LISTEN) {
        s->backlog = backlog;
        return sm__rfail(SM_OK, &r_listen_again);
    }
    if (s->state != SM_CLOSED || s->tw != SM__NONE32)
        return sm__rfail(SM_EINVAL, &r_listen_connected);
    if (!s->bound) {
        sm_addr any = s->addr_only ? s->bound_addr : sm__addr_any(s->family);
        sm_result r = autobind(w, id, &any, SM_LISTEN);
        if (r.err != SM_OK)
            return r;
        s = &w->socks[id];
        s->state = SM_LISTEN;
        s->backlog = backlog;
        s->listen_seq = ++w->hosts[s->host].bind_seq;
        if (!sm__lindex_add(w, id))
            return sm__broken_result(w);
        return r;
    }
    sm_bind_ctx c; /* every field is assigned */
    c.check = SM_CHECK_LISTEN;
    c.loopback = false;
    c.tun = w->hosts[s->host].tun;
    sm__view_fill(w, id, &c.self);
    c.self.state = SM_LISTEN;
    sm__decision_port(w, s->host, s->proto, s->port, id, &c);
    c.now_ms = w->now_ns / 1000000u;
    sm_verdict v = sm__prof_listen(sm__hprof(w, s->host), &c);
    SM__BROKEN_RESULT(w);
    sm_result r = sm__result_of(&v, c.owners);
    if (v.err == SM_OK) {
        sm__port_state_commit(w, s->host, s->proto, s->port);
        s->state = SM_LISTEN;
        s->backlog = backlog;
        s->listen_seq = ++w->hosts[s->host].bind_seq;
        if (!sm__lindex_add(w, id))
            return sm__broken_result(w);
    }
    return r;
}

static sm_result ok_bytes(const sm_rule *rule, uint64_t bytes)
{
    sm_result r = sm__rfail(SM_OK, rule);
    r.bytes = bytes;
    return r;
}

/* Report a pending error once (then EPIPE for writes). */
static bool take_soerr(sm__sock *s, sm_result *r)
{
    if (s->soerr == SM_OK)
        return false;
    sm_err e = s->soerr;
    if (!s->reset_sticky)
        s->soerr = SM_OK;
    s->epipe = true;
    *r = sm__rfail(e, e == SM_ECONNRESET ? &r_conn_reset
                     : e == SM_EPIPE ? &r_conn_reset_close_wait
                     : e == SM_ECONNREFUSED ? &r_conn_refused
                     : e == SM_ETIMEDOUT ? &r_conn_timed_out
                                         : &r_conn_pending_error);
    return true;
}

sm_err sm_sock_take_error(sm_world *w, sm_id id)
{
    if (id >= w->nsocks)
        return SM_EBADF;
    sm__sock *s = &w->socks[id];
    sm_err e = s->soerr;
    if (!s->reset_sticky)
        s->soerr = SM_OK;
    return e;
}

uint32_t sm_sock_rcvbuf(const sm_world *w, sm_id id)
{
    if (id >= w->nsocks)
        return 0;
    const sm__sock *s = &w->socks[id];
    const sm_tcp_rules *t = sm__hprof(w, s->host)->tcp;
    uint32_t b = t->so_rcvbuf;
    uint32_t mss = sm__canon(&s->remote.addr).family == 6 ? 1440 : 1460;
    return t->rcvbuf_mss_round && s->mss_known ? (b + mss - 1) / mss * mss : b;
}

static bool connect_done(const sm_world *w, sm_id id)
{
    return w->socks[id].state != SM_SYN_SENT;
}

static sm_result connect_autobind(sm_world *w, sm_id id, const sm_addr *src,
                                  const sm_endpoint *dst)
{
    sm_pick_ctx c;
    memset(&c, 0, sizeof c);
    c.w = w;
    c.host = w->socks[id].host;
    c.connecting = true;
    c.takeover = SM__NONE32;
    sm__view_fill(w, id, &c.self);
    c.self.bound_addr = c.self.local_addr = *src;
    c.self.remote = *dst;
    c.self.connected = true;
    c.self.state = SM_SYN_SENT;
    c.self.how = SM_BOUND_CONNECT;
    uint16_t port = 0;
    sm_verdict v = sm__prof_pick_connect_port(sm__hprof(w, c.host), &c, &port);
    SM__BROKEN_RESULT(w);
    if (v.err != SM_OK)
        return sm__result_of(&v, NULL);
    if (c.takeover != SM__NONE32) {
        sm__tw_note_end(w, c.takeover & ~SM__TW_BIT, 0, v.rule);
        sm__tw_kill(w, c.takeover & ~SM__TW_BIT);
    }
    if (!sm__take_port(w, id, src, port, SM_BOUND_CONNECT))
        return sm__broken_result(w);
    sm_result r = sm__result_of(&v, NULL);
    r.port = port;
    return r;
}

/* An IPv4 address given to an AF_INET6 socket (connect, sendto): refused,
 * or taken as its v4-mapped form into *mapped, as the profile says. */
static bool v4_on_v6(const sm_world *w, const sm__sock *s, const sm_endpoint *ep,
                     sm_endpoint *mapped, sm_result *fail)
{
    const sm_tcp_rules *r = sm__hprof(w, s->host)->tcp;
    sm_err e = s->proto == SM_TCP ? r->v4_on_v6_tcp : r->v4_on_v6_udp;
    const sm_rule *rule = r->v4_on_v6_rule ? r->v4_on_v6_rule : &r_connect_v4_on_inet6;
    if (e == SM_OK && s->opt.v6only)
        e = r->v4_on_v6only;
    if (e != SM_OK) {
        *fail = sm__rfail(e, rule);
        return false;
    }
    mapped->addr = sm__addr_mapped(&ep->addr);
    mapped->port = ep->port;
    return true;
}

sm_result sm_connect(sm_world *w, sm_id id, const sm_endpoint *ep)
{
    if (!sm__sock_ok(w, id))
        return sm__badf(w, &r_badf_closed);
    sm__net(w);
    sm__sock *s = &w->socks[id];
    sm_endpoint mapped;
    sm_result fail;
    if (s->family == 4 && ep->addr.family == 6)
        return sm__rfail(SM_EAFNOSUPPORT, &r_connect_v6_on_inet);
    if (s->family == 6 && ep->addr.family == 4) {
        if (!v4_on_v6(w, s, ep, &mapped, &fail))
            return fail;
        ep = &mapped;
    }
    if (s->state == SM_LISTEN)
        return sm__rfail(s->proto == SM_TCP ? sm__hprof(w, s->host)->tcp->connect_on_listener
                                            : SM_EISCONN,
                        sm__hprof(w, s->host)->tcp->connect_on_listener_rule);
    if (s->state == SM_SYN_SENT)
        return sm__rfail(SM_EALREADY, &r_connect_in_progress);
    if (s->proto == SM_TCP && (s->state != SM_CLOSED || s->tw != SM__NONE32 || s->epipe))
        return sm__rfail(SM_EISCONN, &r_connect_already_connected);
    sm_addr dst = sm__canon(&ep->addr);
    if (s->family == 6 && dst.family == 4 && s->opt.v6only)
        return sm__rfail(SM_ENETUNREACH, &r_connect_v6only_to_v4);
    sm_addr bound = sm__canon(&s->bound_addr);
    const sm_rule *any_rule = NULL;
    if (sm_addr_is_any(&dst)) {
        const sm_tcp_rules *tr = sm__hprof(w, s->host)->tcp;
        if (tr->connect_any != SM_OK || !tr->connect_any_rule)
            return sm__rfail(tr->connect_any_rule ? tr->connect_any : SM_ENETUNREACH,
                             tr->connect_any_rule ? tr->connect_any_rule
                                                  : &r_connect_to_wildcard);
        /* The wildcard stands for this host. */
        if ((s->bound || s->addr_only) && !sm_addr_is_any(&bound) && bound.family == dst.family)
            dst = bound;
        else if (dst.family == 4)
            sm_addr_parse("127.0.0.1", 9, &dst);
        else
            sm_addr_parse("::1", 3, &dst);
        any_rule = tr->connect_any_rule;
    }
    sm_addr src;
    if ((s->bound || s->addr_only) && !sm_addr_is_any(&bound))
        src = bound;
    else if (!pick_source(w, s->host, &dst, &src))
        return sm__rfail(SM_ENETUNREACH, &r_connect_no_source);
    sm_addr src_f = sm__in_family(&src, s->family);
    sm_endpoint dst_f = {sm__in_family(&dst, s->family), ep->port};
    sm_result r = sm__rfail(SM_OK, any_rule ? any_rule : &r_connect_connected);
    if (!s->bound) {
        r = connect_autobind(w, id, &src_f, &dst_f);
        if (r.err != SM_OK)
            return r;
    } else {
        sm_bind_ctx c;
        memset(&c, 0, sizeof c);
        c.check = SM_CHECK_CONNECT;
        c.tun = w->hosts[s->host].tun;
        sm__view_fill(w, id, &c.self);
        c.self.local_addr = src_f;
        c.self.remote = dst_f;
        c.self.connected = true;
        c.self.state = SM_SYN_SENT;
        c.n_owners = sm__collect_owners(w, s->host, s->proto, s->port, id);
        c.owners = w->scratch;
        c.now_ms = w->now_ns / SM__NS_PER_MS;
        c.loopback = sm_addr_is_loopback(&dst);
        sm_verdict v = sm__prof_connect(sm__hprof(w, s->host), &c);
        SM__BROKEN_RESULT(w);
        r = sm__result_of(&v, c.owners);
        if (v.err != SM_OK)
            return r;
        if (v.culprit >= 0 && c.owners[v.culprit].time_wait) {
            /* End that TIME_WAIT entry: find it by tuple. */
            sm__tuple t = {s->host, s->proto, src, dst, s->port, ep->port};
            uint32_t h = sm__ctab_find(w, &t);
            if (h != SM__NONE32 && (h & SM__TW_BIT))
                sm__tw_kill(w, h & ~SM__TW_BIT);
        } else if (v.culprit >= 0 && !c.owners[v.culprit].fd_open) {
            /* An orphaned connection the OS keeps as a TIME_WAIT entry:
             * it ends silently, as that entry would. */
            sm__conn_destroy(w, c.owners[v.culprit].id);
        }
    }
    s = &w->socks[id];
    s->local_addr = src_f;
    s->remote = dst_f;
    s->connected = true;
    if (s->proto == SM_UDP) {
        if (!s->in_ctab) {
            if (!sm__ctab_add(w, id))
                return sm__broken_result(w);
            w->socks[id].in_ctab = true;
        }
        return r;
    }
    if (!sm__ctab_add(w, id))
        return sm__broken_result(w);
    s = &w->socks[id];
    s->in_ctab = true;
    s->iss = sm__isn_for(w, &src, s->port, &dst, ep->port);
    s->snd_una = s->iss;
    s->snd_nxt = s->iss + 1;
    s->snd_wnd = SM__RCVBUF;
    s->ts_ok = w->hosts[s->host].tun[SM_TUN_TIMESTAMPS] != 0;
    s->ts_off = sm__ts_offset(w, &src, &dst);
    s->state = SM_SYN_SENT;
    s->syn_tries = 0;
    s->peer_fin = s->fin_pending = s->fin_sent = s->rd_shut = s->wr_shut = false;
    s->conn_failed = false;
    s->connect_deadline = sm_time_add(
        w->now_ns, sm_time_ms((uint64_t)w->hosts[s->host].tun[SM_TUN_CONNECT_TIMEOUT_MS]));
    sm__send_flags(w, s, SM_TH_SYN, s->iss, 0);
    sm__set_timer(w, id, SM__T_SYN,
              sm_time_add(w->now_ns, sm_time_ms((uint64_t)w->hosts[s->host].tun[SM_TUN_SYN_RTO_MS])));
    if (w->socks[id].nonblock) {
        const sm_tcp_rules *tr = sm__hprof(w, s->host)->tcp;
        sm_result p = tr->connect_in_progress
                          ? sm__rfail(tr->connect_in_progress, tr->connect_in_progress_rule)
                          : sm__rfail(SM_EINPROGRESS, &r_connect_nonblock);
        p.port = r.port;
        return p;
    }
    sm__block_until(w, id, connect_done, UINT64_MAX);
    s = &w->socks[id];
    if (s->state != SM_CLOSED) {
        /* The handshake is over when our ACK has reached the peer: let it
         * arrive (the connection is then in the peer's accept queue). */
        sm_id peer = sm__host_of(w, s->host, &dst);
        struct sm__net *n = w->net;
        uint64_t until = sm_time_add(w->now_ns, peer == s->host ? n->loop_delay_ns : n->delay_ns);
        while (sm__step(w, until))
            ;
        if (w->now_ns < until)
            w->now_ns = until;
        s = &w->socks[id];
    }
    SM__BROKEN_RESULT(w); /* the profile broke its contract on the way */
    if (s->state == SM_CLOSED) {
        sm_result e;
        if (!take_soerr(s, &e))
            e = sm__rfail(SM_ECONNREFUSED, &r_connect_failed);
        s->epipe = false;
        s->conn_failed = true;
        if (sm__hprof(w, s->host)->tcp->blocking_fail_disconnects) {
            s->conn_failed = false;
            if (!s->addr_named)
                s->local_addr = sm__addr_any(s->family);
        }
        return e;
    }
    r.rule = r.rule ? r.rule : &r_connect_connected;
    return r;
}

sm_result sm_connect_unspec(sm_world *w, sm_id id)
{
    if (!sm__sock_ok(w, id))
        return sm__badf(w, &r_badf_closed);
    sm__net(w);
    sm__sock *s = &w->socks[id];
    const sm_tcp_rules *r = sm__hprof(w, s->host)->tcp;
    if (s->proto == SM_UDP) {
        if (s->connected) {
            if (s->in_ctab) {
                sm__ctab_del(w, id);
                s->in_ctab = false;
            }
            s->connected = false;
            memset(&s->remote, 0, sizeof s->remote);
            s->local_addr = s->bound_addr;
            if (r->unspec_unbinds && s->how != SM_BOUND_EXPLICIT && s->bound) {
                sm__table_remove(w, id);
                s->bound = false;
            }
        }
        return sm__rfail(r->udp_unspec, r->udp_unspec_rule);
    }
    if (r->tcp_unspec != SM_OK) {
        if (s->state == SM_LISTEN)
            return sm__rfail(r->connect_on_listener, r->connect_on_listener_rule);
        if (s->state != SM_CLOSED || s->tw != SM__NONE32 || s->epipe)
            return sm__rfail(SM_EISCONN, &r_unspec_connected);
        return sm__rfail(r->tcp_unspec, r->tcp_unspec_rule);
    }
    if (s->state == SM_LISTEN) {
        while (s->aq_n) {
            sm__conn_abort(w, s->acceptq[s->aq_head]);
            s = &w->socks[id];
        }
        while (s->sq_n) {
            sm__conn_destroy(w, s->synq[0]);
            s = &w->socks[id];
        }
        s->state = SM_CLOSED;
        sm__lindex_del(w, id);
    } else if (s->state != SM_CLOSED) {
        sm__conn_abort(w, id);
    }
    s = &w->socks[id];
    s->epipe = s->conn_failed = s->name_kept = false;
    s->soerr = SM_OK;
    if (r->unspec_unbinds && s->bound && s->how != SM_BOUND_EXPLICIT) {
        sm__table_remove(w, id);
        s->bound = false;
    }
    if (s->bound)
        s->local_addr = s->bound_addr;
    return sm__rfail(SM_OK, r->tcp_unspec_rule);
}

static bool accept_done(const sm_world *w, sm_id id)
{
    return w->socks[id].aq_n > 0 || w->socks[id].state != SM_LISTEN;
}

sm_result sm_accept(sm_world *w, sm_id id, const char *name, sm_id *out)
{
    *out = SM_NONE;
    if (!sm__sock_ok(w, id))
        return sm__badf(w, &r_badf_closed);
    if (w->socks[id].state != SM_LISTEN)
        return sm__rfail(SM_EINVAL, &r_accept_not_listening);
    if (w->socks[id].aq_n == 0) {
        if (w->socks[id].nonblock)
            return sm__rfail(SM_EWOULDBLOCK, &r_accept_nonblock_empty);
        bool came = sm__block_until(w, id, accept_done, UINT64_MAX);
        SM__BROKEN_RESULT(w);
        if (!came)
            return sm__rfail(SM_EWOULDBLOCK,
                            &r_accept_block_forever);
    }
    sm__sock *l = &w->socks[id];
    sm_id cid = l->acceptq[l->aq_head];
    if (w->socks[cid].aq_reset) {
        /* Reset while it waited (sm_tcp_rules.aq_reset). */
        const sm_tcp_rules *rules = sm__hprof(w, w->socks[cid].host)->tcp;
        w->socks[cid].aq_reset = false;
        if (rules->aq_reset == SM_AQR_FAIL) {
            l->aq_head = (l->aq_head + 1) % l->aq_cap;
            l->aq_n--;
            w->socks[cid].listener = SM_NONE;
            w->socks[cid].soerr = SM_OK;
            w->socks[cid].reset_sticky = false;
            sm__sock_maybe_free(w, cid);
            return sm__rfail(rules->aq_reset_err, rules->aq_reset_rule);
        }
    }
    /* What can fail comes first: the connection stays queued. */
    sm__proc *p = &w->procs[w->socks[cid].proc];
    SM__GROW(w, p->socks, p->nsocks, p->sockcap, return sm__broken_result(w));
    const char *cname = NULL;
    uint32_t cname_id = SM__NONE32;
    if (name) {
        cname = sm__name_for_socket(w, name, &cname_id);
        if (!cname)
            return sm__broken_result(w);
    }
    l = &w->socks[id];
    l->aq_head = (l->aq_head + 1) % l->aq_cap;
    l->aq_n--;
    sm__sock *c = &w->socks[cid];
    c->listener = SM_NONE;
    c->accepted = true;
    c->fd_open = true;
    if (name) {
        c->name = cname;
        c->name_id = cname_id;
    }
    c->pslot = (uint32_t)p->nsocks;
    p->socks[p->nsocks++] = cid;
    *out = cid;
    return sm__rfail(SM_OK, &r_accept_oldest);
}

sm_result sm_send(sm_world *w, sm_id id, uint64_t bytes)
{
    if (!sm__sock_ok(w, id))
        return sm__badf(w, &r_badf_closed);
    sm__sock *s = &w->socks[id];
    sm_result r;
    if (s->proto == SM_TCP && s->state == SM_SYN_SENT && s->tw == SM__NONE32) {
        /* The handshake is under way: data waits for it, or the OS says
         * the socket is not connected yet (the profile's rule). */
        const sm_tcp_rules *t = sm__hprof(w, s->host)->tcp;
        const sm_rule *why = t->send_connecting_rule ? t->send_connecting_rule
                                                     : &r_send_connecting;
        switch (t->send_connecting) {
        case SM_SENDC_ENOTCONN:
            return sm__rfail(SM_ENOTCONN, why);
        case SM_SENDC_QUEUE:
            s->sndq += bytes; /* sm__tcp_output() holds it until ESTABLISHED */
            return ok_bytes(why, bytes);
        case SM_SENDC_WAIT:
            if (s->nonblock)
                return sm__rfail(SM_EWOULDBLOCK, why);
            sm__block_until(w, id, connect_done, UINT64_MAX);
            SM__BROKEN_RESULT(w);
            s = &w->socks[id];
            break;
        }
    }
    if (take_soerr(s, &r))
        return r;
    if (s->state == SM_SYN_SENT && sm__hprof(w, s->host)->tcp->io_while_connecting)
        return sm__rfail(sm__hprof(w, s->host)->tcp->io_while_connecting,
                         sm__hprof(w, s->host)->tcp->io_while_connecting_rule);
    if (s->proto == SM_UDP) {
        if (!s->connected)
            return sm__rfail(SM_ENOTCONN, &r_send_udp_unconnected);
        sm__emit(w, s->host, &s->local_addr, s->port, &s->remote.addr, s->remote.port,
             SM_UDP, 0, 0, 0, 0, (uint32_t)(bytes > 65507 ? 65507 : bytes), false, 0, 0);
        return ok_bytes(&r_send_datagram, bytes);
    }
    if (s->epipe || s->wr_shut ||
        (s->state != SM_ESTABLISHED && s->state != SM_CLOSE_WAIT &&
         s->state != SM_SYN_SENT && s->state != SM_SYN_RECEIVED)) {
        if (s->epipe || s->wr_shut || s->tw != SM__NONE32 || s->state != SM_CLOSED)
            return sm__rfail(SM_EPIPE, &r_send_shut);
        const sm_tcp_rules *tr = sm__hprof(w, s->host)->tcp;
        if (s->conn_failed && tr->failed_connect_send)
            return sm__rfail(tr->failed_connect_send, tr->failed_connect_send_rule);
        return tr->send_unconnected ? sm__rfail(tr->send_unconnected, tr->send_unconnected_rule)
                                    : sm__rfail(SM_ENOTCONN, &r_send_shut);
    }
    s->sndq += bytes;
    sm__tcp_output(w, s);
    return ok_bytes(&r_send_queued, bytes);
}

sm_result sm_sendto(sm_world *w, sm_id id, const sm_endpoint *ep, uint64_t bytes)
{
    if (!sm__sock_ok(w, id))
        return sm__badf(w, &r_badf_closed);
    sm__sock *s = &w->socks[id];
    if (s->proto == SM_TCP) /* POSIX sendto(): connection-mode ignores it */
        return sm_send(w, id, bytes);
    const sm_tcp_rules *r = sm__hprof(w, s->host)->tcp;
    if (s->family == 4 && ep->addr.family == 6)
        return sm__rfail(SM_EAFNOSUPPORT, &r_sendto_v6_on_inet);
    sm_endpoint mapped;
    sm_result fail;
    if (s->family == 6 && ep->addr.family == 4) {
        if (!v4_on_v6(w, s, ep, &mapped, &fail))
            return fail.err == SM_EAFNOSUPPORT && s->opt.v6only && r->v4_on_v6_udp == SM_OK
                       ? sm__rfail(SM_ENETUNREACH, &r_sendto_v6only_v4)
                       : fail;
        ep = &mapped;
    }
    if (s->connected && r->udp_sendto_connected != SM_OK)
        return sm__rfail(r->udp_sendto_connected, r->udp_sendto_connected_rule);
    sm_result e;
    if (take_soerr(s, &e))
        return e;
    sm_addr dst = sm__canon(&ep->addr);
    if (s->family == 6 && dst.family == 4 && s->opt.v6only)
        return sm__rfail(SM_ENETUNREACH, &r_connect_v6only_to_v4);
    sm_addr src, bound = sm__canon(&s->bound_addr);
    if (s->bound && !sm_addr_is_any(&bound))
        src = bound;
    else if (!pick_source(w, s->host, &dst, &src))
        return sm__rfail(SM_ENETUNREACH, &r_connect_no_source);
    sm_result out = ok_bytes(&r_sendto_sent, bytes);
    if (!s->bound) {
        sm_addr any = sm__addr_any(s->family);
        sm_result b = autobind(w, id, &any, SM_CLOSED);
        if (b.err != SM_OK)
            return b;
        out.port = b.port;
        s = &w->socks[id];
    }
    sm__net(w);
    sm_addr src_f = sm__in_family(&src, s->family);
    sm__emit(w, s->host, &src_f, s->port, &ep->addr, ep->port, SM_UDP, 0, 0, 0, 0,
             (uint32_t)(bytes > 65507 ? 65507 : bytes), false, 0, 0);
    return out;
}

static bool recv_done(const sm_world *w, sm_id id)
{
    const sm__sock *s = &w->socks[id];
    /* an unconnected TCP socket has nothing to wait for; a UDP socket
     * waits for a datagram, connected or not */
    return s->rcvq > 0 || s->peer_fin || s->soerr != SM_OK ||
           (s->proto == SM_TCP && !s->connected);
}

sm_result sm_recv(sm_world *w, sm_id id, uint64_t bytes)
{
    if (!sm__sock_ok(w, id))
        return sm__badf(w, &r_badf_closed);
    sm__sock *s = &w->socks[id];
    sm_result r;
    if (s->state == SM_SYN_SENT && sm__hprof(w, s->host)->tcp->io_while_connecting)
        return sm__rfail(sm__hprof(w, s->host)->tcp->io_while_connecting,
                         sm__hprof(w, s->host)->tcp->io_while_connecting_rule);
    if (s->proto == SM_TCP && !s->connected && s->soerr == SM_OK && !s->peer_fin &&
        s->rcvq == 0) {
        if (s->epipe)
            return sm__rfail(SM_OK, &r_recv_eof_after_reset);
        const sm_tcp_rules *tr = sm__hprof(w, s->host)->tcp;
        if (s->conn_failed && tr->failed_connect_eof)
            return sm__rfail(SM_OK, tr->failed_connect_eof_rule);
        return sm__rfail(SM_ENOTCONN, &r_recv_not_connected);
    }
    if (s->rcvq == 0 && !s->peer_fin && s->soerr == SM_OK) {
        if (s->nonblock)
            return sm__rfail(SM_EWOULDBLOCK, &r_recv_nonblock_empty);
        bool came = sm__block_until(w, id, recv_done, UINT64_MAX);
        SM__BROKEN_RESULT(w);
        if (!came)
            return sm__rfail(SM_EWOULDBLOCK, &r_recv_block_forever);
        s = &w->socks[id];
    }
    if (s->rcvq > 0) {
        uint64_t take = s->rcvq < bytes ? s->rcvq : bytes;
        bool was_closed = sm__adv_window(s) < SM__MSS;
        s->rcvq -= take;
        if (s->proto == SM_TCP && was_closed && sm__adv_window(s) >= SM__MSS && s->connected)
            sm__send_flags(w, s, SM_TH_ACK, s->snd_nxt, 0); /* window update */
        return ok_bytes(&r_recv_data, take);
    }
    const sm_tcp_rules *tr = sm__hprof(w, s->host)->tcp;
    if (s->peer_fin && s->soerr != SM_OK && tr->fin_eof_before_error)
        return ok_bytes(tr->fin_eof_before_error_rule, 0);
    if (take_soerr(s, &r))
        return r;
    return ok_bytes(&r_recv_eof, 0);
}

static void stop_listening(sm_world *w, sm_id id);

/* shutdown() of a listener: the profile's rule (ENOTCONN, or 0 and the
 * listener stops when `how` includes what its OS tears it down for). */
static sm_result shutdown_listener(sm_world *w, sm_id id, bool rd, bool wr)
{
    const sm_tcp_rules *t = sm__hprof(w, w->socks[id].host)->tcp;
    const sm_rule *why = t->shutdown_listener_rule ? t->shutdown_listener_rule
                                                   : &r_shutdown_not_connected;
    switch (t->shutdown_listener) {
    case SM_SHUTL_STOP_ON_RD:
        if (rd)
            stop_listening(w, id);
        return sm__rfail(SM_OK, why);
    case SM_SHUTL_STOP_ON_WR:
        if (wr)
            stop_listening(w, id);
        return sm__rfail(SM_OK, why);
    case SM_SHUTL_ENOTCONN:
        break;
    }
    return sm__rfail(SM_ENOTCONN, why);
}

sm_result sm_shutdown(sm_world *w, sm_id id, bool rd, bool wr)
{
    if (!sm__sock_ok(w, id))
        return sm__badf(w, &r_badf_closed);
    sm__sock *s = &w->socks[id];
    if (s->proto == SM_TCP && s->state == SM_LISTEN && s->tw == SM__NONE32)
        return shutdown_listener(w, id, rd, wr);
    if (!s->connected)
        return sm__rfail(SM_ENOTCONN, &r_shutdown_not_connected);
    if (rd)
        s->rd_shut = true;
    if (wr && s->proto == SM_TCP && !s->wr_shut) {
        s->wr_shut = true;
        if (s->state == SM_ESTABLISHED || s->state == SM_SYN_RECEIVED)
            s->state = SM_FIN_WAIT_1;
        else if (s->state == SM_CLOSE_WAIT)
            s->state = SM_LAST_ACK;
        if (s->state == SM_FIN_WAIT_1 || s->state == SM_LAST_ACK) {
            s->fin_pending = true;
            sm__tcp_output(w, s);
        }
    }
    return sm__rfail(SM_OK, wr ? &r_shutdown_write
                              : &r_shutdown_read);
}

static bool linger_done(const sm_world *w, sm_id id)
{
    sm_tcp_state st = w->socks[id].state;
    return st != SM_FIN_WAIT_1 && st != SM_CLOSING && st != SM_LAST_ACK;
}

/* Drop the descriptor (the connection, if any, lives on as an orphan). */
static void drop_fd(sm_world *w, sm_id id)
{
    sm__sock *s = &w->socks[id];
    if (s->fd_open) {
        sm__proc_forget(w, id);
        s->fd_open = false;
    }
    s->name_kept = false; /* no descriptor, no name */
    if (s->state == SM_CLOSED && s->tw == SM__NONE32) {
        sm__lindex_del(w, id);
        if (s->in_ctab) {
            sm__ctab_del(w, id);
            s->in_ctab = false;
        }
        if (s->bound)
            sm__table_remove(w, id);
        s->bound = false;
        s->connected = false;
    } else {
        s->orphan = true;
    }
    sm__sock_maybe_free(w, id);
}

/* A UDP socket, or a TCP one with no connection that is not listening. */
static bool unconnected(const sm__sock *s)
{
    return s->proto == SM_UDP || (s->state == SM_CLOSED && s->tw == SM__NONE32);
}

/* close() of an unconnected socket: nothing here needs the network (a
 * socket in its indexes implies it exists). */
static sm_result close_unconnected(sm_world *w, sm_id id)
{
    bool held = w->socks[id].bound;
    drop_fd(w, id);
    return sm__rfail(SM_OK, held ? &r_close_released
                                : &r_close_no_port);
}

/* A listener stops: unaccepted connections are reset, half-open ones
 * dropped, no new connection reaches it; it keeps its port. */
static void stop_listening(sm_world *w, sm_id id)
{
    sm__net(w);
    sm__sock *s = &w->socks[id];
    while (s->aq_n) {
        sm_id c = s->acceptq[s->aq_head];
        sm__conn_abort(w, c);
        s = &w->socks[id];
    }
    while (s->sq_n) {
        sm_id c = s->synq[0];
        sm__conn_destroy(w, c);
        s = &w->socks[id];
    }
    s->state = SM_CLOSED;
    sm__lindex_del(w, id);
}

/* close() of a listener: unaccepted connections are reset, half-open ones
 * dropped. */
static sm_result close_listener(sm_world *w, sm_id id)
{
    stop_listening(w, id);
    drop_fd(w, id);
    return sm__rfail(SM_OK, &r_close_listener);
}

static sm_result close_connection(sm_world *w, sm_id id, bool at_exit);

/* The kinds of close(): an unconnected socket, a listener, a connection. */
static inline sm_result close_socket(sm_world *w, sm_id id, bool at_exit)
{
    const sm__sock *s = &w->socks[id];
    if (unconnected(s))
        return close_unconnected(w, id);
    if (s->state == SM_LISTEN && s->tw == SM__NONE32)
        return close_listener(w, id);
    return close_connection(w, id, at_exit);
}

sm_result sm_close(sm_world *w, sm_id id)
{
    if (!sm__sock_ok(w, id))
        return sm__badf(w, &r_badf_already_closed);
    return close_socket(w, id, false);
}

/* close() of a socket with a connection (or in TIME_WAIT). */
static sm_result close_connection(sm_world *w, sm_id id, bool at_exit)
{
    sm__net(w);
    sm__sock *s = &w->socks[id];
    const sm_tcp_rules *r = sm__hprof(w, s->host)->tcp;
    if (s->tw != SM__NONE32) {
        drop_fd(w, id);
        return sm__rfail(SM_OK, &r_close_in_time_wait);
    }
    if (s->state == SM_SYN_SENT) {
        sm__conn_destroy(w, id);
        drop_fd(w, id);
        return sm__rfail(SM_OK, &r_close_connecting);
    }
    bool linger_n = s->opt.linger_on && s->opt.linger_s > 0 && !(at_exit && !r->exit_lingers);
    if (linger_n && s->nonblock && r->linger_nonblock == SM_LINGER_NB_EWOULDBLOCK_KEEP &&
        (s->sndq > 0 || s->state == SM_ESTABLISHED || s->state == SM_CLOSE_WAIT))
        return sm__rfail(SM_EWOULDBLOCK, r->linger_nonblock_rule);
    if (s->rcvq > 0) {
        if (r->unread_close_rst) {
            sm__conn_abort(w, id);
            drop_fd(w, id);
            return sm__rfail(SM_OK, r->unread_close_rule);
        }
        s->rcvq = 0; /* discarded; a FIN still goes out */
    }
    if (s->opt.linger_on && s->opt.linger_s == 0) {
        sm__conn_abort(w, id);
        drop_fd(w, id);
        return sm__rfail(SM_OK, &r_linger_abort);
    }
    if (s->state == SM_ESTABLISHED || s->state == SM_SYN_RECEIVED)
        s->state = SM_FIN_WAIT_1;
    else if (s->state == SM_CLOSE_WAIT)
        s->state = SM_LAST_ACK;
    s->wr_shut = s->rd_shut = true;
    if (s->state == SM_FIN_WAIT_1 || s->state == SM_LAST_ACK) {
        s->fin_pending = true;
        sm__tcp_output(w, s);
    }
    s = &w->socks[id];
    drop_fd(w, id);
    s = &w->socks[id];
    if (s->state == SM_FIN_WAIT_2 && s->timer_kind == SM__T_NONE)
        sm__set_timer(w, id, SM__T_FIN_WAIT_2,
                  sm_time_add(w->now_ns, sm_time_ms((uint64_t)w->hosts[s->host].tun[SM_TUN_FIN_TIMEOUT_MS])));
    const sm_rule *graceful = &r_close_graceful;
    if (!linger_n || linger_done(w, id))
        return sm__rfail(SM_OK, graceful);
    if (s->nonblock) {
        switch (r->linger_nonblock) {
        case SM_LINGER_NB_NO_WAIT:
            return sm__rfail(SM_OK, r->linger_nonblock_rule);
        case SM_LINGER_NB_EWOULDBLOCK:
        case SM_LINGER_NB_EWOULDBLOCK_KEEP:
            return sm__rfail(SM_EWOULDBLOCK, r->linger_nonblock_rule);
        case SM_LINGER_NB_WAITS:
            break;
        }
    }
    uint32_t hz = r->linger_hz ? r->linger_hz : 1; /* units of linger_s per second */
    uint64_t deadline = sm_time_add(w->now_ns, (uint64_t)s->opt.linger_s * 1000000000ull / hz);
    bool acked = sm__block_until(w, id, linger_done, deadline);
    SM__BROKEN_RESULT(w);
    if (acked)
        return sm__rfail(SM_OK, &r_linger_acked);
    switch (r->linger_timeout) {
    case SM_LINGER_TO_RESET:
        sm__conn_abort(w, id);
        return sm__rfail(SM_OK, r->linger_timeout_rule);
    case SM_LINGER_TO_EWOULDBLOCK:
        return sm__rfail(SM_EWOULDBLOCK, r->linger_timeout_rule);
    case SM_LINGER_TO_RETURN_OK:
        break;
    }
    return sm__rfail(SM_OK, r->linger_timeout_rule);
}

static int cmp_id(const void *a, const void *b)
{
    sm_id x = *(const sm_id *)a, y = *(const sm_id *)b;
    return x < y ? -1 : x > y;
}

sm_result sm_proc_exit(sm_world *w, sm_id proc)
{
    SM__BROKEN_RESULT(w);
    sm__proc *p = &w->procs[proc];
    if (!p->alive)
        return sm__rfail(SM_EINVAL, &r_exit_again);
    /* Close in creation order so the outcome does not depend on the order
     * of the process's descriptor list. */
    size_t n = p->nsocks;
    sm_id *ids = sm__realloc(w, NULL, n * sizeof *ids);
    if (!ids)
        return sm__broken_result(w);
    if (n)
        memcpy(ids, p->socks, n * sizeof *ids);
    qsort(ids, n, sizeof *ids, cmp_id);
    for (size_t i = 0; i < n; i++)
        if (w->socks[ids[i]].fd_open)
            close_socket(w, ids[i], true);
    free(ids);
    w->procs[proc].alive = false;
    const sm_tcp_rules *t = sm__hprof(w, w->procs[proc].host)->tcp;
    return sm__rfail(SM_OK, t->exit_lingers ? t->exit_rule
                    : &r_exit_closed);
}

/* Every rule record of this file (docs/rules.md). */
static const sm_rule *const rules_of_file[] = {
    &r_send_connecting,
    &r_badf_already_closed,
    &r_badf_closed,
    &r_close_graceful,
    &r_socket_family,
    &r_socket_new,
    &r_sockopt_nonblock,
    &r_bind_already_bound,
    &r_bind_v6_on_inet,
    &r_bind_v4_on_inet6,
    &r_bind_not_local,
    &r_listen_udp,
    &r_listen_again,
    &r_listen_connected,
    &r_conn_reset,
    &r_conn_reset_close_wait,
    &r_conn_refused,
    &r_conn_timed_out,
    &r_conn_pending_error,
    &r_connect_v6_on_inet,
    &r_connect_v4_on_inet6,
    &r_connect_in_progress,
    &r_connect_already_connected,
    &r_connect_v6only_to_v4,
    &r_connect_to_wildcard,
    &r_connect_no_source,
    &r_connect_connected,
    &r_connect_nonblock,
    &r_connect_failed,
    &r_accept_not_listening,
    &r_accept_nonblock_empty,
    &r_accept_block_forever,
    &r_accept_oldest,
    &r_send_udp_unconnected,
    &r_send_datagram,
    &r_send_shut,
    &r_send_queued,
    &r_recv_eof_after_reset,
    &r_recv_not_connected,
    &r_recv_nonblock_empty,
    &r_recv_block_forever,
    &r_recv_data,
    &r_recv_eof,
    &r_shutdown_not_connected,
    &r_shutdown_write,
    &r_shutdown_read,
    &r_close_released,
    &r_close_no_port,
    &r_close_listener,
    &r_close_in_time_wait,
    &r_close_connecting,
    &r_linger_abort,
    &r_linger_acked,
    &r_exit_again,
    &r_exit_closed,
    &r_bind_defer_port,
    &r_unspec_connected,
    &r_sendto_v6_on_inet,
    &r_sendto_v6only_v4,
    &r_sendto_sent,
};
const sm_rule_set sm__rules_sm_usrreq = {"engine/sm_usrreq.c", rules_of_file,
    sizeof rules_of_file / sizeof rules_of_file[0]};
