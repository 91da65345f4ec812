/*
 * check_replay_read.c - unit tests of the replay's capture reader
 * (replay/pkt_read.c) and tshark-compatible conversation counter
 * (replay/conv.c).
 *
 * Every capture is made in the test: frames are built byte by byte
 * (headers, options, checksums), written through libpcap (pcap_open_dead +
 * pcap_dump_fopen onto an open_memstream buffer) and read back through
 * fmemopen + rp_open_stream; pcapng, which libpcap cannot write, is
 * written by hand.  Each test checks the decoded fields and the counters,
 * and that every record fell into exactly one category.
 *
 * With RP_SEED_DIR=DIR in the environment every capture the tests build is
 * also written to DIR/seed-<hash>.pcap (seeds for fuzz/fuzz_replay_read).
 */
/* pcap.h uses the BSD types u_char, u_int; fmemopen/open_memstream are
 * POSIX 2008. */
#define _DEFAULT_SOURCE

#include <check.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conv.h"
#include "pkt.h"
#include "smu_csum.h"

#ifndef DLT_IPV4
#define DLT_IPV4 228
#endif
#ifndef DLT_IPV6
#define DLT_IPV6 229
#endif
#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif

/* ---- frame building ------------------------------------------------------- */

static void put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static const uint8_t A4[4] = {192, 0, 2, 1}, B4[4] = {198, 51, 100, 7};
static const uint8_t A6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
static const uint8_t B6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};

/* SYN options: MSS 1460, SACK-permitted, TS 1111/2222, NOP, WS 7. */
static const uint8_t SYN_OPTS[20] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0x04, 0x57,
                                     0, 0, 0x08, 0xae, 1, 3, 3, 7};

/* TCP segment at o: header (+opts) + paylen bytes of 0xab; checksum 0. */
static size_t tcp_seg(uint8_t *o, unsigned sp, unsigned dp, uint32_t seq, uint32_t ack,
                      unsigned flags, const uint8_t *opts, size_t optlen, size_t paylen)
{
    put16(o, sp);
    put16(o + 2, dp);
    put32(o + 4, seq);
    put32(o + 8, ack);
    o[12] = (uint8_t)(((20 + optlen) / 4) << 4);
    o[13] = (uint8_t)flags;
    put16(o + 14, 4321);
    put16(o + 16, 0);
    put16(o + 18, 0);
    if (optlen)
        memcpy(o + 20, opts, optlen);
    memset(o + 20 + optlen, 0xab, paylen);
    return 20 + optlen + paylen;
}

static size_t udp_dgram(uint8_t *o, unsigned sp, unsigned dp, size_t paylen)
{
    put16(o, sp);
    put16(o + 2, dp);
    put16(o + 4, (unsigned)(8 + paylen));
    put16(o + 6, 0);
    memset(o + 8, 0x5a, paylen);
    return 8 + paylen;
}

/* Sets the TCP/UDP checksum of l4 (len bytes) for addresses of alen bytes. */
static void l4_csum(uint8_t *l4, size_t len, unsigned proto, const uint8_t *src,
                    const uint8_t *dst, size_t alen)
{
    size_t ck = proto == 6 ? 16 : 6;
    put16(l4 + ck, 0);
    uint64_t s = smu_csum_add(0, src, alen);
    s = smu_csum_add(s, dst, alen);
    s = smu_csum_add_word(smu_csum_add_word(s, (uint16_t)proto), (uint16_t)len);
    uint16_t v = smu_csum_field(smu_csum_add(s, l4, len));
    if (proto == 17 && v == 0)
        v = 0xffff;
    put16(l4 + ck, v);
}

/* IPv4 header (+ optwords 4-byte option words of NOPs) and the l4 bytes. */
static size_t ip4(uint8_t *o, unsigned proto, const uint8_t *l4, size_t l4len, int optwords,
                  unsigned frag)
{
    size_t hl = 20 + 4 * (size_t)optwords;
    o[0] = (uint8_t)(0x40 | (hl / 4));
    o[1] = 0;
    put16(o + 2, (unsigned)(hl + l4len));
    put16(o + 4, 77);
    put16(o + 6, frag);
    o[8] = 61;
    o[9] = (uint8_t)proto;
    put16(o + 10, 0);
    memcpy(o + 12, A4, 4);
    memcpy(o + 16, B4, 4);
    memset(o + 20, 1, hl - 20);
    put16(o + 10, smu_csum_field(smu_csum_add(0, o, hl)));
    memcpy(o + hl, l4, l4len);
    return hl + l4len;
}

/* IPv6 header, extension bytes ext (first next header nh0), then l4. */
static size_t ip6(uint8_t *o, unsigned nh0, const uint8_t *ext, size_t extlen,
                  const uint8_t *l4, size_t l4len)
{
    put32(o, 0x60000000u);
    put16(o + 4, (unsigned)(extlen + l4len));
    o[6] = (uint8_t)nh0;
    o[7] = 33;
    memcpy(o + 8, A6, 16);
    memcpy(o + 24, B6, 16);
    if (extlen)
        memcpy(o + 40, ext, extlen);
    memcpy(o + 40 + extlen, l4, l4len);
    return 40 + extlen + l4len;
}

/* A checksummed TCP SYN segment from A:1234 to B:80 (v4 or v6). */
static size_t syn_seg(uint8_t *o, bool v6, size_t paylen)
{
    size_t n = tcp_seg(o, 1234, 80, 0x01020304u, 0, SM_TH_SYN, SYN_OPTS, sizeof SYN_OPTS,
                       paylen);
    l4_csum(o, n, 6, v6 ? A6 : A4, v6 ? B6 : B4, v6 ? 16 : 4);
    return n;
}

/* IPv4 / IPv6 datagram carrying syn_seg(paylen). */
static size_t ip4_syn(uint8_t *o, size_t paylen, int optwords, unsigned frag)
{
    uint8_t l4[256];
    size_t n = syn_seg(l4, false, paylen);
    return ip4(o, 6, l4, n, optwords, frag);
}

static size_t ip6_syn(uint8_t *o, size_t paylen)
{
    uint8_t l4[256];
    size_t n = syn_seg(l4, true, paylen);
    return ip6(o, 6, NULL, 0, l4, n);
}

static size_t eth_hdr(uint8_t *o, unsigned type)
{
    memset(o, 0x02, 6);
    memset(o + 6, 0x04, 6);
    put16(o + 12, type);
    return 14;
}

/* ---- captures in memory ----------------------------------------------------- */

typedef struct cap {
    pcap_t *dead;
    pcap_dumper_t *d;
    char *buf;
    size_t len;
    FILE *f;
    uint32_t sec;
} cap;

static void cap_open(cap *c, int dlt, bool nano)
{
    memset(c, 0, sizeof *c);
    c->dead = pcap_open_dead_with_tstamp_precision(
        dlt, 262144, nano ? PCAP_TSTAMP_PRECISION_NANO : PCAP_TSTAMP_PRECISION_MICRO);
    ck_assert_ptr_nonnull(c->dead);
    c->f = open_memstream(&c->buf, &c->len);
    ck_assert_ptr_nonnull(c->f);
    c->d = pcap_dump_fopen(c->dead, c->f);
    ck_assert_ptr_nonnull(c->d);
    c->sec = 1000;
}

/* Record with explicit time, caplen and wire length. */
static void cap_add_full(cap *c, const uint8_t *f, uint32_t caplen, uint32_t len,
                         uint32_t sec, uint32_t frac)
{
    struct pcap_pkthdr h;
    memset(&h, 0, sizeof h);
    h.ts.tv_sec = sec;
    h.ts.tv_usec = (suseconds_t)frac;
    h.caplen = caplen;
    h.len = len;
    pcap_dump((u_char *)c->d, &h, f);
}

static void cap_add(cap *c, const uint8_t *f, size_t n)
{
    cap_add_full(c, f, (uint32_t)n, (uint32_t)n, c->sec++, 0);
}

/* Writes the capture's bytes to $RP_SEED_DIR, if set. */
static void save_seed(const void *buf, size_t len)
{
    const char *dir = getenv("RP_SEED_DIR");
    if (!dir || !*dir)
        return;
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a of the bytes: a stable name */
    for (size_t i = 0; i < len; i++)
        h = (h ^ ((const uint8_t *)buf)[i]) * 0x100000001b3ull;
    char path[4096];
    snprintf(path, sizeof path, "%s/seed-%016llx.pcap", dir, (unsigned long long)h);
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(buf, 1, len, f);
        fclose(f);
    }
}

/* Closes the writer and opens a reader over the bytes. */
static rp_reader *cap_reader(cap *c, unsigned opts)
{
    pcap_dump_close(c->d); /* closes c->f: buf/len final */
    pcap_close(c->dead);
    save_seed(c->buf, c->len);
    FILE *in = fmemopen(c->buf, c->len, "rb");
    ck_assert_ptr_nonnull(in);
    char err[256];
    rp_reader *r = rp_open_stream(in, opts, err, sizeof err);
    ck_assert_msg(r != NULL, "open: %s", err);
    return r;
}

static void cap_done(cap *c, rp_reader *r)
{
    rp_close(r);
    free(c->buf);
}

/* Sum of every fate category: must equal records. */
static uint64_t fates(const rp_counts *c)
{
    return c->tcp4 + c->tcp6 + c->udp4 + c->udp6 + c->arp + c->llc + c->other_ethertype +
           c->other_family + c->link_unsupported + c->icmp4 + c->icmp6 + c->ip_other +
           c->ip6_esp + c->ip6_no_next + c->frag4 + c->frag6 + c->trunc_link + c->trunc_ip +
           c->trunc_l4 + c->bad_ip_version + c->bad_ip_hlen + c->bad_ip_len + c->bad_tcp_hlen +
           c->bad_udp_len;
}

/* Reads everything; returns packets delivered into out[] (up to max). */
static int read_all(rp_reader *r, rp_pkt *out, int max)
{
    int n = 0;
    rp_pkt p;
    int rc;
    while ((rc = rp_next(r, &p)) == 1) {
        if (n < max)
            out[n] = p;
        n++;
    }
    ck_assert_int_eq(rc, 0);
    const rp_counts *c = rp_get_counts(r);
    ck_assert_uint_eq(fates(c), c->records + c->subframes);
    ck_assert_uint_eq(c->records + c->subframes - rp_counts_skipped(c), (uint64_t)n);
    return n;
}

static void check_syn_fields(const rp_pkt *p, bool v6)
{
    ck_assert_int_eq(p->proto, SM_TCP);
    ck_assert_int_eq(p->src.addr.family, v6 ? 6 : 4);
    ck_assert_mem_eq(p->src.addr.b, v6 ? A6 : A4, v6 ? 16 : 4);
    ck_assert_mem_eq(p->dst.addr.b, v6 ? B6 : B4, v6 ? 16 : 4);
    ck_assert_uint_eq(p->src.port, 1234);
    ck_assert_uint_eq(p->dst.port, 80);
    ck_assert_uint_eq(p->seq, 0x01020304u);
    ck_assert_uint_eq(p->flags, SM_TH_SYN);
    ck_assert_uint_eq(p->window, 4321);
    ck_assert(p->has_mss);
    ck_assert_uint_eq(p->mss, 1460);
    ck_assert(p->sack_ok);
    ck_assert(p->has_ts);
    ck_assert_uint_eq(p->tsval, 1111);
    ck_assert_uint_eq(p->tsecr, 2222);
    ck_assert(p->has_wscale);
    ck_assert_uint_eq(p->wscale, 7);
    ck_assert_uint_eq(p->ttl, v6 ? 33 : 61);
}

/* ---- link types ------------------------------------------------------------- */

START_TEST(ethernet_v4_tcp)
{
    uint8_t l4[200], f[300];
    size_t n4 = syn_seg(l4, false, 5);
    size_t n = eth_hdr(f, 0x0800);
    n += ip4(f + n, 6, l4, n4, 0, 0x4000);
    cap c;
    cap_open(&c, DLT_EN10MB, true);
    cap_add_full(&c, f, (uint32_t)n, (uint32_t)n, 1700000000u, 123456789u);
    rp_reader *r = cap_reader(&c, 0);
    ck_assert_int_eq(rp_linktype(r), DLT_EN10MB);
    ck_assert_str_eq(rp_linktype_name(r), "EN10MB");
    rp_pkt p[2];
    ck_assert_int_eq(read_all(r, p, 2), 1);
    check_syn_fields(&p[0], false);
    ck_assert_uint_eq(p[0].len, 5);
    ck_assert_uint_eq(p[0].frame, 1);
    ck_assert_uint_eq(p[0].ts_ns, 1700000000123456789ull);
    ck_assert_uint_eq(p[0].ts_mono_ns, 1700000000123456789ull);
    ck_assert_uint_eq(p[0].anomalies, 0);
    ck_assert_uint_eq(p[0].vlan, 0);
    ck_assert_uint_eq(rp_get_counts(r)->tcp4, 1);
    cap_done(&c, r);
}
END_TEST

START_TEST(ethernet_microsecond_file)
{
    uint8_t f[300];
    size_t n = eth_hdr(f, 0x0800);
    n += ip4_syn(f + n, 0, 0, 0);
    cap c;
    cap_open(&c, DLT_EN10MB, false);
    cap_add_full(&c, f, (uint32_t)n, (uint32_t)n, 5, 7);
    rp_reader *r = cap_reader(&c, 0);
    rp_pkt p[1];
    ck_assert_int_eq(read_all(r, p, 1), 1);
    ck_assert_uint_eq(p[0].ts_ns, 5000007000ull);
    cap_done(&c, r);
}
END_TEST

START_TEST(ethernet_vlan_stacked)
{
    uint8_t l4[100], f[300];
    size_t nu = udp_dgram(l4, 5353, 53, 11);
    l4_csum(l4, nu, 17, A6, B6, 16);
    size_t n = eth_hdr(f, 0x88a8); /* 802.1ad outer tag, VLAN 100 */
    put16(f + n, 100);
    put16(f + n + 2, 0x8100); /* 802.1Q inner tag, VLAN 200 */
    put16(f + n + 4, 0x2000 | 200);
    put16(f + n + 6, 0x86dd);
    n += 8;
    n += ip6(f + n, 17, NULL, 0, l4, nu);
    /* a single 802.1Q tag around IPv4 TCP */
    uint8_t g[300];
    size_t m = eth_hdr(g, 0x8100);
    put16(g + m, 7);
    put16(g + m + 2, 0x0800);
    m += 4;
    m += ip4_syn(g + m, 0, 0, 0);
    /* a tag whose inner type is ARP: not IP, not counted as tagged */
    uint8_t h[64];
    memset(h, 0, sizeof h);
    size_t k = eth_hdr(h, 0x8100);
    put16(h + k, 9);
    put16(h + k + 2, 0x0806);
    cap c;
    cap_open(&c, DLT_EN10MB, true);
    cap_add(&c, f, n);
    cap_add(&c, g, m);
    cap_add(&c, h, 60);
    rp_reader *r = cap_reader(&c, 0);
    rp_pkt p[3];
    ck_assert_int_eq(read_all(r, p, 3), 2);
    ck_assert_int_eq(p[0].proto, SM_UDP);
    ck_assert_uint_eq(p[0].vlan, 100);
    ck_assert_uint_eq(p[0].src.port, 5353);
    ck_assert_uint_eq(p[0].dst.port, 53);
    ck_assert_uint_eq(p[0].len, 11);
    ck_assert_mem_eq(p[0].dst.addr.b, B6, 16);
    ck_assert_uint_eq(p[0].anomalies, RP_A_VLAN);
    check_syn_fields(&p[1], false);
    ck_assert_uint_eq(p[1].vlan, 7);
    const rp_counts *cn = rp_get_counts(r);
    ck_assert_uint_eq(cn->vlan_tagged, 2);
    ck_assert_uint_eq(cn->udp6, 1);
    ck_assert_uint_eq(cn->tcp4, 1);
    ck_assert_uint_eq(cn->arp, 1);
    cap_done(&c, r);
}
END_TEST

START_TEST(linux_sll_and_sll2)
{
    uint8_t f[300], g[300];
    /* SLL: pkttype 0, ARPHRD_ETHER 1, addr len 6, addr, protocol */
    size_t n = 16;
    memset(f, 0, 16);
    put16(f + 2, 1);
    put16(f + 4, 6);
    put16(f + 14, 0x0800);
    n += ip4_syn(f + n, 3, 0, 0);
    /* SLL2: protocol, reserved, ifindex, ARPHRD, pkttype, addr len, addr */
    size_t m = 20;
    memset(g, 0, 20);
    put16(g, 0x86dd);
    put32(g + 4, 2);
    put16(g + 8, 1);
    g[11] = 6;
    m += ip6_syn(g + m, 0);
    cap c1, c2;
    cap_open(&c1, DLT_LINUX_SLL, true);
    cap_add(&c1, f, n);
    cap_add(&c1, f, 15); /* shorter than the SLL header */
    rp_reader *r1 = cap_reader(&c1, 0);
    ck_assert_int_eq(rp_linktype(r1), DLT_LINUX_SLL);
    rp_pkt p[2];
    ck_assert_int_eq(read_all(r1, p, 2), 1);
    check_syn_fields(&p[0], false);
    ck_assert_uint_eq(p[0].len, 3);
    ck_assert_uint_eq(rp_get_counts(r1)->trunc_link, 1);
    cap_done(&c1, r1);

    /* SLL2 with the protocol 802.1Q: the tag follows the header */
    uint8_t h[300];
    size_t k = 20;
    memset(h, 0, 20);
    put16(h, 0x8100);
    put16(h + 8, 1);
    put16(h + 20, 42);
    put16(h + 22, 0x0800);
    k += 4;
    k += ip4_syn(h + k, 0, 0, 0);
    cap_open(&c2, DLT_LINUX_SLL2, true);
    cap_add(&c2, g, m);
    cap_add(&c2, h, k);
    rp_reader *r2 = cap_reader(&c2, 0);
    ck_assert_int_eq(rp_linktype(r2), DLT_LINUX_SLL2);
    ck_assert_int_eq(read_all(r2, p, 2), 2);
    check_syn_fields(&p[0], true);
    ck_assert_uint_eq(p[0].anomalies, 0);
    check_syn_fields(&p[1], false);
    ck_assert_uint_eq(p[1].vlan, 42);
    ck_assert_uint_eq(p[1].anomalies, RP_A_VLAN);
    cap_done(&c2, r2);
}
END_TEST

/* NULL / LOOP: family word in either byte order; 2 = IPv4, 24/28/30 = IPv6. */
static void null_case(int dlt)
{
    uint8_t f[6][300];
    size_t n[6];
    static const uint8_t fam[6][4] = {
        {2, 0, 0, 0},  /* AF_INET, little-endian */
        {0, 0, 0, 2},  /* AF_INET, big-endian */
        {24, 0, 0, 0}, /* AF_INET6 NetBSD/OpenBSD, LE */
        {0, 0, 0, 28}, /* AF_INET6 FreeBSD, BE */
        {30, 0, 0, 0}, /* AF_INET6 Darwin, LE */
        {7, 0, 0, 0},  /* something else */
    };
    for (int i = 0; i < 6; i++) {
        memcpy(f[i], fam[i], 4);
        bool v6 = i >= 2;
        n[i] = 4 + (v6 ? ip6_syn(f[i] + 4, 0)
                       : ip4_syn(f[i] + 4, 0, 0, 0));
    }
    cap c;
    cap_open(&c, dlt, true);
    for (int i = 0; i < 6; i++)
        cap_add(&c, f[i], n[i]);
    rp_reader *r = cap_reader(&c, 0);
    ck_assert_int_eq(rp_linktype(r), dlt);
    rp_pkt p[6];
    ck_assert_int_eq(read_all(r, p, 6), 5);
    for (int i = 0; i < 5; i++)
        check_syn_fields(&p[i], i >= 2);
    const rp_counts *cn = rp_get_counts(r);
    ck_assert_uint_eq(cn->tcp4, 2);
    ck_assert_uint_eq(cn->tcp6, 3);
    ck_assert_uint_eq(cn->other_family, 1);
    cap_done(&c, r);
}

START_TEST(bsd_null)
{
    null_case(DLT_NULL);
}
END_TEST

START_TEST(bsd_loop)
{
    null_case(DLT_LOOP);
}
END_TEST

START_TEST(raw_ip_link_types)
{
    uint8_t f4[300], f6[300], bad[40];
    size_t n4 = ip4_syn(f4, 0, 0, 0);
    size_t n6 = ip6_syn(f6, 0);
    memset(bad, 0x50, sizeof bad); /* version 5 */
    static const int dlts[3] = {DLT_RAW, DLT_IPV4, DLT_IPV6};
    for (int k = 0; k < 3; k++) {
        cap c;
        cap_open(&c, dlts[k], true);
        cap_add(&c, f4, n4);
        cap_add(&c, f6, n6);
        cap_add(&c, bad, sizeof bad);
        rp_reader *r = cap_reader(&c, 0);
        ck_assert(rp_linktype_supported(rp_linktype(r)));
        rp_pkt p[3];
        int got = read_all(r, p, 3);
        const rp_counts *cn = rp_get_counts(r);
        if (dlts[k] == DLT_RAW) {
            ck_assert_int_eq(got, 2);
            check_syn_fields(&p[0], false);
            check_syn_fields(&p[1], true);
            ck_assert_uint_eq(cn->bad_ip_version, 1);
        } else {
            /* a link type of one IP version: the other is a bad version */
            ck_assert_int_eq(got, 1);
            check_syn_fields(&p[0], dlts[k] == DLT_IPV6);
            ck_assert_uint_eq(cn->bad_ip_version, 2);
        }
        cap_done(&c, r);
    }
}
END_TEST

START_TEST(unsupported_link_type)
{
    uint8_t f[64];
    memset(f, 0, sizeof f);
    cap c;
    cap_open(&c, DLT_IEEE802_11, true);
    cap_add(&c, f, sizeof f);
    cap_add(&c, f, sizeof f);
    rp_reader *r = cap_reader(&c, 0);
    ck_assert(!rp_linktype_supported(rp_linktype(r)));
    rp_pkt p[1];
    ck_assert_int_eq(read_all(r, p, 1), 0);
    ck_assert_uint_eq(rp_get_counts(r)->link_unsupported, 2);
    cap_done(&c, r);
}
END_TEST

/* ---- IP ------------------------------------------------------------------------- */

START_TEST(ipv4_options)
{
    uint8_t f[300];
    size_t n = eth_hdr(f, 0x0800);
    n += ip4_syn(f + n, 9, 3, 0);
    cap c;
    cap_open(&c, DLT_EN10MB, true);
    cap_add(&c, f, n);
    rp_reader *r = cap_reader(&c, 0);
    rp_pkt p[1];
    ck_assert_int_eq(read_all(r, p, 1), 1);
    check_syn_fields(&p[0], false);
    ck_assert_uint_eq(p[0].len, 9);
    ck_assert_uint_eq(p[0].anomalies, 0);
    cap_done(&c, r);
}
END_TEST

START_TEST(ipv6_extension_headers)
{
    uint8_t l4[200], ext[128], f[400];
    size_t nl = syn_seg(l4, true, 4);
    size_t e = 0;
    /* hop-by-hop (8 bytes: PadN) -> destination options (16) */
    ext[e] = 60, ext[e + 1] = 0, ext[e + 2] = 1, ext[e + 3] = 4;
    memset(ext + e + 4, 0, 4);
    e += 8;
    /* destination options (16) -> routing */
    ext[e] = 43, ext[e + 1] = 1, ext[e + 2] = 1, ext[e + 3] = 12;
    memset(ext + e + 4, 0, 12);
    e += 16;
    /* routing type 2, segments left 0 (8 + 16 bytes) -> fragment */
    ext[e] = 44, ext[e + 1] = 2, ext[e + 2] = 2, ext[e + 3] = 0;
    memset(ext + e + 4, 0, 20);
    e += 24;
    /* atomic fragment (offset 0, M clear) -> AH */
    ext[e] = 51, ext[e + 1] = 0, put16(ext + e + 2, 0), put32(ext + e + 4, 99);
    e += 8;
    /* AH, payload len 4 -> (4+2)*4 = 24 bytes -> TCP */
    ext[e] = 6, ext[e + 1] = 4;
    memset(ext + e + 2, 0, 22);
    e += 24;
    size_t n = eth_hdr(f, 0x86dd);
    n += ip6(f + n, 0, ext, e, l4, nl);

    /* routing type 0 with segments left 1: the connection's and the
     * checksum's destination is the last address of the header, not the
     * IPv6 destination (RFC 8200 8.1) */
    uint8_t l4b[200], rh[24], g[300];
    static const uint8_t FINAL[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
                                      0, 0, 0, 0, 0, 0, 0, 0x99};
    size_t nb = tcp_seg(l4b, 1234, 80, 0x01020304u, 0, SM_TH_SYN, SYN_OPTS, sizeof SYN_OPTS, 0);
    l4_csum(l4b, nb, 6, A6, FINAL, 16);
    rh[0] = 6, rh[1] = 2, rh[2] = 0, rh[3] = 1;
    memset(rh + 4, 0, 4);
    memcpy(rh + 8, FINAL, 16);
    size_t m = eth_hdr(g, 0x86dd);
    m += ip6(g + m, 43, rh, sizeof rh, l4b, nb);

    cap c;
    cap_open(&c, DLT_EN10MB, true);
    cap_add(&c, f, n);
    cap_add(&c, g, m);
    rp_reader *r = cap_reader(&c, 0);
    rp_pkt p[2];
    ck_assert_int_eq(read_all(r, p, 2), 2);
    check_syn_fields(&p[0], true);
    ck_assert_uint_eq(p[0].len, 4);
    ck_assert_uint_eq(p[0].anomalies, RP_A_IP6_EXT);
    ck_assert_mem_eq(p[1].dst.addr.b, FINAL, 16);
    memcpy(p[1].dst.addr.b, B6, 16); /* the rest as usual */
    check_syn_fields(&p[1], true);
    ck_assert_uint_eq(p[1].anomalies, RP_A_IP6_EXT); /* checksum right */
    ck_assert_uint_eq(rp_get_counts(r)->ip6_ext, 2);
    ck_assert_uint_eq(rp_get_counts(r)->bad_l4_csum, 0);
    cap_done(&c, r);
}
END_TEST

/* IPv4 fragments are reassembled: a SYN whose first 16 bytes (less than
 * its header) come last is delivered at that record, whole, its checksum
 * verified (RP_A_REASSEMBLED).  A first fragment cut by the snaplen
 * cannot be reassembled: its TCP header is taken from it (RP_A_FRAGMENT,
 * checksum not verifiable), as is an IPv6 first fragment's; later IPv6
 * fragments are skipped. */
START_TEST(fragments)
{
    uint8_t l4[200], f[4][300], ext[8];
    size_t nl = syn_seg(l4, false, 20);
    size_t n0 = eth_hdr(f[0], 0x0800);
    n0 += ip4(f[0] + n0, 6, l4 + 16, nl - 16, 0, 0x0002); /* offset 16 bytes, last */
    size_t n1 = eth_hdr(f[1], 0x0800);
    n1 += ip4(f[1] + n1, 6, l4, 16, 0, 0x2000); /* offset 0, MF */
    ext[0] = 6, ext[1] = 0;
    put16(ext + 2, (8 << 3) | 1); /* offset 64, M */
    put32(ext + 4, 1234);
    size_t n2 = eth_hdr(f[2], 0x86dd);
    n2 += ip6(f[2] + n2, 44, ext, 8, l4, 16);
    size_t n3 = eth_hdr(f[3], 0x0800);
    n3 += ip4(f[3] + n3, 6, l4, nl, 0, 0x2000); /* a first fragment, */
    cap c;
    cap_open(&c, DLT_EN10MB, true);
    cap_add(&c, f[0], n0);
    cap_add(&c, f[1], n1);
    cap_add(&c, f[2], n2);
    cap_add_full(&c, f[3], (uint32_t)n3 - 4, (uint32_t)n3, c.sec++, 0); /* cut */
    rp_reader *r = cap_reader(&c, 0);
    rp_pkt p[3];
    ck_assert_int_eq(read_all(r, p, 3), 2);
    check_syn_fields(&p[0], false);
    ck_assert_uint_eq(p[0].frame, 2);
    ck_assert_uint_eq(p[0].len, 20);
    ck_assert_uint_eq(p[0].anomalies, RP_A_REASSEMBLED);
    check_syn_fields(&p[1], false);
    ck_assert_uint_eq(p[1].anomalies, RP_A_FRAGMENT | RP_A_CSUM_UNCHECKED | RP_A_PAYLOAD_CUT);
    const rp_counts *cn = rp_get_counts(r);
    ck_assert_uint_eq(cn->frag4, 1);
    ck_assert_uint_eq(cn->reassembled, 1);
    ck_assert_uint_eq(cn->frag_reassembled, 1);
    ck_assert_uint_eq(cn->frag_first, 1);
    ck_assert_uint_eq(cn->frag6, 1);
    ck_assert_uint_eq(cn->bad_ip_csum + cn->bad_l4_csum, 0);
    cap_done(&c, r);
}
END_TEST

START_TEST(truncated_records)
{
    uint8_t l4[300], f[400];
    size_t nl = syn_seg(l4, false, 100);
    size_t n = eth_hdr(f, 0x0800);
    n += ip4(f + n, 6, l4, nl, 0, 0);
    cap c;
    cap_open(&c, DLT_EN10MB, true);
    cap_add_full(&c, f, 10, (uint32_t)n, 1, 0);      /* inside Ethernet */
    cap_add_full(&c, f, 14 + 12, (uint32_t)n, 2, 0); /* inside IPv4 */
    cap_add_full(&c, f, 14 + 20 + 10, (uint32_t)n, 3, 0); /* inside TCP */
    cap_add_full(&c, f, 14 + 20 + 30, (uint32_t)n, 4, 0); /* inside TCP options */
    cap_add_full(&c, f, 14 + 20 + 40 + 50, (uint32_t)n, 5, 0); /* payload cut */
    rp_reader *r = cap_reader(&c, 0);
    rp_pkt p[2];
    ck_assert_int_eq(read_all(r, p, 2), 2);
    /* options cut: fields of the base header, options partly */
    ck_assert_uint_eq(p[0].seq, 0x01020304u);
    ck_assert_uint_eq(p[0].len, 100);
    ck_assert(p[0].has_mss);
    ck_assert(!p[0].has_ts);
    ck_assert(p[0].anomalies & RP_A_PAYLOAD_CUT);
    ck_assert(p[0].anomalies & RP_A_CSUM_UNCHECKED);
    check_syn_fields(&p[1], false);
    ck_assert_uint_eq(p[1].len, 100);
    ck_assert_uint_eq(p[1].caplen, 124);
    ck_assert_uint_eq(p[1].wirelen, n);
    ck_assert_uint_eq(p[1].anomalies, RP_A_PAYLOAD_CUT | RP_A_CSUM_UNCHECKED);
    const rp_counts *cn = rp_get_counts(r);
    ck_assert_uint_eq(cn->trunc_link, 1);
    ck_assert_uint_eq(cn->trunc_ip, 1);
    ck_assert_uint_eq(cn->trunc_l4, 1);
    ck_assert_uint_eq(cn->payload_cut, 2);
    ck_assert_uint_eq(cn->csum_unchecked, 2);
    cap_done(&c, r);
}
END_TEST

START_TEST(bad_checksums)
{
    uint8_t l4[200], f[4][300];
    size_t n[4];
    for (int i = 0; i < 4; i++)
        n[i] = eth_hdr(f[i], 0x0800);
    n[0] += ip4_syn(f[0] + n[0], 7, 0, 0);
    f[0][n[0] - 1] ^= 0x40; /* payload byte: TCP checksum wrong */
    n[1] += ip4_syn(f[1] + n[1], 7, 0, 0);
    f[1][14 + 8] = 1; /* TTL: header checksum wrong */
    size_t nu = udp_dgram(l4, 1000, 2000, 3); /* checksum 0: none (IPv4) */
    n[2] += ip4(f[2] + n[2], 17, l4, nu, 0, 0);
    nu = udp_dgram(l4, 1000, 2000, 3);
    l4_csum(l4, nu, 17, A4, B4, 4);
    l4[8] ^= 1;
    n[3] += ip4(f[3] + n[3], 17, l4, nu, 0, 0);
    /* UDP over IPv6 with checksum 0: mandatory there (RFC 8200 8.1), so bad */
    uint8_t g[300];
    size_t nu6 = udp_dgram(l4, 1000, 2000, 3);
    size_t m = eth_hdr(g, 0x86dd);
    m += ip6(g + m, 17, NULL, 0, l4, nu6);
    cap c;
    cap_open(&c, DLT_EN10MB, true);
    for (int i = 0; i < 4; i++)
        cap_add(&c, f[i], n[i]);
    cap_add(&c, g, m);
    rp_reader *r = cap_reader(&c, 0);
    rp_pkt p[5];
    ck_assert_int_eq(read_all(r, p, 5), 5);
    ck_assert_uint_eq(p[0].anomalies, RP_A_BAD_L4_CSUM);
    ck_assert_uint_eq(p[1].anomalies, RP_A_BAD_IP_CSUM);
    ck_assert_uint_eq(p[1].ttl, 1);
    ck_assert_uint_eq(p[2].anomalies, 0);
    ck_assert_uint_eq(p[3].anomalies, RP_A_BAD_L4_CSUM);
    ck_assert_uint_eq(p[4].anomalies, RP_A_BAD_L4_CSUM);
    ck_assert_uint_eq(rp_get_counts(r)->bad_l4_csum, 3);
    ck_assert_uint_eq(rp_get_counts(r)->bad_ip_csum, 1);
    cap_done(&c, r);

    /* RP_OPT_NO_CSUM: nothing verified, nothing flagged */
    cap_open(&c, DLT_EN10MB, true);
    cap_add(&c, f[0], n[0]);
    r = cap_reader(&c, RP_OPT_NO_CSUM);
    ck_assert_int_eq(read_all(r, p, 1), 1);
    ck_assert_uint_eq(p[0].anomalies, 0);
    cap_done(&c, r);
}
END_TEST

START_TEST(not_tcp_or_udp)
{
    uint8_t f[9][300], l4[64];
    size_t n[9];
    /* ARP */
    n[0] = eth_hdr(f[0], 0x0806);
    memset(f[0] + 14, 0, 46);
    n[0] = 60;
    /* 802.3 length field (LLC) */
    n[1] = eth_hdr(f[1], 1500); /* the largest 802.3 length */
    memset(f[1] + 14, 0x42, 46);
    n[1] = 60;
    /* LLDP */
    n[2] = eth_hdr(f[2], 0x88cc);
    memset(f[2] + 14, 0, 46);
    n[2] = 60;
    /* ICMP echo */
    memset(l4, 0, 16);
    l4[0] = 8;
    n[3] = eth_hdr(f[3], 0x0800);
    n[3] += ip4(f[3] + n[3], 1, l4, 16, 0, 0);
    /* GRE */
    n[4] = eth_hdr(f[4], 0x0800);
    n[4] += ip4(f[4] + n[4], 47, l4, 16, 0, 0);
    /* ICMPv6 */
    n[5] = eth_hdr(f[5], 0x86dd);
    n[5] += ip6(f[5] + n[5], 58, NULL, 0, l4, 16);
    /* IPv6 ESP */
    n[6] = eth_hdr(f[6], 0x86dd);
    n[6] += ip6(f[6] + n[6], 50, NULL, 0, l4, 16);
    /* IPv6 No Next Header */
    n[7] = eth_hdr(f[7], 0x86dd);
    n[7] += ip6(f[7] + n[7], 59, NULL, 0, l4, 0);
    /* SCTP over IPv6 after a hop-by-hop header */
    uint8_t hbh[8] = {132, 0, 1, 4, 0, 0, 0, 0};
    n[8] = eth_hdr(f[8], 0x86dd);
    n[8] += ip6(f[8] + n[8], 0, hbh, 8, l4, 16);
    cap c;
    cap_open(&c, DLT_EN10MB, true);
    for (int i = 0; i < 9; i++)
        cap_add(&c, f[i], n[i]);
    rp_reader *r = cap_reader(&c, 0);
    rp_pkt p[1];
    ck_assert_int_eq(read_all(r, p, 1), 0);
    const rp_counts *cn = rp_get_counts(r);
    ck_assert_uint_eq(cn->arp, 1);
    ck_assert_uint_eq(cn->llc, 1);
    ck_assert_uint_eq(cn->other_ethertype, 1);
    ck_assert_uint_eq(cn->icmp4, 1);
    ck_assert_uint_eq(cn->ip_other, 2);
    ck_assert_uint_eq(cn->icmp6, 1);
    ck_assert_uint_eq(cn->ip6_esp, 1);
    ck_assert_uint_eq(cn->ip6_no_next, 1);
    ck_assert_uint_eq(cn->records, 9);
    cap_done(&c, r);
}
END_TEST

START_TEST(bad_lengths)
{
    uint8_t l4[200], f[9][300];
    size_t n[9];
    size_t nl = syn_seg(l4, false, 0);
    for (int i = 0; i < 9; i++) {
        n[i] = eth_hdr(f[i], 0x0800);
        n[i] += ip4(f[i] + n[i], 6, l4, nl, 0, 0);
    }
    uint8_t *ip;
    ip = f[0] + 14;
    ip[0] = 0x44; /* IHL 4 */
    ip = f[1] + 14;
    put16(ip + 2, 12); /* total length below the header */
    ip = f[2] + 14;
    ip[20 + 12] = 0x40; /* TCP data offset 4 */
    ip = f[3] + 14;
    ip[20 + 12] = 0xf0; /* TCP data offset 60 > segment */
    ip = f[4] + 14;
    put16(ip + 2, 1000); /* total length beyond the frame: clipped, delivered */
    put16(ip + 10, 0);
    put16(ip + 10, smu_csum_field(smu_csum_add(0, ip, 20)));
    ip = f[5] + 14;
    put16(ip + 2, 0); /* TSO capture: length from the frame */
    put16(ip + 10, 0);
    put16(ip + 10, smu_csum_field(smu_csum_add(0, ip, 20)));
    /* UDP length 4 */
    size_t nu = udp_dgram(l4, 1, 2, 0);
    put16(l4 + 4, 4);
    n[6] = 14 + ip4(f[6] + 14, 17, l4, nu, 0, 0);
    /* UDP length beyond the IP datagram: clipped */
    nu = udp_dgram(l4, 1, 2, 10);
    put16(l4 + 4, 500);
    n[7] = 14 + ip4(f[7] + 14, 17, l4, nu, 0, 0);
    /* Ethernet padding after a short IPv4 datagram: ignored */
    uint8_t t[64];
    size_t nt = tcp_seg(t, 9, 10, 1, 2, SM_TH_ACK, NULL, 0, 0);
    l4_csum(t, nt, 6, A4, B4, 4);
    n[8] = 14 + ip4(f[8] + 14, 6, t, nt, 0, 0);
    memset(f[8] + n[8], 0xee, 60 - n[8]);
    n[8] = 60;
    cap c;
    cap_open(&c, DLT_EN10MB, true);
    for (int i = 0; i < 9; i++)
        cap_add(&c, f[i], n[i]);
    rp_reader *r = cap_reader(&c, 0);
    rp_pkt p[4];
    ck_assert_int_eq(read_all(r, p, 4), 4);
    ck_assert_uint_eq(p[0].anomalies, RP_A_BAD_LEN | RP_A_CSUM_UNCHECKED);
    ck_assert_uint_eq(p[1].anomalies, RP_A_LEN_FROM_FRAME);
    ck_assert_uint_eq(p[1].len, 0);
    ck_assert_uint_eq(p[2].anomalies, RP_A_BAD_LEN); /* checksum 0: none to verify */
    ck_assert_uint_eq(p[2].len, 10);
    ck_assert_uint_eq(p[3].anomalies, 0);
    ck_assert_uint_eq(p[3].len, 0);
    ck_assert_uint_eq(p[3].flags, SM_TH_ACK);
    const rp_counts *cn = rp_get_counts(r);
    ck_assert_uint_eq(cn->bad_ip_hlen, 1);
    ck_assert_uint_eq(cn->bad_ip_len, 1);
    ck_assert_uint_eq(cn->bad_tcp_hlen, 2);
    ck_assert_uint_eq(cn->bad_udp_len, 1);
    ck_assert_uint_eq(cn->len_clipped, 2);
    ck_assert_uint_eq(cn->len_from_frame, 1);
    cap_done(&c, r);
}
END_TEST

START_TEST(bad_tcp_options)
{
    uint8_t l4[100], f[200];
    static const uint8_t opts[8] = {2, 4, 0x05, 0xb4, 8, 40, 0, 0}; /* TS len 40 */
    size_t nl = tcp_seg(l4, 1, 2, 3, 4, SM_TH_SYN, opts, sizeof opts, 0);
    l4_csum(l4, nl, 6, A4, B4, 4);
    size_t n = eth_hdr(f, 0x0800);
    n += ip4(f + n, 6, l4, nl, 0, 0);
    cap c;
    cap_open(&c, DLT_EN10MB, true);
    cap_add(&c, f, n);
    rp_reader *r = cap_reader(&c, 0);
    rp_pkt p[1];
    ck_assert_int_eq(read_all(r, p, 1), 1);
    ck_assert(p[0].has_mss);
    ck_assert(!p[0].has_ts);
    ck_assert_uint_eq(p[0].anomalies, RP_A_BAD_TCP_OPT);
    ck_assert_uint_eq(rp_get_counts(r)->bad_tcp_opt, 1);
    cap_done(&c, r);
}
END_TEST

START_TEST(timestamps_out_of_order)
{
    uint8_t f[300];
    size_t n = eth_hdr(f, 0x0800);
    n += ip4_syn(f + n, 0, 0, 0);
    cap c;
    cap_open(&c, DLT_EN10MB, true);
    cap_add_full(&c, f, (uint32_t)n, (uint32_t)n, 10, 0);
    cap_add_full(&c, f, (uint32_t)n, (uint32_t)n, 5, 0);
    cap_add_full(&c, f, (uint32_t)n, (uint32_t)n, 10, 0); /* equal: in order */
    cap_add_full(&c, f, (uint32_t)n, (uint32_t)n, 20, 0);
    rp_reader *r = cap_reader(&c, 0);
    rp_pkt p[4];
    ck_assert_int_eq(read_all(r, p, 4), 4);
    ck_assert_uint_eq(p[1].ts_ns, 5000000000ull);
    ck_assert_uint_eq(p[1].ts_mono_ns, 10000000000ull);
    ck_assert_uint_eq(p[1].anomalies, RP_A_TS_BACKWARDS);
    ck_assert_uint_eq(p[2].anomalies, 0);
    ck_assert_uint_eq(p[3].ts_mono_ns, 20000000000ull);
    ck_assert_uint_eq(p[3].frame, 4);
    ck_assert_uint_eq(rp_get_counts(r)->ts_backwards, 1);
    cap_done(&c, r);
}
END_TEST

/* ---- files ------------------------------------------------------------------------- */

/* The reader's fast path (untagged Ethernet, IPv4 without options or IPv6
 * without extension headers, TCP, no checksum verification) must decode
 * exactly as the general path: every field, every counter.  Valid frames
 * of each kind the fast path takes, then 20000 seeded mutations of them
 * (header bytes, capture and wire lengths, timestamps) that push records
 * over every one of its acceptance checks. */
START_TEST(fast_path_same_as_general)
{
    static const uint8_t TS_OPTS[12] = {1, 1, 8, 10, 0, 0, 0x11, 0x22, 0, 0, 0x33, 0x44};
    static const uint8_t ODD_OPTS[12] = {1, 8, 10, 0, 0, 0x11, 0x22, 0, 0, 0x33, 0x44, 0};
    uint8_t base[6][256];
    size_t blen[6];
    for (int k = 0; k < 6; k++) {
        uint8_t l4[160], *f = base[k];
        bool v6 = k % 2 == 1;
        size_t n;
        if (k < 2)
            n = tcp_seg(l4, 40000, 443, 7, 9, SM_TH_ACK | SM_TH_PSH, TS_OPTS, 12, 30);
        else if (k < 4)
            n = tcp_seg(l4, 40000, 443, 7, 9, SM_TH_SYN, SYN_OPTS, sizeof SYN_OPTS, 0);
        else
            n = tcp_seg(l4, 40000, 443, 7, 9, SM_TH_ACK | SM_TH_FIN, k == 4 ? NULL : ODD_OPTS,
                        k == 4 ? 0 : 12, 0);
        size_t e = eth_hdr(f, v6 ? 0x86dd : 0x0800);
        blen[k] = e + (v6 ? ip6(f + e, 6, NULL, 0, l4, n) : ip4(f + e, 6, l4, n, 0, 0));
    }
    rp_decode_state fs, gs;
    memset(&fs, 0, sizeof fs);
    fs.opts = RP_OPT_NO_CSUM;
    gs = fs;
    gs.opts |= RP_OPT_GENERAL;
    rp_counts fc, gc;
    memset(&fc, 0, sizeof fc);
    memset(&gc, 0, sizeof gc);
    uint64_t rng = 0x9e3779b97f4a7c15ull, delivered = 0;
    for (int i = 0; i < 20000 + 6; i++) {
        int k = i % 6;
        uint8_t f[256];
        memcpy(f, base[k], blen[k]);
        uint32_t caplen = (uint32_t)blen[k], wire = caplen;
        int64_t sec = 1000 + i / 7;
        uint32_t nsec = (uint32_t)(i * 977) % 1000000000u;
        if (i >= 6) { /* a mutation */
            for (int m = 0; m < 1 + i % 3; m++) {
                rng = rng * 6364136223846793005ull + 1442695040888963407ull;
                unsigned r = (unsigned)(rng >> 33);
                switch (r % 6) {
                case 0: /* a header byte */
                    f[12 + (r >> 8) % 60] = (uint8_t)(r >> 20);
                    break;
                case 1: /* capture cut */
                    caplen = (uint32_t)((r >> 8) % (blen[k] + 1));
                    break;
                case 2: /* wire length other than captured */
                    wire = caplen + (r >> 8) % 40 - 20;
                    break;
                case 3: /* timestamp back, or out of range */
                    sec = (r >> 8) % 3 == 0 ? -1 : sec - (int64_t)((r >> 10) % 5);
                    nsec = (r >> 8) % 4 == 0 ? 1000000000u + r % 7 : nsec;
                    break;
                case 4: /* an IP length or TCP data offset */
                    if (k % 2)
                        put16(f + 18, (unsigned)(r >> 8) % 200);
                    else
                        put16(f + 16, (unsigned)(r >> 8) % 200);
                    break;
                default:
                    f[(k % 2 ? 14 + 40 : 14 + 20) + 12] = (uint8_t)(r >> 8);
                    break;
                }
            }
        }
        rp_pkt fp, gp;
        bool fgot = rp_decode(&fs, DLT_EN10MB, sec, nsec, caplen, wire, f, &fp, &fc);
        bool ggot = rp_decode(&gs, DLT_EN10MB, sec, nsec, caplen, wire, f, &gp, &gc);
        ck_assert_msg(fgot == ggot, "record %d: delivered %d by the fast path, %d by the general", i,
                      fgot, ggot);
        if (fgot) {
            ck_assert_msg(rp_pkt_equal(&fp, &gp), "record %d decoded differently", i);
            delivered++;
        }
        ck_assert_msg(memcmp(&fc, &gc, sizeof fc) == 0, "record %d: counts differ", i);
        ck_assert_uint_eq(fs.max_ts_ns, gs.max_ts_ns);
        ck_assert_uint_eq(fs.frame, gs.frame);
    }
    rp_decode_state_free(&fs);
    rp_decode_state_free(&gs);
    /* the unmutated frames and a good share of the mutations were delivered */
    ck_assert_uint_ge(delivered, 5000);
    ck_assert_uint_lt(delivered, 20000);
}
END_TEST

static size_t pad4(size_t n)
{
    return (n + 3) & ~(size_t)3;
}

static void le16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void le32w(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

START_TEST(pcapng_file)
{
    uint8_t fr[300], file[1024];
    size_t fn = eth_hdr(fr, 0x86dd);
    fn += ip6_syn(fr + fn, 2);
    size_t o = 0;
    /* Section Header Block: type, length, byte-order magic, v1.0, section length -1 */
    le32w(file + o, 0x0a0d0d0a), le32w(file + o + 4, 28), le32w(file + o + 8, 0x1a2b3c4d);
    le16(file + o + 12, 1), le16(file + o + 14, 0);
    memset(file + o + 16, 0xff, 8);
    le32w(file + o + 24, 28);
    o += 28;
    /* Interface Description Block: Ethernet, snaplen 0, no options */
    le32w(file + o, 1), le32w(file + o + 4, 20), le16(file + o + 8, 1), le16(file + o + 10, 0);
    le32w(file + o + 12, 0), le32w(file + o + 16, 20);
    o += 20;
    /* Enhanced Packet Block: interface 0, timestamp in microseconds */
    uint64_t ts = 1700000000ull * 1000000u + 42;
    size_t blen = 32 + pad4(fn);
    le32w(file + o, 6), le32w(file + o + 4, (uint32_t)blen), le32w(file + o + 8, 0);
    le32w(file + o + 12, (uint32_t)(ts >> 32)), le32w(file + o + 16, (uint32_t)ts);
    le32w(file + o + 20, (uint32_t)fn), le32w(file + o + 24, (uint32_t)fn);
    memset(file + o + 28, 0, pad4(fn));
    memcpy(file + o + 28, fr, fn);
    le32w(file + o + 28 + pad4(fn), (uint32_t)blen);
    o += blen;
    save_seed(file, o);
    FILE *in = fmemopen(file, o, "rb");
    char err[256];
    rp_reader *r = rp_open_stream(in, 0, err, sizeof err);
    ck_assert_msg(r != NULL, "pcapng: %s", err);
    rp_pkt p[1];
    ck_assert_int_eq(read_all(r, p, 1), 1);
    check_syn_fields(&p[0], true);
    ck_assert_uint_eq(p[0].len, 2);
    ck_assert_uint_eq(p[0].ts_ns, 1700000000000042000ull);
    rp_close(r);
}
END_TEST

START_TEST(not_a_capture)
{
    static char text[] = "# not a capture\nsocket a tcp4\nbind a 0.0.0.0:80\n";
    FILE *in = fmemopen(text, sizeof text - 1, "rb");
    char err[256] = "unset";
    ck_assert_ptr_null(rp_open_stream(in, 0, err, sizeof err));
    ck_assert_msg(err[0] != '\0' && strcmp(err, "unset") != 0, "no message");
    fclose(in);
    /* too short even for a file header */
    static char tiny[] = "\xd4\xc3";
    in = fmemopen(tiny, 2, "rb");
    ck_assert_ptr_null(rp_open_stream(in, 0, err, sizeof err));
    ck_assert(err[0] != '\0');
    fclose(in);
    ck_assert_ptr_null(rp_open("/nonexistent/x.pcap", 0, err, sizeof err));
    ck_assert(err[0] != '\0');
}
END_TEST

START_TEST(file_cut_in_a_record)
{
    uint8_t f[300];
    size_t n = eth_hdr(f, 0x0800);
    n += ip4_syn(f + n, 0, 0, 0);
    cap c;
    cap_open(&c, DLT_EN10MB, true);
    cap_add(&c, f, n);
    cap_add(&c, f, n);
    pcap_dump_close(c.d);
    pcap_close(c.dead);
    FILE *in = fmemopen(c.buf, c.len - 20, "rb"); /* the second record cut */
    char err[256];
    rp_reader *r = rp_open_stream(in, 0, err, sizeof err);
    ck_assert_ptr_nonnull(r);
    rp_pkt p[2];
    ck_assert_int_eq(read_all(r, p, 2), 1);
    ck_assert_uint_eq(rp_get_counts(r)->file_truncated, 1);
    ck_assert(rp_error(r)[0] != '\0');
    rp_close(r);
    free(c.buf);
}
END_TEST

/* Packets read a batch at a time (rp_next_batch, as `sockmodel replay`
 * reads), directly and with read-ahead, and from a file (rp_open, its own
 * stream buffer): the same packets, counts and final message as one at a
 * time, over several batches, a skipped record, and a file cut in its last
 * record. */
START_TEST(batches_same_as_one_at_a_time)
{
    enum { NREC = 3000 };
    uint8_t f[300], arp[64];
    size_t n = eth_hdr(f, 0x0800);
    n += ip4_syn(f + n, 40, 0, 0);
    size_t an = eth_hdr(arp, 0x0806);
    memset(arp + an, 0, 28);
    an += 28;
    cap c;
    cap_open(&c, DLT_EN10MB, true);
    for (int i = 0; i < NREC; i++) {
        if (i == 700)
            cap_add(&c, arp, an);
        else
            cap_add(&c, f, n);
    }
    pcap_dump_close(c.d);
    pcap_close(c.dead);
    size_t len = c.len - 10; /* the last record cut */
    char path[] = "/tmp/check_replay_read.XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    FILE *w = fdopen(fd, "wb");
    ck_assert_ptr_nonnull(w);
    ck_assert_uint_eq(fwrite(c.buf, 1, len, w), len);
    ck_assert_int_eq(fclose(w), 0);

    rp_pkt *want = calloc(NREC, sizeof *want);
    ck_assert_ptr_nonnull(want);
    FILE *in = fmemopen(c.buf, len, "rb");
    char err[256];
    rp_reader *r = rp_open_stream(in, RP_OPT_NO_CSUM, err, sizeof err);
    ck_assert_ptr_nonnull(r);
    int nwant = 0, rc;
    while (nwant < NREC && (rc = rp_next(r, &want[nwant])) == 1)
        nwant++;
    ck_assert_int_eq(nwant, NREC - 2); /* the ARP and the cut one */
    ck_assert_int_eq(rp_next(r, &want[0 + NREC - 1]), 0);
    rp_counts wc = *rp_get_counts(r);
    char werr[512];
    snprintf(werr, sizeof werr, "%s", rp_error(r));
    ck_assert(werr[0] != '\0');
    rp_close(r);

    for (int k = 0; k < 3; k++) {
        unsigned opts = RP_OPT_NO_CSUM | (k == 1 ? 0 : RP_OPT_THREAD);
        if (k < 2) {
            in = fmemopen(c.buf, len, "rb");
            r = rp_open_stream(in, opts, err, sizeof err);
        } else {
            r = rp_open(path, opts, err, sizeof err);
        }
        ck_assert_msg(r != NULL, "open: %s", err);
        const rp_pkt *b;
        size_t nb, got = 0, calls = 0;
        while ((rc = rp_next_batch(r, &b, &nb)) == 1) {
            ck_assert_uint_ge(nb, 1);
            ck_assert_uint_le(got + nb, (size_t)nwant);
            for (size_t i = 0; i < nb; i++)
                ck_assert_msg(rp_pkt_equal(&b[i], &want[got + i]), "way %d: packet %zu differs",
                              k, got + i);
            got += nb;
            calls++;
        }
        ck_assert_int_eq(rc, 0);
        ck_assert_int_eq(rp_next_batch(r, &b, &nb), 0); /* the end stays the end */
        ck_assert_uint_eq(got, (size_t)nwant);
        ck_assert_uint_ge(calls, 3); /* several batches */
        ck_assert_uint_lt(calls, got / 8);
        ck_assert(memcmp(rp_get_counts(r), &wc, sizeof wc) == 0);
        ck_assert_str_eq(rp_error(r), werr);
        rp_close(r);
    }
    unlink(path);
    free(want);
    free(c.buf);
}
END_TEST

/* The read-ahead thread may run further ahead when the caller finds no
 * batch ready: this caller only checks each packet, far faster than the
 * thread reads and decodes, so the ring deepens.  Every record still comes
 * once, in order, as itself (its sequence number is its index). */
START_TEST(read_ahead_deepens)
{
    enum { NREC = 70000 }; /* 274 batches: the ring deepens after the first 64 */
    uint8_t f[300];
    size_t n = eth_hdr(f, 0x0800);
    n += ip4_syn(f + n, 40, 0, 0);
    cap c;
    cap_open(&c, DLT_EN10MB, true);
    for (int i = 0; i < NREC; i++) {
        put32(f + 14 + 20 + 4, (uint32_t)i);
        cap_add(&c, f, n);
    }
    pcap_dump_close(c.d);
    pcap_close(c.dead);
    FILE *in = fmemopen(c.buf, c.len, "rb");
    char err[256];
    rp_reader *r = rp_open_stream(in, RP_OPT_NO_CSUM | RP_OPT_THREAD, err, sizeof err);
    ck_assert_msg(r != NULL, "open: %s", err);
    ck_assert_uint_eq(rp_read_depth(r), 8);
    const rp_pkt *b;
    size_t nb, got = 0, wrong = 0;
    int rc;
    /* (plain tests in the loop: each of Check's assertions is a write to
     * its parent process, which would make this caller the slower side) */
    while ((rc = rp_next_batch(r, &b, &nb)) == 1)
        for (size_t i = 0; i < nb; i++, got++)
            if (b[i].frame != got + 1 || b[i].seq != (uint32_t)got)
                wrong++;
    ck_assert_int_eq(rc, 0);
    ck_assert_uint_eq(wrong, 0);
    ck_assert_uint_eq(got, NREC);
    ck_assert_uint_gt(rp_read_depth(r), 8);
    ck_assert_uint_le(rp_read_depth(r), 64);
    ck_assert_uint_eq(rp_get_counts(r)->tcp4, NREC);
    rp_close(r);
    free(c.buf);
}
END_TEST

START_TEST(counts_print)
{
    rp_counts c;
    memset(&c, 0, sizeof c);
    c.records = 5;
    c.tcp4 = 3;
    c.arp = 2;
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    rp_counts_print(out, &c);
    fclose(out);
    ck_assert_ptr_nonnull(strstr(buf, "records: 5 (3 delivered, 2 skipped)"));
    ck_assert_ptr_nonnull(strstr(buf, "  tcp4: 3\n"));
    ck_assert_ptr_nonnull(strstr(buf, "  arp: 2\n"));
    ck_assert_ptr_null(strstr(buf, "udp4"));
    free(buf);
}
END_TEST

/* ---- conversations (tshark conv,tcp) ------------------------------------------------- */

static rp_pkt seg(bool from_client, uint32_t seq, uint32_t ack, unsigned flags)
{
    rp_pkt p;
    memset(&p, 0, sizeof p);
    p.proto = SM_TCP;
    sm_endpoint c, s;
    memset(&c, 0, sizeof c);
    memset(&s, 0, sizeof s);
    c.addr.family = s.addr.family = 4;
    memcpy(c.addr.b, B4, 4); /* client sorts above the server: both orders used */
    memcpy(s.addr.b, A4, 4);
    c.port = 40000;
    s.port = 80;
    p.src = from_client ? c : s;
    p.dst = from_client ? s : c;
    p.seq = seq;
    p.ack = ack;
    p.flags = (uint8_t)flags;
    return p;
}

enum { S = SM_TH_SYN, A = SM_TH_ACK, F = SM_TH_FIN, R = SM_TH_RST };

static uint64_t conv_count(const rp_pkt *ps, size_t n)
{
    rp_conv *t = rp_conv_new(NULL, NULL);
    ck_assert_ptr_nonnull(t);
    for (size_t i = 0; i < n; i++) {
        rp_pkt p = ps[i];
        p.frame = i + 1;
        ck_assert(rp_conv_add(t, &p));
    }
    uint64_t k = rp_conv_count(t);
    rp_conv_free(t);
    return k;
}

/* The client's full connection: handshake and FIN close (6 segments). */
static size_t full(rp_pkt *o, uint32_t ic, uint32_t is)
{
    o[0] = seg(true, ic, 0, S);
    o[1] = seg(false, is, ic + 1, S | A);
    o[2] = seg(true, ic + 1, is + 1, A);
    o[3] = seg(true, ic + 1, is + 1, F | A);
    o[4] = seg(false, is + 1, ic + 2, F | A);
    o[5] = seg(true, ic + 2, is + 2, A);
    return 6;
}

/* Each expectation below was checked against tshark 4.0.17's conv,tcp. */
START_TEST(conv_port_reuse)
{
    rp_pkt p[32];
    size_t n;
    /* same 4-tuple, new ISN after a full close: two rows */
    n = full(p, 100, 500);
    n += full(p + n, 9000, 7000);
    ck_assert_uint_eq(conv_count(p, n), 2);
    /* same 4-tuple, same ISN: one row */
    n = full(p, 100, 500);
    n += full(p + n, 100, 7000);
    ck_assert_uint_eq(conv_count(p, n), 1);
    /* the server opens the next connection on the same 4-tuple: two */
    n = full(p, 100, 500);
    p[n++] = seg(false, 3000, 0, S);
    p[n++] = seg(true, 4000, 3001, S | A);
    ck_assert_uint_eq(conv_count(p, n), 2);
    /* SYN retransmissions (same seq): one */
    p[0] = p[1] = p[2] = seg(true, 100, 0, S);
    ck_assert_uint_eq(conv_count(p, 3), 1);
    /* refused, then retried with a new ISN: two */
    p[0] = seg(true, 100, 0, S);
    p[1] = seg(false, 0, 101, R | A);
    p[2] = seg(true, 200, 0, S);
    p[3] = seg(false, 0, 201, R | A);
    ck_assert_uint_eq(conv_count(p, 4), 2);
    /* mid-stream start (base = seq-1), then a SYN with seq = base: one */
    p[0] = seg(true, 1000, 2000, A);
    p[1] = seg(false, 2000, 1000, A);
    p[2] = seg(true, 999, 0, S);
    ck_assert_uint_eq(conv_count(p, 3), 1);
    /* ... with another seq: two */
    p[2] = seg(true, 5, 0, S);
    ck_assert_uint_eq(conv_count(p, 3), 2);
    /* SYN+ACK with a new seq never starts a conversation */
    n = full(p, 100, 500);
    p[n++] = seg(false, 9999, 101, S | A);
    ck_assert_uint_eq(conv_count(p, n), 1);
    /* RST, then a SYN with the first ISN: one */
    p[0] = seg(true, 100, 0, S);
    p[1] = seg(false, 500, 101, S | A);
    p[2] = seg(true, 101, 501, R);
    p[3] = seg(true, 100, 0, S);
    ck_assert_uint_eq(conv_count(p, 4), 1);
    /* SYNs both ways (no base for the second direction yet): one */
    p[0] = seg(false, 500, 0, S);
    p[1] = seg(true, 100, 0, S);
    ck_assert_uint_eq(conv_count(p, 2), 1);
}
END_TEST

static void collect(void *ctx, const rp_conv_row *row)
{
    rp_conv_row *rows = ctx;
    size_t i = 0;
    while (rows[i].frames)
        i++;
    rows[i] = *row;
}

START_TEST(conv_rows_and_growth)
{
    rp_pkt p[16];
    size_t n = full(p, 100, 500);
    n += full(p + n, 9000, 7000);
    rp_conv_row rows[4];
    memset(rows, 0, sizeof rows);
    rp_conv *t = rp_conv_new(collect, rows);
    for (size_t i = 0; i < n; i++) {
        p[i].frame = i + 1;
        rp_conv_add(t, &p[i]);
    }
    ck_assert_uint_eq(rp_conv_count(t), 2);
    ck_assert_uint_eq(rp_conv_tuples(t), 1);
    rp_conv_finish(t);
    ck_assert_uint_eq(rows[0].frames, 6);
    ck_assert_uint_eq(rows[0].first_frame, 1);
    ck_assert_uint_eq(rows[0].a.port, 40000); /* the first packet's source */
    ck_assert_uint_eq(rows[1].frames, 6);
    ck_assert_uint_eq(rows[1].first_frame, 7);
    ck_assert_uint_eq(rows[2].frames, 0);
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    rp_conv_row_print(out, &rows[0]);
    fclose(out);
    ck_assert_str_eq(buf, "198.51.100.7:40000 <-> 192.0.2.1:80 6 1\n");
    free(buf);
    rp_conv_free(t);

    /* many tuples: the table grows, every one counted once; UDP ignored */
    t = rp_conv_new(NULL, NULL);
    for (uint32_t i = 0; i < 100000; i++) {
        rp_pkt q = seg(true, i, 0, S);
        q.src.port = (uint16_t)(1024 + i % 50000);
        q.src.addr.b[3] = (uint8_t)(i / 50000);
        ck_assert(rp_conv_add(t, &q));
        ck_assert(rp_conv_add(t, &q)); /* retransmission */
        q.proto = SM_UDP;
        ck_assert(rp_conv_add(t, &q));
    }
    ck_assert_uint_eq(rp_conv_count(t), 100000);
    ck_assert_uint_eq(rp_conv_tuples(t), 100000);
    rp_conv_free(t);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("replay_read");
    TCase *tc = tcase_create("reader");
    tcase_add_test(tc, ethernet_v4_tcp);
    tcase_add_test(tc, batches_same_as_one_at_a_time);
    tcase_add_test(tc, read_ahead_deepens);
    tcase_add_test(tc, ethernet_microsecond_file);
    tcase_add_test(tc, ethernet_vlan_stacked);
    tcase_add_test(tc, linux_sll_and_sll2);
    tcase_add_test(tc, bsd_null);
    tcase_add_test(tc, bsd_loop);
    tcase_add_test(tc, raw_ip_link_types);
    tcase_add_test(tc, unsupported_link_type);
    tcase_add_test(tc, ipv4_options);
    tcase_add_test(tc, ipv6_extension_headers);
    tcase_add_test(tc, fragments);
    tcase_add_test(tc, truncated_records);
    tcase_add_test(tc, bad_checksums);
    tcase_add_test(tc, not_tcp_or_udp);
    tcase_add_test(tc, bad_lengths);
    tcase_add_test(tc, bad_tcp_options);
    tcase_add_test(tc, timestamps_out_of_order);
    tcase_add_test(tc, fast_path_same_as_general);
    tcase_add_test(tc, pcapng_file);
    tcase_add_test(tc, not_a_capture);
    tcase_add_test(tc, file_cut_in_a_record);
    tcase_add_test(tc, counts_print);
    suite_add_tcase(s, tc);
    TCase *cv = tcase_create("conv");
    tcase_add_test(cv, conv_port_reuse);
    tcase_add_test(cv, conv_rows_and_growth);
    suite_add_tcase(s, cv);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
