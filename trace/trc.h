/*
 * trc.h - reads a log written by `strace -f` into the events of an
 * observed program (observe/obs.h), the same events the preload shim of
 * `sockmodel exec` gives.
 *
 * Read: `-f` (a pid on each line, or `[pid N]` without -o), timestamps
 * `-t`, `-tt` or `-ttt` (none: one microsecond per line), `-y`/`-yy`
 * (descriptor annotations; -yy also gives a connected socket's local
 * address, which pairs a client's connect with the server's accept),
 * `-e trace=...` subsets (calls not in the log are not mirrored), `-o`,
 * and `<unfinished ...>` / `<... resumed>` pairs.
 */
#ifndef TRC_H
#define TRC_H

#include <stdio.h>

#include "obs.h"

/* Appends the log's events to log.  Returns the number of errors, each
 * written to errs as "LOG:LINE: error: WHAT". */
size_t trc_read_path(const char *path, obs_log *log, FILE *errs);
size_t trc_read_buffer(const char *name, const char *text, size_t len,
                       obs_log *log, FILE *errs);

#endif
