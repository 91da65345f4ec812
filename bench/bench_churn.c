/*
 * bench_churn.c - benchmark 1, bind churn: the model against the real
 * Linux kernel.
 *
 * One fixed pseudo-random sequence of N TCP sockets (tcp4, tcp6 dual-stack,
 * tcp6 V6ONLY; none/SO_REUSEADDR/SO_REUSEPORT/both; wildcard, loopback,
 * second loopback, documentation and v4-mapped addresses; 40 ports so that
 * about a seventh of the binds conflict) is played twice: through the model's
 * public API (engine/sm.h, "linux" profile) and as the same real system calls
 * (socket, setsockopt, bind, listen on success, close).  At most W sockets
 * are open at once: before each new socket the oldest is closed.
 *
 * The kernel side runs in a private network namespace that this process
 * creates (hostkernel/hk_netns.c), with lo up and 192.0.2.1 and 2001:db8::1
 * added to it (127.0.0.2 is local through 127.0.0.0/8 on lo).  Without root
 * or without namespaces it is skipped, and the line says why.  Both sides
 * record each bind/listen outcome, and the program reports how many agree:
 * a cheap cross-check of the linux profile against the kernel it models.
 */
#define _GNU_SOURCE
#include "bench.h"
#include "hk_netns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CHURN_WINDOW 32
#define CHURN_PORTS 40
#define CHURN_PORT0 20000

enum churn_kind { CK_TCP4, CK_TCP6_DUAL, CK_TCP6_ONLY };

static const char *const churn_addr4[] = {"0.0.0.0", "127.0.0.1", "127.0.0.2", "192.0.2.1"};
static const char *const churn_addr6[] = {"::", "::1", "2001:db8::1", "::ffff:127.0.0.1",
                                          "::ffff:192.0.2.1"};
static const char *const churn_kind_name[] = {"tcp4", "tcp6", "tcp6 V6ONLY"};

typedef struct churn_op {
    enum churn_kind kind;
    bool ra, rp;
    const char *addr_text;
    sm_endpoint ep;                  /* model */
    struct sockaddr_storage sa;      /* kernel */
    socklen_t salen;
    char name[24];
} churn_op;

typedef struct churn_out {
    signed char bind_err;   /* sm_err, or SM_ERR_COUNT for an unmapped errno */
    signed char listen_err; /* -1: listen not called (bind failed) */
} churn_out;

static churn_op *churn_make(size_t n)
{
    churn_op *ops = calloc(n, sizeof *ops);
    uint64_t rng = 0x5eed0001;
    if (!ops)
        abort();
    for (size_t i = 0; i < n; i++) {
        churn_op *op = &ops[i];
        uint64_t r = bench_rand(&rng);
        unsigned k = (unsigned)(r % 4);
        op->kind = k < 2 ? CK_TCP4 : (k == 2 ? CK_TCP6_DUAL : CK_TCP6_ONLY);
        op->ra = (r >> 8) & 1;
        op->rp = (r >> 9) & 1;
        uint16_t port = (uint16_t)(CHURN_PORT0 + (r >> 16) % CHURN_PORTS);
        if (op->kind == CK_TCP4)
            op->addr_text = churn_addr4[(r >> 32) % 4];
        else
            op->addr_text = churn_addr6[(r >> 32) % 5];
        op->ep.addr = bench_addr(op->addr_text);
        op->ep.port = port;
        memset(&op->sa, 0, sizeof op->sa);
        if (op->kind == CK_TCP4) {
            struct sockaddr_in *s4 = (struct sockaddr_in *)&op->sa;
            s4->sin_family = AF_INET;
            s4->sin_port = htons(port);
            memcpy(&s4->sin_addr, op->ep.addr.b, 4);
            op->salen = sizeof *s4;
        } else {
            struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&op->sa;
            s6->sin6_family = AF_INET6;
            s6->sin6_port = htons(port);
            memcpy(&s6->sin6_addr, op->ep.addr.b, 16);
            op->salen = sizeof *s6;
        }
        snprintf(op->name, sizeof op->name, "s%zu", i);
    }
    return ops;
}

/* ---- the model --------------------------------------------------------- */

static double churn_model(const churn_op *ops, size_t n, churn_out *out, double *cpu)
{
    static const char *const extra[] = {"127.0.0.2", NULL};
    sm_world *w = bench_world(sm_profile_find("linux"), extra);
    /* Like the kernel, the model reuses what a closed socket held: the
     * sequence forgets each id at its close. */
    sm_world_set_recycle(w, true);
    sm_id host = sm_host_find(w, "local");
    sm_id proc = sm_proc_get(w, host, "bench", sm_user_get(w, "root"));
    sm_id ring[CHURN_WINDOW];
    size_t head = 0, live = 0;

    double c0 = bench_cpu_now(), t0 = bench_now();
    for (size_t i = 0; i < n; i++) {
        const churn_op *op = &ops[i];
        if (live == CHURN_WINDOW) {
            sm_close(w, ring[head]);
            head = (head + 1) % CHURN_WINDOW;
            live--;
        }
        sm_id s;
        sm_socket(w, proc, SM_TCP, op->kind == CK_TCP4 ? 4 : 6, "s", &s);
        if (op->kind != CK_TCP4)
            sm_setsockopt(w, s, SM_IPV6_V6ONLY, op->kind == CK_TCP6_ONLY, 0);
        if (op->ra)
            sm_setsockopt(w, s, SM_SO_REUSEADDR, 1, 0);
        if (op->rp)
            sm_setsockopt(w, s, SM_SO_REUSEPORT, 1, 0);
        sm_result r = sm_bind(w, s, &op->ep);
        out[i].bind_err = (signed char)r.err;
        out[i].listen_err = -1;
        if (r.err == SM_OK)
            out[i].listen_err = (signed char)sm_listen(w, s, 128).err;
        ring[(head + live) % CHURN_WINDOW] = s;
        live++;
    }
    while (live) {
        sm_close(w, ring[head]);
        head = (head + 1) % CHURN_WINDOW;
        live--;
    }
    double t = bench_now() - t0;
    *cpu = bench_cpu_now() - c0;
    sm_world_free(w);
    return t;
}

/* ---- the kernel -------------------------------------------------------- */

static signed char err_of_errno(int e)
{
    switch (e) {
    case 0: return SM_OK;
    case EADDRINUSE: return SM_EADDRINUSE;
    case EADDRNOTAVAIL: return SM_EADDRNOTAVAIL;
    case EACCES: return SM_EACCES;
    case EINVAL: return SM_EINVAL;
    case EAFNOSUPPORT: return SM_EAFNOSUPPORT;
    case ENOPROTOOPT: return SM_ENOPROTOOPT;
    case EOPNOTSUPP: return SM_EOPNOTSUPP;
    default: return SM_ERR_COUNT;
    }
}

/* Returns -1 (and sets *failed) if socket() itself failed. */
static double churn_kernel(const churn_op *ops, size_t n, churn_out *out,
                           const char **failed, double *cpu)
{
    int ring[CHURN_WINDOW];
    size_t head = 0, live = 0;
    const int one = 1, zero = 0;

    double c0 = bench_cpu_now(), t0 = bench_now();
    for (size_t i = 0; i < n; i++) {
        const churn_op *op = &ops[i];
        if (live == CHURN_WINDOW) {
            close(ring[head]);
            head = (head + 1) % CHURN_WINDOW;
            live--;
        }
        int fd = socket(op->kind == CK_TCP4 ? AF_INET : AF_INET6, SOCK_STREAM, 0);
        if (fd < 0) {
            *failed = strerror(errno);
            while (live) {
                close(ring[head]);
                head = (head + 1) % CHURN_WINDOW;
                live--;
            }
            return -1;
        }
        if (op->kind != CK_TCP4)
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY,
                       op->kind == CK_TCP6_ONLY ? &one : &zero, sizeof one);
        if (op->ra)
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (op->rp)
            setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
        int rc = bind(fd, (const struct sockaddr *)&op->sa, op->salen);
        out[i].bind_err = err_of_errno(rc == 0 ? 0 : errno);
        out[i].listen_err = -1;
        if (rc == 0)
            out[i].listen_err = err_of_errno(listen(fd, 128) == 0 ? 0 : errno);
        ring[(head + live) % CHURN_WINDOW] = fd;
        live++;
    }
    while (live) {
        close(ring[head]);
        head = (head + 1) % CHURN_WINDOW;
        live--;
    }
    double t = bench_now() - t0;
    *cpu = bench_cpu_now() - c0;
    return t;
}

/* Enter a private network namespace set up for the sequence (the
 * project's one set-up, hostkernel/hk_netns.c).  Returns NULL on success,
 * else why the kernel baseline cannot run (in buf). */
static const char *netns_enter(char *buf, size_t n)
{
    if (geteuid() != 0) {
        snprintf(buf, n, "not root: the kernel baseline needs a private network "
                         "namespace (run bench/run as root)");
        return buf;
    }
    sm_addr addrs[2] = {bench_addr("192.0.2.1"), bench_addr("2001:db8::1")};
    int fd, err;
    const char *why = hk_netns_new(addrs, 2, &fd, &err);
    if (why) {
        if (err)
            snprintf(buf, n, "%s failed: %s", why, strerror(err));
        else
            snprintf(buf, n, "%s", why);
        return buf;
    }
    close(fd);
    return NULL;
}

/* Every address of the sequence must be bindable (an IPv6 address may stay
 * tentative for a moment); v4-mapped ones are covered by their IPv4 part. */
static const char *netns_check(char *buf, size_t bn)
{
    for (int attempt = 0;; attempt++) {
        const char *bad = NULL;
        int err = 0;
        for (size_t i = 0; i < 4 + 3 && !bad; i++) {
            const char *text = i < 4 ? churn_addr4[i] : churn_addr6[i - 4];
            sm_addr a = bench_addr(text);
            struct sockaddr_storage ss;
            socklen_t len;
            memset(&ss, 0, sizeof ss);
            if (a.family == 4) {
                struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
                s4->sin_family = AF_INET;
                memcpy(&s4->sin_addr, a.b, 4);
                len = sizeof *s4;
            } else {
                struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
                s6->sin6_family = AF_INET6;
                memcpy(&s6->sin6_addr, a.b, 16);
                len = sizeof *s6;
            }
            int fd = socket(ss.ss_family, SOCK_STREAM, 0);
            if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len) != 0) {
                bad = text;
                err = errno;
            }
            if (fd >= 0)
                close(fd);
        }
        if (!bad)
            return NULL;
        if (attempt == 20) {
            snprintf(buf, bn, "address %s is not usable in the namespace: %s", bad,
                     strerror(err));
            return buf;
        }
        usleep(100000);
    }
}

static void describe(const churn_op *op, char *buf, size_t n)
{
    snprintf(buf, n, "%s %s%s%s port %u", churn_kind_name[op->kind], op->addr_text,
             op->ra ? " SO_REUSEADDR" : "", op->rp ? " SO_REUSEPORT" : "",
             (unsigned)op->ep.port);
}

static const char *out_name(int e)
{
    if (e < 0)
        return "(not called)";
    if (e >= SM_ERR_COUNT)
        return "other errno";
    return sm_err_name((sm_err)e);
}

/* The kernel finishes part of a run after the run has returned: sockets
 * closed in it are freed after an RCU grace period, by other threads.
 * Without a pause that work lands in the next timed run, the model's:
 * measured on a 2-core VM, the model's wall time then exceeded its CPU
 * time by about 15%, and matched it after a pause.  The kernel's own time
 * never included that deferred work (see bench/README.md); the pause only
 * keeps it out of the model's.  The pause spins rather than sleeps: a
 * sleeping (virtual) CPU clocks down or is descheduled, and the next run
 * then starts slow (ratios spread from 17x to 25x with a sleep, 20x to 23x
 * with a spin).  Taken before each timed run of either side, so that both
 * start alike. */
static void churn_settle(void)
{
    double t0 = bench_now();
    while (bench_now() - t0 < 0.1)
        ;
}

void bench_churn(const bench_opts *o)
{
    size_t n = o->quick ? 2000 : 20000;
    int runs = o->runs;
    churn_op *ops = churn_make(n);
    churn_out *mout = calloc(n, sizeof *mout), *kout = calloc(n, sizeof *kout);
    double *tm = calloc((size_t)runs * 4, sizeof *tm);
    if (!mout || !kout || !tm)
        abort();
    double *tk = tm + runs, *cm = tk + runs, *ck = cm + runs; /* CPU times */
    char name[64], why[256];
    snprintf(name, sizeof name, "1 bind churn, %zu sockets", n);

    /* Model and kernel runs alternate, so that whatever else the machine
     * is doing weighs on both alike. */
    const char *skip = NULL;
    if (o->model_only)
        skip = "--model-only";
    if (!skip)
        skip = netns_enter(why, sizeof why);
    if (!skip)
        skip = netns_check(why, sizeof why);
    const char *failed = NULL;
    churn_model(ops, n, mout, &cm[0]); /* warm-up */
    if (!skip)
        churn_kernel(ops, n, kout, &failed, &ck[0]);
    for (int r = 0; r < runs; r++) {
        if (!skip)
            churn_settle();
        tm[r] = churn_model(ops, n, mout, &cm[r]);
        if (!skip && !failed) {
            churn_settle();
            tk[r] = churn_kernel(ops, n, kout, &failed, &ck[r]);
        }
    }
    double model = bench_median(tm, (size_t)runs);
    double kernel = -1;
    if (!skip && failed) {
        snprintf(why, sizeof why, "socket() failed in the namespace: %s", failed);
        skip = why;
    } else if (!skip) {
        kernel = bench_median(tk, (size_t)runs);
    }
    if (skip) {
        char m[32];
        printf("%-34s %12s %12s kernel baseline skipped: %s\n", name,
               bench_fmt_time(model, m, sizeof m), "-", skip);
    } else {
        double ratio = kernel / model;
        bench_row(name, model, kernel, "Linux kernel", ratio, "x faster", ">= 30x",
                  ratio >= 30);
    }

    char a[32], b[32];
    size_t calls = 0, agree = 0, inuse = 0, listened = 0;
    for (size_t i = 0; i < n; i++) {
        inuse += mout[i].bind_err == SM_EADDRINUSE;
        listened += mout[i].listen_err == SM_OK;
    }
    printf("    per socket (socket+setsockopt+bind+listen+close): model %s",
           bench_fmt_time(model / (double)n, a, sizeof a));
    if (!skip)
        printf(", kernel %s", bench_fmt_time(kernel / (double)n, b, sizeof b));
    double mcpu = bench_median(cm, (size_t)runs);
    printf("\n    CPU time (median) per socket: model %s",
           bench_fmt_time(mcpu / (double)n, a, sizeof a));
    if (!skip) {
        double kcpu = bench_median(ck, (size_t)runs);
        printf(", kernel %s (user+system): ratio %.1fx", bench_fmt_time(kcpu / (double)n, b, sizeof b),
               kcpu / mcpu);
    }
    printf("\n    sequence: %zu binds, %zu EADDRINUSE, %zu listening (model)\n", n, inuse,
           listened);
    if (!skip) {
        size_t shown = 0;
        for (size_t i = 0; i < n; i++) {
            calls += 1 + (mout[i].listen_err >= 0 || kout[i].listen_err >= 0);
            agree += mout[i].bind_err == kout[i].bind_err;
            if (mout[i].listen_err >= 0 || kout[i].listen_err >= 0)
                agree += mout[i].listen_err == kout[i].listen_err;
        }
        printf("    outcomes: model and kernel agree on %zu of %zu bind/listen calls\n",
               agree, calls);
        for (size_t i = 0; i < n && shown < 3; i++) {
            if (mout[i].bind_err == kout[i].bind_err &&
                mout[i].listen_err == kout[i].listen_err)
                continue;
            char d[128];
            describe(&ops[i], d, sizeof d);
            printf("      differs at #%zu (%s): model bind %s listen %s; kernel bind %s "
                   "listen %s\n",
                   i, d, out_name(mout[i].bind_err), out_name(mout[i].listen_err),
                   out_name(kout[i].bind_err), out_name(kout[i].listen_err));
            /* The sockets still open on that port when it bound. */
            for (size_t j = i >= CHURN_WINDOW - 1 ? i - (CHURN_WINDOW - 1) : 0; j < i; j++) {
                if (ops[j].ep.port != ops[i].ep.port ||
                    (mout[j].bind_err != SM_OK && kout[j].bind_err != SM_OK))
                    continue;
                describe(&ops[j], d, sizeof d);
                printf("        open then: #%zu (%s): model %s%s, kernel %s%s\n", j, d,
                       out_name(mout[j].bind_err),
                       mout[j].listen_err == SM_OK ? " listening" : "",
                       out_name(kout[j].bind_err),
                       kout[j].listen_err == SM_OK ? " listening" : "");
            }
            shown++;
        }
    }
    fflush(stdout);
    free(ops);
    free(mout);
    free(kout);
    free(tm);
}

/* ---- the sequence as a scenario ---------------------------------------- */

/* Writes the sequence of n sockets as a scenario file (the runner's
 * benchmark: `sockmodel run` on it, and `sockmodel run --profile host`,
 * the same calls on the kernel in a namespace of its own): socket, the
 * options that are set (IPV6_V6ONLY only when 1: 0 is the default of the
 * profile and of the namespace), bind, listen where the model's bind
 * succeeded, and the close 32 sockets later.  Returns the number of
 * statements, 0 if the file could not be written. */
size_t bench_churn_write_scenario(const char *path, size_t n)
{
    churn_op *ops = churn_make(n);
    churn_out *out = calloc(n, sizeof *out);
    FILE *f = fopen(path, "w");
    if (!out || !f) {
        free(ops);
        free(out);
        if (f)
            fclose(f);
        return 0;
    }
    double cpu;
    churn_model(ops, n, out, &cpu);
    fprintf(f, "# churn: %zu TCP sockets in the sequence of bench/run's benchmark 1\n"
               "# (written by sockmodel-bench --write-churn-scenario)\n"
               "profile linux\n"
               "host local addr 127.0.0.2\n"
               "as root\n",
            n);
    size_t stmts = 3, head = 0, live = 0;
    for (size_t i = 0; i < n; i++) {
        const churn_op *op = &ops[i];
        if (live == CHURN_WINDOW) {
            fprintf(f, "close s%zu\n", head);
            head++;
            live--;
            stmts++;
        }
        fprintf(f, "s%zu = socket %s\n", i, op->kind == CK_TCP4 ? "tcp4" : "tcp6");
        stmts++;
        if (op->kind == CK_TCP6_ONLY)
            fprintf(f, "setsockopt s%zu IPV6_V6ONLY 1\n", i), stmts++;
        if (op->ra)
            fprintf(f, "setsockopt s%zu SO_REUSEADDR 1\n", i), stmts++;
        if (op->rp)
            fprintf(f, "setsockopt s%zu SO_REUSEPORT 1\n", i), stmts++;
        char ep[64];
        if (op->kind == CK_TCP4)
            snprintf(ep, sizeof ep, "%s:%u", op->addr_text, (unsigned)op->ep.port);
        else
            snprintf(ep, sizeof ep, "[%s]:%u", op->addr_text, (unsigned)op->ep.port);
        fprintf(f, "bind s%zu %s\n", i, ep);
        stmts++;
        if (out[i].bind_err == SM_OK)
            fprintf(f, "listen s%zu 128\n", i), stmts++;
        live++;
    }
    for (; live; live--, head++)
        fprintf(f, "close s%zu\n", head), stmts++;
    free(ops);
    free(out);
    return fclose(f) == 0 ? stmts : 0;
}

/* One timed kernel run of the n-socket sequence in a fresh namespace (the
 * runner's baseline: what the scenario's calls cost the kernel, set-up not
 * counted).  Returns NULL and the wall and CPU seconds, or why it cannot
 * run. */
const char *bench_churn_kernel_once(size_t n, double *wall, double *cpu, char *why, size_t wn)
{
    const char *skip = netns_enter(why, wn);
    if (!skip)
        skip = netns_check(why, wn);
    if (skip)
        return skip;
    churn_op *ops = churn_make(n);
    churn_out *out = calloc(n, sizeof *out);
    if (!out)
        abort();
    const char *failed = NULL;
    churn_settle();
    *wall = churn_kernel(ops, n, out, &failed, cpu);
    free(ops);
    free(out);
    if (failed) {
        snprintf(why, wn, "socket() failed in the namespace: %s", failed);
        return why;
    }
    return NULL;
}
