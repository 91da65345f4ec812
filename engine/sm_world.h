/*
 * sm_world.h - the world record that every engine file sees.
 *
 * A world owns arrays of hosts, users, processes and sockets, indexed by
 * sm_id, and the tables of each concern: the bind table (sm_port.h), the
 * 4-tuple demux and listener index (sm_demux.h, inside the network state,
 * sm_net.h), TIME_WAIT entries (sm_timewait.h) and interned names
 * (sm_sock.h).  This header holds the records of hosts, users and
 * processes, the world itself, and the small helpers every file uses:
 * growing an array, building a result, splitmix64.
 */
#ifndef SM_WORLD_H
#define SM_WORLD_H

#include "sm_map.h"
#include "sm_profile.h"

#include <stdlib.h>

#define SM__PSTATE_WORDS 16
#define SM__NS_PER_MS 1000000ull

/* Owner handles in the bind table and the 4-tuple table: a socket id, a
 * TIME_WAIT entry index with the top bit set, or (inside the bind table
 * only) a bucket of several owners with bit 30 set.  Socket ids stay below
 * 2^30. */
#define SM__TW_BIT 0x80000000u
#define SM__BUCKET_BIT 0x40000000u
/* At most this many hosts in a world (about 1 KiB each): a hostile
 * scenario gets an error, not the machine's memory. */
#define SM__MAX_HOSTS (1u << 22)
#define SM__NONE32 0xffffffffu

typedef struct sm__host {
    char *name;
    sm_addr *addrs;
    size_t naddrs, addrcap;
    int64_t tun[SM_TUN_COUNT];
    const sm_profile *prof;            /* the OS this host runs: the world's,
                                        * or the one it is pinned to */
    uint64_t pstate[SM__PSTATE_WORDS]; /* profile's per-host state */
    uint64_t rng;                      /* splitmix64 state */
    uint64_t bind_seq;                 /* counts binds and listens */
    uint64_t tw_count;                 /* TIME_WAIT entries alive */
    sm_tw_reaper tw_reaper;            /* its collector's phase (XNU) */
    uint32_t tw_oldest, tw_newest;     /* FIFO of this host's entries */
} sm__host;

typedef struct sm__user {
    char *name;
    uint32_t uid;
    bool privileged;
} sm__user;

typedef struct sm__proc {
    char *name;
    sm_id host;
    sm_id user;
    bool alive;
    uint32_t prev_same; /* the previous process with its proc_index key, or SM__NONE32 */
    sm_id *socks; /* open descriptors, in no particular order */
    size_t nsocks, sockcap;
} sm__proc;

struct sm__sock;      /* sm_sock.h */
struct sm__tw;        /* sm_timewait.h */
struct sm__bucket;    /* sm_port.h */
struct sm__net;       /* sm_net.h */

struct sm_world {
    const sm_profile *profile;
    uint64_t seed;
    uint64_t now_ns;
    sm__host *hosts;
    size_t nhosts, hostcap;
    sm__user *users;
    size_t nusers, usercap;
    sm__proc *procs;
    size_t nprocs, proccap;
    struct sm__sock *socks;
    size_t nsocks, sockcap;
    size_t nsocks_usable;  /* nsocks, or 0 once the world is broken */

    /* ---- the bind table (sm_port.c) ---- */
    sm__slot *btab;     /* (host, proto, port) -> owner or bucket */
    size_t bcap, bcount;
    uint64_t bkey_last; /* the last key looked up and its slot (SIZE_MAX: */
    size_t bslot_last;  /* no slot), while bslot_known */
    bool bslot_known;
    sm__map addr_index; /* hash of a non-loopback address -> host that has it */
    sm__map host_index; /* hash of a host name -> the first host with that hash */
    sm__map proc_index; /* hash of (host, process name) -> the newest process with
                         * that hash; older ones chained through prev_same */
    /* Per-port profile state (sm_port_state), only for ports whose state is
     * not all zeros (their bucket holds the index); free entries chained
     * through w[0]. */
    sm_port_state *pstates;
    size_t npstates, pstatecap;
    uint32_t pstate_free;
    sm_port_state port_scratch; /* the copy a profile call sees */
    uint64_t port_scratch_key;
    struct sm__bucket *buckets;
    size_t nbuckets, bucketcap;
    uint32_t bucket_free;  /* free list through sm__bucket.u.inl[0] */
    sm_sock_view *scratch; /* owner views for one decision */
    size_t scratchcap;

    /* ---- interned bytes and names (sm_intern.c) ---- */
    char **name_blocks;    /* blocks that never move */
    size_t nname_blocks, name_block_cap, name_used, name_block_size;
    const char **interned; /* id -> bytes (socket names, IPv6 addresses) */
    uint32_t *interned_len;
    size_t ninterned, interncap;
    sm__slot *itab;        /* intern table: hash of the bytes -> id */
    size_t icap;
    uint32_t last_name;    /* the last name interned for a socket (or NONE) */
    char errmsg[256];      /* the last sm_sysctl() message */

    /* ---- TIME_WAIT entries (sm_timewait.c) ---- */
    struct sm__tw **tw_chunks; /* 2^16 entries per chunk */
    size_t ntws, nchunks, chunkcap;
    uint32_t tw_free;      /* free list through sm__tw.next */

    /* ---- socket records (sm_sock.c) ---- */
    bool recycle;          /* reuse dead socket records */
    sm_id *free_socks;
    size_t nfree_socks, free_sock_cap;

    /* ---- the network (sm_net.h), made on first use ---- */
    struct sm__net *net;

    /* The world cannot go on: its profile broke its contract (sm_prof.h,
     * SM_EPROTO) or memory ran out (SM_ENOMEM).  Every call then fails
     * with broken_err and this rule, and the clock stands still; the world
     * can still be freed.  NULL while all is well. */
    const sm_rule *broken;
    sm_err broken_err;
};

/* The result of every call on a broken world. */
#define SM__BROKEN_RESULT(w)                                                 \
    do {                                                                     \
        if ((w)->broken)                                                     \
            return sm__rfail((w)->broken_err, (w)->broken);                  \
    } while (0)

static inline sm_result sm__broken_result(const sm_world *w);

/* The world breaks with error e and rule (the first cause is kept). */
void sm__break(sm_world *w, sm_err e, const sm_rule *rule);
extern const sm_rule sm__rule_sock_cap;

/* Allocation: NULL when memory runs out, and the world breaks with
 * SM_ENOMEM (the caller gives up what it was doing, leaving every table as
 * it was). */
void *sm__realloc(sm_world *w, void *p, size_t n);
char *sm__strdup(sm_world *w, const char *s);
/* The world breaks because memory ran out. */
void sm__oom(sm_world *w);

/* Room for one more element of arr[n] (capacity cap): doubles, 8 at first.
 * Out of memory: arr and cap stay as they were, and `onfail` runs (a
 * return or a goto). */
#define SM__GROW(w, arr, n, cap, onfail)                                     \
    do {                                                                     \
        if ((n) == (cap)) {                                                  \
            size_t grow_cap_ = (cap) ? (cap) * 2 : 8;                        \
            void *grow_p_ = sm__realloc((w), (arr), grow_cap_ * sizeof *(arr)); \
            if (!grow_p_)                                                    \
                onfail;                                                      \
            (arr) = grow_p_;                                                 \
            (cap) = grow_cap_;                                               \
        }                                                                    \
    } while (0)

/* The profile that decides what happens on host h (sm__host.prof): every
 * profile call of the engine goes through the host where it happens. */
static inline const sm_profile *sm__hprof(const sm_world *w, sm_id h)
{
    return w->hosts[h].prof;
}

uint64_t sm__splitmix64(uint64_t *state);
uint64_t sm__addr_key(const sm_addr *a);

/* A result with no culprit, port or bytes (bench/NOTES.md says why it is
 * built member by member). */
static inline sm_result sm__rfail(sm_err e, const sm_rule *rule)
{
    sm_result r;
    r.err = e;
    r.rule = rule;
    r.culprit = SM_NONE;
    r.culprit_tw = false;
    r.port = 0;
    r.bytes = 0;
    return r;
}

static inline sm_result sm__result_of(const sm_verdict *v, const sm_sock_view *owners)
{
    sm_result r = sm__rfail(v->err, v->rule);
    if (v->culprit >= 0) {
        r.culprit = owners[v->culprit].id;
        r.culprit_tw = owners[v->culprit].time_wait;
    }
    return r;
}

/* The result of a call on a broken world (sm_world.broken). */
static inline sm_result sm__broken_result(const sm_world *w)
{
    return sm__rfail(w->broken_err, w->broken);
}

#endif
