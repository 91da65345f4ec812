/*
 * sm_profile.h - the interface between the engine and an OS profile.
 *
 * The engine (engine/) keeps the tables: hosts, sockets, the bind table keyed
 * by (host, protocol, port), the virtual clock.  It never asks which OS it
 * models.  Everything that differs between operating systems is a value or a
 * function of struct sm_profile, the way SQLite's VFS isolates the OS layer.
 *
 * A profile sees sockets only through sm_sock_view: a read-only snapshot of
 * what that OS's kernel would know about a socket (or TIME_WAIT entry) that
 * holds a port.  Decisions come back as an sm_verdict: an error (or SM_OK),
 * the rule that decided (a static string naming the kernel function, page
 * or test it comes from) and, for a conflict, which owner caused it.
 *
 * As in sqlite3_vfs, every method takes the profile itself as its first
 * argument (`self`): profiles that share their methods (linux and
 * linux-3.8, the two Windows) read their differences from self->data.
 * `version` says which revision of this interface the profile was written
 * for.  The engine calls methods only through the wrappers of
 * engine/sm_prof.h, which check the contract: a verdict names its rule,
 * a culprit is one of the owners the profile was shown, a pick sets a
 * port.  A profile that breaks it makes the call fail with SM_EPROTO and
 * a rule text "profile contract violated: ..." (never an abort).
 */
#ifndef SM_PROFILE_H
#define SM_PROFILE_H

#include "sm.h"

#include <string.h>

/* Generic tunable slots.  Each profile maps its own sysctl names onto them
 * (net.ipv4.ip_local_port_range -> PORT_LO/PORT_HI, net.inet.tcp.msl ->
 * TIME_WAIT_MS with scale 2, ...) and gives their defaults. */
enum sm_tunable {
    SM_TUN_PORT_LO = 0,      /* ephemeral range, first port */
    SM_TUN_PORT_HI,          /* ephemeral range, last port */
    SM_TUN_UNPRIV_PORT,      /* first port an ordinary user may bind */
    SM_TUN_AUTOBIND_REUSE,   /* Linux net.ipv4.ip_autobind_reuse */
    SM_TUN_TIME_WAIT_MS,     /* length of TIME_WAIT (2MSL) */
    SM_TUN_TW_REUSE,         /* Linux net.ipv4.tcp_tw_reuse 0/1/2 */
    SM_TUN_TW_REUSE_DELAY_MS,/* Linux net.ipv4.tcp_tw_reuse_delay */
    SM_TUN_RFC1337,          /* 1: a RST does not kill TIME_WAIT */
    SM_TUN_MAX_TW,           /* cap on TIME_WAIT entries per host */
    SM_TUN_FIN_TIMEOUT_MS,   /* orphaned FIN_WAIT_2 timeout */
    SM_TUN_TIMESTAMPS,       /* TCP timestamps in use */
    SM_TUN_NOLOCALTIMEWAIT,  /* FreeBSD: no TIME_WAIT toward own address */
    SM_TUN_V6ONLY_DEFAULT,   /* IPV6_V6ONLY of a new AF_INET6 socket */
    SM_TUN_RANDOM_PORTS,     /* ephemeral ports randomised (1) or not */
    SM_TUN_SYN_RTO_MS,       /* first SYN retransmission timeout */
    SM_TUN_CONNECT_TIMEOUT_MS, /* connect() gives up: ETIMEDOUT */
    SM_TUN_TW_REAP_MS,       /* > 0: TIME_WAIT entries are freed only by a
                              * collector that runs every this period from
                              * when it was armed (sm_tw_reaper), so an entry
                              * ends at the first run at or after its 2MSL
                              * (XNU tcp_gc()); 0: at 2MSL */
    SM_TUN_PRIV_WILDCARD,    /* macOS: 1 = a privileged port needs root on the
                              * wildcard address too (10.13 and earlier);
                              * 0 = only on specific addresses (10.14 on) */
    SM_TUN_INSECURE_RST,     /* FreeBSD: any in-window RST resets (no RFC 5961) */
    SM_TUN_INSECURE_SYN,     /* FreeBSD: an in-window SYN resets (no RFC 5961) */
    SM_TUN_DROP_SYNFIN,      /* FreeBSD: segments with SYN and FIN are dropped */
    SM_TUN_COUNT
};

/* One sysctl key a profile accepts.  Values are integers; each is stored
 * in its slot as value * scale + offset. */
typedef struct sm_sysctl_def {
    const char *key;
    int nvalues;                 /* 1 or 2 */
    enum sm_tunable slot[2];
    int64_t min, max;            /* range of each value as written */
    int64_t scale;               /* stored = value * scale + offset */
    const char *doc;
    int64_t offset;
} sm_sysctl_def;

/* Socket options as a kernel stores them. */
typedef struct sm_opts {
    bool reuseaddr;
    bool reuseport;
    bool reuseport_lb;
    bool exclusiveaddruse;
    bool exclbind;
    bool v6only;
    bool linger_on;
    uint32_t linger_s;
    /* bind(addr, 0) records the address and leaves the port to connect()
     * (Linux IP_BIND_ADDRESS_NO_PORT, Windows SO_REUSE_UNICASTPORT) */
    bool defer_port;
    bool reuse_unicastport;
    /* Linux IP_LOCAL_PORT_RANGE: this socket's range bounds, 0 = unset;
     * the profile's pick methods clamp them to the host's range */
    uint16_t port_lo, port_hi;
} sm_opts;

/* How a socket came to hold its port. */
enum sm_how_bound {
    SM_UNBOUND = 0,
    SM_BOUND_EXPLICIT,   /* bind() with a port */
    SM_BOUND_AUTO,       /* bind() to port 0, or listen() on an unbound socket */
    SM_BOUND_CONNECT,    /* connect() on an unbound socket */
    SM_BOUND_ACCEPTED    /* a connection accepted from a listener */
};

/* What a profile may know about a socket, or a TIME_WAIT entry, that holds
 * (or asks for) a port on a host. */
typedef struct sm_sock_view {
    sm_id id;               /* the socket (for a TIME_WAIT entry: the socket it came from) */
    const char *name;       /* the scenario's name for it */
    sm_proto proto;
    int family;             /* 4 or 6: the socket's address family */
    sm_addr bound_addr;     /* address as given to bind() (wildcard kept) */
    sm_addr local_addr;     /* current local address (connect() may narrow it) */
    uint16_t port;
    sm_tcp_state state;     /* SM_CLOSED: bound and idle (UDP is never LISTEN) */
    bool bound;
    bool connected;         /* has a remote endpoint (TCP connection or connected UDP) */
    sm_endpoint remote;
    bool time_wait;         /* a TIME_WAIT entry, no descriptor left */
    bool fd_open;           /* a descriptor still refers to it */
    sm_opts now;            /* options as set now */
    sm_opts at_bind;        /* options as they were when it bound */
    uint32_t uid;           /* credentials captured at socket() */
    bool privileged;
    enum sm_how_bound how;  /* how it got its port */
    uint64_t seq;           /* binding order on the host: lower is older */
    uint64_t listen_seq;    /* listen() order: lower is older; 0 if never */
    uint64_t tw_since_ms;   /* TIME_WAIT entry: when it began (virtual ms) */
    bool tw_ts;             /* the connection (or TIME_WAIT entry) used timestamps */
    bool accepted;          /* a connection accepted from a listener */
    bool addr_named;        /* bind() named its local address (a specific one;
                             * an accepted connection: its listener's bind did);
                             * false when connect() or the stack chose it */
} sm_sock_view;

/* What the engine asks the profile to decide. */
enum sm_check {
    SM_CHECK_BIND,       /* bind() to an explicit port */
    SM_CHECK_LISTEN,     /* the re-check some OSes make at listen() */
    SM_CHECK_AUTOBIND,   /* is this candidate port free for bind(0)/listen()? */
    SM_CHECK_CONNECT,    /* connect() of a bound socket: is the 4-tuple free? */
    SM_CHECK_CONNECT_PORT /* connect() autobind: may this candidate port be used
                           * toward self.remote? */
};

typedef struct sm_verdict {
    const sm_rule *rule; /* the rule that decided (a static record) */
    sm_err err;
    int culprit;         /* index in owners[] of the conflicting owner, or -1 */
} sm_verdict;

/* Context of a bind-table decision: N (self) against every other owner of
 * (host, protocol, port).  Building it costs O(owners of that port). */
/* State a profile keeps per (host, protocol, port) while the port has
 * owners: Linux's bind-bucket caches (tb->fastreuse, tb->fastreuseport...).
 * The engine hands the profile a scratch copy in sm_bind_ctx.port: what is
 * stored for the port, or zeros when nothing is (the port had no owner, or
 * no call stored anything).  After a call that returns SM_OK and makes the
 * engine give the port to the socket - bind(), the listen() re-check, the
 * pick of bind(0)/listen() autobind (the copy from the last
 * sm__pick_port_ctx() call, which must be on the chosen port) - the engine
 * stores what the profile left in the copy (all zeros: nothing stored).
 * The state goes when the port's last owner (socket or TIME_WAIT entry)
 * goes, as the kernel frees an empty bucket. */
typedef struct sm_port_state {
    uint64_t w[4];
} sm_port_state;

typedef struct sm_bind_ctx {
    enum sm_check check;
    const int64_t *tun;           /* the host's tunables */
    sm_sock_view self;            /* N, with the address and port it asks for */
    const sm_sock_view *owners;   /* every other owner of the port */
    size_t n_owners;
    uint64_t now_ms;              /* virtual time, for TIME_WAIT ages */
    bool loopback;                /* connect checks: the peer is on this host's
                                   * loopback (127/8, ::1 or mapped) */
    sm_port_state *port;          /* the port's state (see above); NULL when
                                   * the engine keeps none */
} sm_bind_ctx;

/* Context of an ephemeral port choice (bind to port 0, autobind at listen).
 * The profile walks candidate ports in its OS's order and asks the engine
 * for each candidate's owners with sm__pick_port_ctx(). */
typedef struct sm_pick_ctx sm_pick_ctx;

/* Fills *out for candidate port; the owners array stays valid until the
 * next call on the same pick context. */
void sm__pick_port_ctx(sm_pick_ctx *c, uint16_t port, sm_bind_ctx *out);
/* Seeded random number for this host (deterministic per world seed). */
uint64_t sm__pick_rand(sm_pick_ctx *c);
/* The host's tunables and per-host profile state (16 words, zero at start,
 * for things like Linux's connect hint). */
const int64_t *sm__pick_tun(const sm_pick_ctx *c);
uint64_t *sm__pick_state(sm_pick_ctx *c);
/* The socket asking (port 0). */
const sm_sock_view *sm__pick_self(const sm_pick_ctx *c);
/* connect() autobind: the chosen port may be taken only by ending this
 * TIME_WAIT entry (an owner from the last sm__pick_port_ctx() call). */
void sm__pick_takeover(sm_pick_ctx *c, const sm_sock_view *tw);
/* connect() autobind: a seeded hash of (local address, remote endpoint),
 * stable for the world (RFC 6056 F(), Linux secure_ipv4_port_ephemeral). */
uint64_t sm__pick_dest_hash(const sm_pick_ctx *c);

/* ---- connections ------------------------------------------------------- */

/* What a SYN arriving for a 4-tuple in TIME_WAIT does. */
enum sm_tw_syn_action {
    SM_TW_SYN_ACCEPT, /* end the TIME_WAIT; the SYN opens a new connection */
    SM_TW_SYN_ACK,    /* answer with an ACK of the old connection */
    SM_TW_SYN_RST,    /* answer with RST|ACK; TIME_WAIT stays */
    SM_TW_SYN_DROP    /* silently dropped; TIME_WAIT stays */
};

typedef struct sm_tw_syn_ctx {
    const int64_t *tun;
    sm_sock_view tw;        /* the TIME_WAIT entry */
    uint32_t seg_seq;       /* the SYN's sequence number */
    uint32_t rcv_nxt;       /* what the entry expects next from the peer */
    uint32_t rcv_wnd;       /* the entry's last advertised window */
    bool seg_ts;            /* the SYN carries a timestamp */
    uint32_t seg_tsval;
    uint32_t ts_recent;     /* the entry's last timestamp from the peer */
    bool listener;          /* a listener would take the new connection */
} sm_tw_syn_ctx;

/* The TCP options of one outgoing segment: what the engine puts on it;
 * the profile lays them out as its OS does (order, NOP alignment, EOL
 * padding).  SYN and SYN+ACK carry MSS and, when offered, window scale and
 * SACK-permitted; any segment may carry timestamps. */
typedef struct sm_tcpopt_ctx {
    bool syn;
    uint16_t mss;
    bool ws;                /* window scale, with the profile's shift */
    bool sack_ok;
    bool ts;
    uint32_t tsval, tsecr;
} sm_tcpopt_ctx;

typedef struct sm_tw_syn_verdict {
    enum sm_tw_syn_action action;
    const sm_rule *rule;
} sm_tw_syn_verdict;

/* Which of several listeners (or bound UDP sockets) gets a new connection
 * (datagram).  cands are the sockets that match the destination, all of the
 * best address match (a specific address beats a wildcard). */
typedef struct sm_listen_ctx {
    const sm_sock_view *cands;
    size_t n;
    int wire_family;        /* 4 or 6: the packet's IP version */
    uint64_t hash;          /* seeded hash of the 4-tuple */
} sm_listen_ctx;

/* What close() does after a linger timeout. */
enum sm_linger_timeout {
    SM_LINGER_TO_RETURN_OK,          /* returns 0; the close goes on (Linux) */
    SM_LINGER_TO_EWOULDBLOCK,        /* returns EWOULDBLOCK; goes on (FreeBSD) */
    SM_LINGER_TO_RESET               /* resets the connection; returns 0 (Windows) */
};

/* close() with SO_LINGER {1,N>0} on a non-blocking socket. */
enum sm_linger_nonblock {
    SM_LINGER_NB_WAITS,              /* O_NONBLOCK is ignored: it lingers (Linux) */
    SM_LINGER_NB_NO_WAIT,            /* returns 0 at once; the close goes on */
    SM_LINGER_NB_EWOULDBLOCK,        /* EWOULDBLOCK at once; the close goes on */
    SM_LINGER_NB_EWOULDBLOCK_KEEP    /* EWOULDBLOCK, nothing done, the descriptor
                                      * stays open (Windows closesocket) */
};

/* New data (at or past rcv_nxt) reaching a TIME_WAIT entry. */
enum sm_tw_data {
    SM_TW_DATA_ACK = 0, /* acknowledged; the entry stays (Linux, FreeBSD) */
    SM_TW_DATA_RST,     /* the connection is dropped with a RST: no TIME_WAIT is
                         * left (BSDs that keep the whole connection in TIME_WAIT:
                         * data after close resets) */
    SM_TW_DATA_DROP     /* dropped unanswered; the entry stays (Solaris) */
};

/* shutdown() of a listening socket (sm_tcp_rules.shutdown_listener). */
enum sm_shutdown_listen {
    SM_SHUTL_ENOTCONN = 0,  /* ENOTCONN: a listener has no connection */
    SM_SHUTL_STOP_ON_RD,    /* 0; SHUT_RD and SHUT_RDWR stop the listener */
    SM_SHUTL_STOP_ON_WR     /* 0; SHUT_WR and SHUT_RDWR stop the listener */
};

/* send() while the handshake is under way (SYN_SENT). */
enum sm_send_connecting {
    SM_SENDC_WAIT = 0, /* waits for the handshake (non-blocking: EWOULDBLOCK),
                        * then sends or fails as the connection did */
    SM_SENDC_QUEUE,    /* queued at once, sent once the connection is set up */
    SM_SENDC_ENOTCONN  /* ENOTCONN at once: not connected yet */
};

/* A connection reset (RST) while it waits, unaccepted, in the accept queue. */
enum sm_aq_reset {
    SM_AQR_DROP = 0, /* it leaves the queue: accept() never sees it */
    SM_AQR_KEEP,     /* it stays: accept() returns it, closed, its reset
                      * error pending for the next call */
    SM_AQR_FAIL      /* it stays until accept() takes it and fails with
                      * aq_reset_err (the next accept() goes on) */
};

/* Connection rules that are values, one table per profile. */
/* bind()'s checks before the bind table (sm_tcp_rules.bind_steps4/6). */
enum sm_bind_step {
    SM_BIND_STEP_END = 0,
    SM_BIND_STEP_BOUND,   /* the socket already has a port, or is not closed: EINVAL */
    SM_BIND_STEP_FAMILY,  /* the address's family does not fit the socket */
    SM_BIND_STEP_ADDR,    /* the address is not this host's: EADDRNOTAVAIL */
    SM_BIND_STEP_PRIV     /* the profile's bind_priv() (a privileged port) */
};

typedef struct sm_tcp_rules {
    bool unread_close_rst;           /* close() with unread data sends RST */
    const sm_rule *unread_close_rule;
    enum sm_linger_timeout linger_timeout;
    const sm_rule *linger_timeout_rule;
    enum sm_linger_nonblock linger_nonblock;
    const sm_rule *linger_nonblock_rule;
    bool exit_lingers;               /* process exit waits like close() */
    const sm_rule *exit_rule;
    bool tw_overflow_recycles;       /* at the cap, the oldest TIME_WAIT ends
                                      * (else the new one is not kept) */
    const sm_rule *tw_overflow_rule;
    bool local_tw_purge_rule_is_loopback_only; /* NOLOCALTIMEWAIT covers only
                                      * 127/8 and ::1 peers (Solaris) rather
                                      * than every own address (FreeBSD) */
    const sm_rule *no_local_tw_rule;
    sm_err connect_port_exhausted;   /* connect() finds no ephemeral port */
    sm_err connect_on_listener;      /* connect() on a listening socket */
    const sm_rule *connect_on_listener_rule;
    const sm_rule *rst_in_tw_rule;      /* text for RST into TIME_WAIT */
    bool reset_error_sticky;         /* after a RST every send/recv fails with
                                      * ECONNRESET (else once, then EPIPE / end
                                      * of stream) */
    sm_err rst_in_close_wait;        /* error a RST leaves on a socket in
                                      * CLOSE_WAIT (Linux EPIPE) */
    uint32_t linger_hz;              /* units of the stored linger time per
                                      * second: 0 (or 1) seconds; XNU 100
                                      * (SO_LINGER counts 1/100 s ticks,
                                      * SO_LINGER_SEC seconds times hz) */
    bool finwait2_timeout_rst;       /* an orphaned FIN_WAIT_2 that times out
                                      * is dropped with a RST (XNU tcp_drop())
                                      * rather than freed silently */
    const sm_rule *finwait2_timeout_rule;
    /* Segments at other sequence numbers (issue 18).  rfc5961: a RST in
     * the window but not at rcv_nxt, or a SYN in the window, gets a
     * challenge ACK (else the RST is dropped and the SYN answered by an
     * ACK); the INSECURE_* tunables turn either back into a reset. */
    bool rfc5961;
    /* Simultaneous open: a SYN in SYN_SENT moves to SYN_RECEIVED with a
     * SYN+ACK (RFC 9293 3.5); else it is ignored. */
    bool simultaneous_open;
    /* An ACK sent while our FIN is unacknowledged carries the FIN again
     * (BSD tcp_outflags[]: FIN_WAIT_1, CLOSING, LAST_ACK). */
    bool ack_repeats_fin;
    /* TIME_WAIT drops segments without ACK and acknowledges every segment
     * that is not an exact duplicate ACK (FreeBSD tcp_twcheck()); else it
     * acknowledges only a FIN or data. */
    bool tw_ack_non_dup;
    /* The receive window the sequence checks use: the buffer (0: 65535),
     * rounded up to a multiple of the MSS once the connection is set up;
     * a listener's embryonic connection uses synq_rcv_wnd (0: 65535). */
    uint32_t rcvbuf;
    bool rcvbuf_mss_round;
    uint32_t synq_rcv_wnd;
    /* What getsockopt(SO_RCVBUF) reports for a new socket (0: unknown);
     * with rcvbuf_mss_round, rounded up to the MSS once the connection
     * has one. */
    uint32_t so_rcvbuf;
    /* The error a RST in CLOSING or LAST_ACK leaves on a socket still
     * open (SM_OK: none, the close just completes). */
    sm_err rst_in_closing;
    /* A SYN+ACK for a listening socket is dropped (else answered by a
     * RST, RFC 9293 3.10.7.2). */
    bool listener_drops_synack;
    /* connect(AF_UNSPEC).  TCP: SM_OK means the socket is disconnected in
     * any state (an open connection is reset, a listener stops listening,
     * a port taken at connect() is released) and may connect again;
     * otherwise the usual checks come first (listener, connected) and an
     * idle socket gets tcp_unspec.  UDP: the association is dissolved,
     * then udp_unspec is returned; unspec_unbinds: a port the socket
     * got at connect() is released too. */
    sm_err tcp_unspec;
    const sm_rule *tcp_unspec_rule;
    sm_err udp_unspec;
    const sm_rule *udp_unspec_rule;
    bool unspec_unbinds;
    /* sendto() with an address on a connected UDP socket: SM_OK sends to
     * that address (Linux), else the error (BSD EISCONN). */
    sm_err udp_sendto_connected;
    const sm_rule *udp_sendto_connected_rule;
    /* connect() to the wildcard address (0.0.0.0, ::): SM_OK means it
     * stands for this host - the socket's own specific bound address, else
     * loopback (Linux, XNU, Solaris); else the error (FreeBSD ENETUNREACH,
     * Windows WSAEADDRNOTAVAIL). */
    sm_err connect_any;
    const sm_rule *connect_any_rule;
    /* An AF_INET6 socket given an IPv4 address (a sockaddr_in) by
     * connect() or sendto(): SM_OK takes it as its v4-mapped form (then
     * IPV6_V6ONLY refuses it: v4_on_v6only); else the error.  Per protocol:
     * Linux refuses it on TCP (EINVAL: shorter than a sockaddr_in6) and
     * takes it on UDP (ip6_datagram_connect(), udpv6_sendmsg()). */
    sm_err v4_on_v6_tcp, v4_on_v6_udp, v4_on_v6only;
    const sm_rule *v4_on_v6_rule;
    /* A non-blocking connect() that goes on in the background returns
     * this (SM_OK here means EINPROGRESS, POSIX; Windows WSAEWOULDBLOCK). */
    sm_err connect_in_progress;
    const sm_rule *connect_in_progress_rule;
    /* send() and recv() while the connect is in progress (SYN_SENT):
     * SM_OK here means the call behaves as POSIX says (send queues, recv
     * waits or EWOULDBLOCK); else this error (Windows WSAENOTCONN). */
    sm_err io_while_connecting;
    const sm_rule *io_while_connecting_rule;
    /* New data reaching a TIME_WAIT entry (sm_tw_data_action()); before
     * TIME_WAIT, data for a socket already closed (an orphaned FIN_WAIT_1,
     * FIN_WAIT_2, CLOSING or LAST_ACK) is answered by a RST on every OS. */
    enum sm_tw_data tw_data;
    const sm_rule *tw_data_rule;
    /* shutdown() of a listener: ENOTCONN, or 0 with the listener stopped
     * (its unaccepted connections reset, no new ones, accept() EINVAL,
     * the port still bound) when `how` includes what the OS tears it down
     * for; a `how` that does not stop it returns 0 and does nothing. */
    enum sm_shutdown_listen shutdown_listener;
    const sm_rule *shutdown_listener_rule;
    /* send() in SYN_SENT (sm_send_connecting). */
    enum sm_send_connecting send_connecting;
    const sm_rule *send_connecting_rule;
    /* send() on a TCP socket that has no connection and never had one
     * (or whose connect failed): SM_OK means ENOTCONN (POSIX); else this
     * error (Linux EPIPE, sk_stream_wait_connect()). */
    sm_err send_unconnected;
    const sm_rule *send_unconnected_rule;
    /* recv() on a socket whose connect() failed (refused, timed out) after
     * the error was reported: end of stream (Linux: tcp_done() shut it
     * down) rather than ENOTCONN. */
    bool failed_connect_eof;
    const sm_rule *failed_connect_eof_rule;
    /* send() on a socket whose connect() failed: SM_OK means as on one that
     * never connected (send_unconnected); else this error (BSD EPIPE: the
     * failed connection left the socket unable to send). */
    sm_err failed_connect_send;
    const sm_rule *failed_connect_send_rule;
    /* recv() once the peer's FIN has arrived and the queue is read: end of
     * stream even when an error is pending (a RST that came after the FIN),
     * which stays for send() and SO_ERROR (Linux SOCK_DONE is tested
     * before sk_err); else the error first. */
    bool fin_eof_before_error;
    const sm_rule *fin_eof_before_error_rule;
    /* A RST reaching a connection in the accept queue (sm_aq_reset). */
    enum sm_aq_reset aq_reset;
    sm_err aq_reset_err;             /* SM_AQR_FAIL: what accept() returns */
    const sm_rule *aq_reset_rule;
    /* bind()'s first checks in this OS's order, for an AF_INET and an
     * AF_INET6 socket (enum sm_bind_step, up to SM_BIND_STEP_END).  NULL:
     * already bound, then the address family, then the local address (the
     * order of BSD's in_pcbbind()), with the privileged port left to the
     * profile's bind().  Every step a list leaves out is not made. */
    const uint8_t *bind_steps4, *bind_steps6;
    const sm_rule *bind_steps_rule;
    /* A connection ends (refused, reset, timed out) on a socket whose
     * descriptor is still open.  conn_end_frees_auto_port: a port bind()
     * chose (port 0) goes with it, as a port connect() chose always does;
     * else only a port bind() named stays.  conn_end_keeps_name: the
     * socket still reports the address and port it had (getsockname(),
     * `$S`), though the port is free. */
    bool conn_end_frees_auto_port;
    const sm_rule *conn_end_frees_auto_port_rule;
    bool conn_end_keeps_name;
    const sm_rule *conn_end_keeps_name_rule;
    /* A blocking connect() fails while it waits (refused, timed out): the
     * OS dissolves the association as connect(AF_UNSPEC) does - a source
     * address connect() chose goes back to the wildcard, and the socket is
     * not left shut down (recv: ENOTCONN, not failed_connect_eof's end of
     * stream, which then holds only for a failure nobody waited for). */
    bool blocking_fail_disconnects;
    const sm_rule *blocking_fail_disconnects_rule;
} sm_tcp_rules;

/* Context of the TIME_WAIT length of one connection, for profiles whose OS
 * chooses it by where the peer is (NetBSD's MSL classes). */
typedef struct sm_tw_len_ctx {
    const int64_t *tun;     /* the host's tunables */
    sm_addr local;          /* the connection's local address (as on the wire) */
    sm_addr remote;         /* its peer */
    const sm_addr *host_addrs; /* every address of the host */
    size_t n_host_addrs;
    uint64_t reap_anchor_ns; /* SM_TUN_TW_REAP_MS > 0: a time the host's
                              * collector ran (sm_tw_reaper), its phase */
} sm_tw_len_ctx;

/* The revision of this interface (sm_profile.version): 2, methods take
 * the profile as their first argument.  (1: methods without self.) */
#define SM_PROFILE_VERSION 2

struct sm_profile {
    int version;            /* SM_PROFILE_VERSION it was written for */
    const char *name;       /* "linux", "bsd", ... */
    const char *summary;    /* one line: what it stands for */

    /* Tunables: the keys this OS knows and their defaults. */
    const sm_sysctl_def *sysctls;
    size_t n_sysctls;
    int64_t defaults[SM_TUN_COUNT];

    /* The profile's own tables, for its methods to read through self
     * (SQLite's pAppData); the engine never looks at them. */
    const void *data;

    /* Native error names (Windows: WSAE*); NULL for POSIX names only. */
    const char *(*native_err_name)(const sm_profile *self, sm_err e);

    /* setsockopt(): may refuse (ENOPROTOOPT for an option the OS lacks,
     * EINVAL for a forbidden combination or a too-late change).  On SM_OK
     * the engine stores the value in the socket's options. */
    sm_verdict (*setsockopt)(const sm_profile *self, const sm_sock_view *s,
                             sm_option opt, int v1, int v2);

    /* bind() to an explicit port (privileged ports, then conflicts). */
    sm_verdict (*bind)(const sm_profile *self, const sm_bind_ctx *c);

    /* The listen() re-check, with self.state == SM_LISTEN.  Profiles whose
     * OS does not re-check return SM_OK. */
    sm_verdict (*listen)(const sm_profile *self, const sm_bind_ctx *c);

    /* Choose an ephemeral port for bind(port 0) or an autobind at listen().
     * On SM_OK *port is set (not 0); on exhaustion the OS's error. */
    sm_verdict (*pick_port)(const sm_profile *self, sm_pick_ctx *c, uint16_t *port);

    /* ---- connections ---- */
    const sm_tcp_rules *tcp;

    /* connect() of a socket that already has its port: may it take the
     * 4-tuple self.local_addr:self.port -> self.remote?  check ==
     * SM_CHECK_CONNECT; owners are every other owner of the port (bound,
     * listening, connected sockets and TIME_WAIT entries).  SM_OK with
     * culprit >= 0 means "yes, by ending that TIME_WAIT entry" - or that
     * orphaned connection (no descriptor left), which the OS keeps as a
     * TIME_WAIT entry (Linux's FIN_WAIT_2 timewait socket): it ends
     * silently. */
    sm_verdict (*connect)(const sm_profile *self, const sm_bind_ctx *c);

    /* connect() of an unbound socket: choose its ephemeral port toward
     * self.remote (sm__pick_port_ctx gives SM_CHECK_CONNECT_PORT contexts;
     * sm__pick_takeover marks a TIME_WAIT entry to end). */
    sm_verdict (*pick_connect_port)(const sm_profile *self, sm_pick_ctx *c,
                                    uint16_t *port);

    /* A SYN for a 4-tuple held by a TIME_WAIT entry. */
    sm_tw_syn_verdict (*tw_syn)(const sm_profile *self, const sm_tw_syn_ctx *c);

    /* The options of an outgoing TCP segment, written to out (at most 40
     * bytes); returns their length.  NULL: the engine writes none. */
    size_t (*tcp_options)(const sm_profile *self, const sm_tcpopt_ctx *c, uint8_t *out);

    /* Which of several matching listeners gets the connection: an index
     * into c->cands (below c->n). */
    size_t (*select_listener)(const sm_profile *self, const sm_listen_ctx *c);
    const sm_rule *select_listener_rule;

    /* Optional: the TIME_WAIT length (ms) of one connection; NULL means
     * tun[SM_TUN_TIME_WAIT_MS] for every connection. */
    uint64_t (*time_wait_ms)(const sm_profile *self, const sm_tw_len_ctx *c);

    /* Optional: the privileged-port check alone, for SM_BIND_STEP_PRIV
     * (c->self has the address and port asked for; no owners). */
    sm_verdict (*bind_priv)(const sm_profile *self, const sm_bind_ctx *c);

    /* Every rule record its methods and tables can return, as the sets of
     * the files they live in; NULL-terminated. */
    const sm_rule_set *const *rule_sets;
};

/* ---- rules the engine derives from a profile's values --------------------
 * One home for each, used by the engine (engine/sm_timewait.c) and by
 * replay (replay/track.c), so that the two cannot disagree. */

/* What becomes of a connection that reaches TIME_WAIT on a host. */
typedef enum sm_tw_admit {
    SM_TW_KEPT,            /* an entry is kept */
    SM_TW_KEPT_RECYCLE,    /* the cap is reached: the host's oldest entry ends
                            * and a new one is kept (tw_overflow_recycles) */
    SM_TW_NOT_KEPT_LOCAL,  /* none: the peer is this host (NOLOCALTIMEWAIT) */
    SM_TW_NOT_KEPT_CAP     /* none: the cap is reached */
} sm_tw_admit;

/* TIME_WAIT admission under profile p with the host's tunables tun, when
 * the host holds `alive` entries.  peer_loopback: the peer's address is
 * 127/8, ::1 or mapped loopback; peer_own: it is one of this host's own
 * addresses.  Both matter only when tun[SM_TUN_NOLOCALTIMEWAIT] is set (a
 * caller may skip working them out otherwise).  *rule: the profile's rule
 * text for a case other than SM_TW_KEPT (else NULL). */
sm_tw_admit sm_tw_admission(const sm_profile *p, const int64_t *tun, uint64_t alive,
                            bool peer_loopback, bool peer_own, const sm_rule **rule);

/* An RST reaching a TIME_WAIT entry: does it end the entry?  in_window:
 * its sequence number is the one the entry expects.  *rule: the profile's
 * text for RSTs into TIME_WAIT. */
bool sm_tw_rst_ends(const sm_profile *p, const int64_t *tun, bool in_window,
                    const sm_rule **rule);

/* When a TIME_WAIT entry that (re)starts its 2MSL at now_ns ends under
 * profile p: the profile's length for this connection (time_wait_ms(),
 * else c->tun[SM_TUN_TIME_WAIT_MS]), rounded up to the next run of the OS's
 * collector where entries are freed only there (SM_TUN_TW_REAP_MS > 0, XNU
 * tcp_gc(): runs every period from c->reap_anchor_ns).  Saturates at
 * UINT64_MAX. */
uint64_t sm_tw_expiry_ns(const sm_profile *p, const sm_tw_len_ctx *c, uint64_t now_ns);
/* The profile's TIME_WAIT length for this connection, in ms, before any
 * collector's rounding: what sm_tw_expiry_ns() adds to now_ns. */
uint64_t sm_tw_length_ms(const sm_profile *p, const sm_tw_len_ctx *c);

/* The phase of a host's TIME_WAIT collector, where the OS has one (XNU:
 * add_to_time_wait() arms the lazy inpcb timer when it is not armed, and
 * tcp_gc() re-arms it while entries wait).  The collector starts when an
 * entry arrives on a host that has none and whose collector has stopped,
 * and stops at its first run after the host's last entry left: so a lone
 * connection's TIME_WAIT lasts exactly its 2MSL when that is a whole
 * number of periods (XNU: 30 s, with the 10 s period the model takes). */
typedef struct sm_tw_reaper {
    uint64_t anchor_ns;  /* a run of the collector (its phase) */
    uint64_t stop_ns;    /* its last run, once the host has no entry */
} sm_tw_reaper;
/* An entry arrives at now_ns on a host holding `live` entries. */
void sm_tw_reaper_enter(sm_tw_reaper *r, const int64_t *tun, uint64_t live,
                        uint64_t now_ns);
/* The host's last entry left at now_ns. */
void sm_tw_reaper_empty(sm_tw_reaper *r, const int64_t *tun, uint64_t now_ns);

/* New data (a segment with payload at or past the entry's rcv_nxt)
 * reaching a TIME_WAIT entry: what the OS does.  *rule: its text. */
enum sm_tw_data sm_tw_data_action(const sm_profile *p, const sm_rule **rule);

/* The registry of profiles (profiles/registry.c). */
extern const sm_profile *const sm__profiles[];
extern const size_t sm__n_profiles;
/* The engine's own rule sets (facts every OS shares, and the model's own:
 * limits, out of memory, contract violations), NULL-terminated
 * (engine/sm_rules.c); the socket layer's (sockapi/sm_sockapi.c). */
extern const sm_rule_set *const sm__engine_rule_sets[];
extern const sm_rule_set sm__rules_sm_sockapi;

/* Small helpers shared by profiles. */
static inline sm_verdict sm__ok(const sm_rule *rule)
{
    sm_verdict v = {.err = SM_OK, .rule = rule, .culprit = -1};
    return v;
}
static inline sm_verdict sm__fail(sm_err e, const sm_rule *rule, int culprit)
{
    sm_verdict v = {.err = e, .rule = rule, .culprit = culprit};
    return v;
}

/* Address classes for the decisions that ask them again and again
 * (sm_addr.c's public sm_addr_equal(), sm_addr_is_any(), ... are these). */
static inline bool sm__addr_eq(const sm_addr *a, const sm_addr *b)
{
    if (a->family != b->family)
        return false;
    return a->family == 6 ? memcmp(a->b, b->b, 16) == 0 : memcmp(a->b, b->b, 4) == 0;
}

static inline bool sm__addr_is_any(const sm_addr *a)
{
    static const uint8_t zero[16];
    return a->family == 6 ? memcmp(a->b, zero, 16) == 0 : memcmp(a->b, zero, 4) == 0;
}

static inline bool sm__addr_is_v4mapped(const sm_addr *a)
{
    static const uint8_t mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return a->family == 6 && memcmp(a->b, mapped_prefix, 12) == 0;
}

/* The IPv4 address of a v4 or v4-mapped address (host byte order). */
static inline bool sm__addr_v4(const sm_addr *a, uint32_t *out)
{
    const uint8_t *p;
    if (a->family == 4)
        p = a->b;
    else if (sm__addr_is_v4mapped(a))
        p = a->b + 12;
    else
        return false;
    *out = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           (uint32_t)p[3];
    return true;
}

static inline sm_addr sm__addr_any(int family)
{
    return (sm_addr){.family = (uint8_t)(family == 6 ? 6 : 4)};
}

/* sm_addr_unmapped and sm_addr_mapped (sm.h), inline for the engine's
 * and the profiles' hot paths. */
static inline sm_addr sm__addr_unmapped(const sm_addr *a)
{
    if (!sm__addr_is_v4mapped(a))
        return *a;
    sm_addr r = sm__addr_any(4);
    memcpy(r.b, a->b + 12, 4);
    return r;
}

static inline sm_addr sm__addr_mapped(const sm_addr *a)
{
    if (a->family == 6)
        return *a;
    sm_addr r = sm__addr_any(6);
    r.b[10] = r.b[11] = 0xff;
    memcpy(r.b + 12, a->b, 4);
    return r;
}

#endif /* SM_PROFILE_H */
