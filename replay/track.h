/*
 * track.h - the model side of `sockmodel replay`: drives per-host 4-tuple
 * tables and TCP state machines from the segments of a capture, and asks
 * the OS profiles (engine/sm_profile.h) what each OS would have decided.
 *
 * One connection table is shared by every run (a run = one profile, maybe
 * with per-address overrides): what the capture shows happened once.  What
 * differs per run is what the OS makes of it: how long each TIME_WAIT lasts
 * (the profile's SM_TUN_TIME_WAIT_MS, from the capture's own timestamps),
 * whether a RST ends a TIME_WAIT (SM_TUN_RFC1337), what a SYN into a
 * TIME_WAIT does (profile->tw_syn), the TIME_WAIT cap (SM_TUN_MAX_TW and
 * tcp->tw_overflow_recycles), TIME_WAIT toward an own address
 * (SM_TUN_NOLOCALTIMEWAIT), and how many ephemeral ports it has
 * (SM_TUN_PORT_LO..HI).
 *
 * Cost: O(1) expected per packet (one hash lookup, a few state updates);
 * timers (TIME_WAIT expiry) cost O(1) when one starts or ends (a FIFO per
 * run and tunable set), and a packet before the next timer or timeline
 * bucket is due does not look at them.  No allocation per packet: pools grow by doubling.  Memory: live
 * connections, connections closed less than the longest TIME_WAIT ago,
 * hosts, (client, destination) pairs, the events (at most max_events per
 * run), and the timeline (one point per interval in which a host's
 * TIME_WAIT count changed: it grows with the capture's length, so a caller
 * that never reads it sets no_timeline).
 */
#ifndef RP_TRACK_H
#define RP_TRACK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "pkt.h"
#include "sm_profile.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Runs (profiles) side by side: `--profile all` is every profile (12 now). */
#define RP_MAX_RUNS 16

/* Zeek conn.log conn_state values. */
typedef enum rp_zeek {
    RP_Z_S0, RP_Z_S1, RP_Z_SF, RP_Z_REJ, RP_Z_S2, RP_Z_S3, RP_Z_RSTO,
    RP_Z_RSTR, RP_Z_RSTOS0, RP_Z_RSTRH, RP_Z_SH, RP_Z_SHR, RP_Z_OTH
} rp_zeek;
const char *rp_zeek_name(rp_zeek z);

/* How a side's TIME_WAIT ended under one run. */
typedef enum rp_tw_end {
    RP_TW_NONE = 0,    /* the side never held TIME_WAIT */
    RP_TW_LIVE,        /* still in TIME_WAIT when the capture ended */
    RP_TW_EXPIRED,     /* 2MSL ran out */
    RP_TW_RST,         /* a RST ended it */
    RP_TW_SYN,         /* a new SYN on the 4-tuple ended it (accepted) */
    RP_TW_REUSED,      /* the 4-tuple was taken by a new connection anyway */
    RP_TW_NOT_KEPT,    /* this OS keeps none here (own address, cap) */
    RP_TW_SUPERSEDED,  /* the capture moved on to a new connection that
                        * this OS would have refused */
    RP_TW_RECYCLED,    /* the TIME_WAIT cap was reached and this OS ended
                        * the host's oldest entry for a new one */
    RP_TW_DATA,        /* new data reached it and this OS resets (no TIME_WAIT) */
    RP_TW_OWN_RST      /* the side itself sent a RST: the capture shows it
                        * holds no TIME_WAIT (data after its close, answered) */
} rp_tw_end;
const char *rp_tw_end_name(rp_tw_end e);

/* Events a user cares about. */
typedef enum rp_ev_kind {
    RP_EV_TW_SYN = 0,     /* a SYN arrived for a 4-tuple this host holds in TIME_WAIT */
    RP_EV_TW_OWN_REUSE,   /* a host opened a 4-tuple it still held in TIME_WAIT */
    RP_EV_TW_RST_KILL,    /* a RST ended a TIME_WAIT */
    RP_EV_TW_RST_IGNORED, /* a RST reached a TIME_WAIT and was ignored */
    RP_EV_REUSE_ALIVE,    /* a 4-tuple was reused while its previous connection lived */
    RP_EV_PORTS_EXHAUSTED,/* a host needed more ports toward one destination than
                           * its ephemeral range has */
    RP_EV_TW_OVERFLOW,    /* the TIME_WAIT cap was reached */
    RP_EV_TW_DATA,        /* new data reached a TIME_WAIT (ack / rst / drop under
                           * this OS, with the rule) */
    RP_EV_KIND_COUNT
} rp_ev_kind;
const char *rp_ev_kind_name(rp_ev_kind k);

typedef struct rp_event {
    uint64_t ns;          /* capture time (ts_mono_ns) */
    uint64_t frame;
    uint64_t conn;        /* connection id (first-seen order, from 1) */
    rp_ev_kind kind;
    int action;           /* RP_EV_TW_SYN: enum sm_tw_syn_action; RP_EV_TW_DATA:
                           * enum sm_tw_data; RP_EV_PORTS_EXHAUSTED: 1 when the
                           * OS does not share a port across destinations (the
                           * host's count, not the destination's, ran out) */
    sm_endpoint host;     /* the host it concerns (port = its local port) */
    sm_endpoint peer;     /* the other end */
    uint64_t value;       /* TW_SYN/OWN_REUSE: ms left in TIME_WAIT;
                           * PORTS_EXHAUSTED: ports needed; OVERFLOW: cap */
    uint64_t limit;       /* PORTS_EXHAUSTED: ports in the range; TW_SYN: the
                           * TIME_WAIT's rcv_nxt (for a RST that follows) */
    const sm_rule *rule;  /* the profile's rule, or NULL */
    int observed;         /* TW_SYN: what the capture showed next:
                           * 0 unknown, 1 SYN-ACK, 2 RST, 3 no answer,
                           * 4 an ACK (no SYN); TW_DATA: 2 when the host
                           * answered with a RST, else 0 */
} rp_event;

/* Per-run view of one side of a finished connection. */
typedef struct rp_side_run {
    sm_tcp_state state;   /* at the end (TIME_WAIT -> CLOSED once over) */
    rp_tw_end tw_end;
    uint64_t tw_ms;       /* how long it held TIME_WAIT (to the end of the
                           * capture if still live) */
} rp_side_run;

/* A connection as handed to the report. */
typedef struct rp_conn_info {
    uint64_t id;          /* first-seen order, from 1 */
    uint64_t first_frame;
    uint64_t first_ns, last_ns;
    sm_endpoint client, server;   /* client = originator (Zeek's orig) */
    bool saw_syn;         /* the client's SYN is in the capture */
    const char *opened_by;        /* "client", or "unknown" (mid-stream) */
    const char *closed_first_by;  /* "client", "server", "both", "none" */
    const char *close_kind;       /* "fin", "rst", "none" */
    uint64_t packets[2], bytes[2];/* sent by client [0], server [1] */
    rp_zeek summary;
    sm_tcp_state observed[2];     /* the state machine before any OS rule */
    rp_side_run run[RP_MAX_RUNS][2]; /* [run][0 client / 1 server] */
    const char *ended;    /* why the record was closed: "idle", "reused",
                           * "end of capture" */
} rp_conn_info;

/* Per-run findings of one host. */
typedef struct rp_host_run {
    const sm_profile *profile;
    uint64_t tw_now, tw_peak, tw_peak_ns, tw_total;
    uint64_t tw_ms_sum;          /* total TIME_WAIT time of entries that ended */
    uint64_t ports_peak, ports_peak_ns; /* client ports in use (live + TIME_WAIT) */
    uint64_t port_range;         /* the profile's ephemeral range size */
    uint64_t tw_ms;              /* its TIME_WAIT length */
    uint64_t ev[RP_EV_KIND_COUNT];
    uint64_t tw_not_kept;
} rp_host_run;

typedef struct rp_dest_info {
    sm_endpoint dest;
    uint64_t peak[RP_MAX_RUNS], peak_ns[RP_MAX_RUNS], exhausted_ns[RP_MAX_RUNS];
    uint64_t range[RP_MAX_RUNS];
    uint64_t conns;
} rp_dest_info;

/* One timeline point: host's TIME_WAIT count at the end of an interval in
 * which it changed, and its maximum in that interval. */
typedef struct rp_tl_point {
    uint64_t ns;          /* end of the interval, relative to the first packet */
    uint32_t host;
    uint16_t run;
    uint32_t count, max;
} rp_tl_point;

/* What the scenario (or the command line) declares about a host. */
typedef struct rp_decl_sysctl {
    sm_addr addr;
    const char *key;
    const char *const *vals;
    size_t nvals;
} rp_decl_sysctl;

typedef struct rp_tracker rp_tracker;

typedef void (*rp_conn_fn)(void *ctx, const rp_tracker *t, const rp_conn_info *c);

typedef struct rp_config {
    const sm_profile *run[RP_MAX_RUNS];
    size_t nruns;
    /* per-address profile overrides (apply to every run) */
    const sm_addr *ovr_addr;
    const sm_profile *const *ovr_prof;
    size_t novr;
    uint64_t interval_ns;     /* timeline interval (default 1 s) */
    bool no_timeline;         /* keep no timeline (rp_track_timeline: none) */
    size_t max_events;        /* events kept per run (counts are exact) */
    rp_conn_fn on_conn;       /* each connection, when its record closes */
    void *ctx;
} rp_config;

/* Out of memory: rp_track_new returns NULL; any other call that needs
 * memory and cannot get it returns false (rp_track_sysctl: 0) and leaves
 * the tracker failed for good: later calls do nothing and return the
 * same, rp_track_failed says so, and its results must not be read (only
 * rp_track_free, which releases everything, may follow). */
rp_tracker *rp_track_new(const rp_config *cfg);
void rp_track_free(rp_tracker *t);
bool rp_track_failed(const rp_tracker *t);
#ifdef RP_TRACK_FAIL_HOOK
/* Built only into the tracker of the out-of-memory test: the n-th
 * allocation from now fails (0: none); returns the countdown it replaces
 * (0 once the failure it set has happened). */
unsigned long rp_track_fail_after(unsigned long n);
#endif

/* Declarations (before the first packet). */
bool rp_track_listener(rp_tracker *t, const sm_addr *a, uint16_t port);
/* A sysctl on the host with that address, under the runs of run_mask
 * (bit r = run r) whose profile knows the key; returns the number of those
 * runs that did not (each one a warning on warn, if not NULL). */
size_t rp_track_sysctl(rp_tracker *t, const sm_addr *a, const char *key,
                       const char *const *vals, size_t nvals, unsigned run_mask, FILE *warn);
bool rp_track_sockopts(rp_tracker *t, const sm_endpoint *local, const sm_opts *o);

/* One packet (UDP is counted only). */
bool rp_track_packet(rp_tracker *t, const rp_pkt *p);
/* n packets in order (rp_next_batch's): returns n, or, out of memory, the
 * index of the packet that failed (those before it were taken). */
size_t rp_track_packets(rp_tracker *t, const rp_pkt *p, size_t n);
/* End of capture, first half: the clock moves to the capture's end and
 * the host and destination queries below (rp_track_host_addr, _host_run,
 * _host_ndests, _dests) answer with their final figures from then on.
 * Closing the records (rp_track_finish) changes nothing they read, so
 * another thread may call them while rp_track_finish runs, and only
 * they.  Called by rp_track_finish when not called before; false: out of
 * memory. */
bool rp_track_finish_hosts(rp_tracker *t);
/* End of capture: every remaining connection is reported. */
bool rp_track_finish(rp_tracker *t);

/* Results. */
size_t rp_track_nruns(const rp_tracker *t);
const char *rp_track_run_name(const rp_tracker *t, size_t run, char *buf, size_t n);
uint64_t rp_track_connections(const rp_tracker *t);
uint64_t rp_track_first_ns(const rp_tracker *t);
uint64_t rp_track_last_ns(const rp_tracker *t);
uint64_t rp_track_udp(const rp_tracker *t);
/* Hosts sorted by address (index i of the sorted order). */
size_t rp_track_nhosts(const rp_tracker *t);
const sm_addr *rp_track_host_addr(const rp_tracker *t, size_t sorted_i, uint32_t *host_id);
const rp_host_run *rp_track_host_run(const rp_tracker *t, uint32_t host_id, size_t run);
/* The (client host, destination) pairs of host_id, sorted by destination,
 * with the figures of one run: only the [run] entries of the per-run
 * arrays are set (the reports list destinations run by run; filling every
 * run's made a report under 12 profiles cost runs^2 per destination). */
/* How many destinations host_id has (rp_track_dests gives at most max). */
size_t rp_track_host_ndests(const rp_tracker *t, uint32_t host_id);
size_t rp_track_dests(const rp_tracker *t, uint32_t host_id, size_t run, rp_dest_info *out,
                      size_t max);
const rp_event *rp_track_events(const rp_tracker *t, size_t run, size_t *n,
                                uint64_t *dropped);
const rp_tl_point *rp_track_timeline(const rp_tracker *t, size_t *n);
uint64_t rp_track_interval(const rp_tracker *t);
/* Host address by id. */
const sm_addr *rp_track_host_by_id(const rp_tracker *t, uint32_t host_id);
uint64_t rp_track_peak_live(const rp_tracker *t); /* most connection records at once */

#ifdef __cplusplus
}
#endif
#endif /* RP_TRACK_H */
