/*
 * track.c - drives the replay model from a capture: per-host 4-tuple
 * tables, the RFC 9293 state machine of each side of each connection as
 * the segments it sends and receives move it, and, per run (profile), the
 * TIME_WAIT entries, SYN/RST-into-TIME_WAIT decisions, TIME_WAIT caps and
 * ephemeral ports in use per destination, with the OS-specific decisions
 * taken from the profile interface (sm_profile.h), never from the OS name.
 *
 * What it models:
 *   - Demux: a connection is a 4-tuple until a SYN without ACK carrying a
 *     new sequence number starts a new one on it (the rule tshark's
 *     tcp.stream uses, see conv.c), so connection counts agree with
 *     `tshark -z conv,tcp`.
 *   - Each side's state from what it sends and receives: SYN -> SYN_SENT,
 *     SYN+ACK -> SYN_RECEIVED, the handshake's ACK -> ESTABLISHED, FIN ->
 *     FIN_WAIT_1 / CLOSE_WAIT / LAST_ACK / CLOSING, the ACK of a FIN ->
 *     FIN_WAIT_2 / TIME_WAIT / CLOSED, RST -> CLOSED (RFC 9293 3.3.2).
 *     The capture is taken as what both sides saw (no loss modelled).
 *   - Per run: a side that reaches TIME_WAIT holds it as long as the
 *     engine's sm_tw_expiry_ns() says (the profile's length for the
 *     connection, the collector's period) from the capture's timestamps (a
 *     retransmitted FIN restarts it, as in the engine's tw_input()); none
 *     is kept toward an own address where SM_TUN_NOLOCALTIMEWAIT says so,
 *     or beyond SM_TUN_MAX_TW; an in-window RST ends it unless
 *     SM_TUN_RFC1337 (the engine's rule), also a RST that follows a SYN
 *     the OS refused; new data past the peer's FIN is judged by
 *     sm_tw_data_action(); a new SYN on its 4-tuple by profile->tw_syn()
 *     with the entry's rcv_nxt, window and timestamps.  A side that sends
 *     a RST itself holds no TIME_WAIT.
 *   - Ports: client ports in use (live connections + TIME_WAIT entries
 *     the client holds) per (client, destination) and per client host,
 *     against the size of the profile's ephemeral range: per destination
 *     or per host by the OS's sharing rule (probe_ports_shared()).
 * Not modelled: retransmission timers, SYN_SENT/FIN_WAIT_2 timeouts (a
 * side stays in the state the capture leaves it in), segments the capture
 * missed, UDP (counted only).
 */
#include "track.h"
#include "smu_alloc.h"
#include "smu_hash.h"

#include <setjmp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NS_PER_MS 1000000ull
#define NONE32 0xffffffffu

/* ---- small helpers -------------------------------------------------------- */

/* Out of memory: every public entry point that may allocate runs its work
 * under setjmp (GUARD below); an allocation that fails marks the tracker
 * failed and jumps back there, and the entry point returns false.  The
 * tracker is then only freed: every allocation site stores a new block
 * (and its size) only once it has it, and blocks a failing call holds in
 * local variables live in t->scratch, so rp_track_free releases all. */
static _Noreturn void oom(rp_tracker *t);

#ifdef RP_TRACK_FAIL_HOOK
/* Test builds only: rp_track_fail_after(n) makes the n-th allocation from
 * now fail (0: none). */
static unsigned long fail_countdown;
unsigned long rp_track_fail_after(unsigned long n)
{
    unsigned long left = fail_countdown;
    fail_countdown = n;
    return left;
}
static bool fail_now(void)
{
    return fail_countdown && --fail_countdown == 0;
}
#else
static inline bool fail_now(void) { return false; }
#endif

static void *xrealloc(rp_tracker *t, void *p, size_t n)
{
    void *q = fail_now() ? NULL : realloc(p, n ? n : 1);
    if (!q)
        oom(t);
    return q;
}

/* The large tables that every segment reads at a random place (the
 * 4-tuple slots, the connection records) come from util's big-table
 * allocator: 64-byte aligned, zero-filled, huge pages and mremap growth
 * where the system has them.  big_resize(t, NULL, 0, n) allocates; the
 * part past old_n is zero. */
static void *big_resize(rp_tracker *t, void *p, size_t old_n, size_t n)
{
    void *q = fail_now() ? NULL : smu_big_resize(p, old_n, n);
    if (!q)
        oom(t);
    return q;
}

static void big_free(void *p, size_t n)
{
    smu_big_free(p, n);
}

#define GROW(t, arr, n, cap)                                                       \
    do {                                                                           \
        if ((n) >= (cap)) {                                                        \
            size_t grow_nc_ = (cap) ? (cap) * 2 : 64;                              \
            (arr) = xrealloc((t), (arr), grow_nc_ * sizeof *(arr));                \
            (cap) = grow_nc_;                                                      \
        }                                                                          \
    } while (0)

static inline uint64_t be64(const uint8_t *p)
{
    return (uint64_t)p[0] << 56 | (uint64_t)p[1] << 48 | (uint64_t)p[2] << 40 |
           (uint64_t)p[3] << 32 | (uint64_t)p[4] << 24 | (uint64_t)p[5] << 16 |
           (uint64_t)p[6] << 8 | (uint64_t)p[7];
}

/* memcmp(a, b, 16)'s sign, inline (every segment compares its addresses). */
static inline int cmp16(const uint8_t *a, const uint8_t *b)
{
    uint64_t x = be64(a), y = be64(b);
    if (x == y) {
        x = be64(a + 8);
        y = be64(b + 8);
    }
    return x < y ? -1 : x > y;
}

static uint64_t hash_addr(const sm_addr *a)
{
    uint64_t w[2];
    memcpy(w, a->b, 16);
    return smu_mulfold(w[0] ^ 0xa0761d6478bd642full ^ a->family,
                   w[1] ^ 0xe7037ed1a0b428dbull);
}

static inline bool seq_ge(uint32_t a, uint32_t b) { return (int32_t)(a - b) >= 0; }

/* Time sums saturate: a time that would pass 2^64 ns is "never".  The
 * clock itself stays at most RP_TS_MONO_MAX (rp_track_packet), so a
 * saturated time is always later than now and loops over due times end. */
static inline uint64_t ns_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* A tunable length in ms as ns (negative = 0, saturating). */
static inline uint64_t ms_ns(int64_t ms)
{
    if (ms <= 0)
        return 0;
    return (uint64_t)ms > UINT64_MAX / NS_PER_MS ? UINT64_MAX : (uint64_t)ms * NS_PER_MS;
}

/* ---- records ---------------------------------------------------------------- */

enum { Z_INACTIVE, Z_SYN_SENT, Z_SYN_ACK_SENT, Z_PARTIAL, Z_ESTABLISHED, Z_CLOSED, Z_RESET };

/* side flags */
#define S_FIN 0x01u      /* sent a FIN */
#define S_FIN_ACKED 0x02u
#define S_RST 0x04u      /* sent a RST */
#define S_TS 0x08u       /* sent TCP timestamps */
#define S_WS 0x10u       /* window scale on its SYN */
#define S_SNDMAX 0x20u   /* snd_max valid */
#define S_SYN 0x40u      /* sent a SYN (either kind) */

/* connection flags */
#define C_USED 0x0001u
#define C_LO_CLIENT 0x0002u  /* the lo endpoint (canonical order) is the client */
#define C_BASE_LO 0x0004u    /* tshark base seq of the lo->hi direction set */
#define C_BASE_HI 0x0008u
#define C_SAW_SYN 0x0010u
#define C_DONE 0x0020u       /* both sides CLOSED or TIME_WAIT: in the retire queue */
#define C_MIDSTREAM 0x0040u
#define C_OS0 0x0080u        /* Zeek history so far matches ^S[^HAFGIQ]* for orig */
#define C_RSTOS0 0x0100u
#define C_LIVEPORT 0x0200u   /* counted as a live client port */
#define C_SYNACK_FIRST 0x0400u
#define C_PEND 0x0800u       /* some run has a pend_ev (a TW_SYN event waiting for the answer) */

/* One connection record: 192 bytes, three cache lines when the array is
 * 64-byte aligned (conns_grow).  The first two hold everything a plain
 * data/ACK segment reads or writes (the key, states, sequence space,
 * counters), so such a segment touches one slot and these two lines; the
 * third is read when the connection opens, closes or changes state. */
typedef struct conn {
    /* hot: every segment */
    uint8_t lo[16], hi[16];
    uint16_t plo, phi;
    uint16_t flags;
    uint8_t fam;
    uint8_t st[2];          /* observed sm_tcp_state, [0] client [1] server */
    uint8_t z[2];           /* Zeek endpoint state */
    uint8_t sf[2];          /* S_* */
    uint8_t ws[2];
    uint8_t closer;         /* 1 client, 2 server, 3 both */
    uint32_t snd_max[2], win[2], tsval[2], fin_seq[2];
    uint32_t base[2];       /* tshark base seq per canonical direction */
    uint64_t last_ns;
    uint64_t pk[2], by[2];
    /* cold: opening, closing, state changes */
    uint32_t gen;
    uint32_t host[2];
    uint32_t dest;
    uint32_t next_free;
    uint8_t close_kind;     /* 0 none, 1 fin, 2 rst */
    uint8_t zprev[2];       /* Zeek endpoint state before the last change */
    uint64_t id, first_frame, first_ns;
    uint64_t tw_start[2];
} conn;

_Static_assert(sizeof(conn) == 192, "conn: three cache lines");
_Static_assert(RP_MAX_RUNS <= 16, "the dirty list keeps a run in 4 bits");
_Static_assert(offsetof(conn, by) + sizeof(uint64_t[2]) <= 128, "conn: hot part in two lines");

/* What differs per run, kept apart so that one profile costs only its own
 * share: t->cr[ci * nruns + run]. */
/* Where a side's TIME_WAIT entry sits in its FIFO (twfifo). */
typedef union twlink {
    struct {
        uint32_t next, prev; /* list FIFO: (ci << 1 | side) + 1, 0 = none */
    } l;
    struct {
        uint32_t pos, seq;   /* heap FIFO: its place in q->heap + 1; its arrival
                              * number (q->seq when pushed) */
    } h;
} twlink;

typedef struct crun {
    uint64_t tw_exp[2], tw_stop[2];
    twlink tw[2];
    uint8_t tw_end[2];
    uint8_t tw_q[2];                 /* the entry's FIFO: its place in its tunable
                                      * set's chain of lengths (twfifo.next) */
    int32_t pend_ev;                 /* TW_SYN event waiting for the answer */
} crun;

/* TIME_WAIT entries of one run with one tunable set and one length, in
 * the order they end: of equal ends, the order they began in.  They all
 * last as long, so the order they began in is the order they end in: a
 * doubly linked list, appended to (O(1) per entry).  A profile that gives
 * connections different lengths (NetBSD's MSL classes) has one FIFO per
 * length, chained from the tunable set's first; at most TW_LENGTHS per
 * set (past that, the last FIFO takes every other length, kept in order
 * by a walk back).
 *
 * Where the OS frees entries only when its collector runs (XNU,
 * SM_TUN_TW_REAP_MS), an entry ends at the collector's first run after
 * its length, and each host's collector has its own phase: entries of
 * many hosts no longer end in the order they began, and the walk back
 * crossed most of the list at every entry (20,000 short connections from
 * 5,000 clients: 1.5G instructions per such run).  Those FIFOs are binary
 * heaps keyed by (end, arrival number) instead, O(log n) per entry, with
 * the same first entry as the list would have. */
typedef struct twfifo {
    uint32_t head, tail; /* list: node + 1, 0 = empty */
    uint32_t next;       /* the set's next length: FIFO index + 1, 0 = none */
    uint64_t ms;         /* its entries' TIME_WAIT length */
    bool heaped;         /* a heap (the set has a collector), not a list */
    uint32_t *heap;      /* heap: nodes; heap[0] ends first */
    size_t n, cap;
    uint32_t seq;        /* heap: the next arrival number; it wraps, and
                          * arrivals compare by age (seq - theirs), exact
                          * while an entry lives through < 2^32 arrivals */
} twfifo;
#define TW_LENGTHS 255u

typedef struct tunset {
    const sm_profile *p;
    int64_t tun[SM_TUN_COUNT];
    int8_t ports_shared; /* connect() gives one port to several destinations:
                          * 1 yes, 0 no, -1 not asked yet (probe_ports_shared) */
} tunset;

typedef struct hrun {
    rp_host_run pub;
    uint64_t ports_now;
    uint32_t bmax;
    uint16_t ts;      /* tunset */
    uint8_t dirty;
    bool exhausted;   /* host-wide ports_exhausted reported (unshared ports) */
    sm_tw_reaper reaper; /* the TIME_WAIT collector's phase (XNU) */
} hrun;

typedef struct host {
    sm_addr addr;
} host;

/* per (host, run): t->hr[host * nruns + run] */
#define HR(t, h, r) (&(t)->hr[(size_t)(h) * (t)->nruns + (r)])

/* A (client, server, port) destination: 32 bytes, so that the table
 * stays cache-friendly at 10^5 destinations; what differs per run is in
 * t->dstat[dest * nruns + run]. */
typedef struct dest {
    uint32_t client, server;
    uint16_t port;
    uint64_t live, conns;
} dest;

typedef struct dstat {
    uint64_t tw, peak, peak_ns, exh_ns;
} dstat;

#define DS(t, d, r) (&(t)->dstat[(size_t)(d) * (t)->nruns + (r)])

typedef struct retq {
    uint64_t at;
    uint32_t conn, gen;
} retq;

typedef struct declopt {
    sm_endpoint ep;
    sm_opts o;
} declopt;

typedef struct evvec {
    rp_event *v;
    size_t n, cap;
    uint64_t dropped;
} evvec;

struct rp_tracker {
    rp_config cfg;
    /* out of memory: where the entry point in progress resumes, the sticky
     * failure, and the block a failing call held in a local (see oom()) */
    jmp_buf oom_at;
    bool failed;
    void *scratch;
    size_t batch_at;    /* rp_track_packets: the packet in progress */
    size_t nruns;
    /* connections */
    conn *conns;
    size_t nconns, conncap;
    uint32_t conn_free;
    uint64_t *slot;     /* open addressing: hash << 32 | (conn index + 1), 0 empty */
    size_t slotcap, slotused;
    uint64_t next_id, live, peak_live;
    /* hosts */
    host *hosts;
    hrun *hr;
    size_t nhosts, hostcap;
    uint32_t *hslot;
    size_t hslotcap;
    tunset *ts;
    size_t nts, tscap;
    uint16_t ts_default[RP_MAX_RUNS];
    uint64_t hold_ns;   /* longest TIME_WAIT: how long a closed record stays */
    /* listeners: (host << 16 | port) + 1 */
    uint64_t *lset;
    size_t lcap, lused;
    /* destinations */
    dest *dests;
    dstat *dstat;       /* destcap * nruns */
    size_t ndests, destcap;
    uint64_t *dslot;    /* hash << 32 | (dest index + 1), 0 empty */
    size_t dslotcap;
    uint32_t *dsorted;
    uint32_t *dfirst;   /* per host: where its destinations begin in dsorted */
    uint32_t *hsorted;
    /* timers */
    crun *cr;
    twfifo *fifo[RP_MAX_RUNS]; /* every FIFO of the run */
    size_t nfifo[RP_MAX_RUNS], fifocap[RP_MAX_RUNS];
    uint32_t *fset[RP_MAX_RUNS]; /* by tunset: its first FIFO's index + 1, 0 = none */
    size_t nfset[RP_MAX_RUNS];
    retq *rq;
    size_t rq_head, rq_n, rq_cap; /* ring */
    /* timeline */
    uint64_t first_ns, last_ns, next_bucket;
    uint64_t due;       /* advance() has nothing to do before this time: at most
                         * the next bucket, the first TIME_WAIT to end, the head
                         * of the retire queue (timers lower it as they start) */
    bool started;
    bool finishing;     /* rp_track_finish: records close, nothing more comes */
    bool hosts_ready;   /* rp_track_finish_hosts has run: the host queries answer */
    uint32_t *dirty;    /* host << 4 | run (RP_MAX_RUNS <= 16) */
    size_t ndirty, dirtycap;
    rp_tl_point *tl;
    size_t ntl, tlcap;
    /* declarations */
    declopt *opts;
    size_t nopts, optcap;
    /* events */
    evvec ev[RP_MAX_RUNS];
    uint64_t udp;
    uint64_t now;
};

/* ---- names ---------------------------------------------------------------- */

const char *rp_zeek_name(rp_zeek z)
{
    static const char *const n[] = {"S0",   "S1",   "SF",     "REJ",   "S2", "S3", "RSTO",
                                    "RSTR", "RSTOS0", "RSTRH", "SH",  "SHR", "OTH"};
    return (unsigned)z < sizeof n / sizeof n[0] ? n[z] : "OTH";
}

const char *rp_tw_end_name(rp_tw_end e)
{
    static const char *const n[] = {"none",     "live",       "expired", "rst",     "syn",
                                    "reused",   "not_kept",   "superseded", "recycled",
                                    "data",     "own_rst"};
    return (unsigned)e < sizeof n / sizeof n[0] ? n[e] : "none";
}

const char *rp_ev_kind_name(rp_ev_kind k)
{
    static const char *const n[] = {"syn_into_time_wait", "own_time_wait_reused",
                                    "rst_killed_time_wait", "rst_ignored_in_time_wait",
                                    "tuple_reused_while_alive", "ports_exhausted",
                                    "time_wait_overflow", "data_into_time_wait"};
    return (unsigned)k < RP_EV_KIND_COUNT ? n[k] : "?";
}

/* ---- tunables --------------------------------------------------------------- */

/* A closed record is held as long as a TIME_WAIT under s can last: its
 * length, and the collector's period where entries end only at its runs
 * (profiles' per-connection lengths are no longer than the tunable). */
static void hold_for(rp_tracker *t, const tunset *s)
{
    uint64_t tw = ms_ns(s->tun[SM_TUN_TIME_WAIT_MS]);
    if (s->tun[SM_TUN_TW_REAP_MS] > 0)
        tw = ns_add(tw, ms_ns(s->tun[SM_TUN_TW_REAP_MS]));
    if (tw > t->hold_ns)
        t->hold_ns = tw;
}

/* Sets the smallest port range p's own sysctl keys allow on host h (the
 * range is what the keys' limits leave); returns its size, 0 if the
 * profile has no key for it. */
static uint64_t probe_range(sm_world *w, sm_id h, const sm_profile *p)
{
    int64_t lo = p->defaults[SM_TUN_PORT_LO], hi = p->defaults[SM_TUN_PORT_HI];
    bool any = false;
    for (size_t i = 0; i < p->n_sysctls; i++) {
        const sm_sysctl_def *d = &p->sysctls[i];
        for (int k = 0; k < d->nvalues; k++)
            if (d->slot[k] == SM_TUN_PORT_LO || d->slot[k] == SM_TUN_PORT_HI)
                any = true;
    }
    if (!any)
        return 0;
    /* first the last port as low as it goes, then the first as high */
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < p->n_sysctls; i++) {
            const sm_sysctl_def *d = &p->sysctls[i];
            int64_t v[2];
            char txt[2][24];
            const char *vals[2] = {txt[0], txt[1]};
            bool mine = false;
            for (int k = 0; k < d->nvalues; k++) {
                enum sm_tunable sl = d->slot[k];
                int64_t cur = (sl == SM_TUN_PORT_LO ? lo : sl == SM_TUN_PORT_HI ? hi : 0);
                v[k] = d->scale ? (cur - d->offset) / d->scale : cur;
                if (sl == SM_TUN_PORT_HI && pass == 0) {
                    v[k] = d->min > lo ? d->min : lo;
                    mine = true;
                }
                if (sl == SM_TUN_PORT_LO && pass == 1) {
                    v[k] = d->max < hi ? d->max : hi;
                    mine = true;
                }
                if (v[k] < d->min)
                    v[k] = d->min;
                if (v[k] > d->max)
                    v[k] = d->max;
                snprintf(txt[k], sizeof txt[k], "%lld", (long long)v[k]);
            }
            if (!mine || sm_sysctl(w, h, d->key, vals, (size_t)d->nvalues))
                continue;
            for (int k = 0; k < d->nvalues; k++) {
                int64_t st = v[k] * d->scale + d->offset;
                if (d->slot[k] == SM_TUN_PORT_LO)
                    lo = st;
                if (d->slot[k] == SM_TUN_PORT_HI)
                    hi = st;
            }
        }
    return hi >= lo ? (uint64_t)(hi - lo + 1) : 0;
}

/* Whether connect() under p gives one ephemeral port to connections toward
 * different destinations (only the 4-tuple must be unique) or keeps it to
 * one (a port in use is taken on the host): asked of the engine, so that
 * the profile's own port choice (pick_connect_port) answers, not a second
 * copy of it.  A host with the smallest range the profile's keys allow
 * connects to one more listener than the range has ports, each at its own
 * address: with shared ports every connect succeeds.  Asked only when a
 * host needs more ports than its range (rare).  Without memory, or
 * without a port-range key: shared (the rule every OS has for the
 * 4-tuple). */
static bool probe_ports_shared(const sm_profile *p)
{
    sm_world *w = sm_world_new(p, 1);
    if (!w)
        return true;
    bool shared = true;
    sm_id a = sm_host_add(w, "a"), b = sm_host_add(w, "b");
    sm_addr own = {.family = 4, .b = {192, 0, 2, 1}};
    sm_host_add_addr(w, a, &own);
    sm_id root = sm_user_get(w, "root");
    sm_id pa = sm_proc_get(w, a, "c", root), pb = sm_proc_get(w, b, "s", root);
    uint64_t n = a != SM_NONE && b != SM_NONE && pa != SM_NONE && pb != SM_NONE
                     ? probe_range(w, a, p) : 0;
    if (n && n < 65536) {
        sm_id l;
        sm_endpoint any = {.addr = {.family = 4}, .port = 80};
        sm_socket(w, pb, SM_TCP, 4, "l", &l);
        sm_bind(w, l, &any);
        sm_listen(w, l, 65535);
        for (uint64_t k = 0; k <= n && shared; k++) {
            sm_endpoint to = {.addr = {.family = 4, .b = {10, (uint8_t)(k >> 16),
                                                          (uint8_t)(k >> 8), (uint8_t)k}},
                              .port = 80};
            sm_id c;
            sm_host_add_addr(w, b, &to.addr);
            sm_socket(w, pa, SM_TCP, 4, "c", &c);
            sm_result r = sm_connect(w, c, &to);
            shared = r.err == SM_OK || r.err == SM_EINPROGRESS;
        }
    }
    sm_world_free(w);
    return shared;
}

static uint16_t ts_new(rp_tracker *t, const sm_profile *p, const int64_t *from)
{
    GROW(t, t->ts, t->nts, t->tscap);
    tunset *s = &t->ts[t->nts];
    s->p = p;
    s->ports_shared = -1; /* asked when it matters (ports_up) */
    memcpy(s->tun, from ? from : p->defaults, sizeof s->tun);
    hold_for(t, s);
    return (uint16_t)t->nts++;
}

static const sm_profile *ovr_profile(const rp_tracker *t, const sm_addr *a)
{
    for (size_t i = 0; i < t->cfg.novr; i++)
        if (sm_addr_equal(&t->cfg.ovr_addr[i], a))
            return t->cfg.ovr_prof[i];
    return NULL;
}

/* ---- hosts ------------------------------------------------------------------ */

static void hslot_insert(rp_tracker *t, uint32_t id)
{
    size_t mask = t->hslotcap - 1;
    size_t i = (size_t)hash_addr(&t->hosts[id].addr) & mask;
    while (t->hslot[i])
        i = (i + 1) & mask;
    t->hslot[i] = id + 1;
}

static uint32_t host_get(rp_tracker *t, const sm_addr *a)
{
    if ((t->nhosts + 1) * 2 > t->hslotcap) {
        size_t nc = t->hslotcap ? t->hslotcap * 2 : 256;
        uint32_t *ns = xrealloc(t, NULL, nc * sizeof *ns);
        free(t->hslot);
        t->hslot = ns;
        t->hslotcap = nc;
        memset(t->hslot, 0, t->hslotcap * sizeof *t->hslot);
        for (size_t k = 0; k < t->nhosts; k++)
            hslot_insert(t, (uint32_t)k);
    }
    size_t mask = t->hslotcap - 1;
    size_t i = (size_t)hash_addr(a) & mask;
    while (t->hslot[i]) {
        uint32_t id = t->hslot[i] - 1;
        if (t->hosts[id].addr.family == a->family && smu_eq16(t->hosts[id].addr.b, a->b))
            return id;
        i = (i + 1) & mask;
    }
    if (t->nhosts >= t->hostcap) {
        GROW(t, t->hosts, t->nhosts, t->hostcap);
        t->hr = xrealloc(t, t->hr, t->hostcap * t->nruns * sizeof *t->hr);
    }
    uint32_t id = (uint32_t)t->nhosts++;
    host *h = &t->hosts[id];
    memset(h, 0, sizeof *h);
    h->addr = *a;
    memset(HR(t, id, 0), 0, t->nruns * sizeof(hrun));
    const sm_profile *ov = ovr_profile(t, a);
    for (size_t r = 0; r < t->nruns; r++) {
        hrun *hr = HR(t, id, r);
        if (ov) {
            /* an override: its own tunable set (cheap; few such hosts) */
            hr->ts = ts_new(t, ov, NULL);
        } else {
            hr->ts = t->ts_default[r];
        }
        const tunset *s = &t->ts[hr->ts];
        hr->pub.profile = s->p;
    }
    t->hslot[i] = id + 1;
    return id;
}

/* ---- listeners -------------------------------------------------------------- */

static size_t lhash(uint64_t k, size_t mask)
{
    return (size_t)smu_mulfold(k, 0x9e3779b97f4a7c15ull) & mask;
}

static void lset_add(rp_tracker *t, uint32_t h, uint16_t port)
{
    uint64_t k = ((uint64_t)h << 16 | port) + 1;
    if ((t->lused + 1) * 2 > t->lcap) {
        size_t oc = t->lcap;
        uint64_t *old = t->lset;
        uint64_t *nl = xrealloc(t, NULL, (oc ? oc * 2 : 256) * sizeof *nl);
        t->lcap = oc ? oc * 2 : 256;
        t->lset = nl;
        memset(t->lset, 0, t->lcap * sizeof *t->lset);
        for (size_t i = 0; i < oc; i++)
            if (old[i]) {
                size_t j = lhash(old[i], t->lcap - 1);
                while (t->lset[j])
                    j = (j + 1) & (t->lcap - 1);
                t->lset[j] = old[i];
            }
        free(old);
    }
    size_t j = lhash(k, t->lcap - 1);
    while (t->lset[j]) {
        if (t->lset[j] == k)
            return;
        j = (j + 1) & (t->lcap - 1);
    }
    t->lset[j] = k;
    t->lused++;
}

static bool lset_has(const rp_tracker *t, uint32_t h, uint16_t port)
{
    if (!t->lcap)
        return false;
    uint64_t k = ((uint64_t)h << 16 | port) + 1;
    size_t j = lhash(k, t->lcap - 1);
    while (t->lset[j]) {
        if (t->lset[j] == k)
            return true;
        j = (j + 1) & (t->lcap - 1);
    }
    return false;
}

/* ---- destinations ------------------------------------------------------------ */

static uint64_t dhash(uint32_t c, uint32_t s, uint16_t p)
{
    return smu_mulfold(((uint64_t)c << 32 | s) ^ 0x589965cc75374cc3ull,
                   (uint64_t)p ^ 0x1d8e4e27c47d124full);
}

static uint32_t dest_get(rp_tracker *t, uint32_t c, uint32_t s, uint16_t p)
{
    if ((t->ndests + 1) * 2 > t->dslotcap) {
        size_t oc = t->dslotcap;
        uint64_t *old = t->dslot;
        uint64_t *nd = xrealloc(t, NULL, (oc ? oc * 2 : 256) * sizeof *nd);
        t->dslotcap = oc ? oc * 2 : 256;
        t->dslot = nd;
        memset(t->dslot, 0, t->dslotcap * sizeof *t->dslot);
        for (size_t k = 0; k < oc; k++)
            if (old[k]) {
                size_t j = (size_t)(old[k] >> 32) & (t->dslotcap - 1);
                while (t->dslot[j])
                    j = (j + 1) & (t->dslotcap - 1);
                t->dslot[j] = old[k];
            }
        free(old);
    }
    size_t mask = t->dslotcap - 1;
    uint32_t h = (uint32_t)dhash(c, s, p);
    size_t j = h & mask;
    /* the hash in the slot: a probe reads a record only when it matches */
    while (t->dslot[j]) {
        if ((uint32_t)(t->dslot[j] >> 32) == h) {
            uint32_t id = (uint32_t)t->dslot[j] - 1u;
            const dest *d = &t->dests[id];
            if (d->client == c && d->server == s && d->port == p)
                return id;
        }
        j = (j + 1) & mask;
    }
    if (t->ndests == t->destcap) {
        size_t nc = t->destcap ? t->destcap * 2 : 64;
        t->dests = xrealloc(t, t->dests, nc * sizeof *t->dests);
        t->dstat = xrealloc(t, t->dstat, nc * t->nruns * sizeof *t->dstat);
        t->destcap = nc;
    }
    uint32_t id = (uint32_t)t->ndests++;
    dest *d = &t->dests[id];
    d->live = d->conns = 0;
    for (size_t r = 0; r < t->nruns; r++)
        *DS(t, id, r) = (dstat){0, 0, 0, 0};
    d->client = c;
    d->server = s;
    d->port = p;
    t->dslot[j] = (uint64_t)h << 32 | (id + 1);
    return id;
}

/* ---- events ----------------------------------------------------------------- */

static void ep_of(const conn *c, int side, sm_endpoint *out)
{
    memset(out, 0, sizeof *out);
    bool lo = ((c->flags & C_LO_CLIENT) != 0) == (side == 0);
    out->addr.family = c->fam;
    memcpy(out->addr.b, lo ? c->lo : c->hi, 16);
    out->port = lo ? c->plo : c->phi;
}

static int32_t event_add(rp_tracker *t, size_t run, rp_ev_kind k, const conn *c, int side,
                         uint64_t frame, int action, uint64_t value, uint64_t limit,
                         const sm_rule *rule)
{
    hrun *hr = HR(t, c->host[side], run);
    hr->pub.ev[k]++;
    evvec *v = &t->ev[run];
    if (v->n >= t->cfg.max_events) {
        v->dropped++;
        return -1;
    }
    GROW(t, v->v, v->n, v->cap);
    rp_event *e = &v->v[v->n];
    memset(e, 0, sizeof *e);
    e->ns = t->now;
    e->frame = frame;
    e->conn = c->id;
    e->kind = k;
    e->action = action;
    ep_of(c, side, &e->host);
    ep_of(c, !side, &e->peer);
    e->value = value;
    e->limit = limit;
    e->rule = rule;
    return (int32_t)v->n++;
}

/* ---- TIME_WAIT FIFOs ------------------------------------------------------- */

#define CR(t, ci, r) (&(t)->cr[(size_t)(ci) * (t)->nruns + (r)])

/* The FIFO at place pos of tunable set ts's chain (it exists). */
static twfifo *fifo_at(rp_tracker *t, size_t r, uint16_t ts, unsigned pos)
{
    twfifo *q = &t->fifo[r][t->fset[r][ts] - 1];
    while (pos--)
        q = &t->fifo[r][q->next - 1];
    return q;
}

/* The FIFO of tunable set ts and length ms (made on first use), and its
 * place in the set's chain. */
static twfifo *fifo_of(rp_tracker *t, size_t r, uint16_t ts, uint64_t ms, uint8_t *pos)
{
    if (ts >= t->nfset[r]) {
        size_t n = t->nts > (size_t)ts + 1 ? t->nts : (size_t)ts + 1;
        t->fset[r] = xrealloc(t, t->fset[r], n * sizeof *t->fset[r]);
        memset(t->fset[r] + t->nfset[r], 0, (n - t->nfset[r]) * sizeof *t->fset[r]);
        t->nfset[r] = n;
    }
    uint32_t prev = 0; /* the FIFO whose next is the end of the chain, + 1; 0: none */
    unsigned k = 0;
    for (uint32_t f = t->fset[r][ts]; f; k++) {
        twfifo *q = &t->fifo[r][f - 1];
        if (q->ms == ms || k + 1 == TW_LENGTHS) {
            *pos = (uint8_t)k;
            return q;
        }
        prev = f;
        f = q->next;
    }
    GROW(t, t->fifo[r], t->nfifo[r], t->fifocap[r]);
    t->fifo[r][t->nfifo[r]] = (twfifo){.ms = ms, .heaped = t->ts[ts].tun[SM_TUN_TW_REAP_MS] > 0};
    uint32_t id = (uint32_t)++t->nfifo[r];
    if (prev)
        t->fifo[r][prev - 1].next = id;
    else
        t->fset[r][ts] = id;
    *pos = (uint8_t)k;
    return &t->fifo[r][id - 1];
}

static crun *node_cr(rp_tracker *t, uint32_t node, size_t r, int *side)
{
    *side = (int)((node - 1) & 1u);
    return CR(t, (node - 1) >> 1, r);
}

/* The entry of q that ends first (node + 1), 0 if q is empty. */
static uint32_t fifo_first(const twfifo *q)
{
    return q->heaped ? (q->n ? q->heap[0] : 0) : q->head;
}

/* Heap FIFO q: whether node a ends before node b (of equal ends, the one
 * that arrived first: the larger age). */
static bool heap_before(rp_tracker *t, size_t r, const twfifo *q, uint32_t a, uint32_t b)
{
    int sa, sb;
    const crun *ca = node_cr(t, a, r, &sa), *cb = node_cr(t, b, r, &sb);
    if (ca->tw_exp[sa] != cb->tw_exp[sb])
        return ca->tw_exp[sa] < cb->tw_exp[sb];
    return q->seq - ca->tw[sa].h.seq > q->seq - cb->tw[sb].h.seq;
}

static void heap_set(rp_tracker *t, size_t r, twfifo *q, size_t i, uint32_t node)
{
    int s;
    q->heap[i] = node;
    node_cr(t, node, r, &s)->tw[s].h.pos = (uint32_t)i + 1;
}

/* Heap FIFO q: node at place i moves up or down to where it belongs. */
static void heap_fix(rp_tracker *t, size_t r, twfifo *q, size_t i)
{
    uint32_t node = q->heap[i];
    while (i > 0 && heap_before(t, r, q, node, q->heap[(i - 1) / 2])) {
        heap_set(t, r, q, i, q->heap[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    for (;;) {
        size_t k = 2 * i + 1;
        if (k >= q->n)
            break;
        if (k + 1 < q->n && heap_before(t, r, q, q->heap[k + 1], q->heap[k]))
            k++;
        if (!heap_before(t, r, q, q->heap[k], node))
            break;
        heap_set(t, r, q, i, q->heap[k]);
        i = k;
    }
    heap_set(t, r, q, i, node);
}

/* Side's TIME_WAIT under run r, ending at exp, joins the FIFO of its
 * tunable set and length ms. */
static void heap_push(rp_tracker *t, size_t r, uint32_t ci, int side, uint64_t exp,
                      uint64_t ms)
{
    if (exp < t->due)
        t->due = exp;
    crun *c = CR(t, ci, r);
    twfifo *q = fifo_of(t, r, HR(t, t->conns[ci].host[side], r)->ts, ms, &c->tw_q[side]);
    c = CR(t, ci, r);
    uint32_t node = (ci << 1 | (uint32_t)side) + 1;
    if (q->heaped) {
        GROW(t, q->heap, q->n, q->cap);
        c->tw[side].h.seq = q->seq++;
        q->heap[q->n++] = node;
        heap_fix(t, r, q, q->n - 1);
        return;
    }
    /* After the last entry that ends no later: the tail (the FIFO's
     * entries last as long), unless its set has more lengths than
     * TW_LENGTHS. */
    uint32_t after = q->tail;
    int ps = 0;
    while (after) {
        crun *p = node_cr(t, after, r, &ps);
        if (p->tw_exp[ps] <= exp)
            break;
        after = p->tw[ps].l.prev;
    }
    uint32_t before = 0;
    if (after) {
        crun *p = node_cr(t, after, r, &ps);
        before = p->tw[ps].l.next;
        p->tw[ps].l.next = node;
    } else {
        before = q->head;
        q->head = node;
    }
    c->tw[side].l.prev = after;
    c->tw[side].l.next = before;
    if (before) {
        int bs;
        node_cr(t, before, r, &bs)->tw[bs].l.prev = node;
    } else {
        q->tail = node;
    }
}

static void heap_remove(rp_tracker *t, size_t r, uint32_t ci, int side)
{
    crun *c = CR(t, ci, r);
    twfifo *q = fifo_at(t, r, HR(t, t->conns[ci].host[side], r)->ts, c->tw_q[side]);
    if (q->heaped) {
        size_t i = c->tw[side].h.pos - 1;
        c->tw[side].h.pos = 0;
        uint32_t last = q->heap[--q->n];
        if (i < q->n) {
            q->heap[i] = last;
            heap_fix(t, r, q, i);
        }
        return;
    }
    uint32_t nx = c->tw[side].l.next, pv = c->tw[side].l.prev;
    int s2;
    if (pv)
        node_cr(t, pv, r, &s2)->tw[s2].l.next = nx;
    else
        q->head = nx;
    if (nx)
        node_cr(t, nx, r, &s2)->tw[s2].l.prev = pv;
    else
        q->tail = pv;
    c->tw[side].l.next = c->tw[side].l.prev = 0;
}

/* The next TIME_WAIT to end under run r: false if none. */
static bool tw_first(rp_tracker *t, size_t r, uint64_t *exp, uint32_t *ci, int *side)
{
    /* the earliest end; of equal ends, the lower tunable set's (as when
     * a set had one FIFO), and in one set the longer length's: it began
     * first (exp = start + length), as one FIFO of the set would order
     * them */
    bool any = false;
    uint64_t best_ms = 0;
    size_t best_set = 0;
    for (size_t k = 0; k < t->nfset[r]; k++) {
        for (uint32_t f = t->fset[r][k]; f; f = t->fifo[r][f - 1].next) {
            const twfifo *q = &t->fifo[r][f - 1];
            uint32_t head = fifo_first(q);
            if (!head)
                continue;
            int s;
            crun *c = node_cr(t, head, r, &s);
            if (!any || c->tw_exp[s] < *exp ||
                (c->tw_exp[s] == *exp && best_set == k && q->ms > best_ms)) {
                *exp = c->tw_exp[s];
                *ci = (head - 1) >> 1;
                *side = s;
                best_ms = q->ms;
                best_set = k;
                any = true;
            }
        }
    }
    return any;
}

/* ---- counters ------------------------------------------------------------------ */

static void mark_dirty(rp_tracker *t, uint32_t h, size_t r)
{
    hrun *hr = HR(t, h, r);
    if (hr->pub.tw_now > hr->bmax)
        hr->bmax = (uint32_t)hr->pub.tw_now;
    if (!hr->dirty) {
        hr->dirty = 1;
        GROW(t, t->dirty, t->ndirty, t->dirtycap);
        t->dirty[t->ndirty++] = h << 4 | (uint32_t)r;
    }
}

static uint64_t port_range(const rp_tracker *t, uint32_t h, size_t r)
{
    const tunset *s = &t->ts[HR(t, h, r)->ts];
    int64_t n = s->tun[SM_TUN_PORT_HI] - s->tun[SM_TUN_PORT_LO] + 1;
    return n > 0 ? (uint64_t)n : 0;
}

/* A client port came into use (live or TIME_WAIT) under run r. */
static void ports_up(rp_tracker *t, conn *c, size_t r, uint64_t frame)
{
    hrun *hr = HR(t, c->host[0], r);
    hr->ports_now++;
    if (hr->ports_now > hr->pub.ports_peak) {
        hr->pub.ports_peak = hr->ports_now;
        hr->pub.ports_peak_ns = t->now;
    }
    dstat *d = DS(t, c->dest, r);
    uint64_t use = t->dests[c->dest].live + d->tw;
    if (use > d->peak) {
        d->peak = use;
        d->peak_ns = t->now;
    }
    uint64_t range = port_range(t, c->host[0], r);
    if (use <= range && hr->ports_now <= range)
        return; /* neither the host's nor the destination's count is over */
    /* The OS's sharing rule decides which count must fit in the range:
     * the destination's where a port serves several destinations, the
     * host's where it does not (windows-classic, XNU, OpenBSD, NetBSD). */
    tunset *ts = &t->ts[hr->ts];
    if (ts->ports_shared < 0) {
        ts->ports_shared = -2;
        for (size_t k = 0; k < t->nts; k++)
            if (t->ts[k].p == ts->p && t->ts[k].ports_shared >= 0)
                ts->ports_shared = t->ts[k].ports_shared;
        if (ts->ports_shared < 0)
            ts->ports_shared = probe_ports_shared(ts->p);
    }
    bool host_wide = !ts->ports_shared;
    if (host_wide ? !hr->exhausted : use > range && !d->exh_ns) {
        hr->exhausted = true;
        d->exh_ns = sm_time_add(t->now, 1); /* 0 means "not exhausted" */
        event_add(t, r, RP_EV_PORTS_EXHAUSTED, c, 0, frame, host_wide,
                  host_wide ? hr->ports_now : use, range, NULL);
    }
}

static void ports_down(rp_tracker *t, conn *c, size_t r)
{
    hrun *hr = HR(t, c->host[0], r);
    if (hr->ports_now)
        hr->ports_now--;
}

/* ---- TIME_WAIT per run -------------------------------------------------------- */

static void tw_end(rp_tracker *t, uint32_t ci, int side, size_t r, rp_tw_end why, uint64_t at);

/* Host h's entry of FIFO q that ends first (node + 1), 0 if none: a walk
 * from the list's head, or over the whole heap (no profile with a
 * collector recycles entries at its cap today). */
static uint32_t fifo_host_first(rp_tracker *t, size_t r, const twfifo *q, uint32_t h)
{
    int s;
    if (q->heaped) {
        uint32_t best = 0;
        for (size_t i = 0; i < q->n; i++) {
            uint32_t node = q->heap[i];
            node_cr(t, node, r, &s);
            if (t->conns[(node - 1) >> 1].host[s] == h &&
                (!best || heap_before(t, r, q, node, best)))
                best = node;
        }
        return best;
    }
    for (uint32_t node = q->head; node;) {
        const crun *cr = node_cr(t, node, r, &s);
        if (t->conns[(node - 1) >> 1].host[s] == h)
            return node;
        node = cr->tw[s].l.next;
    }
    return 0;
}

/* End host h's oldest TIME_WAIT entry under run r (the cap is reached and
 * the OS recycles it). */
static void tw_recycle_oldest(rp_tracker *t, uint32_t h, size_t r)
{
    /* the host's first entry in each length's FIFO; of those, the
     * earliest end (of equal ends the longer length's, as tw_first) */
    uint16_t ts = HR(t, h, r)->ts;
    if (ts >= t->nfset[r])
        return;
    uint32_t best = 0;
    uint64_t best_exp = 0, best_ms = 0;
    for (uint32_t f = t->fset[r][ts]; f; f = t->fifo[r][f - 1].next) {
        const twfifo *q = &t->fifo[r][f - 1];
        uint32_t node = fifo_host_first(t, r, q, h);
        if (!node)
            continue;
        int s;
        const crun *cr = node_cr(t, node, r, &s);
        if (!best || cr->tw_exp[s] < best_exp || (cr->tw_exp[s] == best_exp && q->ms > best_ms)) {
            best = node;
            best_exp = cr->tw_exp[s];
            best_ms = q->ms;
        }
    }
    if (best)
        tw_end(t, (best - 1) >> 1, (int)((best - 1) & 1u), r, RP_TW_RECYCLED, t->now);
}

/* When side's TIME_WAIT, (re)starting now, ends under tunable set s: the
 * engine's rule (sm_tw_expiry_ns(): the profile's length for this
 * connection, NetBSD's MSL classes; the collector's period from its phase
 * on this host, hr->reaper, XNU).  A capture host is one address.  *ms:
 * the length before the collector's rounding (the entry's FIFO). */
static uint64_t tw_expiry_at(const rp_tracker *t, const conn *c, int side, const tunset *s,
                             const hrun *hr, const sm_endpoint *self,
                             const sm_endpoint *peer, uint64_t *ms)
{
    sm_tw_len_ctx lc = {.tun = s->tun, .local = self->addr, .remote = peer->addr,
                        .host_addrs = &t->hosts[c->host[side]].addr, .n_host_addrs = 1,
                        .reap_anchor_ns = hr->reaper.anchor_ns};
    *ms = sm_tw_length_ms(s->p, &lc);
    return sm_tw_expiry_ns(s->p, &lc, t->now);
}

static uint64_t tw_expiry(const rp_tracker *t, const conn *c, int side, const tunset *s,
                          const hrun *hr, uint64_t *ms)
{
    sm_endpoint self, peer;
    ep_of(c, side, &self);
    ep_of(c, !side, &peer);
    return tw_expiry_at(t, c, side, s, hr, &self, &peer, ms);
}

static void tw_begin(rp_tracker *t, uint32_t ci, int side, uint64_t frame)
{
    conn *c = &t->conns[ci];
    c->tw_start[side] = t->now;
    /* the client's live port becomes a TIME_WAIT port (or is freed) */
    bool transfer = side == 0 && (c->flags & C_LIVEPORT) && c->dest != NONE32;
    if (transfer) {
        c->flags &= (uint16_t)~C_LIVEPORT;
        t->dests[c->dest].live--;
    }
    /* what every run asks of the connection, once (under --profile all
     * these were made twelve times) */
    sm_endpoint self, peer;
    ep_of(c, side, &self);
    ep_of(c, !side, &peer);
    bool loopback = sm_addr_is_loopback(&peer.addr), own = c->host[0] == c->host[1];
    for (size_t r = 0; r < t->nruns; r++) {
        hrun *hr = HR(t, c->host[side], r);
        const tunset *s = &t->ts[hr->ts];
        CR(t, ci, r)->tw_stop[side] = t->now;
        /* The engine's admission rule (sm_tw_admission()): the peer is
         * "own" when both ends are this capture host. */
        const sm_rule *rule;
        sm_tw_admit adm = sm_tw_admission(s->p, s->tun, hr->pub.tw_now,
                                          s->tun[SM_TUN_NOLOCALTIMEWAIT] && loopback, own, &rule);
        if (adm == SM_TW_KEPT_RECYCLE || adm == SM_TW_NOT_KEPT_CAP) {
            if (hr->pub.ev[RP_EV_TW_OVERFLOW] == 0)
                event_add(t, r, RP_EV_TW_OVERFLOW, c, side, frame, 0,
                          (uint64_t)s->tun[SM_TUN_MAX_TW], 0, rule);
            else
                hr->pub.ev[RP_EV_TW_OVERFLOW]++;
            c = &t->conns[ci];
        }
        if (adm == SM_TW_KEPT_RECYCLE) {
            /* The host's oldest entry ends to make room (its run's FIFO
             * holds the entries of every host with this tunable set, in
             * expiry order: the first of this host is its oldest). */
            tw_recycle_oldest(t, c->host[side], r);
            c = &t->conns[ci];
        } else if (adm != SM_TW_KEPT) {
            CR(t, ci, r)->tw_end[side] = RP_TW_NOT_KEPT;
            hr->pub.tw_not_kept++;
            if (transfer)
                ports_down(t, c, r);
            continue;
        }
        sm_tw_reaper_enter(&hr->reaper, s->tun, hr->pub.tw_now, t->now);
        uint64_t ms;
        uint64_t exp = tw_expiry_at(t, c, side, s, hr, &self, &peer, &ms);
        CR(t, ci, r)->tw_exp[side] = exp;
        CR(t, ci, r)->tw_end[side] = RP_TW_LIVE;
        heap_push(t, r, ci, side, exp, ms);
        c = &t->conns[ci];
        hr->pub.tw_now++;
        hr->pub.tw_total++;
        if (hr->pub.tw_now > hr->pub.tw_peak) {
            hr->pub.tw_peak = hr->pub.tw_now;
            hr->pub.tw_peak_ns = t->now;
        }
        mark_dirty(t, c->host[side], r);
        if (side == 0 && c->dest != NONE32) {
            DS(t, c->dest, r)->tw++;
            if (!transfer)
                ports_up(t, c, r, frame);
        }
    }
}

static void tw_end(rp_tracker *t, uint32_t ci, int side, size_t r, rp_tw_end why, uint64_t at)
{
    conn *c = &t->conns[ci];
    if (CR(t, ci, r)->tw_end[side] != RP_TW_LIVE)
        return;
    heap_remove(t, r, ci, side);
    CR(t, ci, r)->tw_end[side] = (uint8_t)why;
    CR(t, ci, r)->tw_stop[side] = at;
    hrun *hr = HR(t, c->host[side], r);
    if (--hr->pub.tw_now == 0)
        sm_tw_reaper_empty(&hr->reaper, t->ts[hr->ts].tun, at);
    hr->pub.tw_ms_sum += (at - c->tw_start[side]) / NS_PER_MS;
    mark_dirty(t, c->host[side], r);
    if (side == 0 && c->dest != NONE32) {
        if (DS(t, c->dest, r)->tw)
            DS(t, c->dest, r)->tw--;
        ports_down(t, c, r);
    }
}

/* ---- connection records -------------------------------------------------------- */

static uint64_t conn_hash(const conn *c)
{
    return smu_tuple_hash(c->lo, c->hi, c->plo, c->phi, c->fam);
}

#define SLOT_CI(v) ((uint32_t)(v) - 1u)
#define SLOT_H(v) ((uint32_t)((v) >> 32))

static void slots_grow(rp_tracker *t)
{
    size_t oc = t->slotcap;
    uint64_t *old = t->slot;
    size_t nc = oc ? oc * 2 : 128; /* small at first: a small capture pays
                                    * for what it uses (start-up) */
    t->slot = big_resize(t, NULL, 0, nc * sizeof *t->slot);
    t->slotcap = nc;
    size_t mask = t->slotcap - 1;
    for (size_t i = 0; i < oc; i++)
        if (old[i]) {
            size_t j = SLOT_H(old[i]) & mask;
            while (t->slot[j])
                j = (j + 1) & mask;
            t->slot[j] = old[i];
        }
    big_free(old, oc * sizeof *old);
}

/* Removes the slot holding conn ci (backward-shift deletion). */
static void slot_remove(rp_tracker *t, uint32_t ci)
{
    size_t mask = t->slotcap - 1;
    size_t i = (size_t)(uint32_t)conn_hash(&t->conns[ci]) & mask;
    while (!t->slot[i] || SLOT_CI(t->slot[i]) != ci)
        i = (i + 1) & mask;
    t->slot[i] = 0;
    size_t j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (!t->slot[j])
            break;
        size_t k = SLOT_H(t->slot[j]) & mask;
        /* can the entry at j move to i? (k cyclically outside (i, j]) */
        if ((j > i && (k <= i || k > j)) || (j < i && (k <= i && k > j))) {
            t->slot[i] = t->slot[j];
            t->slot[j] = 0;
            i = j;
        }
    }
    t->slotused--;
}

static sm_tcp_state run_state(const rp_tracker *t, uint32_t ci, size_t r, int side)
{
    const conn *c = &t->conns[ci];
    sm_tcp_state s = (sm_tcp_state)c->st[side];
    if (s == SM_TIME_WAIT && CR(t, ci, r)->tw_end[side] != RP_TW_LIVE)
        return SM_CLOSED;
    return s;
}

static rp_zeek zeek_state(const conn *c)
{
    int os = c->z[0], rs = c->z[1];
    bool o_inactive = os == Z_INACTIVE || os == Z_PARTIAL;
    bool r_inactive = rs == Z_INACTIVE || rs == Z_PARTIAL;
    if (rs == Z_RESET) {
        if (os == Z_SYN_SENT || os == Z_SYN_ACK_SENT ||
            (os == Z_RESET && c->by[0] == 0 && c->by[1] == 0))
            return RP_Z_REJ;
        return o_inactive ? RP_Z_RSTRH : RP_Z_RSTR;
    }
    if (os == Z_RESET) {
        if (r_inactive)
            return (c->flags & C_RSTOS0) ? RP_Z_RSTOS0 : RP_Z_OTH;
        return RP_Z_RSTO;
    }
    if (rs == Z_CLOSED && os == Z_CLOSED)
        return RP_Z_SF;
    if (os == Z_CLOSED)
        return r_inactive ? RP_Z_SH : RP_Z_S2;
    if (rs == Z_CLOSED)
        return o_inactive ? RP_Z_SHR : RP_Z_S3;
    if (os == Z_SYN_SENT && rs == Z_INACTIVE)
        return RP_Z_S0;
    if (os == Z_ESTABLISHED && rs == Z_ESTABLISHED)
        return RP_Z_S1;
    return RP_Z_OTH;
}

/* Hands the connection to the report and frees its record. */
static void conn_close(rp_tracker *t, uint32_t ci, const char *why, bool at_end, bool keep_slot)
{
    conn *c = &t->conns[ci];
    for (size_t r = 0; r < t->nruns; r++) {
        for (int s = 0; s < 2; s++)
            if (CR(t, ci, r)->tw_end[s] == RP_TW_LIVE && !at_end)
                tw_end(t, ci, s, r, RP_TW_EXPIRED, t->now);
        if (CR(t, ci, r)->pend_ev >= 0 && (size_t)CR(t, ci, r)->pend_ev < t->ev[r].n &&
            t->ev[r].v[CR(t, ci, r)->pend_ev].observed == 0)
            t->ev[r].v[CR(t, ci, r)->pend_ev].observed = 3;
    }
    if ((c->flags & C_LIVEPORT) && c->dest != NONE32) {
        dest *d = &t->dests[c->dest];
        d->live--;
        for (size_t r = 0; r < t->nruns; r++)
            ports_down(t, c, r);
        c->flags &= (uint16_t)~C_LIVEPORT;
    }
    if (t->cfg.on_conn) {
        rp_conn_info in;
        memset(&in, 0, offsetof(rp_conn_info, run));
        in.id = c->id;
        in.first_frame = c->first_frame;
        in.first_ns = c->first_ns;
        in.last_ns = c->last_ns;
        ep_of(c, 0, &in.client);
        ep_of(c, 1, &in.server);
        in.saw_syn = (c->flags & C_SAW_SYN) != 0;
        in.opened_by = (c->flags & C_MIDSTREAM) ? "unknown" : "client";
        static const char *const cl[] = {"none", "client", "server", "both"};
        static const char *const ck[] = {"none", "fin", "rst"};
        in.closed_first_by = cl[c->closer & 3];
        in.close_kind = ck[c->close_kind % 3];
        for (int s = 0; s < 2; s++) {
            in.packets[s] = c->pk[s];
            in.bytes[s] = c->by[s];
            in.observed[s] = (sm_tcp_state)c->st[s];
        }
        in.summary = zeek_state(c);
        for (size_t r = 0; r < t->nruns; r++)
            for (int s = 0; s < 2; s++) {
                rp_side_run *sr = &in.run[r][s];
                sr->state = run_state(t, ci, r, s);
                sr->tw_end = (rp_tw_end)CR(t, ci, r)->tw_end[s];
                sr->tw_ms = 0;
                if (CR(t, ci, r)->tw_end[s] == RP_TW_LIVE)
                    sr->tw_ms = (t->now - c->tw_start[s]) / NS_PER_MS;
                else if (CR(t, ci, r)->tw_end[s] != RP_TW_NONE && CR(t, ci, r)->tw_end[s] != RP_TW_NOT_KEPT)
                    sr->tw_ms = (CR(t, ci, r)->tw_stop[s] - c->tw_start[s]) / NS_PER_MS;
            }
        in.ended = why;
        t->cfg.on_conn(t->cfg.ctx, t, &in);
    }
    /* end of capture: TIME_WAITs still live are counted as live; remove
     * them from the FIFOs without touching the counters (once
     * rp_track_finish has begun, the FIFOs and slots are never used
     * again: nothing to unlink) */
    c = &t->conns[ci];
    for (size_t r = 0; r < t->nruns; r++)
        for (int s = 0; s < 2; s++)
            if (CR(t, ci, r)->tw_end[s] == RP_TW_LIVE) {
                if (!t->finishing)
                    heap_remove(t, r, ci, s);
                c = &t->conns[ci];
                CR(t, ci, r)->tw_end[s] = RP_TW_NONE;
            }
    if (!keep_slot && !t->finishing)
        slot_remove(t, ci);
    c = &t->conns[ci];
    c->flags = 0;
    c->gen++;
    c->next_free = t->conn_free;
    t->conn_free = ci;
    t->live--;
}

/* Doubles the record array, 64-byte aligned so that each record's hot
 * part is exactly two cache lines. */
static void conns_grow(rp_tracker *t)
{
    size_t nc = t->conncap ? t->conncap * 2 : 64; /* (as slots_grow) */
    t->conns = big_resize(t, t->conns, t->conncap * sizeof *t->conns, nc * sizeof *t->conns);
    t->conncap = nc;
}

static uint32_t conn_alloc(rp_tracker *t)
{
    uint32_t ci;
    if (t->conn_free != NONE32) {
        ci = t->conn_free;
        t->conn_free = t->conns[ci].next_free;
    } else {
        if (t->nconns >= t->conncap) {
            conns_grow(t);
            t->cr = xrealloc(t, t->cr, t->conncap * t->nruns * sizeof *t->cr);
        }
        ci = (uint32_t)t->nconns++;
        t->conns[ci].gen = 0;
    }
    conn *c = &t->conns[ci];
    uint32_t gen = c->gen;
    memset(c, 0, sizeof *c);
    c->gen = gen;
    memset(CR(t, ci, 0), 0, t->nruns * sizeof(crun));
    for (size_t r = 0; r < t->nruns; r++)
        CR(t, ci, r)->pend_ev = -1;
    t->live++;
    if (t->live > t->peak_live)
        t->peak_live = t->live;
    return ci;
}

/* Zeek's likely_server_ports for TCP: the ports its default protocol
 * analyzers register (scripts/base/protocols/{*}/main.zeek). */
static bool likely_server_port(uint16_t port)
{
    static const uint16_t ports[] = {21,   22,   25,   53,   79,   80,   81,   88,   135,
                                     139,  143,  389,  443,  445,  465,  502,  514,  563,
                                     585,  587,  614,  631,  636,  989,  990,  992,  993,
                                     995,  1080, 1434, 1883, 2811, 3128, 3268, 3306, 3389,
                                     5222, 5223, 5269, 5432, 6379, 6666, 6667, 6668, 6669,
                                     8000, 8080, 8888, 20000};
    size_t lo = 0, hi = sizeof ports / sizeof ports[0];
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (ports[mid] == port)
            return true;
        if (ports[mid] < port)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

/* A connection first seen mid-stream: is the sender the server?  Zeek's
 * heuristic (TCPAnalyzer::WantConnection): yes if its port is a likely
 * server port and the other is not, or both are and its port is the
 * lower. */
static bool sender_is_server(uint16_t sport, uint16_t dport)
{
    if (!likely_server_port(sport))
        return false;
    return !likely_server_port(dport) || sport < dport;
}

/* Fills a new record for packet p (sent by the canonical side dir). */
static void conn_init(rp_tracker *t, uint32_t ci, const uint8_t *lo, const uint8_t *hi,
                      uint16_t plo, uint16_t phi, uint8_t fam, unsigned dir, const rp_pkt *p)
{
    conn *c = &t->conns[ci];
    memcpy(c->lo, lo, 16);
    memcpy(c->hi, hi, 16);
    c->plo = plo;
    c->phi = phi;
    c->fam = fam;
    c->flags = C_USED;
    c->id = ++t->next_id;
    c->first_frame = p->frame;
    c->first_ns = t->now;
    c->dest = NONE32;
    /* The client: the sender of a SYN, the receiver of a SYN+ACK; of a
     * mid-stream first packet, the sender unless Zeek's port heuristic
     * says it is the server (a packet from port 80 to port 5767). */
    bool synack = (p->flags & (SM_TH_SYN | SM_TH_ACK)) == (SM_TH_SYN | SM_TH_ACK);
    bool midstream = !(p->flags & SM_TH_SYN);
    bool sender_lo = dir == 0;
    bool client_lo = synack || (midstream && sender_is_server(p->src.port, p->dst.port))
                         ? !sender_lo
                         : sender_lo;
    if (client_lo)
        c->flags |= C_LO_CLIENT;
    if ((p->flags & (SM_TH_SYN | SM_TH_ACK)) == SM_TH_SYN)
        c->flags |= C_SAW_SYN | C_OS0;
    else if (synack)
        c->flags |= C_SYNACK_FIRST;
    else
        c->flags |= C_MIDSTREAM;
    sm_addr a;
    memset(&a, 0, sizeof a);
    a.family = fam;
    memcpy(a.b, client_lo ? lo : hi, 16);
    c->host[0] = host_get(t, &a);
    memcpy(a.b, client_lo ? hi : lo, 16);
    c->host[1] = host_get(t, &a);
    uint16_t sport = client_lo ? phi : plo;
    c = &t->conns[ci];
    c->dest = dest_get(t, c->host[0], c->host[1], sport);
    t->dests[c->dest].conns++;
    if (c->flags & C_MIDSTREAM) {
        c->st[0] = c->st[1] = SM_ESTABLISHED;
    } else if (synack) {
        c->st[0] = SM_SYN_SENT; /* its SYN is not in the capture */
        c->st[1] = SM_CLOSED;
    }
    /* the client port is in use from now on */
    c->flags |= C_LIVEPORT;
    t->dests[c->dest].live++;
    for (size_t r = 0; r < t->nruns; r++)
        ports_up(t, c, r, p->frame);
}

static bool side_done(const conn *c, int s)
{
    return c->st[s] == SM_CLOSED || c->st[s] == SM_TIME_WAIT;
}

static void retire_push(rp_tracker *t, uint32_t ci, uint64_t at)
{
    if (t->rq_n == t->rq_cap) {
        size_t nc = t->rq_cap ? t->rq_cap * 2 : 256;
        retq *n = xrealloc(t, NULL, nc * sizeof *n);
        for (size_t i = 0; i < t->rq_n; i++)
            n[i] = t->rq[(t->rq_head + i) % t->rq_cap];
        free(t->rq);
        t->rq = n;
        t->rq_cap = nc;
        t->rq_head = 0;
    }
    retq *e = &t->rq[(t->rq_head + t->rq_n++) % t->rq_cap];
    if (at < t->due)
        t->due = at;
    e->at = at;
    e->conn = ci;
    e->gen = t->conns[ci].gen;
}

static void check_done(rp_tracker *t, uint32_t ci)
{
    conn *c = &t->conns[ci];
    if ((c->flags & C_LIVEPORT) && side_done(c, 0)) {
        c->flags &= (uint16_t)~C_LIVEPORT;
        t->dests[c->dest].live--;
        for (size_t r = 0; r < t->nruns; r++)
            ports_down(t, c, r);
    }
    if (!(c->flags & C_DONE) && side_done(c, 0) && side_done(c, 1)) {
        c->flags |= C_DONE;
        retire_push(t, ci, ns_add(t->now, t->hold_ns));
    }
}

/* ---- time ------------------------------------------------------------------------ */

static void flush_bucket(rp_tracker *t, uint64_t at)
{
    for (size_t i = 0; i < t->ndirty; i++) {
        uint32_t h = t->dirty[i] >> 4, r = t->dirty[i] & 15u;
        hrun *hr = HR(t, h, r);
        if (!t->cfg.no_timeline) {
            GROW(t, t->tl, t->ntl, t->tlcap);
            rp_tl_point *pt = &t->tl[t->ntl++];
            pt->ns = at - t->first_ns;
            pt->host = h;
            pt->run = (uint16_t)r;
            pt->count = (uint32_t)hr->pub.tw_now;
            pt->max = hr->bmax;
        }
        hr->bmax = (uint32_t)hr->pub.tw_now;
        hr->dirty = 0;
    }
    t->ndirty = 0;
}

static void advance(rp_tracker *t, uint64_t now)
{
    if (now < t->due) { /* the common case: no timer and no bucket ends yet */
        t->now = now;
        return;
    }
    for (;;) {
        uint64_t when = t->next_bucket;
        int which = -1;
        uint32_t wci = 0;
        int wside = 0;
        for (size_t r = 0; r < t->nruns; r++) {
            uint64_t exp;
            uint32_t ci;
            int side;
            if (tw_first(t, r, &exp, &ci, &side) && exp <= when) {
                when = exp;
                which = (int)r;
                wci = ci;
                wside = side;
            }
        }
        if (when > now)
            break;
        if (which >= 0) {
            uint64_t save = t->now;
            t->now = when;
            tw_end(t, wci, wside, (size_t)which, RP_TW_EXPIRED, when);
            t->now = save;
        } else {
            bool any = t->ndirty > 0;
            flush_bucket(t, when);
            if (!any) {
                /* nothing changed: jump to the interval of the next event */
                uint64_t next = now;
                for (size_t r = 0; r < t->nruns; r++) {
                    uint64_t exp;
                    uint32_t ci;
                    int side;
                    if (tw_first(t, r, &exp, &ci, &side) && exp < next)
                        next = exp;
                }
                uint64_t iv = t->cfg.interval_ns;
                t->next_bucket = ns_add(next - (next - t->first_ns) % iv, iv);
                if (t->next_bucket <= when)
                    t->next_bucket = ns_add(when, iv);
            } else {
                t->next_bucket = ns_add(when, t->cfg.interval_ns);
            }
        }
    }
    t->now = now;
    while (t->rq_n && t->rq[t->rq_head].at <= now) {
        retq e = t->rq[t->rq_head];
        t->rq_head = (t->rq_head + 1) % t->rq_cap;
        t->rq_n--;
        conn *c = &t->conns[e.conn];
        if (c->gen != e.gen || !(c->flags & C_USED))
            continue;
        uint64_t later = 0;
        uint32_t ci = e.conn;
        for (size_t r = 0; r < t->nruns; r++)
            for (int s = 0; s < 2; s++)
                if (CR(t, ci, r)->tw_end[s] == RP_TW_LIVE && CR(t, ci, r)->tw_exp[s] > later)
                    later = CR(t, ci, r)->tw_exp[s];
        if (later > now) {
            retire_push(t, e.conn, later);
            continue;
        }
        conn_close(t, e.conn, "idle", false, false);
    }
    /* the next time anything is due */
    uint64_t due = t->next_bucket;
    for (size_t r = 0; r < t->nruns; r++) {
        uint64_t exp;
        uint32_t ci;
        int side;
        if (tw_first(t, r, &exp, &ci, &side) && exp < due)
            due = exp;
    }
    if (t->rq_n && t->rq[t->rq_head].at < due)
        due = t->rq[t->rq_head].at;
    t->due = due;
}

/* ---- the state machines ----------------------------------------------------------- */

/* Zeek's endpoint state machine (TCPSessionAdapter::UpdateStateMachine),
 * driven by each segment's sender s (0 = Zeek's originator). */
static void zset(conn *c, int s, int st)
{
    c->zprev[s] = c->z[s];
    c->z[s] = (uint8_t)st;
}

static void zeek_send(conn *c, int s, const rp_pkt *p)
{
    uint8_t f = p->flags;
    int o = !s;
    bool syn = f & SM_TH_SYN, ack = f & SM_TH_ACK, fin = f & SM_TH_FIN, rst = f & SM_TH_RST;
    if (s == 0 && (c->flags & C_OS0)) { /* history ^S[^HAFGIQ]* so far */
        if (rst)
            c->flags |= C_RSTOS0;
        bool pure_ack = ack && !syn && !fin && p->len == 0;
        if (pure_ack || fin || (syn && ack))
            c->flags &= (uint16_t)~C_OS0;
    }
    switch (c->z[s]) {
    case Z_INACTIVE:
        if (syn) {
            if (s == 0) {
                zset(c, s, ack ? Z_SYN_ACK_SENT : Z_SYN_SENT);
            } else {
                /* the responder's SYN (with or without ACK): both ends
                 * are established for Zeek */
                if (c->z[o] == Z_SYN_SENT)
                    zset(c, o, Z_ESTABLISHED);
                zset(c, s, Z_ESTABLISHED);
            }
        }
        if (fin)
            zset(c, s, Z_CLOSED);
        if (rst)
            zset(c, s, Z_RESET);
        if (c->z[s] == Z_INACTIVE) { /* no control flag changed it */
            if (s == 1 && p->len == 0 && c->z[0] == Z_SYN_SENT)
                ; /* an ACK of the SYN before the SYN+ACK */
            else if (ack && c->z[o] == Z_ESTABLISHED)
                zset(c, s, Z_ESTABLISHED); /* the SYN was missed */
            else
                zset(c, s, Z_PARTIAL);
        }
        break;
    case Z_SYN_SENT:
    case Z_SYN_ACK_SENT:
        if (fin)
            zset(c, s, Z_CLOSED);
        if (rst)
            zset(c, s, Z_RESET);
        break;
    case Z_ESTABLISHED:
    case Z_PARTIAL:
        if (syn && !ack && c->z[s] == Z_PARTIAL && c->z[o] == Z_INACTIVE)
            zset(c, s, Z_SYN_SENT);
        if (fin && !rst) {
            zset(c, s, Z_CLOSED);
            /* the peer's FIN then RST was a normal close after all */
            if (c->z[o] == Z_RESET && c->zprev[o] == Z_CLOSED)
                zset(c, o, Z_CLOSED);
        }
        if (rst)
            zset(c, s, Z_RESET);
        break;
    case Z_CLOSED:
        /* a RST after both FINs changes nothing */
        if (rst && c->z[o] != Z_CLOSED)
            zset(c, s, Z_RESET);
        break;
    default:
        break;
    }
}

static void note_closer(conn *c, int s, int kind)
{
    if (c->closer == 0) {
        c->closer = (uint8_t)(s + 1);
        c->close_kind = (uint8_t)kind;
    }
}

/* RST from side s reaching o's TIME_WAIT. */
static void rst_into_tw(rp_tracker *t, uint32_t ci, int s, const rp_pkt *p)
{
    conn *c = &t->conns[ci];
    int o = !s;
    bool in_window = !(c->sf[s] & S_SNDMAX) || p->seq == c->snd_max[s];
    for (size_t r = 0; r < t->nruns; r++) {
        c = &t->conns[ci];
        if (CR(t, ci, r)->tw_end[o] != RP_TW_LIVE)
            continue;
        const tunset *ts = &t->ts[HR(t, c->host[o], r)->ts];
        const sm_rule *rule;
        if (sm_tw_rst_ends(ts->p, ts->tun, in_window, &rule)) {
            event_add(t, r, RP_EV_TW_RST_KILL, c, o, p->frame, 0,
                      (CR(t, ci, r)->tw_exp[o] - t->now) / NS_PER_MS, 0, rule);
            tw_end(t, ci, o, r, RP_TW_RST, t->now);
        } else {
            event_add(t, r, RP_EV_TW_RST_IGNORED, c, o, p->frame, in_window ? 1 : 2,
                      (CR(t, ci, r)->tw_exp[o] - t->now) / NS_PER_MS, 0, rule);
        }
    }
}

/* A RST from the client of connection ci, whose SYN reached a TIME_WAIT
 * this OS did not give up (ACK, RST or drop): the TIME_WAIT is still
 * there under this OS, so the RST (typically the answer to the ACK of the
 * old connection, RFC 9293 3.10.7.1) reaches it, not the new connection.
 * The TIME_WAIT_SYN event carries the entry's rcv_nxt (limit) and the time
 * it had left. */
static void rst_after_refused_syn(rp_tracker *t, uint32_t ci, const rp_pkt *p)
{
    for (size_t r = 0; r < t->nruns; r++) {
        int32_t k = CR(t, ci, r)->pend_ev;
        if (k < 0 || (size_t)k >= t->ev[r].n)
            continue;
        const rp_event e = t->ev[r].v[k];
        uint64_t since = (t->now - e.ns) / NS_PER_MS;
        if (e.kind != RP_EV_TW_SYN || e.action == SM_TW_SYN_ACCEPT || e.observed == 1 ||
            since >= e.value)
            continue; /* given up, answered by a SYN-ACK, or over by now */
        conn *c = &t->conns[ci];
        const tunset *ts = &t->ts[HR(t, c->host[1], r)->ts];
        const sm_rule *rule;
        bool in_window = p->seq == (uint32_t)e.limit;
        int32_t n;
        if (sm_tw_rst_ends(ts->p, ts->tun, in_window, &rule))
            n = event_add(t, r, RP_EV_TW_RST_KILL, c, 1, p->frame, 0, e.value - since, 0, rule);
        else
            n = event_add(t, r, RP_EV_TW_RST_IGNORED, c, 1, p->frame, in_window ? 1 : 2,
                          e.value - since, 0, rule);
        if (n >= 0)
            t->ev[r].v[n].conn = e.conn; /* the old connection's TIME_WAIT */
    }
}

/* New data from side s reaching o's TIME_WAIT: the profile's rule
 * (sm_tw_data_action(), the engine's too). */
static void data_into_tw(rp_tracker *t, uint32_t ci, int s, const rp_pkt *p)
{
    conn *c = &t->conns[ci];
    int o = !s;
    for (size_t r = 0; r < t->nruns; r++) {
        c = &t->conns[ci];
        if (CR(t, ci, r)->tw_end[o] != RP_TW_LIVE)
            continue;
        const tunset *ts = &t->ts[HR(t, c->host[o], r)->ts];
        const sm_rule *rule;
        enum sm_tw_data a = sm_tw_data_action(ts->p, &rule);
        event_add(t, r, RP_EV_TW_DATA, c, o, p->frame, (int)a,
                  (CR(t, ci, r)->tw_exp[o] - t->now) / NS_PER_MS, 0, rule);
        if (a == SM_TW_DATA_RST)
            tw_end(t, ci, o, r, RP_TW_DATA, t->now);
    }
}

/* A RST sent by side s while it is in TIME_WAIT: the host dropped the
 * connection (new data reached it after its close, and it answered as
 * every OS does for a closed socket): it holds no TIME_WAIT, whatever the
 * profile, and the event about the data says what the capture showed. */
static void own_rst_in_tw(rp_tracker *t, uint32_t ci, int s)
{
    uint64_t id = t->conns[ci].id;
    for (size_t r = 0; r < t->nruns; r++) {
        /* the data event it answers: the last one of this connection */
        for (size_t k = t->ev[r].n; k-- > 0;)
            if (t->ev[r].v[k].conn == id) {
                if (t->ev[r].v[k].kind == RP_EV_TW_DATA)
                    t->ev[r].v[k].observed = 2;
                break;
            }
        tw_end(t, ci, s, r, RP_TW_OWN_RST, t->now);
    }
}

static void handle(rp_tracker *t, uint32_t ci, int s, const rp_pkt *p)
{
    conn *c = &t->conns[ci];
    int o = !s;
    uint8_t f = p->flags;
    c->pk[s]++;
    c->by[s] += p->len;
    c->last_ns = t->now;
    if (p->has_ts) {
        c->sf[s] |= S_TS;
        c->tsval[s] = p->tsval;
    }
    zeek_send(c, s, p);
    if (s == 1 && (c->flags & C_PEND) && !(f & (SM_TH_SYN | SM_TH_RST)))
        for (size_t r = 0; r < t->nruns; r++)
            if (CR(t, ci, r)->pend_ev >= 0 && t->ev[r].v[CR(t, ci, r)->pend_ev].observed == 0)
                t->ev[r].v[CR(t, ci, r)->pend_ev].observed = 4;

    if (f & SM_TH_RST) {
        note_closer(c, s, 2);
        c->sf[s] |= S_RST;
        for (size_t r = 0; (c->flags & C_PEND) && r < t->nruns; r++)
            if (CR(t, ci, r)->pend_ev >= 0 && s == 1 && t->ev[r].v[CR(t, ci, r)->pend_ev].observed == 0)
                t->ev[r].v[CR(t, ci, r)->pend_ev].observed = 2;
        if (s == 0 && (c->flags & C_PEND))
            rst_after_refused_syn(t, ci, p);
        c = &t->conns[ci];
        if (c->st[o] == SM_TIME_WAIT)
            rst_into_tw(t, ci, s, p);
        if (c->st[s] == SM_TIME_WAIT)
            own_rst_in_tw(t, ci, s);
        c = &t->conns[ci];
        c->st[s] = SM_CLOSED;
        if (c->st[o] != SM_TIME_WAIT)
            c->st[o] = SM_CLOSED;
        check_done(t, ci);
        return;
    }

    if (p->len && c->st[o] == SM_TIME_WAIT && (c->sf[s] & S_FIN) &&
        seq_ge(p->seq, c->fin_seq[s] + 1)) {
        data_into_tw(t, ci, s, p); /* new data: past s's FIN */
        c = &t->conns[ci];
    }

    /* sequence space sent */
    uint32_t end = p->seq + p->len + ((f & SM_TH_SYN) ? 1u : 0u) + ((f & SM_TH_FIN) ? 1u : 0u);
    if (!(c->sf[s] & S_SNDMAX) || seq_ge(end, c->snd_max[s])) {
        c->snd_max[s] = end;
        c->sf[s] |= S_SNDMAX;
    }
    c->win[s] = p->window;

    if (f & SM_TH_SYN) {
        c->sf[s] |= S_SYN;
        if (p->has_wscale) {
            c->sf[s] |= S_WS;
            c->ws[s] = p->wscale;
        }
        if (f & SM_TH_ACK) {
            if (c->st[s] == SM_CLOSED || c->st[s] == SM_SYN_SENT || c->st[s] == SM_LISTEN)
                c->st[s] = SM_SYN_RECEIVED;
            lset_add(t, c->host[s], s == 0 ? (c->flags & C_LO_CLIENT ? c->plo : c->phi)
                                           : (c->flags & C_LO_CLIENT ? c->phi : c->plo));
            c = &t->conns[ci];
            for (size_t r = 0; (c->flags & C_PEND) && r < t->nruns; r++)
                if (CR(t, ci, r)->pend_ev >= 0 && s == 1 && t->ev[r].v[CR(t, ci, r)->pend_ev].observed == 0)
                    t->ev[r].v[CR(t, ci, r)->pend_ev].observed = 1;
            if (c->st[o] == SM_SYN_SENT)
                c->st[o] = SM_ESTABLISHED;
        } else if (c->st[s] == SM_CLOSED) {
            c->st[s] = SM_SYN_SENT;
        }
    }
    /* the ACK: what it acknowledges of the other side */
    if (f & SM_TH_ACK) {
        if (!(f & SM_TH_SYN) && c->st[o] == SM_SYN_RECEIVED)
            c->st[o] = SM_ESTABLISHED;
        if ((c->sf[o] & S_FIN) && !(c->sf[o] & S_FIN_ACKED) &&
            seq_ge(p->ack, c->fin_seq[o] + 1)) {
            c->sf[o] |= S_FIN_ACKED;
            switch (c->st[o]) {
            case SM_FIN_WAIT_1:
                c->st[o] = SM_FIN_WAIT_2;
                break;
            case SM_CLOSING:
                c->st[o] = SM_TIME_WAIT;
                tw_begin(t, ci, o, p->frame);
                c = &t->conns[ci];
                break;
            case SM_LAST_ACK:
                c->st[o] = SM_CLOSED;
                break;
            default:
                break;
            }
        }
    }
    if (f & SM_TH_FIN) {
        bool first_fin = !(c->sf[s] & S_FIN);
        if (first_fin) {
            c->sf[s] |= S_FIN;
            c->fin_seq[s] = p->seq + p->len + ((f & SM_TH_SYN) ? 1u : 0u);
            note_closer(c, s, 1);
            switch (c->st[s]) {
            case SM_ESTABLISHED:
            case SM_SYN_RECEIVED:
                c->st[s] = SM_FIN_WAIT_1;
                break;
            case SM_CLOSE_WAIT:
                c->st[s] = SM_LAST_ACK;
                break;
            case SM_SYN_SENT:
                c->st[s] = SM_CLOSED;
                break;
            default:
                break;
            }
        }
        switch (c->st[o]) {
        case SM_ESTABLISHED:
        case SM_SYN_RECEIVED:
            c->st[o] = SM_CLOSE_WAIT;
            break;
        case SM_FIN_WAIT_1:
            if (c->sf[o] & S_FIN_ACKED) {
                c->st[o] = SM_TIME_WAIT;
                tw_begin(t, ci, o, p->frame);
            } else {
                c->st[o] = SM_CLOSING;
                if (c->closer == (uint8_t)(o + 1))
                    c->closer = 3; /* simultaneous close */
            }
            break;
        case SM_FIN_WAIT_2:
            c->st[o] = SM_TIME_WAIT;
            tw_begin(t, ci, o, p->frame);
            break;
        case SM_TIME_WAIT:
            if (!first_fin) {
                /* a retransmitted FIN restarts the 2MSL timer */
                for (size_t r = 0; r < t->nruns; r++) {
                    c = &t->conns[ci];
                    if (CR(t, ci, r)->tw_end[o] != RP_TW_LIVE)
                        continue;
                    const hrun *hr = HR(t, c->host[o], r);
                    const tunset *ts = &t->ts[hr->ts];
                    heap_remove(t, r, ci, o);
                    c = &t->conns[ci];
                    uint64_t ms;
                    CR(t, ci, r)->tw_exp[o] = tw_expiry(t, c, o, ts, hr, &ms);
                    heap_push(t, r, ci, o, CR(t, ci, r)->tw_exp[o], ms);
                }
            }
            break;
        default:
            break;
        }
        c = &t->conns[ci];
    }
    check_done(t, ci);
}

/* A SYN without ACK from side s_new (the sender, as an endpoint) on a
 * 4-tuple whose record ci is still held: decisions of each run, then the
 * old record is closed. */
static void reuse(rp_tracker *t, uint32_t ci, int s, const rp_pkt *p, int32_t *pend)
{
    conn *c = &t->conns[ci];
    int o = !s;
    bool alive = !side_done(c, 0) || !side_done(c, 1);
    for (size_t r = 0; r < t->nruns; r++) {
        pend[r] = -1;
        c = &t->conns[ci];
        if (alive) {
            event_add(t, r, RP_EV_REUSE_ALIVE, c, s, p->frame, 0, 0, 0, NULL);
            c = &t->conns[ci];
        }
        if (CR(t, ci, r)->tw_end[s] == RP_TW_LIVE) {
            event_add(t, r, RP_EV_TW_OWN_REUSE, c, s, p->frame, 0,
                      (CR(t, ci, r)->tw_exp[s] - t->now) / NS_PER_MS, 0, NULL);
            tw_end(t, ci, s, r, RP_TW_REUSED, t->now);
            c = &t->conns[ci];
        }
        if (CR(t, ci, r)->tw_end[o] == RP_TW_LIVE) {
            const tunset *ts = &t->ts[HR(t, c->host[o], r)->ts];
            sm_tw_syn_ctx x;
            memset(&x, 0, sizeof x);
            x.tun = ts->tun;
            sm_sock_view *v = &x.tw;
            sm_endpoint me, peer;
            ep_of(c, o, &me);
            ep_of(c, s, &peer);
            v->id = SM_NONE;
            v->name = "capture";
            v->proto = SM_TCP;
            v->family = c->fam;
            v->bound_addr = v->local_addr = me.addr;
            v->port = me.port;
            v->state = SM_TIME_WAIT;
            v->bound = v->connected = true;
            v->remote = peer;
            v->time_wait = true;
            for (size_t k = 0; k < t->nopts; k++)
                if (t->opts[k].ep.port == me.port &&
                    (sm_addr_is_any(&t->opts[k].ep.addr) ||
                     sm_addr_equal(&t->opts[k].ep.addr, &me.addr)))
                    v->now = v->at_bind = t->opts[k].o;
            v->how = o == 0 ? SM_BOUND_CONNECT : SM_BOUND_ACCEPTED;
            v->accepted = o == 1;
            v->tw_since_ms = (c->tw_start[o] - t->first_ns) / NS_PER_MS;
            v->tw_ts = (c->sf[0] & S_TS) && (c->sf[1] & S_TS);
            x.seg_seq = p->seq;
            x.rcv_nxt = c->snd_max[s];
            uint32_t wnd = c->win[o];
            if ((c->sf[0] & S_WS) && (c->sf[1] & S_WS))
                wnd <<= (c->ws[o] > 14 ? 14 : c->ws[o]);
            x.rcv_wnd = wnd;
            x.seg_ts = p->has_ts;
            x.seg_tsval = p->tsval;
            x.ts_recent = c->tsval[s];
            x.listener = lset_has(t, c->host[o], me.port);
            sm_tw_syn_verdict vd = ts->p->tw_syn(ts->p, &x);
            pend[r] = event_add(t, r, RP_EV_TW_SYN, c, o, p->frame, (int)vd.action,
                                (CR(t, ci, r)->tw_exp[o] - t->now) / NS_PER_MS, x.rcv_nxt,
                                vd.rule);
            c = &t->conns[ci];
            tw_end(t, ci, o, r, vd.action == SM_TW_SYN_ACCEPT ? RP_TW_SYN : RP_TW_SUPERSEDED,
                   t->now);
        }
    }
    conn_close(t, ci, "reused", false, true);
}

/* ---- the public interface ------------------------------------------------------- */

static _Noreturn void oom(rp_tracker *t)
{
    t->failed = true;
    longjmp(t->oom_at, 1);
}

/* Runs the rest of an entry point under the out-of-memory guard: a failed
 * tracker does nothing more, and a failing allocation returns `ret`. */
#define GUARD(t, ret)                                                              \
    do {                                                                           \
        if ((t)->failed)                                                           \
            return ret;                                                            \
        if (setjmp((t)->oom_at))                                                   \
            return ret;                                                            \
    } while (0)

/* A block the current call holds only in a local: freed with the tracker
 * if an allocation fails before the call frees it (scratch_done). */
static void *scratch(rp_tracker *t, size_t n)
{
    t->scratch = xrealloc(t, NULL, n);
    return t->scratch;
}

static void scratch_done(rp_tracker *t)
{
    free(t->scratch);
    t->scratch = NULL;
}

bool rp_track_failed(const rp_tracker *t) { return t->failed; }

static bool init(rp_tracker *t, const rp_config *cfg)
{
    GUARD(t, false);
    t->cfg = *cfg;
    if (!t->cfg.interval_ns)
        t->cfg.interval_ns = 1000000000ull;
    if (!t->cfg.max_events)
        t->cfg.max_events = 100000;
    t->nruns = cfg->nruns;
    t->conn_free = NONE32;
    for (size_t r = 0; r < t->nruns; r++)
        t->ts_default[r] = ts_new(t, cfg->run[r], NULL);
    for (size_t i = 0; i < cfg->novr; i++)
        ts_new(t, cfg->ovr_prof[i], NULL); /* for hold_ns */
    slots_grow(t);
    return true;
}

rp_tracker *rp_track_new(const rp_config *cfg)
{
    if (cfg->nruns == 0 || cfg->nruns > RP_MAX_RUNS)
        return NULL;
    rp_tracker *t = fail_now() ? NULL : calloc(1, sizeof *t);
    if (t && !init(t, cfg)) {
        rp_track_free(t);
        t = NULL;
    }
    return t;
}

void rp_track_free(rp_tracker *t)
{
    if (!t)
        return;
    big_free(t->conns, t->conncap * sizeof *t->conns);
    free(t->cr);
    big_free(t->slot, t->slotcap * sizeof *t->slot);
    free(t->hosts);
    free(t->hr);
    free(t->hslot);
    free(t->ts);
    free(t->lset);
    free(t->dests);
    free(t->dstat);
    free(t->dslot);
    free(t->dsorted);
    free(t->dfirst);
    free(t->hsorted);
    for (size_t r = 0; r < RP_MAX_RUNS; r++) {
        for (size_t i = 0; i < t->nfifo[r]; i++)
            free(t->fifo[r][i].heap);
        free(t->fifo[r]);
        free(t->fset[r]);
        free(t->ev[r].v);
    }
    free(t->rq);
    free(t->dirty);
    free(t->tl);
    free(t->opts);
    free(t->scratch);
    free(t);
}

bool rp_track_listener(rp_tracker *t, const sm_addr *a, uint16_t port)
{
    GUARD(t, false);
    lset_add(t, host_get(t, a), port);
    return true;
}

bool rp_track_sockopts(rp_tracker *t, const sm_endpoint *local, const sm_opts *o)
{
    GUARD(t, false);
    GROW(t, t->opts, t->nopts, t->optcap);
    t->opts[t->nopts].ep = *local;
    t->opts[t->nopts].o = *o;
    t->nopts++;
    return true;
}

size_t rp_track_sysctl(rp_tracker *t, const sm_addr *a, const char *key,
                       const char *const *vals, size_t nvals, unsigned run_mask, FILE *warn)
{
    GUARD(t, 0);
    uint32_t h = host_get(t, a);
    size_t missing = 0;
    for (size_t r = 0; r < t->nruns; r++) {
        if (!(run_mask & (1u << r)))
            continue;
        hrun *hr = HR(t, h, r);
        const sm_profile *p = t->ts[hr->ts].p;
        const sm_sysctl_def *d = NULL;
        for (size_t i = 0; i < p->n_sysctls; i++)
            if (strcmp(p->sysctls[i].key, key) == 0)
                d = &p->sysctls[i];
        if (!d || (size_t)d->nvalues != nvals) {
            if (warn)
                fprintf(warn, "sockmodel: warning: %s: sysctl %s is not a key of this "
                              "profile (ignored under it)\n", p->name, key);
            missing++;
            continue;
        }
        int64_t v[2] = {0, 0};
        bool ok = true;
        for (size_t i = 0; i < nvals && i < 2; i++) {
            char *e;
            long long x = strtoll(vals[i], &e, 10);
            if (*e || x < d->min || x > d->max)
                ok = false;
            v[i] = x;
        }
        if (!ok) {
            if (warn)
                fprintf(warn, "sockmodel: warning: %s: sysctl %s: value out of range "
                              "(ignored)\n", p->name, key);
            missing++;
            continue;
        }
        /* a host-specific tunable set, made once per host and run */
        if (hr->ts == t->ts_default[r]) {
            uint16_t n = ts_new(t, p, t->ts[hr->ts].tun);
            hr = HR(t, h, r);
            hr->ts = n;
        }
        tunset *s = &t->ts[hr->ts];
        for (int i = 0; i < d->nvalues; i++)
            s->tun[d->slot[i]] = v[i] * d->scale + d->offset;
        hold_for(t, s);
    }
    return missing;
}

/* The canonical 4-tuple of a segment: the lower (address, port) first;
 * returns 1 if the sender is the higher one. */
static inline unsigned pkt_key(const rp_pkt *p, const uint8_t **lo, const uint8_t **hi,
                               uint16_t *plo, uint16_t *phi)
{
    const uint8_t *sa = p->src.addr.b, *da = p->dst.addr.b;
    int cmp = cmp16(sa, da);
    unsigned dir = cmp > 0 || (cmp == 0 && p->src.port > p->dst.port); /* 1: src is hi */
    *lo = dir ? da : sa;
    *hi = dir ? sa : da;
    *plo = dir ? p->dst.port : p->src.port;
    *phi = dir ? p->src.port : p->dst.port;
    return dir;
}

static void packet(rp_tracker *t, const rp_pkt *p);

bool rp_track_packet(rp_tracker *t, const rp_pkt *p)
{
    GUARD(t, false);
    packet(t, p);
    return true;
}

/* One recovery point for the whole batch: a setjmp per packet was 3% of
 * replay's instructions.  The packet in progress is in t->batch_at, not a
 * local, so that it survives the longjmp. */
size_t rp_track_packets(rp_tracker *t, const rp_pkt *p, size_t n)
{
    t->batch_at = 0;
    GUARD(t, t->batch_at);
    for (; t->batch_at < n; t->batch_at++)
        packet(t, &p[t->batch_at]);
    return n;
}

static void packet(rp_tracker *t, const rp_pkt *p)
{
    if (p->proto != SM_TCP) {
        t->udp++;
        return;
    }
    /* the reader's clock already holds these; a caller's might not */
    uint64_t now = p->ts_mono_ns > RP_TS_MONO_MAX ? RP_TS_MONO_MAX : p->ts_mono_ns;
    if (!t->started) {
        t->started = true;
        t->first_ns = now;
        t->next_bucket = ns_add(now, t->cfg.interval_ns);
    } else if (now < t->last_ns) {
        now = t->last_ns;
    }
    t->last_ns = now;
    advance(t, now);

    const uint8_t *lo, *hi;
    uint16_t plo, phi;
    unsigned dir = pkt_key(p, &lo, &hi, &plo, &phi);
    uint8_t fam = p->src.addr.family;

    if ((t->slotused + 1) * 2 > t->slotcap)
        slots_grow(t);
    size_t mask = t->slotcap - 1;
    uint32_t h = (uint32_t)smu_tuple_hash(lo, hi, plo, phi, fam);
    size_t i = h & mask;
    uint32_t ci = NONE32;
    while (t->slot[i]) {
        if (SLOT_H(t->slot[i]) == h) {
            conn *c = &t->conns[SLOT_CI(t->slot[i])];
            if (c->plo == plo && c->phi == phi && c->fam == fam && smu_eq16(c->lo, lo) &&
                smu_eq16(c->hi, hi)) {
                ci = SLOT_CI(t->slot[i]);
                break;
            }
        }
        i = (i + 1) & mask;
    }
    if (ci == NONE32) {
        ci = conn_alloc(t);
        t->slot[i] = (uint64_t)h << 32 | (ci + 1);
        t->slotused++;
        conn_init(t, ci, lo, hi, plo, phi, fam, dir, p);
    } else {
        conn *c = &t->conns[ci];
        uint16_t fbit = dir ? C_BASE_HI : C_BASE_LO;
        if ((p->flags & (SM_TH_SYN | SM_TH_ACK)) == SM_TH_SYN && (c->flags & fbit) &&
            p->seq != c->base[dir]) {
            int s = (((c->flags & C_LO_CLIENT) != 0) == (dir == 0)) ? 0 : 1;
            int32_t pend[RP_MAX_RUNS];
            reuse(t, ci, s, p, pend);
            uint32_t nci = conn_alloc(t);
            t->slot[i] = (uint64_t)h << 32 | (nci + 1);
            conn_init(t, nci, lo, hi, plo, phi, fam, dir, p);
            for (size_t r = 0; r < t->nruns; r++) {
                CR(t, nci, r)->pend_ev = pend[r];
                if (pend[r] >= 0)
                    t->conns[nci].flags |= C_PEND;
            }
            ci = nci;
        }
    }
    conn *c = &t->conns[ci];
    /* tshark's base sequence numbers (conv.c) */
    uint16_t fbit = dir ? C_BASE_HI : C_BASE_LO, rbit = dir ? C_BASE_LO : C_BASE_HI;
    if (!(c->flags & fbit)) {
        c->base[dir] = (p->flags & SM_TH_SYN) ? p->seq : p->seq - 1;
        c->flags |= fbit;
    }
    if (!(c->flags & rbit) && (p->flags & SM_TH_ACK)) {
        c->base[!dir] = p->ack - 1;
        c->flags |= rbit;
    }
    int s = (((c->flags & C_LO_CLIENT) != 0) == (dir == 0)) ? 0 : 1;
    handle(t, ci, s, p);
}

/* A sort key: two unsigned words compared in order, and the index of what
 * it stands for. */
typedef struct rkey {
    uint64_t hi, lo;
    uint32_t idx;
} rkey;

/* Sorts k[0..n) by (hi, lo), tmp holding n more: a least-significant-digit
 * radix sort on bytes, skipping the bytes every key shares (a connection's
 * id, a destination's port: few bytes vary).  The keys the tracker sorts
 * are distinct, so the order is the one any comparison sort gives; this
 * one costs O(n) per varying byte instead of O(n log n) calls of a
 * comparison function (qsort was most of rp_track_finish's own time on a
 * capture of 10^4..10^6 short connections).  Returns the array that holds
 * the result (k or tmp). */
static rkey *radix_sort(rkey *k, rkey *tmp, size_t n)
{
    /* a byte that every key has alike needs no pass: found from the OR
     * and AND of all keys, before counting (ids, addresses and ports
     * differ in a few of their sixteen bytes) */
    uint64_t or_w[2] = {0, 0}, and_w[2] = {~0ull, ~0ull};
    for (size_t i = 0; i < n; i++) {
        or_w[0] |= k[i].lo;
        and_w[0] &= k[i].lo;
        or_w[1] |= k[i].hi;
        and_w[1] &= k[i].hi;
    }
    for (int d = 0; d < 16; d++) {
        int sh = 8 * (d & 7);
        if (n == 0 || (((or_w[d >> 3] ^ and_w[d >> 3]) >> sh) & 0xff) == 0)
            continue;
        uint32_t c[256];
        memset(c, 0, sizeof c);
        for (size_t i = 0; i < n; i++)
            c[((d < 8 ? k[i].lo : k[i].hi) >> sh) & 0xff]++;
        uint32_t pos = 0;
        for (int b = 0; b < 256; b++) {
            uint32_t m = c[b];
            c[b] = pos;
            pos += m;
        }
        for (size_t i = 0; i < n; i++)
            tmp[c[((d < 8 ? k[i].lo : k[i].hi) >> sh) & 0xff]++] = k[i];
        rkey *x = k;
        k = tmp;
        tmp = x;
    }
    return k;
}

bool rp_track_finish_hosts(rp_tracker *t)
{
    GUARD(t, false);
    if (t->hosts_ready)
        return true;
    if (t->started) {
        advance(t, t->last_ns);
        flush_bucket(t, t->last_ns);
    }
    /* hosts by address; destinations by client (its id), server (its
     * address: its rank among the hosts) and port */
    /* (the family, then the bytes in order, as the reports list them:
     * the bytes by radix, then a stable pass by family; qsort was most of
     * this function's time with thousands of hosts) */
    rkey *hk = scratch(t, 2 * (t->nhosts + 1) * sizeof *hk);
    for (size_t k = 0; k < t->nhosts; k++) {
        hk[k].hi = be64(t->hosts[k].addr.b);
        hk[k].lo = be64(t->hosts[k].addr.b + 8);
        hk[k].idx = (uint32_t)k;
    }
    rkey *hs = radix_sort(hk, hk + t->nhosts, t->nhosts);
    free(t->hsorted);
    t->hsorted = NULL;
    t->hsorted = xrealloc(t, NULL, (t->nhosts + 1) * sizeof *t->hsorted);
    size_t fam_at[257] = {0};
    for (size_t k = 0; k < t->nhosts; k++)
        fam_at[t->hosts[k].addr.family + 1]++;
    for (int f = 0; f < 256; f++)
        fam_at[f + 1] += fam_at[f];
    for (size_t k = 0; k < t->nhosts; k++)
        t->hsorted[fam_at[t->hosts[hs[k].idx].addr.family]++] = hs[k].idx;
    scratch_done(t);
    free(t->dsorted);
    t->dsorted = NULL;
    uint32_t *rank = scratch(t, (t->nhosts + 1) * sizeof *rank);
    for (size_t k = 0; k < t->nhosts; k++)
        rank[t->hsorted[k]] = (uint32_t)k;
    rkey *dk = xrealloc(t, NULL, 2 * (t->ndests + 1) * sizeof *dk);
    for (size_t k = 0; k < t->ndests; k++) {
        dk[k].hi = (uint64_t)t->dests[k].client << 32 | rank[t->dests[k].server];
        dk[k].lo = t->dests[k].port;
        dk[k].idx = (uint32_t)k;
    }
    scratch_done(t);
    t->scratch = dk;
    rkey *ds = radix_sort(dk, dk + t->ndests, t->ndests);
    t->dsorted = xrealloc(t, NULL, (t->ndests + 1) * sizeof *t->dsorted);
    for (size_t k = 0; k < t->ndests; k++)
        t->dsorted[k] = ds[k].idx;
    scratch_done(t);
    /* (the reports ask for every host's destinations under every run: a
     * binary search each time was an eighth of a report under 12 runs) */
    free(t->dfirst);
    t->dfirst = NULL;
    t->dfirst = xrealloc(t, NULL, (t->nhosts + 1) * sizeof *t->dfirst);
    for (size_t h = 0, k = 0; h <= t->nhosts; h++) {
        while (k < t->ndests && t->dests[t->dsorted[k]].client < h)
            k++;
        t->dfirst[h] = (uint32_t)k;
    }
    for (size_t k = 0; k < t->nhosts; k++)
        for (size_t r = 0; r < t->nruns; r++) {
            hrun *hr = HR(t, k, r);
            hr->pub.port_range = port_range(t, (uint32_t)k, r);
            int64_t ms = t->ts[hr->ts].tun[SM_TUN_TIME_WAIT_MS];
            hr->pub.tw_ms = ms > 0 ? (uint64_t)ms : 0;
            hr->pub.profile = t->ts[hr->ts].p;
        }
    t->hosts_ready = true;
    return true;
}

bool rp_track_finish(rp_tracker *t)
{
    if (!rp_track_finish_hosts(t))
        return false;
    GUARD(t, false);
    /* every record left, in first-seen order when they are reported
     * (closing them is order-independent otherwise: counters only) */
    t->finishing = true;
    if (t->cfg.on_conn) {
        rkey *ids = scratch(t, 2 * (t->nconns + 1) * sizeof *ids);
        size_t n = 0;
        for (size_t k = 0; k < t->nconns; k++)
            if (t->conns[k].flags & C_USED) {
                ids[n].hi = 0;
                ids[n].lo = t->conns[k].id;
                ids[n++].idx = (uint32_t)k;
            }
        /* records are reused only after a connection closed: without
         * that, slot order is first-seen order already */
        bool in_order = true;
        for (size_t k = 1; k < n && in_order; k++)
            in_order = ids[k - 1].lo < ids[k].lo;
        rkey *sorted = in_order ? ids : radix_sort(ids, ids + n, n);
        for (size_t k = 0; k < n; k++)
            conn_close(t, sorted[k].idx, "end of capture", true, false);
        scratch_done(t);
    } else {
        for (size_t k = 0; k < t->nconns; k++)
            if (t->conns[k].flags & C_USED)
                conn_close(t, (uint32_t)k, "end of capture", true, false);
    }
    return true;
}

size_t rp_track_nruns(const rp_tracker *t) { return t->nruns; }

const char *rp_track_run_name(const rp_tracker *t, size_t run, char *buf, size_t n)
{
    snprintf(buf, n, "%s", t->cfg.run[run]->name);
    return buf;
}

uint64_t rp_track_connections(const rp_tracker *t) { return t->next_id; }
uint64_t rp_track_first_ns(const rp_tracker *t) { return t->first_ns; }
uint64_t rp_track_last_ns(const rp_tracker *t) { return t->last_ns; }
uint64_t rp_track_udp(const rp_tracker *t) { return t->udp; }
size_t rp_track_nhosts(const rp_tracker *t) { return t->nhosts; }
uint64_t rp_track_interval(const rp_tracker *t) { return t->cfg.interval_ns; }
uint64_t rp_track_peak_live(const rp_tracker *t) { return t->peak_live; }

const sm_addr *rp_track_host_by_id(const rp_tracker *t, uint32_t host_id)
{
    return &t->hosts[host_id].addr;
}

const sm_addr *rp_track_host_addr(const rp_tracker *t, size_t sorted_i, uint32_t *host_id)
{
    *host_id = t->hsorted ? t->hsorted[sorted_i] : (uint32_t)sorted_i;
    return &t->hosts[*host_id].addr;
}

const rp_host_run *rp_track_host_run(const rp_tracker *t, uint32_t host_id, size_t run)
{
    return &HR(t, host_id, run)->pub;
}

size_t rp_track_host_ndests(const rp_tracker *t, uint32_t host_id)
{
    if (!t->dfirst || host_id >= t->nhosts)
        return 0;
    size_t k = t->dfirst[host_id];
    while (k < t->ndests && t->dests[t->dsorted[k]].client == host_id)
        k++;
    return k - t->dfirst[host_id];
}

size_t rp_track_dests(const rp_tracker *t, uint32_t host_id, size_t run, rp_dest_info *out,
                      size_t max)
{
    if (!t->dfirst || run >= t->nruns || host_id >= t->nhosts)
        return 0;
    size_t lo = t->dfirst[host_id];
    uint64_t range = port_range(t, host_id, run);
    size_t n = 0;
    for (size_t k = lo; k < t->ndests && n < max; k++) {
        const dest *d = &t->dests[t->dsorted[k]];
        if (d->client != host_id)
            break;
        rp_dest_info *o = &out[n++];
        memset(&o->dest, 0, sizeof o->dest);
        o->dest.addr = t->hosts[d->server].addr;
        o->dest.port = d->port;
        o->conns = d->conns;
        const dstat *ds = DS(t, t->dsorted[k], run);
        o->peak[run] = ds->peak;
        o->peak_ns[run] = ds->peak_ns;
        o->exhausted_ns[run] = ds->exh_ns;
        o->range[run] = range;
    }
    return n;
}

const rp_event *rp_track_events(const rp_tracker *t, size_t run, size_t *n, uint64_t *dropped)
{
    *n = t->ev[run].n;
    *dropped = t->ev[run].dropped;
    return t->ev[run].v;
}

const rp_tl_point *rp_track_timeline(const rp_tracker *t, size_t *n)
{
    *n = t->ntl;
    return t->tl;
}
