/*
 * hk.h - the kernel backend (libhostkernel, Linux only): a scenario column
 * run with real system calls on this machine's kernel, in private network
 * namespaces (docs/host-profile.md).
 *
 * The program calls hk_register() at start-up; from then on the column
 * name `host` (scenario/scn_backend.h) runs on this backend.
 */
#ifndef HK_H
#define HK_H

#include <stdbool.h>

/* Registers the kernel backend under the name `host`, with the linux
 * profile's error names and sysctl keys.  False if that failed. */
bool hk_register(void);

#endif /* HK_H */
