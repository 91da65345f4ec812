/*
 * conv.c - TCP conversation counting compatible with tshark's conv,tcp
 * (Wireshark 4.0): an open-addressing hash table keyed by the unordered
 * 4-tuple, holding per entry the current stream's per-direction base
 * sequence numbers.
 *
 * What it reproduces (Wireshark epan/dissectors/packet-tcp.c,
 * dissect_tcp() and tcp_analyze_sequence_number(); checked against the
 * installed tshark 4.0.17 by tests/replay-tshark.sh and the port-reuse
 * cases noted in replay/README.md):
 *  - conv,tcp rows are keyed by the TCP stream index (tcpip_conversation_
 *    packet passes th_stream as the conversation id), so a 4-tuple reused
 *    by a later connection is a second row;
 *  - dissect_tcp looks the 4-tuple up (both directions); if the segment is
 *    a SYN without ACK, the direction's base seq is set and the SYN's seq
 *    differs from it, a new conversation (new stream) replaces the old one
 *    for this 4-tuple;
 *  - tcp_analyze_sequence_number then sets, if unset, the sending
 *    direction's base seq (seq for a SYN, else seq-1) and, on a segment
 *    with ACK, the other direction's (ack-1).
 * Not reproduced: tshark reassembles IP fragments and dissects TCP inside
 * tunnels and ICMP errors' quotes; the reader skips those (counted), so a
 * conversation carried only by such packets is missing here.
 */
#include "conv.h"
#include "smu_hash.h"

#include <stdlib.h>
#include <string.h>

/* Entry state bits. */
#define E_USED 0x01u
#define E_BASE0 0x02u /* base[0] (lo -> hi direction) set */
#define E_BASE1 0x04u /* base[1] (hi -> lo) set */
#define E_A_IS_HI 0x08u /* the conversation's first packet came from hi */

typedef struct ent {
    uint8_t lo[16], hi[16]; /* canonical order: lo < hi by (address, port) */
    uint16_t plo, phi;
    uint8_t fam;
    uint8_t st;
    uint16_t pad;
    uint32_t base[2];
    uint64_t frames;
    uint64_t first_frame;
} ent;

struct rp_conv {
    ent *tab;
    size_t cap; /* power of two */
    size_t used;
    uint64_t count;
    rp_conv_emit emit;
    void *ctx;
};

#define INITIAL_CAP 1024u

rp_conv *rp_conv_new(rp_conv_emit emit, void *ctx)
{
    rp_conv *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->tab = calloc(INITIAL_CAP, sizeof *t->tab);
    if (!t->tab) {
        free(t);
        return NULL;
    }
    t->cap = INITIAL_CAP;
    t->emit = emit;
    t->ctx = ctx;
    return t;
}

void rp_conv_free(rp_conv *t)
{
    if (!t)
        return;
    free(t->tab);
    free(t);
}

uint64_t rp_conv_count(const rp_conv *t)
{
    return t->count;
}

uint64_t rp_conv_tuples(const rp_conv *t)
{
    return t->used;
}

/* memcmp order of two 16-byte addresses: <0, 0, >0. */
static inline int cmp16(const uint8_t *a, const uint8_t *b)
{
    if (smu_eq16(a, b))
        return 0;
    return memcmp(a, b, 16);
}

static bool grow(rp_conv *t)
{
    size_t ncap = t->cap * 2;
    ent *n = calloc(ncap, sizeof *n);
    if (!n)
        return false;
    for (size_t i = 0; i < t->cap; i++) {
        const ent *e = &t->tab[i];
        if (!(e->st & E_USED))
            continue;
        size_t j = (size_t)smu_tuple_hash(e->lo, e->hi, e->plo, e->phi, e->fam) & (ncap - 1);
        while (n[j].st & E_USED)
            j = (j + 1) & (ncap - 1);
        n[j] = *e;
    }
    free(t->tab);
    t->tab = n;
    t->cap = ncap;
    return true;
}

static void row_of(const ent *e, rp_conv_row *r)
{
    memset(r, 0, sizeof *r);
    sm_endpoint lo, hi;
    memset(&lo, 0, sizeof lo);
    memset(&hi, 0, sizeof hi);
    lo.addr.family = hi.addr.family = e->fam;
    memcpy(lo.addr.b, e->lo, 16);
    memcpy(hi.addr.b, e->hi, 16);
    lo.port = e->plo;
    hi.port = e->phi;
    if (e->st & E_A_IS_HI) {
        r->a = hi;
        r->b = lo;
    } else {
        r->a = lo;
        r->b = hi;
    }
    r->frames = e->frames;
    r->first_frame = e->first_frame;
}

static void start(rp_conv *t, ent *e, const rp_pkt *p, unsigned dir)
{
    t->count++;
    e->st = (uint8_t)(E_USED | (dir ? E_A_IS_HI : 0));
    e->base[0] = e->base[1] = 0;
    e->frames = 0;
    e->first_frame = p->frame;
}

bool rp_conv_add(rp_conv *t, const rp_pkt *p)
{
    if (p->proto != SM_TCP)
        return true;
    /* canonical order */
    const uint8_t *sa = p->src.addr.b, *da = p->dst.addr.b;
    int c = cmp16(sa, da);
    unsigned dir = c > 0 || (c == 0 && p->src.port > p->dst.port); /* 1: src is hi */
    const uint8_t *lo = dir ? da : sa, *hi = dir ? sa : da;
    uint16_t plo = dir ? p->dst.port : p->src.port, phi = dir ? p->src.port : p->dst.port;
    uint8_t fam = p->src.addr.family;

    if ((t->used + 1) * 2 > t->cap && !grow(t))
        return false;
    size_t mask = t->cap - 1;
    size_t i = (size_t)smu_tuple_hash(lo, hi, plo, phi, fam) & mask;
    ent *e;
    for (;;) {
        e = &t->tab[i];
        if (!(e->st & E_USED)) {
            memcpy(e->lo, lo, 16);
            memcpy(e->hi, hi, 16);
            e->plo = plo;
            e->phi = phi;
            e->fam = fam;
            t->used++;
            start(t, e, p, dir);
            break;
        }
        if (e->plo == plo && e->phi == phi && e->fam == fam && smu_eq16(e->lo, lo) &&
            smu_eq16(e->hi, hi))
            break;
        i = (i + 1) & mask;
    }

    unsigned fwd = dir, rev = !dir;
    uint8_t fbit = fwd ? E_BASE1 : E_BASE0, rbit = rev ? E_BASE1 : E_BASE0;
    /* dissect_tcp: a SYN (no ACK) with a new ISN starts a new stream. */
    if ((p->flags & (SM_TH_SYN | SM_TH_ACK)) == SM_TH_SYN && (e->st & fbit) &&
        p->seq != e->base[fwd]) {
        if (t->emit) {
            rp_conv_row r;
            row_of(e, &r);
            t->emit(t->ctx, &r);
        }
        start(t, e, p, dir);
    }
    /* tcp_analyze_sequence_number: base sequence numbers. */
    if (!(e->st & fbit)) {
        e->base[fwd] = (p->flags & SM_TH_SYN) ? p->seq : p->seq - 1;
        e->st |= fbit;
    }
    if (!(e->st & rbit) && (p->flags & SM_TH_ACK)) {
        e->base[rev] = p->ack - 1;
        e->st |= rbit;
    }
    e->frames++;
    return true;
}

void rp_conv_finish(rp_conv *t)
{
    for (size_t i = 0; i < t->cap; i++) {
        ent *e = &t->tab[i];
        if (!(e->st & E_USED))
            continue;
        if (t->emit) {
            rp_conv_row r;
            row_of(e, &r);
            t->emit(t->ctx, &r);
        }
    }
    memset(t->tab, 0, t->cap * sizeof *t->tab);
    t->used = 0;
}

void rp_conv_row_print(FILE *out, const rp_conv_row *row)
{
    char a[SM_EP_STRLEN], b[SM_EP_STRLEN];
    sm_endpoint_format(&row->a, a, sizeof a);
    sm_endpoint_format(&row->b, b, sizeof b);
    fprintf(out, "%s <-> %s %llu %llu\n", a, b, (unsigned long long)row->frames,
            (unsigned long long)row->first_frame);
}
