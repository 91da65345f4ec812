/*
 * layer-win32.c - set_fast_reuse() for Windows: do nothing.
 *
 * Why: on Windows a default bind() is not blocked by connections in
 * TIME_WAIT, so there is nothing to fix; and SO_REUSEADDR there means
 * something else: it lets a socket bind a port that another socket is
 * actively using ("port stealing").  QEMU's util/oslib-win32.c makes the
 * same choice (commit 606600a176c9: "On Windows fast reuse is the default
 * and SO_REUSEADDR does strange things"), as do CPython's create_server,
 * Go's net (sockopt_windows.go), libuv (src/win/tcp.c) and Rust std
 * (reference/windows.md sections 3.2 and 6).  Written for this example.
 */
#include "layer.h"

int set_fast_reuse(int fd)
{
    (void)fd;
    return 0;
}
