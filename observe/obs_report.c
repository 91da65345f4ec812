/*
 * obs_report.c - the report of `sockmodel exec` and `sockmodel trace`:
 * per profile, each call whose result that OS gives differently, with the
 * call as the program wrote it, the process and time, what this machine
 * returned (observed), what the profile returns (predicted), and the rule
 * with its source and confidence; calls made after the process had
 * diverged are marked "after divergence".  Text for people, JSON
 * ("format": "sockmodel-exec/1") for tools.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "obs.h"
#include "sockmodel/socket.h"
#include "smu_text.h"

static const char *const call_names[OBS_CALL_COUNT] = {
    [OBS_START] = "start", [OBS_FORK] = "fork", [OBS_EXIT] = "exit",
    [OBS_SOCKET] = "socket", [OBS_SETSOCKOPT] = "setsockopt",
    [OBS_GETSOCKOPT] = "getsockopt", [OBS_BIND] = "bind",
    [OBS_LISTEN] = "listen", [OBS_CONNECT] = "connect",
    [OBS_ACCEPT] = "accept", [OBS_CLOSE] = "close",
    [OBS_SHUTDOWN] = "shutdown", [OBS_SEND] = "sendto", [OBS_RECV] = "recvfrom",
    [OBS_NONBLOCK] = "fcntl", [OBS_CLOEXEC] = "fcntl", [OBS_DUP] = "dup",
    [OBS_EXEC] = "execve",
};

/* The name of the system call (as strace shows it: glibc's recv() and
 * send() are recvfrom and sendto, read and write stay themselves). */
static const char *call_name(const obs_wire *w)
{
    switch (w->variant) {
    case OBSV_ACCEPT4: return "accept4";
    case OBSV_READ: return "read";
    case OBSV_WRITE: return "write";
    case OBSV_RECVMSG: return "recvmsg";
    case OBSV_SENDMSG: return "sendmsg";
    case OBSV_IOCTL: return "ioctl";
    case OBSV_DUP2: return "dup2";
    case OBSV_DUP3: return "dup3";
    case OBSV_FDUPFD: return "fcntl";
    default: break;
    }
    return w->call < OBS_CALL_COUNT && call_names[w->call] ? call_names[w->call]
                                                            : "?";
}

static void addr_text(const obs_wire_addr *a, char *buf, size_t n)
{
    sm_endpoint ep;
    memset(&ep, 0, sizeof ep);
    ep.addr.family = a->family;
    memcpy(ep.addr.b, a->b, 16);
    ep.port = a->port;
    char t[SM_EP_STRLEN];
    sm_endpoint_format(&ep, t, sizeof t);
    snprintf(buf, n, "%s", t);
}

/* IP_LOCAL_PORT_RANGE: one u32, the lowest port in its low half and the
 * highest in its high half (0: that bound unset). */
static bool port_range(const obs_wire *w)
{
    return w->a1 == IPPROTO_IP && w->a2 == OBS_IP_LOCAL_PORT_RANGE;
}

static const char *opt_text(int64_t level, int64_t name, char *buf, size_t n)
{
    if (level == SOL_SOCKET) {
        switch (name) {
        case SO_REUSEADDR: return "SOL_SOCKET, SO_REUSEADDR";
        case SO_REUSEPORT: return "SOL_SOCKET, SO_REUSEPORT";
        case SO_LINGER: return "SOL_SOCKET, SO_LINGER";
        case SO_KEEPALIVE: return "SOL_SOCKET, SO_KEEPALIVE";
        case SO_ERROR: return "SOL_SOCKET, SO_ERROR";
        case SO_SNDBUF: return "SOL_SOCKET, SO_SNDBUF";
        case SO_RCVBUF: return "SOL_SOCKET, SO_RCVBUF";
        default: break;
        }
    }
    if (level == IPPROTO_IPV6 && name == IPV6_V6ONLY)
        return "SOL_IPV6, IPV6_V6ONLY";
    if (level == IPPROTO_IP && name == OBS_IP_BIND_ADDRESS_NO_PORT)
        return "SOL_IP, IP_BIND_ADDRESS_NO_PORT";
    if (level == IPPROTO_IP && name == OBS_IP_LOCAL_PORT_RANGE)
        return "SOL_IP, IP_LOCAL_PORT_RANGE";
    if (level == IPPROTO_TCP && name == 1)
        return "SOL_TCP, TCP_NODELAY";
    snprintf(buf, n, "%" PRId64 ", %" PRId64, level, name);
    return buf;
}

void obs_format_call(const obs_event *e, char *buf, size_t n)
{
    const obs_wire *w = &e->w;
    char a[SM_EP_STRLEN], o[64];
    const char *nm = call_name(w);
    switch ((enum obs_call)w->call) {
    case OBS_SOCKET: {
        int base = (int)(w->a2 & ~(SOCK_NONBLOCK | SOCK_CLOEXEC));
        snprintf(buf, n, "socket(%s, %s%s%s, %" PRId64 ")",
                 w->a1 == AF_INET6 ? "AF_INET6" : "AF_INET",
                 base == SOCK_DGRAM ? "SOCK_DGRAM" : "SOCK_STREAM",
                 (w->a2 & SOCK_CLOEXEC) ? "|SOCK_CLOEXEC" : "",
                 (w->a2 & SOCK_NONBLOCK) ? "|SOCK_NONBLOCK" : "", w->a3);
        return;
    }
    case OBS_SETSOCKOPT:
        if (w->a1 == SOL_SOCKET && w->a2 == SO_LINGER)
            snprintf(buf, n, "setsockopt(%d, SOL_SOCKET, SO_LINGER, {%" PRId64
                     ", %" PRId64 "})", w->fd, w->a3, w->a4);
        else if (port_range(w))
            snprintf(buf, n, "setsockopt(%d, SOL_IP, IP_LOCAL_PORT_RANGE, {%u, %u})",
                     w->fd, (unsigned)((uint32_t)w->a3 & 0xffff),
                     (unsigned)((uint32_t)w->a3 >> 16));
        else
            snprintf(buf, n, "setsockopt(%d, %s, %" PRId64 ")", w->fd,
                     opt_text(w->a1, w->a2, o, sizeof o), w->a3);
        return;
    case OBS_GETSOCKOPT:
        snprintf(buf, n, "getsockopt(%d, %s)", w->fd,
                 opt_text(w->a1, w->a2, o, sizeof o));
        return;
    case OBS_BIND:
        addr_text(&w->addr_a, a, sizeof a);
        snprintf(buf, n, "bind(%d, %s)", w->fd, a);
        return;
    case OBS_CONNECT:
        addr_text(&w->addr_b, a, sizeof a);
        snprintf(buf, n, "connect(%d, %s)", w->fd, a);
        return;
    case OBS_LISTEN:
        snprintf(buf, n, "listen(%d, %" PRId64 ")", w->fd, w->a1);
        return;
    case OBS_ACCEPT:
        snprintf(buf, n, "%s(%d)", nm, w->fd);
        return;
    case OBS_SHUTDOWN:
        snprintf(buf, n, "shutdown(%d, %s)", w->fd,
                 w->a1 == SHUT_RD ? "SHUT_RD" : w->a1 == SHUT_WR ? "SHUT_WR"
                                                                 : "SHUT_RDWR");
        return;
    case OBS_SEND:
        if (w->addr_b.family) { /* sendto's destination */
            addr_text(&w->addr_b, a, sizeof a);
            snprintf(buf, n, "%s(%d, %" PRId64 ", %s)", nm, w->fd, w->a1, a);
            return;
        }
        /* fall through */
    case OBS_RECV:
        snprintf(buf, n, "%s(%d, %" PRId64 ")", nm, w->fd, w->a1);
        return;
    default:
        snprintf(buf, n, "%s(%d)", nm, w->fd);
        return;
    }
}

void obs_format_optval(const obs_wire *w, int64_t v, int64_t v2, char *buf,
                       size_t n)
{
    if (w->a1 == SOL_SOCKET && w->a2 == SO_LINGER)
        snprintf(buf, n, "{%" PRId64 ", %" PRId64 "}", v, v2);
    else if (w->a1 == SOL_SOCKET && w->a2 == SO_ERROR && v > 0 && v < 4096)
        snprintf(buf, n, "%s", sm_err_name(sm_sys_err_of_errno((int)v)));
    else if (port_range(w))
        snprintf(buf, n, "{%u, %u}", (unsigned)((uint32_t)v & 0xffff),
                 (unsigned)((uint32_t)v >> 16));
    else
        snprintf(buf, n, "%" PRId64, v);
}

void obs_format_observed(const obs_event *e, char *buf, size_t n)
{
    const obs_wire *w = &e->w;
    if (w->ret < 0) {
        sm_err er = sm_sys_err_of_errno(w->err);
        snprintf(buf, n, "%s", sm_err_name(er));
    } else if (w->call == OBS_RECV && w->ret == 0) {
        snprintf(buf, n, "eof");
    } else if (w->call == OBS_RECV || w->call == OBS_SEND) {
        snprintf(buf, n, "ok %" PRId64, w->ret);
    } else if (w->call == OBS_ACCEPT || w->call == OBS_SOCKET) {
        snprintf(buf, n, "ok (fd %" PRId64 ")", w->ret);
    } else if (w->call == OBS_GETSOCKOPT) {
        char v[40];
        obs_format_optval(w, w->a3, w->a4, v, sizeof v);
        snprintf(buf, n, "ok %s", v);
    } else {
        snprintf(buf, n, "ok");
    }
}

/* A rule's parts as the report shows them: its reason, its source and
 * how sure the model is (the rule record's own tag). */
typedef struct rule_parts {
    const char *why;
    const char *source;
    const char *confidence;
    const char *id;
} rule_parts;

static void rule_split(const sm_rule *rule, rule_parts *p)
{
    p->why = rule ? rule->text : "";
    p->source = rule ? rule->source : ""; /* "": the record cites none */
    p->confidence = rule ? sm_confidence_name(rule->confidence) : "unverified";
    p->id = rule ? rule->id : "";
}

static void predicted_text(const sm_profile *pf, const obs_event *e,
                           const obs_div *d, char *buf, size_t n)
{
    const sm_result *r = &d->pred;
    char v[40];
    if (r->err == SM_OK && d->has_value) {
        obs_format_optval(&e->w, d->value, d->value2, v, sizeof v);
        snprintf(buf, n, "ok %s", v);
    } else if (r->err != SM_OK)
        snprintf(buf, n, "%s", sm_profile_err_name(pf, r->err));
    else if (e->w.call == OBS_RECV && r->bytes == 0)
        snprintf(buf, n, "eof");
    else
        snprintf(buf, n, "ok");
}

/* What the report says of one divergence. */
typedef struct div_texts {
    char call[160], obs[48], pred[48];
    rule_parts rp;
} div_texts;

static void div_describe(const sm_profile *pf, const obs_event *e,
                         const obs_div *d, div_texts *t)
{
    obs_format_call(e, t->call, sizeof t->call);
    obs_format_observed(e, t->obs, sizeof t->obs);
    predicted_text(pf, e, d, t->pred, sizeof t->pred);
    rule_split(d->pred.rule, &t->rp);
}

static double rel_secs(const obs_result *r, const obs_event *e)
{
    uint64_t t0 = r->log->n ? r->log->ev[0].w.t_ns : 0;
    return (double)(e->w.t_ns - t0) / 1e9;
}

void obs_report_text(FILE *out, const obs_result *r)
{
    const obs_log *log = r->log;
    fprintf(out, "%s: %zu socket calls compared, %zu processes, %zu threads; "
                 "%zu profiles\n",
            log->command ? log->command : log->source ? log->source : "program",
            r->n_calls, r->n_procs, r->n_threads, r->n_prof);
    for (size_t k = 0; k < r->n_prof; k++) {
        const obs_profile_result *pr = &r->prof[k];
        const char *pn = sm_profile_name(pr->profile);
        if (!pr->n_divs) {
            fprintf(out, "\n%s: same results as observed\n", pn);
            continue;
        }
        fprintf(out, "\n%s: %zu call%s would differ (%zu after divergence)\n",
                pn, pr->n_divs, pr->n_divs == 1 ? "" : "s",
                pr->n_divs - pr->n_first);
        for (size_t i = 0; i < pr->n_divs; i++) {
            const obs_div *d = &pr->divs[i];
            const obs_event *e = &log->ev[d->ev];
            div_texts t;
            div_describe(pr->profile, e, d, &t);
            fprintf(out, "  %8.3fs  %s[%u]", rel_secs(r, e),
                    r->ev_proc[d->ev] ? r->ev_proc[d->ev] : "?", e->w.pid);
            if (log->source)
                fprintf(out, " %s:%u", log->source, e->line);
            fprintf(out, "  %s%s\n", t.call, d->after ? "  (after divergence)" : "");
            fprintf(out, "      observed:   %s\n      predicted:  %s\n", t.obs, t.pred);
            fprintf(out, "      rule:       %s\n", t.rp.why[0] ? t.rp.why : "(none)");
            if (t.rp.id[0])
                fprintf(out, "      rule ID:    %s\n", t.rp.id);
            fprintf(out, "      source:     %s (confidence: %s)\n",
                    t.rp.source[0] ? t.rp.source : "not given", t.rp.confidence);
        }
    }
}

void obs_report_json(FILE *out, const obs_result *r)
{
    const obs_log *log = r->log;
    fprintf(out, "{\"format\": \"sockmodel-exec/1\", \"command\": ");
    smu_json_str(out, log->command ? log->command : "");
    fprintf(out, ", \"log\": ");
    smu_json_str(out, log->source);
    fprintf(out, ", \"calls\": %zu, \"processes\": %zu, \"threads\": %zu, "
                 "\"diverges\": %s,\n \"profiles\": [",
            r->n_calls, r->n_procs, r->n_threads,
            obs_result_diverges(r) ? "true" : "false");
    for (size_t k = 0; k < r->n_prof; k++) {
        const obs_profile_result *pr = &r->prof[k];
        fprintf(out, "%s\n  {\"profile\": ", k ? "," : "");
        smu_json_str(out, sm_profile_name(pr->profile));
        fprintf(out, ", \"divergences\": [");
        for (size_t i = 0; i < pr->n_divs; i++) {
            const obs_div *d = &pr->divs[i];
            const obs_event *e = &log->ev[d->ev];
            div_texts t;
            div_describe(pr->profile, e, d, &t);
            fprintf(out, "%s\n    {\"time\": %.6f, \"process\": ", i ? "," : "",
                    rel_secs(r, e));
            smu_json_str(out, r->ev_proc[d->ev] ? r->ev_proc[d->ev] : "");
            fprintf(out, ", \"pid\": %u, \"tid\": %u, ", e->w.pid, e->w.tid);
            if (log->source)
                fprintf(out, "\"line\": %u, ", e->line);
            fprintf(out, "\"call\": ");
            smu_json_str(out, t.call);
            fprintf(out, ", \"observed\": ");
            smu_json_str(out, t.obs);
            fprintf(out, ", \"predicted\": ");
            smu_json_str(out, t.pred);
            fprintf(out, ", \"after_divergence\": %s, \"rule\": ",
                    d->after ? "true" : "false");
            char line[1024];
            smu_json_str(out, sm_rule_line(d->pred.rule, line, sizeof line));
            fprintf(out, ", \"source\": ");
            smu_json_str(out, t.rp.source);
            fprintf(out, ", \"confidence\": ");
            smu_json_str(out, t.rp.confidence);
            fprintf(out, ", \"rule_id\": ");
            smu_json_str(out, t.rp.id[0] ? t.rp.id : NULL);
            fputc('}', out);
        }
        fprintf(out, "%s]}", pr->n_divs ? "\n  " : "");
    }
    fprintf(out, "\n]}\n");
}
