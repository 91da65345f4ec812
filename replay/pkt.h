/*
 * pkt.h - the capture-reading front end of `sockmodel replay`.
 *
 * A streaming reader over libpcap (pcap and pcapng files): each record is
 * decoded from its link layer down to TCP or UDP and handed out as one
 * normalized rp_pkt; everything that is not a TCP segment or a UDP datagram
 * (ARP, ICMP, fragments, broken headers, ...) is counted by category in
 * rp_counts and skipped.  The reader keeps no state per packet beyond the
 * current record, except IPv4 fragments waiting for the rest of their
 * datagram (reasm.h: bounded): O(1) time per packet, memory independent
 * of file size.
 * Nothing here knows about the model; the replay driver turns rp_pkt into
 * what the engine needs (the fields mirror sm_segment's).
 */
#ifndef RP_PKT_H
#define RP_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sm.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Anomalies of a delivered packet (rp_pkt.anomalies).  Each also has a
 * counter in rp_counts. */
#define RP_A_BAD_IP_CSUM   0x0001u /* IPv4 header checksum wrong */
#define RP_A_BAD_L4_CSUM   0x0002u /* TCP/UDP checksum wrong (full packet captured) */
#define RP_A_CSUM_UNCHECKED 0x0004u /* checksum not verifiable: payload not captured */
#define RP_A_PAYLOAD_CUT   0x0008u /* caplen < datagram: payload (or TCP options) cut */
#define RP_A_BAD_LEN       0x0010u /* IP/UDP length beyond the frame: clipped to it */
#define RP_A_TS_BACKWARDS  0x0020u /* timestamp before an earlier record's */
#define RP_A_BAD_TCP_OPT   0x0040u /* malformed TCP option list (parsing stopped) */
#define RP_A_LEN_FROM_FRAME 0x0080u /* IP length 0 (TSO) or jumbogram: length from frame */
#define RP_A_VLAN          0x0100u /* had 802.1Q/802.1ad tags (informational) */
#define RP_A_IP6_EXT       0x0200u /* IPv6 extension headers skipped (informational) */
#define RP_A_TS_JUMP       0x0400u /* timestamp more than RP_TS_JUMP_NS away from the
                                    * previous record's, or beyond 2^64 ns: not followed */
#define RP_A_TUNNEL        0x0800u /* decoded from inside a tunnel or encapsulation
                                    * (informational) */
#define RP_A_FRAGMENT      0x1000u /* a first fragment: TCP/UDP header taken from it,
                                    * length = the fragment's (only when the fragment
                                    * was not captured whole, or no memory) */
#define RP_A_REASSEMBLED   0x2000u /* an IPv4 or IPv6 datagram reassembled from
                                    * fragments: this record completed it
                                    * (informational) */

/* A record whose timestamp lies further than this from the previous
 * record's (either way) is a broken clock, not a pause: the model's clock
 * (ts_mono_ns) does not follow it. */
#define RP_TS_JUMP_NS (366ull * 86400ull * 1000000000ull)
/* The model's clock never exceeds this (2^63 ns, year 2262; a capture's
 * first record sets it to at most 2^62 ns, year 2116): sums of a time and
 * a duration in the model stay far from 2^64. */
#define RP_TS_MONO_MAX (1ull << 63)

/* One TCP segment or UDP datagram, as decoded from a capture record. */
typedef struct rp_pkt {
    uint64_t frame;       /* 1-based record number in the file (tshark's frame.number) */
    uint64_t ts_ns;       /* the record's timestamp, ns since the epoch, as in the file */
    uint64_t ts_mono_ns;  /* the model's clock: never goes back, never jumps by more
                           * than RP_TS_JUMP_NS, at most RP_TS_MONO_MAX (below) */
    sm_proto proto;       /* SM_TCP or SM_UDP */
    sm_endpoint src, dst; /* family 4 (b[0..3]) or 6 */
    uint8_t flags;        /* TCP header flags, low 8 bits (SM_TH_*, also URG/ECE/CWR); 0 for UDP */
    uint32_t seq, ack;
    uint16_t window;      /* raw window field (unscaled) */
    uint32_t len;         /* payload bytes per the IP/UDP headers (not the captured bytes) */
    bool has_ts;          /* TCP timestamps option */
    uint32_t tsval, tsecr;
    bool has_mss;
    uint16_t mss;
    bool has_wscale;
    uint8_t wscale;
    bool sack_ok;
    uint8_t ttl;          /* IPv4 TTL / IPv6 hop limit */
    uint16_t vlan;        /* outermost 802.1Q/802.1ad VLAN id, 0 if untagged */
    uint32_t caplen;      /* bytes captured of this record */
    uint32_t wirelen;     /* bytes the record had on the wire */
    uint16_t anomalies;   /* RP_A_* */
} rp_pkt;

/* What the reader saw, by category.  Every record falls in exactly one of
 * the "fate" groups: delivered (tcp/udp), or one skip reason; so does each
 * further packet a record holds (an A-MSDU's subframes after its first:
 * `subframes`), so records + subframes is the sum of the fate groups. */
typedef struct rp_counts {
    uint64_t records;          /* records read from the file */
    uint64_t subframes;        /* packets of a record after its first (A-MSDU) */
    uint64_t bytes_captured;   /* sum of caplen */
    uint64_t bytes_wire;       /* sum of len */
    /* delivered */
    uint64_t tcp4, tcp6, udp4, udp6;
    /* skipped: not IP */
    uint64_t arp;              /* ARP / RARP */
    uint64_t llc;              /* 802.3 length-field frames (LLC/SNAP, STP, ...) */
    uint64_t other_ethertype;  /* any other link-layer protocol (MPLS, PPPoE, LLDP, ...) */
    uint64_t other_family;     /* NULL/LOOP: an address family other than IPv4/IPv6 */
    uint64_t link_unsupported; /* the file's link type is not one the reader decodes */
    /* skipped: IP but not TCP/UDP */
    uint64_t icmp4, icmp6;
    uint64_t ip_other;         /* any other IP protocol (SCTP, GRE, ESP over IPv4, ...) */
    uint64_t ip6_esp;          /* IPv6 chain ends in ESP (payload encrypted) */
    uint64_t ip6_no_next;      /* IPv6 chain ends in No Next Header */
    uint64_t frag4, frag6;     /* IP fragments, but those delivered: one completing
                                * a datagram, a first one that carries the header
                                * (a fragment not captured whole) */
    /* skipped: broken */
    uint64_t trunc_link;       /* caplen too short for the link header */
    uint64_t trunc_ip;         /* ... for the IP header (and extension headers) */
    uint64_t trunc_l4;         /* ... for the TCP (20 bytes) or UDP (8 bytes) header */
    uint64_t bad_ip_version;   /* version nibble not 4/6 (or not the link type's) */
    uint64_t bad_ip_hlen;      /* IPv4 IHL < 5 */
    uint64_t bad_ip_len;       /* IP length shorter than its own headers */
    uint64_t bad_tcp_hlen;     /* TCP data offset < 5, or beyond the datagram */
    uint64_t bad_udp_len;      /* UDP length < 8 */
    /* delivered, with an anomaly (also counted in tcp4..udp6) */
    uint64_t vlan_tagged;      /* had one or more VLAN tags (informational) */
    uint64_t ip6_ext;          /* IPv6 with extension headers skipped (informational) */
    uint64_t tunneled;         /* RP_A_TUNNEL: decoded inside a tunnel (informational) */
    uint64_t frag_first;       /* RP_A_FRAGMENT: header from a first fragment */
    uint64_t reassembled;      /* RP_A_REASSEMBLED: delivered whole from fragments */
    /* IPv4 and IPv6 datagrams (not records) */
    uint64_t frag_reassembled; /* datagrams reassembled (any protocol) */
    uint64_t frag_given_up;    /* datagrams given up: overlap, timeout, too long,
                                * inconsistent, or evicted by a newer one */
    uint64_t bad_ip_csum;      /* RP_A_BAD_IP_CSUM */
    uint64_t bad_l4_csum;      /* RP_A_BAD_L4_CSUM */
    uint64_t csum_unchecked;   /* RP_A_CSUM_UNCHECKED */
    uint64_t payload_cut;      /* RP_A_PAYLOAD_CUT */
    uint64_t len_clipped;      /* RP_A_BAD_LEN */
    uint64_t len_from_frame;   /* RP_A_LEN_FROM_FRAME */
    uint64_t bad_tcp_opt;      /* RP_A_BAD_TCP_OPT */
    /* whole records (any fate) */
    uint64_t ts_backwards;     /* timestamp earlier than an earlier record's */
    uint64_t ts_jumps;         /* RP_A_TS_JUMP: the clock jumped by years (not followed) */
    uint64_t file_truncated;   /* 1 if the file ended inside a record (reading stopped there) */
} rp_counts;

/* Reader options (rp_open's opts). */
#define RP_OPT_NO_CSUM 0x1u /* do not verify checksums (faster; no csum anomalies) */
#define RP_OPT_GENERAL 0x2u /* never the fast path (tests: both paths must agree) */
/* Read ahead: a second thread reads and decodes the file while the caller
 * works on the packets already delivered (same packets, same order; only
 * faster on a machine with a core to spare).  Until rp_next has returned
 * 0 or -1, rp_get_counts gives zeros and rp_error "". */
#define RP_OPT_THREAD 0x4u
/* Keep rp_timing's figures (a few clock reads per wait of either side). */
#define RP_OPT_TIMING 0x8u

typedef struct rp_reader rp_reader;

/* Opens a pcap or pcapng file ("-" = standard input).  On failure returns
 * NULL and puts libpcap's message ("unknown file format", "No such file or
 * directory", ...) in err (errlen >= 1). */
rp_reader *rp_open(const char *path, unsigned opts, char *err, size_t errlen);
/* The same over an open stream (fmemopen() in tests and the fuzzer).  On
 * success the reader owns fp (rp_close closes it); on failure the caller
 * still does. */
rp_reader *rp_open_stream(FILE *fp, unsigned opts, char *err, size_t errlen);

/* The next TCP or UDP packet: 1 = *out filled, 0 = end of file, -1 = a
 * read error (rp_error() says which; packets before it were delivered).
 * A file that ends inside a record is the end (0), with
 * counts.file_truncated = 1 and rp_error() saying so. */
int rp_next(rp_reader *r, rp_pkt *out);
/* The same without the copy: *out points at the packet, valid until the
 * next call on r. */
int rp_next_ref(rp_reader *r, const rp_pkt **out);
/* The same a batch at a time: on 1, *out points at *n >= 1 consecutive
 * packets (at most a few hundred), valid until the next call on r; 0 and
 * -1 come after the packets that preceded them.  Do not mix it with
 * rp_next or rp_next_ref on one reader. */
int rp_next_batch(rp_reader *r, const rp_pkt **out, size_t *n);
/* How many batches the read-ahead thread may read ahead of the caller (it
 * deepens while the caller finds none ready); 0 when reading directly.
 * For tests and benchmarks. */
unsigned rp_read_depth(rp_reader *r);

/* Where the reading's time went, with RP_OPT_TIMING and RP_OPT_THREAD
 * (zeros otherwise), once rp_next* has returned 0 or -1: the read-ahead
 * thread's CPU time (reading and decoding), the time the caller waited
 * for a batch and the thread for room in the ring, and how often.  Wall
 * and CPU times of this machine, for diagnostics only: the packets are
 * the same with or without it. */
typedef struct rp_timing {
    double thread_cpu_ms;
    double caller_wait_ms, thread_wait_ms;
    unsigned long caller_waits, thread_waits;
    unsigned depth; /* the ring's depth at the end, in batches */
} rp_timing;
void rp_get_timing(const rp_reader *r, rp_timing *out);
/* The clock rp_timing is read with, in ms: the monotonic clock, or with
 * thread_cpu the calling thread's CPU time (0 where the system has no
 * such clock).  For diagnostics (`replay --timing`). */
double rp_clock_ms(bool thread_cpu);

const rp_counts *rp_get_counts(const rp_reader *r);
/* The last error or warning message, "" if none. */
const char *rp_error(const rp_reader *r);
/* The record (1-based) rp_error() is about: the one that could not be
 * read; 0 if none.  The records before it were delivered. */
uint64_t rp_error_record(const rp_reader *r);
/* The record number of the first record whose timestamp jumped (see
 * RP_A_TS_JUMP), 0 if none; *from_ns and *to_ns (if not NULL): the file times
 * of the record before it and of it.  Like the counts, known once rp_next
 * has returned the end. */
uint64_t rp_ts_jump(const rp_reader *r, uint64_t *from_ns, uint64_t *to_ns);
/* The file's link type (DLT_*) and its name ("EN10MB", ...). */
int rp_linktype(const rp_reader *r);
const char *rp_linktype_name(const rp_reader *r);
bool rp_linktype_supported(int dlt);
void rp_close(rp_reader *r);

/* Decodes one record without a file: the core of rp_next (tests, fuzzer).
 * state carries the timestamp order between records; zero it before the
 * first record.  Returns true if *out holds a TCP/UDP packet; counts are
 * updated either way (records, bytes included). */
struct rp__reasm;
typedef struct rp_decode_state {
    uint64_t frame;
    uint64_t max_ts_ns;   /* the model's clock so far */
    uint64_t off_ns;      /* model clock = file time + off_ns (mod 2^64) */
    uint64_t prev_ts_ns;  /* the previous record's file time */
    uint64_t jump_frame;  /* the first record with RP_A_TS_JUMP, 0 if none */
    uint64_t jump_from_ns, jump_to_ns; /* the file times of the record before it, and its */
    bool have_ts;
    unsigned opts;
    struct rp__reasm *reasm; /* fragments in progress (created on the first) */
    /* an A-MSDU's subframes after the one delivered (rp_decode_more): a
     * copy of them, where the next starts, and the packet's fields from
     * outside the 802.11 frame */
    uint8_t *sub_buf;
    uint32_t sub_len, sub_pos, sub_size;
    bool in_sub;
    rp_pkt sub_tmpl;
} rp_decode_state;
/* Frees what the state holds (fragments in progress); it may then be
 * zeroed and used again. */
void rp_decode_state_free(rp_decode_state *st);
bool rp_decode(rp_decode_state *st, int dlt, int64_t ts_sec, uint32_t ts_nsec,
               uint32_t caplen, uint32_t wirelen, const uint8_t *data,
               rp_pkt *out, rp_counts *c);
/* The record rp_decode read last may hold more packets (an A-MSDU's
 * subframes after the first): decodes them in turn until one is a TCP/UDP
 * packet (true, in *out) or none is left (false); each counted in
 * c->subframes and its fate.  Callers that skip it lose those packets
 * only: the next rp_decode forgets them. */
bool rp_decode_more(rp_decode_state *st, rp_pkt *out, rp_counts *c);

/* Whether two decoded packets are the same, field by field (padding
 * ignored). */
bool rp_pkt_equal(const rp_pkt *a, const rp_pkt *b);

/* Prints every non-zero counter, one "  name: value" line each, after a
 * summary line.  Deterministic order (that of the struct). */
void rp_counts_print(FILE *out, const rp_counts *c);
/* Number of skipped records (records - delivered). */
uint64_t rp_counts_skipped(const rp_counts *c);

#ifdef __cplusplus
}
#endif
#endif /* RP_PKT_H */
