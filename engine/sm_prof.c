/*
 * sm_prof.c - the texts of the profile contract's breaches (sm_prof.h),
 * and whether a world can use a profile at all: the interface version it
 * was written for, and every method present.
 */
#include "sm_prof.h"

#define SM__BREACH(m)                                                              \
    {"profile contract violated: " m " returned a verdict without a rule text "   \
     "[engine/sm_profile.h]",                                                      \
     "profile contract violated: " m " named a culprit that is not one of the "   \
     "owners it was shown [engine/sm_profile.h]",                                  \
     "profile contract violated: " m " returned SM_OK without choosing a port "   \
     "[engine/sm_profile.h]",                                                      \
     "profile contract violated: " m " returned an action that does not exist "   \
     "[engine/sm_profile.h]",                                                      \
     "profile contract violated: " m " chose a listener beyond the candidates "   \
     "[engine/sm_profile.h]",                                                      \
     "profile contract violated: the profile has no " m " method "                \
     "[engine/sm_profile.h]"}

static const char *const breaches[SM__PM_COUNT][SM__PB_COUNT] = {
    [SM__PM_SETSOCKOPT] = SM__BREACH("setsockopt"),
    [SM__PM_BIND] = SM__BREACH("bind"),
    [SM__PM_LISTEN] = SM__BREACH("listen"),
    [SM__PM_PICK_PORT] = SM__BREACH("pick_port"),
    [SM__PM_CONNECT] = SM__BREACH("connect"),
    [SM__PM_PICK_CONNECT_PORT] = SM__BREACH("pick_connect_port"),
    [SM__PM_TW_SYN] = SM__BREACH("tw_syn"),
    [SM__PM_SELECT_LISTENER] = SM__BREACH("select_listener"),
};

const char *sm__prof_breach_text(enum sm__prof_method m, enum sm__prof_breach b)
{
    return breaches[m][b];
}

const char *sm__prof_unusable(const sm_profile *p)
{
    if (p->version != SM_PROFILE_VERSION)
        return "profile contract violated: the profile was written for another "
               "version of the profile interface (sm_profile.version is not "
               "SM_PROFILE_VERSION) [engine/sm_profile.h]";
    if (!p->setsockopt)
        return breaches[SM__PM_SETSOCKOPT][SM__PB_MISSING];
    if (!p->bind)
        return breaches[SM__PM_BIND][SM__PB_MISSING];
    if (!p->listen)
        return breaches[SM__PM_LISTEN][SM__PB_MISSING];
    if (!p->pick_port)
        return breaches[SM__PM_PICK_PORT][SM__PB_MISSING];
    if (!p->connect)
        return breaches[SM__PM_CONNECT][SM__PB_MISSING];
    if (!p->pick_connect_port)
        return breaches[SM__PM_PICK_CONNECT_PORT][SM__PB_MISSING];
    if (!p->tw_syn)
        return breaches[SM__PM_TW_SYN][SM__PB_MISSING];
    if (!p->select_listener)
        return breaches[SM__PM_SELECT_LISTENER][SM__PB_MISSING];
    if (!p->tcp || !p->select_listener_rule)
        return "profile contract violated: the profile has no connection rules "
               "(tcp, select_listener_rule) [engine/sm_profile.h]";
    return NULL;
}
