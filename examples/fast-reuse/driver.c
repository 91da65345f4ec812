/*
 * driver.c - runs the example's portability layer under every sockmodel
 * profile and says, per OS, whether the layer's choice is right.
 *
 * The layer (layer-posix.c, layer-win32.c) is compiled twice against the
 * model, as a POSIX build and as a Windows build of the same program.  For
 * each profile the driver runs both builds (the one that OS would really
 * get is marked '*') through two stories, with app.c's plain socket code:
 *
 *  restart   a server listens on 0.0.0.0:5900, a client on another host
 *            connects, the server closes the connection first (so that
 *            connection waits in TIME_WAIT on the server's port), the
 *            server exits, and a new server starts on the same port at
 *            once.  Right: the new bind() succeeds.  (Another host, because
 *            FreeBSD and Solaris keep no TIME_WAIT for a connection to the
 *            host's own address: scenarios/tcp/server-restart.scn part 6.)
 *  second    while a server listens on the port, a second copy of the same
 *            program (same user) starts on it.  Right: its bind() fails,
 *            the port stays with the first server.  If it succeeds, two
 *            servers share the port and which one gets a connection is
 *            undefined (on Windows: "port stealing").
 *
 * Exit status: 0 if every OS's own build is right, 1 if not, 2 on a usage
 * error.  Until the engine models connections (connect() answers ENOSYS)
 * the restart story is reported as "n/a" and does not count.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <sockmodel/socket.h>

#include "app.h"

int posix_set_fast_reuse(int fd);
int win32_set_fast_reuse(int fd);

#define PORT 5900

typedef struct layer {
    const char *name;
    int (*fast_reuse)(int);
} layer;

static const layer layers[2] = {
    {"posix", posix_set_fast_reuse},
    {"win32", win32_set_fast_reuse},
};

typedef struct outcome {
    bool na;          /* could not be run (connections not modelled yet) */
    int err;          /* errno of the decisive call, 0 if it succeeded */
    char name[24];    /* the OS's name for it */
    const char *step; /* which call failed */
    const sm_rule *rule; /* why (the engine's rule) */
} outcome;

/* The trace keeps the rule of the last bind(): that is the decision the
 * stories are about, even when a later call (listen) is the last one. */
static void trace_bind(void *arg, const char *call, int fd, const sm_result *r)
{
    (void)fd;
    if (strcmp(call, "bind") == 0)
        *(const sm_rule **)arg = r->rule;
}

static void watch(sm_sys *c, const sm_rule **bind_rule)
{
    *bind_rule = NULL;
    sm_sys_set_trace(c, trace_bind, bind_rule);
}

static void note(outcome *o, sm_sys *c, int rc, const char *step, const sm_rule *bind_rule)
{
    o->err = rc < 0 ? errno : 0;
    o->step = rc < 0 ? step : "";
    if (rc < 0 && strcmp(step, "bind") != 0)
        o->rule = sm_sys_last_error(c)->rule;
    else
        o->rule = bind_rule ? bind_rule : sm_sys_last(c)->rule;
    snprintf(o->name, sizeof o->name, "%s", sm_sys_errname(c, o->err));
}

/* A rule as the report prints it: its text and its stable ID. */
static const char *rule_text(const sm_rule *r)
{
    static char buf[1024];
    if (!r)
        return "?";
    char line[900];
    snprintf(buf, sizeof buf, "%s {%s}", sm_rule_line(r, line, sizeof line), r->id);
    return buf;
}

/* The restart story.  Returns false if the setup itself failed. */
static bool run_restart(const char *profile, const layer *L, outcome *o)
{
    memset(o, 0, sizeof *o);
    const char *step = "";
    sm_sys *srv = sm_sys_new(profile, 1);
    sm_sys *cli = sm_sys_spawn(srv, "client", "client", NULL);
    sm_sys *srv2 = NULL;
    sm_world *w = sm_sys_world(srv);
    bool ok = false;
    const sm_rule *bind_rule;
    sm_addr caddr;
    sm_addr_parse("192.0.2.10", 10, &caddr);
    sm_host_add_addr(w, sm_sys_host(cli), &caddr);

    sm_sys_use(srv);
    int lfd = server_start(L->fast_reuse, PORT, &step);
    if (lfd < 0) {
        note(o, srv, -1, step, NULL);
        goto out;
    }
    sm_sys_use(cli);
    int cfd = client_connect("192.0.2.1", PORT, &step); /* the server's host */
    if (cfd < 0) {
        note(o, cli, -1, step, NULL);
        o->na = o->err == ENOSYS;
        ok = o->na;
        goto out;
    }
    sm_sys_use(srv);
    int afd = server_accept(lfd);
    if (afd < 0) {
        note(o, srv, -1, "accept", NULL);
        goto out;
    }
    sm_id conn = sm_sys_sock(srv, afd);
    sm_sys_close(srv, afd);  /* the server closes first: active close */
    sm_sys_use(cli);
    drain(cfd);              /* the client sees end of stream ... */
    sm_sys_close(cli, cfd);  /* ... and closes its end */
    sm_advance(w, 10000000); /* 10 ms: the last ACK arrives */
    if (sm_sock_state(w, conn) != SM_TIME_WAIT)
        fprintf(stderr, "note: %s: the server's connection is in %s, not TIME_WAIT\n",
                profile, sm_state_name(sm_sock_state(w, conn)));
    sm_sys_exit(srv);        /* the old server stops */

    srv2 = sm_sys_spawn(srv, NULL, "server2", NULL); /* on the server's host */
    sm_sys_use(srv2);
    watch(srv2, &bind_rule);
    int lfd2 = server_start(L->fast_reuse, PORT, &step);
    note(o, srv2, lfd2, step, bind_rule);
    ok = true;
out:
    sm_sys_use(NULL);
    sm_sys_free(srv2);
    sm_sys_free(cli);
    sm_sys_free(srv);
    return ok;
}

/* The second-instance story. */
static bool run_second(const char *profile, const layer *L, outcome *o)
{
    memset(o, 0, sizeof *o);
    const char *step = "";
    sm_sys *first = sm_sys_new(profile, 1);
    sm_sys *second = sm_sys_spawn(first, NULL, "second", NULL);
    bool ok = false;
    const sm_rule *bind_rule;
    sm_sys_use(first);
    if (server_start(L->fast_reuse, PORT, &step) < 0) {
        note(o, first, -1, step, NULL);
        goto out;
    }
    sm_sys_use(second);
    watch(second, &bind_rule);
    int fd = server_start(L->fast_reuse, PORT, &step);
    note(o, second, fd, step, bind_rule);
    ok = true;
out:
    sm_sys_use(NULL);
    sm_sys_free(second);
    sm_sys_free(first);
    return ok;
}

static const char *cell(const outcome *o, char *buf, size_t n)
{
    if (o->na)
        snprintf(buf, n, "n/a (%s)", o->name);
    else if (o->err == 0)
        snprintf(buf, n, "ok");
    else
        snprintf(buf, n, "%s %s", o->step, o->name);
    return buf;
}

static bool matches(const char *profile, int argc, char **argv)
{
    if (argc < 2)
        return true;
    for (int i = 1; i < argc; i++)
        if (fnmatch(argv[i], profile, 0) == 0)
            return true;
    return false;
}

int main(int argc, char **argv)
{
    if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        printf("usage: %s [PROFILE-PATTERN...]\n"
               "Runs the fast-reuse portability layer under each sockmodel profile.\n",
               argv[0]);
        return 0;
    }
    printf("set_fast_reuse(): posix build = SO_REUSEADDR 1, win32 build = nothing\n"
           "* = the build that OS really gets\n\n");
    printf("%-16s %-7s %-30s %-26s %s\n", "profile", "build", "restart (TIME_WAIT)",
           "second instance", "verdict");
    int status = 0, rows = 0;
    for (size_t i = 0; i < sm_profile_count(); i++) {
        const char *p = sm_profile_name(sm_profile_at(i));
        if (!matches(p, argc, argv))
            continue;
        bool windows = strncmp(p, "windows", 7) == 0;
        for (int l = 0; l < 2; l++) {
            const layer *L = &layers[l];
            bool native = (l == 1) == windows;
            outcome re, se;
            bool setup = run_restart(p, L, &re);
            setup = run_second(p, L, &se) && setup;
            bool restart_ok = re.na || re.err == 0;
            bool second_refused = se.err != 0;
            bool right = setup && restart_ok && second_refused;
            char b1[64], b2[64], build[16];
            snprintf(build, sizeof build, "%s%s", L->name, native ? "*" : "");
            printf("%-16s %-7s %-30s %-26s %s\n", p, build,
                   cell(&re, b1, sizeof b1), cell(&se, b2, sizeof b2),
                   !setup ? "SETUP FAILED" : right ? "right" : "WRONG");
            if (!setup || !restart_ok)
                printf("    restart: the new server cannot start while the old connection is in"
                       " TIME_WAIT\n      why: %s\n", rule_text(re.rule));
            if (!setup || !second_refused)
                printf("    second instance: two servers now hold port %d; which one gets a"
                       " connection is undefined\n      why: %s\n", PORT, rule_text(se.rule));
            if (!right && native)
                status = 1;
            rows++;
        }
    }
    if (rows == 0) {
        fprintf(stderr, "%s: no profile matches\n", argv[0]);
        return 2;
    }
    printf("\n%s\n", status ? "the layer is WRONG for at least one OS's own build"
                            : "the layer is right for every OS's own build");
    return status;
}
