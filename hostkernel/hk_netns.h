/*
 * hk_netns.h - private network namespaces (Linux): the one place that
 * creates, fills and switches them, for the kernel backend and for the
 * benchmarks' kernel baseline (bench/bench_churn.c).
 *
 * Depends on the C library, the Linux headers and engine/sm.h's address
 * type only, so a program that compiles the engine can compile it too.
 */
#ifndef HK_NETNS_H
#define HK_NETNS_H

#include <stddef.h>

#include "sm.h"

/* Moves this process into a fresh network namespace, brings its lo up and
 * puts ADDRS on lo (IPv4 as /32, IPv6 as /128 without duplicate address
 * detection, so usable at once).  On success returns NULL and *fd is a
 * descriptor of the new namespace (for hk_netns_enter).  On failure
 * returns what failed: either a call ("unshare", "/proc/self/ns/net")
 * with *err its errno, or a sentence with *err 0; *fd is then -1 (the
 * process may already be in the new namespace: return with
 * hk_netns_enter). */
const char *hk_netns_new(const sm_addr *addrs, size_t n, int *fd, int *err);

/* A descriptor of the namespace this process is in now, or -1 (errno). */
int hk_netns_current(void);

/* Makes the namespace FD the one new sockets, /proc/net and /proc/sys
 * see.  Returns 0, or an errno value. */
int hk_netns_enter(int fd);

#endif /* HK_NETNS_H */
