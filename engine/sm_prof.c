/*
 * sm_prof.c - the texts of the profile contract's breaches (sm_prof.h),
 * and whether a world can use a profile at all: the interface version it
 * was written for, and every method present.
 */
#include "sm_prof.h"

/* The breaches of method m (id: its name in the rule ID).  The engine itself
 * is the source of these rules: "sm.contract.METHOD.BREACH". */
#define SM__BREACH_RULE(m, id, b, text)                                            \
    SM_RULE("sm.contract." id "." b, S, "profile contract violated: " text,        \
            "engine/sm_profile.h")
#define SM__BREACH(m, id)                                                          \
    {SM__BREACH_RULE(m, id, "no-rule", m " returned a verdict without a rule"),    \
     SM__BREACH_RULE(m, id, "culprit", m " named a culprit that is not one of "    \
                     "the owners it was shown"),                                   \
     SM__BREACH_RULE(m, id, "no-port", m " returned SM_OK without choosing a "     \
                     "port"),                                                      \
     SM__BREACH_RULE(m, id, "action", m " returned an action that does not "      \
                     "exist"),                                                     \
     SM__BREACH_RULE(m, id, "index", m " chose a listener beyond the "            \
                     "candidates"),                                                \
     SM__BREACH_RULE(m, id, "missing", "the profile has no " m " method")}

static const sm_rule breaches[SM__PM_COUNT][SM__PB_COUNT] = {
    [SM__PM_SETSOCKOPT] = SM__BREACH("setsockopt", "setsockopt"),
    [SM__PM_BIND] = SM__BREACH("bind", "bind"),
    [SM__PM_LISTEN] = SM__BREACH("listen", "listen"),
    [SM__PM_PICK_PORT] = SM__BREACH("pick_port", "pick-port"),
    [SM__PM_CONNECT] = SM__BREACH("connect", "connect"),
    [SM__PM_PICK_CONNECT_PORT] = SM__BREACH("pick_connect_port", "pick-connect-port"),
    [SM__PM_TW_SYN] = SM__BREACH("tw_syn", "tw-syn"),
    [SM__PM_SELECT_LISTENER] = SM__BREACH("select_listener", "select-listener"),
};

static const sm_rule r_version = SM_RULE("sm.contract.version", S,
    "profile contract violated: the profile was written for another "
    "version of the profile interface (sm_profile.version is not "
    "SM_PROFILE_VERSION)", "engine/sm_profile.h");
static const sm_rule r_no_tcp = SM_RULE("sm.contract.no-tcp-rules", S,
    "profile contract violated: the profile has no connection rules "
    "(tcp, select_listener_rule)", "engine/sm_profile.h");

const sm_rule *sm__prof_breach_text(enum sm__prof_method m, enum sm__prof_breach b)
{
    return &breaches[m][b];
}

#define SM__BREACHES_OF(m)                                                         \
    &breaches[m][0], &breaches[m][1], &breaches[m][2], &breaches[m][3],            \
        &breaches[m][4], &breaches[m][5]
static const sm_rule *const contract_rules[] = {
    SM__BREACHES_OF(SM__PM_SETSOCKOPT), SM__BREACHES_OF(SM__PM_BIND),
    SM__BREACHES_OF(SM__PM_LISTEN), SM__BREACHES_OF(SM__PM_PICK_PORT),
    SM__BREACHES_OF(SM__PM_CONNECT), SM__BREACHES_OF(SM__PM_PICK_CONNECT_PORT),
    SM__BREACHES_OF(SM__PM_TW_SYN), SM__BREACHES_OF(SM__PM_SELECT_LISTENER),
    &r_version, &r_no_tcp,
};
_Static_assert(SM__PB_COUNT == 6, "SM__BREACHES_OF names every breach");
const sm_rule_set sm__rules_prof = {"engine/sm_prof.c", contract_rules,
                                    sizeof contract_rules / sizeof contract_rules[0]};

const sm_rule *sm__prof_unusable(const sm_profile *p)
{
    if (p->version != SM_PROFILE_VERSION)
        return &r_version;
    if (!p->setsockopt)
        return &breaches[SM__PM_SETSOCKOPT][SM__PB_MISSING];
    if (!p->bind)
        return &breaches[SM__PM_BIND][SM__PB_MISSING];
    if (!p->listen)
        return &breaches[SM__PM_LISTEN][SM__PB_MISSING];
    if (!p->pick_port)
        return &breaches[SM__PM_PICK_PORT][SM__PB_MISSING];
    if (!p->connect)
        return &breaches[SM__PM_CONNECT][SM__PB_MISSING];
    if (!p->pick_connect_port)
        return &breaches[SM__PM_PICK_CONNECT_PORT][SM__PB_MISSING];
    if (!p->tw_syn)
        return &breaches[SM__PM_TW_SYN][SM__PB_MISSING];
    if (!p->select_listener)
        return &breaches[SM__PM_SELECT_LISTENER][SM__PB_MISSING];
    if (!p->tcp || !p->select_listener_rule)
        return &r_no_tcp;
    return NULL;
}
