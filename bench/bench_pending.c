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

void bench_timewait(const bench_opts *o)
{
    (void)o;
    sm_world *w = bench_world(sm_profile_at(0), NULL);
    sm_id h = sm_host_find(w, "local");
    sm_id proc = sm_proc_get(w, h, "p", sm_user_get(w, "alice"));
    sm_id s;
    sm_socket(w, proc, SM_TCP, 4, "c", &s);
    sm_endpoint ep = {bench_addr("127.0.0.1"), 80};
    sm_result r = sm_connect(w, s, &ep);
    sm_world_free(w);
    if (r.err == SM_ENOSYS)
        bench_row_skip("2 TIME_WAIT scale",
                       "not measured yet: needs the TCP connection model (sm_connect() "
                       "returns ENOSYS), so no TIME_WAIT entries can be made");
    else
        bench_row_skip("2 TIME_WAIT scale",
                       "not measured yet: the engine now has connect(); this benchmark "
                       "still has to be written (bench/bench_pending.c)");
}

void bench_replay(const bench_opts *o)
{
    (void)o;
    bench_row_skip("4 replay",
                   "not available yet: the model has no pcap replay (nothing reads a "
                   "capture and drives the engine with it)");
}
