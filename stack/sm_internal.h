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

/* Owner handles in bind-table buckets: a socket id, or a TIME_WAIT entry
 * index with the top bit set. */
#define SM__TW_BIT 0x80000000u
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
    char *name;
    sm_id host, proc;
    uint32_t uid;
    bool privileged;
    sm_proto proto;
    uint8_t family;
    sm_opts opt;      /* as set now */
    sm_opts at_bind;  /* latched when it bound */
    sm_tcp_state state;
    bool fd_open;
    bool bound;
    enum sm_how_bound how;
    sm_addr bound_addr;
    sm_addr local_addr;
    uint16_t port;
    bool connected;
    sm_endpoint remote;
    uint64_t seq, listen_seq;
    int backlog;
    uint32_t bucket;    /* bind-table bucket, when bound */
    uint32_t bslot;     /* index inside that bucket */
    uint32_t pslot;     /* index inside its process's socks[] */

    /* ---- the connection (sm_tcp.c) ---- */
    bool nonblock;
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
    uint32_t lbucket, lslot;
    bool dead;          /* on the free list (recycling) */
    bool reset_sticky;  /* the reset error repeats on every call */
} sm__sock;

/* A TIME_WAIT entry: what is left of a connection after its socket is
 * gone.  Small on purpose: the table may hold millions. */
typedef struct sm__tw {
    const char *name;     /* the socket it came from (for explanations) */
    uint8_t la[16], ra[16]; /* canonical addresses (v4-mapped stored as IPv4) */
    uint64_t expire_ns, seq;
    uint32_t since_ms;    /* when TIME_WAIT began */
    uint32_t uid;
    sm_id host, origin;   /* origin: the socket, or SM_NONE once it is reused */
    uint32_t snd_nxt, rcv_nxt, ts_recent;
    uint32_t bslot;
    uint32_t next, prev;  /* host FIFO in expiry order (next: free list) */
    uint16_t lport, rport;
    uint8_t family;       /* of the socket it came from */
    uint8_t wire;         /* 4 or 6: family of la/ra */
    uint8_t how;
    uint8_t flags;        /* SM__TWF_* */
} sm__tw;

#define SM__TWF_PRIV 0x01u
#define SM__TWF_TS 0x02u
#define SM__TWF_LIVE 0x04u
#define SM__TWF_RA 0x08u   /* options latched at bind */
#define SM__TWF_RP 0x10u
#define SM__TWF_RPLB 0x20u
#define SM__TWF_EXCL 0x40u /* SO_EXCLUSIVEADDRUSE or SO_EXCLBIND */
#define SM__TWF_V6ONLY 0x80u

/* The owners of one (host, protocol, port).  Most ports have one or two
 * owners (a client port and its TIME_WAIT): those live inline, without an
 * allocation of their own. */
#define SM__BUCKET_INLINE 2
typedef struct sm__bucket {
    uint32_t n, cap; /* cap 0: inline storage */
    union {
        uint32_t inl[SM__BUCKET_INLINE];
        uint32_t *heap;
    } u;
} sm__bucket;

static inline uint32_t *sm__bucket_ids(sm__bucket *b)
{
    return b->cap ? b->u.heap : b->u.inl;
}

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
    sm__map bind_index; /* key: host<<17 | proto<<16 | port -> bucket */
    sm__map addr_index; /* hash of a non-loopback address -> host that has it */
    sm__bucket *buckets;
    size_t nbuckets, bucketcap;
    sm_sock_view *scratch; /* owner views for one decision */
    char **name_blocks;    /* socket names: blocks that never move */
    size_t nname_blocks, name_block_cap, name_used, name_block_size;
    size_t scratchcap;
    char errmsg[256];      /* the last sm_sysctl() message */

    /* ---- the network and the connections (sm_tcp.c) ---- */
    sm__tw *tws;
    size_t ntws, twcap;
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
void sm__view_fill(const sm_world *w, sm_id id, sm_sock_view *v);
void sm__tw_view_fill(const sm_world *w, uint32_t tw, sm_sock_view *v);
size_t sm__collect_owners(sm_world *w, sm_id host, sm_proto proto,
                          uint16_t port, sm_id except);
void sm__table_insert(sm_world *w, uint32_t handle);
void sm__table_remove(sm_world *w, uint32_t handle);
void sm__proc_forget(sm_world *w, sm_id id);
sm_result sm__rfail(sm_err e, const char *rule);
sm_result sm__result_of(const sm_verdict *v, const sm_sock_view *owners);
void sm__take_port(sm_world *w, sm_id id, const sm_addr *addr, uint16_t port,
                   enum sm_how_bound how);
uint64_t sm__splitmix64(uint64_t *state);
uint64_t sm__addr_key(const sm_addr *a);
char *sm__name_store(sm_world *w, const char *name);
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
