/*
 * check_smu.c - util/, the helpers under every library: address text
 * (RFC 5952 test vectors, the parser's accept/reject table, round trips,
 * and, on glibc, the same bytes as inet_ntop/inet_pton), the Internet
 * checksum (RFC 1071 and header vectors), the big-table allocator and
 * JSON strings.
 */
#define _POSIX_C_SOURCE 200809L /* inet_ntop, inet_pton (the glibc oracle) */

#include "check_util.h"

#include <stdint.h>

#include "smu_alloc.h"
#include "smu_csum.h"
#include "smu_hash.h"
#include "smu_ip.h"
#include "smu_text.h"

#if defined(__GLIBC__)
#include <arpa/inet.h>
#include <sys/socket.h>
#endif

static bool p6(const char *s, uint8_t b[16])
{
    return smu_ip6_parse(s, strlen(s), b);
}

/* ---- IPv6 text: RFC 5952 section 4 and 5 ---------------------------------- */

START_TEST(ip6_rfc5952_vectors)
{
    static const struct { const char *in, *out; } t[] = {
        /* 4.1: leading zeros suppressed */
        {"2001:0db8::0001", "2001:db8::1"},
        {"2001:db8:0000:0:1::1", "2001:db8::1:0:0:1"},
        /* 4.2.1: "::" as long as possible */
        {"2001:db8:0:0:0:0:2:1", "2001:db8::2:1"},
        {"2001:db8::0:1", "2001:db8::1"},
        /* 4.2.2: a single 16-bit 0 field is not shortened */
        {"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"},
        {"2001:db8::1:1:1:1:1", "2001:db8:0:1:1:1:1:1"},
        /* 4.2.3: the longest run; the first of equal runs */
        {"2001:0:0:1:0:0:0:1", "2001:0:0:1::1"},
        {"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},
        /* 4.3: lowercase */
        {"2001:DB8::ABCD:EF", "2001:db8::abcd:ef"},
        /* ends and extremes */
        {"::", "::"},
        {"0:0:0:0:0:0:0:1", "::1"},
        {"1::", "1::"},
        {"1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"},
        {"::1:2:3:4:5:6:7", "0:1:2:3:4:5:6:7"},
        {"fe80::1", "fe80::1"},
        {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
        {"1:0:0:2:0:0:0:3", "1:0:0:2::3"},
        {"1:0:0:2:0:0:3:4", "1::2:0:0:3:4"},
        {"0:0:0:0:0:1:0:0", "::1:0:0"},
        /* 5: v4-mapped in dotted form */
        {"::ffff:192.0.2.1", "::ffff:192.0.2.1"},
        {"::ffff:c000:201", "::ffff:192.0.2.1"},
        {"::ffff:0:0", "::ffff:0.0.0.0"},
        {"::0:ffff:1.2.3.4", "::ffff:1.2.3.4"},
        /* the v4-compatible form as glibc prints it: first six groups zero,
         * the seventh not */
        {"::192.0.2.1", "::192.0.2.1"},
        {"::0.1.0.0", "::0.1.0.0"},
        {"::0.0.0.2", "::2"},
        {"::ffff", "::ffff"},
        /* not embedded IPv4: hex */
        {"::ffff:0:1.2.3.4", "::ffff:0:102:304"},
        {"::fffe:1.2.3.4", "::fffe:102:304"},
        {"1::1.2.3.4", "1::102:304"},
        {"64:ff9b::192.0.2.33", "64:ff9b::c000:221"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        uint8_t b[16];
        char out[SMU_IP_STRLEN];
        ck_assert_msg(p6(t[i].in, b), "%s does not parse", t[i].in);
        size_t n = smu_ip6_format(b, out);
        ck_assert_str_eq(out, t[i].out);
        ck_assert_uint_eq(n, strlen(t[i].out));
    }
}
END_TEST

START_TEST(ip6_parse_table)
{
    static const struct { const char *in; bool ok; } t[] = {
        {"::", true},          {"::1", true},          {"1::", true},
        {"0001::1", true},     {"ABCD::ef", true},     {"1:2:3:4:5:6:7:8", true},
        {"1:2:3:4:5:6:1.2.3.4", true},                 {"::1.2.3.4", true},
        {"1:2::3:4:1.2.3.4", true},                    {"1:2:3:4:5:6:7::", true},
        {"", false},           {":", false},           {":::", false},
        {":1::2", false},      {"1:", false},          {"1::2::3", false},
        {"00000::1", false},   {"12345::", false},     {"1:2:3:4:5:6:7:8:9", false},
        {"1:2:3:4:5:6:7:8::", false},                  {"1::2:3:4:5:6:7:8", false},
        {"1:2:3:4:5:6:7", false},                      {"1:2:3:4:5:6:7:1.2.3.4", false},
        {"::1.2.3", false},    {"::1.2.3.04", false},  {"::1.2.3.4.5", false},
        {"::1.2.3.4:5", false}, {"::256.1.1.1", false}, {"1.2.3.4", false},
        {"::g", false},        {" ::1", false},        {"::1 ", false},
        {"fe80::1%eth0", false}, {"::a.2.3.4", false},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        uint8_t b[16];
        ck_assert_msg(p6(t[i].in, b) == t[i].ok, "\"%s\": expected %s", t[i].in,
                      t[i].ok ? "accepted" : "rejected");
    }
    uint8_t b[16];
    ck_assert(p6("2001:db8::1.2.3.4", b));
    static const uint8_t want[16] = {0x20, 0x01, 0x0d, 0xb8, [12] = 1, 2, 3, 4};
    ck_assert_mem_eq(b, want, 16);
}
END_TEST

START_TEST(ip4_table)
{
    static const struct { const char *in; bool ok; } t[] = {
        {"0.0.0.0", true},   {"255.255.255.255", true}, {"192.0.2.1", true},
        {"1.2.3", false},    {"1.2.3.4.5", false},      {"256.1.1.1", false},
        {"01.2.3.4", false}, {"1.2.3.00", false},       {"1..2.3", false},
        {".1.2.3", false},   {"1.2.3.4.", false},       {" 1.2.3.4", false},
        {"1.2.3.4 ", false}, {"1.2.3.-4", false},       {"", false},
        {"0x1.2.3.4", false}, {"1000.1.1.1", false},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        uint8_t b[4];
        bool ok = smu_ip4_parse(t[i].in, strlen(t[i].in), b);
        ck_assert_msg(ok == t[i].ok, "\"%s\": expected %s", t[i].in,
                      t[i].ok ? "accepted" : "rejected");
        if (ok) {
            char out[SMU_IP_STRLEN];
            smu_ip4_format(b, out);
            ck_assert_str_eq(out, t[i].in);
        }
    }
    /* the length bounds the text: no terminator needed */
    uint8_t b[4];
    ck_assert(smu_ip4_parse("10.1.2.3junk", 8, b));
    ck_assert_uint_eq(b[3], 3);
}
END_TEST

/* Addresses with zero groups in every pattern: the cases formatting is
 * about.  Bit i of pat: group i is zero; other groups random, sometimes
 * a v4-mapped or v4-compatible prefix. */
static void gen_addr(uint8_t b[16], unsigned pat, uint64_t *rng)
{
    for (int g = 0; g < 8; g++) {
        *rng = *rng * 6364136223846793005ull + 1442695040888963407ull;
        unsigned v = (unsigned)(*rng >> 33) & 0xffff;
        if (((*rng >> 20) & 3) == 0)
            v &= 0xf; /* short groups too */
        if (pat >> g & 1)
            v = 0;
        b[2 * g] = (uint8_t)(v >> 8);
        b[2 * g + 1] = (uint8_t)v;
    }
    if ((pat & 0x3f) == 0x1f && (*rng >> 40 & 1)) /* ::ffff:a.b.c.d */
        b[10] = b[11] = 0xff;
}

START_TEST(ip6_round_trip)
{
    uint64_t rng = 42;
    for (unsigned pat = 0; pat < 256; pat++)
        for (int k = 0; k < 40; k++) {
            uint8_t b[16], back[16];
            char out[SMU_IP_STRLEN];
            gen_addr(b, pat, &rng);
            size_t n = smu_ip6_format(b, out);
            ck_assert_uint_lt(n, SMU_IP_STRLEN);
            ck_assert_msg(smu_ip6_parse(out, n, back), "%s does not parse back", out);
            ck_assert_msg(memcmp(b, back, 16) == 0, "%s: round trip differs", out);
            /* canonical text is a fixed point */
            char again[SMU_IP_STRLEN];
            smu_ip6_format(back, again);
            ck_assert_str_eq(out, again);
        }
}
END_TEST

#if defined(__GLIBC__)
/* s (len bytes) parses as inet_pton parses it, as IPv6 and as IPv4. */
static void same_as_pton(const char *s, size_t len)
{
    uint8_t a[16], c[16];
    int want6 = inet_pton(AF_INET6, s, c) == 1;
    ck_assert_msg(smu_ip6_parse(s, len, a) == want6, "v6 \"%s\"", s);
    if (want6)
        ck_assert_mem_eq(a, c, 16);
    int want4 = inet_pton(AF_INET, s, c) == 1;
    ck_assert_msg(smu_ip4_parse(s, len, a) == want4, "v4 \"%s\"", s);
    if (want4)
        ck_assert_mem_eq(a, c, 4);
}
#endif

START_TEST(ip_same_as_glibc)
{
#if defined(__GLIBC__)
    /* The output must stay byte-identical with the glibc builds before. */
    uint64_t rng = 7;
    for (unsigned pat = 0; pat < 256; pat++)
        for (int k = 0; k < 40; k++) {
            uint8_t b[16];
            char ours[SMU_IP_STRLEN], theirs[64];
            gen_addr(b, pat, &rng);
            smu_ip6_format(b, ours);
            ck_assert(inet_ntop(AF_INET6, b, theirs, sizeof theirs) != NULL);
            ck_assert_str_eq(ours, theirs);
            uint8_t v4[4] = {b[0], b[1], b[14], b[15]};
            smu_ip4_format(v4, ours);
            ck_assert(inet_ntop(AF_INET, v4, theirs, sizeof theirs) != NULL);
            ck_assert_str_eq(ours, theirs);
        }
    /* the parser accepts what inet_pton accepts: strings over a small
     * alphabet, every one up to 5 characters and random longer ones */
    static const char alpha[] = "0f:.1F9";
    char s[48];
    for (unsigned len = 1; len <= 5; len++) {
        unsigned total = 1;
        for (unsigned i = 0; i < len; i++)
            total *= sizeof alpha - 1;
        for (unsigned x = 0; x < total; x++) {
            unsigned y = x;
            for (unsigned i = 0; i < len; i++, y /= sizeof alpha - 1)
                s[i] = alpha[y % (sizeof alpha - 1)];
            s[len] = '\0';
            same_as_pton(s, len);
        }
    }
    static const char alpha2[] = "0123456789abcdef::::...";
    for (int k = 0; k < 200000; k++) {
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        unsigned len = 6 + (unsigned)(rng >> 59);
        for (unsigned i = 0; i < len; i++) {
            rng = rng * 6364136223846793005ull + 1442695040888963407ull;
            s[i] = alpha2[(rng >> 33) % (sizeof alpha2 - 1)];
        }
        s[len] = '\0';
        same_as_pton(s, len);
    }
#endif
}
END_TEST

/* ---- the Internet checksum --------------------------------------------------- */

START_TEST(csum_vectors)
{
    /* RFC 1071 section 3: the sum of 0001 f203 f4f5 f6f7 is ddf2 */
    static const uint8_t rfc[8] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    ck_assert_uint_eq(smu_csum_field(smu_csum_add(0, rfc, 8)), 0x220du);
    /* an IPv4 header whose checksum is b861 */
    uint8_t ip[20] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                      0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
    ck_assert_uint_eq(smu_csum_field(smu_csum_add(0, ip, 20)), 0xb861u);
    ip[10] = 0xb8;
    ip[11] = 0x61;
    ck_assert_uint_eq(smu_csum_fold(smu_csum_add(0, ip, 20)), 0xffffu);
    /* a header number added as a word equals its two bytes */
    static const uint8_t w[2] = {0x12, 0x34};
    ck_assert_uint_eq(smu_csum_fold(smu_csum_add_word(5, 0x1234)),
                      smu_csum_fold(smu_csum_add(5, w, 2)));
    /* an odd length is padded with a zero byte */
    static const uint8_t odd[3] = {0xab, 0xcd, 0xef}, even[4] = {0xab, 0xcd, 0xef, 0};
    ck_assert_uint_eq(smu_csum_fold(smu_csum_add(0, odd, 3)),
                      smu_csum_fold(smu_csum_add(0, even, 4)));
}
END_TEST

START_TEST(csum_pieces_agree)
{
    /* the wide path (16-byte lanes) and the narrow ones give one sum,
     * however the data is cut at even offsets, at any alignment */
    uint8_t buf[1600];
    uint64_t rng = 3;
    for (size_t i = 0; i < sizeof buf; i++) {
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        buf[i] = (uint8_t)(rng >> 56);
    }
    memset(buf + 100, 0xff, 200); /* carries */
    for (size_t off = 0; off < 8; off++) {
        size_t n = sizeof buf - 8;
        uint16_t whole = smu_csum_fold(smu_csum_add(0, buf + off, n));
        for (size_t cut = 2; cut < 64; cut += 2) {
            uint64_t s = 0;
            for (size_t at = 0; at < n; at += cut)
                s = smu_csum_add(s, buf + off + at, at + cut <= n ? cut : n - at);
            ck_assert_uint_eq(smu_csum_fold(s), whole);
        }
    }
}
END_TEST

/* ---- the allocator -------------------------------------------------------------- */

START_TEST(big_alloc_zero_aligned_grows)
{
    static const size_t sizes[] = {1, 100, 4096, SMU_BIG_PAGE - 64, SMU_BIG_PAGE,
                                   3 * SMU_BIG_PAGE + 5};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t n = sizes[i];
        uint8_t *p = smu_big_alloc(n);
        ck_assert_ptr_nonnull(p);
        ck_assert_uint_eq((uintptr_t)p % 64, 0);
        for (size_t k = 0; k < n; k += 997)
            ck_assert_uint_eq(p[k], 0);
        ck_assert_uint_eq(p[n - 1], 0);
        memset(p, 0x5a, n);
        /* across the mapping threshold and within it */
        size_t m = n * 3 + SMU_BIG_PAGE / 2;
        uint8_t *q = smu_big_resize(p, n, m);
        ck_assert_ptr_nonnull(q);
        ck_assert_uint_eq((uintptr_t)q % 64, 0);
        for (size_t k = 0; k < n; k += 991)
            ck_assert_uint_eq(q[k], 0x5a);
        ck_assert_uint_eq(q[n - 1], 0x5a);
        for (size_t k = n; k < m; k += 1009)
            ck_assert_uint_eq(q[k], 0);
        ck_assert_uint_eq(q[m - 1], 0);
        if (m >= 2 * SMU_BIG_PAGE)
            smu_big_discard(q + SMU_BIG_PAGE, SMU_BIG_PAGE);
        smu_big_free(q, m);
    }
    smu_big_free(NULL, 10);
}
END_TEST

/* ---- hash ------------------------------------------------------------------------- */

START_TEST(tuple_hash_keys)
{
    uint8_t a[16] = {192, 0, 2, 1}, b[16] = {192, 0, 2, 2};
    uint64_t h = smu_tuple_hash(a, b, 1000, 80, 4);
    ck_assert_uint_eq(h, smu_tuple_hash(a, b, 1000, 80, 4));
    ck_assert_uint_ne(h, smu_tuple_hash(a, b, 1001, 80, 4));
    ck_assert_uint_ne(h, smu_tuple_hash(a, b, 1000, 81, 4));
    ck_assert_uint_ne(h, smu_tuple_hash(b, a, 1000, 80, 4));
    ck_assert_uint_ne(h, smu_tuple_hash(a, b, 1000, 80, 6));
    ck_assert(smu_eq16(a, a));
    ck_assert(!smu_eq16(a, b));
}
END_TEST

/* ---- text ------------------------------------------------------------------------- */

static void json_is(const char *in, const char *want)
{
    FILE *f = tmpfile();
    ck_assert_ptr_nonnull(f);
    smu_json_str(f, in);
    char got[4096];
    rewind(f);
    size_t n = fread(got, 1, sizeof got - 1, f);
    got[n] = '\0';
    fclose(f);
    ck_assert_str_eq(got, want);
}

START_TEST(json_strings)
{
    json_is(NULL, "null");
    json_is("", "\"\"");
    json_is("a\"b\\c", "\"a\\\"b\\\\c\"");
    json_is("tab\there\n", "\"tab\\u0009here\\u000a\"");
    json_is("del\x7f", "\"del\\u007f\"");
    json_is("caf\xc3\xa9", "\"caf\xc3\xa9\"");
    json_is("bad\xc3(", "\"bad\\ufffd(\"");
    json_is("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\""); /* a surrogate */
    /* smu_json_str escapes a long string a piece of 256 bytes at a time:
     * a sequence across a piece's end is judged whole, for every place
     * it can fall */
    for (size_t lead = 248; lead <= 264; lead++) {
        static const struct {
            const char *in, *out;
        } tail[] = {
            {"\xf0\x9f\x98\x80z", "\xf0\x9f\x98\x80z"},   /* valid, 4 bytes */
            {"\xe2\x82\xacz", "\xe2\x82\xacz"},            /* valid, 3 bytes */
            {"\xf0\x9f\x98(", "\\ufffd\\ufffd\\ufffd("}, /* cut short */
            {"\x80\x80\x80\x80\x80\x80", /* continuation bytes alone */
             "\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd"},
            {"\xf0\x9f\x98\x80\x80", "\xf0\x9f\x98\x80\\ufffd"},
        };
        for (size_t k = 0; k < sizeof tail / sizeof tail[0]; k++) {
            char in[600], want[700];
            memset(in, 'a', lead);
            strcpy(in + lead, tail[k].in);
            want[0] = '"';
            memset(want + 1, 'a', lead);
            snprintf(want + 1 + lead, sizeof want - 1 - lead, "%s\"", tail[k].out);
            json_is(in, want);
        }
    }
    ck_assert_uint_eq(smu_utf8_seq("\xf0\x9f\x98\x80", 4), 4);
    ck_assert_uint_eq(smu_utf8_seq("\xf0\x9f\x98", 3), 0);
    ck_assert_uint_eq(smu_utf8_seq("\xc0\x80", 2), 0); /* overlong */
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("util");
    TCase *t = tcase_create("all");
    tcase_add_test(t, ip6_rfc5952_vectors);
    tcase_add_test(t, ip6_parse_table);
    tcase_add_test(t, ip4_table);
    tcase_add_test(t, ip6_round_trip);
    tcase_add_test(t, ip_same_as_glibc);
    tcase_add_test(t, csum_vectors);
    tcase_add_test(t, csum_pieces_agree);
    tcase_add_test(t, big_alloc_zero_aligned_grows);
    tcase_add_test(t, tuple_hash_keys);
    tcase_add_test(t, json_strings);
    suite_add_tcase(s, t);
    return s;
}

CHECK_MAIN(suite)
