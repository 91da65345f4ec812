/*
 * xnu_common.h - the rules macOS and iOS share (XNU, Apple's kernel): one
 * implementation, two profiles (macos.c, ios.c) that differ in the
 * privileged-port check and the table of restricted ports.
 */
#ifndef SM_XNU_COMMON_H
#define SM_XNU_COMMON_H

#include "sm_profile.h"

/* A port that only entitled processes may bind (bsd/net/restricted_in_port.c). */
typedef struct sm__xnu_restricted {
    uint16_t port;
    bool tcp, udp;
} sm__xnu_restricted;

/* What differs between the XNU targets. */
typedef struct sm__xnu_target {
    bool privileged_ports;              /* XNU_TARGET_OS_OSX: macOS only */
    const sm__xnu_restricted *restricted;
    size_t n_restricted;
} sm__xnu_target;

sm_verdict sm__xnu_bind(const sm_profile *self, const sm_bind_ctx *c);
sm_verdict sm__xnu_listen(const sm_profile *self, const sm_bind_ctx *c);
sm_verdict sm__xnu_pick_port(const sm_profile *self, sm_pick_ctx *pc, uint16_t *port);
sm_verdict sm__xnu_pick_connect(const sm_profile *self, sm_pick_ctx *pc, uint16_t *port);
sm_verdict sm__xnu_setsockopt(const sm_profile *self, const sm_sock_view *s, sm_option opt, int v1, int v2);
sm_verdict sm__xnu_connect(const sm_profile *self, const sm_bind_ctx *c);
sm_tw_syn_verdict sm__xnu_tw_syn(const sm_profile *self, const sm_tw_syn_ctx *c);
size_t sm__xnu_select_listener(const sm_profile *self, const sm_listen_ctx *c);

extern const sm_tcp_rules sm__xnu_tcp_rules;
extern const sm_sysctl_def sm__xnu_sysctls[];
extern const size_t sm__xnu_n_sysctls;
extern const sm_rule sm__xnu_select_listener_rule;

/* The tunable defaults both targets start from (a designated initialiser
 * list, so that each profile's .defaults stays a constant). */
#define SM__XNU_DEFAULTS(priv_wild)                                            \
    {                                                                          \
        [SM_TUN_PORT_LO] = 49152,   /* ipport_firstauto = IPPORT_HIFIRSTAUTO */ \
        [SM_TUN_PORT_HI] = 65535,   /* ipport_lastauto = IPPORT_HILASTAUTO */   \
        [SM_TUN_UNPRIV_PORT] = 1024, /* IPPORT_RESERVED */                      \
        [SM_TUN_TIME_WAIT_MS] = 30000, /* 2 * tcp_msl, TCPTV_MSL = 15 s */      \
        [SM_TUN_RFC1337] = 1,       /* RST into TIME_WAIT ignored */            \
        [SM_TUN_MAX_TW] = -1,       /* no cap */                                \
        [SM_TUN_FIN_TIMEOUT_MS] = 60000, /* tcp_fin_timeout = TCPTV_FINWAIT2 */ \
        [SM_TUN_TIMESTAMPS] = 1,    /* tcp_do_rfc1323 = 1 */                    \
        [SM_TUN_NOLOCALTIMEWAIT] = 0, /* no such sysctl in XNU */               \
        [SM_TUN_V6ONLY_DEFAULT] = 0, /* ip6_v6only = 0, in6_proto.c */          \
        [SM_TUN_RANDOM_PORTS] = 0,  /* net.inet.tcp.randomize_ports = 0 */      \
        [SM_TUN_SYN_RTO_MS] = 1000, /* TCPTV_RTOBASE 1 s [I] */                 \
        [SM_TUN_CONNECT_TIMEOUT_MS] = 75000, /* tcp_keepinit TCPTV_KEEP_INIT */ \
        [SM_TUN_TW_REAP_MS] = 10000, /* tcp_gc() on the lazy inpcb timer */     \
        [SM_TUN_PRIV_WILDCARD] = (priv_wild),                                   \
    }

#endif
