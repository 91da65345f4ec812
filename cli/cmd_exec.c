/*
 * cmd_exec.c - `sockmodel exec` and `sockmodel trace`: a real program's
 * socket calls (observed by the preload shim, exec/, or read from an
 * strace log, trace/) mirrored under each profile (observe/), and the
 * report of where each OS would answer differently.  Maps argv to those
 * libraries and their results to the exit status: 0 no selected profile
 * diverges, 1 one does, 2 the program could not be run, the log not read,
 * or the command line is wrong.
 */
#define _GNU_SOURCE
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdlib.h>
#include <string.h>

#include "cmds.h"
#include "exe_run.h"
#include "obs.h"
#include "scn.h"
#include "trc.h"

static const char usage_exec[] =
    "usage: sockmodel exec [--profile PATTERNS] [--json] [--scenario-out FILE] [--seed N] -- COMMAND [ARG...]\n"
    "\n"
    "Runs COMMAND on this machine as it is, with a preload library that\n"
    "observes every socket call of every process and thread it starts, then\n"
    "mirrors those calls into the model under each selected profile (default:\n"
    "all) and reports each call whose result that OS would give differently.\n";

static const char usage_trace[] =
    "usage: sockmodel trace [--profile PATTERNS] [--json] [--scenario-out FILE] [--seed N] LOG\n"
    "\n"
    "The same from a log written by strace: strace -f -tt -yy -o LOG COMMAND\n"
    "(-ttt or no time stamps, -y, -e trace=... subsets and [pid N] prefixes\n"
    "are read too; -yy pairs a client's connect with the server's accept).\n";

static const char usage_common[] =
    "\n"
    "options:\n"
    "  -p, --profile PATTERNS  profiles to mirror into (default all)\n"
    "      --json              one JSON document (format sockmodel-exec/1)\n"
    "      --scenario-out FILE write what the program did as a scenario\n"
    "      --seed N            seed of the model's random choices (default 1)\n"
    "  -h, --help              this text\n"
    "\n"
    "exit status: 0 no selected profile diverges, 1 one does, 2 the program\n"
    "could not be run (or the log not read), or a wrong command line.\n";

typedef struct xopts {
    const char *profile, *scn_out;
    bool json;
    uint64_t seed;
    int first_arg; /* exec: COMMAND; trace: LOG */
} xopts;

static int parse_opts(int argc, char **argv, bool is_exec, xopts *o)
{
    o->seed = 1;
    o->first_arg = -1;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        size_t pl = strlen("--profile"), sl = strlen("--scenario-out");
        if (strcmp(a, "--") == 0) {
            o->first_arg = i + 1;
            break;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(is_exec ? usage_exec : usage_trace, stdout);
            fputs(usage_common, stdout);
            return 0;
        } else if (strcmp(a, "--json") == 0) {
            o->json = true;
        } else if (strcmp(a, "-p") == 0 || strncmp(a, "--profile", pl) == 0) {
            if (a[1] == 'p' || a[pl] == 0)
                o->profile = i + 1 < argc ? argv[++i] : NULL;
            else if (a[pl] == '=')
                o->profile = a + pl + 1;
            else
                return cmdline_error("unknown option '%s'", a);
            if (!o->profile || !*o->profile)
                return cmdline_error("--profile needs PATTERNS");
        } else if (strncmp(a, "--scenario-out", sl) == 0) {
            if (a[sl] == 0)
                o->scn_out = i + 1 < argc ? argv[++i] : NULL;
            else if (a[sl] == '=')
                o->scn_out = a + sl + 1;
            else
                return cmdline_error("unknown option '%s'", a);
            if (!o->scn_out || !*o->scn_out)
                return cmdline_error("--scenario-out needs a file name");
        } else if (strncmp(a, "--seed", 6) == 0) {
            const char *v = a[6] == '=' ? a + 7 : i + 1 < argc ? argv[++i] : "";
            char *end;
            o->seed = strtoull(v, &end, 10);
            if (!*v || *end)
                return cmdline_error("--seed needs a number, got '%s'", v);
        } else if (a[0] == '-' && a[1]) {
            return cmdline_error("unknown option '%s' (see 'sockmodel %s --help')", a,
                             is_exec ? "exec" : "trace");
        } else {
            if (is_exec)
                return cmdline_error("exec: put '--' before the command ('sockmodel exec -- %s ...')",
                                 a);
            o->first_arg = i;
            if (i + 1 != argc)
                return cmdline_error("trace takes one LOG, got '%s' after it", argv[i + 1]);
            break;
        }
    }
    if (o->first_arg < 0 || o->first_arg >= argc)
        return cmdline_error(is_exec ? "exec: no command given (sockmodel exec -- COMMAND ...)"
                                 : "trace: no log given (sockmodel trace LOG)");
    return -1;
}

static int select_profiles(const char *spec, const sm_profile **out, size_t max,
                           size_t *n)
{
    scn_arena arena = {0};
    scn_patlist pats;
    scn_buf err = {0};
    if (!scn_patlist_parse_arg(&arena, spec, &pats, &err)) {
        int st = cmdline_error("%s", err.s ? err.s : "bad --profile");
        scn_buf_free(&err);
        scn_arena_free(&arena);
        return st;
    }
    *n = 0;
    for (size_t i = 0; i < sm_profile_count() && *n < max; i++)
        if (scn_patlist_match(&pats, sm_profile_name(sm_profile_at(i))))
            out[(*n)++] = sm_profile_at(i);
    scn_arena_free(&arena);
    if (*n == 0)
        return cmdline_error("--profile %s matches no profile (see 'sockmodel profiles')",
                         spec);
    return -1;
}

static int analyse_and_report(obs_log *log, const xopts *o)
{
    const sm_profile *profs[32];
    size_t np;
    int st = select_profiles(o->profile ? o->profile : "all", profs, 32, &np);
    if (st >= 0)
        return st;
    FILE *scnf = NULL;
    if (o->scn_out && !(scnf = fopen(o->scn_out, "w"))) {
        perror(o->scn_out);
        return 2;
    }
    const char *why;
    obs_result *r = obs_analyse(log, profs, np, o->seed, scnf, &why);
    if (scnf && fclose(scnf) != 0) {
        perror(o->scn_out);
        obs_result_free(r);
        return 2;
    }
    if (!r) {
        fprintf(stderr, "sockmodel: error: %s\n", why ? why : "cannot analyse");
        return 2;
    }
    if (o->json)
        obs_report_json(stdout, r);
    else
        obs_report_text(stdout, r);
    int status = obs_result_diverges(r) ? 1 : 0;
    obs_result_free(r);
    return status;
}

int scn_cmd_exec(int argc, char **argv)
{
    xopts o;
    memset(&o, 0, sizeof o);
    int st = parse_opts(argc, argv, true, &o);
    if (st >= 0)
        return st;
    /* profiles are checked before the program runs */
    const sm_profile *profs[32];
    size_t np;
    st = select_profiles(o.profile ? o.profile : "all", profs, 32, &np);
    if (st >= 0)
        return st;
    obs_log log;
    memset(&log, 0, sizeof log);
    obs_log_set_command(&log, argc - o.first_arg, argv + o.first_arg);
    char why[512];
    int status;
    if (exe_run(exe_preload_path(), argv + o.first_arg, &log, &status, why,
                sizeof why) != 0) {
        fprintf(stderr, "sockmodel: error: exec: %s\n", why);
        obs_log_free(&log);
        return 2;
    }
    fflush(stdout);
    st = analyse_and_report(&log, &o);
    obs_log_free(&log);
    return st;
}

int scn_cmd_trace(int argc, char **argv)
{
    xopts o;
    memset(&o, 0, sizeof o);
    int st = parse_opts(argc, argv, false, &o);
    if (st >= 0)
        return st;
    obs_log log;
    memset(&log, 0, sizeof log);
    const char *path = argv[o.first_arg];
    if (trc_read_path(path, &log, stderr) != 0) {
        obs_log_free(&log);
        return 2;
    }
    log.source = strdup(path);
    st = analyse_and_report(&log, &o);
    obs_log_free(&log);
    return st;
}
