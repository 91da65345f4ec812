/*
 * linux_common.h - the bind rules shared by the linux and linux-3.8 profiles.
 *
 * Linux decides binds in inet_csk_get_port() / inet_bind_conflict() (TCP,
 * net/ipv4/inet_connection_sock.c) and udp_lib_lport_inuse() (UDP,
 * net/ipv4/udp.c).  The two generations differ in one term: SO_REUSEPORT
 * (3.9+).  Each profile file says which generation it is through this
 * struct (the profile's data); the rule text lives in linux_common.c.
 */
#ifndef SM_LINUX_COMMON_H
#define SM_LINUX_COMMON_H

#include "sm_profile.h"
#include "tcp_common.h"

struct sm__linux_gen {
    bool has_reuseport;    /* SO_REUSEPORT exists (3.9+) */
    bool bind0_parity;     /* bind(0) scans odd ports first, halves by RA (4.6+) */
    bool connect_bind_reset; /* a bucket left only to connect()'s sockets is
                              * connect-shareable again (6.18 SOCK_CONNECT_BIND) */
    bool has_bind_no_port;   /* IP_BIND_ADDRESS_NO_PORT (4.2+) */
    bool has_port_range;     /* IP_LOCAL_PORT_RANGE (6.3+) */
};

/* The methods of both profiles; each reads its generation from
 * self->data (a struct sm__linux_gen). */
sm_verdict sm__linux_bind(const sm_profile *self, const sm_bind_ctx *c);
sm_verdict sm__linux_bind_priv(const sm_profile *self, const sm_bind_ctx *c);
sm_verdict sm__linux_listen(const sm_profile *self, const sm_bind_ctx *c);
sm_verdict sm__linux_pick_port(const sm_profile *self, sm_pick_ctx *c, uint16_t *port);
sm_verdict sm__linux_setsockopt(const sm_profile *self, const sm_sock_view *s,
                                sm_option opt, int v1, int v2);
sm_verdict sm__linux_connect(const sm_profile *self, const sm_bind_ctx *c);
sm_verdict sm__linux_pick_connect_port(const sm_profile *self, sm_pick_ctx *pc,
                                       uint16_t *port);
sm_tw_syn_verdict sm__linux_tw_syn(const sm_profile *self, const sm_tw_syn_ctx *c);
/* TCP options as tcp_options_write() lays them out. */
size_t sm__linux_tcp_options(const sm_profile *self, const sm_tcpopt_ctx *c,
                             uint8_t *out);
size_t sm__linux_select_listener(const sm_profile *self, const sm_listen_ctx *c);
extern const sm_rule sm__linux_select_rule;
extern const sm_tcp_rules sm__linux_tcp_rules;

#endif
