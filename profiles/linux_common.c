/*
 * linux_common.c - Linux bind/listen/autobind rules, both generations.
 *
 * Models (see ../shared/reference/linux.md §0-§1):
 *   overlap()      inet_rcv_saddr_equal(match_wildcard=true), §0.1
 *   tcp_conflict() inet_bind_conflict(): SO_REUSEADDR on both and the
 *                  existing socket not listening, or (3.9+) SO_REUSEPORT on
 *                  both with the same uid or an existing TIME_WAIT, §1c/§1d
 *   udp_conflict() udp_lib_lport_inuse(): no state dependence, §1c
 *   autobind       inet_csk_find_open_port(): relax=false, any overlapping
 *                  owner blocks a candidate; ip_autobind_reuse second pass.
 * Every verdict names the rule and the kernel function it comes from.
 */
#include "linux_common.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* ---- rule records: what this file decides, with ID, source and tag ---- */

static const sm_rule r_listen_free = SM_RULE("linux.listen.free", S,
    "listen() re-checks the port: no other socket holds it",
    "Linux inet_csk_listen_start()");
static const sm_rule r_sockopt_reuseaddr = SM_RULE("linux.sockopt.reuseaddr", S,
    "SO_REUSEADDR sets sk_reuse",
    "Linux sock_setsockopt()");
static const sm_rule r_sockopt_reuseport_3_8 = SM_RULE("linux.sockopt.reuseport-3-8", S,
    "SO_REUSEPORT arrived in Linux 3.9",
    "commit c617f398edd4");
static const sm_rule r_sockopt_reuseport = SM_RULE("linux.sockopt.reuseport", S,
    "SO_REUSEPORT sets sk_reuseport",
    "Linux sock_setsockopt()");
static const sm_rule r_sockopt_v6only_on_inet = SM_RULE("linux.sockopt.v6only-on-inet", S,
    "IPPROTO_IPV6 options do not exist on an AF_INET socket",
    "Linux ip_setsockopt()");
static const sm_rule r_sockopt_v6only_bound = SM_RULE("linux.sockopt.v6only-bound", S,
    "IPV6_V6ONLY cannot change once the socket is bound",
    "Linux do_ipv6_setsockopt(): inet_num set");
static const sm_rule r_sockopt_v6only = SM_RULE("linux.sockopt.v6only", S,
    "IPV6_V6ONLY sets sk_ipv6only",
    "Linux do_ipv6_setsockopt()");
static const sm_rule r_sockopt_linger = SM_RULE("linux.sockopt.linger", S,
    "SO_LINGER stores sk_lingertime",
    "Linux sock_setsockopt()");
static const sm_rule r_sockopt_unknown = SM_RULE("linux.sockopt.unknown", S,
    "Linux has no such option (FreeBSD SO_REUSEPORT_LB, Windows "
    "SO_EXCLUSIVEADDRUSE, Solaris SO_EXCLBIND)",
    "Linux sock_setsockopt()");
static const sm_rule r_tw_syn_accept = SM_RULE("linux.tw.syn-accept", S,
    "a SYN newer than the TIME_WAIT (sequence or timestamp) ends it and "
    "reaches the listener",
    "Linux tcp_timewait_state_process(), TCP_TW_SYN; OBS T5");
static const sm_rule r_tw_syn_no_listener = SM_RULE("linux.tw.syn-no-listener", S,
    "a new SYN but no listener: the TIME_WAIT answers with an ACK",
    "Linux tcp_v4_rcv() TCP_TW_SYN falls through to TCP_TW_ACK");
static const sm_rule r_tw_syn_old = SM_RULE("linux.tw.syn-old", S,
    "an old duplicate SYN: the TIME_WAIT answers with an ACK",
    "Linux tcp_timewait_state_process()");
static const sm_rule r_close_unread_data = SM_RULE("linux.close.unread-data", S,
    "close() with unread data: RST at once, no TIME_WAIT",
    "Linux __tcp_close(), TCPAbortOnClose; OBS L2");
static const sm_rule r_linger_timeout = SM_RULE("linux.linger.timeout", S,
    "SO_LINGER timeout: close() returns 0 and the connection goes on in "
    "FIN_WAIT_1",
    "Linux sk_stream_wait_close(); OBS L3");
static const sm_rule r_linger_nonblock = SM_RULE("linux.linger.nonblock", S,
    "O_NONBLOCK does not shorten SO_LINGER",
    "Linux __tcp_close() uses sk_lingertime; OBS L3");
static const sm_rule r_exit_close = SM_RULE("linux.exit.close", S,
    "process exit: no lingering, each socket closes as with SO_LINGER off",
    "Linux inet_release(), PF_EXITING; OBS L5");
static const sm_rule r_tw_cap = SM_RULE("linux.tw.cap", S,
    "tcp_max_tw_buckets reached: the socket closes without TIME_WAIT, "
    "its port is free at once",
    "Linux inet_twsk_alloc(); OBS T3");
static const sm_rule r_tw_local = SM_RULE("linux.tw.local", S,
    "no TIME_WAIT toward an own address (Linux has no such shortcut)",
    "Linux tcp_time_wait()");
static const sm_rule r_connect_on_listener = SM_RULE("linux.connect.on-listener", S,
    "connect() on a listening socket: EISCONN",
    "Linux inet_stream_connect(): state is not CLOSE");
static const sm_rule r_shutdown_listener = SM_RULE("linux.shutdown.listener", S,
    "shutdown() of a listener: 0; SHUT_RD or SHUT_RDWR disconnects it (no "
    "more connections, the unaccepted ones reset, accept() EINVAL, the port "
    "stays bound), SHUT_WR does nothing",
    "Linux inet_shutdown(): TCP_LISTEN with RCV_SHUTDOWN -> "
    "tcp_disconnect()");
static const sm_rule r_send_connecting = SM_RULE("linux.send.connecting", S,
    "send() before the handshake ends waits for it (non-blocking: EAGAIN)",
    "Linux tcp_sendmsg_locked() -> sk_stream_wait_connect()");
static const sm_rule r_aq_reset = SM_RULE("linux.accept.reset-queued", S,
    "a connection reset before accept() stays in the accept queue: accept() returns it, closed, and its next call reports the reset",
    "Linux inet_csk_accept() takes the queue head whatever its state; tcp_reset() sets sk_err, tcp_done()");
static const sm_rule r_tw_rst = SM_RULE("linux.tw.rst", S,
    "an in-window RST ends TIME_WAIT unless tcp_rfc1337=1",
    "Linux tcp_timewait_state_process(); OBS T6");
static const sm_rule r_tcp_unspec = SM_RULE("linux.connect.unspec-tcp", S,
    "connect(AF_UNSPEC): the socket is disconnected whatever its state (a "
    "connection is reset, a listener stops) and may connect again",
    "net/ipv4/af_inet.c __inet_stream_connect -> tcp_disconnect(), "
    "net/ipv4/tcp.c");
static const sm_rule r_udp_unspec = SM_RULE("linux.connect.unspec-udp", O,
    "connect(AF_UNSPEC) on UDP: the association is dissolved; a port not "
    "bound by number (bind to port 0, autobind) is released",
    "net/ipv4/udp.c __udp_disconnect(), no SOCK_BINDPORT_LOCK; 6.18, "
    "scenarios/lang/connect-unspec.scn");
static const sm_rule r_udp_sendto_connected = SM_RULE("linux.connect.sendto-connected-udp", S,
    "sendto() with an address on a connected UDP socket: sent to that "
    "address",
    "net/ipv4/udp.c udp_sendmsg(), msg_name first");
static const sm_rule r_send_unconnected = SM_RULE("linux.send.unconnected", S,
    "send() on a TCP socket that is not connected and not connecting (never "
    "connected, or its connect failed): EPIPE",
    "net/ipv4/tcp.c tcp_sendmsg_locked() -> sk_stream_wait_connect(): a "
    "state other than SYN_SENT/SYN_RECV is -EPIPE; "
    "scenarios/linux/send-unconnected.scn (6.18, host)");
static const sm_rule r_failed_connect_eof = SM_RULE("linux.recv.after-failed-connect", S,
    "recv() after a failed connect() (refused, timed out), once the error "
    "was reported: 0, end of stream",
    "tcp_done() sets sk_shutdown = SHUTDOWN_MASK; tcp_recvmsg_locked() "
    "stops with 0 on RCV_SHUTDOWN before its TCP_CLOSE -ENOTCONN check; "
    "scenarios/linux/recv-after-refused.scn (6.18, host)");
static const sm_rule r_fin_eof_first = SM_RULE("linux.recv.eof-before-error", S,
    "recv() after the peer's FIN, with an error pending from a later RST: "
    "0, end of stream; the error stays for send() and SO_ERROR",
    "tcp_fin() sets SOCK_DONE, which tcp_recvmsg_locked() tests before "
    "sk_err; scenarios/linux/finwait2-takeover.scn (6.18, host)");
static const sm_rule r_connect_any = SM_RULE("linux.connect.to-wildcard", T,
    "connect() to the wildcard address goes to this host: IPv4 to the "
    "bound source address or 127.0.0.1 (ip_route_connect(): no daddr -> "
    "saddr, else INADDR_LOOPBACK), IPv6 to ::1 (tcp_v6_connect())",
    "selftest sk_connect_zero_addr.c");
static const sm_rule r_v4_on_v6 = SM_RULE("linux.connect.v4-on-inet6", O,
    "an IPv4 sockaddr given to an AF_INET6 socket: TCP refuses it as "
    "shorter than a sockaddr_in6 (EINVAL, tcp_v6_connect()); UDP takes it "
    "as v4-mapped (ip6_datagram_connect(), udpv6_sendmsg()), except on an "
    "IPV6_V6ONLY socket (EAFNOSUPPORT)",
    "6.18 with host, scenarios/lang/mapped-dest.scn");
static const sm_rule r_sockopt_no_port_missing = SM_RULE("linux.sockopt.bind-address-no-port-missing", S,
    "IP_BIND_ADDRESS_NO_PORT arrived in Linux 4.2: ENOPROTOOPT before",
    "commit 90c337da1524");
static const sm_rule r_sockopt_no_port = SM_RULE("linux.sockopt.bind-address-no-port", O,
    "IP_BIND_ADDRESS_NO_PORT: bind(addr, 0) keeps the address and leaves "
    "the port to connect()",
    "Linux __inet_bind(), BIND_NO_CAP_NET_BIND_SERVICE; shared/reference "
    "linux.md OBS C5; scenarios/lang/port-options.scn with host");
static const sm_rule r_sockopt_range_missing = SM_RULE("linux.sockopt.local-port-range-missing", S,
    "IP_LOCAL_PORT_RANGE arrived in Linux 6.3: ENOPROTOOPT before",
    "commit 91d0b78c5177");
static const sm_rule r_sockopt_range_inval = SM_RULE("linux.sockopt.local-port-range-inval", T,
    "IP_LOCAL_PORT_RANGE with LO above HI: EINVAL",
    "Linux do_ip_setsockopt(); selftest ip_local_port_range.c");
static const sm_rule r_sockopt_range = SM_RULE("linux.sockopt.local-port-range", T,
    "IP_LOCAL_PORT_RANGE narrows this socket's ephemeral range: each "
    "bound inside the host's range replaces it, 0 leaves it",
    "Linux inet_sk_get_local_port_range(); selftest ip_local_port_range.c");
static const sm_rule r_tw_data = SM_RULE("linux.tw.data", S,
    "new data reaching TIME_WAIT is acknowledged and the entry stays (an orphaned FIN_WAIT_2 answers it with a RST)",
    "Linux tcp_timewait_state_process(): TCP_TW_ACK; TCP_TW_RST in the FIN_WAIT2 substate");

/* ---- address overlap (§0.1, observed matrix on 6.18) ------------------- */

enum lx_kind {
    LX_V4,        /* AF_INET, or a v4-mapped address on AF_INET6 */
    LX_V6_DUAL,   /* AF_INET6 :: with IPV6_V6ONLY=0: both stacks */
    LX_V6_ANY6,   /* AF_INET6 :: with IPV6_V6ONLY=1 */
    LX_V6_ADDR    /* a specific IPv6 address (forces V6ONLY, __inet6_bind) */
};

static enum lx_kind kind_of(int family, const sm_addr *a, bool v6only)
{
    if (family == 4 || sm__addr_is_v4mapped(a))
        return LX_V4;
    if (sm__addr_is_any(a))
        return v6only ? LX_V6_ANY6 : LX_V6_DUAL;
    return LX_V6_ADDR;
}

static bool v4_overlap(const sm_addr *a, const sm_addr *b)
{
    uint32_t x = 0, y = 0;
    sm__addr_v4(a, &x);
    sm__addr_v4(b, &y);
    return x == 0 || y == 0 || x == y;
}

/* N asks for n_addr; E holds e_addr (its current local address: a
 * wildcard-bound socket becomes specific once connect() picks a source,
 * tcp_v4_connect()). */
/* E is an AF_INET6 socket that is not V6ONLY and holds a specific IPv6
 * address that bind() did not name: connect() chose it (tcp_v6_connect()
 * sets sk_v6_rcv_saddr and inet_rcv_saddr = LOOPBACK4_IPV6 and leaves
 * sk_ipv6only alone; only __inet6_bind() forces it), or it is a
 * connection accepted through a wildcard listener (tcp_v6_syn_recv_sock()).
 * A failed connect() keeps that address: tcp_done() -> tcp_set_state(
 * TCP_CLOSE) resets neither; only connect()'s own failure paths
 * (inet_bhash2_reset_saddr()) and tcp_disconnect() without
 * SOCK_BINDADDR_LOCK (inet_reset_saddr()) do. */
static bool dual_chosen(const sm_sock_view *e)
{
    return e->family == 6 && !e->at_bind.v6only && !e->addr_named &&
           !sm__addr_is_any(&e->local_addr) && !sm__addr_is_v4mapped(&e->local_addr);
}

static const sm_rule r_dual_chosen = SM_RULE("linux.bind.v6-chosen-dual", S,
    "an AF_INET6 socket whose IPv6 address connect() chose (bind() named "
    "none) stays dual-stack, its IPv4 address LOOPBACK4_IPV6: an AF_INET "
    "wildcard bind overlaps it (also after a connect that failed unwaited: "
    "tcp_done() keeps the address)",
    "Linux tcp_v6_connect(), tcp_v6_syn_recv_sock(), ipv4_rcv_saddr_equal()");

static bool overlap(const sm_sock_view *n, const sm_addr *n_addr,
                    const sm_sock_view *e)
{
    enum lx_kind kn = kind_of(n->family, n_addr, n->now.v6only);
    enum lx_kind ke = kind_of(e->family, &e->local_addr, e->at_bind.v6only);
    if (kn == LX_V6_DUAL || ke == LX_V6_DUAL)
        return true; /* :: without V6ONLY overlaps everything */
    if (kn == LX_V4 && ke == LX_V4)
        return v4_overlap(n_addr, &e->local_addr);
    if (kn == LX_V4 && n->family == 4 && dual_chosen(e)) {
        uint32_t a = 0;
        sm__addr_v4(n_addr, &a);
        return a == 0; /* 0.0.0.0 matches E's LOOPBACK4_IPV6 */
    }
    if (kn == LX_V4 || ke == LX_V4)
        return false; /* v4 never meets a v6-only socket */
    if (kn == LX_V6_ANY6 || ke == LX_V6_ANY6)
        return true; /* :: V6ONLY overlaps every non-mapped v6 address */
    return sm__addr_eq(n_addr, &e->local_addr);
}

/* ---- conflict decisions ----------------------------------------------- */

enum lx_mode {
    LX_EXPLICIT,   /* bind(port), listen re-check: relax=true */
    LX_AUTOBIND,   /* inet_csk_find_open_port first pass: relax=false */
    LX_AUTOREUSE   /* ip_autobind_reuse=1 second pass */
};

static const sm_rule r_no_overlap = SM_RULE("linux.bind.no-overlap", S,
    "no owner of this port overlaps the address (different specific "
    "addresses, or IPv4 vs a V6ONLY socket)",
    "Linux inet_rcv_saddr_equal()");
static const sm_rule r_free = SM_RULE("linux.bind.free", S,
    "no other socket holds this port",
    "");
static const sm_rule r_ra_both = SM_RULE("linux.bind.ra-both", S,
    "both sockets set SO_REUSEADDR and the existing one is not listening",
    "Linux inet_bind_conflict(), net/ipv4/inet_connection_sock.c");
static const sm_rule r_rp_both = SM_RULE("linux.bind.rp-both", S,
    "both sockets set SO_REUSEPORT and belong to the same user (or the "
    "existing one is a TIME_WAIT entry)",
    "Linux inet_bind_conflict(), sk_reuseport");
static const sm_rule r_tcp_conflict = SM_RULE("linux.bind.conflict", S,
    "an overlapping socket holds the port and neither exception applies: "
    "SO_REUSEADDR needs it on both and no listener; SO_REUSEPORT needs "
    "it on both and the same user",
    "Linux inet_bind_conflict()");
static const sm_rule r_tcp_conflict38 = SM_RULE("linux.bind.conflict-3-8", S,
    "an overlapping socket holds the port; only SO_REUSEADDR on both "
    "with no listener lets them share",
    "Linux 3.8 inet_csk_bind_conflict()");
static const sm_rule r_listen_conflict = SM_RULE("linux.listen.conflict", S,
    "listen() re-checks the port: an overlapping owner shares it only "
    "through SO_REUSEADDR on both with no listener, or SO_REUSEPORT on "
    "both and the same user",
    "Linux inet_csk_listen_start() -> get_port()");
static const sm_rule r_udp_ra = SM_RULE("linux.bind.udp-ra", S,
    "UDP: both sockets set SO_REUSEADDR, which on UDP shares the port",
    "Linux udp_lib_lport_inuse(), net/ipv4/udp.c");
static const sm_rule r_udp_rp = SM_RULE("linux.bind.udp-rp", S,
    "UDP: both sockets set SO_REUSEPORT and belong to the same user",
    "Linux udp_lib_lport_inuse()");
static const sm_rule r_udp_conflict = SM_RULE("linux.bind.udp-conflict", S,
    "UDP: an overlapping socket holds the port without SO_REUSEADDR on "
    "both (or SO_REUSEPORT on both, same user)",
    "Linux udp_lib_lport_inuse()");
static const sm_rule r_auto_busy = SM_RULE("linux.bind.auto-busy", S,
    "bind(port 0) takes only a port no overlapping socket holds, "
    "whatever the options",
    "Linux inet_csk_find_open_port(), relax=false");

/* Does E stop N?  Sets *why to the deciding rule either way. */
static bool conflicts_walk(const struct sm__linux_gen *g, const sm_sock_view *n,
                      const sm_addr *n_addr, const sm_sock_view *e,
                      enum lx_mode mode, bool latched, const sm_rule **why)
{
    if (!overlap(n, n_addr, e)) {
        *why = &r_no_overlap;
        return false;
    }
    /* Both sockets' options are read as they are now (inet_bind_conflict()
     * reads sk2->sk_reuse and sk2->sk_reuseport; a TIME_WAIT entry carries
     * the closing socket's, inet_twsk_alloc()).  What makes a change after
     * bind() look "latched" is the bucket's fast path, decided before this
     * (bucket_fast_path()).  Without bucket state from the engine the model
     * falls back to the options as latched at bind(). */
    const sm_opts *eo = latched ? &e->at_bind : &e->now;
    bool n_ra = n->now.reuseaddr, e_ra = eo->reuseaddr;
    bool n_rp = g->has_reuseport && n->now.reuseport;
    bool e_rp = g->has_reuseport && eo->reuseport;
    bool same_user = n->uid == e->uid;

    if (n->proto == SM_UDP) {
        /* UDP applies one rule to explicit and automatic binds alike
         * (udp_lib_get_port() collects ports through udp_lib_lport_inuse()). */
        if (n_ra && e_ra) {
            *why = &r_udp_ra;
            return false;
        }
        if (n_rp && e_rp && same_user) {
            *why = &r_udp_rp;
            return false;
        }
        *why = &r_udp_conflict;
        return true;
    }
    if (mode == LX_AUTOBIND) {
        *why = &r_auto_busy;
        return true;
    }
    bool e_listen = e->state == SM_LISTEN;
    if (mode == LX_AUTOREUSE) {
        /* Second pass with ip_autobind_reuse=1: SO_REUSEADDR sharing only, and
         * never for two SO_REUSEPORT sockets of one user ("forbid more than
         * one SO_REUSEADDR+SO_REUSEPORT socket per euid", selftest
         * reuseaddr_ports_exhausted). */
        if (n_ra && e_ra && !e_listen &&
            !(n_rp && e_rp && (e->time_wait || same_user))) {
            *why = &r_ra_both;
            return false;
        }
        *why = &r_auto_busy;
        return true;
    }
    if (n_ra && e_ra && !e_listen) {
        *why = &r_ra_both;
        return false;
    }
    if (n_rp && e_rp && (e->time_wait || same_user)) {
        *why = &r_rp_both;
        return false;
    }
    *why = g->has_reuseport ? &r_tcp_conflict : &r_tcp_conflict38;
    return true;
}

static bool conflicts(const struct sm__linux_gen *g, const sm_sock_view *n,
                      const sm_addr *n_addr, const sm_sock_view *e,
                      enum lx_mode mode, bool latched, const sm_rule **why)
{
    if (!conflicts_walk(g, n, n_addr, e, mode, latched, why))
        return false;
    if (n->family == 4 && dual_chosen(e))
        *why = &r_dual_chosen; /* the overlap nobody expects: name it */
    return true;
}

/* The first conflicting owner by age, for a deterministic culprit. */
static int first_conflict(const struct sm__linux_gen *g, const sm_bind_ctx *c,
                          enum lx_mode mode, const sm_rule **why)
{
    if (c->n_owners == 0) {
        *why = &r_free;
        return -1;
    }
    int found = -1;
    const sm_rule *ok_why = NULL, *bad_why = NULL;
    for (size_t i = 0; i < c->n_owners; i++) {
        const sm_rule *w;
        if (conflicts(g, &c->self, &c->self.bound_addr, &c->owners[i], mode,
                      c->port == NULL, &w)) {
            if (found < 0 || c->owners[i].seq < c->owners[found].seq) {
                found = (int)i;
                bad_why = w;
            }
        } else if (!ok_why || w != &r_no_overlap) {
            ok_why = w; /* prefer naming the sharing rule over "no overlap" */
        }
    }
    *why = found >= 0 ? bad_why : (ok_why ? ok_why : &r_free);
    return found;
}

/* ---- the bind bucket's fast path (tb->fastreuse, tb->fastreuseport) ----
 *
 * inet_csk_get_port() skips the conflict walk when the port's bucket says
 * every owner so far shares it: fastreuse > 0 and N has SO_REUSEADDR and is
 * not listening, or sk_reuseport_match(): fastreuseport ANY/STRICT, N has
 * SO_REUSEPORT and the uid the bucket remembers (STRICT: and an address
 * that matches the remembered one).  After a successful get_port(),
 * inet_csk_update_fastreuse() updates the caches; they are never recomputed
 * when owners leave, only dropped with the bucket when the port has no
 * owner (sockets or TIME_WAIT) left.  So a bucket remembers sockets that are
 * gone, and options changed after bind() do not clear it.  A bucket made by
 * connect() (__inet_hash_connect()) has fastreuse = fastreuseport = -1; the
 * engine stores nothing for it, which reads here as "no state, owners
 * present". */
enum { LX_FRP_ANY = 1, LX_FRP_STRICT = 2 };

typedef struct lx_bucket {
    sm_addr fast_addr;    /* as bound */
    int8_t made;          /* 1: bind()/listen() wrote this state */
    int8_t fastreuse;     /* -1 (made by connect), 0, 1 */
    int8_t fastreuseport; /* -1, 0, LX_FRP_ANY, LX_FRP_STRICT */
    uint8_t fast_v6only;
    uint8_t fast_family;  /* 4 or 6 */
    uint32_t fastuid;
    uint32_t unused;      /* always 0 (layout: bench/NOTES.md) */
} lx_bucket;

_Static_assert(sizeof(lx_bucket) == sizeof(sm_port_state),
               "the Linux bind bucket is the engine's per-port state");

/* 6.18: when a socket leaves a port whose remaining owners were all
 * auto-bound by connect() (SOCK_CONNECT_BIND, tw_connect_bind), the bucket
 * goes back to fastreuse = fastreuseport = -1 (inet_bind2_bucket_destroy(),
 * inet_bind_bucket_destroy(); OBS C4 "after closing the bind() owner").
 * Since a bucket only leaves -1 through a socket that is not connect()'s,
 * "every owner is connect()'s" is exactly when that reset has happened. */
static bool only_connect_owners(const sm_bind_ctx *c)
{
    for (size_t i = 0; i < c->n_owners; i++)
        if (c->owners[i].how != SM_BOUND_CONNECT)
            return false;
    return c->n_owners > 0;
}

static lx_bucket bucket_load(const struct sm__linux_gen *g, const sm_bind_ctx *c)
{
    lx_bucket tb;
    memcpy(&tb, c->port, sizeof tb);
    if (!tb.made || (g->connect_bind_reset && only_connect_owners(c))) {
        /* Owners but no state: the bucket was made by connect(). */
        tb.fastreuse = -1;
        tb.fastreuseport = -1;
    }
    return tb;
}

static void bucket_store(const sm_bind_ctx *c, const lx_bucket *tb)
{
    /* Member by member (bench/NOTES.md). */
    unsigned char *p = (unsigned char *)c->port;
    memset(p, 0, sizeof *c->port);
#define LX_PUT(m) memcpy(p + offsetof(lx_bucket, m), &tb->m, sizeof tb->m)
    LX_PUT(made);
    LX_PUT(fastreuse);
    LX_PUT(fastreuseport);
    LX_PUT(fast_v6only);
    LX_PUT(fast_family);
    LX_PUT(fastuid);
    LX_PUT(fast_addr);
#undef LX_PUT
}

/* sk_rcv_saddr of a socket bound to a: v6 sockets keep the v4 part of a
 * mapped address, 0 for ::, and LOOPBACK4_IPV6 (127.0.0.6) for any other v6
 * address (__inet6_bind()). */
static uint32_t rcv_saddr4(int family, const sm_addr *a)
{
    uint32_t v = 0;
    if (family == 4 || sm__addr_is_v4mapped(a)) {
        sm__addr_v4(a, &v);
        return v;
    }
    return sm__addr_is_any(a) ? 0 : 0x7f000006u;
}

/* ipv6_only_sock(): IPV6_V6ONLY, which __inet6_bind() also forces on for a
 * specific (not v4-mapped) IPv6 address. */
static bool eff_v6only(int family, const sm_addr *a, bool v6only)
{
    return family == 6 &&
           (v6only || !(sm__addr_is_any(a) || sm__addr_is_v4mapped(a)));
}

/* ipv4_rcv_saddr_equal() / ipv6_rcv_saddr_equal() with sk1 = the bucket's
 * remembered socket (its wildcard matches: match_sk1_wildcard = true) and
 * sk2 = N (match_sk2_wildcard = false), as sk_reuseport_match() calls them. */
static bool strict_addr_match(const lx_bucket *tb, int n_family,
                              const sm_addr *n_addr, bool n_v6only)
{
    uint32_t a4 = rcv_saddr4(tb->fast_family, &tb->fast_addr);
    uint32_t b4 = rcv_saddr4(n_family, n_addr);
    if (tb->fast_family == 4)
        return !n_v6only && (a4 == b4 || a4 == 0);
    bool a_mapped = sm__addr_is_v4mapped(&tb->fast_addr);
    bool b_mapped = n_family == 4 || sm__addr_is_v4mapped(n_addr);
    if (a_mapped && b_mapped)
        return !n_v6only && (a4 == b4 || a4 == 0);
    bool a_any = sm__addr_is_any(&tb->fast_addr);
    bool b_any = n_family == 6 && sm__addr_is_any(n_addr);
    if (a_any && b_any)
        return true;
    if (a_any && !(tb->fast_v6only && b_mapped))
        return true;
    return n_family == 6 && sm__addr_eq(&tb->fast_addr, n_addr);
}

static bool reuseport_match(const struct sm__linux_gen *g, const lx_bucket *tb,
                            const sm_sock_view *n, const sm_addr *n_addr)
{
    if (!g->has_reuseport || tb->fastreuseport <= 0 || !n->now.reuseport ||
        tb->fastuid != n->uid)
        return false;
    if (tb->fastreuseport == LX_FRP_ANY)
        return true;
    return strict_addr_match(tb, n->family, n_addr,
                             eff_v6only(n->family, n_addr, n->now.v6only));
}

/* The bucket of a port that N joins or holds, as one decision reads it:
 * loaded once, with the answer of sk_reuseport_match() for N, which both
 * the fast path and the update after it ask. */
typedef struct lx_seen {
    lx_bucket tb;
    bool rp_match;
} lx_seen;

static void bucket_read(const struct sm__linux_gen *g, const sm_bind_ctx *c, lx_seen *s)
{
    s->tb = bucket_load(g, c);
    s->rp_match = reuseport_match(g, &s->tb, &c->self, &c->self.bound_addr);
}

/* inet_csk_update_fastreuse(): after N took the port.  old: the bucket as
 * the decision read it; NULL when N is the port's first owner (a fresh
 * bucket). */
static void bucket_update(const struct sm__linux_gen *g, const sm_bind_ctx *c,
                          const lx_seen *old, bool listening)
{
    const sm_sock_view *n = &c->self;
    bool fresh = old == NULL;
    bool reuse = n->now.reuseaddr && !listening;
    bool rp = g->has_reuseport && n->now.reuseport;
    lx_bucket tb;
    if (fresh) {
        memset(&tb, 0, sizeof tb);
        tb.fastreuse = reuse;
        tb.fastreuseport = 0;
    } else {
        tb = old->tb;
        if (!reuse)
            tb.fastreuse = 0;
    }
    tb.made = 1;
    if (rp && (fresh || !old->rp_match)) {
        tb.fastreuseport = fresh ? LX_FRP_ANY : LX_FRP_STRICT;
        tb.fastuid = n->uid;
        tb.fast_addr = n->bound_addr;
        tb.fast_family = (uint8_t)n->family;
        tb.fast_v6only = eff_v6only(n->family, &n->bound_addr, n->now.v6only);
    } else if (!rp) {
        tb.fastreuseport = 0;
    }
    bucket_store(c, &tb);
}

static const sm_rule r_fast_reuse = SM_RULE("linux.bind.fast-reuse", S,
    "the port's bind bucket is marked fastreuse (every socket that "
    "joined it had SO_REUSEADDR and was not listening) and this one has "
    "SO_REUSEADDR: no conflict walk",
    "Linux inet_csk_get_port(), tb->fastreuse");
static const sm_rule r_fast_reuseport = SM_RULE("linux.bind.fast-reuseport", S,
    "the port's bind bucket remembers an SO_REUSEPORT socket of this "
    "user (fastreuseport) that this one matches: no conflict walk, "
    "whoever holds the port now",
    "Linux inet_csk_get_port(), sk_reuseport_match()");

/* The fast path of inet_csk_get_port() for an explicit port (TCP only;
 * udp_lib_get_port() has none), for a port that has owners.  Returns the
 * rule when it applies. */
/* 6.18 (the generation with SOCK_CONNECT_BIND): an owner that cleared
 * SO_REUSEADDR after bind() keeps a new SO_REUSEADDR socket out - the
 * conflict walk reads its current sk_reuse - although the bucket still
 * says fastreuse [O: 6.18 with host, docs/gen-probe.md O1; which change
 * turned the fast path off for it is not identified, I]. */
static bool reuse_cleared_late(const struct sm__linux_gen *g, const sm_bind_ctx *c)
{
    if (!g->connect_bind_reset)
        return false;
    for (size_t i = 0; i < c->n_owners; i++)
        if (!c->owners[i].time_wait && !c->owners[i].now.reuseaddr)
            return true;
    return false;
}

static const sm_rule *bucket_fast_path(const struct sm__linux_gen *g, const lx_seen *s,
                                    const sm_bind_ctx *c, bool listening)
{
    if (s->tb.fastreuse > 0 && c->self.now.reuseaddr && !listening &&
        !reuse_cleared_late(g, c))
        return &r_fast_reuse;
    if (s->rp_match)
        return &r_fast_reuseport;
    return NULL;
}

/* The engine keeps the bucket's caches for TCP ports (udp_lib_get_port()
 * has no fast path). */
static bool has_bucket(const sm_bind_ctx *c)
{
    return c->port && c->self.proto == SM_TCP;
}

static const sm_rule r_priv = SM_RULE("linux.bind.priv", S,
    "ports below net.ipv4.ip_unprivileged_port_start (1024) need "
    "CAP_NET_BIND_SERVICE",
    "Linux __inet_bind(), af_inet.c");
static const sm_rule r_mapped_v6only = SM_RULE("linux.bind.mapped-v6only", S,
    "a V6ONLY socket cannot bind a v4-mapped address",
    "Linux __inet6_bind()");

static const sm_rule r_conn_end_auto_port = SM_RULE("linux.conn.end-frees-auto-port", S,
    "when a connection ends (refused, reset, timed out) on an open socket, "
    "a port bind() chose (port 0) is released like connect()'s; only a "
    "port bind() named stays",
    "Linux tcp_set_state(TCP_CLOSE): inet_put_port() unless SOCK_BINDPORT_LOCK, "
    "which __inet_bind()/__inet6_bind() set only for a non-zero port");
static const sm_rule r_conn_end_name = SM_RULE("linux.conn.end-keeps-name", S,
    "a socket whose connection ended still reports the address and port it "
    "had (getsockname), though the port is free",
    "Linux inet_put_port() clears inet_num, not inet_sport; tcp_done() keeps "
    "the source address; inet_getname() reads both");
static const sm_rule r_blocking_fail = SM_RULE("linux.connect.blocking-fail-disconnects", S,
    "a blocking connect() that fails while it waits disconnects the socket: "
    "the source address it chose goes back to the wildcard (unless bind() "
    "named one) and the socket is not shut down (recv: ENOTCONN)",
    "Linux __inet_stream_connect(): sock_error -> tcp_disconnect(): "
    "inet_reset_saddr() without SOCK_BINDADDR_LOCK, sk_shutdown = 0");
static const sm_rule r_bind_order = SM_RULE("linux.bind.check-order", S,
    "bind() checks the address family, the local address (AF_INET only) "
    "and a privileged port before \"already bound\" (EINVAL); AF_INET6 "
    "checks the local address after it",
    "Linux __inet_bind(), __inet6_bind(): inet_port_requires_bind_service() "
    "before the sk_state/inet_num test");

/* bind()'s first checks (sm_tcp_rules.bind_steps4/6): __inet_bind() tests
 * the family, the address, the port's privilege, then "already bound";
 * __inet6_bind() the family, the privilege, "already bound", then the
 * address (3.8 and 6.x alike). */
static const uint8_t bind_steps4[] = {SM_BIND_STEP_FAMILY, SM_BIND_STEP_ADDR,
                                      SM_BIND_STEP_PRIV, SM_BIND_STEP_BOUND,
                                      SM_BIND_STEP_END};
static const uint8_t bind_steps6[] = {SM_BIND_STEP_FAMILY, SM_BIND_STEP_PRIV,
                                      SM_BIND_STEP_BOUND, SM_BIND_STEP_ADDR,
                                      SM_BIND_STEP_END};

sm_verdict sm__linux_bind_priv(const sm_profile *self, const sm_bind_ctx *c)
{
    (void)self;
    if (c->self.port < c->tun[SM_TUN_UNPRIV_PORT] && !c->self.privileged)
        return sm__fail(SM_EACCES, &r_priv, -1);
    return sm__ok(&r_priv);
}

sm_verdict sm__linux_bind(const sm_profile *self, const sm_bind_ctx *c)
{
    const struct sm__linux_gen *g = self->data;
    const sm_sock_view *n = &c->self;
    /* inet_port_requires_bind_service(): __inet6_bind() checks it first,
     * before the address and the bind table (found by gen --check: udp6
     * V6ONLY binding [::ffff:a.b.c.d]:80 unprivileged is EACCES). */
    if (n->port < c->tun[SM_TUN_UNPRIV_PORT] && !n->privileged)
        return sm__fail(SM_EACCES, &r_priv, -1);
    if (n->family == 6 && n->now.v6only && sm__addr_is_v4mapped(&n->bound_addr))
        return sm__fail(SM_EINVAL, &r_mapped_v6only, -1);
    lx_seen seen;
    const lx_seen *old = NULL; /* no owner: N makes a fresh bucket */
    if (has_bucket(c) && c->n_owners > 0) {
        bucket_read(g, c, &seen);
        old = &seen;
    }
    const sm_rule *why = old ? bucket_fast_path(g, old, c, false) : NULL;
    if (!why) {
        int k = first_conflict(g, c, LX_EXPLICIT, &why);
        if (k >= 0)
            return sm__fail(SM_EADDRINUSE, why, k);
    }
    if (has_bucket(c))
        bucket_update(g, c, old, false);
    return sm__ok(why);
}

sm_verdict sm__linux_listen(const sm_profile *self, const sm_bind_ctx *c)
{
    const struct sm__linux_gen *g = self->data;
    /* inet_csk_listen_start() sets LISTEN and calls get_port() again; the
     * rule is the explicit-port one, with N now listening (which matters
     * only when another socket re-checks against it later). */
    lx_seen seen; /* N holds the port: its bucket exists */
    if (has_bucket(c))
        bucket_read(g, c, &seen);
    const sm_rule *why = has_bucket(c) && c->n_owners > 0 ? bucket_fast_path(g, &seen, c, true)
                                                       : NULL;
    if (!why) {
        int k = first_conflict(g, c, LX_EXPLICIT, &why);
        if (k >= 0)
            return sm__fail(SM_EADDRINUSE, &r_listen_conflict, k);
    }
    if (has_bucket(c))
        bucket_update(g, c, &seen, true);
    return sm__ok(c->n_owners ? why
                              : &r_listen_free);
}

/* ---- ephemeral ports --------------------------------------------------- */

static bool port_free(const struct sm__linux_gen *g, sm_pick_ctx *pc,
                      uint16_t port, enum lx_mode mode)
{
    sm_bind_ctx bc;
    const sm_rule *why;
    sm__pick_port_ctx(pc, port, &bc);
    return first_conflict(g, &bc, mode, &why) < 0;
}

/* Modern inet_csk_find_open_port(): a random odd offset in [low, high),
 * step 2, then the even ports (connect() prefers even ones: opposite
 * parity, __inet_hash_connect()); with SO_REUSEADDR the lower half of the
 * range first.  OBS C6: 200/200 odd; with RA all below the middle. */
static bool scan_parity(const struct sm__linux_gen *g, sm_pick_ctx *pc,
                        uint32_t low, uint32_t high, enum lx_mode mode,
                        uint16_t *out)
{
    uint32_t remaining = high - low;
    if (remaining > 1)
        remaining &= ~1u;
    if (remaining == 0)
        return false;
    uint32_t offset = (uint32_t)(sm__pick_rand(pc) % remaining) | 1u;
    for (;;) {
        uint32_t port = low + offset;
        for (uint32_t i = 0; i < remaining; i += 2, port += 2) {
            if (port >= high)
                port -= remaining;
            if (port_free(g, pc, (uint16_t)port, mode)) {
                *out = (uint16_t)port;
                return true;
            }
        }
        offset--;
        if (offset & 1u)
            return false;
    }
}

static bool scan_linear(const struct sm__linux_gen *g, sm_pick_ctx *pc,
                        uint32_t low, uint32_t high, enum lx_mode mode,
                        uint16_t *out)
{
    uint32_t remaining = high - low;
    if (remaining == 0)
        return false;
    uint32_t start = (uint32_t)(sm__pick_rand(pc) % remaining);
    for (uint32_t i = 0; i < remaining; i++) {
        uint32_t port = low + (start + i) % remaining;
        if (port_free(g, pc, (uint16_t)port, mode)) {
            *out = (uint16_t)port;
            return true;
        }
    }
    return false;
}

/* Linux 3.0-3.8 inet_csk_get_port(), port 0: while scanning, remember the
 * port with the fewest owners whose bucket is "fastreuse" (every owner set
 * SO_REUSEADDR and none listens) when the new socket has SO_REUSEADDR and
 * is not listening; when the range is exhausted, fall back to that port,
 * re-checked with the relaxed (explicit-port) rule.  Removed in 4.6
 * (b9470c27607b, "inet: kill smallest_size and smallest_port"). */
static bool scan_linear_smallest(const struct sm__linux_gen *g, sm_pick_ctx *pc,
                                 uint32_t low, uint32_t high, uint16_t *out)
{
    const sm_sock_view *self = sm__pick_self(pc);
    uint32_t remaining = high - low;
    if (remaining == 0)
        return false;
    uint32_t start = (uint32_t)(sm__pick_rand(pc) % remaining);
    bool can_share = self->now.reuseaddr && self->state != SM_LISTEN;
    size_t smallest = SIZE_MAX;
    uint16_t smallest_port = 0;
    for (uint32_t i = 0; i < remaining; i++) {
        uint16_t port = (uint16_t)(low + (start + i) % remaining);
        sm_bind_ctx bc;
        const sm_rule *why;
        sm__pick_port_ctx(pc, port, &bc);
        if (first_conflict(g, &bc, LX_AUTOBIND, &why) < 0) {
            *out = port;
            return true;
        }
        bool fastreuse = can_share;
        for (size_t k = 0; k < bc.n_owners && fastreuse; k++)
            fastreuse = bc.owners[k].at_bind.reuseaddr && bc.owners[k].state != SM_LISTEN;
        if (fastreuse && bc.n_owners < smallest) {
            smallest = bc.n_owners;
            smallest_port = port;
        }
    }
    if (smallest != SIZE_MAX && port_free(g, pc, smallest_port, LX_EXPLICIT)) {
        *out = smallest_port;
        return true;
    }
    return false;
}

static bool scan_tcp(const struct sm__linux_gen *g, sm_pick_ctx *pc,
                     uint32_t low, uint32_t high, enum lx_mode mode,
                     uint16_t *out)
{
    if (!g->bind0_parity)
        return mode == LX_AUTOBIND ? scan_linear_smallest(g, pc, low, high, out)
                                   : scan_linear(g, pc, low, high, mode, out);
    if (sm__pick_self(pc)->now.reuseaddr && high - low > 1) {
        uint32_t half = low + (((high - low) >> 2) << 1);
        return scan_parity(g, pc, low, half, mode, out) ||
               scan_parity(g, pc, half, high, mode, out);
    }
    return scan_parity(g, pc, low, high, mode, out);
}

static const sm_rule r_pick_tcp = SM_RULE("linux.port.pick-tcp", S,
    "bind(port 0): a random odd port of net.ipv4.ip_local_port_range "
    "that no overlapping socket holds (SO_REUSEADDR: lower half first)",
    "Linux inet_csk_find_open_port()");
static const sm_rule r_pick_tcp38 = SM_RULE("linux.port.pick-tcp-3-8", S,
    "bind(port 0): a random start in net.ipv4.ip_local_port_range, then "
    "the next port no overlapping socket holds; when none is free, the "
    "port with the fewest SO_REUSEADDR owners none of which listens",
    "Linux 3.8 inet_csk_get_port(), smallest_size");
static const sm_rule r_pick_reuse = SM_RULE("linux.port.pick-reuse", S,
    "bind(port 0): every port is held; ip_autobind_reuse=1 shares one "
    "with SO_REUSEADDR sockets",
    "Linux inet_csk_find_open_port(), second pass");
static const sm_rule r_pick_udp = SM_RULE("linux.port.pick-udp", S,
    "bind(port 0): a random port of the range that the UDP bind rule "
    "allows",
    "Linux udp_lib_get_port()");
static const sm_rule r_exhausted = SM_RULE("linux.port.exhausted", S,
    "no ephemeral port is free: TCP and UDP bind(0)/listen() fail with "
    "EADDRINUSE",
    "Linux inet_csk_get_port(), udp_lib_get_port(); OBS C4");

/* inet_csk_get_port(port 0) ends like an explicit bind: the chosen port's
 * bucket caches are updated (the engine keeps the copy of the last
 * sm__pick_port_ctx() call, on this port). */
static void pick_commit(const struct sm__linux_gen *g, sm_pick_ctx *pc,
                        uint16_t port)
{
    sm_bind_ctx bc;
    sm__pick_port_ctx(pc, port, &bc);
    if (!bc.port)
        return;
    lx_seen seen;
    if (bc.n_owners > 0)
        bucket_read(g, &bc, &seen);
    bucket_update(g, &bc, bc.n_owners > 0 ? &seen : NULL, bc.self.state == SM_LISTEN);
}

/* The ephemeral range [*low, *high) for socket n: the host's, with each of
 * the socket's IP_LOCAL_PORT_RANGE bounds that falls inside it in its
 * place (inet_sk_get_local_port_range(), net/ipv4/inet_connection_sock.c,
 * 6.3+; selftest ip_local_port_range.c: clamped to the netns range).
 * True when the socket has a range of its own. */
static bool lx_range(const int64_t *tun, const sm_sock_view *n, uint32_t *low,
                     uint32_t *high)
{
    uint32_t lo = (uint32_t)tun[SM_TUN_PORT_LO], hi = (uint32_t)tun[SM_TUN_PORT_HI];
    uint32_t slo = n->now.port_lo, shi = n->now.port_hi;
    if (slo && lo <= slo && slo <= hi)
        lo = slo;
    if (shi && lo <= shi && shi <= hi)
        hi = shi;
    *low = lo;
    *high = hi + 1; /* exclusive */
    return slo || shi;
}

sm_verdict sm__linux_pick_port(const sm_profile *self, sm_pick_ctx *pc, uint16_t *port)
{
    const struct sm__linux_gen *g = self->data;
    const int64_t *tun = sm__pick_tun(pc);
    const sm_sock_view *n = sm__pick_self(pc);
    uint32_t low, high;
    lx_range(tun, n, &low, &high);
    /* __inet6_bind() refuses the address before any port is chosen (found
     * by gen --check: V6ONLY bind [::ffff:127.0.0.1]:0 is EINVAL). */
    if (n->family == 6 && n->now.v6only && sm__addr_is_v4mapped(&n->bound_addr))
        return sm__fail(SM_EINVAL, &r_mapped_v6only, -1);
    if (high <= low)
        return sm__fail(SM_EADDRINUSE, &r_exhausted, -1);
    if (sm__pick_self(pc)->proto == SM_UDP) {
        if (scan_linear(g, pc, low, high, LX_EXPLICIT, port))
            return sm__ok(&r_pick_udp);
        return sm__fail(SM_EADDRINUSE, &r_exhausted, -1);
    }
    if (scan_tcp(g, pc, low, high, LX_AUTOBIND, port)) {
        pick_commit(g, pc, *port);
        return sm__ok(g->bind0_parity ? &r_pick_tcp : &r_pick_tcp38);
    }
    if (g->has_reuseport && tun[SM_TUN_AUTOBIND_REUSE] &&
        scan_tcp(g, pc, low, high, LX_AUTOREUSE, port)) {
        pick_commit(g, pc, *port);
        return sm__ok(&r_pick_reuse);
    }
    return sm__fail(SM_EADDRINUSE, &r_exhausted, -1);
}

/* ---- socket options ---------------------------------------------------- */

sm_verdict sm__linux_setsockopt(const sm_profile *self, const sm_sock_view *s,
                                sm_option opt, int v1, int v2)
{
    const struct sm__linux_gen *g = self->data;
    switch (opt) {
    case SM_SO_REUSEADDR:
        return sm__ok(&r_sockopt_reuseaddr);
    case SM_SO_REUSEPORT:
        if (!g->has_reuseport)
            return sm__fail(SM_ENOPROTOOPT,
                            &r_sockopt_reuseport_3_8, -1);
        return sm__ok(&r_sockopt_reuseport);
    case SM_IPV6_V6ONLY:
        if (s->family != 6)
            return sm__fail(SM_ENOPROTOOPT,
                            &r_sockopt_v6only_on_inet, -1);
        if (s->bound)
            return sm__fail(SM_EINVAL,
                            &r_sockopt_v6only_bound, -1);
        return sm__ok(&r_sockopt_v6only);
    case SM_SO_LINGER:
        return sm__ok(&r_sockopt_linger);
    case SM_IP_BIND_ADDRESS_NO_PORT:
        if (!g->has_bind_no_port)
            return sm__fail(SM_ENOPROTOOPT, &r_sockopt_no_port_missing, -1);
        return sm__ok(&r_sockopt_no_port);
    case SM_IP_LOCAL_PORT_RANGE:
        if (!g->has_port_range)
            return sm__fail(SM_ENOPROTOOPT, &r_sockopt_range_missing, -1);
        if (v1 != 0 && v2 != 0 && v1 > v2)
            return sm__fail(SM_EINVAL, &r_sockopt_range_inval, -1);
        return sm__ok(&r_sockopt_range);
    case SM_SO_REUSEPORT_LB:
    case SM_SO_EXCLUSIVEADDRUSE:
    case SM_SO_EXCLBIND:
    default:
        return sm__fail(SM_ENOPROTOOPT,
                        &r_sockopt_unknown,
                        -1);
    }
}

/* ---- connections ------------------------------------------------------- */

static const sm_rule r_conn_ok = SM_RULE("linux.connect.tuple-free", S,
    "the 4-tuple is unique: connect() proceeds",
    "Linux __inet_check_established()");
static const sm_rule r_conn_clash = SM_RULE("linux.connect.tuple-in-use", S,
    "another connection already uses this 4-tuple: EADDRNOTAVAIL",
    "Linux __inet_check_established(); OBS C1");
static const sm_rule r_conn_tw_ts = SM_RULE("linux.connect.tuple-time-wait-ts", S,
    "the 4-tuple is held by a TIME_WAIT entry that saw timestamps: "
    "connect() takes it over",
    "Linux tcp_twsk_unique() with twp == NULL; OBS C2");
static const sm_rule r_conn_tw_nots = SM_RULE("linux.connect.tuple-time-wait-no-ts", S,
    "the 4-tuple is held by a TIME_WAIT entry without timestamps: "
    "EADDRNOTAVAIL",
    "Linux tcp_twsk_unique(); OBS C2 with tcp_timestamps=0");
static const sm_rule r_conn_fw2_tw = SM_RULE("linux.connect.tuple-fin-wait-2-ts", S,
    "the 4-tuple is held by an orphaned FIN_WAIT_2 connection, which Linux "
    "keeps as a timewait socket (substate FIN_WAIT2) while tcp_fin_timeout "
    "is at most 60 s; with timestamps seen, connect() takes it over",
    "Linux tcp_close() and tcp_rcv_state_process() -> tcp_time_wait(sk, "
    "TCP_FIN_WAIT2, tmo); tcp_twsk_unique() with twp == NULL; "
    "scenarios/linux/finwait2-takeover.scn (6.18, host)");
static const sm_rule r_conn_udp = SM_RULE("linux.connect.udp", S,
    "UDP connect() does not check 4-tuple uniqueness",
    "Linux ip4_datagram_connect(); OBS C7");

static const sm_rule r_conn_v6only_mapped = SM_RULE("linux.connect.v6only-mapped", S,
    "an IPv6-only socket cannot reach a v4-mapped address: ENETUNREACH",
    "Linux tcp_v6_connect(), __ip6_datagram_connect(): ipv6_only_sock(); "
    "found by gen --check");
static const sm_rule r_conn_mapped_to_v6 = SM_RULE("linux.connect.mapped-to-v6", S,
    "a UDP socket bound to a v4-mapped address cannot connect to a "
    "native IPv6 address: EAFNOSUPPORT",
    "Linux __ip6_datagram_connect(); found by gen --check");

/* Address-family checks connect() makes before any port or 4-tuple work. */
static bool family_refuses(const sm_sock_view *n, sm_verdict *out)
{
    if (n->family != 6)
        return false;
    const sm_addr *src = n->bound ? &n->bound_addr : NULL;
    bool dst_mapped = sm__addr_is_v4mapped(&n->remote.addr);
    bool v6only = src ? eff_v6only(6, src, n->now.v6only) : n->now.v6only;
    if (dst_mapped && v6only) {
        *out = sm__fail(SM_ENETUNREACH, &r_conn_v6only_mapped, -1);
        return true;
    }
    if (n->proto == SM_UDP && !dst_mapped && src && sm__addr_is_v4mapped(src)) {
        *out = sm__fail(SM_EAFNOSUPPORT, &r_conn_mapped_to_v6, -1);
        return true;
    }
    return false;
}

/* An orphaned FIN_WAIT_2 connection that Linux has turned into a timewait
 * socket: tcp_time_wait(sk, TCP_FIN_WAIT2, tmo) when tcp_fin_time() is at
 * most TCP_TIMEWAIT_LEN (60 s; longer keeps the full socket on a keepalive
 * timer).  It can be taken over like a TIME_WAIT entry when it saw
 * timestamps (tw_ts_recent_stamp). */
static bool fw2_timewait(const sm_bind_ctx *c, const sm_sock_view *o)
{
    return o->proto == SM_TCP && o->state == SM_FIN_WAIT_2 && !o->fd_open && o->tw_ts &&
           c->tun[SM_TUN_FIN_TIMEOUT_MS] <= 60000;
}

sm_verdict sm__linux_connect(const sm_profile *self, const sm_bind_ctx *c)
{
    (void)self;
    sm_verdict refused;
    if (family_refuses(&c->self, &refused))
        return refused;
    if (c->self.proto == SM_UDP)
        return sm__ok(&r_conn_udp);
    int k = sm__find_tuple(c);
    if (k < 0)
        return sm__ok(&r_conn_ok);
    const sm_sock_view *o = &c->owners[k];
    if (!o->time_wait && fw2_timewait(c, o))
        return sm__fail(SM_OK, &r_conn_fw2_tw, k);
    if (!o->time_wait)
        return sm__fail(SM_EADDRNOTAVAIL, &r_conn_clash, k);
    if (o->tw_ts)
        return sm__fail(SM_OK, &r_conn_tw_ts, k);
    return sm__fail(SM_EADDRNOTAVAIL, &r_conn_tw_nots, k);
}

/* May a connect() autobind use this port toward self.remote?  Returns the
 * owner index of a TIME_WAIT entry to take over in *tw (or -1). */
static bool lx_conn_port_ok(const struct sm__linux_gen *g, const sm_bind_ctx *c,
                            int *tw)
{
    *tw = -1;
    /* A port whose bucket bind() made or joined (fastreuse >= 0 or
     * fastreuseport >= 0) is never shared with connect() autobinds, even
     * after those sockets are gone; accepted children are in their
     * listener's bucket [Linux __inet_hash_connect(); OBS C4]. */
    if (c->port && c->n_owners > 0) {
        lx_bucket tb = bucket_load(g, c);
        if (tb.fastreuse >= 0 || tb.fastreuseport >= 0)
            return false;
    }
    for (size_t i = 0; i < c->n_owners; i++) {
        const sm_sock_view *o = &c->owners[i];
        /* Without bucket state from the engine: an owner that bind() or
         * accept() placed means the bucket is not connect()'s. */
        if (!c->port && o->how != SM_BOUND_CONNECT)
            return false;
        if (o->remote.port != c->self.remote.port ||
            !sm__addr_same(&o->local_addr, &c->self.local_addr) ||
            !sm__addr_same(&o->remote.addr, &c->self.remote.addr))
            continue;
        if (!o->time_wait)
            return false;
        /* tcp_twsk_unique() with twp != NULL: tcp_tw_reuse (2: loopback
         * only), a timestamp seen, and the entry older than the delay
         * (3.x: more than one second). */
        int64_t reuse = c->tun[SM_TUN_TW_REUSE];
        if (reuse == 0 || (reuse == 2 && !c->loopback) || !o->tw_ts)
            return false;
        uint64_t delay = g->has_reuseport ? (uint64_t)c->tun[SM_TUN_TW_REUSE_DELAY_MS] : 1000;
        if (c->now_ms <= o->tw_since_ms + delay)
            return false;
        *tw = (int)i;
    }
    return true;
}

static const sm_rule r_cpick = SM_RULE("linux.connect.pick", S,
    "connect(): an even port first (RFC 6056 double hash over the "
    "destination with a seeded secret, then the other parity); a port "
    "may serve several destinations unless bind() holds it",
    "Linux __inet_hash_connect(); OBS C4, C6");
static const sm_rule r_cpick38 = SM_RULE("linux.connect.pick-3-8", S,
    "connect(): RFC 6056 algorithm 3 (hash of the destination plus a "
    "global hint), any parity; a port may serve several destinations "
    "unless bind() holds it",
    "Linux 3.8 __inet_hash_connect()");
static const sm_rule r_cpick_tw = SM_RULE("linux.connect.pick-time-wait", S,
    "connect(): the only usable port meant taking over a TIME_WAIT entry "
    "(tcp_tw_reuse, older than tcp_tw_reuse_delay)",
    "Linux tcp_twsk_unique(); OBS C3");
static const sm_rule r_cexhausted = SM_RULE("linux.connect.exhausted", S,
    "connect(): no ephemeral port can reach this destination: "
    "EADDRNOTAVAIL",
    "Linux __inet_hash_connect(); OBS C3, C4");
static const sm_rule r_cpick_udp = SM_RULE("linux.connect.pick-udp", S,
    "UDP connect() autobinds like bind(port 0)",
    "Linux udp_lib_get_port()");
static const sm_rule r_cudp_exhausted = SM_RULE("linux.connect.exhausted-udp", S,
    "UDP connect() finds no free port: EAGAIN",
    "Linux udp_lib_get_port(); OBS C4");

sm_verdict sm__linux_pick_connect_port(const sm_profile *self, sm_pick_ctx *pc,
                                       uint16_t *port)
{
    const struct sm__linux_gen *g = self->data;
    const int64_t *tun = sm__pick_tun(pc);
    uint32_t low, high;
    bool own_range = lx_range(tun, sm__pick_self(pc), &low, &high);
    sm_verdict refused;
    if (family_refuses(sm__pick_self(pc), &refused))
        return refused;
    if (sm__pick_self(pc)->proto == SM_UDP) {
        if (high > low && scan_linear(g, pc, low, high, LX_EXPLICIT, port))
            return sm__ok(&r_cpick_udp);
        return sm__fail(SM_EWOULDBLOCK, &r_cudp_exhausted, -1);
    }
    if (high <= low)
        return sm__fail(SM_EADDRNOTAVAIL, &r_cexhausted, -1);
    uint32_t remaining = high - low;
    uint64_t h = sm__pick_dest_hash(pc);
    uint64_t *st = sm__pick_state(pc);
    uint32_t step = 1, offset;
    /* table_perturb[]: the kernel has 2^16 counters; the model keeps 8 in
     * the host state words 8..15 (the choice of counter is the same idea). */
    uint64_t *perturb = &st[8 + (h & 7)];
    if (g->bind0_parity && !own_range) {
        /* With a range of its own: step 1, no parity split. */
        remaining &= ~1u;
        if (remaining == 0)
            remaining = 1;
        else
            step = 2;
        offset = (uint32_t)((*perturb + (h >> 32)) % remaining);
        offset &= ~1u; /* start on low's parity */
    } else {
        offset = (uint32_t)((h + st[4]) % remaining);
    }
    /* Only ports low .. low+remaining-1 are tried: an odd-sized range
     * loses its last port (port = low + (i + offset) % remaining in
     * __inet_hash_connect(); measured on 6.18 with `host`, range
     * 40000-40002: two connects, then EADDRNOTAVAIL). */
    uint32_t span = g->bind0_parity ? remaining : high - low;
    for (int pass = 0; pass < (step == 2 ? 2 : 1); pass++) {
        for (uint32_t i = 0; i < span; i += step) {
            uint32_t p = low + (offset + i + (uint32_t)pass) % span;
            if (step == 2 && ((p - low) & 1u) != (uint32_t)pass)
                continue;
            sm_bind_ctx bc;
            sm__pick_port_ctx(pc, (uint16_t)p, &bc);
            int tw;
            if (!lx_conn_port_ok(g, &bc, &tw))
                continue;
            if (tw >= 0)
                sm__pick_takeover(pc, &bc.owners[tw]);
            *port = (uint16_t)p;
            if (g->bind0_parity)
                *perturb += (i > 2 ? i : 2) + 2 * (sm__pick_rand(pc) % 8 + 1);
            else
                st[4] += i + 1;
            return sm__ok(tw >= 0 ? &r_cpick_tw : g->bind0_parity ? &r_cpick : &r_cpick38);
        }
    }
    return sm__fail(SM_EADDRNOTAVAIL, &r_cexhausted, -1);
}

sm_tw_syn_verdict sm__linux_tw_syn(const sm_profile *self, const sm_tw_syn_ctx *c)
{
    (void)self;
    sm_tw_syn_verdict v;
    bool ts = c->seg_ts && c->tw.tw_ts;
    bool paws_reject = ts && (int32_t)(c->seg_tsval - c->ts_recent) < 0;
    bool newer = (int32_t)(c->seg_seq - c->rcv_nxt) > 0 ||
                 (ts && (int32_t)(c->ts_recent - c->seg_tsval) < 0);
    if (!paws_reject && newer && c->listener) {
        v.action = SM_TW_SYN_ACCEPT;
        v.rule = &r_tw_syn_accept;
    } else {
        v.action = SM_TW_SYN_ACK;
        v.rule = newer ? &r_tw_syn_no_listener
                       : &r_tw_syn_old;
    }
    return v;
}

size_t sm__linux_select_listener(const sm_profile *self, const sm_listen_ctx *c)
{
    (void)self;
    /* compute_score(): an AF_INET socket scores higher for IPv4 packets
     * than a dual-stack AF_INET6 one [Linux inet_lhash2_lookup();
     * selftest reuseport_dualstack]. */
    size_t idx[64] = {0};
    size_t n = 0;
    for (size_t i = 0; i < c->n && n < 64; i++)
        if (c->wire_family != 4 || c->cands[i].family == 4)
            idx[n++] = i;
    if (n == 0)
        for (size_t i = 0; i < c->n && n < 64; i++)
            idx[n++] = i;
    bool group = true;
    for (size_t i = 0; i < n; i++)
        if (!c->cands[idx[i]].at_bind.reuseport)
            group = false;
    if (group)
        return idx[c->hash % n]; /* reuseport_select_sock(): hash of the 4-tuple */
    size_t best = idx[0];
    for (size_t i = 1; i < n; i++)
        if (c->cands[idx[i]].seq > c->cands[best].seq)
            best = idx[i];
    return best;
}

const sm_rule sm__linux_select_rule = SM_RULE("linux.listener.choice", S,
    "listener choice: specific address over wildcard, AF_INET over dual-stack "
    "AF_INET6 for IPv4, then a SO_REUSEPORT group picks by a hash of the "
    "4-tuple",
    "Linux compute_score(), reuseport_select_sock()");

const sm_tcp_rules sm__linux_tcp_rules = {
    .unread_close_rst = true,
    .unread_close_rule = &r_close_unread_data,
    .linger_timeout = SM_LINGER_TO_RETURN_OK,
    .linger_timeout_rule = &r_linger_timeout,
    .linger_nonblock = SM_LINGER_NB_WAITS,
    .linger_nonblock_rule = &r_linger_nonblock,
    .exit_lingers = false,
    .exit_rule = &r_exit_close,
    .tw_overflow_recycles = false,
    .tw_overflow_rule = &r_tw_cap,
    .local_tw_purge_rule_is_loopback_only = false,
    /* Linux has no nolocaltimewait: SM_TUN_NOLOCALTIMEWAIT stays 0 and
     * this text is never shown. */
    .no_local_tw_rule = &r_tw_local,
    .connect_port_exhausted = SM_EADDRNOTAVAIL,
    .connect_on_listener = SM_EISCONN,
    .connect_on_listener_rule = &r_connect_on_listener,
    .rst_in_tw_rule = &r_tw_rst,
    .tcp_unspec = SM_OK,
    .tcp_unspec_rule = &r_tcp_unspec,
    .udp_unspec = SM_OK,
    .udp_unspec_rule = &r_udp_unspec,
    .unspec_unbinds = true,
    .udp_sendto_connected = SM_OK,
    .udp_sendto_connected_rule = &r_udp_sendto_connected,
    .connect_any = SM_OK,
    .connect_any_rule = &r_connect_any,
    .v4_on_v6_tcp = SM_EINVAL,
    .v4_on_v6_udp = SM_OK,
    .v4_on_v6only = SM_EAFNOSUPPORT,
    .v4_on_v6_rule = &r_v4_on_v6,
    .bind_steps4 = bind_steps4,
    .bind_steps6 = bind_steps6,
    .bind_steps_rule = &r_bind_order,
    .conn_end_frees_auto_port = true,
    .conn_end_frees_auto_port_rule = &r_conn_end_auto_port,
    .conn_end_keeps_name = true,
    .conn_end_keeps_name_rule = &r_conn_end_name,
    .blocking_fail_disconnects = true,
    .blocking_fail_disconnects_rule = &r_blocking_fail,
    .rst_in_close_wait = SM_EPIPE,
    .send_unconnected = SM_EPIPE,
    .send_unconnected_rule = &r_send_unconnected,
    .failed_connect_eof = true,
    .failed_connect_eof_rule = &r_failed_connect_eof,
    .fin_eof_before_error = true,
    .fin_eof_before_error_rule = &r_fin_eof_first,
    /* tcp_validate_incoming(): RFC 5961 challenge ACKs, always;
     * tcp_rcv_synsent_state_process(): simultaneous open [S]; the initial
     * window 64240 (65535 rounded down to the MSS, tcp_select_initial_window) [I]. */
    .rfc5961 = true,
    .simultaneous_open = true,
    .rcvbuf = 64240,
    .synq_rcv_wnd = 64240,
    .so_rcvbuf = 131072, /* net.ipv4.tcp_rmem[1], sk_rcvbuf of a new socket [D] */
    .tw_data = SM_TW_DATA_ACK,
    .tw_data_rule = &r_tw_data,
    .shutdown_listener = SM_SHUTL_STOP_ON_RD,
    .shutdown_listener_rule = &r_shutdown_listener,
    .send_connecting = SM_SENDC_WAIT,
    .send_connecting_rule = &r_send_connecting,
    .aq_reset = SM_AQR_KEEP,
    .aq_reset_err = SM_OK,
    .aq_reset_rule = &r_aq_reset,
};

/* TCP options, net/ipv4/tcp_output.c tcp_options_write() [S]: MSS; then
 * SACK-permitted fused with timestamps (or NOP NOP before timestamps);
 * SACK-permitted without timestamps after NOP NOP; then NOP and window
 * scale.  The shift covers tcp_rmem[2] (6 MB: 7),
 * tcp_select_initial_window().  A SYN reads <mss 1460,sackOK,TS val ecr
 * 0,nop,wscale 7>; a SYN+ACK to a SYN without timestamps <mss 1460,nop,
 * nop,sackOK,nop,wscale 7> (as in packetdrill's own Linux tests [T]). */
size_t sm__linux_tcp_options(const sm_profile *self, const sm_tcpopt_ctx *c,
                             uint8_t *out)
{
    (void)self;
    size_t n = 0;
    if (c->syn)
        sm__opt_mss(out, &n, c->mss);
    if (c->ts) {
        if (c->sack_ok)
            sm__opt_sackok(out, &n);
        else {
            sm__opt_nop(out, &n);
            sm__opt_nop(out, &n);
        }
        sm__opt_ts(out, &n, c->tsval, c->tsecr);
    } else if (c->sack_ok) {
        sm__opt_nop(out, &n);
        sm__opt_nop(out, &n);
        sm__opt_sackok(out, &n);
    }
    if (c->ws) {
        sm__opt_nop(out, &n);
        sm__opt_wscale(out, &n, 7);
    }
    return n;
}

/* Every rule record of this file (docs/rules.md). */
static const sm_rule *const rules_of_file[] = {
    &r_shutdown_listener,
    &r_send_connecting,
    &r_aq_reset,
    &r_listen_free,
    &r_sockopt_reuseaddr,
    &r_sockopt_reuseport_3_8,
    &r_sockopt_reuseport,
    &r_sockopt_v6only_on_inet,
    &r_sockopt_v6only_bound,
    &r_sockopt_v6only,
    &r_sockopt_linger,
    &r_sockopt_unknown,
    &r_tw_syn_accept,
    &r_tw_syn_no_listener,
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
    &r_no_overlap,
    &r_dual_chosen,
    &r_free,
    &r_ra_both,
    &r_rp_both,
    &r_tcp_conflict,
    &r_tcp_conflict38,
    &r_listen_conflict,
    &r_udp_ra,
    &r_udp_rp,
    &r_udp_conflict,
    &r_auto_busy,
    &r_fast_reuse,
    &r_fast_reuseport,
    &r_priv,
    &r_bind_order,
    &r_conn_end_auto_port,
    &r_conn_end_name,
    &r_blocking_fail,
    &r_mapped_v6only,
    &r_pick_tcp,
    &r_pick_tcp38,
    &r_pick_reuse,
    &r_pick_udp,
    &r_exhausted,
    &r_conn_ok,
    &r_conn_clash,
    &r_conn_tw_ts,
    &r_conn_tw_nots,
    &r_conn_fw2_tw,
    &r_conn_udp,
    &r_conn_v6only_mapped,
    &r_conn_mapped_to_v6,
    &r_cpick,
    &r_cpick38,
    &r_cpick_tw,
    &r_cexhausted,
    &r_cpick_udp,
    &r_cudp_exhausted,
    &sm__linux_select_rule,
    &r_tcp_unspec,
    &r_udp_unspec,
    &r_udp_sendto_connected,
    &r_connect_any,
    &r_v4_on_v6,
    &r_send_unconnected,
    &r_failed_connect_eof,
    &r_fin_eof_first,
    &r_sockopt_no_port_missing,
    &r_sockopt_no_port,
    &r_sockopt_range_missing,
    &r_sockopt_range_inval,
    &r_sockopt_range,
};
const sm_rule_set sm__rules_linux_common = {"profiles/linux_common.c", rules_of_file,
    sizeof rules_of_file / sizeof rules_of_file[0]};
