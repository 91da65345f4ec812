/* slow_listen.c - a preload library for tests/exec-programs.sh: listen()
 * waits 300 ms before the real call.  Preloaded after `sockmodel exec`'s
 * shim, it puts a long gap between the time the shim stamps a listen (when
 * it starts) and the time the kernel takes it, as a loaded machine does
 * when the listening process loses the processor there: a connect in that
 * gap is refused although its record comes after the listen. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <sys/socket.h>
#include <time.h>

int listen(int fd, int backlog)
{
    int (*real)(int, int) = (int (*)(int, int))dlsym(RTLD_NEXT, "listen");
    if (!real) {
        errno = ENOSYS;
        return -1;
    }
    struct timespec d = {0, 300000000};
    while (nanosleep(&d, &d) != 0 && errno == EINTR)
        ;
    return real(fd, backlog);
}
