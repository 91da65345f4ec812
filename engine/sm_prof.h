/*
 * sm_prof.h - the engine's only way to call a profile method.
 *
 * Each wrapper calls the method with the profile as its first argument
 * (sm_profile.h) and checks what comes back against the contract: a
 * verdict names its rule, a culprit is -1 or one of the owners the
 * profile was shown, a pick that succeeds sets a port, a TIME_WAIT SYN
 * action is one of the four, a listener index is below the candidates'
 * count.  A broken answer becomes an SM_EPROTO verdict whose rule says
 * "profile contract violated: ..." (sm_prof.c); the engine never aborts.
 */
#ifndef SM_PROF_H
#define SM_PROF_H

#include "sm_profile.h"

enum sm__prof_method {
    SM__PM_SETSOCKOPT,
    SM__PM_BIND,
    SM__PM_LISTEN,
    SM__PM_PICK_PORT,
    SM__PM_CONNECT,
    SM__PM_PICK_CONNECT_PORT,
    SM__PM_TW_SYN,
    SM__PM_SELECT_LISTENER,
    SM__PM_COUNT
};

enum sm__prof_breach {
    SM__PB_NO_RULE,   /* the verdict has no rule text */
    SM__PB_CULPRIT,   /* the culprit is not one of the owners shown */
    SM__PB_NO_PORT,   /* a pick returned SM_OK without a port */
    SM__PB_ACTION,    /* not one of the TIME_WAIT SYN actions */
    SM__PB_INDEX,     /* a listener index beyond the candidates */
    SM__PB_MISSING,   /* the profile has no such method */
    SM__PB_COUNT
};

/* The rule of a breach (static). */
const sm_rule *sm__prof_breach_text(enum sm__prof_method m, enum sm__prof_breach b);
/* Every breach rule, for the rule registry. */
extern const sm_rule_set sm__rules_prof;
/* Why a world cannot use profile p (a version it does not speak, a method
 * missing), or NULL. */
const sm_rule *sm__prof_unusable(const sm_profile *p);

static inline sm_verdict sm__prof_broken(enum sm__prof_method m, enum sm__prof_breach b)
{
    return sm__fail(SM_EPROTO, sm__prof_breach_text(m, b), -1);
}

/* A verdict about n owners. */
static inline sm_verdict sm__prof_checked(sm_verdict v, enum sm__prof_method m, size_t n)
{
    if (v.rule == NULL)
        return sm__prof_broken(m, SM__PB_NO_RULE);
    if (v.culprit < -1 || (v.culprit >= 0 && (size_t)v.culprit >= n))
        return sm__prof_broken(m, SM__PB_CULPRIT);
    return v;
}

static inline sm_verdict sm__prof_setsockopt(const sm_profile *p, const sm_sock_view *s,
                                             sm_option opt, int v1, int v2)
{
    return sm__prof_checked(p->setsockopt(p, s, opt, v1, v2), SM__PM_SETSOCKOPT, 0);
}

static inline sm_verdict sm__prof_bind(const sm_profile *p, const sm_bind_ctx *c)
{
    return sm__prof_checked(p->bind(p, c), SM__PM_BIND, c->n_owners);
}

static inline sm_verdict sm__prof_listen(const sm_profile *p, const sm_bind_ctx *c)
{
    return sm__prof_checked(p->listen(p, c), SM__PM_LISTEN, c->n_owners);
}

static inline sm_verdict sm__prof_connect(const sm_profile *p, const sm_bind_ctx *c)
{
    return sm__prof_checked(p->connect(p, c), SM__PM_CONNECT, c->n_owners);
}

static inline sm_verdict sm__prof_pick_checked(sm_verdict v, enum sm__prof_method m,
                                               uint16_t port)
{
    v = sm__prof_checked(v, m, 0);
    if (v.err == SM_OK && port == 0)
        return sm__prof_broken(m, SM__PB_NO_PORT);
    return v;
}

static inline sm_verdict sm__prof_pick_port(const sm_profile *p, sm_pick_ctx *c,
                                            uint16_t *port)
{
    sm_verdict v = p->pick_port(p, c, port);
    return sm__prof_pick_checked(v, SM__PM_PICK_PORT, *port);
}

static inline sm_verdict sm__prof_pick_connect_port(const sm_profile *p, sm_pick_ctx *c,
                                                    uint16_t *port)
{
    sm_verdict v = p->pick_connect_port(p, c, port);
    return sm__prof_pick_checked(v, SM__PM_PICK_CONNECT_PORT, *port);
}

/* A TIME_WAIT SYN verdict; *breach is set (and the SYN should be dropped)
 * when the profile broke the contract. */
static inline sm_tw_syn_verdict sm__prof_tw_syn(const sm_profile *p, const sm_tw_syn_ctx *c,
                                                const sm_rule **breach)
{
    sm_tw_syn_verdict v = p->tw_syn(p, c);
    *breach = NULL;
    if (v.rule == NULL)
        *breach = sm__prof_breach_text(SM__PM_TW_SYN, SM__PB_NO_RULE);
    else if ((unsigned)v.action > (unsigned)SM_TW_SYN_DROP)
        *breach = sm__prof_breach_text(SM__PM_TW_SYN, SM__PB_ACTION);
    return v;
}

/* The chosen listener's index; *breach is set when it is not below c->n. */
static inline size_t sm__prof_select_listener(const sm_profile *p, const sm_listen_ctx *c,
                                              const sm_rule **breach)
{
    size_t k = p->select_listener(p, c);
    *breach = k < c->n ? NULL : sm__prof_breach_text(SM__PM_SELECT_LISTENER, SM__PB_INDEX);
    return k;
}

/* The TIME_WAIT length (ms) of one connection: the profile's optional
 * method, else `dflt` (the host's tunable). */
static inline uint64_t sm__prof_time_wait_ms(const sm_profile *p, const sm_tw_len_ctx *c,
                                             uint64_t dflt)
{
    return p->time_wait_ms ? p->time_wait_ms(p, c) : dflt;
}

/* The options of an outgoing TCP segment (the profile's optional method;
 * none without it).  A length beyond the 40 bytes TCP has room for breaks
 * the contract: the segment then carries no options. */
static inline uint8_t sm__prof_tcp_options(const sm_profile *p, const sm_tcpopt_ctx *c,
                                           uint8_t out[40])
{
    size_t n = p->tcp_options ? p->tcp_options(p, c, out) : 0;
    return n <= 40 ? (uint8_t)n : 0;
}

static inline const char *sm__prof_native_err_name(const sm_profile *p, sm_err e)
{
    return p->native_err_name ? p->native_err_name(p, e) : NULL;
}

#endif
