/*
 * app.c - the example's server and client, in plain socket calls.
 *
 * Nothing here knows about sockmodel: built with -include
 * sockmodel/plain.h the calls go to the model's current context (the
 * driver switches contexts to play several processes).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "app.h"

int server_start(int (*fast_reuse)(int), unsigned short port, const char **step)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        *step = "socket";
        return -1;
    }
    if (fast_reuse(fd) != 0) {
        *step = "set_fast_reuse";
        goto fail;
    }
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    sin.sin_addr.s_addr = htonl(INADDR_ANY);
    if (bind(fd, (const struct sockaddr *)&sin, sizeof sin) != 0) {
        *step = "bind";
        goto fail;
    }
    if (listen(fd, 16) != 0) {
        *step = "listen";
        goto fail;
    }
    return fd;
fail:;
    int saved = errno;
    close(fd);
    errno = saved;
    return -1;
}

int client_connect(const char *ipv4, unsigned short port, const char **step)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        *step = "socket";
        return -1;
    }
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    if (inet_pton(AF_INET, ipv4, &sin.sin_addr) != 1) {
        *step = "inet_pton";
        close(fd);
        errno = EINVAL;
        return -1;
    }
    if (connect(fd, (const struct sockaddr *)&sin, sizeof sin) != 0) {
        int saved = errno;
        *step = "connect";
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

int server_accept(int lfd)
{
    struct sockaddr_storage peer;
    socklen_t len = sizeof peer;
    return accept(lfd, (struct sockaddr *)&peer, &len);
}

int drain(int fd)
{
    char buf[512];
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n == 0)
            return 0;
        if (n < 0)
            return -1;
    }
}
