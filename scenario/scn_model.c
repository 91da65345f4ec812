/*
 * scn_model.c - the model backend: a scenario column run in a fresh engine
 * world (engine/sm.h) under the column's OS profile.
 *
 * The world has the host "local" (127.0.0.1, ::1, 192.0.2.1, 192.0.2.2,
 * 2001:db8::1, 2001:db8::2), and each call goes to the engine as the
 * process (host, "PROC@USER") of the user the runner names: the engine
 * keys processes by (host, name), the runner adds the user.  The hooks
 * (--pcap, --svg) watch this world.
 *
 * A host declared with `os PROFILE` is pinned to that profile when the
 * world first makes it (sm_host_set_profile): a mixed-OS world, where the
 * column's profile runs every other host.  A call made on a pinned host
 * says so (scn_call.os), so the reports name its errors and rules by the
 * OS that decided.
 */
#include <stdlib.h>
#include <string.h>

#include "scn_backend.h"

/* ---- rule records: what this file decides, with ID, source and tag ---- */

static const sm_rule r_scenario_delay = SM_RULE("sm.scenario.delay", S,
    "the network's one-way delay changed",
    "");

struct scn_exec {
    const scn_file *f;
    const sm_profile *p;
    sm_world *w;
    sm_id host;
    sm_id *socks;        /* engine id of each scenario socket, or SM_NONE */
    uint64_t delay_ns, loop_delay_ns;
    scn_arena *arena;
    const scn_hooks *hooks;
    scn_buf tmp;
    bool *pinned;        /* by engine host id: declared with `os` */
    size_t npinned;
    /* proc_of()'s last answer: (process, user) names on host -> process */
    const char *pc_proc, *pc_user;
    sm_id pc_host, pc_id;
    sm_event *ev; /* the engine's decisions since the last step ended */
    size_t nev, evcap;
};

/* The event tap: keeps the decisions until the step ends. */
static void note_event(void *ctx, const sm_event *e)
{
    scn_exec *x = ctx;
    if (x->nev == x->evcap) {
        x->evcap = x->evcap ? 2 * x->evcap : 8;
        x->ev = scn_xrealloc(x->ev, x->evcap * sizeof *x->ev);
    }
    x->ev[x->nev++] = *e;
}

static const char *const local_addrs[] = {
    "192.0.2.1", "192.0.2.2", "2001:db8::1", "2001:db8::2",
};

static scn_exec *model_open(const scn_open_args *a, scn_buf *why)
{
    scn_exec *x = scn_xmalloc(sizeof *x);
    memset(x, 0, sizeof *x);
    x->f = a->file;
    x->p = a->col->profile;
    x->arena = a->arena;
    x->hooks = a->hooks;
    x->socks = scn_xmalloc((x->f->n_socks + 1) * sizeof *x->socks);
    for (size_t i = 0; i < x->f->n_socks; i++)
        x->socks[i] = SM_NONE;
    x->w = sm_world_new(x->p, a->seed);
    if (!x->w) {
        scn_buf_printf(why, "out of memory");
        free(x->socks);
        free(x);
        return NULL;
    }
    sm_world_set_event_tap(x->w, note_event, x);
    x->delay_ns = 1000000;
    x->loop_delay_ns = 50000;
    if (x->hooks && x->hooks->world_created)
        x->hooks->world_created(x->hooks->ctx, x->w, x->p);
    x->host = sm_host_add(x->w, "local");
    for (size_t i = 0; i < sizeof local_addrs / sizeof local_addrs[0]; i++) {
        sm_addr ad;
        if (sm_addr_parse(local_addrs[i], strlen(local_addrs[i]), &ad))
            sm_host_add_addr(x->w, x->host, &ad);
    }
    return x;
}

/* A world that broke (out of memory, a cap, a profile that broke its
 * contract) ends the column in an error: the results it gave from then on
 * are not the OS's. */
static const char *model_close(scn_exec *x)
{
    if (x->hooks && x->hooks->world_done)
        x->hooks->world_done(x->hooks->ctx, x->w, x->p);
    const char *broken = sm_world_broken(x->w, NULL);
    const char *fatal = broken ? scn_strndup(x->arena, broken, strlen(broken)) : NULL;
    sm_world_free(x->w);
    free(x->socks);
    free(x->pinned);
    free(x->ev);
    scn_buf_free(&x->tmp);
    free(x);
    return fatal;
}

/* ---- declarations ------------------------------------------------------ */

/* Host NAME, made (and pinned to os, when given) on first use.  The
 * parser pins a host where it is first declared, so a new host is pinned
 * before it has a process. */
static sm_id host_get(scn_exec *x, const char *name, const sm_profile *os)
{
    bool fresh = sm_host_find(x->w, name) == SM_NONE;
    sm_id h = sm_host_add(x->w, name);
    if (h == SM_NONE || !fresh || !os)
        return h;
    if (!sm_host_set_profile(x->w, h, os))
        return h;
    if (h >= x->npinned) {
        size_t n = (size_t)h + 8;
        x->pinned = scn_xrealloc(x->pinned, n * sizeof *x->pinned);
        memset(x->pinned + x->npinned, 0, (n - x->npinned) * sizeof *x->pinned);
        x->npinned = n;
    }
    x->pinned[h] = true;
    return h;
}

static void model_host(scn_exec *x, const scn_stmt *st)
{
    sm_id h = host_get(x, st->name, st->os);
    for (size_t i = 0; i < st->n_addrs; i++)
        sm_host_add_addr(x->w, h, &st->addrs[i]);
    x->host = h;
}

/* The os a host NAME was declared with (the parser gives every
 * declaration of a pinned host the same one). */
static const sm_profile *declared_os(const scn_exec *x, const char *name)
{
    for (size_t i = 0; i < x->f->n_stmts; i++) {
        const scn_stmt *st = &x->f->stmts[i];
        if (st->kind == SCN_HOST && st->os && strcmp(st->name, name) == 0)
            return st->os;
    }
    return NULL;
}

/* The host may have been declared under a guard that left this profile
 * out: then it appears now, with its loopback addresses (and its os). */
static void model_on(scn_exec *x, const char *name)
{
    x->host = host_get(x, name, declared_os(x, name));
}

/* ---- calls ------------------------------------------------------------- */

static sm_id proc_of(scn_exec *x, const char *proc, const char *user)
{
    /* the same process as the last call's (a churn's every socket): no
     * name to build and look up; an exit forgets it (model_exit) */
    if (x->pc_proc == proc && x->pc_user == user && x->pc_host == x->host && proc)
        return x->pc_id;
    x->tmp.len = 0;
    scn_buf_printf(&x->tmp, "%s@%s", proc, user);
    sm_id id = sm_proc_get(x->w, x->host, x->tmp.s, sm_user_get(x->w, user));
    x->pc_proc = id != SM_NONE ? proc : NULL;
    x->pc_user = user;
    x->pc_host = x->host;
    x->pc_id = id;
    return id;
}

/* The result, with the name of the socket it conflicted with, and the
 * pinned host's profile when the call ran on one (the socket's host, or
 * the current host for socket() and exit). */
static sm_result done(scn_exec *x, scn_call *c, sm_result r)
{
    if (r.culprit != SM_NONE) {
        const char *name = sm_sock_name(x->w, r.culprit);
        c->culprit = scn_strndup(x->arena, name, strlen(name));
    }
    sm_id h = x->host;
    if (c->st->sock >= 0 && x->socks[c->st->sock] != SM_NONE)
        h = sm_sock_host(x->w, x->socks[c->st->sock]);
    if (h != SM_NONE && h < x->npinned && x->pinned[h]) {
        const char *name = sm_host_name(x->w, h);
        c->os = sm_host_profile(x->w, h);
        c->os_host = scn_strndup(x->arena, name, strlen(name));
    }
    return r;
}

static sm_result model_sysctl(scn_exec *x, scn_call *c)
{
    const scn_stmt *st = c->st;
    const char *msg = sm_sysctl(x->w, x->host, st->name, st->vals, st->n_vals);
    if (msg)
        c->fail = msg;
    return done(x, c, scn_result_ok(NULL));
}

static sm_result model_socket(scn_exec *x, scn_call *c)
{
    const scn_stmt *st = c->st;
    sm_id id = SM_NONE;
    sm_result r = sm_socket(x->w, proc_of(x, c->proc, c->user), st->proto,
                            st->family, x->f->socks[st->new_sock], &id);
    if (r.err == SM_OK)
        x->socks[st->new_sock] = id;
    return done(x, c, r);
}

#define SOCK(x, c) ((x)->socks[(c)->st->sock])

static sm_result model_setsockopt(scn_exec *x, scn_call *c)
{
    const scn_stmt *st = c->st;
    return done(x, c, sm_setsockopt(x->w, SOCK(x, c), st->opt, st->v1, st->v2));
}

static sm_result model_bind(scn_exec *x, scn_call *c)
{
    return done(x, c, sm_bind(x->w, SOCK(x, c), &c->st->ep));
}

static sm_result model_listen(scn_exec *x, scn_call *c)
{
    return done(x, c, sm_listen(x->w, SOCK(x, c), c->st->v1));
}

static sm_result model_connect(scn_exec *x, scn_call *c)
{
    if (c->st->unspec)
        return done(x, c, sm_connect_unspec(x->w, SOCK(x, c)));
    return done(x, c, sm_connect(x->w, SOCK(x, c), &c->st->ep));
}

/* The accepted socket belongs to the listener's process. */
static sm_result model_accept(scn_exec *x, scn_call *c)
{
    const scn_stmt *st = c->st;
    sm_id out = SM_NONE;
    sm_result r = sm_accept(x->w, SOCK(x, c), x->f->socks[st->new_sock], &out);
    if (r.err == SM_OK)
        x->socks[st->new_sock] = out;
    return done(x, c, r);
}

static sm_result model_send(scn_exec *x, scn_call *c)
{
    return done(x, c, sm_send(x->w, SOCK(x, c), c->st->n));
}

static sm_result model_recv(scn_exec *x, scn_call *c)
{
    return done(x, c, sm_recv(x->w, SOCK(x, c), c->st->n));
}

static sm_result model_sendto(scn_exec *x, scn_call *c)
{
    return done(x, c, sm_sendto(x->w, SOCK(x, c), &c->st->ep, c->st->n));
}

static sm_result model_shutdown(scn_exec *x, scn_call *c)
{
    return done(x, c, sm_shutdown(x->w, SOCK(x, c), c->st->rd, c->st->wr));
}

static sm_result model_close_sock(scn_exec *x, scn_call *c)
{
    return done(x, c, sm_close(x->w, SOCK(x, c)));
}

static sm_result model_exit(scn_exec *x, scn_call *c)
{
    sm_result r = sm_proc_exit(x->w, proc_of(x, c->proc, c->user));
    x->pc_proc = NULL; /* a later call of that name is another process */
    return done(x, c, r);
}

static sm_result model_advance(scn_exec *x, scn_call *c)
{
    sm_advance(x->w, c->st->n);
    return scn_result_ok(NULL);
}

static sm_result model_delay(scn_exec *x, scn_call *c)
{
    if (c->st->rd)
        x->loop_delay_ns = c->st->n;
    else
        x->delay_ns = c->st->n;
    sm_world_set_delay(x->w, x->delay_ns, x->loop_delay_ns);
    sm_result r = scn_result_ok(NULL);
    r.rule = &r_scenario_delay;
    return r;
}

/* ---- state ------------------------------------------------------------- */

static sm_tcp_state model_state(scn_exec *x, int sock)
{
    return sm_sock_state(x->w, x->socks[sock]);
}

static bool model_local(scn_exec *x, int sock, sm_endpoint *out)
{
    return sm_sock_local(x->w, x->socks[sock], out);
}

static int model_pending(scn_exec *x, int sock)
{
    return sm_sock_pending(x->w, x->socks[sock]);
}

static sm_err model_take_error(scn_exec *x, int sock)
{
    return sm_sock_take_error(x->w, x->socks[sock]);
}

static bool model_peer(scn_exec *x, int sock, sm_endpoint *out)
{
    return sm_sock_remote(x->w, x->socks[sock], out);
}

static unsigned model_poll(scn_exec *x, int sock)
{
    return sm_sock_poll(x->w, x->socks[sock]);
}

/* "socket c: state LISTEN, bound to 0.0.0.0:80" */
static void model_describe(scn_exec *x, int sock, const char *name,
                           scn_buf *out)
{
    sm_endpoint ep;
    char buf[SM_EP_STRLEN];
    sm_id s = x->socks[sock];
    scn_buf_printf(out, "socket %s: state %s, ", name,
                   sm_state_name(sm_sock_state(x->w, s)));
    if (sm_sock_local(x->w, s, &ep)) {
        sm_endpoint_format(&ep, buf, sizeof buf);
        scn_buf_printf(out, "bound to %s", buf);
    } else {
        scn_buf_puts(out, "not bound");
    }
}

static const scn_event *model_step_events(scn_exec *x, size_t *n)
{
    *n = x->nev;
    if (!x->nev)
        return NULL;
    scn_event *e = scn_alloc(x->arena, x->nev * sizeof *e);
    {
        for (size_t i = 0; i < x->nev; i++) {
            const char *name = x->ev[i].sock != SM_NONE ? sm_sock_name(x->w, x->ev[i].sock)
                                                        : NULL;
            e[i].kind = x->ev[i].kind;
            e[i].time_ns = x->ev[i].time_ns;
            e[i].sock = name && name[0] ? scn_strndup(x->arena, name, strlen(name)) : NULL;
            e[i].value = x->ev[i].value;
            e[i].rule = x->ev[i].rule;
        }
        x->nev = 0;
    }
    return e;
}

static void model_step_done(scn_exec *x, const scn_stmt *st, const scn_cell *cell)
{
    if (x->hooks && x->hooks->step_done)
        x->hooks->step_done(x->hooks->ctx, x->w, x->p, st, cell, x->socks,
                            x->f->n_socks);
}

const scn_backend scn_model_backend = {
    .no_world = NULL,
    .open = model_open,
    .close = model_close,
    .host = model_host,
    .on = model_on,
    .sysctl = model_sysctl,
    .socket = model_socket,
    .setsockopt = model_setsockopt,
    .bind = model_bind,
    .listen = model_listen,
    .connect = model_connect,
    .accept = model_accept,
    .send = model_send,
    .recv = model_recv,
    .sendto = model_sendto,
    .recvfrom = model_recv,
    .shutdown = model_shutdown,
    .close_sock = model_close_sock,
    .exit = model_exit,
    .advance = model_advance,
    .delay = model_delay,
    .state = model_state,
    .local = model_local,
    .pending = model_pending,
    .take_error = model_take_error,
    .peer = model_peer,
    .poll = model_poll,
    .describe = model_describe,
    .step_done = model_step_done,
    .step_events = model_step_events,
};

/* Every rule record of this file (docs/rules.md). */
static const sm_rule *const rules_of_file[] = {
    &r_scenario_delay,
};
const sm_rule_set sm__rules_scn_model = {"scenario/scn_model.c", rules_of_file,
    sizeof rules_of_file / sizeof rules_of_file[0]};
