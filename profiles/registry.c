/*
 * registry.c - the list of OS profiles, in the order tables show them.
 *
 * Adding an OS means adding its file under profiles/ and one line here.
 */
#include <string.h>

#include "sm_profile.h"

extern const sm_profile sm_profile_bsd;
extern const sm_profile sm_profile_linux_3_8;
extern const sm_profile sm_profile_linux;
extern const sm_profile sm_profile_windows_classic;
extern const sm_profile sm_profile_windows;
extern const sm_profile sm_profile_solaris;
extern const sm_profile sm_profile_macos;
extern const sm_profile sm_profile_ios;
extern const sm_profile sm_profile_openbsd;
extern const sm_profile sm_profile_netbsd;
extern const sm_profile sm_profile_freebsd_13;
extern const sm_profile sm_profile_solaris_11_4;

const sm_profile *const sm__profiles[] = {
    &sm_profile_bsd,
    &sm_profile_linux_3_8,
    &sm_profile_linux,
    &sm_profile_windows_classic,
    &sm_profile_windows,
    &sm_profile_solaris,
    &sm_profile_macos,
    &sm_profile_ios,
    &sm_profile_openbsd,
    &sm_profile_netbsd,
    &sm_profile_freebsd_13,
    &sm_profile_solaris_11_4,
};

const size_t sm__n_profiles = sizeof sm__profiles / sizeof sm__profiles[0];

/* The registry as the public API sees it (engine/sm.h). */
size_t sm_profile_count(void) { return sm__n_profiles; }

const sm_profile *sm_profile_at(size_t i)
{
    return i < sm__n_profiles ? sm__profiles[i] : NULL;
}

const sm_profile *sm_profile_find(const char *name)
{
    for (size_t i = 0; i < sm__n_profiles; i++)
        if (strcmp(sm__profiles[i]->name, name) == 0)
            return sm__profiles[i];
    return NULL;
}

static const sm_rule *find_in(const sm_rule_set *const *sets, const char *id)
{
    for (size_t k = 0; sets && sets[k]; k++)
        for (size_t i = 0; i < sets[k]->n; i++)
            if (strcmp(sets[k]->rules[i]->id, id) == 0)
                return sets[k]->rules[i];
    return NULL;
}

const sm_rule *sm_rule_find(const char *id)
{
    static const sm_rule_set *const sockapi[] = {&sm__rules_sm_sockapi, NULL};
    const sm_rule *r = find_in(sm__engine_rule_sets, id);
    if (!r)
        r = find_in(sockapi, id);
    for (size_t i = 0; !r && i < sm__n_profiles; i++)
        r = find_in(sm__profiles[i]->rule_sets, id);
    return r;
}
