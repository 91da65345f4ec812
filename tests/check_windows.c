/*
 * check_windows.c - the windows-classic and windows profiles against
 * Microsoft's published bind tables and the reference notes.
 *
 * The core is the three tables of the Winsock page "Using SO_REUSEADDR and
 * SO_EXCLUSIVEADDRUSE" (windows.md §1.1-1.3), transcribed here cell by cell
 * as C tables: table A (Windows XP and earlier) drives windows-classic,
 * tables B (same user) and C (different users) drive windows.  Each of the
 * 108 cells is run as "first socket sets its option and binds, second
 * socket sets its option and binds the same port" with W = 0.0.0.0 and
 * S = 192.0.2.1, for TCP and (the tables are not protocol-specific,
 * windows.md §2.2) UDP.  Around it: the "Specific2" rows, the
 * SO_REUSEADDR + SO_EXCLUSIVEADDRUSE setsockopt rule, options latched at
 * bind, native WSAE* names, IPV6_V6ONLY and the dual-stack rules, and the
 * ephemeral port ranges.  Every expected value comes from
 * ../shared/reference/windows.md (section cited per table), not from
 * running the model.
 */
#include "check_util.h"

#include <stdio.h>
#include <string.h>

/* ---- helpers ------------------------------------------------------------- */


/* Option classes of the tables and the results a cell can hold. */
enum wopt { DEF = 0, RA = 1, EX = 2 };
enum wres { Ok = 0, IU, AC };

static const char *const idx_name[6] = {"DEF-W", "DEF-S", "RA-W", "RA-S", "EX-W", "EX-S"};

static sm_err res_err(int r)
{
    return r == IU ? SM_EADDRINUSE : r == AC ? SM_EACCES : SM_OK;
}

static void set_wopt(sm_world *w, sm_id s, int o)
{
    if (o == RA)
        topt(w, s, SM_SO_REUSEADDR);
    else if (o == EX)
        topt(w, s, SM_SO_EXCLUSIVEADDRUSE);
}

/* ---- the MSDN tables --------------------------------------------------------
 * Rows: first bind, columns: second bind, both in the order
 *   DEF-W DEF-S | RA-W RA-S | EX-W EX-S
 * (DEF = no option, RA = SO_REUSEADDR, EX = SO_EXCLUSIVEADDRUSE; W = the
 * wildcard, S = one specific address, the same for both binds).
 */

/* windows.md §1.1 Table A - "Windows XP and earlier" (USE page) [D]. */
static const unsigned char table_a[6][6] = {
    /* DEF-W */ {IU, IU, Ok, Ok, IU, IU},
    /* DEF-S */ {IU, IU, Ok, Ok, IU, IU},
    /* RA-W  */ {IU, IU, Ok, Ok, IU, IU},
    /* RA-S  */ {IU, IU, Ok, Ok, IU, IU},
    /* EX-W  */ {IU, IU, AC, AC, IU, IU},
    /* EX-S  */ {IU, IU, AC, AC, IU, IU},
};

/* windows.md §1.2 Table B - Server 2003+, both binds by the same user
 * account (USE page) [D]. */
static const unsigned char table_b[6][6] = {
    /* DEF-W */ {IU, Ok, AC, Ok, IU, Ok},
    /* DEF-S */ {Ok, IU, Ok, AC, IU, IU},
    /* RA-W  */ {IU, Ok, Ok, Ok, IU, Ok},
    /* RA-S  */ {Ok, IU, Ok, Ok, IU, IU},
    /* EX-W  */ {IU, AC, AC, AC, IU, AC},
    /* EX-S  */ {Ok, IU, Ok, AC, IU, IU},
};

/* windows.md §1.3 Table C - Server 2003+, binds by different user
 * accounts (USE page) [D]. */
static const unsigned char table_c[6][6] = {
    /* DEF-W */ {IU, AC, AC, AC, IU, AC},
    /* DEF-S */ {Ok, IU, Ok, AC, IU, IU},
    /* RA-W  */ {IU, AC, Ok, Ok, IU, AC},
    /* RA-S  */ {Ok, IU, Ok, Ok, IU, IU},
    /* EX-W  */ {IU, AC, AC, AC, IU, AC},
    /* EX-S  */ {Ok, IU, Ok, AC, IU, IU},
};

static const struct table_run {
    const char *name;
    const char *profile;
    const unsigned char (*cells)[6];
    const char *second_user;
} table_runs[] = {
    {"A (XP and earlier)", "windows-classic", table_a, "user"},
    /* §2.2: "WIN_CLASSIC has no user dimension [D]": table A for a second
     * bind by another account too. */
    {"A, other user", "windows-classic", table_a, "alice"},
    {"B (Server 2003+, same user)", "windows", table_b, "user"},
    {"C (Server 2003+, other user)", "windows", table_c, "alice"},
};

#define NTABLE_RUNS (sizeof table_runs / sizeof table_runs[0])

/* Runs one cell: returns the second bind's result. */
static sm_err run_cell(const char *profile, sm_proto proto, int first, int second,
                       const char *second_user, const char *s_addr2)
{
    sm_world *w = test_world(profile);
    sm_id a = usock(w, "user", proto, 4, "first");
    sm_id b = usock(w, second_user, proto, 4, "second");
    set_wopt(w, a, first / 2);
    set_wopt(w, b, second / 2);
    ck_assert_int_eq(tbind(w, a, first % 2 ? "192.0.2.1:5000" : "0.0.0.0:5000"), SM_OK);
    sm_err r = tbind(w, b, second % 2 ? s_addr2 : "0.0.0.0:5000");
    sm_world_free(w);
    return r;
}

START_TEST(msdn_tables)
{
    const struct table_run *t = &table_runs[_i];
    const sm_profile *p = sm_profile_find(t->profile);
    int cases = 0, bad = 0;
    for (int proto = SM_TCP; proto <= SM_UDP; proto++)
        for (int first = 0; first < 6; first++)
            for (int second = 0; second < 6; second++) {
                sm_err want = res_err(t->cells[first][second]);
                sm_err got = run_cell(t->profile, (sm_proto)proto, first, second,
                                      t->second_user, "192.0.2.1:5000");
                cases++;
                if (got != want) {
                    bad++;
                    fprintf(stderr, "FAIL table %s %s: first %s, second %s: expected %s, got %s\n",
                           t->name, proto == SM_TCP ? "tcp" : "udp", idx_name[first],
                           idx_name[second], sm_profile_err_name(p, want),
                           sm_profile_err_name(p, got));
                }
            }
    printf("%s table %s: %d cells (tcp+udp), %d mismatched\n", t->profile, t->name, cases, bad);
    ck_assert_int_eq(cases, 72);
    fflush(stdout);
    ck_assert_msg(bad == 0, "table %s: %d of %d cells differ from MSDN", t->name, bad, cases);
}
END_TEST

START_TEST(specific2)
{
    /* windows.md §1.4 table D ("Specific2" rows: a specific address
     * different from the first socket's: Success for every option pair)
     * and §1.5 "Different explicit interfaces never conflict" (USE page,
     * 10.0.0.1 / 10.99.99.99 example); §2.2 addr_overlap() comes before
     * the table, for any user. */
    static const struct {
        const char *profile, *user;
    } runs[] = {{"windows-classic", "user"}, {"windows", "user"}, {"windows", "alice"}};
    for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++)
        for (int proto = SM_TCP; proto <= SM_UDP; proto++)
            for (int fo = DEF; fo <= EX; fo++)
                for (int so = DEF; so <= EX; so++) {
                    sm_err got = run_cell(runs[r].profile, (sm_proto)proto, fo * 2 + 1,
                                          so * 2 + 1, runs[r].user, "192.0.2.2:5000");
                    ck_assert_msg(got == SM_OK, "%s %s %s: first %s at 192.0.2.1, second %s at "
                                  "192.0.2.2: expected success, got %s", runs[r].profile,
                                  runs[r].user, proto == SM_TCP ? "tcp" : "udp",
                                  idx_name[fo * 2 + 1], idx_name[so * 2 + 1], sm_err_name(got));
                }
}
END_TEST

/* ---- setsockopt: SO_REUSEADDR and SO_EXCLUSIVEADDRUSE -------------------- */

START_TEST(reuse_and_exclusive_exclude)
{
    /* windows.md §2.1.5 [T Wine test_reuseaddr; S wine server/sock.c]:
     * SO_REUSEADDR=1 then SO_EXCLUSIVEADDRUSE=1 -> WSAEINVAL, the reverse
     * order too; clearing the first option then setting the other works. */
    static const char *const profiles[] = {"windows-classic", "windows"};
    for (size_t i = 0; i < 2; i++) {
        const sm_profile *p = sm_profile_find(profiles[i]);
        sm_world *w = test_world(profiles[i]);
        sm_id a = tsock(w, "a", SM_TCP, 4), b = tsock(w, "b", SM_TCP, 4);
        sm_id c = tsock(w, "c", SM_TCP, 4), d = tsock(w, "d", SM_TCP, 4);
        ck_assert_int_eq(sm_setsockopt(w, a, SM_SO_REUSEADDR, 1, 0).err, SM_OK);
        sm_err e = sm_setsockopt(w, a, SM_SO_EXCLUSIVEADDRUSE, 1, 0).err;
        ck_assert_int_eq(e, SM_EINVAL);
        ck_assert_str_eq(sm_profile_err_name(p, e), "WSAEINVAL");
        ck_assert_int_eq(sm_setsockopt(w, b, SM_SO_EXCLUSIVEADDRUSE, 1, 0).err, SM_OK);
        e = sm_setsockopt(w, b, SM_SO_REUSEADDR, 1, 0).err;
        ck_assert_int_eq(e, SM_EINVAL);
        ck_assert_str_eq(sm_profile_err_name(p, e), "WSAEINVAL");
        ck_assert_int_eq(sm_setsockopt(w, c, SM_SO_REUSEADDR, 1, 0).err, SM_OK);
        ck_assert_int_eq(sm_setsockopt(w, c, SM_SO_REUSEADDR, 0, 0).err, SM_OK);
        ck_assert_int_eq(sm_setsockopt(w, c, SM_SO_EXCLUSIVEADDRUSE, 1, 0).err, SM_OK);
        ck_assert_int_eq(sm_setsockopt(w, d, SM_SO_EXCLUSIVEADDRUSE, 1, 0).err, SM_OK);
        ck_assert_int_eq(sm_setsockopt(w, d, SM_SO_EXCLUSIVEADDRUSE, 0, 0).err, SM_OK);
        ck_assert_int_eq(sm_setsockopt(w, d, SM_SO_REUSEADDR, 1, 0).err, SM_OK);
        /* Options the OS lacks (spec: "An option that the profile's OS does
         * not have fails with ENOPROTOOPT"; windows.md §2.2 / §6 libuv:
         * no SO_REUSEPORT on Windows). */
        sm_id f = tsock(w, "f", SM_TCP, 4);
        e = sm_setsockopt(w, f, SM_SO_REUSEPORT, 1, 0).err;
        ck_assert_int_eq(e, SM_ENOPROTOOPT);
        ck_assert_str_eq(sm_profile_err_name(p, e), "WSAENOPROTOOPT");
        sm_world_free(w);
    }
}
END_TEST

START_TEST(options_latched_at_bind)
{
    /* windows.md §2.1.7: options are sampled at bind time; setting them
     * after bind has no effect [D bind, EXCL pages].  A DEF-W socket that
     * sets SO_REUSEADDR after its bind is still DEF-W: a same-user RA-W
     * bind gets table B's DEF-W/RA-W cell, WSAEACCES (not RA-W/RA-W's
     * success).  The setsockopt's own result is not asserted (the notes do
     * not give it). */
    sm_world *w = test_world("windows");
    sm_id a = tsock(w, "a", SM_TCP, 4), b = tsock(w, "b", SM_TCP, 4);
    ck_assert_int_eq(tbind(w, a, "0.0.0.0:5000"), SM_OK);
    (void)sm_setsockopt(w, a, SM_SO_REUSEADDR, 1, 0);
    topt(w, b, SM_SO_REUSEADDR);
    ck_assert_int_eq(tbind(w, b, "0.0.0.0:5000"), SM_EACCES);
    sm_world_free(w);

    /* Table A: an EX-S socket that clears EX after its bind still answers
     * a RA bind with WSAEACCES. */
    w = test_world("windows-classic");
    a = tsock(w, "a", SM_TCP, 4);
    b = tsock(w, "b", SM_TCP, 4);
    topt(w, a, SM_SO_EXCLUSIVEADDRUSE);
    ck_assert_int_eq(tbind(w, a, "192.0.2.1:5000"), SM_OK);
    (void)sm_setsockopt(w, a, SM_SO_EXCLUSIVEADDRUSE, 0, 0);
    topt(w, b, SM_SO_REUSEADDR);
    ck_assert_int_eq(tbind(w, b, "192.0.2.1:5000"), SM_EACCES);
    sm_world_free(w);
}
END_TEST

START_TEST(failed_bind_leaves_socket_unbound)
{
    /* windows.md §2.1.6 [T test_reuseaddr]: a failed bind leaves the
     * socket unbound: it can change its option and bind again. */
    sm_world *w = test_world("windows");
    sm_id a = tsock(w, "a", SM_TCP, 4), b = tsock(w, "b", SM_TCP, 4);
    topt(w, a, SM_SO_REUSEADDR);
    ck_assert_int_eq(tbind(w, a, "192.0.2.1:5000"), SM_OK);
    topt(w, b, SM_SO_EXCLUSIVEADDRUSE);
    ck_assert_int_eq(tbind(w, b, "192.0.2.1:5000"), SM_EADDRINUSE); /* B: RA-S / EX-S */
    ck_assert_int_eq(sm_setsockopt(w, b, SM_SO_EXCLUSIVEADDRUSE, 0, 0).err, SM_OK);
    topt(w, b, SM_SO_REUSEADDR);
    ck_assert_int_eq(tbind(w, b, "192.0.2.1:5000"), SM_OK); /* B: RA-S / RA-S */
    /* and a bound socket cannot bind again: WSAEINVAL (§2.1.1) */
    const sm_profile *p = sm_world_profile(w);
    sm_err e = tbind(w, b, "192.0.2.2:5001");
    ck_assert_int_eq(e, SM_EINVAL);
    ck_assert_str_eq(sm_profile_err_name(p, e), "WSAEINVAL");
    sm_world_free(w);
}
END_TEST

/* ---- native error names -------------------------------------------------- */

START_TEST(native_names)
{
    /* windows.md header: WSAEADDRINUSE=10048, WSAEACCES=10013,
     * WSAEINVAL=10022, WSAEADDRNOTAVAIL=10049, WSAENOBUFS=10055,
     * WSAEWOULDBLOCK=10035, WSAECONNABORTED=10053, WSAECONNRESET=10054,
     * WSAEFAULT=10014; the spec: "Under a Windows profile each result also
     * has its native name ... an expectation may use either name". */
    static const struct {
        sm_err e;
        const char *native;
    } t[] = {
        {SM_EADDRINUSE, "WSAEADDRINUSE"},     {SM_EACCES, "WSAEACCES"},
        {SM_EINVAL, "WSAEINVAL"},             {SM_EADDRNOTAVAIL, "WSAEADDRNOTAVAIL"},
        {SM_ENOBUFS, "WSAENOBUFS"},           {SM_EWOULDBLOCK, "WSAEWOULDBLOCK"},
        {SM_ECONNABORTED, "WSAECONNABORTED"}, {SM_ECONNRESET, "WSAECONNRESET"},
        {SM_EFAULT, "WSAEFAULT"},
    };
    static const char *const profiles[] = {"windows-classic", "windows"};
    for (size_t i = 0; i < 2; i++) {
        const sm_profile *p = sm_profile_find(profiles[i]);
        ck_assert_ptr_nonnull(p);
        for (size_t j = 0; j < sizeof t / sizeof t[0]; j++) {
            ck_assert_str_eq(sm_profile_err_name(p, t[j].e), t[j].native);
            ck_assert(sm_profile_err_matches(p, t[j].e, t[j].native));
            ck_assert(sm_profile_err_matches(p, t[j].e, sm_err_name(t[j].e)));
        }
        ck_assert(!sm_profile_err_matches(p, SM_EADDRINUSE, "WSAEACCES"));
        ck_assert(!sm_profile_err_matches(p, SM_EACCES, "EADDRINUSE"));
    }
    /* A POSIX profile has the portable names only. */
    const sm_profile *bsd = sm_profile_find("bsd");
    ck_assert_str_eq(sm_profile_err_name(bsd, SM_EADDRINUSE), "EADDRINUSE");
    ck_assert(!sm_profile_err_matches(bsd, SM_EADDRINUSE, "WSAEADDRINUSE"));
}
END_TEST

/* ---- IPv6: V6ONLY and dual stack (windows) ------------------------------- */

START_TEST(v6only_default_and_change)
{
    /* windows.md §3.3: IPV6_V6ONLY is on by default on Vista+ [D
     * dual-stack-sockets.md; T test_ipv6only]; changing it after bind
     * fails [T test_ipv6only] (the notes do not give the error code).
     * Default proved through §2.2: an exclusive dual-stack [::] would hold
     * IPv4 0.0.0.0, an IPv6-only one does not. */
    sm_world *w = test_world("windows");
    sm_id a = tsock(w, "a", SM_TCP, 6), b = tsock(w, "b", SM_TCP, 4);
    topt(w, a, SM_SO_EXCLUSIVEADDRUSE);
    topt(w, b, SM_SO_EXCLUSIVEADDRUSE);
    ck_assert_int_eq(tbind(w, a, "[::]:5000"), SM_OK);
    ck_assert_int_eq(tbind(w, b, "0.0.0.0:5000"), SM_OK);
    sm_result r = sm_setsockopt(w, a, SM_IPV6_V6ONLY, 0, 0);
    ck_assert_msg(r.err != SM_OK, "IPV6_V6ONLY changed after bind");
    printf("windows: IPV6_V6ONLY after bind -> %s\n", sm_profile_err_name(sm_world_profile(w), r.err));
    sm_id c = tsock(w, "c", SM_TCP, 6);
    ck_assert_int_eq(sm_setsockopt(w, c, SM_IPV6_V6ONLY, 0, 0).err, SM_OK); /* before bind */
    sm_world_free(w);
}
END_TEST

START_TEST(dual_stack_rules)
{
    /* windows.md §2.2 stacks_overlap (from Wine's real-Windows table, §5.1
     * check_addr_usage) and §7.3:
     *  - a dual-stack [::] with SO_EXCLUSIVEADDRUSE also holds IPv4
     *    0.0.0.0, and a conflict found that way is WSAEACCES even for a
     *    no-option second bind (row 10);
     *  - a dual-stack [::] without it does not block a later IPv4 0.0.0.0,
     *    with or without SO_EXCLUSIVEADDRUSE (rows 11, 14);
     *  - IPv4 127.0.0.1 then dual-stack EX [::] is WSAEADDRINUSE (Wine's
     *    Windows result; MSDN's prose said WSAEACCES, §7.3: trust the tests);
     *  - a dual-stack socket on ::ffff:a.b.c.d holds IPv4 a.b.c.d. */
    static const struct {
        int f1;
        int o1;
        const char *a1;
        int f2;
        int o2;
        const char *a2;
        sm_err want;
        const char *why;
    } t[] = {
        {6, EX, "[::]:5000", 4, DEF, "0.0.0.0:5000", SM_EACCES, "row 10"},
        {6, EX, "[::]:5000", 4, RA, "0.0.0.0:5000", SM_EACCES, "EX dual holds 0.0.0.0"},
        {6, DEF, "[::]:5000", 4, DEF, "0.0.0.0:5000", SM_OK, "row 11: non-EX dual"},
        {6, DEF, "[::]:5000", 4, EX, "0.0.0.0:5000", SM_OK, "row 14: non-EX dual, EX v4"},
        {4, DEF, "127.0.0.1:5000", 6, EX, "[::]:5000", SM_EADDRINUSE, "§7.3 Wine result"},
        {6, DEF, "[::ffff:127.0.0.1]:5000", 4, DEF, "127.0.0.1:5000", SM_EADDRINUSE,
         "mapped holds IPv4 127.0.0.1 (DEF-S/DEF-S)"},
        {4, DEF, "127.0.0.1:5000", 6, DEF, "[::ffff:127.0.0.1]:5000", SM_EADDRINUSE,
         "mapped checked in IPv4 (DEF-S/DEF-S)"},
        {6, DEF, "[::ffff:127.0.0.1]:5000", 4, DEF, "0.0.0.0:5000", SM_OK,
         "mapped specific then IPv4 wildcard (DEF-S/DEF-W)"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        sm_world *w = test_world("windows");
        sm_id a = tsock(w, "a", SM_TCP, t[i].f1), b = tsock(w, "b", SM_TCP, t[i].f2);
        if (t[i].f1 == 6)
            ck_assert_int_eq(sm_setsockopt(w, a, SM_IPV6_V6ONLY, 0, 0).err, SM_OK);
        if (t[i].f2 == 6)
            ck_assert_int_eq(sm_setsockopt(w, b, SM_IPV6_V6ONLY, 0, 0).err, SM_OK);
        set_wopt(w, a, t[i].o1);
        set_wopt(w, b, t[i].o2);
        ck_assert_int_eq(tbind(w, a, t[i].a1), SM_OK);
        sm_err got = tbind(w, b, t[i].a2);
        ck_assert_msg(got == t[i].want, "dual-stack case %zu (%s): %s then %s: expected %s, got %s",
                      i, t[i].why, t[i].a1, t[i].a2, sm_err_name(t[i].want), sm_err_name(got));
        sm_world_free(w);
    }
}
END_TEST

START_TEST(classic_separate_ipv6_stack)
{
    /* windows.md §1.0/§3.3: before Vista there are no dual-stack sockets:
     * IPv4 and IPv6 sockets never meet, even both exclusive on the
     * wildcard. */
    sm_world *w = test_world("windows-classic");
    sm_id a = tsock(w, "a", SM_TCP, 6), b = tsock(w, "b", SM_TCP, 4);
    topt(w, a, SM_SO_EXCLUSIVEADDRUSE);
    topt(w, b, SM_SO_EXCLUSIVEADDRUSE);
    ck_assert_int_eq(tbind(w, a, "[::]:5000"), SM_OK);
    ck_assert_int_eq(tbind(w, b, "0.0.0.0:5000"), SM_OK);
    sm_world_free(w);
}
END_TEST

/* ---- ephemeral ports ----------------------------------------------------- */

START_TEST(ephemeral_classic)
{
    /* windows.md §3.3: NT .. Server 2003 hand out 1025..MaxUserPort (5000
     * by default; port 1024 never used), incrementally with one counter
     * shared by TCP and UDP [3P hsc.fr].  Exhaustion: WSAENOBUFS [D KB
     * Q196271 for connect(); I for bind(0)]. */
    sm_world *w = test_world("windows-classic");
    const sm_profile *p = sm_world_profile(w);
    /* One counter for both protocols: TCP, UDP, TCP take consecutive ports. */
    unsigned prev = 0;
    for (int i = 0; i < 3; i++) {
        char name[16];
        snprintf(name, sizeof name, "c%d", i);
        sm_id s = usock(w, "user", i == 1 ? SM_UDP : SM_TCP, 4, name);
        sm_result r = sm_bind(w, s, tep("0.0.0.0:0"));
        ck_assert_int_eq(r.err, SM_OK);
        if (i > 0)
            ck_assert_msg(r.port == prev + 1, "shared counter: %u after %u", r.port, prev);
        prev = r.port;
    }
    sm_world_free(w);

    /* 1025..5000 is 3976 ports; the 3977th TCP bind(0) finds none. */
    w = test_world("windows-classic");
    for (int i = 0; i < 3976; i++) {
        char name[16];
        snprintf(name, sizeof name, "s%d", i);
        sm_id s = usock(w, "user", SM_TCP, 4, name);
        sm_result r = sm_bind(w, s, tep("0.0.0.0:0"));
        ck_assert_msg(r.err == SM_OK, "bind(0) #%d: %s", i, sm_profile_err_name(p, r.err));
        ck_assert_msg(r.port >= 1025 && r.port <= 5000, "port %u outside 1025..5000", r.port);
        if (i > 0)
            ck_assert_msg(r.port == (prev == 5000 ? 1025u : prev + 1),
                          "not incremental: %u after %u", r.port, prev);
        prev = r.port;
    }
    sm_id last = usock(w, "user", SM_TCP, 4, "last");
    sm_err e = tbind(w, last, "0.0.0.0:0");
    ck_assert_str_eq(sm_profile_err_name(p, e), "WSAENOBUFS");
    sm_world_free(w);
}
END_TEST

START_TEST(ephemeral_modern)
{
    /* windows.md §3.3: Vista / Server 2008 and later: 49152..65535 [D bind
     * page, KB 929851]; a wildcard bind takes its port exclusively
     * [D so-port-scalability]; exhaustion WSAENOBUFS [I]. */
    sm_world *w = test_world("windows");
    const sm_profile *p = sm_world_profile(w);
    static bool seen[65536];
    memset(seen, 0, sizeof seen);
    /* The whole default range: 16384 binds get 16384 distinct ports of
     * 49152..65535, the next one none. */
    for (int i = 0; i < 16384; i++) {
        char name[16];
        snprintf(name, sizeof name, "s%d", i);
        sm_id s = usock(w, "user", SM_TCP, 4, name);
        sm_result r = sm_bind(w, s, tep(i % 2 ? "0.0.0.0:0" : "192.0.2.1:0"));
        ck_assert_msg(r.err == SM_OK, "bind(0) #%d: %s", i, sm_profile_err_name(p, r.err));
        ck_assert_msg(r.port >= 49152, "port %u below 49152", r.port);
        ck_assert_msg(!seen[r.port], "port %u handed out twice", r.port);
        seen[r.port] = true;
    }
    sm_id full = usock(w, "user", SM_TCP, 4, "full");
    ck_assert_str_eq(sm_profile_err_name(p, tbind(w, full, "0.0.0.0:0")), "WSAENOBUFS");
    sm_world_free(w);

    /* netsh int ipv4 set dynamicport tcp start=50000 num=5 */
    w = test_world("windows");
    const char *range[] = {"50000", "50004"};
    ck_assert_ptr_null(sm_sysctl(w, sm_host_find(w, "local"), "dynamicport.tcp", range, 2));
    for (int i = 0; i < 5; i++) {
        char name[16];
        snprintf(name, sizeof name, "t%d", i);
        sm_id s = usock(w, "user", SM_TCP, 4, name);
        sm_result r = sm_bind(w, s, tep("0.0.0.0:0"));
        ck_assert_int_eq(r.err, SM_OK);
        ck_assert(r.port >= 50000 && r.port <= 50004);
    }
    sm_id last = usock(w, "user", SM_TCP, 4, "last");
    sm_err e = tbind(w, last, "0.0.0.0:0");
    ck_assert_str_eq(sm_profile_err_name(p, e), "WSAENOBUFS");
    sm_world_free(w);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("windows");
    TCase *t = tcase_create("rules");
    tcase_set_timeout(t, 120);
    tcase_add_loop_test(t, msdn_tables, 0, (int)NTABLE_RUNS);
    tcase_add_test(t, specific2);
    tcase_add_test(t, reuse_and_exclusive_exclude);
    tcase_add_test(t, options_latched_at_bind);
    tcase_add_test(t, failed_bind_leaves_socket_unbound);
    tcase_add_test(t, native_names);
    tcase_add_test(t, v6only_default_and_change);
    tcase_add_test(t, dual_stack_rules);
    tcase_add_test(t, classic_separate_ipv6_stack);
    tcase_add_test(t, ephemeral_classic);
    tcase_add_test(t, ephemeral_modern);
    suite_add_tcase(s, t);
    return s;
}

CHECK_MAIN(suite)
