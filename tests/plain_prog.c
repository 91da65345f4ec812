/*
 * plain_prog.c - a small single-process TCP server and client in plain
 * POSIX calls (socket, bind, listen, connect, accept4, write, read, poll,
 * sendto, recvfrom, getsockname, getpeername, fcntl, shutdown, close),
 * with no sockmodel name in it.  check_plain builds it with
 * "-include sockmodel/plain.h", so every socket call goes to the model;
 * it reports what each call returned, and the test compares that with
 * what each OS does.
 */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "plain_prog.h"

static struct sockaddr_in loopback(unsigned short port)
{
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return sin;
}

#define NOTE(field, expr)                                                    \
    do {                                                                     \
        errno = 0;                                                           \
        out->field = (expr);                                                 \
        out->field##_errno = out->field < 0 ? errno : 0;                     \
    } while (0)

void plain_prog_run(unsigned short port, struct plain_prog *out)
{
    memset(out, 0, sizeof *out);
    struct sockaddr_in sin = loopback(port);
    char buf[64];

    int srv = socket(AF_INET, SOCK_STREAM, 0);
    out->srv = srv;
    NOTE(bind, bind(srv, (struct sockaddr *)&sin, sizeof sin));
    NOTE(listen, listen(srv, 8));

    int cli = socket(AF_INET, SOCK_STREAM, 0);
    out->cli = cli;
    NOTE(connect, connect(cli, (struct sockaddr *)&sin, sizeof sin));
    struct pollfd wp = {.fd = cli, .events = POLLOUT};
    NOTE(poll_out, poll(&wp, 1, 0));
    out->poll_out_revents = wp.revents;

    struct pollfd lp = {.fd = srv, .events = POLLIN};
    NOTE(poll_listen, poll(&lp, 1, 1000));
    out->poll_listen_revents = lp.revents;

    int acc = accept4(srv, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    out->acc = acc;
    out->acc_nonblock = (fcntl(acc, F_GETFL) & O_NONBLOCK) != 0;
    out->acc_cloexec = (fcntl(acc, F_GETFD) & FD_CLOEXEC) != 0;

    struct sockaddr_in a, b;
    socklen_t al = sizeof a, bl = sizeof b;
    getsockname(cli, (struct sockaddr *)&a, &al);
    getpeername(acc, (struct sockaddr *)&b, &bl);
    out->names_match = al == sizeof a && bl == sizeof b && a.sin_port == b.sin_port &&
                       a.sin_addr.s_addr == b.sin_addr.s_addr;

    /* Nothing sent yet: the accepted socket has nothing to read. */
    NOTE(read_empty, read(acc, buf, sizeof buf));

    NOTE(write, write(acc, "hello", 5));
    struct pollfd cp = {.fd = cli, .events = POLLIN};
    NOTE(poll_data, poll(&cp, 1, 1000));
    out->poll_data_revents = cp.revents;
    NOTE(read, read(cli, buf, sizeof buf));

    NOTE(sendto, sendto(cli, "x", 1, 0, (struct sockaddr *)&sin, sizeof sin));
    struct pollfd ap = {.fd = acc, .events = POLLIN};
    poll(&ap, 1, 1000);
    socklen_t fl = sizeof a;
    NOTE(recvfrom, recvfrom(acc, buf, sizeof buf, 0, (struct sockaddr *)&a, &fl));
    out->recvfrom_len = (int)fl;

    /* The server closes first (its connection goes to TIME_WAIT); the
     * client sees the end of the stream and closes too. */
    NOTE(close_acc, close(acc));
    cp.events = POLLIN;
    NOTE(poll_eof, poll(&cp, 1, 1000));
    out->poll_eof_revents = cp.revents;
    NOTE(read_eof, read(cli, buf, sizeof buf));
    NOTE(shutdown, shutdown(cli, SHUT_WR));
    close(cli);
    close(srv);

    /* Restart the server at once, without SO_REUSEADDR. */
    int again = socket(AF_INET, SOCK_STREAM, 0);
    NOTE(rebind, bind(again, (struct sockaddr *)&sin, sizeof sin));
    close(again);
}
