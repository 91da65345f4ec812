/*
 * bsd_common.h - helpers the BSD-derived profiles share.
 *
 * Every BSD (FreeBSD, XNU, OpenBSD, NetBSD) decides bind() from one lookup,
 * in_pcblookup_local(), that returns a single PCB for an address and port:
 * without INPLOOKUP_WILDCARD only an unconnected PCB on exactly that address,
 * with it the cheapest overlapping PCB (connected ones included).  The
 * lookups here model it once; FreeBSD's in_pcbbind_avail() on top of it is
 * shared by the "bsd" and "freebsd-13" profiles.  Sources:
 * ../shared/reference/bsd-solaris.md §1.2 (FreeBSD, XNU "the same
 * algorithm"), more-profiles.md §2.1 (OpenBSD's cost rules).
 */
#ifndef SM_BSD_COMMON_H
#define SM_BSD_COMMON_H

#include "sm_profile.h"

/* so_options bits that take part in the reuse test (rule 5). */
enum { BSD_RA = 1, BSD_RP = 2, BSD_LB = 4 };

typedef struct bsd_pcb {
    bool v4;          /* INP_IPV4 in inp_vflag: seen by IPv4 lookups */
    bool v6;          /* INP_IPV6: seen by IPv6 lookups */
    bool v6proto;     /* INP_IPV6PROTO: an AF_INET6 socket */
    uint32_t laddr4;  /* inp_laddr */
    sm_addr laddr6;   /* in6p_laddr (only read when v6) */
    bool connected;   /* faddr != ANY: connected, closing or TIME_WAIT */
    bool mapped_wild; /* AF_INET6 on ::ffff:0.0.0.0: kept last in the wild hash */
} bsd_pcb;

/* SO_REUSEADDR / SO_REUSEPORT / SO_REUSEPORT_LB of a socket as BSD_* bits. */
unsigned sm__bsd_opt_bits(const sm_opts *o);
/* The IPv4 part of an address (0 for :: and other IPv6 addresses). */
uint32_t sm__bsd_v4_part(const sm_addr *a);
/* inp_vflag and addresses of an existing owner. */
bsd_pcb sm__bsd_pcb_of(const sm_sock_view *e);
/* in_pcblookup_local() / in6_pcblookup_local(): an index in c->owners or -1. */
int sm__bsd_lookup4(const sm_bind_ctx *c, uint32_t laddr, bool wild);
int sm__bsd_lookup6(const sm_bind_ctx *c, const sm_addr *laddr, bool wild);
/* The IPv4 lookup over AF_INET sockets only (NetBSD's separate tables). */
int sm__bsd_lookup4_inet(const sm_bind_ctx *c, uint32_t laddr, bool wild);

/* The reuse test every BSD runs on the PCB its lookup returned (FreeBSD
 * in_pcbbind_avail(), XNU in_pcbbind(), OpenBSD in_pcbaddrisavail(), NetBSD
 * inpcb_bind_port()): the lookup is WILDCARD unless the new socket has a
 * SO_REUSE* option, and the PCB found stops the bind unless it has, now,
 * one of the new socket's reuse bits.  The walk is one; each OS words its
 * outcomes (rule ID, kernel function, confidence) in its own records. */
typedef struct sm__bsd_reuse_rules {
    const sm_rule *free;           /* no socket holds the port at all */
    const sm_rule *no_overlap;     /* the WILDCARD lookup found nothing */
    const sm_rule *reuse_no_exact; /* the exact lookup found nothing */
    const sm_rule *shared;         /* the PCB found has the new socket's bit */
    const sm_rule *wild_conflict;  /* the WILDCARD lookup found a PCB */
    const sm_rule *exact_ra;       /* exact PCB, the new socket has only SO_REUSEADDR */
    const sm_rule *exact_rp;       /* exact PCB without the new socket's SO_REUSEPORT(_LB) */
} sm__bsd_reuse_rules;

/* Does PCB t (a lookup's result; -1: none) stop a bind with reuse bits
 * `reuse`? */
bool sm__bsd_blocks(const sm_bind_ctx *c, int t, unsigned reuse);
/* EADDRINUSE naming PCB t, by the rule of how it was found (`wild`: a
 * WILDCARD lookup; else exact, with reuse bits or only SO_REUSEADDR). */
sm_verdict sm__bsd_conflict(const sm__bsd_reuse_rules *x, int t, bool wild, unsigned reuse);
/* Why a bind that passed the test is fine: it shares the port with PCB t,
 * or nothing was found (no owner, no overlap, no exact PCB). */
const sm_rule *sm__bsd_pass_rule(const sm__bsd_reuse_rules *x, const sm_bind_ctx *c, int t,
                                 bool wild);

/* What differs between "bsd" and "freebsd-13" (the profile's data). */
typedef struct sm__bsd_gen {
    bool fbsd13; /* FreeBSD 13's uid-rule exemption in in_pcbbind_avail() */
} sm__bsd_gen;

/* The methods both profiles share.  FreeBSD in_pcbbind_avail() (reading
 * the generation from self->data), the listen() that does not re-check,
 * and in_pcb_lport_dest() (bsd_common.c); setsockopt, connect, the
 * connect() port, SYN into TIME_WAIT and the listener choice (bsd.c). */
sm_verdict sm__fbsd_bind(const sm_profile *self, const sm_bind_ctx *c);
sm_verdict sm__fbsd_listen(const sm_profile *self, const sm_bind_ctx *c);
sm_verdict sm__fbsd_pick_port(const sm_profile *self, sm_pick_ctx *pc, uint16_t *port);
sm_verdict sm__bsd_setsockopt(const sm_profile *self, const sm_sock_view *s,
                              sm_option opt, int v1, int v2);
sm_verdict sm__bsd_connect(const sm_profile *self, const sm_bind_ctx *c);
sm_verdict sm__bsd_pick_connect(const sm_profile *self, sm_pick_ctx *pc, uint16_t *port);
sm_tw_syn_verdict sm__bsd_tw_syn(const sm_profile *self, const sm_tw_syn_ctx *c);
size_t sm__bsd_select_listener(const sm_profile *self, const sm_listen_ctx *c);

/* The "bsd" profile's tables, shared with "freebsd-13" (bsd.c). */
extern const sm_tcp_rules sm__bsd_tcp_rules;
#define SM__BSD_N_SYSCTLS 13 /* keys in sm__bsd_sysctls (checked in bsd.c) */
extern const sm_sysctl_def sm__bsd_sysctls[];
/* TCP options as FreeBSD's tcp_addoptions() lays them out (bsd.c). */
size_t sm__bsd_tcp_options(const sm_profile *self, const sm_tcpopt_ctx *c, uint8_t *out);

#endif
