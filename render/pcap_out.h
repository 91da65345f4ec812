/*
 * pcap_out.h - write the segments of a simulated network to a pcap file.
 *
 * `sockmodel run --pcap FILE` hands every segment the engine's network
 * carries (sm_world_set_tap, engine/sm.h) to scn_pcap_segment(), which turns
 * it into a complete Ethernet + IPv4/IPv6 + TCP/UDP frame and writes it
 * through libpcap, stamped with the segment's virtual send time.  The file
 * opens in tshark/Wireshark/tcpdump like a real capture.
 *
 * What the frames look like (all of it deterministic: the same segments
 * give the same file, byte for byte):
 * - Link type Ethernet (DLT_EN10MB).  MAC addresses are synthetic and
 *   locally administered: host id H is 02:00:xx:xx:xx:xx with xx = H + 1
 *   as a 32-bit big-endian number, so the first host is 02:00:00:00:00:01;
 *   a destination no host owns (dst_host == SM_NONE) is 02:00:00:00:00:00.
 *   They tell hosts apart where addresses cannot (every host has 127.0.0.1
 *   and ::1): filter with eth.src == 02:00:00:00:00:01.
 * - Timestamps: nanosecond-precision pcap (magic a1b23c4d), 0 = the world's
 *   start (1970-01-01 00:00:00 UTC in absolute displays).  Microsecond
 *   pcap if libpcap is older than 1.5 (no PCAP_TSTAMP_PRECISION_NANO).
 * - IPv4 when both endpoints are IPv4 or v4-mapped IPv6 (what the wire
 *   carries for a dual-stack socket talking to an IPv4 peer), else IPv6.
 *   TTL / hop limit 64; IPv4 DF set, identification = a counter over the
 *   file (1, 2, ...).  The IPv4 header checksum is correct.
 * - TCP: the segment's ports, flags, seq, ack and window; options MSS 1460
 *   on every segment with SYN, and NOP NOP + timestamps (tsval, tsecr) when
 *   seg->has_ts.  UDP: ports and length.  TCP and UDP checksums are
 *   correct (pseudo-header included; a UDP checksum of 0 is sent as
 *   0xffff).
 * - The payload is seg->len zero bytes.  Lengths must fit the 16-bit IP
 *   length fields: a payload longer than that (IPv4: 65535 - IP header -
 *   TCP/UDP header; IPv6: 65535 - TCP/UDP header) is cut to the largest
 *   that fits, the headers say the cut length, and scn_pcap_capped()
 *   counts such segments.  The engine never sends TCP segments that large
 *   (at most 1460 bytes), so only an oversize UDP datagram can be cut.
 */
#ifndef PCAP_OUT_H
#define PCAP_OUT_H

#include <stddef.h>
#include <stdint.h>

#include "sm.h"

typedef struct scn_pcap scn_pcap;

/* Creates (or truncates) PATH and writes the pcap file header.  On failure
 * returns NULL and puts a message naming the path in err (if errlen > 0).
 * As everywhere in libpcap, the path "-" means standard output. */
scn_pcap *scn_pcap_open(const char *path, char *err, size_t errlen);

/* Writes one segment.  Has the type of sm_tap_fn, so
 *   sm_world_set_tap(w, scn_pcap_segment, p);
 * captures everything the world sends.  ctx is the scn_pcap *.  Write
 * errors are remembered and reported by scn_pcap_close(). */
void scn_pcap_segment(void *ctx, const sm_segment *seg);

/* Segments written so far, and how many of them had their payload cut. */
uint64_t scn_pcap_count(const scn_pcap *p);
uint64_t scn_pcap_capped(const scn_pcap *p);

/* Flushes and closes the file and frees p (NULL is accepted).  Returns 0,
 * or -1 if any write failed (message in err if errlen > 0; err may be NULL
 * when errlen is 0). */
int scn_pcap_close(scn_pcap *p, char *err, size_t errlen);

#endif /* PCAP_OUT_H */
