/*
 * netbsd.c - the "netbsd" profile: NetBSD (10.x).
 *
 * NetBSD decides bind() in inpcb_bind_addr() and inpcb_bind_port()
 * (in_pcb.c) over the BSD single-PCB lookup (bsd_common.c); automatic ports
 * come from portalgo.c.  Where it differs from FreeBSD and OpenBSD: the
 * privilege check comes first, an IPv4 bind also looks at dual-stack IPv6
 * sockets, automatic ports count down and run out with EAGAIN, and the
 * TIME_WAIT length depends on where the peer is.  Sources:
 * ../shared/reference/more-profiles.md §3 and bsd-solaris.md §2.3, read in
 * NetBSD/src sys/netinet/in_pcb.c (NetBSD-10 era), portalgo.c, tcp_subr.c,
 * tcp_input.c:tcp_established().  Tags: [S] read in source, [T] test,
 * [I] inferred, [U] unverified.
 *
 * The rule table:
 *  1. Ports below 1024 without privilege: EACCES, before any conflict
 *     [S inpcb_bind_port(): kauth].
 *  2. Uid rule (non-root): another user's socket found by a WILDCARD lookup
 *     is EADDRINUSE unless both binds are on the wildcard and it has
 *     SO_REUSEPORT [S inpcb_bind_port()].
 *  3. Conflict: WILDCARD lookup unless SO_REUSEADDR or SO_REUSEPORT is set;
 *     the PCB found conflicts unless it has the new socket's SO_REUSEPORT
 *     (multicast: SO_REUSEADDR counts as both) [S inpcb_bind_port()].
 *  4. AF_INET and AF_INET6 sockets are looked up apart (inpcb_lookup_local()
 *     skips the other family [I]), but an IPv4 bind also looks for a dual-stack AF_INET6 socket on [::] or on
 *     the v4-mapped form of its address: EADDRINUSE unless the new socket has
 *     SO_REUSEPORT [S inpcb_bind_port(): in6pcb_lookup_port(); I for which
 *     of those sockets count, as v6only=1 is the default].
 *  5. IPV6_V6ONLY defaults to 1 [S ip6_v6only = 1].
 *  6. listen() does not re-check [I: BSD heritage].
 *  7. Automatic ports: the "bsd" algorithm of portalgo.c, sequential and
 *     counting DOWN from net.inet.ip.anonportmax (65535) to anonportmin
 *     (49152), one counter per protocol and address family; none free:
 *     EAGAIN [S portalgo.c:algo_bsd(); I that the first port is 65535].
 *  8. connect() autobind: the same allocator, before the source address is
 *     set (the port is free on every local address) [I inpcb_connect()];
 *     a 4-tuple in use, TIME_WAIT included: EADDRINUSE [S inpcb_connect()].
 *  9. TIME_WAIT is 2 * the connection's MSL, chosen when it is established
 *     (net.inet.tcp.msl_enable = 1): local address 127.0.0.1 / ::1: 1 s
 *     (2 s TIME_WAIT); peer on a directly attached subnet: 5 s (10 s);
 *     otherwise 30 s (60 s) [S tcp_established(); tcp_subr.c].  The model
 *     has no netmasks: a peer in the same /24 (IPv4) or /64 (IPv6) as one of
 *     the host's addresses counts as attached [I].
 * 10. SYN into TIME_WAIT: accepted when seq > rcv_nxt, else dropped; RST at
 *     rcv_nxt ends TIME_WAIT [U: the 4.4BSD-derived tcp_input() was not read;
 *     FreeBSD's rule for the SYN, 4.4BSD's for the RST].
 * 11. close(), SO_LINGER: seconds; unread data flushed and a FIN sent; a
 *     linger timeout returns EWOULDBLOCK; non-blocking: no wait
 *     [S uipc_socket.c:soclose(); I for tcp_disconnect()].
 * 12. Orphaned FIN_WAIT_2: closed silently after tcp_maxidle (600 s) [U].
 * Not modelled: vestigial TIME_WAIT (tcp_vtw, off by default), the other
 * port algorithms (net.inet.ip.anonportalgo.selected).
 */
#include "bsd_common.h"
#include "tcp_common.h"

#include <string.h>

/* ---- rule records: what this file decides, with ID, source and tag ---- */

static const sm_rule r_listen_no_recheck = SM_RULE("netbsd.listen.no-recheck", I,
    "listen() does not re-check the port: it binds only an unbound socket",
    "NetBSD tcp_usrreq.c");
static const sm_rule r_connect_tuple_in_use = SM_RULE("netbsd.connect.tuple-in-use", S,
    "another connection already uses this 4-tuple: EADDRINUSE",
    "NetBSD inpcb_connect()");
static const sm_rule r_connect_tuple_time_wait = SM_RULE("netbsd.connect.tuple-time-wait", S,
    "a TIME_WAIT entry holds this 4-tuple: EADDRINUSE",
    "NetBSD inpcb_connect()");
static const sm_rule r_connect_tuple_free = SM_RULE("netbsd.connect.tuple-free", S,
    "the 4-tuple is unique",
    "NetBSD inpcb_connect()");
static const sm_rule r_tw_syn_accept = SM_RULE("netbsd.tw.syn-accept", S,
    "a SYN above rcv_nxt ends the TIME_WAIT and opens a new connection",
    "NetBSD tcp_input(); U: FreeBSD-4-era code, not read");
static const sm_rule r_tw_syn_old = SM_RULE("netbsd.tw.syn-old", U,
    "an old SYN into TIME_WAIT is dropped",
    "NetBSD tcp_input()");
static const sm_rule r_sockopt_reuse = SM_RULE("netbsd.sockopt.reuse", S,
    "sets the so_options bit",
    "NetBSD sosetopt()");
static const sm_rule r_sockopt_v6only_on_inet = SM_RULE("netbsd.sockopt.v6only-on-inet", I,
    "an AF_INET socket refuses IPPROTO_IPV6 options",
    "NetBSD ip_ctloutput()");
static const sm_rule r_sockopt_v6only_bound = SM_RULE("netbsd.sockopt.v6only-bound", I,
    "IPV6_V6ONLY cannot change once the socket is bound",
    "NetBSD ip6_ctloutput()");
static const sm_rule r_sockopt_v6only = SM_RULE("netbsd.sockopt.v6only", S,
    "IPV6_V6ONLY sets IN6P_IPV6_V6ONLY",
    "NetBSD ip6_ctloutput()");
static const sm_rule r_sockopt_linger = SM_RULE("netbsd.sockopt.linger", S,
    "SO_LINGER stores so_linger, in seconds",
    "NetBSD sosetopt(), soclose()");
static const sm_rule r_sockopt_unknown = SM_RULE("netbsd.sockopt.unknown", S,
    "NetBSD has no such option",
    "NetBSD sosetopt(): ENOPROTOOPT");
static const sm_rule r_close_unread_data = SM_RULE("netbsd.close.unread-data", S,
    "close() with unread data: flushed, a FIN is sent",
    "NetBSD tcp_disconnect(); I: BSD heritage");
static const sm_rule r_linger_timeout = SM_RULE("netbsd.linger.timeout", S,
    "SO_LINGER timeout: close() returns EWOULDBLOCK",
    "NetBSD soclose()");
static const sm_rule r_linger_nonblock = SM_RULE("netbsd.linger.nonblock", S,
    "non-blocking disconnecting socket: close() does not wait",
    "NetBSD soclose()");
static const sm_rule r_exit_close = SM_RULE("netbsd.exit.close", I,
    "process exit closes each socket through soclose()",
    "");
static const sm_rule r_tw_cap = SM_RULE("netbsd.tw.cap", I,
    "no TIME_WAIT cap modelled for NetBSD",
    "");
static const sm_rule r_tw_length = SM_RULE("netbsd.tw.length", S,
    "NetBSD shortens TIME_WAIT for near peers instead of skipping it",
    "tcp_established()");
static const sm_rule r_connect_on_listener = SM_RULE("netbsd.connect.on-listener", I,
    "connect() on a listening socket: EOPNOTSUPP",
    "NetBSD soconnect()");
static const sm_rule r_shutdown_listener = SM_RULE("netbsd.shutdown.listener", I,
    "shutdown() of a listener: 0; SHUT_WR or SHUT_RDWR closes it "
    "(tcp_usrclosed() in LISTEN), SHUT_RD only flushes",
    "NetBSD soshutdown(), tcp_shutdown(), as 4.4BSD");
static const sm_rule r_send_connecting = SM_RULE("netbsd.send.connecting", S,
    "send() before the handshake ends: ENOTCONN",
    "NetBSD sosend(): PR_CONNREQUIRED and not SS_ISCONNECTED");
static const sm_rule r_aq_reset = SM_RULE("netbsd.accept.reset-queued", I,
    "a connection reset before accept() stays queued; accept() takes it and fails with ECONNABORTED",
    "inferred from soaccept() of the 4.4BSD family (SS_ISDISCONNECTED -> ECONNABORTED) and FreeBSD/XNU; not traced in NetBSD");
static const sm_rule r_tw_rst = SM_RULE("netbsd.tw.rst", U,
    "a RST at rcv_nxt ends TIME_WAIT",
    "NetBSD tcp_input()");
static const sm_rule r_tw_data = SM_RULE("netbsd.tw.data", I,
    "new data reaching TIME_WAIT resets: the connection, whose socket is gone, is dropped with a RST and leaves no TIME_WAIT",
    "NetBSD tcp_input(): SS_NOFDREF, t_state > CLOSE_WAIT, tlen (rcvafterclose); that in-window data reaches the check in TIME_WAIT is inferred");
static const sm_rule r_close_finwait2_timeout = SM_RULE("netbsd.close.finwait2-timeout", U,
    "an orphaned FIN_WAIT_2 is closed silently",
    "NetBSD tcp_timer_2msl()");
static const sm_rule r_listener_choice = SM_RULE("netbsd.listener.choice", I,
    "listener choice: specific address over wildcard, then the newest",
    "NetBSD inpcb_lookup_bound()");

static const sm_rule r_free = SM_RULE("netbsd.bind.free", S,
    "no other socket holds this port",
    "NetBSD inpcb_bind_port()");
static const sm_rule r_no_overlap = SM_RULE("netbsd.bind.no-overlap", S,
    "no socket on this port overlaps the address",
    "NetBSD inpcb_bind_port()");
static const sm_rule r_reuse_no_exact = SM_RULE("netbsd.bind.reuse-no-exact", S,
    "with SO_REUSEADDR or SO_REUSEPORT set, the lookup only meets an "
    "unconnected socket on exactly this address; there is none",
    "NetBSD inpcb_bind_port()");
static const sm_rule r_shared = SM_RULE("netbsd.bind.shared", S,
    "the socket on exactly this address has SO_REUSEPORT, as the new one "
    "does: they share the port",
    "NetBSD inpcb_bind_port()");
static const sm_rule r_wild_conflict = SM_RULE("netbsd.bind.wild-conflict", S,
    "the new socket has neither SO_REUSEADDR nor SO_REUSEPORT: every "
    "overlapping socket conflicts, in any state",
    "NetBSD inpcb_bind_port()");
static const sm_rule r_exact_ra = SM_RULE("netbsd.bind.exact-ra", S,
    "SO_REUSEADDR does not let a socket share exactly the same address "
    "with an unconnected socket bound there",
    "NetBSD inpcb_bind_port()");
static const sm_rule r_exact_rp = SM_RULE("netbsd.bind.exact-rp", S,
    "the unconnected socket on exactly this address has no SO_REUSEPORT",
    "NetBSD inpcb_bind_port()");
static const sm_rule r_uid = SM_RULE("netbsd.bind.uid", S,
    "another user's socket holds this port on an overlapping address; "
    "only two wildcard binds where the existing one has SO_REUSEPORT are "
    "exempt",
    "NetBSD inpcb_bind_port()");
static const sm_rule r_priv = SM_RULE("netbsd.bind.priv", S,
    "ports below 1024 need privilege, checked before any conflict",
    "NetBSD inpcb_bind_port(): kauth_authorize_network()");
static const sm_rule r_v6_owner = SM_RULE("netbsd.bind.v6-owner", I,
    "an IPv4 bind also meets a dual-stack AF_INET6 socket on [::] or on "
    "the v4-mapped form of this address; without SO_REUSEPORT that "
    "conflicts",
    "NetBSD inpcb_bind_port(): in6pcb_lookup_port()");
static const sm_rule r_mapped_v6only = SM_RULE("netbsd.bind.mapped-v6only", I,
    "an IPV6_V6ONLY socket cannot bind a v4-mapped address",
    "NetBSD in6pcb_bind_addr()");
static const sm_rule r_tcp_unspec = SM_RULE("netbsd.connect.unspec-tcp", I,
    "connect(AF_UNSPEC) on TCP: EAFNOSUPPORT (a connected socket: EISCONN "
    "first)",
    "NetBSD soconnect() as FreeBSD");
static const sm_rule r_udp_unspec = SM_RULE("netbsd.connect.unspec-udp", I,
    "connect(AF_UNSPEC) on UDP: disconnected first, then the family is "
    "refused: dissolved, and EAFNOSUPPORT",
    "NetBSD soconnect() as FreeBSD");
static const sm_rule r_udp_sendto_connected = SM_RULE("netbsd.connect.sendto-connected-udp", I,
    "sendto() with an address on a connected UDP socket: EISCONN",
    "BSD udp_output()");
static const sm_rule r_connect_any = SM_RULE("netbsd.connect.to-wildcard", I,
    "connect() to INADDR_ANY goes to this host (4.4BSD in_pcbconnect(): "
    "the first interface address)",
    "");
static const sm_rule r_v4_on_v6 = SM_RULE("netbsd.connect.v4-on-inet6", I,
    "an IPv4 sockaddr given to an AF_INET6 socket: EAFNOSUPPORT (use "
    "::ffff:a.b.c.d)",
    "");

/* NetBSD's rules for the BSD reuse test (bsd_common.h). */
static const sm__bsd_reuse_rules nbsd_reuse = {
    &r_free, &r_no_overlap, &r_reuse_no_exact, &r_shared, &r_wild_conflict, &r_exact_ra,
    &r_exact_rp,
};

/* Rule 4: a dual-stack AF_INET6 owner of [::] or ::ffff:laddr. */
static int v6_owner(const sm_bind_ctx *c, uint32_t laddr)
{
    for (size_t i = 0; i < c->n_owners; i++) {
        const sm_sock_view *e = &c->owners[i];
        if (e->family != 6 || e->at_bind.v6only || e->connected || e->time_wait)
            continue;
        const sm_addr *a = &e->local_addr;
        if (sm_addr_is_any(a))
            return (int)i;
        if (sm_addr_is_v4mapped(a)) {
            uint32_t x = sm__bsd_v4_part(a);
            if (x == 0 || laddr == 0 || x == laddr)
                return (int)i;
        }
    }
    return -1;
}

static sm_verdict nbsd_bind(const sm_profile *self, const sm_bind_ctx *c)
{
    (void)self;
    const sm_sock_view *n = &c->self;
    const sm_addr *a = &n->bound_addr;
    bool mapped = n->family == 6 && sm_addr_is_v4mapped(a);
    if (mapped && n->now.v6only)
        return sm__fail(SM_EADDRNOTAVAIL, &r_mapped_v6only, -1);
    if (n->port < c->tun[SM_TUN_UNPRIV_PORT] && !n->privileged)
        return sm__fail(SM_EACCES, &r_priv, -1);
    unsigned opts = sm__bsd_opt_bits(&n->now);
    bool wild = (opts & (BSD_RA | BSD_RP)) == 0;
    bool v4 = n->family == 4 || mapped;
    uint32_t laddr = sm__bsd_v4_part(a);
    bool mcast = sm_addr_is_multicast(a);
    unsigned reuse = opts & BSD_RP;
    if (mcast && (opts & (BSD_RA | BSD_RP)))
        reuse = BSD_RA | BSD_RP;
    bool nany = v4 ? laddr == 0 : sm_addr_is_any(a);
    if (!n->privileged && !mcast) {
        int t = v4 ? sm__bsd_lookup4_inet(c, laddr, true) : sm__bsd_lookup6(c, a, true);
        if (t >= 0 && c->owners[t].uid != n->uid) {
            const sm_sock_view *e = &c->owners[t];
            bool eany = sm__bsd_v4_part(&e->local_addr) == 0 &&
                        (e->local_addr.family == 4 || sm_addr_is_any(&e->local_addr) ||
                         sm_addr_is_v4mapped(&e->local_addr));
            if (!(nany && eany && e->now.reuseport))
                return sm__fail(SM_EADDRINUSE, &r_uid, t);
        }
    }
    int t = v4 ? sm__bsd_lookup4_inet(c, laddr, wild) : sm__bsd_lookup6(c, a, wild);
    if (sm__bsd_blocks(c, t, reuse))
        return sm__bsd_conflict(&nbsd_reuse, t, wild, reuse);
    if (n->family == 4 && !(opts & BSD_RP)) {
        int k = v6_owner(c, laddr);
        if (k >= 0)
            return sm__fail(SM_EADDRINUSE, &r_v6_owner, k);
    }
    return sm__ok(sm__bsd_pass_rule(&nbsd_reuse, c, t, wild));
}

static sm_verdict nbsd_listen(const sm_profile *self, const sm_bind_ctx *c)
{
    (void)self;
    (void)c;
    return sm__ok(&r_listen_no_recheck);
}

/* ---- automatic ports ---------------------------------------------------------- */

static const sm_rule r_pick = SM_RULE("netbsd.port.pick", S,
    "automatic port: the \"bsd\" algorithm counts down from "
    "net.inet.ip.anonportmax (65535) to anonportmin (49152), one counter "
    "per protocol and family, skipping ports the socket's lookup finds "
    "held",
    "NetBSD portalgo.c:algo_bsd()");
static const sm_rule r_exhausted = SM_RULE("netbsd.port.exhausted", S,
    "no port of anonportmin..anonportmax is free: EAGAIN",
    "NetBSD portalgo.c:algo_bsd()");

static sm_verdict pick(sm_pick_ctx *pc, uint16_t *port, const sm_addr *laddr, bool force_wild)
{
    const sm_sock_view *self = sm__pick_self(pc);
    const int64_t *tun = sm__pick_tun(pc);
    uint32_t mymin = (uint32_t)tun[SM_TUN_PORT_LO];
    uint32_t mymax = (uint32_t)tun[SM_TUN_PORT_HI];
    if (mymin > mymax) {
        uint32_t x = mymin;
        mymin = mymax;
        mymax = x;
    }
    /* One counter per (protocol, family): words 4..7; 0 means "never used",
     * so the first port is mymax [I]. */
    uint64_t *last = &sm__pick_state(pc)[4 + (self->proto == SM_UDP ? 2 : 0) +
                                         (self->family == 6 ? 1 : 0)];
    bool v4 = self->family == 4 || sm_addr_is_v4mapped(laddr);
    for (uint32_t i = 0; i <= mymax - mymin; i++) {
        uint64_t p = *last == 0 ? mymax : *last - 1;
        if (p < mymin || p > mymax)
            p = mymax;
        *last = p;
        sm_bind_ctx bc;
        sm__pick_port_ctx(pc, (uint16_t)p, &bc);
        bool wild = force_wild ||
                    (sm__bsd_opt_bits(&bc.self.now) & (BSD_RA | BSD_RP)) == 0;
        int t = v4 ? sm__bsd_lookup4_inet(&bc, sm__bsd_v4_part(laddr), wild)
                   : sm__bsd_lookup6(&bc, laddr, wild);
        if (t < 0) {
            *port = (uint16_t)p;
            return sm__ok(&r_pick);
        }
    }
    return sm__fail(SM_EWOULDBLOCK, &r_exhausted, -1);
}

static sm_verdict nbsd_pick_port(const sm_profile *self, sm_pick_ctx *pc, uint16_t *port)
{
    (void)self;
    return pick(pc, port, &sm__pick_self(pc)->bound_addr, false);
}

static sm_verdict nbsd_pick_connect(const sm_profile *self, sm_pick_ctx *pc, uint16_t *port)
{
    (void)self;
    sm_addr any = sm_addr_any(sm__pick_self(pc)->family);
    return pick(pc, port, &any, true);
}

static sm_verdict nbsd_connect(const sm_profile *self, const sm_bind_ctx *c)
{
    (void)self;
    return sm__connect_unique(
        c, SM_EADDRINUSE,
        &r_connect_tuple_in_use,
        &r_connect_tuple_time_wait,
        &r_connect_tuple_free);
}

static sm_tw_syn_verdict nbsd_tw_syn(const sm_profile *self, const sm_tw_syn_ctx *c)
{
    (void)self;
    sm_tw_syn_verdict v;
    if ((int32_t)(c->seg_seq - c->rcv_nxt) > 0) {
        v.action = SM_TW_SYN_ACCEPT;
        v.rule = &r_tw_syn_accept;
    } else {
        v.action = SM_TW_SYN_DROP;
        v.rule = &r_tw_syn_old;
    }
    return v;
}

/* The MSL classes of tcp_established() [S]; "attached subnet" is a /24 or
 * /64 of one of the host's addresses in the model [I]. */
static bool same_prefix(const sm_addr *a, const sm_addr *b)
{
    uint32_t x, y;
    if (sm_addr_v4(a, &x) && sm_addr_v4(b, &y))
        return (x >> 8) == (y >> 8);
    if (a->family == 6 && b->family == 6 && !sm_addr_is_v4mapped(a) && !sm_addr_is_v4mapped(b))
        return memcmp(a->b, b->b, 8) == 0;
    return false;
}

static uint64_t nbsd_time_wait_ms(const sm_profile *self, const sm_tw_len_ctx *c)
{
    (void)self;
    uint32_t v4;
    static const uint8_t lo6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    if ((sm_addr_v4(&c->local, &v4) && v4 == 0x7f000001u) ||
        (c->local.family == 6 && memcmp(c->local.b, lo6, 16) == 0))
        return 2 * 1000;           /* tcp_msl_loop = 1 s */
    for (size_t i = 0; i < c->n_host_addrs; i++)
        if (!sm_addr_is_loopback(&c->host_addrs[i]) &&
            same_prefix(&c->host_addrs[i], &c->remote))
            return 2 * 5000;       /* tcp_msl_local = 5 s */
    return (uint64_t)c->tun[SM_TUN_TIME_WAIT_MS]; /* 2 * tcp_msl_remote */
}

static sm_verdict nbsd_setsockopt(const sm_profile *self, const sm_sock_view *s, sm_option opt, int v1, int v2)
{
    (void)self;
    (void)v1;
    (void)v2;
    switch (opt) {
    case SM_SO_REUSEADDR:
    case SM_SO_REUSEPORT:
        return sm__ok(&r_sockopt_reuse);
    case SM_IPV6_V6ONLY:
        if (s->family != 6)
            return sm__fail(SM_EINVAL, &r_sockopt_v6only_on_inet, -1);
        if (s->bound)
            return sm__fail(SM_EINVAL, &r_sockopt_v6only_bound, -1);
        return sm__ok(&r_sockopt_v6only);
    case SM_SO_LINGER:
        return sm__ok(&r_sockopt_linger);
    default:
        return sm__fail(SM_ENOPROTOOPT, &r_sockopt_unknown, -1);
    }
}

static const sm_rule r_failed_connect_shut = SM_RULE("netbsd.recv.after-failed-connect", I,
    "after a failed connect() (refused, timed out) the socket is shut both "
    "ways: recv() reads end of stream, send() fails with EPIPE",
    "4.4BSD tcp_close() -> soisdisconnected(), sosend()/soreceive() test SS_CANTSENDMORE/SS_CANTRCVMORE first; inferred for NetBSD, not measured");

static const sm_tcp_rules nbsd_tcp_rules = {
    .failed_connect_eof = true,
    .failed_connect_eof_rule = &r_failed_connect_shut,
    .failed_connect_send = SM_EPIPE,
    .failed_connect_send_rule = &r_failed_connect_shut,
    .unread_close_rst = false,
    .unread_close_rule = &r_close_unread_data,
    .linger_timeout = SM_LINGER_TO_EWOULDBLOCK,
    .linger_timeout_rule = &r_linger_timeout,
    .linger_nonblock = SM_LINGER_NB_NO_WAIT,
    .linger_nonblock_rule = &r_linger_nonblock,
    .exit_lingers = true,
    .exit_rule = &r_exit_close,
    .tw_overflow_recycles = false,
    .tw_overflow_rule = &r_tw_cap,
    .local_tw_purge_rule_is_loopback_only = false,
    .no_local_tw_rule = &r_tw_length,
    .connect_port_exhausted = SM_EWOULDBLOCK,
    .connect_on_listener = SM_EOPNOTSUPP,
    .connect_on_listener_rule = &r_connect_on_listener,
    .rst_in_tw_rule = &r_tw_rst,
    .tcp_unspec = SM_EAFNOSUPPORT,
    .tcp_unspec_rule = &r_tcp_unspec,
    .udp_unspec = SM_EAFNOSUPPORT,
    .udp_unspec_rule = &r_udp_unspec,
    .unspec_unbinds = false,
    .udp_sendto_connected = SM_EISCONN,
    .udp_sendto_connected_rule = &r_udp_sendto_connected,
    .connect_any = SM_OK,
    .connect_any_rule = &r_connect_any,
    .v4_on_v6_tcp = SM_EAFNOSUPPORT,
    .v4_on_v6_udp = SM_EAFNOSUPPORT,
    .v4_on_v6only = SM_EAFNOSUPPORT,
    .v4_on_v6_rule = &r_v4_on_v6,
    .reset_error_sticky = false,
    .rst_in_close_wait = SM_ECONNRESET,
    .linger_hz = 1,
    .finwait2_timeout_rst = false,
    .finwait2_timeout_rule = &r_close_finwait2_timeout,
    .tw_data = SM_TW_DATA_RST,
    .tw_data_rule = &r_tw_data,
    .shutdown_listener = SM_SHUTL_STOP_ON_WR,
    .shutdown_listener_rule = &r_shutdown_listener,
    .send_connecting = SM_SENDC_ENOTCONN,
    .send_connecting_rule = &r_send_connecting,
    .aq_reset = SM_AQR_FAIL,
    .aq_reset_err = SM_ECONNABORTED,
    .aq_reset_rule = &r_aq_reset,
};

static const sm_sysctl_def sysctls[] = {
    {"net.inet.ip.anonportmin", 1, {SM_TUN_PORT_LO}, 1024, 65535, 1,
     "lowest automatic port (default 49152)", 0},
    {"net.inet.ip.anonportmax", 1, {SM_TUN_PORT_HI}, 1024, 65535, 1,
     "highest automatic port, the first handed out (default 65535)", 0},
    {"net.inet.tcp.mslt.remote", 1, {SM_TUN_TIME_WAIT_MS}, 1, 1073741, 2000,
     "MSL in s for peers that are not attached (default 30; the model takes "
     "seconds, the kernel's unit was not read); TIME_WAIT is 2*MSL. Loopback "
     "(1 s) and attached peers (5 s) keep their MSL", 0},
    {"net.inet6.ip6.v6only", 1, {SM_TUN_V6ONLY_DEFAULT}, 0, 1, 1,
     "IPV6_V6ONLY of new AF_INET6 sockets (default 1)", 0},
};

extern const sm_rule_set sm__rules_netbsd;
const sm_profile sm_profile_netbsd = {
    .version = SM_PROFILE_VERSION,
    .name = "netbsd",
    .summary = "NetBSD: ports counting down, TIME_WAIT by distance to the peer",
    .sysctls = sysctls,
    .n_sysctls = sizeof sysctls / sizeof sysctls[0],
    .defaults = {
        [SM_TUN_PORT_LO] = 49152,        /* IPPORT_ANONMIN */
        [SM_TUN_PORT_HI] = 65535,        /* IPPORT_ANONMAX */
        [SM_TUN_UNPRIV_PORT] = 1024,     /* IPPORT_RESERVED */
        [SM_TUN_TIME_WAIT_MS] = 60000,   /* 2 * tcp_msl_remote (TCPTV_MSL 30 s) */
        [SM_TUN_RFC1337] = 0,            /* [U] */
        [SM_TUN_MAX_TW] = -1,
        [SM_TUN_FIN_TIMEOUT_MS] = 600000, /* tcp_maxidle [U] */
        [SM_TUN_TIMESTAMPS] = 1,
        [SM_TUN_NOLOCALTIMEWAIT] = 0,
        [SM_TUN_V6ONLY_DEFAULT] = 1,     /* ip6_v6only = 1 */
        [SM_TUN_RANDOM_PORTS] = 0,       /* algo_bsd: sequential */
        [SM_TUN_SYN_RTO_MS] = 1000,      /* [I] */
        [SM_TUN_CONNECT_TIMEOUT_MS] = 75000, /* TCPTV_KEEP_INIT */
    },
    .native_err_name = NULL,
    .setsockopt = nbsd_setsockopt,
    .bind = nbsd_bind,
    .listen = nbsd_listen,
    .pick_port = nbsd_pick_port,
    .tcp = &nbsd_tcp_rules,
    .connect = nbsd_connect,
    .pick_connect_port = nbsd_pick_connect,
    .tw_syn = nbsd_tw_syn,
    .select_listener = sm__select_newest,
    .select_listener_rule = &r_listener_choice,
    .time_wait_ms = nbsd_time_wait_ms,
    .rule_sets = (const sm_rule_set *const[]){&sm__rules_netbsd, NULL},
};

/* Every rule record of this file (docs/rules.md). */
static const sm_rule *const rules_of_file[] = {
    &r_shutdown_listener,
    &r_send_connecting,
    &r_aq_reset,
    &r_failed_connect_shut,
    &r_listen_no_recheck,
    &r_connect_tuple_in_use,
    &r_connect_tuple_time_wait,
    &r_connect_tuple_free,
    &r_tw_syn_accept,
    &r_tw_syn_old,
    &r_sockopt_reuse,
    &r_sockopt_v6only_on_inet,
    &r_sockopt_v6only_bound,
    &r_sockopt_v6only,
    &r_sockopt_linger,
    &r_sockopt_unknown,
    &r_close_unread_data,
    &r_linger_timeout,
    &r_linger_nonblock,
    &r_exit_close,
    &r_tw_cap,
    &r_tw_length,
    &r_connect_on_listener,
    &r_tw_rst,
    &r_tw_data,
    &r_close_finwait2_timeout,
    &r_listener_choice,
    &r_free,
    &r_no_overlap,
    &r_reuse_no_exact,
    &r_shared,
    &r_wild_conflict,
    &r_exact_ra,
    &r_exact_rp,
    &r_uid,
    &r_priv,
    &r_v6_owner,
    &r_mapped_v6only,
    &r_pick,
    &r_exhausted,
    &r_tcp_unspec,
    &r_udp_unspec,
    &r_udp_sendto_connected,
    &r_connect_any,
    &r_v4_on_v6,
};
const sm_rule_set sm__rules_netbsd = {"profiles/netbsd.c", rules_of_file,
    sizeof rules_of_file / sizeof rules_of_file[0]};
