/*
 * check_util.h - small helpers shared by the Check unit tests.
 *
 * test_world() builds the world a scenario starts from (host "local" with
 * 127.0.0.1, 127.0.0.2, ::1, 192.0.2.1, 192.0.2.2, 2001:db8::1/2; user
 * "user", process "main"); the t*() helpers keep table-driven tests short.
 */
#ifndef CHECK_UTIL_H
#define CHECK_UTIL_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sm.h"

static inline sm_world *test_world(const char *profile)
{
    const sm_profile *p = sm_profile_find(profile);
    ck_assert_msg(p != NULL, "no profile %s", profile);
    sm_world *w = sm_world_new(p, 1);
    sm_id h = sm_host_add(w, "local");
    static const char *const addrs[] = {"127.0.0.2", "192.0.2.1", "192.0.2.2",
                                        "2001:db8::1", "2001:db8::2"};
    for (size_t i = 0; i < sizeof addrs / sizeof addrs[0]; i++) {
        sm_addr a;
        ck_assert(sm_addr_parse(addrs[i], strlen(addrs[i]), &a));
        sm_host_add_addr(w, h, &a);
    }
    sm_proc_get(w, h, "main", sm_user_get(w, "user"));
    return w;
}

static inline sm_id tsock(sm_world *w, const char *name, sm_proto proto, int family)
{
    sm_id h = sm_host_find(w, "local");
    sm_id proc = sm_proc_get(w, h, "main", sm_user_get(w, "user"));
    sm_id s;
    ck_assert_int_eq(sm_socket(w, proc, proto, family, name, &s).err, SM_OK);
    return s;
}

/* A socket created by USER's own process (one process per user). */
static inline sm_id usock(sm_world *w, const char *user, sm_proto proto, int family,
                          const char *name)
{
    char pname[40];
    snprintf(pname, sizeof pname, "proc-%s", user);
    sm_id p = sm_proc_get(w, sm_host_find(w, "local"), pname, sm_user_get(w, user));
    sm_id s;
    ck_assert_int_eq(sm_socket(w, p, proto, family, name, &s).err, SM_OK);
    return s;
}

static inline void topt(sm_world *w, sm_id s, sm_option o)
{
    sm_result r = sm_setsockopt(w, s, o, 1, 0);
    ck_assert_msg(r.err == SM_OK, "setsockopt %s: %s", sm_option_name(o), sm_err_name(r.err));
}

static inline const sm_endpoint *tep(const char *text)
{
    static sm_endpoint ep;
    const char *why = NULL;
    ck_assert_msg(sm_endpoint_parse(text, strlen(text), &ep, &why), "%s: %s", text, why);
    return &ep;
}

static inline sm_err tbind(sm_world *w, sm_id s, const char *text)
{
    return sm_bind(w, s, tep(text)).err;
}

#define CHECK_MAIN(make_suite)                                              \
    int main(void)                                                          \
    {                                                                       \
        SRunner *sr = srunner_create(make_suite());                         \
        srunner_run_all(sr, CK_NORMAL);                                     \
        int failed = srunner_ntests_failed(sr);                             \
        srunner_free(sr);                                                   \
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;                        \
    }

#endif
