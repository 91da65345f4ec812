/*
 * sm.h - the public interface of the sockmodel engine.
 *
 * sockmodel is a deterministic, in-process model of how operating systems
 * decide socket calls: a world of hosts (each with its own addresses and
 * its own port tables), users, processes and sockets, driven by a virtual
 * clock.  Every rule that differs between operating systems lives in an OS
 * profile (see sm_profile.h and profiles/); this header is what callers
 * (the scenario runner, tests, benchmarks) use.
 *
 * Conventions: functions return an sm_result by value; err == SM_OK means
 * success.  Identifiers of hosts, users, processes and sockets are small
 * integers (sm_id) valid for the life of the world.
 *
 * The library never aborts.  When the model itself cannot go on - memory
 * ran out (SM_ENOMEM), or a profile broke the profile interface's contract
 * (SM_EPROTO, "profile contract violated: ...") - the world is broken: the
 * call that met it and every later call fail with that error and rule,
 * the clock stands still, set-up calls return SM_NONE / false, and the
 * world can still be freed.  Nothing leaks.
 */
#ifndef SM_H
#define SM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- errors ------------------------------------------------------------ */

/* Portable error names (POSIX spelling).  Windows profiles also give each a
 * native WSAE* name through sm_profile_err_name(). */
typedef enum sm_err {
    SM_OK = 0,
    SM_EADDRINUSE,
    SM_EADDRNOTAVAIL,
    SM_EACCES,
    SM_EINVAL,
    SM_EISCONN,
    SM_ENOTCONN,
    SM_ENOPROTOOPT,
    SM_EOPNOTSUPP,
    SM_ECONNREFUSED,
    SM_ECONNRESET,
    SM_ECONNABORTED,
    SM_EINPROGRESS,
    SM_EALREADY,
    SM_EWOULDBLOCK, /* == EAGAIN */
    SM_ENOBUFS,
    SM_EAFNOSUPPORT,
    SM_ETIMEDOUT,
    SM_EPIPE,
    SM_EBADF,
    SM_EPERM,
    SM_ENETUNREACH,
    SM_EFAULT,
    SM_EPROTO,
    SM_ENOSYS, /* the model cannot do this call yet */
    SM_ENOMEM, /* the model itself ran out of memory: the world is broken */
    SM_ERR_COUNT
} sm_err;

/* "EADDRINUSE", ...; "ok" for SM_OK. */
const char *sm_err_name(sm_err e);
/* Parses a portable name ("EAGAIN" is an alias of EWOULDBLOCK) or "ok". */
bool sm_err_parse(const char *name, sm_err *out);

/* ---- addresses --------------------------------------------------------- */

/* An IPv4 (family 4, bytes b[0..3]) or IPv6 (family 6, b[0..15]) address. */
typedef struct sm_addr {
    uint8_t family;
    uint8_t b[16];
} sm_addr;

typedef struct sm_endpoint {
    sm_addr addr;
    uint16_t port;
} sm_endpoint;

/* Parse "a.b.c.d" or an IPv6 literal (no brackets).  len = bytes of s. */
bool sm_addr_parse(const char *s, size_t len, sm_addr *out);
/* Parse "a.b.c.d:P" or "[v6]:P".  On failure *why says what was wrong. */
bool sm_endpoint_parse(const char *s, size_t len, sm_endpoint *out,
                       const char **why);
/* Text forms; return the length written (buffers of SM_EP_STRLEN suffice). */
#define SM_EP_STRLEN 56
size_t sm_addr_format(const sm_addr *a, char *buf, size_t n);
size_t sm_endpoint_format(const sm_endpoint *ep, char *buf, size_t n);

bool sm_addr_equal(const sm_addr *a, const sm_addr *b);
bool sm_addr_is_any(const sm_addr *a);      /* 0.0.0.0 or :: */
bool sm_addr_is_v4mapped(const sm_addr *a); /* ::ffff:a.b.c.d */
bool sm_addr_is_loopback(const sm_addr *a); /* 127/8, ::1, mapped 127/8 */
bool sm_addr_is_multicast(const sm_addr *a);
/* The IPv4 address of a v4 or v4-mapped address (host byte order). */
bool sm_addr_v4(const sm_addr *a, uint32_t *out);
sm_addr sm_addr_any(int family);
/* The address as it is on the wire: a v4-mapped address becomes IPv4,
 * any other is returned as it is. */
sm_addr sm_addr_unmapped(const sm_addr *a);
/* The address as an AF_INET6 socket holds it: IPv4 becomes v4-mapped
 * (::ffff:a.b.c.d), IPv6 is returned as it is. */
sm_addr sm_addr_mapped(const sm_addr *a);

/* ---- sockets ----------------------------------------------------------- */

typedef enum sm_proto { SM_TCP = 0, SM_UDP = 1 } sm_proto;

/* RFC 9293 states; SM_CLOSED also stands for "created or bound, idle". */
typedef enum sm_tcp_state {
    SM_CLOSED = 0,
    SM_LISTEN,
    SM_SYN_SENT,
    SM_SYN_RECEIVED,
    SM_ESTABLISHED,
    SM_FIN_WAIT_1,
    SM_FIN_WAIT_2,
    SM_CLOSE_WAIT,
    SM_CLOSING,
    SM_LAST_ACK,
    SM_TIME_WAIT,
    SM_STATE_COUNT
} sm_tcp_state;

const char *sm_state_name(sm_tcp_state s);
bool sm_state_parse(const char *name, sm_tcp_state *out);

typedef enum sm_option {
    SM_SO_REUSEADDR = 0,
    SM_SO_REUSEPORT,
    SM_SO_REUSEPORT_LB,
    SM_SO_EXCLUSIVEADDRUSE,
    SM_SO_EXCLBIND,
    SM_IPV6_V6ONLY,
    SM_SO_LINGER,
    SM_O_NONBLOCK, /* not a socket option: fcntl(O_NONBLOCK); the engine's */
    SM_SO_LINGER_SEC, /* macOS: SO_LINGER with the time in seconds */
    SM_IP_BIND_ADDRESS_NO_PORT, /* Linux: bind(addr, 0) leaves the port to connect() */
    SM_IP_LOCAL_PORT_RANGE,     /* Linux 6.3: this socket's ephemeral range (LO HI) */
    SM_SO_REUSE_UNICASTPORT,    /* Windows 10: defer the ephemeral port to connect */
    SM_OPT_COUNT
} sm_option;

const char *sm_option_name(sm_option o);
bool sm_option_parse(const char *name, sm_option *out);
/* Number of values the option takes in a scenario (SO_LINGER and
 * IP_LOCAL_PORT_RANGE: 2). */
int sm_option_arity(sm_option o);

/* ---- profiles ---------------------------------------------------------- */

typedef struct sm_profile sm_profile;

size_t sm_profile_count(void);
const sm_profile *sm_profile_at(size_t i);
const sm_profile *sm_profile_find(const char *name);
const char *sm_profile_name(const sm_profile *p);
const char *sm_profile_summary(const sm_profile *p);
/* The name this OS gives the error: WSAEADDRINUSE under Windows. */
const char *sm_profile_err_name(const sm_profile *p, sm_err e);
/* True if NAME (portable or native) names error e under profile p. */
bool sm_profile_err_matches(const sm_profile *p, sm_err e, const char *name);

/* ---- the world --------------------------------------------------------- */

typedef uint32_t sm_id;
#define SM_NONE ((sm_id)0xffffffffu)

typedef struct sm_world sm_world;

/* A fresh world under profile p; seed drives every random choice. */
sm_world *sm_world_new(const sm_profile *p, uint64_t seed); /* NULL: out of memory */
void sm_world_free(sm_world *w);
const sm_profile *sm_world_profile(const sm_world *w);
/* Why the world cannot go on (see above), with its error in *err if err is
 * not NULL; NULL while all is well. */
const char *sm_world_broken(const sm_world *w, sm_err *err);

/* Hosts: every host has 127.0.0.1 and ::1, and runs the world's profile
 * unless it is pinned to another one. */
sm_id sm_host_add(sm_world *w, const char *name);
sm_id sm_host_find(const sm_world *w, const char *name);
/* Pins host to profile p (a mixed-OS world): every decision made on that
 * host (options, bind, listen, ports, connect, the listener a SYN reaches,
 * TIME_WAIT, linger, timers, TCP options, sysctl keys) is p's from now on,
 * and its tunables are reset to p's defaults.  Only before the host has a
 * process; false (nothing changes) otherwise, or when p is NULL or is a
 * profile this engine cannot use.  A world whose every host runs the
 * world's profile behaves as before. */
bool sm_host_set_profile(sm_world *w, sm_id host, const sm_profile *p);
/* The profile host runs (the world's unless pinned). */
const sm_profile *sm_host_profile(const sm_world *w, sm_id host);
/* Adds an address; false if the host has it already. */
bool sm_host_add_addr(sm_world *w, sm_id host, const sm_addr *a);
bool sm_host_has_addr(const sm_world *w, sm_id host, const sm_addr *a);
const char *sm_host_name(const sm_world *w, sm_id host);

/* Users: "root" is the privileged user (uid 0); any other name gets its
 * own uid, 1000 upwards in order of first use. */
sm_id sm_user_get(sm_world *w, const char *name);
uint32_t sm_user_uid(const sm_world *w, sm_id user);

/* Processes live on one host and belong to the user that created them. */
sm_id sm_proc_get(sm_world *w, sm_id host, const char *name, sm_id user);

/* Set a tunable of a host.  Returns NULL on success, else a message
 * ("unknown key ...", "value out of range ...") that stays valid until the
 * next sm_sysctl() call on the same world. */
const char *sm_sysctl(sm_world *w, sm_id host, const char *key,
                      const char *const *values, size_t nvalues);

/* ---- rules -------------------------------------------------------------
 * Every decision names the rule that made it: a static record with a
 * stable dotted ID ("linux.bind.conflict", never reworded once released),
 * the rule in plain English, where it comes from, and how sure the model is
 * of it (the tag the reference notes give each fact).  docs/rules.md lists
 * every record; the naming scheme is explained there. */
typedef enum sm_confidence {
    SM_CONF_SOURCE = 0, /* [S] read in the OS's source */
    SM_CONF_TEST,       /* [T] asserted by an upstream test */
    SM_CONF_OBSERVED,   /* [O] measured on the real OS */
    SM_CONF_DOCUMENTED, /* [D] vendor documentation */
    SM_CONF_INFERRED,   /* [I] inferred from the above */
    SM_CONF_UNVERIFIED  /* [U] unverified */
} sm_confidence;

typedef struct sm_rule {
    const char *id;     /* "linux.bind.conflict": lowercase, dotted, unique */
    const char *text;   /* what it decides, in plain English */
    const char *source; /* where it comes from ("" when the model itself is the source) */
    sm_confidence confidence;
} sm_rule;

/* The rule records of one file (an OS's rule table, a table several
 * profiles share, the engine's or a tool's own), for docs/rules.md. */
typedef struct sm_rule_set {
    const char *name;              /* "linux_common", "sm_usrreq", ... */
    const sm_rule *const *rules;
    size_t n;
} sm_rule_set;

/* "source", "test", "observed", "documented", "inferred", "unverified". */
const char *sm_confidence_name(sm_confidence c);
/* The rule as one line of prose, as --explain has always shown it: "text
 * [source]", or the text alone when it has no source (NULL: "").  Writes
 * at most n bytes to buf (snprintf's contract) and returns buf. */
const char *sm_rule_line(const sm_rule *r, char *buf, size_t n);
/* The record with this ID among the engine's, the socket layer's and every
 * profile's rules, or NULL. */
const sm_rule *sm_rule_find(const char *id);
/* A record in one static initializer: SM_RULE("linux.bind.free", S,
 * "text", "source"); the confidence is the reference notes' tag letter. */
#define SM_RULE(id_, tag_, text_, source_)                                   \
    {.id = (id_), .text = (text_), .source = (source_),                      \
     .confidence = SM_CONF_##tag_}
#define SM_CONF_S SM_CONF_SOURCE
#define SM_CONF_T SM_CONF_TEST
#define SM_CONF_O SM_CONF_OBSERVED
#define SM_CONF_D SM_CONF_DOCUMENTED
#define SM_CONF_I SM_CONF_INFERRED
#define SM_CONF_U SM_CONF_UNVERIFIED

/* The result of a call, with the reason a teacher can read. */
typedef struct sm_result {
    sm_err err;
    const sm_rule *rule; /* which rule decided (static record) */
    sm_id culprit;    /* the socket it conflicted with, or SM_NONE */
    bool culprit_tw;  /* the culprit is a TIME_WAIT entry of that socket */
    uint16_t port;    /* port picked (bind to port 0, autobind), or 0 */
    uint64_t bytes;   /* send/recv: bytes moved (recv: 0 at end of stream) */
} sm_result;

sm_result sm_socket(sm_world *w, sm_id proc, sm_proto proto, int family,
                    const char *name, sm_id *out);
sm_result sm_setsockopt(sm_world *w, sm_id s, sm_option opt, int v1, int v2);
sm_result sm_bind(sm_world *w, sm_id s, const sm_endpoint *ep);
sm_result sm_listen(sm_world *w, sm_id s, int backlog);
sm_result sm_close(sm_world *w, sm_id s);
sm_result sm_proc_exit(sm_world *w, sm_id proc);

/* Connection calls (sm_usrreq.c).  A blocking call runs the world's clock
 * forward (delivering segments, firing timers) until it can return; when
 * nothing that could unblock it is on its way it fails with EWOULDBLOCK
 * and a rule saying it would block forever. */
sm_result sm_connect(sm_world *w, sm_id s, const sm_endpoint *ep);
/* connect() with AF_UNSPEC: dissolve the association, as the profile's
 * OS does (sm_tcp_rules.tcp_unspec / udp_unspec). */
sm_result sm_connect_unspec(sm_world *w, sm_id s);
sm_result sm_accept(sm_world *w, sm_id s, const char *name, sm_id *out);
sm_result sm_send(sm_world *w, sm_id s, uint64_t bytes);
sm_result sm_recv(sm_world *w, sm_id s, uint64_t bytes);
/* sendto(): on TCP the address is ignored (send); on UDP a datagram to
 * ep, from an unconnected socket too (bound first if it is not).  A
 * datagram's boundaries are not kept: a read returns up to the bytes it
 * asks for of what is queued. */
sm_result sm_sendto(sm_world *w, sm_id s, const sm_endpoint *ep, uint64_t bytes);
sm_result sm_shutdown(sm_world *w, sm_id s, bool rd, bool wr);

/* Virtual time, in nanoseconds since the world began.  sm_advance moves
 * the clock forward, delivering every segment and firing every timer that
 * falls due on the way; it never moves it past SM_CLOCK_MAX (2^63 ns,
 * about 292 years), so every timeout started at a time the clock can reach
 * still ends in the future.  Every sum of a time and a duration saturates
 * (sm_time_add): a deadline that would pass 2^64 ns is "never". */
#define SM_CLOCK_MAX (UINT64_C(1) << 63)
uint64_t sm_now(const sm_world *w);
void sm_advance(sm_world *w, uint64_t ns);
/* When the next timer, delivery or TIME_WAIT end falls due (UINT64_MAX:
 * none is pending, or the world is broken): a driver that waits for
 * something to happen can skip the idle time up to it. */
uint64_t sm_next_event(const sm_world *w);

/* t + d, or UINT64_MAX where that would wrap. */
static inline uint64_t sm_time_add(uint64_t t, uint64_t d)
{
    return d > UINT64_MAX - t ? UINT64_MAX : t + d;
}

/* ms milliseconds in nanoseconds, or UINT64_MAX where that would wrap. */
static inline uint64_t sm_time_ms(uint64_t ms)
{
    return ms > UINT64_MAX / 1000000u ? UINT64_MAX : ms * 1000000u;
}

/* ---- the simulated network --------------------------------------------- */

/* TCP header flags, as on the wire. */
#define SM_TH_FIN 0x01u
#define SM_TH_SYN 0x02u
#define SM_TH_RST 0x04u
#define SM_TH_PSH 0x08u
#define SM_TH_ACK 0x10u

/* One segment (TCP) or datagram (UDP) as it leaves its sender. */
typedef struct sm_segment {
    uint64_t time_ns;     /* virtual time it was sent */
    sm_id src_host;
    sm_id dst_host;       /* SM_NONE: no host has the destination address */
    sm_proto proto;
    sm_endpoint src, dst; /* both of one family (v4-mapped sent as IPv4) */
    uint8_t flags;        /* SM_TH_*; 0 for UDP */
    uint32_t seq, ack;
    uint16_t window;
    uint32_t len;         /* payload bytes (their content is not modelled) */
    bool has_ts;          /* TCP timestamps option present */
    uint32_t tsval, tsecr;
    uint32_t no;          /* the world's count of segments sent, this one
                           * included: numbers the sends from 1 */
    uint8_t optlen;       /* TCP options as on the wire (all of them, the */
    uint8_t opt[40];      /* timestamps too), laid out as the OS does */
} sm_segment;

/* Called for every segment the network carries, in the order sent. */
typedef void (*sm_tap_fn)(void *ctx, const sm_segment *seg);
void sm_world_set_tap(sm_world *w, sm_tap_fn fn, void *ctx);

/* Called when a segment reaches its destination host, with the socket the
 * engine handed it to: the connection's socket (the one that entered
 * TIME_WAIT, for its TIME_WAIT entry), the listener a new connection's SYN
 * went to, the datagram's receiver (once per receiver of a multicast); or
 * SM_NONE when no socket took it (the stack answered or dropped it).  seg
 * is the record the tap saw at send time; sm_now() is the arrival. */
typedef void (*sm_delivery_fn)(void *ctx, const sm_segment *seg, sm_id sock);
void sm_world_set_delivery_tap(sm_world *w, sm_delivery_fn fn, void *ctx);
/* Decisions the engine makes below the calls, for --explain and JSON:
 * which listener took a connection, TIME_WAIT entered, not kept or ended,
 * a timer that fired, the port an implicit bind chose.  (How a close with
 * SO_LINGER went is the close's own result and rule.)  Each names the rule that decided.  Only recorded
 * when a tap is set (no cost otherwise); the order is the order made. */
typedef enum sm_event_kind {
    SM_EV_LISTENER,  /* sock took a connection (datagram): the profile chose
                      * among equal listeners, or a more specific bind won */
    SM_EV_TW_ENTER,  /* sock's connection entered TIME_WAIT for value ms */
    SM_EV_TW_SKIP,   /* sock's connection closed without TIME_WAIT */
    SM_EV_TW_END,    /* sock's TIME_WAIT entry ended: value 0 before its
                      * time (RST, SYN, reuse by connect, the cap), 1 at it */
    SM_EV_TIMER,     /* sock's timer fired (the rule says what it did) */
    SM_EV_PORT,      /* an implicit bind of sock chose port value */
    SM_EV_KIND_COUNT
} sm_event_kind;

typedef struct sm_event {
    sm_event_kind kind;
    uint64_t time_ns;   /* virtual time it was made */
    sm_id sock;         /* the socket concerned (named as sm_sock_name) */
    uint32_t value;     /* per kind, above */
    const sm_rule *rule;
} sm_event;

typedef void (*sm_event_fn)(void *ctx, const sm_event *ev);
void sm_world_set_event_tap(sm_world *w, sm_event_fn fn, void *ctx);
/* "listener", "time-wait-enter", ... (stable: JSON event kinds) */
const char *sm_event_kind_name(sm_event_kind k);

/* A segment from a peer that no modelled host stands for (a scripted peer,
 * packetdrill's `<` lines): it arrives now at the host owning seg->dst and
 * is handled there at once (the tap sees it first; src_host is SM_NONE).
 * False if no host owns seg->dst. */
bool sm_net_inject(sm_world *w, const sm_segment *seg);

/* One-way delay between two different hosts, and on a host's loopback
 * (defaults: 1 ms and 50 us). */
void sm_world_set_delay(sm_world *w, uint64_t between_hosts_ns,
                        uint64_t loopback_ns);

/* Reuse the records of sockets that are gone (descriptor closed and the
 * connection over or handed to a TIME_WAIT entry) for new sockets.  Off by
 * default: with it on, the id of a socket that is gone may name a new one,
 * so only callers that forget ids at close (benchmarks, replays) use it. */
void sm_world_set_recycle(sm_world *w, bool on);

/* Counters for tools and benchmarks. */
typedef struct sm_stats {
    uint64_t segments;       /* segments sent */
    uint64_t connections;    /* connections established */
    uint64_t time_wait;      /* TIME_WAIT entries alive now */
    uint64_t time_wait_peak; /* most TIME_WAIT entries alive at once */
    uint64_t tw_overflow;    /* closes that found the TIME_WAIT table full */
    uint64_t live_sockets;   /* sockets with an open descriptor or a connection */
} sm_stats;
void sm_world_stats(const sm_world *w, sm_stats *out);

/* Observations. */
sm_id sm_sock_find(const sm_world *w, const char *name);
const char *sm_sock_name(const sm_world *w, sm_id s);
sm_tcp_state sm_sock_state(const sm_world *w, sm_id s);
bool sm_sock_local(const sm_world *w, sm_id s, sm_endpoint *out);
int sm_sock_pending(const sm_world *w, sm_id s);
/* Bytes received and not yet read; *eof (if not NULL) is set when a read
 * would not wait for more: the peer's FIN arrived or an error (a reset) is
 * pending.  What poll() needs to report POLLIN. */
uint64_t sm_sock_unread(const sm_world *w, sm_id s, bool *eof);
/* poll() readiness now: SM_POLL_IN (a read or accept would not wait),
 * SM_POLL_OUT (a send would not wait), SM_POLL_HUP (the connection is
 * closed or was never made).  From the engine's state, after Linux
 * tcp_poll()/udp_poll() (net/ipv4/tcp.c): a listener is readable with a
 * connection to accept; a connection in SYN_SENT/SYN_RECEIVED is neither;
 * an established one is writable and readable with data unread or the
 * peer's FIN or an error pending; a TCP socket with no connection is
 * writable and hung up.  Inferred for the other OSes. */
#define SM_POLL_IN 1u
#define SM_POLL_OUT 2u
#define SM_POLL_HUP 4u
unsigned sm_sock_poll(const sm_world *w, sm_id s);
/* The peer of a connected socket (or of its TIME_WAIT entry). */
bool sm_sock_remote(const sm_world *w, sm_id s, sm_endpoint *out);
/* getsockopt(SO_ERROR): the socket's pending error (SM_OK: none), which
 * the reading clears (unless the profile keeps a reset error). */
sm_err sm_sock_take_error(sm_world *w, sm_id s);
/* getsockopt() of a socket option (not O_NONBLOCK): its value as the
 * socket holds it, the profile's default when never set (IPV6_V6ONLY);
 * SO_LINGER: *v1 on/off, *v2 the time in the profile's unit.  False for
 * an unknown socket or option. */
bool sm_sock_option(const sm_world *w, sm_id s, sm_option o, int *v1, int *v2);
/* getsockopt(SO_RCVBUF): the receive buffer size as the OS reports it. */
uint32_t sm_sock_rcvbuf(const sm_world *w, sm_id s);
/* TIME_WAIT entries alive on a host now. */
uint64_t sm_host_time_wait(const sm_world *w, sm_id host);
sm_id sm_sock_host(const sm_world *w, sm_id s);

#ifdef __cplusplus
}
#endif
#endif /* SM_H */
