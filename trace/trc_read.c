/*
 * trc_read.c - the strace log reader of `sockmodel trace`.
 *
 * Each line is "[PID] [TIME] NAME(ARGS) = RESULT", "PID +++ exited with N
 * +++", "PID --- SIG... ---", or half of an interrupted call ("NAME(ARGS
 * <unfinished ...>" then "<... NAME resumed>REST").  The reader keeps, per
 * thread, the unfinished head; per process, which descriptors are INET
 * sockets (and close-on-exec), and which thread belongs to which process
 * (clone with CLONE_THREAD); and turns the socket calls into obs events.
 * What it cannot read is an error "LOG:LINE: error: WHAT"; lines of other
 * kinds (signals, other system calls) are skipped.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "trc.h"

#define MAXARGS 8
#define TRC_NFD 4096
/* Caps on what a hostile log can make the reader hold: each process costs
 * about 40 KiB (its descriptor tables), each thread a few bytes. */
#define TRC_MAX_PROCS 16384
#define TRC_MAX_THREADS 65536
#define TRC_MAX_BYTES ((size_t)256 << 20)

typedef struct tproc {
    uint32_t pid;     /* a process (tgid) */
    uint8_t kind[TRC_NFD]; /* 0 none, 4/6 INET socket */
    bool cloexec[TRC_NFD];
    /* +1: the event of a connect (or a datagram's sendto) still without
     * its local address, and of
     * a bind to port 0 still without the port this machine picked (the
     * annotations of later calls on the descriptor, or getsockname, say) */
    uint32_t connect_ev[TRC_NFD], bind_ev[TRC_NFD];
} tproc;

typedef struct tthread {
    uint32_t tid, tgid;
    char *head;         /* an unfinished call's text */
    uint64_t head_t;
} tthread;

/* pid or tid -> index in procs or thr: open addressing, linear probing,
 * at most half full, never shrinks (nothing is forgotten while a log is
 * read).  Insertion-only; output never follows its order. */
typedef struct id_slot {
    uint32_t id;
    uint32_t at1; /* index + 1; 0: empty */
} id_slot;

typedef struct id_index {
    id_slot *slot;
    size_t cap; /* power of two, or 0 */
    size_t count;
} id_index;

static size_t id_home(uint32_t id, size_t cap)
{
    return (size_t)((id * 0x9e3779b1u) >> 7) & (cap - 1);
}

/* The index of id, or SIZE_MAX. */
static size_t id_find(const id_index *x, uint32_t id)
{
    if (x->cap == 0)
        return SIZE_MAX;
    for (size_t i = id_home(id, x->cap);; i = (i + 1) & (x->cap - 1)) {
        if (x->slot[i].at1 == 0)
            return SIZE_MAX;
        if (x->slot[i].id == id)
            return x->slot[i].at1 - 1;
    }
}

static void id_put(id_slot *t, size_t cap, uint32_t id, uint32_t at1)
{
    size_t i = id_home(id, cap);
    while (t[i].at1 != 0)
        i = (i + 1) & (cap - 1);
    t[i].id = id;
    t[i].at1 = at1;
}

/* Adds id (not yet present) at index at; false: out of memory. */
static bool id_add(id_index *x, uint32_t id, size_t at)
{
    if ((x->count + 1) * 2 > x->cap) {
        size_t cap = x->cap ? 2 * x->cap : 64;
        id_slot *t = calloc(cap, sizeof *t);
        if (!t)
            return false;
        for (size_t i = 0; i < x->cap; i++)
            if (x->slot[i].at1)
                id_put(t, cap, x->slot[i].id, x->slot[i].at1);
        free(x->slot);
        x->slot = t;
        x->cap = cap;
    }
    id_put(x->slot, x->cap, id, (uint32_t)at + 1);
    x->count++;
    return true;
}

typedef struct reader {
    const char *name;
    FILE *errs;
    size_t nerr;
    obs_log *log;
    tproc **procs;
    size_t nprocs, proccap;
    id_index proc_at; /* pid -> index in procs */
    tthread *thr;
    size_t nthr, thrcap;
    id_index thr_at; /* tid -> index in thr */
    uint32_t line;
    bool oom;
    bool capped; /* a cap was reached (an error said so): reading stops */
} reader;

static void err(reader *r, const char *what)
{
    fprintf(r->errs, "%s:%u: error: %s\n", r->name, r->line, what);
    r->nerr++;
}

/* A cap was reached: one error, and reading stops. */
static void cap_reached(reader *r, int max, const char *what)
{
    if (r->capped)
        return;
    fprintf(r->errs, "%s:%u: error: more than %d %s in one log\n", r->name, r->line, max, what);
    r->nerr++;
    r->capped = true;
}

/* Doubles an array of records of size sz for one more (cap: records room
 * for).  false: out of memory, the array as it was. */
static bool grow(void **a, size_t *cap, size_t n, size_t sz)
{
    if (n < *cap)
        return true;
    size_t c = *cap ? 2 * *cap : 16;
    void *p = realloc(*a, c * sz);
    if (!p)
        return false;
    *a = p;
    *cap = c;
    return true;
}

static tproc *proc_get(reader *r, uint32_t pid, bool create)
{
    size_t at = id_find(&r->proc_at, pid);
    if (at != SIZE_MAX)
        return r->procs[at];
    if (!create)
        return NULL;
    if (r->nprocs == TRC_MAX_PROCS) {
        cap_reached(r, TRC_MAX_PROCS, "processes");
        return NULL;
    }
    void *a = r->procs;
    bool room = grow(&a, &r->proccap, r->nprocs, sizeof *r->procs);
    r->procs = a;
    tproc *p = room ? calloc(1, sizeof *p) : NULL;
    if (!p || !id_add(&r->proc_at, pid, r->nprocs)) {
        free(p);
        r->oom = true;
        return NULL;
    }
    p->pid = pid;
    r->procs[r->nprocs++] = p;
    return p;
}

static tthread *thr_get(reader *r, uint32_t tid)
{
    size_t at = id_find(&r->thr_at, tid);
    if (at != SIZE_MAX)
        return &r->thr[at];
    if (r->nthr == TRC_MAX_THREADS) {
        cap_reached(r, TRC_MAX_THREADS, "threads");
        return NULL;
    }
    void *a = r->thr;
    bool room = grow(&a, &r->thrcap, r->nthr, sizeof *r->thr);
    r->thr = a;
    if (!room || !id_add(&r->thr_at, tid, r->nthr)) {
        r->oom = true;
        return NULL;
    }
    tthread *t = &r->thr[r->nthr++];
    memset(t, 0, sizeof *t);
    t->tid = t->tgid = tid;
    return t;
}

/* ---- argument scanning --------------------------------------------------- */

/* Splits "a, {b, c}, "d,e"" at top-level commas; returns the count. */
static int split_args(char *s, char **out, int max)
{
    int n = 0, depth = 0;
    bool q = false;
    char *start = s;
    for (char *p = s;; p++) {
        if (q) {
            if (*p == '\\' && p[1])
                p++;
            else if (*p == '"')
                q = false;
            else if (!*p)
                break;
            continue;
        }
        if (*p == '"')
            q = true;
        else if (*p == '(' || *p == '[' || *p == '{' || *p == '<')
            depth++;
        else if ((*p == ')' || *p == ']' || *p == '}' || *p == '>') && depth)
            depth--;
        if ((*p == ',' && depth == 0) || !*p) {
            bool end = !*p;
            *p = 0;
            while (*start == ' ')
                start++;
            if (n < max)
                out[n++] = start;
            start = p + 1;
            if (end)
                break;
        }
    }
    return n;
}

/* The end of the call's argument list: the ')' matching the '(' at s. */
static char *close_paren(char *s)
{
    int depth = 0;
    bool q = false;
    for (char *p = s; *p; p++) {
        if (q) {
            if (*p == '\\' && p[1])
                p++;
            else if (*p == '"')
                q = false;
            continue;
        }
        if (*p == '"')
            q = true;
        else if (*p == '(' || *p == '[' || *p == '{')
            depth++;
        else if (*p == ')' || *p == ']' || *p == '}') {
            if (--depth == 0)
                return p;
        }
    }
    return NULL;
}

static bool parse_long(const char *s, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 0);
    if (end == s || errno)
        return false;
    *out = v;
    return true;
}

/* "127.0.0.1:8765" or "[::1]:8765" at s (-yy annotations). */
static bool parse_hostport(const char *s, size_t len, obs_wire_addr *a)
{
    sm_endpoint ep;
    const char *why;
    if (!sm_endpoint_parse(s, len, &ep, &why))
        return false;
    memset(a, 0, sizeof *a);
    a->family = ep.addr.family;
    memcpy(a->b, ep.addr.b, 16);
    a->port = ep.port;
    return true;
}

/* A descriptor argument "3" or "3<TCP:[A:P->B:Q]>": its number, and the
 * local (and remote) address when the annotation gives them. */
static bool parse_fd(const char *s, int *fd, obs_wire_addr *local,
                     obs_wire_addr *remote)
{
    long long v;
    if (!parse_long(s, &v))
        return false;
    *fd = (int)v;
    const char *t = strstr(s, "TCP");
    if (!t)
        t = strstr(s, "UDP");
    const char *br = t ? strchr(t, '[') : NULL;
    if (!br)
        return true;
    const char *end = strchr(br, ']');
    /* IPv6 annotations bracket the address: [[::1]:80->[::1]:5]. */
    if (br[1] == '[')
        end = strstr(br, "]]") ? strstr(br, "]]") + 1 : end;
    if (!end)
        return true;
    const char *arrow = strstr(br, "->");
    const char *a0 = br + 1;
    if (arrow && arrow < end) {
        if (local)
            parse_hostport(a0, (size_t)(arrow - a0), local);
        if (remote)
            parse_hostport(arrow + 2, (size_t)(end - arrow - 2), remote);
    } else if (local && strchr(a0, ':') && (size_t)(end - a0) > 0) {
        parse_hostport(a0, (size_t)(end - a0), local);
    }
    return true;
}

/* {sa_family=AF_INET, sin_port=htons(8765), sin_addr=inet_addr("127.0.0.1")}
 * or the AF_INET6 form; false for other families. */
static bool parse_sockaddr(const char *s, obs_wire_addr *a)
{
    memset(a, 0, sizeof *a);
    const char *port = NULL, *addr = NULL;
    int fam = 0;
    if (strstr(s, "sa_family=AF_INET6")) {
        fam = 6;
        port = strstr(s, "sin6_port=htons(");
        addr = strstr(s, "inet_pton(AF_INET6, \"");
        if (addr)
            addr += strlen("inet_pton(AF_INET6, \"");
        if (port)
            port += strlen("sin6_port=htons(");
    } else if (strstr(s, "sa_family=AF_INET")) {
        fam = 4;
        port = strstr(s, "sin_port=htons(");
        addr = strstr(s, "sin_addr=inet_addr(\"");
        if (addr)
            addr += strlen("sin_addr=inet_addr(\"");
        if (port)
            port += strlen("sin_port=htons(");
    } else {
        return false;
    }
    if (!port || !addr)
        return false;
    const char *q = strchr(addr, '"');
    sm_addr sa;
    if (!q || !sm_addr_parse(addr, (size_t)(q - addr), &sa))
        return false;
    a->family = (uint8_t)fam;
    memcpy(a->b, sa.b, 16);
    a->port = (uint16_t)strtoul(port, NULL, 10);
    return true;
}

/* ---- names ------------------------------------------------------------------ */

typedef struct named {
    const char *name;
    long v;
} named;

static bool lookup(const named *t, const char *s, long *out)
{
    for (; t->name; t++)
        if (strcmp(t->name, s) == 0) {
            *out = t->v;
            return true;
        }
    long long v;
    if (!parse_long(s, &v))
        return false;
    *out = (long)v;
    return true;
}

static const named levels[] = {{"SOL_SOCKET", SOL_SOCKET}, {"SOL_IP", IPPROTO_IP},
                               {"SOL_IPV6", IPPROTO_IPV6}, {"SOL_TCP", IPPROTO_TCP},
                               {"IPPROTO_IPV6", IPPROTO_IPV6}, {NULL, 0}};
static const named sockopts[] = {{"SO_REUSEADDR", SO_REUSEADDR}, {"SO_REUSEPORT", SO_REUSEPORT},
                                 {"SO_LINGER", SO_LINGER}, {"SO_ERROR", SO_ERROR},
                                 {"SO_KEEPALIVE", SO_KEEPALIVE}, {"SO_SNDBUF", SO_SNDBUF},
                                 {"SO_RCVBUF", SO_RCVBUF}, {"IPV6_V6ONLY", IPV6_V6ONLY},
                                 {"TCP_NODELAY", 1},
                                 {"IP_BIND_ADDRESS_NO_PORT", OBS_IP_BIND_ADDRESS_NO_PORT},
                                 {"IP_LOCAL_PORT_RANGE", OBS_IP_LOCAL_PORT_RANGE},
                                 {NULL, 0}};

/* "SOCK_STREAM|SOCK_CLOEXEC|SOCK_NONBLOCK" */
static long sock_type(const char *s)
{
    long t = strstr(s, "SOCK_DGRAM") ? SOCK_DGRAM : strstr(s, "SOCK_STREAM") ? SOCK_STREAM : -1;
    if (t < 0)
        return -1;
    if (strstr(s, "SOCK_CLOEXEC"))
        t |= SOCK_CLOEXEC;
    if (strstr(s, "SOCK_NONBLOCK"))
        t |= SOCK_NONBLOCK;
    return t;
}

static int errno_of(const char *name)
{
    static const named errs[] = {
        {"EADDRINUSE", EADDRINUSE}, {"EADDRNOTAVAIL", EADDRNOTAVAIL},
        {"EACCES", EACCES}, {"EINVAL", EINVAL}, {"EISCONN", EISCONN},
        {"ENOTCONN", ENOTCONN}, {"ENOPROTOOPT", ENOPROTOOPT},
        {"EOPNOTSUPP", EOPNOTSUPP}, {"ECONNREFUSED", ECONNREFUSED},
        {"ECONNRESET", ECONNRESET}, {"ECONNABORTED", ECONNABORTED},
        {"EINPROGRESS", EINPROGRESS}, {"EALREADY", EALREADY},
        {"EAGAIN", EAGAIN}, {"EWOULDBLOCK", EWOULDBLOCK}, {"ENOBUFS", ENOBUFS},
        {"EAFNOSUPPORT", EAFNOSUPPORT}, {"ETIMEDOUT", ETIMEDOUT},
        {"EPIPE", EPIPE}, {"EBADF", EBADF}, {"EPERM", EPERM},
        {"ENETUNREACH", ENETUNREACH}, {"EFAULT", EFAULT}, {"EPROTO", EPROTO},
        {"EINTR", EINTR}, {"ERESTARTSYS", EINTR}, {"ENOTSOCK", ENOTSOCK},
        {"ENOENT", ENOENT}, {NULL, 0}};
    for (const named *t = errs; t->name; t++)
        if (strcmp(t->name, name) == 0)
            return (int)t->v;
    return EPROTO;
}

/* ---- one call ------------------------------------------------------------------ */

static void emit(reader *r, obs_wire *w)
{
    w->magic = OBS_WIRE_MAGIC;
    if (!obs_log_add(r->log, w, r->line))
        r->oom = true;
}

static bool is_sock(tproc *p, int fd)
{
    return p && fd >= 0 && fd < TRC_NFD && p->kind[fd];
}

static void set_fd(tproc *p, int fd, uint8_t kind, bool cloexec)
{
    if (p && fd >= 0 && fd < TRC_NFD) {
        p->kind[fd] = kind;
        p->cloexec[fd] = cloexec;
        p->connect_ev[fd] = 0;
        p->bind_ev[fd] = 0;
    }
}

/* A -yy annotation (or getsockname) names a socket's local address: give
 * it to the connect that made it, and its port to the bind to port 0 that
 * got it (OBS_BIND's addr_b). */
static void learn_local(reader *r, tproc *p, int fd, const obs_wire_addr *local)
{
    if (!p || fd < 0 || fd >= TRC_NFD || !local->family)
        return;
    if (p->connect_ev[fd]) {
        r->log->ev[p->connect_ev[fd] - 1].w.addr_a = *local;
        p->connect_ev[fd] = 0;
    }
    if (p->bind_ev[fd] && local->port) {
        r->log->ev[p->bind_ev[fd] - 1].w.addr_b = *local;
        p->bind_ev[fd] = 0;
    }
}

static void call(reader *r, uint32_t tid, uint64_t t, uint64_t t_head,
                 const char *name, char *args, const char *ret)
{
    tthread *th = thr_get(r, tid);
    if (!th)
        return;
    uint32_t pid = th->tgid;
    tproc *p = proc_get(r, pid, true);
    if (!p)
        return;
    obs_wire w;
    memset(&w, 0, sizeof w);
    w.pid = pid;
    w.tid = tid;
    w.t_ns = t;
    w.fd = -1;
    /* Calls that act on others are placed when they started, calls that
     * observe when they returned (as the preload shim stamps them). */
    static const char *const acts[] = {"setsockopt", "bind", "listen", "shutdown",
                                       "close", "write", "send", "sendto",
                                       "sendmsg", NULL};
    for (int i = 0; acts[i]; i++)
        if (!strcmp(name, acts[i]))
            w.t_ns = t_head;
    /* the result */
    long long rv = 0;
    while (*ret == ' ')
        ret++;
    if (*ret == '?')
        rv = 0;
    else if (!parse_long(ret, &rv)) {
        err(r, "cannot read the result of the call");
        return;
    }
    w.ret = rv;
    if (rv < 0) {
        const char *e = strchr(ret, ' ');
        char en[32] = "";
        if (e) {
            size_t k = 0;
            for (e++; *e && *e != ' ' && k + 1 < sizeof en; e++)
                en[k++] = *e;
            en[k] = 0;
        }
        w.err = errno_of(en);
    }
    char *a[MAXARGS] = {0};
    int na = split_args(args, a, MAXARGS);
    obs_wire_addr local = {0}, remote = {0};
    if (na >= 1 && strcmp(name, "socket") && strcmp(name, "clone") &&
        strcmp(name, "clone3") && strcmp(name, "execve") && strcmp(name, "exit_group")) {
        if (!parse_fd(a[0], &w.fd, &local, &remote))
            w.fd = -1;
        learn_local(r, p, w.fd, &local);
    }
    /* a result annotated "4<TCP:[L->R]>" */
    obs_wire_addr rlocal = {0}, rremote = {0};
    int rfd;
    parse_fd(ret, &rfd, &rlocal, &rremote);

    if (!strcmp(name, "socket")) {
        if (na < 3) {
            err(r, "socket() needs 3 arguments");
            return;
        }
        long dom = strstr(a[0], "AF_INET6") ? AF_INET6 : strstr(a[0], "AF_INET") ? AF_INET : -1;
        long type = sock_type(a[1]);
        if (dom < 0 || type < 0)
            return; /* not an INET stream or datagram socket */
        w.call = OBS_SOCKET;
        w.a1 = dom;
        w.a2 = type;
        if (rv >= 0)
            set_fd(p, (int)rv, dom == AF_INET6 ? 6 : 4, (type & SOCK_CLOEXEC) != 0);
        emit(r, &w);
    } else if (!strcmp(name, "clone") || !strcmp(name, "clone3") ||
               !strcmp(name, "fork") || !strcmp(name, "vfork")) {
        if (rv <= 0)
            return;
        tthread *c = thr_get(r, (uint32_t)rv);
        th = thr_get(r, tid); /* thr_get may move the table */
        if (!c || !th)
            return;
        if (strstr(args, "CLONE_THREAD")) {
            c->tgid = th->tgid;
            return;
        }
        c->tgid = (uint32_t)rv;
        tproc *cp = proc_get(r, (uint32_t)rv, true);
        p = proc_get(r, pid, false);
        if (!cp || !p)
            return;
        memcpy(cp->kind, p->kind, sizeof cp->kind);
        memcpy(cp->cloexec, p->cloexec, sizeof cp->cloexec);
        w.call = OBS_FORK;
        w.pid = w.tid = (uint32_t)rv;
        w.a1 = pid;
        w.t_ns = t_head;
        w.ret = 0;
        emit(r, &w);
    } else if (!strcmp(name, "execve")) {
        if (rv < 0)
            return;
        for (int fd = 0; fd < TRC_NFD; fd++)
            if (p->cloexec[fd])
                set_fd(p, fd, 0, false);
        w.call = OBS_START;
        w.a1 = 0;
        /* the image's file name (argv strings may be cut by strace) */
        const char *q = na >= 1 ? strchr(a[0], '"') : NULL;
        if (q) {
            q++;
            const char *e = strchr(q, '"');
            size_t len = e ? (size_t)(e - q) : strlen(q);
            const char *slash = memrchr(q, '/', len);
            if (slash) {
                len -= (size_t)(slash + 1 - q);
                q = slash + 1;
            }
            if (len >= sizeof w.name)
                len = sizeof w.name - 1;
            memcpy(w.name, q, len);
        }
        emit(r, &w);
    } else if (!strcmp(name, "exit_group")) {
        return; /* the "+++ exited" line follows */
    } else if (!is_sock(p, w.fd)) {
        return;
    } else if (!strcmp(name, "setsockopt") || !strcmp(name, "getsockopt")) {
        long lv, on;
        if (na < 4 || !lookup(levels, a[1], &lv) || !lookup(sockopts, a[2], &on))
            return;
        w.call = name[0] == 's' ? OBS_SETSOCKOPT : OBS_GETSOCKOPT;
        w.a1 = lv;
        w.a2 = on;
        const char *v = a[3];
        if (strstr(v, "l_onoff=")) {
            w.a3 = strtol(strstr(v, "l_onoff=") + 8, NULL, 10);
            const char *l = strstr(v, "l_linger=");
            w.a4 = l ? strtol(l + 9, NULL, 10) : 0;
        } else {
            while (*v == '[' || *v == ' ')
                v++;
            if (isalpha((unsigned char)*v)) { /* [ECONNREFUSED] */
                char en[32];
                size_t k = 0;
                for (; isalnum((unsigned char)v[k]) && k + 1 < sizeof en; k++)
                    en[k] = v[k];
                en[k] = 0;
                w.a3 = errno_of(en);
            } else {
                w.a3 = strtol(v, NULL, 0);
            }
        }
        emit(r, &w);
    } else if (!strcmp(name, "bind") || !strcmp(name, "connect")) {
        obs_wire_addr sa;
        if (na < 2)
            return;
        if (!parse_sockaddr(a[1], &sa)) {
            if (strstr(a[1], "AF_INET"))
                err(r, "cannot read the socket address");
            return;
        }
        if (name[0] == 'b') {
            w.call = OBS_BIND;
            w.addr_a = sa;
        } else {
            w.call = OBS_CONNECT;
            w.addr_b = sa;
            /* a port the bind picked showed in this line's annotation;
             * one seen from now on may be connect's (the bind had set
             * IP_BIND_ADDRESS_NO_PORT) */
            if (w.fd < TRC_NFD)
                p->bind_ev[w.fd] = 0;
        }
        emit(r, &w);
        if (w.call == OBS_CONNECT && (rv == 0 || w.err == EINPROGRESS) &&
            w.fd < TRC_NFD)
            p->connect_ev[w.fd] = (uint32_t)r->log->n;
        if (w.call == OBS_BIND && rv == 0 && !sa.port && w.fd < TRC_NFD)
            p->bind_ev[w.fd] = (uint32_t)r->log->n;
    } else if (!strcmp(name, "getsockname")) {
        /* without -yy, the address it read is the socket's local one */
        obs_wire_addr sa;
        if (rv == 0 && na >= 2 && parse_sockaddr(a[1], &sa))
            learn_local(r, p, w.fd, &sa);
    } else if (!strcmp(name, "listen")) {
        long long b = 0;
        if (na >= 2)
            parse_long(a[1], &b);
        w.call = OBS_LISTEN;
        w.a1 = b;
        emit(r, &w);
    } else if (!strcmp(name, "accept") || !strcmp(name, "accept4")) {
        if (rv < 0 && (w.err == EAGAIN || w.err == EINTR))
            return;
        w.call = OBS_ACCEPT;
        w.variant = name[6] == '4' ? OBSV_ACCEPT4 : OBSV_DEFAULT;
        if (na >= 2)
            parse_sockaddr(a[1], &w.addr_b);
        if (!w.addr_b.family)
            w.addr_b = rremote;
        w.addr_a = rlocal;
        if (na >= 4 && strstr(a[3], "SOCK_CLOEXEC"))
            w.a1 |= SOCK_CLOEXEC;
        if (rv >= 0)
            set_fd(p, (int)rv, p->kind[w.fd], (w.a1 & SOCK_CLOEXEC) != 0);
        emit(r, &w);
    } else if (!strcmp(name, "close")) {
        w.call = OBS_CLOSE;
        set_fd(p, w.fd, 0, false);
        emit(r, &w);
    } else if (!strcmp(name, "shutdown")) {
        w.call = OBS_SHUTDOWN;
        w.a1 = na >= 2 && strstr(a[1], "SHUT_RDWR") ? SHUT_RDWR
               : na >= 2 && strstr(a[1], "SHUT_WR") ? SHUT_WR
                                                    : SHUT_RD;
        emit(r, &w);
    } else if (!strcmp(name, "read") || !strcmp(name, "write") ||
               !strcmp(name, "recvfrom") || !strcmp(name, "sendto") ||
               !strcmp(name, "recv") || !strcmp(name, "send") ||
               !strcmp(name, "recvmsg") || !strcmp(name, "sendmsg")) {
        if (rv < 0 && (w.err == EAGAIN || w.err == EINTR))
            return;
        bool rd = name[0] == 'r';
        w.call = rd ? OBS_RECV : OBS_SEND;
        if (!rd && w.fd < TRC_NFD)
            p->bind_ev[w.fd] = 0; /* as at connect: a port from now on may be sendto's */
        w.variant = !strcmp(name, "read")      ? OBSV_READ
                    : !strcmp(name, "write")   ? OBSV_WRITE
                    : !strcmp(name, "recvmsg") ? OBSV_RECVMSG
                    : !strcmp(name, "sendmsg") ? OBSV_SENDMSG
                                               : OBSV_DEFAULT;
        long long asked = rv > 0 ? rv : 0;
        if (na >= 3 && (w.variant == OBSV_DEFAULT || w.variant == OBSV_READ ||
                        w.variant == OBSV_WRITE))
            parse_long(a[2], &asked);
        w.a1 = asked;
        /* sendto's destination, recvfrom's source (sendmsg/recvmsg: msg_name) */
        const char *sa = w.variant == OBSV_DEFAULT && na >= 5 ? a[4]
                         : (w.variant == OBSV_SENDMSG || w.variant == OBSV_RECVMSG) && na >= 2
                             ? a[1] : NULL;
        if (sa && (!rd || rv >= 0))
            parse_sockaddr(sa, &w.addr_b);
        emit(r, &w);
        /* a datagram sent from an unbound socket: the port it got shows in
         * the descriptor's next annotation (as a connect's local address) */
        if (!rd && rv >= 0 && w.addr_b.family && !local.port && w.fd < TRC_NFD)
            p->connect_ev[w.fd] = (uint32_t)r->log->n;
    } else if (!strcmp(name, "fcntl") || !strcmp(name, "fcntl64")) {
        if (na < 2 || rv < 0)
            return;
        if (strstr(a[1], "F_SETFL")) {
            w.call = OBS_NONBLOCK;
            w.variant = OBSV_FCNTL;
            w.a1 = na >= 3 && strstr(a[2], "O_NONBLOCK") != NULL;
            emit(r, &w);
        } else if (strstr(a[1], "F_SETFD")) {
            w.call = OBS_CLOEXEC;
            w.variant = OBSV_FCNTL;
            w.a1 = na >= 3 && strstr(a[2], "FD_CLOEXEC") != NULL;
            if (w.fd < TRC_NFD)
                p->cloexec[w.fd] = w.a1 != 0;
            emit(r, &w);
        } else if (strstr(a[1], "F_DUPFD")) {
            w.call = OBS_DUP;
            w.variant = OBSV_FDUPFD;
            w.a1 = strstr(a[1], "CLOEXEC") != NULL;
            set_fd(p, (int)rv, p->kind[w.fd], w.a1 != 0);
            emit(r, &w);
        }
    } else if (!strcmp(name, "ioctl")) {
        if (na >= 3 && strstr(a[1], "FIONBIO") && rv == 0) {
            w.call = OBS_NONBLOCK;
            w.variant = OBSV_IOCTL;
            w.a1 = strstr(a[2], "[0]") == NULL;
            emit(r, &w);
        }
    } else if (!strcmp(name, "dup") || !strcmp(name, "dup2") || !strcmp(name, "dup3")) {
        if (rv < 0)
            return;
        w.call = OBS_DUP;
        w.variant = name[3] == '2' ? OBSV_DUP2 : name[3] == '3' ? OBSV_DUP3 : OBSV_DEFAULT;
        w.a1 = na >= 3 && strstr(a[2], "O_CLOEXEC") != NULL;
        set_fd(p, (int)rv, p->kind[w.fd], w.a1 != 0);
        emit(r, &w);
    }
}

/* ---- lines -------------------------------------------------------------------- */

/* "21:04:47.729446", "1733518287.729446" or nothing.  A time out of
 * range (a negative or infinite second, "00:00:1e999", an epoch beyond
 * 2262) is not a time: the line then reads as no system call line. */
static bool parse_time(char **s, uint64_t *t)
{
    char *p = *s;
    int hh, mm;
    double ss;
    int n = 0;
    if (sscanf(p, "%2d:%2d:%lf%n", &hh, &mm, &ss, &n) == 3 && n >= 8) {
        if (hh < 0 || mm < 0 || mm > 59 || !(ss >= 0 && ss < 61))
            return false;
        *t = (uint64_t)((hh * 3600 + mm * 60) * 1e9) + (uint64_t)(ss * 1e9 + 0.5);
        *s = p + n;
        return true;
    }
    char *end;
    if (isdigit((unsigned char)*p)) {
        double v = strtod(p, &end);
        if (end > p && *end == ' ' && strchr(p, '.') && strchr(p, '.') < end) {
            /* whole seconds and microseconds apart: doubles lose them */
            long long sec = strtoll(p, NULL, 10);
            if (sec < 0 || sec > 9000000000LL)
                return false;
            const char *dot = strchr(p, '.') + 1;
            long long frac = 0;
            int digits = 0;
            for (; isdigit((unsigned char)*dot) && digits < 9; dot++, digits++)
                frac = frac * 10 + (*dot - '0');
            for (; digits < 9; digits++)
                frac *= 10;
            (void)v;
            *t = (uint64_t)sec * 1000000000u + (uint64_t)frac;
            *s = end;
            return true;
        }
    }
    return false;
}

static void one_line(reader *r, char *s)
{
    while (*s == ' ')
        s++;
    if (!*s)
        return;
    uint32_t tid = 0;
    if (!strncmp(s, "[pid", 4)) {
        tid = (uint32_t)strtoul(s + 4, &s, 10);
        if (*s == ']')
            s++;
    } else if (isdigit((unsigned char)*s)) {
        /* a pid (-f -o) unless it is the time itself */
        char *e;
        unsigned long v = strtoul(s, &e, 10);
        if (*e == ' ') {
            tid = (uint32_t)v;
            s = e;
        }
    }
    while (*s == ' ')
        s++;
    uint64_t t = (uint64_t)r->line * 1000u;
    if (parse_time(&s, &t))
        while (*s == ' ')
            s++;
    if (!tid)
        tid = 1; /* no -f: one process */
    if (!strncmp(s, "+++ ", 4)) {
        if (strstr(s, "exited with") || strstr(s, "killed by")) {
            tthread *th = thr_get(r, tid);
            if (!th || th->tgid != tid)
                return; /* a thread ends: not the process */
            obs_wire w;
            memset(&w, 0, sizeof w);
            w.call = OBS_EXIT;
            w.pid = w.tid = tid;
            w.t_ns = t;
            w.fd = -1;
            if (strstr(s, "killed by")) {
                w.a1 = -1;
            } else {
                /* "exited with N": the line may end right after "with" */
                const char *v = strstr(s, "with") + 4;
                while (*v == ' ')
                    v++;
                w.a1 = strtol(v, NULL, 10);
            }
            emit(r, &w);
        }
        return;
    }
    if (!strncmp(s, "--- ", 4) || !strncmp(s, "strace: ", 8))
        return;
    tthread *th = thr_get(r, tid);
    if (!th)
        return;
    char *full = NULL;
    uint64_t t_head = t;
    if (!strncmp(s, "<... ", 5)) {
        char *rest = strstr(s, " resumed>");
        if (!rest) {
            err(r, "a '<...' line without 'resumed>'");
            return;
        }
        if (!th->head) {
            err(r, "a call resumed that was never started (no '<unfinished ...>' line for this pid)");
            return;
        }
        rest += strlen(" resumed>");
        size_t a = strlen(th->head), b = strlen(rest);
        full = malloc(a + b + 1);
        if (!full) {
            r->oom = true;
            return;
        }
        memcpy(full, th->head, a);
        memcpy(full + a, rest, b + 1);
        t_head = th->head_t;
        free(th->head);
        th->head = NULL;
        s = full;
    } else {
        char *u = strstr(s, " <unfinished ...>");
        if (u) {
            *u = 0;
            free(th->head);
            th->head = strdup(s);
            th->head_t = t;
            if (!th->head)
                r->oom = true;
            return;
        }
    }
    /* NAME(ARGS) = RESULT */
    char *open = s;
    while (isalnum((unsigned char)*open) || *open == '_')
        open++;
    if (open == s || *open != '(') {
        err(r, "not a system call line (expected 'NAME(ARGS) = RESULT')");
        free(full);
        return;
    }
    char *close = close_paren(open);
    if (!close) {
        free(full); /* the log was cut in the middle of this line */
        return;
    }
    char *eq = strstr(close, " = ");
    if (!eq) {
        free(full);
        return; /* cut, or a call that never returned */
    }
    *open = 0;
    *close = 0;
    call(r, tid, t, t_head, s, open + 1, eq + 3);
    free(full);
}

size_t trc_read_buffer(const char *name, const char *text, size_t len,
                       obs_log *log, FILE *errs)
{
    reader r;
    memset(&r, 0, sizeof r);
    r.name = name;
    r.errs = errs;
    r.log = log;
    size_t start = 0;
    char *line = NULL;
    size_t cap = 0;
    while (start < len && !r.oom && !r.capped) {
        size_t end = start;
        while (end < len && text[end] != '\n')
            end++;
        size_t n = end - start;
        r.line++;
        if (n + 1 > cap) {
            char *nl = realloc(line, n + 1);
            if (!nl) {
                r.oom = true;
                break;
            }
            line = nl;
            cap = n + 1;
        }
        memcpy(line, text + start, n);
        line[n] = 0;
        if (n && line[n - 1] == '\r')
            line[n - 1] = 0;
        if (memchr(line, 0, n) != NULL && strlen(line) != n) {
            err(&r, "a NUL byte in the log (not a text strace log)");
        } else {
            one_line(&r, line);
        }
        if (r.nerr >= 20) {
            fprintf(errs, "%s: too many errors, stopping\n", name);
            break;
        }
        start = end + 1;
    }
    free(line);
    if (r.oom) {
        /* the line being read when memory ran out */
        fprintf(errs, "%s:%u: error: out of memory\n", name, r.line ? r.line : 1);
        r.nerr++;
    }
    if (!r.nerr && log->n == 0) {
        fprintf(errs, "%s:1: error: no socket calls in the log (was it written by strace -f?)\n",
                name);
        r.nerr++;
    }
    for (size_t i = 0; i < r.nprocs; i++)
        free(r.procs[i]);
    free(r.procs);
    free(r.proc_at.slot);
    for (size_t i = 0; i < r.nthr; i++)
        free(r.thr[i].head);
    free(r.thr);
    free(r.thr_at.slot);
    return r.nerr;
}

size_t trc_read_path(const char *path, obs_log *log, FILE *errs)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(errs, "%s: error: %s\n", path, strerror(errno));
        return 1;
    }
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len > TRC_MAX_BYTES) {
            free(buf);
            fclose(f);
            fprintf(errs, "%s: error: the log is larger than %zu MiB\n", path,
                    TRC_MAX_BYTES >> 20);
            return 1;
        }
        if (len + 65536 > cap) {
            size_t c = cap ? 2 * cap : 1 << 20;
            char *n = realloc(buf, c);
            if (!n) {
                /* the line the reading had reached */
                size_t line = 1;
                for (size_t i = 0; i < len; i++)
                    line += buf[i] == '\n';
                free(buf);
                fclose(f);
                fprintf(errs, "%s:%zu: error: out of memory\n", path, line);
                return 1;
            }
            buf = n;
            cap = c;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        fprintf(errs, "%s: error: cannot read\n", path);
        return 1;
    }
    size_t n = trc_read_buffer(path, buf ? buf : "", len, log, errs);
    free(buf);
    return n;
}
