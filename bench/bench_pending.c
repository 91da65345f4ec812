/*
 * bench_pending.c - benchmark 4 (replay) as seen from this program.
 *
 * Replay is timed by bench/replay.sh: it needs the configured tree's
 * `sockmodel replay`, a capture written by bench/gen_capture, a bare
 * libpcap loop (bench/pcap_floor) and tshark, none of which this program
 * links.  bench/run calls that script after this program (and says why
 * when it cannot); this row only says where the figures are.
 */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>

void bench_replay(const bench_opts *o)
{
    (void)o;
    if (getenv("BENCH_REPLAY_FOLLOWS"))
        bench_row_skip("4 replay", "timed by bench/replay.sh: see the replay lines at the end");
    else
        bench_row_skip("4 replay", "not timed by this program: bench/run runs bench/replay.sh");
}
