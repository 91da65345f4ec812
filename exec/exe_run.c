/*
 * exe_run.c - the launcher of `sockmodel exec`.
 *
 * Makes a FIFO in a private temporary directory, starts the program with
 * LD_PRELOAD naming the shim and SOCKMODEL_EXEC_FIFO naming the FIFO, and
 * reads records until every process that holds the FIFO open is gone.
 * Processes that die without running their exit code (killed by a signal)
 * are noticed through a pidfd per process and given an exit record at the
 * time the launcher saw them go.  The program's stdin, stdout and stderr
 * are its own; nothing here writes to them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <dirent.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "exe_run.h"

#ifndef SM_PRELOAD_BUILD
#define SM_PRELOAD_BUILD ""
#endif
#ifndef SM_PRELOAD_INSTALLED
#define SM_PRELOAD_INSTALLED ""
#endif
#ifndef SM_BUILD_DIR
#define SM_BUILD_DIR ""
#endif

const char *exe_preload_path(void)
{
    const char *env = getenv("SOCKMODEL_PRELOAD");
    if (env && *env)
        return env;
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = 0;
        size_t bl = strlen(SM_BUILD_DIR);
        if (bl && strncmp(self, SM_BUILD_DIR, bl) == 0 &&
            access(SM_PRELOAD_BUILD, R_OK) == 0)
            return SM_PRELOAD_BUILD;
    }
    return SM_PRELOAD_INSTALLED;
}

typedef struct watched {
    int pidfd;
    uint32_t pid;
    bool exited;
} watched;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int pidfd_of(pid_t pid)
{
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, pid, 0);
#else
    (void)pid;
    return -1;
#endif
}

typedef struct reader {
    obs_log *log;
    watched *w;
    size_t nw, capw;
    char buf[sizeof(obs_wire) * 64];
    size_t have;
    uint32_t seq;
    bool oom;
} reader;

static void watch(reader *r, uint32_t pid)
{
    for (size_t i = 0; i < r->nw; i++)
        if (r->w[i].pid == pid) {
            if (r->w[i].exited) { /* pid reused, or exec after exit */
                r->w[i].exited = false;
            }
            return;
        }
    if (r->nw == r->capw) {
        size_t c = r->capw ? 2 * r->capw : 16;
        watched *n = realloc(r->w, c * sizeof *n);
        if (!n) {
            r->oom = true;
            return;
        }
        r->w = n;
        r->capw = c;
    }
    r->w[r->nw++] = (watched){pidfd_of((pid_t)pid), pid, false};
}

static void take(reader *r, const obs_wire *w)
{
    if (w->magic != OBS_WIRE_MAGIC)
        return;
    if (w->call == OBS_START || w->call == OBS_FORK)
        watch(r, w->pid);
    if (w->call == OBS_EXIT)
        for (size_t i = 0; i < r->nw; i++)
            if (r->w[i].pid == w->pid)
                r->w[i].exited = true;
    if (!obs_log_add(r->log, w, ++r->seq))
        r->oom = true;
}

/* Reads what is there; returns false at end of file. */
static bool drain(reader *r, int fd)
{
    for (;;) {
        ssize_t n = read(fd, r->buf + r->have, sizeof r->buf - r->have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return true; /* EAGAIN */
        if (n == 0)
            return false;
        r->have += (size_t)n;
        size_t off = 0;
        while (r->have - off >= sizeof(obs_wire)) {
            obs_wire w;
            memcpy(&w, r->buf + off, sizeof w);
            take(r, &w);
            off += sizeof w;
        }
        memmove(r->buf, r->buf + off, r->have - off);
        r->have -= off;
    }
}

/* No watched process is left (one without a pidfd counts as gone). */
static bool all_reaped(const reader *r)
{
    for (size_t i = 0; i < r->nw; i++)
        if (r->w[i].pidfd >= 0)
            return false;
    return true;
}

/* A watched process is gone: if it said nothing, it was killed. */
static void reap(reader *r, size_t i)
{
    watched *w = &r->w[i];
    if (w->pidfd >= 0) {
        close(w->pidfd);
        w->pidfd = -1;
    }
    if (w->exited)
        return;
    w->exited = true;
    obs_wire x;
    memset(&x, 0, sizeof x);
    x.magic = OBS_WIRE_MAGIC;
    x.call = OBS_EXIT;
    x.pid = x.tid = w->pid;
    x.fd = -1;
    x.a1 = -1;
    x.t_ns = now_ns();
    take(r, &x);
}

/* Every process's ring file: its complete records into the log; then the
 * files and the directory go. */
static void read_rings(reader *r, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, "ring.", 5) != 0)
            continue;
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        void *p = mmap(NULL, OBS_RING_BYTES, PROT_READ, MAP_SHARED, fd, 0);
        close(fd);
        if (p != MAP_FAILED) {
            const obs_ring_head *h = p;
            const obs_wire *rec = (const obs_wire *)((const char *)p + sizeof(obs_wire));
            uint64_t n = h->count < OBS_RING_RECORDS ? h->count : OBS_RING_RECORDS;
            for (uint64_t i = 0; i < n; i++)
                if (rec[i].magic == OBS_WIRE_MAGIC)
                    take(r, &rec[i]);
            munmap(p, OBS_RING_BYTES);
        }
        unlink(path);
    }
    closedir(d);
}

int exe_run(const char *preload, char *const argv[], obs_log *log,
            int *status, char *why, size_t why_len)
{
    *status = 0;
    if (!preload || !*preload || access(preload, R_OK) != 0) {
        snprintf(why, why_len, "cannot find the preload library%s%s",
                 preload && *preload ? " " : "", preload ? preload : "");
        return -1;
    }
    /* tmpfs when there is one: the records' pages cost no disk blocks */
    char dir[64];
    snprintf(dir, sizeof dir, "/dev/shm/sockmodel-exec-XXXXXX");
    bool made = mkdtemp(dir) != NULL;
    if (!made) {
        snprintf(dir, sizeof dir, "/tmp/sockmodel-exec-XXXXXX");
        made = mkdtemp(dir) != NULL;
    }
    if (!made) {
        snprintf(why, why_len, "mkdtemp: %s", strerror(errno));
        return -1;
    }
    char fifo[sizeof dir + 16];
    snprintf(fifo, sizeof fifo, "%s/events", dir);
    if (mkfifo(fifo, 0600) != 0) {
        snprintf(why, why_len, "mkfifo: %s", strerror(errno));
        rmdir(dir);
        return -1;
    }
    int rfd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    int keep = open(fifo, O_WRONLY | O_CLOEXEC); /* no EOF before the child opens */
    int errp[2];
    if (rfd < 0 || keep < 0 || pipe2(errp, O_CLOEXEC) != 0) {
        snprintf(why, why_len, "fifo: %s", strerror(errno));
        if (rfd >= 0)
            close(rfd);
        if (keep >= 0)
            close(keep);
        unlink(fifo);
        rmdir(dir);
        return -1;
    }
    /* LD_PRELOAD: the shim first, then whatever the user preloads. */
    const char *old = getenv("LD_PRELOAD");
    size_t pl = strlen(preload) + (old ? strlen(old) + 1 : 0) + 1;
    char *pre = malloc(pl);
    if (!pre) {
        snprintf(why, why_len, "out of memory");
        return -1;
    }
    snprintf(pre, pl, "%s%s%s", preload, old && *old ? ":" : "",
             old && *old ? old : "");
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(why, why_len, "fork: %s", strerror(errno));
        free(pre);
        return -1;
    }
    if (pid == 0) {
        setenv("LD_PRELOAD", pre, 1);
        setenv(OBS_ENV_PRELOAD, preload, 1);
        setenv(OBS_ENV_FIFO, fifo, 1);
        execvp(argv[0], argv);
        int e = errno;
        ssize_t wr = write(errp[1], &e, sizeof e);
        (void)wr;
        _exit(127);
    }
    free(pre);
    close(errp[1]);
    int child_err = 0;
    ssize_t got;
    while ((got = read(errp[0], &child_err, sizeof child_err)) < 0 && errno == EINTR)
        ;
    close(errp[0]);
    if (got == (ssize_t)sizeof child_err) {
        waitpid(pid, status, 0);
        snprintf(why, why_len, "%s: %s", argv[0], strerror(child_err));
        close(rfd);
        close(keep);
        unlink(fifo);
        rmdir(dir);
        return -1;
    }
    reader r;
    memset(&r, 0, sizeof r);
    r.log = log;
    bool child_done = false, eof = false;
    /* Until every observed process is gone: the end of the FIFO (no
     * process holds it) and every watched process reaped (a process that
     * closed the shim's descriptor writes through a FIFO it opens for the
     * record). */
    while (!eof || !all_reaped(&r)) {
        size_t np = 1 + r.nw;
        struct pollfd *pf = calloc(np, sizeof *pf);
        if (!pf) {
            r.oom = true;
            break;
        }
        pf[0] = (struct pollfd){eof ? -1 : rfd, POLLIN, 0};
        for (size_t i = 0; i < r.nw; i++)
            pf[1 + i] = (struct pollfd){r.w[i].pidfd, POLLIN, 0};
        int n = poll(pf, np, child_done ? 100 : 50);
        if (n < 0 && errno != EINTR) {
            free(pf);
            break;
        }
        if (!drain(&r, rfd) && child_done)
            eof = true;
        for (size_t i = 0; i < r.nw && i + 1 < np; i++)
            if (pf[1 + i].fd >= 0 && (pf[1 + i].revents & (POLLIN | POLLHUP)))
                reap(&r, i);
        free(pf);
        if (!child_done && waitpid(pid, status, WNOHANG) == pid) {
            child_done = true;
            close(keep); /* from now on, EOF when the last writer is gone */
            keep = -1;
        }
    }
    for (size_t i = 0; i < r.nw; i++)
        if (r.w[i].pidfd >= 0)
            reap(&r, i);
    if (!child_done)
        waitpid(pid, status, 0);
    if (keep >= 0)
        close(keep);
    drain(&r, rfd);
    close(rfd);
    read_rings(&r, dir);
    unlink(fifo);
    rmdir(dir);
    free(r.w);
    if (r.oom) {
        snprintf(why, why_len, "out of memory");
        return -1;
    }
    return 0;
}
