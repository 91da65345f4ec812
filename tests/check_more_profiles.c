/*
 * check_more_profiles.c - the decision tables of the profiles of issue 16
 * (macos, ios, openbsd, netbsd, freebsd-13, solaris-11.4), one test per
 * rule row of each profile file's opening table, through the public API.
 *
 * Every expected value comes from ../shared/reference/more-profiles.md
 * (section cited per row, with the kernel function or test it names) or,
 * where a row contrasts two systems, from bsd-solaris.md; none from running
 * the model.  A row says which rule of the profile's table it checks
 * ("macos 3" is rule 3 of macos.c's table) and its source, and every
 * assertion message repeats both.
 */
#include "check_util.h"

#include <stdio.h>
#include <string.h>

/* ---- helpers ------------------------------------------------------------- */

static sm_err xbind(sm_world *w, sm_id s, const char *ep)
{
    return tbind(w, s, ep);
}

static sm_err xopt(sm_world *w, sm_id s, sm_option o, int v1, int v2)
{
    return sm_setsockopt(w, s, o, v1, v2).err;
}

static const char *xsysctl(sm_world *w, const char *key, const char *value)
{
    const char *v[1] = {value};
    return sm_sysctl(w, sm_host_find(w, "local"), key, v, 1);
}

static uint16_t local_port(sm_world *w, sm_id s)
{
    sm_endpoint e;
    ck_assert(sm_sock_local(w, s, &e));
    return e.port;
}

/* A second host with one address, and a listener on it at port 80 (root). */
static sm_id peer_listener(sm_world *w, const char *host, const char *addr)
{
    sm_id h = sm_host_add(w, host);
    sm_addr a;
    ck_assert(sm_addr_parse(addr, strlen(addr), &a));
    ck_assert(sm_host_add_addr(w, h, &a));
    sm_id p = sm_proc_get(w, h, "srv", sm_user_get(w, "root"));
    sm_id l;
    ck_assert_int_eq(sm_socket(w, p, SM_TCP, 4, host, &l).err, SM_OK);
    sm_endpoint e = {a, 80};
    ck_assert_int_eq(sm_bind(w, l, &e).err, SM_OK);
    ck_assert_int_eq(sm_listen(w, l, 16).err, SM_OK);
    return l;
}

/* A connection from local socket c (bound to src) to dst, accepted on l;
 * c closes first and enters TIME_WAIT.  Returns the accepted socket. */
static sm_id active_close(sm_world *w, sm_id c, sm_id l, const char *src, const char *dst)
{
    if (src)
        ck_assert_int_eq(xbind(w, c, src), SM_OK);
    ck_assert_int_eq(sm_connect(w, c, tep(dst)).err, SM_OK);
    sm_id a;
    ck_assert_int_eq(sm_accept(w, l, "acc", &a).err, SM_OK);
    ck_assert_int_eq(sm_close(w, c).err, SM_OK);
    sm_advance(w, 10000000);
    ck_assert_int_eq(sm_close(w, a).err, SM_OK);
    sm_advance(w, 10000000);
    return a;
}

/* ---- macos: macos.c's table, more-profiles.md section 1 ------------------- */

START_TEST(macos_privileged_ports)
{
    /* macos 1: below 1024 needs root on a specific address only since
     * 10.14; xnu.privileged_wildcard=1 is 10.13 [S in_pcbbind() at
     * xnu-4570 / xnu-4903; more-profiles.md 1.1 item 6]. */
    sm_world *w = test_world("macos");
    sm_id a = tsock(w, "a", SM_TCP, 4), b = tsock(w, "b", SM_TCP, 4);
    ck_assert_msg(xbind(w, a, "127.0.0.1:80") == SM_EACCES, "macos 1 [1.1.6]: specific");
    ck_assert_msg(xbind(w, b, "0.0.0.0:80") == SM_OK, "macos 1 [1.1.6]: wildcard is free");
    sm_world_free(w);
    w = test_world("macos");
    ck_assert_ptr_null(xsysctl(w, "xnu.privileged_wildcard", "1"));
    a = tsock(w, "a", SM_TCP, 4);
    ck_assert_msg(xbind(w, a, "0.0.0.0:80") == SM_EACCES, "macos 1 [1.1.6 <= xnu-4570]");
    sm_world_free(w);
}
END_TEST

START_TEST(macos_restricted_port)
{
    /* macos 2: TCP 55555 is restricted even for root: EADDRINUSE; UDP is
     * not [S restricted_in_port.c; more-profiles.md 1.1 item 7]. */
    sm_world *w = test_world("macos");
    sm_id t = usock(w, "root", SM_TCP, 4, "t"), u = usock(w, "root", SM_UDP, 4, "u");
    ck_assert_msg(xbind(w, t, "0.0.0.0:55555") == SM_EADDRINUSE, "macos 2 [1.1.7]: TCP");
    ck_assert_msg(xbind(w, u, "0.0.0.0:55555") == SM_OK, "macos 2 [1.1.7]: UDP");
    sm_world_free(w);
}
END_TEST

START_TEST(macos_uid_rule)
{
    /* macos 3: another user's socket found by a wildcard lookup blocks,
     * unless both IPv4 binds are on the wildcard [S in_pcbbind();
     * more-profiles.md 1.1 item 8, bsd-solaris.md 2.1]. */
    sm_world *w = test_world("macos");
    sm_id a = usock(w, "alice", SM_TCP, 4, "a");
    ck_assert_int_eq(xopt(w, a, SM_SO_REUSEPORT, 1, 0), SM_OK);
    ck_assert_int_eq(xbind(w, a, "0.0.0.0:5000"), SM_OK);
    sm_id b = usock(w, "bob", SM_TCP, 4, "b"), c = usock(w, "bob", SM_TCP, 4, "c");
    ck_assert_int_eq(xopt(w, b, SM_SO_REUSEPORT, 1, 0), SM_OK);
    ck_assert_int_eq(xopt(w, c, SM_SO_REUSEPORT, 1, 0), SM_OK);
    ck_assert_msg(xbind(w, b, "192.0.2.1:5000") == SM_EADDRINUSE, "macos 3: specific over "
                  "another user's wildcard");
    ck_assert_msg(xbind(w, c, "0.0.0.0:5000") == SM_OK, "macos 3: both wildcard, both "
                  "SO_REUSEPORT");
    sm_world_free(w);
}
END_TEST

START_TEST(macos_conflicts)
{
    /* macos 4: SO_REUSEADDR never shares an exact address; SO_REUSEPORT on
     * both does; with an option only an exact unconnected socket is looked
     * at [S in_pcbbind(); bsd-solaris.md 1.2 "XNU the same algorithm"]. */
    sm_world *w = test_world("macos");
    sm_id a = tsock(w, "a", SM_TCP, 4), b = tsock(w, "b", SM_TCP, 4);
    ck_assert_int_eq(xbind(w, a, "192.0.2.1:5001"), SM_OK);
    ck_assert_int_eq(xopt(w, b, SM_SO_REUSEADDR, 1, 0), SM_OK);
    ck_assert_msg(xbind(w, b, "192.0.2.1:5001") == SM_EADDRINUSE, "macos 4: RA, exact");
    sm_id c = tsock(w, "c", SM_TCP, 4), d = tsock(w, "d", SM_TCP, 4);
    ck_assert_int_eq(xopt(w, c, SM_SO_REUSEPORT, 1, 0), SM_OK);
    ck_assert_int_eq(xopt(w, d, SM_SO_REUSEPORT, 1, 0), SM_OK);
    ck_assert_int_eq(xbind(w, c, "192.0.2.1:5002"), SM_OK);
    ck_assert_msg(xbind(w, d, "192.0.2.1:5002") == SM_OK, "macos 4: RP on both");
    sm_id e = tsock(w, "e", SM_TCP, 4), f = tsock(w, "f", SM_TCP, 4);
    ck_assert_int_eq(xbind(w, e, "0.0.0.0:5003"), SM_OK);
    ck_assert_int_eq(sm_listen(w, e, 5).err, SM_OK);
    ck_assert_int_eq(xopt(w, f, SM_SO_REUSEADDR, 1, 0), SM_OK);
    ck_assert_msg(xbind(w, f, "192.0.2.1:5003") == SM_OK, "macos 4: RA, specific beside "
                  "a wildcard listener");
    sm_world_free(w);
}
END_TEST

START_TEST(macos_dual_stack)
{
    /* macos 5: v6only defaults to 0, and [::] with V6ONLY then a default
     * (dual-stack) [::] on the same UDP port: EADDRINUSE
     * [T socket_bind_35243417.c; more-profiles.md 1.2]. */
    sm_world *w = test_world("macos");
    sm_id a = tsock(w, "a", SM_UDP, 6), b = tsock(w, "b", SM_UDP, 6);
    ck_assert_int_eq(xopt(w, a, SM_IPV6_V6ONLY, 1, 0), SM_OK);
    ck_assert_int_eq(xbind(w, a, "[::]:5004"), SM_OK);
    ck_assert_msg(xbind(w, b, "[::]:5004") == SM_EADDRINUSE, "macos 5 [T 35243417]");
    sm_id c = tsock(w, "c", SM_UDP, 6);
    ck_assert_msg(xbind(w, c, "[::]:5005") == SM_OK, "macos 5 [T 35243417]: p+1");
    sm_world_free(w);
}
END_TEST

START_TEST(macos_listen_and_ports)
{
    /* macos 6: listen() does not re-check [S tcp_usr_listen()].
     * macos 7: TCP automatic ports in sequence from 49152
     * (net.inet.tcp.randomize_ports = 0) [S in_pcbbind(); I for the first
     * port; more-profiles.md 1.3]. */
    sm_world *w = test_world("macos");
    sm_id a = tsock(w, "a", SM_TCP, 4), b = tsock(w, "b", SM_TCP, 4);
    ck_assert_int_eq(xbind(w, a, "0.0.0.0:0"), SM_OK);
    ck_assert_int_eq(xbind(w, b, "0.0.0.0:0"), SM_OK);
    ck_assert_msg(local_port(w, a) == 49152 && local_port(w, b) == 49153,
                  "macos 7 [1.3]: got %u, %u", local_port(w, a), local_port(w, b));
    ck_assert_msg(sm_listen(w, a, 5).err == SM_OK, "macos 6");
    sm_world_free(w);
}
END_TEST

START_TEST(macos_time_wait)
{
    /* macos 9: connect() to a 4-tuple in TIME_WAIT: EADDRINUSE
     * [more-profiles.md 1.4].  macos 10: TIME_WAIT is 2 * 15 s, freed when
     * the 10 s collector runs [S tcp_gc(); 1.6]: still there at 29 s,
     * gone by 40 s. */
    sm_world *w = test_world("macos");
    sm_id l = peer_listener(w, "peer", "198.51.100.1");
    sm_id c = tsock(w, "c", SM_TCP, 4);
    ck_assert_int_eq(xopt(w, c, SM_SO_REUSEADDR, 1, 0), SM_OK);
    active_close(w, c, l, "192.0.2.1:6000", "198.51.100.1:80");
    ck_assert_int_eq(sm_sock_state(w, c), SM_TIME_WAIT);
    sm_id d = tsock(w, "d", SM_TCP, 4);
    ck_assert_int_eq(xopt(w, d, SM_SO_REUSEADDR, 1, 0), SM_OK);
    ck_assert_int_eq(xbind(w, d, "192.0.2.1:6000"), SM_OK);
    ck_assert_msg(sm_connect(w, d, tep("198.51.100.1:80")).err == SM_EADDRINUSE, "macos 9");
    sm_advance(w, 29000000000ull);
    ck_assert_msg(sm_sock_state(w, c) == SM_TIME_WAIT, "macos 10: at 29 s");
    sm_advance(w, 11000000000ull);
    ck_assert_msg(sm_sock_state(w, c) == SM_CLOSED, "macos 10: by 40 s");
    sm_world_free(w);
}
END_TEST

START_TEST(macos_options)
{
    /* macos 14: SO_LINGER_SEC exists on macOS only [S uipc_socket.c;
     * 1.8]; macos 15: no SO_REUSEPORT_LB [bsd-solaris.md 2.1]. */
    sm_world *w = test_world("macos");
    sm_id a = tsock(w, "a", SM_TCP, 4);
    ck_assert_msg(xopt(w, a, SM_SO_LINGER_SEC, 1, 5) == SM_OK, "macos 14");
    ck_assert_msg(xopt(w, a, SM_SO_REUSEPORT_LB, 1, 0) == SM_ENOPROTOOPT, "macos 15");
    sm_world_free(w);
    w = test_world("linux");
    a = tsock(w, "a", SM_TCP, 4);
    ck_assert_msg(xopt(w, a, SM_SO_LINGER_SEC, 1, 5) == SM_ENOPROTOOPT,
                  "macos 14: not a Linux option");
    sm_world_free(w);
}
END_TEST

/* ---- ios: ios.c's table ----------------------------------------------------- */

START_TEST(ios_rules)
{
    /* ios 1: no privileged ports [S in_pcbbind() at xnu-6153, HEAD;
     * more-profiles.md 1.1 item 6].  ios 2: TCP and UDP 62742, UDP 62743
     * restricted [S restricted_in_port.c; 1.1 item 7]. */
    sm_world *w = test_world("ios");
    sm_id a = tsock(w, "a", SM_TCP, 4);
    ck_assert_msg(xbind(w, a, "127.0.0.1:80") == SM_OK, "ios 1");
    sm_id t = usock(w, "root", SM_TCP, 4, "t"), u = usock(w, "root", SM_UDP, 4, "u");
    sm_id v = usock(w, "root", SM_UDP, 4, "v");
    ck_assert_msg(xbind(w, t, "0.0.0.0:62742") == SM_EADDRINUSE, "ios 2: TCP 62742");
    ck_assert_msg(xbind(w, u, "0.0.0.0:62743") == SM_EADDRINUSE, "ios 2: UDP 62743");
    ck_assert_msg(xbind(w, v, "0.0.0.0:55555") == SM_OK, "ios 2: UDP 55555 is free");
    sm_world_free(w);
}
END_TEST

/* ---- openbsd: openbsd.c's table, more-profiles.md section 2 -------------- */

START_TEST(openbsd_families)
{
    /* openbsd 1: no v4-mapped local addresses [S in6_pcbaddrisavail()].
     * openbsd 2: separate IPv4 and IPv6 tables [S in_pcb.c; 2.7].
     * openbsd 3: IPV6_V6ONLY 0 fails with EINVAL [S ip6_ctloutput()]. */
    sm_world *w = test_world("openbsd");
    sm_id m = tsock(w, "m", SM_TCP, 6);
    ck_assert_msg(xbind(w, m, "[::ffff:192.0.2.1]:7000") == SM_EADDRNOTAVAIL, "openbsd 1");
    sm_id a = tsock(w, "a", SM_TCP, 4), b = tsock(w, "b", SM_TCP, 6);
    ck_assert_int_eq(xbind(w, a, "0.0.0.0:7001"), SM_OK);
    ck_assert_msg(xbind(w, b, "[::]:7001") == SM_OK, "openbsd 2");
    sm_id c = tsock(w, "c", SM_TCP, 6);
    ck_assert_msg(xopt(w, c, SM_IPV6_V6ONLY, 0, 0) == SM_EINVAL, "openbsd 3");
    ck_assert_msg(xopt(w, c, SM_IPV6_V6ONLY, 1, 0) == SM_OK, "openbsd 3: 1 is fine");
    sm_world_free(w);
}
END_TEST

START_TEST(openbsd_uid_and_reuse)
{
    /* openbsd 4: the uid rule has no exemption, not even two wildcards
     * with SO_REUSEPORT [S in_pcbaddrisavail_lock(); 2.7 "strict"].
     * openbsd 5: two SO_REUSEADDR sockets on one exact address conflict
     * [T regress in_pcbbind T5]. */
    sm_world *w = test_world("openbsd");
    sm_id a = usock(w, "alice", SM_TCP, 4, "a"), b = usock(w, "bob", SM_TCP, 4, "b");
    ck_assert_int_eq(xopt(w, a, SM_SO_REUSEPORT, 1, 0), SM_OK);
    ck_assert_int_eq(xopt(w, b, SM_SO_REUSEPORT, 1, 0), SM_OK);
    ck_assert_int_eq(xbind(w, a, "0.0.0.0:7002"), SM_OK);
    ck_assert_msg(xbind(w, b, "0.0.0.0:7002") == SM_EADDRINUSE, "openbsd 4");
    sm_id c = tsock(w, "c", SM_UDP, 4), d = tsock(w, "d", SM_UDP, 4);
    ck_assert_int_eq(xopt(w, c, SM_SO_REUSEADDR, 1, 0), SM_OK);
    ck_assert_int_eq(xopt(w, d, SM_SO_REUSEADDR, 1, 0), SM_OK);
    ck_assert_int_eq(xbind(w, c, "192.0.2.1:7003"), SM_OK);
    ck_assert_msg(xbind(w, d, "192.0.2.1:7003") == SM_EADDRINUSE, "openbsd 5 [T T5]");
    sm_world_free(w);
}
END_TEST

START_TEST(openbsd_privilege_after_conflict)
{
    /* openbsd 6: a busy privileged port is EADDRINUSE, a free one EACCES;
     * 2049 is privileged too [S in_pcbbind_locked(), in_rootonly(); 2.7]. */
    sm_world *w = test_world("openbsd");
    sm_id r = usock(w, "root", SM_TCP, 4, "r");
    ck_assert_int_eq(xbind(w, r, "127.0.0.1:80"), SM_OK);
    sm_id a = tsock(w, "a", SM_TCP, 4), b = tsock(w, "b", SM_TCP, 4), c = tsock(w, "c", SM_UDP, 4);
    ck_assert_msg(xbind(w, a, "127.0.0.1:80") == SM_EADDRINUSE, "openbsd 6: busy");
    ck_assert_msg(xbind(w, b, "127.0.0.1:81") == SM_EACCES, "openbsd 6: free");
    ck_assert_msg(xbind(w, c, "0.0.0.0:2049") == SM_EACCES, "openbsd 6: 2049");
    sm_world_free(w);
}
END_TEST

START_TEST(openbsd_ports_and_linger)
{
    /* openbsd 8: automatic ports skip in_baddynamic ports (TCP 2049)
     * [S in_pcbpickport(); 2.2]: with the range 2049..2050 the first port
     * handed out is 2050, then none is left: EADDRNOTAVAIL [T autoport].
     * openbsd 12: l_linger outside 0..32767: EINVAL [S sosetopt(); 2.6]. */
    sm_world *w = test_world("openbsd");
    ck_assert_ptr_null(xsysctl(w, "net.inet.ip.portfirst", "2049"));
    ck_assert_ptr_null(xsysctl(w, "net.inet.ip.portlast", "2050"));
    sm_id a = tsock(w, "a", SM_TCP, 4), b = tsock(w, "b", SM_TCP, 4);
    ck_assert_int_eq(xbind(w, a, "0.0.0.0:0"), SM_OK);
    ck_assert_msg(local_port(w, a) == 2050, "openbsd 8: got %u", local_port(w, a));
    ck_assert_msg(xbind(w, b, "0.0.0.0:0") == SM_EADDRNOTAVAIL, "openbsd 8 [T autoport]");
    sm_id c = tsock(w, "c", SM_TCP, 4);
    ck_assert_msg(xopt(w, c, SM_SO_LINGER, 1, -1) == SM_EINVAL, "openbsd 12: -1");
    ck_assert_msg(xopt(w, c, SM_SO_LINGER, 1, 40000) == SM_EINVAL, "openbsd 12: 40000");
    ck_assert_msg(xopt(w, c, SM_SO_LINGER, 1, 5) == SM_OK, "openbsd 12: 5");
    sm_world_free(w);
}
END_TEST

START_TEST(openbsd_time_wait)
{
    /* openbsd 9: connect() to a 4-tuple in TIME_WAIT: EADDRINUSE
     * [S in_pcbconnect(); 2.2].  openbsd 10: TIME_WAIT lasts 60 s
     * [S tcp_timer.h; 2.4]. */
    sm_world *w = test_world("openbsd");
    sm_id l = peer_listener(w, "peer", "198.51.100.1");
    sm_id c = tsock(w, "c", SM_TCP, 4);
    ck_assert_int_eq(xopt(w, c, SM_SO_REUSEADDR, 1, 0), SM_OK);
    active_close(w, c, l, "192.0.2.1:7100", "198.51.100.1:80");
    sm_id d = tsock(w, "d", SM_TCP, 4);
    ck_assert_int_eq(xopt(w, d, SM_SO_REUSEADDR, 1, 0), SM_OK);
    ck_assert_int_eq(xbind(w, d, "192.0.2.1:7100"), SM_OK);
    ck_assert_msg(sm_connect(w, d, tep("198.51.100.1:80")).err == SM_EADDRINUSE, "openbsd 9");
    sm_advance(w, 59000000000ull);
    ck_assert_msg(sm_sock_state(w, c) == SM_TIME_WAIT, "openbsd 10: at 59 s");
    sm_advance(w, 2000000000ull);
    ck_assert_msg(sm_sock_state(w, c) == SM_CLOSED, "openbsd 10: after 60 s");
    sm_world_free(w);
}
END_TEST

/* ---- netbsd: netbsd.c's table, more-profiles.md section 3 ---------------- */

START_TEST(netbsd_bind)
{
    /* netbsd 1: privilege before any conflict [S inpcb_bind_port()].
     * netbsd 2: two wildcards of different users pass only over
     * SO_REUSEPORT [S inpcb_bind_port()].
     * netbsd 4: an IPv4 bind meets a dual-stack [::] socket: EADDRINUSE
     * [S inpcb_bind_port(): in6pcb_lookup_port()].
     * netbsd 5: v6only defaults to 1, so [::] and 0.0.0.0 coexist. */
    sm_world *w = test_world("netbsd");
    sm_id r = usock(w, "root", SM_TCP, 4, "r");
    ck_assert_int_eq(xbind(w, r, "127.0.0.1:80"), SM_OK);
    sm_id a = tsock(w, "a", SM_TCP, 4);
    ck_assert_msg(xbind(w, a, "127.0.0.1:80") == SM_EACCES, "netbsd 1");
    sm_id x = usock(w, "alice", SM_TCP, 4, "x"), y = usock(w, "bob", SM_TCP, 4, "y");
    sm_id z = usock(w, "alice", SM_TCP, 4, "z"), q = usock(w, "bob", SM_TCP, 4, "q");
    ck_assert_int_eq(xopt(w, x, SM_SO_REUSEPORT, 1, 0), SM_OK);
    ck_assert_int_eq(xopt(w, y, SM_SO_REUSEPORT, 1, 0), SM_OK);
    ck_assert_int_eq(xbind(w, x, "0.0.0.0:8000"), SM_OK);
    ck_assert_msg(xbind(w, y, "0.0.0.0:8000") == SM_OK, "netbsd 2: over SO_REUSEPORT");
    ck_assert_int_eq(xopt(w, q, SM_SO_REUSEPORT, 1, 0), SM_OK);
    ck_assert_int_eq(xbind(w, z, "0.0.0.0:8001"), SM_OK);
    ck_assert_msg(xbind(w, q, "0.0.0.0:8001") == SM_EADDRINUSE, "netbsd 2: no SO_REUSEPORT");
    sm_id d6 = tsock(w, "d6", SM_TCP, 6), v4 = tsock(w, "v4", SM_TCP, 4);
    ck_assert_int_eq(xopt(w, d6, SM_IPV6_V6ONLY, 0, 0), SM_OK);
    ck_assert_int_eq(xbind(w, d6, "[::]:8002"), SM_OK);
    ck_assert_msg(xbind(w, v4, "0.0.0.0:8002") == SM_EADDRINUSE, "netbsd 4");
    sm_id o6 = tsock(w, "o6", SM_TCP, 6), o4 = tsock(w, "o4", SM_TCP, 4);
    ck_assert_int_eq(xbind(w, o6, "[::]:8003"), SM_OK);
    ck_assert_msg(xbind(w, o4, "0.0.0.0:8003") == SM_OK, "netbsd 5");
    sm_world_free(w);
}
END_TEST

START_TEST(netbsd_ports)
{
    /* netbsd 7: automatic ports count down from anonportmax (65535) and
     * run out with EAGAIN [S portalgo.c:algo_bsd(); I for the first port]. */
    sm_world *w = test_world("netbsd");
    sm_id a = tsock(w, "a", SM_TCP, 4), b = tsock(w, "b", SM_TCP, 4);
    ck_assert_int_eq(xbind(w, a, "0.0.0.0:0"), SM_OK);
    ck_assert_int_eq(xbind(w, b, "0.0.0.0:0"), SM_OK);
    ck_assert_msg(local_port(w, a) == 65535 && local_port(w, b) == 65534,
                  "netbsd 7: got %u, %u", local_port(w, a), local_port(w, b));
    sm_world_free(w);
    w = test_world("netbsd");
    ck_assert_ptr_null(xsysctl(w, "net.inet.ip.anonportmin", "50000"));
    ck_assert_ptr_null(xsysctl(w, "net.inet.ip.anonportmax", "50000"));
    a = tsock(w, "a", SM_UDP, 4);
    b = tsock(w, "b", SM_UDP, 4);
    ck_assert_int_eq(xbind(w, a, "0.0.0.0:0"), SM_OK);
    ck_assert_msg(xbind(w, b, "0.0.0.0:0") == SM_EWOULDBLOCK, "netbsd 7: EAGAIN");
    sm_world_free(w);
}
END_TEST

/* TIME_WAIT length toward a peer at addr (ms, by 1 s steps up to 61 s). */
static unsigned tw_seconds(const char *profile, const char *peer, const char *src)
{
    sm_world *w = test_world(profile);
    sm_id l = peer_listener(w, "peer", peer);
    sm_id c = tsock(w, "c", SM_TCP, 4);
    char dst[64];
    snprintf(dst, sizeof dst, "%s:80", peer);
    active_close(w, c, l, src, dst);
    unsigned s = 0;
    while (sm_sock_state(w, c) == SM_TIME_WAIT && s < 61) {
        sm_advance(w, 1000000000ull);
        s++;
    }
    sm_world_free(w);
    return s;
}

START_TEST(netbsd_time_wait_by_peer)
{
    /* netbsd 9: TIME_WAIT is 2 * MSL chosen by the peer: an attached
     * subnet 5 s (10 s), elsewhere 30 s (60 s) [S tcp_established(),
     * tcp_vtw.c:class_to_msl; more-profiles.md 3]. */
    unsigned near = tw_seconds("netbsd", "192.0.2.77", "192.0.2.1:0");
    unsigned far = tw_seconds("netbsd", "198.51.100.1", "192.0.2.1:0");
    ck_assert_msg(near >= 10 && near <= 11, "netbsd 9: attached peer, %u s", near);
    ck_assert_msg(far >= 60 && far <= 61, "netbsd 9: remote peer, %u s", far);
}
END_TEST

/* ---- freebsd-13: freebsd_13.c's table, more-profiles.md section 5 -------- */

START_TEST(freebsd13_local_time_wait)
{
    /* freebsd-13 1: nolocaltimewait = 0: a connection to one of the host's
     * own addresses keeps TIME_WAIT (60 s); on 14 and later ("bsd") it
     * keeps none [S 13.x tcp_timewait.c; D 14.0 release notes]. */
    const char *names[2] = {"freebsd-13", "bsd"};
    for (int i = 0; i < 2; i++) {
        sm_world *w = test_world(names[i]);
        sm_id p = sm_proc_get(w, sm_host_find(w, "local"), "srv", sm_user_get(w, "root"));
        sm_id l;
        ck_assert_int_eq(sm_socket(w, p, SM_TCP, 4, "l", &l).err, SM_OK);
        ck_assert_int_eq(xbind(w, l, "192.0.2.2:8080"), SM_OK);
        ck_assert_int_eq(sm_listen(w, l, 5).err, SM_OK);
        sm_id c = tsock(w, "c", SM_TCP, 4);
        active_close(w, c, l, "192.0.2.1:0", "192.0.2.2:8080");
        sm_tcp_state want = i == 0 ? SM_TIME_WAIT : SM_CLOSED;
        ck_assert_msg(sm_sock_state(w, c) == want, "freebsd-13 1: %s keeps %s",
                      names[i], sm_state_name(sm_sock_state(w, c)));
        sm_world_free(w);
    }
}
END_TEST

START_TEST(freebsd13_uid_lb_exemption)
{
    /* freebsd-13 3: another user may bind the wildcard over a wildcard
     * SO_REUSEPORT_LB socket without SO_REUSEPORT on 13.x; main refuses
     * [S 13.1 in_pcbbind_setup(); bsd-solaris.md 1.3]. */
    const char *names[2] = {"freebsd-13", "bsd"};
    for (int i = 0; i < 2; i++) {
        sm_world *w = test_world(names[i]);
        sm_id a = usock(w, "alice", SM_TCP, 4, "a"), b = usock(w, "bob", SM_TCP, 4, "b");
        ck_assert_int_eq(xopt(w, a, SM_SO_REUSEPORT_LB, 1, 0), SM_OK);
        ck_assert_int_eq(xopt(w, b, SM_SO_REUSEPORT_LB, 1, 0), SM_OK);
        ck_assert_int_eq(xbind(w, a, "0.0.0.0:8100"), SM_OK);
        sm_err want = i == 0 ? SM_OK : SM_EADDRINUSE;
        sm_err got = xbind(w, b, "0.0.0.0:8100");
        ck_assert_msg(got == want, "freebsd-13 3: %s gives %s", names[i], sm_err_name(got));
        sm_world_free(w);
    }
}
END_TEST

/* ---- solaris-11.4: solaris_11_4.c's table, more-profiles.md section 4 ---- */

START_TEST(solaris114_reuseport)
{
    /* solaris-11.4 1: SO_REUSEPORT exists (illumos, "solaris": not)
     * [D-3P libuv #4407, libevent #1624; 4].  solaris-11.4 2: two sockets
     * with SO_REUSEPORT share the port [D-3P]. */
    sm_world *w = test_world("solaris-11.4");
    sm_id a = tsock(w, "a", SM_TCP, 4), b = tsock(w, "b", SM_TCP, 4);
    ck_assert_msg(xopt(w, a, SM_SO_REUSEPORT, 1, 0) == SM_OK, "solaris-11.4 1");
    ck_assert_int_eq(xopt(w, b, SM_SO_REUSEPORT, 1, 0), SM_OK);
    ck_assert_int_eq(xbind(w, a, "0.0.0.0:9000"), SM_OK);
    ck_assert_int_eq(sm_listen(w, a, 5).err, SM_OK);
    ck_assert_msg(xbind(w, b, "0.0.0.0:9000") == SM_OK, "solaris-11.4 2");
    ck_assert_msg(sm_listen(w, b, 5).err == SM_OK, "solaris-11.4 2: listen");
    sm_world_free(w);
    w = test_world("solaris");
    a = tsock(w, "a", SM_TCP, 4);
    ck_assert_msg(xopt(w, a, SM_SO_REUSEPORT, 1, 0) == SM_ENOPROTOOPT, "solaris has none [4]");
    sm_world_free(w);
}
END_TEST

START_TEST(solaris114_reuseaddr_stops_balancing)
{
    /* solaris-11.4 3: SO_REUSEADDR with SO_REUSEPORT turns the balancing
     * off [D-3P libuv #4732/#4733]; the first bound listener then takes
     * every connection [U, as "solaris"]. */
    sm_world *w = test_world("solaris-11.4");
    sm_id p = sm_proc_get(w, sm_host_find(w, "local"), "srv", sm_user_get(w, "root"));
    sm_id l[2];
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(sm_socket(w, p, SM_TCP, 4, i ? "l2" : "l1", &l[i]).err, SM_OK);
        ck_assert_int_eq(xopt(w, l[i], SM_SO_REUSEPORT, 1, 0), SM_OK);
        ck_assert_int_eq(xopt(w, l[i], SM_SO_REUSEADDR, 1, 0), SM_OK);
        ck_assert_int_eq(xbind(w, l[i], "192.0.2.2:9001"), SM_OK);
        ck_assert_int_eq(sm_listen(w, l[i], 16).err, SM_OK);
    }
    for (int i = 0; i < 6; i++) {
        char name[8];
        snprintf(name, sizeof name, "c%d", i);
        sm_id c = tsock(w, name, SM_TCP, 4);
        ck_assert_int_eq(sm_connect(w, c, tep("192.0.2.2:9001")).err, SM_OK);
    }
    ck_assert_msg(sm_sock_pending(w, l[0]) == 6 && sm_sock_pending(w, l[1]) == 0,
                  "solaris-11.4 3: %d and %d", sm_sock_pending(w, l[0]),
                  sm_sock_pending(w, l[1]));
    sm_world_free(w);
}
END_TEST

static Suite *more_suite(void)
{
    Suite *s = suite_create("more profiles");
    TCase *m = tcase_create("macos, ios");
    tcase_add_test(m, macos_privileged_ports);
    tcase_add_test(m, macos_restricted_port);
    tcase_add_test(m, macos_uid_rule);
    tcase_add_test(m, macos_conflicts);
    tcase_add_test(m, macos_dual_stack);
    tcase_add_test(m, macos_listen_and_ports);
    tcase_add_test(m, macos_time_wait);
    tcase_add_test(m, macos_options);
    tcase_add_test(m, ios_rules);
    suite_add_tcase(s, m);
    TCase *o = tcase_create("openbsd");
    tcase_add_test(o, openbsd_families);
    tcase_add_test(o, openbsd_uid_and_reuse);
    tcase_add_test(o, openbsd_privilege_after_conflict);
    tcase_add_test(o, openbsd_ports_and_linger);
    tcase_add_test(o, openbsd_time_wait);
    suite_add_tcase(s, o);
    TCase *n = tcase_create("netbsd");
    tcase_add_test(n, netbsd_bind);
    tcase_add_test(n, netbsd_ports);
    tcase_add_test(n, netbsd_time_wait_by_peer);
    suite_add_tcase(s, n);
    TCase *f = tcase_create("freebsd-13");
    tcase_add_test(f, freebsd13_local_time_wait);
    tcase_add_test(f, freebsd13_uid_lb_exemption);
    suite_add_tcase(s, f);
    TCase *so = tcase_create("solaris-11.4");
    tcase_add_test(so, solaris114_reuseport);
    tcase_add_test(so, solaris114_reuseaddr_stops_balancing);
    suite_add_tcase(s, so);
    return s;
}

CHECK_MAIN(more_suite)
