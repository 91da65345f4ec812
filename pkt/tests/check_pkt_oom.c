/*
 * check_pkt_oom.c - out of memory in `sockmodel pkt`: a representative
 * packetdrill script (options, a guard, a sysctl, a passive open, data
 * both ways, a close through TIME_WAIT) is parsed and run with the n-th
 * allocation failing, for every n until a run needs no more (SQLite's
 * malloc-failure loop), under three profiles.
 *
 * The allocations are counted by wrapping malloc, calloc, realloc,
 * aligned_alloc and free at link time (-Wl,--wrap, see pkt/pkt.am): every
 * allocation the parser, the runner, the engine and the profiles make
 * goes through the wrappers, with no hook in the libraries.  Each failing
 * run must end in an error: pkt_parse returns NULL with "out of memory"
 * in its message, or pkt_run gives the verdict PKT_ERROR (never a pass,
 * a fail or a "cannot run" that would be taken for the script's result);
 * and every byte allocated must be freed (the wrappers count the blocks
 * alive; the sanitizer build checks too).  The run that no failure
 * reaches must give the baseline's verdict.
 */
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_oom_wrap.h"
#include "check_util.h"
#include "pktdrill.h"

static const char script[] =
    "// a representative script: every part of the runner\n"
    "--ip_version=ipv4\n"
    "--tolerance_usecs=10000\n"
    " 0 `sysctl -w net.ipv4.tcp_tw_reuse=1`\n"
    " 0.000 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
    "+0.000 setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0\n"
    "#ifdef Linux\n"
    "+0.000 setsockopt(3, SOL_SOCKET, SO_REUSEPORT, [1], 4) = 0\n"
    "#endif\n"
    "+0.000 bind(3, ..., ...) = 0\n"
    "+0.000 listen(3, 1) = 0\n"
    "+0.100 < S 0:0(0) win 65535 <mss 1460,sackOK,nop,nop,nop,wscale 7>\n"
    "+0.000 > S. 0:0(0) ack 1 <...>\n"
    "+0.010 < . 1:1(0) ack 1 win 65535\n"
    "+0.000 accept(3, ..., ...) = 4\n"
    "+0.000 %{ assert tcpi_state == TCPI_ESTABLISHED }%\n"
    "+0.010 < P. 1:11(10) ack 1 win 65535\n"
    "+0.000 > . 1:1(0) ack 11 <...>\n"
    "+0.000 read(4, ..., 100) = 10\n"
    "+0.000 write(4, ..., 20) = 20\n"
    "+0.000 > P. 1:21(20) ack 11 <...>\n"
    "+0.010 < . 11:11(0) ack 21 win 65535\n"
    "+0.000 close(4) = 0\n"
    "+0.000 > F. 21:21(0) ack 11 <...>\n"
    "+0.010 < F. 11:11(0) ack 22 win 65535\n"
    "+0.000 > . 22:22(0) ack 12 <...>\n"
    "+0.000 %{ assert tcpi_state == TCPI_TIME_WAIT }%\n"
    "+0.000 close(3) = 0\n";

typedef struct outcome {
    bool parsed;
    char err[256];
    pkt_outcome oc;
} outcome;

static void run_once(const char *profile, long n, outcome *out)
{
    memset(out, 0, sizeof *out);
    pkt_run_opts o;
    memset(&o, 0, sizeof o);
    o.lenient = true;
    o.seed = 1;
    const sm_profile *p = sm_profile_find(profile);
    ck_assert(p != NULL);
    fail_after = n;
    hit = false;
    live = 0;
    armed = true;
    pkt_script *s = pkt_parse("oom.pkt", script, sizeof script - 1, out->err, sizeof out->err);
    if (s) {
        out->parsed = true;
        pkt_run(s, p, &o, &out->oc);
        pkt_script_free(s);
    }
    armed = false;
    ck_assert_msg(live == 0, "%s n=%ld: %ld blocks not freed", profile, n, live);
}

static void sweep(const char *profile)
{
    outcome ref, got;
    run_once(profile, -1, &ref);
    ck_assert_msg(ref.parsed, "%s", ref.err);
    ck_assert_msg(ref.oc.verdict != PKT_ERROR, "%s: error with memory to spare: %s", profile,
                  ref.oc.why);
    long n;
    size_t parse_errors = 0, run_errors = 0;
    for (n = 0;; n++) {
        run_once(profile, n, &got);
        if (!hit) {
            ck_assert(got.parsed);
            ck_assert_int_eq(got.oc.verdict, ref.oc.verdict);
            ck_assert_str_eq(got.oc.why, ref.oc.why);
            break;
        }
        if (!got.parsed) {
            ck_assert_msg(strstr(got.err, "out of memory") != NULL, "%s n=%ld: %s", profile, n,
                          got.err);
            parse_errors++;
            continue;
        }
        ck_assert_msg(got.oc.verdict == PKT_ERROR, "%s n=%ld: verdict %s (%s), not error",
                      profile, n, pkt_verdict_name(got.oc.verdict), got.oc.why);
        ck_assert_msg(strstr(got.oc.why, "memory") != NULL, "%s n=%ld: %s", profile, n,
                      got.oc.why);
        run_errors++;
    }
    printf("%s: %ld allocations, each failed in turn: %zu parse errors, %zu run errors\n",
           profile, n, parse_errors, run_errors);
    ck_assert_msg(parse_errors > 0 && run_errors > 20, "%s: %zu parse and %zu run failures",
                  profile, parse_errors, run_errors);
}

START_TEST(oom_linux) { sweep("linux"); }
END_TEST
START_TEST(oom_bsd) { sweep("bsd"); }
END_TEST
START_TEST(oom_windows) { sweep("windows"); }
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("pkt_oom");
    TCase *t = tcase_create("core");
    tcase_set_timeout(t, 120);
    tcase_add_test(t, oom_linux);
    tcase_add_test(t, oom_bsd);
    tcase_add_test(t, oom_windows);
    suite_add_tcase(s, t);
    return s;
}

CHECK_MAIN(suite)
