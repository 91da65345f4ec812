/*
 * check_sockapi.c - the socket-API layer of libsockmodel
 * (include/sockmodel/socket.h, plain.h; sockapi/sm_sockapi.c).
 *
 * What is checked: the sm_err <-> errno mapping; sockaddr_in / sockaddr_in6
 * <-> sm_endpoint; the option constants (the build OS's own where it has
 * them, the values of Windows, FreeBSD and Solaris otherwise); the
 * descriptor table (lowest free descriptor, per-process tables, several
 * worlds at once, EBADF); argument errors decided by the layer; and bind
 * conflicts made through the PLAIN names (socket, setsockopt, bind, ...)
 * under the linux, windows and bsd profiles, with expected results from
 * shared/reference (linux.md 1c-1e; windows.md 1.2 table B; bsd-solaris.md
 * 1.2), not from running the model.  Connection calls are checked in the
 * form the connection model gives them once it exists (they answer ENOSYS
 * before; the test accepts that and checks nothing more then).
 */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "sockmodel/plain.h" /* last: the plain names from here on */

/* ---- helpers ------------------------------------------------------------- */

static sm_sys *ctx(const char *profile)
{
    sm_sys *c = sm_sys_new(profile, 1);
    ck_assert_msg(c != NULL, "no profile %s", profile);
    sm_sys_use(c);
    return c;
}

static struct sockaddr_in v4(const char *a, unsigned short port)
{
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    ck_assert_int_eq(inet_pton(AF_INET, a, &sin.sin_addr), 1);
    return sin;
}

static struct sockaddr_in6 v6(const char *a, unsigned short port)
{
    struct sockaddr_in6 sin6;
    memset(&sin6, 0, sizeof sin6);
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(port);
    ck_assert_int_eq(inet_pton(AF_INET6, a, &sin6.sin6_addr), 1);
    return sin6;
}

/* bind fd to a.b.c.d:port through the plain name: 0 or the errno. */
static int bind4(int fd, const char *a, unsigned short port)
{
    struct sockaddr_in sin = v4(a, port);
    return bind(fd, (const struct sockaddr *)&sin, sizeof sin) == 0 ? 0 : errno;
}

static int setint(int fd, int level, int opt, int v)
{
    return setsockopt(fd, level, opt, &v, sizeof v) == 0 ? 0 : errno;
}

/* A fast-reuse helper as portability layers write it, compiled unchanged
 * against the model (plain names, char * cast as in Winsock-minded code). */
static int fast_reuse_posix(int fd)
{
    int val = 1;
    return setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, (const char *)&val, sizeof(val));
}

/* ---- errno mapping ---------------------------------------------------------- */

START_TEST(errno_mapping)
{
    ck_assert_int_eq(sm_sys_errno_of(SM_OK), 0);
    ck_assert_int_eq(sm_sys_errno_of(SM_EADDRINUSE), EADDRINUSE);
    ck_assert_int_eq(sm_sys_errno_of(SM_EADDRNOTAVAIL), EADDRNOTAVAIL);
    ck_assert_int_eq(sm_sys_errno_of(SM_EACCES), EACCES);
    ck_assert_int_eq(sm_sys_errno_of(SM_ENOPROTOOPT), ENOPROTOOPT);
    ck_assert_int_eq(sm_sys_errno_of(SM_EWOULDBLOCK), EWOULDBLOCK);
    ck_assert_int_eq(sm_sys_errno_of(SM_EINPROGRESS), EINPROGRESS);
    ck_assert_int_eq(sm_sys_errno_of(SM_ENOSYS), ENOSYS);
    ck_assert_int_eq(sm_sys_errno_of(SM_ECONNREFUSED), ECONNREFUSED);
    /* Every error has its own errno and maps back to itself. */
    for (int e = 1; e < SM_ERR_COUNT; e++) {
        int n = sm_sys_errno_of((sm_err)e);
        ck_assert_msg(n > 0, "%s has no errno", sm_err_name((sm_err)e));
        ck_assert_msg(sm_sys_err_of_errno(n) == (sm_err)e, "%s does not map back",
                      sm_err_name((sm_err)e));
        for (int f = 1; f < e; f++)
            ck_assert_msg(sm_sys_errno_of((sm_err)f) != n, "%s and %s share errno %d",
                          sm_err_name((sm_err)e), sm_err_name((sm_err)f), n);
    }
    ck_assert_int_eq(sm_sys_err_of_errno(EAGAIN), SM_EWOULDBLOCK);
    ck_assert_int_eq(sm_sys_err_of_errno(0), SM_OK);
    ck_assert_int_eq(sm_sys_err_of_errno(EMFILE), SM_ERR_COUNT);
}
END_TEST

START_TEST(errno_names_per_profile)
{
    sm_sys *w = sm_sys_new("windows", 1), *l = sm_sys_new("linux", 1);
    ck_assert_str_eq(sm_sys_errname(w, EADDRINUSE), "WSAEADDRINUSE");
    ck_assert_str_eq(sm_sys_errname(w, EACCES), "WSAEACCES");
    ck_assert_str_eq(sm_sys_errname(l, EADDRINUSE), "EADDRINUSE");
    ck_assert_str_eq(sm_sys_errname(l, 0), "ok");
    ck_assert_str_eq(sm_sys_profile_name(w), "windows");
    sm_sys_free(w);
    sm_sys_free(l);
    errno = 0;
    ck_assert_ptr_null(sm_sys_new("no-such-os", 1));
    ck_assert_int_eq(errno, ENOENT);
}
END_TEST

/* ---- sockaddr <-> endpoint -------------------------------------------------- */

START_TEST(sockaddr_v4)
{
    struct sockaddr_in sin = v4("192.0.2.1", 8080);
    sm_endpoint ep;
    ck_assert_int_eq(sm_sys_to_endpoint((struct sockaddr *)&sin, sizeof sin, &ep), 0);
    ck_assert_int_eq(ep.addr.family, 4);
    ck_assert_int_eq(ep.port, 8080);
    ck_assert_int_eq(ep.addr.b[0], 192);
    ck_assert_int_eq(ep.addr.b[3], 1);
    char buf[SM_EP_STRLEN];
    sm_endpoint_format(&ep, buf, sizeof buf);
    ck_assert_str_eq(buf, "192.0.2.1:8080");

    struct sockaddr_in back;
    socklen_t len = sizeof back;
    sm_sys_from_endpoint(&ep, (struct sockaddr *)&back, &len);
    ck_assert_int_eq(len, sizeof back);
    ck_assert_int_eq(back.sin_family, AF_INET);
    ck_assert_int_eq(ntohs(back.sin_port), 8080);
    ck_assert_int_eq(back.sin_addr.s_addr, sin.sin_addr.s_addr);

    /* Too short for sockaddr_in: EINVAL; NULL: EFAULT. */
    errno = 0;
    ck_assert_int_eq(sm_sys_to_endpoint((struct sockaddr *)&sin, sizeof sin - 1, &ep), -1);
    ck_assert_int_eq(errno, EINVAL);
    ck_assert_int_eq(sm_sys_to_endpoint(NULL, sizeof sin, &ep), -1);
    ck_assert_int_eq(errno, EFAULT);
    struct sockaddr sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_family = AF_UNIX;
    ck_assert_int_eq(sm_sys_to_endpoint(&sa, sizeof sa, &ep), -1);
    ck_assert_int_eq(errno, EAFNOSUPPORT);
}
END_TEST

START_TEST(sockaddr_v6)
{
    struct sockaddr_in6 sin6 = v6("2001:db8::1", 443);
    sm_endpoint ep;
    ck_assert_int_eq(sm_sys_to_endpoint((struct sockaddr *)&sin6, sizeof sin6, &ep), 0);
    char buf[SM_EP_STRLEN];
    sm_endpoint_format(&ep, buf, sizeof buf);
    ck_assert_str_eq(buf, "[2001:db8::1]:443");
    /* RFC 2133 length (no sin6_scope_id) is accepted, as Linux does. */
    ck_assert_int_eq(sm_sys_to_endpoint((struct sockaddr *)&sin6, 24, &ep), 0);
    ck_assert_int_eq(sm_sys_to_endpoint((struct sockaddr *)&sin6, 23, &ep), -1);
    ck_assert_int_eq(errno, EINVAL);
    /* v4-mapped stays an IPv6 address. */
    sin6 = v6("::ffff:127.0.0.1", 80);
    ck_assert_int_eq(sm_sys_to_endpoint((struct sockaddr *)&sin6, sizeof sin6, &ep), 0);
    ck_assert(sm_addr_is_v4mapped(&ep.addr));

    /* Output truncated to the buffer, full length reported. */
    struct sockaddr_storage ss;
    memset(&ss, 0xab, sizeof ss);
    socklen_t len = 8;
    sm_sys_from_endpoint(&ep, (struct sockaddr *)&ss, &len);
    ck_assert_int_eq(len, sizeof(struct sockaddr_in6));
    ck_assert_int_eq(((unsigned char *)&ss)[8], 0xab);
}
END_TEST

/* ---- option constants --------------------------------------------------------- */

START_TEST(option_constants)
{
    /* Windows: SO_EXCLUSIVEADDRUSE is ((int)(~SO_REUSEADDR)) (winsock2.h). */
#ifndef _WIN32
    ck_assert_int_eq(SM_SYS_SO_EXCLUSIVEADDRUSE, (int)(~SO_REUSEADDR));
#endif
    ck_assert_int_eq(SO_EXCLUSIVEADDRUSE, SM_SYS_SO_EXCLUSIVEADDRUSE);
#ifdef __linux__
    /* Linux has none of the three: FreeBSD's and Solaris's values. */
    ck_assert_int_eq(SM_SYS_SO_REUSEPORT_LB, 0x10000);
    ck_assert_int_eq(SM_SYS_SO_EXCLBIND, 0x1015);
    ck_assert_int_eq(SM_SYS_SO_REUSEPORT, 15);
#endif
    ck_assert_int_eq(SO_REUSEPORT_LB, SM_SYS_SO_REUSEPORT_LB);
    ck_assert_int_eq(SO_EXCLBIND, SM_SYS_SO_EXCLBIND);
    ck_assert_int_eq(SM_SYS_SO_REUSEPORT, SO_REUSEPORT);
    /* None collides with an option the model knows at SOL_SOCKET. */
    const int opts[] = {SO_REUSEADDR, SO_REUSEPORT, SO_LINGER, SO_KEEPALIVE,
                        SO_BROADCAST, SO_SNDBUF, SO_RCVBUF, SO_TYPE, SO_ERROR,
                        SO_ACCEPTCONN, SM_SYS_SO_EXCLUSIVEADDRUSE,
                        SM_SYS_SO_REUSEPORT_LB, SM_SYS_SO_EXCLBIND};
    size_t n = sizeof opts / sizeof opts[0];
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < i; j++)
            ck_assert_msg(opts[i] != opts[j], "options %zu and %zu collide", i, j);
}
END_TEST

/* Which options each OS has (the profile answers ENOPROTOOPT for the
 * others, as a real program would see it): windows.md 1.0 and 2.1,
 * bsd-solaris.md 1.1 (SO_REUSEPORT_LB), 5 (SO_EXCLBIND), linux.md 1a. */
START_TEST(options_per_profile)
{
    static const struct {
        const char *profile;
        int excl, lb, exclbind, reuseport;
    } rows[] = {
        {"linux", ENOPROTOOPT, ENOPROTOOPT, ENOPROTOOPT, 0},
        {"linux-3.8", ENOPROTOOPT, ENOPROTOOPT, ENOPROTOOPT, ENOPROTOOPT},
        {"bsd", ENOPROTOOPT, 0, ENOPROTOOPT, 0},
        {"solaris", ENOPROTOOPT, ENOPROTOOPT, 0, ENOPROTOOPT}, /* illumos: none (5.3) */
        {"windows", 0, ENOPROTOOPT, ENOPROTOOPT, ENOPROTOOPT},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        sm_sys *c = ctx(rows[i].profile);
        int a = socket(AF_INET, SOCK_STREAM, 0), b = socket(AF_INET, SOCK_STREAM, 0);
        int d = socket(AF_INET, SOCK_STREAM, 0), e = socket(AF_INET, SOCK_STREAM, 0);
        ck_assert_msg(setint(a, SOL_SOCKET, SO_EXCLUSIVEADDRUSE, 1) == rows[i].excl,
                      "%s SO_EXCLUSIVEADDRUSE", rows[i].profile);
        ck_assert_msg(setint(b, SOL_SOCKET, SO_REUSEPORT_LB, 1) == rows[i].lb,
                      "%s SO_REUSEPORT_LB", rows[i].profile);
        ck_assert_msg(setint(d, SOL_SOCKET, SO_EXCLBIND, 1) == rows[i].exclbind,
                      "%s SO_EXCLBIND", rows[i].profile);
        ck_assert_msg(setint(e, SOL_SOCKET, SO_REUSEPORT, 1) == rows[i].reuseport,
                      "%s SO_REUSEPORT", rows[i].profile);
        /* Windows refuses SO_REUSEADDR on a socket that has
         * SO_EXCLUSIVEADDRUSE (windows.md 2.1 item 5). */
        ck_assert_int_eq(setint(a, SOL_SOCKET, SO_REUSEADDR, 1),
                         strcmp(rows[i].profile, "windows") == 0 ? EINVAL : 0);
        sm_sys_free(c);
    }
}
END_TEST

START_TEST(getsockopt_values)
{
    sm_sys *c = ctx("linux");
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int v = -1;
    socklen_t len = sizeof v;
    ck_assert_int_eq(getsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &v, &len), 0);
    ck_assert_int_eq(v, 0);
    ck_assert_int_eq(fast_reuse_posix(fd), 0);
    len = sizeof v;
    ck_assert_int_eq(getsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &v, &len), 0);
    ck_assert_int_eq(v, 1);
    ck_assert_int_eq(len, sizeof(int));
    len = sizeof v;
    ck_assert_int_eq(getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len), 0);
    ck_assert_int_eq(v, SOCK_STREAM);

    /* SO_LINGER takes a struct linger. */
    struct linger l = {1, 0}, out = {7, 7};
    ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l), 0);
    len = sizeof out;
    ck_assert_int_eq(getsockopt(fd, SOL_SOCKET, SO_LINGER, &out, &len), 0);
    ck_assert_int_eq(out.l_onoff, 1);
    ck_assert_int_eq(out.l_linger, 0);
    ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(int)), -1);
    ck_assert_int_eq(errno, EINVAL);

    /* Argument errors decided by the layer. */
    ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, NULL, sizeof v), -1);
    ck_assert_int_eq(errno, EFAULT);
    ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &v, 2), -1);
    ck_assert_int_eq(errno, EINVAL);
    ck_assert_int_eq(setint(fd, SOL_SOCKET, 0x7777, 1), ENOPROTOOPT);
    ck_assert_ptr_nonnull(strstr(sm_sys_last(c)->rule->text, "does not know"));
    ck_assert_int_eq(setint(fd, IPPROTO_TCP, TCP_NODELAY, 1), 0);
    /* IPV6_V6ONLY exists only on AF_INET6 sockets. */
    ck_assert_int_eq(setint(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1), ENOPROTOOPT);

    /* IPV6_V6ONLY default: Linux 0 (bindv6only), Windows 1 (Vista+). */
    int s6 = socket(AF_INET6, SOCK_STREAM, 0);
    len = sizeof v;
    ck_assert_int_eq(getsockopt(s6, IPPROTO_IPV6, IPV6_V6ONLY, &v, &len), 0);
    ck_assert_int_eq(v, 0);
    sm_sys_free(c);
    c = ctx("windows");
    s6 = socket(AF_INET6, SOCK_STREAM, 0);
    len = sizeof v;
    ck_assert_int_eq(getsockopt(s6, IPPROTO_IPV6, IPV6_V6ONLY, &v, &len), 0);
    ck_assert_int_eq(v, 1);
    ck_assert_int_eq(setint(s6, IPPROTO_IPV6, IPV6_V6ONLY, 0), 0);
    len = sizeof v;
    ck_assert_int_eq(getsockopt(s6, IPPROTO_IPV6, IPV6_V6ONLY, &v, &len), 0);
    ck_assert_int_eq(v, 0);
    sm_sys_free(c);
}
END_TEST

/* ---- the descriptor table ------------------------------------------------------- */

START_TEST(fd_table)
{
    sm_sys *c = ctx("linux");
    int a = socket(AF_INET, SOCK_STREAM, 0);
    int b = socket(AF_INET, SOCK_DGRAM, 0);
    int d = socket(AF_INET6, SOCK_STREAM, IPPROTO_TCP);
    ck_assert_int_eq(a, 3);
    ck_assert_int_eq(b, 4);
    ck_assert_int_eq(d, 5);
    ck_assert_uint_ne(sm_sys_sock(c, a), sm_sys_sock(c, b));
    ck_assert_int_eq(close(b), 0);
    ck_assert_uint_eq(sm_sys_sock(c, b), SM_NONE);
    /* The lowest free descriptor is used again. */
    ck_assert_int_eq(socket(AF_INET, SOCK_STREAM, 0), 4);
    /* Closed or never opened: EBADF, with the layer's rule. */
    ck_assert_int_eq(close(42), -1);
    ck_assert_int_eq(errno, EBADF);
    ck_assert_int_eq(sm_sys_last(c)->err, SM_EBADF);
    ck_assert_int_eq(listen(0, 1), -1);
    ck_assert_int_eq(errno, EBADF);
    ck_assert_int_eq(close(a), 0);
    ck_assert_int_eq(close(a), -1);
    ck_assert_int_eq(errno, EBADF);

    /* Bad socket() arguments. */
    ck_assert_int_eq(socket(AF_UNIX, SOCK_STREAM, 0), -1);
    ck_assert_int_eq(errno, EAFNOSUPPORT);
    ck_assert_int_eq(socket(AF_INET, SOCK_RAW, 0), -1);
    ck_assert_int_eq(errno, ESOCKTNOSUPPORT);
    ck_assert_int_eq(socket(AF_INET, SOCK_STREAM, IPPROTO_UDP), -1);
    ck_assert_int_eq(errno, EPROTONOSUPPORT);
    sm_sys_free(c);
}
END_TEST

/* Two processes in one world: each has its own table (both start at 3)
 * and they meet in the world's port table.  Two worlds do not meet. */
START_TEST(contexts_and_worlds)
{
    sm_sys *p1 = sm_sys_new("linux", 1);
    sm_sys *p2 = sm_sys_spawn(p1, NULL, "other", NULL);
    sm_sys *w2 = sm_sys_new("linux", 1);
    ck_assert_ptr_eq(sm_sys_world(p1), sm_sys_world(p2));
    ck_assert_ptr_ne(sm_sys_world(p1), sm_sys_world(w2));

    sm_sys_use(p1);
    int a = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_eq(bind4(a, "0.0.0.0", 7000), 0);
    sm_sys_use(p2);
    int b = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_eq(a, b); /* both 3: per-process tables */
    ck_assert_int_eq(bind4(b, "0.0.0.0", 7000), EADDRINUSE);
    ck_assert_uint_eq(sm_sys_last(p2)->culprit, sm_sys_sock(p1, a));
    sm_sys_use(w2);
    int c = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_eq(bind4(c, "0.0.0.0", 7000), 0);

    /* SM_PLAIN_CTX can name any context: the plain names follow it. */
    ck_assert_ptr_eq(sm_sys_use(p1), w2);
    ck_assert_ptr_eq(sm_sys_current(), p1);

    /* Process exit closes the port; the exited context is inert. */
    ck_assert_int_eq(sm_sys_exit(p1), 0);
    ck_assert_int_eq(close(a), -1);
    ck_assert_int_eq(errno, EBADF);
    ck_assert_int_eq(socket(AF_INET, SOCK_STREAM, 0), -1);
    ck_assert_int_eq(errno, ESRCH);
    sm_sys_use(p2);
    int b2 = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_eq(bind4(b2, "0.0.0.0", 7000), 0);

    /* The world outlives its first context. */
    sm_sys_free(p1);
    ck_assert_int_eq(listen(b2, 5), 0);
    sm_sys_free(p2);
    sm_sys_free(w2);
}
END_TEST

START_TEST(attach_to_own_world)
{
    sm_world *w = sm_world_new(sm_profile_find("bsd"), 3);
    sm_id h = sm_host_add(w, "box");
    sm_id u = sm_user_get(w, "alice");
    sm_sys *c = sm_sys_attach(w, h, u, sm_proc_get(w, h, "srv", u));
    sm_sys_use(c);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_eq(bind4(fd, "127.0.0.1", 8080), 0);
    ck_assert_int_eq(sm_sock_host(w, sm_sys_sock(c, fd)), h);
    sm_sys_free(c);
    sm_world_free(w); /* still the caller's */
}
END_TEST

/* ---- bind conflicts through the plain API --------------------------------------- */

/* A listens on 0.0.0.0:8080 (with or without SO_REUSEADDR), then B (same
 * user, another process) binds the same address (with or without).  Expected:
 *   linux: a listener never shares through SO_REUSEADDR: EADDRINUSE always
 *          (linux.md 1c/1d);
 *   windows (table B, same user): DEF-W after DEF-W = WSAEADDRINUSE,
 *          RA-W after RA-W = success, RA-W after DEF-W = WSAEACCES
 *          (windows.md 1.2);
 *   bsd:   SO_REUSEADDR alone does not let two sockets bind exactly the
 *          same address: EADDRINUSE (bsd-solaris.md 1.2).
 */
static int second_bind(const char *profile, int ra_first, int ra_second)
{
    sm_sys *p1 = sm_sys_new(profile, 1);
    sm_sys *p2 = sm_sys_spawn(p1, NULL, "second", NULL);
    sm_sys_use(p1);
    int a = socket(AF_INET, SOCK_STREAM, 0);
    if (ra_first)
        ck_assert_int_eq(fast_reuse_posix(a), 0);
    ck_assert_int_eq(bind4(a, "0.0.0.0", 8080), 0);
    ck_assert_int_eq(listen(a, 5), 0);
    sm_sys_use(p2);
    int b = socket(AF_INET, SOCK_STREAM, 0);
    if (ra_second)
        ck_assert_int_eq(fast_reuse_posix(b), 0);
    int rc = bind4(b, "0.0.0.0", 8080);
    if (rc)
        ck_assert_uint_eq(sm_sys_last_error(p2)->culprit, sm_sys_sock(p1, a));
    sm_sys_use(NULL);
    sm_sys_free(p2);
    sm_sys_free(p1);
    return rc;
}

START_TEST(bind_conflicts_plain)
{
    ck_assert_int_eq(second_bind("linux", 0, 0), EADDRINUSE);
    ck_assert_int_eq(second_bind("linux", 1, 1), EADDRINUSE);
    ck_assert_int_eq(second_bind("windows", 0, 0), EADDRINUSE);
    ck_assert_int_eq(second_bind("windows", 1, 1), 0);
    ck_assert_int_eq(second_bind("windows", 0, 1), EACCES);
    ck_assert_int_eq(second_bind("bsd", 0, 0), EADDRINUSE);
    ck_assert_int_eq(second_bind("bsd", 1, 1), EADDRINUSE);
}
END_TEST

/* Address checks and names. */
START_TEST(bind_addresses_and_names)
{
    sm_sys *c = ctx("linux");
    int a = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin;
    socklen_t len = sizeof sin;
    ck_assert_int_eq(getsockname(a, (struct sockaddr *)&sin, &len), 0);
    ck_assert_int_eq(sin.sin_family, AF_INET);
    ck_assert_int_eq(sin.sin_port, 0);
    ck_assert_int_eq(bind4(a, "198.51.100.7", 80), EADDRNOTAVAIL);
    ck_assert_int_eq(bind4(a, "192.0.2.2", 0), 0);
    len = sizeof sin;
    ck_assert_int_eq(getsockname(a, (struct sockaddr *)&sin, &len), 0);
    ck_assert_int_eq(len, sizeof sin);
    ck_assert_int_ge(ntohs(sin.sin_port), 32768); /* linux ip_local_port_range */
    ck_assert_int_le(ntohs(sin.sin_port), 60999);
    ck_assert_int_eq(ntohl(sin.sin_addr.s_addr), 0xc0000202);
    ck_assert_uint_eq(sm_sys_last(c)->err, SM_OK);
    /* Bound once: EINVAL (engine). */
    ck_assert_int_eq(bind4(a, "192.0.2.2", 9000), EINVAL);
    /* An IPv6 address on an AF_INET socket: the length is checked by the
     * family of the address given; then EAFNOSUPPORT from the engine. */
    int b = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in6 sin6 = v6("::1", 9001);
    ck_assert_int_eq(bind(b, (struct sockaddr *)&sin6, sizeof sin6), -1);
    ck_assert_int_eq(errno, EAFNOSUPPORT);
    ck_assert_int_eq(bind(b, (struct sockaddr *)&sin6, 4), -1);
    ck_assert_int_eq(errno, EINVAL);
    /* AF_INET6 socket, [::1]: fine; getpeername on it: ENOTCONN. */
    int s6 = socket(AF_INET6, SOCK_STREAM, 0);
    ck_assert_int_eq(bind(s6, (struct sockaddr *)&sin6, sizeof sin6), 0);
    struct sockaddr_in6 out6;
    len = sizeof out6;
    ck_assert_int_eq(getsockname(s6, (struct sockaddr *)&out6, &len), 0);
    ck_assert_int_eq(ntohs(out6.sin6_port), 9001);
    ck_assert_int_eq(getpeername(s6, (struct sockaddr *)&out6, &len), -1);
    ck_assert_int_eq(errno, ENOTCONN);
    ck_assert_int_eq(shutdown(s6, 99), -1);
    ck_assert_int_eq(errno, EINVAL);
    sm_sys_free(c);
}
END_TEST

START_TEST(udp_cannot_listen)
{
    sm_sys *c = ctx("linux");
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    ck_assert_int_eq(bind4(u, "127.0.0.1", 5353), 0);
    ck_assert_int_eq(listen(u, 1), -1);
    ck_assert_int_eq(errno, EOPNOTSUPP);
    sm_sys_free(c);
}
END_TEST

/* Trace: every call reports its name, descriptor and result. */
static void count_calls(void *arg, const char *call, int fd, const sm_result *r)
{
    (void)fd;
    char *log = arg;
    size_t n = strlen(log);
    snprintf(log + n, 256 - n, "%s:%s ", call, sm_err_name(r->err));
}

START_TEST(trace_calls)
{
    char log[256] = "";
    sm_sys *c = ctx("linux");
    sm_sys_set_trace(c, count_calls, log);
    int a = socket(AF_INET, SOCK_STREAM, 0);
    bind4(a, "127.0.0.1", 1234);
    close(77);
    ck_assert_str_eq(log, "socket:ok bind:ok close:EBADF ");
    sm_sys_free(c);
}
END_TEST

/* ---- connections (real semantics once the engine has them) ------------------------- */

START_TEST(connect_accept)
{
    sm_sys *srv = sm_sys_new("linux", 1);
    sm_sys *cli = sm_sys_spawn(srv, NULL, "client", NULL);
    sm_sys_use(srv);
    int l = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_eq(bind4(l, "127.0.0.1", 5000), 0);
    ck_assert_int_eq(listen(l, 5), 0);
    sm_sys_use(cli);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in to = v4("127.0.0.1", 5000);
    int rc = connect(s, (struct sockaddr *)&to, sizeof to);
    if (rc != 0 && errno == ENOSYS) {
        /* No connection model yet: nothing more to check. */
        sm_sys_free(cli);
        sm_sys_free(srv);
        return;
    }
    ck_assert_int_eq(rc, 0);
    struct sockaddr_in mine, peer;
    socklen_t len = sizeof mine;
    ck_assert_int_eq(getsockname(s, (struct sockaddr *)&mine, &len), 0);
    ck_assert_int_ne(mine.sin_port, 0); /* autobound at connect */
    sm_sys_use(srv);
    len = sizeof peer;
    int a = accept(l, (struct sockaddr *)&peer, &len);
    ck_assert_int_eq(a, 4); /* lowest free after the listener */
    ck_assert_int_eq(len, sizeof peer);
    ck_assert_int_eq(peer.sin_port, mine.sin_port);
    ck_assert_int_eq(peer.sin_addr.s_addr, mine.sin_addr.s_addr);
    /* The client's peer is the listener's address. */
    sm_sys_use(cli);
    struct sockaddr_in theirs;
    len = sizeof theirs;
    ck_assert_int_eq(getpeername(s, (struct sockaddr *)&theirs, &len), 0);
    ck_assert_int_eq(ntohs(theirs.sin_port), 5000);
    ck_assert_int_eq(ntohl(theirs.sin_addr.s_addr), 0x7f000001);
    sm_sys_use(srv);
    ck_assert_int_eq(send(a, NULL, 100, 0), 100);
    sm_sys_use(cli);
    char buf[64];
    ck_assert_int_eq(recv(s, buf, sizeof buf, 0), 64);
    ck_assert_int_eq(recv(s, buf, sizeof buf, 0), 36);
    /* Non-blocking: nothing more to read. */
    ck_assert_int_eq(fcntl(s, F_SETFL, fcntl(s, F_GETFL) | O_NONBLOCK), 0);
    ck_assert_int_ne(fcntl(s, F_GETFL) & O_NONBLOCK, 0);
    ck_assert_int_eq(recv(s, buf, sizeof buf, 0), -1);
    ck_assert(errno == EAGAIN || errno == EWOULDBLOCK);
    /* The server closes first: its side ends in TIME_WAIT. */
    sm_sys_use(srv);
    sm_id conn = sm_sys_sock(srv, a);
    ck_assert_int_eq(close(a), 0);
    sm_advance(sm_sys_world(srv), 1000000);
    sm_sys_use(cli);
    ck_assert_int_eq(recv(s, buf, sizeof buf, 0), 0); /* end of stream */
    len = sizeof theirs; /* CLOSE_WAIT still has its peer */
    ck_assert_int_eq(getpeername(s, (struct sockaddr *)&theirs, &len), 0);
    ck_assert_int_eq(close(s), 0);
    sm_advance(sm_sys_world(srv), 1000000);
    ck_assert_int_eq(sm_sock_state(sm_sys_world(srv), conn), SM_TIME_WAIT);
    sm_sys_free(cli);
    sm_sys_free(srv);
}
END_TEST

START_TEST(nonblocking_connect_refused)
{
    sm_sys *c = ctx("linux");
    int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (s < 0 && errno != ENOSYS) {
        /* The engine does not take O_NONBLOCK yet. */
        ck_assert_int_eq(errno, ENOPROTOOPT);
        sm_sys_free(c);
        return;
    }
    struct sockaddr_in to = v4("127.0.0.1", 6000); /* nobody listens */
    int rc = connect(s, (struct sockaddr *)&to, sizeof to);
    if (rc != 0 && errno == ENOSYS) {
        sm_sys_free(c);
        return;
    }
    ck_assert_int_eq(rc, -1);
    ck_assert_int_eq(errno, EINPROGRESS);
    sm_advance(sm_sys_world(c), 10000000);
    int err = -1;
    socklen_t len = sizeof err;
    ck_assert_int_eq(getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len), 0);
    ck_assert_int_eq(err, ECONNREFUSED);
    sm_sys_free(c);
}
END_TEST

/* A program that never made a context gets the default one, made from
 * the environment (SOCKMODEL_PROFILE, SOCKMODEL_SEED): socket() works. */
START_TEST(default_context_from_env)
{
    setenv("SOCKMODEL_PROFILE", "windows", 1);
    sm_sys *prev = sm_sys_use(NULL);
    sm_sys *c = sm_sys_current();
    ck_assert_ptr_nonnull(c);
    ck_assert_str_eq(sm_sys_profile_name(c), "windows");
    ck_assert_ptr_eq(sm_sys_current(), c); /* made once */
    int fd = sm_sys_socket(c, AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(sm_sys_close(c, fd), 0);
    sm_sys_use(prev);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sockapi");
    TCase *t = tcase_create("core");
    tcase_add_test(t, errno_mapping);
    tcase_add_test(t, errno_names_per_profile);
    tcase_add_test(t, sockaddr_v4);
    tcase_add_test(t, sockaddr_v6);
    tcase_add_test(t, option_constants);
    tcase_add_test(t, options_per_profile);
    tcase_add_test(t, getsockopt_values);
    tcase_add_test(t, fd_table);
    tcase_add_test(t, contexts_and_worlds);
    tcase_add_test(t, attach_to_own_world);
    tcase_add_test(t, bind_conflicts_plain);
    tcase_add_test(t, bind_addresses_and_names);
    tcase_add_test(t, udp_cannot_listen);
    tcase_add_test(t, trace_calls);
    tcase_add_test(t, connect_accept);
    tcase_add_test(t, nonblocking_connect_refused);
    tcase_add_test(t, default_context_from_env);
    suite_add_tcase(s, t);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
