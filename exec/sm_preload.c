/*
 * sm_preload.c - the LD_PRELOAD shim of `sockmodel exec`.
 *
 * Loaded into every process of the observed program, it wraps the socket
 * calls (dlsym(RTLD_NEXT, ...)), lets the real call run, and writes one
 * fixed-size record (observe/obs_wire.h) per call on an INET socket to the
 * FIFO named by SOCKMODEL_EXEC_FIFO.  It never changes what the program
 * sees: every wrapper returns what the real call returned, with its errno.
 * No model work happens here; the launcher mirrors the records afterwards.
 *
 * Its own descriptor (the FIFO) sits high (F_DUPFD_CLOEXEC, fd 1023) and
 * belongs to the program like any other: a close(), close_range() or
 * dup2() onto it does what the kernel does, and the shim then opens the
 * FIFO only around its rare writes.  The records' mapping holds no
 * descriptor.  After an exec the FIFO is reopened by path (the exec
 * wrappers keep the shim's variables in the new environment).
 * Processes: a fork is reported from the child (pthread_atfork); a new
 * image (exec, posix_spawn, vfork+exec) reports itself from the
 * constructor with its parent pid; exit from the destructor and _exit.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "obs_wire.h"

#define EXPORT __attribute__((visibility("default")))
#define NFD 65536

/* What the shim knows of each descriptor: 0 not an INET socket we track,
 * else 1 + (TCP 0 / UDP 1) * 2 + (v6 ? 1 : 0). */
static uint8_t sock_of[NFD];
static int out_fd = -1;     /* the FIFO, or -1 when the program took its number */
static bool active;          /* the shim observes this process */
static char fifo_path[4096]; /* the shim's variables, kept: the program may */
static char preload_path[4096]; /* clear its environment */
static pid_t my_pid;
static __thread pid_t my_tid;

static ssize_t (*r_write)(int, const void *, size_t);
static int (*r_close)(int);

static void *next_sym(const char *name)
{
    return dlsym(RTLD_NEXT, name);
}
#define REAL(type, name, args)                                                 \
    static type(*r_##name) args;                                               \
    if (!r_##name)                                                             \
        r_##name = (type(*) args)next_sym(#name)

static bool tracked(int fd)
{
    return active && fd >= 0 && fd < NFD && sock_of[fd];
}

static void put_addr(obs_wire_addr *o, const struct sockaddr *sa, socklen_t len)
{
    if (!sa)
        return;
    if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *s = (const struct sockaddr_in *)sa;
        o->family = 4;
        o->port = ntohs(s->sin_port);
        memcpy(o->b, &s->sin_addr, 4);
    } else if (sa->sa_family == AF_INET6 &&
               len >= (socklen_t)sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)sa;
        o->family = 6;
        o->port = ntohs(s->sin6_port);
        memcpy(o->b, &s->sin6_addr, 16);
    }
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A record stamped now: for calls that observe (socket, connect, accept,
 * recv), whose result exists when they return.  Calls that act on others
 * (send, shutdown, close, bind, listen, options) are restamped with the
 * time they started (T0 below), so that a peer's recv of the bytes always
 * comes after the send that carried them. */
static void rec_init(obs_wire *r, int call, int fd)
{
    memset(r, 0, sizeof *r);
    r->magic = OBS_WIRE_MAGIC;
    r->call = (uint8_t)call;
    r->fd = fd;
    r->pid = (uint32_t)my_pid;
    if (!my_tid)
        my_tid = (pid_t)syscall(SYS_gettid);
    r->tid = (uint32_t)my_tid;
    r->t_ns = now_ns();
}

#define T0(fd) uint64_t t0 = tracked(fd) ? now_ns() : 0

/* The hot path: records go into a shared file mapping of this process's
 * own (no system call per record; the records survive the process being
 * killed, and no descriptor of ours stays open in it).  The FIFO carries
 * the rare records (start, fork, exit: the launcher watches processes by
 * them) and anything that does not fit the mapping. */
static obs_ring_head *ring;
static obs_wire *ring_rec;

static void ring_open(void)
{
    ring = NULL;
    const char *fifo = fifo_path;
    if (!*fifo)
        return;
    const char *slash = strrchr(fifo, '/');
    if (!slash)
        return;
    char path[4200];
    for (int k = 0; k < 1000; k++) {
        snprintf(path, sizeof path, "%.*s/ring.%d.%d", (int)(slash - fifo), fifo,
                 (int)my_pid, k);
        int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0) {
            if (errno == EEXIST)
                continue;
            return;
        }
        void *p = MAP_FAILED;
        if (ftruncate(fd, (off_t)OBS_RING_BYTES) == 0)
            p = mmap(NULL, OBS_RING_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (!r_close)
            r_close = (int (*)(int))next_sym("close");
        r_close(fd);
        if (p == MAP_FAILED)
            return;
        ring = p;
        ring_rec = (obs_wire *)((char *)p + sizeof(obs_wire));
        return;
    }
}

/* The FIFO for one record, when the program closed ours or took its
 * number (dup2 onto it): opened and closed around the write, so the shim
 * holds no descriptor the program could meet.  Never blocks: with the
 * launcher gone the record is dropped. */
static int fifo_once(void)
{
    int fd = open(fifo_path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd >= 0) {
        REAL(int, fcntl, (int, int, ...));
        r_fcntl(fd, F_SETFL, 0);
    }
    return fd;
}

static void emit(obs_wire *r, long long ret, int err)
{
    if (!active)
        return;
    r->ret = ret;
    r->err = ret < 0 ? err : 0;
    bool rare = r->call == OBS_START || r->call == OBS_FORK || r->call == OBS_EXIT;
    if (ring && !rare) {
        uint64_t i = __atomic_fetch_add(&ring->count, 1, __ATOMIC_RELAXED);
        if (i < OBS_RING_RECORDS) {
            uint32_t magic = r->magic;
            r->magic = 0;
            memcpy(&ring_rec[i], r, sizeof *r);
            __atomic_store_n(&ring_rec[i].magic, magic, __ATOMIC_RELEASE);
            r->magic = magic;
            return;
        }
    }
    int saved = errno;
    if (!r_write)
        r_write = (ssize_t(*)(int, const void *, size_t))next_sym("write");
    if (!r_close)
        r_close = (int (*)(int))next_sym("close");
    int fd = out_fd >= 0 ? out_fd : fifo_once();
    /* A write of less than PIPE_BUF into a FIFO is atomic. */
    while (fd >= 0 && r_write(fd, r, sizeof *r) < 0 && errno == EINTR)
        ;
    if (fd >= 0 && fd != out_fd)
        r_close(fd);
    errno = saved;
}

static void note_socket(int fd, int domain, int type)
{
    if (fd < 0 || fd >= NFD)
        return;
    int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
    if ((domain != AF_INET && domain != AF_INET6) ||
        (base != SOCK_STREAM && base != SOCK_DGRAM)) {
        sock_of[fd] = 0;
        return;
    }
    sock_of[fd] = (uint8_t)(1 + (base == SOCK_DGRAM ? 2 : 0) +
                            (domain == AF_INET6 ? 1 : 0));
}

/* Learns which inherited descriptors are INET sockets (after an exec). */
static void scan_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return;
    int dfd = dirfd(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        int fd = atoi(e->d_name);
        if (e->d_name[0] < '0' || e->d_name[0] > '9' || fd == dfd ||
            fd >= NFD || fd == out_fd)
            continue;
        struct stat st;
        if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode))
            continue;
        int dom = 0, type = 0;
        socklen_t l = sizeof dom;
        if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &l) != 0)
            continue;
        l = sizeof type;
        if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &l) != 0)
            continue;
        note_socket(fd, dom, type);
    }
    closedir(d);
}

/* The FIFO stays open in every observed process (the launcher's end of
 * file means no observed process is left), at the top of the first 1024
 * descriptors (the soft limit's last one when lower): far from the low
 * numbers programs get, below the numbers programs that raise the limit
 * pick, and without growing the descriptor table. */
static void open_out(void)
{
    const char *path = getenv(OBS_ENV_FIFO), *pre = getenv(OBS_ENV_PRELOAD);
    if (!path || !*path || !pre || strlen(path) >= sizeof fifo_path ||
        strlen(pre) >= sizeof preload_path)
        return;
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    strcpy(fifo_path, path);
    strcpy(preload_path, pre);
    active = true;
    struct rlimit rl;
    int want = 1023;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 1024)
        want = (int)rl.rlim_cur - 1;
    if (want < 3)
        want = 3;
    int hi = fcntl(fd, F_DUPFD_CLOEXEC, want);
    if (hi >= 0) {
        if (!r_close)
            r_close = (int (*)(int))next_sym("close");
        r_close(fd);
        fd = hi;
    }
    out_fd = fd;
}

/* The program sees the environment it would have without the shim: the
 * shim's two variables go, and LD_PRELOAD loses the shim's entry (the
 * shim keeps copies; every exec puts them back into the new image's
 * environment, whose shim hides them again). */
static void hide_env(void)
{
    unsetenv(OBS_ENV_FIFO);
    unsetenv(OBS_ENV_PRELOAD);
    const char *lp = getenv("LD_PRELOAD");
    size_t n = strlen(preload_path);
    if (!lp || strncmp(lp, preload_path, n) != 0 || (lp[n] && lp[n] != ':' && lp[n] != ' '))
        return;
    const char *rest = lp[n] ? lp + n + 1 : "";
    if (!*rest) {
        unsetenv("LD_PRELOAD");
        return;
    }
    char keep[8192];
    snprintf(keep, sizeof keep, "%s", rest);
    setenv("LD_PRELOAD", keep, 1);
}

/* The fork is stamped when the parent called it: the parent's calls after
 * fork() (closing its copy of a connection) come after it. */
static uint64_t fork_t0;

static void at_fork_prepare(void)
{
    fork_t0 = now_ns();
}

static void at_fork_child(void)
{
    pid_t parent = my_pid;
    my_pid = getpid();
    my_tid = 0;
    int saved = errno;
    ring_open(); /* the parent's mapping is the parent's */
    errno = saved;
    obs_wire r;
    rec_init(&r, OBS_FORK, -1);
    r.t_ns = fork_t0;
    r.a1 = parent;
    r.a2 = geteuid();
    r.a3 = 1;
    emit(&r, 0, 0);
}

static int exited;

static void report_exit(int status)
{
    if (exited || !active || getpid() != my_pid)
        return;
    exited = 1;
    obs_wire r;
    rec_init(&r, OBS_EXIT, -1);
    r.a1 = status;
    emit(&r, 0, 0);
}

__attribute__((constructor)) static void shim_init(void)
{
    int saved = errno;
    my_pid = getpid();
    open_out();
    if (!active) {
        errno = saved;
        return;
    }
    hide_env();
    scan_fds();
    ring_open();
    pthread_atfork(at_fork_prepare, NULL, at_fork_child);
    obs_wire r;
    rec_init(&r, OBS_START, -1);
    r.a1 = getppid();
    r.a2 = geteuid();
    r.a3 = 1;
    const char *nm = program_invocation_short_name;
    if (nm)
        strncpy(r.name, nm, sizeof r.name - 1);
    emit(&r, 0, 0);
    errno = saved;
}

__attribute__((destructor)) static void shim_fini(void)
{
    report_exit(0);
}

/* ---- process calls ------------------------------------------------------ */

EXPORT void _exit(int status)
{
    report_exit(status);
    syscall(SYS_exit_group, status);
    for (;;)
        ;
}

EXPORT void _Exit(int status)
{
    _exit(status);
}

/* ---- new images --------------------------------------------------------
 * Every way of starting a program keeps the shim's two variables in the
 * new image's environment, even when the program dropped them (a daemon
 * that clears its environment, an execvp after unsetenv("LD_PRELOAD")):
 * glibc's execvp, execl*, system and popen reach the kernel without going
 * through execve's symbol, so each is wrapped.  The program's own
 * LD_PRELOAD entries are kept after ours. */

static char fix_fbuf[4200], fix_sbuf[4200], fix_pbuf[8400];

/* envp itself when it carries both variables, else a new array (to free)
 * that does; NULL envp is an empty environment. */
static char *const *env_fix(char *const *envp, char ***to_free)
{
    *to_free = NULL;
    const char *fifo = fifo_path, *pre = preload_path;
    if (!active)
        return envp;
    static char *const empty[] = {NULL};
    if (!envp)
        envp = empty;
    size_t n = 0;
    const char *their_pre = NULL;
    bool has_fifo = false, has_shim = false, has_pre = false;
    for (; envp[n]; n++) {
        if (strncmp(envp[n], OBS_ENV_FIFO "=", sizeof OBS_ENV_FIFO) == 0)
            has_fifo = true;
        if (strncmp(envp[n], OBS_ENV_PRELOAD "=", sizeof OBS_ENV_PRELOAD) == 0)
            has_shim = true;
        if (strncmp(envp[n], "LD_PRELOAD=", 11) == 0) {
            their_pre = envp[n] + 11;
            has_pre = strstr(their_pre, pre) != NULL;
        }
    }
    if (has_fifo && has_shim && has_pre)
        return envp;
    char **env = malloc((n + 4) * sizeof *env);
    if (!env)
        return envp;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (has_pre || strncmp(envp[i], "LD_PRELOAD=", 11) != 0)
            env[k++] = envp[i];
    if (!has_fifo) {
        snprintf(fix_fbuf, sizeof fix_fbuf, "%s=%s", OBS_ENV_FIFO, fifo);
        env[k++] = fix_fbuf;
    }
    if (!has_shim) {
        snprintf(fix_sbuf, sizeof fix_sbuf, "%s=%s", OBS_ENV_PRELOAD, pre);
        env[k++] = fix_sbuf;
    }
    if (!has_pre) {
        snprintf(fix_pbuf, sizeof fix_pbuf, "LD_PRELOAD=%s%s%s", pre,
                 their_pre && *their_pre ? ":" : "", their_pre ? their_pre : "");
        env[k++] = fix_pbuf;
    }
    env[k] = NULL;
    *to_free = env;
    return env;
}

static void free_keep_errno(void *p)
{
    int e = errno;
    free(p);
    errno = e;
}

EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
    REAL(int, execve, (const char *, char *const[], char *const[]));
    char **mine;
    int rc = r_execve(path, argv, env_fix(envp, &mine));
    free_keep_errno(mine);
    return rc;
}

EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
    REAL(int, execvpe, (const char *, char *const[], char *const[]));
    char **mine;
    int rc = r_execvpe(file, argv, env_fix(envp, &mine));
    free_keep_errno(mine);
    return rc;
}

EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
    REAL(int, fexecve, (int, char *const[], char *const[]));
    char **mine;
    int rc = r_fexecve(fd, argv, env_fix(envp, &mine));
    free_keep_errno(mine);
    return rc;
}

EXPORT int execv(const char *path, char *const argv[])
{
    return execve(path, argv, environ);
}

EXPORT int execvp(const char *file, char *const argv[])
{
    return execvpe(file, argv, environ);
}

/* execl, execle, execlp: how many arguments follow the first, up to the
 * NULL (execle's envp comes after it). */
static size_t list_count(va_list ap)
{
    size_t n = 0;
    va_list c;
    va_copy(c, ap);
    while (va_arg(c, char *))
        n++;
    va_end(c);
    return n;
}

#define LIST_ARGV(first, ap, argv)                                             \
    size_t n_ = list_count(ap);                                                \
    char *argv[n_ + 2];                                                        \
    argv[0] = (char *)(first);                                                 \
    for (size_t i_ = 1; i_ <= n_ + 1; i_++)                                    \
        argv[i_] = va_arg(ap, char *)

EXPORT int execl(const char *path, const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    LIST_ARGV(arg, ap, argv);
    va_end(ap);
    return execve(path, argv, environ);
}

EXPORT int execlp(const char *file, const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    LIST_ARGV(arg, ap, argv);
    va_end(ap);
    return execvpe(file, argv, environ);
}

EXPORT int execle(const char *path, const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    LIST_ARGV(arg, ap, argv);
    char *const *envp = va_arg(ap, char *const *);
    va_end(ap);
    return execve(path, argv, envp);
}

EXPORT int posix_spawn(pid_t *pid, const char *path,
                       const posix_spawn_file_actions_t *fa,
                       const posix_spawnattr_t *attr, char *const argv[],
                       char *const envp[])
{
    REAL(int, posix_spawn,
         (pid_t *, const char *, const posix_spawn_file_actions_t *,
          const posix_spawnattr_t *, char *const[], char *const[]));
    char **mine;
    int rc = r_posix_spawn(pid, path, fa, attr, argv, env_fix(envp, &mine));
    free_keep_errno(mine);
    return rc;
}

EXPORT int posix_spawnp(pid_t *pid, const char *file,
                        const posix_spawn_file_actions_t *fa,
                        const posix_spawnattr_t *attr, char *const argv[],
                        char *const envp[])
{
    REAL(int, posix_spawnp,
         (pid_t *, const char *, const posix_spawn_file_actions_t *,
          const posix_spawnattr_t *, char *const[], char *const[]));
    char **mine;
    int rc = r_posix_spawnp(pid, file, fa, attr, argv, env_fix(envp, &mine));
    free_keep_errno(mine);
    return rc;
}

/* system() and popen() start /bin/sh with `environ`: when it lacks the
 * variables, environ points at a fixed copy for the length of the call
 * (the program's own strings are not touched; another thread's getenv
 * during the call may see the two extra variables). */
EXPORT int system(const char *cmd)
{
    REAL(int, system, (const char *));
    char **mine;
    char **saved = environ;
    char *const *env = env_fix(environ, &mine);
    if (mine)
        environ = (char **)env;
    int rc = r_system(cmd);
    if (mine) {
        environ = saved;
        free_keep_errno(mine);
    }
    return rc;
}

EXPORT FILE *popen(const char *cmd, const char *type)
{
    REAL(FILE *, popen, (const char *, const char *));
    char **mine;
    char **saved = environ;
    char *const *env = env_fix(environ, &mine);
    if (mine)
        environ = (char **)env;
    FILE *f = r_popen(cmd, type);
    if (mine) {
        environ = saved;
        free_keep_errno(mine);
    }
    return f;
}

/* ---- socket calls ------------------------------------------------------- */

EXPORT int socket(int domain, int type, int protocol)
{
    REAL(int, socket, (int, int, int));
    int fd = r_socket(domain, type, protocol);
    int e = errno;
    if (!active || (domain != AF_INET && domain != AF_INET6))
        return fd;
    note_socket(fd, domain, type);
    if (fd >= 0 && !tracked(fd)) {
        errno = e;
        return fd;
    }
    obs_wire r;
    rec_init(&r, OBS_SOCKET, fd);
    r.a1 = domain;
    r.a2 = type;
    r.a3 = protocol;
    emit(&r, fd, e);
    errno = e;
    return fd;
}

EXPORT int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
    REAL(int, setsockopt, (int, int, int, const void *, socklen_t));
    T0(fd);
    int rc = r_setsockopt(fd, level, name, val, len);
    int e = errno;
    if (tracked(fd)) {
        obs_wire r;
        rec_init(&r, OBS_SETSOCKOPT, fd);
        r.t_ns = t0;
        r.a1 = level;
        r.a2 = name;
        if (level == SOL_SOCKET && name == SO_LINGER && val &&
            len >= (socklen_t)sizeof(struct linger)) {
            const struct linger *l = val;
            r.a3 = l->l_onoff;
            r.a4 = l->l_linger;
        } else if (val && len >= (socklen_t)sizeof(int)) {
            int v;
            memcpy(&v, val, sizeof v);
            r.a3 = v;
        } else if (val && len == 1) {
            r.a3 = *(const unsigned char *)val;
        }
        emit(&r, rc, e);
    }
    errno = e;
    return rc;
}

EXPORT int getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
    REAL(int, getsockopt, (int, int, int, void *, socklen_t *));
    int rc = r_getsockopt(fd, level, name, val, len);
    int e = errno;
    if (tracked(fd)) {
        obs_wire r;
        rec_init(&r, OBS_GETSOCKOPT, fd);
        r.a1 = level;
        r.a2 = name;
        if (rc == 0 && val && len && level == SOL_SOCKET && name == SO_LINGER &&
            *len >= (socklen_t)sizeof(struct linger)) {
            const struct linger *l = val;
            r.a3 = l->l_onoff;
            r.a4 = l->l_linger;
        } else if (rc == 0 && val && len && *len >= (socklen_t)sizeof(int)) {
            int v;
            memcpy(&v, val, sizeof v);
            r.a3 = v;
        }
        emit(&r, rc, e);
    }
    errno = e;
    return rc;
}

EXPORT int bind(int fd, const struct sockaddr *sa, socklen_t len)
{
    REAL(int, bind, (int, const struct sockaddr *, socklen_t));
    T0(fd);
    int rc = r_bind(fd, sa, len);
    int e = errno;
    if (tracked(fd)) {
        obs_wire r;
        rec_init(&r, OBS_BIND, fd);
        r.t_ns = t0;
        put_addr(&r.addr_a, sa, len);
        if (rc == 0 && r.addr_a.family && !r.addr_a.port) {
            /* port 0: the port the kernel picked (still 0 when the port
             * waits for connect, IP_BIND_ADDRESS_NO_PORT) */
            struct sockaddr_storage ss;
            socklen_t l = sizeof ss;
            if (getsockname(fd, (struct sockaddr *)&ss, &l) == 0)
                put_addr(&r.addr_b, (struct sockaddr *)&ss, l);
        }
        emit(&r, rc, e);
    }
    errno = e;
    return rc;
}

EXPORT int listen(int fd, int backlog)
{
    REAL(int, listen, (int, int));
    T0(fd);
    int rc = r_listen(fd, backlog);
    int e = errno;
    if (tracked(fd)) {
        obs_wire r;
        rec_init(&r, OBS_LISTEN, fd);
        r.t_ns = t0;
        r.a1 = backlog;
        emit(&r, rc, e);
    }
    errno = e;
    return rc;
}

EXPORT int connect(int fd, const struct sockaddr *sa, socklen_t len)
{
    REAL(int, connect, (int, const struct sockaddr *, socklen_t));
    int rc = r_connect(fd, sa, len);
    int e = errno;
    if (tracked(fd)) {
        obs_wire r;
        rec_init(&r, OBS_CONNECT, fd);
        put_addr(&r.addr_b, sa, len);
        if (rc == 0 || e == EINPROGRESS) {
            struct sockaddr_storage ss;
            socklen_t l = sizeof ss;
            if (getsockname(fd, (struct sockaddr *)&ss, &l) == 0)
                put_addr(&r.addr_a, (struct sockaddr *)&ss, l);
        }
        emit(&r, rc, e);
    }
    errno = e;
    return rc;
}

static int after_accept(int lfd, int fd, int e, struct sockaddr *sa,
                        socklen_t *len, int flags, int variant)
{
    if (!tracked(lfd))
        return fd;
    if (fd < 0 && (e == EAGAIN || e == EINTR))
        return fd;
    if (fd >= 0 && fd < NFD)
        sock_of[fd] = sock_of[lfd];
    obs_wire r;
    rec_init(&r, OBS_ACCEPT, lfd);
    r.variant = (uint8_t)variant;
    r.a1 = flags;
    if (fd >= 0) {
        struct sockaddr_storage ss;
        socklen_t l = sizeof ss;
        if (getsockname(fd, (struct sockaddr *)&ss, &l) == 0)
            put_addr(&r.addr_a, (struct sockaddr *)&ss, l);
        if (sa && len)
            put_addr(&r.addr_b, sa, *len);
        else {
            l = sizeof ss;
            if (getpeername(fd, (struct sockaddr *)&ss, &l) == 0)
                put_addr(&r.addr_b, (struct sockaddr *)&ss, l);
        }
    }
    emit(&r, fd, e);
    errno = e;
    return fd;
}

EXPORT int accept(int fd, struct sockaddr *sa, socklen_t *len)
{
    REAL(int, accept, (int, struct sockaddr *, socklen_t *));
    int rc = r_accept(fd, sa, len);
    return after_accept(fd, rc, errno, sa, len, 0, OBSV_DEFAULT);
}

EXPORT int accept4(int fd, struct sockaddr *sa, socklen_t *len, int flags)
{
    REAL(int, accept4, (int, struct sockaddr *, socklen_t *, int));
    int rc = r_accept4(fd, sa, len, flags);
    return after_accept(fd, rc, errno, sa, len, flags, OBSV_ACCEPT4);
}

EXPORT int close(int fd)
{
    if (!r_close)
        r_close = (int (*)(int))next_sym("close");
    if (fd == out_fd && out_fd >= 0)
        out_fd = -1; /* the program closes "every descriptor": ours goes */
    bool t = tracked(fd);
    uint64_t t0 = t ? now_ns() : 0;
    int rc = r_close(fd);
    int e = errno;
    if (t) {
        sock_of[fd] = 0;
        obs_wire r;
        rec_init(&r, OBS_CLOSE, fd);
        r.t_ns = t0;
        emit(&r, rc, e);
    }
    errno = e;
    return rc;
}

EXPORT int close_range(unsigned first, unsigned last, int flags)
{
    REAL(int, close_range, (unsigned, unsigned, int));
    if (out_fd >= 0 && (unsigned)out_fd >= first && (unsigned)out_fd <= last &&
        !(flags & 4 /* CLOSE_RANGE_CLOEXEC: ours is already */))
        out_fd = -1; /* ours goes with the others */
    if (!(flags & 4 /* CLOSE_RANGE_CLOEXEC */))
        for (unsigned fd = first; fd <= last && fd < NFD; fd++)
            if (tracked((int)fd)) {
                sock_of[fd] = 0;
                obs_wire r;
                rec_init(&r, OBS_CLOSE, (int)fd);
                emit(&r, 0, 0);
            }
    return r_close_range(first, last, flags);
}

EXPORT int shutdown(int fd, int how)
{
    REAL(int, shutdown, (int, int));
    T0(fd);
    int rc = r_shutdown(fd, how);
    int e = errno;
    if (tracked(fd)) {
        obs_wire r;
        rec_init(&r, OBS_SHUTDOWN, fd);
        r.t_ns = t0;
        r.a1 = how;
        emit(&r, rc, e);
    }
    errno = e;
    return rc;
}

static bool datagram(int fd)
{
    return tracked(fd) && sock_of[fd] >= 3;
}

/* Data calls: only a result worth mirroring is written (not EAGAIN).
 * addr: sendto's destination, or where recvfrom's datagram came from.
 * A datagram socket's send also records the local address it sent from
 * (the port an unbound socket got at its first sendto). */
static void data_rec(int call, int variant, int fd, size_t asked, ssize_t rc,
                     int e, const struct sockaddr *addr, socklen_t addrlen,
                     uint64_t t0)
{
    if (rc < 0 && (e == EAGAIN || e == EWOULDBLOCK || e == EINTR))
        return;
    obs_wire r;
    rec_init(&r, call, fd);
    if (t0)
        r.t_ns = t0; /* a send: when it started */
    r.variant = (uint8_t)variant;
    r.a1 = (int64_t)asked;
    if (rc >= 0 || call == OBS_SEND)
        put_addr(&r.addr_b, addr, addrlen);
    if (call == OBS_SEND && rc >= 0 && datagram(fd)) {
        struct sockaddr_storage ss;
        socklen_t l = sizeof ss;
        if (getsockname(fd, (struct sockaddr *)&ss, &l) == 0)
            put_addr(&r.addr_a, (struct sockaddr *)&ss, l);
    }
    emit(&r, rc, e);
}

EXPORT ssize_t read(int fd, void *buf, size_t n)
{
    REAL(ssize_t, read, (int, void *, size_t));
    ssize_t rc = r_read(fd, buf, n);
    if (!tracked(fd))
        return rc;
    int e = errno;
    data_rec(OBS_RECV, OBSV_READ, fd, n, rc, e, NULL, 0, 0);
    errno = e;
    return rc;
}

EXPORT ssize_t write(int fd, const void *buf, size_t n)
{
    if (!r_write)
        r_write = (ssize_t(*)(int, const void *, size_t))next_sym("write");
    T0(fd);
    ssize_t rc = r_write(fd, buf, n);
    if (!tracked(fd))
        return rc;
    int e = errno;
    data_rec(OBS_SEND, OBSV_WRITE, fd, n, rc, e, NULL, 0, t0);
    errno = e;
    return rc;
}

EXPORT ssize_t recv(int fd, void *buf, size_t n, int flags)
{
    REAL(ssize_t, recv, (int, void *, size_t, int));
    ssize_t rc = r_recv(fd, buf, n, flags);
    if (!tracked(fd) || (flags & MSG_PEEK))
        return rc;
    int e = errno;
    data_rec(OBS_RECV, OBSV_DEFAULT, fd, n, rc, e, NULL, 0, 0);
    errno = e;
    return rc;
}

EXPORT ssize_t send(int fd, const void *buf, size_t n, int flags)
{
    REAL(ssize_t, send, (int, const void *, size_t, int));
    T0(fd);
    ssize_t rc = r_send(fd, buf, n, flags);
    if (!tracked(fd))
        return rc;
    int e = errno;
    data_rec(OBS_SEND, OBSV_DEFAULT, fd, n, rc, e, NULL, 0, t0);
    errno = e;
    return rc;
}

EXPORT ssize_t recvfrom(int fd, void *buf, size_t n, int flags,
                        struct sockaddr *sa, socklen_t *len)
{
    REAL(ssize_t, recvfrom,
         (int, void *, size_t, int, struct sockaddr *, socklen_t *));
    ssize_t rc = r_recvfrom(fd, buf, n, flags, sa, len);
    if (!tracked(fd) || (flags & MSG_PEEK))
        return rc;
    int e = errno;
    data_rec(OBS_RECV, OBSV_RECVFROM, fd, n, rc, e, sa, len ? *len : 0, 0);
    errno = e;
    return rc;
}

EXPORT ssize_t sendto(int fd, const void *buf, size_t n, int flags,
                      const struct sockaddr *sa, socklen_t len)
{
    REAL(ssize_t, sendto,
         (int, const void *, size_t, int, const struct sockaddr *, socklen_t));
    T0(fd);
    ssize_t rc = r_sendto(fd, buf, n, flags, sa, len);
    if (!tracked(fd))
        return rc;
    int e = errno;
    data_rec(OBS_SEND, OBSV_SENDTO, fd, n, rc, e, sa, len, t0);
    errno = e;
    return rc;
}

static size_t iov_len(const struct msghdr *m)
{
    size_t n = 0;
    for (size_t i = 0; m && i < m->msg_iovlen; i++)
        n += m->msg_iov[i].iov_len;
    return n;
}

EXPORT ssize_t recvmsg(int fd, struct msghdr *m, int flags)
{
    REAL(ssize_t, recvmsg, (int, struct msghdr *, int));
    ssize_t rc = r_recvmsg(fd, m, flags);
    if (!tracked(fd) || (flags & MSG_PEEK))
        return rc;
    int e = errno;
    data_rec(OBS_RECV, OBSV_RECVMSG, fd, iov_len(m), rc, e,
             m ? m->msg_name : NULL, m ? m->msg_namelen : 0, 0);
    errno = e;
    return rc;
}

EXPORT ssize_t sendmsg(int fd, const struct msghdr *m, int flags)
{
    REAL(ssize_t, sendmsg, (int, const struct msghdr *, int));
    T0(fd);
    ssize_t rc = r_sendmsg(fd, m, flags);
    if (!tracked(fd))
        return rc;
    int e = errno;
    data_rec(OBS_SEND, OBSV_SENDMSG, fd, iov_len(m), rc, e,
             m ? m->msg_name : NULL, m ? m->msg_namelen : 0, t0);
    errno = e;
    return rc;
}

/* ---- descriptor calls --------------------------------------------------- */

static void dup_rec(int variant, int oldfd, int newfd, int e, int cloexec)
{
    if (newfd >= 0 && newfd < NFD && newfd != oldfd) {
        if (tracked(newfd)) { /* dup2 over a socket closes it */
            obs_wire c;
            rec_init(&c, OBS_CLOSE, newfd);
            emit(&c, 0, 0);
        }
        sock_of[newfd] = oldfd >= 0 && oldfd < NFD ? sock_of[oldfd] : 0;
    }
    if (!tracked(oldfd))
        return;
    obs_wire r;
    rec_init(&r, OBS_DUP, oldfd);
    r.variant = (uint8_t)variant;
    r.a1 = cloexec;
    emit(&r, newfd, e);
}

EXPORT int dup(int fd)
{
    REAL(int, dup, (int));
    int rc = r_dup(fd);
    int e = errno;
    if (rc >= 0)
        dup_rec(OBSV_DEFAULT, fd, rc, e, 0);
    errno = e;
    return rc;
}

EXPORT int dup2(int fd, int fd2)
{
    REAL(int, dup2, (int, int));
    bool took = fd2 == out_fd && out_fd >= 0 && fd != fd2;
    int rc = r_dup2(fd, fd2);
    if (took && rc >= 0)
        out_fd = -1; /* the program took our number: dup2 closed ours */
    int e = errno;
    if (rc >= 0)
        dup_rec(OBSV_DUP2, fd, rc, e, 0);
    errno = e;
    return rc;
}

EXPORT int dup3(int fd, int fd2, int flags)
{
    REAL(int, dup3, (int, int, int));
    bool took = fd2 == out_fd && out_fd >= 0 && fd != fd2;
    int rc = r_dup3(fd, fd2, flags);
    if (took && rc >= 0)
        out_fd = -1;
    int e = errno;
    if (rc >= 0)
        dup_rec(OBSV_DUP3, fd, rc, e, (flags & O_CLOEXEC) != 0);
    errno = e;
    return rc;
}

EXPORT int fcntl(int fd, int cmd, ...)
{
    REAL(int, fcntl, (int, int, ...));
    va_list ap;
    va_start(ap, cmd);
    long arg = va_arg(ap, long); /* every fcntl argument fits a long */
    va_end(ap);
    int rc = r_fcntl(fd, cmd, arg);
    int e = errno;
    if (tracked(fd) && rc >= 0) {
        obs_wire r;
        if (cmd == F_SETFL) {
            rec_init(&r, OBS_NONBLOCK, fd);
            r.variant = OBSV_FCNTL;
            r.a1 = (arg & O_NONBLOCK) != 0;
            emit(&r, rc, e);
        } else if (cmd == F_SETFD) {
            rec_init(&r, OBS_CLOEXEC, fd);
            r.variant = OBSV_FCNTL;
            r.a1 = (arg & FD_CLOEXEC) != 0;
            emit(&r, rc, e);
        } else if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) {
            dup_rec(OBSV_FDUPFD, fd, rc, e, cmd == F_DUPFD_CLOEXEC);
        }
    }
    errno = e;
    return rc;
}

EXPORT int ioctl(int fd, unsigned long req, ...)
{
    REAL(int, ioctl, (int, unsigned long, ...));
    va_list ap;
    va_start(ap, req);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    int rc = r_ioctl(fd, req, arg);
    int e = errno;
    if (tracked(fd) && req == FIONBIO && rc == 0 && arg) {
        obs_wire r;
        rec_init(&r, OBS_NONBLOCK, fd);
        r.variant = OBSV_IOCTL;
        r.a1 = *(int *)arg != 0;
        emit(&r, rc, e);
    }
    errno = e;
    return rc;
}
