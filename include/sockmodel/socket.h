/*
 * sockmodel/socket.h - the socket API over the sockmodel engine.
 *
 * These calls take the arguments of the BSD socket calls (domain / type /
 * protocol, SOL_SOCKET / IPPROTO_IPV6 / IPPROTO_TCP levels with the build
 * OS's own option constants, struct sockaddr_in / sockaddr_in6, struct
 * linger) and answer like them: a descriptor or 0 on success, -1 with errno
 * set to the build OS's errno value (EADDRINUSE, ...) on failure.  What
 * happens is decided by the sockmodel engine under the OS profile the
 * context was made with, so the same C code can be run under Linux, BSD,
 * Solaris and Windows rules in one process.
 *
 * A context (sm_sys) stands for one process: it owns a descriptor table
 * (small ints from 3 up, lowest free first, as POSIX allocates them) and
 * makes its calls as one process of one user on one host of a world.
 * sm_sys_new() makes a fresh world with one host, "local" (127.0.0.1, ::1,
 * 192.0.2.1, 192.0.2.2, 2001:db8::1, 2001:db8::2, as in scenarios), user
 * "user" and process "main".  sm_sys_spawn() adds another process (another
 * user, another host) to the same world, with its own descriptor table.
 * Any number of worlds and contexts may exist at once; nothing is shared
 * between worlds.
 *
 * Option constants the build OS lacks get sockmodel names here
 * (SM_SYS_SO_EXCLUSIVEADDRUSE, SM_SYS_SO_REUSEPORT_LB, SM_SYS_SO_EXCLBIND);
 * where the build OS has the option, the SM_SYS_ name is the OS's own value.
 *
 * <sockmodel/plain.h> maps the plain names (socket, bind, setsockopt, ...)
 * onto these calls for code that must compile unchanged.
 *
 * Data is not modelled: send() and recv() move a byte count only.
 */
#ifndef SOCKMODEL_SOCKET_H
#define SOCKMODEL_SOCKET_H

#include <stdint.h>
#include <poll.h>
#include <sys/types.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "sm.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- option constants -------------------------------------------------- */

/* Windows: "#define SO_EXCLUSIVEADDRUSE ((int)(~SO_REUSEADDR))" (winsock2.h). */
#ifdef SO_EXCLUSIVEADDRUSE
#define SM_SYS_SO_EXCLUSIVEADDRUSE SO_EXCLUSIVEADDRUSE
#else
#define SM_SYS_SO_EXCLUSIVEADDRUSE ((int)(~SO_REUSEADDR))
#endif

/* FreeBSD 12+: SO_REUSEPORT_LB 0x00010000 (sys/socket.h). */
#ifdef SO_REUSEPORT_LB
#define SM_SYS_SO_REUSEPORT_LB SO_REUSEPORT_LB
#else
#define SM_SYS_SO_REUSEPORT_LB 0x00010000
#endif

/* Solaris / illumos: SO_EXCLBIND 0x1015 (sys/socket.h). */
#ifdef SO_EXCLBIND
#define SM_SYS_SO_EXCLBIND SO_EXCLBIND
#else
#define SM_SYS_SO_EXCLBIND 0x1015
#endif

/* Every modern POSIX system has SO_REUSEPORT; Linux before 3.9 headers did
 * not.  15 is Linux's value, the only one that can be missing it. */
#ifdef SO_REUSEPORT
#define SM_SYS_SO_REUSEPORT SO_REUSEPORT
#else
#define SM_SYS_SO_REUSEPORT 15
#endif

/* ---- contexts ---------------------------------------------------------- */

typedef struct sm_sys sm_sys;

/* A fresh world under the named profile ("linux", "windows", ...) with one
 * host "local", user "user" and process "main"; seed drives every random
 * choice of the world.  NULL with errno = ENOENT if there is no such
 * profile. */
sm_sys *sm_sys_new(const char *profile, uint64_t seed);

/* Another process in the same world as parent: on host HOST (NULL: the
 * parent's host; a new name adds a host that has only 127.0.0.1 and ::1),
 * named PROC, run by USER (NULL: the parent's user; "root" is privileged).
 * It has its own, empty descriptor table.  The world lives until the last
 * context on it is freed. */
sm_sys *sm_sys_spawn(sm_sys *parent, const char *host, const char *proc,
                     const char *user);

/* A context over a world the caller made and keeps (it is not freed with
 * the context), acting as process PROC (made with sm_proc_get(w, host, ...,
 * user)) of that world. */
sm_sys *sm_sys_attach(sm_world *w, sm_id host, sm_id user, sm_id proc);

/* Frees the context (its descriptors are NOT closed: call sm_sys_exit()
 * first if the world must see them closed). */
void sm_sys_free(sm_sys *c);

/* The process exits: the engine closes every socket it holds as its OS does
 * at process exit, and the descriptor table is emptied.  Later calls fail
 * with EBADF (socket(): ESRCH). */
int sm_sys_exit(sm_sys *c);

sm_world *sm_sys_world(const sm_sys *c);
sm_id sm_sys_host(const sm_sys *c);
sm_id sm_sys_proc(const sm_sys *c);
const char *sm_sys_profile_name(const sm_sys *c);

/* The engine socket behind descriptor fd, or SM_NONE. */
sm_id sm_sys_sock(const sm_sys *c, int fd);

/* The engine's result of the last call made through this context that
 * reached the engine: err, the rule that decided (plain English with its
 * source), the socket it conflicted with. */
const sm_result *sm_sys_last(const sm_sys *c);
/* The same for the last call that failed (kept across later successful
 * calls, like errno: a layer that closes its socket after a failed bind()
 * still lets its caller ask why the bind() failed). */
const sm_result *sm_sys_last_error(const sm_sys *c);

/* Called after every call made through this context, with the call's name
 * ("bind", ...), its descriptor (socket(): the new one, or -1) and the
 * result (also for failures decided by the layer itself).  NULL: none. */
typedef void (*sm_sys_trace_fn)(void *arg, const char *call, int fd,
                                const sm_result *r);
void sm_sys_set_trace(sm_sys *c, sm_sys_trace_fn fn, void *arg);

/* The name this context's OS gives an errno value: "WSAEADDRINUSE" under a
 * Windows profile, "EADDRINUSE" elsewhere; "ok" for 0. */
const char *sm_sys_errname(const sm_sys *c, int errnum);

/* sm_err <-> the build OS's errno (SM_OK <-> 0; unknown errno: -1). */
int sm_sys_errno_of(sm_err e);
sm_err sm_sys_err_of_errno(int errnum);

/* sockaddr <-> endpoint.  sm_sys_to_endpoint fails with EINVAL (length too
 * short), EAFNOSUPPORT (not AF_INET/AF_INET6) or EFAULT (NULL).
 * sm_sys_from_endpoint writes at most *len bytes and sets *len to the full
 * size of the address, as accept()/getsockname() do. */
int sm_sys_to_endpoint(const struct sockaddr *sa, socklen_t len,
                       sm_endpoint *out);
void sm_sys_from_endpoint(const sm_endpoint *ep, struct sockaddr *sa,
                          socklen_t *len);

/* The next socket() or accept() of this context is given this name in the
 * engine (shown by explanations); by default "PROC:fdN". */
void sm_sys_name_next(sm_sys *c, const char *name);

/* Number this context's descriptors as the kernel would, and keep each
 * number taken in the real descriptor table (a descriptor on /dev/null,
 * close-on-exec) while the model socket is open, so that no real file of
 * the process can have a model socket's number.  Without it (the default
 * of sm_sys_new() and friends) descriptors are 3, 4, ... of the context's
 * own table, the same in every run.  The default context of
 * sm_sys_current() uses real numbers.  Call it before the first socket():
 * -1 with EBUSY if a descriptor is open. */
int sm_sys_use_real_fds(sm_sys *c);

/* Make c the current context of this thread for <sockmodel/plain.h>
 * (NULL: none).  Returns the previous one. */
sm_sys *sm_sys_use(sm_sys *c);
/* This thread's context; for a thread that chose none, the process's
 * default context, made on first use from the environment:
 * SOCKMODEL_PROFILE (a profile name, default linux) and SOCKMODEL_SEED
 * (default 1).  NULL only if that profile does not exist. */
sm_sys *sm_sys_current(void);

/* ---- the socket calls -------------------------------------------------- */

/* AF_INET / AF_INET6; SOCK_STREAM (protocol 0 or IPPROTO_TCP) or SOCK_DGRAM
 * (0 or IPPROTO_UDP); SOCK_NONBLOCK and SOCK_CLOEXEC where the OS has them. */
int sm_sys_socket(sm_sys *c, int domain, int type, int protocol);

/* SOL_SOCKET: SO_REUSEADDR, SO_REUSEPORT, SM_SYS_SO_REUSEPORT_LB,
 * SM_SYS_SO_EXCLUSIVEADDRUSE, SM_SYS_SO_EXCLBIND (int), SO_LINGER (struct
 * linger); SO_KEEPALIVE, SO_BROADCAST, SO_SNDBUF, SO_RCVBUF are accepted and
 * have no effect.  IPPROTO_IPV6: IPV6_V6ONLY (AF_INET6 sockets only).
 * IPPROTO_TCP: TCP_NODELAY (no effect).  Anything else: ENOPROTOOPT.  An
 * option the profile's OS lacks fails as it would there (ENOPROTOOPT). */
int sm_sys_setsockopt(sm_sys *c, int fd, int level, int optname,
                      const void *optval, socklen_t optlen);
/* The options above, plus SO_TYPE, SO_ERROR (SOL_SOCKET) and
 * SO_ACCEPTCONN. */
int sm_sys_getsockopt(sm_sys *c, int fd, int level, int optname,
                      void *optval, socklen_t *optlen);

int sm_sys_bind(sm_sys *c, int fd, const struct sockaddr *addr,
                socklen_t len);
int sm_sys_listen(sm_sys *c, int fd, int backlog);
int sm_sys_connect(sm_sys *c, int fd, const struct sockaddr *addr,
                   socklen_t len);
/* addr and len may be NULL. */
int sm_sys_accept(sm_sys *c, int fd, struct sockaddr *addr, socklen_t *len);
/* accept() with SOCK_NONBLOCK / SOCK_CLOEXEC for the new descriptor;
 * other flags: EINVAL. */
int sm_sys_accept4(sm_sys *c, int fd, struct sockaddr *addr, socklen_t *len,
                   int flags);
int sm_sys_close(sm_sys *c, int fd);
/* SHUT_RD, SHUT_WR, SHUT_RDWR. */
int sm_sys_shutdown(sm_sys *c, int fd, int how);
/* Only the length counts; buf may be NULL.  recv() zero-fills what it
 * "reads" when buf is not NULL.  flags are ignored. */
ssize_t sm_sys_send(sm_sys *c, int fd, const void *buf, size_t len,
                    int flags);
ssize_t sm_sys_recv(sm_sys *c, int fd, void *buf, size_t len, int flags);
/* TCP: send() / recv(); sendto()'s address is ignored (POSIX: connection-
 * mode) and recvfrom() sets *alen to 0 (as Linux does).  UDP: the engine
 * moves datagrams on connected sockets only, so sendto() without an
 * address is send(), sendto() with one fails with ENOSYS (not modelled,
 * never a silent success), and recvfrom() reports the connected peer. */
ssize_t sm_sys_sendto(sm_sys *c, int fd, const void *buf, size_t len, int flags,
                      const struct sockaddr *addr, socklen_t alen);
ssize_t sm_sys_recvfrom(sm_sys *c, int fd, void *buf, size_t len, int flags,
                        struct sockaddr *addr, socklen_t *alen);
int sm_sys_getsockname(sm_sys *c, int fd, struct sockaddr *addr,
                       socklen_t *len);
int sm_sys_getpeername(sm_sys *c, int fd, struct sockaddr *addr,
                       socklen_t *len);
/* F_GETFL / F_SETFL (O_NONBLOCK), F_GETFD / F_SETFD (FD_CLOEXEC, stored
 * only).  Other commands: EINVAL. */
int sm_sys_fcntl(sm_sys *c, int fd, int cmd, ...);
/* Winsock's ioctlsocket(s, FIONBIO, &mode): non-blocking on/off. */
int sm_sys_ioctlsocket(sm_sys *c, int fd, long cmd, unsigned long *argp);

/* ---- calls on any descriptor --------------------------------------------- */

/* On one of this context's descriptors, the model's call (read = recv,
 * write = send, close, fcntl); on any other descriptor, or when c is NULL,
 * the real libc call, untouched.  Only a context that uses real numbers
 * (sm_sys_use_real_fds) can tell a model socket from a real file of the
 * same number. */
ssize_t sm_sys_read(sm_sys *c, int fd, void *buf, size_t len);
ssize_t sm_sys_write(sm_sys *c, int fd, const void *buf, size_t len);
int sm_sys_close_any(sm_sys *c, int fd);
int sm_sys_fcntl_any(sm_sys *c, int fd, int cmd, ...);

/* poll(): a model socket is readable (POLLIN) with data unread, a
 * connection to accept or the end of its stream, writable (POLLOUT) when
 * connected (ESTABLISHED, CLOSE_WAIT); a TCP socket in CLOSED reports
 * POLLOUT|POLLHUP (POLLERR too after a failed non-blocking connect), as
 * Linux tcp_poll() does.  With only model sockets, waiting runs the
 * virtual clock 1 ms at a time up to timeout (-1: up to 2 minutes, then -1
 * with EWOULDBLOCK: it would wait forever).  Real descriptors in the set
 * go to the real poll(), with timeout 0 if a model socket is ready, else
 * with the timeout; while it waits the model's clock stands still. */
int sm_sys_poll(sm_sys *c, struct pollfd *fds, nfds_t n, int timeout);

/* select() as poll() above: readable = POLLIN, POLLHUP or POLLERR,
 * writable = POLLOUT or POLLERR, exceptional = POLLPRI (Linux
 * fs/select.c); a descriptor open nowhere is EBADF. */
int sm_sys_select(sm_sys *c, int nfds, fd_set *rd, fd_set *wr, fd_set *ex,
                  struct timeval *timeout);

/* dup(), dup2(), dup3() of a model socket: another descriptor of the same
 * socket (the socket closes with its last descriptor); onto a descriptor
 * that is open, that one is closed first.  A context with real numbers
 * takes the new number from the kernel (dup: the lowest free one) and
 * holds it.  The _any forms pass real descriptors to the real calls (a
 * real descriptor put onto a model socket's number ends that descriptor
 * of the socket). */
int sm_sys_dup(sm_sys *c, int fd);
int sm_sys_dup2(sm_sys *c, int fd, int fd2);
int sm_sys_dup3(sm_sys *c, int fd, int fd2, int flags);
int sm_sys_dup_any(sm_sys *c, int fd);
int sm_sys_dup2_any(sm_sys *c, int fd, int fd2);
int sm_sys_dup3_any(sm_sys *c, int fd, int fd2, int flags);

/* sendmsg()/recvmsg(): the iovecs' bytes as one send/recv (recv: zeros
 * written iovec by iovec), msg_name as sendto()'s / recvfrom()'s address;
 * ancillary data is not modelled (msg_controllen 0, msg_flags 0).  Real
 * descriptors: the real calls. */
ssize_t sm_sys_sendmsg(sm_sys *c, int fd, const struct msghdr *msg, int flags);
ssize_t sm_sys_recvmsg(sm_sys *c, int fd, struct msghdr *msg, int flags);

/* ioctl(): FIONBIO (an int *) on a model socket; other requests EINVAL;
 * real descriptors: the real ioctl(). */
int sm_sys_ioctl_any(sm_sys *c, int fd, unsigned long req, ...);

#ifdef __cplusplus
}
#endif
#endif /* SOCKMODEL_SOCKET_H */
