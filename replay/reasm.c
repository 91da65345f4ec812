/*
 * reasm.c - IPv4 and IPv6 fragment reassembly for the capture reader: a
 * SYN in two fragments is a SYN, and a tunnel's packet cut into outer
 * fragments is one packet, as Wireshark's reassembly shows them.
 *
 * What it models, and its bounds:
 * - a datagram is (source, destination, identification, protocol) for
 *   IPv4 (RFC 791), (source, destination, identification) for IPv6 (RFC
 *   8200 4.5); at most RP_REASM_SLOTS of them in progress, both families
 *   together, each in a buffer of about 64 KiB reused from slot to slot
 *   (about 4 MiB at most); when all are taken, the one whose first
 *   fragment came earliest is given up;
 * - a datagram whose first fragment is older than its family's timeout in
 *   the capture's own time is given up (Linux ipfrag_time, 30 s; RFC 8200's
 *   60 s for IPv6);
 * - overlaps: a fragment may repeat bytes already held if it repeats them
 *   as they are (Wireshark then agrees, and no stack could read the
 *   datagram two ways); one that says something else about a byte gives
 *   the whole datagram up (RFC 5722's rule for such conflicts, which closes
 *   the door to overlap tricks: no byte is ever replaced);
 * - a fragment that is not the last must carry a multiple of 8 bytes; a
 *   datagram longer than 65535 bytes (for IPv6: a payload length above
 *   65535), or whose last fragment disagrees with another about the end,
 *   is given up;
 * - the header is the one of the fragment with offset 0 (for IPv6 its
 *   unfragmentable part: RFC 8200 4.5).
 * Work per fragment: O(slots) to find and expire, O(its bytes) to copy;
 * O(datagram) once, to hand the whole datagram out.
 */
#include "reasm.h"

#include "smu_csum.h"

#include <stdlib.h>
#include <string.h>

#define PAYLOAD_MAX 65535u /* bytes after the header, at most (with a 20-byte
                            * header an IPv4 datagram itself stops at 65515) */
#define HDR_MAX RP_REASM6_UNFRAG_MAX /* the header kept (IPv4: 60 at most) */
#define BLOCKS ((PAYLOAD_MAX + 7u) / 8u)
#define KEY_MAX 36u

typedef struct slot {
    bool used;
    uint8_t keylen;
    uint8_t key[KEY_MAX]; /* v4: source, destination, identification, protocol;
                           * v6: source, destination, identification */
    uint32_t hl;       /* the first fragment's header length; 0 until it came */
    uint32_t nh_at;    /* IPv6: where the kept header's Next Header field is */
    uint8_t nh;        /* IPv6: the first fragment's Fragment header's Next Header */
    uint32_t end;      /* payload length, once the last fragment came; else 0 */
    uint32_t got;      /* payload bytes held */
    uint64_t first_ns; /* when its first fragment (in capture order) came */
    uint64_t timeout_ns;
    uint8_t *buf;      /* header at 0, payload at HDR_MAX */
    uint8_t map[(BLOCKS + 7u) / 8u]; /* 8-byte blocks held */
} slot;

struct rp__reasm {
    slot s[RP_REASM_SLOTS];
    uint8_t out[HDR_MAX + PAYLOAD_MAX];
};

static void give_up(slot *s, rp_counts *c)
{
    s->used = false;
    c->frag_given_up++;
}

static bool block_held(const slot *s, uint32_t b)
{
    return s->map[b / 8] & (1u << (b % 8));
}

/* A fragment as both families have it: the datagram's key, the header to
 * keep if it is the first (hl bytes at hdr), its data (len bytes at data,
 * at byte off of the payload), whether more follow.  On RP__FRAG_DONE,
 * *done is the completed slot (already free again; its buffer is read
 * before the next call). */
static enum rp__frag_result add(rp__reasm **rap, const uint8_t *key, uint8_t keylen,
                                uint64_t timeout_ns, const uint8_t *hdr, uint32_t hl,
                                uint32_t nh_at, uint8_t nh, const uint8_t *data, uint32_t len,
                                uint32_t off, bool more, uint64_t now_ns, slot **done,
                                rp_counts *c)
{
    if (!*rap && !(*rap = calloc(1, sizeof **rap)))
        return RP__FRAG_NOMEM;
    rp__reasm *ra = *rap;

    /* the datagram's slot: expire, find, or take a free or the oldest */
    slot *s = NULL, *free_slot = NULL, *oldest = NULL;
    for (size_t i = 0; i < RP_REASM_SLOTS; i++) {
        slot *x = &ra->s[i];
        if (x->used && now_ns - x->first_ns > x->timeout_ns)
            give_up(x, c);
        if (!x->used) {
            if (!free_slot)
                free_slot = x;
            continue;
        }
        if (x->keylen == keylen && memcmp(x->key, key, keylen) == 0)
            s = x;
        else if (!oldest || x->first_ns < oldest->first_ns)
            oldest = x;
    }
    if (!s) {
        s = free_slot;
        if (!s) {
            give_up(oldest, c);
            s = oldest;
        }
        if (!s->buf && !(s->buf = malloc(HDR_MAX + PAYLOAD_MAX)))
            return RP__FRAG_NOMEM;
        s->used = true;
        s->keylen = keylen;
        memcpy(s->key, key, keylen);
        s->hl = s->end = s->got = 0;
        s->first_ns = now_ns;
        s->timeout_ns = timeout_ns;
        memset(s->map, 0, sizeof s->map);
    }

    /* consistency: lengths, the end */
    if ((more && (len == 0 || len % 8 != 0)) || off + len > PAYLOAD_MAX ||
        (s->end && off + len > s->end) || (!more && s->end && off + len != s->end)) {
        give_up(s, c);
        return RP__FRAG_DROPPED;
    }
    uint32_t b0 = off / 8, b1 = (off + len + 7) / 8;
    if (!more) {
        /* nothing may lie beyond the end */
        for (uint32_t b = b1; b < BLOCKS; b++)
            if (block_held(s, b)) {
                give_up(s, c);
                return RP__FRAG_DROPPED;
            }
    }
    /* overlaps: bytes already held must be repeated as they are (then only
     * the new ones are added); a fragment that says something else about
     * a byte gives the datagram up */
    uint32_t fresh = 0;
    for (uint32_t b = b0; b < b1; b++) {
        uint32_t lo = b * 8, hi = lo + 8 < off + len ? lo + 8 : off + len;
        if (!block_held(s, b))
            fresh += hi - lo;
        else if (memcmp(s->buf + HDR_MAX + lo, data + (lo - off), hi - lo) != 0 ||
                 (lo == 0 && s->hl && (s->hl != hl || s->nh != nh))) {
            give_up(s, c);
            return RP__FRAG_DROPPED;
        }
    }
    if (!fresh)
        return RP__FRAG_HELD; /* a repeat */
    for (uint32_t b = b0; b < b1; b++)
        s->map[b / 8] |= (uint8_t)(1u << (b % 8));
    memcpy(s->buf + HDR_MAX + off, data, len);
    s->got += fresh;
    if (!more)
        s->end = off + len;
    if (off == 0) {
        s->hl = hl;
        s->nh_at = nh_at;
        s->nh = nh;
        memcpy(s->buf, hdr, hl);
    }
    if (!s->hl || !s->end || s->got != s->end)
        return RP__FRAG_HELD;
    s->used = false;
    *done = s;
    return RP__FRAG_DONE;
}

/* The completed datagram in ra->out: the kept header, then the payload. */
static uint8_t *assemble(rp__reasm *ra, const slot *s)
{
    memcpy(ra->out, s->buf, s->hl);
    memcpy(ra->out + s->hl, s->buf + HDR_MAX, s->end);
    return ra->out;
}

enum rp__frag_result rp__reasm4(rp__reasm **rap, const uint8_t *ip, uint32_t hl, uint32_t tot,
                                uint64_t now_ns, const uint8_t **out, uint32_t *outlen,
                                rp_counts *c)
{
    uint8_t key[11];
    memcpy(key, ip + 12, 8);
    memcpy(key + 8, ip + 4, 2);
    key[10] = ip[9];
    unsigned fo = (unsigned)ip[6] << 8 | ip[7];
    slot *s;
    enum rp__frag_result r =
        add(rap, key, sizeof key, RP_REASM_TIMEOUT_NS, ip, hl, 0, 0, ip + hl, tot - hl,
            (fo & 0x1fffu) * 8u, fo & 0x2000u, now_ns, &s, c);
    if (r != RP__FRAG_DONE)
        return r;
    uint32_t n = s->hl + s->end;
    if (n > 65535u) {
        c->frag_given_up++;
        return RP__FRAG_DROPPED;
    }
    uint8_t *d = assemble(*rap, s);
    d[2] = (uint8_t)(n >> 8);
    d[3] = (uint8_t)n;
    d[6] &= 0x40u; /* DF stays; MF and the offset go */
    d[7] = 0;
    d[10] = d[11] = 0;
    unsigned sum = smu_csum_field(smu_csum_add(0, d, s->hl));
    d[10] = (uint8_t)(sum >> 8);
    d[11] = (uint8_t)sum;
    *out = d;
    *outlen = n;
    c->frag_reassembled++;
    return RP__FRAG_DONE;
}

enum rp__frag_result rp__reasm6(rp__reasm **rap, const uint8_t *ip, uint32_t fh, uint32_t nh_at,
                                uint32_t tot, uint64_t now_ns, const uint8_t **out,
                                uint32_t *outlen, rp_counts *c)
{
    if (fh > HDR_MAX)
        return RP__FRAG_NOMEM;
    uint8_t key[36];
    memcpy(key, ip + 8, 32);
    memcpy(key + 32, ip + fh + 4, 4);
    unsigned fo = (unsigned)ip[fh + 2] << 8 | ip[fh + 3];
    slot *s;
    enum rp__frag_result r =
        add(rap, key, sizeof key, RP_REASM6_TIMEOUT_NS, ip, fh, nh_at, ip[fh], ip + fh + 8,
            tot - fh - 8, fo & 0xfff8u, fo & 1u, now_ns, &s, c);
    if (r != RP__FRAG_DONE)
        return r;
    uint32_t plen = s->hl - 40 + s->end;
    if (plen > 65535u) {
        c->frag_given_up++;
        return RP__FRAG_DROPPED;
    }
    uint8_t *d = assemble(*rap, s);
    d[4] = (uint8_t)(plen >> 8);
    d[5] = (uint8_t)plen;
    d[s->nh_at] = s->nh;
    *out = d;
    *outlen = 40 + plen;
    c->frag_reassembled++;
    return RP__FRAG_DONE;
}

void rp__reasm_free(rp__reasm *ra)
{
    if (!ra)
        return;
    for (size_t i = 0; i < RP_REASM_SLOTS; i++)
        free(ra->s[i].buf);
    free(ra);
}
