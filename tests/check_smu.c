/*
 * check_smu.c - util/, the helpers under every library: the Internet
 * checksum (RFC 1071 and header vectors), the big-table allocator and
 * JSON strings.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smu_alloc.h"
#include "smu_csum.h"
#include "smu_hash.h"
#include "smu_text.h"


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
    char got[256];
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
    ck_assert_uint_eq(smu_utf8_seq("\xf0\x9f\x98\x80", 4), 4);
    ck_assert_uint_eq(smu_utf8_seq("\xf0\x9f\x98", 3), 0);
    ck_assert_uint_eq(smu_utf8_seq("\xc0\x80", 2), 0); /* overlong */
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("util");
    TCase *t = tcase_create("all");
    tcase_set_timeout(t, 60);
    tcase_add_test(t, csum_vectors);
    tcase_add_test(t, csum_pieces_agree);
    tcase_add_test(t, big_alloc_zero_aligned_grows);
    tcase_add_test(t, tuple_hash_keys);
    tcase_add_test(t, json_strings);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *r = srunner_create(suite());
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
