/*
 * scn_run.c - runs a parsed scenario: the one interpreter of its
 * statements, once per selected column.
 *
 * Each column opens a fresh world on its backend (scn_backend.h: the model
 * for every OS profile, or the real kernel for `host`), and the statements
 * run in order; each step records one cell per column: the call's result
 * (error, rule, culprit, port), the value an expect statement observed, or
 * why the step could not be done.  Expectations are checked here, so the
 * reports only print.
 *
 * A process is identified by (host, name, user): "as bob" followed by a
 * call in process "main" acts in bob's own "main", so calls are always
 * made by the user the scenario names.  "exit NAME" exits the NAME process
 * of the user who last created a socket in a process of that name on the
 * current host (the current user if none did).
 */
#include <stdlib.h>
#include <string.h>

#include "scn_backend.h"

/* ---- rule records: what this file decides, with ID, source and tag ---- */

static const sm_rule r_scenario_socket_not_modelled = SM_RULE("sm.scenario.socket-not-modelled", S,
    "not modelled yet: the step that creates this socket is not modelled "
    "yet",
    "");
static const sm_rule r_scenario_socket_not_created = SM_RULE("sm.scenario.socket-not-created", S,
    "the socket was not created under this profile (its socket or accept "
    "step failed or was skipped): a bad descriptor",
    "");
static const sm_rule r_scenario_no_datagrams = SM_RULE("sm.scenario.no-datagram-calls", S,
    "not modelled yet: this backend has no datagram calls",
    "");

typedef struct runctx {
    scn_result *res;
    const scn_file *f;
    const scn_column *col;
    size_t pi;          /* column index */
    const scn_backend *b;
    scn_exec *x;
    bool *made;         /* the socket was created under this column */
    bool *unmodelled;   /* the step that makes it is not modelled yet */
    uint16_t *last_port; /* the port each socket holds or held last, or 0 */
    bool *port_named;   /* some `$S` names the socket's port: it is noted */
    bool *closed;       /* a `close S` succeeded: the descriptor is gone */
    const char *host;   /* current host's name */
    const char *user;
    const char *proc;
    const char *skip;   /* set: every later step is skipped with it */
    scn_map last_user;  /* "HOST/PROC" -> index in users[] */
    const char **users; /* user names by index */
    scn_map user_ids;   /* user name -> index */
    size_t n_users, users_cap;
    scn_buf tmp;
    const scn_hooks *hooks;
    /* the last note_user() (the same strings again change nothing) */
    const char *nu_host, *nu_proc, *nu_user;
} runctx;

/* ---- processes --------------------------------------------------------- */

static size_t user_index(runctx *c, const char *name)
{
    long i = scn_map_find(&c->user_ids, name, strlen(name));
    if (i >= 0)
        return (size_t)i;
    if (c->n_users == c->users_cap) {
        c->users_cap = c->users_cap ? c->users_cap * 2 : 8;
        c->users = scn_xrealloc(c->users, c->users_cap * sizeof *c->users);
    }
    c->users[c->n_users] = name;
    scn_map_put(&c->user_ids, name, c->n_users);
    return c->n_users++;
}

static const char *proc_key(runctx *c, const char *proc)
{
    c->tmp.len = 0;
    scn_buf_printf(&c->tmp, "%s/%s", c->host, proc);
    return c->tmp.s;
}

/* USER made a socket in (current host, PROC), or PROC exits as USER's. */
static void note_user(runctx *c, const char *proc, const char *user)
{
    /* a churn makes every socket in the same process: the key and the
     * lookups were most of what a socket statement cost outside the
     * engine */
    if (c->nu_proc == proc && c->nu_user == user && c->nu_host == c->host)
        return;
    scn_map_put(&c->last_user, proc_key(c, proc), user_index(c, user));
    c->nu_host = c->host;
    c->nu_proc = proc;
    c->nu_user = user;
}

/* The user whose process NAME an `exit NAME` means. */
static const char *exit_user(runctx *c, const char *name)
{
    const char *key = proc_key(c, name);
    long u = scn_map_find(&c->last_user, key, strlen(key));
    return u >= 0 ? c->users[u] : c->user;
}

/* ---- results ----------------------------------------------------------- */

/* A call on a socket that does not exist under this column: what a
 * program would see with the -1 its socket() or accept() returned; or,
 * when that step is not modelled yet, "not modelled" again. */
static sm_result no_socket(const runctx *c, int sock)
{
    sm_result r = scn_result_ok(NULL);
    if (sock >= 0 && c->unmodelled[sock]) {
        r.err = SM_ENOSYS;
        r.rule = &r_scenario_socket_not_modelled;
        return r;
    }
    r.err = SM_EBADF;
    r.rule = &r_scenario_socket_not_created;
    return r;
}

static void set_failed(runctx *c, scn_cell *cell, const char *msg)
{
    cell->kind = SCN_CELL_FAILED;
    cell->message = scn_strndup(&c->res->arena, msg, strlen(msg));
    cell->has_expectation = true;
    cell->expected = "ok";
    cell->met = false;
}

const char *scn_expected_outcome(const scn_stmt *st, const char *profile)
{
    for (size_t i = 0; i < st->n_clauses; i++) {
        const scn_clause *cl = &st->clauses[i];
        if (cl->pats.n == 0 || scn_patlist_match(&cl->pats, profile))
            return cl->outcome;
    }
    return NULL;
}

static void judge_call(runctx *c, const scn_stmt *st, scn_cell *cell)
{
    const char *want = scn_expected_outcome(st, c->col->name);
    if (!want)
        return;
    cell->has_expectation = true;
    cell->expected = want;
    if (cell->r.err == SM_ENOSYS)
        cell->met = false;
    else if (strcmp(want, "ok") == 0)
        cell->met = cell->r.err == SM_OK;
    else if (strcmp(want, "error") == 0) /* any failure */
        cell->met = cell->r.err != SM_OK;
    else if (strcmp(want, "eof") == 0) /* a read of 0 bytes */
        cell->met = cell->r.err == SM_OK && cell->r.bytes == 0;
    else if (strncmp(want, "ok ", 3) == 0) /* a read of exactly N bytes */
        cell->met = cell->r.err == SM_OK &&
                    cell->r.bytes == strtoull(want + 3, NULL, 10);
    else
        cell->met = cell->r.err != SM_OK &&
                    sm_profile_err_matches(cell->os ? cell->os : c->col->profile,
                                           cell->r.err, want);
}

/* ---- steps ------------------------------------------------------------- */

typedef sm_result (*sock_op)(scn_exec *x, scn_call *call);

static sock_op op_of(const scn_backend *b, scn_kind k)
{
    switch (k) {
    case SCN_SETSOCKOPT: return b->setsockopt;
    case SCN_BIND: return b->bind;
    case SCN_LISTEN: return b->listen;
    case SCN_CONNECT: return b->connect;
    case SCN_ACCEPT: return b->accept;
    case SCN_SEND: return b->send;
    case SCN_RECV: return b->recv;
    case SCN_SENDTO: return b->sendto;
    case SCN_RECVFROM: return b->recvfrom;
    case SCN_SHUTDOWN: return b->shutdown;
    case SCN_CLOSE: return b->close_sock;
    default: return NULL;
    }
}

/* A new scenario socket (socket, accept): created or not, and whether the
 * step that makes it is modelled. */
static void note_new(runctx *c, int sock, sm_result r)
{
    c->made[sock] = r.err == SM_OK;
    c->unmodelled[sock] = r.err == SM_ENOSYS;
}

static sm_result do_call(runctx *c, const scn_stmt *st, scn_call *call)
{
    const scn_backend *b = c->b;
    sm_result r;
    switch (st->kind) {
    case SCN_SYSCTL:
        return b->sysctl(c->x, call);
    case SCN_SOCKET:
        note_user(c, c->proc, c->user);
        r = b->socket(c->x, call);
        note_new(c, st->new_sock, r);
        return r;
    case SCN_EXIT:
        if (st->name) {
            call->proc = st->name;
            call->user = exit_user(c, st->name);
        }
        note_user(c, call->proc, call->user);
        return b->exit(c->x, call);
    case SCN_WAIT:
        return b->advance(c->x, call);
    case SCN_DELAY:
        return b->delay(c->x, call);
    default:
        break;
    }
    sock_op op = op_of(b, st->kind);
    if (!op && (st->kind == SCN_SENDTO || st->kind == SCN_RECVFROM)) {
        r = scn_result_ok(&r_scenario_no_datagrams);
        r.err = SM_ENOSYS;
        return r;
    }
    if (!op)
        return scn_result_ok(NULL);
    if (st->sock < 0 || !c->made[st->sock]) {
        r = no_socket(c, st->sock);
        if (st->kind == SCN_ACCEPT)
            c->unmodelled[st->new_sock] = r.err == SM_ENOSYS;
        return r;
    }
    r = op(c->x, call);
    if (st->kind == SCN_ACCEPT) {
        note_new(c, st->new_sock, r);
        if (r.err == SM_OK && call->caller_owns)
            note_user(c, c->proc, c->user);
    }
    return r;
}

static void run_call(runctx *c, const scn_stmt *st, scn_cell *cell)
{
    scn_call call;
    memset(&call, 0, sizeof call);
    call.st = st;
    call.user = c->user;
    call.proc = c->proc;
    sm_result r = do_call(c, st, &call);
    if (call.skip) {
        c->skip = call.skip;
        cell->kind = SCN_CELL_SKIPPED;
        cell->message = call.skip;
        return;
    }
    if (call.fail) {
        set_failed(c, cell, call.fail);
        return;
    }
    if (st->kind == SCN_CLOSE && r.err == SM_OK && st->sock >= 0)
        c->closed[st->sock] = true;
    cell->kind = SCN_CELL_CALL;
    cell->r = r;
    cell->counted = st->kind == SCN_RECV || st->kind == SCN_RECVFROM;
    cell->culprit = call.culprit;
    cell->os = call.os;
    cell->os_host = call.os_host;
    judge_call(c, st, cell);
}

/* ---- expect statements ------------------------------------------------- */

/* Context for a failed check. */
static void describe_sock(runctx *c, const scn_stmt *st)
{
    const char *name = c->f->socks[st->sock];
    c->tmp.len = 0;
    if (c->made[st->sock])
        c->b->describe(c->x, st->sock, name, &c->tmp);
    else if (c->unmodelled[st->sock])
        scn_buf_printf(&c->tmp, "not modelled yet: the step that creates "
                                "socket %s is not modelled yet", name);
    else
        scn_buf_printf(&c->tmp, "socket %s was not created under this profile "
                                "(its socket or accept step failed or was "
                                "skipped)", name);
}

static void run_check(runctx *c, const scn_stmt *st, scn_cell *cell)
{
    bool made = st->sock >= 0 && c->made[st->sock];
    /* SO_ERROR, getpeername() and poll() need the descriptor: after a
     * close they see none (EBADF), whatever its connection does. */
    bool gone = made && c->closed[st->sock] &&
                (st->kind == SCN_EXPECT_ERROR || st->kind == SCN_EXPECT_PEER ||
                 st->kind == SCN_EXPECT_READABLE || st->kind == SCN_EXPECT_WRITABLE);
    if (gone)
        made = false;
    char got[SM_EP_STRLEN + 16], want[SM_EP_STRLEN + 16];
    sm_endpoint ep;
    if (st->kind == SCN_EXPECT_STATE) {
        sm_tcp_state now = made ? c->b->state(c->x, st->sock) : SM_CLOSED;
        snprintf(got, sizeof got, "%s", sm_state_name(now));
        snprintf(want, sizeof want, "%s", sm_state_name(st->state));
    } else if (st->kind == SCN_EXPECT_LOCAL) {
        if (made && c->b->local(c->x, st->sock, &ep))
            sm_endpoint_format(&ep, got, sizeof got);
        else
            snprintf(got, sizeof got, "unbound");
        sm_endpoint_format(&st->ep, want, sizeof want);
    } else if (st->kind == SCN_EXPECT_PENDING) {
        int n = made ? c->b->pending(c->x, st->sock) : 0;
        snprintf(got, sizeof got, "%d", n);
        snprintf(want, sizeof want, "%llu", (unsigned long long)st->n);
    } else if (st->kind == SCN_EXPECT_ERROR) {
        /* getsockopt(SO_ERROR): read and cleared; named as the OS names it */
        sm_err e = made && c->b->take_error ? c->b->take_error(c->x, st->sock)
                   : made                   ? SM_ENOSYS
                                            : SM_EBADF;
        snprintf(got, sizeof got, "%s",
                 e == SM_OK ? "none"
                 : e == SM_ENOSYS ? "n/a"
                                  : sm_profile_err_name(c->col->profile, e));
        snprintf(want, sizeof want, "%s", st->name);
        if (e != SM_OK && e != SM_ENOSYS &&
            sm_profile_err_matches(c->col->profile, e, st->name))
            snprintf(want, sizeof want, "%s", got); /* the other name */
    } else if (st->kind == SCN_EXPECT_PEER) {
        /* getpeername(): ENOTCONN without a peer */
        if (made && c->b->peer && c->b->peer(c->x, st->sock, &ep))
            sm_endpoint_format(&ep, got, sizeof got);
        else
            snprintf(got, sizeof got, "%s",
                     made && !c->b->peer ? "n/a"
                     : sm_profile_err_name(c->col->profile, SM_ENOTCONN));
        sm_endpoint_format(&st->ep, want, sizeof want);
    } else {
        /* poll() without waiting: POLLIN / POLLOUT */
        unsigned bit = st->kind == SCN_EXPECT_READABLE ? SM_POLL_IN : SM_POLL_OUT;
        unsigned ev = made && c->b->poll ? c->b->poll(c->x, st->sock) : 0;
        snprintf(got, sizeof got, "%s",
                 made && !c->b->poll ? "n/a" : (ev & bit) ? "yes" : "no");
        snprintf(want, sizeof want, "%s", st->n ? "yes" : "no");
    }
    if (!made && c->unmodelled[st->sock])
        snprintf(got, sizeof got, "n/a");
    if (gone)
        snprintf(got, sizeof got, "%s", sm_profile_err_name(c->col->profile, SM_EBADF));
    cell->kind = SCN_CELL_CHECK;
    cell->r = scn_result_ok(NULL);
    cell->observed = scn_strndup(&c->res->arena, got, strlen(got));
    cell->expected = scn_strndup(&c->res->arena, want, strlen(want));
    cell->has_expectation = true;
    cell->met = strcmp(got, want) == 0;
    if (!cell->met) {
        describe_sock(c, st);
        cell->message = scn_strndup(&c->res->arena, c->tmp.s ? c->tmp.s : "",
                                    c->tmp.len);
    }
}

/* ---- declarations ------------------------------------------------------ */

static void run_decl(runctx *c, const scn_stmt *st)
{
    switch (st->kind) {
    case SCN_HOST:
        c->b->host(c->x, st);
        c->host = st->name;
        break;
    case SCN_ON:
        c->b->on(c->x, st->name);
        c->host = st->name;
        break;
    case SCN_AS:
        c->user = st->name;
        break;
    case SCN_PROC:
        c->proc = st->name;
        break;
    default:
        break;
    }
}

/* ---- the loop ---------------------------------------------------------- */

/* Notes the port socket SOCK holds now (a `$SOCK` reference reads it). */
static void note_port(runctx *c, int sock)
{
    sm_endpoint ep;
    if (sock >= 0 && c->port_named[sock] && c->made[sock] &&
        c->b->local(c->x, sock, &ep) && ep.port)
        c->last_port[sock] = ep.port;
}

/* `$S`: the port S holds now, else the one it held last; 0: never had
 * one. */
static uint16_t ref_port(runctx *c, int sock)
{
    note_port(c, sock);
    return c->last_port[sock];
}

static void run_step(runctx *c, const scn_stmt *st, scn_cell *cell)
{
    scn_stmt resolved;
    if (st->port_ref >= 0) {
        uint16_t port = ref_port(c, st->port_ref);
        if (port == 0) {
            c->tmp.len = 0;
            scn_buf_printf(&c->tmp, "socket %s never had a port under this "
                                    "profile: $%s names none",
                           c->f->socks[st->port_ref], c->f->socks[st->port_ref]);
            set_failed(c, cell, c->tmp.s);
            return;
        }
        resolved = *st;
        resolved.ep.port = port;
        st = &resolved;
    }
    if (scn_kind_is_check(st->kind))
        run_check(c, st, cell);
    else
        run_call(c, st, cell);
    note_port(c, st->sock);
    note_port(c, st->new_sock);
}

/* Records why column c->pi could not run (the first such reason). */
static void column_error(runctx *c, const char *why)
{
    c->res->status = 2;
    if (!c->res->error)
        c->res->error = scn_strndup(&c->res->arena, why, strlen(why));
}

static void run_column(runctx *c)
{
    scn_buf why = {0};
    scn_open_args a = {c->f, c->col, c->res->seed, &c->res->arena, c->hooks};
    c->x = c->b->open(&a, &why);
    if (!c->x) {
        column_error(c, why.s ? why.s : "the column could not start");
        scn_buf_free(&why);
        return;
    }
    scn_buf_free(&why);
    c->host = "local";
    c->user = "user";
    c->proc = "main";
    c->skip = NULL;
    c->nu_host = c->nu_proc = c->nu_user = NULL;
    for (size_t i = 0; i < c->f->n_socks; i++) {
        c->made[i] = false;
        c->unmodelled[i] = false;
        c->last_port[i] = 0;
        c->closed[i] = false;
    }
    size_t row = 0;
    for (size_t i = 0; i < c->f->n_stmts; i++) {
        const scn_stmt *st = &c->f->stmts[i];
        bool on = !st->guarded || scn_patlist_match(&st->guard, c->col->name);
        if (!scn_kind_is_step(st->kind)) {
            if (on)
                run_decl(c, st);
            continue;
        }
        scn_cell *cell = &c->res->rows[row++].cells[c->pi];
        if (c->skip) {
            cell->kind = SCN_CELL_SKIPPED;
            cell->message = c->skip;
        } else if (on) {
            run_step(c, st, cell);
            if (c->b->step_events)
                cell->events = c->b->step_events(c->x, &cell->n_events);
            if (c->b->step_done)
                c->b->step_done(c->x, st, cell);
        }
    }
    const char *fatal = c->b->close(c->x);
    c->x = NULL;
    if (fatal)
        column_error(c, fatal);
    scn_map_free(&c->last_user);
    scn_map_free(&c->user_ids);
    c->n_users = 0;
}

static void alloc_rows(scn_result *r)
{
    const scn_file *f = r->file;
    for (size_t i = 0; i < f->n_stmts; i++)
        r->n_rows += scn_kind_is_step(f->stmts[i].kind);
    r->rows = scn_xmalloc((r->n_rows + 1) * sizeof *r->rows);
    size_t ncells = r->n_rows * r->n_profiles;
    scn_cell *cells = scn_xcalloc(ncells + 1, sizeof *cells);
    r->cells = cells;
    for (size_t i = 0, row = 0; i < f->n_stmts; i++) {
        if (!scn_kind_is_step(f->stmts[i].kind))
            continue;
        r->rows[row].st = &f->stmts[i];
        r->rows[row].cells = cells + row * r->n_profiles;
        row++;
    }
}

static void count(scn_result *r)
{
    for (size_t i = 0; i < r->n_rows; i++) {
        for (size_t j = 0; j < r->n_profiles; j++) {
            const scn_cell *cell = &r->rows[i].cells[j];
            if (cell->kind == SCN_CELL_SKIPPED) {
                r->skipped++;
                continue;
            }
            r->outcomes++;
            if (cell->has_expectation && cell->met)
                r->passed++;
            else if (cell->has_expectation)
                r->failed++;
        }
    }
}

scn_result *scn_run_file(const scn_file *f, const scn_patlist *override,
                         uint64_t seed)
{
    return scn_run_file_hooks(f, override, seed, NULL);
}

static scn_result *run_file(const scn_file *f, const scn_patlist *override, uint64_t seed,
                            const scn_hooks *hooks)
{
    scn_result *r = scn_xmalloc(sizeof *r);
    memset(r, 0, sizeof *r);
    r->file = f;
    r->seed = seed;
    scn_column *cols;
    r->n_profiles = scn_select_columns(f, override, &cols);
    r->cols = cols;
    alloc_rows(r);
    runctx c;
    memset(&c, 0, sizeof c);
    c.res = r;
    c.f = f;
    c.hooks = hooks;
    c.made = scn_xmalloc((f->n_socks + 1) * sizeof *c.made);
    c.unmodelled = scn_xmalloc((f->n_socks + 1) * sizeof *c.unmodelled);
    c.last_port = scn_xmalloc((f->n_socks + 1) * sizeof *c.last_port);
    c.closed = scn_xmalloc((f->n_socks + 1) * sizeof *c.closed);
    /* only the ports a `$S` reads are noted (a getsockname per step) */
    c.port_named = scn_xcalloc(f->n_socks + 1, sizeof *c.port_named);
    for (size_t i = 0; i < f->n_stmts; i++)
        if (f->stmts[i].port_ref >= 0)
            c.port_named[f->stmts[i].port_ref] = true;
    for (size_t i = 0; i < r->n_profiles && r->status == 0; i++) {
        c.col = &r->cols[i];
        c.b = c.col->backend;
        c.pi = i;
        run_column(&c);
    }
    free(c.made);
    free(c.unmodelled);
    free(c.last_port);
    free(c.closed);
    free(c.port_named);
    free(c.users);
    scn_buf_free(&c.tmp);
    count(r);
    return r;
}

/* The result of a run that ran out of memory under the entry point's own
 * recovery point (what the run had built is abandoned): status 2. */
static scn_result oom_result = {.status = 2, .error = "out of memory"};

scn_result *scn_run_file_hooks(const scn_file *f, const scn_patlist *override,
                               uint64_t seed, const scn_hooks *hooks)
{
    if (!scn__oom_need())
        return run_file(f, override, seed, hooks);
    jmp_buf own;
    if (setjmp(own)) {
        scn_oom_point(NULL);
        oom_result.file = f;
        oom_result.seed = seed;
        return &oom_result;
    }
    scn_oom_point(&own);
    scn_result *r = run_file(f, override, seed, hooks);
    scn_oom_point(NULL);
    return r;
}

void scn_result_free(scn_result *r)
{
    if (!r || r == &oom_result)
        return;
    free(r->cells);
    free(r->rows);
    free((void *)r->cols);
    scn_arena_free(&r->arena);
    free(r);
}

/* Every rule record of this file (docs/rules.md). */
static const sm_rule *const rules_of_file[] = {
    &r_scenario_socket_not_modelled,
    &r_scenario_socket_not_created,
    &r_scenario_no_datagrams,
};
const sm_rule_set sm__rules_scn_run = {"scenario/scn_run.c", rules_of_file,
    sizeof rules_of_file / sizeof rules_of_file[0]};
