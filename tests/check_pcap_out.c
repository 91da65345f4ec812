/*
 * check_pcap_out.c - the pcap writer (render/pcap_out.c): every segment it is
 * given must come back from libpcap as a well-formed frame that says what
 * the segment said.
 *
 * The tests write handcrafted segment sequences through scn_pcap_*, read
 * the file back with pcap_open_offline and decode each frame here, with
 * this file's own header parser and checksum code (not the writer's):
 * link type, packet count, nanosecond timestamps, MACs, IP version (a
 * v4-mapped pair goes out as IPv4), IP/TCP/UDP lengths and checksums
 * recomputed (RFC 1071, pseudo-headers of RFC 9293 3.1 and RFC 8200 8.1),
 * ports, flags, seq, ack, window, the MSS and timestamp options (RFC 7323
 * 3.2).  Also: the same input gives the same bytes, an unwritable path or
 * a full disk is reported, oversize payloads are cut to what the IP
 * length fields can say.
 *
 *   tests/check_pcap_out               run the Check suite
 *   tests/check_pcap_out --demo FILE   write the demo capture (a realistic
 *                                      IPv4 + IPv6 conversation) to FILE;
 *                                      tests/pcap-tshark.sh reads it with
 *                                      tshark
 */
#define _DEFAULT_SOURCE /* mkstemp, and the BSD types of pcap.h */
#include "check_util.h"

#include <stdint.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "pcap_out.h"

/* ---- segments ------------------------------------------------------------- */

#define MS 1000000ull /* ns */
#define NO SM_NONE

typedef struct row {
    uint64_t t;        /* ns */
    sm_id sh, dh;      /* source and destination host */
    sm_proto proto;
    const char *src, *dst;
    uint8_t flags;
    uint32_t seq, ack;
    uint16_t win;
    uint32_t len;
    bool ts;
    uint32_t tsval, tsecr;
} row;

#define SYN SM_TH_SYN
#define ACK SM_TH_ACK
#define FIN SM_TH_FIN
#define RST SM_TH_RST
#define PSH SM_TH_PSH
#define T SM_TCP
#define U SM_UDP

/* The demo: what a client (host 0: 192.0.2.1, 2001:db8::1) and a server
 * (host 1: 192.0.2.2, 2001:db8::2) exchange, one-way delay 1 ms, loopback
 * 50 us.  Sequence numbers, acks and timestamps are consistent, so
 * Wireshark's TCP analysis finds nothing to say but "connection reset". */
static const row demo[] = {
    /* A. IPv4 with timestamps: handshake, 2000 bytes up, 200 down, the
     *    client closes first (it ends in TIME_WAIT). */
    {0 * MS, 0, 1, T, "192.0.2.1:40000", "192.0.2.2:80", SYN, 1000, 0, 65535, 0, true, 100, 0},
    {1 * MS, 1, 0, T, "192.0.2.2:80", "192.0.2.1:40000", SYN | ACK, 500000, 1001, 65535, 0, true, 7001, 100},
    {2 * MS, 0, 1, T, "192.0.2.1:40000", "192.0.2.2:80", ACK, 1001, 500001, 65535, 0, true, 102, 7001},
    {2 * MS, 0, 1, T, "192.0.2.1:40000", "192.0.2.2:80", PSH | ACK, 1001, 500001, 65535, 1460, true, 102, 7001},
    {2 * MS, 0, 1, T, "192.0.2.1:40000", "192.0.2.2:80", PSH | ACK, 2461, 500001, 65535, 540, true, 102, 7001},
    {3 * MS, 1, 0, T, "192.0.2.2:80", "192.0.2.1:40000", ACK, 500001, 3001, 65535, 0, true, 7003, 102},
    {3 * MS, 1, 0, T, "192.0.2.2:80", "192.0.2.1:40000", PSH | ACK, 500001, 3001, 65535, 200, true, 7003, 102},
    {4 * MS, 0, 1, T, "192.0.2.1:40000", "192.0.2.2:80", ACK, 3001, 500201, 65535, 0, true, 104, 7003},
    {10 * MS, 0, 1, T, "192.0.2.1:40000", "192.0.2.2:80", FIN | ACK, 3001, 500201, 65535, 0, true, 110, 7003},
    {11 * MS, 1, 0, T, "192.0.2.2:80", "192.0.2.1:40000", ACK, 500201, 3002, 65535, 0, true, 7011, 110},
    {20 * MS, 1, 0, T, "192.0.2.2:80", "192.0.2.1:40000", FIN | ACK, 500201, 3002, 65535, 0, true, 7020, 110},
    {21 * MS, 0, 1, T, "192.0.2.1:40000", "192.0.2.2:80", ACK, 3002, 500202, 65535, 0, true, 121, 7020},
    /* B. IPv6, nobody listens: SYN, RST|ACK (connect fails ECONNREFUSED). */
    {30 * MS, 0, 1, T, "[2001:db8::1]:40001", "[2001:db8::2]:8080", SYN, 2000, 0, 65535, 0, true, 130, 0},
    {31 * MS, 1, 0, T, "[2001:db8::2]:8080", "[2001:db8::1]:40001", RST | ACK, 0, 2001, 0, 0, false, 0, 0},
    /* C. IPv6 without timestamps: handshake, then a simultaneous close
     *    (both FINs cross; both sides end in TIME_WAIT). */
    {40 * MS, 0, 1, T, "[2001:db8::1]:40002", "[2001:db8::2]:8080", SYN, 3000, 0, 65535, 0, false, 0, 0},
    {41 * MS, 1, 0, T, "[2001:db8::2]:8080", "[2001:db8::1]:40002", SYN | ACK, 9000, 3001, 65535, 0, false, 0, 0},
    {42 * MS, 0, 1, T, "[2001:db8::1]:40002", "[2001:db8::2]:8080", ACK, 3001, 9001, 65535, 0, false, 0, 0},
    {50 * MS, 0, 1, T, "[2001:db8::1]:40002", "[2001:db8::2]:8080", FIN | ACK, 3001, 9001, 65535, 0, false, 0, 0},
    {50 * MS, 1, 0, T, "[2001:db8::2]:8080", "[2001:db8::1]:40002", FIN | ACK, 9001, 3001, 65535, 0, false, 0, 0},
    {51 * MS, 1, 0, T, "[2001:db8::2]:8080", "[2001:db8::1]:40002", ACK, 9002, 3002, 65535, 0, false, 0, 0},
    {51 * MS, 0, 1, T, "[2001:db8::1]:40002", "[2001:db8::2]:8080", ACK, 3002, 9002, 65535, 0, false, 0, 0},
    /* D. Loopback on the server between dual-stack sockets (v4-mapped
     *    endpoints: IPv4 on the wire), then an abortive close (SO_LINGER
     *    {1,0}: RST). */
    {60 * MS, 1, 1, T, "[::ffff:127.0.0.1]:40003", "[::ffff:127.0.0.1]:9000", SYN, 4000, 0, 65535, 0, true, 8000, 0},
    {60 * MS + 50000, 1, 1, T, "[::ffff:127.0.0.1]:9000", "[::ffff:127.0.0.1]:40003", SYN | ACK, 6000, 4001, 65535, 0, true, 8000, 8000},
    {60 * MS + 100000, 1, 1, T, "[::ffff:127.0.0.1]:40003", "[::ffff:127.0.0.1]:9000", ACK, 4001, 6001, 65535, 0, true, 8000, 8000},
    {70 * MS, 1, 1, T, "[::ffff:127.0.0.1]:40003", "[::ffff:127.0.0.1]:9000", RST | ACK, 4001, 6001, 65535, 0, false, 0, 0},
    /* E. UDP both ways, IPv4 and IPv6 (an empty datagram too). */
    {80 * MS, 0, 1, U, "192.0.2.1:50000", "192.0.2.2:50001", 0, 0, 0, 0, 64, false, 0, 0},
    {81 * MS, 1, 0, U, "[2001:db8::2]:50001", "[2001:db8::1]:50000", 0, 0, 0, 0, 0, false, 0, 0},
};
#define NDEMO (sizeof demo / sizeof demo[0])

/* Odd cases: nanosecond times, a destination no host owns, odd lengths,
 * every flag, oversize payloads (cut). */
static const row odd[] = {
    {1234567891ull, 0, NO, T, "192.0.2.1:1", "198.51.100.7:65535", SYN, 0xfffffffful, 0, 1, 0, false, 0, 0},
    {1234567892ull, 2, 3, T, "[::1]:65535", "[::1]:1", FIN | SYN | RST | PSH | ACK, 1, 0xdeadbeef, 0, 1, true, 0xffffffffu, 1},
    {4000000000000ull, 3, 2, U, "[2001:db8::2]:7", "[ff02::1]:7", 0, 0, 0, 0, 1, false, 0, 0},
    {4000000000001ull, 0, 1, U, "0.0.0.0:68", "255.255.255.255:67", 0, 0, 0, 0, 65507, false, 0, 0},
    {4000000000002ull, 0, 1, U, "192.0.2.1:9", "192.0.2.2:9", 0, 0, 0, 0, 65508, false, 0, 0},
    {4000000000003ull, 0, 1, U, "[2001:db8::1]:9", "[2001:db8::2]:9", 0, 0, 0, 0, 100000, false, 0, 0},
    {4000000000004ull, 0, 1, T, "192.0.2.1:9", "192.0.2.2:9", ACK, 5, 6, 7, 4000000000u, true, 1, 2},
};
#define NODD (sizeof odd / sizeof odd[0])

/* Fills *s from r; false if an endpoint does not parse.  (No ck_assert
 * here: --demo runs outside the Check runner.) */
static bool mkseg(const row *r, sm_segment *out)
{
    sm_segment s;
    memset(&s, 0, sizeof s);
    const char *why = NULL;
    if (!sm_endpoint_parse(r->src, strlen(r->src), &s.src, &why) ||
        !sm_endpoint_parse(r->dst, strlen(r->dst), &s.dst, &why)) {
        fprintf(stderr, "bad endpoint in row %s -> %s: %s\n", r->src, r->dst, why);
        return false;
    }
    s.time_ns = r->t;
    s.src_host = r->sh;
    s.dst_host = r->dh;
    s.proto = r->proto;
    s.flags = r->flags;
    s.seq = r->seq;
    s.ack = r->ack;
    s.window = r->win;
    s.len = r->len;
    s.has_ts = r->ts;
    s.tsval = r->tsval;
    s.tsecr = r->tsecr;
    *out = s;
    return true;
}

static int write_rows(const char *path, const row *rows, size_t n, uint64_t *capped)
{
    char err[256] = "";
    scn_pcap *p = scn_pcap_open(path, err, sizeof err);
    if (!p) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    /* Through a tap pointer, as sm_world_set_tap(w, scn_pcap_segment, p)
     * will call it (a compile error if the types ever part). */
    sm_tap_fn tap = scn_pcap_segment;
    for (size_t i = 0; i < n; i++) {
        sm_segment s;
        if (!mkseg(&rows[i], &s)) {
            scn_pcap_close(p, NULL, 0);
            return -1;
        }
        tap(p, &s);
    }
    if (scn_pcap_count(p) != n) {
        scn_pcap_close(p, NULL, 0);
        return -1;
    }
    if (capped)
        *capped = scn_pcap_capped(p);
    if (scn_pcap_close(p, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    return 0;
}

/* ---- an independent decoder ---------------------------------------------- */

static uint32_t g16(const unsigned char *p) { return (uint32_t)p[0] << 8 | p[1]; }
static uint32_t g32(const unsigned char *p) { return g16(p) << 16 | g16(p + 2); }

/* One's-complement sum folded to 16 bits (0xffff = the data checks). */
static uint32_t csum(uint32_t sum, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += g16(p + i);
    if (n % 2)
        sum += (uint32_t)p[n - 1] << 8;
    while (sum > 0xffff)
        sum = (sum & 0xffff) + (sum >> 16);
    return sum;
}

/* The address as the wire should carry it: v4 (4 bytes) if the address is
 * IPv4 or v4-mapped, else its 16 bytes. */
static size_t wire_addr(const sm_addr *a, unsigned char out[16])
{
    if (a->family == 4) {
        memcpy(out, a->b, 4);
        return 4;
    }
    static const unsigned char pre[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(a->b, pre, 12) == 0) {
        memcpy(out, a->b + 12, 4);
        return 4;
    }
    memcpy(out, a->b, 16);
    return 16;
}

static void check_mac(const unsigned char *m, sm_id host, const char *what, size_t i)
{
    uint32_t want = host == SM_NONE ? 0 : host + 1;
    ck_assert_msg(m[0] == 0x02 && m[1] == 0 && g32(m + 2) == want,
                  "frame %zu: %s MAC %02x:%02x:%02x:%02x:%02x:%02x for host %u", i,
                  what, m[0], m[1], m[2], m[3], m[4], m[5], (unsigned)host);
}

/* Decodes frame i and checks it against the segment it came from. */
static void check_frame(size_t i, const struct pcap_pkthdr *h, const unsigned char *f,
                        const sm_segment *s, bool nano)
{
    /* Timestamp. */
    uint64_t ns = (uint64_t)h->ts.tv_sec * 1000000000ull +
                  (uint64_t)h->ts.tv_usec * (nano ? 1u : 1000u);
    ck_assert_msg(ns == s->time_ns, "frame %zu: time %llu ns, want %llu", i,
                  (unsigned long long)ns, (unsigned long long)s->time_ns);
    ck_assert_uint_eq(h->caplen, h->len);
    ck_assert_uint_ge(h->caplen, 14);

    /* Ethernet. */
    check_mac(f, s->dst_host, "destination", i);
    check_mac(f + 6, s->src_host, "source", i);
    unsigned char sa[16], da[16];
    size_t al = wire_addr(&s->src.addr, sa);
    ck_assert_uint_eq(al, wire_addr(&s->dst.addr, da));
    bool v4 = al == 4;
    ck_assert_uint_eq(g16(f + 12), v4 ? 0x0800 : 0x86dd);

    /* IP. */
    const unsigned char *ip = f + 14;
    size_t iplen = h->caplen - 14, l4len;
    unsigned proto = s->proto == SM_TCP ? 6 : 17;
    uint32_t pseudo;
    if (v4) {
        ck_assert_uint_eq(ip[0], 0x45);
        ck_assert_uint_eq(ip[1], 0); /* TOS */
        ck_assert_uint_eq(g16(ip + 2), iplen);
        ck_assert_uint_eq(g16(ip + 6), 0x4000); /* DF, no fragment */
        ck_assert_uint_eq(ip[8], 64);
        ck_assert_uint_eq(ip[9], proto);
        ck_assert_msg(csum(0, ip, 20) == 0xffff, "frame %zu: IPv4 header checksum", i);
        ck_assert(memcmp(ip + 12, sa, 4) == 0 && memcmp(ip + 16, da, 4) == 0);
        l4len = iplen - 20;
        pseudo = csum(0, ip + 12, 8) + proto + (uint32_t)l4len;
    } else {
        ck_assert_uint_eq(g32(ip), 0x60000000u);
        ck_assert_uint_eq(g16(ip + 4), iplen - 40);
        ck_assert_uint_eq(ip[6], proto);
        ck_assert_uint_eq(ip[7], 64);
        ck_assert(memcmp(ip + 8, sa, 16) == 0 && memcmp(ip + 24, da, 16) == 0);
        l4len = iplen - 40;
        pseudo = csum(0, ip + 8, 32) + proto + (uint32_t)l4len;
    }
    const unsigned char *l4 = ip + (v4 ? 20 : 40);
    ck_assert_msg(csum(pseudo, l4, l4len) == 0xffff, "frame %zu: %s checksum", i,
                  proto == 6 ? "TCP" : "UDP");
    ck_assert_uint_eq(g16(l4), s->src.port);
    ck_assert_uint_eq(g16(l4 + 2), s->dst.port);

    /* The payload: all of it if it fits the IP length field, else cut. */
    size_t hl = proto == 6 ? (size_t)(l4[12] >> 4) * 4 : 8;
    size_t room = 65535 - hl - (v4 ? 20 : 0);
    size_t want = s->len < room ? s->len : room;
    ck_assert_msg(l4len - hl == want, "frame %zu: payload %zu, want %zu", i,
                  l4len - hl, want);
    for (size_t k = hl; k < l4len; k++)
        ck_assert_msg(l4[k] == 0, "frame %zu: payload byte %zu not zero", i, k - hl);

    if (proto == 17) {
        ck_assert_uint_eq(g16(l4 + 4), l4len);
        ck_assert_uint_ne(g16(l4 + 6), 0); /* 0 would mean "no checksum" */
        return;
    }

    /* TCP fields and options. */
    ck_assert_uint_eq(g32(l4 + 4), s->seq);
    ck_assert_uint_eq(g32(l4 + 8), s->ack);
    ck_assert_uint_eq(l4[12] & 0x0f, 0);
    ck_assert_uint_eq(l4[13], s->flags);
    ck_assert_uint_eq(g16(l4 + 14), s->window);
    ck_assert_uint_eq(g16(l4 + 18), 0); /* urgent pointer */
    bool mss = false, ts = false;
    uint32_t tsval = 0, tsecr = 0;
    for (size_t k = 20; k < hl;) {
        unsigned kind = l4[k];
        if (kind == 0)
            break;
        if (kind == 1) {
            k++;
            continue;
        }
        ck_assert_msg(k + 1 < hl && l4[k + 1] >= 2 && k + l4[k + 1] <= hl,
                      "frame %zu: bad option length", i);
        if (kind == 2) {
            ck_assert_uint_eq(l4[k + 1], 4);
            ck_assert_uint_eq(g16(l4 + k + 2), 1460);
            mss = true;
        } else if (kind == 8) {
            ck_assert_uint_eq(l4[k + 1], 10);
            ck_assert_msg(k % 4 == 2, "frame %zu: timestamps not 4-aligned after NOPs", i);
            tsval = g32(l4 + k + 2);
            tsecr = g32(l4 + k + 6);
            ts = true;
        } else {
            ck_abort_msg("frame %zu: unexpected option kind %u", i, kind);
        }
        k += l4[k + 1];
    }
    ck_assert_msg(mss == ((s->flags & SM_TH_SYN) != 0), "frame %zu: MSS option", i);
    ck_assert_msg(ts == s->has_ts, "frame %zu: timestamps option", i);
    if (ts) {
        ck_assert_uint_eq(tsval, s->tsval);
        ck_assert_uint_eq(tsecr, s->tsecr);
    }
    /* Options exactly as long as needed: MSS 4, NOP NOP TS 12. */
    ck_assert_uint_eq(hl, 20 + (mss ? 4u : 0u) + (ts ? 12u : 0u));
}

/* Reads PATH back and checks every frame against rows[]. */
static void check_file(const char *path, const row *rows, size_t n)
{
    char eb[PCAP_ERRBUF_SIZE];
    pcap_t *in = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, eb);
    ck_assert_msg(in != NULL, "%s", eb);
    ck_assert_int_eq(pcap_datalink(in), DLT_EN10MB);
    ck_assert_int_ge(pcap_snapshot(in), 65535 + 14 + 40);
    struct pcap_pkthdr *h;
    const u_char *data;
    size_t i = 0;
    int rc;
    while ((rc = pcap_next_ex(in, &h, &data)) == 1) {
        ck_assert_msg(i < n, "more frames than segments");
        sm_segment s;
        ck_assert(mkseg(&rows[i], &s));
        check_frame(i, h, data, &s, true);
        i++;
    }
    ck_assert_msg(rc == PCAP_ERROR_BREAK, "read error: %s", pcap_geterr(in));
    ck_assert_uint_eq(i, n);
    pcap_close(in);

    /* A reader asking for microseconds gets them scaled down: libpcap knows
     * the file holds nanoseconds (file_header checks the magic itself). */
    in = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_MICRO, eb);
    ck_assert_msg(in != NULL, "%s", eb);
    for (i = 0; (rc = pcap_next_ex(in, &h, &data)) == 1; i++) {
        sm_segment s;
        ck_assert(mkseg(&rows[i], &s));
        ck_assert_int_eq(h->ts.tv_sec, (long long)(s.time_ns / 1000000000u));
        ck_assert_int_eq(h->ts.tv_usec, (long long)(s.time_ns % 1000000000u / 1000u));
    }
    ck_assert_uint_eq(i, n);
    pcap_close(in);
}

static void tmpname(char *buf, size_t n)
{
    const char *dir = getenv("TMPDIR");
    snprintf(buf, n, "%s/check_pcap_out.XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(buf);
    ck_assert_msg(fd >= 0, "mkstemp %s", buf);
    close(fd);
}

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    ck_assert_ptr_nonnull(fp);
    ck_assert_int_eq(fseek(fp, 0, SEEK_END), 0);
    long sz = ftell(fp);
    ck_assert_int_ge(sz, 0);
    rewind(fp);
    unsigned char *b = malloc((size_t)sz + 1);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(fread(b, 1, (size_t)sz, fp), (size_t)sz);
    fclose(fp);
    *len = (size_t)sz;
    return b;
}

/* ---- tests ------------------------------------------------------------------ */

START_TEST(demo_roundtrip)
{
    char path[256];
    tmpname(path, sizeof path);
    uint64_t capped = 1;
    ck_assert_int_eq(write_rows(path, demo, NDEMO, &capped), 0);
    ck_assert_uint_eq(capped, 0);
    check_file(path, demo, NDEMO);
    unlink(path);
}
END_TEST

START_TEST(odd_roundtrip)
{
    char path[256];
    tmpname(path, sizeof path);
    uint64_t capped = 0;
    ck_assert_int_eq(write_rows(path, odd, NODD, &capped), 0);
    /* 65508-byte IPv4 UDP, 100000-byte IPv6 UDP, 4e9-byte TCP. */
    ck_assert_uint_eq(capped, 3);
    check_file(path, odd, NODD);
    unlink(path);
}
END_TEST

/* The file header: nanosecond magic, version 2.4, no zone, Ethernet. */
START_TEST(file_header)
{
    char path[256];
    tmpname(path, sizeof path);
    ck_assert_int_eq(write_rows(path, demo, 1, NULL), 0);
    size_t n;
    unsigned char *b = slurp(path, &n);
    ck_assert_uint_ge(n, 24);
    uint32_t w[6];
    uint16_t v[2];
    memcpy(w, b, 24);
    memcpy(v, b + 4, 4);
    ck_assert_uint_eq(w[0], 0xa1b23c4du); /* host byte order */
    ck_assert_uint_eq(v[0], 2);
    ck_assert_uint_eq(v[1], 4);
    ck_assert_uint_eq(w[2], 0); /* thiszone */
    ck_assert_uint_eq(w[3], 0); /* sigfigs */
    ck_assert_uint_eq(w[5], 1); /* LINKTYPE_ETHERNET */
    /* One record: 16-byte header, then SYN with MSS + timestamps:
     * 14 + 20 + 20 + 16. */
    ck_assert_uint_eq(n, 24 + 16 + 14 + 20 + 20 + 16);
    free(b);
    unlink(path);
}
END_TEST

/* Same segments, same bytes; IP ids count from 1 in each file. */
START_TEST(deterministic)
{
    char a[256], b[256];
    tmpname(a, sizeof a);
    tmpname(b, sizeof b);
    ck_assert_int_eq(write_rows(a, demo, NDEMO, NULL), 0);
    ck_assert_int_eq(write_rows(b, demo, NDEMO, NULL), 0);
    size_t na, nb;
    unsigned char *da = slurp(a, &na), *db = slurp(b, &nb);
    ck_assert_uint_eq(na, nb);
    ck_assert(memcmp(da, db, na) == 0);
    /* First frame: IPv4 id 1; second: 2. */
    ck_assert_uint_eq(g16(da + 24 + 16 + 14 + 4), 1);
    uint32_t incl;
    memcpy(&incl, da + 24 + 8, 4); /* record header, host byte order */
    size_t second = 24 + 16 + incl;
    ck_assert_uint_eq(g16(da + second + 16 + 14 + 4), 2);
    free(da);
    free(db);
    unlink(a);
    unlink(b);
}
END_TEST

START_TEST(unwritable_path)
{
    char err[256] = "";
    scn_pcap *p = scn_pcap_open("/nonexistent-dir/x/y.pcap", err, sizeof err);
    ck_assert_ptr_null(p);
    ck_assert_msg(strstr(err, "/nonexistent-dir/x/y.pcap") != NULL, "message: %s", err);
    /* No buffer: still NULL, no crash. */
    ck_assert_ptr_null(scn_pcap_open("/nonexistent-dir/x/y.pcap", NULL, 0));
    ck_assert_int_eq(scn_pcap_close(NULL, NULL, 0), 0);
}
END_TEST

/* A write error (ENOSPC on /dev/full) is reported at close. */
START_TEST(full_disk)
{
    if (access("/dev/full", W_OK) != 0)
        return; /* not Linux */
    char err[256] = "";
    scn_pcap *p = scn_pcap_open("/dev/full", err, sizeof err);
    ck_assert_msg(p != NULL, "%s", err);
    sm_segment s;
    ck_assert(mkseg(&demo[0], &s));
    for (int i = 0; i < 1000; i++)
        scn_pcap_segment(p, &s);
    ck_assert_int_eq(scn_pcap_close(p, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "/dev/full: write error") != NULL, "message: %s", err);
}
END_TEST

static Suite *pcap_suite(void)
{
    Suite *s = suite_create("pcap_out");
    TCase *t = tcase_create("writer");
    tcase_add_test(t, demo_roundtrip);
    tcase_add_test(t, odd_roundtrip);
    tcase_add_test(t, file_header);
    tcase_add_test(t, deterministic);
    tcase_add_test(t, unwritable_path);
    tcase_add_test(t, full_disk);
    suite_add_tcase(s, t);
    return s;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--demo") == 0)
        return write_rows(argv[2], demo, NDEMO, NULL) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
    if (argc != 1) {
        fprintf(stderr, "usage: %s [--demo FILE]\n", argv[0]);
        return 2;
    }
    SRunner *sr = srunner_create(pcap_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
