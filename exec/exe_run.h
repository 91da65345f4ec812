/*
 * exe_run.h - runs a program under the preload shim and collects what it
 * did with sockets (the launcher side of `sockmodel exec`).
 */
#ifndef EXE_RUN_H
#define EXE_RUN_H

#include <stddef.h>

#include "obs.h"

/* The shim's path: SOCKMODEL_PRELOAD if set, else the build tree's copy
 * when this program runs from the build tree, else the installed one. */
const char *exe_preload_path(void);

/* Runs argv[0] (found on PATH) with the shim preloaded; appends every
 * record to log.  *status gets the program's wait status.  Returns 0, or
 * -1 with a message in why (the program could not be started). */
int exe_run(const char *preload, char *const argv[], obs_log *log,
            int *status, char *why, size_t why_len);

#endif
