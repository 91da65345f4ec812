/*
 * smu_text.h - text helpers every report uses: UTF-8 validation and JSON
 * string literals.
 */
#ifndef SMU_TEXT_H
#define SMU_TEXT_H

#include <stddef.h>
#include <stdio.h>

/* Length of the UTF-8 sequence at s (at most n bytes, n >= 1), or 0 if
 * invalid: overlong forms, surrogates and code points above U+10FFFF are
 * invalid. */
size_t smu_utf8_seq(const char *s, size_t n);

/* s as a JSON string literal ("null" for NULL): quotes, backslashes and
 * control characters (and DEL) escaped; bytes that are not valid UTF-8 (a
 * file name can hold any) become U+FFFD, so the output is valid JSON. */
void smu_json_str(FILE *out, const char *s);

/* Room for the escaped form of n bytes (each becomes at most 6). */
#define SMU_JSON_ROOM(n) (6 * (size_t)(n))

/* The n bytes at s escaped as in smu_json_str (without the quotes) into
 * p, which has room for SMU_JSON_ROOM(n) bytes; returns the end of what
 * was written.  Every report that builds JSON in memory uses it. */
char *smu_json_escape(char *p, const char *s, size_t n);

#endif
