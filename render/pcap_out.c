/*
 * pcap_out.c - builds wire frames for simulated segments and writes them
 * to a pcap file through libpcap (pcap_open_dead + pcap_dump_open).
 *
 * It models the bytes a capture on a shared Ethernet segment would show:
 * Ethernet II (synthetic MACs from host ids), IPv4 (RFC 791) or IPv6
 * (RFC 8200), then TCP (RFC 9293; MSS option RFC 9293 3.7.1, timestamps
 * RFC 7323 3.2) or UDP (RFC 768), with the Internet checksum of RFC 1071
 * over the pseudo-headers of RFC 9293 3.1 / RFC 8200 8.1.  Every field is
 * a function of the segment and of how many segments came before it, so
 * the file is deterministic.  See pcap_out.h for the choices made.
 */
/* pcap.h uses the BSD types u_char, u_int (<sys/types.h>), hidden by
 * -std=c11 unless asked for. */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pcap/pcap.h>

#include "pcap_out.h"
#include "smu_csum.h"

#define ETH_HLEN 14
#define IP4_HLEN 20
#define IP6_HLEN 40
#define TCP_HLEN 20 /* without options */
#define UDP_HLEN 8
#define TCP_OPT_MAX 40
#define IP_LEN_MAX 65535u
#define MSS_VALUE 1460u /* the engine's segment size (issue 3) */
/* Largest frame: Ethernet + IPv6 header + a 65535-byte IPv6 payload. */
#define FRAME_MAX (ETH_HLEN + IP6_HLEN + IP_LEN_MAX)
/* libpcap's own maximum (MAXIMUM_SNAPLEN), which tcpdump uses too. */
#define SNAPLEN 262144

struct scn_pcap {
    pcap_t *dead;
    pcap_dumper_t *dump;
    char *path;
    int nano;           /* timestamps in nanoseconds */
    uint16_t ip_id;     /* last IPv4 identification used */
    uint64_t count;     /* segments written */
    uint64_t capped;    /* ... of which with a cut payload */
    unsigned char frame[FRAME_MAX];
};

/* ---- byte helpers --------------------------------------------------------- */

static void put16(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 8);
    p[1] = (unsigned char)v;
}

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* ---- addresses -------------------------------------------------------------- */

/* The 4 bytes of an IPv4 or v4-mapped address; false for other IPv6. */
static int v4_bytes(const sm_addr *a, unsigned char out[4])
{
    uint32_t v;
    if (!sm_addr_v4(a, &v))
        return 0;
    put32(out, v);
    return 1;
}

/* The 16 bytes of an address as IPv6 (IPv4 becomes ::ffff:a.b.c.d). */
static void v6_bytes(const sm_addr *a, unsigned char out[16])
{
    sm_addr m = sm_addr_mapped(a);
    memcpy(out, m.b, 16);
}

static void mac(unsigned char *p, sm_id host)
{
    p[0] = 0x02; /* locally administered, unicast */
    p[1] = 0x00;
    put32(p + 2, (uint32_t)(host + 1u)); /* SM_NONE wraps to 0 */
}

/* ---- TCP options -------------------------------------------------------------- */

/* Writes the options of seg at p; returns their length (a multiple of 4). */
static size_t tcp_options(unsigned char *p, const sm_segment *seg)
{
    size_t n = 0;
    if (seg->flags & SM_TH_SYN) { /* kind 2, length 4: maximum segment size */
        p[n++] = 2;
        p[n++] = 4;
        put16(p + n, MSS_VALUE);
        n += 2;
    }
    if (seg->has_ts) { /* NOP NOP, kind 8, length 10: tsval, tsecr */
        p[n++] = 1;
        p[n++] = 1;
        p[n++] = 8;
        p[n++] = 10;
        put32(p + n, seg->tsval);
        put32(p + n + 4, seg->tsecr);
        n += 8;
    }
    while (n % 4) /* end of option list, then zero padding */
        p[n++] = 0;
    return n;
}

/* ---- the file ------------------------------------------------------------------ */

/* err = A B C (any may be ""), if the caller gave a buffer. */
static void set_err(char *err, size_t errlen, const char *a, const char *b,
                    const char *c)
{
    if (err && errlen)
        snprintf(err, errlen, "%s%s%s", a, b, c);
}

scn_pcap *scn_pcap_open(const char *path, char *err, size_t errlen)
{
    scn_pcap *p = calloc(1, sizeof *p);
    size_t plen = strlen(path);
    if (!p || !(p->path = malloc(plen + 1))) {
        free(p);
        set_err(err, errlen, path, ": ", strerror(ENOMEM));
        return NULL;
    }
    memcpy(p->path, path, plen + 1);
#ifdef PCAP_TSTAMP_PRECISION_NANO
    p->dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, SNAPLEN,
                                                   PCAP_TSTAMP_PRECISION_NANO);
    p->nano = 1;
#else
    p->dead = pcap_open_dead(DLT_EN10MB, SNAPLEN);
    p->nano = 0;
#endif
    if (!p->dead) {
        set_err(err, errlen, path, ": ", "libpcap cannot open a capture handle");
        free(p->path);
        free(p);
        return NULL;
    }
    p->dump = pcap_dump_open(p->dead, path);
    if (!p->dump) {
        /* libpcap's message already names the file ("PATH: No such ..."). */
        set_err(err, errlen, pcap_geterr(p->dead), "", "");
        pcap_close(p->dead);
        free(p->path);
        free(p);
        return NULL;
    }
    return p;
}

uint64_t scn_pcap_count(const scn_pcap *p)
{
    return p->count;
}

uint64_t scn_pcap_capped(const scn_pcap *p)
{
    return p->capped;
}

void scn_pcap_segment(void *ctx, const sm_segment *seg)
{
    scn_pcap *p = ctx;
    unsigned char *f = p->frame;
    unsigned char s4[4], d4[4], s6[16], d6[16];
    int is4 = v4_bytes(&seg->src.addr, s4) && v4_bytes(&seg->dst.addr, d4);
    int tcp = seg->proto == SM_TCP;
    size_t iph = is4 ? IP4_HLEN : IP6_HLEN;

    /* Transport header length (TCP options written later, into place). */
    unsigned char opts[TCP_OPT_MAX];
    size_t optlen = tcp ? tcp_options(opts, seg) : 0;
    size_t l4h = tcp ? TCP_HLEN + optlen : UDP_HLEN;

    /* Payload, cut so that the IP length field can say it. */
    size_t room = IP_LEN_MAX - l4h - (is4 ? iph : 0);
    size_t len = seg->len;
    if (len > room) {
        len = room;
        p->capped++;
    }
    size_t l4len = l4h + len;
    size_t caplen = ETH_HLEN + iph + l4len;
    memset(f, 0, caplen);

    /* Ethernet II */
    mac(f, seg->dst_host);
    mac(f + 6, seg->src_host);
    put16(f + 12, is4 ? 0x0800u : 0x86ddu);

    unsigned char *ip = f + ETH_HLEN;
    unsigned char *l4 = ip + iph;
    uint64_t pseudo; /* pseudo-header sum for the transport checksum */
    uint8_t proto = tcp ? 6 : 17;
    if (is4) {
        ip[0] = 0x45; /* version 4, header 5 words */
        put16(ip + 2, (uint32_t)(iph + l4len));
        put16(ip + 4, ++p->ip_id);
        put16(ip + 6, 0x4000u); /* DF */
        ip[8] = 64;
        ip[9] = proto;
        memcpy(ip + 12, s4, 4);
        memcpy(ip + 16, d4, 4);
        put16(ip + 10, smu_csum_field(smu_csum_add(0, ip, IP4_HLEN)));
        pseudo = smu_csum_add(0, ip + 12, 8);
    } else {
        v6_bytes(&seg->src.addr, s6);
        v6_bytes(&seg->dst.addr, d6);
        ip[0] = 0x60; /* version 6, traffic class 0, flow label 0 */
        put16(ip + 4, (uint32_t)l4len);
        ip[6] = proto;
        ip[7] = 64;
        memcpy(ip + 8, s6, 16);
        memcpy(ip + 24, d6, 16);
        pseudo = smu_csum_add(0, ip + 8, 32);
    }

    pseudo = smu_csum_add_word(smu_csum_add_word(pseudo, proto), (uint16_t)l4len);
    put16(l4, seg->src.port);
    put16(l4 + 2, seg->dst.port);
    if (tcp) {
        put32(l4 + 4, seg->seq);
        put32(l4 + 8, seg->ack);
        l4[12] = (unsigned char)(l4h / 4 << 4); /* data offset */
        l4[13] = seg->flags;
        put16(l4 + 14, seg->window);
        memcpy(l4 + TCP_HLEN, opts, optlen);
        put16(l4 + 16, smu_csum_field(smu_csum_add(pseudo, l4, l4len)));
    } else {
        put16(l4 + 4, (uint32_t)l4len);
        uint16_t c = smu_csum_field(smu_csum_add(pseudo, l4, l4len));
        put16(l4 + 6, c ? c : 0xffffu); /* 0 means "no checksum" */
    }

    struct pcap_pkthdr h;
    memset(&h, 0, sizeof h);
    h.ts.tv_sec = (time_t)(seg->time_ns / 1000000000u);
    uint64_t frac = seg->time_ns % 1000000000u;
    h.ts.tv_usec = p->nano ? frac : frac / 1000u; /* < 10^9: fits a long */
    h.caplen = (bpf_u_int32)caplen;
    h.len = (bpf_u_int32)caplen;
    pcap_dump((u_char *)p->dump, &h, f);
    p->count++;
}

int scn_pcap_close(scn_pcap *p, char *err, size_t errlen)
{
    if (!p)
        return 0;
    int rc = 0;
    errno = 0;
    if (pcap_dump_flush(p->dump) != 0 || ferror(pcap_dump_file(p->dump))) {
        set_err(err, errlen, p->path, ": write error: ",
                strerror(errno ? errno : EIO));
        rc = -1;
    }
    pcap_dump_close(p->dump);
    pcap_close(p->dead);
    free(p->path);
    free(p);
    return rc;
}
