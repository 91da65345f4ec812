/*
 * check_replay_track.c - tests of the replay model (replay/track.c), fed
 * with hand-made segments (no capture file): the per-side state machine
 * and Zeek summaries, TIME_WAIT lengths taken from each profile's
 * tunables, a RST into TIME_WAIT (killed under linux, ignored where the
 * profile sets RFC 1337), a SYN into TIME_WAIT judged by profile->tw_syn,
 * a 4-tuple reused while alive, port exhaustion against a sysctl'd range,
 * the timeline, and the TIME_WAIT cap, where replay and the engine must
 * give the same answer (one rule, sm_tw_admission()); XNU's collector
 * ending entries of hosts with different phases out of arrival order.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "track.h"
#include "sm_profile.h"

#define MS 1000000ull
#define SEC 1000000000ull

typedef struct got {
    rp_conn_info c[16];
    size_t n;
} got;

static void on_conn(void *ctx, const rp_tracker *t, const rp_conn_info *c)
{
    (void)t;
    got *g = ctx;
    if (g->n < 16)
        g->c[g->n++] = *c;
}

static rp_tracker *mk(got *g, const char *p1, const char *p2)
{
    rp_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.run[cfg.nruns++] = sm_profile_find(p1);
    if (p2)
        cfg.run[cfg.nruns++] = sm_profile_find(p2);
    ck_assert_ptr_nonnull(cfg.run[0]);
    cfg.on_conn = on_conn;
    cfg.ctx = g;
    memset(g, 0, sizeof *g);
    return rp_track_new(&cfg);
}

static uint64_t frame;

/* The clock of the next segments: ns = base_ns + ms * MS unless raw_ns is
 * set, then that time as it is (hostile clocks). */
static uint64_t base_ns = 1000 * SEC;
static bool use_raw;
static uint64_t raw_ns;

/* One segment from a:ap to b:bp at time ms (milliseconds from 1000 s). */
static void seg(rp_tracker *t, uint64_t ms, int a, uint16_t ap, int b, uint16_t bp, uint8_t flags,
                uint32_t seq, uint32_t ack, uint32_t len)
{
    rp_pkt p;
    memset(&p, 0, sizeof p);
    p.frame = ++frame;
    p.ts_ns = p.ts_mono_ns = use_raw ? raw_ns : base_ns + ms * MS;
    p.proto = SM_TCP;
    p.src.addr.family = p.dst.addr.family = 4;
    p.src.addr.b[0] = p.dst.addr.b[0] = 10;
    p.src.addr.b[3] = (uint8_t)a;
    p.dst.addr.b[3] = (uint8_t)b;
    p.src.port = ap;
    p.dst.port = bp;
    p.flags = flags;
    p.seq = seq;
    p.ack = ack;
    p.len = len;
    p.window = 65535;
    rp_track_packet(t, &p);
}

#define SYN SM_TH_SYN
#define ACK SM_TH_ACK
#define FIN SM_TH_FIN
#define RST SM_TH_RST

/* client 10.0.0.1:5000 <-> server 10.0.0.2:80; handshake at ms, data,
 * client closes first (client ISN cs, server ISN ss). */
static void conn_client_closes(rp_tracker *t, uint64_t ms, uint16_t cp, uint32_t cs, uint32_t ss)
{
    seg(t, ms, 1, cp, 2, 80, SYN, cs, 0, 0);
    seg(t, ms + 1, 2, 80, 1, cp, SYN | ACK, ss, cs + 1, 0);
    seg(t, ms + 2, 1, cp, 2, 80, ACK, cs + 1, ss + 1, 0);
    seg(t, ms + 3, 1, cp, 2, 80, ACK, cs + 1, ss + 1, 100);
    seg(t, ms + 4, 1, cp, 2, 80, FIN | ACK, cs + 101, ss + 1, 0);
    seg(t, ms + 5, 2, 80, 1, cp, ACK, ss + 1, cs + 102, 0);
    seg(t, ms + 6, 2, 80, 1, cp, FIN | ACK, ss + 1, cs + 102, 0);
    seg(t, ms + 7, 1, cp, 2, 80, ACK, cs + 102, ss + 2, 0);
}

/* Issue 23: Zeek's conn_state from Zeek's own endpoint transitions
 * (TCPSessionAdapter): the responder's SYN+ACK establishes both ends;
 * a RST after both FINs changes nothing; FIN, RST, then the peer's FIN
 * is a normal close. */
START_TEST(zeek_transitions)
{
    got g;
    rp_tracker *t = mk(&g, "linux", NULL);
    /* SYN, SYN+ACK, nothing more: S1 */
    seg(t, 0, 1, 7000, 2, 80, SYN, 100, 0, 0);
    seg(t, 1, 2, 80, 1, 7000, SYN | ACK, 900, 101, 0);
    /* a full close, then a RST from the client: SF */
    conn_client_closes(t, 10, 7001, 1000, 9000);
    seg(t, 18, 1, 7001, 2, 80, RST, 1102, 0, 0);
    /* established; the client's FIN then RST; the server's FIN: SF */
    seg(t, 30, 1, 7002, 2, 80, SYN, 50, 0, 0);
    seg(t, 31, 2, 80, 1, 7002, SYN | ACK, 90, 51, 0);
    seg(t, 32, 1, 7002, 2, 80, ACK, 51, 91, 0);
    seg(t, 33, 1, 7002, 2, 80, FIN | ACK, 51, 91, 0);
    seg(t, 34, 1, 7002, 2, 80, RST, 52, 0, 0);
    seg(t, 35, 2, 80, 1, 7002, FIN | ACK, 91, 52, 0);
    /* the client's FIN then RST and no more: RSTO */
    seg(t, 40, 1, 7003, 2, 80, SYN, 50, 0, 0);
    seg(t, 41, 2, 80, 1, 7003, SYN | ACK, 90, 51, 0);
    seg(t, 42, 1, 7003, 2, 80, ACK, 51, 91, 0);
    seg(t, 43, 1, 7003, 2, 80, FIN | ACK, 51, 91, 0);
    seg(t, 44, 1, 7003, 2, 80, RST, 52, 0, 0);
    rp_track_finish(t);
    ck_assert_uint_eq(g.n, 4);
    ck_assert_str_eq(rp_zeek_name(g.c[0].summary), "S1");
    ck_assert_str_eq(rp_zeek_name(g.c[1].summary), "SF");
    ck_assert_str_eq(rp_zeek_name(g.c[2].summary), "SF");
    ck_assert_str_eq(rp_zeek_name(g.c[3].summary), "RSTO");
    rp_track_free(t);
}
END_TEST

/* Issue 23: a connection first seen mid-stream gets its client by Zeek's
 * port heuristic: from a likely server port to another port, the sender
 * is the server; both likely: the lower port is the server. */
START_TEST(midstream_ports)
{
    got g;
    rp_tracker *t = mk(&g, "linux", NULL);
    seg(t, 0, 2, 80, 1, 5767, ACK, 500, 600, 10);    /* server speaks first */
    seg(t, 1, 1, 5000, 2, 6000, ACK, 500, 600, 10);  /* no port known: the sender */
    seg(t, 2, 1, 8080, 2, 80, ACK, 500, 600, 10);    /* both known: 80 serves */
    seg(t, 3, 2, 443, 1, 8080, ACK, 500, 600, 10);   /* both known: 443 serves */
    rp_track_finish(t);
    ck_assert_uint_eq(g.n, 4);
    ck_assert_uint_eq(g.c[0].client.port, 5767);
    ck_assert_uint_eq(g.c[0].server.port, 80);
    ck_assert_str_eq(g.c[0].opened_by, "unknown");
    ck_assert_uint_eq(g.c[1].client.port, 5000);
    ck_assert_uint_eq(g.c[2].client.port, 8080);
    ck_assert_uint_eq(g.c[3].client.port, 8080);
    ck_assert_uint_eq(g.c[3].server.port, 443);
    rp_track_free(t);
}
END_TEST

/* Issue 22: times near 2^64 ns (what a reader that saturates hands over),
 * going back, and a one-nanosecond timeline interval: every time sum must
 * saturate, the timers' loop must end, and the counters stay sane. */
START_TEST(hostile_clock)
{
    static const uint64_t times[] = {UINT64_MAX - 999999999u, UINT64_MAX, 5, UINT64_MAX - 1,
                                     1ull << 63, (1ull << 63) + 1, UINT64_MAX};
    for (size_t k = 0; k < sizeof times / sizeof times[0]; k++) {
        got g;
        rp_config cfg;
        memset(&cfg, 0, sizeof cfg);
        cfg.run[cfg.nruns++] = sm_profile_find("linux");
        cfg.run[cfg.nruns++] = sm_profile_find("windows");
        cfg.interval_ns = k % 2 ? 1 : UINT64_MAX;
        cfg.on_conn = on_conn;
        cfg.ctx = &g;
        memset(&g, 0, sizeof g);
        rp_tracker *t = rp_track_new(&cfg);
        ck_assert_ptr_nonnull(t);
        use_raw = true;
        /* the first connection at times[k], the next at each later time */
        for (size_t j = 0; j < 3; j++) {
            raw_ns = times[(k + j) % (sizeof times / sizeof times[0])];
            conn_client_closes(t, 0, (uint16_t)(6000 + j), 1000, 9000);
        }
        use_raw = false;
        rp_track_finish(t);
        ck_assert_uint_eq(g.n, 3);
        ck_assert_uint_ge(rp_track_last_ns(t), rp_track_first_ns(t));
        for (size_t j = 0; j < g.n; j++) {
            ck_assert_str_eq(rp_zeek_name(g.c[j].summary), "SF");
            ck_assert_uint_ge(g.c[j].last_ns, g.c[j].first_ns);
        }
        size_t n;
        const rp_tl_point *tl = rp_track_timeline(t, &n);
        for (size_t i = 1; i < n; i++)
            ck_assert_uint_ge(tl[i].ns, tl[i - 1].ns);
        rp_track_free(t);
    }
}
END_TEST

START_TEST(states_and_summaries)
{
    got g;
    rp_tracker *t = mk(&g, "linux", NULL);
    conn_client_closes(t, 0, 5000, 1000, 9000);
    /* S0: a SYN, no answer */
    seg(t, 100, 1, 5001, 2, 81, SYN, 7, 0, 0);
    /* REJ: SYN, RST|ACK */
    seg(t, 110, 1, 5002, 2, 82, SYN, 7, 0, 0);
    seg(t, 111, 2, 82, 1, 5002, RST | ACK, 0, 8, 0);
    /* RSTO: established, the client resets */
    seg(t, 120, 1, 5003, 2, 80, SYN, 50, 0, 0);
    seg(t, 121, 2, 80, 1, 5003, SYN | ACK, 90, 51, 0);
    seg(t, 122, 1, 5003, 2, 80, ACK, 51, 91, 0);
    seg(t, 123, 1, 5003, 2, 80, RST | ACK, 51, 91, 0);
    /* mid-stream: OTH, both ESTABLISHED */
    seg(t, 130, 1, 5004, 2, 80, ACK, 500, 600, 10);
    rp_track_finish(t);
    ck_assert_uint_eq(g.n, 5);
    ck_assert_uint_eq(rp_track_connections(t), 5);
    /* at the end, in first-seen order */
    ck_assert_str_eq(rp_zeek_name(g.c[0].summary), "SF");
    ck_assert_int_eq(g.c[0].run[0][0].state, SM_TIME_WAIT);
    ck_assert_int_eq(g.c[0].run[0][1].state, SM_CLOSED);
    ck_assert_str_eq(g.c[0].closed_first_by, "client");
    ck_assert_str_eq(rp_zeek_name(g.c[1].summary), "S0");
    ck_assert_int_eq(g.c[1].run[0][0].state, SM_SYN_SENT);
    ck_assert_str_eq(rp_zeek_name(g.c[2].summary), "REJ");
    ck_assert_int_eq(g.c[2].run[0][0].state, SM_CLOSED);
    ck_assert_str_eq(rp_zeek_name(g.c[3].summary), "RSTO");
    ck_assert_str_eq(g.c[3].close_kind, "rst");
    ck_assert_str_eq(rp_zeek_name(g.c[4].summary), "OTH");
    ck_assert_str_eq(g.c[4].opened_by, "unknown");
    ck_assert_int_eq(g.c[4].run[0][1].state, SM_ESTABLISHED);
    rp_track_free(t);
}
END_TEST

/* no_timeline (the report without --timeline or --svg): no point is
 * kept, so memory does not grow with the capture's length, and every
 * other result is the same. */
START_TEST(no_timeline)
{
    uint64_t peak[2], now[2];
    size_t npoints[2];
    for (int k = 0; k < 2; k++) {
        got g;
        rp_config cfg;
        memset(&cfg, 0, sizeof cfg);
        cfg.run[cfg.nruns++] = sm_profile_find("windows");
        cfg.on_conn = on_conn;
        cfg.ctx = &g;
        cfg.no_timeline = k == 1;
        memset(&g, 0, sizeof g);
        rp_tracker *t = rp_track_new(&cfg);
        ck_assert_ptr_nonnull(t);
        conn_client_closes(t, 0, 5000, 1000, 9000);
        conn_client_closes(t, 0, 5001, 2000, 9500);
        seg(t, 200000, 1, 6000, 2, 80, ACK, 1, 1, 0); /* both TIME_WAITs end */
        rp_track_finish(t);
        uint32_t id;
        rp_track_host_addr(t, 0, &id);
        peak[k] = rp_track_host_run(t, id, 0)->tw_peak;
        now[k] = rp_track_host_run(t, id, 0)->tw_now;
        rp_track_timeline(t, &npoints[k]);
        rp_track_free(t);
    }
    ck_assert_uint_ge(npoints[0], 2);
    ck_assert_uint_eq(npoints[1], 0);
    ck_assert_uint_eq(peak[0], 2);
    ck_assert_uint_eq(peak[1], peak[0]);
    ck_assert_uint_eq(now[1], now[0]);
}
END_TEST

/* The same close under linux (60 s) and windows (120 s): 90 s later the
 * linux TIME_WAIT is over, the windows one is not. */
START_TEST(time_wait_length_per_profile)
{
    got g;
    rp_tracker *t = mk(&g, "linux", "windows");
    conn_client_closes(t, 0, 5000, 1000, 9000);
    seg(t, 90000, 1, 6000, 2, 80, ACK, 1, 1, 0); /* time moves on */
    rp_track_finish(t);
    ck_assert_uint_eq(g.n, 2);
    const rp_conn_info *c = &g.c[0];
    ck_assert_int_eq(c->run[0][0].state, SM_CLOSED); /* linux */
    ck_assert_int_eq(c->run[0][0].tw_end, RP_TW_EXPIRED);
    ck_assert_uint_eq(c->run[0][0].tw_ms, 60000);
    ck_assert_int_eq(c->run[1][0].state, SM_TIME_WAIT); /* windows */
    ck_assert_int_eq(c->run[1][0].tw_end, RP_TW_LIVE);
    uint32_t id;
    rp_track_host_addr(t, 0, &id); /* 10.0.0.1 sorts first */
    ck_assert_uint_eq(rp_track_host_run(t, id, 0)->tw_now, 0);
    ck_assert_uint_eq(rp_track_host_run(t, id, 1)->tw_now, 1);
    ck_assert_uint_eq(rp_track_host_run(t, id, 1)->tw_peak, 1);
    size_t n;
    const rp_tl_point *tl = rp_track_timeline(t, &n);
    ck_assert_uint_ge(n, 2);
    ck_assert_uint_eq(tl[0].count, 1);
    rp_track_free(t);
}
END_TEST

/* A RST with the expected sequence number into the client's TIME_WAIT:
 * linux (tcp_rfc1337=0) ends it, bsd (RFC 1337) keeps it. */
START_TEST(rst_into_time_wait)
{
    got g;
    rp_tracker *t = mk(&g, "bsd", "linux");
    conn_client_closes(t, 0, 5000, 1000, 9000);
    seg(t, 1000, 2, 80, 1, 5000, RST, 9002, 0, 0);
    rp_track_finish(t);
    size_t n;
    uint64_t dropped;
    const rp_event *e = rp_track_events(t, 0, &n, &dropped);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(e[0].kind, RP_EV_TW_RST_IGNORED);
    e = rp_track_events(t, 1, &n, &dropped);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(e[0].kind, RP_EV_TW_RST_KILL);
    ck_assert_int_eq(g.c[0].run[0][0].state, SM_TIME_WAIT);
    ck_assert_int_eq(g.c[0].run[1][0].state, SM_CLOSED);
    ck_assert_int_eq(g.c[0].run[1][0].tw_end, RP_TW_RST);
    rp_track_free(t);
}
END_TEST

/* The server closes first and holds TIME_WAIT; the client reconnects
 * from the same port with a higher ISN: linux (a listener: it answered
 * before) accepts, solaris (within the old window) answers RST. */
START_TEST(syn_into_time_wait)
{
    got g;
    rp_tracker *t = mk(&g, "linux", "solaris");
    uint32_t cs = 1000, ss = 9000;
    seg(t, 0, 1, 5000, 2, 80, SYN, cs, 0, 0);
    seg(t, 1, 2, 80, 1, 5000, SYN | ACK, ss, cs + 1, 0);
    seg(t, 2, 1, 5000, 2, 80, ACK, cs + 1, ss + 1, 0);
    seg(t, 3, 2, 80, 1, 5000, FIN | ACK, ss + 1, cs + 1, 0);
    seg(t, 4, 1, 5000, 2, 80, ACK, cs + 1, ss + 2, 0);
    seg(t, 5, 1, 5000, 2, 80, FIN | ACK, cs + 1, ss + 2, 0);
    seg(t, 6, 2, 80, 1, 5000, ACK, ss + 2, cs + 2, 0);
    seg(t, 1000, 1, 5000, 2, 80, SYN, cs + 100, 0, 0);
    seg(t, 1001, 2, 80, 1, 5000, SYN | ACK, 77, cs + 101, 0);
    rp_track_finish(t);
    ck_assert_uint_eq(rp_track_connections(t), 2);
    size_t n;
    uint64_t dropped;
    const rp_event *e = rp_track_events(t, 0, &n, &dropped);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(e[0].kind, RP_EV_TW_SYN);
    ck_assert_int_eq(e[0].action, SM_TW_SYN_ACCEPT);
    ck_assert_int_eq(e[0].observed, 1); /* the capture shows a SYN-ACK */
    ck_assert_ptr_nonnull(e[0].rule);
    e = rp_track_events(t, 1, &n, &dropped);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(e[0].action, SM_TW_SYN_RST);
    ck_assert_int_eq(g.c[0].run[0][1].tw_end, RP_TW_SYN);
    ck_assert_int_eq(g.c[0].run[1][1].tw_end, RP_TW_SUPERSEDED);
    rp_track_free(t);
}
END_TEST

START_TEST(reuse_while_alive)
{
    got g;
    rp_tracker *t = mk(&g, "linux", NULL);
    seg(t, 0, 1, 5000, 2, 80, SYN, 10, 0, 0);
    seg(t, 1, 2, 80, 1, 5000, SYN | ACK, 20, 11, 0);
    seg(t, 2, 1, 5000, 2, 80, ACK, 11, 21, 0);
    seg(t, 3, 1, 5000, 2, 80, SYN, 5000, 0, 0); /* new ISN: a new connection */
    rp_track_finish(t);
    size_t n;
    uint64_t dropped;
    const rp_event *e = rp_track_events(t, 0, &n, &dropped);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(e[0].kind, RP_EV_REUSE_ALIVE);
    ck_assert_uint_eq(rp_track_connections(t), 2);
    ck_assert_str_eq(g.c[0].ended, "reused");
    rp_track_free(t);
}
END_TEST

/* A range of 3 ports (sysctl on the client); 4 connections to one
 * destination at once: exhausted at the 4th. */
START_TEST(ports_exhausted)
{
    got g;
    rp_tracker *t = mk(&g, "linux", NULL);
    sm_addr a;
    ck_assert(sm_addr_parse("10.0.0.1", 8, &a));
    const char *v[2] = {"40000", "40002"};
    ck_assert_uint_eq(rp_track_sysctl(t, &a, "net.ipv4.ip_local_port_range", v, 2, 1u, NULL), 0);
    for (uint16_t i = 0; i < 4; i++)
        seg(t, i, 1, (uint16_t)(40000 + i), 2, 80, SYN, 100u * i, 0, 0);
    rp_track_finish(t);
    size_t n;
    uint64_t dropped;
    const rp_event *e = rp_track_events(t, 0, &n, &dropped);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(e[0].kind, RP_EV_PORTS_EXHAUSTED);
    ck_assert_uint_eq(e[0].value, 4);
    ck_assert_uint_eq(e[0].limit, 3);
    ck_assert_uint_eq(e[0].frame, frame); /* the 4th SYN */
    rp_track_free(t);
}
END_TEST

/* ---- the TIME_WAIT cap: replay and the engine agree ------------------------ */

#define CAP_CONNS 4

/* Which of CAP_CONNS client-closed connections from one host keep their
 * TIME_WAIT under profile p, in the engine: a world with a client host
 * (10.0.0.1) and a server host (10.0.0.2). */
static void engine_kept(const sm_profile *p, bool kept[CAP_CONNS], uint64_t *alive)
{
    sm_world *w = sm_world_new(p, 3);
    ck_assert_ptr_nonnull(w);
    sm_id hc = sm_host_add(w, "c"), hs = sm_host_add(w, "s");
    sm_addr ca, sa;
    sm_addr_parse("10.0.0.1", 8, &ca);
    sm_addr_parse("10.0.0.2", 8, &sa);
    sm_host_add_addr(w, hc, &ca);
    sm_host_add_addr(w, hs, &sa);
    sm_id u = sm_user_get(w, "root");
    sm_id pc = sm_proc_get(w, hc, "client", u), ps = sm_proc_get(w, hs, "server", u);
    sm_endpoint srv = {sa, 80};
    sm_id l, c[CAP_CONNS];
    ck_assert_int_eq(sm_socket(w, ps, SM_TCP, 4, "l", &l).err, SM_OK);
    ck_assert_int_eq(sm_bind(w, l, &srv).err, SM_OK);
    ck_assert_int_eq(sm_listen(w, l, 16).err, SM_OK);
    for (int i = 0; i < CAP_CONNS; i++) {
        sm_id a;
        ck_assert_int_eq(sm_socket(w, pc, SM_TCP, 4, "c", &c[i]).err, SM_OK);
        ck_assert_int_eq(sm_connect(w, c[i], &srv).err, SM_OK);
        ck_assert_int_eq(sm_accept(w, l, "a", &a).err, SM_OK);
        ck_assert_int_eq(sm_close(w, c[i]).err, SM_OK); /* the client first */
        ck_assert_int_eq(sm_close(w, a).err, SM_OK);
        sm_advance(w, 100 * MS);
    }
    for (int i = 0; i < CAP_CONNS; i++)
        kept[i] = sm_sock_state(w, c[i]) == SM_TIME_WAIT;
    *alive = sm_host_time_wait(w, hc);
    sm_world_free(w);
}

/* The same connections seen by replay. */
static void replay_kept(const sm_profile *p, bool kept[CAP_CONNS], rp_tw_end end[CAP_CONNS])
{
    got g;
    rp_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.run[cfg.nruns++] = p;
    cfg.on_conn = on_conn;
    cfg.ctx = &g;
    memset(&g, 0, sizeof g);
    rp_tracker *t = rp_track_new(&cfg);
    for (int i = 0; i < CAP_CONNS; i++)
        conn_client_closes(t, 100 * (uint64_t)i, (uint16_t)(5000 + i), 1000u * (uint32_t)i + 7,
                           9000u * (uint32_t)i + 11);
    rp_track_finish(t);
    ck_assert_uint_eq(g.n, CAP_CONNS);
    for (int i = 0; i < CAP_CONNS; i++) {
        end[i] = g.c[i].run[0][0].tw_end;
        kept[i] = end[i] == RP_TW_LIVE;
    }
    rp_track_free(t);
}

static void cap_case(const char *name, bool recycles)
{
    sm_profile p = *sm_profile_find(name);
    p.defaults[SM_TUN_MAX_TW] = 2; /* a cap of two entries per host */
    ck_assert(p.tcp->tw_overflow_recycles == recycles);
    bool ek[CAP_CONNS], rk[CAP_CONNS];
    rp_tw_end end[CAP_CONNS];
    uint64_t alive;
    engine_kept(&p, ek, &alive);
    replay_kept(&p, rk, end);
    ck_assert_uint_eq(alive, 2);
    for (int i = 0; i < CAP_CONNS; i++)
        ck_assert_msg(ek[i] == rk[i], "%s, connection %d: engine %s, replay %s", name, i,
                      ek[i] ? "keeps TIME_WAIT" : "keeps none", rp_tw_end_name(end[i]));
    /* Recycling keeps the two newest; refusing keeps the two oldest. */
    for (int i = 0; i < CAP_CONNS; i++)
        ck_assert(ek[i] == (recycles ? i >= CAP_CONNS - 2 : i < 2));
    for (int i = 0; i < CAP_CONNS; i++)
        if (!rk[i])
            ck_assert_int_eq(end[i], recycles ? RP_TW_RECYCLED : RP_TW_NOT_KEPT);
}

START_TEST(time_wait_cap_engine_and_replay_agree)
{
    cap_case("bsd", true);     /* recycles the oldest (tcp_tw_2msl_scan) */
    cap_case("windows", true);
    cap_case("freebsd-13", true); /* recycles, and has a real cap (maxtcptw) */
    cap_case("linux", false);  /* tcp_max_tw_buckets: the new one is not kept */
    cap_case("solaris", false);
}
END_TEST

/* A host with more destinations than the report's first buffer (4096):
 * rp_track_host_ndests counts them all, so the report lists them all
 * (it used to stop at 4096 without saying so). */
START_TEST(many_destinations)
{
    got g;
    rp_tracker *t = mk(&g, "linux", NULL);
    ck_assert_ptr_nonnull(t);
    for (uint32_t i = 0; i < 5000; i++)
        seg(t, i, 1, (uint16_t)(20000 + i % 30000), 2, (uint16_t)(1000 + i), SYN, i, 0, 0);
    rp_track_finish(t);
    uint32_t client = UINT32_MAX;
    for (size_t i = 0; i < rp_track_nhosts(t); i++) {
        uint32_t id;
        const sm_addr *a = rp_track_host_addr(t, i, &id);
        if (a->b[3] == 1)
            client = id;
    }
    ck_assert_uint_ne(client, UINT32_MAX);
    ck_assert_uint_eq(rp_track_host_ndests(t, client), 5000);
    rp_dest_info *d = malloc(5000 * sizeof *d);
    ck_assert_ptr_nonnull(d);
    ck_assert_uint_eq(rp_track_dests(t, client, 0, d, 5000), 5000);
    ck_assert_uint_eq(rp_track_dests(t, client, 0, d, 4096), 4096);
    free(d);
    rp_track_free(t);
}
END_TEST

/* Client c (10.0.0.c) closes a connection to 10.0.0.2:80 at ms, like
 * conn_client_closes: its TIME_WAIT begins at ms + 6. */
static void client_closes(rp_tracker *t, int c, uint64_t ms, uint16_t cp, uint32_t cs)
{
    seg(t, ms, c, cp, 2, 80, SYN, cs, 0, 0);
    seg(t, ms + 1, 2, 80, c, cp, SYN | ACK, 7000, cs + 1, 0);
    seg(t, ms + 2, c, cp, 2, 80, ACK, cs + 1, 7001, 0);
    seg(t, ms + 4, c, cp, 2, 80, FIN | ACK, cs + 1, 7001, 0);
    seg(t, ms + 5, 2, 80, c, cp, ACK, 7001, cs + 2, 0);
    seg(t, ms + 6, 2, 80, c, cp, FIN | ACK, 7001, cs + 2, 0);
    seg(t, ms + 7, c, cp, 2, 80, ACK, cs + 2, 7002, 0);
}

/* XNU frees TIME_WAIT entries only when its collector runs (every 10 s
 * from the host's first entry), so entries of hosts with different
 * phases end out of the order they began (replay keeps them in a heap,
 * not a list): at every second, each host holds exactly the entries whose
 * collector run has not come yet. */
START_TEST(collector_phases)
{
    got g;
    rp_tracker *t = mk(&g, "macos", NULL);
    static const struct {
        int host;
        uint64_t ms;
    } cs[] = {{1, 0},     {3, 4000},  {1, 2000},  {4, 7500},  {4, 7600}, {3, 5000},
              {1, 9000},  {3, 12000}, {1, 15000}, {4, 21000}, {3, 21000}, {1, 26500}};
    enum { N = sizeof cs / sizeof cs[0] };
    uint64_t end[N], anchor[5] = {0};
    bool armed[5] = {false};
    /* fed in time order */
    size_t ord[N];
    for (size_t i = 0; i < N; i++)
        ord[i] = i;
    for (size_t i = 1; i < N; i++)
        for (size_t k = i; k > 0 && cs[ord[k - 1]].ms > cs[ord[k]].ms; k--) {
            size_t x = ord[k];
            ord[k] = ord[k - 1];
            ord[k - 1] = x;
        }
    for (size_t j = 0; j < N; j++) {
        size_t i = ord[j];
        int h = cs[i].host;
        uint64_t start = cs[i].ms + 6;
        if (!armed[h]) {
            armed[h] = true;
            anchor[h] = start;
        }
        /* the collector's first run at or after start + 30 s */
        uint64_t due = start + 30000, k = (due - anchor[h] + 9999) / 10000;
        end[i] = anchor[h] + k * 10000;
        client_closes(t, h, cs[i].ms, (uint16_t)(6000 + i), 100 + (uint32_t)i);
    }
    uint32_t id[5] = {0};
    for (size_t i = 0; i < rp_track_nhosts(t); i++) {
        uint32_t hid;
        const sm_addr *a = rp_track_host_addr(t, i, &hid);
        if (a->b[3] < 5)
            id[a->b[3]] = hid;
    }
    for (uint64_t at = 27000; at <= 70000; at += 500) {
        /* a segment between two other hosts moves the clock */
        seg(t, at, 9, 1234, 10, 80, ACK, 1, 1, 0);
        for (int h = 1; h <= 4; h++) {
            if (h == 2)
                continue;
            uint64_t live = 0;
            for (size_t i = 0; i < N; i++)
                live += cs[i].host == h && end[i] > at;
            ck_assert_msg(rp_track_host_run(t, id[h], 0)->tw_now == live,
                          "host %d at %llu ms: %llu entries, want %llu", h,
                          (unsigned long long)at,
                          (unsigned long long)rp_track_host_run(t, id[h], 0)->tw_now,
                          (unsigned long long)live);
        }
    }
    ck_assert(rp_track_finish(t));
    rp_track_free(t);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("replay_track");
    TCase *tc = tcase_create("track");
    tcase_add_test(tc, states_and_summaries);
    tcase_add_test(tc, hostile_clock);
    tcase_add_test(tc, zeek_transitions);
    tcase_add_test(tc, midstream_ports);
    tcase_add_test(tc, time_wait_length_per_profile);
    tcase_add_test(tc, no_timeline);
    tcase_add_test(tc, many_destinations);
    tcase_add_test(tc, rst_into_time_wait);
    tcase_add_test(tc, syn_into_time_wait);
    tcase_add_test(tc, reuse_while_alive);
    tcase_add_test(tc, ports_exhausted);
    tcase_add_test(tc, time_wait_cap_engine_and_replay_agree);
    tcase_add_test(tc, collector_phases);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
