/*
 * pkt_run.c - plays a packetdrill script on the model under one profile.
 *
 * What it models: one host ("local") owning the script's local address;
 * the scripted peer sits at an address no modelled host owns, so what the
 * host sends it is only seen by the tap and what it sends arrives through
 * sm_net_inject().  Events run in order on the world's virtual clock:
 * `<` segments are injected at their time; system calls are made on the
 * model at their time and their results compared; `>` segments are taken
 * in order from what the tap saw and compared with the script (flags,
 * sequence and acknowledgement numbers relative to both ISNs as packetdrill
 * writes them, window, options when the script states them, payload
 * length, and time within the script's tolerance).
 *
 * Back-quoted commands: sysctl settings go to the profile's tunables when
 * it has the key, else they are counted as ignored (and listed with
 * verbose); sockstat counts of connections in a state are answered from
 * the model.  %{ assert tcpi_state == TCPI_X }% checks the state of the
 * socket the last call used.  Anything else the model cannot answer is
 * noted, never silently passed.
 */
#include "pktdrill.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define NS_PER_US 1000ull
#define MAX_FDS 64
#define MAX_QUEUE 4096
#define LOCAL_PORT 8080u  /* packetdrill's port for the socket under test */
#define PEER_PORT 8080u   /* the port a connect() goes to */
#define PEER_EPH 38451u   /* the peer's port toward a listener */
#define PEER_ISN 0x1000u  /* the scripted peer's initial sequence number */

/* File status flags as the scripts' OS (FreeBSD) numbers them. */
#define F_O_RDWR 0x2
#define F_O_NONBLOCK 0x4

typedef struct seg_queue {
    sm_segment q[MAX_QUEUE];
    size_t head, n;
    bool overflow;
} seg_queue;

typedef struct runner {
    const pkt_script *s;
    const sm_profile *p;
    const pkt_run_opts *o;
    pkt_outcome *out;
    sm_world *w;
    sm_id host, proc;
    int family;        /* of the script's sockets: 4 or 6 */
    sm_addr local, peer;
    uint16_t lport, rport;
    uint32_t local_isn;
    bool local_isn_known;
    int64_t tol_us;
    sm_id fd[MAX_FDS];
    bool nonblock[MAX_FDS];
    int last_fd;
    seg_queue *sq;
    bool done;
} runner;

const char *pkt_verdict_name(pkt_verdict v)
{
    switch (v) {
    case PKT_PASS: return "pass";
    case PKT_FAIL: return "FAIL";
    case PKT_CANNOT: return "cannot run";
    case PKT_ERROR: return "error";
    }
    return "?";
}

static void note(runner *r, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void note(runner *r, int line, const char *fmt, ...)
{
    if (!r->o->out)
        return;
    fprintf(r->o->out, "%s:%d: %s: ", r->s->path, line, sm_profile_name(r->p));
    va_list ap;
    va_start(ap, fmt);
    vfprintf(r->o->out, fmt, ap);
    va_end(ap);
    fputc('\n', r->o->out);
}

/* The verdict: the first FAIL or CANNOT decides; its line is printed. */
static void decide(runner *r, pkt_verdict v, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void decide(runner *r, pkt_verdict v, int line, const char *fmt, ...)
{
    if (r->done)
        return;
    r->done = true;
    r->out->verdict = v;
    r->out->line = line;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->out->why, sizeof r->out->why, fmt, ap);
    va_end(ap);
    note(r, line, "%s%s", v == PKT_CANNOT ? "cannot run: " : "", r->out->why);
}

/* False (and the outcome PKT_ERROR, replacing any verdict the failing
 * call led to) once the world is broken: what the model answered from
 * then on says nothing about the script. */
static bool world_ok(runner *r, int line)
{
    sm_err e;
    const char *why = sm_world_broken(r->w, &e);
    if (!why)
        return true;
    r->done = true;
    r->out->verdict = PKT_ERROR;
    r->out->line = line;
    snprintf(r->out->why, sizeof r->out->why, "%s", why);
    return false;
}

static void tap(void *ctx, const sm_segment *g)
{
    runner *r = ctx;
    if (g->src_host == SM_NONE || g->proto != SM_TCP)
        return; /* what the peer sent, or not TCP */
    seg_queue *q = r->sq;
    if (q->n == MAX_QUEUE) {
        q->overflow = true;
        return;
    }
    q->q[(q->head + q->n) % MAX_QUEUE] = *g;
    q->n++;
}

/* ---- formatting segments as packetdrill writes them ---------------------- */

static size_t put_flags(char *b, size_t n, unsigned f)
{
    char t[12];
    size_t k = 0;
    if (f & SM_TH_SYN) t[k++] = 'S';
    if (f & SM_TH_FIN) t[k++] = 'F';
    if (f & SM_TH_RST) t[k++] = 'R';
    if (f & SM_TH_PSH) t[k++] = 'P';
    if (f & SM_TH_ACK) t[k++] = '.';
    if (f & PKT_TH_URG) t[k++] = 'U';
    if (f & PKT_TH_ECE) t[k++] = 'E';
    if (f & PKT_TH_CWR) t[k++] = 'W';
    t[k] = 0;
    return (size_t)snprintf(b, n, "%s", t);
}

static size_t put_opts(char *b, size_t n, const pkt_tcpopt *o, size_t no)
{
    size_t k = (size_t)snprintf(b, n, " <");
    for (size_t i = 0; i < no && k < n; i++) {
        const char *sep = i ? "," : "";
        switch (o[i].kind) {
        case PKT_OPT_EOL: k += (size_t)snprintf(b + k, n - k, "%seol", sep); break;
        case PKT_OPT_NOP: k += (size_t)snprintf(b + k, n - k, "%snop", sep); break;
        case PKT_OPT_MSS: k += (size_t)snprintf(b + k, n - k, "%smss %u", sep, o[i].a); break;
        case PKT_OPT_WSCALE: k += (size_t)snprintf(b + k, n - k, "%swscale %u", sep, o[i].a); break;
        case PKT_OPT_SACKOK: k += (size_t)snprintf(b + k, n - k, "%ssackOK", sep); break;
        case PKT_OPT_SACK: k += (size_t)snprintf(b + k, n - k, "%ssack (%u blocks)", sep, o[i].a); break;
        case PKT_OPT_TS: k += (size_t)snprintf(b + k, n - k, "%sTS val %u ecr %u", sep, o[i].a, o[i].b); break;
        default: break;
        }
    }
    if (k < n)
        k += (size_t)snprintf(b + k, n - k, ">");
    return k;
}

/* A script segment as text. */
static void fmt_script_seg(char *b, size_t n, const pkt_seg *g)
{
    size_t k = put_flags(b, n, g->flags);
    if (g->seq_any)
        k += (size_t)snprintf(b + k, n - k, " ...(%u)", g->len);
    else
        k += (size_t)snprintf(b + k, n - k, " %u:%u(%u)", g->seq, g->end, g->len);
    if (g->has_ack && k < n)
        k += (size_t)snprintf(b + k, n - k, " ack %u", g->ack);
    if (g->has_win && k < n)
        k += (size_t)snprintf(b + k, n - k, " win %u", g->win);
    if (g->opts == 2 && k < n)
        snprintf(b + k, n - k, " <...>");
    else if (g->opts == 1 && k < n)
        put_opts(b + k, n - k, g->opt, g->nopt);
}

/* The options the model put on segment g, as a script lists them. */
static size_t actual_opts(const sm_segment *g, pkt_tcpopt *o)
{
    size_t n = 0;
    if (!g->optlen && g->has_ts) { /* a profile that lays out no options */
        o[n].kind = PKT_OPT_TS;
        o[n].a = g->tsval;
        o[n].b = g->tsecr;
        return 1;
    }
    for (size_t i = 0; i < g->optlen && n < PKT_MAX_OPTS;) {
        const uint8_t *p = g->opt + i;
        memset(&o[n], 0, sizeof o[n]);
        o[n].kind = p[0];
        if (p[0] <= 1) {
            n++;
            i++;
            continue;
        }
        size_t len = i + 1 < g->optlen ? p[1] : 0;
        if (len < 2 || i + len > g->optlen)
            break;
        if (p[0] == PKT_OPT_MSS && len == 4)
            o[n].a = (uint32_t)p[2] << 8 | p[3];
        else if (p[0] == PKT_OPT_WSCALE && len == 3)
            o[n].a = p[2];
        else if (p[0] == PKT_OPT_TS && len == 10) {
            o[n].a = (uint32_t)p[2] << 24 | (uint32_t)p[3] << 16 | (uint32_t)p[4] << 8 | p[5];
            o[n].b = (uint32_t)p[6] << 24 | (uint32_t)p[7] << 16 | (uint32_t)p[8] << 8 | p[9];
        }
        n++;
        i += len;
    }
    return n;
}

/* The script's options on the wire (the peer's segment). */
static void encode_opts(const pkt_seg *g, sm_segment *x)
{
    size_t n = 0;
    for (size_t i = 0; i < g->nopt; i++) {
        const pkt_tcpopt *o = &g->opt[i];
        size_t need = o->kind <= 1 ? 1 : o->kind == PKT_OPT_MSS ? 4 : o->kind == PKT_OPT_WSCALE ? 3
                    : o->kind == PKT_OPT_SACKOK ? 2 : o->kind == PKT_OPT_TS ? 10 : 2 + 8 * o->a;
        if (n + need > sizeof x->opt)
            break;
        uint8_t *p = x->opt + n;
        p[0] = o->kind;
        if (need > 1)
            p[1] = (uint8_t)need;
        if (o->kind == PKT_OPT_MSS) {
            p[2] = (uint8_t)(o->a >> 8);
            p[3] = (uint8_t)o->a;
        } else if (o->kind == PKT_OPT_WSCALE)
            p[2] = (uint8_t)o->a;
        else if (o->kind == PKT_OPT_TS) {
            for (int k = 0; k < 4; k++) {
                p[2 + k] = (uint8_t)(o->a >> (24 - 8 * k));
                p[6 + k] = (uint8_t)(o->b >> (24 - 8 * k));
            }
            x->has_ts = true;
            x->tsval = o->a;
            x->tsecr = o->b;
        } else if (o->kind == PKT_OPT_SACK)
            memset(p + 2, 0, need - 2);
        n += need;
    }
    x->optlen = (uint8_t)n;
}

/* A segment the model sent, in script terms (relative numbers). */
static void fmt_actual(runner *r, char *b, size_t n, const sm_segment *g)
{
    size_t k = put_flags(b, n, g->flags);
    uint32_t s = g->seq - (r->local_isn_known ? r->local_isn : 0);
    k += (size_t)snprintf(b + k, n - k, " %u:%u(%u)", s, s + g->len, g->len);
    if ((g->flags & SM_TH_ACK) && k < n)
        k += (size_t)snprintf(b + k, n - k, " ack %u", g->ack - PEER_ISN);
    if (k < n)
        k += (size_t)snprintf(b + k, n - k, " win %u", g->window);
    pkt_tcpopt o[PKT_MAX_OPTS] = {{0, 0, 0}};
    size_t no = actual_opts(g, o);
    if (no && k < n)
        put_opts(b + k, n - k, o, no);
}

/* ---- time ------------------------------------------------------------------ */

static uint64_t us_to_ns(int64_t us) { return us < 0 ? 0 : (uint64_t)us * NS_PER_US; }

/* Runs the world up to script time T (microseconds).  False if T is
 * already past beyond the tolerance (a blocking call ran the clock on). */
static bool run_until(runner *r, int64_t t_us, int line)
{
    uint64_t at = us_to_ns(t_us), now = sm_now(r->w);
    if (at > now) {
        sm_advance(r->w, at - now);
        return true;
    }
    if (now - at > us_to_ns(r->tol_us)) {
        decide(r, PKT_CANNOT, line,
               "this event is due at %.6f s, during a blocking call that returned at %.6f s "
               "(the model cannot run script events while a call blocks)",
               (double)t_us / 1e6, (double)now / 1e9);
        return false;
    }
    return true;
}

/* ---- segments -------------------------------------------------------------- */

static void inject(runner *r, const pkt_event *e)
{
    const pkt_seg *g = &e->seg;
    sm_segment x;
    memset(&x, 0, sizeof x);
    x.proto = SM_TCP;
    x.src.addr = r->peer;
    x.src.port = r->rport;
    x.dst.addr = r->local;
    x.dst.port = r->lport;
    x.flags = g->flags & 0x1f;
    x.seq = PEER_ISN + g->seq;
    x.ack = g->has_ack ? g->ack + (r->local_isn_known ? r->local_isn : 0) : 0;
    x.window = (uint16_t)(g->has_win ? g->win : 65535);
    x.len = g->len;
    encode_opts(g, &x);
    if (g->flags & (PKT_TH_URG | PKT_TH_ECE | PKT_TH_CWR))
        r->out->unchecked++;
    if (g->seq_any) {
        decide(r, PKT_CANNOT, e->line, "an inbound segment needs a sequence number");
        return;
    }
    if (!sm_net_inject(r->w, &x))
        decide(r, PKT_CANNOT, e->line, "no modelled host owns the script's local address");
}

static bool opts_equal(const pkt_tcpopt *a, size_t na, const pkt_tcpopt *b, size_t nb)
{
    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++) {
        if (a[i].kind != b[i].kind)
            return false;
        switch (a[i].kind) {
        case PKT_OPT_MSS:
        case PKT_OPT_WSCALE:
            if (a[i].a != b[i].a)
                return false;
            break;
        case PKT_OPT_TS:
            /* TS val is the sender's clock: packetdrill does not compare it
             * by default; the echo is compared. */
            if (a[i].b != b[i].b)
                return false;
            break;
        default:
            break;
        }
    }
    return true;
}

static void expect(runner *r, const pkt_event *e, int64_t t_us, int64_t t_end_us)
{
    seg_queue *q = r->sq;
    uint64_t tol = us_to_ns(r->tol_us);
    bool any_time = e->t.kind == PKT_T_ANY;
    uint64_t hi = any_time ? sm_now(r->w) + 600ull * 1000000000ull : us_to_ns(t_end_us) + tol;
    /* Run the clock a millisecond at a time until the model sends.  The
     * milliseconds before the next event are skipped in one step that
     * lands on the same grid (nothing can happen in them): the cost is
     * the model's events, not the script's time (a '>' line an hour
     * away took 3.6 million steps).  The clock stops at SM_CLOCK_MAX. */
    while (q->n == 0 && sm_now(r->w) < hi) {
        uint64_t now = sm_now(r->w), step = 1000000;
        uint64_t next = sm_next_event(r->w);
        if (next > now + step) {
            uint64_t idle = next == UINT64_MAX ? hi - now : (next - now - 1) / step * step;
            step = idle > step ? idle : step;
        }
        if (hi - now < step)
            step = hi - now;
        sm_advance(r->w, step);
        if (sm_now(r->w) == now)
            break; /* the end of virtual time */
    }
    char want[256], got[256];
    fmt_script_seg(want, sizeof want, &e->seg);
    if (q->n == 0) {
        decide(r, PKT_FAIL, e->line, "expected: %s\n    actual: no segment was sent%s", want,
               any_time ? "" : " within the tolerance");
        return;
    }
    sm_segment g = q->q[q->head];
    q->head = (q->head + 1) % MAX_QUEUE;
    q->n--;
    const pkt_seg *x = &e->seg;
    if (!r->local_isn_known && (g.flags & SM_TH_SYN) && !x->seq_any) {
        r->local_isn = g.seq - x->seq;
        r->local_isn_known = true;
    }
    fmt_actual(r, got, sizeof got, &g);
    const char *what = NULL;
    bool soft = false; /* a difference --lenient lets through */
    if ((g.flags & 0x1f) != (x->flags & 0x1f))
        what = "flags";
    else if (!x->seq_any && g.seq - (r->local_isn_known ? r->local_isn : 0) != x->seq)
        what = "sequence number";
    else if (g.len != x->len)
        what = "payload length";
    else if ((x->flags & SM_TH_ACK) && x->has_ack && g.ack - PEER_ISN != x->ack)
        what = "acknowledgement number";
    else if (x->has_win && g.window != x->win)
        what = "window", soft = true;
    else if (x->opts == 1) {
        pkt_tcpopt o[PKT_MAX_OPTS] = {{0, 0, 0}};
        size_t no = actual_opts(&g, o);
        if (!opts_equal(x->opt, x->nopt, o, no))
            what = "TCP options", soft = true;
    }
    if (!what && !any_time) {
        uint64_t lo = us_to_ns(t_us) > tol ? us_to_ns(t_us) - tol : 0;
        if (g.time_ns < lo || g.time_ns > us_to_ns(t_end_us) + tol) {
            decide(r, PKT_FAIL, e->line,
                   "timing: expected at %.6f s (tolerance %.3f s)\n    actual: %s at %.6f s",
                   (double)t_us / 1e6, (double)r->tol_us / 1e6, got, (double)g.time_ns / 1e9);
            return;
        }
    }
    if (!what)
        return;
    if (soft && r->o->lenient) {
        r->out->lenient++;
        note(r, e->line, "(lenient) %s differ\n    expected: %s\n    actual:   %s", what, want,
             got);
        return;
    }
    decide(r, PKT_FAIL, e->line, "%s differ\n    expected: %s\n    actual:   %s", what, want,
           got);
}

/* ---- system calls ---------------------------------------------------------- */

static bool num_arg(const pkt_expr *x, int64_t *v)
{
    if (x->kind == PKT_X_NUM) {
        *v = x->num;
        return true;
    }
    if (x->kind == PKT_X_LIST && x->nkid == 1 && x->kid[0].kind == PKT_X_NUM) {
        *v = x->kid[0].num;
        return true;
    }
    return false;
}

static bool sym_is(const pkt_expr *x, const char *name)
{
    return x->kind == PKT_X_SYM && strcmp(x->text, name) == 0;
}

/* The socket named by fd argument 0. */
static bool call_fd(runner *r, const pkt_event *e, int *fd)
{
    int64_t v;
    if (e->call.narg < 1 || !num_arg(&e->call.arg[0], &v) || v < 0 || v >= MAX_FDS ||
        r->fd[v] == SM_NONE) {
        decide(r, PKT_FAIL, e->line, "%s: no such descriptor in the script", e->call.name);
        return false;
    }
    *fd = (int)v;
    r->last_fd = *fd;
    return true;
}

/* The lowest free descriptor (from 3, as a process with stdio open gets),
 * and the socket's name in the model: "fdN". */
static int free_fd(runner *r, char *name, size_t n)
{
    for (int i = 3; i < MAX_FDS; i++)
        if (r->fd[i] == SM_NONE) {
            snprintf(name, n, "fd%d", i);
            return i;
        }
    snprintf(name, n, "fd?");
    return -1;
}

static int new_fd(runner *r, int fd, sm_id id)
{
    if (fd < 0)
        return -1;
    r->fd[fd] = id;
    r->nonblock[fd] = false;
    r->last_fd = fd;
    return fd;
}

/* Compares a call's outcome with the script's "= RET [ERRNO]". */
static void check_result(runner *r, const pkt_event *e, sm_result res, int64_t ok_value)
{
    const pkt_call *c = &e->call;
    int64_t got = res.err == SM_OK ? ok_value : -1;
    if (c->ret.kind == PKT_X_ANY)
        return;
    bool errno_ok = true; /* "= -1" without a name leaves the errno unchecked */
    if (res.err == SM_OK)
        errno_ok = !c->err;
    else if (c->err) {
        sm_err want;
        errno_ok = (sm_err_parse(c->err, &want) && want == res.err) ||
                   sm_profile_err_matches(r->p, res.err, c->err);
    }
    if (got == c->ret.num && errno_ok)
        return;
    char want[96], have[160];
    snprintf(want, sizeof want, "%" PRId64 "%s%s", c->ret.num, c->err ? " " : "",
             c->err ? c->err : "");
    char line[600];
    if (res.err == SM_OK)
        snprintf(have, sizeof have, "%" PRId64, got);
    else
        snprintf(have, sizeof have, "-1 %s (%s)", sm_profile_err_name(r->p, res.err),
                 sm_rule_line(res.rule, line, sizeof line));
    decide(r, PKT_FAIL, e->line, "%s() returned %s, expected %s", c->name, have, want);
}

static void unchecked(runner *r, const pkt_event *e, const char *what)
{
    r->out->unchecked++;
    if (r->o->verbose)
        note(r, e->line, "unchecked: %s (not modelled)", what);
}

static sm_endpoint ep_of(const sm_addr *a, uint16_t port)
{
    sm_endpoint ep;
    ep.addr = *a;
    ep.port = port;
    return ep;
}

static void do_call(runner *r, const pkt_event *e)
{
    const pkt_call *c = &e->call;
    const char *n = c->name;
    int fd = -1;
    sm_result res;
    if (strcmp(n, "socket") == 0) {
        sm_proto proto = SM_TCP;
        if (c->narg >= 2 && sym_is(&c->arg[1], "SOCK_DGRAM"))
            proto = SM_UDP;
        sm_id id;
        char name[16];
        int fd_new = free_fd(r, name, sizeof name);
        res = sm_socket(r->w, r->proc, proto, r->family, name, &id);
        int nfd = res.err == SM_OK ? new_fd(r, fd_new, id) : -1;
        check_result(r, e, res, nfd);
        return;
    }
    if (!call_fd(r, e, &fd))
        return;
    sm_id id = r->fd[fd];
    if (strcmp(n, "fcntl") == 0) {
        if (c->narg >= 2 && sym_is(&c->arg[1], "F_GETFL")) {
            check_result(r, e, (sm_result){.err = SM_OK}, F_O_RDWR | (r->nonblock[fd] ? F_O_NONBLOCK : 0));
            return;
        }
        if (c->narg >= 3 && sym_is(&c->arg[1], "F_SETFL")) {
            bool nb = false;
            const pkt_expr *x = &c->arg[2];
            if (sym_is(x, "O_NONBLOCK"))
                nb = true;
            for (size_t i = 0; x->kind == PKT_X_OR && i < x->nkid; i++)
                nb = nb || sym_is(&x->kid[i], "O_NONBLOCK");
            res = sm_setsockopt(r->w, id, SM_O_NONBLOCK, nb, 0);
            if (res.err == SM_OK)
                r->nonblock[fd] = nb;
            check_result(r, e, res, 0);
            return;
        }
        decide(r, PKT_CANNOT, e->line, "fcntl: only F_GETFL and F_SETFL are modelled");
        return;
    }
    if (strcmp(n, "setsockopt") == 0 || strcmp(n, "getsockopt") == 0) {
        if (c->narg < 4 || c->arg[2].kind != PKT_X_SYM) {
            decide(r, PKT_CANNOT, e->line, "%s: expected (fd, level, option, value, ...)", n);
            return;
        }
        const char *oname = c->arg[2].text;
        bool set = n[0] == 's';
        if (set) {
            sm_option opt;
            int64_t v;
            if (sm_option_parse(oname, &opt) && sm_option_arity(opt) == 1 &&
                num_arg(&c->arg[3], &v)) {
                res = sm_setsockopt(r->w, id, opt, (int)v, 0);
                check_result(r, e, res, 0);
                return;
            }
        }
        if (!set && (strcmp(oname, "SO_ERROR") == 0 || strcmp(oname, "SO_RCVBUF") == 0)) {
            const pkt_expr *v = &c->arg[3];
            int64_t want = 0;
            sm_err ew = SM_OK;
            bool err_named = v->kind == PKT_X_LIST && v->nkid == 1 &&
                             v->kid[0].kind == PKT_X_SYM;
            if (err_named && !sm_err_parse(v->kid[0].text, &ew)) {
                decide(r, PKT_CANNOT, e->line, "getsockopt: unknown error name %s",
                       v->kid[0].text);
                return;
            }
            if (!err_named && v->kind != PKT_X_ANY && !num_arg(v, &want)) {
                decide(r, PKT_CANNOT, e->line, "getsockopt: expected [value]");
                return;
            }
            if (oname[3] == 'E') {
                sm_err got = sm_sock_take_error(r->w, id);
                if (v->kind != PKT_X_ANY && (err_named ? got != ew : (got != SM_OK || want != 0)))
                    decide(r, PKT_FAIL, e->line, "getsockopt(SO_ERROR) gave %s, expected %s",
                           got == SM_OK ? "0" : sm_profile_err_name(r->p, got),
                           err_named ? v->kid[0].text : "0");
            } else if (r->p && sm_sock_rcvbuf(r->w, id) == 0) {
                unchecked(r, e, "getsockopt(SO_RCVBUF): the profile states no size");
            } else {
                uint32_t got = sm_sock_rcvbuf(r->w, id);
                if (v->kind != PKT_X_ANY && (int64_t)got != want) {
                    if (r->o->lenient) {
                        r->out->lenient++;
                        note(r, e->line, "(lenient) getsockopt(SO_RCVBUF) gave %u, expected %" PRId64,
                             got, want);
                    } else
                        decide(r, PKT_FAIL, e->line,
                               "getsockopt(SO_RCVBUF) gave %u, expected %" PRId64, got, want);
                }
            }
            if (!r->done)
                check_result(r, e, (sm_result){.err = SM_OK}, 0);
            return;
        }
        char what[96];
        snprintf(what, sizeof what, "%s(%s)", n, oname);
        unchecked(r, e, what);
        return;
    }
    if (strcmp(n, "bind") == 0) {
        sm_endpoint ep = ep_of(&r->local, LOCAL_PORT);
        res = sm_bind(r->w, id, &ep);
        if (res.err == SM_OK)
            r->lport = LOCAL_PORT;
        check_result(r, e, res, 0);
        return;
    }
    if (strcmp(n, "listen") == 0) {
        int64_t bl = 1;
        if (c->narg >= 2)
            num_arg(&c->arg[1], &bl);
        res = sm_listen(r->w, id, (int)bl);
        if (res.err == SM_OK) {
            sm_endpoint l;
            if (sm_sock_local(r->w, id, &l))
                r->lport = l.port;
            r->rport = PEER_EPH;
        }
        check_result(r, e, res, 0);
        return;
    }
    if (strcmp(n, "connect") == 0) {
        sm_endpoint ep = ep_of(&r->peer, PEER_PORT);
        r->rport = PEER_PORT;
        uint64_t start = sm_now(r->w);
        res = sm_connect(r->w, id, &ep);
        sm_endpoint l;
        if (sm_sock_local(r->w, id, &l))
            r->lport = l.port;
        (void)start;
        check_result(r, e, res, 0);
        return;
    }
    if (strcmp(n, "accept") == 0) {
        sm_id nid;
        char name[16];
        int fd_new = free_fd(r, name, sizeof name);
        res = sm_accept(r->w, id, name, &nid);
        if (res.err == SM_EWOULDBLOCK && !r->nonblock[fd]) {
            decide(r, PKT_CANNOT, e->line,
                   "accept() blocks until a later script event (the model runs calls to completion)");
            return;
        }
        int nfd = res.err == SM_OK ? new_fd(r, fd_new, nid) : -1;
        check_result(r, e, res, nfd);
        return;
    }
    if (strcmp(n, "close") == 0) {
        res = sm_close(r->w, id);
        if (res.err == SM_OK || res.err == SM_ECONNRESET)
            r->fd[fd] = SM_NONE;
        check_result(r, e, res, 0);
        return;
    }
    if (strcmp(n, "shutdown") == 0) {
        bool rd = c->narg >= 2 && (sym_is(&c->arg[1], "SHUT_RD") || sym_is(&c->arg[1], "SHUT_RDWR"));
        bool wr = c->narg >= 2 && (sym_is(&c->arg[1], "SHUT_WR") || sym_is(&c->arg[1], "SHUT_RDWR"));
        res = sm_shutdown(r->w, id, rd, wr);
        check_result(r, e, res, 0);
        return;
    }
    bool is_read = strcmp(n, "read") == 0 || strcmp(n, "recv") == 0;
    bool is_write = strcmp(n, "write") == 0 || strcmp(n, "send") == 0;
    if (is_read || is_write) {
        int64_t len = 0;
        if (c->narg < 3 || !num_arg(&c->arg[2], &len) || len < 0) {
            decide(r, PKT_CANNOT, e->line, "%s: expected a byte count as the third argument", n);
            return;
        }
        res = is_read ? sm_recv(r->w, id, (uint64_t)len) : sm_send(r->w, id, (uint64_t)len);
        if (is_read && res.err == SM_EWOULDBLOCK && !r->nonblock[fd]) {
            decide(r, PKT_CANNOT, e->line,
                   "%s() blocks until a later script event (the model runs calls to completion)", n);
            return;
        }
        check_result(r, e, res, (int64_t)res.bytes);
        return;
    }
    decide(r, PKT_CANNOT, e->line, "the system call %s() is not modelled", n);
}

/* ---- commands and code ------------------------------------------------------ */

static const struct {
    const char *name;
    sm_tcp_state st;
} state_names[] = {
    {"CLOSED", SM_CLOSED},           {"LISTEN", SM_LISTEN},
    {"SYN_SENT", SM_SYN_SENT},       {"SYN_RCVD", SM_SYN_RECEIVED},
    {"SYN_RECEIVED", SM_SYN_RECEIVED}, {"ESTABLISHED", SM_ESTABLISHED},
    {"FIN_WAIT_1", SM_FIN_WAIT_1},   {"FIN_WAIT_2", SM_FIN_WAIT_2},
    {"CLOSE_WAIT", SM_CLOSE_WAIT},   {"CLOSING", SM_CLOSING},
    {"LAST_ACK", SM_LAST_ACK},       {"TIME_WAIT", SM_TIME_WAIT},
};

static bool state_named(const char *s, size_t len, sm_tcp_state *out)
{
    for (size_t i = 0; i < sizeof state_names / sizeof state_names[0]; i++)
        if (strlen(state_names[i].name) == len && strncmp(s, state_names[i].name, len) == 0) {
            *out = state_names[i].st;
            return true;
        }
    return false;
}

/* Connections of the host in state st (on local port `port`, 0: any),
 * as sockstat lists them. */
static uint64_t count_state(runner *r, sm_tcp_state st, unsigned port)
{
    if (st == SM_TIME_WAIT && !port)
        return sm_host_time_wait(r->w, r->host);
    uint64_t n = 0;
    for (sm_id id = 0; sm_sock_host(r->w, id) != SM_NONE; id++) {
        sm_tcp_state s = sm_sock_state(r->w, id);
        if (s != st)
            continue;
        sm_endpoint l;
        bool has = sm_sock_local(r->w, id, &l);
        if (st == SM_CLOSED) {
            /* A CLOSED entry is a socket the script still holds. */
            bool held = false;
            for (int f = 0; f < MAX_FDS; f++)
                held = held || r->fd[f] == id;
            if (!held)
                continue;
        }
        if (port && (!has || l.port != port))
            continue;
        n++;
    }
    return n;
}

/* `sockstat ... [-p PORT] ... | ... | grep -c STATE | grep N`: true if
 * recognised (then *ok says whether the count matched). */
static bool sockstat(runner *r, const char *cmd, bool *ok, char *why, size_t wn)
{
    if (strncmp(cmd, "sockstat", 8) != 0)
        return false;
    const char *c = strstr(cmd, "grep -c ");
    const char *last = strrchr(cmd, '|');
    if (!c || !last || last < c)
        return false;
    c += 8;
    size_t len = strcspn(c, " |");
    sm_tcp_state st;
    if (!state_named(c, len, &st))
        return false;
    const char *g = strstr(last, "grep ");
    if (!g)
        return false;
    g += 5;
    while (*g == ' ')
        g++;
    unsigned port = 0;
    const char *pp = strstr(cmd, " -p ");
    if (pp && pp < c)
        port = (unsigned)strtoul(pp + 4, NULL, 10);
    uint64_t n = count_state(r, st, port);
    char num[24];
    snprintf(num, sizeof num, "%" PRIu64, n);
    size_t glen = strcspn(g, " ");
    char pat[24];
    snprintf(pat, sizeof pat, "%.*s", (int)(glen < sizeof pat ? glen : sizeof pat - 1), g);
    *ok = strstr(num, pat) != NULL;
    snprintf(why, wn, "%.*s connections: the model has %s, the script expects %s", (int)len, c,
             num, pat);
    return true;
}

static void do_shell(runner *r, const pkt_event *e)
{
    const char *cmd = e->text;
    while (*cmd == ' ')
        cmd++;
    if (strncmp(cmd, "sysctl ", 7) == 0) {
        const char *kv = cmd + 7;
        while (*kv == ' ')
            kv++;
        if (strncmp(kv, "-w ", 3) == 0)
            kv += 3;
        while (*kv == ' ')
            kv++;
        const char *eq = strchr(kv, '=');
        if (eq) {
            char key[128], val[64];
            snprintf(key, sizeof key, "%.*s", (int)(eq - kv < 127 ? eq - kv : 127), kv);
            snprintf(val, sizeof val, "%.*s", (int)strcspn(eq + 1, " "), eq + 1);
            const char *v[1] = {val};
            const char *err = sm_sysctl(r->w, r->host, key, v, 1);
            if (!err)
                return;
            r->out->ignored++;
            if (r->o->verbose)
                note(r, e->line, "ignored: sysctl %s=%s (%s)", key, val, err);
            return;
        }
    }
    bool ok;
    char why[160];
    if (sockstat(r, cmd, &ok, why, sizeof why)) {
        if (!ok)
            decide(r, PKT_FAIL, e->line, "`%s`: %s", cmd, why);
        return;
    }
    r->out->ignored++;
    if (r->o->verbose)
        note(r, e->line, "ignored: `%s` (no model counterpart)", cmd);
}

static void do_code(runner *r, const pkt_event *e)
{
    const char *s = strstr(e->text, "tcpi_state");
    const char *t = s ? strstr(s, "TCPI_") : NULL;
    if (!t || !strstr(e->text, "assert") || !strstr(e->text, "==")) {
        r->out->ignored++;
        if (r->o->verbose)
            note(r, e->line, "ignored: %%{%s}%% (only tcpi_state asserts are modelled)", e->text);
        return;
    }
    t += 5;
    size_t len = 0;
    while (t[len] == '_' || (t[len] >= 'A' && t[len] <= 'Z') || (t[len] >= '0' && t[len] <= '9'))
        len++;
    sm_tcp_state want;
    if (!state_named(t, len, &want)) {
        decide(r, PKT_CANNOT, e->line, "unknown TCP state TCPI_%.*s", (int)len, t);
        return;
    }
    if (r->last_fd < 0 || r->fd[r->last_fd] == SM_NONE) {
        decide(r, PKT_CANNOT, e->line, "tcpi_state: no socket to ask");
        return;
    }
    sm_tcp_state got = sm_sock_state(r->w, r->fd[r->last_fd]);
    if (got != want)
        decide(r, PKT_FAIL, e->line, "tcpi_state is %s, expected TCPI_%.*s", sm_state_name(got),
               (int)len, t);
}

/* ---- the script ------------------------------------------------------------- */

static const char *os_define(const sm_profile *p)
{
    const char *n = sm_profile_name(p);
    if (strcmp(n, "bsd") == 0)
        return "FreeBSD";
    if (strncmp(n, "linux", 5) == 0)
        return "Linux";
    if (strncmp(n, "windows", 7) == 0)
        return "Windows";
    if (strcmp(n, "solaris") == 0)
        return "Solaris";
    return n;
}

static bool guards_hold(const pkt_event *e, const char *def)
{
    for (size_t i = 0; i < e->nguard; i++)
        if ((strcmp(e->guard[i].name, def) == 0) != e->guard[i].defined)
            return false;
    return true;
}

static bool setup(runner *r)
{
    r->family = 4;
    r->tol_us = 4000; /* packetdrill's default tolerance */
    for (size_t i = 0; i < r->s->nopt; i++) {
        const pkt_option *o = &r->s->opt[i];
        if (strcmp(o->name, "ip_version") == 0 && o->value) {
            if (strcmp(o->value, "ipv4") == 0)
                r->family = 4;
            else if (strcmp(o->value, "ipv6") == 0 || strcmp(o->value, "ipv4-mapped-ipv6") == 0)
                r->family = 6;
            else {
                decide(r, PKT_CANNOT, o->line, "unknown --ip_version=%s", o->value);
                return false;
            }
        } else if (strcmp(o->name, "tolerance_usecs") == 0 && o->value) {
            r->tol_us = strtoll(o->value, NULL, 10);
        } else {
            r->out->ignored++;
            if (r->o->verbose)
                note(r, o->line, "ignored: option --%s", o->name);
        }
    }
    const char *la = r->family == 4 ? "192.168.0.1" : "fd3d:fa7b:d17d::1";
    const char *pa = r->family == 4 ? "192.0.2.1" : "fd3d:fa7b:d17d:8888::1";
    sm_addr_parse(la, strlen(la), &r->local);
    sm_addr_parse(pa, strlen(pa), &r->peer);
    r->host = sm_host_add(r->w, "local");
    sm_host_add_addr(r->w, r->host, &r->local);
    r->proc = sm_proc_get(r->w, r->host, "packetdrill", sm_user_get(r->w, "root"));
    r->lport = LOCAL_PORT;
    r->rport = PEER_EPH;
    for (int i = 0; i < MAX_FDS; i++)
        r->fd[i] = SM_NONE;
    r->last_fd = -1;
    sm_world_set_tap(r->w, tap, r);
    return true;
}

void pkt_run(const pkt_script *s, const sm_profile *p, const pkt_run_opts *o,
             pkt_outcome *out)
{
    memset(out, 0, sizeof *out);
    runner r;
    memset(&r, 0, sizeof r);
    r.s = s;
    r.p = p;
    r.o = o;
    r.out = out;
    r.sq = calloc(1, sizeof *r.sq);
    r.w = r.sq ? sm_world_new(p, o->seed) : NULL;
    if (!r.w) {
        out->verdict = PKT_ERROR;
        snprintf(out->why, sizeof out->why, "out of memory");
        free(r.sq);
        return;
    }
    if (setup(&r) && world_ok(&r, 0)) {
        const char *def = os_define(p);
        int64_t last = 0;
        for (size_t i = 0; i < s->nev && !r.done; i++) {
            const pkt_event *e = &s->ev[i];
            if (!guards_hold(e, def))
                continue;
            int64_t t = e->t.kind == PKT_T_REL ? last + e->t.us : e->t.us;
            int64_t t_end = t;
            if (e->t.range)
                t_end = e->t.kind == PKT_T_REL ? last + e->t.range_end_us : e->t.range_end_us;
            switch (e->kind) {
            case PKT_OUT:
                expect(&r, e, t, t_end);
                if (e->t.kind == PKT_T_ANY)
                    t = (int64_t)(sm_now(r.w) / NS_PER_US);
                break;
            case PKT_IN:
                if (run_until(&r, t, e->line))
                    inject(&r, e);
                break;
            case PKT_CALL: {
                if (!run_until(&r, t, e->line))
                    break;
                do_call(&r, e);
                if (r.done)
                    break;
                uint64_t end = sm_now(r.w);
                int64_t want_end = e->t.blocking ? (e->t.end_rel ? t + e->t.end_us : e->t.end_us) : t;
                uint64_t tol = us_to_ns(r.tol_us);
                if (end + tol < us_to_ns(want_end) || end > us_to_ns(want_end) + tol)
                    decide(&r, PKT_FAIL, e->line, "%s() returned at %.6f s, expected at %.6f s",
                           e->call.name, (double)end / 1e9, (double)want_end / 1e6);
                break;
            }
            case PKT_SHELL:
                if (run_until(&r, t, e->line))
                    do_shell(&r, e);
                break;
            case PKT_CODE:
                if (run_until(&r, t, e->line))
                    do_code(&r, e);
                break;
            }
            last = t;
            if (!world_ok(&r, e->line))
                break;
        }
        if (!r.done && r.sq->overflow)
            decide(&r, PKT_CANNOT, 0, "the model sent more than %d segments", MAX_QUEUE);
    }
    if (!r.done)
        out->verdict = PKT_PASS;
    sm_world_free(r.w);
    free(r.sq);
}
