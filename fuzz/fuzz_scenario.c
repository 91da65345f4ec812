/*
 * fuzz_scenario.c - libFuzzer target for the scenario language: the input
 * bytes are a scenario file.  They go through the parser
 * (scn_parse_buffer); a file that parses is run under every profile
 * (scn_run_file with an empty --profile list, which selects them all) and
 * printed three ways (the table, the table with --explain, and JSON), as
 * `sockmodel run` would.  Parse errors and reports go to memory only;
 * nothing is written to files.
 *
 * Besides the sanitizers' findings (ASan, UBSan, leaks) the target checks
 * two properties and aborts when one fails: the determinism contract (a
 * second run of the same parsed file prints the same bytes), and that
 * every address and endpoint the parser accepted formats to text that
 * parses back to the same value.
 *
 * Build and run: `make fuzz`, `make fuzz-run FUZZ_SECONDS=60` (fuzz/fuzz.am).
 * A crash input reproduces with `cli/sockmodel run --explain FILE` (the
 * seed is the program's default, 1).
 */
#define _POSIX_C_SOURCE 200809L /* open_memstream */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scn.h"

/* Inputs above this are cut (the parser's own limits are far larger:
 * 64 MiB files, 100000 statements; fuzz/README.md says how they behave;
 * here long inputs would only slow the search down). */
#define FUZZ_MAX_INPUT (1u << 20)

/* The seed `sockmodel run` uses when none is given. */
#define FUZZ_SEED 1

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Runs F and returns everything the three reports print, malloc'ed. */
static char *run_and_report(const scn_file *f, const scn_patlist *all,
                            size_t *len)
{
    char *text = NULL;
    size_t n = 0;
    FILE *out = open_memstream(&text, &n);
    if (!out)
        abort();
    scn_result *r = scn_run_file(f, all, FUZZ_SEED);
    scn_report_text(out, r, false);
    scn_report_text(out, r, true);
    scn_report_totals(out, r->passed, r->failed);
    scn_report_json_begin(out, r->seed);
    scn_report_json_file(out, r, true);
    scn_report_json_end(out, r->passed, r->failed);
    /* The cell texts and reasons the reports are made of, one by one. */
    scn_buf b = {0};
    for (size_t i = 0; i < r->n_rows; i++)
        for (size_t j = 0; j < r->n_profiles; j++) {
            scn_cell_text(r, j, &r->rows[i].cells[j], &b);
            scn_cell_why(&r->rows[i].cells[j], &b);
        }
    if (b.len)
        fwrite(b.s, 1, b.len, out);
    scn_buf_free(&b);
    scn_result_free(r);
    if (fclose(out) != 0)
        abort();
    *len = n;
    return text;
}

/* Every address the parser accepted prints in a form that parses back to
 * the same address (reports and `expect S local` rely on it). */
static void check_addr_roundtrip(const sm_addr *a)
{
    char buf[SM_EP_STRLEN];
    sm_addr back;
    size_t n = sm_addr_format(a, buf, sizeof buf);
    if (n == 0 || n >= sizeof buf || !sm_addr_parse(buf, n, &back) ||
        !sm_addr_equal(a, &back)) {
        fprintf(stderr, "fuzz_scenario: address '%s' does not parse back\n",
                buf);
        abort();
    }
}

static void check_endpoint_roundtrip(const sm_endpoint *ep)
{
    char buf[SM_EP_STRLEN];
    sm_endpoint back;
    const char *why = NULL;
    size_t n = sm_endpoint_format(ep, buf, sizeof buf);
    if (n == 0 || n >= sizeof buf || !sm_endpoint_parse(buf, n, &back, &why) ||
        !sm_addr_equal(&ep->addr, &back.addr) || ep->port != back.port) {
        fprintf(stderr, "fuzz_scenario: endpoint '%s' does not parse back\n",
                buf);
        abort();
    }
}

static void check_roundtrips(const scn_file *f)
{
    for (size_t i = 0; i < f->n_stmts; i++) {
        const scn_stmt *st = &f->stmts[i];
        /* (connect S unspec names no endpoint: its ep is unused) */
        if (st->kind == SCN_BIND || (st->kind == SCN_CONNECT && !st->unspec) ||
            st->kind == SCN_EXPECT_LOCAL)
            check_endpoint_roundtrip(&st->ep);
        for (size_t j = 0; j < st->n_addrs; j++)
            check_addr_roundtrip(&st->addrs[j]);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_INPUT)
        size = FUZZ_MAX_INPUT;

    /* Parse errors go to memory: their formatting is exercised too. */
    char *errtext = NULL;
    size_t errlen = 0;
    FILE *errs = open_memstream(&errtext, &errlen);
    if (!errs)
        abort();
    scn_file *f = NULL;
    size_t nerr = scn_parse_buffer("fuzz.scn", (const char *)data, size, errs,
                                   &f);
    fclose(errs);
    free(errtext);
    if (nerr != 0) {
        if (f)
            abort(); /* the API promises *out == NULL on errors */
        return 0;
    }
    if (!f)
        abort();

    check_roundtrips(f);

    /* The file's own profile selection (what `sockmodel run` does)... */
    scn_column *sel = NULL;
    size_t nsel = scn_select_columns(f, NULL, &sel);
    free(sel);
    if (nsel == 0)
        abort(); /* the parser rejects profile lines that select none */

    /* ...but run it under every profile: an empty list selects them all. */
    scn_patlist all = {NULL, 0};
    size_t len1 = 0, len2 = 0;
    char *out1 = run_and_report(f, &all, &len1);
    char *out2 = run_and_report(f, &all, &len2);
    if (len1 != len2 || memcmp(out1, out2, len1) != 0) {
        fprintf(stderr, "fuzz_scenario: two runs of the same file printed "
                        "different bytes (%zu vs %zu)\n", len1, len2);
        abort();
    }
    free(out1);
    free(out2);
    scn_file_free(f);
    return 0;
}
