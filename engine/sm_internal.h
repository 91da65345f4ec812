/*
 * sm_internal.h - the engine's own data structures (not for profiles).
 *
 * A world owns arrays of hosts, users, processes and sockets, indexed by
 * sm_id, and one bind table: a hash map from (host, protocol, port) to a
 * bucket listing every owner of that port.  Owners are socket ids; a bind
 * decision costs O(owners of the port), never O(all sockets).
 */
#ifndef SM_INTERNAL_H
#define SM_INTERNAL_H

#include "sm_map.h"
#include "sm_profile.h"

#define SM__PSTATE_WORDS 16

/* Owner handles in the bind table: a socket id, a TIME_WAIT entry index
 * with the top bit set, or (inside the table only) a bucket of several
 * owners with bit 30 set.  Socket ids stay below 2^30. */
#define SM__TW_BIT 0x80000000u
#define SM__BUCKET_BIT 0x40000000u
#define SM__NONE32 0xffffffffu

typedef struct sm__host {
    char *name;
    sm_addr *addrs;
    size_t naddrs, addrcap;
    int64_t tun[SM_TUN_COUNT];
    uint64_t pstate[SM__PSTATE_WORDS]; /* profile's per-host state */
    uint64_t rng;                      /* splitmix64 state */
    uint64_t bind_seq;                 /* counts binds and listens */
    uint64_t tw_count;                 /* TIME_WAIT entries alive */
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
    sm_id *socks; /* open descriptors, in no particular order */
    size_t nsocks, sockcap;
} sm__proc;

typedef struct sm__sock {
    const char *name;   /* NULL: a child named on demand (sm__sock_name) */
    uint32_t name_id;   /* its interned name, or SM__NONE32 (not interned) */
    uint32_t child_no;  /* a child: named "<parent_name>/<child_no>" */
    const char *parent_name;
    sm_id host, proc;
    /* From proto to listen_seq the record is laid out as sm_sock_view is,
     * member for member (checked in sm_world.c), so that a view of it is
     * one block copy and a few fixes. */
    sm_proto proto;
    int family;
    sm_addr bound_addr;
    sm_addr local_addr;
    uint16_t port;
    sm_tcp_state state;
    bool bound;
    bool connected;
    sm_endpoint remote;
    bool nonblock;    /* (where a view has time_wait) */
    bool fd_open;
    sm_opts opt;      /* as set now */
    sm_opts at_bind;  /* latched when it bound */
    uint32_t uid;
    bool privileged;
    enum sm_how_bound how;
    uint64_t seq, listen_seq;
    int backlog;
    uint32_t bslot;     /* index inside its port's bucket (several owners) */
    uint32_t pslot;     /* index inside its process's socks[] */

    /* ---- the connection (sm_tcp.c) ---- */
    bool orphan;        /* descriptor closed, the connection lives on */
    bool in_ctab;       /* in the 4-tuple demux table */
    bool in_listen;     /* in the listener index */
    bool accepted;      /* handed out by accept() (or never a child) */
    bool ts_ok;         /* timestamps negotiated */
    bool fin_pending;   /* a FIN goes out once the send queue drains */
    bool fin_sent;
    bool rd_shut, wr_shut;
    bool peer_fin;      /* the peer's FIN arrived: end of stream */
    bool epipe;         /* the reset was reported once: EPIPE from now on */
    bool lingering;     /* close() is waiting in SO_LINGER */
    uint8_t timer_kind;
    uint8_t syn_tries;
    sm_err soerr;       /* pending error, reported by the next call */
    uint32_t iss, irs, snd_una, snd_nxt, rcv_nxt;
    uint32_t snd_wnd;   /* the peer's last advertised window */
    uint32_t ts_recent, ts_off;
    uint64_t sndq;      /* bytes written, not yet sent */
    uint64_t rcvq;      /* bytes received, not yet read */
    uint64_t timer_at;  /* the socket's one timer (0: none) */
    uint64_t connect_deadline;
    sm_id listener;     /* a child: its listener until accepted */
    sm_id *acceptq;     /* a listener: established children, FIFO */
    uint32_t aq_head, aq_n, aq_cap;
    sm_id *synq;        /* a listener: children still in SYN_RECEIVED */
    uint32_t sq_n, sq_cap;
    uint32_t kslot;     /* a child: index in its listener's synq */
    uint32_t tw;        /* its TIME_WAIT entry, or SM__NONE32 */
    uint32_t tpos;      /* position in the timer heap, or SM__NONE32 */
    uint32_t lbucket, lslot;
    bool dead;          /* on the free list (recycling) */
    bool reset_sticky;  /* the reset error repeats on every call */
} sm__sock;

/* A TIME_WAIT entry: what is left of a connection after its socket is
 * gone.  64 bytes on purpose: the table may hold tens of millions.
 * Addresses are canonical (v4-mapped stored as IPv4): an IPv4 address is
 * held inline, an IPv6 one as an index into the world's interned bytes.
 * `who` is the socket it came from while that socket exists (SM__TWM_ATT
 * set), else the interned id of that socket's name.  The binding sequence
 * number keeps its low 32 bits; the host's counter supplies the rest. */
typedef struct sm__tw {
    uint64_t expire_ns;
    uint32_t seq_lo;
    uint32_t who;
    uint32_t la, ra;      /* IPv4 bytes, or interned IPv6 bytes (wire 6) */
    sm_id host;
    uint32_t since_ms;    /* when TIME_WAIT began */
    uint32_t snd_nxt, rcv_nxt, ts_recent;
    uint32_t bslot;
    uint32_t next, prev;  /* host FIFO in expiry order (next: free list) */
    uint16_t lport, rport;
    uint32_t meta;        /* SM__TWF_* flags | SM__TWM_* fields */
} sm__tw;

/* meta: bits 0-7 flags, 8 family is 6, 9 wire is 6, 10-12 how, 13 who
 * is the socket, 14-31 the user (index in the world's users). */
#define SM__TWM_FAM6 0x100u
#define SM__TWM_WIRE6 0x200u
#define SM__TWM_HOW_SHIFT 10
#define SM__TWM_ATT 0x2000u
#define SM__TWM_USER_SHIFT 14
#define SM__TWM_USER_MAX 0x3ffffu
#define SM__TW_CHUNK_BITS 16 /* entries live in chunks that never move */

#define SM__TWF_PRIV 0x01u
#define SM__TWF_TS 0x02u
#define SM__TWF_LIVE 0x04u
#define SM__TWF_RA 0x08u   /* options latched at bind */
#define SM__TWF_RP 0x10u
#define SM__TWF_RPLB 0x20u
#define SM__TWF_EXCL 0x40u /* SO_EXCLUSIVEADDRUSE or SO_EXCLBIND */
#define SM__TWF_V6ONLY 0x80u

/* The owners of one (host, protocol, port) when it has more than one, or
 * when the profile keeps state for the port (a port with one owner and no
 * state holds the owner directly in the table slot).  16 bytes: TIME_WAIT
 * tables hold millions.  Up to SM__BUCKET_INLINE owners are kept inline;
 * beyond, on the heap, in room for sm__bucket_room(n) (the room follows
 * from the count, so the bucket need not store it). */
#define SM__BUCKET_INLINE 2
typedef struct sm__bucket {
    uint32_t n;      /* owners; 0: free (inl[0]: the next free bucket) */
    uint32_t pstate; /* the port's sm_port_state: index in pstates, or SM__NONE32 */
    union {
        uint32_t inl[SM__BUCKET_INLINE];
        uint32_t *heap;
    } u;
} sm__bucket;

static inline uint32_t *sm__bucket_ids(sm__bucket *b)
{
    return b->n > SM__BUCKET_INLINE ? b->u.heap : b->u.inl;
}

/* Heap room for n > SM__BUCKET_INLINE owners: 8, then doubled. */
static inline uint32_t sm__bucket_room(uint32_t n)
{
    uint32_t room = 8;
    while (room < n)
        room *= 2;
    return room;
}

/* A hash slot of the bind table, the 4-tuple table and the intern table:
 * 32 bits of the key's hash and a handle; the full key is checked against
 * the record the handle names.  h1 is the handle plus one: 0 is empty, so
 * a new table is memory as the system hands it out, untouched until used. */
typedef struct sm__slot {
    uint32_t hash;
    uint32_t h1;
} sm__slot;

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
    sm__sock *socks;
    size_t nsocks, sockcap;
    sm__slot *btab;     /* bind table: (host, proto, port) -> owner or bucket */
    size_t bcap, bcount;
    uint64_t bkey_last; /* the last key looked up and its slot (SIZE_MAX: */
    size_t bslot_last;  /* no slot), while bslot_known */
    bool bslot_known;
    sm__map addr_index; /* hash of a non-loopback address -> host that has it */
    /* Per-port profile state (sm_port_state), only for ports whose state is
     * not all zeros (their bucket holds the index); free entries chained
     * through w[0]. */
    sm_port_state *pstates;
    size_t npstates, pstatecap;
    uint32_t pstate_free;
    sm_port_state port_scratch; /* the copy a profile call sees */
    uint64_t port_scratch_key;
    sm__bucket *buckets;
    size_t nbuckets, bucketcap;
    uint32_t bucket_free;  /* free list through sm__bucket.u.inl[0] */
    sm_sock_view *scratch; /* owner views for one decision */
    char **name_blocks;    /* interned bytes: blocks that never move */
    size_t nname_blocks, name_block_cap, name_used, name_block_size;
    const char **interned; /* id -> bytes (socket names, IPv6 addresses) */
    uint32_t *interned_len;
    size_t ninterned, interncap;
    sm__slot *itab;        /* intern table: hash of the bytes -> id */
    size_t icap;
    uint32_t last_name;    /* the last name interned for a socket (or NONE) */
    size_t scratchcap;
    char errmsg[256];      /* the last sm_sysctl() message */

    /* ---- the network and the connections (sm_tcp.c) ---- */
    sm__tw **tw_chunks;    /* TIME_WAIT entries, 2^16 per chunk */
    size_t ntws, nchunks, chunkcap;
    uint32_t tw_free;      /* free list through sm__tw.next */
    bool recycle;          /* reuse dead socket records */
    sm_id *free_socks;
    size_t nfree_socks, free_sock_cap;
    struct sm__net *net;
};

struct sm_pick_ctx {
    sm_world *w;
    sm_id host;
    sm_sock_view self;
    bool connecting;       /* a connect() autobind (self.remote is set) */
    uint32_t takeover;     /* TIME_WAIT handle to end, or SM__NONE32 */
};

/* ---- shared between sm_world.c and sm_tcp.c ---- */
static inline sm__tw *sm__tw_at(const sm_world *w, uint32_t t)
{
    return &w->tw_chunks[t >> SM__TW_CHUNK_BITS][t & ((1u << SM__TW_CHUNK_BITS) - 1)];
}

void sm__view_fill(const sm_world *w, sm_id id, sm_sock_view *v);
void sm__tw_view_fill(const sm_world *w, uint32_t tw, sm_sock_view *v);
size_t sm__collect_owners(sm_world *w, sm_id host, sm_proto proto,
                          uint16_t port, sm_id except);
void sm__table_insert(sm_world *w, uint32_t handle);
void sm__table_remove(sm_world *w, uint32_t handle);
/* What a decision on (host, proto, port) sees, in one lookup: c->owners
 * and c->n_owners (views of every owner but `except`, in the world's
 * scratch) and c->port (a scratch copy of the port's profile state).
 * sm__port_state_commit() stores that copy back after the port was given
 * to a socket (only if it is still that port's). */
void sm__decision_port(sm_world *w, sm_id host, sm_proto proto, uint16_t port,
                       sm_id except, sm_bind_ctx *c);
void sm__port_state_commit(sm_world *w, sm_id host, sm_proto proto, uint16_t port);
/* The process forgets descriptor id (its list is in no particular order). */
static inline void sm__proc_forget(sm_world *w, sm_id id)
{
    sm__sock *s = &w->socks[id];
    sm__proc *p = &w->procs[s->proc];
    sm_id last = p->socks[--p->nsocks];
    p->socks[s->pslot] = last;
    w->socks[last].pslot = s->pslot;
}
/* Results are built inline, member by member: every call returns one, and
 * a whole-struct initialiser makes compilers assemble it on the stack with
 * overlapping stores and copy it out with wide loads (a stalled store
 * forward on every call). */
static inline sm_result sm__rfail(sm_err e, const char *rule)
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
void sm__take_port(sm_world *w, sm_id id, const sm_addr *addr, uint16_t port,
                   enum sm_how_bound how);
uint64_t sm__splitmix64(uint64_t *state);
uint64_t sm__addr_key(const sm_addr *a);
/* Interned bytes (names with their NUL, IPv6 addresses): one copy each,
 * never moved or freed before the world. */
uint32_t sm__intern(sm_world *w, const void *bytes, size_t len);
uint32_t sm__name_id(sm_world *w, const char *name);
/* A new socket's name: interned when records are recycled (a long run
 * then keeps one copy of each distinct name), else stored as given. */
const char *sm__name_for_socket(sm_world *w, const char *name, uint32_t *id);
const char *sm__sock_name(const sm_world *w, sm_id id);
uint64_t sm__tw_seq(const sm_world *w, const sm__tw *x);
/* Big tables: zeroed, on huge pages where the system offers them. */
void *sm__big_calloc(size_t n);
void sm__big_free(void *p, size_t n);
sm_id sm__sock_alloc(sm_world *w);   /* a zeroed record */
void sm__sock_maybe_free(sm_world *w, sm_id id);

/* sm_tcp.c */
void sm__net_free(sm_world *w);
void sm__on_bound(sm_world *w, sm_id id);        /* UDP: enter the demux */
sm_result sm__tcp_close(sm_world *w, sm_id id, bool at_exit);
sm_result sm__listen_start(sm_world *w, sm_id id);

/* Fatal allocation failure: the model cannot continue meaningfully. */
void *sm__xrealloc(void *p, size_t n);
char *sm__xstrdup(const char *s);

#endif
