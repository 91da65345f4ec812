/*
 * registry.c - the list of OS profiles, in the order tables show them.
 *
 * Adding an OS means adding its file under osmodels/ and one line here.
 */
#include "sm_profile.h"

extern const sm_profile sm_profile_bsd;
extern const sm_profile sm_profile_linux_3_8;
extern const sm_profile sm_profile_linux;
extern const sm_profile sm_profile_windows_classic;
extern const sm_profile sm_profile_windows;
extern const sm_profile sm_profile_solaris;

const sm_profile *const sm__profiles[] = {
    &sm_profile_bsd,
    &sm_profile_linux_3_8,
    &sm_profile_linux,
    &sm_profile_windows_classic,
    &sm_profile_windows,
    &sm_profile_solaris,
};

const size_t sm__n_profiles = sizeof sm__profiles / sizeof sm__profiles[0];
