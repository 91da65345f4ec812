/*
 * replay_read.c - the replay reader's own loop, for measuring it against
 * the bare libpcap loop (bench/pcap_floor.c) and for checking its
 * conversation count against tshark (tests/replay-tshark.sh).
 *
 *   replay_read [--no-csum] [--no-conv] [--thread] [--stop-after K] [--rows] [--counts]
 *               [--runs N] FILE
 *
 * Reads FILE with the replay reader (replay/pkt_read.c: every record
 * decoded, checksums verified unless --no-csum) and feeds every packet to
 * the tshark-compatible conversation table (replay/conv.c) unless
 * --no-conv.  --thread reads through the read-ahead thread (RP_OPT_THREAD);
 * --stop-after K closes the reader after K packets (a thread still
 * reading must stop cleanly).  Prints one line "packets=D records=R conversations=C
 * tuples=T seconds=S cpu=C" per run (S = wall time of the whole loop, open
 * to close, CLOCK_MONOTONIC; C = process CPU time over the same span), then with --counts the reader's counters and
 * with --rows one line per conversation.  Exit 0, or 2 if FILE cannot be
 * read ("replay_read: FILE: error: ...", as sockmodel replay will say).
 *
 * bench/run compiles every bench/ C file into its one benchmark program; this
 * standalone tool (its own main(), libpcap, replay/) is left out of that
 * build by the BENCH_CC guard below.
 */
#ifdef BENCH_CC
typedef int replay_read_not_in_bench_run; /* see the comment above */
#else

#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conv.h"
#include "pkt.h"

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void print_row(void *ctx, const rp_conv_row *row)
{
    rp_conv_row_print((FILE *)ctx, row);
}

int main(int argc, char **argv)
{
    unsigned opts = 0;
    int conv = 1, rows = 0, counts = 0, runs = 1;
    uint64_t stop_after = UINT64_MAX;
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--no-csum") == 0)
            opts |= RP_OPT_NO_CSUM;
        else if (strcmp(argv[i], "--no-conv") == 0)
            conv = 0;
        else if (strcmp(argv[i], "--thread") == 0)
            opts |= RP_OPT_THREAD;
        else if (strcmp(argv[i], "--stop-after") == 0 && i + 1 < argc)
            stop_after = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--rows") == 0)
            rows = 1;
        else if (strcmp(argv[i], "--counts") == 0)
            counts = 1;
        else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
            runs = atoi(argv[++i]);
        else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr,
                    "usage: replay_read [--no-csum] [--no-conv] [--thread] [--stop-after K] "
                    "[--rows] [--counts] [--runs N] FILE\n");
            return 2;
        } else
            path = argv[i];
    }
    if (!path || runs < 1) {
        fprintf(stderr, "replay_read: no file\n");
        return 2;
    }
    for (int run = 0; run < runs; run++) {
        double t0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
        char err[512];
        rp_reader *r = rp_open(path, opts, err, sizeof err);
        if (!r) {
            fprintf(stderr, "replay_read: %s: error: %s\n", path, err);
            return 2;
        }
        rp_conv *t = NULL;
        if (conv) {
            t = rp_conv_new(rows && run == runs - 1 ? print_row : NULL, stdout);
            if (!t) {
                fprintf(stderr, "replay_read: out of memory\n");
                return 2;
            }
        }
        const rp_pkt *p;
        int rc = 0;
        uint64_t n = 0;
        while (n < stop_after && (rc = rp_next_ref(r, &p)) == 1) {
            n++;
            if (t && !rp_conv_add(t, p)) {
                fprintf(stderr, "replay_read: out of memory\n");
                return 2;
            }
        }
        uint64_t nconv = t ? rp_conv_count(t) : 0, ntup = t ? rp_conv_tuples(t) : 0;
        if (t && rows && run == runs - 1)
            rp_conv_finish(t);
        rp_conv_free(t);
        const rp_counts *c = rp_get_counts(r);
        uint64_t records = c->records;
        rp_counts saved = *c;
        char msg[600];
        snprintf(msg, sizeof msg, "%s", rp_error(r));
        rp_close(r);
        double dt = clock_s(CLOCK_MONOTONIC) - t0;
        double dc = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
        if (rc < 0) {
            fprintf(stderr, "replay_read: %s: error: %s\n", path, msg);
            return 2;
        }
        if (msg[0])
            fprintf(stderr, "replay_read: %s: warning: %s\n", path, msg);
        printf("packets=%llu records=%llu conversations=%llu tuples=%llu seconds=%.6f "
               "cpu=%.6f\n",
               (unsigned long long)n, (unsigned long long)records,
               (unsigned long long)nconv, (unsigned long long)ntup, dt, dc);
        if (counts && run == runs - 1)
            rp_counts_print(stdout, &saved);
    }
    return 0;
}

#endif /* BENCH_CC */
