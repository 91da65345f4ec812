/*
 * solaris_11_4.c - the "solaris-11.4" profile: Oracle Solaris 11.4, which
 * added SO_REUSEPORT with load balancing; everything else is the "solaris"
 * profile's (solaris.c, its rule table).
 *
 * No Oracle source is available: what is added here is documented at best,
 * and only through third parties.  Sources: ../shared/reference/
 * more-profiles.md §4 and bsd-solaris.md §5.  Tags: [D-3P] documentation
 * quoted by a third party, [I] inferred, [U] unverified.
 *
 * Where 11.4 differs from "solaris":
 *  1. SO_REUSEPORT exists [D-3P libuv PR #4407, libevent PR #1624, both
 *     citing Oracle's setsockopt(3C)].
 *  2. bind(): two sockets that both set SO_REUSEPORT share the port (TCP and
 *     UDP), after the SO_EXCLBIND check and within one address family's port
 *     space; other pairs follow the Solaris rules [D-3P for the sharing; U for
 *     the order, the user (not required here), SO_EXCLBIND and TIME_WAIT].
 *  3. Listener choice: new connections are spread across the SO_REUSEPORT
 *     listeners by a hash of the 4-tuple [D-3P]; setting SO_REUSEADDR as well
 *     turns the balancing off [D-3P: an Oracle engineer in libuv #4732/#4733],
 *     and then the first bound listener takes them (as "solaris") [U].
 *  4. TIME_WAIT (tcp_time_wait_interval 60 s), ports, privileged ports:
 *     as Solaris 9 and later [D Oracle tunables manuals].
 */
#include "solaris_common.h"
#include "tcp_common.h"

/* ---- rule records: what this file decides, with ID, source and tag ---- */

static const sm_rule r_listener_choice = SM_RULE("solaris-11-4.listener.choice", U,
    "listener choice: specific address over wildcard; SO_REUSEPORT "
    "listeners share connections by 4-tuple hash unless one also has "
    "SO_REUSEADDR; else the first bound",
    "Oracle setsockopt(3C) via libuv #4407/#4733; D-3P");

static const sm__sol_gen gen = {.reuseport = true};

static size_t s114_select_listener(const sm_profile *self, const sm_listen_ctx *c)
{
    (void)self;
    size_t grp[64], n = 0;
    for (size_t i = 0; i < c->n && n < 64; i++) {
        if (c->cands[i].now.reuseaddr)
            return sm__select_oldest_listener(self, c); /* balancing off [D-3P] */
        if (c->cands[i].now.reuseport)
            grp[n++] = i;
    }
    if (n > 0)
        return grp[c->hash % n];
    return sm__select_oldest_listener(self, c);
}

extern const sm_rule_set sm__rules_solaris;
extern const sm_rule_set sm__rules_solaris_11_4;
const sm_profile sm_profile_solaris_11_4 = {
    .version = SM_PROFILE_VERSION,
    .name = "solaris-11.4",
    .summary = "Oracle Solaris 11.4: Solaris with SO_REUSEPORT load balancing",
    .sysctls = sm__sol_sysctls,
    .n_sysctls = 4,
    .defaults = {
        [SM_TUN_PORT_LO] = 32768,         /* smallest_anon_port [D] */
        [SM_TUN_PORT_HI] = 65535,         /* largest_anon_port [D] */
        [SM_TUN_UNPRIV_PORT] = 1024,      /* smallest_nonpriv_port */
        [SM_TUN_TIME_WAIT_MS] = 60000,    /* _time_wait_interval [D E36784_01] */
        [SM_TUN_RFC1337] = 0,
        [SM_TUN_MAX_TW] = -1,
        [SM_TUN_FIN_TIMEOUT_MS] = 675000, /* _fin_wait_2_flush_interval [U] */
        [SM_TUN_TIMESTAMPS] = 1,
        [SM_TUN_NOLOCALTIMEWAIT] = 1,     /* loopback TIME_WAITs purged [I] */
        [SM_TUN_V6ONLY_DEFAULT] = 0,
        [SM_TUN_RANDOM_PORTS] = 1,
        [SM_TUN_SYN_RTO_MS] = 1000,
        [SM_TUN_CONNECT_TIMEOUT_MS] = 180000,
    },
    .native_err_name = NULL,
    .data = &gen,
    .setsockopt = sm__sol_setsockopt,
    .bind = sm__sol_bind,
    .listen = sm__sol_listen,
    .pick_port = sm__sol_pick_port,
    .tcp = &sm__sol_tcp_rules,
    .connect = sm__sol_connect,
    .pick_connect_port = sm__sol_pick_connect,
    .tw_syn = sm__sol_tw_syn,
    .select_listener = s114_select_listener,
    .select_listener_rule = &r_listener_choice,
    .rule_sets = (const sm_rule_set *const[]){&sm__rules_solaris_11_4, &sm__rules_solaris, NULL},
};

/* Every rule record of this file (docs/rules.md). */
static const sm_rule *const rules_of_file[] = {
    &r_listener_choice,
};
const sm_rule_set sm__rules_solaris_11_4 = {"profiles/solaris_11_4.c", rules_of_file,
    sizeof rules_of_file / sizeof rules_of_file[0]};
