/*
 * solaris.c - the "solaris" profile: Solaris / illumos.
 *
 * Solaris decides a TCP bind in tcp_bindi() (uts/common/inet/tcp/
 * tcp_bind.c), which walks every endpoint bound to the port and stops at the
 * first one that makes it busy; UDP has its own loop in udp_bind() (later
 * udp_do_bind(), uts/common/inet/udp/udp.c).  Both are modelled here rule by
 * rule.  Sources: ../shared/reference/bsd-solaris.md §5, re-read in
 * illumos-gate tcp_bind.c@39707ee3 (tcp_bindi, tcp_bind_check,
 * tcp_bind_select_lport, tcp_update_next_port), tcp.c (tcp_do_bind,
 * tcp_do_listen, tcp_do_connect), tcp_socket.c (tcp_bind, tcp_listen) and
 * the OpenSolaris-era udp.c (udp_bind).  Tags: [S] read in source,
 * [I] inferred, [U] unverified.
 *
 * The rule table:
 *  1. A v4-mapped address on an IPV6_V6ONLY socket: EADDRNOTAVAIL
 *     [S tcp_bind_check()].
 *  2. Privileged ports: below tcp_smallest_nonpriv_port (1024) and the extra
 *     privileged ports 2049 and 4045 (ULP_DEF_EPRIV_PORT1/2): EACCES without
 *     privilege, before the port table is looked at [S tcp_bind_select_lport()].
 *  3. TCP, per existing endpoint E on the port (same zone):
 *     a. SO_EXCLBIND on E or on the new socket, while E is at most
 *        ESTABLISHED: busy unless both addresses are specific and different
 *        [S tcp_bindi()].
 *     b. Explicit port: IPv4 and IPv6 endpoints live in separate port spaces
 *        (conn_ipversion) [S tcp_bindi()].
 *     c. No SO_REUSEADDR on the new socket: busy on any overlapping address,
 *        whatever E's state (TIME_WAIT included) [S].
 *     d. SO_REUSEADDR on the new socket (E's own setting is not read): busy
 *        only on exactly the same bound address with E bound or listening [S].
 *  4. UDP: EXCLBIND as 3a (no state); separate port spaces for an explicit
 *     port; otherwise overlapping addresses conflict, but SO_REUSEADDR on the
 *     new socket with an explicit port and no EXCLBIND hit succeeds
 *     regardless: a full duplicate bind [S udp_bind()].
 *  5. listen() on a bound socket does not re-check [S tcp_do_listen()].
 *  6. bind(0)/listen(): a random port of tcp_smallest_anon_port ..
 *     tcp_largest_anon_port (32768..65535), then the following ports,
 *     skipping privileged ones; the rules above with one port space for IPv4
 *     and IPv6; none free: EADDRNOTAVAIL (TNOADDR) [S tcp_bindi(),
 *     tcp_update_next_port()].
 *  7. No SO_REUSEPORT in illumos-gate [D illumos SO_REUSEPORT blog: "was not
 *     integrated"]; Solaris 11.4's is the "solaris-11.4" profile
 *     (solaris_11_4.c), which shares this file's code.
 *  8. TIME_WAIT lasts tcp_time_wait_interval, 60 s in all [S tcp_tunables.c].
 */
#include "solaris_common.h"
#include "tcp_common.h"

#include <string.h>

/* ---- rule records: what this file decides, with ID, source and tag ---- */

static const sm_rule r_listen_no_recheck = SM_RULE("solaris.listen.no-recheck", S,
    "listen() on a bound socket does not look at the port again: "
    "tcp_do_listen() goes straight to inserting the listener",
    "illumos tcp.c tcp_do_listen()");
static const sm_rule r_sockopt_reuseport = SM_RULE("solaris.sockopt.reuseport", S,
    "illumos has no SO_REUSEPORT (a patch exists outside illumos-gate; "
    "Solaris 11.4's is not modelled)",
    "illumos sys/socket.h");
static const sm_rule r_sockopt_reuseaddr = SM_RULE("solaris.sockopt.reuseaddr", S,
    "SO_REUSEADDR sets conn_reuseaddr; bind reads only the binding "
    "socket's own flag",
    "illumos conn_opt_set(), tcp_bindi()");
static const sm_rule r_sockopt_exclbind = SM_RULE("solaris.sockopt.exclbind", S,
    "SO_EXCLBIND sets conn_exclbind; it counts on either socket",
    "illumos conn_opt_set(), tcp_bindi()");
static const sm_rule r_sockopt_v6only_on_inet = SM_RULE("solaris.sockopt.v6only-on-inet", U,
    "IPV6_V6ONLY is an IPv6-level option; an AF_INET socket refuses it",
    "illumos conn_opt_set_ipv6()");
static const sm_rule r_sockopt_v6only = SM_RULE("solaris.sockopt.v6only", I,
    "IPV6_V6ONLY sets conn_ipv6_v6only (no check for an already bound "
    "socket was found)",
    "illumos conn_opt_set_ipv6()");
static const sm_rule r_sockopt_linger = SM_RULE("solaris.sockopt.linger", S,
    "SO_LINGER stores conn_lingertime, in seconds",
    "illumos conn_opt_set(), tcp_close_output()");
static const sm_rule r_sockopt_reuseport_11_4 = SM_RULE("solaris.sockopt.reuseport-11-4", D,
    "Solaris 11.4 has SO_REUSEPORT: sockets that all set it share a "
    "port, with connections spread across them",
    "Oracle setsockopt(3C) as cited by libuv PR #4407 and libevent PR "
    "#1624; D-3P");
static const sm_rule r_sockopt_unknown = SM_RULE("solaris.sockopt.unknown", S,
    "Solaris has no such option (SO_REUSEPORT_LB is FreeBSD's, "
    "SO_EXCLUSIVEADDRUSE Windows'; Solaris has SO_EXCLBIND)",
    "illumos proto_opt_check(): ENOPROTOOPT");
static const sm_rule r_connect_tuple_in_use = SM_RULE("solaris.connect.tuple-in-use", S,
    "another connection in the zone already uses this 4-tuple: EADDRINUSE",
    "illumos ipcl_conn_insert_v4()");
static const sm_rule r_connect_tuple_time_wait = SM_RULE("solaris.connect.tuple-time-wait", I,
    "a TIME_WAIT entry holds this 4-tuple: EADDRINUSE",
    "illumos ipcl_conn_insert_v4()");
static const sm_rule r_connect_tuple_free = SM_RULE("solaris.connect.tuple-free", S,
    "the 4-tuple is unique",
    "illumos ipcl_conn_insert_v4()");
static const sm_rule r_connect_pick = SM_RULE("solaris.connect.pick", S,
    "connect(): a random anonymous port, then the next one; a quick "
    "connect may share a port with connections to other destinations",
    "illumos tcp_connect_ipv4(), tcp_bindi() quick_connect");
static const sm_rule r_connect_exhausted = SM_RULE("solaris.connect.exhausted", S,
    "connect(): no anonymous port left: EADDRNOTAVAIL",
    "illumos tcp_bindi(), TNOADDR");
static const sm_rule r_tw_syn_accept = SM_RULE("solaris.tw.syn-accept", S,
    "a SYN beyond the old receive window ends TIME_WAIT and goes to the "
    "listener",
    "illumos tcp_time_wait_processing()");
static const sm_rule r_tw_syn_old = SM_RULE("solaris.tw.syn-old", S,
    "any other SYN into TIME_WAIT gets RST|ACK; the entry stays",
    "illumos tcp_time_wait_processing()");
static const sm_rule r_close_unread_data = SM_RULE("solaris.close.unread-data", S,
    "close() with unread data: RST",
    "illumos tcp_close_output()");
static const sm_rule r_linger_timeout = SM_RULE("solaris.linger.timeout", U,
    "SO_LINGER timeout: the close stops waiting and the connection goes "
    "on detached; whether close(2) returns ETIMEDOUT is unverified, the "
    "model returns 0",
    "illumos tcp_close_linger_timeout()");
static const sm_rule r_linger_nonblock = SM_RULE("solaris.linger.nonblock", U,
    "non-blocking socket with SO_LINGER: EWOULDBLOCK, no wait",
    "illumos tcp_close_output()");
static const sm_rule r_exit_close = SM_RULE("solaris.exit.close", I,
    "process exit closes each socket as close() does",
    "");
static const sm_rule r_tw_cap = SM_RULE("solaris.tw.cap", I,
    "no TIME_WAIT cap is known for illumos, so none is modelled",
    "bsd-solaris.md 5.4");
static const sm_rule r_tw_local = SM_RULE("solaris.tw.local", S,
    "loopback connections leave no TIME_WAIT: they are purged at once",
    "illumos tcp_time_wait_append()");
static const sm_rule r_connect_on_listener = SM_RULE("solaris.connect.on-listener", U,
    "connect() on a listening socket: EINVAL",
    "illumos tcp_connect(): state > TCPS_BOUND");
static const sm_rule r_shutdown_listener = SM_RULE("solaris.shutdown.listener", U,
    "shutdown() of a listener: ENOTCONN, a listener is not connected",
    "illumos so_shutdown()");
static const sm_rule r_send_connecting = SM_RULE("solaris.send.connecting", U,
    "send() before the handshake ends: the data is queued and goes out once "
    "the connection is set up",
    "illumos tcp_sendmsg(): SYN_SENT accepts data");
static const sm_rule r_tw_rst = SM_RULE("solaris.tw.rst", S,
    "an in-window RST ends TIME_WAIT",
    "illumos tcp_time_wait_processing()");
static const sm_rule r_tw_data = SM_RULE("solaris.tw.data", S,
    "new in-order data reaching TIME_WAIT is dropped unanswered (counted in tcpInClosed) and the entry stays; out-of-order data is acknowledged",
    "illumos tcp_time_wait_processing()");
static const sm_rule r_listener_choice = SM_RULE("solaris.listener.choice", I,
    "listener choice: specific address over wildcard; otherwise the "
    "first bound",
    "illumos ipcl_classify");
static const sm_rule r_tcp_unspec = SM_RULE("solaris.connect.unspec-tcp", U,
    "connect(AF_UNSPEC) on TCP: EAFNOSUPPORT (a connected socket: EISCONN "
    "first)",
    "");
static const sm_rule r_udp_unspec = SM_RULE("solaris.connect.unspec-udp", U,
    "connect(AF_UNSPEC) on UDP: the association is dissolved",
    "illumos udp_connect() AF_UNSPEC -> udp_disconnect()");
static const sm_rule r_udp_sendto_connected = SM_RULE("solaris.connect.sendto-connected-udp", U,
    "sendto() with an address on a connected UDP socket: EISCONN",
    "");
static const sm_rule r_connect_any = SM_RULE("solaris.connect.to-wildcard", S,
    "connect() to INADDR_ANY or :: is connect() to loopback, as SunOS 4 "
    "and 4.3BSD allowed",
    "illumos tcp_connect_ipv4()/ipv6()");
static const sm_rule r_v4_on_v6 = SM_RULE("solaris.connect.v4-on-inet6", U,
    "an IPv4 sockaddr given to an AF_INET6 socket: EAFNOSUPPORT (use "
    "::ffff:a.b.c.d)",
    "");

/* The extra privileged ports (tcp_g_epriv_ports / udp_g_epriv_ports
 * defaults, ULP_DEF_EPRIV_PORT1/2: NFS and lockd) [S tcp.c tcp_stack_init()]. */
static const uint16_t sol_epriv_ports[] = {2049, 4045};

/* ---- endpoints as tcp_bindi() sees them -------------------------------- */


/* V6_OR_V4_INADDR_ANY(): :: or ::ffff:0.0.0.0. */
static bool any_addr(const sm_addr *a)
{
    uint32_t v4;
    if (sm_addr_is_any(a))
        return true;
    return sm_addr_v4(a, &v4) && v4 == 0;
}

/* IN6_ARE_ADDR_EQUAL() on the v6 forms (so :: differs from ::ffff:0.0.0.0). */
static bool same_addr(const sm_addr *a, const sm_addr *b)
{
    /* conn_bound_addr_v6: every address is kept as IPv6, IPv4 as v4-mapped. */
    sm_addr x = sm__addr_mapped(a), y = sm__addr_mapped(b);
    return sm_addr_equal(&x, &y);
}

/* conn_ipversion: the socket's family, except that an AF_INET6 endpoint
 * connected to (or accepted from) a v4-mapped peer turns IPv4
 * [S tcp_do_connect(), tcp_conn_create_v6()].  A bind to a v4-mapped address
 * leaves it IPv6: tcp_bind_check() does not touch it [I]. */
static int ipversion(const sm_sock_view *s)
{
    if (s->family == 4)
        return 4;
    if (s->connected && (s->remote.addr.family == 4 ||
                         sm_addr_is_v4mapped(&s->remote.addr)))
        return 4;
    return 6;
}

/* Bound, listening, or connected up to ESTABLISHED: illumos orders its
 * states BOUND < LISTEN < SYN_SENT < SYN_RCVD < ESTABLISHED < CLOSE_WAIT <
 * FIN_WAIT_1 < CLOSING < LAST_ACK < FIN_WAIT_2 < TIME_WAIT [S tcp.h]. */
static bool upto_established(const sm_sock_view *e)
{
    if (e->time_wait)
        return false;
    switch (e->state) {
    case SM_CLOSED:
    case SM_LISTEN:
    case SM_SYN_SENT:
    case SM_SYN_RECEIVED:
    case SM_ESTABLISHED:
        return true;
    default:
        return false;
    }
}

/* TCPS_BOUND or TCPS_LISTEN: an endpoint that is not connected. */
static bool bound_or_listen(const sm_sock_view *e)
{
    return !e->time_wait && !e->connected &&
           (e->state == SM_CLOSED || e->state == SM_LISTEN);
}

/* The bind hash keeps, per port, specific addresses before wildcards, the
 * newest first in each group [S tcp_bind_hash_insert(), udp_bind_hash_insert()];
 * tcp_bindi() stops at the first busy endpoint in that order. */
static bool walks_before(const sm_sock_view *a, const sm_sock_view *b)
{
    bool wa = any_addr(&a->bound_addr), wb = any_addr(&b->bound_addr);
    if (wa != wb)
        return !wa;
    return a->seq > b->seq;
}

/* ---- rule texts ---------------------------------------------------------- */

static const sm_rule r_free = SM_RULE("solaris.bind.free", S,
    "no other socket holds this port",
    "illumos tcp_bindi(), tcp_bind.c");
static const sm_rule r_excl = SM_RULE("solaris.bind.excl", S,
    "SO_EXCLBIND on one of the two sockets (the other bound, listening "
    "or connected up to ESTABLISHED): they may share the port only on "
    "two different specific addresses",
    "illumos tcp_bindi(), tcp_bind.c");
static const sm_rule r_excl_ok = SM_RULE("solaris.bind.excl-ok", S,
    "SO_EXCLBIND is set, but the two sockets are on different specific "
    "addresses, which it allows",
    "illumos tcp_bindi()");
static const sm_rule r_norra = SM_RULE("solaris.bind.norra", S,
    "the new socket has no SO_REUSEADDR: any socket on this port whose "
    "address overlaps (same address, or either is the wildcard) makes it "
    "busy, in any state, TIME_WAIT included",
    "illumos tcp_bindi(), tcp_bind.c");
static const sm_rule r_ra_same = SM_RULE("solaris.bind.ra-same", S,
    "SO_REUSEADDR on the new socket does not let it take exactly the "
    "same address as a socket that is bound or listening there (only "
    "connected and TIME_WAIT ones are passed over)",
    "illumos tcp_bindi()");
static const sm_rule r_ra_ok = SM_RULE("solaris.bind.ra-ok", S,
    "SO_REUSEADDR on the new socket (only its own setting counts) passes "
    "over other addresses, the wildcard, and connected or TIME_WAIT "
    "sockets",
    "illumos tcp_bindi()");
static const sm_rule r_split = SM_RULE("solaris.bind.split", S,
    "IPv4 and IPv6 sockets have separate port spaces for an explicitly "
    "chosen port, so a socket of the other family does not count",
    "illumos tcp_bindi(), conn_ipversion");
static const sm_rule r_no_overlap = SM_RULE("solaris.bind.no-overlap", S,
    "no socket on this port overlaps the address (two different specific "
    "addresses never conflict)",
    "illumos tcp_bindi()");
static const sm_rule r_udp_conflict = SM_RULE("solaris.bind.udp-conflict", S,
    "UDP: a socket of the same family on an overlapping address holds "
    "the port and the new socket has no SO_REUSEADDR",
    "OpenSolaris/illumos udp_bind(), udp.c");
static const sm_rule r_udp_excl = SM_RULE("solaris.bind.udp-excl", S,
    "UDP: SO_EXCLBIND on one of the two sockets and the addresses "
    "overlap (SO_REUSEADDR cannot override it)",
    "OpenSolaris/illumos udp_bind()");
static const sm_rule r_udp_ra = SM_RULE("solaris.bind.udp-ra", S,
    "UDP: SO_REUSEADDR on the new socket with an explicit port allows a "
    "duplicate bind, even of the same address and port, unless "
    "SO_EXCLBIND forbids it",
    "OpenSolaris/illumos udp_bind()");
static const sm_rule r_priv = SM_RULE("solaris.bind.priv", S,
    "ports below tcp_smallest_nonpriv_port (1024) and the extra "
    "privileged ports 2049 and 4045 need the net_privaddr privilege",
    "illumos tcp_bind_select_lport(), secpolicy_net_privaddr()");
static const sm_rule r_rp_ok = SM_RULE("solaris.bind.rp-ok", U,
    "both sockets have SO_REUSEPORT: Solaris 11.4 lets them share the "
    "port (whether the user, SO_EXCLBIND or the TIME_WAIT state matter "
    "is not known)",
    "Oracle setsockopt(3C) as cited by libuv PR #4407; D-3P");
static const sm_rule r_mapped_v6only = SM_RULE("solaris.bind.mapped-v6only", S,
    "an IPV6_V6ONLY socket cannot bind a v4-mapped address",
    "illumos tcp_bind_check()");

/* ---- the decisions ------------------------------------------------------ */

enum sol_why {
    SOL_NONE = 0, /* E does not matter at all */
    SOL_SPLIT,    /* skipped: other family, explicit port */
    SOL_EXCL_OK,  /* skipped: EXCLBIND, different specific addresses */
    SOL_RA_OK,    /* skipped thanks to the new socket's SO_REUSEADDR */
    SOL_RP_OK,    /* skipped: both have SO_REUSEPORT (Solaris 11.4) */
    SOL_BUSY_EXCL,
    SOL_BUSY_NORA,
    SOL_BUSY_RA
};

/* One round of tcp_bindi()'s inner loop for existing endpoint e. */
static enum sol_why tcp_check(const sm_sock_view *n, const sm_sock_view *e,
                              bool explicit_port, bool rp)
{
    const sm_addr *na = &n->bound_addr, *ea = &e->bound_addr;
    bool nany = any_addr(na), eany = any_addr(ea);
    if ((n->now.exclbind || e->now.exclbind) && upto_established(e)) {
        if (eany || nany || same_addr(na, ea))
            return SOL_BUSY_EXCL;
        return SOL_EXCL_OK;
    }
    if (explicit_port && ipversion(n) != ipversion(e))
        return SOL_SPLIT;
    if (rp && n->now.reuseport && e->now.reuseport)
        return SOL_RP_OK;
    if (!n->now.reuseaddr) {
        if (!nany && !eany && !same_addr(na, ea))
            return SOL_NONE;
        return SOL_BUSY_NORA; /* every endpoint in the hash is >= TCPS_BOUND */
    }
    if (same_addr(na, ea) && bound_or_listen(e))
        return SOL_BUSY_RA;
    return (nany || eany || same_addr(na, ea)) ? SOL_RA_OK : SOL_NONE;
}

/* One round of udp_bind()'s loop: SOL_BUSY_* means the loop breaks there. */
static enum sol_why udp_check(const sm_sock_view *n, const sm_sock_view *e,
                              bool explicit_port, bool rp)
{
    const sm_addr *na = &n->bound_addr, *ea = &e->bound_addr;
    bool nany = any_addr(na), eany = any_addr(ea);
    if (n->now.exclbind || e->now.exclbind) {
        if (eany || nany || same_addr(na, ea))
            return SOL_BUSY_EXCL;
        return SOL_EXCL_OK;
    }
    if (explicit_port && ipversion(n) != ipversion(e))
        return SOL_SPLIT;
    if (rp && n->now.reuseport && e->now.reuseport)
        return SOL_RP_OK;
    if (!nany && !eany && !same_addr(na, ea))
        return SOL_NONE;
    return SOL_BUSY_NORA; /* "No difference depending on SO_REUSEADDR" [S] */
}

/* Walks the owners in bind-hash order; returns the first busy one (index)
 * or -1, and in *why what decided. */
static int walk(const sm_bind_ctx *c, bool explicit_port, enum sol_why *why, bool rp)
{
    int first = -1;
    enum sol_why best_ok = SOL_NONE;
    *why = SOL_NONE;
    for (size_t i = 0; i < c->n_owners; i++) {
        const sm_sock_view *e = &c->owners[i];
        enum sol_why w = c->self.proto == SM_UDP
                             ? udp_check(&c->self, e, explicit_port, rp)
                             : tcp_check(&c->self, e, explicit_port, rp);
        if (w >= SOL_BUSY_EXCL) {
            if (first < 0 || walks_before(e, &c->owners[first])) {
                first = (int)i;
                *why = w;
            }
        } else if (w > best_ok) {
            best_ok = w;
        }
    }
    if (first < 0)
        *why = best_ok;
    return first;
}

static bool privileged_port(const sm_bind_ctx *c, uint16_t port)
{
    if (port < c->tun[SM_TUN_UNPRIV_PORT])
        return true;
    for (size_t i = 0; i < sizeof sol_epriv_ports / sizeof sol_epriv_ports[0]; i++)
        if (port == sol_epriv_ports[i])
            return true;
    return false;
}

static const sm_rule *ok_text(const sm_bind_ctx *c, enum sol_why w)
{
    switch (w) {
    case SOL_RA_OK: return &r_ra_ok;
    case SOL_RP_OK: return &r_rp_ok;
    case SOL_EXCL_OK: return &r_excl_ok;
    case SOL_SPLIT: return &r_split;
    default: return c->n_owners ? &r_no_overlap : &r_free;
    }
}

sm_verdict sm__sol_bind(const sm_profile *self, const sm_bind_ctx *c)
{
    bool rp = ((const sm__sol_gen *)self->data)->reuseport;
    const sm_sock_view *n = &c->self;
    if (n->family == 6 && n->now.v6only && sm_addr_is_v4mapped(&n->bound_addr))
        return sm__fail(SM_EADDRNOTAVAIL, &r_mapped_v6only, -1);
    if (privileged_port(c, n->port) && !n->privileged)
        return sm__fail(SM_EACCES, &r_priv, -1);
    enum sol_why why;
    int k = walk(c, true, &why, rp);
    if (n->proto == SM_UDP) {
        /* The loop stops at its first hit; only an EXCLBIND hit there keeps
         * SO_REUSEADDR from allowing the bind [S udp_bind()]. */
        if (k >= 0 && why == SOL_BUSY_EXCL)
            return sm__fail(SM_EADDRINUSE, &r_udp_excl, k);
        if (k >= 0 && n->now.reuseaddr)
            return sm__ok(&r_udp_ra);
        if (k >= 0)
            return sm__fail(SM_EADDRINUSE, &r_udp_conflict, k);
        return sm__ok(ok_text(c, why));
    }
    if (k >= 0)
        return sm__fail(SM_EADDRINUSE,
                        why == SOL_BUSY_EXCL ? &r_excl
                        : why == SOL_BUSY_RA ? &r_ra_same
                                             : &r_norra,
                        k);
    return sm__ok(ok_text(c, why));
}

sm_verdict sm__sol_listen(const sm_profile *self, const sm_bind_ctx *c)
{
    (void)self;
    (void)c;
    return sm__ok(&r_listen_no_recheck);
}

/* ---- anonymous ports ---------------------------------------------------- */

/* tcp_update_next_port(): clamp into the anonymous range, step over the
 * privileged ports; 0 if one call has to wrap the range twice. */
static uint32_t next_port(const int64_t *tun, uint32_t port)
{
    bool restarted = false;
    uint32_t small = (uint32_t)tun[SM_TUN_PORT_LO];
    uint32_t large = (uint32_t)tun[SM_TUN_PORT_HI];
    uint32_t nonpriv = (uint32_t)tun[SM_TUN_UNPRIV_PORT];
    for (;;) {
        if (port < small)
            port = small;
        if (port > large) {
            if (restarted)
                return 0;
            restarted = true;
            port = small;
        }
        if (port < nonpriv)
            port = nonpriv;
        bool bumped = false;
        for (size_t i = 0; i < sizeof sol_epriv_ports / sizeof sol_epriv_ports[0]; i++)
            if (port == sol_epriv_ports[i]) {
                port++;
                bumped = true;
            }
        if (!bumped)
            return port;
    }
}

static const sm_rule r_pick = SM_RULE("solaris.port.pick", S,
    "bind(port 0): a random port of "
    "tcp_smallest_anon_port..tcp_largest_anon_port (32768..65535), then "
    "the following ones, skipping privileged ports, until the bind rules "
    "(with one port space for IPv4 and IPv6) allow one",
    "illumos tcp_bindi(), tcp_update_next_port()");
static const sm_rule r_pick_seq = SM_RULE("solaris.port.pick-seq", S,
    "bind(port 0): tcp_random_anon_port=0, so the port after the last "
    "one handed out, then the following ones",
    "illumos tcp_bindi(), tcps_next_port_to_try");
static const sm_rule r_exhausted = SM_RULE("solaris.port.exhausted", S,
    "no anonymous port is free: TNOADDR, which sockets see as "
    "EADDRNOTAVAIL",
    "illumos tcp_bind_select_lport(), proto_tlitosyserr()");

static bool port_free(sm_pick_ctx *pc, uint16_t port)
{
    sm_bind_ctx bc;
    sm__pick_port_ctx(pc, port, &bc);
    enum sol_why why;
    return walk(&bc, false, &why, false) < 0;
}

sm_verdict sm__sol_pick_port(const sm_profile *self, sm_pick_ctx *pc, uint16_t *port)
{
    (void)self;
    const int64_t *tun = sm__pick_tun(pc);
    uint32_t small = (uint32_t)tun[SM_TUN_PORT_LO];
    uint32_t large = (uint32_t)tun[SM_TUN_PORT_HI];
    if (small > large)
        return sm__fail(SM_EADDRNOTAVAIL, &r_exhausted, -1);
    /* tcps_next_port_to_try / us_next_port_to_try, one per protocol. */
    uint64_t *next = &sm__pick_state(pc)[sm__pick_self(pc)->proto == SM_UDP ? 1 : 0];
    bool random = tun[SM_TUN_RANDOM_PORTS] != 0;
    uint32_t p = (uint32_t)*next;
    if (random) {
        /* 16 random bits; outside the range, small + bits % (large - small). */
        p = (uint32_t)(sm__pick_rand(pc) & 0xffff);
        if (p < small || p > large)
            p = small + (large > small ? p % (large - small) : 0);
    }
    p = next_port(tun, p);
    uint32_t loopmax = large - small + 1;
    for (uint32_t count = 0; p != 0 && count < loopmax; count++) {
        if (port_free(pc, (uint16_t)p)) {
            *next = p + 1;
            *port = (uint16_t)p;
            return sm__ok(random ? &r_pick : &r_pick_seq);
        }
        p = next_port(tun, p + 1);
    }
    return sm__fail(SM_EADDRNOTAVAIL, &r_exhausted, -1);
}

/* ---- setsockopt() ------------------------------------------------------- */

sm_verdict sm__sol_setsockopt(const sm_profile *self, const sm_sock_view *s,
                              sm_option opt, int v1, int v2)
{
    /* (The text predates the solaris-11.4 profile, which models 11.4's
     * SO_REUSEPORT; it is kept as released.) */
    if (opt == SM_SO_REUSEPORT && !((const sm__sol_gen *)self->data)->reuseport)
        return sm__fail(SM_ENOPROTOOPT,
                        &r_sockopt_reuseport, -1);
    (void)v1;
    (void)v2;
    switch (opt) {
    case SM_SO_REUSEADDR:
        return sm__ok(&r_sockopt_reuseaddr);
    case SM_SO_EXCLBIND:
        return sm__ok(&r_sockopt_exclbind);
    case SM_IPV6_V6ONLY:
        if (s->family != 6)
            return sm__fail(SM_EINVAL,
                            &r_sockopt_v6only_on_inet,
                            -1);
        return sm__ok(&r_sockopt_v6only);
    case SM_SO_LINGER:
        return sm__ok(&r_sockopt_linger);
    case SM_SO_REUSEPORT:
        /* Reached only under solaris-11.4 (illumos refuses it above). */
        return sm__ok(&r_sockopt_reuseport_11_4);
    case SM_SO_REUSEPORT_LB:
    case SM_SO_EXCLUSIVEADDRUSE:
    default:
        return sm__fail(SM_ENOPROTOOPT,
                        &r_sockopt_unknown,
                        -1);
    }
}

/* ---- the profile --------------------------------------------------------- */

/* The keys are the ndd(8) names (ndd -set /dev/tcp tcp_smallest_anon_port
 * ...); ipadm(8) calls the same properties smallest_anon_port,
 * largest_anon_port, _time_wait_interval and smallest_nonpriv_port of the
 * tcp protocol.  UDP has its own udp_* copies of the port settings; the
 * model shares one range between TCP and UDP. */
const sm_sysctl_def sm__sol_sysctls[] = {
    {"tcp_smallest_anon_port", 1, {SM_TUN_PORT_LO}, 1024, 65535, 1,
     "first anonymous (ephemeral) port (default 32768)", 0},
    {"tcp_largest_anon_port", 1, {SM_TUN_PORT_HI}, 1024, 65535, 1,
     "last anonymous (ephemeral) port (default 65535)", 0},
    {"tcp_time_wait_interval", 1, {SM_TUN_TIME_WAIT_MS}, 1000, 600000, 1,
     "length of TIME_WAIT in ms (default 60000)", 0},
    {"tcp_smallest_nonpriv_port", 1, {SM_TUN_UNPRIV_PORT}, 1024, 32768, 1,
     "first port an ordinary user may bind (default 1024; 2049 and 4045 stay "
     "privileged)", 0},
};

/* ---- connections (bsd-solaris.md §5.4-5.6) -------------------------------- */

sm_verdict sm__sol_connect(const sm_profile *self, const sm_bind_ctx *c)
{
    (void)self;
    return sm__connect_unique(
        c, SM_EADDRINUSE,
        &r_connect_tuple_in_use,
        &r_connect_tuple_time_wait,
        &r_connect_tuple_free);
}

static const sm__conn_scan sol_conn_scan = {
    .random_start = true,
    .share_destinations = true,
    .tw_blocks_port = false,
    .exhausted = SM_EADDRNOTAVAIL,
    .rule = &r_connect_pick,
    .exhausted_rule = &r_connect_exhausted,
};

sm_verdict sm__sol_pick_connect(const sm_profile *self, sm_pick_ctx *pc, uint16_t *port)
{
    (void)self;
    return sm__conn_scan_pick(&sol_conn_scan, pc, port);
}

sm_tw_syn_verdict sm__sol_tw_syn(const sm_profile *self, const sm_tw_syn_ctx *c)
{
    (void)self;
    sm_tw_syn_verdict v;
    int32_t gap = (int32_t)(c->seg_seq - c->rcv_nxt);
    if (gap > 0 && (uint32_t)gap >= c->rcv_wnd) {
        v.action = SM_TW_SYN_ACCEPT;
        v.rule = &r_tw_syn_accept;
    } else {
        v.action = SM_TW_SYN_RST;
        v.rule = &r_tw_syn_old;
    }
    return v;
}

const sm_tcp_rules sm__sol_tcp_rules = {
    .unread_close_rst = true,
    .unread_close_rule = &r_close_unread_data,
    .linger_timeout = SM_LINGER_TO_RETURN_OK,
    .linger_timeout_rule = &r_linger_timeout,
    .linger_nonblock = SM_LINGER_NB_EWOULDBLOCK,
    .linger_nonblock_rule = &r_linger_nonblock,
    .exit_lingers = true,
    .exit_rule = &r_exit_close,
    .tw_overflow_recycles = false,
    .tw_overflow_rule = &r_tw_cap,
    .local_tw_purge_rule_is_loopback_only = true,
    .no_local_tw_rule = &r_tw_local,
    .connect_port_exhausted = SM_EADDRNOTAVAIL,
    .connect_on_listener = SM_EINVAL,
    .connect_on_listener_rule = &r_connect_on_listener,
    .rst_in_tw_rule = &r_tw_rst,
    .tcp_unspec = SM_EAFNOSUPPORT,
    .tcp_unspec_rule = &r_tcp_unspec,
    .udp_unspec = SM_OK,
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
    .rst_in_close_wait = SM_ECONNRESET,
    .simultaneous_open = true, /* RFC 9293 3.5 [I] */
    .so_rcvbuf = 128000, /* tcp_recv_hiwat / recv_buf [D] */
    .tw_data = SM_TW_DATA_DROP,
    .tw_data_rule = &r_tw_data,
    .shutdown_listener = SM_SHUTL_ENOTCONN,
    .shutdown_listener_rule = &r_shutdown_listener,
    .send_connecting = SM_SENDC_QUEUE,
    .send_connecting_rule = &r_send_connecting,
};

static const sm__sol_gen gen = {.reuseport = false};

extern const sm_rule_set sm__rules_solaris;
const sm_profile sm_profile_solaris = {
    .version = SM_PROFILE_VERSION,
    .name = "solaris",
    .summary = "Solaris / illumos",
    .sysctls = sm__sol_sysctls,
    .n_sysctls = 4,
    .defaults = {
        [SM_TUN_PORT_LO] = 32768,         /* smallest_anon_port, tcp_tunables.c */
        [SM_TUN_PORT_HI] = 65535,         /* largest_anon_port */
        [SM_TUN_UNPRIV_PORT] = 1024,      /* smallest_nonpriv_port */
        [SM_TUN_AUTOBIND_REUSE] = 0,      /* Linux-only */
        [SM_TUN_TIME_WAIT_MS] = 60000,    /* _time_wait_interval */
        [SM_TUN_TW_REUSE] = 0,            /* Linux-only */
        [SM_TUN_TW_REUSE_DELAY_MS] = 0,   /* Linux-only */
        [SM_TUN_RFC1337] = 0,             /* an in-window RST ends TIME_WAIT,
                                             tcp_time_wait_processing() */
        [SM_TUN_MAX_TW] = -1,           /* no cap modelled (negative: none) */
        [SM_TUN_FIN_TIMEOUT_MS] = 675000, /* _fin_wait_2_flush_interval [U] */
        [SM_TUN_TIMESTAMPS] = 1,          /* with window scaling [I] */
        [SM_TUN_NOLOCALTIMEWAIT] = 1,     /* loopback TIME_WAITs are purged at
                                             once, tcp_time_wait_append() */
        [SM_TUN_V6ONLY_DEFAULT] = 0,      /* conn_ipv6_v6only starts 0 [I] */
        [SM_TUN_RANDOM_PORTS] = 1,        /* tcp_random_anon_port = 1 */
        [SM_TUN_SYN_RTO_MS] = 1000,       /* tcp_rexmit_interval_initial */
        [SM_TUN_CONNECT_TIMEOUT_MS] = 180000, /* tcp_ip_abort_cinterval */
    },
    .native_err_name = NULL,
    .data = &gen,
    .setsockopt = sm__sol_setsockopt,
    .bind = sm__sol_bind,
    .listen = sm__sol_listen,
    .pick_port = sm__sol_pick_port,
    .tcp = &sm__sol_tcp_rules,
    .connect = sm__sol_connect,
    .pick_connect_port = sm__sol_pick_connect,
    .tw_syn = sm__sol_tw_syn,
    .select_listener = sm__select_oldest_listener,
    .select_listener_rule = &r_listener_choice,
    .rule_sets = (const sm_rule_set *const[]){&sm__rules_solaris, NULL},
};

/* Every rule record of this file (docs/rules.md). */
static const sm_rule *const rules_of_file[] = {
    &r_shutdown_listener,
    &r_send_connecting,
    &r_listen_no_recheck,
    &r_sockopt_reuseport,
    &r_sockopt_reuseaddr,
    &r_sockopt_exclbind,
    &r_sockopt_v6only_on_inet,
    &r_sockopt_v6only,
    &r_sockopt_linger,
    &r_sockopt_reuseport_11_4,
    &r_sockopt_unknown,
    &r_connect_tuple_in_use,
    &r_connect_tuple_time_wait,
    &r_connect_tuple_free,
    &r_connect_pick,
    &r_connect_exhausted,
    &r_tw_syn_accept,
    &r_tw_syn_old,
    &r_close_unread_data,
    &r_linger_timeout,
    &r_linger_nonblock,
    &r_exit_close,
    &r_tw_cap,
    &r_tw_local,
    &r_connect_on_listener,
    &r_tw_rst,
    &r_tw_data,
    &r_listener_choice,
    &r_free,
    &r_excl,
    &r_excl_ok,
    &r_norra,
    &r_ra_same,
    &r_ra_ok,
    &r_split,
    &r_no_overlap,
    &r_udp_conflict,
    &r_udp_excl,
    &r_udp_ra,
    &r_priv,
    &r_rp_ok,
    &r_mapped_v6only,
    &r_pick,
    &r_pick_seq,
    &r_exhausted,
    &r_tcp_unspec,
    &r_udp_unspec,
    &r_udp_sendto_connected,
    &r_connect_any,
    &r_v4_on_v6,
};
const sm_rule_set sm__rules_solaris = {"profiles/solaris.c", rules_of_file,
    sizeof rules_of_file / sizeof rules_of_file[0]};
