/*
 * sm_sockapi.c - the socket-API-shaped layer of libsockmodel
 * (<sockmodel/socket.h>).
 *
 * Responsible for: translating the BSD socket calls' arguments (domains,
 * types, option levels and the build OS's option constants, struct sockaddr,
 * struct linger) into engine calls (engine/sm.h), and the engine's results
 * back into -1 / errno; a per-process descriptor table mapping small ints to
 * engine sockets (numbered by the context, or - sm_sys_use_real_fds, the
 * default context - by the kernel, each number held open on /dev/null so
 * no real file can share it); handing calls on other descriptors (read,
 * write, close, fcntl, poll) to the real libc; poll() readiness from the
 * engine's socket state; processes (contexts) sharing one world.
 *
 * It models nothing of an OS itself: every decision about ports, options and
 * connections is the engine's and the profile's.  The layer only decides
 * what the socket API decides before a kernel's protocol code runs: a
 * descriptor that is not open (EBADF), a bad argument (EFAULT, EINVAL,
 * EAFNOSUPPORT, EPROTONOSUPPORT), an option level/name it does not know
 * (ENOPROTOOPT).  Those results carry a rule string of their own, so
 * sm_sys_last() explains every failure.
 *
 * The one piece of mutable state outside a context is the per-thread
 * "current context" used by <sockmodel/plain.h> (sm_sys_use); define
 * SM_PLAIN_CTX to avoid it.
 */
#include "../include/sockmodel/socket.h"
#include "sm_profile.h" /* profile defaults: IPV6_V6ONLY of a new socket */

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/uio.h>
#include <pthread.h>
#include <unistd.h>

/* ---- rule records: what this file decides, with ID, source and tag ---- */

static const sm_rule r_sys_no_call = SM_RULE("sm.sys.no-call", S, "no call yet", "");
static const sm_rule r_sys_exited = SM_RULE("sm.sys.exited", S,
    "the process has already exited",
    "sockmodel socket layer");
static const sm_rule r_sys_socket_exited = SM_RULE("sm.sys.socket-exited", S,
    "the process has exited",
    "sockmodel socket layer");
static const sm_rule r_sys_socket_family = SM_RULE("sm.sys.socket-family", S,
    "only AF_INET and AF_INET6 sockets are modelled",
    "sockmodel socket layer");
static const sm_rule r_sys_socket_protocol = SM_RULE("sm.sys.socket-protocol", S,
    "the protocol does not go with the socket type",
    "sockmodel socket layer");
static const sm_rule r_sys_socket_type = SM_RULE("sm.sys.socket-type", S,
    "only SOCK_STREAM (TCP) and SOCK_DGRAM (UDP) are modelled",
    "sockmodel socket layer");
static const sm_rule r_sys_no_descriptor = SM_RULE("sm.sys.no-descriptor", S,
    "out of memory: no room for another descriptor",
    "sockmodel socket layer");
static const sm_rule r_sys_optval_null = SM_RULE("sm.sys.optval-null", S,
    "optval is NULL",
    "sockmodel socket layer");
static const sm_rule r_sys_linger_size = SM_RULE("sm.sys.linger-size", S,
    "SO_LINGER takes a struct linger",
    "sockmodel socket layer");
static const sm_rule r_sys_optlen_int = SM_RULE("sm.sys.optlen-int", S,
    "an int option needs optlen >= sizeof(int)",
    "sockmodel socket layer");
static const sm_rule r_sys_option_ignored = SM_RULE("sm.sys.option-ignored", S,
    "accepted; this option changes nothing the model decides",
    "sockmodel socket layer");
static const sm_rule r_sys_optval_optlen_null = SM_RULE("sm.sys.optval-optlen-null", S,
    "optval or optlen is NULL",
    "sockmodel socket layer");
static const sm_rule r_sys_optlen_short = SM_RULE("sm.sys.optlen-short", S,
    "optlen is shorter than an int",
    "sockmodel socket layer");
static const sm_rule r_sys_option_value = SM_RULE("sm.sys.option-value", S,
    "option value as last set (or the default)",
    "");
static const sm_rule r_sys_addr_null = SM_RULE("sm.sys.addr-null", S,
    "the address is NULL",
    "sockmodel socket layer");
static const sm_rule r_sys_addr_family = SM_RULE("sm.sys.addr-family", S,
    "only AF_INET and AF_INET6 addresses are modelled",
    "sockmodel socket layer");
static const sm_rule r_sys_addr_short = SM_RULE("sm.sys.addr-short", S,
    "the address length is too short for its family",
    "sockmodel socket layer");
static const sm_rule r_sys_shutdown_how = SM_RULE("sm.sys.shutdown-how", S,
    "how must be SHUT_RD, SHUT_WR or SHUT_RDWR",
    "sockmodel socket layer");
static const sm_rule r_sys_addrlen_null = SM_RULE("sm.sys.addrlen-null", S,
    "addrlen is NULL",
    "sockmodel socket layer");
static const sm_rule r_sys_sockname = SM_RULE("sm.sys.sockname", S,
    "the socket's local address",
    "");
static const sm_rule r_sys_peername_not_connected = SM_RULE("sm.sys.peername-not-connected", S,
    "the socket is not connected",
    "Linux inet_getname()");
static const sm_rule r_sys_peername = SM_RULE("sm.sys.peername", S,
    "the socket's peer",
    "");
static const sm_rule r_sys_getfl = SM_RULE("sm.sys.getfl", S,
    "file status flags",
    "");
static const sm_rule r_sys_getfd = SM_RULE("sm.sys.getfd", S,
    "descriptor flags",
    "");
static const sm_rule r_sys_setfd = SM_RULE("sm.sys.setfd", S,
    "descriptor flags set (no effect in the model)",
    "");
static const sm_rule r_sys_fcntl_cmd = SM_RULE("sm.sys.fcntl-cmd", S,
    "only F_GETFL, F_SETFL, F_GETFD and F_SETFD are modelled",
    "sockmodel socket layer");
static const sm_rule r_sys_ioctl_cmd = SM_RULE("sm.sys.ioctl-cmd", S,
    "only FIONBIO is modelled",
    "sockmodel socket layer");
static const sm_rule r_sys_argp_null = SM_RULE("sm.sys.argp-null", S,
    "argp is NULL",
    "sockmodel socket layer");
static const sm_rule r_sys_accept4_flags = SM_RULE("sm.sys.accept4-flags", S,
    "accept4() takes SOCK_NONBLOCK and SOCK_CLOEXEC only",
    "Linux accept4(2)");
static const sm_rule r_sys_sendto_addr = SM_RULE("sm.sys.sendto-addr", S,
    "sendto() with an address on a UDP socket is not modelled: the model "
    "has no unconnected datagram path; connect() the socket and send()",
    "sockmodel socket layer");
static const sm_rule r_sys_poll_real = SM_RULE("sm.sys.poll-real", S,
    "real descriptors polled by the real poll()",
    "sockmodel socket layer");
static const sm_rule r_sys_poll_forever = SM_RULE("sm.sys.poll-forever", S,
    "would block forever: no socket became ready in 2 minutes of virtual "
    "time",
    "sockmodel socket layer");
static const sm_rule r_sys_poll_ready = SM_RULE("sm.sys.poll-ready", S,
    "sockets ready by the model's state",
    "");
static const sm_rule r_sys_poll_timeout = SM_RULE("sm.sys.poll-timeout", S,
    "timed out (virtual time)",
    "");
static const sm_rule r_sys_close_shared = SM_RULE("sm.sys.close-shared", S,
    "another descriptor still refers to the socket: it stays open",
    "POSIX close()");
static const sm_rule r_sys_dup = SM_RULE("sm.sys.dup", S,
    "a new descriptor of the same socket (they share its options and state)",
    "POSIX dup()");
static const sm_rule r_sys_dup_placeholder = SM_RULE("sm.sys.dup-placeholder", S,
    "dup2() of the descriptor holding the number failed",
    "sockmodel socket layer");
static const sm_rule r_sys_dup_negative = SM_RULE("sm.sys.dup-negative", S,
    "the new descriptor is negative",
    "POSIX dup2()");
static const sm_rule r_sys_dup3_same = SM_RULE("sm.sys.dup3-same", S,
    "dup3() onto the same descriptor",
    "Linux dup3(2)");
static const sm_rule r_sys_dup_stdio = SM_RULE("sm.sys.dup-stdio", S,
    "a standard stream cannot become a model socket",
    "sockmodel socket layer");
static const sm_rule r_sys_dup2_same = SM_RULE("sm.sys.dup2-same", S,
    "dup2() onto itself does nothing",
    "POSIX dup2()");
static const sm_rule r_sys_msg_null = SM_RULE("sm.sys.msg-null", S,
    "msg is NULL",
    "sockmodel socket layer");

#define FD_BASE 3 /* 0, 1, 2 are the standard streams */

/* The world, shared by the contexts (processes) that live in it. */
typedef struct sys_world {
    sm_world *w;
    size_t refs;
    bool owned; /* made by sm_sys_new: freed with the last context */
} sys_world;

/* One descriptor: the engine socket and what the socket API itself keeps
 * (file flags, the option values getsockopt() reports). */
typedef struct fdent {
    bool used;
    sm_id sock;
    int family; /* 4 or 6 */
    sm_proto proto;
    bool nonblock, cloexec;
    bool connecting; /* a non-blocking connect() is under way */
    int so_error;
    /* SOL_SOCKET / IPPROTO_* values as last set successfully */
    int reuseaddr, reuseport, reuseport_lb, exclusive, exclbind;
    int v6only; /* -1: never set (the profile's default) */
    struct linger linger;
    int keepalive, broadcast, sndbuf, rcvbuf, nodelay;
} fdent;

struct sm_sys {
    sys_world *sw;
    sm_id host, user, proc;
    char pname[32];
    bool exited;
    bool real_fds; /* descriptors are real ones held on /dev/null */
    fdent *fds;
    size_t nfds; /* slots allocated; fd = FD_BASE + index */
    sm_result last, last_err;
    char next_name[64];
    bool have_next_name;
    char name_buf[80];
    const char *call; /* the call under way, for the trace */
    int call_fd;
    sm_sys_trace_fn trace;
    void *trace_arg;
};

static _Thread_local sm_sys *current_ctx;

static void fd_release(sm_sys *c, int fd);

/* ---- errors ------------------------------------------------------------ */

static const int errno_table[SM_ERR_COUNT] = {
    [SM_OK] = 0,
    [SM_EADDRINUSE] = EADDRINUSE,
    [SM_EADDRNOTAVAIL] = EADDRNOTAVAIL,
    [SM_EACCES] = EACCES,
    [SM_EINVAL] = EINVAL,
    [SM_EISCONN] = EISCONN,
    [SM_ENOTCONN] = ENOTCONN,
    [SM_ENOPROTOOPT] = ENOPROTOOPT,
    [SM_EOPNOTSUPP] = EOPNOTSUPP,
    [SM_ECONNREFUSED] = ECONNREFUSED,
    [SM_ECONNRESET] = ECONNRESET,
    [SM_ECONNABORTED] = ECONNABORTED,
    [SM_EINPROGRESS] = EINPROGRESS,
    [SM_EALREADY] = EALREADY,
    [SM_EWOULDBLOCK] = EWOULDBLOCK,
    [SM_ENOBUFS] = ENOBUFS,
    [SM_EAFNOSUPPORT] = EAFNOSUPPORT,
    [SM_ETIMEDOUT] = ETIMEDOUT,
    [SM_EPIPE] = EPIPE,
    [SM_EBADF] = EBADF,
    [SM_EPERM] = EPERM,
    [SM_ENETUNREACH] = ENETUNREACH,
    [SM_EFAULT] = EFAULT,
    [SM_EPROTO] = EPROTO,
    [SM_ENOSYS] = ENOSYS,
    [SM_ENOMEM] = ENOMEM,
};

int sm_sys_errno_of(sm_err e)
{
    return (unsigned)e < SM_ERR_COUNT ? errno_table[e] : EINVAL;
}

sm_err sm_sys_err_of_errno(int errnum)
{
    if (errnum == 0)
        return SM_OK;
    if (errnum == EAGAIN)
        return SM_EWOULDBLOCK;
    for (int e = 1; e < SM_ERR_COUNT; e++)
        if (errno_table[e] == errnum)
            return (sm_err)e;
    return SM_ERR_COUNT;
}

/* Record a result and turn it into the call's return value. */
static int finish(sm_sys *c, sm_result r)
{
    if (c->trace && c->call)
        c->trace(c->trace_arg, c->call, c->call_fd, &r);
    c->last = r;
    if (r.err == SM_OK)
        return 0;
    c->last_err = r;
    errno = sm_sys_errno_of(r.err);
    return -1;
}

/* A failure decided by this layer (not by the engine). */
static int layer_fail(sm_sys *c, sm_err e, const sm_rule *rule)
{
    sm_result r;
    memset(&r, 0, sizeof r);
    r.err = e;
    r.rule = rule;
    r.culprit = SM_NONE;
    return finish(c, r);
}

/* The same with an errno the engine has no name for (EPROTONOSUPPORT...). */
static int layer_fail_errno(sm_sys *c, int errnum, const sm_rule *rule)
{
    sm_result r;
    memset(&r, 0, sizeof r);
    r.err = SM_EINVAL;
    r.rule = rule;
    r.culprit = SM_NONE;
    if (c->trace && c->call)
        c->trace(c->trace_arg, c->call, c->call_fd, &r);
    c->last = c->last_err = r;
    errno = errnum;
    return -1;
}

static int layer_ok(sm_sys *c, const sm_rule *rule)
{
    return layer_fail(c, SM_OK, rule);
}

const char *sm_sys_errname(const sm_sys *c, int errnum)
{
    sm_err e = sm_sys_err_of_errno(errnum);
    if (e == SM_ERR_COUNT)
        return "unknown-errno";
    return sm_profile_err_name(sm_world_profile(c->sw->w), e);
}

/* ---- contexts ---------------------------------------------------------- */

/* A context on sw, or NULL with errno ENOMEM (sw is then freed if no
 * context holds it). */
static sm_sys *ctx_make(sys_world *sw, sm_id host, sm_id user, sm_id proc,
                        const char *pname)
{
    sm_sys *c = calloc(1, sizeof *c);
    if (!c || proc == SM_NONE) {
        free(c);
        if (sw->refs == 0) {
            if (sw->owned)
                sm_world_free(sw->w);
            free(sw);
        }
        errno = ENOMEM;
        return NULL;
    }
    c->sw = sw;
    sw->refs++;
    c->host = host;
    c->user = user;
    c->proc = proc;
    snprintf(c->pname, sizeof c->pname, "%s", pname);
    c->last.culprit = SM_NONE;
    c->last.rule = &r_sys_no_call;
    c->last_err = c->last;
    return c;
}

sm_sys *sm_sys_new(const char *profile, uint64_t seed)
{
    const sm_profile *p = profile ? sm_profile_find(profile) : NULL;
    if (!p) {
        errno = ENOENT;
        return NULL;
    }
    sys_world *sw = calloc(1, sizeof *sw);
    if (!sw || !(sw->w = sm_world_new(p, seed))) {
        free(sw);
        errno = ENOMEM;
        return NULL;
    }
    sw->owned = true;
    /* The same starting world as a scenario's host "local". */
    sm_id h = sm_host_add(sw->w, "local");
    static const char *const addrs[] = {"192.0.2.1", "192.0.2.2", "2001:db8::1",
                                        "2001:db8::2"};
    for (size_t i = 0; i < sizeof addrs / sizeof addrs[0]; i++) {
        sm_addr a;
        if (sm_addr_parse(addrs[i], strlen(addrs[i]), &a))
            sm_host_add_addr(sw->w, h, &a);
    }
    sm_id u = sm_user_get(sw->w, "user");
    sm_id pr = sm_proc_get(sw->w, h, "main", u);
    return ctx_make(sw, h, u, pr, "main");
}

sm_sys *sm_sys_spawn(sm_sys *parent, const char *host, const char *proc,
                     const char *user)
{
    if (!parent || !proc) {
        errno = EINVAL;
        return NULL;
    }
    sm_world *w = parent->sw->w;
    sm_id h = host ? sm_host_add(w, host) : parent->host;
    sm_id u = user ? sm_user_get(w, user)
               : parent->user != SM_NONE ? parent->user
                                         : sm_user_get(w, "user");
    sm_id p = sm_proc_get(w, h, proc, u);
    return ctx_make(parent->sw, h, u, p, proc);
}

sm_sys *sm_sys_attach(sm_world *w, sm_id host, sm_id user, sm_id proc)
{
    if (!w) {
        errno = EINVAL;
        return NULL;
    }
    sys_world *sw = calloc(1, sizeof *sw);
    if (!sw) {
        errno = ENOMEM;
        return NULL;
    }
    sw->w = w;
    sw->owned = false;
    char pname[32];
    snprintf(pname, sizeof pname, "proc%u", (unsigned)proc);
    return ctx_make(sw, host, user, proc, pname);
}

void sm_sys_free(sm_sys *c)
{
    if (!c)
        return;
    if (current_ctx == c)
        current_ctx = NULL;
    if (c->real_fds)
        for (size_t i = 0; i < c->nfds; i++)
            if (c->fds[i].used)
                fd_release(c, (int)i + FD_BASE);
    sys_world *sw = c->sw;
    if (--sw->refs == 0) {
        if (sw->owned)
            sm_world_free(sw->w);
        free(sw);
    }
    free(c->fds);
    free(c);
}

int sm_sys_exit(sm_sys *c)
{
    c->call = "exit";
    c->call_fd = -1;
    if (c->exited)
        return layer_fail(c, SM_EINVAL, &r_sys_exited);
    sm_result r = sm_proc_exit(c->sw->w, c->proc);
    for (size_t i = 0; i < c->nfds; i++)
        if (c->fds[i].used)
            fd_release(c, (int)i + FD_BASE);
    c->exited = true;
    return finish(c, r);
}

sm_world *sm_sys_world(const sm_sys *c) { return c->sw->w; }
sm_id sm_sys_host(const sm_sys *c) { return c->host; }
sm_id sm_sys_proc(const sm_sys *c) { return c->proc; }
const sm_result *sm_sys_last(const sm_sys *c) { return &c->last; }
const sm_result *sm_sys_last_error(const sm_sys *c) { return &c->last_err; }

const char *sm_sys_profile_name(const sm_sys *c)
{
    return sm_profile_name(sm_world_profile(c->sw->w));
}

void sm_sys_name_next(sm_sys *c, const char *name)
{
    c->have_next_name = name != NULL;
    if (name)
        snprintf(c->next_name, sizeof c->next_name, "%s", name);
}

sm_sys *sm_sys_use(sm_sys *c)
{
    sm_sys *prev = current_ctx;
    current_ctx = c;
    return prev;
}

/* The context of a program that never chose one: made on first use from
 * SOCKMODEL_PROFILE (default linux) and SOCKMODEL_SEED (default 1), shared
 * by every thread that has not chosen its own. */
static sm_sys *default_ctx;
static pthread_once_t default_once = PTHREAD_ONCE_INIT;

static void default_make(void)
{
    const char *prof = getenv("SOCKMODEL_PROFILE");
    const char *seed = getenv("SOCKMODEL_SEED");
    char *end = NULL;
    unsigned long long sd = seed && *seed ? strtoull(seed, &end, 10) : 1;
    if (end && *end)
        sd = 1;
    default_ctx = sm_sys_new(prof && *prof ? prof : "linux", sd);
    if (default_ctx)
        sm_sys_use_real_fds(default_ctx);
}

sm_sys *sm_sys_current(void)
{
    if (current_ctx)
        return current_ctx;
    (void)pthread_once(&default_once, default_make);
    return default_ctx;
}

void sm_sys_set_trace(sm_sys *c, sm_sys_trace_fn fn, void *arg)
{
    c->trace = fn;
    c->trace_arg = arg;
}

/* ---- descriptors ------------------------------------------------------- */

static fdent *fd_get(sm_sys *c, int fd)
{
    if (fd < FD_BASE || (size_t)(fd - FD_BASE) >= c->nfds)
        return NULL;
    fdent *e = &c->fds[fd - FD_BASE];
    return e->used ? e : NULL;
}

/* The table has slot i (new slots unused); false when out of memory. */
static bool fd_grow(sm_sys *c, size_t i)
{
    if (i < c->nfds)
        return true;
    size_t n = c->nfds ? c->nfds * 2 : 8;
    while (n <= i)
        n *= 2;
    fdent *f = realloc(c->fds, n * sizeof *f);
    if (!f)
        return false;
    memset(f + c->nfds, 0, (n - c->nfds) * sizeof *f);
    c->fds = f;
    c->nfds = n;
    return true;
}

/* The lowest free descriptor (POSIX: "the lowest numbered unused"), or -1
 * when the table cannot grow. */
static int fd_alloc(sm_sys *c)
{
    size_t i;
    int held = -1;
    if (c->real_fds) {
        /* The kernel picks the number (the lowest free one, as it would
         * for the real socket) and keeps it taken while the model uses
         * it, so no real file can get it. */
        int tmp = open("/dev/null", O_RDONLY);
        if (tmp < 0)
            return -1;
        held = tmp;
        if (tmp < FD_BASE) { /* a standard stream was closed */
            held = fcntl(tmp, F_DUPFD, FD_BASE);
            close(tmp);
            if (held < 0)
                return -1;
        }
        fcntl(held, F_SETFD, FD_CLOEXEC);
        i = (size_t)(held - FD_BASE);
    } else {
        for (i = 0; i < c->nfds; i++)
            if (!c->fds[i].used)
                break;
    }
    if (!fd_grow(c, i)) {
        if (held >= 0)
            close(held);
        return -1;
    }
    memset(&c->fds[i], 0, sizeof c->fds[i]);
    c->fds[i].v6only = -1;
    c->fds[i].sock = SM_NONE;
    return (int)i + FD_BASE;
}

/* A descriptor from fd_alloc() that ends up unused, or one closed. */
static void fd_release(sm_sys *c, int fd)
{
    c->fds[fd - FD_BASE].used = false;
    if (c->real_fds)
        close(fd);
}

int sm_sys_use_real_fds(sm_sys *c)
{
    for (size_t i = 0; i < c->nfds; i++)
        if (c->fds[i].used) {
            errno = EBUSY;
            return -1;
        }
    c->real_fds = true;
    return 0;
}

static const char *sock_name(sm_sys *c, int fd)
{
    if (c->have_next_name) {
        c->have_next_name = false;
        return c->next_name;
    }
    snprintf(c->name_buf, sizeof c->name_buf, "%s:fd%d", c->pname, fd);
    return c->name_buf;
}

sm_id sm_sys_sock(const sm_sys *c, int fd)
{
    if (fd < FD_BASE || (size_t)(fd - FD_BASE) >= c->nfds ||
        !c->fds[fd - FD_BASE].used)
        return SM_NONE;
    return c->fds[fd - FD_BASE].sock;
}

static const sm_rule bad_fd = SM_RULE("sm.sys.bad-fd", S,
    "the descriptor is not open in this process",
    "sockmodel socket layer");

#define GET_FD(c, fd, e, name)                                               \
    do {                                                                     \
        if (!(c)) {                                                          \
            errno = EINVAL;                                                  \
            return -1;                                                       \
        }                                                                    \
        (c)->call = (name);                                                  \
        (c)->call_fd = (fd);                                                 \
        (e) = fd_get((c), (fd));                                             \
        if (!(e))                                                            \
            return layer_fail((c), SM_EBADF, &bad_fd);                        \
    } while (0)

/* ---- addresses --------------------------------------------------------- */

int sm_sys_to_endpoint(const struct sockaddr *sa, socklen_t len,
                       sm_endpoint *out)
{
    if (!sa) {
        errno = EFAULT;
        return -1;
    }
    memset(out, 0, sizeof *out);
    if (len < (socklen_t)sizeof(sa_family_t)) {
        errno = EINVAL;
        return -1;
    }
    if (sa->sa_family == AF_INET) {
        struct sockaddr_in sin;
        if (len < (socklen_t)sizeof sin) {
            errno = EINVAL;
            return -1;
        }
        memcpy(&sin, sa, sizeof sin);
        out->addr.family = 4;
        memcpy(out->addr.b, &sin.sin_addr, 4); /* network order = byte order */
        out->port = ntohs(sin.sin_port);
        return 0;
    }
    if (sa->sa_family == AF_INET6) {
        struct sockaddr_in6 sin6;
        /* RFC 2133's sockaddr_in6 had no sin6_scope_id; Linux still takes
         * that shorter length (SIN6_LEN_RFC2133, 24 bytes). */
        if (len < (socklen_t)offsetof(struct sockaddr_in6, sin6_scope_id)) {
            errno = EINVAL;
            return -1;
        }
        memset(&sin6, 0, sizeof sin6);
        memcpy(&sin6, sa, len < (socklen_t)sizeof sin6 ? (size_t)len : sizeof sin6);
        out->addr.family = 6;
        memcpy(out->addr.b, &sin6.sin6_addr, 16);
        out->port = ntohs(sin6.sin6_port);
        return 0;
    }
    errno = EAFNOSUPPORT;
    return -1;
}

void sm_sys_from_endpoint(const sm_endpoint *ep, struct sockaddr *sa,
                          socklen_t *len)
{
    if (!len)
        return;
    if (ep->addr.family == 4) {
        struct sockaddr_in sin;
        memset(&sin, 0, sizeof sin);
        sin.sin_family = AF_INET;
        sin.sin_port = htons(ep->port);
        memcpy(&sin.sin_addr, ep->addr.b, 4);
        if (sa)
            memcpy(sa, &sin, *len < (socklen_t)sizeof sin ? (size_t)*len : sizeof sin);
        *len = (socklen_t)sizeof sin;
    } else {
        struct sockaddr_in6 sin6;
        memset(&sin6, 0, sizeof sin6);
        sin6.sin6_family = AF_INET6;
        sin6.sin6_port = htons(ep->port);
        memcpy(&sin6.sin6_addr, ep->addr.b, 16);
        if (sa)
            memcpy(sa, &sin6, *len < (socklen_t)sizeof sin6 ? (size_t)*len : sizeof sin6);
        *len = (socklen_t)sizeof sin6;
    }
}

/* ---- socket ------------------------------------------------------------ */

int sm_sys_socket(sm_sys *c, int domain, int type, int protocol)
{
    if (!c) {
        errno = EINVAL;
        return -1;
    }
    c->call = "socket";
    c->call_fd = -1;
    if (c->exited)
        return layer_fail_errno(c, ESRCH, &r_sys_socket_exited);
    int family;
    if (domain == AF_INET)
        family = 4;
    else if (domain == AF_INET6)
        family = 6;
    else
        return layer_fail(c, SM_EAFNOSUPPORT,
                          &r_sys_socket_family);
    bool nonblock = false, cloexec = false;
#ifdef SOCK_NONBLOCK
    if (type & SOCK_NONBLOCK) {
        nonblock = true;
        type &= ~SOCK_NONBLOCK;
    }
#endif
#ifdef SOCK_CLOEXEC
    if (type & SOCK_CLOEXEC) {
        cloexec = true;
        type &= ~SOCK_CLOEXEC;
    }
#endif
    sm_proto proto;
    if (type == SOCK_STREAM && (protocol == 0 || protocol == IPPROTO_TCP))
        proto = SM_TCP;
    else if (type == SOCK_DGRAM && (protocol == 0 || protocol == IPPROTO_UDP))
        proto = SM_UDP;
    else if (type == SOCK_STREAM || type == SOCK_DGRAM)
        return layer_fail_errno(c, EPROTONOSUPPORT,
                                &r_sys_socket_protocol);
    else
        return layer_fail_errno(c, ESOCKTNOSUPPORT,
                                &r_sys_socket_type);

    int fd = fd_alloc(c);
    if (fd < 0)
        return layer_fail(c, SM_ENOMEM, &r_sys_no_descriptor);
    sm_id id = SM_NONE;
    sm_result r = sm_socket(c->sw->w, c->proc, proto, family, sock_name(c, fd), &id);
    if (r.err != SM_OK) {
        fd_release(c, fd);
        return finish(c, r);
    }
    c->call_fd = fd;
    fdent *e = &c->fds[fd - FD_BASE];
    e->used = true;
    e->sock = id;
    e->family = family;
    e->proto = proto;
    e->cloexec = cloexec;
    e->linger.l_onoff = 0;
    e->linger.l_linger = 0;
    if (nonblock) {
        sm_result nr = sm_setsockopt(c->sw->w, id, SM_O_NONBLOCK, 1, 0);
        if (nr.err != SM_OK) {
            sm_close(c->sw->w, id);
            fd_release(c, fd);
            return finish(c, nr);
        }
        e->nonblock = true;
    }
    finish(c, r);
    return fd;
}

/* ---- options ----------------------------------------------------------- */

static const sm_rule unknown_opt = SM_RULE("sm.sys.unknown-option", S,
    "the model does not know this option level/name",
    "sockmodel socket layer");

/* Options that change nothing the model decides: accepted and remembered
 * so that getsockopt() reports them. */
static int *inert_option(fdent *e, int level, int optname)
{
    if (level == SOL_SOCKET) {
        if (optname == SO_KEEPALIVE)
            return &e->keepalive;
        if (optname == SO_BROADCAST)
            return &e->broadcast;
        if (optname == SO_SNDBUF)
            return &e->sndbuf;
        if (optname == SO_RCVBUF)
            return &e->rcvbuf;
    }
    if (level == IPPROTO_TCP && optname == TCP_NODELAY && e->proto == SM_TCP)
        return &e->nodelay;
    return NULL;
}

/* An int-valued option the engine decides: its sm_option and where the
 * layer keeps its value.  NULL if (level, optname) is not one. */
static int *engine_option(fdent *e, int level, int optname, sm_option *o)
{
    if (level == SOL_SOCKET) {
        if (optname == SO_REUSEADDR) {
            *o = SM_SO_REUSEADDR;
            return &e->reuseaddr;
        }
        if (optname == SM_SYS_SO_REUSEPORT) {
            *o = SM_SO_REUSEPORT;
            return &e->reuseport;
        }
        if (optname == SM_SYS_SO_REUSEPORT_LB) {
            *o = SM_SO_REUSEPORT_LB;
            return &e->reuseport_lb;
        }
        if (optname == SM_SYS_SO_EXCLUSIVEADDRUSE) {
            *o = SM_SO_EXCLUSIVEADDRUSE;
            return &e->exclusive;
        }
        if (optname == SM_SYS_SO_EXCLBIND) {
            *o = SM_SO_EXCLBIND;
            return &e->exclbind;
        }
    }
    if (level == IPPROTO_IPV6 && optname == IPV6_V6ONLY && e->family == 6) {
        *o = SM_IPV6_V6ONLY;
        return &e->v6only;
    }
    return NULL;
}

int sm_sys_setsockopt(sm_sys *c, int fd, int level, int optname,
                      const void *optval, socklen_t optlen)
{
    fdent *e;
    GET_FD(c, fd, e, "setsockopt");
    if (!optval)
        return layer_fail(c, SM_EFAULT, &r_sys_optval_null);
    sm_world *w = c->sw->w;
    if (level == SOL_SOCKET && optname == SO_LINGER) {
        struct linger l;
        if (optlen < (socklen_t)sizeof l)
            return layer_fail(c, SM_EINVAL,
                              &r_sys_linger_size);
        memcpy(&l, optval, sizeof l);
        sm_result r = sm_setsockopt(w, e->sock, SM_SO_LINGER, l.l_onoff != 0, (int)l.l_linger);
        if (r.err == SM_OK)
            e->linger = l;
        return finish(c, r);
    }
    int v;
    sm_option o;
    int *slot = engine_option(e, level, optname, &o);
    int *inert = slot ? NULL : inert_option(e, level, optname);
    if (!slot && !inert)
        return layer_fail(c, SM_ENOPROTOOPT, &unknown_opt);
    if (optlen < (socklen_t)sizeof v)
        return layer_fail(c, SM_EINVAL, &r_sys_optlen_int);
    memcpy(&v, optval, sizeof v);
    if (inert) {
        *inert = v;
        return layer_ok(c, &r_sys_option_ignored);
    }
    sm_result r = sm_setsockopt(w, e->sock, o, v != 0, 0);
    if (r.err == SM_OK)
        *slot = v != 0;
    return finish(c, r);
}

static int put_int(sm_sys *c, void *optval, socklen_t *optlen, int v)
{
    if (!optval || !optlen)
        return layer_fail(c, SM_EFAULT, &r_sys_optval_optlen_null);
    if (*optlen < (socklen_t)sizeof v)
        return layer_fail(c, SM_EINVAL, &r_sys_optlen_short);
    memcpy(optval, &v, sizeof v);
    *optlen = (socklen_t)sizeof v;
    return layer_ok(c, &r_sys_option_value);
}

int sm_sys_getsockopt(sm_sys *c, int fd, int level, int optname,
                      void *optval, socklen_t *optlen)
{
    fdent *e;
    GET_FD(c, fd, e, "getsockopt");
    sm_world *w = c->sw->w;
    if (level == SOL_SOCKET && optname == SO_LINGER) {
        if (!optval || !optlen)
            return layer_fail(c, SM_EFAULT, &r_sys_optval_optlen_null);
        if (*optlen < (socklen_t)sizeof e->linger)
            return layer_fail(c, SM_EINVAL, &r_sys_linger_size);
        memcpy(optval, &e->linger, sizeof e->linger);
        *optlen = (socklen_t)sizeof e->linger;
        return layer_ok(c, &r_sys_option_value);
    }
    if (level == SOL_SOCKET && optname == SO_TYPE)
        return put_int(c, optval, optlen, e->proto == SM_TCP ? SOCK_STREAM : SOCK_DGRAM);
    if (level == SOL_SOCKET && optname == SO_ACCEPTCONN)
        return put_int(c, optval, optlen, sm_sock_state(w, e->sock) == SM_LISTEN);
    if (level == SOL_SOCKET && optname == SO_ERROR) {
        int err = e->so_error;
        if (e->connecting) {
            /* A non-blocking connect() finished.  The engine has no call
             * that returns the pending error yet, so it is read from the
             * state: ESTABLISHED (or later) = success, back to CLOSED =
             * refused (the handshake of a lossless network can only fail
             * by a RST) [sockmodel socket layer; inferred]. */
            sm_tcp_state st = sm_sock_state(w, e->sock);
            if (st == SM_SYN_SENT)
                err = 0;
            else {
                e->connecting = false;
                err = st == SM_CLOSED ? ECONNREFUSED : 0;
            }
        }
        e->so_error = 0;
        return put_int(c, optval, optlen, err);
    }
    sm_option o;
    int *slot = engine_option(e, level, optname, &o);
    int *inert = slot ? NULL : inert_option(e, level, optname);
    if (!slot && !inert)
        return layer_fail(c, SM_ENOPROTOOPT, &unknown_opt);
    int v = slot ? *slot : *inert;
    if (slot == &e->v6only && v < 0) {
        /* Never set: the default this profile gives a new AF_INET6 socket
         * (a sysctl that changed the host's default is not seen here). */
        const sm_profile *p = sm_world_profile(w);
        v = p->defaults[SM_TUN_V6ONLY_DEFAULT] != 0;
    }
    return put_int(c, optval, optlen, v);
}

/* ---- bind, listen, connect, accept ------------------------------------- */

static int addr_fail(sm_sys *c)
{
    int err = errno;
    if (err == EFAULT)
        return layer_fail(c, SM_EFAULT, &r_sys_addr_null);
    if (err == EAFNOSUPPORT)
        return layer_fail(c, SM_EAFNOSUPPORT,
                          &r_sys_addr_family);
    return layer_fail(c, SM_EINVAL,
                      &r_sys_addr_short);
}

int sm_sys_bind(sm_sys *c, int fd, const struct sockaddr *addr, socklen_t len)
{
    fdent *e;
    GET_FD(c, fd, e, "bind");
    sm_endpoint ep;
    if (sm_sys_to_endpoint(addr, len, &ep) != 0)
        return addr_fail(c);
    return finish(c, sm_bind(c->sw->w, e->sock, &ep));
}

int sm_sys_listen(sm_sys *c, int fd, int backlog)
{
    fdent *e;
    GET_FD(c, fd, e, "listen");
    return finish(c, sm_listen(c->sw->w, e->sock, backlog));
}

int sm_sys_connect(sm_sys *c, int fd, const struct sockaddr *addr, socklen_t len)
{
    fdent *e;
    GET_FD(c, fd, e, "connect");
    sm_endpoint ep;
    if (sm_sys_to_endpoint(addr, len, &ep) != 0)
        return addr_fail(c);
    sm_result r = sm_connect(c->sw->w, e->sock, &ep);
    if (r.err == SM_EINPROGRESS)
        e->connecting = true;
    return finish(c, r);
}

int sm_sys_accept(sm_sys *c, int fd, struct sockaddr *addr, socklen_t *len)
{
    fdent *l;
    GET_FD(c, fd, l, "accept");
    size_t li = (size_t)(fd - FD_BASE);
    int nfd = fd_alloc(c); /* may move c->fds */
    if (nfd < 0)
        return layer_fail(c, SM_ENOMEM, &r_sys_no_descriptor);
    l = &c->fds[li];
    sm_id id = SM_NONE;
    sm_result r = sm_accept(c->sw->w, l->sock, sock_name(c, nfd), &id);
    if (r.err != SM_OK || id == SM_NONE) {
        c->have_next_name = false;
        fd_release(c, nfd);
        return finish(c, r);
    }
    fdent *e = &c->fds[nfd - FD_BASE];
    /* The accepted socket is of the listener's kind and inherits its
     * socket options (all OSes), so getsockopt() reports the listener's
     * values.  O_NONBLOCK is a file flag that Linux does not pass on to
     * the accepted socket; F_GETFL reports it clear (the layer cannot read
     * the engine's flag, so an OS that inherits it - BSD, Windows - is not
     * reflected here). */
    *e = *l;
    e->sock = id;
    e->nonblock = false;
    e->connecting = false;
    e->so_error = 0;
    e->cloexec = false;
    if (addr || len) {
        sm_endpoint peer;
        if (!sm_sock_remote(c->sw->w, id, &peer)) {
            memset(&peer, 0, sizeof peer);
            peer.addr = sm_addr_any(e->family);
        }
        sm_sys_from_endpoint(&peer, addr, len);
    }
    finish(c, r);
    return nfd;
}

/* ---- close, shutdown, data --------------------------------------------- */

/* Another of the context's descriptors refers to fd's socket (dup). */
static bool sock_shared(const sm_sys *c, int fd, sm_id sock)
{
    for (size_t i = 0; i < c->nfds; i++)
        if (c->fds[i].used && (int)i + FD_BASE != fd && c->fds[i].sock == sock)
            return true;
    return false;
}

int sm_sys_close(sm_sys *c, int fd)
{
    fdent *e;
    GET_FD(c, fd, e, "close");
    /* The descriptor is gone whatever the outcome (POSIX close(): even on
     * EINTR Linux has released it). */
    sm_id sock = e->sock;
    bool shared = sock_shared(c, fd, sock);
    fd_release(c, fd);
    if (shared)
        return layer_ok(c, &r_sys_close_shared);
    return finish(c, sm_close(c->sw->w, sock));
}

int sm_sys_shutdown(sm_sys *c, int fd, int how)
{
    fdent *e;
    GET_FD(c, fd, e, "shutdown");
    bool rd = how == SHUT_RD || how == SHUT_RDWR;
    bool wr = how == SHUT_WR || how == SHUT_RDWR;
    if (!rd && !wr)
        return layer_fail(c, SM_EINVAL, &r_sys_shutdown_how);
    return finish(c, sm_shutdown(c->sw->w, e->sock, rd, wr));
}

ssize_t sm_sys_send(sm_sys *c, int fd, const void *buf, size_t len, int flags)
{
    (void)buf;
    (void)flags;
    fdent *e;
    GET_FD(c, fd, e, "send");
    sm_result r = sm_send(c->sw->w, e->sock, (uint64_t)len);
    if (finish(c, r) != 0)
        return -1;
    return (ssize_t)r.bytes;
}

ssize_t sm_sys_recv(sm_sys *c, int fd, void *buf, size_t len, int flags)
{
    (void)flags;
    fdent *e;
    GET_FD(c, fd, e, "recv");
    sm_result r = sm_recv(c->sw->w, e->sock, (uint64_t)len);
    if (finish(c, r) != 0)
        return -1;
    size_t n = r.bytes < len ? (size_t)r.bytes : len;
    if (buf && n)
        memset(buf, 0, n); /* content is not modelled */
    return (ssize_t)n;
}

/* ---- names --------------------------------------------------------------- */

int sm_sys_getsockname(sm_sys *c, int fd, struct sockaddr *addr, socklen_t *len)
{
    fdent *e;
    GET_FD(c, fd, e, "getsockname");
    if (!len)
        return layer_fail(c, SM_EFAULT, &r_sys_addrlen_null);
    sm_endpoint ep;
    if (!sm_sock_local(c->sw->w, e->sock, &ep)) {
        /* Not bound: the wildcard of its family and port 0 (as Linux and
         * the BSDs answer; Windows answers WSAEINVAL - not modelled). */
        memset(&ep, 0, sizeof ep);
        ep.addr = sm_addr_any(e->family);
    }
    sm_sys_from_endpoint(&ep, addr, len);
    return layer_ok(c, &r_sys_sockname);
}

int sm_sys_getpeername(sm_sys *c, int fd, struct sockaddr *addr, socklen_t *len)
{
    fdent *e;
    GET_FD(c, fd, e, "getpeername");
    if (!len)
        return layer_fail(c, SM_EFAULT, &r_sys_addrlen_null);
    sm_endpoint ep;
    /* Linux inet_getname(): ENOTCONN for a socket without a peer and for
     * TCP in CLOSE or SYN_SENT; every later state (the closing ones too)
     * still has its peer. */
    sm_tcp_state st = sm_sock_state(c->sw->w, e->sock);
    if ((e->proto == SM_TCP &&
         (st == SM_CLOSED || st == SM_SYN_SENT || st == SM_LISTEN)) ||
        !sm_sock_remote(c->sw->w, e->sock, &ep))
        return layer_fail(c, SM_ENOTCONN,
                          &r_sys_peername_not_connected);
    sm_sys_from_endpoint(&ep, addr, len);
    return layer_ok(c, &r_sys_peername);
}

/* ---- file flags ---------------------------------------------------------- */

static int set_nonblock(sm_sys *c, fdent *e, bool on)
{
    sm_result r = sm_setsockopt(c->sw->w, e->sock, SM_O_NONBLOCK, on, 0);
    if (r.err == SM_OK)
        e->nonblock = on;
    return finish(c, r);
}

int sm_sys_fcntl(sm_sys *c, int fd, int cmd, ...)
{
    fdent *e;
    GET_FD(c, fd, e, "fcntl");
    va_list ap;
    int arg = 0;
    if (cmd == F_SETFL || cmd == F_SETFD) {
        va_start(ap, cmd);
        arg = va_arg(ap, int);
        va_end(ap);
    }
    switch (cmd) {
    case F_GETFL:
        layer_ok(c, &r_sys_getfl);
        return O_RDWR | (e->nonblock ? O_NONBLOCK : 0);
    case F_SETFL:
        return set_nonblock(c, e, (arg & O_NONBLOCK) != 0);
    case F_GETFD:
        layer_ok(c, &r_sys_getfd);
        return e->cloexec ? FD_CLOEXEC : 0;
    case F_SETFD:
        e->cloexec = (arg & FD_CLOEXEC) != 0;
        return layer_ok(c, &r_sys_setfd);
    default:
        return layer_fail(c, SM_EINVAL,
                          &r_sys_fcntl_cmd);
    }
}

int sm_sys_ioctlsocket(sm_sys *c, int fd, long cmd, unsigned long *argp)
{
    fdent *e;
    GET_FD(c, fd, e, "ioctlsocket");
    if (cmd != (long)FIONBIO)
        return layer_fail(c, SM_EINVAL, &r_sys_ioctl_cmd);
    if (!argp)
        return layer_fail(c, SM_EFAULT, &r_sys_argp_null);
    return set_nonblock(c, e, *argp != 0);
}

/* ---- the rest of the plain calls ----------------------------------------- */

int sm_sys_accept4(sm_sys *c, int fd, struct sockaddr *addr, socklen_t *len,
                   int flags)
{
    int known = 0;
#ifdef SOCK_NONBLOCK
    known |= SOCK_NONBLOCK;
#endif
#ifdef SOCK_CLOEXEC
    known |= SOCK_CLOEXEC;
#endif
    if (flags & ~known) {
        fdent *l;
        GET_FD(c, fd, l, "accept4");
        (void)l;
        return layer_fail(c, SM_EINVAL,
                          &r_sys_accept4_flags);
    }
    int nfd = sm_sys_accept(c, fd, addr, len);
    if (nfd < 0)
        return -1;
    fdent *e = fd_get(c, nfd);
#ifdef SOCK_NONBLOCK
    if (flags & SOCK_NONBLOCK) {
        /* Not through set_nonblock(): the trace shows one call. */
        sm_result nr = sm_setsockopt(c->sw->w, e->sock, SM_O_NONBLOCK, 1, 0);
        if (nr.err != SM_OK) {
            sm_sys_close(c, nfd);
            c->call = "accept4";
            c->call_fd = fd;
            return finish(c, nr);
        }
        e->nonblock = true;
    }
#endif
#ifdef SOCK_CLOEXEC
    e->cloexec = (flags & SOCK_CLOEXEC) != 0;
#endif
    return nfd;
}

ssize_t sm_sys_sendto(sm_sys *c, int fd, const void *buf, size_t len, int flags,
                      const struct sockaddr *addr, socklen_t alen)
{
    fdent *e;
    GET_FD(c, fd, e, "sendto");
    if (addr && e->proto == SM_UDP)
        /* The engine sends datagrams on connected UDP sockets only. */
        return layer_fail(c, SM_ENOSYS,
                          &r_sys_sendto_addr);
    /* TCP: "if the socket is connection-mode, dest_addr shall be ignored"
     * (POSIX sendto()). */
    (void)alen;
    return sm_sys_send(c, fd, buf, len, flags);
}

ssize_t sm_sys_recvfrom(sm_sys *c, int fd, void *buf, size_t len, int flags,
                        struct sockaddr *addr, socklen_t *alen)
{
    fdent *e;
    GET_FD(c, fd, e, "recvfrom");
    bool udp = e->proto == SM_UDP;
    ssize_t n = sm_sys_recv(c, fd, buf, len, flags);
    if (n < 0 || !alen)
        return n;
    sm_endpoint peer;
    if (udp && sm_sys_sock(c, fd) != SM_NONE &&
        sm_sock_remote(c->sw->w, sm_sys_sock(c, fd), &peer))
        sm_sys_from_endpoint(&peer, addr, alen); /* the datagram's sender */
    else
        *alen = 0; /* TCP: Linux's tcp_recvmsg() gives no address */
    return n;
}

/* A descriptor of the process rather than of the model: only a context
 * whose numbers are real ones can tell (in one with its own numbering, 3
 * may be both a model socket and a real file; there every descriptor is
 * the model's, and one it does not have is EBADF). */
static bool is_real(sm_sys *c, int fd)
{
    return !c || (c->real_fds && !fd_get(c, fd));
}

ssize_t sm_sys_read(sm_sys *c, int fd, void *buf, size_t len)
{
    if (is_real(c, fd))
        return read(fd, buf, len);
    return sm_sys_recv(c, fd, buf, len, 0);
}

ssize_t sm_sys_write(sm_sys *c, int fd, const void *buf, size_t len)
{
    if (is_real(c, fd))
        return write(fd, buf, len);
    return sm_sys_send(c, fd, buf, len, 0);
}

int sm_sys_close_any(sm_sys *c, int fd)
{
    if (is_real(c, fd))
        return close(fd);
    return sm_sys_close(c, fd);
}

int sm_sys_fcntl_any(sm_sys *c, int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    int r;
    if (!is_real(c, fd)) {
        int arg = cmd == F_SETFL || cmd == F_SETFD ? va_arg(ap, int) : 0;
        r = sm_sys_fcntl(c, fd, cmd, arg);
    } else if (cmd == F_GETFD || cmd == F_GETFL
#ifdef F_GETOWN
               || cmd == F_GETOWN
#endif
    ) {
        r = fcntl(fd, cmd);
    } else if (cmd == F_GETLK || cmd == F_SETLK || cmd == F_SETLKW
#ifdef F_OFD_GETLK
               || cmd == F_OFD_GETLK || cmd == F_OFD_SETLK || cmd == F_OFD_SETLKW
#endif
    ) {
        r = fcntl(fd, cmd, va_arg(ap, void *));
    } else {
        r = fcntl(fd, cmd, va_arg(ap, int));
    }
    va_end(ap);
    return r;
}

/* ---- dup, dup2, dup3 ------------------------------------------------------ */

/* Makes fd2 (>= FD_BASE) a descriptor of the model's socket e, as dup2()
 * does: whatever fd2 was is closed first (a model socket: its close; a
 * real file, in a context with real numbers: the kernel closes it when
 * the placeholder is put there). */
static int dup_onto(sm_sys *c, int fd, int fd2, bool cloexec)
{
    fdent copy = c->fds[fd - FD_BASE];
    if (fd_get(c, fd2)) {
        sm_id was = c->fds[fd2 - FD_BASE].sock;
        bool shared = sock_shared(c, fd2, was);
        c->fds[fd2 - FD_BASE].used = false; /* the number stays taken */
        if (!shared && was != copy.sock)
            sm_close(c->sw->w, was);
    }
    if (c->real_fds && dup2(fd, fd2) < 0) /* the placeholder, at fd2 */
        return layer_fail_errno(c, errno, &r_sys_dup_placeholder);
    size_t i = (size_t)(fd2 - FD_BASE);
    if (!fd_grow(c, i)) {
        if (c->real_fds)
            close(fd2);
        return layer_fail(c, SM_ENOMEM, &r_sys_no_descriptor);
    }
    c->fds[i] = copy;
    c->fds[i].cloexec = cloexec;
    if (c->real_fds)
        fcntl(fd2, F_SETFD, FD_CLOEXEC); /* the placeholder: never inherited */
    layer_ok(c, &r_sys_dup);
    return fd2;
}

int sm_sys_dup(sm_sys *c, int fd)
{
    fdent *e;
    GET_FD(c, fd, e, "dup");
    (void)e;
    int nfd = fd_alloc(c);
    if (nfd < 0)
        return layer_fail(c, SM_ENOMEM, &r_sys_no_descriptor);
    return dup_onto(c, fd, nfd, false);
}

int sm_sys_dup3(sm_sys *c, int fd, int fd2, int flags)
{
    fdent *e;
    GET_FD(c, fd, e, "dup3");
    (void)e;
    if (fd2 < 0)
        return layer_fail(c, SM_EBADF, &r_sys_dup_negative);
    if (fd2 == fd)
        return layer_fail(c, SM_EINVAL, &r_sys_dup3_same);
    if (fd2 < FD_BASE)
        return layer_fail(c, SM_EINVAL, &r_sys_dup_stdio);
    bool cloexec = flags != 0; /* O_CLOEXEC is dup3()'s only flag */
    return dup_onto(c, fd, fd2, cloexec);
}

int sm_sys_dup2(sm_sys *c, int fd, int fd2)
{
    if (c && fd == fd2 && fd_get(c, fd)) {
        c->call = "dup2";
        c->call_fd = fd;
        layer_ok(c, &r_sys_dup2_same);
        return fd2;
    }
    return sm_sys_dup3(c, fd, fd2, 0);
}

int sm_sys_dup_any(sm_sys *c, int fd)
{
    return is_real(c, fd) ? dup(fd) : sm_sys_dup(c, fd);
}

/* A real descriptor put onto a model one: the model socket loses that
 * descriptor (the kernel's dup2 replaces the placeholder). */
static void forget_model_fd(sm_sys *c, int fd2)
{
    if (!c || !c->real_fds || !fd_get(c, fd2))
        return;
    sm_id was = c->fds[fd2 - FD_BASE].sock;
    bool shared = sock_shared(c, fd2, was);
    c->fds[fd2 - FD_BASE].used = false;
    if (!shared)
        sm_close(c->sw->w, was);
}

int sm_sys_dup2_any(sm_sys *c, int fd, int fd2)
{
    if (!is_real(c, fd))
        return sm_sys_dup2(c, fd, fd2);
    int r = dup2(fd, fd2);
    if (r >= 0 && fd != fd2)
        forget_model_fd(c, fd2);
    return r;
}

int sm_sys_dup3_any(sm_sys *c, int fd, int fd2, int flags)
{
    if (!is_real(c, fd))
        return sm_sys_dup3(c, fd, fd2, flags);
    /* dup3() is not POSIX: dup2() and the flag (not atomic, as dup3 is) */
    int r = fd == fd2 ? (errno = EINVAL, -1) : dup2(fd, fd2);
    if (r >= 0 && flags != 0) /* O_CLOEXEC, its only flag */
        fcntl(r, F_SETFD, FD_CLOEXEC);
    if (r >= 0)
        forget_model_fd(c, fd2);
    return r;
}

/* ---- sendmsg, recvmsg ------------------------------------------------------ */

static size_t iov_total(const struct msghdr *m)
{
    size_t n = 0;
    for (size_t i = 0; i < (size_t)m->msg_iovlen; i++)
        n += m->msg_iov[i].iov_len;
    return n;
}

/* sendmsg/recvmsg with no msghdr: EBADF for a descriptor not open, else
 * EFAULT. */
static int msg_null(sm_sys *c, int fd, const char *name)
{
    fdent *e;
    GET_FD(c, fd, e, name);
    (void)e;
    return layer_fail(c, SM_EFAULT, &r_sys_msg_null);
}

ssize_t sm_sys_sendmsg(sm_sys *c, int fd, const struct msghdr *msg, int flags)
{
    if (is_real(c, fd))
        return sendmsg(fd, msg, flags);
    if (!msg)
        return msg_null(c, fd, "sendmsg");
    /* The bytes of every iovec, as one send (ancillary data is not
     * modelled); the address as sendto()'s. */
    return sm_sys_sendto(c, fd, NULL, iov_total(msg), flags,
                         (const struct sockaddr *)msg->msg_name, msg->msg_namelen);
}

ssize_t sm_sys_recvmsg(sm_sys *c, int fd, struct msghdr *msg, int flags)
{
    if (is_real(c, fd))
        return recvmsg(fd, msg, flags);
    if (!msg)
        return msg_null(c, fd, "recvmsg");
    socklen_t nl = msg->msg_name ? msg->msg_namelen : 0;
    ssize_t n = sm_sys_recvfrom(c, fd, NULL, iov_total(msg), flags,
                                (struct sockaddr *)msg->msg_name,
                                msg->msg_name ? &nl : NULL);
    if (n < 0)
        return n;
    /* content is not modelled: the bytes read are zeros, iovec by iovec */
    size_t left = (size_t)n;
    for (size_t i = 0; i < (size_t)msg->msg_iovlen && left; i++) {
        size_t k = msg->msg_iov[i].iov_len < left ? msg->msg_iov[i].iov_len : left;
        if (msg->msg_iov[i].iov_base)
            memset(msg->msg_iov[i].iov_base, 0, k);
        left -= k;
    }
    if (msg->msg_name)
        msg->msg_namelen = nl;
    msg->msg_controllen = 0;
    msg->msg_flags = 0;
    return n;
}

/* ---- ioctl --------------------------------------------------------------- */

int sm_sys_ioctl_any(sm_sys *c, int fd, unsigned long req, ...)
{
    va_list ap;
    va_start(ap, req);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    if (is_real(c, fd))
        return ioctl(fd, req, arg);
    fdent *e;
    GET_FD(c, fd, e, "ioctl");
    if (req != (unsigned long)FIONBIO)
        return layer_fail(c, SM_EINVAL, &r_sys_ioctl_cmd);
    if (!arg)
        return layer_fail(c, SM_EFAULT, &r_sys_argp_null);
    return set_nonblock(c, e, *(const int *)arg != 0);
}

/* What poll() reports for a model socket: the engine's readiness
 * (sm_sock_poll), and POLLERR after a failed non-blocking connect. */
static short model_revents(sm_sys *c, fdent *e, short events)
{
    sm_world *w = c->sw->w;
    unsigned p = sm_sock_poll(w, e->sock);
    short rev = (short)(((p & SM_POLL_IN) ? POLLIN : 0) |
                        ((p & SM_POLL_OUT) ? POLLOUT : 0));
    if (e->proto == SM_UDP)
        return (short)(rev & (events | POLLERR | POLLHUP));
    sm_tcp_state st = sm_sock_state(w, e->sock);
    if (st == SM_ESTABLISHED || st == SM_CLOSE_WAIT)
        e->connecting = false; /* connected: SO_ERROR would say 0 */
    if (p & SM_POLL_HUP)
        rev |= POLLHUP;
    if (st == SM_CLOSED && e->connecting)
        rev |= POLLERR;
    return (short)(rev & (events | POLLERR | POLLHUP));
}

/* Ready model sockets in fds (revents set; real ones cleared). */
static int model_poll(sm_sys *c, struct pollfd *fds, nfds_t n)
{
    int ready = 0;
    for (nfds_t i = 0; i < n; i++) {
        fdent *e = c ? fd_get(c, fds[i].fd) : NULL;
        fds[i].revents = 0;
        if (e && (fds[i].revents = model_revents(c, e, fds[i].events)))
            ready++;
        else if (!e && fds[i].fd >= 0 && !is_real(c, fds[i].fd)) {
            fds[i].revents = POLLNVAL; /* not open in this context */
            ready++;
        }
    }
    return ready;
}

/* Ready real descriptors of fds after waiting up to timeout ms (model
 * descriptors are left out of the real poll()). */
static int real_poll(sm_sys *c, struct pollfd *fds, nfds_t n, int timeout)
{
    struct pollfd *r = calloc(n ? n : 1, sizeof *r);
    if (!r)
        return -1;
    for (nfds_t i = 0; i < n; i++) {
        r[i] = fds[i];
        if (!is_real(c, fds[i].fd))
            r[i].fd = -1; /* poll() ignores negative descriptors */
    }
    int got = poll(r, n, timeout);
    if (got > 0)
        for (nfds_t i = 0; i < n; i++)
            if (r[i].fd >= 0)
                fds[i].revents = r[i].revents;
    free(r);
    return got;
}

int sm_sys_poll(sm_sys *c, struct pollfd *fds, nfds_t n, int timeout)
{
    if (n && !fds) {
        errno = EFAULT;
        return -1;
    }
    bool any_real = false;
    for (nfds_t i = 0; i < n; i++)
        if (fds[i].fd >= 0 && is_real(c, fds[i].fd))
            any_real = true;
    if (c) {
        c->call = "poll";
        c->call_fd = -1;
    }
    int ready = model_poll(c, fds, n);
    if (any_real) {
        /* Real descriptors: the real poll(), without waiting if a model
         * socket is ready; while it waits the model's clock stands still
         * (the model cannot wake it). */
        int got = real_poll(c, fds, n, ready ? 0 : timeout);
        if (got < 0)
            return -1;
        ready += got;
        if (c)
            layer_ok(c, &r_sys_poll_real);
        return ready;
    }
    if (!c)
        return ready;
    /* Only model sockets: waiting runs the virtual clock, 1 ms at a time,
     * up to the timeout; with no timeout (-1) up to 2 minutes, after
     * which the wait is reported as one that would never end, as the
     * engine's blocking calls do. */
    uint64_t waited = 0, limit = timeout < 0 ? 120000 : (uint64_t)timeout;
    while (!ready && waited < limit) {
        sm_advance(c->sw->w, 1000000);
        waited++;
        ready = model_poll(c, fds, n);
    }
    if (!ready && timeout < 0)
        return layer_fail(c, SM_EWOULDBLOCK,
                          &r_sys_poll_forever);
    layer_ok(c, ready ? &r_sys_poll_ready : &r_sys_poll_timeout);
    return ready;
}

/* select(): the sets as pollfds for sm_sys_poll() (so model and real
 * descriptors mix as they do there), the answer back into the sets with
 * Linux's mapping (fs/select.c: readable = POLLIN|POLLHUP|POLLERR,
 * writable = POLLOUT|POLLERR, exceptional = POLLPRI); a descriptor that
 * is not open is EBADF. */
int sm_sys_select(sm_sys *c, int nfds, fd_set *rd, fd_set *wr, fd_set *ex,
                  struct timeval *timeout)
{
    if (nfds < 0 || nfds > FD_SETSIZE) {
        errno = EINVAL;
        return -1;
    }
    struct pollfd *p = calloc(nfds ? (size_t)nfds : 1, sizeof *p);
    if (!p) {
        errno = ENOMEM;
        return -1;
    }
    nfds_t n = 0;
    for (int fd = 0; fd < nfds; fd++) {
        short ev = (short)((rd && FD_ISSET(fd, rd) ? POLLIN : 0) |
                           (wr && FD_ISSET(fd, wr) ? POLLOUT : 0) |
                           (ex && FD_ISSET(fd, ex) ? POLLPRI : 0));
        if (ev)
            p[n++] = (struct pollfd){fd, ev, 0};
    }
    int ms = -1;
    if (timeout) {
        long long t = (long long)timeout->tv_sec * 1000 + (timeout->tv_usec + 999) / 1000;
        ms = t > 0x7fffffff ? 0x7fffffff : (int)t;
    }
    int got = sm_sys_poll(c, p, n, ms);
    if (got < 0) {
        free(p);
        return -1;
    }
    for (nfds_t i = 0; i < n; i++)
        if (p[i].revents & POLLNVAL) {
            free(p);
            errno = EBADF;
            return -1;
        }
    if (rd)
        FD_ZERO(rd);
    if (wr)
        FD_ZERO(wr);
    if (ex)
        FD_ZERO(ex);
    int ready = 0;
    for (nfds_t i = 0; i < n; i++) {
        short r = p[i].revents;
        if (rd && (p[i].events & POLLIN) && (r & (POLLIN | POLLHUP | POLLERR))) {
            FD_SET(p[i].fd, rd);
            ready++;
        }
        if (wr && (p[i].events & POLLOUT) && (r & (POLLOUT | POLLERR))) {
            FD_SET(p[i].fd, wr);
            ready++;
        }
        if (ex && (p[i].events & POLLPRI) && (r & POLLPRI)) {
            FD_SET(p[i].fd, ex);
            ready++;
        }
    }
    free(p);
    return ready;
}

/* Every rule record of this file (docs/rules.md). */
static const sm_rule *const rules_of_file[] = {
    &r_sys_no_call,
    &r_sys_exited,
    &r_sys_socket_exited,
    &r_sys_socket_family,
    &r_sys_socket_protocol,
    &r_sys_socket_type,
    &r_sys_no_descriptor,
    &r_sys_optval_null,
    &r_sys_linger_size,
    &r_sys_optlen_int,
    &r_sys_option_ignored,
    &r_sys_optval_optlen_null,
    &r_sys_optlen_short,
    &r_sys_option_value,
    &r_sys_addr_null,
    &r_sys_addr_family,
    &r_sys_addr_short,
    &r_sys_shutdown_how,
    &r_sys_addrlen_null,
    &r_sys_sockname,
    &r_sys_peername_not_connected,
    &r_sys_peername,
    &r_sys_getfl,
    &r_sys_getfd,
    &r_sys_setfd,
    &r_sys_fcntl_cmd,
    &r_sys_ioctl_cmd,
    &r_sys_argp_null,
    &r_sys_accept4_flags,
    &r_sys_sendto_addr,
    &r_sys_poll_real,
    &r_sys_poll_forever,
    &r_sys_poll_ready,
    &r_sys_poll_timeout,
    &r_sys_close_shared,
    &r_sys_dup,
    &r_sys_dup_placeholder,
    &r_sys_dup_negative,
    &r_sys_dup3_same,
    &r_sys_dup_stdio,
    &r_sys_dup2_same,
    &r_sys_msg_null,
    &bad_fd,
    &unknown_opt,
};
const sm_rule_set sm__rules_sm_sockapi = {"sockapi/sm_sockapi.c", rules_of_file,
    sizeof rules_of_file / sizeof rules_of_file[0]};
