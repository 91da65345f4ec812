/*
 * layer.h - the example's portability layer (one call, the way QEMU's
 * util/oslib-posix.c and util/oslib-win32.c each provide
 * socket_set_fast_reuse()).  Written for this example.
 *
 * set_fast_reuse(fd): before bind(), make a server's listening socket able
 * to take its port again at once after a restart, while connections of the
 * previous instance still sit in TIME_WAIT.  Returns 0 (or -1 and errno).
 */
#ifndef FAST_REUSE_LAYER_H
#define FAST_REUSE_LAYER_H

int set_fast_reuse(int fd);

#endif
