/*
 * check_engine.c - the engine's own contracts, apart from any OS's rules:
 * a profile that breaks the profile interface's contract (sm_profile.h)
 * makes calls fail with SM_EPROTO and a "profile contract violated" rule,
 * never an abort.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "sm_profile.h"

#define CONTRACT "profile contract violated"

/* A profile that is linux but for the methods a test breaks. */
static sm_profile broken;

static void broken_from_linux(void)
{
    broken = *sm_profile_find("linux");
    broken.name = "broken";
}

static sm_verdict bind_no_rule(const sm_profile *self, const sm_bind_ctx *c)
{
    (void)self;
    (void)c;
    return sm__fail(SM_OK, NULL, -1);
}

static sm_verdict bind_bad_culprit(const sm_profile *self, const sm_bind_ctx *c)
{
    (void)self;
    if (c->n_owners == 0)
        return sm__ok("free");
    return sm__fail(SM_EADDRINUSE, "in use", (int)c->n_owners); /* one past */
}

static sm_verdict pick_no_port(const sm_profile *self, sm_pick_ctx *c, uint16_t *port)
{
    (void)self;
    (void)c;
    *port = 0;
    return sm__ok("picked nothing");
}

static size_t select_beyond(const sm_profile *self, const sm_listen_ctx *c)
{
    (void)self;
    return c->n + 3;
}

static sm_endpoint ep(const char *s)
{
    sm_endpoint e;
    const char *why;
    ck_assert(sm_endpoint_parse(s, strlen(s), &e, &why));
    return e;
}

static bool is_breach(sm_result r, const char *method)
{
    return r.err == SM_EPROTO && r.rule && strncmp(r.rule, CONTRACT, strlen(CONTRACT)) == 0 &&
           strstr(r.rule, method) != NULL;
}

START_TEST(test_no_rule_text)
{
    broken_from_linux();
    broken.bind = bind_no_rule;
    sm_world *w = sm_world_new(&broken, 1);
    sm_id h = sm_host_add(w, "local");
    sm_id p = sm_proc_get(w, h, "main", sm_user_get(w, "user"));
    sm_id s;
    ck_assert_int_eq(sm_socket(w, p, SM_TCP, 4, "s", &s).err, SM_OK);
    sm_endpoint e = ep("127.0.0.1:5000");
    sm_result r = sm_bind(w, s, &e);
    ck_assert_msg(is_breach(r, "bind"), "got %s: %s", sm_err_name(r.err), r.rule);
    /* The call failed and changed nothing: the socket is still unbound
     * and the world goes on. */
    sm_endpoint local;
    ck_assert(!sm_sock_local(w, s, &local));
    ck_assert_int_eq(sm_close(w, s).err, SM_OK);
    sm_world_free(w);
}
END_TEST

START_TEST(test_culprit_out_of_range)
{
    broken_from_linux();
    broken.bind = bind_bad_culprit;
    sm_world *w = sm_world_new(&broken, 1);
    sm_id h = sm_host_add(w, "local");
    sm_id p = sm_proc_get(w, h, "main", sm_user_get(w, "user"));
    sm_id a, b;
    sm_socket(w, p, SM_TCP, 4, "a", &a);
    sm_socket(w, p, SM_TCP, 4, "b", &b);
    sm_endpoint e = ep("127.0.0.1:5000");
    ck_assert_int_eq(sm_bind(w, a, &e).err, SM_OK);
    sm_result r = sm_bind(w, b, &e);
    ck_assert_msg(is_breach(r, "bind"), "got %s: %s", sm_err_name(r.err), r.rule);
    ck_assert_int_eq(r.culprit, SM_NONE);
    sm_world_free(w);
}
END_TEST

START_TEST(test_pick_without_port)
{
    broken_from_linux();
    broken.pick_port = pick_no_port;
    sm_world *w = sm_world_new(&broken, 1);
    sm_id h = sm_host_add(w, "local");
    sm_id p = sm_proc_get(w, h, "main", sm_user_get(w, "user"));
    sm_id s;
    sm_socket(w, p, SM_TCP, 4, "s", &s);
    sm_endpoint e = ep("127.0.0.1:0");
    ck_assert(is_breach(sm_bind(w, s, &e), "pick_port"));
    ck_assert(is_breach(sm_listen(w, s, 5), "pick_port"));
    sm_world_free(w);
}
END_TEST

START_TEST(test_other_version)
{
    broken_from_linux();
    broken.version = SM_PROFILE_VERSION + 1;
    sm_world *w = sm_world_new(&broken, 1);
    sm_id h = sm_host_add(w, "local");
    sm_id p = sm_proc_get(w, h, "main", sm_user_get(w, "user"));
    sm_id s = SM_NONE;
    sm_result r = sm_socket(w, p, SM_TCP, 4, "s", &s);
    ck_assert_int_eq(r.err, SM_EPROTO);
    ck_assert(strstr(r.rule, CONTRACT) && strstr(r.rule, "version"));
    sm_world_free(w);

    broken_from_linux();
    broken.tw_syn = NULL;
    w = sm_world_new(&broken, 1);
    h = sm_host_add(w, "local");
    p = sm_proc_get(w, h, "main", sm_user_get(w, "user"));
    ck_assert(is_breach(sm_socket(w, p, SM_TCP, 4, "s", &s), "no tw_syn method"));
    sm_world_free(w);
}
END_TEST

/* A breach while segments travel (no call to return it to) breaks the
 * world: the call that was running and every later one report it. */
START_TEST(test_listener_beyond)
{
    broken_from_linux();
    broken.select_listener = select_beyond;
    sm_world *w = sm_world_new(&broken, 1);
    sm_id h = sm_host_add(w, "local");
    sm_id p = sm_proc_get(w, h, "main", sm_user_get(w, "user"));
    sm_id l1, l2, c;
    sm_endpoint e = ep("127.0.0.1:5000");
    sm_socket(w, p, SM_TCP, 4, "l1", &l1);
    sm_socket(w, p, SM_TCP, 4, "l2", &l2);
    ck_assert_int_eq(sm_setsockopt(w, l1, SM_SO_REUSEPORT, 1, 0).err, SM_OK);
    ck_assert_int_eq(sm_setsockopt(w, l2, SM_SO_REUSEPORT, 1, 0).err, SM_OK);
    ck_assert_int_eq(sm_bind(w, l1, &e).err, SM_OK);
    ck_assert_int_eq(sm_bind(w, l2, &e).err, SM_OK);
    ck_assert_int_eq(sm_listen(w, l1, 5).err, SM_OK);
    ck_assert_int_eq(sm_listen(w, l2, 5).err, SM_OK);
    sm_socket(w, p, SM_TCP, 4, "c", &c);
    ck_assert(is_breach(sm_connect(w, c, &e), "select_listener"));
    ck_assert(is_breach(sm_close(w, c), "select_listener"));
    sm_world_free(w);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("engine");
    TCase *tc = tcase_create("profile contract");
    tcase_add_test(tc, test_no_rule_text);
    tcase_add_test(tc, test_culprit_out_of_range);
    tcase_add_test(tc, test_pick_without_port);
    tcase_add_test(tc, test_other_version);
    tcase_add_test(tc, test_listener_beyond);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
