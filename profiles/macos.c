/*
 * macos.c - the "macos" profile: macOS 10.14 and later (XNU).
 *
 * The rules are XNU's, in xnu_common.c; this file is macOS's rule table and
 * what only macOS has (the privileged-port check).  Sources:
 * ../shared/reference/more-profiles.md §1, bsd-solaris.md §2.1 and §4.2,
 * read in apple-oss-distributions/xnu tag xnu-11417.101.15.  Tags: [S] read
 * in source, [T] XNU's own tests (tests/), [I] inferred, [U] unverified.
 *
 * The rule table:
 *  1. Privileged ports: a port below 1024 on a specific address needs root:
 *     EACCES; the wildcard address is free for everyone since 10.14
 *     (xnu-4903); 10.13 and earlier checked every address (the model switch
 *     xnu.privileged_wildcard=1) [S in_pcbbind() at xnu-4570 / xnu-4903 / HEAD].
 *  2. Restricted ports (TCP 55555): EADDRINUSE for a process without the
 *     entitlement, root included [S in_pcbbind(), restricted_in_port.c].
 *  3. Uid rule: a non-root socket meets another user's socket that a
 *     WILDCARD lookup finds: EADDRINUSE, unless both binds are on the
 *     wildcard (IPv6: and the other has SO_REUSEPORT); no exemption for
 *     connected sockets [S in_pcbbind(), in6_pcbbind()].
 *  4. Conflict: without SO_REUSEADDR/SO_REUSEPORT every overlapping socket,
 *     in any state, TIME_WAIT included; with one of them only an unconnected
 *     socket on exactly this address, which must have SO_REUSEPORT now;
 *     SO_REUSEADDR is upgraded to SO_REUSEPORT only for multicast; two
 *     AF_INET6 sockets on the wildcard are exempt [S in_pcbbind()].
 *  5. Dual-stack by default (net.inet6.ip6.v6only = 0) [S in6_proto.c]; a
 *     dual-stack [::] bind also claims 0.0.0.0 and meets AF_INET sockets
 *     there [I].
 *  6. listen() does not re-check [S tcp_usr_listen()].
 *  7. Automatic ports: 49152..65535; TCP sequential from 49152
 *     (net.inet.tcp.randomize_ports = 0), UDP random; IPv4 counts a port
 *     busy if any overlapping socket holds it; restricted ports skipped;
 *     none free: EADDRNOTAVAIL (IPv6: EAGAIN) [S in_pcbbind(), in6_pcbsetport()].
 *  8. connect() autobind: the same counter, the port chosen for the wildcard
 *     address, never shared between destinations [S tcp_connect(); I].
 *  9. connect() to a 4-tuple in use, TIME_WAIT included: EADDRINUSE [S; I].
 * 10. TIME_WAIT lasts 2 * MSL = 30 s (net.inet.tcp.msl = 15000 ms) and ends
 *     when the collector next runs: tcp_gc() on the lazy 10 s inpcb timer,
 *     which the first entry on an idle host arms and which runs while
 *     entries wait (modelled as every 10 s from the moment it was armed,
 *     sm_tw_reaper: a lone entry lasts 30 s, later ones up to 40 s)
 *     [S tcp_timer.c: tcp_gc(), add_to_time_wait(); in_pcb.c:
 *     inpcb_gc_sched(); I for the period within the timer's leeway].
 * 11. RST into TIME_WAIT: ignored [S tcp_input()].  SYN into TIME_WAIT:
 *     beyond the receive window opens a new connection; inside it a
 *     challenge ACK [S tcp_input()].
 * 12. Orphaned FIN_WAIT_2: after net.inet.tcp.fin_timeout (60 s), a RST
 *     [S tcp_timers(), tcp_drop()].
 * 13. close() with unread data: RST [S tcp_disconnect()].
 * 14. SO_LINGER counts 1/100 s ({1,5} lingers 50 ms); SO_LINGER_SEC seconds;
 *     a linger timeout returns 0 [S soclose_locked(); T so_linger.c].
 * 15. No SO_REUSEPORT_LB, no load balancing: the newest listener on the
 *     exact address, else the oldest on the wildcard [S/I].
 *
 * Not modelled: TCP bind/connect to a broadcast or multicast address
 * (EAFNOSUPPORT in XNU; the engine refuses multicast TCP binds with
 * EADDRNOTAVAIL first), connect() to 0.0.0.0 (loopback in XNU; the engine
 * says ENETUNREACH), the accepted child of a {1,0} listener lingering 120 s,
 * negative linger values (accepted by XNU, the engine stores 0), the UDP
 * port reserve (the last 4096 UDP ports of a busy address), Skywalk flows.
 */
#include "xnu_common.h"

/* restricted_in_port.c: the macOS table [S]. */
static const sm__xnu_restricted macos_restricted[] = {
    {55555, true, false},
};

static const sm__xnu_target macos = {
    .privileged_ports = true,
    .restricted = macos_restricted,
    .n_restricted = sizeof macos_restricted / sizeof macos_restricted[0],
};

extern const sm_rule_set sm__rules_xnu_common;
const sm_profile sm_profile_macos = {
    .version = SM_PROFILE_VERSION,
    .name = "macos",
    .summary = "macOS 10.14 and later (XNU): dual-stack, 30 s TIME_WAIT, SO_LINGER in 1/100 s",
    .sysctls = sm__xnu_sysctls,
    .n_sysctls = 7,
    .defaults = SM__XNU_DEFAULTS(0),
    .native_err_name = NULL,
    .data = &macos, /* the XNU target: privileged and restricted ports */
    .setsockopt = sm__xnu_setsockopt,
    .bind = sm__xnu_bind,
    .listen = sm__xnu_listen,
    .pick_port = sm__xnu_pick_port,
    .tcp = &sm__xnu_tcp_rules,
    .connect = sm__xnu_connect,
    .pick_connect_port = sm__xnu_pick_connect,
    .tw_syn = sm__xnu_tw_syn,
    .select_listener = sm__xnu_select_listener,
    .select_listener_rule = &sm__xnu_select_listener_rule,
    .rule_sets = (const sm_rule_set *const[]){&sm__rules_xnu_common, NULL},
};
