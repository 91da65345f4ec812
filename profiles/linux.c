/*
 * linux.c - the "linux" profile: Linux 3.9 and later, as on 6.x kernels.
 *
 * The rule table, with sources (../shared/reference/linux.md) and how sure
 * each is: [S] read in the kernel source, [O] observed on a 6.18 kernel
 * (OBS: ../shared/reference/linux-observed), [D] documented, [I] inferred.
 * The methods are linux_common.c's, shared with linux-3.8; this file's
 * generation (`gen`, the profile's data) says which terms apply.
 *  - bind conflict: overlap (inet_rcv_saddr_equal) and not (SO_REUSEADDR on
 *    both and the existing socket not listening) and not (SO_REUSEPORT on
 *    both and same uid, or the existing one in TIME_WAIT)  [S inet_bind_conflict,
 *    §1c; O observed matrix §1d]
 *  - the uid is the creator's at socket() time [S sock_i_uid(); O OBS 3.3]
 *  - options of an existing socket are read as they are now; what makes a
 *    change after bind() seem ignored is the port's bind bucket: its
 *    fastreuse / fastreuseport (ANY, STRICT) caches let a new bind skip the
 *    conflict walk, and they remember sockets that have left until the
 *    port is empty [S inet_csk_get_port(), inet_csk_update_fastreuse(),
 *    sk_reuseport_match(); O OBS 3.5; found by the host profile: bench churn,
 *    bsd/multibind.scn]
 *  - 6.18: a bucket left only to connect()'s sockets is connect-shareable
 *    again [S SOCK_CONNECT_BIND, inet_bind2_bucket_destroy(); O OBS C4]
 *  - listen() re-runs get_port() with the socket listening; a conflict is
 *    EADDRINUSE [S inet_csk_listen_start(); O OBS 3.1, 3.1b]
 *  - ports below ip_unprivileged_port_start (1024) need privilege: EACCES
 *    [S __inet_bind(), inet_port_requires_bind_service()]
 *  - IPV6_V6ONLY defaults to net.ipv6.bindv6only = 0; a specific IPv6 bind
 *    forces it [S __inet6_bind()]
 *  - bind(0): random odd port, RA lower half first, relax=false; optional
 *    ip_autobind_reuse second pass; exhausted -> EADDRINUSE [S §1e; O OBS C6,
 *    3.6]
 *  - TIME_WAIT lasts TCP_TIMEWAIT_LEN = 60 s, compile-time: no sysctl [S §3]
 */
#include "linux_common.h"

static const struct sm__linux_gen gen = {
    .has_reuseport = true, /* SO_REUSEPORT since 3.9 */
    .bind0_parity = true,  /* odd-first bind(0) scan since ~4.6 */
    .connect_bind_reset = true, /* 6.18, "tcp: Update bind bucket state on
                                 * port release" (SOCK_CONNECT_BIND) */
    .has_bind_no_port = true,   /* IP_BIND_ADDRESS_NO_PORT, 4.2 (90c337da1524) */
    .has_port_range = true,     /* IP_LOCAL_PORT_RANGE, 6.3 (91d0b78c5177) */
};

static const sm_sysctl_def sysctls[] = {
    {"net.ipv4.ip_local_port_range", 2, {SM_TUN_PORT_LO, SM_TUN_PORT_HI}, 1, 65535, 1,
     "ephemeral port range (default 32768 60999)", 0},
    {"net.ipv4.ip_unprivileged_port_start", 1, {SM_TUN_UNPRIV_PORT}, 0, 65535, 1,
     "first port an ordinary user may bind (default 1024; since 4.11)", 0},
    {"net.ipv4.ip_autobind_reuse", 1, {SM_TUN_AUTOBIND_REUSE}, 0, 1, 1,
     "bind(0) may share a port between SO_REUSEADDR sockets when none is free", 0},
    {"net.ipv4.tcp_tw_reuse", 1, {SM_TUN_TW_REUSE}, 0, 2, 1,
     "connect() may reuse a TIME_WAIT 4-tuple: 0 never, 1 always, 2 loopback only (default)", 0},
    {"net.ipv4.tcp_tw_reuse_delay", 1, {SM_TUN_TW_REUSE_DELAY_MS}, 1, 600000, 1,
     "milliseconds a TIME_WAIT must age before tcp_tw_reuse (default 1000)", 0},
    {"net.ipv4.tcp_rfc1337", 1, {SM_TUN_RFC1337}, 0, 1, 1,
     "1: a RST does not end TIME_WAIT (default 0)", 0},
    {"net.ipv4.tcp_max_tw_buckets", 1, {SM_TUN_MAX_TW}, 0, 1000000000, 1,
     "TIME_WAIT entries per namespace before new ones are dropped", 0},
    {"net.ipv4.tcp_fin_timeout", 1, {SM_TUN_FIN_TIMEOUT_MS}, 1, 100000, 1000,
     "seconds an orphaned FIN_WAIT_2 lasts (default 60)", 0},
    {"net.ipv4.tcp_timestamps", 1, {SM_TUN_TIMESTAMPS}, 0, 2, 1,
     "TCP timestamps (default 1)", 0},
    {"net.ipv6.bindv6only", 1, {SM_TUN_V6ONLY_DEFAULT}, 0, 1, 1,
     "IPV6_V6ONLY of new AF_INET6 sockets (default 0)", 0},
};

extern const sm_rule_set sm__rules_linux_common;
const sm_profile sm_profile_linux = {
    .version = SM_PROFILE_VERSION,
    .name = "linux",
    .summary = "Linux 3.9 and later (SO_REUSEPORT; rules as on 6.x kernels)",
    .sysctls = sysctls,
    .n_sysctls = sizeof sysctls / sizeof sysctls[0],
    .defaults = {
        [SM_TUN_PORT_LO] = 32768,         /* ip_local_port_range, 6.x docs */
        [SM_TUN_PORT_HI] = 60999,
        [SM_TUN_UNPRIV_PORT] = 1024,      /* PROT_SOCK */
        [SM_TUN_AUTOBIND_REUSE] = 0,
        [SM_TUN_TIME_WAIT_MS] = 60000,    /* TCP_TIMEWAIT_LEN, include/net/tcp.h */
        [SM_TUN_TW_REUSE] = 2,            /* loopback only, default since ~4.19 */
        [SM_TUN_TW_REUSE_DELAY_MS] = 1000,
        [SM_TUN_RFC1337] = 0,
        [SM_TUN_MAX_TW] = 131072,         /* ehash_entries/2; machine-dependent */
        [SM_TUN_FIN_TIMEOUT_MS] = 60000,  /* TCP_FIN_TIMEOUT */
        [SM_TUN_TIMESTAMPS] = 1,
        [SM_TUN_NOLOCALTIMEWAIT] = 0,
        [SM_TUN_V6ONLY_DEFAULT] = 0,      /* net.ipv6.bindv6only */
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
