/*
 * plain_prog.h - what tests/plain_prog.c's program saw from each call.
 */
#ifndef PLAIN_PROG_H
#define PLAIN_PROG_H

#include <sys/types.h>

struct plain_prog {
    int srv, cli, acc;
    int bind, bind_errno, listen, listen_errno, connect, connect_errno;
    int poll_out, poll_out_errno;
    short poll_out_revents;
    int poll_listen, poll_listen_errno;
    short poll_listen_revents;
    int acc_nonblock, acc_cloexec, names_match;
    ssize_t read_empty, write, read, sendto, recvfrom, read_eof;
    int read_empty_errno, write_errno, read_errno, sendto_errno, recvfrom_errno,
        read_eof_errno;
    int recvfrom_len;
    int poll_data, poll_data_errno;
    short poll_data_revents;
    int close_acc, close_acc_errno, poll_eof, poll_eof_errno;
    short poll_eof_revents;
    int shutdown, shutdown_errno;
    int rebind, rebind_errno;
};

/* Runs the program on 127.0.0.1:port through whatever its calls are
 * compiled against. */
void plain_prog_run(unsigned short port, struct plain_prog *out);

#endif
