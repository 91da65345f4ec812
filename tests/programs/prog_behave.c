/*
 * prog_behave.c - a program whose output tells whether something changed
 * what it observed: tests/exec-unchanged.sh runs each mode bare and under
 * `sockmodel exec` and compares what it prints and its exit status.
 *
 *   prog_behave MODE PORT
 *
 * Every mode works on 127.0.0.1:PORT and prints only what the program can
 * see (results, errno names, descriptor numbers, counts), never times or
 * process ids:
 *   threads    four threads connect to a listener; the main thread reads
 *   fork       a child connects and exits 3; the parent reads, reaps it
 *   exec       a forked child drops LD_PRELOAD and every variable from its
 *              environment and execvp()s this program (mode exec-child),
 *              which writes on the inherited connection
 *   signal     SIGALRM (no SA_RESTART) interrupts a blocking accept
 *   closeall   closes every descriptor from 3 (close_range, then a loop
 *              to 1024), counts what is left open, then uses sockets
 *   highfd     raises the descriptor limit, moves a listener and a client
 *              to 1500 and 1600 with dup2, and asks F_DUPFD for >= 1000
 * The exit status is 0 unless a step fails (then 1 with the step named).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

static int port;

static int die(const char *what)
{
    printf("FAILED %s: %s\n", what, strerror(errno));
    fflush(stdout);
    exit(1);
}

static struct sockaddr_in addr(void)
{
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

static int listener(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    struct sockaddr_in a = addr();
    if (s < 0 || setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 16) < 0)
        die("listener");
    return s;
}

static int client(void)
{
    int c = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = addr();
    if (c < 0 || connect(c, (struct sockaddr *)&a, sizeof a) < 0)
        die("connect");
    return c;
}

/* Reads to the end of the stream: the bytes read. */
static long drain(int fd)
{
    char b[256];
    long n = 0;
    ssize_t k;
    while ((k = read(fd, b, sizeof b)) > 0)
        n += k;
    if (k < 0)
        die("read");
    return n;
}

static void *thread_client(void *arg)
{
    int c = client();
    char msg[32];
    int n = snprintf(msg, sizeof msg, "hello from %ld", (long)(intptr_t)arg);
    if (write(c, msg, (size_t)n) != n)
        die("thread write");
    close(c);
    return NULL;
}

static int m_threads(void)
{
    int l = listener();
    pthread_t t[4];
    for (long i = 0; i < 4; i++)
        if (pthread_create(&t[i], NULL, thread_client, (void *)(intptr_t)i) != 0)
            die("pthread_create");
    long bytes = 0;
    for (int i = 0; i < 4; i++) {
        int a = accept(l, NULL, NULL);
        if (a < 0)
            die("accept");
        bytes += drain(a);
        close(a);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    close(l);
    printf("threads: 4 connections, %ld bytes\n", bytes);
    return 0;
}

/* The parent's end: reads connection a to its end, reaps the child,
 * closes a and the listener l, and says what it got. */
static int reap(const char *mode, pid_t pid, int l, int a)
{
    long n = drain(a);
    int st;
    if (waitpid(pid, &st, 0) != pid)
        die("waitpid");
    close(a);
    close(l);
    printf("%s: read %ld, child exit %d\n", mode, n,
           WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    return 0;
}

static int m_fork(void)
{
    int l = listener();
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        close(l);
        int c = client();
        if (write(c, "12345", 5) != 5)
            _exit(9);
        close(c);
        exit(3);
    }
    int a = accept(l, NULL, NULL);
    if (a < 0)
        die("accept");
    return reap("fork", pid, l, a);
}

static int m_exec(const char *self)
{
    int l = listener();
    int c = client();
    int a = accept(l, NULL, NULL);
    if (a < 0)
        die("accept");
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        close(a);
        close(l);
        char fdarg[16], portarg[16];
        snprintf(fdarg, sizeof fdarg, "%d", c);
        snprintf(portarg, sizeof portarg, "%d", port);
        clearenv(); /* LD_PRELOAD and everything else */
        setenv("PATH", "/usr/bin:/bin", 1);
        char *argv[] = {(char *)self, (char *)"exec-child", portarg, fdarg, NULL};
        execvp(self, argv);
        _exit(127);
    }
    close(c);
    return reap("exec", pid, l, a);
}

static int m_exec_child(int fd)
{
    printf("exec-child: LD_PRELOAD %s\n", getenv("LD_PRELOAD") ? "set" : "unset");
    if (write(fd, "ping", 4) != 4)
        die("exec-child write");
    close(fd);
    printf("exec-child: wrote 4\n");
    return 5;
}

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
    (void)sig;
    alarms++;
}

static int m_signal(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm; /* no SA_RESTART: accept fails with EINTR */
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGALRM, &sa, NULL) < 0)
        die("sigaction");
    int l = listener();
    struct itimerval it = {{0, 0}, {0, 200000}};
    setitimer(ITIMER_REAL, &it, NULL);
    errno = 0;
    int a = accept(l, NULL, NULL);
    int e = errno;
    printf("signal: accept %d %s, handler ran %d\n", a,
           a < 0 && e == EINTR ? "EINTR" : strerror(e), (int)alarms);
    close(l);
    return a < 0 && e == EINTR ? 0 : 1;
}

static int count_open(int upto)
{
    int n = 0;
    for (int fd = 0; fd < upto; fd++)
        if (fcntl(fd, F_GETFD) >= 0)
            n++;
    return n;
}

static int m_closeall(void)
{
#ifdef SYS_close_range
    long rc = syscall(SYS_close_range, 3u, ~0u, 0);
    printf("closeall: close_range %s\n", rc == 0 ? "ok" : "unavailable");
#endif
    int closed = 0;
    for (int fd = 3; fd < 1024; fd++)
        if (close(fd) == 0)
            closed++;
    printf("closeall: the loop closed %d more, %d open below 4096\n", closed,
           count_open(4096));
    int l = listener();
    int c = client();
    int a = accept(l, NULL, NULL);
    if (a < 0)
        die("accept");
    if (write(c, "abc", 3) != 3)
        die("write");
    close(c);
    long n = drain(a);
    printf("closeall: descriptors %d %d %d, read %ld\n", l, c, a, n);
    close(a);
    close(l);
    return 0;
}

static int m_highfd(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        die("getrlimit");
    if (rl.rlim_cur < 4096 && (rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= 4096)) {
        rl.rlim_cur = 4096;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
            die("setrlimit");
    }
    if (rl.rlim_cur < 2048) {
        printf("highfd: limit %lu too low\n", (unsigned long)rl.rlim_cur);
        return 0;
    }
    int l0 = listener();
    int l = dup2(l0, 1500);
    close(l0);
    int c0 = socket(AF_INET, SOCK_STREAM, 0);
    int c = dup2(c0, 1600);
    close(c0);
    struct sockaddr_in sa = addr();
    if (l != 1500 || c != 1600 || connect(c, (struct sockaddr *)&sa, sizeof sa) < 0)
        die("dup2/connect");
    int a = accept(l, NULL, NULL);
    if (a < 0)
        die("accept");
    int d = fcntl(a, F_DUPFD, 1000);
    int d2 = dup2(a, 1023);
    if (write(c, "xyz", 3) != 3)
        die("write");
    close(c);
    close(a);
    close(d2);
    long n = drain(d);
    printf("highfd: listener %d client %d accepted %d dupfd %d dup2 %d read %ld\n",
           l, c, a, d, d2, n);
    close(d);
    close(l);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: prog_behave MODE PORT [FD]\n");
        return 2;
    }
    port = atoi(argv[2]);
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *m = argv[1];
    if (!strcmp(m, "threads"))
        return m_threads();
    if (!strcmp(m, "fork"))
        return m_fork();
    if (!strcmp(m, "exec"))
        return m_exec(argv[0]);
    if (!strcmp(m, "exec-child") && argc > 3)
        return m_exec_child(atoi(argv[3]));
    if (!strcmp(m, "signal"))
        return m_signal();
    if (!strcmp(m, "closeall"))
        return m_closeall();
    if (!strcmp(m, "highfd"))
        return m_highfd();
    fprintf(stderr, "prog_behave: unknown mode %s\n", m);
    return 2;
}
