/*
 * sockmodel/plain.h - the plain socket call names, mapped onto sockmodel.
 *
 * After this header, socket(), setsockopt(), getsockopt(), bind(),
 * listen(), connect(), accept(), accept4(), read(), write(), send(),
 * recv(), sendto(), recvfrom(), sendmsg(), recvmsg(), poll(), select(),
 * close(), shutdown(), dup(), dup2(), dup3(), getsockname(),
 * getpeername(), fcntl(), ioctl() (FIONBIO) and Winsock's closesocket() /
 * ioctlsocket() are calls on the sockmodel context SM_PLAIN_CTX, so that
 * a program's or a portability layer's file compiles unchanged against
 * the model:
 *
 *     #include <sys/socket.h>      ... the file's own includes ...
 *     #include <sockmodel/plain.h> (LAST: e.g. with -include after them,
 *                                   or at the end of the include block)
 *
 * SM_PLAIN_CTX defaults to sm_sys_current(), the context the thread chose
 * with sm_sys_use(), or else a default context made on first use from
 * SOCKMODEL_PROFILE and SOCKMODEL_SEED (linux and 1 when unset), so an
 * unchanged program works without a setup call; define SM_PLAIN_CTX
 * before including this header to use anything else (an expression of
 * type sm_sys *).
 *
 * Model descriptors and real ones: the default context (and any context
 * after sm_sys_use_real_fds()) gives each socket the number the kernel
 * would and holds that number open on /dev/null while the socket lives,
 * so no real file can have it.  read(), write(), sendmsg(), recvmsg(),
 * close(), dup*(), fcntl(), ioctl(), poll() and select() on a descriptor
 * that is not one of its sockets are the real libc calls, untouched.  A context with its own numbering (sm_sys_new()'s
 * default: 3, 4, ... in every run) cannot tell a real file from a socket
 * of the same number, so there every descriptor is the model's (EBADF if
 * it has no such socket).  poll() with real and model descriptors gives
 * the real ones to the real poll() (socket.h: sm_sys_poll).  UDP sendto()
 * with an address fails with ENOSYS: the model moves datagrams on
 * connected sockets only.  Data content is not modelled (byte counts
 * are; read() zero-fills).
 *
 * Include it after every system header: the names are function-like
 * macros, and a system header read after them would have its declarations
 * rewritten.  To make that harder to get wrong, this header first includes
 * the headers that declare these calls (sys/socket.h, unistd.h, fcntl.h,
 * poll.h, sys/ioctl.h, netinet/in.h, netinet/tcp.h); their include guards
 * keep them from being read again later.
 *
 * Options the build OS lacks are defined under their real names when the
 * system does not define them (SO_EXCLUSIVEADDRUSE as on Windows,
 * SO_REUSEPORT_LB as on FreeBSD, SO_EXCLBIND as on Solaris), so the
 * Windows or Solaris branch of a layer compiles here as well.
 */
#ifndef SOCKMODEL_PLAIN_H
#define SOCKMODEL_PLAIN_H

#include <fcntl.h>
#include <poll.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "socket.h"

#ifndef SM_PLAIN_CTX
#define SM_PLAIN_CTX sm_sys_current()
#endif

#ifndef SO_EXCLUSIVEADDRUSE
#define SO_EXCLUSIVEADDRUSE SM_SYS_SO_EXCLUSIVEADDRUSE
#endif
#ifndef SO_REUSEPORT_LB
#define SO_REUSEPORT_LB SM_SYS_SO_REUSEPORT_LB
#endif
#ifndef SO_EXCLBIND
#define SO_EXCLBIND SM_SYS_SO_EXCLBIND
#endif
#ifndef SO_REUSEPORT
#define SO_REUSEPORT SM_SYS_SO_REUSEPORT
#endif

#undef socket
#undef setsockopt
#undef getsockopt
#undef bind
#undef listen
#undef connect
#undef accept
#undef accept4
#undef read
#undef write
#undef sendto
#undef recvfrom
#undef poll
#undef close
#undef shutdown
#undef send
#undef recv
#undef getsockname
#undef getpeername
#undef fcntl
#undef closesocket
#undef ioctlsocket

#define socket(d, t, p) sm_sys_socket(SM_PLAIN_CTX, (d), (t), (p))
#define setsockopt(fd, l, o, v, n) sm_sys_setsockopt(SM_PLAIN_CTX, (fd), (l), (o), (v), (n))
#define getsockopt(fd, l, o, v, n) sm_sys_getsockopt(SM_PLAIN_CTX, (fd), (l), (o), (v), (n))
#define bind(fd, a, n) sm_sys_bind(SM_PLAIN_CTX, (fd), (a), (n))
#define listen(fd, b) sm_sys_listen(SM_PLAIN_CTX, (fd), (b))
#define connect(fd, a, n) sm_sys_connect(SM_PLAIN_CTX, (fd), (a), (n))
#define accept(fd, a, n) sm_sys_accept(SM_PLAIN_CTX, (fd), (a), (n))
#define accept4(fd, a, n, f) sm_sys_accept4(SM_PLAIN_CTX, (fd), (a), (n), (f))
#define close(fd) sm_sys_close_any(SM_PLAIN_CTX, (fd))
#define read(fd, b, n) sm_sys_read(SM_PLAIN_CTX, (fd), (b), (n))
#define write(fd, b, n) sm_sys_write(SM_PLAIN_CTX, (fd), (b), (n))
#define sendto(fd, b, n, f, a, l) sm_sys_sendto(SM_PLAIN_CTX, (fd), (b), (n), (f), (a), (l))
#define recvfrom(fd, b, n, f, a, l) sm_sys_recvfrom(SM_PLAIN_CTX, (fd), (b), (n), (f), (a), (l))
#define poll(p, n, t) sm_sys_poll(SM_PLAIN_CTX, (p), (n), (t))
#define closesocket(fd) sm_sys_close(SM_PLAIN_CTX, (fd))
#define shutdown(fd, h) sm_sys_shutdown(SM_PLAIN_CTX, (fd), (h))
#define send(fd, b, n, f) sm_sys_send(SM_PLAIN_CTX, (fd), (b), (n), (f))
#define recv(fd, b, n, f) sm_sys_recv(SM_PLAIN_CTX, (fd), (b), (n), (f))
#define getsockname(fd, a, n) sm_sys_getsockname(SM_PLAIN_CTX, (fd), (a), (n))
#define getpeername(fd, a, n) sm_sys_getpeername(SM_PLAIN_CTX, (fd), (a), (n))
#define fcntl(...) sm_sys_fcntl_any(SM_PLAIN_CTX, __VA_ARGS__)
#define sendmsg(fd, m, f) sm_sys_sendmsg(SM_PLAIN_CTX, (fd), (m), (f))
#define recvmsg(fd, m, f) sm_sys_recvmsg(SM_PLAIN_CTX, (fd), (m), (f))
#define dup(fd) sm_sys_dup_any(SM_PLAIN_CTX, (fd))
#define dup2(fd, fd2) sm_sys_dup2_any(SM_PLAIN_CTX, (fd), (fd2))
#define dup3(fd, fd2, f) sm_sys_dup3_any(SM_PLAIN_CTX, (fd), (fd2), (f))
#define select(n, r, w, e, t) sm_sys_select(SM_PLAIN_CTX, (n), (r), (w), (e), (t))
#define ioctl(...) sm_sys_ioctl_any(SM_PLAIN_CTX, __VA_ARGS__)
#define ioctlsocket(fd, cmd, argp) sm_sys_ioctlsocket(SM_PLAIN_CTX, (fd), (long)(cmd), (argp))

#endif /* SOCKMODEL_PLAIN_H */
