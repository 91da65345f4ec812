/*
 * linux_3_8.c - the "linux-3.8" profile: Linux before 3.9 (3.0 - 3.8).
 *
 * The rule table, with sources (../shared/reference/linux.md §1a, read in
 * 3.0.27 and 3.8.13) and how sure each is: [S] read in the source, [I]
 * inferred (nothing here was observed on a running 3.x kernel).  The
 * methods are linux_common.c's, shared with linux; this file's generation
 * (`gen`, the profile's data) says which terms apply.
 *  - no SO_REUSEPORT: setsockopt fails with ENOPROTOOPT [S sock_setsockopt()]
 *  - TCP conflict: overlap and not (SO_REUSEADDR on both and the existing
 *    socket not listening) [S inet_csk_bind_conflict(), inet6_csk_bind_conflict()]
 *  - UDP conflict: overlap and not SO_REUSEADDR on both: UDP's stand-in for
 *    BSD SO_REUSEPORT [S udp_lib_lport_inuse()]
 *  - listen() re-runs get_port(): EADDRINUSE [S inet_csk_listen_start(), 3.0]
 *  - privileged ports below PROT_SOCK (1024), no sysctl before 4.11 [S]
 *  - bind(0): random start then linear, any overlapping owner blocks
 *    (relax=false); when the range is exhausted, a SO_REUSEADDR socket falls
 *    back to the port with the fewest all-SO_REUSEADDR, non-listening owners
 *    ("smallest_size", re-checked with relax=true) [S 3.8.13 inet_csk_get_port()]
 *  - ephemeral range default 32768-61000 [S 3.0/3.8 source]
 *  - tcp_tw_reuse is a boolean, default 0 [S]
 */
#include "linux_common.h"

static const struct sm__linux_gen gen = {
    .has_reuseport = false,
    .bind0_parity = false,
};

static const sm_sysctl_def sysctls[] = {
    {"net.ipv4.ip_local_port_range", 2, {SM_TUN_PORT_LO, SM_TUN_PORT_HI}, 1, 65535, 1,
     "ephemeral port range (default 32768 61000)", 0},
    {"net.ipv4.tcp_tw_reuse", 1, {SM_TUN_TW_REUSE}, 0, 1, 1,
     "connect() may reuse a TIME_WAIT 4-tuple older than 1 s (default 0)", 0},
    {"net.ipv4.tcp_rfc1337", 1, {SM_TUN_RFC1337}, 0, 1, 1,
     "1: a RST does not end TIME_WAIT (default 0)", 0},
    {"net.ipv4.tcp_max_tw_buckets", 1, {SM_TUN_MAX_TW}, 0, 1000000000, 1,
     "TIME_WAIT entries before new ones are dropped", 0},
    {"net.ipv4.tcp_fin_timeout", 1, {SM_TUN_FIN_TIMEOUT_MS}, 1, 100000, 1000,
     "seconds an orphaned FIN_WAIT_2 lasts (default 60)", 0},
    {"net.ipv4.tcp_timestamps", 1, {SM_TUN_TIMESTAMPS}, 0, 1, 1,
     "TCP timestamps (default 1)", 0},
    {"net.ipv6.bindv6only", 1, {SM_TUN_V6ONLY_DEFAULT}, 0, 1, 1,
     "IPV6_V6ONLY of new AF_INET6 sockets (default 0)", 0},
};

extern const sm_rule_set sm__rules_linux_common;
const sm_profile sm_profile_linux_3_8 = {
    .version = SM_PROFILE_VERSION,
    .name = "linux-3.8",
    .summary = "Linux before 3.9: SO_REUSEADDR only, no SO_REUSEPORT",
    .sysctls = sysctls,
    .n_sysctls = sizeof sysctls / sizeof sysctls[0],
    .defaults = {
        [SM_TUN_PORT_LO] = 32768,
        [SM_TUN_PORT_HI] = 61000,
        [SM_TUN_UNPRIV_PORT] = 1024,      /* PROT_SOCK, fixed */
        [SM_TUN_AUTOBIND_REUSE] = 0,      /* the sysctl does not exist */
        [SM_TUN_TIME_WAIT_MS] = 60000,    /* TCP_TIMEWAIT_LEN */
        [SM_TUN_TW_REUSE] = 0,
        [SM_TUN_TW_REUSE_DELAY_MS] = 1000,/* get_seconds() - ts_recent_stamp > 1 */
        [SM_TUN_RFC1337] = 0,
        [SM_TUN_MAX_TW] = 131072,
        [SM_TUN_FIN_TIMEOUT_MS] = 60000,
        [SM_TUN_TIMESTAMPS] = 1,
        [SM_TUN_NOLOCALTIMEWAIT] = 0,
        [SM_TUN_V6ONLY_DEFAULT] = 0,
        [SM_TUN_RANDOM_PORTS] = 1,
        [SM_TUN_SYN_RTO_MS] = 1000,       /* TCP_TIMEOUT_INIT (1 s since 3.1) */
        [SM_TUN_CONNECT_TIMEOUT_MS] = 127000, /* tcp_syn_retries 6: 1+2+...+64 s */
    },
    .data = &gen,
    .native_err_name = NULL,
    .setsockopt = sm__linux_setsockopt,
    .bind = sm__linux_bind,
    .bind_priv = sm__linux_bind_priv,
    .listen = sm__linux_listen,
    .pick_port = sm__linux_pick_port,
    .tcp = &sm__linux_tcp_rules,
    .connect = sm__linux_connect,
    .pick_connect_port = sm__linux_pick_connect_port,
    .tw_syn = sm__linux_tw_syn,
    .tcp_options = sm__linux_tcp_options,
    .select_listener = sm__linux_select_listener,
    .select_listener_rule = &sm__linux_select_rule,
    .rule_sets = (const sm_rule_set *const[]){&sm__rules_linux_common, NULL},
};
