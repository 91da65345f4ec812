/*
 * scn_report_ci.h - the reports a CI system reads (TAP, JUnit XML) and the
 * quiet report (failures only); scn_report_ci.c and scn_report.c.
 */
#ifndef SCN_REPORT_CI_H
#define SCN_REPORT_CI_H

#include <stdio.h>

#include "scn.h"

/* "FILE:LINE: PROFILE: expected X, got Y" of the expectation PROFILE J of
 * ROW did not meet, into HEAD; why it came out so (may be empty) into WHY.
 * Both are overwritten. */
void scn_failure_text(const scn_result *r, const scn_row *row, size_t j,
                      scn_buf *head, scn_buf *why);

/* The reports that allocate return false as scn_report_text does (scn.h). */

/* --quiet: one failure block per expectation not met, nothing else. */
bool scn_report_failures(FILE *out, const scn_result *r);

/* --tap: TAP version 13, one test point per file and profile (not ok when
 * an expectation under that profile was not met, with a YAML block listing
 * them); the plan comes last.  *n counts the points written so far. */
void scn_report_tap_begin(FILE *out);
bool scn_report_tap_file(FILE *out, const scn_result *r, size_t *n);
void scn_report_tap_end(FILE *out, size_t n, size_t passed, size_t failed);

/* --junit: JUnit XML, a testsuite per file, a testcase per file and
 * profile, a failure element per expectation not met. */
void scn_report_junit_begin(FILE *out);
bool scn_report_junit_file(FILE *out, const scn_result *r);
void scn_report_junit_end(FILE *out);

#endif /* SCN_REPORT_CI_H */
