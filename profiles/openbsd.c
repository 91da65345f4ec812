/*
 * openbsd.c - the "openbsd" profile: OpenBSD (7.x).
 *
 * OpenBSD decides bind() in in_pcbbind_locked() with in_pcbaddrisavail_lock()
 * (in6_pcbaddrisavail() for IPv6) over in_pcblookup_local_lock(), the BSD
 * single-PCB lookup (bsd_common.c).  It keeps IPv4 and IPv6 PCBs in separate
 * tables and has no v4-mapped addresses at all.  Sources:
 * ../shared/reference/more-profiles.md §2 and bsd-solaris.md §2.2, read in
 * openbsd/src sys/netinet/in_pcb.c 1.320, tcp_input.c 1.464, tcp_timer.h,
 * tcp_usrreq.c 1.252, sys/netinet6/in6_pcb.c, ip6_output.c,
 * sys/kern/uipc_socket.c 1.385, and the regress tests
 * regress/sys/netinet/{in_pcbbind,broadcast_bind,autoport}.  Tags: [S] read
 * in source, [T] regress test, [I] inferred, [U] unverified.
 *
 * The rule table:
 *  1. A v4-mapped local address on an AF_INET6 socket: EADDRNOTAVAIL ("no
 *     support for it") [S in6_pcbaddrisavail()].
 *  2. Separate IPv4 and IPv6 tables: an AF_INET and an AF_INET6 socket never
 *     conflict (0.0.0.0:P and [::]:P coexist without options) [S in_pcb.c,
 *     in_pcb.h KASSERTs; I].
 *  3. IPV6_V6ONLY is always 1: setting 0 fails with EINVAL [S ip6_output.c:
 *     ip6_ctloutput()].
 *  4. Uid rule (non-root, not multicast): any PCB of another user that a
 *     WILDCARD lookup finds: EADDRINUSE, with no exemption at all (not for
 *     two wildcards, SO_REUSEPORT, or connected sockets) [S in_pcbaddrisavail_lock()].
 *  5. Conflict: the lookup is WILDCARD unless the new socket has
 *     SO_REUSEADDR or SO_REUSEPORT; the PCB found conflicts unless it has the
 *     new socket's SO_REUSEPORT (for multicast SO_REUSEADDR counts as both).
 *     SO_REUSEADDR only changes the lookup, so two SO_REUSEADDR sockets on
 *     one exact address conflict [S; T in_pcbbind T5].
 *  6. Privileged ports (below 1024, and 2049 for TCP and UDP) are checked
 *     after the conflicts: a busy one gives EADDRINUSE, a free one EACCES
 *     [S in_pcbbind_locked(), in_rootonly()].
 *  7. listen() does not re-check [S tcp_usrreq.c].
 *  8. Automatic ports: a random start in net.inet.ip.portfirst..portlast
 *     (1024..49151), then +1 with wraparound, skipping the in_baddynamic
 *     ports; free by the socket's own lookup; none free: EADDRNOTAVAIL
 *     [S in_pcbpickport(); T autoport].
 *  9. connect(): the source address first, then a port free on that address
 *     (not shared between destinations); a 4-tuple in use, TIME_WAIT
 *     included: EADDRINUSE [S in_pcbconnect(); I].
 * 10. TIME_WAIT: 2 * TCPTV_MSL = 60 s, compiled in [S tcp_timer.h]; no local
 *     shortcut [S].  A SYN with seq > rcv_nxt or a newer timestamp opens a
 *     new connection; others get an ACK [S tcp_input()].  A RST at rcv_nxt
 *     ends TIME_WAIT: no RFC 1337 protection [S tcp_input()].
 * 11. Orphaned FIN_WAIT_2: re-armed while idle up to tcp_maxidle
 *     (8 * 75 s = 600 s), then closed silently [S tcp_timer_2msl(); I for the
 *     600 s: the first arming in tcp_usrclosed() was not squared, U].
 * 12. SO_LINGER: l_linger outside 0..32767: EINVAL; seconds; close() with
 *     unread data sends a FIN (the data is flushed); a linger timeout
 *     returns EWOULDBLOCK [S sosetopt(), soclose(), tcp_disconnect(); I].
 * 13. No SO_REUSEPORT load balancing: hash chains are move-to-front, so the
 *     last listener found keeps the connections (modelled: the newest) [S/I].
 */
#include "bsd_common.h"
#include "tcp_common.h"

#include <string.h>

/* ---- rule records: what this file decides, with ID, source and tag ---- */

static const sm_rule r_listen_no_recheck = SM_RULE("openbsd.listen.no-recheck", S,
    "listen() does not re-check the port: it binds only an unbound socket",
    "OpenBSD tcp_usrreq.c");
static const sm_rule r_connect_tuple_in_use = SM_RULE("openbsd.connect.tuple-in-use", S,
    "another connection already uses this 4-tuple: EADDRINUSE",
    "OpenBSD in_pcbconnect()");
static const sm_rule r_connect_tuple_time_wait = SM_RULE("openbsd.connect.tuple-time-wait", I,
    "a TIME_WAIT entry holds this 4-tuple: EADDRINUSE (connect() does "
    "not recycle TIME_WAIT)",
    "OpenBSD in_pcbconnect()");
static const sm_rule r_connect_tuple_free = SM_RULE("openbsd.connect.tuple-free", S,
    "the 4-tuple is unique",
    "OpenBSD in_pcbconnect()");
static const sm_rule r_tw_syn_accept = SM_RULE("openbsd.tw.syn-accept", S,
    "a SYN with a newer timestamp or a sequence number above rcv_nxt "
    "closes the TIME_WAIT and opens a new connection",
    "OpenBSD tcp_input(): TCPS_TIME_WAIT, SYN without ACK");
static const sm_rule r_tw_syn_old = SM_RULE("openbsd.tw.syn-old", S,
    "an older SYN into TIME_WAIT is answered with an ACK and the "
    "TIME_WAIT stays",
    "OpenBSD tcp_input()");
static const sm_rule r_sockopt_reuse = SM_RULE("openbsd.sockopt.reuse", S,
    "sets the so_options bit",
    "OpenBSD sosetopt()");
static const sm_rule r_sockopt_v6only_on_inet = SM_RULE("openbsd.sockopt.v6only-on-inet", I,
    "an AF_INET socket refuses IPPROTO_IPV6 options",
    "OpenBSD ip_ctloutput()");
static const sm_rule r_sockopt_v6only_fixed = SM_RULE("openbsd.sockopt.v6only-fixed", S,
    "IPV6_V6ONLY is always 1 on OpenBSD: clearing it fails",
    "OpenBSD ip6_ctloutput()");
static const sm_rule r_sockopt_v6only_bound = SM_RULE("openbsd.sockopt.v6only-bound", S,
    "IPV6_V6ONLY cannot be set once the socket is bound",
    "OpenBSD ip6_ctloutput()");
static const sm_rule r_sockopt_v6only = SM_RULE("openbsd.sockopt.v6only", S,
    "IPV6_V6ONLY 1 is what it already is",
    "OpenBSD ip6_ctloutput()");
static const sm_rule r_sockopt_linger_range = SM_RULE("openbsd.sockopt.linger-range", S,
    "SO_LINGER takes 0..32767 s (SHRT_MAX) on OpenBSD",
    "OpenBSD sosetopt()");
static const sm_rule r_sockopt_linger = SM_RULE("openbsd.sockopt.linger", S,
    "SO_LINGER stores so_linger, in seconds",
    "OpenBSD sosetopt(), soclose()");
static const sm_rule r_sockopt_unknown = SM_RULE("openbsd.sockopt.unknown", S,
    "OpenBSD has no such option",
    "OpenBSD sosetopt(): ENOPROTOOPT");
static const sm_rule r_close_unread_data = SM_RULE("openbsd.close.unread-data", S,
    "close() with unread data: the receive buffer is flushed and a FIN "
    "is sent",
    "OpenBSD tcp_disconnect()");
static const sm_rule r_linger_timeout = SM_RULE("openbsd.linger.timeout", I,
    "SO_LINGER timeout: close() returns EWOULDBLOCK (the sleep's error) "
    "and the connection goes on",
    "OpenBSD soclose()");
static const sm_rule r_linger_nonblock = SM_RULE("openbsd.linger.nonblock", S,
    "non-blocking socket: close() does not linger",
    "OpenBSD soclose(): MSG_DONTWAIT");
static const sm_rule r_exit_close = SM_RULE("openbsd.exit.close", S,
    "process exit closes each descriptor through soclose(), which "
    "lingers as close() does",
    "OpenBSD closef(); I/U");
static const sm_rule r_tw_cap = SM_RULE("openbsd.tw.cap", S,
    "OpenBSD has no TIME_WAIT cap",
    "");
static const sm_rule r_tw_local = SM_RULE("openbsd.tw.local", S,
    "OpenBSD has no local-TIME_WAIT shortcut",
    "");
static const sm_rule r_connect_on_listener = SM_RULE("openbsd.connect.on-listener", I,
    "connect() on a listening socket: EOPNOTSUPP",
    "OpenBSD soconnect(): SO_ACCEPTCONN");
static const sm_rule r_shutdown_listener = SM_RULE("openbsd.shutdown.listener", S,
    "shutdown() of a listener: 0; SHUT_WR or SHUT_RDWR closes it "
    "(tcp_usrclosed() in LISTEN: CLOSED; what follows is inferred), SHUT_RD "
    "only flushes",
    "OpenBSD soshutdown(), tcp_shutdown()");
static const sm_rule r_send_connecting = SM_RULE("openbsd.send.connecting", S,
    "send() before the handshake ends: ENOTCONN",
    "OpenBSD sosend(): PR_CONNREQUIRED and not SS_ISCONNECTED");
static const sm_rule r_aq_reset = SM_RULE("openbsd.accept.reset-queued", I,
    "a connection reset before accept() stays queued; accept() takes it and fails with ECONNABORTED",
    "inferred from soaccept() of the 4.4BSD family (SS_ISDISCONNECTED -> ECONNABORTED) and FreeBSD/XNU; not traced in OpenBSD");
static const sm_rule r_tw_rst = SM_RULE("openbsd.tw.rst", S,
    "a RST at rcv_nxt ends TIME_WAIT: no RFC 1337 protection",
    "OpenBSD tcp_input()");
static const sm_rule r_tw_data = SM_RULE("openbsd.tw.data", I,
    "new data reaching TIME_WAIT resets: the connection, whose socket is gone, is dropped with a RST and leaves no TIME_WAIT",
    "OpenBSD tcp_input(): SS_NOFDREF, t_state > CLOSE_WAIT, tlen (rcvafterclose); that in-window data reaches the check in TIME_WAIT is inferred");
static const sm_rule r_close_finwait2_timeout = SM_RULE("openbsd.close.finwait2-timeout", I,
    "an orphaned FIN_WAIT_2 is closed silently once idle for tcp_maxidle "
    "(600 s)",
    "OpenBSD tcp_timer_2msl()");
/* Tagged S/I: the lookup is read in source, the choice among equals
 * inferred from it; the weaker tag holds. */
static const sm_rule r_listener_choice = SM_RULE("openbsd.listener.choice", I,
    "listener choice: specific address over wildcard; no load balancing, "
    "the move-to-front hash chain keeps the last one found (modelled: "
    "the newest)",
    "OpenBSD in_pcblookup_listen()");
static const sm_rule r_tcp_unspec = SM_RULE("openbsd.connect.unspec-tcp", I,
    "connect(AF_UNSPEC) on TCP: EAFNOSUPPORT (a connected socket: EISCONN "
    "first)",
    "OpenBSD soconnect() as FreeBSD");
static const sm_rule r_udp_unspec = SM_RULE("openbsd.connect.unspec-udp", I,
    "connect(AF_UNSPEC) on UDP: disconnected first, then the family is "
    "refused: dissolved, and EAFNOSUPPORT",
    "OpenBSD soconnect() as FreeBSD");
static const sm_rule r_udp_sendto_connected = SM_RULE("openbsd.connect.sendto-connected-udp", I,
    "sendto() with an address on a connected UDP socket: EISCONN",
    "BSD udp_output()");
static const sm_rule r_connect_any = SM_RULE("openbsd.connect.to-wildcard", I,
    "connect() to INADDR_ANY goes to this host (4.4BSD in_pcbconnect(): "
    "the first interface address)",
    "");
static const sm_rule r_v4_on_v6 = SM_RULE("openbsd.connect.v4-on-inet6", I,
    "an IPv4 sockaddr given to an AF_INET6 socket: EAFNOSUPPORT (use "
    "::ffff:a.b.c.d)",
    "");

/* in_baddynamic(): ports automatic allocation never hands out [S in.c / in.h
 * DEFBADDYNAMICPORTS_TCP/UDP]. */
static const uint16_t bad_tcp[] = {587, 749, 750, 751, 853, 871, 2049,
                                   6000, 6001, 6002, 6003, 6004, 6005,
                                   6006, 6007, 6008, 6009, 6010};
static const uint16_t bad_udp[] = {623, 664, 749, 750, 751, 2049, 3784, 3785, 7784};

static bool baddynamic(sm_proto p, uint16_t port)
{
    const uint16_t *t = p == SM_TCP ? bad_tcp : bad_udp;
    size_t n = p == SM_TCP ? sizeof bad_tcp / sizeof bad_tcp[0]
                           : sizeof bad_udp / sizeof bad_udp[0];
    for (size_t i = 0; i < n; i++)
        if (t[i] == port)
            return true;
    return false;
}

/* in_rootonly(): below IPPORT_RESERVED, and the rootonlyports list (2049 for
 * TCP and UDP) [S]. */
static bool rootonly(const sm_bind_ctx *c, uint16_t port)
{
    return port < c->tun[SM_TUN_UNPRIV_PORT] || port == 2049;
}

static const sm_rule r_free = SM_RULE("openbsd.bind.free", S,
    "no other socket holds this port",
    "OpenBSD in_pcbaddrisavail_lock()");
static const sm_rule r_no_overlap = SM_RULE("openbsd.bind.no-overlap", S,
    "no socket of this address family on this port overlaps the address "
    "(IPv4 and IPv6 sockets live in separate tables)",
    "OpenBSD in_pcblookup_local_lock()");
static const sm_rule r_reuse_no_exact = SM_RULE("openbsd.bind.reuse-no-exact", S,
    "with SO_REUSEADDR or SO_REUSEPORT set, the lookup only meets an "
    "unconnected socket on exactly this address; there is none",
    "OpenBSD in_pcbaddrisavail_lock()");
static const sm_rule r_shared = SM_RULE("openbsd.bind.shared", S,
    "the socket on exactly this address has SO_REUSEPORT, as the new one "
    "does: they share the port",
    "OpenBSD in_pcbaddrisavail_lock()");
static const sm_rule r_wild_conflict = SM_RULE("openbsd.bind.wild-conflict", S,
    "the new socket has neither SO_REUSEADDR nor SO_REUSEPORT: every "
    "socket of its family whose address overlaps conflicts, in any state",
    "OpenBSD in_pcbaddrisavail_lock(), INPLOOKUP_WILDCARD");
static const sm_rule r_exact_ra = SM_RULE("openbsd.bind.exact-ra", S,
    "SO_REUSEADDR only makes the lookup exact: an unconnected socket "
    "holds this very address and port, and the new socket has no "
    "SO_REUSEPORT",
    "OpenBSD in_pcbaddrisavail_lock(); S, T in_pcbbind T5");
static const sm_rule r_exact_rp = SM_RULE("openbsd.bind.exact-rp", S,
    "the unconnected socket on exactly this address has no SO_REUSEPORT",
    "OpenBSD in_pcbaddrisavail_lock()");
static const sm_rule r_uid = SM_RULE("openbsd.bind.uid", S,
    "another user's socket holds this port on an overlapping address: "
    "OpenBSD allows no sharing between users at all (no exemption for "
    "wildcards, SO_REUSEPORT or connected sockets)",
    "OpenBSD in_pcbaddrisavail_lock()");
static const sm_rule r_priv = SM_RULE("openbsd.bind.priv", S,
    "ports below 1024, and 2049, need root; checked after the conflicts, "
    "so a free port gives EACCES",
    "OpenBSD in_pcbbind_locked(), in_rootonly()");
static const sm_rule r_mapped = SM_RULE("openbsd.bind.mapped", S,
    "OpenBSD has no v4-mapped addresses: binding one fails",
    "OpenBSD in6_pcbaddrisavail()");

/* OpenBSD's rules for the BSD reuse test (bsd_common.h). */
static const sm__bsd_reuse_rules obsd_reuse = {
    &r_free, &r_no_overlap, &r_reuse_no_exact, &r_shared, &r_wild_conflict, &r_exact_ra,
    &r_exact_rp,
};

/* The lookup for the new socket's table: IPv4 for AF_INET, IPv6 for
 * AF_INET6 (always IPV6_V6ONLY, so the shared lookups keep them apart). */
static int lookup(const sm_bind_ctx *c, const sm_addr *a, bool wild)
{
    if (c->self.family == 4)
        return sm__bsd_lookup4(c, sm__bsd_v4_part(a), wild);
    return sm__bsd_lookup6(c, a, wild);
}

static sm_verdict obsd_bind(const sm_profile *self, const sm_bind_ctx *c)
{
    (void)self;
    const sm_sock_view *n = &c->self;
    const sm_addr *a = &n->bound_addr;
    if (n->family == 6 && sm_addr_is_v4mapped(a))
        return sm__fail(SM_EADDRNOTAVAIL, &r_mapped, -1);
    unsigned opts = sm__bsd_opt_bits(&n->now);
    bool wild = (opts & (BSD_RA | BSD_RP)) == 0;
    bool mcast = sm_addr_is_multicast(a);
    unsigned reuse = opts & BSD_RP;
    if (mcast && (opts & (BSD_RA | BSD_RP)))
        reuse = BSD_RA | BSD_RP;
    if (!mcast && !n->privileged) {
        int t = lookup(c, a, true);
        if (t >= 0 && c->owners[t].uid != n->uid)
            return sm__fail(SM_EADDRINUSE, &r_uid, t);
    }
    int t = lookup(c, a, wild);
    if (sm__bsd_blocks(c, t, reuse))
        return sm__bsd_conflict(&obsd_reuse, t, wild, reuse);
    if (rootonly(c, n->port) && !n->privileged)
        return sm__fail(SM_EACCES, &r_priv, -1);
    return sm__ok(sm__bsd_pass_rule(&obsd_reuse, c, t, wild));
}

static sm_verdict obsd_listen(const sm_profile *self, const sm_bind_ctx *c)
{
    (void)self;
    (void)c;
    return sm__ok(&r_listen_no_recheck);
}

/* ---- automatic ports -------------------------------------------------------- */

static const sm_rule r_pick = SM_RULE("openbsd.port.pick", S,
    "automatic port: a random start in net.inet.ip.portfirst..portlast "
    "(1024..49151), then the following ports, skipping in_baddynamic() "
    "ports and ports the socket's own lookup finds held",
    "OpenBSD in_pcbpickport(); S, T autoport");
static const sm_rule r_exhausted = SM_RULE("openbsd.port.exhausted", S,
    "no port of net.inet.ip.portfirst..portlast is free: EADDRNOTAVAIL",
    "OpenBSD in_pcbpickport(); S, T autoport");

static sm_verdict pick(sm_pick_ctx *pc, uint16_t *port, const sm_addr *laddr)
{
    const sm_sock_view *self = sm__pick_self(pc);
    const int64_t *tun = sm__pick_tun(pc);
    uint32_t lower = (uint32_t)tun[SM_TUN_PORT_LO];
    uint32_t higher = (uint32_t)tun[SM_TUN_PORT_HI];
    if (lower > higher) { /* swapped [S] */
        uint32_t x = lower;
        lower = higher;
        higher = x;
    }
    uint32_t count = higher - lower;
    uint32_t cand = lower + (count ? (uint32_t)(sm__pick_rand(pc) % count) : 0);
    for (uint32_t i = 0; i <= count; i++) {
        if (!baddynamic(self->proto, (uint16_t)cand)) {
            sm_bind_ctx bc;
            sm__pick_port_ctx(pc, (uint16_t)cand, &bc);
            bool wild = (sm__bsd_opt_bits(&bc.self.now) & (BSD_RA | BSD_RP)) == 0;
            if (lookup(&bc, laddr, wild) < 0) {
                *port = (uint16_t)cand;
                return sm__ok(&r_pick);
            }
        }
        cand = cand >= higher ? lower : cand + 1;
    }
    return sm__fail(SM_EADDRNOTAVAIL, &r_exhausted, -1);
}

static sm_verdict obsd_pick_port(const sm_profile *self, sm_pick_ctx *pc, uint16_t *port)
{
    (void)self;
    return pick(pc, port, &sm__pick_self(pc)->bound_addr);
}

/* connect(): in_pcbselsrc() picks the source address first, and the port
 * only has to be free on it [S in_pcbconnect()]. */
static sm_verdict obsd_pick_connect(const sm_profile *self, sm_pick_ctx *pc, uint16_t *port)
{
    (void)self;
    sm_addr src = sm__pick_self(pc)->local_addr;
    return pick(pc, port, &src);
}

static sm_verdict obsd_connect(const sm_profile *self, const sm_bind_ctx *c)
{
    (void)self;
    return sm__connect_unique(
        c, SM_EADDRINUSE,
        &r_connect_tuple_in_use,
        &r_connect_tuple_time_wait,
        &r_connect_tuple_free);
}

static sm_tw_syn_verdict obsd_tw_syn(const sm_profile *self, const sm_tw_syn_ctx *c)
{
    (void)self;
    sm_tw_syn_verdict v;
    bool newer_ts = c->seg_ts && (int32_t)(c->seg_tsval - c->ts_recent) > 0;
    if (newer_ts || (int32_t)(c->seg_seq - c->rcv_nxt) > 0) {
        v.action = SM_TW_SYN_ACCEPT;
        v.rule = &r_tw_syn_accept;
    } else {
        v.action = SM_TW_SYN_ACK;
        v.rule = &r_tw_syn_old;
    }
    return v;
}

/* ---- setsockopt() ------------------------------------------------------------ */

static sm_verdict obsd_setsockopt(const sm_profile *self, const sm_sock_view *s, sm_option opt, int v1, int v2)
{
    (void)self;
    switch (opt) {
    case SM_SO_REUSEADDR:
    case SM_SO_REUSEPORT:
        return sm__ok(&r_sockopt_reuse);
    case SM_IPV6_V6ONLY:
        if (s->family != 6)
            return sm__fail(SM_EINVAL,
                            &r_sockopt_v6only_on_inet, -1);
        if (v1 == 0)
            return sm__fail(SM_EINVAL,
                            &r_sockopt_v6only_fixed, -1);
        if (s->bound)
            return sm__fail(SM_EINVAL,
                            &r_sockopt_v6only_bound, -1);
        return sm__ok(&r_sockopt_v6only);
    case SM_SO_LINGER:
        if (v2 < 0 || v2 > 32767)
            return sm__fail(SM_EINVAL,
                            &r_sockopt_linger_range, -1);
        return sm__ok(&r_sockopt_linger);
    case SM_SO_REUSEPORT_LB:
    case SM_SO_EXCLUSIVEADDRUSE:
    case SM_SO_EXCLBIND:
    default:
        return sm__fail(SM_ENOPROTOOPT,
                        &r_sockopt_unknown, -1);
    }
}

static const sm_rule r_failed_connect_shut = SM_RULE("openbsd.recv.after-failed-connect", I,
    "after a failed connect() (refused, timed out) the socket is shut both "
    "ways: recv() reads end of stream, send() fails with EPIPE",
    "4.4BSD tcp_close() -> soisdisconnected(), sosend()/soreceive() test SS_CANTSENDMORE/SS_CANTRCVMORE first; inferred for OpenBSD, not measured");

static const sm_tcp_rules obsd_tcp_rules = {
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
    .no_local_tw_rule = &r_tw_local,
    .connect_port_exhausted = SM_EADDRNOTAVAIL,
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
    {"net.inet.ip.portfirst", 1, {SM_TUN_PORT_LO}, 1024, 65535, 1,
     "first automatic port (default 1024)", 0},
    {"net.inet.ip.portlast", 1, {SM_TUN_PORT_HI}, 1024, 65535, 1,
     "last automatic port (default 49151)", 0},
};

extern const sm_rule_set sm__rules_openbsd;
const sm_profile sm_profile_openbsd = {
    .version = SM_PROFILE_VERSION,
    .name = "openbsd",
    .summary = "OpenBSD: separate IPv4/IPv6 ports, IPV6_V6ONLY fixed, strict uid rule",
    .sysctls = sysctls,
    .n_sysctls = sizeof sysctls / sizeof sysctls[0],
    .defaults = {
        [SM_TUN_PORT_LO] = 1024,         /* ipport_firstauto = IPPORT_RESERVED */
        [SM_TUN_PORT_HI] = 49151,        /* ipport_lastauto = IPPORT_USERRESERVED */
        [SM_TUN_UNPRIV_PORT] = 1024,     /* IPPORT_RESERVED */
        [SM_TUN_TIME_WAIT_MS] = 60000,   /* 2 * TCPTV_MSL (30 s), tcp_timer.h */
        [SM_TUN_RFC1337] = 0,            /* a RST ends TIME_WAIT */
        [SM_TUN_MAX_TW] = -1,            /* no cap */
        [SM_TUN_FIN_TIMEOUT_MS] = 600000, /* tcp_maxidle = 8 * 75 s [I] */
        [SM_TUN_TIMESTAMPS] = 1,         /* tcp_do_rfc1323 = 1 */
        [SM_TUN_NOLOCALTIMEWAIT] = 0,    /* none */
        [SM_TUN_V6ONLY_DEFAULT] = 1,     /* always 1 */
        [SM_TUN_RANDOM_PORTS] = 1,       /* arc4random_uniform() start */
        [SM_TUN_SYN_RTO_MS] = 1000,      /* TCPTV_SRTTDFLT [I] */
        [SM_TUN_CONNECT_TIMEOUT_MS] = 75000, /* TCPTV_KEEP_INIT 75 s */
    },
    .native_err_name = NULL,
    .setsockopt = obsd_setsockopt,
    .bind = obsd_bind,
    .listen = obsd_listen,
    .pick_port = obsd_pick_port,
    .tcp = &obsd_tcp_rules,
    .connect = obsd_connect,
    .pick_connect_port = obsd_pick_connect,
    .tw_syn = obsd_tw_syn,
    .select_listener = sm__select_newest,
    .select_listener_rule = &r_listener_choice,
    .rule_sets = (const sm_rule_set *const[]){&sm__rules_openbsd, NULL},
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
    &r_sockopt_v6only_fixed,
    &r_sockopt_v6only_bound,
    &r_sockopt_v6only,
    &r_sockopt_linger_range,
    &r_sockopt_linger,
    &r_sockopt_unknown,
    &r_close_unread_data,
    &r_linger_timeout,
    &r_linger_nonblock,
    &r_exit_close,
    &r_tw_cap,
    &r_tw_local,
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
    &r_mapped,
    &r_pick,
    &r_exhausted,
    &r_tcp_unspec,
    &r_udp_unspec,
    &r_udp_sendto_connected,
    &r_connect_any,
    &r_v4_on_v6,
};
const sm_rule_set sm__rules_openbsd = {"profiles/openbsd.c", rules_of_file,
    sizeof rules_of_file / sizeof rules_of_file[0]};
