/*
 * check_engine.c - the engine's own contracts, apart from any OS's rules:
 * a profile that breaks the profile interface's contract (sm_profile.h)
 * makes calls fail with SM_EPROTO and a "profile contract violated" rule;
 * memory that runs out at any allocation of a scenario run makes that call
 * and every later one fail with SM_ENOMEM, never an abort, and the world
 * is freed without a leak (the ASan build checks that); virtual time ends
 * at SM_CLOCK_MAX and no timeout started there wraps.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "sm_map.h" /* the allocation test hook */
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

static const sm_rule rule_free = SM_RULE("test.free", S, "free", "");
static const sm_rule rule_in_use = SM_RULE("test.in-use", S, "in use", "");
static const sm_rule rule_picked_nothing = SM_RULE("test.picked-nothing", S, "picked nothing", "");

static sm_verdict bind_bad_culprit(const sm_profile *self, const sm_bind_ctx *c)
{
    (void)self;
    if (c->n_owners == 0)
        return sm__ok(&rule_free);
    return sm__fail(SM_EADDRINUSE, &rule_in_use, (int)c->n_owners); /* one past */
}

static sm_verdict pick_no_port(const sm_profile *self, sm_pick_ctx *c, uint16_t *port)
{
    (void)self;
    (void)c;
    *port = 0;
    return sm__ok(&rule_picked_nothing);
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
    return r.err == SM_EPROTO && r.rule &&
           strncmp(r.rule->text, CONTRACT, strlen(CONTRACT)) == 0 &&
           strstr(r.rule->text, method) != NULL &&
           strncmp(r.rule->id, "sm.contract.", 12) == 0;
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
    ck_assert_msg(is_breach(r, "bind"), "got %s: %s", sm_err_name(r.err), r.rule ? r.rule->text : "");
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
    ck_assert_msg(is_breach(r, "bind"), "got %s: %s", sm_err_name(r.err), r.rule ? r.rule->text : "");
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
    ck_assert(strstr(r.rule->text, CONTRACT) && strstr(r.rule->text, "version"));
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


/* ---- the event tap -------------------------------------------------------- */

typedef struct ev_log {
    sm_event ev[32];
    size_t n;
} ev_log;

static void log_event(void *ctx, const sm_event *e)
{
    ev_log *l = ctx;
    if (l->n < sizeof l->ev / sizeof l->ev[0])
        l->ev[l->n++] = *e;
}

/* The first event of kind k, or NULL. */
static const sm_event *find_event(const ev_log *l, sm_event_kind k)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->ev[i].kind == k)
            return &l->ev[i];
    return NULL;
}

/* A SYN to a port with a specific and a wildcard listener goes to the
 * specific one, and the tap says why; the client that closes first enters
 * TIME_WAIT for Linux's 60 s and leaves it at its time. */
START_TEST(test_event_tap)
{
    sm_world *w = sm_world_new(sm_profile_find("linux"), 1);
    ev_log log = {.n = 0};
    sm_world_set_event_tap(w, log_event, &log);
    sm_id h = sm_host_add(w, "local");
    sm_id p = sm_proc_get(w, h, "main", sm_user_get(w, "user"));
    sm_id ls, lw, c, a;
    sm_endpoint spec = ep("127.0.0.1:5000"), wild = ep("0.0.0.0:5000");
    sm_socket(w, p, SM_TCP, 4, "ls", &ls);
    sm_socket(w, p, SM_TCP, 4, "lw", &lw);
    ck_assert_int_eq(sm_setsockopt(w, ls, SM_SO_REUSEPORT, 1, 0).err, SM_OK);
    ck_assert_int_eq(sm_setsockopt(w, lw, SM_SO_REUSEPORT, 1, 0).err, SM_OK);
    ck_assert_int_eq(sm_bind(w, lw, &wild).err, SM_OK);
    ck_assert_int_eq(sm_bind(w, ls, &spec).err, SM_OK);
    ck_assert_int_eq(sm_listen(w, lw, 5).err, SM_OK);
    ck_assert_int_eq(sm_listen(w, ls, 5).err, SM_OK);
    ck_assert_uint_eq(log.n, 0); /* binds and listens say so in their results */
    sm_socket(w, p, SM_TCP, 4, "c", &c);
    ck_assert_int_eq(sm_connect(w, c, &spec).err, SM_OK);
    const sm_event *e = find_event(&log, SM_EV_LISTENER);
    ck_assert_ptr_nonnull(e);
    ck_assert_uint_eq(e->sock, ls);
    ck_assert_str_eq(e->rule->id, "sm.listener.specific");
    ck_assert_int_eq(sm_accept(w, ls, "a", &a).err, SM_OK);
    ck_assert_int_eq(sm_close(w, c).err, SM_OK);
    sm_advance(w, sm_time_ms(100));
    ck_assert_int_eq(sm_close(w, a).err, SM_OK);
    sm_advance(w, sm_time_ms(100));
    e = find_event(&log, SM_EV_TW_ENTER);
    ck_assert_ptr_nonnull(e);
    ck_assert_uint_eq(e->sock, c);
    ck_assert_uint_eq(e->value, 60000);
    ck_assert_str_eq(e->rule->id, "sm.tw.enter");
    ck_assert_ptr_null(find_event(&log, SM_EV_TW_END));
    sm_advance(w, sm_time_ms(61000));
    e = find_event(&log, SM_EV_TW_END);
    ck_assert_ptr_nonnull(e);
    ck_assert_uint_eq(e->sock, c);
    ck_assert_uint_eq(e->value, 1);
    ck_assert_str_eq(e->rule->id, "sm.tw.expired");
    ck_assert_str_eq(sm_event_kind_name(SM_EV_TW_END), "time-wait-end");
    sm_world_free(w);
}
END_TEST

/* ---- out of memory ------------------------------------------------------ */

#define MAX_STEPS 128

/* The outcome of each step of one run (set-up calls that return SM_NONE
 * or false count as SM_ENOMEM). */
typedef struct run_log {
    sm_err err[MAX_STEPS];
    size_t n;
    bool world; /* sm_world_new() gave a world */
} run_log;

static void note(run_log *l, sm_err e)
{
    ck_assert(l->n < MAX_STEPS);
    l->err[l->n++] = e;
}

static sm_id note_id(run_log *l, sm_id id)
{
    note(l, id == SM_NONE ? SM_ENOMEM : SM_OK);
    return id;
}

/* One scenario: two hosts, a listener, connections that carry data and
 * close in both orders (TIME_WAIT on either side), UDP, time passing
 * beyond TIME_WAIT, a process exit. */
static void run_scenario(const char *profile, bool recycle, run_log *l)
{
    memset(l, 0, sizeof *l);
    sm_world *w = sm_world_new(sm_profile_find(profile), 7);
    if (!w)
        return;
    l->world = true;
    sm_world_set_recycle(w, recycle);
    sm_id ha = note_id(l, sm_host_add(w, "a"));
    sm_id hb = note_id(l, sm_host_add(w, "b"));
    sm_addr a4, b4, b6;
    sm_addr_parse("192.0.2.1", 9, &a4);
    sm_addr_parse("192.0.2.2", 9, &b4);
    sm_addr_parse("2001:db8::2", 11, &b6);
    note(l, sm_host_add_addr(w, ha, &a4) ? SM_OK : SM_ENOMEM);
    note(l, sm_host_add_addr(w, hb, &b4) ? SM_OK : SM_ENOMEM);
    note(l, sm_host_add_addr(w, hb, &b6) ? SM_OK : SM_ENOMEM);
    sm_id alice = note_id(l, sm_user_get(w, "alice"));
    sm_id pc = note_id(l, sm_proc_get(w, ha, "client", alice));
    sm_id ps = note_id(l, sm_proc_get(w, hb, "server", alice));
    sm_id srv = SM_NONE, srv6 = SM_NONE, u = SM_NONE;
    sm_endpoint e4 = ep("192.0.2.2:80"), e6 = ep("[2001:db8::2]:80");
    note(l, sm_socket(w, ps, SM_TCP, 4, "srv", &srv).err);
    note(l, sm_setsockopt(w, srv, SM_SO_REUSEADDR, 1, 0).err);
    note(l, sm_bind(w, srv, &e4).err);
    note(l, sm_listen(w, srv, 8).err);
    note(l, sm_socket(w, ps, SM_TCP, 6, "srv6", &srv6).err);
    note(l, sm_listen(w, srv6, 8).err); /* autobind */
    for (int i = 0; i < 6; i++) {
        sm_id c = SM_NONE, acc = SM_NONE;
        note(l, sm_socket(w, pc, SM_TCP, 4, i % 2 ? "c" : "d", &c).err);
        note(l, sm_connect(w, c, &e4).err);
        note(l, sm_accept(w, srv, "acc", &acc).err);
        note(l, sm_send(w, c, 3000).err);
        note(l, sm_recv(w, acc, 3000).err);
        if (i % 2) { /* the client closes first: TIME_WAIT on a */
            note(l, sm_close(w, c).err);
            note(l, sm_close(w, acc).err);
        } else {
            note(l, sm_close(w, acc).err);
            note(l, sm_close(w, c).err);
        }
        sm_advance(w, 5000000);
    }
    (void)e6;
    note(l, sm_socket(w, pc, SM_UDP, 4, "u", &u).err);
    sm_endpoint any = ep("0.0.0.0:0");
    note(l, sm_bind(w, u, &any).err);
    note(l, sm_connect(w, u, &e4).err);
    note(l, sm_send(w, u, 100).err);
    sm_advance(w, 130ull * 1000000000ull); /* every TIME_WAIT ends */
    note(l, sm_proc_exit(w, pc).err);
    note(l, sm_proc_exit(w, ps).err);
    sm_world_free(w);
}

/* Fail the k-th allocation of the run, for every k until the run needs
 * fewer: each run must end with every call after the failure answering
 * SM_ENOMEM, the calls before it answering as in a run with memory to
 * spare, and no crash or leak. */
static void oom_sweep(const char *profile, bool recycle)
{
    run_log ref, got;
    sm__alloc_fail_after = -1;
    run_scenario(profile, recycle, &ref);
    ck_assert(ref.world);
    for (size_t i = 0; i < ref.n; i++)
        ck_assert_msg(ref.err[i] != SM_ENOMEM, "step %zu fails with memory to spare", i);
    long k;
    for (k = 0;; k++) {
        sm__alloc_fail_after = k;
        run_scenario(profile, recycle, &got);
        bool hit = sm__alloc_fail_after == 0; /* some allocation was refused */
        sm__alloc_fail_after = -1;
        if (!hit) {
            ck_assert_int_eq(got.n, ref.n);
            ck_assert(memcmp(got.err, ref.err, ref.n * sizeof ref.err[0]) == 0);
            break;
        }
        if (!got.world)
            continue; /* sm_world_new() said NULL */
        ck_assert_int_eq(got.n, ref.n);
        size_t first = got.n;
        for (size_t i = 0; i < got.n && first == got.n; i++)
            if (got.err[i] == SM_ENOMEM)
                first = i;
        for (size_t i = 0; i < first; i++)
            ck_assert_msg(got.err[i] == ref.err[i], "k=%ld step %zu: %s, not %s", k, i,
                          sm_err_name(got.err[i]), sm_err_name(ref.err[i]));
        for (size_t i = first; i < got.n; i++)
            ck_assert_msg(got.err[i] == SM_ENOMEM, "k=%ld step %zu after the failure: %s", k,
                          i, sm_err_name(got.err[i]));
    }
    ck_assert_msg(k > 20, "only %ld allocations in the run", k);
}

/* The end of virtual time (issue 22): sums of a time and a duration
 * saturate instead of wrapping, and sm_advance() stops the clock at
 * SM_CLOCK_MAX, so a connect started there gets its whole timeout. */
START_TEST(test_time_saturates)
{
    ck_assert_uint_eq(sm_time_add(5, 7), 12);
    ck_assert_uint_eq(sm_time_add(UINT64_MAX - 1, 1), UINT64_MAX);
    ck_assert_uint_eq(sm_time_add(UINT64_MAX - 1, 2), UINT64_MAX);
    ck_assert_uint_eq(sm_time_add(SM_CLOCK_MAX, SM_CLOCK_MAX), UINT64_MAX);
    ck_assert_uint_eq(sm_time_ms(1500), 1500000000u);
    ck_assert_uint_eq(sm_time_ms(UINT64_MAX / 1000000u + 1), UINT64_MAX);
}
END_TEST

START_TEST(test_connect_at_end_of_time)
{
    const char *names[] = {"linux", "bsd", "windows", "solaris"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        sm_world *w = sm_world_new(sm_profile_find(names[i]), 1);
        ck_assert_ptr_nonnull(w);
        sm_id h = sm_host_add(w, "local");
        sm_addr a4;
        ck_assert(sm_addr_parse("192.0.2.1", 9, &a4));
        ck_assert(sm_host_add_addr(w, h, &a4));
        sm_id p = sm_proc_get(w, h, "main", sm_user_get(w, "user"));
        sm_id l = SM_NONE, c = SM_NONE, d = SM_NONE;
        sm_endpoint e = ep("127.0.0.1:8080"), nowhere = ep("192.0.2.99:80");
        ck_assert_int_eq(sm_socket(w, p, SM_TCP, 4, "l", &l).err, SM_OK);
        ck_assert_int_eq(sm_bind(w, l, &e).err, SM_OK);
        ck_assert_int_eq(sm_listen(w, l, 5).err, SM_OK);
        /* The scenario "wait 18446744073s": just under 2^64 ns. */
        sm_advance(w, 18446744073000000000ull);
        ck_assert_uint_eq(sm_now(w), SM_CLOCK_MAX);
        sm_advance(w, UINT64_MAX);
        ck_assert_uint_eq(sm_now(w), SM_CLOCK_MAX);
        /* Before: the connect deadline wrapped below the clock and the
         * connect failed at once with ETIMEDOUT. */
        ck_assert_int_eq(sm_socket(w, p, SM_TCP, 4, "c", &c).err, SM_OK);
        ck_assert_msg(sm_connect(w, c, &e).err == SM_OK, "%s: connect at the "
                      "end of time did not succeed", names[i]);
        ck_assert_int_eq(sm_sock_state(w, c), SM_ESTABLISHED);
        /* A connect nobody answers still waits out its whole timeout. */
        uint64_t t0 = sm_now(w);
        ck_assert_int_eq(sm_socket(w, p, SM_TCP, 4, "d", &d).err, SM_OK);
        ck_assert_int_eq(sm_connect(w, d, &nowhere).err, SM_ETIMEDOUT);
        ck_assert_msg(sm_now(w) - t0 >= 1000000000u, "%s: the connect timed "
                      "out after %llu ns", names[i],
                      (unsigned long long)(sm_now(w) - t0));
        /* A loopback delay that passes 2^64 ns: the SYN arrives never
         * (before, its arrival time wrapped into the past and the
         * connect succeeded at once). */
        sm_world_set_delay(w, 1000000, UINT64_MAX - 1000);
        sm_id f = SM_NONE;
        t0 = sm_now(w);
        ck_assert_int_eq(sm_socket(w, p, SM_TCP, 4, "f", &f).err, SM_OK);
        ck_assert_msg(sm_connect(w, f, &e).err == SM_ETIMEDOUT, "%s: a SYN "
                      "that never arrives was answered", names[i]);
        ck_assert_uint_ge(sm_now(w) - t0, 1000000000u);
        ck_assert_uint_lt(sm_now(w), UINT64_MAX);
        sm_world_free(w);
    }
}
END_TEST

/* ---- mixed-OS worlds ------------------------------------------------------ */

static sm_id mixed_host(sm_world *w, const char *name, const char *addr)
{
    sm_id h = sm_host_add(w, name);
    sm_addr a;
    ck_assert(sm_addr_parse(addr, strlen(addr), &a));
    ck_assert(sm_host_add_addr(w, h, &a));
    return h;
}

static sm_id mixed_sock(sm_world *w, sm_id host, const char *name)
{
    sm_id p = sm_proc_get(w, host, "main", sm_user_get(w, "user"));
    sm_id s = SM_NONE;
    ck_assert_int_eq(sm_socket(w, p, SM_TCP, 4, name, &s).err, SM_OK);
    return s;
}

/* A host pinned to a profile decides by that profile, whatever the world's
 * (host NAME ... os PROFILE).  Expected values from the reference notes:
 * Linux needs CAP_NET_BIND_SERVICE below 1024 (linux.md 1), Windows has no
 * privileged ports and has SO_EXCLUSIVEADDRUSE (windows.md 1); a Linux
 * client reuses a TIME_WAIT 4-tuple on connect() only if timestamps were
 * used (linux.md 2.1), which Windows does not offer by default. */
START_TEST(test_mixed_world)
{
    sm_world *w = sm_world_new(sm_profile_find("linux"), 1);
    ck_assert_ptr_nonnull(w);
    sm_id win = mixed_host(w, "win", "192.0.2.10");
    sm_id cli = mixed_host(w, "cli", "192.0.2.20");
    ck_assert_ptr_eq(sm_host_profile(w, win), sm_profile_find("linux"));
    ck_assert(!sm_host_set_profile(w, win, NULL));
    ck_assert(!sm_host_set_profile(w, 99, sm_profile_find("windows")));
    ck_assert(sm_host_set_profile(w, win, sm_profile_find("windows")));
    ck_assert_ptr_eq(sm_host_profile(w, win), sm_profile_find("windows"));
    ck_assert_ptr_eq(sm_host_profile(w, cli), sm_profile_find("linux"));
    ck_assert_ptr_eq(sm_world_profile(w), sm_profile_find("linux"));

    /* Options and bind: each host's own rules. */
    sm_id l = mixed_sock(w, win, "l"), m = mixed_sock(w, cli, "m");
    ck_assert_int_eq(sm_setsockopt(w, l, SM_SO_EXCLUSIVEADDRUSE, 1, 0).err, SM_OK);
    ck_assert_int_eq(sm_setsockopt(w, m, SM_SO_EXCLUSIVEADDRUSE, 1, 0).err, SM_ENOPROTOOPT);
    sm_endpoint e80 = ep("0.0.0.0:80");
    ck_assert_int_eq(sm_bind(w, l, &e80).err, SM_OK);
    ck_assert_int_eq(sm_bind(w, m, &e80).err, SM_EACCES);
    ck_assert_int_eq(sm_listen(w, l, 5).err, SM_OK);

    /* Tunables: the host's profile's keys. */
    const char *v120[] = {"120"}, *v1[] = {"1"};
    ck_assert_ptr_null(sm_sysctl(w, win, "TcpTimedWaitDelay", v120, 1));
    ck_assert_ptr_nonnull(sm_sysctl(w, win, "net.ipv4.tcp_tw_reuse", v1, 1));
    ck_assert_ptr_null(sm_sysctl(w, cli, "net.ipv4.tcp_tw_reuse", v1, 1));
    ck_assert_ptr_nonnull(sm_sysctl(w, cli, "TcpTimedWaitDelay", v120, 1));

    /* A host with a process keeps its OS. */
    ck_assert(!sm_host_set_profile(w, win, sm_profile_find("bsd")));
    ck_assert_ptr_eq(sm_host_profile(w, win), sm_profile_find("windows"));

    /* The Linux client closes first and keeps TIME_WAIT; no timestamps on
     * a connection with Windows, so its 4-tuple is not reused. */
    sm_id c = mixed_sock(w, cli, "c");
    sm_endpoint src = ep("192.0.2.20:5000"), dst = ep("192.0.2.10:80");
    ck_assert_int_eq(sm_setsockopt(w, c, SM_SO_REUSEADDR, 1, 0).err, SM_OK);
    ck_assert_int_eq(sm_bind(w, c, &src).err, SM_OK);
    ck_assert_int_eq(sm_connect(w, c, &dst).err, SM_OK);
    sm_id a = SM_NONE;
    ck_assert_int_eq(sm_accept(w, l, "a", &a).err, SM_OK);
    ck_assert_int_eq(sm_close(w, c).err, SM_OK);
    sm_advance(w, 10000000);
    ck_assert_int_eq(sm_close(w, a).err, SM_OK);
    sm_advance(w, 10000000);
    ck_assert_int_eq(sm_sock_state(w, c), SM_TIME_WAIT);
    sm_id c2 = mixed_sock(w, cli, "c2");
    ck_assert_int_eq(sm_setsockopt(w, c2, SM_SO_REUSEADDR, 1, 0).err, SM_OK);
    ck_assert_int_eq(sm_bind(w, c2, &src).err, SM_OK);
    ck_assert_int_eq(sm_connect(w, c2, &dst).err, SM_EADDRNOTAVAIL);
    sm_world_free(w);
}
END_TEST

/* A profile the engine cannot use is not pinned, and the world goes on. */
START_TEST(test_pin_unusable)
{
    broken_from_linux();
    broken.version = SM_PROFILE_VERSION + 1;
    sm_world *w = sm_world_new(sm_profile_find("linux"), 1);
    sm_id h = sm_host_add(w, "local");
    ck_assert(!sm_host_set_profile(w, h, &broken));
    ck_assert_ptr_eq(sm_host_profile(w, h), sm_profile_find("linux"));
    sm_id s = mixed_sock(w, h, "s");
    sm_endpoint e = ep("127.0.0.1:8080");
    ck_assert_int_eq(sm_bind(w, s, &e).err, SM_OK);
    sm_world_free(w);
}
END_TEST

START_TEST(test_oom_linux)
{
    oom_sweep("linux", false);
}
END_TEST

START_TEST(test_oom_bsd_recycling)
{
    oom_sweep("bsd", true);
}
END_TEST

/* A million hosts work, each found again by name (the name index keeps
 * this linear: a scan per host made it quadratic, 20000 hosts took 2 s). */
START_TEST(test_million_hosts)
{
    sm_world *w = sm_world_new(sm_profile_find("linux"), 1);
    ck_assert(w);
    enum { N = 1000000 };
    char name[32];
    for (unsigned i = 0; i < N; i++) {
        snprintf(name, sizeof name, "h%u", i);
        ck_assert_uint_eq(sm_host_add(w, name), i);
    }
    for (unsigned i = 0; i < N; i += 7) {
        snprintf(name, sizeof name, "h%u", i);
        ck_assert_uint_eq(sm_host_find(w, name), i);
        ck_assert_uint_eq(sm_host_add(w, name), i); /* an existing host */
    }
    ck_assert_uint_eq(sm_host_find(w, "h1000000"), SM_NONE);
    ck_assert_ptr_null(sm_world_broken(w, NULL));
    sm_world_free(w);
}
END_TEST

/* Processes are found through an index keyed by (host, name): 200,000 of
 * them on two hosts are created and found again (a scan per lookup would
 * take minutes), the newest live one of a name is the one found, one that
 * exits is no longer found, and a new one of its name takes its place. */
START_TEST(test_many_processes)
{
    enum { N = 100000 };
    sm_world *w = sm_world_new(sm_profile_find("linux"), 1);
    sm_id h[2] = {sm_host_add(w, "a"), sm_host_add(w, "b")};
    sm_id u = sm_user_get(w, "alice");
    char name[32];
    for (unsigned i = 0; i < N; i++) {
        snprintf(name, sizeof name, "p%u", i);
        ck_assert_uint_eq(sm_proc_get(w, h[0], name, u), 2 * i);
        ck_assert_uint_eq(sm_proc_get(w, h[1], name, u), 2 * i + 1);
    }
    for (unsigned i = 0; i < N; i += 3) {
        snprintf(name, sizeof name, "p%u", i);
        ck_assert_uint_eq(sm_proc_get(w, h[0], name, u), 2 * i);
        ck_assert_uint_eq(sm_proc_get(w, h[1], name, u), 2 * i + 1);
    }
    /* an exit: the next get of that name on that host is a new process,
     * the same name on the other host is untouched */
    ck_assert_int_eq(sm_proc_exit(w, 20).err, SM_OK);
    ck_assert_uint_eq(sm_proc_get(w, h[0], "p10", u), 2 * N);
    ck_assert_uint_eq(sm_proc_get(w, h[0], "p10", u), 2 * N);
    ck_assert_uint_eq(sm_proc_get(w, h[1], "p10", u), 21);
    ck_assert_int_eq(sm_proc_exit(w, 2 * N).err, SM_OK);
    ck_assert_uint_eq(sm_proc_get(w, h[0], "p10", u), 2 * N + 1);
    ck_assert_ptr_null(sm_world_broken(w, NULL));
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
    TCase *te = tcase_create("event tap");
    tcase_add_test(te, test_event_tap);
    suite_add_tcase(s, te);
    TCase *tt = tcase_create("virtual time");
    tcase_add_test(tt, test_time_saturates);
    tcase_add_test(tt, test_connect_at_end_of_time);
    suite_add_tcase(s, tt);
    TCase *tx = tcase_create("mixed-OS worlds");
    tcase_add_test(tx, test_mixed_world);
    tcase_add_test(tx, test_pin_unusable);
    suite_add_tcase(s, tx);
    TCase *tm = tcase_create("out of memory");
    tcase_set_timeout(tm, 120);
    tcase_add_test(tm, test_oom_linux);
    tcase_add_test(tm, test_oom_bsd_recycling);
    suite_add_tcase(s, tm);
    TCase *tl = tcase_create("limits");
    tcase_set_timeout(tl, 120);
    tcase_add_test(tl, test_million_hosts);
    tcase_add_test(tl, test_many_processes);
    suite_add_tcase(s, tl);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
