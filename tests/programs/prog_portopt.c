/*
 * prog_portopt.c - a small real program for the `sockmodel exec` tests
 * (tests/exec-programs.sh) that uses Linux's two per-socket port options:
 * IP_BIND_ADDRESS_NO_PORT (4.2: bind(addr, 0) leaves the port to
 * connect) and IP_LOCAL_PORT_RANGE (6.3: this socket's ephemeral range).
 * Plain POSIX sockets and the kernel's option numbers, no sockmodel.
 *
 *   prog_portopt PORT1 PORT2 P
 *       listen on 127.0.0.1:PORT1 and 127.0.0.1:PORT2 (SO_REUSEADDR); then
 *       two clients,
 *       each with IP_BIND_ADDRESS_NO_PORT and IP_LOCAL_PORT_RANGE P..P,
 *       bind 127.0.0.1:0 (no port yet) and connect, one to each listener:
 *       both get port P, since their 4-tuples differ.  A third socket then
 *       binds 127.0.0.1:P without SO_REUSEADDR: the connected sockets hold
 *       it (EADDRINUSE).  A fourth, with the range P..P but without
 *       IP_BIND_ADDRESS_NO_PORT, binds 127.0.0.1:0: the bind must pick P
 *       now, which is taken (EADDRINUSE).  Prints each client's port and
 *       the two binds' results.  Exit 4 when this kernel lacks an option.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif
#ifndef IP_LOCAL_PORT_RANGE
#define IP_LOCAL_PORT_RANGE 51
#endif

static struct sockaddr_in loopback(int port)
{
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

static int listener(int port)
{
    int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in a = loopback(port);
    if (l < 0 || setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(l, (struct sockaddr *)&a, sizeof a) != 0 || listen(l, 4) != 0) {
        perror("listener");
        exit(1);
    }
    return l;
}

/* A socket with the range P..P (and IP_BIND_ADDRESS_NO_PORT if no_port). */
static int ranged(int p, int no_port)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    uint32_t range = (uint32_t)p | (uint32_t)p << 16; /* lo low, hi high */
    if (s < 0)
        return perror("socket"), exit(1), -1;
    if ((no_port && setsockopt(s, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
                               sizeof one) != 0) ||
        setsockopt(s, IPPROTO_IP, IP_LOCAL_PORT_RANGE, &range, sizeof range) != 0) {
        if (errno == ENOPROTOOPT) {
            fprintf(stderr, "this kernel lacks the options\n");
            exit(4);
        }
        perror("setsockopt");
        exit(1);
    }
    return s;
}

static const char *bind_result(int s, int port)
{
    struct sockaddr_in a = loopback(port);
    return bind(s, (struct sockaddr *)&a, sizeof a) == 0 ? "ok" : strerror(errno);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: prog_portopt PORT1 PORT2 P\n");
        return 2;
    }
    int port[2] = {atoi(argv[1]), atoi(argv[2])}, p = atoi(argv[3]);
    int l[2], c[2], a[2];
    for (int i = 0; i < 2; i++)
        l[i] = listener(port[i]);
    for (int i = 0; i < 2; i++) {
        c[i] = ranged(p, 1);
        const char *r = bind_result(c[i], 0);
        struct sockaddr_in to = loopback(port[i]), me;
        socklen_t len = sizeof me;
        if (strcmp(r, "ok") != 0 || connect(c[i], (struct sockaddr *)&to, sizeof to) != 0 ||
            getsockname(c[i], (struct sockaddr *)&me, &len) != 0) {
            perror("client");
            return 1;
        }
        a[i] = accept(l[i], NULL, NULL);
        printf("client %d: port %d\n", i + 1, ntohs(me.sin_port));
    }
    int b = socket(AF_INET, SOCK_STREAM, 0);
    printf("bind %d: %s\n", p, bind_result(b, p));
    int d = ranged(p, 0);
    printf("bind 0 in range %d..%d: %s\n", p, p, bind_result(d, 0));
    close(d);
    close(b);
    for (int i = 0; i < 2; i++) { /* the servers' sides close first: the */
        close(a[i]);                 /* TIME_WAITs are theirs, and P is free */
        close(c[i]);                 /* again at once */
        close(l[i]);
    }
    return 0;
}
