/*
 * obs_mirror.c - replays an observed program on the model, one world per
 * profile, and compares each call's result with what this machine gave.
 *
 * The world: one host "local" (the machine the program ran on: loopback
 * plus every non-loopback address the program was seen to own), one model
 * process per observed process, one model socket per open file
 * description (dup, fork and exec share it; the model socket is closed
 * when the last descriptor is).  Peers the program talked to but that were
 * not observed are modelled from what the program saw: a connect that
 * succeeded means a listener was there (a "peer" process on the local
 * host for loopback, a host "remoteN" otherwise); an accepted connection
 * from an unobserved client gets a "peer" socket bound to the client's
 * port that connects; bytes the program read were sent by that peer; a
 * read of 0 means the peer closed first; a peer that has not closed when
 * the program shuts down or closes closes right after it.  Loopback
 * connections between observed processes are modelled on both ends (an
 * accept pulls forward the connect it answers when the log has it later).
 *
 * The virtual clock follows the observed time between calls.  Everything
 * done on the model is also written, when asked, as a scenario with the
 * observed outcomes as `linux:` expectations.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "obs.h"
#include "sockmodel/socket.h"

#define MAXP 32

typedef struct msock {
    char name[64];
    int refs;
    sm_proto proto;
    int fam; /* 4 or 6 */
    sm_id id[MAXP];
    bool listening, closed;
    bool connecting;       /* a non-blocking connect not yet read back */
    obs_wire_addr bound;   /* the real local address, once known */
    bool has_peer, peer_closed;
    char peer_name[64];
    sm_id peer[MAXP];
    struct msock *next_all;
} msock;

typedef struct mfd {
    int fd;
    bool cloexec;
    msock *s;
} mfd;

typedef struct mproc {
    uint32_t pid;
    char name[48];
    sm_id id[MAXP];
    mfd *fds;
    size_t nfd, capfd;
    bool diverged[MAXP];
    bool gone;
    bool root;   /* runs as uid 0: the model's privileged user "root" */
} mproc;

typedef struct rhost {
    obs_wire_addr addr;
    char name[32];
    sm_id host[MAXP], proc[MAXP];
} rhost;

typedef struct conn_key {
    obs_wire_addr local;
    size_t ev;
} conn_key;

typedef struct mirror {
    sm_world *w[MAXP];
    size_t np;
    FILE *scn;
    /* What the scenario has current: copies, since the records the names
     * come from live in arrays that grow (realloc). Empty: none. */
    char scn_host[64], scn_proc[64];
    bool scn_root;     /* the scenario's current user is root */
    mproc *procs;
    size_t nprocs, capprocs;
    msock *all;
    char **names;      /* a set (name_slot), capnames a power of two */
    int *next_suffix;
    size_t nnames, capnames;
    rhost *rh;
    size_t nrh;
    sm_id local[MAXP], user[MAXP], root[MAXP], peerproc[MAXP];
    bool have_peerproc;
    uint64_t t_last;
    uint64_t ahead;   /* ns the model's clock ran ahead of the observed one */
    bool *done;       /* per event: already mirrored (pulled forward) */
    conn_key *conns;  /* connects by local address */
    size_t nconns;
    obs_log *log;
    obs_result *res;
    uint32_t *tids;
    size_t ntids;
    bool oom;
} mirror;

/* ---- small helpers ------------------------------------------------------- */

static void *xcalloc(mirror *m, size_t n, size_t sz)
{
    void *p = calloc(n ? n : 1, sz);
    if (!p)
        m->oom = true;
    return p;
}

static void scn(mirror *m, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static void scn(mirror *m, const char *fmt, ...)
{
    if (!m->scn)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(m->scn, fmt, ap);
    va_end(ap);
}

/* The names given so far: an open-addressing set of strings, each with
 * the next suffix to try when it is asked for again as a base. */
static size_t name_hash(const char *n)
{
    size_t h = 1469598103934665603u;
    for (; *n; n++)
        h = (h ^ (unsigned char)*n) * 1099511628211u;
    return h;
}

static long name_slot(const mirror *m, const char *n)
{
    if (!m->capnames)
        return -1;
    for (size_t i = name_hash(n) & (m->capnames - 1);;
         i = (i + 1) & (m->capnames - 1)) {
        if (!m->names[i])
            return -(long)i - 2;
        if (strcmp(m->names[i], n) == 0)
            return (long)i;
    }
}

static bool name_add(mirror *m, const char *n)
{
    if (2 * (m->nnames + 1) > m->capnames) {
        size_t c = m->capnames ? 2 * m->capnames : 256;
        char **old = m->names;
        int *oldn = m->next_suffix;
        size_t oc = m->capnames;
        m->names = calloc(c, sizeof *m->names);
        m->next_suffix = calloc(c, sizeof *m->next_suffix);
        if (!m->names || !m->next_suffix) {
            free(m->names);
            free(m->next_suffix);
            m->names = old;
            m->next_suffix = oldn;
            m->oom = true;
            return false;
        }
        m->capnames = c;
        for (size_t i = 0; i < oc; i++)
            if (old[i]) {
                size_t j = (size_t)(-name_slot(m, old[i]) - 2);
                m->names[j] = old[i];
                m->next_suffix[j] = oldn[i];
            }
        free(old);
        free(oldn);
    }
    long sl = name_slot(m, n);
    if (sl >= 0)
        return true;
    size_t j = (size_t)(-sl - 2);
    m->names[j] = strdup(n);
    if (!m->names[j]) {
        m->oom = true;
        return false;
    }
    m->next_suffix[j] = 2;
    m->nnames++;
    return true;
}

/* A fresh scenario name from base ([A-Za-z_][A-Za-z0-9_.-]*). */
static void unique_name(mirror *m, const char *base, char *out, size_t n)
{
    char b[48];
    size_t k = 0;
    for (const char *s = base; *s && k + 1 < sizeof b; s++) {
        char c = *s;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
        b[k++] = ok ? c : '_';
    }
    b[k] = 0;
    if (!k || !((b[0] >= 'a' && b[0] <= 'z') || (b[0] >= 'A' && b[0] <= 'Z') ||
                b[0] == '_')) {
        memmove(b + 1, b, k + 1 < sizeof b - 1 ? k + 1 : sizeof b - 2);
        b[0] = 'p';
        b[sizeof b - 1] = 0;
    }
    snprintf(out, n, "%s", b);
    long sl = name_slot(m, out);
    if (sl >= 0) {
        /* the base is cut so that the suffix always fits: a cut suffix
         * would give the same taken name again and again (a chain of 25
         * forks named "proc_2_2_..." hung here) */
        int i = m->next_suffix[sl];
        do {
            char suf[16];
            int sn = snprintf(suf, sizeof suf, "_%d", i++);
            size_t keep = strlen(b);
            if (keep + (size_t)sn >= n)
                keep = n - 1 - (size_t)sn;
            snprintf(out, n, "%.*s%s", (int)keep, b, suf);
        } while (name_slot(m, out) >= 0);
        sl = name_slot(m, b); /* still there: slots move only on growth */
        m->next_suffix[sl] = i;
    }
    name_add(m, out);
}

static sm_endpoint to_ep(const obs_wire_addr *a)
{
    sm_endpoint ep;
    memset(&ep, 0, sizeof ep);
    ep.addr.family = a->family;
    memcpy(ep.addr.b, a->b, a->family == 4 ? 4 : 16);
    ep.port = a->port;
    return ep;
}

static void ep_text(const obs_wire_addr *a, char *buf, size_t n)
{
    sm_endpoint ep = to_ep(a);
    char t[SM_EP_STRLEN];
    sm_endpoint_format(&ep, t, sizeof t);
    snprintf(buf, n, "%s", t);
}

/* ---- the scenario's current host and process ---------------------------- */

static void scn_at_as(mirror *m, const char *host, const char *proc, bool root)
{
    if (!m->scn)
        return;
    if (root != m->scn_root) {
        scn(m, "as %s\n", root ? "root" : "user");
        m->scn_root = root;
        m->scn_proc[0] = '\0';
    }
    if (!m->scn_host[0] || strcmp(m->scn_host, host) != 0) {
        scn(m, "on %s\n", host);
        snprintf(m->scn_host, sizeof m->scn_host, "%s", host);
        m->scn_proc[0] = '\0';
    }
    if (!m->scn_proc[0] || strcmp(m->scn_proc, proc) != 0) {
        scn(m, "proc %s\n", proc);
        snprintf(m->scn_proc, sizeof m->scn_proc, "%s", proc);
    }
}

/* The scenario's current host and process (peers run as "user"). */
static void scn_at(mirror *m, const char *host, const char *proc)
{
    scn_at_as(m, host, proc, false);
}

/* The scenario's current process is p, on the local host, as its user. */
static void scn_local(mirror *m, const mproc *p)
{
    scn_at_as(m, "local", p->name, p->root);
}

static void advance(mirror *m, uint64_t ns);

/* The observed time moved on by ns: the model's clock follows, less what
 * it already ran ahead (settle). */
static void follow(mirror *m, uint64_t ns)
{
    if (m->ahead >= ns) {
        m->ahead -= ns;
        return;
    }
    ns -= m->ahead;
    m->ahead = 0;
    advance(m, ns);
}

/* Before a call that observes a peer (recv, accept): what it got was on
 * its way, so let the model deliver it (real loopback is faster than the
 * model's).  The observed clock catches up later (follow). */
static void settle(mirror *m, uint64_t ns)
{
    advance(m, ns);
    m->ahead += ns;
}

/* Moves every world's clock (and the scenario's) forward by ns. */
static void advance(mirror *m, uint64_t ns)
{
    if (ns < 1000)
        return;
    ns -= ns % 1000;
    for (size_t k = 0; k < m->np; k++)
        sm_advance(m->w[k], ns);
    scn(m, "wait %" PRIu64 ".%03" PRIu64 "ms\n", ns / 1000000,
        (ns / 1000) % 1000);
}

/* ---- processes and descriptors ----------------------------------------- */

static mproc *proc_find(mirror *m, uint32_t pid)
{
    for (size_t i = m->nprocs; i-- > 0;)
        if (m->procs[i].pid == pid && !m->procs[i].gone)
            return &m->procs[i];
    return NULL;
}

/* A new model process; root: it runs as uid 0 (the model's "root"). */
static mproc *proc_new(mirror *m, uint32_t pid, const char *name, bool root)
{
    if (m->nprocs == m->capprocs) {
        size_t c = m->capprocs ? 2 * m->capprocs : 16;
        mproc *p = realloc(m->procs, c * sizeof *p);
        if (!p) {
            m->oom = true;
            return NULL;
        }
        m->procs = p;
        m->capprocs = c;
    }
    mproc *p = &m->procs[m->nprocs++];
    memset(p, 0, sizeof *p);
    p->pid = pid;
    unique_name(m, name && *name ? name : "proc", p->name, sizeof p->name);
    p->root = root;
    for (size_t k = 0; k < m->np; k++) {
        if (root && m->root[k] == SM_NONE)
            m->root[k] = sm_user_get(m->w[k], "root");
        p->id[k] = sm_proc_get(m->w[k], m->local[k], p->name,
                               root ? m->root[k] : m->user[k]);
    }
    m->res->n_procs++;
    return p;
}

static mfd *fd_find(mproc *p, int fd)
{
    for (size_t i = 0; p && i < p->nfd; i++)
        if (p->fds[i].fd == fd)
            return &p->fds[i];
    return NULL;
}

static void fd_put(mirror *m, mproc *p, int fd, msock *s, bool cloexec)
{
    if (p->nfd == p->capfd) {
        size_t c = p->capfd ? 2 * p->capfd : 8;
        mfd *f = realloc(p->fds, c * sizeof *f);
        if (!f) {
            m->oom = true;
            return;
        }
        p->fds = f;
        p->capfd = c;
    }
    p->fds[p->nfd++] = (mfd){fd, cloexec, s};
    s->refs++;
}

static void peer_close(mirror *m, msock *s)
{
    if (!s->has_peer || s->peer_closed)
        return;
    s->peer_closed = true;
    for (size_t k = 0; k < m->np; k++)
        if (s->peer[k] != SM_NONE)
            sm_close(m->w[k], s->peer[k]);
    scn(m, "close %s\n", s->peer_name);
}

static void sock_release(mirror *m, mproc *p, msock *s)
{
    if (--s->refs > 0 || s->closed)
        return;
    s->closed = true;
    s->listening = false;
    scn_local(m, p);
    for (size_t k = 0; k < m->np; k++)
        if (s->id[k] != SM_NONE)
            sm_close(m->w[k], s->id[k]);
    scn(m, "close %s\n", s->name);
    if (s->has_peer && !s->peer_closed) {
        settle(m, 1000000);
        peer_close(m, s);
    }
}

static void fd_drop(mirror *m, mproc *p, int fd)
{
    for (size_t i = 0; i < p->nfd; i++)
        if (p->fds[i].fd == fd) {
            msock *s = p->fds[i].s;
            p->fds[i] = p->fds[--p->nfd];
            sock_release(m, p, s);
            return;
        }
}

static msock *sock_new(mirror *m, mproc *p, int fd, sm_proto proto, int fam)
{
    msock *s = xcalloc(m, 1, sizeof *s);
    if (!s)
        return NULL;
    s->next_all = m->all;
    m->all = s;
    s->proto = proto;
    s->fam = fam;
    char base[96];
    snprintf(base, sizeof base, "%s_fd%d", p->name, fd);
    unique_name(m, base, s->name, sizeof s->name);
    for (size_t k = 0; k < m->np; k++)
        s->id[k] = s->peer[k] = SM_NONE;
    return s;
}

/* An address the program owns that is not loopback: the local host has it. */
static void own_addr(mirror *m, const obs_wire_addr *a)
{
    if (!a->family)
        return;
    sm_endpoint ep = to_ep(a);
    if (sm_addr_is_any(&ep.addr) || sm_addr_is_loopback(&ep.addr) ||
        sm_addr_is_v4mapped(&ep.addr) || sm_addr_is_multicast(&ep.addr))
        return;
    if (sm_host_has_addr(m->w[0], m->local[0], &ep.addr))
        return;
    for (size_t k = 0; k < m->np; k++)
        sm_host_add_addr(m->w[k], m->local[k], &ep.addr);
    char t[SM_EP_STRLEN];
    sm_addr_format(&ep.addr, t, sizeof t);
    scn(m, "host local addr %s\n", t);
    snprintf(m->scn_host, sizeof m->scn_host, "local");
    m->scn_proc[0] = '\0';
}

static bool is_local_addr(mirror *m, const obs_wire_addr *a)
{
    sm_endpoint ep = to_ep(a);
    return sm_addr_is_loopback(&ep.addr) || sm_addr_is_any(&ep.addr) ||
           sm_host_has_addr(m->w[0], m->local[0], &ep.addr);
}

/* ---- outcomes ----------------------------------------------------------- */

static sm_err observed_err(const obs_event *e)
{
    if (e->w.ret >= 0)
        return SM_OK;
    return sm_sys_err_of_errno(e->w.err);
}

static void compare_values(mirror *m, size_t ei, mproc *p, const sm_result *r,
                           bool data_call, const int64_t (*val)[2]);

static void compare(mirror *m, size_t ei, mproc *p, const sm_result *r,
                    bool data_call)
{
    compare_values(m, ei, p, r, data_call, NULL);
}

/* As compare(); val (per profile: the value and a second one) makes two
 * successes with other values a divergence too (getsockopt). */
static void compare_values(mirror *m, size_t ei, mproc *p, const sm_result *r,
                           bool data_call, const int64_t (*val)[2])
{
    const obs_event *e = &m->log->ev[ei];
    sm_err obs = observed_err(e);
    m->res->n_calls++;
    for (size_t k = 0; k < m->np; k++) {
        sm_err pe = r[k].err;
        if (pe == SM_ENOSYS)
            continue; /* the model does not do this call */
        if (e->w.call == OBS_CONNECT &&
            (pe == SM_EINPROGRESS || pe == SM_OK) &&
            (obs == SM_EINPROGRESS || obs == SM_OK))
            continue;
        if (data_call && obs == SM_OK && pe == SM_EWOULDBLOCK)
            continue; /* data timing is not modelled */
        bool vdiff = val && pe == SM_OK && obs == SM_OK &&
                     (val[k][0] != e->w.a3 || val[k][1] != e->w.a4);
        if (pe == obs && !vdiff)
            continue;
        obs_profile_result *pr = &m->res->prof[k];
        obs_div *d = realloc(pr->divs, (pr->n_divs + 1) * sizeof *d);
        if (!d) {
            m->oom = true;
            return;
        }
        pr->divs = d;
        d[pr->n_divs].ev = ei;
        d[pr->n_divs].pred = r[k];
        d[pr->n_divs].after = p->diverged[k];
        d[pr->n_divs].has_value = vdiff;
        d[pr->n_divs].value = vdiff ? val[k][0] : 0;
        d[pr->n_divs].value2 = vdiff ? val[k][1] : 0;
        if (!p->diverged[k])
            pr->n_first++;
        pr->n_divs++;
        p->diverged[k] = true;
    }
}

/* The `=> linux: OUTCOME` of a program call in the scenario: this
 * machine's result, where the linux model gives it too (a data call the
 * model cannot time as this machine did gets a comment instead). */
static void scn_expect(mirror *m, const obs_event *e, bool data,
                       const sm_result *r)
{
    if (!m->scn)
        return;
    sm_err o = observed_err(e);
    const char *name = o == SM_OK ? "ok" : sm_err_name(o);
    for (size_t k = 0; r && k < m->np; k++)
        if (strcmp(sm_profile_name(sm_world_profile(m->w[k])), "linux") == 0 &&
            r[k].err != o) {
            scn(m, "  # this machine: %s%s\n", name,
                data ? " (data timing is not modelled)" : "");
            return;
        }
    if (o == SM_OK && data && e->w.call == OBS_RECV && e->w.ret == 0)
        scn(m, " => linux: ok  # end of stream\n");
    else
        scn(m, " => linux: %s\n", name);
}

/* ---- peers outside the program ------------------------------------------ */

static sm_id host_for(mirror *m, const obs_wire_addr *a, size_t k,
                      const char **hname, sm_id *proc)
{
    if (is_local_addr(m, a)) {
        if (!m->have_peerproc) {
            m->have_peerproc = true;
            char nm[48];
            unique_name(m, "peer", nm, sizeof nm);
            for (size_t j = 0; j < m->np; j++)
                m->peerproc[j] =
                    sm_proc_get(m->w[j], m->local[j], "peer", m->user[j]);
        }
        *hname = "local";
        *proc = m->peerproc[k];
        return m->local[k];
    }
    for (size_t i = 0; i < m->nrh; i++) {
        sm_endpoint x = to_ep(&m->rh[i].addr), y = to_ep(a);
        if (sm_addr_equal(&x.addr, &y.addr)) {
            *hname = m->rh[i].name;
            *proc = m->rh[i].proc[k];
            return m->rh[i].host[k];
        }
    }
    return SM_NONE;
}

/* Declares a remote host with address a (once). */
static void remote_host(mirror *m, const obs_wire_addr *a)
{
    const char *hn;
    sm_id pr;
    if (host_for(m, a, 0, &hn, &pr) != SM_NONE)
        return;
    rhost *r = realloc(m->rh, (m->nrh + 1) * sizeof *r);
    if (!r) {
        m->oom = true;
        return;
    }
    m->rh = r;
    rhost *h = &m->rh[m->nrh++];
    memset(h, 0, sizeof *h);
    h->addr = *a;
    snprintf(h->name, sizeof h->name, "remote%zu", m->nrh);
    sm_endpoint ep = to_ep(a);
    for (size_t k = 0; k < m->np; k++) {
        h->host[k] = sm_host_add(m->w[k], h->name);
        sm_host_add_addr(m->w[k], h->host[k], &ep.addr);
        h->proc[k] = sm_proc_get(m->w[k], h->host[k], "peer",
                                 sm_user_get(m->w[k], "user"));
    }
    char t[SM_EP_STRLEN];
    sm_addr_format(&ep.addr, t, sizeof t);
    scn(m, "host %s addr %s\n", h->name, t);
    snprintf(m->scn_host, sizeof m->scn_host, "%s", h->name);
    m->scn_proc[0] = '\0';
}

/* A listener at dst, on the remote host or the local "peer" process. */
static msock *phantom_listener(mirror *m, const obs_wire_addr *dst, int fam)
{
    if (!is_local_addr(m, dst))
        remote_host(m, dst);
    msock *s = xcalloc(m, 1, sizeof *s);
    if (!s)
        return NULL;
    s->next_all = m->all;
    m->all = s;
    char base[96];
    snprintf(base, sizeof base, "peer_listen_%u", dst->port);
    unique_name(m, base, s->name, sizeof s->name);
    s->proto = SM_TCP;
    s->fam = fam;
    s->bound = *dst;
    s->listening = true;
    s->refs = 1;
    sm_endpoint ep = to_ep(dst);
    const char *hn = "local";
    for (size_t k = 0; k < m->np; k++) {
        sm_id pr;
        host_for(m, dst, k, &hn, &pr);
        sm_socket(m->w[k], pr, SM_TCP, dst->family, s->name, &s->id[k]);
        sm_bind(m->w[k], s->id[k], &ep);
        sm_listen(m->w[k], s->id[k], 128);
    }
    char t[SM_EP_STRLEN];
    sm_endpoint_format(&ep, t, sizeof t);
    scn_at(m, hn, "peer");
    scn(m, "%s = socket tcp%d\nbind %s %s\nlisten %s 128\n", s->name,
        dst->family, s->name, t, s->name);
    return s;
}

/* Does a socket bound to `bound` take a connect to dst: 2 its very
 * address, 1 through its wildcard address, 0 no. */
static int takes_connect(mirror *m, const obs_wire_addr *bound,
                         const obs_wire_addr *dst)
{
    if (!bound->family || bound->port != dst->port)
        return 0;
    sm_endpoint b = to_ep(bound), d = to_ep(dst);
    if (sm_addr_equal(&b.addr, &d.addr))
        return 2;
    return sm_addr_is_any(&b.addr) && is_local_addr(m, dst);
}

static msock *find_listener(mirror *m, const obs_wire_addr *dst)
{
    msock *best = NULL;
    for (msock *s = m->all; s; s = s->next_all) {
        if (!s->listening || s->closed)
            continue;
        int t = takes_connect(m, &s->bound, dst);
        if (t == 2)
            return s;
        if (t)
            best = s;
    }
    return best;
}

/* ---- the calls ------------------------------------------------------------ */

static void do_socket(mirror *m, size_t ei, mproc *p)
{
    const obs_wire *w = &m->log->ev[ei].w;
    if (w->ret < 0)
        return;
    int base = (int)(w->a2 & ~(SOCK_NONBLOCK | SOCK_CLOEXEC));
    sm_proto proto = base == SOCK_DGRAM ? SM_UDP : SM_TCP;
    int fam = w->a1 == AF_INET6 ? 6 : 4;
    fd_drop(m, p, (int)w->ret);
    msock *s = sock_new(m, p, (int)w->ret, proto, fam);
    if (!s)
        return;
    sm_result r[MAXP];
    for (size_t k = 0; k < m->np; k++)
        r[k] = sm_socket(m->w[k], p->id[k], proto, fam, s->name, &s->id[k]);
    scn_local(m, p);
    scn(m, "%s = socket %s%d", s->name, proto == SM_UDP ? "udp" : "tcp", fam);
    scn_expect(m, &m->log->ev[ei], false, r);
    compare(m, ei, p, r, false);
    fd_put(m, p, (int)w->ret, s, (w->a2 & SOCK_CLOEXEC) != 0);
    if (w->a2 & SOCK_NONBLOCK) {
        for (size_t k = 0; k < m->np; k++)
            if (s->id[k] != SM_NONE)
                sm_setsockopt(m->w[k], s->id[k], SM_O_NONBLOCK, 1, 0);
        scn(m, "setsockopt %s O_NONBLOCK 1\n", s->name);
    }
}

static bool map_option(const obs_wire *w, sm_option *o)
{
    if (w->a1 == SOL_SOCKET && w->a2 == SO_REUSEADDR)
        *o = SM_SO_REUSEADDR;
    else if (w->a1 == SOL_SOCKET && w->a2 == SO_REUSEPORT)
        *o = SM_SO_REUSEPORT;
    else if (w->a1 == SOL_SOCKET && w->a2 == SO_LINGER)
        *o = SM_SO_LINGER;
    else if (w->a1 == IPPROTO_IPV6 && w->a2 == IPV6_V6ONLY)
        *o = SM_IPV6_V6ONLY;
    else if (w->a1 == IPPROTO_IP && w->a2 == OBS_IP_BIND_ADDRESS_NO_PORT)
        *o = SM_IP_BIND_ADDRESS_NO_PORT;
    else if (w->a1 == IPPROTO_IP && w->a2 == OBS_IP_LOCAL_PORT_RANGE)
        *o = SM_IP_LOCAL_PORT_RANGE;
    else
        return false;
    return true;
}

/* The option's value(s) as the model takes them: SO_LINGER on and time,
 * IP_LOCAL_PORT_RANGE's u32 split into its low (lowest port) and high
 * (highest port) halves, any other option on or off. */
static void option_values(sm_option o, int64_t a3, int64_t a4, int *v1, int *v2)
{
    *v2 = 0;
    if (o == SM_SO_LINGER) {
        *v1 = (int)a3;
        *v2 = (int)a4;
    } else if (o == SM_IP_LOCAL_PORT_RANGE) {
        *v1 = (int)((uint32_t)a3 & 0xffff);
        *v2 = (int)((uint32_t)a3 >> 16);
    } else {
        *v1 = a3 != 0;
    }
}

static void do_setsockopt(mirror *m, size_t ei, mproc *p, msock *s)
{
    const obs_wire *w = &m->log->ev[ei].w;
    sm_option o;
    if (!map_option(w, &o))
        return; /* an option the model has no rule for */
    int v1, v2;
    option_values(o, w->a3, w->a4, &v1, &v2);
    sm_result r[MAXP];
    for (size_t k = 0; k < m->np; k++)
        r[k] = sm_setsockopt(m->w[k], s->id[k], o, v1, v2);
    scn_local(m, p);
    if (sm_option_arity(o) >= 2)
        scn(m, "setsockopt %s %s %d %d", s->name, sm_option_name(o), v1, v2);
    else
        scn(m, "setsockopt %s %s %d", s->name, sm_option_name(o), v1);
    scn_expect(m, &m->log->ev[ei], false, r);
    compare(m, ei, p, r, false);
}

/* What getsockopt() reads in the model (the mirror's own rules). */
static const sm_rule r_getsockopt_value = SM_RULE("observe.getsockopt.value", I,
    "the option's value as the socket holds it: as the program set it, "
    "else this OS's default for a new socket",
    "sockmodel observe: the engine's socket options");
static const sm_rule r_getsockopt_error = SM_RULE("observe.getsockopt.so-error", I,
    "the socket's pending error, cleared by reading it",
    "sockmodel observe: the engine's pending error");

/* getsockopt() of an option the model holds (its value is compared) or
 * SO_ERROR (the pending error, which the reading clears).  Buffer sizes,
 * SO_TYPE and the like are not compared: this machine's tunables decide
 * them, not the rules the profiles model. */
static void do_getsockopt(mirror *m, size_t ei, mproc *p, msock *s)
{
    const obs_wire *w = &m->log->ev[ei].w;
    sm_option o;
    bool err = w->a1 == SOL_SOCKET && w->a2 == SO_ERROR;
    if (!err && !map_option(w, &o))
        return;
    if (w->ret < 0)
        return; /* EFAULT, EINVAL of a short buffer: the program's doing */
    /* SO_ERROR is read once poll() said the handshake was over (real
     * loopback answers faster than the model's) */
    for (size_t k = 0; err && k < m->np; k++)
        if (s->id[k] != SM_NONE &&
            sm_sock_state(m->w[k], s->id[k]) == SM_SYN_SENT) {
            settle(m, 1000000);
            break;
        }
    sm_result r[MAXP];
    int64_t val[MAXP][2];
    for (size_t k = 0; k < m->np; k++) {
        memset(&r[k], 0, sizeof r[k]);
        r[k].err = SM_OK;
        r[k].rule = &r_getsockopt_value;
        r[k].culprit = SM_NONE;
        val[k][0] = val[k][1] = 0;
        if (s->id[k] == SM_NONE) {
            r[k].err = SM_ENOSYS;
        } else if (err) {
            sm_err pe = sm_sock_take_error(m->w[k], s->id[k]);
            if (pe == SM_OK && s->connecting &&
                sm_sock_state(m->w[k], s->id[k]) == SM_CLOSED)
                pe = SM_ECONNREFUSED; /* the handshake ended in a RST */
            val[k][0] = pe == SM_OK ? 0 : sm_sys_errno_of(pe);
            val[k][1] = w->a4;
            r[k].rule = &r_getsockopt_error;
        } else {
            int v1 = 0, v2 = 0;
            if (!sm_sock_option(m->w[k], s->id[k], o, &v1, &v2))
                r[k].err = SM_ENOSYS;
            val[k][0] = o == SM_SO_LINGER ? v1 : v1 != 0;
            val[k][1] = o == SM_SO_LINGER ? v2 : w->a4;
            if (o == SM_IP_LOCAL_PORT_RANGE) /* as the kernel packs it */
                val[k][0] = (int32_t)((uint32_t)v1 | (uint32_t)v2 << 16);
        }
    }
    if (err)
        s->connecting = false;
    scn_local(m, p);
    scn(m, "# getsockopt %s %s: this machine %" PRId64 "\n", s->name,
        err ? "SO_ERROR" : sm_option_name(o), w->a3);
    compare_values(m, ei, p, r, false, (const int64_t(*)[2])val);
}

static void do_bind(mirror *m, size_t ei, mproc *p, msock *s)
{
    const obs_wire *w = &m->log->ev[ei].w;
    if (!w->addr_a.family)
        return;
    own_addr(m, &w->addr_a);
    /* A bind to port 0 gets the port this machine picked, when the log
     * says which: with the model's own pick, the program's later calls
     * (a connect to that port, a bind that reuses it) would meet nobody
     * there, or meet another socket. */
    obs_wire_addr a = w->addr_a;
    bool picked = w->ret == 0 && !a.port && w->addr_b.port;
    if (picked)
        a.port = w->addr_b.port;
    sm_endpoint ep = to_ep(&a);
    sm_result r[MAXP];
    for (size_t k = 0; k < m->np; k++)
        r[k] = sm_bind(m->w[k], s->id[k], &ep);
    char t[SM_EP_STRLEN];
    ep_text(&a, t, sizeof t);
    scn_local(m, p);
    if (picked)
        scn(m, "# bind %s to port 0: this machine picked port %u\n", s->name,
            a.port);
    scn(m, "bind %s %s", s->name, t);
    scn_expect(m, &m->log->ev[ei], false, r);
    compare(m, ei, p, r, false);
    if (w->ret == 0)
        s->bound = a;
}

static int inprogress_outcome(const mirror *m, size_t ei);
static void mirror_event(mirror *m, size_t ei);

/* The last connect to the address the listener at event ei is bound to
 * that this machine refused although its record comes after the listen's
 * (SIZE_MAX: none).  A listen is stamped when it starts, a connect when it
 * returns: when the listening process lost the processor in between (a
 * loaded machine), the kernel answered the SYN with a RST before the
 * listen took effect.  The refusals tell the order: the search stops at
 * the listening process's next call and at a connect that got through. */
static size_t refused_before_listen(mirror *m, size_t ei, const msock *l)
{
    const obs_wire *lw = &m->log->ev[ei].w;
    size_t last = SIZE_MAX;
    if (!l->bound.port)
        return last;
    for (size_t i = ei + 1; i < m->log->n; i++) {
        const obs_wire *w = &m->log->ev[i].w;
        if (w->pid == lw->pid)
            break;
        if (w->call != OBS_CONNECT || m->done[i] ||
            !takes_connect(m, &l->bound, &w->addr_b))
            continue;
        if (w->ret < 0 && (w->err == ECONNREFUSED ||
                           (w->err == EINPROGRESS &&
                            inprogress_outcome(m, i) == ECONNREFUSED)))
            last = i;
        else
            break;
    }
    return last;
}

static void do_listen(mirror *m, size_t ei, mproc *p, msock *s)
{
    /* the connects the kernel refused before this listen took effect go
     * first, their RSTs delivered */
    size_t before = refused_before_listen(m, ei, s);
    if (before != SIZE_MAX) {
        for (size_t i = ei + 1; i <= before; i++)
            if (!m->done[i])
                mirror_event(m, i);
        settle(m, 1000000);
        p = proc_find(m, m->log->ev[ei].w.pid); /* the table may have moved */
        if (!p)
            return;
    }

    const obs_wire *w = &m->log->ev[ei].w;
    int backlog = w->a1 < 0 || w->a1 > 4096 ? 128 : (int)w->a1;
    sm_result r[MAXP];
    for (size_t k = 0; k < m->np; k++)
        r[k] = sm_listen(m->w[k], s->id[k], backlog);
    scn_local(m, p);
    scn(m, "listen %s %d", s->name, backlog);
    scn_expect(m, &m->log->ev[ei], false, r);
    compare(m, ei, p, r, false);
    if (w->ret == 0) {
        s->listening = true;
        if (!s->bound.family || !s->bound.port) {
            /* listen without bind: the kernel picked; the model did too */
            sm_endpoint ep;
            if (sm_sock_local(m->w[0], s->id[0], &ep)) {
                s->bound.family = ep.addr.family;
                memcpy(s->bound.b, ep.addr.b, 16);
                s->bound.port = ep.port;
            }
        }
    }
}

/* The phantom side of a connection the program made to an unobserved
 * listener: accept it there. */
static void phantom_accept(mirror *m, msock *s, msock *pl)
{
    char base[96];
    snprintf(base, sizeof base, "%s_peer", s->name);
    unique_name(m, base, s->peer_name, sizeof s->peer_name);
    s->has_peer = true;
    for (size_t k = 0; k < m->np; k++)
        if (pl->id[k] != SM_NONE)
            sm_accept(m->w[k], pl->id[k], s->peer_name, &s->peer[k]);
    scn(m, "%s = accept %s\n", s->peer_name, pl->name);
}

/* How a connect that returned EINPROGRESS ended, as the program learnt it
 * later (getsockopt(SO_ERROR), or data moving): 0 it got its connection,
 * else the errno (-1: the program never learnt). */
static int inprogress_outcome(const mirror *m, size_t ei)
{
    const obs_wire *c = &m->log->ev[ei].w;
    for (size_t i = ei + 1; i < m->log->n; i++) {
        const obs_wire *w = &m->log->ev[i].w;
        if (w->pid != c->pid || w->fd != c->fd)
            continue;
        switch (w->call) {
        case OBS_GETSOCKOPT:
            if (w->a2 == SO_ERROR && w->ret == 0)
                return (int)w->a3;
            break;
        case OBS_SEND:
        case OBS_RECV:
            if (w->ret < 0 && (w->err == ECONNREFUSED || w->err == ENOTCONN))
                return w->err;
            return 0;
        case OBS_CLOSE:
        case OBS_CONNECT:
        case OBS_SOCKET:
        case OBS_EXIT:
            return -1;
        default:
            break;
        }
    }
    return -1;
}

/* Did a connect that returned EINPROGRESS get its connection? */
static bool inprogress_ok(const mirror *m, size_t ei)
{
    return inprogress_outcome(m, ei) == 0;
}

/* An unbound socket gets the local address this machine gave it (how:
 * "picked at connect"): the model's own pick would put it elsewhere than
 * the log shows (and could meet a TIME_WAIT this machine avoided). */
static void bind_as_observed(mirror *m, mproc *p, msock *s,
                             const obs_wire_addr *a, const char *how)
{
    sm_endpoint le = to_ep(a);
    for (size_t k = 0; k < m->np; k++)
        if (s->id[k] != SM_NONE)
            sm_bind(m->w[k], s->id[k], &le);
    char tl[SM_EP_STRLEN];
    ep_text(a, tl, sizeof tl);
    scn_local(m, p);
    scn(m, "bind %s %s  # the port this machine %s\n", s->name, tl, how);
    s->bound = *a;
}

static void do_connect(mirror *m, size_t ei, mproc *p, msock *s)
{
    const obs_wire *w = &m->log->ev[ei].w;
    if (!w->addr_b.family)
        return;
    if (w->addr_a.family)
        own_addr(m, &w->addr_a);
    sm_err obs = observed_err(&m->log->ev[ei]);
    bool ok = obs == SM_OK || (obs == SM_EINPROGRESS && inprogress_ok(m, ei));
    msock *pl = NULL;
    if (s->proto == SM_TCP) {
        msock *l = find_listener(m, &w->addr_b);
        if (!l && ok)
            pl = phantom_listener(m, &w->addr_b, s->fam);
    }
    if (s->proto == SM_TCP && w->addr_a.family && w->addr_a.port &&
        !s->bound.family) {
        bind_as_observed(m, p, s, &w->addr_a, "picked at connect");
    }
    sm_endpoint ep = to_ep(&w->addr_b);
    sm_result r[MAXP];
    for (size_t k = 0; k < m->np; k++)
        r[k] = sm_connect(m->w[k], s->id[k], &ep);
    s->connecting = obs == SM_EINPROGRESS;
    char t[SM_EP_STRLEN];
    ep_text(&w->addr_b, t, sizeof t);
    scn_local(m, p);
    scn(m, "connect %s %s", s->name, t);
    scn_expect(m, &m->log->ev[ei], false, r);
    compare(m, ei, p, r, false);
    if (pl) {
        const char *hn;
        sm_id pr;
        host_for(m, &w->addr_b, 0, &hn, &pr);
        settle(m, 5000000); /* a non-blocking connect's handshake */
        scn_at(m, hn, "peer");
        phantom_accept(m, s, pl);
    }
}

/* The connect whose local address is the peer of the connection accepted
 * at event ai, and whose destination port is the accepted connection's
 * local port: the client is observed too.  Ports are reused, so of the
 * connects that got a connection, the one not mirrored yet nearest to the
 * accept wins (it is pulled forward), else the last one before it. */
static int key_cmp(const obs_wire_addr *x, const obs_wire_addr *y)
{
    if (x->family != y->family)
        return x->family < y->family ? -1 : 1;
    if (x->port != y->port)
        return x->port < y->port ? -1 : 1;
    return memcmp(x->b, y->b, sizeof x->b);
}

static int conn_cmp(const void *a, const void *b)
{
    const conn_key *x = a, *y = b;
    int c = key_cmp(&x->local, &y->local);
    return c ? c : (x->ev < y->ev ? -1 : x->ev > y->ev);
}

/* The connects that got a local address, sorted by it (find_connect). */
static void index_connects(mirror *m)
{
    size_t n = 0;
    for (size_t i = 0; i < m->log->n; i++)
        if (m->log->ev[i].w.call == OBS_CONNECT && m->log->ev[i].w.addr_a.family)
            n++;
    m->conns = xcalloc(m, n, sizeof *m->conns);
    if (!m->conns)
        return;
    for (size_t i = 0; i < m->log->n; i++) {
        const obs_wire *w = &m->log->ev[i].w;
        if (w->call == OBS_CONNECT && w->addr_a.family) {
            m->conns[m->nconns].local = w->addr_a;
            memset(m->conns[m->nconns].local.b + (w->addr_a.family == 4 ? 4 : 16), 0,
                   w->addr_a.family == 4 ? 12 : 0);
            m->conns[m->nconns].local.pad = 0;
            m->conns[m->nconns++].ev = i;
        }
    }
    qsort(m->conns, m->nconns, sizeof *m->conns, conn_cmp);
}

static size_t find_connect(mirror *m, const obs_wire_addr *peer, size_t ai)
{
    /* the accepted connection's local port: the connect went there (one
     * local address may serve several destinations at once: connect's
     * port sharing, IP_BIND_ADDRESS_NO_PORT) */
    uint16_t to_port = m->log->ev[ai].w.addr_a.family ? m->log->ev[ai].w.addr_a.port : 0;
    obs_wire_addr key = *peer;
    key.pad = 0;
    if (key.family == 4)
        memset(key.b + 4, 0, 12);
    size_t lo = 0, hi = m->nconns;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (key_cmp(&m->conns[mid].local, &key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t pending = SIZE_MAX, done = SIZE_MAX;
    for (size_t j = lo; j < m->nconns && key_cmp(&m->conns[j].local, &key) == 0; j++) {
        size_t i = m->conns[j].ev;
        const obs_wire *w = &m->log->ev[i].w;
        if (!(w->ret == 0 || (w->err == EINPROGRESS && inprogress_ok(m, i))))
            continue;
        if (to_port && w->addr_b.port != to_port)
            continue;
        if (!m->done[i]) {
            if (pending == SIZE_MAX || (i > ai ? i - ai : ai - i) <
                                           (pending > ai ? pending - ai : ai - pending))
                pending = i;
        } else if (i < ai) {
            done = i;
        }
    }
    return pending != SIZE_MAX ? pending : done;
}

static void do_accept(mirror *m, size_t ei, mproc *p, msock *l)
{
    const obs_wire *w = &m->log->ev[ei].w;
    if (w->ret < 0 && (w->err == EAGAIN || w->err == EINTR))
        return;
    if (w->ret >= 0)
        settle(m, 200000);
    if (w->ret >= 0 && w->addr_b.family) {
        own_addr(m, &w->addr_a);
        size_t ci = find_connect(m, &w->addr_b, ei);
        if (ci != SIZE_MAX) {
            if (!m->done[ci])
                mirror_event(m, ci);
        } else if (l->proto == SM_TCP) {
            /* an unobserved client: a peer socket bound to its port */
            const char *hn;
            sm_id pr;
            if (!is_local_addr(m, &w->addr_b))
                remote_host(m, &w->addr_b);
            msock tmp;
            char pn[64];
            snprintf(tmp.name, sizeof tmp.name, "peer_%u", w->addr_b.port);
            unique_name(m, tmp.name, pn, sizeof pn);
            sm_endpoint src = to_ep(&w->addr_b);
            sm_endpoint dst = to_ep(w->addr_a.family ? &w->addr_a : &l->bound);
            for (size_t k = 0; k < m->np; k++) {
                host_for(m, &w->addr_b, k, &hn, &pr);
                sm_id ps;
                if (sm_socket(m->w[k], pr, SM_TCP, src.addr.family, pn, &ps).err)
                    continue;
                sm_bind(m->w[k], ps, &src);
                sm_connect(m->w[k], ps, &dst);
            }
            host_for(m, &w->addr_b, 0, &hn, &pr);
            char ts[SM_EP_STRLEN], td[SM_EP_STRLEN];
            sm_endpoint_format(&src, ts, sizeof ts);
            sm_endpoint_format(&dst, td, sizeof td);
            scn_at(m, hn, "peer");
            scn(m, "%s = socket tcp%d\nbind %s %s\nconnect %s %s\n", pn,
                src.addr.family, pn, ts, pn, td);
            /* the accepted socket's peer is pn: remembered below */
            fd_drop(m, p, (int)w->ret);
            msock *a = sock_new(m, p, (int)w->ret, l->proto, l->fam);
            if (!a)
                return;
            snprintf(a->peer_name, sizeof a->peer_name, "%s", pn);
            a->has_peer = true;
            for (size_t k = 0; k < m->np; k++)
                a->peer[k] = sm_sock_find(m->w[k], pn);
            sm_result r[MAXP];
            for (size_t k = 0; k < m->np; k++)
                r[k] = sm_accept(m->w[k], l->id[k], a->name, &a->id[k]);
            scn_local(m, p);
            scn(m, "%s = accept %s", a->name, l->name);
            scn_expect(m, &m->log->ev[ei], false, r);
            compare(m, ei, p, r, false);
            a->bound = w->addr_a;
            fd_put(m, p, (int)w->ret, a, (w->a1 & SOCK_CLOEXEC) != 0);
            return;
        }
    }
    msock *a = NULL;
    if (w->ret >= 0) {
        fd_drop(m, p, (int)w->ret);
        a = sock_new(m, p, (int)w->ret, l->proto, l->fam);
        if (!a)
            return;
    }
    sm_result r[MAXP];
    for (size_t k = 0; k < m->np; k++) {
        sm_id out = SM_NONE;
        r[k] = sm_accept(m->w[k], l->id[k], a ? a->name : "failed_accept", &out);
        if (a)
            a->id[k] = out;
    }
    scn_local(m, p);
    if (a)
        scn(m, "%s = accept %s", a->name, l->name);
    else
        scn(m, "# accept %s failed", l->name);
    if (a)
        scn_expect(m, &m->log->ev[ei], false, r);
    else
        scn(m, "\n");
    compare(m, ei, p, r, false);
    if (a) {
        a->bound = w->addr_a;
        fd_put(m, p, (int)w->ret, a, (w->a1 & SOCK_CLOEXEC) != 0);
    }
}

/* The program's send or recv of n bytes (0: what it asked) on the model,
 * written and compared. */
static void data_call(mirror *m, size_t ei, mproc *p, msock *s, bool recv,
                      uint64_t n)
{
    const obs_wire *w = &m->log->ev[ei].w;
    uint64_t len = n ? n : recv ? 1 : (uint64_t)w->a1;
    sm_result r[MAXP];
    for (size_t k = 0; k < m->np; k++)
        r[k] = recv ? sm_recv(m->w[k], s->id[k], len)
                    : sm_send(m->w[k], s->id[k], len);
    scn_local(m, p);
    scn(m, "%s %s %" PRIu64, recv ? "recv" : "send", s->name, len);
    scn_expect(m, &m->log->ev[ei], true, r);
    compare(m, ei, p, r, true);
}

/* A sendto() to an address (not a connected socket's peer): the model's
 * sendto, compared.  An unbound socket first gets the port this machine
 * gave it (so later calls meet the same bind table); a destination on
 * another host gets a remote host there.  The datagram is let arrive
 * before the next call (real loopback is faster than the model's).  Where
 * the model's host lacks an address to send from (the kernel's source
 * address is not observed), the call is not compared. */
static void do_sendto(mirror *m, size_t ei, mproc *p, msock *s)
{
    const obs_wire *w = &m->log->ev[ei].w;
    if (w->addr_a.family && w->addr_a.port && !s->bound.family)
        bind_as_observed(m, p, s, &w->addr_a, "gave it at sendto");
    if (!is_local_addr(m, &w->addr_b))
        remote_host(m, &w->addr_b);
    uint64_t len = w->ret > 0 ? (uint64_t)w->ret : w->a1 > 0 ? (uint64_t)w->a1 : 1;
    sm_endpoint to = to_ep(&w->addr_b);
    sm_result r[MAXP];
    bool no_source = false;
    for (size_t k = 0; k < m->np; k++) {
        r[k] = sm_sendto(m->w[k], s->id[k], &to, len);
        if (r[k].err != SM_OK && r[k].rule &&
            strcmp(r[k].rule->id, "sm.connect.no-source") == 0) {
            r[k].err = SM_ENOSYS; /* not compared */
            no_source = true;
        }
    }
    char tt[SM_EP_STRLEN];
    ep_text(&w->addr_b, tt, sizeof tt);
    scn_local(m, p);
    if (no_source)
        scn(m, "# the address this machine sent from is not known here:\n");
    scn(m, "sendto %s %s %" PRIu64, s->name, tt, len);
    scn_expect(m, &m->log->ev[ei], !no_source, r);
    compare(m, ei, p, r, true);
    if (w->ret >= 0)
        settle(m, 1000000);
}

/* A datagram the program sent or received.  A send on a connected socket
 * (or to its peer) is the model's send; a sendto to another address is
 * the model's sendto (do_sendto).
 * A datagram received was sent by its source: when the model has none
 * waiting, a "peer" socket bound to the source sends one (on the local
 * host for local sources, a remote host otherwise); then the receive is
 * the model's and is compared. */
static void do_datagram(mirror *m, size_t ei, mproc *p, msock *s)
{
    const obs_wire *w = &m->log->ev[ei].w;
    bool recv = w->call == OBS_RECV;
    uint64_t n = w->ret > 0 ? (uint64_t)w->ret : 0;
    sm_endpoint rem;
    bool connected = sm_sock_remote(m->w[0], s->id[0], &rem);
    if (!recv && w->addr_b.family) {
        sm_endpoint to = to_ep(&w->addr_b);
        if (!connected || !sm_addr_equal(&to.addr, &rem.addr) || to.port != rem.port) {
            do_sendto(m, ei, p, s);
            return;
        }
    }
    if (recv && w->ret >= 0 && w->addr_b.family &&
        sm_sock_unread(m->w[0], s->id[0], NULL) == 0) {
        /* the source sent it: a peer socket there, made once per source */
        sm_endpoint src = to_ep(&w->addr_b), dst;
        if (!sm_sock_local(m->w[0], s->id[0], &dst))
            return;
        if (sm_addr_is_any(&dst.addr) && w->addr_a.family)
            dst = to_ep(&w->addr_a);
        if (sm_addr_is_any(&dst.addr))
            dst.addr = src.addr; /* a local source sends to the same host */
        if (!is_local_addr(m, &w->addr_b))
            remote_host(m, &w->addr_b);
        char pn[64], base[64];
        snprintf(base, sizeof base, "peer_udp_%u", w->addr_b.port);
        msock *ps = NULL;
        for (msock *x = m->all; x; x = x->next_all)
            if (x->proto == SM_UDP && !x->closed && x->has_peer == false &&
                x->refs == 1 && strncmp(x->name, base, strlen(base)) == 0 &&
                x->bound.port == w->addr_b.port)
                ps = x;
        const char *hn = "local";
        sm_id pr;
        if (!ps) {
            ps = xcalloc(m, 1, sizeof *ps);
            if (!ps)
                return;
            ps->next_all = m->all;
            m->all = ps;
            unique_name(m, base, pn, sizeof pn);
            snprintf(ps->name, sizeof ps->name, "%s", pn);
            ps->proto = SM_UDP;
            ps->fam = src.addr.family;
            ps->bound = w->addr_b;
            ps->refs = 1;
            for (size_t k = 0; k < m->np; k++) {
                host_for(m, &w->addr_b, k, &hn, &pr);
                ps->id[k] = SM_NONE;
                if (sm_socket(m->w[k], pr, SM_UDP, src.addr.family, ps->name,
                              &ps->id[k]).err == SM_OK)
                    sm_bind(m->w[k], ps->id[k], &src);
            }
            for (size_t k = 0; k < m->np; k++)
                if (ps->id[k] != SM_NONE)
                    sm_connect(m->w[k], ps->id[k], &dst);
            char ts[SM_EP_STRLEN], td[SM_EP_STRLEN];
            sm_endpoint_format(&src, ts, sizeof ts);
            sm_endpoint_format(&dst, td, sizeof td);
            scn_at(m, hn, "peer");
            scn(m, "%s = socket udp%d\nbind %s %s\nconnect %s %s\n", ps->name,
                src.addr.family, ps->name, ts, ps->name, td);
        }
        host_for(m, &w->addr_b, 0, &hn, &pr);
        for (size_t k = 0; k < m->np; k++)
            if (ps->id[k] != SM_NONE)
                sm_send(m->w[k], ps->id[k], n ? n : 1);
        scn_at(m, hn, "peer");
        scn(m, "send %s %" PRIu64 "\n", ps->name, n ? n : 1);
        settle(m, 1000000);
    }
    data_call(m, ei, p, s, recv, n);
}

static void do_data(mirror *m, size_t ei, mproc *p, msock *s)
{
    const obs_wire *w = &m->log->ev[ei].w;
    if (s->proto != SM_TCP) {
        if (!(w->ret < 0 && (w->err == EAGAIN || w->err == EINTR)))
            do_datagram(m, ei, p, s);
        return;
    }
    bool recv = w->call == OBS_RECV;
    if (w->ret < 0 && (w->err == EAGAIN || w->err == EINTR))
        return;
    uint64_t n = w->ret > 0 ? (uint64_t)w->ret : 0;
    if (recv && s->has_peer && !s->peer_closed && w->ret >= 0) {
        const char *hn = "local";
        if (n > 0) {
            for (size_t k = 0; k < m->np; k++)
                if (s->peer[k] != SM_NONE)
                    sm_send(m->w[k], s->peer[k], n);
            scn(m, "send %s %" PRIu64 "\n", s->peer_name, n);
        } else {
            peer_close(m, s);
        }
        (void)hn;
    }
    if (recv && w->ret >= 0)
        settle(m, 200000);
    if (w->ret < 0)
        settle(m, 1000000); /* the error shows what the peer did had arrived */
    if (!recv && w->ret >= 0) {
        /* the program could send: its handshake was over (real loopback
         * answers faster than the model's; a send while connecting is the
         * profile's rule, which needs the model's handshake to be as far
         * as this machine's was) */
        for (size_t k = 0; k < m->np; k++)
            if (s->id[k] != SM_NONE &&
                sm_sock_state(m->w[k], s->id[k]) == SM_SYN_SENT) {
                settle(m, 200000);
                break;
            }
    }
    data_call(m, ei, p, s, recv, n);
    if (!recv && s->has_peer && !s->peer_closed) {
        /* the peer reads what it was sent (it is not modelled further) */
        settle(m, 1000000);
        for (size_t k = 0; k < m->np; k++)
            if (s->peer[k] != SM_NONE)
                sm_recv(m->w[k], s->peer[k], n ? n : 1);
        scn(m, "recv %s %" PRIu64 "\n", s->peer_name, n ? n : 1);
    }
}

static void do_shutdown(mirror *m, size_t ei, mproc *p, msock *s)
{
    const obs_wire *w = &m->log->ev[ei].w;
    bool rd = w->a1 == SHUT_RD || w->a1 == SHUT_RDWR;
    bool wr = w->a1 == SHUT_WR || w->a1 == SHUT_RDWR;
    if (w->ret < 0)
        settle(m, 1000000); /* what the peer did had arrived */
    sm_result r[MAXP];
    for (size_t k = 0; k < m->np; k++)
        r[k] = sm_shutdown(m->w[k], s->id[k], rd, wr);
    scn_local(m, p);
    scn(m, "shutdown %s %s", s->name, rd && wr ? "rdwr" : rd ? "rd" : "wr");
    scn_expect(m, &m->log->ev[ei], false, r);
    compare(m, ei, p, r, false);
    if (wr && s->has_peer && !s->peer_closed) {
        settle(m, 1000000);
        peer_close(m, s);
    }
}

static void do_nonblock(mirror *m, size_t ei, mproc *p, msock *s)
{
    const obs_wire *w = &m->log->ev[ei].w;
    for (size_t k = 0; k < m->np; k++)
        if (s->id[k] != SM_NONE)
            sm_setsockopt(m->w[k], s->id[k], SM_O_NONBLOCK, w->a1 != 0, 0);
    scn_local(m, p);
    scn(m, "setsockopt %s O_NONBLOCK %d\n", s->name, w->a1 != 0);
}

static void proc_exit(mirror *m, mproc *p)
{
    while (p->nfd)
        fd_drop(m, p, p->fds[p->nfd - 1].fd);
    p->gone = true;
}

static void exec_image(mirror *m, mproc *p)
{
    for (size_t i = p->nfd; i-- > 0;)
        if (p->fds[i].cloexec)
            fd_drop(m, p, p->fds[i].fd);
}

/* A process forked from procs[pi] (SIZE_MAX: an unknown parent) or a new
 * image of it; w's uid (when the record has one) else the parent's. */
static mproc *fork_of(mirror *m, size_t pi, uint32_t pid, const char *nm,
                      const obs_wire *w)
{
    bool root = w->a3 == 1 ? w->a2 == 0 : pi != SIZE_MAX && m->procs[pi].root;
    char pname[48];
    snprintf(pname, sizeof pname, "%s",
             nm && *nm ? nm : pi != SIZE_MAX ? m->procs[pi].name : "proc");
    mproc *c = proc_new(m, pid, pname, root);
    if (!c || pi == SIZE_MAX)
        return c;
    mproc *parent = &m->procs[pi]; /* proc_new may have moved the table */
    for (size_t i = 0; i < parent->nfd; i++)
        fd_put(m, c, parent->fds[i].fd, parent->fds[i].s, parent->fds[i].cloexec);
    memcpy(c->diverged, parent->diverged, sizeof c->diverged);
    return c;
}

static void note_tid(mirror *m, uint32_t tid)
{
    for (size_t i = 0; i < m->ntids; i++)
        if (m->tids[i] == tid)
            return;
    uint32_t *t = realloc(m->tids, (m->ntids + 1) * sizeof *t);
    if (!t) {
        m->oom = true;
        return;
    }
    m->tids = t;
    m->tids[m->ntids++] = tid;
}

static void mirror_event(mirror *m, size_t ei)
{
    const obs_wire *w = &m->log->ev[ei].w;
    m->done[ei] = true;
    if (w->t_ns > m->t_last) {
        if (m->t_last)
            follow(m, w->t_ns - m->t_last);
        m->t_last = w->t_ns;
    }
    mproc *p = proc_find(m, w->pid);
    if (w->call == OBS_START || w->call == OBS_FORK) {
        if (p && w->call == OBS_START) {
            /* a new image: a process of its own name, same descriptors */
            size_t pi = (size_t)(p - m->procs);
            p = fork_of(m, pi, w->pid, w->name[0] ? w->name : NULL, w);
            if (p) {
                mproc *old = &m->procs[pi]; /* its descriptors live on in p */
                for (size_t i = 0; i < old->nfd; i++)
                    old->fds[i].s->refs--;
                old->nfd = 0;
                old->gone = true;
                exec_image(m, p);
            }
        } else if (!p) {
            mproc *parent = proc_find(m, (uint32_t)w->a1);
            size_t pi = parent ? (size_t)(parent - m->procs) : SIZE_MAX;
            p = fork_of(m, pi, w->pid, w->name[0] ? w->name : NULL, w);
            if (p && w->call == OBS_START)
                exec_image(m, p);
        }
        goto out;
    }
    if (!p) {
        p = proc_new(m, w->pid, w->name[0] ? w->name : "proc", false);
        if (!p)
            return;
    }
    if (w->tid)
        note_tid(m, w->tid);
    if (w->call == OBS_EXIT) {
        proc_exit(m, p);
        goto out;
    }
    if (w->call == OBS_EXEC) {
        exec_image(m, p);
        goto out;
    }
    if (w->call == OBS_SOCKET) {
        do_socket(m, ei, p);
        goto out;
    }
    mfd *f = fd_find(p, w->fd);
    if (!f)
        goto out; /* not a socket we know (inherited from outside) */
    msock *s = f->s;
    switch ((enum obs_call)w->call) {
    case OBS_SETSOCKOPT: do_setsockopt(m, ei, p, s); break;
    case OBS_GETSOCKOPT: do_getsockopt(m, ei, p, s); break;
    case OBS_BIND: do_bind(m, ei, p, s); break;
    case OBS_LISTEN: do_listen(m, ei, p, s); break;
    case OBS_CONNECT: do_connect(m, ei, p, s); break;
    case OBS_ACCEPT: do_accept(m, ei, p, s); break;
    case OBS_SEND:
    case OBS_RECV: do_data(m, ei, p, s); break;
    case OBS_SHUTDOWN: do_shutdown(m, ei, p, s); break;
    case OBS_NONBLOCK: do_nonblock(m, ei, p, s); break;
    case OBS_CLOEXEC: f->cloexec = w->a1 != 0; break;
    case OBS_CLOSE:
        if (w->ret == 0 || w->err != EBADF)
            fd_drop(m, p, w->fd);
        break;
    case OBS_DUP:
        if (w->ret >= 0 && w->ret != w->fd) {
            fd_drop(m, p, (int)w->ret);
            fd_put(m, p, (int)w->ret, s, w->a1 != 0);
        }
        break;
    default: break;
    }
out:
    if (p && !m->res->ev_proc[ei]) {
        m->res->ev_proc[ei] = strdup(p->name);
        if (!m->res->ev_proc[ei])
            m->oom = true;
    }
}

/* ---- entry points ---------------------------------------------------------- */

static int pid_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static int ev_cmp(const void *a, const void *b)
{
    const obs_event *x = a, *y = b;
    if (x->w.t_ns != y->w.t_ns)
        return x->w.t_ns < y->w.t_ns ? -1 : 1;
    return x->line < y->line ? -1 : x->line > y->line;
}

obs_result *obs_analyse(obs_log *log, const sm_profile *const *profiles,
                        size_t n_profiles, uint64_t seed, FILE *scnf,
                        const char **why)
{
    *why = NULL;
    if (n_profiles > MAXP) {
        *why = "too many profiles";
        return NULL;
    }
    if (log->n)
        qsort(log->ev, log->n, sizeof *log->ev, ev_cmp);
    mirror m;
    memset(&m, 0, sizeof m);
    m.np = n_profiles;
    m.scn = scnf;
    m.log = log;
    obs_result *res = calloc(1, sizeof *res);
    m.res = res;
    m.done = calloc(log->n ? log->n : 1, sizeof *m.done);
    if (!res || !m.done) {
        free(res);
        free(m.done);
        *why = "out of memory";
        return NULL;
    }
    res->log = log;
    res->n_prof = n_profiles;
    res->prof = calloc(n_profiles ? n_profiles : 1, sizeof *res->prof);
    res->ev_proc = calloc(log->n ? log->n : 1, sizeof *res->ev_proc);
    if (!res->prof || !res->ev_proc)
        m.oom = true;
    for (size_t k = 0; !m.oom && k < n_profiles; k++) {
        res->prof[k].profile = profiles[k];
        m.w[k] = sm_world_new(profiles[k], seed);
        if (!m.w[k]) {
            m.oom = true;
            break;
        }
        m.local[k] = sm_host_add(m.w[k], "local");
        m.user[k] = sm_user_get(m.w[k], "user");
        m.root[k] = SM_NONE; /* made when a process runs as root */
    }
    if (scnf && !m.oom) {
        scn(&m, "# What ");
        for (const char *c = log->command ? log->command : "the program"; *c; c++)
            fputc(*c == '\n' || *c == '\r' ? ' ' : *c, scnf);
        scn(&m, " did with sockets, as observed");
        scn(&m, "%s%s.\n", log->source ? " in " : "",
            log->source ? log->source : "");
        scn(&m, "# Written by sockmodel; the expectations are this machine's "
                "results (linux).\n"
                "# Peers outside the program are the processes called 'peer' "
                "and the remote hosts.\n\nprofile all\nhost local\n");
        snprintf(m.scn_host, sizeof m.scn_host, "local");
    }
    index_connects(&m);
    for (size_t i = 0; !m.oom && i < log->n; i++)
        if (!m.done[i])
            mirror_event(&m, i);
    res->n_threads = m.ntids;
    /* processes: distinct pids (an exec is the same process) */
    uint32_t *pids = m.nprocs ? malloc(m.nprocs * sizeof *pids) : NULL;
    if (pids) {
        for (size_t i = 0; i < m.nprocs; i++)
            pids[i] = m.procs[i].pid;
        qsort(pids, m.nprocs, sizeof *pids, pid_cmp);
        res->n_procs = 0;
        for (size_t i = 0; i < m.nprocs; i++)
            if (i == 0 || pids[i] != pids[i - 1])
                res->n_procs++;
        free(pids);
    }
    for (size_t k = 0; k < n_profiles; k++)
        if (m.w[k])
            sm_world_free(m.w[k]);
    for (msock *s = m.all, *n; s; s = n) {
        n = s->next_all;
        free(s);
    }
    for (size_t i = 0; i < m.nprocs; i++)
        free(m.procs[i].fds);
    free(m.procs);
    for (size_t i = 0; i < m.capnames; i++)
        free(m.names[i]);
    free(m.names);
    free(m.next_suffix);
    free(m.rh);
    free(m.tids);
    free(m.done);
    free(m.conns);
    if (m.oom) {
        obs_result_free(res);
        *why = "out of memory";
        return NULL;
    }
    return res;
}

void obs_result_free(obs_result *r)
{
    if (!r)
        return;
    for (size_t k = 0; r->prof && k < r->n_prof; k++)
        free(r->prof[k].divs);
    free(r->prof);
    if (r->ev_proc)
        for (size_t i = 0; i < r->log->n; i++)
            free(r->ev_proc[i]);
    free(r->ev_proc);
    free(r);
}

bool obs_result_diverges(const obs_result *r)
{
    for (size_t k = 0; k < r->n_prof; k++)
        if (r->prof[k].n_divs)
            return true;
    return false;
}

/* ---- the log ---------------------------------------------------------------- */

bool obs_log_add(obs_log *log, const obs_wire *w, uint32_t line)
{
    if (log->n == log->cap) {
        size_t c = log->cap ? 2 * log->cap : 256;
        obs_event *e = realloc(log->ev, c * sizeof *e);
        if (!e)
            return false;
        log->ev = e;
        log->cap = c;
    }
    log->ev[log->n].w = *w;
    log->ev[log->n].line = line;
    log->n++;
    return true;
}

void obs_log_set_command(obs_log *log, int argc, char *const *argv)
{
    size_t len = 1;
    for (int i = 0; i < argc; i++)
        len += strlen(argv[i]) + 1;
    free(log->command);
    log->command = malloc(len);
    if (!log->command)
        return;
    log->command[0] = 0;
    for (int i = 0; i < argc; i++) {
        if (i)
            strcat(log->command, " ");
        strcat(log->command, argv[i]);
    }
}

void obs_log_free(obs_log *log)
{
    free(log->ev);
    free(log->command);
    free(log->source);
    memset(log, 0, sizeof *log);
}

/* Every rule record of this file (docs/rules.md). */
static const sm_rule *const rules_of_file[] = {
    &r_getsockopt_value,
    &r_getsockopt_error,
};
const sm_rule_set sm__rules_obs_mirror = {"observe/obs_mirror.c", rules_of_file,
    sizeof rules_of_file / sizeof rules_of_file[0]};
