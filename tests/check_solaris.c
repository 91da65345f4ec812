/*
 * check_solaris.c - the solaris profile (Solaris / illumos) against the
 * reference notes.
 *
 * Tables: the TCP bind decision of tcp_bindi() (SO_EXCLBIND on either
 * socket, only the new socket's SO_REUSEADDR counts, the exact-address rule
 * under SO_REUSEADDR, disjoint IPv4/IPv6 port spaces for an explicit port),
 * the UDP decision of udp_bind() (SO_REUSEADDR on the new socket alone
 * allows a duplicate), the privileged ports (below 1024, and 2049 / 4045),
 * the anonymous port range and its exhaustion.  Every expected value comes
 * from ../shared/reference/bsd-solaris.md §5 (cited per table), not from
 * running the model.  Existing sockets that are connected or in TIME_WAIT
 * (half of S5) need the connection model and are not here yet.
 */
#include "check_util.h"

#include <stdio.h>
#include <string.h>

/* ---- helpers ------------------------------------------------------------- */


enum { RA = 1, EX = 2 }; /* SO_REUSEADDR, SO_EXCLBIND */

static void set_opts(sm_world *w, sm_id s, unsigned o)
{
    if (o & RA)
        topt(w, s, SM_SO_REUSEADDR);
    if (o & EX)
        topt(w, s, SM_SO_EXCLBIND);
}

static const char *opt_text(unsigned o)
{
    static const char *const t[4] = {"-", "RA", "EXCLBIND", "RA+EXCLBIND"};
    return t[o & 3];
}

/* One row: E (family, options, address, listening?) binds port 5000, then
 * N (family, options, address) binds it too. */
typedef struct bind_case {
    int ef;
    unsigned eo;
    const char *ea;
    bool listen;
    int nf;
    unsigned no;
    const char *na;
    sm_err want;
    const char *why;
} bind_case;

static int run_cases(const bind_case *t, size_t n, sm_proto proto, const char *table)
{
    int cases = 0;
    for (size_t i = 0; i < n; i++) {
        const bind_case *c = &t[i];
        sm_world *w = test_world("solaris");
        sm_id e = usock(w, "user", proto, c->ef, "E");
        sm_id s = usock(w, "user", proto, c->nf, "N");
        set_opts(w, e, c->eo);
        set_opts(w, s, c->no);
        char ep[64];
        snprintf(ep, sizeof ep, "%s:5000", c->ea);
        ck_assert_int_eq(tbind(w, e, ep), SM_OK);
        if (c->listen)
            ck_assert_int_eq(sm_listen(w, e, 8).err, SM_OK);
        snprintf(ep, sizeof ep, "%s:5000", c->na);
        sm_err got = tbind(w, s, ep);
        ck_assert_msg(got == c->want,
                      "%s case %zu (%s): E AF_INET%s %s %s%s, N AF_INET%s %s %s: expected %s, got %s",
                      table, i, c->why, c->ef == 6 ? "6" : "", opt_text(c->eo), c->ea,
                      c->listen ? " listening" : "", c->nf == 6 ? "6" : "", opt_text(c->no), c->na,
                      sm_err_name(c->want), sm_err_name(got));
        cases++;
        sm_world_free(w);
    }
    return cases;
}

/* ---- TCP: tcp_bindi() ------------------------------------------------------ */

/*
 * bsd-solaris.md §5.1 tcp_bindi(), per existing endpoint E:
 *  - SO_EXCLBIND on E or N while E is at most ESTABLISHED: busy if E's
 *    address or N's is the wildcard or they are equal; two different
 *    specific addresses pass.  This test comes before the ipversion one.
 *  - explicit port, different conn_ipversion: skipped (disjoint spaces).
 *  - N without SO_REUSEADDR: busy unless both specific and different
 *    (every state >= BOUND: bound and listening alike).
 *  - N with SO_REUSEADDR (E's is never read): busy only on exactly the same
 *    address (ANY == ANY) with E BOUND or LISTEN.
 * Synthetic case S5 (§6): E LISTEN 0.0.0.0, N RA 0.0.0.0 -> EADDRINUSE;
 * E EXCLBIND (LISTEN 0.0.0.0), N RA on a specific address -> EADDRINUSE.
 */
static const bind_case tcp_cases[] = {
    /* SO_EXCLBIND on either side */
    {4, EX, "0.0.0.0", true, 4, RA, "192.0.2.1", SM_EADDRINUSE, "S5: EXCLBIND E, RA cannot pass"},
    {4, EX, "0.0.0.0", false, 4, 0, "192.0.2.1", SM_EADDRINUSE, "EXCLBIND: unspec then spec"},
    {4, EX, "192.0.2.1", false, 4, 0, "0.0.0.0", SM_EADDRINUSE, "EXCLBIND: spec then unspec"},
    {4, EX, "192.0.2.1", false, 4, RA, "192.0.2.1", SM_EADDRINUSE, "EXCLBIND: same address"},
    {4, EX, "192.0.2.1", false, 4, 0, "192.0.2.2", SM_OK, "EXCLBIND: different specific"},
    {4, EX, "192.0.2.1", true, 4, RA, "192.0.2.2", SM_OK, "EXCLBIND: different specific, RA"},
    {4, 0, "192.0.2.1", false, 4, EX, "0.0.0.0", SM_EADDRINUSE, "N's EXCLBIND: spec then unspec"},
    {4, 0, "0.0.0.0", true, 4, EX, "192.0.2.1", SM_EADDRINUSE, "N's EXCLBIND: unspec then spec"},
    {4, 0, "192.0.2.1", false, 4, EX, "192.0.2.2", SM_OK, "N's EXCLBIND: different specific"},
    {4, 0, "192.0.2.1", false, 4, EX | RA, "192.0.2.1", SM_EADDRINUSE, "N's EXCLBIND+RA, same"},
    {4, EX, "0.0.0.0", false, 6, 0, "[::]", SM_EADDRINUSE,
     "EXCLBIND is tested before the disjoint v4/v6 spaces"},
    {6, 0, "[::]", false, 4, EX, "0.0.0.0", SM_EADDRINUSE, "N's EXCLBIND across families"},
    /* N without SO_REUSEADDR */
    {4, 0, "0.0.0.0", false, 4, 0, "0.0.0.0", SM_EADDRINUSE, "no RA: same wildcard"},
    {4, 0, "0.0.0.0", true, 4, 0, "192.0.2.1", SM_EADDRINUSE, "no RA: wildcard E overlaps"},
    {4, 0, "192.0.2.1", false, 4, 0, "0.0.0.0", SM_EADDRINUSE, "no RA: wildcard N overlaps"},
    {4, 0, "192.0.2.1", true, 4, 0, "192.0.2.1", SM_EADDRINUSE, "no RA: same specific"},
    {4, 0, "192.0.2.1", false, 4, 0, "192.0.2.2", SM_OK, "no RA: different specific"},
    {4, RA, "0.0.0.0", false, 4, 0, "0.0.0.0", SM_EADDRINUSE, "E's RA is not read"},
    {4, RA, "192.0.2.1", false, 4, 0, "0.0.0.0", SM_EADDRINUSE, "E's RA is not read (wildcard N)"},
    {6, 0, "[::]", false, 6, 0, "[::1]", SM_EADDRINUSE, "no RA, IPv6: wildcard E overlaps"},
    {6, 0, "[2001:db8::1]", false, 6, 0, "[2001:db8::2]", SM_OK, "no RA, IPv6: different"},
    /* N with SO_REUSEADDR: exact-address rule */
    {4, 0, "0.0.0.0", true, 4, RA, "0.0.0.0", SM_EADDRINUSE, "S5: RA, same wildcard, E listening"},
    {4, 0, "0.0.0.0", false, 4, RA, "0.0.0.0", SM_EADDRINUSE, "RA, same wildcard, E bound"},
    {4, RA, "0.0.0.0", false, 4, RA, "0.0.0.0", SM_EADDRINUSE, "RA on both, same wildcard"},
    {4, 0, "0.0.0.0", true, 4, RA, "192.0.2.1", SM_OK, "RA: wildcard E is not the same address"},
    {4, 0, "192.0.2.1", true, 4, RA, "0.0.0.0", SM_OK, "RA: specific E is not the same address"},
    {4, 0, "192.0.2.1", false, 4, RA, "192.0.2.1", SM_EADDRINUSE, "RA: same specific, E bound"},
    {4, RA, "192.0.2.1", true, 4, RA, "192.0.2.1", SM_EADDRINUSE, "RA on both: same specific"},
    {6, 0, "[::]", true, 6, RA, "[::1]", SM_OK, "RA, IPv6: wildcard E is another address"},
    {6, 0, "[::1]", true, 6, RA, "[::1]", SM_EADDRINUSE, "RA, IPv6: same address"},
    /* disjoint IPv4 / IPv6 port spaces for an explicit port */
    {4, 0, "0.0.0.0", false, 6, 0, "[::]", SM_OK, "AF_INET 0.0.0.0 then AF_INET6 [::]"},
    {6, 0, "[::]", true, 4, 0, "0.0.0.0", SM_OK, "AF_INET6 [::] then AF_INET 0.0.0.0"},
    {4, 0, "127.0.0.1", true, 6, 0, "[::]", SM_OK, "AF_INET 127.0.0.1 then AF_INET6 [::]"},
    {6, 0, "[::]", false, 4, 0, "127.0.0.1", SM_OK, "AF_INET6 [::] then AF_INET 127.0.0.1"},
};

START_TEST(tcp_bindi_table)
{
    int n = run_cases(tcp_cases, sizeof tcp_cases / sizeof tcp_cases[0], SM_TCP, "tcp_bindi");
    printf("solaris tcp_bindi (§5.1): %d cases\n", n);
}
END_TEST

/* ---- UDP: udp_bind() ------------------------------------------------------- */

/*
 * bsd-solaris.md §5.2 udp_bind(): the EXCLBIND chart as for TCP (no state);
 * different ipversion with an explicit port skipped; otherwise E conflicts
 * unless both addresses are specific and different, SO_REUSEADDR does not
 * change that comparison, BUT if N has SO_REUSEADDR, the port is explicit
 * and no EXCLBIND hit, the bind succeeds regardless: a full duplicate, only
 * N needs the option.  Synthetic case S6 (§6).
 */
static const bind_case udp_cases[] = {
    {4, 0, "0.0.0.0", false, 4, RA, "0.0.0.0", SM_OK, "S6: N's RA alone, duplicate wildcard"},
    {4, 0, "192.0.2.1", false, 4, RA, "192.0.2.1", SM_OK, "N's RA alone, duplicate specific"},
    {4, 0, "0.0.0.0", false, 4, RA, "192.0.2.1", SM_OK, "N's RA, overlapping"},
    {4, 0, "0.0.0.0", false, 4, 0, "0.0.0.0", SM_EADDRINUSE, "no RA on N: same wildcard"},
    {4, RA, "0.0.0.0", false, 4, 0, "0.0.0.0", SM_EADDRINUSE, "E's RA does not help N"},
    {4, RA, "192.0.2.1", false, 4, 0, "192.0.2.1", SM_EADDRINUSE, "E's RA, same specific"},
    {4, 0, "0.0.0.0", false, 4, 0, "192.0.2.1", SM_EADDRINUSE, "no RA: wildcard E overlaps"},
    {4, 0, "192.0.2.1", false, 4, 0, "0.0.0.0", SM_EADDRINUSE, "no RA: wildcard N overlaps"},
    {4, 0, "192.0.2.1", false, 4, 0, "192.0.2.2", SM_OK, "no RA: different specific"},
    {4, EX, "0.0.0.0", false, 4, RA, "0.0.0.0", SM_EADDRINUSE, "EXCLBIND on E beats N's RA"},
    {4, EX, "0.0.0.0", false, 4, RA, "192.0.2.1", SM_EADDRINUSE, "EXCLBIND on E, unspec/spec"},
    {4, 0, "0.0.0.0", false, 4, EX | RA, "0.0.0.0", SM_EADDRINUSE, "EXCLBIND on N beats its RA"},
    {4, EX, "192.0.2.1", false, 4, RA, "192.0.2.2", SM_OK, "EXCLBIND, different specific"},
    {4, 0, "0.0.0.0", false, 6, 0, "[::]", SM_OK, "disjoint spaces: udp4 then udp6"},
    {6, 0, "[::]", false, 4, 0, "0.0.0.0", SM_OK, "disjoint spaces: udp6 then udp4"},
    {6, 0, "[::]", false, 6, RA, "[::]", SM_OK, "IPv6: N's RA alone, duplicate"},
    {6, 0, "[::]", false, 6, 0, "[::1]", SM_EADDRINUSE, "IPv6: no RA, overlapping"},
};

START_TEST(udp_bind_table)
{
    int n = run_cases(udp_cases, sizeof udp_cases / sizeof udp_cases[0], SM_UDP, "udp_bind");
    printf("solaris udp_bind (§5.2): %d cases\n", n);
}
END_TEST

START_TEST(udp_many_duplicates)
{
    /* §5.2 / §7.5: "SO_REUSEADDR on the *new* socket alone already allows
     * a full duplicate bind of the same addr:port" - any number of them. */
    sm_world *w = test_world("solaris");
    sm_id first = usock(w, "user", SM_UDP, 4, "u0");
    ck_assert_int_eq(tbind(w, first, "127.0.0.1:5004"), SM_OK);
    for (int i = 1; i < 6; i++) {
        char name[8];
        snprintf(name, sizeof name, "u%d", i);
        sm_id s = usock(w, "user", SM_UDP, 4, name);
        topt(w, s, SM_SO_REUSEADDR);
        ck_assert_int_eq(tbind(w, s, "127.0.0.1:5004"), SM_OK);
    }
    sm_id late = usock(w, "user", SM_UDP, 4, "late");
    ck_assert_int_eq(tbind(w, late, "127.0.0.1:5004"), SM_EADDRINUSE);
    sm_world_free(w);
}
END_TEST

/* ---- privileged ports ---------------------------------------------------- */

START_TEST(privileged_ports)
{
    /* §5.1 "Privileged ports": below tcp_smallest_nonpriv_port (default
     * 1024, tunable 1024..32768) and the extra privileged ports 2049 and
     * 4045 (ULP_DEF_EPRIV_PORT1/2) need secpolicy_net_privaddr: TACCES ->
     * EACCES.  TCP (tcp_bind_select_lport()). */
    static const struct {
        const char *user;
        unsigned port;
        sm_err want;
    } t[] = {
        {"user", 80, SM_EACCES},    {"user", 1023, SM_EACCES}, {"user", 1024, SM_OK},
        {"user", 2048, SM_OK},      {"user", 2049, SM_EACCES}, {"user", 2050, SM_OK},
        {"user", 4044, SM_OK},      {"user", 4045, SM_EACCES}, {"user", 4046, SM_OK},
        {"root", 80, SM_OK},        {"root", 2049, SM_OK},     {"root", 4045, SM_OK},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        for (int fam = 4; fam <= 6; fam += 2) {
            sm_world *w = test_world("solaris");
            sm_id s = usock(w, t[i].user, SM_TCP, fam, "s");
            char ep[32];
            snprintf(ep, sizeof ep, fam == 4 ? "0.0.0.0:%u" : "[::]:%u", t[i].port);
            sm_err got = tbind(w, s, ep);
            ck_assert_msg(got == t[i].want, "%s binds %s: expected %s, got %s", t[i].user, ep,
                          sm_err_name(t[i].want), sm_err_name(got));
            sm_world_free(w);
        }

    /* tcp_smallest_nonpriv_port moves the boundary (§5.1). */
    sm_world *w = test_world("solaris");
    const char *v[] = {"2000"};
    ck_assert_ptr_null(sm_sysctl(w, sm_host_find(w, "local"), "tcp_smallest_nonpriv_port", v, 1));
    sm_id a = usock(w, "user", SM_TCP, 4, "a"), b = usock(w, "user", SM_TCP, 4, "b");
    ck_assert_int_eq(tbind(w, a, "0.0.0.0:1999"), SM_EACCES);
    ck_assert_int_eq(tbind(w, b, "0.0.0.0:2000"), SM_OK);
    sm_world_free(w);
}
END_TEST

/* ---- anonymous ports ----------------------------------------------------- */

static void set_range(sm_world *w, const char *lo, const char *hi)
{
    sm_id h = sm_host_find(w, "local");
    ck_assert_ptr_null(sm_sysctl(w, h, "tcp_smallest_anon_port", &lo, 1));
    ck_assert_ptr_null(sm_sysctl(w, h, "tcp_largest_anon_port", &hi, 1));
}

START_TEST(anon_port_range)
{
    /* §5.1 "Anonymous ports": smallest_anon_port 32768 .. largest 65535,
     * random start then sequential; each port handed to one socket at a
     * time (tcp_bindi() with no SO_REUSEADDR on a wildcard bind). */
    sm_world *w = test_world("solaris");
    static bool seen[65536];
    memset(seen, 0, sizeof seen);
    for (int i = 0; i < 300; i++) {
        char name[16];
        snprintf(name, sizeof name, "s%d", i);
        sm_id s = usock(w, "user", SM_TCP, i % 3 ? 4 : 6, name);
        sm_result r = sm_bind(w, s, tep(i % 3 ? "0.0.0.0:0" : "[::]:0"));
        ck_assert_int_eq(r.err, SM_OK);
        ck_assert_msg(r.port >= 32768, "port %u below smallest_anon_port", r.port);
        ck_assert_msg(!seen[r.port], "port %u handed out twice", r.port);
        seen[r.port] = true;
    }
    sm_world_free(w);
}
END_TEST

START_TEST(anon_port_exhaustion)
{
    /* §5.1: port 0 with nothing free -> TNOADDR -> EADDRNOTAVAIL. */
    sm_world *w = test_world("solaris");
    set_range(w, "40000", "40004");
    for (int i = 0; i < 5; i++) {
        char name[16];
        snprintf(name, sizeof name, "s%d", i);
        sm_id s = usock(w, "user", SM_TCP, 4, name);
        sm_result r = sm_bind(w, s, tep("0.0.0.0:0"));
        ck_assert_int_eq(r.err, SM_OK);
        ck_assert(r.port >= 40000 && r.port <= 40004);
    }
    sm_id last = usock(w, "user", SM_TCP, 4, "last");
    ck_assert_int_eq(tbind(w, last, "0.0.0.0:0"), SM_EADDRNOTAVAIL);
    sm_world_free(w);
}
END_TEST

START_TEST(anon_port_skips_privileged)
{
    /* §5.1: "Privileged and extra-privileged ports are skipped": with the
     * anonymous range 2048..2050 only 2048 and 2050 are handed out. */
    sm_world *w = test_world("solaris");
    set_range(w, "2048", "2050");
    bool got2048 = false, got2050 = false;
    for (int i = 0; i < 2; i++) {
        char name[16];
        snprintf(name, sizeof name, "s%d", i);
        sm_id s = usock(w, "user", SM_TCP, 4, name);
        sm_result r = sm_bind(w, s, tep("0.0.0.0:0"));
        ck_assert_int_eq(r.err, SM_OK);
        ck_assert_msg(r.port == 2048 || r.port == 2050, "anonymous port %u", r.port);
        got2048 |= r.port == 2048;
        got2050 |= r.port == 2050;
    }
    ck_assert(got2048 && got2050);
    sm_id last = usock(w, "user", SM_TCP, 4, "last");
    ck_assert_int_eq(tbind(w, last, "0.0.0.0:0"), SM_EADDRNOTAVAIL);
    sm_world_free(w);
}
END_TEST

START_TEST(anon_ports_shared_space)
{
    /* §5.1: "v4 and v6 port spaces are disjoint for explicit binds;
     * autoassigned ports share one space": with both anonymous ports held
     * by AF_INET sockets, an AF_INET6 bind(0) finds none, while an explicit
     * AF_INET6 bind to one of them succeeds. */
    sm_world *w = test_world("solaris");
    set_range(w, "40000", "40001");
    sm_id a = usock(w, "user", SM_TCP, 4, "a"), b = usock(w, "user", SM_TCP, 4, "b");
    ck_assert_int_eq(tbind(w, a, "0.0.0.0:40000"), SM_OK);
    ck_assert_int_eq(tbind(w, b, "0.0.0.0:40001"), SM_OK);
    sm_id c = usock(w, "user", SM_TCP, 6, "c"), d = usock(w, "user", SM_TCP, 6, "d");
    ck_assert_int_eq(tbind(w, c, "[::]:0"), SM_EADDRNOTAVAIL);
    ck_assert_int_eq(tbind(w, d, "[::]:40000"), SM_OK);
    sm_world_free(w);
}
END_TEST

START_TEST(no_reuseport)
{
    /* §5.3: illumos-gate has no SO_REUSEPORT (Solaris 11.4's is [U] and not
     * modelled by the profile); SO_EXCLBIND and SO_REUSEADDR exist. */
    sm_world *w = test_world("solaris");
    sm_id s = tsock(w, "s", SM_TCP, 4);
    ck_assert_int_eq(sm_setsockopt(w, s, SM_SO_REUSEPORT, 1, 0).err, SM_ENOPROTOOPT);
    ck_assert_int_eq(sm_setsockopt(w, s, SM_SO_EXCLBIND, 1, 0).err, SM_OK);
    ck_assert_int_eq(sm_setsockopt(w, s, SM_SO_REUSEADDR, 1, 0).err, SM_OK);
    sm_world_free(w);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("solaris");
    TCase *t = tcase_create("rules");
    tcase_set_timeout(t, 120);
    tcase_add_test(t, tcp_bindi_table);
    tcase_add_test(t, udp_bind_table);
    tcase_add_test(t, udp_many_duplicates);
    tcase_add_test(t, privileged_ports);
    tcase_add_test(t, anon_port_range);
    tcase_add_test(t, anon_port_exhaustion);
    tcase_add_test(t, anon_port_skips_privileged);
    tcase_add_test(t, anon_ports_shared_space);
    tcase_add_test(t, no_reuseport);
    suite_add_tcase(s, t);
    return s;
}

CHECK_MAIN(suite)
