/*
 * bench_main.c - the sockmodel benchmark program: machine banner, the
 * shared helpers of bench.h, and the order in which benchmarks run.
 *
 * Usage: sockmodel-bench [--runs N] [--quick] [--model-only] [--only NAME]
 *   NAME: churn, timewait, matrix, replay, scale; --model-only skips the
 *   kernel baseline (to profile the model alone).
 * Every figure printed is the median of N (default 5, at least 5) timed
 * runs, each after one untimed warm-up run.
 */
#define _GNU_SOURCE
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double bench_cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double bench_median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

uint64_t bench_rand(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

const char *bench_fmt_time(double s, char *buf, size_t n)
{
    if (s < 0)
        snprintf(buf, n, "-");
    else if (s < 1e-6)
        snprintf(buf, n, "%.1f ns", s * 1e9);
    else if (s < 1e-3)
        snprintf(buf, n, "%.2f us", s * 1e6);
    else if (s < 1)
        snprintf(buf, n, "%.2f ms", s * 1e3);
    else
        snprintf(buf, n, "%.3f s", s);
    return buf;
}

void bench_row(const char *name, double model_s, double base_s,
               const char *base_what, double ratio, const char *ratio_what,
               const char *target, bool met)
{
    char m[32], b[32], r[48];
    snprintf(r, sizeof r, ratio < 10 ? "%.2f%s" : "%.1f%s", ratio, ratio_what);
    printf("%-34s %12s %12s %-16s %-14s %-12s %s\n", name,
           bench_fmt_time(model_s, m, sizeof m), bench_fmt_time(base_s, b, sizeof b),
           base_what, r, target, met ? "MET" : "MISSED");
    fflush(stdout);
}

void bench_row_skip(const char *name, const char *why)
{
    printf("%-34s %s\n", name, why);
    fflush(stdout);
}

sm_addr bench_addr(const char *s)
{
    sm_addr a;
    if (!sm_addr_parse(s, strlen(s), &a)) {
        fprintf(stderr, "bench: bad address literal %s\n", s);
        abort();
    }
    return a;
}

sm_world *bench_world(const sm_profile *p, const char *const *extra)
{
    static const char *const std_addrs[] = {"192.0.2.1", "192.0.2.2", "2001:db8::1",
                                            "2001:db8::2", NULL};
    sm_world *w = sm_world_new(p, 1);
    sm_id h = sm_host_add(w, "local");
    for (size_t i = 0; std_addrs[i]; i++) {
        sm_addr a = bench_addr(std_addrs[i]);
        sm_host_add_addr(w, h, &a);
    }
    for (size_t i = 0; extra && extra[i]; i++) {
        sm_addr a = bench_addr(extra[i]);
        sm_host_add_addr(w, h, &a);
    }
    return w;
}

/* ---- the machine banner ------------------------------------------------ */

static void cpu_model(char *buf, size_t n)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512];
    snprintf(buf, n, "unknown CPU");
    if (!f)
        return;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) == 0) {
            char *v = strchr(line, ':');
            if (v) {
                v++;
                while (*v == ' ' || *v == '\t')
                    v++;
                v[strcspn(v, "\n")] = '\0';
                snprintf(buf, n, "%s", v);
            }
            break;
        }
    }
    fclose(f);
}

static void banner(const bench_opts *o)
{
    char cpu[256];
    struct utsname u;
    cpu_model(cpu, sizeof cpu);
    if (uname(&u) != 0)
        memset(&u, 0, sizeof u);
    printf("sockmodel benchmarks\n");
    printf("machine:  nproc %ld, %s\n", sysconf(_SC_NPROCESSORS_ONLN), cpu);
    printf("kernel:   %s %s %s\n", u.sysname, u.release, u.machine);
    FILE *f = fopen("/proc/loadavg", "r");
    char load[128];
    if (f && fgets(load, sizeof load, f)) {
        load[strcspn(load, "\n")] = '\0';
        printf("load:     %s (/proc/loadavg at start: other work on the machine skews times)\n",
               load);
    }
    if (f)
        fclose(f);
#ifdef BENCH_CC
    printf("build:    %s\n", BENCH_CC);
#endif
    printf("profiles: %zu:", sm_profile_count());
    for (size_t i = 0; i < sm_profile_count(); i++)
        printf(" %s", sm_profile_name(sm_profile_at(i)));
    printf("\nmethod:   each figure is the median of %d timed runs (one warm-up run first),\n"
           "          timed with clock_gettime(CLOCK_MONOTONIC)%s\n\n",
           o->runs, o->quick ? "; --quick: reduced sizes" : "");
    printf("%-34s %12s %12s %-16s %-14s %-12s %s\n", "benchmark", "model", "baseline",
           "(baseline is)", "ratio", "target", "");
    fflush(stdout);
}

/* ---- main ---------------------------------------------------------------- */

static void usage(void)
{
    fputs("usage: sockmodel-bench [--runs N] [--quick] [--model-only] "
          "[--only churn|timewait|matrix|replay|scale] [--tw-size N]\n"
          "       sockmodel-bench --write-churn-scenario FILE [N]\n"
          "       sockmodel-bench --churn-kernel-once [N]\n",
          stderr);
    exit(2);
}

int main(int argc, char **argv)
{
    bench_opts o = {5, false, NULL, false, 0};
    if (argc >= 3 && strcmp(argv[1], "--write-churn-scenario") == 0) {
        /* benchmark 1's sequence as a scenario file, for the runner's figures */
        size_t n = argc > 3 ? strtoull(argv[3], NULL, 10) : 20000;
        size_t stmts = n ? bench_churn_write_scenario(argv[2], n) : 0;
        if (!stmts) {
            fprintf(stderr, "sockmodel-bench: cannot write %s\n", argv[2]);
            return 2;
        }
        printf("%zu\n", stmts);
        return 0;
    }
    if (argc >= 2 && strcmp(argv[1], "--churn-kernel-once") == 0) {
        /* one kernel run of that sequence: "WALL CPU" seconds (bench/user.sh) */
        size_t n = argc > 2 ? strtoull(argv[2], NULL, 10) : 20000;
        double wall = 0, cpu = 0;
        char why[256];
        const char *skip = n ? bench_churn_kernel_once(n, &wall, &cpu, why, sizeof why) : "N = 0";
        if (skip) {
            printf("skipped: %s\n", skip);
            return 1;
        }
        printf("%.6f %.6f\n", wall, cpu);
        return 0;
    }
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
            o.runs = atoi(argv[++i]);
            if (o.runs < 5) {
                fputs("sockmodel-bench: --runs must be at least 5\n", stderr);
                return 2;
            }
        } else if (strcmp(argv[i], "--model-only") == 0) {
            o.model_only = true;
        } else if (strcmp(argv[i], "--quick") == 0) {
            o.quick = true;
        } else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
            o.only = argv[++i];
        } else if (strcmp(argv[i], "--tw-size") == 0 && i + 1 < argc) {
            o.tw_size = strtoull(argv[++i], NULL, 10);
            if (o.tw_size == 0)
                usage();
        } else {
            usage();
        }
    }
    static const struct {
        const char *name;
        void (*fn)(const bench_opts *);
    } all[] = {
        {"churn", bench_churn},   {"timewait", bench_timewait}, {"matrix", bench_matrix},
        {"replay", bench_replay}, {"scale", bench_scale},
    };
    size_t n = sizeof all / sizeof all[0];
    if (o.only) {
        size_t i;
        for (i = 0; i < n; i++)
            if (strcmp(all[i].name, o.only) == 0)
                break;
        if (i == n)
            usage();
    }
    double t0 = bench_now();
    banner(&o);
    for (size_t i = 0; i < n; i++)
        if (!o.only || strcmp(all[i].name, o.only) == 0)
            all[i].fn(&o);
    printf("\ntotal benchmark time: %.1f s\n", bench_now() - t0);
    return 0;
}
