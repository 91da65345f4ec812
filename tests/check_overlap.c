/*
 * check_overlap.c - which pairs of addresses overlap on one port, per
 * profile.
 *
 * A socket E binds an address kind (IPv4 wildcard/loopback/specific, IPv6
 * wildcard with the default, cleared or set IPV6_V6ONLY, IPv6 loopback and
 * specific, v4-mapped wildcard and loopback), then a socket N of the same
 * user binds another kind to the same port.  Neither sets any reuse option,
 * so N's result shows only each OS's notion of "these two addresses meet":
 * EADDRINUSE where they overlap, success where they do not.  Every pair is
 * run for TCP with E bound, TCP with E listening and UDP.
 *
 * The expected matrices below were written from the reference notes
 * (../shared/reference/), not from the model; the section each one comes
 * from is cited above it.  '-' marks a pair the notes do not settle for
 * that OS (it is not run).
 */
#include "check_util.h"

#include <stdio.h>
#include <string.h>

/* ---- the address kinds ---------------------------------------------------- */

enum kind { K4ANY, K4LO, K4S, K6DEF, K6DUAL, K6ONLY, K6LO, K6S, KMANY, KMLO, NKINDS };

static const struct kind_def {
    const char *name;
    int family;
    const char *ep;
    int v6only; /* -1: leave the profile's default; 0/1: set IPV6_V6ONLY */
} kinds[NKINDS] = {
    [K4ANY] = {"0.0.0.0", 4, "0.0.0.0:5000", -1},
    [K4LO] = {"127.0.0.1", 4, "127.0.0.1:5000", -1},
    [K4S] = {"192.0.2.1", 4, "192.0.2.1:5000", -1},
    [K6DEF] = {"[::](default V6ONLY)", 6, "[::]:5000", -1},
    [K6DUAL] = {"[::](V6ONLY=0)", 6, "[::]:5000", 0},
    [K6ONLY] = {"[::](V6ONLY=1)", 6, "[::]:5000", 1},
    [K6LO] = {"[::1]", 6, "[::1]:5000", -1},
    [K6S] = {"[2001:db8::1]", 6, "[2001:db8::1]:5000", -1},
    [KMANY] = {"[::ffff:0.0.0.0](V6ONLY=0)", 6, "[::ffff:0.0.0.0]:5000", 0},
    [KMLO] = {"[::ffff:127.0.0.1](V6ONLY=0)", 6, "[::ffff:127.0.0.1]:5000", 0},
};

/* ---- expected matrices ------------------------------------------------------
 * Rows: E (bound first); columns: N (bound second), both in the order
 *   0.0.0.0  127.0.0.1  192.0.2.1 | [::]def [::]V6ONLY=0 [::]V6ONLY=1 [::1]
 *   [2001:db8::1] | [::ffff:0.0.0.0] [::ffff:127.0.0.1]
 * X = EADDRINUSE, . = success, - = not settled by the notes (skipped).
 * Spaces are ignored.
 */
typedef struct matrix {
    const char *profile;
    const char *rows[NKINDS];
} matrix;

static const matrix matrices[] = {
    /* linux: linux.md §0.1, inet_rcv_saddr_equal(): v4 and v4-mapped
     * compare as IPv4 (equal, or either 0.0.0.0); [::] without V6ONLY
     * overlaps everything; [::] with V6ONLY every non-mapped IPv6 address
     * and no IPv4; a specific IPv6 address [::] and itself; IPv4/mapped
     * never a specific IPv6 address.  The observed 6.18 matrix of §0.1
     * holds the 7x7 core; net.ipv6.bindv6only defaults to 0 (so "def" is
     * dual-stack); a specific IPv6 bind forces V6ONLY.  Identical for TCP
     * BOUND, TCP LISTEN and UDP BOUND [OBS §0.1]. */
    {"linux",
     {
         /* 0.0.0.0         */ "X X X  X X .  . .  X X",
         /* 127.0.0.1       */ "X X .  X X .  . .  X X",
         /* 192.0.2.1       */ "X . X  X X .  . .  X .",
         /* [::] def        */ "X X X  X X X  X X  X X",
         /* [::] V6ONLY=0   */ "X X X  X X X  X X  X X",
         /* [::] V6ONLY=1   */ ". . .  X X X  X X  . .",
         /* [::1]           */ ". . .  X X X  X .  . .",
         /* [2001:db8::1]   */ ". . .  X X X  . X  . .",
         /* [::ffff:0.0.0.0]*/ "X X X  X X .  . .  X X",
         /* [::ffff:127...] */ "X X .  X X .  . .  X X",
     }},
    /* linux-3.8: linux.md §1a: inet_csk_bind_conflict() skips a V6ONLY E
     * for an IPv4 N; inet6_csk_bind_conflict() uses ipv6_rcv_saddr_equal(),
     * "same overlap table as §0.1"; UDP the same overlap. */
    {"linux-3.8",
     {
         "X X X  X X .  . .  X X",
         "X X .  X X .  . .  X X",
         "X . X  X X .  . .  X .",
         "X X X  X X X  X X  X X",
         "X X X  X X X  X X  X X",
         ". . .  X X X  X X  . .",
         ". . .  X X X  X .  . .",
         ". . .  X X X  . X  . .",
         "X X X  X X .  . .  X X",
         "X X .  X X .  . .  X X",
     }},
    /* bsd: bsd-solaris.md §1.1 step 6, §1.2 (no option on N: WILDCARD
     * lookup, any overlapping PCB conflicts), §1.6: net.inet6.ip6.v6only
     * defaults to 1 ("def" = V6ONLY); V6ONLY sockets lack INP_IPV4, so no
     * v4/v6 interaction at all; a dual-stack [::] also looks up 0.0.0.0 and
     * is blocked unless the PCB found is an AF_INET socket on exactly
     * 0.0.0.0; an AF_INET 0.0.0.0 after a dual [::] is blocked [I §1.6].
     * A v4-mapped bind goes the IPv4 way with INP_IPV4 only; step 6 lets
     * two AF_INET6 sockets both on the IPv4 wildcard ([::] dual or
     * ::ffff:0.0.0.0) coexist. */
    {"bsd",
     {
         /* 0.0.0.0         */ "X X X  . . .  . .  X X",
         /* 127.0.0.1       */ "X X .  . X .  . .  X X",
         /* 192.0.2.1       */ "X . X  . X .  . .  X .",
         /* [::] def        */ ". . .  X X X  X X  . .",
         /* [::] V6ONLY=0   */ "X X X  X X X  X X  . X",
         /* [::] V6ONLY=1   */ ". . .  X X X  X X  . .",
         /* [::1]           */ ". . .  X X X  X .  . .",
         /* [2001:db8::1]   */ ". . .  X X X  . X  . .",
         /* [::ffff:0.0.0.0]*/ "X X X  . X .  . .  . X",
         /* [::ffff:127...] */ "X X .  . X .  . .  X X",
     }},
    /* solaris: bsd-solaris.md §5.1 tcp_bindi() (no SO_REUSEADDR on N:
     * busy unless both addresses are specific and different) and the
     * disjoint IPv4/IPv6 port spaces for an explicit port (conn_ipversion:
     * "AF_INET 0.0.0.0:P and AF_INET6 [::]:P can both be bound without any
     * options"); §5.2 the same for UDP.  IPV6_V6ONLY does not enter
     * tcp_bindi().  Whether a v4-mapped bind changes conn_ipversion is not
     * in the notes (illumos tcp_bind_check() does not touch it; an older
     * tcp.c did set IPV4_VERSION): '-'. */
    {"solaris",
     {
         /* 0.0.0.0         */ "X X X  . . .  . .  - -",
         /* 127.0.0.1       */ "X X .  . . .  . .  - -",
         /* 192.0.2.1       */ "X . X  . . .  . .  - -",
         /* [::] def        */ ". . .  X X X  X X  - -",
         /* [::] V6ONLY=0   */ ". . .  X X X  X X  - -",
         /* [::] V6ONLY=1   */ ". . .  X X X  X X  - -",
         /* [::1]           */ ". . .  X X X  X .  - -",
         /* [2001:db8::1]   */ ". . .  X X X  . X  - -",
         /* [::ffff:0.0.0.0]*/ "- - -  - - -  - -  - -",
         /* [::ffff:127...] */ "- - -  - - -  - -  - -",
     }},
    /* windows-classic: windows.md §1.1 table A, DEF/DEF = WSAEADDRINUSE
     * whenever the addresses overlap (W or S alike); §1.5 different
     * specific addresses never conflict; no dual-stack sockets before
     * Vista (§1.0, §3.3 "XP SP1/2003 have no dual-stack sockets"): IPv4 and
     * IPv6 never meet.  IPV6_V6ONLY and v4-mapped binds: not settled ('-'). */
    {"windows-classic",
     {
         /* 0.0.0.0         */ "X X X  . - -  . .  - -",
         /* 127.0.0.1       */ "X X .  . - -  . .  - -",
         /* 192.0.2.1       */ "X . X  . - -  . .  - -",
         /* [::] def        */ ". . .  X - -  X X  - -",
         /* [::] V6ONLY=0   */ "- - -  - - -  - -  - -",
         /* [::] V6ONLY=1   */ "- - -  - - -  - -  - -",
         /* [::1]           */ ". . .  X - -  X .  - -",
         /* [2001:db8::1]   */ ". . .  X - -  . X  - -",
         /* [::ffff:0.0.0.0]*/ "- - -  - - -  - -  - -",
         /* [::ffff:127...] */ "- - -  - - -  - -  - -",
     }},
    /* windows: windows.md §1.2 table B, same user, DEF/DEF: W after W and S
     * after the same S are WSAEADDRINUSE, W/S mixed succeed; §1.5 different
     * specific addresses never conflict; §2.2 stacks_overlap + §5.1 (Wine
     * check_addr_usage): AF_INET and V6ONLY=1 sockets in their own stack,
     * IPV6_V6ONLY defaults to 1 (§3.3); a dual-stack socket on
     * ::ffff:a.b.c.d holds IPv4 a.b.c.d; a dual-stack [::] without
     * SO_EXCLUSIVEADDRUSE holds (and is checked in) the IPv6 stack only. */
    {"windows",
     {
         /* 0.0.0.0         */ "X . .  . . .  . .  X .",
         /* 127.0.0.1       */ ". X .  . . .  . .  . X",
         /* 192.0.2.1       */ ". . X  . . .  . .  . .",
         /* [::] def        */ ". . .  X X X  . .  . .",
         /* [::] V6ONLY=0   */ ". . .  X X X  . .  . .",
         /* [::] V6ONLY=1   */ ". . .  X X X  . .  . .",
         /* [::1]           */ ". . .  . . .  X .  . .",
         /* [2001:db8::1]   */ ". . .  . . .  . X  . .",
         /* [::ffff:0.0.0.0]*/ "X . .  . . .  . .  X .",
         /* [::ffff:127...] */ ". X .  . . .  . .  . X",
     }},
};

#define NMATRICES (sizeof matrices / sizeof matrices[0])

/* Cell (e, n) of a matrix: 'X', '.' or '-'. */
static char cell(const matrix *m, int e, int n)
{
    const char *r = m->rows[e];
    int col = 0;
    for (; *r; r++) {
        if (*r == ' ')
            continue;
        if (col == n)
            return *r;
        col++;
    }
    ck_abort_msg("%s: row %d is short", m->profile, e);
    return '?';
}

/* ---- running one pair ------------------------------------------------------ */

enum variant { V_TCP_BOUND, V_TCP_LISTEN, V_UDP, NVARIANTS };
static const char *const variant_name[NVARIANTS] = {"tcp/E bound", "tcp/E listening", "udp"};

/* Opens a socket of kind k and binds it; returns the bind's error.  A
 * setsockopt the profile refuses is reported through *why. */
static sm_err open_bind(sm_world *w, sm_id proc, sm_proto proto, enum kind k,
                        const char *name, sm_id *out, const char **why)
{
    const struct kind_def *d = &kinds[k];
    sm_id s;
    ck_assert_int_eq(sm_socket(w, proc, proto, d->family, name, &s).err, SM_OK);
    if (d->v6only >= 0) {
        sm_err e = sm_setsockopt(w, s, SM_IPV6_V6ONLY, d->v6only, 0).err;
        if (e != SM_OK) {
            *why = "setsockopt IPV6_V6ONLY refused";
            return e;
        }
    }
    *out = s;
    return sm_bind(w, s, tep(d->ep)).err;
}

/* Runs E then N; returns N's bind result, or SM_ERR_COUNT (with a message)
 * when E could not be set up. */
static sm_err run_pair(const char *profile, enum variant v, enum kind ek,
                       enum kind nk, char *msg, size_t msgn)
{
    sm_world *w = test_world(profile);
    sm_id proc = sm_proc_get(w, sm_host_find(w, "local"), "main", sm_user_get(w, "user"));
    sm_proto proto = v == V_UDP ? SM_UDP : SM_TCP;
    const char *why = "bind";
    sm_id es = SM_NONE, ns = SM_NONE;
    sm_err r = open_bind(w, proc, proto, ek, "E", &es, &why);
    if (r == SM_OK && v == V_TCP_LISTEN)
        r = sm_listen(w, es, 8).err;
    if (r != SM_OK) {
        snprintf(msg, msgn, "E %s: %s", why, sm_err_name(r));
        sm_world_free(w);
        return SM_ERR_COUNT;
    }
    why = "bind";
    r = open_bind(w, proc, proto, nk, "N", &ns, &why);
    snprintf(msg, msgn, "N %s: %s", why, sm_err_name(r));
    sm_world_free(w);
    return r;
}

START_TEST(overlap_matrix)
{
    const matrix *m = &matrices[_i];
    int cases = 0, skipped = 0, bad = 0;
    for (int v = 0; v < NVARIANTS; v++)
        for (int e = 0; e < NKINDS; e++)
            for (int n = 0; n < NKINDS; n++) {
                char want = cell(m, e, n);
                if (want == '-') {
                    skipped++;
                    continue;
                }
                ck_assert_msg(want == 'X' || want == '.', "%s: bad cell '%c'", m->profile, want);
                char msg[128];
                sm_err got = run_pair(m->profile, (enum variant)v, (enum kind)e,
                                      (enum kind)n, msg, sizeof msg);
                sm_err exp = want == 'X' ? SM_EADDRINUSE : SM_OK;
                cases++;
                if (got != exp) {
                    bad++;
                    fprintf(stderr, "FAIL %s %s: E %s then N %s: expected %s, got %s\n",
                           m->profile, variant_name[v], kinds[e].name, kinds[n].name,
                           sm_err_name(exp), msg);
                }
            }
    printf("overlap %s: %d cases, %d mismatched, %d pairs not settled by the notes\n",
           m->profile, cases, bad, skipped);
    ck_assert_int_gt(cases, 0);
    fflush(stdout);
    ck_assert_msg(bad == 0, "%s: %d of %d overlap cases differ from the notes", m->profile,
                  bad, cases);
}
END_TEST

/* ---- a v4-mapped address on an IPV6_V6ONLY socket ------------------------ */

START_TEST(mapped_on_v6only)
{
    /* linux.md §0.1: "bind of a V6ONLY socket to a v4-mapped address ->
     * EINVAL (__inet6_bind)"; bsd-solaris.md §5.1: "Binding a v4-mapped
     * address on a v6only socket -> EADDRNOTAVAIL" (tcp_bind_check). */
    static const struct {
        const char *profile;
        sm_err want;
    } t[] = {
        {"linux", SM_EINVAL},
        {"linux-3.8", SM_EINVAL},
        {"solaris", SM_EADDRNOTAVAIL},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        for (int proto = SM_TCP; proto <= SM_UDP; proto++) {
            sm_world *w = test_world(t[i].profile);
            sm_id s = tsock(w, "s", (sm_proto)proto, 6);
            ck_assert_int_eq(sm_setsockopt(w, s, SM_IPV6_V6ONLY, 1, 0).err, SM_OK);
            sm_err got = tbind(w, s, "[::ffff:127.0.0.1]:5000");
            ck_assert_msg(got == t[i].want, "%s %s: expected %s, got %s", t[i].profile,
                          proto == SM_TCP ? "tcp" : "udp", sm_err_name(t[i].want),
                          sm_err_name(got));
            sm_world_free(w);
        }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("overlap");
    TCase *t = tcase_create("matrices");
    tcase_set_timeout(t, 120);
    tcase_add_loop_test(t, overlap_matrix, 0, (int)NMATRICES);
    tcase_add_test(t, mapped_on_v6only);
    suite_add_tcase(s, t);
    return s;
}

CHECK_MAIN(suite)
