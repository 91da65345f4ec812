/*
 * check_scenario_oom.c - out of memory in `sockmodel run`: a scenario
 * (UDP sharing rules under every profile) is parsed, run and reported
 * with the n-th allocation failing, for every n until a run needs no more
 * (allocations counted by tests/check_oom_wrap.h).  Each failing run must
 * either reach the program's recovery point (scn_oom_point: sockmodel
 * then prints "out of memory" and exits 2; what was being built is
 * abandoned, so blocks stay allocated until the process exits: the test
 * frees them as that exit would), or end
 * with the result's status 2 and an error about memory (a column whose
 * engine world ran out), with every block freed.  Neither may crash, and
 * a run that no failure reaches gives the baseline's report.  Then the
 * same without a recovery point: the library's entry points report each
 * failure as their error, never abort().
 */
#define _GNU_SOURCE /* open_memstream */
#include <check.h>
#include <setjmp.h>
#include <stdio.h>

#include "check_oom_wrap.h"
#include "check_util.h"
#include "scn.h"

static const char text[] =
    "profile *\n"
    "a = socket udp4\n"
    "setsockopt a SO_REUSEADDR 1\n"
    "bind a 0.0.0.0:5000\n"
    "b = socket udp4\n"
    "setsockopt b SO_REUSEADDR 1\n"
    "bind b 127.0.0.1:5000\n"
    "c = socket tcp6\n"
    "bind c [::]:5000\n"
    "listen c\n"
    "d = socket tcp4\n"
    "connect d 127.0.0.1:5000\n"
    "close d\n";

typedef enum { RAN, JUMPED } how;

/* The report text (malloc'ed, outside the counted region) and how it ended. */
static how run_once(long n, char **report, int *status)
{
    static jmp_buf jb;
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    ck_assert(out != NULL);
    *status = 0;
    fail_after = n;
    hit = false;
    live = 0;
    armed = true;
    volatile how h = RAN;
    if (setjmp(jb)) {
        h = JUMPED;
    } else {
        scn_oom_point(&jb);
        scn_file *f = NULL;
        if (scn_parse_buffer("oom.scn", text, sizeof text - 1, NULL, &f) != 0)
            abort(); /* the text parses (no ck_assert here: Check allocates) */
        scn_patlist all = {NULL, 0};
        scn_result *r = scn_run_file(f, &all, 1);
        *status = r->status;
        if (r->status == 2)
            fprintf(out, "error: %s\n", r->error);
        else
            scn_report_text(out, r, true);
        scn_result_free(r);
        scn_file_free(f);
    }
    scn_oom_point(NULL);
    armed = false;
    if (h == JUMPED)
        oom_release_abandoned(); /* what the program's exit would free */
    fclose(out);
    *report = buf;
    return h;
}

START_TEST(oom_sweep)
{
    char *ref;
    int status;
    ck_assert_int_eq(run_once(-1, &ref, &status), RAN);
    ck_assert_int_eq(status, 0);
    ck_assert_int_eq(live, 0);
    long n;
    size_t jumped = 0, column_errors = 0;
    for (n = 0;; n++) {
        char *got;
        how h = run_once(n, &got, &status);
        if (!hit) {
            ck_assert_int_eq(h, RAN);
            ck_assert_str_eq(got, ref);
            free(got);
            break;
        }
        if (h == JUMPED) {
            jumped++;
        } else {
            ck_assert_msg(status == 2 && strstr(got, "memory"), "n=%ld: status %d: %.200s", n,
                          status, got);
            ck_assert_msg(live == 0, "n=%ld: %ld blocks not freed", n, live);
            column_errors++;
        }
        free(got);
    }
    free(ref);
    printf("%ld allocations, each failed in turn: %zu recovery-point errors, "
           "%zu column errors\n", n, jumped, column_errors);
    ck_assert(jumped > 10 && column_errors > 10);
}
END_TEST

/* The same sweep by a program that sets no recovery point: the library's
 * entry points set their own, so each failure is an error they return -
 * the parse's "out of memory" error, the run's status 2, a report that
 * says it is incomplete - never an abort. */
START_TEST(oom_sweep_without_point)
{
    long n;
    size_t parse_errors = 0, run_errors = 0, report_errors = 0;
    for (n = 0;; n++) {
        char *errs = NULL;
        size_t elen = 0;
        FILE *ef = open_memstream(&errs, &elen);
        char *buf = NULL;
        size_t len = 0;
        FILE *out = open_memstream(&buf, &len);
        ck_assert(ef != NULL && out != NULL);
        fail_after = n;
        hit = false;
        live = 0;
        armed = true;
        int what = 0; /* 1 parse error, 2 run error, 3 report error */
        scn_file *f = NULL;
        if (scn_parse_buffer("oom.scn", text, sizeof text - 1, ef, &f) != 0) {
            what = 1;
        } else {
            scn_patlist all = {NULL, 0};
            scn_result *r = scn_run_file(f, &all, 1);
            if (r->status == 2)
                what = 2;
            else if (!scn_report_text(out, r, true))
                what = 3;
            scn_result_free(r);
            scn_file_free(f);
        }
        armed = false;
        fclose(ef);
        fclose(out);
        oom_release_abandoned(); /* what an entry point's own point abandoned */
        if (!hit) {
            ck_assert_int_eq(what, 0);
            free(errs);
            free(buf);
            break;
        }
        ck_assert_msg(what != 0, "n=%ld: the failure went unreported", n);
        if (what == 1) {
            ck_assert_msg(strstr(errs, "oom.scn: error: out of memory") != NULL, "n=%ld: %s", n,
                          errs);
            parse_errors++;
        } else if (what == 2) {
            run_errors++;
        } else {
            report_errors++;
        }
        free(errs);
        free(buf);
    }
    printf("without a recovery point: %ld allocations, each failed in turn: %zu parse "
           "errors, %zu run errors, %zu incomplete reports\n", n, parse_errors, run_errors,
           report_errors);
    ck_assert(parse_errors > 5 && run_errors > 10 && report_errors > 5);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("scenario_oom");
    TCase *t = tcase_create("core");
    tcase_set_timeout(t, 300);
    tcase_add_test(t, oom_sweep);
    tcase_add_test(t, oom_sweep_without_point);
    suite_add_tcase(s, t);
    return s;
}

CHECK_MAIN(suite)
