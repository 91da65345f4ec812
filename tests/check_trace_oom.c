/*
 * check_trace_oom.c - out of memory in the strace-log reader
 * (trace/trc_read.c): a real log (threads, a clone, unfinished and resumed
 * calls; fuzz/corpus/trace/python-tt-yy.strace) is read with the n-th
 * allocation failing, for every n until a read needs no more (allocations
 * counted by tests/check_oom_wrap.h).  Each failing read must report
 * exactly one "LOG:LINE: error: out of memory" naming the line it had
 * reached, return an error, and leave no block once the log is freed; a
 * read that no failure reaches gives the baseline's events.
 */
#define _GNU_SOURCE /* open_memstream */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_oom_wrap.h"
#include "check_util.h"
#include "trc.h"

#define NAME "python-tt-yy.strace"

static char *text;
static size_t text_len;

/* Reads the log with allocation n failing (-1: none): the error text
 * (malloc'ed outside the counted region), the error count and the events. */
static size_t read_once(long n, char **errs, size_t *nev)
{
    size_t len = 0;
    FILE *out = open_memstream(errs, &len);
    ck_assert(out != NULL);
    obs_log log;
    memset(&log, 0, sizeof log);
    fail_after = n;
    hit = false;
    live = 0;
    armed = true;
    size_t nerr = trc_read_buffer(NAME, text, text_len, &log, out);
    *nev = log.n;
    obs_log_free(&log);
    armed = false;
    fclose(out);
    return nerr;
}

/* The line number of the one out-of-memory error in errs, or 0. */
static unsigned long oom_line(const char *errs)
{
    const char *p = errs;
    unsigned long line = 0;
    int found = 0;
    while ((p = strstr(p, NAME ":")) != NULL) {
        char *end;
        unsigned long l = strtoul(p + strlen(NAME ":"), &end, 10);
        if (end != p + strlen(NAME ":") && strncmp(end, ": error: out of memory\n", 23) == 0) {
            line = l;
            found++;
        }
        p = end;
    }
    return found == 1 ? line : 0;
}

START_TEST(oom_sweep)
{
    FILE *f = fopen(TRACE_OOM_LOG, "rb");
    ck_assert_msg(f != NULL, "%s", TRACE_OOM_LOG);
    text = malloc(1 << 20);
    ck_assert(text != NULL);
    text_len = fread(text, 1, 1 << 20, f);
    fclose(f);
    unsigned long nlines = 0;
    for (size_t i = 0; i < text_len; i++)
        nlines += text[i] == '\n';

    char *ref;
    size_t ref_ev;
    ck_assert_uint_eq(read_once(-1, &ref, &ref_ev), 0);
    ck_assert_str_eq(ref, "");
    ck_assert_uint_gt(ref_ev, 10);
    ck_assert_int_eq(live, 0);
    long n;
    unsigned long lines_seen = 0, last_line = 0;
    for (n = 0;; n++) {
        char *errs;
        size_t nev;
        size_t nerr = read_once(n, &errs, &nev);
        if (!hit) {
            ck_assert_uint_eq(nerr, 0);
            ck_assert_str_eq(errs, ref);
            ck_assert_uint_eq(nev, ref_ev);
            free(errs);
            break;
        }
        unsigned long line = oom_line(errs);
        ck_assert_msg(nerr > 0 && line >= 1 && line <= nlines, "n=%ld: %lu errors: %.200s", n,
                      (unsigned long)nerr, errs);
        ck_assert_msg(live == 0, "n=%ld: %ld blocks not freed", n, live);
        if (line != last_line)
            lines_seen++;
        last_line = line;
        free(errs);
    }
    free(ref);
    free(text);
    printf("%ld allocations, each failed in turn: out of memory reported at %lu "
           "different lines\n", n, lines_seen);
    ck_assert(n > 20 && lines_seen > 5);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("trace_oom");
    TCase *t = tcase_create("core");
    tcase_set_timeout(t, 120);
    tcase_add_test(t, oom_sweep);
    suite_add_tcase(s, t);
    return s;
}

CHECK_MAIN(suite)
