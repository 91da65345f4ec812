/*
 * check_bsd.c - the bsd profile (FreeBSD) against FreeBSD's own tests and
 * the reference notes.
 *
 * Tables: FreeBSD tests/sys/netinet/socket_afinet.c multibind_test as root
 * (A1) and as an unprivileged user (A2); the reuse-option consequences of
 * in_pcbbind_avail()/in_pcblookup_local(); the uid rule; multicast; the
 * reserved ports (EACCES before any conflict); the ephemeral range and its
 * exhaustion; IPV6_V6ONLY's default and the dual-stack rules; options
 * FreeBSD does not have.  Every expected value comes from
 * ../shared/reference/bsd-solaris.md (section cited per table), not from
 * running the model.  Cases whose existing socket is connected or in
 * TIME_WAIT (A3 bind_connected_port, S2, S3) need the connection model and
 * are not here yet.
 */
#include "check_util.h"

#include <stdio.h>
#include <string.h>

/* ---- helpers ------------------------------------------------------------- */


/* Option sets as bit masks. */
enum { RA = 1, RP = 2, LB = 4 };

static void set_opts(sm_world *w, sm_id s, unsigned o)
{
    if (o & RA)
        topt(w, s, SM_SO_REUSEADDR);
    if (o & RP)
        topt(w, s, SM_SO_REUSEPORT);
    if (o & LB)
        topt(w, s, SM_SO_REUSEPORT_LB);
}

static const char *opt_text(unsigned o)
{
    static const char *const t[8] = {"-", "RA", "RP", "RA+RP", "LB", "RA+LB", "RP+LB", "RA+RP+LB"};
    return t[o & 7];
}

/* ---- A1 / A2: socket_afinet.c multibind_test ---------------------------- */

/*
 * bsd-solaris.md §6 A1/A2 (FreeBSD socket_afinet.c multibind_test, root):
 * for {INET, INET6} x {STREAM, DGRAM} x E on {loopback, wildcard} x
 * optE in {0, SO_REUSEADDR, SO_REUSEPORT, SO_REUSEPORT_LB}: root binds E to
 * port 0, THEN sets optE.  A child binds the same address and port without
 * options: EADDRINUSE.  It then sets optN and binds again: success iff
 * optN == optE in {REUSEPORT, REUSEPORT_LB}, else EADDRINUSE (A1, child is
 * root).  A2: the child has seteuid()ed to an unprivileged user before
 * socket(): always EADDRINUSE, both binds.
 */
START_TEST(multibind)
{
    static const unsigned opts[4] = {0, RA, RP, LB};
    static const char *const addrs[2][2] = {{"127.0.0.1", "0.0.0.0"}, {"::1", "::"}};
    int cases = 0;
    for (int fam = 0; fam < 2; fam++)
        for (int proto = SM_TCP; proto <= SM_UDP; proto++)
            for (int wild = 0; wild < 2; wild++)
                for (int oe = 0; oe < 4; oe++)
                    for (int on = 0; on < 4; on++)
                        for (int unpriv = 0; unpriv < 2; unpriv++) {
                            int family = fam ? 6 : 4;
                            sm_world *w = test_world("bsd");
                            sm_id e = usock(w, "root", (sm_proto)proto, family, "E");
                            char ep[64];
                            snprintf(ep, sizeof ep, fam ? "[%s]:0" : "%s:0", addrs[fam][wild]);
                            sm_result rb = sm_bind(w, e, tep(ep));
                            ck_assert_int_eq(rb.err, SM_OK);
                            ck_assert_uint_ne(rb.port, 0);
                            set_opts(w, e, opts[oe]); /* after E's bind */
                            snprintf(ep, sizeof ep, fam ? "[%s]:%u" : "%s:%u",
                                     addrs[fam][wild], rb.port);
                            sm_id n = usock(w, unpriv ? "nobody" : "root", (sm_proto)proto,
                                            family, "N");
                            sm_err first = tbind(w, n, ep);
                            set_opts(w, n, opts[on]);
                            sm_err second = tbind(w, n, ep);
                            bool share = !unpriv && oe == on && (opts[oe] == RP || opts[oe] == LB);
                            sm_err want = share ? SM_OK : SM_EADDRINUSE;
                            ck_assert_msg(first == SM_EADDRINUSE && second == want,
                                          "multibind %s %s %s optE=%s optN=%s %s: first %s "
                                          "(want EADDRINUSE), second %s (want %s)",
                                          fam ? "INET6" : "INET", proto == SM_TCP ? "STREAM" : "DGRAM",
                                          wild ? "wildcard" : "loopback", opt_text(opts[oe]),
                                          opt_text(opts[on]), unpriv ? "unprivileged" : "root",
                                          sm_err_name(first), sm_err_name(second), sm_err_name(want));
                            cases++;
                            sm_world_free(w);
                        }
    printf("bsd multibind (A1 root + A2 unprivileged): %d cases\n", cases);
    ck_assert_int_eq(cases, 256);
}
END_TEST

/* ---- in_pcbbind_avail() reuse rules, one user ---------------------------- */

/*
 * bsd-solaris.md §1.1 steps 1/6, §1.2 table "Consequences" and synthetic
 * case S1 (§6): N without options meets any overlapping PCB (WILDCARD
 * lookup); with any SO_REUSE* option only an unconnected PCB on exactly the
 * same address, which then blocks unless it has, right now, one of the
 * SO_REUSEPORT / SO_REUSEPORT_LB bits N sets (SO_REUSEADDR alone never
 * shares an exact address; REUSEPORT and REUSEPORT_LB do not mix).
 */
static const struct reuse_case {
    unsigned eo;
    const char *ea;
    bool listen;
    unsigned no;
    const char *na;
    sm_err want;
    const char *why;
} reuse_cases[] = {
    {0, "0.0.0.0", true, 0, "192.0.2.1", SM_EADDRINUSE, "S1: no option, wildcard listener overlaps"},
    {0, "0.0.0.0", true, RA, "192.0.2.1", SM_OK, "S1: RA, exact lookup finds no 192.0.2.1 PCB"},
    {0, "192.0.2.1", true, RA, "0.0.0.0", SM_OK, "S1 reverse order"},
    {0, "192.0.2.1", true, 0, "0.0.0.0", SM_EADDRINUSE, "S1 reverse, no option"},
    {0, "192.0.2.1", false, 0, "192.0.2.2", SM_OK, "different specific addresses"},
    {RA, "192.0.2.1", false, RA, "192.0.2.1", SM_EADDRINUSE, "RA/RA exact: reuseport bits 0"},
    {RA, "0.0.0.0", false, RA, "0.0.0.0", SM_EADDRINUSE, "RA/RA on the wildcard"},
    {0, "192.0.2.1", false, RP, "192.0.2.1", SM_EADDRINUSE, "E lacks RP"},
    {RA, "192.0.2.1", false, RP, "192.0.2.1", SM_EADDRINUSE, "E lacks RP (has RA)"},
    {RP, "192.0.2.1", false, RA, "192.0.2.1", SM_EADDRINUSE, "N's RA gives no reuseport bit"},
    {RP, "192.0.2.1", false, RP, "192.0.2.1", SM_OK, "RP on both"},
    {RP, "192.0.2.1", true, RP, "192.0.2.1", SM_OK, "RP on both, E listening"},
    {RP, "0.0.0.0", false, RP, "0.0.0.0", SM_OK, "RP on both, wildcard"},
    {LB, "192.0.2.1", false, LB, "192.0.2.1", SM_OK, "LB on both"},
    {RP, "192.0.2.1", false, LB, "192.0.2.1", SM_EADDRINUSE, "RP and LB do not mix"},
    {LB, "192.0.2.1", false, RP, "192.0.2.1", SM_EADDRINUSE, "LB and RP do not mix"},
    {RP, "192.0.2.1", false, RP | LB, "192.0.2.1", SM_OK, "N RP+LB, E has RP"},
    {LB, "192.0.2.1", false, RP | LB, "192.0.2.1", SM_OK, "N RP+LB, E has LB"},
    {RA, "192.0.2.1", false, RP | LB, "192.0.2.1", SM_EADDRINUSE, "N RP+LB, E lacks both"},
    {RP, "0.0.0.0", false, RA, "192.0.2.1", SM_OK, "RA: wildcard PCB not seen"},
    {0, "0.0.0.0", false, RP, "192.0.2.1", SM_OK, "RP: wildcard PCB not seen"},
    {0, "192.0.2.1", false, LB, "0.0.0.0", SM_OK, "LB: specific PCB not seen from the wildcard"},
    {RP, "[::1]", false, RP, "[::1]", SM_OK, "IPv6: RP on both"},
    {RA, "[::1]", false, RA, "[::1]", SM_EADDRINUSE, "IPv6: RA/RA exact"},
    {0, "[::]", true, 0, "[::1]", SM_EADDRINUSE, "IPv6: no option, wildcard overlaps"},
    {0, "[::]", true, RA, "[::1]", SM_OK, "IPv6: RA, exact lookup"},
};

START_TEST(reuse_rules)
{
    int cases = 0;
    for (size_t i = 0; i < sizeof reuse_cases / sizeof reuse_cases[0]; i++)
        for (int proto = SM_TCP; proto <= SM_UDP; proto++) {
            const struct reuse_case *c = &reuse_cases[i];
            if (c->listen && proto == SM_UDP)
                continue;
            int family = c->ea[0] == '[' ? 6 : 4;
            sm_world *w = test_world("bsd");
            sm_id e = usock(w, "user", (sm_proto)proto, family, "E");
            sm_id n = usock(w, "user", (sm_proto)proto, family, "N");
            set_opts(w, e, c->eo);
            set_opts(w, n, c->no);
            char ep[64];
            snprintf(ep, sizeof ep, "%s:5000", c->ea);
            ck_assert_int_eq(tbind(w, e, ep), SM_OK);
            if (c->listen)
                ck_assert_int_eq(sm_listen(w, e, 8).err, SM_OK);
            snprintf(ep, sizeof ep, "%s:5000", c->na);
            sm_err got = tbind(w, n, ep);
            ck_assert_msg(got == c->want,
                          "reuse case %zu (%s) %s: E %s %s%s, N %s %s: expected %s, got %s", i,
                          c->why, proto == SM_TCP ? "tcp" : "udp", opt_text(c->eo), c->ea,
                          c->listen ? " listening" : "", opt_text(c->no), c->na,
                          sm_err_name(c->want), sm_err_name(got));
            cases++;
            sm_world_free(w);
        }
    printf("bsd reuse rules (§1.2): %d cases\n", cases);
}
END_TEST

START_TEST(current_options_of_existing)
{
    /* §1.2: "E's options are read at N's bind time, from E's current
     * so_options".  E bound with SO_REUSEPORT that has cleared it since no
     * longer shares; one that set it after its bind does (A1). */
    sm_world *w = test_world("bsd");
    sm_id e = usock(w, "user", SM_TCP, 4, "E"), n = usock(w, "user", SM_TCP, 4, "N");
    topt(w, e, SM_SO_REUSEPORT);
    topt(w, n, SM_SO_REUSEPORT);
    ck_assert_int_eq(tbind(w, e, "127.0.0.1:5001"), SM_OK);
    ck_assert_int_eq(sm_setsockopt(w, e, SM_SO_REUSEPORT, 0, 0).err, SM_OK);
    ck_assert_int_eq(tbind(w, n, "127.0.0.1:5001"), SM_EADDRINUSE);
    sm_world_free(w);
}
END_TEST

/* ---- §1.3 the uid rule --------------------------------------------------- */

/*
 * bsd-solaris.md §1.3 (FBSD-main in_pcbbind_avail): a non-root N cannot
 * share a port with a PCB of another uid that the WILDCARD lookup finds,
 * whatever SO_REUSE* options either has; root is exempt; the rule is
 * skipped for multicast (§1.5); PCBs the lookup does not find (different
 * specific addresses) do not count.
 */
static const struct uid_case {
    const char *euser;
    unsigned eo;
    const char *ea;
    const char *nuser;
    unsigned no;
    const char *na;
    sm_err want;
    const char *why;
} uid_cases[] = {
    {"user", RP, "192.0.2.1", "alice", RP, "192.0.2.1", SM_EADDRINUSE, "RP on both, other uid"},
    {"user", LB, "0.0.0.0", "alice", LB, "0.0.0.0", SM_EADDRINUSE, "LB on both, other uid"},
    {"user", 0, "0.0.0.0", "alice", RA, "192.0.2.1", SM_EADDRINUSE,
     "RA would pass the wildcard (S1) but the uid lookup finds it"},
    {"alice", 0, "192.0.2.1", "user", RA, "0.0.0.0", SM_EADDRINUSE,
     "the uid lookup from the wildcard finds the specific PCB"},
    {"user", RP, "192.0.2.1", "alice", RP, "192.0.2.2", SM_OK, "different specific addresses"},
    {"user", RP, "192.0.2.1", "root", RP, "192.0.2.1", SM_OK, "root N is exempt"},
    {"user", RP, "[::1]", "alice", RP, "[::1]", SM_EADDRINUSE, "IPv6: RP on both, other uid"},
};

START_TEST(uid_rule)
{
    int cases = 0;
    for (size_t i = 0; i < sizeof uid_cases / sizeof uid_cases[0]; i++)
        for (int proto = SM_TCP; proto <= SM_UDP; proto++) {
            const struct uid_case *c = &uid_cases[i];
            int family = c->ea[0] == '[' ? 6 : 4;
            sm_world *w = test_world("bsd");
            sm_id e = usock(w, c->euser, (sm_proto)proto, family, "E");
            sm_id n = usock(w, c->nuser, (sm_proto)proto, family, "N");
            set_opts(w, e, c->eo);
            set_opts(w, n, c->no);
            char ep[64];
            snprintf(ep, sizeof ep, "%s:5000", c->ea);
            ck_assert_int_eq(tbind(w, e, ep), SM_OK);
            snprintf(ep, sizeof ep, "%s:5000", c->na);
            sm_err got = tbind(w, n, ep);
            ck_assert_msg(got == c->want, "uid case %zu (%s) %s: expected %s, got %s", i, c->why,
                          proto == SM_TCP ? "tcp" : "udp", sm_err_name(c->want),
                          sm_err_name(got));
            cases++;
            sm_world_free(w);
        }
    printf("bsd uid rule (§1.3): %d cases\n", cases);
}
END_TEST

/* ---- §1.5 multicast ------------------------------------------------------ */

/*
 * bsd-solaris.md §1.5: for a multicast address SO_REUSEADDR counts as
 * SO_REUSEPORT; the check is (REUSEADDR|REUSEPORT) & E.so_options, so E
 * needs either option; the uid rule is skipped.  UDP only (TCP cannot bind
 * a multicast address).
 */
static const struct mcast_case {
    const char *euser;
    unsigned eo;
    const char *nuser;
    unsigned no;
    sm_err want;
} mcast_cases[] = {
    {"user", RA, "user", RA, SM_OK},
    {"user", RP, "user", RA, SM_OK},
    {"user", RA, "user", RP, SM_OK},
    {"user", 0, "user", RA, SM_EADDRINUSE},
    {"user", RA, "user", 0, SM_EADDRINUSE},
    {"user", RA, "alice", RA, SM_OK}, /* uid rule skipped for multicast */
};

START_TEST(multicast)
{
    for (size_t i = 0; i < sizeof mcast_cases / sizeof mcast_cases[0]; i++) {
        const struct mcast_case *c = &mcast_cases[i];
        sm_world *w = test_world("bsd");
        sm_id e = usock(w, c->euser, SM_UDP, 4, "E");
        sm_id n = usock(w, c->nuser, SM_UDP, 4, "N");
        set_opts(w, e, c->eo);
        set_opts(w, n, c->no);
        ck_assert_int_eq(tbind(w, e, "224.0.0.251:5353"), SM_OK);
        sm_err got = tbind(w, n, "224.0.0.251:5353");
        ck_assert_msg(got == c->want, "multicast case %zu: E %s %s, N %s %s: expected %s, got %s",
                      i, c->euser, opt_text(c->eo), c->nuser, opt_text(c->no),
                      sm_err_name(c->want), sm_err_name(got));
        sm_world_free(w);
    }
}
END_TEST

/* ---- reserved ports ------------------------------------------------------ */

START_TEST(reserved_ports)
{
    /* §1.1 step 4 / §1.7: ports reservedlow (0) .. reservedhigh (1023)
     * need PRIV_NETINET_RESERVEDPORT: EACCES for a non-root bind, checked
     * before the conflict checks (§2.2 contrasts OpenBSD, which returns
     * EADDRINUSE for a busy privileged port: "FreeBSD returns EACCES (its
     * privilege check comes first)"). */
    static const struct {
        const char *user;
        const char *ep;
        sm_err want;
    } t[] = {
        {"user", "0.0.0.0:80", SM_EACCES},   {"user", "127.0.0.1:1", SM_EACCES},
        {"user", "0.0.0.0:1023", SM_EACCES}, {"user", "0.0.0.0:1024", SM_OK},
        {"root", "0.0.0.0:80", SM_OK},       {"root", "192.0.2.1:1023", SM_OK},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        for (int proto = SM_TCP; proto <= SM_UDP; proto++) {
            sm_world *w = test_world("bsd");
            sm_id s = usock(w, t[i].user, (sm_proto)proto, 4, "s");
            sm_err got = tbind(w, s, t[i].ep);
            ck_assert_msg(got == t[i].want, "%s binds %s (%s): expected %s, got %s", t[i].user,
                          t[i].ep, proto == SM_TCP ? "tcp" : "udp", sm_err_name(t[i].want),
                          sm_err_name(got));
            sm_world_free(w);
        }

    /* Busy and reserved: EACCES, not EADDRINUSE. */
    sm_world *w = test_world("bsd");
    sm_id r = usock(w, "root", SM_TCP, 4, "r"), u = usock(w, "user", SM_TCP, 4, "u");
    ck_assert_int_eq(tbind(w, r, "0.0.0.0:80"), SM_OK);
    ck_assert_int_eq(tbind(w, u, "0.0.0.0:80"), SM_EACCES);
    sm_world_free(w);

    /* The range follows net.inet.ip.portrange.reservedhigh (§1.7). */
    w = test_world("bsd");
    const char *v[] = {"99"};
    ck_assert_ptr_null(sm_sysctl(w, sm_host_find(w, "local"),
                                 "net.inet.ip.portrange.reservedhigh", v, 1));
    sm_id a = usock(w, "user", SM_TCP, 4, "a"), b = usock(w, "user", SM_TCP, 4, "b");
    ck_assert_int_eq(tbind(w, a, "0.0.0.0:99"), SM_EACCES);
    ck_assert_int_eq(tbind(w, b, "0.0.0.0:100"), SM_OK);
    sm_world_free(w);
}
END_TEST

/* ---- ephemeral ports ----------------------------------------------------- */

START_TEST(ephemeral_range)
{
    /* §3.4: bind(port 0) takes a port of net.inet.ip.portrange.first ..
     * last = 10000 .. 65535 that no PCB the socket's lookup can see holds
     * (no options: any PCB on the port); randomized by default. */
    for (int proto = SM_TCP; proto <= SM_UDP; proto++) {
        sm_world *w = test_world("bsd");
        static bool seen[65536];
        memset(seen, 0, sizeof seen);
        for (int i = 0; i < 300; i++) {
            char name[16];
            snprintf(name, sizeof name, "s%d", i);
            sm_id s = usock(w, "user", (sm_proto)proto, 4, name);
            sm_result r = sm_bind(w, s, tep(i % 2 ? "0.0.0.0:0" : "127.0.0.1:0"));
            ck_assert_int_eq(r.err, SM_OK);
            ck_assert_msg(r.port >= 10000, "port %u below portrange.first", r.port);
            ck_assert_msg(!seen[r.port], "port %u handed out twice", r.port);
            seen[r.port] = true;
        }
        sm_world_free(w);
    }
    /* With net.inet.ip.portrange.randomized=0 the walk is sequential; the
     * whole default range then goes out, each port once, before
     * EADDRNOTAVAIL: exactly the 55536 ports 10000..65535. */
    sm_world *w = test_world("bsd");
    const char *zero[] = {"0"};
    ck_assert_ptr_null(sm_sysctl(w, sm_host_find(w, "local"), "net.inet.ip.portrange.randomized",
                                 zero, 1));
    static bool seen[65536];
    memset(seen, 0, sizeof seen);
    for (int i = 0; i < 55536; i++) {
        char name[16];
        snprintf(name, sizeof name, "q%d", i);
        sm_id s = usock(w, "user", SM_TCP, 4, name);
        sm_result r = sm_bind(w, s, tep("0.0.0.0:0"));
        ck_assert_msg(r.err == SM_OK, "bind(0) #%d: %s", i, sm_err_name(r.err));
        ck_assert_msg(r.port >= 10000 && !seen[r.port], "port %u (#%d)", r.port, i);
        seen[r.port] = true;
    }
    sm_id s = usock(w, "user", SM_TCP, 4, "full");
    ck_assert_int_eq(tbind(w, s, "0.0.0.0:0"), SM_EADDRNOTAVAIL);
    sm_world_free(w);
}
END_TEST

/* Binds sockets to 0.0.0.0:0 until one fails; returns how many succeeded
 * and checks each port lies in [lo, hi]. */
static int fill_range(sm_world *w, sm_proto proto, unsigned lo, unsigned hi, sm_err *last)
{
    for (int i = 0;; i++) {
        char name[16];
        snprintf(name, sizeof name, "f%d", i);
        sm_id s = usock(w, "user", proto, 4, name);
        sm_result r = sm_bind(w, s, tep("0.0.0.0:0"));
        if (r.err != SM_OK) {
            *last = r.err;
            return i;
        }
        ck_assert_msg(r.port >= lo && r.port <= hi, "port %u outside %u..%u", r.port, lo, hi);
        ck_assert_int_lt(i, 100000);
    }
}

START_TEST(ephemeral_exhaustion)
{
    /* §3.4: net.inet.ip.portrange.first/last shrink the range; the walk
     * tries every port of it (count = last - first, "if (count-- < 0)"
     * gives last - first + 1 tries); exhaustion is EADDRNOTAVAIL; first >
     * last are swapped. */
    static const struct {
        const char *first, *last;
        unsigned lo, hi;
    } t[] = {{"20000", "20004", 20000, 20004}, {"20004", "20000", 20000, 20004},
             {"40000", "40001", 40000, 40001}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        for (int proto = SM_TCP; proto <= SM_UDP; proto++) {
            sm_world *w = test_world("bsd");
            sm_id h = sm_host_find(w, "local");
            ck_assert_ptr_null(sm_sysctl(w, h, "net.inet.ip.portrange.first", &t[i].first, 1));
            ck_assert_ptr_null(sm_sysctl(w, h, "net.inet.ip.portrange.last", &t[i].last, 1));
            sm_err last = SM_OK;
            int n = fill_range(w, (sm_proto)proto, t[i].lo, t[i].hi, &last);
            ck_assert_int_eq(n, (int)(t[i].hi - t[i].lo + 1));
            ck_assert_msg(last == SM_EADDRNOTAVAIL, "exhausted range: expected EADDRNOTAVAIL, got %s",
                          sm_err_name(last));
            sm_world_free(w);
        }
}
END_TEST

/* ---- IPv6: V6ONLY default and dual stack --------------------------------- */

START_TEST(v6only_default_and_dual_stack)
{
    /* §1.6: net.inet6.ip6.v6only defaults to 1: an AF_INET6 [::] and an
     * AF_INET 0.0.0.0 on one port do not interact, in either order. */
    for (int order = 0; order < 2; order++) {
        sm_world *w = test_world("bsd");
        sm_id a = tsock(w, "a", SM_TCP, 6), b = tsock(w, "b", SM_TCP, 4);
        ck_assert_int_eq(tbind(w, order ? b : a, order ? "0.0.0.0:5002" : "[::]:5002"), SM_OK);
        ck_assert_int_eq(tbind(w, order ? a : b, order ? "[::]:5002" : "0.0.0.0:5002"), SM_OK);
        sm_world_free(w);
    }
    /* S4 (§6, from §1.6): with net.inet6.ip6.v6only=0, AF_INET 0.0.0.0:P
     * then dual-stack [::]:P succeeds; the reverse order is EADDRINUSE; an
     * AF_INET 127.0.0.1:P blocks a later dual-stack [::]:P. */
    static const struct {
        const char *first_ep;
        int first_family;
        const char *second_ep;
        int second_family;
        sm_err want;
    } t[] = {
        {"0.0.0.0:5003", 4, "[::]:5003", 6, SM_OK},
        {"[::]:5003", 6, "0.0.0.0:5003", 4, SM_EADDRINUSE},
        {"127.0.0.1:5003", 4, "[::]:5003", 6, SM_EADDRINUSE},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        for (int proto = SM_TCP; proto <= SM_UDP; proto++) {
            sm_world *w = test_world("bsd");
            const char *zero[] = {"0"};
            ck_assert_ptr_null(sm_sysctl(w, sm_host_find(w, "local"), "net.inet6.ip6.v6only",
                                         zero, 1));
            sm_id a = tsock(w, "a", (sm_proto)proto, t[i].first_family);
            sm_id b = tsock(w, "b", (sm_proto)proto, t[i].second_family);
            ck_assert_int_eq(tbind(w, a, t[i].first_ep), SM_OK);
            sm_err got = tbind(w, b, t[i].second_ep);
            ck_assert_msg(got == t[i].want, "v6only=0: %s then %s: expected %s, got %s",
                          t[i].first_ep, t[i].second_ep, sm_err_name(t[i].want),
                          sm_err_name(got));
            sm_world_free(w);
        }
}
END_TEST

/* ---- options FreeBSD lacks ---------------------------------------------- */

START_TEST(no_such_options)
{
    /* Spec example and §1.7: SO_EXCLUSIVEADDRUSE is Windows-only; the
     * three reuse options exist (§1.1). */
    sm_world *w = test_world("bsd");
    sm_id s = tsock(w, "s", SM_TCP, 4);
    ck_assert_int_eq(sm_setsockopt(w, s, SM_SO_EXCLUSIVEADDRUSE, 1, 0).err, SM_ENOPROTOOPT);
    ck_assert_int_eq(sm_setsockopt(w, s, SM_SO_REUSEADDR, 1, 0).err, SM_OK);
    ck_assert_int_eq(sm_setsockopt(w, s, SM_SO_REUSEPORT, 1, 0).err, SM_OK);
    ck_assert_int_eq(sm_setsockopt(w, s, SM_SO_REUSEPORT_LB, 1, 0).err, SM_OK);
    sm_world_free(w);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("bsd");
    TCase *t = tcase_create("rules");
    tcase_set_timeout(t, 120);
    tcase_add_test(t, multibind);
    tcase_add_test(t, reuse_rules);
    tcase_add_test(t, current_options_of_existing);
    tcase_add_test(t, uid_rule);
    tcase_add_test(t, multicast);
    tcase_add_test(t, reserved_ports);
    tcase_add_test(t, ephemeral_range);
    tcase_add_test(t, ephemeral_exhaustion);
    tcase_add_test(t, v6only_default_and_dual_stack);
    tcase_add_test(t, no_such_options);
    suite_add_tcase(s, t);
    return s;
}

CHECK_MAIN(suite)
