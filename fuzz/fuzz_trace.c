/*
 * fuzz_trace.c - libFuzzer target for the strace log reader of
 * `sockmodel trace` (trace/trc_read.c): the input bytes are a log as
 * `strace -f` writes it.  A log that reads without errors is then
 * mirrored into the model under two profiles (observe/obs_mirror.c) and
 * reported as text and JSON to /dev/null, as `sockmodel trace` does.
 *
 * Besides the sanitizers' findings the target aborts when the reader's
 * promises break: every error it counts is a "LOG:LINE: error:" line, and
 * a log that read cleanly is analysed (NULL only for out of memory).
 *
 * Build and run: `make fuzz`, `make fuzz-run FUZZ_TARGET=trace`.
 * Reproduce: `cli/sockmodel trace --profile linux,windows CRASH-FILE`.
 */
#define _GNU_SOURCE /* open_memstream, memmem */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_INPUT (64u << 10)

static FILE *sink;

/* How many lines of text look like "fuzz.log:N: error: ...". */
static size_t error_lines(const char *t, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        const char *nl = memchr(t + i, '\n', n - i);
        size_t len = nl ? (size_t)(nl - (t + i)) : n - i;
        if (len > 9 && memcmp(t + i, "fuzz.log:", 9) == 0 && memmem(t + i, len, ": error: ", 9))
            k++;
        i += len + 1;
    }
    return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_INPUT)
        size = FUZZ_MAX_INPUT;
    if (!sink && !(sink = fopen("/dev/null", "w")))
        abort();
    char *errtext = NULL;
    size_t errlen = 0;
    FILE *errs = open_memstream(&errtext, &errlen);
    if (!errs)
        abort();
    obs_log log;
    memset(&log, 0, sizeof log);
    size_t nerr = trc_read_buffer("fuzz.log", (const char *)data, size, &log, errs);
    fclose(errs);
    if (error_lines(errtext, errlen) != nerr)
        abort();
    free(errtext);
    if (nerr == 0) {
        const sm_profile *ps[2] = {sm_profile_find("linux"), sm_profile_find("windows")};
        const char *why = NULL;
        obs_result *r = obs_analyse(&log, ps, 2, 1, sink, &why);
        if (r) {
            obs_report_text(sink, r);
            obs_report_json(sink, r);
            obs_result_free(r);
        } else if (!why) {
            abort();
        }
    }
    obs_log_free(&log);
    return 0;
}
