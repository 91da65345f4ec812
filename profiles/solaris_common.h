/*
 * solaris_common.h - what the "solaris" (Solaris 10 / illumos) and
 * "solaris-11.4" profiles share: solaris.c's decisions, with or without
 * Solaris 11.4's SO_REUSEPORT.
 */
#ifndef SM_SOLARIS_COMMON_H
#define SM_SOLARIS_COMMON_H

#include "sm_profile.h"

/* What differs between "solaris" and "solaris-11.4" (the profile's data). */
typedef struct sm__sol_gen {
    bool reuseport; /* Solaris 11.4's SO_REUSEPORT */
} sm__sol_gen;

/* The methods both profiles share, reading self->data.  tcp_bindi() /
 * udp_bind(): with reuseport, sockets that both set SO_REUSEPORT share. */
sm_verdict sm__sol_bind(const sm_profile *self, const sm_bind_ctx *c);
sm_verdict sm__sol_listen(const sm_profile *self, const sm_bind_ctx *c);
sm_verdict sm__sol_pick_port(const sm_profile *self, sm_pick_ctx *pc, uint16_t *port);
/* Every option as the OS takes it (SO_REUSEPORT only with reuseport). */
sm_verdict sm__sol_setsockopt(const sm_profile *self, const sm_sock_view *s, sm_option opt, int v1, int v2);
sm_verdict sm__sol_connect(const sm_profile *self, const sm_bind_ctx *c);
sm_verdict sm__sol_pick_connect(const sm_profile *self, sm_pick_ctx *pc, uint16_t *port);
sm_tw_syn_verdict sm__sol_tw_syn(const sm_profile *self, const sm_tw_syn_ctx *c);

extern const sm_sysctl_def sm__sol_sysctls[]; /* 4 keys */
extern const sm_tcp_rules sm__sol_tcp_rules;

#endif
