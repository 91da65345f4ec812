/*
 * gen_capture.c - writes large synthetic captures for the replay
 * benchmarks and tests: deterministic (same arguments, same bytes),
 * streaming (memory bounded by the number of concurrent connections, not
 * by the packet count), through libpcap (pcap_open_dead + pcap_dump).
 *
 *   gen_capture --packets N --out FILE [--seed S] [--clients C]
 *               [--servers K] [--ports P] [--concurrent M] [--v6 PERCENT]
 *               [--gap US] [--no-mix]
 *   gen_capture --short N --out FILE [--frame BYTES] [options above]
 *
 * The traffic: C clients (10.x.y.z, and 2001:db8:1::/64 for PERCENT % of
 * connections) talk TCP to K servers (192.0.2.1.., 2001:db8:2::1..) on
 * ports 80, 443 and 5432.  M connections are in flight at once; each packet
 * comes from a connection picked at random, so they interleave.  A
 * connection is one of: a full handshake, 1-4 request/response rounds
 * (responses split into segments of at most 1460 bytes) and a close, with
 * the client closing first (40 %), the server first (30 %), both at once
 * (10 %), a client RST (10 %) or a server RST (10 %); a refused SYN (RST+ACK
 * back); or a SYN that gets no answer and is retransmitted twice with the
 * same ISN.  Client ports come from a small range per client (P
 * ports from 32768, default 32), so 4-tuples are reused by later
 * connections (never while the previous one on that tuple is still in
 * flight).  Segments carry the options Linux
 * sends (MSS, SACK-permitted, timestamps, window scale on SYNs; timestamps
 * after).  Unless --no-mix, about 1 % of the frames are UDP (DNS-like), 0.1 %
 * ARP and 0.5 % of the TCP frames carry an 802.1Q tag.  Link type
 * Ethernet, nanosecond timestamps from 2023-11-14T22:13:20Z, 1-20 us apart
 * (--gap US: US microseconds more between any two frames, so that a long
 * capture spreads its connections over hours and their TIME_WAITs end while
 * it runs: the replay-memory test of bench/replay-memory.sh).
 * --out - writes the capture to standard output.
 * The file ends after exactly N frames, connections in flight cut off as in
 * a real capture.  Every checksum is right.
 *
 * --short N: connection-heavy traffic, like web requests: N connections of
 * exactly 10 packets each (SYN, SYN-ACK, ACK, a request, two response
 * segments, the client's ACK, the client's FIN, the server's FIN, the last
 * ACK), whose 3 data segments fill frames of BYTES bytes (default 1100;
 * the 7 others carry no payload).  M of them (--concurrent) interleave; the
 * file ends when the last one has closed (10 N frames, plus the UDP and
 * ARP frames of the mix unless --no-mix).
 *
 * Left out of bench/run's single benchmark program by the BENCH_CC guard.
 */
#ifdef BENCH_CC
typedef int gen_capture_not_in_bench_run; /* see the comment above */
#else

/* pcap.h uses the BSD types u_char, u_int, hidden by -std=c11 alone. */
#define _DEFAULT_SOURCE

#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smu_csum.h"

/* ---- deterministic randomness (splitmix64) -------------------------------- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint32_t below(uint32_t n)
{
    return (uint32_t)(rnd() % n);
}

/* ---- connections ---------------------------------------------------------- */

#define MAX_OPS 48
#define TCP_MSS 1460u

enum { C2S = 0, S2C = 1 };

typedef struct op {
    uint8_t dir;
    uint8_t flags;
    uint8_t rexmit; /* a retransmitted SYN: same seq as the first */
    uint16_t len;
} op;

typedef struct conn {
    bool live;
    bool v6;
    uint32_t client, server;
    uint16_t cport, sport;
    uint32_t isn[2], nxt[2];
    uint32_t tsval[2];
    int nops, next;
    op ops[MAX_OPS];
} conn;

#define TH_FIN 0x01u
#define TH_SYN 0x02u
#define TH_RST 0x04u
#define TH_PSH 0x08u
#define TH_ACK 0x10u

static void add(conn *c, int dir, unsigned flags, unsigned len)
{
    if (c->nops >= MAX_OPS)
        return;
    op *o = &c->ops[c->nops++];
    o->dir = (uint8_t)dir;
    o->flags = (uint8_t)flags;
    o->rexmit = 0;
    o->len = (uint16_t)len;
}

/* Response of `bytes`, in MSS-sized segments, each acked every second one. */
static void data(conn *c, int dir, unsigned bytes)
{
    unsigned seg = 0;
    while (bytes > 0 && c->nops < MAX_OPS - 8) {
        unsigned l = bytes > TCP_MSS ? TCP_MSS : bytes;
        bytes -= l;
        add(c, dir, TH_ACK | (bytes == 0 ? TH_PSH : 0), l);
        if (++seg % 2 == 0 || bytes == 0)
            add(c, !dir, TH_ACK, 0);
    }
}

/* --short: payload of the data segments that fills a frame of that many
 * bytes (0: the usual mixed traffic) */
static unsigned short_payload;

/* --short's one exchange: 10 packets, 3 of them data */
static void short_script(conn *c)
{
    unsigned hdr = 14 + (c->v6 ? 40u : 20u) + 32u; /* Ethernet, IP, TCP with timestamps */
    unsigned len = short_payload > hdr ? short_payload - hdr : 1;
    if (len > TCP_MSS)
        len = TCP_MSS;
    add(c, C2S, TH_SYN, 0);
    add(c, S2C, TH_SYN | TH_ACK, 0);
    add(c, C2S, TH_ACK, 0);
    add(c, C2S, TH_ACK | TH_PSH, len);
    add(c, S2C, TH_ACK, len);
    add(c, S2C, TH_ACK | TH_PSH, len);
    add(c, C2S, TH_ACK, 0);
    add(c, C2S, TH_FIN | TH_ACK, 0);
    add(c, S2C, TH_FIN | TH_ACK, 0);
    add(c, C2S, TH_ACK, 0);
}

static void script(conn *c)
{
    c->nops = 0;
    c->next = 0;
    if (short_payload) {
        short_script(c);
        return;
    }
    uint32_t kind = below(100);
    if (kind < 8) { /* refused */
        add(c, C2S, TH_SYN, 0);
        add(c, S2C, TH_RST | TH_ACK, 0);
        return;
    }
    if (kind < 12) { /* no answer: SYN and two retransmissions */
        add(c, C2S, TH_SYN, 0);
        add(c, C2S, TH_SYN, 0);
        c->ops[c->nops - 1].rexmit = 1;
        add(c, C2S, TH_SYN, 0);
        c->ops[c->nops - 1].rexmit = 1;
        return;
    }
    add(c, C2S, TH_SYN, 0);
    add(c, S2C, TH_SYN | TH_ACK, 0);
    add(c, C2S, TH_ACK, 0);
    uint32_t rounds = 1 + below(4);
    for (uint32_t i = 0; i < rounds; i++) {
        add(c, C2S, TH_ACK | TH_PSH, 40 + below(400));
        uint32_t r = below(10);
        data(c, S2C, r < 6 ? 100 + below(900) : r < 9 ? 1000 + below(3000) : 4000 + below(6000));
    }
    uint32_t close = below(100);
    if (close < 40) {
        add(c, C2S, TH_FIN | TH_ACK, 0);
        add(c, S2C, TH_ACK, 0);
        add(c, S2C, TH_FIN | TH_ACK, 0);
        add(c, C2S, TH_ACK, 0);
    } else if (close < 70) {
        add(c, S2C, TH_FIN | TH_ACK, 0);
        add(c, C2S, TH_ACK, 0);
        add(c, C2S, TH_FIN | TH_ACK, 0);
        add(c, S2C, TH_ACK, 0);
    } else if (close < 80) { /* simultaneous: both FINs cross */
        add(c, C2S, TH_FIN | TH_ACK, 0);
        add(c, S2C, TH_FIN | TH_ACK, 0);
        add(c, C2S, TH_ACK, 0);
        add(c, S2C, TH_ACK, 0);
    } else if (close < 90) {
        add(c, C2S, TH_RST | TH_ACK, 0);
    } else {
        add(c, S2C, TH_RST | TH_ACK, 0);
    }
}

/* ---- frames --------------------------------------------------------------- */

#define FRAME_MAX 1600

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

static void addr_of(bool v6, bool server, uint32_t id, uint8_t *out)
{
    if (!v6) {
        if (server) {
            out[0] = 192, out[1] = 0, out[2] = 2, out[3] = (uint8_t)(1 + id);
        } else {
            out[0] = 10, out[1] = (uint8_t)(1 + (id >> 16)), out[2] = (uint8_t)(id >> 8),
            out[3] = (uint8_t)id;
        }
        return;
    }
    static const uint8_t pre[8] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0};
    memcpy(out, pre, 8);
    out[5] = server ? 2 : 1;
    memset(out + 8, 0, 8);
    put32(out + 12, server ? 1 + id : 0x100 + id);
}

static void mac_of(bool server, uint32_t id, uint8_t *out)
{
    out[0] = 0x02;
    out[1] = server ? 0x53 : 0x43;
    put32(out + 2, id);
}

static uint8_t payload[TCP_MSS];

typedef struct gen {
    pcap_dumper_t *dump;
    uint64_t ts_ns;
    uint64_t written;
    uint16_t ip_id;
    bool mix;
    uint64_t gap_ns; /* --gap: added to every step between frames */
    uint8_t frame[FRAME_MAX];
} gen;

static void emit(gen *g, const uint8_t *f, uint32_t len)
{
    struct pcap_pkthdr h;
    g->ts_ns += g->gap_ns + 1000 + below(19000);
    h.ts.tv_sec = (time_t)(g->ts_ns / 1000000000u);
    h.ts.tv_usec = (suseconds_t)(g->ts_ns % 1000000000u); /* ns: nano dumper */
    h.caplen = h.len = len;
    pcap_dump((u_char *)g->dump, &h, f);
    g->written++;
}

/* IP + transport after an Ethernet header at f[0..l2); returns frame length. */
static uint32_t ip_frame(gen *g, uint8_t *f, uint32_t l2, bool v6, const uint8_t *src,
                         const uint8_t *dst, unsigned proto, const uint8_t *l4, uint32_t l4len)
{
    uint8_t *ip = f + l2;
    uint32_t hl = v6 ? 40 : 20;
    uint8_t *t = ip + hl;
    memcpy(t, l4, l4len);
    uint64_t s = 0;
    if (v6) {
        put32(ip, 0x60000000u);
        put16(ip + 4, l4len);
        ip[6] = (uint8_t)proto;
        ip[7] = 64;
        memcpy(ip + 8, src, 16);
        memcpy(ip + 24, dst, 16);
        s = smu_csum_add(s, src, 16);
        s = smu_csum_add(s, dst, 16);
    } else {
        ip[0] = 0x45;
        ip[1] = 0;
        put16(ip + 2, 20 + l4len);
        put16(ip + 4, ++g->ip_id);
        put16(ip + 6, 0x4000); /* DF */
        ip[8] = 64;
        ip[9] = (uint8_t)proto;
        put16(ip + 10, 0);
        memcpy(ip + 12, src, 4);
        memcpy(ip + 16, dst, 4);
        put16(ip + 10, smu_csum_field(smu_csum_add(0, ip, 20)));
        s = smu_csum_add(s, src, 4);
        s = smu_csum_add(s, dst, 4);
    }
    s = smu_csum_add_word(smu_csum_add_word(s, (uint16_t)proto), (uint16_t)l4len);
    unsigned ck = proto == 6 ? 16 : 6;
    put16(t + ck, 0);
    uint16_t v = smu_csum_field(smu_csum_add(s, t, l4len));
    if (proto == 17 && v == 0)
        v = 0xffff;
    put16(t + ck, v);
    return l2 + hl + l4len;
}

static uint32_t eth(uint8_t *f, const uint8_t *dmac, const uint8_t *smac, bool vlan,
                    unsigned type, unsigned vid)
{
    memcpy(f, dmac, 6);
    memcpy(f + 6, smac, 6);
    if (vlan) {
        put16(f + 12, 0x8100);
        put16(f + 14, vid);
        put16(f + 16, type);
        return 18;
    }
    put16(f + 12, type);
    return 14;
}

static void tcp_packet(gen *g, conn *c)
{
    const op *o = &c->ops[c->next++];
    int d = o->dir;
    uint8_t caddr[16], saddr[16], cmac[6], smac[6];
    addr_of(c->v6, false, c->client, caddr);
    addr_of(c->v6, true, c->server, saddr);
    mac_of(false, c->client, cmac);
    mac_of(true, c->server, smac);
    uint8_t seg[60 + TCP_MSS];
    uint32_t seq = o->rexmit ? c->isn[d] : c->nxt[d];
    put16(seg, d == C2S ? c->cport : c->sport);
    put16(seg + 2, d == C2S ? c->sport : c->cport);
    put32(seg + 4, seq);
    put32(seg + 8, (o->flags & TH_ACK) ? c->nxt[!d] : 0);
    seg[13] = o->flags;
    put16(seg + 14, 502);
    put16(seg + 16, 0);
    put16(seg + 18, 0);
    uint32_t hl;
    c->tsval[d] += 1 + below(3);
    uint8_t *opt = seg + 20;
    if (o->flags & TH_SYN) {
        /* MSS, SACK-permitted, timestamps, NOP, window scale: 20 bytes */
        opt[0] = 2, opt[1] = 4;
        put16(opt + 2, TCP_MSS);
        opt[4] = 4, opt[5] = 2;
        opt[6] = 8, opt[7] = 10;
        put32(opt + 8, c->tsval[d]);
        put32(opt + 12, (o->flags & TH_ACK) ? c->tsval[!d] : 0);
        opt[16] = 1;
        opt[17] = 3, opt[18] = 3, opt[19] = 7;
        hl = 40;
        put16(seg + 14, 64240);
    } else {
        opt[0] = 1, opt[1] = 1, opt[2] = 8, opt[3] = 10;
        put32(opt + 4, c->tsval[d]);
        put32(opt + 8, c->tsval[!d]);
        hl = 32;
    }
    seg[12] = (uint8_t)((hl / 4) << 4);
    if (o->len)
        memcpy(seg + hl, payload, o->len);
    if (!o->rexmit)
        c->nxt[d] += o->len + ((o->flags & TH_SYN) ? 1u : 0u) + ((o->flags & TH_FIN) ? 1u : 0u);
    bool vlan = g->mix && below(200) == 0;
    uint32_t l2 = eth(g->frame, d == C2S ? smac : cmac, d == C2S ? cmac : smac, vlan,
                      c->v6 ? 0x86dd : 0x0800, 100 + c->server);
    uint32_t n = ip_frame(g, g->frame, l2, c->v6, d == C2S ? caddr : saddr,
                          d == C2S ? saddr : caddr, 6, seg, hl + o->len);
    emit(g, g->frame, n);
    if (c->next >= c->nops)
        c->live = false;
}

static void udp_packet(gen *g, uint32_t clients)
{
    uint32_t cl = below(clients);
    uint8_t ca[16], sa[16], cm[6], sm[6];
    addr_of(false, false, cl, ca);
    addr_of(false, true, 200, sa); /* 192.0.2.201: the resolver */
    mac_of(false, cl, cm);
    mac_of(true, 200, sm);
    uint8_t u[8 + 64];
    bool reply = below(2);
    uint16_t cport = (uint16_t)(1024 + below(60000));
    put16(u, reply ? 53 : cport);
    put16(u + 2, reply ? cport : 53);
    uint32_t plen = 20 + below(44);
    put16(u + 4, 8 + plen);
    memcpy(u + 8, payload, plen);
    uint32_t l2 = eth(g->frame, reply ? cm : sm, reply ? sm : cm, false, 0x0800, 0);
    uint32_t n = ip_frame(g, g->frame, l2, false, reply ? sa : ca, reply ? ca : sa, 17, u,
                          8 + plen);
    emit(g, g->frame, n);
}

static void arp_packet(gen *g, uint32_t clients)
{
    uint32_t cl = below(clients);
    uint8_t cm[6], ca[16], bc[6];
    memset(bc, 0xff, 6);
    mac_of(false, cl, cm);
    addr_of(false, false, cl, ca);
    uint32_t l2 = eth(g->frame, bc, cm, false, 0x0806, 0);
    uint8_t *a = g->frame + l2;
    put16(a, 1), put16(a + 2, 0x0800), a[4] = 6, a[5] = 4, put16(a + 6, 1);
    memcpy(a + 8, cm, 6);
    memcpy(a + 14, ca, 4);
    memset(a + 18, 0, 6);
    a[24] = 192, a[25] = 0, a[26] = 2, a[27] = 1;
    memset(a + 28, 0, 32); /* pad to 60 */
    emit(g, g->frame, 60);
}

static bool tuple_busy(const conn *slots, uint32_t n, const conn *c)
{
    for (uint32_t i = 0; i < n; i++) {
        const conn *o = &slots[i];
        if (o->live && o->client == c->client && o->server == c->server &&
            o->cport == c->cport && o->sport == c->sport && o->v6 == c->v6)
            return true;
    }
    return false;
}

static void new_conn(conn *slots, uint32_t n, conn *c, uint32_t clients, uint32_t servers,
                     uint32_t nports, uint32_t v6pct)
{
    static const uint16_t ports[3] = {80, 443, 5432};
    do {
        c->v6 = below(100) < v6pct;
        c->client = below(clients);
        c->server = below(servers);
        c->sport = ports[below(3)];
        c->cport = (uint16_t)(32768 + below(nports));
    } while (tuple_busy(slots, n, c));
    c->isn[C2S] = (uint32_t)rnd();
    c->isn[S2C] = (uint32_t)rnd();
    c->nxt[C2S] = c->isn[C2S];
    c->nxt[S2C] = c->isn[S2C];
    c->tsval[C2S] = (uint32_t)rnd();
    c->tsval[S2C] = (uint32_t)rnd();
    script(c);
    c->live = true;
}

static int usage(void)
{
    fprintf(stderr, "usage: gen_capture --packets N --out FILE [--seed S] [--clients C] "
                    "[--servers K] [--ports P] [--concurrent M] [--v6 PERCENT] [--gap US] [--no-mix]\n"
                    "       gen_capture --short N --out FILE [--frame BYTES] [options above]\n");
    return 2;
}

int main(int argc, char **argv)
{
    unsigned long long packets = 0, seed = 1, nshort = 0;
    unsigned long frame = 1100;
    unsigned long clients = 5000, servers = 4, nports = 32, concurrent = 64, v6pct = 10;
    unsigned long long gap_us = 0;
    const char *out = NULL;
    bool mix = true;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--no-mix") == 0) {
            mix = false;
            continue;
        }
        if (!v)
            return usage();
        i++;
        if (strcmp(a, "--packets") == 0)
            packets = strtoull(v, NULL, 10);
        else if (strcmp(a, "--short") == 0)
            nshort = strtoull(v, NULL, 10);
        else if (strcmp(a, "--frame") == 0)
            frame = strtoul(v, NULL, 10);
        else if (strcmp(a, "--seed") == 0)
            seed = strtoull(v, NULL, 10);
        else if (strcmp(a, "--clients") == 0)
            clients = strtoul(v, NULL, 10);
        else if (strcmp(a, "--servers") == 0)
            servers = strtoul(v, NULL, 10);
        else if (strcmp(a, "--ports") == 0)
            nports = strtoul(v, NULL, 10);
        else if (strcmp(a, "--concurrent") == 0)
            concurrent = strtoul(v, NULL, 10);
        else if (strcmp(a, "--v6") == 0)
            v6pct = strtoul(v, NULL, 10);
        else if (strcmp(a, "--gap") == 0)
            gap_us = strtoull(v, NULL, 10);
        else if (strcmp(a, "--out") == 0)
            out = v;
        else
            return usage();
    }
    if (nshort) {
        if (packets || frame < 128 || frame > 1514)
            return usage();
        short_payload = (unsigned)frame;
        packets = UINT64_MAX;
    }
    if (!out || packets == 0 || clients == 0 || clients > 1u << 20 || servers == 0 ||
        servers > 200 || nports == 0 || nports > 32768 || concurrent == 0 ||
        concurrent > 100000 || v6pct > 100 || gap_us > 3600000000ull ||
        (unsigned long long)clients * servers * 3 * nports < concurrent * 2ull)
        return usage();
    rng_state = seed;
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (uint8_t)rnd();

    pcap_t *dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 262144,
                                                        PCAP_TSTAMP_PRECISION_NANO);
    if (!dead)
        return 2;
    gen *g = calloc(1, sizeof *g);
    conn *slots = calloc(concurrent, sizeof *slots);
    if (!g || !slots) {
        fprintf(stderr, "gen_capture: out of memory\n");
        return 2;
    }
    g->dump = pcap_dump_open(dead, out);
    if (!g->dump) {
        fprintf(stderr, "gen_capture: %s: %s\n", out, pcap_geterr(dead));
        return 2;
    }
    g->ts_ns = 1700000000ull * 1000000000ull;
    g->mix = mix;
    g->gap_ns = gap_us * 1000u;
    unsigned long long started = 0, live = 0;
    while (g->written < packets) {
        if (nshort && started == nshort && live == 0)
            break;
        if (mix) {
            uint32_t r = below(1000);
            if (r < 10) {
                udp_packet(g, (uint32_t)clients);
                continue;
            }
            if (r == 10) {
                arp_packet(g, (uint32_t)clients);
                continue;
            }
        }
        conn *c = &slots[below((uint32_t)concurrent)];
        if (!c->live) {
            if (nshort && started == nshort)
                continue; /* the last ones finish */
            new_conn(slots, (uint32_t)concurrent, c, (uint32_t)clients, (uint32_t)servers,
                     (uint32_t)nports, (uint32_t)v6pct);
            started++;
            live++;
        }
        tcp_packet(g, c);
        if (!c->live)
            live--;
    }
    if (pcap_dump_flush(g->dump) != 0) {
        fprintf(stderr, "gen_capture: %s: write error\n", out);
        return 2;
    }
    pcap_dump_close(g->dump);
    pcap_close(dead);
    fprintf(stderr, "gen_capture: %llu frames to %s\n", (unsigned long long)g->written, out);
    free(slots);
    free(g);
    return 0;
}

#endif /* BENCH_CC */
