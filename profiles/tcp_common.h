/*
 * tcp_common.h - connection rules several profiles share: the 4-tuple
 * uniqueness test, an ephemeral-port scan for connect() with or without
 * sharing a port across destinations, and the usual listener choices.
 * Each profile file still states its own rule table and picks from these.
 */
#ifndef SM_TCP_COMMON_H
#define SM_TCP_COMMON_H

#include "sm_profile.h"

/* Same address (v4-mapped compared as IPv4). */
bool sm__addr_same(const sm_addr *a, const sm_addr *b);
/* Either is a wildcard, or they are the same address. */
bool sm__addr_overlaps(const sm_addr *a, const sm_addr *b);

/* The owner holding exactly self's 4-tuple (live connection or TIME_WAIT),
 * or -1.  Lowest seq first when several (cannot happen in a sane world). */
int sm__find_tuple(const sm_bind_ctx *c);

/* connect() of a bound socket where any owner of the same 4-tuple, live or
 * in TIME_WAIT, makes the call fail with err (BSD, Solaris, Windows). */
sm_verdict sm__connect_unique(const sm_bind_ctx *c, sm_err err,
                              const sm_rule *clash_rule, const sm_rule *tw_rule,
                              const sm_rule *ok_rule);

/* How a generic connect() autobind scans and shares ports. */
typedef struct sm__conn_scan {
    bool random_start;      /* else sequential from the last port handed out */
    bool share_destinations;/* a port may serve connections to different peers */
    bool tw_blocks_port;    /* any TIME_WAIT on the port makes it unusable */
    sm_err exhausted;
    const sm_rule *rule;       /* the OK rule */
    const sm_rule *exhausted_rule;
} sm__conn_scan;

/* May candidate port be used toward self.remote under rules s?  Owners that
 * are bound but unconnected (or listening) on an overlapping address always
 * block (BSD in_pcblookup with INPLOOKUP_WILDCARD); an owner with the same
 * 4-tuple blocks; with !share_destinations any other owner blocks. */
bool sm__conn_port_usable(const sm__conn_scan *s, const sm_bind_ctx *c);
sm_verdict sm__conn_scan_pick(const sm__conn_scan *s, sm_pick_ctx *pc,
                              uint16_t *port);

/* Listener choices among equally good candidates (sorted oldest first). */
size_t sm__select_oldest_listener(const sm_profile *self, const sm_listen_ctx *c);
size_t sm__select_newest(const sm_profile *self, const sm_listen_ctx *c);

/* Writing TCP options (tcp_options hooks): each appends one option at
 * out[*n] and advances *n. */
void sm__opt_nop(uint8_t *out, size_t *n);
void sm__opt_mss(uint8_t *out, size_t *n, uint16_t mss);
void sm__opt_wscale(uint8_t *out, size_t *n, uint8_t shift);
void sm__opt_sackok(uint8_t *out, size_t *n);
void sm__opt_ts(uint8_t *out, size_t *n, uint32_t val, uint32_t ecr);
/* NOPs until *n % 4 == rem. */
void sm__opt_align(uint8_t *out, size_t *n, size_t rem);

#endif
