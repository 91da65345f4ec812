/*
 * scn_report_ci.c - the reports a CI system reads: TAP version 13 on
 * standard output (run --tap) and JUnit XML in a file (run --junit FILE).
 *
 * Both map a scenario run the same way: each file under each profile is
 * one test (TAP point, JUnit testcase) that fails when any expectation
 * under that profile was not met; each such expectation is listed with
 * the same "FILE:LINE: PROFILE: expected X, got Y" text and reason the
 * table's failure block gives.  No times or host names are written: the
 * same run writes the same bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "scn_report_ci.h"

/* Failed expectations of profile J in R. */
static size_t failures_of(const scn_result *r, size_t j)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n_rows; i++)
        if (r->rows[i].cells[j].has_expectation && !r->rows[i].cells[j].met)
            n++;
    return n;
}

static size_t expectations_of(const scn_result *r, size_t j)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n_rows; i++)
        n += r->rows[i].cells[j].has_expectation;
    return n;
}

/* Iterates over the expectations profile J did not meet: from row *I on,
 * finds the next, fills HEAD and WHY (scn_failure_text), returns its row
 * and sets *I past it; NULL at the end. */
static const scn_row *next_failure(const scn_result *r, size_t j, size_t *i,
                                   scn_buf *head, scn_buf *why)
{
    for (; *i < r->n_rows; ++*i) {
        const scn_cell *c = &r->rows[*i].cells[j];
        if (c->has_expectation && !c->met) {
            scn_failure_text(r, &r->rows[*i], j, head, why);
            return &r->rows[(*i)++];
        }
    }
    return NULL;
}

/* ---- TAP ---------------------------------------------------------------- */

/* A YAML single-quoted scalar: '' for ', other bytes as they are (the
 * texts are one line each). */
static void yaml_str(FILE *out, const char *s)
{
    fputc('\'', out);
    for (; s && *s; s++) {
        if (*s == '\'')
            fputc('\'', out);
        fputc(*s == '\n' ? ' ' : *s, out);
    }
    fputc('\'', out);
}

/* A test point description: '#' would start a directive. */
static void tap_desc(FILE *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '#' || *s == '\\')
            fputc('\\', out);
        fputc(*s == '\n' ? ' ' : *s, out);
    }
}

void scn_report_tap_begin(FILE *out)
{
    fputs("TAP version 13\n", out);
}

typedef struct ci_args {
    FILE *out;
    const scn_result *r;
    size_t *n;
} ci_args;

static void tap_file(void *ctx)
{
    const ci_args *a = ctx;
    FILE *out = a->out;
    const scn_result *r = a->r;
    size_t *n = a->n;
    scn_buf head = {0}, why = {0};
    for (size_t j = 0; j < r->n_profiles; j++) {
        size_t bad = failures_of(r, j);
        fprintf(out, "%sok %zu - ", bad ? "not " : "", ++*n);
        tap_desc(out, r->file->path);
        fprintf(out, " %s (%zu expectation%s)\n",
                r->cols[j].name, expectations_of(r, j),
                expectations_of(r, j) == 1 ? "" : "s");
        if (!bad)
            continue;
        fprintf(out, "  ---\n  message: '%zu expectation%s not met'\n"
                     "  failures:\n", bad, bad == 1 ? "" : "s");
        size_t i = 0;
        for (const scn_row *row; (row = next_failure(r, j, &i, &head, &why));) {
            fputs("    - failure: ", out);
            yaml_str(out, head.s);
            fputs("\n      step: ", out);
            yaml_str(out, row->st->text);
            if (why.len) {
                fputs("\n      why: ", out);
                yaml_str(out, why.s);
            }
            fputc('\n', out);
        }
        fputs("  ...\n", out);
    }
    scn_buf_free(&head);
    scn_buf_free(&why);
}

bool scn_report_tap_file(FILE *out, const scn_result *r, size_t *n)
{
    ci_args a = {out, r, n};
    return scn__guarded(tap_file, &a);
}

void scn_report_tap_end(FILE *out, size_t n, size_t passed, size_t failed)
{
    fprintf(out, "1..%zu\n# %zu passed, %zu failed\n", n, passed, failed);
}

/* ---- JUnit XML ---------------------------------------------------------- */

/* Text or attribute value: the five entities; control bytes XML 1.0 does
 * not allow become '?'. */
static void xml_str(FILE *out, const char *s)
{
    for (; s && *s; s++) {
        unsigned char ch = (unsigned char)*s;
        switch (ch) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        case '\'': fputs("&apos;", out); break;
        default:
            fputc(ch < 0x20 && ch != '\t' && ch != '\n' ? '?' : ch, out);
        }
    }
}

void scn_report_junit_begin(FILE *out)
{
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
          "<testsuites name=\"sockmodel run\">\n", out);
}

static void junit_file(void *ctx)
{
    const ci_args *a = ctx;
    FILE *out = a->out;
    const scn_result *r = a->r;
    size_t failing = 0;
    for (size_t j = 0; j < r->n_profiles; j++)
        failing += failures_of(r, j) != 0;
    fputs("  <testsuite name=\"", out);
    xml_str(out, r->file->path);
    fprintf(out, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" "
                 "skipped=\"0\">\n", r->n_profiles, failing);
    scn_buf head = {0}, why = {0};
    for (size_t j = 0; j < r->n_profiles; j++) {
        fputs("    <testcase classname=\"", out);
        xml_str(out, r->file->path);
        /* The expectation count goes in system-out: an assertions
         * attribute is not in the JUnit schema Jenkins validates with
         * (xunit-plugin junit-10.xsd), which allows only name, classname,
         * time and group on a testcase. */
        size_t n = expectations_of(r, j);
        fprintf(out, "\" name=\"%s\">\n", r->cols[j].name);
        size_t i = 0;
        for (const scn_row *row; (row = next_failure(r, j, &i, &head, &why));) {
            fputs("      <failure type=\"expectation\" message=\"", out);
            xml_str(out, head.s);
            fputs("\">", out);
            xml_str(out, row->st->text);
            if (why.len) {
                fputs("\n", out);
                xml_str(out, why.s);
            }
            fputs("</failure>\n", out);
        }
        fprintf(out, "      <system-out>%zu expectation%s checked</system-out>\n", n,
                n == 1 ? "" : "s");
        fputs("    </testcase>\n", out);
    }
    fputs("  </testsuite>\n", out);
    scn_buf_free(&head);
    scn_buf_free(&why);
}

bool scn_report_junit_file(FILE *out, const scn_result *r)
{
    ci_args a = {out, r, NULL};
    return scn__guarded(junit_file, &a);
}

void scn_report_junit_end(FILE *out)
{
    fputs("</testsuites>\n", out);
}
