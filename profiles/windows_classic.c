/*
 * windows_classic.c - the "windows-classic" profile: Windows NT 4 SP4 up to
 * Windows XP / 2000, before enhanced socket security.
 *
 * bind() is decided by Microsoft's table for "Windows XP and earlier"
 * (table A of windows.md 1.1): the result depends only on the options of
 * the two sockets, never on the user account, and never on wildcard versus
 * specific once the addresses overlap.  SO_REUSEADDR lets anybody bind over
 * a port that was not bound with SO_EXCLUSIVEADDRUSE - the "socket
 * hijacking" that Server 2003 closed.  IPv6 sockets live in their own stack
 * (no dual-stack sockets before Vista).  The shared procedure (who takes
 * part, overlap, precedence, setsockopt, port walk) is windows_common.c.
 */
#include "windows_common.h"

/* ---- rule records: what this file decides, with ID, source and tag ---- */

static const sm_rule r_connect_pick = SM_RULE("windows-classic.connect.pick", D,
    "connect(): the next port of 1025..MaxUserPort, one socket per port, "
    "sequential",
    "KB Q196271; windows.md 3.3");
static const sm_rule r_connect_exhausted = SM_RULE("windows-classic.connect.exhausted", I,
    "connect(): no ephemeral port left: WSAENOBUFS",
    "KB Q196271; windows.md 3.3");
static const sm_rule r_port_pick = SM_RULE("windows-classic.port.pick", D,
    "bind(port 0): the next port of the ephemeral range "
    "1025..MaxUserPort that no socket holds, walking one counter upwards",
    "MS bind(); KB Q196271; hsc.fr on the NT port counter");
static const sm_rule r_port_exhausted = SM_RULE("windows-classic.port.exhausted", I,
    "no ephemeral port below MaxUserPort is free: WSAENOBUFS",
    "KB Q196271 (NT 4 connect() beyond MaxUserPort); assumed for "
    "bind(port 0)");
static const sm_rule r_bind_other_stack = SM_RULE("windows-classic.bind.other-stack", D,
    "the other sockets on this port are in the other IP stack: before "
    "Vista IPv4 and IPv6 sockets are separate and never conflict",
    "MS \"Dual-Stack Sockets\", \"IPv6 Support\"");
static const sm_rule r_listener_choice = SM_RULE("windows-classic.listener.choice", I,
    "listener choice: specific address over wildcard; among SO_REUSEADDR "
    "listeners the oldest",
    "Wine test_reuseaddr on real Windows; windows.md 2.3");

/*
 * Table A - MS Winsock "Using SO_REUSEADDR and SO_EXCLUSIVEADDRUSE"
 * (MicrosoftDocs/win32 desktop-src/WinSock/using-so-reuseaddr-and-so-
 * exclusiveaddruse.md), table for Windows XP and earlier.  The
 * SO_EXCLUSIVEADDRUSE page's own table (windows.md 1.4, read with rows =
 * second bind) agrees with every cell.
 *
 *  - A second bind without options, or with SO_EXCLUSIVEADDRUSE, finds the
 *    address in use (WSAEADDRINUSE) whatever the first socket had.
 *  - A second bind with SO_REUSEADDR succeeds, unless the first socket has
 *    SO_EXCLUSIVEADDRUSE: then WSAEACCES.
 */
static const sm__win_table table_a = SM__WIN_TABLE(
    "windows-classic.bind.table",
    "Windows XP and earlier",
    "MS \"Using SO_REUSEADDR and SO_EXCLUSIVEADDRUSE\", table for Windows XP and earlier",
    /* first \ second   DEF-W DEF-S   RA-W RA-S   EX-W EX-S */
    /* DEF-W */          IU,   IU,     OK,  OK,    IU,  IU,
    /* DEF-S */          IU,   IU,     OK,  OK,    IU,  IU,
    /* RA-W  */          IU,   IU,     OK,  OK,    IU,  IU,
    /* RA-S  */          IU,   IU,     OK,  OK,    IU,  IU,
    /* EX-W  */          IU,   IU,     AC,  AC,    IU,  IU,
    /* EX-S  */          IU,   IU,     AC,  AC,    IU,  IU);

/* ---- connections (windows.md §3, §4) ---------------------------------------- */

static const sm__conn_scan classic_conn_scan = {
    .random_start = false,
    .share_destinations = false,
    .tw_blocks_port = true,
    .exhausted = SM_ENOBUFS,
    .rule = &r_connect_pick,
    .exhausted_rule = &r_connect_exhausted,
};

/* setsockopt(): SO_EXCLUSIVEADDRUSE needs no privilege here although the
 * USE page says it was limited to Administrators on XP and earlier: the
 * setsockopt page says "Does not require administrative privilege" and no
 * error code is documented for the other case (windows.md 7.1). */
static const sm__win_rules classic_rules = {
    .same_user = &table_a,
    /* No user dimension before enhanced socket security [MS USE page]. */
    .other_user = NULL,
    /* XP SP1 / Server 2003 need one socket per family; dual-stack sockets
     * arrived with Vista [MS "Dual-Stack Sockets"]. */
    .dual_stack = false,
    /* See windows_common.h; open question windows.md 7.2. */
    .excl_blocks_on_inactive_tcbs = true,
    /* Ephemeral ports 1025..MaxUserPort handed out incrementally, one
     * counter for TCP and UDP [MS bind(), KB Q196271; 3P hsc.fr]. */
    .walk = SM__WIN_WALK_SEQUENTIAL,
    .pick_rule =
        &r_port_pick,
    .exhausted_rule =
        &r_port_exhausted,
    .conn_scan = &classic_conn_scan,
    /* No window scale offered by default (Tcp1323Opts = 0) [D]. */
    .wscale_shift = 0,
    .other_stack_rule =
        &r_bind_other_stack,
};

static const sm_sysctl_def classic_sysctls[] = {
    {"TcpTimedWaitDelay", 1, {SM_TUN_TIME_WAIT_MS}, 30, 300, 1000,
     "HKLM\\...\\Tcpip\\Parameters\\TcpTimedWaitDelay: TIME_WAIT length in "
     "seconds, 30-300, default 240 [KB Q149532; TechNet cc938217 (Windows 2000)]", 0},
    {"MaxUserPort", 1, {SM_TUN_PORT_HI}, 5000, 65534, 1,
     "HKLM\\...\\Tcpip\\Parameters\\MaxUserPort: the highest ephemeral port, "
     "5000-65534, default 5000; the range starts at 1025 [MS bind(); KB Q196271]", 0},
};

extern const sm_rule_set sm__rules_windows_common;
extern const sm_rule_set sm__rules_windows_classic;
const sm_profile sm_profile_windows_classic = {
    .version = SM_PROFILE_VERSION,
    .name = "windows-classic",
    .summary = "Windows NT 4 SP4 to XP / 2000: before enhanced socket security",
    .sysctls = classic_sysctls,
    .n_sysctls = sizeof classic_sysctls / sizeof classic_sysctls[0],
    .defaults = {
        [SM_TUN_PORT_LO] = 1025,          /* port 1024 is never used [KB Q196271] */
        [SM_TUN_PORT_HI] = 5000,          /* MaxUserPort default */
        [SM_TUN_UNPRIV_PORT] = 0,         /* Windows has no privileged ports */
        [SM_TUN_AUTOBIND_REUSE] = 0,
        [SM_TUN_TIME_WAIT_MS] = 240000,   /* 2 MSL = 240 s [KB Q149532, cc938217];
                                           * XP's IPv4 default became 120 s
                                           * (KB 314053) - set TcpTimedWaitDelay 120 */
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
        [SM_TUN_V6ONLY_DEFAULT] = 1,      /* the separate IPv6 stack: IPv6 only */
        [SM_TUN_RANDOM_PORTS] = 0,        /* sequential ephemeral ports */
        [SM_TUN_SYN_RTO_MS] = 3000,       /* InitialRto 3 s [TechNet, MEM] */
        [SM_TUN_CONNECT_TIMEOUT_MS] = 21000, /* TcpMaxConnectRetransmissions 2: 3+6+12 s */
    },
    .data = &classic_rules,
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
    .rule_sets = (const sm_rule_set *const[]){&sm__rules_windows_classic, &sm__rules_windows_common, NULL},
};

/* Every rule record of this file (docs/rules.md). */
static const sm_rule *const rules_of_file[] = {
    &r_connect_pick,
    &r_connect_exhausted,
    &r_port_pick,
    &r_port_exhausted,
    &r_bind_other_stack,
    &r_listener_choice,
    SM__WIN_TABLE_RULES(table_a),
};
const sm_rule_set sm__rules_windows_classic = {"profiles/windows_classic.c", rules_of_file,
    sizeof rules_of_file / sizeof rules_of_file[0]};
