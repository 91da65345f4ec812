/*
 * linux_3_8.c - the "linux-3.8" profile: Linux before 3.9 (3.0 - 3.8).
 *
 * The rule table, with sources (../shared/reference/linux.md §1a, read in
 * 3.0.27 and 3.8.13):
 *  - no SO_REUSEPORT: setsockopt fails with ENOPROTOOPT
 *  - TCP conflict: overlap and not (SO_REUSEADDR on both and the existing
 *    socket not listening) [inet_csk_bind_conflict(), inet6_csk_bind_conflict()]
 *  - UDP conflict: overlap and not SO_REUSEADDR on both: UDP's stand-in for
 *    BSD SO_REUSEPORT [udp_lib_lport_inuse()]
 *  - listen() re-runs get_port(): EADDRINUSE [inet_csk_listen_start(), 3.0]
 *  - privileged ports below PROT_SOCK (1024), no sysctl before 4.11
 *  - bind(0): random start then linear, any overlapping owner blocks
 *    (relax=false); when the range is exhausted, a SO_REUSEADDR socket falls
 *    back to the port with the fewest all-SO_REUSEADDR, non-listening owners
 *    ("smallest_size", re-checked with relax=true) [3.8.13 inet_csk_get_port()]
 *  - ephemeral range default 32768-61000 [3.0/3.8 source]
 *  - tcp_tw_reuse is a boolean, default 0
 */
#include "linux_common.h"

static const struct sm__linux_gen gen = {
    .has_reuseport = false,
    .bind0_parity = false,
};

static sm_verdict lx_bind(const sm_bind_ctx *c) { return sm__linux_bind(&gen, c); }
static sm_verdict lx_listen(const sm_bind_ctx *c) { return sm__linux_listen(&gen, c); }
static sm_verdict lx_pick(sm_pick_ctx *c, uint16_t *port)
{
    return sm__linux_pick_port(&gen, c, port);
}
static sm_verdict lx_setsockopt(const sm_sock_view *s, sm_option o, int v1, int v2)
{
    return sm__linux_setsockopt(&gen, s, o, v1, v2);
}

static sm_verdict lx_connect(const sm_bind_ctx *c) { return sm__linux_connect(&gen, c); }
static sm_verdict lx_pick_connect(sm_pick_ctx *c, uint16_t *port)
{
    return sm__linux_pick_connect_port(&gen, c, port);
}

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

const sm_profile sm_profile_linux_3_8 = {
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
    .native_err_name = NULL,
    .setsockopt = lx_setsockopt,
    .bind = lx_bind,
    .listen = lx_listen,
    .pick_port = lx_pick,
    .tcp = &sm__linux_tcp_rules,
    .connect = lx_connect,
    .pick_connect_port = lx_pick_connect,
    .tw_syn = sm__linux_tw_syn,
    .select_listener = sm__linux_select_listener,
    .select_listener_rule = sm__linux_select_rule,
};
