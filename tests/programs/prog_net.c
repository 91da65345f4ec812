/*
 * prog_net.c - a small real TCP server and client for the `sockmodel exec`
 * tests (tests/exec-programs.sh).  Plain POSIX sockets, no sockmodel: the
 * point is a program as it is.
 *
 *   prog_net server PORT REUSE COUNT plain|fork|thread
 *       listen on 127.0.0.1:PORT (SO_REUSEADDR if REUSE is 1), serve COUNT
 *       connections (read a line, answer, close first: the server's side
 *       of each connection ends in TIME_WAIT), then close the listener and
 *       exit.  fork: a child process per connection; thread: a thread.
 *       Exit status 3 when bind fails.
 *   prog_net client PORT
 *       connect to 127.0.0.1:PORT (retrying while refused, for up to 5 s),
 *       send a line, read to end of stream, close.
 *   prog_net loop PORT N
 *       N such requests one after the other in one process, then print
 *       the seconds they took and the CPU seconds the process used
 *       (bench/exec-overhead.sh).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static struct sockaddr_in loopback(int port)
{
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

static void serve(int c)
{
    char buf[256];
    ssize_t n = read(c, buf, sizeof buf);
    if (n > 0) {
        static const char ans[] = "ok\n";
        ssize_t w = write(c, ans, sizeof ans - 1);
        (void)w;
    }
    shutdown(c, SHUT_WR);
    /* wait for the client's FIN, so this side is the active closer */
    while (read(c, buf, sizeof buf) > 0)
        ;
    close(c);
}

static void *serve_thread(void *arg)
{
    serve((int)(long)arg);
    return NULL;
}

static int server(int port, int reuse, int count, const char *mode)
{
    int l = socket(AF_INET, SOCK_STREAM, 0);
    if (l < 0)
        return perror("socket"), 1;
    if (reuse && setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof reuse) != 0)
        return perror("setsockopt"), 1;
    struct sockaddr_in a = loopback(port);
    if (bind(l, (struct sockaddr *)&a, sizeof a) != 0) {
        perror("bind");
        close(l);
        return 3;
    }
    if (listen(l, 16) != 0)
        return perror("listen"), 1;
    printf("listening\n");
    fflush(stdout);
    for (int i = 0; i < count; i++) {
        int c = accept(l, NULL, NULL);
        if (c < 0)
            return perror("accept"), 1;
        if (strcmp(mode, "fork") == 0) {
            pid_t p = fork();
            if (p == 0) {
                close(l);
                serve(c);
                _exit(0);
            }
            close(c);
            waitpid(p, NULL, 0);
        } else if (strcmp(mode, "thread") == 0) {
            pthread_t t;
            pthread_create(&t, NULL, serve_thread, (void *)(long)c);
            pthread_join(t, NULL);
        } else {
            serve(c);
        }
    }
    close(l);
    return 0;
}

static int request(int port, int tries_max);

static int client(int port)
{
    return request(port, 250);
}

static int loop(int port, int n)
{
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < n; i++)
        if (request(port, i == 0 ? 250 : 1) != 0)
            return 1;
    clock_gettime(CLOCK_MONOTONIC, &b);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                 (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    printf("%.3f %.3f\n",
           (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9, cpu);
    return 0;
}

static int request(int port, int tries_max)
{
    for (int tries = 0; tries < tries_max; tries++) {
        int s = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = loopback(port);
        if (connect(s, (struct sockaddr *)&a, sizeof a) != 0) {
            int e = errno;
            close(s);
            if (e != ECONNREFUSED)
                return perror("connect"), 1;
            struct timespec ts = {0, 20000000};
            nanosleep(&ts, NULL);
            continue;
        }
        static const char req[] = "hello\n";
        ssize_t w = write(s, req, sizeof req - 1);
        (void)w;
        char buf[256];
        while (read(s, buf, sizeof buf) > 0)
            ;
        close(s);
        return 0;
    }
    fprintf(stderr, "client: nobody listens on %d\n", port);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc == 6 && strcmp(argv[1], "server") == 0)
        return server(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]), argv[5]);
    if (argc == 3 && strcmp(argv[1], "client") == 0)
        return client(atoi(argv[2]));
    if (argc == 4 && strcmp(argv[1], "loop") == 0)
        return loop(atoi(argv[2]), atoi(argv[3]));
    fprintf(stderr, "usage: prog_net server PORT REUSE COUNT plain|fork|thread\n"
                    "       prog_net client PORT\n"
                    "       prog_net loop PORT N\n");
    return 2;
}
