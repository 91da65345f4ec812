/*
 * fuzz_pkt.c - libFuzzer target for the packetdrill scripts of
 * `sockmodel pkt`: the input bytes are a script.  They go through the
 * parser (pkt_parse); a script that parses is played under every profile
 * (pkt_run), verbose, with messages written to /dev/null, strict on even
 * profiles and --lenient on odd ones, as `sockmodel pkt --profile all -v`
 * would.
 *
 * Besides the sanitizers' findings the target aborts when the API's
 * promises break: a parse failure must say why in "PATH:LINE:COL:" form,
 * a parsed script has its events' lines in order, and an outcome is one
 * of the four verdicts, with a reason when it is not a pass.
 *
 * Build and run: `make fuzz`, `make fuzz-run FUZZ_TARGET=pkt`.
 * Reproduce: `cli/sockmodel pkt --profile all -v CRASH-FILE`.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pktdrill.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Longer inputs are cut: the parser's cost is linear, the runner's is
 * bounded by the script's events. */
#define FUZZ_MAX_INPUT (64u << 10)

static FILE *sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_INPUT)
        size = FUZZ_MAX_INPUT;
    if (!sink && !(sink = fopen("/dev/null", "w")))
        abort();
    char err[512];
    err[0] = '\0';
    pkt_script *s = pkt_parse("fuzz.pkt", (const char *)data, size, err, sizeof err);
    if (!s) {
        if (strncmp(err, "fuzz.pkt:", 9) != 0)
            abort(); /* a failure names the script and the place */
        return 0;
    }
    for (size_t i = 1; i < s->nev; i++)
        if (s->ev[i].line < s->ev[i - 1].line)
            abort();
    for (size_t k = 0; k < sm_profile_count(); k++) {
        pkt_run_opts o;
        memset(&o, 0, sizeof o);
        o.lenient = k & 1;
        o.verbose = true;
        o.out = sink;
        o.seed = 1;
        pkt_outcome oc;
        pkt_run(s, sm_profile_at(k), &o, &oc);
        if (oc.verdict != PKT_PASS && oc.verdict != PKT_FAIL && oc.verdict != PKT_CANNOT &&
            oc.verdict != PKT_ERROR)
            abort();
        if (oc.verdict != PKT_PASS && oc.why[0] == '\0')
            abort(); /* a failure says what */
    }
    pkt_script_free(s);
    return 0;
}
