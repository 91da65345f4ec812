/*
 * check_backend.c - the "who executes" seam (scenario/scn_backend.h): the
 * one runner drives any backend registered under a reserved name the same
 * way it drives the model.  A recording backend stands in for the kernel
 * under `host`; the tests check what the runner asks of it (calls, their
 * user and process, which sockets reach it, skips, errors) and what lands
 * in the cells.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "scn_backend.h"

/* ---- a recording backend ------------------------------------------------ */

typedef struct rec {
    char log[2048];
    int opens, closes, steps_done, state_calls;
    bool fail_open, fail_close, skip_recv;
} rec;

static rec R;

struct scn_exec {
    int dummy;
};
static struct scn_exec the_exec;

static void logf_(const char *what, const scn_call *c)
{
    size_t n = strlen(R.log);
    snprintf(R.log + n, sizeof R.log - n, "%s(%s@%s);", what,
             c ? c->proc : "-", c ? c->user : "-");
}

static scn_exec *f_open(const scn_open_args *a, scn_buf *why)
{
    ck_assert_str_eq(a->col->name, "host");
    R.opens++;
    if (R.fail_open) {
        scn_buf_puts(why, "fake: cannot open");
        return NULL;
    }
    return &the_exec;
}

static const char *f_close(scn_exec *x)
{
    ck_assert_ptr_eq(x, &the_exec);
    R.closes++;
    return R.fail_close ? "fake: cannot restore" : NULL;
}

static void f_host(scn_exec *x, const scn_stmt *st)
{
    (void)x;
    logf_(st->name, NULL);
}

static void f_on(scn_exec *x, const char *name)
{
    (void)x;
    logf_(name, NULL);
}

static sm_result ok(const sm_rule *rule)
{
    sm_result r;
    memset(&r, 0, sizeof r);
    r.culprit = SM_NONE;
    r.rule = rule;
    return r;
}

#define OP(name)                                                             \
    static sm_result f_##name(scn_exec *x, scn_call *c)                      \
    {                                                                        \
        (void)x;                                                             \
        logf_(#name, c);                                                     \
        static const sm_rule rule = SM_RULE("test.fake", S, "fake " #name, ""); \
        return ok(&rule);                                                    \
    }
OP(sysctl)
OP(socket)
OP(setsockopt)
OP(listen)
OP(connect)
OP(send)
OP(shutdown)
OP(close_sock)
OP(exit)
OP(advance)
OP(delay)

static const sm_rule rule_fake_bind = SM_RULE("test.fake", S, "fake bind", "");
static const sm_rule rule_fake_accept = SM_RULE("test.fake", S, "fake accept", "");
static const sm_rule rule_fake_recv = SM_RULE("test.fake", S, "fake recv", "");

static sm_result f_bind(scn_exec *x, scn_call *c)
{
    (void)x;
    logf_("bind", c);
    sm_result r = ok(&rule_fake_bind);
    r.err = SM_EADDRINUSE;
    return r;
}

static sm_result f_accept(scn_exec *x, scn_call *c)
{
    (void)x;
    logf_("accept", c);
    c->caller_owns = true;
    return ok(&rule_fake_accept);
}

static sm_result f_recv(scn_exec *x, scn_call *c)
{
    (void)x;
    logf_("recv", c);
    if (R.skip_recv)
        c->skip = "fake: cannot reproduce recv";
    return ok(&rule_fake_recv);
}

static sm_tcp_state f_state(scn_exec *x, int sock)
{
    (void)x;
    (void)sock;
    R.state_calls++;
    return SM_LISTEN;
}

static bool f_local(scn_exec *x, int sock, sm_endpoint *out)
{
    (void)x;
    (void)sock;
    (void)out;
    return false;
}

static int f_pending(scn_exec *x, int sock)
{
    (void)x;
    (void)sock;
    return 0;
}

static void f_describe(scn_exec *x, int sock, const char *name, scn_buf *out)
{
    (void)x;
    (void)sock;
    scn_buf_printf(out, "fake %s", name);
}

static void f_step_done(scn_exec *x, const scn_stmt *st, const scn_cell *cell)
{
    (void)x;
    (void)st;
    (void)cell;
    R.steps_done++;
}

static const scn_backend fake = {
    .no_world = "fake",
    .open = f_open, .close = f_close, .host = f_host, .on = f_on,
    .sysctl = f_sysctl, .socket = f_socket, .setsockopt = f_setsockopt,
    .bind = f_bind, .listen = f_listen, .connect = f_connect,
    .accept = f_accept, .send = f_send, .recv = f_recv,
    .shutdown = f_shutdown, .close_sock = f_close_sock, .exit = f_exit,
    .advance = f_advance, .delay = f_delay, .state = f_state,
    .local = f_local, .pending = f_pending, .describe = f_describe,
    .step_done = f_step_done,
};

/* ---- helpers -------------------------------------------------------------- */

static scn_file *parse(const char *text)
{
    scn_file *f = NULL;
    ck_assert_uint_eq(scn_parse_buffer("t.scn", text, strlen(text), stderr, &f), 0);
    return f;
}

static scn_result *run(scn_file *f, const char *profiles, scn_arena *a)
{
    scn_patlist pats;
    scn_buf err = {0};
    ck_assert(scn_patlist_parse_arg(a, profiles, &pats, &err));
    scn_buf_free(&err);
    return scn_run_file(f, &pats, 1);
}

static const scn_cell *cell(const scn_result *r, size_t row, size_t col)
{
    ck_assert_uint_lt(row, r->n_rows);
    return &r->rows[row].cells[col];
}

/* ---- tests ---------------------------------------------------------------- */

START_TEST(unregistered_name_is_an_error)
{
    scn_arena a = {0};
    scn_file *f = parse("a = socket tcp4\n");
    ck_assert_ptr_null(scn_backend_find("host"));
    scn_result *r = run(f, "linux,host", &a);
    ck_assert_int_eq(r->status, 2);
    ck_assert_ptr_nonnull(strstr(r->error, "does not have"));
    scn_result_free(r);
    scn_file_free(f);
    scn_arena_free(&a);
}
END_TEST

START_TEST(runner_drives_a_registered_backend)
{
    memset(&R, 0, sizeof R);
    ck_assert(scn_backend_register("host", &fake, sm_profile_find("linux")));
    ck_assert(!scn_backend_register("nosuch", &fake, sm_profile_find("linux")));
    ck_assert_ptr_eq(scn_backend_find("host"), &fake);
    scn_arena a = {0};
    scn_file *f = parse("a = socket tcp4\n"
                        "bind a 127.0.0.1:80 => linux: ok; host: EADDRINUSE\n"
                        "[linux] b = socket tcp4\n"
                        "listen b => linux: ok; host: EBADF\n"
                        "expect a state LISTEN\n"
                        "as bob\n"
                        "c = accept a\n"
                        "as carol\n"
                        "exit main\n"
                        "[linux] wait 1s\n");
    scn_result *r = run(f, "linux,host", &a);
    ck_assert_int_eq(r->status, 0);
    ck_assert_uint_eq(r->n_profiles, 2);
    ck_assert_str_eq(r->cols[1].name, "host");
    ck_assert_ptr_eq(r->cols[1].backend, &fake);
    ck_assert_ptr_eq(r->cols[0].backend, &scn_model_backend);
    /* b never made: the runner answers EBADF without asking the backend;
     * the accepted socket belongs to bob's main, so `exit main` by carol
     * exits bob's; the guarded wait never reaches host. */
    ck_assert_str_eq(R.log, "socket(main@user);bind(main@user);"
                            "accept(main@bob);exit(main@bob);");
    ck_assert_int_eq(R.opens, 1);
    ck_assert_int_eq(R.closes, 1);
    ck_assert_int_eq(R.steps_done, 6);
    ck_assert_int_eq(R.state_calls, 1);
    const scn_cell *bind = cell(r, 1, 1);
    ck_assert_int_eq(bind->kind, SCN_CELL_CALL);
    ck_assert_int_eq(bind->r.err, SM_EADDRINUSE);
    ck_assert(bind->has_expectation && bind->met);
    ck_assert_int_eq(cell(r, 2, 1)->kind, SCN_CELL_SKIPPED);
    const scn_cell *listen = cell(r, 3, 1);
    ck_assert_int_eq(listen->r.err, SM_EBADF);
    ck_assert(listen->met);
    const scn_cell *check = cell(r, 4, 1);
    ck_assert_int_eq(check->kind, SCN_CELL_CHECK);
    ck_assert_str_eq(check->observed, "LISTEN");
    ck_assert_int_eq(cell(r, 7, 1)->kind, SCN_CELL_SKIPPED);
    ck_assert_int_eq(cell(r, 7, 0)->kind, SCN_CELL_CALL);
    scn_result_free(r);
    scn_file_free(f);
    scn_arena_free(&a);
}
END_TEST

START_TEST(skip_and_errors_from_the_backend)
{
    memset(&R, 0, sizeof R);
    ck_assert(scn_backend_register("host", &fake, sm_profile_find("linux")));
    scn_arena a = {0};
    scn_file *f = parse("a = socket tcp4\nrecv a 1\nsend a 1\n[linux] wait 1s\n");
    R.skip_recv = true;
    scn_result *r = run(f, "host", &a);
    ck_assert_int_eq(r->status, 0);
    for (size_t i = 1; i < 4; i++) {
        ck_assert_int_eq(cell(r, i, 0)->kind, SCN_CELL_SKIPPED);
        ck_assert_str_eq(cell(r, i, 0)->message, "fake: cannot reproduce recv");
    }
    ck_assert_ptr_null(strstr(R.log, "send"));
    scn_result_free(r);

    R.fail_open = true;
    r = run(f, "linux,host", &a);
    ck_assert_int_eq(r->status, 2);
    ck_assert_str_eq(r->error, "fake: cannot open");
    scn_result_free(r);

    R.fail_open = false;
    R.fail_close = true;
    r = run(f, "host", &a);
    ck_assert_int_eq(r->status, 2);
    ck_assert_str_eq(r->error, "fake: cannot restore");
    scn_result_free(r);
    scn_file_free(f);
    scn_arena_free(&a);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("backend");
    TCase *tc = tcase_create("seam");
    tcase_add_test(tc, unregistered_name_is_an_error);
    tcase_add_test(tc, runner_drives_a_registered_backend);
    tcase_add_test(tc, skip_and_errors_from_the_backend);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
