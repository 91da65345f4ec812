/*
 * bench_pending.c - benchmarks 2 and 4, which cannot be measured yet.
 *
 * TIME_WAIT scale needs connections (connect/accept/close leaving TIME_WAIT
 * entries in the bind table); replay needs a pcap reader and a replay
 * driver.  Rather than time something else under their names, each prints a
 * line saying it is not measured and why.  The TIME_WAIT line asks the
 * engine: while sm_connect() answers ENOSYS there is no connection model.
 */
#include "bench.h"

#include <stdio.h>

void bench_replay(const bench_opts *o)
{
    (void)o;
    bench_row_skip("4 replay",
                   "not available yet: the model has no pcap replay (nothing reads a "
                   "capture and drives the engine with it)");
}
