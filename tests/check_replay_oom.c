/*
 * check_replay_oom.c - out of memory in the replay model (replay/track.c,
 * built into this test with RP_TRACK_FAIL_HOOK): a small replay (listeners,
 * a sysctl, socket options, a few hundred connections from enough hosts to
 * grow every table, TIME_WAIT reuse, the end of capture) is run once with
 * the n-th allocation failing, for every n until a run needs no more.
 * Each failing run must end in an error return (NULL or false), leave the
 * tracker failed for good, and free cleanly (the sanitizer build checks
 * for leaks); the run that no failure reaches must match the baseline.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "track.h"
#include "sm_profile.h"

#define MS 1000000ull
#define SEC 1000000000ull
#define NHOSTS 150   /* > 128: the host slots (256) and records (64) grow */
#define NCONNS 1200  /* > 1024: the connection records and slots grow several times */

static void on_conn(void *ctx, const rp_tracker *t, const rp_conn_info *c)
{
    (void)t;
    (void)c;
    (*(uint64_t *)ctx)++;
}

static uint64_t frame;

static sm_addr host_addr(unsigned h)
{
    sm_addr a;
    memset(&a, 0, sizeof a);
    a.family = 4;
    a.b[0] = 10;
    a.b[2] = (uint8_t)(h >> 8);
    a.b[3] = (uint8_t)h;
    return a;
}

/* One segment. */
static rp_pkt mkseg(uint64_t ms, unsigned a, uint16_t ap, unsigned b, uint16_t bp, uint8_t flags,
                    uint32_t seq, uint32_t ack)
{
    rp_pkt p;
    memset(&p, 0, sizeof p);
    p.frame = ++frame;
    p.ts_ns = p.ts_mono_ns = 1000 * SEC + ms * MS;
    p.proto = SM_TCP;
    p.src.addr = host_addr(a);
    p.dst.addr = host_addr(b);
    p.src.port = ap;
    p.dst.port = bp;
    p.flags = flags;
    p.seq = seq;
    p.ack = ack;
    p.window = 65535;
    return p;
}

/* One segment on its own; false once the tracker has failed. */
static bool seg(rp_tracker *t, uint64_t ms, unsigned a, uint16_t ap, unsigned b, uint16_t bp,
                uint8_t flags, uint32_t seq, uint32_t ack)
{
    rp_pkt p = mkseg(ms, a, ap, b, bp, flags, seq, ack);
    return rp_track_packet(t, &p);
}

#define SYN SM_TH_SYN
#define ACK SM_TH_ACK
#define FIN SM_TH_FIN

/* A whole client-closed connection from host c (>= 2) to host 1 port 80,
 * as one batch (rp_track_packets): a failure names a packet of it, and the
 * tracker is failed from then on. */
static bool conn(rp_tracker *t, uint64_t ms, unsigned c, uint16_t port, uint32_t isn)
{
    rp_pkt b[7] = {
        mkseg(ms, c, port, 1, 80, SYN, isn, 0),
        mkseg(ms, 1, 80, c, port, SYN | ACK, 5000, isn + 1),
        mkseg(ms, c, port, 1, 80, ACK, isn + 1, 5001),
        mkseg(ms + 1, c, port, 1, 80, FIN | ACK, isn + 1, 5001),
        mkseg(ms + 1, 1, 80, c, port, ACK, 5001, isn + 2),
        mkseg(ms + 2, 1, 80, c, port, FIN | ACK, 5001, isn + 2),
        mkseg(ms + 2, c, port, 1, 80, ACK, isn + 2, 5002),
    };
    size_t done = rp_track_packets(t, b, 7);
    ck_assert_uint_le(done, 7);
    ck_assert(done == 7 || rp_track_failed(t));
    ck_assert(done < 7 || !rp_track_failed(t));
    return done == 7;
}

typedef struct result {
    bool ok;          /* every call succeeded */
    bool failed;      /* rp_track_failed at the end (when a tracker was made) */
    uint64_t conns, reported, hosts;
} result;

/* The replay; stops at the first error return, then checks that the
 * failure is sticky. */
static result replay(void)
{
    result res;
    memset(&res, 0, sizeof res);
    frame = 0;
    rp_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.run[cfg.nruns++] = sm_profile_find("linux");
    cfg.run[cfg.nruns++] = sm_profile_find("bsd");
    ck_assert_ptr_nonnull(cfg.run[0]);
    ck_assert_ptr_nonnull(cfg.run[1]);
    cfg.interval_ns = 10 * MS; /* many timeline points */
    cfg.on_conn = on_conn;
    cfg.ctx = &res.reported;
    rp_tracker *t = rp_track_new(&cfg);
    if (!t)
        return res;
    sm_addr srv = host_addr(1), cl = host_addr(2);
    const char *range[] = {"40000", "40100"};
    sm_endpoint ep = {.addr = srv, .port = 80};
    sm_opts o;
    memset(&o, 0, sizeof o);
    bool ok = rp_track_listener(t, &srv, 80) && rp_track_sockopts(t, &ep, &o);
    if (ok) {
        rp_track_sysctl(t, &cl, "net.ipv4.ip_local_port_range", range, 2, 1u, NULL);
        ok = !rp_track_failed(t);
    }
    for (unsigned i = 0; ok && i < NCONNS; i++)
        ok = conn(t, 3ull * i, 2 + i % NHOSTS, (uint16_t)(40000 + i / NHOSTS), 1000u * i);
    /* the same 4-tuples again while in TIME_WAIT: SYNs into TIME_WAIT */
    for (unsigned i = 0; ok && i < NHOSTS; i++)
        ok = conn(t, 3ull * NCONNS + i, 2 + i, 40000, 0x40000000u + i);
    ok = ok && rp_track_finish(t);
    res.ok = ok;
    res.failed = rp_track_failed(t);
    if (!ok) {
        /* sticky: nothing more is done, every call says so */
        ck_assert(res.failed);
        ck_assert(!seg(t, 0, 2, 1, 1, 80, SYN, 1, 0));
        ck_assert(!rp_track_listener(t, &srv, 81));
        ck_assert(!rp_track_sockopts(t, &ep, &o));
        ck_assert(!rp_track_finish(t));
    } else {
        res.conns = rp_track_connections(t);
        res.hosts = rp_track_nhosts(t);
    }
    rp_track_free(t);
    return res;
}

START_TEST(oom_every_allocation)
{
    rp_track_fail_after(0);
    result base = replay();
    ck_assert(base.ok && !base.failed);
    ck_assert_uint_eq(base.conns, NCONNS + NHOSTS);
    ck_assert_uint_eq(base.reported, NCONNS + NHOSTS);
    ck_assert_uint_eq(base.hosts, NHOSTS + 1);
    unsigned long n;
    for (n = 1;; n++) {
        rp_track_fail_after(n);
        result r = replay();
        bool fired = rp_track_fail_after(0) == 0;
        if (!fired) {
            /* no allocation left to fail: the whole replay, as the baseline */
            ck_assert(r.ok && !r.failed);
            ck_assert_uint_eq(r.conns, base.conns);
            ck_assert_uint_eq(r.reported, base.reported);
            break;
        }
        ck_assert_msg(!r.ok, "allocation %lu failed but the replay succeeded", n);
        ck_assert_msg(r.reported <= base.reported, "allocation %lu", n);
    }
    /* every table grows at least once: far more than a handful of points */
    ck_assert_uint_gt(n, 20);
    fprintf(stderr, "check_replay_oom: %lu allocations failed in turn, each an error\n", n - 1);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("replay_oom");
    TCase *tc = tcase_create("oom");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, oom_every_allocation);
    suite_add_tcase(s, tc);
    return s;
}

CHECK_MAIN(suite)
