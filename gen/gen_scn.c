/*
 * gen_scn.c - the scenario generator of `sockmodel gen` (issue 4): random
 * but meaningful scenarios, meant to be run under two profiles (a model and
 * the real kernel, or two models) and compared step by step.
 *
 * What a scenario models: a few programs on one host, as different users,
 * putting several TCP and UDP sockets (IPv4, IPv6 with and without
 * IPV6_V6ONLY) on two or three ports with SO_REUSEADDR / SO_REUSEPORT set
 * before or after bind, listening, connecting to those listeners, accepting,
 * sending one way, closing from either side (so that either end keeps a
 * TIME_WAIT), with SO_LINGER {1,0} or {1,N}, and binding or connecting again
 * over what is left.  `expect` lines look at states, pending counts and
 * local endpoints; their written value is only a guess: the comparison is
 * between profiles, not against expectations.
 *
 * What it avoids, because a real kernel would not give a reproducible
 * answer or would take long (docs/gen-probe.md):
 *   - accepting from a port where two or more listeners could share
 *     connections (a SO_REUSEPORT group spreads them by a random hash);
 *   - blocking accept/recv that could wait forever (O_NONBLOCK is set first);
 *   - data in both directions on one connection (Linux then delays ACKs,
 *     "pingpong" mode, which the model does not have);
 *   - waits long enough to end TIME_WAIT, connects nobody answers, long
 *     lingers, UDP datagrams to a port nobody holds (ICMP errors are not
 *     modelled): datagrams go only to a port one UDP socket holds.
 * Second edition (scenario-language.md "Additions"): connects to the
 * wildcard address, sendto/recvfrom, and `expect` on SO_ERROR, the peer
 * and readiness.
 * Ephemeral port numbers are never compared (gen_diff.c normalises them).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "gen_scn.h"

/* ---- random numbers: splitmix64 ----------------------------------------- */

void scn_rng_seed(scn_rng *r, uint64_t seed, uint64_t stream)
{
    r->s = seed ^ (stream * 0xD1B54A32D192ED03ull) ^ 0x5DEECE66Dull;
    (void)scn_rng_next(r);
}

uint64_t scn_rng_next(scn_rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

unsigned scn_rng_below(scn_rng *r, unsigned n)
{
    return (unsigned)(scn_rng_next(r) % n);
}

bool scn_rng_pct(scn_rng *r, unsigned pct)
{
    return scn_rng_below(r, 100) < pct;
}

/* ---- the addresses the scenarios use -------------------------------------- */

enum { A_ANY4, A_LO4, A_DOC1, A_DOC2, A_ANY6, A_LO6, A_DOC6, A_MLO, A_MDOC1,
       N_ADDRS };

static const struct gaddr {
    const char *text;
    int fam;     /* family of the socket that binds it */
    bool wild;
    int v4;      /* v4 address it stands for (v4-mapped), or -1 */
} addrs[N_ADDRS] = {
    {"0.0.0.0", 4, true, -1},          {"127.0.0.1", 4, false, -1},
    {"192.0.2.1", 4, false, -1},       {"192.0.2.2", 4, false, -1},
    {"::", 6, true, -1},               {"::1", 6, false, -1},
    {"2001:db8::1", 6, false, -1},     {"::ffff:127.0.0.1", 6, false, A_LO4},
    {"::ffff:192.0.2.1", 6, false, A_DOC1},
};

static const char *const users[] = {"root", "alice", "bob"};

/* ---- the generator's picture of the scenario ------------------------------ */

#define G_MAXS 40
#define G_MAXLINES 25

typedef struct gsock {
    char name[16];
    bool tcp;
    int fam;
    bool bound;        /* a bind was written */
    int addr;          /* its address (index), -1 */
    unsigned port;     /* its port; 0 = ephemeral or none */
    bool listening, nonblock, connected, accepted, closed;
    bool reuseport;    /* ever set */
    bool uncertain;    /* its connection went to a random group member */
    bool no_accept;    /* listener: its queue is not known */
    bool has_data;     /* connection: data was sent one way */
    int peer;          /* other end of the connection, -1 */
    int queue[8];      /* listener: clients waiting, oldest first */
    int nq;
    int dest;          /* client: address it connected to, -1 */
    unsigned dport;
    bool tw_guess;     /* closed first: likely in TIME_WAIT */
    bool refused;      /* client: connected where nobody listened */
    int v6only;        /* IPV6_V6ONLY as set: -1 not set, 0, 1 */
} gsock;

typedef struct gen {
    scn_rng r;
    scn_buf *out;
    unsigned lines;
    gsock s[G_MAXS];
    int n;
    int user; /* -1: the default user */
    unsigned ports[3];
    int nports;
    int ns, nc, na; /* name counters */
    bool avoid;     /* leave out the open differences (gen_scn.h) */
} gen;

static void line(gen *g, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void line(gen *g, const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    scn_buf_puts(g->out, buf);
    scn_buf_puts(g->out, "\n");
    g->lines++;
}

static unsigned pick(gen *g, unsigned n)
{
    return scn_rng_below(&g->r, n);
}

static bool pct(gen *g, unsigned p)
{
    return scn_rng_pct(&g->r, p);
}

/* "127.0.0.1:5000" or "[::1]:5000" */
static void ep_text(int a, unsigned port, char *buf, size_t n)
{
    if (addrs[a].fam == 4)
        snprintf(buf, n, "%s:%u", addrs[a].text, port);
    else
        snprintf(buf, n, "[%s]:%u", addrs[a].text, port);
}

static const char *wait_text(gen *g)
{
    static const char *const w[] = {"10ms", "10ms", "20ms", "50ms", "100ms"};
    return w[pick(g, 5)];
}

static unsigned pick_port(gen *g)
{
    return g->ports[pick(g, (unsigned)g->nports)];
}

static int pick_addr(gen *g, int fam)
{
    if (pct(g, 4)) /* the wrong family now and then: EINVAL / EAFNOSUPPORT */
        fam = fam == 4 ? 6 : 4;
    int a;
    do
        a = (int)pick(g, N_ADDRS);
    while (addrs[a].fam != fam);
    return a;
}

/* Switch user now and then before a new socket. */
static void maybe_as(gen *g, unsigned p)
{
    if (!pct(g, p))
        return;
    int u = (int)pick(g, 3);
    if (u == g->user)
        return;
    g->user = u;
    line(g, "as %s", users[u]);
}

static int new_sock(gen *g, bool tcp, int fam, char kind)
{
    if (g->n >= G_MAXS)
        return -1;
    int i = g->n++;
    gsock *s = &g->s[i];
    memset(s, 0, sizeof *s);
    s->tcp = tcp;
    s->fam = fam;
    s->addr = -1;
    s->peer = -1;
    s->dest = -1;
    s->v6only = -1;
    int k = kind == 'c' ? ++g->nc : kind == 'a' ? ++g->na : ++g->ns;
    snprintf(s->name, sizeof s->name, "%c%d", kind, k);
    return i;
}

static void write_socket(gen *g, int i)
{
    const gsock *s = &g->s[i];
    line(g, "%s = socket %s%d", s->name, s->tcp ? "tcp" : "udp", s->fam);
}

/* Options before bind. */
static void early_options(gen *g, int i)
{
    gsock *s = &g->s[i];
    if (s->fam == 6 && pct(g, 35)) {
        s->v6only = pct(g, 50);
        line(g, "setsockopt %s IPV6_V6ONLY %d", s->name, s->v6only);
    }
    if (pct(g, 40))
        line(g, "setsockopt %s SO_REUSEADDR 1", s->name);
    if (pct(g, 30)) {
        line(g, "setsockopt %s SO_REUSEPORT 1", s->name);
        s->reuseport = true;
    }
}

static void write_bind(gen *g, int i, int a, unsigned port)
{
    gsock *s = &g->s[i];
    char ep[80];
    /* V6ONLY + v4-mapped with port 0 or a privileged port (the kernel's
     * order of checks) was open difference O2, fixed in profiles/linux. */
    ep_text(a, port, ep, sizeof ep);
    line(g, "bind %s %s", s->name, ep);
    s->bound = true;
    s->addr = a;
    s->port = port;
}

static void write_listen(gen *g, int i)
{
    gsock *s = &g->s[i];
    if (pct(g, 15))
        line(g, "listen %s %u", s->name, 1 + pick(g, 8));
    else
        line(g, "listen %s", s->name);
    s->listening = true;
}

static void write_wait(gen *g)
{
    line(g, "wait %s", wait_text(g));
}

/* ---- actions ---------------------------------------------------------------- */

/* Open listeners on the same TCP port as listener L (L included). */
static int listeners_on(const gen *g, unsigned port)
{
    int n = 0;
    for (int i = 0; i < g->n; i++) {
        const gsock *s = &g->s[i];
        if (s->tcp && s->listening && !s->closed && s->port == port)
            n++;
    }
    return n;
}

/* A new socket, its options, a bind and maybe a listen (up to 7 lines). */
static void act_server(gen *g)
{
    maybe_as(g, 30);
    bool tcp = pct(g, 70);
    int i = new_sock(g, tcp, pct(g, 50) ? 4 : 6, 's');
    if (i < 0)
        return;
    write_socket(g, i);
    early_options(g, i);
    if (pct(g, 12))
        return; /* bound later: a late bind */
    unsigned port = pct(g, 4) ? 0 : pick_port(g);
    write_bind(g, i, pick_addr(g, g->s[i].fam), port);
    if (tcp && port != 0 && pct(g, 55))
        write_listen(g, i);
}

/* An unbound socket is bound now; maybe listens (2 lines). */
static void act_late_bind(gen *g)
{
    int c[G_MAXS], n = 0;
    for (int i = 0; i < g->n; i++)
        if (!g->s[i].bound && !g->s[i].closed && !g->s[i].connected &&
            !g->s[i].accepted && !g->s[i].listening)
            c[n++] = i;
    if (n == 0)
        return;
    int i = c[pick(g, (unsigned)n)];
    write_bind(g, i, pick_addr(g, g->s[i].fam), pick_port(g));
    if (g->s[i].tcp && pct(g, 50))
        write_listen(g, i);
}

/* SO_REUSEADDR / SO_REUSEPORT set (or cleared) after bind (1 line). */
static void act_late_option(gen *g)
{
    /* Options changed after bind were open difference O1 (the bind
     * bucket's caches), fixed in profiles/linux. */
    int c[G_MAXS], n = 0;
    for (int i = 0; i < g->n; i++)
        if (g->s[i].bound && !g->s[i].closed)
            c[n++] = i;
    if (n == 0)
        return;
    gsock *s = &g->s[c[pick(g, (unsigned)n)]];
    int v = pct(g, 80);
    if (pct(g, 50)) {
        line(g, "setsockopt %s SO_REUSEADDR %d", s->name, v);
    } else {
        line(g, "setsockopt %s SO_REUSEPORT %d", s->name, v);
        if (v)
            s->reuseport = true;
    }
}

/* A bound TCP socket starts listening (1 line). */
static void act_listen(gen *g)
{
    int c[G_MAXS], n = 0;
    for (int i = 0; i < g->n; i++) {
        const gsock *s = &g->s[i];
        if (s->tcp && s->bound && s->port != 0 && !s->listening && !s->closed &&
            !s->connected && !s->accepted)
            c[n++] = i;
    }
    if (n == 0)
        return;
    write_listen(g, c[pick(g, (unsigned)n)]);
}

/* Where a client of family FAM may reach listener L: an address index,
 * or -1. */
static int dest_for(gen *g, const gsock *l, int *fam)
{
    int cand[8], cf[8], n = 0;
#define ADD(f, a) (cf[n] = (f), cand[n] = (a), n++)
    int a = l->addr;
    if (a == A_ANY4) {
        ADD(4, A_LO4); ADD(4, A_DOC1); ADD(4, A_DOC2); ADD(6, A_MLO);
        ADD(4, A_ANY4); /* connect() to 0.0.0.0: this host, per OS */
    } else if (a == A_ANY6) {
        ADD(6, A_LO6); ADD(6, A_DOC6); ADD(4, A_LO4); ADD(6, A_MDOC1);
        ADD(6, A_ANY6); /* connect() to ::, per OS */
    } else if (addrs[a].v4 >= 0) {
        ADD(4, addrs[a].v4); ADD(6, a);
    } else if (addrs[a].fam == 4) {
        ADD(4, a);
        if (a == A_LO4)
            ADD(6, A_MLO);
        if (a == A_DOC1)
            ADD(6, A_MDOC1);
    } else {
        ADD(6, a);
    }
#undef ADD
    unsigned k = pick(g, (unsigned)n);
    if (n > 1 && pct(g, 50))
        k = 0; /* the plain case more often */
    *fam = cf[k];
    return cand[k];
}

/* Make sure listener L is non-blocking before an accept (1 line). */
static void nonblock(gen *g, int i)
{
    gsock *s = &g->s[i];
    if (s->nonblock)
        return;
    line(g, "setsockopt %s O_NONBLOCK 1", s->name);
    s->nonblock = true;
}

static void write_accept(gen *g, int l)
{
    gsock *ls = &g->s[l];
    nonblock(g, l);
    int client = ls->nq > 0 ? ls->queue[0] : -1;
    if (ls->nq > 0) {
        memmove(ls->queue, ls->queue + 1, (size_t)(ls->nq - 1) * sizeof ls->queue[0]);
        ls->nq--;
    }
    int a = new_sock(g, true, ls->fam, 'a');
    if (a < 0)
        return;
    gsock *as = &g->s[a];
    as->accepted = true;
    as->bound = true;
    as->port = ls->port;
    as->addr = client >= 0 && g->s[client].dest >= 0 ? g->s[client].dest : ls->addr;
    as->peer = client;
    if (client >= 0)
        g->s[client].peer = a;
    line(g, "%s = accept %s", as->name, ls->name);
}

/* A client connects to a listener, maybe from a chosen port, and maybe the
 * listener accepts (up to 8 lines). */
static void act_connect(gen *g)
{
    int c[G_MAXS], n = 0;
    for (int i = 0; i < g->n; i++) {
        const gsock *s = &g->s[i];
        if (s->tcp && s->listening && !s->closed && s->port != 0)
            c[n++] = i;
    }
    if (n == 0)
        return;
    int l = c[pick(g, (unsigned)n)];
    int fam;
    int dest = dest_for(g, &g->s[l], &fam);
    unsigned dport = g->s[l].port;
    if (pct(g, 6)) /* a port where nobody may listen: ECONNREFUSED */
        dport = pick_port(g);
    maybe_as(g, 25);
    int i = new_sock(g, true, fam, 'c');
    if (i < 0)
        return;
    gsock *s = &g->s[i];
    write_socket(g, i);
    if (pct(g, 35)) { /* the client chooses its port: 4-tuples can clash */
        if (pct(g, 40))
            line(g, "setsockopt %s SO_REUSEADDR 1", s->name);
        int a;
        if (pct(g, 50))
            a = dest; /* same address as the destination */
        else
            a = fam == 4 ? A_ANY4 : A_ANY6;
        unsigned port = pick_port(g);
        if (port == dport && (a == dest || addrs[a].wild))
            port = 0; /* not onto itself: no simultaneous open (unmodelled) */
        if (port)
            write_bind(g, i, a, port);
    }
    char ep[80];
    ep_text(dest, dport, ep, sizeof ep);
    line(g, "connect %s %s", s->name, ep);
    s->connected = true;
    s->dest = dest;
    s->dport = dport;
    /* Which listener gets it? Several on that port: maybe a random one. */
    bool group = false;
    for (int j = 0; j < g->n; j++) {
        gsock *o = &g->s[j];
        if (o->tcp && o->listening && !o->closed && o->port == dport &&
            listeners_on(g, dport) > 1) {
            o->no_accept = true;
            group = true;
        }
    }
    if (group || dport != g->s[l].port) {
        s->uncertain = true;
        s->refused = listeners_on(g, dport) == 0;
        return;
    }
    gsock *ls = &g->s[l];
    if (ls->nq < 8)
        ls->queue[ls->nq++] = i;
    if (!ls->no_accept && pct(g, 75))
        write_accept(g, l);
}

/* An accept on a listener (2 lines). */
static void act_accept(gen *g)
{
    int c[G_MAXS], n = 0;
    for (int i = 0; i < g->n; i++) {
        const gsock *s = &g->s[i];
        if (s->tcp && s->listening && !s->closed && !s->no_accept)
            c[n++] = i;
    }
    if (n == 0)
        return;
    write_accept(g, c[pick(g, (unsigned)n)]);
}

/* One end of a connection closes, maybe with SO_LINGER; a wait lets the
 * segments land (up to 3 lines). */
static void act_close_conn(gen *g)
{
    int c[G_MAXS], n = 0;
    for (int i = 0; i < g->n; i++) {
        const gsock *s = &g->s[i];
        if (!s->closed && (s->connected || s->accepted) && !s->uncertain)
            c[n++] = i;
    }
    if (n == 0)
        return;
    int i = c[pick(g, (unsigned)n)];
    gsock *s = &g->s[i];
    unsigned p = pick(g, 100);
    if (p < 12)
        line(g, "setsockopt %s SO_LINGER 1 0", s->name);
    else if (p < 20)
        line(g, "setsockopt %s SO_LINGER 1 %u", s->name, 1 + pick(g, 3));
    line(g, "close %s", s->name);
    s->closed = true;
    if (s->peer < 0 || !g->s[s->peer].closed)
        s->tw_guess = p >= 12;
    write_wait(g);
}

/* A socket without a connection closes (1 line). */
static void act_close_plain(gen *g)
{
    int c[G_MAXS], n = 0;
    for (int i = 0; i < g->n; i++) {
        const gsock *s = &g->s[i];
        if (!s->closed && !s->connected && !s->accepted)
            c[n++] = i;
    }
    if (n == 0)
        return;
    gsock *s = &g->s[c[pick(g, (unsigned)n)]];
    line(g, "close %s", s->name);
    s->closed = true;
    if (s->listening)
        write_wait(g); /* the resets of its queue land (the model's
                          loopback takes 50 us, the kernel's none) */
}

/* A new socket binds where a closed one was: over its TIME_WAIT, if it left
 * one (up to 6 lines). */
static void act_rebind(gen *g)
{
    int c[G_MAXS], n = 0;
    for (int i = 0; i < g->n; i++) {
        const gsock *s = &g->s[i];
        if (s->closed && s->tcp && s->port != 0 && s->addr >= 0)
            c[n++] = i;
    }
    if (n == 0)
        return;
    const gsock *old = &g->s[c[pick(g, (unsigned)n)]];
    int a = old->addr;
    unsigned port = old->port;
    maybe_as(g, 20);
    int fam = addrs[a].fam;
    if (pct(g, 25)) { /* the wildcard of either family */
        fam = pct(g, 50) ? 4 : 6;
        a = fam == 4 ? A_ANY4 : A_ANY6;
    }
    int i = new_sock(g, true, fam, 's');
    if (i < 0)
        return;
    write_socket(g, i);
    if (pct(g, 55))
        line(g, "setsockopt %s SO_REUSEADDR 1", g->s[i].name);
    if (pct(g, 20)) {
        line(g, "setsockopt %s SO_REUSEPORT 1", g->s[i].name);
        g->s[i].reuseport = true;
    }
    write_bind(g, i, a, port);
    if (pct(g, 50))
        write_listen(g, i);
}

/* A new client bound to A:PORT (maybe with SO_REUSEADDR) connects to
 * DEST:DPORT (3-4 lines); its index, or -1. */
static int bound_client(gen *g, int fam, bool reuse, int a, unsigned port, int dest,
                      unsigned dport)
{
    int i = new_sock(g, true, fam, 'c');
    if (i < 0)
        return -1;
    write_socket(g, i);
    gsock *s = &g->s[i];
    if (reuse)
        line(g, "setsockopt %s SO_REUSEADDR 1", s->name);
    write_bind(g, i, a, port);
    char ep[80];
    ep_text(dest, dport, ep, sizeof ep);
    line(g, "connect %s %s", s->name, ep);
    s->connected = true;
    s->dest = dest;
    s->dport = dport;
    return i;
}

/* A client that chose its port connects again from it to the same place:
 * the 4-tuple may still be in TIME_WAIT (up to 5 lines). */
static void act_reconnect(gen *g)
{
    int c[G_MAXS], n = 0;
    for (int i = 0; i < g->n; i++) {
        const gsock *s = &g->s[i];
        if (s->tcp && s->closed && s->connected && s->bound && s->port != 0 &&
            s->dest >= 0 && !s->uncertain)
            c[n++] = i;
    }
    if (n == 0)
        return;
    int k = c[pick(g, (unsigned)n)];
    /* Half the time, a client closed while its peer is open: its orphaned
     * FIN_WAIT_2 (Linux: a timewait socket that connect() takes over). */
    for (int j = 0; j < n && pct(g, 50); j++) {
        const gsock *o = &g->s[c[j]];
        if (o->peer >= 0 && !g->s[o->peer].closed) {
            k = c[j];
            break;
        }
    }
    const gsock *old = &g->s[k];
    int i = bound_client(g, old->fam, pct(g, 70), old->addr, old->port, old->dest,
                         old->dport);
    if (i >= 0)
        g->s[i].uncertain = true; /* which listener, if any, is not tracked here */
}

/* A client from a chosen port connects to a listener and is accepted,
 * closes while the accepted end stays open (an orphaned FIN_WAIT_2; Linux
 * keeps it as a timewait socket), and a new client connects again from
 * that port to the same place (up to 12 lines; docs/gen-probe.md O6). */
static void act_fw2_reconnect(gen *g)
{
    int c[G_MAXS], n = 0;
    for (int i = 0; i < g->n; i++) {
        const gsock *s = &g->s[i];
        if (s->tcp && s->listening && !s->closed && s->port != 0 && !s->no_accept &&
            s->nq == 0 && listeners_on(g, s->port) == 1)
            c[n++] = i;
    }
    if (n == 0)
        return;
    int l = c[pick(g, (unsigned)n)];
    int fam;
    int dest = dest_for(g, &g->s[l], &fam);
    unsigned dport = g->s[l].port;
    int a = pct(g, 50) ? dest : fam == 4 ? A_ANY4 : A_ANY6;
    unsigned port = pick_port(g);
    if (port == dport)
        return; /* not onto itself: no simultaneous open (unmodelled) */
    bool reuse = pct(g, 80);
    int i = bound_client(g, fam, reuse, a, port, dest, dport);
    if (i < 0)
        return;
    g->s[l].queue[g->s[l].nq++] = i;
    write_accept(g, l);
    line(g, "close %s", g->s[i].name);
    g->s[i].closed = true;
    write_wait(g);
    int j = bound_client(g, fam, reuse, a, port, dest, dport);
    if (j >= 0)
        g->s[j].uncertain = true; /* which listener, if any, is not tracked here */
}

/* Data one way on a connection, and maybe read (up to 4 lines). */
static void act_send(gen *g)
{
    int c[G_MAXS], n = 0;
    for (int i = 0; i < g->n; i++) {
        const gsock *s = &g->s[i];
        if (!s->closed && s->peer >= 0 && !s->uncertain && !s->has_data &&
            !g->s[s->peer].closed)
            c[n++] = i;
    }
    if (n == 0)
        return;
    gsock *s = &g->s[c[pick(g, (unsigned)n)]];
    gsock *p = &g->s[s->peer];
    s->has_data = p->has_data = true;
    line(g, "send %s %u", s->name, 1 + pick(g, 3000));
    write_wait(g);
    if (pct(g, 60)) {
        nonblock(g, s->peer);
        line(g, "recv %s 100000", p->name);
    }
}

/* send or recv on a TCP socket without a connection: one that never
 * connected (maybe bound), or a client whose connect was refused (up to 4
 * lines).  Linux: EPIPE for the send, end of stream for the recv after a
 * refused connect (docs/gen-probe.md O3, O4). */
static void act_unconnected_io(gen *g)
{
    int c[G_MAXS], n = 0;
    for (int i = 0; i < g->n; i++) {
        const gsock *s = &g->s[i];
        if (s->tcp && !s->closed && !s->listening && !s->accepted &&
            (!s->connected || s->refused))
            c[n++] = i;
    }
    int i;
    if (n == 0 || pct(g, 30)) {
        int fam = pct(g, 50) ? 4 : 6;
        i = new_sock(g, true, fam, 'c');
        if (i < 0)
            return;
        write_socket(g, i);
        unsigned port = pick_port(g);
        if (listeners_on(g, port) == 0 && pct(g, 50)) { /* refused */
            char ep[80];
            ep_text(fam == 4 ? A_LO4 : A_LO6, port, ep, sizeof ep);
            line(g, "connect %s %s", g->s[i].name, ep);
            g->s[i].connected = g->s[i].refused = g->s[i].uncertain = true;
            g->s[i].dest = fam == 4 ? A_LO4 : A_LO6;
            g->s[i].dport = port;
        }
    } else {
        i = c[pick(g, (unsigned)n)];
    }
    gsock *s = &g->s[i];
    if (pct(g, 50)) {
        line(g, "send %s %u", s->name, 1 + pick(g, 3000));
    } else {
        nonblock(g, i);
        line(g, "recv %s 100000", s->name);
    }
}

/* A UDP socket connects (records its peer) (1-2 lines). */
static void act_udp_connect(gen *g)
{
    int c[G_MAXS], n = 0;
    for (int i = 0; i < g->n; i++) {
        const gsock *s = &g->s[i];
        /* Any of them, v6 <-> v4-mapped included (open difference O5 until
         * profiles/linux checked the families). */
        if (!s->tcp && !s->closed && !s->connected)
            c[n++] = i;
    }
    int i;
    if (n == 0 || pct(g, 30)) {
        i = new_sock(g, false, pct(g, 50) ? 4 : 6, 's');
        if (i < 0)
            return;
        write_socket(g, i);
    } else {
        i = c[pick(g, (unsigned)n)];
    }
    gsock *s = &g->s[i];
    int a;
    do
        a = (int)pick(g, N_ADDRS);
    while (addrs[a].fam != s->fam || addrs[a].wild);
    char ep[80];
    unsigned port = pick_port(g);
    ep_text(a, port, ep, sizeof ep);
    line(g, "connect %s %s", s->name, ep);
    s->connected = true;
    s->dest = a;
    s->dport = port;
}

/* A datagram to the one UDP socket that holds a port, from a new or an
 * unconnected UDP socket of its family, and maybe read (up to 5 lines). */
static void act_datagram(gen *g)
{
    int c[G_MAXS], n = 0;
    for (int i = 0; i < g->n; i++) {
        const gsock *s = &g->s[i];
        if (s->tcp || s->closed || !s->bound || s->port == 0 || s->connected)
            continue;
        int holders = 0;
        for (int j = 0; j < g->n; j++)
            holders += !g->s[j].tcp && !g->s[j].closed && g->s[j].port == s->port;
        if (holders == 1)
            c[n++] = i;
    }
    if (n == 0)
        return;
    int r = c[pick(g, (unsigned)n)];
    gsock *rs = &g->s[r];
    int dest = rs->addr;
    if (dest == A_ANY4)
        dest = A_LO4;
    else if (dest == A_ANY6)
        dest = A_LO6;
    int i = new_sock(g, false, addrs[dest].fam, 's');
    if (i < 0)
        return;
    write_socket(g, i);
    char ep[80];
    ep_text(dest, rs->port, ep, sizeof ep);
    line(g, "sendto %s %s %u", g->s[i].name, ep, 1 + pick(g, 1400));
    write_wait(g);
    if (pct(g, 70)) {
        nonblock(g, r);
        line(g, "recvfrom %s 2000", rs->name);
    }
}

/* SO_ERROR, the peer or readiness of an open socket (1 line). */
static void act_expect2(gen *g)
{
    int c[G_MAXS], n = 0;
    for (int i = 0; i < g->n; i++)
        if (!g->s[i].uncertain && !g->s[i].closed)
            c[n++] = i;
    if (n == 0)
        return;
    gsock *s = &g->s[c[pick(g, (unsigned)n)]];
    unsigned k = pick(g, 4);
    if (k == 0) {
        line(g, "expect %s error none", s->name);
    } else if (k == 1 && s->dest >= 0) {
        char ep[80];
        ep_text(s->dest, s->dport, ep, sizeof ep);
        line(g, "expect %s peer %s", s->name, ep);
    } else {
        line(g, "expect %s %s %s", s->name, k == 2 ? "readable" : "writable",
             s->tcp && !s->connected && !s->accepted ? "no" : "yes");
    }
}

/* An expect line: state, pending or local (1 line). */
static void act_expect(gen *g)
{
    int c[G_MAXS], n = 0;
    for (int i = 0; i < g->n; i++)
        if (!g->s[i].uncertain)
            c[n++] = i;
    if (n == 0)
        return;
    gsock *s = &g->s[c[pick(g, (unsigned)n)]];
    unsigned k = pick(g, 10);
    if (s->listening && !s->no_accept && k < 4) {
        line(g, "expect %s pending %d", s->name, s->nq);
    } else if (k < 7 && s->tcp) {
        const char *st = s->closed ? (s->tw_guess ? "TIME_WAIT" : "CLOSED")
                         : s->listening ? "LISTEN"
                         : (s->connected || s->accepted) ? "ESTABLISHED"
                                                         : "CLOSED";
        line(g, "expect %s state %s", s->name, st);
    } else if (s->bound && s->addr >= 0 && !s->closed) {
        /* (a closed descriptor has no address to look at) */
        char ep[80];
        ep_text(s->addr, s->port, ep, sizeof ep);
        line(g, "expect %s local %s", s->name, ep);
    }
}

/* A connection end shuts down its writing side (2 lines). */
static void act_shutdown(gen *g)
{
    int c[G_MAXS], n = 0;
    for (int i = 0; i < g->n; i++) {
        const gsock *s = &g->s[i];
        if (!s->closed && s->peer >= 0 && !s->uncertain)
            c[n++] = i;
    }
    if (n == 0)
        return;
    gsock *s = &g->s[c[pick(g, (unsigned)n)]];
    line(g, "shutdown %s wr", s->name);
    write_wait(g);
}

typedef struct gaction {
    void (*fn)(gen *g);
    unsigned weight;
    unsigned max_lines;
} gaction;

static const gaction actions[] = {
    {act_server, 30, 7},      {act_late_bind, 5, 2},   {act_late_option, 8, 1},
    {act_listen, 6, 1},       {act_connect, 24, 9},    {act_accept, 5, 2},
    {act_close_conn, 22, 3},  {act_close_plain, 7, 2}, {act_rebind, 14, 6},
    {act_reconnect, 6, 5},    {act_send, 5, 4},        {act_udp_connect, 4, 2},
    {act_expect, 14, 1},      {act_shutdown, 2, 2},    {act_datagram, 3, 5},
    {act_expect2, 4, 1},      {act_unconnected_io, 3, 4}, {act_fw2_reconnect, 3, 12},
};

static void gen_scenario(uint64_t seed, uint64_t index, bool avoid_open, scn_buf *out)
{
    gen g;
    memset(&g, 0, sizeof g);
    g.avoid = avoid_open;
    scn_rng_seed(&g.r, seed, index);
    g.out = out;
    g.user = -1;
    g.nports = 2 + (int)pick(&g, 2);
    for (int i = 0; i < g.nports; i++)
        g.ports[i] = 5000u + (unsigned)i;
    if (pct(&g, 8))
        g.ports[g.nports - 1] = 80; /* privileged: EACCES for users */
    unsigned target = 5 + pick(&g, 17); /* 5..21, actions add up to 25 */
    size_t nact = sizeof actions / sizeof actions[0];
    unsigned total = 0;
    for (size_t i = 0; i < nact; i++)
        total += actions[i].weight;
    maybe_as(&g, 60);
    unsigned guard = 0;
    while (g.lines < target && guard++ < 400) {
        unsigned r = pick(&g, total);
        size_t k = 0;
        while (r >= actions[k].weight)
            r -= actions[k++].weight;
        if (g.lines + actions[k].max_lines > G_MAXLINES)
            continue;
        actions[k].fn(&g);
    }
    /* Too short (few applicable actions): pad with fresh servers. */
    while (g.lines < 5)
        act_server(&g);
}

typedef struct gen_args {
    uint64_t seed, index;
    bool avoid_open;
    scn_buf *out;
} gen_args;

static void guarded_gen(void *ctx)
{
    gen_args *a = ctx;
    gen_scenario(a->seed, a->index, a->avoid_open, a->out);
}

/* Under the program's recovery point, or its own (scn__guarded): out of
 * memory then marks out failed. */
void scn_gen_scenario(uint64_t seed, uint64_t index, bool avoid_open, scn_buf *out)
{
    gen_args a = {seed, index, avoid_open, out};
    if (!scn__guarded(guarded_gen, &a))
        out->failed = true;
}
