/*
 * smu_ip.h - IPv4 and IPv6 addresses to and from text, without the C
 * library (whose inet_ntop differs between systems: glibc and musl print
 * some addresses differently), so that output is the same bytes wherever
 * the program is built.
 *
 * IPv6 text is RFC 5952 (section 4): lowercase hex, no leading zeros, the
 * longest run of two or more zero groups written "::" (the leftmost of
 * equal runs), a single zero group never compressed; and the embedded
 * IPv4 forms exactly as glibc has always printed them: "::ffff:a.b.c.d"
 * for a v4-mapped address (RFC 5952 5) and "::a.b.c.d" for a v4-compatible
 * one whose first six groups are zero and seventh is not (so "::1" and
 * "::2" stay hex).  IPv4 text is the dotted quad.
 *
 * Parsing accepts what glibc's inet_pton accepts: IPv4 as exactly four
 * decimal parts 0..255 without leading zeros; IPv6 as up to eight groups
 * of one to four hex digits (either case), at most one "::" standing for
 * one or more zero groups, optionally ending in a dotted quad in place of
 * the last two groups; nothing else (no zone, no spaces).
 */
#ifndef SMU_IP_H
#define SMU_IP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Room for the longest address text and its NUL (INET6_ADDRSTRLEN). */
#define SMU_IP_STRLEN 46

/* Writes the text and a NUL into out (SMU_IP_STRLEN bytes); returns the
 * text's length. */
size_t smu_ip4_format(const uint8_t b[4], char *out);
size_t smu_ip6_format(const uint8_t b[16], char *out);

/* The address written as the len bytes at s; false (out unspecified) if
 * they are not one. */
bool smu_ip4_parse(const char *s, size_t len, uint8_t out[4]);
bool smu_ip6_parse(const char *s, size_t len, uint8_t out[16]);

#endif
