/*
 * fuzz_replay_read.c - libFuzzer target for the replay's capture reader
 * (replay/pkt_read.c) and conversation counter (replay/conv.c).
 *
 * The first input byte picks the mode:
 *  - even: the rest is a capture file (pcap, pcapng or garbage), read
 *    through fmemopen + rp_open_stream + rp_next as `sockmodel replay`
 *    reads a file, every packet fed to the conversation table (whose rows
 *    must hold every TCP packet it took exactly once); and read again, in
 *    step, by a second reader with the read-ahead thread (RP_OPT_THREAD):
 *    the same packets, the same end, counts and message;
 *  - odd: the record decoder alone, on any link type: the second byte
 *    picks one of the link types the reader knows (and one it does not),
 *    the rest is a sequence of records, each a 2-byte length, a 1-byte
 *    extra wire length and that many bytes (the last one takes what is
 *    left); timestamps go up and down.  Each record is decoded twice, by
 *    the reader's fast path where it applies and by the general path
 *    alone (RP_OPT_GENERAL): packets, counts and state must be identical.
 * Besides the sanitizers' findings the target aborts when the reader's
 * accounting breaks: every record must land in exactly one category, and
 * a delivered packet must be TCP or UDP with ports, an IPv4/IPv6 address
 * family and a length no larger than the record's wire length.
 *
 * Build and run: `make fuzz`, `make fuzz-run FUZZ_SECONDS=60` (fuzz/fuzz.am).
 * Seeds: the captures tests/check_replay_read builds (RP_SEED_DIR=DIR).
 */
/* fmemopen is POSIX 2008; pcap.h (via pkt.h's users) wants the BSD types. */
#define _DEFAULT_SOURCE

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conv.h"
#include "pkt.h"
#include "track.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t fates(const rp_counts *c)
{
    return c->tcp4 + c->tcp6 + c->udp4 + c->udp6 + c->arp + c->llc + c->other_ethertype +
           c->other_family + c->link_unsupported + c->icmp4 + c->icmp6 + c->ip_other +
           c->ip6_esp + c->ip6_no_next + c->frag4 + c->frag6 + c->trunc_link + c->trunc_ip +
           c->trunc_l4 + c->bad_ip_version + c->bad_ip_hlen + c->bad_ip_len + c->bad_tcp_hlen +
           c->bad_udp_len;
}

/* The clock of the last packet of the current input (0 at its start). */
static uint64_t last_mono;

static void check_pkt(const rp_pkt *p)
{
    if (p->proto != SM_TCP && p->proto != SM_UDP)
        abort();
    if (p->src.addr.family != p->dst.addr.family ||
        (p->src.addr.family != 4 && p->src.addr.family != 6))
        abort();
    /* a datagram reassembled from fragments is longer than its last record */
    uint32_t wire = p->anomalies & RP_A_REASSEMBLED ? 65535u
                    : p->wirelen > p->caplen ? p->wirelen : p->caplen;
    if (p->len > wire)
        abort();
    /* the model's clock never goes back and never passes its cap */
    if (p->ts_mono_ns < last_mono || p->ts_mono_ns > RP_TS_MONO_MAX)
        abort();
    last_mono = p->ts_mono_ns;
}

static void check_counts(const rp_counts *c, uint64_t delivered)
{
    /* every record, and every further packet of one (an A-MSDU's
     * subframes), has one fate */
    if (fates(c) != c->records + c->subframes)
        abort();
    if (c->records + c->subframes - rp_counts_skipped(c) != delivered)
        abort();
}

static rp_tracker *tracker(void)
{
    /* the replay model too, under four profiles at once */
    rp_config cfg;
    memset(&cfg, 0, sizeof cfg);
    static const char *const profs[] = {"linux", "windows", "bsd", "solaris"};
    for (size_t i = 0; i < 4; i++)
        if ((cfg.run[cfg.nruns] = sm_profile_find(profs[i])) != NULL)
            cfg.nruns++;
    cfg.max_events = 16;
    return rp_track_new(&cfg);
}

static void tracker_end(rp_tracker *tr, uint64_t n)
{
    if (!tr)
        return;
    /* out of memory (a failed tracker) is an error, not a finding */
    if (rp_track_finish(tr) && rp_track_connections(tr) > n)
        abort(); /* at most one connection per packet */
    rp_track_free(tr);
}

/* The conversation table's rows, printed as `replay --conversations`
 * prints them; each TCP packet the table took is in exactly one row. */
typedef struct conv_sum {
    FILE *out;
    uint64_t rows, frames, taken; /* rows emitted, their frames, TCP packets taken */
    bool lost;                    /* a packet refused for want of memory */
} conv_sum;

static void conv_row(void *ctx, const rp_conv_row *row)
{
    conv_sum *s = ctx;
    if (row->frames == 0)
        abort(); /* a conversation has its first packet */
    s->rows++;
    s->frames += row->frames;
    if (s->out)
        rp_conv_row_print(s->out, row);
}

static rp_conv *conv_start(conv_sum *s)
{
    memset(s, 0, sizeof *s);
    s->out = fopen("/dev/null", "w");
    return rp_conv_new(conv_row, s);
}

/* Empties the table and checks the rows against the packets. */
static void conv_end(rp_conv *t, conv_sum *s)
{
    if (t) {
        uint64_t count = rp_conv_count(t);
        rp_conv_finish(t);
        if (!s->lost && (s->frames != s->taken || s->rows != count ||
                         rp_conv_tuples(t) > count))
            abort(); /* a packet in no row or in two, or a row not counted */
        rp_conv_free(t);
    }
    if (s->out)
        fclose(s->out);
}

/* A delivered packet: checked, counted, given to the count and the model. */
static void take(const rp_pkt *p, rp_conv *t, conv_sum *s, rp_tracker *tr, uint64_t *n)
{
    check_pkt(p);
    (*n)++;
    if (t) {
        if (!rp_conv_add(t, p))
            s->lost = true;
        else if (p->proto == SM_TCP)
            s->taken++;
    }
    if (tr)
        rp_track_packet(tr, p);
}

/* A reader over a copy of the input (*copy: to free after rp_close);
 * NULL if it cannot be opened, with err saying why. */
static rp_reader *open_copy(const uint8_t *data, size_t size, unsigned opts, uint8_t **copy,
                            char *err, size_t errlen)
{
    err[0] = '\0';
    /* fmemopen wants a writable buffer of at least one byte */
    *copy = malloc(size ? size : 1);
    if (!*copy)
        return NULL;
    memcpy(*copy, data, size);
    FILE *fp = fmemopen(*copy, size ? size : 1, "rb");
    if (!fp) {
        free(*copy);
        *copy = NULL;
        return NULL;
    }
    rp_reader *r = rp_open_stream(fp, opts, err, errlen);
    if (!r) {
        if (err[0] == '\0')
            abort(); /* a failure must say why */
        fclose(fp);
        free(*copy);
        *copy = NULL;
    }
    return r;
}

static void file_mode(const uint8_t *data, size_t size)
{
    char err[512], err2[512];
    uint8_t *copy, *copy2;
    rp_reader *r = open_copy(data, size, 0, &copy, err, sizeof err);
    if (!r)
        return;
    /* the same bytes through the read-ahead thread, in step */
    rp_reader *r2 = open_copy(data, size, RP_OPT_THREAD, &copy2, err2, sizeof err2);
    if (!r2 && err2[0])
        abort(); /* it opened one way and not the other */
    conv_sum cs;
    rp_conv *t = conv_start(&cs);
    rp_tracker *tr = tracker();
    rp_pkt p, p2;
    uint64_t n = 0;
    int rc;
    while ((rc = rp_next(r, &p)) == 1) {
        if (r2 && (rp_next(r2, &p2) != 1 || !rp_pkt_equal(&p, &p2)))
            abort(); /* the thread delivered another packet */
        take(&p, t, &cs, tr, &n);
    }
    if (r2) {
        if (rp_next(r2, &p2) != rc)
            abort(); /* ... or ended otherwise */
        if (memcmp(rp_get_counts(r), rp_get_counts(r2), sizeof(rp_counts)) != 0 ||
            strcmp(rp_error(r), rp_error(r2)) != 0 ||
            rp_error_record(r) != rp_error_record(r2))
            abort(); /* ... or counted or said otherwise */
        rp_close(r2);
        free(copy2);
    }
    check_counts(rp_get_counts(r), n);
    tracker_end(tr, n);
    if (t && rp_conv_count(t) > n)
        abort();
    conv_end(t, &cs);
    rp_close(r);
    free(copy);
}

static void decode_mode(const uint8_t *data, size_t size)
{
    static const int dlts[] = {1 /* EN10MB */, 113 /* SLL */, 276 /* SLL2 */, 0 /* NULL */,
                               108 /* LOOP */, 12 /* RAW */, 14, 101, 228 /* IPV4 */,
                               229 /* IPV6 */, 105 /* 802.11: unsupported */, 9 /* PPP */,
                               10 /* FDDI */, 50 /* PPP_SERIAL */, 51 /* PPP_ETHER */,
                               104 /* C_HDLC */, 178 /* JUNIPER_ETHER */, 239 /* NFLOG */,
                               242 /* IPOIB */, 7 /* ARCNET_BSD */, 129 /* ARCNET_LINUX */};
    if (size < 1)
        return;
    int dlt = dlts[data[0] % (sizeof dlts / sizeof dlts[0])];
    data++;
    size--;
    rp_decode_state st;
    memset(&st, 0, sizeof st);
    rp_counts c;
    memset(&c, 0, sizeof c);
    rp_decode_state gst = st; /* the general path's twin */
    rp_counts gc = c;
    conv_sum cs;
    rp_conv *t = conv_start(&cs);
    rp_tracker *tr = tracker();
    uint64_t n = 0;
    int64_t sec = 1000;
    while (size >= 3) {
        size_t len = (size_t)data[0] << 8 | data[1];
        uint32_t extra = data[2];
        data += 3;
        size -= 3;
        if (len > size)
            len = size;
        sec += (int64_t)(extra % 5) - 2; /* up and down */
        if ((extra & 0x60) == 0x60) /* hostile clocks: 12 days to past 2^64 ns */
            sec += (int64_t)1 << (20 + extra % 24);
        st.opts = extra & 0x80 ? RP_OPT_NO_CSUM : 0;
        /* decode from a heap copy of exactly len bytes, so ASan sees overreads */
        uint8_t *rec = malloc(len ? len : 1);
        if (!rec)
            break;
        memcpy(rec, data, len);
        gst.opts = st.opts | RP_OPT_GENERAL;
        rp_pkt p, g;
        bool got = rp_decode(&st, dlt, sec, extra * 1000u, (uint32_t)len,
                             (uint32_t)len + (extra & 0x7f), rec, &p, &c);
        bool ggot = rp_decode(&gst, dlt, sec, extra * 1000u, (uint32_t)len,
                              (uint32_t)len + (extra & 0x7f), rec, &g, &gc);
        if (got != ggot || (got && !rp_pkt_equal(&p, &g)) || memcmp(&c, &gc, sizeof c) != 0 ||
            st.frame != gst.frame || st.max_ts_ns != gst.max_ts_ns || st.have_ts != gst.have_ts)
            abort(); /* the fast path decoded differently */
        for (;;) {
            if (got)
                take(&p, t, &cs, tr, &n);
            /* the record's further packets (an A-MSDU's subframes), the
             * same on both paths */
            got = rp_decode_more(&st, &p, &c);
            ggot = rp_decode_more(&gst, &g, &gc);
            if (got != ggot || (got && !rp_pkt_equal(&p, &g)) || memcmp(&c, &gc, sizeof c) != 0)
                abort();
            if (!got)
                break;
        }
        free(rec);
        data += len;
        size -= len;
    }
    rp_decode_state_free(&st);
    rp_decode_state_free(&gst);
    check_counts(&c, n);
    tracker_end(tr, n);
    conv_end(t, &cs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    last_mono = 0;
    if (size < 1)
        return 0;
    if (data[0] & 1)
        decode_mode(data + 1, size - 1);
    else
        file_mode(data + 1, size - 1);
    return 0;
}
