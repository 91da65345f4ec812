/*
 * check_plain.c - a program compiled unchanged against <sockmodel/plain.h>
 * (tests/plain_prog.c, built with -include sockmodel/plain.h, as is this
 * file): every socket call it makes goes to the model, and calls on real
 * descriptors (a file, a pipe) go to the kernel untouched.
 *
 * What is checked: the program's server+client run (socket, bind, listen,
 * connect, poll, accept4 with SOCK_NONBLOCK|SOCK_CLOEXEC, write, read,
 * sendto, recvfrom, close, shutdown) under linux and windows, where a
 * restart of the server without SO_REUSEADDR over its TIME_WAIT
 * connection differs (shared/reference linux.md 1c: EADDRINUSE; windows.md
 * 3.2: TIME_WAIT does not conflict with a default bind); the model's
 * descriptors are the numbers the kernel would give and stay taken; read,
 * write, close and fcntl on a real file and poll on a pipe pass through;
 * dup/dup2/dup3 share a socket that closes with its last descriptor,
 * sendmsg/recvmsg move the iovecs' bytes, select and ioctl(FIONBIO) on
 * model sockets, and dup, select and ioctl on a pipe are the real calls.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plain_prog.h"

static sm_sys *use_profile(const char *profile)
{
    sm_sys *c = sm_sys_new(profile, 1);
    ck_assert_msg(c != NULL, "no profile %s", profile);
    ck_assert_int_eq(sm_sys_use_real_fds(c), 0);
    sm_sys_use(c);
    return c;
}

static struct sockaddr_in loopback4(unsigned short port)
{
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return sin;
}

/* The descriptor number the kernel hands out next. */
static int next_real_fd(void)
{
    int fd = open("/dev/null", O_RDONLY);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(close(fd), 0); /* a real one: passed through */
    return fd;
}

/* What every OS answers alike for the program's calls (POSIX, and each
 * profile's reference for the calls the model decides). */
static void check_common(const struct plain_prog *p, int first_fd)
{
    ck_assert_int_eq(p->srv, first_fd);
    ck_assert_int_eq(p->cli, first_fd + 1);
    ck_assert_int_eq(p->acc, first_fd + 2);
    ck_assert_int_eq(p->bind, 0);
    ck_assert_int_eq(p->listen, 0);
    ck_assert_int_eq(p->connect, 0);
    ck_assert_int_eq(p->poll_out, 1); /* connected: writable */
    ck_assert_int_eq(p->poll_out_revents, POLLOUT);
    ck_assert_int_eq(p->poll_listen, 1);
    ck_assert_int_eq(p->poll_listen_revents, POLLIN);
    ck_assert(p->acc_nonblock);
    ck_assert(p->acc_cloexec);
    ck_assert(p->names_match);
    ck_assert_int_eq(p->read_empty, -1);
    ck_assert_int_eq(p->read_empty_errno, EWOULDBLOCK);
    ck_assert_int_eq(p->write, 5);
    ck_assert_int_eq(p->poll_data, 1);
    ck_assert_int_eq(p->poll_data_revents, POLLIN);
    ck_assert_int_eq(p->read, 5);
    ck_assert_int_eq(p->sendto, 1);      /* TCP: the address is ignored */
    ck_assert_int_eq(p->recvfrom, 1);
    ck_assert_int_eq(p->recvfrom_len, 0); /* TCP: no address */
    ck_assert_int_eq(p->close_acc, 0);
    ck_assert_int_eq(p->poll_eof, 1);
    ck_assert(p->poll_eof_revents & POLLIN);
    ck_assert_int_eq(p->read_eof, 0);
    ck_assert_int_eq(p->shutdown, 0);
}

/* Runs the program under PROFILE; returns what it saw after the checks
 * every OS shares, and that its descriptors were all given back. */
static struct plain_prog run_under(const char *profile)
{
    int first = next_real_fd();
    sm_sys *c = use_profile(profile);
    struct plain_prog p;
    plain_prog_run(8080, &p);
    check_common(&p, first);
    /* Every model descriptor is closed: its number is free again. */
    ck_assert_int_eq(next_real_fd(), first);
    sm_sys_use(NULL);
    sm_sys_free(c);
    return p;
}

START_TEST(program_under_linux)
{
    struct plain_prog p = run_under("linux");
    /* linux.md 1c: a TIME_WAIT connection on the port blocks a bind
     * without SO_REUSEADDR. */
    ck_assert_int_eq(p.rebind, -1);
    ck_assert_int_eq(p.rebind_errno, EADDRINUSE);
}
END_TEST

START_TEST(program_under_windows)
{
    struct plain_prog p = run_under("windows");
    /* windows.md 3.2: TIME_WAIT does not conflict with a default bind. */
    ck_assert_int_eq(p.rebind, 0);
}
END_TEST

/* An unchanged program that sets up nothing: the default context, from
 * SOCKMODEL_PROFILE, with the kernel's descriptor numbers. */
START_TEST(program_default_context)
{
    setenv("SOCKMODEL_PROFILE", "windows", 1);
    sm_sys_use(NULL);
    int fd = open("/dev/null", O_RDONLY);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(close(fd), 0); /* made the default context */
    ck_assert_str_eq(sm_sys_profile_name(sm_sys_current()), "windows");
    struct plain_prog p;
    plain_prog_run(8080, &p);
    check_common(&p, fd);
    ck_assert_int_eq(p.rebind, 0);
    ck_assert_int_eq(next_real_fd(), fd);
}
END_TEST

/* A real file next to model sockets: read, write, fcntl and close reach
 * the kernel; the file cannot get a model socket's number. */
START_TEST(real_file_passes_through)
{
    sm_sys *c = use_profile("linux");
    int s = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(s, 3);
    char path[] = "/tmp/check_plain.XXXXXX";
    int f = mkstemp(path);
    ck_assert_int_ge(f, 0);
    unlink(path);
    ck_assert_int_ne(f, s);
    ck_assert_ptr_eq(sm_sys_sock(c, f) == SM_NONE ? NULL : c, NULL);
    ck_assert_int_eq(write(f, "real data", 9), 9);
    ck_assert_int_eq(lseek(f, 0, SEEK_SET), 0);
    char buf[16] = {0};
    ck_assert_int_eq(read(f, buf, sizeof buf), 9);
    ck_assert_str_eq(buf, "real data");
    ck_assert_int_eq(fcntl(f, F_SETFL, O_NONBLOCK), 0);
    ck_assert(fcntl(f, F_GETFL) & O_NONBLOCK);
    ck_assert(!(fcntl(s, F_GETFL) & O_NONBLOCK)); /* the model's flag */
    ck_assert_int_eq(close(f), 0);
    ck_assert_int_eq(close(s), 0);
    /* Closed for real too: the kernel reuses the numbers. */
    ck_assert_int_eq(next_real_fd(), s < f ? s : f);
    sm_sys_use(NULL);
    sm_sys_free(c);
}
END_TEST

/* poll() over a pipe and a model listener: each reports its own. */
START_TEST(poll_mixed_real_and_model)
{
    sm_sys *c = use_profile("linux");
    int pfd[2];
    ck_assert_int_eq(pipe(pfd), 0);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = loopback4(9000);
    ck_assert_int_eq(bind(s, (struct sockaddr *)&sin, sizeof sin), 0);
    ck_assert_int_eq(listen(s, 4), 0);
    struct pollfd fds[2] = {{.fd = pfd[0], .events = POLLIN}, {.fd = s, .events = POLLIN}};
    /* Nothing ready: times out after the real wait. */
    ck_assert_int_eq(poll(fds, 2, 10), 0);
    ck_assert_int_eq(write(pfd[1], "p", 1), 1);
    ck_assert_int_eq(poll(fds, 2, 10), 1);
    ck_assert_int_eq(fds[0].revents, POLLIN);
    ck_assert_int_eq(fds[1].revents, 0);
    int cl = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_eq(connect(cl, (struct sockaddr *)&sin, sizeof sin), 0);
    ck_assert_int_eq(poll(fds, 2, -1), 2);
    ck_assert_int_eq(fds[1].revents, POLLIN);
    close(pfd[0]);
    close(pfd[1]);
    close(cl);
    close(s);
    sm_sys_use(NULL);
    sm_sys_free(c);
}
END_TEST

/* UDP: the engine carries datagrams on connected sockets only; sendto()
 * with an address says so (ENOSYS) rather than pretend. */
START_TEST(udp_sendto_not_modelled)
{
    sm_sys *c = use_profile("linux");
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sin = loopback4(5353);
    ck_assert_int_eq(sendto(u, "d", 1, 0, (struct sockaddr *)&sin, sizeof sin), -1);
    ck_assert_int_eq(errno, ENOSYS);
    ck_assert_ptr_nonnull(strstr(sm_sys_last(c)->rule->text, "not modelled"));
    close(u);
    sm_sys_use(NULL);
    sm_sys_free(c);
}
END_TEST

/* dup, dup2, dup3: more descriptors of one socket, which closes with its
 * last; sendmsg/recvmsg move the iovecs' bytes; select sees the model's
 * readiness; ioctl(FIONBIO) makes a listener non-blocking. */
START_TEST(dup_msg_select_ioctl)
{
    sm_sys *c = use_profile("linux");
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = loopback4(9100);
    ck_assert_int_eq(bind(l, (struct sockaddr *)&sin, sizeof sin), 0);
    ck_assert_int_eq(listen(l, 4), 0);
    int one = 1;
    ck_assert_int_eq(ioctl(l, FIONBIO, &one), 0);
    ck_assert_int_eq(accept(l, NULL, NULL), -1);
    ck_assert_int_eq(errno, EAGAIN);
    int cl = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_eq(connect(cl, (struct sockaddr *)&sin, sizeof sin), 0);
    int a = accept(l, NULL, NULL);
    ck_assert_int_ge(a, 3);

    int want = next_real_fd();
    int d = dup(cl); /* the kernel's next number, held */
    ck_assert_int_eq(d, want);
    ck_assert_int_eq(sm_sys_sock(c, d), sm_sys_sock(c, cl));
    ck_assert_int_eq(close(cl), 0); /* d still refers to the socket */
    ck_assert_int_eq(sm_sock_state(sm_sys_world(c), sm_sys_sock(c, d)), SM_ESTABLISHED);

    char p1[3] = "abc", p2[4] = "defg";
    struct iovec out[2] = {{p1, 3}, {p2, 4}};
    struct msghdr m;
    memset(&m, 0, sizeof m);
    m.msg_iov = out;
    m.msg_iovlen = 2;
    ck_assert_int_eq(sendmsg(d, &m, 0), 7);

    fd_set rd;
    FD_ZERO(&rd);
    FD_SET(a, &rd);
    struct timeval tv = {1, 0};
    ck_assert_int_eq(select(a + 1, &rd, NULL, NULL, &tv), 1);
    ck_assert(FD_ISSET(a, &rd));

    char in1[4], in2[8];
    memset(in1, 'x', sizeof in1);
    struct iovec inv[2] = {{in1, 4}, {in2, 8}};
    memset(&m, 0, sizeof m);
    m.msg_iov = inv;
    m.msg_iovlen = 2;
    ck_assert_int_eq(recvmsg(a, &m, 0), 7);
    ck_assert_int_eq(in1[0], 0); /* content is not modelled: zeros */
    ck_assert_int_eq(m.msg_flags, 0);

    ck_assert_int_eq(dup2(d, 200), 200);
    ck_assert_int_eq(close(d), 0);
    ck_assert_int_eq(write(200, "hello", 5), 5);
    ck_assert_int_eq(dup3(a, 201, O_CLOEXEC), 201);
    ck_assert_int_eq(fcntl(201, F_GETFD), FD_CLOEXEC);
    ck_assert_int_eq(fcntl(a, F_GETFD), 0);
    ck_assert_int_eq(close(200), 0); /* the last one: the socket closes */
    char buf[16];
    ck_assert_int_eq(read(201, buf, sizeof buf), 5);
    ck_assert_int_eq(read(a, buf, sizeof buf), 0); /* its FIN */

    /* real descriptors: the real calls */
    int pfd[2];
    ck_assert_int_eq(pipe(pfd), 0);
    int rp = dup(pfd[0]);
    ck_assert_int_eq(sm_sys_sock(c, rp), SM_NONE);
    ck_assert_int_eq(write(pfd[1], "p", 1), 1);
    FD_ZERO(&rd);
    FD_SET(rp, &rd);
    FD_SET(l, &rd);
    tv.tv_sec = 0;
    tv.tv_usec = 10000;
    ck_assert_int_eq(select((rp > l ? rp : l) + 1, &rd, NULL, NULL, &tv), 1);
    ck_assert(FD_ISSET(rp, &rd) && !FD_ISSET(l, &rd));
    ck_assert_int_eq(ioctl(rp, FIONBIO, &one), 0);
    ck_assert(fcntl(rp, F_GETFL) & O_NONBLOCK); /* the real flag */
    close(rp);
    close(pfd[0]);
    close(pfd[1]);
    close(201);
    close(a);
    close(l);
    sm_sys_use(NULL);
    sm_sys_free(c);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("plain");
    TCase *t = tcase_create("core");
    tcase_add_test(t, program_under_linux);
    tcase_add_test(t, program_under_windows);
    const char *fork = getenv("CK_FORK");
    if (!fork || strcmp(fork, "no") != 0) /* the default is made once a process */
        tcase_add_test(t, program_default_context);
    tcase_add_test(t, real_file_passes_through);
    tcase_add_test(t, poll_mixed_real_and_model);
    tcase_add_test(t, udp_sendto_not_modelled);
    tcase_add_test(t, dup_msg_select_ioctl);
    suite_add_tcase(s, t);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
