/*
 * windows_common.c - the decision procedure shared by the Windows profiles.
 *
 * Models Winsock's bind() as windows.md section 2.2 describes it: for every
 * other owner E of the port that takes part (counts), lives in the same IP
 * stack (stacks) and whose address overlaps the new one (overlap), look up
 * the profile's table cell [E's option, E's address kind][N's option, N's
 * address kind]; any WSAEACCES wins over any WSAEADDRINUSE, which wins over
 * success.  Also here: setsockopt() rules common to both versions, the
 * ephemeral port walk and the WSAE* error names.  The tables themselves and
 * the values that differ per version live in windows_classic.c and
 * windows.c.
 *
 * TCP and UDP are decided alike: the MSDN tables are not protocol-specific
 * and the SO_EXCLUSIVEADDRUSE page's sample binds UDP (windows.md 2.2; the
 * rest is inferred - Wine emulates the tables for TCP only).  Not modelled:
 * the multicast exception (members of a group share a port), the
 * WSAEADDRINUSE that a wildcard bind may defer to listen()/connect(),
 * SO_PORT_SCALABILITY and SO_REUSE_UNICASTPORT.
 */
#include "windows_common.h"

#include <string.h>

/* ---- rule records: what this file decides, with ID, source and tag ---- */

static const sm_rule r_sockopt_reuseaddr_after_exclusive = SM_RULE("windows.sockopt.reuseaddr-after-exclusive", T,
    "SO_REUSEADDR cannot be set while SO_EXCLUSIVEADDRUSE is set: "
    "WSAEINVAL",
    "Wine ws2_32 tests test_reuseaddr, real Windows results; not stated "
    "by Microsoft");
static const sm_rule r_sockopt_exclusive_after_reuseaddr = SM_RULE("windows.sockopt.exclusive-after-reuseaddr", T,
    "SO_EXCLUSIVEADDRUSE cannot be set while SO_REUSEADDR is set: "
    "WSAEINVAL",
    "Wine ws2_32 tests test_reuseaddr, real Windows results; not stated "
    "by Microsoft");
static const sm_rule r_sockopt_unknown = SM_RULE("windows.sockopt.unknown", D,
    "Windows has no SO_REUSEPORT, SO_REUSEPORT_LB or SO_EXCLBIND: "
    "WSAENOPROTOOPT, the option is unknown",
    "MS SOL_SOCKET socket options; libuv src/win/tcp.c returns ENOTSUP "
    "for UV_TCP_REUSEPORT");
static const sm_rule r_sockopt_v6only_xp = SM_RULE("windows.sockopt.v6only-xp", I,
    "before Vista the IPv6 stack is separate and has no IPV6_V6ONLY "
    "(every AF_INET6 socket is IPv6-only): WSAENOPROTOOPT",
    "MS \"Dual-Stack Sockets\": XP SP1 and 2003 need one socket per "
    "family; error code inferred");
static const sm_rule r_sockopt_v6only_on_inet = SM_RULE("windows.sockopt.v6only-on-inet", I,
    "IPV6_V6ONLY is an IPPROTO_IPV6 option and an AF_INET socket does "
    "not know it: WSAENOPROTOOPT",
    "MS setsockopt(): option unknown for the socket; error code inferred");
static const sm_rule r_sockopt_v6only_bound = SM_RULE("windows.sockopt.v6only-bound", T,
    "IPV6_V6ONLY must be set before bind(); changing it on a bound "
    "socket fails with WSAEINVAL",
    "MS \"Dual-Stack Sockets\"; Wine ws2_32 tests test_ipv6only");
static const sm_rule r_sockopt_linger_udp = SM_RULE("windows.sockopt.linger-udp", I,
    "SO_LINGER is only valid for connection-oriented protocols, not UDP: "
    "WSAENOPROTOOPT",
    "MS SOL_SOCKET socket options, closesocket(); error code inferred");
static const sm_rule r_sockopt_linger = SM_RULE("windows.sockopt.linger", D,
    "SO_LINGER set: it decides how closesocket() ends the connection",
    "MS closesocket(), LINGER structure");
static const sm_rule r_sockopt_reuse_after_bind = SM_RULE("windows.sockopt.reuse-after-bind", D,
    "accepted, but Windows reads SO_REUSEADDR and SO_EXCLUSIVEADDRUSE "
    "only at bind(): setting them after bind() has no effect",
    "MS bind(), SO_EXCLUSIVEADDRUSE page");
static const sm_rule r_sockopt_set = SM_RULE("windows.sockopt.set", D,
    "option set; Windows reads it when the socket binds",
    "MS \"Using SO_REUSEADDR and SO_EXCLUSIVEADDRUSE\", bind()");
static const sm_rule r_connect_udp = SM_RULE("windows.connect.udp", I,
    "UDP connect() only records the peer",
    "MS connect()");
static const sm_rule r_connect_tuple_in_use = SM_RULE("windows.connect.tuple-in-use", D,
    "another connection already uses this 4-tuple: WSAEADDRINUSE",
    "MS connect()");
static const sm_rule r_connect_tuple_time_wait = SM_RULE("windows.connect.tuple-time-wait", D,
    "the 4-tuple is still in TIME_WAIT: WSAEADDRINUSE (event 4227)",
    "KB 2901197, KB Q173619; JDK-8286646");
static const sm_rule r_connect_tuple_free = SM_RULE("windows.connect.tuple-free", D,
    "the 4-tuple is unique",
    "MS connect()");
static const sm_rule r_tw_syn = SM_RULE("windows.tw.syn", I,
    "a SYN for a TIME_WAIT 4-tuple reopens the connection",
    "TechNet TcpTimedWaitDelay, KB 261218; windows.md 3.1");
static const sm_rule r_close_unread_data = SM_RULE("windows.close.unread-data", I,
    "closesocket() with unread data resets the connection",
    "common Winsock behaviour, I: not in the reference notes");
static const sm_rule r_linger_timeout = SM_RULE("windows.linger.timeout", D,
    "SO_LINGER {1,N}: the data was not sent within N s, so the "
    "connection is reset (no TIME_WAIT) and closesocket() returns 0",
    "MS closesocket()");
static const sm_rule r_linger_nonblock = SM_RULE("windows.linger.nonblock", D,
    "non-blocking socket with SO_LINGER {1,N>0} that cannot close at "
    "once: WSAEWOULDBLOCK, the handle stays valid and no disconnect "
    "starts",
    "MS closesocket()");
static const sm_rule r_exit_close = SM_RULE("windows.exit.close", U,
    "process exit closes each handle without lingering",
    "");
static const sm_rule r_tw_cap = SM_RULE("windows.tw.cap", D,
    "TIME_WAIT TCBs are released early when they run out",
    "TechNet MaxFreeTWTcbs");
static const sm_rule r_tw_local = SM_RULE("windows.tw.local", I,
    "no TIME_WAIT toward an own address (not a Windows rule)",
    "windows.md 3.1");
static const sm_rule r_connect_on_listener = SM_RULE("windows.connect.on-listener", D,
    "connect() on a listening socket: WSAEINVAL",
    "MS connect(); Wine test_connect");
static const sm_rule r_shutdown_listener = SM_RULE("windows.shutdown.listener", I,
    "shutdown() of a listener: WSAENOTCONN, a listener is not connected",
    "MS shutdown(): WSAENOTCONN for a connection-oriented socket that is "
    "not connected (documented; for a listener inferred)");
static const sm_rule r_send_connecting = SM_RULE("windows.send.connecting", I,
    "send() before the handshake ends: WSAENOTCONN",
    "MS send(): WSAENOTCONN, the socket is not connected (documented; for a "
    "pending connect inferred)");
static const sm_rule r_aq_reset = SM_RULE("windows.accept.reset-queued", D,
    "a connection the peer reset before accept() is reported by accept() as WSAECONNRESET",
    "MS Winsock accept() return values: WSAECONNRESET for an incoming connection the remote peer terminated before the call");
static const sm_rule r_tw_rst = SM_RULE("windows.tw.rst", D,
    "a RST ends TIME_WAIT",
    "KB 261218");
static const sm_rule r_tw_data = SM_RULE("windows.tw.data", I,
    "new data reaching TIME_WAIT is ignored: no ACK is sent and the entry stays",
    "KB 261218 (Windows 2000): in TIME_WAIT a segment with none of RST, SYN, FIN (a data segment or an ACK) is ignored, no ACK response is sent; later stacks undocumented, assumed the same");

/* ---- rule records: bind and listen ------------------------------------ */

static const sm_rule rule_free = SM_RULE("windows.bind.free", D,
    "no other socket holds this port",
    "MS Winsock bind(): WSAEADDRINUSE only when another socket already "
    "holds the address");

static const sm_rule rule_no_overlap = SM_RULE("windows.bind.no-overlap", D,
    "the other sockets on this port are bound to other specific "
    "addresses: two different specific addresses never conflict",
    "MS \"Using SO_REUSEADDR and SO_EXCLUSIVEADDRUSE\" (10.0.0.1 / "
    "10.99.99.99 example) and SO_EXCLUSIVEADDRUSE page, \"Specific2\" "
    "rows");

static const sm_rule rule_inactive_ignored = SM_RULE("windows.bind.inactive-ignored", I,
    "the port is held only by connections without a bind of their own "
    "(accepted, closing or TIME_WAIT): a bind without "
    "SO_EXCLUSIVEADDRUSE ignores them",
    "Go sockopt_windows.go, CPython socket.create_server, libuv "
    "src/win/tcp.c, QEMU oslib-win32.c; not stated by Microsoft");

static const sm_rule rule_excl_inactive = SM_RULE("windows.bind.exclusive-inactive", U,
    "a SO_EXCLUSIVEADDRUSE bind is refused by a connection without a bind "
    "of its own (TIME_WAIT, closing, or accepted from a SO_EXCLUSIVEADDRUSE "
    "listener): the model counts it as Microsoft's table counts an active "
    "socket; whether Windows treats TIME_WAIT as \"inactive\" is an open "
    "question",
    "MS SO_EXCLUSIVEADDRUSE page (\"cannot necessarily be reused "
    "immediately\"); libuv src/win/tcp.c; windows.md 2.2, 7.2");

static const sm_rule rule_excl_dual_any = SM_RULE("windows.bind.excl-dual-any", T,
    "the existing dual-stack socket bound [::] with SO_EXCLUSIVEADDRUSE "
    "also holds IPv4 0.0.0.0, and a conflict found through that IPv4 "
    "side is WSAEACCES whatever the new socket's options",
    "Wine dlls/ws2_32/tests/sock.c, results recorded on real Windows; "
    "Wine server/sock.c check_addr_usage()");

static const sm_rule rule_mapped_v6only = SM_RULE("windows.bind.mapped-v6only", I,
    "a v4-mapped address (::ffff:a.b.c.d) cannot be bound on an "
    "IPv6-only socket: WSAEADDRNOTAVAIL",
    "inferred: Windows reports 10049 when a V6ONLY socket uses a "
    "v4-mapped address, libwebsockets#2223, ACE_TAO#1267; MS "
    "\"Dual-Stack Sockets\"");

static const sm_rule rule_listen = SM_RULE("windows.listen.no-recheck", D,
    "Windows does not check the port again at listen(): the bind() "
    "decision stands",
    "MS listen(); the WSAEADDRINUSE that a wildcard bind may defer to "
    "listen()/connect() is not modelled yet");

static const sm_rule rule_listen_unbound = SM_RULE("windows.listen.unbound", D,
    "listen() on a socket that was never bound fails with WSAEINVAL: "
    "Windows does not pick a port at listen()",
    "MS listen(): WSAEINVAL for a socket not bound with bind()");
static const sm_rule r_tcp_unspec = SM_RULE("windows.connect.unspec-tcp", I,
    "connect(AF_UNSPEC) on TCP: WSAEAFNOSUPPORT (a connected socket: "
    "WSAEISCONN first)",
    "");
static const sm_rule r_udp_unspec = SM_RULE("windows.connect.unspec-udp", D,
    "connect() on UDP with no address: the socket is disconnected "
    "(connect(): \"if the address member ... is all zeros, the socket will "
    "be disconnected\")",
    "learn.microsoft.com winsock connect; AF_UNSPEC as that I");
static const sm_rule r_udp_sendto_connected = SM_RULE("windows.connect.sendto-connected-udp", U,
    "sendto() with an address on a connected UDP socket: sent",
    "");
static const sm_rule r_connect_any = SM_RULE("windows.connect.to-wildcard", D,
    "connect() to INADDR_ANY or in6addr_any: WSAEADDRNOTAVAIL, \"the "
    "remote address is not a valid address (such as INADDR_ANY or "
    "in6addr_any)\"",
    "MS connect()");
static const sm_rule r_v4_on_v6 = SM_RULE("windows.connect.v4-on-inet6", I,
    "an IPv4 sockaddr given to an AF_INET6 socket: EAFNOSUPPORT (use "
    "::ffff:a.b.c.d)",
    "");
static const sm_rule r_connect_in_progress = SM_RULE("windows.connect.in-progress", D,
    "a non-blocking connect() returns WSAEWOULDBLOCK while the handshake "
    "goes on (not WSAEINPROGRESS)",
    "Wine dlls/ws2_32/tests/sock.c, real Windows results; MS connect()");
static const sm_rule r_io_while_connecting = SM_RULE("windows.connect.io-while-connecting", T,
    "send() or recv() while the connect is still in progress: WSAENOTCONN",
    "Wine dlls/ws2_32/tests/sock.c, real Windows results");
static const sm_rule r_sockopt_linux_only = SM_RULE("windows.sockopt.linux-port-options", D,
    "Windows has no IP_BIND_ADDRESS_NO_PORT or IP_LOCAL_PORT_RANGE (Linux "
    "options): WSAENOPROTOOPT",
    "MS IPPROTO_IP socket options");
static const sm_rule r_sockopt_unicast_missing = SM_RULE("windows.sockopt.reuse-unicastport-missing", D,
    "SO_REUSE_UNICASTPORT arrived in Windows 10 / Server 2016: "
    "WSAENOPROTOOPT before",
    "MS SOL_SOCKET socket options, support table");
static const sm_rule r_sockopt_unicast = SM_RULE("windows.sockopt.reuse-unicastport", D,
    "SO_REUSE_UNICASTPORT: bind(addr, 0) defers the ephemeral port to "
    "connect(), which may share it toward other destinations",
    "MS SOL_SOCKET socket options; ws2def.h 'defer ephemeral port "
    "allocation for outbound connections'");
static const sm_rule r_sockopt_v6only_inet_ok = SM_RULE("windows.sockopt.v6only-on-inet-accepted", T,
    "IPV6_V6ONLY on an AF_INET socket before bind() is accepted and "
    "changes nothing",
    "Wine dlls/ws2_32/tests/sock.c, real Windows results");

/* ---- option and address classes ------------------------------------------ */

/* The option class a socket had when it bound (set both is impossible:
 * setsockopt refuses the second one). */
static int opt_class(const sm_opts *o)
{
    if (o->exclusiveaddruse)
        return SM__WIN_EX;
    if (o->reuseaddr)
        return SM__WIN_RA;
    return SM__WIN_DEF;
}

/* One address a socket occupies in one of the two IP stacks. */
typedef struct win_place {
    int space;       /* 4: IPv4 stack, 6: IPv6 stack */
    bool wild;       /* 0.0.0.0 or :: */
    uint32_t v4;     /* space 4 */
    sm_addr v6;      /* space 6 */
    bool excl_proj;  /* IPv4 0.0.0.0 held by an exclusive dual-stack [::] */
} win_place;

static win_place place4(uint32_t v4, bool excl_proj)
{
    win_place p;
    memset(&p, 0, sizeof p);
    p.space = 4;
    p.v4 = v4;
    p.wild = v4 == 0;
    p.excl_proj = excl_proj;
    return p;
}

static win_place place6(const sm_addr *a)
{
    win_place p;
    memset(&p, 0, sizeof p);
    p.space = 6;
    p.v6 = *a;
    p.wild = sm_addr_is_any(a);
    return p;
}

/*
 * stacks: the places a socket of `family` bound to `a` with options `o`
 * occupies.  From Wine's table of real-Windows results (windows.md 2.2),
 * not from MSDN, whose dual-stack prose says a wildcard dual-stack bind
 * reserves both stacks (windows.md 7.3: the tests win):
 *  - AF_INET: the IPv4 stack;
 *  - AF_INET6 with IPV6_V6ONLY (or before Vista, no dual stack): the IPv6
 *    stack only;
 *  - dual-stack AF_INET6 bound to ::ffff:a.b.c.d (also ::ffff:0.0.0.0):
 *    IPv4 address a.b.c.d (it can only ever see IPv4 traffic);
 *  - dual-stack AF_INET6 bound to [::]: the IPv6 stack, and IPv4 0.0.0.0
 *    only when it has SO_EXCLUSIVEADDRUSE (Wine server/sock.c
 *    ipv4addr_from_v6(map_unspecified = exclusiveaddruse), used both for
 *    the new socket's check and for what an existing socket registers);
 *  - dual-stack AF_INET6 bound to another IPv6 address: the IPv6 stack.
 */
static int places_of(const sm__win_rules *r, int family, const sm_addr *a,
                     const sm_opts *o, win_place out[2])
{
    uint32_t v4 = 0;
    if (family == 4) {
        sm_addr_v4(a, &v4);
        out[0] = place4(v4, false);
        return 1;
    }
    bool dual = r->dual_stack && !o->v6only;
    if (dual && sm_addr_is_v4mapped(a)) {
        sm_addr_v4(a, &v4);
        out[0] = place4(v4, false);
        return 1;
    }
    out[0] = place6(a);
    if (dual && sm_addr_is_any(a) && o->exclusiveaddruse) {
        out[1] = place4(0, true);
        return 2;
    }
    return 1;
}

/* addr_overlap(x, y) = x == y || x is wildcard || y is wildcard, inside
 * one stack [MS "Specific2" rows and the 10.99.99.99 example]. */
static bool overlap(const win_place *x, const win_place *y)
{
    if (x->space != y->space)
        return false;
    if (x->wild || y->wild)
        return true;
    if (x->space == 4)
        return x->v4 == y->v4;
    return sm_addr_equal(&x->v6, &y->v6);
}

/* A TCB without a bind of its own: an accepted connection, a socket whose
 * descriptor is closed but whose connection still winds down, a TIME_WAIT
 * entry.  (A connecting/connected socket that bound itself, explicitly or
 * implicitly at connect(), is an ordinary owner.) */
static bool inactive_tcb(const sm_sock_view *e)
{
    return e->time_wait || !e->fd_open || e->how == SM_BOUND_ACCEPTED;
}

/* counts(e, s) of windows.md 2.2. */
static bool counts(const sm__win_rules *r, const sm_sock_view *e, int new_opt)
{
    if (!inactive_tcb(e))
        return true;
    /* DEF and RA binds ignore them: Windows rebinds over TIME_WAIT "by
     * default" (Go, CPython, QEMU, libuv comments; windows.md 3.2). */
    if (new_opt != SM__WIN_EX)
        return false;
    /* EX binds: MSDN says an EX socket "cannot necessarily be reused
     * immediately" until the connection of an EX listener "becomes
     * inactive"; libuv says EX "does check all sockets, regardless of
     * state", TIME_WAIT included.  Whether TIME_WAIT is "inactive" is open
     * (windows.md 7.2), hence the per-profile flag. */
    if (!r->excl_blocks_on_inactive_tcbs)
        return false;
    /* The MSDN case is an accepted connection of an EX listener; accepted
     * sockets inherit the listener's options (Wine server/sock.c
     * accept_socket() copies reuseaddr and exclusiveaddruse), so an accepted connection of a listener without
     * EX does not count (windows.md 2.2). */
    if (e->how == SM_BOUND_ACCEPTED && !e->at_bind.exclusiveaddruse)
        return false;
    return true;
}

/* ---- bind -------------------------------------------------------------- */

/* Why an OK came out, most informative first. */
enum ok_reason { OK_FREE = 0, OK_OTHER_STACK, OK_NO_OVERLAP, OK_INACTIVE, OK_CELL };

sm_verdict sm__win_bind(const sm_profile *self, const sm_bind_ctx *c)
{
    const sm__win_rules *r = self->data;
    const sm_sock_view *n = &c->self;
    win_place np[2];

    /* A v4-mapped address on an IPv6-only socket. */
    if (n->family == 6 && sm_addr_is_v4mapped(&n->bound_addr) &&
        (!r->dual_stack || n->now.v6only))
        return sm__fail(SM_EADDRNOTAVAIL, &rule_mapped_v6only, -1);

    /* Options are sampled at bind() time (MS bind page, SO_EXCLUSIVEADDRUSE
     * page): the new socket's current options are what it binds with; an
     * existing socket is judged by what it had at its own bind. */
    int n_opt = opt_class(&n->now);
    int n_np = places_of(r, n->family, &n->bound_addr, &n->now, np);

    int worst = SM__WIN_OK;       /* worst result so far */
    int culprit = -1;
    uint64_t culprit_seq = 0;
    const sm_rule *worst_rule = NULL;
    enum ok_reason why_ok = OK_FREE;
    const sm_rule *ok_rule = NULL;
    uint64_t ok_seq = 0;

    for (size_t i = 0; i < c->n_owners; i++) {
        const sm_sock_view *e = &c->owners[i];
        win_place ep[2];
        int n_ep = places_of(r, e->family, &e->bound_addr, &e->at_bind, ep);

        bool any_overlap = false, same_stack = false;
        for (int a = 0; a < n_np; a++)
            for (int b = 0; b < n_ep; b++) {
                if (np[a].space == ep[b].space)
                    same_stack = true;
                if (overlap(&np[a], &ep[b]))
                    any_overlap = true;
            }
        if (!any_overlap) {
            enum ok_reason w = same_stack ? OK_NO_OVERLAP : OK_OTHER_STACK;
            if (w > why_ok)
                why_ok = w;
            continue;
        }
        if (!counts(r, e, n_opt)) {
            if (OK_INACTIVE > why_ok)
                why_ok = OK_INACTIVE;
            continue;
        }

        /* The table: same user account or not (Server 2003+ only). */
        const sm__win_table *t = r->same_user;
        if (r->other_user && e->uid != n->uid)
            t = r->other_user;

        int e_opt = opt_class(&e->at_bind);
        int res = SM__WIN_OK;
        const sm_rule *rule = NULL;
        for (int a = 0; a < n_np; a++)
            for (int b = 0; b < n_ep; b++) {
                if (!overlap(&np[a], &ep[b]))
                    continue;
                const sm__win_cell *cell =
                    &t->cell[SM__WIN_IDX(e_opt, ep[b].wild ? SM__WIN_W : SM__WIN_S)]
                            [SM__WIN_IDX(n_opt, np[a].wild ? SM__WIN_W : SM__WIN_S)];
                int cr = cell->res;
                const sm_rule *crule = &cell->rule;
                if (cr != SM__WIN_OK && ep[b].excl_proj) {
                    cr = SM__WIN_AC;
                    crule = &rule_excl_dual_any;
                }
                if (rule == NULL || cr > res) {
                    res = cr;
                    rule = crule;
                }
            }

        /* A TCB without a bind of its own counted only because the new
         * bind is SO_EXCLUSIVEADDRUSE (counts()): an open question, not a
         * table lookup. */
        if (res != SM__WIN_OK && inactive_tcb(e))
            rule = &rule_excl_inactive;

        if (res == SM__WIN_OK) {
            if (why_ok < OK_CELL || e->seq < ok_seq) {
                why_ok = OK_CELL;
                ok_rule = rule;
                ok_seq = e->seq;
            }
            continue;
        }
        /* Precedence WSAEACCES > WSAEADDRINUSE (windows.md 2.2 and 7.5:
         * undocumented, inferred); among equals the oldest binding. */
        if (res > worst || (res == worst && e->seq < culprit_seq)) {
            worst = res;
            worst_rule = rule;
            culprit = (int)i;
            culprit_seq = e->seq;
        }
    }

    if (worst == SM__WIN_AC)
        return sm__fail(SM_EACCES, worst_rule, culprit);
    if (worst == SM__WIN_IU)
        return sm__fail(SM_EADDRINUSE, worst_rule, culprit);
    switch (why_ok) {
    case OK_CELL: return sm__ok(ok_rule);
    case OK_INACTIVE: return sm__ok(&rule_inactive_ignored);
    case OK_NO_OVERLAP: return sm__ok(&rule_no_overlap);
    case OK_OTHER_STACK: return sm__ok(r->other_stack_rule);
    case OK_FREE: break;
    }
    return sm__ok(&rule_free);
}

sm_verdict sm__win_listen(const sm_profile *self, const sm_bind_ctx *c)
{
    (void)self;
    (void)c;
    return sm__ok(&rule_listen);
}

/* ---- setsockopt -------------------------------------------------------- */

sm_verdict sm__win_setsockopt(const sm_profile *self, const sm_sock_view *s,
                              sm_option opt, int v1, int v2)
{
    const sm__win_rules *r = self->data;
    (void)v2;
    switch (opt) {
    case SM_SO_REUSEADDR:
        /* Both options at once are refused, in either order; clearing one
         * and then setting the other works [Wine sock.c test_reuseaddr;
         * Wine server/sock.c IOCTL_AFD_WINE_SET_SO_REUSEADDR ->
         * STATUS_INVALID_PARAMETER; seen as 10022 in libtorrent#1981]. */
        if (v1 && s->now.exclusiveaddruse)
            return sm__fail(SM_EINVAL,
                            &r_sockopt_reuseaddr_after_exclusive,
                            -1);
        break;
    case SM_SO_EXCLUSIVEADDRUSE:
        if (v1 && s->now.reuseaddr)
            return sm__fail(SM_EINVAL,
                            &r_sockopt_exclusive_after_reuseaddr,
                            -1);
        break;
    case SM_SO_REUSEPORT:
    case SM_SO_REUSEPORT_LB:
    case SM_SO_EXCLBIND:
        return sm__fail(SM_ENOPROTOOPT,
                        &r_sockopt_unknown,
                        -1);
    case SM_IPV6_V6ONLY:
        if (!r->dual_stack)
            return sm__fail(SM_ENOPROTOOPT,
                            &r_sockopt_v6only_xp,
                            -1);
        if (s->family != 6 && !s->bound)
            return sm__ok(&r_sockopt_v6only_inet_ok);
        if (s->bound)
            return sm__fail(SM_EINVAL,
                            &r_sockopt_v6only_bound,
                            -1);
        break;
    case SM_SO_LINGER:
        if (s->proto != SM_TCP)
            return sm__fail(SM_ENOPROTOOPT,
                            &r_sockopt_linger_udp,
                            -1);
        return sm__ok(&r_sockopt_linger);
    case SM_IP_BIND_ADDRESS_NO_PORT:
    case SM_IP_LOCAL_PORT_RANGE:
        return sm__fail(SM_ENOPROTOOPT, &r_sockopt_linux_only, -1);
    case SM_SO_REUSE_UNICASTPORT:
        if (!r->reuse_unicastport)
            return sm__fail(SM_ENOPROTOOPT, &r_sockopt_unicast_missing, -1);
        return sm__ok(&r_sockopt_unicast);
    default:
        break;
    }
    if (s->bound)
        return sm__ok(&r_sockopt_reuse_after_bind);
    return sm__ok(&r_sockopt_set);
}

/* ---- ephemeral ports --------------------------------------------------- */

/*
 * bind(port 0) and implicit binds take a port of the dynamic range that no
 * socket holds at all, with any address: the default wildcard-port
 * allocation is limited to the dynamic range "no matter the number of IP
 * addresses" [MS SO_PORT_SCALABILITY page], i.e. an ephemeral port is not
 * shared (windows.md 3.3; SO_PORT_SCALABILITY and SO_REUSE_UNICASTPORT are
 * not modelled).  TIME_WAIT entries are owners too, so a port in TIME_WAIT
 * is not handed out again (the Server 2003 SP1 "smart port allocation"
 * behaviour; before SP1 such ports were considered available - not
 * modelled).
 *
 * One counter per host (state word 0: the next port to try, 0 = none
 * yet), shared by TCP and UDP as on NT [3P hsc.fr]; with
 * SM__WIN_WALK_RANDOM_START the first pick starts at a seeded random port.
 */
sm_verdict sm__win_pick_port(const sm_profile *self, sm_pick_ctx *c, uint16_t *port)
{
    const sm__win_rules *r = self->data;
    if (sm__pick_self(c)->state == SM_LISTEN)
        return sm__fail(SM_EINVAL, &rule_listen_unbound, -1);

    const int64_t *tun = sm__pick_tun(c);
    int64_t lo = tun[SM_TUN_PORT_LO], hi = tun[SM_TUN_PORT_HI];
    if (lo < 1)
        lo = 1;
    if (hi > 65535)
        hi = 65535;
    if (lo > hi)
        return sm__fail(SM_ENOBUFS, r->exhausted_rule, -1);
    uint64_t n = (uint64_t)(hi - lo + 1);

    uint64_t *st = sm__pick_state(c);
    uint64_t start = st[0];
    if (start < (uint64_t)lo || start > (uint64_t)hi) {
        start = (uint64_t)lo;
        if (r->walk == SM__WIN_WALK_RANDOM_START)
            start += sm__pick_rand(c) % n;
    }
    for (uint64_t i = 0; i < n; i++) {
        uint64_t p = (uint64_t)lo + (start - (uint64_t)lo + i) % n;
        sm_bind_ctx bc;
        sm__pick_port_ctx(c, (uint16_t)p, &bc);
        if (bc.n_owners != 0)
            continue;
        st[0] = p == (uint64_t)hi ? (uint64_t)lo : p + 1;
        *port = (uint16_t)p;
        return sm__ok(r->pick_rule);
    }
    return sm__fail(SM_ENOBUFS, r->exhausted_rule, -1);
}

/* ---- error names ------------------------------------------------------- */

/*
 * WSAE* names from the Windows Sockets error code page
 * (windows-sockets-error-codes-2.md).  Choices where POSIX and Winsock do
 * not match one to one:
 *  - EBADF -> WSAENOTSOCK (10038): a handle that is not (or no longer) a
 *    socket gives "Socket operation on nonsocket"; WSAEBADF (10009) exists
 *    on the page but Winsock calls do not return it for a closed socket.
 *  - EPIPE -> WSAESHUTDOWN (10058): sending after the socket was shut down
 *    for sending; Winsock has no EPIPE.  (A send on a connection the peer
 *    reset is WSAECONNRESET on Windows - Wine maps host EPIPE there - so
 *    the connection model should report ECONNRESET, not EPIPE, for it.)
 *  - EPERM -> WSAEACCES (10013): "An attempt was made to access a socket in
 *    a way forbidden by its access permissions"; there is no WSAEPERM.
 *  - EPROTO, ENOSYS, ENOMEM (the model's own failures): no Winsock
 *    counterpart; the portable name is shown.
 */
const char *sm__win_err_name(const sm_profile *self, sm_err e)
{
    (void)self;
    switch (e) {
    case SM_EADDRINUSE: return "WSAEADDRINUSE";       /* 10048 */
    case SM_EADDRNOTAVAIL: return "WSAEADDRNOTAVAIL"; /* 10049 */
    case SM_EACCES: return "WSAEACCES";               /* 10013 */
    case SM_EINVAL: return "WSAEINVAL";               /* 10022 */
    case SM_EISCONN: return "WSAEISCONN";             /* 10056 */
    case SM_ENOTCONN: return "WSAENOTCONN";           /* 10057 */
    case SM_ENOPROTOOPT: return "WSAENOPROTOOPT";     /* 10042 */
    case SM_EOPNOTSUPP: return "WSAEOPNOTSUPP";       /* 10045 */
    case SM_ECONNREFUSED: return "WSAECONNREFUSED";   /* 10061 */
    case SM_ECONNRESET: return "WSAECONNRESET";       /* 10054 */
    case SM_ECONNABORTED: return "WSAECONNABORTED";   /* 10053 */
    case SM_EINPROGRESS: return "WSAEINPROGRESS";     /* 10036 */
    case SM_EALREADY: return "WSAEALREADY";           /* 10037 */
    case SM_EWOULDBLOCK: return "WSAEWOULDBLOCK";     /* 10035 */
    case SM_ENOBUFS: return "WSAENOBUFS";             /* 10055 */
    case SM_EAFNOSUPPORT: return "WSAEAFNOSUPPORT";   /* 10047 */
    case SM_ETIMEDOUT: return "WSAETIMEDOUT";         /* 10060 */
    case SM_EPIPE: return "WSAESHUTDOWN";             /* 10058 */
    case SM_EBADF: return "WSAENOTSOCK";              /* 10038 */
    case SM_EPERM: return "WSAEACCES";                /* 10013 */
    case SM_ENETUNREACH: return "WSAENETUNREACH";     /* 10051 */
    case SM_EFAULT: return "WSAEFAULT";               /* 10014 */
    case SM_OK:
    case SM_EPROTO:
    case SM_ENOSYS:
    case SM_ENOMEM:
    case SM_ERR_COUNT:
        break;
    }
    return NULL;
}

/* ---- connections (windows.md §3, §4) ------------------------------------- */

sm_verdict sm__win_connect(const sm_profile *self, const sm_bind_ctx *c)
{
    (void)self;
    if (c->self.proto == SM_UDP)
        return sm__ok(&r_connect_udp);
    return sm__connect_unique(
        c, SM_EADDRINUSE,
        &r_connect_tuple_in_use,
        &r_connect_tuple_time_wait,
        &r_connect_tuple_free);
}

sm_verdict sm__win_pick_connect_port(const sm_profile *self, sm_pick_ctx *pc,
                                     uint16_t *port)
{
    const sm__win_rules *r = self->data;
    return sm__conn_scan_pick(r->conn_scan, pc, port);
}

sm_tw_syn_verdict sm__win_tw_syn(const sm_profile *self, const sm_tw_syn_ctx *c)
{
    (void)self;
    (void)c;
    sm_tw_syn_verdict v;
    v.action = SM_TW_SYN_ACCEPT;
    v.rule = &r_tw_syn;
    return v;
}

const sm_tcp_rules sm__win_tcp_rules = {
    .unread_close_rst = true,
    .unread_close_rule = &r_close_unread_data,
    .linger_timeout = SM_LINGER_TO_RESET,
    .linger_timeout_rule = &r_linger_timeout,
    .linger_nonblock = SM_LINGER_NB_EWOULDBLOCK_KEEP,
    .linger_nonblock_rule = &r_linger_nonblock,
    .exit_lingers = false,
    .exit_rule = &r_exit_close,
    .tw_overflow_recycles = true,
    .tw_overflow_rule = &r_tw_cap,
    .local_tw_purge_rule_is_loopback_only = false,
    /* Windows has no such shortcut in the notes: NOLOCALTIMEWAIT stays 0
     * and this text is never shown. */
    .no_local_tw_rule = &r_tw_local,
    .connect_port_exhausted = SM_ENOBUFS,
    .connect_on_listener = SM_EINVAL,
    .connect_on_listener_rule = &r_connect_on_listener,
    .rst_in_tw_rule = &r_tw_rst,
    .tcp_unspec = SM_EAFNOSUPPORT,
    .tcp_unspec_rule = &r_tcp_unspec,
    .udp_unspec = SM_OK,
    .udp_unspec_rule = &r_udp_unspec,
    .unspec_unbinds = false,
    .udp_sendto_connected = SM_OK,
    .udp_sendto_connected_rule = &r_udp_sendto_connected,
    .connect_any = SM_EADDRNOTAVAIL,
    .connect_any_rule = &r_connect_any,
    .v4_on_v6_tcp = SM_EAFNOSUPPORT,
    .v4_on_v6_udp = SM_EAFNOSUPPORT,
    .v4_on_v6only = SM_EAFNOSUPPORT,
    .v4_on_v6_rule = &r_v4_on_v6,
    .connect_in_progress = SM_EWOULDBLOCK,
    .connect_in_progress_rule = &r_connect_in_progress,
    .io_while_connecting = SM_ENOTCONN,
    .io_while_connecting_rule = &r_io_while_connecting,
    .reset_error_sticky = true, /* later WSARecv and send fail WSAECONNRESET [Wine test_tcp_reset on real Windows; windows.md 4] */
    .rst_in_close_wait = SM_ECONNRESET,
    .simultaneous_open = true, /* RFC 9293 3.5 [I] */
    .so_rcvbuf = 65536, /* the default SO_RCVBUF of Windows 7 and later [I] */
    .tw_data = SM_TW_DATA_DROP, /* KB 261218 [D for Windows 2000, I after] */
    .tw_data_rule = &r_tw_data,
    .shutdown_listener = SM_SHUTL_ENOTCONN,
    .shutdown_listener_rule = &r_shutdown_listener,
    .send_connecting = SM_SENDC_ENOTCONN,
    .send_connecting_rule = &r_send_connecting,
    .aq_reset = SM_AQR_FAIL,
    .aq_reset_err = SM_ECONNRESET,
    .aq_reset_rule = &r_aq_reset,
};

/* TCP options as Windows sends them [O: captures of Windows 10/11 SYNs,
 * <mss 1460,nop,wscale 8,nop,nop,sackOK>; timestamps off by default]: MSS;
 * NOP and window scale; NOP NOP and SACK-permitted; timestamps after
 * NOP NOP [I].  Windows XP/2003 offered no window scale by default
 * (Tcp1323Opts = 0) [D]. */
size_t sm__win_tcp_options(const sm_profile *self, const sm_tcpopt_ctx *c, uint8_t *out)
{
    uint8_t shift = ((const sm__win_rules *)self->data)->wscale_shift;
    size_t n = 0;
    if (c->syn)
        sm__opt_mss(out, &n, c->mss);
    if (c->ws && shift) {
        sm__opt_nop(out, &n);
        sm__opt_wscale(out, &n, shift);
    }
    if (c->sack_ok) {
        sm__opt_nop(out, &n);
        sm__opt_nop(out, &n);
        sm__opt_sackok(out, &n);
    }
    if (c->ts) {
        sm__opt_nop(out, &n);
        sm__opt_nop(out, &n);
        sm__opt_ts(out, &n, c->tsval, c->tsecr);
    }
    return n;
}

/* Every rule record of this file (docs/rules.md). */
static const sm_rule *const rules_of_file[] = {
    &r_shutdown_listener,
    &r_send_connecting,
    &r_aq_reset,
    &r_sockopt_reuseaddr_after_exclusive,
    &r_sockopt_exclusive_after_reuseaddr,
    &r_sockopt_unknown,
    &r_sockopt_v6only_xp,
    &r_sockopt_v6only_on_inet,
    &r_sockopt_v6only_bound,
    &r_sockopt_linger_udp,
    &r_sockopt_linger,
    &r_sockopt_reuse_after_bind,
    &r_sockopt_set,
    &r_connect_udp,
    &r_connect_tuple_in_use,
    &r_connect_tuple_time_wait,
    &r_connect_tuple_free,
    &r_tw_syn,
    &r_close_unread_data,
    &r_linger_timeout,
    &r_linger_nonblock,
    &r_exit_close,
    &r_tw_cap,
    &r_tw_local,
    &r_connect_on_listener,
    &r_tw_rst,
    &r_tw_data,
    &rule_free,
    &rule_no_overlap,
    &rule_inactive_ignored,
    &rule_excl_inactive,
    &rule_excl_dual_any,
    &rule_mapped_v6only,
    &rule_listen,
    &rule_listen_unbound,
    &r_tcp_unspec,
    &r_udp_unspec,
    &r_udp_sendto_connected,
    &r_connect_any,
    &r_v4_on_v6,
    &r_connect_in_progress,
    &r_io_while_connecting,
    &r_sockopt_linux_only,
    &r_sockopt_unicast_missing,
    &r_sockopt_unicast,
    &r_sockopt_v6only_inet_ok,
};
const sm_rule_set sm__rules_windows_common = {"profiles/windows_common.c", rules_of_file,
    sizeof rules_of_file / sizeof rules_of_file[0]};
