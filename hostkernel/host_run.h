/*
 * host_run.h - the `host` pseudo profile: a scenario run with real system
 * calls on this machine's kernel, inside a private network namespace the
 * run creates for itself (docs/host-profile.md).
 *
 * scn_select_profiles() adds scn_host_profile only when the patterns name
 * "host" literally; the runner (scn_run.c) hands that column to
 * scn_host_run() instead of the engine.  The profile object carries a name
 * and a summary only: the engine is never called with it.
 */
#ifndef HOST_RUN_H
#define HOST_RUN_H

#include "scn.h"

extern const sm_profile scn_host_profile;

/* True for the host pseudo profile. */
bool scn_is_host_profile(const sm_profile *p);

/* Does PATTERNS name "host" literally (a positive, glob-free "host")? */
bool scn_patlist_names_host(const scn_patlist *l);

/* Runs F with real system calls and fills column PI of RES.  When no
 * network namespace can be created (not root), prints why on stderr and
 * exits with status 2, as an allocation failure does. */
void scn_host_run(scn_result *res, const scn_file *f, size_t pi);

#endif /* HOST_RUN_H */
