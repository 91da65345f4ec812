/*
 * cmd_gen.c - `sockmodel gen` (issue 4): writes random but meaningful
 * scenarios (gen_scn.c), or, with --check, runs them under two profiles and
 * reports every step where the profiles differ, shrunk to the smallest
 * scenario that still shows it (gen_diff.c).
 *
 *   sockmodel gen [--seed N] [--first I] [--count K] [--out DIR]
 *                 [--profile-line PATTERNS] [--include-open]
 *   sockmodel gen --check --profile A,B [--seed N] [--first I] [--count K]
 *                 [--all] [--quiet] [--run-seed N] [--max-runs N] [--include-open]
 *
 * Exit status: 0 written / no difference, 1 a difference, 2 bad command
 * line, a file that cannot be written, or a scenario that does not parse.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_opt.h"
#include "cmds.h"
#include "gen_scn.h"

static const char usage[] =
    "usage: sockmodel gen [--seed N] [--first I] [--count K] [--out DIR]\n"
    "                     [--profile-line PATTERNS] [--include-open]\n"
    "       sockmodel gen --check --profile A,B [--seed N] [--first I] [--count K]\n"
    "                     [--all] [--quiet] [--run-seed N] [--max-runs N]\n"
    "                     [--include-open]\n"
    "\n"
    "Writes K random scenarios (scenario I, I+1, ... of seed N; the same seed\n"
    "gives the same bytes), to standard output or as DIR/gen-N-I.scn.\n"
    "With --check, runs them under the two profiles A and B instead and\n"
    "compares every step; a difference is shrunk to the smallest scenario\n"
    "that still shows it and printed; --all goes on after the first one.\n"
    "--include-open also generates the constructs behind the open differences\n"
    "between the linux model and the kernel (docs/gen-probe.md), left out\n"
    "by default until the model is fixed.\n"
    "Defaults: --seed 1 --first 0 --count 1 (--check: --count 100).\n";

/* "sockmodel: error: WHAT ARG" (ARG may be NULL). */
static int bad(const char *what, const char *arg)
{
    fprintf(stderr, "sockmodel: error: %s%s%s\n(sockmodel gen --help for usage)\n",
            what, arg ? " " : "", arg ? arg : "");
    return 2;
}

/* "sockmodel: error: OPTION WHAT" */
static int bad_opt(const char *opt, const char *what)
{
    fprintf(stderr, "sockmodel: error: %s %s\n(sockmodel gen --help for usage)\n",
            opt, what);
    return 2;
}

static void header(FILE *f, uint64_t seed, uint64_t index, const char *profile_line)
{
    fprintf(f,
            "# gen-%" PRIu64 "-%" PRIu64 ".scn - scenario %" PRIu64 " of "
            "`sockmodel gen --seed %" PRIu64 "`: random, meant for comparing\n"
            "# profiles (sockmodel gen --check); the values after `expect` "
            "are guesses.\n",
            seed, index, index, seed);
    if (profile_line)
        fprintf(f, "profile %s\n", profile_line);
}

static int write_files(uint64_t seed, uint64_t first, uint64_t count,
                       const char *dir, const char *profile_line, bool include_open)
{
    scn_buf text = {0};
    int status = 0;
    for (uint64_t k = 0; k < count; k++) {
        uint64_t index = first + k;
        text.len = 0;
        scn_gen_scenario(seed, index, !include_open, &text);
        if (!dir) {
            fprintf(stdout, "%s# ==== sockmodel gen --seed %" PRIu64
                            ": scenario %" PRIu64 " ====\n",
                    k ? "\n" : "", seed, index);
            header(stdout, seed, index, profile_line);
            fwrite(text.s, 1, text.len, stdout);
            continue;
        }
        scn_buf path = {0};
        scn_buf_printf(&path, "%s/gen-%" PRIu64 "-%" PRIu64 ".scn", dir, seed, index);
        FILE *f = fopen(path.s, "w");
        if (!f) {
            fprintf(stderr, "sockmodel: error: cannot write %s: %s\n", path.s,
                    strerror(errno));
            scn_buf_free(&path);
            status = 2;
            break;
        }
        header(f, seed, index, profile_line);
        fwrite(text.s, 1, text.len, f);
        if (fclose(f) != 0) {
            fprintf(stderr, "sockmodel: error: cannot write %s: %s\n", path.s,
                    strerror(errno));
            status = 2;
        }
        scn_buf_free(&path);
        if (status)
            break;
    }
    scn_buf_free(&text);
    if (fflush(stdout) != 0)
        return 2;
    return status;
}

int scn_cmd_gen(int argc, char **argv)
{
    scn_diff_opts o;
    memset(&o, 0, sizeof o);
    o.seed = 1;
    o.run_seed = 1;
    o.max_runs = 400;
    bool check = false, have_count = false;
    const char *dir = NULL, *profile_line = NULL;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t n;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(usage, stdout);
            return 0;
        } else if (strcmp(a, "--check") == 0) {
            check = true;
        } else if (strcmp(a, "--all") == 0) {
            o.all = true;
        } else if (strcmp(a, "--quiet") == 0) {
            o.quiet = true;
        } else if (strcmp(a, "--include-open") == 0) {
            o.include_open = true;
        } else if (strcmp(a, "--profile") == 0 || strcmp(a, "-p") == 0) {
            if (!v)
                return bad_opt(a, "needs profile patterns");
            o.profiles = v;
            i++;
        } else if (strcmp(a, "--out") == 0) {
            if (!v)
                return bad_opt(a, "needs a directory");
            dir = v;
            i++;
        } else if (strcmp(a, "--profile-line") == 0) {
            if (!v)
                return bad_opt(a, "needs profile patterns");
            profile_line = v;
            i++;
        } else if (strcmp(a, "--seed") == 0 || strcmp(a, "--first") == 0 ||
                   strcmp(a, "--count") == 0 || strcmp(a, "--run-seed") == 0 ||
                   strcmp(a, "--max-runs") == 0) {
            if (!cli_parse_u64(v, &n))
                return bad_opt(a, "needs a number from 0 to 2^64-1");
            i++;
            if (strcmp(a, "--seed") == 0)
                o.seed = n;
            else if (strcmp(a, "--first") == 0)
                o.first = n;
            else if (strcmp(a, "--run-seed") == 0)
                o.run_seed = n;
            else if (strcmp(a, "--max-runs") == 0) {
                if (n > 1000000)
                    return bad_opt(a, "at most 1000000");
                o.max_runs = (unsigned)n;
            } else {
                o.count = n;
                have_count = true;
            }
        } else {
            return bad("gen: unknown argument", a);
        }
    }
    if (!have_count)
        o.count = check ? 100 : 1;
    if (check) {
        if (!o.profiles)
            return bad("gen --check needs --profile A,B (two profiles)", NULL);
        if (dir || profile_line)
            return bad("gen --check takes no --out or --profile-line", NULL);
        return scn_diff_check(&o, stdout, stderr);
    }
    if (o.profiles || o.all)
        return bad("--profile and --all go with --check", NULL);
    if (profile_line) {
        /* The line must parse: check it on a trivial scenario. */
        scn_buf t = {0};
        scn_buf_printf(&t, "profile %s\na = socket tcp4\n", profile_line);
        scn_file *f = NULL;
        size_t errs = scn_parse_buffer("--profile-line", t.s, t.len, stderr, &f);
        scn_buf_free(&t);
        scn_file_free(f);
        if (errs)
            return 2;
    }
    return write_files(o.seed, o.first, o.count, dir, profile_line, o.include_open);
}
