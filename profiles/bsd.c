/*
 * bsd.c - the "bsd" profile: FreeBSD main / 14.x, the BSD socket layer as it
 * is today.
 *
 * FreeBSD decides bind() in in_pcbbind_avail() (IPv4) and
 * in6_pcbbind_avail() (IPv6), both in terms of one lookup,
 * in_pcblookup_local() / in6_pcblookup_local(), which returns a SINGLE
 * protocol control block (PCB) for an address and port.  This file models
 * that lookup faithfully (which PCBs it can see, the cost it gives each, the
 * order it walks them) and then applies the checks to the one PCB it
 * returns, exactly as the kernel does.  Sources: ../shared/reference/
 * bsd-solaris.md §1 and §3.4, re-read in FreeBSD main sys/netinet/in_pcb.c
 * (bnovkov/freebsd-src@08949cd4) and sys/netinet6/in6_pcb.c; tags [S] read
 * in source, [T] in a test, [I] inferred, [U] unverified.
 *
 * The rule table:
 *  1. A v4-mapped address on an IPV6_V6ONLY socket goes to in6_pcbbind_avail()
 *     as an IPv6 address no interface has: EADDRNOTAVAIL [S tcp6_usr_bind()].
 *  2. Ports reservedlow..reservedhigh (0..1023) need PRIV_NETINET_RESERVEDPORT:
 *     EACCES, before any conflict check [S in_pcbbind_avail()].
 *  3. Uid rule (non-root, unicast): the WILDCARD lookup's PCB, if owned by
 *     another uid, is EADDRINUSE whatever the options; a connected TCP PCB is
 *     exempt [S in_pcbbind_avail(); T socket_afinet.c multibind_test].
 *  4. lookupflags = WILDCARD only when the new socket has none of
 *     SO_REUSEADDR / SO_REUSEPORT / SO_REUSEPORT_LB [S in_pcbbind_setup_locked()].
 *     Without WILDCARD only unconnected PCBs bound to exactly the same
 *     address are seen; with it every overlapping PCB (connected and
 *     TIME_WAIT ones included) is, and the cheapest one is returned.
 *  5. The returned PCB conflicts unless (new socket's SO_REUSEPORT |
 *     SO_REUSEPORT_LB) & (that PCB's CURRENT so_options) != 0 [S]; for a
 *     multicast address SO_REUSEADDR counts as both [S].  Two AF_INET6
 *     sockets on the IPv4 wildcard are exempt [S INP_IPV6PROTO test].
 *  6. A dual-stack [::] bind also checks 0.0.0.0 (uid rule and conflict); an
 *     AF_INET socket on exactly 0.0.0.0 does not block it [S in6_pcbbind_avail()].
 *  7. IPV6_V6ONLY defaults to net.inet6.ip6.v6only = 1 [S in6_proto.c] and
 *     cannot change once bound: EINVAL [S ip6_ctloutput()].
 *  8. listen() does not re-check: tcp_usr_listen() binds only an unbound
 *     socket [S tcp_usrreq.c].
 *  9. bind(0)/listen() autobind: random start in portrange.first..last
 *     (10000..65535), then +1 with wraparound; a port is free when the
 *     lookup with the socket's own lookupflags finds nothing; none free:
 *     EADDRNOTAVAIL [S in_pcb_lport_dest()].
 * 10. TIME_WAIT is the connected tcpcb itself for 2*MSL (MSL 30 s)
 *     [S tcp_twstart()], so only WILDCARD lookups see it (rule 4).
 */
#include "sm_profile.h"
#include "tcp_common.h"

#include <string.h>

/* ---- the PCB as in_pcblookup_local() sees it ---------------------------- */

/* so_options bits that take part in the reuse test (rule 5). */
enum { BSD_RA = 1, BSD_RP = 2, BSD_LB = 4 };

typedef struct bsd_pcb {
    bool v4;          /* INP_IPV4 in inp_vflag: seen by IPv4 lookups */
    bool v6;          /* INP_IPV6: seen by IPv6 lookups */
    bool v6proto;     /* INP_IPV6PROTO: an AF_INET6 socket */
    uint32_t laddr4;  /* inp_laddr */
    sm_addr laddr6;   /* in6p_laddr (only read when v6) */
    bool connected;   /* faddr != ANY: connected, closing or TIME_WAIT */
    bool mapped_wild; /* AF_INET6 on ::ffff:0.0.0.0: kept last in the wild hash */
} bsd_pcb;

static unsigned opt_bits(const sm_opts *o)
{
    return (o->reuseaddr ? BSD_RA : 0u) | (o->reuseport ? BSD_RP : 0u) |
           (o->reuseport_lb ? BSD_LB : 0u);
}

static uint32_t v4_part(const sm_addr *a)
{
    uint32_t x = 0;
    (void)sm_addr_v4(a, &x); /* :: and specific IPv6 addresses leave 0 */
    return x;
}

static bool is_v4(const sm_addr *a)
{
    return a->family == 4 || sm_addr_is_v4mapped(a);
}

/* inp_vflag of an existing owner.  tcp6_usr_bind()/udp6_bind(): a bind to ::
 * keeps INP_IPV4 unless V6ONLY, a v4-mapped bind leaves INP_IPV4 only, any
 * other IPv6 address INP_IPV6 only; tcp6_usr_connect() does the same by the
 * peer's family [S]. */
static bsd_pcb pcb_of(const sm_sock_view *e)
{
    bsd_pcb p;
    memset(&p, 0, sizeof p);
    p.connected = e->connected || e->time_wait ||
                  (e->proto == SM_TCP && e->state > SM_LISTEN);
    p.laddr4 = v4_part(&e->local_addr);
    p.laddr6 = e->local_addr;
    if (e->family == 4) {
        p.v4 = true;
        return p;
    }
    p.v6proto = true;
    if (p.connected && e->connected) {
        bool peer4 = is_v4(&e->remote.addr);
        p.v4 = peer4;
        p.v6 = !peer4;
    } else if (sm_addr_is_v4mapped(&e->local_addr)) {
        p.v4 = true;
        p.mapped_wild = !p.connected && p.laddr4 == 0;
    } else if (sm_addr_is_any(&e->local_addr)) {
        p.v6 = true;
        p.v4 = !e->at_bind.v6only;
    } else {
        p.v6 = true;
    }
    return p;
}

/* Which owner comes first in the walk.  The port list (WILDCARD lookups) is
 * LIST_INSERT_HEAD, newest first [S in_pcbinshash()]; the wild hash
 * (exact lookups) is newest first too, except that unbound v4-mapped AF_INET6
 * PCBs are appended at the tail [S _in_pcbinshash_wild()]. */
static bool walks_before(const sm_sock_view *a, const bsd_pcb *pa,
                         const sm_sock_view *b, const bsd_pcb *pb, bool exact)
{
    if (exact && pa->mapped_wild != pb->mapped_wild)
        return !pa->mapped_wild;
    if (exact && pa->mapped_wild)
        return a->seq < b->seq; /* appended: oldest first */
    return a->seq > b->seq;
}

/* in_pcblookup_local(): returns an index in owners[] or -1. */
static int lookup4(const sm_bind_ctx *c, uint32_t laddr, bool wild)
{
    int best = -1, best_cost = 0;
    bsd_pcb bp;
    memset(&bp, 0, sizeof bp);
    for (size_t i = 0; i < c->n_owners; i++) {
        const sm_sock_view *e = &c->owners[i];
        bsd_pcb p = pcb_of(e);
        if (!p.v4)
            continue;
        int cost;
        if (!wild) {
            /* Only unconnected PCBs on exactly laddr (hash_wild) [S]. */
            if (p.connected || p.laddr4 != laddr)
                continue;
            cost = 0;
        } else {
            /* Cost: +3 for a dual-stack AF_INET6 PCB (INP_IPV6 also set),
             * +1 if connected, +1 if exactly one address is the wildcard;
             * two different specific addresses never match [S]. */
            cost = p.v6 ? 3 : 0;
            if (p.connected)
                cost++;
            if (p.laddr4 != 0) {
                if (laddr == 0)
                    cost++;
                else if (p.laddr4 != laddr)
                    continue;
            } else if (laddr != 0) {
                cost++;
            }
        }
        if (best < 0 || cost < best_cost ||
            (cost == best_cost &&
             walks_before(e, &p, &c->owners[best], &bp, !wild))) {
            best = (int)i;
            best_cost = cost;
            bp = p;
        }
    }
    return best;
}

/* in6_pcblookup_local(): the same for IPv6, without the mapped cost [S]. */
static int lookup6(const sm_bind_ctx *c, const sm_addr *laddr, bool wild)
{
    int best = -1, best_cost = 0;
    bsd_pcb bp;
    memset(&bp, 0, sizeof bp);
    bool any = sm_addr_is_any(laddr);
    for (size_t i = 0; i < c->n_owners; i++) {
        const sm_sock_view *e = &c->owners[i];
        bsd_pcb p = pcb_of(e);
        if (!p.v6)
            continue;
        bool eany = sm_addr_is_any(&p.laddr6);
        int cost;
        if (!wild) {
            if (p.connected || !sm_addr_equal(&p.laddr6, laddr))
                continue;
            cost = 0;
        } else {
            cost = p.connected ? 1 : 0;
            if (!eany) {
                if (any)
                    cost++;
                else if (!sm_addr_equal(&p.laddr6, laddr))
                    continue;
            } else if (!any) {
                cost++;
            }
        }
        if (best < 0 || cost < best_cost ||
            (cost == best_cost &&
             walks_before(e, &p, &c->owners[best], &bp, !wild))) {
            best = (int)i;
            best_cost = cost;
            bp = p;
        }
    }
    return best;
}

/* ---- rule texts ---------------------------------------------------------- */

static const char r_free[] =
    "no other socket holds this port [FreeBSD in_pcbbind_avail(), in_pcb.c]";
static const char r_no_overlap[] =
    "no socket on this port overlaps the address (two different specific "
    "addresses never conflict, and IPv4 lookups do not see IPv6-only sockets "
    "nor IPv6 lookups IPv4 ones) [FreeBSD in_pcblookup_local(), in_pcb.c]";
static const char r_reuse_no_exact[] =
    "with SO_REUSEADDR/SO_REUSEPORT/SO_REUSEPORT_LB set, the new socket only "
    "meets an unconnected socket bound to exactly the same address; there is "
    "none (wildcard, other-address, connected and TIME_WAIT sockets are not "
    "looked at) [FreeBSD in_pcbbind_avail(), in_pcblookup_local() without "
    "INPLOOKUP_WILDCARD]";
static const char r_shared[] =
    "the socket on exactly this address has, right now, the SO_REUSEPORT or "
    "SO_REUSEPORT_LB option the new socket sets: they share the port (setting "
    "it after that socket's bind is enough) [FreeBSD in_pcbbind_avail(); "
    "socket_afinet.c multibind_test]";
static const char r_inet6_wild[] =
    "two AF_INET6 sockets both on the IPv4 wildcard do not conflict "
    "[FreeBSD in_pcbbind_avail(), INP_IPV6PROTO exception]";
static const char r_dual_over_inet[] =
    "a dual-stack [::] bind passes over an AF_INET socket on exactly 0.0.0.0 "
    "(IPv4 traffic keeps going to the AF_INET one) [FreeBSD in6_pcbbind_avail()]";
static const char r_wild_conflict[] =
    "the new socket has no SO_REUSEADDR/SO_REUSEPORT/SO_REUSEPORT_LB, so any "
    "socket whose address overlaps (same address, or either one the wildcard) "
    "conflicts, whatever its state: bound, listening, connected or TIME_WAIT "
    "[FreeBSD in_pcbbind_avail(), in_pcblookup_local(INPLOOKUP_WILDCARD)]";
static const char r_exact_ra[] =
    "SO_REUSEADDR lets a socket share a port with other addresses and with "
    "connected sockets, but never an exact address: an unconnected socket is "
    "already bound to this very address and port [FreeBSD in_pcbbind_avail(): "
    "reuseport & so_options == 0]";
static const char r_exact_rp[] =
    "an unconnected socket bound to exactly this address and port does not have "
    "the SO_REUSEPORT / SO_REUSEPORT_LB option the new socket sets (the two "
    "options do not mix) [FreeBSD in_pcbbind_avail()]";
static const char r_dual_conflict[] =
    "a dual-stack [::] bind also claims 0.0.0.0:port, and an IPv4 socket "
    "holds it (only an AF_INET socket on exactly 0.0.0.0 would be passed "
    "over) [FreeBSD in6_pcbbind_avail()]";
static const char r_uid[] =
    "another user's socket holds this port on an overlapping address: "
    "SO_REUSE* options share a port only between sockets of one user (root is "
    "exempt, and a connected TCP socket does not count) [FreeBSD "
    "in_pcbbind_avail(), "
    "PRIV_NETINET_REUSEPORT; socket_afinet.c multibind_test]";
static const char r_uid_dual[] =
    "a dual-stack [::] bind also runs the user check on 0.0.0.0: another "
    "user's IPv4 socket holds the port [FreeBSD in6_pcbbind_avail()]";
static const char r_priv[] =
    "ports up to net.inet.ip.portrange.reservedhigh (1023) need root "
    "(PRIV_NETINET_RESERVEDPORT); checked before any conflict "
    "[FreeBSD in_pcbbind_avail(), in_pcb.c]";
static const char r_mapped_v6only[] =
    "an IPV6_V6ONLY socket takes a v4-mapped address as an IPv6 address, "
    "which no interface has [FreeBSD tcp6_usr_bind()/udp6_bind() -> "
    "in6_pcbbind_avail(): ifa_ifwithaddr()]";

/* ---- bind() ------------------------------------------------------------- */

/* One conflict test: the PCB a lookup returned against the new socket's
 * reuse bits.  Returns true if it stops the bind. */
static bool blocks(const sm_bind_ctx *c, int t, unsigned reuse)
{
    return t >= 0 && (reuse & opt_bits(&c->owners[t].now)) == 0;
}

/* The uid rule applied to a lookup result (rule 3). */
static bool uid_blocks(const sm_bind_ctx *c, int t)
{
    if (t < 0)
        return false;
    const sm_sock_view *e = &c->owners[t];
    bsd_pcb p = pcb_of(e);
    return (c->self.proto != SM_TCP || !p.connected) && e->uid != c->self.uid;
}

static const char *ok_reason(const sm_bind_ctx *c, bool wild)
{
    if (c->n_owners == 0)
        return r_free;
    return wild ? r_no_overlap : r_reuse_no_exact;
}

/* in_pcbbind_avail(): an IPv4 address (AF_INET, or v4-mapped on AF_INET6). */
static sm_verdict avail4(const sm_bind_ctx *c, uint32_t laddr, bool v6proto)
{
    const sm_sock_view *n = &c->self;
    unsigned opts = opt_bits(&n->now);
    bool wild = (opts & (BSD_RA | BSD_RP | BSD_LB)) == 0;
    bool mcast = (laddr >> 28) == 0xe;
    unsigned reuse = opts & (BSD_RP | BSD_LB);
    if (mcast) {
        /* SO_REUSEADDR is SO_REUSEPORT (and _LB) for multicast [S]. */
        if (opts & (BSD_RA | BSD_RP))
            reuse |= BSD_RA | BSD_RP;
        if (opts & (BSD_RA | BSD_LB))
            reuse |= BSD_RA | BSD_LB;
    }
    if (!mcast && !n->privileged) {
        int t = lookup4(c, laddr, true);
        if (uid_blocks(c, t))
            return sm__fail(SM_EADDRINUSE, r_uid, t);
    }
    int t = lookup4(c, laddr, wild);
    if (blocks(c, t, reuse)) {
        bsd_pcb p = pcb_of(&c->owners[t]);
        if (laddr == 0 && p.laddr4 == 0 && v6proto && p.v6proto)
            return sm__ok(r_inet6_wild);
        return sm__fail(SM_EADDRINUSE,
                        wild ? r_wild_conflict : (reuse ? r_exact_rp : r_exact_ra), t);
    }
    return sm__ok(t >= 0 ? r_shared : ok_reason(c, wild));
}

/* in6_pcbbind_avail(): an IPv6 address on an AF_INET6 socket. */
static sm_verdict avail6(const sm_bind_ctx *c, const sm_addr *laddr)
{
    const sm_sock_view *n = &c->self;
    unsigned opts = opt_bits(&n->now);
    bool wild = (opts & (BSD_RA | BSD_RP | BSD_LB)) == 0;
    bool mcast = sm_addr_is_multicast(laddr);
    bool dual = !n->now.v6only && sm_addr_is_any(laddr);
    unsigned reuse = opts & (BSD_RP | BSD_LB);
    if (mcast) {
        if (opts & (BSD_RA | BSD_RP))
            reuse |= BSD_RA | BSD_RP;
        if (opts & (BSD_RA | BSD_LB))
            reuse |= BSD_RA | BSD_LB;
    }
    if (!mcast && !n->privileged) {
        int t = lookup6(c, laddr, true);
        if (uid_blocks(c, t))
            return sm__fail(SM_EADDRINUSE, r_uid, t);
        if (dual) {
            t = lookup4(c, 0, true);
            if (uid_blocks(c, t))
                return sm__fail(SM_EADDRINUSE, r_uid_dual, t);
        }
    }
    int t = lookup6(c, laddr, wild);
    if (blocks(c, t, reuse))
        return sm__fail(SM_EADDRINUSE,
                        wild ? r_wild_conflict : (reuse ? r_exact_rp : r_exact_ra), t);
    const char *why = t >= 0 ? r_shared : ok_reason(c, wild);
    if (dual) {
        int t4 = lookup4(c, 0, wild);
        if (blocks(c, t4, reuse)) {
            bsd_pcb p = pcb_of(&c->owners[t4]);
            if (p.laddr4 != 0 || p.v6proto)
                return sm__fail(SM_EADDRINUSE, r_dual_conflict, t4);
            why = r_dual_over_inet;
        } else if (t4 >= 0) {
            why = r_shared;
        }
    }
    return sm__ok(why);
}

/* The slot SM_TUN_UNPRIV_PORT holds net.inet.ip.portrange.reservedhigh + 1
 * (the sysctl's offset): ports reservedlow (0) .. reservedhigh are
 * privileged. */
static bool reserved(const sm_bind_ctx *c, uint16_t port)
{
    return port < c->tun[SM_TUN_UNPRIV_PORT];
}

static sm_verdict bsd_bind(const sm_bind_ctx *c)
{
    const sm_sock_view *n = &c->self;
    const sm_addr *a = &n->bound_addr;
    bool mapped = n->family == 6 && sm_addr_is_v4mapped(a);
    if (mapped && n->now.v6only)
        return sm__fail(SM_EADDRNOTAVAIL, r_mapped_v6only, -1);
    if (reserved(c, n->port) && !n->privileged)
        return sm__fail(SM_EACCES, r_priv, -1);
    if (n->family == 4 || mapped)
        return avail4(c, v4_part(a), n->family == 6);
    return avail6(c, a);
}

/* ---- listen() ------------------------------------------------------------ */

static sm_verdict bsd_listen(const sm_bind_ctx *c)
{
    (void)c;
    return sm__ok("listen() does not re-check the port: FreeBSD binds only an "
                  "unbound socket there (tcp_usr_listen() calls in_pcbbind() "
                  "when inp_lport == 0) [FreeBSD tcp_usrreq.c]");
}

/* ---- ephemeral ports ---------------------------------------------------- */

/* Is candidate port free for the asking socket?  "Free" means the lookup
 * with the socket's own lookupflags finds nothing; a dual-stack socket also
 * asks the IPv4 table about 0.0.0.0 [S in_pcb_lport_dest()]. */
static bool port_free(sm_pick_ctx *pc, uint16_t port)
{
    sm_bind_ctx bc;
    sm__pick_port_ctx(pc, port, &bc);
    const sm_sock_view *n = &bc.self;
    bool wild = (opt_bits(&n->now) & (BSD_RA | BSD_RP | BSD_LB)) == 0;
    const sm_addr *a = &n->bound_addr;
    if (n->family == 4 || sm_addr_is_v4mapped(a))
        return lookup4(&bc, v4_part(a), wild) < 0;
    if (lookup6(&bc, a, wild) >= 0)
        return false;
    if (!n->now.v6only && sm_addr_is_any(a))
        return lookup4(&bc, 0, wild) < 0;
    return true;
}

static const char r_pick[] =
    "bind(port 0): a random start in net.inet.ip.portrange.first..last "
    "(10000..65535), then the next port that no socket holds in a way the "
    "new socket's own lookup would see (with SO_REUSE* set, only exact-address "
    "unconnected sockets count) [FreeBSD in_pcb_lport_dest(), in_pcb.c]";
static const char r_pick_seq[] =
    "bind(port 0): net.inet.ip.portrange.randomized=0, so the port after the "
    "last one handed out that no socket holds in a way the new socket's "
    "lookup would see [FreeBSD in_pcb_lport_dest(), ipi_lastport]";
static const char r_exhausted[] =
    "no port of net.inet.ip.portrange.first..last is free: EADDRNOTAVAIL "
    "[FreeBSD in_pcb_lport_dest()]";

static sm_verdict bsd_pick_port(sm_pick_ctx *pc, uint16_t *port)
{
    const int64_t *tun = sm__pick_tun(pc);
    uint32_t first = (uint32_t)tun[SM_TUN_PORT_LO];
    uint32_t last = (uint32_t)tun[SM_TUN_PORT_HI];
    if (first > last) { /* in_pcb_lport_dest() swaps them [S] */
        uint32_t t = first;
        first = last;
        last = t;
    }
    /* ipi_lastport is per protocol (one pcbinfo each for TCP and UDP). */
    uint64_t *lastport = &sm__pick_state(pc)[sm__pick_self(pc)->proto == SM_UDP ? 1 : 0];
    bool random = tun[SM_TUN_RANDOM_PORTS] != 0;
    if (random)
        *lastport = first + (last > first ? sm__pick_rand(pc) % (last - first) : 0);
    /* count = last - first, tried while count-- >= 0: the whole range. */
    for (uint32_t i = 0; i <= last - first; i++) {
        uint64_t p = *lastport + 1;
        if (p < first || p > last)
            p = first;
        *lastport = p;
        if (port_free(pc, (uint16_t)p)) {
            *port = (uint16_t)p;
            return sm__ok(random ? r_pick : r_pick_seq);
        }
    }
    return sm__fail(SM_EADDRNOTAVAIL, r_exhausted, -1);
}

/* ---- setsockopt() ------------------------------------------------------- */

static sm_verdict bsd_setsockopt(const sm_sock_view *s, sm_option opt, int v1,
                                 int v2)
{
    (void)v1;
    switch (opt) {
    case SM_SO_REUSEADDR:
    case SM_SO_REUSEPORT:
    case SM_SO_REUSEPORT_LB:
        /* sosetopt() just sets the so_options bit, at any time; bind reads
         * the other sockets' bits as they are at that moment [S]. */
        return sm__ok("sets the so_options bit, before or after bind "
                      "[FreeBSD sosetopt(), uipc_socket.c]");
    case SM_IPV6_V6ONLY:
        if (s->family != 6)
            return sm__fail(SM_EINVAL,
                            "an AF_INET socket hands IPPROTO_IPV6 options to "
                            "ip_ctloutput(), which refuses other levels with "
                            "EINVAL [FreeBSD ip_ctloutput(), ip_output.c]", -1);
        if (s->bound)
            return sm__fail(SM_EINVAL,
                            "IPV6_V6ONLY can only be set before bind(2) (the "
                            "socket has a port or address) [FreeBSD "
                            "ip6_ctloutput(), ip6_output.c]", -1);
        return sm__ok("IPV6_V6ONLY sets IN6P_IPV6_V6ONLY and clears INP_IPV4 "
                      "[FreeBSD ip6_ctloutput()]");
    case SM_SO_LINGER:
        /* sosetopt() refuses l_linger < 0 or > USHRT_MAX with EDOM [S];
         * the model has no EDOM, so it says EINVAL and names the real one. */
        if (v2 < 0 || v2 > 65535)
            return sm__fail(SM_EINVAL,
                            "FreeBSD refuses a linger time outside 0..65535 s "
                            "(the real errno is EDOM) [FreeBSD sosetopt()]", -1);
        return sm__ok("SO_LINGER stores so_linger, in seconds "
                      "[FreeBSD sosetopt(), soclose()]");
    case SM_SO_EXCLUSIVEADDRUSE:
    case SM_SO_EXCLBIND:
    default:
        return sm__fail(SM_ENOPROTOOPT,
                        "FreeBSD has no such option (SO_EXCLUSIVEADDRUSE is "
                        "Windows', SO_EXCLBIND Solaris') [FreeBSD sosetopt(): "
                        "ENOPROTOOPT]", -1);
    }
}

/* ---- the profile --------------------------------------------------------- */

static const sm_sysctl_def sysctls[] = {
    {"net.inet.ip.portrange.first", 1, {SM_TUN_PORT_LO}, 1024, 65535, 1,
     "first ephemeral port (default 10000; FreeBSD clamps to 1024..65535)", 0},
    {"net.inet.ip.portrange.last", 1, {SM_TUN_PORT_HI}, 1024, 65535, 1,
     "last ephemeral port (default 65535)", 0},
    {"net.inet.ip.portrange.randomized", 1, {SM_TUN_RANDOM_PORTS}, 0, 1, 1,
     "1: each bind(0) starts at a random port (default); 0: sequential", 0},
    {"net.inet.ip.portrange.reservedhigh", 1, {SM_TUN_UNPRIV_PORT}, 0, 65535, 1,
     "last privileged port (default 1023): ports 0..reservedhigh need root", 1},
    {"net.inet.tcp.msl", 1, {SM_TUN_TIME_WAIT_MS}, 1, 1073741823, 2,
     "maximum segment lifetime in ms (default 30000); TIME_WAIT lasts 2*MSL", 0},
    {"net.inet.tcp.nolocaltimewait", 1, {SM_TUN_NOLOCALTIMEWAIT}, 0, 1, 1,
     "1: no TIME_WAIT for connections to one of the host's own addresses "
     "(default 1 on main)", 0},
    {"net.inet6.ip6.v6only", 1, {SM_TUN_V6ONLY_DEFAULT}, 0, 1, 1,
     "IPV6_V6ONLY of new AF_INET6 sockets (default 1)", 0},
};

/* ---- connections (bsd-solaris.md §3, §4) --------------------------------- */

static sm_verdict bsd_connect(const sm_bind_ctx *c)
{
    return sm__connect_unique(
        c, SM_EADDRINUSE,
        "another connection already uses this 4-tuple: EADDRINUSE "
        "[FreeBSD in_pcbconnect(): exact in_pcblookup_hash() match]",
        "a TIME_WAIT entry holds this 4-tuple: EADDRINUSE, there is no TIME_WAIT "
        "reuse on connect() [FreeBSD in_pcbconnect(); bsd-solaris.md 3.5, I]",
        "the 4-tuple is unique [FreeBSD in_pcbconnect()]");
}

static const sm__conn_scan bsd_conn_scan = {
    .random_start = true,
    .share_destinations = true,
    .tw_blocks_port = false,
    .exhausted = SM_EADDRNOTAVAIL,
    .rule = "connect(): random start in portrange.first..last, then the next "
            "port whose 4-tuple is free and where no unconnected or listening "
            "socket matches; ports are shared across destinations "
            "[FreeBSD in_pcb_lport_dest() with INPLOOKUP_WILDCARD; tcp_connect_port_test]",
    .exhausted_rule = "connect(): no port of the range can reach this destination: "
                      "EADDRNOTAVAIL [FreeBSD in_pcb_lport_dest()]",
};

static sm_verdict bsd_pick_connect(sm_pick_ctx *pc, uint16_t *port)
{
    return sm__conn_scan_pick(&bsd_conn_scan, pc, port);
}

static sm_tw_syn_verdict bsd_tw_syn(const sm_tw_syn_ctx *c)
{
    sm_tw_syn_verdict v;
    if ((int32_t)(c->seg_seq - c->rcv_nxt) > 0) {
        v.action = SM_TW_SYN_ACCEPT;
        v.rule = "a SYN with a sequence number above the old rcv_nxt recycles the "
                 "TIME_WAIT; the SYN is looked up again (listener, else RST) "
                 "[FreeBSD tcp_twcheck(); bsd-solaris.md 3.3]";
    } else {
        v.action = SM_TW_SYN_DROP;
        v.rule = "an old SYN into TIME_WAIT is silently dropped "
                 "[FreeBSD tcp_twcheck(): no ACK flag, drop]";
    }
    return v;
}

static size_t bsd_select_listener(const sm_listen_ctx *c)
{
    /* SO_REUSEPORT_LB: the load-balancing group picks by a hash of the
     * 4-tuple [FreeBSD in_pcblookup_lbgroup()].  Otherwise the lookup
     * returns the first match of the hash chain, where new sockets are
     * inserted at the head: the newest [FreeBSD in_pcbinshash(), I]. */
    size_t lb[64], n = 0;
    for (size_t i = 0; i < c->n && n < 64; i++)
        if (c->cands[i].at_bind.reuseport_lb)
            lb[n++] = i;
    if (n > 0)
        return lb[c->hash % n];
    return sm__select_newest(c);
}

static const sm_tcp_rules bsd_tcp_rules = {
    .unread_close_rst = false,
    .unread_close_rule = "close() with unread data: the data is discarded and a "
                         "FIN is sent as usual [FreeBSD tcp_disconnect(): sbflush()]",
    .linger_timeout = SM_LINGER_TO_EWOULDBLOCK,
    .linger_timeout_rule = "SO_LINGER timeout: close() returns EWOULDBLOCK and "
                           "the connection goes on [FreeBSD soclose(): tsleep() "
                           "timeout; bsd-solaris.md 4.1]",
    .linger_nonblock = SM_LINGER_NB_NO_WAIT,
    .linger_nonblock_rule = "non-blocking socket: close() does not linger, the "
                            "FIN goes out [FreeBSD soclose(): SS_NBIO]",
    .exit_lingers = true,
    .exit_rule = "process exit closes each socket through soclose(), which "
                 "lingers as close() does [FreeBSD; bsd-solaris.md 4.1, I]",
    .tw_overflow_recycles = true,
    .tw_overflow_rule = "TIME_WAIT cap reached: the oldest entry is recycled "
                        "[FreeBSD 13 tcp_tw_2msl_scan(1)]",
    .local_tw_purge_rule_is_loopback_only = false,
    .no_local_tw_rule = "no TIME_WAIT for a connection to one of this host's own "
                        "addresses (net.inet.tcp.nolocaltimewait=1) "
                        "[FreeBSD tcp_twstart(); bsd-solaris.md 3.2]",
    .connect_port_exhausted = SM_EADDRNOTAVAIL,
    .connect_on_listener = SM_EOPNOTSUPP,
    .connect_on_listener_rule = "connect() on a listening socket: EOPNOTSUPP "
                                "[FreeBSD soconnectat(): SOLISTENING, I]",
    .rst_in_tw_rule = "RSTs into TIME_WAIT are dropped (RFC 1337) "
                      "[FreeBSD tcp_twcheck()]",
    .rst_in_close_wait = SM_ECONNRESET,
};

const sm_profile sm_profile_bsd = {
    .name = "bsd",
    .summary = "FreeBSD (main/14.x): BSD socket layer as it is today",
    .sysctls = sysctls,
    .n_sysctls = sizeof sysctls / sizeof sysctls[0],
    .defaults = {
        [SM_TUN_PORT_LO] = 10000,        /* IPPORT_EPHEMERALFIRST, in_pcb.c */
        [SM_TUN_PORT_HI] = 65535,        /* IPPORT_EPHEMERALLAST */
        [SM_TUN_UNPRIV_PORT] = 1024,     /* reservedhigh + 1 = IPPORT_RESERVED */
        [SM_TUN_AUTOBIND_REUSE] = 0,     /* Linux-only */
        [SM_TUN_TIME_WAIT_MS] = 60000,   /* 2 * TCPTV_MSL (30 s), tcp_twstart() */
        [SM_TUN_TW_REUSE] = 0,           /* Linux-only */
        [SM_TUN_TW_REUSE_DELAY_MS] = 0,  /* Linux-only */
        [SM_TUN_RFC1337] = 1,            /* tcp_twcheck() drops RSTs, §3.3 */
        [SM_TUN_MAX_TW] = -1,           /* no cap modelled (negative: none) */
        [SM_TUN_FIN_TIMEOUT_MS] = 60000, /* TCPTV_FINWAIT2_TIMEOUT [U] */
        [SM_TUN_TIMESTAMPS] = 1,         /* net.inet.tcp.rfc1323 = 1 */
        [SM_TUN_NOLOCALTIMEWAIT] = 1,    /* true on main, tcp_timewait.c */
        [SM_TUN_V6ONLY_DEFAULT] = 1,     /* ip6_v6only = 1, in6_proto.c */
        [SM_TUN_RANDOM_PORTS] = 1,       /* ipport_randomized = true */
        [SM_TUN_SYN_RTO_MS] = 1000,      /* tcp_rexmit_initial (1 s) */
        [SM_TUN_CONNECT_TIMEOUT_MS] = 75000, /* tcp_keepinit, TCPTV_KEEP_INIT 75 s */
    },
    .native_err_name = NULL,
    .setsockopt = bsd_setsockopt,
    .bind = bsd_bind,
    .listen = bsd_listen,
    .pick_port = bsd_pick_port,
    .tcp = &bsd_tcp_rules,
    .connect = bsd_connect,
    .pick_connect_port = bsd_pick_connect,
    .tw_syn = bsd_tw_syn,
    .select_listener = bsd_select_listener,
    .select_listener_rule = "listener choice: specific address over wildcard; "
                            "a SO_REUSEPORT_LB group by 4-tuple hash; else the "
                            "newest match [FreeBSD in_pcblookup_hash_locked()]",
};
