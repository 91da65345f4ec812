/*
 * layer-posix.c - set_fast_reuse() for POSIX systems (Linux, the BSDs,
 * Solaris, macOS): SO_REUSEADDR = 1.
 *
 * Why: on these systems a bind() to a port that a connection of the old
 * server still holds in TIME_WAIT fails with EADDRINUSE unless the new
 * socket (Linux: and the old one too) set SO_REUSEADDR.  The same choice as
 * QEMU's util/oslib-posix.c socket_set_fast_reuse() (commit 606600a176c9),
 * CPython's socket.create_server, Go's net.Listen, libuv and Rust std on
 * Unix (see reference/windows.md section 6).
 *
 * This file is ordinary socket code: it compiles against the real system
 * or, with -include sockmodel/plain.h, against the model, unchanged.
 */
#include <assert.h>
#include <sys/socket.h>

#include "layer.h"

int set_fast_reuse(int fd)
{
    const int one = 1;
    int rc = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, (socklen_t)sizeof one);
    /* The option exists everywhere on POSIX: failing here is a bug. */
    assert(rc == 0);
    return rc;
}
