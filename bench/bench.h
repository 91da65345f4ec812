/*
 * bench.h - shared helpers of the sockmodel benchmarks (bench/).
 *
 * The benchmarks are a separate program, not part of the model: unlike the
 * model they read the real clock (CLOCK_MONOTONIC) and, for the kernel
 * baseline, make real system calls.  This header gives them a clock, a
 * median, a deterministic random stream and one way to print a result row.
 */
#ifndef SM_BENCH_H
#define SM_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sm.h"

/* Options of one benchmark run (from the command line). */
typedef struct bench_opts {
    int runs;            /* timed runs per measurement (>= 5); median is shown */
    bool quick;          /* smaller sizes, for a smoke test of the script */
    const char *only;    /* run only the benchmark of that name, or NULL */
    bool model_only;     /* skip the kernel baseline (for profiling the model) */
    uint64_t tw_size;    /* benchmark 2: only this size, in this process (0: all) */
} bench_opts;

/* Seconds on CLOCK_MONOTONIC. */
double bench_now(void);

/* Seconds of CPU time used by this process (user + system), from
 * CLOCK_PROCESS_CPUTIME_ID: shown next to wall times, because on a busy
 * machine wall time also counts the time spent waiting for a CPU. */
double bench_cpu_now(void);

/* Median of n values (n >= 1); reorders v. */
double bench_median(double *v, size_t n);

/* splitmix64: the benchmarks' own deterministic random stream. */
uint64_t bench_rand(uint64_t *state);

/* "12.3 ms", "45 ns" ... into buf (>= 32 bytes); returns buf. */
const char *bench_fmt_time(double seconds, char *buf, size_t n);

/* One result row: name, model median, baseline median (and what it is),
 * ratio (baseline / model, or as given), target and whether it was met. */
void bench_row(const char *name, double model_s, double base_s,
               const char *base_what, double ratio, const char *ratio_what,
               const char *target, bool met);
/* A row for a benchmark that does not run: name and why. */
void bench_row_skip(const char *name, const char *why);

/* A world of the given profile with host "local" holding the scenario
 * language's standard addresses (127.0.0.1, ::1, 192.0.2.1, 192.0.2.2,
 * 2001:db8::1, 2001:db8::2) and any extra ones given (NULL-terminated). */
sm_world *bench_world(const sm_profile *p, const char *const *extra_addrs);
/* Parse a literal address or endpoint known to be valid (aborts if not). */
sm_addr bench_addr(const char *s);

/* The benchmarks (bench_*.c). */
void bench_churn(const bench_opts *o);
size_t bench_churn_write_scenario(const char *path, size_t n);
const char *bench_churn_kernel_once(size_t n, double *wall, double *cpu, char *why, size_t wn);
void bench_timewait(const bench_opts *o);
void bench_matrix(const bench_opts *o);
void bench_replay(const bench_opts *o);
void bench_scale(const bench_opts *o);

#endif
