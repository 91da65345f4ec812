/*
 * windows.c - the "windows" profile: Windows Server 2003, Vista and later
 * (every current Windows), with enhanced socket security.
 *
 * bind() is decided by Microsoft's two tables for Server 2003 and later:
 * one for a second bind by the same user account (table B, windows.md
 * 1.2) and one for a different account (table C, 1.3).  Sockets are no
 * longer shareable by default: the first socket must set SO_REUSEADDR for
 * a later one to share, and another user can no longer steal a port with
 * SO_REUSEADDR (WSAEACCES).  Vista added dual-stack sockets (IPV6_V6ONLY,
 * default 1); how they occupy the IPv4 stack follows Wine's tests of real
 * Windows (windows_common.c, places_of()).  The shared procedure is in
 * windows_common.c.
 */
#include "windows_common.h"

/* ---- rule records: what this file decides, with ID, source and tag ---- */

static const sm_rule r_connect_pick = SM_RULE("windows.connect.pick", I,
    "connect(): the next dynamic port; an implicit bind shares a port "
    "across destinations (SO_REUSE_UNICASTPORT is on by default for "
    "implicit binds)",
    "MS SOL_SOCKET options; windows.md 3.3");
static const sm_rule r_connect_exhausted = SM_RULE("windows.connect.exhausted", I,
    "connect(): no ephemeral port left: WSAENOBUFS",
    "KB Q196271; windows.md 3.3");
static const sm_rule r_port_pick = SM_RULE("windows.port.pick", D,
    "bind(port 0): a port of the dynamic range (49152-65535 by default) "
    "that no socket holds; the model starts at a seeded random port and "
    "walks upwards, since Microsoft does not document the order",
    "MS bind(); KB 929851");
static const sm_rule r_port_exhausted = SM_RULE("windows.port.exhausted", I,
    "no port of the dynamic range is free: WSAENOBUFS",
    "inferred: KB Q196271 documents WSAENOBUFS for NT 4; Vista+ only "
    "logs event 4231");
static const sm_rule r_bind_other_stack = SM_RULE("windows.bind.other-stack", T,
    "the other sockets on this port are in the other IP stack (an "
    "IPv6-only socket, or a dual-stack [::] without SO_EXCLUSIVEADDRUSE, "
    "does not hold IPv4 addresses)",
    "MS \"Dual-Stack Sockets\"; Wine ws2_32 tests, real Windows results; "
    "Wine server/sock.c ipv4addr_from_v6()");
static const sm_rule r_listener_choice = SM_RULE("windows.listener.choice", I,
    "listener choice: specific address over wildcard; among SO_REUSEADDR "
    "listeners the oldest",
    "Wine test_reuseaddr on real Windows; windows.md 2.3");

#define MS_USE_PAGE "MS \"Using SO_REUSEADDR and SO_EXCLUSIVEADDRUSE\""

/*
 * Table B - same user account.  MS USE page, table for "Windows Server
 * 2003 and later", both binds by the same account.
 *
 * Read by rows (the first socket):
 *  - DEF-W: a later specific bind by the same account succeeds (the
 *    backward-compatibility exception of the USE page), a later wildcard
 *    bind does not; SO_REUSEADDR over it is refused (WSAEACCES): the first
 *    socket did not agree to share.
 *  - DEF-S / RA-S: a wildcard bind next to it succeeds (it gets "all
 *    interfaces except the specific address"), except a SO_EXCLUSIVEADDRUSE
 *    wildcard.
 *  - RA-W / RA-S: SO_REUSEADDR on both sides shares the port.
 *  - EX-W: nothing else gets the port; EX-S: only wildcard binds without
 *    SO_EXCLUSIVEADDRUSE get around it.
 */
static const sm__win_table table_b = SM__WIN_TABLE(
    "windows.bind.same-user",
    "Windows Server 2003+ (same user)",
    MS_USE_PAGE ", table for Server 2003 and later, same user account",
    /* first \ second   DEF-W DEF-S   RA-W RA-S   EX-W EX-S */
    /* DEF-W */          IU,   OK,     AC,  OK,    IU,  OK,
    /* DEF-S */          OK,   IU,     OK,  AC,    IU,  IU,
    /* RA-W  */          IU,   OK,     OK,  OK,    IU,  OK,
    /* RA-S  */          OK,   IU,     OK,  OK,    IU,  IU,
    /* EX-W  */          IU,   AC,     AC,  AC,    IU,  AC,
    /* EX-S  */          OK,   IU,     OK,  AC,    IU,  IU);

/*
 * Table C - different user accounts.  MS USE page, table for "Windows
 * Server 2003 and later", binds by different accounts.  It differs from
 * table B in five cells, all OK -> AC: a wildcard bound first by another
 * account blocks later specific binds (row DEF-W: DEF-S, RA-S, EX-S; row
 * RA-W: DEF-S, EX-S), except SO_REUSEADDR after SO_REUSEADDR.  "If the
 * first caller does not set any options on the socket and binds to the
 * wildcard address, then the second caller cannot set the SO_REUSEADDR
 * option and successfully bind to the same port" [USE page].
 */
static const sm__win_table table_c = SM__WIN_TABLE(
    "windows.bind.other-user",
    "Windows Server 2003+ (other user)",
    MS_USE_PAGE ", table for Server 2003 and later, different user accounts",
    /* first \ second   DEF-W DEF-S   RA-W RA-S   EX-W EX-S */
    /* DEF-W */          IU,   AC,     AC,  AC,    IU,  AC,
    /* DEF-S */          OK,   IU,     OK,  AC,    IU,  IU,
    /* RA-W  */          IU,   AC,     OK,  OK,    IU,  AC,
    /* RA-S  */          OK,   IU,     OK,  OK,    IU,  IU,
    /* EX-W  */          IU,   AC,     AC,  AC,    IU,  AC,
    /* EX-S  */          OK,   IU,     OK,  AC,    IU,  IU);

/* ---- connections (windows.md §3, §4) ---------------------------------------- */

static const sm__conn_scan modern_conn_scan = {
    .random_start = false,
    .share_destinations = true,
    .tw_blocks_port = false,
    .exhausted = SM_ENOBUFS,
    .rule = &r_connect_pick,
    .exhausted_rule = &r_connect_exhausted,
};

static const sm__win_rules modern_rules = {
    .same_user = &table_b,
    .other_user = &table_c,
    /* Vista+: IPV6_V6ONLY may be cleared before bind() [MS "Dual-Stack
     * Sockets"]; which IPv4 addresses a dual socket holds: places_of(). */
    .dual_stack = true,
    /* SO_REUSE_UNICASTPORT: Windows 10 / Server 2016 [D: MS SOL_SOCKET
     * socket options]; the profile stands for today's Windows. */
    .reuse_unicastport = true,
    /* See windows_common.h; open question windows.md 7.2. */
    .excl_blocks_on_inactive_tcbs = true,
    /* Dynamic range 49152-65535 [MS bind(), KB 929851].  The order in
     * which Windows hands the ports out is not documented (windows.md 7.8):
     * this model starts at a seeded random port and then walks
     * sequentially - a modelling choice, not a documented rule. */
    .walk = SM__WIN_WALK_RANDOM_START,
    .pick_rule =
        &r_port_pick,
    .exhausted_rule =
        &r_port_exhausted,
    .conn_scan = &modern_conn_scan,
    /* SYNs offer window scale 8 [O: captures of Windows 10/11]. */
    .wscale_shift = 8,
    .other_stack_rule =
        &r_bind_other_stack,
};

/*
 * Tunables.  The dynamic port range is set on Windows with
 *   netsh int ipv4 set dynamicport tcp start=N num=M
 * (per protocol and IP version).  A sysctl here stores each value in its
 * own slot, so "dynamicport.tcp" takes the first and the LAST port
 * ("start end"), not netsh's "start num": netsh start=49152 num=16384 is
 * "sysctl dynamicport.tcp 49152 65535".  The model keeps one range per
 * host for TCP and UDP alike.
 */
static const sm_sysctl_def modern_sysctls[] = {
    {"TcpTimedWaitDelay", 1, {SM_TUN_TIME_WAIT_MS}, 30, 300, 1000,
     "HKLM\\...\\Tcpip\\Parameters\\TcpTimedWaitDelay: TIME_WAIT length in "
     "seconds, 30-300, default 120 [TechNet cc757512, KB 314053]", 0},
    {"dynamicport.tcp", 2, {SM_TUN_PORT_LO, SM_TUN_PORT_HI}, 1025, 65535, 1,
     "the dynamic (ephemeral) port range as FIRST LAST (netsh int ipv4 set "
     "dynamicport tcp start=FIRST num=LAST-FIRST+1); default 49152 65535 "
     "[MS bind(); KB 929851]", 0},
};

extern const sm_rule_set sm__rules_windows_common;
extern const sm_rule_set sm__rules_windows;
const sm_profile sm_profile_windows = {
    .version = SM_PROFILE_VERSION,
    .name = "windows",
    .summary = "Windows Server 2003 / Vista and later: enhanced socket security",
    .sysctls = modern_sysctls,
    .n_sysctls = sizeof modern_sysctls / sizeof modern_sysctls[0],
    .defaults = {
        [SM_TUN_PORT_LO] = 49152,         /* [MS bind(); KB 929851] */
        [SM_TUN_PORT_HI] = 65535,
        [SM_TUN_UNPRIV_PORT] = 0,         /* Windows has no privileged ports */
        [SM_TUN_AUTOBIND_REUSE] = 0,
        /* 120 s: TechNet cc757512 and KB 314053 for Server 2003, every
         * secondary source for Vista+.  MSDN ms819739 says 240 s for Server
         * 2003 (windows.md 7.4); 120 s is taken as the better supported. */
        [SM_TUN_TIME_WAIT_MS] = 120000,
        [SM_TUN_TW_REUSE] = 0,
        [SM_TUN_TW_REUSE_DELAY_MS] = 0,
        [SM_TUN_RFC1337] = 0,             /* a RST ends TIME_WAIT [KB 261218] */
        /* No cap modelled: Windows' MaxFreeTWTcbs trims the oldest TIME_WAIT
         * entries rather than refusing new ones, and is not in the notes. */
        [SM_TUN_MAX_TW] = -1,           /* no cap modelled (negative: none) */
        /* Orphaned FIN_WAIT_2: TcpFinWait2Delay, default 240 s (30-300)
         * [TechNet Tcpip parameters, MEM: not in the reference notes]. */
        [SM_TUN_FIN_TIMEOUT_MS] = 240000,
        [SM_TUN_TIMESTAMPS] = 0,          /* RFC 1323 timestamps off by default [I] */
        [SM_TUN_NOLOCALTIMEWAIT] = 0,
        [SM_TUN_V6ONLY_DEFAULT] = 1,      /* Vista+ [MS "Dual-Stack Sockets"; Wine test_ipv6only] */
        [SM_TUN_RANDOM_PORTS] = 1,        /* random start, then sequential (model choice) */
        [SM_TUN_SYN_RTO_MS] = 3000,       /* InitialRto 3 s [TechNet, MEM] */
        [SM_TUN_CONNECT_TIMEOUT_MS] = 21000, /* TcpMaxConnectRetransmissions 2: 3+6+12 s */
    },
    .data = &modern_rules,
    .native_err_name = sm__win_err_name,
    .setsockopt = sm__win_setsockopt,
    .bind = sm__win_bind,
    .listen = sm__win_listen,
    .pick_port = sm__win_pick_port,
    .tcp = &sm__win_tcp_rules,
    .connect = sm__win_connect,
    .pick_connect_port = sm__win_pick_connect_port,
    .tw_syn = sm__win_tw_syn,
    .tcp_options = sm__win_tcp_options,
    .select_listener = sm__select_oldest_listener,
    .select_listener_rule = &r_listener_choice,
    .rule_sets = (const sm_rule_set *const[]){&sm__rules_windows, &sm__rules_windows_common, NULL},
};

/* Every rule record of this file (docs/rules.md). */
static const sm_rule *const rules_of_file[] = {
    &r_connect_pick,
    &r_connect_exhausted,
    &r_port_pick,
    &r_port_exhausted,
    &r_bind_other_stack,
    &r_listener_choice,
    SM__WIN_TABLE_RULES(table_b), SM__WIN_TABLE_RULES(table_c),
};
const sm_rule_set sm__rules_windows = {"profiles/windows.c", rules_of_file,
    sizeof rules_of_file / sizeof rules_of_file[0]};
