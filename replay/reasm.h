/*
 * reasm.h - IPv4 and IPv6 fragment reassembly for the capture reader
 * (internal to replay/): bounded memory, a timeout in the capture's own
 * time, and overlaps handled safely (bytes repeated as they are held are
 * accepted; a fragment that contradicts a held byte discards the whole
 * datagram).
 */
#ifndef RP_REASM_H
#define RP_REASM_H

#include "pkt.h"

/* Datagrams in progress at once, both families together (each holds up
 * to 64 KiB: at most about 4 MiB); the one begun earliest is given up for
 * a new one when all are taken. */
#define RP_REASM_SLOTS 64u
/* A datagram whose first fragment came longer ago than this (capture
 * time) is given up: Linux's net.ipv4.ipfrag_time default, 30 s ... */
#define RP_REASM_TIMEOUT_NS (30ull * 1000000000ull)
/* ... and for IPv6 RFC 8200 4.5's 60 s (Linux's ip6frag_time). */
#define RP_REASM6_TIMEOUT_NS (60ull * 1000000000ull)
/* The longest IPv6 unfragmentable part (the header and the extension
 * headers before the Fragment header) kept; a longer one is not
 * reassembled (the caller falls back to first fragments). */
#define RP_REASM6_UNFRAG_MAX 512u

typedef struct rp__reasm rp__reasm;

enum rp__frag_result {
    RP__FRAG_HELD,    /* kept; the datagram is not complete yet */
    RP__FRAG_DONE,    /* this fragment completed it: *out, *outlen */
    RP__FRAG_DROPPED, /* not kept: its datagram was given up (conflict, too long,
                       * inconsistent), or this one repeats a datagram given up */
    RP__FRAG_NOMEM    /* no memory (or an IPv6 unfragmentable part longer than
                       * RP_REASM6_UNFRAG_MAX): the caller falls back to first
                       * fragments */
};

/* One IPv4 fragment (the whole fragment captured: tot bytes at ip, header
 * of hl bytes).  *ra is created on first use.  On RP__FRAG_DONE, *out is
 * the reassembled datagram (the first fragment's header with MF and the
 * offset cleared, its total length and checksum set), valid until the
 * next call.  Counts datagrams reassembled and given up in c. */
enum rp__frag_result rp__reasm4(rp__reasm **ra, const uint8_t *ip, uint32_t hl, uint32_t tot,
                                uint64_t now_ns, const uint8_t **out, uint32_t *outlen,
                                rp_counts *c);

/* One IPv6 fragment (RFC 8200 4.5; the whole packet captured: tot bytes
 * at ip), its Fragment header at ip+fh; nh_at is the offset of the Next
 * Header field that names the Fragment header (6 in the fixed header, or
 * in the last extension header before it).  A datagram is (source,
 * destination, identification).  On RP__FRAG_DONE, *out is the
 * reassembled packet: the unfragmentable part of the fragment with offset
 * 0, its Next Header field set to the Fragment header's, the Fragment
 * header gone, the payload length set; valid until the next call. */
enum rp__frag_result rp__reasm6(rp__reasm **ra, const uint8_t *ip, uint32_t fh, uint32_t nh_at,
                                uint32_t tot, uint64_t now_ns, const uint8_t **out,
                                uint32_t *outlen, rp_counts *c);

void rp__reasm_free(rp__reasm *ra);

#endif /* RP_REASM_H */
