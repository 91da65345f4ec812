/*
 * app.h - the "application": a server and a client written with the plain
 * socket calls (app.c), the way a program that uses the layer would be.
 * Every call returns -1 with errno set on failure.
 */
#ifndef FAST_REUSE_APP_H
#define FAST_REUSE_APP_H

/* socket(AF_INET, SOCK_STREAM), fast_reuse(fd), bind 0.0.0.0:port,
 * listen.  The listening descriptor, or -1 (errno; *step names the call
 * that failed). */
int server_start(int (*fast_reuse)(int), unsigned short port, const char **step);
/* socket + connect to IPV4:port (dotted quad); the descriptor or -1. */
int client_connect(const char *ipv4, unsigned short port, const char **step);
/* accept one connection; the descriptor or -1. */
int server_accept(int lfd);
/* Read until the peer's end of stream: 0 at end of stream, -1 on error. */
int drain(int fd);

#endif
