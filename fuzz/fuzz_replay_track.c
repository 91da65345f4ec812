/*
 * fuzz_replay_track.c - libFuzzer target for the replay model
 * (replay/track.c) alone: the input is decoded into well-formed TCP and
 * UDP packets (valid headers, as the capture reader hands them out) whose
 * timing, sequence numbers, flags, ports and hosts are hostile, and fed
 * straight to the tracker, which skips the reader's byte-level search.
 *
 * Input layout:
 *  - byte 0: the runs (profiles): bit i picks profile i of the registry,
 *    up to RP_MAX_RUNS; none picked: "linux";
 *  - byte 1: the timeline interval (1 ns .. 2^63 ns, or the default) and
 *    how many events each run keeps;
 *  - byte 2: declarations before the first packet: a listener, a sysctl
 *    (TIME_WAIT cap of 2, tw_reuse, a short TIME_WAIT), socket options,
 *    a per-address profile override;
 *  - then 16-byte records, one packet each:
 *      0  hosts: bits 0-2 source, 3-5 destination (of 8 per family),
 *         bit 6 UDP, bit 7 IPv6
 *      1  ports: bits 0-3 source, 4-7 destination (of 16)
 *      2  TCP flags (any combination)
 *      3  clock: bits 0-3 how time moves (none, +1 us .. +2 h, backwards,
 *         a year, 2^62, 2^63, beyond 2^63, UINT64_MAX, the raw value of
 *         bytes 8-15 as a step); bits 4-5 how seq is made (raw, the
 *         previous ack, the previous seq + len, a wrap near 2^32);
 *         bits 6-7 how ack is made (the same choices)
 *      4-7  seq (raw), 8-11 ack (raw), 12-13 payload length,
 *      14 window and option bits (MSS, wscale, SACK-OK, timestamps),
 *      15 TTL.
 * Besides the sanitizers' findings the target aborts when an invariant
 * breaks: at most one connection per packet, the first packet's time not
 * after the last, a host run naming its profile, and every result query
 * answering on a tracker that did not fail.
 *
 * Build and run: `make fuzz`, `make fuzz-run FUZZ_TARGET=replay_track`.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "track.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REC 16

static uint64_t conns_seen;

static void on_conn(void *ctx, const rp_tracker *t, const rp_conn_info *c)
{
    (void)ctx;
    (void)t;
    conns_seen++;
    if (c->first_ns > c->last_ns || c->id == 0)
        abort();
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static sm_addr host(unsigned i, bool v6)
{
    sm_addr a;
    memset(&a, 0, sizeof a);
    if (v6) {
        a.family = 6;
        a.b[0] = 0xfd;
        a.b[15] = (uint8_t)(i + 1);
        if (i == 7) /* the loopback: an own address */
            memset(a.b, 0, 15), a.b[15] = 1;
    } else {
        a.family = 4;
        a.b[0] = 10;
        a.b[3] = (uint8_t)(i + 1);
        if (i == 7)
            a.b[0] = 127, a.b[3] = 1;
    }
    return a;
}

static const uint16_t ports[16] = {80,    443,   22,    0,     1,     1023,  1024,  32768,
                                   32769, 49152, 49153, 60999, 61000, 65534, 65535, 8080};

static uint64_t step(uint64_t now, unsigned mode, const uint8_t *raw)
{
    static const uint64_t steps[] = {0, 1000, 1000000, 1000000000ull, 60000000000ull,
                                     7200000000000ull};
    switch (mode) {
    case 0: case 1: case 2: case 3: case 4: case 5:
        return now + steps[mode];
    case 6: return now >= 1000000000ull ? now - 1000000000ull : 0; /* backwards */
    case 7: return now + 366ull * 86400ull * 1000000000ull;        /* a year */
    case 8: return 1ull << 62;
    case 9: return 1ull << 63;
    case 10: return (1ull << 63) + 1;
    case 11: return UINT64_MAX;
    case 12: { /* a raw step */
        uint64_t d = (uint64_t)rd32(raw + 4) << 32 | rd32(raw);
        return now + d < now ? UINT64_MAX : now + d;
    }
    case 13: return now - (now >> 1); /* far backwards */
    default: return now; /* 14, 15: the same instant */
    }
}

static uint32_t seqnum(unsigned mode, uint32_t raw, uint32_t prev_seq, uint32_t prev_ack,
                       uint32_t prev_len)
{
    switch (mode) {
    case 0: return raw;
    case 1: return prev_ack + (raw & 3);
    case 2: return prev_seq + prev_len + (raw & 1);
    default: return 0xffffffffu - (raw & 0xff); /* near the wrap */
    }
}

static void declare(rp_tracker *t, uint8_t d, bool v6)
{
    sm_addr a = host(0, v6);
    if (d & 1)
        rp_track_listener(t, &a, ports[(d >> 4) & 15]);
    if (d & 2) {
        static const char *const two[] = {"2"};
        rp_track_sysctl(t, &a, "net.ipv4.tcp_max_tw_buckets", two, 1, ~0u, NULL);
    }
    if (d & 4) {
        static const char *const one[] = {"1"};
        sm_addr c = host(1, v6);
        rp_track_sysctl(t, &c, "net.ipv4.tcp_tw_reuse", one, 1, ~0u, NULL);
    }
    if (d & 8) {
        static const char *const ms[] = {"1"};
        rp_track_sysctl(t, &a, "TcpTimedWaitDelay", ms, 1, ~0u, NULL);
    }
    if (d & 0x80) {
        sm_opts o;
        memset(&o, 0, sizeof o);
        o.reuseaddr = true;
        o.linger_on = true;
        o.linger_s = 0;
        sm_endpoint ep = {a, ports[(d >> 4) & 15]};
        rp_track_sockopts(t, &ep, &o);
    }
}

static void query(const rp_tracker *t)
{
    char name[128];
    size_t nr = rp_track_nruns(t);
    for (size_t r = 0; r < nr; r++) {
        if (!rp_track_run_name(t, r, name, sizeof name))
            abort();
        size_t n;
        uint64_t dropped;
        rp_track_events(t, r, &n, &dropped);
    }
    if (rp_track_first_ns(t) > rp_track_last_ns(t))
        abort();
    size_t nh = rp_track_nhosts(t);
    rp_dest_info dests[8];
    for (size_t i = 0; i < nh; i++) {
        uint32_t id;
        if (!rp_track_host_addr(t, i, &id) || !rp_track_host_by_id(t, id))
            abort();
        for (size_t r = 0; r < nr; r++) {
            const rp_host_run *hr = rp_track_host_run(t, id, r);
            if (!hr || !hr->profile)
                abort();
            rp_track_dests(t, id, r, dests, 8);
        }
    }
    size_t ntl;
    rp_track_timeline(t, &ntl);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    rp_config cfg;
    memset(&cfg, 0, sizeof cfg);
    size_t np = sm_profile_count(), off = data[1] & 0x80 ? 4 : 0;
    for (size_t i = 0; i < 8 && np; i++)
        if (data[0] & (1u << i))
            cfg.run[cfg.nruns++] = sm_profile_at((i + off) % np);
    if (cfg.nruns == 0)
        cfg.run[cfg.nruns++] = sm_profile_find("linux");
    unsigned iv = data[1] & 0x3f;
    cfg.interval_ns = iv == 0 ? 0 : iv >= 63 ? 1ull << 63 : 1ull << iv;
    cfg.max_events = (data[1] >> 6) & 1 ? 4 : 0;
    bool v6decl = data[2] & 0x40;
    sm_addr oa = host(2, v6decl);
    const sm_profile *op = sm_profile_find("windows");
    if (data[2] & 0x20) {
        cfg.ovr_addr = &oa;
        cfg.ovr_prof = &op;
        cfg.novr = op ? 1 : 0;
    }
    cfg.on_conn = on_conn;
    conns_seen = 0;
    rp_tracker *t = rp_track_new(&cfg);
    if (!t)
        return 0;
    declare(t, data[2], v6decl);
    data += 3;
    size -= 3;

    uint64_t now = 1000000000ull, frame = 0;
    uint32_t pseq = 0, pack = 0, plen = 0;
    while (size >= REC && !rp_track_failed(t)) {
        const uint8_t *r = data;
        rp_pkt p;
        memset(&p, 0, sizeof p);
        bool v6 = r[0] & 0x80;
        p.frame = ++frame;
        now = step(now, r[3] & 15, r + 4);
        p.ts_ns = now;
        p.ts_mono_ns = now;
        p.proto = r[0] & 0x40 ? SM_UDP : SM_TCP;
        p.src.addr = host(r[0] & 7, v6);
        p.dst.addr = host((r[0] >> 3) & 7, v6);
        p.src.port = ports[r[1] & 15];
        p.dst.port = ports[r[1] >> 4];
        p.flags = p.proto == SM_TCP ? r[2] : 0;
        p.seq = seqnum((r[3] >> 4) & 3, rd32(r + 4), pseq, pack, plen);
        p.ack = seqnum(r[3] >> 6, rd32(r + 8), pseq, pack, plen);
        p.len = (uint32_t)r[12] << 8 | r[13];
        p.window = (uint16_t)(r[14] << 8);
        p.has_mss = r[14] & 1;
        p.mss = (uint16_t)(r[15] << 4);
        p.has_wscale = r[14] & 2;
        p.wscale = r[15] & 31;
        p.sack_ok = r[14] & 4;
        p.has_ts = r[14] & 8;
        p.tsval = p.seq ^ 0x5a5a5a5au;
        p.tsecr = p.ack;
        p.ttl = r[15];
        p.caplen = p.wirelen = 54 + p.len;
        pseq = p.seq;
        pack = p.ack;
        plen = p.len;
        rp_track_packet(t, &p);
        data += REC;
        size -= REC;
    }
    if (rp_track_finish(t) && !rp_track_failed(t)) {
        if (rp_track_connections(t) > frame || conns_seen > rp_track_connections(t))
            abort();
        query(t);
    }
    rp_track_free(t);
    return 0;
}
