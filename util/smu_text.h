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

#endif
