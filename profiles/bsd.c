/*
 * bsd.c - the "bsd" profile: FreeBSD main / 14.x, the BSD socket layer as it
 * is today.
 *
 * FreeBSD decides bind() in in_pcbbind_avail() (IPv4) and
 * in6_pcbbind_avail() (IPv6), both in terms of one lookup,
 * in_pcblookup_local() / in6_pcblookup_local(), which returns a SINGLE
 * protocol control block (PCB) for an address and port.  This file models
 * that lookup faithfully (which PCBs it can see, the cost it gives each, the
 * order it walks them) and then applies the checks to the one PCB it
 * returns, exactly as the kernel does.  Sources: ../shared/reference/
 * bsd-solaris.md §1 and §3.4, re-read in FreeBSD main sys/netinet/in_pcb.c
 * (bnovkov/freebsd-src@08949cd4) and sys/netinet6/in6_pcb.c; tags [S] read
 * in source, [T] in a test, [I] inferred, [U] unverified.
 *
 * The rule table:
 *  1. A v4-mapped address on an IPV6_V6ONLY socket goes to in6_pcbbind_avail()
 *     as an IPv6 address no interface has: EADDRNOTAVAIL [S tcp6_usr_bind()].
 *  2. Ports reservedlow..reservedhigh (0..1023) need PRIV_NETINET_RESERVEDPORT:
 *     EACCES, before any conflict check [S in_pcbbind_avail()].
 *  3. Uid rule (non-root, unicast): the WILDCARD lookup's PCB, if owned by
 *     another uid, is EADDRINUSE whatever the options; a connected TCP PCB is
 *     exempt [S in_pcbbind_avail(); T socket_afinet.c multibind_test].
 *  4. lookupflags = WILDCARD only when the new socket has none of
 *     SO_REUSEADDR / SO_REUSEPORT / SO_REUSEPORT_LB [S in_pcbbind_setup_locked()].
 *     Without WILDCARD only unconnected PCBs bound to exactly the same
 *     address are seen; with it every overlapping PCB (connected and
 *     TIME_WAIT ones included) is, and the cheapest one is returned.
 *  5. The returned PCB conflicts unless (new socket's SO_REUSEPORT |
 *     SO_REUSEPORT_LB) & (that PCB's CURRENT so_options) != 0 [S]; for a
 *     multicast address SO_REUSEADDR counts as both [S].  Two AF_INET6
 *     sockets on the IPv4 wildcard are exempt [S INP_IPV6PROTO test].
 *  6. A dual-stack [::] bind also checks 0.0.0.0 (uid rule and conflict); an
 *     AF_INET socket on exactly 0.0.0.0 does not block it [S in6_pcbbind_avail()].
 *  7. IPV6_V6ONLY defaults to net.inet6.ip6.v6only = 1 [S in6_proto.c] and
 *     cannot change once bound: EINVAL [S ip6_ctloutput()].
 *  8. listen() does not re-check: tcp_usr_listen() binds only an unbound
 *     socket [S tcp_usrreq.c].
 *  9. bind(0)/listen() autobind: random start in portrange.first..last
 *     (10000..65535), then +1 with wraparound; a port is free when the
 *     lookup with the socket's own lookupflags finds nothing; none free:
 *     EADDRNOTAVAIL [S in_pcb_lport_dest()].
 * 10. TIME_WAIT is the connected tcpcb itself for 2*MSL (MSL 30 s)
 *     [S tcp_twstart()], so only WILDCARD lookups see it (rule 4).
 */
#include "bsd_common.h"
#include "tcp_common.h"

#include <string.h>

/* ---- rule records: what this file decides, with ID, source and tag ---- */

static const sm_rule r_sockopt_reuse = SM_RULE("bsd.sockopt.reuse", S,
    "sets the so_options bit, before or after bind",
    "FreeBSD sosetopt(), uipc_socket.c");
static const sm_rule r_sockopt_v6only_on_inet = SM_RULE("bsd.sockopt.v6only-on-inet", S,
    "an AF_INET socket hands IPPROTO_IPV6 options to ip_ctloutput(), "
    "which refuses other levels with EINVAL",
    "FreeBSD ip_ctloutput(), ip_output.c");
static const sm_rule r_sockopt_v6only_bound = SM_RULE("bsd.sockopt.v6only-bound", S,
    "IPV6_V6ONLY can only be set before bind(2) (the socket has a port "
    "or address)",
    "FreeBSD ip6_ctloutput(), ip6_output.c");
static const sm_rule r_sockopt_v6only = SM_RULE("bsd.sockopt.v6only", S,
    "IPV6_V6ONLY sets IN6P_IPV6_V6ONLY and clears INP_IPV4",
    "FreeBSD ip6_ctloutput()");
static const sm_rule r_sockopt_linger_range = SM_RULE("bsd.sockopt.linger-range", S,
    "FreeBSD refuses a linger time outside 0..65535 s (the real errno is "
    "EDOM)",
    "FreeBSD sosetopt()");
static const sm_rule r_sockopt_linger = SM_RULE("bsd.sockopt.linger", S,
    "SO_LINGER stores so_linger, in seconds",
    "FreeBSD sosetopt(), soclose()");
static const sm_rule r_sockopt_unknown = SM_RULE("bsd.sockopt.unknown", S,
    "FreeBSD has no such option (SO_EXCLUSIVEADDRUSE is Windows', "
    "SO_EXCLBIND Solaris')",
    "FreeBSD sosetopt(): ENOPROTOOPT");
static const sm_rule r_connect_tuple_in_use = SM_RULE("bsd.connect.tuple-in-use", S,
    "another connection already uses this 4-tuple: EADDRINUSE",
    "FreeBSD in_pcbconnect(): exact in_pcblookup_hash() match");
static const sm_rule r_connect_tuple_time_wait = SM_RULE("bsd.connect.tuple-time-wait", I,
    "a TIME_WAIT entry holds this 4-tuple: EADDRINUSE, there is no "
    "TIME_WAIT reuse on connect()",
    "FreeBSD in_pcbconnect(); bsd-solaris.md 3.5");
static const sm_rule r_connect_tuple_free = SM_RULE("bsd.connect.tuple-free", S,
    "the 4-tuple is unique",
    "FreeBSD in_pcbconnect()");
static const sm_rule r_connect_pick = SM_RULE("bsd.connect.pick", S,
    "connect(): random start in portrange.first..last, then the next "
    "port whose 4-tuple is free and where no unconnected or listening "
    "socket matches; ports are shared across destinations",
    "FreeBSD in_pcb_lport_dest() with INPLOOKUP_WILDCARD; "
    "tcp_connect_port_test");
static const sm_rule r_connect_exhausted = SM_RULE("bsd.connect.exhausted", S,
    "connect(): no port of the range can reach this destination: "
    "EADDRNOTAVAIL",
    "FreeBSD in_pcb_lport_dest()");
static const sm_rule r_tw_syn_accept = SM_RULE("bsd.tw.syn-accept", S,
    "a SYN with a sequence number above the old rcv_nxt recycles the "
    "TIME_WAIT; the SYN is looked up again (listener, else RST)",
    "FreeBSD tcp_twcheck(); bsd-solaris.md 3.3");
static const sm_rule r_tw_syn_old = SM_RULE("bsd.tw.syn-old", S,
    "an old SYN into TIME_WAIT is silently dropped",
    "FreeBSD tcp_twcheck(): no ACK flag, drop");
static const sm_rule r_close_unread_data = SM_RULE("bsd.close.unread-data", S,
    "close() with unread data: the data is discarded and a FIN is sent "
    "as usual",
    "FreeBSD tcp_disconnect(): sbflush()");
static const sm_rule r_linger_timeout = SM_RULE("bsd.linger.timeout", S,
    "SO_LINGER timeout: close() returns EWOULDBLOCK and the connection "
    "goes on",
    "FreeBSD soclose(): tsleep() timeout; bsd-solaris.md 4.1");
static const sm_rule r_linger_nonblock = SM_RULE("bsd.linger.nonblock", S,
    "non-blocking socket: close() does not linger, the FIN goes out",
    "FreeBSD soclose(): SS_NBIO");
static const sm_rule r_exit_close = SM_RULE("bsd.exit.close", I,
    "process exit closes each socket through soclose(), which lingers as "
    "close() does",
    "FreeBSD; bsd-solaris.md 4.1");
static const sm_rule r_tw_cap = SM_RULE("bsd.tw.cap", S,
    "TIME_WAIT cap reached: the oldest entry is recycled",
    "FreeBSD 13 tcp_tw_2msl_scan(1)");
static const sm_rule r_tw_local = SM_RULE("bsd.tw.local", S,
    "no TIME_WAIT for a connection to one of this host's own addresses "
    "(net.inet.tcp.nolocaltimewait=1)",
    "FreeBSD tcp_twstart(); bsd-solaris.md 3.2");
static const sm_rule r_connect_on_listener = SM_RULE("bsd.connect.on-listener", I,
    "connect() on a listening socket: EOPNOTSUPP",
    "FreeBSD soconnectat(): SOLISTENING");
static const sm_rule r_shutdown_listener = SM_RULE("bsd.shutdown.listener", S,
    "shutdown() of a listener: ENOTCONN, a listener is not connected "
    "(SHUT_RD and SHUT_RDWR also wake accept() with ECONNABORTED, not "
    "modelled)",
    "FreeBSD soshutdown(): SOLISTENING");
static const sm_rule r_send_connecting = SM_RULE("bsd.send.connecting", S,
    "send() before the handshake ends: ENOTCONN, the socket is not "
    "connected yet",
    "FreeBSD sosend_generic(): PR_CONNREQUIRED and not SS_ISCONNECTED");
static const sm_rule r_aq_reset = SM_RULE("bsd.accept.reset-queued", S,
    "a connection reset before accept() stays on the completed queue; accept() takes it and fails with ECONNABORTED",
    "FreeBSD tcp_usr_accept(): SS_ISDISCONNECTED or INP_DROPPED -> ECONNABORTED; kern_accept4(); sofree() keeps completed-queue sockets");
static const sm_rule r_tw_rst = SM_RULE("bsd.tw.rst", S,
    "RSTs into TIME_WAIT are dropped (RFC 1337)",
    "FreeBSD tcp_twcheck()");
static const sm_rule r_tw_data = SM_RULE("bsd.tw.data", S,
    "new data reaching TIME_WAIT is acknowledged and the entry stays",
    "FreeBSD tcp_twcheck()");
static const sm_rule r_listener_choice = SM_RULE("bsd.listener.choice", S,
    "listener choice: specific address over wildcard; a SO_REUSEPORT_LB "
    "group by 4-tuple hash; else the newest match",
    "FreeBSD in_pcblookup_hash_locked()");
static const sm_rule r_tcp_unspec = SM_RULE("bsd.connect.unspec-tcp", S,
    "connect(AF_UNSPEC) on TCP: tcp_usr_connect() takes AF_INET only; a "
    "connected socket gets EISCONN first (soconnectat: connection-mode "
    "sockets connect once)",
    "sys/kern/uipc_socket.c, sys/netinet/tcp_usrreq.c");
static const sm_rule r_udp_unspec = SM_RULE("bsd.connect.unspec-udp", I,
    "connect(AF_UNSPEC) on UDP: soconnectat() disconnects first, then "
    "udp_connect() refuses the family: dissolved, and EAFNOSUPPORT",
    "soconnectat in sys/kern/uipc_socket.c; udp_connect I");
static const sm_rule r_udp_sendto_connected = SM_RULE("bsd.connect.sendto-connected-udp", D,
    "sendto() with an address on a connected UDP socket: EISCONN",
    "sys/netinet/udp_usrreq.c udp_output(), inp_faddr set; Stevens UNP "
    "8.11");
static const sm_rule r_connect_any = SM_RULE("bsd.connect.to-wildcard", S,
    "connect() to INADDR_ANY or :: : ENETUNREACH unless "
    "net.inet.ip.connect_inaddr_wild is set",
    "FreeBSD main in_pcbconnect_setup(); shared/reference bsd-solaris 3.5");
static const sm_rule r_v4_on_v6 = SM_RULE("bsd.connect.v4-on-inet6", I,
    "an IPv4 sockaddr given to an AF_INET6 socket: EAFNOSUPPORT (use "
    "::ffff:a.b.c.d)",
    "in6_pcbconnect() checks sin6_family");
static const sm_rule r_lb_connect = SM_RULE("bsd.connect.reuseport-lb", T,
    "connect() on a TCP socket with SO_REUSEPORT_LB: EOPNOTSUPP, a "
    "load-balancing group member only listens (FreeBSD main; 13.x "
    "connects)",
    "FreeBSD main tcp_usr_connect()/in_pcb.c; "
    "tests/sys/netinet/so_reuseport_lb_test.c connect_not_bound, "
    "connect_bound");

/* ---- setsockopt() ------------------------------------------------------- */

sm_verdict sm__bsd_setsockopt(const sm_profile *self, const sm_sock_view *s,
                              sm_option opt, int v1, int v2)
{
    (void)self;
    (void)v1;
    switch (opt) {
    case SM_SO_REUSEADDR:
    case SM_SO_REUSEPORT:
    case SM_SO_REUSEPORT_LB:
        /* sosetopt() just sets the so_options bit, at any time; bind reads
         * the other sockets' bits as they are at that moment [S]. */
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
        /* sosetopt() refuses l_linger < 0 or > USHRT_MAX with EDOM [S];
         * the model has no EDOM, so it says EINVAL and names the real one. */
        if (v2 < 0 || v2 > 65535)
            return sm__fail(SM_EINVAL,
                            &r_sockopt_linger_range, -1);
        return sm__ok(&r_sockopt_linger);
    case SM_SO_EXCLUSIVEADDRUSE:
    case SM_SO_EXCLBIND:
    default:
        return sm__fail(SM_ENOPROTOOPT,
                        &r_sockopt_unknown, -1);
    }
}

/* ---- the profile --------------------------------------------------------- */

const sm_sysctl_def sm__bsd_sysctls[] = {
    {"net.inet.ip.portrange.first", 1, {SM_TUN_PORT_LO}, 1024, 65535, 1,
     "first ephemeral port (default 10000; FreeBSD clamps to 1024..65535)", 0},
    {"net.inet.ip.portrange.last", 1, {SM_TUN_PORT_HI}, 1024, 65535, 1,
     "last ephemeral port (default 65535)", 0},
    {"net.inet.ip.portrange.randomized", 1, {SM_TUN_RANDOM_PORTS}, 0, 1, 1,
     "1: each bind(0) starts at a random port (default); 0: sequential", 0},
    {"net.inet.ip.portrange.reservedhigh", 1, {SM_TUN_UNPRIV_PORT}, 0, 65535, 1,
     "last privileged port (default 1023): ports 0..reservedhigh need root", 1},
    {"net.inet.tcp.msl", 1, {SM_TUN_TIME_WAIT_MS}, 1, 1073741823, 2,
     "maximum segment lifetime in ms (default 30000); TIME_WAIT lasts 2*MSL", 0},
    {"net.inet.tcp.nolocaltimewait", 1, {SM_TUN_NOLOCALTIMEWAIT}, 0, 1, 1,
     "1: no TIME_WAIT for connections to one of the host's own addresses "
     "(default 1 on main)", 0},
    {"net.inet6.ip6.v6only", 1, {SM_TUN_V6ONLY_DEFAULT}, 0, 1, 1,
     "IPV6_V6ONLY of new AF_INET6 sockets (default 1)", 0},
    {"net.inet.tcp.rfc1323", 1, {SM_TUN_TIMESTAMPS}, 0, 1, 1,
     "1: RFC 1323/7323 extensions (default 1; the model follows it for timestamps, "
     "window scale is always offered)", 0},
    {"net.inet.tcp.rexmit_initial", 1, {SM_TUN_SYN_RTO_MS}, 1, 1000000, 1,
     "first retransmission timeout in ms (default 1000)", 0},
    {"net.inet.tcp.keepinit", 1, {SM_TUN_CONNECT_TIMEOUT_MS}, 1, 1000000000, 1,
     "connection establishment timeout in ms (default 75000)", 0},
    {"net.inet.tcp.drop_synfin", 1, {SM_TUN_DROP_SYNFIN}, 0, 1, 1,
     "1: segments with both SYN and FIN are dropped (default 0)", 0},
    {"net.inet.tcp.insecure_rst", 1, {SM_TUN_INSECURE_RST}, 0, 1, 1,
     "1: an in-window RST resets the connection (default 0: RFC 5961 challenge ACK)", 0},
    {"net.inet.tcp.insecure_syn", 1, {SM_TUN_INSECURE_SYN}, 0, 1, 1,
     "1: an in-window SYN resets the connection (default 0: RFC 5961 challenge ACK)", 0},
};
_Static_assert(sizeof sm__bsd_sysctls / sizeof sm__bsd_sysctls[0] == SM__BSD_N_SYSCTLS,
               "SM__BSD_N_SYSCTLS counts the keys");

/* ---- connections (bsd-solaris.md §3, §4) --------------------------------- */


static bool lb_refuses(const sm_profile *self, const sm_sock_view *s)
{
    const sm__bsd_gen *g = self->data;
    return !g->fbsd13 && s->proto == SM_TCP && s->now.reuseport_lb;
}

sm_verdict sm__bsd_connect(const sm_profile *self, const sm_bind_ctx *c)
{
    if (lb_refuses(self, &c->self))
        return sm__fail(SM_EOPNOTSUPP, &r_lb_connect, -1);
    return sm__connect_unique(
        c, SM_EADDRINUSE,
        &r_connect_tuple_in_use,
        &r_connect_tuple_time_wait,
        &r_connect_tuple_free);
}

static const sm__conn_scan bsd_conn_scan = {
    .random_start = true,
    .share_destinations = true,
    .tw_blocks_port = false,
    .exhausted = SM_EADDRNOTAVAIL,
    .rule = &r_connect_pick,
    .exhausted_rule = &r_connect_exhausted,
};

sm_verdict sm__bsd_pick_connect(const sm_profile *self, sm_pick_ctx *pc, uint16_t *port)
{
    if (lb_refuses(self, sm__pick_self(pc)))
        return sm__fail(SM_EOPNOTSUPP, &r_lb_connect, -1);
    return sm__conn_scan_pick(&bsd_conn_scan, pc, port);
}

sm_tw_syn_verdict sm__bsd_tw_syn(const sm_profile *self, const sm_tw_syn_ctx *c)
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

size_t sm__bsd_select_listener(const sm_profile *self, const sm_listen_ctx *c)
{
    (void)self;
    /* SO_REUSEPORT_LB: the load-balancing group picks by a hash of the
     * 4-tuple [FreeBSD in_pcblookup_lbgroup()].  Otherwise the lookup
     * returns the first match of the hash chain, where new sockets are
     * inserted at the head: the newest [FreeBSD in_pcbinshash(), I]. */
    size_t lb[64], n = 0;
    for (size_t i = 0; i < c->n && n < 64; i++)
        if (c->cands[i].at_bind.reuseport_lb)
            lb[n++] = i;
    if (n > 0)
        return lb[c->hash % n];
    return sm__select_newest(self, c);
}

static const sm_rule r_failed_connect_shut = SM_RULE("bsd.recv.after-failed-connect", S,
    "after a failed connect() (refused, timed out) the socket is shut both "
    "ways: recv() reads end of stream, send() fails with EPIPE",
    "sys/netinet/tcp_subr.c tcp_close() -> soisdisconnected(); sys/kern/uipc_socket.c sosend_generic(), soreceive_generic(): SBS_CANTSENDMORE/SBS_CANTRCVMORE before the not-connected check; not measured");

const sm_tcp_rules sm__bsd_tcp_rules = {
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
    .tw_overflow_recycles = true,
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
    .connect_any = SM_ENETUNREACH,
    .connect_any_rule = &r_connect_any,
    .v4_on_v6_tcp = SM_EAFNOSUPPORT,
    .v4_on_v6_udp = SM_EAFNOSUPPORT,
    .v4_on_v6only = SM_EAFNOSUPPORT,
    .v4_on_v6_rule = &r_v4_on_v6,
    .rst_in_close_wait = SM_ECONNRESET,
    /* tcp_input(): RFC 5961 challenge ACKs unless net.inet.tcp.insecure_rst /
     * insecure_syn; tcp_outflags[]; tcp_twcheck(); the receive buffer
     * (net.inet.tcp.recvspace 65536) rounded up to the MSS by tcp_mss();
     * the syncache's window 65535 (checked against the freebsd-net
     * tcp-testsuite [T]). */
    .rfc5961 = true,
    .simultaneous_open = true,
    .ack_repeats_fin = true,
    .tw_ack_non_dup = true,
    .rcvbuf = 65536,
    .rcvbuf_mss_round = true,
    .synq_rcv_wnd = 65535,
    .so_rcvbuf = 65536, /* net.inet.tcp.recvspace; 65700 once the MSS is 1460 [T] */
    .rst_in_closing = SM_ECONNRESET, /* tcp_input(): so_error for CLOSING, LAST_ACK [S, T] */
    .listener_drops_synack = true, /* no RST for a SYN+ACK to a listener [T] */
    .tw_data = SM_TW_DATA_ACK,
    .tw_data_rule = &r_tw_data,
    .shutdown_listener = SM_SHUTL_ENOTCONN,
    .shutdown_listener_rule = &r_shutdown_listener,
    .send_connecting = SM_SENDC_ENOTCONN,
    .send_connecting_rule = &r_send_connecting,
    .aq_reset = SM_AQR_FAIL,
    .aq_reset_err = SM_ECONNABORTED,
    .aq_reset_rule = &r_aq_reset,
};

/* TCP options as FreeBSD's tcp_addoptions() lays them out: MSS; NOP and
 * window scale; SACK-permitted at an even offset; timestamps at offset
 * 2 mod 4 (NOPs before); the rest padded with EOL.  The shift is the
 * smallest that covers kern.ipc.maxsockbuf (2 MB: 6), tcp_syncache /
 * tcp_connect().  Checked against the freebsd-net tcp-testsuite scripts
 * [T]: SYN <mss 1460,nop,wscale 6,sackOK,TS val ecr>, SYN+ACK to
 * <mss,sackOK> is <mss 1460,sackOK,eol,eol>. */
size_t sm__bsd_tcp_options(const sm_profile *self, const sm_tcpopt_ctx *c, uint8_t *out)
{
    (void)self;
    size_t n = 0;
    if (c->syn)
        sm__opt_mss(out, &n, c->mss);
    if (c->ws) {
        sm__opt_nop(out, &n);
        sm__opt_wscale(out, &n, 6);
    }
    if (c->sack_ok) {
        while (n % 2)
            sm__opt_nop(out, &n);
        sm__opt_sackok(out, &n);
    }
    if (c->ts) {
        sm__opt_align(out, &n, 2);
        sm__opt_ts(out, &n, c->tsval, c->tsecr);
    }
    while (n % 4)
        out[n++] = 0; /* EOL */
    return n;
}

static const sm__bsd_gen gen = {.fbsd13 = false};

extern const sm_rule_set sm__rules_bsd_common;
extern const sm_rule_set sm__rules_bsd;
const sm_profile sm_profile_bsd = {
    .version = SM_PROFILE_VERSION,
    .name = "bsd",
    .summary = "FreeBSD (main/14.x): BSD socket layer as it is today",
    .sysctls = sm__bsd_sysctls,
    .n_sysctls = SM__BSD_N_SYSCTLS,
    .defaults = {
        [SM_TUN_PORT_LO] = 10000,        /* IPPORT_EPHEMERALFIRST, in_pcb.c */
        [SM_TUN_PORT_HI] = 65535,        /* IPPORT_EPHEMERALLAST */
        [SM_TUN_UNPRIV_PORT] = 1024,     /* reservedhigh + 1 = IPPORT_RESERVED */
        [SM_TUN_AUTOBIND_REUSE] = 0,     /* Linux-only */
        [SM_TUN_TIME_WAIT_MS] = 60000,   /* 2 * TCPTV_MSL (30 s), tcp_twstart() */
        [SM_TUN_TW_REUSE] = 0,           /* Linux-only */
        [SM_TUN_TW_REUSE_DELAY_MS] = 0,  /* Linux-only */
        [SM_TUN_RFC1337] = 1,            /* tcp_twcheck() drops RSTs, §3.3 */
        [SM_TUN_MAX_TW] = -1,           /* no cap modelled (negative: none) */
        /* Orphaned FIN_WAIT_2: TP_MAXIDLE (tcp_keepcnt 8 x tcp_keepintvl 75 s),
         * net.inet.tcp.fast_finwait2_recycle being 0 by default; the 60 s
         * tcp_finwait2_timeout applies only with it set [S tcp_input.c
         * (FIN_WAIT_1, our FIN acked), tcp_usrclosed(), tcp_timer_2msl();
         * more-profiles.md 5] */
        [SM_TUN_FIN_TIMEOUT_MS] = 600000,
        [SM_TUN_TIMESTAMPS] = 1,         /* net.inet.tcp.rfc1323 = 1 */
        [SM_TUN_NOLOCALTIMEWAIT] = 1,    /* true on main, tcp_timewait.c */
        [SM_TUN_V6ONLY_DEFAULT] = 1,     /* ip6_v6only = 1, in6_proto.c */
        [SM_TUN_RANDOM_PORTS] = 1,       /* ipport_randomized = true */
        [SM_TUN_SYN_RTO_MS] = 1000,      /* tcp_rexmit_initial (1 s) */
        [SM_TUN_CONNECT_TIMEOUT_MS] = 75000, /* tcp_keepinit, TCPTV_KEEP_INIT 75 s */
    },
    .data = &gen,
    .native_err_name = NULL,
    .setsockopt = sm__bsd_setsockopt,
    .bind = sm__fbsd_bind,
    .listen = sm__fbsd_listen,
    .pick_port = sm__fbsd_pick_port,
    .tcp = &sm__bsd_tcp_rules,
    .connect = sm__bsd_connect,
    .pick_connect_port = sm__bsd_pick_connect,
    .tw_syn = sm__bsd_tw_syn,
    .tcp_options = sm__bsd_tcp_options,
    .select_listener = sm__bsd_select_listener,
    .select_listener_rule = &r_listener_choice,
    .rule_sets = (const sm_rule_set *const[]){&sm__rules_bsd, &sm__rules_bsd_common, NULL},
};

/* Every rule record of this file (docs/rules.md). */
static const sm_rule *const rules_of_file[] = {
    &r_shutdown_listener,
    &r_send_connecting,
    &r_aq_reset,
    &r_failed_connect_shut,
    &r_sockopt_reuse,
    &r_sockopt_v6only_on_inet,
    &r_sockopt_v6only_bound,
    &r_sockopt_v6only,
    &r_sockopt_linger_range,
    &r_sockopt_linger,
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
    &r_tcp_unspec,
    &r_udp_unspec,
    &r_udp_sendto_connected,
    &r_connect_any,
    &r_v4_on_v6,
    &r_lb_connect,
};
const sm_rule_set sm__rules_bsd = {"profiles/bsd.c", rules_of_file,
    sizeof rules_of_file / sizeof rules_of_file[0]};
