/*
 * pkt_read.c - reads capture files for `sockmodel replay`: libpcap does the
 * file formats (pcap, pcapng, nanosecond pcap); this file decodes each
 * record's link layer (Ethernet with stacked 802.1Q/802.1ad tags, MPLS,
 * PPPoE, 802.1ah PBB and LLC/SNAP inside it; Linux cooked SLL and SLL2,
 * raw IPv4/IPv6, BSD NULL and LOOP in either byte order, PPP, Cisco HDLC,
 * FDDI, IP over InfiniBand, Linux NFLOG, Juniper Ethernet, ARCNET), IPv4
 * (options; fragments reassembled by reasm.c), IPv6
 * (extension header chain; the Home Address option and routing headers
 * give the connection's source and final destination), tunnels (IP in
 * IP, GRE with ERSPAN I/II/III, WCCP and Aruba's 802.11, GRE in UDP,
 * VXLAN, Geneve, AYIYA, GTP-U: the inner packet is
 * the record's) and the TCP or UDP header into an rp_pkt, and counts
 * everything else by category.  Checksums (IPv4 header, TCP, UDP) are
 * verified when the whole datagram was captured; a packet that fails is
 * still delivered, flagged.  The record's time goes through stamp(): the
 * model's clock never goes back and does not follow a broken one.
 *
 * Robustness contract: any byte sequence is a valid input.  Every read of
 * the record is bounds-checked against caplen first; lengths from headers
 * are only trusted after they were compared with what was captured.
 * Cost: O(header bytes) per record, plus O(payload) for the checksum.
 */
/* pcap.h uses the BSD types u_char, u_int (<sys/types.h>), hidden by
 * -std=c11 without this. */
#define _DEFAULT_SOURCE

#include "pkt.h"
#include "reasm.h"
#include "smu_csum.h"

#include <pcap/pcap.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Read-ahead (RP_OPT_THREAD): a second thread reads and decodes records
 * into a ring of batches while the caller models the previous ones.  The
 * caller still receives every packet in file order, so what it computes
 * does not depend on the thread: only the wall-clock time does.
 * Hand-over: two counters of batches (published by the thread, released
 * by the caller).  The caller, when no batch is ready, spins a little (a
 * batch takes tens of microseconds to read) and then sleeps on the
 * condition variable, saying so in `sleepers` so that the thread wakes it.
 * The thread, when the ring is full, sleeps at once until the caller has
 * emptied half of it: the model is the slower side on any capture with
 * connections to report, and a reader that spun for room and was woken for
 * every released batch spent as much CPU time waiting as reading (perf,
 * 2*10^6 packets of short connections: 1.15 s of CPU with the thread,
 * 0.82 s without).
 * How far the thread may run ahead (`depth`) starts at 8 batches and
 * doubles, up to the ring's 64, each time the caller finds no batch ready
 * once it has taken 64 (it asks, in `deeper`; the thread makes the
 * change): the two sides' speeds vary from batch to batch (a run
 * of handshakes costs the model more than a run of data segments), and
 * with 8 batches each side waited for the other several milliseconds per
 * 200,000 packets of short connections (the caller 8-16 ms, the thread
 * 5-13 ms, in one run).  A ring that deep from the start cost a capture of
 * 2,000 connections about a tenth of its time (the thread touched 2 MB of
 * fresh pages for 78 batches), hence the growth only after 64 batches, and
 * a ring that is not deeper uses only its first `depth` slots.  Each batch
 * names the slot of
 * the next (`next`, set by the thread before it publishes), and the thread
 * widens its cycle of slots only as it reaches the cycle's last slot: then
 * no slot comes round again before `depth` (the new one) more batches, and
 * a batch the caller has not released is never refilled.  Paired runs,
 * wall time over the bare libpcap loop (bench/README.md has the figures). */
#define RP_BATCH 256u /* packets per batch */
#define RP_NBATCH 64u /* batches in the ring (2 MB; touched only as deep as used) */
#define RP_DEPTH0 8u  /* batches the thread may read ahead at first */
#define RP_SPIN 4000  /* polls before sleeping (tens to ~150 us, by the CPU's pause) */

typedef struct rp_batch {
    rp_pkt pkt[RP_BATCH];
    uint32_t n;
    uint32_t next; /* the slot of the batch after this one */
    bool last; /* the final batch: after its packets, rp_next returns end_rc */
} rp_batch;

enum { SLEEP_CALLER = 1, SLEEP_THREAD = 2 };

struct rp_reader {
    pcap_t *pc;
    int dlt;
    /* Owned by whoever reads the file: the caller, or the read-ahead
     * thread until the caller has joined it (rp_next's end). */
    rp_decode_state st;
    rp_counts c;
    char err[PCAP_ERRBUF_SIZE + 64];
    uint64_t err_record; /* the record err is about (1-based), 0 if none */
    rp_pkt cur; /* rp_next_ref's packet when reading directly */
    char *iobuf; /* the stream's buffer (rp_open): freed after pcap_close */
    rp_pkt *direct;  /* rp_next_batch's packets when reading directly */
    bool direct_end; /* ... and the end (or error) that followed them */
    int direct_rc;
    /* read-ahead */
    bool threaded, joined;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    rp_batch *ring;
    int end_rc;            /* the thread's last result (0 or -1), set before the last batch */
    /* each side's counter on a cache line of its own: the other side
     * polls it while waiting */
    _Alignas(64) atomic_uint published; /* batches filled by the thread (mod 2^32) */
    _Alignas(64) atomic_uint released;  /* batches the caller is done with */
    atomic_uint depth;     /* batches the thread may be ahead: RP_DEPTH0..RP_NBATCH
                            * (set by the thread) */
    atomic_bool deeper;    /* the caller found the ring empty: asks for more depth */
    uint32_t cslot;        /* the caller's: the slot of batch `released` */
    _Alignas(64) atomic_int sleepers;   /* SLEEP_* of the sides waiting on cv */
    atomic_bool stop;      /* rp_close before the end: the thread quits */
    _Alignas(64) uint32_t pos; /* the caller's position in its batch */
    bool holding;          /* the caller holds the batch in slot cslot */
    /* RP_OPT_TIMING: each side's own figures (SLEEP_* - 1 = the waiter);
     * the thread's CPU time is set before its last batch is published */
    bool timing;
    double wait_ms[2];
    unsigned long waits[2];
    double thread_cpu_ms;
};

/* ---- byte helpers -------------------------------------------------------- */

static inline uint16_t be16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static inline uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/* ---- link types ---------------------------------------------------------- */

/* DLT_RAW is 12 on most systems and 14 on OpenBSD; libpcap maps the file's
 * LINKTYPE_RAW (101) to it, and older files may carry 12 or 14 directly. */
#define RP_DLT_RAW_ALT1 12
#define RP_DLT_RAW_ALT2 14
#define RP_DLT_RAW_LT 101
#ifndef DLT_IPV4
#define DLT_IPV4 228
#endif
#ifndef DLT_IPV6
#define DLT_IPV6 229
#endif
#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif

/* Link types by their LINKTYPE_ values (the same as DLT_ on Linux). */
#define RP_LT_PPP 9
#define RP_LT_FDDI 10
#define RP_LT_PPP_SERIAL 50
#define RP_LT_PPP_ETHER 51
#define RP_LT_C_HDLC 104
#define RP_LT_JUNIPER_ETHER 178
#define RP_LT_NFLOG 239
#define RP_LT_IPOIB 242
#define RP_LT_ARCNET_BSD 7
#define RP_LT_ARCNET_LINUX 129

static bool is_raw(int dlt)
{
    return dlt == DLT_RAW || dlt == RP_DLT_RAW_ALT1 || dlt == RP_DLT_RAW_ALT2 ||
           dlt == RP_DLT_RAW_LT;
}

bool rp_linktype_supported(int dlt)
{
    return dlt == DLT_EN10MB || dlt == DLT_LINUX_SLL || dlt == DLT_LINUX_SLL2 ||
           dlt == DLT_NULL || dlt == DLT_LOOP || dlt == DLT_IPV4 || dlt == DLT_IPV6 ||
           is_raw(dlt) || dlt == RP_LT_PPP || dlt == RP_LT_PPP_SERIAL ||
           dlt == RP_LT_PPP_ETHER || dlt == RP_LT_C_HDLC || dlt == RP_LT_FDDI ||
           dlt == RP_LT_IPOIB || dlt == RP_LT_NFLOG || dlt == RP_LT_JUNIPER_ETHER ||
           dlt == RP_LT_ARCNET_BSD || dlt == RP_LT_ARCNET_LINUX;
}

/* BSD address family values of IPv6: NetBSD/OpenBSD, FreeBSD, Darwin. */
static bool bsd_af_inet6(uint32_t v)
{
    return v == 24 || v == 28 || v == 30;
}

/* ---- the decoder --------------------------------------------------------- */

/* Outcome of one stage: where the network header starts and what it is. */
enum net { NET_V4, NET_V6, NET_ANY, NET_SKIP };

#define ET_IPV4 0x0800u
#define ET_ARP 0x0806u
#define ET_RARP 0x8035u
#define ET_IPV6 0x86ddu
#define ET_VLAN 0x8100u
#define ET_QINQ 0x88a8u
#define ET_QINQ_OLD1 0x9100u
#define ET_QINQ_OLD2 0x9200u

static bool is_vlan_type(unsigned t)
{
    return t == ET_VLAN || t == ET_QINQ || t == ET_QINQ_OLD1 || t == ET_QINQ_OLD2;
}

/* Classifies a link-layer protocol type (the one after any VLAN tags). */
static enum net by_ethertype(unsigned t, rp_counts *c)
{
    if (t == ET_IPV4)
        return NET_V4;
    if (t == ET_IPV6)
        return NET_V6;
    if (t == ET_ARP || t == ET_RARP)
        c->arp++;
    else if (t < 0x0600u)
        c->llc++;
    else
        c->other_ethertype++;
    return NET_SKIP;
}

#define ET_MPLS 0x8847u
#define ET_MPLS_MC 0x8848u
#define ET_PPPOE 0x8864u
#define ET_PBB 0x88e7u
#define ET_TEB 0x6558u /* transparent Ethernet bridging: an Ethernet frame follows */
#define ET_VNTAG 0x8926u /* Cisco VN-Tag (802.1Qbh): 4 bytes, then the type */
#define MAX_HOPS 16    /* tags, labels and headers walked per frame */

static enum net mpls(const uint8_t *p, uint32_t cap, uint32_t *off, bool *eth, rp_counts *c);
static enum net walk_ethertype(const uint8_t *p, uint32_t cap, uint32_t *off, rp_pkt *o,
                               rp_counts *c);

/* The PPP protocol at p (1 byte if compressed: odd), as a network; MPLS
 * (0x0281, 0x0283) is walked. */
static enum net ppp_proto(const uint8_t *p, uint32_t cap, uint32_t *off, rp_pkt *o,
                          rp_counts *c)
{
    if (cap < *off + 1 || (!(p[*off] & 1) && cap < *off + 2)) {
        c->trunc_link++;
        return NET_SKIP;
    }
    unsigned proto = p[*off] & 1 ? p[*off] : be16(p + *off);
    *off += p[*off] & 1 ? 1 : 2;
    if (proto == 0x21)
        return NET_V4;
    if (proto == 0x57)
        return NET_V6;
    if (proto == 0x281 || proto == 0x283) {
        bool eth = false;
        o->anomalies |= RP_A_TUNNEL;
        enum net n = mpls(p, cap, off, &eth, c);
        if (!eth)
            return n;
        *off += 12; /* the inner Ethernet's addresses */
        return walk_ethertype(p, cap, off, o, c);
    }
    c->other_ethertype++;
    return NET_SKIP;
}

/* An MPLS label stack at p+*off: the labels up to the bottom of the stack,
 * then IPv4 or IPv6 by the first nibble, or (nibble 0) a pseudowire
 * control word and an Ethernet frame.  Returns the network; for Ethernet,
 * NET_ANY with *eth set. */
static enum net mpls(const uint8_t *p, uint32_t cap, uint32_t *off, bool *eth, rp_counts *c)
{
    for (int k = 0; k < MAX_HOPS; k++) {
        if (cap < *off + 4) {
            c->trunc_link++;
            return NET_SKIP;
        }
        bool bottom = p[*off + 2] & 1;
        *off += 4;
        if (!bottom)
            continue;
        if (cap < *off + 1) {
            c->trunc_link++;
            return NET_SKIP;
        }
        unsigned nib = p[*off] >> 4;
        if (nib == 4)
            return NET_V4;
        if (nib == 6)
            return NET_V6;
        if (nib == 0) { /* control word, then Ethernet */
            *off += 4;
            *eth = true;
            return NET_ANY;
        }
        c->other_ethertype++;
        return NET_SKIP;
    }
    c->other_ethertype++;
    return NET_SKIP;
}

/* Walks the link layer from the 2-byte type at p+*off: VLAN tags, MPLS
 * labels, PPPoE sessions, 802.1ah (PBB) I-tags, LLC/SNAP, Ethernet in
 * Ethernet (0x6558), to IPv4 or IPv6.  On return *off is the network
 * header's offset. */
static enum net walk_ethertype(const uint8_t *p, uint32_t cap, uint32_t *off,
                               rp_pkt *o, rp_counts *c)
{
    /* *off points at the 2-byte type field. */
    bool tagged = false;
    for (int hop = 0; hop < MAX_HOPS; hop++) {
        if (cap < *off + 2) {
            c->trunc_link++;
            return NET_SKIP;
        }
        unsigned t = be16(p + *off);
        if (is_vlan_type(t)) {
            /* tag: TCI (2) + next type (2) */
            if (cap < *off + 6) {
                c->trunc_link++;
                return NET_SKIP;
            }
            if (!tagged) {
                o->vlan = (uint16_t)(be16(p + *off + 2) & 0x0fffu);
                tagged = true;
                o->anomalies |= RP_A_VLAN;
            }
            *off += 4;
            continue;
        }
        *off += 2;
        if (t == ET_IPV4 || t == ET_IPV6)
            return t == ET_IPV4 ? NET_V4 : NET_V6;
        if (t == ET_MPLS || t == ET_MPLS_MC) {
            bool eth = false;
            o->anomalies |= RP_A_TUNNEL;
            enum net n = mpls(p, cap, off, &eth, c);
            if (!eth)
                return n;
            *off += 12; /* the inner Ethernet's addresses */
            continue;
        }
        if (t == ET_PPPOE) {
            /* version/type, code, session, length, then PPP */
            if (cap < *off + 6) {
                c->trunc_link++;
                return NET_SKIP;
            }
            if (p[*off] != 0x11 || p[*off + 1] != 0) {
                c->other_ethertype++;
                return NET_SKIP;
            }
            *off += 6;
            o->anomalies |= RP_A_TUNNEL;
            return ppp_proto(p, cap, off, o, c);
        }
        if (t == ET_PBB) { /* I-tag (4), the customer's addresses (12) */
            *off += 16;
            o->anomalies |= RP_A_TUNNEL;
            continue;
        }
        if (t == ET_TEB) {
            *off += 12;
            o->anomalies |= RP_A_TUNNEL;
            continue;
        }
        if (t == ET_VNTAG) { /* direction, pointer, VIFs (4); the type follows */
            *off += 4;
            o->anomalies |= RP_A_TUNNEL;
            continue;
        }
        if (t < 0x0600u && cap >= *off + 8 && p[*off] == 0xaa && p[*off + 1] == 0xaa &&
            p[*off + 2] == 0x03) {
            *off += 6; /* LLC/SNAP: DSAP, SSAP, control, OUI; the type follows */
            continue;
        }
        return by_ethertype(t, c);
    }
    c->other_ethertype++;
    return NET_SKIP;
}

static enum net link_other(int dlt, const uint8_t *p, uint32_t cap, uint32_t *off, rp_pkt *o,
                           rp_counts *c);

static enum net link_decode(int dlt, const uint8_t *p, uint32_t cap, uint32_t *off,
                            rp_pkt *o, rp_counts *c)
{
    if (dlt == DLT_EN10MB) {
        *off = 12;
        return walk_ethertype(p, cap, off, o, c);
    }
    if (dlt == DLT_LINUX_SLL) {
        /* packet type(2) ARPHRD(2) addr len(2) addr(8) protocol(2) */
        if (cap < 16) {
            c->trunc_link++;
            return NET_SKIP;
        }
        unsigned hatype = be16(p + 2);
        if (hatype == 824 /* ARPHRD_NETLINK */) {
            c->other_ethertype++;
            return NET_SKIP;
        }
        *off = 14;
        return walk_ethertype(p, cap, off, o, c);
    }
    if (dlt == DLT_LINUX_SLL2) {
        /* protocol(2) reserved(2) ifindex(4) ARPHRD(2) pkttype(1) addrlen(1) addr(8) */
        if (cap < 20) {
            c->trunc_link++;
            return NET_SKIP;
        }
        if (be16(p + 8) == 824) {
            c->other_ethertype++;
            return NET_SKIP;
        }
        unsigned t = be16(p);
        if (is_vlan_type(t)) {
            /* the protocol field is at 0, the tags (TCI, next type)
             * follow the 20-byte header */
            *off = 20;
            o->vlan = 0;
            bool first = true;
            while (is_vlan_type(t)) {
                if (cap < *off + 4) {
                    c->trunc_link++;
                    return NET_SKIP;
                }
                if (first)
                    o->vlan = (uint16_t)(be16(p + *off) & 0x0fffu);
                first = false;
                t = be16(p + *off + 2);
                *off += 4;
            }
            o->anomalies |= RP_A_VLAN;
            return by_ethertype(t, c);
        }
        *off = 20;
        return by_ethertype(t, c);
    }
    if (dlt == DLT_NULL || dlt == DLT_LOOP) {
        /* 4-byte address family: host order of the capturing machine for
         * NULL, network order for LOOP; files exist with either, so both
         * readings are tried (the small values cannot be confused). */
        if (cap < 4) {
            c->trunc_link++;
            return NET_SKIP;
        }
        uint32_t le = le32(p), be = be32(p);
        *off = 4;
        if (le == 2 || be == 2)
            return NET_V4;
        if (bsd_af_inet6(le) || bsd_af_inet6(be))
            return NET_V6;
        c->other_family++;
        return NET_SKIP;
    }
    if (dlt == DLT_IPV4) {
        *off = 0;
        return NET_V4;
    }
    if (dlt == DLT_IPV6) {
        *off = 0;
        return NET_V6;
    }
    if (is_raw(dlt)) {
        *off = 0;
        return NET_ANY;
    }
    return link_other(dlt, p, cap, off, o, c);
}

/* ARCNET (BSD: source, destination, protocol; Linux: source, destination,
 * a 2-byte offset, protocol).  RFC 1051 protocols (IP 240) carry the
 * datagram right after; RFC 1201 ones (IP 212, IPv6 196) a split flag and
 * a 2-byte sequence number first, and an exception packet (split flag
 * 0xff) 4 more bytes and the header again.  Pieces of a split packet
 * (flag other than 0) are not put back together: skipped. */
static enum net arcnet(bool linux_hdr, const uint8_t *p, uint32_t cap, uint32_t *off,
                       rp_counts *c)
{
    uint32_t at = linux_hdr ? 4 : 2;
    if (cap < at + 1) {
        c->trunc_link++;
        return NET_SKIP;
    }
    unsigned proto = p[at];
    at++;
    if (proto == 240) {
        *off = at;
        return NET_V4;
    }
    if (proto != 212 && proto != 196) {
        c->other_ethertype++;
        return NET_SKIP;
    }
    if (cap < at + 3) {
        c->trunc_link++;
        return NET_SKIP;
    }
    if (p[at] == 0xff) { /* exception packet: padding, then the header again */
        at += 4;
        if (cap < at + 3) {
            c->trunc_link++;
            return NET_SKIP;
        }
        proto = p[at - 1];
        if (proto != 212 && proto != 196) {
            c->other_ethertype++;
            return NET_SKIP;
        }
    }
    if (p[at] != 0) { /* a piece of a split packet */
        c->other_ethertype++;
        return NET_SKIP;
    }
    *off = at + 3;
    return proto == 212 ? NET_V4 : NET_V6;
}

/* The rarer link types. */
static enum net link_other(int dlt, const uint8_t *p, uint32_t cap, uint32_t *off, rp_pkt *o,
                           rp_counts *c)
{
    *off = 0;
    if (dlt == RP_LT_PPP || dlt == RP_LT_PPP_SERIAL) {
        /* HDLC-like framing: address 0xff, control 0x03 (may be left out) */
        if (cap >= 2 && p[0] == 0xff && p[1] == 0x03)
            *off = 2;
        return ppp_proto(p, cap, off, o, c);
    }
    if (dlt == RP_LT_PPP_ETHER) { /* a PPPoE header, then PPP */
        *off = 6;
        return ppp_proto(p, cap, off, o, c);
    }
    if (dlt == RP_LT_C_HDLC) { /* address, control, an Ethernet type */
        *off = 2;
        return walk_ethertype(p, cap, off, o, c);
    }
    if (dlt == RP_LT_FDDI) { /* frame control, addresses, LLC/SNAP */
        if (cap < 13 + 8) {
            c->trunc_link++;
            return NET_SKIP;
        }
        if (p[13] != 0xaa || p[14] != 0xaa || p[15] != 0x03) {
            c->llc++;
            return NET_SKIP;
        }
        *off = 19;
        return walk_ethertype(p, cap, off, o, c);
    }
    if (dlt == RP_LT_IPOIB) {
        /* type (2) and reserved (2) (RFC 4391 6), after nothing, a 20-byte
         * destination address or a 40-byte Global Route Header (what
         * Wireshark decodes): the first place where an IP type is followed
         * by that IP version */
        static const uint32_t at[] = {0, 20, 40};
        for (size_t k = 0; k < sizeof at / sizeof at[0]; k++) {
            if (cap < at[k] + 5)
                break;
            unsigned t = be16(p + at[k]), v = p[at[k] + 4] >> 4;
            if ((t == ET_IPV4 && v == 4) || (t == ET_IPV6 && v == 6)) {
                *off = at[k] + 4;
                return t == ET_IPV4 ? NET_V4 : NET_V6;
            }
        }
        *off = 0;
        enum net n = walk_ethertype(p, cap, off, o, c);
        *off += 2;
        return n;
    }
    if (dlt == RP_LT_JUNIPER_ETHER) {
        /* "MGC", flags; flag 0x80: 2-byte length of extensions follows */
        if (cap < 4 || p[0] != 'M' || p[1] != 'G' || p[2] != 'C') {
            c->trunc_link++;
            return NET_SKIP;
        }
        *off = 4;
        if (p[3] & 0x80) {
            if (cap < 6) {
                c->trunc_link++;
                return NET_SKIP;
            }
            *off = 6 + be16(p + 4);
        }
        *off += 12;
        return walk_ethertype(p, cap, off, o, c);
    }
    if (dlt == RP_LT_NFLOG) {
        /* family, version, resource id; TLVs of (little-endian) length
         * and type, 4-byte aligned; the packet is NFULA_PAYLOAD (9) */
        if (cap < 4) {
            c->trunc_link++;
            return NET_SKIP;
        }
        uint32_t i = 4;
        while (i + 4 <= cap) {
            uint32_t len = (uint32_t)p[i] | (uint32_t)p[i + 1] << 8;
            unsigned type = ((unsigned)p[i + 2] | (unsigned)p[i + 3] << 8) & 0x7fffu;
            if (len < 4)
                break;
            if (type == 9) {
                *off = i + 4;
                return p[0] == 2 ? NET_V4 : p[0] == 10 ? NET_V6 : NET_ANY;
            }
            i += (len + 3) & ~3u;
        }
        c->other_family++;
        return NET_SKIP;
    }
    if (dlt == RP_LT_ARCNET_BSD || dlt == RP_LT_ARCNET_LINUX)
        return arcnet(dlt == RP_LT_ARCNET_LINUX, p, cap, off, c);
    c->link_unsupported++;
    return NET_SKIP;
}

/* TCP options (bytes p[0..n)): timestamps, MSS, window scale, SACK-permitted.
 * Returns false on a malformed list.  cut: the capture ends at n, before
 * the header does, so an option running past n is cut, not malformed. */
static bool tcp_options(const uint8_t *p, uint32_t n, bool cut, rp_pkt *o)
{
    uint32_t i = 0;
    while (i < n) {
        uint8_t kind = p[i];
        if (kind == 0)
            return true;
        if (kind == 1) {
            i++;
            continue;
        }
        if (i + 1 >= n)
            return cut;
        uint8_t len = p[i + 1];
        if (len < 2)
            return false;
        if (len > n - i)
            return cut;
        const uint8_t *v = p + i + 2;
        switch (kind) {
        case 2:
            if (len == 4) {
                o->has_mss = true;
                o->mss = be16(v);
            }
            break;
        case 3:
            if (len == 3) {
                o->has_wscale = true;
                o->wscale = v[0];
            }
            break;
        case 4:
            if (len == 2)
                o->sack_ok = true;
            break;
        case 8:
            if (len == 10) {
                o->has_ts = true;
                o->tsval = be32(v);
                o->tsecr = be32(v + 4);
            }
            break;
        default:
            break;
        }
        i += len;
    }
    return true;
}

/* The transport layer.  l4 = start, l4len = datagram bytes from l4 per the
 * IP header, l4cap = bytes captured from l4 (<= l4len unless the frame had
 * trailing padding, which the caller cut off).  pseudo = the pseudo-header
 * sum (0 if not to be verified).  Returns true if the packet is delivered. */
static bool transport(unsigned proto, bool v6, const uint8_t *l4, uint32_t l4len,
                      uint32_t l4cap, bool verify, uint64_t pseudo, rp_pkt *o,
                      rp_counts *c)
{
    bool whole = l4cap >= l4len;
    if (proto == 6) {
        if (l4cap < 20) {
            c->trunc_l4++;
            return false;
        }
        uint32_t hl = (uint32_t)(l4[12] >> 4) * 4;
        if (hl < 20 || hl > l4len) {
            c->bad_tcp_hlen++;
            return false;
        }
        o->proto = SM_TCP;
        o->src.port = be16(l4);
        o->dst.port = be16(l4 + 2);
        o->seq = be32(l4 + 4);
        o->ack = be32(l4 + 8);
        o->flags = l4[13];
        o->window = be16(l4 + 14);
        o->len = l4len - hl;
        uint32_t optcap = hl <= l4cap ? hl - 20 : l4cap - 20;
        if (!tcp_options(l4 + 20, optcap, hl > l4cap, o))
            o->anomalies |= RP_A_BAD_TCP_OPT;
        if (hl > l4cap)
            o->anomalies |= RP_A_PAYLOAD_CUT;
        if (v6)
            c->tcp6++;
        else
            c->tcp4++;
    } else {
        if (l4cap < 8) {
            c->trunc_l4++;
            return false;
        }
        uint32_t ul = be16(l4 + 4);
        if (ul == 0 && v6 && l4len > 0xffffu) {
            ul = l4len; /* jumbogram: length from IPv6 */
        }
        if (ul < 8) {
            c->bad_udp_len++;
            return false;
        }
        o->proto = SM_UDP;
        o->src.port = be16(l4);
        o->dst.port = be16(l4 + 2);
        if (ul > l4len) {
            o->anomalies |= RP_A_BAD_LEN;
            ul = l4len;
        }
        o->len = ul - 8;
        l4len = ul; /* the checksum covers the UDP length */
        whole = l4cap >= l4len;
        if (!v6 && be16(l4 + 6) == 0)
            verify = false; /* IPv4 UDP: no checksum */
        if (v6)
            c->udp6++;
        else
            c->udp4++;
    }
    if (!whole)
        o->anomalies |= RP_A_PAYLOAD_CUT;
    if (verify) {
        if (!whole || (o->anomalies & RP_A_BAD_LEN)) {
            o->anomalies |= RP_A_CSUM_UNCHECKED;
        } else {
            uint8_t ph[4] = {0, 0, 0, (uint8_t)proto};
            uint8_t lb[4] = {(uint8_t)(l4len >> 24), (uint8_t)(l4len >> 16),
                             (uint8_t)(l4len >> 8), (uint8_t)l4len};
            uint64_t s = pseudo;
            s = smu_csum_add(s, ph, 4);
            s = smu_csum_add(s, lb, 4);
            s = smu_csum_add(s, l4, l4len);
            if (smu_csum_fold(s) != 0xffffu)
                o->anomalies |= RP_A_BAD_L4_CSUM;
        }
    }
    return true;
}

/* What an IP datagram carries when it is a tunnel: the inner packet. */
typedef struct inner {
    const uint8_t *p; /* the inner network header */
    uint32_t cap;     /* bytes captured from p */
    enum net n;
    /* the datagram p lies in and its wire length: the caller's, unless
     * it was reassembled from fragments */
    const uint8_t *base;
    uint32_t base_w;
    rp_decode_state *st; /* keeps an A-MSDU's further subframes */
} inner;

/* Result of ipv4()/ipv6(). */
enum { IP_SKIP = 0, IP_DELIVER = 1, IP_INNER = 2 };

/* A link-layer type at p+off (cap bytes at p) inside a tunnel, walked to
 * the network header. */
static int inner_type(const uint8_t *p, uint32_t cap, uint32_t off, inner *in, rp_pkt *o,
                      rp_counts *c)
{
    enum net n = walk_ethertype(p, cap, &off, o, c);
    if (n == NET_SKIP)
        return IP_SKIP;
    if (off > cap) {
        c->trunc_link++;
        return IP_SKIP;
    }
    in->p = p + off;
    in->cap = cap - off;
    in->n = n;
    return IP_INNER;
}

/* An Ethernet frame at p (cap bytes) inside a tunnel. */
static int inner_eth(const uint8_t *p, uint32_t cap, inner *in, rp_pkt *o, rp_counts *c)
{
    return inner_type(p, cap, 12, in, o, c);
}

/* The offset of the A-MSDU subframe after the one at p (cap bytes): its
 * header (destination, source, a 2-byte length), its MSDU, padding to a
 * multiple of 4 bytes (IEEE 802.11 9.3.2.2.2); cap when it is the last
 * (no whole subframe header follows). */
static uint32_t amsdu_next(const uint8_t *p, uint32_t cap)
{
    if (cap < 14)
        return cap;
    uint32_t n = (14u + be16(p + 12) + 3u) & ~3u;
    return n + 14 <= cap ? n : cap;
}

/* An A-MSDU subframe at p (cap bytes): its MSDU, LLC/SNAP and the type,
 * walked to the network header (at most the subframe's length). */
static int amsdu_sub(const uint8_t *p, uint32_t cap, inner *in, rp_pkt *o, rp_counts *c)
{
    if (cap < 14 + 8) {
        c->trunc_link++;
        return IP_SKIP;
    }
    uint32_t n = 14u + be16(p + 12);
    if (n < cap)
        cap = n; /* the padding and the next subframes are not this one's */
    if (cap < 14 + 8 || p[14] != 0xaa || p[15] != 0xaa || p[16] != 0x03) {
        c->trunc_link += cap < 14 + 8;
        c->llc += cap >= 14 + 8;
        return IP_SKIP;
    }
    return inner_type(p, cap, 14 + 6, in, o, c);
}

/* Keeps the subframes from p on (cap bytes), for rp_decode_more, with the
 * packet's fields as they are before the first subframe's decoding.  Not
 * while those of a record are being decoded (an A-MSDU inside one), nor
 * without memory: the first subframe only, then. */
static void amsdu_keep(rp_decode_state *st, const uint8_t *p, uint32_t cap, const rp_pkt *o)
{
    if (st->in_sub)
        return;
    if (cap > st->sub_size) {
        uint8_t *b = realloc(st->sub_buf, cap);
        if (!b)
            return;
        st->sub_buf = b;
        st->sub_size = cap;
    }
    memcpy(st->sub_buf, p, cap);
    st->sub_len = cap;
    st->sub_pos = 0;
    st->sub_tmpl = *o;
    st->sub_tmpl.anomalies |= RP_A_TUNNEL;
}

/* An 802.11 data frame at p (Aruba's GRE): the header (24 bytes, 30 with
 * four addresses, QoS control, HT control), then LLC/SNAP and the type.
 * Of an A-MSDU, the first subframe is decoded here and the others are kept
 * for rp_decode_more (every subframe a packet, as Wireshark shows them);
 * protected (encrypted) frames and frames without a body are skipped. */
static int wlan(const uint8_t *p, uint32_t cap, inner *in, rp_pkt *o, rp_counts *c)
{
    if (cap < 24) {
        c->trunc_link++;
        return IP_SKIP;
    }
    unsigned fc = p[0], fl = p[1];
    bool qos = (fc >> 4) & 8;
    if (((fc >> 2) & 3) != 2 || ((fc >> 4) & 4) || (fl & 0x40)) {
        c->other_ethertype++; /* not data, no body, or encrypted */
        return IP_SKIP;
    }
    uint32_t hl = (fl & 3) == 3 ? 30 : 24;
    bool amsdu = false;
    if (qos) {
        if (cap < hl + 2) {
            c->trunc_link++;
            return IP_SKIP;
        }
        amsdu = p[hl] & 0x80;
        hl += 2 + (fl & 0x80 ? 4 : 0);
    }
    if (amsdu && cap >= hl) {
        uint32_t next = amsdu_next(p + hl, cap - hl);
        if (next < cap - hl && in->st)
            amsdu_keep(in->st, p + hl + next, cap - hl - next, o);
        return amsdu_sub(p + hl, cap - hl, in, o, c);
    }
    if (cap < hl + 8 || p[hl] != 0xaa || p[hl + 1] != 0xaa || p[hl + 2] != 0x03) {
        c->trunc_link += cap < hl + 8;
        c->llc += cap >= hl + 8;
        return IP_SKIP;
    }
    return inner_type(p, cap, hl + 6, in, o, c);
}

/* GRE (RFC 2784/2890) at p: IPv4, IPv6, Ethernet (0x6558), ERSPAN types
 * I and II (0x88be) and III (0x22eb), MPLS. */
static int gre(const uint8_t *p, uint32_t cap, inner *in, rp_pkt *o, rp_counts *c)
{
    if (cap < 4) {
        c->trunc_l4++;
        return IP_SKIP;
    }
    unsigned fl = be16(p), type = be16(p + 2);
    if ((fl & 0x4007u) != 0) { /* routing present, or a version other than 0 */
        c->ip_other++;
        return IP_SKIP;
    }
    uint32_t hl = 4 + (fl & 0x8000u ? 4 : 0) + (fl & 0x2000u ? 4 : 0) + (fl & 0x1000u ? 4 : 0);
    if (type == 0x88beu && (fl & 0x1000u))
        hl += 8; /* ERSPAN type II header */
    else if (type == 0x22ebu) {
        if (cap < hl + 12) {
            c->trunc_l4++;
            return IP_SKIP;
        }
        hl += 12 + (p[hl + 11] & 1 ? 8 : 0); /* type III; O: platform subheader */
    }
    if (cap < hl) {
        c->trunc_l4++;
        return IP_SKIP;
    }
    const uint8_t *b = p + hl;
    uint32_t bc = cap - hl;
    if (type == ET_IPV4 || type == ET_IPV6) {
        in->p = b;
        in->cap = bc;
        in->n = type == ET_IPV4 ? NET_V4 : NET_V6;
        return IP_INNER;
    }
    if (type == ET_TEB || type == 0x88beu || type == 0x22ebu)
        return inner_eth(b, bc, in, o, c);
    if (type == ET_MPLS) {
        uint32_t off = 0;
        bool eth = false;
        enum net n = mpls(b, bc, &off, &eth, c);
        if (n == NET_SKIP)
            return IP_SKIP;
        if (eth && off > bc) { /* the control word is cut */
            c->trunc_link++;
            return IP_SKIP;
        }
        if (eth)
            return inner_eth(b + off, bc - off, in, o, c);
        in->p = b + off;
        in->cap = off <= bc ? bc - off : 0;
        in->n = n;
        return IP_INNER;
    }
    if (type == 0x883eu) { /* Cisco WCCP: a 4-byte redirect header (v2), or none */
        uint32_t h = bc >= 1 && b[0] >> 4 == 4 ? 0 : 4;
        if (bc < h + 1) {
            c->trunc_l4++;
            return IP_SKIP;
        }
        in->p = b + h;
        in->cap = bc - h;
        in->n = NET_V4;
        return IP_INNER;
    }
    if ((type >= 0x8200u && type <= 0x83f0u && (type & 0xfu) == 0) || type == 0x9000u)
        return wlan(b, bc, in, o, c); /* Aruba: an 802.11 frame */
    c->ip_other++;
    return IP_SKIP;
}

/* Teredo (RFC 4380) at p (pc bytes after the UDP header): an optional
 * authentication indication (5.1.1: 0x0001, the client identifier's and
 * the authentication value's lengths, them, an 8-byte nonce and a
 * confirmation byte), an optional origin indication (0x0000, port and
 * address: 8 bytes), then an IPv6 packet.  The offset of the packet, or
 * 0 when this is not one (too short, or no IPv6 header there). */
static uint32_t teredo(const uint8_t *p, uint32_t pc)
{
    uint32_t h = 0;
    if (pc >= 4 && be16(p) == 0x0001u)
        h = 4u + p[2] + p[3] + 9u;
    if (pc >= h + 2 && be16(p + h) == 0x0000u)
        h += 8;
    if (pc < h + 40 || (p[h] >> 4) != 6)
        return 0;
    return h ? h : UINT32_MAX;
}

/* A UDP datagram to a tunnel's port: VXLAN (4789), Geneve (6081), GRE
 * (4754), AYIYA (5072), GTP-U (2152), Teredo (3544).  Returns IP_DELIVER
 * when it is not one (an ordinary datagram). */
static int udp_tunnel(const uint8_t *u, uint32_t cap, inner *in, rp_pkt *o, rp_counts *c)
{
    if (cap < 8)
        return IP_DELIVER;
    unsigned sp = be16(u), dp = be16(u + 2);
    const uint8_t *p = u + 8;
    uint32_t pc = cap - 8;
    if (dp == 4789 && pc >= 8 && (p[0] & 0x08))
        return inner_eth(p + 8, pc - 8, in, o, c);
    if (dp == 6081 && pc >= 8 && (p[0] >> 6) == 0) {
        uint32_t hl = 8 + (uint32_t)(p[0] & 0x3fu) * 4;
        unsigned type = be16(p + 2);
        if (pc < hl)
            return IP_DELIVER;
        if (type == ET_TEB)
            return inner_eth(p + hl, pc - hl, in, o, c);
        if (type == ET_IPV4 || type == ET_IPV6) {
            in->p = p + hl;
            in->cap = pc - hl;
            in->n = type == ET_IPV4 ? NET_V4 : NET_V6;
            return IP_INNER;
        }
        return IP_DELIVER;
    }
    if ((dp == 4754 || sp == 4754) && pc >= 4 && (be16(p) & 0x4007u) == 0)
        return gre(p, pc, in, o, c); /* GRE in UDP, RFC 8086 */
    if ((dp == 5072 || sp == 5072) && pc >= 8 && (p[2] & 0x0fu) == 1 &&
        (p[3] == 4 || p[3] == 41)) {
        /* AYIYA forwarding a packet: 8 bytes, the identity (2^n bytes), the
         * signature (4-byte words) */
        uint32_t hl = 8 + (1u << (p[0] >> 4)) + (uint32_t)(p[1] >> 4) * 4;
        if (pc <= hl)
            return IP_DELIVER;
        in->p = p + hl;
        in->cap = pc - hl;
        in->n = p[3] == 4 ? NET_V4 : NET_V6;
        return IP_INNER;
    }
    if ((dp == 2152 || sp == 2152) && pc >= 8 && (p[0] >> 5) == 1 && (p[0] & 0x10) &&
        p[1] == 0xff) {
        /* GTPv1-U G-PDU: 8 bytes, 4 more with E/S/PN, extension headers */
        uint32_t hl = 8;
        if (p[0] & 0x07) {
            hl = 12;
            if (pc < hl)
                return IP_DELIVER;
            unsigned next = p[0] & 0x04 ? p[11] : 0;
            for (int k = 0; next && k < MAX_HOPS; k++) {
                if (pc < hl + 1 || p[hl] == 0)
                    return IP_DELIVER;
                uint32_t len = (uint32_t)p[hl] * 4;
                if (pc < hl + len)
                    return IP_DELIVER;
                next = p[hl + len - 1];
                hl += len;
            }
            if (next)
                return IP_DELIVER;
        }
        if (pc <= hl)
            return IP_DELIVER;
        in->p = p + hl;
        in->cap = pc - hl;
        in->n = NET_ANY;
        return IP_INNER;
    }
    if (dp == 3544 || sp == 3544) {
        uint32_t h = teredo(p, pc);
        if (!h)
            return IP_DELIVER;
        h = h == UINT32_MAX ? 0 : h;
        in->p = p + h;
        in->cap = pc - h;
        in->n = NET_V6;
        return IP_INNER;
    }
    return IP_DELIVER;
}

/* IP protocol proto at l4 (l4cap bytes captured): a tunnel? */
static int ip_tunnel(unsigned proto, const uint8_t *l4, uint32_t l4cap, inner *in, rp_pkt *o,
                     rp_counts *c)
{
    if (proto == 4 || proto == 41) { /* IPv4 / IPv6 in IP */
        in->p = l4;
        in->cap = l4cap;
        in->n = proto == 4 ? NET_V4 : NET_V6;
        return IP_INNER;
    }
    if (proto == 47)
        return gre(l4, l4cap, in, o, c);
    if (proto == 17)
        return udp_tunnel(l4, l4cap, in, o, c);
    return IP_DELIVER;
}

static int ipv4(const uint8_t *p, uint32_t cap, uint32_t wire, rp_pkt *o, rp_counts *c,
                bool verify, inner *in, struct rp__reasm **ra)
{
    if (cap < 20) {
        c->trunc_ip++;
        return false;
    }
    if ((p[0] >> 4) != 4) {
        c->bad_ip_version++;
        return false;
    }
    uint32_t hl = (uint32_t)(p[0] & 0x0fu) * 4;
    if (hl < 20) {
        c->bad_ip_hlen++;
        return false;
    }
    if (cap < hl) {
        c->trunc_ip++;
        return false;
    }
    uint32_t tot = be16(p + 2);
    if (tot == 0) {
        /* TSO/GSO capture: the stack had not filled the length in yet */
        tot = wire;
        o->anomalies |= RP_A_LEN_FROM_FRAME;
    } else if (tot < hl) {
        c->bad_ip_len++;
        return false;
    } else if (tot > wire) {
        tot = wire;
        o->anomalies |= RP_A_BAD_LEN;
    }
    if (tot < hl) { /* wire shorter than the header: broken record */
        c->bad_ip_len++;
        return false;
    }
    unsigned fo = be16(p + 6);
    unsigned proto = p[9];
    bool frag = false;
    /* A fragment captured whole with a right header checksum is held for
     * reassembly; one with a wrong checksum is not (a stack drops it, and
     * Wireshark does not reassemble it but dissects a first fragment alone). */
    if ((fo & 0x3fffu) != 0 && ra && cap >= tot &&
        smu_csum_fold(smu_csum_add(0, p, hl)) == 0xffffu) {
        const uint8_t *whole;
        uint32_t n;
        switch (rp__reasm4(ra, p, hl, tot, o->ts_mono_ns, &whole, &n, c)) {
        case RP__FRAG_HELD:
        case RP__FRAG_DROPPED:
            c->frag4++;
            return IP_SKIP;
        case RP__FRAG_DONE: /* the datagram, as if it had come whole */
            p = in->base = whole;
            cap = tot = wire = in->base_w = n;
            fo = 0;
            o->anomalies |= RP_A_REASSEMBLED;
            break;
        case RP__FRAG_NOMEM: /* as without reassembly */
            break;
        }
    }
    if ((fo & 0x3fffu) != 0) { /* MF set or offset non-zero */
        /* not reassembled (cut by the snaplen, a bad header checksum, or no
         * memory): a first fragment that carries the whole TCP header (or
         * the UDP header) is delivered with it; the others are skipped */
        uint32_t have = (cap < tot ? cap : tot) - hl;
        bool first = (fo & 0x1fffu) == 0;
        bool hdr = proto == 6 ? have >= 20 && (uint32_t)(p[hl + 12] >> 4) * 4 <= have
                              : proto == 17 && have >= 8;
        if (!first || !hdr) {
            c->frag4++;
            return IP_SKIP;
        }
        frag = true;
        o->anomalies |= RP_A_FRAGMENT;
    }
    if (proto != 6 && proto != 17) {
        if (proto == 4 || proto == 41 || proto == 47) {
            uint32_t l4c = (cap < tot ? cap : tot) - hl;
            return ip_tunnel(proto, p + hl, l4c, in, o, c);
        }
        if (proto == 1)
            c->icmp4++;
        else
            c->ip_other++;
        return IP_SKIP;
    }
    if (proto == 17 && !frag) {
        int r = ip_tunnel(proto, p + hl, (cap < tot ? cap : tot) - hl, in, o, c);
        if (r != IP_DELIVER)
            return r;
    }

    o->src.addr.family = 4;
    o->dst.addr.family = 4;
    memcpy(o->src.addr.b, p + 12, 4);
    memcpy(o->dst.addr.b, p + 16, 4);
    o->ttl = p[8];
    bool bad_ip = verify && smu_csum_fold(smu_csum_add(0, p, hl)) != 0xffffu;
    uint32_t l4cap = cap < tot ? cap - hl : tot - hl;
    uint64_t pseudo = verify ? smu_csum_add(0, p + 12, 8) : 0;
    /* a fragment: the checksum covers the whole datagram, the UDP length
     * too */
    if (!transport(proto, false, p + hl, tot - hl, l4cap, verify && !frag, pseudo, o, c))
        return IP_SKIP;
    if (frag) {
        o->anomalies &= (uint16_t)~RP_A_BAD_LEN;
        if (verify)
            o->anomalies |= RP_A_CSUM_UNCHECKED;
    }
    if (bad_ip)
        o->anomalies |= RP_A_BAD_IP_CSUM;
    return IP_DELIVER;
}

static int ipv6(const uint8_t *p, uint32_t cap, uint32_t wire, rp_pkt *o, rp_counts *c,
                bool verify, inner *in, struct rp__reasm **ra)
{
    if (cap < 40) {
        c->trunc_ip++;
        return false;
    }
    if ((p[0] >> 4) != 6) {
        c->bad_ip_version++;
        return false;
    }
    uint32_t tot = 40u + be16(p + 4);
    if (tot == 40 && p[6] == 0) {
        /* payload length 0 with hop-by-hop first: a jumbogram (or TSO);
         * the frame gives the length */
        tot = wire;
        o->anomalies |= RP_A_LEN_FROM_FRAME;
    } else if (tot > wire) {
        tot = wire;
        o->anomalies |= RP_A_BAD_LEN;
    }
    if (tot < 40) {
        c->bad_ip_len++;
        return false;
    }
    uint32_t lim = cap < tot ? cap : tot; /* readable bytes of the datagram */
    const uint8_t *final_dst = p + 24;
    const uint8_t *src = p + 8; /* the Home Address option replaces it */
    const uint8_t *dst = p + 24;
    unsigned nh = p[6];
    uint32_t off = 40;
    uint32_t nh_at = 6; /* the Next Header field that names the header at off */
    bool ext = false, frag = false;
    for (;;) {
        if (nh == 6 || nh == 17)
            break;
        if (nh == 0 || nh == 43 || nh == 60 || nh == 51 || nh == 44 || nh == 135 ||
            nh == 139 || nh == 140) {
            if (off + 8 > tot) {
                c->bad_ip_len++;
                return false;
            }
            if (off + 8 > lim) {
                c->trunc_ip++;
                return false;
            }
            uint32_t hlen;
            if (nh == 44) {
                hlen = 8;
                unsigned fo = be16(p + off + 2);
                /* an atomic fragment (RFC 6946: offset 0, M clear) is a
                 * whole packet: go on.  A fragment captured whole is held
                 * for reassembly (reasm.c); the packet it completes is
                 * decoded from its start, as if it had come whole. */
                if ((fo & 0xfff9u) != 0 && ra && cap >= tot) {
                    const uint8_t *whole;
                    uint32_t n;
                    switch (rp__reasm6(ra, p, off, nh_at, tot, o->ts_mono_ns, &whole, &n, c)) {
                    case RP__FRAG_HELD:
                    case RP__FRAG_DROPPED:
                        c->frag6++;
                        return IP_SKIP;
                    case RP__FRAG_DONE:
                        p = in->base = whole;
                        cap = tot = lim = in->base_w = n;
                        o->anomalies |= RP_A_REASSEMBLED;
                        ra = NULL; /* a Fragment header inside: first fragments only */
                        final_dst = dst = p + 24;
                        src = p + 8;
                        nh = p[6];
                        off = 40;
                        nh_at = 6;
                        ext = false;
                        continue;
                    case RP__FRAG_NOMEM: /* as without reassembly */
                        break;
                    }
                }
                /* not reassembled (cut by the snaplen, no memory): a first
                 * fragment (M set) gives its TCP/UDP header; the others
                 * are skipped */
                if ((fo & 0xfff8u) != 0) {
                    c->frag6++;
                    return IP_SKIP;
                }
                if (fo & 1u) {
                    frag = true;
                    o->anomalies |= RP_A_FRAGMENT;
                }
            } else if (nh == 51) {
                hlen = ((uint32_t)p[off + 1] + 2) * 4;
            } else {
                hlen = ((uint32_t)p[off + 1] + 1) * 8;
            }
            if (off + hlen > tot) {
                c->bad_ip_len++;
                return false;
            }
            if (off + hlen > lim) {
                c->trunc_ip++;
                return false;
            }
            if (nh == 43 && p[off + 3] != 0) {
                /* segments left: the connection and the pseudo-header use
                 * the final destination (RFC 8200 8.1; type 2: the home
                 * address, RFC 6275 6.4) */
                unsigned rtype = p[off + 2];
                if ((rtype == 0 || rtype == 2) && hlen >= 24)
                    final_dst = dst = p + off + hlen - 16;
                else if (rtype == 4 && hlen >= 24)
                    final_dst = dst = p + off + 8; /* SRH: Segment List[0] */
                else
                    final_dst = NULL;
            }
            if (nh == 60) {
                /* Home Address option (0xc9, 16 bytes): the mobile
                 * node's home address is the source (RFC 6275 9.3.1) */
                for (uint32_t i = off + 2; i < off + hlen;) {
                    unsigned ot = p[i];
                    if (ot == 0) {
                        i++;
                        continue;
                    }
                    if (i + 2 > off + hlen || i + 2 + p[i + 1] > off + hlen)
                        break;
                    if (ot == 0xc9 && p[i + 1] == 16)
                        src = p + i + 2;
                    i += 2u + p[i + 1];
                }
            }
            ext = true;
            nh = p[off];
            nh_at = off;
            off += hlen;
            continue;
        }
        if ((nh == 4 || nh == 41 || nh == 47) && !frag)
            return ip_tunnel(nh, p + off, lim - off, in, o, c);
        if (nh == 50)
            c->ip6_esp++;
        else if (nh == 59)
            c->ip6_no_next++;
        else if (nh == 58)
            c->icmp6++;
        else
            c->ip_other++;
        return false;
    }
    if (nh == 17 && !frag) {
        int r = ip_tunnel(nh, p + off, lim - off, in, o, c);
        if (r != IP_DELIVER)
            return r;
    }
    o->src.addr.family = 6;
    o->dst.addr.family = 6;
    memcpy(o->src.addr.b, src, 16);
    memcpy(o->dst.addr.b, dst, 16);
    o->ttl = p[7];
    uint32_t l4len = tot - off;
    uint32_t l4cap = lim - off;
    uint64_t pseudo = 0;
    bool v = verify && final_dst != NULL && !frag;
    if (v) {
        pseudo = smu_csum_add(0, src, 16);
        pseudo = smu_csum_add(pseudo, final_dst, 16);
    }
    if (!transport(nh, true, p + off, l4len, l4cap, v, pseudo, o, c))
        return IP_SKIP;
    if (frag)
        o->anomalies &= (uint16_t)~RP_A_BAD_LEN;
    if (verify && !v)
        o->anomalies |= RP_A_CSUM_UNCHECKED;
    if (ext)
        o->anomalies |= RP_A_IP6_EXT;
    return true;
}

/* The record's time: ts_ns as in the file, ts_mono_ns the model's clock.
 * The clock follows the file's time forward; a step back is reported
 * (RP_A_TS_BACKWARDS) and the clock waits until the file's time passes it
 * again.  A step of more than RP_TS_JUMP_NS either way, a time beyond
 * 2^64 ns (beyond), or a step past RP_TS_MONO_MAX is a broken clock
 * (RP_A_TS_JUMP): the clock stays where it is and follows the file's time
 * from there on (off_ns absorbs the jump), so one flipped byte costs two
 * reports, not a model that skips centuries or stops.  The first record
 * sets the clock (at most RP_TS_MONO_MAX / 2, 2^62 ns).  Differences are taken
 * modulo 2^64 and read as signed: they are only trusted below
 * RP_TS_JUMP_NS, far from the wrap.  Returns the anomaly bits. */
static inline uint16_t stamp(rp_decode_state *st, uint64_t ts, bool beyond, rp_pkt *o,
                             rp_counts *c)
{
    o->ts_ns = ts;
    uint16_t a = 0;
    if (__builtin_expect(!st->have_ts, 0)) {
        uint64_t start = ts < RP_TS_MONO_MAX / 2 ? ts : RP_TS_MONO_MAX / 2;
        st->off_ns = start - ts;
        st->max_ts_ns = start;
        st->have_ts = true;
        if (beyond) {
            a = RP_A_TS_JUMP;
            c->ts_jumps++;
            st->jump_frame = o->frame;
            st->jump_from_ns = st->jump_to_ns = ts;
        }
    } else {
        uint64_t adj = ts + st->off_ns;
        int64_t d = (int64_t)(adj - st->max_ts_ns);
        if (beyond || d > (int64_t)RP_TS_JUMP_NS || d < -(int64_t)RP_TS_JUMP_NS ||
            (d > 0 && (uint64_t)d > RP_TS_MONO_MAX - st->max_ts_ns)) {
            a = RP_A_TS_JUMP;
            c->ts_jumps++;
            if (!st->jump_frame) {
                st->jump_frame = o->frame;
                st->jump_from_ns = st->prev_ts_ns;
                st->jump_to_ns = ts;
            }
            st->off_ns = st->max_ts_ns - ts;
        } else if (d < 0) {
            a = RP_A_TS_BACKWARDS;
            c->ts_backwards++;
        } else {
            st->max_ts_ns = adj;
        }
    }
    st->prev_ts_ns = ts;
    o->ts_mono_ns = st->max_ts_ns;
    return a;
}

/* The fast path of rp_decode: an untagged Ethernet frame carrying IPv4
 * without options or IPv6 without extension headers, then TCP whose whole
 * header was captured, lengths consistent, checksums not to be verified:
 * nearly every record of a real capture.  It reads the same fields the
 * general path would and produces the same rp_pkt and counts; every check
 * is made before anything is written, and a record that fails any of them
 * returns false untouched for the general path.  (The general path's cost
 * is mostly its generality: the link-type dispatch, the option loop and
 * the counters of rare cases.) */
static bool decode_fast(rp_decode_state *st, int64_t ts_sec, uint32_t ts_nsec,
                        uint32_t caplen, uint32_t wirelen, const uint8_t *d, rp_pkt *o,
                        rp_counts *c)
{
    if (caplen < 14 + 20 + 20 || ts_sec < 0 || ts_nsec > 999999999u ||
        (uint64_t)ts_sec > (UINT64_MAX - 999999999u) / 1000000000u)
        return false;
    uint32_t wire = wirelen < caplen ? caplen : wirelen;
    uint32_t cap = caplen - 14, w = wire - 14;
    unsigned et = be16(d + 12);
    const uint8_t *ip = d + 14, *l4;
    uint32_t tot, ihl;
    bool v6;
    if (et == ET_IPV4) {
        /* version 4, IHL 5, protocol TCP, not a fragment, length sane */
        if (ip[0] != 0x45 || ip[9] != 6 || (be16(ip + 6) & 0x3fffu) != 0)
            return false;
        tot = be16(ip + 2);
        ihl = 20;
        v6 = false;
    } else if (et == ET_IPV6) {
        /* version 6, next header TCP (no extension headers) */
        if (cap < 40 + 20 || (ip[0] >> 4) != 6 || ip[6] != 6)
            return false;
        tot = 40u + be16(ip + 4);
        ihl = 40;
        v6 = true;
    } else {
        return false;
    }
    if (tot < ihl + 20 || tot > w)
        return false;
    l4 = ip + ihl;
    uint32_t l4len = tot - ihl;
    uint32_t l4cap = (cap < tot ? cap : tot) - ihl;
    uint32_t hl = (uint32_t)(l4[12] >> 4) * 4;
    if (hl < 20 || hl > l4len || hl > l4cap)
        return false;
    const uint8_t *opt = l4 + 20;
    /* the option list of nearly every segment after the handshake:
     * NOP, NOP, timestamps */
    bool ts_only = hl == 32 && opt[0] == 1 && opt[1] == 1 && opt[2] == 8 && opt[3] == 10;

    /* accepted: from here on the record is this path's */
    c->records++;
    c->bytes_captured += caplen;
    c->bytes_wire += wirelen;
    o->frame = ++st->frame;
    uint16_t anomalies = stamp(st, (uint64_t)ts_sec * 1000000000u + ts_nsec, false, o, c);
    o->proto = SM_TCP;
    /* addresses through 16-byte locals: plain stores (a memset of the
     * 20-byte endpoints compiled to a slow `rep stos`) */
    uint8_t sa[16] = {0}, da[16] = {0};
    if (v6) {
        o->src.addr.family = o->dst.addr.family = 6;
        memcpy(sa, ip + 8, 16);
        memcpy(da, ip + 24, 16);
        o->ttl = ip[7];
        c->tcp6++;
    } else {
        o->src.addr.family = o->dst.addr.family = 4;
        memcpy(sa, ip + 12, 4);
        memcpy(da, ip + 16, 4);
        o->ttl = ip[8];
        c->tcp4++;
    }
    memcpy(o->src.addr.b, sa, 16);
    memcpy(o->dst.addr.b, da, 16);
    o->src.port = be16(l4);
    o->dst.port = be16(l4 + 2);
    o->flags = l4[13];
    o->seq = be32(l4 + 4);
    o->ack = be32(l4 + 8);
    o->window = be16(l4 + 14);
    o->len = l4len - hl;
    o->has_mss = o->has_wscale = o->sack_ok = false;
    o->mss = 0;
    o->wscale = 0;
    o->vlan = 0;
    o->caplen = caplen;
    o->wirelen = wirelen;
    if (ts_only) {
        o->has_ts = true;
        o->tsval = be32(opt + 4);
        o->tsecr = be32(opt + 8);
    } else {
        o->has_ts = false;
        o->tsval = o->tsecr = 0;
        if (hl > 20 && !tcp_options(opt, hl - 20, false, o)) {
            anomalies |= RP_A_BAD_TCP_OPT;
            c->bad_tcp_opt++;
        }
    }
    if (l4cap < l4len) {
        anomalies |= RP_A_PAYLOAD_CUT;
        c->payload_cut++;
    }
    o->anomalies = anomalies;
    return true;
}

static bool decode_net(rp_decode_state *st, enum net n, const uint8_t *ip, uint32_t cap,
                       uint32_t w, rp_pkt *o, rp_counts *c);

bool rp_decode(rp_decode_state *st, int dlt, int64_t ts_sec, uint32_t ts_nsec,
               uint32_t caplen, uint32_t wirelen, const uint8_t *data,
               rp_pkt *o, rp_counts *c)
{
    st->sub_len = st->sub_pos = 0; /* the previous record's subframes are gone */
    if (dlt == DLT_EN10MB && (st->opts & (RP_OPT_NO_CSUM | RP_OPT_GENERAL)) == RP_OPT_NO_CSUM &&
        decode_fast(st, ts_sec, ts_nsec, caplen, wirelen, data, o, c))
        return true;
    memset(o, 0, sizeof *o);
    c->records++;
    c->bytes_captured += caplen;
    c->bytes_wire += wirelen;
    o->frame = ++st->frame;
    o->caplen = caplen;
    o->wirelen = wirelen;

    /* Timestamp: negative seconds clamp to 0; beyond 2^64 ns (a pcapng
     * record in year 2554, a flipped byte) saturates and is a jump. */
    uint64_t ts;
    bool beyond = false;
    if (ts_sec < 0) {
        ts = 0;
    } else if ((uint64_t)ts_sec > (UINT64_MAX - 999999999u) / 1000000000u) {
        ts = UINT64_MAX - 999999999u;
        beyond = true;
    } else {
        ts = (uint64_t)ts_sec * 1000000000u;
    }
    ts += ts_nsec > 999999999u ? 999999999u : ts_nsec;
    o->anomalies = stamp(st, ts, beyond, o, c);

    /* The wire length seen by the IP layer: at least what was captured. */
    uint32_t wire = wirelen < caplen ? caplen : wirelen;
    uint32_t off = 0;
    enum net n = link_decode(dlt, data, caplen, &off, o, c);
    if (n == NET_SKIP)
        return false;
    if (off > caplen) {
        c->trunc_link++;
        return false;
    }
    return decode_net(st, n, data + off, caplen - off, wire - off, o, c);
}

/* From the network header on (n, at ip, cap bytes captured, w on the
 * wire): IP, tunnels inside it, the transport header.  Counts the
 * delivered packet's anomalies. */
static bool decode_net(rp_decode_state *st, enum net n, const uint8_t *ip, uint32_t cap,
                       uint32_t w, rp_pkt *o, rp_counts *c)
{
    bool verify = !(st->opts & RP_OPT_NO_CSUM);
    for (int depth = 0;; depth++) {
        if (n == NET_ANY) { /* by the version nibble */
            unsigned ver = cap ? ip[0] >> 4 : 0;
            if (cap < 1) {
                c->trunc_ip++;
                return false;
            }
            if (ver != 4 && ver != 6) {
                c->bad_ip_version++;
                return false;
            }
            n = ver == 4 ? NET_V4 : NET_V6;
        }
        inner in = {.base = ip, .base_w = w, .st = st};
        int r = n == NET_V4 ? ipv4(ip, cap, w, o, c, verify, &in, &st->reasm)
                            : ipv6(ip, cap, w, o, c, verify, &in, &st->reasm);
        if (r == IP_SKIP)
            return false;
        if (r == IP_DELIVER)
            break;
        /* a tunnel: the inner packet is the record's */
        o->anomalies |= RP_A_TUNNEL;
        if (depth >= MAX_HOPS) {
            c->ip_other++;
            return false;
        }
        w = in.base_w - (uint32_t)(in.p - in.base);
        ip = in.p;
        cap = in.cap;
        n = in.n;
    }
    /* Anomalies of delivered packets are counted here, once each. */
    unsigned a = o->anomalies;
    c->vlan_tagged += (a & RP_A_VLAN) != 0;
    c->ip6_ext += (a & RP_A_IP6_EXT) != 0;
    c->bad_ip_csum += (a & RP_A_BAD_IP_CSUM) != 0;
    c->bad_l4_csum += (a & RP_A_BAD_L4_CSUM) != 0;
    c->csum_unchecked += (a & RP_A_CSUM_UNCHECKED) != 0;
    c->payload_cut += (a & RP_A_PAYLOAD_CUT) != 0;
    c->len_clipped += (a & RP_A_BAD_LEN) != 0;
    c->len_from_frame += (a & RP_A_LEN_FROM_FRAME) != 0;
    c->bad_tcp_opt += (a & RP_A_BAD_TCP_OPT) != 0;
    c->tunneled += (a & RP_A_TUNNEL) != 0;
    c->frag_first += (a & RP_A_FRAGMENT) != 0;
    c->reassembled += (a & RP_A_REASSEMBLED) != 0;
    return true;
}

bool rp_decode_more(rp_decode_state *st, rp_pkt *o, rp_counts *c)
{
    while (st->sub_pos < st->sub_len) {
        const uint8_t *p = st->sub_buf + st->sub_pos;
        uint32_t cap = st->sub_len - st->sub_pos;
        st->sub_pos += amsdu_next(p, cap);
        c->subframes++;
        *o = st->sub_tmpl;
        inner in = {.st = st};
        if (amsdu_sub(p, cap, &in, o, c) != IP_INNER)
            continue;
        st->in_sub = true;
        bool got = decode_net(st, in.n, in.p, in.cap, in.cap, o, c);
        st->in_sub = false;
        if (got)
            return true;
    }
    return false;
}

void rp_decode_state_free(rp_decode_state *st)
{
    rp__reasm_free(st->reasm);
    st->reasm = NULL;
    free(st->sub_buf);
    st->sub_buf = NULL;
    st->sub_len = st->sub_pos = st->sub_size = 0;
}

static bool ep_equal(const sm_endpoint *a, const sm_endpoint *b)
{
    return a->port == b->port && a->addr.family == b->addr.family &&
           memcmp(a->addr.b, b->addr.b, 16) == 0;
}

bool rp_pkt_equal(const rp_pkt *a, const rp_pkt *b)
{
    return a->frame == b->frame && a->ts_ns == b->ts_ns && a->ts_mono_ns == b->ts_mono_ns &&
           a->proto == b->proto && ep_equal(&a->src, &b->src) && ep_equal(&a->dst, &b->dst) &&
           a->flags == b->flags && a->seq == b->seq && a->ack == b->ack &&
           a->window == b->window && a->len == b->len && a->has_ts == b->has_ts &&
           a->tsval == b->tsval && a->tsecr == b->tsecr && a->has_mss == b->has_mss &&
           a->mss == b->mss && a->has_wscale == b->has_wscale && a->wscale == b->wscale &&
           a->sack_ok == b->sack_ok && a->ttl == b->ttl && a->vlan == b->vlan &&
           a->caplen == b->caplen && a->wirelen == b->wirelen && a->anomalies == b->anomalies;
}

/* ---- the file reader ----------------------------------------------------- */

static void set_err(char *err, size_t errlen, const char *msg)
{
    if (errlen == 0)
        return;
    snprintf(err, errlen, "%s", msg);
}

/* The reader is allocated before libpcap opens anything, so that a failed
 * allocation never leaves a pcap_t owning the caller's stream. */
static rp_reader *new_reader(unsigned opts, char *err, size_t errlen)
{
    rp_reader *r = aligned_alloc(64, (sizeof(rp_reader) + 63) & ~(size_t)63);
    if (r)
        memset(r, 0, sizeof *r);
    if (!r)
        set_err(err, errlen, "out of memory");
    else
        r->st.opts = opts;
    return r;
}

static void *read_ahead(void *arg);

static rp_reader *opened(rp_reader *r, pcap_t *pc, const char *eb, char *err, size_t errlen)
{
    if (!pc) {
        set_err(err, errlen, eb[0] ? eb : "cannot read capture");
        free(r);
        return NULL;
    }
    r->pc = pc;
    r->dlt = pcap_datalink(pc);
    if (r->st.opts & RP_OPT_THREAD) {
        /* read-ahead if the thread can be had; reading directly otherwise */
        atomic_init(&r->published, 0u);
        atomic_init(&r->released, 0u);
        atomic_init(&r->depth, RP_DEPTH0);
        atomic_init(&r->deeper, false);
        r->cslot = 0;
        atomic_init(&r->sleepers, 0);
        atomic_init(&r->stop, false);
        r->timing = (r->st.opts & RP_OPT_TIMING) != 0;
        r->ring = malloc(RP_NBATCH * sizeof *r->ring);
        if (r->ring && pthread_mutex_init(&r->mu, NULL) == 0) {
            if (pthread_cond_init(&r->cv, NULL) == 0) {
                if (pthread_create(&r->th, NULL, read_ahead, r) == 0) {
                    r->threaded = true;
                    return r;
                }
                pthread_cond_destroy(&r->cv);
            }
            pthread_mutex_destroy(&r->mu);
        }
        free(r->ring);
        r->ring = NULL;
    }
    return r;
}

/* The stream buffer of a capture file: libpcap reads each record with two
 * fread()s, and stdio's default buffer (one page) made that a read()
 * system call per 4 KiB.  64 KiB cut the process's CPU time by about 10%
 * on a capture of 1,100-byte frames (perf stat); 256 KiB and more were
 * slower again (the buffer no longer stays in the CPU's cache). */
#define RP_IOBUF (64u * 1024u)

rp_reader *rp_open(const char *path, unsigned opts, char *err, size_t errlen)
{
    rp_reader *r = new_reader(opts, err, errlen);
    if (!r)
        return NULL;
    char eb[PCAP_ERRBUF_SIZE];
    eb[0] = '\0';
    pcap_t *pc = NULL;
    /* a file of our own opening gets the larger buffer; standard input,
     * or a file fopen() refuses (libpcap then says why, in its words),
     * goes through libpcap's own open */
    FILE *fp = strcmp(path, "-") != 0 ? fopen(path, "rb") : NULL;
    if (fp) {
        r->iobuf = malloc(RP_IOBUF);
        if (r->iobuf && setvbuf(fp, r->iobuf, _IOFBF, RP_IOBUF) != 0) {
            free(r->iobuf);
            r->iobuf = NULL;
        }
        pc = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO, eb);
        if (!pc) {
            fclose(fp);
            free(r->iobuf);
            r->iobuf = NULL;
        }
    } else {
        pc = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, eb);
    }
    return opened(r, pc, eb, err, errlen);
}

rp_reader *rp_open_stream(FILE *fp, unsigned opts, char *err, size_t errlen)
{
    rp_reader *r = new_reader(opts, err, errlen);
    if (!r)
        return NULL;
    char eb[PCAP_ERRBUF_SIZE];
    eb[0] = '\0';
    pcap_t *pc = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO, eb);
    return opened(r, pc, eb, err, errlen);
}

static int next_direct(rp_reader *r, rp_pkt *out)
{
    for (;;) {
        /* the last record's further packets first (an A-MSDU's subframes) */
        if (r->st.sub_pos < r->st.sub_len && rp_decode_more(&r->st, out, &r->c))
            return 1;
        struct pcap_pkthdr *h;
        const u_char *data;
        int rc = pcap_next_ex(r->pc, &h, &data);
        if (rc == PCAP_ERROR_BREAK)
            return 0;
        if (rc != 1) {
            const char *m = pcap_geterr(r->pc);
            /* the record that could not be read: the one after the
             * last read (libpcap's packets are the file's records) */
            r->err_record = r->c.records + 1;
            if (m && strncmp(m, "truncated", 9) == 0) {
                r->c.file_truncated = 1;
                snprintf(r->err, sizeof r->err, "%s", m);
                return 0;
            }
            snprintf(r->err, sizeof r->err, "%s", m && *m ? m : "read error");
            return -1;
        }
        uint32_t cap = h->caplen;
        if (rp_decode(&r->st, r->dlt, (int64_t)h->ts.tv_sec, (uint32_t)h->ts.tv_usec, cap,
                      h->len, data, out, &r->c))
            return 1;
    }
}

static inline void cpu_relax(void)
{
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
    __builtin_ia32_pause();
#endif
}

double rp_clock_ms(bool thread_cpu)
{
    clockid_t id = CLOCK_MONOTONIC;
    if (thread_cpu) {
#ifdef CLOCK_THREAD_CPUTIME_ID
        id = CLOCK_THREAD_CPUTIME_ID;
#else
        return 0;
#endif
    }
    struct timespec ts;
    if (clock_gettime(id, &ts) != 0)
        return 0;
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Waits until ready(r): polls `spin` times, then sleeps as `who`. */
static void wait_until(rp_reader *r, bool (*ready)(rp_reader *), int who, int spin)
{
    double t0 = 0;
    if (r->timing) {
        if (ready(r))
            return;
        t0 = rp_clock_ms(false);
    }
    for (int i = 0; i < spin; i++) {
        if (ready(r))
            goto done;
        cpu_relax();
    }
    pthread_mutex_lock(&r->mu);
    atomic_fetch_or(&r->sleepers, who);
    while (!ready(r))
        pthread_cond_wait(&r->cv, &r->mu);
    atomic_fetch_and(&r->sleepers, ~who);
    pthread_mutex_unlock(&r->mu);
done:
    if (r->timing) {
        r->wait_ms[who - 1] += rp_clock_ms(false) - t0;
        r->waits[who - 1]++;
    }
}

/* After a change the other side may be waiting for: wakes it if it sleeps. */
static void wake(rp_reader *r, int who)
{
    if (atomic_load(&r->sleepers) & who) {
        pthread_mutex_lock(&r->mu);
        pthread_cond_broadcast(&r->cv);
        pthread_mutex_unlock(&r->mu);
    }
}

static bool room_or_stop(rp_reader *r)
{
    return atomic_load(&r->published) - atomic_load(&r->released) < atomic_load(&r->depth) ||
           atomic_load(&r->stop);
}

/* the thread, once it was `depth` ahead, goes on when half of that is free */
static bool half_free(rp_reader *r)
{
    return atomic_load(&r->published) - atomic_load(&r->released) <= atomic_load(&r->depth) / 2;
}

static bool half_free_or_stop(rp_reader *r)
{
    return half_free(r) || atomic_load(&r->stop);
}

static bool batch_ready(rp_reader *r)
{
    return atomic_load(&r->published) != atomic_load(&r->released);
}

/* The read-ahead thread: fills batches until the file ends or fails, or
 * the caller stops it. */
static void *read_ahead(void *arg)
{
    rp_reader *r = arg;
    uint32_t slot = 0;
    for (unsigned k = 0;; k++) { /* k: batches published so far */
        if (!room_or_stop(r))
            wait_until(r, half_free_or_stop, SLEEP_THREAD, 0);
        if (atomic_load(&r->stop))
            return NULL;
        /* the caller does not touch this batch until it is published */
        rp_batch *b = &r->ring[slot];
        int rc = 1;
        b->n = 0;
        while (b->n < RP_BATCH && (rc = next_direct(r, &b->pkt[b->n])) == 1)
            b->n++;
        b->last = rc != 1;
        if (b->last)
            r->end_rc = rc;
        /* the next slot: on round the cycle of `depth` slots, which widens
         * (when asked) only from its last slot */
        unsigned d = atomic_load(&r->depth);
        if (slot + 1 < d) {
            b->next = slot + 1;
        } else if (d < RP_NBATCH && atomic_load(&r->deeper)) {
            b->next = d;
            atomic_store(&r->depth, 2 * d);
            atomic_store(&r->deeper, false);
        } else {
            b->next = 0;
        }
        slot = b->next;
        if (b->last && r->timing)
            r->thread_cpu_ms = rp_clock_ms(true);
        atomic_store(&r->published, k + 1);
        wake(r, SLEEP_CALLER);
        if (b->last)
            return NULL;
    }
}

static void stop_thread(rp_reader *r)
{
    if (!r->threaded || r->joined)
        return;
    atomic_store(&r->stop, true);
    pthread_mutex_lock(&r->mu);
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->th, NULL);
    r->joined = true;
}

/* The caller's next packets when reading ahead: *out and *n are up to max
 * consecutive packets of the batch it holds. */
static int next_threaded(rp_reader *r, const rp_pkt **out, size_t max, size_t *n)
{
    for (;;) {
        if (r->joined)
            return r->end_rc;
        if (r->holding) {
            rp_batch *b = &r->ring[r->cslot];
            if (r->pos < b->n) {
                size_t k = b->n - r->pos;
                if (k > max)
                    k = max;
                *out = &b->pkt[r->pos];
                *n = k;
                r->pos += (uint32_t)k;
                return 1;
            }
            if (b->last) {
                /* the thread has returned: join it, and its counts and
                 * message are the caller's to read */
                pthread_join(r->th, NULL);
                r->joined = true;
                continue;
            }
            r->cslot = b->next;
            atomic_fetch_add(&r->released, 1);
            r->holding = false;
            if (half_free(r))
                wake(r, SLEEP_THREAD);
        }
        if (!batch_ready(r) && atomic_load(&r->released) >= RP_NBATCH &&
            atomic_load(&r->depth) < RP_NBATCH)
            atomic_store(&r->deeper, true); /* the thread fell behind */
        wait_until(r, batch_ready, SLEEP_CALLER, RP_SPIN);
        r->holding = true;
        r->pos = 0;
    }
}

int rp_next_ref(rp_reader *r, const rp_pkt **out)
{
    size_t n;
    if (r->threaded)
        return next_threaded(r, out, 1, &n);
    int rc = next_direct(r, &r->cur);
    *out = &r->cur;
    return rc;
}

int rp_next(rp_reader *r, rp_pkt *out)
{
    if (!r->threaded)
        return next_direct(r, out);
    const rp_pkt *p;
    size_t n;
    int rc = next_threaded(r, &p, 1, &n);
    if (rc == 1)
        *out = *p;
    return rc;
}

int rp_next_batch(rp_reader *r, const rp_pkt **out, size_t *n)
{
    if (r->threaded)
        return next_threaded(r, out, RP_BATCH, n);
    if (r->direct_end)
        return r->direct_rc;
    if (!r->direct) {
        r->direct = malloc(RP_BATCH * sizeof *r->direct);
        if (!r->direct) { /* one at a time, then */
            *n = 1;
            return rp_next_ref(r, out);
        }
    }
    size_t k = 0;
    int rc = 1;
    while (k < RP_BATCH && (rc = next_direct(r, &r->direct[k])) == 1)
        k++;
    if (rc != 1) { /* said after the packets before it */
        r->direct_end = true;
        r->direct_rc = rc;
        if (k == 0)
            return rc;
    }
    *out = r->direct;
    *n = k;
    return 1;
}

/* With read-ahead, the counts and the message belong to the thread until
 * rp_next has returned the end: before that the caller sees none. */
static const rp_counts no_counts;

void rp_get_timing(const rp_reader *r, rp_timing *out)
{
    memset(out, 0, sizeof *out);
    if (!r->threaded || !r->timing || !r->joined)
        return;
    out->thread_cpu_ms = r->thread_cpu_ms;
    out->caller_wait_ms = r->wait_ms[SLEEP_CALLER - 1];
    out->thread_wait_ms = r->wait_ms[SLEEP_THREAD - 1];
    out->caller_waits = r->waits[SLEEP_CALLER - 1];
    out->thread_waits = r->waits[SLEEP_THREAD - 1];
    out->depth = atomic_load(&r->depth);
}

unsigned rp_read_depth(rp_reader *r)
{
    return r->threaded ? atomic_load(&r->depth) : 0;
}

const rp_counts *rp_get_counts(const rp_reader *r)
{
    return r->threaded && !r->joined ? &no_counts : &r->c;
}

const char *rp_error(const rp_reader *r)
{
    return r->threaded && !r->joined ? "" : r->err;
}

int rp_linktype(const rp_reader *r)
{
    return r->dlt;
}

uint64_t rp_error_record(const rp_reader *r)
{
    return r->threaded && !r->joined ? 0 : r->err_record;
}

uint64_t rp_ts_jump(const rp_reader *r, uint64_t *from_ns, uint64_t *to_ns)
{
    bool known = !r->threaded || r->joined;
    if (from_ns)
        *from_ns = known ? r->st.jump_from_ns : 0;
    if (to_ns)
        *to_ns = known ? r->st.jump_to_ns : 0;
    return known ? r->st.jump_frame : 0;
}

const char *rp_linktype_name(const rp_reader *r)
{
    const char *n = pcap_datalink_val_to_name(r->dlt);
    return n ? n : "unknown";
}

void rp_close(rp_reader *r)
{
    if (!r)
        return;
    if (r->threaded) {
        stop_thread(r);
        pthread_cond_destroy(&r->cv);
        pthread_mutex_destroy(&r->mu);
        free(r->ring);
    }
    pcap_close(r->pc); /* closes the stream */
    free(r->iobuf);
    free(r->direct);
    rp_decode_state_free(&r->st);
    free(r);
}

/* ---- counters ------------------------------------------------------------ */

uint64_t rp_counts_skipped(const rp_counts *c)
{
    return c->records + c->subframes - (c->tcp4 + c->tcp6 + c->udp4 + c->udp6);
}

void rp_counts_print(FILE *out, const rp_counts *c)
{
    static const struct {
        const char *name;
        size_t off;
    } f[] = {
#define F(x) {#x, offsetof(rp_counts, x)}
        F(subframes), F(tcp4), F(tcp6), F(udp4), F(udp6),
        F(arp), F(llc), F(other_ethertype), F(other_family), F(link_unsupported),
        F(icmp4), F(icmp6), F(ip_other), F(ip6_esp), F(ip6_no_next), F(frag4), F(frag6),
        F(trunc_link), F(trunc_ip), F(trunc_l4), F(bad_ip_version), F(bad_ip_hlen),
        F(bad_ip_len), F(bad_tcp_hlen), F(bad_udp_len),
        F(vlan_tagged), F(ip6_ext), F(bad_ip_csum), F(bad_l4_csum), F(csum_unchecked),
        F(payload_cut), F(len_clipped), F(len_from_frame), F(bad_tcp_opt), F(tunneled),
        F(frag_first), F(reassembled), F(frag_reassembled), F(frag_given_up),
        F(ts_backwards), F(ts_jumps), F(file_truncated),
#undef F
    };
    fprintf(out, "records: %llu (%llu delivered, %llu skipped), %llu bytes captured\n",
            (unsigned long long)c->records,
            (unsigned long long)(c->records + c->subframes - rp_counts_skipped(c)),
            (unsigned long long)rp_counts_skipped(c),
            (unsigned long long)c->bytes_captured);
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        uint64_t v;
        memcpy(&v, (const char *)c + f[i].off, sizeof v);
        if (v)
            fprintf(out, "  %s: %llu\n", f[i].name, (unsigned long long)v);
    }
}
