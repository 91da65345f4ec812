/*
 * main.c - the sockmodel program: reads its command line and hands the
 * work to libscn (parse, run, report).
 *
 *   sockmodel run [--profile PATTERNS] [--explain] [--json | --tap | --quiet]
 *                 [--junit FILE] [--seed N] [--pcap FILE] [--svg FILE] [--html FILE] FILE...
 *   sockmodel check FILE...
 *   sockmodel profiles
 *   sockmodel gen|probe|replay|pkt ...   (cli/cmd_gen.c, cmd_probe.c, cmd_replay.c,
 *                                          cmd_pkt.c)
 *   sockmodel exec|trace ...         (cli/cmd_exec.c)
 *   sockmodel --help | --version
 *
 * Exit status: 0 every expectation met, 1 at least one not met, 2 a file
 * could not be read or parsed, or the command line is wrong.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "scn.h"
#include "scn_report_ci.h"
#include "scn_backend.h"
#ifdef HAVE_HOSTKERNEL
#include "hk.h"
#endif
#include "pcap_out.h"
#include "svg_out.h"
#include "html_out.h"
#include "cli_opt.h"
#include "cmds.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "dev"
#endif

#define DEFAULT_SEED 1

static const char usage_main[] =
    "usage: sockmodel run [--profile PATTERNS] [--explain] [--json | --tap | --quiet] [--junit FILE] [--seed N] [--pcap FILE] [--svg FILE] [--html FILE] FILE...\n"
    "       sockmodel check FILE...\n"
    "       sockmodel profiles\n"
    "       sockmodel gen [--check --profile A,B] [--seed N] [--count K] [--out DIR]\n"
    "       sockmodel probe [--markdown] [--full] [--profile PATTERNS]\n"
    "       sockmodel replay [--profile PATTERNS] [--json] [--timeline F] [--svg F] CAPTURE\n"
    "       sockmodel exec [--profile PATTERNS] [--json] [--scenario-out FILE] -- COMMAND [ARG...]\n"
    "       sockmodel trace [--profile PATTERNS] [--json] [--scenario-out FILE] LOG\n"
    "       sockmodel pkt [--profile PATTERNS] [--lenient] SCRIPT.pkt...\n"
    "       sockmodel --help | --version\n"
    "\n"
    "sockmodel runs socket scenarios (.scn files) under models of how\n"
    "operating systems decide socket calls, and says for each step what\n"
    "each OS returns and which rule decided.\n"
    "\n"
    "commands:\n"
    "  run       run scenario files and check their expectations\n"
    "  check     only parse scenario files\n"
    "  profiles  list the OS profiles\n"
    "  gen       random scenarios; --check compares two profiles (e.g. linux,host)\n"
    "  probe     the bind matrix of reuse options, every profile side by side\n"
    "  replay    a pcap/pcapng capture through each profile's TCP and TIME_WAIT rules\n"
    "  exec      run a program as it is; say where each OS would answer its socket calls differently\n"
    "  trace     the same from an strace -f log\n"
    "  pkt       packetdrill scripts: their segments and calls checked on each profile\n"
    "\n"
    "The profile 'host' (root only, never part of 'all') runs a scenario with real\n"
    "system calls on this machine's kernel, in private network namespaces.\n"
    "\n"
    "See 'sockmodel run --help' and the scenario-language manual.\n";

static const char usage_check[] =
    "usage: sockmodel check FILE...\n"
    "\n"
    "Parses each FILE (\"-\": standard input) and runs nothing: every parse\n"
    "error is reported as 'FILE:LINE:COL: error: WHAT'.\n"
    "\n"
    "options:\n"
    "  -h, --help              this text\n"
    "\n"
    "exit status: 0 every file parses, 2 a file could not be read or parsed,\n"
    "or a wrong command line.\n";

static const char usage_profiles[] =
    "usage: sockmodel profiles\n"
    "\n"
    "Lists the OS profiles, one per line: the name, then what it stands for.\n"
    "'all' in --profile means every profile listed here.\n";

static const char usage_run[] =
    "usage: sockmodel run [--profile PATTERNS] [--explain] [--json | --tap | --quiet] [--junit FILE] [--seed N] [--pcap FILE] [--svg FILE] [--html FILE] FILE...\n"
    "\n"
    "Runs each FILE (\"-\": standard input) under each selected profile and\n"
    "prints one row per step and one column per profile, then one\n"
    "'FILE:LINE: PROFILE: expected X, got Y' block per expectation not met,\n"
    "and at the end 'N passed, M failed'.\n"
    "\n"
    "options:\n"
    "  -p, --profile PATTERNS  profiles to run under, e.g. 'linux*,bsd' or\n"
    "                          '!windows*' (overrides each file's profile line)\n"
    "  -e, --explain           after each step, the rule that decided it and\n"
    "                          the socket it conflicted with, per profile\n"
    "      --json              one JSON document instead of the table\n"
    "      --tap               TAP version 13 instead of the table: a test\n"
    "                          point per file and profile\n"
    "  -q, --quiet             only the failure blocks and the last line\n"
    "      --junit FILE        also write JUnit XML to FILE: a testsuite per\n"
    "                          file, a testcase per file and profile, a\n"
    "                          failure per expectation not met\n"
    "      --seed N            seed of every random choice (default 1)\n"
    "      --pcap FILE         write every simulated segment to FILE (pcap,\n"
    "                          virtual time as timestamps); with several\n"
    "                          profiles, one file each: FILE.PROFILE.pcap\n"
    "      --svg FILE          draw the run in FILE (SVG): a column per socket\n"
    "                          with its TCP states over time, arrows for the\n"
    "                          segments, each step's outcome; with several\n"
    "                          profiles, one file each: FILE.PROFILE.svg\n"
    "      --html FILE         one self-contained page for teaching: the table\n"
    "                          with the differences highlighted, each cell's\n"
    "                          rule, and every profile's drawing side by side\n"
    "  -h, --help              this text\n"
    "\n"
    "exit status: 0 every expectation met, 1 at least one not met,\n"
    "2 a file could not be read or parsed, or a wrong command line.\n";

typedef struct run_opts {
    const char *profile;
    const char *pcap;
    const char *svg;
    const char *html;
    const char *junit;
    bool explain, json, check_only, tap, quiet;
    uint64_t seed;
    const char **files;
    size_t n_files;
} run_opts;

/* cmdline_error (cmds.h) is in cli_opt.c with the other option helpers. */

/* Returns -1 to go on, else the exit status. */
static int parse_run_args(int argc, char **argv, run_opts *o)
{
    bool files_only = false;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (files_only || a[0] != '-' || strcmp(a, "-") == 0) {
            o->files[o->n_files++] = a;
        } else if (strcmp(a, "--") == 0) {
            files_only = true;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(o->check_only ? usage_check : usage_run, stdout);
            return 0;
        } else if (!o->check_only && strcmp(a, "-e") == 0) {
            o->explain = true;
        } else if (!o->check_only && strcmp(a, "--explain") == 0) {
            o->explain = true;
        } else if (!o->check_only && strcmp(a, "--json") == 0) {
            o->json = true;
        } else if (!o->check_only && strcmp(a, "--tap") == 0) {
            o->tap = true;
        } else if (!o->check_only &&
                   (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0)) {
            o->quiet = true;
        } else if (!o->check_only && cli_is_opt(a, "--junit")) {
            o->junit = cli_opt_value(argc, argv, &i, "--junit");
            if (!o->junit || !*o->junit || strcmp(o->junit, "-") == 0)
                return cmdline_error("--junit needs a file name");
        } else if (!o->check_only &&
                   (cli_is_opt(a, "--profile") || strcmp(a, "-p") == 0)) {
            o->profile = cli_opt_value(argc, argv, &i, "--profile");
            if (!o->profile)
                return cmdline_error("%s needs PATTERNS", a);
        } else if (!o->check_only && cli_is_opt(a, "--pcap")) {
            o->pcap = cli_opt_value(argc, argv, &i, "--pcap");
            if (!o->pcap || !*o->pcap)
                return cmdline_error("--pcap needs a file name");
            if (strcmp(o->pcap, "-") == 0)
                return cmdline_error("--pcap -: the report already goes to "
                                     "standard output; name a file");
        } else if (!o->check_only && cli_is_opt(a, "--svg")) {
            o->svg = cli_opt_value(argc, argv, &i, "--svg");
            if (!o->svg || !*o->svg)
                return cmdline_error("--svg needs a file name");
            if (strcmp(o->svg, "-") == 0)
                return cmdline_error("--svg -: the report already goes to "
                                     "standard output; name a file");
        } else if (!o->check_only && cli_is_opt(a, "--html")) {
            o->html = cli_opt_value(argc, argv, &i, "--html");
            if (!o->html || !*o->html)
                return cmdline_error("--html needs a file name");
            if (strcmp(o->html, "-") == 0)
                return cmdline_error("--html -: the report already goes to "
                                     "standard output; name a file");
        } else if (!o->check_only && cli_is_opt(a, "--seed")) {
            const char *v = cli_opt_value(argc, argv, &i, "--seed");
            if (!v || !cli_parse_u64(v, &o->seed))
                return cmdline_error("--seed needs a number from 0 to "
                                     "18446744073709551615, got '%s'",
                                     v ? v : "");
        } else {
            return cmdline_error("unknown option '%s' (see 'sockmodel %s "
                                 "--help')", a, o->check_only ? "check" : "run");
        }
    }
    if (o->n_files == 0)
        return cmdline_error("%s: no scenario file given (see 'sockmodel "
                             "%s --help')", o->check_only ? "check" : "run",
                             o->check_only ? "check" : "run");
    if (o->json + o->tap + o->quiet > 1)
        return cmdline_error("--json, --tap and --quiet are alternatives: "
                             "give one");
    if (o->pcap && o->n_files != 1)
        return cmdline_error("--pcap takes exactly one scenario file (each "
                             "run's clock starts at 0)");
    if (o->svg && o->n_files != 1)
        return cmdline_error("--svg takes exactly one scenario file (one "
                             "drawing per profile)");
    if (o->html && o->n_files != 1)
        return cmdline_error("--html takes exactly one scenario file");
    return -1;
}

/* Parses every file first: nothing runs if any of them is bad. */
static bool parse_all(const run_opts *o, scn_file **files)
{
    size_t errors = 0;
    for (size_t i = 0; i < o->n_files; i++)
        errors += scn_parse_path(o->files[i], stderr, &files[i]);
    return errors == 0;
}

/* The columns --pcap and --svg can serve: those with a model world.  The
 * others are named on stderr with the reason, never left out silently. */
static size_t drawable_columns(const scn_file *f, const scn_patlist *override,
                               const char *opt, const sm_profile ***out,
                               bool *several)
{
    scn_column *cols;
    size_t n = scn_select_columns(f, override, &cols), k = 0;
    *several = n > 1; /* file names as if every column had one */
    *out = scn_xmalloc((n + 1) * sizeof **out);
    for (size_t i = 0; i < n; i++) {
        if (cols[i].backend->no_world)
            fprintf(stderr, "sockmodel: note: %s: the %s column is not %s: "
                            "%s\n", opt, cols[i].name,
                    strcmp(opt, "--pcap") == 0 ? "captured" : "drawn",
                    cols[i].backend->no_world);
        else
            (*out)[k++] = cols[i].profile;
    }
    free(cols);
    return k;
}

/* --pcap: one capture per profile, opened before anything runs. */
typedef struct pcap_set {
    const sm_profile **profiles;
    scn_pcap **files;
    size_t n;
} pcap_set;

/* What the run's hooks feed: --pcap and --svg.  A world has one tap, so
 * with both the drawing's tap passes each segment on to the capture. */
typedef struct out_set {
    pcap_set pcap;
    scn_svg *svg;
} out_set;

static void out_world_created(void *ctx, sm_world *w, const sm_profile *p)
{
    out_set *os = ctx;
    sm_tap_fn fn = NULL;
    void *fn_ctx = NULL;
    for (size_t i = 0; i < os->pcap.n; i++)
        if (os->pcap.profiles[i] == p) {
            fn = scn_pcap_segment;
            fn_ctx = os->pcap.files[i];
        }
    if (os->svg)
        scn_svg_world_created(os->svg, w, p, fn, fn_ctx);
    else if (fn)
        sm_world_set_tap(w, fn, fn_ctx);
}

static void out_step_done(void *ctx, sm_world *w, const sm_profile *p,
                          const scn_stmt *st, const scn_cell *cell,
                          const sm_id *socks, size_t n_socks)
{
    out_set *os = ctx;
    if (os->svg)
        scn_svg_step_done(os->svg, w, p, st, cell, socks, n_socks);
}

static void out_world_done(void *ctx, sm_world *w, const sm_profile *p)
{
    out_set *os = ctx;
    if (os->svg)
        scn_svg_world_done(os->svg, w, p);
}

static char *pcap_name(const char *path, const char *profile, bool several)
{
    size_t n = strlen(path) + strlen(profile) + 8;
    char *s = scn_xmalloc(n);
    if (!several) {
        snprintf(s, n, "%s", path);
        return s;
    }
    const char *dot = strrchr(path, '.');
    const char *slash = strrchr(path, '/');
    if (!dot || (slash && dot < slash))
        snprintf(s, n, "%s.%s", path, profile);
    else
        snprintf(s, n, "%.*s.%s%s", (int)(dot - path), path, profile, dot);
    return s;
}

static bool pcap_open_all(const run_opts *o, const scn_file *f,
                          const scn_patlist *override, pcap_set *ps)
{
    bool several;
    ps->n = drawable_columns(f, override, "--pcap", &ps->profiles, &several);
    ps->files = scn_xmalloc((ps->n + 1) * sizeof *ps->files);
    for (size_t i = 0; i < ps->n; i++) {
        char err[512];
        char *name = pcap_name(o->pcap, sm_profile_name(ps->profiles[i]),
                               several);
        ps->files[i] = scn_pcap_open(name, err, sizeof err);
        free(name);
        if (!ps->files[i]) {
            fprintf(stderr, "sockmodel: error: %s\n", err);
            for (size_t j = 0; j < i; j++)
                scn_pcap_close(ps->files[j], err, sizeof err);
            ps->n = 0;
            return false;
        }
    }
    return true;
}

static bool pcap_close_all(pcap_set *ps)
{
    bool ok = true;
    for (size_t i = 0; i < ps->n; i++) {
        char err[512];
        if (scn_pcap_close(ps->files[i], err, sizeof err) != 0) {
            fprintf(stderr, "sockmodel: error: %s\n", err);
            ok = false;
        }
    }
    free(ps->files);
    free(ps->profiles);
    return ok;
}

/* --svg: one drawing per profile, files opened before anything runs. */
static scn_svg *svg_open_all(const run_opts *o, const scn_file *f,
                             const scn_patlist *override)
{
    const sm_profile **profiles;
    bool several;
    size_t n = drawable_columns(f, override, o->svg ? "--svg" : "--html",
                                &profiles, &several);
    char **names = scn_xmalloc((n + 1) * sizeof *names);
    for (size_t i = 0; i < n; i++)
        names[i] = o->svg ? pcap_name(o->svg, sm_profile_name(profiles[i]),
                                      several)
                          : NULL;
    char err[512];
    /* --html alone: the drawings are recorded, no file written. */
    scn_svg *s = scn_svg_new(f, profiles, o->svg ? (const char *const *)names : NULL,
                             n, err, sizeof err);
    if (!s)
        fprintf(stderr, "sockmodel: error: %s\n", err);
    /* --html: the page is written after the run; fail before it if the
     * file cannot be made. */
    FILE *hf = s && o->html ? fopen(o->html, "wb") : NULL;
    if (s && o->html && !hf) {
        fprintf(stderr, "sockmodel: error: cannot write %s: %s\n", o->html,
                strerror(errno));
        scn_svg_free(s);
        s = NULL;
    }
    if (hf)
        fclose(hf);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    free(profiles);
    return s;
}

static int run_all(const run_opts *o, scn_file **files,
                   const scn_patlist *override)
{
    size_t passed = 0, failed = 0;
    out_set os = {{0}, NULL};
    scn_hooks hooks = {out_world_created, out_world_done, out_step_done, &os};
    bool hooked = o->pcap || o->svg || o->html;
    FILE *junit = o->junit ? fopen(o->junit, "w") : NULL;
    if (o->junit && !junit) {
        fprintf(stderr, "sockmodel: error: cannot write %s: %s\n", o->junit,
                strerror(errno));
        return 2;
    }
    if ((o->svg || o->html) && !(os.svg = svg_open_all(o, files[0], override))) {
        if (junit)
            fclose(junit);
        return 2;
    }
    if (o->pcap && !pcap_open_all(o, files[0], override, &os.pcap)) {
        scn_svg_free(os.svg);
        if (junit)
            fclose(junit);
        return 2;
    }
    int svg_status = 0;
    size_t tap_points = 0;
    if (junit)
        scn_report_junit_begin(junit);
    if (o->json)
        scn_report_json_begin(stdout, o->seed);
    else if (o->tap)
        scn_report_tap_begin(stdout);
    for (size_t i = 0; i < o->n_files; i++) {
        scn_result *r = scn_run_file_hooks(files[i], override, o->seed,
                                           hooked ? &hooks : NULL);
        if (r->status == 2) {
            /* A column could not run (the kernel's namespaces, a backend
             * not built): nothing of this file is reported. */
            fprintf(stderr, "sockmodel: error: %s\n", r->error);
            scn_result_free(r);
            scn_svg_free(os.svg);
            if (o->pcap)
                pcap_close_all(&os.pcap);
            return 2;
        }
        if (o->svg || o->html) {
            char err[512];
            if (scn_svg_write(os.svg, r, err, sizeof err) != 0 ||
                (o->html && scn_html_write(o->html, r, os.svg, err, sizeof err) != 0)) {
                fprintf(stderr, "sockmodel: error: %s\n", err);
                svg_status = 2;
            }
        }
        /* (false only without this program's recovery point: kept for
         * the libraries' contract, scn.h) */
        bool reported = !junit || scn_report_junit_file(junit, r);
        if (o->json)
            reported &= scn_report_json_file(stdout, r, i == 0);
        else if (o->tap)
            reported &= scn_report_tap_file(stdout, r, &tap_points);
        else if (o->quiet)
            reported &= scn_report_failures(stdout, r);
        else
            reported &= scn_report_text(stdout, r, o->explain);
        if (!reported) {
            fputs("sockmodel: error: out of memory (the report is incomplete)\n", stderr);
            scn_result_free(r);
            scn_svg_free(os.svg);
            if (o->pcap)
                pcap_close_all(&os.pcap);
            return 2;
        }
        passed += r->passed;
        failed += r->failed;
        scn_result_free(r);
    }
    if (o->json)
        scn_report_json_end(stdout, passed, failed);
    else if (o->tap)
        scn_report_tap_end(stdout, tap_points, passed, failed);
    else
        scn_report_totals(stdout, passed, failed);
    if (junit) {
        scn_report_junit_end(junit);
        if (fclose(junit) != 0) {
            fprintf(stderr, "sockmodel: error: cannot write %s\n", o->junit);
            svg_status = 2;
        }
    }
    scn_svg_free(os.svg);
    if (o->pcap && !pcap_close_all(&os.pcap))
        return 2;
    if (svg_status)
        return svg_status;
    return failed ? 1 : 0;
}

static int cmd_run(int argc, char **argv, bool check_only)
{
    run_opts o;
    memset(&o, 0, sizeof o);
    o.seed = DEFAULT_SEED;
    o.check_only = check_only;
    o.files = scn_xmalloc(((size_t)argc + 1) * sizeof *o.files);
    scn_file **files = NULL;
    scn_arena arena = {0};
    scn_patlist override;
    scn_buf err = {0};
    int status = parse_run_args(argc, argv, &o);
    if (status < 0 && o.profile &&
        !scn_patlist_parse_arg(&arena, o.profile, &override, &err))
        status = cmdline_error("%s", err.s);
    if (status < 0) {
        files = scn_xmalloc((o.n_files + 1) * sizeof *files);
        memset(files, 0, (o.n_files + 1) * sizeof *files);
        if (!parse_all(&o, files))
            status = 2;
        else if (check_only)
            status = 0;
        else
            status = run_all(&o, files, o.profile ? &override : NULL);
    }
    for (size_t i = 0; files && i < o.n_files; i++)
        scn_file_free(files[i]);
    free(files);
    free(o.files);
    scn_arena_free(&arena);
    scn_buf_free(&err);
    return status;
}

static int cmd_profiles(void)
{
    size_t width = 0, n = sm_profile_count();
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(sm_profile_name(sm_profile_at(i)));
        width = len > width ? len : width;
    }
    for (size_t i = 0; i < n; i++) {
        const sm_profile *p = sm_profile_at(i);
        printf("%-*s  %s\n", (int)width, sm_profile_name(p),
               sm_profile_summary(p));
    }
    return 0;
}

/* Output that could not be written is an error (e.g. a full disk). */
static int finish(int status)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "sockmodel: error: cannot write the output: %s\n",
                strerror(errno));
        return 2;
    }
    return status;
}

static jmp_buf oom;

int main(int argc, char **argv)
{
    /* The libraries come back here when memory runs out. */
    if (setjmp(oom)) {
        fputs("sockmodel: error: out of memory\n", stderr);
        return 2;
    }
    scn_oom_point(&oom);
#ifdef HAVE_HOSTKERNEL
    /* `--profile host`: the real kernel (without it, a clear error). */
    if (!hk_register()) {
        fputs("sockmodel: error: cannot register the kernel backend\n",
              stderr);
        return 2;
    }
#endif
    if (argc < 2) {
        fputs(usage_main, stderr);
        return 2;
    }
    const char *cmd = argv[1];
    int status;
    if (strcmp(cmd, "run") == 0)
        status = cmd_run(argc - 2, argv + 2, false);
    else if (strcmp(cmd, "check") == 0)
        status = cmd_run(argc - 2, argv + 2, true);
    else if (strcmp(cmd, "profiles") == 0 && argc == 2)
        status = cmd_profiles();
    else if (strcmp(cmd, "replay") == 0)
        status = scn_cmd_replay(argc - 2, argv + 2);
    else if (strcmp(cmd, "gen") == 0)
        status = scn_cmd_gen(argc - 2, argv + 2);
    else if (strcmp(cmd, "probe") == 0)
        status = scn_cmd_probe(argc - 2, argv + 2);
    else if (strcmp(cmd, "exec") == 0)
        status = scn_cmd_exec(argc - 2, argv + 2);
    else if (strcmp(cmd, "trace") == 0)
        status = scn_cmd_trace(argc - 2, argv + 2);
    else if (strcmp(cmd, "pkt") == 0)
        status = scn_cmd_pkt(argc - 2, argv + 2);
    else if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 ||
             strcmp(cmd, "help") == 0)
        status = (fputs(usage_main, stdout), 0);
    else if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0)
        status = (printf("sockmodel %s\n", PACKAGE_VERSION), 0);
    else if (strcmp(cmd, "profiles") == 0 && argc == 3 &&
             (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0))
        status = (fputs(usage_profiles, stdout), 0);
    else if (strcmp(cmd, "profiles") == 0)
        status = cmdline_error("profiles takes no arguments, got '%s'",
                               argv[2]);
    else
        status = cmdline_error("unknown command '%s' (see 'sockmodel "
                               "--help')", cmd);
    return finish(status);
}
