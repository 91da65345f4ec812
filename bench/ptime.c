/*
 * ptime.c - the process timer of bench/user.sh: runs a command and writes
 * what it cost as a whole process: its wall-clock time (CLOCK_MONOTONIC,
 * read just before the fork and just after the child is reaped), its CPU
 * time (user + system, from wait4's rusage, in microseconds) and its peak
 * resident size (ru_maxrss, KB).
 *
 * Why not date(1) around GNU time: that interval also held the end of one
 * date process, GNU time's own start and the start of the second date,
 * several milliseconds on the 2-vCPU machine of issue 21 (the bare libpcap
 * loop read 41 ms that way against 30 ms from perf stat), which pulled
 * every ratio toward 1 and counted against the short runs the most (a
 * replay of 2,000 connections takes about 7 ms).
 *
 *   ptime OUTFILE CMD [ARG...]
 *
 * OUTFILE gets one line, "WALL_S CPU_S MAXRSS_KB".  The command keeps
 * ptime's standard streams.  Exit status: the command's (128 + N when
 * signal N ended it); 127 when it could not be started, 2 for bad use.
 */
#define _DEFAULT_SOURCE /* wait4 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fputs("usage: ptime OUTFILE CMD [ARG...]\n", stderr);
        return 2;
    }
    FILE *out = fopen(argv[1], "w");
    if (!out) {
        fprintf(stderr, "ptime: %s: %s\n", argv[1], strerror(errno));
        return 2;
    }
    fflush(NULL);
    double t0 = now();
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "ptime: fork: %s\n", strerror(errno));
        return 2;
    }
    if (pid == 0) {
        execvp(argv[2], argv + 2);
        fprintf(stderr, "ptime: %s: %s\n", argv[2], strerror(errno));
        _exit(127);
    }
    int st;
    struct rusage ru;
    pid_t w;
    while ((w = wait4(pid, &st, 0, &ru)) < 0 && errno == EINTR)
        ;
    double t1 = now();
    if (w < 0) {
        fprintf(stderr, "ptime: wait4: %s\n", strerror(errno));
        return 2;
    }
    double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                 (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    fprintf(out, "%.6f %.6f %ld\n", t1 - t0, cpu, (long)ru.ru_maxrss);
    if (fclose(out) != 0) {
        fprintf(stderr, "ptime: %s: %s\n", argv[1], strerror(errno));
        return 2;
    }
    if (WIFSIGNALED(st))
        return 128 + WTERMSIG(st);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 2;
}
