/*
 * bsd_common.c - the BSD in_pcblookup_local() lookup, and FreeBSD's bind
 * rules built on it (shared by the "bsd" and "freebsd-13" profiles; the rule
 * table is in bsd.c's opening comment).  See bsd_common.h.
 */
#include "bsd_common.h"
#include "tcp_common.h"

#include <string.h>

/* ---- rule records: what this file decides, with ID, source and tag ---- */

static const sm_rule r_listen_no_recheck = SM_RULE("bsd.listen.no-recheck", S,
    "listen() does not re-check the port: FreeBSD binds only an unbound "
    "socket there (tcp_usr_listen() calls in_pcbbind() when inp_lport == "
    "0)",
    "FreeBSD tcp_usrreq.c");

/* ---- the PCB as in_pcblookup_local() sees it ---------------------------- */

unsigned sm__bsd_opt_bits(const sm_opts *o)
{
    return (o->reuseaddr ? BSD_RA : 0u) | (o->reuseport ? BSD_RP : 0u) |
           (o->reuseport_lb ? BSD_LB : 0u);
}

uint32_t sm__bsd_v4_part(const sm_addr *a)
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
bsd_pcb sm__bsd_pcb_of(const sm_sock_view *e)
{
    bsd_pcb p;
    memset(&p, 0, sizeof p);
    p.connected = e->connected || e->time_wait ||
                  (e->proto == SM_TCP && e->state > SM_LISTEN);
    p.laddr4 = sm__bsd_v4_part(&e->local_addr);
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
static int lookup4(const sm_bind_ctx *c, uint32_t laddr, bool wild, bool inet_only)
{
    int best = -1, best_cost = 0;
    bsd_pcb bp;
    memset(&bp, 0, sizeof bp);
    for (size_t i = 0; i < c->n_owners; i++) {
        const sm_sock_view *e = &c->owners[i];
        bsd_pcb p = sm__bsd_pcb_of(e);
        if (!p.v4 || (inet_only && e->family != 4))
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

int sm__bsd_lookup4(const sm_bind_ctx *c, uint32_t laddr, bool wild)
{
    return lookup4(c, laddr, wild, false);
}

int sm__bsd_lookup4_inet(const sm_bind_ctx *c, uint32_t laddr, bool wild)
{
    return lookup4(c, laddr, wild, true);
}

/* in6_pcblookup_local(): the same for IPv6, without the mapped cost [S]. */
int sm__bsd_lookup6(const sm_bind_ctx *c, const sm_addr *laddr, bool wild)
{
    int best = -1, best_cost = 0;
    bsd_pcb bp;
    memset(&bp, 0, sizeof bp);
    bool any = sm_addr_is_any(laddr);
    for (size_t i = 0; i < c->n_owners; i++) {
        const sm_sock_view *e = &c->owners[i];
        bsd_pcb p = sm__bsd_pcb_of(e);
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

static const sm_rule r_free = SM_RULE("bsd.bind.free", S,
    "no other socket holds this port",
    "FreeBSD in_pcbbind_avail(), in_pcb.c");
static const sm_rule r_no_overlap = SM_RULE("bsd.bind.no-overlap", S,
    "no socket on this port overlaps the address (two different specific "
    "addresses never conflict, and IPv4 lookups do not see IPv6-only "
    "sockets nor IPv6 lookups IPv4 ones)",
    "FreeBSD in_pcblookup_local(), in_pcb.c");
static const sm_rule r_reuse_no_exact = SM_RULE("bsd.bind.reuse-no-exact", S,
    "with SO_REUSEADDR/SO_REUSEPORT/SO_REUSEPORT_LB set, the new socket "
    "only meets an unconnected socket bound to exactly the same address; "
    "there is none (wildcard, other-address, connected and TIME_WAIT "
    "sockets are not looked at)",
    "FreeBSD in_pcbbind_avail(), in_pcblookup_local() without "
    "INPLOOKUP_WILDCARD");
static const sm_rule r_shared = SM_RULE("bsd.bind.shared", S,
    "the socket on exactly this address has, right now, the SO_REUSEPORT "
    "or SO_REUSEPORT_LB option the new socket sets: they share the port "
    "(setting it after that socket's bind is enough)",
    "FreeBSD in_pcbbind_avail(); socket_afinet.c multibind_test");
static const sm_rule r_inet6_wild = SM_RULE("bsd.bind.inet6-wild", S,
    "two AF_INET6 sockets both on the IPv4 wildcard do not conflict",
    "FreeBSD in_pcbbind_avail(), INP_IPV6PROTO exception");
static const sm_rule r_dual_over_inet = SM_RULE("bsd.bind.dual-over-inet", S,
    "a dual-stack [::] bind passes over an AF_INET socket on exactly "
    "0.0.0.0 (IPv4 traffic keeps going to the AF_INET one)",
    "FreeBSD in6_pcbbind_avail()");
static const sm_rule r_wild_conflict = SM_RULE("bsd.bind.wild-conflict", S,
    "the new socket has no SO_REUSEADDR/SO_REUSEPORT/SO_REUSEPORT_LB, so "
    "any socket whose address overlaps (same address, or either one the "
    "wildcard) conflicts, whatever its state: bound, listening, "
    "connected or TIME_WAIT",
    "FreeBSD in_pcbbind_avail(), in_pcblookup_local(INPLOOKUP_WILDCARD)");
static const sm_rule r_exact_ra = SM_RULE("bsd.bind.exact-ra", S,
    "SO_REUSEADDR lets a socket share a port with other addresses and "
    "with connected sockets, but never an exact address: an unconnected "
    "socket is already bound to this very address and port",
    "FreeBSD in_pcbbind_avail(): reuseport & so_options == 0");
static const sm_rule r_exact_rp = SM_RULE("bsd.bind.exact-rp", S,
    "an unconnected socket bound to exactly this address and port does "
    "not have the SO_REUSEPORT / SO_REUSEPORT_LB option the new socket "
    "sets (the two options do not mix)",
    "FreeBSD in_pcbbind_avail()");
static const sm_rule r_dual_conflict = SM_RULE("bsd.bind.dual-conflict", S,
    "a dual-stack [::] bind also claims 0.0.0.0:port, and an IPv4 socket "
    "holds it (only an AF_INET socket on exactly 0.0.0.0 would be passed "
    "over)",
    "FreeBSD in6_pcbbind_avail()");
static const sm_rule r_uid = SM_RULE("bsd.bind.uid", S,
    "another user's socket holds this port on an overlapping address: "
    "SO_REUSE* options share a port only between sockets of one user "
    "(root is exempt, and a connected TCP socket does not count)",
    "FreeBSD in_pcbbind_avail(), PRIV_NETINET_REUSEPORT; socket_afinet.c "
    "multibind_test");
static const sm_rule r_uid_dual = SM_RULE("bsd.bind.uid-dual", S,
    "a dual-stack [::] bind also runs the user check on 0.0.0.0: another "
    "user's IPv4 socket holds the port",
    "FreeBSD in6_pcbbind_avail()");
static const sm_rule r_priv = SM_RULE("bsd.bind.priv", S,
    "ports up to net.inet.ip.portrange.reservedhigh (1023) need root "
    "(PRIV_NETINET_RESERVEDPORT); checked before any conflict",
    "FreeBSD in_pcbbind_avail(), in_pcb.c");
static const sm_rule r_mapped_v6only = SM_RULE("bsd.bind.mapped-v6only", S,
    "an IPV6_V6ONLY socket takes a v4-mapped address as an IPv6 address, "
    "which no interface has",
    "FreeBSD tcp6_usr_bind()/udp6_bind() -> in6_pcbbind_avail(): "
    "ifa_ifwithaddr()");

/* ---- bind() ------------------------------------------------------------- */

/* ---- the reuse test every BSD shares (bsd_common.h) ---------------------- */

bool sm__bsd_blocks(const sm_bind_ctx *c, int t, unsigned reuse)
{
    return t >= 0 && (reuse & sm__bsd_opt_bits(&c->owners[t].now)) == 0;
}

sm_verdict sm__bsd_conflict(const sm__bsd_reuse_rules *x, int t, bool wild, unsigned reuse)
{
    return sm__fail(SM_EADDRINUSE,
                    wild ? x->wild_conflict : (reuse ? x->exact_rp : x->exact_ra), t);
}

const sm_rule *sm__bsd_pass_rule(const sm__bsd_reuse_rules *x, const sm_bind_ctx *c, int t,
                                 bool wild)
{
    if (t >= 0)
        return x->shared;
    if (c->n_owners == 0)
        return x->free;
    return wild ? x->no_overlap : x->reuse_no_exact;
}

/* FreeBSD's rules for it. */
static const sm__bsd_reuse_rules fbsd_reuse = {
    &r_free, &r_no_overlap, &r_reuse_no_exact, &r_shared, &r_wild_conflict, &r_exact_ra,
    &r_exact_rp,
};

/* The uid rule applied to a lookup result (rule 3).  nany: the new
 * socket's address is the wildcard.  FreeBSD 13 had one more exemption: a
 * wildcard bind over a wildcard SO_REUSEPORT_LB socket without SO_REUSEPORT
 * passes the uid rule [S FreeBSD 13.1 in_pcbbind_setup(); removed in main]. */
static bool uid_blocks(const sm_bind_ctx *c, int t, bool nany, bool fbsd13)
{
    if (t < 0)
        return false;
    const sm_sock_view *e = &c->owners[t];
    bsd_pcb p = sm__bsd_pcb_of(e);
    if (fbsd13 && nany && sm_addr_is_any(&e->local_addr) && !e->now.reuseport &&
        e->now.reuseport_lb)
        return false;
    return (c->self.proto != SM_TCP || !p.connected) && e->uid != c->self.uid;
}

/* in_pcbbind_avail(): an IPv4 address (AF_INET, or v4-mapped on AF_INET6). */
static sm_verdict avail4(const sm_bind_ctx *c, uint32_t laddr, bool v6proto,
                          bool fbsd13)
{
    const sm_sock_view *n = &c->self;
    unsigned opts = sm__bsd_opt_bits(&n->now);
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
        int t = sm__bsd_lookup4(c, laddr, true);
        if (uid_blocks(c, t, laddr == 0, fbsd13))
            return sm__fail(SM_EADDRINUSE, &r_uid, t);
    }
    int t = sm__bsd_lookup4(c, laddr, wild);
    if (sm__bsd_blocks(c, t, reuse)) {
        bsd_pcb p = sm__bsd_pcb_of(&c->owners[t]);
        if (laddr == 0 && p.laddr4 == 0 && v6proto && p.v6proto)
            return sm__ok(&r_inet6_wild);
        return sm__bsd_conflict(&fbsd_reuse, t, wild, reuse);
    }
    return sm__ok(sm__bsd_pass_rule(&fbsd_reuse, c, t, wild));
}

/* in6_pcbbind_avail(): an IPv6 address on an AF_INET6 socket. */
static sm_verdict avail6(const sm_bind_ctx *c, const sm_addr *laddr, bool fbsd13)
{
    const sm_sock_view *n = &c->self;
    unsigned opts = sm__bsd_opt_bits(&n->now);
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
        int t = sm__bsd_lookup6(c, laddr, true);
        if (uid_blocks(c, t, sm_addr_is_any(laddr), fbsd13))
            return sm__fail(SM_EADDRINUSE, &r_uid, t);
        if (dual) {
            t = sm__bsd_lookup4(c, 0, true);
            if (uid_blocks(c, t, true, false))
                return sm__fail(SM_EADDRINUSE, &r_uid_dual, t);
        }
    }
    int t = sm__bsd_lookup6(c, laddr, wild);
    if (sm__bsd_blocks(c, t, reuse))
        return sm__bsd_conflict(&fbsd_reuse, t, wild, reuse);
    const sm_rule *why = sm__bsd_pass_rule(&fbsd_reuse, c, t, wild);
    if (dual) {
        int t4 = sm__bsd_lookup4(c, 0, wild);
        if (sm__bsd_blocks(c, t4, reuse)) {
            bsd_pcb p = sm__bsd_pcb_of(&c->owners[t4]);
            if (p.laddr4 != 0 || p.v6proto)
                return sm__fail(SM_EADDRINUSE, &r_dual_conflict, t4);
            why = &r_dual_over_inet;
        } else if (t4 >= 0) {
            why = &r_shared;
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

sm_verdict sm__fbsd_bind(const sm_profile *self, const sm_bind_ctx *c)
{
    bool fbsd13 = ((const sm__bsd_gen *)self->data)->fbsd13;
    const sm_sock_view *n = &c->self;
    const sm_addr *a = &n->bound_addr;
    bool mapped = n->family == 6 && sm_addr_is_v4mapped(a);
    if (mapped && n->now.v6only)
        return sm__fail(SM_EADDRNOTAVAIL, &r_mapped_v6only, -1);
    if (reserved(c, n->port) && !n->privileged)
        return sm__fail(SM_EACCES, &r_priv, -1);
    if (n->family == 4 || mapped)
        return avail4(c, sm__bsd_v4_part(a), n->family == 6, fbsd13);
    return avail6(c, a, fbsd13);
}

/* ---- listen() ------------------------------------------------------------ */

sm_verdict sm__fbsd_listen(const sm_profile *self, const sm_bind_ctx *c)
{
    (void)self;
    (void)c;
    return sm__ok(&r_listen_no_recheck);
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
    bool wild = (sm__bsd_opt_bits(&n->now) & (BSD_RA | BSD_RP | BSD_LB)) == 0;
    const sm_addr *a = &n->bound_addr;
    if (n->family == 4 || sm_addr_is_v4mapped(a))
        return sm__bsd_lookup4(&bc, sm__bsd_v4_part(a), wild) < 0;
    if (sm__bsd_lookup6(&bc, a, wild) >= 0)
        return false;
    if (!n->now.v6only && sm_addr_is_any(a))
        return sm__bsd_lookup4(&bc, 0, wild) < 0;
    return true;
}

static const sm_rule r_pick = SM_RULE("bsd.port.pick", S,
    "bind(port 0): a random start in net.inet.ip.portrange.first..last "
    "(10000..65535), then the next port that no socket holds in a way "
    "the new socket's own lookup would see (with SO_REUSE* set, only "
    "exact-address unconnected sockets count)",
    "FreeBSD in_pcb_lport_dest(), in_pcb.c");
static const sm_rule r_pick_seq = SM_RULE("bsd.port.pick-seq", S,
    "bind(port 0): net.inet.ip.portrange.randomized=0, so the port after "
    "the last one handed out that no socket holds in a way the new "
    "socket's lookup would see",
    "FreeBSD in_pcb_lport_dest(), ipi_lastport");
static const sm_rule r_exhausted = SM_RULE("bsd.port.exhausted", S,
    "no port of net.inet.ip.portrange.first..last is free: EADDRNOTAVAIL",
    "FreeBSD in_pcb_lport_dest()");

sm_verdict sm__fbsd_pick_port(const sm_profile *self, sm_pick_ctx *pc, uint16_t *port)
{
    (void)self;
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
            return sm__ok(random ? &r_pick : &r_pick_seq);
        }
    }
    return sm__fail(SM_EADDRNOTAVAIL, &r_exhausted, -1);
}

/* Every rule record of this file (docs/rules.md). */
static const sm_rule *const rules_of_file[] = {
    &r_listen_no_recheck,
    &r_free,
    &r_no_overlap,
    &r_reuse_no_exact,
    &r_shared,
    &r_inet6_wild,
    &r_dual_over_inet,
    &r_wild_conflict,
    &r_exact_ra,
    &r_exact_rp,
    &r_dual_conflict,
    &r_uid,
    &r_uid_dual,
    &r_priv,
    &r_mapped_v6only,
    &r_pick,
    &r_pick_seq,
    &r_exhausted,
};
const sm_rule_set sm__rules_bsd_common = {"profiles/bsd_common.c", rules_of_file,
    sizeof rules_of_file / sizeof rules_of_file[0]};
