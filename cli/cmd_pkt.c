/*
 * cmd_pkt.c - `sockmodel pkt` (issue 18): packetdrill scripts under each
 * selected profile (the parser and the runner are pkt/).  This file maps
 * the command line to pkt_load()/pkt_run() and the outcomes to an exit
 * status: 0 every script passed under every profile, 1 a mismatch (or a
 * script the model cannot run), 2 a bad command line, an unreadable
 * script or bad syntax (SCRIPT:LINE:COL: message), or a run the model
 * could not finish (out of memory: SCRIPT:LINE: PROFILE: error: message).
 *
 *   sockmodel pkt [--profile PATTERNS] [--lenient] [--verbose] [--tsv]
 *                 [--parse-only] SCRIPT.pkt...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"
#include "pktdrill.h"
#include "scn.h"

static const char usage[] =
    "usage: sockmodel pkt [--profile PATTERNS] [--lenient] [--verbose] [--tsv]\n"
    "                     [--parse-only] SCRIPT.pkt...\n"
    "\n"
    "Runs packetdrill scripts on the model under each selected profile: the\n"
    "script's system calls are made on the model, its '<' segments come from\n"
    "a scripted peer, its '>' segments are checked against what the model\n"
    "sends.  A mismatch reads SCRIPT:LINE: PROFILE: with the expected and the\n"
    "actual segment or result.\n"
    "  -p, --profile PATTERNS  profiles to run under (default: all)\n"
    "  --lenient      report window, TCP option and SO_RCVBUF differences\n"
    "                 without failing\n"
    "  --verbose      also list ignored commands and values the model cannot give\n"
    "  --tsv          one line per script and profile: verdict, profile, script,\n"
    "                 line, reason (tab-separated)\n"
    "  --parse-only   parse the scripts, run nothing\n"
    "Exit status: 0 all passed, 1 a mismatch or a script that cannot run,\n"
    "2 bad command line, unreadable script, bad syntax or out of memory.\n";

static int usage_error(const char *msg, const char *arg)
{
    fprintf(stderr, "sockmodel: error: %s%s\n(sockmodel pkt --help for usage)\n", msg,
            arg ? arg : "");
    return 2;
}

/* "--name=value" or "--name value": the value, or NULL if A is not NAME. */
static const char *value_of(int argc, char **argv, int *i, const char *name, bool *missing)
{
    size_t n = strlen(name);
    const char *a = argv[*i];
    if (strncmp(a, name, n) != 0)
        return NULL;
    if (a[n] == '=')
        return a + n + 1;
    if (a[n] != 0)
        return NULL;
    if (*i + 1 < argc)
        return argv[++*i];
    *missing = true;
    return NULL;
}

int scn_cmd_pkt(int argc, char **argv)
{
    const char *profile = "all";
    pkt_run_opts ro;
    memset(&ro, 0, sizeof ro);
    ro.out = stdout;
    bool tsv = false, parse_only = false;
    int first = argc;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        bool missing = false;
        const char *v;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage, stdout);
            return 0;
        } else if ((v = value_of(argc, argv, &i, "--profile", &missing)) ||
                   (v = value_of(argc, argv, &i, "-p", &missing)))
            profile = v;
        else if (missing)
            return usage_error("--profile needs a list of profiles", NULL);
        else if (strcmp(a, "--lenient") == 0)
            ro.lenient = true;
        else if (strcmp(a, "--verbose") == 0 || strcmp(a, "-v") == 0)
            ro.verbose = true;
        else if (strcmp(a, "--tsv") == 0)
            tsv = true;
        else if (strcmp(a, "--parse-only") == 0)
            parse_only = true;
        else if (strcmp(a, "--") == 0) {
            first = i + 1;
            break;
        } else if (a[0] == '-' && a[1])
            return usage_error("unknown option ", a);
        else {
            first = i;
            break;
        }
    }
    if (first >= argc)
        return usage_error("no script given", NULL);

    scn_arena arena = {0};
    scn_patlist pats;
    scn_buf err = {0};
    if (!scn_patlist_parse_arg(&arena, profile, &pats, &err)) {
        int st = usage_error(err.s ? err.s : "bad --profile", NULL);
        scn_buf_free(&err);
        scn_arena_free(&arena);
        return st;
    }
    size_t np = 0, nall = sm_profile_count();
    const sm_profile **ps = calloc(nall ? nall : 1, sizeof *ps);
    if (!ps) {
        scn_arena_free(&arena);
        return usage_error("out of memory", NULL);
    }
    for (size_t i = 0; i < nall; i++)
        if (scn_patlist_match(&pats, sm_profile_name(sm_profile_at(i))))
            ps[np++] = sm_profile_at(i);
    scn_arena_free(&arena);
    if (np == 0) {
        free(ps);
        return usage_error("--profile matches no profile: ", profile);
    }
    if (tsv)
        ro.out = ro.verbose ? stderr : NULL;

    int status = 0;
    size_t nscripts = 0, nbad = 0;
    size_t *count = calloc(np * 4, sizeof *count);
    if (!count) {
        free(ps);
        return usage_error("out of memory", NULL);
    }
    for (int i = first; i < argc; i++) {
        char msg[512];
        pkt_script *s = pkt_load(argv[i], msg, sizeof msg);
        nscripts++;
        if (!s) {
            fprintf(stderr, "%s\n", msg);
            nbad++;
            status = 2;
            continue;
        }
        if (parse_only) {
            pkt_script_free(s);
            continue;
        }
        for (size_t k = 0; k < np; k++) {
            pkt_outcome oc;
            pkt_run(s, ps[k], &ro, &oc);
            count[k * 4 + oc.verdict]++;
            if (oc.verdict == PKT_ERROR) {
                /* no verdict: the run did not finish */
                if (oc.line)
                    fprintf(stderr, "%s:%d: %s: error: %s\n", argv[i], oc.line,
                            sm_profile_name(ps[k]), oc.why);
                else
                    fprintf(stderr, "%s: %s: error: %s\n", argv[i], sm_profile_name(ps[k]),
                            oc.why);
                status = 2;
            } else if (oc.verdict != PKT_PASS && status == 0)
                status = 1;
            if (tsv) {
                char why[256];
                size_t j = 0;
                for (const char *c = oc.why; *c && j + 1 < sizeof why; c++)
                    why[j++] = *c == '\n' || *c == '\t' ? ' ' : *c;
                why[j] = 0;
                printf("%s\t%s\t%s\t%d\t%s\n",
                       oc.verdict == PKT_PASS     ? "pass"
                       : oc.verdict == PKT_FAIL   ? "fail"
                       : oc.verdict == PKT_CANNOT ? "cannot"
                                                  : "error",
                       sm_profile_name(ps[k]), argv[i], oc.line, why);
            } else if (ro.verbose && oc.verdict == PKT_PASS)
                printf("%s: %s: pass (%u unchecked, %u ignored%s)\n", argv[i],
                       sm_profile_name(ps[k]), oc.unchecked, oc.ignored,
                       oc.lenient ? ", lenient differences" : "");
        }
        pkt_script_free(s);
    }
    if (!tsv && (nscripts > 1 || np > 1) && (parse_only || nscripts > nbad)) {
        if (parse_only)
            printf("%zu scripts, %zu parsed\n", nscripts, nscripts - nbad);
        for (size_t k = 0; k < np && !parse_only; k++) {
            printf("%s: %zu scripts: %zu pass, %zu fail, %zu cannot run", sm_profile_name(ps[k]),
                   nscripts - nbad, count[k * 4 + PKT_PASS], count[k * 4 + PKT_FAIL],
                   count[k * 4 + PKT_CANNOT]);
            if (count[k * 4 + PKT_ERROR])
                printf(", %zu not finished (error)", count[k * 4 + PKT_ERROR]);
            printf("%s\n", nbad ? " (some scripts did not parse)" : "");
        }
    }
    free(count);
    free(ps);
    return status;
}
