/*
 * freebsd_13.c - the "freebsd-13" profile: FreeBSD 13.x, where it differs
 * from today's FreeBSD (the "bsd" profile, bsd.c, whose rule table and
 * bind code, bsd_common.c, this profile shares).
 *
 * Sources: ../shared/reference/more-profiles.md §5 and bsd-solaris.md §1.3,
 * §3.2, §3.3, read in FreeBSD 13.1 sys/netinet/in_pcb.c and tcp_timewait.c
 * (MPTCP-FreeBSD/FB13.1-ML-MPTCP-SRC@23e1b47c; the in_pcbbind_setup() uid
 * clause re-read for this profile).  Tags: [S] read in source, [T] test,
 * [I] inferred, [U] unverified.
 *
 * Where 13.x differs:
 *  1. net.inet.tcp.nolocaltimewait defaults to 0: a connection to one of the
 *     host's own addresses gets the full 60 s TIME_WAIT [S 13.x
 *     tcp_timewait.c; D 14.0 release notes, commit 92b3e07229ba].
 *  2. TIME_WAIT entries are compressed tcptw structures in a zone capped by
 *     maxtcptw = max((last - first) / 2, 32) = 27767 with the default range
 *     (the maxsockets / 5 bound depends on memory and is not modelled); at
 *     the cap the oldest TIME_WAIT is recycled [S 13 tcp_timewait.c:
 *     tcp_tw_2msl_scan(1); I for the number].
 *  3. The uid rule also lets another user bind the wildcard over a wildcard
 *     SO_REUSEPORT_LB socket that lacks SO_REUSEPORT [S 13.1
 *     in_pcbbind_setup(): the REUSEPORT_LB clause, removed in main]; its
 *     INP_TIMEWAIT and BINDMULTI exemptions change nothing the model shows
 *     (a TIME_WAIT PCB is connected, and IP_BINDMULTI is not modelled) [I].
 *  4. Orphaned FIN_WAIT_2: closed silently after TP_MAXIDLE (8 * 75 s =
 *     600 s), net.inet.tcp.fast_finwait2_recycle being 0 [S tcp_usrclosed(),
 *     tcp_timer_2msl() in 10-13].
 * Everything else as "bsd".  Not modelled: tcp_twcheck() acting on SYN|ACK
 * too (the engine asks the profile about pure SYNs only), SO_REUSEPORT_LB
 * groups joined at bind() rather than listen() (the engine offers only
 * listening sockets to the listener choice).  connect() on an LB socket
 * succeeds here; "bsd" refuses it (EOPNOTSUPP, FreeBSD main) [I for the
 * release that changed it].
 */
#include "bsd_common.h"

/* ---- rule records: what this file decides, with ID, source and tag ---- */

/* Tagged S/I: the lookup is read in source, the choice among equals
 * inferred from it; the weaker tag holds. */
static const sm_rule r_listener_choice = SM_RULE("freebsd-13.listener.choice", I,
    "listener choice: specific address over wildcard; a SO_REUSEPORT_LB "
    "group by 4-tuple hash; else the newest match",
    "FreeBSD 13 in_pcblookup_hash_locked()");

static const sm__bsd_gen gen = {.fbsd13 = true};

extern const sm_rule_set sm__rules_bsd;
extern const sm_rule_set sm__rules_bsd_common;
extern const sm_rule_set sm__rules_freebsd_13;
const sm_profile sm_profile_freebsd_13 = {
    .version = SM_PROFILE_VERSION,
    .name = "freebsd-13",
    .summary = "FreeBSD 13.x: TIME_WAIT toward own addresses, capped TIME_WAIT table",
    .sysctls = sm__bsd_sysctls,
    .n_sysctls = SM__BSD_N_SYSCTLS,
    .defaults = {
        [SM_TUN_PORT_LO] = 10000,        /* IPPORT_EPHEMERALFIRST */
        [SM_TUN_PORT_HI] = 65535,        /* IPPORT_EPHEMERALLAST */
        [SM_TUN_UNPRIV_PORT] = 1024,     /* reservedhigh + 1 */
        [SM_TUN_TIME_WAIT_MS] = 60000,   /* 2 * TCPTV_MSL (30 s) [S] */
        [SM_TUN_RFC1337] = 1,            /* tcp_twcheck() drops RSTs [S] */
        [SM_TUN_MAX_TW] = 27767,         /* maxtcptw, rule 2 [S, I] */
        [SM_TUN_FIN_TIMEOUT_MS] = 600000, /* TP_MAXIDLE, rule 4 [S] */
        [SM_TUN_TIMESTAMPS] = 1,         /* net.inet.tcp.rfc1323 = 1 */
        [SM_TUN_NOLOCALTIMEWAIT] = 0,    /* rule 1 [S] */
        [SM_TUN_V6ONLY_DEFAULT] = 1,     /* ip6_v6only = 1 */
        [SM_TUN_RANDOM_PORTS] = 1,       /* ipport_randomized = 1 */
        [SM_TUN_SYN_RTO_MS] = 1000,      /* tcp_rexmit_initial */
        [SM_TUN_CONNECT_TIMEOUT_MS] = 75000, /* TCPTV_KEEP_INIT */
    },
    .data = &gen,
    .native_err_name = NULL,
    .setsockopt = sm__bsd_setsockopt,
    .bind = sm__fbsd_bind,
    .listen = sm__fbsd_listen,
    .pick_port = sm__fbsd_pick_port,
    .tcp = &sm__bsd_tcp_rules,
    .connect = sm__bsd_connect,
    .pick_connect_port = sm__bsd_pick_connect,
    .tw_syn = sm__bsd_tw_syn,
    .tcp_options = sm__bsd_tcp_options,
    .select_listener = sm__bsd_select_listener,
    .select_listener_rule = &r_listener_choice,
    .rule_sets = (const sm_rule_set *const[]){&sm__rules_freebsd_13, &sm__rules_bsd, &sm__rules_bsd_common, NULL},
};

/* Every rule record of this file (docs/rules.md). */
static const sm_rule *const rules_of_file[] = {
    &r_listener_choice,
};
const sm_rule_set sm__rules_freebsd_13 = {"profiles/freebsd_13.c", rules_of_file,
    sizeof rules_of_file / sizeof rules_of_file[0]};
