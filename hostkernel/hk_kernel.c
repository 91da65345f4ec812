/*
 * hk_kernel.c - the kernel backend (scenario/scn_backend.h): performs a
 * scenario's calls as real system calls on this machine's kernel, for the
 * `host` column; the runner (scenario/scn_run.c) records the outcomes in
 * the same form as the modelled profiles (docs/host-profile.md).
 *
 * What it models: nothing - it asks the kernel.  What it arranges:
 *   - isolation: each run unshares fresh network namespaces (hk_netns.c),
 *     brings their loopback up and puts every scenario host address on it;
 *     the process goes back to its own namespace at the end.  Nothing
 *     leaves the namespace.
 *   - users: "root" is uid/gid 0, every other user 10000 + its index
 *     ("user" 0, then the others in order of first `as` line); each call
 *     is made with those effective ids (saved ids stay 0 to switch back).
 *   - processes: one real process; `exit P` closes every descriptor that P
 *     holds, without lingering (as the kernel closes them at exit).
 *   - blocking calls: descriptors are always non-blocking; a blocking call
 *     is polled for a short real time and, when nothing can arrive on
 *     loopback, reported as the model does (EWOULDBLOCK, "would block
 *     forever").
 *   - time: `wait` sleeps at most a few milliseconds.  When the wait would
 *     let a kernel timer that matters expire (TIME_WAIT, orphaned
 *     FIN_WAIT_2, retransmissions), or a call would really block for
 *     seconds (lingering close, unanswered connect), that step and every
 *     later one is marked skipped with the reason, never guessed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <linux/sockios.h>

#include "hk.h"
#include "hk_netns.h"
#include "scn_backend.h"
#include "sockmodel/socket.h"

/* ---- rule records: what this file decides, with ID, source and tag ---- */

/* The record behind every failed call: its text (which errno, from
 * which call) is written per result. */
static const sm_rule r_kernel_errno = SM_RULE("host.kernel.errno", O,
    "the kernel returned an error from the call",
    "this machine's kernel");
static const sm_rule r_block_forever = SM_RULE("host.block-forever", O,
    "nothing that could complete the call is on its way: a blocking call "
    "would block forever (host: nothing arrived on loopback within 100 "
    "ms)",
    "");
static const sm_rule r_socket = SM_RULE("host.socket", O,
    "the kernel created the socket (host)",
    "");
static const sm_rule r_nonblock = SM_RULE("host.nonblock", O,
    "fcntl(O_NONBLOCK): the call emulation follows it (host descriptors "
    "are always non-blocking)",
    "");
static const sm_rule r_sockopt_unknown = SM_RULE("host.sockopt-unknown", O,
    "Linux has no such option: a program gets ENOPROTOOPT (host: not "
    "asked, there is no option number to pass)",
    "");
static const sm_rule r_sockopt = SM_RULE("host.sockopt", O,
    "the kernel accepted the option (host)",
    "");
static const sm_rule r_bind = SM_RULE("host.bind", O,
    "the kernel bound the socket (host)",
    "");
static const sm_rule r_listen = SM_RULE("host.listen", O,
    "the kernel accepted listen() (host)",
    "");
static const sm_rule r_connect = SM_RULE("host.connect", O,
    "the kernel connected the socket (host)",
    "");
static const sm_rule r_accept = SM_RULE("host.accept", O,
    "the kernel accepted a connection (host)",
    "");
static const sm_rule r_send_datagram = SM_RULE("host.send-datagram", O,
    "the kernel sent the datagram (host)",
    "");
static const sm_rule r_send_partial = SM_RULE("host.send-partial", O,
    "the kernel took part of the data; a blocking send would block for "
    "the rest (host)",
    "");
static const sm_rule r_send = SM_RULE("host.send", O,
    "the kernel queued the data (host)",
    "");
static const sm_rule r_recv = SM_RULE("host.recv", O,
    "the kernel returned data (host)",
    "");
static const sm_rule r_recv_eof = SM_RULE("host.recv-eof", O,
    "the kernel returned 0: end of stream (host)",
    "");
static const sm_rule r_shutdown = SM_RULE("host.shutdown", O,
    "the kernel shut the connection down (host)",
    "");
static const sm_rule r_close = SM_RULE("host.close", O,
    "the kernel closed the descriptor (host)",
    "");
static const sm_rule r_exit = SM_RULE("host.exit", O,
    "the process's descriptors were closed as at exit, without lingering "
    "(host: one real process stands for all)",
    "");
static const sm_rule r_advance = SM_RULE("host.advance", O,
    "the scenario's clock moved on; the kernel had a few real "
    "milliseconds to deliver what was in flight (host)",
    "");
static const sm_rule r_sysctl = SM_RULE("host.sysctl", O,
    "written to /proc/sys in the namespace (host)",
    "");
static const sm_rule r_bad_fd = SM_RULE("host.bad-fd", O,
    "the descriptor was closed: a bad descriptor (host)",
    "");
static const sm_rule r_delay = SM_RULE("host.delay", O,
    "the real network's delay is the kernel's (host: loopback)",
    "");
static const sm_rule r_connect_unspec = SM_RULE("host.connect-unspec", O,
    "the kernel dissolved the association (host)",
    "");
static const sm_rule r_sendto = SM_RULE("host.sendto", O,
    "the kernel sent the data (host)",
    "");
/* Option numbers of include/uapi/linux/in.h, for C libraries that lack
 * them. */
#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif
#ifndef IP_LOCAL_PORT_RANGE
#define IP_LOCAL_PORT_RANGE 51
#endif

/* Real time a blocking call may wait for something already in flight on
 * loopback, and the longest real sleep of a `wait`. */
#define BLOCK_POLL_MS 100
#define WAIT_REAL_NS 10000000ull
/* Timers of the Linux kernel the time rule knows. */
#define TIME_WAIT_NS 60000000000ull /* TCP_TIMEWAIT_LEN */
#define RTO_MIN_NS 200000000ull     /* TCP_RTO_MIN */
#define BASE_UID 10000u

/* /proc/net/tcp state numbers (include/net/tcp_states.h). */
enum {
    K_ESTABLISHED = 1, K_SYN_SENT, K_SYN_RECV, K_FIN_WAIT1, K_FIN_WAIT2,
    K_TIME_WAIT, K_CLOSE, K_CLOSE_WAIT, K_LAST_ACK, K_LISTEN, K_CLOSING,
    K_NEW_SYN_RECV
};

typedef struct hsock {
    int fd;              /* -1: not open */
    bool made;           /* created under host */
    int family;
    sm_proto proto;
    bool nonblock;       /* the scenario set O_NONBLOCK */
    int linger_on, linger_s;
    size_t group;        /* namespace it was created in */
    const char *proc;    /* "HOST/PROC@USER" that holds it */
    bool has_tuple;      /* local/remote known (connected at some time) */
    sm_endpoint local, remote;
    bool has_local;
} hsock;

typedef struct hhost {
    const char *name;
    sm_addr v4, v6;
    bool has_v4, has_v6;
    size_t group;        /* the namespace it lives in (index in nsfd) */
} hhost;

typedef struct tentry {  /* a connection in a timed state, first seen at */
    sm_endpoint l, r;
    int st;
    bool orphan;
    uint64_t since;
    size_t group;
} tentry;

typedef struct kconn {
    sm_endpoint l, r;
    int st;
    unsigned rxq;
    unsigned long inode;
} kconn;

struct scn_exec {
    scn_arena *arena;   /* the result's: strings that reach cells */
    const sm_profile *os; /* the OS this kernel is (sysctl keys) */
    const scn_file *f;
    scn_call *call;     /* the call being made */
    const char *fatal;  /* set: the process is not where it should be;
                         * nothing more is done, close() reports it */
    hsock *socks;
    hhost *hosts;
    size_t n_hosts;
    size_t cur_host;
    int *nsfd;          /* one namespace per group of hosts that talk */
    size_t n_groups, active;
    int orig;           /* the namespace to return to, or -1 */
    const char **users; /* index -> name, in order of first appearance */
    uint32_t *uids;     /* index -> uid (docs/host-profile.md) */
    size_t n_users;
    uint64_t vnow;      /* the scenario's clock (sum of waits) */
    tentry *timed;
    size_t n_timed, cap_timed;
    bool conns_possible; /* a connect (or sendto) has run: the tables may
                          * hold connections in timed states */
    scn_buf tmp;
};

/* ---- small helpers ----------------------------------------------------- */

static const char *astr(scn_exec *c, const char *s)
{
    return scn_strndup(c->arena, s, strlen(s));
}

static const char *abuf(scn_exec *c, const scn_buf *b)
{
    return scn_strndup(c->arena, b->s ? b->s : "", b->len);
}

/* The result of a call that failed with errno E. */
static sm_result res_errno(scn_exec *c, const char *call, int e)
{
    sm_result r = scn_result_ok(NULL);
    /* the socket layer's errno map; EAGAIN under the name the kernel uses */
    sm_err known = e == 0 ? SM_ERR_COUNT : sm_sys_err_of_errno(e);
    const char *name = known == SM_ERR_COUNT ? NULL
                       : e == EAGAIN         ? "EAGAIN"
                                             : sm_err_name(known);
    r.err = name ? known : SM_EINVAL;
    c->tmp.len = 0;
    if (name)
        scn_buf_printf(&c->tmp, "the kernel returned %s from %s() (host)",
                       name, call);
    else
        scn_buf_printf(&c->tmp, "the kernel returned errno %d (%s) from %s(), "
                       "shown as EINVAL (host)", e, strerror(e), call);
    /* A record of its own: the text names the errno and the call. */
    sm_rule *rec = scn_alloc(c->arena, sizeof *rec);
    *rec = r_kernel_errno;
    rec->text = abuf(c, &c->tmp);
    r.rule = rec;
    return r;
}

static void ep_from_sa(const struct sockaddr_storage *ss, sm_endpoint *ep)
{
    memset(ep, 0, sizeof *ep);
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
        ep->addr.family = 4;
        memcpy(ep->addr.b, &a->sin_addr, 4);
        ep->port = ntohs(a->sin_port);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
        ep->addr.family = 6;
        memcpy(ep->addr.b, &a->sin6_addr, 16);
        ep->port = ntohs(a->sin6_port);
    }
}

static socklen_t sa_from_ep(const sm_endpoint *ep, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof *ss);
    if (ep->addr.family == 4) {
        struct sockaddr_in *a = (struct sockaddr_in *)ss;
        a->sin_family = AF_INET;
        a->sin_port = htons(ep->port);
        memcpy(&a->sin_addr, ep->addr.b, 4);
        return sizeof *a;
    }
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(ep->port);
    memcpy(&a->sin6_addr, ep->addr.b, 16);
    return sizeof *a;
}

static bool get_local(int fd, sm_endpoint *ep)
{
    struct sockaddr_storage ss;
    socklen_t n = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &n) != 0)
        return false;
    ep_from_sa(&ss, ep);
    return true;
}

static bool get_peer(int fd, sm_endpoint *ep)
{
    struct sockaddr_storage ss;
    socklen_t n = sizeof ss;
    if (getpeername(fd, (struct sockaddr *)&ss, &n) != 0)
        return false;
    ep_from_sa(&ss, ep);
    return true;
}

/* Compares endpoints with v4-mapped addresses taken as IPv4. */
static bool ep_same(const sm_endpoint *a, const sm_endpoint *b)
{
    uint32_t x, y;
    if (a->port != b->port)
        return false;
    if (sm_addr_v4(&a->addr, &x) && sm_addr_v4(&b->addr, &y))
        return x == y;
    return sm_addr_equal(&a->addr, &b->addr);
}

static void sleep_ns(uint64_t ns)
{
    struct timespec ts = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* ---- the namespace ----------------------------------------------------- */

static const char *const local_addrs[] = {
    "192.0.2.1", "192.0.2.2", "2001:db8::1", "2001:db8::2",
};

static bool write_proc(const char *path, const char *val)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    size_t n = strlen(val);
    bool ok = write(fd, val, n) == (ssize_t)n;
    return close(fd) == 0 && ok;
}

static bool read_proc_long(const char *path, long *out)
{
    char buf[64];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return false;
    buf[n] = 0;
    *out = strtol(buf, NULL, 10);
    return true;
}

static size_t host_get(scn_exec *c, const char *name);
static bool enter(scn_exec *c, size_t g);

/* The addresses of group G's hosts (loopback, wildcard and multicast
 * addresses left out, v4-mapped ones as IPv4); *out is malloc'ed. */
static size_t group_addrs(scn_exec *c, size_t g, sm_addr **out)
{
    const scn_file *f = c->f;
    size_t n = 0, cap = sizeof local_addrs / sizeof local_addrs[0];
    for (size_t i = 0; i < f->n_stmts; i++)
        cap += f->stmts[i].kind == SCN_HOST ? f->stmts[i].n_addrs : 0;
    *out = scn_xmalloc((cap + 1) * sizeof **out);
    if (c->hosts[host_get(c, "local")].group == g)
        for (size_t i = 0; i < sizeof local_addrs / sizeof local_addrs[0]; i++)
            if (sm_addr_parse(local_addrs[i], strlen(local_addrs[i]),
                              &(*out)[n]))
                n++;
    for (size_t i = 0; i < f->n_stmts; i++) {
        const scn_stmt *st = &f->stmts[i];
        if (st->kind != SCN_HOST || c->hosts[host_get(c, st->name)].group != g)
            continue;
        for (size_t j = 0; j < st->n_addrs; j++) {
            sm_addr a = st->addrs[j];
            if (sm_addr_is_loopback(&a) || sm_addr_is_any(&a) ||
                sm_addr_is_multicast(&a))
                continue;
            (*out)[n++] = sm_addr_unmapped(&a);
        }
    }
    return n;
}

/* ---- the kernel's socket table ----------------------------------------- */

static unsigned hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return (unsigned)(ch - '0');
    if (ch >= 'a' && ch <= 'f')
        return (unsigned)(ch - 'a' + 10);
    if (ch >= 'A' && ch <= 'F')
        return (unsigned)(ch - 'A' + 10);
    return 0;
}

/* "0100007F:1F90" (v4) or 32 hex digits ":" port (v6); the address words
 * are printed as the kernel holds them in memory (host byte order). */
static const char *parse_hexep(const char *p, sm_endpoint *ep)
{
    memset(ep, 0, sizeof *ep);
    size_t n = 0;
    while (p[n] && p[n] != ':')
        n++;
    if (n != 8 && n != 32)
        return NULL;
    ep->addr.family = n == 8 ? 4 : 6;
    for (size_t w = 0; w < n / 8; w++) {
        uint32_t v = 0;
        for (size_t k = 0; k < 8; k++)
            v = (v << 4) | hexval(p[w * 8 + k]);
        memcpy(ep->addr.b + w * 4, &v, 4);
    }
    p += n + 1;
    unsigned port = 0;
    for (int k = 0; k < 4 && p[k]; k++)
        port = (port << 4) | hexval(p[k]);
    ep->port = (uint16_t)port;
    return p + 4;
}

/* Reads /proc/net/tcp and tcp6 of this namespace.  *out is malloc'ed. */
static size_t read_table(kconn **out)
{
    static const char *const files[] = {"/proc/net/tcp", "/proc/net/tcp6"};
    size_t n = 0, cap = 16;
    *out = scn_xmalloc(cap * sizeof **out);
    for (size_t fi = 0; fi < 2; fi++) {
        FILE *fp = fopen(files[fi], "re");
        if (!fp)
            continue;
        char line[512];
        if (!fgets(line, sizeof line, fp)) { /* header */
            fclose(fp);
            continue;
        }
        while (fgets(line, sizeof line, fp)) {
            kconn k;
            memset(&k, 0, sizeof k);
            char *p = strchr(line, ':');
            if (!p)
                continue;
            p++;
            while (*p == ' ')
                p++;
            if (!(p = (char *)parse_hexep(p, &k.l)))
                continue;
            while (*p == ' ')
                p++;
            if (!(p = (char *)parse_hexep(p, &k.r)))
                continue;
            char *end;
            k.st = (int)strtol(p, &end, 16);
            (void)strtoul(end, &end, 16); /* tx_queue */
            if (*end == ':')
                k.rxq = (unsigned)strtoul(end + 1, &end, 16);
            /* tr:tm->when retrnsmt uid timeout inode */
            (void)strtoul(end, &end, 16);
            if (*end == ':')
                (void)strtoul(end + 1, &end, 16);
            (void)strtoul(end, &end, 16);
            (void)strtoul(end, &end, 10);
            (void)strtoul(end, &end, 10);
            k.inode = strtoul(end, &end, 10);
            if (n == cap) {
                cap *= 2;
                *out = scn_xrealloc(*out, cap * sizeof **out);
            }
            (*out)[n++] = k;
        }
        fclose(fp);
    }
    return n;
}

static sm_tcp_state map_state(int k)
{
    switch (k) {
    case K_ESTABLISHED: return SM_ESTABLISHED;
    case K_SYN_SENT: return SM_SYN_SENT;
    case K_SYN_RECV: case K_NEW_SYN_RECV: return SM_SYN_RECEIVED;
    case K_FIN_WAIT1: return SM_FIN_WAIT_1;
    case K_FIN_WAIT2: return SM_FIN_WAIT_2;
    case K_TIME_WAIT: return SM_TIME_WAIT;
    case K_CLOSE_WAIT: return SM_CLOSE_WAIT;
    case K_LAST_ACK: return SM_LAST_ACK;
    case K_LISTEN: return SM_LISTEN;
    case K_CLOSING: return SM_CLOSING;
    default: return SM_CLOSED;
    }
}

/* Kernel timers that end or change a connection in state ST: how long
 * after it entered the state (0: none that the scenario can see). */
static uint64_t timer_ns(const tentry *t, uint64_t fin_timeout_ns)
{
    switch (t->st) {
    case K_TIME_WAIT:
        return TIME_WAIT_NS;
    case K_FIN_WAIT2:
        return t->orphan ? fin_timeout_ns : 0;
    case K_SYN_SENT: case K_SYN_RECV: case K_NEW_SYN_RECV:
    case K_FIN_WAIT1: case K_CLOSING: case K_LAST_ACK:
        return RTO_MIN_NS;
    default:
        return 0;
    }
}

static const char *timer_what(int st)
{
    switch (st) {
    case K_TIME_WAIT:
        return "a connection is in TIME_WAIT; its 60 s timer would expire";
    case K_FIN_WAIT2:
        return "an orphaned connection is in FIN_WAIT_2; its "
               "tcp_fin_timeout timer would expire";
    default:
        return "a connection waits for an acknowledgement; its "
               "retransmission timer (200 ms or more) would fire";
    }
}

/* Notes, on the scenario clock, when each connection in a timed state was
 * first seen in it. */
static void note_timed_table(scn_exec *c, size_t g, const kconn *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        tentry e = {t[i].l, t[i].r, t[i].st, t[i].inode == 0, c->vnow, g};
        if (timer_ns(&e, 1) == 0)
            continue;
        bool seen = false;
        for (size_t j = 0; j < c->n_timed && !seen; j++)
            seen = c->timed[j].st == e.st && c->timed[j].group == g &&
                   ep_same(&c->timed[j].l, &e.l) &&
                   ep_same(&c->timed[j].r, &e.r);
        if (seen)
            continue;
        if (c->n_timed == c->cap_timed) {
            c->cap_timed = c->cap_timed ? c->cap_timed * 2 : 16;
            c->timed = scn_xrealloc(c->timed, c->cap_timed * sizeof *c->timed);
        }
        c->timed[c->n_timed++] = e;
    }
}

static void note_timed_group(scn_exec *c, size_t g)
{
    kconn *t;
    enter(c, g);
    size_t n = read_table(&t);
    note_timed_table(c, g, t, n);
    free(t);
}

/* The state of the connection local -> remote in the table, or CLOSED. */
static sm_tcp_state table_state(const sm_endpoint *l, const sm_endpoint *r)
{
    kconn *t;
    size_t n = read_table(&t);
    sm_tcp_state s = SM_CLOSED;
    for (size_t i = 0; i < n; i++)
        /* inode 0: no descriptor, so not a newer connection that took
         * over the same 4-tuple (TIME_WAIT takeover, tcp_tw_reuse) */
        if (ep_same(&t[i].l, l) && ep_same(&t[i].r, r) &&
            t[i].st != K_LISTEN && t[i].inode == 0) {
            s = map_state(t[i].st);
            break;
        }
    free(t);
    return s;
}

/* ---- users and processes ----------------------------------------------- */

static size_t user_index(scn_exec *c, const char *name)
{
    for (size_t i = 0; i < c->n_users; i++)
        if (strcmp(c->users[i], name) == 0)
            return i;
    return 0; /* not reached: every name was collected */
}

/* root -> 0; "user" -> 10000; every other name 10000 + its rank among the
 * non-root names of `as` lines, in order of first appearance. */
static void collect_users(scn_exec *c)
{
    c->users = scn_xmalloc((c->f->n_stmts + 2) * sizeof *c->users);
    c->uids = scn_xmalloc((c->f->n_stmts + 2) * sizeof *c->uids);
    uint32_t next = BASE_UID;
    c->users[c->n_users] = "user";
    c->uids[c->n_users++] = next++;
    for (size_t i = 0; i < c->f->n_stmts; i++) {
        const scn_stmt *st = &c->f->stmts[i];
        if (st->kind != SCN_AS)
            continue;
        bool have = false;
        for (size_t j = 0; j < c->n_users && !have; j++)
            have = strcmp(c->users[j], st->name) == 0;
        if (have)
            continue;
        c->users[c->n_users] = st->name;
        c->uids[c->n_users++] = strcmp(st->name, "root") == 0 ? 0 : next++;
    }
}

/* Makes the next calls with USER's effective ids. */
static bool become(scn_exec *c, const char *user)
{
    uid_t id = c->uids[user_index(c, user)];
    if (id == 0)
        return true;
    return setresgid((gid_t)-1, id, (gid_t)-1) == 0 &&
           setresuid((uid_t)-1, id, (uid_t)-1) == 0;
}

static void unbecome(scn_exec *c)
{
    if (setresuid((uid_t)-1, 0, (uid_t)-1) != 0 ||
        setresgid((gid_t)-1, 0, (gid_t)-1) != 0)
        c->fatal = "host profile: cannot switch back to root";
}

static const char *proc_key(scn_exec *c, const char *proc, const char *user)
{
    c->tmp.len = 0;
    scn_buf_printf(&c->tmp, "%s/%s@%s", c->hosts[c->cur_host].name, proc, user);
    return abuf(c, &c->tmp);
}

/* ---- hosts ------------------------------------------------------------- */

/* Makes namespace G the one new sockets, /proc/net and /proc/sys see.
 * On failure nothing more is done (c->fatal). */
static bool enter(scn_exec *c, size_t g)
{
    if (c->fatal)
        return false;
    if (g == c->active)
        return true;
    int e = hk_netns_enter(c->nsfd[g]);
    if (e) {
        c->tmp.len = 0;
        scn_buf_printf(&c->tmp, "host profile: setns: %s", strerror(e));
        c->fatal = abuf(c, &c->tmp);
        return false;
    }
    c->active = g;
    return true;
}

/* Every call starts here: in the current host's namespace, unless the
 * process could not be kept where it should be (then the step and every
 * later one are skipped, and the run ends in an error). */
static bool ready(scn_exec *c, scn_call *call)
{
    c->call = call;
    if (enter(c, c->hosts[c->cur_host].group))
        return true;
    call->skip = c->fatal;
    return false;
}

static size_t host_get(scn_exec *c, const char *name)
{
    for (size_t i = 0; i < c->n_hosts; i++)
        if (strcmp(c->hosts[i].name, name) == 0)
            return i;
    hhost *h = &c->hosts[c->n_hosts];
    memset(h, 0, sizeof *h);
    h->name = name;
    return c->n_hosts++;
}

static void host_decl(scn_exec *c, const scn_stmt *st)
{
    size_t i = host_get(c, st->name);
    hhost *h = &c->hosts[i];
    for (size_t j = 0; j < st->n_addrs; j++) {
        const sm_addr *a = &st->addrs[j];
        if (sm_addr_is_loopback(a) || sm_addr_is_any(a) ||
            sm_addr_is_multicast(a))
            continue;
        if (a->family == 4 && !h->has_v4) {
            h->v4 = *a;
            h->has_v4 = true;
        } else if (a->family == 6 && !sm_addr_is_v4mapped(a) && !h->has_v6) {
            h->v6 = *a;
            h->has_v6 = true;
        }
    }
    c->cur_host = i;
}

/* A scenario host other than "local" connects from its own address: an
 * unbound socket is bound to it (port chosen at connect, as without the
 * bind: IP_BIND_ADDRESS_NO_PORT).  Toward loopback nothing is done. */
static void source_bind(scn_exec *c, hsock *s, const sm_endpoint *dst)
{
    const hhost *h = &c->hosts[c->cur_host];
    sm_endpoint cur;
    if (strcmp(h->name, "local") == 0 || sm_addr_is_loopback(&dst->addr) ||
        (get_local(s->fd, &cur) && cur.port != 0))
        return;
    sm_endpoint src;
    memset(&src, 0, sizeof src);
    bool v4dst = dst->addr.family == 4 || sm_addr_is_v4mapped(&dst->addr);
    if (v4dst && h->has_v4) {
        src.addr = s->family == 6 ? sm_addr_mapped(&h->v4) : h->v4; /* ::ffff:a.b.c.d */
    } else if (!v4dst && h->has_v6 && s->family == 6) {
        src.addr = h->v6;
    } else {
        return;
    }
    if ((src.addr.family == 4) != (s->family == 4))
        return;
    int one = 1;
    (void)setsockopt(s->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
                     sizeof one);
    struct sockaddr_storage ss;
    socklen_t len = sa_from_ep(&src, &ss);
    (void)bind(s->fd, (struct sockaddr *)&ss, len);
}

/* ---- calls ------------------------------------------------------------- */

static bool wait_fd(int fd, short ev, int ms)
{
    struct pollfd p = {fd, ev, 0};
    int r;
    while ((r = poll(&p, 1, ms)) < 0 && errno == EINTR)
        ;
    return r > 0;
}

static sm_result would_block(void)
{
    sm_result r = scn_result_ok(&r_block_forever);
    r.err = SM_EWOULDBLOCK;
    return r;
}

static void skip_from_here(scn_exec *c, const scn_stmt *st, const char *why)
{
    c->tmp.len = 0;
    scn_buf_printf(&c->tmp, "host: cannot reproduce `%s` quickly (%s): this "
                            "step and the ones after it are skipped",
                   st->text, why);
    c->call->skip = abuf(c, &c->tmp);
}

static sm_result do_socket(scn_exec *c, const scn_stmt *st)
{
    hsock *s = &c->socks[st->new_sock];
    int type = (st->proto == SM_TCP ? SOCK_STREAM : SOCK_DGRAM) |
               SOCK_NONBLOCK | SOCK_CLOEXEC;
    int fd = socket(st->family == 4 ? AF_INET : AF_INET6, type, 0);
    if (fd < 0)
        return res_errno(c, "socket", errno);
    memset(s, 0, sizeof *s);
    s->fd = fd;
    s->made = true;
    s->family = st->family;
    s->proto = st->proto;
    s->proc = proc_key(c, c->call->proc, c->call->user);
    s->group = c->active;
    return scn_result_ok(&r_socket);
}

static sm_result do_setsockopt(scn_exec *c, const scn_stmt *st, hsock *s)
{
    int level = SOL_SOCKET, name, v = st->v1;
    uint32_t range;
    const void *val = &v;
    socklen_t len = sizeof v;
    struct linger lg;
    switch (st->opt) {
    case SM_SO_REUSEADDR:
        name = SO_REUSEADDR;
        break;
    case SM_SO_REUSEPORT:
        name = SO_REUSEPORT;
        break;
    case SM_IPV6_V6ONLY:
        level = IPPROTO_IPV6;
        name = IPV6_V6ONLY;
        break;
    case SM_IP_BIND_ADDRESS_NO_PORT:
        level = IPPROTO_IP;
        name = IP_BIND_ADDRESS_NO_PORT;
        break;
    case SM_IP_LOCAL_PORT_RANGE: /* lo in the low 16 bits, hi in the high */
        level = IPPROTO_IP;
        name = IP_LOCAL_PORT_RANGE;
        range = (uint32_t)st->v1 | (uint32_t)st->v2 << 16;
        val = &range;
        len = sizeof range;
        break;
    case SM_SO_LINGER:
        name = SO_LINGER;
        lg.l_onoff = st->v1;
        lg.l_linger = st->v2;
        val = &lg;
        len = sizeof lg;
        break;
    case SM_O_NONBLOCK:
        s->nonblock = st->v1 != 0;
        return scn_result_ok(&r_nonblock);
    default: {
        sm_result r = scn_result_ok(&r_sockopt_unknown);
        r.err = SM_ENOPROTOOPT;
        return r;
    }
    }
    if (setsockopt(s->fd, level, name, val, len) != 0)
        return res_errno(c, "setsockopt", errno);
    if (st->opt == SM_SO_LINGER) {
        s->linger_on = st->v1;
        s->linger_s = st->v2;
    }
    return scn_result_ok(&r_sockopt);
}

static bool unbound(hsock *s)
{
    sm_endpoint ep;
    return !get_local(s->fd, &ep) || ep.port == 0;
}

static sm_result do_bind(scn_exec *c, const scn_stmt *st, hsock *s)
{
    struct sockaddr_storage ss;
    socklen_t len = sa_from_ep(&st->ep, &ss);
    if (bind(s->fd, (struct sockaddr *)&ss, len) != 0)
        return res_errno(c, "bind", errno);
    sm_result r = scn_result_ok(&r_bind);
    sm_endpoint ep;
    if (st->ep.port == 0 && get_local(s->fd, &ep))
        r.port = ep.port;
    return r;
}

static sm_result do_listen(scn_exec *c, const scn_stmt *st, hsock *s)
{
    bool was_unbound = unbound(s);
    if (listen(s->fd, st->v1) != 0)
        return res_errno(c, "listen", errno);
    sm_result r = scn_result_ok(&r_listen);
    sm_endpoint ep;
    if (was_unbound && get_local(s->fd, &ep))
        r.port = ep.port;
    return r;
}

static void note_tuple(hsock *s)
{
    sm_endpoint l, r;
    if (get_local(s->fd, &l) && get_peer(s->fd, &r)) {
        s->local = l;
        s->remote = r;
        s->has_tuple = true;
    }
}

/* connect(AF_UNSPEC): the kernel dissolves the association. */
static sm_result do_connect_unspec(scn_exec *c, hsock *s)
{
    struct sockaddr sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_family = AF_UNSPEC;
    if (connect(s->fd, &sa, sizeof sa) != 0)
        return res_errno(c, "connect", errno);
    s->has_tuple = false;
    return scn_result_ok(&r_connect_unspec);
}

/* connect() on fd as a blocking call that waits at most BLOCK_POLL_MS;
 * the descriptor is non-blocking again afterwards. */
static int blocking_connect(int fd, const struct sockaddr *sa, socklen_t len)
{
    int fl = fcntl(fd, F_GETFL);
    struct timeval tv = {BLOCK_POLL_MS / 1000, (BLOCK_POLL_MS % 1000) * 1000};
    struct timeval none = {0, 0};
    if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0)
        return connect(fd, sa, len); /* cannot block: as before */
    int rc = connect(fd, sa, len);
    int e = errno;
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &none, sizeof none);
    fcntl(fd, F_SETFL, fl);
    errno = e;
    return rc;
}

static sm_result do_connect(scn_exec *c, const scn_stmt *st, hsock *s)
{
    if (st->unspec)
        return do_connect_unspec(c, s);
    bool was_unbound = unbound(s);
    sm_endpoint before = {0};
    if (!was_unbound)
        get_local(s->fd, &before);
    source_bind(c, s, &st->ep);
    struct sockaddr_storage ss;
    socklen_t len = sa_from_ep(&st->ep, &ss);
    sm_result r = scn_result_ok(&r_connect);
    sm_endpoint ep;
    int rc;
    if (s->proto == SM_TCP && !s->nonblock) {
        /* A blocking connect() is made blocking, bounded by SO_SNDTIMEO:
         * the kernel's blocking path differs from a non-blocking connect
         * whose error is read later (Linux __inet_stream_connect() calls
         * tcp_disconnect() when the connection fails while it waits: the
         * source address goes back to the wildcard, the socket is no longer
         * shut down, and the next connect() is not ECONNABORTED).  On the
         * timeout it returns EINPROGRESS, handled below as before. */
        rc = blocking_connect(s->fd, (struct sockaddr *)&ss, len);
    } else {
        rc = connect(s->fd, (struct sockaddr *)&ss, len);
    }
    if (rc != 0) {
        int e = errno;
        if (get_local(s->fd, &ep) && ep.port) { /* for the table lookups */
            s->local = ep;
            s->remote = st->ep;
            s->has_tuple = s->proto == SM_TCP;
        }
        if (e != EINPROGRESS || s->nonblock)
            return res_errno(c, "connect", e);
        if (!wait_fd(s->fd, POLLOUT, BLOCK_POLL_MS)) {
            skip_from_here(c, st, "the kernel did not complete this blocking "
                                  "connect within 100 ms: it would wait for "
                                  "SYN retransmissions for minutes");
            return scn_result_ok(NULL);
        }
        int soe = 0;
        socklen_t sl = sizeof soe;
        if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &soe, &sl) == 0 && soe)
            return res_errno(c, "connect", soe);
    }
    if (s->proto == SM_TCP)
        note_tuple(s);
    /* A port connect() chose; after a failed connect getsockname() still
     * names the port it gave back, so a new one shows as a change. */
    if (get_local(s->fd, &ep) && (was_unbound || ep.port != before.port))
        r.port = ep.port;
    return r;
}

static sm_result do_accept(scn_exec *c, const scn_stmt *st, hsock *s)
{
    int fd = accept4(s->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0 && errno == EAGAIN && !s->nonblock) {
        if (!wait_fd(s->fd, POLLIN, BLOCK_POLL_MS))
            return would_block();
        fd = accept4(s->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    }
    if (fd < 0)
        return res_errno(c, "accept", errno);
    hsock *n = &c->socks[st->new_sock];
    memset(n, 0, sizeof *n);
    n->fd = fd;
    n->made = true;
    n->family = s->family;
    n->proto = s->proto;
    n->proc = proc_key(c, c->call->proc, c->call->user);
    n->group = s->group;
    c->call->caller_owns = true;
    note_tuple(n);
    return scn_result_ok(&r_accept);
}

static sm_result do_send(scn_exec *c, const scn_stmt *st, hsock *s)
{
    static const char zeros[65536];
    uint64_t left = st->n, done = 0;
    if (s->proto == SM_UDP) {
        ssize_t k = send(s->fd, zeros, left < sizeof zeros ? left : sizeof zeros,
                         MSG_NOSIGNAL);
        if (k < 0)
            return res_errno(c, "send", errno);
        sm_result r = scn_result_ok(&r_send_datagram);
        r.bytes = (uint64_t)k;
        return r;
    }
    while (left > 0) {
        size_t chunk = left < sizeof zeros ? (size_t)left : sizeof zeros;
        ssize_t k = send(s->fd, zeros, chunk, MSG_NOSIGNAL);
        if (k > 0) {
            left -= (uint64_t)k;
            done += (uint64_t)k;
            continue;
        }
        int e = errno;
        if (k < 0 && e == EAGAIN) {
            if (s->nonblock) {
                if (done)
                    break;
                return res_errno(c, "send", e);
            }
            if (!wait_fd(s->fd, POLLOUT, BLOCK_POLL_MS)) {
                if (done)
                    break;
                return would_block();
            }
            continue;
        }
        if (done)
            break;
        return res_errno(c, "send", k < 0 ? e : EIO);
    }
    sm_result r = scn_result_ok(left ? &r_send_partial
                                     : &r_send);
    r.bytes = done;
    return r;
}

static sm_result do_recv(scn_exec *c, const scn_stmt *st, hsock *s)
{
    static char sink[65536];
    size_t want = st->n < sizeof sink ? (size_t)st->n : sizeof sink;
    ssize_t k = recv(s->fd, sink, want, 0);
    if (k < 0 && errno == EAGAIN && !s->nonblock) {
        if (!wait_fd(s->fd, POLLIN, BLOCK_POLL_MS))
            return would_block();
        k = recv(s->fd, sink, want, 0);
    }
    if (k < 0)
        return res_errno(c, "recv", errno);
    sm_result r =
        scn_result_ok(k ? &r_recv
                        : &r_recv_eof);
    r.bytes = (uint64_t)k;
    return r;
}

/* sendto() with the address; one call (a datagram, or what a stream
 * socket takes at once). */
static sm_result do_sendto(scn_exec *c, const scn_stmt *st, hsock *s)
{
    static const char zeros[65536];
    bool was_unbound = unbound(s);
    struct sockaddr_storage ss;
    socklen_t len = sa_from_ep(&st->ep, &ss);
    size_t n = st->n < sizeof zeros ? (size_t)st->n : sizeof zeros;
    ssize_t k = sendto(s->fd, zeros, n, MSG_NOSIGNAL, (struct sockaddr *)&ss, len);
    if (k < 0 && errno == EAGAIN && !s->nonblock && wait_fd(s->fd, POLLOUT, BLOCK_POLL_MS))
        k = sendto(s->fd, zeros, n, MSG_NOSIGNAL, (struct sockaddr *)&ss, len);
    if (k < 0)
        return res_errno(c, "sendto", errno);
    sm_result r = scn_result_ok(&r_sendto);
    sm_endpoint ep;
    if (was_unbound && get_local(s->fd, &ep))
        r.port = ep.port;
    r.bytes = (uint64_t)k;
    return r;
}

static sm_result do_recvfrom(scn_exec *c, const scn_stmt *st, hsock *s)
{
    static char sink[65536];
    size_t want = st->n < sizeof sink ? (size_t)st->n : sizeof sink;
    struct sockaddr_storage from;
    socklen_t fl = sizeof from;
    ssize_t k = recvfrom(s->fd, sink, want, 0, (struct sockaddr *)&from, &fl);
    if (k < 0 && errno == EAGAIN && !s->nonblock) {
        if (!wait_fd(s->fd, POLLIN, BLOCK_POLL_MS))
            return would_block();
        fl = sizeof from;
        k = recvfrom(s->fd, sink, want, 0, (struct sockaddr *)&from, &fl);
    }
    if (k < 0)
        return res_errno(c, "recvfrom", errno);
    sm_result r =
        scn_result_ok(k ? &r_recv : &r_recv_eof);
    r.bytes = (uint64_t)k;
    return r;
}

static sm_result do_shutdown(scn_exec *c, const scn_stmt *st, hsock *s)
{
    int how = st->rd && st->wr ? SHUT_RDWR : st->rd ? SHUT_RD : SHUT_WR;
    if (shutdown(s->fd, how) != 0)
        return res_errno(c, "shutdown", errno);
    return scn_result_ok(&r_shutdown);
}

/* close(); at exit a lingering {1,N>0} socket does not wait (PF_EXITING
 * in __sock_release), so its linger is turned off first. */
static sm_result close_sock(scn_exec *c, const scn_stmt *st, hsock *s, bool at_exit)
{
    sm_endpoint ep;
    if (get_local(s->fd, &ep)) {
        if (!s->has_tuple)
            s->local = ep;
        s->has_local = true;
    }
    if (s->proto == SM_TCP)
        note_tuple(s);
    if (s->linger_on && s->linger_s > 0) {
        int q = 0;
        if (at_exit) {
            struct linger lg = {0, 0};
            (void)setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        } else if (ioctl(s->fd, SIOCOUTQ, &q) == 0 && q > 0) {
            c->tmp.len = 0;
            scn_buf_printf(&c->tmp, "SO_LINGER {1,%d} with %d bytes not yet "
                                    "acknowledged: close() would block up to "
                                    "%d s", s->linger_s, q, s->linger_s);
            skip_from_here(c, st, abuf(c, &c->tmp));
            return scn_result_ok(NULL);
        }
    }
    int rc = close(s->fd);
    int e = errno;
    s->fd = -1;
    if (rc != 0)
        return res_errno(c, "close", e);
    return scn_result_ok(&r_close);
}

static sm_result do_exit(scn_exec *c, const scn_stmt *st)
{
    const char *key = proc_key(c, c->call->proc, c->call->user);
    for (size_t i = 0; i < c->f->n_socks; i++) {
        hsock *s = &c->socks[i];
        if (s->fd >= 0 && strcmp(s->proc, key) == 0)
            (void)close_sock(c, st, s, true);
    }
    return scn_result_ok(&r_exit);
}

static sm_result do_wait(scn_exec *c, const scn_stmt *st)
{
    long fin = 60, reuse = 2, reuse_ms = 1000;
    (void)read_proc_long("/proc/sys/net/ipv4/tcp_fin_timeout", &fin);
    (void)read_proc_long("/proc/sys/net/ipv4/tcp_tw_reuse", &reuse);
    (void)read_proc_long("/proc/sys/net/ipv4/tcp_tw_reuse_delay", &reuse_ms);
    uint64_t fin_ns = (uint64_t)fin * 1000000000ull;
    uint64_t reuse_ns = (uint64_t)reuse_ms * 1000000ull;
    for (size_t g = 0; g < c->n_groups; g++) {
        /* one read per namespace: what entered a timed state, then what
         * would expire during the wait */
        kconn *t;
        enter(c, g);
        size_t n = read_table(&t);
        note_timed_table(c, g, t, n);
        for (size_t i = 0; i < c->n_timed; i++) {
            const tentry *e = &c->timed[i];
            bool alive = false;
            for (size_t j = 0; e->group == g && j < n && !alive; j++)
                alive = t[j].st == e->st && ep_same(&t[j].l, &e->l) &&
                        ep_same(&t[j].r, &e->r);
            uint64_t len = timer_ns(e, fin_ns);
            if (alive && len && c->vnow + st->n >= e->since + len) {
                free(t);
                skip_from_here(c, st, timer_what(e->st));
                return scn_result_ok(NULL);
            }
            /* tcp_tw_reuse: connect() may take a TIME_WAIT 4-tuple once
             * the entry is tcp_tw_reuse_delay old (tcp_twsk_unique(); 2:
             * only with a loopback address at either end). */
            if (alive && e->st == K_TIME_WAIT &&
                (reuse == 1 || (reuse == 2 &&
                                (sm_addr_is_loopback(&e->l.addr) ||
                                 sm_addr_is_loopback(&e->r.addr)))) &&
                c->vnow < e->since + reuse_ns &&
                c->vnow + st->n >= e->since + reuse_ns) {
                free(t);
                c->tmp.len = 0;
                scn_buf_printf(&c->tmp, "a connection is in TIME_WAIT; it "
                                        "would become %ld ms old, after which "
                                        "tcp_tw_reuse lets connect() reuse "
                                        "its 4-tuple", reuse_ms);
                skip_from_here(c, st, abuf(c, &c->tmp));
                return scn_result_ok(NULL);
            }
        }
        free(t);
    }
    sleep_ns(st->n < WAIT_REAL_NS ? st->n : WAIT_REAL_NS);
    c->vnow += st->n;
    return scn_result_ok(&r_advance);
}

static sm_result do_sysctl(scn_exec *c, const scn_stmt *st, const char **fail)
{
    /* Only the keys the profile of this OS knows, checked by it first. */
    sm_world *w = sm_world_new(c->os, 0);
    sm_id h = sm_host_find(w, "local");
    if (h == SM_NONE)
        h = sm_host_add(w, "local");
    const char *msg = sm_sysctl(w, h, st->name, st->vals, st->n_vals);
    if (msg) {
        *fail = astr(c, msg);
        sm_world_free(w);
        return scn_result_ok(NULL);
    }
    sm_world_free(w);
    c->tmp.len = 0;
    scn_buf_puts(&c->tmp, "/proc/sys/");
    for (const char *p = st->name; *p; p++)
        scn_buf_add(&c->tmp, *p == '.' ? "/" : p, 1);
    const char *path = abuf(c, &c->tmp);
    c->tmp.len = 0;
    for (size_t i = 0; i < st->n_vals; i++)
        scn_buf_printf(&c->tmp, "%s%s", i ? "\t" : "", st->vals[i]);
    scn_buf_puts(&c->tmp, "\n");
    if (!write_proc(path, c->tmp.s)) {
        c->tmp.len = 0;
        scn_buf_printf(&c->tmp, "host: cannot write %s in the namespace: %s",
                       path, strerror(errno));
        *fail = abuf(c, &c->tmp);
        return scn_result_ok(NULL);
    }
    return scn_result_ok(&r_sysctl);
}

/* ---- checks ------------------------------------------------------------ */

static sm_tcp_state sock_state(scn_exec *c, hsock *s)
{
    if (!s->made || s->proto != SM_TCP)
        return SM_CLOSED;
    if (s->fd >= 0) {
        struct tcp_info ti;
        socklen_t len = sizeof ti;
        memset(&ti, 0, sizeof ti);
        if (getsockopt(s->fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0 &&
            ti.tcpi_state != K_CLOSE)
            return map_state(ti.tcpi_state);
        if (s->fd >= 0 && !s->has_tuple)
            return SM_CLOSED;
    }
    if (!s->has_tuple)
        return SM_CLOSED;
    /* Closed, or its connection went on as a TIME_WAIT entry. */
    enter(c, s->group);
    sm_tcp_state st = table_state(&s->local, &s->remote);
    /* An open descriptor in CLOSE can own only a TIME_WAIT entry of its
     * 4-tuple; any other connection there is a newer one (a connect()
     * took the tuple over), not this socket's. */
    if (s->fd >= 0 && st != SM_TIME_WAIT)
        return SM_CLOSED;
    return st;
}

static int sock_pending(hsock *s)
{
    if (!s->made || s->fd < 0 || s->proto != SM_TCP)
        return 0;
    struct tcp_info ti;
    socklen_t len = sizeof ti;
    memset(&ti, 0, sizeof ti);
    if (getsockopt(s->fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0 ||
        ti.tcpi_state != K_LISTEN)
        return 0;
    return (int)ti.tcpi_unacked; /* sk_ack_backlog for a listener */
}

static bool sock_local(hsock *s, sm_endpoint *ep)
{
    if (!s->made)
        return false;
    if (s->fd >= 0)
        return get_local(s->fd, ep) && ep->port != 0;
    if (s->has_tuple || s->has_local) {
        *ep = s->local;
        return ep->port != 0;
    }
    return false;
}

/* getsockopt(SO_ERROR) on the open descriptor (the kernel clears it:
 * sock_error()); a closed descriptor has none to read. */
static sm_err kernel_take_error(scn_exec *c, int sock)
{
    hsock *s = &c->socks[sock];
    int soe = 0;
    socklen_t sl = sizeof soe;
    if (s->fd < 0)
        return SM_EBADF;
    if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &soe, &sl) != 0)
        soe = errno;
    if (soe == 0)
        return SM_OK;
    sm_err e = sm_sys_err_of_errno(soe);
    return e == SM_ERR_COUNT ? SM_EINVAL : e;
}

static bool kernel_peer(scn_exec *c, int sock, sm_endpoint *out)
{
    hsock *s = &c->socks[sock];
    return s->fd >= 0 && get_peer(s->fd, out);
}

/* poll() with timeout 0. */
static unsigned kernel_poll(scn_exec *c, int sock)
{
    hsock *s = &c->socks[sock];
    if (s->fd < 0)
        return 0;
    struct pollfd p = {s->fd, POLLIN | POLLOUT, 0};
    if (poll(&p, 1, 0) < 0)
        return 0;
    return ((p.revents & POLLIN) ? SM_POLL_IN : 0) |
           ((p.revents & POLLOUT) ? SM_POLL_OUT : 0) |
           ((p.revents & POLLHUP) ? SM_POLL_HUP : 0);
}

/* "socket c: state LISTEN (host: TCP_INFO of the open descriptor)" */
static void kernel_describe(scn_exec *c, int sock, const char *name,
                            scn_buf *out)
{
    hsock *s = &c->socks[sock];
    scn_buf_printf(out, "socket %s: state %s (host: %s)", name,
                   sm_state_name(sock_state(c, s)),
                   s->fd >= 0 ? "TCP_INFO of the open descriptor"
                              : "the namespace's socket table");
}

static sm_tcp_state kernel_state(scn_exec *c, int sock)
{
    return sock_state(c, &c->socks[sock]);
}

static bool kernel_local(scn_exec *c, int sock, sm_endpoint *out)
{
    return sock_local(&c->socks[sock], out);
}

static int kernel_pending(scn_exec *c, int sock)
{
    return sock_pending(&c->socks[sock]);
}

/* ---- the calls ---------------------------------------------------------- */

typedef sm_result (*sock_fn)(scn_exec *c, const scn_stmt *st, hsock *s);

/* A call on an open scenario socket, made as the calling user. */
static sm_result sock_call(scn_exec *c, scn_call *call, sock_fn fn)
{
    if (!ready(c, call))
        return scn_result_ok(NULL);
    hsock *s = &c->socks[call->st->sock];
    if (s->fd < 0) {
        sm_result r = scn_result_ok(&r_bad_fd);
        r.err = SM_EBADF;
        return r;
    }
    sm_result r;
    if (!become(c, call->user))
        r = res_errno(c, "setresuid", errno);
    else
        r = fn(c, call->st, s);
    unbecome(c);
    return r;
}

static sm_result close_call(scn_exec *c, const scn_stmt *st, hsock *s)
{
    return close_sock(c, st, s, false);
}

#define SOCK_OP(name, fn)                                                    \
    static sm_result kernel_##name(scn_exec *c, scn_call *call)              \
    {                                                                        \
        return sock_call(c, call, fn);                                       \
    }
SOCK_OP(setsockopt, do_setsockopt)
SOCK_OP(bind, do_bind)
SOCK_OP(listen, do_listen)
SOCK_OP(connect, do_connect)
SOCK_OP(accept, do_accept)
SOCK_OP(send, do_send)
SOCK_OP(recv, do_recv)
SOCK_OP(sendto, do_sendto)
SOCK_OP(recvfrom, do_recvfrom)
SOCK_OP(shutdown, do_shutdown)
SOCK_OP(close_sock, close_call)

static sm_result kernel_socket(scn_exec *c, scn_call *call)
{
    if (!ready(c, call))
        return scn_result_ok(NULL);
    sm_result r;
    if (!become(c, call->user))
        r = res_errno(c, "setresuid", errno);
    else
        r = do_socket(c, call->st);
    unbecome(c);
    return r;
}

static sm_result kernel_sysctl(scn_exec *c, scn_call *call)
{
    if (!ready(c, call))
        return scn_result_ok(NULL);
    return do_sysctl(c, call->st, &call->fail);
}

static sm_result kernel_exit(scn_exec *c, scn_call *call)
{
    if (!ready(c, call))
        return scn_result_ok(NULL);
    return do_exit(c, call->st);
}

static sm_result kernel_advance(scn_exec *c, scn_call *call)
{
    if (!ready(c, call))
        return scn_result_ok(NULL);
    return do_wait(c, call->st);
}

static sm_result kernel_delay(scn_exec *c, scn_call *call)
{
    if (!ready(c, call))
        return scn_result_ok(NULL);
    return scn_result_ok(&r_delay);
}

/* After each call that ran: when connections entered timed states, in
 * the namespace the call ran in (a call changes no other; a wait looks at
 * every one).  Until a connect() (or a sendto()) has run, the namespaces
 * hold only listeners and unconnected sockets, none in a timed state: the
 * tables are not read.  (Reading /proc/net/tcp walks the kernel's whole
 * connection hash, a few ms each time, and lists every listener: reading
 * every namespace after every step made a churn of 1,000 sockets take
 * minutes, and a scenario of 20 namespaces 5 minutes.) */
static void kernel_step_done(scn_exec *c, const scn_stmt *st,
                             const scn_cell *cell)
{
    if (st->kind == SCN_CONNECT || st->kind == SCN_SENDTO)
        c->conns_possible = true;
    if (cell->kind == SCN_CELL_CALL && st->kind != SCN_WAIT &&
        c->conns_possible && !c->fatal)
        note_timed_group(c, c->hosts[c->cur_host].group);
}

static void kernel_host(scn_exec *c, const scn_stmt *st)
{
    host_decl(c, st);
}

static void kernel_on(scn_exec *c, const char *name)
{
    c->cur_host = host_get(c, name);
}

/* ---- hosts into namespaces -------------------------------------------- */

static size_t uf_find(size_t *par, size_t i)
{
    while (par[i] != i)
        i = par[i] = par[par[i]];
    return i;
}

static bool addr_is_local_default(const sm_addr *a)
{
    for (size_t i = 0; i < sizeof local_addrs / sizeof local_addrs[0]; i++) {
        sm_addr d;
        if (sm_addr_parse(local_addrs[i], strlen(local_addrs[i]), &d) &&
            sm_addr_equal(&d, a))
            return true;
    }
    return false;
}

/* The scenario host that has address A (v4-mapped taken as IPv4), or
 * SIZE_MAX. */
static size_t addr_owner(scn_exec *c, const sm_addr *a0)
{
    sm_addr a = sm_addr_unmapped(a0);
    if (addr_is_local_default(&a))
        return host_get(c, "local");
    for (size_t i = 0; i < c->f->n_stmts; i++) {
        const scn_stmt *st = &c->f->stmts[i];
        for (size_t j = 0; st->kind == SCN_HOST && j < st->n_addrs; j++)
            if (sm_addr_equal(&st->addrs[j], &a))
                return host_get(c, st->name);
    }
    return (size_t)-1;
}

/* Hosts that connect to one another share a namespace; every other host
 * gets its own (own ports, own sysctls, as in the model).  Guards are
 * ignored here: a host pair that might talk is kept together. */
static void plan_groups(scn_exec *c)
{
    const scn_file *f = c->f;
    for (size_t i = 0; i < f->n_stmts; i++) {
        const scn_stmt *st = &f->stmts[i];
        if (st->kind == SCN_HOST || st->kind == SCN_ON)
            host_get(c, st->name);
    }
    size_t *par = scn_xmalloc((c->n_hosts + 1) * sizeof *par);
    for (size_t i = 0; i < c->n_hosts; i++)
        par[i] = i;
    size_t cur = host_get(c, "local");
    for (size_t i = 0; i < f->n_stmts; i++) {
        const scn_stmt *st = &f->stmts[i];
        if (st->kind == SCN_HOST || st->kind == SCN_ON)
            cur = host_get(c, st->name);
        if (st->kind != SCN_CONNECT || sm_addr_is_loopback(&st->ep.addr) ||
            sm_addr_is_any(&st->ep.addr))
            continue;
        size_t o = addr_owner(c, &st->ep.addr);
        if (o != (size_t)-1)
            par[uf_find(par, o)] = uf_find(par, cur);
    }
    size_t *gid = scn_xmalloc((c->n_hosts + 1) * sizeof *gid);
    for (size_t i = 0; i < c->n_hosts; i++)
        gid[i] = (size_t)-1;
    for (size_t i = 0; i < c->n_hosts; i++) {
        size_t r = uf_find(par, i);
        if (gid[r] == (size_t)-1)
            gid[r] = c->n_groups++;
        c->hosts[i].group = gid[r];
    }
    free(gid);
    free(par);
}

/* One fresh namespace per group.  Returns NULL or what failed (*err: the
 * errno of a failed call). */
static const char *make_namespaces(scn_exec *c, int *err)
{
    c->nsfd = scn_xmalloc((c->n_groups + 1) * sizeof *c->nsfd);
    for (size_t g = 0; g < c->n_groups; g++)
        c->nsfd[g] = -1;
    for (size_t g = 0; g < c->n_groups; g++) {
        sm_addr *addrs;
        size_t n = group_addrs(c, g, &addrs);
        const char *why = hk_netns_new(addrs, n, &c->nsfd[g], err);
        free(addrs);
        c->active = g;
        if (why)
            return why;
        if (!write_proc("/proc/sys/net/ipv4/ip_unprivileged_port_start",
                        "1024"))
            return "cannot set net.ipv4.ip_unprivileged_port_start in the "
                   "new network namespace";
    }
    return NULL;
}

/* Frees C and returns to the original namespace; NULL or why not. */
static const char *finish(scn_exec *c)
{
    const char *fatal = c->fatal;
    for (size_t i = 0; c->socks && i < c->f->n_socks; i++)
        if (c->socks[i].fd >= 0)
            close(c->socks[i].fd);
    for (size_t g = 0; c->nsfd && g < c->n_groups; g++)
        if (c->nsfd[g] >= 0)
            close(c->nsfd[g]);
    if (c->orig >= 0) {
        int e = hk_netns_enter(c->orig);
        if (e && !fatal) {
            c->tmp.len = 0;
            scn_buf_printf(&c->tmp, "host profile: cannot return to the "
                                    "original network namespace: %s",
                           strerror(e));
            fatal = abuf(c, &c->tmp);
        }
        close(c->orig);
    }
    free(c->socks);
    free(c->users);
    free(c->uids);
    free(c->timed);
    free(c->nsfd);
    free(c->hosts);
    scn_buf_free(&c->tmp);
    free(c);
    return fatal;
}

/* A host pinned to a modelled OS (host NAME ... os PROFILE): the real
 * kernel is one OS, so it runs whole scenarios only. */
static const scn_stmt *pinned_host(const scn_file *f)
{
    for (size_t i = 0; i < f->n_stmts; i++)
        if (f->stmts[i].kind == SCN_HOST && f->stmts[i].os)
            return &f->stmts[i];
    return NULL;
}

static scn_exec *kernel_open(const scn_open_args *a, scn_buf *why_out)
{
    const scn_file *f = a->file;
    const scn_stmt *pin = pinned_host(f);
    if (pin) {
        scn_buf_printf(why_out, "%s:%u: host %s is pinned to os %s, but the "
                                "host profile (the real kernel) runs whole "
                                "scenarios only; run this file on the "
                                "model's profiles",
                       f->path, pin->line, pin->name, sm_profile_name(pin->os));
        return NULL;
    }
    scn_exec *c = scn_xmalloc(sizeof *c);
    memset(c, 0, sizeof *c);
    c->arena = a->arena;
    c->os = a->col->profile;
    c->f = f;
    c->hosts = scn_xmalloc((f->n_stmts + 2) * sizeof *c->hosts);
    c->cur_host = host_get(c, "local");
    plan_groups(c);
    c->orig = hk_netns_current();
    int e = c->orig < 0 ? errno : 0;
    const char *why = c->orig < 0 ? "/proc/self/ns/net"
                                  : make_namespaces(c, &e);
    if (why) {
        if (e == EPERM)
            scn_buf_printf(why_out, "the host profile needs to create a "
                                    "network namespace: run as root "
                                    "(unshare(CLONE_NEWNET): %s)", strerror(e));
        else if (e)
            scn_buf_printf(why_out, "the host profile cannot create a network "
                                    "namespace (%s: %s)", why, strerror(e));
        else
            scn_buf_printf(why_out, "the host profile: %s", why);
        const char *back = finish(c);
        if (back)
            scn_buf_printf(why_out, "; %s", back);
        return NULL;
    }
    c->socks = scn_xmalloc((f->n_socks + 1) * sizeof *c->socks);
    memset(c->socks, 0, (f->n_socks + 1) * sizeof *c->socks);
    for (size_t i = 0; i < f->n_socks; i++)
        c->socks[i].fd = -1;
    collect_users(c);
    return c;
}

static const scn_backend kernel_backend = {
    .no_world = "it runs on the real kernel, which has no model world to "
                "draw or tap",
    .open = kernel_open,
    .close = finish,
    .host = kernel_host,
    .on = kernel_on,
    .sysctl = kernel_sysctl,
    .socket = kernel_socket,
    .setsockopt = kernel_setsockopt,
    .bind = kernel_bind,
    .listen = kernel_listen,
    .connect = kernel_connect,
    .accept = kernel_accept,
    .send = kernel_send,
    .recv = kernel_recv,
    .sendto = kernel_sendto,
    .recvfrom = kernel_recvfrom,
    .shutdown = kernel_shutdown,
    .close_sock = kernel_close_sock,
    .exit = kernel_exit,
    .advance = kernel_advance,
    .delay = kernel_delay,
    .state = kernel_state,
    .local = kernel_local,
    .pending = kernel_pending,
    .take_error = kernel_take_error,
    .peer = kernel_peer,
    .poll = kernel_poll,
    .describe = kernel_describe,
    .step_done = kernel_step_done,
};

bool hk_register(void)
{
    const sm_profile *linux_profile = sm_profile_find("linux");
    return linux_profile &&
           scn_backend_register(SCN_KERNEL_NAME, &kernel_backend,
                                linux_profile);
}

/* Every rule record of this file (docs/rules.md). */
static const sm_rule *const rules_of_file[] = {
    &r_kernel_errno,
    &r_block_forever,
    &r_socket,
    &r_nonblock,
    &r_sockopt_unknown,
    &r_sockopt,
    &r_bind,
    &r_listen,
    &r_connect,
    &r_accept,
    &r_send_datagram,
    &r_send_partial,
    &r_send,
    &r_recv,
    &r_recv_eof,
    &r_shutdown,
    &r_close,
    &r_exit,
    &r_advance,
    &r_sysctl,
    &r_bad_fd,
    &r_delay,
    &r_connect_unspec,
    &r_sendto,
};
const sm_rule_set sm__rules_hk_kernel = {"hostkernel/hk_kernel.c", rules_of_file,
    sizeof rules_of_file / sizeof rules_of_file[0]};
