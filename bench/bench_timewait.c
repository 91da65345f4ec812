/*
 * bench_timewait.c - benchmark 2: TIME_WAIT at scale.
 *
 * N connections (10^4 .. 10^7) are opened and actively closed by clients,
 * so N TIME_WAIT entries are alive at once; then the clock moves past 2MSL
 * and every entry expires.  Measured per size, each in a child process of
 * its own (so its peak memory is its own):
 *   - time per connection for open + close (socket, connect with its
 *     handshake, accept, both closes, all segments through the demux),
 *   - time per entry for the expiry,
 *   - peak resident memory, and memory per TIME_WAIT entry above a world
 *     of the same hosts with no connection.
 * The ratio is the growth of time per connection from the smallest to the
 * largest size (target: at most 1.5x); memory target: 10^7 entries in at
 * most 1 GiB, 10^6 well under 200 MB (issue 3).
 *
 * Shape: clients on many hosts (each host has its own 28232-port range,
 * kept at most half full), one server host with 16 listening ports; linux
 * profile, tcp_max_tw_buckets lifted, 0.2 us network delay so the whole
 * run fits in less virtual time than one TIME_WAIT (60 s).
 */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define PER_HOST 14000u /* connections per client host: half its range */
#define LISTENERS 16u

typedef struct tw_result {
    double open_close_s; /* total for N connections (wall) */
    double open_close_cpu_s; /* the same in CPU time of the process */
    double expire_s;
    long maxrss_kb;
    long base_rss_kb;
    uint64_t tw_peak;
    uint64_t tw_left;
    uint64_t segments;
    int ok;
} tw_result;

static long rss_now_kb(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, resident = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static void run_size(uint64_t n, tw_result *out)
{
    memset(out, 0, sizeof *out);
    const sm_profile *p = sm_profile_find("linux");
    sm_world *w = sm_world_new(p, 1);
    sm_world_set_recycle(w, true);
    sm_world_set_delay(w, 200, 200);
    sm_id srv = sm_host_add(w, "server");
    sm_addr sa = bench_addr("10.255.0.1");
    sm_host_add_addr(w, srv, &sa);
    const char *big[] = {"1000000000"};
    sm_sysctl(w, srv, "net.ipv4.tcp_max_tw_buckets", big, 1);
    sm_id sproc = sm_proc_get(w, srv, "srv", sm_user_get(w, "root"));
    sm_id lis[LISTENERS];
    for (unsigned i = 0; i < LISTENERS; i++) {
        char name[32];
        snprintf(name, sizeof name, "l%u", i);
        sm_socket(w, sproc, SM_TCP, 4, name, &lis[i]);
        sm_endpoint ep = {sa, (uint16_t)(8000 + i)};
        sm_bind(w, lis[i], &ep);
        sm_listen(w, lis[i], 1024);
    }
    uint64_t nhosts = (n + PER_HOST - 1) / PER_HOST;
    sm_id *hosts = malloc(nhosts * sizeof *hosts);
    sm_id *procs = malloc(nhosts * sizeof *procs);
    for (uint64_t h = 0; h < nhosts; h++) {
        char name[32];
        snprintf(name, sizeof name, "c%llu", (unsigned long long)h);
        hosts[h] = sm_host_add(w, name);
        sm_addr a;
        memset(&a, 0, sizeof a);
        a.family = 4;
        a.b[0] = 10;
        a.b[1] = (uint8_t)(h >> 16);
        a.b[2] = (uint8_t)(h >> 8);
        a.b[3] = (uint8_t)(h + 1);
        sm_host_add_addr(w, hosts[h], &a);
        sm_sysctl(w, hosts[h], "net.ipv4.tcp_max_tw_buckets", big, 1);
        procs[h] = sm_proc_get(w, hosts[h], "cli", sm_user_get(w, "user"));
    }
    out->base_rss_kb = rss_now_kb();
    double c0 = bench_cpu_now();
    double t0 = bench_now();
    int ok = 1;
    for (uint64_t i = 0; i < n && ok; i++) {
        uint64_t h = i / PER_HOST;
        unsigned l = (unsigned)(i % LISTENERS);
        sm_id c, a;
        sm_socket(w, procs[h], SM_TCP, 4, "c", &c);
        sm_endpoint dst = {sa, (uint16_t)(8000 + l)};
        if (sm_connect(w, c, &dst).err != SM_OK ||
            sm_accept(w, lis[l], "a", &a).err != SM_OK) {
            ok = 0;
            break;
        }
        sm_close(w, c);        /* the client closes first: its TIME_WAIT */
        sm_advance(w, 500);
        sm_close(w, a);
        sm_advance(w, 500);
    }
    out->open_close_s = bench_now() - t0;
    out->open_close_cpu_s = bench_cpu_now() - c0;
    sm_stats st;
    sm_world_stats(w, &st);
    out->tw_peak = st.time_wait_peak;
    out->segments = st.segments;
    out->maxrss_kb = rss_now_kb();
    t0 = bench_now();
    sm_advance(w, 61ull * 1000000000ull);
    out->expire_s = bench_now() - t0;
    uint64_t left = 0;
    for (uint64_t h = 0; h < nhosts; h++)
        left += sm_host_time_wait(w, hosts[h]);
    out->tw_left = left;
    out->ok = ok && out->tw_peak == n && left == 0;
    sm_world_free(w);
    free(hosts);
    free(procs);
}

/* Runs one size in a child; the result comes back through a pipe. */
static bool run_child(uint64_t n, tw_result *out)
{
    int fd[2];
    if (pipe(fd) != 0)
        return false;
    pid_t pid = fork();
    if (pid < 0)
        return false;
    if (pid == 0) {
        close(fd[0]);
        tw_result r;
        run_size(n, &r);
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        if (ru.ru_maxrss > r.maxrss_kb)
            r.maxrss_kb = ru.ru_maxrss;
        ssize_t wr = write(fd[1], &r, sizeof r);
        _exit(wr == (ssize_t)sizeof r ? 0 : 1);
    }
    close(fd[1]);
    ssize_t rd = read(fd[0], out, sizeof *out);
    close(fd[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    return rd == (ssize_t)sizeof *out && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* --tw-size N: one size, in this process (for perf or callgrind). */
static void run_one_here(uint64_t n)
{
    tw_result r;
    run_size(n, &r);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    char a[32], b[32];
    printf("  %-10llu %-14s %-14s %7.1f MiB  %7.0f B    %-10llu %s (in-process)\n",
           (unsigned long long)n, bench_fmt_time(r.open_close_s / (double)n, a, sizeof a),
           bench_fmt_time(r.expire_s / (double)n, b, sizeof b), ru.ru_maxrss / 1024.0,
           (double)(ru.ru_maxrss - r.base_rss_kb) * 1024.0 / (double)n,
           (unsigned long long)r.segments, r.ok ? "ok" : "WRONG (TIME_WAIT count)");
    printf("  CPU per conn %s; resident after the opens: %.1f MiB; before them: %.1f MiB\n",
           bench_fmt_time(r.open_close_cpu_s / (double)n, a, sizeof a),
           r.maxrss_kb / 1024.0, r.base_rss_kb / 1024.0);
}

void bench_timewait(const bench_opts *o)
{
    if (o->tw_size) {
        printf("\n2 TIME_WAIT scale, one size (--tw-size)\n");
        run_one_here(o->tw_size);
        return;
    }
    enum { NSIZES = 4, MAXRUNS = 5 };
    static const uint64_t sizes[NSIZES] = {10000, 100000, 1000000, 10000000};
    size_t nsizes = o->quick ? 2 : NSIZES;
    /* 5 runs up to 10^5, 3 at 10^6, 1 at 10^7 (about a minute); the runs
     * of the sizes alternate (round 1: every size, round 2: ...), so that
     * other load on the machine falls on every size alike. */
    int runs[NSIZES];
    for (size_t k = 0; k < NSIZES; k++)
        runs[k] = sizes[k] >= 10000000 ? 1 : sizes[k] >= 1000000 ? 3 : MAXRUNS;
    double t[NSIZES][MAXRUNS], c[NSIZES][MAXRUNS], e[NSIZES][MAXRUNS];
    tw_result last[NSIZES];
    bool good[NSIZES];
    long peak[NSIZES];
    memset(last, 0, sizeof last);
    for (size_t k = 0; k < NSIZES; k++) {
        good[k] = true;
        peak[k] = 0;
    }
    printf("\n2 TIME_WAIT scale (linux profile; clients actively close; each run in a process of its own)\n");
    fflush(stdout);
    for (int round = 0; round < MAXRUNS; round++) {
        for (size_t k = 0; k < nsizes; k++) {
            if (round >= runs[k] || !good[k])
                continue;
            tw_result r;
            if (!run_child(sizes[k], &r)) {
                good[k] = false;
                continue;
            }
            t[k][round] = r.open_close_s / (double)sizes[k];
            c[k][round] = r.open_close_cpu_s / (double)sizes[k];
            e[k][round] = r.expire_s / (double)sizes[k];
            if (r.maxrss_kb > peak[k])
                peak[k] = r.maxrss_kb;
            if (!r.ok)
                good[k] = false;
            last[k] = r;
        }
    }
    printf("  %-10s %-11s %-11s %-12s %-12s %-10s %-10s %s\n", "N", "per conn", "(CPU)",
           "per expiry", "peak RSS", "per entry", "segments", "check");
    double per_conn[NSIZES] = {0}, per_cpu[NSIZES] = {0};
    bool all_ok = true;
    for (size_t k = 0; k < nsizes; k++) {
        if (!good[k] && !last[k].segments) {
            printf("  %-10llu failed (child process)\n", (unsigned long long)sizes[k]);
            all_ok = false;
            continue;
        }
        per_conn[k] = bench_median(t[k], (size_t)runs[k]);
        per_cpu[k] = bench_median(c[k], (size_t)runs[k]);
        double per_exp = bench_median(e[k], (size_t)runs[k]);
        double per_entry = (double)(peak[k] - last[k].base_rss_kb) * 1024.0 / (double)sizes[k];
        char a[32], b[32], d[32];
        printf("  %-10llu %-11s %-11s %-12s %7.1f MiB  %6.0f B   %-10llu %s (%d run%s)\n",
               (unsigned long long)sizes[k], bench_fmt_time(per_conn[k], a, sizeof a),
               bench_fmt_time(per_cpu[k], d, sizeof d), bench_fmt_time(per_exp, b, sizeof b),
               peak[k] / 1024.0, per_entry, (unsigned long long)last[k].segments,
               good[k] ? "ok" : "WRONG (TIME_WAIT count)", runs[k], runs[k] == 1 ? "" : "s");
        all_ok = all_ok && good[k];
    }
    size_t hi = nsizes - 1;
    double growth = per_conn[0] > 0 ? per_conn[hi] / per_conn[0] : 0;
    double growth_cpu = per_cpu[0] > 0 ? per_cpu[hi] / per_cpu[0] : 0;
    printf("    per conn: open (socket, connect with handshake, accept), both closes, every segment\n"
           "    through the demux; median of the runs, wall clock (CPU time of the process)\n"
           "    growth %llu -> %llu: wall %.2fx, CPU %.2fx (target <= 1.5x; the verdict uses CPU\n"
           "    time, which other load on the machine inflates less)\n",
           (unsigned long long)sizes[0], (unsigned long long)sizes[hi], growth, growth_cpu);
    bool mem_ok = true;
    if (!o->quick) {
        bool m6 = peak[2] <= 200 * 1024, m7 = peak[3] <= 1024 * 1024;
        printf("    memory: peak RSS (ru_maxrss of the run's process) at 10^6 %.1f MiB (< 200 MB: %s),"
               " at 10^7 %.1f MiB (<= 1 GiB: %s)\n",
               peak[2] / 1024.0, m6 ? "MET" : "MISSED", peak[3] / 1024.0, m7 ? "MET" : "MISSED");
        mem_ok = m6 && m7;
    }
    char target[96];
    snprintf(target, sizeof target, "<= 1.5x; RAM %s",
             o->quick ? "(quick: not run)" : "<= 1 GiB");
    bench_row("2 TIME_WAIT scale", per_cpu[hi], per_cpu[0],
              "CPU/conn, smallest N", growth_cpu, "x growth", target,
              all_ok && growth_cpu <= 1.5 && mem_ok);
}
