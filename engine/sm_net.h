/*
 * sm_net.h - the simulated network's state and its clock: segments in
 * flight, the event heaps (deliveries, TIME_WAIT heads) and the socket
 * timer heap (sm_timer.c), the demux tables (sm_demux.c), the tap
 * (sm_output.c).  Made with the world.
 */
#ifndef SM_NET_H
#define SM_NET_H

#include "sm_world.h"

#define SM__MSS 1460u
#define SM__RCVBUF 65535u

/* Events: kind << 28 | index. */
enum { SM__EV_DELIVER = 1, SM__EV_TW_HEAD = 3 };
/* A socket's one timer. */
enum { SM__T_NONE = 0, SM__T_SYN = 1, SM__T_FIN_WAIT_2 = 2 };

typedef struct sm__ev {
    uint64_t at;
    uint32_t seq;
    uint32_t what; /* kind << 28 | index */
} sm__ev;

/* A socket timer: the timer heap holds each socket's one pending timer,
 * and a cancelled timer leaves it at once (a stale event kept in the heap
 * until its time would make the heap grow with every connection). */
typedef struct sm__tev {
    uint64_t at;
    uint32_t seq;
    sm_id id;
} sm__tev;

typedef struct sm__evheap {
    sm__ev *a;
    size_t n, cap;
} sm__evheap;

/* The listeners (or bound UDP sockets) of one (host, protocol, port). */
typedef struct sm__lbucket {
    sm_id *ids;
    uint32_t n, cap;
} sm__lbucket;

struct sm__net {
    sm__evheap dq;        /* segment deliveries */
    sm__evheap twq;       /* TIME_WAIT FIFO heads, one or so per host: apart from
                           * the deliveries so that those stay a tiny heap */
    uint32_t evseq;
    sm_segment *segs; /* in flight */
    uint32_t *seg_free;
    size_t nsegs, segcap, nfree, freecap;
    uint64_t productive;  /* deliveries + SYN timers pending */
    sm__tev *tq;          /* socket timers: a binary heap, positions in sm__sock.tpos */
    size_t ntq, tqcap;
    sm__slot *ctab;       /* the 4-tuple table: socket ids and TIME_WAIT handles */
    size_t ccap, ccount;
    sm__map lindex;       /* (host, proto, port) -> listener bucket */
    uint64_t lcache_key[64]; /* a direct-mapped cache of lindex: key + 1 (0: */
    uint32_t lcache_bi[64];  /* empty) -> bucket; entries never change */
    sm__lbucket *lbs;
    size_t nlbs, lbcap;
    sm_sock_view *cands;
    size_t candcap;
    uint64_t delay_ns, loop_delay_ns;
    sm_tap_fn tap;
    void *tap_ctx;
    sm_delivery_fn dtap;
    void *dtap_ctx;
    sm_event_fn etap; /* sm_world_set_event_tap */
    void *etap_ctx;
    sm_stats stats;
    uint64_t tw_total;    /* TIME_WAIT entries alive, all hosts */
    uint64_t secret;
    uint32_t child_no;
    uint8_t synack_offer; /* sm__send_seg -> sm__emit: 1 window scale, 2 SACK */
};

/* Tells the delivery tap who took g. */
static inline void sm__delivered(sm_world *w, const sm_segment *g, sm_id to)
{
    if (w->net->dtap)
        w->net->dtap(w->net->dtap_ctx, g, to);
}

/* Tells the event tap of a decision (nothing when none is set). */
static inline void sm__note(sm_world *w, sm_event_kind k, sm_id sock, uint32_t value,
                            const sm_rule *rule)
{
    if (w->net && w->net->etap) {
        sm_event e = {k, w->now_ns, sock, value, rule};
        w->net->etap(w->net->etap_ctx, &e);
    }
}

/* sm_output.c: the network state, made with the world (NULL: out of
 * memory). */
struct sm__net *sm__net_create(sm_world *w);
void sm__net_free(sm_world *w);

static inline struct sm__net *sm__net(sm_world *w)
{
    return w->net;
}

/* sm_timer.c: the clock. */
void sm__ev_push(sm_world *w, uint64_t at, unsigned kind, uint32_t idx);
/* Arm (kind != SM__T_NONE) or cancel socket id's timer. */
void sm__set_timer(sm_world *w, sm_id id, uint8_t kind, uint64_t at);
/* Process the earliest event if it is due by `limit`. */
bool sm__step(sm_world *w, uint64_t limit);
typedef bool (*sm__done_fn)(const sm_world *w, sm_id id);
/* Run the world until done(id), or until `deadline`, or until nothing that
 * could make done() true is on its way.  Returns done(id). */
bool sm__block_until(sm_world *w, sm_id id, sm__done_fn done, uint64_t deadline);

#endif
