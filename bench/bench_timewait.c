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
    double open_close_s; /* total for N connections */
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

void bench_timewait(const bench_opts *o)
{
    uint64_t sizes[] = {10000, 100000, 1000000, 10000000};
    size_t nsizes = o->quick ? 2 : 4;
    double per_conn[4] = {0};
    printf("\n2 TIME_WAIT scale (linux profile; clients actively close; each size in its own process)\n");
    printf("  %-10s %-14s %-14s %-12s %-12s %-10s %s\n", "N", "per conn", "per expiry",
           "peak RSS", "per entry", "segments", "check");
    bool mem_ok = true;
    for (size_t k = 0; k < nsizes; k++) {
        /* Sizes up to 10^6: median of 3 runs; 10^7: one run (about a
         * minute), said so in the output. */
        int runs = sizes[k] >= 10000000 ? 1 : (o->runs < 3 ? o->runs : 3);
        double t[5], e[5];
        tw_result r;
        memset(&r, 0, sizeof r);
        bool good = true;
        for (int i = 0; i < runs; i++) {
            if (!run_child(sizes[k], &r)) {
                good = false;
                break;
            }
            t[i] = r.open_close_s / (double)sizes[k];
            e[i] = r.expire_s / (double)sizes[k];
        }
        if (!good) {
            printf("  %-10llu failed (child process)\n", (unsigned long long)sizes[k]);
            continue;
        }
        per_conn[k] = bench_median(t, (size_t)runs);
        double per_exp = bench_median(e, (size_t)runs);
        double per_entry = (double)(r.maxrss_kb - r.base_rss_kb) * 1024.0 / (double)sizes[k];
        char a[32], b[32];
        printf("  %-10llu %-14s %-14s %7.1f MiB  %7.0f B    %-10llu %s%s\n",
               (unsigned long long)sizes[k], bench_fmt_time(per_conn[k], a, sizeof a),
               bench_fmt_time(per_exp, b, sizeof b), r.maxrss_kb / 1024.0, per_entry,
               (unsigned long long)r.segments,
               r.ok ? "ok" : "WRONG (TIME_WAIT count)", runs == 1 ? " (1 run)" : "");
        if (sizes[k] == 1000000 && r.maxrss_kb > 200 * 1024)
            mem_ok = false;
        if (sizes[k] == 10000000 && r.maxrss_kb > 1024 * 1024)
            mem_ok = false;
    }
    size_t last = nsizes - 1;
    double growth = per_conn[0] > 0 ? per_conn[last] / per_conn[0] : 0;
    char target[96];
    snprintf(target, sizeof target, "<= 1.5x growth; memory %s",
             o->quick ? "(quick: 10^6/10^7 not run)" : "10^6 < 200 MB, 10^7 <= 1 GiB");
    bench_row("2 TIME_WAIT scale", per_conn[last], per_conn[0],
              "per connection at the smallest size", growth, "largest/smallest",
              target, growth <= 1.5 && mem_ok);
}
