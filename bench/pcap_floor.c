/*
 * pcap_floor.c - the floor of any capture reader: the bare libpcap loop
 * (pcap_open_offline + pcap_next_ex) that only counts records and bytes.
 * Issue 7's replay benchmark compares the replay reader
 * (bench/replay_read.c) and `sockmodel replay` against this.
 *
 *   pcap_floor [--runs N] FILE
 *
 * Prints "records=R bytes=B seconds=S cpu=C" per run (S = wall time of
 * open, loop and close, CLOCK_MONOTONIC; C = the process's CPU time, user
 * and system, over the same span, which other load on the machine
 * inflates less).  It opens with nanosecond precision,
 * as the replay reader does, so both pay the same timestamp conversion.
 *
 * Left out of bench/run's single benchmark program by the BENCH_CC guard
 * (bench/run compiles every bench/ C file; this one has its own main()).
 */
#ifdef BENCH_CC
typedef int pcap_floor_not_in_bench_run; /* see the comment above */
#else

/* pcap.h uses the BSD types u_char, u_int, hidden by -std=c11 alone. */
#define _DEFAULT_SOURCE

#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    int runs = 1;
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
            runs = atoi(argv[++i]);
        else
            path = argv[i];
    }
    if (!path || runs < 1) {
        fprintf(stderr, "usage: pcap_floor [--runs N] FILE\n");
        return 2;
    }
    for (int run = 0; run < runs; run++) {
        double t0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
        char eb[PCAP_ERRBUF_SIZE];
        pcap_t *pc = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, eb);
        if (!pc) {
            fprintf(stderr, "pcap_floor: %s: error: %s\n", path, eb);
            return 2;
        }
        struct pcap_pkthdr *h;
        const u_char *d;
        uint64_t n = 0, bytes = 0;
        unsigned sink = 0;
        int rc;
        while ((rc = pcap_next_ex(pc, &h, &d)) == 1) {
            n++;
            bytes += h->caplen;
            if (h->caplen)
                sink += d[0]; /* touch the record, as any reader must */
        }
        if (rc == PCAP_ERROR)
            fprintf(stderr, "pcap_floor: %s: %s\n", path, pcap_geterr(pc));
        pcap_close(pc);
        double dt = clock_s(CLOCK_MONOTONIC) - t0;
        double dc = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
        printf("records=%llu bytes=%llu seconds=%.6f cpu=%.6f (%u)\n", (unsigned long long)n,
               (unsigned long long)bytes, dt, dc, sink & 1u);
    }
    return 0;
}

#endif /* BENCH_CC */
