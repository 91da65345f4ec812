/*
 * check_addr.c - addresses, endpoints, names and the engine's hash map.
 *
 * Table-driven: each row is an input and the answer it must give.  The
 * address classes (wildcard, v4-mapped, loopback, multicast) feed every
 * profile's overlap rule, so a wrong class would be a wrong verdict.
 */
#include "check_util.h"

#include "sm_map.h"

#include <stdio.h>

START_TEST(endpoint_parse_table)
{
    static const struct { const char *in; bool ok; const char *out; } t[] = {
        {"0.0.0.0:21", true, "0.0.0.0:21"},
        {"192.0.2.1:80", true, "192.0.2.1:80"},
        {"[::]:80", true, "[::]:80"},
        {"[::1]:80", true, "[::1]:80"},
        {"[::ffff:127.0.0.1]:80", true, "[::ffff:127.0.0.1]:80"},
        {"[2001:db8::1]:65535", true, "[2001:db8::1]:65535"},
        {"1.2.3.4:0", true, "1.2.3.4:0"},
        {"1.2.3:80", false, NULL},
        {"1.2.3.4", false, NULL},
        {"1.2.3.4:65536", false, NULL},
        {"1.2.3.4:-1", false, NULL},
        {"::1:80", false, NULL},
        {"[::1]80", false, NULL},
        {"[::1:80", false, NULL},
        {"[1.2.3.4]:80", false, NULL},
        {"256.0.0.1:80", false, NULL},
        {":80", false, NULL},
        {"", false, NULL},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        sm_endpoint ep;
        const char *why = NULL;
        bool ok = sm_endpoint_parse(t[i].in, strlen(t[i].in), &ep, &why);
        ck_assert_msg(ok == t[i].ok, "%s: parse %d", t[i].in, ok);
        if (ok) {
            char buf[SM_EP_STRLEN];
            sm_endpoint_format(&ep, buf, sizeof buf);
            ck_assert_str_eq(buf, t[i].out);
        } else {
            ck_assert_ptr_nonnull(why);
        }
    }
}
END_TEST

START_TEST(address_classes)
{
    static const struct {
        const char *in;
        bool any, mapped, loopback, multicast;
    } t[] = {
        {"0.0.0.0", true, false, false, false},
        {"::", true, false, false, false},
        {"::ffff:0.0.0.0", false, true, false, false},
        {"::ffff:127.0.0.1", false, true, true, false},
        {"127.0.0.2", false, false, true, false},
        {"::1", false, false, true, false},
        {"192.0.2.1", false, false, false, false},
        {"224.1.2.3", false, false, false, true},
        {"ff02::1", false, false, false, true},
        {"2001:db8::1", false, false, false, false},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        sm_addr a;
        ck_assert(sm_addr_parse(t[i].in, strlen(t[i].in), &a));
        ck_assert_msg(sm_addr_is_any(&a) == t[i].any, "%s any", t[i].in);
        ck_assert_msg(sm_addr_is_v4mapped(&a) == t[i].mapped, "%s mapped", t[i].in);
        ck_assert_msg(sm_addr_is_loopback(&a) == t[i].loopback, "%s loopback", t[i].in);
        ck_assert_msg(sm_addr_is_multicast(&a) == t[i].multicast, "%s multicast", t[i].in);
    }
    sm_addr m, v;
    uint32_t x, y;
    sm_addr_parse("::ffff:192.0.2.1", 16, &m);
    sm_addr_parse("192.0.2.1", 9, &v);
    ck_assert(sm_addr_v4(&m, &x) && sm_addr_v4(&v, &y));
    ck_assert_uint_eq(x, y);
    ck_assert(!sm_addr_equal(&m, &v)); /* same IPv4 address, different families */
}
END_TEST

START_TEST(names_round_trip)
{
    for (int e = 0; e < SM_ERR_COUNT; e++) {
        sm_err back;
        ck_assert(sm_err_parse(sm_err_name((sm_err)e), &back));
        ck_assert_int_eq(back, e);
    }
    sm_err again;
    ck_assert(sm_err_parse("EAGAIN", &again));
    ck_assert_int_eq(again, SM_EWOULDBLOCK);
    ck_assert(!sm_err_parse("EBOGUS", &again));
    for (int s = 0; s < SM_STATE_COUNT; s++) {
        sm_tcp_state back;
        ck_assert(sm_state_parse(sm_state_name((sm_tcp_state)s), &back));
        ck_assert_int_eq(back, s);
    }
    for (int o = 0; o < SM_OPT_COUNT; o++) {
        sm_option back;
        ck_assert(sm_option_parse(sm_option_name((sm_option)o), &back));
        ck_assert_int_eq(back, o);
    }
}
END_TEST

START_TEST(map_insert_delete)
{
    /* Insert, delete every third key, and check every key against a
     * reference array: backward-shift deletion must keep probe runs intact. */
    sm__map m = {0};
    enum { N = 20000 };
    static bool present[N];
    for (uint32_t i = 0; i < N; i++) {
        ck_assert(sm__map_put(&m, (uint64_t)i * 7919u, i));
        present[i] = true;
    }
    for (uint32_t i = 0; i < N; i += 3) {
        ck_assert(sm__map_del(&m, (uint64_t)i * 7919u));
        present[i] = false;
    }
    ck_assert(!sm__map_del(&m, 0));
    for (uint32_t i = 0; i < N; i++) {
        uint32_t v;
        bool got = sm__map_get(&m, (uint64_t)i * 7919u, &v);
        ck_assert_msg(got == present[i], "key %u", i);
        if (got)
            ck_assert_uint_eq(v, i);
    }
    ck_assert_uint_eq(m.count, N - (N + 2) / 3);
    sm__map_free(&m);
}
END_TEST

START_TEST(profiles_registered)
{
    static const char *const names[] = {"bsd", "linux-3.8", "linux", "windows-classic",
                                        "windows", "solaris", "macos", "ios",
                                        "openbsd", "netbsd", "freebsd-13",
                                        "solaris-11.4"};
    ck_assert_uint_eq(sm_profile_count(), 12);
    for (size_t i = 0; i < 12; i++) {
        const sm_profile *p = sm_profile_at(i);
        ck_assert_str_eq(sm_profile_name(p), names[i]);
        ck_assert_ptr_eq(sm_profile_find(names[i]), p);
        ck_assert(strlen(sm_profile_summary(p)) > 10);
    }
    /* Windows gives native names; both spellings match. */
    const sm_profile *win = sm_profile_find("windows");
    ck_assert_str_eq(sm_profile_err_name(win, SM_EADDRINUSE), "WSAEADDRINUSE");
    ck_assert(sm_profile_err_matches(win, SM_EADDRINUSE, "EADDRINUSE"));
    ck_assert(sm_profile_err_matches(win, SM_EADDRINUSE, "WSAEADDRINUSE"));
    ck_assert(!sm_profile_err_matches(sm_profile_find("linux"), SM_EADDRINUSE, "WSAEADDRINUSE"));
}
END_TEST

START_TEST(engine_common_rules)
{
    /* Rules every profile shares, checked under each. */
    for (size_t i = 0; i < sm_profile_count(); i++) {
        sm_world *w = test_world(sm_profile_name(sm_profile_at(i)));
        sm_id a = tsock(w, "a", SM_TCP, 4), u = tsock(w, "u", SM_UDP, 4);
        sm_id six = tsock(w, "six", SM_TCP, 6);
        ck_assert_int_eq(tbind(w, a, "203.0.113.9:7000"), SM_EADDRNOTAVAIL);
        ck_assert_int_eq(tbind(w, a, "[::1]:7000"), SM_EAFNOSUPPORT);
        ck_assert_int_eq(tbind(w, six, "127.0.0.1:7000"), SM_EINVAL);
        ck_assert_int_eq(tbind(w, a, "192.0.2.1:7000"), SM_OK);
        ck_assert_int_eq(tbind(w, a, "192.0.2.1:7001"), SM_EINVAL);
        ck_assert_int_eq(sm_listen(w, u, 1).err, SM_EOPNOTSUPP);
        ck_assert_int_eq(sm_close(w, a).err, SM_OK);
        ck_assert_int_eq(sm_close(w, a).err, SM_EBADF);
        /* the port is free again after close */
        sm_id b = tsock(w, "b", SM_TCP, 4);
        ck_assert_int_eq(tbind(w, b, "192.0.2.1:7000"), SM_OK);
        /* process exit closes everything it holds */
        sm_id main_proc = sm_proc_get(w, sm_host_find(w, "local"), "main", sm_user_get(w, "user"));
        ck_assert_int_eq(sm_proc_exit(w, main_proc).err, SM_OK);
        ck_assert_int_eq(sm_close(w, b).err, SM_EBADF);
        sm_id c = tsock(w, "c", SM_TCP, 4);
        ck_assert_int_eq(tbind(w, c, "192.0.2.1:7000"), SM_OK);
        /* a process that holds nothing exits cleanly (found by fuzzing:
         * tests/regress/exit-without-sockets.scn, UB under UBSan) */
        sm_id idle = sm_proc_get(w, sm_host_find(w, "local"), "idle", sm_user_get(w, "user"));
        ck_assert_int_eq(sm_proc_exit(w, idle).err, SM_OK);
        ck_assert_int_eq(sm_proc_exit(w, idle).err, SM_EINVAL);
        sm_world_free(w);
    }
}
END_TEST

START_TEST(deterministic_ports)
{
    /* Same seed, same ports; every profile. */
    for (size_t i = 0; i < sm_profile_count(); i++) {
        uint16_t first[2][20];
        for (int run = 0; run < 2; run++) {
            sm_world *w = test_world(sm_profile_name(sm_profile_at(i)));
            for (int k = 0; k < 20; k++) {
                char name[8];
                snprintf(name, sizeof name, "s%d", k);
                sm_id s = tsock(w, name, SM_TCP, 4);
                sm_result r = sm_bind(w, s, tep("0.0.0.0:0"));
                ck_assert_int_eq(r.err, SM_OK);
                first[run][k] = r.port;
            }
            sm_world_free(w);
        }
        ck_assert_mem_eq(first[0], first[1], sizeof first[0]);
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("addr");
    TCase *t = tcase_create("core");
    tcase_add_test(t, endpoint_parse_table);
    tcase_add_test(t, address_classes);
    tcase_add_test(t, names_round_trip);
    tcase_add_test(t, map_insert_delete);
    tcase_add_test(t, profiles_registered);
    tcase_add_test(t, engine_common_rules);
    tcase_add_test(t, deterministic_ports);
    suite_add_tcase(s, t);
    return s;
}

CHECK_MAIN(suite)
