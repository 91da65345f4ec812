/*
 * scn_run.c - runs a parsed scenario under each selected OS profile.
 *
 * Each profile gets a fresh engine world (engine/sm.h) with the host
 * "local" (127.0.0.1, ::1, 192.0.2.1, 192.0.2.2, 2001:db8::1,
 * 2001:db8::2), the user "user" and the process "main".  The statements
 * run in order; each step records one cell per profile: the call's result
 * (error, rule, culprit, port), the value an expect statement observed, or
 * why the step could not be done.  Expectations are checked here, so the
 * reports only print.
 *
 * A process is identified by (host, name, user): "as bob" followed by a
 * call in process "main" acts in bob's own "main", so calls are always
 * made by the user the scenario names.  "exit NAME" exits the NAME process
 * of the user who last created a socket in a process of that name on the
 * current host (the current user if none did).
 *
 * The `host` pseudo profile (host_run.c) is selected only when the
 * patterns name it literally; its column is run with real system calls.
 */
#include <stdlib.h>
#include <string.h>

#include "host_run.h"
#include "scn.h"

typedef struct runctx {
    scn_result *res;
    const scn_file *f;
    const sm_profile *p;
    size_t pi;          /* column of p */
    sm_world *w;
    sm_id *socks;       /* engine id of each scenario socket, or SM_NONE */
    bool *unmodelled;   /* the step that makes it is not modelled yet */
    sm_id host;
    const char *user;
    const char *proc;
    scn_map last_user;  /* "HOST/PROC" -> index in users[] */
    const char **users; /* user names by index */
    scn_map user_ids;   /* user name -> index */
    size_t n_users, users_cap;
    scn_buf tmp;
    uint64_t delay_ns, loop_delay_ns;
    const scn_hooks *hooks;
} runctx;

static const char *const local_addrs[] = {
    "192.0.2.1", "192.0.2.2", "2001:db8::1", "2001:db8::2",
};

/* ---- profiles ---------------------------------------------------------- */

size_t scn_select_profiles(const scn_file *f, const scn_patlist *override,
                           const sm_profile ***out)
{
    const scn_patlist *sel = override;
    if (!sel && f && f->has_profile)
        sel = &f->profile;
    size_t n = 0, total = sm_profile_count();
    *out = scn_xmalloc((total + 1) * sizeof **out);
    for (size_t i = 0; i < total; i++) {
        const sm_profile *p = sm_profile_at(i);
        if (!sel || scn_patlist_match(sel, sm_profile_name(p)))
            (*out)[n++] = p;
    }
    if (sel && scn_patlist_names_host(sel))
        (*out)[n++] = &scn_host_profile;
    return n;
}

/* ---- world setup ------------------------------------------------------- */

static void world_init(runctx *c)
{
    c->w = sm_world_new(c->p, c->res->seed);
    c->delay_ns = 1000000;
    c->loop_delay_ns = 50000;
    if (c->hooks && c->hooks->world_created)
        c->hooks->world_created(c->hooks->ctx, c->w, c->p);
    c->host = sm_host_find(c->w, "local");
    if (c->host == SM_NONE)
        c->host = sm_host_add(c->w, "local");
    for (size_t i = 0; i < sizeof local_addrs / sizeof local_addrs[0]; i++) {
        sm_addr a;
        if (sm_addr_parse(local_addrs[i], strlen(local_addrs[i]), &a))
            sm_host_add_addr(c->w, c->host, &a);
    }
    c->user = "user";
    c->proc = "main";
    for (size_t i = 0; i < c->f->n_socks; i++) {
        c->socks[i] = SM_NONE;
        c->unmodelled[i] = false;
    }
}

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
    scn_buf_printf(&c->tmp, "%u/%s", (unsigned)c->host, proc);
    return c->tmp.s;
}

/* The engine keys processes by (host, name); the runner adds the user. */
static sm_id proc_of(runctx *c, const char *proc, const char *user)
{
    scn_map_put(&c->last_user, proc_key(c, proc), user_index(c, user));
    c->tmp.len = 0;
    scn_buf_printf(&c->tmp, "%s@%s", proc, user);
    return sm_proc_get(c->w, c->host, c->tmp.s, sm_user_get(c->w, user));
}

/* ---- results ----------------------------------------------------------- */

static sm_result ok_result(void)
{
    sm_result r;
    memset(&r, 0, sizeof r);
    r.culprit = SM_NONE;
    return r;
}


/* A call on a socket that does not exist under this profile: what a
 * program would see with the -1 its socket() or accept() returned; or,
 * when that step is not modelled yet, "not modelled" again. */
static sm_result no_socket(const runctx *c, int sock)
{
    sm_result r;
    memset(&r, 0, sizeof r);
    r.culprit = SM_NONE;
    if (sock >= 0 && c->unmodelled[sock]) {
        r.err = SM_ENOSYS;
        r.rule = "not modelled yet: the step that creates this socket "
                 "is not modelled yet";
        return r;
    }
    r.err = SM_EBADF;
    r.rule = "the socket was not created under this profile (its socket "
             "or accept step failed or was skipped): a bad descriptor";
    return r;
}

static void set_call(runctx *c, scn_cell *cell, sm_result r)
{
    cell->kind = SCN_CELL_CALL;
    cell->r = r;
    if (r.culprit != SM_NONE) {
        const char *name = sm_sock_name(c->w, r.culprit);
        cell->culprit = scn_strndup(&c->res->arena, name, strlen(name));
    }
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
    const char *want = scn_expected_outcome(st, sm_profile_name(c->p));
    if (!want)
        return;
    cell->has_expectation = true;
    cell->expected = want;
    if (cell->r.err == SM_ENOSYS)
        cell->met = false;
    else if (strcmp(want, "ok") == 0)
        cell->met = cell->r.err == SM_OK;
    else
        cell->met = cell->r.err != SM_OK &&
                    sm_profile_err_matches(c->p, cell->r.err, want);
}

/* ---- steps ------------------------------------------------------------- */

static sm_id sock_id(runctx *c, int sock)
{
    return sock >= 0 ? c->socks[sock] : SM_NONE;
}

/* A call on one socket (setsockopt, bind, listen, connect, accept, ...). */
static sm_result sock_call(runctx *c, const scn_stmt *st)
{
    sm_id s = sock_id(c, st->sock), out = SM_NONE;
    sm_result r;
    if (s == SM_NONE) {
        r = no_socket(c, st->sock);
        if (st->kind == SCN_ACCEPT)
            c->unmodelled[st->new_sock] = r.err == SM_ENOSYS;
        return r;
    }
    switch (st->kind) {
    case SCN_SETSOCKOPT:
        return sm_setsockopt(c->w, s, st->opt, st->v1, st->v2);
    case SCN_BIND:
        return sm_bind(c->w, s, &st->ep);
    case SCN_LISTEN:
        return sm_listen(c->w, s, st->v1);
    case SCN_CONNECT:
        return sm_connect(c->w, s, &st->ep);
    case SCN_SEND:
        return sm_send(c->w, s, st->n);
    case SCN_RECV:
        return sm_recv(c->w, s, st->n);
    case SCN_SHUTDOWN:
        return sm_shutdown(c->w, s, st->rd, st->wr);
    case SCN_CLOSE:
        return sm_close(c->w, s);
    case SCN_ACCEPT:
        r = sm_accept(c->w, s, c->f->socks[st->new_sock], &out);
        if (r.err == SM_OK)
            c->socks[st->new_sock] = out;
        c->unmodelled[st->new_sock] = r.err == SM_ENOSYS;
        return r;
    default:
        return ok_result();
    }
}

static sm_result do_socket(runctx *c, const scn_stmt *st)
{
    sm_id id = SM_NONE;
    sm_id proc = proc_of(c, c->proc, c->user);
    sm_result r = sm_socket(c->w, proc, st->proto, st->family,
                            c->f->socks[st->new_sock], &id);
    if (r.err == SM_OK)
        c->socks[st->new_sock] = id;
    c->unmodelled[st->new_sock] = r.err == SM_ENOSYS;
    return r;
}

static sm_result do_exit(runctx *c, const scn_stmt *st)
{
    const char *name = st->name ? st->name : c->proc;
    const char *user = c->user;
    if (st->name) {
        const char *key = proc_key(c, name);
        long u = scn_map_find(&c->last_user, key, strlen(key));
        if (u >= 0)
            user = c->users[u];
    }
    return sm_proc_exit(c->w, proc_of(c, name, user));
}

static void run_call(runctx *c, const scn_stmt *st, scn_cell *cell)
{
    sm_result r = ok_result();
    if (st->kind == SCN_SOCKET)
        r = do_socket(c, st);
    else if (st->kind == SCN_EXIT)
        r = do_exit(c, st);
    else if (st->kind == SCN_WAIT)
        sm_advance(c->w, st->n);
    else if (st->kind == SCN_DELAY) {
        if (st->rd)
            c->loop_delay_ns = st->n;
        else
            c->delay_ns = st->n;
        sm_world_set_delay(c->w, c->delay_ns, c->loop_delay_ns);
        r.rule = "the network's one-way delay changed";
    }
    else
        r = sock_call(c, st);
    set_call(c, cell, r);
    judge_call(c, st, cell);
}

static void run_sysctl(runctx *c, const scn_stmt *st, scn_cell *cell)
{
    const char *msg = sm_sysctl(c->w, c->host, st->name, st->vals, st->n_vals);
    if (msg) {
        set_failed(c, cell, msg);
        return;
    }
    set_call(c, cell, ok_result());
}

/* ---- expect statements ------------------------------------------------- */

static const char *arena_buf(runctx *c)
{
    return scn_strndup(&c->res->arena, c->tmp.s ? c->tmp.s : "", c->tmp.len);
}

/* "socket c: state LISTEN, local 0.0.0.0:80" - context for a failed check. */
static void describe_sock(runctx *c, const scn_stmt *st, sm_id s)
{
    const char *name = c->f->socks[st->sock];
    c->tmp.len = 0;
    if (s == SM_NONE && c->unmodelled[st->sock]) {
        scn_buf_printf(&c->tmp, "not modelled yet: the step that creates "
                                "socket %s is not modelled yet", name);
        return;
    }
    if (s == SM_NONE) {
        scn_buf_printf(&c->tmp, "socket %s was not created under this profile "
                                "(its socket or accept step failed or was "
                                "skipped)", name);
        return;
    }
    sm_endpoint ep;
    char buf[SM_EP_STRLEN];
    scn_buf_printf(&c->tmp, "socket %s: state %s, ", name,
                   sm_state_name(sm_sock_state(c->w, s)));
    if (sm_sock_local(c->w, s, &ep)) {
        sm_endpoint_format(&ep, buf, sizeof buf);
        scn_buf_printf(&c->tmp, "bound to %s", buf);
    } else {
        scn_buf_puts(&c->tmp, "not bound");
    }
}

static void run_check(runctx *c, const scn_stmt *st, scn_cell *cell)
{
    sm_id s = sock_id(c, st->sock);
    char got[SM_EP_STRLEN + 16], want[SM_EP_STRLEN + 16];
    sm_endpoint ep;
    if (st->kind == SCN_EXPECT_STATE) {
        sm_tcp_state now = s == SM_NONE ? SM_CLOSED : sm_sock_state(c->w, s);
        snprintf(got, sizeof got, "%s", sm_state_name(now));
        snprintf(want, sizeof want, "%s", sm_state_name(st->state));
    } else if (st->kind == SCN_EXPECT_LOCAL) {
        if (s != SM_NONE && sm_sock_local(c->w, s, &ep))
            sm_endpoint_format(&ep, got, sizeof got);
        else
            snprintf(got, sizeof got, "unbound");
        sm_endpoint_format(&st->ep, want, sizeof want);
    } else {
        int n = s == SM_NONE ? 0 : sm_sock_pending(c->w, s);
        snprintf(got, sizeof got, "%d", n);
        snprintf(want, sizeof want, "%llu", (unsigned long long)st->n);
    }
    if (s == SM_NONE && c->unmodelled[st->sock])
        snprintf(got, sizeof got, "n/a");
    cell->kind = SCN_CELL_CHECK;
    cell->r = ok_result();
    cell->observed = scn_strndup(&c->res->arena, got, strlen(got));
    cell->expected = scn_strndup(&c->res->arena, want, strlen(want));
    cell->has_expectation = true;
    cell->met = strcmp(got, want) == 0;
    if (!cell->met) {
        describe_sock(c, st, s);
        cell->message = arena_buf(c);
    }
}

/* ---- declarations ------------------------------------------------------ */

static void run_host(runctx *c, const scn_stmt *st)
{
    sm_id h = sm_host_find(c->w, st->name);
    if (h == SM_NONE)
        h = sm_host_add(c->w, st->name);
    for (size_t i = 0; i < st->n_addrs; i++)
        sm_host_add_addr(c->w, h, &st->addrs[i]);
    c->host = h;
}

static void run_decl(runctx *c, const scn_stmt *st)
{
    switch (st->kind) {
    case SCN_HOST:
        run_host(c, st);
        break;
    case SCN_ON:
        /* The host may have been declared under a guard that left this
         * profile out: then it appears now, with its loopback addresses. */
        c->host = sm_host_add(c->w, st->name);
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

static void run_step(runctx *c, const scn_stmt *st, scn_cell *cell)
{
    if (st->kind == SCN_SYSCTL)
        run_sysctl(c, st, cell);
    else if (scn_kind_is_check(st->kind))
        run_check(c, st, cell);
    else
        run_call(c, st, cell);
}

static void run_profile(runctx *c)
{
    if (scn_is_host_profile(c->p)) {
        scn_host_run(c->res, c->f, c->pi);
        return;
    }
    world_init(c);
    size_t row = 0;
    for (size_t i = 0; i < c->f->n_stmts; i++) {
        const scn_stmt *st = &c->f->stmts[i];
        bool on = !st->guarded ||
                  scn_patlist_match(&st->guard, sm_profile_name(c->p));
        if (!scn_kind_is_step(st->kind)) {
            if (on)
                run_decl(c, st);
            continue;
        }
        scn_cell *cell = &c->res->rows[row++].cells[c->pi];
        if (on) {
            run_step(c, st, cell);
            if (c->hooks && c->hooks->step_done)
                c->hooks->step_done(c->hooks->ctx, c->w, c->p, st, cell, c->socks,
                                    c->f->n_socks);
        }
    }
    if (c->hooks && c->hooks->world_done)
        c->hooks->world_done(c->hooks->ctx, c->w, c->p);
    sm_world_free(c->w);
    c->w = NULL;
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
    scn_cell *cells = scn_xmalloc((ncells + 1) * sizeof *cells);
    memset(cells, 0, (ncells + 1) * sizeof *cells);
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

scn_result *scn_run_file_hooks(const scn_file *f, const scn_patlist *override,
                               uint64_t seed, const scn_hooks *hooks)
{
    scn_result *r = scn_xmalloc(sizeof *r);
    memset(r, 0, sizeof *r);
    r->file = f;
    r->seed = seed;
    r->n_profiles = scn_select_profiles(f, override, &r->profiles);
    alloc_rows(r);
    runctx c;
    memset(&c, 0, sizeof c);
    c.res = r;
    c.f = f;
    c.hooks = hooks;
    c.socks = scn_xmalloc((f->n_socks + 1) * sizeof *c.socks);
    c.unmodelled = scn_xmalloc((f->n_socks + 1) * sizeof *c.unmodelled);
    for (size_t i = 0; i < r->n_profiles; i++) {
        c.p = r->profiles[i];
        c.pi = i;
        run_profile(&c);
    }
    free(c.socks);
    free(c.unmodelled);
    free(c.users);
    scn_buf_free(&c.tmp);
    count(r);
    return r;
}

void scn_result_free(scn_result *r)
{
    if (!r)
        return;
    free(r->cells);
    free(r->rows);
    free(r->profiles);
    scn_arena_free(&r->arena);
    free(r);
}
