/*
 * mkcap.c - writes the small captures of tests/captures/: one TCP
 * connection (or a few) per file, each built here header by header, to
 * test one thing `sockmodel replay` must read: a link type, a tunnel or
 * encapsulation (enc-*: IPv4 and IPv6; enc4-*: IPv4 only), IPv4 fragments, IPv6 extension headers, broken clocks,
 * and damaged files (truncations, bad lengths, a bad link type, a pcapng
 * file with a second interface).  Deterministic: the same bytes every run
 * (tests/replay-captures.sh checks that the files in the tree are what
 * this program writes).  Well-formed pcap files are written through
 * libpcap (pcap_open_dead + pcap_dump); pcapng, which libpcap cannot
 * write, and the damage are written byte by byte.
 *
 *   mkcap DIR      writes every capture into DIR
 *   mkcap --mutate SEED IN OUT
 *                  writes a mutant of the capture IN to OUT, chosen by SEED
 *                  (scripts/replay-corpus.sh): SEED % 4 picks the kind -
 *                  0 cut at a random offset, 1 one to eight flipped bits,
 *                  2 a record's (pcap) or block's (pcapng) length field
 *                  set to 0, a small, a large or an off-by-some value,
 *                  3 a timestamp byte set to a random value (clocks that
 *                  jump); the rest of SEED picks where
 *
 * The connection (conv()): client SYN, server SYN+ACK, ACK, 100 bytes
 * from the client, the server's ACK, client FIN, server FIN+ACK, the last
 * ACK: 8 packets, Zeek SF, the client in TIME_WAIT.  Every checksum is
 * right (inner and outer), so --verify-checksums counts none bad.
 */
/* pcap.h uses the BSD types u_char, u_int, hidden by -std=c11 alone. */
#define _DEFAULT_SOURCE

#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- bytes ------------------------------------------------------------------- */

typedef struct buf {
    uint8_t b[4096];
    size_t n;
} buf;

static void put(buf *f, const void *p, size_t n)
{
    if (f->n + n > sizeof f->b) {
        fputs("mkcap: frame too long\n", stderr);
        exit(1);
    }
    memcpy(f->b + f->n, p, n);
    f->n += n;
}

static void u8(buf *f, unsigned v)
{
    uint8_t b = (uint8_t)v;
    put(f, &b, 1);
}

static void u16(buf *f, unsigned v)
{
    u8(f, v >> 8);
    u8(f, v);
}

static void u32(buf *f, uint32_t v)
{
    u16(f, v >> 16);
    u16(f, v & 0xffffu);
}

static void zeros(buf *f, size_t n)
{
    while (n--)
        u8(f, 0);
}

static void set16(buf *f, size_t at, unsigned v)
{
    f->b[at] = (uint8_t)(v >> 8);
    f->b[at + 1] = (uint8_t)v;
}

static uint32_t sum16(uint32_t s, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        s += (uint32_t)p[i] << 8 | p[i + 1];
    if (n & 1)
        s += (uint32_t)p[n - 1] << 8;
    return s;
}

static unsigned fold(uint32_t s)
{
    while (s >> 16)
        s = (s & 0xffffu) + (s >> 16);
    return ~s & 0xffffu;
}

/* ---- the inner datagram -------------------------------------------------------- */

typedef struct flow {
    bool v6;
    uint8_t c[16], s[16]; /* client, server (first 4 bytes for IPv4) */
    unsigned cport, sport;
} flow;

#define F_FIN 0x01u
#define F_SYN 0x02u
#define F_RST 0x04u
#define F_PSH 0x08u
#define F_ACK 0x10u

static const uint8_t MAC_A[6] = {2, 0, 0, 0, 0, 1}, MAC_B[6] = {2, 0, 0, 0, 0, 2};

/* TCP segment with pseudo-header checksum over src -> dst. */
static void tcp_seg(buf *o, bool v6, const uint8_t *src, const uint8_t *dst, unsigned sp,
                    unsigned dp, unsigned flags, uint32_t seq, uint32_t ack, size_t paylen)
{
    size_t at = o->n;
    u16(o, sp);
    u16(o, dp);
    u32(o, seq);
    u32(o, ack);
    bool syn = flags & F_SYN;
    u8(o, (syn ? 6u : 5u) << 4);
    u8(o, flags);
    u16(o, 65535);
    u16(o, 0); /* checksum */
    u16(o, 0);
    if (syn) { /* MSS 1460 */
        u8(o, 2);
        u8(o, 4);
        u16(o, 1460);
    }
    for (size_t i = 0; i < paylen; i++)
        u8(o, 'a' + (unsigned)(i % 26));
    size_t len = o->n - at;
    uint32_t s = sum16(0, src, v6 ? 16 : 4);
    s = sum16(s, dst, v6 ? 16 : 4);
    s += 6 + (uint32_t)len;
    s = sum16(s, o->b + at, len);
    set16(o, at + 16, fold(s));
}

static void ip4_hdr(buf *o, unsigned proto, const uint8_t *src, const uint8_t *dst,
                    size_t l4len, unsigned frag, unsigned id)
{
    size_t at = o->n;
    u8(o, 0x45);
    u8(o, 0);
    u16(o, (unsigned)(20 + l4len));
    u16(o, id);
    u16(o, frag);
    u8(o, 64);
    u8(o, proto);
    u16(o, 0);
    put(o, src, 4);
    put(o, dst, 4);
    set16(o, at + 10, fold(sum16(0, o->b + at, 20)));
}

static void ip6_hdr(buf *o, unsigned nh, const uint8_t *src, const uint8_t *dst, size_t plen)
{
    u32(o, 0x60000000u);
    u16(o, (unsigned)plen);
    u8(o, nh);
    u8(o, 64);
    put(o, src, 16);
    put(o, dst, 16);
}

/* An IP datagram (IPv4 or IPv6) carrying one TCP segment of the flow. */
static void ip_tcp(buf *o, const flow *fl, bool from_client, unsigned flags, uint32_t seq,
                   uint32_t ack, size_t paylen)
{
    const uint8_t *src = from_client ? fl->c : fl->s, *dst = from_client ? fl->s : fl->c;
    unsigned sp = from_client ? fl->cport : fl->sport, dp = from_client ? fl->sport : fl->cport;
    buf t = {.n = 0};
    tcp_seg(&t, fl->v6, src, dst, sp, dp, flags, seq, ack, paylen);
    if (fl->v6)
        ip6_hdr(o, 6, src, dst, t.n);
    else
        ip4_hdr(o, 6, src, dst, t.n, 0x4000, 1);
    put(o, t.b, t.n);
}

/* ---- capture files --------------------------------------------------------------- */

/* How each packet is framed: from the inner IP datagram to the record. */
typedef void (*frame_fn)(buf *rec, const buf *ip, bool v6);

typedef struct cap {
    pcap_t *dead;
    pcap_dumper_t *d;
    uint64_t ts_ns;
} cap;

static const char *outdir;

static char *path_of(const char *name)
{
    static char p[4096];
    snprintf(p, sizeof p, "%s/%s", outdir, name);
    return p;
}

static void cap_open(cap *c, const char *name, int dlt)
{
    c->dead = pcap_open_dead_with_tstamp_precision(dlt, 65535, PCAP_TSTAMP_PRECISION_NANO);
    c->d = c->dead ? pcap_dump_open(c->dead, path_of(name)) : NULL;
    if (!c->d) {
        fprintf(stderr, "mkcap: %s: %s\n", path_of(name), c->dead ? pcap_geterr(c->dead) : "?");
        exit(1);
    }
    c->ts_ns = 1700000000ull * 1000000000ull; /* 2023-11-14T22:13:20Z */
}

static void cap_rec(cap *c, const buf *rec)
{
    struct pcap_pkthdr h;
    memset(&h, 0, sizeof h);
    h.ts.tv_sec = (time_t)(c->ts_ns / 1000000000u);
    h.ts.tv_usec = (suseconds_t)(c->ts_ns % 1000000000u); /* ns: nano dumper */
    h.caplen = h.len = (bpf_u_int32)rec->n;
    pcap_dump((u_char *)c->d, &h, rec->b);
    c->ts_ns += 1000000; /* 1 ms apart */
}

static void cap_close(cap *c)
{
    pcap_dump_close(c->d);
    pcap_close(c->dead);
}

/* The 8 packets of one connection: who sends, flags, seq, ack, payload. */
typedef struct step {
    bool cl;
    unsigned flags;
    uint32_t seq, ack;
    size_t len;
} step;

#define NCONV 8
static const step CONV[NCONV] = {
    {true, F_SYN, 1000, 0, 0},           {false, F_SYN | F_ACK, 5000, 1001, 0},
    {true, F_ACK, 1001, 5001, 0},        {true, F_PSH | F_ACK, 1001, 5001, 100},
    {false, F_ACK, 5001, 1101, 0},       {true, F_FIN | F_ACK, 1101, 5001, 0},
    {false, F_FIN | F_ACK, 5001, 1102, 0}, {true, F_ACK, 1102, 5002, 0},
};

/* The 8 packets of one connection, each framed by fr. */
static void conv(cap *c, const flow *fl, frame_fn fr)
{
    const step *s = CONV;
    for (size_t i = 0; i < NCONV; i++) {
        buf ip = {.n = 0}, rec = {.n = 0};
        ip_tcp(&ip, fl, s[i].cl, s[i].flags, s[i].seq, s[i].ack, s[i].len);
        fr(&rec, &ip, fl->v6);
        cap_rec(c, &rec);
    }
}

static const flow FLOW4 = {false, {10, 1, 0, 1}, {10, 2, 0, 2}, 40001, 80};
static const flow FLOW6 = {true,
                           {0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
                           {0x20, 0x01, 0x0d, 0xb8, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2},
                           40002, 443};

/* One file: a v4 connection, then a v6 one, both framed by fr. */
static void simple(const char *name, int dlt, frame_fn fr)
{
    cap c;
    cap_open(&c, name, dlt);
    conv(&c, &FLOW4, fr);
    conv(&c, &FLOW6, fr);
    cap_close(&c);
}

/* One file: a v4 connection only (encapsulations that carry IPv4 only). */
static void simple4(const char *name, int dlt, frame_fn fr)
{
    cap c;
    cap_open(&c, name, dlt);
    conv(&c, &FLOW4, fr);
    cap_close(&c);
}

/* ---- framings ------------------------------------------------------------------- */

static void eth(buf *r, unsigned type)
{
    put(r, MAC_B, 6);
    put(r, MAC_A, 6);
    u16(r, type);
}

static unsigned ip_type(bool v6)
{
    return v6 ? 0x86ddu : 0x0800u;
}

static void fr_eth(buf *r, const buf *ip, bool v6)
{
    eth(r, ip_type(v6));
    put(r, ip->b, ip->n);
}

/* PPP in HDLC-like framing (DLT_PPP, DLT_PPP_SERIAL). */
static void fr_ppp(buf *r, const buf *ip, bool v6)
{
    u8(r, 0xff);
    u8(r, 0x03);
    u16(r, v6 ? 0x0057 : 0x0021);
    put(r, ip->b, ip->n);
}

/* PPP carrying MPLS (0x0281), then the datagram. */
static void fr_ppp_mpls(buf *r, const buf *ip, bool v6)
{
    (void)v6;
    u8(r, 0xff);
    u8(r, 0x03);
    u16(r, 0x0281);
    u32(r, 100656u << 12 | 1u << 8 | 64);
    put(r, ip->b, ip->n);
}

static void pppoe(buf *r, const buf *ip, bool v6)
{
    u8(r, 0x11);
    u8(r, 0x00);
    u16(r, 0x1234);
    u16(r, (unsigned)(ip->n + 2));
    u16(r, v6 ? 0x0057 : 0x0021);
    put(r, ip->b, ip->n);
}

static void fr_pppoe(buf *r, const buf *ip, bool v6)
{
    eth(r, 0x8864);
    pppoe(r, ip, v6);
}

static void fr_pppoe_qinq(buf *r, const buf *ip, bool v6)
{
    eth(r, 0x88a8);
    u16(r, 100);
    u16(r, 0x8100);
    u16(r, 200);
    u16(r, 0x8864);
    pppoe(r, ip, v6);
}

/* DLT_PPP_ETHER: the PPPoE header, no Ethernet. */
static void fr_ppp_ether(buf *r, const buf *ip, bool v6)
{
    pppoe(r, ip, v6);
}

static void mpls(buf *r, const buf *ip)
{
    u32(r, 16u << 12 | 64);             /* label 16, TTL 64 */
    u32(r, 17u << 12 | 1u << 8 | 64);   /* label 17, bottom of stack */
    put(r, ip->b, ip->n);
}

static void fr_mpls(buf *r, const buf *ip, bool v6)
{
    (void)v6;
    eth(r, 0x8847);
    mpls(r, ip);
}

static void fr_mpls_vlan(buf *r, const buf *ip, bool v6)
{
    (void)v6;
    eth(r, 0x8100);
    u16(r, 42);
    u16(r, 0x8847);
    mpls(r, ip);
}

/* An outer IPv4 datagram (tunnel endpoints 192.0.2.1 -> 192.0.2.2)
 * carrying body with protocol proto. */
static const uint8_t T4A[4] = {192, 0, 2, 1}, T4B[4] = {192, 0, 2, 2};
static const uint8_t T6A[16] = {0x20, 0x01, 0x0d, 0xb8, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
static const uint8_t T6B[16] = {0x20, 0x01, 0x0d, 0xb8, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};

static void outer4(buf *r, unsigned proto, const buf *body)
{
    eth(r, 0x0800);
    ip4_hdr(r, proto, T4A, T4B, body->n, 0x4000, 7);
    put(r, body->b, body->n);
}

static void outer6(buf *r, unsigned proto, const buf *body)
{
    eth(r, 0x86dd);
    ip6_hdr(r, proto, T6A, T6B, body->n);
    put(r, body->b, body->n);
}

static void fr_ipip4(buf *r, const buf *ip, bool v6)
{
    outer4(r, v6 ? 41 : 4, ip); /* 4in4, 6in4 */
}

static void fr_ipip6(buf *r, const buf *ip, bool v6)
{
    outer6(r, v6 ? 41 : 4, ip); /* 4in6, 6in6 */
}

/* GRE with a checksum, a key and a sequence number (every optional field). */
static void fr_gre(buf *r, const buf *ip, bool v6)
{
    buf g = {.n = 0};
    u16(&g, 0xb000); /* C, K, S */
    u16(&g, ip_type(v6));
    u16(&g, 0);
    u16(&g, 0);
    u32(&g, 0xdeadbeef);
    u32(&g, 1);
    put(&g, ip->b, ip->n);
    set16(&g, 4, fold(sum16(0, g.b, g.n)));
    outer4(r, 47, &g);
}

/* An inner Ethernet frame around the datagram. */
static void inner_eth(buf *b, const buf *ip, bool v6)
{
    put(b, MAC_A, 6);
    put(b, MAC_B, 6);
    u16(b, ip_type(v6));
    put(b, ip->b, ip->n);
}

/* GRE carrying Ethernet (transparent Ethernet bridging, 0x6558), over IPv6. */
static void fr_gre_eth6(buf *r, const buf *ip, bool v6)
{
    buf g = {.n = 0};
    u16(&g, 0x2000); /* K */
    u16(&g, 0x6558);
    u32(&g, 99);
    inner_eth(&g, ip, v6);
    outer6(r, 47, &g);
}

/* ERSPAN type I: GRE 0x88be without a sequence number, Ethernet right after. */
static void fr_erspan1(buf *r, const buf *ip, bool v6)
{
    buf g = {.n = 0};
    u16(&g, 0x0000);
    u16(&g, 0x88be);
    inner_eth(&g, ip, v6);
    outer4(r, 47, &g);
}

/* ERSPAN type II: GRE 0x88be with S, an 8-byte ERSPAN header. */
static void fr_erspan2(buf *r, const buf *ip, bool v6)
{
    buf g = {.n = 0};
    u16(&g, 0x1000);
    u16(&g, 0x88be);
    u32(&g, 5);
    u32(&g, 1u << 28 | 0x0155); /* version 1, session 0x155 */
    u32(&g, 0);
    inner_eth(&g, ip, v6);
    outer4(r, 47, &g);
}

/* ERSPAN type III: GRE 0x22eb, a 12-byte header and the 8-byte platform
 * subheader (O bit). */
static void fr_erspan3(buf *r, const buf *ip, bool v6)
{
    buf g = {.n = 0};
    u16(&g, 0x1000);
    u16(&g, 0x22eb);
    u32(&g, 6);
    u32(&g, 2u << 28 | 0x0155); /* version 2 */
    u32(&g, 12345);             /* timestamp */
    u16(&g, 0);                 /* SGT */
    u16(&g, 1);                 /* P, FT, Hw ID, D, Gra, O = 1 */
    u32(&g, 3u << 26);          /* platform subheader, type 3 */
    u32(&g, 0);
    inner_eth(&g, ip, v6);
    outer4(r, 47, &g);
}

/* UDP around body, from port sp to port dp, over outer IPv4. */
static void outer_udp4(buf *r, unsigned sp, unsigned dp, const buf *body)
{
    buf u = {.n = 0};
    u16(&u, sp);
    u16(&u, dp);
    u16(&u, (unsigned)(8 + body->n));
    u16(&u, 0); /* IPv4: no checksum */
    put(&u, body->b, body->n);
    outer4(r, 17, &u);
}

static void fr_vxlan(buf *r, const buf *ip, bool v6)
{
    buf x = {.n = 0};
    u32(&x, 0x08000000u); /* I: VNI valid */
    u32(&x, 5001u << 8);
    inner_eth(&x, ip, v6);
    outer_udp4(r, 51000, 4789, &x);
}

static void fr_geneve(buf *r, const buf *ip, bool v6)
{
    buf x = {.n = 0};
    u8(&x, 2);          /* version 0, option length 2 words */
    u8(&x, 0);
    u16(&x, 0x6558);    /* Ethernet */
    u32(&x, 77u << 8);  /* VNI */
    u16(&x, 0x0102);    /* option class */
    u8(&x, 0x03);       /* type */
    u8(&x, 1);          /* 1 word of data */
    u32(&x, 0xcafef00d);
    inner_eth(&x, ip, v6);
    outer_udp4(r, 52000, 6081, &x);
}

/* GTPv1-U G-PDU with the E flag: a sequence number, N-PDU number and one
 * extension header (PDU session container) before the IP datagram. */
static void fr_gtpu(buf *r, const buf *ip, bool v6)
{
    (void)v6;
    buf x = {.n = 0};
    u8(&x, 0x36);       /* version 1, PT, E, S */
    u8(&x, 0xff);       /* G-PDU */
    u16(&x, (unsigned)(4 + 4 + ip->n));
    u32(&x, 0x11223344); /* TEID */
    u16(&x, 7);         /* sequence */
    u8(&x, 0);          /* N-PDU */
    u8(&x, 0x85);       /* next extension: PDU session container */
    u8(&x, 1);          /* its length in 4-byte units */
    u8(&x, 0x10);
    u8(&x, 0x09);
    u8(&x, 0);          /* no next extension */
    put(&x, ip->b, ip->n);
    set16(&x, 2, (unsigned)(x.n - 8));
    outer_udp4(r, 2152, 2152, &x);
}

/* 802.1ah PBB: B-tag, I-tag, the customer's addresses and type. */
static void fr_pbb(buf *r, const buf *ip, bool v6)
{
    eth(r, 0x88a8);
    u16(r, 300);
    u16(r, 0x88e7);
    u32(r, 0x00012345); /* I-SID */
    inner_eth(r, ip, v6);
}

/* 802.3 length + LLC/SNAP (OUI 0, the Ethertype). */
static void fr_snap(buf *r, const buf *ip, bool v6)
{
    put(r, MAC_B, 6);
    put(r, MAC_A, 6);
    u16(r, (unsigned)(8 + ip->n));
    u8(r, 0xaa);
    u8(r, 0xaa);
    u8(r, 0x03);
    u8(r, 0);
    u8(r, 0);
    u8(r, 0);
    u16(r, ip_type(v6));
    put(r, ip->b, ip->n);
}

/* FDDI: frame control, addresses, LLC/SNAP. */
static void fr_fddi(buf *r, const buf *ip, bool v6)
{
    u8(r, 0x50);
    put(r, MAC_B, 6);
    put(r, MAC_A, 6);
    u8(r, 0xaa);
    u8(r, 0xaa);
    u8(r, 0x03);
    zeros(r, 3);
    u16(r, ip_type(v6));
    put(r, ip->b, ip->n);
}

/* IP over InfiniBand (LINKTYPE_IPOIB): the 4-byte RFC 4391 header. */
static void fr_ipoib(buf *r, const buf *ip, bool v6)
{
    u16(r, ip_type(v6));
    u16(r, 0);
    put(r, ip->b, ip->n);
}

/* The same after a 40-byte InfiniBand Global Route Header (what Wireshark
 * decodes in LINKTYPE_IPOIB). */
static void fr_ipoib_grh(buf *r, const buf *ip, bool v6)
{
    u32(r, 0x60000000u);
    u16(r, (unsigned)(ip->n + 4));
    u8(r, 0x1b);
    u8(r, 64);
    put(r, T6A, 16);
    put(r, T6B, 16);
    fr_ipoib(r, ip, v6);
}

/* Linux NFLOG: family, version, resource id, then TLVs (little-endian
 * length and type); the packet is in NFULA_PAYLOAD (9). */
static void fr_nflog(buf *r, const buf *ip, bool v6)
{
    u8(r, v6 ? 10 : 2);
    u8(r, 0);
    u16(r, 3);
    /* NFULA_PACKET_HDR (1): hw protocol, hook, pad */
    u8(r, 8), u8(r, 0), u8(r, 1), u8(r, 0);
    u16(r, ip_type(v6));
    u8(r, 1), u8(r, 0);
    /* NFULA_PREFIX (10): "x\0" padded */
    u8(r, 6), u8(r, 0), u8(r, 10), u8(r, 0);
    u8(r, 'x'), u8(r, 0), u8(r, 0), u8(r, 0);
    size_t len = 4 + ip->n;
    u8(r, (unsigned)(len & 0xff)), u8(r, (unsigned)(len >> 8)), u8(r, 9), u8(r, 0);
    put(r, ip->b, ip->n);
    while (r->n % 4)
        u8(r, 0);
}

static void fr_raw(buf *r, const buf *ip, bool v6)
{
    (void)v6;
    put(r, ip->b, ip->n);
}

/* Linux cooked v1 and v2. */
static void fr_sll(buf *r, const buf *ip, bool v6)
{
    u16(r, 0);
    u16(r, 1);
    u16(r, 6);
    put(r, MAC_A, 6);
    u16(r, 0);
    u16(r, ip_type(v6));
    put(r, ip->b, ip->n);
}

static void fr_sll2(buf *r, const buf *ip, bool v6)
{
    u16(r, ip_type(v6));
    u16(r, 0);
    u32(r, 2);
    u16(r, 1);
    u8(r, 0);
    u8(r, 6);
    put(r, MAC_A, 6);
    u16(r, 0);
    put(r, ip->b, ip->n);
}

/* ARCNET, Linux header (source, destination, offset, protocol): IPv4 as
 * RFC 1051 (240, the datagram right after), IPv6 as RFC 1201 (196, a split
 * flag and a sequence number first). */
static void fr_arcnet_linux(buf *r, const buf *ip, bool v6)
{
    u8(r, 0x50);
    u8(r, 0xbe);
    u16(r, 0);
    u8(r, v6 ? 196 : 240);
    if (v6) {
        u8(r, 0);
        u16(r, 7);
    }
    put(r, ip->b, ip->n);
}

/* ARCNET, BSD header (source, destination, protocol): RFC 1201 for both
 * (IP 212, IPv6 196); the IPv6 ones as exception packets (split flag 0xff,
 * padding, the header again). */
static void fr_arcnet_bsd(buf *r, const buf *ip, bool v6)
{
    u8(r, 0x50);
    u8(r, 0xbe);
    u8(r, v6 ? 196 : 212);
    if (v6) {
        u8(r, 0xff);
        u16(r, 0xffff);
        u8(r, 196);
    }
    u8(r, 0);
    u16(r, 9);
    put(r, ip->b, ip->n);
}

/* GRE (plain) around the datagram. */
static void gre_plain(buf *g, const buf *ip, bool v6)
{
    u16(g, 0);
    u16(g, ip_type(v6));
    put(g, ip->b, ip->n);
}

/* Aruba: GRE type 0x8200, an 802.11 QoS data frame (from the DS), the QoS
 * control (IPv6: the A-MSDU bit, one subframe), LLC/SNAP. */
static void fr_aruba(buf *r, const buf *ip, bool v6)
{
    buf g = {.n = 0};
    u16(&g, 0);
    u16(&g, 0x8200);
    u8(&g, 0x88); /* data, QoS data */
    u8(&g, 0x02); /* from the DS */
    u16(&g, 0);   /* duration */
    put(&g, MAC_A, 6);
    put(&g, MAC_B, 6);
    put(&g, MAC_B, 6);
    u16(&g, 0x10); /* sequence */
    u8(&g, v6 ? 0x80 : 0);
    u8(&g, 0);
    if (v6) { /* the subframe's header: destination, source, length */
        put(&g, MAC_A, 6);
        put(&g, MAC_B, 6);
        u16(&g, (unsigned)(8 + ip->n));
    }
    u8(&g, 0xaa);
    u8(&g, 0xaa);
    u8(&g, 0x03);
    zeros(&g, 3);
    u16(&g, ip_type(v6));
    put(&g, ip->b, ip->n);
    outer4(r, 47, &g);
}

/* One A-MSDU subframe: destination, source, length, the MSDU (body: LLC
 * first), padding to 4 bytes unless last. */
static void amsdu_subframe(buf *g, const buf *body, bool last)
{
    put(g, MAC_A, 6);
    put(g, MAC_B, 6);
    u16(g, (unsigned)body->n);
    put(g, body->b, body->n);
    if (!last)
        zeros(g, (4 - (14 + body->n) % 4) % 4);
}

static void snap_ip(buf *b, const buf *ip, bool v6)
{
    u8(b, 0xaa), u8(b, 0xaa), u8(b, 0x03);
    zeros(b, 3);
    u16(b, ip_type(v6));
    put(b, ip->b, ip->n);
}

/* Aruba A-MSDUs: each record an 802.11 QoS data frame whose A-MSDU holds
 * three subframes: a segment of the IPv4 connection, an STP frame (LLC
 * without SNAP: skipped), the same step of the IPv6 connection; the
 * subframes' lengths leave padding between them. */
static void amsdu_file(const char *name)
{
    cap c;
    cap_open(&c, name, DLT_EN10MB);
    const step *s = CONV;
    for (size_t i = 0; i < NCONV; i++) {
        buf ip4 = {.n = 0}, ip6 = {.n = 0}, b4 = {.n = 0}, b6 = {.n = 0}, stp = {.n = 0};
        ip_tcp(&ip4, &FLOW4, s[i].cl, s[i].flags, s[i].seq, s[i].ack, s[i].len);
        ip_tcp(&ip6, &FLOW6, s[i].cl, s[i].flags, s[i].seq, s[i].ack, s[i].len);
        snap_ip(&b4, &ip4, false);
        snap_ip(&b6, &ip6, true);
        u8(&stp, 0x42), u8(&stp, 0x42), u8(&stp, 0x03);
        zeros(&stp, 35);
        buf g = {.n = 0}, rec = {.n = 0};
        u16(&g, 0);
        u16(&g, 0x8200);
        u8(&g, 0x88); /* data, QoS data */
        u8(&g, 0x02); /* from the DS */
        u16(&g, 0);
        put(&g, MAC_A, 6);
        put(&g, MAC_B, 6);
        put(&g, MAC_B, 6);
        u16(&g, 0x10);
        u8(&g, 0x80); /* A-MSDU */
        u8(&g, 0);
        amsdu_subframe(&g, &b4, false);
        amsdu_subframe(&g, &stp, false);
        amsdu_subframe(&g, &b6, true);
        outer4(&rec, 47, &g);
        cap_rec(&c, &rec);
    }
    cap_close(&c);
}

/* Cisco WCCP redirection: GRE type 0x883e, the 4-byte WCCPv2 redirect
 * header before the IPv4 datagram (IPv4 only). */
static void fr_wccp(buf *r, const buf *ip, bool v6)
{
    (void)v6;
    buf g = {.n = 0};
    u16(&g, 0);
    u16(&g, 0x883e);
    u32(&g, 0x05590048u);
    put(&g, ip->b, ip->n);
    outer4(r, 47, &g);
}

/* GRE in UDP (RFC 8086), port 4754. */
static void fr_gre_udp(buf *r, const buf *ip, bool v6)
{
    buf g = {.n = 0};
    gre_plain(&g, ip, v6);
    outer_udp4(r, 41000, 4754, &g);
}

/* AYIYA (port 5072): identity of 2^4 bytes, a 20-byte signature, opcode
 * forward, the next header. */
static void fr_ayiya(buf *r, const buf *ip, bool v6)
{
    buf a = {.n = 0};
    u8(&a, 0x41);
    u8(&a, 0x52);
    u8(&a, 0x11);
    u8(&a, v6 ? 41 : 4);
    u32(&a, 1700000000u);
    put(&a, T6A, 16);
    zeros(&a, 20);
    put(&a, ip->b, ip->n);
    outer_udp4(r, 53859, 5072, &a);
}

/* Juniper Ethernet: "MGC", flags (no extensions), then Ethernet. */
static void fr_juniper_eth(buf *r, const buf *ip, bool v6)
{
    u8(r, 'M'), u8(r, 'G'), u8(r, 'C');
    u8(r, 0x01); /* direction: in; no extension TLVs */
    eth(r, ip_type(v6));
    put(r, ip->b, ip->n);
}

/* ---- IPv4 fragments, IPv6 extension headers -------------------------------------- */

/* The connection's data segment in three fragments (the TCP header whole
 * in the first); the other packets whole. */
static void frag_file(const char *name)
{
    cap c;
    cap_open(&c, name, DLT_EN10MB);
    const flow *fl = &FLOW4;
    const step *s = CONV;
    /* bytes of TCP per fragment (a multiple of 8), 0 = not fragmented:
     * the data segment (120 bytes) in three */
    static const size_t cut[NCONV] = {0, 0, 0, 56, 0, 0, 0, 0};
    for (size_t i = 0; i < NCONV; i++) {
        const uint8_t *src = s[i].cl ? fl->c : fl->s, *dst = s[i].cl ? fl->s : fl->c;
        unsigned sp = s[i].cl ? fl->cport : fl->sport, dp = s[i].cl ? fl->sport : fl->cport;
        buf t = {.n = 0};
        tcp_seg(&t, false, src, dst, sp, dp, s[i].flags, s[i].seq, s[i].ack, s[i].len);
        if (!cut[i]) {
            buf rec = {.n = 0};
            eth(&rec, 0x0800);
            ip4_hdr(&rec, 6, src, dst, t.n, 0x4000, (unsigned)(100 + i));
            put(&rec, t.b, t.n);
            cap_rec(&c, &rec);
            continue;
        }
        /* fragments of cut bytes (a multiple of 8), the last the rest */
        for (size_t off = 0; off < t.n; off += cut[i]) {
            size_t n = t.n - off < cut[i] ? t.n - off : cut[i];
            bool more = off + n < t.n;
            buf rec = {.n = 0}, part = {.n = 0};
            put(&part, t.b + off, n);
            eth(&rec, 0x0800);
            ip4_hdr(&rec, 6, src, dst, n, (more ? 0x2000u : 0) | (unsigned)(off / 8),
                    (unsigned)(100 + i));
            put(&rec, part.b, part.n);
            cap_rec(&c, &rec);
        }
    }
    cap_close(&c);
}

/* One record: Ethernet, an IPv4 header (id, MF, offset of bytes [off, off+n)
 * of the datagram's payload l4), those bytes. */
static void frag_rec(cap *c, const uint8_t *src, const uint8_t *dst, unsigned proto,
                     unsigned id, const buf *l4, size_t off, size_t n, bool more)
{
    buf rec = {.n = 0};
    eth(&rec, 0x0800);
    ip4_hdr(&rec, proto, src, dst, n, (more ? 0x2000u : 0) | (unsigned)(off / 8), id);
    put(&rec, l4->b + off, n);
    cap_rec(c, &rec);
}

/* Reassembly's cases, one connection each (the client's port tells which):
 * 40011: the SYN in two fragments, the first 8 bytes (less than a TCP
 *        header) arriving last; the data segment in three, one of them
 *        repeated exactly (ignored): 8 packets, SF;
 * 40012: the data segment's second fragment overlaps the first by 8
 *        bytes and says something else about them: the datagram is given
 *        up, the connection has 7; its SYN+ACK comes in two fragments
 *        that overlap by 8 bytes repeated as they are: reassembled;
 * 40013: UDP whose last fragment comes 31 s after the first: given up
 *        (30 s timeout), nothing delivered;
 * 40014: in GRE, the outer packet of the data segment in two fragments:
 *        8 packets, SF. */
static void frag_cases(const char *name)
{
    cap c;
    cap_open(&c, name, DLT_EN10MB);
    const step *s = CONV;
    for (unsigned k = 0; k < 2; k++) {
        flow fl = FLOW4;
        fl.cport = 40011 + k;
        for (size_t i = 0; i < NCONV; i++) {
            const uint8_t *src = s[i].cl ? fl.c : fl.s, *dst = s[i].cl ? fl.s : fl.c;
            unsigned sp = s[i].cl ? fl.cport : fl.sport, dp = s[i].cl ? fl.sport : fl.cport;
            unsigned id = 200 + 10 * k + (unsigned)i;
            buf t = {.n = 0};
            tcp_seg(&t, false, src, dst, sp, dp, s[i].flags, s[i].seq, s[i].ack, s[i].len);
            if (i == 0 && k == 0) { /* SYN: 24 bytes, [8, 24) then [0, 8) */
                frag_rec(&c, src, dst, 6, id, &t, 8, t.n - 8, false);
                frag_rec(&c, src, dst, 6, id, &t, 0, 8, true);
            } else if (i == 3 && k == 0) { /* data: 120 bytes, the middle twice */
                frag_rec(&c, src, dst, 6, id, &t, 0, 56, true);
                frag_rec(&c, src, dst, 6, id, &t, 56, 56, true);
                frag_rec(&c, src, dst, 6, id, &t, 56, 56, true);
                frag_rec(&c, src, dst, 6, id, &t, 112, t.n - 112, false);
            } else if (i == 3) { /* [0, 56), [48, 104) saying otherwise of [48, 56) */
                buf x = t;
                memset(x.b + 48, 'X', 8);
                frag_rec(&c, src, dst, 6, id, &t, 0, 56, true);
                frag_rec(&c, src, dst, 6, id, &x, 48, 56, true);
                frag_rec(&c, src, dst, 6, id, &t, 104, t.n - 104, false);
            } else if (i == 1 && k == 1) { /* SYN+ACK, 24 bytes: [0, 16), [8, 24) */
                frag_rec(&c, src, dst, 6, id, &t, 0, 16, true);
                frag_rec(&c, src, dst, 6, id, &t, 8, t.n - 8, false);
            } else {
                frag_rec(&c, src, dst, 6, id, &t, 0, t.n, false);
            }
        }
    }
    /* UDP, 48 bytes in two fragments 31 s apart */
    buf u = {.n = 0};
    u16(&u, 40013);
    u16(&u, 53);
    u16(&u, 48);
    u16(&u, 0);
    zeros(&u, 40);
    frag_rec(&c, FLOW4.c, FLOW4.s, 17, 300, &u, 0, 24, true);
    c.ts_ns += 31ull * 1000000000ull;
    frag_rec(&c, FLOW4.c, FLOW4.s, 17, 300, &u, 24, 24, false);
    /* GRE: the data segment's outer packet in two fragments */
    flow fl = FLOW4;
    fl.cport = 40014;
    for (size_t i = 0; i < NCONV; i++) {
        buf ip = {.n = 0}, g = {.n = 0};
        ip_tcp(&ip, &fl, s[i].cl, s[i].flags, s[i].seq, s[i].ack, s[i].len);
        u16(&g, 0);
        u16(&g, 0x0800);
        put(&g, ip.b, ip.n);
        unsigned id = 400 + (unsigned)i;
        if (i == 3) {
            frag_rec(&c, T4A, T4B, 47, id, &g, 0, 64, true);
            frag_rec(&c, T4A, T4B, 47, id, &g, 64, g.n - 64, false);
        } else {
            frag_rec(&c, T4A, T4B, 47, id, &g, 0, g.n, false);
        }
    }
    cap_close(&c);
}

/* ---- IPv6 fragments (RFC 8200 4.5) ---------------------------------------------- */

/* One record: Ethernet, an IPv6 header (with a Hop-by-Hop header before
 * the Fragment header when hbh: the unfragmentable part), a Fragment header
 * (id, offset of bytes [off, off+n) of l4, M), those bytes. */
static void frag6_rec(cap *c, const uint8_t *src, const uint8_t *dst, unsigned proto,
                      uint32_t id, const buf *l4, size_t off, size_t n, bool more, bool hbh)
{
    buf rec = {.n = 0};
    eth(&rec, 0x86dd);
    ip6_hdr(&rec, hbh ? 0 : 44, src, dst, (hbh ? 8 : 0) + 8 + n);
    if (hbh) { /* Hop-by-Hop: next header Fragment, PadN of 4 */
        u8(&rec, 44);
        u8(&rec, 0);
        u8(&rec, 1), u8(&rec, 4);
        u32(&rec, 0);
    }
    u8(&rec, proto);
    u8(&rec, 0);
    u16(&rec, (unsigned)off | (more ? 1u : 0));
    u32(&rec, id);
    put(&rec, l4->b + off, n);
    cap_rec(c, &rec);
}

/* IPv6 reassembly's cases, one connection each (the client's port tells
 * which), the same as IPv4's where they apply:
 * 40031: the SYN in two fragments, the first 8 bytes (less than a TCP
 *        header) arriving last, behind a Hop-by-Hop header (the
 *        unfragmentable part); the data segment in three, one of them
 *        repeated exactly (ignored): 8 packets, SF;
 * 40032: the data segment's second fragment overlaps the first by 8
 *        bytes and says something else about them: the datagram is given
 *        up, the connection has 7; its SYN+ACK comes in two fragments
 *        that overlap by 8 bytes repeated as they are: reassembled;
 * 40033: UDP whose last fragment comes 61 s after the first: given up
 *        (RFC 8200's 60 s), nothing delivered;
 * 40034: UDP whose last fragment comes 45 s after the first (more than
 *        IPv4's 30 s): reassembled, delivered;
 * 40035: every segment an atomic fragment (offset 0, M clear, RFC 6946):
 *        a whole packet each, 8 packets, SF;
 * 40036: in IPv4-in-IPv6, the outer packet of the data segment in two
 *        fragments: 8 packets, SF. */
static void frag6_cases(const char *name)
{
    cap c;
    cap_open(&c, name, DLT_EN10MB);
    const step *s = CONV;
    for (unsigned k = 0; k < 2; k++) {
        flow fl = FLOW6;
        fl.cport = 40031 + k;
        for (size_t i = 0; i < NCONV; i++) {
            const uint8_t *src = s[i].cl ? fl.c : fl.s, *dst = s[i].cl ? fl.s : fl.c;
            unsigned sp = s[i].cl ? fl.cport : fl.sport, dp = s[i].cl ? fl.sport : fl.cport;
            uint32_t id = 0x10000u + 10 * k + (uint32_t)i;
            buf t = {.n = 0};
            tcp_seg(&t, true, src, dst, sp, dp, s[i].flags, s[i].seq, s[i].ack, s[i].len);
            if (i == 0 && k == 0) { /* SYN: 24 bytes, [8, 24) then [0, 8) */
                frag6_rec(&c, src, dst, 6, id, &t, 8, t.n - 8, false, true);
                frag6_rec(&c, src, dst, 6, id, &t, 0, 8, true, true);
            } else if (i == 3 && k == 0) { /* data: 120 bytes, the middle twice */
                frag6_rec(&c, src, dst, 6, id, &t, 0, 56, true, false);
                frag6_rec(&c, src, dst, 6, id, &t, 56, 56, true, false);
                frag6_rec(&c, src, dst, 6, id, &t, 56, 56, true, false);
                frag6_rec(&c, src, dst, 6, id, &t, 112, t.n - 112, false, false);
            } else if (i == 3) { /* [0, 56), [48, 104) saying otherwise of [48, 56) */
                buf x = t;
                memset(x.b + 48, 'X', 8);
                frag6_rec(&c, src, dst, 6, id, &t, 0, 56, true, false);
                frag6_rec(&c, src, dst, 6, id, &x, 48, 56, true, false);
                frag6_rec(&c, src, dst, 6, id, &t, 104, t.n - 104, false, false);
            } else if (i == 1 && k == 1) { /* SYN+ACK, 24 bytes: [0, 16), [8, 24) */
                frag6_rec(&c, src, dst, 6, id, &t, 0, 16, true, false);
                frag6_rec(&c, src, dst, 6, id, &t, 8, t.n - 8, false, false);
            } else {
                buf ip = {.n = 0}, rec = {.n = 0};
                ip6_hdr(&ip, 6, src, dst, t.n);
                put(&ip, t.b, t.n);
                fr_eth(&rec, &ip, true);
                cap_rec(&c, &rec);
            }
        }
    }
    /* UDP, 48 bytes in two fragments 61 s apart, then 45 s apart */
    for (unsigned k = 0; k < 2; k++) {
        buf u = {.n = 0};
        u16(&u, 40033 + k);
        u16(&u, 53);
        u16(&u, 48);
        u16(&u, 0);
        zeros(&u, 40);
        uint32_t sum = sum16(0, FLOW6.c, 16);
        sum = sum16(sum, FLOW6.s, 16);
        sum += 17 + 48;
        set16(&u, 6, fold(sum16(sum, u.b, u.n)));
        frag6_rec(&c, FLOW6.c, FLOW6.s, 17, 0x20000u + k, &u, 0, 24, true, false);
        c.ts_ns += (k ? 45ull : 61ull) * 1000000000ull;
        frag6_rec(&c, FLOW6.c, FLOW6.s, 17, 0x20000u + k, &u, 24, 24, false, false);
    }
    /* atomic fragments */
    flow fl = FLOW6;
    fl.cport = 40035;
    for (size_t i = 0; i < NCONV; i++) {
        const uint8_t *src = s[i].cl ? fl.c : fl.s, *dst = s[i].cl ? fl.s : fl.c;
        unsigned sp = s[i].cl ? fl.cport : fl.sport, dp = s[i].cl ? fl.sport : fl.cport;
        buf t = {.n = 0};
        tcp_seg(&t, true, src, dst, sp, dp, s[i].flags, s[i].seq, s[i].ack, s[i].len);
        frag6_rec(&c, src, dst, 6, 0x30000u + (uint32_t)i, &t, 0, t.n, false, false);
    }
    /* IPv4 in IPv6: the data segment's outer packet in two fragments */
    flow f4 = FLOW4;
    f4.cport = 40036;
    for (size_t i = 0; i < NCONV; i++) {
        buf ip = {.n = 0};
        ip_tcp(&ip, &f4, s[i].cl, s[i].flags, s[i].seq, s[i].ack, s[i].len);
        uint32_t id = 0x40000u + (uint32_t)i;
        if (i == 3) {
            frag6_rec(&c, T6A, T6B, 4, id, &ip, 0, 64, true, false);
            frag6_rec(&c, T6A, T6B, 4, id, &ip, 64, ip.n - 64, false, false);
        } else {
            buf rec = {.n = 0};
            outer6(&rec, 4, &ip);
            cap_rec(&c, &rec);
        }
    }
    cap_close(&c);
}

/* ---- Teredo (RFC 4380), VN-Tag ------------------------------------------------------ */

/* Teredo: IPv6 in UDP from/to port 3544; the packets in turn carry no
 * indication, an origin indication (5.1.1: 0x0000, the obfuscated port
 * and address), an authentication indication (client id, authentication
 * value, nonce, confirmation) and both; after the connection a bubble
 * (an IPv6 header with no next header) with an origin indication. */
static void teredo_hdrs(buf *t, unsigned k)
{
    if (k & 2) { /* authentication: id length 4, value length 8 */
        u16(t, 0x0001);
        u8(t, 4);
        u8(t, 8);
        u32(t, 0x01020304u);
        zeros(t, 8);
        u32(t, 0xdeadbeefu), u32(t, 0x01234567u); /* nonce */
        u8(t, 0);                                  /* confirmation */
    }
    if (k & 1) { /* origin: port 40000, address 198.51.100.7, both inverted */
        u16(t, 0x0000);
        u16(t, 40000u ^ 0xffffu);
        u32(t, (198u << 24 | 51u << 16 | 100u << 8 | 7u) ^ 0xffffffffu);
    }
}

static void teredo_file(const char *name)
{
    cap c;
    cap_open(&c, name, DLT_EN10MB);
    const step *s = CONV;
    for (size_t i = 0; i < NCONV; i++) {
        buf ip = {.n = 0}, t = {.n = 0}, rec = {.n = 0};
        ip_tcp(&ip, &FLOW6, s[i].cl, s[i].flags, s[i].seq, s[i].ack, s[i].len);
        teredo_hdrs(&t, (unsigned)i % 4);
        put(&t, ip.b, ip.n);
        if (s[i].cl)
            outer_udp4(&rec, 51000, 3544, &t);
        else
            outer_udp4(&rec, 3544, 51000, &t);
        cap_rec(&c, &rec);
    }
    buf ip = {.n = 0}, t = {.n = 0}, rec = {.n = 0};
    ip6_hdr(&ip, 59, FLOW6.s, FLOW6.c, 0);
    teredo_hdrs(&t, 1);
    put(&t, ip.b, ip.n);
    outer_udp4(&rec, 3544, 51000, &t);
    cap_rec(&c, &rec);
    cap_close(&c);
}

/* VN-Tag (0x8926): direction/pointer, destination and source VIFs, then the
 * type; here inside a VLAN tag, as Zeek's vntag-in-vlan trace has it. */
static void fr_vntag(buf *r, const buf *ip, bool v6)
{
    eth(r, 0x8100);
    u16(r, 10);
    u16(r, 0x8926);
    u32(r, 0x80010002u);
    u16(r, ip_type(v6));
    put(r, ip->b, ip->n);
}

/* Steps of one connection over Ethernet. */
static void steps(cap *c, const flow *fl, const step *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        buf ip = {.n = 0}, rec = {.n = 0};
        ip_tcp(&ip, fl, s[i].cl, s[i].flags, s[i].seq, s[i].ack, s[i].len);
        fr_eth(&rec, &ip, fl->v6);
        cap_rec(c, &rec);
    }
}

/* Data reaching a side that closed (issue 23, Zeek's STARTTLS traces):
 * 40021: the server closes first; the client's data then reaches it in
 *        FIN_WAIT_2, the client's FIN follows, the server answers with a
 *        RST: it holds no TIME_WAIT (own_rst under every profile);
 * 40022: a normal close (the client in TIME_WAIT), then new data from the
 *        server past its FIN reaches the client's TIME_WAIT: each profile's
 *        rule (ack, rst, drop). */
static void tw_data_file(const char *name)
{
    static const step srv_first[] = {
        {true, F_SYN, 1000, 0, 0},           {false, F_SYN | F_ACK, 5000, 1001, 0},
        {true, F_ACK, 1001, 5001, 0},        {true, F_PSH | F_ACK, 1001, 5001, 100},
        {false, F_ACK, 5001, 1101, 0},       {false, F_FIN | F_ACK, 5001, 1101, 0},
        {true, F_ACK, 1101, 5002, 0},        {true, F_PSH | F_ACK, 1101, 5002, 31},
        {true, F_FIN | F_ACK, 1132, 5002, 0}, {false, F_RST, 5002, 0, 0},
    };
    static const step late_data[] = {{false, F_PSH | F_ACK, 5002, 1102, 10}};
    cap c;
    cap_open(&c, name, DLT_EN10MB);
    flow fl = FLOW4;
    fl.cport = 40021;
    steps(&c, &fl, srv_first, sizeof srv_first / sizeof srv_first[0]);
    fl.cport = 40022;
    steps(&c, &fl, CONV, NCONV);
    steps(&c, &fl, late_data, 1);
    cap_close(&c);
}

/* A SYN into TIME_WAIT answered by an ACK of the old connection, the
 * client's RST to that ACK, then the SYN again and a new connection: the
 * server closed first and holds the TIME_WAIT; the new SYN's sequence
 * number is below the entry's rcv_nxt (an old duplicate, for Linux: an
 * ACK); the RST carries rcv_nxt and reaches the TIME_WAIT (Linux: it ends
 * it, FreeBSD ignores it). */
static void tw_syn_rst_file(const char *name)
{
    static const step s[] = {
        {true, F_SYN, 1000, 0, 0},           {false, F_SYN | F_ACK, 5000, 1001, 0},
        {true, F_ACK, 1001, 5001, 0},        {false, F_FIN | F_ACK, 5001, 1001, 0},
        {true, F_ACK, 1001, 5002, 0},        {true, F_FIN | F_ACK, 1001, 5002, 0},
        {false, F_ACK, 5002, 1002, 0},       /* the server in TIME_WAIT */
        {true, F_SYN, 500, 0, 0},            {false, F_ACK, 5002, 1002, 0},
        {true, F_RST, 1002, 0, 0},           {true, F_SYN, 500, 0, 0},
        {false, F_SYN | F_ACK, 9000, 501, 0}, {true, F_ACK, 501, 9001, 0},
    };
    cap c;
    cap_open(&c, name, DLT_EN10MB);
    flow fl = FLOW4;
    fl.cport = 40041;
    steps(&c, &fl, s, sizeof s / sizeof s[0]);
    cap_close(&c);
}

/* One client, three connections open at once, each to its own server:
 * with a two-port range (tests/replay-captures.sh sets it), an OS that
 * shares a port across destinations has room, one that does not runs
 * out. */
static void ports_file(const char *name)
{
    cap c;
    cap_open(&c, name, DLT_EN10MB);
    for (unsigned k = 0; k < 3; k++) {
        flow fl = FLOW4;
        fl.cport = 40051 + k;
        fl.s[3] = (uint8_t)(1 + k);
        steps(&c, &fl, CONV, 3);
    }
    cap_close(&c);
}

/* TIME_WAIT lengths per connection and the collector's grid: a
 * connection to a remote host (192.0.2.9: 60 s), one to a host on the
 * client's /24 (10.1.0.2; NetBSD's tcp_msl_local: 10 s), then a
 * SYN 70 s later (another 4-tuple) that moves the clock past both; under
 * macOS each ends at the first run of tcp_gc() (every 10 s from when the
 * first entry armed it) after 30 s: the first lasts 30 s, the second, 8 ms
 * younger, waits for the run at 40 s. */
static void tw_len_file(const char *name)
{
    cap c;
    cap_open(&c, name, DLT_EN10MB);
    flow fl = FLOW4;
    fl.cport = 40031;
    memcpy(fl.s, (const uint8_t[]){192, 0, 2, 9}, 4);
    steps(&c, &fl, CONV, NCONV);
    fl.cport = 40032; /* begins later, ends first: before the other in the FIFO */
    memcpy(fl.s, (const uint8_t[]){10, 1, 0, 2}, 4);
    steps(&c, &fl, CONV, NCONV);
    c.ts_ns += 70ull * 1000000000ull;
    fl.cport = 40033;
    steps(&c, &fl, CONV, 1);
    cap_close(&c);
}

/* IPv6 with Mobile IPv6: the mobile node (care-of address in the header)
 * sends with a Home Address destination option; the correspondent
 * answers to the care-of address with a type 2 routing header carrying
 * the home address.  A second connection goes through a type 0 routing
 * header (via an intermediate node, to the final destination).  The
 * checksums use the home address and the final destination. */
static const uint8_t HOME[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0x0a, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10};
static const uint8_t COA[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10};
static const uint8_t CN[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0x0b, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x20};
static const uint8_t MID[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0x0d, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x30};

static void ip6_mobile(const char *name)
{
    cap c;
    cap_open(&c, name, DLT_EN10MB);
    const step *s = CONV;
    /* Mobile IPv6: client HOME (at COA) <-> CN port 80 */
    for (size_t i = 0; i < NCONV; i++) {
        buf t = {.n = 0}, e = {.n = 0}, rec = {.n = 0};
        if (s[i].cl) {
            tcp_seg(&t, true, HOME, CN, 41000, 80, s[i].flags, s[i].seq, s[i].ack, s[i].len);
            /* Destination Options: PadN(2), Home Address (type 0xc9, 16) */
            u8(&e, 6);
            u8(&e, 2);
            u8(&e, 1), u8(&e, 2), u8(&e, 0), u8(&e, 0);
            u8(&e, 0xc9), u8(&e, 16);
            put(&e, HOME, 16);
            eth(&rec, 0x86dd);
            ip6_hdr(&rec, 60, COA, CN, e.n + t.n);
        } else {
            tcp_seg(&t, true, CN, HOME, 80, 41000, s[i].flags, s[i].seq, s[i].ack, s[i].len);
            /* Routing header type 2, segments left 1, the home address */
            u8(&e, 6);
            u8(&e, 2);
            u8(&e, 2);
            u8(&e, 1);
            u32(&e, 0);
            put(&e, HOME, 16);
            eth(&rec, 0x86dd);
            ip6_hdr(&rec, 43, CN, COA, e.n + t.n);
        }
        put(&rec, e.b, e.n);
        put(&rec, t.b, t.n);
        cap_rec(&c, &rec);
    }
    /* type 0 routing header: COA -> (via MID) -> CN port 443, both ways */
    for (size_t i = 0; i < NCONV; i++) {
        buf t = {.n = 0}, e = {.n = 0}, rec = {.n = 0};
        const uint8_t *src = s[i].cl ? COA : CN, *fin = s[i].cl ? CN : COA;
        tcp_seg(&t, true, src, fin, s[i].cl ? 41001 : 443, s[i].cl ? 443 : 41001, s[i].flags,
                s[i].seq, s[i].ack, s[i].len);
        u8(&e, 6);
        u8(&e, 2);
        u8(&e, 0);
        u8(&e, 1);
        u32(&e, 0);
        put(&e, fin, 16);
        eth(&rec, 0x86dd);
        ip6_hdr(&rec, 43, src, MID, e.n + t.n);
        put(&rec, e.b, e.n);
        put(&rec, t.b, t.n);
        cap_rec(&c, &rec);
    }
    cap_close(&c);
}

/* ---- clocks ------------------------------------------------------------------------ */

static void le16w(buf *f, unsigned v)
{
    u8(f, v & 0xff);
    u8(f, v >> 8);
}

static void le32w(buf *f, uint32_t v)
{
    le16w(f, v & 0xffffu);
    le16w(f, v >> 16);
}

/* pcapng: a section header, interface blocks of link type dlt (tsresol
 * microseconds, the default), then enhanced packet blocks. */
typedef struct ng {
    FILE *f;
} ng;

static void ng_write(ng *g, const buf *b)
{
    if (fwrite(b->b, 1, b->n, g->f) != b->n) {
        perror("mkcap");
        exit(1);
    }
}

static void ng_open(ng *g, const char *name)
{
    g->f = fopen(path_of(name), "wb");
    if (!g->f) {
        perror(path_of(name));
        exit(1);
    }
    buf b = {.n = 0};
    le32w(&b, 0x0a0d0d0a);
    le32w(&b, 28);
    le32w(&b, 0x1a2b3c4d);
    le16w(&b, 1);
    le16w(&b, 0);
    le32w(&b, 0xffffffffu);
    le32w(&b, 0xffffffffu);
    le32w(&b, 28);
    ng_write(g, &b);
}

/* An interface description block: link type, snapshot length (0: none). */
static void ng_idb_snap(ng *g, unsigned dlt, uint32_t snaplen)
{
    buf b = {.n = 0};
    le32w(&b, 1);
    le32w(&b, 20);
    le16w(&b, dlt);
    le16w(&b, 0);
    le32w(&b, snaplen);
    le32w(&b, 20);
    ng_write(g, &b);
}

static void ng_idb(ng *g, unsigned dlt)
{
    ng_idb_snap(g, dlt, 0);
}

static void ng_epb(ng *g, uint64_t ts_us, const buf *rec)
{
    buf b = {.n = 0};
    size_t pad = (4 - rec->n % 4) % 4;
    uint32_t len = (uint32_t)(32 + rec->n + pad);
    le32w(&b, 6);
    le32w(&b, len);
    le32w(&b, 0);
    le32w(&b, (uint32_t)(ts_us >> 32));
    le32w(&b, (uint32_t)ts_us);
    le32w(&b, (uint32_t)rec->n);
    le32w(&b, (uint32_t)rec->n);
    put(&b, rec->b, rec->n);
    zeros(&b, pad);
    le32w(&b, len);
    ng_write(g, &b);
}

/* One connection in pcapng with the timestamps ts_us[0..7] (microseconds). */
static void ng_conv(const char *name, const uint64_t *ts_us)
{
    ng g;
    ng_open(&g, name);
    ng_idb(&g, DLT_EN10MB);
    /* the packets of conv(), framed in Ethernet */
    const step *s = CONV;
    for (size_t i = 0; i < NCONV; i++) {
        buf ip = {.n = 0}, rec = {.n = 0};
        ip_tcp(&ip, &FLOW4, s[i].cl, s[i].flags, s[i].seq, s[i].ack, s[i].len);
        fr_eth(&rec, &ip, false);
        ng_epb(&g, ts_us[i], &rec);
    }
    fclose(g.f);
}

static void clocks(void)
{
    const uint64_t base = 1700000000ull * 1000000u;
    /* the hang of issue 22: records in the year ~2554 and beyond 2^64 ns */
    uint64_t beyond[8] = {base,
                          base + 1000,
                          18446744073709551ull, /* 2^64 ns, in us */
                          base + 3000,
                          UINT64_MAX / 2,
                          base + 5000,
                          18446744073709550ull,
                          18446744073709552ull};
    ng_conv("ts-beyond-2e64.pcapng", beyond);
    /* every record beyond 2^64 ns, from the first on */
    uint64_t all_beyond[8];
    for (int i = 0; i < 8; i++)
        all_beyond[i] = 18446744073709552ull + (uint64_t)i * 1000;
    ng_conv("ts-all-beyond.pcapng", all_beyond);
    /* a flipped byte: one record 2^40 us (12.7 days) ahead would be
     * followed; one 2^50 us (35 years) ahead is a jump, and so is the
     * record after it (back by 35 years); then the clock goes back a
     * little (reported, waited for) */
    uint64_t flip[8] = {base,           base + 1000,        base + 2000 + (1ull << 50),
                        base + 3000,    base + 2500,        base + 5000,
                        base + 6000,    base + 7000};
    ng_conv("ts-jump.pcapng", flip);
}

/* ---- damaged files ----------------------------------------------------------------- */

static void write_bytes(const char *name, const uint8_t *b, size_t n)
{
    FILE *f = fopen(path_of(name), "wb");
    if (!f || fwrite(b, 1, n, f) != n || fclose(f) != 0) {
        perror(path_of(name));
        exit(1);
    }
}

static uint8_t *read_file(const char *name, size_t *n)
{
    FILE *f = fopen(path_of(name), "rb");
    static uint8_t b[1 << 16];
    if (!f) {
        perror(path_of(name));
        exit(1);
    }
    *n = fread(b, 1, sizeof b, f);
    fclose(f);
    return b;
}

static void damaged(void)
{
    /* the good Ethernet capture (16 records) damaged */
    size_t n;
    uint8_t *b = read_file("enc-eth.pcap", &n);
    static uint8_t d[1 << 16];
    /* record offsets: 24-byte file header, then 16-byte record headers */
    size_t off[32], nrec = 0;
    for (size_t o = 24; o + 16 <= n && nrec < 32; nrec++) {
        off[nrec] = o;
        uint32_t cl = (uint32_t)b[o + 8] | (uint32_t)b[o + 9] << 8 |
                      (uint32_t)b[o + 10] << 16 | (uint32_t)b[o + 11] << 24;
        o += 16 + cl;
    }
    /* cut inside the 5th record's data (a warning: the file ends there) */
    write_bytes("bad-cut-in-record.pcap", b, off[4] + 16 + 20);
    /* cut inside the 5th record's header */
    write_bytes("bad-cut-in-header.pcap", b, off[4] + 7);
    /* only part of the file header */
    write_bytes("bad-cut-file-header.pcap", b, 13);
    /* the 3rd record's captured length 300 000: larger than the snaplen,
     * an error (libpcap refuses the record) */
    memcpy(d, b, n);
    d[off[2] + 8] = 0xe0, d[off[2] + 9] = 0x93, d[off[2] + 10] = 0x04, d[off[2] + 11] = 0;
    write_bytes("bad-caplen.pcap", d, n);
    /* the 4th record's captured length larger than its original length,
     * and the 6th's IPv4 total length 9000 and the 7th's TCP data offset 15 */
    memcpy(d, b, n);
    d[off[3] + 12] = 10, d[off[3] + 13] = 0, d[off[3] + 14] = 0, d[off[3] + 15] = 0;
    d[off[5] + 16 + 14 + 2] = 0x23, d[off[5] + 16 + 14 + 3] = 0x28;
    d[off[6] + 16 + 14 + 20 + 12] = 0xf0;
    write_bytes("bad-lengths.pcap", d, n);
    /* link type 147 (a user DLT: nothing the reader decodes) */
    memcpy(d, b, n);
    d[20] = 147, d[21] = 0, d[22] = 0, d[23] = 0;
    write_bytes("bad-linktype.pcap", d, n);
    /* a bad magic number */
    memcpy(d, b, n);
    d[0] ^= 0x55;
    write_bytes("bad-magic.pcap", d, n);
    /* pcapng: a second interface block of another link type, after the
     * first packet; and before any packet */
    for (int early = 0; early < 2; early++) {
        ng g;
        ng_open(&g, early ? "bad-second-idb-first.pcapng" : "bad-second-idb.pcapng");
        ng_idb(&g, DLT_EN10MB);
        if (early)
            ng_idb(&g, DLT_RAW);
        buf ip = {.n = 0}, rec = {.n = 0};
        ip_tcp(&ip, &FLOW4, true, F_SYN, 1000, 0, 0);
        fr_eth(&rec, &ip, false);
        ng_epb(&g, 1700000000ull * 1000000u, &rec);
        if (!early)
            ng_idb(&g, DLT_RAW);
        ng_epb(&g, 1700000000ull * 1000000u + 10, &rec);
        fclose(g.f);
    }
    /* pcapng: a second interface of the same link type with another
     * snapshot length, before any packet (as Zeek's ldap traces have it):
     * libpcap refuses the file */
    {
        ng g;
        ng_open(&g, "bad-second-snaplen.pcapng");
        ng_idb_snap(&g, DLT_EN10MB, 262144);
        ng_idb_snap(&g, DLT_EN10MB, 8192);
        buf ip = {.n = 0}, rec = {.n = 0};
        ip_tcp(&ip, &FLOW4, true, F_SYN, 1000, 0, 0);
        fr_eth(&rec, &ip, false);
        ng_epb(&g, 1700000000ull * 1000000u, &rec);
        fclose(g.f);
    }
    /* pcapng cut inside the second block */
    {
        ng g;
        ng_open(&g, "bad-ng-cut.pcapng");
        ng_idb(&g, DLT_EN10MB);
        buf ip = {.n = 0}, rec = {.n = 0};
        ip_tcp(&ip, &FLOW4, true, F_SYN, 1000, 0, 0);
        fr_eth(&rec, &ip, false);
        ng_epb(&g, 1700000000ull * 1000000u, &rec);
        ng_epb(&g, 1700000000ull * 1000000u + 10, &rec);
        fclose(g.f);
        uint8_t *nb = read_file("bad-ng-cut.pcapng", &n);
        write_bytes("bad-ng-cut.pcapng", nb, n - 30);
    }
    /* pcapng: a block length smaller than a block (a damaged file) after
     * two good packets */
    {
        ng g;
        ng_open(&g, "bad-ng-blocklen.pcapng");
        ng_idb(&g, DLT_EN10MB);
        buf ip = {.n = 0}, rec = {.n = 0};
        ip_tcp(&ip, &FLOW4, true, F_SYN, 1000, 0, 0);
        fr_eth(&rec, &ip, false);
        for (int i = 0; i < 3; i++)
            ng_epb(&g, 1700000000ull * 1000000u + (uint64_t)i, &rec);
        fclose(g.f);
        uint8_t *nb = read_file("bad-ng-blocklen.pcapng", &n);
        size_t third = 28 + 20 + 2 * (32 + ((rec.n + 3) & ~(size_t)3));
        nb[third + 4] = 8, nb[third + 5] = 0, nb[third + 6] = 0, nb[third + 7] = 0;
        write_bytes("bad-ng-blocklen.pcapng", nb, n);
    }
}

/* ---- mutants ------------------------------------------------------------------------- */

static uint64_t rng;

static uint64_t rnd(void)
{
    uint64_t z = (rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t below(uint64_t n)
{
    return n ? rnd() % n : 0;
}

static uint32_t rd32(const uint8_t *p, bool swap)
{
    return swap ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]
                : (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/* The offsets of the records' (pcap) or blocks' (pcapng) headers. */
static size_t headers(const uint8_t *b, size_t n, size_t *off, size_t max, bool *is_ng)
{
    size_t k = 0;
    if (n < 24)
        return 0;
    uint32_t magic = rd32(b, false);
    *is_ng = magic == 0x0a0d0d0au;
    bool swap = magic == 0xd4c3b2a1u || magic == 0x4d3cb2a1u; /* written big-endian */
    if (*is_ng) {
        swap = rd32(b + 8, false) != 0x1a2b3c4du;
        for (size_t o = 0; o + 12 <= n && k < max;) {
            off[k++] = o;
            uint32_t len = rd32(b + o + 4, swap);
            if (len < 12)
                break;
            o += len;
        }
    } else {
        for (size_t o = 24; o + 16 <= n && k < max;) {
            off[k++] = o;
            o += 16 + (size_t)rd32(b + o + 8, swap);
        }
    }
    return k;
}

static int mutate(uint64_t seed, const char *in, const char *out)
{
    FILE *f = fopen(in, "rb");
    if (!f) {
        perror(in);
        return 1;
    }
    size_t bcap = 1 << 20, n = 0;
    uint8_t *b = malloc(bcap);
    for (size_t got; b && (got = fread(b + n, 1, bcap - n, f)) > 0;) {
        n += got;
        if (n == bcap) {
            uint8_t *nb = realloc(b, bcap *= 2);
            if (!nb) {
                free(b);
                b = NULL;
            }
            b = nb;
        }
    }
    fclose(f);
    if (!b) {
        fputs("mkcap: out of memory\n", stderr);
        return 1;
    }
    rng = seed;
    static size_t off[4096];
    bool is_ng = false;
    size_t nh = headers(b, n, off, sizeof off / sizeof off[0], &is_ng);
    switch (seed % 4) {
    case 0: /* cut */
        n = n ? (size_t)below(n) : 0;
        break;
    case 1: /* flipped bits */
        for (uint64_t k = 1 + below(8); n && k > 0; k--) {
            uint64_t bit = below((uint64_t)n * 8);
            b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        }
        break;
    case 2: /* a length field */
        if (nh) {
            size_t h = off[below(nh)];
            /* pcap: caplen at +8 or len at +12; pcapng: the block length
             * at +4, or (EPB) the captured length at +20 */
            size_t at = is_ng ? (below(2) ? h + 4 : h + 20) : (below(2) ? h + 8 : h + 12);
            static const uint32_t vals[] = {0, 1, 7, 13, 0xffff, 0x40000, 0x7fffffff,
                                            0xffffffffu};
            if (at + 4 <= n) {
                uint32_t v = below(2) ? vals[below(8)]
                                      : rd32(b + at, false) + (uint32_t)below(64) - 32;
                memcpy(b + at, &v, 4);
            }
        }
        break;
    default: /* a timestamp byte */
        if (nh) {
            size_t h = off[below(nh)];
            size_t at = is_ng ? h + 12 + below(8) : h + below(8);
            if (at < n)
                b[at] = (uint8_t)rnd();
        }
        break;
    }
    f = fopen(out, "wb");
    if (!f || fwrite(b, 1, n, f) != n || fclose(f) != 0) {
        perror(out);
        free(b);
        return 1;
    }
    free(b);
    return 0;
}

/* ---- main -------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "--mutate") == 0)
        return mutate(strtoull(argv[2], NULL, 10), argv[3], argv[4]);
    if (argc != 2) {
        fputs("usage: mkcap DIR\n       mkcap --mutate SEED IN OUT\n", stderr);
        return 2;
    }
    outdir = argv[1];
    clocks();
    simple("enc-eth.pcap", DLT_EN10MB, fr_eth);
    damaged();
    simple("enc-ppp.pcap", DLT_PPP, fr_ppp);
    simple("enc-ppp-serial.pcap", DLT_PPP_SERIAL, fr_ppp);
    simple("enc-ppp-mpls.pcap", DLT_PPP, fr_ppp_mpls);
    simple("enc-ppp-ether.pcap", DLT_PPP_ETHER, fr_ppp_ether);
    simple("enc-pppoe.pcap", DLT_EN10MB, fr_pppoe);
    simple("enc-pppoe-qinq.pcap", DLT_EN10MB, fr_pppoe_qinq);
    simple("enc-mpls.pcap", DLT_EN10MB, fr_mpls);
    simple("enc-mpls-vlan.pcap", DLT_EN10MB, fr_mpls_vlan);
    simple("enc-gre.pcap", DLT_EN10MB, fr_gre);
    simple("enc-gre-eth6.pcap", DLT_EN10MB, fr_gre_eth6);
    simple("enc-erspan1.pcap", DLT_EN10MB, fr_erspan1);
    simple("enc-erspan2.pcap", DLT_EN10MB, fr_erspan2);
    simple("enc-erspan3.pcap", DLT_EN10MB, fr_erspan3);
    simple("enc-vxlan.pcap", DLT_EN10MB, fr_vxlan);
    simple("enc-geneve.pcap", DLT_EN10MB, fr_geneve);
    simple("enc-gtpu.pcap", DLT_EN10MB, fr_gtpu);
    simple("enc-ipip4.pcap", DLT_EN10MB, fr_ipip4);
    simple("enc-ipip6.pcap", DLT_EN10MB, fr_ipip6);
    simple("enc-pbb.pcap", DLT_EN10MB, fr_pbb);
    simple("enc-snap.pcap", DLT_EN10MB, fr_snap);
    simple("enc-fddi.pcap", DLT_FDDI, fr_fddi);
    simple("enc-ipoib.pcap", 242 /* LINKTYPE_IPOIB */, fr_ipoib);
    simple("enc-ipoib-grh.pcap", 242, fr_ipoib_grh);
    simple("enc-nflog.pcap", 239 /* LINKTYPE_NFLOG */, fr_nflog);
    simple("enc-raw.pcap", DLT_RAW, fr_raw);
    simple("enc-sll.pcap", DLT_LINUX_SLL, fr_sll);
    simple("enc-sll2.pcap", 276 /* LINKTYPE_LINUX_SLL2 */, fr_sll2);
    simple("enc-juniper-eth.pcap", 178 /* LINKTYPE_JUNIPER_ETHER */, fr_juniper_eth);
    simple("enc-arcnet-linux.pcap", 129 /* LINKTYPE_ARCNET_LINUX */, fr_arcnet_linux);
    simple("enc-arcnet-bsd.pcap", 7 /* LINKTYPE_ARCNET_BSD */, fr_arcnet_bsd);
    simple("enc-aruba.pcap", DLT_EN10MB, fr_aruba);
    simple("enc-gre-udp.pcap", DLT_EN10MB, fr_gre_udp);
    simple("enc-ayiya.pcap", DLT_EN10MB, fr_ayiya);
    simple("enc-vntag.pcap", DLT_EN10MB, fr_vntag);
    simple4("enc4-wccp.pcap", DLT_EN10MB, fr_wccp);
    frag_file("frag4.pcap");
    frag_cases("frag4-cases.pcap");
    frag6_cases("frag6-cases.pcap");
    teredo_file("enc6-teredo.pcap");
    amsdu_file("amsdu.pcap");
    tw_data_file("tw-data.pcap");
    tw_len_file("tw-lengths.pcap");
    tw_syn_rst_file("tw-syn-rst.pcap");
    ports_file("ports-shared.pcap");
    ip6_mobile("ip6-mobile.pcap");
    return 0;
}
