/*
 * xnu_common.c - the socket rules of XNU, the kernel of macOS and iOS, for
 * the "macos" and "ios" profiles (the rule table is in macos.c's opening
 * comment; ios.c lists where iOS differs).
 *
 * XNU's network stack is FreeBSD's of about 2001, grown apart: bind() is
 * in_pcbbind() (IPv4) and in6_pcbbind() (IPv6) over in_pcblookup_local(),
 * the same single-PCB lookup as FreeBSD's (bsd_common.c), but with its own
 * user rule, no SO_REUSEPORT_LB, a dual-stack default, sequential TCP
 * ephemeral ports, a 15 s MSL and SO_LINGER counted in 1/100 s.  Sources:
 * ../shared/reference/more-profiles.md §1 and bsd-solaris.md §2.1, §4.2,
 * read in apple-oss-distributions/xnu tag xnu-11417.101.15 (macOS 15);
 * tags in each rule: [S] source, [T] upstream test (xnu tests/), [I]
 * inferred, [U] unverified.
 */
#include "xnu_common.h"

#include "bsd_common.h"
#include "tcp_common.h"

#include <string.h>

/* ---- rule records: what this file decides, with ID, source and tag ---- */

static const sm_rule r_listen_no_recheck = SM_RULE("xnu.listen.no-recheck", S,
    "listen() does not re-check the port: tcp_usr_listen() only binds an "
    "unbound socket",
    "XNU tcp_usrreq.c");
static const sm_rule r_sockopt_reuse = SM_RULE("xnu.sockopt.reuse", S,
    "sets the so_options bit, at any time; bind() reads the other "
    "sockets' bits as they are then",
    "XNU sosetoptlock(), uipc_socket.c");
static const sm_rule r_sockopt_v6only_on_inet = SM_RULE("xnu.sockopt.v6only-on-inet", I,
    "an AF_INET socket refuses IPPROTO_IPV6 options",
    "XNU ip_ctloutput()");
static const sm_rule r_sockopt_v6only_bound = SM_RULE("xnu.sockopt.v6only-bound", I,
    "IPV6_V6ONLY cannot change once the socket has a port or address",
    "XNU ip6_ctloutput()");
static const sm_rule r_sockopt_v6only = SM_RULE("xnu.sockopt.v6only", S,
    "IPV6_V6ONLY sets IN6P_IPV6_V6ONLY (the default is "
    "net.inet6.ip6.v6only=0: dual-stack)",
    "XNU ip6_ctloutput(), in6_proto.c");
static const sm_rule r_sockopt_linger = SM_RULE("xnu.sockopt.linger", S,
    "SO_LINGER stores l_linger as it is, in 1/100 s ticks (hz = 100): "
    "{1,5} lingers 50 ms; values past 32767 overflow the short so_linger "
    "(not modelled)",
    "XNU sosetoptlock(), soclose_locked(); S, T so_linger.c");
static const sm_rule r_sockopt_linger_sec = SM_RULE("xnu.sockopt.linger-sec", S,
    "SO_LINGER_SEC stores l_linger * hz, so the time is in seconds (what "
    "SO_LINGER means to a program built with _POSIX_C_SOURCE); past 327 "
    "s the short overflows (not modelled)",
    "XNU sosetoptlock(), sys/socket.h; S, T posix_so_linger.c");
static const sm_rule r_sockopt_unknown = SM_RULE("xnu.sockopt.unknown", S,
    "XNU has no such option (no SO_REUSEPORT_LB, SO_EXCLUSIVEADDRUSE or "
    "SO_EXCLBIND)",
    "XNU sosetoptlock(): ENOPROTOOPT");
static const sm_rule r_connect_tuple_in_use = SM_RULE("xnu.connect.tuple-in-use", S,
    "another connection already uses this 4-tuple: EADDRINUSE",
    "XNU in_pcbconnect(): in_pcblookup_hash()");
static const sm_rule r_connect_tuple_time_wait = SM_RULE("xnu.connect.tuple-time-wait", I,
    "a TIME_WAIT entry holds this 4-tuple: EADDRINUSE (the T/TCP recycle "
    "path needs TF_RCVD_CC, never set)",
    "XNU tcp_connect()");
static const sm_rule r_connect_tuple_free = SM_RULE("xnu.connect.tuple-free", S,
    "the 4-tuple is unique",
    "XNU tcp_connect()");
static const sm_rule r_tw_syn_accept = SM_RULE("xnu.tw.syn-accept", S,
    "a SYN beyond the receive window closes the TIME_WAIT and is looked "
    "up again (a listener takes it)",
    "XNU tcp_input(): TIME_WAIT, thflags & TH_SYN beyond rcv_wnd");
static const sm_rule r_tw_syn_old = SM_RULE("xnu.tw.syn-old", S,
    "an old SYN into TIME_WAIT is trimmed as a duplicate and answered "
    "with an ACK",
    "XNU tcp_input()");
static const sm_rule r_tw_syn_in_window = SM_RULE("xnu.tw.syn-in-window", S,
    "a SYN inside the receive window gets a challenge ACK (RFC 5961 4.2) "
    "and the TIME_WAIT stays: only a SYN beyond the window opens a new "
    "connection",
    "XNU tcp_input()");
static const sm_rule r_close_unread_data = SM_RULE("xnu.close.unread-data", S,
    "close() with unread data (or data in the reassembly queue): "
    "tcp_drop(), a RST, whatever SO_LINGER says",
    "XNU tcp_usrreq.c:tcp_disconnect()");
static const sm_rule r_linger_timeout = SM_RULE("xnu.linger.timeout", S,
    "SO_LINGER timeout: close() returns 0 (\"It's OK when the time "
    "fires\") and the connection goes on",
    "XNU soclose_locked()");
static const sm_rule r_linger_nonblock = SM_RULE("xnu.linger.nonblock", S,
    "non-blocking socket: close() does not linger",
    "XNU soclose_locked(): SS_NBIO && SS_ISDISCONNECTING");
static const sm_rule r_exit_close = SM_RULE("xnu.exit.close", I,
    "process exit closes each socket through soclose(), which lingers as "
    "close() does (no exiting-process case found)",
    "");
static const sm_rule r_tw_cap = SM_RULE("xnu.tw.cap", S,
    "XNU has no TIME_WAIT cap",
    "S: none in tcp_*.c");
static const sm_rule r_tw_local = SM_RULE("xnu.tw.local", S,
    "XNU has no local-TIME_WAIT shortcut (only the private per-socket "
    "TCP_NOTIMEWAIT)",
    "");
static const sm_rule r_connect_on_listener = SM_RULE("xnu.connect.on-listener", I,
    "connect() on a listening socket: EOPNOTSUPP",
    "XNU soconnectlock(): SO_ACCEPTCONN");
static const sm_rule r_shutdown_listener = SM_RULE("xnu.shutdown.listener", S,
    "shutdown() of a listener: ENOTCONN, it is neither connected nor "
    "connecting",
    "XNU soshutdown()");
static const sm_rule r_send_connecting = SM_RULE("xnu.send.connecting", I,
    "send() before the handshake ends: ENOTCONN",
    "XNU sosendcheck(): PR_CONNREQUIRED and not SS_ISCONNECTED, as the BSDs");
static const sm_rule r_aq_reset = SM_RULE("xnu.accept.reset-queued", S,
    "a connection reset before accept() stays on the accept queue; accept() takes it and fails with ECONNABORTED",
    "XNU tcp_usr_accept(): SS_ISDISCONNECTED -> ECONNABORTED; sofree() keeps a socket on the accept queue");
static const sm_rule r_tw_rst = SM_RULE("xnu.tw.rst", S,
    "RSTs into TIME_WAIT are ignored (RFC 1337)",
    "XNU tcp_input(): case TCPS_TIME_WAIT: break");
static const sm_rule r_tw_data = SM_RULE("xnu.tw.data", I,
    "new data reaching TIME_WAIT resets: the connection, whose socket is gone, is dropped with a RST and leaves no TIME_WAIT",
    "XNU tcp_input(): SS_NOFDREF, t_state > CLOSE_WAIT, tlen (rcvafterclose); that in-window data reaches the check in TIME_WAIT is inferred");
static const sm_rule r_close_finwait2_timeout = SM_RULE("xnu.close.finwait2-timeout", S,
    "an orphaned FIN_WAIT_2 is dropped after net.inet.tcp.fin_timeout "
    "(60 s) with tcp_drop(): a RST",
    "XNU tcp_timers() TCPT_2MSL, tcp_set_finwait_timeout()");

/* ---- rule texts ---------------------------------------------------------- */

static const sm_rule r_free = SM_RULE("xnu.bind.free", S,
    "no other socket holds this port",
    "XNU in_pcbbind(), in_pcb.c");
static const sm_rule r_no_overlap = SM_RULE("xnu.bind.no-overlap", S,
    "no socket on this port overlaps the address",
    "XNU in_pcbbind(): in_pcblookup_local_and_cleanup()");
static const sm_rule r_reuse_no_exact = SM_RULE("xnu.bind.reuse-no-exact", S,
    "with SO_REUSEADDR or SO_REUSEPORT set, the lookup only meets an "
    "unconnected socket on exactly this address; there is none",
    "XNU in_pcbbind(): wild = 0");
static const sm_rule r_shared = SM_RULE("xnu.bind.shared", S,
    "the socket on exactly this address has SO_REUSEPORT set now, as the "
    "new one does: they share the port",
    "XNU in_pcbbind(): reuseport & so_options");
static const sm_rule r_inet6_wild = SM_RULE("xnu.bind.inet6-wild", S,
    "two AF_INET6 sockets both on the wildcard do not conflict",
    "XNU in_pcbbind(): both PF_INET6 exception");
static const sm_rule r_wild_conflict = SM_RULE("xnu.bind.wild-conflict", S,
    "the new socket has neither SO_REUSEADDR nor SO_REUSEPORT, so any "
    "socket whose address overlaps conflicts, in any state (bound, "
    "listening, connected, TIME_WAIT)",
    "XNU in_pcbbind(), in_pcblookup_local(wild)");
static const sm_rule r_exact_ra = SM_RULE("xnu.bind.exact-ra", S,
    "SO_REUSEADDR does not let a socket share exactly the same address "
    "with an unconnected socket already bound there",
    "XNU in_pcbbind(): reuseport & so_options == 0");
static const sm_rule r_exact_rp = SM_RULE("xnu.bind.exact-rp", S,
    "the unconnected socket bound to exactly this address does not have "
    "SO_REUSEPORT set",
    "XNU in_pcbbind()");
static const sm_rule r_dual_conflict = SM_RULE("xnu.bind.dual-conflict", I,
    "a dual-stack [::] bind also claims 0.0.0.0:port and an IPv4 socket "
    "holds it (only two AF_INET6 sockets are exempt; unlike FreeBSD, an "
    "AF_INET socket on 0.0.0.0 is not passed over)",
    "XNU in6_pcbbind()");
static const sm_rule r_uid = SM_RULE("xnu.bind.uid", S,
    "another user's socket holds this port on an overlapping address; "
    "only two wildcard binds are exempt (SO_REUSESHAREUID, a private "
    "option, is not modelled)",
    "XNU in_pcbbind(): uid check");
static const sm_rule r_uid6 = SM_RULE("xnu.bind.uid6", S,
    "another user's socket holds this port on an overlapping address; "
    "two wildcard binds are exempt only if the existing one has "
    "SO_REUSEPORT",
    "XNU in6_pcbbind(): uid check; S per more-profiles.md 1.1");
static const sm_rule r_priv = SM_RULE("xnu.bind.priv", S,
    "ports below 1024 need root, but only on a specific address: the "
    "wildcard is free for everyone since macOS 10.14",
    "XNU in_pcbbind(), XNU_TARGET_OS_OSX, xnu-4903 and later");
static const sm_rule r_priv_old = SM_RULE("xnu.bind.priv-old", S,
    "ports below 1024 need root, on the wildcard address too "
    "(xnu.privileged_wildcard=1: macOS 10.13 and earlier)",
    "XNU in_pcbbind()@xnu-4570.71.2");
static const sm_rule r_restricted = SM_RULE("xnu.bind.restricted", S,
    "a restricted port: only an entitled process may bind it, others get "
    "EADDRINUSE (root is not enough)",
    "XNU in_pcbbind(): current_task_can_use_restricted_in_port(), "
    "restricted_in_port.c");
static const sm_rule r_mapped_v6only = SM_RULE("xnu.bind.mapped-v6only", I,
    "an IPV6_V6ONLY socket takes a v4-mapped address as an IPv6 address "
    "no interface has",
    "XNU in6_pcbbind()");
static const sm_rule r_tcp_unspec = SM_RULE("xnu.connect.unspec-tcp", I,
    "connect(AF_UNSPEC) on TCP: EAFNOSUPPORT (a connected socket: EISCONN "
    "first, soconnectlock as in FreeBSD)",
    "XNU bsd/kern/uipc_socket.c");
static const sm_rule r_udp_unspec = SM_RULE("xnu.connect.unspec-udp", I,
    "connect(AF_UNSPEC) on UDP: disconnected first, then the family is "
    "refused: dissolved, and EAFNOSUPPORT",
    "XNU soconnectlock as FreeBSD soconnectat");
static const sm_rule r_udp_sendto_connected = SM_RULE("xnu.connect.sendto-connected-udp", I,
    "sendto() with an address on a connected UDP socket: EISCONN",
    "BSD udp_output()");
static const sm_rule r_connect_any = SM_RULE("xnu.connect.to-wildcard", T,
    "connect() to 0.0.0.0 or :: goes to this host (loopback)",
    "XNU tests tcp_bind_connect.c; in_pcbladdr() takes the first "
    "interface address, I for which");
static const sm_rule r_v4_on_v6 = SM_RULE("xnu.connect.v4-on-inet6", I,
    "an IPv4 sockaddr given to an AF_INET6 socket: EAFNOSUPPORT (use "
    "::ffff:a.b.c.d)",
    "");

/* ---- bind() -------------------------------------------------------------- */

static bool restricted(const sm__xnu_target *t, sm_proto proto, uint16_t port)
{
    for (size_t i = 0; i < t->n_restricted; i++)
        if (t->restricted[i].port == port &&
            (proto == SM_TCP ? t->restricted[i].tcp : t->restricted[i].udp))
            return true;
    return false;
}

/* The reuse bits that count for the new socket: SO_REUSEPORT; on a
 * multicast address SO_REUSEADDR is upgraded to both (SO_REUSEPORT alone is
 * not, unlike FreeBSD) [S in_pcbbind()]. */
static unsigned reuse_bits(const sm_sock_view *n, bool mcast)
{
    unsigned opts = sm__bsd_opt_bits(&n->now);
    unsigned reuse = opts & BSD_RP;
    if (mcast && (opts & BSD_RA))
        reuse |= BSD_RA | BSD_RP;
    return reuse;
}

/* XNU's rules for the BSD reuse test (bsd_common.h). */
static const sm__bsd_reuse_rules xnu_reuse = {
    &r_free, &r_no_overlap, &r_reuse_no_exact, &r_shared, &r_wild_conflict, &r_exact_ra,
    &r_exact_rp,
};

/* The uid rule [S in_pcbbind()/in6_pcbbind()]: a non-root socket meets
 * another user's PCB found by a WILDCARD lookup.  v4: exempt when both
 * addresses are the wildcard; v6: exempt then only if that PCB has
 * SO_REUSEPORT.  No exemption for connected sockets (FreeBSD has one). */
static bool uid_blocks(const sm_bind_ctx *c, int t, bool nany, bool v6)
{
    if (t < 0 || c->self.privileged)
        return false;
    const sm_sock_view *e = &c->owners[t];
    if (e->uid == c->self.uid)
        return false;
    bool eany = sm_addr_is_any(&e->local_addr) ||
                (sm__bsd_v4_part(&e->local_addr) == 0 && sm_addr_is_v4mapped(&e->local_addr));
    if (nany && eany)
        return v6 && !e->now.reuseport;
    return true;
}

static sm_verdict avail4(const sm_bind_ctx *c, uint32_t laddr, bool v6proto)
{
    const sm_sock_view *n = &c->self;
    bool wild = (sm__bsd_opt_bits(&n->now) & (BSD_RA | BSD_RP)) == 0;
    bool mcast = (laddr >> 28) == 0xe;
    unsigned reuse = reuse_bits(n, mcast);
    int t = sm__bsd_lookup4(c, laddr, true);
    if (uid_blocks(c, t, laddr == 0, false))
        return sm__fail(SM_EADDRINUSE, &r_uid, t);
    t = sm__bsd_lookup4(c, laddr, wild);
    if (sm__bsd_blocks(c, t, reuse)) {
        bsd_pcb p = sm__bsd_pcb_of(&c->owners[t]);
        if (laddr == 0 && p.laddr4 == 0 && v6proto && p.v6proto)
            return sm__ok(&r_inet6_wild);
        return sm__bsd_conflict(&xnu_reuse, t, wild, reuse);
    }
    return sm__ok(sm__bsd_pass_rule(&xnu_reuse, c, t, wild));
}

static sm_verdict avail6(const sm_bind_ctx *c, const sm_addr *laddr)
{
    const sm_sock_view *n = &c->self;
    bool wild = (sm__bsd_opt_bits(&n->now) & (BSD_RA | BSD_RP)) == 0;
    bool mcast = sm_addr_is_multicast(laddr);
    bool any = sm_addr_is_any(laddr);
    bool dual = !n->now.v6only && any;
    unsigned reuse = reuse_bits(n, mcast);
    int t = sm__bsd_lookup6(c, laddr, true);
    if (uid_blocks(c, t, any, true))
        return sm__fail(SM_EADDRINUSE, &r_uid6, t);
    t = sm__bsd_lookup6(c, laddr, wild);
    if (sm__bsd_blocks(c, t, reuse))
        return sm__bsd_conflict(&xnu_reuse, t, wild, reuse);
    const sm_rule *why = sm__bsd_pass_rule(&xnu_reuse, c, t, wild);
    if (dual) {
        /* The IPv4 half of a dual-stack [::] bind [I: FreeBSD's heritage,
         * without FreeBSD's later pass over AF_INET on exactly 0.0.0.0]. */
        int t4 = sm__bsd_lookup4(c, 0, wild);
        if (sm__bsd_blocks(c, t4, reuse)) {
            bsd_pcb p = sm__bsd_pcb_of(&c->owners[t4]);
            if (!p.v6proto)
                return sm__fail(SM_EADDRINUSE, &r_dual_conflict, t4);
        } else if (t4 >= 0) {
            why = &r_shared;
        }
    }
    return sm__ok(why);
}

sm_verdict sm__xnu_bind(const sm_profile *self, const sm_bind_ctx *c)
{
    const sm__xnu_target *tg = self->data;
    const sm_sock_view *n = &c->self;
    const sm_addr *a = &n->bound_addr;
    bool mapped = n->family == 6 && sm_addr_is_v4mapped(a);
    if (mapped && n->now.v6only)
        return sm__fail(SM_EADDRNOTAVAIL, &r_mapped_v6only, -1);
    bool any = sm_addr_is_any(a) || (mapped && sm__bsd_v4_part(a) == 0);
    /* Privileged ports (macOS only), before the restricted ports and the
     * conflicts [S in_pcbbind() order]. */
    if (tg->privileged_ports && n->port < c->tun[SM_TUN_UNPRIV_PORT] && !n->privileged) {
        if (c->tun[SM_TUN_PRIV_WILDCARD])
            return sm__fail(SM_EACCES, &r_priv_old, -1);
        if (!any)
            return sm__fail(SM_EACCES, &r_priv, -1);
    }
    if (restricted(tg, n->proto, n->port))
        return sm__fail(SM_EADDRINUSE, &r_restricted, -1);
    if (n->family == 4 || mapped)
        return avail4(c, sm__bsd_v4_part(a), n->family == 6);
    return avail6(c, a);
}

sm_verdict sm__xnu_listen(const sm_profile *self, const sm_bind_ctx *c)
{
    (void)self;
    (void)c;
    return sm__ok(&r_listen_no_recheck);
}

/* ---- ephemeral ports ----------------------------------------------------- */

/* Is port free for an automatic bind?  An IPv4 autobind forces wild = 1
 * ("REUSEADDR|REUSEPORT don't apply"), so any overlapping PCB, connected or
 * TIME_WAIT ones included, makes the port busy [S in_pcbbind() lport == 0];
 * an IPv6 autobind keeps the socket's own wild flag and looks at IPv6 PCBs
 * only [S in6_src.c:in6_pcbsetport(); I]. */
static bool port_free(sm_pick_ctx *pc, uint16_t port, const sm_addr *laddr)
{
    sm_bind_ctx bc;
    sm__pick_port_ctx(pc, port, &bc);
    const sm_sock_view *n = &bc.self;
    if (n->family == 4 || sm_addr_is_v4mapped(laddr))
        return sm__bsd_lookup4(&bc, sm__bsd_v4_part(laddr), true) < 0;
    bool wild = (sm__bsd_opt_bits(&n->now) & (BSD_RA | BSD_RP)) == 0;
    return sm__bsd_lookup6(&bc, laddr, wild) < 0;
}

static const sm_rule r_pick_seq = SM_RULE("xnu.port.pick-seq", S,
    "automatic port: net.inet.tcp.randomize_ports=0, so the port after "
    "the last one handed out (one counter per protocol, from 49152 after "
    "boot), skipping restricted ports and ports any overlapping socket "
    "holds",
    "XNU in_pcbbind() lport == 0, ipi_lastport");
static const sm_rule r_pick_rand = SM_RULE("xnu.port.pick-rand", S,
    "automatic port: a random start in net.inet.ip.portrange.first..last "
    "(49152..65535; UDP always, net.inet.udp.randomize_ports=1), then "
    "the following ports, skipping restricted ones and ports any "
    "overlapping socket holds",
    "XNU in_pcbbind() lport == 0");
static const sm_rule r_exhausted4 = SM_RULE("xnu.port.exhausted4", S,
    "no port of net.inet.ip.portrange.first..last is free: EADDRNOTAVAIL",
    "XNU in_pcbbind()");
static const sm_rule r_exhausted6 = SM_RULE("xnu.port.exhausted6", S,
    "no port of net.inet.ip.portrange.first..last is free: an IPv6 "
    "automatic bind fails with EAGAIN",
    "XNU in6_pcbsetport()");

static sm_verdict pick(sm_pick_ctx *pc, uint16_t *port, const sm__xnu_target *tg,
                       const sm_addr *laddr)
{
    const sm_sock_view *self = sm__pick_self(pc);
    const int64_t *tun = sm__pick_tun(pc);
    uint32_t first = (uint32_t)tun[SM_TUN_PORT_LO];
    uint32_t last = (uint32_t)tun[SM_TUN_PORT_HI];
    /* first > last: the search counts down [S]; the model walks the same
     * set upwards. */
    if (first > last) {
        uint32_t x = first;
        first = last;
        last = x;
    }
    /* ipi_lastport: one per pcbinfo (TCP, UDP), shared by bind(0), listen()
     * and connect() [S]. */
    uint64_t *lastport = &sm__pick_state(pc)[self->proto == SM_UDP ? 1 : 0];
    bool random = self->proto == SM_UDP || tun[SM_TUN_RANDOM_PORTS] != 0;
    if (random && last > first)
        *lastport = first + sm__pick_rand(pc) % (last - first);
    for (uint32_t i = 0; i <= last - first; i++) {
        uint64_t p = *lastport + 1;
        if (p < first || p > last)
            p = first;
        *lastport = p;
        if (restricted(tg, self->proto, (uint16_t)p))
            continue;
        if (port_free(pc, (uint16_t)p, laddr)) {
            *port = (uint16_t)p;
            return sm__ok(random ? &r_pick_rand : &r_pick_seq);
        }
    }
    bool v6 = self->family == 6 && !sm_addr_is_v4mapped(laddr);
    return sm__fail(v6 ? SM_EWOULDBLOCK : SM_EADDRNOTAVAIL,
                    v6 ? &r_exhausted6 : &r_exhausted4, -1);
}

sm_verdict sm__xnu_pick_port(const sm_profile *self, sm_pick_ctx *pc, uint16_t *port)
{
    const sm__xnu_target *tg = self->data;
    return pick(pc, port, tg, &sm__pick_self(pc)->bound_addr);
}

/* connect() on an unbound socket: tcp_connect() binds before it sets the
 * source address, so the port is chosen for the wildcard address: unused on
 * every local address, never shared between destinations [S tcp_usrreq.c:
 * tcp_connect(); I]. */
sm_verdict sm__xnu_pick_connect(const sm_profile *self, sm_pick_ctx *pc, uint16_t *port)
{
    const sm__xnu_target *tg = self->data;
    sm_addr any = sm_addr_any(sm__pick_self(pc)->family);
    return pick(pc, port, tg, &any);
}

/* ---- setsockopt() --------------------------------------------------------- */

sm_verdict sm__xnu_setsockopt(const sm_profile *self, const sm_sock_view *s, sm_option opt, int v1, int v2)
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
            return sm__fail(SM_EINVAL,
                            &r_sockopt_v6only_on_inet, -1);
        if (s->bound)
            return sm__fail(SM_EINVAL,
                            &r_sockopt_v6only_bound, -1);
        return sm__ok(&r_sockopt_v6only);
    case SM_SO_LINGER:
        return sm__ok(&r_sockopt_linger);
    case SM_SO_LINGER_SEC:
        return sm__ok(&r_sockopt_linger_sec);
    case SM_SO_REUSEPORT_LB:
    case SM_SO_EXCLUSIVEADDRUSE:
    case SM_SO_EXCLBIND:
    default:
        return sm__fail(SM_ENOPROTOOPT,
                        &r_sockopt_unknown, -1);
    }
}

/* ---- connections ---------------------------------------------------------- */

sm_verdict sm__xnu_connect(const sm_profile *self, const sm_bind_ctx *c)
{
    (void)self;
    return sm__connect_unique(
        c, SM_EADDRINUSE,
        &r_connect_tuple_in_use,
        &r_connect_tuple_time_wait,
        &r_connect_tuple_free);
}

sm_tw_syn_verdict sm__xnu_tw_syn(const sm_profile *self, const sm_tw_syn_ctx *c)
{
    (void)self;
    sm_tw_syn_verdict v;
    int32_t d = (int32_t)(c->seg_seq - c->rcv_nxt);
    if (d > 0 && (uint32_t)d > c->rcv_wnd) {
        v.action = SM_TW_SYN_ACCEPT;
        v.rule = &r_tw_syn_accept;
    } else if (d < 0) {
        v.action = SM_TW_SYN_ACK;
        v.rule = &r_tw_syn_old;
    } else {
        v.action = SM_TW_SYN_ACK;
        v.rule = &r_tw_syn_in_window;
    }
    return v;
}

/* The lookup returns the first PCB of the exact-address bucket (inserted at
 * the head: the newest) or, for the wildcard, keeps the last one it walks
 * (the oldest), preferring a native AF_INET PCB over a dual-stack one
 * [S in_pcblookup_hash_locked(); I]. */
size_t sm__xnu_select_listener(const sm_profile *self, const sm_listen_ctx *c)
{
    (void)self;
    if (!sm_addr_is_any(&c->cands[0].local_addr) &&
        !(sm_addr_is_v4mapped(&c->cands[0].local_addr) &&
          sm__bsd_v4_part(&c->cands[0].local_addr) == 0))
        return sm__select_newest(self, c);
    size_t best = c->n;
    for (size_t i = 0; i < c->n; i++) {
        const sm_sock_view *s = &c->cands[i];
        if (best == c->n) {
            best = i;
            continue;
        }
        const sm_sock_view *b = &c->cands[best];
        bool snat = c->wire_family == 4 && s->family == 4;
        bool bnat = c->wire_family == 4 && b->family == 4;
        if (snat != bnat) {
            if (snat)
                best = i;
            continue;
        }
        if (s->seq < b->seq)
            best = i;
    }
    return best;
}

/* Tagged S/I in the notes: the lookup order is read in source, the
 * outcome for SO_REUSEPORT groups inferred from it; the weaker tag holds. */
const sm_rule sm__xnu_select_listener_rule = SM_RULE("xnu.listener.choice", I,
    "listener choice: no load balancing across SO_REUSEPORT listeners: the "
    "newest on the exact address, else the oldest on the wildcard (a native "
    "AF_INET socket before a dual-stack one)",
    "XNU in_pcblookup_hash_locked()");

static const sm_rule r_failed_connect_shut = SM_RULE("xnu.recv.after-failed-connect", S,
    "after a failed connect() (refused, timed out) the socket is shut both "
    "ways: recv() reads end of stream, send() fails with EPIPE",
    "bsd/netinet/tcp_subr.c tcp_close() -> soisdisconnected(); bsd/kern/uipc_socket.c sosendcheck(): SS_CANTSENDMORE before the not-connected check; not measured");

const sm_tcp_rules sm__xnu_tcp_rules = {
    .failed_connect_eof = true,
    .failed_connect_eof_rule = &r_failed_connect_shut,
    .failed_connect_send = SM_EPIPE,
    .failed_connect_send_rule = &r_failed_connect_shut,
    .unread_close_rst = true,
    .unread_close_rule = &r_close_unread_data,
    .linger_timeout = SM_LINGER_TO_RETURN_OK,
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
    .linger_hz = 100,
    .finwait2_timeout_rst = true,
    .finwait2_timeout_rule = &r_close_finwait2_timeout,
    .tw_data = SM_TW_DATA_RST,
    .tw_data_rule = &r_tw_data,
    .shutdown_listener = SM_SHUTL_ENOTCONN,
    .shutdown_listener_rule = &r_shutdown_listener,
    .send_connecting = SM_SENDC_ENOTCONN,
    .send_connecting_rule = &r_send_connecting,
    .aq_reset = SM_AQR_FAIL,
    .aq_reset_err = SM_ECONNABORTED,
    .aq_reset_rule = &r_aq_reset,
};

const sm_sysctl_def sm__xnu_sysctls[] = {
    {"net.inet.ip.portrange.first", 1, {SM_TUN_PORT_LO}, 1024, 65535, 1,
     "first ephemeral port (default 49152)", 0},
    {"net.inet.ip.portrange.last", 1, {SM_TUN_PORT_HI}, 1024, 65535, 1,
     "last ephemeral port (default 65535)", 0},
    {"net.inet.tcp.randomize_ports", 1, {SM_TUN_RANDOM_PORTS}, 0, 1, 1,
     "1: TCP automatic ports start at a random port; 0: sequential (default; "
     "UDP ports are always random here)", 0},
    {"net.inet.tcp.msl", 1, {SM_TUN_TIME_WAIT_MS}, 1, 1073741823, 2,
     "maximum segment lifetime in ms (default 15000); TIME_WAIT lasts 2*MSL, "
     "then up to 10 s more until the collector runs", 0},
    {"net.inet.tcp.fin_timeout", 1, {SM_TUN_FIN_TIMEOUT_MS}, 1, 600000, 1,
     "orphaned FIN_WAIT_2 timeout in ms (default 60000), then a RST", 0},
    {"net.inet6.ip6.v6only", 1, {SM_TUN_V6ONLY_DEFAULT}, 0, 1, 1,
     "IPV6_V6ONLY of new AF_INET6 sockets (default 0: dual-stack)", 0},
    {"xnu.privileged_wildcard", 1, {SM_TUN_PRIV_WILDCARD}, 0, 1, 1,
     "a model switch, not a kernel sysctl: 1 = macOS 10.13 and earlier, where "
     "ports below 1024 need root on the wildcard address too (default 0: "
     "10.14 and later)", 0},
};
const size_t sm__xnu_n_sysctls = sizeof sm__xnu_sysctls / sizeof sm__xnu_sysctls[0];

/* Every rule record of this file (docs/rules.md). */
static const sm_rule *const rules_of_file[] = {
    &r_shutdown_listener,
    &r_send_connecting,
    &r_aq_reset,
    &r_failed_connect_shut,
    &r_listen_no_recheck,
    &r_sockopt_reuse,
    &r_sockopt_v6only_on_inet,
    &r_sockopt_v6only_bound,
    &r_sockopt_v6only,
    &r_sockopt_linger,
    &r_sockopt_linger_sec,
    &r_sockopt_unknown,
    &r_connect_tuple_in_use,
    &r_connect_tuple_time_wait,
    &r_connect_tuple_free,
    &r_tw_syn_accept,
    &r_tw_syn_old,
    &r_tw_syn_in_window,
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
    &r_free,
    &r_no_overlap,
    &r_reuse_no_exact,
    &r_shared,
    &r_inet6_wild,
    &r_wild_conflict,
    &r_exact_ra,
    &r_exact_rp,
    &r_dual_conflict,
    &r_uid,
    &r_uid6,
    &r_priv,
    &r_priv_old,
    &r_restricted,
    &r_mapped_v6only,
    &r_pick_seq,
    &r_pick_rand,
    &r_exhausted4,
    &r_exhausted6,
    &sm__xnu_select_listener_rule,
    &r_tcp_unspec,
    &r_udp_unspec,
    &r_udp_sendto_connected,
    &r_connect_any,
    &r_v4_on_v6,
};
const sm_rule_set sm__rules_xnu_common = {"profiles/xnu_common.c", rules_of_file,
    sizeof rules_of_file / sizeof rules_of_file[0]};
